/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stats.h - the --stats summary (stderr, at exit and on SIGUSR1) and the analyzer's Prometheus
 * exposition: every PANO_COUNTER by kind, and each sink's account (records in, out, dropped by
 * reason, pending) and its own statistics.
 */
#ifndef PANO_STATS_H
#define PANO_STATS_H

#include <stdio.h>

#include "httpd.h"

/* The protocols whose gauges (l7.h) the summary and /metrics show (set once, before any). */
struct l7_set;
void stats_set_l7(const struct l7_set *s);

/* Writes the human summary to out. Called from the main thread only. */
void stats_print(FILE *out);

/* httpd_cb for /metrics: counters, sink counters, state gauges. */
int stats_metrics(void *ctx, const char *query, struct hbuf *out);

#endif
