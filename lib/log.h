/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log.h - one-line diagnostics on stderr, prefixed with the program name. pr_err for what stops
 * an operation, pr_warn for what loses data or looks wrong, pr_info for progress, pr_debug only
 * with -v. Errors name the failing call: pr_err("bind %s: %s", addr, strerror(errno)).
 */
#ifndef PANO_LOG_H
#define PANO_LOG_H

#include <stdarg.h>
#include <stdint.h>

enum pano_log_level { PANO_LOG_ERR, PANO_LOG_WARN, PANO_LOG_INFO, PANO_LOG_DEBUG };

void log_init(const char *prog, int verbosity);	/* verbosity: 0 warn, 1 info, 2+ debug */
int log_enabled(enum pano_log_level lvl);
void log_msg(enum pano_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum pano_log_level lvl, const char *fmt, va_list ap);

#define pr_err(...)   log_msg(PANO_LOG_ERR, __VA_ARGS__)
#define pr_warn(...)  log_msg(PANO_LOG_WARN, __VA_ARGS__)
#define pr_info(...)  log_msg(PANO_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(PANO_LOG_DEBUG, __VA_ARGS__)

/*
 * Rate-limited lines, for what a peer can make happen at will (refused or evicted connections):
 * at most LOG_LIMIT_BURST lines per interval from one limiter; the first line after a quiet
 * spell says how many were held back. A limiter belongs to one thread (its own state is not
 * locked); zero-initialised is ready.
 */
#define LOG_LIMIT_BURST 5
struct log_limit {
	uint64_t window_ns; /* start of the current interval (monotonic) */
	unsigned lines;	    /* lines written in it */
	uint64_t held;	    /* lines held back since the last one written */
};
void log_limited(struct log_limit *l, unsigned interval_ms, enum pano_log_level lvl,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
#define pr_warn_limited(l, ms, ...) log_limited(l, ms, PANO_LOG_WARN, __VA_ARGS__)

#endif
