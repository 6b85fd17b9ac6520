/* SPDX-License-Identifier: Apache-2.0 */
/*
 * out_proto.h - pano-agent's protobuf stream output (--connect HOST:PORT): frames go to one
 * pano-analyzer as batches of packets (proto/pano_stream.proto, framing in lib/stream.h), with a
 * hello naming the node and its interfaces and periodic stats carrying the agent's counters.
 *
 * The ring reader only copies records into a bounded queue (never blocking: a full queue drops
 * the record, counted); a writer thread batches, encodes and sends, and reconnects with
 * exponential backoff when the analyzer is slow to accept, goes away or refuses us. Records
 * keep queueing while no analyzer is connected; what does not fit is dropped and counted.
 */
#ifndef PANO_AGENT_OUT_PROTO_H
#define PANO_AGENT_OUT_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "output.h"
#include "tls.h"

struct pano_rec;
struct who_pod;

struct out_proto_opts {
	const char *node;	 /* --node; NULL: the host name */
	struct tls_opts tls;	 /* any set: TLS (with ca: verify the analyzer) */
	size_t queue_bytes;	 /* record queue; default 8 MiB */
	unsigned batch_packets;	 /* default 1024 */
	size_t batch_bytes;	 /* default 256 KiB */
	unsigned flush_ms;	 /* a batch waits at most this long; default 50 */
	unsigned stats_ms;	 /* AgentStats period; default 1000 */
	unsigned backoff_max_ms; /* reconnect backoff cap; default 5000 */
	/* Capture configuration for the hello. */
	const uint16_t *ports;
	int nports;
	uint32_t transports; /* PANO_TR_* bits */
	uint32_t snaplen;
	const char *mode; /* "tc" or "xdp" */
	/* Agent counters for AgentStats: fills out[PANO_STAT_MAX]; may be NULL. */
	int (*read_stats)(void *ctx, uint64_t *out);
	void *stats_ctx;
	/* Other outputs whose counters AgentStats carries (NULL entries skipped). */
	const char *other_names[4];
	const struct out_stats *other_stats[4];
};

struct out_proto;

/* Parses HOST:PORT ([v6]:PORT too) and starts the writer thread, which connects in the
 * background. NULL on a bad spec or TLS configuration (logged). */
struct out_proto *out_proto_start(const char *hostport, const struct out_proto_opts *o);
/* Queues one record, with the pod its sender belongs to (NULL: none known); never blocks (a
 * full queue: dropped, counted). Called from one thread. */
void out_proto_write(struct out_proto *p, const struct pano_rec *rec, const uint8_t *frame,
		     const struct who_pod *pod);
/* After a batch of writes (same thread): hands them to the writer, and wakes it when it waits
 * for them (first records of a batch, or a full batch). */
void out_proto_kick(struct out_proto *p);
/* Interfaces for the hello (and for packets of interfaces added after it). */
void out_proto_iface_add(struct out_proto *p, int ifindex, const char *name);
void out_proto_iface_del(struct out_proto *p, int ifindex);
const struct out_stats *out_proto_stats(const struct out_proto *p);
uint64_t out_proto_reconnects(const struct out_proto *p);
int out_proto_connected(const struct out_proto *p);
/* Frames the analyzer acknowledged, sent again after a reconnection, and lost unacknowledged
 * at stop (exact after out_proto_drain(): the writer thread updates them until then). */
void out_proto_delivery(const struct out_proto *p, uint64_t *acked, uint64_t *resent,
			uint64_t *unacked_lost);
/* Sends what is queued and waits for its acks (for up to 2 s if connected), counts what is left
 * as lost, and stops the writer; the counters stay readable. */
void out_proto_drain(struct out_proto *p);
/* out_proto_drain() if not done yet, then frees. */
void out_proto_stop(struct out_proto *p);

#endif
