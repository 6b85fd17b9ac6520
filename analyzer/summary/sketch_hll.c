// SPDX-License-Identifier: Apache-2.0
/*
 * sketch_hll.c - HyperLogLog with Ertl's improved estimator (see sketch_hll.h). A register
 * holds the position of the first 1 bit in the hash bits below the p index bits (1..q+1,
 * q = 64 - p; q+1 when all q bits are zero); the estimator only needs how many registers hold
 * each value.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sketch_hash.h"
#include "sketch_hll.h"

struct hll {
	unsigned p;
	uint32_t m;
	uint8_t reg[];
};

struct hll *hll_new(unsigned p)
{
	struct hll *h;

	if (p < HLL_P_MIN)
		p = HLL_P_MIN;
	if (p > HLL_P_MAX)
		p = HLL_P_MAX;
	h = calloc(1, sizeof(*h) + ((size_t)1 << p));
	if (!h)
		return NULL;
	h->p = p;
	h->m = 1u << p;
	return h;
}

void hll_free(struct hll *h)
{
	free(h);
}

void hll_reset(struct hll *h)
{
	memset(h->reg, 0, h->m);
}

void hll_add_hash(struct hll *h, uint64_t hash)
{
	uint32_t idx = (uint32_t)(hash >> (64 - h->p));
	uint64_t w = hash << h->p;
	uint8_t r = w ? (uint8_t)(__builtin_clzll(w) + 1) : (uint8_t)(64 - h->p + 1);

	if (r > h->reg[idx])
		h->reg[idx] = r;
}

void hll_add(struct hll *h, const void *key, size_t len)
{
	hll_add_hash(h, sketch_hash(key, len, SKETCH_SEED));
}

int hll_merge(struct hll *dst, const struct hll *src)
{
	if (dst->p != src->p)
		return -EINVAL;
	for (uint32_t i = 0; i < dst->m; i++)
		if (src->reg[i] > dst->reg[i])
			dst->reg[i] = src->reg[i];
	return 0;
}

/* sigma(x) = x + sum_{k>=1} x^(2^k) 2^(k-1), for the share x of registers still zero. */
static double hll_sigma(double x)
{
	double y = 1, z = x, zp;

	if (x >= 1)
		return INFINITY;
	do {
		x *= x;
		zp = z;
		z += x * y;
		y += y;
	} while (z != zp);
	return z;
}

/* tau(x) = (1 - x - sum_{k>=1} (1 - x^(2^-k))^2 2^-k) / 3, for the share x of registers not
 * saturated at q+1. */
static double hll_tau(double x)
{
	double y = 1, z, zp;

	if (x <= 0 || x >= 1)
		return 0;
	z = 1 - x;
	do {
		x = sqrt(x);
		zp = z;
		y *= 0.5;
		z -= (1 - x) * (1 - x) * y;
	} while (z != zp);
	return z / 3;
}

double hll_estimate(const struct hll *h)
{
	unsigned q = 64 - h->p;
	uint32_t c[66] = {0};
	double m = h->m, z;

	for (uint32_t i = 0; i < h->m; i++)
		c[h->reg[i]]++;
	if (c[0] == h->m)
		return 0;
	z = m * hll_tau(1 - c[q + 1] / m);
	for (unsigned k = q; k >= 1; k--)
		z = 0.5 * (z + c[k]);
	z += m * hll_sigma(c[0] / m);
	return (0.5 / M_LN2) * m * m / z;
}

unsigned hll_precision(const struct hll *h)
{
	return h->p;
}

size_t hll_mem_bytes(const struct hll *h)
{
	return sizeof(*h) + h->m;
}
