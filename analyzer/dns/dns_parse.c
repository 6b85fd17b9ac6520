// SPDX-License-Identifier: Apache-2.0
/*
 * dns_parse.c - DNS wire-format parser (see dns_parse.h): header, questions, resource records
 * of all three sections, compressed names, EDNS0. Hostile input is the normal case: every read
 * goes through the bounded cursor, compression pointers must point strictly backwards (which
 * also bounds the work per name), and each malformation is counted as a weird, once per
 * message: the first fault ends the parse. A message that the capture cut (fewer bytes than its
 * own length) ends early by no fault of its own: running into the cut is not counted here (the
 * decoder counted the frame as cut, and the record says so).
 */
#include <stdio.h>
#include <string.h>

#include "counter.h"
#include "dns_parse.h"

PANO_COUNTER(c_dns_short, "dns_too_short", "weird", "DNS messages shorter than the header");
PANO_COUNTER(c_dns_header_cut, "dns_header_cut", "drop",
	     "DNS messages the capture cut inside their header (not logged)");
PANO_COUNTER(c_dns_trunc, "dns_truncated", "weird", "DNS messages shorter than their counts say");
PANO_COUNTER(c_dns_badptr, "dns_bad_pointer", "weird",
	     "DNS names with a compression loop or a forward pointer");
PANO_COUNTER(c_dns_badlabel, "dns_bad_label", "weird",
	     "DNS labels over 63 bytes or with a reserved type");
PANO_COUNTER(c_dns_longname, "dns_name_too_long", "weird", "DNS names over 255 bytes");
PANO_COUNTER(c_dns_badrdata, "dns_bad_rdata", "weird", "DNS rdata inconsistent with its length");
PANO_COUNTER(c_dns_rr_over, "dns_rr_over_cap", "drop", "DNS RRs beyond the per-message cap");

static const char dns_hex[] = "0123456789abcdef";

size_t dns_escape_byte(uint8_t b, char *out)
{
	if (b >= 0x20 && b < 0x7f) {
		out[0] = (char)b;
		return 1;
	}
	out[0] = '\\';
	out[1] = 'x';
	out[2] = dns_hex[b >> 4];
	out[3] = dns_hex[b & 15];
	return 4;
}

/*
 * Walks the name at c->off. ASCII letters come out lower-cased, as Zeek writes names. Each
 * compression pointer must point before the start of the label run that contains it (lo), and lo
 * then moves to the target: offsets strictly decrease, so loops, self and forward pointers are all
 * rejected and the walk is bounded by the message length. The wire length (labels + length bytes +
 * root) must stay <= 255. The cursor ends after the name as it first appears (after the first
 * pointer, if any).
 */
/* The high bit of each byte of x that is not printable ASCII (0x20..0x7e), which dns_name_read
 * copies as it is (after lower-casing). Exact for the lowest such byte: borrows and carries only
 * run towards higher bytes, so the bytes below the first flagged one are exact too. */
static inline uint64_t name_unprintable8(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	uint64_t lt = (x - ones * 0x20) & ~x; /* a byte below 0x20 */
	uint64_t hi = x | (x + ones);	      /* 0x7f or above */
	return (lt | hi) & high;
}

static inline bool name_printable8(uint64_t x)
{
	return !name_unprintable8(x);
}

/* x (8 bytes below 0x80) with 'A'..'Z' turned to 'a'..'z'. No byte carries into the next. */
static inline uint64_t name_lower8(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	uint64_t ge_a = x + ones * (0x80 - 'A'); /* high bit: byte >= 'A' */
	uint64_t gt_z = x + ones * (0x7f - 'Z'); /* high bit: byte > 'Z' */
	return x | ((ge_a & ~gt_z & high) >> 2);
}

/* dns_name_read, also telling whether the name held a compression pointer (*jumped). */
static int name_read(struct cursor *c, char *out, size_t outsz, int *jumped_out)
{
	struct cursor w = *c; /* walking cursor; c only advances over the first run */
	size_t lo = w.off, o = 0, wire = 1;
	int jumped = 0, rc = 0, hops = 0;

	if (outsz)
		out[0] = '\0';
	for (;;) {
		uint8_t l = cur_u8(&w);
		if (w.err) {
			rc = DNS_ETRUNC;
			break;
		}
		if ((l & 0xc0) == 0xc0) {
			size_t at = w.off - 1;
			size_t tgt = (size_t)(l & 0x3f) << 8 | cur_u8(&w);
			if (w.err) {
				rc = DNS_ETRUNC;
				break;
			}
			if (!jumped) {
				c->off = w.off;
				jumped = 1;
			}
			/* a <= 255-byte name has at most 127 labels, so needs no more pointers;
			 * the cap keeps a chain of pointers from costing O(message) per name */
			if (tgt >= lo || tgt >= at || ++hops > 127) {
				rc = DNS_EPTR;
				break;
			}
			lo = tgt;
			cur_seek(&w, tgt);
			continue;
		}
		if (l & 0xc0) {
			rc = DNS_ELABEL;
			break;
		}
		if (l == 0)
			break;
		wire += (size_t)l + 1;
		if (wire > 255) {
			rc = DNS_ENAMELEN;
			break;
		}
		const uint8_t *p = cur_take(&w, l);
		if (!p) {
			rc = DNS_ETRUNC;
			break;
		}
		if (!outsz) /* only checking the name */
			continue;
		if (o && o + 1 < outsz)
			out[o++] = '.';
		if (o + 4 * (size_t)l < outsz) { /* room even if every byte is escaped */
			unsigned i = 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			/* A label under 8 bytes with 8 bytes of message at p and room for 8 at out
			 * + o (most labels): one word, its bytes past the label left out of the
			 * check. They are written too, past the label's end, where the next label
			 * or the NUL goes. */
			if (l < 8 && (size_t)(p - w.base) + 8 <= w.len && o + 8 < outsz) {
				uint64_t x;
				memcpy(&x, p, 8);
				if (!(name_unprintable8(x) & ((1ull << (8 * l)) - 1))) {
					x = name_lower8(x);
					memcpy(out + o, &x, 8);
					o += l;
					continue;
				}
			}
#endif
			for (; i + 8 <= l; i += 8) { /* eight printable bytes at a time */
				uint64_t x;
				memcpy(&x, p + i, 8);
				if (!name_printable8(x))
					break;
				x = name_lower8(x);
				memcpy(out + o, &x, 8);
				o += 8;
			}
			for (; i < l; i++) {
				uint8_t b = p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i];
				if (b >= 0x20 && b < 0x7f)
					out[o++] = (char)b;
				else
					o += dns_escape_byte(b, out + o);
			}
			continue;
		}
		for (unsigned i = 0; i < l; i++) {
			char e[4];
			uint8_t b = p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i];
			size_t n = dns_escape_byte(b, e);
			if (o + n < outsz) {
				memcpy(out + o, e, n);
				o += n;
			}
		}
	}
	if (outsz)
		out[o < outsz ? o : outsz - 1] = '\0';
	if (!jumped)
		c->off = w.off;
	*jumped_out = jumped;
	if (rc == DNS_ETRUNC)
		c->err = 1;
	return rc;
}

/* Counts a name or message fault under its weird counter. */
static void dns_count(int rc)
{
	switch (rc) {
	case DNS_ETRUNC:
		counter_inc(&c_dns_trunc);
		break;
	case DNS_EPTR:
		counter_inc(&c_dns_badptr);
		break;
	case DNS_ELABEL:
		counter_inc(&c_dns_badlabel);
		break;
	case DNS_ENAMELEN:
		counter_inc(&c_dns_longname);
		break;
	}
}

int dns_name_read(struct cursor *c, char *out, size_t outsz)
{
	int jumped;
	int rc = name_read(c, out, outsz, &jumped);

	dns_count(rc);
	return rc;
}

/* Ends a parse with rc: counted once, unless the message ran into the capture's cut. */
static int dns_fail(struct dns_msg *m, int rc)
{
	if (!(rc == DNS_ETRUNC && m->len < m->wire_len))
		dns_count(rc);
	return m->err = rc;
}

int dns_name_at(const struct dns_msg *m, size_t off, char *out, size_t outsz)
{
	struct cursor c = cursor_init(m->buf, m->len);
	cur_seek(&c, off);
	return dns_name_read(&c, out, outsz);
}

/* Fills m->edns from an OPT record; malformed options end the walk (counted). */
static void dns_parse_opt(struct dns_msg *m, const struct dns_rr *rr)
{
	struct dns_edns *e = &m->edns;
	struct cursor c = cursor_init(m->buf + rr->rdoff, rr->rdlen);

	e->present = true;
	e->udp_size = rr->rclass;
	e->ext_rcode = rr->ttl >> 24;
	e->version = (rr->ttl >> 16) & 0xff;
	e->do_bit = (rr->ttl >> 15) & 1;
	while (cur_left(&c) && !c.err) {
		uint16_t code = cur_u16(&c), olen = cur_u16(&c);
		struct cursor o = cur_sub(&c, olen);
		if (c.err)
			break;
		switch (code) {
		case 3:
			e->nsid = true;
			break;
		case 8: {
			e->ecs_family = cur_u16(&o);
			e->ecs_source = cur_u8(&o);
			e->ecs_scope = cur_u8(&o);
			size_t alen = cur_left(&o);
			size_t max = e->ecs_family == 1 ? 4 : 16;
			if (o.err || alen > max || (e->ecs_family != 1 && e->ecs_family != 2)) {
				counter_inc(&c_dns_badrdata);
				break;
			}
			memset(e->ecs_addr, 0, sizeof(e->ecs_addr));
			cur_copy(&o, e->ecs_addr, alen);
			e->ecs = true;
			break;
		}
		case 10:
			e->cookie = true;
			e->cookie_len = olen > 255 ? 255 : olen;
			if (olen != 8 && (olen < 16 || olen > 40))
				counter_inc(&c_dns_badrdata);
			break;
		case 12:
			e->padding = olen;
			break;
		}
	}
	if (c.err)
		counter_inc(&c_dns_badrdata);
}

int dns_parse(const uint8_t *buf, size_t len, struct dns_msg *m)
{
	return dns_parse_wire(buf, len, len, m);
}

int dns_parse_wire(const uint8_t *buf, size_t len, size_t wire_len, struct dns_msg *m)
{
	struct cursor c = cursor_init(buf, len);
	int rc;

	m->buf = buf;
	m->len = len;
	m->wire_len = wire_len > len ? wire_len : len;
	m->has_question = false;
	m->qname[0] = '\0';
	m->qtype = m->qclass = 0;
	m->nrr = m->rr_dropped = 0;
	memset(&m->edns, 0, sizeof(m->edns));
	m->err = 0;
	m->id = cur_u16(&c);
	m->flags = cur_u16(&c);
	m->qdcount = cur_u16(&c);
	m->ancount = cur_u16(&c);
	m->nscount = cur_u16(&c);
	m->arcount = cur_u16(&c);
	if (c.err) {
		/* Too short for a header: by itself, or cut there by the capture. */
		counter_inc(m->wire_len < DNS_HDR_LEN ? &c_dns_short : &c_dns_header_cut);
		return m->err = DNS_ETRUNC;
	}
	/* The first question's name at DNS_HDR_LEN read cleanly without a pointer: an owner name
	 * that is just a pointer to it (the usual c0 0c) would walk the same labels, so it is not
	 * walked again. */
	bool q_plain = false;
	for (unsigned i = 0; i < m->qdcount; i++) {
		int jumped;
		rc = name_read(&c, i ? NULL : m->qname, i ? 0 : DNS_NAME_TEXT, &jumped);
		uint16_t t = cur_u16(&c), cl = cur_u16(&c);
		if (!rc && c.err)
			rc = DNS_ETRUNC;
		if (rc)
			return dns_fail(m, rc);
		if (!i) {
			m->qtype = t;
			m->qclass = cl;
			m->has_question = true;
			q_plain = !jumped;
		}
	}
	unsigned total = (unsigned)m->ancount + m->nscount + m->arcount;
	for (unsigned i = 0; i < total; i++) {
		struct dns_rr rr;
		rr.section = i < m->ancount			     ? DNS_SEC_AN
			     : i < (unsigned)m->ancount + m->nscount ? DNS_SEC_NS
								     : DNS_SEC_AR;
		rr.name_off = c.off;
		if (q_plain && c.off + 2 <= len && buf[c.off] == 0xc0 &&
		    buf[c.off + 1] == DNS_HDR_LEN) {
			c.off += 2; /* the pointer is backwards (c.off > DNS_HDR_LEN) and its target
				       good */
		} else {
			int jumped; /* checked now, its text made when needed */

			rc = name_read(&c, NULL, 0, &jumped);
			if (rc)
				return dns_fail(m, rc);
		}
		rr.type = cur_u16(&c);
		rr.rclass = cur_u16(&c);
		rr.ttl = cur_u32(&c);
		rr.rdlen = cur_u16(&c);
		rr.rdoff = c.off;
		cur_skip(&c, rr.rdlen);
		if (c.err)
			return dns_fail(m, DNS_ETRUNC);
		if (rr.type == DNS_T_OPT && rr.section == DNS_SEC_AR && !m->edns.present)
			dns_parse_opt(m, &rr);
		if (m->nrr < DNS_MAX_RRS) {
			m->rr[m->nrr++] = rr;
		} else {
			m->rr_dropped++;
			counter_inc(&c_dns_rr_over);
		}
	}
	return 0;
}
