/* SPDX-License-Identifier: Apache-2.0 */
/*
 * uid.h - Zeek-style connection uids ("C" and 96 bits in base 62) that every protocol's
 * records share: a TCP connection's uid depends only on its engine-wide id and its source, so
 * the DNS, TLS and HTTP records of one connection carry the same uid, as Zeek's logs do.
 */
#ifndef PANO_UID_H
#define PANO_UID_H

#include <stdint.h>

#define UID_LEN 24 /* bytes a uid needs, NUL included ("C" + at most 11 + 6 digits) */

/* A 64-bit mixing function (one splitmix64 step): a bijection with full avalanche. */
static inline uint64_t uid_mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* The uid of seed into uid (UID_LEN bytes), NUL-terminated. */
void uid_make(char *uid, uint64_t seed);

/* The seed of a TCP connection's uid: its id (l7_tcp_ctx.conn_id) and its source's id. */
static inline uint64_t uid_tcp_seed(uint64_t conn_id, uint32_t src_id)
{
	return conn_id ^ 0x7463700000000000ull ^ ((uint64_t)src_id << 32);
}

#endif
