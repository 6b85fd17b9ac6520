// SPDX-License-Identifier: Apache-2.0
/*
 * l7_records.c - known TLS and HTTP records for the tests of what consumes them (summaries,
 * pano-top, flowlogs-pipeline, the dashboard), until the TLS and HTTP parsers produce them
 * from traffic. The records are struct ssl_rec / struct http_rec filled from the table below
 * and written by the records' own writers (ssl_rec_type.json, http_rec_type.json), so a line
 * is exactly what pano-analyzer writes to a sink: {"_path":"ssl","ts":...}.
 *
 *   l7_records emit [OPTIONS]        the records as JSON lines on stdout
 *   l7_records serve ADDR [OPTIONS]  the records through the out stage (rec_out_emit: the
 *                                    summaries see them as the analyzer's would), then serves
 *                                    /metrics and /api/v1/metrics/... on ADDR (as
 *                                    pano-analyzer --metrics) until SIGINT or SIGTERM
 * Options:
 *   --phase 1|2    1: one record of each kind; 2 (default): each kind its count in the table
 *   --path P       only ssl or only http records
 *   --node NAME    the records' node field (default none)
 *   --ts SECONDS   the first record's ts (default now); records are 1 ms apart
 * Exit: 0, 1 on a failure (a line on stderr), 2 on bad usage.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http_rec.h"
#include "httpd.h"
#include "records.h"
#include "ssl_rec.h"
#include "summary.h"

#define JA4_A "t13d1516h2_8daaf6152771_02713d6af862"
#define JA4_B "t12d1209h1_c866b44c5a26_b5e27b2b1a7f"
#define JA4_C "t13d1715h2_5b57614c22b0_3d5424432f57"

struct l7_tls {
	const char *client, *ns, *pod, *server;
	unsigned port;
	const char *sni, *version, *ja4, *alpn;
	bool established, resumed, dot, doh;
	unsigned n; /* records in phase 2 */
};

static const struct l7_tls l7_tls[] = {
    {"198.18.0.11", "default", "web-1", "198.18.1.1", 443, "api.pano.test", "TLSv13", JA4_A, "h2",
     true, false, false, false, 12},
    {"198.18.0.11", "default", "web-1", "198.18.1.2", 443, "cdn.pano.test", "TLSv13", JA4_A, "h2",
     true, false, false, false, 6},
    {"198.18.0.12", NULL, NULL, "198.18.1.1", 443, "api.pano.test", "TLSv12", JA4_B, "http/1.1",
     true, false, false, false, 4},
    {"198.18.0.12", NULL, NULL, "198.18.1.3", 443, "old.pano.test", "TLSv12", JA4_B, NULL, false,
     false, false, false, 3},
    {"198.18.0.13", "default", "curl-2", "198.18.1.9", 853, "dns.pano.test", "TLSv13", JA4_C, NULL,
     true, false, true, false, 2},
    {"198.18.0.13", "default", "curl-2", "198.18.1.8", 443, "doh.pano.test", "TLSv13", JA4_C, "h2",
     true, false, false, true, 3},
    {"198.18.0.14", NULL, NULL, "198.18.1.8", 443, "doh.pano.test", "TLSv13", JA4_A, "h2", true,
     true, false, true, 1},
};

struct l7_http {
	const char *client, *ns, *pod, *server;
	unsigned port;
	const char *method, *host, *uri;
	unsigned status;   /* 0: no response */
	double latency_ms; /* the first record's; the others vary around it */
	unsigned req_body, resp_body;
	unsigned n;
};

static const struct l7_http l7_http[] = {
    {"198.18.0.21", "default", "shop-1", "198.18.2.1", 80, "GET", "www.pano.test", "/index.html",
     200, 3, 0, 5120, 20},
    {"198.18.0.21", "default", "shop-1", "198.18.2.1", 80, "GET", "www.pano.test", "/img/logo.png",
     200, 1, 0, 20480, 10},
    {"198.18.0.22", NULL, NULL, "198.18.2.2", 8080, "POST", "api.pano.test:8080",
     "/v1/orders?id=%u", 201, 40, 300, 80, 6},
    {"198.18.0.22", NULL, NULL, "198.18.2.2", 8080, "GET", "api.pano.test:8080", "/v1/missing", 404,
     2, 0, 120, 4},
    {"198.18.0.21", "default", "shop-1", "198.18.2.2", 8080, "GET", "api.pano.test:8080",
     "/v1/slow", 503, 900, 0, 60, 3},
    {"198.18.0.23", NULL, NULL, "198.18.2.3", 80, "GET", "old.pano.test", "/old", 301, 0.8, 0, 0,
     2},
    {"198.18.0.23", NULL, NULL, "198.18.2.4", 80, "GET", "hang.pano.test", "/hang", 0, 0, 0, 0, 1},
};

struct l7_run {
	int phase;
	const char *path, *node;
	uint64_t ts_ns;
	unsigned seq;
	struct rec_out *out; /* serve: the out stage; emit: NULL */
	struct wbuf line;
};

static volatile sig_atomic_t l7_stop;

static void l7_on_signal(int sig)
{
	(void)sig;
	l7_stop = 1;
}

static void l7_usage(FILE *f)
{
	fprintf(f, "Usage: l7_records emit [--phase 1|2] [--path ssl|http] [--node NAME] "
		   "[--ts SECONDS]\n"
		   "       l7_records serve ADDR [same options]\n");
}

/* Hands one record on: to the out stage (serve), or as a JSON line to stdout (emit). */
static void l7_put(struct l7_run *run, const struct rec_type *t, const void *rec)
{
	if (run->out) {
		rec_emit(&run->out->emit, t, rec);
		return;
	}
	t->json(rec, 0, &run->line);
	fwrite(run->line.p, 1, run->line.len, stdout);
	fputc('\n', stdout);
}

/* The fields both record types share: ts, uid, the connection, node, the client's pod. */
#define L7_COMMON(r, run, spec, uidbuf)                                                            \
	do {                                                                                       \
		snprintf(uidbuf, sizeof(uidbuf), "CPano%010u", (run)->seq);                        \
		REC_SET(r, ts, (run)->ts_ns + (uint64_t)(run)->seq * 1000000ull);                  \
		REC_SET(r, uid, rec_cstr(uidbuf));                                                 \
		REC_SET(r, id_orig_h, rec_cstr((spec)->client));                                   \
		REC_SET(r, id_orig_p, 40000 + (run)->seq % 20000);                                 \
		REC_SET(r, id_resp_h, rec_cstr((spec)->server));                                   \
		REC_SET(r, id_resp_p, (spec)->port);                                               \
		if ((run)->node)                                                                   \
			REC_SET(r, node, rec_cstr((run)->node));                                   \
		if ((spec)->pod) {                                                                 \
			REC_SET(r, orig_k8s_namespace, rec_cstr((spec)->ns));                      \
			REC_SET(r, orig_k8s_pod, rec_cstr((spec)->pod));                           \
		}                                                                                  \
		(run)->seq++;                                                                      \
	} while (0)

static void l7_tls_rec(struct l7_run *run, const struct l7_tls *s)
{
	struct ssl_rec r = {0};
	char uid[32];

	L7_COMMON(&r, run, s, uid);
	REC_SET(&r, version, rec_cstr(s->version));
	REC_SET(&r, server_name, rec_cstr(s->sni));
	REC_SET(&r, resumed, s->resumed);
	REC_SET(&r, established, s->established);
	if (s->alpn)
		REC_SET(&r, next_protocol, rec_cstr(s->alpn));
	REC_SET(&r, ja4, rec_cstr(s->ja4));
	REC_SET(&r, dot, s->dot);
	REC_SET(&r, doh, s->doh);
	l7_put(run, &ssl_rec_type, &r);
}

static void l7_http_rec(struct l7_run *run, const struct l7_http *s, unsigned i)
{
	struct http_rec r = {0};
	char uid[32], uri[128];

	L7_COMMON(&r, run, s, uid);
	snprintf(uri, sizeof(uri), s->uri, i);
	REC_SET(&r, trans_depth, 1 + i % 3);
	REC_SET(&r, method, rec_cstr(s->method));
	REC_SET(&r, host, rec_cstr(s->host));
	REC_SET(&r, uri, rec_cstr(uri));
	REC_SET(&r, version, REC_LIT("1.1"));
	REC_SET(&r, user_agent, REC_LIT("curl/8.5.0"));
	REC_SET(&r, request_body_len, s->req_body);
	REC_SET(&r, response_body_len, s->status ? s->resp_body : 0);
	if (s->status) {
		REC_SET(&r, status_code, s->status);
		REC_SET(&r, status_msg, REC_LIT("-"));
		/* 1.0, 1.1, ... 1.4 times the base latency, so that quantiles differ */
		REC_SET(&r, latency, (uint64_t)(s->latency_ms * (1.0 + (i % 5) * 0.1) * 1e6));
	}
	l7_put(run, &http_rec_type, &r);
}

static void l7_all(struct l7_run *run)
{
	bool ssl = !run->path || !strcmp(run->path, "ssl");
	bool http = !run->path || !strcmp(run->path, "http");

	for (size_t k = 0; ssl && k < sizeof(l7_tls) / sizeof(l7_tls[0]); k++)
		for (unsigned i = 0; i < (run->phase == 1 ? 1 : l7_tls[k].n); i++)
			l7_tls_rec(run, &l7_tls[k]);
	for (size_t k = 0; http && k < sizeof(l7_http) / sizeof(l7_http[0]); k++)
		for (unsigned i = 0; i < (run->phase == 1 ? 1 : l7_http[k].n); i++)
			l7_http_rec(run, &l7_http[k], i);
}

/* /metrics: the summaries (ctx) alone. */
static int l7_metrics(void *ctx, const char *query, struct wbuf *out)
{
	return summary_metrics(ctx, out);
}

static int l7_serve(struct l7_run *run, const char *addr)
{
	struct summary_config cfg;
	struct summary *sum;
	struct rec_out out;
	struct httpd *h;

	summary_config_default(&cfg);
	cfg.shared = true;
	if (!(sum = summary_new(&cfg)))
		return 1;
	rec_out_init(&out, REC_FORMAT_JSON, 0, NULL);
	out.sum = sum;
	run->out = &out;
	l7_all(run);
	h = httpd_start(addr, l7_metrics, sum);
	if (!h || summary_routes(sum, h)) {
		fprintf(stderr, "l7_records: cannot serve on %s\n", addr);
		return 1;
	}
	fprintf(stderr, "l7_records: %u records, serving on %s\n", run->seq, addr);
	while (!l7_stop)
		pause();
	httpd_stop(h);
	rec_out_free(&out);
	summary_free(sum);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"phase", required_argument, NULL, 'p'}, {"path", required_argument, NULL, 'P'},
	    {"node", required_argument, NULL, 'n'},  {"ts", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},	     {NULL, 0, NULL, 0},
	};
	struct l7_run run = {.phase = 2, .line = {.max = WBUF_DEFAULT_MAX}};
	struct sigaction sa = {.sa_handler = l7_on_signal};
	struct timespec now;
	const char *mode;
	int opt, rc;

	clock_gettime(CLOCK_REALTIME, &now);
	run.ts_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			run.phase = atoi(optarg);
			break;
		case 'P':
			run.path = optarg;
			break;
		case 'n':
			run.node = optarg;
			break;
		case 't':
			run.ts_ns = (uint64_t)(strtod(optarg, NULL) * 1e9);
			break;
		case 'h':
			l7_usage(stdout);
			return 0;
		default:
			l7_usage(stderr);
			return 2;
		}
	}
	if (optind >= argc || (run.phase != 1 && run.phase != 2) ||
	    (run.path && strcmp(run.path, "ssl") && strcmp(run.path, "http"))) {
		l7_usage(stderr);
		return 2;
	}
	mode = argv[optind];
	if (!strcmp(mode, "emit") && optind + 1 == argc) {
		l7_all(&run);
		rc = fflush(stdout) ? 1 : 0;
	} else if (!strcmp(mode, "serve") && optind + 2 == argc) {
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		rc = l7_serve(&run, argv[optind + 1]);
	} else {
		l7_usage(stderr);
		rc = 2;
	}
	wbuf_free(&run.line);
	return rc;
}
