// SPDX-License-Identifier: Apache-2.0
/*
 * http.c - the HTTP module's row of the l7 table: its options, its per-engine state, which TCP
 * connections it takes (by port at the SYN: Zeek's HTTP ports; on any other port when the
 * client's first bytes start a request line), and the TCP callbacks that feed the parser.
 * HTTP does not look at UDP, so DNS traffic never reaches this file.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counter.h"
#include "http.h"
#include "log.h"
#include "opt.h"
#include "uid.h"

PANO_COUNTER(c_http_partial_close, "http_partial_at_close", "drop",
	     "HTTP lines (start line or header) still incomplete when their connection closed");

PANO_COUNTER(c_http_nomem, "http_nomem", "drop", "HTTP connections not parsed (no memory)");
PANO_COUNTER(c_http_detected, "http_detected", "event",
	     "TCP connections on other ports bound to HTTP by their first request line");

void http_config_default(struct http_config *cfg)
{
	/* Zeek's HTTP ports (base/protocols/http/main.zeek) */
	static const uint16_t ports[] = {80, 81, 631, 1080, 3128, 8000, 8080, 8888};

	memset(cfg, 0, sizeof(*cfg));
	memcpy(cfg->ports, ports, sizeof(ports));
	cfg->nports = sizeof(ports) / sizeof(ports[0]);
	cfg->max_line = 16384;
	cfg->max_headers = 256;
	cfg->max_pending = 100;
	cfg->timeout_ns = 30ull * 1000000000ull;
}

static void http_cfg_default(void *cfg)
{
	http_config_default(cfg);
}

static const struct l7_opt http_opts[] = {
    {"http-ports", 0, 1, "LIST",
     "TCP ports read as HTTP from the SYN (default\n"
     "80,81,631,1080,3128,8000,8080,8888); on other ports a\n"
     "connection is HTTP if it starts with a request line"},
    {"http-max-line", 0, 1, "N",
     "bytes of a start or header line kept (default 16K;\nthe rest is skipped and counted)"},
    {"http-max-headers", 0, 1, "N", "header lines read per message (default 256)"},
    {"http-max-pending", 0, 1, "N",
     "requests awaiting a response per connection\n"
     "(default 100, as Zeek; above it all are logged\nunanswered)"},
    {"http-timeout", 0, 1, "SECS",
     "a request unanswered for SECS of packet time is\n"
     "logged without its response (default 30; 0: only\n"
     "when its connection ends, as Zeek)"},
};

static int http_cfg_set(void *cfgv, const char *opt, const char *arg, char *why, size_t whylen)
{
	struct http_config *cfg = cfgv;
	uint64_t v;

	if (strcmp(opt, "http-ports") == 0) {
		int n = opt_parse_ports(arg, cfg->ports, HTTP_MAX_PORTS);
		if (n < 0) {
			snprintf(why, whylen, "expected ports 1-65535, comma separated, at most %d",
				 HTTP_MAX_PORTS);
			return -EINVAL;
		}
		cfg->nports = (unsigned)n;
		return 0;
	}
	if (strcmp(opt, "http-timeout") == 0) {
		char *end;
		double secs = strtod(arg, &end);
		if (end == arg || *end || !(secs >= 0 && secs <= 86400)) {
			snprintf(why, whylen, "expected seconds from 0 to 86400");
			return -EINVAL;
		}
		cfg->timeout_ns = (uint64_t)(secs * 1e9);
		return 0;
	}
	if (opt_parse_size(arg, &v) || v == 0 || v > (1u << 30)) {
		snprintf(why, whylen, "expected a number from 1 to 1G");
		return -EINVAL;
	}
	if (strcmp(opt, "http-max-line") == 0) {
		if (v < 64) {
			snprintf(why, whylen, "at least 64 bytes");
			return -EINVAL;
		}
		cfg->max_line = (uint32_t)v;
	} else if (strcmp(opt, "http-max-headers") == 0) {
		cfg->max_headers = (uint32_t)v;
	} else if (strcmp(opt, "http-max-pending") == 0) {
		cfg->max_pending = (uint32_t)v;
	} else {
		snprintf(why, whylen, "unknown option");
		return -EINVAL;
	}
	return 0;
}

static void *http_create(const void *cfg, const struct l7_env *env)
{
	struct http_state *hs = calloc(1, sizeof(*hs));

	if (!hs) {
		pr_err("http_create: calloc: %s", strerror(errno));
		return NULL;
	}
	hs->cfg = *(const struct http_config *)cfg;
	hs->emit = *env->emit;
	hs->senders = env->senders;
	return hs;
}

static void http_destroy(void *st)
{
	free(st);
}

static enum l7_verdict http_match(void *st, const struct pano_pkt *pkt)
{
	const struct http_state *hs = st;

	if (pkt->l4proto != IPPROTO_TCP)
		return L7_NO;
	for (unsigned i = 0; i < hs->cfg.nports; i++)
		if (pkt->sport == hs->cfg.ports[i] || pkt->dport == hs->cfg.ports[i])
			return L7_YES;
	return L7_MAYBE;
}

/* The methods taken on their own; any other token needs " HTTP/1." later on the line. */
static const char *const http_methods[] = {
    "GET",   "POST",   "HEAD",	   "PUT",	"DELETE", "OPTIONS", "CONNECT",
    "TRACE", "PATCH",  "PROPFIND", "PROPPATCH", "MKCOL",  "COPY",    "MOVE",
    "LOCK",  "UNLOCK", "SEARCH",   "REPORT",	"QUERY",
};

/* A client's first bytes: "METHOD SP" with a known method, or "TOKEN SP target SP HTTP/1."
 * with any token of letters, within the first line of what arrived. */
static enum l7_verdict http_detect(void *st, int from_client, const uint8_t *data, size_t len)
{
	size_t m = 0;

	(void)st;
	if (!from_client)
		return L7_NO;
	while (m < len && m < 24 &&
	       ((data[m] >= 'A' && data[m] <= 'Z') || (data[m] >= 'a' && data[m] <= 'z')))
		m++;
	if (!m || m >= len || data[m] != ' ')
		return L7_NO;
	for (size_t i = 0; i < sizeof(http_methods) / sizeof(http_methods[0]); i++)
		if (strlen(http_methods[i]) == m && memcmp(http_methods[i], data, m) == 0)
			goto yes;
	for (size_t i = m + 1; i + 8 <= len && data[i] != '\n'; i++)
		if (data[i] == ' ' && memcmp(data + i + 1, "HTTP/1.", 7) == 0)
			goto yes;
	return L7_NO;
yes:
	counter_inc(&c_http_detected);
	return L7_YES;
}

/* The connection's state, made at its first bytes. */
static struct http_conn *http_conn_get(struct http_state *hs, struct l7_tcp_ctx *c)
{
	struct http_conn *hc = c->state;

	if (hc)
		return hc;
	hc = calloc(1, sizeof(*hc));
	if (!hc) {
		counter_inc(&c_http_nomem);
		return NULL;
	}
	hc->hs = hs;
	hc->c = c;
	hc->bytes = sizeof(*hc);
	uid_make(hc->uid, l7_tcp_uid_seed(c));
	pano_addr_str(&c->client, hc->orig_s, sizeof(hc->orig_s));
	pano_addr_str(&c->server, hc->resp_s, sizeof(hc->resp_s));
	c->state = hc;
	hs->conns++;
	return hc;
}

static void http_on_tcp_data(void *st, struct l7_tcp_ctx *c, int from_client, const uint8_t *data,
			     size_t len, const struct pano_pkt *pkt)
{
	struct http_state *hs = st;
	struct http_conn *hc = http_conn_get(hs, c);

	if (!hc)
		return;
	hc->c = c;
	hc->now = pkt->ts_ns;
	sender_note(hs->senders, hc->who, from_client, pkt);
	http_parse(hc, from_client ? 1 : 0, data, len, pkt->ts_ns);
	c->buf_bytes = hc->bytes;
}

static void http_on_tcp_gap(void *st, struct l7_tcp_ctx *c, int from_client, uint64_t len)
{
	struct http_conn *hc = c->state;

	(void)st;
	if (!hc)
		return;
	http_parse_gap(hc, from_client ? 1 : 0, len);
	c->buf_bytes = hc->bytes;
}

static void http_on_tcp_close(void *st, struct l7_tcp_ctx *c)
{
	struct http_state *hs = st;
	struct http_conn *hc = c->state;

	if (!hc)
		return;
	hc->c = c;
	for (int i = 0; i < 2; i++)
		if (hc->dir[i].line_len)
			counter_inc(&c_http_partial_close);
	http_txn_close(hc);
	http_txn_free_all(hc);
	http_dir_free(hc, &hc->dir[0]);
	http_dir_free(hc, &hc->dir[1]);
	free(hc);
	c->state = NULL;
	c->buf_bytes = 0;
	hs->conns--;
}

/* Unanswered requests past the timeout are written. The bytes they held are freed now; the
 * connection's l7_tcp_ctx.buf_bytes catches up at its next callback (tcp.c reads it around each
 * call, so it must not change in between). */
static void http_tick(void *st, uint64_t now_ns)
{
	http_txn_tick(st, now_ns);
}

static void http_gauges(void *st, l7_gauge_fn out, void *arg)
{
	const struct http_state *hs = st;

	out(arg, "http_connections", "HTTP connections open", hs->conns);
	out(arg, "http_pending", "HTTP transactions awaiting their response", hs->pending);
}

const struct l7_proto http_proto = {
    .name = "http",
    .cfg_size = sizeof(struct http_config),
    .cfg_default = http_cfg_default,
    .opts = http_opts,
    .nopts = sizeof(http_opts) / sizeof(http_opts[0]),
    .cfg_set = http_cfg_set,
    .create = http_create,
    .destroy = http_destroy,
    .match = http_match,
    .detect = http_detect,
    .on_tcp_data = http_on_tcp_data,
    .on_tcp_gap = http_on_tcp_gap,
    .on_tcp_close = http_on_tcp_close,
    .tick = http_tick,
    .gauges = http_gauges,
};
