// SPDX-License-Identifier: Apache-2.0
/*
 * stats.c - the analyzer's summary and metrics (see stats.h). Everything comes from the counter
 * registry and the sink list, so a new PANO_COUNTER or sink shows up without editing this file.
 */
#include <inttypes.h>
#include <string.h>

#include "counter.h"
#include "ipfrag.h"
#include "prom.h"
#include "sink.h"
#include "stats.h"
#include "tcp.h"

static void stats_kind(FILE *out, const char *kind, const char *title, int skip_zero)
{
	int any = 0;

	for (struct pano_counter *c = counter_first(); c; c = c->next) {
		if (strcmp(c->kind, kind) != 0)
			continue;
		uint64_t v = counter_get(c);
		if ((skip_zero && !v) || !strcmp(c->name, "frames") || !strcmp(c->name, "bytes"))
			continue;
		if (!any)
			fprintf(out, "%s:\n", title);
		any = 1;
		fprintf(out, "  %-28s %" PRIu64 "\n", c->name, v);
	}
	if (!any)
		fprintf(out, "%s: none\n", title);
}

static void stats_sink_line(void *arg, const char *name, uint64_t v)
{
	fprintf((FILE *)arg, "    %-26s %" PRIu64 "\n", name, v);
}

void stats_print(FILE *out)
{
	struct pano_counter *frames = counter_find("frames"), *bytes = counter_find("bytes");

	fprintf(out, "pano-analyzer statistics\n");
	fprintf(out, "  %-28s %" PRIu64 "\n", "frames", frames ? counter_get(frames) : 0);
	fprintf(out, "  %-28s %" PRIu64 "\n", "bytes", bytes ? counter_get(bytes) : 0);
	stats_kind(out, "event", "events", 1);
	stats_kind(out, "weird", "decode errors (weird)", 1);
	stats_kind(out, "drop", "drops", 1);
	fprintf(out,
		"state: ip fragments %u datagrams / %zu bytes, tcp %u connections / %zu bytes\n",
		ipfrag_datagrams(), ipfrag_bytes(), tcp_conns(), tcp_buffered());
	for (struct sink *s = sinks_first(); s; s = s->next) {
		fprintf(out, "sink %s: records out %" PRIu64 ", dropped %" PRIu64 "\n", s->name,
			__atomic_load_n(&s->emitted, __ATOMIC_RELAXED),
			__atomic_load_n(&s->dropped, __ATOMIC_RELAXED));
		if (s->stats)
			s->stats(s, stats_sink_line, out);
	}
	fflush(out);
}

struct stats_prom_arg {
	struct hbuf *b;
	const char *sink;
};

static void stats_prom_sink(void *arg, const char *name, uint64_t v)
{
	struct stats_prom_arg *a = arg;
	char lb[256];

	prom_labels(lb, sizeof(lb), "sink", a->sink, "stat", name, NULL);
	prom_sample(a->b, "pano_analyzer_sink_stat", PROM_GAUGE, lb, v);
}

int stats_metrics(void *ctx, const char *query, struct hbuf *out)
{
	char lb[128];

	prom_write_counters(out, "pano_analyzer");
	prom_family(out, "pano_analyzer_sink_records_emitted", PROM_COUNTER,
		    "records handed to each sink");
	for (struct sink *s = sinks_first(); s; s = s->next) {
		prom_labels(lb, sizeof(lb), "sink", s->name, NULL);
		prom_sample(out, "pano_analyzer_sink_records_emitted", PROM_COUNTER, lb,
			    __atomic_load_n(&s->emitted, __ATOMIC_RELAXED));
	}
	prom_family(out, "pano_analyzer_sink_records_dropped", PROM_COUNTER,
		    "records each sink dropped");
	for (struct sink *s = sinks_first(); s; s = s->next) {
		prom_labels(lb, sizeof(lb), "sink", s->name, NULL);
		prom_sample(out, "pano_analyzer_sink_records_dropped", PROM_COUNTER, lb,
			    __atomic_load_n(&s->dropped, __ATOMIC_RELAXED));
	}
	prom_family(out, "pano_analyzer_sink_stat", PROM_GAUGE,
		    "a sink's own statistics (delivery reports, queue)");
	for (struct sink *s = sinks_first(); s; s = s->next) {
		struct stats_prom_arg a = {.b = out, .sink = s->name};
		if (s->stats)
			s->stats(s, stats_prom_sink, &a);
	}
	return 200;
}
