/* SPDX-License-Identifier: Apache-2.0 */
/*
 * input_buf.h - the bytes of a capture file, read in large pieces and handed out in place.
 * Both file readers (classic pcap, pcapng) ask for the next n bytes of a record or block; they
 * get a pointer into the buffer, parse it there (through the cursor) and take the bytes. One
 * read(2) of 256 KiB serves some thousands of DNS packets; nothing is copied per record
 * except the tail of a piece that a record straddles.
 *
 * A file read(2)s as much as fits. A pipe or FIFO (pano-agent --stdout | pano-analyzer
 * --read -) hands over what is there: before a read would wait, the hooks run
 * (input_before_read), so records reach the sinks while the capture is quiet. A buffer can
 * also be a block of memory (the fuzzers, unit tests): its end is the end of input.
 *
 *   struct input_buf b;
 *   input_buf_open(&b, path, hooks);
 *   while ((p = input_buf_peek(&b, 16, &have))) { ... input_buf_take(&b, 16 + caplen); }
 *   input_buf_close(&b);
 */
#ifndef PANO_INPUT_BUF_H
#define PANO_INPUT_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct input_hooks;

#define INPUT_BUF_PIECE (256u * 1024) /* what one read(2) asks for, and the first size */

struct input_buf {
	int fd;	    /* -1: a block of memory, no more to read */
	bool live;  /* a pipe or FIFO: the hooks run before a read that would wait */
	bool owned; /* p is ours to free */
	const struct input_hooks *h;
	uint8_t *p;
	size_t off, len, cap; /* the bytes not taken yet are p[off..len) */
	int err;	      /* errno of a failed read (0: none); reading stopped there */
};

/* Opens path ("-": standard input). 0, or -errno (logged). */
int input_buf_open(struct input_buf *b, const char *path, const struct input_hooks *h);
/* A buffer over n bytes at p (not copied: they must outlive b). */
void input_buf_mem(struct input_buf *b, const uint8_t *p, size_t n, const struct input_hooks *h);
/* Closes the file (not standard input) and frees the buffer. */
void input_buf_close(struct input_buf *b);

const uint8_t *input_buf_more(struct input_buf *b, size_t n, size_t *have);

/*
 * The next n bytes, in place, reading more as needed (n up to a block's size: the buffer grows
 * to hold it). Nothing is taken. NULL when input ends (or a read fails: b->err) first; *have
 * then says how many bytes there were (0 at a clean end between records). The pointer is good
 * until the next peek.
 */
static inline const uint8_t *input_buf_peek(struct input_buf *b, size_t n, size_t *have)
{
	if (b->len - b->off >= n)
		return b->p + b->off;
	return input_buf_more(b, n, have);
}

/* Takes n bytes (at most what the last peek returned). */
static inline void input_buf_take(struct input_buf *b, size_t n)
{
	b->off += n;
}

/* Takes n bytes whatever their number (a block too large to hold is read past in pieces).
 * 0, or -1 when input ends or a read fails first. */
int input_buf_skip(struct input_buf *b, uint64_t n);

#endif
