// SPDX-License-Identifier: Apache-2.0
/*
 * test_summary.c - the summary module without a capture: pktvisor's qname2/qname3 rule,
 * host-spec parsing and matching, and windows rotating on packet time (counts per window,
 * the merged view, the per-second rates including empty seconds), and two engines each
 * feeding its own summary object from real DNS frames without sharing a count.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "decode.h"
#include "engine.h"
#include "httpd.h"
#include "l7.h"
#include "pano/pcap.h"
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
	struct wbuf b = WBUF_INIT(HTTPD_BODY_MAX);
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
	CHECK_EQ_INT(summary_json(sum, 0, &b, false), 200);
	CHECK_EQ_INT(json_num(b.p, "\"packets\"", "total"), 2);
	wbuf_reset(&b);
	CHECK_EQ_INT(summary_json(sum, 1, &b, false), 200);
	CHECK_EQ_INT(json_num(b.p, "\"packets\"", "total"), 6);
	/* the rates of window A: seconds 0..3 = 5, 0, 0, 1 -> p50 is 0, max 5, count 4 */
	CHECK_EQ_INT(json_num(b.p, "\"rate\"", "count"), 4);
	CHECK_EQ_INT(json_num(b.p, "\"rate\"", "max"), 5);
	CHECK_EQ_INT(json_num(b.p, "\"rate\"", "p50"), 0);
	wbuf_reset(&b);
	CHECK_EQ_INT(summary_json(sum, 2, &b, false), 404);
	wbuf_reset(&b);
	CHECK_EQ_INT(summary_json(sum, -1, &b, false), 200);
	CHECK_EQ_INT(json_num(b.p, "\"packets\"", "total"), 8);
	CHECK_EQ_INT(json_num(b.p, "\"dns\"", "queries"), 8);
	CHECK_EQ_INT(json_num(b.p, "\"windows\"", "windows") >= 0 ? 1 : 0, 1);
	CHECK(strstr(b.p, "{\"name\":\".example.com\",\"estimate\":6"));
	CHECK_EQ_INT(json_num(b.p, "\"cardinality\"", "qname"), 3);
	/* two more windows push window A out of the three kept */
	feed(sum, t0 + 20 * s, "d.example.net");
	feed(sum, t0 + 30 * s, "d.example.net");
	wbuf_reset(&b);
	CHECK_EQ_INT(summary_json(sum, -1, &b, false), 200);
	CHECK_EQ_INT(json_num(b.p, "\"packets\"", "total"), 4);
	wbuf_free(&b);
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
	struct wbuf b = WBUF_INIT(HTTPD_BODY_MAX);
	const uint64_t t0 = 1700000000ull * 1000000000ull;
	const unsigned nnames = 6000;
	char name[64];
	long long est, up;
	uint64_t ts = t0;

	summary_config_default(&cfg);
	cfg.topn_k = 8192;
	sum = summary_new(&cfg);
	CHECK(sum != NULL);
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
			wbuf_reset(&b);
		}
	}
	CHECK_EQ_INT(summary_json(sum, 0, &b, false), 200);
	top_item(b.p, "\"top_qname\"", "n4.zone4.example", &est, &up);
	CHECK_EQ_INT(est, 5);
	CHECK_EQ_INT(up, 5);
	/* zone z gets names j = z mod 40: sum of (j % 5) + 1 over them, the same for every
	 * zone with the same z % 5; zone 4 (j % 5 == 4) is among the largest: 150 names x 5 */
	top_item(b.p, "\"top_qname2\"", ".zone4.example", &est, &up);
	CHECK_EQ_INT(est, 750);
	CHECK_EQ_INT(up, 750);
	{
		long long card = json_num(b.p, "\"cardinality\"", "qname");

		CHECK(card > nnames * 0.98 && card < nnames * 1.02);
	}
	wbuf_free(&b);
	summary_free(sum);

	/* default k = 512: 20,000 names once each around one name asked 1,000 times */
	summary_config_default(&cfg);
	sum = summary_new(&cfg);
	CHECK(sum != NULL);
	for (unsigned j = 0; j < 20000; j++) {
		snprintf(name, sizeof(name), "u%u.example", j);
		feed_from(sum, ts++, name, j);
		if (j % 20 == 0)
			feed_from(sum, ts++, "heavy.example", 1);
	}
	CHECK_EQ_INT(summary_json(sum, 0, &b, false), 200);
	top_item(b.p, "\"top_qname\"", "heavy.example", &est, &up);
	CHECK(est >= 0 && est <= 1000 && up >= 1000);
	CHECK(up - est <= 21000 / 513);
	wbuf_free(&b);
	summary_free(sum);
}

/* An engine with the DNS protocol (its configuration in *cfg, the caller frees it) feeding
 * summary object sum; no sinks. */
static struct pano_engine *dns_engine(struct summary *sum, void **cfg)
{
	const void *cfgs[L7_MAX] = {NULL};
	struct engine_config ec;

	*cfg = NULL;
	for (unsigned i = 0; i < l7_nall; i++) {
		if (strcmp(l7_all[i]->name, "dns"))
			continue;
		if (!(*cfg = calloc(1, l7_all[i]->cfg_size)))
			return NULL;
		l7_all[i]->cfg_default(*cfg);
		cfgs[i] = *cfg;
	}
	engine_config_default(&ec);
	ec.l7_cfgs = cfgs;
	ec.sum = sum;
	return *cfg ? engine_new(&ec) : NULL;
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* An Ethernet/IPv4/UDP frame into f: a DNS query (id, name, type A) from 198.18.0.10:cport to
 * 198.18.0.53:53, or its reply (NOERROR, no answers) the other way. Returns its length. */
static uint32_t dns_frame(uint8_t *f, bool reply, unsigned id, unsigned cport, const char *name)
{
	static const uint8_t cl[4] = {198, 18, 0, 10}, sv[4] = {198, 18, 0, 53};
	uint8_t *ip = f + 14, *udp = ip + 20, *dns = udp + 8;
	uint32_t n = 12, sum = 0;

	memset(f, 0, 14 + 20 + 8 + 12);
	put16(f + 12, 0x0800);
	put16(dns, id);
	put16(dns + 2, reply ? 0x8180 : 0x0100);
	put16(dns + 4, 1); /* one question */
	for (const char *p = name; *p;) {
		size_t l = strcspn(p, ".");

		dns[n++] = (uint8_t)l;
		memcpy(dns + n, p, l);
		n += (uint32_t)l;
		p += l + (p[l] == '.');
	}
	dns[n++] = 0;
	put16(dns + n, 1);     /* A */
	put16(dns + n + 2, 1); /* IN */
	n += 4;
	put16(udp, reply ? 53 : cport);
	put16(udp + 2, reply ? cport : 53);
	put16(udp + 4, 8 + n); /* checksum 0: none */
	ip[0] = 0x45;
	put16(ip + 2, 20 + 8 + n);
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	memcpy(ip + 12, reply ? sv : cl, 4);
	memcpy(ip + 16, reply ? cl : sv, 4);
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)ip[i] << 8 | ip[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16(ip + 10, ~sum & 0xffff);
	return 14 + 20 + 8 + n;
}

/* A query for name and its reply 1 ms later, through eng's decoder. */
static void dns_exchange(struct pano_engine *eng, uint64_t ts, unsigned id, unsigned cport,
			 const char *name)
{
	uint8_t buf[256];

	for (int reply = 0; reply < 2; reply++) {
		struct pano_frame f = {.ts_ns = ts + (uint64_t)reply * 1000000,
				       .data = buf,
				       .linktype = PCAP_LINKTYPE_ETHERNET,
				       .meta = {.dir = -1}};

		f.caplen = f.len = dns_frame(buf, reply, id, cport, name);
		decode_frame(eng, &f);
	}
}

/*
 * Two engines, each with its own summary object, decode different DNS traffic side by side:
 * each object counts its own engine's packets, messages and transactions (the decoder's hook
 * and the out stage's records) and none of the other's.
 */
static void test_two_engines(void)
{
	const uint64_t t0 = 1700000000ull * 1000000000ull;
	struct summary_config cfg;
	struct summary *sa, *sb;
	struct pano_engine *ea = NULL, *eb = NULL;
	void *ca = NULL, *cb = NULL;
	struct wbuf b = WBUF_INIT(HTTPD_BODY_MAX);
	long long est, up;

	summary_config_default(&cfg);
	sa = summary_new(&cfg);
	sb = summary_new(&cfg);
	CHECK(sa != NULL && sb != NULL && sa != sb);
	if (sa && sb) {
		ea = dns_engine(sa, &ca);
		eb = dns_engine(sb, &cb);
	}
	CHECK(ea != NULL && eb != NULL);
	if (!ea || !eb)
		goto out;
	for (unsigned i = 0; i < 3; i++) /* interleaved: a, b, a, a */
		dns_exchange(ea, t0 + i * 10000000ull, 100 + i, 40000 + i, "a.example");
	dns_exchange(eb, t0 + 5000000, 200, 41000, "b.example");
	decode_finish(ea);
	decode_finish(eb);
	summary_finish(sa);
	summary_finish(sb);
	CHECK_EQ_INT(summary_json(sa, -1, &b, false), 200);
	CHECK_EQ_INT(json_num(b.p, "\"packets\"", "total"), 6);
	CHECK_EQ_INT(json_num(b.p, "\"dns\"", "queries"), 3);
	CHECK_EQ_INT(json_num(b.p, "\"dns\"", "replies"), 3);
	CHECK_EQ_INT(json_num(b.p, "\"xact\"", "total"), 3);
	top_item(b.p, "\"top_qname\"", "a.example", &est, &up);
	CHECK_EQ_INT(est, 6); /* queries and replies alike */
	top_item(b.p, "\"top_qname\"", "b.example", &est, &up);
	CHECK_EQ_INT(est, -1);
	wbuf_reset(&b);
	CHECK_EQ_INT(summary_json(sb, -1, &b, false), 200);
	CHECK_EQ_INT(json_num(b.p, "\"packets\"", "total"), 2);
	CHECK_EQ_INT(json_num(b.p, "\"dns\"", "queries"), 1);
	CHECK_EQ_INT(json_num(b.p, "\"xact\"", "total"), 1);
	top_item(b.p, "\"top_qname\"", "b.example", &est, &up);
	CHECK_EQ_INT(est, 2);
	top_item(b.p, "\"top_qname\"", "a.example", &est, &up);
	CHECK_EQ_INT(est, -1);
	wbuf_free(&b);
out:
	engine_free(ea);
	engine_free(eb);
	free(ca);
	free(cb);
	summary_free(sa);
	summary_free(sb);
}

int main(void)
{
	TEST_CASE("summary_qname2_qname3", test_qname_suffix);
	TEST_CASE("summary_host_spec", test_host_spec);
	TEST_CASE("summary_windows_rates_merge", test_windows);
	TEST_CASE("summary_front_caches_exact_and_bounded", test_front_caches);
	TEST_CASE("summary_two_engines_two_objects", test_two_engines);
	TEST_EXIT();
}
