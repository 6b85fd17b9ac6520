// SPDX-License-Identifier: Apache-2.0
/*
 * input_buf.c - the bytes of a capture file, read in large pieces and handed out in place
 * (input_buf.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "input.h"
#include "input_buf.h"
#include "input_file.h"
#include "log.h"

int input_buf_open(struct input_buf *b, const char *path, const struct input_hooks *h)
{
	memset(b, 0, sizeof(*b));
	b->h = h;
	b->owned = true;
	if (!strcmp(path, "-")) {
		b->fd = STDIN_FILENO;
	} else {
		b->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (b->fd < 0) {
			int e = errno;
			pr_err("open %s: %s", path, strerror(e));
			return -e;
		}
	}
	b->live = lseek(b->fd, 0, SEEK_CUR) < 0 && errno == ESPIPE;
	return 0;
}

void input_buf_mem(struct input_buf *b, const uint8_t *p, size_t n, const struct input_hooks *h)
{
	memset(b, 0, sizeof(*b));
	b->fd = -1;
	b->h = h;
	b->p = (uint8_t *)p; /* never written: owned is false */
	b->len = b->cap = n;
}

void input_buf_close(struct input_buf *b)
{
	if (b->fd > STDIN_FILENO)
		close(b->fd);
	b->fd = -1;
	if (b->owned)
		free(b->p);
	b->p = NULL;
	b->off = b->len = b->cap = 0;
}

/* Makes room for n bytes from b->off on: the bytes not taken move to the front, and the
 * buffer grows when n is more than it holds. 0, or -ENOMEM. */
static int input_buf_room(struct input_buf *b, size_t n)
{
	size_t avail = b->len - b->off;

	if (b->off + n <= b->cap && b->cap - b->len >= INPUT_BUF_PIECE / 4)
		return 0;
	if (n > b->cap || !b->p) {
		size_t cap = b->cap ? b->cap : INPUT_BUF_PIECE;
		while (cap < n)
			cap *= 2;
		uint8_t *p = malloc(cap);
		if (!p)
			return -ENOMEM;
		if (avail)
			memcpy(p, b->p + b->off, avail);
		free(b->p);
		b->p = p;
		b->cap = cap;
	} else if (avail && b->off) {
		memmove(b->p, b->p + b->off, avail);
	}
	b->off = 0;
	b->len = avail;
	return 0;
}

/* One read(2) into the free end of the buffer. 1 when bytes came, 0 at the end of input or on
 * an error (b->err). */
static int input_buf_fill(struct input_buf *b)
{
	ssize_t k;

	if (b->live)
		input_before_read(b->fd, b->h); /* the hooks run while the pipe is quiet */
	do
		k = read(b->fd, b->p + b->len, b->cap - b->len);
	while (k < 0 && errno == EINTR && !(b->h && *b->h->stop));
	if (k < 0)
		b->err = errno;
	if (k <= 0) {
		b->fd = b->fd > STDIN_FILENO ? (close(b->fd), -1) : -1;
		return 0;
	}
	b->len += (size_t)k;
	return 1;
}

const uint8_t *input_buf_more(struct input_buf *b, size_t n, size_t *have)
{
	while (b->len - b->off < n) {
		if (b->fd < 0)
			break;
		if (input_buf_room(b, n)) {
			b->err = ENOMEM;
			break;
		}
		if (!input_buf_fill(b))
			break;
	}
	if (b->len - b->off >= n)
		return b->p + b->off;
	*have = b->len - b->off;
	return NULL;
}

int input_buf_skip(struct input_buf *b, uint64_t n)
{
	while (n) {
		size_t have;

		if (!input_buf_peek(b, 1, &have))
			return -1;
		have = b->len - b->off;
		size_t k = n < have ? (size_t)n : have;
		input_buf_take(b, k);
		n -= k;
	}
	return 0;
}
