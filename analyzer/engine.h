/* SPDX-License-Identifier: Apache-2.0 */
/*
 * engine.h - one analyzer pipeline's state in one object (tcpdump's netdissect_options): the
 * decoder's own (packet time, link types warned about), the IP fragment table, the TCP table,
 * the L7 protocols' states and the out stage that encodes their records. Every function on the
 * data path takes the engine, or the part of it it works on, first: decode_frame(eng, f),
 * tcp_segment(eng->tcp, pkt), ipfrag_add(eng->frag, ...). Two engines share nothing but the
 * sink set records go to, the summary object they are given (engine_config.sum: each may have
 * its own) and the process-wide counters (PANO_COUNTER), so tests run engines side by side and,
 * later, N engines can decode on N cores.
 *
 *   input (pcap, pcapng, PCAP-over-TCP, protobuf stream)
 *     -> decode_frame(eng)        L2/L3, IP reassembly (eng->frag)
 *     -> UDP: l7 match -> protocol on_udp;  TCP: tcp_segment(eng->tcp) -> on_tcp_data
 *     -> protocol state (eng->l7) -> rec_emit(env->emit) -> eng->out (summaries, encoding)
 *     -> sink_set_emit(sinks) -> file/stdout, Kafka (topic by record path)
 */
#ifndef PANO_ENGINE_H
#define PANO_ENGINE_H

#include <stdint.h>

#include "decode.h"
#include "ipfrag.h"
#include "l7.h"
#include "records.h"
#include "tcp.h"

struct engine_config {
	/* Per row of l7_all[]: that protocol's configuration (owned by the caller, valid until
	 * engine_free), or NULL to leave it out. NULL: no protocol (add some with l7_set_add on
	 * eng->l7 before the first frame). */
	const void *const *l7_cfgs;
	struct tcp_limits tcp;
	struct ipfrag_limits frag;
	enum rec_format format;
	int dotted;		/* Zeek's dotted field names */
	struct sink_set *sinks; /* where records go (NULL: nowhere but the summaries) */
	struct summary *sum;	/* the summaries to feed (the caller's, outliving the engine);
				 * NULL: none */
	/* The uid key (l7_env.uid_key, mixed into every record's uid): uid_key_of_seed(uid_seed)
	 * when uid_seeded, for output that two runs reproduce; else random (getrandom), so that
	 * two runs, or two engines, give different connections different uids. */
	int uid_seeded;
	uint64_t uid_seed;
};

struct pano_engine {
	struct decode_state dec;
	struct ipfrag_table *frag;
	struct tcp_table *tcp;
	struct l7_set l7;
	struct l7_env env; /* what each protocol state was created with: the uid key and the
			    * sender table (the engine's) */
	struct rec_out out;
	struct summary *sum; /* packets go to it here, records in out (NULL: no summaries) */
};

/* The defaults: every protocol left out, default TCP and fragment limits, JSON. */
void engine_config_default(struct engine_config *c);
/* A new engine (the protocols' states created); NULL on failure (said on stderr). */
struct pano_engine *engine_new(const struct engine_config *c);
/* Frees eng: open TCP connections are closed (their data delivered), then the protocols'
 * states are destroyed without a flush (call decode_finish first to emit what is open). */
void engine_free(struct pano_engine *eng);

#endif
