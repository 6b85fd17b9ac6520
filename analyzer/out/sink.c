// SPDX-License-Identifier: Apache-2.0
/*
 * sink.c - sink sets: an ordered list of configured sinks (file/stdout, Kafka, ...). The out
 * stage hands each record to sink_set_emit(), which gives it to every sink in the order they
 * were added and counts what each was handed (in); what became of the records (out, dropped by
 * reason, pending) each sink tells itself (sink_tally). Closing a sink releases its resources
 * but keeps the struct on the list, so --stats can still report its counts after
 * sink_set_close(); sink_set_free() forgets them (tests, clean shutdown under a leak checker).
 */
#include <stddef.h>
#include <string.h>

#include "sink.h"

void sink_set_init(struct sink_set *set)
{
	set->head = NULL;
	set->tail = &set->head;
}

void sink_set_add(struct sink_set *set, struct sink *s)
{
	s->next = NULL;
	*set->tail = s;
	set->tail = &s->next;
}

/* A sink that refuses the record (emit < 0) has counted it under its drop reason and logged
 * why. */
void sink_set_emit(struct sink_set *set, const char *path, const void *key, size_t keylen,
		   const void *rec, size_t len)
{
	for (struct sink *s = set->head; s; s = s->next) {
		if (!s->emit)
			continue;				       /* closed */
		__atomic_store_n(&s->in, s->in + 1, __ATOMIC_RELAXED); /* read by /metrics */
		s->emit(s, path, key, keylen, rec, len);
	}
}

void sink_tally_drop(struct sink_tally *t, const char *reason, uint64_t n)
{
	if (t->nreasons < SINK_MAX_REASONS) {
		t->dropped[t->nreasons].reason = reason;
		t->dropped[t->nreasons].n = n;
		t->nreasons++;
	}
}

uint64_t sink_tally_dropped(const struct sink_tally *t)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < t->nreasons; i++)
		n += t->dropped[i].n;
	return n;
}

void sink_tally(struct sink *s, struct sink_tally *t)
{
	memset(t, 0, sizeof(*t));
	t->in = __atomic_load_n(&s->in, __ATOMIC_RELAXED);
	if (s->tally)
		s->tally(s, t);
}

void sink_set_poll(struct sink_set *set)
{
	for (struct sink *s = set->head; s; s = s->next)
		if (s->emit && s->poll)
			s->poll(s);
}

/* Sinks are closed one after the other, so the bound is per sink. After this, emit and poll on
 * the closed sinks are no-ops but their stats callbacks still answer. */
int sink_set_close(struct sink_set *set, int timeout_ms)
{
	int err, ret = 0;

	for (struct sink *s = set->head; s; s = s->next) {
		if (!s->emit)
			continue;
		err = s->close ? s->close(s, timeout_ms) : 0;
		s->emit = NULL;
		s->poll = NULL;
		if (err && !ret)
			ret = err;
	}
	return ret;
}

/* Closes what is still open (timeout 0), then frees every sink and empties the set. */
void sink_set_free(struct sink_set *set)
{
	struct sink *s, *next;

	sink_set_close(set, 0);
	for (s = set->head; s; s = next) {
		next = s->next;
		if (s->free)
			s->free(s);
	}
	sink_set_init(set);
}
