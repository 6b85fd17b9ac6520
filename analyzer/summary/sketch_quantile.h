/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sketch_quantile.h - mergeable quantiles with a relative-error guarantee: a DDSketch-style
 * log-bucket histogram (Masson, Rim, Lee, "DDSketch", VLDB 2019).
 *
 * Why this one: the values we summarise (transaction times, message sizes, size ratios,
 * per-second rates) are positive and heavy-tailed, and an operator reads p99 as "about X ms";
 * a relative error on the value is the right promise there, where KLL or t-digest promise a
 * rank error that can still be far off in value at the tail. The buckets are fixed, so merging
 * is exact (merge equals the sketch of the union, bucket for bucket), order never matters,
 * and memory is a constant.
 *
 * Buckets: gamma = (1 + a) / (1 - a) with a = QUANT_ALPHA = 1%; value x lands in bucket
 * i = ceil(log_gamma(x)), covering (gamma^(i-1), gamma^i], represented by
 * 2 gamma^i / (gamma + 1).
 *
 * Error bound: for 0 <= q <= 1 over n values, quant_quantile() returns v with
 * |v - x_r| <= QUANT_ALPHA * x_r, where x_r is the exact value of rank r = floor(q (n-1))
 * (0-based, sorted ascending), for every x_r in [QUANT_MIN, QUANT_MAX]. Values below
 * QUANT_MIN (and zero) are counted in a zero bucket reported as 0; values above QUANT_MAX
 * are clamped to it. min, max, count and sum are exact. Negative values count as zero.
 * Memory: a fixed QUANT_NBUCKETS counters (about 14 KiB); quant_mem_bytes() reports it.
 */
#ifndef PANO_SKETCH_QUANTILE_H
#define PANO_SKETCH_QUANTILE_H

#include <stddef.h>
#include <stdint.h>

#define QUANT_ALPHA 0.01
#define QUANT_MIN   1e-3
#define QUANT_MAX   1e12

struct quant;

struct quant *quant_new(void);
void quant_free(struct quant *q);
void quant_reset(struct quant *q);

void quant_add(struct quant *q, double x);
void quant_add_n(struct quant *q, double x, uint64_t n); /* x, n times */
void quant_add_uint(struct quant *q, uint32_t v);	 /* quant_add(q, v), faster */
void quant_merge(struct quant *dst, const struct quant *src);

/* Value at quantile p in [0, 1] (see the bound above); 0 when empty. */
double quant_quantile(const struct quant *q, double p);
uint64_t quant_count(const struct quant *q);
double quant_sum(const struct quant *q);
double quant_min(const struct quant *q); /* 0 when empty */
double quant_max(const struct quant *q);
size_t quant_mem_bytes(const struct quant *q);

#endif
