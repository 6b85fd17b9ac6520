// SPDX-License-Identifier: Apache-2.0
/*
 * test_stream.c - the protobuf stream framing (lib/stream.c): encode a hello, packet batches and
 * stats, decode them back whole, split at every byte and one byte at a time; and the refusals:
 * truncated envelope, a 4 GB length prefix, garbage after the hello, a newer major version, a
 * wrong magic, a stream without a hello, unknown members of a newer minor version. The packet
 * hand encoder and the in-place batch walker are held to protobuf-c both ways: same bytes as its
 * pack, same acceptance and content as its unpack (also on mutated batches), and the unusual
 * envelope shapes (merged batch members) that go through protobuf-c come out the same.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "counter.h"
#include "stream.h"

/* What the test callback saw, flattened so that runs can be compared. */
struct seen {
	int hellos, batches, stats;
	char node[64];
	unsigned npkts;
	uint64_t sum_ts, sum_len, sum_bytes, last_seq;
	uint64_t ring_drops;
	unsigned char first_frame[8];
	int first_dir;
};

static int batch_parts; /* batch views delivered (parts of a batch count one each) */

static int on_msg(void *ctx, struct stream_dec *d, const struct stream_msg *m)
{
	struct seen *s = ctx;
	struct stream_pkt_iter it;
	struct stream_pkt p;
	size_t n = 0;
	switch (m->type) {
	case PANO__V1__ENVELOPE__MSG_HELLO:
		s->hellos++;
		snprintf(s->node, sizeof(s->node), "%s", m->hello->node);
		break;
	case PANO__V1__ENVELOPE__MSG_BATCH:
		if (!m->batch.part)
			s->batches++;
		batch_parts++;
		stream_batch_iter(&m->batch, &it);
		while (stream_batch_next(&it, &p)) {
			if (s->npkts == 0) {
				memcpy(s->first_frame, p.frame, p.frame_len < 8 ? p.frame_len : 8);
				s->first_dir = p.direction;
			}
			n++;
			s->npkts++;
			s->sum_ts += p.ts_ns;
			s->sum_len += p.orig_len;
			for (size_t j = 0; j < p.frame_len; j++)
				s->sum_bytes += p.frame[j];
		}
		if (n != it.n)
			s->npkts +=
			    1000000; /* the walk and the count disagree: fails the compare */
		s->last_seq = it.seq;
		if (it.err)
			return stream_batch_refuse(d, &it);
		break;
	case PANO__V1__ENVELOPE__MSG_STATS:
		s->stats++;
		s->ring_drops = m->stats->ring_drops;
		break;
	default:
		break;
	}
	return 0;
}

static size_t put_env(uint8_t *out, const Pano__V1__Envelope *env)
{
	return stream_envelope_pack(env, out);
}

static size_t put_hello(uint8_t *out, const char *node)
{
	Pano__V1__Hello h = PANO__V1__HELLO__INIT;
	Pano__V1__Envelope env = PANO__V1__ENVELOPE__INIT;
	Pano__V1__Interface ifc = PANO__V1__INTERFACE__INIT, *ifs[1] = {&ifc};
	ifc.ifindex = 7;
	ifc.name = "eth0";
	ifc.link_type = 1;
	h.stream_version = STREAM_VERSION_MAJOR;
	h.agent_version = "test";
	h.node = (char *)node;
	h.n_interfaces = 1;
	h.interfaces = ifs;
	env.msg_case = PANO__V1__ENVELOPE__MSG_HELLO;
	env.hello = &h;
	return put_env(out, &env);
}

/* A stream: preamble, hello, 3 batches of varied frames, one stats message. */
static size_t build_stream(uint8_t *out, struct seen *want)
{
	size_t n = 0;
	struct stream_batch b;
	memset(want, 0, sizeof(*want));
	stream_preamble(out, STREAM_VERSION_MAJOR, STREAM_VERSION_MINOR);
	n += STREAM_PREAMBLE_LEN;
	n += put_hello(out + n, "node-a");
	want->hellos = 1;
	snprintf(want->node, sizeof(want->node), "node-a");
	CHECK_EQ_INT(stream_batch_init(&b, 16, 4096), 0);
	for (int k = 0; k < 3; k++) {
		for (int i = 0; i < 5 + k; i++) {
			uint8_t fr[300];
			uint32_t len = 20 + 37 * i + k;
			for (uint32_t j = 0; j < len; j++)
				fr[j] = (uint8_t)(j * 7 + i + k);
			CHECK_EQ_INT(stream_batch_add(&b, 1000000000ull * k + i, 7, i & 1, len + 4,
						      fr, len, 0),
				     0);
			if (want->npkts == 0) {
				memcpy(want->first_frame, fr, 8);
				want->first_dir = PANO__V1__DIRECTION__DIRECTION_IN;
			}
			want->npkts++;
			want->sum_ts += 1000000000ull * k + i;
			want->sum_len += len + 4;
			for (uint32_t j = 0; j < len; j++)
				want->sum_bytes += fr[j];
		}
		Pano__V1__Envelope env;
		Pano__V1__PacketBatch bm;
		stream_batch_envelope(&b, &env, &bm, 0);
		n += put_env(out + n, &env);
		stream_batch_reset(&b);
		want->batches++;
	}
	want->last_seq = 3;
	stream_batch_free(&b);

	Pano__V1__AgentStats st = PANO__V1__AGENT_STATS__INIT;
	Pano__V1__Envelope env = PANO__V1__ENVELOPE__INIT;
	st.ring_drops = 42;
	env.msg_case = PANO__V1__ENVELOPE__MSG_STATS;
	env.stats = &st;
	n += put_env(out + n, &env);
	want->stats = 1;
	want->ring_drops = 42;
	return n;
}

static uint8_t sbuf[65536];

static void test_round_trip(void)
{
	struct seen want, got = {0};
	struct stream_dec d;
	size_t n = build_stream(sbuf, &want);
	stream_dec_init(&d, 0);
	CHECK_EQ_INT(stream_dec_feed(&d, sbuf, n, on_msg, &got), 0);
	CHECK(stream_dec_idle(&d));
	CHECK(!stream_dec_partial(&d));
	CHECK_EQ_INT(d.messages, 5);
	CHECK_EQ_STR(got.node, "node-a");
	CHECK(memcmp(&got, &want, sizeof(got)) == 0);
	CHECK_EQ_INT(got.npkts, 18);
	CHECK_EQ_INT(got.last_seq, 3);
	CHECK_EQ_INT(got.ring_drops, 42);
	CHECK_EQ_STR(stream_dec_error(&d), "");
	stream_dec_free(&d);
}

/* Two chunks split at every byte offset, and one byte at a time: same result as whole. */
static void test_split_everywhere(void)
{
	struct seen want;
	size_t n = build_stream(sbuf, &want);
	int bad = 0;
	for (size_t cut = 0; cut <= n; cut++) {
		struct seen got = {0};
		struct stream_dec d;
		stream_dec_init(&d, 0);
		int r1 = stream_dec_feed(&d, sbuf, cut, on_msg, &got);
		int r2 = stream_dec_feed(&d, sbuf + cut, n - cut, on_msg, &got);
		if (r1 || r2 || memcmp(&got, &want, sizeof(got)) != 0 || !stream_dec_idle(&d))
			bad++;
		stream_dec_free(&d);
	}
	CHECK_EQ_INT(bad, 0);

	struct seen got = {0};
	struct stream_dec d;
	stream_dec_init(&d, 0);
	for (size_t i = 0; i < n; i++)
		CHECK_EQ_INT(stream_dec_feed(&d, sbuf + i, 1, on_msg, &got), 0);
	CHECK(memcmp(&got, &want, sizeof(got)) == 0);
	stream_dec_free(&d);
}

/* A stream that ends inside an envelope: nothing half-delivered, and the reader can tell. */
static void test_truncated(void)
{
	struct seen want, got = {0};
	struct stream_dec d;
	size_t n = build_stream(sbuf, &want);
	stream_dec_init(&d, 0);
	CHECK_EQ_INT(stream_dec_feed(&d, sbuf, n - 3, on_msg, &got), 0);
	CHECK(!stream_dec_idle(&d));
	CHECK(stream_dec_partial(&d));
	CHECK_EQ_INT(got.stats, 0); /* the last envelope (stats) is incomplete */
	CHECK_EQ_INT(got.batches, 3);
	stream_dec_free(&d);
}

static size_t preamble_hello(uint8_t *out)
{
	stream_preamble(out, STREAM_VERSION_MAJOR, STREAM_VERSION_MINOR);
	return STREAM_PREAMBLE_LEN + put_hello(out + STREAM_PREAMBLE_LEN, "n");
}

/* Feeds data through the receive buffer (stream_dec_rx_space/commit) in reads of at most chunk
 * bytes (0: as much as the decoder offers). Returns the first error, or 0. */
static int rx_feed(struct stream_dec *d, const uint8_t *data, size_t n, size_t chunk, void *got)
{
	size_t off = 0;
	while (off < n) {
		size_t room;
		uint8_t *w = stream_dec_rx_space(d, &room);
		if (!w)
			return d->err ? d->err : -1;
		if (room == 0)
			return -2; /* must not happen while the stream is fine */
		size_t k = n - off;
		if (k > room)
			k = room;
		if (chunk && k > chunk)
			k = chunk;
		memcpy(w, data + off, k);
		off += k;
		int rc = stream_dec_rx_commit(d, k, on_msg, got);
		if (rc)
			return rc;
	}
	return 0;
}

/* The receive buffer path delivers what stream_dec_feed() does, for reads split anywhere. */
static void test_rx_split_everywhere(void)
{
	struct seen want;
	size_t n = build_stream(sbuf, &want);
	int bad = 0;
	for (size_t chunk = 1; chunk <= n; chunk++) {
		struct seen got = {0};
		struct stream_dec d;
		stream_dec_init(&d, 0);
		int rc = rx_feed(&d, sbuf, n, chunk, &got);
		if (rc || memcmp(&got, &want, sizeof(got)) != 0 || !stream_dec_idle(&d) ||
		    stream_dec_partial(&d) || d.messages != 5)
			bad++;
		stream_dec_free(&d);
	}
	CHECK_EQ_INT(bad, 0);

	/* Ends inside the last envelope: partial, not idle, the rest never delivered. */
	struct seen got = {0};
	struct stream_dec d;
	stream_dec_init(&d, 0);
	CHECK_EQ_INT(rx_feed(&d, sbuf, n - 3, 7, &got), 0);
	CHECK(stream_dec_partial(&d));
	CHECK(!stream_dec_idle(&d));
	CHECK_EQ_INT(got.batches, 3);
	CHECK_EQ_INT(got.stats, 0);
	stream_dec_free(&d);
}

/* Refusals through the receive buffer: same errors, sticky, nothing allocated for a claim. */
static void test_rx_refusals(void)
{
	struct seen got = {0};
	struct stream_dec d;
	size_t n = preamble_hello(sbuf), room;
	memcpy(sbuf + n, "\xff\xff\xff\xff\x0a\x00", 6);
	stream_dec_init(&d, 0);
	CHECK_EQ_INT(rx_feed(&d, sbuf, n + 6, 0, &got), -EMSGSIZE);
	CHECK(strstr(stream_dec_error(&d), "4294967295") != NULL);
	CHECK_EQ_INT(got.hellos, 1);
	CHECK(stream_dec_rx_space(&d, &room) == NULL);
	CHECK_EQ_INT(room, 0);
	CHECK_EQ_INT(stream_dec_rx_commit(&d, 0, on_msg, &got), -EMSGSIZE);
	CHECK(d.rx == NULL); /* released on failure */
	stream_dec_free(&d);

	/* Not a PANO stream, and a newer major version. */
	stream_dec_init(&d, 0);
	CHECK_EQ_INT(rx_feed(&d, (const uint8_t *)"\xd4\xc3\xb2\xa1\x02\x00\x04\x00", 8, 0, &got),
		     -EPROTO);
	stream_dec_free(&d);
	stream_preamble(sbuf, STREAM_VERSION_MAJOR + 1, 0);
	stream_dec_init(&d, 0);
	CHECK_EQ_INT(rx_feed(&d, sbuf, STREAM_PREAMBLE_LEN, 3, &got), -EPROTONOSUPPORT);
	stream_dec_free(&d);

	/* A batch before the hello; an empty envelope after it. */
	stream_preamble(sbuf, STREAM_VERSION_MAJOR, STREAM_VERSION_MINOR);
	memcpy(sbuf + 8, "\x00\x00\x00\x02\x12\x00", 6);
	stream_dec_init(&d, 0);
	CHECK_EQ_INT(rx_feed(&d, sbuf, 14, 0, &got), -EPROTO);
	stream_dec_free(&d);
	n = preamble_hello(sbuf);
	memcpy(sbuf + n, "\x00\x00\x00\x00", 4);
	stream_dec_init(&d, 0);
	CHECK_EQ_INT(rx_feed(&d, sbuf, n + 4, 1, &got), -EPROTO);
	stream_dec_free(&d);

	/* Committing more than the room offered is refused, not written past. */
	stream_dec_init(&d, 0);
	CHECK(stream_dec_rx_space(&d, &room) != NULL);
	CHECK_EQ_INT(stream_dec_rx_commit(&d, room + 1, on_msg, &got), -EINVAL);
	stream_dec_free(&d);
}

/* A large envelope: the buffer grows only with bytes received (a claim alone allocates
 * nothing beyond the start size), stays within its bound, and goes back after delivery. */
static void test_rx_growth(void)
{
	const uint32_t cap = 3u << 20;
	size_t n = preamble_hello(sbuf), room;
	struct seen got = {0};
	struct stream_dec d;
	stream_dec_init(&d, cap);
	CHECK_EQ_INT(rx_feed(&d, sbuf, n, 0, &got), 0);
	/* Claim cap bytes: a batch whose one unknown field (number 15, bytes) fills it. */
	uint8_t *big = malloc(cap + 4);
	uint32_t body = cap, fl = cap - 10;
	big[0] = body >> 24, big[1] = body >> 16, big[2] = body >> 8, big[3] = body;
	uint8_t *p = big + 4;
	uint32_t bl = cap - 1 - 4;
	*p++ = 0x12; /* Envelope.batch */
	for (int i = 0; i < 3; i++)
		*p++ = (uint8_t)(bl >> (7 * i) | 0x80);
	*p++ = (uint8_t)(bl >> 21);
	*p++ = 0x7a; /* field 15, length-delimited: skipped */
	for (int i = 0; i < 3; i++)
		*p++ = (uint8_t)(fl >> (7 * i) | 0x80);
	*p++ = (uint8_t)(fl >> 21);
	CHECK_EQ_INT((size_t)(p - big) + fl, (size_t)cap + 4);
	memset(p, 0xab, fl);
	CHECK_EQ_INT(rx_feed(&d, big, 16, 0, &got), 0);
	CHECK(d.rx_cap <= STREAM_RX_START); /* the claim alone allocates nothing */
	CHECK(stream_dec_partial(&d));
	size_t max_cap = 0;
	for (size_t off = 16; off < (size_t)cap + 4;) {
		uint8_t *w = stream_dec_rx_space(&d, &room);
		CHECK(w != NULL && room > 0);
		if (!w || !room)
			break;
		if (d.rx_cap > max_cap)
			max_cap = d.rx_cap;
		size_t k = cap + 4 - off < room ? cap + 4 - off : room;
		memcpy(w, big + off, k);
		off += k;
		CHECK_EQ_INT(stream_dec_rx_commit(&d, k, on_msg, &got), 0);
	}
	CHECK_EQ_INT(got.batches, 1);
	CHECK_EQ_INT(got.npkts, 0);
	CHECK(max_cap >= (size_t)cap + 4);
	CHECK(max_cap <= 2 * ((size_t)cap + 4) + STREAM_RX_ROOM);
	CHECK(stream_dec_idle(&d));
	CHECK(d.rx == NULL); /* a buffer over STREAM_RX_MAX is not kept after its envelope */
	stream_dec_free(&d);
	free(big);
}

static void test_huge_length(void)
{
	struct seen got = {0};
	struct stream_dec d;
	size_t n = preamble_hello(sbuf);
	memcpy(sbuf + n, "\xff\xff\xff\xff\x0a\x00", 6);
	stream_dec_init(&d, 0);
	CHECK_EQ_INT(stream_dec_feed(&d, sbuf, n + 6, on_msg, &got), -EMSGSIZE);
	CHECK(strstr(stream_dec_error(&d), "4294967295") != NULL);
	CHECK(strstr(stream_dec_error(&d), "limit") != NULL);
	CHECK_EQ_INT(d.buf_cap, 0); /* nothing allocated for the claim */
	CHECK_EQ_INT(got.hellos, 1);
	/* Sticky: more bytes are not read. */
	CHECK_EQ_INT(stream_dec_feed(&d, sbuf, n, on_msg, &got), -EMSGSIZE);
	CHECK_EQ_INT(got.hellos, 1);
	/* Just over a small cap is refused too; exactly at the cap is not refused for size. */
	stream_dec_free(&d);
	stream_dec_init(&d, 100);
	memcpy(sbuf + n, "\x00\x00\x00\x65", 4);
	CHECK_EQ_INT(stream_dec_feed(&d, sbuf, n + 4, on_msg, &got), -EMSGSIZE);
	stream_dec_free(&d);
	stream_dec_init(&d, 100);
	memcpy(sbuf + n, "\x00\x00\x00\x64", 4);
	CHECK_EQ_INT(stream_dec_feed(&d, sbuf, n + 4, on_msg, &got), 0);
	stream_dec_free(&d);
}

static void test_garbage_after_hello(void)
{
	struct seen got = {0};
	struct stream_dec d;
	size_t n = preamble_hello(sbuf);
	/* Text: its first 4 bytes read as a length far over the cap. */
	memcpy(sbuf + n, "GET / HTTP/1.1\r\n\r\n", 18);
	stream_dec_init(&d, 0);
	CHECK(stream_dec_feed(&d, sbuf, n + 18, on_msg, &got) < 0);
	CHECK(stream_dec_error(&d)[0] != 0);
	stream_dec_free(&d);
	/* A plausible length followed by bytes that are not protobuf. */
	memcpy(sbuf + n, "\x00\x00\x00\x06\xff\xff\xff\xff\xff\xff", 10);
	stream_dec_init(&d, 0);
	CHECK_EQ_INT(stream_dec_feed(&d, sbuf, n + 10, on_msg, &got), -EBADMSG);
	CHECK(strstr(stream_dec_error(&d), "malformed") != NULL);
	stream_dec_free(&d);
	/* An envelope with no member at all, from a peer of our own minor version. */
	memcpy(sbuf + n, "\x00\x00\x00\x00", 4);
	stream_dec_init(&d, 0);
	CHECK_EQ_INT(stream_dec_feed(&d, sbuf, n + 4, on_msg, &got), -EPROTO);
	stream_dec_free(&d);
}

static void test_versions(void)
{
	struct seen got = {0};
	struct stream_dec d;
	size_t n = preamble_hello(sbuf);
	sbuf[5] = STREAM_VERSION_MAJOR + 1;
	stream_dec_init(&d, 0);
	CHECK_EQ_INT(stream_dec_feed(&d, sbuf, n, on_msg, &got), -EPROTONOSUPPORT);
	CHECK(strstr(stream_dec_error(&d), "newer") != NULL);
	CHECK_EQ_INT(got.hellos, 0);
	stream_dec_free(&d);

	/* Wrong magic (e.g. a pcap stream sent to the protobuf port). */
	static const uint8_t pcap[8] = {0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0};
	stream_dec_init(&d, 0);
	CHECK_EQ_INT(stream_dec_feed(&d, pcap, 8, on_msg, &got), -EPROTO);
	CHECK(strstr(stream_dec_error(&d), "not a PANO") != NULL);
	stream_dec_free(&d);

	/* Newer minor version: an envelope member we do not know (field 9) is skipped. */
	n = preamble_hello(sbuf);
	sbuf[7] = STREAM_VERSION_MINOR + 1;
	memcpy(sbuf + n, "\x00\x00\x00\x02\x48\x01", 6);
	n += 6;
	stream_dec_init(&d, 0);
	CHECK_EQ_INT(stream_dec_feed(&d, sbuf, n, on_msg, &got), 0);
	CHECK_EQ_INT(d.skipped, 1);
	stream_dec_free(&d);
}

static void test_order(void)
{
	struct seen want, got = {0};
	struct stream_dec d;
	size_t n = build_stream(sbuf, &want);
	size_t hl = put_hello(sbuf + 40000, "node-a");
	/* Drop the hello: a batch comes first. */
	memmove(sbuf + STREAM_PREAMBLE_LEN, sbuf + STREAM_PREAMBLE_LEN + hl,
		n - STREAM_PREAMBLE_LEN - hl);
	stream_dec_init(&d, 0);
	CHECK_EQ_INT(stream_dec_feed(&d, sbuf, n - hl, on_msg, &got), -EPROTO);
	CHECK(strstr(stream_dec_error(&d), "hello") != NULL);
	CHECK_EQ_INT(got.batches, 0);
	stream_dec_free(&d);
	/* Two hellos. */
	n = preamble_hello(sbuf);
	n += put_hello(sbuf + n, "again");
	stream_dec_init(&d, 0);
	CHECK_EQ_INT(stream_dec_feed(&d, sbuf, n, on_msg, &got), -EPROTO);
	stream_dec_free(&d);
}

/* A batch fills by count or bytes, and is due by age. */
static void test_batch_limits(void)
{
	struct stream_batch b;
	uint8_t fr[100] = {0};
	CHECK_EQ_INT(stream_batch_init(&b, 4, 250), 0);
	CHECK(!stream_batch_due(&b, 1000, 10));
	CHECK_EQ_INT(stream_batch_add(&b, 1, 1, 0, 100, fr, 100, 1000), 0);
	CHECK(!stream_batch_due(&b, 1005, 10));
	CHECK(stream_batch_due(&b, 1010, 10));
	CHECK_EQ_INT(stream_batch_add(&b, 1, 1, 0, 100, fr, 100, 1000), 0);
	CHECK_EQ_INT(stream_batch_add(&b, 1, 1, 0, 100, fr, 100, 1000), -ENOSPC);
	CHECK_EQ_INT(stream_batch_add(&b, 1, 1, 0, 300, fr, 30, 1000), 0);
	CHECK_EQ_INT(stream_batch_add(&b, 1, 1, 0, 30, fr, 20, 1000), 0);
	CHECK(stream_batch_due(&b, 1000, 10)); /* 4 packets: full by count */
	CHECK_EQ_INT(stream_batch_add(&b, 1, 1, 0, 1, fr, 1, 1000), -ENOSPC);
	stream_batch_reset(&b);
	CHECK_EQ_INT(b.seq, 1);
	CHECK_EQ_INT(stream_batch_add(&b, 1, 1, 0, 1, fr, 100, 1000), 0);
	uint8_t big[300] = {0};
	CHECK_EQ_INT(stream_batch_add(&b, 1, 1, 0, 300, big, 300, 1000), -EMSGSIZE);
	stream_batch_free(&b);
}

/* ---- the hand encoder and the batch walker against protobuf-c ------------------------------ */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* A value of a random size class (zero, small, multi-byte varint, full width). */
static uint64_t rnd_val(void)
{
	switch (rnd() % 6) {
	case 0:
		return 0;
	case 1:
		return rnd() % 128;
	case 2:
		return rnd() % 70000;
	case 3:
		return rnd() & 0xffffffffu;
	case 4: /* every varint length, 1 to 10 bytes, with its boundaries */
		return rnd() >> (rnd() % 64);
	default:
		return rnd();
	}
}

#define NPK 40
static uint8_t frames[NPK][600];
static char ifnames[NPK][16];

/* Fills n random packets in both forms: ours (pk) and protobuf-c's (pb). */
static void random_packets(struct stream_pkt *pk, Pano__V1__Packet *pb, Pano__V1__Packet **pbp,
			   int n)
{
	for (int i = 0; i < n; i++) {
		memset(&pk[i], 0, sizeof(pk[i]));
		pano__v1__packet__init(&pb[i]);
		pbp[i] = &pb[i];
		bool agent = rnd() % 3 == 0; /* the shape pano-agent sends (the walk's fast path) */
		pk[i].ts_ns = agent ? 1ull << 56 | rnd() >> 8 : rnd_val();
		pk[i].ifindex = agent ? 1 + (uint32_t)(rnd() % 127) : (uint32_t)rnd_val();
		static const int32_t dirs[] = {0, 1, 2, 7, -1, -100000};
		pk[i].direction = agent ? 1 + (int32_t)(rnd() % 2) : dirs[rnd() % 6];
		pk[i].orig_len = agent ? 1 + (uint32_t)(rnd() % 0x3fff) : (uint32_t)rnd_val();
		pk[i].frame_len =
		    (uint32_t)(rnd() % 4 == 0 && !agent ? 0 : rnd() % sizeof(frames[i]));
		if (agent && pk[i].frame_len == 0)
			pk[i].frame_len = 1;
		for (uint32_t j = 0; j < pk[i].frame_len; j++)
			frames[i][j] = (uint8_t)rnd();
		pk[i].frame = pk[i].frame_len ? frames[i] : NULL;
		if (!agent && rnd() % 3 == 0) {
			snprintf(ifnames[i], sizeof(ifnames[i]), "veth%u",
				 (unsigned)(rnd() % 1000));
			pk[i].iface = ifnames[i];
			pk[i].iface_len = (uint32_t)strlen(ifnames[i]);
		}
		pb[i].ts_ns = pk[i].ts_ns;
		pb[i].ifindex = pk[i].ifindex;
		pb[i].direction = (Pano__V1__Direction)pk[i].direction;
		pb[i].orig_len = pk[i].orig_len;
		pb[i].frame.data = (uint8_t *)pk[i].frame;
		pb[i].frame.len = pk[i].frame_len;
		pb[i].iface = pk[i].iface ? ifnames[i] : (char *)"";
		/* a frame whose checksum was left to offload: the agent's shape with it too */
		pk[i].csum_partial = rnd() % 2;
		pb[i].csum_partial = pk[i].csum_partial;
	}
}

/* Our packet equals protobuf-c's unpacked one (strings compared as the C string a reader
 * sees: protobuf-c keeps bytes up to its terminator). */
static bool same_packet(const struct stream_pkt *a, const Pano__V1__Packet *b)
{
	if (a->ts_ns != b->ts_ns || a->ifindex != b->ifindex ||
	    a->direction != (int32_t)b->direction || a->orig_len != b->orig_len ||
	    a->frame_len != b->frame.len || a->csum_partial != (bool)b->csum_partial)
		return false;
	if (a->frame_len && memcmp(a->frame, b->frame.data, a->frame_len) != 0)
		return false;
	const char *bi = b->iface ? b->iface : "";
	return memcmp(a->iface ? a->iface : "", bi, a->iface_len) == 0 && bi[a->iface_len] == 0;
}

static uint8_t enc_a[65536], enc_b[65536];

/* Random batches encoded by hand are byte for byte what protobuf-c packs, and both decoders
 * read them back the same. */
static void test_hand_encoder(void)
{
	struct stream_pkt pk[NPK];
	Pano__V1__Packet pb[NPK], *pbp[NPK];
	int bad_bytes = 0, bad_decode = 0;
	for (int round = 0; round < 300; round++) {
		int n = (int)(rnd() % NPK);
		random_packets(pk, pb, pbp, n);
		uint64_t seq = rnd_val(), dropped = rnd_val();
		/* Ours. */
		uint8_t *body = enc_a + STREAM_BATCH_OVERHEAD, *start;
		size_t used = 0;
		for (int i = 0; i < n; i++)
			used += stream_pkt_encode(body + used, &pk[i]);
		size_t len = stream_batch_frame(body, used, seq, dropped, &start);
		/* protobuf-c's. */
		Pano__V1__PacketBatch bm = PANO__V1__PACKET_BATCH__INIT;
		Pano__V1__Envelope env = PANO__V1__ENVELOPE__INIT;
		bm.seq = seq;
		bm.dropped_before = dropped;
		bm.n_packets = (size_t)n;
		bm.packets = pbp;
		env.msg_case = PANO__V1__ENVELOPE__MSG_BATCH;
		env.batch = &bm;
		size_t want = stream_envelope_size(&env);
		stream_envelope_pack(&env, enc_b);
		if (len != want || memcmp(start, enc_b, len) != 0) {
			bad_bytes++;
			continue;
		}
		/* Walk it and unpack it with protobuf-c: same packets. */
		struct stream_batch_view v;
		const uint8_t *bb;
		size_t bl;
		Pano__V1__Envelope *u = pano__v1__envelope__unpack(NULL, len - STREAM_LEN_PREFIX,
								   start + STREAM_LEN_PREFIX);
		/* The batch message follows the envelope key and its length. */
		bb = start + STREAM_LEN_PREFIX + 1;
		bl = 0;
		for (int k = 0, shift = 0;; k++, shift += 7) {
			bl |= (size_t)(bb[k] & 0x7f) << shift;
			if (!(bb[k] & 0x80)) {
				bb += k + 1;
				break;
			}
		}
		if (!u || stream_batch_parse(bb, bl, &v, NULL) != 0 || v.seq != u->batch->seq ||
		    v.dropped_before != u->batch->dropped_before ||
		    v.n_packets != u->batch->n_packets) {
			bad_decode++;
		} else {
			struct stream_pkt_iter it;
			struct stream_pkt got;
			size_t i = 0;
			stream_batch_iter(&v, &it);
			while (stream_batch_next(&it, &got))
				if (i >= u->batch->n_packets ||
				    !same_packet(&got, u->batch->packets[i++]))
					bad_decode++;
			if (i != u->batch->n_packets)
				bad_decode++;
		}
		pano__v1__envelope__free_unpacked(u, NULL);
	}
	CHECK_EQ_INT(bad_bytes, 0);
	CHECK_EQ_INT(bad_decode, 0);
}

/*
 * The walker accepts what protobuf-c's unpack accepts, and reads the same thing, on batches
 * with bytes changed at random (keys, wire types, lengths, varints, unknown fields). Inputs
 * whose lengths protobuf-c would read past the message (its check wraps near 4 GiB) are refused
 * by stream_batch_wire_ok() first and not shown to protobuf-c.
 */
static void test_walker_vs_protobuf_c(void)
{
	struct stream_pkt pk[NPK];
	Pano__V1__Packet pb[NPK], *pbp[NPK];
	int disagree = 0, accepted = 0, refused = 0;
	for (int round = 0; round < 20000; round++) {
		int n = (int)(rnd() % 6);
		random_packets(pk, pb, pbp, n);
		Pano__V1__PacketBatch bm = PANO__V1__PACKET_BATCH__INIT;
		bm.seq = rnd_val();
		bm.dropped_before = rnd_val();
		bm.n_packets = (size_t)n;
		bm.packets = pbp;
		size_t len = pano__v1__packet_batch__pack(&bm, enc_a);
		int flips = 1 + (int)(rnd() % 4);
		for (int f = 0; f < flips && len; f++) {
			size_t at = rnd() % len;
			switch (rnd() % 4) {
			case 0:
				enc_a[at] = (uint8_t)rnd();
				break;
			case 1:
				enc_a[at] ^= (uint8_t)(1u << (rnd() % 8));
				break;
			case 2:
				enc_a[at] = (uint8_t)(rnd() % 0x40); /* a plausible key */
				break;
			default:
				len = at; /* cut */
			}
		}
		struct stream_batch_view v;
		int ours = stream_batch_parse(enc_a, len, &v, NULL);
		if (!stream_batch_wire_ok(enc_a, len)) {
			if (ours == 0)
				disagree++; /* the walker must refuse what the structure check does
					     */
			refused++;
			continue;
		}
		Pano__V1__PacketBatch *u = pano__v1__packet_batch__unpack(NULL, len, enc_a);
		if ((ours == 0) != (u != NULL)) {
			disagree++;
			if (getenv("STREAM_DEBUG")) {
				fprintf(stderr, "ours %d pbc %d len %zu:", ours, u != NULL, len);
				for (size_t k = 0; k < len && k < 200; k++)
					fprintf(stderr, " %02x", enc_a[k]);
				fprintf(stderr, "\n");
			}
		} else if (u) {
			accepted++;
			struct stream_pkt_iter it;
			struct stream_pkt got;
			size_t i = 0;
			if (v.seq != u->seq || v.dropped_before != u->dropped_before ||
			    v.n_packets != u->n_packets)
				disagree++;
			stream_batch_iter(&v, &it);
			while (stream_batch_next(&it, &got))
				if (i >= u->n_packets || !same_packet(&got, u->packets[i++]))
					disagree++;
			if (i != u->n_packets)
				disagree++;
		}
		pano__v1__packet_batch__free_unpacked(u, NULL);
	}
	CHECK_EQ_INT(disagree, 0);
	CHECK(accepted > 1000);
	CHECK(refused > 0);
}

/* Unusual but valid envelopes go through protobuf-c and mean what they mean to it: of two batch
 * members of the oneof the last one counts (protobuf-c does not merge oneof members), and an
 * unknown member next to a batch is skipped. */
static void test_unusual_batch_envelopes(void)
{
	struct seen got = {0};
	struct stream_dec d;
	struct stream_pkt pk[4];
	Pano__V1__Packet pb[4], *pbp[4];
	size_t n = preamble_hello(sbuf);
	random_packets(pk, pb, pbp, 4);
	/* Envelope = batch{seq 5, packets 0,1} batch{packets 2,3} unknown field 15 (varint). */
	uint8_t inner[2][8192];
	size_t il[2] = {0, 0};
	inner[0][il[0]++] = 0x08;
	inner[0][il[0]++] = 5;
	for (int i = 0; i < 4; i++)
		il[i / 2] += stream_pkt_encode(inner[i / 2] + il[i / 2], &pk[i]);
	uint8_t *e = sbuf + n + 4, *p = e;
	for (int k = 0; k < 2; k++) {
		*p++ = 0x12;
		size_t v = il[k];
		while (v >= 0x80) {
			*p++ = (uint8_t)(v | 0x80);
			v >>= 7;
		}
		*p++ = (uint8_t)v;
		memcpy(p, inner[k], il[k]);
		p += il[k];
	}
	*p++ = 15 << 3;
	*p++ = 1;
	size_t el = (size_t)(p - e);
	sbuf[n] = (uint8_t)(el >> 24);
	sbuf[n + 1] = (uint8_t)(el >> 16);
	sbuf[n + 2] = (uint8_t)(el >> 8);
	sbuf[n + 3] = (uint8_t)el;
	stream_dec_init(&d, 0);
	CHECK_EQ_INT(stream_dec_feed(&d, sbuf, n + 4 + el, on_msg, &got), 0);
	CHECK_EQ_INT(got.batches, 1);
	CHECK_EQ_INT(got.npkts, 2);
	CHECK_EQ_INT(got.last_seq, 0);
	CHECK_EQ_INT(d.fast_batches, 0);
	uint64_t ts = 0;
	for (int i = 2; i < 4; i++)
		ts += pk[i].ts_ns;
	CHECK(got.sum_ts == ts);
	stream_dec_free(&d);
}

/* Lengths that would wrap protobuf-c's bounds check (a 5-byte length near 4 GiB), in a batch
 * and in a hello: refused as malformed, nothing read past the envelope (ASan in SAN=1). */
static void test_wrapping_lengths(void)
{
	static const uint8_t batch_env[] = {0, 0,    0,	   9,	 0x12, 7,   0x12,
					    5, 0xfe, 0xff, 0xff, 0xff, 0x0f};
	static const uint8_t hello_env[] = {0, 0,    0,	   9,	 0x12, 7,   0x0a,
					    5, 0xfe, 0xff, 0xff, 0xff, 0x0f};
	static const uint8_t hello2_env[] = {0, 0, 0, 7, 0x0a, 5, 0xfe, 0xff, 0xff, 0xff, 0x0f};
	const uint8_t *cases[] = {batch_env, hello_env, hello2_env};
	size_t lens[] = {sizeof(batch_env), sizeof(hello_env), sizeof(hello2_env)};
	for (int i = 0; i < 3; i++) {
		struct seen got = {0};
		struct stream_dec d;
		size_t n = i == 2 ? STREAM_PREAMBLE_LEN : preamble_hello(sbuf);
		if (i == 2)
			stream_preamble(sbuf, STREAM_VERSION_MAJOR, STREAM_VERSION_MINOR);
		uint8_t *copy = malloc(lens[i]); /* exact size: ASan sees any read past it */
		memcpy(copy, cases[i], lens[i]);
		stream_dec_init(&d, 0);
		CHECK_EQ_INT(stream_dec_feed(&d, sbuf, n, on_msg, &got), 0);
		CHECK_EQ_INT(stream_dec_feed(&d, copy, lens[i], on_msg, &got), -EBADMSG);
		CHECK(strstr(stream_dec_error(&d), "malformed") != NULL);
		CHECK_EQ_INT(got.npkts, 0);
		stream_dec_free(&d);
		free(copy);
	}
}

/*
 * A batch whose third packet is malformed (its frame length runs past the packet): the walk
 * hands out the two packets before it, then stops; the reader refuses the envelope and the
 * stream fails as malformed, counted, with nothing read past the bad packet and no later
 * envelope delivered. A batch that ends in a cut field (a key with no value) fails the same way.
 */
static void test_bad_packet_mid_batch(void)
{
	struct stream_pkt pk[4];
	struct pano_counter *bad = counter_find("stream_malformed");
	static uint8_t frame[60];
	for (int i = 0; i < 4; i++) /* the agent's shape: 1-byte member lengths */
		pk[i] = (struct stream_pkt){.ts_ns = 1700000000000000000ull + (uint64_t)i * 1000,
					    .ifindex = 2,
					    .direction = PANO__V1__DIRECTION__DIRECTION_IN,
					    .orig_len = 74,
					    .frame_len = sizeof(frame),
					    .frame = frame};
	CHECK(bad != NULL);
	if (!bad)
		return;
	for (int variant = 0; variant < 2; variant++) {
		struct seen got = {0};
		struct stream_dec d;
		size_t n = preamble_hello(sbuf);
		uint8_t *body = enc_a + STREAM_BATCH_OVERHEAD, *start;
		size_t used = 0, bad_at = 0;
		for (int i = 0; i < 4; i++) {
			if (i == 2)
				bad_at = used;
			used += stream_pkt_encode(body + used, &pk[i]);
		}
		if (variant == 0) {
			/* Packet 3 becomes a frame key with a length one past the packet's end. */
			uint8_t mlen = body[bad_at + 1];
			CHECK(mlen < 0x80 && mlen > 3);
			body[bad_at + 2] = 5 << 3 | 2;
			body[bad_at + 3] = (uint8_t)(mlen - 1);
		} else {
			used = bad_at +
			       2; /* cut inside packet 3: a member key and a length, no bytes */
			body[bad_at + 1] = 9;
		}
		size_t len = stream_batch_frame(body, used, 77, 0, &start);
		memcpy(sbuf + n, start, len);
		memcpy(sbuf + n + len, sbuf + n, len); /* a second, never delivered envelope */
		uint64_t before = counter_get(bad);
		stream_dec_init(&d, 0);
		CHECK_EQ_INT(stream_dec_feed(&d, sbuf, n + 2 * len, on_msg, &got), -EBADMSG);
		CHECK(strstr(stream_dec_error(&d), "malformed") != NULL);
		CHECK(strstr(stream_dec_error(&d), "after 2 packet(s)") != NULL);
		CHECK_EQ_INT(got.batches, 1);
		CHECK_EQ_INT(got.npkts, 2);
		CHECK(got.sum_ts == pk[0].ts_ns + pk[1].ts_ns);
		CHECK(counter_get(bad) == before + 1);
		stream_dec_free(&d);
	}
}

/*
 * A batch envelope larger than the receive buffer (3000 packets of the agent's shape, about
 * 300 KB) read 64 KiB at a time: its packets are delivered in parts as they come, in order and
 * whole, seq carried to every part; the buffer never grows past its start size. The same
 * batch with a member that runs past the batch's end (packet 2000 with a 3-byte length, the
 * last packet with a 2-byte one): the packets before it are delivered, then the stream fails
 * as malformed.
 */
static void test_rx_streamed_batch(void)
{
	enum { NBIG = 3000 };
	static uint8_t frame[74];
	size_t cap = STREAM_BATCH_OVERHEAD + NBIG * 120 + 64;
	uint8_t *buf = malloc(cap), *wire = malloc(cap + 4096);
	for (int variant = 0; variant < 3; variant++) {
		struct seen got = {0};
		struct stream_dec d;
		uint8_t *body = buf + STREAM_BATCH_OVERHEAD, *start;
		size_t used = 0, bad_at = 0;
		int bad_pkt = variant == 1 ? 2000 : NBIG - 1;
		uint64_t want_ts = 0;
		for (int i = 0; i < NBIG; i++) {
			struct stream_pkt pk = {.ts_ns = 1700000000000000000ull + (uint64_t)i * 977,
						.ifindex = 3,
						.direction = PANO__V1__DIRECTION__DIRECTION_OUT,
						.orig_len = 74,
						.frame_len = sizeof(frame),
						.frame = frame};
			frame[0] = (uint8_t)i;
			if (i == bad_pkt)
				bad_at = used;
			used += stream_pkt_encode(body + used, &pk);
			if (variant == 0 || i < bad_pkt)
				want_ts += pk.ts_ns;
		}
		if (variant == 1) { /* packet 2000's member claims 2^20 bytes */
			body[bad_at + 1] = 0x80;
			body[bad_at + 2] = 0x80;
			body[bad_at + 3] = 0x40;
		} else if (variant == 2) { /* the last one claims 16383 (a two-byte length) */
			body[bad_at + 1] = 0xff;
			body[bad_at + 2] = 0x7f;
		}
		size_t len = stream_batch_frame(body, used, 42, 0, &start);
		size_t n = preamble_hello(wire);
		memcpy(wire + n, start, len);
		stream_dec_init(&d, 0);
		size_t off = 0, max_cap = 0;
		int rc = 0;
		batch_parts = 0;
		while (off < n + len && rc == 0) {
			size_t room;
			uint8_t *w = stream_dec_rx_space(&d, &room);
			if (!w || !room)
				break;
			size_t k = n + len - off < room ? n + len - off : room;
			memcpy(w, wire + off, k);
			off += k;
			rc = stream_dec_rx_commit(&d, k, on_msg, &got);
			if (d.rx_cap > max_cap)
				max_cap = d.rx_cap;
		}
		CHECK(len > 2 * STREAM_RX_START);
		CHECK(max_cap <= STREAM_RX_START);
		CHECK_EQ_INT(got.batches, 1);
		CHECK(batch_parts >= (variant == 0 ? 4 : 2));
		CHECK_EQ_INT(got.last_seq, 42);
		CHECK(got.sum_ts == want_ts);
		if (variant == 0) {
			CHECK_EQ_INT(rc, 0);
			CHECK_EQ_INT(got.npkts, NBIG);
			CHECK(stream_dec_idle(&d));
			CHECK_EQ_INT(d.messages, 2);
		} else {
			CHECK_EQ_INT(rc, -EBADMSG);
			CHECK_EQ_INT(got.npkts, bad_pkt);
			CHECK(strstr(stream_dec_error(&d), "malformed") != NULL);
		}
		stream_dec_free(&d);
	}
	free(buf);
	free(wire);
}

/* Writes the fuzz seeds (tests/fuzz/corpus/stream/) from the same builders the tests use. */
static int write_seeds(const char *dir)
{
	struct seen want;
	enum { NSEEDS = 9 };
	struct {
		const char *name;
		size_t len;
	} seeds[NSEEDS];
	static uint8_t bufs[NSEEDS][65536];
	seeds[0].name = "good-stream";
	seeds[0].len = build_stream(bufs[0], &want);
	seeds[1].name = "truncated";
	seeds[1].len = build_stream(bufs[1], &want) - 3;
	seeds[2].name = "huge-length";
	seeds[2].len = preamble_hello(bufs[2]);
	memcpy(bufs[2] + seeds[2].len, "\xff\xff\xff\xff", 4);
	seeds[2].len += 4;
	seeds[3].name = "garbage-after-hello";
	seeds[3].len = preamble_hello(bufs[3]);
	memcpy(bufs[3] + seeds[3].len, "\x00\x00\x00\x06\xff\xff\xff\xff\xff\xff", 10);
	seeds[3].len += 10;
	seeds[4].name = "newer-major";
	seeds[4].len = preamble_hello(bufs[4]);
	bufs[4][5]++;
	seeds[5].name = "newer-minor-unknown";
	seeds[5].len = preamble_hello(bufs[5]);
	bufs[5][7]++;
	memcpy(bufs[5] + seeds[5].len, "\x00\x00\x00\x02\x48\x01", 6);
	seeds[5].len += 6;
	/* A hand-encoded batch stream (with interface names and a negative direction). */
	seeds[6].name = "hand-encoded-batches";
	seeds[6].len = preamble_hello(bufs[6]);
	{
		struct stream_pkt pk[NPK];
		Pano__V1__Packet pb[NPK], *pbp[NPK];
		for (int k = 0; k < 2; k++) {
			random_packets(pk, pb, pbp, 6);
			uint8_t *body = bufs[6] + seeds[6].len + STREAM_BATCH_OVERHEAD, *start;
			size_t used = 0;
			for (int i = 0; i < 6; i++)
				used += stream_pkt_encode(body + used, &pk[i]);
			size_t len = stream_batch_frame(body, used, (uint64_t)k + 1, 3, &start);
			memmove(bufs[6] + seeds[6].len, start, len);
			seeds[6].len += len;
		}
	}
	/* A bare PacketBatch message after one byte (the harness's second part). */
	seeds[7].name = "bare-batch";
	{
		struct stream_pkt pk[NPK];
		Pano__V1__Packet pb[NPK], *pbp[NPK];
		Pano__V1__PacketBatch bm = PANO__V1__PACKET_BATCH__INIT;
		random_packets(pk, pb, pbp, 4);
		bm.seq = 9;
		bm.n_packets = 4;
		bm.packets = pbp;
		bufs[7][0] = 0;
		seeds[7].len = 1 + pano__v1__packet_batch__pack(&bm, bufs[7] + 1);
	}
	/* A batch whose packet length would wrap protobuf-c's bounds check. */
	seeds[8].name = "wrapping-length";
	seeds[8].len = preamble_hello(bufs[8]);
	memcpy(bufs[8] + seeds[8].len, "\x00\x00\x00\x09\x12\x07\x12\x05\xfe\xff\xff\xff\x0f", 13);
	seeds[8].len += 13;
	for (int i = 0; i < NSEEDS; i++) {
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", dir, seeds[i].name);
		FILE *f = fopen(path, "wb");
		if (!f || fwrite(bufs[i], 1, seeds[i].len, f) != seeds[i].len) {
			perror(path);
			return 1;
		}
		fclose(f);
	}
	return 0;
}

/* Before the hello: a claim over the hello limit is refused at its length prefix, with nothing
 * allocated for it; the buffer grows only with the bytes of a hello that come, to
 * STREAM_RX_HELLO at most; after the hello the same claim is fine. */
static void test_pre_hello_limit(void)
{
	struct seen got = {0};
	struct stream_dec d;
	size_t room;
	uint8_t pre[STREAM_PREAMBLE_LEN + 4];

	stream_preamble(pre, STREAM_VERSION_MAJOR, STREAM_VERSION_MINOR);
	uint32_t claim = STREAM_HELLO_MAX + 1;
	pre[8] = claim >> 24, pre[9] = claim >> 16, pre[10] = claim >> 8, pre[11] = claim;
	stream_dec_init(&d, 0);
	CHECK_EQ_INT(rx_feed(&d, pre, sizeof(pre), 0, &got), -EMSGSIZE);
	CHECK(strstr(stream_dec_error(&d), "before the hello") != NULL);
	CHECK(d.rx == NULL);
	CHECK_EQ_INT(got.hellos, 0);
	stream_dec_free(&d);
	/* the same through stream_dec_feed */
	stream_dec_init(&d, 0);
	CHECK_EQ_INT(stream_dec_feed(&d, pre, sizeof(pre), on_msg, &got), -EMSGSIZE);
	CHECK_EQ_INT(d.buf_cap, 0);
	stream_dec_free(&d);

	/* A hello at the limit, a byte at a time: the buffer stays within STREAM_RX_HELLO and
	 * starts small. The hello's node name fills it (a string field of Hello). */
	static uint8_t big[STREAM_RX_HELLO];
	size_t hl = STREAM_HELLO_MAX - 4; /* the envelope: hello key, 3-byte length, hello */
	size_t nl = hl - 6;		  /* the hello: version (2), node key, 3-byte length */
	uint8_t *p = big;
	stream_preamble(p, STREAM_VERSION_MAJOR, STREAM_VERSION_MINOR);
	p += 8;
	uint32_t el = STREAM_HELLO_MAX;
	*p++ = el >> 24, *p++ = el >> 16, *p++ = el >> 8, *p++ = el;
	*p++ = 0x0a, *p++ = (uint8_t)(hl | 0x80), *p++ = (uint8_t)(hl >> 7 | 0x80),
	*p++ = (uint8_t)(hl >> 14);
	*p++ = 0x08, *p++ = 1; /* stream_version 1 */
	*p++ = 0x1a, *p++ = (uint8_t)(nl | 0x80), *p++ = (uint8_t)(nl >> 7 | 0x80),
	*p++ = (uint8_t)(nl >> 14);
	memset(p, 'n', nl);
	p += nl;
	CHECK_EQ_INT((size_t)(p - big), sizeof(big));
	stream_dec_init(&d, 0);
	size_t max_cap = 0, first_cap = 0;
	for (size_t off = 0; off < (size_t)(p - big); off++) {
		uint8_t *w = stream_dec_rx_space(&d, &room);
		CHECK(w != NULL && room > 0);
		if (!w || !room)
			break;
		if (!first_cap)
			first_cap = d.rx_cap;
		if (d.rx_cap > max_cap)
			max_cap = d.rx_cap;
		*w = big[off];
		CHECK_EQ_INT(stream_dec_rx_commit(&d, 1, on_msg, &got), 0);
	}
	CHECK_EQ_INT(first_cap, STREAM_RX_HELLO_START);
	CHECK(max_cap <= STREAM_RX_HELLO);
	CHECK_EQ_INT(got.hellos, 1);
	/* after the hello, a claim over the hello limit is allowed */
	uint8_t after[4] = {0, 0x10, 0, 0};
	CHECK_EQ_INT(rx_feed(&d, after, 4, 0, &got), 0);
	CHECK(stream_dec_partial(&d));
	stream_dec_free(&d);
}

/* The analyzer's refusal, read back by the decoder of the other direction. */
static int on_reply(void *ctx, struct stream_dec *d, const struct stream_msg *m)
{
	char *out = ctx;
	if (m->type == PANO__V1__ENVELOPE__MSG_REFUSAL)
		snprintf(out, 300, "%s|%s", m->refusal->code, m->refusal->reason);
	return 0;
}

static void test_refusal(void)
{
	uint8_t buf[STREAM_REFUSAL_MAX];
	char got[300] = "", longer[1000];
	struct stream_dec d;

	size_t n = stream_refusal(buf, sizeof(buf), "too_many_agents", "agent x refused:\nfull");
	CHECK(n > STREAM_PREAMBLE_LEN + 4);
	CHECK(memcmp(buf, STREAM_MAGIC, 4) == 0);
	stream_dec_init_replies(&d);
	for (size_t i = 0; i < n; i++) /* a byte at a time */
		CHECK_EQ_INT(stream_dec_feed(&d, buf + i, 1, on_reply, got), 0);
	CHECK_EQ_STR(got, "too_many_agents|agent x refused: full");
	stream_dec_free(&d);
	/* a long reason is cut to fit; a buffer too small gets nothing */
	memset(longer, 'r', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	n = stream_refusal(buf, sizeof(buf), "stream_error", longer);
	CHECK(n > 0 && n <= sizeof(buf));
	CHECK_EQ_INT(stream_refusal(buf, 20, "stream_error", "x"), 0);
	/* the receiving side of an analyzer does not take a refusal for a hello */
	struct seen s = {0};
	n = stream_refusal(buf, sizeof(buf), "x", "y");
	stream_dec_init(&d, 0);
	CHECK_EQ_INT(stream_dec_feed(&d, buf, n, on_msg, &s), -EPROTO);
	stream_dec_free(&d);
}

static int on_ack(void *ctx, struct stream_dec *d, const struct stream_msg *m)
{
	uint64_t *acks = ctx;
	(void)d;
	if (m->type == PANO__V1__ENVELOPE__MSG_ACK && acks[0] < 7)
		acks[++acks[0]] = m->ack->seq;
	return 0;
}

/* The analyzer's replies: a preamble, then Acks (the largest seq fits STREAM_ACK_MAX), then a
 * refusal without a second preamble; the agent's reply decoder reads each Ack in order. */
static void test_acks(void)
{
	static const uint64_t seqs[] = {0, 1, 300, UINT64_MAX};
	uint8_t buf[STREAM_PREAMBLE_LEN + 4 * STREAM_ACK_MAX + STREAM_REFUSAL_MAX];
	uint64_t acks[8] = {0};
	struct stream_dec d;
	size_t n = STREAM_PREAMBLE_LEN;

	stream_preamble(buf, STREAM_VERSION_MAJOR, STREAM_VERSION_MINOR);
	for (size_t i = 0; i < 4; i++) {
		size_t k = stream_ack(buf + n, seqs[i]);
		CHECK(k >= STREAM_LEN_PREFIX + 2 && k <= STREAM_ACK_MAX);
		n += k;
	}
	CHECK_EQ_INT(stream_ack(buf + n, UINT64_MAX), STREAM_ACK_MAX);
	uint8_t r[STREAM_REFUSAL_MAX];
	size_t rn = stream_refusal(r, sizeof(r), "idle", "bye");
	memcpy(buf + n, r + STREAM_PREAMBLE_LEN, rn - STREAM_PREAMBLE_LEN);
	n += rn - STREAM_PREAMBLE_LEN;
	stream_dec_init_replies(&d);
	for (size_t i = 0; i < n; i++)
		CHECK_EQ_INT(stream_dec_feed(&d, buf + i, 1, on_ack, acks), 0);
	CHECK_EQ_INT(acks[0], 4);
	for (size_t i = 0; i < 4; i++)
		CHECK(acks[i + 1] == seqs[i]);
	CHECK(stream_dec_idle(&d));
	stream_dec_free(&d);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0)
		return write_seeds(argv[2]);
	TEST_CASE("stream_round_trip", test_round_trip);
	TEST_CASE("stream_split_every_byte", test_split_everywhere);
	TEST_CASE("stream_truncated_envelope", test_truncated);
	TEST_CASE("stream_rx_split_everywhere", test_rx_split_everywhere);
	TEST_CASE("stream_rx_refusals", test_rx_refusals);
	TEST_CASE("stream_rx_growth", test_rx_growth);
	TEST_CASE("stream_4gb_length_prefix", test_huge_length);
	TEST_CASE("stream_garbage_after_hello", test_garbage_after_hello);
	TEST_CASE("stream_versions", test_versions);
	TEST_CASE("stream_hello_first", test_order);
	TEST_CASE("stream_batch_limits", test_batch_limits);
	TEST_CASE("stream_hand_encoder_matches_protobuf_c", test_hand_encoder);
	TEST_CASE("stream_batch_walker_vs_protobuf_c", test_walker_vs_protobuf_c);
	TEST_CASE("stream_unusual_batch_envelopes", test_unusual_batch_envelopes);
	TEST_CASE("stream_wrapping_lengths", test_wrapping_lengths);
	TEST_CASE("stream_bad_packet_mid_batch", test_bad_packet_mid_batch);
	TEST_CASE("stream_rx_streamed_batch", test_rx_streamed_batch);
	TEST_CASE("stream_pre_hello_limit", test_pre_hello_limit);
	TEST_CASE("stream_refusal", test_refusal);
	TEST_CASE("stream_acks", test_acks);
	TEST_EXIT();
}
