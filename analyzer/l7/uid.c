// SPDX-License-Identifier: Apache-2.0
/*
 * uid.c - Zeek-style uids (see uid.h).
 */
#include "uid.h"

/* "C", then two hashes of seed (64 and 32 bits), each written in base 62 least significant
 * digit first, without leading zeros: at most 1 + 11 + 6 characters. */
void uid_make(char *uid, uint64_t seed)
{
	static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	uint64_t h[2] = {uid_mix64(seed), uid_mix64(seed ^ 0x5bd1e995ull) & 0xffffffffull};
	int n = 0;

	uid[n++] = 'C';
	for (int k = 0; k < 2; k++)
		for (uint64_t v = h[k]; v; v /= 62)
			uid[n++] = b62[v % 62];
	uid[n] = '\0';
}
