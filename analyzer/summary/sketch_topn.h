/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sketch_topn.h - streaming heavy hitters with bounded memory: the Misra-Gries frequent-items
 * summary over byte-string keys (DNS names, addresses) or 64-bit integer keys (qtypes, ports).
 *
 * Algorithm: at most k counters. A known key adds its weight; a new key takes a free counter;
 * when all k are taken, d = min(weight, smallest counter) is subtracted from every counter and
 * from the weight, counters that reach zero are freed, and what is left of the weight is
 * inserted. Each such step removes (k+1)*d of stream mass, so the total subtracted ("offset")
 * is at most N/(k+1) for a stream of total weight N.
 *
 * Guarantees (N = total weight added, including merged-in sketches):
 *   - count(x) <= true(x) <= count(x) + offset, with offset <= N/(k+1)   (counts never over)
 *   - every key with true(x) > N/(k+1) is present (recall 100% above that threshold)
 *   - merging (Agarwal et al., "Mergeable summaries", 2012: add the counters, then subtract the
 *     (k+1)-th largest from all and keep the positive ones) keeps both guarantees with N the
 *     total of both inputs, for any number and order of merges.
 *   - memory: k entries, each at most TOPN_KEY_MAX key bytes, plus a 2k-slot index:
 *     topn_mem_bytes() reports it; it never depends on the number of distinct keys.
 * A sketch that has never needed a purge (offset 0) is exact.
 * Not thread-safe: one writer, readers under the caller's lock.
 */
#ifndef PANO_SKETCH_TOPN_H
#define PANO_SKETCH_TOPN_H

#include <stddef.h>
#include <stdint.h>

#define TOPN_KEY_MAX 255 /* longer keys are cut to this many bytes */

struct topn;

struct topn_item {
	const uint8_t *key; /* valid until the sketch is next changed */
	uint16_t len;
	uint64_t count; /* lower bound of the key's true weight */
	uint64_t upper; /* upper bound: count + offset */
};

/* A sketch with k counters (k >= 1). NULL on allocation failure. */
struct topn *topn_new(unsigned k);
void topn_free(struct topn *t);
/* Forgets every key, keeps the capacity. */
void topn_reset(struct topn *t);

/* Adds weight w (>= 1) for key (len bytes, cut to TOPN_KEY_MAX). -ENOMEM if a key copy could
 * not be allocated (the weight is then counted in the total and the offset), else 0. */
int topn_add(struct topn *t, const void *key, size_t len, uint64_t w);

/* The same with the key's hash already known: h must be sketch_hash(key, min(len,
 * TOPN_KEY_MAX), SKETCH_SEED) (sketch_hash.h), e.g. computed once for a HyperLogLog too. */
int topn_add_hash(struct topn *t, uint64_t h, const void *key, size_t len, uint64_t w);

/* Integer keys are stored as 8 big-endian bytes; topn_item_u64 decodes them. */
int topn_add_u64(struct topn *t, uint64_t v, uint64_t w);
uint64_t topn_item_u64(const struct topn_item *it);

/* Adds src into dst (both keep their own k; dst's k bounds the result). 0 or -ENOMEM. */
int topn_merge(struct topn *dst, const struct topn *src);

/* Up to n items with the largest counts, largest first (ties: shorter, then smaller key).
 * Returns how many were written to out. */
unsigned topn_top(const struct topn *t, struct topn_item *out, unsigned n);

/* Lower-bound count of key (0 if not kept). */
uint64_t topn_count(const struct topn *t, const void *key, size_t len);

uint64_t topn_total(const struct topn *t);  /* N: total weight ever added/merged */
uint64_t topn_offset(const struct topn *t); /* the maximum undercount of any key */
unsigned topn_capacity(const struct topn *t);
unsigned topn_size(const struct topn *t);    /* keys currently kept */
size_t topn_mem_bytes(const struct topn *t); /* bytes held by the sketch right now */

#endif
