// SPDX-License-Identifier: Apache-2.0
/*
 * live.c - the agent's run-time settings (live.h). One table of keys serves the command line
 * and the --config file, so both check a value the same way. A reload starts from the defaults
 * with the command line's options and lays the file over them: a key left out of the file goes
 * back to that. Ports change through capture_set_ports, which adds the new ports before it takes
 * the old ones away, so a port kept in both sets never stops matching. The TCP head limits
 * (--tcp-head) change before the ports, so a port that joins the filter with a limit is never
 * captured whole; one that leaves both may be, for the moment between the two map writes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live.h"
#include "log.h"
#include "opt.h"

enum { LIVE_PORTS = 1, LIVE_TRANSPORTS = 2, LIVE_SNAPLEN = 4, LIVE_DEDUP = 8, LIVE_TCP_HEAD = 16 };

/* What a key's set() works on: the settings being built, and the rules of where they come from. */
struct live_scratch {
	struct agent_live *l;
	unsigned forbid;      /* keys the command line gave: refused in the file */
	uint32_t snaplen_max; /* 0: PANO_SNAPLEN_MAX */
};

static int live_given(const struct live_scratch *s, unsigned bit, const char *name, char *why,
		      size_t whylen)
{
	if (!(s->forbid & bit))
		return 0;
	snprintf(why, whylen, "--%s is given on the command line too: set it in one place", name);
	return -1;
}

static int live_set_ports(void *ctx, const char *v, char *why, size_t whylen)
{
	struct live_scratch *s = ctx;
	uint16_t ports[PANO_MAX_PORTS];
	int n;

	if (live_given(s, LIVE_PORTS, "ports", why, whylen))
		return -1;
	n = opt_parse_ports(v, ports, PANO_MAX_PORTS);
	if (n < 0) {
		snprintf(why, whylen, "expected ports 1-65535, comma separated, at most %d",
			 PANO_MAX_PORTS);
		return -1;
	}
	memcpy(s->l->ports, ports, sizeof(ports[0]) * (size_t)n);
	s->l->nports = n;
	return 0;
}

static int live_set_transports(void *ctx, const char *v, char *why, size_t whylen)
{
	struct live_scratch *s = ctx;
	uint32_t tr = 0;

	if (live_given(s, LIVE_TRANSPORTS, "transports", why, whylen))
		return -1;
	for (const char *p = v;;) {
		size_t n = strcspn(p, ",");
		uint32_t bit = n == 3 && strncmp(p, "udp", 3) == 0   ? PANO_TR_UDP
			       : n == 3 && strncmp(p, "tcp", 3) == 0 ? PANO_TR_TCP
								     : 0;
		if (!bit) {
			tr = 0; /* an unknown or empty element */
			break;
		}
		tr |= bit;
		if (!p[n])
			break;
		p += n + 1;
	}
	if (!tr) {
		snprintf(why, whylen, "expected udp, tcp or udp,tcp");
		return -1;
	}
	s->l->transports = tr;
	return 0;
}

static int live_set_snaplen(void *ctx, const char *v, char *why, size_t whylen)
{
	struct live_scratch *s = ctx;
	uint64_t n;

	if (live_given(s, LIVE_SNAPLEN, "snaplen", why, whylen))
		return -1;
	if (opt_parse_size(v, &n) || n < 1 || n > PANO_SNAPLEN_MAX) {
		snprintf(why, whylen, "expected 1 to %u bytes", PANO_SNAPLEN_MAX);
		return -1;
	}
	if (s->snaplen_max && n > s->snaplen_max) {
		snprintf(why, whylen,
			 "over %u, the snap length the outputs announced at start (restart to "
			 "raise it)",
			 s->snaplen_max);
		return -1;
	}
	s->l->snaplen = (uint32_t)n;
	return 0;
}

static int live_set_dedup(void *ctx, const char *v, char *why, size_t whylen)
{
	struct live_scratch *s = ctx;

	if (live_given(s, LIVE_DEDUP, "dedup", why, whylen))
		return -1;
	if (strcmp(v, "on") == 0) {
		s->l->dedup_us = PANO_DEDUP_US_DEFAULT;
	} else if (strcmp(v, "off") == 0) {
		s->l->dedup_us = 0;
	} else {
		snprintf(why, whylen, "expected on or off");
		return -1;
	}
	return 0;
}

/*
 * One element of a --tcp-head list: "PORT" or "PORT:SIZE" (n bytes at p). Sets *port, and
 * *bytes to the size or 0 when there is none. 0, or -1 when it does not parse.
 */
static int live_head_item(const char *p, size_t n, uint16_t *port, uint32_t *bytes)
{
	char item[32], *colon, *end;
	uint64_t v = 0;
	long pv;

	if (!n || n >= sizeof(item))
		return -1;
	memcpy(item, p, n);
	item[n] = '\0';
	colon = strchr(item, ':');
	if (colon) {
		*colon = '\0';
		if (opt_parse_size(colon + 1, &v) || v < 1 || v > PANO_TCP_HEAD_MAX)
			return -1;
	}
	if (item[0] < '0' || item[0] > '9')
		return -1;
	pv = strtol(item, &end, 10);
	if (*end || pv < 1 || pv > 65535)
		return -1;
	*port = (uint16_t)pv;
	*bytes = (uint32_t)v;
	return 0;
}

/*
 * "443,853:16K,8443:8K": ports, each run of them ended by the size it shares. Fills heads (at
 * most PANO_MAX_PORTS, a port repeated with its own size kept once). The count, or -1.
 */
static int live_parse_heads(const char *v, struct capture_head *heads)
{
	int n = 0, open = 0; /* heads[open..n) wait for their size */

	for (const char *p = v;; p++) {
		size_t len = strcspn(p, ",");
		uint16_t port;
		uint32_t bytes;
		int i;

		if (live_head_item(p, len, &port, &bytes))
			return -1;
		for (i = 0; i < n && heads[i].port != port; i++)
			;
		if (i < open && (!bytes || heads[i].bytes != bytes))
			return -1; /* given twice, with two sizes */
		if (i == n) {
			if (n == PANO_MAX_PORTS)
				return -1;
			heads[n++].port = port;
		}
		if (bytes) {
			for (; open < n; open++)
				heads[open].bytes = bytes;
		}
		p += len;
		if (!*p)
			break;
	}
	return open == n ? n : -1; /* ports at the end without a size */
}

static int live_set_tcp_head(void *ctx, const char *v, char *why, size_t whylen)
{
	struct live_scratch *s = ctx;
	struct capture_head heads[PANO_MAX_PORTS];
	int n;

	if (live_given(s, LIVE_TCP_HEAD, "tcp-head", why, whylen))
		return -1;
	n = strcmp(v, "none") ? live_parse_heads(v, heads) : 0;
	if (n < 0) {
		snprintf(why, whylen,
			 "expected PORTS:SIZE[,PORTS:SIZE...] (443,853:16K), ports 1-65535, sizes "
			 "1 to 1G, at most %d ports, or none",
			 PANO_MAX_PORTS);
		return -1;
	}
	memcpy(s->l->heads, heads, sizeof(heads[0]) * (size_t)n);
	s->l->nheads = n;
	return 0;
}

static const struct conf_key live_keys[] = {
    {"ports", live_set_ports}, {"transports", live_set_transports}, {"snaplen", live_set_snaplen},
    {"dedup", live_set_dedup}, {"tcp-head", live_set_tcp_head},
};
static const unsigned live_bits[] = {LIVE_PORTS, LIVE_TRANSPORTS, LIVE_SNAPLEN, LIVE_DEDUP,
				     LIVE_TCP_HEAD};
#define LIVE_NKEYS ((int)(sizeof(live_keys) / sizeof(live_keys[0])))

void agent_live_init(struct agent_conf *ac)
{
	memset(ac, 0, sizeof(*ac));
	ac->cli = (struct agent_live){.ports = {53},
				      .nports = 1,
				      .transports = PANO_TR_UDP | PANO_TR_TCP,
				      .snaplen = PANO_SNAPLEN_DEFAULT,
				      .dedup_us = PANO_DEDUP_US_DEFAULT};
	ac->cur = ac->cli;
}

int agent_live_option(struct agent_conf *ac, const char *name, const char *value)
{
	struct live_scratch s = {.l = &ac->cli};
	char why[160];

	for (int i = 0; i < LIVE_NKEYS; i++) {
		if (strcmp(live_keys[i].name, name))
			continue;
		if (live_keys[i].set(&s, value, why, sizeof(why)))
			return -1;
		ac->cli_set |= live_bits[i];
		ac->cur = ac->cli;
		return 0;
	}
	return 1;
}

int agent_live_filter_ports(const struct agent_live *l, uint16_t *out)
{
	int n = l->nports, i, j;

	memcpy(out, l->ports, sizeof(out[0]) * (size_t)n);
	for (i = 0; i < l->nheads; i++) {
		for (j = 0; j < n && out[j] != l->heads[i].port; j++)
			;
		if (j < n)
			continue;
		if (n == PANO_MAX_PORTS)
			return -1;
		out[n++] = l->heads[i].port;
	}
	return n;
}

/* "53,5353" and "443:16384,853:16384" for the log line. */
static void live_ports_text(const struct agent_live *l, char *buf, size_t len, char *hbuf,
			    size_t hlen)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; i < l->nports && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%u", i ? "," : "", l->ports[i]);
	snprintf(hbuf, hlen, "none");
	for (int i = 0, m = 0; i < l->nheads && (size_t)m < hlen; i++)
		m += snprintf(hbuf + m, hlen - (size_t)m, "%s%u:%u", i ? "," : "", l->heads[i].port,
			      l->heads[i].bytes);
}

/* Writes into the maps what differs between ac->cur and next. 0 or -errno. */
static int live_push(struct agent_conf *ac, const struct agent_live *next)
{
	const struct agent_live *cur = &ac->cur;
	uint16_t cp[PANO_MAX_PORTS], np[PANO_MAX_PORTS];
	int cn = agent_live_filter_ports(cur, cp), nn = agent_live_filter_ports(next, np), err = 0;

	if (nn < 0) /* agent_live_apply checked it */
		return -E2BIG;
	if (next->nheads != cur->nheads ||
	    memcmp(next->heads, cur->heads, sizeof(next->heads[0]) * (size_t)next->nheads))
		err = capture_set_tcp_head(ac->cap, next->heads, next->nheads);
	if (!err && (nn != cn || memcmp(np, cp, sizeof(np[0]) * (size_t)nn)))
		err = capture_set_ports(ac->cap, np, nn);
	if (!err && next->transports != cur->transports)
		err = capture_set_transports(ac->cap, next->transports);
	if (!err && next->snaplen != cur->snaplen)
		err = capture_set_snaplen(ac->cap, next->snaplen);
	if (!err && next->dedup_us != cur->dedup_us)
		err = capture_set_dedup(ac->cap, next->dedup_us);
	return err;
}

int agent_live_apply(void *ctx, const struct conf *c, const char *path, char *err, size_t errlen)
{
	struct agent_conf *ac = ctx;
	struct agent_live next = ac->cli;
	struct live_scratch s = {.l = &next, .forbid = ac->cli_set, .snaplen_max = ac->snaplen_max};
	char ports[PANO_MAX_PORTS * 6 + 1], heads[PANO_MAX_PORTS * 18 + 8];
	uint16_t fp[PANO_MAX_PORTS];
	int rc = conf_apply(c, path, live_keys, LIVE_NKEYS, ac->lopts, &s, err, errlen);

	if (rc)
		return rc;
	if (agent_live_filter_ports(&next, fp) < 0) {
		snprintf(err, errlen, "%s: ports and tcp-head name more than %d ports together",
			 path, PANO_MAX_PORTS);
		return -EINVAL;
	}
	if (ac->cap && (rc = live_push(ac, &next))) {
		/* a map update failed (said above): ac->cur stays, so the next reload writes
		 * every difference from it again */
		snprintf(err, errlen, "%s: updating the capture filter: %s", path, strerror(-rc));
		return rc;
	}
	ac->cur = next;
	live_ports_text(&next, ports, sizeof(ports), heads, sizeof(heads));
	pr_info("%s: ports %s, tcp-head %s, transports %s%s, snaplen %u, dedup %s", path, ports,
		heads, next.transports & PANO_TR_UDP ? "udp" : "",
		next.transports == (PANO_TR_UDP | PANO_TR_TCP) ? ",tcp"
		: next.transports & PANO_TR_TCP		       ? "tcp"
							       : "",
		next.snaplen, next.dedup_us ? "on" : "off");
	return 0;
}
