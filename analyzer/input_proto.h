/* SPDX-License-Identifier: Apache-2.0 */
/*
 * input_proto.h - pano-analyzer's protobuf stream listener (--listen ADDR:PORT): many agents
 * connect at once (proto/pano_stream.proto, framing in lib/stream.h). Each agent run gets its
 * own struct pano_source (distinct id, node name from its hello), so flows, fragments, TCP
 * streams and transactions of different agents never mix; frames carry the interface name and
 * direction from the stream. AgentStats become upstream-loss counters.
 */
#ifndef PANO_INPUT_PROTO_H
#define PANO_INPUT_PROTO_H

#include <stdint.h>

#include "input.h"
#include "tls.h"

struct input_proto_opts {
	const char *listen;  /* ADDR:PORT, [V6]:PORT or PORT (then 127.0.0.1) */
	struct tls_opts tls; /* cert+key: TLS; with ca: agents must present a cert it signed */
	uint32_t max_msg;    /* envelope cap; 0: STREAM_MAX_MSG */
	int max_conns;	     /* simultaneous agents; 0: 256 (more are refused, counted) */
};

/* Binds, then serves agents until *h->stop. 0 when stopped, -errno when the listener or the
 * TLS configuration cannot be set up (logged). */
int input_proto_run(const struct input_proto_opts *o, const struct input_hooks *h);

#endif
