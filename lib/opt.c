// SPDX-License-Identifier: Apache-2.0
/* opt.c - option values both programs parse the same way; see opt.h. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "opt.h"

int opt_parse_size(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		return -1;
	int shift = 0;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	}
	if (*end || (shift && v > (ULLONG_MAX >> shift)))
		return -1;
	*out = v << shift;
	return 0;
}

int opt_parse_ports(const char *s, uint16_t *ports, int max)
{
	int n = 0;

	while (*s) {
		char *end;
		errno = 0;
		long v = strtol(s, &end, 10);
		if (errno || end == s || *s == '-' || *s == '+' || *s == ' ' || v < 1 ||
		    v > 65535 || (*end && *end != ','))
			return -1;
		int seen = 0;
		for (int i = 0; i < n; i++)
			seen |= ports[i] == v;
		if (!seen) {
			if (n == max)
				return -1;
			ports[n++] = (uint16_t)v;
		}
		s = *end ? end + 1 : end;
		if (end[0] == ',' && !*s)
			return -1; /* a trailing comma */
	}
	return n ? n : -1;
}
