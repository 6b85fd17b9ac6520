// SPDX-License-Identifier: Apache-2.0
/*
 * tls.c - the TLS row of the protocol table (l7.h): options, the per-engine state, and
 * connections. TLS is found by its first bytes on any TCP port: the client's first payload must
 * be a handshake record (0x16 0x03 0x00-0x04, a plausible length) starting a ClientHello. UDP
 * never reaches this module (no on_udp: DNS traffic costs it nothing). A connection's state is
 * made at its first data and freed at its close; once its record is logged, what follows is
 * ignored and its buffers are freed, so bulk TLS costs a pointer test per segment.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "counter.h"
#include "log.h"
#include "opt.h"
#include "tls_proto.h"

PANO_COUNTER(c_tls_conns, "tls_connections", "event", "TCP connections bound to TLS");
PANO_COUNTER(c_tls_gap, "tls_gap", "drop",
	     "TLS directions given up after a TCP gap before their record was logged");
PANO_COUNTER(c_tls_no_hello, "tls_no_hello", "weird",
	     "TLS connections that ended without a hello parsed (nothing logged)");
PANO_COUNTER(c_tls_hello_incomplete, "tls_hello_incomplete", "drop",
	     "TLS connections that ended in the middle of their ClientHello");
PANO_COUNTER(c_tls_partial_close, "tls_partial_at_close", "event",
	     "TLS connections that ended with a partial record or handshake message buffered");
PANO_COUNTER(c_tls_nomem_conn, "tls_conn_nomem", "drop", "TLS connections not tracked: no memory");


/* Resolvers of DNS over HTTPS: a connection with one of these SNIs is "doh". */
static const char tls_doh_default[] =
    "dns.google,dns.google.com,cloudflare-dns.com,one.one.one.one,1dot1dot1dot1.cloudflare-dns.com,"
    "mozilla.cloudflare-dns.com,security.cloudflare-dns.com,family.cloudflare-dns.com,"
    "dns.quad9.net,dns9.quad9.net,dns10.quad9.net,dns11.quad9.net,doh.opendns.com,"
    "doh.familyshield.opendns.com,dns.adguard.com,dns.adguard-dns.com,doh.cleanbrowsing.org,"
    "dns.nextdns.io,doh.dns.sb,dns.alidns.com,doh.pub,dns.twnic.tw,doh.mullvad.net,dns.sb";

static const struct l7_opt tls_opts[] = {
    {"tls-dot-ports", 0, required_argument, "LIST",
     "server ports whose TLS is DNS over TLS: the dot\nflag (default 853)"},
    {"tls-doh-names", 0, required_argument, "FILE|LIST",
     "DoH resolver names (SNI) for the doh flag: a file\n(a name a line) or a comma-separated list\n"
     "(default: well-known public resolvers)"},
    {"tls-max-certs", 0, required_argument, "N",
     "certificate fingerprints logged per chain, 1-64\n(default 10; the rest counted)"},
};

/* Adds a name to the DoH list, lower-cased; -1 when the list is full. */
static int tls_doh_add(struct tls_config *cfg, const char *s, size_t n)
{
	while (n && (s[0] == ' ' || s[0] == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '.'))
		n--;
	if (!n || s[0] == '#')
		return 0;
	if (cfg->doh_len + n + 1 > sizeof(cfg->doh))
		return -1;
	for (size_t i = 0; i < n; i++)
		cfg->doh[cfg->doh_len + i] = (char)tolower((unsigned char)s[i]);
	cfg->doh[cfg->doh_len + n] = '\0';
	cfg->doh_len += n + 1;
	cfg->ndoh++;
	return 0;
}

/* A comma-separated list into the DoH list (which is emptied first). */
static int tls_doh_list(struct tls_config *cfg, const char *list)
{
	cfg->doh_len = cfg->ndoh = 0;
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ",\n");
		if (tls_doh_add(cfg, p, n))
			return -1;
		p += n;
		if (*p)
			p++;
	}
	return 0;
}

void tls_config_default(struct tls_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->dot_ports[0] = 853;
	cfg->ndot = 1;
	cfg->max_certs = 10;
	tls_doh_list(cfg, tls_doh_default);
}

static void tls_cfg_default(void *cfg)
{
	tls_config_default(cfg);
}

static int tls_cfg_set(void *cfgv, const char *opt, const char *arg, char *why, size_t whylen)
{
	struct tls_config *cfg = cfgv;

	if (strcmp(opt, "tls-dot-ports") == 0) {
		int n = opt_parse_ports(arg, cfg->dot_ports, TLS_MAX_DOT_PORTS);
		if (n < 0) {
			snprintf(why, whylen, "expected up to %d ports 1-65535, comma separated",
				 TLS_MAX_DOT_PORTS);
			return -EINVAL;
		}
		cfg->ndot = n;
		return 0;
	}
	if (strcmp(opt, "tls-doh-names") == 0) {
		if (access(arg, R_OK) == 0) {
			FILE *f = fopen(arg, "r");
			char line[512];
			if (!f) {
				snprintf(why, whylen, "fopen %s: %s", arg, strerror(errno));
				return -EINVAL;
			}
			cfg->doh_len = cfg->ndoh = 0;
			while (fgets(line, sizeof(line), f))
				if (tls_doh_add(cfg, line, strcspn(line, "\n"))) {
					fclose(f);
					snprintf(why, whylen, "more names than fit in %d bytes",
						 TLS_DOH_BYTES);
					return -EINVAL;
				}
			fclose(f);
			return 0;
		}
		if (tls_doh_list(cfg, arg)) {
			snprintf(why, whylen, "more names than fit in %d bytes", TLS_DOH_BYTES);
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(opt, "tls-max-certs") == 0) {
		char *end;
		unsigned long v = strtoul(arg, &end, 10);
		if (*end || end == arg || v < 1 || v > TLS_MAX_CERTS_CAP) {
			snprintf(why, whylen, "expected a number 1-%d", TLS_MAX_CERTS_CAP);
			return -EINVAL;
		}
		cfg->max_certs = (unsigned)v;
		return 0;
	}
	snprintf(why, whylen, "unknown option");
	return -EINVAL;
}

static void *tls_create(const void *cfg, const struct l7_env *env)
{
	struct tls_state *st = calloc(1, sizeof(*st));

	if (!st) {
		pr_err("tls_create: calloc: %s", strerror(errno));
		return NULL;
	}
	st->cfg = *(const struct tls_config *)cfg;
	st->env = *env;
	return st;
}

static void tls_destroy(void *st)
{
	free(st);
}

static enum l7_verdict tls_match(void *st, const struct pano_pkt *pkt)
{
	return pkt->l4proto == IPPROTO_TCP ? L7_MAYBE : L7_NO;
}

/* The client's first bytes: a handshake record of SSL 3.0 - TLS 1.3 framing, of a plausible
 * length, whose first message (when its type byte is there) is a ClientHello. */
static enum l7_verdict tls_detect(void *st, int from_client, const uint8_t *d, size_t len)
{
	if (!from_client || len < 5 || d[0] != 0x16 || d[1] != 3 || d[2] > 4)
		return L7_NO;
	size_t rl = (size_t)d[3] << 8 | d[4];
	if (!rl || rl > TLS_REC_MAX || (len > 5 && d[5] != 1))
		return L7_NO;
	return L7_YES;
}

static struct tls_conn *tls_conn_new(struct tls_state *st, struct l7_tcp_ctx *c,
				     const struct pano_pkt *pkt)
{
	struct tls_conn *t = calloc(1, sizeof(*t));

	if (!t) {
		counter_inc(&c_tls_nomem_conn);
		return NULL;
	}
	t->ts_ns = pkt->ts_ns;
	uid_make(t->uid, l7_tcp_uid_seed(c));
	pano_addr_str(&c->client, t->orig_s, sizeof(t->orig_s));
	pano_addr_str(&c->server, t->resp_s, sizeof(t->resp_s));
	t->orig_p = c->client_port;
	t->resp_p = c->server_port;
	t->node = c->src ? c->src->node : NULL;
	t->sni_match = -1;
	c->state = t;
	c->buf_bytes += sizeof(*t);
	st->open++;
	counter_inc(&c_tls_conns);
	return t;
}

static void tls_on_tcp_data(void *stv, struct l7_tcp_ctx *c, int fc, const uint8_t *data,
			    size_t len, const struct pano_pkt *pkt)
{
	struct tls_state *st = stv;
	struct tls_conn *t = c->state;

	if (!t && !(t = tls_conn_new(st, c, pkt)))
		return;
	if (t->done)
		return;
	sender_note(st->env.senders, t->who, fc, pkt);
	tls_record_feed(st, c, t, fc, data, len, pkt);
}

static void tls_on_tcp_gap(void *st, struct l7_tcp_ctx *c, int fc, uint64_t len)
{
	struct tls_conn *t = c->state;

	if (!t || t->done || t->dir[fc ? 1 : 0].lost)
		return;
	counter_inc(&c_tls_gap);
	t->dir[fc ? 1 : 0].lost = true;
}

static void tls_on_tcp_close(void *stv, struct l7_tcp_ctx *c)
{
	struct tls_state *st = stv;
	struct tls_conn *t = c->state;

	if (!t)
		return;
	if (!t->done) {
		const struct tls_dir *cd = &t->dir[1];
		if (t->dir[0].hs_len || t->dir[0].hs_skip || t->dir[0].nhdr || cd->hs_len ||
		    cd->hs_skip || cd->nhdr)
			counter_inc(&c_tls_partial_close);
		if (!t->chello && (cd->hs_len || cd->hs_skip || cd->left))
			counter_inc(&c_tls_hello_incomplete);
		if (t->chello || t->shello)
			tls_txn_emit(st, c, t);
		else
			counter_inc(&c_tls_no_hello);
	}
	tls_conn_release(c, t);
	c->buf_bytes -= sizeof(*t);
	free(t);
	c->state = NULL;
	st->open--;
}

static void tls_gauges(void *stv, l7_gauge_fn out, void *arg)
{
	struct tls_state *st = stv;

	out(arg, "tls_open_connections", "TLS connections with state", st->open);
}

const struct l7_proto tls_proto = {
    .name = "tls",
    .cfg_size = sizeof(struct tls_config),
    .cfg_default = tls_cfg_default,
    .opts = tls_opts,
    .nopts = sizeof(tls_opts) / sizeof(tls_opts[0]),
    .cfg_set = tls_cfg_set,
    .create = tls_create,
    .destroy = tls_destroy,
    .match = tls_match,
    .detect = tls_detect,
    .on_tcp_data = tls_on_tcp_data,
    .on_tcp_gap = tls_on_tcp_gap,
    .on_tcp_close = tls_on_tcp_close,
    .gauges = tls_gauges,
};
