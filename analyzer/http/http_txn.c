// SPDX-License-Identifier: Apache-2.0
/*
 * http_txn.c - HTTP transactions and their http.log records, paired as Zeek's HTTP scripts
 * pair them (base/protocols/http/main.zeek): requests and responses are numbered per
 * connection, the n-th response belongs to the n-th request (pipelining, keep-alive), a 1xx
 * response keeps the record open for the final one (info_code/info_msg), a response with no
 * request gets a record of its own, trans_depth numbers the records of a connection in the
 * order they were made. A record is written when its final response ends, or at the
 * connection's end for what is still pending; more than max_pending waiting requests are all
 * written and the numbering restarts (Zeek's max_pending_requests), so a connection holds a
 * bounded queue. Strings a record keeps (each at most a line) live in the transaction's own
 * buffer, counted in the connection's bytes.
 *
 * Unlike Zeek, a request does not wait for its connection's end forever: once its message has
 * ended it joins the module's list of waiting requests (all connections, oldest first) and
 * leaves it when its response begins; one still there --http-timeout later is written without
 * a response. A response that comes after that gets a record of its own (as one without a
 * request does), counted http_response_after_timeout.
 */
#include <stdlib.h>
#include <string.h>

#include "counter.h"
#include "http.h"
#include "http_rec.h"

PANO_COUNTER(c_http_records, "http_records", "event", "http.log records written");
PANO_COUNTER(c_http_pipelining, "http_excessive_pipelining", "weird",
	     "HTTP connections with more than --http-max-pending requests awaiting responses "
	     "(all written unanswered, the pairing restarted)");
PANO_COUNTER(c_http_resp_first, "http_response_before_request", "weird",
	     "HTTP responses that came before their request");
PANO_COUNTER(c_http_txn_nomem, "http_txn_nomem", "drop",
	     "HTTP transactions not recorded (no memory)");
PANO_COUNTER(c_http_txn_timeout, "http_txn_timeout", "event",
	     "HTTP requests written without a response after --http-timeout");
PANO_COUNTER(c_http_late_resp, "http_response_after_timeout", "weird",
	     "HTTP responses to requests already written unanswered by --http-timeout");
PANO_COUNTER(c_http_rec_cut, "http_record_cut", "drop",
	     "HTTP record strings left out (a transaction's string buffer was full)");

#define HTTP_PROXIED_MAX 8 /* proxy headers a record keeps */

struct http_txn {
	struct http_txn *next;
	struct http_conn *hc;
	struct http_txn *wprev, *wnext; /* on the state's waiting list (waiting set) */
	uint64_t wait_ts;		/* when it joined it */
	bool waiting;
	uint64_t idx, depth, ts, resp_ts;
	uint64_t req_body, resp_body;
	unsigned status, info_code;
	bool has_status, has_info, has_resp_ts;
	int method_kind;
	struct wbuf s;	/* the strings */
	struct wbuf px; /* proxied: "NAME -> value" strings, NUL-terminated */
	unsigned npx;
	uint32_t off[HF_N], len[HF_N];
	uint16_t set; /* bit per enum http_field */
};

/* Appends to one of t's buffers, the growth counted on the connection. */
static void txn_put(struct http_conn *hc, struct wbuf *b, const void *p, size_t n)
{
	size_t before = b->cap;

	wbuf_put(b, p, n);
	hc->bytes += b->cap - before;
	if (b->cut)
		counter_inc(&c_http_rec_cut);
}

static void txn_set(struct http_conn *hc, struct http_txn *t, enum http_field f, const void *p,
		    size_t n)
{
	size_t off = t->s.len;

	txn_put(hc, &t->s, p, n);
	if (t->s.cut)
		return;
	t->off[f] = (uint32_t)off;
	t->len[f] = (uint32_t)n;
	t->set |= (uint16_t)(1u << f);
}

static struct rec_str txn_str(const struct http_txn *t, enum http_field f)
{
	return rec_str(t->s.p + t->off[f], t->len[f]);
}

/* The pending transaction number idx, or NULL. */
static struct http_txn *txn_find(struct http_conn *hc, uint64_t idx)
{
	for (struct http_txn *t = hc->head; t; t = t->next)
		if (t->idx == idx)
			return t;
	return NULL;
}

/* Finds or makes the transaction number idx (a new one gets the next trans_depth). */
static struct http_txn *txn_get(struct http_conn *hc, uint64_t idx, uint64_t ts)
{
	struct http_txn *t = txn_find(hc, idx), **pp = &hc->head;

	if (t)
		return t;
	t = calloc(1, sizeof(*t));
	if (!t) {
		counter_inc(&c_http_txn_nomem);
		return NULL;
	}
	t->hc = hc;
	t->idx = idx;
	t->depth = ++hc->depth;
	t->ts = ts;
	t->s.max = 8 * hc->hs->cfg.max_line + 1024;
	t->px.max = 2 * hc->hs->cfg.max_line;
	while (*pp && (*pp)->idx < idx)
		pp = &(*pp)->next;
	t->next = *pp;
	*pp = t;
	hc->npending++;
	hc->hs->pending++;
	hc->bytes += sizeof(*t);
	return t;
}

/* The request of t is whole and awaits its response (from packet time now): t joins the
 * waiting list's tail, unless no timeout is set. */
static void txn_wait(struct http_conn *hc, struct http_txn *t, uint64_t now)
{
	struct http_state *hs = hc->hs;

	if (!hs->cfg.timeout_ns || t->waiting || t->has_resp_ts)
		return;
	t->waiting = true;
	t->wait_ts = now;
	t->wnext = NULL;
	t->wprev = hs->wait_tail;
	if (hs->wait_tail)
		hs->wait_tail->wnext = t;
	else
		hs->wait_head = t;
	hs->wait_tail = t;
}

/* t's response began, or t goes: off the waiting list. */
static void txn_unwait(struct http_state *hs, struct http_txn *t)
{
	if (!t->waiting)
		return;
	if (t->wprev)
		t->wprev->wnext = t->wnext;
	else
		hs->wait_head = t->wnext;
	if (t->wnext)
		t->wnext->wprev = t->wprev;
	else
		hs->wait_tail = t->wprev;
	t->waiting = false;
}

static void txn_free(struct http_conn *hc, struct http_txn *t)
{
	txn_unwait(hc->hs, t);
	hc->bytes -= sizeof(*t) + t->s.cap + t->px.cap;
	wbuf_free(&t->s);
	wbuf_free(&t->px);
	free(t);
}

/* Writes t's record and drops it from the queue. */
static void txn_emit(struct http_conn *hc, struct http_txn *t)
{
	static const enum http_field fs[] = {HF_METHOD,	  HF_HOST,	 HF_URI,    HF_REFERRER,
					     HF_VERSION,  HF_USER_AGENT, HF_ORIGIN, HF_STATUS_MSG,
					     HF_INFO_MSG, HF_USERNAME};
	struct l7_tcp_ctx *c = hc->c;
	struct http_rec r;
	struct http_txn **pp = &hc->head;

	memset(&r, 0, sizeof(r));
	REC_SET(&r, ts, t->ts);
	REC_SET(&r, uid, rec_cstr(hc->uid));
	REC_SET(&r, id_orig_h, rec_cstr(hc->orig_s));
	REC_SET(&r, id_orig_p, c->client_port);
	REC_SET(&r, id_resp_h, rec_cstr(hc->resp_s));
	REC_SET(&r, id_resp_p, c->server_port);
	REC_SET(&r, trans_depth, t->depth);
	for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++) {
		if (!(t->set & (1u << fs[i])))
			continue;
		struct rec_str v = txn_str(t, fs[i]);
		switch (fs[i]) {
		case HF_METHOD:
			REC_SET(&r, method, v);
			break;
		case HF_HOST:
			REC_SET(&r, host, v);
			break;
		case HF_URI:
			REC_SET(&r, uri, v);
			break;
		case HF_REFERRER:
			REC_SET(&r, referrer, v);
			break;
		case HF_VERSION:
			REC_SET(&r, version, v);
			break;
		case HF_USER_AGENT:
			REC_SET(&r, user_agent, v);
			break;
		case HF_ORIGIN:
			REC_SET(&r, origin, v);
			break;
		case HF_STATUS_MSG:
			REC_SET(&r, status_msg, v);
			break;
		case HF_INFO_MSG:
			REC_SET(&r, info_msg, v);
			break;
		case HF_USERNAME:
			REC_SET(&r, username, v);
			break;
		default:
			break;
		}
	}
	REC_SET(&r, request_body_len, t->req_body);
	REC_SET(&r, response_body_len, t->resp_body);
	if (t->has_status)
		REC_SET(&r, status_code, t->status);
	if (t->has_info)
		REC_SET(&r, info_code, t->info_code);
	REC_SET(&r, tags, ((struct rec_strv){"", 0, 0}));
	if (t->npx)
		REC_SET(&r, proxied, ((struct rec_strv){t->px.p, t->px.len, t->npx}));
	if (t->has_resp_ts && t->resp_ts >= t->ts && t->set & (1u << HF_METHOD))
		REC_SET(&r, latency, t->resp_ts - t->ts);
	if (c->src && c->src->node)
		REC_SET(&r, node, rec_cstr(c->src->node));
	SENDER_REC_CONN(&r, hc->hs->senders, hc->who);
	rec_emit(&hc->hs->emit, &http_rec_type, &r);
	counter_inc(&c_http_records);

	while (*pp && *pp != t)
		pp = &(*pp)->next;
	if (*pp)
		*pp = t->next;
	if (hc->req == t)
		hc->req = NULL;
	if (hc->resp == t)
		hc->resp = NULL;
	hc->npending--;
	hc->hs->pending--;
	txn_free(hc, t);
}

static int http_hexv(uint8_t ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
		return (ch | 0x20) - 'a' + 10;
	return -1;
}

/* Two hex digits at p as a byte, or -1. */
static int http_hex2(const uint8_t *p)
{
	int h = http_hexv(p[0]), l = http_hexv(p[1]);
	return h < 0 || l < 0 ? -1 : h << 4 | l;
}

/* Zeek's unescape_URI into out (never longer than n): %XX decoded, %uXXXX as two bytes; a '%'
 * at the end, or before one last character, or before anything else, kept as it is. */
static size_t http_unescape(const uint8_t *p, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int b, b2;
		if (p[i] != '%') {
			out[o++] = (char)p[i];
		} else if (i + 1 == n) {
			out[o++] = '%';
		} else if (i + 2 == n) {
			out[o++] = '%';
			out[o++] = (char)p[++i];
		} else if ((b = http_hex2(p + i + 1)) >= 0) {
			out[o++] = (char)b;
			i += 2;
		} else if (n - (i + 1) >= 5 && p[i + 1] == 'u' && (b = http_hex2(p + i + 2)) >= 0 &&
			   (b2 = http_hex2(p + i + 4)) >= 0) {
			out[o++] = (char)b;
			out[o++] = (char)b2;
			i += 5;
		} else {
			out[o++] = '%';
			out[o++] = (char)p[++i];
		}
	}
	return o;
}

void http_txn_request(struct http_conn *hc, const uint8_t *method, size_t mlen, const uint8_t *uri,
		      size_t ulen, bool v09, uint64_t ts)
{
	if (hc->cur_request < hc->cur_response) {
		counter_inc(&c_http_resp_first);
		hc->cur_request = hc->cur_response;
	}
	if (hc->hs->cfg.max_pending && hc->npending >= hc->hs->cfg.max_pending) {
		counter_inc(&c_http_pipelining);
		while (hc->head)
			txn_emit(hc, hc->head);
		hc->cur_response = hc->cur_request;
	}
	hc->req09 = v09;
	struct http_txn *t = txn_get(hc, ++hc->cur_request, ts);
	hc->req = t;
	if (!t)
		return;
	txn_set(hc, t, HF_METHOD, method, mlen);
	if (mlen == 4 && memcmp(method, "HEAD", 4) == 0)
		t->method_kind = HTTP_REQ_HEAD;
	else if (mlen == 7 && strncasecmp((const char *)method, "CONNECT", 7) == 0)
		t->method_kind = HTTP_REQ_CONNECT;
	/* the unescaped URI is never longer: written in place */
	size_t before = t->s.cap, off = t->s.len;
	char *w = wbuf_room(&t->s, ulen);
	hc->bytes += t->s.cap - before;
	if (!w) {
		counter_inc(&c_http_rec_cut);
		return;
	}
	size_t n = http_unescape(uri, ulen, w);
	wbuf_done(&t->s, w + n);
	t->off[HF_URI] = (uint32_t)off;
	t->len[HF_URI] = (uint32_t)n;
	t->set |= 1u << HF_URI;
	if (v09) /* the request is its line */
		txn_wait(hc, t, ts);
}

static const uint8_t b64_val[256] = {
    ['A'] = 1,	['B'] = 2,  ['C'] = 3,	['D'] = 4,  ['E'] = 5,	['F'] = 6,  ['G'] = 7,	['H'] = 8,
    ['I'] = 9,	['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
    ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
    ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
    ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
    ['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
    ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
    ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
};

/* Base64 into out (at most n * 3 / 4 bytes): characters outside the alphabet are skipped (as
 * Zeek's decoder does), '=' ends it. Returns the bytes written. */
static size_t http_b64(const uint8_t *p, size_t n, char *out)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < n && p[i] != '='; i++) {
		if (!b64_val[p[i]])
			continue;
		acc = acc << 6 | (uint32_t)(b64_val[p[i]] - 1);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)(acc >> bits);
		}
	}
	return o;
}

/* Authorization: Basic: the user name (before the first ':'); the password is never kept. */
static void http_basic_auth(struct http_conn *hc, struct http_txn *t, const uint8_t *v, size_t n)
{
	char dec[768];
	size_t i = 6;

	if (n < 6 || strncasecmp((const char *)v, "basic ", 6) != 0)
		return;
	while (i < n && (v[i] == ' ' || v[i] == '\t'))
		i++;
	size_t take = n - i > (sizeof(dec) / 3) * 4 ? (sizeof(dec) / 3) * 4 : n - i;
	size_t dn = http_b64(v + i, take, dec);
	const char *colon = memchr(dec, ':', dn);
	if (colon) {
		txn_set(hc, t, HF_USERNAME, dec, (size_t)(colon - dec));
		return;
	}
	/* as Zeek: "<problem-decoding> (VALUE)" */
	size_t off = t->s.len;
	txn_put(hc, &t->s, "<problem-decoding> (", 20);
	txn_put(hc, &t->s, v, n);
	txn_put(hc, &t->s, ")", 1);
	if (!t->s.cut) {
		t->off[HF_USERNAME] = (uint32_t)off;
		t->len[HF_USERNAME] = (uint32_t)(t->s.len - off);
		t->set |= 1u << HF_USERNAME;
	}
}

/* Zeek's proxy_headers (base/protocols/http/main.zeek). */
static const char *const http_proxy_headers[] = {
    "FORWARDED", "X-FORWARDED-FOR",  "X-FORWARDED-FROM", "CLIENT-IP",
    "VIA",	 "XROXY-CONNECTION", "PROXY-CONNECTION",
};

/* Adds "NAME -> value" to t's proxied set (once). */
static void http_proxied(struct http_conn *hc, struct http_txn *t, const char *uname,
			 const uint8_t *v, size_t n)
{
	size_t nl = strlen(uname), off = t->px.len;

	if (t->npx == HTTP_PROXIED_MAX) {
		counter_inc(&c_http_rec_cut);
		return;
	}
	txn_put(hc, &t->px, uname, nl);
	txn_put(hc, &t->px, " -> ", 4);
	txn_put(hc, &t->px, v, n);
	txn_put(hc, &t->px, "", 1);
	if (t->px.cut)
		return;
	/* a duplicate of an earlier entry is taken back */
	const char *e = t->px.p + off;
	size_t el = t->px.len - off;
	for (const char *s = t->px.p; s < e; s += strlen(s) + 1)
		if ((size_t)(strlen(s) + 1) == el && memcmp(s, e, el) == 0) {
			t->px.len = off;
			t->px.p[off] = '\0';
			return;
		}
	t->npx++;
}

void http_txn_req_header(struct http_conn *hc, const char *uname, const uint8_t *v, size_t vn)
{
	struct http_txn *t = hc->req;

	if (!t)
		return;
	if (strcmp(uname, "HOST") == 0)
		txn_set(hc, t, HF_HOST, v, vn);
	else if (strcmp(uname, "REFERER") == 0)
		txn_set(hc, t, HF_REFERRER, v, vn);
	else if (strcmp(uname, "ORIGIN") == 0)
		txn_set(hc, t, HF_ORIGIN, v, vn);
	else if (strcmp(uname, "USER-AGENT") == 0)
		txn_set(hc, t, HF_USER_AGENT, v, vn);
	else if (strcmp(uname, "AUTHORIZATION") == 0 || strcmp(uname, "PROXY-AUTHORIZATION") == 0)
		http_basic_auth(hc, t, v, vn);
	else
		for (size_t i = 0; i < sizeof(http_proxy_headers) / sizeof(http_proxy_headers[0]);
		     i++)
			if (strcmp(uname, http_proxy_headers[i]) == 0) {
				http_proxied(hc, t, uname, v, vn);
				break;
			}
}

void http_txn_request_done(struct http_conn *hc, uint64_t body_len)
{
	if (hc->req) {
		hc->req->req_body = body_len;
		txn_wait(hc, hc->req, hc->now);
	}
	hc->req = NULL;
}

int http_txn_reply(struct http_conn *hc, const char *version, unsigned code, const uint8_t *reason,
		   size_t rlen, uint64_t ts)
{
	struct http_txn *t = txn_find(hc, hc->cur_response);

	/* a 1xx keeps the record for the final response */
	if (!t || (t->has_status && (t->status < 100 || t->status > 199)))
		hc->cur_response++;
	bool late = hc->expired_idx == hc->cur_response && !txn_find(hc, hc->cur_response);
	t = txn_get(hc, hc->cur_response, ts);
	hc->resp = t;
	if (!t)
		return 0;
	txn_unwait(hc->hs, t);
	if (late) { /* its request went out unanswered: the body rules are still its method's */
		counter_inc(&c_http_late_resp);
		t->method_kind = hc->expired_method;
		hc->expired_idx = 0;
	}
	t->status = code;
	t->has_status = true;
	if (!reason) {
		reason = (const uint8_t *)"<empty>";
		rlen = 7;
	}
	txn_set(hc, t, HF_STATUS_MSG, reason, rlen);
	txn_set(hc, t, HF_VERSION, version, strlen(version));
	if (code >= 100 && code <= 199) {
		t->info_code = code;
		t->has_info = true;
		txn_set(hc, t, HF_INFO_MSG, reason, rlen);
	}
	if (!t->has_resp_ts) {
		t->resp_ts = ts;
		t->has_resp_ts = true;
	}
	return t->method_kind;
}

void http_txn_reply_done(struct http_conn *hc, uint64_t body_len)
{
	struct http_txn *t = hc->resp;

	if (!t)
		return;
	t->resp_body = body_len;
	if (t->status >= 100 && t->status <= 199)
		return; /* the final response comes later */
	txn_emit(hc, t);
}

void http_txn_close(struct http_conn *hc)
{
	/* a message still being read ends here, with what came (Zeek: EndpointEOF) */
	if (hc->resp && hc->dir[0].st != HP_START)
		hc->resp->resp_body = hc->dir[0].body_len;
	if (hc->req && hc->dir[1].st != HP_START)
		hc->req->req_body = hc->dir[1].body_len;
	while (hc->head)
		txn_emit(hc, hc->head);
}

void http_txn_free_all(struct http_conn *hc)
{
	while (hc->head) {
		struct http_txn *t = hc->head;
		hc->head = t->next;
		hc->npending--;
		hc->hs->pending--;
		txn_free(hc, t);
	}
	hc->req = hc->resp = NULL;
}

void http_txn_tick(struct http_state *hs, uint64_t now_ns)
{
	struct http_txn *t;

	while ((t = hs->wait_head) && now_ns >= t->wait_ts &&
	       now_ns - t->wait_ts >= hs->cfg.timeout_ns) {
		struct http_conn *hc = t->hc;
		counter_inc(&c_http_txn_timeout);
		hc->expired_idx = t->idx;
		hc->expired_method = t->method_kind;
		txn_emit(hc, t);
	}
}
