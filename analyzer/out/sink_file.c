// SPDX-License-Identifier: Apache-2.0
/*
 * sink_file.c - the file sink: one record per line (the record plus '\n') to a file, or to
 * standard output for "-". Records are collected in a 256 KiB buffer and written with write(2)
 * when it fills, on sink_set_poll() once the oldest buffered record is 100 ms old (so output to
 * a terminal or a pipe keeps streaming), and on close.
 *
 * A record counts as out only once write(2) has taken all its bytes; until then it is pending
 * in the buffer. A write error (EPIPE when the reader went away, ENOSPC, EIO...) is reported
 * once; the records of the buffer that were not written whole, and every record after, are
 * dropped (write_error), and the analyzer goes on (the other sinks still work). SIGPIPE is ignored when it has its default action, so a closed pipe is an EPIPE error
 * and not the end of the process.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "counter.h"
#include "log.h"
#include "sink.h"

#define FILE_SINK_BUF	   (256 * 1024)
#define FILE_SINK_FLUSH_NS (100 * 1000000ull)

PANO_COUNTER(c_file_dropped, "sink_file_dropped", "drop",
	     "records the file/stdout sink lost to a write error, or too big to frame");

struct file_sink {
	struct sink s;
	char *path;
	int fd;
	int own_fd; /* 0 for stdout: not closed by us */
	int broken; /* a write failed; drop everything from now on */
	char *buf;
	size_t used;
	uint64_t buf_recs; /* records in buf (pending) */
	uint64_t first_ns; /* when the oldest buffered record came in */
	uint64_t written;  /* records whose every byte write(2) took (out) */
	uint64_t bytes;
	uint64_t lost;	   /* records dropped because of a write error */
	uint64_t too_big;  /* records over 4 GiB, which a length prefix cannot frame */
	int length_prefixed; /* 4-byte big-endian length before each record, no newline */
};

static uint64_t file_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void file_lose(struct file_sink *f, uint64_t n)
{
	f->lost += n;
	counter_add(&c_file_dropped, n);
}

/* Records that end within the first n bytes of the buffer: each ends with '\n' (JSON lines hold
 * no raw newline), or is a 4-byte big-endian length and that many bytes. */
static uint64_t file_whole_records(const struct file_sink *f, size_t n)
{
	uint64_t recs = 0;
	size_t off = 0;

	if (!f->length_prefixed) {
		const char *p = f->buf, *end = f->buf + n;

		while (p < end && (p = memchr(p, '\n', (size_t)(end - p)))) {
			recs++;
			p++;
		}
		return recs;
	}
	while (off + 4 <= n) {
		const uint8_t *h = (const uint8_t *)f->buf + off;
		size_t len = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];

		if (off + 4 + len > n)
			break;
		off += 4 + len;
		recs++;
	}
	return recs;
}

/* Writes all of p[0..len) to the sink's descriptor, waiting (at most a second at a time) when
 * the descriptor is non-blocking and full. 0, or -errno after reporting the error once;
 * *done (may be NULL) is what was written either way. */
static int file_write_all(struct file_sink *f, const char *p, size_t len, size_t *done)
{
	if (done)
		*done = 0;
	while (len) {
		ssize_t n = write(f->fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pfd = {.fd = f->fd, .events = POLLOUT};

				if (poll(&pfd, 1, 1000) > 0)
					continue;
				errno = EAGAIN;
			}
			int err = errno;

			pr_warn("write %s: %s; dropping further records for this output", f->path,
				strerror(err));
			f->broken = 1;
			return -err;
		}
		p += n;
		len -= (size_t)n;
		f->bytes += (uint64_t)n;
		if (done)
			*done += (size_t)n;
	}
	return 0;
}

/* Writes out the buffer. On error the records written whole are out, the rest lost. */
static int file_flush(struct file_sink *f)
{
	size_t done = 0;
	int err = 0;

	if (!f->used)
		return 0;
	if (!f->broken)
		err = file_write_all(f, f->buf, f->used, &done);
	if (f->broken) {
		uint64_t whole = done ? file_whole_records(f, done) : 0;

		f->written += whole;
		file_lose(f, f->buf_recs - whole);
		err = err ? err : -EIO;
	} else {
		f->written += f->buf_recs;
	}
	f->used = 0;
	f->buf_recs = 0;
	return err;
}

static int file_emit(struct sink *s, const char *topic_proto, const void *key, size_t keylen,
		     const void *rec, size_t len)
{
	struct file_sink *f = (struct file_sink *)s;
	uint8_t head[4];
	size_t hlen = 0, tlen = 1; /* framing: a length before the record, or '\n' after it */

	if (f->length_prefixed) {
		if (len > UINT32_MAX) {
			f->too_big++;
			counter_inc(&c_file_dropped);
			return -EMSGSIZE;
		}
		head[0] = (uint8_t)(len >> 24);
		head[1] = (uint8_t)(len >> 16);
		head[2] = (uint8_t)(len >> 8);
		head[3] = (uint8_t)len;
		hlen = 4;
		tlen = 0;
	}
	if (f->broken) {
		file_lose(f, 1);
		return -EIO;
	}
	size_t need = hlen + len + tlen;
	if (need > FILE_SINK_BUF - f->used && file_flush(f) < 0) {
		file_lose(f, 1);
		return -EIO;
	}
	if (need > FILE_SINK_BUF) {
		/* Bigger than the buffer (which is empty now): straight out. */
		if (file_write_all(f, (const char *)head, hlen, NULL) < 0 ||
		    file_write_all(f, rec, len, NULL) < 0 || file_write_all(f, "\n", tlen, NULL) < 0) {
			file_lose(f, 1);
			return -EIO;
		}
		f->written++;
		return 0;
	}
	if (!f->used)
		f->first_ns = file_now_ns();
	memcpy(f->buf + f->used, head, hlen);
	memcpy(f->buf + f->used + hlen, rec, len);
	if (tlen)
		f->buf[f->used + hlen + len] = '\n';
	f->used += need;
	f->buf_recs++;
	return 0;
}

void sink_file_set_length_prefixed(struct sink *s)
{
	((struct file_sink *)s)->length_prefixed = 1;
}

static void file_poll(struct sink *s)
{
	struct file_sink *f = (struct file_sink *)s;

	if (f->used && file_now_ns() - f->first_ns >= FILE_SINK_FLUSH_NS)
		file_flush(f);
}

/* Flushes what is buffered and closes the file (standard output stays open). -EIO when any
 * record was lost to a write error during the sink's life. */
static int file_close(struct sink *s, int timeout_ms)
{
	struct file_sink *f = (struct file_sink *)s;
	int err = file_flush(f);

	if (f->own_fd && close(f->fd) < 0 && !err) {
		pr_warn("close %s: %s", f->path, strerror(errno));
		err = -errno;
	}
	f->fd = -1;
	free(f->buf);
	f->buf = NULL;
	if (!err && (f->lost || f->too_big))
		err = -EIO;
	return err;
}

static void file_stats(struct sink *s, void (*out)(void *arg, const char *name, uint64_t v),
		       void *arg)
{
	struct file_sink *f = (struct file_sink *)s;

	out(arg, "written", f->written);
	out(arg, "bytes", f->bytes);
	out(arg, "dropped_write_error", f->lost);
}

static void file_tally(struct sink *s, struct sink_tally *t)
{
	struct file_sink *f = (struct file_sink *)s;

	t->out = f->written;
	t->pending = f->buf_recs;
	sink_tally_drop(t, "write_error", f->lost);
	sink_tally_drop(t, "too_big", f->too_big);
}

static void file_free(struct sink *s)
{
	struct file_sink *f = (struct file_sink *)s;

	free(f->buf);
	free(f->path);
	free(f);
}

/* Opens the file sink on path ("-" = standard output; a file is created or truncated). On
 * success *out is a sink ready for sink_set_add(); 0 or -errno (the error is logged). */
int sink_file_open(const char *path, struct sink **out)
{
	struct file_sink *f;
	struct sigaction sa;
	int err;

	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->buf = malloc(FILE_SINK_BUF);
	f->path = strdup(strcmp(path, "-") ? path : "<stdout>");
	if (!f->buf || !f->path) {
		err = -ENOMEM;
		goto fail;
	}
	if (!strcmp(path, "-")) {
		f->fd = STDOUT_FILENO;
	} else {
		f->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (f->fd < 0) {
			err = -errno;
			pr_err("open %s: %s", path, strerror(errno));
			goto fail;
		}
		f->own_fd = 1;
	}
	/* A reader that goes away must become EPIPE, not kill us. */
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);

	f->s.name = "file";
	f->s.emit = file_emit;
	f->s.poll = file_poll;
	f->s.close = file_close;
	f->s.stats = file_stats;
	f->s.tally = file_tally;
	f->s.free = file_free;
	*out = &f->s;
	return 0;
fail:
	file_free(&f->s);
	return err;
}
