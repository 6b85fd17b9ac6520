// SPDX-License-Identifier: Apache-2.0
/*
 * test_tls.c - lib/tls.c over real sockets (non-blocking socketpairs) with certificates made by
 * scripts/make-certs.sh: mutual TLS with a good client certificate carries data both ways; a
 * certificate from another CA, an expired one, no certificate, and a plain-TCP peer are refused
 * and counted, and the server never reads a payload byte from them. Half a record is not taken
 * for pending data; a slow PCAP-over-TLS reader gets the whole stream.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "counter.h"
#include "log.h"
#include "output.h"
#include "tls.h"

static char dir[] = "/tmp/pano-tls-XXXXXX";
static char paths[8][512];

static const char *p(int i, const char *name)
{
	snprintf(paths[i], sizeof(paths[i]), "%s/%s", dir, name);
	return paths[i];
}

/* Moves what is readable on fd from to fd to (both non-blocking), at most max bytes. */
static size_t pump(int from, int to, size_t max)
{
	uint8_t buf[65536];
	size_t moved = 0;

	while (moved < max) {
		size_t want = max - moved < sizeof(buf) ? max - moved : sizeof(buf);
		ssize_t n = recv(from, buf, want, 0);
		if (n <= 0)
			break;
		CHECK(send(to, buf, (size_t)n, 0) == n);
		moved += (size_t)n;
	}
	return moved;
}

/* Runs both handshakes on a socketpair, in turn, until neither waits any more or one side has
 * failed while the other still waits (it would wait forever). Results in *rs and *rc. With
 * relay_s and relay_c (else -1), the two talk through this test: the other ends of their
 * socketpairs, between which it moves the bytes. */
static void handshake_pair(struct tls_conn *s, struct tls_conn *c, int relay_s, int relay_c,
			   int *rs, int *rc)
{
	*rs = *rc = -EAGAIN;
	for (int i = 0; i < 1000 && (*rs == -EAGAIN || *rc == -EAGAIN); i++) {
		if (*rc == -EAGAIN)
			*rc = tls_conn_handshake(c);
		if (relay_c >= 0)
			pump(relay_c, relay_s, SIZE_MAX);
		if (*rs == -EAGAIN)
			*rs = tls_conn_handshake(s);
		if (relay_s >= 0)
			pump(relay_s, relay_c, SIZE_MAX);
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
	handshake_pair(s, c, -1, -1, &rs, &rc);
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

/*
 * Half a TLS record arrived: the read wants more bytes, and tls_conn_pending must not report
 * the half as data (the protobuf listener polled with timeout 0 and read again in a loop until
 * the rest came). Server and client talk through this test, which holds back the second half.
 */
static void test_partial_record_not_pending(void)
{
	int a[2], b[2], rs, rc;
	struct tls_ctx *sctx = NULL, *cctx = NULL;
	struct tls_opts so = {p(0, "server.crt"), p(1, "server.key"), p(2, "ca.crt")};
	struct tls_opts co = {p(4, "client.crt"), p(5, "client.key"), p(3, "ca.crt")};
	char msg[1000], got[2000];
	uint8_t wire[4096];

	CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, a), 0);
	CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, b), 0);
	CHECK_EQ_INT(tls_ctx_new(&sctx, true, &so), 0);
	CHECK_EQ_INT(tls_ctx_new(&cctx, false, &co), 0);
	struct tls_conn *s = tls_conn_new(sctx, a[0], NULL);
	struct tls_conn *c = tls_conn_new(cctx, b[0], "127.0.0.1");
	handshake_pair(s, c, a[1], b[1], &rs, &rc);
	CHECK_EQ_INT(rs, 0);
	CHECK_EQ_INT(rc, 0);
	/* The session tickets the server sent after its handshake: read, no data. */
	CHECK_EQ_INT(tls_conn_read(c, got, sizeof(got)), -EAGAIN);
	CHECK_EQ_INT(tls_conn_pending(c), 0);

	memset(msg, 'x', sizeof(msg));
	CHECK_EQ_INT(tls_conn_write(s, msg, sizeof(msg)), sizeof(msg));
	ssize_t n = recv(a[1], wire, sizeof(wire), 0);
	CHECK(n > (ssize_t)sizeof(msg));
	if (n <= 0)
		n = 0;
	CHECK(send(b[1], wire, (size_t)n / 2, 0) == n / 2);
	CHECK_EQ_INT(tls_conn_read(c, got, sizeof(got)), -EAGAIN);
	CHECK_EQ_INT(tls_conn_pending(c), 0); /* half a record: wait for the socket */
	CHECK(send(b[1], wire + n / 2, (size_t)(n - n / 2), 0) == n - n / 2);
	CHECK_EQ_INT(tls_conn_read(c, got, sizeof(got)), sizeof(msg));
	CHECK(memcmp(got, msg, sizeof(msg)) == 0);

	tls_conn_free(s);
	tls_conn_free(c);
	tls_ctx_free(sctx);
	tls_ctx_free(cctx);
	for (int i = 0; i < 2; i++) {
		close(a[i]);
		close(b[i]);
	}
}

/* A slow PCAP-over-TLS reader: decrypts everything into buf, pausing between reads. */
struct slow_reader {
	struct tls_conn *c;
	uint8_t *buf;
	size_t cap, len;
};

static void *slow_read(void *arg)
{
	struct slow_reader *r = arg;

	while (r->len < r->cap) {
		size_t want = r->cap - r->len < 3000 ? r->cap - r->len : 3000;
		ssize_t n = tls_conn_read(r->c, r->buf + r->len, want);
		if (n <= 0)
			break;
		r->len += (size_t)n;
		usleep(100);
	}
	return NULL;
}

/*
 * PCAP-over-TLS with a client that reads slowly through a small receive buffer: the ring
 * reader's own sends (pcap_server_kick) keep meeting a full socket and leave the rest to the
 * writer thread; the decrypted stream must still be the global header then every record, whole
 * and in order, none dropped.
 */
static void test_pcap_server_slow_tls(void)
{
	struct tls_opts so = {p(0, "server.crt"), p(1, "server.key"), p(2, "ca.crt")};
	struct tls_opts co = {p(4, "client.crt"), p(5, "client.key"), p(3, "ca.crt")};
	struct pcap_server_opts o = {.snaplen = 1518, .queue_bytes = 64u << 20, .tls = &so};
	enum { CAPLEN = 300, BATCHES = 12 };
	const uint32_t n = BATCHES * PCAP_SERVER_IOV_MAX;
	struct pcap_server *s = pcap_server_start("127.0.0.1:0", &o);
	struct tls_ctx *cctx = NULL;
	struct slow_reader rd = {0};
	struct iovec *iov = calloc(PCAP_SERVER_IOV_MAX, sizeof(*iov));
	uint8_t *recs = malloc((size_t)PCAP_SERVER_IOV_MAX * (PCAP_RHDR_LEN + CAPLEN));
	int fd = -1, small = 4096;
	pthread_t th;

	CHECK(s != NULL);
	CHECK_EQ_INT(tls_ctx_new(&cctx, false, &co), 0);
	if (!s || !cctx || !iov || !recs)
		goto out;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(pcap_server_port(s))};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	CHECK_EQ_INT(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	rd.c = tls_conn_new(cctx, fd, "127.0.0.1");
	CHECK_EQ_INT(tls_conn_handshake(rd.c), 0); /* blocking socket */
	for (int t = 0; t < 500 && pcap_server_clients(s) < 1; t++)
		usleep(10000);
	CHECK_EQ_INT(pcap_server_clients(s), 1);
	rd.cap = PCAP_GHDR_LEN + (size_t)n * (PCAP_RHDR_LEN + CAPLEN);
	rd.buf = malloc(rd.cap);
	if (!rd.buf)
		goto out;
	pthread_create(&th, NULL, slow_read, &rd);
	for (uint32_t b = 0, seq = 0; b < BATCHES; b++) {
		size_t len = 0;
		for (uint32_t i = 0; i < PCAP_SERVER_IOV_MAX; i++, seq++) {
			uint8_t *r = recs + (size_t)i * (PCAP_RHDR_LEN + CAPLEN);
			pcap_encode_record(r, 1000000000ull * seq, CAPLEN, CAPLEN, 0);
			for (int j = 0; j < CAPLEN; j++)
				r[PCAP_RHDR_LEN + j] = (uint8_t)(seq * 7 + j);
			iov[i].iov_base = r;
			iov[i].iov_len = PCAP_RHDR_LEN + CAPLEN;
			len += iov[i].iov_len;
		}
		pcap_server_write_iov(s, iov, PCAP_SERVER_IOV_MAX, len);
		pcap_server_kick(s);
		/* the iovecs' memory is reused at once: the server must not read it later */
		memset(recs, 0xa5, (size_t)PCAP_SERVER_IOV_MAX * (PCAP_RHDR_LEN + CAPLEN));
	}
	pthread_join(th, NULL);
	CHECK_EQ_INT(rd.len, rd.cap);
	uint32_t bad = 0;
	for (uint32_t seq = 0; seq < n && rd.len == rd.cap; seq++) {
		const uint8_t *r = rd.buf + PCAP_GHDR_LEN + (size_t)seq * (PCAP_RHDR_LEN + CAPLEN);
		uint8_t h[PCAP_RHDR_LEN];
		pcap_encode_record(h, 1000000000ull * seq, CAPLEN, CAPLEN, 0);
		bad += memcmp(r, h, sizeof(h)) != 0;
		for (int j = 0; j < CAPLEN; j++)
			bad += r[PCAP_RHDR_LEN + j] != (uint8_t)(seq * 7 + j);
	}
	CHECK_EQ_INT(bad, 0);
	struct out_stats st;
	out_stats_read(pcap_server_stats(s), &st);
	CHECK_EQ_INT(st.sent_records, n);
	CHECK_EQ_INT(st.drop_records, 0);
out:
	pcap_server_stop(s);
	tls_conn_free(rd.c);
	if (fd >= 0)
		close(fd);
	tls_ctx_free(cctx);
	free(rd.buf);
	free(iov);
	free(recs);
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
	TEST_CASE("tls_partial_record_not_pending", test_partial_record_not_pending);
	TEST_CASE("tls_pcap_server_slow_client", test_pcap_server_slow_tls);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	TEST_EXIT();
}
