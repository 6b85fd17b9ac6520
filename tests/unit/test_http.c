// SPDX-License-Identifier: Apache-2.0
/*
 * test_http.c - the HTTP module through its l7 row: streams fed as the TCP reassembler would
 * (either direction, any split), records caught at the emit callback and read back as JSON:
 * pipelining, keep-alive, chunked bodies with extensions and trailers, Content-Length, 1xx,
 * CONNECT, HTTP/0.9, Upgrade, Basic auth, proxied headers, splits at every byte, the caps,
 * hostile input (megabyte header lines, chunk sizes beyond 64 bits, 10^5 pipelined requests),
 * who sent each side (frames with a sender), and the timeout of unanswered requests (tick).
 */
#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "counter.h"
#include "http.h"
#include "http_rec.h"

#define MAXREC 256

struct catcher {
	cJSON *rec[MAXREC];
	int n, total;
	struct wbuf b;
};

static void catch_rec(void *arg, const struct rec_type *t, const void *rec)
{
	struct catcher *k = arg;

	t->json(rec, 0, &k->b);
	k->total++;
	if (k->n < MAXREC)
		k->rec[k->n++] = cJSON_Parse(k->b.p);
}

struct h {
	struct catcher k;
	struct rec_emit emit;
	struct l7_env env;
	struct http_config cfg;
	void *st;
	struct l7_tcp_ctx c;
	uint64_t ts;
};

static void h_open(struct h *h, void (*tune)(struct http_config *))
{
	memset(h, 0, sizeof(*h));
	h->k.b.max = 1 << 20;
	h->emit.fn = catch_rec;
	h->emit.arg = &h->k;
	h->env.emit = &h->emit;
	h->env.senders = sender_table_new(64); /* the engine's, here the harness's */
	http_config_default(&h->cfg);
	if (tune)
		tune(&h->cfg);
	h->st = http_proto.create(&h->cfg, &h->env);
	h->c.client.family = h->c.server.family = 4;
	memcpy(h->c.client.a, "\xc6\x12\x00\x0a", 4);
	memcpy(h->c.server.a, "\xc6\x12\x00\x02", 4);
	h->c.client_port = 40000;
	h->c.server_port = 80;
	h->c.conn_id = 7;
	h->ts = 1000000000ull;
}

static void h_send(struct h *h, int from_client, const void *p, size_t n)
{
	struct pano_pkt pkt = {.ts_ns = h->ts, .l4proto = IPPROTO_TCP};
	http_proto.on_tcp_data(h->st, &h->c, from_client, p, n, &pkt);
	h->ts += 1000000; /* 1 ms per delivery */
}

static void h_str(struct h *h, int from_client, const char *s)
{
	h_send(h, from_client, s, strlen(s));
}

/* s in one delivery whose frame names its sender w. */
static void h_who(struct h *h, int from_client, const char *s, const struct pano_sender *w)
{
	struct pano_frame f = {.ts_ns = h->ts, .meta = {.dir = -1, .sender = w}};
	struct pano_pkt pkt = {.ts_ns = h->ts, .frame = &f, .l4proto = IPPROTO_TCP};
	http_proto.on_tcp_data(h->st, &h->c, from_client, (const uint8_t *)s, strlen(s), &pkt);
	h->ts += 1000000;
}

static void h_close(struct h *h)
{
	http_proto.on_tcp_close(h->st, &h->c);
	CHECK_EQ_INT(h->c.buf_bytes, 0);
}

static void h_free(struct h *h)
{
	if (h->c.state)
		h_close(h);
	for (int i = 0; i < h->k.n; i++)
		cJSON_Delete(h->k.rec[i]);
	wbuf_free(&h->k.b);
	http_proto.destroy(h->st);
	sender_table_free(h->env.senders);
}

static const char *s_of(struct h *h, int i, const char *f)
{
	cJSON *v = i < h->k.n ? cJSON_GetObjectItem(h->k.rec[i], f) : NULL;
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static long long n_of(struct h *h, int i, const char *f)
{
	cJSON *v = i < h->k.n ? cJSON_GetObjectItem(h->k.rec[i], f) : NULL;
	return cJSON_IsNumber(v) ? (long long)v->valuedouble : -1;
}

static uint64_t cval(const char *name)
{
	struct pano_counter *c = counter_find(name);
	return c ? counter_get(c) : 0;
}

static void t_keepalive_pipelining(void)
{
	struct h h;
	h_open(&h, NULL);
	/* three pipelined requests in one delivery, answered in two */
	h_str(&h, 1,
	      "GET /a HTTP/1.1\r\nHost: x.test\r\nUser-Agent: t/1\r\nReferer: http://r/\r\n\r\n"
	      "HEAD /b HTTP/1.1\r\nHost: x.test\r\n\r\n"
	      "GET /c%20d HTTP/1.1\r\nHost: y.test:8080\r\nOrigin: http://o\r\n\r\n");
	h_str(&h, 0,
	      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
	      "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
	CHECK_EQ_INT(h.k.n, 2);
	h_str(&h, 0, "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nno!");
	CHECK_EQ_INT(h.k.n, 3);
	CHECK_EQ_STR(s_of(&h, 0, "method"), "GET");
	CHECK_EQ_STR(s_of(&h, 0, "uri"), "/a");
	CHECK_EQ_STR(s_of(&h, 0, "host"), "x.test");
	CHECK_EQ_STR(s_of(&h, 0, "user_agent"), "t/1");
	CHECK_EQ_STR(s_of(&h, 0, "referrer"), "http://r/");
	CHECK_EQ_STR(s_of(&h, 0, "version"), "1.1");
	CHECK_EQ_INT(n_of(&h, 0, "trans_depth"), 1);
	CHECK_EQ_INT(n_of(&h, 0, "response_body_len"), 5);
	CHECK_EQ_INT(n_of(&h, 0, "status_code"), 200);
	CHECK_EQ_STR(s_of(&h, 1, "method"), "HEAD"); /* Content-Length but no body: HEAD */
	CHECK_EQ_INT(n_of(&h, 1, "response_body_len"), 0);
	CHECK_EQ_INT(n_of(&h, 1, "trans_depth"), 2);
	CHECK_EQ_STR(s_of(&h, 2, "uri"), "/c d");
	CHECK_EQ_STR(s_of(&h, 2, "origin"), "http://o");
	CHECK_EQ_INT(n_of(&h, 2, "status_code"), 404);
	CHECK_EQ_STR(s_of(&h, 2, "status_msg"), "Not Found");
	CHECK_EQ_INT(n_of(&h, 2, "trans_depth"), 3);
	CHECK(cJSON_GetObjectItem(h.k.rec[0], "latency") != NULL);
	CHECK(cJSON_IsArray(cJSON_GetObjectItem(h.k.rec[0], "tags")));
	CHECK(s_of(&h, 0, "uid") && s_of(&h, 0, "uid")[0] == 'C');
	CHECK_EQ_STR(s_of(&h, 0, "uid"), s_of(&h, 2, "uid"));
	CHECK_EQ_STR(s_of(&h, 0, "id_orig_h"), "198.18.0.10");
	/* a second connection: keep-alive with requests one at a time, and a POST body */
	h_close(&h);
	h.c.conn_id = 8;
	for (int i = 0; i < 3; i++) {
		h_str(&h, 1, "POST /up HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd");
		h_str(&h, 0, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
	}
	CHECK_EQ_INT(h.k.n, 6);
	CHECK_EQ_INT(n_of(&h, 5, "trans_depth"), 3);
	CHECK_EQ_INT(n_of(&h, 5, "request_body_len"), 4);
	CHECK(strcmp(s_of(&h, 5, "uid"), s_of(&h, 0, "uid")) != 0);
	h_free(&h);
}

static void t_chunked(void)
{
	struct h h;
	h_open(&h, NULL);
	h_str(&h, 1,
	      "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	      "5;name=value\r\nhello\r\n1A \r\n0123456789abcdefghijklmnop\r\n0\r\n"
	      "X-Trailer: yes\r\nX-More: 1\r\n\r\n");
	h_str(&h, 0,
	      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
	      "000003\r\nabc\r\n0;last\r\n\r\n");
	CHECK_EQ_INT(h.k.n, 1);
	CHECK_EQ_INT(n_of(&h, 0, "request_body_len"), 31);
	CHECK_EQ_INT(n_of(&h, 0, "response_body_len"), 3);
	/* the connection goes on after the trailers */
	h_str(&h, 1, "GET /next HTTP/1.1\r\n\r\n");
	h_str(&h, 0, "HTTP/1.1 204 No Content\r\n\r\n");
	CHECK_EQ_INT(h.k.n, 2);
	CHECK_EQ_STR(s_of(&h, 1, "uri"), "/next");
	CHECK_EQ_INT(n_of(&h, 1, "status_code"), 204);
	h_free(&h);
}

/* Holes of known length (frames the capture cut short) inside bodies: the bytes count, the
 * connection goes on; a hole of unknown length, or longer than the body, stops the side. */
static void t_gaps(void)
{
	struct h h;
	uint64_t inbody = cval("http_gap_in_body");

	h_open(&h, NULL);
	h_str(&h, 1, "GET /big HTTP/1.1\r\nHost: a\r\n\r\n");
	h_str(&h, 0, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n0123456789");
	http_proto.on_tcp_gap(h.st, &h.c, 0, 60000);
	http_proto.on_tcp_gap(h.st, &h.c, 0, 39980);
	h_str(&h, 0, "abcdefghij");
	CHECK_EQ_INT(h.k.n, 1);
	CHECK_EQ_INT(n_of(&h, 0, "response_body_len"), 100000);
	/* chunked: a hole inside a chunk's data */
	h_str(&h, 1, "GET /c HTTP/1.1\r\nHost: a\r\n\r\n");
	h_str(&h, 0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\nxy");
	http_proto.on_tcp_gap(h.st, &h.c, 0, 990);
	h_str(&h, 0, "12345678\r\n0\r\n\r\n");
	CHECK_EQ_INT(h.k.n, 2);
	CHECK_EQ_INT(n_of(&h, 1, "response_body_len"), 1000);
	CHECK_EQ_INT(cval("http_gap_in_body") - inbody, 3);
	/* a hole longer than the body: framing is lost, the side stops */
	h_str(&h, 1, "GET /d HTTP/1.1\r\nHost: a\r\n\r\n");
	h_str(&h, 0, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
	http_proto.on_tcp_gap(h.st, &h.c, 0, 50);
	h_str(&h, 0, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	h_close(&h);
	CHECK_EQ_INT(h.k.n, 3);
	CHECK(n_of(&h, 2, "status_code") == -1 || n_of(&h, 2, "response_body_len") == 0);
	h_free(&h);
}

static void t_info_and_connect(void)
{
	struct h h;
	h_open(&h, NULL);
	/* 100-continue: the body follows the 100, the record keeps it as info */
	h_str(&h, 1, "PUT /f HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
	h_str(&h, 0, "HTTP/1.1 100 Continue\r\n\r\n");
	CHECK_EQ_INT(h.k.n, 0);
	h_str(&h, 1, "xyz");
	h_str(&h, 0,
	      "HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	CHECK_EQ_INT(h.k.n, 1);
	CHECK_EQ_INT(n_of(&h, 0, "info_code"), 102);
	CHECK_EQ_STR(s_of(&h, 0, "info_msg"), "Processing");
	CHECK_EQ_INT(n_of(&h, 0, "status_code"), 200);
	CHECK_EQ_INT(n_of(&h, 0, "request_body_len"), 3);
	CHECK_EQ_INT(n_of(&h, 0, "trans_depth"), 1);
	h_close(&h);

	/* CONNECT: after the 2xx the connection is a tunnel, nothing more is parsed */
	h.c.conn_id = 9;
	h_str(&h, 1,
	      "CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n"
	      "Proxy-Connection: keep-alive\r\nVia: 1.1 a\r\nVia: 1.1 a\r\n\r\n");
	h_str(&h, 0, "HTTP/1.1 200 Connection established\r\n\r\n");
	CHECK_EQ_INT(h.k.n, 2);
	CHECK_EQ_STR(s_of(&h, 1, "method"), "CONNECT");
	CHECK_EQ_STR(s_of(&h, 1, "uri"), "example.org:443");
	CHECK_EQ_INT(n_of(&h, 1, "status_code"), 200);
	cJSON *px = cJSON_GetObjectItem(h.k.rec[1], "proxied");
	CHECK_EQ_INT(cJSON_GetArraySize(px), 2); /* the duplicate Via kept once */
	CHECK_EQ_STR(cJSON_GetArrayItem(px, 0)->valuestring, "PROXY-CONNECTION -> keep-alive");
	h_str(&h, 1, "\x16\x03\x01\x02\x00GET / HTTP/1.1\r\n\r\n");
	h_str(&h, 0, "HTTP/1.1 200 OK\r\n\r\n");
	h_close(&h);
	CHECK_EQ_INT(h.k.n, 2);

	/* Upgrade: 101 with Connection: upgrade ends HTTP on the connection */
	h.c.conn_id = 10;
	h_str(&h, 1, "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
	h_str(&h, 0,
	      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	      "Connection: Upgrade\r\n\r\n\x81\x05hello");
	h_str(&h, 1, "\x81\x85garbage");
	CHECK_EQ_INT(h.k.n, 2); /* a 1xx record waits for the final response: here the close */
	h_close(&h);
	CHECK_EQ_INT(h.k.n, 3);
	CHECK_EQ_INT(n_of(&h, 2, "status_code"), 101);
	CHECK_EQ_INT(n_of(&h, 2, "info_code"), 101);
	h_free(&h);
}

static void t_http09_and_close(void)
{
	struct h h;
	h_open(&h, NULL);
	h_str(&h, 1, "GET /old\r\n");
	h_str(&h, 0, "<html>raw");
	h_str(&h, 0, " body</html>");
	CHECK_EQ_INT(h.k.n, 0); /* until the close */
	h_close(&h);
	CHECK_EQ_INT(h.k.n, 1);
	CHECK_EQ_STR(s_of(&h, 0, "version"), "0.9");
	CHECK_EQ_INT(n_of(&h, 0, "status_code"), 0);
	CHECK_EQ_INT(n_of(&h, 0, "response_body_len"), 21);
	CHECK_EQ_STR(s_of(&h, 0, "uri"), "/old");

	/* a response without length runs until the close; an unanswered request is logged then */
	h.c.conn_id = 11;
	h_str(&h, 1, "GET /1 HTTP/1.0\r\n\r\nGET /2 HTTP/1.0\r\n\r\n");
	h_str(&h, 0, "HTTP/1.0 200 OK\r\n\r\n0123456789");
	h_close(&h);
	CHECK_EQ_INT(h.k.n, 3);
	CHECK_EQ_INT(n_of(&h, 1, "response_body_len"), 10);
	CHECK_EQ_STR(s_of(&h, 2, "uri"), "/2");
	CHECK_EQ_INT(n_of(&h, 2, "status_code"), -1);
	CHECK(cJSON_GetObjectItem(h.k.rec[2], "latency") == NULL);
	h_free(&h);
}

static void t_auth(void)
{
	struct h h;
	h_open(&h, NULL);
	/* "user:pa:ss" and a value that decodes without a colon */
	h_str(&h, 1, "GET / HTTP/1.1\r\nAuthorization: Basic  dXNlcjpwYTpzcw==\r\n\r\n");
	h_str(&h, 0, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	h_str(&h, 1, "GET / HTTP/1.1\r\nProxy-Authorization: basic bm9jb2xvbg==\r\n\r\n");
	h_str(&h, 0, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	CHECK_EQ_INT(h.k.n, 2);
	CHECK_EQ_STR(s_of(&h, 0, "username"), "user");
	CHECK(cJSON_GetObjectItem(h.k.rec[0], "password") == NULL);
	CHECK_EQ_STR(s_of(&h, 1, "username"), "<problem-decoding> (basic bm9jb2xvbg==)");
	/* no record anywhere holds the password */
	CHECK(strstr(h.k.b.p, "pa:ss") == NULL);
	h_free(&h);
}

/* One exchange split at every byte position (two deliveries), and byte by byte. */
static void t_splits(void)
{
	static const char req[] =
	    "POST /s%41 HTTP/1.1\r\nHost: split.test\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n4;x=y\r\nabcd\r\n0\r\nT: 1\r\n\r\n"
	    "GET /two HTTP/1.1\r\nHost: split.test\r\n\r\n";
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
				   "HTTP/1.1 304 Not Modified\r\n\r\n";
	size_t rl = sizeof(req) - 1, pl = sizeof(resp) - 1;
	int bad = 0;

	for (size_t cut = 0; cut <= rl; cut++) {
		struct h h;
		h_open(&h, NULL);
		h_send(&h, 1, req, cut);
		h_send(&h, 1, req + cut, rl - cut);
		size_t pc = cut % (pl + 1);
		h_send(&h, 0, resp, pc);
		h_send(&h, 0, resp + pc, pl - pc);
		if (h.k.n != 2 || !s_of(&h, 0, "uri") || strcmp(s_of(&h, 0, "uri"), "/sA") ||
		    n_of(&h, 0, "request_body_len") != 4 || n_of(&h, 0, "response_body_len") != 3 ||
		    !s_of(&h, 1, "host") || strcmp(s_of(&h, 1, "host"), "split.test") ||
		    n_of(&h, 1, "status_code") != 304)
			bad++;
		h_free(&h);
	}
	CHECK_EQ_INT(bad, 0);
	struct h h;
	h_open(&h, NULL);
	for (size_t i = 0; i < rl; i++)
		h_send(&h, 1, req + i, 1);
	for (size_t i = 0; i < pl; i++)
		h_send(&h, 0, resp + i, 1);
	CHECK_EQ_INT(h.k.n, 2);
	CHECK_EQ_STR(s_of(&h, 0, "host"), "split.test");
	CHECK_EQ_INT(n_of(&h, 0, "request_body_len"), 4);
	h_free(&h);
}

static void small_caps(struct http_config *c)
{
	c->max_line = 64;
	c->max_headers = 3;
	c->max_pending = 10;
}

static void t_caps(void)
{
	struct h h;
	uint64_t cut0 = cval("http_line_cut"), over0 = cval("http_headers_over");
	uint64_t pipe0 = cval("http_excessive_pipelining");
	h_open(&h, small_caps);
	h_str(&h, 1,
	      "GET /short HTTP/1.1\r\nReferer: http://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	      "aaaaaaaaaaaaaaaaaaaaaaaa\r\nB: 2\r\nC: 3\r\nUser-Agent: late\r\n"
	      "Content-Length: 2\r\n\r\nok");
	h_str(&h, 0, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	CHECK_EQ_INT(h.k.n, 1);
	CHECK_EQ_INT(cval("http_line_cut") - cut0, 1);
	CHECK_EQ_INT(cval("http_headers_over") - over0, 1);
	CHECK(s_of(&h, 0, "user_agent") == NULL);	  /* past the header cap */
	CHECK_EQ_INT(n_of(&h, 0, "request_body_len"), 2); /* framing still read */
	CHECK(s_of(&h, 0, "referrer") && strlen(s_of(&h, 0, "referrer")) == 64 - 9);
	/* more than max_pending unanswered: all written, the pairing restarts */
	for (int i = 0; i < 25; i++)
		h_str(&h, 1, "GET /p HTTP/1.1\r\n\r\n");
	CHECK_EQ_INT(h.k.n, 21);
	CHECK_EQ_INT(cval("http_excessive_pipelining") - pipe0, 2);
	CHECK(h.c.buf_bytes < 64 * 1024);
	h_free(&h);
}

/* Hostile input: bounded, counted, no crash. */
static void t_hostile(void)
{
	struct h h;
	uint64_t ov0 = cval("http_chunk_size_overflow"), cut0 = cval("http_line_cut");
	h_open(&h, NULL);
	/* a header line of 4 MB, in 64 KB deliveries: the buffer stays at max_line */
	h_str(&h, 1, "GET / HTTP/1.1\r\nX-Big: ");
	char *big = malloc(65536);
	memset(big, 'a', 65536);
	size_t peak = 0;
	for (int i = 0; i < 64; i++) {
		h_send(&h, 1, big, 65536);
		if (h.c.buf_bytes > peak)
			peak = h.c.buf_bytes;
	}
	h_str(&h, 1, "\r\nHost: after.big\r\n\r\n");
	CHECK(peak < h.cfg.max_line + 8192);
	CHECK_EQ_INT(cval("http_line_cut") - cut0, 1);
	h_str(&h, 0,
	      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	      "1ffffffffffffffff\r\nxx");
	CHECK_EQ_INT(cval("http_chunk_size_overflow") - ov0, 1);
	h_close(&h);
	CHECK_EQ_INT(h.k.n, 1);
	CHECK_EQ_STR(s_of(&h, 0, "host"), "after.big");
	CHECK_EQ_INT(n_of(&h, 0, "response_body_len"), 0);

	/* 10^5 pipelined requests without a response: the queue stays bounded */
	h.c.conn_id = 12;
	size_t maxb = 0;
	int total0 = h.k.total;
	for (int i = 0; i < 100000; i++) {
		h_str(&h, 1, "GET /flood HTTP/1.1\r\nHost: f\r\n\r\n");
		if (h.c.buf_bytes > maxb)
			maxb = h.c.buf_bytes;
	}
	CHECK(maxb < 256 * 1024);
	h_close(&h);
	CHECK_EQ_INT(h.k.total - total0, 100000);
	/* lying Content-Length and garbage */
	h.c.conn_id = 13;
	h_str(&h, 1, "GET / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n");
	h_str(&h, 0, "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\nabc");
	h_str(&h, 0, "\0\xff\r\n\r\n");
	h_close(&h);
	free(big);
	h_free(&h);
}

/* Which connections the row takes: ports at the SYN, a request line elsewhere. */
static void t_match_detect(void)
{
	struct h h;
	h_open(&h, NULL);
	struct pano_pkt p = {.l4proto = IPPROTO_TCP, .sport = 40000, .dport = 8080};
	CHECK_EQ_INT(http_proto.match(h.st, &p), L7_YES);
	p.dport = 4711;
	CHECK_EQ_INT(http_proto.match(h.st, &p), L7_MAYBE);
	p.l4proto = IPPROTO_UDP;
	p.dport = 80;
	CHECK_EQ_INT(http_proto.match(h.st, &p), L7_NO);
	const char *yes[] = {"GET / HTTP/1.1\r\n", "QUERY /x HTTP/1.1\r\n", "OPTIONS * HT",
			     "FOO /bar HTTP/1.1\r\n"};
	const char *no[] = {"\x16\x03\x01\x00", "HTTP/1.1 200 OK\r\n", "EHLO mail.example\r\n",
			    "GET", "a001 LOGIN x y\r\n"};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		CHECK_EQ_INT(http_proto.detect(h.st, 1, (const uint8_t *)yes[i], strlen(yes[i])),
			     L7_YES);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		CHECK_EQ_INT(http_proto.detect(h.st, 1, (const uint8_t *)no[i], strlen(no[i])),
			     L7_NO);
	CHECK_EQ_INT(http_proto.detect(h.st, 0, (const uint8_t *)"GET / HTTP/1.1\r\n", 16), L7_NO);
	/* options */
	struct http_config cfg;
	char why[128];
	http_config_default(&cfg);
	CHECK_EQ_INT(http_proto.cfg_set(&cfg, "http-ports", "80,9000", why, sizeof(why)), 0);
	CHECK_EQ_INT(cfg.nports, 2);
	CHECK(http_proto.cfg_set(&cfg, "http-ports", "0", why, sizeof(why)) < 0);
	CHECK_EQ_INT(http_proto.cfg_set(&cfg, "http-max-line", "4k", why, sizeof(why)), 0);
	CHECK_EQ_INT(cfg.max_line, 4096);
	CHECK(http_proto.cfg_set(&cfg, "http-max-line", "10", why, sizeof(why)) < 0);
	CHECK(http_proto.cfg_set(&cfg, "http-max-pending", "x", why, sizeof(why)) < 0);
	CHECK_EQ_INT(http_proto.cfg_set(&cfg, "http-timeout", "2.5", why, sizeof(why)), 0);
	CHECK_EQ_INT(cfg.timeout_ns, 2500000000ull);
	CHECK_EQ_INT(http_proto.cfg_set(&cfg, "http-timeout", "0", why, sizeof(why)), 0);
	CHECK_EQ_INT(cfg.timeout_ns, 0);
	CHECK(http_proto.cfg_set(&cfg, "http-timeout", "-1", why, sizeof(why)) < 0);
	CHECK(http_proto.cfg_set(&cfg, "http-timeout", "10s", why, sizeof(why)) < 0);
	CHECK(http_proto.cfg_set(&cfg, "http-timeout", "", why, sizeof(why)) < 0);
	CHECK(http_proto.cfg_set(&cfg, "http-timeout", "86401", why, sizeof(why)) < 0);
	h_free(&h);
}

#define SENDER(pid_, comm_, ns_, pod_, cont_)                                                      \
	{                                                                                          \
		.cgroup_id = 77, .pid = (pid_), .comm = (comm_), .comm_len = sizeof(comm_) - 1,    \
		.ns = (ns_), .ns_len = sizeof(ns_) - 1, .pod = (pod_),                             \
		.pod_len = sizeof(pod_) - 1, .container = (cont_),                                 \
		.container_len = sizeof(cont_) - 1,                                                \
	}

/* Who sent each side: the client's sender (the first frame of its side that names one) in
 * orig_*, the server's in resp_*, fields it does not have left out; none without senders. */
static void t_who(void)
{
	static const struct pano_sender cli = SENDER(4242, "curl", "shop", "web-7f9c", "app");
	static const struct pano_sender other = SENDER(5, "wget", "x", "y", "z");
	static const struct pano_sender srv = SENDER(99, "nginx", "", "", "");
	struct h h;

	h_open(&h, NULL);
	h_str(&h, 1, "GET /0 HTTP/1.1\r\nHost: w\r\n\r\n"); /* a frame that names nobody */
	h_who(&h, 1, "GET /1 HTTP/1.1\r\nHost: w\r\n\r\n", &cli);
	h_who(&h, 0, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", &srv);
	h_who(&h, 1, "GET /2 HTTP/1.1\r\nHost: w\r\n\r\n", &other); /* the first one stays */
	h_str(&h, 0, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	h_who(&h, 0, "HTTP/1.1 204 No Content\r\n\r\n", &other);
	CHECK_EQ_INT(h.k.n, 3);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ_STR(s_of(&h, i, "orig_k8s_namespace"), "shop");
		CHECK_EQ_STR(s_of(&h, i, "orig_k8s_pod"), "web-7f9c");
		CHECK_EQ_STR(s_of(&h, i, "orig_container"), "app");
		CHECK_EQ_INT(n_of(&h, i, "orig_pid"), 4242);
		CHECK_EQ_STR(s_of(&h, i, "orig_comm"), "curl");
		CHECK_EQ_INT(n_of(&h, i, "resp_pid"), 99);
		CHECK_EQ_STR(s_of(&h, i, "resp_comm"), "nginx");
		/* a host process: no pod, namespace or container */
		CHECK(s_of(&h, i, "resp_k8s_pod") == NULL);
		CHECK(s_of(&h, i, "resp_k8s_namespace") == NULL);
		CHECK(s_of(&h, i, "resp_container") == NULL);
	}
	/* a connection whose frames name nobody: no who fields */
	h_close(&h);
	h.c.conn_id = 20;
	h_str(&h, 1, "GET /n HTTP/1.1\r\n\r\n");
	h_str(&h, 0, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	CHECK_EQ_INT(h.k.n, 4);
	CHECK(cJSON_GetObjectItem(h.k.rec[3], "orig_pid") == NULL);
	CHECK(s_of(&h, 3, "orig_comm") == NULL);
	CHECK(cJSON_GetObjectItem(h.k.rec[3], "resp_pid") == NULL);
	h_free(&h);
}

#define SEC 1000000000ull

static void timeout_off(struct http_config *c)
{
	c->timeout_ns = 0;
}

/* --http-timeout: a whole request whose response has not begun within the timeout is written
 * at the tick that passes it, without response fields; a response under way, a request still
 * being sent, and every request with the timeout off wait for their connection's end. */
static void t_timeout(void)
{
	uint64_t to0 = cval("http_txn_timeout"), late0 = cval("http_response_after_timeout");
	struct h h, h2;

	h_open(&h, NULL);
	CHECK_EQ_INT(h.cfg.timeout_ns, 30 * SEC);
	/* three connections at once: a HEAD never answered, a GET whose response is under way,
	 * a POST whose body is still coming */
	h_str(&h, 1, "HEAD /slow HTTP/1.1\r\nHost: t\r\nUser-Agent: ua\r\n\r\n");
	uint64_t t0 = h.ts;
	struct l7_tcp_ctx c2 = h.c, c3 = h.c;
	c2.state = c3.state = NULL;
	c2.conn_id = 30;
	c2.client_port = 40001;
	c3.conn_id = 31;
	c3.client_port = 40002;
	struct pano_pkt p = {.ts_ns = h.ts, .l4proto = IPPROTO_TCP};
	const char *get = "GET /big HTTP/1.1\r\n\r\n";
	const char *resp = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123";
	const char *post = "POST /up HTTP/1.1\r\nContent-Length: 10\r\n\r\n01234";
	http_proto.on_tcp_data(h.st, &c2, 1, (const uint8_t *)get, strlen(get), &p);
	http_proto.on_tcp_data(h.st, &c2, 0, (const uint8_t *)resp, strlen(resp), &p);
	http_proto.on_tcp_data(h.st, &c3, 1, (const uint8_t *)post, strlen(post), &p);
	size_t held = h.c.buf_bytes;
	http_proto.tick(h.st, t0 + 29 * SEC);
	CHECK_EQ_INT(h.k.n, 0);
	http_proto.tick(h.st, t0 + 30 * SEC + 2000000);
	CHECK_EQ_INT(h.k.n, 1);
	CHECK_EQ_INT(cval("http_txn_timeout") - to0, 1);
	CHECK_EQ_STR(s_of(&h, 0, "method"), "HEAD");
	CHECK_EQ_STR(s_of(&h, 0, "uri"), "/slow");
	CHECK_EQ_STR(s_of(&h, 0, "user_agent"), "ua");
	CHECK_EQ_INT(n_of(&h, 0, "id_orig_p"), 40000);
	CHECK_EQ_INT(n_of(&h, 0, "trans_depth"), 1);
	CHECK_EQ_INT(n_of(&h, 0, "status_code"), -1); /* no response fields */
	CHECK(s_of(&h, 0, "status_msg") == NULL);
	CHECK(s_of(&h, 0, "version") == NULL);
	CHECK(cJSON_GetObjectItem(h.k.rec[0], "latency") == NULL);
	CHECK_EQ_INT(n_of(&h, 0, "response_body_len"), 0);
	/* ticks long after: the response under way and the request being sent still wait */
	http_proto.tick(h.st, t0 + 300 * SEC);
	CHECK_EQ_INT(h.k.n, 1);
	/* the connection's bytes: its buf_bytes catches up at its next callback */
	h.ts = t0 + 301 * SEC;
	h_str(&h, 0, "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n");
	/* ... the late response gets a record of its own, read as a HEAD's (no body) */
	CHECK_EQ_INT(h.k.n, 2);
	CHECK_EQ_INT(cval("http_response_after_timeout") - late0, 1);
	CHECK(s_of(&h, 1, "method") == NULL);
	CHECK_EQ_INT(n_of(&h, 1, "status_code"), 200);
	CHECK_EQ_INT(n_of(&h, 1, "response_body_len"), 0);
	CHECK_EQ_INT(n_of(&h, 1, "trans_depth"), 2);
	CHECK(h.c.buf_bytes < held);
	/* ... and the connection goes on as before */
	h_str(&h, 1, "GET /next HTTP/1.1\r\n\r\n");
	h_str(&h, 0, "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno");
	CHECK_EQ_INT(h.k.n, 3);
	CHECK_EQ_STR(s_of(&h, 2, "uri"), "/next");
	CHECK_EQ_INT(n_of(&h, 2, "status_code"), 404);
	CHECK_EQ_INT(n_of(&h, 2, "response_body_len"), 2);
	CHECK_EQ_INT(cval("http_response_after_timeout") - late0, 1);
	/* the POST, whole now, waits from its end: the tick 30 s after writes it */
	p.ts_ns = t0 + 302 * SEC;
	http_proto.on_tcp_data(h.st, &c3, 1, (const uint8_t *)"56789", 5, &p);
	http_proto.tick(h.st, t0 + 331 * SEC);
	CHECK_EQ_INT(h.k.n, 3);
	http_proto.tick(h.st, t0 + 332 * SEC);
	CHECK_EQ_INT(h.k.n, 4);
	CHECK_EQ_STR(s_of(&h, 3, "uri"), "/up");
	CHECK_EQ_INT(n_of(&h, 3, "request_body_len"), 10);
	CHECK_EQ_INT(n_of(&h, 3, "id_orig_p"), 40002);
	CHECK_EQ_INT(cval("http_txn_timeout") - to0, 2);
	http_proto.on_tcp_close(h.st, &c3);
	CHECK_EQ_INT(h.k.n, 4);
	/* the response under way ends with its connection */
	http_proto.on_tcp_close(h.st, &c2);
	CHECK_EQ_INT(h.k.n, 5);
	CHECK_EQ_STR(s_of(&h, 4, "uri"), "/big");
	CHECK_EQ_INT(n_of(&h, 4, "status_code"), 200);
	CHECK_EQ_INT(n_of(&h, 4, "response_body_len"), 4);
	/* pipelined, unanswered: written oldest first, each at its own time */
	h_str(&h, 1, "GET /p1 HTTP/1.1\r\n\r\n");
	uint64_t t1 = h.ts;
	h.ts += 10 * SEC;
	h_str(&h, 1, "GET /p2 HTTP/1.1\r\n\r\n");
	http_proto.tick(h.st, t1 + 31 * SEC);
	CHECK_EQ_INT(h.k.n, 6);
	CHECK_EQ_STR(s_of(&h, 5, "uri"), "/p1");
	http_proto.tick(h.st, t1 + 41 * SEC);
	CHECK_EQ_INT(h.k.n, 7);
	CHECK_EQ_STR(s_of(&h, 6, "uri"), "/p2");
	CHECK_EQ_INT(cval("http_txn_timeout") - to0, 4);
	h_close(&h);
	CHECK_EQ_INT(h.k.n, 7);
	h_free(&h);

	/* the timeout off (0): only the connection's end writes the request */
	h_open(&h2, timeout_off);
	h_str(&h2, 1, "GET /wait HTTP/1.1\r\n\r\n");
	http_proto.tick(h2.st, h2.ts + 86400 * SEC);
	CHECK_EQ_INT(h2.k.n, 0);
	h_close(&h2);
	CHECK_EQ_INT(h2.k.n, 1);
	CHECK_EQ_STR(s_of(&h2, 0, "uri"), "/wait");
	h_free(&h2);
	CHECK_EQ_INT(cval("http_txn_timeout") - to0, 4);
}

int main(void)
{
	TEST_CASE("http_keepalive_pipelining", t_keepalive_pipelining);
	TEST_CASE("http_chunked_extensions_trailers", t_chunked);
	TEST_CASE("http_1xx_connect_upgrade", t_info_and_connect);
	TEST_CASE("http_gaps_in_bodies", t_gaps);
	TEST_CASE("http_09_and_close", t_http09_and_close);
	TEST_CASE("http_basic_auth_no_password", t_auth);
	TEST_CASE("http_split_every_byte", t_splits);
	TEST_CASE("http_caps", t_caps);
	TEST_CASE("http_hostile", t_hostile);
	TEST_CASE("http_match_detect_options", t_match_detect);
	TEST_CASE("http_who", t_who);
	TEST_CASE("http_timeout", t_timeout);
	TEST_EXIT();
}
