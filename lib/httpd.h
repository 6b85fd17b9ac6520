/* SPDX-License-Identifier: Apache-2.0 */
/*
 * httpd.h - the small HTTP server both binaries use for /metrics, /healthz and read-only API
 * paths (libmicrohttpd, one internal thread). A program registers GET paths with a callback
 * that fills a bounded writer buffer (lib/wbuf.h); /healthz ("ok") is built in. Also the
 * ADDR:PORT parser that every listening option of PANO shares.
 */
#ifndef PANO_HTTPD_H
#define PANO_HTTPD_H

#include <stddef.h>
#include <sys/socket.h>

#include "wbuf.h"

#define HTTPD_BODY_MAX (16u << 20) /* a response body's wbuf max */

/*
 * Fills out for one GET request. query is the raw query string after '?' (or ""). Returns
 * an HTTP status (200, 404...). Runs on the server's thread: it must only read state that is
 * safe to read concurrently (atomics, or under the program's own lock). When out is cut (the
 * body would pass HTTPD_BODY_MAX), the server still sends what fit with that status, and counts
 * and logs the cut (httpd_response_too_large).
 */
typedef int (*httpd_cb)(void *ctx, const char *query, struct wbuf *out);

struct httpd;

/* Content type of Prometheus text exposition 0.0.4. */
#define HTTPD_PROM_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * Parses "ADDR:PORT", "[V6ADDR]:PORT", ":PORT" or "PORT" into ss; a missing address becomes
 * defhost (e.g. "127.0.0.1"). Numeric addresses only. 0, or -EINVAL with a message logged.
 */
int httpd_parse_addr(const char *spec, const char *defhost, struct sockaddr_storage *ss,
		     socklen_t *sslen);

/*
 * Starts serving on spec (as httpd_parse_addr, default 127.0.0.1). /metrics is served from
 * metrics_cb (may be NULL: 404) with the Prometheus content type. NULL on failure (logged).
 */
struct httpd *httpd_start(const char *spec, httpd_cb metrics_cb, void *ctx);
/* Adds GET path (exact match) served by cb with content_type. 0, -ENOSPC or -EINVAL. */
int httpd_route(struct httpd *h, const char *path, const char *content_type, httpd_cb cb,
		void *ctx);
/* The bound port (useful when spec asked for port 0). */
int httpd_port(const struct httpd *h);
void httpd_stop(struct httpd *h);

#endif
