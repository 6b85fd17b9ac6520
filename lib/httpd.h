/* SPDX-License-Identifier: Apache-2.0 */
/*
 * httpd.h - the small HTTP server both binaries use for /metrics, /healthz and read-only API
 * paths (libmicrohttpd, one internal thread). A program registers GET paths with a callback
 * that fills a bounded text buffer; /healthz ("ok") is built in. Also the ADDR:PORT parser
 * that every listening option of PANO shares.
 */
#ifndef PANO_HTTPD_H
#define PANO_HTTPD_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/socket.h>

#define HBUF_MAX (16u << 20) /* a response never grows past this; hbuf.oom is set instead */

/* A growable text buffer with a hard cap. Appends past the cap set oom and are dropped. */
struct hbuf {
	char *data;
	size_t len, cap;
	int oom;
};

void hbuf_init(struct hbuf *b);
void hbuf_free(struct hbuf *b);
void hbuf_reset(struct hbuf *b);
void hbuf_append(struct hbuf *b, const char *s, size_t n);
void hbuf_printf(struct hbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void hbuf_vprintf(struct hbuf *b, const char *fmt, va_list ap);

/*
 * Fills out for one GET request. query is the raw query string after '?' (or ""). Returns
 * an HTTP status (200, 404...). Runs on the server's thread: it must only read state that is
 * safe to read concurrently (atomics, or under the program's own lock).
 */
typedef int (*httpd_cb)(void *ctx, const char *query, struct hbuf *out);

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
