// SPDX-License-Identifier: Apache-2.0
/*
 * rec.c - the field writers of rec.h that are too large to inline: arrays (appended, and
 * written in place), and the protobuf
 * wire primitives (varints, length-delimited and 64-bit fields).
 */
#include "rec.h"

void rec_json_STRV(struct wbuf *b, const struct rec_strv *v)
{
	const char *s = v->p, *end = v->p + v->len;

	wbuf_put(b, "[", 1);
	for (unsigned i = 0; i < v->n && s < end; i++) {
		size_t n = strnlen(s, (size_t)(end - s));
		if (i)
			wbuf_put(b, ",", 1);
		json_str(b, s, n);
		s += n + 1;
	}
	wbuf_put(b, "]", 1);
}

void rec_json_SECV(struct wbuf *b, const struct rec_secv *v)
{
	const uint8_t *p = v->v;

	wbuf_put(b, "[", 1);
	for (unsigned i = 0; i < v->n; i++) {
		uint32_t x;
		memcpy(&x, p + (size_t)i * sizeof(x), sizeof(x));
		if (i)
			wbuf_put(b, ",", 1);
		json_uint(b, x);
		wbuf_put(b, ".0", 2);
	}
	wbuf_put(b, "]", 1);
}

char *rec_jto_secs(char *p, uint64_t ns)
{
	return json_secs_to(p, ns);
}

char *rec_jto_uint(char *p, uint64_t v)
{
	return json_utoa(p, v);
}

char *rec_jto_STRV(char *p, const struct rec_strv *v)
{
	const char *s = v->p, *end = v->p + v->len;

	*p++ = '[';
	for (unsigned i = 0; i < v->n && s < end; i++) {
		size_t n = strnlen(s, (size_t)(end - s));
		if (i)
			*p++ = ',';
		p = json_str_to(p, s, n);
		s += n + 1;
	}
	*p++ = ']';
	return p;
}

char *rec_jto_SECV(char *p, const struct rec_secv *v)
{
	const uint8_t *x = v->v;

	*p++ = '[';
	for (unsigned i = 0; i < v->n; i++) {
		uint32_t t;
		memcpy(&t, x + (size_t)i * sizeof(t), sizeof(t));
		if (i)
			*p++ = ',';
		p = rec_jto_uint(p, t);
		JSON_LIT(p, ".0");
	}
	*p++ = ']';
	return p;
}

void rec_pb_varint(struct wbuf *b, uint64_t v)
{
	char t[10];
	size_t n = 0;

	while (v >= 0x80) {
		t[n++] = (char)(v | 0x80);
		v >>= 7;
	}
	t[n++] = (char)v;
	wbuf_put(b, t, n);
}

void rec_pb_bytes(struct wbuf *b, unsigned num, const char *p, size_t len)
{
	rec_pb_varint(b, (uint64_t)num << 3 | 2);
	rec_pb_varint(b, len);
	wbuf_put(b, p, len);
}

void rec_pb_double(struct wbuf *b, unsigned num, double v)
{
	uint64_t x;
	char t[8];

	memcpy(&x, &v, sizeof(x));
	for (int i = 0; i < 8; i++)
		t[i] = (char)(x >> (8 * i)); /* little-endian on the wire */
	rec_pb_varint(b, (uint64_t)num << 3 | 1);
	wbuf_put(b, t, 8);
}

void rec_pb_STRV(struct wbuf *b, unsigned num, const struct rec_strv *v)
{
	const char *s = v->p, *end = v->p + v->len;

	for (unsigned i = 0; i < v->n && s < end; i++) {
		size_t n = strnlen(s, (size_t)(end - s));
		rec_pb_bytes(b, num, s, n);
		s += n + 1;
	}
}

void rec_pb_SECV(struct wbuf *b, unsigned num, const struct rec_secv *v)
{
	const uint8_t *p = v->v;

	for (unsigned i = 0; i < v->n; i++) {
		uint32_t x;
		memcpy(&x, p + (size_t)i * sizeof(x), sizeof(x));
		rec_pb_double(b, num, x);
	}
}
