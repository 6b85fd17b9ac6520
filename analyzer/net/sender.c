// SPDX-License-Identifier: Apache-2.0
/*
 * sender.c - the table of frame senders records name (see sender.h).
 */
#include <stdlib.h>
#include <string.h>

#include "counter.h"
#include "sender.h"

PANO_COUNTER(c_sender_replaced, "sender_table_replaced", "event",
	     "senders (process, pod) replaced in the bounded table to make room");
PANO_COUNTER(c_sender_lost, "sender_lost", "drop",
	     "records that lost a side's process or pod: its table entry was replaced");

#define SENDER_WAYS 4

struct sender_table {
	struct sender_rec *slots;
	unsigned n; /* a multiple of SENDER_WAYS */
	uint32_t gen;
};

struct sender_table *sender_table_new(unsigned slots)
{
	struct sender_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->n = (slots + SENDER_WAYS - 1) / SENDER_WAYS * SENDER_WAYS;
	if (!t->n)
		t->n = SENDER_WAYS;
	t->slots = calloc(t->n, sizeof(*t->slots));
	if (!t->slots) {
		free(t);
		return NULL;
	}
	return t;
}

void sender_table_free(struct sender_table *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t);
}

static uint64_t sender_hash_bytes(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) /* FNV-1a */
		h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
	return (h ^ 0xff) * 0x100000001b3ull; /* field separator */
}

/* Copies n bytes of s into a NUL-terminated field of size len (cut to fit). */
static void sender_field(char *out, size_t len, const char *s, size_t n)
{
	if (n >= len)
		n = len - 1;
	if (n)
		memcpy(out, s, n);
	out[n] = 0;
}

/* True when e holds exactly s (the fields as sender_field stores them). */
static bool sender_same(const struct sender_rec *e, const struct sender_rec *s)
{
	return e->pid == s->pid && !strcmp(e->comm, s->comm) && !strcmp(e->ns, s->ns) &&
	       !strcmp(e->pod, s->pod) && !strcmp(e->container, s->container);
}

struct sender_ref sender_intern(struct sender_table *t, const struct pano_sender *s,
				uint64_t now_ns)
{
	struct sender_ref none = {0, 0};
	struct sender_rec k;
	uint64_t h = 0xcbf29ce484222325ull;

	if (!t || !s || (!s->pid && !s->comm_len && !s->pod_len))
		return none;
	k.pid = s->pid;
	sender_field(k.comm, sizeof(k.comm), s->comm, s->comm_len);
	sender_field(k.ns, sizeof(k.ns), s->ns, s->ns_len);
	sender_field(k.pod, sizeof(k.pod), s->pod, s->pod_len);
	sender_field(k.container, sizeof(k.container), s->container, s->container_len);
	h = sender_hash_bytes(h, (const char *)&k.pid, sizeof(k.pid));
	h = sender_hash_bytes(h, k.comm, strlen(k.comm));
	h = sender_hash_bytes(h, k.ns, strlen(k.ns));
	h = sender_hash_bytes(h, k.pod, strlen(k.pod));
	h = sender_hash_bytes(h, k.container, strlen(k.container));

	unsigned base = (unsigned)((h >> 32) % (t->n / SENDER_WAYS)) * SENDER_WAYS;
	struct sender_rec *set = &t->slots[base], *victim = &set[0];
	for (unsigned i = 0; i < SENDER_WAYS; i++) {
		struct sender_rec *e = &set[i];
		if (e->gen && e->hash == h && sender_same(e, &k)) {
			e->used_ns = now_ns;
			return (struct sender_ref){base + i, e->gen};
		}
		if (!e->gen || (victim->gen && e->used_ns < victim->used_ns))
			victim = e;
	}
	if (victim->gen)
		counter_inc(&c_sender_replaced);
	*victim = k;
	victim->hash = h;
	victim->used_ns = now_ns;
	victim->gen = ++t->gen ? t->gen : ++t->gen; /* never 0 */
	return (struct sender_ref){(uint32_t)(victim - t->slots), victim->gen};
}

unsigned sender_table_used(const struct sender_table *t, unsigned *size)
{
	unsigned n = 0;

	*size = t ? t->n : 0;
	for (unsigned i = 0; t && i < t->n; i++)
		n += t->slots[i].gen != 0;
	return n;
}

const struct sender_rec *sender_get(const struct sender_table *t, struct sender_ref r)
{
	const struct sender_rec *e;

	if (!t || !r.gen || r.slot >= t->n)
		return NULL;
	e = &t->slots[r.slot];
	if (e->gen != r.gen) {
		counter_inc(&c_sender_lost);
		return NULL;
	}
	return e;
}

/* The value of "key=" at *p (up to the next space, or the rest for comm); advances *p. */
static bool sender_kv(const char **p, const char *end, const char *key, bool rest, const char **v,
		      uint32_t *vlen)
{
	size_t kl = strlen(key);
	const char *q = *p;

	if ((size_t)(end - q) < kl || memcmp(q, key, kl) != 0)
		return false;
	q += kl;
	*v = q;
	while (q < end && (rest || *q != ' '))
		q++;
	*vlen = (uint32_t)(q - *v);
	*p = q < end ? q + 1 : q;
	return true;
}

static uint64_t sender_num(const char *s, uint32_t n, bool *ok)
{
	uint64_t v = 0;

	*ok = n > 0 && n <= 20;
	for (uint32_t i = 0; i < n && *ok; i++) {
		if (s[i] < '0' || s[i] > '9')
			*ok = false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	return v;
}

int sender_parse_comment(const char *text, size_t len, struct pano_sender *s)
{
	const char *p = text, *end = text + len, *v;
	uint32_t n;
	bool ok;

	memset(s, 0, sizeof(*s));
	if (!sender_kv(&p, end, "cgroup=", false, &v, &n))
		return -1;
	s->cgroup_id = sender_num(v, n, &ok);
	if (!ok)
		return -1;
	if (sender_kv(&p, end, "pid=", false, &v, &n)) {
		s->pid = (uint32_t)sender_num(v, n, &ok);
		if (!ok || n > 10)
			return -1;
	}
	if (sender_kv(&p, end, "pod=", false, &v, &n)) {
		const char *slash = memchr(v, '/', n);
		if (!slash)
			return -1;
		s->ns = v;
		s->ns_len = (uint32_t)(slash - v);
		s->pod = slash + 1;
		s->pod_len = (uint32_t)(v + n - slash - 1);
	}
	if (sender_kv(&p, end, "container=", false, &v, &n)) {
		s->container = v;
		s->container_len = n;
	}
	if (sender_kv(&p, end, "comm=", true, &v, &n)) {
		s->comm = v;
		s->comm_len = n;
	}
	return p == end ? 0 : -1;
}
