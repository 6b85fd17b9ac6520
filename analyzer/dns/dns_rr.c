// SPDX-License-Identifier: Apache-2.0
/*
 * dns_rr.c - resource record data to the text Zeek puts in dns.log's answers field. Zeek
 * summarises rather than presents: MX, SOA and SRV show only their target name, TXT shows
 * "TXT <len> <string>" per string, RRSIG "RRSIG <type covered> <signer>", DNSKEY
 * "DNSKEY <alg>", DS "DS <alg> <digest type>", NSEC "NSEC <owner> <next>", NSEC3 just "NSEC3",
 * SSHFP "SSHFP: <hex>", LOC "LOC:  <size> <hpre> <vpre>", unknown types "<unknown type=N>".
 * Types the Zeek release of our baselines does not summarise at all (CAA, NAPTR, TLSA,
 * SVCB/HTTPS) get a presentation-format text (RFC zone-file style) here instead of
 * "<unknown type=N>", because that is what an operator wants to read.
 */
#include <arpa/inet.h>
#include <string.h>

#include "dns_parse.h"
#include "packet.h"

/* A bounded text builder: appends never overflow; the result is always NUL-terminated. */
struct tb {
	char *p;
	size_t n, sz;
};

/* Appends n bytes of s (cut at the buffer's end). */
static void tb_put(struct tb *t, const char *s, size_t n)
{
	if (t->n + n + 1 > t->sz)
		n = t->sz - t->n - 1;
	memcpy(t->p + t->n, s, n);
	t->n += n;
	t->p[t->n] = '\0';
}

static void tb_puts(struct tb *t, const char *s)
{
	tb_put(t, s, strlen(s));
}

/* The decimal text of v (this file's numbers: 8 and 16 bits), without the printf machinery. */
static void tb_uint(struct tb *t, unsigned v)
{
	char s[12], *e = s + sizeof(s), *q = e;
	do {
		*--q = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	tb_put(t, q, (size_t)(e - q));
}

static void tb_bytes_escaped(struct tb *t, const uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len && t->n + 5 < t->sz; i++)
		t->n += dns_escape_byte(b[i], t->p + t->n);
	t->p[t->n] = '\0';
}

/* Dotted-quad text without the printf machinery (this is on the hot path). */
static void tb_ipv4(struct tb *t, const uint8_t *a)
{
	char s[16];
	size_t n = 0;
	for (int i = 0; i < 4; i++) {
		unsigned v = a[i];
		if (v >= 100)
			s[n++] = (char)('0' + v / 100);
		if (v >= 10)
			s[n++] = (char)('0' + v / 10 % 10);
		s[n++] = (char)('0' + v % 10);
		if (i < 3)
			s[n++] = '.';
	}
	tb_put(t, s, n);
}

/* Two lower-case hex digits per byte, as many whole bytes as fit. */
static void tb_hex(struct tb *t, const uint8_t *b, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < len && t->n + 3 < t->sz; i++) {
		t->p[t->n++] = hex[b[i] >> 4];
		t->p[t->n++] = hex[b[i] & 15];
	}
	if (t->sz)
		t->p[t->n] = '\0';
}

/* Reads a name inside rdata: c is a whole-message cursor; the name must end within end. */
static int rr_name(const struct dns_msg *m, struct cursor *c, size_t end, char *out, size_t sz)
{
	int rc = dns_name_read(c, out, sz);
	if (!rc && (c->err || c->off > end))
		rc = DNS_ERDATA;
	return rc;
}

/* A <character-string>: length byte then bytes. */
static const uint8_t *rr_cstr(struct cursor *c, uint8_t *len)
{
	*len = cur_u8(c);
	return cur_take(c, *len);
}

int dns_rr_text(const struct dns_msg *m, const struct dns_rr *rr, char *out, size_t outsz)
{
	struct tb t = {out, 0, outsz};
	struct cursor c = cursor_init(m->buf, m->len);
	size_t end = (size_t)rr->rdoff + rr->rdlen;
	char name[DNS_NAME_TEXT], name2[DNS_NAME_TEXT];
	struct cursor d; /* cursor over the rdata only */

	if (!outsz)
		return 0;
	out[0] = '\0';
	cur_seek(&c, rr->rdoff);
	d = cursor_init(m->buf + rr->rdoff, rr->rdlen);
	switch (rr->type) {
	case DNS_T_A:
	case DNS_T_AAAA: {
		size_t alen = rr->type == DNS_T_A ? 4 : 16;
		char a[INET6_ADDRSTRLEN];
		if (rr->rdlen != alen)
			goto bad;
		if (alen == 4) {
			tb_ipv4(&t, m->buf + rr->rdoff);
			break;
		}
		pano_ip6_text(m->buf + rr->rdoff, a);
		tb_puts(&t, a);
		break;
	}
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
	case DNS_T_DNAME:
		if (rr_name(m, &c, end, name, sizeof(name)))
			goto bad;
		tb_puts(&t, name);
		break;
	case DNS_T_MX:
		cur_skip(&c, 2);
		if (rr_name(m, &c, end, name, sizeof(name)))
			goto bad;
		tb_puts(&t, name);
		break;
	case DNS_T_SOA:
		if (rr_name(m, &c, end, name, sizeof(name)))
			goto bad;
		tb_puts(&t, name);
		break;
	case DNS_T_SRV:
		cur_skip(&c, 6);
		if (rr_name(m, &c, end, name, sizeof(name)))
			goto bad;
		tb_puts(&t, name);
		break;
	case DNS_T_TXT:
	case DNS_T_SPF: {
		int first = 1;
		while (cur_left(&d)) {
			uint8_t l;
			const uint8_t *s = rr_cstr(&d, &l);
			if (!s)
				goto bad;
			if (!first)
				tb_put(&t, " ", 1);
			tb_put(&t, rr->type == DNS_T_TXT ? "TXT " : "SPF ", 4);
			tb_uint(&t, l);
			tb_put(&t, " ", 1);
			tb_bytes_escaped(&t, s, l);
			first = 0;
		}
		break;
	}
	case DNS_T_RRSIG: {
		uint16_t covered = cur_u16(&c);
		cur_skip(&c, 16);
		if (rr_name(m, &c, end, name, sizeof(name)))
			goto bad;
		tb_puts(&t, "RRSIG ");
		tb_uint(&t, covered);
		tb_put(&t, " ", 1);
		tb_puts(&t, name[0] ? name : "<Root>");
		break;
	}
	case DNS_T_DNSKEY:
		cur_skip(&d, 3);
		tb_puts(&t, "DNSKEY ");
		tb_uint(&t, cur_u8(&d));
		if (d.err)
			goto bad;
		break;
	case DNS_T_DS: {
		cur_skip(&d, 2);
		uint8_t alg = cur_u8(&d), dt = cur_u8(&d);
		if (d.err)
			goto bad;
		tb_puts(&t, "DS ");
		tb_uint(&t, alg);
		tb_put(&t, " ", 1);
		tb_uint(&t, dt);
		break;
	}
	case DNS_T_NSEC:
		if (rr_name(m, &c, end, name2, sizeof(name2)) ||
		    dns_name_at(m, rr->name_off, name, sizeof(name)))
			goto bad;
		tb_puts(&t, "NSEC ");
		tb_puts(&t, name);
		tb_put(&t, " ", 1);
		tb_puts(&t, name2);
		break;
	case DNS_T_NSEC3:
		if (rr->rdlen < 5)
			goto bad;
		tb_puts(&t, "NSEC3");
		break;
	case DNS_T_NSEC3PARAM:
		tb_puts(&t, "NSEC3PARAM");
		break;
	case DNS_T_SSHFP:
		if (rr->rdlen < 2)
			goto bad;
		cur_skip(&d, 2);
		tb_puts(&t, "SSHFP: ");
		tb_hex(&t, m->buf + rr->rdoff + 2, rr->rdlen - 2u);
		break;
	case DNS_T_LOC: {
		uint8_t ver = cur_u8(&d), size = cur_u8(&d), hp = cur_u8(&d), vp = cur_u8(&d);
		if (d.err || ver != 0 || rr->rdlen != 16)
			goto bad;
		tb_puts(&t, "LOC:  ");
		tb_uint(&t, size);
		tb_put(&t, " ", 1);
		tb_uint(&t, hp);
		tb_put(&t, " ", 1);
		tb_uint(&t, vp);
		break;
	}
	case DNS_T_BINDS:
		tb_puts(&t, "BIND9 signing signal");
		break;
	case DNS_T_WKS:
	case DNS_T_HINFO:
		break; /* Zeek counts these as answers without text */
	case DNS_T_OPT:
	case DNS_T_TSIG:
	case DNS_T_TKEY:
	case DNS_T_NB: /* NetBIOS addresses: Zeek skips them too */
		return DNS_RR_NONE;
	case DNS_T_CAA: {
		uint8_t flags = cur_u8(&d), tl;
		const uint8_t *tag = rr_cstr(&d, &tl);
		if (!tag)
			goto bad;
		tb_puts(&t, "CAA ");
		tb_uint(&t, flags);
		tb_put(&t, " ", 1);
		tb_bytes_escaped(&t, tag, tl);
		tb_put(&t, " \"", 2);
		tb_bytes_escaped(&t, m->buf + rr->rdoff + d.off, cur_left(&d));
		tb_put(&t, "\"", 1);
		break;
	}
	case DNS_T_NAPTR: {
		uint16_t order = cur_u16(&c), pref = cur_u16(&c);
		struct cursor s = c;
		uint8_t l[3];
		const uint8_t *str[3];
		for (int i = 0; i < 3; i++)
			str[i] = rr_cstr(&s, &l[i]);
		if (s.err)
			goto bad;
		c.off = s.off;
		if (rr_name(m, &c, end, name, sizeof(name)))
			goto bad;
		tb_puts(&t, "NAPTR ");
		tb_uint(&t, order);
		tb_put(&t, " ", 1);
		tb_uint(&t, pref);
		for (int i = 0; i < 3; i++) {
			tb_put(&t, " \"", 2);
			tb_bytes_escaped(&t, str[i], l[i]);
			tb_put(&t, "\"", 1);
		}
		tb_put(&t, " ", 1);
		tb_puts(&t, name[0] ? name : ".");
		break;
	}
	case DNS_T_TLSA: {
		uint8_t u = cur_u8(&d), s = cur_u8(&d), mt = cur_u8(&d);
		if (d.err)
			goto bad;
		tb_puts(&t, "TLSA ");
		tb_uint(&t, u);
		tb_put(&t, " ", 1);
		tb_uint(&t, s);
		tb_put(&t, " ", 1);
		tb_uint(&t, mt);
		tb_put(&t, " ", 1);
		tb_hex(&t, m->buf + rr->rdoff + 3, rr->rdlen - 3u);
		break;
	}
	case DNS_T_SVCB:
	case DNS_T_HTTPS: {
		uint16_t prio = cur_u16(&c);
		if (rr_name(m, &c, end, name, sizeof(name)))
			goto bad;
		tb_puts(&t, rr->type == DNS_T_SVCB ? "SVCB " : "HTTPS ");
		tb_uint(&t, prio);
		tb_put(&t, " ", 1);
		tb_puts(&t, name[0] ? name : ".");
		/* SvcParams: key=value, values as hex except alpn and ports. */
		struct cursor p = cursor_init(m->buf, end);
		cur_seek(&p, c.off);
		while (cur_left(&p)) {
			uint16_t key = cur_u16(&p), vlen = cur_u16(&p);
			const uint8_t *v = cur_take(&p, vlen);
			if (!v)
				goto bad;
			if (key == 1) { /* alpn: list of character-strings */
				struct cursor a = cursor_init(v, vlen);
				tb_puts(&t, " alpn=");
				for (int i = 0; cur_left(&a); i++) {
					uint8_t l;
					const uint8_t *s = rr_cstr(&a, &l);
					if (!s)
						goto bad;
					if (i)
						tb_put(&t, ",", 1);
					tb_bytes_escaped(&t, s, l);
				}
			} else if (key == 3 && vlen == 2) {
				tb_puts(&t, " port=");
				tb_uint(&t, (unsigned)v[0] << 8 | v[1]);
			} else {
				tb_puts(&t, " key");
				tb_uint(&t, key);
				tb_put(&t, "=", 1);
				tb_hex(&t, v, vlen);
			}
		}
		break;
	}
	default:
		tb_puts(&t, "<unknown type=");
		tb_uint(&t, rr->type);
		tb_put(&t, ">", 1);
		break;
	}
	return (int)t.n;
bad:
	t.n = 0;
	out[0] = '\0';
	tb_puts(&t, "<malformed type=");
	tb_uint(&t, rr->type);
	tb_put(&t, ">", 1);
	return (int)t.n;
}
