/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http.h - HTTP/1.x -> http.log. The module's row (http_proto, http.c), its configuration, and
 * the pieces its files share:
 *   http.c       the l7 row: options, state, port match and payload detection, TCP callbacks
 *   http_parse.c per direction: a bounded line scanner, request/status lines, header fields
 *   http_body.c  message bodies: Content-Length, chunked (extensions, trailers), until close
 *   http_txn.c   transactions: requests and responses paired first-in first-out as Zeek
 *                does (pipelining, 1xx, CONNECT, HTTP/0.9, Upgrade), the records
 * Bodies are counted, never stored. Everything a connection holds is bounded (line and header
 * caps, a pending-request cap) and counted in l7_tcp_ctx.buf_bytes.
 */
#ifndef PANO_HTTP_H
#define PANO_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "l7.h"
#include "sender.h"
#include "wbuf.h"

#define HTTP_MAX_PORTS 16

struct http_config {
	uint16_t ports[HTTP_MAX_PORTS]; /* bound at the SYN; other TCP is looked at (detect) */
	unsigned nports;
	uint32_t max_line;    /* bytes of a start or header line kept (the rest skipped) */
	uint32_t max_headers; /* header lines a message may have; the rest are skipped */
	uint32_t max_pending; /* requests awaiting responses per connection (Zeek's
			       * max_pending_requests): above it, all are logged and the queue
			       * restarts */
	uint64_t timeout_ns;  /* a request that has waited this long (packet time) for its
			       * response is written without one (0: only at the connection's
			       * end, as Zeek) */
};

extern const struct l7_proto http_proto;

void http_config_default(struct http_config *cfg);

/* ---- parsing one direction (http_parse.c, http_body.c) ---------------------------------- */
enum http_pstate {
	HP_START,      /* expecting a request line / status line */
	HP_HEADERS,    /* header lines until an empty one */
	HP_BODY_LEN,   /* body_left bytes (Content-Length) */
	HP_CHUNK_SIZE, /* a chunk-size line */
	HP_CHUNK_DATA, /* body_left bytes of a chunk */
	HP_CHUNK_END,  /* the CRLF after a chunk's data */
	HP_TRAILERS,   /* trailer lines after the last chunk */
	HP_BODY_CLOSE, /* everything until the connection closes (a response without length,
			* an HTTP/0.9 response) */
	HP_NOTHING,    /* not parsed any more: a tunnel, an upgrade, a violation, a gap */
};

struct http_dir {
	enum http_pstate st;
	uint8_t *line; /* a line that spans deliveries, at most max_line bytes kept */
	size_t line_len, line_cap;
	bool line_cut; /* the current line passed max_line: the rest is skipped */
	bool chunked;  /* Transfer-Encoding: chunked */
	bool has_len;  /* a Content-Length was given */
	uint64_t cl;   /* its value */
	uint64_t body_left;
	uint64_t body_len; /* body bytes of the current message (after chunk decoding) */
	unsigned nheaders;
	bool conn_upgrade; /* a response's Connection: upgrade */
	bool upgrade;	   /* a response's Upgrade: header */
};

struct http_txn;

/* One connection. */
struct http_conn {
	struct http_state *hs;
	struct l7_tcp_ctx *c;
	struct http_dir dir[2]; /* [1] client -> server (requests), [0] responses */
	/* Transactions as Zeek counts them (base/protocols/http/main.zeek): requests and
	 * responses by index, a response paired with the request of the same index. */
	struct http_txn *head, *tail; /* pending, by index */
	unsigned npending;
	uint64_t cur_request, cur_response, depth;
	struct http_txn *req;  /* the transaction the request being parsed fills, or NULL */
	struct http_txn *resp; /* the one the response being parsed fills, or NULL */
	bool req09;	       /* the last request was HTTP/0.9: the reply is raw until close */
	bool tunnel;	       /* CONNECT answered 2xx: the rest is not HTTP */
	bool confirmed;	       /* a request line was good: the connection is HTTP */
	uint64_t now;	       /* packet time of the bytes being parsed */
	uint64_t resp_ts;      /* when the current response began */
	unsigned resp_code;    /* its status code */
	int resp_method;       /* its request's HTTP_REQ_* class */
	uint64_t expired_idx;  /* the last request written unanswered by the timeout ... */
	int expired_method;    /* ... and its HTTP_REQ_* class, for its late response's body */
	struct sender_ref who[2]; /* [1] the client's sender, [0] the server's (sender.h) */
	char uid[24];
	char orig_s[46], resp_s[46];
	size_t bytes; /* what this connection holds (l7_tcp_ctx.buf_bytes) */
};

/* Feeds in-order stream bytes of one direction. */
void http_parse(struct http_conn *hc, int from_client, const uint8_t *data, size_t len,
		uint64_t ts_ns);
/* A hole of len bytes (0: not known) in one direction: a body until close goes on, and so does
 * a body of known length the hole lies inside (its bytes counted, not seen); anything else
 * stops that side (a gap in the requests stops both, since a response's framing may depend on
 * its request). */
void http_parse_gap(struct http_conn *hc, int from_client, uint64_t len);
/* Frees a direction's line buffer. */
void http_dir_free(struct http_conn *hc, struct http_dir *d);

/* Body framing (http_body.c): the headers of a message are done; sets d->st. */
void http_body_begin(struct http_conn *hc, int from_client, uint64_t ts_ns);
/* The message of direction fc is complete (or cut short): the transaction learns its body
 * length and the direction expects the next start line. */
void http_body_end(struct http_conn *hc, int fc);
/* Consumes body bytes in the body states; returns the bytes used (<= len). A line the chunk
 * framing needs is left to the line scanner (return 0 in HP_CHUNK_SIZE/END/TRAILERS). */
size_t http_body_data(struct http_conn *hc, int from_client, const uint8_t *data, size_t len,
		      uint64_t ts_ns);
/* A chunk-size line, the line after a chunk, or a trailer line (chunked framing). */
void http_body_line(struct http_conn *hc, int from_client, const uint8_t *p, size_t n,
		    uint64_t ts_ns);

/* ---- transactions (http_txn.c) --------------------------------------------------------- */
enum http_field {
	HF_METHOD,
	HF_HOST,
	HF_URI,
	HF_REFERRER,
	HF_VERSION,
	HF_USER_AGENT,
	HF_ORIGIN,
	HF_STATUS_MSG,
	HF_INFO_MSG,
	HF_USERNAME,
	HF_N
};

void http_txn_request(struct http_conn *hc, const uint8_t *method, size_t mlen, const uint8_t *uri,
		      size_t ulen, bool v09, uint64_t ts_ns);
/* A client header the record keeps (name upper-cased by the caller, value trimmed). */
void http_txn_req_header(struct http_conn *hc, const char *uname, const uint8_t *v, size_t vn);
void http_txn_request_done(struct http_conn *hc, uint64_t body_len);
/* A status line (version "1.1", code, reason); returns the request method's class for the
 * body rules: HTTP_REQ_HEAD, HTTP_REQ_CONNECT or 0. */
#define HTTP_REQ_HEAD	 1
#define HTTP_REQ_CONNECT 2
int http_txn_reply(struct http_conn *hc, const char *version, unsigned code, const uint8_t *reason,
		   size_t rlen, uint64_t ts_ns);
void http_txn_reply_done(struct http_conn *hc, uint64_t body_len);
/* The connection ends: a body until close is complete, every pending record is written. */
void http_txn_close(struct http_conn *hc);
void http_txn_free_all(struct http_conn *hc);
/* Packet time is now_ns: requests that have waited cfg.timeout_ns for their response since
 * their message ended are written without it (counted http_txn_timeout). */
void http_txn_tick(struct http_state *hs, uint64_t now_ns);

/* The per-engine state (http.c). */
struct http_state {
	struct http_config cfg;
	struct rec_emit emit;
	struct sender_table *senders; /* who sent each side's frames (the engine's table) */
	/* The requests of every connection that are whole and await their response, oldest
	 * first (the order their messages ended in): what the timeout looks at. */
	struct http_txn *wait_head, *wait_tail;
	uint64_t conns, pending; /* open now (gauges) */
};

#endif
