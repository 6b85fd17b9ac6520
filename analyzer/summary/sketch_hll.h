/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sketch_hll.h - HyperLogLog distinct counting (unique qnames, clients, servers) in fixed
 * memory: 2^p one-byte registers, fed by a 64-bit hash (sketch_hash.h).
 *
 * Estimator: Ertl's improved raw estimator ("New cardinality estimation algorithms for
 * HyperLogLog sketches", 2017), which folds the register histogram through the sigma and tau
 * series. It is unbiased from 0 to far beyond 2^50 without the empirical bias tables of
 * HyperLogLog++ or a switch to linear counting for small ranges (its sigma term is what linear
 * counting approximates when many registers are still zero).
 *
 * Error bound: relative standard error about 1.04/sqrt(2^p). The default HLL_P_DEFAULT = 16
 * gives 0.41% (64 KiB per sketch), so the < 2% target is about five standard errors away;
 * p = 14 would give 0.81% in 16 KiB. Counts below a few hundred are nearly exact.
 * Merging (register-wise max) is exact: merge(A, B) equals the sketch of the union.
 * Not thread-safe: one writer, readers under the caller's lock.
 */
#ifndef PANO_SKETCH_HLL_H
#define PANO_SKETCH_HLL_H

#include <stddef.h>
#include <stdint.h>

#define HLL_P_MIN     4
#define HLL_P_MAX     18
#define HLL_P_DEFAULT 16

struct hll;

/* A sketch with 2^p registers (p clamped to [HLL_P_MIN, HLL_P_MAX]). NULL on failure. */
struct hll *hll_new(unsigned p);
void hll_free(struct hll *h);
void hll_reset(struct hll *h);

void hll_add_hash(struct hll *h, uint64_t hash); /* hash must be uniform 64-bit */
void hll_add(struct hll *h, const void *key, size_t len);

/* dst |= src (register-wise max). -EINVAL if their precisions differ, else 0. */
int hll_merge(struct hll *dst, const struct hll *src);

double hll_estimate(const struct hll *h);
unsigned hll_precision(const struct hll *h);
size_t hll_mem_bytes(const struct hll *h);

#endif
