// SPDX-License-Identifier: Apache-2.0
/*
 * ipfrag.c - IPv4/IPv6 fragment reassembly (see ipfrag.h). Each datagram in progress holds its
 * fragments as a sorted list of copies; nothing is allocated for a datagram's full size until it
 * is complete, and then only the table's one 64 KiB buffer is used. Caps on datagrams and on bytes
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

/* One engine's datagrams in reassembly. */
struct ipfrag_table {
	struct ipfrag_limits lim;
	struct ipfrag_dgram *tab[IPFRAG_BUCKETS];
	struct ipfrag_dgram *oldest, *newest; /* age list */
	unsigned ndgrams;		      /* also read by the metrics thread */
	size_t nbytes;
	uint8_t out[IPFRAG_MAX_PAYLOAD]; /* the last completed datagram */
};

void ipfrag_limits_default(struct ipfrag_limits *l)
{
	*l = (struct ipfrag_limits){
	    .max_datagrams = 1024,
	    .max_bytes = 4u << 20,
	    .timeout_ns = 30ull * 1000000000ull,
	};
}

struct ipfrag_table *ipfrag_new(const struct ipfrag_limits *l)
{
	struct ipfrag_table *fr = calloc(1, sizeof(*fr));

	if (!fr) {
		pr_err("ipfrag_new: calloc: out of memory");
		return NULL;
	}
	if (l)
		fr->lim = *l;
	else
		ipfrag_limits_default(&fr->lim);
	return fr;
}

void ipfrag_free(struct ipfrag_table *fr)
{
	if (!fr)
		return;
	ipfrag_clear(fr);
	free(fr);
}

void ipfrag_set_limits(struct ipfrag_table *fr, const struct ipfrag_limits *l)
{
	fr->lim = *l;
}

void ipfrag_get_limits(const struct ipfrag_table *fr, struct ipfrag_limits *l)
{
	*l = fr->lim;
}

unsigned ipfrag_datagrams(const struct ipfrag_table *fr)
{
	return __atomic_load_n(&fr->ndgrams, __ATOMIC_RELAXED);
}

size_t ipfrag_bytes(const struct ipfrag_table *fr)
{
	return __atomic_load_n(&fr->nbytes, __ATOMIC_RELAXED);
}

static unsigned ipfrag_hash(const struct ipfrag_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 16777619u;
	return h % IPFRAG_BUCKETS;
}

static void ipfrag_free_pieces(struct ipfrag_table *fr, struct ipfrag_dgram *d)
{
	struct ipfrag_piece *p = d->pieces, *n;

	for (; p; p = n) {
		n = p->next;
		free(p);
	}
	d->pieces = NULL;
	fr->nbytes -= d->have;
	d->have = 0;
}

/* Unlinks d from the hash and the age list and frees it. */
static void ipfrag_destroy(struct ipfrag_table *fr, struct ipfrag_dgram *d)
{
	struct ipfrag_dgram **pp = &fr->tab[ipfrag_hash(&d->key)];

	while (*pp && *pp != d)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = d->hnext;
	if (d->older)
		d->older->newer = d->newer;
	else
		fr->oldest = d->newer;
	if (d->newer)
		d->newer->older = d->older;
	else
		fr->newest = d->older;
	ipfrag_free_pieces(fr, d);
	fr->ndgrams--;
	free(d);
}

/* Turns d into a tombstone: its data is freed, further fragments are dropped. */
static void ipfrag_reject(struct ipfrag_table *fr, struct ipfrag_dgram *d, struct pano_counter *why)
{
	counter_inc(why);
	ipfrag_free_pieces(fr, d);
	d->rejected = 1;
}

/* Evicts the oldest datagram other than keep; false if there is none. */
static int ipfrag_evict_one(struct ipfrag_table *fr, struct ipfrag_dgram *keep)
{
	struct ipfrag_dgram *d = fr->oldest;

	if (d == keep)
		d = d->newer;
	if (!d)
		return 0;
	if (!d->rejected)
		counter_inc(&c_frag_evicted);
	ipfrag_destroy(fr, d);
	return 1;
}

static struct ipfrag_dgram *ipfrag_find(struct ipfrag_table *fr, const struct ipfrag_key *k)
{
	struct ipfrag_dgram *d = fr->tab[ipfrag_hash(k)];

	while (d && memcmp(&d->key, k, sizeof(*k)) != 0)
		d = d->hnext;
	return d;
}

static struct ipfrag_dgram *ipfrag_create(struct ipfrag_table *fr, const struct ipfrag_key *k,
					  uint64_t ts_ns)
{
	while (fr->ndgrams >= fr->lim.max_datagrams && ipfrag_evict_one(fr, NULL))
		;
	struct ipfrag_dgram *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	unsigned h = ipfrag_hash(k);
	d->key = *k;
	d->first_ts = ts_ns;
	d->hnext = fr->tab[h];
	fr->tab[h] = d;
	d->older = fr->newest;
	if (fr->newest)
		fr->newest->newer = d;
	else
		fr->oldest = d;
	fr->newest = d;
	fr->ndgrams++;
	return d;
}

/* Copies the complete datagram into fr->out; its pieces are contiguous from 0 to total. */
static uint32_t ipfrag_assemble(struct ipfrag_table *fr, struct ipfrag_dgram *d)
{
	for (struct ipfrag_piece *p = d->pieces; p; p = p->next)
		memcpy(fr->out + p->off, p->data, p->len);
	return d->total;
}

int ipfrag_add(struct ipfrag_table *fr, const struct ipfrag_key *k, uint64_t ts_ns, uint32_t offset,
	       int more, const uint8_t *data, uint32_t len, const uint8_t **out, uint32_t *outlen)
{
	uint64_t end = (uint64_t)offset + len;
	struct ipfrag_dgram *d = ipfrag_find(fr, k);

	if (d && d->rejected) {
		counter_inc(&c_frag_rejected);
		return -1;
	}
	if (!d) {
		d = ipfrag_create(fr, k, ts_ns);
		if (!d) {
			counter_inc(&c_frag_nomem);
			return -1;
		}
	}
	if (end > IPFRAG_MAX_PAYLOAD) {
		ipfrag_reject(fr, d, &c_frag_oversize);
		return -1;
	}
	if (len == 0 || (more && len % 8 != 0)) {
		ipfrag_reject(fr, d, &c_frag_badlen);
		return -1;
	}
	/* The last fragment fixes the length; everything must fit inside it. */
	if (!more) {
		if (d->total && d->total != end) {
			ipfrag_reject(fr, d, &c_frag_badlen);
			return -1;
		}
		d->total = (uint32_t)end;
	}
	if (d->total && end > d->total) {
		ipfrag_reject(fr, d, &c_frag_badlen);
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
			ipfrag_reject(fr, d, &c_frag_overlap);
			return -1;
		}
		if (p->off > offset)
			break;
	}
	while (fr->nbytes + len > fr->lim.max_bytes && ipfrag_evict_one(fr, d))
		;
	if (fr->nbytes + len > fr->lim.max_bytes) {
		counter_inc(&c_frag_evicted);
		ipfrag_destroy(fr, d);
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
	fr->nbytes += len;
	if (!d->total || d->have != d->total)
		return 0;
	*outlen = ipfrag_assemble(fr, d);
	*out = fr->out;
	ipfrag_destroy(fr, d);
	counter_inc(&c_frag_datagrams);
	return 1;
}

void ipfrag_expire(struct ipfrag_table *fr, uint64_t now_ns)
{
	while (fr->oldest && fr->oldest->first_ts + fr->lim.timeout_ns < now_ns) {
		if (!fr->oldest->rejected)
			counter_inc(&c_frag_timeout);
		ipfrag_destroy(fr, fr->oldest);
	}
}

void ipfrag_clear(struct ipfrag_table *fr)
{
	while (fr->oldest)
		ipfrag_destroy(fr, fr->oldest);
}
