// SPDX-License-Identifier: Apache-2.0
/*
 * fuzz_stream.c - libFuzzer harness for the protobuf stream decoder (lib/stream.c). Two parts:
 *   - the input as a stream, fed in two chunks split where its first byte says (partial reads),
 *     with a small cap to keep the length checks in reach; every frame byte of every batch is
 *     touched (ASan sees a bad pointer or length), and every batch the decoder delivers is
 *     walked and held to protobuf-c's unpack (same packets; the walk stops on an error exactly
 *     when protobuf-c refuses the batch, and the stream is then refused);
 *   - the input (after its first byte) as one PacketBatch message: the hand walker and
 *     protobuf-c's unpack must agree on accepting it and on what it holds. Inputs the structure
 *     check refuses (lengths that would wrap protobuf-c's own check) must be refused by the
 *     walker too, and are not shown to protobuf-c.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"

static volatile uint8_t fuzz_sink;

static int same_packet(const struct stream_pkt *a, const Pano__V1__Packet *b)
{
	const char *bi = b->iface ? b->iface : "";
	return a->ts_ns == b->ts_ns && a->ifindex == b->ifindex &&
	       a->direction == (int32_t)b->direction && a->orig_len == b->orig_len &&
	       a->frame_len == b->frame.len &&
	       (!a->frame_len || memcmp(a->frame, b->frame.data, a->frame_len) == 0) &&
	       memcmp(a->iface ? a->iface : "", bi, a->iface_len) == 0 && bi[a->iface_len] == 0;
}

/*
 * Walks msg as a PacketBatch and holds the walk to protobuf-c's unpack of the same bytes: the
 * walk stops on an error exactly where protobuf-c refuses the message, and otherwise hands out
 * the same packets, seq and dropped_before. With parsed, stream_batch_parse()'s result (rc and
 * view) must agree with both. Aborts when anything differs; returns the finished walk in *out.
 */
static void check_batch(const uint8_t *msg, size_t len, const struct stream_batch_view *parsed,
			int parse_rc, struct stream_pkt_iter *out)
{
	struct stream_batch_view w = {.data = msg, .len = len};
	struct stream_pkt_iter it;
	struct stream_pkt p;
	bool wire = stream_batch_wire_ok(msg, len);
	Pano__V1__PacketBatch *u = wire ? pano__v1__packet_batch__unpack(NULL, len, msg) : NULL;
	size_t i = 0;

	stream_batch_iter(&w, &it);
	while (stream_batch_next(&it, &p)) {
		if (u && (i >= u->n_packets || !same_packet(&p, u->packets[i])))
			abort();
		i++;
		for (size_t j = 0; j < p.frame_len; j++)
			fuzz_sink ^= p.frame[j];
		for (size_t j = 0; j < p.iface_len; j++)
			fuzz_sink ^= (uint8_t)p.iface[j];
	}
	bool ok = it.err == NULL;
	if (ok != (u != NULL) || i != it.n)
		abort();
	if (u &&
	    (it.seq != u->seq || it.dropped_before != u->dropped_before || it.n != u->n_packets))
		abort();
	if (parsed &&
	    ((parse_rc == 0) != ok ||
	     (ok && (!parsed->checked || parsed->seq != it.seq ||
		     parsed->dropped_before != it.dropped_before || parsed->n_packets != it.n))))
		abort();
	if (u)
		pano__v1__packet_batch__free_unpacked(u, NULL);
	*out = it;
}

/* The reader's walk of what the decoder delivers (a part of a batch stops at a field the part
 * cuts); the whole fields it took must then be a batch protobuf-c reads the same way. */
static int on_msg(void *ctx, struct stream_dec *d, const struct stream_msg *m)
{
	struct stream_pkt_iter it, w;
	struct stream_pkt p;
	(void)ctx;
	if (m->type != PANO__V1__ENVELOPE__MSG_BATCH)
		return 0;
	stream_batch_iter(&m->batch, &it);
	while (stream_batch_next(&it, &p))
		for (size_t j = 0; j < p.frame_len; j++)
			fuzz_sink ^= p.frame[j];
	if (it.err)
		return stream_batch_refuse(d, &it);
	size_t taken = m->batch.progress ? m->batch.progress->taken : m->batch.len;
	if (taken > m->batch.len || (!m->batch.rest && taken != m->batch.len))
		abort();
	check_batch(m->batch.data, taken, m->batch.checked ? &m->batch : NULL, 0, &w);
	if (w.err || w.n != it.n)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stream_dec d;
	size_t cut = size ? data[0] % (size + 1) : 0;
	stream_dec_init(&d, 65536);
	int rc = stream_dec_feed(&d, data, cut, on_msg, NULL);
	if (rc == 0)
		rc = stream_dec_feed(&d, data + cut, size - cut, on_msg, NULL);
	uint64_t msgs = d.messages;
	bool partial = stream_dec_partial(&d);
	stream_dec_free(&d);

	/* The same bytes through the receive buffer, read cut bytes at a time (at least 1): the
	 * same envelopes, the same outcome. */
	size_t off = 0, step = cut ? cut : 1;
	int rx_rc = 0;
	stream_dec_init(&d, 65536);
	while (off < size && rx_rc == 0) {
		size_t room;
		uint8_t *w = stream_dec_rx_space(&d, &room);
		if (!w || !room)
			abort(); /* fine streams always get room */
		size_t k = size - off < room ? size - off : room;
		if (k > step)
			k = step;
		memcpy(w, data + off, k);
		off += k;
		rx_rc = stream_dec_rx_commit(&d, k, on_msg, NULL);
	}
	/* Except one thing: the receive path reads a large batch as it comes, so it may refuse a
	 * malformed part of the envelope that the stream ends inside, which stream_dec_feed()
	 * never saw whole. */
	bool early = rc == 0 && partial && rx_rc == -EBADMSG && d.messages == msgs + 1;
	if (!early &&
	    (rx_rc != rc || d.messages != msgs || (rc == 0 && stream_dec_partial(&d) != partial)))
		abort();
	stream_dec_free(&d);

	if (size) {
		/* An exact-size copy, so that ASan sees any read past the message. */
		uint8_t *msg = malloc(size - 1 ? size - 1 : 1);
		struct stream_batch_view v;
		memcpy(msg, data + 1, size - 1);
		struct stream_pkt_iter it;
		int rc = stream_batch_parse(msg, size - 1, &v, NULL);
		check_batch(msg, size - 1, &v, rc, &it);
		free(msg);
	}
	return 0;
}
