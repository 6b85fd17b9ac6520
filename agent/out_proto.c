// SPDX-License-Identifier: Apache-2.0
/*
 * out_proto.c - the protobuf stream output (see out_proto.h). Two sides:
 *   - the ring reader calls out_proto_write(), which copies the record into a bounded byte
 *     queue under a mutex and returns (full: dropped and counted);
 *   - the writer thread connects (TCP, then TLS if configured), sends the preamble and a hello,
 *     then moves records from the queue into packet batches, sends a batch when it is full or
 *     flush_ms old and an AgentStats message every stats_ms. When the connection fails it drops
 *     the envelope in flight (counted), and retries with backoff 100 ms doubling to
 *     backoff_max_ms, reset by a successful hello. The queue keeps filling meanwhile, so a short
 *     outage loses only what does not fit.
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

#define OP_MAX_IFACES	  512
#define OP_BACKOFF_MIN_MS 100
#define OP_STEP_MS	  200
#define OP_CONNECT_MS	  3000

PANO_COUNTER(c_op_queue_full, "proto_out_queue_full", "drop",
	     "frames the protobuf stream output dropped: its queue was full");
PANO_COUNTER(c_op_inflight, "proto_out_lost_in_flight", "drop",
	     "frames the protobuf stream output lost with a broken connection");
PANO_COUNTER(c_op_connect_fail, "proto_out_connect_failed", "event",
	     "protobuf stream connection attempts that failed (TCP or TLS)");
PANO_COUNTER(c_op_connects, "proto_out_connects", "event", "protobuf stream connections made");

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

	/* The record queue: [u32 len][struct pano_rec][frame], wrapping. */
	pthread_mutex_t mu;
	uint8_t *q;
	size_t qcap, qhead, qtail, qused;
	struct op_iface ifs[OP_MAX_IFACES];
	int nifs;

	/* Writer thread only. */
	int fd;
	struct tls_conn *conn;
	uint64_t session;
	struct stream_batch batch;
	char (*pkt_iface)[IF_NAMESIZE]; /* per-packet names of unannounced interfaces */
	uint8_t *out;			/* the envelope being sent */
	size_t out_cap, out_len, out_off;
	unsigned out_pkts; /* packets in that envelope */
	uint64_t out_bytes;
	int held; /* rec_buf holds a record that did not fit the batch */
	int batch_full;
	uint64_t last_stats_ns;
	uint8_t rec_buf[sizeof(struct pano_rec) + PANO_SNAPLEN_MAX];

	struct out_stats st;
	uint64_t reconnects, dropped_unreported;
	uint64_t start_ns;
	int connected;
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

static void q_put(struct out_proto *p, const void *src, size_t n)
{
	size_t first = p->qcap - p->qhead < n ? p->qcap - p->qhead : n;
	memcpy(p->q + p->qhead, src, first);
	memcpy(p->q, (const uint8_t *)src + first, n - first);
	p->qhead = (p->qhead + n) % p->qcap;
	p->qused += n;
}

static void q_get(struct out_proto *p, void *dst, size_t n)
{
	size_t first = p->qcap - p->qtail < n ? p->qcap - p->qtail : n;
	memcpy(dst, p->q + p->qtail, first);
	memcpy((uint8_t *)dst + first, p->q, n - first);
	p->qtail = (p->qtail + n) % p->qcap;
	p->qused -= n;
}

void out_proto_write(struct out_proto *p, const struct pano_rec *rec, const uint8_t *frame)
{
	uint32_t caplen = rec->caplen > PANO_SNAPLEN_MAX ? PANO_SNAPLEN_MAX : rec->caplen;
	uint32_t len = (uint32_t)sizeof(*rec) + caplen;
	struct pano_rec r = *rec;
	r.caplen = caplen;

	pthread_mutex_lock(&p->mu);
	if (p->qcap - p->qused < len + 4) {
		pthread_mutex_unlock(&p->mu);
		counter_inc(&c_op_queue_full);
		out_stats_drop(&p->st, caplen);
		__atomic_fetch_add(&p->dropped_unreported, 1, __ATOMIC_RELAXED);
		return;
	}
	q_put(p, &len, 4);
	q_put(p, &r, sizeof(r));
	q_put(p, frame, caplen);
	pthread_mutex_unlock(&p->mu);
}

/* Takes the oldest record into p->rec_buf; its length, or 0 when the queue is empty. */
static uint32_t q_pop(struct out_proto *p)
{
	uint32_t len = 0;
	pthread_mutex_lock(&p->mu);
	if (p->qused >= 4) {
		q_get(p, &len, 4);
		q_get(p, p->rec_buf, len);
	}
	pthread_mutex_unlock(&p->mu);
	return len;
}

void out_proto_kick(struct out_proto *p)
{
	uint64_t one = 1;
	if (write(p->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_debug("eventfd write: %s", strerror(errno));
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
	pthread_mutex_unlock(&p->mu);
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
	h.session = ++p->session;
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

/* Moves queued records into the batch until it is full or the queue is empty. */
static void op_fill_batch(struct out_proto *p, uint64_t now)
{
	while (p->batch.n < p->batch.max_pkts) {
		if (!p->held && !q_pop(p))
			return;
		p->held = 0;
		const struct pano_rec *r = (const struct pano_rec *)p->rec_buf;
		const uint8_t *frame = p->rec_buf + sizeof(*r);
		int rc = stream_batch_add(&p->batch, r->ts_ns, r->ifindex, r->dir, r->len, frame,
					  r->caplen, now);
		if (rc == -ENOSPC) {
			/* Out of frame bytes: keep the record for the next batch, send this one. */
			p->held = 1;
			p->batch_full = 1;
			return;
		}
		if (rc) {
			out_stats_drop(&p->st, r->caplen);
			continue;
		}
		/* Name an interface the analyzer has not heard of in this session. */
		Pano__V1__Packet *pk = &p->batch.pkts[p->batch.n - 1];
		pthread_mutex_lock(&p->mu);
		for (int i = 0; i < p->nifs; i++) {
			if (p->ifs[i].ifindex == (int)r->ifindex && !p->ifs[i].announced) {
				memcpy(p->pkt_iface[p->batch.n - 1], p->ifs[i].name, IF_NAMESIZE);
				pk->iface = p->pkt_iface[p->batch.n - 1];
				break;
			}
		}
		pthread_mutex_unlock(&p->mu);
	}
}

static void op_disconnect(struct out_proto *p, const char *why)
{
	if (p->out_pkts && p->out_off < p->out_len) {
		counter_add(&c_op_inflight, p->out_pkts);
		for (unsigned i = 0; i < p->out_pkts; i++)
			out_stats_drop(&p->st, 0);
		__atomic_fetch_add(&p->dropped_unreported, p->out_pkts, __ATOMIC_RELAXED);
	}
	if (why)
		pr_warn("analyzer %s:%s: %s; reconnecting", p->host, p->port, why);
	tls_conn_free(p->conn);
	p->conn = NULL;
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	p->out_len = p->out_off = 0;
	p->out_pkts = 0;
	__atomic_store_n(&p->connected, 0, __ATOMIC_RELAXED);
}

/* Waits for events on fd (and the eventfd) up to ms; returns poll's revents for fd. */
static short op_wait(struct out_proto *p, int fd, short events, int ms)
{
	struct pollfd pf[2] = {{.fd = p->efd, .events = POLLIN}, {.fd = fd, .events = events}};
	if (poll(pf, fd >= 0 ? 2 : 1, ms) > 0 && (pf[0].revents & POLLIN)) {
		uint64_t v;
		if (read(p->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			pr_debug("eventfd read: %s", strerror(errno));
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
	counter_inc(&c_op_connects);
	__atomic_store_n(&p->connected, 1, __ATOMIC_RELAXED);
	pr_info("streaming to analyzer %s:%s%s as node %s", p->host, p->port,
		p->tls ? " (TLS)" : "", p->node);
	return 0;
}

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
			op_disconnect(p, why);
			return -1;
		}
		p->out_off += (size_t)w;
	}
	for (unsigned i = 0; i < p->out_pkts; i++)
		out_stats_sent(&p->st, p->out_bytes / (p->out_pkts ? p->out_pkts : 1));
	p->out_len = p->out_off = p->out_pkts = 0;
	return 0;
}

/* The analyzer never talks after the handshake except TLS housekeeping: read and discard;
 * -1 when it closed the connection. */
static int op_drain_input(struct out_proto *p)
{
	uint8_t junk[4096];
	for (;;) {
		ssize_t r = tls_conn_read(p->conn, junk, sizeof(junk));
		if (r == -EAGAIN)
			return 0;
		if (r <= 0) {
			op_disconnect(p, r == 0 ? "connection closed by the analyzer"
						: tls_conn_error(p->conn));
			return -1;
		}
	}
}

/* One round while connected: build the next envelope if none is pending, send, wait. */
static void op_connected_round(struct out_proto *p)
{
	uint64_t now = op_now_ns();
	uint64_t flush_ns = (uint64_t)p->o.flush_ms * 1000000ull;

	if (p->out_len == 0) {
		op_fill_batch(p, now);
		if (now - p->last_stats_ns >= (uint64_t)p->o.stats_ms * 1000000ull) {
			p->last_stats_ns = now;
			op_queue_stats(p);
		} else if (p->batch.n && (stream_batch_due(&p->batch, now, flush_ns) ||
					  p->batch_full || p->stop)) {
			Pano__V1__Envelope env;
			Pano__V1__PacketBatch bm;
			uint64_t dropped =
			    __atomic_exchange_n(&p->dropped_unreported, 0, __ATOMIC_RELAXED);
			stream_batch_envelope(&p->batch, &env, &bm, dropped);
			p->out_bytes = p->batch.arena_used;
			op_queue_env(p, &env, p->batch.n);
			stream_batch_reset(&p->batch);
			p->batch_full = 0;
		}
	}
	if (p->out_len) {
		if (op_send(p) == -EAGAIN)
			op_wait(p, p->fd, tls_conn_events(p->conn), OP_STEP_MS);
		return;
	}
	/* Nothing to send now: sleep until a kick, input from the analyzer, or a deadline. */
	int ms = OP_STEP_MS;
	if (p->batch.n) {
		uint64_t age = now - p->batch.first_ns;
		ms = age >= flush_ns ? 0 : (int)((flush_ns - age) / 1000000ull) + 1;
	}
	if (tls_conn_pending(p->conn) || (op_wait(p, p->fd, POLLIN, ms) & (POLLIN | POLLHUP)))
		op_drain_input(p);
}

static void *op_thread(void *arg)
{
	struct out_proto *p = arg;
	unsigned backoff = OP_BACKOFF_MIN_MS;
	uint64_t next_try = 0;

	while (!p->stop) {
		if (p->fd >= 0) {
			op_connected_round(p);
			if (p->fd < 0) {
				p->reconnects++;
				next_try = op_now_ns() + (uint64_t)backoff * 1000000ull;
			}
			continue;
		}
		uint64_t now = op_now_ns();
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
	/* Stopping: give a connected analyzer what is queued, for about a second. */
	for (int i = 0; i < 20 && p->fd >= 0; i++) {
		pthread_mutex_lock(&p->mu);
		size_t left = p->qused;
		pthread_mutex_unlock(&p->mu);
		if (!left && !p->batch.n && !p->out_len)
			break;
		op_connected_round(p);
	}
	if (p->fd >= 0)
		op_disconnect(p, NULL);
	return NULL;
}

struct out_proto *out_proto_start(const char *hostport, const struct out_proto_opts *o)
{
	struct out_proto *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->fd = -1;
	p->efd = -1;
	p->o = *o;
	if (!p->o.queue_bytes)
		p->o.queue_bytes = 8u << 20;
	if (!p->o.batch_packets)
		p->o.batch_packets = 256;
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
	p->qcap = p->o.queue_bytes;
	p->q = malloc(p->qcap);
	p->pkt_iface = calloc(p->o.batch_packets, sizeof(*p->pkt_iface));
	if (!p->q || !p->pkt_iface ||
	    stream_batch_init(&p->batch, p->o.batch_packets, p->o.batch_bytes)) {
		pr_err("protobuf stream: out of memory for a %zu-byte queue", p->qcap);
		goto fail;
	}
	p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->efd < 0) {
		pr_err("eventfd: %s", strerror(errno));
		goto fail;
	}
	pthread_mutex_init(&p->mu, NULL);
	p->start_ns = op_wall_ns();
	int err = pthread_create(&p->thread, NULL, op_thread, p);
	if (err) {
		pr_err("pthread_create: %s", strerror(err));
		pthread_mutex_destroy(&p->mu);
		goto fail;
	}
	return p;
fail:
	if (p->efd >= 0)
		close(p->efd);
	stream_batch_free(&p->batch);
	free(p->q);
	free(p->pkt_iface);
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

void out_proto_stop(struct out_proto *p)
{
	if (!p)
		return;
	p->stop = 1;
	out_proto_kick(p);
	pthread_join(p->thread, NULL);
	pthread_mutex_destroy(&p->mu);
	close(p->efd);
	stream_batch_free(&p->batch);
	free(p->q);
	free(p->pkt_iface);
	free(p->out);
	tls_ctx_free(p->tls);
	free(p);
}
