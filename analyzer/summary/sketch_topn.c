// SPDX-License-Identifier: Apache-2.0
/*
 * sketch_topn.c - Misra-Gries heavy hitters (see sketch_topn.h for the guarantees). Entries
 * live in a dense array; an open-addressing index (linear probing, power-of-two size >= 2k)
 * maps a key's hash to its entry. An index slot also holds the top 32 bits of its entry's hash,
 * so that a probe past other keys reads no entry. Entries are only ever removed all at once by a
 * purge, which compacts the array and rebuilds the index, so the index needs no tombstones. Purges
 * cost O(k) and happen at most N/(k+1) times, so an update is O(1) amortised. Keys up to
 * TOPN_INLINE bytes (most names and every address) live inside their entry, so that the
 * constant churn of a stream of distinct keys costs no malloc/free.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sketch_hash.h"
#include "sketch_topn.h"

#define TOPN_INLINE 46 /* keys this long or shorter are kept in the entry (64 bytes) */

struct topn_entry {
	uint64_t count;
	uint64_t hash;
	uint16_t len;
	union {
		uint8_t in[TOPN_INLINE]; /* len <= TOPN_INLINE */
		uint8_t *p;		 /* longer keys: malloc'd */
	} k;
};

struct topn {
	unsigned k, n;	 /* capacity, entries in use */
	unsigned mask;	 /* index size - 1 */
	uint64_t *index; /* 0 (free) or entry number + 1 | hash >> 32 << 32 */
	struct topn_entry *e;
	uint64_t total, offset;
	size_t key_bytes; /* sum of allocated key lengths */
};

struct topn *topn_new(unsigned k)
{
	struct topn *t;
	unsigned sz = 4;

	if (k < 1)
		k = 1;
	while (sz < 2 * k)
		sz <<= 1;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->k = k;
	t->mask = sz - 1;
	t->index = malloc(sz * sizeof(*t->index));
	t->e = calloc(k, sizeof(*t->e));
	if (!t->index || !t->e) {
		topn_free(t);
		return NULL;
	}
	memset(t->index, 0, sz * sizeof(*t->index));
	return t;
}

static const uint8_t *topn_key(const struct topn_entry *e)
{
	return e->len <= TOPN_INLINE ? e->k.in : e->k.p;
}

/* Stores a copy of key in e (len already cut to TOPN_KEY_MAX). 0 or -ENOMEM. */
static int topn_key_set(struct topn_entry *e, const void *key, size_t len)
{
	uint8_t *d = e->k.in;

	if (len > TOPN_INLINE) {
		d = malloc(len);
		if (!d)
			return -ENOMEM;
		e->k.p = d;
	}
	memcpy(d, key, len);
	e->len = (uint16_t)len;
	return 0;
}

static void topn_key_free(struct topn_entry *e)
{
	if (e->len > TOPN_INLINE)
		free(e->k.p);
}

static void topn_clear_entries(struct topn *t)
{
	for (unsigned i = 0; i < t->n; i++)
		topn_key_free(&t->e[i]);
	t->n = 0;
	t->key_bytes = 0;
	memset(t->index, 0, (t->mask + 1) * sizeof(*t->index));
}

void topn_free(struct topn *t)
{
	if (!t)
		return;
	if (t->e && t->index)
		topn_clear_entries(t);
	free(t->e);
	free(t->index);
	free(t);
}

void topn_reset(struct topn *t)
{
	topn_clear_entries(t);
	t->total = 0;
	t->offset = 0;
}

/* The entry number in an index slot, -1 when the slot is free. */
static inline int32_t topn_ent(uint64_t v)
{
	return (int32_t)(uint32_t)v - 1;
}

static inline uint64_t topn_slot_val(unsigned i, uint64_t h)
{
	return (h >> 32 << 32) | (i + 1);
}

/* Slot of key in the index: where it is, or the empty slot where it would go. */
static unsigned topn_slot(const struct topn *t, uint64_t h, const void *key, size_t len)
{
	unsigned s = (unsigned)h & t->mask;
	uint64_t tag = h >> 32;

	for (;;) {
		uint64_t v = t->index[s];
		const struct topn_entry *e;

		if (!v)
			return s;
		e = &t->e[topn_ent(v)];
		if ((v >> 32) == tag && e->hash == h && e->len == len &&
		    !memcmp(topn_key(e), key, len))
			return s;
		s = (s + 1) & t->mask;
	}
}

static void topn_reindex(struct topn *t)
{
	memset(t->index, 0, (t->mask + 1) * sizeof(*t->index));
	for (unsigned i = 0; i < t->n; i++) { /* keys are distinct: the first free slot */
		uint64_t h = t->e[i].hash;
		unsigned s = (unsigned)h & t->mask;

		while (t->index[s])
			s = (s + 1) & t->mask;
		t->index[s] = topn_slot_val(i, h);
	}
}

/* Subtracts d from every counter, frees the ones at zero, compacts and reindexes. */
static void topn_subtract(struct topn *t, uint64_t d)
{
	unsigned j = 0;

	for (unsigned i = 0; i < t->n; i++) {
		struct topn_entry *e = &t->e[i];

		if (e->count <= d) {
			if (e->len > TOPN_INLINE)
				t->key_bytes -= e->len;
			topn_key_free(e);
			continue;
		}
		e->count -= d;
		t->e[j++] = *e;
	}
	t->n = j;
	t->offset += d;
	topn_reindex(t);
}

/* Appends a new entry (caller checked n < k); slot is from topn_slot, or -1 to look it up. */
static int topn_insert(struct topn *t, uint64_t h, const void *key, size_t len, uint64_t w,
		       long slot)
{
	struct topn_entry *e = &t->e[t->n];

	if (topn_key_set(e, key, len) < 0)
		return -ENOMEM;
	e->hash = h;
	e->count = w;
	if (slot < 0)
		slot = topn_slot(t, h, key, len);
	t->index[slot] = topn_slot_val(t->n, h);
	t->n++;
	if (len > TOPN_INLINE)
		t->key_bytes += len;
	return 0;
}

int topn_add_hash(struct topn *t, uint64_t h, const void *key, size_t len, uint64_t w)
{
	unsigned s;

	if (w == 0)
		return 0;
	if (len > TOPN_KEY_MAX)
		len = TOPN_KEY_MAX;
	t->total += w;
	s = topn_slot(t, h, key, len);
	if (t->index[s]) {
		t->e[topn_ent(t->index[s])].count += w;
		return 0;
	}
	if (t->n == t->k) {
		uint64_t d = w;

		for (unsigned i = 0; i < t->n; i++)
			if (t->e[i].count < d)
				d = t->e[i].count;
		topn_subtract(t, d);
		w -= d;
		if (w == 0)
			return 0;
		s = topn_slot(t, h, key, len);
	}
	if (topn_insert(t, h, key, len, w, s) < 0) {
		t->offset += w; /* the weight is lost: account it as undercount */
		return -ENOMEM;
	}
	return 0;
}

int topn_add(struct topn *t, const void *key, size_t len, uint64_t w)
{
	if (len > TOPN_KEY_MAX)
		len = TOPN_KEY_MAX;
	return topn_add_hash(t, sketch_hash(key, len, SKETCH_SEED), key, len, w);
}

int topn_add_u64(struct topn *t, uint64_t v, uint64_t w)
{
	uint8_t b[8];

	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (uint8_t)v;
	return topn_add(t, b, sizeof(b), w);
}

uint64_t topn_item_u64(const struct topn_item *it)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < it->len && i < 8; i++)
		v = v << 8 | it->key[i];
	return v;
}

static int topn_cmp_entry(const void *pa, const void *pb)
{
	const struct topn_entry *a = pa, *b = pb;
	int c;

	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	c = memcmp(topn_key(a), topn_key(b), a->len);
	return c;
}

static int topn_cmp_ptr(const void *pa, const void *pb)
{
	return topn_cmp_entry(*(const struct topn_entry *const *)pa,
			      *(const struct topn_entry *const *)pb);
}

int topn_merge(struct topn *dst, const struct topn *src)
{
	struct topn_entry *all;
	unsigned n = dst->n, keep;
	int err = 0;

	/* Union of both entry lists: dst's own entries first (their keys move), then src's keys
	 * that dst lacks (copied). Counts of shared keys are added in place. */
	all = malloc((dst->n + src->n) * sizeof(*all) + 1);
	if (!all)
		return -ENOMEM;
	memcpy(all, dst->e, dst->n * sizeof(*all));
	for (unsigned i = 0; i < src->n; i++) {
		const struct topn_entry *se = &src->e[i];
		unsigned s = topn_slot(dst, se->hash, topn_key(se), se->len);

		if (dst->index[s]) {
			all[topn_ent(dst->index[s])].count += se->count;
			continue;
		}
		all[n] = *se;
		if (topn_key_set(&all[n], topn_key(se), se->len) < 0) {
			dst->offset += se->count;
			err = -ENOMEM;
			continue;
		}
		n++;
	}
	dst->total += src->total;
	dst->offset += src->offset;
	keep = n;
	if (n > dst->k) {
		uint64_t v;

		qsort(all, n, sizeof(*all), topn_cmp_entry);
		v = all[dst->k].count; /* the (k+1)-th largest */
		for (keep = 0; keep < n && all[keep].count > v; keep++)
			all[keep].count -= v;
		for (unsigned i = keep; i < n; i++)
			topn_key_free(&all[i]);
		dst->offset += v;
	}
	dst->key_bytes = 0;
	for (unsigned i = 0; i < keep; i++) {
		dst->e[i] = all[i];
		if (all[i].len > TOPN_INLINE)
			dst->key_bytes += all[i].len;
	}
	dst->n = keep;
	free(all);
	topn_reindex(dst);
	return err;
}

unsigned topn_top(const struct topn *t, struct topn_item *out, unsigned n)
{
	const struct topn_entry **tmp;
	unsigned m;

	if (!n || !t->n)
		return 0;
	tmp = malloc(t->n * sizeof(*tmp));
	if (!tmp)
		return 0;
	for (unsigned i = 0; i < t->n; i++)
		tmp[i] = &t->e[i];
	qsort(tmp, t->n, sizeof(*tmp), topn_cmp_ptr);
	m = n < t->n ? n : t->n;
	for (unsigned i = 0; i < m; i++) {
		out[i].key = topn_key(tmp[i]);
		out[i].len = tmp[i]->len;
		out[i].count = tmp[i]->count;
		out[i].upper = tmp[i]->count + t->offset;
	}
	free(tmp);
	return m;
}

uint64_t topn_count(const struct topn *t, const void *key, size_t len)
{
	uint64_t h;
	unsigned s;

	if (len > TOPN_KEY_MAX)
		len = TOPN_KEY_MAX;
	h = sketch_hash(key, len, SKETCH_SEED);
	s = topn_slot(t, h, key, len);
	return t->index[s] ? t->e[topn_ent(t->index[s])].count : 0;
}

uint64_t topn_total(const struct topn *t)
{
	return t->total;
}

uint64_t topn_offset(const struct topn *t)
{
	return t->offset;
}

unsigned topn_capacity(const struct topn *t)
{
	return t->k;
}

unsigned topn_size(const struct topn *t)
{
	return t->n;
}

size_t topn_mem_bytes(const struct topn *t)
{
	return sizeof(*t) + (t->mask + 1) * sizeof(*t->index) + t->k * sizeof(*t->e) + t->key_bytes;
}
