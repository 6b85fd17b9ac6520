// SPDX-License-Identifier: Apache-2.0
/*
 * input_pcap.c - reads capture files. The first four bytes tell the format: pcapng goes to our
 * own block reader (input_pcapng.c: libpcap cannot read a file whose interfaces differ in link
 * type, nor hand over per-packet options); classic pcap goes to libpcap's offline reader with
 * nanosecond timestamps. libpcap reports DLT values; they are turned back into the LINKTYPE
 * values of the file format that the decoder speaks.
 *
 * Classic pcap seconds are unsigned 32-bit (up to 2106); libpcap 1.10 hands them back through
 * a signed tv_sec, negative from 2038 on, so they are taken as the 32 bits they are.
 *
 * A file that breaks off inside a record, or whose next record header cannot be right, keeps
 * the frames before it: the damage is counted, reported on one line, and the read returns
 * INPUT_DAMAGED.
 */
#include <errno.h>
#include <poll.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/types.h>

#include "counter.h"
#include "decode.h"
#include "input.h"
#include "input_file.h"
#include "log.h"
#include "pano/pcap.h"

#define INPUT_FILE_BUF	   (256 * 1024) /* stdio buffer of a capture file */
#define INPUT_PCAPNG_MAGIC 0x0a0d0d0au	/* block type of a Section Header Block */

PANO_COUNTER(c_pcap_read_err, "pcap_read_error", "drop",
	     "capture files that ended in a read error");
PANO_COUNTER(c_file_truncated, "capture_file_truncated", "drop",
	     "capture files that end inside a record or block (the frames before it were read)");
PANO_COUNTER(c_file_corrupt, "capture_file_corrupt", "weird",
	     "capture files whose reading stopped at a record or block header that cannot be "
	     "right (the frames before it were read)");

const char *input_local_node;
static struct pano_source input_pcap_source = {.id = 0, .node = NULL};

const struct pano_source *input_file_source(void)
{
	input_pcap_source.node = input_local_node;
	return &input_pcap_source;
}

void input_before_read(int fd, const struct input_hooks *h)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	if (!h || !h->poll)
		return;
	/* wait for the bytes here, serving the hooks every INPUT_IDLE_MS meanwhile (the sinks
	 * flush what waited 100 ms), rather than in a read that would hold everything back */
	for (int ms = 0; !*h->stop; ms = INPUT_IDLE_MS) {
		if (poll(&pfd, 1, ms) != 0)
			return; /* data, end of input or an error: the read tells which */
		h->poll(h->arg);
	}
}

void input_file_damaged(const char *path, enum input_damage kind, unsigned long frames,
			const char *why)
{
	counter_inc(kind == INPUT_TRUNCATED ? &c_file_truncated : &c_file_corrupt);
	pr_warn("%s: %s after %lu frames (%s); the frames before it were read, exit status will be "
		"3",
		path, kind == INPUT_TRUNCATED ? "truncated" : "corrupt", frames, why);
}

/* DLT (what libpcap reports) to LINKTYPE (what the file holds); most values are equal. */
static int input_dlt_to_linktype(int dlt)
{
	switch (dlt) {
	case DLT_RAW:
#ifdef DLT_RAW_OPENBSD
	case 14:
#endif
		return PCAP_LINKTYPE_RAW;
	default:
		return dlt;
	}
}

/* A FILE that yields head[0..nhead) and then the rest of fp: libpcap reads the magic itself,
 * and a pipe cannot be wound back. fp is unbuffered (input_open_buffering): its bytes are read
 * with read(2), which hands over what a live pipe has now, where fread would wait until the
 * whole request (libpcap's 256 KiB buffer) was filled. */
struct input_prefixed {
	FILE *fp;
	const struct input_hooks *h;
	uint8_t head[4];
	size_t nhead, off;
};

static ssize_t input_prefixed_read(void *cookie, char *buf, size_t size)
{
	struct input_prefixed *p = cookie;
	size_t n = 0;

	while (p->off < p->nhead && n < size)
		buf[n++] = (char)p->head[p->off++];
	if (n < size) {
		ssize_t k;

		if (!n)
			input_before_read(fileno(p->fp), p->h);
		do
			k = read(fileno(p->fp), buf + n, size - n);
		while (k < 0 && errno == EINTR);
		if (k < 0)
			return n ? (ssize_t)n : -1;
		n += (size_t)k;
	}
	return (ssize_t)n;
}

static int input_prefixed_close(void *cookie)
{
	struct input_prefixed *p = cookie;
	int rc = p->fp == stdin ? 0 : fclose(p->fp);

	free(p);
	return rc;
}

/*
 * The classic pcap file on fp, of which head[0..4) was read already, opened with libpcap: fp
 * is wound back when it can seek, else wrapped in a FILE that gives the four bytes back. NULL
 * (errbuf says why) on failure; fp is closed then (unless it is stdin). On success, closing
 * the pcap_t closes fp.
 */
static pcap_t *input_pcap_open(FILE *fp, long pos0, const uint8_t *head,
				const struct input_hooks *h, char *errbuf)
{
	FILE *in = fp;
	pcap_t *p;

	if (pos0 < 0 || fseek(fp, pos0, SEEK_SET) != 0) {
		static const cookie_io_functions_t io = {.read = input_prefixed_read,
							 .close = input_prefixed_close};
		struct input_prefixed *pp = calloc(1, sizeof(*pp));

		if (pp) {
			pp->fp = fp;
			pp->h = h;
			memcpy(pp->head, head, 4);
			pp->nhead = 4;
			in = fopencookie(pp, "rb", io);
		}
		if (!pp || !in) {
			snprintf(errbuf, PCAP_ERRBUF_SIZE, "fopencookie: %s", strerror(errno));
			free(pp);
			if (fp != stdin)
				fclose(fp);
			return NULL;
		}
		setvbuf(in, NULL, _IOFBF, INPUT_FILE_BUF);
	}
	p = pcap_fopen_offline_with_tstamp_precision(in, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!p && (in != stdin))
		fclose(in);
	return p;
}

/* Reads the classic pcap file behind p to its end. 0, INPUT_DAMAGED or -EIO. */
static int input_pcap_loop(pcap_t *p, const char *path, const struct input_hooks *h)
{
	struct pano_frame f = {.src = input_file_source(), .meta = {.iface = NULL, .dir = -1}};
	struct pcap_pkthdr *hdr;
	const u_char *data;
	unsigned long n = 0;
	int rc;

	f.linktype = input_dlt_to_linktype(pcap_datalink(p));
	pr_info("reading %s (pcap, link type %d)", path, f.linktype);
	while (!*h->stop && (rc = pcap_next_ex(p, &hdr, &data)) >= 0) {
		if (rc == 0)
			continue;
		/* Seconds are an unsigned 32-bit field in the file; tv_usec holds nanoseconds. */
		f.ts_ns = (uint64_t)(uint32_t)hdr->ts.tv_sec * 1000000000ull +
			  (uint64_t)(uint32_t)hdr->ts.tv_usec;
		f.data = data;
		f.caplen = hdr->caplen;
		f.len = hdr->len; /* below caplen: counted and raised by the decoder */
		decode_frame(h->eng, &f);
		if (++n % INPUT_POLL_EVERY == 0 && h->poll)
			h->poll(h->arg);
	}
	if (*h->stop || rc != PCAP_ERROR)
		return 0;
	/* libpcap says what went wrong only in words: a short read is "truncated dump file",
	 * an I/O error "error reading dump file", anything else is a header it refused. */
	const char *err = pcap_geterr(p);
	if (strstr(err, "error reading")) {
		counter_inc(&c_pcap_read_err);
		pr_err("pcap_next_ex %s: %s", path, err);
		return -EIO;
	}
	input_file_damaged(path, strstr(err, "truncated") ? INPUT_TRUNCATED : INPUT_CORRUPT, n,
			   err);
	return INPUT_DAMAGED;
}

int input_pcap_read(const char *path, const struct input_hooks *h)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	char *fbuf = NULL;
	uint8_t head[4];
	FILE *fp;
	pcap_t *p;
	long pos0;
	int ret;

	if (!strcmp(path, "-")) {
		fp = stdin;
	} else {
		fp = fopen(path, "rb");
		if (!fp) {
			pr_err("fopen %s: %s", path, strerror(errno));
			return -errno;
		}
	}
	if (lseek(fileno(fp), 0, SEEK_CUR) < 0 && errno == ESPIPE) {
		/* a pipe or FIFO (a live capture: pano-agent --stdout | ...): unbuffered, so that
		 * every record is handed on as soon as its bytes are there (input_prefixed_read) */
		setvbuf(fp, NULL, _IONBF, 0);
	} else {
		/* libpcap reads each record with two fread() calls: a large buffer makes one
		 * read(2) per 256 KiB instead of one per 4 KiB block. */
		fbuf = fp == stdin ? NULL : malloc(INPUT_FILE_BUF);
		if (fp == stdin)
			setvbuf(fp, NULL, _IOFBF, INPUT_FILE_BUF);
		else if (fbuf && setvbuf(fp, fbuf, _IOFBF, INPUT_FILE_BUF) != 0) {
			free(fbuf);
			fbuf = NULL;
		}
	}
	pos0 = ftell(fp);
	size_t got = fread(head, 1, sizeof(head), fp);
	if (got < sizeof(head)) {
		if (ferror(fp))
			pr_err("fread %s: %s", path, strerror(errno));
		else
			pr_err("%s: not a pcap or pcapng file (%zu bytes)", path, got);
		ret = ferror(fp) ? -EIO : -EINVAL;
		if (fp != stdin)
			fclose(fp);
		free(fbuf);
		return ret;
	}
	uint32_t magic = (uint32_t)head[0] << 24 | head[1] << 16 | head[2] << 8 | head[3];
	if (magic == INPUT_PCAPNG_MAGIC) {
		ret = input_pcapng_read(fp, path, head, sizeof(head), h);
		if (fp != stdin)
			fclose(fp);
		free(fbuf);
		return ret;
	}
	p = input_pcap_open(fp, pos0, head, h, errbuf);
	if (!p) {
		pr_err("pcap_open_offline %s: %s", path, errbuf);
		free(fbuf);
		return -EINVAL;
	}
	ret = input_pcap_loop(p, path, h);
	pcap_close(p);
	free(fbuf);
	return ret;
}
