// SPDX-License-Identifier: Apache-2.0
/*
 * tls_record.c - the TLS record layer of one direction (RFC 8446 5.1, RFC 5246 6.2): records
 * cut from the in-order stream whatever the segments, and handshake messages reassembled from
 * the records' bodies whatever the fragmentation (a message may span records, a record may hold
 * several messages). A header whose content type or version is not TLS's, or whose length is
 * over the largest record, is a protocol violation (counted): as Zeek does, the connection's
 * record is logged then with what was seen. After that, and after a gap, nothing can be framed
 * again in that direction. A handshake message over TLS_HS_MAX is skipped, not
 * buffered (its type still counts for the history). The buffer grows with the bytes that came,
 * never with what a length claims, and its size is counted on the connection.
 */
#include <stdlib.h>
#include <string.h>

#include "counter.h"
#include "tls_proto.h"

PANO_COUNTER(c_tls_bad_header, "tls_bad_record_header", "weird",
	     "TLS records whose header has no TLS version: direction not parsed further");
PANO_COUNTER(
    c_tls_rec_long, "tls_record_too_long", "weird",
    "TLS records longer than 2^14+2048 bytes (a lying length): direction not parsed further");
PANO_COUNTER(c_tls_hs_long, "tls_handshake_too_long", "drop",
	     "TLS handshake messages over 64 KiB, skipped unparsed");
PANO_COUNTER(c_tls_unknown_rec, "tls_unknown_record_type", "weird",
	     "TLS records of a content type other than 20-24: direction not parsed further");
PANO_COUNTER(c_tls_nomem, "tls_nomem", "drop", "TLS handshake data dropped: no memory");

#define TLS_HS_MIN  1024u	/* first buffer size */
#define TLS_HS_KEEP (16u << 10) /* a larger buffer is freed once its message is out */

enum { CT_CCS = 20, CT_ALERT = 21, CT_HANDSHAKE = 22, CT_APP = 23, CT_HEARTBEAT = 24 };

void tls_dir_free(struct l7_tcp_ctx *c, struct tls_dir *d)
{
	free(d->hs);
	c->buf_bytes -= d->hs_cap;
	d->hs = NULL;
	d->hs_cap = 0;
	d->hs_len = 0;
}

/* Room for want bytes of handshake message in d (want <= TLS_HS_MAX + 4). */
static bool tls_hs_room(struct l7_tcp_ctx *c, struct tls_dir *d, uint32_t want)
{
	if (want <= d->hs_cap)
		return true;
	uint32_t cap = d->hs_cap ? d->hs_cap : TLS_HS_MIN;
	while (cap < want)
		cap *= 2;
	if (cap > TLS_HS_MAX + 4)
		cap = TLS_HS_MAX + 4;
	uint8_t *nb = realloc(d->hs, cap);
	if (!nb)
		return false;
	c->buf_bytes += cap - d->hs_cap;
	d->hs = nb;
	d->hs_cap = cap;
	return true;
}

static inline uint32_t tls_u24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

/* Handshake bytes of a clear record: whole messages go to the transaction (in place when they
 * lie wholly in p), a partial one is buffered. */
static void tls_hs_feed(struct tls_state *st, struct l7_tcp_ctx *c, struct tls_conn *t, int fc,
			struct tls_dir *d, const uint8_t *p, size_t n, const struct pano_pkt *pkt)
{
	while (n && !t->done && !d->lost) {
		if (d->hs_skip) {
			size_t k = n < d->hs_skip ? n : d->hs_skip;
			d->hs_skip -= (uint32_t)k;
			p += k;
			n -= k;
			continue;
		}
		if (!d->hs_len && n >= 4) {
			uint32_t ml = tls_u24(p + 1);
			if (ml <= TLS_HS_MAX && 4 + (size_t)ml <= n) {
				tls_txn_message(st, c, t, fc, p[0], p + 4, ml, pkt);
				p += 4 + ml;
				n -= 4 + ml;
				continue;
			}
		}
		if (d->hs_len >= 4 || d->hs_len + n >= 4) {
			/* the header is (or completes) here: is the message worth buffering? */
			uint8_t h[4];
			size_t have = d->hs_len < 4 ? d->hs_len : 4;
			if (have)
				memcpy(h, d->hs, have);
			memcpy(h + have, p, 4 - have);
			uint32_t ml = tls_u24(h + 1);
			if (ml > TLS_HS_MAX) {
				counter_inc(&c_tls_hs_long);
				tls_txn_message(st, c, t, fc, h[0], NULL, ml, pkt);
				d->hs_skip = ml + 4 - d->hs_len;
				d->hs_len = 0;
				continue;
			}
		}
		uint32_t need = d->hs_len < 4 ? 4 - d->hs_len : 4 + tls_u24(d->hs + 1) - d->hs_len;
		size_t k = n < need ? n : need;
		if (!tls_hs_room(c, d, d->hs_len + (uint32_t)k)) {
			counter_inc(&c_tls_nomem);
			d->lost = true;
			return;
		}
		memcpy(d->hs + d->hs_len, p, k);
		d->hs_len += (uint32_t)k;
		p += k;
		n -= k;
		if (d->hs_len >= 4 && d->hs_len == 4 + tls_u24(d->hs + 1)) {
			tls_txn_message(st, c, t, fc, d->hs[0], d->hs + 4, d->hs_len - 4, pkt);
			d->hs_len = 0;
			if (d->hs_cap > TLS_HS_KEEP)
				tls_dir_free(c, d);
		}
	}
}

/* A clear CCS, alert or heartbeat record's body bytes: alerts go out two bytes at a time. */
static void tls_small_feed(struct tls_conn *t, int fc, struct tls_dir *d, const uint8_t *p,
			   size_t n)
{
	for (; n; p++, n--) {
		if (d->nsmall < 2)
			d->small[d->nsmall++] = *p;
		if (d->ctype == CT_ALERT && d->nsmall == 2) {
			tls_txn_alert(t, fc, d->small[0], d->small[1]);
			d->nsmall = 0;
		}
	}
}

/* A header is complete: 0, or -1 when it is not TLS (the direction is given up). */
static int tls_header(struct tls_dir *d)
{
	uint32_t len = (uint32_t)d->hdr[3] << 8 | d->hdr[4];

	if (d->hdr[1] != 3 || d->hdr[2] > 4) {
		counter_inc(&c_tls_bad_header);
		return -1;
	}
	if (d->hdr[0] < CT_CCS || d->hdr[0] > CT_HEARTBEAT) {
		counter_inc(&c_tls_unknown_rec);
		return -1;
	}
	if (len > TLS_REC_MAX) {
		counter_inc(&c_tls_rec_long);
		return -1;
	}
	d->ctype = d->hdr[0];
	d->left = len;
	d->nsmall = 0;
	return 0;
}

/* The end of a record's body. */
static void tls_record_end(struct tls_conn *t, int fc, struct tls_dir *d)
{
	d->nhdr = 0;
	if (d->encrypted)
		return;
	if (d->ctype == CT_CCS)
		tls_txn_ccs(t, fc);
	else if (d->ctype == CT_HEARTBEAT)
		tls_txn_heartbeat(t, fc);
}

void tls_record_feed(struct tls_state *st, struct l7_tcp_ctx *c, struct tls_conn *t, int fc,
		     const uint8_t *data, size_t len, const struct pano_pkt *pkt)
{
	struct tls_dir *d = &t->dir[fc ? 1 : 0];

	while (len && !d->lost && !t->done) {
		if (d->nhdr < 5) {
			size_t k = 5u - d->nhdr < len ? 5u - d->nhdr : len;
			memcpy(d->hdr + d->nhdr, data, k);
			d->nhdr += (uint8_t)k;
			data += k;
			len -= k;
			if (d->nhdr < 5)
				return;
			if (tls_header(d)) {
				/* a protocol violation: like Zeek, log what was seen now */
				d->lost = true;
				if (t->chello || t->shello)
					tls_txn_emit(st, c, t);
				return;
			}
			if (tls_txn_record(st, c, t, fc, d->ctype))
				return;
			if (!d->left) {
				tls_record_end(t, fc, d);
				continue;
			}
		}
		size_t k = d->left < len ? d->left : len;
		if (!d->encrypted && d->ctype == CT_HANDSHAKE)
			tls_hs_feed(st, c, t, fc, d, data, k, pkt);
		else if (!d->encrypted &&
			 (d->ctype == CT_CCS || d->ctype == CT_ALERT || d->ctype == CT_HEARTBEAT))
			tls_small_feed(t, fc, d, data, k);
		data += k;
		len -= k;
		d->left -= (uint32_t)k;
		if (!d->left && !t->done)
			tls_record_end(t, fc, d);
	}
}
