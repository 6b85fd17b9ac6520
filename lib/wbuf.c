// SPDX-License-Identifier: Apache-2.0
/*
 * wbuf.c - the writer buffer's slow paths (see wbuf.h): growth by doubling from 512 bytes up to
 * the buffer's max, and the sticky cut.
 */
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

void wbuf_free(struct wbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->cut = false;
}
