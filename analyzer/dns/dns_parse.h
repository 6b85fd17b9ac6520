/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dns_parse.h - the DNS wire-format parser: header, the four sections, names with compression
 * (pointers strictly backwards, labels <= 63, names <= 255), EDNS0 (OPT) details, and the
 * helpers that turn resource records into the text Zeek puts in dns.log (dns_rr.c) and the
 * qtype/qclass/rcode/opcode names Zeek uses (dns_names.c). Everything reads through the
 * bounded cursor (lib/cursor.h); nothing here allocates.
 */
#ifndef PANO_DNS_PARSE_H
#define PANO_DNS_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cursor.h"

#define DNS_HDR_LEN   12
#define DNS_NAME_TEXT 1024 /* escaped text of a <= 255-byte name (4 chars per byte) + NUL */
#define DNS_MAX_RRS   256  /* RRs kept per message; more are parsed and counted, not kept */

/* Errors: negative, one enum (0 is ok). */
enum dns_err {
	DNS_OK = 0,
	DNS_ETRUNC = -1,   /* message ends early (count larger than the message, cut rdata) */
	DNS_EPTR = -2,	   /* compression pointer not strictly backwards (loop, forward, self) */
	DNS_ELABEL = -3,   /* label longer than 63 bytes or reserved label type */
	DNS_ENAMELEN = -4, /* name longer than 255 bytes */
	DNS_ERDATA = -5,   /* rdata inconsistent with its length */
};

enum dns_section { DNS_SEC_AN = 1, DNS_SEC_NS = 2, DNS_SEC_AR = 3 };

/* Header flag helpers. */
#define DNS_QR(f)     (((f) >> 15) & 1)
#define DNS_OPCODE(f) (((f) >> 11) & 0xf)
#define DNS_AA(f)     (((f) >> 10) & 1)
#define DNS_TC(f)     (((f) >> 9) & 1)
#define DNS_RD(f)     (((f) >> 8) & 1)
#define DNS_RA(f)     (((f) >> 7) & 1)
#define DNS_Z(f)      (((f) >> 4) & 7) /* Zeek's Z: the Z, AD and CD bits together */
#define DNS_RCODE(f)  ((f)&0xf)

enum {
	DNS_T_A = 1,
	DNS_T_NS = 2,
	DNS_T_CNAME = 5,
	DNS_T_SOA = 6,
	DNS_T_WKS = 11,
	DNS_T_PTR = 12,
	DNS_T_HINFO = 13,
	DNS_T_MX = 15,
	DNS_T_TXT = 16,
	DNS_T_AAAA = 28,
	DNS_T_NB = 32, /* NetBIOS name service (RFC 1002) */
	DNS_T_LOC = 29,
	DNS_T_SRV = 33,
	DNS_T_NAPTR = 35,
	DNS_T_A6 = 38,
	DNS_T_DNAME = 39,
	DNS_T_OPT = 41,
	DNS_T_DS = 43,
	DNS_T_SSHFP = 44,
	DNS_T_RRSIG = 46,
	DNS_T_NSEC = 47,
	DNS_T_DNSKEY = 48,
	DNS_T_NSEC3 = 50,
	DNS_T_NSEC3PARAM = 51,
	DNS_T_TLSA = 52,
	DNS_T_SVCB = 64,
	DNS_T_HTTPS = 65,
	DNS_T_SPF = 99,
	DNS_T_TKEY = 249,
	DNS_T_TSIG = 250,
	DNS_T_ANY = 255,
	DNS_T_CAA = 257,
	DNS_T_BINDS = 65534,
};

struct dns_rr {
	uint32_t name_off; /* owner name's offset in the message */
	uint32_t rdoff;	   /* rdata offset in the message */
	uint32_t ttl;
	uint16_t type, rclass, rdlen;
	uint8_t section; /* enum dns_section */
};

/* EDNS0 details from the OPT record (RFC 6891) and its options. */
struct dns_edns {
	bool present;
	uint16_t udp_size;
	uint8_t ext_rcode, version;
	bool do_bit;
	bool ecs;		       /* client subnet (RFC 7871) */
	uint16_t ecs_family;	       /* 1 IPv4, 2 IPv6 */
	uint8_t ecs_source, ecs_scope; /* prefix lengths */
	uint8_t ecs_addr[16];	       /* address bytes, zero-padded */
	bool cookie;		       /* COOKIE option present (RFC 7873) */
	uint8_t cookie_len;	       /* 8 (client only) or 16..40 */
	bool nsid;
	uint16_t padding; /* bytes of PADDING option */
};

struct dns_msg {
	const uint8_t *buf;
	size_t len;	 /* bytes at buf */
	size_t wire_len; /* the message's own length: above len when the capture cut it */
	uint16_t id, flags, qdcount, ancount, nscount, arcount;
	bool has_question;	   /* first question parsed */
	char qname[DNS_NAME_TEXT]; /* first question, escaped text */
	uint16_t qtype, qclass;
	unsigned nrr;	     /* RRs kept in rr[] */
	unsigned rr_dropped; /* RRs beyond DNS_MAX_RRS */
	struct dns_rr rr[DNS_MAX_RRS];
	struct dns_edns edns;
	int err; /* first error, 0 if the whole message parsed */
};

/* Parses a whole DNS message into m (which keeps pointers into buf). Returns 0, or a DNS_E*
 * code: when the 12-byte header is complete m->flags etc. are valid and m holds everything
 * parsed before the error, so a caller can still log a partial message. */
int dns_parse(const uint8_t *buf, size_t len, struct dns_msg *m);
/* dns_parse of a message whose own length is wire_len (its UDP length or TCP prefix) of which
 * the capture kept len bytes: running into the cut is not a fault (not counted; m->err is
 * still DNS_ETRUNC). A message too short for a header is counted once (dns_too_short, or
 * dns_header_cut when the cut fell inside the header). */
int dns_parse_wire(const uint8_t *buf, size_t len, size_t wire_len, struct dns_msg *m);

/* Reads the name at c->off (c->base must be the message start, for pointers) into out as
 * escaped text ("" for the root), advancing c past the name's first occurrence. With outsz 0
 * (out may then be NULL) the name is only checked: same result, no text. */
int dns_name_read(struct cursor *c, char *out, size_t outsz);

/* Text of the name at message offset off (for owners kept as offsets). */
int dns_name_at(const struct dns_msg *m, size_t off, char *out, size_t outsz);

/* Appends byte b escaped as Zeek shows it (printable ASCII as is, else "\xNN"). */
size_t dns_escape_byte(uint8_t b, char *out);

/* What a resource record contributes to the answers field, as Zeek writes it. Returns the
 * text length (0: the record counts as an answer but adds no text, like Zeek's WKS), or
 * DNS_RR_NONE when Zeek logs nothing for this type (OPT, TSIG, TKEY, NetBIOS NB). */
#define DNS_RR_NONE (-1)
int dns_rr_text(const struct dns_msg *m, const struct dns_rr *rr, char *out, size_t outsz);

/* Names as Zeek spells them; buf is used for the numbered fallbacks ("query-NNN"). The name's
 * length goes to *len (len may be NULL). */
const char *dns_qtype_name(unsigned t, char *buf, size_t sz, size_t *len);
const char *dns_qclass_name(unsigned c, char *buf, size_t sz, size_t *len);
const char *dns_rcode_name(unsigned r, char *buf, size_t sz, size_t *len);
const char *dns_opcode_name(unsigned op, int netbios, char *buf, size_t sz, size_t *len);

#endif
