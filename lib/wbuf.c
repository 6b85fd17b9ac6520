// SPDX-License-Identifier: Apache-2.0
/*
 * wbuf.c - the writer buffer's slow paths (see wbuf.h): growth by doubling from 512 bytes up to
 * the buffer's max, the sticky cut, and printf.
 */
#include <stdio.h>
#include <stdlib.h>

#include "wbuf.h"

static size_t wbuf_max(const struct wbuf *b)
{
	return b->max ? b->max : WBUF_DEFAULT_MAX;
}

char *wbuf_room_grow(struct wbuf *b, size_t n)
{
	size_t max = wbuf_max(b);

	if (b->cut || n + 1 > max || b->len + n + 1 > max)
		return NULL;
	if (b->len + n + 1 > b->cap) {
		size_t want = b->cap ? b->cap : 512;
		while (want < b->len + n + 1)
			want *= 2;
		if (want > max)
			want = max;
		char *p = realloc(b->p, want);
		if (!p)
			return NULL;
		b->p = p;
		b->cap = want;
	}
	return b->p + b->len;
}

void wbuf_put_slow(struct wbuf *b, const void *s, size_t n)
{
	char *p = wbuf_room_grow(b, n);

	if (!p) {
		b->cut = true;
		return;
	}
	memcpy(p, s, n);
	wbuf_done(b, p + n);
}

/* Formats straight into the free room; when the output is longer, grows once to its length and
 * formats again. */
void wbuf_vprintf(struct wbuf *b, const char *fmt, va_list ap)
{
	va_list ap2;

	if (b->cut)
		return;
	size_t room = b->cap - b->len; /* p[len] is the NUL: room >= 1 once p exists */
	va_copy(ap2, ap);
	int n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap2);
	va_end(ap2);
	if (n >= 0 && (size_t)n < room) {
		b->len += (size_t)n;
		return;
	}
	char *p = n < 0 ? NULL : wbuf_room_grow(b, (size_t)n);
	if (!p) {
		if (b->p)
			b->p[b->len] = '\0'; /* vsnprintf wrote past it */
		b->cut = true;
		return;
	}
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void wbuf_printf(struct wbuf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	wbuf_vprintf(b, fmt, ap);
	va_end(ap);
}

void wbuf_free(struct wbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->cut = false;
}
