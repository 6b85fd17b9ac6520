/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pcap_fmt.h - the classic pcap format as both of its readers see it: files (input_pcap.c)
 * and PCAP-over-TCP streams (input_pot.c). The global header's magic gives the byte order,
 * the time resolution and the record header's size:
 *
 *   0xa1b2c3d4  microseconds            (tcpdump, libpcap, Zeek)
 *   0xa1b23c4d  nanoseconds
 *   0xa1b2cd34  microseconds, records of 24 bytes (Alexey Kuznetsov's patched libpcap)
 *
 * each also byte-swapped. Version 2.0 to 2.4; before 2.3 some writers swapped caplen and len
 * (libpcap's rule: always before 2.3, when caplen > len in 2.3). The link type is the file's
 * LINKTYPE_ value (its low 26 bits; the FCS bits above are dropped), which is what the decoder
 * speaks. Seconds are unsigned 32-bit (up to 2106).
 */
#ifndef PANO_PCAP_FMT_H
#define PANO_PCAP_FMT_H

#include <stdbool.h>
#include <stdint.h>

#include "cursor.h"

#define PCAP_FMT_GLOBAL	    24		 /* bytes of the global header */
#define PCAP_FMT_MAX_CAPLEN (256u << 10) /* a record longer than this cannot be right */

struct pcap_fmt {
	bool swap;	    /* fields are in the other byte order */
	bool nsec;	    /* ts_frac is nanoseconds */
	uint8_t lens_swap;  /* 0 never, 1 always, 2 when caplen > len */
	unsigned rec_len;   /* bytes of a record header: 16, or 24 (Kuznetsov) */
	uint16_t major, minor;
	uint32_t snaplen;   /* 0 or over PCAP_FMT_MAX_CAPLEN taken as PCAP_FMT_MAX_CAPLEN */
	uint32_t linktype;
};

enum pcap_fmt_err {
	PCAP_FMT_OK = 0,
	PCAP_FMT_MAGIC = -1,   /* not a classic pcap magic */
	PCAP_FMT_VERSION = -2, /* a version other than 2.0-2.4 */
};

/* Parses a global header (PCAP_FMT_GLOBAL bytes at p). PCAP_FMT_OK with f filled, else why
 * not (f->major and f->minor say the version found). */
enum pcap_fmt_err pcap_fmt_parse(const uint8_t *p, struct pcap_fmt *f);

struct pcap_fmt_rec {
	uint64_t ts_ns;
	uint32_t caplen, len;
};

/* Parses a record header (f->rec_len bytes at p). */
static inline void pcap_fmt_rec(const struct pcap_fmt *f, const uint8_t *p, struct pcap_fmt_rec *r)
{
	struct cursor c = cursor_init(p, 16);
	uint32_t sec = f->swap ? cur_u32(&c) : cur_u32_le(&c);
	uint32_t frac = f->swap ? cur_u32(&c) : cur_u32_le(&c);
	uint32_t caplen = f->swap ? cur_u32(&c) : cur_u32_le(&c);
	uint32_t len = f->swap ? cur_u32(&c) : cur_u32_le(&c);

	if (f->lens_swap == 1 || (f->lens_swap == 2 && caplen > len)) {
		uint32_t t = caplen;
		caplen = len;
		len = t;
	}
	r->ts_ns = (uint64_t)sec * 1000000000ull + (f->nsec ? frac : (uint64_t)frac * 1000);
	r->caplen = caplen;
	r->len = len;
}

#endif
