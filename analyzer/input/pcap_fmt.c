// SPDX-License-Identifier: Apache-2.0
/*
 * pcap_fmt.c - the classic pcap global header (pcap_fmt.h).
 */
#include "pano/pcap.h"
#include "pcap_fmt.h"

#define PCAP_MAGIC_KUZNETSOV 0xa1b2cd34u

enum pcap_fmt_err pcap_fmt_parse(const uint8_t *p, struct pcap_fmt *f)
{
	struct cursor c = cursor_init(p, PCAP_FMT_GLOBAL);
	uint32_t magic = cur_u32_le(&c);

	*f = (struct pcap_fmt){.rec_len = 16};
	if (magic != PCAP_MAGIC_USEC && magic != PCAP_MAGIC_NSEC && magic != PCAP_MAGIC_KUZNETSOV) {
		magic = __builtin_bswap32(magic);
		f->swap = true;
	}
	if (magic == PCAP_MAGIC_NSEC)
		f->nsec = true;
	else if (magic == PCAP_MAGIC_KUZNETSOV)
		f->rec_len = 24;
	else if (magic != PCAP_MAGIC_USEC)
		return PCAP_FMT_MAGIC;
	f->major = f->swap ? cur_u16(&c) : cur_u16_le(&c);
	f->minor = f->swap ? cur_u16(&c) : cur_u16_le(&c);
	cur_skip(&c, 4 + 4); /* thiszone, sigfigs */
	f->snaplen = f->swap ? cur_u32(&c) : cur_u32_le(&c);
	f->linktype = (f->swap ? cur_u32(&c) : cur_u32_le(&c)) & 0x03ffffffu;
	if (f->major != PCAP_VERSION_MAJOR || f->minor > PCAP_VERSION_MINOR)
		return PCAP_FMT_VERSION;
	f->lens_swap = f->minor < 3 ? 1 : f->minor == 3 ? 2 : 0;
	if (f->snaplen == 0 || f->snaplen > PCAP_FMT_MAX_CAPLEN)
		f->snaplen = PCAP_FMT_MAX_CAPLEN;
	return PCAP_FMT_OK;
}
