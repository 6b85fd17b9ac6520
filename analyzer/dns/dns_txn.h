/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dns_txn.h - internals of the DNS module shared by dns.c (l7 glue, TCP framing) and dns_txn.c
 * (the module's state, connections, query/reply pairing as Zeek does, timeouts, caps, and the
 * records it emits). Not for other modules: they use dns.h (and dns_rec.h for the records).
 */
#ifndef PANO_DNS_TXN_H
#define PANO_DNS_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dns.h"
#include "dns_parse.h"
#include "packet.h"
#include "rec.h"
#include "sender.h"
#include "uid.h"
#include "wbuf.h"

struct dns_conn;

/* One dns.log record in the making (Zeek's DNS::Info). */
struct dns_info {
	/* what matching and the pending lists touch, in the first 64 bytes (the free list reuses
	 * the first pointer) */
	struct dns_info *hnext; /* pending_hash chain: same slot, newest first */
	struct dns_conn *conn;
	uint16_t trans_id;
	bool saw_query, saw_reply;
	unsigned hslot; /* its pending_hash slot, from (conn, trans_id) */
	struct dns_info *hprev;
	struct dns_info *cprev, *cnext; /* the connection's pending list */
	struct dns_info *gprev, *gnext; /* global pending list, oldest first (timeouts) */
	uint64_t ts_ns;
	uint64_t rtt_ns;
	char *query;	  /* escaped text (in qbuf), or NULL when unset */
	size_t query_len; /* strlen(query) */
	char *qbuf;	  /* query's storage, kept with the record in the free list */
	size_t qcap;
	struct wbuf answers; /* the answer texts, each NUL-terminated */
	struct wbuf ttls;    /* their TTLs, uint32_t each */
	unsigned nanswers;
	uint16_t qclass, qtype;
	uint8_t rcode, opcode, Z;
	bool has_rtt, has_qclass, has_rcode;
	bool AA, TC, RD, RA, rejected;
	uint64_t query_ts_ns, reply_ts_ns; /* when each half was seen (0: not seen) */
	uint64_t latency_ns;		   /* reply - query, whatever the reply says */
	bool has_latency;		   /* both halves seen, the reply not before the query */
	uint32_t query_size, reply_size;   /* DNS message bytes; 0 when not seen */
	bool query_cut, reply_cut;	   /* the capture kept only part of that message */
	bool has_edns_rcode;		   /* the reply had an OPT record: */
	uint16_t edns_rcode;		   /* its extended RCODE (12 bits, RFC 6891) */
	bool has_edns;
	struct dns_edns edns; /* from the query, else the reply */
	int dir;	      /* capture direction of the first message, -1 unknown */
	char iface[32];
	/* who: the query's sender is the client, the reply's the server (sender.h) */
	struct sender_ref orig_who, resp_who;
	/* The same transaction seen on the other side of a NAT of this node (dns_txn.c): the
	 * two are logged as one record when both are done. */
	struct dns_info *twin;
	uint8_t nat;	 /* DNS_NAT_* of the pair, set on the earlier of the two */
	bool done;	 /* both halves seen, waiting for its twin */
	bool linked;	 /* in the pending lists (info_link) */
	unsigned recent; /* its slot + 1 in the recent-queries table, 0 none */
	/* filled just before the record is written */
	const struct sender_rec *orig_w, *resp_w;
	bool has_service;
	uint16_t service_p;
	char service_s[46]; /* the service (pre-DNAT) address as text */
};

enum { DNS_NAT_NONE = 0, DNS_NAT_DNAT, DNS_NAT_SNAT };

struct dns_conn {
	struct pano_addr orig_h, resp_h;
	uint16_t orig_p, resp_p;
	uint8_t proto; /* IPPROTO_UDP / IPPROTO_TCP */
	uint32_t src_id;
	bool multicast;		     /* mDNS / LLMNR: never paired */
	bool netbios;		     /* port 137 */
	char orig_s[46], resp_s[46]; /* the addresses as text, made once */
	char uid[UID_LEN];
	uint8_t orig_len, resp_len, uid_len; /* their lengths */
	char node[64];
	uint64_t last_ns;
	struct dns_info *phead, *ptail; /* pending queries and replies, in arrival order */
	unsigned npending;
	bool is_tcp;		/* owned by the TCP slot, not the UDP table */
	struct dns_conn *hnext; /* UDP hash chain */
	unsigned hslot;		/* its udp_hash slot (conn_hash, made once) */
	uint64_t pseed; /* where its records start in pending_hash (UDP: the whole conn_hash) */
	struct dns_conn *lprev, *lnext; /* UDP LRU list, least recent first */
};

#define DNS_HASH_BITS	16
#define DNS_RECENT_BITS 12

/* A free list: a busy resolver makes and drops a record and a connection per transaction. */
struct dns_pool {
	void *head;
	unsigned n;
};

/* A recently logged transaction (dns_txn.c: the NAT's late reply copies). */
struct dns_done {
	uint64_t key, ts_ns;
	struct pano_addr orig_h, resp_h;
	uint16_t orig_p, resp_p;
};

/* The module's state: one per engine (dns_proto.create), nothing process-wide. */
struct dns_state {
	struct dns_config cfg;
	const struct rec_emit *emit;	  /* records and message events go here */
	struct dns_info *g_head, *g_tail; /* pending, oldest first */
	unsigned g_open;
	size_t g_bytes;			      /* answer bytes held by pending records */
	struct dns_conn *lru_head, *lru_tail; /* UDP connections, least recent first */
	unsigned udp_nconns;
	uint64_t uid_key;     /* the engine's (l7_env.uid_key) */
	uint64_t uid_counter; /* UDP conversations made: each gets a uid of its own */
	struct sender_table *senders; /* the engine's (l7_env.senders) */
	struct dns_pool info_pool, conn_pool, sb_pool;
	struct dns_msg msg; /* parse scratch */
	struct dns_conn *udp_hash[1u << DNS_HASH_BITS];
	/* Pending records by (connection, trans_id): a message finds its other half without
	 * walking the connection's list, which holds hundreds of records on a busy socket. */
	struct dns_info *pending_hash[1u << DNS_HASH_BITS];
	/* Recent queries by (id, type, name): where the other view of a NAT's transaction is. */
	struct dns_info *recent[1u << DNS_RECENT_BITS];
	/* Recently logged transactions by the same key (dns_txn.c, done_copy). */
	struct dns_done done_recent[1u << DNS_RECENT_BITS];
};

/* A new state for cfg whose records go to emit, or NULL (said on stderr). */
struct dns_state *dns_txn_new(const struct dns_config *cfg, const struct rec_emit *emit);
/* Frees st and everything it holds (open transactions are dropped, not logged). */
void dns_txn_free(struct dns_state *st);
/* Handles one whole DNS message seen on connection c (NULL for UDP: looked up or created
 * from pkt). */
void dns_txn_message(struct dns_state *st, struct dns_conn *c, const struct pano_pkt *pkt,
		     const uint8_t *msg, size_t len);
void dns_txn_udp(struct dns_state *st, const struct pano_pkt *pkt);
/* A TCP connection's DNS state: created with the l7 slot, closed (pending logged) on close;
 * uid_seed is the connection's (l7_tcp_uid_seed). */
void dns_conn_init_tcp(struct dns_state *st, struct dns_conn *c, const struct pano_addr *client,
		       uint16_t cport, const struct pano_addr *server, uint16_t sport,
		       uint64_t uid_seed, const struct pano_source *src);
void dns_conn_close(struct dns_state *st, struct dns_conn *c);
void dns_txn_tick(struct dns_state *st, uint64_t now_ns);
/* End of input: every open transaction logged, the UDP connections and free lists freed. */
void dns_txn_flush(struct dns_state *st);
unsigned dns_txn_open(const struct dns_state *st); /* pending transactions (tests) */

#endif
