// SPDX-License-Identifier: Apache-2.0
/*
 * fuzz_frame.c - libFuzzer harness for the frame decoder with IP and TCP reassembly. Input: one
 * byte choosing the link type, then frames as [u16 little-endian length][bytes], 0.4 s of packet
 * time apart (so timeouts fire); a catch-all L7 protocol reads every delivered byte.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "cursor.h"
#include "engine.h"
#include "l7.h"

static volatile uint8_t fz_sink;
static enum l7_verdict fz_all(void *st, const struct pano_pkt *p)
{
	return L7_YES;
}
static void fz_touch(const uint8_t *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fz_sink ^= d[i];
}
static void fz_udp(void *st, const struct pano_pkt *p)
{
	fz_touch(p->payload, p->payload_len);
}
static void fz_tcp(void *st, struct l7_tcp_ctx *c, int fc, const uint8_t *d, size_t n,
		   const struct pano_pkt *p)
{
	fz_touch(d, n);
}
static const struct l7_proto fz_proto = {
    .name = "fuzz", .match = fz_all, .on_udp = fz_udp, .on_tcp_data = fz_tcp};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int lts[] = {1, 113, 276, 101, 0, 108, 9, 229};
	struct cursor c = cursor_init(data, size);
	struct pano_frame f = {.ts_ns = 1000000000ull, .meta = {.dir = -1}};

	struct engine_config ec;
	engine_config_default(&ec);
	struct pano_engine *eng = engine_new(&ec); /* one per input: nothing carries over */
	if (!eng || l7_set_add(&eng->l7, &fz_proto, NULL, NULL))
		abort();
	f.linktype = lts[cur_u8(&c) % 8];
	while (!c.err && cur_left(&c)) {
		f.caplen = f.len = cur_u16_le(&c);
		f.data = cur_take(&c, f.caplen);
		if (!f.data)
			break;
		f.ts_ns += 400000000ull;
		decode_frame(eng, &f);
	}
	decode_finish(eng);
	engine_free(eng);
	return 0;
}
