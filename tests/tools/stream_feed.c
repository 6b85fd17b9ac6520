// SPDX-License-Identifier: Apache-2.0
/*
 * stream_feed.c - feeds pano-analyzer a transport stream from memory, so that its cost per frame
 * can be measured without an agent beside it (scripts/bench-transport.sh, "analyzer alone"):
 *
 *   stream_feed proto HOST:PORT FRAMES [RATE]   connects to pano-analyzer --listen and sends the
 *                                        protobuf stream: preamble, hello, then batches encoded
 *                                        the way pano-agent encodes them (lib/stream.c)
 *   stream_feed pcap PORT FRAMES [RATE]         listens on 127.0.0.1:PORT for one PCAP-over-TCP
 * client (pano-analyzer --pcap-connect) and sends it the pcap stream: global header, then records
 *
 * Both carry the same FRAMES frames: the 74-byte UDP datagram of the transport benchmark (a
 * DNS-sized query to port 9999, valid checksums), time stamps 10 us apart. The whole stream is
 * built before the connection and sent in 64 KiB writes, paced to RATE frames per second
 * (default 500000, below what the analyzer decodes, so that neither stream waits in socket
 * buffers and the analyzer reads bytes as fresh in either mode; 0: unpaced). Prints
 * "sent FRAMES frames BYTES bytes" and exits 0; 1 on a socket error, 2 on bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "output.h"
#include "pano_stream.pb-c.h"
#include "stream.h"

#define FEED_BATCH   2048 /* packets per batch envelope (a ring round's worth) */
#define FEED_WRITE   (64u << 10)
#define FEED_IFINDEX 2
#define FEED_FRAME   74
#define FEED_STEP_NS 10000ull

static uint16_t csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint32_t csum_add(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

/* Ethernet, IPv4 198.18.0.1 -> 198.18.0.2, UDP 40000 -> 9999, the benchmark's 32-byte query. */
static void make_frame(uint8_t f[FEED_FRAME])
{
	static const uint8_t q[] = {0xab, 0xcd, 1,   0,	  0,   1,   0,	 0, 0,	 0,   0,
				    0,	  5,	'b', 'e', 'n', 'c', 'h', 4, 'p', 'a', 'n',
				    'o',  4,	't', 'e', 's', 't', 0,	 0, 1,	 0,   1};
	uint8_t *ip = f + 14, *udp = ip + 20;
	uint16_t ulen = (uint16_t)(8 + sizeof(q) - 1);

	memset(f, 0, FEED_FRAME);
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00", 14);
	ip[0] = 0x45;
	ip[2] = (uint8_t)((20 + ulen) >> 8), ip[3] = (uint8_t)(20 + ulen);
	ip[6] = 0x40; /* DF */
	ip[8] = 64, ip[9] = IPPROTO_UDP;
	memcpy(ip + 12, "\xc6\x12\x00\x01\xc6\x12\x00\x02", 8);
	uint16_t s = csum_fold(csum_add(0, ip, 20));
	ip[10] = (uint8_t)(s >> 8), ip[11] = (uint8_t)s;
	udp[0] = 40000 >> 8, udp[1] = 40000 & 0xff, udp[2] = 9999 >> 8, udp[3] = 9999 & 0xff;
	udp[4] = (uint8_t)(ulen >> 8), udp[5] = (uint8_t)ulen;
	memcpy(udp + 8, q, sizeof(q) - 1);
	uint32_t ps = csum_add(0, ip + 12, 8) + IPPROTO_UDP + ulen;
	s = csum_fold(csum_add(ps, udp, ulen));
	udp[6] = (uint8_t)(s >> 8), udp[7] = (uint8_t)s;
}

static uint64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The protobuf stream, as pano-agent sends it; its length. */
static size_t build_proto(uint8_t *out, unsigned frames, const uint8_t *frame)
{
	Pano__V1__Hello h = PANO__V1__HELLO__INIT;
	Pano__V1__Envelope env = PANO__V1__ENVELOPE__INIT;
	Pano__V1__Interface ifc = PANO__V1__INTERFACE__INIT, *ifs[1] = {&ifc};
	size_t n = STREAM_PREAMBLE_LEN;
	uint64_t ts = wall_ns(), seq = 0;

	stream_preamble(out, STREAM_VERSION_MAJOR, STREAM_VERSION_MINOR);
	ifc.ifindex = FEED_IFINDEX;
	ifc.name = (char *)"feed0";
	ifc.link_type = 1;
	h.stream_version = STREAM_VERSION_MAJOR;
	h.agent_version = (char *)"stream_feed";
	h.node = (char *)"feed";
	h.n_interfaces = 1;
	h.interfaces = ifs;
	h.session = 1;
	env.msg_case = PANO__V1__ENVELOPE__MSG_HELLO;
	env.hello = &h;
	n += stream_envelope_pack(&env, out + n);
	for (unsigned i = 0; i < frames;) {
		uint8_t *body = out + n + STREAM_BATCH_OVERHEAD, *start;
		size_t used = 0;
		for (unsigned k = 0; k < FEED_BATCH && i < frames; k++, i++) {
			struct stream_pkt pk = {.ts_ns = ts += FEED_STEP_NS,
						.ifindex = FEED_IFINDEX,
						.direction = PANO__V1__DIRECTION__DIRECTION_OUT,
						.orig_len = FEED_FRAME,
						.frame_len = FEED_FRAME,
						.frame = frame};
			used += stream_pkt_encode(body + used, &pk);
		}
		size_t len = stream_batch_frame(body, used, ++seq, 0, &start);
		memmove(out + n, start, len);
		n += len;
	}
	return n;
}

/* The pcap stream (microsecond records, LINKTYPE_ETHERNET), with the agent's own header
 * encoders (agent/out_pcap.c); its length. */
static size_t build_pcap(uint8_t *out, unsigned frames, const uint8_t *frame)
{
	uint64_t ts = wall_ns();
	size_t n = PCAP_GHDR_LEN;

	pcap_encode_global(out, 65535, 0);
	for (unsigned i = 0; i < frames; i++, n += PCAP_RHDR_LEN + FEED_FRAME) {
		pcap_encode_record(out + n, ts += FEED_STEP_NS, FEED_FRAME, FEED_FRAME, 0);
		memcpy(out + n + PCAP_RHDR_LEN, frame, FEED_FRAME);
	}
	return n;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Sends n bytes of a stream of frames frames, at rate frames per second (0: at once). */
static int send_all(int fd, const uint8_t *p, size_t n, long frames, long rate)
{
	uint64_t t0 = mono_ns();
	for (size_t off = 0; off < n;) {
		size_t chunk = n - off < FEED_WRITE ? n - off : FEED_WRITE;
		ssize_t w = write(fd, p + off, chunk);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "stream_feed: write: %s\n", strerror(errno));
			return -1;
		}
		off += (size_t)w;
		if (rate > 0) { /* the time the bytes sent so far are due at, as frames */
			uint64_t due = t0 + (uint64_t)((double)off / (double)n * (double)frames /
						       (double)rate * 1e9);
			uint64_t now = mono_ns();
			if (due > now) {
				struct timespec d = {
				    .tv_sec = (time_t)((due - now) / 1000000000ull),
				    .tv_nsec = (long)((due - now) % 1000000000ull)};
				nanosleep(&d, NULL);
			}
		}
	}
	return 0;
}

static int connect_to(const char *hostport)
{
	char host[256];
	const char *colon = strrchr(hostport, ':');
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
	int fd, rc;

	if (!colon || (size_t)(colon - hostport) >= sizeof(host)) {
		fprintf(stderr, "stream_feed: want HOST:PORT, got %s\n", hostport);
		return -1;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - hostport), hostport);
	if ((rc = getaddrinfo(host, colon + 1, &hints, &res))) {
		fprintf(stderr, "stream_feed: getaddrinfo %s: %s\n", hostport, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
		fprintf(stderr, "stream_feed: connect %s: %s\n", hostport, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static int accept_one(const char *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int one = 1, lfd, fd;

	a.sin_port = htons((uint16_t)atoi(port));
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 1) < 0) {
		fprintf(stderr, "stream_feed: listen 127.0.0.1:%s: %s\n", port, strerror(errno));
		return -1;
	}
	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		fprintf(stderr, "stream_feed: accept: %s\n", strerror(errno));
	close(lfd);
	return fd;
}

int main(int argc, char **argv)
{
	uint8_t frame[FEED_FRAME];
	long frames = argc >= 4 ? strtol(argv[3], NULL, 10) : 0;
	long rate = argc == 5 ? strtol(argv[4], NULL, 10) : 500000;
	int proto = argc >= 4 && !strcmp(argv[1], "proto");

	if (argc < 4 || argc > 5 || (!proto && strcmp(argv[1], "pcap")) || frames <= 0 ||
	    frames > 50000000 || rate < 0) {
		fprintf(stderr,
			"usage: stream_feed proto HOST:PORT FRAMES [RATE] | stream_feed pcap "
			"PORT FRAMES [RATE]\n");
		return 2;
	}
	make_frame(frame);
	size_t cap = (size_t)frames * (16 + FEED_FRAME + STREAM_PKT_OVERHEAD) + (1u << 20);
	uint8_t *buf = malloc(cap);
	if (!buf) {
		fprintf(stderr, "stream_feed: malloc %zu: %s\n", cap, strerror(errno));
		return 1;
	}
	size_t n = proto ? build_proto(buf, (unsigned)frames, frame)
			 : build_pcap(buf, (unsigned)frames, frame);
	int fd = proto ? connect_to(argv[2]) : accept_one(argv[2]);
	if (fd < 0 || send_all(fd, buf, n, frames, rate)) {
		free(buf);
		return 1;
	}
	close(fd);
	free(buf);
	printf("sent %ld frames %zu bytes\n", frames, n);
	return 0;
}
