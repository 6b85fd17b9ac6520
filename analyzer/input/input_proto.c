// SPDX-License-Identifier: Apache-2.0
/*
 * input_proto.c - the protobuf stream listener (see input_proto.h). One thread, poll(2) over the
 * listening socket and every agent connection (non-blocking, TLS when configured). A connection
 * goes through: TLS handshake (nothing is read as stream data before it succeeds), preamble and
 * hello (lib/stream.c checks them), then batches and stats. Any error closes that connection
 * alone, with one line saying why; the others go on.
 *
 * Admission (input_proto.h, lib/admit.h): a connection is pending until its hello, then an
 * agent. Pending connections have a deadline (TLS and hello), a small receive buffer, and a
 * capped number of slots where the oldest gives way to a new one; agents have an idle timeout;
 * every address has a cap. Each close says why: counted by reason, logged (rate-limited: peers
 * can make these at will), and, once TLS is up, written to the peer as a Refusal envelope.
 *
 * Agent identity: (node, start time of the agent run) from the hello. Each identity gets one
 * struct pano_source for the whole analyzer run, so an agent that reconnects continues its own
 * flows and transactions, and two agents never share state. Sources and interface names are
 * never freed (decoder and protocol state may hold pointers to them); both tables are capped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admit.h"
#include "counter.h"
#include "decode.h"
#include "input_proto.h"
#include "log.h"
#include "pano/pcap.h"
#include "stream.h"

_Static_assert(PANO__V1__DIRECTION__DIRECTION_IN == 1 && PANO__V1__DIRECTION__DIRECTION_OUT == 2,
	       "ip_on_batch maps the directions by value");

#define IP_MAX_AGENTS	    1024 /* agent identities remembered per analyzer run */
#define IP_MAX_IFACES	    256	 /* interfaces per hello */
#define IP_MAX_NAMES	    4096 /* distinct interface/node strings interned */
#define IP_READS_PER_TURN   8	 /* reads from one connection before serving others */
#define IP_POLL_MS	    200
#define IP_ACCEPTS_PER_TURN 32	     /* accepts between two turns of serving the connections */
#define IP_LOG_MS	    10000    /* rate limit of the close lines: LOG_LIMIT_BURST per 10 s */
#define IP_SOURCE_BASE	    0x10000u /* ids of agent sources (inputs use 0 and 1) */
#define IP_ACK_BYTES                                                                               \
	(512u << 10) /* an Ack after this many batch bytes at the latest (or                       \
		      * less: what the agent's hello asks) */

PANO_COUNTER(c_ip_accepted, "proto_connections", "event", "agent connections accepted");
PANO_COUNTER(
    c_ip_refused, "proto_connections_refused", "drop",
    "agent connections refused: TLS handshake failed, or the agent identity table was full");
PANO_COUNTER(c_ip_hs_timeout, "proto_closed_handshake_timeout", "event",
	     "connections closed: TLS handshake not done within the hello timeout");
PANO_COUNTER(c_ip_hello_timeout, "proto_closed_hello_timeout", "event",
	     "connections closed: no hello within the hello timeout");
PANO_COUNTER(c_ip_idle, "proto_closed_idle_timeout", "drop",
	     "agent connections closed: nothing received within the idle timeout");
PANO_COUNTER(c_ip_evicted, "proto_evicted_pending", "event",
	     "connections without a hello closed to make room for a new connection");
PANO_COUNTER(c_ip_per_source, "proto_refused_per_source", "event",
	     "connections refused: their address held its cap of agents already");
PANO_COUNTER(c_ip_too_many, "proto_refused_too_many_agents", "drop",
	     "agents refused at their hello: the agent cap was reached");
PANO_COUNTER(c_ip_errors, "proto_stream_errors", "weird",
	     "agent connections closed because their stream was malformed");
PANO_COUNTER(c_ip_truncated, "proto_stream_truncated", "drop",
	     "agent connections that ended inside an envelope");
PANO_COUNTER(c_ip_frames, "proto_frames", "event", "frames received from agents");
PANO_COUNTER(c_ip_bytes, "proto_bytes", "event", "stream bytes received from agents (after TLS)");
PANO_COUNTER(c_ip_bad_len, "proto_frame_len_short", "weird",
	     "frames whose original length was below their captured length (raised)");
PANO_COUNTER(c_ip_names_full, "proto_names_full", "drop",
	     "interface names not kept: the name table was full");
PANO_COUNTER(c_up_ring, "upstream_ring_drops", "drop",
	     "frames agents lost in their ring buffer (from agent stats)");
PANO_COUNTER(c_up_stream, "upstream_stream_drops", "drop",
	     "frames agents dropped on the way to this analyzer (queue full, broken connection, "
	     "not acknowledged when the agent stopped)");
PANO_COUNTER(c_up_resent, "upstream_resent", "event",
	     "frames agents sent again after a reconnection (from agent stats)");
PANO_COUNTER(c_ip_dups, "proto_duplicate_frames", "event",
	     "frames of batches an agent sent again that this analyzer had taken (dropped)");
PANO_COUNTER(c_ip_acks, "proto_acks", "event", "acknowledgements written to agents");

/* An agent run: stable source for its whole life, and the last cumulative stats seen. */
struct ip_agent {
	struct pano_source src;
	uint64_t start_ns;
	uint64_t ring_drops, stream_dropped, resent; /* last cumulative values counted */
	uint64_t taken_seq; /* highest batch number taken from this run (minor version 2+) */
	int conns;	    /* connections open now */
};

struct ip_iface {
	uint32_t ifindex;
	const char *name; /* interned */
	int linktype;
};

/* An interface named by packets (not in the hello): the name is interned once per change. */
struct ip_named {
	uint32_t ifindex;
	uint8_t len;
	char name[63];
	const char *interned;
};

/* Why a connection is closed: its counter, the code of the Refusal the peer gets, and a limiter
 * for its log lines. */
enum ip_why {
	IPW_NONE,	   /* the peer left (or the analyzer stops): no refusal */
	IPW_TLS,	   /* TLS handshake failed */
	IPW_AGENT_TABLE,   /* the agent identity table is full */
	IPW_HS_TIMEOUT,	   /* TLS not done in time */
	IPW_HELLO_TIMEOUT, /* no hello in time */
	IPW_IDLE,	   /* an agent went silent */
	IPW_EVICTED,	   /* a pending connection gave way to a new one */
	IPW_PER_SOURCE,	   /* refused at accept: its address is at its cap */
	IPW_TOO_MANY,	   /* refused at its hello: the agent cap */
	IPW_STREAM,	   /* the stream was malformed or refused */
	IPW_TRUNCATED,	   /* the stream ended inside an envelope */
	IPW_N
};

static const struct {
	const char *code;
	struct pano_counter *counter;
} ip_whys[IPW_N] = {
    [IPW_NONE] = {NULL, NULL},
    [IPW_TLS] = {"tls", &c_ip_refused},
    [IPW_AGENT_TABLE] = {"agent_table_full", &c_ip_refused},
    [IPW_HS_TIMEOUT] = {"handshake_timeout", &c_ip_hs_timeout},
    [IPW_HELLO_TIMEOUT] = {"hello_timeout", &c_ip_hello_timeout},
    [IPW_IDLE] = {"idle", &c_ip_idle},
    [IPW_EVICTED] = {"evicted", &c_ip_evicted},
    [IPW_PER_SOURCE] = {"per_source", &c_ip_per_source},
    [IPW_TOO_MANY] = {"too_many_agents", &c_ip_too_many},
    [IPW_STREAM] = {"stream_error", &c_ip_errors},
    [IPW_TRUNCATED] = {"truncated", &c_ip_truncated},
};

struct ip_listener;

struct ip_conn {
	struct admit_conn adm; /* trusted once the hello is in */
	struct ip_listener *l;
	int fd;
	struct tls_conn *tls;
	bool handshaken;
	enum ip_why refuse; /* set by a callback that refuses the stream (IPW_STREAM if not) */
	uint64_t accepted_ns, last_rx_ns;
	char peer[64];
	struct stream_dec dec;
	struct ip_agent *agent;
	struct ip_iface ifs[IP_MAX_IFACES];
	int nifs;
	struct ip_named named[8]; /* recently named interfaces, round robin */
	unsigned nnamed;
	uint64_t frames, batches, last_seq;
	/* Acks (an agent of minor version 2+): what this connection acknowledged last, when, and
	 * the batches taken since; bytes of a reply the socket has not taken yet. */
	bool acking, said_preamble, dup;
	uint64_t acked_seq, ack_ns;
	size_t unacked_bytes, ack_bytes; /* an Ack after ack_bytes of batches at the latest */
	uint8_t reply[STREAM_PREAMBLE_LEN + STREAM_ACK_MAX];
	uint8_t reply_len, reply_off;
	bool more; /* the last turn stopped on its read budget, not on EAGAIN: serve it again
		    * without waiting for poll (TLS may hold whole records the socket no longer
		    * shows, which SSL_pending() does not count) */
};

/* The listener's state: one per input_proto_run. */
struct ip_listener {
	struct input_proto_opts o;
	struct pano_engine *eng; /* every agent's frames are decoded by it */
	struct tls_ctx *tls;
	struct admit_limits lim;
	struct ip_conn **conns;
	int nconns, nagents; /* connections, and those that said hello */
	struct log_limit logs[IPW_N];
};

static struct ip_agent *ip_agents[IP_MAX_AGENTS];
static int ip_nagents;
static const char *ip_names[IP_MAX_NAMES];
static int ip_nnames;

/* The one stored copy of s (never freed), or NULL when the table is full. */
static const char *ip_intern(const char *s)
{
	for (int i = 0; i < ip_nnames; i++)
		if (strcmp(ip_names[i], s) == 0)
			return ip_names[i];
	if (ip_nnames == IP_MAX_NAMES) {
		counter_inc(&c_ip_names_full);
		return NULL;
	}
	char *c = strdup(s);
	if (c)
		ip_names[ip_nnames++] = c;
	return c;
}

static struct ip_agent *ip_agent_get(const char *node, uint64_t start_ns)
{
	for (int i = 0; i < ip_nagents; i++)
		if (ip_agents[i]->start_ns == start_ns && strcmp(ip_agents[i]->src.node, node) == 0)
			return ip_agents[i];
	if (ip_nagents == IP_MAX_AGENTS)
		return NULL;
	const char *n = ip_intern(node);
	struct ip_agent *a = n ? calloc(1, sizeof(*a)) : NULL;
	if (!a)
		return NULL;
	a->src.id = IP_SOURCE_BASE + (uint32_t)ip_nagents;
	a->src.node = n;
	a->start_ns = start_ns;
	ip_agents[ip_nagents++] = a;
	return a;
}

/* Writes what is left of the last reply; true when all of it went. Never waits. */
static bool ip_reply_flush(struct ip_conn *c)
{
	while (c->reply_off < c->reply_len) {
		ssize_t w = tls_conn_write(c->tls, c->reply + c->reply_off,
					   (size_t)(c->reply_len - c->reply_off));
		if (w <= 0)
			return false; /* full (the agent reads later) or broken (the read says) */
		c->reply_off += (uint8_t)w;
	}
	return true;
}

/* Acknowledges the agent run's batches taken so far when due (IP_ACK_BYTES of batches, or
 * ack_ms since the last Ack), or now with force (the first Ack, right after the hello); the
 * first reply carries this analyzer's preamble. */
static void ip_ack(struct ip_conn *c, uint64_t now, bool force)
{
	if (!c->acking || !ip_reply_flush(c))
		return;
	uint64_t seq = c->agent->taken_seq;
	if (!force &&
	    (seq <= c->acked_seq || (c->unacked_bytes < c->ack_bytes &&
				     now - c->ack_ns < (uint64_t)c->l->o.ack_ms * 1000000ull)))
		return;
	size_t n = 0;
	if (!c->said_preamble) {
		stream_preamble(c->reply, STREAM_VERSION_MAJOR, STREAM_VERSION_MINOR);
		n = STREAM_PREAMBLE_LEN;
		c->said_preamble = true;
	}
	n += stream_ack(c->reply + n, seq);
	c->reply_len = (uint8_t)n;
	c->reply_off = 0;
	c->acked_seq = seq;
	c->ack_ns = now;
	c->unacked_bytes = 0;
	counter_inc(&c_ip_acks);
	ip_reply_flush(c);
}

/* True when c has batches to acknowledge (the poll loop wakes up for them). */
static bool ip_ack_pending(const struct ip_conn *c)
{
	return c->acking && (c->agent->taken_seq > c->acked_seq || c->reply_off < c->reply_len);
}

static int ip_on_hello(struct ip_conn *c, struct stream_dec *d, const Pano__V1__Hello *h)
{
	char node[256];
	/* Node names end up in records and metrics: keep them short and printable. */
	snprintf(node, sizeof(node), "%s", h->node && *h->node ? h->node : c->peer);
	for (char *p = node; *p; p++)
		if (*p < 0x21 || *p > 0x7e || *p == '"' || *p == '\\')
			*p = '_';
	if (h->stream_version != STREAM_VERSION_MAJOR)
		return stream_dec_fail(d, -EPROTONOSUPPORT,
				       "hello says stream version %u, preamble said %u",
				       h->stream_version, STREAM_VERSION_MAJOR);
	if (c->l->nagents >= c->l->o.max_conns) {
		c->refuse = IPW_TOO_MANY;
		return stream_dec_fail(d, -EUSERS,
				       "agent %s refused: %d agents connected already (the cap, "
				       "--max-agents)",
				       node, c->l->nagents);
	}
	c->agent = ip_agent_get(node, h->start_ns);
	if (!c->agent) {
		c->refuse = IPW_AGENT_TABLE;
		return stream_dec_fail(d, -ENOSPC, "agent table full (%d agents)", IP_MAX_AGENTS);
	}
	c->agent->conns++;
	c->adm.trusted = true;
	c->l->nagents++;
	c->nifs = 0;
	for (size_t i = 0; i < h->n_interfaces && c->nifs < IP_MAX_IFACES; i++) {
		const Pano__V1__Interface *f = h->interfaces[i];
		char name[64];
		snprintf(name, sizeof(name), "%s", f->name ? f->name : "");
		c->ifs[c->nifs].ifindex = f->ifindex;
		c->ifs[c->nifs].name = name[0] ? ip_intern(name) : NULL;
		c->ifs[c->nifs].linktype =
		    f->link_type ? (int)f->link_type : PCAP_LINKTYPE_ETHERNET;
		c->nifs++;
	}
	pr_info("agent %s connected from %s (agent %s, %d interface(s), session %llu)%s",
		c->agent->src.node, c->peer, h->agent_version ? h->agent_version : "?", c->nifs,
		(unsigned long long)h->session,
		c->agent->conns > 1 ? "; also connected elsewhere" : "");
	/* An agent of minor version 2+ numbers its batches per run and resends what was not
	 * acknowledged: the first Ack, now, says where to resume. */
	c->acking = d->peer_minor >= 2;
	c->ack_bytes =
	    h->ack_bytes && h->ack_bytes < IP_ACK_BYTES ? (size_t)h->ack_bytes : IP_ACK_BYTES;
	if (c->acking)
		ip_ack(c, admit_now_ns(), true);
	return 0;
}

/* The interned name a packet gives its interface (cached per connection: agents name every
 * packet of an interface their hello did not list). NULL for an empty name. */
static const char *ip_packet_iface(struct ip_conn *c, const struct stream_pkt *p)
{
	char name[64];
	size_t len = strnlen(p->iface, p->iface_len < 63 ? p->iface_len : 63);
	if (len == 0)
		return NULL;
	for (unsigned k = 0; k < sizeof(c->named) / sizeof(c->named[0]); k++) {
		struct ip_named *e = &c->named[k];
		if (e->interned && e->ifindex == p->ifindex && e->len == len &&
		    memcmp(e->name, p->iface, len) == 0)
			return e->interned;
	}
	memcpy(name, p->iface, len);
	name[len] = '\0';
	struct ip_named *e = &c->named[c->nnamed++ % (sizeof(c->named) / sizeof(c->named[0]))];
	e->interned = ip_intern(name);
	e->ifindex = p->ifindex;
	e->len = (uint8_t)len;
	memcpy(e->name, name, len);
	return e->interned;
}

/* Decodes a batch's frames as the walk hands them out; a malformed field stops it there and
 * refuses the stream (the frames before it were decoded). 0 or -EBADMSG. */
static int ip_on_batch(struct ip_conn *c, struct stream_dec *d, const struct stream_batch_view *b)
{
	struct stream_pkt_iter it;
	struct stream_pkt p;
	const struct ip_iface *ifc = NULL;
	struct pano_frame f = {.linktype = PCAP_LINKTYPE_ETHERNET, .src = &c->agent->src};
	struct pano_sender snd;
	uint32_t last_ifindex = 0;
	bool looked = false;

	if (!b->part) {
		c->batches++;
		c->dup = false;
	}
	stream_batch_iter(b, &it);
	bool first = !b->part;
	size_t dups = 0;
	while (stream_batch_next(&it, &p)) {
		/* An agent that acks writes seq before the packets: a batch taken already (sent
		 * again after a reconnection) is known at its first packet, and skipped whole. */
		if (first) {
			first = false;
			c->dup = c->acking && it.seq && it.seq <= c->agent->taken_seq;
		}
		if (c->dup) {
			dups++;
			continue;
		}
		if (!looked || last_ifindex != p.ifindex) {
			ifc = NULL;
			for (int k = 0; k < c->nifs; k++)
				if (c->ifs[k].ifindex == p.ifindex) {
					ifc = &c->ifs[k];
					break;
				}
			last_ifindex = p.ifindex;
			looked = true;
			f.linktype = ifc ? ifc->linktype : PCAP_LINKTYPE_ETHERNET;
			f.meta.iface = ifc ? ifc->name : NULL;
		}
		f.ts_ns = p.ts_ns;
		f.data = p.frame;
		f.caplen = p.frame_len;
		f.len = p.orig_len;
		if (f.len < f.caplen) {
			counter_inc(&c_ip_bad_len);
			f.len = f.caplen;
		}
		if (!ifc)
			f.meta.iface = p.iface_len ? ip_packet_iface(c, &p) : NULL;
		/* DIRECTION_IN (1) and _OUT (2) to 0 and 1, anything else unknown */
		f.meta.dir = (uint32_t)p.direction - 1u < 2u ? (int)p.direction - 1 : -1;
		f.meta.l4_csum_partial = p.csum_partial;
		f.meta.sender = NULL;
		if (p.cgroup_id || p.pid) {
			snd = (struct pano_sender){.cgroup_id = p.cgroup_id,
						   .pid = p.pid,
						   .comm_len = p.comm_len,
						   .ns_len = p.ns_len,
						   .pod_len = p.pod_len,
						   .container_len = p.container_len,
						   .comm = p.comm,
						   .ns = p.ns,
						   .pod = p.pod,
						   .container = p.container};
			f.meta.sender = &snd;
		}
		decode_frame(c->l->eng, &f);
	}
	c->frames += it.n - dups;
	counter_add(&c_ip_frames, it.n - dups);
	counter_add(&c_ip_dups, dups);
	c->last_seq = it.seq;
	if (it.err)
		return stream_batch_refuse(d, &it);
	if (c->acking && !c->dup && it.seq > c->agent->taken_seq) {
		c->agent->taken_seq = it.seq; /* every part says it: the last one counts */
		c->unacked_bytes += b->len;
	}
	return 0;
}

/* Counts what the agent lost since the last stats this analyzer saw from that agent run. */
static void ip_on_stats(struct ip_conn *c, const Pano__V1__AgentStats *s)
{
	struct ip_agent *a = c->agent;
	if (s->ring_drops > a->ring_drops) {
		counter_add(&c_up_ring, s->ring_drops - a->ring_drops);
		pr_warn("agent %s: %llu frame(s) lost in its ring buffer", a->src.node,
			(unsigned long long)(s->ring_drops - a->ring_drops));
		a->ring_drops = s->ring_drops;
	}
	if (s->stream_dropped > a->stream_dropped) {
		counter_add(&c_up_stream, s->stream_dropped - a->stream_dropped);
		pr_warn("agent %s: %llu frame(s) dropped before reaching this analyzer",
			a->src.node, (unsigned long long)(s->stream_dropped - a->stream_dropped));
		a->stream_dropped = s->stream_dropped;
	}
	if (s->stream_resent > a->resent) {
		counter_add(&c_up_resent, s->stream_resent - a->resent);
		a->resent = s->stream_resent;
	}
}

static int ip_on_msg(void *ctx, struct stream_dec *d, const struct stream_msg *m)
{
	struct ip_conn *c = ctx;
	switch (m->type) {
	case PANO__V1__ENVELOPE__MSG_HELLO:
		return ip_on_hello(c, d, m->hello);
	case PANO__V1__ENVELOPE__MSG_BATCH:
		return ip_on_batch(c, d, &m->batch);
	case PANO__V1__ENVELOPE__MSG_STATS:
		ip_on_stats(c, m->stats);
		/* stats come every second, and from a stopping agent after its last batch: the
		 * batches before them are acknowledged at once */
		if (c->acking && c->agent->taken_seq > c->acked_seq)
			ip_ack(c, admit_now_ns(), true);
		return 0;
	default:
		return 0;
	}
}

/* Best effort, never waits: tells a peer that finished TLS why it is being closed. */
static void ip_tell(struct ip_conn *c, enum ip_why why, const char *text)
{
	uint8_t buf[STREAM_REFUSAL_MAX];

	if (!ip_whys[why].code || !tls_conn_ready(c->tls))
		return;
	size_t n = stream_refusal(buf, sizeof(buf), ip_whys[why].code, text);
	size_t skip = c->said_preamble ? STREAM_PREAMBLE_LEN : 0; /* said with the first Ack */
	if (n && ip_reply_flush(c))
		(void)tls_conn_write(c->tls, buf + skip, n - skip); /* 512 bytes fit the socket */
}

/*
 * Closes c (and frees it; the caller removes it from the table), counted by why and logged
 * with text: a warning for agents, rate-limited per reason for connections that never said
 * hello (a peer can make those at will).
 */
static void ip_close(struct ip_conn *c, enum ip_why why, const char *text)
{
	struct ip_listener *l = c->l;
	const char *node = c->agent ? c->agent->src.node : "(no hello)";

	if (ip_whys[why].counter)
		counter_inc(ip_whys[why].counter);
	if (why == IPW_NONE)
		log_msg(c->agent ? PANO_LOG_INFO : PANO_LOG_DEBUG,
			"agent %s from %s disconnected after %llu frame(s) in %llu batch(es)", node,
			c->peer, (unsigned long long)c->frames, (unsigned long long)c->batches);
	else if (c->agent)
		pr_warn("agent %s from %s: %s; connection closed", node, c->peer, text);
	else
		pr_warn_limited(&l->logs[why], IP_LOG_MS, "agent %s from %s: %s; connection closed",
				node, c->peer, text);
	ip_tell(c, why, text);
	if (c->agent) {
		c->agent->conns--;
		l->nagents--;
	}
	tls_conn_free(c->tls);
	stream_dec_free(&c->dec);
	close(c->fd);
	free(c);
}

/* Serves one readable connection. 0 to keep it, -1 when it was closed (and freed). */
static int ip_service(struct ip_conn *c, uint64_t now)
{
	if (!c->handshaken) {
		int rc = tls_conn_handshake(c->tls);
		if (rc == -EAGAIN)
			return 0;
		if (rc) {
			char why[320];
			snprintf(why, sizeof(why), "TLS handshake refused: %s",
				 tls_conn_error(c->tls));
			ip_close(c, IPW_TLS, why);
			return -1;
		}
		c->handshaken = true;
		if (tls_conn_is_tls(c->tls))
			pr_debug("TLS peer %s: %s", c->peer, tls_conn_peer(c->tls));
	}
	c->more = true;
	for (int i = 0; i < IP_READS_PER_TURN; i++) {
		size_t room;
		uint8_t *buf = stream_dec_rx_space(&c->dec, &room);
		if (!buf) {
			ip_close(c, IPW_STREAM, stream_dec_error(&c->dec));
			return -1;
		}
		ssize_t n = tls_conn_read(c->tls, buf, room);
		if (n == -EAGAIN) {
			c->more = false;
			return 0;
		}
		if (n == 0 || n < 0) {
			if (n == 0 && stream_dec_partial(&c->dec))
				ip_close(c, IPW_TRUNCATED,
					 "stream ended inside an envelope (truncated)");
			else if (n == 0)
				ip_close(c, IPW_NONE, NULL);
			else
				ip_close(c, IPW_STREAM, tls_conn_error(c->tls));
			return -1;
		}
		c->last_rx_ns = now;
		counter_add(&c_ip_bytes, (uint64_t)n);
		if (stream_dec_rx_commit(&c->dec, (size_t)n, ip_on_msg, c) < 0) {
			ip_close(c, c->refuse, stream_dec_error(&c->dec));
			return -1;
		}
	}
	return 0;
}

/* Why c must go now: its TLS or hello deadline passed, or it is an agent gone silent. */
static enum ip_why ip_overdue(const struct ip_listener *l, const struct ip_conn *c, uint64_t now,
			      char *text, size_t size)
{
	uint64_t age_ms = (now - c->accepted_ns) / 1000000u;
	if (!c->adm.trusted && age_ms >= (uint64_t)l->o.hello_timeout_ms) {
		snprintf(text, size, "%s within %d ms of connecting",
			 c->handshaken ? "no hello" : "TLS handshake not done",
			 l->o.hello_timeout_ms);
		return c->handshaken ? IPW_HELLO_TIMEOUT : IPW_HS_TIMEOUT;
	}
	uint64_t idle_ms = (now - c->last_rx_ns) / 1000000u;
	if (c->adm.trusted && l->o.idle_timeout_ms > 0 &&
	    idle_ms >= (uint64_t)l->o.idle_timeout_ms) {
		snprintf(text, size, "nothing received for %llu ms (idle timeout %d ms)",
			 (unsigned long long)idle_ms, l->o.idle_timeout_ms);
		return IPW_IDLE;
	}
	return IPW_NONE;
}

/* Parses the listen spec: "PORT" alone binds 127.0.0.1. */
static int ip_listen(const char *spec, bool tls)
{
	char host[256] = "127.0.0.1", port[32];
	const char *colon = strrchr(spec, ':');
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res;

	if (spec[0] == '[') {
		const char *rb = strchr(spec, ']');
		if (!rb || rb[1] != ':' || (size_t)(rb - spec - 1) >= sizeof(host))
			goto bad;
		snprintf(host, sizeof(host), "%.*s", (int)(rb - spec - 1), spec + 1);
		snprintf(port, sizeof(port), "%s", rb + 2);
	} else if (colon) {
		if ((size_t)(colon - spec) >= sizeof(host))
			goto bad;
		snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
		snprintf(port, sizeof(port), "%s", colon + 1);
	} else {
		snprintf(port, sizeof(port), "%s", spec);
	}
	if (!port[0])
		goto bad;
	int rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (rc) {
		pr_err("--listen %s: getaddrinfo: %s", spec, gai_strerror(rc));
		return -EINVAL;
	}
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0) {
		pr_err("socket: %s", strerror(errno));
		freeaddrinfo(res);
		return -errno;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* A full backlog drops SYNs, which an agent retries only after a second or more: a
	 * burst of hostile connects must not cost agents that (they are accepted promptly). */
	if (bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, SOMAXCONN)) {
		int e = errno;
		pr_err("bind %s: %s", spec, strerror(e));
		close(fd);
		freeaddrinfo(res);
		return -e;
	}
	bool loopback = false;
	if (res->ai_family == AF_INET)
		loopback =
		    (ntohl(((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr) >> 24) == 127;
	else if (res->ai_family == AF_INET6)
		loopback = IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)res->ai_addr)->sin6_addr);
	if (!loopback && !tls)
		pr_warn("listening on %s without TLS: captured payloads travel in clear "
			"(give --tls-cert/--tls-key/--tls-ca)",
			spec);
	freeaddrinfo(res);
	pr_info("listening for agents on %s:%s%s", host, port, tls ? " (TLS)" : "");
	return fd;
bad:
	pr_err("--listen %s: want ADDR:PORT, [V6]:PORT or PORT", spec);
	return -EINVAL;
}

static const struct admit_conn *ip_admit_get(void *table, int i)
{
	return &((struct ip_conn **)table)[i]->adm;
}

/* Removes conns[i] from the table (after ip_close freed it). */
static void ip_remove(struct ip_listener *l, int i)
{
	l->conns[i] = l->conns[--l->nconns];
}

/*
 * Accepts up to IP_ACCEPTS_PER_TURN pending connections, each through admission: a connection
 * that needs room closes the oldest pending one (of its address when the address is at its
 * cap); one whose address holds only agents up to its cap is refused.
 */
static void ip_accept(struct ip_listener *l, int lfd, uint64_t now)
{
	for (int k = 0; k < IP_ACCEPTS_PER_TURN; k++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				pr_warn_limited(&l->logs[IPW_NONE], IP_LOG_MS, "accept: %s",
						strerror(errno));
			return;
		}
		char host[INET6_ADDRSTRLEN] = "?", serv[16] = "?", text[200];
		getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), serv, sizeof(serv),
			    NI_NUMERICHOST | NI_NUMERICSERV);
		struct admit_addr addr;
		int victim;
		admit_addr_from(&addr, (struct sockaddr *)&ss);
		enum admit_verdict v =
		    admit_decide(&l->lim, &addr, l->conns, ip_admit_get, l->nconns, &victim);
		if (v == ADMIT_EVICT) {
			struct ip_conn *old = l->conns[victim];
			snprintf(text, sizeof(text),
				 "no hello after %llu ms; closed for a new connection from %s "
				 "(%s full)",
				 (unsigned long long)(now - old->accepted_ns) / 1000000u, host,
				 memcmp(old->adm.addr.a, addr.a, 16) == 0 ? "its address's slots"
									  : "pending slots");
			ip_close(old, IPW_EVICTED, text);
			ip_remove(l, victim);
		} else if (v != ADMIT_OK) {
			counter_inc(&c_ip_per_source);
			pr_warn_limited(&l->logs[IPW_PER_SOURCE], IP_LOG_MS,
					"connection from %s:%s refused: its address holds %d agent "
					"connection(s), the cap (--max-per-source)",
					host, serv, l->lim.max_per_source);
			if (!l->tls) { /* plain TCP: say why at once (TLS would need a handshake) */
				uint8_t buf[STREAM_REFUSAL_MAX];
				snprintf(text, sizeof(text), "too many connections from %s", host);
				size_t n = stream_refusal(buf, sizeof(buf),
							  ip_whys[IPW_PER_SOURCE].code, text);
				(void)!send(fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
			}
			close(fd);
			continue;
		}
		struct ip_conn *c = calloc(1, sizeof(*c));
		if (c)
			c->tls = tls_conn_new(l->tls, fd, NULL);
		if (!c || !c->tls) {
			pr_err("agent from %s:%s: out of memory", host, serv);
			free(c);
			close(fd);
			continue;
		}
		c->l = l;
		c->fd = fd;
		c->handshaken = tls_conn_ready(c->tls); /* plain TCP: at once */
		c->adm.addr = addr;
		c->adm.since_ns = c->accepted_ns = c->last_rx_ns = now;
		c->refuse = IPW_STREAM;
		snprintf(c->peer, sizeof(c->peer), "%s:%s", host, serv);
		stream_dec_init(&c->dec, l->o.max_msg);
		counter_inc(&c_ip_accepted);
		pr_debug("connection from %s", c->peer);
		l->conns[l->nconns++] = c;
	}
}

/* Fills the defaults in; the table holds every agent and every pending connection. */
static int ip_setup(struct ip_listener *l, const struct input_proto_opts *opts)
{
	memset(l, 0, sizeof(*l));
	l->o = *opts;
	if (l->o.max_conns <= 0)
		l->o.max_conns = INPUT_PROTO_MAX_AGENTS;
	if (l->o.max_pending <= 0)
		l->o.max_pending = INPUT_PROTO_MAX_PENDING;
	if (l->o.max_per_source <= 0)
		l->o.max_per_source = INPUT_PROTO_MAX_PER_SOURCE;
	if (l->o.hello_timeout_ms <= 0)
		l->o.hello_timeout_ms = INPUT_PROTO_HELLO_MS;
	if (l->o.idle_timeout_ms == 0)
		l->o.idle_timeout_ms = INPUT_PROTO_IDLE_MS;
	if (l->o.ack_ms <= 0)
		l->o.ack_ms = INPUT_PROTO_ACK_MS;
	l->lim.max_untrusted = l->o.max_pending;
	l->lim.max_per_source = l->o.max_per_source;
	l->conns = calloc((size_t)(l->o.max_conns + l->o.max_pending), sizeof(*l->conns));
	return l->conns ? 0 : -ENOMEM;
}

int input_proto_run(const struct input_proto_opts *opts, const struct input_hooks *h)
{
	struct ip_listener l;
	struct pollfd *pfd = NULL;
	int rc = 0;

	signal(SIGPIPE, SIG_IGN); /* TLS alerts to a peer that is gone must not kill us */
	if (ip_setup(&l, opts)) {
		pr_err("input_proto: out of memory");
		return -ENOMEM;
	}
	l.eng = h->eng;
	if (tls_opts_any(&l.o.tls) && tls_ctx_new(&l.tls, true, &l.o.tls)) {
		free(l.conns);
		return -EINVAL;
	}
	int lfd = ip_listen(l.o.listen, l.tls != NULL);
	if (lfd < 0) {
		tls_ctx_free(l.tls);
		free(l.conns);
		return lfd;
	}
	pr_info("agents: at most %d, %d pending (TLS and hello within %d ms), %d per address, "
		"idle timeout %d ms",
		l.o.max_conns, l.o.max_pending, l.o.hello_timeout_ms, l.o.max_per_source,
		l.o.idle_timeout_ms);
	pfd = calloc((size_t)(l.o.max_conns + l.o.max_pending) + 1, sizeof(*pfd));
	if (!pfd) {
		pr_err("input_proto: out of memory");
		rc = -ENOMEM;
		goto out;
	}
	while (!*h->stop) {
		int timeout = IP_POLL_MS;
		pfd[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
		for (int i = 0; i < l.nconns; i++) {
			pfd[i + 1] = (struct pollfd){.fd = l.conns[i]->fd,
						     .events = tls_conn_events(l.conns[i]->tls)};
			if (l.conns[i]->more || tls_conn_pending(l.conns[i]->tls))
				timeout = 0;
			else if (ip_ack_pending(l.conns[i]) && timeout > l.o.ack_ms / 2)
				timeout = l.o.ack_ms / 2 + 1;
		}
		int n = poll(pfd, (nfds_t)l.nconns + 1, timeout);
		if (n < 0 && errno != EINTR) {
			pr_err("poll: %s", strerror(errno));
			rc = -errno;
			break;
		}
		/* Serve connections first (their pollfd slots match conns[] only until
		 * accept or close change the array), compacting as they close; then the
		 * deadlines. */
		uint64_t now = admit_now_ns();
		int kept = 0, seen = l.nconns;
		for (int i = 0; i < seen; i++) {
			struct ip_conn *c = l.conns[i];
			bool ready = n > 0 && pfd[i + 1].revents;
			char text[160];
			if ((ready || c->more || tls_conn_pending(c->tls)) &&
			    ip_service(c, now) < 0)
				continue;
			ip_ack(c, now, false);
			enum ip_why why = ip_overdue(&l, c, now, text, sizeof(text));
			if (why != IPW_NONE) {
				ip_close(c, why, text);
				continue;
			}
			l.conns[kept++] = c;
		}
		l.nconns = kept;
		if (n > 0 && (pfd[0].revents & POLLIN))
			ip_accept(&l, lfd, now);
		if (h->poll)
			h->poll(h->arg);
	}
out:
	for (int i = 0; i < l.nconns; i++) {
		struct ip_conn *c = l.conns[i];
		if (c->acking && c->agent->taken_seq > c->acked_seq)
			ip_ack(c, admit_now_ns(), true); /* what it took is not sent again */
		ip_close(c, IPW_NONE, NULL);
	}
	free(l.conns);
	free(pfd);
	close(lfd);
	tls_ctx_free(l.tls);
	return rc;
}
