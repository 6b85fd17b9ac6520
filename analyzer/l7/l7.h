/* SPDX-License-Identifier: Apache-2.0 */
/*
 * l7.h - the interface between the L3/L4 decoder and the application protocols. A protocol is
 * one folder (dns/, tls/, http/) and one row of the table l7_all[] (l7.c): a const struct
 * l7_proto with its options, its configuration, and callbacks that take the protocol's own
 * state object first (made by create(), one per engine: no protocol keeps process-wide state).
 *
 * Binding: a UDP datagram goes to the first protocol whose match() says L7_YES. A TCP
 * connection is bound when its first segment comes if a protocol's match() says L7_YES (a port
 * it owns, e.g. DNS on 53); otherwise, if some protocol said L7_MAYBE, when its first payload
 * arrives: the first of those whose detect() recognises the bytes (a TLS ClientHello, an HTTP
 * request, on any port) gets the connection. A connection nobody wants is not reassembled.
 *
 * TCP: the reassembler (tcp.c) delivers each direction's bytes in order, once. A connection
 * carries one opaque slot (struct l7_tcp_ctx.state) that the protocol owns and frees in
 * on_tcp_close. A hole the reassembler gave up on is reported by on_tcp_gap, so a framing
 * protocol can resynchronise.
 */
#ifndef PANO_L7_H
#define PANO_L7_H

#include <stddef.h>
#include <stdint.h>

#include "packet.h"
#include "rec.h"
#include "uid.h"

enum l7_verdict { L7_NO = 0, L7_MAYBE = 1, L7_YES = 2 };

struct l7_tcp_ctx {
	const struct pano_source *src;
	struct pano_addr client, server; /* client = the side that sent the SYN (or first seen) */
	uint16_t client_port, server_port;
	uint64_t conn_id; /* unique per connection within the engine, for uids */
	uint64_t uid_key; /* the engine's uid key (l7_env.uid_key), for uids */
	void *state;	  /* the protocol's per-connection state */
	size_t buf_bytes; /* bytes the protocol's buffers hold for this connection (allocated):
			   * the protocol keeps it up to date, tcp.c counts it in the TCP memory
			   * cap (tcp_limits.max_total_buf) */
};

/* What an engine gives each protocol state it creates. */
struct l7_env {
	const struct rec_emit *emit; /* finished records and summary events go here */
	uint64_t uid_key;	     /* mixed into every uid seed (uid.h) */
	/* The engine's table of frame senders (process, pod: sender.h), shared by every
	 * protocol; NULL: records name nobody (harnesses that feed no senders). */
	struct sender_table *senders;
};

/* The seed of TCP connection c's uid (uid_make): every protocol's records of c share it. */
static inline uint64_t l7_tcp_uid_seed(const struct l7_tcp_ctx *c)
{
	return uid_tcp_seed(c->uid_key, c->conn_id, c->src ? c->src->id : 0);
}

/* One command-line option of a protocol (also a --config key, without the dashes). */
struct l7_opt {
	const char *name; /* long option, e.g. "tls-ports" */
	int short_opt;	  /* e.g. 'p', or 0 */
	int has_arg;	  /* no_argument / required_argument (getopt.h) */
	const char *arg;  /* the argument's name in --help, e.g. "LIST" */
	const char *help; /* --help text: lines of at most 52 characters, split by '\n'
			   * (main indents them) */
};

/* A gauge a protocol state reports (/metrics pano_analyzer_<name>, --stats). */
typedef void (*l7_gauge_fn)(void *arg, const char *name, const char *help, uint64_t v);

struct l7_proto {
	const char *name; /* "dns", "tls", "http" */

	/* Configuration: cfg_size bytes, filled by cfg_default, then by cfg_set for each of opts
	 * given (arg NULL for no_argument); 0 or -EINVAL with the reason in why. */
	size_t cfg_size;
	void (*cfg_default)(void *cfg);
	const struct l7_opt *opts;
	unsigned nopts;
	int (*cfg_set)(void *cfg, const char *opt, const char *arg, char *why, size_t whylen);

	/* State: one per engine. create returns NULL on failure (said on stderr). The cfg stays
	 * owned by the caller and valid until destroy. */
	void *(*create)(const void *cfg, const struct l7_env *env);
	void (*destroy)(void *st);

	/* Does the protocol want this UDP datagram or new TCP connection (pkt: its first
	 * segment)? L7_YES by a port it owns; L7_MAYBE to look at the first payload (detect). */
	enum l7_verdict (*match)(void *st, const struct pano_pkt *pkt);
	/* First payload bytes of a TCP connection (from_client: which side sent them): L7_YES
	 * binds the connection to this protocol. Only called after match() said L7_MAYBE. */
	enum l7_verdict (*detect)(void *st, int from_client, const uint8_t *data, size_t len);

	void (*on_udp)(void *st, const struct pano_pkt *pkt);
	/* In-order stream bytes; from_client is 1 for client->server data. pkt is the segment
	 * that completed them (timestamp, metadata). */
	void (*on_tcp_data)(void *st, struct l7_tcp_ctx *c, int from_client, const uint8_t *data,
			    size_t len, const struct pano_pkt *pkt);
	/* A hole in one direction the reassembler gave up on: len bytes lost (0: not known), the
	 * next data is what follows them. */
	void (*on_tcp_gap)(void *st, struct l7_tcp_ctx *c, int from_client, uint64_t len);
	void (*on_tcp_close)(void *st, struct l7_tcp_ctx *c);
	/* Time moves on (packet time, not wall time): expire what is due. */
	void (*tick)(void *st, uint64_t now_ns);
	/* End of input: emit everything still open. */
	void (*flush)(void *st);
	/* What the state holds now (gauges), or NULL. Called from the metrics thread while the
	 * engine decodes: read only counts, with relaxed atomic loads (__atomic_load_n); names are
	 * the metric's without its prefix ("dns_open_transactions" ->
	 * pano_analyzer_dns_open_transactions) and the same in --stats. */
	void (*gauges)(void *st, l7_gauge_fn out, void *arg);
};

/* Every protocol the analyzer knows, in matching order (l7.c). */
extern const struct l7_proto *const l7_all[];
extern const unsigned l7_nall;

#define L7_MAX 8

/* The protocols of one engine: their configurations (owned by the caller) and states. */
struct l7_set {
	unsigned n;
	const struct l7_proto *proto[L7_MAX];
	const void *cfg[L7_MAX];
	void *st[L7_MAX];
};

/* Creates a state for each of l7_all[] with cfgs[i] (NULL: that protocol is left out).
 * 0 or -errno (the states made so far destroyed). */
int l7_set_create(struct l7_set *s, const void *const *cfgs, const struct l7_env *env);
void l7_set_destroy(struct l7_set *s);
/* Appends a protocol of the caller's own with a state it made (tests, fuzzers). 0 or -ENOSPC. */
int l7_set_add(struct l7_set *s, const struct l7_proto *p, const void *cfg, void *st);
/* The state of protocol name in s, or NULL. */
void *l7_set_state(const struct l7_set *s, const char *name);

/* UDP: the index in s of the first protocol whose match says L7_YES, or -1. */
int l7_match_udp(const struct l7_set *s, const struct pano_pkt *pkt);
/* A new TCP connection: the index of the first protocol saying L7_YES; else -2 when some
 * said L7_MAYBE (*maybe gets a bit per such protocol); else -1. */
int l7_match_tcp(const struct l7_set *s, const struct pano_pkt *pkt, unsigned *maybe);
/* First payload of a connection some protocols said L7_MAYBE to: the index of the first of
 * them whose detect() says L7_YES, or -1. */
int l7_detect(const struct l7_set *s, unsigned maybe, int from_client, const uint8_t *data,
	      size_t len);
void l7_tick_all(const struct l7_set *s, uint64_t now_ns);
void l7_flush_all(const struct l7_set *s);
void l7_gauges_all(const struct l7_set *s, l7_gauge_fn out, void *arg);

#endif
