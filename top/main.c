// SPDX-License-Identifier: Apache-2.0
/*
 * main.c - pano-top: a terminal view of a running analyzer's summaries, like pktvisor-cli.
 * Every second it fetches /api/v1/metrics/merged from HOST:PORT (pano-analyzer --metrics) and
 * redraws rates, rcodes, transaction times, cardinalities, top names and top clients in an
 * 80x24 screen. Quits on q or Ctrl-C.
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
		     "  -h, --help              this help\n"
		     "  -V, --version           print the version\n"
		     "Keys: q quits (Ctrl-C too).\n");
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

/* A top-N table at (y, x): title then up to rows items, each cut to width. */
static void top_table(int y, int x, int width, int rows, const char *title, const cJSON *arr)
{
	const cJSON *it;
	char num[32];
	int r = 0;

	attron(A_BOLD);
	mvprintw(y, x, "%-*.*s", width, width, title);
	attroff(A_BOLD);
	cJSON_ArrayForEach(it, arr)
	{
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
		double est = top_num(it, "estimate");

		if (r == rows)
			break;
		top_fmt(est, num, sizeof(num));
		mvprintw(y + 1 + r, x, "%-*.*s %8s", width - 9, width - 9,
			 cJSON_IsString(name) ? name->valuestring : "?", num);
		r++;
	}
}

static void top_draw(const char *spec, const cJSON *j, const char *err)
{
	const cJSON *dns = cJSON_GetObjectItemCaseSensitive(j, "dns");
	char a[32], b[32], c[32], d[32], e[32];

	erase();
	attron(A_REVERSE);
	mvprintw(0, 0, "%-80.80s", "");
	mvprintw(0, 0, " pano-top  %s  %s", spec, err ? err : "");
	if (!err)
		mvprintw(0, 50, "%4.0f s, %.0f window(s)  q:quit", top_num(j, "period.length"),
			 top_num(j, "period.windows"));
	attroff(A_REVERSE);
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
	top_table(9, 0, 39, 6, "Top names", cJSON_GetObjectItemCaseSensitive(dns, "top_qname"));
	top_table(9, 41, 39, 6, "Top clients", cJSON_GetObjectItemCaseSensitive(dns, "top_client"));
	top_table(16, 0, 39, 6, "Top qname2", cJSON_GetObjectItemCaseSensitive(dns, "top_qname2"));
	top_table(16, 41, 19, 6, "Top qtypes", cJSON_GetObjectItemCaseSensitive(dns, "top_qtype"));
	top_table(16, 61, 19, 6, "Top rcodes", cJSON_GetObjectItemCaseSensitive(dns, "top_rcode"));
	refresh();
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"interval", required_argument, NULL, 'i'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	char host[256], port[32];
	double interval = 1;
	char *end;
	int opt;

	while ((opt = getopt_long(argc, argv, "i:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			interval = strtod(optarg, &end);
			if (*end || end == optarg || !(interval >= 0.1 && interval <= 3600)) {
				fprintf(stderr, "pano-top: bad --interval '%s'\n", optarg);
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

		top_draw(argv[optind], j, j ? NULL : "(no data: analyzer unreachable or idle)");
		cJSON_Delete(j);
		free(body);
		ch = getch();
		if (ch == 'q' || ch == 'Q')
			break;
	}
	endwin();
	return 0;
}
