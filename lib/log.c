// SPDX-License-Identifier: Apache-2.0
/* log.c - see log.h. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

static const char *log_prog = "pano";
static int log_verbosity;

void log_init(const char *prog, int verbosity)
{
	const char *slash = strrchr(prog, '/');
	log_prog = slash ? slash + 1 : prog;
	log_verbosity = verbosity;
}

int log_enabled(enum pano_log_level lvl)
{
	return (int)lvl <= log_verbosity + 1;
}

void log_vmsg(enum pano_log_level lvl, const char *fmt, va_list ap)
{
	static const char *const tag[] = { "error: ", "warning: ", "", "debug: " };
	char line[1024];

	if (!log_enabled(lvl))
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	/* One write per line so lines from threads do not interleave. */
	fprintf(stderr, "%s: %s%s\n", log_prog, tag[lvl], line);
}

void log_msg(enum pano_log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, fmt, ap);
	va_end(ap);
}

void log_limited(struct log_limit *l, unsigned interval_ms, enum pano_log_level lvl,
		 const char *fmt, ...)
{
	struct timespec ts;
	char line[900];
	va_list ap;

	if (!log_enabled(lvl))
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	if (!l->window_ns || now - l->window_ns >= (uint64_t)interval_ms * 1000000ull) {
		l->window_ns = now;
		l->lines = 0;
	}
	if (l->lines >= LOG_LIMIT_BURST) {
		l->held++;
		return;
	}
	l->lines++;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (l->held)
		log_msg(lvl, "%s (%llu similar line(s) held back before this one)", line,
			(unsigned long long)l->held);
	else
		log_msg(lvl, "%s", line);
	l->held = 0;
}
