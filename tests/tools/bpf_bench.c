// SPDX-License-Identifier: Apache-2.0
/*
 * bpf_bench.c - cost of the capture TC program per frame and ring space per record, measured
 * with bpf_prog_test_run_opts on a DNS query frame that matches port 53, the same frame on
 * ports that do not match, and a large (1400-byte) matching frame, for each way of copying
 * frames into the ring (enum pano_emit_mode). The ring is drained between batches so every
 * matching run really commits a record (a full ring would measure the drop path instead).
 * Ring bytes per record are read from the rings' producer positions, i.e. what the kernel
 * really consumed, including its 8-byte sample header and alignment.
 * With --cpus N, N threads, one pinned to each of CPUs 0..N-1, run the program at once (each
 * CPU writes its own ring; the drain between batches takes turns): the cost of a record when
 * several CPUs capture at the same time. The figures are the mean over the threads.
 *
 * With --tcp-head, the TCP head limit instead (bpf/tcphead.bpf.h): a 1400-byte TCP segment on
 * port 443 captured whole (no limit), the same segment inside a 16 KiB head (looked up in the
 * connection table, then captured), beyond it (looked up, left out: what bulk HTTPS costs), and
 * the DNS query with a head limit set on another port (the check skipped: UDP).
 *
 * Output (machine-readable, one line each):
 *   bpf_ns_per_frame match=NN nomatch=NN cpus=N                default mode, small frame
 *   bpf_emit mode=NAME frame=BYTES match_ns=NN ring_bytes_per_record=NN cpus=N
 *   bpf_ns_per_frame_nomatch mode=NAME ns=NN cpus=N
 *   bpf_tcp_head whole_ns=NN in_head_ns=NN beyond_head_ns=NN dns_ns=NN cpus=N   (--tcp-head)
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "capture_api.h" /* before the skeleton: it names struct pano_clock */
#include "bpf/capture.skel.h"
#include "log.h"

#define BENCH_BATCH    1000 /* frames per test run: 1000 x 9248 bytes fits a 16 MiB ring */
#define BENCH_CPUS_MAX 64

static const char *const mode_names[] = {"hybrid", "size_classes", "scratch", "reserve_max"};

/* A DNS query for www.example.com/A from 198.18.0.10:40000 to 198.18.0.2:dport; when big is
 * set the UDP payload is padded to make a 1400-byte frame. Returns the frame length. */
static size_t bench_frame(uint8_t *f, uint16_t dport, int big)
{
	static const uint8_t dns[] = {0x12, 0x34, 0x01, 0x00, 0,   1,	0,   0,	  0,   0,   0,
				      0,    3,	  'w',	'w',  'w', 7,	'e', 'x', 'a', 'm', 'p',
				      'l',  'e',  3,	'c',  'o', 'm', 0,   0,	  1,   0,   1};
	size_t dlen = big ? 1400 - 42 : sizeof(dns), len = 42 + dlen;

	memset(f, 0, len);
	memcpy(f, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00", 14);
	f[14] = 0x45;
	f[16] = (20 + 8 + dlen) >> 8;
	f[17] = 20 + 8 + dlen;
	f[22] = 64;
	f[23] = 17;
	memcpy(f + 26, "\xc6\x12\x00\x0a\xc6\x12\x00\x02", 8);
	f[34] = 40000 >> 8;
	f[35] = 40000 & 0xff;
	f[36] = dport >> 8;
	f[37] = dport & 0xff;
	f[38] = (8 + dlen) >> 8;
	f[39] = 8 + dlen;
	memcpy(f + 42, dns, sizeof(dns));
	return len;
}

/* A TCP segment from 198.18.0.10:40000 to 198.18.0.2:443 with seq, flags and payload bytes of
 * payload (the frame is 54 + payload bytes). Returns the frame length. */
static size_t bench_tcp_frame(uint8_t *f, uint32_t seq, uint8_t flags, size_t payload)
{
	size_t len = 54 + payload;

	memset(f, 0, len);
	memcpy(f, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00", 14);
	f[14] = 0x45;
	f[16] = (len - 14) >> 8;
	f[17] = len - 14;
	f[22] = 64;
	f[23] = 6;
	memcpy(f + 26, "\xc6\x12\x00\x0a\xc6\x12\x00\x02", 8);
	f[34] = 40000 >> 8;
	f[35] = 40000 & 0xff;
	f[37] = 443 & 0xff;
	f[36] = 443 >> 8;
	f[38] = seq >> 24;
	f[39] = seq >> 16;
	f[40] = seq >> 8;
	f[41] = seq;
	f[46] = 5 << 4;
	f[47] = flags;
	return len;
}

struct bench_result {
	double ns;
	double ring_bytes;
	uint64_t ring_full;
};

/* One thread's share of a measurement. */
struct bench_thread {
	struct capture *c;
	const uint8_t *f;
	size_t len;
	long total;
	int cpu, err;
	double ns_sum;
};

static pthread_mutex_t drain_lock = PTHREAD_MUTEX_INITIALIZER;

/* Runs the TC ingress program t->total times on t->cpu, in batches with the rings drained in
 * between; sums the kernel-measured ns. */
static void *bench_thread_run(void *arg)
{
	struct bench_thread *t = arg;
	int fd = capture_tc_prog_fd(t->c, false);
	cpu_set_t set;
	long done = 0;

	CPU_ZERO(&set);
	CPU_SET(t->cpu, &set);
	t->err = -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (t->err) {
		pr_err("pthread_setaffinity_np(CPU %d): %s", t->cpu, strerror(-t->err));
		return NULL;
	}
	while (done < t->total) {
		int n = t->total - done < BENCH_BATCH ? t->total - done : BENCH_BATCH;
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = t->f, .data_size_in = t->len,
			    .repeat = n);

		t->err = bpf_prog_test_run_opts(fd, &o);
		if (t->err) {
			pr_err("bpf_prog_test_run_opts: %s", strerror(-t->err));
			return NULL;
		}
		t->ns_sum += (double)o.duration * n;
		done += n;
		pthread_mutex_lock(&drain_lock);
		while (capture_poll(t->c, 0, NULL, NULL) > 0)
			;
		pthread_mutex_unlock(&drain_lock);
	}
	return NULL;
}

/* Runs the program total times on the frame on each of CPUs 0..ncpu-1 at once; fills the mean
 * ns per frame (kernel-measured) and ring bytes per frame. */
static int bench_run(struct capture *c, const uint8_t *f, size_t len, long total, int ncpu,
		     struct bench_result *r)
{
	struct bench_thread t[BENCH_CPUS_MAX];
	pthread_t th[BENCH_CPUS_MAX];
	uint64_t before[PANO_STAT_MAX], after[PANO_STAT_MAX], p0 = capture_ring_produced(c);
	double ns_sum = 0;
	int err = 0;

	capture_read_stats(c, before);
	for (int i = 0; i < ncpu; i++) {
		t[i] = (struct bench_thread){.c = c, .f = f, .len = len, .total = total, .cpu = i};
		err = pthread_create(&th[i], NULL, bench_thread_run, &t[i]);
		if (err) {
			pr_err("pthread_create: %s", strerror(err));
			ncpu = i;
			break;
		}
	}
	for (int i = 0; i < ncpu; i++) {
		pthread_join(th[i], NULL);
		ns_sum += t[i].ns_sum;
		if (t[i].err)
			err = t[i].err;
	}
	if (err || !ncpu)
		return err ? err : -EINVAL;
	capture_read_stats(c, after);
	r->ns = ns_sum / ((double)total * ncpu);
	r->ring_bytes = (double)(capture_ring_produced(c) - p0) / ((double)total * ncpu);
	r->ring_full = after[PANO_STAT_RING_FULL] - before[PANO_STAT_RING_FULL];
	return 0;
}

/* --tcp-head: the four measurements of the head limit (see the top of the file). */
static int bench_tcp_head(long total, int ncpu, uint32_t dedup_us)
{
	static const uint16_t ports[] = {443, 53};
	static const struct capture_head head = {.port = 443, .bytes = 16384};
	struct capture_opts o = {
	    .ring_bytes = 16u << 20, .ports = ports, .nports = 2, .dedup_us = dedup_us};
	uint8_t syn[64], in[1500], beyond[1500], dns[64 + 1400];
	size_t syn_len = bench_tcp_frame(syn, 1000, 0x02, 0), in_len, beyond_len, dns_len;
	struct bench_result whole, r_in, r_beyond, r_dns;
	uint64_t before[PANO_STAT_MAX], after[PANO_STAT_MAX], skipped;
	struct capture *c;
	int err;

	in_len = bench_tcp_frame(in, 1001 + 5000, 0x10, 1346);
	beyond_len = bench_tcp_frame(beyond, 1001 + 500000, 0x10, 1346);
	dns_len = bench_frame(dns, 53, 0);
	if (capture_open(&c, &o))
		return 1;
	err = bench_run(c, in, in_len, total, ncpu, &whole);
	capture_close(c);
	o.heads = &head;
	o.nheads = 1;
	if (err || capture_open(&c, &o))
		return 1;
	/* the SYN opens the connection in the table; the runs then find it */
	err = bench_run(c, syn, syn_len, 1, 1, &r_in);
	if (!err)
		err = bench_run(c, in, in_len, total, ncpu, &r_in);
	capture_read_stats(c, before);
	if (!err)
		err = bench_run(c, beyond, beyond_len, total, ncpu, &r_beyond);
	capture_read_stats(c, after);
	skipped = after[PANO_STAT_HEAD_SKIPPED] - before[PANO_STAT_HEAD_SKIPPED];
	if (!err && skipped != (uint64_t)total * ncpu)
		pr_warn("beyond the head: %llu of %ld segments left out, not all",
			(unsigned long long)skipped, total * ncpu);
	if (!err)
		err = bench_run(c, dns, dns_len, total, ncpu, &r_dns);
	capture_close(c);
	if (err)
		return 1;
	printf(
	    "bpf_tcp_head whole_ns=%.1f in_head_ns=%.1f beyond_head_ns=%.1f dns_ns=%.1f cpus=%d\n",
	    whole.ns, r_in.ns, r_beyond.ns, r_dns.ns, ncpu);
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: bpf_bench [--repeat N] [--cpus N] [--dedup on|off] [--tcp-head]\n"
		     "Measures the capture TC program (ns per frame, ring bytes per record) with\n"
		     "BPF_PROG_TEST_RUN for each ring emit mode. Needs root.\n"
		     "  -n, --repeat N   frames per measurement (default 1000000)\n"
		     "  -c, --cpus N     run on CPUs 0..N-1 at once, N frames each (default 1)\n"
		     "  -d, --dedup on|off  the agent's dedup of copies (default on, as in the\n"
		     "                   agent; each frame is the first copy of a packet)\n"
		     "  -t, --tcp-head   measure the TCP head limit instead (see the source)\n"
		     "  -h, --help       this text\n"
		     "  -V, --version    print the version\n");
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {{"repeat", required_argument, NULL, 'n'},
					      {"cpus", required_argument, NULL, 'c'},
					      {"dedup", required_argument, NULL, 'd'},
					      {"tcp-head", no_argument, NULL, 't'},
					      {"help", no_argument, NULL, 'h'},
					      {"version", no_argument, NULL, 'V'},
					      {0}};
	uint8_t small[64 + 1400], nomatch[64 + 1400], big[1500];
	size_t small_len, nomatch_len, big_len;
	long total = 1000000;
	int ncpu = 1, tcp_head = 0;
	uint32_t dedup_us = PANO_DEDUP_US_DEFAULT;
	double default_match = 0, default_nomatch = 0;
	uint32_t mode;
	int opt;

	log_init("bpf_bench", 0);
	while ((opt = getopt_long(argc, argv, "n:c:d:thV", lopts, NULL)) != -1) {
		switch (opt) {
		case 't':
			tcp_head = 1;
			break;
		case 'd':
			if (strcmp(optarg, "on") && strcmp(optarg, "off")) {
				pr_err("--dedup takes on or off");
				return 2;
			}
			dedup_us = strcmp(optarg, "on") ? 0 : PANO_DEDUP_US_DEFAULT;
			break;
		case 'n':
			total = strtol(optarg, NULL, 10);
			if (total < 1) {
				pr_err("--repeat must be a positive number");
				return 2;
			}
			break;
		case 'c':
			ncpu = (int)strtol(optarg, NULL, 10);
			if (ncpu < 1 || ncpu > BENCH_CPUS_MAX ||
			    ncpu > libbpf_num_possible_cpus()) {
				pr_err("--cpus must be 1 to %d (the CPUs there are)",
				       libbpf_num_possible_cpus() < BENCH_CPUS_MAX
					   ? libbpf_num_possible_cpus()
					   : BENCH_CPUS_MAX);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("bpf_bench %s\n", PANO_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (tcp_head)
		return bench_tcp_head(total, ncpu, dedup_us);
	small_len = bench_frame(small, 53, 0);
	nomatch_len = bench_frame(nomatch, 5678, 0);
	big_len = bench_frame(big, 53, 1);

	for (mode = PANO_EMIT_HYBRID; mode <= PANO_EMIT_RESERVE_MAX; mode++) {
		struct capture_opts o = {
		    .ring_bytes = 16u << 20, .emit_mode = mode, .dedup_us = dedup_us};
		struct bench_result m, nm, b;
		struct capture *c;
		int err;

		if (capture_open(&c, &o))
			return 1;
		err = bench_run(c, small, small_len, total, ncpu, &m);
		if (!err)
			err = bench_run(c, nomatch, nomatch_len, total, ncpu, &nm);
		if (!err)
			err = bench_run(c, big, big_len, total, ncpu, &b);
		capture_close(c);
		if (err)
			return 1;
		if (m.ring_full || b.ring_full)
			pr_warn("mode %s: %llu ring-full drops during the run: numbers understate "
				"the copy",
				mode_names[mode], (unsigned long long)(m.ring_full + b.ring_full));
		printf(
		    "bpf_emit mode=%s frame=%zu match_ns=%.1f ring_bytes_per_record=%.0f cpus=%d\n",
		    mode_names[mode], small_len, m.ns, m.ring_bytes, ncpu);
		printf(
		    "bpf_emit mode=%s frame=%zu match_ns=%.1f ring_bytes_per_record=%.0f cpus=%d\n",
		    mode_names[mode], big_len, b.ns, b.ring_bytes, ncpu);
		printf("bpf_ns_per_frame_nomatch mode=%s ns=%.1f cpus=%d\n", mode_names[mode],
		       nm.ns, ncpu);
		if (mode == PANO_EMIT_HYBRID) {
			default_match = m.ns;
			default_nomatch = nm.ns;
		}
	}
	printf("bpf_ns_per_frame match=%.1f nomatch=%.1f cpus=%d\n", default_match, default_nomatch,
	       ncpu);
	return 0;
}
