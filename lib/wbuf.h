/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wbuf.h - the one writer buffer: the write side of cursor.h. A growable byte buffer with a
 * hard cap; an append that would pass the cap (or a failed allocation) sets a sticky `cut` and
 * is dropped whole, so a writer appends its fields and checks `cut` once at the end. The bytes
 * are always NUL-terminated (text writers hand b->p to string functions). Record writers,
 * /metrics and the HTTP API's responses (lib/httpd.h) all write into one.
 *
 *   struct wbuf b = WBUF_INIT(64 * 1024);
 *   wbuf_put(&b, "{", 1); wbuf_printf(&b, "%u", n); ... if (b.cut) count_it();
 *   wbuf_free(&b);
 */
#ifndef PANO_WBUF_H
#define PANO_WBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct wbuf {
	char *p;	/* cap bytes (NULL until the first append) */
	size_t len;	/* bytes written, p[len] == '\0' */
	size_t cap;	/* bytes allocated */
	size_t max;	/* cap never grows past this (0: WBUF_DEFAULT_MAX) */
	bool cut;	/* an append did not fit under max (or memory ran out) */
};

#define WBUF_DEFAULT_MAX (256u * 1024)
#define WBUF_INIT(max_) { .p = NULL, .len = 0, .cap = 0, .max = (max_), .cut = false }

/* Room for n more bytes and the NUL: a pointer to write them at (then wbuf_done), or NULL when
 * b is cut or n bytes would pass max (b is not marked cut: the caller falls back to exact
 * appends, which mark it). */
char *wbuf_room_grow(struct wbuf *b, size_t n);
void wbuf_put_slow(struct wbuf *b, const void *s, size_t n);

static inline __attribute__((always_inline)) char *wbuf_room(struct wbuf *b, size_t n)
{
	if (b->len + n + 1 <= b->cap && !b->cut)
		return b->p + b->len;
	return wbuf_room_grow(b, n);
}

/* Ends an in-place write that began at wbuf_room()'s pointer and stopped at end. */
static inline void wbuf_done(struct wbuf *b, char *end)
{
	*end = '\0';
	b->len = (size_t)(end - b->p);
}

/* Appends n bytes (the fast path inline: record writers' inner loop). */
static inline __attribute__((always_inline)) void wbuf_put(struct wbuf *b, const void *s, size_t n)
{
	if (b->len + n + 1 <= b->cap && !b->cut) {
		memcpy(b->p + b->len, s, n);
		b->len += n;
		b->p[b->len] = '\0';
		return;
	}
	wbuf_put_slow(b, s, n);
}

static inline void wbuf_puts(struct wbuf *b, const char *s)
{
	wbuf_put(b, s, strlen(s));
}

/* Appends printf's output, whole or not at all (a result that would pass max cuts b). An
 * output error of vsnprintf cuts b too: what it wrote is incomplete. */
void wbuf_vprintf(struct wbuf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
void wbuf_printf(struct wbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Empties b for the next record (keeps its memory). */
static inline void wbuf_reset(struct wbuf *b)
{
	b->len = 0;
	b->cut = false;
	if (b->p)
		b->p[0] = '\0';
}

void wbuf_free(struct wbuf *b);

#endif
