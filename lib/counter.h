/* SPDX-License-Identifier: Apache-2.0 */
/*
 * counter.h - named event counters that register themselves, so that every place that drops or
 * rejects something can count it in one line and every counter shows up on /metrics and in the
 * --stats summary without a central list to edit.
 *
 *   PANO_COUNTER(c_frag_overlap, "ip_frag_overlap", "weird", "overlapping IP fragments rejected");
 *   counter_inc(&c_frag_overlap);
 *
 * Names are snake_case without a prefix or _total suffix (exporters add those). The kind groups
 * counters: "weird" (malformed input), "drop" (data lost), "event" (everything else).
 * Updates are atomic (relaxed), so any thread may count.
 */
#ifndef PANO_COUNTER_H
#define PANO_COUNTER_H

#include <stdint.h>

struct pano_counter {
	const char *name;
	const char *kind;
	const char *help;
	uint64_t value;
	struct pano_counter *next;
};

void counter_register(struct pano_counter *c);
/* First registered counter (iteration: for (c = counter_first(); c; c = c->next)). */
struct pano_counter *counter_first(void);
struct pano_counter *counter_find(const char *name);

static inline void counter_add(struct pano_counter *c, uint64_t n)
{
	__atomic_fetch_add(&c->value, n, __ATOMIC_RELAXED);
}
static inline void counter_inc(struct pano_counter *c)
{
	counter_add(c, 1);
}
static inline uint64_t counter_get(const struct pano_counter *c)
{
	return __atomic_load_n(&c->value, __ATOMIC_RELAXED);
}

#define PANO_COUNTER(var, cname, ckind, chelp)                                             \
	struct pano_counter var = { .name = cname, .kind = ckind, .help = chelp };         \
	static void __attribute__((constructor)) var##_register(void)                      \
	{                                                                                  \
		counter_register(&var);                                                    \
	}

#endif
