// SPDX-License-Identifier: Apache-2.0
/*
 * http_parse.c - one direction of an HTTP/1.x connection as lines: a bounded line scanner
 * (a line ends at LF, a CR before it is dropped; a line that spans deliveries is copied into
 * a buffer of at most max_line bytes, the rest of a longer one skipped and counted), then the
 * request line, the status line and header fields, read the way Zeek's HTTP analyzer reads
 * them (request-line tokens, URI characters, the version search, %-unescaping). Bodies are
 * http_body.c's; what the record keeps goes to http_txn.c.
 */
#include <stdlib.h>
#include <string.h>

#include "counter.h"
#include "cursor.h"
#include "http.h"

PANO_COUNTER(c_http_line_cut, "http_line_cut", "weird",
	     "HTTP lines longer than --http-max-line (the rest skipped)");
PANO_COUNTER(c_http_bad_request, "http_bad_request_line", "weird",
	     "HTTP request lines that are not one (requests of the connection no longer read)");
PANO_COUNTER(c_http_bad_reply, "http_bad_status_line", "weird",
	     "HTTP status lines that are not one (responses of the connection no longer read)");
PANO_COUNTER(c_http_bad_header, "http_bad_header", "weird",
	     "HTTP header lines without a colon, or folded (skipped)");
PANO_COUNTER(c_http_headers_over, "http_headers_over", "weird",
	     "HTTP messages with more header lines than --http-max-headers (the rest skipped)");
PANO_COUNTER(c_http_bad_length, "http_bad_content_length", "weird",
	     "HTTP Content-Length values that are not a number below 2^64 (ignored)");
PANO_COUNTER(c_http_gap_body, "http_gap_in_body", "event",
	     "TCP holes inside an HTTP body of known length: counted as body bytes, parsing goes on");
PANO_COUNTER(c_http_gap_stop, "http_gap", "drop",
	     "HTTP directions no longer read after a hole in the stream");
PANO_COUNTER(c_http_09_late, "http_09_reply_before_request", "weird",
	     "HTTP/0.9 requests that came while a response was being read (it ends there)");
PANO_COUNTER(c_http_line_nomem, "http_line_nomem", "drop",
	     "HTTP lines cut short for want of memory");

#define HTTP_LINE_KEEP 1024 /* a larger line buffer is freed once its line is read */

static bool http_ws(uint8_t ch)
{
	return ch == ' ' || ch == '\t';
}

/* RFC 2616 token characters, as Zeek's request-line reader takes them. */
static bool http_token_char(uint8_t ch)
{
	return ch > 31 && ch < 127 && !strchr(" \t()<>@,;:\\\"/[]?={}", ch);
}

/* Characters a request URI may hold (reserved, unreserved, '%'). */
static bool http_uri_char(uint8_t ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch && strchr(";/?:@&=+$,#[]-_.!~*'()%", ch));
}

static const uint8_t *http_skip_ws(const uint8_t *p, const uint8_t *end)
{
	while (p < end && http_ws(*p))
		p++;
	return p;
}

static bool http_prefix(const uint8_t *p, const uint8_t *end, const char *pre)
{
	size_t n = strlen(pre);
	return (size_t)(end - p) >= n && memcmp(p, pre, n) == 0;
}

/* "d.d" of an HTTP version into out ("1.1"); Zeek's "0.0" when it is not one. */
static void http_version_text(const uint8_t *p, const uint8_t *end, char out[4])
{
	if (end - p >= 3 && p[0] >= '0' && p[0] <= '9' && p[1] == '.' && p[2] >= '0' && p[2] <= '9')
		memcpy(out, p, 3);
	else
		memcpy(out, "0.0", 3);
	out[3] = '\0';
}

static void http_stop(struct http_dir *d)
{
	d->st = HP_NOTHING;
}

/* A start line that is not one: once the connection has shown a good request, it is not
 * HTTP any more and neither side is read (Zeek disables its analyzer); before that, only
 * this side stops (a server's answers to garbage are still logged, as Zeek does). */
static void http_violation(struct http_conn *hc, int fc)
{
	http_stop(&hc->dir[fc]);
	if (hc->confirmed)
		http_stop(&hc->dir[!fc]);
}

/* A request line: METHOD SP URI [SP HTTP/d.d]. Zeek's rules: the method is a token; the URI
 * runs over URI characters and then up to the whitespace before "HTTP/"; no "HTTP/" means
 * HTTP/0.9, which needs a method of three or more characters and a URI. Anything else is a
 * bad request line: the client side is not read any more (its responses still are). */
static void http_request_line(struct http_conn *hc, const uint8_t *p, size_t n, uint64_t ts)
{
	struct cursor cur = cursor_init(p, n);
	const uint8_t *line = cur_take(&cur, n), *end = line + n;
	const uint8_t *m_end = line, *rest, *u_end, *v;

	while (m_end < end && http_token_char(*m_end))
		m_end++;
	rest = http_skip_ws(m_end, end);
	if (m_end == line || rest == m_end)
		goto bad;
	for (u_end = rest; u_end < end && http_uri_char(*u_end); u_end++)
		;
	if (u_end >= end && http_prefix(rest, end, "HTTP/"))
		u_end = rest; /* a version and no URI */
	for (v = u_end; v < end; v++) {
		u_end = v;
		v = http_skip_ws(v, end);
		if (http_prefix(v, end, "HTTP/"))
			break;
	}
	bool v09 = v >= end;
	if (v09) {
		if (m_end - line < 3 || u_end == rest)
			goto bad;
	}
	if (v09 && hc->dir[0].st != HP_START && hc->dir[0].st != HP_NOTHING) {
		/* a response was being read: it ends here, what follows is the raw reply */
		counter_inc(&c_http_09_late);
		http_body_end(hc, 0);
	}
	hc->confirmed = true;
	hc->dir[1].body_len = 0;
	http_txn_request(hc, line, (size_t)(m_end - line), rest, (size_t)(u_end - rest), v09, ts);
	hc->dir[1].st = HP_HEADERS;
	return;
bad:
	counter_inc(&c_http_bad_request);
	http_violation(hc, 1);
}

/* A status line: HTTP/d.d SP code [SP reason]. Not one: the responses are not read any more. */
static void http_status_line(struct http_conn *hc, const uint8_t *p, size_t n, uint64_t ts)
{
	struct cursor cur = cursor_init(p, n);
	const uint8_t *line = cur_take(&cur, n), *end = line + n, *r, *reason = NULL;
	char ver[4];
	unsigned code = 0;
	size_t rlen = 0;

	if (!http_prefix(line, end, "HTTP/"))
		goto bad;
	r = line + 5;
	http_version_text(r, end, ver);
	while (r < end && !http_ws(*r))
		r++;
	r = http_skip_ws(r, end);
	if (end - r < 3)
		goto bad;
	if (r[0] >= '0' && r[0] <= '9' && r[1] >= '0' && r[1] <= '9' && r[2] >= '0' && r[2] <= '9')
		code = (unsigned)(r[0] - '0') * 100 + (unsigned)(r[1] - '0') * 10 +
		       (unsigned)(r[2] - '0');
	r += 3;
	while (r < end && !http_ws(*r))
		r++;
	if (r < end) {
		reason = http_skip_ws(r, end);
		rlen = (size_t)(end - reason);
	}
	hc->resp_ts = ts;
	hc->dir[0].body_len = 0;
	hc->resp_code = code;
	hc->resp_method = http_txn_reply(hc, ver, code, reason, rlen, ts);
	hc->dir[0].st = HP_HEADERS;
	return;
bad:
	counter_inc(&c_http_bad_reply);
	http_violation(hc, 0);
}

/* Content-Length: decimal digits below 2^64 (surrounding whitespace allowed). */
static bool http_parse_len(const uint8_t *v, size_t n, uint64_t *out)
{
	uint64_t x = 0;
	size_t i = 0;

	while (i < n && v[i] >= '0' && v[i] <= '9') {
		unsigned dg = (unsigned)(v[i] - '0');
		if (x > (UINT64_MAX - dg) / 10)
			return false;
		x = x * 10 + dg;
		i++;
	}
	if (!i || http_skip_ws(v + i, v + n) != v + n)
		return false;
	*out = x;
	return true;
}

/* Does the comma-separated value list hold token tok (any case)? */
static bool http_has_token(const uint8_t *v, size_t n, const char *tok)
{
	size_t tl = strlen(tok);

	for (size_t i = 0; i + tl <= n; i++)
		if (strncasecmp((const char *)v + i, tok, tl) == 0 &&
		    (i == 0 || v[i - 1] == ',' || http_ws(v[i - 1])) &&
		    (i + tl == n || v[i + tl] == ',' || v[i + tl] == ';' || http_ws(v[i + tl])))
			return true;
	return false;
}

/* One header line of a message (or the empty line that ends the headers). */
static void http_header_line(struct http_conn *hc, int fc, const uint8_t *p, size_t n, uint64_t ts)
{
	struct http_dir *d = &hc->dir[fc];
	struct cursor cur = cursor_init(p, n);
	const uint8_t *line = cur_take(&cur, n), *end = line + n, *colon, *v, *ve;
	char name[24];
	size_t nl;

	if (!n) {
		http_body_begin(hc, fc, ts);
		return;
	}
	if (++d->nheaders == hc->hs->cfg.max_headers + 1)
		counter_inc(&c_http_headers_over);
	colon = memchr(line, ':', n);
	if (!colon || http_ws(line[0])) {
		counter_inc(&c_http_bad_header);
		return;
	}
	nl = (size_t)(colon - line);
	while (nl && http_ws(line[nl - 1]))
		nl--;
	if (nl >= sizeof(name))
		return; /* no header the record or the framing needs is that long */
	for (size_t i = 0; i < nl; i++)
		name[i] = (char)(line[i] >= 'a' && line[i] <= 'z' ? line[i] - 32 : line[i]);
	name[nl] = '\0';
	v = http_skip_ws(colon + 1, end);
	ve = end;
	while (ve > v && http_ws(ve[-1]))
		ve--;
	size_t vn = (size_t)(ve - v);

	/* framing first: read whatever the header count */
	if (strcmp(name, "CONTENT-LENGTH") == 0) {
		if (http_parse_len(v, vn, &d->cl))
			d->has_len = true;
		else
			counter_inc(&c_http_bad_length);
		return;
	}
	if (strcmp(name, "TRANSFER-ENCODING") == 0) {
		d->chunked = http_has_token(v, vn, "chunked");
		return;
	}
	if (d->nheaders > hc->hs->cfg.max_headers)
		return;
	if (!fc) {
		if (strcmp(name, "CONNECTION") == 0 && http_has_token(v, vn, "upgrade"))
			d->conn_upgrade = true;
		else if (strcmp(name, "UPGRADE") == 0 && vn)
			d->upgrade = true;
		return;
	}
	http_txn_req_header(hc, name, v, vn);
}

/* A complete line of direction fc (without its CR LF). */
static void http_line(struct http_conn *hc, int fc, const uint8_t *p, size_t n, uint64_t ts)
{
	struct http_dir *d = &hc->dir[fc];

	switch (d->st) {
	case HP_START:
		if (!n) /* blank lines between messages (Zeek: tolerated) */
			return;
		if (fc)
			http_request_line(hc, p, n, ts);
		else
			http_status_line(hc, p, n, ts);
		return;
	case HP_HEADERS:
		http_header_line(hc, fc, p, n, ts);
		return;
	case HP_CHUNK_SIZE:
	case HP_CHUNK_END:
	case HP_TRAILERS:
		http_body_line(hc, fc, p, n, ts);
		return;
	default:
		return;
	}
}

/* Appends n bytes of a line that spans deliveries (up to max_line; beyond, the line is cut). */
static void http_line_add(struct http_conn *hc, struct http_dir *d, const uint8_t *p, size_t n)
{
	size_t max = hc->hs->cfg.max_line;

	if (d->line_cut)
		return;
	if (d->line_len + n > max) {
		counter_inc(&c_http_line_cut);
		d->line_cut = true;
		n = max - d->line_len;
	}
	if (d->line_len + n > d->line_cap) {
		size_t cap = d->line_cap ? d->line_cap : 256;
		while (cap < d->line_len + n)
			cap *= 2;
		if (cap > max)
			cap = max;
		uint8_t *nb = realloc(d->line, cap);
		if (!nb) {
			counter_inc(&c_http_line_nomem);
			d->line_cut = true;
			return;
		}
		hc->bytes += cap - d->line_cap;
		d->line = nb;
		d->line_cap = cap;
	}
	memcpy(d->line + d->line_len, p, n);
	d->line_len += n;
}

void http_dir_free(struct http_conn *hc, struct http_dir *d)
{
	free(d->line);
	hc->bytes -= d->line_cap;
	d->line = NULL;
	d->line_cap = d->line_len = 0;
}

static bool http_body_state(enum http_pstate st)
{
	return st == HP_BODY_LEN || st == HP_CHUNK_DATA || st == HP_BODY_CLOSE;
}

void http_parse(struct http_conn *hc, int fc, const uint8_t *data, size_t len, uint64_t ts)
{
	struct http_dir *d = &hc->dir[fc];

	if (!fc && d->st == HP_START && hc->req09 && len) {
		/* HTTP/0.9: no status line, the body runs until the server closes (as Zeek
		 * logs it: version 0.9, code 0, no reason) */
		hc->resp_ts = ts;
		hc->resp_code = 0;
		hc->resp_method = http_txn_reply(hc, "0.9", 0, NULL, 0, ts);
		d->st = HP_BODY_CLOSE;
		d->body_len = 0;
	}
	while (len && d->st != HP_NOTHING) {
		if (http_body_state(d->st)) {
			size_t k = http_body_data(hc, fc, data, len, ts);
			data += k;
			len -= k;
			continue;
		}
		const uint8_t *nl = memchr(data, '\n', len);
		if (!nl) {
			http_line_add(hc, d, data, len);
			return;
		}
		size_t take = (size_t)(nl - data) + 1;
		const uint8_t *lp = data;
		size_t ln = take - 1;
		if (d->line_len || d->line_cut) {
			http_line_add(hc, d, data, ln);
			lp = d->line;
			ln = d->line_len;
		} else if (ln > hc->hs->cfg.max_line) {
			counter_inc(&c_http_line_cut);
			ln = hc->hs->cfg.max_line;
		}
		if (ln && lp[ln - 1] == '\r')
			ln--;
		data += take;
		len -= take;
		http_line(hc, fc, lp, ln, ts);
		d->line_len = 0;
		d->line_cut = false;
		if (d->line_cap > HTTP_LINE_KEEP)
			http_dir_free(hc, d);
	}
}

void http_parse_gap(struct http_conn *hc, int fc, uint64_t len)
{
	struct http_dir *d = &hc->dir[fc];

	if (d->st == HP_NOTHING)
		return;
	if (d->st == HP_BODY_CLOSE ||
	    (len && (d->st == HP_BODY_LEN || d->st == HP_CHUNK_DATA) && len <= d->body_left)) {
		counter_inc(&c_http_gap_body);
		while (len && d->st != HP_NOTHING) { /* counted as the body bytes they were */
			size_t k = len > SIZE_MAX ? SIZE_MAX : (size_t)len;
			k = http_body_data(hc, fc, NULL, k, 0);
			if (!k)
				break;
			len -= k;
		}
		return;
	}
	counter_inc(&c_http_gap_stop);
	d->line_len = 0;
	d->line_cut = false;
	http_stop(d);
	if (fc && hc->dir[0].st != HP_BODY_CLOSE)
		http_stop(&hc->dir[0]);
}
