// SPDX-License-Identifier: Apache-2.0
/*
 * fuzz_http.c - libFuzzer harness for the HTTP module through its l7 row: the input is cut into
 * a client stream and a server stream (where, and the delivery size, picked by its first two
 * bytes), delivered alternately in pieces, then the connection closes; every record must be
 * valid JSON and the connection must hold nothing after the close.
 */
#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "http.h"
#include "http_rec.h"

static void fuzz_rec(void *arg, const struct rec_type *t, const void *rec)
{
	struct wbuf *b = arg;
	t->json(rec, 0, b);
	cJSON *j = cJSON_ParseWithLength(b->p, b->len);
	if (!j)
		abort(); /* every record must be valid JSON */
	cJSON_Delete(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct wbuf b = WBUF_INIT(1 << 20);
	static struct rec_emit emit = {fuzz_rec, &b};
	static struct l7_env env = {.emit = &emit};
	static void *st;
	if (!st) {
		struct http_config cfg;
		http_config_default(&cfg);
		cfg.max_line = 256; /* small caps: the cut paths run often */
		cfg.max_pending = 4;
		st = http_proto.create(&cfg, &env);
	}
	if (size < 2)
		return 0;
	size_t cut = 2 + data[0] * (size - 2) / 255, step = 1 + data[1] % 64, at[2] = {2, cut};
	const size_t end[2] = {cut, size};
	struct l7_tcp_ctx c = {.client_port = 40000, .server_port = 80, .conn_id = 1};
	struct pano_pkt p = {.ts_ns = 1, .l4proto = IPPROTO_TCP};
	c.client.family = c.server.family = 4;
	for (int d = 1; at[0] < end[0] || at[1] < end[1]; d = !d) {
		size_t i = d ? 0 : 1, n = end[i] - at[i] < step ? end[i] - at[i] : step;
		if (n)
			http_proto.on_tcp_data(st, &c, d, data + at[i], n, &p);
		at[i] += n;
		p.ts_ns++;
	}
	http_proto.on_tcp_close(st, &c);
	if (c.buf_bytes || c.state)
		abort(); /* everything the connection held is freed */
	return 0;
}
