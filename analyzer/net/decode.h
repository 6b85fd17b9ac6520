/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decode.h - the L2-L4 decoder: a captured frame in, UDP datagrams and in-order TCP stream data
 * out to the L7 protocols (l7.h). It owns IP reassembly (ipfrag.h) and TCP reassembly (tcp.h)
 * and moves packet time forward for every stateful part.
 */
#ifndef PANO_DECODE_H
#define PANO_DECODE_H

#include <stdint.h>

#include "packet.h"

/* The protocols datagrams and connections go to (see l7.h): set before the first frame. */
struct l7_set;
void decode_set_l7(const struct l7_set *s);

/* Decodes one frame of f->linktype and feeds what it carries onward. Never fails: whatever is
 * malformed is counted (kind "weird") and skipped. */
void decode_frame(const struct pano_frame *f);

/* Decodes a bare IPv4 or IPv6 packet (version from the first nibble); frame gives time/source. */
void decode_ip(const struct pano_frame *f, const uint8_t *data, uint32_t len);

/* Packet time reached now_ns: expire fragments, TCP connections and L7 state that are due.
 * decode_frame calls it itself about once per packet-second. */
void decode_tick(uint64_t now_ns);

/* End of input: close every TCP connection, drop pending fragments, flush every L7 protocol. */
void decode_finish(void);

#endif
