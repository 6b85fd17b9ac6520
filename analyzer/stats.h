/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stats.h - the --stats summary (stderr, at exit and on SIGUSR1) and the analyzer's Prometheus
 * exposition: every PANO_COUNTER by kind, the engine's state gauges (TCP, fragments, each L7
 * protocol's own), and each sink's account (records in, out, dropped by reason, pending) and its
 * own statistics.
 */
#ifndef PANO_STATS_H
#define PANO_STATS_H

#include <stdio.h>

#include "httpd.h"

struct pano_engine;
struct sink_set;

/* What the statistics are of. */
struct stats_src {
	const struct pano_engine *eng; /* its gauges */
	struct sink_set *sinks;	       /* each sink's account */
};

/* Writes the human summary to out. Called from the main thread only. */
void stats_print(FILE *out, const struct stats_src *src);

/* httpd_cb for /metrics (ctx: a struct stats_src): counters, sink counters, state gauges. The
 * engine's gauges are read with relaxed atomic loads while it decodes. */
int stats_metrics(void *ctx, const char *query, struct wbuf *out);

#endif
