// SPDX-License-Identifier: Apache-2.0
/*
 * sketch_quantile.c - the log-bucket quantile sketch (see sketch_quantile.h). The bucket array
 * spans the indices of [QUANT_MIN, QUANT_MAX]; lo/hi remember the used range so that queries
 * and merges only walk buckets that can be non-zero.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sketch_quantile.h"

/* log(gamma) for alpha = 1%, and the bucket indices of QUANT_MIN and QUANT_MAX:
 * ceil(log(1e-3) / log(gamma)) = -345, ceil(log(1e12) / log(gamma)) = 1382. */
#define QUANT_IMIN     (-345)
#define QUANT_IMAX     1382
#define QUANT_NBUCKETS (QUANT_IMAX - QUANT_IMIN + 1)

struct quant {
	uint64_t n, zero;
	double sum, min, max;
	int lo, hi; /* used bucket range (array positions), lo > hi when none */
	uint64_t b[QUANT_NBUCKETS];
};

static double quant_lg(void)
{
	static double lg;

	if (!lg)
		lg = log((1 + QUANT_ALPHA) / (1 - QUANT_ALPHA));
	return lg;
}

struct quant *quant_new(void)
{
	struct quant *q = malloc(sizeof(*q));

	if (q)
		quant_reset(q);
	return q;
}

void quant_free(struct quant *q)
{
	free(q);
}

void quant_reset(struct quant *q)
{
	memset(q, 0, sizeof(*q));
	q->lo = QUANT_NBUCKETS;
	q->hi = -1;
}

/* Bucket (array position) of x in [QUANT_MIN, QUANT_MAX]. */
static int quant_index_calc(double x)
{
	int i = (int)ceil(log(x) / quant_lg()) - QUANT_IMIN;

	if (i < 0)
		i = 0;
	if (i >= QUANT_NBUCKETS)
		i = QUANT_NBUCKETS - 1;
	return i;
}

/* The same, with the buckets of small whole numbers (message sizes, packet counts) computed
 * once, and the last values seen remembered in a small direct-mapped table (size ratios and
 * times repeat): a log() per value is most of what an update costs. Both give exactly what
 * quant_index_calc() gives. */
#define QUANT_SMALL 16384
#define QUANT_MEMO  256
static inline __attribute__((always_inline)) int quant_index(double x)
{
	static int16_t small[QUANT_SMALL]; /* bucket + 1, 0 while not computed */
	static struct {
		double x; /* 0 while unused: never an input here (x >= QUANT_MIN) */
		int i;
	} memo[QUANT_MEMO];
	uint64_t bits;
	unsigned m;

	if (x < QUANT_SMALL && x == (double)(unsigned)x) {
		unsigned u = (unsigned)x;

		if (!small[u])
			small[u] = (int16_t)(quant_index_calc(x) + 1);
		return small[u] - 1;
	}
	memcpy(&bits, &x, sizeof(bits));
	m = (unsigned)(((bits ^ (bits >> 29)) * 0x9e3779b97f4a7c15ULL) >> 56) % QUANT_MEMO;
	if (memo[m].x != x) {
		memo[m].x = x;
		memo[m].i = quant_index_calc(x);
	}
	return memo[m].i;
}

static inline __attribute__((always_inline)) void quant_add_n_in(struct quant *q, double x,
								 uint64_t n)
{
	int i;

	if (!n)
		return;
	if (!(x > 0)) /* negative, zero and NaN */
		x = 0;
	if (x > QUANT_MAX)
		x = QUANT_MAX;
	if (q->n == 0 || x < q->min)
		q->min = x;
	if (q->n == 0 || x > q->max)
		q->max = x;
	q->n += n;
	q->sum += x * (double)n;
	if (x < QUANT_MIN) {
		q->zero += n;
		return;
	}
	i = quant_index(x);
	q->b[i] += n;
	if (i < q->lo)
		q->lo = i;
	if (i > q->hi)
		q->hi = i;
}

/* quant_add() of a whole number (a message size): the same updates, with the bucket of small
 * values straight from the table and none of the checks a double needs. */
void quant_add_uint(struct quant *q, uint32_t v)
{
	double x = v;
	int i;

	if (v == 0 || v >= QUANT_SMALL) {
		quant_add_n(q, x, 1);
		return;
	}
	if (q->n == 0 || x < q->min)
		q->min = x;
	if (q->n == 0 || x > q->max)
		q->max = x;
	q->n++;
	q->sum += x;
	i = quant_index(x);
	q->b[i]++;
	if (i < q->lo)
		q->lo = i;
	if (i > q->hi)
		q->hi = i;
}

void quant_add_n(struct quant *q, double x, uint64_t n)
{
	quant_add_n_in(q, x, n);
}

void quant_add(struct quant *q, double x)
{
	quant_add_n_in(q, x, 1);
}

void quant_merge(struct quant *dst, const struct quant *src)
{
	if (!src->n)
		return;
	if (!dst->n || src->min < dst->min)
		dst->min = src->min;
	if (!dst->n || src->max > dst->max)
		dst->max = src->max;
	dst->n += src->n;
	dst->zero += src->zero;
	dst->sum += src->sum;
	for (int i = src->lo; i <= src->hi; i++)
		dst->b[i] += src->b[i];
	if (src->lo < dst->lo)
		dst->lo = src->lo;
	if (src->hi > dst->hi)
		dst->hi = src->hi;
}

double quant_quantile(const struct quant *q, double p)
{
	uint64_t rank, cum;
	double v = 0, gamma;

	if (!q->n)
		return 0;
	if (p < 0)
		p = 0;
	if (p > 1)
		p = 1;
	rank = (uint64_t)floor(p * (double)(q->n - 1));
	cum = q->zero;
	if (cum > rank)
		return 0;
	gamma = (1 + QUANT_ALPHA) / (1 - QUANT_ALPHA);
	for (int i = q->lo; i <= q->hi; i++) {
		cum += q->b[i];
		if (cum > rank) {
			v = 2 * exp((i + QUANT_IMIN) * quant_lg()) / (gamma + 1);
			break;
		}
	}
	/* The exact extremes bound every quantile; clamping only moves v towards the truth. */
	if (v < q->min)
		v = q->min;
	if (v > q->max)
		v = q->max;
	return v;
}

uint64_t quant_count(const struct quant *q)
{
	return q->n;
}

double quant_sum(const struct quant *q)
{
	return q->sum;
}

double quant_min(const struct quant *q)
{
	return q->n ? q->min : 0;
}

double quant_max(const struct quant *q)
{
	return q->n ? q->max : 0;
}

size_t quant_mem_bytes(const struct quant *q)
{
	return sizeof(*q);
}
