// SPDX-License-Identifier: Apache-2.0
/*
 * packet.c - small helpers on the types of packet.h: address text. Records format two
 * addresses per transaction, so the formatters are written out by hand (inet_ntop goes through
 * sprintf); their output is exactly inet_ntop's (RFC 5952 text, IPv4-mapped and -compatible
 * IPv6 addresses with a dotted tail, as glibc writes them).
 */
#include <stdio.h>
#include <string.h>

#include "packet.h"

static char *addr_put_dec(char *p, unsigned v)
{
	if (v >= 100) {
		*p++ = (char)('0' + v / 100);
		v %= 100;
		*p++ = (char)('0' + v / 10);
	} else if (v >= 10) {
		*p++ = (char)('0' + v / 10);
	}
	*p++ = (char)('0' + v % 10);
	return p;
}

static char *addr_put_ip4(char *p, const uint8_t *a)
{
	for (int i = 0; i < 4; i++) {
		if (i)
			*p++ = '.';
		p = addr_put_dec(p, a[i]);
	}
	return p;
}

size_t pano_ip4_text(const uint8_t *a, char *out)
{
	char *e = addr_put_ip4(out, a);
	*e = '\0';
	return (size_t)(e - out);
}

size_t pano_ip6_text(const uint8_t *a, char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned w[8];
	int best = -1, best_len = 0, cur = -1, cur_len = 0;
	char *p = out;

	for (int i = 0; i < 8; i++) {
		w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
		if (!w[i]) {
			if (cur < 0)
				cur = i, cur_len = 0;
			if (++cur_len > best_len)
				best = cur, best_len = cur_len;
		} else {
			cur = -1;
		}
	}
	if (best_len < 2)
		best = -1;
	for (int i = 0; i < 8; i++) {
		if (best >= 0 && i >= best && i < best + best_len) {
			if (i == best)
				*p++ = ':';
			continue;
		}
		if (i)
			*p++ = ':';
		if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff))) {
			p = addr_put_ip4(p, a + 12);
			*p = '\0';
			return (size_t)(p - out);
		}
		bool lead = false;
		for (int s = 12; s >= 0; s -= 4) {
			unsigned d = (w[i] >> s) & 0xf;
			if (d || lead || !s) {
				*p++ = hex[d];
				lead = true;
			}
		}
	}
	if (best >= 0 && best + best_len == 8)
		*p++ = ':';
	*p = '\0';
	return (size_t)(p - out);
}

char *pano_addr_str(const struct pano_addr *a, char *buf, unsigned size)
{
	char tmp[PANO_ADDR_TEXT];
	size_t n;

	if (!size)
		return buf;
	if (a->family == 4)
		n = pano_ip4_text(a->a, tmp);
	else if (a->family == 6)
		n = pano_ip6_text(a->a, tmp);
	else
		n = (size_t)snprintf(tmp, sizeof(tmp), "?");
	if (n < size)
		memcpy(buf, tmp, n + 1);
	else if (a->family == 4 || a->family == 6)
		buf[0] = '\0'; /* inet_ntop fails on a short buffer */
	else
		snprintf(buf, size, "%s", tmp);
	return buf;
}
