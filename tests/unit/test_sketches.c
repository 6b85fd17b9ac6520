// SPDX-License-Identifier: Apache-2.0
/*
 * test_sketches.c - the summary sketches against exact answers on generated streams: top-N
 * (Misra-Gries) counts and recall on Zipf-distributed names, HyperLogLog error at cardinalities
 * up to millions, quantile relative error on skewed distributions, merges against the sketch
 * of the union, and structure sizes on a stream of 10 million unique names. Every stream comes
 * from a seeded generator, so a run is reproducible; every expected value is computed here
 * exactly, never written down.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sketch_hll.h"
#include "sketch_quantile.h"
#include "sketch_topn.h"

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double rng_unit(void) /* (0, 1) */
{
	return ((rng_next() >> 11) + 0.5) / 9007199254740992.0;
}

/* Zipf(s) over 0..u-1 by inverse CDF. */
struct zipf {
	double *cdf;
	unsigned u;
};

static void zipf_init(struct zipf *z, unsigned u, double s)
{
	double sum = 0;

	z->u = u;
	z->cdf = malloc(u * sizeof(double));
	for (unsigned i = 0; i < u; i++) {
		sum += 1 / pow(i + 1, s);
		z->cdf[i] = sum;
	}
	for (unsigned i = 0; i < u; i++)
		z->cdf[i] /= sum;
}

static unsigned zipf_next(const struct zipf *z)
{
	double x = rng_unit();
	unsigned lo = 0, hi = z->u - 1;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if (z->cdf[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int name_of(unsigned i, char *buf)
{
	return sprintf(buf, "host%u.zone%u.example.com", i, i % 97);
}

/* Checks every guarantee of sketch_topn.h for a sketch t of a stream with exact counts
 * exact[0..u-1] over names name_of(i). */
static void topn_check_bounds(const struct topn *t, const uint64_t *exact, unsigned u)
{
	uint64_t n = 0, off = topn_offset(t), missed = 0, bad = 0, heavy = 0;
	unsigned k = topn_capacity(t);
	char buf[64];

	for (unsigned i = 0; i < u; i++)
		n += exact[i];
	CHECK_EQ_INT(topn_total(t), n);
	CHECK(off <= n / (k + 1));
	for (unsigned i = 0; i < u; i++) {
		int len = name_of(i, buf);
		uint64_t c = topn_count(t, buf, len);

		if (c > exact[i] || exact[i] > c + off)
			bad++;
		if (exact[i] > n / (k + 1)) {
			heavy++;
			if (!c)
				missed++;
		}
	}
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(missed, 0);
	CHECK(heavy > 0); /* the threshold must mean something on this stream */
}

#define ZIPF_U 200000
#define ZIPF_N 2000000

static void test_topn_zipf(void)
{
	struct zipf z;
	uint64_t *exact = calloc(ZIPF_U, sizeof(uint64_t));
	struct topn *t = topn_new(256);
	struct topn_item top[10];
	unsigned best = 0;
	char buf[64];

	rng_state = 1;
	zipf_init(&z, ZIPF_U, 1.1);
	for (unsigned i = 0; i < ZIPF_N; i++) {
		unsigned v = zipf_next(&z);

		exact[v]++;
		CHECK_EQ_INT(topn_add(t, buf, name_of(v, buf), 1), 0);
	}
	topn_check_bounds(t, exact, ZIPF_U);
	CHECK(topn_offset(t) > 0); /* the stream did force purges */
	/* The heaviest key is first and its count is within the bound. */
	for (unsigned i = 1; i < ZIPF_U; i++)
		if (exact[i] > exact[best])
			best = i;
	CHECK_EQ_INT(topn_top(t, top, 10), 10);
	name_of(best, buf);
	CHECK(top[0].len == strlen(buf) && !memcmp(top[0].key, buf, top[0].len));
	for (unsigned i = 1; i < 10; i++)
		CHECK(top[i - 1].count >= top[i].count);
	CHECK(topn_size(t) <= 256);
	topn_free(t);
	free(z.cdf);
	free(exact);
}

/* Fewer distinct keys than counters: never purged, so exact (integer keys). */
static void test_topn_exact_small(void)
{
	struct topn *t = topn_new(64);
	uint64_t exact[40] = {0};
	struct topn_item top[64];
	unsigned m;

	rng_state = 2;
	for (unsigned i = 0; i < 100000; i++) {
		unsigned v = (unsigned)(rng_next() % 40);

		exact[v]++;
		topn_add_u64(t, 1000 + v, 1);
	}
	CHECK_EQ_INT(topn_offset(t), 0);
	m = topn_top(t, top, 64);
	CHECK_EQ_INT(m, 40);
	for (unsigned i = 0; i < m; i++) {
		uint64_t v = topn_item_u64(&top[i]);

		CHECK(v >= 1000 && v < 1040);
		if (v >= 1000 && v < 1040)
			CHECK_EQ_INT(top[i].count, exact[v - 1000]);
	}
	topn_free(t);
}

/* Five windows merged in turn keep the bounds with N = the whole stream. */
static void test_topn_merge(void)
{
	struct zipf z;
	uint64_t *exact = calloc(ZIPF_U, sizeof(uint64_t));
	struct topn *w[5], *all = topn_new(256);
	char buf[64];

	rng_state = 3;
	zipf_init(&z, ZIPF_U, 1.0);
	for (int j = 0; j < 5; j++) {
		w[j] = topn_new(256);
		/* windows of different sizes and skews of the same key space */
		for (unsigned i = 0; i < 200000u * (j + 1); i++) {
			unsigned v = (zipf_next(&z) + 7919u * j) % ZIPF_U;

			exact[v]++;
			topn_add(w[j], buf, name_of(v, buf), 1);
		}
		CHECK_EQ_INT(topn_merge(all, w[j]), 0);
	}
	topn_check_bounds(all, exact, ZIPF_U);
	for (int j = 0; j < 5; j++)
		topn_free(w[j]);
	topn_free(all);
	free(z.cdf);
	free(exact);
}

static double rel_err(double est, double truth)
{
	return truth ? fabs(est - truth) / truth : fabs(est);
}

static void test_hll_error(void)
{
	static const unsigned card[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 5000000};
	struct hll *h = hll_new(HLL_P_DEFAULT);
	char buf[64];

	CHECK(hll_estimate(h) == 0);
	for (unsigned c = 0; c < sizeof(card) / sizeof(card[0]); c++) {
		double est, e;

		hll_reset(h);
		/* each element twice, to show duplicates do not count */
		for (unsigned r = 0; r < 2; r++)
			for (unsigned i = 0; i < card[c]; i++)
				hll_add(h, buf, sprintf(buf, "%u.c%u.example", i, card[c]));
		est = hll_estimate(h);
		e = rel_err(est, card[c]);
		printf("  hll n=%u estimate %.1f error %.3f%%\n", card[c], est, 100 * e);
		CHECK(e < 0.02);
	}
	hll_free(h);
}

static void test_hll_merge(void)
{
	struct hll *a = hll_new(HLL_P_DEFAULT), *b = hll_new(HLL_P_DEFAULT);
	struct hll *u = hll_new(HLL_P_DEFAULT), *small = hll_new(12);
	char buf[32];

	for (unsigned i = 0; i < 600000; i++) {
		int n = sprintf(buf, "k%u", i);

		hll_add(a, buf, n);
		hll_add(u, buf, n);
	}
	for (unsigned i = 400000; i < 1000000; i++) {
		int n = sprintf(buf, "k%u", i);

		hll_add(b, buf, n);
		hll_add(u, buf, n);
	}
	CHECK_EQ_INT(hll_merge(a, b), 0);
	CHECK(hll_estimate(a) == hll_estimate(u)); /* same registers: the same number */
	CHECK(rel_err(hll_estimate(a), 1000000) < 0.02);
	CHECK(hll_merge(a, small) < 0);
	hll_free(a);
	hll_free(b);
	hll_free(u);
	hll_free(small);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#define QN 300000

/* Every quantile of q within QUANT_ALPHA (relative) of the exact value of rank floor(p(n-1)). */
static void quant_check(const struct quant *q, double *v, size_t n)
{
	static const double ps[] = {0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1};

	qsort(v, n, sizeof(*v), cmp_double);
	CHECK_EQ_INT(quant_count(q), n);
	CHECK(quant_min(q) == v[0]);
	CHECK(quant_max(q) == v[n - 1]);
	for (unsigned i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
		double x = v[(size_t)floor(ps[i] * (n - 1))], est = quant_quantile(q, ps[i]);

		if (fabs(est - x) > QUANT_ALPHA * x * (1 + 1e-9)) {
			printf("  p%g: estimate %g exact %g\n", ps[i] * 100, est, x);
			CHECK(0);
		}
	}
}

static void test_quant_error(void)
{
	double *v = malloc(QN * sizeof(double));
	struct quant *q = quant_new();

	for (int dist = 0; dist < 3; dist++) {
		rng_state = 10 + dist;
		quant_reset(q);
		for (size_t i = 0; i < QN; i++) {
			double u = rng_unit();

			if (dist == 0) /* lognormal-ish transaction times in microseconds */
				v[i] = exp(6 +
					   1.5 * sqrt(-2 * log(u)) * cos(6.283185307 * rng_unit()));
			else if (dist == 1) /* Pareto tail, like amplification ratios */
				v[i] = 1 / pow(u, 1 / 1.2);
			else /* integer sizes 12..1500 */
				v[i] = 12 + (double)(rng_next() % 1489);
			quant_add(q, v[i]);
		}
		quant_check(q, v, QN);
	}
	free(v);
	quant_free(q);
}

static void test_quant_merge(void)
{
	double *v = malloc(QN * sizeof(double));
	struct quant *part[3], *m = quant_new(), *u = quant_new();

	rng_state = 20;
	for (int j = 0; j < 3; j++)
		part[j] = quant_new();
	for (size_t i = 0; i < QN; i++) {
		v[i] = exp(10 * rng_unit()) * (i % 3 + 1);
		quant_add(part[i % 3], v[i]);
		quant_add(u, v[i]);
	}
	for (int j = 0; j < 3; j++)
		quant_merge(m, part[j]);
	for (double p = 0; p <= 1; p += 0.05)
		CHECK(quant_quantile(m, p) == quant_quantile(u, p));
	quant_check(m, v, QN);
	for (int j = 0; j < 3; j++)
		quant_free(part[j]);
	quant_free(m);
	quant_free(u);
	free(v);
}

/* quant_add_uint() is quant_add() of the same whole number, to the bit; repeated values
 * (remembered buckets) too. */
static void test_quant_uint(void)
{
	struct quant *a = quant_new(), *b = quant_new();
	int same = 1;

	rng_state = 30;
	for (size_t i = 0; i < QN; i++) {
		uint32_t v =
		    i % 7 == 0 ? (uint32_t)(rng_unit() * 100000) : (uint32_t)(rng_unit() * 600);

		quant_add(a, v);
		quant_add_uint(b, v);
		quant_add(a, v / 7.0); /* values that are not whole numbers, through the memo */
		quant_add(b, v / 7.0);
	}
	for (double p = 0; p <= 1; p += 0.01)
		same &= quant_quantile(a, p) == quant_quantile(b, p);
	CHECK(same);
	CHECK(quant_count(a) == quant_count(b) && quant_sum(a) == quant_sum(b));
	CHECK(quant_min(a) == quant_min(b) && quant_max(a) == quant_max(b));
	quant_free(a);
	quant_free(b);
}

/* 10 million distinct names: the structures keep a size fixed by their parameters. */
static void test_memory_bounded(void)
{
	struct topn *t = topn_new(512);
	struct hll *h = hll_new(HLL_P_DEFAULT);
	struct quant *q = quant_new();
	size_t t_max = 0, t_bound, h0 = hll_mem_bytes(h), q0 = quant_mem_bytes(q);
	char buf[64];

	/* The documented bound: fixed parts plus k keys of at most TOPN_KEY_MAX bytes. */
	t_bound = topn_mem_bytes(t) + 512 * (size_t)TOPN_KEY_MAX;
	for (unsigned i = 0; i < 10000000; i++) {
		int n = sprintf(buf, "u%08u.unique-%u.example.net", i, i % 1013);

		topn_add(t, buf, n, 1);
		hll_add(h, buf, n);
		quant_add(q, n);
		if (i % 100000 == 0 && topn_mem_bytes(t) > t_max)
			t_max = topn_mem_bytes(t);
	}
	printf("  10M unique names: topn(k=512) <= %zu bytes, hll %zu bytes (estimate %.0f), "
	       "quantile %zu bytes\n",
	       t_max, hll_mem_bytes(h), hll_estimate(h), quant_mem_bytes(q));
	CHECK(t_max <= t_bound);
	CHECK(topn_size(t) <= 512);
	CHECK_EQ_INT(hll_mem_bytes(h), h0);
	CHECK_EQ_INT(quant_mem_bytes(q), q0);
	CHECK(rel_err(hll_estimate(h), 10000000) < 0.02);
	CHECK(topn_offset(t) <= 10000000 / 513);
	topn_free(t);
	hll_free(h);
	quant_free(q);
}

int main(void)
{
	TEST_CASE("topn_zipf_recall_and_bounds", test_topn_zipf);
	TEST_CASE("topn_exact_below_capacity", test_topn_exact_small);
	TEST_CASE("topn_merge_bounds", test_topn_merge);
	TEST_CASE("hll_error_under_2pct", test_hll_error);
	TEST_CASE("hll_merge_equals_union", test_hll_merge);
	TEST_CASE("quantile_relative_error", test_quant_error);
	TEST_CASE("quantile_merge_equals_union", test_quant_merge);
	TEST_CASE("quantile_add_uint_same_as_add", test_quant_uint);
	TEST_CASE("sketch_memory_bounded_10M_unique", test_memory_bounded);
	TEST_EXIT();
}
