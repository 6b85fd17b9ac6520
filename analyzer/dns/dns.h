/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dns.h - the DNS protocol module: wire parser, transaction tracking (query/reply pairing as
 * Zeek does), and Zeek dns.log-shaped records handed to the sinks. main.c fills dns_config
 * from the command line; the engine creates the module's state through dns_proto (l7.h).
 */
#ifndef PANO_DNS_H
#define PANO_DNS_H

#include <stdint.h>

#define DNS_MAX_PORTS 32

enum dns_format { DNS_FORMAT_JSON = 0, DNS_FORMAT_PROTOBUF = 1 };

struct dns_config {
	uint16_t ports[DNS_MAX_PORTS];	/* --ports, default 53, 137, 5353, 5355 */
	int nports;
	uint64_t timeout_ns;		/* --dns-timeout, default 5 s */
	unsigned max_open;		/* cap on open transactions (default 100000) */
	int zeek_dotted;		/* 1: "id.orig_h" names instead of "id_orig_h" */
	enum dns_format format;		/* record encoding handed to the sinks */
};

void dns_config_default(struct dns_config *cfg);
/* The DNS row of the protocol table (l7.h): its create() takes a struct dns_config. */
struct l7_proto;
extern const struct l7_proto dns_proto;
/* Changes the DNS ports between two frames (the decoding thread only): from the next UDP
 * datagram and the next new TCP connection on; a TCP connection keeps the protocol it was
 * matched with at its start. 0 or -EINVAL. */
int dns_set_ports(const uint16_t *ports, int nports);

/* What the DNS module holds now (the gauges of /metrics and --stats). */
struct dns_state {
	unsigned open;	      /* transactions waiting for their other half */
	unsigned udp_conns;   /* UDP client/server pairs with state */
	unsigned senders;     /* entries of the sender table in use */
	unsigned senders_max; /* its size */
};
void dns_get_state(struct dns_state *s);

#endif
