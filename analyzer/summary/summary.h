/* SPDX-License-Identifier: Apache-2.0 */
/*
 * summary.h - live summaries of traffic, DNS, TLS and HTTP (like pktvisor): per window of
 * packet time (default 60 s; the last --periods N windows are kept, default 5, plus a merged
 * view of them):
 * counters, per-second rates as quantiles, transaction time and size quantiles, top-N tables
 * and cardinalities, built on the sketches (sketch_topn.h, sketch_hll.h, sketch_quantile.h,
 * whose headers state the error bounds). Output as JSON (--summary, /api/v1/metrics/...) and
 * Prometheus text (/metrics).
 *
 * All of it lives in one object (struct summary, summary_new): every hook and output takes it
 * first, and two objects share nothing, so two engines can each feed their own.
 * Hooks: the L3/L4 decoder calls summary_packet() for every decoded UDP datagram or TCP
 * segment; the out stage (records.h) shows every finished record and summary-only event to
 * summary_record(), which gives DNS's to summary_dns_message() (every parsed message) and
 * summary_dns_txn() (every transaction closed: answered, timed out, or orphan reply), ssl
 * records to the TLS summaries (and, flagged dot/doh, to the encrypted-DNS ones) and http
 * records to the HTTP summaries (summary_l7.c).
 * The engine and its out stage hold the object's pointer, NULL when summaries are off, so a
 * run without summaries pays one branch per call site.
 * Time is packet time only, so a replay of a capture always gives the same numbers.
 *
 * Top-N updates go through small exact front caches first (summary_int.h): a repeated key
 * costs a counter increment, and the Misra-Gries sketch gets one weighted update per stay of a
 * key in its cache slot. Counts are those of unbuffered updates whenever a sketch holds all the
 * keys of its window; otherwise only the order of updates differs, within the same bounds.
 *
 * Threads: the hooks run on the input thread; the output functions may run on the HTTP
 * thread. The object's lock (a spinlock, taken by the hooks only with cfg.shared, i.e.
 * --metrics) serialises them.
 */
#ifndef PANO_SUMMARY_H
#define PANO_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "httpd.h"
#include "packet.h"

#define SUMMARY_MAX_NETS    32
#define SUMMARY_MAX_PERIODS 60

struct summary_net {
	uint8_t family; /* 4 or 6 */
	uint8_t plen;	/* prefix length */
	uint8_t a[16];
};

struct summary_config {
	uint64_t period_ns;			   /* window length, default 60 s */
	unsigned periods;			   /* windows kept, default 5 */
	unsigned topn_k;			   /* counters per top-N sketch, default 512 */
	unsigned top_show;			   /* items shown per top-N table, default 10 */
	struct summary_net nets[SUMMARY_MAX_NETS]; /* --host-spec: "our" addresses */
	unsigned nnets;
	bool shared; /* another thread reads the summaries (--metrics): take the lock */
};

void summary_config_default(struct summary_config *cfg);
/* Parses "CIDR,CIDR,..." (v4 or v6; a bare address is a /32 or /128) into cfg->nets.
 * 0, or -EINVAL with a message logged. */
int summary_parse_hosts(struct summary_config *cfg, const char *spec);

struct summary;

/* A summary object with its windows allocated; NULL when out of memory (said on stderr). */
struct summary *summary_new(const struct summary_config *cfg);
/* Frees s and everything in it (NULL: nothing). */
void summary_free(struct summary *s);

/* A decoded UDP datagram or TCP segment (counted once, as the decoder sees it). */
void summary_packet(struct summary *s, const struct pano_pkt *pkt);

/* One DNS message the DNS module parsed (a query or a reply). */
struct summary_dns_msg {
	uint64_t ts_ns;
	const struct pano_addr *saddr, *daddr; /* sender, receiver of this message */
	uint16_t sport, dport;
	uint8_t l4proto;       /* IPPROTO_UDP or IPPROTO_TCP */
	bool is_reply;	       /* QR bit */
	uint8_t opcode, rcode; /* header fields */
	uint16_t qtype;	       /* first question; 0 if none */
	const char *qname;     /* first question as text, NULL if none */
	uint16_t ancount;
	uint32_t size; /* DNS message bytes */
	bool edns, do_bit, ecs;
};
void summary_dns_message(struct summary *s, const struct summary_dns_msg *m);

/* One DNS transaction the DNS module closed. */
struct summary_dns_txn {
	uint64_t ts_ns; /* the query's time (the reply's for an orphan) */
	const struct pano_addr *client, *server;
	const char *qname; /* may be NULL */
	size_t qname_len;
	uint16_t qtype;
	bool answered;			 /* a query and its reply */
	bool timed_out;			 /* a query whose reply never came */
	bool orphan;			 /* a reply that found no query */
	uint64_t rtt_ns;		 /* answered only */
	uint32_t query_size, reply_size; /* 0 when that side is missing */
	const char *client_ns, *client_pod; /* the client's pod, when it is one of the node's */
	size_t client_ns_len, client_pod_len;
	int rcode; /* the reply's, -1 without one */
};
void summary_dns_txn(struct summary *s, const struct summary_dns_txn *t);

/* summary_dns_message() of a parsed message (len: DNS message bytes) without building a
 * struct summary_dns_msg (summary_dns.c calls it for DNS's message events). */
struct dns_msg;
void summary_dns_parsed(struct summary *s, const struct dns_msg *m, const struct pano_pkt *pkt,
			size_t len);
/* A finished record (or a summary-only event) from the out stage (records.h): each protocol's
 * summaries take the record types they know. */
struct rec_type;
void summary_record(struct summary *s, const struct rec_type *t, const void *rec);
/* The per-protocol record hooks summary_record() dispatches to: an ssl.log record
 * (summary_l7.c), an http.log record (summary_l7.c), DNS's records and events (summary_dns.c). */
struct ssl_rec;
struct http_rec;
void summary_tls(struct summary *s, const struct ssl_rec *r);
void summary_http(struct summary *s, const struct http_rec *r);
void summary_dns_record(struct summary *s, const struct rec_type *t, const void *rec);

/* End of input: the partial second is counted into the rates (NULL: nothing). */
void summary_finish(struct summary *s);

/* JSON of window n (0 = the current one, 1 the one before...) or of the merged view
 * (n < 0) into out. Returns 200, or 404 when window n does not exist. */
int summary_json(struct summary *s, int n, struct wbuf *out, bool pretty);

/* Appends the Prometheus exposition of the summaries (lifetime counters, sliding-window
 * summaries, top-N gauges, cardinality gauges) to out (NULL s: nothing). Always 200, as an
 * httpd_cb returns. */
int summary_metrics(struct summary *s, struct wbuf *out);

/* Registers GET /api/v1/metrics/merged and /api/v1/metrics/window/0..periods-1 (at most the
 * first 10) on h, served from s (which must outlive h's thread). */
int summary_routes(struct summary *s, struct httpd *h);

/* The progress bar of --read FILE --summary (stderr, only on a terminal, only after the file
 * has taken a second): start before reading path, poll between frames, end after. Its state
 * is s's; poll and end do nothing for a NULL s. */
void summary_progress_start(struct summary *s, const char *path);
void summary_progress_poll(struct summary *s);
void summary_progress_end(struct summary *s);

/* Helpers exposed for tests: pktvisor's qname2/qname3 of name into out ("" when the name has
 * fewer labels than that). */
void summary_qname_suffix(const char *name, unsigned labels, char *out, size_t outsz);
bool summary_addr_local(const struct summary *s, const struct pano_addr *a);

#endif
