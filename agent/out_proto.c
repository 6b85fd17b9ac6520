// SPDX-License-Identifier: Apache-2.0
/*
 * out_proto.c - the protobuf stream output (see out_proto.h). Two sides:
 *   - the ring reader calls out_proto_write(), which encodes the record as a Packet (the wire
 *     format written by hand, lib/stream.c: no protobuf-c on this path) into a staging buffer
 *     that stays in cache. At the end of the round (out_proto_kick) it sends the round itself
 *     when the connection is up and the writer asleep (trylock, never waits: what is pending,
 *     what is queued, then the round framed as one batch where it lies), and otherwise copies
 *     the round into a bounded queue (full: dropped and counted). The queue is a
 *     single-producer, single-consumer ring of encoded packets; the writer is woken only when
 *     it asked for it: the first packets (to start the flush clock) or a full batch;
 *   - the writer thread connects (TCP, then TLS if configured; the first time after the
 *     interfaces attached at start are known, so that the hello names them), sends the
 *     preamble and a hello, then frames batches from the queue when a batch's worth is queued
 *     or the oldest packet is flush_ms old, finishes what the ring reader could not send, and
 *     sends an AgentStats message every stats_ms. When the connection fails it drops the
 *     envelope in flight (counted), and retries with backoff 100 ms doubling to
 *     backoff_max_ms, reset by a successful hello. The queue keeps filling meanwhile, so a short
 *     outage loses only what does not fit. An analyzer that closes the connection first says
 *     why (a Refusal envelope, lib/stream.h): the writer reads it, logs it in one line
 *     (rate-limited) and, unless the analyzer only made room or lost patience with a slow
 *     hello, waits backoff_max_ms before trying again.
 */
#include <errno.h>
#include <net/if.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/types.h>

#include "capture.h"
#include "counter.h"
#include "log.h"
#include "out_proto.h"
#include "stream.h"
#include "who.h"

#define OP_MAX_IFACES	  512
#define OP_BACKOFF_MIN_MS 100
#define OP_STEP_MS	  200
#define OP_CONNECT_MS	  3000
#define OP_FIRST_WAIT_MS  1000
#define OP_IFACE_QUIET_MS 100
#define OP_NO_KICK	  UINT64_MAX   /* wake_recs while disconnected: records wait */
#define OP_STAGE_BYTES	  (256u << 10) /* > one packet of PANO_SNAPLEN_MAX */
#define OP_PKT_MAX	  (STREAM_PKT_OVERHEAD + IF_NAMESIZE + STREAM_WHO_MAX + PANO_SNAPLEN_MAX)
#define OP_ACK_WAIT_MS	  1000 /* an analyzer that has not acked by then never will (older) */
#define OP_DRAIN_MS	  2000 /* stopping: what is queued and its acks, at most this long */
#define OP_SENT_MIN	  256  /* batch records kept for acks, to start with */

PANO_COUNTER(c_op_queue_full, "proto_out_queue_full", "drop",
	     "frames the protobuf stream output dropped: its queue was full");
PANO_COUNTER(c_op_inflight, "proto_out_lost_in_flight", "drop",
	     "frames the protobuf stream output lost with a broken connection");
PANO_COUNTER(c_op_connect_fail, "proto_out_connect_failed", "event",
	     "protobuf stream connection attempts that failed (TCP or TLS)");
PANO_COUNTER(c_op_connects, "proto_out_connects", "event", "protobuf stream connections made");
PANO_COUNTER(c_op_refused, "proto_out_refused", "event",
	     "protobuf stream connections the analyzer closed with a reason (logged)");
PANO_COUNTER(c_op_acked, "proto_out_acked", "event",
	     "frames the analyzer acknowledged (the protobuf stream output releases them)");
PANO_COUNTER(c_op_resent, "proto_out_resent", "event",
	     "frames sent again after a reconnection (not acknowledged before it)");
PANO_COUNTER(c_op_unacked_lost, "proto_out_unacked_lost", "drop",
	     "frames queued or sent but not acknowledged when the agent stopped");

/* A batch sent to an analyzer that acknowledges, kept until an Ack covers it: its number and
 * its packets' place in the queue. */
struct op_sent {
	uint64_t seq, start, end;
	unsigned recs;
	unsigned bytes;
};

struct op_iface {
	int ifindex;
	char name[IF_NAMESIZE];
	int announced; /* named in the current session's hello */
};

struct out_proto {
	char host[256], port[32];
	struct out_proto_opts o;
	char node[256];
	struct tls_ctx *tls;
	pthread_t thread;
	int efd; /* eventfd: kicks and stop */
	volatile int stop;

	/* The record queue: packets already encoded as PacketBatch.packets members (tag, length,
	 * Packet), back to back, wrapping; qcap is a power of two. Positions only grow: the
	 * producer owns qtail and recs_in, the writer qhead, recs_out and qack (atomics, no lock).
	 * Bytes before qhead were sent; bytes before qack are free: acknowledged, or sent to an
	 * analyzer that does not acknowledge. The room between is sent[] (below). */
	uint8_t *q;
	uint64_t qcap;
	uint64_t qtail, recs_in;
	uint64_t qhead, recs_out;
	uint64_t qack;
	uint8_t *stage;		     /* producer only: this ring round's packets, encoded after
				      * STREAM_BATCH_OVERHEAD bytes of room for the batch header */
	size_t stage_len, stage_max; /* stage_max: a quarter of the queue, at most OP_STAGE_BYTES */
	unsigned stage_recs;
	uint64_t wake_recs; /* the writer wants a kick once this many records are queued */
			    /* (or batch_bytes of them; OP_NO_KICK: none) */
	int kicked;	    /* an eventfd wakeup is pending */

	pthread_mutex_t mu; /* the interface table */
	struct op_iface ifs[OP_MAX_IFACES];
	int nifs;
	unsigned ifs_gen;		     /* bumped on every change of ifs[] */
	struct op_iface pifs[OP_MAX_IFACES]; /* the producer's copy of ifs[] */
	int npifs;
	unsigned pifs_gen;
	const struct op_iface *plast; /* the producer's last lookup (NULL: none, or stale) */

	/* The connection and the envelope being sent: the writer thread holds smu except while it
	 * sleeps in poll(); the ring reader takes it only with trylock, to send a round itself. */
	pthread_mutex_t smu;
	int fd;
	struct tls_conn *conn;
	uint64_t session, seq;
	uint64_t first_seen_ns; /* when the writer first saw the oldest queued record, 0: none */
	uint8_t *out;		/* the envelope being sent */
	size_t out_cap, out_len, out_off;
	unsigned out_pkts; /* packets in that envelope */
	uint64_t out_bytes;
	bool out_resend; /* that envelope is a batch sent again (its packets counted sent) */
	uint64_t last_stats_ns;

	/* Acknowledgements (writer, under smu). acks: what this connection's analyzer does: -1
	 * not known yet (no batch goes before its first reply), 0 nothing (an older analyzer:
	 * batches are released when sent), 1 acknowledges (batches are kept until acked, and sent
	 * again after a reconnection). sent[]: the batches not acknowledged, oldest first, indices
	 * sent_head..sent_tail (growing; sent_cap a power of two); resend: the next of them to
	 * send again on this connection. */
	int acks;
	struct op_sent *sent;
	size_t sent_cap;
	uint64_t sent_head, sent_tail, resend;
	uint64_t connect_ns;
	uint64_t conn_acked, conn_resent; /* frames, this connection */
	uint64_t acked, resent, unacked_lost;

	struct stream_dec replies; /* what the analyzer writes back (a Refusal) */
	char refusal[64];	   /* the code of the refusal this connection got, or "" */
	struct log_limit refusal_log;

	struct out_stats st;
	uint64_t reconnects, dropped_unreported;
	uint64_t start_ns;
	uint64_t ifs_changed_ns; /* monotonic time of the last out_proto_iface_add() */
	uint64_t start_mono_ns;
	int connected;
	int joined; /* out_proto_drain() stopped the writer */
};

static uint64_t op_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t op_wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Splits "host:port" or "[v6]:port". 0 or -EINVAL. */
static int op_split(const char *spec, char *host, size_t hsz, char *port, size_t psz)
{
	const char *colon, *h = spec;
	size_t hl;

	if (spec[0] == '[') {
		const char *rb = strchr(spec, ']');
		if (!rb || rb[1] != ':')
			return -EINVAL;
		h = spec + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(spec, ':');
		if (!colon)
			return -EINVAL;
		hl = (size_t)(colon - spec);
	}
	if (hl == 0 || hl >= hsz || !colon[1] || strlen(colon + 1) >= psz)
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	snprintf(port, psz, "%s", colon + 1);
	return 0;
}

/* ---- the queue (ring reader side) --------------------------------------------------------- */

static void op_direct(struct out_proto *p);

/* Copies n bytes into the queue at position pos (wrapping). */
static void q_write(struct out_proto *p, uint64_t pos, const void *src, size_t n)
{
	size_t off = (size_t)(pos & (p->qcap - 1)), first = (size_t)p->qcap - off;
	if (first > n)
		first = n;
	memcpy(p->q + off, src, first);
	memcpy(p->q, (const uint8_t *)src + first, n - first);
}

/* Copies n bytes out of the queue from position pos (wrapping). */
static void q_read(const struct out_proto *p, uint64_t pos, void *dst, size_t n)
{
	size_t off = (size_t)(pos & (p->qcap - 1)), first = (size_t)p->qcap - off;
	if (first > n)
		first = n;
	memcpy(dst, p->q + off, first);
	memcpy((uint8_t *)dst + first, p->q, n - first);
}

/* Moves the staged records into the queue (room was reserved when they were staged). */
static void q_publish(struct out_proto *p)
{
	if (!p->stage_len)
		return;
	q_write(p, p->qtail, p->stage + STREAM_BATCH_OVERHEAD, p->stage_len);
	__atomic_store_n(&p->qtail, p->qtail + p->stage_len, __ATOMIC_RELEASE);
	__atomic_store_n(&p->recs_in, p->recs_in + p->stage_recs, __ATOMIC_RELEASE);
	p->stage_len = 0;
	p->stage_recs = 0;
}

/* The producer's entry for ifindex (its copy of the table, refreshed when the table changed). */
static const struct op_iface *op_iface_of(struct out_proto *p, int ifindex)
{
	unsigned gen = __atomic_load_n(&p->ifs_gen, __ATOMIC_ACQUIRE);
	if (gen != p->pifs_gen) {
		pthread_mutex_lock(&p->mu);
		memcpy(p->pifs, p->ifs, sizeof(p->ifs[0]) * (size_t)p->nifs);
		p->npifs = p->nifs;
		p->pifs_gen = p->ifs_gen;
		pthread_mutex_unlock(&p->mu);
		p->plast = NULL;
	}
	if (p->plast && p->plast->ifindex == ifindex) /* runs of one interface: no scan */
		return p->plast;
	for (int i = 0; i < p->npifs; i++)
		if (p->pifs[i].ifindex == ifindex)
			return p->plast = &p->pifs[i];
	return NULL;
}

/*
 * Each record is encoded at once (the wire format by hand, lib/stream.c) into a staging buffer
 * that stays in cache; the round's packets then either go to the analyzer from there (see
 * op_direct) or enter the queue in one copy. Packets of an interface the current session's
 * hello did not name carry its name (a packet encoded before a reconnection may name it
 * needlessly: harmless).
 */
void out_proto_write(struct out_proto *p, const struct pano_rec *rec, const uint8_t *frame,
		     const struct who_pod *pod)
{
	uint32_t caplen = rec->caplen > PANO_SNAPLEN_MAX ? PANO_SNAPLEN_MAX : rec->caplen;
	uint64_t head = __atomic_load_n(&p->qack, __ATOMIC_ACQUIRE);

	if (p->qcap - (p->qtail - head) < p->stage_len + OP_PKT_MAX) {
		counter_inc(&c_op_queue_full);
		out_stats_drop(&p->st, caplen);
		__atomic_fetch_add(&p->dropped_unreported, 1, __ATOMIC_RELAXED);
		return;
	}
	if (p->stage_len + OP_PKT_MAX > p->stage_max) {
		/* A full stage is sent as one batch where it lies, as at the end of a round, when
		 * the writer is asleep; otherwise (or what the socket left) it is queued. */
		op_direct(p);
		q_publish(p);
	}
	struct stream_pkt pk;
	pk.ts_ns = rec->ts_ns;
	pk.ifindex = rec->ifindex;
	pk.direction = rec->dir == 0   ? PANO__V1__DIRECTION__DIRECTION_IN
		       : rec->dir == 1 ? PANO__V1__DIRECTION__DIRECTION_OUT
				       : PANO__V1__DIRECTION__DIRECTION_UNKNOWN;
	pk.orig_len = rec->len;
	pk.frame_len = caplen;
	pk.frame = frame;
	const struct op_iface *f = op_iface_of(p, (int)rec->ifindex);
	pk.iface = f && !f->announced ? f->name : NULL;
	pk.iface_len = pk.iface ? (uint32_t)strnlen(pk.iface, IF_NAMESIZE) : 0;
	pk.cgroup_id = rec->cgroup_id;
	pk.pid = rec->pid;
	pk.comm = rec->comm;
	pk.comm_len = (uint32_t)strnlen(rec->comm, sizeof(rec->comm));
	pk.ns = pod ? pod->ns : NULL;
	pk.ns_len = pod ? (uint32_t)strnlen(pod->ns, sizeof(pod->ns) - 1) : 0;
	pk.pod = pod ? pod->pod : NULL;
	pk.pod_len = pod ? (uint32_t)strnlen(pod->pod, sizeof(pod->pod) - 1) : 0;
	pk.container = pod ? pod->container : NULL;
	pk.container_len = pod ? (uint32_t)strnlen(pod->container, sizeof(pod->container) - 1) : 0;
	pk.csum_partial = (rec->flags & PANO_RF_CSUM_PARTIAL) != 0;
	p->stage_len += stream_pkt_encode(p->stage + STREAM_BATCH_OVERHEAD + p->stage_len, &pk);
	p->stage_recs++;
}

static void op_wake(struct out_proto *p)
{
	uint64_t one = 1;
	if (__atomic_exchange_n(&p->kicked, 1, __ATOMIC_ACQ_REL))
		return;
	if (write(p->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_debug("eventfd write: %s", strerror(errno));
}

void out_proto_kick(struct out_proto *p)
{
	op_direct(p);
	q_publish(p);
	/* Pairs with the writer's store of wake_recs then load of recs_in: one of the two sides
	 * sees the other's update (one full fence per ring round, not per record). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	uint64_t want = __atomic_load_n(&p->wake_recs, __ATOMIC_RELAXED);
	uint64_t queued = p->recs_in - __atomic_load_n(&p->recs_out, __ATOMIC_ACQUIRE);
	uint64_t bytes = p->qtail - __atomic_load_n(&p->qhead, __ATOMIC_ACQUIRE);
	if (want != OP_NO_KICK && queued && (queued >= want || bytes >= p->o.batch_bytes))
		op_wake(p);
}

void out_proto_iface_add(struct out_proto *p, int ifindex, const char *name)
{
	pthread_mutex_lock(&p->mu);
	int i;
	for (i = 0; i < p->nifs && p->ifs[i].ifindex != ifindex; i++)
		;
	if (i == p->nifs && p->nifs < OP_MAX_IFACES)
		p->nifs++;
	if (i < p->nifs) {
		p->ifs[i].ifindex = ifindex;
		snprintf(p->ifs[i].name, sizeof(p->ifs[i].name), "%s", name);
		p->ifs[i].announced = 0;
	}
	__atomic_store_n(&p->ifs_gen, p->ifs_gen + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&p->ifs_changed_ns, op_now_ns(), __ATOMIC_RELEASE);
	pthread_mutex_unlock(&p->mu);
	if (!p->session)
		op_wake(p); /* the first connection may be waiting for interfaces */
}

void out_proto_iface_del(struct out_proto *p, int ifindex)
{
	pthread_mutex_lock(&p->mu);
	for (int i = 0; i < p->nifs; i++) {
		if (p->ifs[i].ifindex == ifindex) {
			p->ifs[i] = p->ifs[--p->nifs];
			break;
		}
	}
	__atomic_store_n(&p->ifs_gen, p->ifs_gen + 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&p->mu);
}

/* ---- the writer thread -------------------------------------------------------------------- */

/* Makes room for n bytes in the outgoing envelope buffer. 0 or -ENOMEM. */
static int op_out_reserve(struct out_proto *p, size_t n)
{
	if (n <= p->out_cap)
		return 0;
	uint8_t *nb = realloc(p->out, n);
	if (!nb)
		return -ENOMEM;
	p->out = nb;
	p->out_cap = n;
	return 0;
}

static int op_queue_env(struct out_proto *p, const Pano__V1__Envelope *env, unsigned pkts)
{
	size_t need = stream_envelope_size(env);
	if (op_out_reserve(p, p->out_len + need)) {
		pr_err("protobuf stream: out of memory for a %zu-byte envelope", need);
		return -ENOMEM;
	}
	p->out_len += stream_envelope_pack(env, p->out + p->out_len);
	p->out_pkts = pkts;
	return 0;
}

/* Preamble and hello; interfaces known now are marked announced for this session. */
static int op_queue_hello(struct out_proto *p)
{
	Pano__V1__Hello h = PANO__V1__HELLO__INIT;
	Pano__V1__CaptureConfig cc = PANO__V1__CAPTURE_CONFIG__INIT;
	Pano__V1__Interface ifv[OP_MAX_IFACES], *ifp[OP_MAX_IFACES];
	uint32_t ports[64];
	char *trs[2];
	char tr_udp[] = "udp", tr_tcp[] = "tcp";
	Pano__V1__Envelope env = PANO__V1__ENVELOPE__INIT;

	p->out_len = p->out_off = 0;
	if (op_out_reserve(p, STREAM_PREAMBLE_LEN))
		return -ENOMEM;
	stream_preamble(p->out, STREAM_VERSION_MAJOR, STREAM_VERSION_MINOR);
	p->out_len = STREAM_PREAMBLE_LEN;

	cc.n_ports = 0;
	for (int i = 0; i < p->o.nports && i < 64; i++)
		ports[cc.n_ports++] = p->o.ports[i];
	cc.ports = ports;
	cc.n_transports = 0;
	if (p->o.transports & PANO_TR_UDP)
		trs[cc.n_transports++] = tr_udp;
	if (p->o.transports & PANO_TR_TCP)
		trs[cc.n_transports++] = tr_tcp;
	cc.transports = trs;
	cc.snaplen = p->o.snaplen;
	cc.mode = (char *)(p->o.mode ? p->o.mode : "tc");

	pthread_mutex_lock(&p->mu);
	for (int i = 0; i < p->nifs; i++) {
		pano__v1__interface__init(&ifv[i]);
		ifv[i].ifindex = (uint32_t)p->ifs[i].ifindex;
		ifv[i].name = p->ifs[i].name;
		ifv[i].link_type = PCAP_LINKTYPE_ETHERNET;
		ifp[i] = &ifv[i];
		p->ifs[i].announced = 1;
	}
	h.n_interfaces = (size_t)p->nifs;
	h.interfaces = ifp;
	h.stream_version = STREAM_VERSION_MAJOR;
	h.agent_version = (char *)PANO_VERSION;
	h.node = p->node;
	h.capture = &cc;
	h.start_ns = p->start_ns;
	h.session = ++p->session; /* batch numbers (p->seq) go on: they count per agent run */
	h.ack_bytes = p->qcap / 4;
	__atomic_store_n(&p->ifs_gen, p->ifs_gen + 1, __ATOMIC_RELEASE); /* announced changed */
	env.msg_case = PANO__V1__ENVELOPE__MSG_HELLO;
	env.hello = &h;
	int rc = op_queue_env(p, &env, 0);
	pthread_mutex_unlock(&p->mu);
	return rc;
}

static void op_queue_stats(struct out_proto *p)
{
	Pano__V1__AgentStats s = PANO__V1__AGENT_STATS__INIT;
	Pano__V1__OutputStats os[5], *osp[5];
	Pano__V1__Envelope env = PANO__V1__ENVELOPE__INIT;
	uint64_t v[PANO_STAT_MAX] = {0};
	struct out_stats st;
	size_t n = 0;

	if (p->o.read_stats)
		p->o.read_stats(p->o.stats_ctx, v);
	s.ts_ns = op_wall_ns();
	s.seen = v[PANO_STAT_SEEN];
	s.matched = v[PANO_STAT_MATCHED];
	s.captured = v[PANO_STAT_CAPTURED];
	s.ring_drops = v[PANO_STAT_RING_FULL];
	s.truncated = v[PANO_STAT_TRUNCATED];
	out_stats_read(&p->st, &st);
	s.stream_dropped = st.drop_records;
	s.stream_reconnects = p->reconnects;
	s.stream_resent = p->resent;
	s.stream_unacked_lost = p->unacked_lost;
	pano__v1__output_stats__init(&os[n]);
	os[n].name = (char *)"proto";
	os[n].sent_records = st.sent_records;
	os[n].drop_records = st.drop_records;
	os[n].sent_bytes = st.sent_bytes;
	os[n].drop_bytes = st.drop_bytes;
	osp[n] = &os[n];
	n++;
	for (int i = 0; i < 4; i++) {
		if (!p->o.other_stats[i])
			continue;
		out_stats_read(p->o.other_stats[i], &st);
		pano__v1__output_stats__init(&os[n]);
		os[n].name = (char *)p->o.other_names[i];
		os[n].sent_records = st.sent_records;
		os[n].drop_records = st.drop_records;
		os[n].sent_bytes = st.sent_bytes;
		os[n].drop_bytes = st.drop_bytes;
		osp[n] = &os[n];
		n++;
	}
	s.n_outputs = n;
	s.outputs = osp;
	env.msg_case = PANO__V1__ENVELOPE__MSG_STATS;
	env.stats = &s;
	op_queue_env(p, &env, 0);
}

/* Frames the packets encoded at body (STREAM_BATCH_OVERHEAD bytes of room before it, 16 after)
 * as the next batch envelope; p->out_* describe it. */
static void op_frame_batch(struct out_proto *p, uint8_t *body, size_t used, unsigned n)
{
	uint64_t dropped = __atomic_exchange_n(&p->dropped_unreported, 0, __ATOMIC_RELAXED);
	uint8_t *start;
	size_t len = stream_batch_frame(body, used, ++p->seq, dropped, &start);
	p->out_pkts = n;
	p->out_bytes = used;
	p->out_resend = false;
	if (body == p->out + STREAM_BATCH_OVERHEAD) {
		p->out_off = (size_t)(start - p->out);
		p->out_len = p->out_off + len;
	} else { /* framed elsewhere (the stage): the caller sends from start */
		p->out_off = 0;
		p->out_len = len;
	}
}

/* The length of the packet member at queue position pos (its tag, length and Packet). */
static size_t op_member_len(const struct out_proto *p, uint64_t pos)
{
	uint8_t h[4];
	size_t len = 0;
	q_read(p, pos, h, sizeof(h)); /* tag, then a length of at most 3 bytes (< 2 MiB) */
	for (unsigned i = 1, shift = 0; i < sizeof(h); i++, shift += 7) {
		len |= (size_t)(h[i] & 0x7f) << shift;
		if (!(h[i] & 0x80))
			return 1 + i + len;
	}
	return 0; /* not reached: the producer wrote these bytes */
}

/* Room for one more entry in sent[]. 0 or -ENOMEM (logged once). */
static int op_sent_room(struct out_proto *p)
{
	if (p->sent_tail - p->sent_head < p->sent_cap)
		return 0;
	size_t ncap = p->sent_cap ? p->sent_cap * 2 : OP_SENT_MIN;
	struct op_sent *ns = malloc(ncap * sizeof(*ns));
	if (!ns) {
		static struct log_limit lim;
		pr_warn_limited(&lim, 60000, "protobuf stream: out of memory for %zu batch records",
				ncap);
		return -ENOMEM;
	}
	for (uint64_t i = p->sent_head; i < p->sent_tail; i++)
		ns[i & (ncap - 1)] = p->sent[i & (p->sent_cap - 1)];
	free(p->sent);
	p->sent = ns;
	p->sent_cap = ncap;
	return 0;
}

/* Keeps the batch just framed (p->seq, queue bytes start..end) until an Ack covers it. */
static void op_sent_push(struct out_proto *p, uint64_t start, uint64_t end, unsigned recs)
{
	struct op_sent *e = &p->sent[p->sent_tail++ & (p->sent_cap - 1)];
	*e = (struct op_sent){.seq = p->seq,
			      .start = start,
			      .end = end,
			      .recs = recs,
			      .bytes = (unsigned)(end - start)};
	p->resend = p->sent_tail;
}

/* Frees the queue room of the kept batches up to the first one not released. */
static void op_sent_free(struct out_proto *p, uint64_t upto)
{
	if (p->sent_head == upto)
		return;
	__atomic_store_n(&p->qack, p->sent[(upto - 1) & (p->sent_cap - 1)].end, __ATOMIC_RELEASE);
	p->sent_head = upto;
	if (p->resend < upto)
		p->resend = upto;
}

/* An Ack: the analyzer took every batch up to seq (of this agent run). */
static void op_acked(struct out_proto *p, uint64_t seq)
{
	uint64_t i = p->sent_head, n = 0;
	for (; i < p->sent_tail && p->sent[i & (p->sent_cap - 1)].seq <= seq; i++)
		n += p->sent[i & (p->sent_cap - 1)].recs;
	counter_add(&c_op_acked, n);
	p->acked += n;
	p->conn_acked += n;
	op_sent_free(p, i);
}

/* Frames the next kept batch to send again after a reconnection, with its number, into p->out.
 * To an analyzer that does not acknowledge, it is then released like any batch. */
static void op_build_resend(struct out_proto *p)
{
	const struct op_sent *e = &p->sent[p->resend++ & (p->sent_cap - 1)];
	uint8_t *body = p->out + STREAM_BATCH_OVERHEAD, *start;
	size_t used = (size_t)(e->end - e->start);
	q_read(p, e->start, body, used);
	size_t len = stream_batch_frame(body, used, e->seq, 0, &start);
	p->out_off = (size_t)(start - p->out);
	p->out_len = p->out_off + len;
	p->out_pkts = e->recs;
	p->out_bytes = e->bytes;
	p->out_resend = true; /* counted sent the first time */
	counter_add(&c_op_resent, e->recs);
	p->resent += e->recs;
	p->conn_resent += e->recs;
	if (p->acks == 0)
		op_sent_free(p, p->resend);
}

/*
 * Takes the oldest queued packets (up to batch_packets, and batch_bytes) as one batch envelope
 * into p->out: batches kept for an analyzer that acknowledges and not sent on this connection
 * yet first, as they were. The room of what is sent is freed now, or, when the analyzer
 * acknowledges, by the Ack that covers it. Nothing is built when no batch record can be kept.
 */
static void op_build_batch(struct out_proto *p)
{
	if (p->resend < p->sent_tail) {
		op_build_resend(p);
		return;
	}
	if (p->acks == 1 && op_sent_room(p))
		return;
	uint8_t *body = p->out + STREAM_BATCH_OVERHEAD;
	uint64_t head = p->qhead, tail = __atomic_load_n(&p->qtail, __ATOMIC_ACQUIRE);
	uint64_t from = head;
	size_t used = 0;
	unsigned n = 0;

	while (n < p->o.batch_packets && head < tail) {
		size_t m = op_member_len(p, head);
		if (n && used + m > p->o.batch_bytes)
			break;
		q_read(p, head, body + used, m);
		used += m;
		head += m;
		n++;
	}
	__atomic_store_n(&p->qhead, head, __ATOMIC_RELEASE);
	__atomic_store_n(&p->recs_out, p->recs_out + n, __ATOMIC_RELEASE);
	p->first_seen_ns = head < tail ? op_now_ns() : 0;
	op_frame_batch(p, p->out + STREAM_BATCH_OVERHEAD, used, n);
	if (p->acks == 1)
		op_sent_push(p, from, head, n);
	else
		__atomic_store_n(&p->qack, head, __ATOMIC_RELEASE);
}

/* p->out went out whole: count its packets as sent and empty it. */
static void op_out_done(struct out_proto *p)
{
	if (p->out_pkts && !p->out_resend)
		out_stats_sent_n(&p->st, p->out_pkts, p->out_bytes);
	p->out_len = p->out_off = p->out_pkts = 0;
}

/* Sends what is pending in p->out without ever waiting or closing: 0 when all went, -1 when
 * some is left (the writer finishes it, or meets the error and reconnects). */
static int op_send_some(struct out_proto *p)
{
	while (p->out_off < p->out_len) {
		ssize_t w = tls_conn_write(p->conn, p->out + p->out_off, p->out_len - p->out_off);
		if (w <= 0)
			return -1;
		p->out_off += (size_t)w;
	}
	op_out_done(p);
	return 0;
}

/*
 * Ring reader, end of a round: when the writer is asleep and the connection is up, sends what
 * is pending, then what is queued, then the round's staged packets (framed as one batch where
 * they are: no copy into the queue), itself, as far as the socket takes them without waiting;
 * no wakeup. What the socket does not take is left to the writer, woken to finish it.
 */
static void op_direct(struct out_proto *p)
{
	if (!p->stage_recs || pthread_mutex_trylock(&p->smu) != 0)
		return;
	if (p->fd >= 0 && __atomic_load_n(&p->connected, __ATOMIC_RELAXED) && !p->stop) {
		tls_conn_cork(p->conn, true); /* TLS: this run's 16 KiB records in full segments */
		for (;;) {
			if (p->out_len) {
				if (op_send_some(p))
					break;
			} else if (p->qhead != p->qtail || p->resend < p->sent_tail) {
				op_build_batch(p);
				if (!p->out_len)
					break; /* no batch record could be kept */
			} else if (p->stage_recs && (p->acks != 1 || !op_sent_room(p))) {
				uint8_t *body = p->stage + STREAM_BATCH_OVERHEAD, *start;
				uint64_t dropped = __atomic_exchange_n(&p->dropped_unreported, 0,
								       __ATOMIC_RELAXED);
				size_t len = stream_batch_frame(body, p->stage_len, ++p->seq,
								dropped, &start);
				/* Sent from the stage; what the socket leaves goes to p->out. */
				size_t sent = 0;
				while (sent < len) {
					ssize_t w =
					    tls_conn_write(p->conn, start + sent, len - sent);
					if (w <= 0)
						break;
					sent += (size_t)w;
				}
				if (sent == len) {
					out_stats_sent_n(&p->st, p->stage_recs, p->stage_len);
				} else {
					memcpy(p->out, start + sent, len - sent);
					p->out_off = 0;
					p->out_len = len - sent;
					p->out_pkts = p->stage_recs;
					p->out_bytes = p->stage_len;
					p->out_resend = false;
				}
				if (p->acks == 1) {
					/* kept in the queue (room reserved as staged) until acked
					 */
					uint64_t from = p->qtail;
					unsigned recs = p->stage_recs;
					q_publish(p);
					op_sent_push(p, from, p->qtail, recs);
					__atomic_store_n(&p->qhead, p->qtail, __ATOMIC_RELEASE);
					__atomic_store_n(&p->recs_out, p->recs_in,
							 __ATOMIC_RELEASE);
				}
				p->stage_len = 0;
				p->stage_recs = 0;
			} else {
				break;
			}
		}
		tls_conn_cork(p->conn, false);
		if (p->out_len)
			op_wake(p);
	}
	pthread_mutex_unlock(&p->smu);
}

static void op_disconnect(struct out_proto *p, const char *why)
{
	/* An analyzer that acknowledges gets what it did not acknowledge again, from sent[] */
	if (p->acks != 1 && p->out_pkts && p->out_off < p->out_len) {
		counter_add(&c_op_inflight, p->out_pkts);
		out_stats_drop_n(&p->st, p->out_pkts, p->out_bytes);
		__atomic_fetch_add(&p->dropped_unreported, p->out_pkts, __ATOMIC_RELAXED);
	}
	if (why && p->acks == 1)
		pr_warn("analyzer %s:%s: %s; reconnecting (this connection: %llu frame(s) "
			"acknowledged, %llu sent again; %llu batch(es) kept to send again)",
			p->host, p->port, why, (unsigned long long)p->conn_acked,
			(unsigned long long)p->conn_resent,
			(unsigned long long)(p->sent_tail - p->sent_head));
	else if (why)
		pr_warn("analyzer %s:%s: %s; reconnecting", p->host, p->port, why);
	tls_conn_free(p->conn);
	p->conn = NULL;
	stream_dec_free(&p->replies);
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	p->out_len = p->out_off = 0;
	p->out_pkts = 0;
	__atomic_store_n(&p->connected, 0, __ATOMIC_RELAXED);
}

/* Waits for events on fd (and the eventfd) up to ms, with smu released; returns poll's revents
 * for fd. */
static short op_wait(struct out_proto *p, int fd, short events, int ms)
{
	struct pollfd pf[2] = {{.fd = p->efd, .events = POLLIN}, {.fd = fd, .events = events}};
	pthread_mutex_unlock(&p->smu);
	int n = poll(pf, fd >= 0 ? 2 : 1, ms);
	pthread_mutex_lock(&p->smu);
	if (n > 0 && (pf[0].revents & POLLIN)) {
		uint64_t v;
		if (read(p->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			pr_debug("eventfd read: %s", strerror(errno));
		__atomic_store_n(&p->kicked, 0, __ATOMIC_RELEASE);
	}
	return fd >= 0 ? pf[1].revents : 0;
}

/* TCP connect (non-blocking, bounded), TLS handshake, preamble and hello queued. 0 or -1. */
static int op_connect(struct out_proto *p)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
	int fd = -1, rc;
	char why[300] = "";

	rc = getaddrinfo(p->host, p->port, &hints, &res);
	if (rc) {
		pr_warn("getaddrinfo %s:%s: %s", p->host, p->port, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai && fd < 0 && !p->stop; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			snprintf(why, sizeof(why), "socket: %s", strerror(errno));
			continue;
		}
		int err = 0;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
			err = errno;
			if (err == EINPROGRESS) {
				int waited = 0;
				socklen_t el = sizeof(err);
				short rev = 0;
				while (!p->stop && waited < OP_CONNECT_MS && !rev) {
					rev = op_wait(p, fd, POLLOUT, OP_STEP_MS);
					waited += OP_STEP_MS;
				}
				err = ETIMEDOUT;
				if (rev)
					getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
			}
		}
		if (!err)
			break;
		snprintf(why, sizeof(why), "connect: %s", strerror(err));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		counter_inc(&c_op_connect_fail);
		pr_debug("analyzer %s:%s: %s", p->host, p->port, why[0] ? why : "no address");
		return -1;
	}
	p->fd = fd;
	p->conn = tls_conn_new(p->tls, fd, p->host);
	if (!p->conn) {
		op_disconnect(p, NULL);
		return -1;
	}
	int waited = 0;
	while ((rc = tls_conn_handshake(p->conn)) == -EAGAIN && !p->stop && waited < 10000) {
		op_wait(p, fd, tls_conn_events(p->conn), OP_STEP_MS);
		waited += OP_STEP_MS;
	}
	if (rc) {
		counter_inc(&c_op_connect_fail);
		pr_warn("analyzer %s:%s: TLS handshake: %s", p->host, p->port,
			rc == -EAGAIN ? "timed out" : tls_conn_error(p->conn));
		op_disconnect(p, NULL);
		return -1;
	}
	if (op_queue_hello(p)) {
		op_disconnect(p, NULL);
		return -1;
	}
	stream_dec_init_replies(&p->replies);
	p->refusal[0] = '\0';
	counter_inc(&c_op_connects);
	/* No batch goes until the analyzer says whether it acknowledges (its first Ack, right
	 * after the hello; nothing within OP_ACK_WAIT_MS: an older analyzer). */
	p->acks = -1;
	p->connect_ns = op_now_ns();
	p->conn_acked = p->conn_resent = 0;
	p->resend = p->sent_head;
	pr_info("streaming to analyzer %s:%s%s as node %s", p->host, p->port,
		p->tls ? " (TLS)" : "", p->node);
	return 0;
}

static void op_read_replies(struct out_proto *p);

/* Writes what is pending in p->out. 0 when all is sent, -EAGAIN when the socket is full, or
 * -1 after a disconnection. */
static int op_send(struct out_proto *p)
{
	while (p->out_off < p->out_len) {
		ssize_t w = tls_conn_write(p->conn, p->out + p->out_off, p->out_len - p->out_off);
		if (w == -EAGAIN)
			return -EAGAIN;
		if (w < 0) {
			char why[300];
			snprintf(why, sizeof(why), "send: %s", tls_conn_error(p->conn));
			op_read_replies(p); /* a refusal the analyzer sent before it closed */
			op_disconnect(p, p->refusal[0] ? NULL : why);
			return -1;
		}
		p->out_off += (size_t)w;
	}
	op_out_done(p);
	return 0;
}

/* A message from the analyzer: a Refusal is logged (one line, rate-limited) and remembered;
 * anything else is not for this agent version. */
static void op_acks_known(struct out_proto *p, int acks)
{
	p->acks = acks;
	if (!acks)
		pr_info(
		    "analyzer %s:%s does not acknowledge batches (an older version): a batch in "
		    "flight when the connection breaks is lost (counted)",
		    p->host, p->port);
	else if (p->resend < p->sent_tail)
		pr_info("analyzer %s:%s: sending %llu batch(es) not acknowledged again", p->host,
			p->port, (unsigned long long)(p->sent_tail - p->resend));
	__atomic_store_n(&p->connected, 1, __ATOMIC_RELAXED);
}

static int op_on_reply(void *ctx, struct stream_dec *d, const struct stream_msg *m)
{
	struct out_proto *p = ctx;
	if (m->type == PANO__V1__ENVELOPE__MSG_ACK) {
		if (p->acks < 0)
			op_acks_known(p, 1);
		if (p->acks == 1)
			op_acked(p, m->ack->seq);
		return 0;
	}
	if (m->type != PANO__V1__ENVELOPE__MSG_REFUSAL)
		return 0;
	const char *code = m->refusal->code && *m->refusal->code ? m->refusal->code : "?";
	snprintf(p->refusal, sizeof(p->refusal), "%s", code);
	counter_inc(&c_op_refused);
	pr_warn_limited(&p->refusal_log, 60000, "analyzer %s:%s refused this agent (%s): %s",
			p->host, p->port, p->refusal, m->refusal->reason ? m->refusal->reason : "");
	return 0;
}

/* Reads what the analyzer sent (Acks, and a Refusal before it closes the connection).
 * 0 when the socket has nothing more now, -errno or 0 (end of stream) in *end otherwise: 1. */
static int op_read_replies_end(struct out_proto *p, ssize_t *end)
{
	uint8_t junk[4096];
	for (;;) {
		size_t room;
		uint8_t *buf = stream_dec_rx_space(&p->replies, &room);
		if (!buf) { /* not a stream we understand: read on, to see the end */
			buf = junk;
			room = sizeof(junk);
		}
		ssize_t r = tls_conn_read(p->conn, buf, room);
		if (r == -EAGAIN)
			return 0;
		if (r <= 0) {
			*end = r;
			return 1;
		}
		if (buf != junk && stream_dec_rx_commit(&p->replies, (size_t)r, op_on_reply, p))
			pr_debug("analyzer %s:%s: %s", p->host, p->port,
				 stream_dec_error(&p->replies));
	}
}

static void op_read_replies(struct out_proto *p)
{
	ssize_t end;
	op_read_replies_end(p, &end);
}

/* Input from the analyzer: -1 when it closed the connection (with a refusal logged, or why). */
static int op_drain_input(struct out_proto *p)
{
	ssize_t end;
	if (!op_read_replies_end(p, &end))
		return 0;
	op_disconnect(p, p->refusal[0] ? NULL
			 : end == 0    ? "connection closed by the analyzer"
				       : tls_conn_error(p->conn));
	return -1;
}

/* Records in the queue now (writer side). */
static uint64_t op_queued(const struct out_proto *p)
{
	return __atomic_load_n(&p->recs_in, __ATOMIC_SEQ_CST) - p->recs_out;
}

/* One round while connected: build the next envelope if none is pending, send, wait. */
static void op_connected_round(struct out_proto *p)
{
	uint64_t now = op_now_ns();
	uint64_t flush_ns = (uint64_t)p->o.flush_ms * 1000000ull;
	uint64_t queued = op_queued(p);

	if (p->acks < 0 && !p->out_len) { /* the hello went: wait for the first Ack */
		if (now - p->connect_ns < OP_ACK_WAIT_MS * 1000000ull) {
			if (tls_conn_pending(p->conn) ||
			    (op_wait(p, p->fd, POLLIN, OP_STEP_MS / 4) & (POLLIN | POLLHUP)))
				op_drain_input(p);
			return;
		}
		op_acks_known(p, 0);
	}
	/* Acks free queue room: read them while sending (a recv that finds nothing, per batch) */
	if (p->acks == 1 && (p->out_len || queued || p->resend < p->sent_tail) && op_drain_input(p))
		return;

	if (queued && !p->first_seen_ns)
		p->first_seen_ns = now;
	if (p->out_len == 0) {
		uint64_t qbytes = __atomic_load_n(&p->qtail, __ATOMIC_ACQUIRE) - p->qhead;
		if (now - p->last_stats_ns >= (uint64_t)p->o.stats_ms * 1000000ull) {
			p->last_stats_ns = now;
			op_queue_stats(p);
		} else if (p->acks >= 0 &&
			   ((queued &&
			     (queued >= p->o.batch_packets || qbytes >= p->o.batch_bytes ||
			      now - p->first_seen_ns >= flush_ns || p->stop)) ||
			    p->resend < p->sent_tail)) {
			op_build_batch(p);
		}
	}
	if (p->out_len) {
		if (op_send(p) == -EAGAIN &&
		    (op_wait(p, p->fd, (short)(tls_conn_events(p->conn) | POLLIN), OP_STEP_MS) &
		     POLLIN))
			op_drain_input(p);
		return;
	}
	/* Nothing to send now: ask for a kick at the first record (that starts the flush clock)
	 * or when a batch is full, then sleep until a kick, input from the analyzer, or the
	 * deadline. The queue is looked at again after the request, so no kick is missed. */
	__atomic_store_n(&p->wake_recs, queued ? p->o.batch_packets : 1, __ATOMIC_SEQ_CST);
	uint64_t again = op_queued(p);
	if (again >= p->o.batch_packets || (again && !queued))
		return;
	int ms = OP_STEP_MS;
	if (queued) {
		uint64_t age = now - p->first_seen_ns;
		ms = age >= flush_ns ? 0 : (int)((flush_ns - age) / 1000000ull) + 1;
	}
	if (tls_conn_pending(p->conn) || (op_wait(p, p->fd, POLLIN, ms) & (POLLIN | POLLHUP)))
		op_drain_input(p);
}

/* How long to wait before the next connection: the backoff, or after a refusal that will not
 * change soon (too many agents, a stream error...) the longest backoff. */
static unsigned op_retry_ms(const struct out_proto *p, unsigned backoff)
{
	static const char *const soon[] = {"evicted", "hello_timeout", "handshake_timeout", "idle"};
	if (!p->refusal[0])
		return backoff;
	for (size_t i = 0; i < sizeof(soon) / sizeof(soon[0]); i++)
		if (strcmp(p->refusal, soon[i]) == 0)
			return backoff;
	return p->o.backoff_max_ms;
}

/*
 * The first connection waits (at most OP_FIRST_WAIT_MS) until the interfaces being attached at
 * start are known and quiet for OP_IFACE_QUIET_MS, so that the hello names them: packets of an
 * interface the hello did not name carry its name, every one of them, until a reconnection.
 */
static bool op_ifaces_settled(struct out_proto *p, uint64_t now)
{
	uint64_t changed = __atomic_load_n(&p->ifs_changed_ns, __ATOMIC_ACQUIRE);
	return now - p->start_mono_ns >= OP_FIRST_WAIT_MS * 1000000ull ||
	       (changed && now - changed >= OP_IFACE_QUIET_MS * 1000000ull);
}

/* Stopping: what was queued and never sent, and what was sent and never acknowledged, is lost;
 * counted, and told a connected analyzer in a last AgentStats (best effort). */
static void op_count_unacked(struct out_proto *p)
{
	uint64_t recs = op_queued(p), bytes = p->qtail - p->qhead;
	for (uint64_t i = p->sent_head; i < p->sent_tail; i++) {
		recs += p->sent[i & (p->sent_cap - 1)].recs;
		bytes += p->sent[i & (p->sent_cap - 1)].bytes;
	}
	if (!recs)
		return;
	counter_add(&c_op_unacked_lost, recs);
	out_stats_drop_n(&p->st, recs, bytes);
	p->unacked_lost += recs;
	pr_warn("analyzer %s:%s: %llu frame(s) not acknowledged at exit, lost", p->host, p->port,
		(unsigned long long)recs);
	if (p->fd >= 0 && __atomic_load_n(&p->connected, __ATOMIC_RELAXED)) {
		if (p->out_off < p->out_len)
			op_disconnect(p, NULL); /* a batch half written: the stream cannot go on */
		else {
			p->out_len = p->out_off = p->out_pkts = 0;
			op_queue_stats(p);
			op_send_some(p);
		}
	}
}

static void *op_thread(void *arg)
{
	struct out_proto *p = arg;
	unsigned backoff = OP_BACKOFF_MIN_MS;
	uint64_t next_try = 0;

	pthread_mutex_lock(&p->smu);
	while (!p->stop) {
		if (p->fd < 0)
			__atomic_store_n(&p->wake_recs, OP_NO_KICK, __ATOMIC_SEQ_CST);
		if (p->fd >= 0) {
			op_connected_round(p);
			if (p->fd < 0) {
				p->reconnects++;
				next_try =
				    op_now_ns() + (uint64_t)op_retry_ms(p, backoff) * 1000000ull;
			}
			continue;
		}
		uint64_t now = op_now_ns();
		if (!p->session && !op_ifaces_settled(p, now)) {
			op_wait(p, -1, 0, OP_IFACE_QUIET_MS);
			continue;
		}
		if (now >= next_try) {
			if (op_connect(p) == 0) {
				backoff = OP_BACKOFF_MIN_MS;
				p->last_stats_ns = 0; /* stats right after the hello */
				continue;
			}
			next_try = op_now_ns() + (uint64_t)backoff * 1000000ull;
			backoff =
			    backoff * 2 > p->o.backoff_max_ms ? p->o.backoff_max_ms : backoff * 2;
			continue;
		}
		uint64_t wait = (next_try - now) / 1000000ull + 1;
		op_wait(p, -1, 0, wait > OP_STEP_MS ? OP_STEP_MS : (int)wait);
	}
	/* Stopping: give a connected analyzer what is queued and wait for its acks, for up to
	 * OP_DRAIN_MS; what is left is lost, counted (and told the analyzer when still up). */
	bool asked = false;
	for (uint64_t until = op_now_ns() + OP_DRAIN_MS * 1000000ull;
	     p->fd >= 0 && op_now_ns() < until;) {
		bool sent =
		    p->acks >= 0 && !op_queued(p) && !p->out_len && p->resend == p->sent_tail;
		if (sent && (p->acks == 0 || p->sent_head == p->sent_tail))
			break;
		if (sent && !asked) { /* stats after the last batch: the analyzer acks at once */
			asked = true;
			op_queue_stats(p);
		}
		op_connected_round(p);
	}
	op_count_unacked(p);
	if (p->fd >= 0)
		op_disconnect(p, NULL);
	pthread_mutex_unlock(&p->smu);
	return NULL;
}

struct out_proto *out_proto_start(const char *hostport, const struct out_proto_opts *o)
{
	struct out_proto *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->fd = -1;
	p->efd = -1;
	p->wake_recs = OP_NO_KICK;
	p->o = *o;
	if (!p->o.queue_bytes)
		p->o.queue_bytes = 8u << 20;
	if (!p->o.batch_packets)
		p->o.batch_packets = 1024;
	if (!p->o.batch_bytes)
		p->o.batch_bytes = 256u << 10;
	if (p->o.batch_bytes < PANO_SNAPLEN_MAX)
		p->o.batch_bytes = PANO_SNAPLEN_MAX;
	if (!p->o.flush_ms)
		p->o.flush_ms = 50;
	if (!p->o.stats_ms)
		p->o.stats_ms = 1000;
	if (!p->o.backoff_max_ms)
		p->o.backoff_max_ms = 5000;
	if (op_split(hostport, p->host, sizeof(p->host), p->port, sizeof(p->port))) {
		pr_err("--connect %s: want HOST:PORT or [V6]:PORT", hostport);
		goto fail;
	}
	if (o->node && *o->node)
		snprintf(p->node, sizeof(p->node), "%s", o->node);
	else if (gethostname(p->node, sizeof(p->node) - 1) != 0)
		snprintf(p->node, sizeof(p->node), "unknown");
	if (tls_opts_any(&o->tls) && tls_ctx_new(&p->tls, false, &o->tls))
		goto fail;
	p->qcap = 65536;
	while (p->qcap < p->o.queue_bytes && p->qcap < (1ull << 31))
		p->qcap *= 2; /* a power of two: positions wrap with a mask */
	p->q = malloc(p->qcap);
	p->stage = malloc(STREAM_BATCH_OVERHEAD + OP_STAGE_BYTES + 16);
	p->stage_max = p->qcap / 4 < OP_STAGE_BYTES ? (size_t)p->qcap / 4 : OP_STAGE_BYTES;
	if (p->q)
		memset(p->q, 0, p->qcap); /* fault it in now, not page by page on the hot path */
	if (!p->q || !p->stage ||
	    op_out_reserve(
		p, STREAM_BATCH_OVERHEAD + OP_PKT_MAX + 64 +
		       (p->o.batch_bytes > OP_STAGE_BYTES ? p->o.batch_bytes : OP_STAGE_BYTES))) {
		pr_err("protobuf stream: out of memory for a %llu-byte queue",
		       (unsigned long long)p->qcap);
		goto fail;
	}
	p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->efd < 0) {
		pr_err("eventfd: %s", strerror(errno));
		goto fail;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_mutex_init(&p->smu, NULL);
	p->start_ns = op_wall_ns();
	p->start_mono_ns = op_now_ns();
	int err = pthread_create(&p->thread, NULL, op_thread, p);
	if (err) {
		pr_err("pthread_create: %s", strerror(err));
		pthread_mutex_destroy(&p->mu);
		pthread_mutex_destroy(&p->smu);
		goto fail;
	}
	return p;
fail:
	if (p->efd >= 0)
		close(p->efd);
	free(p->q);
	free(p->stage);
	free(p->out);
	tls_ctx_free(p->tls);
	free(p);
	return NULL;
}

const struct out_stats *out_proto_stats(const struct out_proto *p)
{
	return &p->st;
}

uint64_t out_proto_reconnects(const struct out_proto *p)
{
	return p->reconnects;
}

int out_proto_connected(const struct out_proto *p)
{
	return __atomic_load_n(&p->connected, __ATOMIC_RELAXED);
}

void out_proto_drain(struct out_proto *p)
{
	if (!p || p->joined)
		return;
	q_publish(p);
	p->stop = 1;
	op_wake(p);
	pthread_join(p->thread, NULL);
	p->joined = 1;
}

void out_proto_stop(struct out_proto *p)
{
	if (!p)
		return;
	out_proto_drain(p);
	pthread_mutex_destroy(&p->mu);
	pthread_mutex_destroy(&p->smu);
	close(p->efd);
	free(p->q);
	free(p->stage);
	free(p->out);
	free(p->sent);
	tls_ctx_free(p->tls);
	free(p);
}

void out_proto_delivery(const struct out_proto *p, uint64_t *acked, uint64_t *resent,
			uint64_t *unacked_lost)
{
	*acked = p->acked;
	*resent = p->resent;
	*unacked_lost = p->unacked_lost;
}
