// SPDX-License-Identifier: Apache-2.0
/*
 * summary_l7.c - what TLS and HTTP records add to the current window (see summary.h): the
 * out stage shows every finished record to summary_record() (summary_record.c), which hands
 * ssl records to summary_tls() and http records to summary_http(). A record counts in the
 * window of its ts (the connection's or the request's start), as DNS transactions do.
 *
 * TLS: connections, handshakes completed, resumptions, SNI, versions, JA4s and the negotiated
 * ALPN as top-N tables, distinct SNIs and JA4s; the connections flagged dot / doh count as
 * encrypted DNS, per client (its address and, when the node knows it, its pod): who bypasses
 * the node's resolver.
 * HTTP: requests, responses by status class and code, methods, hosts (and the hosts of 5xx
 * answers), paths (the URI without its query), distinct hosts, and quantiles of the request
 * latency and of both body sizes.
 */
#include <string.h>

#include "http_rec.h"
#include "sketch_hash.h"
#include "ssl_rec.h"
#include "summary.h"
#include "summary_int.h"

/* The window of a record: its ts, or (a record without one) the current window. */
static struct sum_window *sum_rec_window(struct summary *s, bool has_ts, uint64_t ts_ns)
{
	if (!has_ts)
		ts_ns = s->win[s->cur].last_ns;
	return sum_window_at(s, ts_ns);
}

/* Adds a string field to top-N table t (and to HyperLogLog h when given): empty strings are
 * not counted. */
static void sum_str(struct sum_window *w, int t, struct hll *h, bool has, const struct rec_str *v)
{
	size_t len;
	uint64_t hash;

	if (!has || !v->len)
		return;
	len = v->len < TOPN_KEY_MAX ? v->len : TOPN_KEY_MAX;
	hash = sketch_hash(v->p, len, SKETCH_SEED);
	topn_add_hash(w->t[t], hash, v->p, len, 1);
	if (h)
		hll_add_hash(h, hash);
}

/* The top-N key of a client: its address, a NUL, then "namespace/pod" when the record names
 * its pod (nothing otherwise); cut to sz bytes. Returns the key's length. */
static size_t sum_client_key(char *key, size_t sz, struct rec_str addr, struct rec_str ns,
			     struct rec_str pod)
{
	size_t n = 0;

	if (sz < 2)
		return 0;
	if (addr.len > sz - 2)
		addr.len = sz - 2;
	memcpy(key, addr.p, addr.len);
	n = addr.len;
	key[n++] = 0;
	if (pod.len && ns.len + 1 + pod.len <= sz - n) {
		memcpy(key + n, ns.p, ns.len);
		n += ns.len;
		key[n++] = '/';
		memcpy(key + n, pod.p, pod.len);
		n += pod.len;
	}
	return n;
}

/* One encrypted-DNS connection of the record's client into table t. */
static void sum_encdns_client(struct sum_window *w, int t, const struct ssl_rec *r)
{
	static const struct rec_str none = {"", 0};
	char key[TOPN_KEY_MAX];
	size_t n = sum_client_key(key, sizeof(key), r->has_id_orig_h ? r->id_orig_h : none,
				  r->has_orig_k8s_namespace ? r->orig_k8s_namespace : none,
				  r->has_orig_k8s_pod ? r->orig_k8s_pod : none);

	topn_add(w->t[t], key, n, 1);
}

void summary_tls(struct summary *s, const struct ssl_rec *r)
{
	struct sum_window *w;

	sum_lock(s);
	w = sum_rec_window(s, r->has_ts, r->ts);
	w->c.tls++;
	if (r->has_established && r->established)
		w->c.tls_established++;
	else
		sum_str(w, SUM_T_TLS_SNI_FAIL, NULL, r->has_server_name, &r->server_name);
	if (r->has_resumed && r->resumed)
		w->c.tls_resumed++;
	if (r->has_server_name && r->server_name.len)
		w->c.tls_sni++;
	sum_str(w, SUM_T_TLS_SNI, w->h[SUM_H_SNI], r->has_server_name, &r->server_name);
	sum_str(w, SUM_T_TLS_VERSION, NULL, r->has_version, &r->version);
	sum_str(w, SUM_T_TLS_JA4, w->h[SUM_H_JA4], r->has_ja4, &r->ja4);
	sum_str(w, SUM_T_TLS_ALPN, NULL, r->has_next_protocol, &r->next_protocol);
	if (r->has_dot && r->dot) {
		w->c.dot++;
		sum_encdns_client(w, SUM_T_DOT_CLIENT, r);
	}
	if (r->has_doh && r->doh) {
		w->c.doh++;
		sum_encdns_client(w, SUM_T_DOH_CLIENT, r);
	}
	sum_unlock(s);
}

void summary_http(struct summary *s, const struct http_rec *r)
{
	struct sum_window *w;

	sum_lock(s);
	w = sum_rec_window(s, r->has_ts, r->ts);
	w->c.http++;
	if (r->has_method) {
		w->c.http_requests++;
		sum_str(w, SUM_T_HTTP_METHOD, NULL, true, &r->method);
		if (r->has_request_body_len)
			quant_add(w->q[SUM_Q_HTTP_REQ], (double)r->request_body_len);
	}
	sum_str(w, SUM_T_HTTP_HOST, w->h[SUM_H_HTTP_HOST], r->has_host, &r->host);
	if (r->has_uri && r->uri.len) {
		const char *q = memchr(r->uri.p, '?', r->uri.len);
		struct rec_str path = {r->uri.p, q ? (size_t)(q - r->uri.p) : r->uri.len};

		sum_str(w, SUM_T_HTTP_PATH, NULL, true, &path);
	}
	if (r->has_status_code) {
		uint64_t code = r->status_code;
		unsigned cls = code >= 100 && code < 600 ? (unsigned)(code / 100) : 0;

		w->c.http_responses++;
		w->c.http_class[cls]++;
		topn_add_u64(w->t[SUM_T_HTTP_STATUS], code, 1);
		if (cls == 5)
			sum_str(w, SUM_T_HTTP_HOST_5XX, NULL, r->has_host, &r->host);
		if (r->has_response_body_len)
			quant_add(w->q[SUM_Q_HTTP_RESP], (double)r->response_body_len);
	} else if (r->has_method) {
		w->c.http_no_response++;
	}
	if (r->has_latency)
		quant_add(w->q[SUM_Q_HTTP_TIME], (double)r->latency / 1000.0);
	sum_unlock(s);
}
