// SPDX-License-Identifier: Apache-2.0
/*
 * dns.c - the DNS module's glue: configuration, registration with l7, port matching, UDP
 * datagrams, and DNS over TCP framing (RFC 1035 4.2.2: a two-byte length before each
 * message). TCP data arrives in order per direction; a message may span segments and a
 * segment may hold several messages. Each direction buffers at most one message (<= 65537
 * bytes), in a buffer that grows with the bytes that came (not with what the length prefix
 * claims) and counts in the TCP memory cap (l7_tcp_ctx.buf_bytes); after a gap the partial
 * message is dropped and framing restarts at the first chunk that looks like the start of a
 * message.
 */
#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "counter.h"
#include "dns.h"
#include "dns_txn.h"
#include "l7.h"
#include "log.h"

PANO_COUNTER(c_dns_tcp_gap, "dns_tcp_gap", "drop", "DNS over TCP partial messages lost to gaps");
PANO_COUNTER(c_dns_tcp_zero, "dns_tcp_zero_length", "weird", "DNS over TCP zero-length messages");
PANO_COUNTER(c_dns_tcp_resync, "dns_tcp_resync_skipped", "drop",
	     "DNS over TCP chunks skipped after a gap while looking for a message start");
PANO_COUNTER(c_dns_tcp_nomem, "dns_tcp_nomem", "drop", "DNS over TCP data dropped (no memory)");
PANO_COUNTER(c_dns_tcp_partial_close, "dns_tcp_partial_at_close", "drop",
	     "DNS over TCP partial messages lost when their connection closed or was evicted");

#define DNS_TCP_BUF	 (65535 + 2)
#define DNS_TCP_BUF_MIN	 512
#define DNS_TCP_BUF_KEEP 4096 /* a larger buffer is freed once its message is out */

void dns_config_default(struct dns_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ports[0] = 53;
	cfg->ports[1] = 137; /* NetBIOS name service: Zeek's DNS analyzer reads it too */
	cfg->ports[2] = 5353;
	cfg->ports[3] = 5355;
	cfg->nports = 4;
	cfg->timeout_ns = 5000000000ull;
	cfg->max_open = 100000;
	cfg->zeek_dotted = 0;
	cfg->format = DNS_FORMAT_JSON;
}

static enum l7_verdict dns_match(void *stv, const struct pano_pkt *pkt)
{
	const struct dns_state *st = stv;

	for (int i = 0; i < st->cfg.nports; i++)
		if (pkt->sport == st->cfg.ports[i] || pkt->dport == st->cfg.ports[i])
			return L7_YES;
	return L7_NO;
}

/* Per-direction framing state. */
struct dns_framer {
	uint8_t *buf; /* cap bytes, grown as a partial message comes (DNS_TCP_BUF at most) */
	size_t cap;
	size_t have; /* bytes buffered: the length prefix and part of one message */
	bool resync; /* after a gap: the next chunk must look like a message start */
};

/* Room for want bytes in f's buffer (want <= DNS_TCP_BUF), doubling from DNS_TCP_BUF_MIN;
 * what it allocates is counted on the connection (c->buf_bytes). false when out of memory. */
static bool dns_framer_room(struct l7_tcp_ctx *c, struct dns_framer *f, size_t want)
{
	if (want <= f->cap)
		return true;
	size_t cap = f->cap ? f->cap : DNS_TCP_BUF_MIN;
	while (cap < want)
		cap *= 2;
	if (cap > DNS_TCP_BUF)
		cap = DNS_TCP_BUF;
	uint8_t *nb = realloc(f->buf, cap);
	if (!nb)
		return false;
	c->buf_bytes += cap - f->cap;
	f->buf = nb;
	f->cap = cap;
	return true;
}

/* Frees f's buffer (its bytes no longer counted on c). */
static void dns_framer_free(struct l7_tcp_ctx *c, struct dns_framer *f)
{
	free(f->buf);
	c->buf_bytes -= f->cap;
	f->buf = NULL;
	f->cap = 0;
}

/* After a gap, does a chunk plausibly start with a framed DNS message? The chunk must hold
 * the length and the whole header; the opcode must be a standard one, at most one question,
 * and the counts must fit the length (a question takes >= 5 bytes, an RR >= 11). A wrong
 * guess costs one garbled message, which the parser counts as weird. */
static bool dns_frame_start_ok(const uint8_t *d, size_t len)
{
	if (len < 2 + DNS_HDR_LEN)
		return false;
	size_t ml = (size_t)d[0] << 8 | d[1];
	unsigned op = (d[4] >> 3) & 0xf;
	size_t qd = (size_t)d[6] << 8 | d[7];
	size_t rrs = ((size_t)d[8] << 8 | d[9]) + ((size_t)d[10] << 8 | d[11]) +
		     ((size_t)d[12] << 8 | d[13]);
	return ml >= DNS_HDR_LEN && (op == 0 || op == 4 || op == 5) && qd <= 1 &&
	       DNS_HDR_LEN + qd * 5 + rrs * 11 <= ml;
}

struct dns_tcp {
	struct dns_conn conn;
	struct dns_framer dir[2]; /* [1] client->server, [0] server->client */
};

/* Feeds stream bytes to one direction's framer; complete messages go to the transactions.
 * Messages wholly inside data are parsed in place; only a partial one is copied. */
static void dns_frame(struct dns_state *st, struct l7_tcp_ctx *c, struct dns_tcp *t,
		      struct dns_framer *f, const uint8_t *data, size_t len,
		      const struct pano_pkt *pkt)
{
	while (len) {
		if (!f->have) {
			if (len >= 2) {
				size_t ml = (size_t)data[0] << 8 | data[1];
				if (!ml) {
					counter_inc(&c_dns_tcp_zero);
					data += 2;
					len -= 2;
					continue;
				}
				if (len >= 2 + ml) {
					dns_txn_message(st, &t->conn, pkt, data + 2, ml);
					data += 2 + ml;
					len -= 2 + ml;
					continue;
				}
			}
		}
		/* Fill the prefix, then the message, from data. */
		size_t need = f->have < 2 ? 2 - f->have : 0;
		if (!need) {
			size_t ml = (size_t)f->buf[0] << 8 | f->buf[1];
			need = 2 + ml - f->have;
		}
		size_t k = len < need ? len : need;
		if (!dns_framer_room(c, f, f->have + k)) {
			counter_inc(&c_dns_tcp_nomem);
			f->have = 0;
			f->resync = true; /* what follows is the rest of the message dropped */
			return;
		}
		memcpy(f->buf + f->have, data, k);
		f->have += k;
		data += k;
		len -= k;
		if (f->have < 2)
			return;
		size_t ml = (size_t)f->buf[0] << 8 | f->buf[1];
		if (!ml) {
			counter_inc(&c_dns_tcp_zero);
			f->have = 0;
			continue;
		}
		if (f->have == 2 + ml) {
			dns_txn_message(st, &t->conn, pkt, f->buf + 2, ml);
			f->have = 0;
			if (f->cap > DNS_TCP_BUF_KEEP)
				dns_framer_free(c, f);
		}
	}
}

static void dns_on_tcp_data(void *stv, struct l7_tcp_ctx *c, int from_client, const uint8_t *data,
			    size_t len, const struct pano_pkt *pkt)
{
	struct dns_state *st = stv;
	struct dns_tcp *t = c->state;
	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t) {
			counter_inc(&c_dns_tcp_nomem);
			return;
		}
		dns_conn_init_tcp(st, &t->conn, &c->client, c->client_port, &c->server,
				  c->server_port, l7_tcp_uid_seed(c), c->src);
		c->state = t;
	}
	struct dns_framer *f = &t->dir[from_client ? 1 : 0];
	if (f->resync) {
		if (!dns_frame_start_ok(data, len)) {
			counter_inc(&c_dns_tcp_resync);
			return;
		}
		f->resync = false;
	}
	dns_frame(st, c, t, f, data, len, pkt);
}

static void dns_on_tcp_gap(void *st, struct l7_tcp_ctx *c, int from_client, uint64_t len)
{
	struct dns_tcp *t = c->state;
	if (!t)
		return;
	struct dns_framer *f = &t->dir[from_client ? 1 : 0];
	if (f->have) {
		counter_inc(&c_dns_tcp_gap);
		f->have = 0;
	}
	f->resync = true;
}

static void dns_on_tcp_close(void *st, struct l7_tcp_ctx *c)
{
	struct dns_tcp *t = c->state;
	if (!t)
		return;
	dns_conn_close(st, &t->conn);
	for (int i = 0; i < 2; i++) {
		if (t->dir[i].have)
			counter_inc(&c_dns_tcp_partial_close);
		dns_framer_free(c, &t->dir[i]);
	}
	free(t);
	c->state = NULL;
}

int dns_set_ports(struct dns_state *st, const uint16_t *ports, int nports)
{
	if (nports < 1 || nports > DNS_MAX_PORTS)
		return -EINVAL;
	memcpy(st->cfg.ports, ports, sizeof(ports[0]) * (size_t)nports);
	st->cfg.nports = nports;
	return 0;
}

static void dns_cfg_default(void *cfg)
{
	dns_config_default(cfg);
}

static void *dns_create(const void *cfgv, const struct l7_env *env)
{
	const struct dns_config *cfg = cfgv;

	if (cfg->nports < 0 || cfg->nports > DNS_MAX_PORTS) {
		pr_err("dns_create: %d ports (at most %d)", cfg->nports, DNS_MAX_PORTS);
		return NULL;
	}
	struct dns_state *st = dns_txn_new(cfg, env->emit);
	if (st) {
		st->uid_key = env->uid_key;
		st->senders = env->senders;
	}
	return st;
}

static void dns_destroy(void *st)
{
	dns_txn_free(st);
}

static void dns_udp(void *st, const struct pano_pkt *pkt)
{
	dns_txn_udp(st, pkt);
}

static void dns_tick(void *st, uint64_t now_ns)
{
	dns_txn_tick(st, now_ns);
}

static void dns_flush(void *st)
{
	dns_txn_flush(st);
}

static void dns_gauges(void *stv, l7_gauge_fn out, void *arg)
{
	const struct dns_state *st = stv;

	out(arg, "dns_open_transactions", "DNS transactions waiting for their other half",
	    st->g_open);
	out(arg, "dns_udp_conversations", "UDP client/server pairs the DNS module keeps state for",
	    st->udp_nconns);
}

const struct l7_proto dns_proto = {
    .name = "dns",
    .cfg_size = sizeof(struct dns_config),
    .cfg_default = dns_cfg_default,
    .create = dns_create,
    .destroy = dns_destroy,
    .match = dns_match,
    .on_udp = dns_udp,
    .on_tcp_data = dns_on_tcp_data,
    .on_tcp_gap = dns_on_tcp_gap,
    .on_tcp_close = dns_on_tcp_close,
    .tick = dns_tick,
    .flush = dns_flush,
    .gauges = dns_gauges,
};
