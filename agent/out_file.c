// SPDX-License-Identifier: Apache-2.0
/*
 * out_file.c - pcap or pcapng files (--write FILE, rotated by --rotate-size / --rotate-seconds)
 * and pcap or pcapng on standard output (--stdout). Records are buffered and written out after
 * each batch read from the ring (out_file_flush), so a reader such as `tcpdump -r -` sees
 * frames promptly. pcapng (out_pcapng.c) adds an interface block before the first frame of
 * each interface in each file, and the direction and the sender to every frame.
 *
 * Rotation naming: the file being written is always FILE; a finished file is renamed FILE.1,
 * then FILE.2, ... (the numbers only grow, so the highest number is the newest finished file;
 * a restart continues after the highest FILE.N that exists instead of overwriting it).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture_api.h"
#include "counter.h"
#include "log.h"
#include "output.h"
#include "who.h"

#define OUT_FILE_BUF (256u << 10)

PANO_COUNTER(c_out_file_errors, "agent_file_write_errors", "drop",
	     "records lost because writing a pcap file or stdout failed");
PANO_COUNTER(c_out_file_rotations, "agent_file_rotations", "event", "pcap files rotated");

struct out_file {
	char *path;	  /* NULL for a descriptor we were given */
	const char *name; /* for messages and metrics */
	int fd;
	int broken; /* a permanent error (EPIPE): drop everything from now on */
	struct out_file_opts o;
	uint8_t ghdr[PCAPNG_SHB_MAX]; /* the file header: pcap global header or pcapng SHB */
	size_t ghdr_len;
	struct pcapng_ifs *ifs;		  /* pcapng: the interfaces and their blocks */
	char comment[PCAPNG_COMMENT_MAX]; /* pcapng: the record's comment */
	uint8_t *buf;
	size_t blen;
	uint64_t file_bytes; /* bytes in the current file, header included */
	uint64_t file_records;
	uint64_t opened_at; /* now() when the current file started */
	uint64_t seq;	    /* last FILE.N used */
	uint64_t rotations;
	struct out_stats stats;
};

static uint64_t out_file_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* Writes all of p, waiting when the descriptor is non-blocking. 0 or -errno. */
static int out_file_write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pfd = {.fd = fd, .events = POLLOUT};
				poll(&pfd, 1, 1000);
				continue;
			}
			return -errno;
		}
		p += w;
		n -= w;
	}
	return 0;
}

/* Writes the buffer out; on failure the buffered bytes are gone (their records were counted
 * as sent when queued, so they are moved to dropped here by the caller's error path). */
static int out_file_drain(struct out_file *f)
{
	if (!f->blen)
		return 0;
	int err = out_file_write_all(f->fd, f->buf, f->blen);
	f->blen = 0;
	return err;
}

/* The file header goes first into the (empty) buffer; a pcapng section has no interface
 * blocks yet. */
static void out_file_header(struct out_file *f)
{
	memcpy(f->buf, f->ghdr, f->ghdr_len);
	f->blen = f->ghdr_len;
	f->file_bytes = f->ghdr_len;
	f->file_records = 0;
	if (f->ifs)
		pcapng_ifs_new_section(f->ifs);
}

/* Opens FILE fresh and writes the global header. 0 or -errno. */
static int out_file_start(struct out_file *f)
{
	f->fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (f->fd < 0) {
		int err = -errno;
		pr_err("open %s: %s", f->path, strerror(errno));
		return err;
	}
	out_file_header(f);
	f->opened_at = f->o.now();
	return 0;
}

/* Closes the current file, renames it FILE.<seq+1> and starts a new FILE. 0 or -errno. */
static int out_file_rotate(struct out_file *f)
{
	char dst[PATH_MAX];
	int err = out_file_drain(f);

	if (err)
		pr_err("write %s: %s", f->path, strerror(-err));
	if (close(f->fd))
		pr_err("close %s: %s", f->path, strerror(errno));
	f->fd = -1;
	snprintf(dst, sizeof(dst), "%s.%llu", f->path, (unsigned long long)(f->seq + 1));
	if (rename(f->path, dst)) {
		pr_err("rename %s to %s: %s", f->path, dst, strerror(errno));
	} else {
		f->seq++;
		__atomic_fetch_add(&f->rotations, 1, __ATOMIC_RELAXED);
		counter_inc(&c_out_file_rotations);
		pr_info("rotated %s to %s", f->path, dst);
	}
	return out_file_start(f);
}

static struct out_file *out_file_alloc(const struct out_file_opts *o)
{
	struct out_file *f = calloc(1, sizeof(*f));

	if (!f || !(f->buf = malloc(OUT_FILE_BUF))) {
		pr_err("out_file: malloc: %s", strerror(ENOMEM));
		free(f);
		return NULL;
	}
	f->o = *o;
	if (!f->o.now)
		f->o.now = out_file_mono;
	f->fd = -1;
	if (o->format == OUT_PCAPNG) {
		f->ghdr_len = pcapng_encode_shb(f->ghdr);
		if (!(f->ifs = pcapng_ifs_new())) {
			pr_err("out_file: malloc: %s", strerror(ENOMEM));
			free(f->buf);
			free(f);
			return NULL;
		}
	} else {
		pcap_encode_global(f->ghdr, o->snaplen, o->nsec);
		f->ghdr_len = PCAP_GHDR_LEN;
	}
	return f;
}

static void out_file_free(struct out_file *f)
{
	pcapng_ifs_free(f->ifs);
	free(f->path);
	free(f->buf);
	free(f);
}

struct out_file *out_file_open(const char *path, const struct out_file_opts *o)
{
	struct out_file *f = out_file_alloc(o);
	char probe[PATH_MAX];
	struct stat st;

	if (!f)
		return NULL;
	f->path = strdup(path);
	f->name = f->path;
	if (!f->path || strlen(path) + 24 > sizeof(probe)) {
		pr_err("out_file: bad path %s", path);
		goto fail;
	}
	/* Continue numbering after the files a previous run left. */
	for (;;) {
		snprintf(probe, sizeof(probe), "%s.%llu", path, (unsigned long long)(f->seq + 1));
		if (stat(probe, &st))
			break;
		f->seq++;
	}
	if (out_file_start(f))
		goto fail;
	return f;
fail:
	out_file_free(f);
	return NULL;
}

struct out_file *out_file_fdopen(int fd, const char *name, const struct out_file_opts *o)
{
	struct out_file *f = out_file_alloc(o);

	if (!f)
		return NULL;
	f->o.rotate_bytes = f->o.rotate_seconds = 0;
	f->fd = fd;
	f->name = name;
	out_file_header(f);
	return f;
}

/* Rotation by age: a file that is due and holds records is rotated; an empty one restarts
 * its clock instead (no empty files during quiet periods). */
static int out_file_age_check(struct out_file *f)
{
	if (!f->path || !f->o.rotate_seconds)
		return 0;
	if (f->o.now() - f->opened_at < f->o.rotate_seconds)
		return 0;
	if (!f->file_records) {
		f->opened_at = f->o.now();
		return 0;
	}
	return out_file_rotate(f);
}

/* Counts an output failure: the bytes lost and a message once per kind of error. */
static void out_file_failed(struct out_file *f, int err, uint64_t bytes)
{
	counter_inc(&c_out_file_errors);
	out_stats_drop(&f->stats, bytes);
	if (err == -EPIPE && !f->broken) {
		f->broken = 1;
		pr_warn("%s: reader went away (EPIPE); dropping its records from now on", f->name);
	} else if (err != -EPIPE) {
		pr_err("write %s: %s", f->name, strerror(-err));
	}
}

/*
 * pcapng: the interface block that rec's interface still needs in the current file, encoded
 * into idb; returns its size, or 0 when the file has one (its id in *ifid).
 */
static size_t out_file_idb(struct out_file *f, const struct pano_rec *rec,
			   uint8_t idb[PCAPNG_IDB_MAX], uint32_t *ifid)
{
	const char *name;
	int id;

	if (!f->ifs)
		return 0;
	id = pcapng_ifs_lookup(f->ifs, (int)rec->ifindex, &name);
	if (id >= 0) {
		*ifid = (uint32_t)id;
		return 0;
	}
	return pcapng_encode_idb(idb, name, f->o.snaplen, f->o.nsec);
}

/*
 * A record's bytes (pcap header or pcapng block, frame) are what its accounting counts; an
 * interface block it needs first counts towards the file's size (rotation) but, like the file
 * header, not towards sent bytes.
 */
int out_file_write(struct out_file *f, const struct pano_rec *rec, const uint8_t *frame,
		   const struct who_pod *pod)
{
	uint8_t idb[PCAPNG_IDB_MAX];
	size_t clen = 0, ilen;
	uint32_t ifid = 0;
	uint64_t n;
	int err;

	if (f->ifs) {
		clen = pcapng_comment(f->comment, rec, pod);
		n = pcapng_epb_len(rec->caplen, clen);
	} else {
		n = PCAP_RHDR_LEN + (uint64_t)rec->caplen;
	}
	if (f->broken || f->fd < 0) {
		out_stats_drop(&f->stats, n);
		counter_inc(&c_out_file_errors);
		return -EPIPE;
	}
	if (n + PCAPNG_IDB_MAX > OUT_FILE_BUF) { /* never: caplen <= PANO_SNAPLEN_MAX */
		out_stats_drop(&f->stats, n);
		return -EMSGSIZE;
	}
	err = out_file_age_check(f);
	ilen = err ? 0 : out_file_idb(f, rec, idb, &ifid);
	if (!err && f->path && f->o.rotate_bytes && f->file_records &&
	    f->file_bytes + ilen + n > f->o.rotate_bytes) {
		err = out_file_rotate(f);
		ilen = err ? 0 : out_file_idb(f, rec, idb, &ifid); /* a new file: a new block */
	}
	if (!err && f->blen + ilen + n > OUT_FILE_BUF)
		err = out_file_drain(f);
	if (err || f->fd < 0) {
		out_file_failed(f, err ? err : -EBADF, n);
		return err ? err : -EBADF;
	}
	if (ilen) {
		memcpy(f->buf + f->blen, idb, ilen);
		f->blen += ilen;
		f->file_bytes += ilen;
		ifid = pcapng_ifs_assign(f->ifs, (int)rec->ifindex);
	}
	if (f->ifs) {
		pcapng_encode_epb(f->buf + f->blen, ifid, rec, frame, f->comment, clen, f->o.nsec);
	} else {
		pcap_encode_record(f->buf + f->blen, rec->ts_ns, rec->caplen, rec->len, f->o.nsec);
		memcpy(f->buf + f->blen + PCAP_RHDR_LEN, frame, rec->caplen);
	}
	f->blen += n;
	f->file_bytes += n;
	f->file_records++;
	out_stats_sent(&f->stats, n);
	return 0;
}

int out_file_flush(struct out_file *f)
{
	if (f->broken || f->fd < 0)
		return -EPIPE;
	size_t lost = f->blen;
	int err = out_file_drain(f);
	if (err) {
		out_file_failed(f, err, lost);
		return err;
	}
	err = out_file_age_check(f);
	if (!err)
		err = out_file_drain(f);
	return err;
}

void out_file_iface_add(struct out_file *f, int ifindex, const char *name)
{
	if (f->ifs)
		pcapng_ifs_set(f->ifs, ifindex, name);
}

void out_file_iface_del(struct out_file *f, int ifindex)
{
	if (f->ifs)
		pcapng_ifs_gone(f->ifs, ifindex);
}

enum out_format out_file_format(const struct out_file *f)
{
	return f->o.format;
}

uint64_t out_file_rotations(const struct out_file *f)
{
	return __atomic_load_n(&f->rotations, __ATOMIC_RELAXED);
}

const struct out_stats *out_file_stats(const struct out_file *f)
{
	return &f->stats;
}

const char *out_file_name(const struct out_file *f)
{
	return f->name;
}

void out_file_close(struct out_file *f)
{
	if (!f)
		return;
	if (f->fd >= 0 && !f->broken) {
		int err = out_file_drain(f);
		if (err)
			pr_err("write %s: %s", f->name, strerror(-err));
	}
	if (f->fd >= 0 && close(f->fd))
		pr_err("close %s: %s", f->name, strerror(errno));
	out_file_free(f);
}
