// SPDX-License-Identifier: Apache-2.0
/*
 * dns_txn.c - DNS transactions the way Zeek's DNS script builds them. Per connection
 * (5-tuple plus input source), queries and replies wait in one FIFO; a reply takes the oldest
 * pending query with its trans_id, a query takes the oldest pending reply with its id (reply
 * seen first), anything else waits. A record is written when it has both halves, when it has
 * waited --dns-timeout of packet time, when its connection goes away, or at the end of input.
 * As in Zeek: RD, TC, Z, qclass and qtype come from the query; rcode from the reply; AA, RA
 * and rtt only from a reply that carries answers (rtt left unset when it would be 0), while
 * PANO's own latency is set whenever both halves were seen, whatever the reply says; the
 * query name of a lone reply is the owner of its first answer; mDNS/LLMNR messages are each
 * logged alone. The open-transaction table (count, and bytes of answers held), and the UDP
 * connection table are capped; what the caps push out is logged early and counted.
 *
 * NAT: a transaction that crosses a NAT of the capturing node is seen twice, on connections
 * that share one side: the client's view and the server's (DNAT: pod -> service address, then
 * pod -> backend) or the client's and the uplink's (SNAT: pod -> server, then node -> server).
 * A query whose id, type and name equal those of a query seen at most DNS_NAT_WINDOW_NS before
 * on another connection of the same source sharing exactly one side (found through a small
 * table of recent queries) is the other view of the same transaction: the two are twins and
 * make one record when both are done (or time out). DNAT: the record's server is the backend
 * and service_h the address the client asked; SNAT: the client is the pod. The query's sender
 * is the client and the reply's the server, from whichever view carried them.
 *
 * Everything lives in a struct dns_state (dns_txn.h), one per engine. A finished record is a
 * struct dns_rec (dns_rec.h) handed to the state's rec_emit; each parsed message is also
 * emitted as a summary-only event. The module knows nothing of formats, sinks or summaries.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counter.h"
#include "dns_rec.h"
#include "dns_txn.h"
#include "log.h"
#include "uid.h"

PANO_COUNTER(c_dns_msgs, "dns_messages", "event", "DNS messages parsed");
PANO_COUNTER(c_dns_records, "dns_records", "event",
	     "DNS log records emitted (records over the size cap: records_over_cap)");
PANO_COUNTER(c_dns_unanswered, "dns_unanswered", "event", "DNS queries logged without reply");
PANO_COUNTER(c_dns_orphan, "dns_orphan_replies", "event", "DNS replies logged without query");
PANO_COUNTER(c_dns_evicted, "dns_txn_evicted", "drop",
	     "open DNS transactions logged early because the table was full");
PANO_COUNTER(c_dns_conn_pending_cap, "dns_conn_pending_cap", "drop",
	     "open DNS transactions logged early: one connection had too many waiting");
PANO_COUNTER(c_dns_conn_evicted, "dns_conn_evicted", "drop",
	     "DNS UDP connections dropped because the table was full");
PANO_COUNTER(c_dns_nomem, "dns_nomem", "drop", "DNS messages dropped for lack of memory");
PANO_COUNTER(c_dns_ans_cut, "dns_answers_cut", "drop", "DNS answers beyond the per-record cap");
PANO_COUNTER(c_dns_nat_joined, "dns_nat_joined", "event",
	     "DNS transactions seen on both sides of a NAT of the node, logged as one record");
PANO_COUNTER(c_dns_nat_reply_copy, "dns_nat_reply_copies", "event",
	     "DNS replies seen again past a NAT of the node after their transaction was logged "
	     "(half undone: no query on that side), not logged again");

#define DNS_CONN_IDLE_NS     (60ull * 1000000000ull) /* like Zeek's UDP inactivity timeout */
#define DNS_CONN_MAX_PENDING 1024		     /* open transactions per connection */
#define DNS_MAX_ANSWERS	     1000
#define DNS_ANSWERS_BYTES    (64 * 1024)
#define DNS_PENDING_BYTES    (64u << 20)  /* answers held by all open records together */
#define DNS_NAT_WINDOW_NS    200000000ull /* a NAT's two views of a query: microseconds apart */

/*
 * Recently logged transactions (dns_state.done_recent) by the key of recent queries: a reply
 * that a NAT of the node rewrites only in part (the destination restored, the source not yet:
 * a hostNetwork process's query to a ClusterIP) is seen once more, after its transaction was
 * logged, on a connection where no query ever passed. Such a reply, sharing one side with a
 * transaction logged within DNS_NAT_WINDOW_NS, is a copy: counted, not logged as a lone reply.
 */

struct dns_state *dns_txn_new(const struct dns_config *cfg, const struct rec_emit *emit)
{
	struct dns_state *st = calloc(1, sizeof(*st));

	if (!st) {
		pr_err("dns_txn_new: calloc: out of memory");
		return NULL;
	}
	st->cfg = *cfg;
	if (!st->cfg.max_open)
		st->cfg.max_open = 100000;
	st->emit = emit;
	return st;
}

unsigned dns_txn_open(const struct dns_state *st)
{
	return st->g_open;
}

/*
 * Free lists of records and UDP connections: a busy resolver makes and drops one of each per
 * transaction. At most DNS_POOL_MAX of each are kept; beyond that they go back to malloc.
 */
#define DNS_POOL_MAX 256

/* A zeroed object of size bytes, from the free list when it has one. */
static void *pool_get(struct dns_pool *pl, size_t size)
{
	void *o = pl->head;
	if (!o)
		return calloc(1, size);
	memcpy(&pl->head, o, sizeof(void *));
	pl->n--;
	memset(o, 0, size);
	return o;
}

static void pool_put(struct dns_pool *pl, void *o)
{
	if (pl->n >= DNS_POOL_MAX) {
		free(o);
		return;
	}
	memcpy(o, &pl->head, sizeof(void *));
	pl->head = o;
	pl->n++;
}

static void pool_drain(struct dns_pool *pl)
{
	while (pl->head) {
		void *o = pl->head;
		memcpy(&pl->head, o, sizeof(void *));
		free(o);
	}
	pl->n = 0;
}

static bool port_multicast(uint16_t p)
{
	return p == 5353 || p == 5355;
}

/* ---- pending lists ------------------------------------------------------------------ */

/* A connection's records go to slots from a place of its own (pseed): for UDP that is the
 * connection's hash, known from the packet before the message is parsed, so both table slots
 * can be prefetched while it is. */
static unsigned pending_slot(uint64_t pseed, uint16_t id)
{
	return (unsigned)(pseed + id) & ((1u << DNS_HASH_BITS) - 1);
}

static void info_unlink(struct dns_state *st, struct dns_info *in)
{
	struct dns_conn *c = in->conn;
	if (in->cprev)
		in->cprev->cnext = in->cnext;
	else
		c->phead = in->cnext;
	if (in->cnext)
		in->cnext->cprev = in->cprev;
	else
		c->ptail = in->cprev;
	c->npending--;
	if (in->hprev)
		in->hprev->hnext = in->hnext;
	else
		st->pending_hash[in->hslot] = in->hnext;
	if (in->hnext)
		in->hnext->hprev = in->hprev;
	if (in->gprev)
		in->gprev->gnext = in->gnext;
	else
		st->g_head = in->gnext;
	if (in->gnext)
		in->gnext->gprev = in->gprev;
	else
		st->g_tail = in->gprev;
	st->g_open--;
	st->g_bytes -= in->answers.cap + in->ttls.cap;
	in->cprev = in->cnext = in->gprev = in->gnext = in->hprev = in->hnext = NULL;
	in->linked = false;
}

static void info_link(struct dns_state *st, struct dns_info *in)
{
	struct dns_conn *c = in->conn;
	in->cnext = NULL;
	in->cprev = c->ptail;
	if (c->ptail)
		c->ptail->cnext = in;
	else
		c->phead = in;
	c->ptail = in;
	c->npending++;
	in->hslot = pending_slot(c->pseed, in->trans_id);
	in->hprev = NULL;
	in->hnext = st->pending_hash[in->hslot];
	if (in->hnext)
		in->hnext->hprev = in;
	st->pending_hash[in->hslot] = in;
	in->gnext = NULL;
	in->gprev = st->g_tail;
	if (st->g_tail)
		st->g_tail->gnext = in;
	else
		st->g_head = in;
	st->g_tail = in;
	st->g_open++;
	st->g_bytes += in->answers.cap + in->ttls.cap;
	in->linked = true;
}

/*
 * Free answer and TTL buffers of wbuf_put's first size: a record takes one only when it gets
 * its first answer, so a pending query holds none, and a buffer in use always has the capacity
 * it would have grown to from empty (the pending-bytes cap counts exactly what it did). Grown
 * buffers go back to malloc.
 */
#define DNS_SB_FIRST  512 /* wbuf_put_slow's first capacity */
#define DNS_QBUF_KEEP 64  /* query buffers kept with a record in the free list */

static void sb_release(struct dns_state *st, struct wbuf *b)
{
	if (b->cap == DNS_SB_FIRST && st->sb_pool.n < DNS_POOL_MAX) {
		memcpy(b->p, &st->sb_pool.head, sizeof(void *));
		st->sb_pool.head = b->p;
		st->sb_pool.n++;
		memset(b, 0, sizeof(*b));
		return;
	}
	wbuf_free(b);
}

/* Gives an empty b a pooled buffer (else wbuf_put allocates one as usual). */
static void sb_attach(struct dns_state *st, struct wbuf *b)
{
	if (b->cap || !st->sb_pool.head)
		return;
	b->p = st->sb_pool.head;
	memcpy(&st->sb_pool.head, b->p, sizeof(void *));
	st->sb_pool.n--;
	b->cap = DNS_SB_FIRST;
	b->len = 0;
	b->cut = false;
}

/* Takes in out of the recent-queries table. */
static void recent_forget(struct dns_state *st, struct dns_info *in)
{
	if (in->recent) {
		st->recent[in->recent - 1] = NULL;
		in->recent = 0;
	}
}

/* Releases a record's buffers and the record itself. */
static void info_release(struct dns_state *st, struct dns_info *in)
{
	recent_forget(st, in);
	free(in->qbuf);
	sb_release(st, &in->answers);
	sb_release(st, &in->ttls);
	free(in);
}

/* Into the free list, with a small query buffer kept for the next record. */
static void info_free(struct dns_state *st, struct dns_info *in)
{
	recent_forget(st, in);
	if (st->info_pool.n >= DNS_POOL_MAX) {
		info_release(st, in);
		return;
	}
	in->query = NULL;
	in->query_len = 0;
	if (in->qcap > DNS_QBUF_KEEP) {
		free(in->qbuf);
		in->qbuf = NULL;
		in->qcap = 0;
	}
	sb_release(st, &in->answers);
	sb_release(st, &in->ttls);
	memcpy(in, &st->info_pool.head, sizeof(void *));
	st->info_pool.head = in;
	st->info_pool.n++;
}

/* A zeroed record (a small query buffer kept from its last use), or NULL when out of memory. */
static struct dns_info *info_get(struct dns_state *st)
{
	struct dns_info *in = st->info_pool.head;
	if (!in)
		return calloc(1, sizeof(*in));
	memcpy(&st->info_pool.head, in, sizeof(void *));
	st->info_pool.n--;
	char *qbuf = in->qbuf;
	size_t qcap = in->qcap;
	memset(in, 0, sizeof(*in));
	in->qbuf = qbuf;
	in->qcap = qcap;
	return in;
}

static void info_pool_drain(struct dns_state *st)
{
	while (st->info_pool.head) {
		struct dns_info *in = st->info_pool.head;
		memcpy(&st->info_pool.head, in, sizeof(void *));
		info_release(st, in);
	}
	st->info_pool.n = 0;
	pool_drain(&st->sb_pool);
}

static void done_note(struct dns_state *st, const struct dns_info *in, const struct dns_conn *c);

/*
 * The one record of a pair of twins (see the top of the file): the view that saw a reply
 * (the earlier one first), the addresses of the backend (DNAT) or of the client pod (SNAT),
 * the client's sender from either query and the server's from either reply.
 */
static struct dns_info *info_merge(struct dns_state *st, struct dns_info *in, struct dns_info *t,
				   const struct dns_conn **out_conn)
{
	struct dns_info *a = in->nat ? in : t, *b = in->nat ? t : in; /* a: the earlier view */
	struct dns_info *base = a->saw_reply || !b->saw_reply ? a : b;

	*out_conn = base->conn;
	if (a->nat == DNS_NAT_DNAT) {
		*out_conn = b->conn;
		base->has_service = true;
		memcpy(base->service_s, a->conn->resp_s, sizeof(base->service_s));
		base->service_p = a->conn->resp_p;
	} else {
		*out_conn = a->conn;
	}
	base->orig_w = sender_get(st->senders, a->orig_who);
	if (!base->orig_w)
		base->orig_w = sender_get(st->senders, b->orig_who);
	base->resp_w = sender_get(st->senders, b->resp_who);
	if (!base->resp_w)
		base->resp_w = sender_get(st->senders, a->resp_who);
	counter_inc(&c_dns_nat_joined);
	return base;
}

/* Scratch for the texts a record points at besides the transaction's own (names with numbered
 * fallbacks, the client subnet): it lives as long as the record is being emitted. */
struct dns_rec_text {
	char qclass[32], qtype[32], rcode[32], opcode[32], edns_rcode[32];
	char ecs[INET6_ADDRSTRLEN + 8];
};

/* The dns.log record of in, seen on c (Zeek's DNS::Info, then PANO's fields; see dns_rec.h). */
static void dns_rec_fill(struct dns_rec *r, struct dns_rec_text *tx, const struct dns_info *in,
			 const struct dns_conn *c)
{
	const char *name;
	size_t n;

	REC_CLEAR(r, DNS_REC_FIELDS);
	REC_SET(r, ts, in->ts_ns);
	REC_SET(r, uid, rec_str(c->uid, c->uid_len));
	REC_SET(r, id_orig_h, rec_str(c->orig_s, c->orig_len));
	REC_SET(r, id_orig_p, c->orig_p);
	REC_SET(r, id_resp_h, rec_str(c->resp_s, c->resp_len));
	REC_SET(r, id_resp_p, c->resp_p);
	REC_SET(r, proto, c->proto == IPPROTO_TCP ? REC_LIT("tcp") : REC_LIT("udp"));
	REC_SET(r, trans_id, in->trans_id);
	if (in->has_rtt)
		REC_SET(r, rtt, in->rtt_ns);
	if (in->query)
		REC_SET(r, query, rec_str(in->query, in->query_len));
	if (in->has_qclass) {
		REC_SET(r, qclass, in->qclass);
		name = dns_qclass_name(in->qclass, tx->qclass, sizeof(tx->qclass), &n);
		REC_SET(r, qclass_name, rec_str(name, n));
		REC_SET(r, qtype, in->qtype);
		/* On NetBIOS, type 33 is a node status, not SRV. */
		if (c->netbios && in->qtype == DNS_T_SRV) {
			REC_SET(r, qtype_name, REC_LIT("NBSTAT"));
		} else {
			name = dns_qtype_name(in->qtype, tx->qtype, sizeof(tx->qtype), &n);
			REC_SET(r, qtype_name, rec_str(name, n));
		}
	}
	if (in->has_rcode) {
		REC_SET(r, rcode, in->rcode);
		name = dns_rcode_name(in->rcode, tx->rcode, sizeof(tx->rcode), &n);
		REC_SET(r, rcode_name, rec_str(name, n));
	}
	REC_SET(r, AA, in->AA);
	REC_SET(r, TC, in->TC);
	REC_SET(r, RD, in->RD);
	REC_SET(r, RA, in->RA);
	REC_SET(r, Z, in->Z);
	if (in->nanswers) {
		REC_SET(r, answers,
			((struct rec_strv){in->answers.p, in->answers.len, in->nanswers}));
		REC_SET(r, TTLs, ((struct rec_secv){in->ttls.p, in->nanswers}));
	}
	REC_SET(r, rejected, in->rejected);
	REC_SET(r, opcode, in->opcode);
	name = dns_opcode_name(in->opcode, c->netbios, tx->opcode, sizeof(tx->opcode), &n);
	REC_SET(r, opcode_name, rec_str(name, n));
	if (c->node[0])
		REC_SET(r, node, rec_cstr(c->node));
	if (in->iface[0])
		REC_SET(r, interface, rec_cstr(in->iface));
	if (in->dir == 0 || in->dir == 1)
		REC_SET(r, direction, in->dir ? REC_LIT("out") : REC_LIT("in"));
	if (in->query_size)
		REC_SET(r, query_size, in->query_size);
	if (in->reply_size)
		REC_SET(r, reply_size, in->reply_size);
	if (in->has_latency)
		REC_SET(r, latency, in->latency_ns);
	if (in->has_edns) {
		const struct dns_edns *e = &in->edns;
		REC_SET(r, edns_udp_size, e->udp_size);
		REC_SET(r, edns_version, e->version);
		REC_SET(r, edns_do, e->do_bit);
		if (e->ecs) {
			char a[INET6_ADDRSTRLEN];
			if (e->ecs_family == 1)
				pano_ip4_text(e->ecs_addr, a);
			else
				pano_ip6_text(e->ecs_addr, a);
			int n = snprintf(tx->ecs, sizeof(tx->ecs), "%s/%u", a, e->ecs_source);
			REC_SET(r, edns_ecs,
				rec_str(tx->ecs, n < 0 ? 0
						 : (size_t)n < sizeof(tx->ecs)
						     ? (size_t)n
						     : sizeof(tx->ecs) - 1));
		}
		REC_SET(r, edns_cookie, e->cookie);
	}
	if (in->has_edns_rcode) {
		REC_SET(r, edns_rcode, in->edns_rcode);
		name = dns_rcode_name(in->edns_rcode, tx->edns_rcode, sizeof(tx->edns_rcode), &n);
		REC_SET(r, edns_rcode_name, rec_str(name, n));
	}
	if (in->query_cut)
		REC_SET(r, query_cut, true);
	if (in->reply_cut)
		REC_SET(r, reply_cut, true);
	if (in->has_service) {
		REC_SET(r, service_h, rec_cstr(in->service_s));
		REC_SET(r, service_p, in->service_p);
	}
	SENDER_REC_WHO(r, in->orig_w, in->resp_w);
	r->orig_a = &c->orig_h;
	r->resp_a = &c->resp_h;
	r->single = c->multicast;
}

/* Emits the record of in (and of its twin t, or NULL: one record for both) and frees them
 * (neither may be linked). */
static void info_emit(struct dns_state *st, struct dns_info *first, struct dns_info *t)
{
	struct dns_info *in = first;
	const struct dns_conn *c = in->conn;
	struct dns_rec r;
	struct dns_rec_text tx;

	if (t) {
		in = info_merge(st, first, t, &c);
	} else {
		in->orig_w = sender_get(st->senders, in->orig_who);
		in->resp_w = sender_get(st->senders, in->resp_who);
	}
	if (in->saw_query && !in->saw_reply)
		counter_inc(&c_dns_unanswered);
	if (in->saw_reply && !in->saw_query)
		counter_inc(&c_dns_orphan);
	dns_rec_fill(&r, &tx, in, c);
	rec_emit(st->emit, &dns_rec_type, &r);
	counter_inc(&c_dns_records);
	done_note(st, in, c);
	if (t) {
		t->twin = first->twin = NULL;
		info_free(st, t);
	}
	info_free(st, first);
}

/* Takes in (and its twin) out of the pending lists and logs them: the end of a record. */
static void info_finish(struct dns_state *st, struct dns_info *in)
{
	struct dns_info *t = in->twin;

	if (in->linked)
		info_unlink(st, in);
	if (t && t->linked)
		info_unlink(st, t);
	info_emit(st, in, t);
}

/* ---- UDP connections ---------------------------------------------------------------- */

static uint64_t conn_hash(const struct pano_addr *a, uint16_t ap, const struct pano_addr *b,
			  uint16_t bp, uint32_t src)
{
	uint64_t h = src, x = 0, y = 0;
	memcpy(&x, a->a, 8);
	memcpy(&y, a->a + 8, 8);
	uint64_t ha = uid_mix64(x ^ uid_mix64(y ^ ap));
	memcpy(&x, b->a, 8);
	memcpy(&y, b->a + 8, 8);
	uint64_t hb = uid_mix64(x ^ uid_mix64(y ^ bp));
	return uid_mix64(h ^ (ha + hb)); /* symmetric in the two endpoints */
}

static bool addr_eq(const struct pano_addr *a, const struct pano_addr *b)
{
	return a->family == b->family && !memcmp(a->a, b->a, 16);
}

static void lru_unlink(struct dns_state *st, struct dns_conn *c)
{
	if (c->lprev)
		c->lprev->lnext = c->lnext;
	else
		st->lru_head = c->lnext;
	if (c->lnext)
		c->lnext->lprev = c->lprev;
	else
		st->lru_tail = c->lprev;
	c->lprev = c->lnext = NULL;
}

static void lru_append(struct dns_state *st, struct dns_conn *c)
{
	c->lnext = NULL;
	c->lprev = st->lru_tail;
	if (st->lru_tail)
		st->lru_tail->lnext = c;
	else
		st->lru_head = c;
	st->lru_tail = c;
}

/* Logs everything still pending on c (oldest first). */
static void conn_drain(struct dns_state *st, struct dns_conn *c)
{
	while (c->phead)
		info_finish(st, c->phead);
}

static void udp_conn_free(struct dns_state *st, struct dns_conn *c)
{
	struct dns_conn **pp = &st->udp_hash[c->hslot];
	while (*pp && *pp != c)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = c->hnext;
	lru_unlink(st, c);
	conn_drain(st, c);
	st->udp_nconns--;
	pool_put(&st->conn_pool, c);
}

static void conn_set_node(struct dns_conn *c, const struct pano_source *src)
{
	c->src_id = src ? src->id : 0;
	c->node[0] = '\0';
	if (src && src->node)
		snprintf(c->node, sizeof(c->node), "%s", src->node);
}

/* The texts every record of c carries, made once: its addresses and its uid (from seed). */
static void conn_set_texts(struct dns_conn *c, uint64_t seed)
{
	pano_addr_str(&c->orig_h, c->orig_s, sizeof(c->orig_s));
	pano_addr_str(&c->resp_h, c->resp_s, sizeof(c->resp_s));
	uid_make(c->uid, seed);
	c->orig_len = (uint8_t)strlen(c->orig_s);
	c->resp_len = (uint8_t)strlen(c->resp_s);
	c->uid_len = (uint8_t)strlen(c->uid);
}

/* Finds or creates the UDP connection of pkt. A new connection's originator is the sender of
 * a query, or the receiver of a reply (Zeek flips such connections) unless the reply goes to a
 * multicast group. NULL when out of memory. */
static struct dns_conn *udp_conn_get(struct dns_state *st, const struct pano_pkt *pkt,
				     bool is_reply, uint32_t src, uint64_t h64)
{
	unsigned h = (unsigned)(h64 & ((1u << DNS_HASH_BITS) - 1));
	struct dns_conn *c;

	for (c = st->udp_hash[h]; c; c = c->hnext) {
		if (c->src_id != src)
			continue;
		if ((addr_eq(&c->orig_h, &pkt->saddr) && c->orig_p == pkt->sport &&
		     addr_eq(&c->resp_h, &pkt->daddr) && c->resp_p == pkt->dport) ||
		    (addr_eq(&c->orig_h, &pkt->daddr) && c->orig_p == pkt->dport &&
		     addr_eq(&c->resp_h, &pkt->saddr) && c->resp_p == pkt->sport)) {
			lru_unlink(st, c);
			lru_append(st, c);
			return c;
		}
	}
	if (st->udp_nconns >= st->cfg.max_open && st->lru_head) {
		counter_inc(&c_dns_conn_evicted);
		udp_conn_free(st, st->lru_head);
	}
	c = pool_get(&st->conn_pool, sizeof(*c));
	if (!c) {
		counter_inc(&c_dns_nomem);
		return NULL;
	}
	bool mcast_dst =
	    (pkt->daddr.family == 4 && pkt->daddr.a[0] >= 224 && pkt->daddr.a[0] < 240) ||
	    (pkt->daddr.family == 6 && pkt->daddr.a[0] == 0xff);
	bool flip = is_reply && !mcast_dst;
	c->orig_h = flip ? pkt->daddr : pkt->saddr;
	c->orig_p = flip ? pkt->dport : pkt->sport;
	c->resp_h = flip ? pkt->saddr : pkt->daddr;
	c->resp_p = flip ? pkt->sport : pkt->dport;
	c->proto = IPPROTO_UDP;
	conn_set_node(c, pkt->frame ? pkt->frame->src : NULL);
	c->multicast = port_multicast(c->resp_p);
	c->netbios = c->resp_p == 137;
	conn_set_texts(c, uid_udp_seed(st->uid_key, ++st->uid_counter));
	c->hslot = h;
	c->pseed = h64;
	c->hnext = st->udp_hash[h];
	st->udp_hash[h] = c;
	lru_append(st, c);
	st->udp_nconns++;
	return c;
}

void dns_conn_init_tcp(struct dns_state *st, struct dns_conn *c, const struct pano_addr *client,
		       uint16_t cport, const struct pano_addr *server, uint16_t sport,
		       uint64_t uid_seed, const struct pano_source *src)
{
	memset(c, 0, sizeof(*c));
	c->orig_h = *client;
	c->orig_p = cport;
	c->resp_h = *server;
	c->resp_p = sport;
	c->proto = IPPROTO_TCP;
	c->is_tcp = true;
	conn_set_node(c, src);
	conn_set_texts(c, uid_seed);
	c->pseed = uid_mix64((uint64_t)(uintptr_t)c);
}

void dns_conn_close(struct dns_state *st, struct dns_conn *c)
{
	conn_drain(st, c);
}

/* ---- applying a message to a record (Zeek's event handlers) --------------------------- */

/* Sets the query text to q (n bytes). Names from dns_name_read are lower-case already (ASCII
 * letters lowered, other bytes escaped as lower-case hex); NetBIOS names are kept as decoded. */
static void info_set_query(struct dns_info *in, const char *q, size_t n)
{
	if (n + 1 > in->qcap) {
		size_t cap = 64;
		while (cap < n + 1)
			cap *= 2;
		char *p = malloc(cap);
		if (!p) {
			in->query = NULL;
			in->query_len = 0;
			counter_inc(&c_dns_nomem);
			return;
		}
		free(in->qbuf);
		in->qbuf = p;
		in->qcap = cap;
	}
	memcpy(in->qbuf, q, n + 1);
	in->query = in->qbuf;
	in->query_len = n;
}

/* NetBIOS first-level decoding ("EBEC..." or "ebec..." -> "AB"), Zeek style: 15 name characters,
 * the suffix byte dropped, trailing spaces removed. Leaves q alone if it is not encoded. */
static void netbios_decode(char *q)
{
	size_t n = strlen(q), o = 0;
	if (n < 32)
		return;
	for (size_t i = 0; i < 32; i++)
		if (toupper((unsigned char)q[i]) < 'A' || toupper((unsigned char)q[i]) > 'P')
			return;
	char out[17];
	for (size_t i = 0; i < 30; i += 2)
		out[o++] = (char)(((toupper((unsigned char)q[i]) - 'A') << 4) |
				  (toupper((unsigned char)q[i + 1]) - 'A'));
	while (o && (out[o - 1] == ' ' || out[o - 1] == '\0'))
		o--;
	for (size_t i = 0; i < o; i++)
		if ((unsigned char)out[i] < 0x20 || (unsigned char)out[i] >= 0x7f)
			out[i] = '?';
	out[o] = '\0';
	memcpy(q, out, o + 1);
}

static void info_add_answer(struct dns_state *st, struct dns_info *in, const char *text, size_t len,
			    uint32_t ttl)
{
	if (in->nanswers >= DNS_MAX_ANSWERS || in->answers.len + len > DNS_ANSWERS_BYTES) {
		counter_inc(&c_dns_ans_cut);
		return;
	}
	sb_attach(st, &in->answers);
	sb_attach(st, &in->ttls);
	wbuf_put(&in->answers, text, len);
	wbuf_put(&in->answers, "", 1); /* each answer ends with its NUL */
	wbuf_put(&in->ttls, (const char *)&ttl, sizeof(ttl));
	in->nanswers++;
}

/* Dynamic update (RFC 2136) sections in Zeek's words: prerequisites ("pre: ...") from the
 * answer section, updates ("add: ...", "del: ...") from the authority section. */
static int update_text(const struct dns_msg *m, const struct dns_rr *rr, char *out, size_t sz)
{
	char owner[DNS_NAME_TEXT], tn[32], rd[2048];
	const char *t = dns_qtype_name(rr->type, tn, sizeof(tn), NULL);
	dns_name_at(m, rr->name_off, owner, sizeof(owner));
	rd[0] = '\0';
	if (rr->rdlen && dns_rr_text(m, rr, rd, sizeof(rd)) < 0)
		rd[0] = '\0';
	if (rr->section == DNS_SEC_AN) {
		if (rr->rclass == DNS_T_ANY && rr->type == DNS_T_ANY)
			return snprintf(out, sz, "pre: NameInUse %s", owner);
		if (rr->rclass == DNS_T_ANY)
			return snprintf(out, sz, "pre: RRSetExists %s %s", t, owner);
		if (rr->rclass == 254 && rr->type == DNS_T_ANY)
			return snprintf(out, sz, "pre: NameNotInUse %s", owner);
		if (rr->rclass == 254)
			return snprintf(out, sz, "pre: NoRRSet %s %s", t, owner);
		return snprintf(out, sz, "pre: RRSetValue %s %s %s", t, owner, rd);
	}
	if (rr->rclass == DNS_T_ANY && rr->type == DNS_T_ANY)
		return snprintf(out, sz, "del: AllRRSets %s", owner);
	if (rr->rclass == DNS_T_ANY)
		return snprintf(out, sz, "del: RRSet %s", t);
	if (rr->rclass == 254)
		return snprintf(out, sz, "del: RR %s %s %s", t, owner, rd);
	return snprintf(out, sz, "add: %s %s %s", t, owner, rd);
}

/* Applies message m (len: its own length, of which m->len bytes were captured) to record in. */
static void info_apply(struct dns_state *st, struct dns_info *in, const struct dns_msg *m,
		       const struct pano_pkt *pkt, size_t len)
{
	struct dns_conn *c = in->conn;
	bool is_reply = DNS_QR(m->flags);
	unsigned op = DNS_OPCODE(m->flags);

	in->opcode = (uint8_t)op;
	if (!in->iface[0] && pkt->frame && pkt->frame->meta.iface)
		snprintf(in->iface, sizeof(in->iface), "%s", pkt->frame->meta.iface);
	if (in->dir < 0 && pkt->frame)
		in->dir = pkt->frame->meta.dir;
	if (pkt->frame && pkt->frame->meta.sender) {
		/* a query's sender is the client, a reply's the server */
		struct sender_ref *r = is_reply ? &in->resp_who : &in->orig_who;
		if (!r->gen)
			*r = sender_intern(st->senders, pkt->frame->meta.sender, pkt->ts_ns);
	}
	if (m->edns.present && (!in->has_edns || !is_reply)) {
		in->edns = m->edns;
		in->has_edns = true;
	}
	if (!is_reply) {
		in->query_size = len;
		in->query_cut = m->len < len;
		if (m->has_question && op != 5) {
			char q[DNS_NAME_TEXT];
			in->RD = DNS_RD(m->flags);
			in->TC = DNS_TC(m->flags);
			in->Z = DNS_Z(m->flags);
			in->qclass = m->qclass;
			in->qtype = m->qtype;
			in->has_qclass = true;
			if (c->netbios) {
				memcpy(q, m->qname, strlen(m->qname) + 1);
				netbios_decode(q);
				info_set_query(in, q, strlen(q));
			} else {
				info_set_query(in, m->qname, strlen(m->qname));
			}
		}
		return;
	}
	in->reply_size = len;
	in->reply_cut = m->len < len;
	in->rcode = DNS_RCODE(m->flags);
	in->has_rcode = true;
	if (m->edns.present) { /* RFC 6891: the OPT's upper 8 bits above the header's 4 */
		in->edns_rcode = (uint16_t)(m->edns.ext_rcode << 4 | DNS_RCODE(m->flags));
		in->has_edns_rcode = true;
	}
	if (DNS_RCODE(m->flags) && !m->qdcount)
		in->rejected = true;
	if (m->has_question && !m->ancount && !m->nscount && !m->arcount)
		in->rejected = true; /* Zeek's dns_rejected */
	for (unsigned i = 0; i < m->nrr; i++) {
		const struct dns_rr *rr = &m->rr[i];
		char text[16384]; /* TXT can be long; longer text is cut */
		int n;
		if (op == 5) {
			if (rr->section == DNS_SEC_AR)
				continue;
			n = update_text(m, rr, text, sizeof(text));
			if (n >= (int)sizeof(text))
				n = sizeof(text) - 1;
		} else {
			if (rr->section != DNS_SEC_AN)
				continue;
			/* On NetBIOS, type 33 is a node status (NBSTAT), not SRV: as Zeek, not
			 * logged (nor misread as SRV). */
			if (c->netbios && rr->type == DNS_T_SRV)
				continue;
			n = dns_rr_text(m, rr, text, sizeof(text));
		}
		if (n == DNS_RR_NONE)
			continue;
		if (!in->query) {
			char owner[DNS_NAME_TEXT];
			dns_name_at(m, rr->name_off, owner, sizeof(owner));
			info_set_query(in, owner, strlen(owner));
		}
		in->AA = DNS_AA(m->flags);
		in->RA = DNS_RA(m->flags);
		if (!in->has_rtt && pkt->ts_ns > in->ts_ns) {
			in->rtt_ns = pkt->ts_ns - in->ts_ns;
			in->has_rtt = true;
		}
		if (n > 0)
			info_add_answer(st, in, text, (size_t)n, rr->ttl);
	}
}

/* ---- the pairing ---------------------------------------------------------------------- */

/* The key of a transaction: its id, type, transport and name. */
static uint64_t txn_key(uint16_t id, uint16_t qtype, uint8_t proto, const char *q, size_t n)
{
	uint64_t h = id | (uint64_t)qtype << 16 | (uint64_t)proto << 32;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)q[i]) * 0x100000001b3ull;
	return uid_mix64(h);
}

/* The recent-queries slot of a query. */
static unsigned recent_slot(const struct dns_info *in)
{
	return (
	    unsigned)(txn_key(in->trans_id, in->qtype, in->conn->proto, in->query, in->query_len) &
		      ((1u << DNS_RECENT_BITS) - 1));
}

/* A logged transaction (with a query and a reply) enters the done table. */
static void done_note(struct dns_state *st, const struct dns_info *in, const struct dns_conn *c)
{
	uint64_t k;
	struct dns_done *d;

	if (!in->query || !in->saw_query || !in->saw_reply)
		return;
	k = txn_key(in->trans_id, in->qtype, c->proto, in->query, in->query_len);
	d = &st->done_recent[k & ((1u << DNS_RECENT_BITS) - 1)];
	d->key = k;
	d->ts_ns = in->reply_ts_ns;
	d->orig_h = c->orig_h;
	d->resp_h = c->resp_h;
	d->orig_p = c->orig_p;
	d->resp_p = c->resp_p;
}

/* True when a reply that found no query (m on c) is a NAT's late copy of a logged one. */
static bool done_copy(struct dns_state *st, const struct dns_msg *m, const struct dns_conn *c,
		      uint64_t ts_ns)
{
	uint64_t k;
	const struct dns_done *d;

	if (!m->has_question)
		return false;
	k = txn_key(m->id, m->qtype, c->proto, m->qname, strlen(m->qname));
	d = &st->done_recent[k & ((1u << DNS_RECENT_BITS) - 1)];
	if (d->key != k || ts_ns - d->ts_ns > DNS_NAT_WINDOW_NS)
		return false;
	bool so = d->orig_p == c->orig_p && addr_eq(&d->orig_h, &c->orig_h);
	bool sr = d->resp_p == c->resp_p && addr_eq(&d->resp_h, &c->resp_h);
	return so != sr;
}

static bool conn_same_orig(const struct dns_conn *a, const struct dns_conn *b)
{
	return a->orig_p == b->orig_p && addr_eq(&a->orig_h, &b->orig_h);
}

static bool conn_same_resp(const struct dns_conn *a, const struct dns_conn *b)
{
	return a->resp_p == b->resp_p && addr_eq(&a->resp_h, &b->resp_h);
}

/*
 * A new query in: pairs it with the other view of the same transaction across a NAT (see the
 * top of the file) when the recent-queries table holds one, else enters it there.
 */
static void twin_find(struct dns_state *st, struct dns_info *in)
{
	unsigned s = recent_slot(in);
	struct dns_info *x = st->recent[s];
	const struct dns_conn *a, *b = in->conn;

	if (x && !x->twin && x->saw_query && x->trans_id == in->trans_id && x->qtype == in->qtype &&
	    x->query_len == in->query_len &&
	    in->query_ts_ns - x->query_ts_ns <= DNS_NAT_WINDOW_NS &&
	    memcmp(x->query, in->query, in->query_len) == 0) {
		a = x->conn;
		bool so = conn_same_orig(a, b), sr = conn_same_resp(a, b);
		if (a != b && a->proto == b->proto && a->src_id == b->src_id && so != sr) {
			x->twin = in;
			in->twin = x;
			x->nat = so ? DNS_NAT_DNAT : DNS_NAT_SNAT;
			recent_forget(st, x);
			return;
		}
	}
	if (x)
		recent_forget(st, x);
	st->recent[s] = in;
	in->recent = s + 1;
}

static struct dns_info *info_new(struct dns_state *st, struct dns_conn *c, const struct dns_msg *m,
				 const struct pano_pkt *pkt)
{
	struct dns_info *in = info_get(st);
	if (!in) {
		counter_inc(&c_dns_nomem);
		return NULL;
	}
	in->conn = c;
	in->ts_ns = pkt->ts_ns;
	in->trans_id = m->id;
	in->dir = -1;
	return in;
}

void dns_txn_message(struct dns_state *st, struct dns_conn *c, const struct pano_pkt *pkt,
		     const uint8_t *msg, size_t len)
{
	struct dns_msg *m = &st->msg;
	uint32_t src = 0;
	uint64_t h64 = 0;
	/* The message's own length: a UDP datagram's length field (which the capture may have cut
	 * short); a DNS-over-TCP message (c set) always comes whole. */
	size_t wire = !c && pkt->payload_wire_len > len ? pkt->payload_wire_len : len;
	if (!c) {
		/* The UDP connection's slot, and where a record with this message's id would be:
		 * into the cache while the message is parsed. */
		src = pkt->frame && pkt->frame->src ? pkt->frame->src->id : 0;
		h64 = conn_hash(&pkt->saddr, pkt->sport, &pkt->daddr, pkt->dport, src);
		__builtin_prefetch(&st->udp_hash[h64 & ((1u << DNS_HASH_BITS) - 1)]);
		if (len >= 2)
			__builtin_prefetch(
			    &st->pending_hash[pending_slot(h64, msg[0] << 8 | msg[1])]);
	}
	int rc = dns_parse_wire(msg, len, wire, m);
	if (rc == DNS_ETRUNC && len < DNS_HDR_LEN)
		return; /* counted by the parser */
	counter_inc(&c_dns_msgs);
	struct dns_msg_ev ev = {.msg = m, .pkt = pkt, .size = (uint32_t)wire};
	rec_emit(st->emit, &dns_msg_ev_type, &ev);
	bool is_reply = DNS_QR(m->flags);
	if (!c) {
		c = udp_conn_get(st, pkt, is_reply, src, h64);
		if (!c)
			return;
	}
	c->last_ns = pkt->ts_ns;

	/* The oldest pending record of c with this trans_id and the other half missing. Its slot's
	 * chain is newest first, and records of one connection enter it in the order of c's list:
	 * the last match is the one nearest c's head. */
	struct dns_info *in = NULL;
	if (!c->multicast) {
		for (struct dns_info *p = st->pending_hash[pending_slot(c->pseed, m->id)]; p;
		     p = p->hnext)
			if (p->conn == c && p->trans_id == m->id &&
			    (is_reply ? p->saw_query && !p->saw_reply
				      : p->saw_reply && !p->saw_query))
				in = p;
	}
	if (in) {
		info_unlink(st, in);
	} else {
		if (is_reply && !c->multicast && done_copy(st, m, c, pkt->ts_ns)) {
			counter_inc(&c_dns_nat_reply_copy);
			return;
		}
		in = info_new(st, c, m, pkt);
		if (!in)
			return;
	}
	info_apply(st, in, m, pkt, wire);
	if (is_reply) {
		in->saw_reply = true;
		in->reply_ts_ns = pkt->ts_ns;
	} else {
		in->saw_query = true;
		in->query_ts_ns = pkt->ts_ns;
	}
	/* PANO's latency: unlike rtt, also for replies without answers (NXDOMAIN, NODATA...). */
	if (in->saw_query && in->saw_reply && in->reply_ts_ns >= in->query_ts_ns) {
		in->latency_ns = in->reply_ts_ns - in->query_ts_ns;
		in->has_latency = true;
	}
	if (c->multicast) {
		info_finish(st, in);
		return;
	}
	if (!is_reply && in->query && !in->saw_reply && !in->twin)
		twin_find(st, in);
	if (in->saw_query && in->saw_reply) {
		if (!in->twin || in->twin->done) {
			info_finish(st, in);
			return;
		}
		in->done = true; /* its twin is still open: one record when both are done */
	}
	info_link(st, in);
	/* Matching scans the connection's list: a bound on its length bounds the work per
	 * message (a hostile or very busy 5-tuple cannot make pairing quadratic). Logging a
	 * record early logs its twin too, which may be in: then there is nothing left to do. */
	while (c->npending > DNS_CONN_MAX_PENDING && c->phead != in) {
		struct dns_info *old = c->phead;
		bool took_in = old->twin == in;
		counter_inc(&c_dns_conn_pending_cap);
		info_finish(st, old);
		if (took_in)
			return;
	}
	while (st->g_head && st->g_head != in &&
	       (st->g_open > st->cfg.max_open || st->g_bytes > DNS_PENDING_BYTES)) {
		struct dns_info *old = st->g_head;
		bool took_in = old->twin == in;
		counter_inc(&c_dns_evicted);
		info_finish(st, old);
		if (took_in)
			return;
	}
}

void dns_txn_udp(struct dns_state *st, const struct pano_pkt *pkt)
{
	dns_txn_message(st, NULL, pkt, pkt->payload, pkt->payload_len);
}

void dns_txn_tick(struct dns_state *st, uint64_t now_ns)
{
	while (st->g_head && st->g_head->ts_ns + st->cfg.timeout_ns <= now_ns)
		info_finish(st, st->g_head);
	while (st->lru_head && !st->lru_head->npending &&
	       st->lru_head->last_ns + DNS_CONN_IDLE_NS <= now_ns)
		udp_conn_free(st, st->lru_head);
}

void dns_txn_flush(struct dns_state *st)
{
	while (st->g_head)
		info_finish(st, st->g_head);
	while (st->lru_head)
		udp_conn_free(st, st->lru_head);
	info_pool_drain(st);
	pool_drain(&st->conn_pool);
}

void dns_txn_free(struct dns_state *st)
{
	if (!st)
		return;
	while (st->g_head) {
		struct dns_info *in = st->g_head;
		info_unlink(st, in); /* off its connection's list too */
		info_release(st, in);
	}
	while (st->lru_head) {
		struct dns_conn *c = st->lru_head;
		lru_unlink(st, c);
		free(c);
	}
	info_pool_drain(st);
	pool_drain(&st->conn_pool);
	free(st);
}
