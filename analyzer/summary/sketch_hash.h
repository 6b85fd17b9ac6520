/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sketch_hash.h - the 64-bit hash the sketches share (top-N index, HyperLogLog). Bytes are
 * folded eight at a time with a multiply-xorshift step and the result goes through the
 * fmix64 finaliser, so every output bit depends on every input bit; HyperLogLog needs the
 * high bits and the low bits to look independent and uniform.
 */
#ifndef PANO_SKETCH_HASH_H
#define PANO_SKETCH_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The one seed every sketch hashes with, so that a key hashed once can feed a top-N sketch and
 * a HyperLogLog alike (topn_add_hash, hll_add_hash). */
#define SKETCH_SEED 0x686c6c5f736b6574ULL

/* The 64-bit finaliser of MurmurHash3: a bijection with full avalanche. */
static inline uint64_t sketch_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* Hash of len bytes at p (any alignment), seeded. */
static inline uint64_t sketch_hash(const void *p, size_t len, uint64_t seed)
{
	const uint8_t *b = p;
	uint64_t h = seed ^ (len * 0x9e3779b97f4a7c15ULL);
	uint64_t w;

	while (len >= 8) {
		memcpy(&w, b, 8);
		h = (h ^ sketch_mix64(w)) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
		b += 8;
		len -= 8;
	}
	w = 0;
	memcpy(&w, b, len);
	h = (h ^ sketch_mix64(w ^ ((uint64_t)len << 56))) * 0x9e3779b97f4a7c15ULL;
	return sketch_mix64(h);
}

#endif
