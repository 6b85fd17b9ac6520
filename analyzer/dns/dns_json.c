// SPDX-License-Identifier: Apache-2.0
/*
 * dns_json.c - the DNS record writer: one JSON object per transaction with Zeek's dns.log
 * fields in Zeek's order and types (unset fields left out, as Zeek's JSON writer does), then
 * PANO's own fields:
 *   node           agent node name (when the input knows it)
 *   interface      capture interface (when known)
 *   direction      "in" / "out" at that interface (when known)
 *   query_size     DNS query message bytes (when a query was seen)
 *   reply_size     DNS reply message bytes (when a reply was seen)
 *   edns_udp_size, edns_version, edns_do    EDNS0 OPT of the query (else of the reply)
 *   edns_ecs       client subnet as "address/source-prefix" (e.g. "192.0.2.0/24")
 *   edns_cookie    true when a COOKIE option was present
 *   edns_rcode, edns_rcode_name   the reply's full extended RCODE (RFC 6891: the OPT's 8 bits
 *                  above the header's 4, e.g. 16 BADVERS, 23 BADCOOKIE) when the reply had an OPT
 *                  record; Zeek's rcode stays the header's 4 bits
 *   query_cut, reply_cut   true (else left out) when the capture kept only part of that
 *                  message: its size is still the message's own length
 * A hand-written writer: it is on the hot path and every string is escaped here.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_txn.h"

/* Appends with growth (doubling, capped at DNS_REC_MAX: beyond it the buffer is marked cut). */
void dns_sb_put_slow(struct dns_sbuf *b, const char *s, size_t n)
{
	if (b->cut)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t want = b->cap ? b->cap : 512;
		while (want < b->len + n + 1)
			want *= 2;
		if (want > DNS_REC_MAX) {
			if (b->len + n + 1 > DNS_REC_MAX) {
				b->cut = true;
				return;
			}
			want = DNS_REC_MAX;
		}
		char *p = realloc(b->p, want);
		if (!p) {
			b->cut = true;
			return;
		}
		b->p = p;
		b->cap = want;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void dns_sb_puts(struct dns_sbuf *b, const char *s)
{
	dns_sb_put(b, s, strlen(s));
}

void dns_sb_free(struct dns_sbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* Length of a valid UTF-8 sequence at s (n bytes left), or 0 if invalid. */
static size_t json_utf8_len(const unsigned char *s, size_t n)
{
	size_t k;
	uint32_t cp;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		k = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		k = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		k = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (k > n)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((k == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (k == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return k;
}

/* The key writers are always inlined: strlen() of their literal keys folds to a constant. */
#define JSON_INLINE static inline __attribute__((always_inline))

/* Bytes that are not plain printable ASCII to copy as they are. */
static const uint8_t json_special[256] = {
    [0 ... 0x1f] = 1,
    ['"'] = 1,
    ['\\'] = 1,
    [0x7f ... 0xff] = 1,
};

/*
 * Room for n more bytes and the NUL at the end of b, growing it as dns_sb_put_slow would; NULL
 * when b is cut or n bytes would not fit under DNS_REC_MAX. The fast writers below reserve their
 * worst case with it and write in place; on NULL they fall back to exact appends, so a record
 * near the cap is cut exactly where it was before.
 */
static char *json_room_grow(struct dns_sbuf *b, size_t n)
{
	if (b->cut || b->len + n + 1 > DNS_REC_MAX)
		return NULL;
	size_t want = b->cap ? b->cap : 512;
	while (want < b->len + n + 1)
		want *= 2;
	if (want > DNS_REC_MAX)
		want = DNS_REC_MAX;
	char *p = realloc(b->p, want);
	if (!p)
		return NULL;
	b->p = p;
	b->cap = want;
	return b->p + b->len;
}

JSON_INLINE char *json_room(struct dns_sbuf *b, size_t n)
{
	if (b->len + n + 1 <= b->cap && !b->cut)
		return b->p + b->len;
	return json_room_grow(b, n);
}

/* Ends an in-place write that began at b->p + b->len and stopped at end. */
static inline void json_done(struct dns_sbuf *b, char *end)
{
	*end = '\0';
	b->len = (size_t)(end - b->p);
}

/* dns_json_str by exact appends: the path of a record close to DNS_REC_MAX. */
static void json_str_slow(struct dns_sbuf *b, const char *str, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0;

	dns_sb_put(b, "\"", 1);
	while (i < n) {
		unsigned char ch = s[i];
		if (!json_special[ch]) { /* plain ASCII: the common case, one table look-up */
			i++;
			run++;
			continue;
		}
		size_t k = json_utf8_len(s + i, n - i);
		if (k && ch >= 0x20 && ch != '"' && ch != '\\' && ch != 0x7f) {
			i += k;
			run += k;
			continue;
		}
		dns_sb_put(b, str + i - run, run);
		run = 0;
		char e[8];
		if (ch == '"' || ch == '\\') {
			e[0] = '\\';
			e[1] = (char)ch;
			dns_sb_put(b, e, 2);
		} else if (k) { /* control character or DEL */
			snprintf(e, sizeof(e), "\\u%04x", ch);
			dns_sb_put(b, e, 6);
		} else { /* not UTF-8: the text \xNN, as Zeek shows it */
			e[0] = '\\';
			e[1] = '\\';
			e[2] = 'x';
			e[3] = hex[ch >> 4];
			e[4] = hex[ch & 15];
			dns_sb_put(b, e, 5);
		}
		i++;
	}
	dns_sb_put(b, str + i - run, run);
	dns_sb_put(b, "\"", 1);
}

/*
 * Whether any of the 8 bytes in x may need more than a copy: below 0x20, '"', '\\', 0x7f or
 * above. Exact for words without such a byte (no false negatives); a false positive only sends
 * the word to the byte-by-byte path.
 */
static inline uint64_t json_special8(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	uint64_t q = x ^ (ones * '"'), bs = x ^ (ones * '\\');
	uint64_t lt = (x - ones * 0x20) & ~x; /* a byte below 0x20 */
	uint64_t zq = (q - ones) & ~q;	      /* a '"' */
	uint64_t zb = (bs - ones) & ~bs;      /* a backslash */
	uint64_t hi = x | (x + ones);	      /* 0x7f or above */
	return (lt | zq | zb | hi) & high;
}

/*
 * Writes str as a JSON string (quotes included) at q, which must have room for 6 * n + 2
 * bytes (an escaped byte takes at most 6: "\u00XX"); returns the end. No bounds check per
 * byte: the caller reserved the worst case.
 */
static char *json_str_to(char *q, const char *str, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	*q++ = '"';
	while (i < n) {
		unsigned char ch;
		if (n - i >= 8) { /* eight plain bytes at a time */
			uint64_t x;
			memcpy(&x, s + i, 8);
			if (!json_special8(x)) {
				memcpy(q, &x, 8);
				q += 8;
				i += 8;
				continue;
			}
		}
		ch = s[i];
		if (!json_special[ch]) {
			*q++ = (char)ch;
			i++;
			continue;
		}
		size_t k = json_utf8_len(s + i, n - i);
		if (k && ch >= 0x20 && ch != '"' && ch != '\\' && ch != 0x7f) {
			memcpy(q, s + i, k);
			q += k;
			i += k;
			continue;
		}
		*q++ = '\\';
		if (ch == '"' || ch == '\\') {
			*q++ = (char)ch;
		} else if (k) { /* control character or DEL */
			memcpy(q, "u00", 3);
			q[3] = hex[ch >> 4];
			q[4] = hex[ch & 15];
			q += 5;
		} else { /* not UTF-8: the text \xNN, as Zeek shows it */
			q[0] = '\\';
			q[1] = 'x';
			q[2] = hex[ch >> 4];
			q[3] = hex[ch & 15];
			q += 4;
		}
		i++;
	}
	*q++ = '"';
	return q;
}

/* Appends str as a JSON string: in place after reserving the worst case, else (a record close
 * to DNS_REC_MAX) by exact appends. */
void dns_json_str(struct dns_sbuf *b, const char *str, size_t n)
{
	char *q = json_room(b, 6 * n + 2);

	if (!q) {
		json_str_slow(b, str, n);
		return;
	}
	json_done(b, json_str_to(q, str, n));
}

JSON_INLINE void json_key(struct dns_sbuf *b, const char *k)
{
	char t[40];
	size_t n = strlen(k);
	if (n > sizeof(t) - 4)
		n = sizeof(t) - 4;
	if (b->len + n + 5 <= b->cap && !b->cut) { /* room: write in place */
		char *p = b->p + b->len;
		p[0] = ',';
		p[1] = '"';
		memcpy(p + 2, k, n);
		p[n + 2] = '"';
		p[n + 3] = ':';
		p[n + 4] = '\0';
		b->len += n + 4;
		return;
	}
	t[0] = ',';
	t[1] = '"';
	memcpy(t + 2, k, n);
	t[n + 2] = '"';
	t[n + 3] = ':';
	dns_sb_put(b, t, n + 4);
}

JSON_INLINE void json_kstr(struct dns_sbuf *b, const char *k, const char *v)
{
	json_key(b, k);
	dns_json_str(b, v, strlen(v));
}

/* A string known to need no escapes (uids, address text, names from the tables of
 * dns_names.c): copied between its quotes. */
static void json_raw(struct dns_sbuf *b, const char *v)
{
	size_t n = strlen(v);
	char *p = json_room(b, n + 2);
	if (!p) {
		dns_json_str(b, v, n);
		return;
	}
	p[0] = '"';
	memcpy(p + 1, v, n);
	p[n + 1] = '"';
	json_done(b, p + n + 2);
}

JSON_INLINE void json_kraw(struct dns_sbuf *b, const char *k, const char *v)
{
	json_key(b, k);
	json_raw(b, v);
}

/* "00".."99": decimal text two digits at a time. */
static const char json_pairs[201] = "00010203040506070809101112131415161718192021222324252627282930"
				    "31323334353637383940414243444546474849505152535455565758596061"
				    "62636465666768697071727374757677787980818283848586878889909192"
				    "93949596979899";

/* Writes the decimal text of v at p (20 bytes at most); returns its end. */
static char *json_utoa(char *p, uint64_t v)
{
	static const uint64_t pow10[20] = {
	    1ull,
	    10ull,
	    100ull,
	    1000ull,
	    10000ull,
	    100000ull,
	    1000000ull,
	    10000000ull,
	    100000000ull,
	    1000000000ull,
	    10000000000ull,
	    100000000000ull,
	    1000000000000ull,
	    10000000000000ull,
	    100000000000000ull,
	    1000000000000000ull,
	    10000000000000000ull,
	    100000000000000000ull,
	    1000000000000000000ull,
	    10000000000000000000ull,
	};
	if (v < 10) { /* flags, codes, classes: most numbers of a record */
		*p = (char)('0' + v);
		return p + 1;
	}
	/* digits from the bit length (log10(2) ~ 1233 / 4096), corrected by one comparison */
	unsigned d = (unsigned)(64 - __builtin_clzll(v)) * 1233 >> 12;
	d += v >= pow10[d];
	char *e = p + d, *q = e;
	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);
		v /= 100;
		q -= 2;
		memcpy(q, json_pairs + 2 * r, 2);
	}
	if (v >= 10) {
		q -= 2;
		memcpy(q, json_pairs + 2 * v, 2);
	} else {
		*--q = (char)('0' + v);
	}
	return e;
}

static void json_uint(struct dns_sbuf *b, uint64_t v)
{
	char n[24];
	char *p = json_room(b, 20);
	if (p) {
		json_done(b, json_utoa(p, v));
		return;
	}
	dns_sb_put(b, n, (size_t)(json_utoa(n, v) - n));
}

JSON_INLINE void json_kuint(struct dns_sbuf *b, const char *k, uint64_t v)
{
	json_key(b, k);
	json_uint(b, v);
}

JSON_INLINE void json_kbool(struct dns_sbuf *b, const char *k, bool v)
{
	json_key(b, k);
	if (v)
		dns_sb_put(b, "true", 4);
	else
		dns_sb_put(b, "false", 5);
}

/* Writes seconds with six decimals, from nanoseconds (no floating point rounding surprises),
 * at p (27 bytes at most); returns the end. */
static char *json_secs_to(char *q, uint64_t ns)
{
	unsigned us = (unsigned)(ns % 1000000000ull / 1000);

	q = json_utoa(q, ns / 1000000000ull);
	*q = '.';
	memcpy(q + 1, json_pairs + 2 * (us / 10000), 2);
	memcpy(q + 3, json_pairs + 2 * (us / 100 % 100), 2);
	memcpy(q + 5, json_pairs + 2 * (us % 100), 2);
	return q + 7;
}

static void json_secs(struct dns_sbuf *b, uint64_t ns)
{
	char t[32];
	char *p = json_room(b, 27);

	if (p) {
		json_done(b, json_secs_to(p, ns));
		return;
	}
	dns_sb_put(b, t, (size_t)(json_secs_to(t, ns) - t));
}

JSON_INLINE void json_ksecs(struct dns_sbuf *b, const char *k, uint64_t ns)
{
	json_key(b, k);
	json_secs(b, ns);
}

const char *dns_info_answer(const struct dns_info *in, size_t *pos, uint32_t *ttl, unsigned i)
{
	const char *a = in->answers.p + *pos;
	*pos += strlen(a) + 1;
	memcpy(ttl, in->ttls.p + (size_t)i * sizeof(*ttl), sizeof(*ttl));
	return a;
}

/* One side's sender: <side>_k8s_namespace, _k8s_pod, _container, _pid, _comm, where known. */
static void json_sender(struct dns_sbuf *b, const char *side, const struct sender_rec *w)
{
	static const char *const keys[] = {"k8s_namespace", "k8s_pod", "container", "comm"};
	const char *vals[] = {w->ns, w->pod, w->container, w->comm};
	char k[32];

	for (int i = 0; i < 4; i++) {
		if (i == 3 && w->pid) {
			snprintf(k, sizeof(k), "%s_pid", side);
			json_kuint(b, k, w->pid);
		}
		if (!vals[i][0])
			continue;
		snprintf(k, sizeof(k), "%s_%s", side, keys[i]);
		json_kstr(b, k, vals[i]);
	}
}

/* The fields after EDNS, by exact appends on both paths: the service address of a record
 * joined across a DNAT, and each side's sender. */
static void json_tail(struct dns_sbuf *b, const struct dns_info *in)
{
	if (in->has_service) {
		json_kraw(b, "service_h", in->service_s);
		json_kuint(b, "service_p", in->service_p);
	}
	if (in->orig_w)
		json_sender(b, "orig", in->orig_w);
	if (in->resp_w)
		json_sender(b, "resp", in->resp_w);
}

/* The record by exact appends, each checked against DNS_REC_MAX: the path of a record whose
 * worst case does not fit under the cap (json_write_fast writes the same bytes). */
static void json_write_exact(const struct dns_info *in, const struct dns_conn *c, int dotted,
			     struct dns_sbuf *b)
{
	char a[INET6_ADDRSTRLEN], nb[32];

	b->len = 0;
	b->cut = false;
	dns_sb_puts(b, "{\"ts\":");
	json_secs(b, in->ts_ns);
	json_kraw(b, "uid", c->uid);
	json_kraw(b, dotted ? "id.orig_h" : "id_orig_h", c->orig_s);
	json_kuint(b, dotted ? "id.orig_p" : "id_orig_p", c->orig_p);
	json_kraw(b, dotted ? "id.resp_h" : "id_resp_h", c->resp_s);
	json_kuint(b, dotted ? "id.resp_p" : "id_resp_p", c->resp_p);
	json_kraw(b, "proto", c->proto == 6 ? "tcp" : "udp");
	json_kuint(b, "trans_id", in->trans_id);
	if (in->has_rtt)
		json_ksecs(b, "rtt", in->rtt_ns);
	if (in->query)
		json_kstr(b, "query", in->query);
	if (in->has_qclass) {
		json_kuint(b, "qclass", in->qclass);
		json_kraw(b, "qclass_name", dns_qclass_name(in->qclass, nb, sizeof(nb)));
		json_kuint(b, "qtype", in->qtype);
		const char *tn = dns_qtype_name(in->qtype, nb, sizeof(nb));
		if (c->netbios && in->qtype == DNS_T_SRV)
			tn = "NBSTAT";
		json_kraw(b, "qtype_name", tn);
	}
	if (in->has_rcode) {
		json_kuint(b, "rcode", in->rcode);
		json_kraw(b, "rcode_name", dns_rcode_name(in->rcode, nb, sizeof(nb)));
	}
	json_kbool(b, "AA", in->AA);
	json_kbool(b, "TC", in->TC);
	json_kbool(b, "RD", in->RD);
	json_kbool(b, "RA", in->RA);
	json_kuint(b, "Z", in->Z);
	if (in->nanswers) {
		size_t pos = 0;
		uint32_t ttl;
		json_key(b, "answers");
		dns_sb_put(b, "[", 1);
		for (unsigned i = 0; i < in->nanswers; i++) {
			const char *a = dns_info_answer(in, &pos, &ttl, i);
			if (i)
				dns_sb_put(b, ",", 1);
			dns_json_str(b, a, strlen(a));
		}
		dns_sb_put(b, "]", 1);
		json_key(b, "TTLs");
		dns_sb_put(b, "[", 1);
		pos = 0;
		for (unsigned i = 0; i < in->nanswers; i++) {
			dns_info_answer(in, &pos, &ttl, i);
			if (i)
				dns_sb_put(b, ",", 1);
			json_uint(b, ttl);
			dns_sb_put(b, ".0", 2);
		}
		dns_sb_put(b, "]", 1);
	}
	json_kbool(b, "rejected", in->rejected);
	json_kuint(b, "opcode", in->opcode);
	json_kraw(b, "opcode_name", dns_opcode_name(in->opcode, c->netbios, nb, sizeof(nb)));
	/* PANO's own fields. */
	if (c->node[0])
		json_kstr(b, "node", c->node);
	if (in->iface[0])
		json_kstr(b, "interface", in->iface);
	if (in->dir == 0 || in->dir == 1)
		json_kraw(b, "direction", in->dir ? "out" : "in");
	if (in->query_size)
		json_kuint(b, "query_size", in->query_size);
	if (in->reply_size)
		json_kuint(b, "reply_size", in->reply_size);
	if (in->has_latency)
		json_ksecs(b, "latency", in->latency_ns);
	if (in->has_edns) {
		const struct dns_edns *e = &in->edns;
		json_kuint(b, "edns_udp_size", e->udp_size);
		json_kuint(b, "edns_version", e->version);
		json_kbool(b, "edns_do", e->do_bit);
		if (e->ecs) {
			char s[INET6_ADDRSTRLEN + 8];
			if (e->ecs_family == 1)
				pano_ip4_text(e->ecs_addr, a);
			else
				pano_ip6_text(e->ecs_addr, a);
			snprintf(s, sizeof(s), "%s/%u", a, e->ecs_source);
			json_kstr(b, "edns_ecs", s);
		}
		json_kbool(b, "edns_cookie", e->cookie);
	}
	if (in->has_edns_rcode) {
		json_kuint(b, "edns_rcode", in->edns_rcode);
		json_kraw(b, "edns_rcode_name", dns_rcode_name(in->edns_rcode, nb, sizeof(nb)));
	}
	if (in->query_cut)
		json_kbool(b, "query_cut", true);
	if (in->reply_cut)
		json_kbool(b, "reply_cut", true);
	json_tail(b, in);
	dns_sb_put(b, "}", 1);
}

/* A literal appended at p: p advanced past it (the length is a constant). */
#define JSON_LIT(p, s) ((p) = (char *)memcpy((p), (s), sizeof(s) - 1) + sizeof(s) - 1)

/* A string that needs no escapes (uid, address text, table names) between quotes at p. */
static inline char *json_raw_to(char *p, const char *s)
{
	size_t n = strlen(s);
	*p = '"';
	memcpy(p + 1, s, n);
	p[n + 1] = '"';
	return p + n + 2;
}

static inline char *json_bool_to(char *p, bool v)
{
	if (v)
		JSON_LIT(p, "true");
	else
		JSON_LIT(p, "false");
	return p;
}

/*
 * Bytes the record of in may take at most. Fixed part: keys, numbers (20 digits at most),
 * booleans, uid (< 24), address texts (< 46), table names (< 32), EDNS with its client subnet:
 * under 1,500 bytes. Escaped strings take at most 6 bytes per byte plus their quotes; each
 * answer adds a comma and its quotes, and its TTL at most 13 bytes (",4294967295.0").
 */
static size_t json_bound(const struct dns_info *in, const struct dns_conn *c, size_t qlen)
{
	return 2048 + 6 * (qlen + strlen(c->node) + strlen(in->iface)) + 6 * in->answers.len +
	       24 * (size_t)in->nanswers;
}

/*
 * The record written in place after one reservation of its worst case (json_bound): no check
 * per field. Returns false, having written nothing, when that reservation does not fit under
 * DNS_REC_MAX; the caller then takes the exact path, so a record near the cap is cut exactly
 * where it always was.
 */
static bool json_write_fast(const struct dns_info *in, const struct dns_conn *c, int dotted,
			    struct dns_sbuf *b)
{
	char nb[32];
	size_t qlen = in->query ? in->query_len : 0;
	char *p = json_room(b, json_bound(in, c, qlen));

	if (!p)
		return false;
	JSON_LIT(p, "{\"ts\":");
	p = json_secs_to(p, in->ts_ns);
	JSON_LIT(p, ",\"uid\":");
	p = json_raw_to(p, c->uid);
	if (dotted)
		JSON_LIT(p, ",\"id.orig_h\":");
	else
		JSON_LIT(p, ",\"id_orig_h\":");
	p = json_raw_to(p, c->orig_s);
	if (dotted)
		JSON_LIT(p, ",\"id.orig_p\":");
	else
		JSON_LIT(p, ",\"id_orig_p\":");
	p = json_utoa(p, c->orig_p);
	if (dotted)
		JSON_LIT(p, ",\"id.resp_h\":");
	else
		JSON_LIT(p, ",\"id_resp_h\":");
	p = json_raw_to(p, c->resp_s);
	if (dotted)
		JSON_LIT(p, ",\"id.resp_p\":");
	else
		JSON_LIT(p, ",\"id_resp_p\":");
	p = json_utoa(p, c->resp_p);
	if (c->proto == 6)
		JSON_LIT(p, ",\"proto\":\"tcp\",\"trans_id\":");
	else
		JSON_LIT(p, ",\"proto\":\"udp\",\"trans_id\":");
	p = json_utoa(p, in->trans_id);
	if (in->has_rtt) {
		JSON_LIT(p, ",\"rtt\":");
		p = json_secs_to(p, in->rtt_ns);
	}
	if (in->query) {
		JSON_LIT(p, ",\"query\":");
		p = json_str_to(p, in->query, qlen);
	}
	if (in->has_qclass) {
		JSON_LIT(p, ",\"qclass\":");
		p = json_utoa(p, in->qclass);
		JSON_LIT(p, ",\"qclass_name\":");
		p = json_raw_to(p, dns_qclass_name(in->qclass, nb, sizeof(nb)));
		JSON_LIT(p, ",\"qtype\":");
		p = json_utoa(p, in->qtype);
		const char *tn = dns_qtype_name(in->qtype, nb, sizeof(nb));
		if (c->netbios && in->qtype == DNS_T_SRV)
			tn = "NBSTAT";
		JSON_LIT(p, ",\"qtype_name\":");
		p = json_raw_to(p, tn);
	}
	if (in->has_rcode) {
		JSON_LIT(p, ",\"rcode\":");
		p = json_utoa(p, in->rcode);
		JSON_LIT(p, ",\"rcode_name\":");
		p = json_raw_to(p, dns_rcode_name(in->rcode, nb, sizeof(nb)));
	}
	JSON_LIT(p, ",\"AA\":");
	p = json_bool_to(p, in->AA);
	JSON_LIT(p, ",\"TC\":");
	p = json_bool_to(p, in->TC);
	JSON_LIT(p, ",\"RD\":");
	p = json_bool_to(p, in->RD);
	JSON_LIT(p, ",\"RA\":");
	p = json_bool_to(p, in->RA);
	JSON_LIT(p, ",\"Z\":");
	p = json_utoa(p, in->Z);
	if (in->nanswers) {
		size_t pos = 0;
		JSON_LIT(p, ",\"answers\":[");
		for (unsigned i = 0; i < in->nanswers; i++) {
			const char *a = in->answers.p + pos;
			size_t n = strlen(a);
			pos += n + 1;
			if (i)
				*p++ = ',';
			p = json_str_to(p, a, n);
		}
		JSON_LIT(p, "],\"TTLs\":[");
		for (unsigned i = 0; i < in->nanswers; i++) {
			uint32_t ttl;
			memcpy(&ttl, in->ttls.p + (size_t)i * sizeof(ttl), sizeof(ttl));
			if (i)
				*p++ = ',';
			p = json_utoa(p, ttl);
			JSON_LIT(p, ".0");
		}
		*p++ = ']';
	}
	if (in->rejected)
		JSON_LIT(p, ",\"rejected\":true,\"opcode\":");
	else
		JSON_LIT(p, ",\"rejected\":false,\"opcode\":");
	p = json_utoa(p, in->opcode);
	JSON_LIT(p, ",\"opcode_name\":");
	p = json_raw_to(p, dns_opcode_name(in->opcode, c->netbios, nb, sizeof(nb)));
	/* PANO's own fields. */
	if (c->node[0]) {
		JSON_LIT(p, ",\"node\":");
		p = json_str_to(p, c->node, strlen(c->node));
	}
	if (in->iface[0]) {
		JSON_LIT(p, ",\"interface\":");
		p = json_str_to(p, in->iface, strlen(in->iface));
	}
	if (in->dir == 0)
		JSON_LIT(p, ",\"direction\":\"in\"");
	else if (in->dir == 1)
		JSON_LIT(p, ",\"direction\":\"out\"");
	if (in->query_size) {
		JSON_LIT(p, ",\"query_size\":");
		p = json_utoa(p, in->query_size);
	}
	if (in->reply_size) {
		JSON_LIT(p, ",\"reply_size\":");
		p = json_utoa(p, in->reply_size);
	}
	if (in->has_latency) {
		JSON_LIT(p, ",\"latency\":");
		p = json_secs_to(p, in->latency_ns);
	}
	if (in->has_edns) {
		const struct dns_edns *e = &in->edns;
		JSON_LIT(p, ",\"edns_udp_size\":");
		p = json_utoa(p, e->udp_size);
		JSON_LIT(p, ",\"edns_version\":");
		p = json_utoa(p, e->version);
		JSON_LIT(p, ",\"edns_do\":");
		p = json_bool_to(p, e->do_bit);
		if (e->ecs) {
			char a[INET6_ADDRSTRLEN], s[INET6_ADDRSTRLEN + 8];
			if (e->ecs_family == 1)
				pano_ip4_text(e->ecs_addr, a);
			else
				pano_ip6_text(e->ecs_addr, a);
			int n = snprintf(s, sizeof(s), "%s/%u", a, e->ecs_source);
			JSON_LIT(p, ",\"edns_ecs\":");
			p = json_str_to(p, s,
					n < 0			? 0
					: (size_t)n < sizeof(s) ? (size_t)n
								: sizeof(s) - 1);
		}
		JSON_LIT(p, ",\"edns_cookie\":");
		p = json_bool_to(p, e->cookie);
	}
	if (in->has_edns_rcode) {
		JSON_LIT(p, ",\"edns_rcode\":");
		p = json_utoa(p, in->edns_rcode);
		JSON_LIT(p, ",\"edns_rcode_name\":");
		p = json_raw_to(p, dns_rcode_name(in->edns_rcode, nb, sizeof(nb)));
	}
	if (in->query_cut)
		JSON_LIT(p, ",\"query_cut\":true");
	if (in->reply_cut)
		JSON_LIT(p, ",\"reply_cut\":true");
	json_done(b, p);
	if (in->has_service || in->orig_w || in->resp_w)
		json_tail(b, in);
	dns_sb_put(b, "}", 1);
	return true;
}

void dns_json_write(const struct dns_info *in, const struct dns_conn *c, int dotted,
		    struct dns_sbuf *b)
{
	b->len = 0;
	b->cut = false;
	if (!json_write_fast(in, c, dotted, b))
		json_write_exact(in, c, dotted, b);
}
