// SPDX-License-Identifier: Apache-2.0
/*
 * fuzz_stream.c - libFuzzer harness for the protobuf stream decoder (lib/stream.c). The input is
 * fed in two chunks split where its first byte says, so partial reads get exercised too; a small
 * cap keeps the length checks in reach.
 */
#include <stddef.h>
#include <stdint.h>

#include "stream.h"

static volatile uint8_t fuzz_sink;

/* Touches every frame byte, so that a bad pointer or length shows under ASan. */
static int on_msg(void *ctx, struct stream_dec *d, const Pano__V1__Envelope *env)
{
	(void)ctx;
	(void)d;
	if (env->msg_case != PANO__V1__ENVELOPE__MSG_BATCH)
		return 0;
	for (size_t i = 0; i < env->batch->n_packets; i++)
		for (size_t j = 0; j < env->batch->packets[i]->frame.len; j++)
			fuzz_sink ^= env->batch->packets[i]->frame.data[j];
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stream_dec d;
	size_t cut = size ? data[0] % (size + 1) : 0;
	stream_dec_init(&d, 65536);
	if (stream_dec_feed(&d, data, cut, on_msg, NULL) == 0)
		stream_dec_feed(&d, data + cut, size - cut, on_msg, NULL);
	stream_dec_free(&d);
	return 0;
}
