// SPDX-License-Identifier: Apache-2.0
/*
 * test_summary_l7.c - the TLS and HTTP summaries: synthetic ssl and http records (the structs
 * the parsers fill, ssl_rec.h / http_rec.h) go through summary_record(), as the out stage hands
 * them over, and come back as the JSON (--summary, /api/v1/metrics/...) and the Prometheus
 * text (/metrics): counts, top-N tables, cardinalities, encrypted DNS per client and pod,
 * status classes, latency quantiles within the sketch's 1% bound, windows and lifetime totals.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "http_rec.h"
#include "httpd.h"
#include "records.h"
#include "ssl_rec.h"
#include "summary.h"

#define SEC 1000000000ull
static const uint64_t t0 = 1700000000ull * SEC;

/* The summary JSON of window n (-1: merged), parsed; NULL when the window does not exist. */
static cJSON *summ(struct summary *sum, int n)
{
	struct wbuf b = WBUF_INIT(HTTPD_BODY_MAX);
	cJSON *j = NULL;

	if (summary_json(sum, n, &b, false) == 200)
		j = cJSON_Parse(b.p);
	wbuf_free(&b);
	return j;
}

/* The number at a dotted path of j ("tls.cardinality.sni"), -1 when absent. */
static double num(const cJSON *j, const char *path)
{
	char key[64];
	const char *dot;

	while (j && (dot = strchr(path, '.'))) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		j = cJSON_GetObjectItemCaseSensitive(j, key);
		path = dot + 1;
	}
	j = j ? cJSON_GetObjectItemCaseSensitive(j, path) : NULL;
	return cJSON_IsNumber(j) ? j->valuedouble : -1;
}

/* The item of top table arr (a dotted path) named name (and with pod, when pod is not NULL:
 * "" for none): its estimate, or -1. */
static double top(const cJSON *j, const char *arr, const char *name, const char *pod)
{
	char key[64];
	const char *dot;
	const cJSON *it;

	while (j && (dot = strchr(arr, '.'))) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - arr), arr);
		j = cJSON_GetObjectItemCaseSensitive(j, key);
		arr = dot + 1;
	}
	j = j ? cJSON_GetObjectItemCaseSensitive(j, arr) : NULL;
	cJSON_ArrayForEach(it, j)
	{
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "name");
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(it, "pod");

		if (!cJSON_IsString(n) || strcmp(n->valuestring, name))
			continue;
		if (pod && strcmp(cJSON_IsString(p) ? p->valuestring : "", pod))
			continue;
		return num(it, "estimate");
	}
	return -1;
}

/* The value of the Prometheus sample line that starts with `sample ` in the exposition. */
static double prom(const char *text, const char *sample)
{
	size_t n = strlen(sample);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, sample, n) && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

static char *metrics(struct summary *sum)
{
	struct wbuf b = WBUF_INIT(HTTPD_BODY_MAX);
	char *s;

	summary_metrics(sum, &b);
	s = strndup(b.p ? b.p : "", b.len);
	wbuf_free(&b);
	return s;
}

struct tls_spec {
	const char *client, *ns, *pod; /* ns/pod NULL: not one of the node's pods */
	const char *sni, *version, *ja4, *alpn;
	bool established, resumed, dot, doh;
};

static void tls(struct summary *sum, uint64_t ts, const struct tls_spec *s)
{
	struct ssl_rec r = {0};

	REC_SET(&r, ts, ts);
	REC_SET(&r, id_orig_h, rec_cstr(s->client));
	REC_SET(&r, id_resp_h, REC_LIT("198.18.1.1"));
	REC_SET(&r, id_resp_p, s->dot ? 853 : 443);
	if (s->sni)
		REC_SET(&r, server_name, rec_cstr(s->sni));
	if (s->version)
		REC_SET(&r, version, rec_cstr(s->version));
	if (s->ja4)
		REC_SET(&r, ja4, rec_cstr(s->ja4));
	if (s->alpn)
		REC_SET(&r, next_protocol, rec_cstr(s->alpn));
	REC_SET(&r, established, s->established);
	REC_SET(&r, resumed, s->resumed);
	if (s->dot)
		REC_SET(&r, dot, true);
	if (s->doh)
		REC_SET(&r, doh, true);
	if (s->pod) {
		REC_SET(&r, orig_k8s_namespace, rec_cstr(s->ns));
		REC_SET(&r, orig_k8s_pod, rec_cstr(s->pod));
	}
	summary_record(sum, &ssl_rec_type, &r);
}

#define JA4_A "t13d1516h2_8daaf6152771_e5627efa2ab1"
#define JA4_B "t12d1209h1_d34a8e72043a_b39be8c56a14"

static void test_tls(void)
{
	struct summary_config cfg;
	struct summary *sum;
	static const struct tls_spec a = {.client = "198.18.0.20",
					  .sni = "a.example",
					  .version = "TLSv13",
					  .ja4 = JA4_A,
					  .alpn = "h2",
					  .established = true};
	static const struct tls_spec b = {.client = "198.18.0.21",
					  .sni = "b.example",
					  .version = "TLSv12",
					  .ja4 = JA4_B,
					  .alpn = "http/1.1",
					  .established = true};
	static const struct tls_spec b_fail = {
	    .client = "198.18.0.21", .sni = "b.example", .ja4 = JA4_B};
	static const struct tls_spec nosni = {
	    .client = "198.18.0.22", .version = "TLSv13", .ja4 = JA4_A};
	static const struct tls_spec dot_pod = {.client = "198.18.0.10",
						.ns = "ns1",
						.pod = "client-a",
						.sni = "dns.example",
						.version = "TLSv13",
						.ja4 = JA4_A,
						.established = true,
						.dot = true};
	static const struct tls_spec doh = {.client = "198.18.0.11",
					    .sni = "cloudflare-dns.com",
					    .version = "TLSv13",
					    .ja4 = JA4_A,
					    .alpn = "h2",
					    .established = true,
					    .resumed = true,
					    .doh = true};
	static const struct tls_spec doh_pod = {.client = "198.18.0.10",
						.ns = "ns1",
						.pod = "client-a",
						.sni = "dns.google",
						.version = "TLSv13",
						.ja4 = JA4_A,
						.alpn = "h2",
						.established = true,
						.doh = true};
	uint64_t ts = t0;
	cJSON *j;
	char *m;

	summary_config_default(&cfg);
	sum = summary_new(&cfg);
	CHECK(sum != NULL);
	for (int i = 0; i < 6; i++)
		tls(sum, ts++, &a);
	for (int i = 0; i < 2; i++)
		tls(sum, ts++, &b);
	tls(sum, ts++, &b_fail);
	tls(sum, ts++, &nosni);
	for (int i = 0; i < 2; i++)
		tls(sum, ts++, &dot_pod);
	for (int i = 0; i < 3; i++)
		tls(sum, ts++, &doh);
	tls(sum, ts++, &doh_pod);
	j = summ(sum, -1);
	CHECK(j != NULL);
	CHECK_EQ_INT((int)num(j, "tls.connections"), 16);
	CHECK_EQ_INT((int)num(j, "tls.established"), 14);
	CHECK_EQ_INT((int)num(j, "tls.not_established"), 2);
	CHECK_EQ_INT((int)num(j, "tls.resumed"), 3);
	CHECK_EQ_INT((int)num(j, "tls.sni"), 15);
	CHECK_EQ_INT((int)top(j, "tls.top_sni", "a.example", NULL), 6);
	CHECK_EQ_INT((int)top(j, "tls.top_sni", "b.example", NULL), 3);
	CHECK_EQ_INT((int)top(j, "tls.top_sni_not_established", "b.example", NULL), 1);
	CHECK_EQ_INT((int)top(j, "tls.top_sni_not_established", "a.example", NULL), -1);
	CHECK_EQ_INT((int)top(j, "tls.top_version", "TLSv13", NULL), 13);
	CHECK_EQ_INT((int)top(j, "tls.top_version", "TLSv12", NULL), 2);
	CHECK_EQ_INT((int)top(j, "tls.top_ja4", JA4_A, NULL), 13);
	CHECK_EQ_INT((int)top(j, "tls.top_ja4", JA4_B, NULL), 3);
	CHECK_EQ_INT((int)top(j, "tls.top_alpn", "h2", NULL), 10);
	CHECK_EQ_INT((int)top(j, "tls.top_alpn", "http/1.1", NULL), 2);
	CHECK_EQ_INT((int)num(j, "tls.cardinality.sni"), 5);
	CHECK_EQ_INT((int)num(j, "tls.cardinality.ja4"), 2);
	/* encrypted DNS per client, with the pod when the record names it */
	CHECK_EQ_INT((int)num(j, "dns.encrypted.dot"), 2);
	CHECK_EQ_INT((int)num(j, "dns.encrypted.doh"), 4);
	CHECK_EQ_INT((int)top(j, "dns.encrypted.top_dot_client", "198.18.0.10", "ns1/client-a"), 2);
	CHECK_EQ_INT((int)top(j, "dns.encrypted.top_doh_client", "198.18.0.11", ""), 3);
	CHECK_EQ_INT((int)top(j, "dns.encrypted.top_doh_client", "198.18.0.10", "ns1/client-a"), 1);
	/* DNS's own counts are untouched by TLS records */
	CHECK_EQ_INT((int)num(j, "dns.messages"), 0);
	cJSON_Delete(j);

	m = metrics(sum);
	CHECK_EQ_INT((int)prom(m, "pano_tls_connections_total"), 16);
	CHECK_EQ_INT((int)prom(m, "pano_tls_established_total"), 14);
	CHECK_EQ_INT((int)prom(m, "pano_tls_top_sni{sni=\"a.example\"}"), 6);
	CHECK_EQ_INT((int)prom(m, "pano_tls_top_version{version=\"TLSv13\"}"), 13);
	CHECK_EQ_INT((int)prom(m, "pano_tls_top_ja4{ja4=\"" JA4_B "\"}"), 3);
	CHECK_EQ_INT((int)prom(m, "pano_tls_unique_snis"), 5);
	CHECK_EQ_INT((int)prom(m, "pano_dns_encrypted_connections_total{protocol=\"doh\"}"), 4);
	CHECK_EQ_INT(
	    (int)prom(m, "pano_dns_top_dot_client{client=\"198.18.0.10\",pod=\"ns1/client-a\"}"),
	    2);
	CHECK_EQ_INT((int)prom(m, "pano_dns_top_doh_client{client=\"198.18.0.11\",pod=\"\"}"), 3);
	free(m);
	summary_free(sum);
}

struct http_spec {
	const char *method, *host, *uri;
	int status; /* 0: no response */
	uint64_t latency_ns, req_body, resp_body;
};

static void http(struct summary *sum, uint64_t ts, const struct http_spec *s)
{
	struct http_rec r = {0};

	REC_SET(&r, ts, ts);
	REC_SET(&r, id_orig_h, REC_LIT("198.18.0.30"));
	REC_SET(&r, trans_depth, 1);
	REC_SET(&r, method, rec_cstr(s->method));
	REC_SET(&r, host, rec_cstr(s->host));
	REC_SET(&r, uri, rec_cstr(s->uri));
	REC_SET(&r, request_body_len, s->req_body);
	REC_SET(&r, response_body_len, s->resp_body);
	if (s->status) {
		REC_SET(&r, status_code, (uint64_t)s->status);
		REC_SET(&r, latency, s->latency_ns);
	}
	summary_record(sum, &http_rec_type, &r);
}

/* The exact value of rank floor(q (n - 1)) of the sorted values v (n of them). */
static double rank_value(const double *v, unsigned n, double q)
{
	return v[(unsigned)floor(q * (n - 1))];
}

static void test_http(void)
{
	struct summary_config cfg;
	struct summary *sum;
	double lat[99], body[99];
	unsigned n = 0;
	uint64_t ts = t0;
	cJSON *j;
	char *m, uri[64];

	summary_config_default(&cfg);
	sum = summary_new(&cfg);
	CHECK(sum != NULL);
	/* 99 answered requests, latency i ms for i = 1..99: 90 x 200, 5 x 404, 4 x 503; the
	 * response body i * 100 bytes; GET, every tenth a POST of 1000 bytes; then one GET never
	 * answered */
	for (unsigned i = 1; i <= 99; i++) {
		struct http_spec s = {.method = i % 10 ? "GET" : "POST",
				      .host = i % 3 ? "www.example" : "api.example:8080",
				      .uri = uri,
				      .status = i <= 90	  ? 200
						: i <= 95 ? 404
							  : 503,
				      .latency_ns = i * 1000000ull,
				      .req_body = i % 10 ? 0 : 1000,
				      .resp_body = i * 100ull};

		snprintf(uri, sizeof(uri), "/item/%s?id=%u", i % 2 ? "odd" : "even", i);
		http(sum, ts++, &s);
		lat[n] = i * 1e3; /* microseconds */
		body[n++] = i * 100.0;
	}
	http(sum, ts++,
	     &(struct http_spec){
		 .method = "GET", .host = "slow.example", .uri = "/"}); /* never answered */
	j = summ(sum, -1);
	CHECK(j != NULL);
	CHECK_EQ_INT((int)num(j, "http.transactions"), 100);
	CHECK_EQ_INT((int)num(j, "http.requests"), 100);
	CHECK_EQ_INT((int)num(j, "http.responses"), 99);
	CHECK_EQ_INT((int)num(j, "http.no_response"), 1);
	CHECK_EQ_INT((int)num(j, "http.status.2xx"), 90);
	CHECK_EQ_INT((int)num(j, "http.status.4xx"), 5);
	CHECK_EQ_INT((int)num(j, "http.status.5xx"), 4);
	CHECK_EQ_INT((int)num(j, "http.status.1xx"), 0);
	CHECK_EQ_INT((int)top(j, "http.top_status", "200", NULL), 90);
	CHECK_EQ_INT((int)top(j, "http.top_status", "503", NULL), 4);
	CHECK_EQ_INT((int)top(j, "http.top_method", "GET", NULL), 91);
	CHECK_EQ_INT((int)top(j, "http.top_method", "POST", NULL), 9);
	CHECK_EQ_INT((int)top(j, "http.top_host", "www.example", NULL), 66);
	CHECK_EQ_INT((int)top(j, "http.top_host", "api.example:8080", NULL), 33);
	/* 5xx: i = 96..99, of which 96 and 99 are api.example:8080 */
	CHECK_EQ_INT((int)top(j, "http.top_host_5xx", "api.example:8080", NULL), 2);
	CHECK_EQ_INT((int)top(j, "http.top_host_5xx", "www.example", NULL), 2);
	CHECK_EQ_INT((int)top(j, "http.top_path", "/item/odd", NULL), 50);
	CHECK_EQ_INT((int)top(j, "http.top_path", "/item/even", NULL), 49);
	CHECK_EQ_INT((int)num(j, "http.cardinality.host"), 3);
	/* quantiles within the sketch's 1% of the exact rank's value */
	{
		static const double qs[] = {0.5, 0.9, 0.99};
		static const char *const names[] = {"p50", "p90", "p99"};
		char path[64];

		for (unsigned i = 0; i < 3; i++) {
			double want = rank_value(lat, n, qs[i]), got;

			snprintf(path, sizeof(path), "http.time_us.%s", names[i]);
			got = num(j, path);
			CHECK(fabs(got - want) <= 0.01 * want);
			snprintf(path, sizeof(path), "http.size.response_body.%s", names[i]);
			want = rank_value(body, n, qs[i]);
			got = num(j, path);
			CHECK(fabs(got - want) <= 0.01 * want);
		}
		CHECK_EQ_INT((int)num(j, "http.time_us.count"), 99);
		CHECK_EQ_INT((int)num(j, "http.time_us.max"), 99000);
		CHECK_EQ_INT((int)num(j, "http.size.request_body.count"), 100);
		CHECK_EQ_INT((int)num(j, "http.size.request_body.max"), 1000);
	}
	cJSON_Delete(j);

	m = metrics(sum);
	CHECK_EQ_INT((int)prom(m, "pano_http_requests_total"), 100);
	CHECK_EQ_INT((int)prom(m, "pano_http_responses_status_total{class=\"2xx\"}"), 90);
	CHECK_EQ_INT((int)prom(m, "pano_http_responses_status_total{class=\"5xx\"}"), 4);
	CHECK_EQ_INT((int)prom(m, "pano_http_requests_no_response_total"), 1);
	CHECK_EQ_INT((int)prom(m, "pano_http_top_status{status=\"404\"}"), 5);
	CHECK_EQ_INT((int)prom(m, "pano_http_top_host{host=\"www.example\"}"), 66);
	CHECK_EQ_INT((int)prom(m, "pano_http_latency_seconds_count"), 99);
	{
		double p50 = prom(m, "pano_http_latency_seconds{quantile=\"0.5\"}");
		double sum = prom(m, "pano_http_response_body_bytes_sum");

		CHECK(fabs(p50 - 0.050) <= 0.01 * 0.050);
		CHECK(fabs(sum - 495000.0) < 1e-6); /* 100 * (1 + ... + 99), exact */
	}
	free(m);
	summary_free(sum);
}

/*
 * Windows: records count in the window of their ts; the merged view adds the kept windows;
 * the Prometheus counters are lifetime totals, also of windows no longer kept. A record with
 * no ts counts in the current window; hostile values (a 1000-byte SNI, an empty one, a status
 * code out of range) are bounded.
 */
static void test_windows_and_odd_records(void)
{
	struct summary_config cfg;
	struct summary *sum;
	static const struct tls_spec a = {.client = "198.18.0.20",
					  .sni = "a.example",
					  .version = "TLSv13",
					  .ja4 = JA4_A,
					  .alpn = "h2",
					  .established = true};
	static const struct tls_spec empty = {
	    .client = "198.18.0.20", .sni = "", .version = "", .ja4 = ""};
	char longname[1001];
	struct tls_spec big = a;
	struct ssl_rec nots = {0};
	cJSON *j;
	char *m;

	summary_config_default(&cfg);
	cfg.period_ns = 10 * SEC;
	cfg.periods = 2;
	sum = summary_new(&cfg);
	CHECK(sum != NULL);
	tls(sum, t0, &a);
	tls(sum, t0 + 1, &a);
	http(sum, t0 + 2,
	     &(struct http_spec){.method = "GET", .host = "h", .uri = "/", .status = 200});
	tls(sum, t0 + 10 * SEC, &a); /* the second window */
	http(sum, t0 + 10 * SEC,     /* a code out of range: class "other" */
	     &(struct http_spec){.method = "GET", .host = "h", .uri = "/", .status = 999});
	j = summ(sum, 0);
	CHECK_EQ_INT((int)num(j, "tls.connections"), 1);
	CHECK_EQ_INT((int)num(j, "http.status.other"), 1);
	cJSON_Delete(j);
	j = summ(sum, 1);
	CHECK_EQ_INT((int)num(j, "tls.connections"), 2);
	CHECK_EQ_INT((int)num(j, "http.status.2xx"), 1);
	cJSON_Delete(j);
	j = summ(sum, -1);
	CHECK_EQ_INT((int)num(j, "tls.connections"), 3);
	CHECK_EQ_INT((int)top(j, "tls.top_sni", "a.example", NULL), 3);
	cJSON_Delete(j);
	/* a third window pushes the first out of the two kept */
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	big.sni = longname;
	tls(sum, t0 + 20 * SEC, &big);
	tls(sum, t0 + 20 * SEC, &empty);
	REC_SET(&nots, id_orig_h, REC_LIT("198.18.0.1")); /* no ts: the current window */
	summary_record(sum, &ssl_rec_type, &nots);
	j = summ(sum, -1);
	CHECK_EQ_INT((int)num(j, "tls.connections"), 4);
	CHECK_EQ_INT((int)num(j, "tls.sni"), 2);	     /* a.example, the long one */
	CHECK_EQ_INT((int)num(j, "tls.cardinality.sni"), 2); /* the empty SNI is no name */
	CHECK(top(j, "tls.top_version", "", NULL) < 0);
	cJSON_Delete(j);
	j = summ(sum, 0);
	CHECK_EQ_INT((int)num(j, "tls.connections"), 3);
	{ /* the long name is kept cut to the top-N key limit */
		const cJSON *arr = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(j, "tls"), "top_sni");
		const cJSON *n =
		    cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(arr, 0), "name");

		CHECK(cJSON_IsString(n) && strlen(n->valuestring) == 255);
	}
	cJSON_Delete(j);
	m = metrics(sum);
	CHECK_EQ_INT((int)prom(m, "pano_tls_connections_total"), 6); /* lifetime */
	CHECK_EQ_INT((int)prom(m, "pano_http_transactions_total"), 2);
	CHECK_EQ_INT((int)prom(m, "pano_http_responses_status_total{class=\"other\"}"), 1);
	free(m);
	summary_free(sum);
}

/* The out stage's seam: rec_out_emit() shows a record to the summaries it holds (o.sum). */
static void test_through_out_stage(void)
{
	struct summary_config cfg;
	struct summary *sum;
	struct rec_out o;
	struct http_rec r = {0};
	cJSON *j;

	summary_config_default(&cfg);
	sum = summary_new(&cfg);
	CHECK(sum != NULL);
	rec_out_init(&o, REC_FORMAT_JSON, 0, NULL);
	o.sum = sum;
	REC_SET(&r, ts, t0);
	REC_SET(&r, id_orig_h, REC_LIT("198.18.0.1"));
	REC_SET(&r, method, REC_LIT("GET"));
	REC_SET(&r, host, REC_LIT("out.example"));
	rec_emit(&o.emit, &http_rec_type, &r);
	j = summ(sum, -1);
	CHECK_EQ_INT((int)top(j, "http.top_host", "out.example", NULL), 1);
	cJSON_Delete(j);
	rec_out_free(&o);
	summary_free(sum);
}

int main(void)
{
	TEST_CASE("summary_tls_records", test_tls);
	TEST_CASE("summary_http_records", test_http);
	TEST_CASE("summary_l7_windows_and_odd_records", test_windows_and_odd_records);
	TEST_CASE("summary_l7_through_out_stage", test_through_out_stage);
	TEST_EXIT();
}
