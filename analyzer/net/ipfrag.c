// SPDX-License-Identifier: Apache-2.0
/*
 * ipfrag.c - IPv4/IPv6 fragment reassembly (see ipfrag.h). Each datagram in progress holds its
 * fragments as a sorted list of copies; nothing is allocated for a datagram's full size until it
 * is complete, and then only one static 64 KiB buffer is used. Caps on datagrams and on bytes
 * held evict the oldest datagram first. A rejected datagram stays as a tombstone (no data) until
 * it times out, so its remaining fragments are dropped instead of starting a new datagram.
 */
#include <stdlib.h>
#include <string.h>

#include "counter.h"
#include "ipfrag.h"
#include "log.h"

#define IPFRAG_MAX_PAYLOAD 65535u
#define IPFRAG_BUCKETS	   4096u

PANO_COUNTER(c_frag_datagrams, "ip_frag_datagrams", "event", "IP datagrams reassembled");
PANO_COUNTER(c_frag_overlap, "ip_frag_overlap", "weird", "overlapping IP fragments rejected");
PANO_COUNTER(c_frag_oversize, "ip_frag_oversize", "weird",
	     "IP fragments reaching past 65535 bytes rejected");
PANO_COUNTER(c_frag_badlen, "ip_frag_bad_length", "weird",
	     "IP fragments with an empty, unaligned or inconsistent length rejected");
PANO_COUNTER(c_frag_dup, "ip_frag_duplicate", "event", "duplicate IP fragments ignored");
PANO_COUNTER(c_frag_rejected, "ip_frag_rejected", "drop",
	     "IP fragments dropped because their datagram was rejected");
PANO_COUNTER(c_frag_timeout, "ip_frag_timeout", "drop",
	     "incomplete IP datagrams dropped after the reassembly timeout");
PANO_COUNTER(c_frag_evicted, "ip_frag_evicted", "drop",
	     "incomplete IP datagrams evicted by the datagram or memory cap");
PANO_COUNTER(c_frag_nomem, "ip_frag_nomem", "drop", "IP fragments dropped: out of memory");

struct ipfrag_piece {
	uint32_t off, len;
	struct ipfrag_piece *next;
	uint8_t data[];
};

struct ipfrag_dgram {
	struct ipfrag_key key;
	uint64_t first_ts;
	uint32_t total;		     /* payload length once the last fragment is known, else 0 */
	uint32_t have;		     /* bytes held */
	int rejected;		     /* tombstone: drop further fragments until timeout */
	struct ipfrag_piece *pieces; /* sorted by offset, not overlapping */
	struct ipfrag_dgram *hnext;  /* hash chain */
	struct ipfrag_dgram *older, *newer; /* age list */
};

static struct ipfrag_limits ipfrag_lim = {
    .max_datagrams = 1024,
    .max_bytes = 4u << 20,
    .timeout_ns = 30ull * 1000000000ull,
};
static struct ipfrag_dgram *ipfrag_tab[IPFRAG_BUCKETS];
static struct ipfrag_dgram *ipfrag_oldest, *ipfrag_newest;
static unsigned ipfrag_ndgrams;
static size_t ipfrag_nbytes;
static uint8_t ipfrag_out[IPFRAG_MAX_PAYLOAD];

void ipfrag_set_limits(const struct ipfrag_limits *l)
{
	ipfrag_lim = *l;
}

void ipfrag_get_limits(struct ipfrag_limits *l)
{
	*l = ipfrag_lim;
}

unsigned ipfrag_datagrams(void)
{
	return ipfrag_ndgrams;
}

size_t ipfrag_bytes(void)
{
	return ipfrag_nbytes;
}

static unsigned ipfrag_hash(const struct ipfrag_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 16777619u;
	return h % IPFRAG_BUCKETS;
}

static void ipfrag_free_pieces(struct ipfrag_dgram *d)
{
	struct ipfrag_piece *p = d->pieces, *n;

	for (; p; p = n) {
		n = p->next;
		free(p);
	}
	d->pieces = NULL;
	ipfrag_nbytes -= d->have;
	d->have = 0;
}

/* Unlinks d from the hash and the age list and frees it. */
static void ipfrag_destroy(struct ipfrag_dgram *d)
{
	struct ipfrag_dgram **pp = &ipfrag_tab[ipfrag_hash(&d->key)];

	while (*pp && *pp != d)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = d->hnext;
	if (d->older)
		d->older->newer = d->newer;
	else
		ipfrag_oldest = d->newer;
	if (d->newer)
		d->newer->older = d->older;
	else
		ipfrag_newest = d->older;
	ipfrag_free_pieces(d);
	ipfrag_ndgrams--;
	free(d);
}

/* Turns d into a tombstone: its data is freed, further fragments are dropped. */
static void ipfrag_reject(struct ipfrag_dgram *d, struct pano_counter *why)
{
	counter_inc(why);
	ipfrag_free_pieces(d);
	d->rejected = 1;
}

/* Evicts the oldest datagram other than keep; false if there is none. */
static int ipfrag_evict_one(struct ipfrag_dgram *keep)
{
	struct ipfrag_dgram *d = ipfrag_oldest;

	if (d == keep)
		d = d->newer;
	if (!d)
		return 0;
	if (!d->rejected)
		counter_inc(&c_frag_evicted);
	ipfrag_destroy(d);
	return 1;
}

static struct ipfrag_dgram *ipfrag_find(const struct ipfrag_key *k)
{
	struct ipfrag_dgram *d = ipfrag_tab[ipfrag_hash(k)];

	while (d && memcmp(&d->key, k, sizeof(*k)) != 0)
		d = d->hnext;
	return d;
}

static struct ipfrag_dgram *ipfrag_create(const struct ipfrag_key *k, uint64_t ts_ns)
{
	while (ipfrag_ndgrams >= ipfrag_lim.max_datagrams && ipfrag_evict_one(NULL))
		;
	struct ipfrag_dgram *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	unsigned h = ipfrag_hash(k);
	d->key = *k;
	d->first_ts = ts_ns;
	d->hnext = ipfrag_tab[h];
	ipfrag_tab[h] = d;
	d->older = ipfrag_newest;
	if (ipfrag_newest)
		ipfrag_newest->newer = d;
	else
		ipfrag_oldest = d;
	ipfrag_newest = d;
	ipfrag_ndgrams++;
	return d;
}

/* Copies the complete datagram into ipfrag_out; its pieces are contiguous from 0 to total. */
static uint32_t ipfrag_assemble(struct ipfrag_dgram *d)
{
	for (struct ipfrag_piece *p = d->pieces; p; p = p->next)
		memcpy(ipfrag_out + p->off, p->data, p->len);
	return d->total;
}

int ipfrag_add(const struct ipfrag_key *k, uint64_t ts_ns, uint32_t offset, int more,
	       const uint8_t *data, uint32_t len, const uint8_t **out, uint32_t *outlen)
{
	uint64_t end = (uint64_t)offset + len;
	struct ipfrag_dgram *d = ipfrag_find(k);

	if (d && d->rejected) {
		counter_inc(&c_frag_rejected);
		return -1;
	}
	if (!d) {
		d = ipfrag_create(k, ts_ns);
		if (!d) {
			counter_inc(&c_frag_nomem);
			return -1;
		}
	}
	if (end > IPFRAG_MAX_PAYLOAD) {
		ipfrag_reject(d, &c_frag_oversize);
		return -1;
	}
	if (len == 0 || (more && len % 8 != 0)) {
		ipfrag_reject(d, &c_frag_badlen);
		return -1;
	}
	/* The last fragment fixes the length; everything must fit inside it. */
	if (!more) {
		if (d->total && d->total != end) {
			ipfrag_reject(d, &c_frag_badlen);
			return -1;
		}
		d->total = (uint32_t)end;
	}
	if (d->total && end > d->total) {
		ipfrag_reject(d, &c_frag_badlen);
		return -1;
	}
	struct ipfrag_piece **pp = &d->pieces;
	for (; *pp; pp = &(*pp)->next) {
		struct ipfrag_piece *p = *pp;
		if (p->off == offset && p->len == len) {
			counter_inc(&c_frag_dup);
			return 0;
		}
		if (p->off < end && offset < p->off + p->len) {
			ipfrag_reject(d, &c_frag_overlap);
			return -1;
		}
		if (p->off > offset)
			break;
	}
	while (ipfrag_nbytes + len > ipfrag_lim.max_bytes && ipfrag_evict_one(d))
		;
	if (ipfrag_nbytes + len > ipfrag_lim.max_bytes) {
		counter_inc(&c_frag_evicted);
		ipfrag_destroy(d);
		return -1;
	}
	struct ipfrag_piece *np = malloc(sizeof(*np) + len);
	if (!np) {
		counter_inc(&c_frag_nomem);
		return -1;
	}
	np->off = offset;
	np->len = len;
	memcpy(np->data, data, len);
	/* Eviction never touches d, so pp still points at the insertion place. */
	np->next = *pp;
	*pp = np;
	d->have += len;
	ipfrag_nbytes += len;
	if (!d->total || d->have != d->total)
		return 0;
	*outlen = ipfrag_assemble(d);
	*out = ipfrag_out;
	ipfrag_destroy(d);
	counter_inc(&c_frag_datagrams);
	return 1;
}

void ipfrag_expire(uint64_t now_ns)
{
	while (ipfrag_oldest && ipfrag_oldest->first_ts + ipfrag_lim.timeout_ns < now_ns) {
		if (!ipfrag_oldest->rejected)
			counter_inc(&c_frag_timeout);
		ipfrag_destroy(ipfrag_oldest);
	}
}

void ipfrag_clear(void)
{
	while (ipfrag_oldest)
		ipfrag_destroy(ipfrag_oldest);
}
