// SPDX-License-Identifier: Apache-2.0
/*
 * fuzz_dns.c - libFuzzer harness for the DNS message parser, the RR-to-text code and the JSON
 * record writer: each input is one DNS message, seen twice on one UDP connection (so a reply
 * pairs with itself), then as a TCP byte stream (framing); every record must be valid JSON.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "dns_parse.h"
#include "dns_txn.h"
#include "l7.h"
#include "records.h"
#include "sink.h"

/* The DNS module's state, as an engine would make it (l7.h), its out stage (JSON records to
 * the sinks), and its port match. */
static struct rec_out rout;
static struct l7_env dns_env;
static void *dns_st;
static const struct l7_proto *dns_lookup(const struct pano_pkt *pkt)
{
	return dns_st && dns_proto.match(dns_st, pkt) == L7_YES ? &dns_proto : NULL;
}

static int fuzz_emit(struct sink *s, const char *t, const void *k, size_t kl, const void *rec,
		     size_t len)
{
	cJSON *j = cJSON_ParseWithLength(rec, len);
	if (!j)
		abort(); /* every record must be valid JSON */
	cJSON_Delete(j);
	return 0;
}
static struct sink fuzz_sink = {.name = "fuzz", .emit = fuzz_emit};
static struct sink_set fuzz_sinks;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dns_msg m;
	static int init;
	char text[4096];
	if (!init) {
		struct dns_config cfg;
		dns_config_default(&cfg);
		sink_set_init(&fuzz_sinks);
		sink_set_add(&fuzz_sinks, &fuzz_sink);
		rec_out_init(&rout, REC_FORMAT_JSON, 0, &fuzz_sinks);
		dns_env.emit = &rout.emit;
		dns_st = dns_proto.create(&cfg, &dns_env);
		init = 1;
	}
	dns_parse(data, size, &m);
	for (unsigned i = 0; i < m.nrr; i++)
		dns_rr_text(&m, &m.rr[i], text, sizeof(text));
	struct pano_frame fr = {.ts_ns = 1, .meta.dir = -1};
	struct pano_pkt p = {.ts_ns = 1,
			     .frame = &fr,
			     .l4proto = 17,
			     .sport = 5000,
			     .dport = 53,
			     .payload = data,
			     .payload_len = size};
	p.saddr.family = p.daddr.family = 4;
	p.daddr.a[3] = 1;
	dns_txn_udp(dns_st, &p);
	dns_txn_message(dns_st, NULL, &p, data, size); /* again: pairs with itself when a reply */
	/* The same bytes as a client's TCP stream, cut in two at a place the input picks. */
	const struct l7_proto *dns = dns_lookup(&p);
	struct l7_tcp_ctx t = {.client = p.saddr,
			       .server = p.daddr,
			       .client_port = 5000,
			       .server_port = 53,
			       .conn_id = 1};
	size_t cut = size ? data[0] % (size + 1) : 0;
	dns->on_tcp_data(dns_st, &t, 1, data, cut, &p);
	dns->on_tcp_data(dns_st, &t, 1, data + cut, size - cut, &p);
	dns->on_tcp_close(dns_st, &t);
	dns_txn_flush(dns_st);
	return 0;
}
