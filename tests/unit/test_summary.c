// SPDX-License-Identifier: Apache-2.0
/*
 * test_summary.c - the summary module without a capture: pktvisor's qname2/qname3 rule,
 * host-spec parsing and matching, and windows rotating on packet time (counts per window,
 * the merged view, the per-second rates including empty seconds).
 */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "httpd.h"
#include "summary.h"

static void test_qname_suffix(void)
{
	char out[300];

	summary_qname_suffix("a.foo.bar.com", 2, out, sizeof(out));
	CHECK_EQ_STR(out, ".bar.com");
	summary_qname_suffix("a.foo.bar.com", 3, out, sizeof(out));
	CHECK_EQ_STR(out, ".foo.bar.com");
	summary_qname_suffix("bar.com", 2, out, sizeof(out));
	CHECK_EQ_STR(out, "bar.com"); /* exactly two labels: kept whole */
	summary_qname_suffix("foo.bar.com", 3, out, sizeof(out));
	CHECK_EQ_STR(out, "foo.bar.com");
	summary_qname_suffix("bar.com", 3, out, sizeof(out));
	CHECK_EQ_STR(out, ""); /* fewer labels: none */
	summary_qname_suffix("com", 2, out, sizeof(out));
	CHECK_EQ_STR(out, "");
	summary_qname_suffix("x.bar.com.", 2, out, sizeof(out));
	CHECK_EQ_STR(out, ".bar.com");
	summary_qname_suffix("", 2, out, sizeof(out));
	CHECK_EQ_STR(out, "");
	summary_qname_suffix("a.foo.bar.com", 2, out, 4); /* cut to the buffer */
	CHECK_EQ_STR(out, ".ba");
}

static void test_host_spec(void)
{
	struct summary_config cfg;
	struct summary *sum;
	struct pano_addr a = {.family = 4, .a = {198, 18, 0, 200}};
	struct pano_addr b = {.family = 4, .a = {198, 20, 0, 1}};
	struct pano_addr c = {.family = 6, .a = {0x20, 0x01, 0, 2, 0, 0}};

	summary_config_default(&cfg);
	CHECK_EQ_INT(summary_parse_hosts(&cfg, "198.18.0.0/15,2001:2::/48"), 0);
	CHECK_EQ_INT(cfg.nnets, 2);
	CHECK(summary_parse_hosts(&cfg, "198.18.0.0/33") < 0);
	CHECK(summary_parse_hosts(&cfg, "nothost") < 0);
	cfg.nnets = 2;
	sum = summary_new(&cfg);
	CHECK(sum != NULL);
	CHECK(summary_addr_local(sum, &a));
	CHECK(!summary_addr_local(sum, &b));
	CHECK(summary_addr_local(sum, &c));
	summary_free(sum);
}

static struct pano_addr cli = {.family = 4, .a = {10, 0, 0, 1}};
static struct pano_addr srv = {.family = 4, .a = {10, 0, 0, 53}};

static void feed(struct summary *sum, uint64_t ts_ns, const char *qname)
{
	struct pano_pkt p = {.ts_ns = ts_ns, .l4proto = IPPROTO_UDP, .saddr = cli, .daddr = srv};
	struct summary_dns_msg m = {.ts_ns = ts_ns,
				    .saddr = &cli,
				    .daddr = &srv,
				    .sport = 4000,
				    .dport = 53,
				    .l4proto = IPPROTO_UDP,
				    .qtype = 1,
				    .qname = qname,
				    .size = 40};

	summary_packet(sum, &p);
	summary_dns_message(sum, &m);
}

/* Pulls "key":NUMBER out of a JSON text (first occurrence after from). */
static long long json_num(const char *js, const char *from, const char *key)
{
	const char *p = strstr(js, from);
	char pat[64];
	long long v = -1;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = p ? strstr(p, pat) : NULL;
	if (p)
		sscanf(p + strlen(pat), "%lld", &v);
	return v;
}

static void test_windows(void)
{
	struct summary_config cfg;
	struct summary *sum;
	struct hbuf b;
	const uint64_t s = 1000000000ull, t0 = 1700000000ull * s;

	summary_config_default(&cfg);
	cfg.period_ns = 10 * s;
	cfg.periods = 3;
	sum = summary_new(&cfg);
	CHECK(sum != NULL);
	/* window A: 5 packets in second 0, none in 1..2, 1 in second 3 */
	for (int i = 0; i < 5; i++)
		feed(sum, t0 + i * 1000, "a.example.com");
	feed(sum, t0 + 3 * s, "b.example.com");
	/* window B: 2 packets */
	feed(sum, t0 + 10 * s, "c.example.org");
	feed(sum, t0 + 11 * s, "c.example.org");
	summary_finish(sum);
	hbuf_init(&b);
	CHECK_EQ_INT(summary_json(sum, 0, &b, false), 200);
	CHECK_EQ_INT(json_num(b.data, "\"packets\"", "total"), 2);
	hbuf_reset(&b);
	CHECK_EQ_INT(summary_json(sum, 1, &b, false), 200);
	CHECK_EQ_INT(json_num(b.data, "\"packets\"", "total"), 6);
	/* the rates of window A: seconds 0..3 = 5, 0, 0, 1 -> p50 is 0, max 5, count 4 */
	CHECK_EQ_INT(json_num(b.data, "\"rate\"", "count"), 4);
	CHECK_EQ_INT(json_num(b.data, "\"rate\"", "max"), 5);
	CHECK_EQ_INT(json_num(b.data, "\"rate\"", "p50"), 0);
	hbuf_reset(&b);
	CHECK_EQ_INT(summary_json(sum, 2, &b, false), 404);
	hbuf_reset(&b);
	CHECK_EQ_INT(summary_json(sum, -1, &b, false), 200);
	CHECK_EQ_INT(json_num(b.data, "\"packets\"", "total"), 8);
	CHECK_EQ_INT(json_num(b.data, "\"dns\"", "queries"), 8);
	CHECK_EQ_INT(json_num(b.data, "\"windows\"", "windows") >= 0 ? 1 : 0, 1);
	CHECK(strstr(b.data, "{\"name\":\".example.com\",\"estimate\":6"));
	CHECK_EQ_INT(json_num(b.data, "\"cardinality\"", "qname"), 3);
	/* two more windows push window A out of the three kept */
	feed(sum, t0 + 20 * s, "d.example.net");
	feed(sum, t0 + 30 * s, "d.example.net");
	hbuf_reset(&b);
	CHECK_EQ_INT(summary_json(sum, -1, &b, false), 200);
	CHECK_EQ_INT(json_num(b.data, "\"packets\"", "total"), 4);
	hbuf_free(&b);
	summary_free(sum);
}

/* One query for name from client 10.1.x.y (n picks x.y). */
static void feed_from(struct summary *sum, uint64_t ts_ns, const char *qname, unsigned n)
{
	struct pano_addr c = {.family = 4, .a = {10, 1, (uint8_t)(n >> 8), (uint8_t)n}};
	struct summary_dns_msg m = {.ts_ns = ts_ns,
				    .saddr = &c,
				    .daddr = &srv,
				    .sport = 4000,
				    .dport = 53,
				    .l4proto = IPPROTO_UDP,
				    .qtype = 1,
				    .qname = qname,
				    .size = 40};

	summary_dns_message(sum, &m);
}

/* estimate and upper of item name in the top_qname list of js (-1 when absent). */
static void top_item(const char *js, const char *list, const char *name, long long *est,
		     long long *upper)
{
	char pat[128];
	const char *p = strstr(js, list);

	*est = *upper = -1;
	snprintf(pat, sizeof(pat), "{\"name\":\"%s\",\"estimate\":", name);
	p = p ? strstr(p, pat) : NULL;
	if (p)
		sscanf(p + strlen(pat), "%lld,\"upper\":%lld", est, upper);
}

/*
 * The front caches before the top-N sketches: more distinct names and clients than cache slots,
 * with a read in the middle (which flushes them). With k above the number of distinct keys the
 * counts are exact; with the default k the Misra-Gries bounds hold for a heavy hitter.
 */
static void test_front_caches(void)
{
	struct summary_config cfg;
	struct summary *sum;
	struct hbuf b;
	const uint64_t t0 = 1700000000ull * 1000000000ull;
	const unsigned nnames = 6000;
	char name[64];
	long long est, up;
	uint64_t ts = t0;

	summary_config_default(&cfg);
	cfg.topn_k = 8192;
	sum = summary_new(&cfg);
	CHECK(sum != NULL);
	hbuf_init(&b);
	/* name j is asked (j % 5) + 1 times, in rounds, by client j % 3000 */
	for (unsigned r = 0; r < 5; r++) {
		for (unsigned j = 0; j < nnames; j++) {
			if (j % 5 < r)
				continue;
			snprintf(name, sizeof(name), "n%u.zone%u.example", j, j % 40);
			feed_from(sum, ts++, name, j % 3000);
		}
		if (r == 2) { /* a reader in the middle */
			CHECK_EQ_INT(summary_json(sum, 0, &b, false), 200);
			hbuf_reset(&b);
		}
	}
	CHECK_EQ_INT(summary_json(sum, 0, &b, false), 200);
	top_item(b.data, "\"top_qname\"", "n4.zone4.example", &est, &up);
	CHECK_EQ_INT(est, 5);
	CHECK_EQ_INT(up, 5);
	/* zone z gets names j = z mod 40: sum of (j % 5) + 1 over them, the same for every
	 * zone with the same z % 5; zone 4 (j % 5 == 4) is among the largest: 150 names x 5 */
	top_item(b.data, "\"top_qname2\"", ".zone4.example", &est, &up);
	CHECK_EQ_INT(est, 750);
	CHECK_EQ_INT(up, 750);
	{
		long long card = json_num(b.data, "\"cardinality\"", "qname");

		CHECK(card > nnames * 0.98 && card < nnames * 1.02);
	}
	hbuf_free(&b);
	summary_free(sum);

	/* default k = 512: 20,000 names once each around one name asked 1,000 times */
	summary_config_default(&cfg);
	sum = summary_new(&cfg);
	CHECK(sum != NULL);
	hbuf_init(&b);
	for (unsigned j = 0; j < 20000; j++) {
		snprintf(name, sizeof(name), "u%u.example", j);
		feed_from(sum, ts++, name, j);
		if (j % 20 == 0)
			feed_from(sum, ts++, "heavy.example", 1);
	}
	CHECK_EQ_INT(summary_json(sum, 0, &b, false), 200);
	top_item(b.data, "\"top_qname\"", "heavy.example", &est, &up);
	CHECK(est >= 0 && est <= 1000 && up >= 1000);
	CHECK(up - est <= 21000 / 513);
	hbuf_free(&b);
	summary_free(sum);
}

int main(void)
{
	TEST_CASE("summary_qname2_qname3", test_qname_suffix);
	TEST_CASE("summary_host_spec", test_host_spec);
	TEST_CASE("summary_windows_rates_merge", test_windows);
	TEST_CASE("summary_front_caches_exact_and_bounded", test_front_caches);
	TEST_EXIT();
}
