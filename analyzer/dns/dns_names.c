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
	unsigned len;
};

#define N(v, s) {v, s, sizeof(s) - 1}

static const struct dns_name_entry dns_qtypes[] = {
    N(1, "A"),		N(2, "NS"),	N(3, "MD"),	  N(4, "MF"),	   N(5, "CNAME"),
    N(6, "SOA"),		N(7, "MB"),	N(8, "MG"),	  N(9, "MR"),	   N(10, "NULL"),
    N(11, "WKS"),	N(12, "PTR"),	N(13, "HINFO"),	  N(14, "MINFO"),   N(15, "MX"),
    N(16, "TXT"),	N(17, "RP"),	N(18, "AFSDB"),	  N(19, "X25"),	   N(20, "ISDN"),
    N(21, "RT"),		N(22, "NSAP"),	N(23, "NSAP-PTR"), N(24, "SIG"),	   N(25, "KEY"),
    N(26, "PX"),		N(27, "GPOS"),	N(28, "AAAA"),	  N(29, "LOC"),	   N(30, "NXT"),
    N(31, "EID"),	N(32, "NIMLOC"), N(33, "SRV"),	  N(34, "ATMA"),	   N(35, "NAPTR"),
    N(36, "KX"),		N(37, "CERT"),	N(38, "A6"),	  N(39, "DNAME"),   N(40, "SINK"),
    N(41, "OPT"),	N(42, "APL"),	N(43, "DS"),	  N(44, "SSHFP"),   N(45, "IPSECKEY"),
    N(46, "RRSIG"),	N(47, "NSEC"),	N(48, "DNSKEY"),	  N(49, "DHCID"),   N(50, "NSEC3"),
    N(51, "NSEC3PARAM"), N(52, "TLSA"),	N(53, "SMIMEA"),	  N(55, "HIP"),	   N(56, "NINFO"),
    N(57, "RKEY"),	N(58, "TALINK"), N(59, "CDS"),	  N(60, "CDNSKEY"), N(61, "OPENPGPKEY"),
    N(62, "CSYNC"),	N(63, "ZONEMD"), N(64, "SVCB"),	  N(65, "HTTPS"),   N(99, "SPF"),
    N(100, "UINFO"),	N(101, "UID"),	N(102, "GID"),	  N(103, "UNSPEC"), N(249, "TKEY"),
    N(250, "TSIG"),	N(251, "IXFR"),	N(252, "AXFR"),	  N(253, "MAILB"),  N(254, "MAILA"),
    N(255, "*"),		N(256, "URI"),	N(257, "CAA"),	  N(32768, "TA"),   N(32769, "DLV"),
    N(65534, "BINDS"),
};

static const struct dns_name_entry dns_classes[] = {
    N(1, "C_INTERNET"), N(2, "C_CSNET"),	N(3, "C_CHAOS"),
    N(4, "C_HESOD"),    N(254, "C_NONE"), N(255, "C_ANY"),
};

/* Indexed by value (the entries' v unused); a NULL name is unnamed. */
static const struct dns_name_entry dns_rcodes[] = {
    N(0, "NOERROR"),  N(0, "FORMERR"), N(0, "SERVFAIL"), N(0, "NXDOMAIN"),  N(0, "NOTIMP"),
    N(0, "REFUSED"),  N(0, "YXDOMAIN"), N(0, "YXRRSET"), N(0, "NXRRSET"),   N(0, "NOTAUTH"),
    N(0, "NOTZONE"),  {0},	       {0},		  {0},		     {0},
    {0},	      N(0, "BADVERS"), N(0, "BADKEY"),	 N(0, "BADTIME"),   N(0, "BADMODE"),
    N(0, "BADNAME"),  N(0, "BADALG"),  N(0, "BADTRUNC"), N(0, "BADCOOKIE"),
};
static const struct dns_name_entry dns_ops[] = {
    N(0, "query"), N(0, "inverse-query"), N(0, "status"), {0}, N(0, "notify"),
    N(0, "dynamic-update"),
};
/* NetBIOS name service (port 137) reuses the DNS header with its own opcodes. */
static const struct dns_name_entry nb_ops[] = {
    N(0, "netbios-query"),   {0}, {0}, {0}, {0}, N(0, "netbios-registration"),
    N(0, "netbios-release"), N(0, "netbios-wack"), N(0, "netbios-refresh"),
};

#define DNS_NAMES(t) (t), sizeof(t) / sizeof((t)[0])

/* The entry of value v in a list, or NULL. */
static const struct dns_name_entry *dns_find(const struct dns_name_entry *t, size_t n, unsigned v)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].v == v)
			return &t[i];
	return NULL;
}

/* The entry at index v of a table indexed by value, or NULL (out of range or unnamed). */
static const struct dns_name_entry *dns_at(const struct dns_name_entry *t, size_t n, unsigned v)
{
	return v < n && t[v].name ? &t[v] : NULL;
}

/* e's name (its length in *len), else buf filled with fmt and v. */
static const char *dns_name_or(const struct dns_name_entry *e, const char *fmt, unsigned v,
			       char *buf, size_t sz, size_t *len)
{
	if (e) {
		if (len)
			*len = e->len;
		return e->name;
	}
	int n = snprintf(buf, sz, fmt, v);
	if (len)
		*len = n < 0 ? 0 : (size_t)n < sz ? (size_t)n : sz - 1;
	return buf;
}

const char *dns_qtype_name(unsigned t, char *buf, size_t sz, size_t *len)
{
	return dns_name_or(dns_find(DNS_NAMES(dns_qtypes), t), "query-%u", t, buf, sz, len);
}

const char *dns_qclass_name(unsigned c, char *buf, size_t sz, size_t *len)
{
	return dns_name_or(dns_find(DNS_NAMES(dns_classes), c), "query-%u", c, buf, sz, len);
}

const char *dns_rcode_name(unsigned r, char *buf, size_t sz, size_t *len)
{
	return dns_name_or(dns_at(DNS_NAMES(dns_rcodes), r), "unassigned-%u", r, buf, sz, len);
}

const char *dns_opcode_name(unsigned op, int netbios, char *buf, size_t sz, size_t *len)
{
	const struct dns_name_entry *e =
	    netbios ? dns_at(DNS_NAMES(nb_ops), op) : dns_at(DNS_NAMES(dns_ops), op);
	return dns_name_or(e, "opcode-%u", op, buf, sz, len);
}
