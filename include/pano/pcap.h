/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pcap.h - the classic libpcap file format, as written by pano-agent (files, stdout and
 * PCAP-over-TCP) and read back by pano-analyzer's PCAP-over-TCP client. All fields are in the
 * writer's byte order; the magic tells the reader which order and which time resolution.
 */
#ifndef PANO_PCAP_H
#define PANO_PCAP_H

#include <stdint.h>

#define PCAP_MAGIC_USEC	 0xa1b2c3d4u	/* microsecond timestamps (default, Zeek accepts only this) */
#define PCAP_MAGIC_NSEC	 0xa1b23c4du	/* nanosecond timestamps */
#define PCAP_VERSION_MAJOR 2
#define PCAP_VERSION_MINOR 4

/* Link types (LINKTYPE_* from the tcpdump.org registry). */
#define PCAP_LINKTYPE_NULL	0	/* BSD loopback: 4-byte host-order AF_ */
#define PCAP_LINKTYPE_ETHERNET	1
#define PCAP_LINKTYPE_RAW	101	/* raw IPv4/IPv6 */
#define PCAP_LINKTYPE_LOOP	108	/* OpenBSD loopback: 4-byte network-order AF_ */
#define PCAP_LINKTYPE_LINUX_SLL	113
#define PCAP_LINKTYPE_IPV4	228
#define PCAP_LINKTYPE_IPV6	229
#define PCAP_LINKTYPE_LINUX_SLL2 276

struct pcap_file_header_s {
	uint32_t magic;
	uint16_t version_major;
	uint16_t version_minor;
	int32_t thiszone;
	uint32_t sigfigs;
	uint32_t snaplen;
	uint32_t linktype;
};

struct pcap_rec_header_s {
	uint32_t ts_sec;
	uint32_t ts_frac;	/* microseconds or nanoseconds, by the magic */
	uint32_t caplen;
	uint32_t len;
};

_Static_assert(sizeof(struct pcap_file_header_s) == 24, "pcap global header is 24 bytes");
_Static_assert(sizeof(struct pcap_rec_header_s) == 16, "pcap record header is 16 bytes");

#endif
