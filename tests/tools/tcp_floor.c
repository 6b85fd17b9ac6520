// SPDX-License-Identifier: Apache-2.0
/*
 * tcp_floor.c - what carrying PCAP-over-TCP records costs on this host with no capture at all:
 * the floor under the agent's CPU per packet in bench-agent, as the cipher alone is the floor
 * under TLS in bench-transport.
 *
 * A sender thread does what pano-agent's PCAP-over-TCP path does with a batch of records: it
 * gathers records of --record-bytes bytes, spaced in memory as ring samples are, into a
 * --piece-byte buffer and writes each piece with one send() on a loopback TCP connection. A
 * reader thread drains the connection into a 256 KiB buffer, as tests/tools/pcap_loop does.
 * With --rate, the records go in bursts every 50 ms (as the agent's ring reader wakes at full
 * load) at that many records a second; by default as fast as the reader takes them.
 * Each thread's CPU time (CLOCK_THREAD_CPUTIME_ID; the loopback receive path runs in the
 * sender's softirq and is charged to it, as it is to the agent) is printed per million records:
 *
 *   tcp_floor records=N record_bytes=B piece=P rate=R sender_cpu_s_per_Mrec=X
 * reader_cpu_s_per_Mrec=Y
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "output.h" /* PCAP_SERVER_BATCH_LEN: pano-agent's piece, the default here */

#define FLOOR_SPACING  128u	  /* bytes between record starts: ring header, metadata, frame */
#define FLOOR_AREA     (8u << 20) /* records are taken from an area this large, like the ring */
#define FLOOR_BURST_MS 50u

/* Sleeps until t0 + ms milliseconds (CLOCK_MONOTONIC). */
static void sleep_until(const struct timespec *t0, unsigned long long ms)
{
	struct timespec t = *t0;
	unsigned long long ns = (unsigned long long)t.tv_nsec + ms * 1000000ull;

	t.tv_sec += (time_t)(ns / 1000000000ull);
	t.tv_nsec = (long)(ns % 1000000000ull);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
		;
}

static double thread_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct reader {
	int fd;
	double cpu_s;
	unsigned long long bytes;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	static char buf[256 << 10];
	double t0 = thread_cpu_s();
	ssize_t n;

	while ((n = read(r->fd, buf, sizeof(buf))) > 0)
		r->bytes += (unsigned long long)n;
	if (n < 0)
		fprintf(stderr, "tcp_floor: read: %s\n", strerror(errno));
	r->cpu_s = thread_cpu_s() - t0;
	return NULL;
}

/* A connected loopback pair: *snd and *rcv. 0, or -1 with the failing call named. */
static int connect_pair(int *snd, int *rcv)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (l < 0) {
		fprintf(stderr, "tcp_floor: socket: %s\n", strerror(errno));
		return -1;
	}
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &al)) {
		fprintf(stderr, "tcp_floor: bind/listen on 127.0.0.1: %s\n", strerror(errno));
		close(l);
		return -1;
	}
	*snd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*snd < 0 || connect(*snd, (struct sockaddr *)&a, sizeof(a))) {
		fprintf(stderr, "tcp_floor: connect: %s\n", strerror(errno));
		close(l);
		return -1;
	}
	*rcv = accept(l, NULL, NULL);
	close(l);
	if (*rcv < 0) {
		fprintf(stderr, "tcp_floor: accept: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* Writes all n bytes of p; 0, or -1 with errno. */
static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tcp_floor [--records N] [--record-bytes B] [--piece BYTES] [--rate R]\n"
		"  the CPU per million records of gathering B-byte records into pieces and\n"
		"  sending them over loopback TCP (defaults: 2000000 records of 90 bytes, 1 MiB\n"
		"  pieces as pano-agent's, as fast as possible; --rate: R records a second, in\n"
		"  50 ms bursts)\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"records", required_argument, NULL, 'n'},
					     {"record-bytes", required_argument, NULL, 'b'},
					     {"piece", required_argument, NULL, 'p'},
					     {"rate", required_argument, NULL, 'r'},
					     {"help", no_argument, NULL, 'h'},
					     {"version", no_argument, NULL, 'V'},
					     {NULL, 0, NULL, 0}};
	unsigned long records = 2000000, rec = 90, piece_len = PCAP_SERVER_BATCH_LEN, rate = 0;
	int c, snd, rcv;

	while ((c = getopt_long(argc, argv, "n:b:p:r:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			records = strtoul(optarg, NULL, 0);
			break;
		case 'b':
			rec = strtoul(optarg, NULL, 0);
			break;
		case 'p':
			piece_len = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			rate = strtoul(optarg, NULL, 0);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("tcp_floor %s\n", PANO_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!records || rec < 16 || rec > FLOOR_SPACING || piece_len < rec ||
	    piece_len > (64u << 20)) {
		fprintf(stderr,
			"tcp_floor: want records > 0, 16 <= record-bytes <= %u and "
			"record-bytes <= piece <= 64M\n",
			FLOOR_SPACING);
		return 2;
	}
	char *area = malloc(FLOOR_AREA), *piece = malloc(piece_len);
	if (!area || !piece) {
		fprintf(stderr, "tcp_floor: malloc: %s\n", strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < FLOOR_AREA; i++)
		area[i] = (char)(i * 131);
	if (connect_pair(&snd, &rcv))
		return 1;

	struct reader r = {.fd = rcv};
	pthread_t th;
	int err = pthread_create(&th, NULL, reader_main, &r);
	if (err) {
		fprintf(stderr, "tcp_floor: pthread_create: %s\n", strerror(err));
		return 1;
	}
	unsigned long burst = rate ? rate * FLOOR_BURST_MS / 1000 + 1 : records;
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	double t0 = thread_cpu_s();
	size_t off = 0, fill = 0;
	int failed = 0;
	for (unsigned long i = 0; i < records && !failed; i++) {
		int burst_end = i && i % burst == 0; /* what it gathered goes, then a pause */
		if (fill && (burst_end || fill + rec > piece_len)) {
			failed = send_all(snd, piece, fill);
			fill = 0;
		}
		if (burst_end)
			sleep_until(&start, (unsigned long long)(i / burst) * FLOOR_BURST_MS);
		memcpy(piece + fill, area + off, rec);
		fill += rec;
		off += FLOOR_SPACING;
		if (off + FLOOR_SPACING > FLOOR_AREA)
			off = 0;
	}
	if (!failed && fill)
		failed = send_all(snd, piece, fill);
	if (failed)
		fprintf(stderr, "tcp_floor: send: %s\n", strerror(errno));
	double sender_s = thread_cpu_s() - t0;
	shutdown(snd, SHUT_WR);
	pthread_join(th, NULL);
	close(snd);
	close(rcv);
	if (r.bytes != (unsigned long long)records * rec) {
		fprintf(stderr, "tcp_floor: the reader got %llu bytes of %llu\n", r.bytes,
			(unsigned long long)records * rec);
		return 1;
	}
	printf(
	    "tcp_floor records=%lu record_bytes=%lu piece=%lu rate=%lu sender_cpu_s_per_Mrec=%.4f "
	    "reader_cpu_s_per_Mrec=%.4f\n",
	    records, rec, piece_len, rate, sender_s * 1e6 / (double)records,
	    r.cpu_s * 1e6 / (double)records);
	free(area);
	free(piece);
	return 0;
}
