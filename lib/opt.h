/* SPDX-License-Identifier: Apache-2.0 */
/* opt.h - parsers of option values both programs share (byte counts: --ring-size 8M,
 * --tcp-max-buffer 64M; port lists: --ports 53,5353). */
#ifndef PANO_OPT_H
#define PANO_OPT_H

#include <stdint.h>

/* A byte count with an optional k/M/G suffix (powers of 1024). 0, or -1 for garbage or
 * overflow. */
int opt_parse_size(const char *s, uint64_t *out);
/* A port list, "53,5353": each 1..65535, a repeat kept once, at most max. The count, or -1
 * for garbage (an empty list or element too) or more than max ports. */
int opt_parse_ports(const char *s, uint16_t *ports, int max);

#endif
