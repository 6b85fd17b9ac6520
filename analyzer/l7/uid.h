/* SPDX-License-Identifier: Apache-2.0 */
/*
 * uid.h - Zeek-style connection uids ("C" and 96 bits in base 62) that every protocol's
 * records share: a TCP connection's uid depends only on the engine's uid key, its engine-wide
 * id and its source, so the DNS, TLS and HTTP records of one connection carry the same uid, as
 * Zeek's logs do. The key (engine_config.uid_seed, pano-analyzer --uid-seed; random unless
 * seeded) keeps two runs, or two engines, from giving one uid to different connections.
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

/* The engine's uid key from --uid-seed N: N mixed, so that nearby seeds share no uids. */
static inline uint64_t uid_key_of_seed(uint64_t n)
{
	return uid_mix64(n ^ 0x7569642d6b657900ull);
}

/* The seed of a UDP conversation's uid: the engine's uid key and the conversation's number (a
 * count kept by the protocol, from 1: every new conversation on a 5-tuple gets its own). */
static inline uint64_t uid_udp_seed(uint64_t key, uint64_t n)
{
	return key ^ n;
}

/* The seed of a TCP connection's uid: the engine's uid key (l7_tcp_ctx.uid_key), the
 * connection's id (l7_tcp_ctx.conn_id) and its source's id. The constant keeps it apart from
 * the UDP seeds of the same key (counts and ids far below 2^44, source ids small). */
static inline uint64_t uid_tcp_seed(uint64_t key, uint64_t conn_id, uint32_t src_id)
{
	return key ^ conn_id ^ 0x7463700000000000ull ^ ((uint64_t)src_id << 32);
}

#endif
