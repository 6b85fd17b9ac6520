// SPDX-License-Identifier: Apache-2.0
/*
 * stats.c - the analyzer's summary and metrics (see stats.h). Everything comes from the counter
 * registry, the engine and the sink set, so a new PANO_COUNTER, sink or protocol gauge shows up
 * without editing this file.
 */
#include <inttypes.h>
#include <string.h>

#include "counter.h"
#include "engine.h"
#include "prom.h"
#include "sender.h"
#include "sink.h"
#include "stats.h"

#define STATS_MAX_SINKS 16

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

struct stats_line {
	FILE *out;
	int n; /* gauges on the line so far */
};

/* l7_gauge_fn for stats_print: "state: l7 name v, name v". */
static void stats_gauge_line(void *arg, const char *name, const char *help, uint64_t v)
{
	struct stats_line *l = arg;

	fprintf(l->out, "%s%s %" PRIu64, l->n++ ? ", " : "state: l7 ", name, v);
}

void stats_print(FILE *out, const struct stats_src *src)
{
	const struct pano_engine *eng = src->eng;
	struct pano_counter *frames = counter_find("frames"), *bytes = counter_find("bytes");

	fprintf(out, "pano-analyzer statistics\n");
	fprintf(out, "  %-28s %" PRIu64 "\n", "frames", frames ? counter_get(frames) : 0);
	fprintf(out, "  %-28s %" PRIu64 "\n", "bytes", bytes ? counter_get(bytes) : 0);
	stats_kind(out, "event", "events", 1);
	stats_kind(out, "weird", "decode errors (weird)", 1);
	stats_kind(out, "drop", "drops", 1);
	struct tcp_limits tl;
	tcp_get_limits(eng->tcp, &tl);
	unsigned nsend, used = sender_table_used(eng->env.senders, &nsend);
	fprintf(out,
		"state: ip fragments %u datagrams / %zu bytes, tcp %u connections (cap %u) / %zu "
		"bytes buffered (cap %zu), senders %u (of %u)\n",
		ipfrag_datagrams(eng->frag), ipfrag_bytes(eng->frag), tcp_conns(eng->tcp),
		tl.max_conns, tcp_buffered(eng->tcp), tl.max_total_buf, used, nsend);
	struct stats_line gl = {.out = out};
	l7_gauges_all(&eng->l7, stats_gauge_line, &gl);
	if (gl.n)
		fprintf(out, "\n");
	for (struct sink *s = src->sinks->head; s; s = s->next) {
		struct sink_tally t;

		sink_tally(s, &t);
		fprintf(out, "sink %s: records in %" PRIu64 ", out %" PRIu64 ", dropped %" PRIu64,
			s->name, t.in, t.out, sink_tally_dropped(&t));
		/* the reasons that dropped anything: " (write_error 3, too_big 1)" */
		for (unsigned i = 0, any = 0; i < t.nreasons; i++) {
			if (!t.dropped[i].n)
				continue;
			fprintf(out, "%s%s %" PRIu64, any ? ", " : " (", t.dropped[i].reason,
				t.dropped[i].n);
			any = 1;
		}
		fprintf(out, "%s, pending %" PRIu64 "\n", sink_tally_dropped(&t) ? ")" : "",
			t.pending);
		if (s->stats)
			s->stats(s, stats_sink_line, out);
	}
	fflush(out);
}

struct stats_prom_arg {
	struct wbuf *b;
	const char *sink;
};

static void stats_prom_sink(void *arg, const char *name, uint64_t v)
{
	struct stats_prom_arg *a = arg;
	char lb[256];

	prom_labels(lb, sizeof(lb), "sink", a->sink, "stat", name, NULL);
	prom_sample(a->b, "pano_analyzer_sink_stat", PROM_GAUGE, lb, v);
}

/* l7_gauge_fn for /metrics: pano_analyzer_<name>. */
static void stats_gauge_prom(void *arg, const char *name, const char *help, uint64_t v)
{
	char full[128];

	snprintf(full, sizeof(full), "pano_analyzer_%s", name);
	prom_one(arg, full, PROM_GAUGE, help, NULL, v);
}

int stats_metrics(void *ctx, const char *query, struct wbuf *out)
{
	const struct stats_src *src = ctx;
	const struct pano_engine *eng = src->eng;
	char lb[128];

	prom_write_counters(out, "pano_analyzer");
	struct tcp_limits tl;
	tcp_get_limits(eng->tcp, &tl);
	prom_one(out, "pano_analyzer_tcp_connections", PROM_GAUGE, "TCP connections tracked now",
		 NULL, tcp_conns(eng->tcp));
	prom_one(out, "pano_analyzer_tcp_connections_max", PROM_GAUGE,
		 "TCP connections tracked at most (--tcp-max-conns)", NULL, tl.max_conns);
	prom_one(out, "pano_analyzer_tcp_buffer_bytes", PROM_GAUGE,
		 "bytes every TCP buffer holds now (out-of-order segments, L7 messages)", NULL,
		 tcp_buffered(eng->tcp));
	prom_one(out, "pano_analyzer_tcp_buffer_bytes_max", PROM_GAUGE,
		 "bytes TCP buffers may hold together (--tcp-max-buffer)", NULL, tl.max_total_buf);
	prom_one(out, "pano_analyzer_ip_frag_held_datagrams", PROM_GAUGE,
		 "IP datagrams in reassembly now", NULL, ipfrag_datagrams(eng->frag));
	prom_one(out, "pano_analyzer_ip_frag_held_bytes", PROM_GAUGE,
		 "fragment bytes held for reassembly now", NULL, ipfrag_bytes(eng->frag));
	unsigned nsend, used = sender_table_used(eng->env.senders, &nsend);
	prom_one(out, "pano_analyzer_senders", PROM_GAUGE,
		 "sender table entries in use (process, pod, container), every protocol's", NULL,
		 used);
	prom_one(out, "pano_analyzer_senders_max", PROM_GAUGE, "sender table entries", NULL, nsend);
	l7_gauges_all(&eng->l7, stats_gauge_prom, out);
	/* Each sink's account: in = out + dropped (every reason) + pending. */
	struct sink_tally tallies[STATS_MAX_SINKS];
	struct sink *sinks[STATS_MAX_SINKS];
	unsigned n = 0;
	for (struct sink *s = src->sinks->head; s && n < STATS_MAX_SINKS; s = s->next) {
		sinks[n] = s;
		sink_tally(s, &tallies[n++]);
	}
	prom_family(out, "pano_analyzer_sink_records_in", PROM_COUNTER,
		    "records handed to each sink");
	for (unsigned i = 0; i < n; i++) {
		prom_labels(lb, sizeof(lb), "sink", sinks[i]->name, NULL);
		prom_sample(out, "pano_analyzer_sink_records_in", PROM_COUNTER, lb, tallies[i].in);
	}
	prom_family(out, "pano_analyzer_sink_records_out", PROM_COUNTER,
		    "records each sink wrote (file: taken by write(2); Kafka: delivered)");
	for (unsigned i = 0; i < n; i++) {
		prom_labels(lb, sizeof(lb), "sink", sinks[i]->name, NULL);
		prom_sample(out, "pano_analyzer_sink_records_out", PROM_COUNTER, lb, tallies[i].out);
	}
	prom_family(out, "pano_analyzer_sink_records_dropped", PROM_COUNTER,
		    "records each sink lost, by reason");
	for (unsigned i = 0; i < n; i++)
		for (unsigned r = 0; r < tallies[i].nreasons; r++) {
			prom_labels(lb, sizeof(lb), "sink", sinks[i]->name, "reason",
				    tallies[i].dropped[r].reason, NULL);
			prom_sample(out, "pano_analyzer_sink_records_dropped", PROM_COUNTER, lb,
				    tallies[i].dropped[r].n);
		}
	prom_family(out, "pano_analyzer_sink_records_pending", PROM_GAUGE,
		    "records each sink holds, neither out nor dropped yet");
	for (unsigned i = 0; i < n; i++) {
		prom_labels(lb, sizeof(lb), "sink", sinks[i]->name, NULL);
		prom_sample(out, "pano_analyzer_sink_records_pending", PROM_GAUGE, lb,
			    tallies[i].pending);
	}
	prom_family(out, "pano_analyzer_sink_stat", PROM_GAUGE,
		    "a sink's own statistics (delivery reports, queue)");
	for (struct sink *s = src->sinks->head; s; s = s->next) {
		struct stats_prom_arg a = {.b = out, .sink = s->name};
		if (s->stats)
			s->stats(s, stats_prom_sink, &a);
	}
	return 200;
}
