// SPDX-License-Identifier: Apache-2.0
/*
 * input_pcap.c - reads capture files. The first four bytes tell the format: pcapng goes to its
 * block reader (input_pcapng.c), classic pcap is read here (pcap_fmt.h: both byte orders,
 * micro- and nanosecond magics, Kuznetsov's longer records). Both parse records where they
 * lie in the input buffer (input_buf.h): no copy and no stdio call per record, which libpcap's
 * offline reader makes two of (it was a tenth of the analyzer's time on a DNS capture).
 *
 * A file that breaks off inside a record, or whose next record header cannot be right (a
 * captured length over 256 KiB), keeps the frames before it: the damage is counted, reported
 * on one line, and the read returns INPUT_DAMAGED.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "counter.h"
#include "decode.h"
#include "input.h"
#include "input_file.h"
#include "log.h"
#include "pcap_fmt.h"

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

int input_file_read_error(const char *path, int err)
{
	counter_inc(&c_pcap_read_err);
	pr_err("read %s: %s", path, strerror(err));
	return -EIO;
}

/* Reads the classic pcap file in b, from its global header to its end. 0, INPUT_DAMAGED,
 * -EINVAL (no pcap header we read) or -EIO. */
static int input_pcap_classic(struct input_buf *b, const char *path, const struct input_hooks *h)
{
	struct pano_frame f = {.src = input_file_source(), .meta = {.iface = NULL, .dir = -1}};
	struct pcap_fmt fmt;
	struct pcap_fmt_rec rec;
	const uint8_t *p;
	unsigned long n = 0;
	size_t have = 0;
	char why[96];

	p = input_buf_peek(b, PCAP_FMT_GLOBAL, &have);
	if (!p) {
		if (b->err)
			return input_file_read_error(path, b->err);
		pr_err("%s: a pcap file header of %zu bytes (%d needed)", path, have, PCAP_FMT_GLOBAL);
		return -EINVAL;
	}
	switch (pcap_fmt_parse(p, &fmt)) {
	case PCAP_FMT_OK:
		break;
	case PCAP_FMT_VERSION:
		pr_err("%s: pcap version %u.%u (2.0 to 2.4 are read)", path, fmt.major, fmt.minor);
		return -EINVAL;
	default:
		pr_err("%s: not a pcap or pcapng file (magic %02x%02x%02x%02x)", path, p[0], p[1],
		       p[2], p[3]);
		return -EINVAL;
	}
	input_buf_take(b, PCAP_FMT_GLOBAL);
	f.linktype = (int)fmt.linktype;
	pr_info("reading %s (pcap, link type %d)", path, f.linktype);
	while (!*h->stop) {
		p = input_buf_peek(b, fmt.rec_len, &have);
		if (!p) {
			if (!have && !b->err)
				return 0;
			goto short_read;
		}
		pcap_fmt_rec(&fmt, p, &rec);
		if (rec.caplen > PCAP_FMT_MAX_CAPLEN) {
			snprintf(why, sizeof(why), "a record of %u captured bytes", rec.caplen);
			input_file_damaged(path, INPUT_CORRUPT, n, why);
			return INPUT_DAMAGED;
		}
		/* Past the file's snaplen the bytes are dropped, as libpcap does: some writers
		 * (Solaris bufmod, Linux cutting a GSO frame) set a snaplen they did not keep. */
		uint32_t keep = rec.caplen < fmt.snaplen ? rec.caplen : fmt.snaplen;
		p = input_buf_peek(b, fmt.rec_len + keep, &have);
		if (!p)
			goto short_read;
		f.ts_ns = rec.ts_ns;
		f.data = p + fmt.rec_len;
		f.caplen = keep;
		f.len = rec.len; /* below caplen: counted and raised by the decoder */
		decode_frame(h->eng, &f);
		input_buf_take(b, fmt.rec_len + keep);
		if (keep < rec.caplen && input_buf_skip(b, rec.caplen - keep))
			goto short_read;
		if (++n % INPUT_POLL_EVERY == 0 && h->poll)
			h->poll(h->arg);
	}
	return 0;
short_read:
	if (b->err)
		return input_file_read_error(path, b->err);
	input_file_damaged(path, INPUT_TRUNCATED, n, "the file ends inside a record");
	return INPUT_DAMAGED;
}

int input_pcap_read(const char *path, const struct input_hooks *h)
{
	struct input_buf b;
	const uint8_t *m;
	size_t have = 0;
	int ret = input_buf_open(&b, path, h);

	if (ret)
		return ret;
	m = input_buf_peek(&b, 4, &have);
	if (!m) {
		if (b.err) {
			ret = input_file_read_error(path, b.err);
		} else {
			pr_err("%s: not a pcap or pcapng file (%zu bytes)", path, have);
			ret = -EINVAL;
		}
		input_buf_close(&b);
		return ret;
	}
	uint32_t magic = (uint32_t)m[0] << 24 | m[1] << 16 | m[2] << 8 | m[3];
	if (magic == INPUT_PCAPNG_MAGIC)
		ret = input_pcapng_read(&b, path, h);
	else
		ret = input_pcap_classic(&b, path, h);
	input_buf_close(&b);
	return ret;
}
