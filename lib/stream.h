/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stream.h - framing of the agent-to-analyzer protobuf stream (proto/pano_stream.proto), shared
 * by pano-agent (encoder: --connect) and pano-analyzer (decoder: --listen).
 *
 * Wire format:
 *   preamble  "PANS" | major u16 | minor u16                 (8 bytes, big-endian)
 *   envelope  length u32 | pano.v1.Envelope (length bytes)   (repeated; length <= max_msg)
 * The first envelope is a Hello. A reader refuses a major version other than its own and any
 * length over its cap (without allocating it), and stops at the first error: the connection is
 * then closed by the caller. A newer minor version may add Envelope members; an older reader
 * skips those (counted).
 *
 * Packet batches, the bulk of the stream, are encoded and decoded here by hand (same bytes as
 * protobuf-c, which stays the encoder/decoder for hellos and stats, and the tests' oracle).
 */
#ifndef PANO_STREAM_H
#define PANO_STREAM_H

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <protobuf-c/protobuf-c.h>

#include "pano_stream.pb-c.h"

#define STREAM_MAGIC	     "PANS"
#define STREAM_VERSION_MAJOR 1
/* 1: Packet says who sent it (cgroup, process, pod); 2: Ack, batch numbers per agent run */
#define STREAM_VERSION_MINOR 2
#define STREAM_PREAMBLE_LEN  8
#define STREAM_LEN_PREFIX    4
#define STREAM_MAX_MSG	     (4u << 20) /* default cap on one envelope */
/* Before the hello a peer may hold no more than STREAM_RX_HELLO bytes of the receiver's memory:
 * the preamble and an envelope of at most STREAM_HELLO_MAX bytes (a longer claim is refused as
 * soon as its length prefix is read). */
#define STREAM_RX_HELLO	      (64u << 10)
#define STREAM_RX_HELLO_START (4u << 10)
#define STREAM_HELLO_MAX      (STREAM_RX_HELLO - STREAM_PREAMBLE_LEN - STREAM_LEN_PREFIX)

/* Writes the preamble for major/minor (STREAM_VERSION_* in normal use; tests pass others). */
void stream_preamble(uint8_t out[STREAM_PREAMBLE_LEN], uint16_t major, uint16_t minor);

/* Bytes stream_envelope_pack() will write for env: the length prefix plus the message. */
size_t stream_envelope_size(const Pano__V1__Envelope *env);
/* Writes the length prefix and the packed env at out (stream_envelope_size() bytes, which the
 * caller has room for). Returns the bytes written. */
size_t stream_envelope_pack(const Pano__V1__Envelope *env, uint8_t *out);

/*
 * What an analyzer writes to an agent whose connection it closes: its preamble and a Refusal
 * envelope (code: a short token, reason: one line, cut to fit). Returns the bytes written at
 * out, 0 when cap is too small; STREAM_REFUSAL_MAX bytes always suffice for a code of up to
 * 32 bytes.
 */
#define STREAM_REFUSAL_MAX 512
size_t stream_refusal(uint8_t *out, size_t cap, const char *code, const char *reason);

/* An Ack envelope for seq (no preamble: the analyzer writes its preamble once, before its first
 * reply) at out. Returns the bytes written, at most STREAM_ACK_MAX. */
#define STREAM_ACK_MAX 17
size_t stream_ack(uint8_t out[STREAM_ACK_MAX], uint64_t seq);

/* ---- packets on the wire, without protobuf-c -------------------------------------------- */

/* One Packet as the hand encoder takes it and the batch walker gives it (zero copy: frame and
 * iface point into the caller's or the received buffer; iface is not NUL-terminated). */
struct stream_pkt {
	uint64_t ts_ns;
	uint32_t ifindex;
	int32_t direction; /* PANO__V1__DIRECTION__* (any value a peer sent) */
	uint32_t orig_len;
	uint32_t frame_len, iface_len;
	const uint8_t *frame;
	const char *iface;
	/* who sent it (0 and empty where unknown); strings not NUL-terminated */
	uint64_t cgroup_id;
	uint32_t pid;
	uint32_t comm_len, ns_len, pod_len, container_len;
	const char *comm, *ns, *pod, *container;
	bool csum_partial; /* the L4 checksum was not filled in yet (offload) */
};

/* The longest strings the who fields carry (longer ones are cut by the encoder's caller). */
#define STREAM_WHO_MAX (16 + 63 + 253 + 63)

/* Bytes stream_pkt_encode() writes at most besides frame, iface and who strings' bytes. */
#define STREAM_PKT_OVERHEAD 80
/* Bytes a batch envelope takes at most besides its packets (length prefix, envelope and
 * batch headers, seq, dropped_before). */
#define STREAM_BATCH_OVERHEAD 40

/* Writes pk as one member of PacketBatch.packets (tag, length, Packet), byte for byte what
 * protobuf-c packs. out has room for STREAM_PKT_OVERHEAD + frame_len + iface_len. Returns the
 * bytes written. */
size_t stream_pkt_encode(uint8_t *out, const struct stream_pkt *pk);

/*
 * Frames a batch envelope around packets already encoded at body (body_len bytes, from
 * stream_pkt_encode()): writes the length prefix, envelope and batch headers and seq in the
 * STREAM_BATCH_OVERHEAD bytes the caller left free before body, and dropped_before after it
 * (room for 11 bytes). *start is set to the first byte of the envelope; returns its length.
 * The result is what stream_envelope_pack() writes for the same batch.
 */
size_t stream_batch_frame(uint8_t *body, size_t body_len, uint64_t seq, uint64_t dropped_before,
			  uint8_t **start);

/*
 * A PacketBatch message, walked in place with stream_batch_next(). The decoder delivers batches
 * unchecked (checked false, the counts 0): the walk checks each field as it reads it, hands out
 * packets as it goes and finds seq and dropped_before on the way (in the iterator). A reader
 * whose walk stopped on an error (it.err) refuses the envelope with stream_batch_refuse(): the
 * stream then fails as for any malformed envelope, after the packets before the error.
 *
 * The receive path (stream_dec_rx_*) delivers a large batch in parts, as its bytes come: part
 * counts the deliveries from 0, rest says how much of the batch comes after data + len. The
 * walk of such a part stops without an error at a field cut by the part's end, and tells the
 * decoder where (progress): that field comes again at the start of the next part. A reader
 * that does not walk a part to its end skips the rest of it.
 */
struct stream_batch_progress {
	size_t taken;		      /* bytes of the part walked (all of it unless a walk says) */
	uint64_t seq, dropped_before; /* as the walk left them */
};

struct stream_batch_view {
	const uint8_t *data; /* the PacketBatch message, or this part of it */
	size_t len;
	bool checked; /* stream_batch_parse() walked it whole: the three counts below are set */
	uint64_t seq, dropped_before; /* checked: the batch's; a later part: the parts before's */
	size_t n_packets;
	unsigned part;
	size_t rest;				/* bytes of the batch after this part (0: none) */
	struct stream_batch_progress *progress; /* a part (NULL otherwise): the walk reports here */
};

/* Walks a PacketBatch message whole (the fields protobuf-c would accept, nothing else) and
 * fills v, counts included. 0, or -EBADMSG with a reason in why (may be NULL). */
int stream_batch_parse(const uint8_t *msg, size_t len, struct stream_batch_view *v,
		       const char **why);

/* The structure check the decoder runs before protobuf-c sees a message: every key and length
 * well formed and within its message, down through Packet. (Tests and the fuzz harness use it
 * to keep inputs that would wrap protobuf-c's own length check away from protobuf-c.) */
bool stream_batch_wire_ok(const uint8_t *msg, size_t len);

struct stream_pkt_iter {
	const uint8_t *p, *end, *data;
	size_t rest; /* of the batch after the view (a part with more to come) */
	struct stream_batch_progress *progress;
	uint64_t seq, dropped_before; /* as read so far (the last value wins); final at the end */
	size_t n;		      /* packets handed out */
	const char *err;	      /* the walk stopped on a field protobuf-c would refuse */
};

static inline void stream_batch_iter(const struct stream_batch_view *v, struct stream_pkt_iter *it)
{
	it->p = it->data = v->data;
	it->end = v->len ? v->data + v->len : v->data; /* an empty batch may have no bytes */
	it->rest = v->rest;
	it->progress = v->progress;
	it->seq = v->seq;
	it->dropped_before = v->dropped_before;
	it->n = 0;
	it->err = NULL;
}

/* Eight varint bytes (the first in the low byte) to their value: the 7-bit groups packed
 * together in three steps, continuation bits dropped. */
static inline uint64_t stream_varint_groups(uint64_t x)
{
	x &= 0x7f7f7f7f7f7f7f7full;
	x = ((x & 0x7f007f007f007f00ull) >> 1) | (x & 0x007f007f007f007full);
	x = ((x & 0x3fff00003fff0000ull) >> 2) | (x & 0x00003fff00003fffull);
	return ((x & 0x0fffffff00000000ull) >> 4) | (x & 0x000000000fffffffull);
}

/*
 * The member the agent writes (pkt_encode_agent), read straight: the packets key, a length of
 * one or two bytes, then a Packet of a 9-byte time stamp, ifindex and direction of one byte,
 * orig_len and the frame's length of one or two, the frame, then nothing or csum_partial true
 * (its key and 1: what a veth's frames carry). True with pk
 * filled (as the general walk would fill it) and *next past the member; false for anything
 * else, which stream_batch_next_field() then reads. (Inline: the reader's loop holds it.)
 */
static inline __attribute__((always_inline)) bool stream_member_agent(const uint8_t *p,
								      const uint8_t *end,
								      struct stream_pkt *pk,
								      const uint8_t **next)
{
	/* packets key and length 2-3, ts 10, five fixed bytes, orig_len 1-2, frame key and
	 * length 2-3, one byte of frame at least */
	if (end - p < 21 || p[0] != 0x12 /* 2 << 3 | 2 */)
		return false;
	size_t mlen = p[1];
	p += 2;
	if (mlen >= 0x80) {
		if (*p >= 0x80)
			return false;
		mlen = (mlen & 0x7f) | (size_t)*p++ << 7;
	}
	if (mlen < 19 || mlen > (size_t)(end - p))
		return false;
	const uint8_t *mend = p + mlen;
	uint64_t x, y;
	memcpy(&x, p + 1, sizeof(x));
	memcpy(&y, p + 10, sizeof(y)); /* 10 + 8 <= 19 <= mlen */
	x = le64toh(x);
	y = le64toh(y);
	/* ts key (1 << 3), eight bytes that go on and a ninth that ends; then the ifindex key
	 * (2 << 3), a byte, the direction key (3 << 3), a byte, the orig_len key (4 << 3) */
	if (p[0] != 0x08 || (x & 0x8080808080808080ull) != 0x8080808080808080ull || p[9] >= 0x80 ||
	    (y & 0xff80ff80ffull) != 0x2000180010ull)
		return false;
	pk->ts_ns = stream_varint_groups(x) | (uint64_t)p[9] << 56;
	pk->ifindex = p[11];
	pk->direction = p[13];
	p += 15;
	uint32_t orig = *p++;
	if (orig >= 0x80) {
		if (*p >= 0x80)
			return false;
		orig = (orig & 0x7f) | (uint32_t)*p++ << 7;
	}
	/* p is at most 17 bytes into the member: the frame key and a length byte are inside */
	if (*p++ != 0x2a)
		return false;
	uint32_t flen = *p++;
	if (flen >= 0x80) {
		if (p == mend || *p >= 0x80)
			return false;
		flen = (flen & 0x7f) | (uint32_t)*p++ << 7;
	}
	size_t rest = (size_t)(mend - p);
	bool partial = rest == flen + 2 && p[flen] == 0x68 /* 13 << 3 */ && p[flen + 1] == 1;
	if (flen == 0 || (rest != flen && !partial))
		return false;
	pk->csum_partial = partial;
	pk->orig_len = orig;
	pk->frame_len = flen;
	pk->frame = p;
	pk->iface = NULL;
	pk->iface_len = 0;
	pk->cgroup_id = 0;
	pk->pid = 0;
	pk->comm_len = pk->ns_len = pk->pod_len = pk->container_len = 0;
	*next = mend;
	return true;
}

/* The walk past the agent's member shape: every other field, the end, errors. */
bool stream_batch_next_field(struct stream_pkt_iter *it, struct stream_pkt *pk);

/* The next packet of the batch, in order. false at the end (of a part: maybe at a field the
 * part's end cuts), or on a malformed field (it->err set; the walk stays stopped). */
static inline bool stream_batch_next(struct stream_pkt_iter *it, struct stream_pkt *pk)
{
	if (stream_member_agent(it->p, it->end, pk, &it->p)) {
		it->n++;
		return true;
	}
	return stream_batch_next_field(it, pk);
}

/* ---- decoder ------------------------------------------------------------------------------ */

/* One envelope as the decoder delivers it. Batches come as a view to walk (no protobuf-c
 * unpacking on the hot path); hello and stats as protobuf-c messages. */
struct stream_msg {
	Pano__V1__Envelope__MsgCase type; /* HELLO, BATCH, STATS, REFUSAL or ACK */
	const Pano__V1__Hello *hello;
	const Pano__V1__AgentStats *stats;
	const Pano__V1__Refusal *refusal;
	const Pano__V1__Ack *ack;
	struct stream_batch_view batch;
};

/*
 * Called once per complete envelope, in order; m (and everything it points to) is valid only
 * during the call. Return 0 to go on, or a negative errno to stop the stream (the decoder then
 * fails with that error and the message set with stream_dec_fail(), if any). stream_dec_fail()
 * releases the bytes m points into: return right after calling it.
 */
struct stream_dec;
typedef int (*stream_msg_cb)(void *ctx, struct stream_dec *d, const struct stream_msg *m);

struct stream_dec {
	uint32_t max_msg; /* cap on one envelope's length */
	int state;	  /* internal: preamble, length, body, failed */
	uint8_t hdr[STREAM_PREAMBLE_LEN];
	size_t hdr_have;
	uint8_t *buf; /* partial envelope; grows with bytes received, never past max_msg */
	size_t buf_cap, buf_have;
	uint32_t need; /* length of the envelope being received */
	uint16_t peer_major, peer_minor;
	bool got_hello;
	uint64_t messages;		/* envelopes delivered */
	uint64_t skipped;		/* envelopes of a newer minor version we do not know */
	uint64_t bytes;			/* bytes fed */
	size_t alloc_used, alloc_limit; /* protobuf-c unpack memory budget */
	uint64_t fast_batches;		/* batches delivered in place (the common encoding) */
	uint8_t *scratch;		/* a batch protobuf-c merged, packed again */
	size_t scratch_cap;
	unsigned part;			       /* ST_BATCH: parts of the batch delivered */
	struct stream_batch_progress progress; /* ST_BATCH: where the last part's walk got */
	size_t part_tried; /* ST_BATCH: bytes at hand when a part was last delivered whole-less */
	uint8_t *rx;	   /* receive buffer of stream_dec_rx_space()/stream_dec_rx_commit() */
	size_t rx_cap, rx_off, rx_len; /* bytes [rx_off, rx_len) received, not yet delivered */
	size_t rx_room;		       /* offered by the last stream_dec_rx_space() */
	int err;		       /* 0, or the negative errno the stream failed with */
	char errmsg[200];
};

/* Prepares d; max_msg 0 means STREAM_MAX_MSG. */
void stream_dec_init(struct stream_dec *d, uint32_t max_msg);
/* Prepares d to read the other direction, what an analyzer writes to an agent (its preamble,
 * then Acks, and a Refusal when it closes the connection): no hello first, envelopes of at most
 * STREAM_HELLO_MAX bytes. */
void stream_dec_init_replies(struct stream_dec *d);
/* Releases the partial-message buffer; d may be initialised again. */
void stream_dec_free(struct stream_dec *d);

/*
 * Feeds len bytes (any split of the stream: a byte at a time or many envelopes at once) and
 * calls cb for each envelope they complete. Returns 0 while the stream is well formed, or a
 * negative errno once it is not (sticky: later calls return it again without reading):
 *   -EPROTO           bad magic, first envelope not a Hello, a second Hello, empty envelope
 *   -EPROTONOSUPPORT  major version other than ours (newer or older)
 *   -EMSGSIZE         length prefix over max_msg (over STREAM_HELLO_MAX before the hello)
 *   -EBADMSG          envelope that protobuf-c would not unpack (or over the memory budget)
 * stream_dec_error() then says what happened in one line. Each refusal is counted.
 */
int stream_dec_feed(struct stream_dec *d, const void *data, size_t len, stream_msg_cb cb,
		    void *ctx);
/*
 * Receiving without a copy: the caller reads straight into the decoder's buffer at the address
 * stream_dec_rx_space() gives (room bytes free there, at least 1 while the stream is fine; NULL
 * once it failed), then says how many bytes it put there with stream_dec_rx_commit(), which
 * delivers every envelope they complete in place (same callbacks, errors and checks as
 * stream_dec_feed()) and keeps a partial one for the next read. A large batch envelope is not
 * kept whole: the fields of it that have come are delivered at once, as parts of the batch
 * (struct stream_batch_view: part, rest). Do not mix with stream_dec_feed() on one decoder.
 *
 * The buffer starts at STREAM_RX_START bytes and doubles to STREAM_RX_MAX while envelopes that
 * must come whole are large; past that only as far as an envelope that is being received
 * needs (never beyond twice max_msg plus STREAM_RX_ROOM). One read gets at most STREAM_RX_READ
 * bytes, and what is left undelivered after a read (STREAM_RX_KEEP bytes at most) moves to the
 * front: the bytes a read brings are decoded while in the cache, in a buffer that stays in it
 * (a quarter MiB envelope read whole, or reads sweeping a MiB, made the kernel's copy into
 * the buffer several times slower: bench-transport).
 */
#define STREAM_RX_START (128u << 10)
#define STREAM_RX_MAX	(1u << 20)
/* Room offered at least, unless a partial envelope fills the buffer. */
#define STREAM_RX_ROOM (64u << 10)
#define STREAM_RX_READ (32u << 10)
#define STREAM_RX_KEEP (16u << 10)
uint8_t *stream_dec_rx_space(struct stream_dec *d, size_t *room);
int stream_dec_rx_commit(struct stream_dec *d, size_t n, stream_msg_cb cb, void *ctx);

/* For a callback whose walk of a batch stopped on an error (it->err): counts the envelope as
 * malformed and fails the stream with -EBADMSG, which it returns (return it from the callback).
 */
int stream_batch_refuse(struct stream_dec *d, const struct stream_pkt_iter *it);
/* Marks the stream failed with err and a message (printf format); for callbacks that refuse a
 * message on its content. Returns err. */
int stream_dec_fail(struct stream_dec *d, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The failure in one line, or "" while the stream is fine. */
const char *stream_dec_error(const struct stream_dec *d);
/* True at an envelope boundary after the preamble (nothing partial pending). */
bool stream_dec_idle(const struct stream_dec *d);
/* True when part of a preamble or envelope was received and the rest is missing (a stream that
 * ends now was truncated). */
bool stream_dec_partial(const struct stream_dec *d);

/* ---- encoder: batches of packets ---------------------------------------------------------- */

struct stream_batch {
	Pano__V1__Packet *pkts;
	Pano__V1__Packet **ptrs;
	uint8_t *arena; /* frame bytes of the packets in the batch */
	size_t arena_used, max_bytes;
	unsigned n, max_pkts;
	uint64_t first_ns; /* caller's clock when the first packet was added */
	uint64_t seq;	   /* number of the last batch encoded */
};

/* Allocates room for max_pkts packets and max_bytes frame bytes. 0 or -ENOMEM. */
int stream_batch_init(struct stream_batch *b, unsigned max_pkts, size_t max_bytes);
void stream_batch_free(struct stream_batch *b);
/*
 * Adds one frame (copied). dir: 0 in, 1 out, other unknown. now_ns is the caller's clock (for
 * stream_batch_due). 0, -ENOSPC when the batch is full (encode it first), -EMSGSIZE when the
 * frame alone is larger than max_bytes.
 */
int stream_batch_add(struct stream_batch *b, uint64_t ts_ns, uint32_t ifindex, int dir,
		     uint32_t orig_len, const uint8_t *frame, uint32_t caplen, uint64_t now_ns);
/* True when the batch holds packets and is full or its first packet is max_age_ns old. */
bool stream_batch_due(const struct stream_batch *b, uint64_t now_ns, uint64_t max_age_ns);
/* Fills env (and batch_msg, which env points to) from the batch, numbering it seq+1; the batch
 * must stay untouched until env is packed, then stream_batch_reset() empties it. */
void stream_batch_envelope(struct stream_batch *b, Pano__V1__Envelope *env,
			   Pano__V1__PacketBatch *batch_msg, uint64_t dropped_before);
void stream_batch_reset(struct stream_batch *b);

#endif
