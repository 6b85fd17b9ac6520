/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tcp.h - per-connection TCP reassembly: each direction's bytes reach the connection's L7
 * protocol in order and once; holes the reassembler gives up on are reported as gaps. State is
 * keyed by input source and 4-tuple, bounded per connection and in total, and expires on packet
 * time. A struct tcp_table holds one engine's connections (engine.h); tables share nothing.
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

struct l7_set;
struct tcp_table;

void tcp_limits_default(struct tcp_limits *l);
/* A table with limits l (NULL: the defaults) whose connections are bound to the protocols of
 * l7 (see l7.h; it must outlive the table) and carry uid_key (l7_tcp_ctx.uid_key). NULL when
 * out of memory (logged). */
struct tcp_table *tcp_new(const struct tcp_limits *l, const struct l7_set *l7, uint64_t uid_key);
/* Closes every connection (as tcp_close_all) and frees t; NULL is a no-op. */
void tcp_free(struct tcp_table *t);
void tcp_set_limits(struct tcp_table *t, const struct tcp_limits *l);
void tcp_get_limits(const struct tcp_table *t, struct tcp_limits *l);

/* One decoded TCP segment (pkt->l4proto == IPPROTO_TCP, payload = segment data). */
void tcp_segment(struct tcp_table *t, const struct pano_pkt *pkt);
/* Closes connections idle for longer than the timeout at packet time now_ns (counted). */
void tcp_expire(struct tcp_table *t, uint64_t now_ns);
/* Closes every connection (end of input): pending data after a hole is delivered after a gap. */
void tcp_close_all(struct tcp_table *t);

/* Gauges (also read from the metrics thread: a moment old at worst). */
unsigned tcp_conns(const struct tcp_table *t);	/* connections tracked now */
size_t tcp_buffered(const struct tcp_table *t); /* bytes every buffer holds now (out of order
						 * and L7) */

#endif
