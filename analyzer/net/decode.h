/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decode.h - the L2-L4 decoder: a captured frame in, UDP datagrams and in-order TCP stream data
 * out to the L7 protocols (l7.h). It drives IP reassembly (ipfrag.h) and TCP reassembly (tcp.h)
 * and moves packet time forward for every stateful part. All of it is one engine's (engine.h),
 * passed first.
 */
#ifndef PANO_DECODE_H
#define PANO_DECODE_H

#include <stdint.h>

#include "packet.h"

/* The decoder's own part of an engine. */
#define DECODE_WARN_LINKTYPES 8
struct decode_state {
	uint64_t last_tick; /* packet time of the last decode_tick (0: none yet) */
	unsigned char warned[DECODE_WARN_LINKTYPES]; /* unsupported link types said once */
	int nwarned;
};

struct pano_engine;

/* Decodes one frame of f->linktype and feeds what it carries onward through eng's tables to
 * its protocols. Never fails: whatever is malformed is counted (kind "weird") and skipped. */
void decode_frame(struct pano_engine *eng, const struct pano_frame *f);

/* Packet time reached now_ns: expire fragments, TCP connections and L7 state that are due.
 * decode_frame calls it itself about once per packet-second. */
void decode_tick(struct pano_engine *eng, uint64_t now_ns);

/* End of input: close every TCP connection, drop pending fragments, flush every L7 protocol. */
void decode_finish(struct pano_engine *eng);

#endif
