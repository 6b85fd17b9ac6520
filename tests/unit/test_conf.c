// SPDX-License-Identifier: Apache-2.0
/*
 * test_conf.c - the --config file (lib/conf.c): its syntax and every refusal with the line it
 * names, the key table check, the port list parser both programs share (lib/opt.c), the agent's
 * run-time keys (agent/live.c), and the watcher: a Kubernetes ConfigMap-style symlink swap, an
 * edit in place with SIGHUP, a refused file that leaves the settings as they were.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "conf.h"
#include "counter.h"
#include "live.h"
#include "log.h"
#include "opt.h"

static char err[512];

/* Parses text; returns conf_parse's result, the message in err. */
static int parse(struct conf *c, const char *text)
{
	err[0] = '\0';
	return conf_parse(c, "f.conf", text, strlen(text), err, sizeof(err));
}

static int parse_fails(const char *text, const char *want)
{
	struct conf c;
	int rc = parse(&c, text);
	conf_free(&c);
	if (rc != -EINVAL || strcmp(err, want) != 0) {
		printf("  '%s': rc %d, err '%s', want '%s'\n", text, rc, err, want);
		return 0;
	}
	return 1;
}

static void test_syntax(void)
{
	struct conf c;
	CHECK_EQ_INT(parse(&c, "# a comment\n\n  ports = 53,5353  # trailing\r\n"
			       "\tdedup=off\nx-y = a=b\n   # only a comment\n"),
		     0);
	CHECK_EQ_INT(c.n, 3);
	CHECK_EQ_STR(c.items[0].key, "ports");
	CHECK_EQ_STR(c.items[0].value, "53,5353");
	CHECK_EQ_INT(c.items[0].line, 3);
	CHECK_EQ_STR(c.items[1].key, "dedup");
	CHECK_EQ_STR(c.items[1].value, "off");
	CHECK_EQ_INT(c.items[1].line, 4);
	CHECK_EQ_STR(c.items[2].value, "a=b");
	conf_free(&c);
	CHECK_EQ_INT(parse(&c, ""), 0); /* an empty file: every key at its default */
	CHECK_EQ_INT(c.n, 0);
	conf_free(&c);
	CHECK_EQ_INT(parse(&c, "a = 1"), 0); /* no newline at the end */
	CHECK_EQ_INT(c.n, 1);
	conf_free(&c);
}

static void test_syntax_errors(void)
{
	CHECK(parse_fails("a = 1\nports 53\n", "f.conf:2: expected 'key = value', got 'ports 53'"));
	CHECK(parse_fails(" = 53\n", "f.conf:1: no key before '='"));
	CHECK(parse_fails("Ports = 53\n",
			  "f.conf:1: bad key 'Ports' (lower case letters, digits and '-')"));
	CHECK(parse_fails("po rts = 53\n",
			  "f.conf:1: bad key 'po rts' (lower case letters, digits and '-')"));
	CHECK(parse_fails("\n\nports =   # none\n", "f.conf:3: no value for ports"));
	CHECK(parse_fails("ports = 53\n#\nports = 54\n",
			  "f.conf:3: ports set again (first on line 1)"));

	char many[CONF_MAX_ITEMS * 16 + 16];
	size_t n = 0;
	for (int i = 0; i <= CONF_MAX_ITEMS; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "k%d = 1\n", i);
	char want[64];
	snprintf(want, sizeof(want), "f.conf:%d: more than %d settings", CONF_MAX_ITEMS + 1,
		 CONF_MAX_ITEMS);
	CHECK(parse_fails(many, want));

	struct conf c;
	static const char nul[] = "a = 1\nb = \0x\n";
	CHECK_EQ_INT(conf_parse(&c, "f.conf", nul, sizeof(nul) - 1, err, sizeof(err)), -EINVAL);
	CHECK_EQ_STR(err, "f.conf:2: a NUL byte (not a text file)");
	conf_free(&c);
	char *big = malloc(CONF_MAX_BYTES + 2);
	memset(big, '#', CONF_MAX_BYTES + 1);
	CHECK_EQ_INT(conf_parse(&c, "f.conf", big, CONF_MAX_BYTES + 1, err, sizeof(err)), -EINVAL);
	CHECK_EQ_STR(err, "f.conf: larger than 65536 bytes");
	conf_free(&c);
	CHECK_EQ_INT(conf_parse(&c, "f.conf", big, CONF_MAX_BYTES, err, sizeof(err)), 0);
	conf_free(&c);
	free(big);
}

static int set_n(void *ctx, const char *v, char *why, size_t whylen)
{
	if (strcmp(v, "bad") == 0) {
		snprintf(why, whylen, "expected good");
		return -1;
	}
	*(int *)ctx += 1;
	return 0;
}

static void test_apply(void)
{
	static const struct conf_key keys[] = {{"one", set_n}, {"two", set_n}};
	static const struct option lopts[] = {{"iface", required_argument, NULL, 'i'}, {0}};
	struct conf c;
	int n = 0;

	CHECK_EQ_INT(parse(&c, "one = x\ntwo = y\n"), 0);
	CHECK_EQ_INT(conf_apply(&c, "f.conf", keys, 2, lopts, &n, err, sizeof(err)), 0);
	CHECK_EQ_INT(n, 2);
	conf_free(&c);
	CHECK_EQ_INT(parse(&c, "one = x\n\ntwo = bad\n"), 0);
	CHECK_EQ_INT(conf_apply(&c, "f.conf", keys, 2, lopts, &n, err, sizeof(err)), -EINVAL);
	CHECK_EQ_STR(err, "f.conf:3: two = bad: expected good");
	conf_free(&c);
	CHECK_EQ_INT(parse(&c, "three = 3\n"), 0);
	CHECK_EQ_INT(conf_apply(&c, "f.conf", keys, 2, lopts, &n, err, sizeof(err)), -EINVAL);
	CHECK_EQ_STR(err, "f.conf:1: unknown key 'three'");
	conf_free(&c);
	CHECK_EQ_INT(parse(&c, "one = 1\niface = eth0\n"), 0);
	CHECK_EQ_INT(conf_apply(&c, "f.conf", keys, 2, lopts, &n, err, sizeof(err)), -EINVAL);
	CHECK_EQ_STR(err, "f.conf:2: iface cannot be set in the file (it cannot change at run "
			  "time): give --iface on the command line");
	conf_free(&c);
}

static void test_ports(void)
{
	uint16_t p[4];
	CHECK_EQ_INT(opt_parse_ports("53", p, 4), 1);
	CHECK_EQ_INT(p[0], 53);
	CHECK_EQ_INT(opt_parse_ports("53,5353,65535,1", p, 4), 4);
	CHECK_EQ_INT(p[1], 5353);
	CHECK_EQ_INT(p[2], 65535);
	CHECK_EQ_INT(p[3], 1);
	CHECK_EQ_INT(opt_parse_ports("53,53,54,53", p, 2), 2); /* repeats kept once */
	static const char *const bad[] = {
	    "",	     ",",      "53,", ",53",	   "0",
	    "65536", "-1",     "+5",  " 5",	   "5 ",
	    "abc",   "53,,54", "5x",  "1,2,3,4,5", "99999999999999999999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (opt_parse_ports(bad[i], p, 4) != -1) {
			printf("  '%s' taken as a port list\n", bad[i]);
			check_failures++;
		}
}

/* The agent's keys, without a capture: a file over the command line's settings. */
static int agent_apply(struct agent_conf *ac, const char *text)
{
	struct conf c;
	int rc = parse(&c, text);
	if (!rc)
		rc = agent_live_apply(ac, &c, "agent.conf", err, sizeof(err));
	conf_free(&c);
	return rc;
}

static void test_agent_keys(void)
{
	static const struct option lopts[] = {
	    {"iface", required_argument, NULL, 'i'}, {"ports", required_argument, NULL, 'p'}, {0}};
	struct agent_conf ac;

	agent_live_init(&ac);
	ac.lopts = lopts;
	CHECK_EQ_INT(ac.cur.nports, 1);
	CHECK_EQ_INT(ac.cur.ports[0], 53);
	CHECK_EQ_INT(ac.cur.dedup_us, PANO_DEDUP_US_DEFAULT);
	CHECK_EQ_INT(agent_live_option(&ac, "nosuch", "1"), 1);
	CHECK_EQ_INT(agent_live_option(&ac, "ports", "0"), -1);
	CHECK_EQ_INT(agent_live_option(&ac, "transports", "sctp"), -1);
	CHECK_EQ_INT(agent_live_option(&ac, "transports", "udp,"), -1);
	CHECK_EQ_INT(agent_live_option(&ac, "transports", ",udp"), -1);
	CHECK_EQ_INT(agent_live_option(&ac, "snaplen", "0"), -1);
	CHECK_EQ_INT(agent_live_option(&ac, "snaplen", "9217"), -1);
	CHECK_EQ_INT(agent_live_option(&ac, "dedup", "yes"), -1);
	CHECK_EQ_INT(ac.cli_set, 0); /* nothing bad was taken */
	CHECK_EQ_INT(agent_live_option(&ac, "transports", "tcp"), 0);
	CHECK_EQ_INT(ac.cur.transports, PANO_TR_TCP);

	CHECK_EQ_INT(agent_apply(&ac, "ports = 5353,53\nsnaplen = 1500\ndedup = off\n"), 0);
	CHECK_EQ_INT(ac.cur.nports, 2);
	CHECK_EQ_INT(ac.cur.ports[0], 5353);
	CHECK_EQ_INT(ac.cur.snaplen, 1500);
	CHECK_EQ_INT(ac.cur.dedup_us, 0);
	CHECK_EQ_INT(ac.cur.transports, PANO_TR_TCP); /* the command line's */

	/* every refusal leaves ac.cur as it was */
	ac.snaplen_max = 1500;
	struct agent_live before = ac.cur;
	CHECK_EQ_INT(agent_apply(&ac, "ports = 54\ntransports = udp\n"), -EINVAL);
	CHECK_EQ_STR(err, "agent.conf:2: transports = udp: --transports is given on the command "
			  "line too: set it in one place");
	CHECK_EQ_INT(agent_apply(&ac, "snaplen = 1501\n"), -EINVAL);
	CHECK_EQ_STR(err, "agent.conf:1: snaplen = 1501: over 1500, the snap length the outputs "
			  "announced at start (restart to raise it)");
	CHECK_EQ_INT(agent_apply(&ac, "ports = 53,x\n"), -EINVAL);
	CHECK_EQ_STR(err, "agent.conf:1: ports = 53,x: expected ports 1-65535, comma separated, "
			  "at most 64");
	CHECK_EQ_INT(agent_apply(&ac, "dedup = maybe\n"), -EINVAL);
	CHECK_EQ_STR(err, "agent.conf:1: dedup = maybe: expected on or off");
	CHECK_EQ_INT(agent_apply(&ac, "snaplen = 12q\n"), -EINVAL);
	CHECK_EQ_STR(err, "agent.conf:1: snaplen = 12q: expected 1 to 9216 bytes");
	CHECK_EQ_INT(agent_apply(&ac, "iface = eth0\n"), -EINVAL);
	CHECK_EQ_STR(err, "agent.conf:1: iface cannot be set in the file (it cannot change at run "
			  "time): give --iface on the command line");
	CHECK_EQ_INT(agent_apply(&ac, "bogus = 1\n"), -EINVAL);
	CHECK_EQ_STR(err, "agent.conf:1: unknown key 'bogus'");
	CHECK(memcmp(&before, &ac.cur, sizeof(before)) == 0);

	/* a key left out of the file goes back to the command line's (or the default) */
	CHECK_EQ_INT(agent_apply(&ac, "# nothing\n"), 0);
	CHECK_EQ_INT(ac.cur.nports, 1);
	CHECK_EQ_INT(ac.cur.ports[0], 53);
	CHECK_EQ_INT(ac.cur.snaplen, PANO_SNAPLEN_DEFAULT);
	CHECK_EQ_INT(ac.cur.dedup_us, PANO_DEDUP_US_DEFAULT);
}

/* --tcp-head / tcp-head: runs of ports ended by their size, and the filter's union of ports. */
static void test_agent_tcp_head(void)
{
	static const char *const bad[] = {"",		"443",	   "443:",	     ":16K",
					  "443:0",	"443:2G",  "0:1K",	     "65536:1K",
					  "443:1K,",	",443:1K", "443:1K,80",	     "a:1K",
					  "443:1x",	"443;1K",  "443:16K,443:8K", "443:16K,443",
					  "443,,80:1K", "+443:1K", "443:-1"};
	struct agent_conf ac;
	uint16_t fp[PANO_MAX_PORTS];
	char many[PANO_MAX_PORTS * 7 + 16];
	size_t n = 0;

	agent_live_init(&ac);
	CHECK_EQ_INT(ac.cur.nheads, 0);
	CHECK_EQ_INT(agent_live_option(&ac, "tcp-head", "443,853:16K"), 0);
	CHECK_EQ_INT(ac.cur.nheads, 2);
	CHECK_EQ_INT(ac.cur.heads[0].port, 443);
	CHECK_EQ_INT(ac.cur.heads[0].bytes, 16384);
	CHECK_EQ_INT(ac.cur.heads[1].port, 853);
	CHECK_EQ_INT(ac.cur.heads[1].bytes, 16384);
	CHECK_EQ_INT(agent_live_option(&ac, "tcp-head", "443:1,80,8080:2K,9000:1G"), 0);
	CHECK_EQ_INT(ac.cur.nheads, 4);
	CHECK_EQ_INT(ac.cur.heads[0].bytes, 1);
	CHECK_EQ_INT(ac.cur.heads[1].port, 80);
	CHECK_EQ_INT(ac.cur.heads[1].bytes, 2048);
	CHECK_EQ_INT(ac.cur.heads[2].bytes, 2048);
	CHECK_EQ_INT(ac.cur.heads[3].bytes, PANO_TCP_HEAD_MAX);
	CHECK_EQ_INT(agent_live_option(&ac, "tcp-head", "443,443:16K,443:16K"), 0);
	CHECK_EQ_INT(ac.cur.nheads, 1); /* a port repeated with its own size: once */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (agent_live_option(&ac, "tcp-head", bad[i]) != -1) {
			printf("  '%s' taken as a --tcp-head list\n", bad[i]);
			check_failures++;
		}
	CHECK_EQ_INT(ac.cur.nheads, 1); /* nothing bad was taken */
	/* the filter: --ports and the head ports, each once */
	CHECK_EQ_INT(agent_live_option(&ac, "ports", "53,443"), 0);
	CHECK_EQ_INT(agent_live_filter_ports(&ac.cur, fp), 2);
	CHECK_EQ_INT(agent_live_option(&ac, "tcp-head", "853,443:4K"), 0);
	CHECK_EQ_INT(agent_live_filter_ports(&ac.cur, fp), 3);
	CHECK_EQ_INT(fp[0], 53);
	CHECK_EQ_INT(fp[1], 443);
	CHECK_EQ_INT(fp[2], 853);
	/* 64 ports are the most, both lists together */
	for (int i = 0; i < PANO_MAX_PORTS; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "%s%d", i ? "," : "", 1000 + i);
	snprintf(many + n, sizeof(many) - n, ":1K");
	CHECK_EQ_INT(agent_live_option(&ac, "tcp-head", many), 0);
	CHECK_EQ_INT(agent_live_filter_ports(&ac.cur, fp), -1);

	/* the file's key, and none */
	agent_live_init(&ac);
	CHECK_EQ_INT(agent_apply(&ac, "ports = 53\ntcp-head = 443:16K\n"), 0);
	CHECK_EQ_INT(ac.cur.nheads, 1);
	CHECK_EQ_INT(agent_apply(&ac, "tcp-head = none\n"), 0);
	CHECK_EQ_INT(ac.cur.nheads, 0);
	CHECK_EQ_INT(agent_apply(&ac, "tcp-head = 443\n"), -EINVAL);
	CHECK_EQ_STR(err, "agent.conf:1: tcp-head = 443: expected PORTS:SIZE[,PORTS:SIZE...] "
			  "(443,853:16K), ports 1-65535, sizes 1 to 1G, at most 64 ports, or none");
	CHECK_EQ_INT(agent_apply(&ac, "ports = 1,2,3\n"), 0);
	n = (size_t)snprintf(many, sizeof(many), "tcp-head = ");
	for (int i = 0; i < PANO_MAX_PORTS - 2; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "%s%d", i ? "," : "", 1000 + i);
	snprintf(many + n, sizeof(many) - n, ":1K\nports = 1,2,3\n");
	CHECK_EQ_INT(agent_apply(&ac, many), -EINVAL);
	CHECK_EQ_STR(err, "agent.conf: ports and tcp-head name more than 64 ports together");
	CHECK_EQ_INT(ac.cur.nports, 3); /* refused: the settings in force stay */
	CHECK_EQ_INT(ac.cur.nheads, 0);
	ac.cli_set = 0;
	CHECK_EQ_INT(agent_live_option(&ac, "tcp-head", "443:1K"), 0);
	CHECK_EQ_INT(agent_apply(&ac, "tcp-head = 853:1K\n"), -EINVAL);
	CHECK_EQ_STR(err, "agent.conf:1: tcp-head = 853:1K: --tcp-head is given on the command "
			  "line too: set it in one place");
}

/* The watcher's program side: one key, its value kept. */
struct wctx {
	char value[64];
	int applied;
};

static int wset(void *ctx, const char *v, char *why, size_t whylen)
{
	if (strcmp(v, "bad") == 0) {
		snprintf(why, whylen, "not this one");
		return -1;
	}
	snprintf(ctx, 64, "%s", v);
	return 0;
}

static int wapply(void *ctx, const struct conf *c, const char *path, char *e, size_t elen)
{
	static const struct conf_key keys[] = {{"value", wset}};
	struct wctx *w = ctx, next = *w;
	int rc = conf_apply(c, path, keys, 1, NULL, next.value, e, elen);
	if (!rc) {
		*w = next;
		w->applied++;
	}
	return rc;
}

static char dir[64];

static void put(const char *rel, const char *text)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	FILE *f = fopen(p, "w");
	if (!f) {
		printf("  fopen %s: %s\n", p, strerror(errno));
		check_failures++;
		return;
	}
	fputs(text, f);
	fclose(f);
}

/* Does what the kubelet does on a ConfigMap update: a new timestamped directory, a ..data_tmp
 * symlink to it, renamed over ..data. */
static void swap(const char *ts, const char *text)
{
	char p[256], q[256];
	snprintf(p, sizeof(p), "%s/%s", dir, ts);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/c.conf", ts);
	put(p, text);
	snprintf(p, sizeof(p), "%s/..data_tmp", dir);
	CHECK_EQ_INT(symlink(ts, p), 0);
	snprintf(q, sizeof(q), "%s/..data", dir);
	CHECK_EQ_INT(rename(p, q), 0);
}

/* Polls until the watcher acts (at most 10 s, so a watcher that never does fails). */
static int wait_poll(struct conf_watch *w)
{
	for (int i = 0; i < 1000; i++) {
		int rc = conf_watch_poll(w);
		if (rc)
			return rc;
		usleep(10000);
	}
	return 0;
}

static void test_watch(void)
{
	struct conf_watch *w;
	struct wctx ctx = {0};
	char p[256], q[256];
	struct pano_counter *reloads = counter_find("config_reloads"),
			    *rejected = counter_find("config_rejected");

	snprintf(dir, sizeof(dir), "/tmp/pano-conf.XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	CHECK(reloads && rejected);
	if (!reloads || !rejected)
		return;
	swap("..2026_01", "value = one\n");
	snprintf(p, sizeof(p), "%s/c.conf", dir);
	CHECK_EQ_INT(symlink("..data/c.conf", p), 0);

	/* a file that does not check is refused at start, with its line */
	snprintf(q, sizeof(q), "%s/missing.conf", dir);
	CHECK_EQ_INT(conf_watch_open(&w, q, wapply, &ctx, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "missing.conf: open: No such file or directory") != NULL);

	CHECK_EQ_INT(conf_watch_open(&w, p, wapply, &ctx, err, sizeof(err)), 0);
	if (!w)
		return;
	CHECK_EQ_STR(ctx.value, "one");
	uint64_t r0 = counter_get(reloads), j0 = counter_get(rejected);

	swap("..2026_02", "value = two\n");
	CHECK_EQ_INT(wait_poll(w), 1);
	CHECK_EQ_STR(ctx.value, "two");
	CHECK_EQ_INT(counter_get(reloads), r0 + 1);

	swap("..2026_03", "value = bad\n");
	CHECK_EQ_INT(wait_poll(w), -1);
	CHECK_EQ_STR(ctx.value, "two"); /* kept */
	CHECK_EQ_INT(counter_get(rejected), j0 + 1);

	swap("..2026_04", "# no = sign\nvalue\n");
	CHECK_EQ_INT(wait_poll(w), -1);
	CHECK_EQ_INT(counter_get(rejected), j0 + 2);

	/* SIGHUP forces a read, even of the text tried last: refused again */
	raise(SIGHUP);
	CHECK_EQ_INT(conf_watch_poll(w), -1);
	CHECK_EQ_INT(counter_get(rejected), j0 + 3);

	/* an edit in place of the file the link points at, then SIGHUP */
	put("..2026_04/c.conf", "value = three\n");
	raise(SIGHUP);
	CHECK_EQ_INT(conf_watch_poll(w), 1);
	CHECK_EQ_STR(ctx.value, "three");
	CHECK_EQ_INT(counter_get(reloads), r0 + 2);
	/* the same text again through inotify: nothing to do (the events are read, then the
	 * settle time passes with nothing applied) */
	put("..2026_04/c.conf", "value = three\n");
	swap("..2026_05", "value = three\n");
	for (int i = 0; i < 30; i++) {
		CHECK_EQ_INT(conf_watch_poll(w), 0);
		usleep(10000);
	}
	CHECK_EQ_INT(counter_get(reloads), r0 + 2);
	CHECK_EQ_INT(ctx.applied, 3);
	conf_watch_close(w);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK_EQ_INT(system(cmd), 0);
}

int main(void)
{
	log_init("test_conf", -1);
	TEST_CASE("conf_syntax", test_syntax);
	TEST_CASE("conf_syntax_errors", test_syntax_errors);
	TEST_CASE("conf_apply_errors", test_apply);
	TEST_CASE("opt_parse_ports", test_ports);
	TEST_CASE("agent_live_keys", test_agent_keys);
	TEST_CASE("agent_live_tcp_head", test_agent_tcp_head);
	TEST_CASE("conf_watch_configmap_sighup", test_watch);
	TEST_EXIT();
}
