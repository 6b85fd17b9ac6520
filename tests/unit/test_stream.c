// SPDX-License-Identifier: Apache-2.0
/*
 * test_stream.c - the protobuf stream framing (lib/stream.c): encode a hello, packet batches and
 * stats, decode them back whole, split at every byte and one byte at a time; and the refusals:
 * truncated envelope, a 4 GB length prefix, garbage after the hello, a newer major version, a
 * wrong magic, a stream without a hello, unknown members of a newer minor version.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
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

static int on_msg(void *ctx, struct stream_dec *d, const Pano__V1__Envelope *env)
{
	struct seen *s = ctx;
	switch (env->msg_case) {
	case PANO__V1__ENVELOPE__MSG_HELLO:
		s->hellos++;
		snprintf(s->node, sizeof(s->node), "%s", env->hello->node);
		break;
	case PANO__V1__ENVELOPE__MSG_BATCH:
		s->batches++;
		s->last_seq = env->batch->seq;
		for (size_t i = 0; i < env->batch->n_packets; i++) {
			const Pano__V1__Packet *p = env->batch->packets[i];
			if (s->npkts == 0) {
				memcpy(s->first_frame, p->frame.data,
				       p->frame.len < 8 ? p->frame.len : 8);
				s->first_dir = p->direction;
			}
			s->npkts++;
			s->sum_ts += p->ts_ns;
			s->sum_len += p->orig_len;
			for (size_t j = 0; j < p->frame.len; j++)
				s->sum_bytes += p->frame.data[j];
		}
		break;
	case PANO__V1__ENVELOPE__MSG_STATS:
		s->stats++;
		s->ring_drops = env->stats->ring_drops;
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

/* Writes the fuzz seeds (tests/fuzz/corpus/stream/) from the same builders the tests use. */
static int write_seeds(const char *dir)
{
	struct seen want;
	struct {
		const char *name;
		size_t len;
	} seeds[6];
	static uint8_t bufs[6][65536];
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
	for (int i = 0; i < 6; i++) {
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

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0)
		return write_seeds(argv[2]);
	TEST_CASE("stream_round_trip", test_round_trip);
	TEST_CASE("stream_split_every_byte", test_split_everywhere);
	TEST_CASE("stream_truncated_envelope", test_truncated);
	TEST_CASE("stream_4gb_length_prefix", test_huge_length);
	TEST_CASE("stream_garbage_after_hello", test_garbage_after_hello);
	TEST_CASE("stream_versions", test_versions);
	TEST_CASE("stream_hello_first", test_order);
	TEST_CASE("stream_batch_limits", test_batch_limits);
	TEST_EXIT();
}
