// SPDX-License-Identifier: Apache-2.0
/*
 * pcap_loop.c - the floor for the analyzer benchmark, and a counting PCAP-over-TCP reader for the
 * agent benchmark: a bare libpcap pcap_next_ex loop over a file (or "-" for standard input, which
 * may be a TCP stream). It touches every frame (sums one byte of each, so the loop cannot be
 * optimised away) and prints at end of input:
 *
 *   packets N bytes N caplen_bytes N sum N
 *
 * A file is read through a FILE with a 256 KiB buffer, as pano-analyzer reads its files
 * (analyzer/input_pcap.c), so the floor and the analyzer pay the same for read(2). Standard input
 * gets the same buffer: stdio's default for a socket is 4 KiB, a read(2) per 4 KiB, which made the
 * reader of the agent benchmark cost twice the agent it measures.
 *
 * Exit 0 at end of input, 1 when the input cannot be opened or is corrupt, 2 on bad usage.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define LOOP_FILE_BUF (256u << 10)

/* The file (or "-", standard input) through a FILE with LOOP_FILE_BUF bytes of buffer. */
static pcap_t *loop_open(const char *path, char *errbuf)
{
	static char buf[LOOP_FILE_BUF];
	FILE *fp;
	pcap_t *p;

	fp = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!fp) {
		snprintf(errbuf, PCAP_ERRBUF_SIZE, "fopen: %s", strerror(errno));
		return NULL;
	}
	if (setvbuf(fp, buf, _IOFBF, sizeof(buf)) != 0) {
		snprintf(errbuf, PCAP_ERRBUF_SIZE, "setvbuf: %s", strerror(errno));
		if (fp != stdin)
			fclose(fp);
		return NULL;
	}
	p = pcap_fopen_offline(fp, errbuf);
	if (!p)
		fclose(fp);
	return p;
}

int main(int argc, char **argv)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *hdr;
	const unsigned char *data;
	uint64_t packets = 0, bytes = 0, capbytes = 0;
	unsigned int touch = 0;
	pcap_t *p;
	int rc;

	if (argc != 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fprintf(argc == 2 ? stdout : stderr, "usage: pcap_loop FILE|-\n");
		return argc == 2 ? 0 : 2;
	}
	p = loop_open(argv[1], errbuf);
	if (!p) {
		fprintf(stderr, "pcap_loop: pcap_open_offline %s: %s\n", argv[1], errbuf);
		return 1;
	}
	while ((rc = pcap_next_ex(p, &hdr, &data)) == 1) {
		packets++;
		bytes += hdr->len;
		capbytes += hdr->caplen;
		if (hdr->caplen)
			touch += data[hdr->caplen - 1];
	}
	if (rc == PCAP_ERROR) {
		fprintf(stderr, "pcap_loop: pcap_next_ex after %llu packets: %s\n",
			(unsigned long long)packets, pcap_geterr(p));
		pcap_close(p);
		return 1;
	}
	pcap_close(p);
	printf("packets %llu bytes %llu caplen_bytes %llu sum %u\n", (unsigned long long)packets,
	       (unsigned long long)bytes, (unsigned long long)capbytes, touch);
	return 0;
}
