/* SPDX-License-Identifier: Apache-2.0 */
/*
 * capture_api.h - loading the capture BPF programs, attaching them to interfaces, changing the
 * filter at run time, and reading the ring buffer. The only agent file that talks to libbpf.
 */
#ifndef PANO_AGENT_CAPTURE_H
#define PANO_AGENT_CAPTURE_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

#include "capture.h" /* bpf/capture.h (found through -Ibpf): struct pano_rec, enum pano_stat */

enum capture_mode { CAPTURE_TC = 0, CAPTURE_XDP = 1 };

/* A TCP port whose connections are captured for their first bytes only (--tcp-head 443:16K):
 * each direction's segments while their payload starts less than bytes into the direction. */
struct capture_head {
	uint16_t port;	/* 1..65535 */
	uint32_t bytes; /* 1..PANO_TCP_HEAD_MAX */
};

struct capture_opts {
	enum capture_mode mode;
	uint32_t snaplen;      /* 1..PANO_SNAPLEN_MAX */
	const uint16_t *ports; /* ports to match on either side */
	int nports;
	uint32_t transports; /* PANO_TR_* bits */
	uint32_t ring_bytes; /* each CPU's ring buffer, a power of two (default: 8 MiB
			      * shared out, 1 MiB at least each: 4 MiB on 2 CPUs) */
	int verbose;	     /* libbpf debug output */
	uint32_t emit_mode;  /* enum pano_emit_mode; 0 (the default) unless benchmarking */
	int nsec;	     /* pcap headers in records (pano_rec.pcap) carry ns, not us */
	uint32_t dedup_us;   /* drop copies of a frame seen at another hook within this many
			      * microseconds (bpf/dedup.bpf.h); 0: keep every copy */
	const char *cgroup2; /* the cgroup2 mount: where the programs that note each socket's
			      * process attach (bpf/who.bpf.h); NULL: frames carry the cgroup
			      * but no process */
	const struct capture_head *heads; /* TCP head limits (bpf/tcphead.bpf.h); the ports must
					   * be in ports too to be captured */
	int nheads;
	uint32_t head_conns; /* connections the head table holds (0: PANO_TCP_HEAD_CONNS_DEFAULT);
			      * its memory is taken at load, whether heads are set or not */
	int no_heads;	     /* no head will ever be set (none given, no --config): the head
			      * maps get one entry, and capture_set_tcp_head refuses */
};

/* TC filters PANO installs carry this handle and priority, so a new agent can find (and replace
 * or remove) the ones a crashed agent left behind. */
#define CAPTURE_TC_HANDLE 0x50414e4fu /* "PANO" */
#define CAPTURE_TC_PRIO	  0x7a0e

struct capture;

/* Called for each valid record; frame points at rec->caplen bytes. */
typedef void (*capture_cb)(void *ctx, const struct pano_rec *rec, const uint8_t *frame);

/* Opens and loads the programs and maps; no interface is attached yet. 0 or -errno. */
int capture_open(struct capture **out, const struct capture_opts *opts);
/* Attaches to an interface (TC ingress+egress, or XDP). Replaces a stale attachment of ours
 * left by a crashed agent. 0, or -errno (e.g. -EPROTONOSUPPORT for a non-Ethernet link). */
int capture_attach(struct capture *c, int ifindex);
int capture_detach(struct capture *c, int ifindex);
/* Run-time filter changes: no reload. Ports: 1..65535, at most PANO_MAX_PORTS (0 ports: nothing
 * matches); a port in both the old and the new set never stops matching. Transports: PANO_TR_*. */
int capture_set_ports(struct capture *c, const uint16_t *ports, int nports);
int capture_set_transports(struct capture *c, uint32_t transports);
/* Run-time snap length, 1..PANO_SNAPLEN_MAX: the frames captured from the next packet on. Outputs
 * that announced a snaplen in a header must not be given a larger one. 0 or -errno. */
int capture_set_snaplen(struct capture *c, uint32_t snaplen);
/* Run-time dedup window in microseconds (0: off). 0 or -errno. */
int capture_set_dedup(struct capture *c, uint32_t dedup_us);
/* Run-time TCP head limits: the n ports of heads get theirs (at most PANO_MAX_PORTS), every
 * other port none (captured whole, if in the port set). The limits apply from the next segment
 * on, to connections already tracked too. 0 or -errno. */
int capture_set_tcp_head(struct capture *c, const struct capture_head *heads, int n);
/* True when the programs that note each socket's process are attached. */
int capture_who_attached(const struct capture *c);
/* Waits up to timeout_ms (at most 50 ms: the ring is read at least that often; 0: no wait) for
 * a batch of records, then calls cb for every record in the ring. Returns records handled or
 * -errno. A caller that wants them all now loops while it returns > 0 with timeout 0. */
int capture_poll(struct capture *c, int timeout_ms, capture_cb cb, void *ctx);
/*
 * Like capture_poll, but the records cb is given stay in the ring, readable through the
 * pointers cb got, until capture_release: the ring's consumer position does not move before.
 * That lets a caller send frames straight from the ring without copying them. Release soon (at
 * the latest after the round): the programs drop what does not fit in the rest of the ring.
 * Another capture_poll_hold continues after the last record handed out, released or not.
 */
int capture_poll_hold(struct capture *c, int timeout_ms, capture_cb cb, void *ctx);
/* Gives back every record handed out so far (also from within cb: the current one too). */
void capture_release(struct capture *c);
/* Bytes the programs have put in the rings so far (sample headers and padding included). */
uint64_t capture_ring_produced(struct capture *c);
/* Bytes of each CPU's ring. */
size_t capture_ring_size(const struct capture *c);
/* Sums the per-CPU counters into out[PANO_STAT_MAX]. */
int capture_read_stats(struct capture *c, uint64_t *out);
/* Counts records user space rejected (bad sizes). */
uint64_t capture_bad_records(const struct capture *c);
/* Detaches everything and frees. */
void capture_close(struct capture *c);

/* Removes PANO TC filters / XDP programs left on an interface (by a crashed agent) without
 * attaching anything; a clsact qdisc left empty by that removal is deleted too. Refuses to touch
 * programs that are not PANO's. 0 (also when nothing was there) or -errno. */
int capture_cleanup_stale(int ifindex);

/* Checks one ring sample (size bytes at data) the way capture_poll does: 0 when it is a complete
 * record, -EBADMSG otherwise. Exposed for tests. */
int capture_rec_check(const void *data, size_t size);

/* The loaded skeleton (bpf/capture.skel.h), for tests and benchmarks that run the programs
 * directly with bpf_prog_test_run_opts. */
struct capture_bpf;
struct capture_bpf *capture_skeleton(struct capture *c);
/* The file descriptor of the TC program loaded for ingress (egress false) or egress: the pair
 * that flags checksum offload, or on kernels without bpf_cast_to_kern_ctx the pair without. */
int capture_tc_prog_fd(struct capture *c, bool egress);
/* True when the loaded TC programs flag PANO_RF_CSUM_PARTIAL. */
bool capture_csum_state(const struct capture *c);

#endif
