/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cursor.h - the one bounded reader every parser uses. A read past the end sets a sticky error
 * and yields zeros, so a parser reads its fields and checks cur.err once afterwards instead of
 * after each field. Multi-byte reads are big-endian (network order) unless named _le.
 *
 *   struct cursor c = cursor_init(buf, len);
 *   uint16_t id = cur_u16(&c); uint16_t flags = cur_u16(&c);
 *   if (c.err) return -EMALF;
 */
#ifndef PANO_CURSOR_H
#define PANO_CURSOR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct cursor {
	const uint8_t *base;	/* start of the whole buffer (for offsets, e.g. DNS pointers) */
	size_t len;		/* bytes at base */
	size_t off;		/* read position, always <= len */
	int err;		/* set once a read ran past the end; never cleared by reads */
};

static inline struct cursor cursor_init(const uint8_t *base, size_t len)
{
	struct cursor c = { .base = base, .len = len, .off = 0, .err = 0 };
	return c;
}

static inline size_t cur_left(const struct cursor *c)
{
	return c->len - c->off;
}

/* Reserves n bytes: their address, or NULL (and err set) if fewer remain. */
static inline const uint8_t *cur_take(struct cursor *c, size_t n)
{
	if (c->err || n > c->len - c->off) {
		c->err = 1;
		c->off = c->len;
		return NULL;
	}
	const uint8_t *p = c->base + c->off;
	c->off += n;
	return p;
}

static inline void cur_skip(struct cursor *c, size_t n)
{
	(void)cur_take(c, n);
}

static inline uint8_t cur_u8(struct cursor *c)
{
	const uint8_t *p = cur_take(c, 1);
	return p ? p[0] : 0;
}

static inline uint16_t cur_u16(struct cursor *c)
{
	const uint8_t *p = cur_take(c, 2);
	return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

static inline uint32_t cur_u32(struct cursor *c)
{
	const uint8_t *p = cur_take(c, 4);
	return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : 0;
}

static inline uint16_t cur_u16_le(struct cursor *c)
{
	const uint8_t *p = cur_take(c, 2);
	return p ? (uint16_t)(p[1] << 8 | p[0]) : 0;
}

static inline uint32_t cur_u32_le(struct cursor *c)
{
	const uint8_t *p = cur_take(c, 4);
	return p ? (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0] : 0;
}

/* Copies n bytes into dst (zeros on error). */
static inline void cur_copy(struct cursor *c, void *dst, size_t n)
{
	const uint8_t *p = cur_take(c, n);
	if (p)
		memcpy(dst, p, n);
	else
		memset(dst, 0, n);
}

/* A sub-cursor over the next n bytes (consumed from c); its base is the sub-range. */
static inline struct cursor cur_sub(struct cursor *c, size_t n)
{
	const uint8_t *p = cur_take(c, n);
	struct cursor s = cursor_init(p, p ? n : 0);
	s.err = p ? 0 : 1;
	return s;
}

/* Moves to an absolute offset (for DNS compression pointers); err if beyond the end. */
static inline void cur_seek(struct cursor *c, size_t off)
{
	if (off > c->len) {
		c->err = 1;
		c->off = c->len;
		return;
	}
	c->off = off;
}

#endif
