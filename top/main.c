// SPDX-License-Identifier: Apache-2.0
/*
 * main.c - pano-top: a terminal view of a running analyzer's summaries, like pktvisor-cli.
 * Every second it fetches /api/v1/metrics/merged from HOST:PORT (pano-analyzer --metrics) and
 * redraws one of three views in an 80x24 screen: DNS (rates, rcodes, transaction times,
 * cardinalities, top names and clients), TLS (connections, top SNI, JA4s, versions, ALPN,
 * the clients of encrypted DNS) and HTTP (requests, status classes and codes, latency and body
 * quantiles, top hosts, paths, methods). Keys 1/2/3 (or d/t/h, Tab) pick the view; q or
 * Ctrl-C quits.
 */
#include <cjson/cJSON.h>
#include <curses.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define TOP_RESP_MAX (4u << 20)

static volatile sig_atomic_t top_stop;

enum top_view { TOP_DNS, TOP_TLS, TOP_HTTP, TOP_NVIEWS };
static const char *const top_views[TOP_NVIEWS] = {"dns", "tls", "http"};

static void top_on_signal(int sig)
{
	(void)sig;
	top_stop = 1;
}

static void top_usage(FILE *out)
{
	fprintf(out, "Usage: pano-top [OPTIONS] HOST:PORT\n"
		     "Live view of pano-analyzer's summaries (its --metrics address).\n\n"
		     "  -i, --interval SECONDS  refresh interval (default 1)\n"
		     "  -w, --view VIEW         first view: dns, tls or http (default dns)\n"
		     "  -h, --help              this help\n"
		     "  -V, --version           print the version\n"
		     "Keys: 1 or d DNS, 2 or t TLS, 3 or h HTTP, Tab the next view; q quits\n"
		     "(Ctrl-C too).\n");
}

/* Splits "host:port" or "[v6]:port". 0 or -EINVAL. */
static int top_split(const char *spec, char *host, size_t hsz, char *port, size_t psz)
{
	const char *colon;

	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');

		if (!end || end[1] != ':' || (size_t)(end - spec) > hsz)
			return -EINVAL;
		snprintf(host, hsz, "%.*s", (int)(end - spec - 1), spec + 1);
		colon = end + 1;
	} else {
		colon = strrchr(spec, ':');
		if (!colon || (size_t)(colon - spec) >= hsz)
			return -EINVAL;
		snprintf(host, hsz, "%.*s", (int)(colon - spec), spec);
	}
	if (!colon[1])
		return -EINVAL;
	snprintf(port, psz, "%s", colon + 1);
	return 0;
}

/* GET path from host:port with HTTP/1.0; the body (malloc'd, NUL-terminated) or NULL. */
static char *top_fetch(const char *host, const char *port, const char *path)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	struct timeval tv = {.tv_sec = 2};
	char req[600], *buf = NULL, *body;
	size_t len = 0, cap = 0;
	int fd = -1;
	ssize_t n;

	if (getaddrinfo(host, port, &hints, &ai) || !ai)
		return NULL;
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, ai->ai_addr, ai->ai_addrlen))
		goto fail;
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", path, host);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req))
		goto fail;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			char *nb;

			if (cap >= TOP_RESP_MAX)
				goto fail;
			cap = cap ? cap * 2 : 65536;
			nb = realloc(buf, cap);
			if (!nb)
				goto fail;
			buf = nb;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (!buf)
		goto fail;
	buf[len] = 0;
	if (strncmp(buf, "HTTP/1.", 7) || strncmp(buf + 9, "200", 3))
		goto fail;
	body = strstr(buf, "\r\n\r\n");
	if (!body)
		goto fail;
	memmove(buf, body + 4, len - (size_t)(body + 4 - buf) + 1);
	close(fd);
	freeaddrinfo(ai);
	return buf;
fail:
	free(buf);
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return NULL;
}

static double top_num(const cJSON *o, const char *path)
{
	char key[64];
	const char *dot;

	while (o && (dot = strchr(path, '.'))) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		o = cJSON_GetObjectItemCaseSensitive(o, key);
		path = dot + 1;
	}
	o = o ? cJSON_GetObjectItemCaseSensitive(o, path) : NULL;
	return cJSON_IsNumber(o) ? o->valuedouble : 0;
}

/* Formats a count compactly: 1234 -> "1234", 123456 -> "123.5k". */
static const char *top_fmt(double v, char *buf, size_t sz)
{
	if (v < 100000)
		snprintf(buf, sz, "%.0f", v);
	else if (v < 1e8)
		snprintf(buf, sz, "%.1fk", v / 1e3);
	else
		snprintf(buf, sz, "%.1fM", v / 1e6);
	return buf;
}

/* A top-N table at (y, x): title then up to rows items, each cut to width (the count takes 8
 * columns, 6 in a table narrower than 30). */
static void top_table(int y, int x, int width, int rows, const char *title, const cJSON *arr)
{
	const cJSON *it;
	char num[32];
	int r = 0, cw = width < 30 ? 6 : 8;

	attron(A_BOLD);
	mvprintw(y, x, "%-*.*s", width, width, title);
	attroff(A_BOLD);
	cJSON_ArrayForEach(it, arr)
	{
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
		const cJSON *pod = cJSON_GetObjectItemCaseSensitive(it, "pod");
		double est = top_num(it, "estimate");
		char label[600];

		if (r == rows)
			break;
		top_fmt(est, num, sizeof(num));
		/* a client with its pod (encrypted DNS tables): "address pod" */
		snprintf(
		    label, sizeof(label), "%s%s%s", cJSON_IsString(name) ? name->valuestring : "?",
		    cJSON_IsString(pod) ? " " : "", cJSON_IsString(pod) ? pod->valuestring : "");
		mvprintw(y + 1 + r, x, "%-*.*s %*s", width - cw - 1, width - cw - 1, label, cw,
			 num);
		r++;
	}
}

/* The object at key of j (NULL if none). */
static const cJSON *top_obj(const cJSON *j, const char *key)
{
	return j ? cJSON_GetObjectItemCaseSensitive(j, key) : NULL;
}

static void top_draw_dns(const cJSON *j)
{
	const cJSON *dns = top_obj(j, "dns");
	char a[32], b[32], c[32], d[32];

	mvprintw(4, 0, "DNS     %10s   queries %s  replies %s  xact %s  timeout %.0f  orphan %.0f",
		 top_fmt(top_num(j, "dns.messages"), a, sizeof(a)),
		 top_fmt(top_num(j, "dns.queries"), b, sizeof(b)),
		 top_fmt(top_num(j, "dns.replies"), c, sizeof(c)),
		 top_fmt(top_num(j, "dns.xact.total"), d, sizeof(d)),
		 top_num(j, "dns.xact.timed_out"), top_num(j, "dns.xact.orphan"));
	mvprintw(5, 0, "  msg/s   p50 %-8.0f p90 %-8.0f p95 %-8.0f p99 %-8.0f",
		 top_num(j, "dns.rate.p50"), top_num(j, "dns.rate.p90"), top_num(j, "dns.rate.p95"),
		 top_num(j, "dns.rate.p99"));
	mvprintw(6, 0,
		 "  rcode   NOERROR %.0f  NODATA %.0f  NXDOMAIN %.0f  SERVFAIL %.0f  REFUSED %.0f",
		 top_num(j, "dns.rcode.noerror"), top_num(j, "dns.rcode.nodata"),
		 top_num(j, "dns.rcode.nxdomain"), top_num(j, "dns.rcode.srvfail"),
		 top_num(j, "dns.rcode.refused"));
	mvprintw(7, 0,
		 "  time ms p50 %-8.2f p90 %-8.2f p99 %-8.2f  unique: names %.0f clients %.0f",
		 top_num(j, "dns.xact.time_us.p50") / 1e3, top_num(j, "dns.xact.time_us.p90") / 1e3,
		 top_num(j, "dns.xact.time_us.p99") / 1e3, top_num(j, "dns.cardinality.qname"),
		 top_num(j, "dns.cardinality.client"));
	top_table(9, 0, 39, 6, "Top names", top_obj(dns, "top_qname"));
	top_table(9, 41, 39, 6, "Top clients", top_obj(dns, "top_client"));
	top_table(16, 0, 39, 6, "Top qname2", top_obj(dns, "top_qname2"));
	top_table(16, 41, 19, 6, "Top qtypes", top_obj(dns, "top_qtype"));
	top_table(16, 61, 19, 6, "Top rcodes", top_obj(dns, "top_rcode"));
}

static void top_draw_tls(const cJSON *j)
{
	const cJSON *tls = top_obj(j, "tls"), *enc = top_obj(top_obj(j, "dns"), "encrypted");
	char a[32], b[32], c[32], d[32];

	mvprintw(4, 0, "TLS     %10s   established %s  not %s  resumed %s",
		 top_fmt(top_num(j, "tls.connections"), a, sizeof(a)),
		 top_fmt(top_num(j, "tls.established"), b, sizeof(b)),
		 top_fmt(top_num(j, "tls.not_established"), c, sizeof(c)),
		 top_fmt(top_num(j, "tls.resumed"), d, sizeof(d)));
	mvprintw(5, 0, "  unique: SNI %.0f  JA4 %.0f    encrypted DNS: DoT %.0f  DoH %.0f",
		 top_num(j, "tls.cardinality.sni"), top_num(j, "tls.cardinality.ja4"),
		 top_num(j, "dns.encrypted.dot"), top_num(j, "dns.encrypted.doh"));
	top_table(7, 0, 39, 5, "Top SNI", top_obj(tls, "top_sni"));
	top_table(7, 41, 39, 5, "SNI not established", top_obj(tls, "top_sni_not_established"));
	top_table(13, 0, 47, 4, "Top JA4", top_obj(tls, "top_ja4"));
	top_table(13, 48, 14, 4, "Versions", top_obj(tls, "top_version"));
	top_table(13, 63, 17, 4, "ALPN", top_obj(tls, "top_alpn"));
	top_table(18, 0, 39, 4, "DoT clients", top_obj(enc, "top_dot_client"));
	top_table(18, 41, 39, 4, "DoH clients", top_obj(enc, "top_doh_client"));
}

static void top_draw_http(const cJSON *j)
{
	const cJSON *http = top_obj(j, "http");
	char a[32], b[32], c[32], d[32];

	mvprintw(4, 0, "HTTP    %10s   responses %s  no response %s  unique hosts %s",
		 top_fmt(top_num(j, "http.requests"), a, sizeof(a)),
		 top_fmt(top_num(j, "http.responses"), b, sizeof(b)),
		 top_fmt(top_num(j, "http.no_response"), c, sizeof(c)),
		 top_fmt(top_num(j, "http.cardinality.host"), d, sizeof(d)));
	mvprintw(5, 0, "  status  1xx %.0f  2xx %.0f  3xx %.0f  4xx %.0f  5xx %.0f  other %.0f",
		 top_num(j, "http.status.1xx"), top_num(j, "http.status.2xx"),
		 top_num(j, "http.status.3xx"), top_num(j, "http.status.4xx"),
		 top_num(j, "http.status.5xx"), top_num(j, "http.status.other"));
	mvprintw(6, 0, "  time ms p50 %-8.2f p90 %-8.2f p99 %-8.2f",
		 top_num(j, "http.time_us.p50") / 1e3, top_num(j, "http.time_us.p90") / 1e3,
		 top_num(j, "http.time_us.p99") / 1e3);
	mvprintw(7, 0, "  body B  p50 %-8.0f p90 %-8.0f p99 %-8.0f (responses)",
		 top_num(j, "http.size.response_body.p50"),
		 top_num(j, "http.size.response_body.p90"),
		 top_num(j, "http.size.response_body.p99"));
	top_table(9, 0, 39, 6, "Top hosts", top_obj(http, "top_host"));
	top_table(9, 41, 39, 6, "Top paths", top_obj(http, "top_path"));
	top_table(16, 0, 19, 6, "Status codes", top_obj(http, "top_status"));
	top_table(16, 20, 19, 6, "Methods", top_obj(http, "top_method"));
	top_table(16, 41, 39, 6, "Hosts with 5xx", top_obj(http, "top_host_5xx"));
}

static void top_draw(const char *spec, const cJSON *j, const char *err, enum top_view view)
{
	static const char *const titles[TOP_NVIEWS] = {"1:DNS", "2:TLS", "3:HTTP"};
	char a[32], b[32], c[32], d[32], e[32];

	erase();
	attron(A_REVERSE);
	mvprintw(0, 0, "%-80.80s", "");
	mvprintw(0, 0, " pano-top  %s  %s", spec, err ? err : "");
	if (!err)
		mvprintw(0, 50, "%4.0f s, %.0f window(s)  q:quit", top_num(j, "period.length"),
			 top_num(j, "period.windows"));
	attroff(A_REVERSE);
	for (int v = 0, x = 1; v < TOP_NVIEWS; x += (int)strlen(titles[v]) + 2, v++) {
		if (v == (int)view)
			attron(A_REVERSE);
		mvprintw(23, x, "%s", titles[v]);
		if (v == (int)view)
			attroff(A_REVERSE);
	}
	mvprintw(23, 24, "Tab: next view");
	if (!j) {
		refresh();
		return;
	}
	mvprintw(2, 0, "Packets %10s   ipv4 %s  ipv6 %s  udp %s  tcp %s",
		 top_fmt(top_num(j, "packets.total"), a, sizeof(a)),
		 top_fmt(top_num(j, "packets.ipv4"), b, sizeof(b)),
		 top_fmt(top_num(j, "packets.ipv6"), c, sizeof(c)),
		 top_fmt(top_num(j, "packets.udp"), d, sizeof(d)),
		 top_fmt(top_num(j, "packets.tcp"), e, sizeof(e)));
	mvprintw(3, 0, "  pkt/s   p50 %-8.0f p90 %-8.0f p95 %-8.0f p99 %-8.0f",
		 top_num(j, "packets.rate.p50"), top_num(j, "packets.rate.p90"),
		 top_num(j, "packets.rate.p95"), top_num(j, "packets.rate.p99"));
	if (view == TOP_TLS)
		top_draw_tls(j);
	else if (view == TOP_HTTP)
		top_draw_http(j);
	else
		top_draw_dns(j);
	refresh();
}

/* The view a key picks (Tab: the one after cur), or -1 for a key that picks none. */
static int top_key_view(int ch, enum top_view cur)
{
	switch (ch) {
	case '1':
	case 'd':
		return TOP_DNS;
	case '2':
	case 't':
		return TOP_TLS;
	case '3':
	case 'h':
		return TOP_HTTP;
	case '\t':
		return (cur + 1) % TOP_NVIEWS;
	}
	return -1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"interval", required_argument, NULL, 'i'},
	    {"view", required_argument, NULL, 'w'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	char host[256], port[32];
	enum top_view view = TOP_DNS;
	double interval = 1;
	char *end;
	int opt;

	while ((opt = getopt_long(argc, argv, "i:w:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			interval = strtod(optarg, &end);
			if (*end || end == optarg || !(interval >= 0.1 && interval <= 3600)) {
				fprintf(stderr, "pano-top: bad --interval '%s'\n", optarg);
				return 2;
			}
			break;
		case 'w':
			for (view = 0; view < TOP_NVIEWS && strcmp(optarg, top_views[view]); view++)
				;
			if (view == TOP_NVIEWS) {
				fprintf(stderr, "pano-top: bad --view '%s' (dns, tls or http)\n",
					optarg);
				return 2;
			}
			break;
		case 'h':
			top_usage(stdout);
			return 0;
		case 'V':
			printf("pano-top %s\n", PANO_VERSION);
			return 0;
		default:
			top_usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1 || top_split(argv[optind], host, sizeof(host), port, sizeof(port))) {
		fprintf(stderr,
			"pano-top: give one HOST:PORT (the analyzer's --metrics address)\n");
		top_usage(stderr);
		return 2;
	}

	struct sigaction sa = {.sa_handler = top_on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (!initscr()) {
		fprintf(stderr, "pano-top: initscr: cannot set up the terminal\n");
		return 1;
	}
	cbreak();
	noecho();
	curs_set(0);
	timeout((int)(interval * 1000));
	while (!top_stop) {
		char *body = top_fetch(host, port, "/api/v1/metrics/merged");
		cJSON *j = body ? cJSON_Parse(body) : NULL;
		int ch;

		top_draw(argv[optind], j, j ? NULL : "(no data: analyzer unreachable or idle)",
			 view);
		cJSON_Delete(j);
		free(body);
		ch = getch();
		if (ch == 'q' || ch == 'Q')
			break;
		if (top_key_view(ch, view) >= 0)
			view = (enum top_view)top_key_view(ch, view);
	}
	endwin();
	return 0;
}
