// SPDX-License-Identifier: Apache-2.0
/*
 * l7.c - the table of application protocols (see l7.h) and the per-engine set of their states:
 * which protocol a datagram or connection goes to, and the calls every protocol gets (time,
 * end of input, gauges). Adding a protocol is one folder and one row of l7_all[].
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "dns.h"
#include "http.h"
#include "l7.h"
#include "log.h"
#include "tls_proto.h"

const struct l7_proto *const l7_all[] = {
    &dns_proto,
    &http_proto,
    &tls_proto,
};
const unsigned l7_nall = sizeof(l7_all) / sizeof(l7_all[0]);

_Static_assert(sizeof(l7_all) / sizeof(l7_all[0]) <= L7_MAX, "l7_all: raise L7_MAX");

int l7_set_create(struct l7_set *s, const void *const *cfgs, const struct l7_env *env)
{
	s->n = 0;
	for (unsigned i = 0; i < l7_nall; i++) {
		if (!cfgs[i])
			continue;
		void *st = l7_all[i]->create(cfgs[i], env);
		if (!st) {
			pr_err("l7_set_create: %s: create failed", l7_all[i]->name);
			l7_set_destroy(s);
			return -ENOMEM;
		}
		s->proto[s->n] = l7_all[i];
		s->cfg[s->n] = cfgs[i];
		s->st[s->n] = st;
		s->n++;
	}
	return 0;
}

void l7_set_destroy(struct l7_set *s)
{
	for (unsigned i = 0; i < s->n; i++)
		if (s->proto[i]->destroy)
			s->proto[i]->destroy(s->st[i]);
	s->n = 0;
}

int l7_set_add(struct l7_set *s, const struct l7_proto *p, const void *cfg, void *st)
{
	if (s->n == L7_MAX)
		return -ENOSPC;
	s->proto[s->n] = p;
	s->cfg[s->n] = cfg;
	s->st[s->n] = st;
	s->n++;
	return 0;
}

void *l7_set_state(const struct l7_set *s, const char *name)
{
	for (unsigned i = 0; i < s->n; i++)
		if (strcmp(s->proto[i]->name, name) == 0)
			return s->st[i];
	return NULL;
}

int l7_match_udp(const struct l7_set *s, const struct pano_pkt *pkt)
{
	for (unsigned i = 0; i < s->n; i++)
		if (s->proto[i]->on_udp && s->proto[i]->match(s->st[i], pkt) == L7_YES)
			return (int)i;
	return -1;
}

int l7_match_tcp(const struct l7_set *s, const struct pano_pkt *pkt, unsigned *maybe)
{
	*maybe = 0;
	for (unsigned i = 0; i < s->n; i++) {
		if (!s->proto[i]->on_tcp_data)
			continue;
		enum l7_verdict v = s->proto[i]->match(s->st[i], pkt);
		if (v == L7_YES)
			return (int)i;
		if (v == L7_MAYBE && s->proto[i]->detect)
			*maybe |= 1u << i;
	}
	return *maybe ? -2 : -1;
}

int l7_detect(const struct l7_set *s, unsigned maybe, int from_client, const uint8_t *data,
	      size_t len)
{
	for (unsigned i = 0; i < s->n; i++)
		if ((maybe & 1u << i) &&
		    s->proto[i]->detect(s->st[i], from_client, data, len) == L7_YES)
			return (int)i;
	return -1;
}

void l7_tick_all(const struct l7_set *s, uint64_t now_ns)
{
	for (unsigned i = 0; i < s->n; i++)
		if (s->proto[i]->tick)
			s->proto[i]->tick(s->st[i], now_ns);
}

void l7_flush_all(const struct l7_set *s)
{
	for (unsigned i = 0; i < s->n; i++)
		if (s->proto[i]->flush)
			s->proto[i]->flush(s->st[i]);
}

void l7_gauges_all(const struct l7_set *s, l7_gauge_fn out, void *arg)
{
	for (unsigned i = 0; i < s->n; i++)
		if (s->proto[i]->gauges)
			s->proto[i]->gauges(s->st[i], out, arg);
}
