// SPDX-License-Identifier: Apache-2.0
/*
 * test_admit.c - connection admission (lib/admit.c): the per-address cap closes that address's
 * oldest untrusted connection or refuses, the untrusted cap closes the oldest untrusted one,
 * trusted connections never give way; addresses of both families; and the rate-limited log
 * lines (lib/log.c) that every close goes through.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "admit.h"
#include "check.h"
#include "log.h"

static struct admit_conn tab[16];

static const struct admit_conn *get(void *t, int i)
{
	return &((struct admit_conn *)t)[i];
}

static struct admit_addr v4(const char *s)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	struct admit_addr a;
	inet_pton(AF_INET, s, &sa.sin_addr);
	admit_addr_from(&a, (struct sockaddr *)&sa);
	return a;
}

static void test_addresses(void)
{
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
	struct admit_addr a = v4("198.18.0.7"), b;
	char buf[64];
	CHECK_EQ_STR(admit_addr_str(&a, buf, sizeof(buf)), "198.18.0.7");
	inet_pton(AF_INET6, "2001:2::7", &s6.sin6_addr);
	admit_addr_from(&b, (struct sockaddr *)&s6);
	CHECK_EQ_STR(admit_addr_str(&b, buf, sizeof(buf)), "2001:2::7");
	CHECK(memcmp(&a, &b, sizeof(a)) != 0);
	/* the v4-mapped form of an IPv6 socket is the same source as plain IPv4 */
	inet_pton(AF_INET6, "::ffff:198.18.0.7", &s6.sin6_addr);
	admit_addr_from(&b, (struct sockaddr *)&s6);
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);
}

static void test_decide(void)
{
	struct admit_limits l = {.max_untrusted = 4, .max_per_source = 3};
	struct admit_addr x = v4("198.18.0.1"), y = v4("198.18.0.2"), z = v4("198.18.0.3");
	int victim;

	memset(tab, 0, sizeof(tab));
	/* x holds 3: one trusted (oldest), two untrusted; y holds 1 */
	tab[0] = (struct admit_conn){.addr = x, .since_ns = 10, .trusted = true};
	tab[1] = (struct admit_conn){.addr = x, .since_ns = 30};
	tab[2] = (struct admit_conn){.addr = x, .since_ns = 20};
	tab[3] = (struct admit_conn){.addr = y, .since_ns = 5};
	CHECK_EQ_INT(admit_decide(&l, &z, tab, get, 4, &victim), ADMIT_OK);
	CHECK_EQ_INT(victim, -1);
	/* x at its cap: its oldest untrusted goes (not y's, older, nor the trusted one) */
	CHECK_EQ_INT(admit_decide(&l, &x, tab, get, 4, &victim), ADMIT_EVICT);
	CHECK_EQ_INT(victim, 2);
	/* 4 untrusted: a new address closes the oldest untrusted of all (y's) */
	tab[4] = (struct admit_conn){.addr = z, .since_ns = 40};
	CHECK_EQ_INT(admit_decide(&l, &z, tab, get, 5, &victim), ADMIT_EVICT);
	CHECK_EQ_INT(victim, 3);
	/* an address whose slots are all trusted: refused */
	for (int i = 0; i < 3; i++)
		tab[i] = (struct admit_conn){.addr = x, .since_ns = 1, .trusted = true};
	CHECK_EQ_INT(admit_decide(&l, &x, tab, get, 3, &victim), ADMIT_REFUSE_SOURCE);
	CHECK_EQ_STR(admit_reason(ADMIT_REFUSE_SOURCE), "per_source");
	/* no caps */
	struct admit_limits none = {0};
	CHECK_EQ_INT(admit_decide(&none, &x, tab, get, 3, &victim), ADMIT_OK);
	/* trusted connections do not count against the untrusted cap */
	l.max_per_source = 0;
	CHECK_EQ_INT(admit_decide(&l, &y, tab, get, 3, &victim), ADMIT_OK);
}

/* At most LOG_LIMIT_BURST lines per interval; the first one after says how many were held. */
static void test_log_limit(void)
{
	struct log_limit lim = {0};
	int fds[2];
	char out[4096] = "";
	CHECK(pipe(fds) == 0);
	fflush(stderr);
	int saved = dup(2);
	dup2(fds[1], 2);
	log_init("test", 0);
	for (int i = 0; i < 20; i++)
		pr_warn_limited(&lim, 200, "line %d", i);
	usleep(250 * 1000);
	pr_warn_limited(&lim, 200, "after");
	fflush(stderr);
	dup2(saved, 2);
	close(fds[1]);
	ssize_t n = read(fds[0], out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	int lines = 0;
	for (char *p = out; (p = strchr(p, '\n')); p++)
		lines++;
	CHECK_EQ_INT(lines, LOG_LIMIT_BURST + 1);
	CHECK(strstr(out, "line 4\n") != NULL);
	CHECK(strstr(out, "line 5") == NULL);
	CHECK(strstr(out, "after (15 similar line(s) held back before this one)") != NULL);
}

int main(void)
{
	TEST_CASE("admit_addresses", test_addresses);
	TEST_CASE("admit_decide", test_decide);
	TEST_CASE("admit_log_limit", test_log_limit);
	TEST_EXIT();
}
