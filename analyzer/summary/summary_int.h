/* SPDX-License-Identifier: Apache-2.0 */
/*
 * summary_int.h - the state shared by summary.c (windows, hooks) and summary_out.c (JSON,
 * Prometheus). Not for other modules: they use summary.h.
 */
#ifndef PANO_SUMMARY_INT_H
#define PANO_SUMMARY_INT_H

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "sketch_hll.h"
#include "sketch_quantile.h"
#include "sketch_topn.h"
#include "summary.h"

/* Every plain counter of a window: field, JSON path group, JSON name, help. */
#define SUM_COUNTERS(X)                                                                            \
	X(packets, "UDP and TCP packets decoded")                                                  \
	X(ipv4, "packets over IPv4")                                                               \
	X(ipv6, "packets over IPv6")                                                               \
	X(udp, "UDP datagrams")                                                                    \
	X(tcp, "TCP segments")                                                                     \
	X(in, "packets towards the host spec (or captured inbound)")                               \
	X(out, "packets from the host spec (or captured outbound)")                                \
	X(dns_messages, "DNS messages parsed")                                                     \
	X(dns_udp, "DNS messages over UDP")                                                        \
	X(dns_tcp, "DNS messages over TCP")                                                        \
	X(dns_ipv4, "DNS messages over IPv4")                                                      \
	X(dns_ipv6, "DNS messages over IPv6")                                                      \
	X(queries, "DNS queries")                                                                  \
	X(replies, "DNS replies")                                                                  \
	X(noerror, "replies NOERROR with answers")                                                 \
	X(nodata, "replies NOERROR without answers")                                               \
	X(nxdomain, "replies NXDOMAIN")                                                            \
	X(srvfail, "replies SERVFAIL")                                                             \
	X(refused, "replies REFUSED")                                                              \
	X(xact, "transactions answered")                                                           \
	X(xact_in, "transactions answered by a server in the host spec")                           \
	X(xact_out, "transactions answered by other servers")                                      \
	X(timed_out, "queries never answered")                                                     \
	X(orphans, "replies that found no query")                                                  \
	X(edns, "queries with EDNS (OPT)")                                                         \
	X(edns_do, "queries with the DNSSEC OK bit")                                               \
	X(ecs, "queries with EDNS Client Subnet")                                                  \
	X(dot, "DNS-over-TLS connections (ssl records flagged dot)")                               \
	X(doh, "DNS-over-HTTPS connections (ssl records flagged doh)")                             \
	X(tls, "TLS connections (ssl records)")                                                    \
	X(tls_established, "TLS connections whose handshake completed")                            \
	X(tls_resumed, "TLS connections that resumed a session")                                   \
	X(tls_sni, "TLS connections whose client sent an SNI")                                     \
	X(http, "HTTP transactions (http records)")                                                \
	X(http_requests, "HTTP requests (records with a method)")                                  \
	X(http_responses, "HTTP responses (records with a status code)")                           \
	X(http_no_response, "HTTP requests that got no response")

struct sum_counts {
#define SUM_FIELD(f, h) uint64_t f;
	SUM_COUNTERS(SUM_FIELD)
#undef SUM_FIELD
	uint64_t opcode[16];
	uint64_t http_class[6]; /* HTTP responses by status class: [1] 1xx ... [5] 5xx, [0] other */
};

enum {
	SUM_Q_TXN,
	SUM_Q_QSIZE,
	SUM_Q_RSIZE,
	SUM_Q_RATIO,
	SUM_Q_PPS,
	SUM_Q_DPS,
	SUM_Q_HTTP_TIME, /* HTTP request to response, microseconds */
	SUM_Q_HTTP_RESP, /* HTTP response body bytes */
	SUM_Q_HTTP_REQ,	 /* HTTP request body bytes */
	SUM_Q_N
};
enum {
	SUM_T_QNAME,
	SUM_T_QNAME2,
	SUM_T_QNAME3,
	SUM_T_NX,
	SUM_T_SRVFAIL,
	SUM_T_REFUSED,
	SUM_T_SLOW,
	SUM_T_QTYPE,
	SUM_T_RCODE,
	SUM_T_CLIENT,
	SUM_T_SERVER,
	SUM_T_PORT,
	SUM_T_POD,	    /* client pods ("namespace/pod") by queries */
	SUM_T_POD_NX,	    /* ... by NXDOMAIN answers */
	SUM_T_POD_SRVFAIL,  /* ... by SERVFAIL answers */
	SUM_T_DOT_CLIENT,   /* clients of DNS over TLS (address, pod) by connections */
	SUM_T_DOH_CLIENT,   /* clients of DNS over HTTPS (address, pod) by connections */
	SUM_T_TLS_SNI,	    /* server names by connections */
	SUM_T_TLS_SNI_FAIL, /* ... by connections whose handshake did not complete */
	SUM_T_TLS_VERSION,
	SUM_T_TLS_JA4,
	SUM_T_TLS_ALPN, /* the negotiated application protocol */
	SUM_T_HTTP_HOST,
	SUM_T_HTTP_HOST_5XX, /* hosts by 5xx responses */
	SUM_T_HTTP_STATUS,   /* status codes (integer keys) */
	SUM_T_HTTP_METHOD,
	SUM_T_HTTP_PATH, /* URIs without their query */
	SUM_T_N
};
enum { SUM_H_QNAME, SUM_H_CLIENT, SUM_H_SERVER, SUM_H_SNI, SUM_H_JA4, SUM_H_HTTP_HOST, SUM_H_N };

struct sum_window {
	bool used;
	uint64_t start_ns;	    /* aligned window start */
	uint64_t end_ns;	    /* start_ns + period */
	uint64_t first_ns, last_ns; /* packet times seen */
	struct sum_counts c;
	struct quant *q[SUM_Q_N]; /* TXN in microseconds, sizes in bytes */
	struct topn *t[SUM_T_N];
	struct hll *h[SUM_H_N];
	uint64_t sec, sec_pkts, sec_dns; /* the second being counted for the rates */
	uint64_t sec_end_ns;		 /* (sec + 1) s in ns */
	bool sec_open;
	uint64_t slow_ns; /* slow-name threshold */
	bool slow_fixed;  /* from the previous window (else this one's running p90) */
};

/*
 * Front caches: small exact tables in front of the current window's top-N sketches. A key
 * seen again while it sits in its cache slot (a reply after its query, a name or client that
 * repeats) only adds to a pending count there; the count reaches the Misra-Gries sketch as one
 * weighted update when the slot is taken by another key, when the window rotates, or before any
 * reader looks at the window (sum_flush). Weighted updates keep the sketch's guarantees
 * (sketch_topn.h) in any order; a sketch that never purges (at most k distinct keys in the
 * window) gives exactly the counts it gave without the caches. A key enters a cache once per
 * stay, so its HyperLogLog update is made then: adding the same hash again would change
 * nothing.
 */
#define SUM_NC_BITS   11 /* name cache: 2^11 slots, direct-mapped on a cheap hash of the name */
#define SUM_NC_SLOTS  (1u << SUM_NC_BITS)
#define SUM_NC_KEY    88 /* longer names bypass the cache */
#define SUM_AC_BITS   10 /* address caches (client, server) */
#define SUM_AC_SLOTS  (1u << SUM_AC_BITS)
#define SUM_PC_SLOTS  64  /* non-53 port cache */
#define SUM_QT_DIRECT 256 /* qtypes below this are counted in a plain array */

enum { SUM_NP_Q, SUM_NP_NX, SUM_NP_SRVFAIL, SUM_NP_REFUSED, SUM_NP_SLOW, SUM_NP_N };

/* The slots are found with a cheap hash of the key (sum_fast_hash); the sketch hash
 * (sketch_hash.h), which the top-N and HyperLogLog sketches need, is computed once when a key
 * enters its slot. */
struct sum_nent {		 /* 128 bytes */
	uint64_t fh;		 /* sum_fast_hash of the name */
	uint64_t hash;		 /* sketch_hash of the name */
	uint32_t pend[SUM_NP_N]; /* Q: qname, qname2 and qname3 alike */
	uint16_t len;
	uint8_t used;
	uint8_t pad;
	char key[SUM_NC_KEY];
};

struct sum_aent {      /* 32 bytes */
	uint64_t a[2]; /* the address bytes (IPv4: 4, the rest zero) */
	uint64_t hash; /* sketch_hash of the top-N key (family byte, address bytes) */
	uint32_t pend;
	uint8_t len; /* top-N key bytes (5 or 17), 0: free */
};

struct sum_pent {
	uint32_t pend;
	uint16_t port;
};

struct sum_front {
	struct sum_nent names[SUM_NC_SLOTS];
	struct sum_aent addr[2][SUM_AC_SLOTS]; /* client, server */
	struct sum_pent ports[SUM_PC_SLOTS];
	uint64_t qtype[SUM_QT_DIRECT];
	uint64_t rcode[16];
	bool dirty; /* something pending since the last flush */
};

/* The progress bar's state (summary_progress.c). */
struct sum_progress {
	bool active, shown;
	dev_t dev;
	ino_t ino;
	off_t size;
	int fd;
	struct timespec t0, last;
};

/* What each handler summary_routes() registers is called with. */
struct sum_route {
	struct summary *s;
	int n; /* the window, -1: the merged view */
};
#define SUM_ROUTES_MAX 10 /* windows with a route of their own */

/* One summary object (summary_new): everything the hooks and readers share. */
struct summary {
	struct summary_config cfg;
	atomic_int lock;	/* sum_lock_take(): a spinlock */
	struct sum_window *win; /* cfg.periods windows, a ring */
	unsigned cur;
	struct sum_front *front;  /* the current window's front caches */
	struct sum_window merged; /* scratch for the merged view */
	struct sum_counts life;	  /* windows no longer current, for _total counters */
	double life_qsum[SUM_Q_N];
	uint64_t life_qcount[SUM_Q_N];
	struct sum_route routes[1 + SUM_ROUTES_MAX]; /* merged, then window 0, 1, ... */
	struct sum_progress prog;
};

/* The lock between the input thread (hooks) and the HTTP thread (readers). A spinlock: the
 * hooks hold it for a few hundred instructions, so taking it is one atomic exchange and
 * releasing it one store; a waiter spins briefly, then yields the CPU (a reader building a
 * JSON view holds it longest). */
static inline void sum_lock_take(struct summary *s)
{
	unsigned spins = 0;

	while (atomic_exchange_explicit(&s->lock, 1, memory_order_acquire)) {
		while (atomic_load_explicit(&s->lock, memory_order_relaxed)) {
			if (++spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
				__builtin_ia32_pause();
#endif
			} else {
				sched_yield();
			}
		}
	}
}
static inline void sum_lock_give(struct summary *s)
{
	atomic_store_explicit(&s->lock, 0, memory_order_release);
}

/* The hooks' lock matters only when another thread reads the summaries (--metrics); a --read
 * --summary run updates them uncontended from one thread and skips it. */
static inline void sum_lock(struct summary *s)
{
	if (s->cfg.shared)
		sum_lock_take(s);
}
static inline void sum_unlock(struct summary *s)
{
	if (s->cfg.shared)
		sum_lock_give(s);
}

/* Moves every pending count of the front caches into the current window; with forget, the
 * caches are emptied too (the window is about to rotate). Caller holds the lock. */
void sum_flush(struct summary *s, bool forget);
/* The current window for packet time ts_ns (rotating if it passed the window's end), for the
 * record hooks of summary_l7.c. Caller holds the lock (sum_lock). */
struct sum_window *sum_window_at(struct summary *s, uint64_t ts_ns);
void sum_window_reset(struct sum_window *w);
struct sum_window *sum_window_nth(struct summary *s, unsigned n);
struct sum_window *sum_merge_all(struct summary *s);
void sum_counts_add(struct sum_counts *a, const struct sum_counts *b);
void sum_lifetime_add(struct summary *s, const struct sum_window *w);

#endif
