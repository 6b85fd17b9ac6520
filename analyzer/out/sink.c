// SPDX-License-Identifier: Apache-2.0
/*
 * sink.c - the sink registry: an ordered list of configured sinks (file/stdout, Kafka, ...).
 * Protocols hand each record to sinks_emit(), which gives it to every sink in the order they
 * were added and counts what each was handed (in); what became of the records (out, dropped by
 * reason, pending) each sink tells itself (sink_tally). Closing a sink releases its
 * resources but keeps the struct on the list, so --stats can still report its counts after
 * sinks_close(); sinks_free() forgets them (tests, clean shutdown under a leak checker).
 */
#include <stddef.h>
#include <string.h>

#include "sink.h"

static struct sink *sink_head;
static struct sink **sink_tail = &sink_head;

/* Appends s to the list; records reach sinks in the order they were added. */
void sinks_add(struct sink *s)
{
	s->next = NULL;
	*sink_tail = s;
	sink_tail = &s->next;
}

struct sink *sinks_first(void)
{
	return sink_head;
}

/* Gives the record to every open sink. A sink that refuses it (emit < 0) has counted it under
 * its drop reason and logged why. */
void sinks_emit(const char *topic_proto, const void *key, size_t keylen, const void *rec,
		size_t len)
{
	struct sink *s;

	for (s = sink_head; s; s = s->next) {
		if (!s->emit)
			continue; /* closed */
		__atomic_store_n(&s->in, s->in + 1, __ATOMIC_RELAXED); /* read by /metrics */
		s->emit(s, topic_proto, key, keylen, rec, len);
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

void sinks_poll(void)
{
	struct sink *s;

	for (s = sink_head; s; s = s->next)
		if (s->emit && s->poll)
			s->poll(s);
}

/* Flushes and closes every sink, each within timeout_ms (sinks are closed one after the other,
 * so the bound is per sink). Returns 0, or the first error a sink reported. After this, emit
 * and poll on the closed sinks are no-ops but their stats callbacks still answer. */
int sinks_close(int timeout_ms)
{
	struct sink *s;
	int err, ret = 0;

	for (s = sink_head; s; s = s->next) {
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

/* Closes what is still open (timeout 0), then frees every sink and empties the list. */
void sinks_free(void)
{
	struct sink *s, *next;

	sinks_close(0);
	for (s = sink_head; s; s = next) {
		next = s->next;
		if (s->free)
			s->free(s);
	}
	sink_head = NULL;
	sink_tail = &sink_head;
}
