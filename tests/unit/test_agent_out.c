// SPDX-License-Identifier: Apache-2.0
/*
 * test_agent_out.c - pano-agent's outputs without the kernel: pcap headers byte for byte (both
 * magics), pcap files read back with libpcap, rotation by size and by age (fake clock), the
 * PCAP-over-TCP server with real loopback clients (two readers; a reader that never reads is
 * dropped for and disconnected while the other gets everything), /metrics text checked by
 * promtool, and the HTTP server.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture_api.h"
#include "check.h"
#include "counter.h"
#include "httpd.h"
#include "log.h"
#include "metrics.h"
#include "output.h"
#include "prom.h"
#include "who.h"

static char tmpdir[] = "/tmp/pano-agent-out.XXXXXX";

/* A frame whose bytes encode its sequence number, so a reader can verify every record. */
static void mkrec(struct pano_rec *r, uint8_t *frame, uint32_t seq, uint32_t caplen)
{
	memset(r, 0, sizeof(*r));
	r->ts_ns = 1700000000ull * 1000000000ull + seq * 1000ull + 7;
	r->caplen = caplen;
	r->len = caplen + 10;
	for (uint32_t i = 0; i < caplen; i++)
		frame[i] = (uint8_t)(seq * 31 + i);
}

static int frame_ok(const uint8_t *frame, uint32_t seq, uint32_t caplen)
{
	for (uint32_t i = 0; i < caplen; i++)
		if (frame[i] != (uint8_t)(seq * 31 + i))
			return 0;
	return 1;
}

static void test_headers(void)
{
	static const uint8_t want_us[24] = {0xd4, 0xc3, 0xb2, 0xa1, 2,	  0, 4, 0, 0, 0, 0, 0,
					    0,	  0,	0,    0,    0xee, 5, 0, 0, 1, 0, 0, 0};
	static const uint8_t want_ns[24] = {0x4d, 0x3c, 0xb2, 0xa1, 2,	  0,	4, 0, 0, 0, 0, 0,
					    0,	  0,	0,    0,    0x00, 0x24, 0, 0, 1, 0, 0, 0};
	uint8_t g[24], r[16];

	pcap_encode_global(g, 1518, 0);
	CHECK(memcmp(g, want_us, 24) == 0);
	pcap_encode_global(g, 9216, 1);
	CHECK(memcmp(g, want_ns, 24) == 0);

	/* 1700000000.123456789 s; caplen 60, len 1000 */
	uint64_t ts = 1700000000ull * 1000000000ull + 123456789ull;
	static const uint8_t want_rus[16] = {0x00, 0xf1, 0x53, 0x65, 0x40, 0xe2, 0x01, 0x00,
					     60,   0,	 0,    0,    0xe8, 0x03, 0,    0};
	static const uint8_t want_rns[16] = {0x00, 0xf1, 0x53, 0x65, 0x15, 0xcd, 0x5b, 0x07,
					     60,   0,	 0,    0,    0xe8, 0x03, 0,    0};
	pcap_encode_record(r, ts, 60, 1000, 0);
	CHECK(memcmp(r, want_rus, 16) == 0);
	pcap_encode_record(r, ts, 60, 1000, 1);
	CHECK(memcmp(r, want_rns, 16) == 0);
}

/* Reads a pcap file with libpcap; returns the record count (-1 on error) and checks each. */
static int read_pcap(const char *path, int nsec, uint32_t first_seq, uint32_t caplen)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline_with_tstamp_precision(
	    path, nsec ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO, err);
	struct pcap_pkthdr *h;
	const u_char *d;
	int n = 0, bad = 0;

	if (!p) {
		printf("  pcap_open_offline %s: %s\n", path, err);
		return -1;
	}
	if (pcap_datalink(p) != DLT_EN10MB || pcap_snapshot(p) != 1518)
		bad++;
	while (pcap_next_ex(p, &h, &d) == 1) {
		uint32_t seq = first_seq + n;
		uint64_t frac = nsec ? 7 + seq * 1000ull : (7 + seq * 1000ull) / 1000;
		if (h->caplen != caplen || h->len != caplen + 10 || !frame_ok(d, seq, caplen) ||
		    h->ts.tv_sec != 1700000000 || (uint64_t)h->ts.tv_usec != frac)
			bad++;
		n++;
	}
	pcap_close(p);
	return bad ? -1 : n;
}

static uint64_t fake_now;
static uint64_t fake_clock(void)
{
	return fake_now;
}

static void test_file_plain(void)
{
	char path[256];
	struct pano_rec r;
	uint8_t frame[2000];

	for (int nsec = 0; nsec < 2; nsec++) {
		snprintf(path, sizeof(path), "%s/plain%d.pcap", tmpdir, nsec);
		struct out_file_opts o = {.snaplen = 1518, .nsec = nsec};
		struct out_file *f = out_file_open(path, &o);
		CHECK(f != NULL);
		if (!f)
			return;
		for (uint32_t i = 0; i < 500; i++) {
			mkrec(&r, frame, i, 100);
			CHECK_EQ_INT(out_file_write(f, &r, frame, NULL), 0);
		}
		out_file_close(f);
		CHECK_EQ_INT(read_pcap(path, nsec, 0, 100), 500);
	}
}

/*
 * Classic pcap stays what it was before pcapng and the sender metadata: a file of records that
 * carry a cgroup, pid, comm and pod is, byte for byte, the 24-byte global header and 16-byte
 * record headers (built here field by field, not by the encoder) each followed by its frame.
 */
static void test_file_classic_bytes(void)
{
	static const uint8_t ghdr[24] = {0xd4, 0xc3, 0xb2, 0xa1, 2,    0, 4, 0, 0, 0, 0, 0,
					 0,    0,    0,	   0,	 0xee, 5, 0, 0, 1, 0, 0, 0};
	static const struct who_pod pod = {"default", "client-a", "app"};
	static uint8_t want[24 + 20 * (16 + 64)], got[sizeof(want) + 1];
	char path[256];
	struct pano_rec r;
	uint8_t frame[64];
	size_t w = 0;

	snprintf(path, sizeof(path), "%s/classic.pcap", tmpdir);
	struct out_file_opts o = {.snaplen = 1518};
	struct out_file *f = out_file_open(path, &o);
	CHECK(f != NULL);
	if (!f)
		return;
	out_file_iface_add(f, 7, "eth7"); /* pcapng only: no effect on pcap */
	memcpy(want, ghdr, 24);
	w = 24;
	for (uint32_t i = 0; i < 20; i++) {
		uint32_t caplen = 40 + i, len = caplen + 10, v;
		mkrec(&r, frame, i, caplen);
		r.ifindex = 7;
		r.dir = i & 1;
		r.flags = PANO_RF_SOCKET;
		r.cgroup_id = 4242 + i;
		r.pid = 1234;
		memcpy(r.comm, "dig", 4);
		CHECK_EQ_INT(out_file_write(f, &r, frame, &pod), 0);
		v = 1700000000u;
		memcpy(want + w, &v, 4);
		v = (uint32_t)((7 + i * 1000ull) / 1000);
		memcpy(want + w + 4, &v, 4);
		memcpy(want + w + 8, &caplen, 4);
		memcpy(want + w + 12, &len, 4);
		memcpy(want + w + 16, frame, caplen);
		w += 16 + caplen;
	}
	CHECK_EQ_INT(out_file_format(f), OUT_PCAP);
	out_file_close(f);
	FILE *in = fopen(path, "rb");
	size_t n = in ? fread(got, 1, sizeof(got), in) : 0;
	if (in)
		fclose(in);
	CHECK_EQ_INT(n, w);
	CHECK(memcmp(got, want, w) == 0);
}

static void test_rotate_size(void)
{
	char path[256], p1[300];
	struct pano_rec r;
	uint8_t frame[200];

	snprintf(path, sizeof(path), "%s/size.pcap", tmpdir);
	/* room for exactly two 100-byte records after the header */
	struct out_file_opts o = {.snaplen = 1518, .rotate_bytes = 24 + 2 * 116};
	struct out_file *f = out_file_open(path, &o);
	CHECK(f != NULL);
	if (!f)
		return;
	for (uint32_t i = 0; i < 5; i++) {
		mkrec(&r, frame, i, 100);
		CHECK_EQ_INT(out_file_write(f, &r, frame, NULL), 0);
	}
	CHECK_EQ_INT(out_file_rotations(f), 2);
	out_file_close(f);
	snprintf(p1, sizeof(p1), "%s.1", path);
	CHECK_EQ_INT(read_pcap(p1, 0, 0, 100), 2);
	snprintf(p1, sizeof(p1), "%s.2", path);
	CHECK_EQ_INT(read_pcap(p1, 0, 2, 100), 2);
	CHECK_EQ_INT(read_pcap(path, 0, 4, 100), 1);

	/* A restart continues after FILE.2 instead of overwriting it. */
	f = out_file_open(path, &o);
	CHECK(f != NULL);
	if (!f)
		return;
	for (uint32_t i = 10; i < 13; i++) {
		mkrec(&r, frame, i, 100);
		out_file_write(f, &r, frame, NULL);
	}
	out_file_close(f);
	snprintf(p1, sizeof(p1), "%s.2", path);
	CHECK_EQ_INT(read_pcap(p1, 0, 2, 100), 2);
	snprintf(p1, sizeof(p1), "%s.3", path);
	CHECK_EQ_INT(read_pcap(p1, 0, 10, 100), 2);
	CHECK_EQ_INT(read_pcap(path, 0, 12, 100), 1);
}

static void test_rotate_seconds(void)
{
	char path[256], p1[300];
	struct pano_rec r;
	uint8_t frame[200];
	struct stat st;

	snprintf(path, sizeof(path), "%s/age.pcap", tmpdir);
	fake_now = 1000;
	struct out_file_opts o = {.snaplen = 1518, .rotate_seconds = 10, .now = fake_clock};
	struct out_file *f = out_file_open(path, &o);
	CHECK(f != NULL);
	if (!f)
		return;
	mkrec(&r, frame, 0, 100);
	out_file_write(f, &r, frame, NULL);
	fake_now = 1005;
	mkrec(&r, frame, 1, 100);
	out_file_write(f, &r, frame, NULL);
	CHECK_EQ_INT(out_file_flush(f), 0);
	CHECK_EQ_INT(out_file_rotations(f), 0);
	fake_now = 1010; /* due: the next record starts a new file */
	mkrec(&r, frame, 2, 100);
	out_file_write(f, &r, frame, NULL);
	CHECK_EQ_INT(out_file_rotations(f), 1);
	fake_now = 1025; /* due again: the flush on an idle tick rotates */
	CHECK_EQ_INT(out_file_flush(f), 0);
	CHECK_EQ_INT(out_file_rotations(f), 2);
	fake_now = 1100; /* empty and due: no empty file is produced */
	CHECK_EQ_INT(out_file_flush(f), 0);
	CHECK_EQ_INT(out_file_rotations(f), 2);
	out_file_close(f);
	snprintf(p1, sizeof(p1), "%s.1", path);
	CHECK_EQ_INT(read_pcap(p1, 0, 0, 100), 2);
	snprintf(p1, sizeof(p1), "%s.2", path);
	CHECK_EQ_INT(read_pcap(p1, 0, 2, 100), 1);
	CHECK_EQ_INT(read_pcap(path, 0, 0, 100), 0);
	snprintf(p1, sizeof(p1), "%s.3", path);
	CHECK(stat(p1, &st) != 0);
}

/* ---- PCAP-over-TCP ------------------------------------------------------------------------- */

static int connect_port(int port, int rcvbuf)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		printf("  connect: %s\n", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int wait_clients(struct pcap_server *s, int n)
{
	for (int i = 0; i < 1000; i++) {
		if (pcap_server_clients(s) == n)
			return 1;
		usleep(10000);
	}
	return 0;
}

/* A reading client: checks the stream as it arrives (header, then records in order). */
struct reader {
	int fd;
	uint32_t caplen;
	uint8_t *buf;
	size_t len, cap;
	uint64_t bytes; /* atomically read by the producer */
	int done;
	unsigned delay_us; /* pause after each read (a reader slower than the producer) */
	size_t chunk;	   /* bytes per recv, 0: 64 KiB */
	int hold;	   /* atomic: while set, the reader does not read yet */
};

static void *reader_thread(void *arg)
{
	struct reader *rd = arg;
	uint8_t tmp[65536];

	while (__atomic_load_n(&rd->hold, __ATOMIC_ACQUIRE))
		usleep(1000);
	for (;;) {
		ssize_t n = recv(rd->fd, tmp, rd->chunk ? rd->chunk : sizeof(tmp), 0);
		if (n <= 0)
			break;
		if (rd->delay_us)
			usleep(rd->delay_us);
		if (rd->len + n <= rd->cap) {
			memcpy(rd->buf + rd->len, tmp, n);
			rd->len += n;
		}
		__atomic_fetch_add(&rd->bytes, n, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&rd->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Parses what a reader got: the global header then nrec records of seq 0..nrec-1. */
static int stream_ok(const struct reader *rd, uint32_t nrec)
{
	uint8_t g[24];
	size_t off = 24;

	pcap_encode_global(g, 1518, 0);
	if (rd->len < 24 || memcmp(rd->buf, g, 24) != 0)
		return 0;
	for (uint32_t i = 0; i < nrec; i++) {
		struct pcap_rec_header_s h;
		if (off + 16 > rd->len)
			return 0;
		memcpy(&h, rd->buf + off, 16);
		if (h.caplen != rd->caplen || h.len != rd->caplen + 10 ||
		    off + 16 + h.caplen > rd->len || !frame_ok(rd->buf + off + 16, i, h.caplen))
			return 0;
		off += 16 + h.caplen;
	}
	return off == rd->len;
}

static void test_server_two_clients(void)
{
	struct pcap_server_opts o = {.snaplen = 1518};
	struct pcap_server *s = pcap_server_start("127.0.0.1:0", &o);
	struct reader rd[2] = {0};
	pthread_t th[2];
	struct pano_rec r;
	uint8_t frame[300];
	const uint32_t n = 20000, caplen = 200;

	CHECK(s != NULL);
	if (!s)
		return;
	for (int i = 0; i < 2; i++) {
		rd[i].fd = connect_port(pcap_server_port(s), 0);
		rd[i].caplen = caplen;
		rd[i].cap = 24 + n * (16 + caplen);
		rd[i].buf = malloc(rd[i].cap);
		pthread_create(&th[i], NULL, reader_thread, &rd[i]);
	}
	CHECK(wait_clients(s, 2));
	for (uint32_t i = 0; i < n; i++) {
		mkrec(&r, frame, i, caplen);
		pcap_server_write(s, &r, frame);
		if (i % 64 == 63) {
			pcap_server_kick(s);
			/* stay within the 4 MiB queues: this test is about delivery */
			while (__atomic_load_n(&rd[0].bytes, __ATOMIC_ACQUIRE) + (2u << 20) <
				   24 + (uint64_t)i * (16 + caplen) ||
			       __atomic_load_n(&rd[1].bytes, __ATOMIC_ACQUIRE) + (2u << 20) <
				   24 + (uint64_t)i * (16 + caplen))
				usleep(1000);
		}
	}
	pcap_server_kick(s);
	for (int t = 0; t < 1000; t++) {
		if (rd[0].bytes == rd[0].cap && rd[1].bytes == rd[1].cap)
			break;
		usleep(10000);
	}
	for (int i = 0; i < 2; i++) {
		shutdown(rd[i].fd, SHUT_RDWR);
		pthread_join(th[i], NULL);
		close(rd[i].fd);
		CHECK_EQ_INT(rd[i].len, rd[i].cap);
		CHECK(stream_ok(&rd[i], n));
		free(rd[i].buf);
	}
	struct out_stats st;
	out_stats_read(pcap_server_stats(s), &st);
	CHECK_EQ_INT(st.sent_records, 2 * n);
	CHECK_EQ_INT(st.drop_records, 0);
	/* closed clients are noticed and removed */
	CHECK(wait_clients(s, 0));
	pcap_server_stop(s);
}

/* Connects rd to s with a 4 KiB receive buffer, makes room for the global header and n
 * records of rd->caplen bytes, and starts its thread once s has the client. */
static void reader_start(struct pcap_server *s, struct reader *rd, uint32_t n, pthread_t *th)
{
	rd->fd = connect_port(pcap_server_port(s), 4096);
	rd->cap = 24 + (size_t)n * (16 + rd->caplen);
	rd->buf = malloc(rd->cap);
	CHECK(wait_clients(s, 1));
	pthread_create(th, NULL, reader_thread, rd);
}

/* Waits (at most 30 s) until the reader got want bytes, then closes it and joins its thread. */
static void reader_stop(struct reader *rd, pthread_t th, uint64_t want)
{
	for (int t = 0; t < 3000 && __atomic_load_n(&rd->bytes, __ATOMIC_ACQUIRE) < want; t++)
		usleep(10000);
	shutdown(rd->fd, SHUT_RDWR);
	pthread_join(th, NULL);
	close(rd->fd);
}

/* Encodes records seq..seq+k-1 of caplen bytes into recs (one after the other) and points
 * iov at them, one each; returns their length in all. */
static size_t batch_fill(uint8_t *recs, struct iovec *iov, uint32_t k, uint32_t seq,
			 uint32_t caplen)
{
	for (uint32_t i = 0; i < k; i++) {
		struct pano_rec r;
		uint8_t *p = recs + (size_t)i * (16 + caplen);
		mkrec(&r, p + 16, seq + i, caplen);
		pcap_encode_record(p, r.ts_ns, r.caplen, r.len, 0);
		iov[i].iov_base = p;
		iov[i].iov_len = 16 + caplen;
	}
	return (size_t)k * (16 + caplen);
}

/*
 * Records handed over as iovecs, PCAP_SERVER_IOV_MAX at a time, to a plain-TCP client that
 * reads slower than they come: the server sends straight from the iovecs and its socket takes
 * only part, often ending inside a record, so the rest goes through the queue. The stream must
 * stay whole and in order, and nothing may be dropped (the queue is large enough).
 */
static void test_server_iov_partial(void)
{
	struct pcap_server_opts o = {.snaplen = 1518, .queue_bytes = 64u << 20};
	struct pcap_server *s = pcap_server_start("127.0.0.1:0", &o);
	struct reader rd = {.caplen = 300, .delay_us = 200, .chunk = 3000};
	const uint32_t batches = 12, n = batches * PCAP_SERVER_IOV_MAX;
	struct iovec *iov = calloc(PCAP_SERVER_IOV_MAX, sizeof(*iov));
	uint8_t *recs = malloc((size_t)PCAP_SERVER_IOV_MAX * (16 + rd.caplen));
	pthread_t th;

	CHECK(s != NULL);
	if (!s || !iov || !recs)
		goto out;
	reader_start(s, &rd, n, &th);
	for (uint32_t b = 0; b < batches; b++) {
		size_t len =
		    batch_fill(recs, iov, PCAP_SERVER_IOV_MAX, b * PCAP_SERVER_IOV_MAX, rd.caplen);
		pcap_server_write_iov(s, iov, PCAP_SERVER_IOV_MAX, len);
		pcap_server_kick(s);
		/* the iovecs' memory is reused at once: the server must not read it later */
		memset(recs, 0xa5, (size_t)PCAP_SERVER_IOV_MAX * (16 + rd.caplen));
	}
	reader_stop(&rd, th, rd.cap);
	CHECK_EQ_INT(rd.len, rd.cap);
	CHECK(stream_ok(&rd, n));
	struct out_stats st;
	out_stats_read(pcap_server_stats(s), &st);
	CHECK_EQ_INT(st.sent_records, n);
	CHECK_EQ_INT(st.drop_records, 0);
	free(rd.buf);
out:
	free(iov);
	free(recs);
	pcap_server_stop(s);
}

/* Parses a stream with records dropped: the global header, then whole records whose seq (the
 * microseconds of their time stamp, see mkrec) only grows. The number of records, or -1. */
static long stream_ok_gaps(const struct reader *rd)
{
	uint8_t g[24];
	size_t off = 24;
	long nrec = 0, last = -1;

	pcap_encode_global(g, 1518, 0);
	if (rd->len < 24 || memcmp(rd->buf, g, 24) != 0)
		return -1;
	while (off < rd->len) {
		struct pcap_rec_header_s h;
		if (off + 16 > rd->len)
			return -1;
		memcpy(&h, rd->buf + off, 16);
		if ((long)h.ts_frac <= last || h.caplen != rd->caplen || h.len != rd->caplen + 10 ||
		    off + 16 + h.caplen > rd->len ||
		    !frame_ok(rd->buf + off + 16, h.ts_frac, h.caplen))
			return -1;
		last = h.ts_frac;
		off += 16 + h.caplen;
		nrec++;
	}
	return nrec;
}

/*
 * The smallest client queue (one largest record) leaves the server a 24-byte piece to gather
 * into, so records cross many pieces, and a batch is larger than the queue. The reader starts only
 * after the producer is done: the socket fills in the middle of a piece, the rest goes through the
 * queue, and when the queue is full whole records are dropped. Whatever arrives must be whole
 * records in order, as many as were counted sent, and sent + dropped must be all of them.
 */
static void test_server_small_queue(void)
{
	struct pcap_server_opts o = {.snaplen = 1518, .queue_bytes = 1, .stall_ms = 60000};
	struct pcap_server *s = pcap_server_start("127.0.0.1:0", &o);
	struct reader rd = {.caplen = 300, .hold = 1};
	enum { BATCH = 64, BATCHES = 750 }; /* 15 MB: more than the sockets' buffers hold */
	struct iovec iov[BATCH];
	uint8_t recs[BATCH][16 + 300];
	const uint32_t n = BATCH * BATCHES;
	pthread_t th;
	struct out_stats st;

	CHECK(s != NULL);
	if (!s)
		return;
	reader_start(s, &rd, n, &th);
	for (uint32_t b = 0; b < BATCHES; b++) {
		size_t len = batch_fill(recs[0], iov, BATCH, b * BATCH, rd.caplen);
		pcap_server_write_iov(s, iov, BATCH, len);
		pcap_server_kick(s);
		memset(recs, 0xa5, sizeof(recs)); /* the server must not read the iovecs later */
	}
	out_stats_read(pcap_server_stats(s), &st);
	__atomic_store_n(&rd.hold, 0, __ATOMIC_RELEASE);
	reader_stop(&rd, th, 24 + st.sent_records * (16 + rd.caplen));
	CHECK_EQ_INT(stream_ok_gaps(&rd), st.sent_records);
	CHECK_EQ_INT(st.sent_records + st.drop_records, n);
	CHECK(st.drop_records > 0); /* the queue did fill: the partial-piece path ran */
	free(rd.buf);
	pcap_server_stop(s);
}

static int fake_bpf(void *ctx, uint64_t *out)
{
	for (int i = 0; i < PANO_STAT_MAX; i++)
		out[i] = 1000 + i;
	return 0;
}

static uint64_t fake_bad(void *ctx)
{
	return 3;
}

/* promtool's verdict on a metrics text; 1 when it is valid. */
static int promtool_ok(const struct wbuf *b)
{
	char path[256], cmd[400];

	if (system("command -v promtool >/dev/null 2>&1") != 0)
		return 1; /* install-deps installs it; the integration test requires it */
	snprintf(path, sizeof(path), "%s/metrics.txt", tmpdir);
	FILE *f = fopen(path, "w");
	if (!f)
		return 0;
	fwrite(b->p, 1, b->len, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s", path);
	return system(cmd) == 0;
}

static void test_server_slow_client(void)
{
	struct pcap_server_opts o = {.snaplen = 1518, .queue_bytes = 64 << 10, .stall_ms = 200};
	struct pcap_server *s = pcap_server_start("127.0.0.1:0", &o);
	struct reader fast = {0};
	pthread_t th;
	struct pano_rec r;
	uint8_t frame[1100];
	const uint32_t caplen = 1000;
	uint32_t n = 0, max = 400000;
	int saw_drop_metric = 0;
	struct wbuf b = WBUF_INIT(HTTPD_BODY_MAX);

	CHECK(s != NULL);
	if (!s)
		return;
	fast.fd = connect_port(pcap_server_port(s), 0);
	fast.caplen = caplen;
	fast.cap = 24 + (size_t)max * (16 + caplen);
	fast.buf = malloc(fast.cap);
	CHECK(wait_clients(s, 1));
	int slow = connect_port(pcap_server_port(s), 4096); /* never reads */
	struct sockaddr_in me;
	socklen_t ml = sizeof(me);
	char slow_label[128];
	getsockname(slow, (struct sockaddr *)&me, &ml);
	snprintf(slow_label, sizeof(slow_label),
		 "pano_agent_pcap_client_dropped_records_total{client=\"127.0.0.1:%d\"} ",
		 ntohs(me.sin_port));
	CHECK(wait_clients(s, 2));
	pthread_create(&th, NULL, reader_thread, &fast);

	/* Produce until the slow client is dropped; never wait on it. The fast client is given
	 * time to keep up, so it must never lose a record. */
	while (n < max && pcap_server_clients(s) == 2) {
		for (int k = 0; k < 16; k++, n++) {
			mkrec(&r, frame, n, caplen);
			pcap_server_write(s, &r, frame);
		}
		pcap_server_kick(s);
		for (int t = 0; t < 5000 && __atomic_load_n(&fast.bytes, __ATOMIC_ACQUIRE) <
						24 + (uint64_t)n * (16 + caplen);
		     t++)
			usleep(100);
		if (!saw_drop_metric && n % 256 == 0) {
			wbuf_reset(&b);
			pcap_server_metrics(s, &b);
			const char *l = b.p ? strstr(b.p, slow_label) : NULL;
			saw_drop_metric = l && strtoull(l + strlen(slow_label), NULL, 10) > 0;
		}
	}
	CHECK(saw_drop_metric);
	CHECK(n < max); /* the slow client was disconnected */
	CHECK_EQ_INT(pcap_server_clients(s), 1);
	struct out_stats st;
	out_stats_read(pcap_server_stats(s), &st);
	CHECK(st.drop_records > 0);
	/* The slow client sees the end of its stream once it drains what reached its socket. */
	uint8_t junk[65536];
	ssize_t got;
	uint64_t slow_bytes = 0;
	while ((got = recv(slow, junk, sizeof(junk), 0)) > 0)
		slow_bytes += got;
	CHECK(slow_bytes >= 24);
	CHECK(slow_bytes < 24 + (uint64_t)n * (16 + caplen));
	close(slow);

	/* The fast client got every record. */
	for (int t = 0; t < 1000 && fast.bytes < 24 + (uint64_t)n * (16 + caplen); t++)
		usleep(10000);
	wbuf_reset(&b);
	pcap_server_metrics(s, &b);
	CHECK(b.p && strstr(b.p, "pano_agent_pcap_clients 1\n"));
	CHECK(promtool_ok(&b));
	shutdown(fast.fd, SHUT_RDWR);
	pthread_join(th, NULL);
	close(fast.fd);
	fast.cap = fast.len;
	CHECK_EQ_INT(fast.len, 24 + (uint64_t)n * (16 + caplen));
	CHECK(stream_ok(&fast, n));
	free(fast.buf);
	wbuf_free(&b);
	pcap_server_stop(s);
}

static void test_metrics(void)
{
	char path[256], lb[128];
	struct wbuf b = WBUF_INIT(HTTPD_BODY_MAX);
	struct pano_rec r;
	uint8_t frame[100];

	snprintf(path, sizeof(path), "%s/m.pcap", tmpdir);
	struct out_file_opts fo = {.snaplen = 1518};
	struct out_file *f = out_file_open(path, &fo);
	struct pcap_server_opts so = {.snaplen = 1518};
	struct pcap_server *s = pcap_server_start("127.0.0.1:0", &so);
	CHECK(f && s);
	if (!f || !s)
		return;
	for (uint32_t i = 0; i < 3; i++) {
		mkrec(&r, frame, i, 50);
		out_file_write(f, &r, frame, NULL);
	}
	int c = connect_port(pcap_server_port(s), 0);
	CHECK(wait_clients(s, 1));
	struct agent_metrics m = {
	    .read_bpf = fake_bpf, .bad_records = fake_bad, .file = f, .srv = s};
	CHECK_EQ_INT(agent_metrics_render(&m, "", &b), 200);
	CHECK(b.p != NULL);
	if (b.p) {
		CHECK(strstr(b.p, "# TYPE pano_agent_bpf_packets_seen_total counter\n"));
		CHECK(strstr(b.p, "\npano_agent_bpf_packets_seen_total 1000\n"));
		CHECK(strstr(b.p, "\npano_agent_bpf_ring_full_drops_total 1004\n"));
		CHECK(strstr(b.p, "\npano_agent_bad_ring_records_total 3\n"));
		CHECK(strstr(b.p, "pano_agent_output_sent_records_total{output=\"file\"} 3\n"));
		CHECK(strstr(b.p, "pano_agent_output_sent_bytes_total{output=\"file\"} 198\n"));
		CHECK(strstr(b.p, "pano_agent_pcap_client_sent_records_total{client=\"127.0.0.1:"));
		CHECK(strstr(b.p, "pano_agent_pcap_clients 1\n"));
		CHECK(strstr(b.p, "pano_agent_file_rotations_total{kind=\"event\"}"));
		/* every family has its HELP and TYPE once */
		CHECK(strstr(b.p, "# HELP pano_agent_output_dropped_records_total ") ==
		      strstr(b.p, "# HELP pano_agent_output_dropped_records_total"));
	}
	CHECK(promtool_ok(&b));
	wbuf_free(&b);
	close(c);
	pcap_server_stop(s);
	out_file_close(f);

	/* label escaping and help escaping */
	prom_labels(lb, sizeof(lb), "a", "x\"y\\z\nw", "b", "", NULL);
	CHECK_EQ_STR(lb, "{a=\"x\\\"y\\\\z\\nw\",b=\"\"}");
	prom_labels(lb, 8, "iface", "toolongvalue", NULL);
	CHECK_EQ_STR(lb, "");
	prom_one(&b, "pano_x", PROM_GAUGE, "a\\b\nc", NULL, 5);
	CHECK_EQ_STR(b.p, "# HELP pano_x a\\\\b\\nc\n# TYPE pano_x gauge\npano_x 5\n");
	wbuf_free(&b);
}

/* GETs path from 127.0.0.1:port; returns the whole response (headers and body) in out. */
static int http_get(int port, const char *path, char *out, size_t n)
{
	char req[256];
	size_t len = 0;
	int fd = connect_port(port, 0);

	if (fd < 0)
		return -1;
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: x\r\n\r\n", path);
	if (send(fd, req, strlen(req), 0) < 0) {
		close(fd);
		return -1;
	}
	ssize_t r;
	while (len + 1 < n && (r = recv(fd, out + len, n - 1 - len, 0)) > 0)
		len += r;
	out[len] = 0;
	close(fd);
	return 0;
}

static int api_cb(void *ctx, const char *query, struct wbuf *out)
{
	wbuf_printf(out, "{\"q\":\"%s\"}\n", query);
	return 200;
}

static int metrics_cb(void *ctx, const char *query, struct wbuf *out)
{
	prom_one(out, "pano_test_thing", PROM_COUNTER, "a thing", NULL, 42);
	return 200;
}

#define BIG_CHUNK (1u << 20)

/* Writes 1 MiB lines ("000...0i\n") until the body passes HTTPD_BODY_MAX. */
static int big_cb(void *ctx, const char *query, struct wbuf *out)
{
	for (unsigned i = 0; i <= HTTPD_BODY_MAX / BIG_CHUNK; i++)
		wbuf_printf(out, "%0*u\n", (int)BIG_CHUNK - 1, i);
	return 200;
}

/* A response that reached its cap is still sent with the callback's status: the lines that
 * fit, whole, and the cut is counted. */
static void test_httpd_cut(void)
{
	const size_t want = (HTTPD_BODY_MAX - 1) / BIG_CHUNK * BIG_CHUNK;
	size_t n = HTTPD_BODY_MAX + 65536;
	char *resp = malloc(n);
	struct pano_counter *cut = counter_find("httpd_response_too_large");
	struct httpd *h = httpd_start("127.0.0.1:0", NULL, NULL);

	CHECK(resp && cut && h);
	if (!resp || !cut || !h) {
		free(resp);
		httpd_stop(h);
		return;
	}
	uint64_t c0 = counter_get(cut);
	CHECK_EQ_INT(httpd_route(h, "/big", "text/plain", big_cb, NULL), 0);
	CHECK_EQ_INT(http_get(httpd_port(h), "/big", resp, n), 0);
	char *body = strstr(resp, "\r\n\r\n"), cl[64];
	snprintf(cl, sizeof(cl), "\r\nContent-Length: %zu\r\n", want);
	CHECK(strncmp(resp, "HTTP/1.", 7) == 0 && strncmp(resp + 8, " 200 OK\r\n", 9) == 0);
	CHECK(body && strstr(resp, cl) && strstr(resp, cl) < body);
	if (body) {
		body += 4;
		CHECK_EQ_INT(strlen(body), want);
		CHECK(strspn(body, "0") == BIG_CHUNK - 1 && body[BIG_CHUNK - 1] == '\n');
		unsigned last = (unsigned)(want / BIG_CHUNK) - 1;
		char tail[16];
		snprintf(tail, sizeof(tail), "0%u\n", last);
		CHECK(strlen(body) >= strlen(tail) &&
		      strcmp(body + strlen(body) - strlen(tail), tail) == 0);
	}
	CHECK_EQ_INT(counter_get(cut), c0 + 1);
	/* the server goes on */
	CHECK_EQ_INT(http_get(httpd_port(h), "/healthz", resp, n), 0);
	CHECK(strstr(resp, "200 OK") && strstr(resp, "\r\n\r\nok\n"));
	CHECK_EQ_INT(counter_get(cut), c0 + 1);
	httpd_stop(h);
	free(resp);
}

static void test_httpd(void)
{
	static char resp[65536];
	struct sockaddr_storage ss;
	socklen_t sl;

	CHECK_EQ_INT(httpd_parse_addr("9100", "127.0.0.1", &ss, &sl), 0);
	CHECK_EQ_INT(ss.ss_family, AF_INET);
	CHECK_EQ_INT(ntohs(((struct sockaddr_in *)&ss)->sin_port), 9100);
	CHECK_EQ_INT(httpd_parse_addr("[::1]:57012", "127.0.0.1", &ss, &sl), 0);
	CHECK_EQ_INT(ss.ss_family, AF_INET6);
	CHECK_EQ_INT(httpd_parse_addr(":80", "127.0.0.1", &ss, &sl), 0);
	CHECK_EQ_INT(httpd_parse_addr("1.2.3.4:99999", "127.0.0.1", &ss, &sl), -EINVAL);
	CHECK_EQ_INT(httpd_parse_addr("host:", "127.0.0.1", &ss, &sl), -EINVAL);

	struct httpd *h = httpd_start("127.0.0.1:0", metrics_cb, NULL);
	CHECK(h != NULL);
	if (!h)
		return;
	CHECK(httpd_port(h) > 0);
	CHECK_EQ_INT(httpd_route(h, "/api/v1/x", "application/json", api_cb, NULL), 0);
	CHECK_EQ_INT(http_get(httpd_port(h), "/metrics", resp, sizeof(resp)), 0);
	CHECK(strstr(resp, "200 OK") && strstr(resp, "version=0.0.4") &&
	      strstr(resp, "\r\n\r\n# HELP pano_test_thing_total a thing\n"));
	CHECK_EQ_INT(http_get(httpd_port(h), "/healthz", resp, sizeof(resp)), 0);
	CHECK(strstr(resp, "200 OK") && strstr(resp, "\r\n\r\nok\n"));
	CHECK_EQ_INT(http_get(httpd_port(h), "/api/v1/x?a=1&b=two", resp, sizeof(resp)), 0);
	CHECK(strstr(resp, "application/json") && strstr(resp, "{\"q\":\"a=1&b=two\"}"));
	CHECK_EQ_INT(http_get(httpd_port(h), "/nope", resp, sizeof(resp)), 0);
	CHECK(strstr(resp, " 404 "));
	httpd_stop(h);
}

int main(void)
{
	log_init("test_agent_out", 0);
	if (!mkdtemp(tmpdir)) {
		printf("FAIL setup: mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	TEST_CASE("agent_pcap_headers", test_headers);
	TEST_CASE("agent_file_plain", test_file_plain);
	TEST_CASE("agent_file_classic_bytes", test_file_classic_bytes);
	TEST_CASE("agent_file_rotate_size", test_rotate_size);
	TEST_CASE("agent_file_rotate_seconds", test_rotate_seconds);
	TEST_CASE("agent_server_two_clients", test_server_two_clients);
	TEST_CASE("agent_server_slow_client", test_server_slow_client);
	TEST_CASE("agent_server_iov_partial", test_server_iov_partial);
	TEST_CASE("agent_server_small_queue", test_server_small_queue);
	TEST_CASE("agent_metrics_text", test_metrics);
	TEST_CASE("agent_httpd", test_httpd);
	TEST_CASE("agent_httpd_cut", test_httpd_cut);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		printf("  could not remove %s\n", tmpdir);
	TEST_EXIT();
}
