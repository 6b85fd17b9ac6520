/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tcp.h - per-connection TCP reassembly: each direction's bytes reach the connection's L7
 * protocol in order and once; holes the reassembler gives up on are reported as gaps. State is
 * keyed by input source and 4-tuple, bounded per connection and in total, and expires on packet
 * time.
 */
#ifndef PANO_TCP_H
#define PANO_TCP_H

#include <stddef.h>
#include <stdint.h>

#include "packet.h"

/*
 * Memory: every buffer a connection holds counts in max_total_buf, the out-of-order segments
 * (with their headers) and the L7 protocol's own buffers (l7_tcp_ctx.buf_bytes: DNS messages
 * being assembled). When the total would pass the cap, the least recently active connections
 * that hold buffers are evicted (counted) until it fits; a connection's state beyond its
 * buffers (a few hundred bytes) is bounded by max_conns.
 */
struct tcp_limits {
	unsigned max_conns;    /* connections tracked at once (default 65536) */
	uint32_t max_conn_buf; /* out-of-order bytes held per direction (default 256 KiB) */
	size_t max_total_buf;  /* bytes every buffer holds together (default 64 MiB) */
	uint64_t timeout_ns;   /* idle connections expire after this much packet time (60 s) */
};

/* The smallest max_total_buf: room for a connection at its largest (both directions' out-of-
 * order caps and two DNS messages). */
#define TCP_MIN_TOTAL_BUF (1u << 20)

void tcp_set_limits(const struct tcp_limits *l);
/* The protocols connections are bound to (the engine's; see l7.h). */
struct l7_set;
void tcp_set_l7(const struct l7_set *s);
void tcp_get_limits(struct tcp_limits *l);

/* One decoded TCP segment (pkt->l4proto == IPPROTO_TCP, payload = segment data). */
void tcp_segment(const struct pano_pkt *pkt);
/* Closes connections idle for longer than the timeout at packet time now_ns (counted). */
void tcp_expire(uint64_t now_ns);
/* Closes every connection (end of input): pending data after a hole is delivered after a gap. */
void tcp_close_all(void);

unsigned tcp_conns(void);  /* connections tracked now */
size_t tcp_buffered(void); /* bytes every buffer holds now (out of order and L7) */

#endif
