// SPDX-License-Identifier: Apache-2.0
/*
 * dns_names.c - qtype, qclass, rcode and opcode names as Zeek's DNS constants spell them,
 * with Zeek's numbered fallbacks for values it does not name.
 */
#include <stdio.h>

#include "dns_parse.h"

struct dns_name_entry {
	unsigned v;
	const char *name;
};

static const struct dns_name_entry dns_qtypes[] = {
    {1, "A"},		{2, "NS"},	{3, "MD"},	  {4, "MF"},	   {5, "CNAME"},
    {6, "SOA"},		{7, "MB"},	{8, "MG"},	  {9, "MR"},	   {10, "NULL"},
    {11, "WKS"},	{12, "PTR"},	{13, "HINFO"},	  {14, "MINFO"},   {15, "MX"},
    {16, "TXT"},	{17, "RP"},	{18, "AFSDB"},	  {19, "X25"},	   {20, "ISDN"},
    {21, "RT"},		{22, "NSAP"},	{23, "NSAP-PTR"}, {24, "SIG"},	   {25, "KEY"},
    {26, "PX"},		{27, "GPOS"},	{28, "AAAA"},	  {29, "LOC"},	   {30, "NXT"},
    {31, "EID"},	{32, "NIMLOC"}, {33, "SRV"},	  {34, "ATMA"},	   {35, "NAPTR"},
    {36, "KX"},		{37, "CERT"},	{38, "A6"},	  {39, "DNAME"},   {40, "SINK"},
    {41, "OPT"},	{42, "APL"},	{43, "DS"},	  {44, "SSHFP"},   {45, "IPSECKEY"},
    {46, "RRSIG"},	{47, "NSEC"},	{48, "DNSKEY"},	  {49, "DHCID"},   {50, "NSEC3"},
    {51, "NSEC3PARAM"}, {52, "TLSA"},	{53, "SMIMEA"},	  {55, "HIP"},	   {56, "NINFO"},
    {57, "RKEY"},	{58, "TALINK"}, {59, "CDS"},	  {60, "CDNSKEY"}, {61, "OPENPGPKEY"},
    {62, "CSYNC"},	{63, "ZONEMD"}, {64, "SVCB"},	  {65, "HTTPS"},   {99, "SPF"},
    {100, "UINFO"},	{101, "UID"},	{102, "GID"},	  {103, "UNSPEC"}, {249, "TKEY"},
    {250, "TSIG"},	{251, "IXFR"},	{252, "AXFR"},	  {253, "MAILB"},  {254, "MAILA"},
    {255, "*"},		{256, "URI"},	{257, "CAA"},	  {32768, "TA"},   {32769, "DLV"},
    {65534, "BINDS"},
};

static const struct dns_name_entry dns_classes[] = {
    {1, "C_INTERNET"}, {2, "C_CSNET"},	{3, "C_CHAOS"},
    {4, "C_HESOD"},    {254, "C_NONE"}, {255, "C_ANY"},
};

static const char *const dns_rcodes[] = {
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
    "NXRRSET", "NOTAUTH", "NOTZONE",  NULL,	  NULL,	     NULL,	NULL,	    NULL,
    "BADVERS", "BADKEY",  "BADTIME",  "BADMODE",  "BADNAME", "BADALG",	"BADTRUNC", "BADCOOKIE",
};

static const char *dns_lookup(const struct dns_name_entry *t, size_t n, unsigned v)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].v == v)
			return t[i].name;
	return NULL;
}

const char *dns_qtype_name(unsigned t, char *buf, size_t sz)
{
	const char *s = dns_lookup(dns_qtypes, sizeof(dns_qtypes) / sizeof(dns_qtypes[0]), t);
	if (s)
		return s;
	snprintf(buf, sz, "query-%u", t);
	return buf;
}

const char *dns_qclass_name(unsigned c, char *buf, size_t sz)
{
	const char *s = dns_lookup(dns_classes, sizeof(dns_classes) / sizeof(dns_classes[0]), c);
	if (s)
		return s;
	snprintf(buf, sz, "query-%u", c);
	return buf;
}

const char *dns_rcode_name(unsigned r, char *buf, size_t sz)
{
	if (r < sizeof(dns_rcodes) / sizeof(dns_rcodes[0]) && dns_rcodes[r])
		return dns_rcodes[r];
	snprintf(buf, sz, "unassigned-%u", r);
	return buf;
}

/* NetBIOS name service (port 137) reuses the DNS header with its own opcodes. */
const char *dns_opcode_name(unsigned op, int netbios, char *buf, size_t sz)
{
	static const char *const dns_ops[] = {"query", "inverse-query", "status",
					      NULL,    "notify",	"dynamic-update"};
	static const char *const nb_ops[] = {"netbios-query",
					     NULL,
					     NULL,
					     NULL,
					     NULL,
					     "netbios-registration",
					     "netbios-release",
					     "netbios-wack",
					     "netbios-refresh"};
	if (netbios && op < 9 && nb_ops[op])
		return nb_ops[op];
	if (!netbios && op < 6 && dns_ops[op])
		return dns_ops[op];
	snprintf(buf, sz, "opcode-%u", op);
	return buf;
}
