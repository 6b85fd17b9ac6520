// SPDX-License-Identifier: Apache-2.0
/*
 * stream.c - framing of the agent-to-analyzer protobuf stream: preamble, length-prefixed
 * envelopes, an incremental decoder that takes arbitrary chunks of a TCP stream, and the
 * packet batch the agent fills. Every length read from the wire is checked against a cap before
 * anything is allocated, and protobuf-c unpacks through an allocator with a memory budget, so
 * a hostile peer cannot make the analyzer allocate more than a small multiple of the cap.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counter.h"
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

enum { ST_PREAMBLE, ST_LENGTH, ST_BODY, ST_FAILED };

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

size_t stream_envelope_pack(const Pano__V1__Envelope *env, uint8_t *out)
{
	size_t n = pano__v1__envelope__pack(env, out + STREAM_LEN_PREFIX);
	put_be32(out, (uint32_t)n);
	return STREAM_LEN_PREFIX + n;
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

void stream_dec_free(struct stream_dec *d)
{
	free(d->buf);
	d->buf = NULL;
	d->buf_cap = d->buf_have = 0;
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
	return d->state == ST_LENGTH && d->hdr_have == 0;
}

bool stream_dec_partial(const struct stream_dec *d)
{
	return d->state == ST_BODY ||
	       ((d->state == ST_PREAMBLE || d->state == ST_LENGTH) && d->hdr_have > 0);
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

/* Unpacks one envelope and hands it on; enforces hello-first. */
static int deliver(struct stream_dec *d, const uint8_t *msg, size_t len, stream_msg_cb cb,
		   void *ctx)
{
	ProtobufCAllocator a = {.alloc = budget_alloc, .free = budget_free, .allocator_data = d};
	Pano__V1__Envelope *env = pano__v1__envelope__unpack(&a, len, msg);
	if (!env) {
		counter_inc(&c_malformed);
		return stream_dec_fail(d, -EBADMSG,
				       "malformed envelope #%llu (%zu bytes): protobuf-c unpack "
				       "failed",
				       (unsigned long long)d->messages + 1, len);
	}
	int rc = 0;
	bool is_hello = env->msg_case == PANO__V1__ENVELOPE__MSG_HELLO;
	if (env->msg_case == PANO__V1__ENVELOPE__MSG__NOT_SET) {
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
			rc = cb(ctx, d, env);
			if (rc < 0)
				rc = stream_dec_fail(d, rc, "message refused by the reader");
		}
	}
	pano__v1__envelope__free_unpacked(env, &a);
	return rc < 0 ? rc : 0;
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
			if (d->need > d->max_msg) {
				counter_inc(&c_oversize);
				return stream_dec_fail(d, -EMSGSIZE,
						       "envelope #%llu claims %u bytes, over the "
						       "%u-byte limit",
						       (unsigned long long)d->messages + 1, d->need,
						       d->max_msg);
			}
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
