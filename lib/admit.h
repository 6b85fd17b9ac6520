/* SPDX-License-Identifier: Apache-2.0 */
/*
 * admit.h - who gets a connection slot when a listener is full. Shared by every server PANO
 * runs (the analyzer's --listen, the agent's PCAP-over-TCP server, the HTTP server of both), so
 * that idle or half-open peers can never hold a listener hostage:
 *   - a source address may hold at most max_per_source connections: a new one from an address
 *     at its cap closes that address's oldest untrusted connection, or is refused;
 *   - untrusted connections (no hello yet, no request served yet...) may fill at most
 *     max_untrusted slots: a new one then closes the oldest untrusted one;
 *   - a trusted connection (an authenticated agent) is never closed to make room.
 * "Oldest" is by since_ns, which a listener may move forward when a connection proves useful
 * (a served request, records delivered), so that the most idle goes first.
 */
#ifndef PANO_ADMIT_H
#define PANO_ADMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* A source address: IPv6, or IPv4 mapped into IPv6 (::ffff:a.b.c.d). */
struct admit_addr {
	uint8_t a[16];
};

struct admit_conn {
	struct admit_addr addr;
	uint64_t since_ns; /* accept time, or when it last proved useful (monotonic) */
	bool trusted;	   /* never closed to make room */
};

struct admit_limits {
	int max_untrusted;  /* untrusted connections at once (<= 0: no cap) */
	int max_per_source; /* connections from one address, trusted or not (<= 0: no cap) */
};

enum admit_verdict {
	ADMIT_OK,	     /* room: take it */
	ADMIT_EVICT,	     /* close *victim first, then take it */
	ADMIT_REFUSE_SOURCE, /* its address is at its cap with trusted connections only */
	ADMIT_REFUSE_FULL,   /* the untrusted slots are full and none can give way (not reached
			      * while max_untrusted > 0: any untrusted one can) */
};

/* The source address of sa (AF_INET or AF_INET6; anything else becomes all zeroes). */
void admit_addr_from(struct admit_addr *k, const struct sockaddr *sa);
/* The address as text (IPv4 for a mapped one), for logs. Returns buf. */
const char *admit_addr_str(const struct admit_addr *k, char *buf, size_t size);
/* Monotonic clock in ns, the time base of since_ns. */
uint64_t admit_now_ns(void);

/* The listener's table as admit_decide() reads it: the i-th connection's admission state. */
typedef const struct admit_conn *(*admit_get_fn)(void *table, int i);

/*
 * Decides on a new connection from addr, against the n connections a listener holds. ADMIT_EVICT
 * sets *victim to the index of the connection to close first: the oldest untrusted one from the
 * same address when the address is at its cap, else the oldest untrusted one when the untrusted
 * slots are full. One eviction always makes enough room for the new connection.
 */
enum admit_verdict admit_decide(const struct admit_limits *l, const struct admit_addr *addr,
				void *table, admit_get_fn get, int n, int *victim);

/* A short name for a verdict's reason ("per_source", "full"), for logs and refusals. */
const char *admit_reason(enum admit_verdict v);

#endif
