// SPDX-License-Identifier: Apache-2.0
/*
 * fuzz_tls.c - libFuzzer harness for the TLS module (record layer, hellos, JA4, certificates,
 * the record writer): an input is [chunk size][client stream length, 2 bytes][client stream]
 * [server stream], delivered to the module's row as one TCP connection, the two sides taking
 * turns in chunks of the given size. Every record must be valid JSON, and at close every byte
 * the module counted on the connection must have been given back.
 */
#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "l7.h"
#include "tls_proto.h"

static struct wbuf fuzz_buf = WBUF_INIT(1 << 20);

static void fuzz_emit(void *arg, const struct rec_type *t, const void *rec)
{
	t->json(rec, 0, &fuzz_buf);
	cJSON *j = cJSON_Parse(fuzz_buf.p);
	if (!j)
		abort(); /* every record must be valid JSON */
	cJSON_Delete(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rec_emit emit = {.fn = fuzz_emit};
	static struct l7_env env = {.emit = &emit};
	static void *st;
	if (!st) {
		struct tls_config cfg;
		tls_config_default(&cfg);
		st = tls_proto.create(&cfg, &env);
	}
	if (size < 3)
		return 0;
	size_t chunk = (size_t)data[0] + 1, clen = (size_t)data[1] << 8 | data[2];
	const uint8_t *p[2] = {data + 3, data + 3 + (clen < size - 3 ? clen : size - 3)};
	size_t left[2] = {(size_t)(p[1] - p[0]), size - (size_t)(p[1] - data)};
	struct pano_pkt pkt = {.ts_ns = 1, .l4proto = IPPROTO_TCP};
	struct l7_tcp_ctx c = {.client_port = 40000, .server_port = 443, .conn_id = 1};
	c.client.family = c.server.family = 4;
	tls_proto.detect(st, 1, p[0], left[0]);
	for (int side = 1; left[0] || left[1]; side = !side) {
		size_t k = left[side] < chunk ? left[side] : chunk;
		if (k)
			tls_proto.on_tcp_data(st, &c, side, p[side], k, &pkt);
		p[side] += k;
		left[side] -= k;
	}
	tls_proto.on_tcp_close(st, &c);
	if (c.buf_bytes || c.state)
		abort(); /* a buffer not given back */
	return 0;
}
