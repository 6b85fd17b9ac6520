// SPDX-License-Identifier: Apache-2.0
/*
 * input_pcap.c - reads pcap and pcapng files with libpcap's offline reader, nanosecond
 * timestamps, and passes every frame to the decoder. libpcap reports DLT values; they are turned
 * back into the LINKTYPE values of the file format that the decoder speaks.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counter.h"
#include "decode.h"
#include "input.h"
#include "log.h"
#include "pano/pcap.h"

#define INPUT_POLL_EVERY 4096
#define INPUT_FILE_BUF	 (256 * 1024) /* stdio buffer of a capture file */

PANO_COUNTER(c_pcap_read_err, "pcap_read_error", "drop", "pcap files that ended in a read error");

const char *input_local_node;
static struct pano_source input_pcap_source = {.id = 0, .node = NULL};

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

/*
 * pcap_open_offline_with_tstamp_precision() on a FILE of our own with a large buffer (*buf, to
 * free after pcap_close(), which closes the FILE): libpcap reads each record with two fread()
 * calls, and stdio's default buffer (the file system's block, 4 KiB) would make one read(2) per
 * 4 KiB of capture. Without memory for the buffer the FILE keeps stdio's. The error text is
 * libpcap's.
 */
static pcap_t *input_pcap_open_file(const char *path, char *errbuf, char **buf)
{
	FILE *fp = fopen(path, "rb");
	pcap_t *p;

	*buf = NULL;
	if (!fp) {
		snprintf(errbuf, PCAP_ERRBUF_SIZE, "%s: %s", path, strerror(errno));
		return NULL;
	}
	*buf = malloc(INPUT_FILE_BUF);
	if (*buf && setvbuf(fp, *buf, _IOFBF, INPUT_FILE_BUF) != 0) {
		free(*buf);
		*buf = NULL;
	}
	p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!p) {
		fclose(fp);
		free(*buf);
		*buf = NULL;
	}
	return p;
}

int input_pcap_read(const char *path, const struct input_hooks *h)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	char *fbuf = NULL;
	pcap_t *p;
	int is_stdin = strcmp(path, "-") == 0;

	if (is_stdin)
		p = pcap_fopen_offline_with_tstamp_precision(stdin, PCAP_TSTAMP_PRECISION_NANO,
							     errbuf);
	else
		p = input_pcap_open_file(path, errbuf, &fbuf);
	if (!p) {
		pr_err("pcap_open_offline %s: %s", path, errbuf);
		return -EINVAL;
	}
	input_pcap_source.node = input_local_node;
	struct pano_frame f = {.src = &input_pcap_source, .meta = {.iface = NULL, .dir = -1}};
	f.linktype = input_dlt_to_linktype(pcap_datalink(p));
	pr_info("reading %s (link type %d)", path, f.linktype);

	struct pcap_pkthdr *hdr;
	const u_char *data;
	int rc, ret = 0;
	unsigned long n = 0;
	while (!*h->stop && (rc = pcap_next_ex(p, &hdr, &data)) >= 0) {
		if (rc == 0)
			continue;
		f.ts_ns = (uint64_t)hdr->ts.tv_sec * 1000000000ull + (uint64_t)hdr->ts.tv_usec;
		f.data = data;
		f.caplen = hdr->caplen;
		f.len = hdr->len;
		decode_frame(&f);
		if (++n % INPUT_POLL_EVERY == 0 && h->poll)
			h->poll(h->arg);
	}
	if (!*h->stop && rc == PCAP_ERROR) {
		/* A file cut mid-record: what came before was used; count and report it. */
		counter_inc(&c_pcap_read_err);
		pr_warn("pcap_next_ex %s: %s", path, pcap_geterr(p));
	}
	pcap_close(p);
	free(fbuf);
	return ret;
}
