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
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dns_parse.h"
#include "packet.h"

/* A bounded text builder: appends never overflow; the result is always NUL-terminated. */
struct tb {
	char *p;
	size_t n, sz;
};

static void tb_printf(struct tb *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tb_printf(struct tb *t, const char *fmt, ...)
{
	va_list ap;
	if (t->n + 1 >= t->sz)
		return;
	va_start(ap, fmt);
	int k = vsnprintf(t->p + t->n, t->sz - t->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		t->n += (size_t)k < t->sz - t->n ? (size_t)k : t->sz - t->n - 1;
}

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

static void tb_hex(struct tb *t, const uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len && t->n + 3 < t->sz; i++)
		tb_printf(t, "%02x", b[i]);
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
			tb_printf(&t, "%s%s %u ", first ? "" : " ",
				  rr->type == DNS_T_TXT ? "TXT" : "SPF", l);
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
		tb_printf(&t, "RRSIG %u %s", covered, name[0] ? name : "<Root>");
		break;
	}
	case DNS_T_DNSKEY:
		cur_skip(&d, 3);
		tb_printf(&t, "DNSKEY %u", cur_u8(&d));
		if (d.err)
			goto bad;
		break;
	case DNS_T_DS: {
		cur_skip(&d, 2);
		uint8_t alg = cur_u8(&d), dt = cur_u8(&d);
		if (d.err)
			goto bad;
		tb_printf(&t, "DS %u %u", alg, dt);
		break;
	}
	case DNS_T_NSEC:
		if (rr_name(m, &c, end, name2, sizeof(name2)) ||
		    dns_name_at(m, rr->name_off, name, sizeof(name)))
			goto bad;
		tb_printf(&t, "NSEC %s %s", name, name2);
		break;
	case DNS_T_NSEC3:
		if (rr->rdlen < 5)
			goto bad;
		tb_printf(&t, "NSEC3");
		break;
	case DNS_T_NSEC3PARAM:
		tb_printf(&t, "NSEC3PARAM");
		break;
	case DNS_T_SSHFP:
		if (rr->rdlen < 2)
			goto bad;
		cur_skip(&d, 2);
		tb_printf(&t, "SSHFP: ");
		tb_hex(&t, m->buf + rr->rdoff + 2, rr->rdlen - 2u);
		break;
	case DNS_T_LOC: {
		uint8_t ver = cur_u8(&d), size = cur_u8(&d), hp = cur_u8(&d), vp = cur_u8(&d);
		if (d.err || ver != 0 || rr->rdlen != 16)
			goto bad;
		tb_printf(&t, "LOC:  %u %u %u", size, hp, vp);
		break;
	}
	case DNS_T_BINDS:
		tb_printf(&t, "BIND9 signing signal");
		break;
	case DNS_T_WKS:
	case DNS_T_HINFO:
		break; /* Zeek counts these as answers without text */
	case DNS_T_OPT:
	case DNS_T_TSIG:
	case DNS_T_TKEY:
		return DNS_RR_NONE;
	case DNS_T_CAA: {
		uint8_t flags = cur_u8(&d), tl;
		const uint8_t *tag = rr_cstr(&d, &tl);
		if (!tag)
			goto bad;
		tb_printf(&t, "CAA %u ", flags);
		tb_bytes_escaped(&t, tag, tl);
		tb_printf(&t, " \"");
		tb_bytes_escaped(&t, m->buf + rr->rdoff + d.off, cur_left(&d));
		tb_printf(&t, "\"");
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
		tb_printf(&t, "NAPTR %u %u", order, pref);
		for (int i = 0; i < 3; i++) {
			tb_printf(&t, " \"");
			tb_bytes_escaped(&t, str[i], l[i]);
			tb_printf(&t, "\"");
		}
		tb_printf(&t, " %s", name[0] ? name : ".");
		break;
	}
	case DNS_T_TLSA: {
		uint8_t u = cur_u8(&d), s = cur_u8(&d), mt = cur_u8(&d);
		if (d.err)
			goto bad;
		tb_printf(&t, "TLSA %u %u %u ", u, s, mt);
		tb_hex(&t, m->buf + rr->rdoff + 3, rr->rdlen - 3u);
		break;
	}
	case DNS_T_SVCB:
	case DNS_T_HTTPS: {
		uint16_t prio = cur_u16(&c);
		if (rr_name(m, &c, end, name, sizeof(name)))
			goto bad;
		tb_printf(&t, "%s %u %s", rr->type == DNS_T_SVCB ? "SVCB" : "HTTPS", prio,
			  name[0] ? name : ".");
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
				tb_printf(&t, " alpn=");
				for (int i = 0; cur_left(&a); i++) {
					uint8_t l;
					const uint8_t *s = rr_cstr(&a, &l);
					if (!s)
						goto bad;
					tb_printf(&t, "%s", i ? "," : "");
					tb_bytes_escaped(&t, s, l);
				}
			} else if (key == 3 && vlen == 2) {
				tb_printf(&t, " port=%u", (unsigned)v[0] << 8 | v[1]);
			} else {
				tb_printf(&t, " key%u=", key);
				tb_hex(&t, v, vlen);
			}
		}
		break;
	}
	default:
		tb_printf(&t, "<unknown type=%u>", rr->type);
		break;
	}
	return (int)t.n;
bad:
	t.n = 0;
	out[0] = '\0';
	tb_printf(&t, "<malformed type=%u>", rr->type);
	return (int)t.n;
}
