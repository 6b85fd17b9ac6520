/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics.h - pano-agent's Prometheus exposition (/metrics): the BPF counters, bad ring
 * records, every output's sent/dropped records and bytes, per-client PCAP-over-TCP figures,
 * attached interfaces, and every PANO_COUNTER.
 */
#ifndef PANO_AGENT_METRICS_H
#define PANO_AGENT_METRICS_H

#include <stdint.h>

struct wbuf;
struct ifwatch;
struct out_file;
struct pcap_server;

/* What the exposition reads; any pointer may be NULL (that part is left out). */
struct agent_metrics {
	/* Fills out[PANO_STAT_MAX] with the summed BPF counters; 0 or -errno. */
	int (*read_bpf)(void *ctx, uint64_t *out);
	uint64_t (*bad_records)(void *ctx);
	void *cap_ctx;
	struct out_file *file;	 /* --write */
	struct out_file *out;	 /* --stdout */
	struct pcap_server *srv; /* --pcap-listen */
	struct ifwatch *ifw;
	/* frames with a sender cgroup [0] and process [1]; one writer (the ring reader) */
	const uint64_t *who_frames;
	/* frames whose L4 checksum was not filled in yet (PANO_RF_CSUM_PARTIAL); one writer */
	const uint64_t *csum_partial_frames;
};

/* The name of BPF counter i without prefix or suffix ("packets_seen"). */
const char *agent_bpf_stat_name(int i);
/* httpd_cb for /metrics: ctx is a struct agent_metrics. Always 200. */
int agent_metrics_render(void *ctx, const char *query, struct wbuf *b);

#endif
