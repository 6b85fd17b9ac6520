// SPDX-License-Identifier: Apache-2.0
/*
 * tcp.c - TCP stream reassembly for the L7 protocols (see tcp.h and l7.h).
 *
 * A connection is created by the first segment an L7 protocol wants (match()), and has two
 * directions, each with the next sequence number it expects and a sorted list of segments that
 * arrived ahead of it. In-order bytes go straight to the protocol; old bytes (retransmissions)
 * are trimmed so each byte is delivered once; segments ahead of a hole wait, within a per
 * direction and a global byte cap. When a cap is hit, or the connection ends or expires with
 * a hole still open, the reassembler gives up on the hole: on_tcp_gap, then what follows.
 * Connections close on RST, when both FINs have been reached, on idle timeout (packet time), or
 * when the connection cap evicts the least recently active one.
 *
 * The global byte cap covers every buffer: the queued segments and what the L7 protocol holds
 * for the connection (l7_tcp_ctx.buf_bytes, read around each call into it). Connections that
 * hold any bytes are also on a second activity list; when a segment needs room, or a protocol's
 * buffers grew past the cap, the least recently active of them are evicted until it fits.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "counter.h"
#include "l7.h"
#include "log.h"
#include "tcp.h"

#define TCP_BUCKETS 16384u
#define TCP_FIN	    0x01
#define TCP_SYN	    0x02
#define TCP_RST	    0x04
#define TCP_ACK	    0x10
/* A segment further ahead than this is not worth waiting for: jump to it (a gap). */
#define TCP_MAX_AHEAD (1u << 20)

PANO_COUNTER(c_tcp_conns, "tcp_conns", "event", "TCP connections tracked");
PANO_COUNTER(c_tcp_retrans, "tcp_retransmitted", "event",
	     "TCP segments (or parts) seen again and delivered only once");
PANO_COUNTER(c_tcp_ooo, "tcp_out_of_order", "event", "TCP segments held until a hole filled");
PANO_COUNTER(c_tcp_unclaimed, "tcp_unclaimed", "event",
	     "TCP connections whose first payload no protocol recognised (not reassembled)");
PANO_COUNTER(c_tcp_cut, "tcp_segments_cut", "drop",
	     "TCP segments the capture cut short: the rest given up on as a hole of known length");
PANO_COUNTER(c_tcp_gap, "tcp_gap", "drop", "holes in TCP streams given up on (data lost)");
PANO_COUNTER(c_tcp_ooo_cap, "tcp_ooo_overflow", "drop",
	     "TCP holes given up on because the out-of-order cap was reached");
PANO_COUNTER(c_tcp_timeout, "tcp_conn_timeout", "event",
	     "TCP connections closed after the idle timeout");
PANO_COUNTER(c_tcp_evicted, "tcp_conn_evicted", "drop",
	     "TCP connections evicted by the connection cap");
PANO_COUNTER(c_tcp_nomem, "tcp_nomem", "drop", "TCP segments dropped: out of memory");
PANO_COUNTER(c_tcp_buf_evicted, "tcp_buf_evicted", "drop",
	     "TCP connections evicted because their buffers were needed (TCP memory cap)");

struct tcp_key {
	uint32_t src_id;
	uint8_t family;
	uint8_t pad;
	uint16_t port_a, port_b; /* a = the lower (address, port) endpoint */
	uint8_t addr_a[16], addr_b[16];
};

struct tcp_seg {
	uint32_t seq, len;
	uint64_t ts_ns;
	struct tcp_seg *next;
	uint8_t data[];
};

struct tcp_dir {
	int started;   /* next is valid */
	int fin;       /* a FIN was seen at fin_seq */
	int done;      /* every byte up to the FIN was delivered */
	uint32_t next; /* next sequence number expected */
	uint32_t fin_seq;
	uint32_t ooo_bytes;
	struct tcp_seg *ooo; /* sorted by seq */
};

struct tcp_conn {
	struct tcp_key key;
	struct l7_tcp_ctx ctx;
	const struct l7_proto *proto; /* NULL: not bound (yet) */
	void *pst;		      /* the protocol's state (of the engine's l7 set) */
	unsigned maybe;		      /* unbound: protocols that may take it at its first data */
	struct tcp_dir dir[2];	      /* 0: client to server, 1: server to client */
	uint64_t last_ts;
	struct pano_frame synth; /* frame for data delivered outside a segment (close) */
	struct tcp_conn *hnext;
	struct tcp_conn *prev, *next;	/* activity list, least recent first */
	struct tcp_conn *bprev, *bnext; /* the same, of connections that hold buffers */
	bool on_blist;
};

/* One engine's connections. */
struct tcp_table {
	struct tcp_limits lim;
	const struct l7_set *l7; /* the protocols connections are bound to */
	struct tcp_conn *tab[TCP_BUCKETS];
	struct tcp_conn *lru_head, *lru_tail; /* activity list */
	struct tcp_conn *buf_head, *buf_tail; /* the same, of connections holding buffers */
	unsigned nconns;		      /* also read by the metrics thread */
	size_t total_buf;		      /* likewise */
	uint64_t next_id;
	uint64_t uid_key; /* the engine's, into every connection's l7_tcp_ctx */
};

void tcp_limits_default(struct tcp_limits *l)
{
	*l = (struct tcp_limits){
	    .max_conns = 65536,
	    .max_conn_buf = 256u << 10,
	    .max_total_buf = 64u << 20,
	    .timeout_ns = 60ull * 1000000000ull,
	};
}

struct tcp_table *tcp_new(const struct tcp_limits *l, const struct l7_set *l7, uint64_t uid_key)
{
	struct tcp_table *t = calloc(1, sizeof(*t));

	if (!t) {
		pr_err("tcp_new: calloc: out of memory");
		return NULL;
	}
	if (l)
		t->lim = *l;
	else
		tcp_limits_default(&t->lim);
	t->l7 = l7;
	t->next_id = 1;
	t->uid_key = uid_key;
	return t;
}

void tcp_free(struct tcp_table *t)
{
	if (!t)
		return;
	tcp_close_all(t);
	free(t);
}

void tcp_set_limits(struct tcp_table *t, const struct tcp_limits *l)
{
	t->lim = *l;
}

void tcp_get_limits(const struct tcp_table *t, struct tcp_limits *l)
{
	*l = t->lim;
}

/* Also read by the metrics thread: a moment old at worst. */
unsigned tcp_conns(const struct tcp_table *t)
{
	return __atomic_load_n(&t->nconns, __ATOMIC_RELAXED);
}

size_t tcp_buffered(const struct tcp_table *t)
{
	return __atomic_load_n(&t->total_buf, __ATOMIC_RELAXED);
}

static unsigned tcp_hash(const struct tcp_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 16777619u;
	return h % TCP_BUCKETS;
}

/* Builds the direction-independent key of pkt's connection. */
static void tcp_make_key(const struct pano_pkt *pkt, struct tcp_key *k)
{
	int cmp = memcmp(pkt->saddr.a, pkt->daddr.a, 16);

	memset(k, 0, sizeof(*k));
	k->src_id = pkt->frame && pkt->frame->src ? pkt->frame->src->id : 0;
	k->family = pkt->saddr.family;
	if (cmp < 0 || (cmp == 0 && pkt->sport <= pkt->dport)) {
		memcpy(k->addr_a, pkt->saddr.a, 16);
		memcpy(k->addr_b, pkt->daddr.a, 16);
		k->port_a = pkt->sport;
		k->port_b = pkt->dport;
	} else {
		memcpy(k->addr_a, pkt->daddr.a, 16);
		memcpy(k->addr_b, pkt->saddr.a, 16);
		k->port_a = pkt->dport;
		k->port_b = pkt->sport;
	}
}

static void tcp_lru_unlink(struct tcp_table *t, struct tcp_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		t->lru_head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		t->lru_tail = c->prev;
	c->prev = c->next = NULL;
}

static void tcp_lru_append(struct tcp_table *t, struct tcp_conn *c)
{
	c->prev = t->lru_tail;
	c->next = NULL;
	if (t->lru_tail)
		t->lru_tail->next = c;
	else
		t->lru_head = c;
	t->lru_tail = c;
}

static void tcp_blist_unlink(struct tcp_table *t, struct tcp_conn *c)
{
	if (!c->on_blist)
		return;
	if (c->bprev)
		c->bprev->bnext = c->bnext;
	else
		t->buf_head = c->bnext;
	if (c->bnext)
		c->bnext->bprev = c->bprev;
	else
		t->buf_tail = c->bprev;
	c->bprev = c->bnext = NULL;
	c->on_blist = false;
}

static void tcp_blist_append(struct tcp_table *t, struct tcp_conn *c)
{
	c->bprev = t->buf_tail;
	c->bnext = NULL;
	if (t->buf_tail)
		t->buf_tail->bnext = c;
	else
		t->buf_head = c;
	t->buf_tail = c;
	c->on_blist = true;
}

/* Puts c on the list of connections holding buffers, or takes it off, as it holds some or none. */
static void tcp_blist_update(struct tcp_table *t, struct tcp_conn *c)
{
	bool holds = c->dir[0].ooo_bytes || c->dir[1].ooo_bytes || c->ctx.buf_bytes;
	if (holds && !c->on_blist)
		tcp_blist_append(t, c);
	else if (!holds)
		tcp_blist_unlink(t, c);
}

/* After a call into the protocol: what its buffers for c grew or shrank by goes into the total
 * (before: ctx.buf_bytes before the call). */
static void tcp_l7_account(struct tcp_table *t, struct tcp_conn *c, size_t before)
{
	t->total_buf = t->total_buf - before + c->ctx.buf_bytes;
	tcp_blist_update(t, c);
}

static void tcp_deliver(struct tcp_table *t, struct tcp_conn *c, int d, const uint8_t *data,
			uint32_t len, const struct pano_pkt *pkt)
{
	if (!len)
		return;
	if (!c->proto && c->maybe) { /* its first payload: which protocol is it? */
		int i = l7_detect(t->l7, c->maybe, d == 0, data, len);
		c->maybe = 0;
		if (i < 0) {
			counter_inc(&c_tcp_unclaimed);
			return;
		}
		c->proto = t->l7->proto[i];
		c->pst = t->l7->st[i];
	}
	if (c->proto && c->proto->on_tcp_data) {
		size_t before = c->ctx.buf_bytes;
		c->proto->on_tcp_data(c->pst, &c->ctx, d == 0, data, len, pkt);
		tcp_l7_account(t, c, before);
	}
}

/* A pkt for bytes delivered without a segment at hand (at close): times and addresses only. */
static void tcp_synth_pkt(struct tcp_conn *c, int d, uint64_t ts_ns, struct pano_pkt *p)
{
	memset(p, 0, sizeof(*p));
	c->synth.ts_ns = ts_ns;
	p->ts_ns = ts_ns;
	p->frame = &c->synth;
	p->l4proto = IPPROTO_TCP;
	p->saddr = d == 0 ? c->ctx.client : c->ctx.server;
	p->daddr = d == 0 ? c->ctx.server : c->ctx.client;
	p->sport = d == 0 ? c->ctx.client_port : c->ctx.server_port;
	p->dport = d == 0 ? c->ctx.server_port : c->ctx.client_port;
}

static void tcp_check_fin(struct tcp_dir *dir)
{
	if (dir->fin && !dir->done && (int32_t)(dir->next - dir->fin_seq) >= 0)
		dir->done = 1;
}

/* Delivers queued segments that the expected sequence number has reached. pkt may be NULL. */
static void tcp_drain(struct tcp_table *t, struct tcp_conn *c, int d, const struct pano_pkt *pkt)
{
	struct tcp_dir *dir = &c->dir[d];
	struct tcp_seg *s;

	while ((s = dir->ooo) && (int32_t)(s->seq - dir->next) <= 0) {
		uint32_t old = dir->next - s->seq;
		dir->ooo = s->next;
		dir->ooo_bytes -= sizeof(*s) + s->len;
		t->total_buf -= sizeof(*s) + s->len;
		tcp_blist_update(t, c);
		if (old < s->len) {
			struct pano_pkt sp;
			if (!pkt)
				tcp_synth_pkt(c, d, s->ts_ns, &sp);
			dir->next += s->len - old;
			tcp_deliver(t, c, d, s->data + old, s->len - old, pkt ? pkt : &sp);
		} else {
			counter_inc(&c_tcp_retrans);
		}
		free(s);
	}
	tcp_check_fin(dir);
}

/* Gives up on the hole before the first queued segment (or jumps to seq if none is queued). */
static void tcp_gap(struct tcp_table *t, struct tcp_conn *c, int d, uint32_t seq,
		    const struct pano_pkt *pkt)
{
	struct tcp_dir *dir = &c->dir[d];
	uint32_t next = dir->ooo && (int32_t)(dir->ooo->seq - seq) < 0 ? dir->ooo->seq : seq;

	counter_inc(&c_tcp_gap);
	if (c->proto && c->proto->on_tcp_gap) {
		size_t before = c->ctx.buf_bytes;
		c->proto->on_tcp_gap(c->pst, &c->ctx, d == 0, (uint32_t)(next - dir->next));
		tcp_l7_account(t, c, before);
	}
	dir->next = next;
	tcp_drain(t, c, d, pkt);
}

/* Delivers everything still queued, hole by hole (the connection is ending). */
static void tcp_flush_dir(struct tcp_table *t, struct tcp_conn *c, int d)
{
	while (c->dir[d].ooo)
		tcp_gap(t, c, d, c->dir[d].ooo->seq, NULL);
}

static void tcp_close(struct tcp_table *t, struct tcp_conn *c, int flush);

/* Evicts the least recently active connections that hold buffers, other than keep (may be
 * NULL), until need more bytes fit under the cap or none is left to evict. */
static void tcp_make_room(struct tcp_table *t, size_t need, const struct tcp_conn *keep)
{
	while (t->total_buf + need > t->lim.max_total_buf) {
		struct tcp_conn *v = t->buf_head;
		if (v == keep)
			v = v->bnext;
		if (!v)
			return;
		counter_inc(&c_tcp_buf_evicted);
		tcp_close(t, v, 1);
	}
}

/* Queues a segment ahead of the expected number; 0, or -1 if it does not fit under the caps
 * (the total cap after evicting other connections' buffers for it). */
static int tcp_queue(struct tcp_table *t, struct tcp_conn *c, int d, uint32_t seq,
		     const uint8_t *data, uint32_t len, uint64_t ts_ns)
{
	struct tcp_dir *dir = &c->dir[d];
	struct tcp_seg **pp = &dir->ooo;
	size_t need = sizeof(struct tcp_seg) + len;

	for (; *pp && (int32_t)((*pp)->seq - seq) <= 0; pp = &(*pp)->next) {
		if ((*pp)->seq == seq && (*pp)->len >= len) {
			counter_inc(&c_tcp_retrans);
			return 0;
		}
	}
	if (dir->ooo_bytes + need > t->lim.max_conn_buf)
		return -1;
	tcp_make_room(t, need, c);
	if (t->total_buf + need > t->lim.max_total_buf)
		return -1;
	struct tcp_seg *s = malloc(sizeof(*s) + len);
	if (!s) {
		counter_inc(&c_tcp_nomem);
		return 0;
	}
	s->seq = seq;
	s->len = len;
	s->ts_ns = ts_ns;
	memcpy(s->data, data, len);
	s->next = *pp;
	*pp = s;
	dir->ooo_bytes += need;
	t->total_buf += need;
	tcp_blist_update(t, c);
	counter_inc(&c_tcp_ooo);
	return 0;
}

/* Gives up on everything before seq: queued data goes out hole by hole, then a last gap. */
static void tcp_jump(struct tcp_table *t, struct tcp_conn *c, int d, uint32_t seq,
		     const struct pano_pkt *pkt)
{
	struct tcp_dir *dir = &c->dir[d];

	tcp_flush_dir(t, c, d);
	if ((int32_t)(seq - dir->next) > 0)
		tcp_gap(t, c, d, seq, pkt);
}

/* Handles the payload bytes [seq, seq+len) of one direction. */
static void tcp_data(struct tcp_table *t, struct tcp_conn *c, int d, uint32_t seq,
		     const uint8_t *data, uint32_t len, const struct pano_pkt *pkt)
{
	struct tcp_dir *dir = &c->dir[d];
	int32_t rel = (int32_t)(seq - dir->next);

	if (rel > 0 && (uint32_t)rel > TCP_MAX_AHEAD) {
		tcp_jump(t, c, d, seq, pkt);
	} else if (rel > 0) {
		if (tcp_queue(t, c, d, seq, data, len, pkt->ts_ns) == 0)
			return;
		/* Over a cap: give up on the first hole, then try again to place the segment. */
		counter_inc(&c_tcp_ooo_cap);
		tcp_gap(t, c, d, seq, pkt);
		if ((int32_t)(seq - dir->next) > 0 &&
		    tcp_queue(t, c, d, seq, data, len, pkt->ts_ns) == 0)
			return;
		/* Still no room (the global cap is held by others): jump to this segment. */
		tcp_jump(t, c, d, seq, pkt);
	}
	rel = (int32_t)(seq - dir->next);
	uint32_t old = rel < 0 ? (uint32_t)(-(int64_t)rel) : 0;
	if (old >= len) {
		counter_inc(&c_tcp_retrans);
		return;
	}
	if (old)
		counter_inc(&c_tcp_retrans);
	dir->next += len - old;
	tcp_deliver(t, c, d, data + old, len - old, pkt);
	tcp_drain(t, c, d, pkt);
}

static void tcp_free_dir(struct tcp_table *t, struct tcp_dir *dir)
{
	struct tcp_seg *s, *n;

	for (s = dir->ooo; s; s = n) {
		n = s->next;
		t->total_buf -= sizeof(*s) + s->len;
		free(s);
	}
	dir->ooo = NULL;
	dir->ooo_bytes = 0;
}

/* Ends c: queued data goes out after a gap, the protocol frees its state, c is freed. */
static void tcp_close(struct tcp_table *t, struct tcp_conn *c, int flush)
{
	struct tcp_conn **pp = &t->tab[tcp_hash(&c->key)];

	if (flush) {
		tcp_flush_dir(t, c, 0);
		tcp_flush_dir(t, c, 1);
	}
	if (c->proto && c->proto->on_tcp_close) {
		size_t before = c->ctx.buf_bytes;
		c->proto->on_tcp_close(c->pst, &c->ctx);
		t->total_buf = t->total_buf - before + c->ctx.buf_bytes;
	}
	t->total_buf -= c->ctx.buf_bytes; /* a protocol that kept some: no one frees them now */
	tcp_free_dir(t, &c->dir[0]);
	tcp_free_dir(t, &c->dir[1]);
	tcp_blist_unlink(t, c);
	while (*pp && *pp != c)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = c->hnext;
	tcp_lru_unlink(t, c);
	t->nconns--;
	free(c);
}

/*
 * Decides which side of a connection first seen in pkt is the client: the SYN sender; the
 * receiver of a SYN-ACK; otherwise the side not on a port some protocol registered (probed with
 * the protocols' match()); otherwise the side with the higher port. Returns 1 when pkt's sender
 * is the client.
 */
static int tcp_sender_is_client(const struct tcp_table *t, const struct pano_pkt *pkt)
{
	if ((pkt->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN)
		return 1;
	if ((pkt->tcp_flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
		return 0;
	struct pano_pkt probe = *pkt;
	unsigned maybe;
	probe.payload = NULL;
	probe.payload_len = 0;
	probe.sport = 0;
	if (l7_match_tcp(t->l7, &probe, &maybe) >= 0)
		return 1;
	probe.dport = pkt->sport;
	if (l7_match_tcp(t->l7, &probe, &maybe) >= 0)
		return 0;
	return pkt->sport >= pkt->dport;
}

static struct tcp_conn *tcp_create(struct tcp_table *t, const struct pano_pkt *pkt,
				   const struct tcp_key *k, int pi, unsigned maybe)
{
	while (t->nconns >= t->lim.max_conns && t->lru_head) {
		counter_inc(&c_tcp_evicted);
		tcp_close(t, t->lru_head, 1);
	}
	struct tcp_conn *c = calloc(1, sizeof(*c));
	if (!c) {
		counter_inc(&c_tcp_nomem);
		return NULL;
	}
	int sc = tcp_sender_is_client(t, pkt);
	c->key = *k;
	if (pi >= 0) {
		c->proto = t->l7->proto[pi];
		c->pst = t->l7->st[pi];
	}
	c->maybe = maybe;
	c->ctx.src = pkt->frame ? pkt->frame->src : NULL;
	c->ctx.client = sc ? pkt->saddr : pkt->daddr;
	c->ctx.server = sc ? pkt->daddr : pkt->saddr;
	c->ctx.client_port = sc ? pkt->sport : pkt->dport;
	c->ctx.server_port = sc ? pkt->dport : pkt->sport;
	c->ctx.conn_id = t->next_id++;
	c->ctx.uid_key = t->uid_key;
	c->synth.src = c->ctx.src;
	c->synth.linktype = pkt->frame ? pkt->frame->linktype : 0;
	c->synth.meta.dir = -1;
	unsigned h = tcp_hash(k);
	c->hnext = t->tab[h];
	t->tab[h] = c;
	tcp_lru_append(t, c);
	t->nconns++;
	counter_inc(&c_tcp_conns);
	return c;
}

void tcp_segment(struct tcp_table *t, const struct pano_pkt *pkt)
{
	struct tcp_key k;
	struct tcp_conn *c;

	tcp_make_key(pkt, &k);
	for (c = t->tab[tcp_hash(&k)]; c; c = c->hnext)
		if (memcmp(&c->key, &k, sizeof(k)) == 0)
			break;
	if (!c) {
		/* Only a SYN or data opens a connection: a lone ACK, FIN or RST ends one. */
		if (pkt->tcp_flags & TCP_RST)
			return;
		if (!(pkt->tcp_flags & TCP_SYN) && !pkt->payload_len)
			return;
		unsigned maybe;
		int pi = l7_match_tcp(t->l7, pkt, &maybe);
		if (pi == -1)
			return;
		c = tcp_create(t, pkt, &k, pi, maybe);
		if (!c)
			return;
	}
	int d = (pkt->sport == c->ctx.client_port && memcmp(pkt->saddr.a, c->ctx.client.a, 16) == 0)
		    ? 0
		    : 1;
	/* A connection to itself (same address and port both ways) is all "client" data. */
	struct tcp_dir *dir = &c->dir[d];
	uint32_t seq = pkt->tcp_seq;

	c->last_ts = pkt->ts_ns;
	tcp_lru_unlink(t, c);
	tcp_lru_append(t, c);
	if (c->on_blist) {
		tcp_blist_unlink(t, c);
		tcp_blist_append(t, c);
	}
	if (pkt->tcp_flags & TCP_RST) {
		tcp_close(t, c, 1);
		return;
	}
	if (pkt->tcp_flags & TCP_SYN) {
		seq++;
		if (!dir->started) {
			dir->started = 1;
			dir->next = seq;
		}
	}
	if (!dir->started) {
		dir->started = 1;
		dir->next = seq;
	}
	if (pkt->payload_len && (c->proto || c->maybe))
		tcp_data(t, c, d, seq, pkt->payload, pkt->payload_len, pkt);
	/* A segment the capture cut short (snaplen; a GSO frame is up to 64 KiB): once its kept
	 * bytes are in order, the rest is a hole of known length, given up on at once. */
	if (pkt->payload_wire_len > pkt->payload_len && (c->proto || c->maybe) &&
	    dir->next == seq + pkt->payload_len) {
		counter_inc(&c_tcp_cut);
		tcp_gap(t, c, d, seq + pkt->payload_wire_len, pkt);
	}
	if (pkt->tcp_flags & TCP_FIN) {
		dir->fin = 1;
		dir->fin_seq = seq + pkt->payload_wire_len;
		tcp_check_fin(dir);
	}
	if (c->dir[0].done && c->dir[1].done) {
		tcp_close(t, c, 1);
		c = NULL;
	}
	/* The protocol's buffers may have grown past the cap: others give way (c, if it alone
	 * holds more, stays over it until it drains; the cap is at least one connection's). */
	tcp_make_room(t, 0, c);
}

void tcp_expire(struct tcp_table *t, uint64_t now_ns)
{
	while (t->lru_head && t->lru_head->last_ts + t->lim.timeout_ns < now_ns) {
		counter_inc(&c_tcp_timeout);
		tcp_close(t, t->lru_head, 1);
	}
}

void tcp_close_all(struct tcp_table *t)
{
	while (t->lru_head)
		tcp_close(t, t->lru_head, 1);
}
