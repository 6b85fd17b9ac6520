// SPDX-License-Identifier: Apache-2.0
/* log.c - see log.h. */
#include <stdio.h>
#include <string.h>

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
