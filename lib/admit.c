// SPDX-License-Identifier: Apache-2.0
/* admit.c - connection admission for PANO's listeners; see admit.h. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "admit.h"

void admit_addr_from(struct admit_addr *k, const struct sockaddr *sa)
{
	memset(k, 0, sizeof(*k));
	if (sa->sa_family == AF_INET6) {
		memcpy(k->a, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	} else if (sa->sa_family == AF_INET) {
		k->a[10] = k->a[11] = 0xff;
		memcpy(k->a + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	}
}

const char *admit_addr_str(const struct admit_addr *k, char *buf, size_t size)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	bool v4 = memcmp(k->a, mapped, sizeof(mapped)) == 0;
	if (!inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? k->a + 12 : k->a, buf, (socklen_t)size))
		snprintf(buf, size, "?");
	return buf;
}

uint64_t admit_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

enum admit_verdict admit_decide(const struct admit_limits *l, const struct admit_addr *addr,
				void *table, admit_get_fn get, int n, int *victim)
{
	int same = 0, untrusted = 0, old_same = -1, old_any = -1;
	uint64_t t_same = 0, t_any = 0;

	*victim = -1;
	for (int i = 0; i < n; i++) {
		const struct admit_conn *c = get(table, i);
		bool here = memcmp(c->addr.a, addr->a, sizeof(addr->a)) == 0;
		same += here;
		if (c->trusted)
			continue;
		untrusted++;
		if (old_any < 0 || c->since_ns < t_any) {
			old_any = i;
			t_any = c->since_ns;
		}
		if (here && (old_same < 0 || c->since_ns < t_same)) {
			old_same = i;
			t_same = c->since_ns;
		}
	}
	if (l->max_per_source > 0 && same >= l->max_per_source) {
		if (old_same < 0)
			return ADMIT_REFUSE_SOURCE;
		*victim = old_same;
		return ADMIT_EVICT;
	}
	if (l->max_untrusted > 0 && untrusted >= l->max_untrusted) {
		if (old_any < 0)
			return ADMIT_REFUSE_FULL;
		*victim = old_any;
		return ADMIT_EVICT;
	}
	return ADMIT_OK;
}

const char *admit_reason(enum admit_verdict v)
{
	switch (v) {
	case ADMIT_REFUSE_SOURCE:
		return "per_source";
	case ADMIT_REFUSE_FULL:
		return "full";
	case ADMIT_EVICT:
		return "evicted";
	default:
		return "ok";
	}
}
