// SPDX-License-Identifier: Apache-2.0
/*
 * test_bpf_tcp_head.c - the TCP head limit of the capture programs (bpf/tcphead.bpf.h), run
 * with bpf_prog_test_run_opts on crafted TCP segments: a connection opened with a SYN, whose
 * segments are captured while their payload starts below the limit (below, straddling, at and
 * beyond it), the ACKs of the bulk left out with it, FIN, FIN and RST taking the connection out of
 * the table; a sequence space that wraps; a connection first seen mid-stream; a port captured
 * whole beside a head port; the larger limit of two ports; a new SYN on the same ends; a table
 * too small for its connections (over-capture, counted, never loss); limits changed at run
 * time; IPv6 and XDP. Every segment left out is counted as a head skip, so matched = captured
 * + head skipped throughout (dedup is off: each frame here is a packet of its own). Needs root.
 */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "capture_api.h" /* before the skeleton: it names struct pano_clock */
#include "bpf/capture.skel.h"
#include "check.h"
#include "log.h"
#include "wire.h"

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

#define CLI_PORT 40000
#define HEAD	 1000 /* the limit of port 443 in these tests */

/* One segment: who sends it (client to server or back), its numbers, flags and payload. */
struct seg {
	int v6;
	int from_srv;	       /* server (sport) to client, else client to server */
	uint16_t cport, sport; /* client and server ports */
	uint32_t seq, ack;
	uint8_t flags;
	size_t payload;
	int ip_len_zero; /* IPv4 total length 0, as a BIG TCP GSO packet has it */
};

/* Writes the segment's frame into out (>= 2048 bytes); returns its length. */
static size_t seg_frame(uint8_t *out, const struct seg *s)
{
	static const uint8_t cli4[4] = {198, 18, 0, 10}, srv4[4] = {198, 18, 0, 2};
	static const uint8_t cli6[16] = {0x20, 0x01, 0, 2, [15] = 0x10};
	static const uint8_t srv6[16] = {0x20, 0x01, 0, 2, [15] = 0x02};
	size_t l3 = 14, l4, i;

	memset(out, 0, 2048);
	memcpy(out, "\x02\0\0\0\0\x01\x02\0\0\0\0\x02", 12);
	put16(out + 12, s->v6 ? ETH_P_IPV6 : ETH_P_IP);
	if (s->v6) {
		out[l3] = 0x60;
		put16(out + l3 + 4, 20 + s->payload);
		out[l3 + 6] = 6; /* TCP */
		out[l3 + 7] = 64;
		memcpy(out + l3 + 8, s->from_srv ? srv6 : cli6, 16);
		memcpy(out + l3 + 24, s->from_srv ? cli6 : srv6, 16);
		l4 = l3 + 40;
	} else {
		out[l3] = 0x45;
		put16(out + l3 + 2, s->ip_len_zero ? 0 : 20 + 20 + s->payload);
		out[l3 + 8] = 64;
		out[l3 + 9] = 6;
		memcpy(out + l3 + 12, s->from_srv ? srv4 : cli4, 4);
		memcpy(out + l3 + 16, s->from_srv ? cli4 : srv4, 4);
		l4 = l3 + 20;
	}
	put16(out + l4, s->from_srv ? s->sport : s->cport);
	put16(out + l4 + 2, s->from_srv ? s->cport : s->sport);
	put32(out + l4 + 4, s->seq);
	put32(out + l4 + 8, s->ack);
	out[l4 + 12] = 5 << 4;
	out[l4 + 13] = s->flags;
	put16(out + l4 + 14, 65535);
	for (i = 0; i < s->payload; i++)
		out[l4 + 20 + i] = (uint8_t)(i * 13 + 1);
	return l4 + 20 + s->payload;
}

/* ---- running the programs ------------------------------------------------------------- */

enum prog { P_TC_IN, P_TC_OUT, P_XDP };

static struct capture *cap;
static uint8_t frame[2048];
static uint64_t st_before[PANO_STAT_MAX], st_now[PANO_STAT_MAX];

static void count_rec(void *ctx, const struct pano_rec *r, const uint8_t *f)
{
	(*(int *)ctx)++;
}

/* Takes every record out of c's rings; returns how many there were. */
static int ring_take(struct capture *c)
{
	int n = 0;

	while (capture_poll(c, 0, count_rec, &n) > 0)
		;
	return n;
}

static void mark(struct capture *c)
{
	ring_take(c);
	capture_read_stats(c, st_before);
}

/* How much counter k grew since mark. */
static long long grew(struct capture *c, int k)
{
	capture_read_stats(c, st_now);
	return (long long)(st_now[k] - st_before[k]);
}

/* Runs program p once on the segment's frame; returns 1 when a record came out, 0 when none,
 * -1 when the run failed. The client's segments go out (TC egress), the server's come in. */
static int run_on(struct capture *c, enum prog p, const struct seg *s, size_t *len_out)
{
	size_t len = seg_frame(frame, s);
	int fd = p == P_XDP ? bpf_program__fd(capture_skeleton(c)->progs.pano_xdp)
			    : capture_tc_prog_fd(c, p == P_TC_OUT);
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len, .repeat = 1);

	ring_take(c);
	if (len_out)
		*len_out = len;
	if (bpf_prog_test_run_opts(fd, &o))
		return -1;
	if (o.retval != (p == P_XDP ? XDP_PASS : TC_ACT_OK))
		return -1;
	return ring_take(c);
}

static int run(const struct seg *s)
{
	return run_on(cap, s->from_srv ? P_TC_IN : P_TC_OUT, s, NULL);
}

/* The accounting every case ends with: each matched segment was captured or skipped. */
static void check_sum(struct capture *c)
{
	CHECK_EQ_INT(grew(c, PANO_STAT_MATCHED),
		     grew(c, PANO_STAT_CAPTURED) + grew(c, PANO_STAT_HEAD_SKIPPED));
	CHECK_EQ_INT(grew(c, PANO_STAT_RING_FULL) + grew(c, PANO_STAT_COPY_ERR), 0);
}

/* A connection's state in the test: its ports and next sequence numbers. */
struct conn {
	int v6;
	uint16_t cport, sport;
	uint32_t cseq, sseq; /* next sequence number of client and server */
};

static struct seg conn_seg(const struct conn *k, int from_srv, uint8_t flags, size_t payload)
{
	return (struct seg){.v6 = k->v6,
			    .from_srv = from_srv,
			    .cport = k->cport,
			    .sport = k->sport,
			    .seq = from_srv ? k->sseq : k->cseq,
			    .ack = from_srv ? k->cseq : k->sseq,
			    .flags = flags,
			    .payload = payload};
}

/* Sends a segment of the connection and moves its sender's sequence number on. */
static int conn_send(struct conn *k, int from_srv, uint8_t flags, size_t payload)
{
	struct seg s = conn_seg(k, from_srv, flags, payload);
	uint32_t *next = from_srv ? &k->sseq : &k->cseq;

	*next += payload + !!(flags & (F_SYN | F_FIN));
	return run(&s);
}

/* SYN, SYN-ACK, ACK: each captured. */
static void conn_open(struct conn *k)
{
	CHECK_EQ_INT(conn_send(k, 0, F_SYN, 0), 1);
	CHECK_EQ_INT(conn_send(k, 1, F_SYN | F_ACK, 0), 1);
	CHECK_EQ_INT(conn_send(k, 0, F_ACK, 0), 1);
}

/* ---- cases ---------------------------------------------------------------------------- */

/*
 * The whole life of a connection on port 443 (limit 1000): handshake, the client's request
 * below the head, the server's answer below, straddling, at and past it, the ACKs of the bulk
 * left out, and the closing FINs captured, the second of them ending the table entry.
 */
static void t_connection(void)
{
	struct conn k = {.cport = CLI_PORT, .sport = 443, .cseq = 1000000, .sseq = 77777};
	size_t len;

	mark(cap);
	conn_open(&k);
	CHECK_EQ_INT(grew(cap, PANO_STAT_HEAD_CONNS), 1);
	CHECK_EQ_INT(conn_send(&k, 0, F_ACK | F_PSH, 300), 1); /* request: offset 0 */
	CHECK_EQ_INT(conn_send(&k, 1, F_ACK, 0), 1);	       /* its ACK */
	CHECK_EQ_INT(conn_send(&k, 1, F_ACK, 600), 1);	       /* server 0..599 */
	CHECK_EQ_INT(conn_send(&k, 1, F_ACK, 600), 1);	       /* 600..1199: straddles */
	CHECK_EQ_INT(conn_send(&k, 0, F_ACK, 0), 0);	       /* ACK of 1200 > head: out */
	CHECK_EQ_INT(grew(cap, PANO_STAT_HEAD_SKIPPED), 1);
	{
		struct seg s = conn_seg(&k, 1, F_ACK, 500); /* offset 1200: beyond */
		CHECK_EQ_INT(run_on(cap, P_TC_IN, &s, &len), 0);
		k.sseq += 500;
	}
	CHECK_EQ_INT(grew(cap, PANO_STAT_HEAD_SKIPPED), 2);
	CHECK_EQ_INT(grew(cap, PANO_STAT_HEAD_SKIPPED_BYTES), len + 54);
	for (int i = 0; i < 10; i++)
		CHECK_EQ_INT(conn_send(&k, 1, F_ACK, 1400), 0);
	CHECK_EQ_INT(conn_send(&k, 0, F_ACK, 0), 0);
	/* the client's own stream is still inside its head: a second request is kept */
	CHECK_EQ_INT(conn_send(&k, 0, F_ACK | F_PSH, 300), 1);
	CHECK_EQ_INT(grew(cap, PANO_STAT_HEAD_SKIPPED), 13);
	/* a retransmission of data inside the head is kept, one before the base is not */
	{
		struct seg s = conn_seg(&k, 1, F_ACK, 100);
		s.seq = 77777 + 1 + 50;
		CHECK_EQ_INT(run(&s), 1);
		s.seq = 77777 + 1 - 1; /* a keepalive probe: one byte before the stream */
		s.payload = 1;
		CHECK_EQ_INT(run(&s), 0);
	}
	/* closing: both FINs kept (the server's FIN carries bulk data, kept too), the last ACK
	 * too; the second FIN takes the connection out of the table */
	CHECK_EQ_INT(conn_send(&k, 1, F_FIN | F_ACK, 700), 1);
	CHECK_EQ_INT(grew(cap, PANO_STAT_HEAD_CLOSED), 0);
	CHECK_EQ_INT(conn_send(&k, 0, F_FIN | F_ACK, 0), 1);
	CHECK_EQ_INT(grew(cap, PANO_STAT_HEAD_CLOSED), 1);
	CHECK_EQ_INT(conn_send(&k, 1, F_ACK, 0), 1);
	CHECK_EQ_INT(grew(cap, PANO_STAT_HEAD_MIDSTREAM), 0);
	CHECK_EQ_INT(grew(cap, PANO_STAT_HEAD_CONNS), 1);
	check_sum(cap);
	/* a late segment of the forgotten connection starts a new head there (mid-stream) */
	CHECK_EQ_INT(conn_send(&k, 1, F_ACK, 100), 1);
	CHECK_EQ_INT(grew(cap, PANO_STAT_HEAD_MIDSTREAM), 1);
	CHECK_EQ_INT(grew(cap, PANO_STAT_HEAD_CONNS), 2);
	struct seg r = conn_seg(&k, 0, F_RST, 0);
	CHECK_EQ_INT(run(&r), 1);
	CHECK_EQ_INT(grew(cap, PANO_STAT_HEAD_CLOSED), 2);
}

/* The boundary exactly: offset limit-1 is kept, offset limit is not. */
static void t_boundary(void)
{
	struct conn k = {.cport = CLI_PORT + 1, .sport = 443, .cseq = 5, .sseq = 9};
	struct seg s;

	mark(cap);
	conn_open(&k);
	s = conn_seg(&k, 1, F_ACK, 1);
	s.seq = k.sseq + HEAD - 1;
	CHECK_EQ_INT(run(&s), 1);
	s.seq = k.sseq + HEAD;
	CHECK_EQ_INT(run(&s), 0);
	/* ACKs: acknowledging exactly the head is kept, one byte more is not */
	s = conn_seg(&k, 0, F_ACK, 0);
	s.ack = k.sseq + HEAD;
	CHECK_EQ_INT(run(&s), 1);
	s.ack = k.sseq + HEAD + 1;
	CHECK_EQ_INT(run(&s), 0);
	s = conn_seg(&k, 0, F_RST | F_ACK, 0);
	CHECK_EQ_INT(run(&s), 1);
	check_sum(cap);
}

/* Sequence numbers that wrap past 2^32 inside and after the head. */
static void t_wraparound(void)
{
	struct conn k = {
	    .cport = CLI_PORT + 2, .sport = 443, .cseq = 0xfffffe00u, .sseq = 0xffffff00u};
	struct seg s;

	mark(cap);
	conn_open(&k);				       /* server's base: 0xffffff01 */
	CHECK_EQ_INT(conn_send(&k, 1, F_ACK, 200), 1); /* 0xffffff01 .. 0xffffffc8 */
	CHECK_EQ_INT(conn_send(&k, 1, F_ACK, 200), 1); /* wraps: 0xffffffc9 .. 0x90 */
	CHECK(k.sseq < 0x1000);			       /* the counter did wrap */
	CHECK_EQ_INT(conn_send(&k, 1, F_ACK, 500), 1); /* offset 400 */
	CHECK_EQ_INT(conn_send(&k, 1, F_ACK, 500), 1); /* offset 900: straddles the head */
	CHECK_EQ_INT(conn_send(&k, 1, F_ACK, 500), 0); /* offset 1400 */
	CHECK_EQ_INT(grew(cap, PANO_STAT_HEAD_SKIPPED), 1);
	s = conn_seg(&k, 1, F_ACK, 100);
	s.seq = 0xffffff01u + 999; /* offset 999 after the wrap: kept */
	CHECK_EQ_INT(run(&s), 1);
	s.seq = 0xffffff01u + 1000;
	CHECK_EQ_INT(run(&s), 0);
	/* the client's ACK across the wrap */
	s = conn_seg(&k, 0, F_ACK, 0);
	s.ack = 0xffffff01u + 1000;
	CHECK_EQ_INT(run(&s), 1);
	s.ack = 0xffffff01u + 4000;
	CHECK_EQ_INT(run(&s), 0);
	s = conn_seg(&k, 1, F_RST, 0);
	CHECK_EQ_INT(run(&s), 1);
	check_sum(cap);
}

/* A connection older than the table: its first payload segment starts the head there. */
static void t_midstream(void)
{
	struct conn k = {.cport = CLI_PORT + 3, .sport = 443, .cseq = 123456, .sseq = 0x7fffff00u};

	mark(cap);
	CHECK_EQ_INT(conn_send(&k, 0, F_ACK, 0), 1); /* an ACK of an unknown connection */
	CHECK_EQ_INT(grew(cap, PANO_STAT_HEAD_CONNS), 0);
	CHECK_EQ_INT(conn_send(&k, 1, F_ACK, 800), 1); /* the server's head starts here */
	CHECK_EQ_INT(grew(cap, PANO_STAT_HEAD_MIDSTREAM), 1);
	CHECK_EQ_INT(grew(cap, PANO_STAT_HEAD_CONNS), 1);
	CHECK_EQ_INT(conn_send(&k, 1, F_ACK, 199), 1); /* offset 800 */
	CHECK_EQ_INT(conn_send(&k, 1, F_ACK, 1), 1);   /* offset 999 */
	CHECK_EQ_INT(conn_send(&k, 1, F_ACK, 1), 0);   /* offset 1000 */
	/* the client's ACKs: its own base is unknown, the server's is known */
	CHECK_EQ_INT(conn_send(&k, 0, F_ACK, 0), 0);
	/* the client's first payload starts its own head */
	CHECK_EQ_INT(conn_send(&k, 0, F_ACK, 1200), 1);
	CHECK_EQ_INT(grew(cap, PANO_STAT_HEAD_MIDSTREAM), 2);
	CHECK_EQ_INT(conn_send(&k, 0, F_ACK, 10), 0);
	CHECK_EQ_INT(conn_send(&k, 0, F_FIN | F_ACK, 0), 1);
	CHECK_EQ_INT(conn_send(&k, 1, F_FIN | F_ACK, 0), 1);
	CHECK_EQ_INT(grew(cap, PANO_STAT_HEAD_CLOSED), 1);
	check_sum(cap);
}

/* Port 80 is in the port set without a limit: captured whole, no table entry. */
static void t_whole_port(void)
{
	struct conn k = {.cport = CLI_PORT + 4, .sport = 80, .cseq = 1, .sseq = 1};

	mark(cap);
	conn_open(&k);
	for (int i = 0; i < 20; i++)
		CHECK_EQ_INT(conn_send(&k, 1, F_ACK, 1400), 1);
	CHECK_EQ_INT(conn_send(&k, 0, F_ACK, 0), 1);
	CHECK_EQ_INT(grew(cap, PANO_STAT_HEAD_CONNS), 0);
	CHECK_EQ_INT(grew(cap, PANO_STAT_HEAD_SKIPPED), 0);
	CHECK_EQ_INT(grew(cap, PANO_STAT_CAPTURED), 24);
	check_sum(cap);
}

/* Ports 443 (1000) and 8443 (3000) on the two ends: the larger limit counts. */
static void t_larger_limit(void)
{
	struct conn k = {.cport = 8443, .sport = 443, .cseq = 1, .sseq = 1};
	struct seg s;

	mark(cap);
	conn_open(&k);
	s = conn_seg(&k, 1, F_ACK, 10);
	s.seq = k.sseq + 2999;
	CHECK_EQ_INT(run(&s), 1);
	s.seq = k.sseq + 3000;
	CHECK_EQ_INT(run(&s), 0);
	s = conn_seg(&k, 0, F_RST, 0);
	CHECK_EQ_INT(run(&s), 1);
	check_sum(cap);
}

/* A new SYN on the same ends (a port reused after TIME_WAIT) starts both heads afresh. */
static void t_reuse(void)
{
	struct conn k = {.cport = CLI_PORT + 5, .sport = 443, .cseq = 100, .sseq = 200};

	mark(cap);
	conn_open(&k);
	CHECK_EQ_INT(conn_send(&k, 1, F_ACK, 1400), 1);
	CHECK_EQ_INT(conn_send(&k, 1, F_ACK, 1400), 0);
	k.cseq = 5000000; /* the new connection's numbers */
	k.sseq = 9000000;
	conn_open(&k);
	CHECK_EQ_INT(conn_send(&k, 1, F_ACK, 900), 1);
	CHECK_EQ_INT(conn_send(&k, 1, F_ACK, 900), 1);
	CHECK_EQ_INT(conn_send(&k, 1, F_ACK, 900), 0);
	CHECK_EQ_INT(grew(cap, PANO_STAT_HEAD_CONNS), 1); /* one entry, reset in place */
	CHECK_EQ_INT(grew(cap, PANO_STAT_HEAD_MIDSTREAM), 0);
	CHECK_EQ_INT(conn_send(&k, 0, F_RST, 0), 1);
	check_sum(cap);
}

/* IPv6, and the same connection seen by XDP and TC alike (one table). */
static void t_ipv6_xdp(void)
{
	struct conn k = {.v6 = 1, .cport = CLI_PORT + 6, .sport = 443, .cseq = 1, .sseq = 1};
	struct seg s;

	mark(cap);
	conn_open(&k);
	CHECK_EQ_INT(grew(cap, PANO_STAT_HEAD_CONNS), 1);
	s = conn_seg(&k, 1, F_ACK, 500);
	CHECK_EQ_INT(run_on(cap, P_XDP, &s, NULL), 1);
	s.seq += 500;
	CHECK_EQ_INT(run_on(cap, P_XDP, &s, NULL), 1);
	s.seq += 500;
	CHECK_EQ_INT(run_on(cap, P_XDP, &s, NULL), 0);
	CHECK_EQ_INT(run_on(cap, P_TC_IN, &s, NULL), 0);
	s = conn_seg(&k, 0, F_RST, 0);
	CHECK_EQ_INT(run_on(cap, P_XDP, &s, NULL), 1);
	CHECK_EQ_INT(grew(cap, PANO_STAT_HEAD_CLOSED), 1);
	check_sum(cap);
}

/* An IPv4 total length of 0 (a GSO packet over 64 KiB): the frame says there is payload. */
static void t_ip_len_zero(void)
{
	struct conn k = {.cport = CLI_PORT + 7, .sport = 443, .cseq = 1, .sseq = 1};
	struct seg s;

	mark(cap);
	conn_open(&k);
	s = conn_seg(&k, 1, F_ACK, 100);
	s.seq += 5000;
	s.ip_len_zero = 1;
	CHECK_EQ_INT(run_on(cap, P_XDP, &s, NULL), 0); /* payload, beyond the head */
	s.seq = k.sseq;
	CHECK_EQ_INT(run_on(cap, P_XDP, &s, NULL), 1);
	s = conn_seg(&k, 0, F_RST, 0);
	CHECK_EQ_INT(run(&s), 1);
	check_sum(cap);
}

/* Limits changed at run time: none (everything whole), then back; the table is kept. */
static void t_runtime(void)
{
	const struct capture_head h443 = {.port = 443, .bytes = HEAD},
				  heads[] = {{.port = 443, .bytes = HEAD},
					     {.port = 8443, .bytes = 3000}};
	struct conn k = {.cport = CLI_PORT + 8, .sport = 443, .cseq = 1, .sseq = 1};
	struct seg s;

	mark(cap);
	conn_open(&k);
	s = conn_seg(&k, 1, F_ACK, 100);
	s.seq += 5000;
	CHECK_EQ_INT(run(&s), 0);
	CHECK_EQ_INT(capture_set_tcp_head(cap, NULL, 0), 0);
	CHECK_EQ_INT(run(&s), 1);
	CHECK_EQ_INT(capture_set_tcp_head(cap, &h443, 1), 0);
	CHECK_EQ_INT(run(&s), 0);
	/* 8443 lost its limit: a connection between 8443 and 443 now has 443's */
	{
		struct conn k2 = {.cport = 8443, .sport = 443, .cseq = 1000, .sseq = 1000};
		struct seg s2;

		conn_open(&k2);
		s2 = conn_seg(&k2, 1, F_ACK, 10);
		s2.seq += 2000;
		CHECK_EQ_INT(run(&s2), 0);
		CHECK_EQ_INT(capture_set_tcp_head(cap, heads, 2), 0);
		CHECK_EQ_INT(run(&s2), 1);
		s2 = conn_seg(&k2, 0, F_RST, 0);
		CHECK_EQ_INT(run(&s2), 1);
	}
	CHECK(capture_set_tcp_head(cap, &(struct capture_head){.port = 0, .bytes = 1}, 1) < 0);
	CHECK(capture_set_tcp_head(cap, &(struct capture_head){.port = 1, .bytes = 0}, 1) < 0);
	CHECK(capture_set_tcp_head(cap, heads, PANO_MAX_PORTS + 1) < 0);
	s = conn_seg(&k, 0, F_RST, 0);
	CHECK_EQ_INT(run(&s), 1);
	check_sum(cap);
}

/*
 * A table of 256 connections and 2000 connections opened: the first ones are forgotten, so
 * their data beyond the head is captured again as a new head (mid-stream, counted), never lost;
 * a recent one still has its head.
 */
static void t_table_full(void)
{
	const struct capture_head h = {.port = 443, .bytes = HEAD};
	const uint16_t ports[] = {443};
	struct capture_opts o = {
	    .ports = ports, .nports = 1, .heads = &h, .nheads = 1, .head_conns = 256};
	struct capture *c;
	struct seg s;
	int n = 2000, kept = 0;

	if (capture_open(&c, &o)) {
		CHECK(!"capture_open(head_conns 256)");
		return;
	}
	mark(c);
	for (int i = 0; i < n; i++) {
		s = (struct seg){.cport = 20000 + i, .sport = 443, .seq = 1, .flags = F_SYN};
		run_on(c, P_TC_OUT, &s, NULL);
	}
	CHECK_EQ_INT(grew(c, PANO_STAT_HEAD_CONNS), n);
	/* beyond the head of the first 100: each forgotten, so each captured as a new head */
	for (int i = 0; i < 100; i++) {
		s = (struct seg){
		    .cport = 20000 + i, .sport = 443, .seq = 100000, .flags = F_ACK, .payload = 10};
		kept += run_on(c, P_TC_OUT, &s, NULL);
	}
	CHECK_EQ_INT(kept, 100);
	CHECK_EQ_INT(grew(c, PANO_STAT_HEAD_MIDSTREAM), 100);
	/* the last one opened is still there: beyond its head is left out */
	s = (struct seg){
	    .cport = 20000 + n - 1, .sport = 443, .seq = 100000, .flags = F_ACK, .payload = 10};
	CHECK_EQ_INT(run_on(c, P_TC_OUT, &s, NULL), 0);
	check_sum(c);
	capture_close(c);
}

/* Without any head limit the table is never consulted: bulk on 443 is captured whole. */
static void t_no_heads(void)
{
	const uint16_t ports[] = {443};
	struct capture_opts o = {.ports = ports, .nports = 1, .no_heads = 1};
	const struct capture_head h = {.port = 443, .bytes = HEAD};
	struct conn k = {.cport = CLI_PORT, .sport = 443, .cseq = 1, .sseq = 1};
	struct capture *c;
	struct seg s;

	if (capture_open(&c, &o)) {
		CHECK(!"capture_open(no heads)");
		return;
	}
	mark(c);
	for (int i = 0; i < 5; i++) {
		s = conn_seg(&k, 1, F_ACK, 1400);
		s.seq += 100000 * i;
		CHECK_EQ_INT(run_on(c, P_TC_IN, &s, NULL), 1);
	}
	CHECK_EQ_INT(grew(c, PANO_STAT_HEAD_CONNS) + grew(c, PANO_STAT_HEAD_MIDSTREAM), 0);
	check_sum(c);
	CHECK_EQ_INT(capture_set_tcp_head(c, &h, 1), -EOPNOTSUPP); /* no table to set */
	CHECK_EQ_INT(capture_set_tcp_head(c, NULL, 0), 0);
	capture_close(c);
}

int main(void)
{
	const uint16_t ports[] = {443, 80, 8443};
	const struct capture_head heads[] = {{.port = 443, .bytes = HEAD},
					     {.port = 8443, .bytes = 3000}};
	struct capture_opts o = {
	    .ports = ports, .nports = 3, .heads = heads, .nheads = 2, .dedup_us = 0};
	cpu_set_t one;

	log_init("test_bpf_tcp_head", 0);
	if (geteuid() != 0) {
		TEST_SKIP("bpf_tcp_head", "needs root to load BPF programs");
		return 0;
	}
	/* one CPU: records land in one ring, counters are read right after each run */
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &one);
	sched_setaffinity(0, sizeof(one), &one);
	if (capture_open(&cap, &o)) {
		printf("FAIL bpf_tcp_head_load: the programs did not load (see stderr)\n");
		return 1;
	}
	TEST_CASE("bpf_tcp_head_connection", t_connection);
	TEST_CASE("bpf_tcp_head_boundary", t_boundary);
	TEST_CASE("bpf_tcp_head_wraparound", t_wraparound);
	TEST_CASE("bpf_tcp_head_midstream", t_midstream);
	TEST_CASE("bpf_tcp_head_whole_port", t_whole_port);
	TEST_CASE("bpf_tcp_head_larger_limit", t_larger_limit);
	TEST_CASE("bpf_tcp_head_port_reuse", t_reuse);
	TEST_CASE("bpf_tcp_head_ipv6_xdp", t_ipv6_xdp);
	TEST_CASE("bpf_tcp_head_ip_len_zero", t_ip_len_zero);
	TEST_CASE("bpf_tcp_head_runtime", t_runtime);
	TEST_CASE("bpf_tcp_head_table_full", t_table_full);
	TEST_CASE("bpf_tcp_head_off", t_no_heads);
	capture_close(cap);
	TEST_EXIT();
}
