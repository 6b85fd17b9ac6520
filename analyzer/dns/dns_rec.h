/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dns_rec.h - the dns.log record: Zeek's fields in Zeek's order and types, then PANO's own.
 * A leaf: the transaction code (dns_txn.c) fills a struct dns_rec and hands it to its
 * rec_emit; the writers (JSON, protobuf pano.v1.DnsRecord) come from this one table (rec.h).
 *
 * PANO's fields after Zeek's:
 *   node                      the capturing agent's node (when the input knows it)
 *   interface, direction      capture interface and "in"/"out" at it (when known)
 *   query_size, reply_size    DNS message bytes of each half seen (protobuf: query_len,
 *                             reply_len); the message's own length even when the capture
 *                             kept only part of it, which query_cut / reply_cut then say
 *   latency                   reply time - query time whenever both were seen (Zeek's rtt
 *                             needs answers)
 *   edns_udp_size, edns_version, edns_do   the EDNS0 OPT of the query (else of the reply)
 *   edns_ecs                  client subnet "address/source-prefix" (e.g. "192.0.2.0/24")
 *   edns_cookie               a COOKIE option was present
 *   edns_rcode, edns_rcode_name   the reply's full extended RCODE (RFC 6891: the OPT's 8 bits
 *                             above the header's 4, e.g. 16 BADVERS) when the reply had an OPT
 *   service_h, service_p      a transaction joined across the node's DNAT: the address the
 *                             client asked (the record's server is the backend)
 *   orig_... resp_...         who sent each side's frames (namespace, pod, container, pid, comm)
 *
 * Besides the record, the module emits one summary-only event per parsed message
 * (dns_msg_ev_type, no path: never written), for the message counters of the summaries.
 */
#ifndef PANO_DNS_REC_H
#define PANO_DNS_REC_H

#include <stddef.h>
#include <stdint.h>

#include "packet.h"
#include "rec.h"

#define DNS_REC_FIELDS(X)                                                                          \
	REC_ID_FIELDS(X)                                                                           \
	X(RAW, proto, "proto", 7)                                                                  \
	X(COUNT, trans_id, "trans_id", 8)                                                          \
	X(INTERVAL, rtt, "rtt", 9)                                                                 \
	X(STR, query, "query", 10)                                                                 \
	X(COUNT, qclass, "qclass", 11)                                                             \
	X(RAW, qclass_name, "qclass_name", 12)                                                     \
	X(COUNT, qtype, "qtype", 13)                                                               \
	X(RAW, qtype_name, "qtype_name", 14)                                                       \
	X(COUNT, rcode, "rcode", 15)                                                               \
	X(RAW, rcode_name, "rcode_name", 16)                                                       \
	X(BOOL, AA, "AA", 17)                                                                      \
	X(BOOL, TC, "TC", 18)                                                                      \
	X(BOOL, RD, "RD", 19)                                                                      \
	X(BOOL, RA, "RA", 20)                                                                      \
	X(COUNT, Z, "Z", 21)                                                                       \
	X(STRV, answers, "answers", 22)                                                            \
	X(SECV, TTLs, "TTLs", 23)                                                                  \
	X(BOOL, rejected, "rejected", 24)                                                          \
	X(COUNT, opcode, "opcode", 25)                                                             \
	X(RAW, opcode_name, "opcode_name", 26)                                                     \
	X(STR, node, "node", 40)                                                                   \
	X(STR, interface, "interface", 41)                                                         \
	X(RAW, direction, "direction", 42)                                                         \
	X(COUNT, query_size, "query_size", 43)                                                     \
	X(COUNT, reply_size, "reply_size", 44)                                                     \
	X(INTERVAL, latency, "latency", 48)                                                        \
	X(COUNT, edns_udp_size, "edns_udp_size", 45)                                               \
	X(COUNT, edns_version, "edns_version", 47)                                                 \
	X(BOOL, edns_do, "edns_do", 46)                                                            \
	X(RAW, edns_ecs, "edns_ecs", 53)                                                           \
	X(BOOL, edns_cookie, "edns_cookie", 54)                                                    \
	X(COUNT, edns_rcode, "edns_rcode", 49)                                                     \
	X(RAW, edns_rcode_name, "edns_rcode_name", 50)                                             \
	X(BOOL, query_cut, "query_cut", 51)                                                        \
	X(BOOL, reply_cut, "reply_cut", 52)                                                        \
	X(RAW, service_h, "service_h", 60)                                                         \
	X(COUNT, service_p, "service_p", 61)                                                       \
	REC_WHO_FIELDS(X)

/* The protobuf names that differ from the JSON ones (proto/pano_record.proto). */
#define DNS_REC_PB_RENAMES                                                                         \
	{"query_size", "query_len"},                                                               \
	{                                                                                          \
		"reply_size", "reply_len"                                                          \
	}

struct dns_rec {
	REC_STRUCT(DNS_REC_FIELDS)
	/* Not logged: what the summaries take from a record beside its fields. */
	const struct pano_addr *orig_a, *resp_a; /* the client and server addresses */
	bool single; /* an mDNS/LLMNR message logged alone: no transaction */
};

extern const struct rec_type dns_rec_type;

/* The summary-only event of each parsed DNS message (query or reply). */
struct dns_msg;
struct dns_msg_ev {
	const struct dns_msg *msg;  /* the parsed message (dns_parse.h) */
	const struct pano_pkt *pkt; /* the datagram or segment that completed it */
	uint32_t size;		    /* the message's own length */
};

extern const struct rec_type dns_msg_ev_type;

#endif
