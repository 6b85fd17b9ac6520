/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dns.h - the DNS protocol module: wire parser, transaction tracking (query/reply pairing as
 * Zeek does), and Zeek dns.log-shaped records (dns_rec.h) handed to the engine's rec_emit.
 * main.c fills dns_config from the command line; the engine creates the module's state (a
 * struct dns_state, one per engine) through dns_proto (l7.h).
 */
#ifndef PANO_DNS_H
#define PANO_DNS_H

#include <stdint.h>

#define DNS_MAX_PORTS 32

enum dns_format { DNS_FORMAT_JSON = 0, DNS_FORMAT_PROTOBUF = 1 };

struct dns_config {
	uint16_t ports[DNS_MAX_PORTS]; /* --ports, default 53, 137, 5353, 5355 */
	int nports;
	uint64_t timeout_ns; /* --dns-timeout, default 5 s */
	unsigned max_open;   /* cap on open transactions (default 100000) */
	/* Read by main.c for the out stage (rec_out_init), not by the module: */
	int zeek_dotted;	/* 1: "id.orig_h" names instead of "id_orig_h" */
	enum dns_format format; /* record encoding handed to the sinks */
};

void dns_config_default(struct dns_config *cfg);
/* The DNS row of the protocol table (l7.h): its create() takes a struct dns_config and returns
 * a struct dns_state. Its gauges: dns_open_transactions, dns_udp_conversations. */
struct l7_proto;
extern const struct l7_proto dns_proto;
struct dns_state;
/* Changes st's DNS ports between two frames (the decoding thread only): from the next UDP
 * datagram and the next new TCP connection on; a TCP connection keeps the protocol it was
 * matched with at its start. 0 or -EINVAL. */
int dns_set_ports(struct dns_state *st, const uint16_t *ports, int nports);

#endif
