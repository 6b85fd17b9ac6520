/* SPDX-License-Identifier: Apache-2.0 */
/*
 * prom.h - writing Prometheus text exposition (format 0.0.4) correctly: one HELP and one TYPE
 * line per family before its samples, counters named *_total, label values escaped (\\, \",
 * \n), help text escaped (\\, \n). Also the exporter of every PANO_COUNTER (lib/counter.h).
 *
 *   prom_family(b, "pano_agent_client_sent_records", PROM_COUNTER, "records sent");
 *   prom_labels(lb, sizeof(lb), "client", "127.0.0.1:4000", NULL);
 *   prom_sample(b, "pano_agent_client_sent_records", PROM_COUNTER, lb, 42);
 *
 * Family names are given without the _total suffix; for counters it is added here.
 */
#ifndef PANO_PROM_H
#define PANO_PROM_H

#include <stdint.h>
#include <stddef.h>

#include "wbuf.h"

enum prom_type { PROM_COUNTER, PROM_GAUGE };

/* Writes the HELP and TYPE lines of a family (name without _total). */
void prom_family(struct wbuf *b, const char *name, enum prom_type t, const char *help);
/* Writes one sample of family name; labels is a prom_labels() string or NULL/"" for none. */
void prom_sample(struct wbuf *b, const char *name, enum prom_type t, const char *labels,
		 uint64_t value);
void prom_sample_double(struct wbuf *b, const char *name, enum prom_type t, const char *labels,
			double value);
/* A family with exactly one sample: prom_family + prom_sample. */
void prom_one(struct wbuf *b, const char *name, enum prom_type t, const char *help,
	      const char *labels, uint64_t value);
/*
 * Formats {k1="v1",k2="v2"} from NULL-terminated key/value pairs into out, escaping the values.
 * Returns out; a set that does not fit yields "" (and the sample is then unlabelled, never a
 * broken line).
 */
char *prom_labels(char *out, size_t n, ...) __attribute__((sentinel));
/* Writes every registered PANO_COUNTER as <prefix>_<name>_total{kind="<kind>"}. */
void prom_write_counters(struct wbuf *b, const char *prefix);

#endif
