// SPDX-License-Identifier: Apache-2.0
/*
 * httpd.c - the HTTP server behind --metrics (see httpd.h): libmicrohttpd driven by a thread of
 * ours (MHD_run_wait, epoll), a small table of GET routes, /healthz built in, bounded response
 * buffers.
 *
 * Slow or idle clients cannot starve /healthz: libmicrohttpd's own timeout restarts on every
 * byte, so a client sending a header line every few seconds would keep its slot for ever, and
 * a few hundred of them would fill the server. So the server tracks its connections itself
 * (MHD_OPTION_NOTIFY_CONNECTION) and, between runs of the event loop:
 *   - closes a connection that has not completed a request within HTTPD_DEADLINE_MS of its
 *     accept or of its previous request, however many bytes trickle in (a deadline, not an
 *     inactivity timeout);
 *   - admits each new connection through lib/admit.h: beyond HTTPD_PER_SOURCE connections from
 *     its address, or HTTPD_MAX_CONNS in all, it closes the most idle one (the oldest
 *     accept or request) of that address, or of all, so that a probe always gets a slot;
 *   - libmicrohttpd's per-IP and total connection limits stay above these as a hard backstop.
 * A close is a shutdown(2) of the connection's socket, which libmicrohttpd then sees as the
 * peer leaving; everything runs on the one thread, so no connection is touched after its
 * close notification. Every close is counted; libmicrohttpd's own messages go to PANO's log
 * (rate-limited).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "admit.h"
#include "counter.h"
#include "httpd.h"
#include "log.h"

#define HTTPD_MAX_ROUTES  16
#define HTTPD_MAX_CONNS	  256	/* connections kept: a new one beyond closes the most idle */
#define HTTPD_PER_SOURCE  32	/* the same, per client address */
#define HTTPD_HARD_SLACK  64	/* libmicrohttpd's own limits are this much higher */
#define HTTPD_DEADLINE_MS 10000 /* a request must be complete this long after the last */
#define HTTPD_IDLE_S	  10	/* libmicrohttpd's inactivity timeout */
#define HTTPD_CONN_MEM	  16384 /* libmicrohttpd's memory pool per connection (headers) */
#define HTTPD_RUN_MS	  200	/* the event loop wakes this often at least */
#define HTTPD_LOG_MS	  10000

PANO_COUNTER(c_httpd_cut, "httpd_response_too_large", "drop",
	     "HTTP responses cut because they reached the buffer cap");
PANO_COUNTER(c_httpd_notfound, "httpd_not_found", "event", "HTTP requests for unknown paths");
PANO_COUNTER(c_httpd_evicted, "httpd_evicted", "event",
	     "HTTP connections closed to make room for a new one (the most idle)");
PANO_COUNTER(c_httpd_deadline, "httpd_closed_deadline", "event",
	     "HTTP connections closed: no complete request within the deadline");
PANO_COUNTER(c_httpd_refused, "httpd_refused_limit", "event",
	     "HTTP connections libmicrohttpd refused at its hard connection limits");

struct httpd_route_s {
	char path[64];
	const char *ctype;
	httpd_cb cb;
	void *ctx;
};

/* A connection the server tracks (its socket context); slot index stable while it lives. */
struct httpd_conn {
	struct admit_conn adm; /* since_ns: accept, then each request */
	int fd;		       /* -1: the slot is free */
	bool closing;	       /* shut down by us; libmicrohttpd has not noticed yet */
};

struct httpd {
	struct MHD_Daemon *d;
	pthread_mutex_t lock; /* guards routes: registration may follow the start */
	struct httpd_route_s routes[HTTPD_MAX_ROUTES];
	int nroutes;
	int port;
	pthread_t thread; /* runs the daemon; all callbacks below run on it */
	int stop;
	struct admit_limits lim;
	struct httpd_conn conns[HTTPD_MAX_CONNS + HTTPD_HARD_SLACK];
	struct httpd_conn *live[HTTPD_MAX_CONNS + HTTPD_HARD_SLACK]; /* scratch for admission */
	struct log_limit log_mhd, log_close;
};

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

/* Sends b's bytes; MHD takes (and later frees) its memory. */
static enum MHD_Result httpd_send(struct MHD_Connection *conn, int status, const char *ctype,
				  struct wbuf *b)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(b->len, b->p ? b->p : (char *)"",
					    b->p ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		wbuf_free(b);
		return MHD_NO;
	}
	b->p = NULL;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Appends one query argument to the wbuf in cls. */
static enum MHD_Result httpd_query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				       const char *value)
{
	struct wbuf *q = cls;

	wbuf_printf(q, "%s%s%s%s", q->len ? "&" : "", key, value ? "=" : "", value ? value : "");
	return MHD_YES;
}

/* MHD's access handler: one call per request (GET/HEAD only, no body). */
static enum MHD_Result httpd_handler(void *cls, struct MHD_Connection *conn, const char *url,
				     const char *method, const char *version,
				     const char *upload_data, size_t *upload_data_size,
				     void **con_cls)
{
	struct httpd *h = cls;
	struct wbuf b = WBUF_INIT(HTTPD_BODY_MAX);

	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct httpd_conn *hc = ci ? ci->socket_context : NULL;
	if (hc) /* a complete request: the deadline starts again */
		hc->adm.since_ns = admit_now_ns();
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		wbuf_puts(&b, "method not allowed\n");
		return httpd_send(conn, 405, "text/plain", &b);
	}
	if (strcmp(url, "/healthz") == 0) {
		wbuf_puts(&b, "ok\n");
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
		wbuf_puts(&b, "not found\n");
		return httpd_send(conn, 404, "text/plain", &b);
	}
	/* MHD keeps the query only parsed (and decoded); rebuild "k=v&k2=v2" from it. */
	struct wbuf q = WBUF_INIT(0);
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, httpd_query_arg, &q);
	int status = r.cb(r.ctx, q.p ? q.p : "", &b);
	wbuf_free(&q);
	if (b.cut) {
		counter_inc(&c_httpd_cut);
		pr_warn("httpd: response for %s reached %u bytes, cut", url, HTTPD_BODY_MAX);
	}
	return httpd_send(conn, status, r.ctype, &b);
}

static const struct admit_conn *httpd_admit_get(void *table, int i)
{
	return &((struct httpd_conn **)table)[i]->adm;
}

/* Closes a connection from outside libmicrohttpd: it sees its peer leave at its next turn. */
static void httpd_shut(struct httpd *h, struct httpd_conn *hc, const char *why)
{
	char a[64];
	shutdown(hc->fd, SHUT_RDWR);
	hc->closing = true;
	pr_warn_limited(&h->log_close, HTTPD_LOG_MS, "httpd: closed a connection from %s: %s",
			admit_addr_str(&hc->adm.addr, a, sizeof(a)), why);
}

/* Tracks connections as libmicrohttpd starts and ends them; a new one goes through admission
 * (the most idle connection of its address, or of all, gives way when they are full). */
static void httpd_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
			 enum MHD_ConnectionNotificationCode toe)
{
	struct httpd *h = cls;
	struct httpd_conn *hc = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (hc)
			hc->fd = -1;
		*socket_context = NULL;
		return;
	}
	const union MHD_ConnectionInfo *fdi =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	const union MHD_ConnectionInfo *ai =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	int n = 0, free_slot = -1;
	size_t cap = sizeof(h->conns) / sizeof(h->conns[0]);
	for (size_t i = 0; i < cap; i++) {
		if (h->conns[i].fd < 0) {
			if (free_slot < 0)
				free_slot = (int)i;
		} else if (!h->conns[i].closing) {
			h->live[n++] = &h->conns[i];
		}
	}
	if (!fdi || !ai || free_slot < 0) /* not reached: libmicrohttpd's limit is cap */
		return;
	hc = &h->conns[free_slot];
	hc->fd = fdi->connect_fd;
	hc->closing = false;
	admit_addr_from(&hc->adm.addr, ai->client_addr);
	hc->adm.since_ns = admit_now_ns();
	hc->adm.trusted = false;
	*socket_context = hc;
	int victim;
	if (admit_decide(&h->lim, &hc->adm.addr, h->live, httpd_admit_get, n, &victim) ==
	    ADMIT_EVICT) {
		counter_inc(&c_httpd_evicted);
		httpd_shut(h, h->live[victim], "the most idle one, for a new connection");
	}
}

/* Closes the connections whose request is not complete within the deadline. */
static void httpd_deadlines(struct httpd *h)
{
	uint64_t now = admit_now_ns();
	for (size_t i = 0; i < sizeof(h->conns) / sizeof(h->conns[0]); i++) {
		struct httpd_conn *hc = &h->conns[i];
		if (hc->fd < 0 || hc->closing ||
		    now - hc->adm.since_ns < HTTPD_DEADLINE_MS * 1000000ull)
			continue;
		counter_inc(&c_httpd_deadline);
		httpd_shut(h, hc, "no complete request within the deadline");
	}
}

/* libmicrohttpd's messages into PANO's log, rate-limited (peers cause most of them): refusals at
 * its limits as warnings, the rest (mostly clients that went away) as information. */
static void httpd_log(void *cls, const char *fmt, va_list ap)
{
	struct httpd *h = cls;
	char line[512];

	vsnprintf(line, sizeof(line), fmt, ap);
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	bool limit = strstr(line, "connection limit") != NULL;
	if (limit)
		counter_inc(&c_httpd_refused);
	log_limited(&h->log_mhd, HTTPD_LOG_MS, limit ? PANO_LOG_WARN : PANO_LOG_INFO, "httpd: %s",
		    line);
}

static void *httpd_thread(void *arg)
{
	struct httpd *h = arg;
	while (!__atomic_load_n(&h->stop, __ATOMIC_ACQUIRE)) {
		MHD_run_wait(h->d, HTTPD_RUN_MS);
		httpd_deadlines(h);
	}
	return NULL;
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
	for (size_t i = 0; i < sizeof(h->conns) / sizeof(h->conns[0]); i++)
		h->conns[i].fd = -1;
	h->lim.max_untrusted = HTTPD_MAX_CONNS;
	h->lim.max_per_source = HTTPD_PER_SOURCE;
	if (metrics_cb)
		httpd_route(h, "/metrics", HTTPD_PROM_TYPE, metrics_cb, ctx);
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->d = MHD_start_daemon(
	    flags, 0, NULL, NULL, httpd_handler, h, MHD_OPTION_EXTERNAL_LOGGER, httpd_log, h,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)(HTTPD_MAX_CONNS + HTTPD_HARD_SLACK), MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (unsigned)(HTTPD_PER_SOURCE + HTTPD_HARD_SLACK), MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)HTTPD_IDLE_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTPD_CONN_MEM,
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)SOMAXCONN, MHD_OPTION_NOTIFY_CONNECTION,
	    httpd_notify, h, MHD_OPTION_END);
	if (!h->d) {
		pr_err("httpd: MHD_start_daemon on %s failed (address in use or not local?)", spec);
		pthread_mutex_destroy(&h->lock);
		free(h);
		return NULL;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = di ? di->port : 0;
	int err = pthread_create(&h->thread, NULL, httpd_thread, h);
	if (err) {
		pr_err("httpd: pthread_create: %s", strerror(err));
		MHD_stop_daemon(h->d);
		pthread_mutex_destroy(&h->lock);
		free(h);
		return NULL;
	}
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
	__atomic_store_n(&h->stop, 1, __ATOMIC_RELEASE);
	pthread_join(h->thread, NULL);
	if (h->d)
		MHD_stop_daemon(h->d);
	pthread_mutex_destroy(&h->lock);
	free(h);
}
