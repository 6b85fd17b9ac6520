// SPDX-License-Identifier: Apache-2.0
/*
 * stream.c - framing of the agent-to-analyzer protobuf stream: preamble, length-prefixed
 * envelopes, an incremental decoder that takes arbitrary chunks of a TCP stream, and the
 * packet batch the agent fills. Every length read from the wire is checked against a cap before
 * anything is allocated, and protobuf-c unpacks through an allocator with a memory budget, so
 * a hostile peer cannot make the analyzer allocate more than a small multiple of the cap.
 *
 * Packets, the hot path, skip protobuf-c both ways: stream_pkt_encode() writes the wire format
 * directly (the same bytes protobuf-c packs), and a batch envelope is walked in place, once,
 * checked as it is read: no allocation, no array of decoded packets, frames point into the
 * received bytes, and each packet goes to the reader as soon as it is read (the agent's usual
 * member shape by a straight-line reader, anything else through a bounded cursor). The walk
 * accepts exactly what protobuf-c's unpack accepts for PacketBatch and Packet (wire types per
 * field, unknown fields skipped, last value wins) and stops at the first field it would refuse;
 * the reader then refuses the stream (stream_batch_refuse), after the packets before that
 * field, as a pcap reader does at a broken record. Tests and the fuzz harness hold it to
 * protobuf-c. Any other envelope shape (hello, stats, a batch merged from several members)
 * goes through protobuf-c, after a structural check of every length on the way down, since
 * protobuf-c's own length check can wrap for lengths near 4 GiB.
 */
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counter.h"
#include "cursor.h"
#include "log.h"
#include "stream.h"

PANO_COUNTER(c_bad_magic, "stream_bad_magic", "weird", "protobuf streams refused: bad preamble");
PANO_COUNTER(c_bad_version, "stream_bad_version", "weird",
	     "protobuf streams refused: unsupported major version");
PANO_COUNTER(c_oversize, "stream_oversize", "weird",
	     "protobuf streams refused: envelope length over the cap");
PANO_COUNTER(c_malformed, "stream_malformed", "weird",
	     "protobuf streams refused: envelope protobuf-c could not unpack");
PANO_COUNTER(c_order, "stream_bad_order", "weird",
	     "protobuf streams refused: no hello first, second hello or empty envelope");
PANO_COUNTER(c_unknown, "stream_unknown_msg", "event",
	     "envelopes of a newer minor version skipped");
PANO_COUNTER(c_hello_oversize, "stream_hello_oversize", "weird",
	     "protobuf streams refused: an envelope before the hello over the hello limit");

/* ST_BATCH: inside a batch envelope the receive path delivers as it arrives (stream_dec_rx_*) */
enum { ST_PREAMBLE, ST_LENGTH, ST_BODY, ST_BATCH, ST_FAILED };

/* Unpack memory per envelope byte we allow protobuf-c (its structs are larger than the wire
 * encoding: an empty Packet is 2 bytes on the wire, ~80 in memory). */
#define STREAM_ALLOC_FACTOR 48

static inline void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void stream_preamble(uint8_t out[STREAM_PREAMBLE_LEN], uint16_t major, uint16_t minor)
{
	memcpy(out, STREAM_MAGIC, 4);
	out[4] = major >> 8;
	out[5] = major;
	out[6] = minor >> 8;
	out[7] = minor;
}

size_t stream_envelope_size(const Pano__V1__Envelope *env)
{
	return STREAM_LEN_PREFIX + pano__v1__envelope__get_packed_size(env);
}

size_t stream_refusal(uint8_t *out, size_t cap, const char *code, const char *reason)
{
	Pano__V1__Refusal r = PANO__V1__REFUSAL__INIT;
	Pano__V1__Envelope env = PANO__V1__ENVELOPE__INIT;
	char line[STREAM_REFUSAL_MAX / 2];

	/* one line, cut short: the envelope must fit out */
	snprintf(line, sizeof(line), "%s", reason);
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	r.code = (char *)code;
	r.reason = line;
	env.msg_case = PANO__V1__ENVELOPE__MSG_REFUSAL;
	env.refusal = &r;
	if (cap < STREAM_PREAMBLE_LEN + stream_envelope_size(&env))
		return 0;
	stream_preamble(out, STREAM_VERSION_MAJOR, STREAM_VERSION_MINOR);
	return STREAM_PREAMBLE_LEN + stream_envelope_pack(&env, out + STREAM_PREAMBLE_LEN);
}

size_t stream_ack(uint8_t out[STREAM_ACK_MAX], uint64_t seq)
{
	Pano__V1__Ack a = PANO__V1__ACK__INIT;
	Pano__V1__Envelope env = PANO__V1__ENVELOPE__INIT;

	a.seq = seq;
	env.msg_case = PANO__V1__ENVELOPE__MSG_ACK;
	env.ack = &a;
	return stream_envelope_pack(&env, out); /* 4 + 1 + 1 + 1 + 10 at most: 17 */
}

size_t stream_envelope_pack(const Pano__V1__Envelope *env, uint8_t *out)
{
	size_t n = pano__v1__envelope__pack(env, out + STREAM_LEN_PREFIX);
	put_be32(out, (uint32_t)n);
	return STREAM_LEN_PREFIX + n;
}

/* ---- the wire format by hand -------------------------------------------------------------- */

enum { WT_VARINT = 0, WT_64BIT = 1, WT_LEN = 2, WT_32BIT = 5 };

static inline unsigned varint_len(uint64_t v)
{
	return v ? (unsigned)(63 - __builtin_clzll(v)) / 7 + 1 : 1; /* 7 bits a byte */
}

/* A 9-byte varint (2^56 <= v < 2^63: any time stamp in ns since 1972). The low 56 bits are
 * spread into eight 7-bit groups in three steps (get_varint's packing backwards), stored with
 * their continuation bits at once; the ninth byte holds the rest. */
static inline uint8_t *put_varint9(uint8_t *p, uint64_t v)
{
	uint64_t x = v & 0x00ffffffffffffffull;
	x = ((x << 4) & 0x0fffffff00000000ull) | (x & 0x000000000fffffffull);
	x = ((x << 2) & 0x3fff00003fff0000ull) | (x & 0x00003fff00003fffull);
	x = ((x << 1) & 0x7f007f007f007f00ull) | (x & 0x007f007f007f007full);
	x = htole64(x | 0x8080808080808080ull);
	memcpy(p, &x, sizeof(x));
	p[8] = (uint8_t)(v >> 56);
	return p + 9;
}

static inline uint8_t *put_varint(uint8_t *p, uint64_t v)
{
	if (v >= 1ull << 56 && v < 1ull << 63)
		return put_varint9(p, v);
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/* A varint of at most max bytes (protobuf-c: 10 for values, 5 for keys and lengths); the low 64
 * bits of its value. Unterminated within max or the cursor: sticky error. */
static inline __attribute__((always_inline)) uint64_t get_varint(struct cursor *c, unsigned max)
{
	const uint8_t *p = c->base + c->off;
	size_t left = c->len - c->off;
	if (c->err || left == 0) {
		c->err = 1;
		return 0;
	}
	if (p[0] < 0x80) {
		c->off++;
		return p[0];
	}
	if (left >= 9 && max >= 9) {
		/* Eight bytes at once: the first byte without a continuation bit ends the varint;
		 * its 7-bit groups are packed together in three steps. Nine bytes (any time stamp
		 * in ns) take the ninth byte from its own load. Longer ones go the bytewise way. */
		uint64_t x, stop;
		memcpy(&x, p, sizeof(x));
		x = le64toh(x);
		stop = ~x & 0x8080808080808080ull;
		unsigned n = stop ? (unsigned)__builtin_ctzll(stop) / 8 + 1 : 9;
		if (n < 8)
			x &= (1ull << (8 * n)) - 1;
		if (n <= 8 || p[8] < 0x80) {
			x = stream_varint_groups(x);
			if (n == 9)
				x |= (uint64_t)p[8] << 56;
			c->off += n;
			return x;
		}
	}
	uint64_t v = 0;
	unsigned shift = 0;
	for (unsigned i = 0; i < max && i < left; i++, shift += 7) {
		if (shift < 64)
			v |= (uint64_t)(p[i] & 0x7f) << shift;
		if (!(p[i] & 0x80)) {
			c->off += i + 1;
			return v;
		}
	}
	c->err = 1;
	return 0;
}

/* A field key (at most 5 bytes); field number 0 is an error, as in protobuf-c 1.4. */
static inline uint64_t get_key(struct cursor *c)
{
	uint64_t key = get_varint(c, 5);
	if ((key >> 3) == 0)
		c->err = 1;
	return key;
}

/* A length-delimited field's bytes (length varint of at most 5 bytes, within the cursor). */
static inline __attribute__((always_inline)) const uint8_t *get_bytes(struct cursor *c, size_t *n)
{
	uint64_t len = get_varint(c, 5);
	if (c->err || len > cur_left(c)) {
		c->err = 1;
		*n = 0;
		return NULL;
	}
	*n = (size_t)len;
	return cur_take(c, (size_t)len);
}

/* Skips a field of an unknown number; groups (3, 4) and wire types 6, 7 are errors, as in
 * protobuf-c. */
static inline void skip_field(struct cursor *c, unsigned wt)
{
	size_t n;
	switch (wt) {
	case WT_VARINT:
		get_varint(c, 10);
		break;
	case WT_64BIT:
		cur_skip(c, 8);
		break;
	case WT_LEN:
		get_bytes(c, &n);
		break;
	case WT_32BIT:
		cur_skip(c, 4);
		break;
	default:
		c->err = 1;
	}
}

/* One or two bytes of varint (v < 2^14). */
static inline uint8_t *put_varint2(uint8_t *p, uint32_t v)
{
	if (v < 0x80) {
		*p++ = (uint8_t)v;
	} else {
		*p++ = (uint8_t)(v | 0x80);
		*p++ = (uint8_t)(v >> 7);
	}
	return p;
}

/*
 * What the agent sends nearly always: a time stamp of 9 varint bytes, ifindex and direction of
 * one, orig_len and a frame of one or two, no interface name nor sender, csum_partial either
 * way; every other field present. Written
 * without the general path's length arithmetic and loops; the bytes are the same.
 */
static inline bool pkt_encode_agent(uint8_t *out, const struct stream_pkt *pk, size_t *len)
{
	uint32_t ol = pk->orig_len, fl = pk->frame_len;
	if (pk->ts_ns < 1ull << 56 || pk->ts_ns >= 1ull << 63 || pk->ifindex - 1 >= 0x7f ||
	    (uint32_t)pk->direction - 1 >= 0x7f || ol - 1 >= 0x3fff || fl - 1 >= 0x3f00 ||
	    pk->iface_len || pk->cgroup_id || pk->pid || pk->comm_len || pk->ns_len ||
	    pk->pod_len || pk->container_len)
		return false;
	/* ts 1 + 9, ifindex 2, direction 2, orig_len 2 or 3, frame key, length, bytes */
	uint32_t n = 14 + (ol < 0x80 ? 2 : 3) + (fl < 0x80 ? 2 : 3) + fl + /* < 2^14 */
		     (pk->csum_partial ? 2 : 0);
	uint8_t *p = out;
	*p++ = 2 << 3 | WT_LEN; /* PacketBatch.packets */
	p = put_varint2(p, n);
	*p++ = 1 << 3 | WT_VARINT;
	p = put_varint9(p, pk->ts_ns);
	p[0] = 2 << 3 | WT_VARINT;
	p[1] = (uint8_t)pk->ifindex;
	p[2] = 3 << 3 | WT_VARINT;
	p[3] = (uint8_t)pk->direction;
	p[4] = 4 << 3 | WT_VARINT;
	p = put_varint2(p + 5, ol);
	*p++ = 5 << 3 | WT_LEN;
	p = put_varint2(p, fl);
	memcpy(p, pk->frame, fl);
	p += fl;
	if (pk->csum_partial) {
		p[0] = 13 << 3 | WT_VARINT;
		p[1] = 1;
		p += 2;
	}
	*len = (size_t)(p - out);
	return true;
}

size_t stream_pkt_encode(uint8_t *out, const struct stream_pkt *pk)
{
	size_t len;
	if (pkt_encode_agent(out, pk, &len))
		return len;

	/* proto3: fields at their zero value are left out, as protobuf-c does; a negative enum
	 * value is sign-extended to 10 bytes. */
	uint64_t dir = (uint64_t)(int64_t)pk->direction;
	size_t n = 0;
	if (pk->ts_ns)
		n += 1 + varint_len(pk->ts_ns);
	if (pk->ifindex)
		n += 1 + varint_len(pk->ifindex);
	if (dir)
		n += 1 + varint_len(dir);
	if (pk->orig_len)
		n += 1 + varint_len(pk->orig_len);
	if (pk->frame_len)
		n += 1 + varint_len(pk->frame_len) + pk->frame_len;
	if (pk->iface_len)
		n += 1 + varint_len(pk->iface_len) + pk->iface_len;
	if (pk->cgroup_id)
		n += 1 + varint_len(pk->cgroup_id);
	if (pk->pid)
		n += 1 + varint_len(pk->pid);
	const struct {
		const char *s;
		uint32_t len;
	} strs[] = {{pk->comm, pk->comm_len},
		    {pk->ns, pk->ns_len},
		    {pk->pod, pk->pod_len},
		    {pk->container, pk->container_len}};
	for (int i = 0; i < 4; i++)
		if (strs[i].len)
			n += 1 + varint_len(strs[i].len) + strs[i].len;
	if (pk->csum_partial)
		n += 2;

	uint8_t *p = out;
	*p++ = 2 << 3 | WT_LEN; /* PacketBatch.packets */
	p = put_varint(p, n);
	if (pk->ts_ns) {
		*p++ = 1 << 3 | WT_VARINT;
		p = put_varint(p, pk->ts_ns);
	}
	if (pk->ifindex) {
		*p++ = 2 << 3 | WT_VARINT;
		p = put_varint(p, pk->ifindex);
	}
	if (dir) {
		*p++ = 3 << 3 | WT_VARINT;
		p = put_varint(p, dir);
	}
	if (pk->orig_len) {
		*p++ = 4 << 3 | WT_VARINT;
		p = put_varint(p, pk->orig_len);
	}
	if (pk->frame_len) {
		*p++ = 5 << 3 | WT_LEN;
		p = put_varint(p, pk->frame_len);
		memcpy(p, pk->frame, pk->frame_len);
		p += pk->frame_len;
	}
	if (pk->iface_len) {
		*p++ = 6 << 3 | WT_LEN;
		p = put_varint(p, pk->iface_len);
		memcpy(p, pk->iface, pk->iface_len);
		p += pk->iface_len;
	}
	if (pk->cgroup_id) {
		*p++ = 7 << 3 | WT_VARINT;
		p = put_varint(p, pk->cgroup_id);
	}
	if (pk->pid) {
		*p++ = 8 << 3 | WT_VARINT;
		p = put_varint(p, pk->pid);
	}
	for (int i = 0; i < 4; i++) {
		if (!strs[i].len)
			continue;
		*p++ = (uint8_t)((9 + i) << 3 | WT_LEN);
		p = put_varint(p, strs[i].len);
		memcpy(p, strs[i].s, strs[i].len);
		p += strs[i].len;
	}
	if (pk->csum_partial) {
		*p++ = 13 << 3 | WT_VARINT;
		*p++ = 1;
	}
	return (size_t)(p - out);
}

size_t stream_batch_frame(uint8_t *body, size_t body_len, uint64_t seq, uint64_t dropped_before,
			  uint8_t **start)
{
	uint8_t *t = body + body_len;
	if (dropped_before) {
		*t++ = 3 << 3 | WT_VARINT;
		t = put_varint(t, dropped_before);
	}
	size_t seq_len = seq ? 1 + varint_len(seq) : 0;
	size_t batch_len = seq_len + (size_t)(t - body);
	size_t env_len = 1 + varint_len(batch_len) + batch_len;
	uint8_t *s = body - seq_len - varint_len(batch_len) - 1 - STREAM_LEN_PREFIX;
	uint8_t *p = s;
	put_be32(p, (uint32_t)env_len);
	p += STREAM_LEN_PREFIX;
	*p++ = 2 << 3 | WT_LEN; /* Envelope.batch */
	p = put_varint(p, batch_len);
	if (seq) {
		*p++ = 1 << 3 | WT_VARINT;
		put_varint(p, seq);
	}
	*start = s;
	return STREAM_LEN_PREFIX + env_len;
}

/* A string field of a Packet at c (not NUL-terminated). 0, or -1 for another wire type. */
static int get_str(struct cursor *c, unsigned wt, const char **s, uint32_t *len)
{
	size_t n;

	if (wt != WT_LEN)
		return -1;
	*s = (const char *)get_bytes(c, &n);
	*len = (uint32_t)n;
	return 0;
}

/* One Packet message (c covers exactly its bytes). 0, or -1 where protobuf-c would fail. */
static int pkt_decode(struct cursor *c, struct stream_pkt *pk)
{
	size_t n;
	memset(pk, 0, sizeof(*pk));
	while (cur_left(c) && !c->err) {
		uint64_t key = get_key(c);
		unsigned wt = key & 7;
		switch ((uint32_t)(key >> 3)) {
		case 1:
			if (wt != WT_VARINT)
				return -1;
			pk->ts_ns = get_varint(c, 10);
			break;
		case 2:
			if (wt != WT_VARINT)
				return -1;
			pk->ifindex = (uint32_t)get_varint(c, 10);
			break;
		case 3:
			if (wt != WT_VARINT)
				return -1;
			pk->direction = (int32_t)(uint32_t)get_varint(c, 10);
			break;
		case 4:
			if (wt != WT_VARINT)
				return -1;
			pk->orig_len = (uint32_t)get_varint(c, 10);
			break;
		case 5:
			if (wt != WT_LEN)
				return -1;
			pk->frame = get_bytes(c, &n);
			pk->frame_len = (uint32_t)n;
			if (n == 0)
				pk->frame = NULL;
			break;
		case 6:
			if (get_str(c, wt, &pk->iface, &pk->iface_len))
				return -1;
			break;
		case 7:
			if (wt != WT_VARINT)
				return -1;
			pk->cgroup_id = get_varint(c, 10);
			break;
		case 8:
			if (wt != WT_VARINT)
				return -1;
			pk->pid = (uint32_t)get_varint(c, 10);
			break;
		case 9:
			if (get_str(c, wt, &pk->comm, &pk->comm_len))
				return -1;
			break;
		case 10:
			if (get_str(c, wt, &pk->ns, &pk->ns_len))
				return -1;
			break;
		case 11:
			if (get_str(c, wt, &pk->pod, &pk->pod_len))
				return -1;
			break;
		case 12:
			if (get_str(c, wt, &pk->container, &pk->container_len))
				return -1;
			break;
		case 13: {
			/* protobuf-c reads a bool from any wire type: true when any byte of the
			 * field after its key (a length prefix included) has a low bit set; the
			 * last occurrence wins */
			size_t at = c->off;
			skip_field(c, wt);
			pk->csum_partial = false;
			for (size_t i = at; i < c->off && !c->err; i++)
				pk->csum_partial |= (c->base[i] & 0x7f) != 0;
			break;
		}
		default:
			skip_field(c, wt);
		}
	}
	return c->err ? -1 : 0;
}

/*
 * In a part of a batch with more to come: true when the field at p, which did not read whole
 * from the left bytes at hand, may still be whole with the rest bytes still to come. 16 bytes
 * hold any well-formed key and varint.
 */
static bool field_cut(const uint8_t *p, size_t left, size_t rest)
{
	struct cursor c = cursor_init(p, left);
	uint64_t key = get_key(&c), n;
	if (c.err)
		return left < 16;
	switch (key & 7) {
	case WT_VARINT:
		get_varint(&c, 10);
		return c.err && left < 16;
	case WT_64BIT:
		return cur_left(&c) < 8;
	case WT_32BIT:
		return cur_left(&c) < 4;
	case WT_LEN:
		n = get_varint(&c, 5);
		if (c.err)
			return left < 16;
		return n > cur_left(&c) && n - cur_left(&c) <= rest;
	default:
		return false;
	}
}

/* The walk of a part ended (at its end, or at a field it cuts): tells the decoder. */
static void batch_walked(struct stream_pkt_iter *it)
{
	if (it->progress) {
		it->progress->taken = (size_t)(it->p - it->data);
		it->progress->seq = it->seq;
		it->progress->dropped_before = it->dropped_before;
	}
}

/*
 * The walk of a PacketBatch, one field at a time, in place: packets are handed out as they are
 * read, seq and dropped_before kept as they come (the last one wins), unknown fields skipped.
 * It stops at the first field protobuf-c would refuse (it->err says which kind); the packets
 * before it were handed out already.
 */
bool stream_batch_next_field(struct stream_pkt_iter *it, struct stream_pkt *pk)
{
	while (it->p < it->end) {
		struct cursor c = cursor_init(it->p, (size_t)(it->end - it->p));
		uint64_t key = get_key(&c);
		unsigned wt = key & 7;
		bool got = false;
		size_t n;

		switch ((uint32_t)(key >> 3)) {
		case 1:
			if (wt != WT_VARINT)
				goto bad_field;
			it->seq = get_varint(&c, 10);
			break;
		case 2: {
			if (wt != WT_LEN)
				goto bad_field;
			const uint8_t *b = get_bytes(&c, &n);
			if (c.err)
				goto bad_field;
			struct cursor pc = cursor_init(b, n);
			if (pkt_decode(&pc, pk)) {
				it->err = "bad packet";
				goto stop;
			}
			got = true;
			break;
		}
		case 3:
			if (wt != WT_VARINT)
				goto bad_field;
			it->dropped_before = get_varint(&c, 10);
			break;
		default:
			skip_field(&c, wt);
		}
		if (c.err)
			goto bad_field;
		it->p += c.off;
		if (got) {
			it->n++;
			return true;
		}
	}
	batch_walked(it);
	return false;
bad_field:
	if (it->rest && field_cut(it->p, (size_t)(it->end - it->p), it->rest)) {
		batch_walked(it); /* the rest of this field is still coming */
		return false;
	}
	it->err = "bad batch field";
stop:
	it->p = it->end;
	return false;
}

int stream_batch_parse(const uint8_t *msg, size_t len, struct stream_batch_view *v,
		       const char **why)
{
	struct stream_pkt_iter it;
	struct stream_pkt pk;

	memset(v, 0, sizeof(*v));
	v->data = msg;
	v->len = len;
	stream_batch_iter(v, &it);
	while (stream_batch_next(&it, &pk))
		;
	if (it.err) {
		if (why)
			*why = it.err;
		return -EBADMSG;
	}
	v->seq = it.seq;
	v->dropped_before = it.dropped_before;
	v->n_packets = it.n;
	v->checked = true;
	return 0;
}

/*
 * Structure check before protobuf-c unpacks an envelope: every key and length well formed and
 * inside its message, down through the message-typed fields of pano_stream.proto. protobuf-c
 * checks the same things except that its length check can wrap for lengths near 4 GiB.
 */
enum { WM_LEAF, WM_ENVELOPE, WM_HELLO, WM_BATCH, WM_STATS };

/* The message kind of field f of a kind-m message, or -1 for a scalar, string or bytes. */
static int wm_child(int m, uint32_t f)
{
	switch (m) {
	case WM_ENVELOPE:
		return f == 1		  ? WM_HELLO
		       : f == 2		  ? WM_BATCH
		       : f == 3		  ? WM_STATS
		       : f == 4 || f == 5 ? WM_LEAF /* Refusal, Ack */
					  : -1;
	case WM_HELLO:
		return f == 4 || f == 5 ? WM_LEAF : -1; /* CaptureConfig, Interface */
	case WM_BATCH:
		return f == 2 ? WM_LEAF : -1; /* Packet */
	case WM_STATS:
		return f == 9 ? WM_LEAF : -1; /* OutputStats */
	default:
		return -1;
	}
}

static bool wire_ok(const uint8_t *msg, size_t len, int kind)
{
	struct cursor c = cursor_init(msg, len);
	size_t n;
	while (cur_left(&c) && !c.err) {
		uint64_t key = get_key(&c);
		unsigned wt = key & 7;
		if (wt != WT_LEN) {
			skip_field(&c, wt);
			continue;
		}
		const uint8_t *p = get_bytes(&c, &n);
		int child = wm_child(kind, (uint32_t)(key >> 3));
		if (!c.err && child >= 0 && !wire_ok(p, n, child))
			return false;
	}
	return !c.err;
}

bool stream_batch_wire_ok(const uint8_t *msg, size_t len)
{
	return wire_ok(msg, len, WM_BATCH);
}

/* The envelope is exactly one batch member (what agents send): its PacketBatch bytes. */
static bool envelope_is_batch(const uint8_t *msg, size_t len, const uint8_t **batch, size_t *blen)
{
	struct cursor c = cursor_init(msg, len);
	if (get_key(&c) != (2 << 3 | WT_LEN))
		return false;
	*batch = get_bytes(&c, blen);
	return !c.err && cur_left(&c) == 0;
}

/* ---- decoder ------------------------------------------------------------------------------ */

/* protobuf-c allocator with a budget: each block carries its size in front so that free can
 * give it back. An unpack that would exceed the budget fails like a malformed message. */
struct alloc_hdr {
	size_t size;
	size_t pad; /* keeps the payload 16-byte aligned */
};

static void *budget_alloc(void *data, size_t size)
{
	struct stream_dec *d = data;
	if (size > d->alloc_limit - d->alloc_used)
		return NULL;
	struct alloc_hdr *h = malloc(sizeof(*h) + size);
	if (!h)
		return NULL;
	h->size = size;
	d->alloc_used += size;
	return h + 1;
}

static void budget_free(void *data, void *ptr)
{
	struct stream_dec *d = data;
	if (!ptr)
		return;
	struct alloc_hdr *h = (struct alloc_hdr *)ptr - 1;
	d->alloc_used -= h->size;
	free(h);
}

void stream_dec_init(struct stream_dec *d, uint32_t max_msg)
{
	memset(d, 0, sizeof(*d));
	d->max_msg = max_msg ? max_msg : STREAM_MAX_MSG;
	d->alloc_limit = (size_t)d->max_msg * STREAM_ALLOC_FACTOR + 65536;
	d->state = ST_PREAMBLE;
}

void stream_dec_init_replies(struct stream_dec *d)
{
	stream_dec_init(d, STREAM_HELLO_MAX);
	d->got_hello = true; /* no hello comes first in this direction */
}

void stream_dec_free(struct stream_dec *d)
{
	free(d->buf);
	d->buf = NULL;
	d->buf_cap = d->buf_have = 0;
	free(d->scratch);
	d->scratch = NULL;
	d->scratch_cap = 0;
	free(d->rx);
	d->rx = NULL;
	d->rx_cap = d->rx_off = d->rx_len = d->rx_room = 0;
}

int stream_dec_fail(struct stream_dec *d, int err, const char *fmt, ...)
{
	va_list ap;
	if (d->state == ST_FAILED)
		return d->err;
	va_start(ap, fmt);
	vsnprintf(d->errmsg, sizeof(d->errmsg), fmt, ap);
	va_end(ap);
	d->err = err;
	d->state = ST_FAILED;
	stream_dec_free(d);
	return err;
}

const char *stream_dec_error(const struct stream_dec *d)
{
	return d->err ? d->errmsg : "";
}

bool stream_dec_idle(const struct stream_dec *d)
{
	return d->state == ST_LENGTH && d->hdr_have == 0 && d->rx_len == d->rx_off;
}

bool stream_dec_partial(const struct stream_dec *d)
{
	return d->state == ST_BODY || d->state == ST_BATCH ||
	       ((d->state == ST_PREAMBLE || d->state == ST_LENGTH) &&
		(d->hdr_have > 0 || d->rx_len > d->rx_off));
}

static int check_preamble(struct stream_dec *d)
{
	if (memcmp(d->hdr, STREAM_MAGIC, 4) != 0) {
		counter_inc(&c_bad_magic);
		return stream_dec_fail(d, -EPROTO,
				       "not a PANO protobuf stream (preamble %02x%02x%02x%02x, "
				       "want \"%s\")",
				       d->hdr[0], d->hdr[1], d->hdr[2], d->hdr[3], STREAM_MAGIC);
	}
	d->peer_major = (uint16_t)(d->hdr[4] << 8 | d->hdr[5]);
	d->peer_minor = (uint16_t)(d->hdr[6] << 8 | d->hdr[7]);
	if (d->peer_major != STREAM_VERSION_MAJOR) {
		counter_inc(&c_bad_version);
		return stream_dec_fail(d, -EPROTONOSUPPORT,
				       "stream version %u.%u is %s than this analyzer's %u.%u; "
				       "%s",
				       d->peer_major, d->peer_minor,
				       d->peer_major > STREAM_VERSION_MAJOR ? "newer" : "older",
				       STREAM_VERSION_MAJOR, STREAM_VERSION_MINOR,
				       d->peer_major > STREAM_VERSION_MAJOR
					   ? "upgrade pano-analyzer"
					   : "upgrade pano-agent");
	}
	return 0;
}

static int malformed(struct stream_dec *d, size_t len, const char *why)
{
	counter_inc(&c_malformed);
	return stream_dec_fail(d, -EBADMSG, "malformed envelope #%llu (%zu bytes): %s",
			       (unsigned long long)d->messages + 1, len, why);
}

int stream_batch_refuse(struct stream_dec *d, const struct stream_pkt_iter *it)
{
	counter_inc(&c_malformed);
	return stream_dec_fail(d, -EBADMSG,
			       "malformed envelope #%llu (a batch): %s after %zu packet(s)",
			       (unsigned long long)d->messages + (d->state == ST_BATCH),
			       it->err ? it->err : "?", it->n);
}

/* A batch protobuf-c unpacked from an unusual envelope (several batch members merged, unknown
 * members next to it): packed again into d->scratch, canonical, then walked like any other. */
static int repack_batch(struct stream_dec *d, const Pano__V1__PacketBatch *b,
			struct stream_batch_view *v)
{
	size_t n = pano__v1__packet_batch__get_packed_size(b);
	if (n > d->scratch_cap) {
		if (n > (size_t)d->max_msg * 2)
			return -EBADMSG;
		uint8_t *nb = realloc(d->scratch, n);
		if (!nb)
			return -ENOMEM;
		d->scratch = nb;
		d->scratch_cap = n;
	}
	pano__v1__packet_batch__pack(b, d->scratch);
	return stream_batch_parse(d->scratch, n, v, NULL);
}

/* Decodes one envelope and hands it on; enforces hello-first. */
static int deliver(struct stream_dec *d, const uint8_t *msg, size_t len, stream_msg_cb cb,
		   void *ctx)
{
	ProtobufCAllocator a = {.alloc = budget_alloc, .free = budget_free, .allocator_data = d};
	Pano__V1__Envelope *env = NULL;
	struct stream_msg m = {.type = PANO__V1__ENVELOPE__MSG__NOT_SET};
	const uint8_t *body;
	const char *why = "protobuf-c unpack failed";
	size_t blen;

	if (len && envelope_is_batch(msg, len, &body, &blen)) {
		m.batch.data = body; /* walked by the reader (stream_batch_next) */
		m.batch.len = blen;
		m.type = PANO__V1__ENVELOPE__MSG_BATCH;
		d->fast_batches++;
	} else {
		if (len && !wire_ok(msg, len, WM_ENVELOPE))
			return malformed(d, len, "bad key or length");
		env = pano__v1__envelope__unpack(&a, len, msg);
		if (!env)
			return malformed(d, len, why);
		m.type = env->msg_case;
		if (m.type == PANO__V1__ENVELOPE__MSG_HELLO)
			m.hello = env->hello;
		else if (m.type == PANO__V1__ENVELOPE__MSG_STATS)
			m.stats = env->stats;
		else if (m.type == PANO__V1__ENVELOPE__MSG_REFUSAL)
			m.refusal = env->refusal;
		else if (m.type == PANO__V1__ENVELOPE__MSG_ACK)
			m.ack = env->ack;
		else if (m.type == PANO__V1__ENVELOPE__MSG_BATCH &&
			 repack_batch(d, env->batch, &m.batch)) {
			pano__v1__envelope__free_unpacked(env, &a);
			return malformed(d, len, "batch could not be packed again");
		}
	}
	int rc = 0;
	bool is_hello = m.type == PANO__V1__ENVELOPE__MSG_HELLO;
	if (m.type == PANO__V1__ENVELOPE__MSG__NOT_SET) {
		if (d->peer_minor > STREAM_VERSION_MINOR && d->got_hello) {
			counter_inc(&c_unknown);
			d->skipped++;
		} else {
			counter_inc(&c_order);
			rc = stream_dec_fail(d, -EPROTO, "envelope #%llu carries no message",
					     (unsigned long long)d->messages + 1);
		}
	} else if (!d->got_hello && !is_hello) {
		counter_inc(&c_order);
		rc = stream_dec_fail(d, -EPROTO, "stream does not start with a hello");
	} else if (d->got_hello && is_hello) {
		counter_inc(&c_order);
		rc = stream_dec_fail(d, -EPROTO, "second hello in one stream");
	} else {
		d->got_hello = true;
		d->messages++;
		if (cb) {
			rc = cb(ctx, d, &m);
			if (rc < 0)
				rc = stream_dec_fail(d, rc, "message refused by the reader");
		}
	}
	if (env)
		pano__v1__envelope__free_unpacked(env, &a);
	return rc < 0 ? rc : 0;
}

static int oversize(struct stream_dec *d)
{
	counter_inc(&c_oversize);
	return stream_dec_fail(d, -EMSGSIZE,
			       "envelope #%llu claims %u bytes, over the %u-byte limit",
			       (unsigned long long)d->messages + 1, d->need, d->max_msg);
}

/* The length prefix just read (d->need) is refused: over the cap, or over the hello's before
 * the hello. 0 when it may come. */
static int check_length(struct stream_dec *d)
{
	if (d->need > d->max_msg)
		return oversize(d);
	if (!d->got_hello && d->need > STREAM_HELLO_MAX) {
		counter_inc(&c_hello_oversize);
		return stream_dec_fail(d, -EMSGSIZE,
				       "envelope #%llu claims %u bytes before the hello, over the "
				       "%u-byte limit for a hello",
				       (unsigned long long)d->messages + 1, d->need,
				       (unsigned)STREAM_HELLO_MAX);
	}
	return 0;
}

/* Appends n bytes to the partial envelope, growing the buffer geometrically but never past
 * d->need, so memory follows bytes actually received, not the claimed length. */
static int buf_append(struct stream_dec *d, const uint8_t *p, size_t n)
{
	if (d->buf_have + n > d->buf_cap) {
		size_t cap = d->buf_cap ? d->buf_cap : 4096;
		while (cap < d->buf_have + n)
			cap *= 2;
		if (cap > d->need)
			cap = d->need;
		uint8_t *nb = realloc(d->buf, cap);
		if (!nb)
			return stream_dec_fail(d, -ENOMEM, "realloc %zu bytes: %s", cap,
					       strerror(ENOMEM));
		d->buf = nb;
		d->buf_cap = cap;
	}
	memcpy(d->buf + d->buf_have, p, n);
	d->buf_have += n;
	return 0;
}

int stream_dec_feed(struct stream_dec *d, const void *data, size_t len, stream_msg_cb cb, void *ctx)
{
	const uint8_t *p = data;
	int rc;

	if (d->state == ST_FAILED)
		return d->err;
	d->bytes += len;
	while (len > 0) {
		switch (d->state) {
		case ST_PREAMBLE:
		case ST_LENGTH: {
			size_t want =
			    (d->state == ST_PREAMBLE ? STREAM_PREAMBLE_LEN : STREAM_LEN_PREFIX) -
			    d->hdr_have;
			size_t n = len < want ? len : want;
			memcpy(d->hdr + d->hdr_have, p, n);
			d->hdr_have += n;
			p += n;
			len -= n;
			if (n < want)
				break;
			d->hdr_have = 0;
			if (d->state == ST_PREAMBLE) {
				if ((rc = check_preamble(d)) < 0)
					return rc;
				d->state = ST_LENGTH;
				break;
			}
			d->need = get_be32(d->hdr);
			if ((rc = check_length(d)) < 0)
				return rc;
			if (d->need == 0) {
				if ((rc = deliver(d, NULL, 0, cb, ctx)) < 0)
					return rc;
				break;
			}
			d->state = ST_BODY;
			break;
		}
		case ST_BODY: {
			size_t want = d->need - d->buf_have;
			if (d->buf_have == 0 && len >= want) {
				/* Whole envelope in this chunk: unpack in place, no copy. */
				d->state = ST_LENGTH;
				if ((rc = deliver(d, p, want, cb, ctx)) < 0)
					return rc;
				p += want;
				len -= want;
				break;
			}
			size_t n = len < want ? len : want;
			if ((rc = buf_append(d, p, n)) < 0)
				return rc;
			p += n;
			len -= n;
			if (d->buf_have < d->need)
				break;
			d->state = ST_LENGTH;
			d->buf_have = 0;
			if ((rc = deliver(d, d->buf, d->need, cb, ctx)) < 0)
				return rc;
			/* Do not keep a large buffer around for a single large envelope. */
			if (d->buf_cap > 65536) {
				free(d->buf);
				d->buf = NULL;
				d->buf_cap = 0;
			}
			break;
		}
		default:
			return d->err;
		}
		if (d->state == ST_FAILED)
			return d->err;
	}
	return 0;
}

/*
 * Before the hello: the buffer starts at STREAM_RX_HELLO_START bytes and doubles only when the
 * bytes received fill it, up to STREAM_RX_HELLO, which holds the preamble and the largest hello
 * allowed (check_length refuses a larger claim at once): a peer that has not said hello holds
 * no more than that.
 */
static uint8_t *rx_space_hello(struct stream_dec *d, size_t *room)
{
	size_t pend = d->rx_len - d->rx_off;
	if (d->rx_off) {
		memmove(d->rx, d->rx + d->rx_off, pend);
		d->rx_off = 0;
		d->rx_len = pend;
	}
	if (!d->rx || d->rx_cap == pend) {
		size_t cap = d->rx ? d->rx_cap * 2 : STREAM_RX_HELLO_START;
		if (cap > STREAM_RX_HELLO)
			cap = STREAM_RX_HELLO;
		if (cap == d->rx_cap) { /* not reached: a full buffer holds a whole hello */
			stream_dec_fail(d, -EMSGSIZE, "%zu bytes before the hello", pend);
			return NULL;
		}
		uint8_t *nb = realloc(d->rx, cap);
		if (!nb) {
			stream_dec_fail(d, -ENOMEM, "realloc %zu bytes: %s", cap, strerror(ENOMEM));
			return NULL;
		}
		d->rx = nb;
		d->rx_cap = cap;
	}
	*room = d->rx_cap - d->rx_len;
	if (*room > STREAM_RX_READ)
		*room = STREAM_RX_READ;
	d->rx_room = *room;
	return d->rx + d->rx_len;
}

uint8_t *stream_dec_rx_space(struct stream_dec *d, size_t *room)
{
	*room = 0;
	if (d->state == ST_FAILED)
		return NULL;
	if (!d->got_hello)
		return rx_space_hello(d, room);
	if (d->rx_off && d->rx_len - d->rx_off <= STREAM_RX_KEEP) {
		/* A few bytes of a field or envelope left: to the front, so that reads keep
		 * landing in the same (cached) bytes instead of sweeping the buffer. */
		memmove(d->rx, d->rx + d->rx_off, d->rx_len - d->rx_off);
		d->rx_len -= d->rx_off;
		d->rx_off = 0;
	}
	if (!d->rx || d->rx_cap - d->rx_len < STREAM_RX_ROOM) {
		size_t pend = d->rx_len - d->rx_off, cap = d->rx_cap;
		if (!d->rx || cap < STREAM_RX_START)
			cap = STREAM_RX_START; /* the first, or the one the hello came in */
		else if (cap - pend < STREAM_RX_ROOM)
			cap *= 2; /* a partial envelope fills the buffer: it has sent that much */
		else if (pend > cap / 8 && cap < STREAM_RX_MAX)
			cap *= 2; /* large envelopes: a larger buffer moves fewer bytes */
		if (cap != d->rx_cap) {
			uint8_t *nb = malloc(cap);
			if (!nb) {
				stream_dec_fail(d, -ENOMEM, "malloc %zu bytes: %s", cap,
						strerror(ENOMEM));
				return NULL;
			}
			if (pend)
				memcpy(nb, d->rx + d->rx_off, pend);
			free(d->rx);
			d->rx = nb;
			d->rx_cap = cap;
		} else if (d->rx_off) {
			memmove(d->rx, d->rx + d->rx_off, pend);
		}
		d->rx_off = 0;
		d->rx_len = pend;
	}
	*room = d->rx_cap - d->rx_len;
	if (*room > STREAM_RX_READ)
		*room = STREAM_RX_READ;
	d->rx_room = *room;
	return d->rx + d->rx_len;
}

/*
 * The receive path does not wait for the whole of a large batch envelope: what has come of it
 * is delivered as it comes, in parts of whole top-level fields, so that the bytes are decoded
 * while the read has just brought them into the cache and the buffer stays small (a quarter
 * MiB envelope otherwise sits whole in it first). Only an envelope that is exactly one batch
 * member is taken this way (the oneof rules for other shapes need the whole envelope).
 */

/* At the length prefix of an envelope that has not come whole (p: the avail bytes after the
 * prefix): the envelope key and batch length of a one-batch envelope, or 0 (not that shape, or
 * its header not here yet: the envelope is then received whole). */
static size_t batch_stream_header(const struct stream_dec *d, const uint8_t *p, size_t avail,
				  size_t *blen)
{
	struct cursor c = cursor_init(p, avail < d->need ? avail : d->need);
	if (get_key(&c) != (2 << 3 | WT_LEN))
		return 0;
	uint64_t n = get_varint(&c, 5);
	if (c.err || c.off + n != d->need)
		return 0;
	*blen = (size_t)n;
	return c.off;
}

/* Bytes a part waits for at least, and more of them when the last one held no whole field (a
 * long field coming in small reads does not make a callback of every read). */
#define STREAM_PART_STEP 256

/* ST_BATCH: hands the reader what has come of the batch as one part; the reader's walk says
 * how far it got (a field the part's end cuts stays for the next one). */
static int batch_stream_part(struct stream_dec *d, stream_msg_cb cb, void *ctx)
{
	size_t avail = d->rx_len - d->rx_off;
	struct stream_msg m = {.type = PANO__V1__ENVELOPE__MSG_BATCH};

	if (avail > d->need)
		avail = d->need;
	if (avail < d->need && avail < d->part_tried + STREAM_PART_STEP)
		return 0;
	m.batch.data = d->rx + d->rx_off;
	m.batch.len = avail;
	m.batch.seq = d->progress.seq;
	m.batch.dropped_before = d->progress.dropped_before;
	m.batch.part = d->part++;
	m.batch.rest = d->need - avail;
	m.batch.progress = &d->progress;
	d->progress.taken = avail;
	int rc = cb ? cb(ctx, d, &m) : 0;
	if (rc < 0 || d->state == ST_FAILED) {
		d->messages++; /* a refused envelope counts, as in deliver() */
		return rc < 0 ? stream_dec_fail(d, rc, "message refused by the reader") : d->err;
	}
	size_t k = d->progress.taken <= avail ? d->progress.taken : avail;
	d->part_tried = k ? 0 : avail;
	d->rx_off += k;
	d->need -= (uint32_t)k;
	if (!d->need) {
		d->state = ST_LENGTH;
		d->messages++; /* counted when whole, as on the other paths */
	}
	return 0;
}

int stream_dec_rx_commit(struct stream_dec *d, size_t n, stream_msg_cb cb, void *ctx)
{
	int rc;

	if (d->state == ST_FAILED)
		return d->err;
	if (n > d->rx_room)
		return stream_dec_fail(d, -EINVAL, "committed %zu bytes, room for %zu", n,
				       d->rx_room);
	d->rx_room = 0; /* one commit per stream_dec_rx_space() */
	d->rx_len += n;
	d->bytes += n;
	for (;;) {
		const uint8_t *p = d->rx + d->rx_off;
		size_t left = d->rx_len - d->rx_off;
		if (d->state == ST_PREAMBLE) {
			if (left < STREAM_PREAMBLE_LEN)
				break;
			memcpy(d->hdr, p, STREAM_PREAMBLE_LEN);
			d->rx_off += STREAM_PREAMBLE_LEN;
			if ((rc = check_preamble(d)) < 0)
				return rc;
			d->state = ST_LENGTH;
			continue;
		}
		if (d->state == ST_BATCH) {
			size_t before = d->rx_off;
			if ((rc = batch_stream_part(d, cb, ctx)) < 0)
				return rc;
			if (d->state == ST_BATCH && d->rx_off == before)
				break; /* the next field is not here whole yet */
			continue;
		}
		if (left < STREAM_LEN_PREFIX)
			break;
		d->need = get_be32(p);
		if ((rc = check_length(d)) < 0)
			return rc;
		if (left - STREAM_LEN_PREFIX < d->need) {
			size_t blen, h = batch_stream_header(d, p + STREAM_LEN_PREFIX,
							     left - STREAM_LEN_PREFIX, &blen);
			if (!h || !d->got_hello) /* before the hello: refused once it is whole */
				break;
			d->fast_batches++;
			d->rx_off += STREAM_LEN_PREFIX + h;
			d->need = (uint32_t)blen;
			d->state = ST_BATCH;
			d->part = 0;
			d->part_tried = 0;
			d->progress = (struct stream_batch_progress){0};
			continue;
		}
		d->rx_off += STREAM_LEN_PREFIX + d->need;
		if ((rc = deliver(d, d->need ? p + STREAM_LEN_PREFIX : NULL, d->need, cb, ctx)) < 0)
			return rc;
		if (d->state == ST_FAILED)
			return d->err;
	}
	if (d->rx_off == d->rx_len) {
		d->rx_off = d->rx_len = 0; /* all delivered: the next read starts at the front */
		if (d->rx_cap > STREAM_RX_MAX) {
			free(d->rx); /* not kept for one large envelope */
			d->rx = NULL;
			d->rx_cap = 0;
		}
	}
	return 0;
}

/* ---- encoder: batches of packets ---------------------------------------------------------- */

int stream_batch_init(struct stream_batch *b, unsigned max_pkts, size_t max_bytes)
{
	memset(b, 0, sizeof(*b));
	b->pkts = calloc(max_pkts, sizeof(*b->pkts));
	b->ptrs = calloc(max_pkts, sizeof(*b->ptrs));
	b->arena = malloc(max_bytes);
	if (!b->pkts || !b->ptrs || !b->arena) {
		stream_batch_free(b);
		return -ENOMEM;
	}
	b->max_pkts = max_pkts;
	b->max_bytes = max_bytes;
	for (unsigned i = 0; i < max_pkts; i++)
		b->ptrs[i] = &b->pkts[i];
	return 0;
}

void stream_batch_free(struct stream_batch *b)
{
	free(b->pkts);
	free(b->ptrs);
	free(b->arena);
	memset(b, 0, sizeof(*b));
}

int stream_batch_add(struct stream_batch *b, uint64_t ts_ns, uint32_t ifindex, int dir,
		     uint32_t orig_len, const uint8_t *frame, uint32_t caplen, uint64_t now_ns)
{
	if (caplen > b->max_bytes)
		return -EMSGSIZE;
	if (b->n == b->max_pkts || caplen > b->max_bytes - b->arena_used)
		return -ENOSPC;
	Pano__V1__Packet *pk = &b->pkts[b->n];
	pano__v1__packet__init(pk);
	pk->ts_ns = ts_ns;
	pk->ifindex = ifindex;
	pk->direction = dir == 0   ? PANO__V1__DIRECTION__DIRECTION_IN
			: dir == 1 ? PANO__V1__DIRECTION__DIRECTION_OUT
				   : PANO__V1__DIRECTION__DIRECTION_UNKNOWN;
	pk->orig_len = orig_len;
	memcpy(b->arena + b->arena_used, frame, caplen);
	pk->frame.data = b->arena + b->arena_used;
	pk->frame.len = caplen;
	b->arena_used += caplen;
	if (b->n++ == 0)
		b->first_ns = now_ns;
	return 0;
}

bool stream_batch_due(const struct stream_batch *b, uint64_t now_ns, uint64_t max_age_ns)
{
	if (b->n == 0)
		return false;
	return b->n == b->max_pkts || b->arena_used >= b->max_bytes ||
	       now_ns - b->first_ns >= max_age_ns;
}

void stream_batch_envelope(struct stream_batch *b, Pano__V1__Envelope *env,
			   Pano__V1__PacketBatch *batch_msg, uint64_t dropped_before)
{
	pano__v1__packet_batch__init(batch_msg);
	batch_msg->seq = b->seq + 1;
	batch_msg->n_packets = b->n;
	batch_msg->packets = b->ptrs;
	batch_msg->dropped_before = dropped_before;
	pano__v1__envelope__init(env);
	env->msg_case = PANO__V1__ENVELOPE__MSG_BATCH;
	env->batch = batch_msg;
}

void stream_batch_reset(struct stream_batch *b)
{
	if (b->n)
		b->seq++;
	b->n = 0;
	b->arena_used = 0;
}
