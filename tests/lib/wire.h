/* SPDX-License-Identifier: Apache-2.0 */
/* wire.h - writing big-endian (network order) fields into crafted frames, for tests. */
#ifndef PANO_TEST_WIRE_H
#define PANO_TEST_WIRE_H

#include <stdint.h>

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

#endif
