/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json.h - JSON value writers for log records (Zeek's JSON writer's conventions): strings
 * escaped (control characters, quotes and backslashes; valid UTF-8 kept; any other byte as the
 * text \xNN), counts in decimal, times and intervals as seconds with six decimals. Every writer
 * appends to a struct wbuf (lib/wbuf.h). The _to variants write at a pointer the caller
 * reserved room at (wbuf_room) and return the end: a record writer reserves its worst case once.
 */
#ifndef PANO_JSON_H
#define PANO_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wbuf.h"

/* Appends str (n bytes) as a JSON string, quotes included. */
void json_str(struct wbuf *b, const char *str, size_t n);
/* The same at q, which has room for 6 * n + 2 bytes (the worst case); returns the end. */
char *json_str_to(char *q, const char *str, size_t n);
/* Appends v in decimal. */
void json_uint(struct wbuf *b, uint64_t v);
/* Appends ns as seconds with six decimals ("12.345678"). */
void json_secs(struct wbuf *b, uint64_t ns);
/* Appends a string that needs no escaping (address text, uids, names from tables), quoted. */
void json_raw(struct wbuf *b, const char *v, size_t n);

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

/* "00".."99": decimal text two digits at a time. */
static const char json_pairs[201] = "00010203040506070809101112131415161718192021222324252627282930"
				    "31323334353637383940414243444546474849505152535455565758596061"
				    "62636465666768697071727374757677787980818283848586878889909192"
				    "93949596979899";


/* Writes the decimal text of v at p (20 bytes at most); returns its end. */
static inline char *json_utoa(char *p, uint64_t v)
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

/* Writes seconds with six decimals, from nanoseconds (no floating point rounding surprises),
 * at p (27 bytes at most); returns the end. */
static inline char *json_secs_to(char *q, uint64_t ns)
{
	unsigned us = (unsigned)(ns % 1000000000ull / 1000);

	q = json_utoa(q, ns / 1000000000ull);
	*q = '.';
	memcpy(q + 1, json_pairs + 2 * (us / 10000), 2);
	memcpy(q + 3, json_pairs + 2 * (us / 100 % 100), 2);
	memcpy(q + 5, json_pairs + 2 * (us % 100), 2);
	return q + 7;
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

/* Key and value together: ,"k":v (k a literal: its strlen folds to a constant). */
/* The key writers are always inlined: strlen() of their literal keys folds to a constant. */
#define JSON_INLINE static inline __attribute__((always_inline))

JSON_INLINE void json_key(struct wbuf *b, const char *k)
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
	wbuf_put(b, t, n + 4);
}

JSON_INLINE void json_kstr(struct wbuf *b, const char *k, const char *v)
{
	json_key(b, k);
	json_str(b, v, strlen(v));
}

JSON_INLINE void json_kraw(struct wbuf *b, const char *k, const char *v)
{
	json_key(b, k);
	json_raw(b, v, strlen(v));
}

JSON_INLINE void json_kuint(struct wbuf *b, const char *k, uint64_t v)
{
	json_key(b, k);
	json_uint(b, v);
}

JSON_INLINE void json_kbool(struct wbuf *b, const char *k, bool v)
{
	json_key(b, k);
	if (v)
		wbuf_put(b, "true", 4);
	else
		wbuf_put(b, "false", 5);
}

JSON_INLINE void json_ksecs(struct wbuf *b, const char *k, uint64_t ns)
{
	json_key(b, k);
	json_secs(b, ns);
}

#endif
