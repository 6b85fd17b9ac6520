// SPDX-License-Identifier: Apache-2.0
/*
 * httpd.c - the HTTP server behind --metrics (see httpd.h): libmicrohttpd with its own polling
 * thread, a small table of GET routes, /healthz built in, bounded response buffers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "counter.h"
#include "httpd.h"
#include "log.h"

#define HTTPD_MAX_ROUTES 16

PANO_COUNTER(c_httpd_oom, "httpd_response_too_large", "drop",
	     "HTTP responses cut because they reached the buffer cap");
PANO_COUNTER(c_httpd_notfound, "httpd_not_found", "event", "HTTP requests for unknown paths");

struct httpd_route_s {
	char path[64];
	const char *ctype;
	httpd_cb cb;
	void *ctx;
};

struct httpd {
	struct MHD_Daemon *d;
	pthread_mutex_t lock; /* guards routes: registration may follow the start */
	struct httpd_route_s routes[HTTPD_MAX_ROUTES];
	int nroutes;
	int port;
};

void hbuf_init(struct hbuf *b)
{
	memset(b, 0, sizeof(*b));
}

void hbuf_free(struct hbuf *b)
{
	free(b->data);
	hbuf_init(b);
}

void hbuf_reset(struct hbuf *b)
{
	b->len = 0;
	b->oom = 0;
	if (b->data)
		b->data[0] = 0;
}

/* Makes room for n more bytes plus a NUL; 0, or -1 (oom set) when the cap forbids it. */
static int hbuf_reserve(struct hbuf *b, size_t n)
{
	if (b->oom)
		return -1;
	if (b->len + n + 1 <= b->cap)
		return 0;
	if (b->len + n + 1 > HBUF_MAX) {
		b->oom = 1;
		return -1;
	}
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + n + 1)
		cap *= 2;
	if (cap > HBUF_MAX)
		cap = HBUF_MAX;
	char *p = realloc(b->data, cap);
	if (!p) {
		b->oom = 1;
		return -1;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

void hbuf_append(struct hbuf *b, const char *s, size_t n)
{
	if (hbuf_reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = 0;
}

void hbuf_vprintf(struct hbuf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	char small[256];

	va_copy(ap2, ap);
	int n = vsnprintf(small, sizeof(small), fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		hbuf_append(b, small, n);
		return;
	}
	if (hbuf_reserve(b, n))
		return;
	vsnprintf(b->data + b->len, n + 1, fmt, ap);
	b->len += n;
}

void hbuf_printf(struct hbuf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hbuf_vprintf(b, fmt, ap);
	va_end(ap);
}

int httpd_parse_addr(const char *spec, const char *defhost, struct sockaddr_storage *ss,
		     socklen_t *sslen)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *port;
	size_t hl;

	if (!spec || !*spec)
		goto bad;
	const char *colon = strrchr(spec, ':');
	if (!colon) {
		port = spec;
		snprintf(host, sizeof(host), "%s", defhost);
	} else {
		port = colon + 1;
		hl = colon - spec;
		if (spec[0] == '[') {
			if (hl < 2 || spec[hl - 1] != ']')
				goto bad;
			spec++;
			hl -= 2;
		}
		if (hl >= sizeof(host))
			goto bad;
		memcpy(host, spec, hl);
		host[hl] = 0;
		if (!hl)
			snprintf(host, sizeof(host), "%s", defhost);
	}
	char *end;
	errno = 0;
	unsigned long p = strtoul(port, &end, 10);
	if (!*port || *end || errno || p > 65535)
		goto bad;

	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(p);
		*sslen = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(p);
		*sslen = sizeof(*s6);
		return 0;
	}
bad:
	pr_err("bad address '%s': want ADDR:PORT, [ADDR]:PORT or PORT", spec ? spec : "");
	return -EINVAL;
}

/* Sends a buffer we own; MHD frees it. */
static enum MHD_Result httpd_send(struct MHD_Connection *conn, int status, const char *ctype,
				  struct hbuf *b)
{
	if (!b->data)
		hbuf_append(b, "", 0);
	struct MHD_Response *r = MHD_create_response_from_buffer(
	    b->len, b->data ? b->data : (char *)"",
	    b->data ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		hbuf_free(b);
		return MHD_NO;
	}
	b->data = NULL;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Appends one query argument to the hbuf in cls. */
static enum MHD_Result httpd_query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				       const char *value)
{
	struct hbuf *q = cls;

	hbuf_printf(q, "%s%s%s%s", q->len ? "&" : "", key, value ? "=" : "", value ? value : "");
	return MHD_YES;
}

/* MHD's access handler: one call per request (GET/HEAD only, no body). */
static enum MHD_Result httpd_handler(void *cls, struct MHD_Connection *conn, const char *url,
				     const char *method, const char *version,
				     const char *upload_data, size_t *upload_data_size,
				     void **con_cls)
{
	struct httpd *h = cls;
	struct hbuf b;

	hbuf_init(&b);
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		hbuf_printf(&b, "method not allowed\n");
		return httpd_send(conn, 405, "text/plain", &b);
	}
	if (strcmp(url, "/healthz") == 0) {
		hbuf_printf(&b, "ok\n");
		return httpd_send(conn, 200, "text/plain", &b);
	}
	struct httpd_route_s r = {.cb = NULL};
	pthread_mutex_lock(&h->lock);
	for (int i = 0; i < h->nroutes; i++)
		if (strcmp(h->routes[i].path, url) == 0)
			r = h->routes[i];
	pthread_mutex_unlock(&h->lock);
	if (!r.cb) {
		counter_inc(&c_httpd_notfound);
		hbuf_printf(&b, "not found\n");
		return httpd_send(conn, 404, "text/plain", &b);
	}
	/* MHD keeps the query only parsed (and decoded); rebuild "k=v&k2=v2" from it. */
	struct hbuf q;
	hbuf_init(&q);
	hbuf_append(&q, "", 0);
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, httpd_query_arg, &q);
	int status = r.cb(r.ctx, q.data ? q.data : "", &b);
	hbuf_free(&q);
	if (b.oom) {
		counter_inc(&c_httpd_oom);
		pr_warn("httpd: response for %s reached %u bytes, cut", url, HBUF_MAX);
	}
	return httpd_send(conn, status, r.ctype, &b);
}

struct httpd *httpd_start(const char *spec, httpd_cb metrics_cb, void *ctx)
{
	struct sockaddr_storage ss;
	socklen_t sslen;

	if (httpd_parse_addr(spec, "127.0.0.1", &ss, &sslen))
		return NULL;
	struct httpd *h = calloc(1, sizeof(*h));
	if (!h) {
		pr_err("httpd: calloc: %s", strerror(errno));
		return NULL;
	}
	pthread_mutex_init(&h->lock, NULL);
	if (metrics_cb)
		httpd_route(h, "/metrics", HTTPD_PROM_TYPE, metrics_cb, ctx);
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, httpd_handler, h, MHD_OPTION_SOCK_ADDR,
				(struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT, 64u,
				MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
	if (!h->d) {
		pr_err("httpd: MHD_start_daemon on %s failed (address in use or not local?)", spec);
		pthread_mutex_destroy(&h->lock);
		free(h);
		return NULL;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = di ? di->port : 0;
	return h;
}

int httpd_route(struct httpd *h, const char *path, const char *content_type, httpd_cb cb, void *ctx)
{
	if (!path || path[0] != '/' || strlen(path) >= sizeof(h->routes[0].path) || !cb)
		return -EINVAL;
	pthread_mutex_lock(&h->lock);
	if (h->nroutes == HTTPD_MAX_ROUTES) {
		pthread_mutex_unlock(&h->lock);
		return -ENOSPC;
	}
	struct httpd_route_s *r = &h->routes[h->nroutes];
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->ctype = content_type ? content_type : "text/plain";
	r->cb = cb;
	r->ctx = ctx;
	h->nroutes++;
	pthread_mutex_unlock(&h->lock);
	return 0;
}

int httpd_port(const struct httpd *h)
{
	return h ? h->port : 0;
}

void httpd_stop(struct httpd *h)
{
	if (!h)
		return;
	if (h->d)
		MHD_stop_daemon(h->d);
	pthread_mutex_destroy(&h->lock);
	free(h);
}
