// SPDX-License-Identifier: Apache-2.0
/*
 * summary_out.c - the summaries as JSON (--summary, /api/v1/metrics/window/N,
 * /api/v1/metrics/merged) and as Prometheus text. Prometheus conventions: counters are lifetime
 * totals (windows that rotated out plus the current one) named *_total; quantiles are
 * summaries over the merged sliding view with lifetime _sum and _count; top-N tables are
 * gauges with one label per item, at most top_show items each; cardinalities are gauges.
 */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dns_parse.h"
#include "prom.h"
#include "summary.h"
#include "summary_int.h"

/* How a top-N key reads: a string, an address (family byte, bytes), a DNS qtype or rcode, a
 * number, or a client (address text, NUL, "namespace/pod" or nothing: two labels). */
enum { SUM_K_STR, SUM_K_ADDR, SUM_K_QTYPE, SUM_K_RCODE, SUM_K_NUM, SUM_K_CLIENT };
/* Which JSON object a table goes in. */
enum { SUM_S_DNS, SUM_S_ENCDNS, SUM_S_TLS, SUM_S_HTTP };

static const struct {
	const char *json, *prom, *label, *help;
	int kind, sec;
} sum_tops[SUM_T_N] = {
    [SUM_T_QNAME] = {"top_qname", "pano_dns_top_qname", "qname",
		     "queried names", SUM_K_STR, SUM_S_DNS},
    [SUM_T_QNAME2] = {"top_qname2", "pano_dns_top_qname2", "qname",
		      "last two labels of queried names", SUM_K_STR, SUM_S_DNS},
    [SUM_T_QNAME3] = {"top_qname3", "pano_dns_top_qname3", "qname",
		      "last three labels of queried names", SUM_K_STR, SUM_S_DNS},
    [SUM_T_NX] = {"top_nxdomain", "pano_dns_top_nxdomain", "qname", "names answered NXDOMAIN",
		  SUM_K_STR, SUM_S_DNS},
    [SUM_T_SRVFAIL] = {"top_srvfail", "pano_dns_top_srvfail", "qname", "names answered SERVFAIL",
		       SUM_K_STR, SUM_S_DNS},
    [SUM_T_REFUSED] = {"top_refused", "pano_dns_top_refused", "qname", "names answered REFUSED",
		       SUM_K_STR, SUM_S_DNS},
    [SUM_T_SLOW] = {"top_slow", "pano_dns_top_slow", "qname",
		    "names answered slower than the previous window's p90", SUM_K_STR, SUM_S_DNS},
    [SUM_T_QTYPE] = {"top_qtype", "pano_dns_top_qtype", "qtype",
		     "query types", SUM_K_QTYPE, SUM_S_DNS},
    [SUM_T_RCODE] = {"top_rcode", "pano_dns_top_rcode", "rcode",
		     "reply codes", SUM_K_RCODE, SUM_S_DNS},
    [SUM_T_CLIENT] = {"top_client", "pano_dns_top_client", "client", "client addresses",
		      SUM_K_ADDR, SUM_S_DNS},
    [SUM_T_SERVER] = {"top_server", "pano_dns_top_server", "server", "server addresses",
		      SUM_K_ADDR, SUM_S_DNS},
    [SUM_T_PORT] = {"top_port", "pano_dns_top_port", "port", "DNS server ports other than 53",
		    SUM_K_NUM, SUM_S_DNS},
    [SUM_T_POD] = {"top_client_pod", "pano_dns_top_client_pod", "pod",
		   "client pods (namespace/pod) by transactions", SUM_K_STR, SUM_S_DNS},
    [SUM_T_POD_NX] = {"top_client_pod_nxdomain", "pano_dns_top_client_pod_nxdomain", "pod",
		      "client pods (namespace/pod) by NXDOMAIN answers", SUM_K_STR, SUM_S_DNS},
    [SUM_T_POD_SRVFAIL] = {"top_client_pod_srvfail", "pano_dns_top_client_pod_srvfail", "pod",
			   "client pods (namespace/pod) by SERVFAIL answers", SUM_K_STR, SUM_S_DNS},
    [SUM_T_DOT_CLIENT] = {"top_dot_client", "pano_dns_top_dot_client", "client",
			  "clients of DNS over TLS by connections (pod when known)", SUM_K_CLIENT,
			  SUM_S_ENCDNS},
    [SUM_T_DOH_CLIENT] = {"top_doh_client", "pano_dns_top_doh_client", "client",
			  "clients of DNS over HTTPS by connections (pod when known)", SUM_K_CLIENT,
			  SUM_S_ENCDNS},
    [SUM_T_TLS_SNI] = {"top_sni", "pano_tls_top_sni", "sni",
		       "TLS server names (SNI) by connections", SUM_K_STR, SUM_S_TLS},
    [SUM_T_TLS_SNI_FAIL] = {"top_sni_not_established", "pano_tls_top_sni_not_established", "sni",
			    "TLS server names by connections whose handshake did not complete",
			    SUM_K_STR, SUM_S_TLS},
    [SUM_T_TLS_VERSION] = {"top_version", "pano_tls_top_version", "version",
			   "TLS versions by connections", SUM_K_STR, SUM_S_TLS},
    [SUM_T_TLS_JA4] = {"top_ja4", "pano_tls_top_ja4", "ja4",
		       "JA4 client fingerprints by connections", SUM_K_STR, SUM_S_TLS},
    [SUM_T_TLS_ALPN] = {"top_alpn", "pano_tls_top_alpn", "alpn",
			"negotiated application protocols (ALPN) by connections", SUM_K_STR,
			SUM_S_TLS},
    [SUM_T_HTTP_HOST] = {"top_host", "pano_http_top_host", "host", "HTTP hosts by requests",
			 SUM_K_STR, SUM_S_HTTP},
    [SUM_T_HTTP_HOST_5XX] = {"top_host_5xx", "pano_http_top_host_5xx", "host",
			     "HTTP hosts by 5xx responses", SUM_K_STR, SUM_S_HTTP},
    [SUM_T_HTTP_STATUS] = {"top_status", "pano_http_top_status", "status",
			   "HTTP status codes by responses", SUM_K_NUM, SUM_S_HTTP},
    [SUM_T_HTTP_METHOD] = {"top_method", "pano_http_top_method", "method",
			   "HTTP methods by requests", SUM_K_STR, SUM_S_HTTP},
    [SUM_T_HTTP_PATH] = {"top_path", "pano_http_top_path", "path",
			 "HTTP request paths (URI without the query) by requests", SUM_K_STR,
			 SUM_S_HTTP},
};

static const struct {
	const char *json, *prom, *help, *unit_note;
	double scale; /* sketch value * scale = exported value */
} sum_quants[SUM_Q_N] = {
    [SUM_Q_TXN] = {"time_us", "pano_dns_transaction_seconds", "DNS transaction time", "", 1e-6},
    [SUM_Q_QSIZE] = {"query", "pano_dns_query_size_bytes", "DNS query size", "", 1},
    [SUM_Q_RSIZE] = {"reply", "pano_dns_reply_size_bytes", "DNS reply size", "", 1},
    [SUM_Q_RATIO] = {"ratio", "pano_dns_reply_query_size_ratio",
		     "reply size over query size (amplification)", "", 1},
    [SUM_Q_PPS] = {"rate", "pano_packets_per_second", "packets per second of packet time", "", 1},
    [SUM_Q_DPS] = {"rate", "pano_dns_messages_per_second", "DNS messages per second of packet time",
		   "", 1},
    [SUM_Q_HTTP_TIME] = {"time_us", "pano_http_latency_seconds",
			 "HTTP latency (request start to response start)", "", 1e-6},
    [SUM_Q_HTTP_RESP] = {"response_body", "pano_http_response_body_bytes",
			 "HTTP response body size", "", 1},
    [SUM_Q_HTTP_REQ] = {"request_body", "pano_http_request_body_bytes", "HTTP request body size",
			"", 1},
};

/* The cardinality gauges (HyperLogLog over the merged windows). */
static const struct {
	const char *prom, *help;
} sum_uniques[SUM_H_N] = {
    [SUM_H_QNAME] = {"pano_dns_unique_qnames",
		     "distinct query names in the last windows (HyperLogLog)"},
    [SUM_H_CLIENT] = {"pano_dns_unique_clients",
		      "distinct client addresses in the last windows (HyperLogLog)"},
    [SUM_H_SERVER] = {"pano_dns_unique_servers",
		      "distinct server addresses in the last windows (HyperLogLog)"},
    [SUM_H_SNI] = {"pano_tls_unique_snis",
		   "distinct TLS server names in the last windows (HyperLogLog)"},
    [SUM_H_JA4] = {"pano_tls_unique_ja4s",
		   "distinct JA4 fingerprints in the last windows (HyperLogLog)"},
    [SUM_H_HTTP_HOST] = {"pano_http_unique_hosts",
			 "distinct HTTP hosts in the last windows (HyperLogLog)"},
};

static const double sum_ps[] = {0.5, 0.9, 0.95, 0.99};
static const char *const sum_pnames[] = {"p50", "p90", "p95", "p99"};

/* Text of a top-N item. */
static const char *sum_item_name(int kind, const struct topn_item *it, char *buf, size_t sz)
{
	switch (kind) {
	case SUM_K_ADDR:
		if (it->len >= 5)
			inet_ntop(it->key[0] == 6 ? AF_INET6 : AF_INET, it->key + 1, buf, sz);
		else
			snprintf(buf, sz, "?");
		return buf;
	case SUM_K_QTYPE:
		return dns_qtype_name((unsigned)topn_item_u64(it), buf, sz, NULL);
	case SUM_K_RCODE:
		return dns_rcode_name((unsigned)topn_item_u64(it), buf, sz, NULL);
	case SUM_K_NUM:
		snprintf(buf, sz, "%llu", (unsigned long long)topn_item_u64(it));
		return buf;
	case SUM_K_CLIENT: /* the address, up to the NUL */
		snprintf(buf, sz, "%.*s", (int)strnlen((const char *)it->key, it->len),
			 (const char *)it->key);
		return buf;
	}
	snprintf(buf, sz, "%.*s", (int)it->len, (const char *)it->key);
	return buf;
}

/* The second label of a client key: "namespace/pod" after the NUL, "" if none. */
static const char *sum_item_pod(const struct topn_item *it, char *buf, size_t sz)
{
	size_t a = strnlen((const char *)it->key, it->len);

	snprintf(buf, sz, "%.*s", a < it->len ? (int)(it->len - a - 1) : 0,
		 (const char *)it->key + (a < it->len ? a + 1 : a));
	return buf;
}

static cJSON *sum_json_quant(const struct quant *q, double scale)
{
	cJSON *o = cJSON_CreateObject();

	for (unsigned i = 0; i < 4; i++)
		cJSON_AddNumberToObject(o, sum_pnames[i], quant_quantile(q, sum_ps[i]) * scale);
	cJSON_AddNumberToObject(o, "min", quant_min(q) * scale);
	cJSON_AddNumberToObject(o, "max", quant_max(q) * scale);
	cJSON_AddNumberToObject(o, "count", (double)quant_count(q));
	return o;
}

/* The top-N tables of section sec into object obj. */
static void sum_json_tops(cJSON *obj, const struct sum_window *w, int sec, unsigned show)
{
	struct topn_item items[64];
	char buf[300];

	if (show > 64)
		show = 64;
	for (int t = 0; t < SUM_T_N; t++) {
		if (sum_tops[t].sec != sec)
			continue;
		cJSON *arr = cJSON_AddArrayToObject(obj, sum_tops[t].json);
		unsigned n = topn_top(w->t[t], items, show);

		for (unsigned i = 0; i < n; i++) {
			cJSON *o = cJSON_CreateObject();

			cJSON_AddStringToObject(
			    o, "name",
			    sum_item_name(sum_tops[t].kind, &items[i], buf, sizeof(buf)));
			if (sum_tops[t].kind == SUM_K_CLIENT &&
			    *sum_item_pod(&items[i], buf, sizeof(buf)))
				cJSON_AddStringToObject(o, "pod", buf);
			cJSON_AddNumberToObject(o, "estimate", (double)items[i].count);
			cJSON_AddNumberToObject(o, "upper", (double)items[i].upper);
			cJSON_AddItemToArray(arr, o);
		}
	}
}

static double sum_hll_count(const struct hll *h)
{
	return (double)(uint64_t)(hll_estimate(h) + 0.5);
}

/* The "tls" and "http" objects of a window. */
static void sum_json_l7(cJSON *root, const struct sum_window *w, unsigned show)
{
	static const char *const cls[6] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
	const struct sum_counts *c = &w->c;
	cJSON *tls, *http, *o;

	tls = cJSON_AddObjectToObject(root, "tls");
	cJSON_AddNumberToObject(tls, "connections", (double)c->tls);
	cJSON_AddNumberToObject(tls, "established", (double)c->tls_established);
	cJSON_AddNumberToObject(tls, "not_established", (double)(c->tls - c->tls_established));
	cJSON_AddNumberToObject(tls, "resumed", (double)c->tls_resumed);
	cJSON_AddNumberToObject(tls, "sni", (double)c->tls_sni);
	o = cJSON_AddObjectToObject(tls, "cardinality");
	cJSON_AddNumberToObject(o, "sni", sum_hll_count(w->h[SUM_H_SNI]));
	cJSON_AddNumberToObject(o, "ja4", sum_hll_count(w->h[SUM_H_JA4]));
	sum_json_tops(tls, w, SUM_S_TLS, show);

	http = cJSON_AddObjectToObject(root, "http");
	cJSON_AddNumberToObject(http, "transactions", (double)c->http);
	cJSON_AddNumberToObject(http, "requests", (double)c->http_requests);
	cJSON_AddNumberToObject(http, "responses", (double)c->http_responses);
	cJSON_AddNumberToObject(http, "no_response", (double)c->http_no_response);
	o = cJSON_AddObjectToObject(http, "status");
	for (unsigned i = 1; i <= 6; i++) /* 1xx ... 5xx, then other */
		cJSON_AddNumberToObject(o, cls[i % 6], (double)c->http_class[i % 6]);
	cJSON_AddItemToObject(http, "time_us", sum_json_quant(w->q[SUM_Q_HTTP_TIME], 1));
	o = cJSON_AddObjectToObject(http, "size");
	cJSON_AddItemToObject(o, "request_body", sum_json_quant(w->q[SUM_Q_HTTP_REQ], 1));
	cJSON_AddItemToObject(o, "response_body", sum_json_quant(w->q[SUM_Q_HTTP_RESP], 1));
	o = cJSON_AddObjectToObject(http, "cardinality");
	cJSON_AddNumberToObject(o, "host", sum_hll_count(w->h[SUM_H_HTTP_HOST]));
	sum_json_tops(http, w, SUM_S_HTTP, show);
}

/* The JSON object of one window (top-N tables of show items). Caller holds the lock. */
static cJSON *sum_json_window(const struct sum_window *w, unsigned nwin, unsigned show)
{
	cJSON *root = cJSON_CreateObject(), *o, *p, *dns, *x, *s;
	const struct sum_counts *c = &w->c;
	char buf[64];

	o = cJSON_AddObjectToObject(root, "period");
	cJSON_AddNumberToObject(o, "start_ts", w->first_ns / 1e9);
	cJSON_AddNumberToObject(o, "end_ts", w->last_ns / 1e9);
	cJSON_AddNumberToObject(o, "length",
				(double)(w->last_ns / 1000000000ull - w->first_ns / 1000000000ull));
	cJSON_AddNumberToObject(o, "windows", nwin);

	p = cJSON_AddObjectToObject(root, "packets");
	cJSON_AddNumberToObject(p, "total", (double)c->packets);
	cJSON_AddNumberToObject(p, "ipv4", (double)c->ipv4);
	cJSON_AddNumberToObject(p, "ipv6", (double)c->ipv6);
	cJSON_AddNumberToObject(p, "udp", (double)c->udp);
	cJSON_AddNumberToObject(p, "tcp", (double)c->tcp);
	cJSON_AddNumberToObject(p, "in", (double)c->in);
	cJSON_AddNumberToObject(p, "out", (double)c->out);
	cJSON_AddItemToObject(p, "rate", sum_json_quant(w->q[SUM_Q_PPS], 1));

	dns = cJSON_AddObjectToObject(root, "dns");
	cJSON_AddNumberToObject(dns, "messages", (double)c->dns_messages);
	cJSON_AddNumberToObject(dns, "udp", (double)c->dns_udp);
	cJSON_AddNumberToObject(dns, "tcp", (double)c->dns_tcp);
	cJSON_AddNumberToObject(dns, "ipv4", (double)c->dns_ipv4);
	cJSON_AddNumberToObject(dns, "ipv6", (double)c->dns_ipv6);
	cJSON_AddNumberToObject(dns, "queries", (double)c->queries);
	cJSON_AddNumberToObject(dns, "replies", (double)c->replies);
	o = cJSON_AddObjectToObject(dns, "rcode");
	cJSON_AddNumberToObject(o, "noerror", (double)c->noerror);
	cJSON_AddNumberToObject(o, "nodata", (double)c->nodata);
	cJSON_AddNumberToObject(o, "nxdomain", (double)c->nxdomain);
	cJSON_AddNumberToObject(o, "srvfail", (double)c->srvfail);
	cJSON_AddNumberToObject(o, "refused", (double)c->refused);
	o = cJSON_AddObjectToObject(dns, "opcode");
	for (unsigned i = 0; i < 16; i++)
		if (c->opcode[i])
			cJSON_AddNumberToObject(o, dns_opcode_name(i, 0, buf, sizeof(buf), NULL),
						(double)c->opcode[i]);
	cJSON_AddNumberToObject(dns, "edns", (double)c->edns);
	cJSON_AddNumberToObject(dns, "edns_do", (double)c->edns_do);
	cJSON_AddNumberToObject(dns, "ecs", (double)c->ecs);
	cJSON_AddItemToObject(dns, "rate", sum_json_quant(w->q[SUM_Q_DPS], 1));

	x = cJSON_AddObjectToObject(dns, "xact");
	cJSON_AddNumberToObject(x, "total", (double)c->xact);
	cJSON_AddNumberToObject(x, "in", (double)c->xact_in);
	cJSON_AddNumberToObject(x, "out", (double)c->xact_out);
	cJSON_AddNumberToObject(x, "timed_out", (double)c->timed_out);
	cJSON_AddNumberToObject(x, "orphan", (double)c->orphans);
	cJSON_AddItemToObject(x, "time_us", sum_json_quant(w->q[SUM_Q_TXN], 1));

	s = cJSON_AddObjectToObject(dns, "size");
	cJSON_AddItemToObject(s, "query", sum_json_quant(w->q[SUM_Q_QSIZE], 1));
	cJSON_AddItemToObject(s, "reply", sum_json_quant(w->q[SUM_Q_RSIZE], 1));
	cJSON_AddItemToObject(s, "ratio", sum_json_quant(w->q[SUM_Q_RATIO], 1));

	o = cJSON_AddObjectToObject(dns, "cardinality");
	cJSON_AddNumberToObject(o, "qname", sum_hll_count(w->h[SUM_H_QNAME]));
	cJSON_AddNumberToObject(o, "client", sum_hll_count(w->h[SUM_H_CLIENT]));
	cJSON_AddNumberToObject(o, "server", sum_hll_count(w->h[SUM_H_SERVER]));
	sum_json_tops(dns, w, SUM_S_DNS, show);
	o = cJSON_AddObjectToObject(dns, "encrypted");
	cJSON_AddNumberToObject(o, "dot", (double)c->dot);
	cJSON_AddNumberToObject(o, "doh", (double)c->doh);
	sum_json_tops(o, w, SUM_S_ENCDNS, show);
	sum_json_l7(root, w, show);
	return root;
}

int summary_json(struct summary *s, int n, struct wbuf *out, bool pretty)
{
	struct sum_window *w;
	cJSON *root = NULL;
	unsigned nwin = 0;
	char *text;

	if (!s)
		return 404;
	sum_lock_take(s);
	if (n < 0) {
		for (unsigned i = 0; i < s->cfg.periods; i++)
			nwin += sum_window_nth(s, i) != NULL;
		w = sum_merge_all(s);
	} else {
		w = sum_window_nth(s, (unsigned)n);
		nwin = 1;
	}
	if (w)
		root = sum_json_window(w, nwin, s->cfg.top_show);
	sum_lock_give(s);
	if (!root)
		return 404;
	text = pretty ? cJSON_Print(root) : cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (!text)
		return 500;
	wbuf_put(out, text, strlen(text));
	wbuf_put(out, "\n", 1);
	cJSON_free(text);
	return 200;
}

static void sum_prom_counter(struct wbuf *b, const char *name, const char *help, uint64_t v)
{
	prom_one(b, name, PROM_COUNTER, help, NULL, v);
}

/* A counter family with one sample per label value. */
static void sum_prom_labelled(struct wbuf *b, const char *name, const char *help, const char *label,
			      const char *const *vals, const uint64_t *v, unsigned n)
{
	char lb[128];

	prom_family(b, name, PROM_COUNTER, help);
	for (unsigned i = 0; i < n; i++)
		prom_sample(b, name, PROM_COUNTER,
			    prom_labels(lb, sizeof(lb), label, vals[i], NULL), v[i]);
}

static void sum_prom_summary(struct wbuf *b, int qi, const struct quant *q, double sum,
			     uint64_t count)
{
	const char *name = sum_quants[qi].prom;
	double scale = sum_quants[qi].scale;

	wbuf_printf(b, "# HELP %s %s (quantiles over the last windows)\n# TYPE %s summary\n", name,
		    sum_quants[qi].help, name);
	for (unsigned i = 0; i < 4; i++) {
		if (quant_count(q))
			wbuf_printf(b, "%s{quantile=\"%g\"} %.9g\n", name, sum_ps[i],
				    quant_quantile(q, sum_ps[i]) * scale);
		else /* Prometheus's own client libraries export NaN for no observations */
			wbuf_printf(b, "%s{quantile=\"%g\"} NaN\n", name, sum_ps[i]);
	}
	wbuf_printf(b, "%s_sum %.9g\n%s_count %llu\n", name, sum * scale, name,
		    (unsigned long long)count);
}

static void sum_prom_tops(struct wbuf *b, const struct sum_window *w, unsigned show)
{
	struct topn_item items[64];
	char buf[300], pod[300], lb[700];

	if (show > 64)
		show = 64;
	for (int t = 0; t < SUM_T_N; t++) {
		unsigned n = topn_top(w->t[t], items, show);

		prom_family(b, sum_tops[t].prom, PROM_GAUGE, sum_tops[t].help);
		for (unsigned i = 0; i < n; i++) {
			const char *name =
			    sum_item_name(sum_tops[t].kind, &items[i], buf, sizeof(buf));

			if (sum_tops[t].kind == SUM_K_CLIENT)
				prom_labels(lb, sizeof(lb), sum_tops[t].label, name, "pod",
					    sum_item_pod(&items[i], pod, sizeof(pod)), NULL);
			else
				prom_labels(lb, sizeof(lb), sum_tops[t].label, name, NULL);
			prom_sample(b, sum_tops[t].prom, PROM_GAUGE, lb, items[i].count);
		}
	}
}

int summary_metrics(struct summary *s, struct wbuf *b)
{
	struct sum_counts c;
	struct sum_window *w, *m;
	char buf[64];
	static const char *const ipv[] = {"4", "6"}, *const l4[] = {"udp", "tcp"},
				 *const dir[] = {"in", "out"},
				 *const rc[] = {"NOERROR", "NODATA", "NXDOMAIN", "SERVFAIL",
						"REFUSED"},
				 *const encdns[] = {"dot", "doh"}, *const hcls[] = {"1xx", "2xx",
										    "3xx", "4xx",
										    "5xx", "other"};
	const char *ops[16];
	uint64_t v[16];
	unsigned nops = 0;

	if (!s)
		return 200;
	sum_lock_take(s);
	c = s->life;
	w = sum_window_nth(s, 0);
	if (w)
		sum_counts_add(&c, &w->c);
	sum_prom_counter(b, "pano_packets", "UDP and TCP packets decoded", c.packets);
	sum_prom_labelled(b, "pano_packets_ip", "packets by IP version", "version", ipv,
			  (uint64_t[]){c.ipv4, c.ipv6}, 2);
	sum_prom_labelled(b, "pano_packets_transport", "packets by transport", "transport", l4,
			  (uint64_t[]){c.udp, c.tcp}, 2);
	sum_prom_labelled(b, "pano_packets_direction", "packets by direction (host spec)",
			  "direction", dir, (uint64_t[]){c.in, c.out}, 2);
	sum_prom_labelled(b, "pano_dns_messages", "DNS messages by transport", "transport", l4,
			  (uint64_t[]){c.dns_udp, c.dns_tcp}, 2);
	sum_prom_counter(b, "pano_dns_queries", "DNS queries", c.queries);
	sum_prom_counter(b, "pano_dns_replies", "DNS replies", c.replies);
	sum_prom_labelled(b, "pano_dns_replies_rcode", "DNS replies by result", "rcode", rc,
			  (uint64_t[]){c.noerror, c.nodata, c.nxdomain, c.srvfail, c.refused}, 5);
	for (unsigned i = 0; i < 16; i++) {
		if (!c.opcode[i])
			continue;
		ops[nops] = strdupa(dns_opcode_name(i, 0, buf, sizeof(buf), NULL));
		v[nops++] = c.opcode[i];
	}
	sum_prom_labelled(b, "pano_dns_opcode", "DNS messages by opcode", "opcode", ops, v, nops);
	sum_prom_labelled(b, "pano_dns_transactions", "DNS transactions answered, by direction",
			  "direction", dir, (uint64_t[]){c.xact_in, c.xact_out}, 2);
	sum_prom_counter(b, "pano_dns_transactions_timed_out", "DNS queries never answered",
			 c.timed_out);
	sum_prom_counter(b, "pano_dns_orphan_replies", "DNS replies that found no query",
			 c.orphans);
	sum_prom_counter(b, "pano_dns_edns", "DNS queries with EDNS", c.edns);
	sum_prom_counter(b, "pano_dns_edns_do", "DNS queries with the DNSSEC OK bit", c.edns_do);
	sum_prom_counter(b, "pano_dns_ecs", "DNS queries with EDNS Client Subnet", c.ecs);
	sum_prom_labelled(b, "pano_dns_encrypted_connections",
			  "encrypted DNS connections (TLS records flagged dot or doh)", "protocol",
			  encdns, (uint64_t[]){c.dot, c.doh}, 2);
	sum_prom_counter(b, "pano_tls_connections", "TLS connections (ssl records)", c.tls);
	sum_prom_counter(b, "pano_tls_established", "TLS connections whose handshake completed",
			 c.tls_established);
	sum_prom_counter(b, "pano_tls_resumed", "TLS connections that resumed a session",
			 c.tls_resumed);
	sum_prom_counter(b, "pano_tls_sni", "TLS connections whose client sent a server name",
			 c.tls_sni);
	sum_prom_counter(b, "pano_http_transactions", "HTTP transactions (http records)", c.http);
	sum_prom_counter(b, "pano_http_requests", "HTTP requests", c.http_requests);
	sum_prom_counter(b, "pano_http_responses", "HTTP responses", c.http_responses);
	sum_prom_labelled(b, "pano_http_responses_status", "HTTP responses by status class",
			  "class", hcls,
			  (uint64_t[]){c.http_class[1], c.http_class[2], c.http_class[3],
				       c.http_class[4], c.http_class[5], c.http_class[0]},
			  6);
	sum_prom_counter(b, "pano_http_requests_no_response", "HTTP requests that got no response",
			 c.http_no_response);

	m = sum_merge_all(s);
	for (int qi = 0; qi < SUM_Q_N; qi++) {
		double sum = s->life_qsum[qi];
		uint64_t cnt = s->life_qcount[qi];

		if (w) {
			sum += quant_sum(w->q[qi]);
			cnt += quant_count(w->q[qi]);
		}
		sum_prom_summary(b, qi, m->q[qi], sum, cnt);
	}
	for (unsigned i = 0; i < SUM_H_N; i++) {
		prom_family(b, sum_uniques[i].prom, PROM_GAUGE, sum_uniques[i].help);
		prom_sample(b, sum_uniques[i].prom, PROM_GAUGE, NULL,
			    (uint64_t)sum_hll_count(m->h[i]));
	}
	sum_prom_tops(b, m, s->cfg.top_show);
	sum_lock_give(s);
	return 200;
}

static int sum_json_cb(void *ctx, const char *query, struct wbuf *out)
{
	const struct sum_route *r = ctx;

	return summary_json(r->s, r->n, out, false);
}

int summary_routes(struct summary *s, struct httpd *h)
{
	char path[64];
	unsigned n = s->cfg.periods < SUM_ROUTES_MAX ? s->cfg.periods : SUM_ROUTES_MAX;
	int err;

	s->routes[0] = (struct sum_route){s, -1};
	err = httpd_route(h, "/api/v1/metrics/merged", "application/json", sum_json_cb,
			  &s->routes[0]);
	for (unsigned i = 0; i < n && !err; i++) {
		s->routes[1 + i] = (struct sum_route){s, (int)i};
		snprintf(path, sizeof(path), "/api/v1/metrics/window/%u", i);
		err = httpd_route(h, path, "application/json", sum_json_cb, &s->routes[1 + i]);
	}
	return err;
}
