/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check.h - the tiny C test harness: each CHECK prints nothing when it holds, a FAIL line
 * when it does not; TEST_CASE groups checks under one name and prints PASS/FAIL once.
 * tests/run.sh counts the PASS/FAIL/SKIP lines (see its header for the protocol).
 */
#ifndef PANO_TEST_CHECK_H
#define PANO_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;	/* failures in the current case */
static int check_total_failed;	/* cases failed in this program */
static const char *check_case = "";

#define CHECK(cond)                                                                        \
	do {                                                                               \
		if (!(cond)) {                                                             \
			printf("  check failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			check_failures++;                                                  \
		}                                                                          \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                                 \
	do {                                                                               \
		long long _a = (long long)(a), _b = (long long)(b);                        \
		if (_a != _b) {                                                            \
			printf("  check failed at %s:%d: %s == %s (%lld != %lld)\n", __FILE__,     \
			       __LINE__, #a, #b, _a, _b);                                  \
			check_failures++;                                                  \
		}                                                                          \
	} while (0)

#define CHECK_EQ_STR(a, b)                                                                 \
	do {                                                                               \
		const char *_a = (a), *_b = (b);                                           \
		if (!_a || !_b || strcmp(_a, _b) != 0) {                                   \
			printf("  check failed at %s:%d: %s == %s (\"%s\" != \"%s\")\n",          \
			       __FILE__, __LINE__, #a, #b, _a ? _a : "(null)",             \
			       _b ? _b : "(null)");                                        \
			check_failures++;                                                  \
		}                                                                          \
	} while (0)

/* Run fn() as one named test case. */
#define TEST_CASE(name, fn)                                                                \
	do {                                                                               \
		check_case = (name);                                                       \
		check_failures = 0;                                                        \
		fn();                                                                      \
		if (check_failures) {                                                      \
			printf("FAIL %s: %d check(s) failed\n", check_case, check_failures); \
			check_total_failed++;                                              \
		} else {                                                                   \
			printf("PASS %s\n", check_case);                                   \
		}                                                                          \
		fflush(stdout);                                                            \
	} while (0)

#define TEST_SKIP(name, why) printf("SKIP %s: %s\n", (name), (why))

#define TEST_EXIT() return check_total_failed ? 1 : 0

#endif
