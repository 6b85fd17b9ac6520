/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ipfrag.h - IPv4 and IPv6 fragment reassembly with bounded memory. Datagrams are keyed by
 * input source, addresses, protocol and fragment id; time is packet time. A struct ipfrag_table
 * holds one engine's datagrams (engine.h); tables share nothing.
 */
#ifndef PANO_IPFRAG_H
#define PANO_IPFRAG_H

#include <stddef.h>
#include <stdint.h>

#include "packet.h"

/* Zero the whole struct (memset) before filling it: keys are compared bytewise. */
struct ipfrag_key {
	uint32_t src_id; /* struct pano_source id */
	uint32_t id;	 /* IPv4 16-bit id or IPv6 32-bit identification */
	uint8_t family;	 /* 4 or 6 */
	uint8_t proto;	 /* IPv4 protocol / next header of the IPv6 fragment header */
	uint8_t pad[2];
	uint8_t saddr[16], daddr[16];
};

struct ipfrag_limits {
	unsigned max_datagrams; /* datagrams being reassembled at once (default 1024) */
	size_t max_bytes;	/* fragment bytes held at once (default 4 MiB) */
	uint64_t timeout_ns;	/* a datagram not complete after this much packet time is dropped */
};

struct ipfrag_table;

void ipfrag_limits_default(struct ipfrag_limits *l);
/* A table with limits l (NULL: the defaults); NULL when out of memory (logged). */
struct ipfrag_table *ipfrag_new(const struct ipfrag_limits *l);
/* Drops what fr holds (not counted) and frees it; NULL is a no-op. */
void ipfrag_free(struct ipfrag_table *fr);
void ipfrag_set_limits(struct ipfrag_table *fr, const struct ipfrag_limits *l);
void ipfrag_get_limits(const struct ipfrag_table *fr, struct ipfrag_limits *l);

/*
 * Adds the fragment [offset, offset+len) of the datagram k (offset in bytes of the fragmentable
 * payload; more = the MF flag). Returns 1 when the datagram is complete: *out and *outlen then hold
 * its whole payload, valid until the next ipfrag_* call on fr. Returns 0 when more fragments are
 * needed (or the fragment was an exact duplicate), -1 when the fragment or its datagram was
 * rejected (overlap, oversize, inconsistent length, over the caps); every rejection is counted.
 */
int ipfrag_add(struct ipfrag_table *fr, const struct ipfrag_key *k, uint64_t ts_ns, uint32_t offset,
	       int more, const uint8_t *data, uint32_t len, const uint8_t **out, uint32_t *outlen);

/* Drops datagrams older than the timeout at packet time now_ns (counted). */
void ipfrag_expire(struct ipfrag_table *fr, uint64_t now_ns);
/* Drops everything (end of input; not counted as timeouts). */
void ipfrag_clear(struct ipfrag_table *fr);

/* Gauges (also read from the metrics thread: a moment old at worst). */
unsigned ipfrag_datagrams(const struct ipfrag_table *fr); /* datagrams held now */
size_t ipfrag_bytes(const struct ipfrag_table *fr);	  /* fragment bytes held now */

#endif
