// SPDX-License-Identifier: Apache-2.0
/*
 * test_tls.c - lib/tls.c over real sockets (a non-blocking socketpair) with certificates made by
 * scripts/make-certs.sh: mutual TLS with a good client certificate carries data both ways; a
 * certificate from another CA, an expired one, no certificate, and a plain-TCP peer are refused
 * and counted, and the server never reads a payload byte from them.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "counter.h"
#include "log.h"
#include "tls.h"

static char dir[] = "/tmp/pano-tls-XXXXXX";
static char paths[8][512];

static const char *p(int i, const char *name)
{
	snprintf(paths[i], sizeof(paths[i]), "%s/%s", dir, name);
	return paths[i];
}

/* Runs both handshakes on a socketpair, in turn, until neither waits any more or one side has
 * failed while the other still waits (it would wait forever). Results in *rs and *rc. */
static void handshake_pair(struct tls_conn *s, struct tls_conn *c, int *rs, int *rc)
{
	*rs = *rc = -EAGAIN;
	for (int i = 0; i < 1000 && (*rs == -EAGAIN || *rc == -EAGAIN); i++) {
		if (*rc == -EAGAIN)
			*rc = tls_conn_handshake(c);
		if (*rs == -EAGAIN)
			*rs = tls_conn_handshake(s);
		if ((*rs != -EAGAIN && *rs != 0) || (*rc != -EAGAIN && *rc != 0))
			break;
	}
}

/* One attempt: client presents cert/key (or none). Returns the server's handshake result and
 * whether the server read any application byte afterwards. */
static int attempt(const char *cert, const char *key, int *server_read)
{
	int sv[2];
	struct tls_ctx *sctx, *cctx;
	struct tls_opts so = {p(0, "server.crt"), p(1, "server.key"), p(2, "ca.crt")};
	struct tls_opts co = {cert, key, p(3, "ca.crt")};
	int rs, rc;

	*server_read = 0;
	CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	CHECK_EQ_INT(tls_ctx_new(&sctx, true, &so), 0);
	CHECK_EQ_INT(tls_ctx_new(&cctx, false, &co), 0);
	struct tls_conn *s = tls_conn_new(sctx, sv[0], NULL);
	struct tls_conn *c = tls_conn_new(cctx, sv[1], "127.0.0.1");
	handshake_pair(s, c, &rs, &rc);
	if (rc == 0) {
		/* The client believes it is connected (TLS 1.3 sends its certificate last): it
		 * sends a payload; a refused server must not return it. */
		(void)tls_conn_write(c, "secret", 6);
		char buf[16];
		for (int i = 0; i < 50; i++) {
			ssize_t n = tls_conn_read(s, buf, sizeof(buf));
			if (n > 0) {
				*server_read += (int)n;
				break;
			}
			if (n != -EAGAIN)
				break;
			(void)tls_conn_read(c, buf, sizeof(buf));
		}
	}
	if (rs != 0)
		printf("  # server refused: %s\n", tls_conn_error(s));
	tls_conn_free(s);
	tls_conn_free(c);
	tls_ctx_free(sctx);
	tls_ctx_free(cctx);
	close(sv[0]);
	close(sv[1]);
	return rs;
}

static void test_good_cert(void)
{
	int got;
	CHECK_EQ_INT(attempt(p(4, "client.crt"), p(5, "client.key"), &got), 0);
	CHECK_EQ_INT(got, 6);
}

static void test_refusals(void)
{
	struct pano_counter *refused = counter_find("tls_handshake_failed");
	CHECK(refused != NULL);
	if (!refused)
		return;
	uint64_t before = counter_get(refused);
	int got;
	CHECK_EQ_INT(attempt(p(4, "other.crt"), p(5, "other.key"), &got), -ECONNREFUSED);
	CHECK_EQ_INT(got, 0);
	CHECK_EQ_INT(attempt(p(4, "expired.crt"), p(5, "expired.key"), &got), -ECONNREFUSED);
	CHECK_EQ_INT(got, 0);
	CHECK_EQ_INT(attempt(NULL, NULL, &got), -ECONNREFUSED);
	CHECK_EQ_INT(got, 0);
	CHECK(counter_get(refused) >= before + 3);
}

/* A plain-TCP peer writing a payload to a TLS server: refused, nothing read. */
static void test_plain_peer(void)
{
	int sv[2];
	struct tls_ctx *sctx;
	struct tls_opts so = {p(0, "server.crt"), p(1, "server.key"), p(2, "ca.crt")};
	CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	CHECK_EQ_INT(tls_ctx_new(&sctx, true, &so), 0);
	struct tls_conn *s = tls_conn_new(sctx, sv[0], NULL);
	CHECK(write(sv[1], "PANS\0\1\0\0 hello in clear", 24) == 24);
	char buf[64];
	ssize_t n = tls_conn_read(s, buf, sizeof(buf));
	CHECK(n < 0 && n != -EAGAIN);
	CHECK(strlen(tls_conn_error(s)) > 0);
	tls_conn_free(s);
	tls_ctx_free(sctx);
	close(sv[0]);
	close(sv[1]);
}

/* Bad configuration is caught when the context is made. */
static void test_bad_config(void)
{
	struct tls_ctx *t;
	struct tls_opts missing = {p(0, "nope.crt"), p(1, "server.key"), NULL};
	struct tls_opts mismatch = {p(0, "server.crt"), p(1, "client.key"), NULL};
	struct tls_opts nokey = {p(0, "server.crt"), NULL, NULL};
	CHECK_EQ_INT(tls_ctx_new(&t, true, &missing), -EINVAL);
	CHECK_EQ_INT(tls_ctx_new(&t, true, &mismatch), -EINVAL);
	CHECK_EQ_INT(tls_ctx_new(&t, true, &nokey), -EINVAL);
}

int main(void)
{
	char cmd[1024];
	log_init("test_tls", 0);
	if (!mkdtemp(dir)) {
		printf("FAIL tls_setup: mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	const char *root = getenv("PANO_ROOT") ? getenv("PANO_ROOT") : ".";
	snprintf(cmd, sizeof(cmd), "%s/scripts/make-certs.sh %s >/dev/null", root, dir);
	if (system(cmd) != 0) {
		printf("FAIL tls_setup: %s failed\n", cmd);
		return 1;
	}
	TEST_CASE("tls_mutual_good_cert", test_good_cert);
	TEST_CASE("tls_refuses_other_ca_expired_none", test_refusals);
	TEST_CASE("tls_refuses_plain_tcp", test_plain_peer);
	TEST_CASE("tls_bad_config", test_bad_config);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	TEST_EXIT();
}
