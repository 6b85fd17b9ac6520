// SPDX-License-Identifier: Apache-2.0
/* prom.c - Prometheus text exposition helpers; see prom.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "counter.h"
#include "prom.h"

static const char *prom_type_name(enum prom_type t)
{
	return t == PROM_COUNTER ? "counter" : "gauge";
}

static const char *prom_suffix(enum prom_type t)
{
	return t == PROM_COUNTER ? "_total" : "";
}

void prom_family(struct wbuf *b, const char *name, enum prom_type t, const char *help)
{
	const char *sfx = prom_suffix(t);

	wbuf_printf(b, "# HELP %s%s ", name, sfx);
	for (const char *p = help; p && *p; p++) {
		if (*p == '\\')
			wbuf_put(b, "\\\\", 2);
		else if (*p == '\n')
			wbuf_put(b, "\\n", 2);
		else
			wbuf_put(b, p, 1);
	}
	wbuf_printf(b, "\n# TYPE %s%s %s\n", name, sfx, prom_type_name(t));
}

void prom_sample(struct wbuf *b, const char *name, enum prom_type t, const char *labels,
		 uint64_t value)
{
	wbuf_printf(b, "%s%s%s %llu\n", name, prom_suffix(t), labels ? labels : "",
		    (unsigned long long)value);
}

void prom_sample_double(struct wbuf *b, const char *name, enum prom_type t, const char *labels,
			double value)
{
	wbuf_printf(b, "%s%s%s %.17g\n", name, prom_suffix(t), labels ? labels : "", value);
}

void prom_one(struct wbuf *b, const char *name, enum prom_type t, const char *help,
	      const char *labels, uint64_t value)
{
	prom_family(b, name, t, help);
	prom_sample(b, name, t, labels, value);
}

/* Appends c to out at *pos when it fits (one byte kept for the NUL); 0, or -1 when full. */
static int prom_put(char *out, size_t n, size_t *pos, char c)
{
	if (*pos + 1 >= n)
		return -1;
	out[(*pos)++] = c;
	return 0;
}

char *prom_labels(char *out, size_t n, ...)
{
	va_list ap;
	size_t pos = 0;
	int err = 0, first = 1;
	const char *k;

	if (!n)
		return out;
	va_start(ap, n);
	while (!err && (k = va_arg(ap, const char *))) {
		const char *v = va_arg(ap, const char *);
		err |= prom_put(out, n, &pos, first ? '{' : ',');
		first = 0;
		for (const char *p = k; *p && !err; p++)
			err |= prom_put(out, n, &pos, *p);
		err |= prom_put(out, n, &pos, '=');
		err |= prom_put(out, n, &pos, '"');
		for (const char *p = v ? v : ""; *p && !err; p++) {
			if (*p == '\\' || *p == '"') {
				err |= prom_put(out, n, &pos, '\\');
				err |= prom_put(out, n, &pos, *p);
			} else if (*p == '\n') {
				err |= prom_put(out, n, &pos, '\\');
				err |= prom_put(out, n, &pos, 'n');
			} else {
				err |= prom_put(out, n, &pos, *p);
			}
		}
		err |= prom_put(out, n, &pos, '"');
	}
	va_end(ap);
	if (!first && !err)
		err |= prom_put(out, n, &pos, '}');
	out[err ? 0 : pos] = 0;
	return out;
}

void prom_write_counters(struct wbuf *b, const char *prefix)
{
	char name[160], lb[96];

	for (struct pano_counter *c = counter_first(); c; c = c->next) {
		snprintf(name, sizeof(name), "%s_%s", prefix, c->name);
		prom_labels(lb, sizeof(lb), "kind", c->kind, NULL);
		prom_one(b, name, PROM_COUNTER, c->help, lb, counter_get(c));
	}
}
