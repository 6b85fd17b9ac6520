// SPDX-License-Identifier: Apache-2.0
/*
 * fuzz_pcapng.c - libFuzzer harness for the pcapng block reader (input_pcapng.c) and the
 * decoder behind it. Input: a pcapng stream, read from memory (input_buf_mem) as the reader reads a file; a
 * catch-all L7 protocol touches every delivered byte and every comment.
 */
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>

#include "engine.h"
#include "input_file.h"
#include "l7.h"

static volatile uint8_t fz_sink;
static enum l7_verdict fz_all(void *st, const struct pano_pkt *p)
{
	return L7_YES;
}
static void fz_udp(void *st, const struct pano_pkt *p)
{
	for (size_t i = 0; i < p->payload_len; i++)
		fz_sink ^= p->payload[i];
	for (const char *s = p->frame->meta.comment; s && *s; s++)
		fz_sink ^= (uint8_t)*s;
	for (const char *s = p->frame->meta.iface; s && *s; s++)
		fz_sink ^= (uint8_t)*s;
}
static const struct l7_proto fz_proto = {.name = "fuzz", .match = fz_all, .on_udp = fz_udp};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static volatile sig_atomic_t stop;
	struct input_hooks h = {.stop = &stop};
	if (!size)
		return 0;
	struct engine_config ec;
	engine_config_default(&ec);
	struct pano_engine *eng = engine_new(&ec); /* one per input: nothing carries over */
	if (!eng || l7_set_add(&eng->l7, &fz_proto, NULL, NULL))
		abort();
	h.eng = eng;
	struct input_buf in;
	input_buf_mem(&in, data, size, &h);
	input_pcapng_read(&in, "fuzz", &h);
	decode_finish(eng);
	engine_free(eng);
	return 0;
}
