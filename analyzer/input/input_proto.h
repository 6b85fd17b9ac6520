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

/*
 * The listener cannot be held hostage by peers that never become agents: a connection must
 * finish TLS and send its hello within hello_timeout_ms of its accept, and until then holds at
 * most a 64 KiB receive buffer (lib/stream.h, STREAM_RX_HELLO); at most max_pending such
 * connections are kept, a new one closing the oldest; an address holds at most max_per_source
 * connections (its oldest pending one gives way to a new one); an agent (hello said) is never
 * closed to make room, but one that stays silent idle_timeout_ms is closed. Every close is
 * counted by reason and logged (rate-limited); a peer that finished TLS is told why in a
 * Refusal message before the close.
 */
#define INPUT_PROTO_MAX_AGENTS	   256
#define INPUT_PROTO_MAX_PENDING	   128
#define INPUT_PROTO_MAX_PER_SOURCE 32
#define INPUT_PROTO_HELLO_MS	   5000
#define INPUT_PROTO_IDLE_MS	   60000
#define INPUT_PROTO_ACK_MS	   100

struct input_proto_opts {
	const char *listen;   /* ADDR:PORT, [V6]:PORT or PORT (then 127.0.0.1) */
	struct tls_opts tls;  /* cert+key: TLS; with ca: agents must present a cert it signed */
	uint32_t max_msg;     /* envelope cap; 0: STREAM_MAX_MSG */
	int max_conns;	      /* agents at once (hello said); 0: INPUT_PROTO_MAX_AGENTS; more
			       * are refused at their hello (counted, and told why) */
	int max_pending;      /* connections before their hello; 0: INPUT_PROTO_MAX_PENDING */
	int max_per_source;   /* connections from one address; 0: INPUT_PROTO_MAX_PER_SOURCE */
	int hello_timeout_ms; /* TLS and hello within this of the accept; 0: the default */
	int idle_timeout_ms;  /* an agent silent this long is closed; 0: the default, < 0:
			       * never */
	int ack_ms; /* batches taken are acknowledged within this (and every 512 KiB); 0: the
		     * default */
};

/* Binds, then serves agents until *h->stop. 0 when stopped, -errno when the listener or the
 * TLS configuration cannot be set up (logged). */
int input_proto_run(const struct input_proto_opts *o, const struct input_hooks *h);

#endif
