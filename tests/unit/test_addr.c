// SPDX-License-Identifier: Apache-2.0
/*
 * test_addr.c - the hand-written address formatters of packet.c against libc's inet_ntop:
 * every IPv4 octet value, IPv6 addresses with every pattern of zero words (runs, ties, the
 * IPv4-mapped and -compatible forms), random ones, and the short-buffer contract.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "check.h"
#include "packet.h"

static uint64_t rng = 0x243f6a8885a308d3ull;

static unsigned rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng >> 32);
}

static int cmp6(const uint8_t *a)
{
	char want[64], got[64];
	inet_ntop(AF_INET6, a, want, sizeof(want));
	size_t n = pano_ip6_text(a, got);
	if (strcmp(want, got) || n != strlen(want)) {
		printf("  ip6 mismatch: inet_ntop %s, ours %s\n", want, got);
		return 1;
	}
	return 0;
}

static void t_ip4(void)
{
	char want[32], got[32];
	uint8_t a[4];
	for (unsigned v = 0; v < 256; v++) {
		a[0] = (uint8_t)v, a[1] = (uint8_t)(255 - v), a[2] = (uint8_t)(v * 7), a[3] = 0;
		inet_ntop(AF_INET, a, want, sizeof(want));
		CHECK_EQ_INT(pano_ip4_text(a, got), strlen(want));
		CHECK_EQ_STR(got, want);
	}
	for (int i = 0; i < 100000; i++) {
		uint32_t x = rnd();
		memcpy(a, &x, 4);
		inet_ntop(AF_INET, a, want, sizeof(want));
		pano_ip4_text(a, got);
		CHECK_EQ_STR(got, want);
	}
}

static void t_ip6_patterns(void)
{
	uint8_t a[16];
	int bad = 0;
	/* Every subset of zero words (256), with three fillers for the others, including 0xffff
	 * in word 5 (the mapped form) and small values. */
	static const unsigned fill[] = {0x1, 0xffff, 0xabc};
	for (unsigned mask = 0; mask < 256; mask++)
		for (unsigned f = 0; f < 3; f++)
			for (unsigned tail = 0; tail < 2; tail++) {
				for (int w = 0; w < 8; w++) {
					unsigned v = (mask >> w) & 1 ? 0 : fill[(f + w) % 3];
					if (tail && w >= 6 && !((mask >> w) & 1))
						v = 0x0a00 + (unsigned)w;
					a[2 * w] = (uint8_t)(v >> 8);
					a[2 * w + 1] = (uint8_t)v;
				}
				bad += cmp6(a);
			}
	CHECK_EQ_INT(bad, 0);
}

static void t_ip6_random(void)
{
	uint8_t a[16];
	int bad = 0;
	for (int i = 0; i < 200000 && bad < 5; i++) {
		for (int w = 0; w < 8; w++) {
			unsigned r = rnd(), v;
			switch (r & 3) {
			case 0:
				v = 0;
				break;
			case 1:
				v = (r >> 8) & 0xf;
				break;
			default:
				v = (r >> 8) & 0xffff;
			}
			a[2 * w] = (uint8_t)(v >> 8);
			a[2 * w + 1] = (uint8_t)v;
		}
		bad += cmp6(a);
	}
	CHECK_EQ_INT(bad, 0);
}

static void t_addr_str(void)
{
	struct pano_addr v4 = {.family = 4, .a = {192, 0, 2, 10}};
	struct pano_addr v6 = {.family = 6, .a = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}};
	struct pano_addr none = {.family = 0};
	char buf[64];
	CHECK_EQ_STR(pano_addr_str(&v4, buf, sizeof(buf)), "192.0.2.10");
	CHECK_EQ_STR(pano_addr_str(&v6, buf, sizeof(buf)), "2001:db8::1");
	CHECK_EQ_STR(pano_addr_str(&none, buf, sizeof(buf)), "?");
	CHECK_EQ_STR(pano_addr_str(&v4, buf, 11), "192.0.2.10");
	CHECK_EQ_STR(pano_addr_str(&v4, buf, 10), ""); /* too small, as inet_ntop */
	CHECK_EQ_STR(pano_addr_str(&v6, buf, 11), ""); /* 11 chars + NUL */
	CHECK_EQ_STR(pano_addr_str(&v6, buf, 12), "2001:db8::1");
}

int main(void)
{
	TEST_CASE("addr_ip4_text", t_ip4);
	TEST_CASE("addr_ip6_text_zero_patterns", t_ip6_patterns);
	TEST_CASE("addr_ip6_text_random", t_ip6_random);
	TEST_CASE("addr_str_buffer", t_addr_str);
	return check_total_failed ? 1 : 0;
}
