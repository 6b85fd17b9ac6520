// SPDX-License-Identifier: Apache-2.0
/*
 * http_body.c - HTTP message bodies, counted and never stored: which framing a message has
 * once its headers are read (RFC 9112 6.3: no body for HEAD responses, 1xx, 204 and 304; a
 * tunnel after a CONNECT's 2xx; chunked; Content-Length; for a response, else until the
 * connection closes; a request without either has none), the body bytes, and the chunked
 * framing lines (chunk sizes with extensions, the CRLF after each chunk, trailers). A chunk
 * size that does not fit 64 bits is weird and ends the reading of that direction.
 */
#include <string.h>

#include "counter.h"
#include "http.h"

PANO_COUNTER(c_http_chunk_overflow, "http_chunk_size_overflow", "weird",
	     "HTTP chunk sizes beyond 64 bits (the direction no longer read)");
PANO_COUNTER(c_http_chunk_bad, "http_chunk_size_bad", "weird",
	     "HTTP chunk-size lines without a hex size (the direction no longer read)");
PANO_COUNTER(c_http_chunk_crlf, "http_chunk_crlf_missing", "weird",
	     "HTTP chunks not followed by an empty line");
PANO_COUNTER(c_http_tunnels, "http_tunnels", "event",
	     "HTTP connections that became a tunnel (CONNECT answered 2xx) or switched protocol "
	     "(101): no longer read");

void http_body_end(struct http_conn *hc, int fc)
{
	struct http_dir *d = &hc->dir[fc];
	uint64_t n = d->body_len;

	d->st = HP_START;
	d->chunked = d->has_len = false;
	d->nheaders = 0;
	if (fc)
		http_txn_request_done(hc, n);
	else
		http_txn_reply_done(hc, n);
}

/* Neither direction carries HTTP any more (a tunnel or another protocol). */
static void http_switch(struct http_conn *hc)
{
	counter_inc(&c_http_tunnels);
	hc->tunnel = true;
	http_body_end(hc, 0);
	hc->dir[0].st = hc->dir[1].st = HP_NOTHING;
}

void http_body_begin(struct http_conn *hc, int fc, uint64_t ts)
{
	struct http_dir *d = &hc->dir[fc];

	(void)ts;
	d->body_len = 0;
	if (!fc) {
		unsigned code = hc->resp_code;
		if (hc->resp_method == HTTP_REQ_CONNECT && code >= 200 && code <= 299) {
			http_switch(hc);
			return;
		}
		if (code == 101 && d->upgrade && d->conn_upgrade) {
			http_switch(hc);
			return;
		}
		d->upgrade = d->conn_upgrade = false;
		if (hc->resp_method == HTTP_REQ_HEAD || (code >= 100 && code <= 199) ||
		    code == 204 || code == 304) {
			http_body_end(hc, fc);
			return;
		}
	}
	if (d->chunked) {
		d->st = HP_CHUNK_SIZE;
	} else if (d->has_len && d->cl) {
		d->st = HP_BODY_LEN;
		d->body_left = d->cl;
	} else if (d->has_len || fc) {
		http_body_end(hc, fc);
	} else {
		d->st = HP_BODY_CLOSE;
	}
}

size_t http_body_data(struct http_conn *hc, int fc, const uint8_t *data, size_t len, uint64_t ts)
{
	struct http_dir *d = &hc->dir[fc];

	(void)data;
	(void)ts;
	if (d->st == HP_BODY_CLOSE) {
		d->body_len += len;
		return len;
	}
	size_t k = d->body_left < len ? (size_t)d->body_left : len;
	d->body_len += k;
	d->body_left -= k;
	if (!d->body_left) {
		if (d->st == HP_BODY_LEN)
			http_body_end(hc, fc);
		else
			d->st = HP_CHUNK_END;
	}
	return k;
}

/* A chunk-size line: hex digits, then optional whitespace and ";extensions". Sets *size;
 * -1 for no digits, -2 for a size beyond 64 bits. */
static int http_chunk_size(const uint8_t *p, size_t n, uint64_t *size)
{
	uint64_t x = 0;
	size_t i = 0;

	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	size_t start = i;
	for (; i < n; i++) {
		uint8_t ch = p[i];
		unsigned v;
		if (ch >= '0' && ch <= '9')
			v = ch - '0';
		else if (ch >= 'a' && ch <= 'f')
			v = ch - 'a' + 10;
		else if (ch >= 'A' && ch <= 'F')
			v = ch - 'A' + 10;
		else
			break;
		if (x >> 60)
			return -2;
		x = x << 4 | v;
	}
	if (i == start)
		return -1;
	*size = x;
	return 0;
}

void http_body_line(struct http_conn *hc, int fc, const uint8_t *p, size_t n, uint64_t ts)
{
	struct http_dir *d = &hc->dir[fc];
	uint64_t size = 0;

	(void)ts;
	switch (d->st) {
	case HP_CHUNK_END:
		if (!n) {
			d->st = HP_CHUNK_SIZE;
			return;
		}
		counter_inc(&c_http_chunk_crlf); /* read it as the next size line */
						 /* fall through */
	case HP_CHUNK_SIZE:
		switch (http_chunk_size(p, n, &size)) {
		case -2:
			counter_inc(&c_http_chunk_overflow);
			d->st = HP_NOTHING;
			return;
		case -1:
			counter_inc(&c_http_chunk_bad);
			d->st = HP_NOTHING;
			return;
		}
		if (size) {
			d->st = HP_CHUNK_DATA;
			d->body_left = size;
		} else {
			d->st = HP_TRAILERS;
		}
		return;
	case HP_TRAILERS:
		if (!n)
			http_body_end(hc, fc);
		return;
	default:
		return;
	}
}
