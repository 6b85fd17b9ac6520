/* SPDX-License-Identifier: Apache-2.0 */
/*
 * l7.h - the interface between the L3/L4 decoder and the application protocols. One file per
 * protocol (dns.c, later http.c, tls.c) fills a struct l7_proto and registers it with
 * l7_register(); the decoder asks each registered protocol whether it wants a packet (by port
 * or by a detector) and feeds it UDP datagrams or in-order TCP stream data.
 *
 * TCP: the reassembler (tcp.c) delivers each direction's bytes in order, once. A connection
 * carries one opaque slot per protocol (struct l7_tcp_ctx.state) that the protocol owns and frees
 * in on_tcp_close. A hole the reassembler gave up on is reported by on_tcp_gap, so a framing
 * protocol can resynchronise.
 */
#ifndef PANO_L7_H
#define PANO_L7_H

#include <stddef.h>
#include <stdint.h>

#include "packet.h"

struct l7_tcp_ctx {
	const struct pano_source *src;
	struct pano_addr client, server; /* client = the side that sent the SYN (or first seen) */
	uint16_t client_port, server_port;
	uint64_t conn_id; /* unique per connection, for uids */
	void *state;	  /* the protocol's per-connection state */
	size_t buf_bytes; /* bytes the protocol's buffers hold for this connection (allocated):
			   * the protocol keeps it up to date, tcp.c counts it in the TCP memory
			   * cap (tcp_limits.max_total_buf) */
};

struct l7_proto {
	const char *name;
	/* Does this protocol want the packet? Called once per UDP datagram and once per new TCP
	 * connection (with its first segment). */
	int (*match)(const struct pano_pkt *pkt);
	void (*on_udp)(const struct pano_pkt *pkt);
	/* In-order stream bytes; from_client is 1 for client->server data. pkt is the segment
	 * that completed them (timestamp, metadata). */
	void (*on_tcp_data)(struct l7_tcp_ctx *c, int from_client, const uint8_t *data, size_t len,
			    const struct pano_pkt *pkt);
	void (*on_tcp_gap)(struct l7_tcp_ctx *c, int from_client);
	void (*on_tcp_close)(struct l7_tcp_ctx *c);
	/* Time moves on (packet time, not wall time): expire what is due. */
	void (*tick)(uint64_t now_ns);
	/* End of input: emit everything still open. */
	void (*flush)(void);
};

void l7_register(const struct l7_proto *p);
/* First protocol whose match() accepts pkt, or NULL. */
const struct l7_proto *l7_lookup(const struct pano_pkt *pkt);
void l7_tick_all(uint64_t now_ns);
void l7_flush_all(void);
/* Forgets every registered protocol (tests). */
void l7_reset(void);

#endif
