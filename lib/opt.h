/* SPDX-License-Identifier: Apache-2.0 */
/* opt.h - parsers of option values both programs share (byte counts: --ring-size 8M,
 * --tcp-max-buffer 64M). */
#ifndef PANO_OPT_H
#define PANO_OPT_H

#include <stdint.h>

/* A byte count with an optional k/M/G suffix (powers of 1024). 0, or -1 for garbage or
 * overflow. */
int opt_parse_size(const char *s, uint64_t *out);

#endif
