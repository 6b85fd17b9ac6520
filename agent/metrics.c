// SPDX-License-Identifier: Apache-2.0
/*
 * metrics.c - pano-agent's /metrics (see metrics.h). Everything here is read from atomics or
 * under the owning module's lock, because it runs on the HTTP server's thread.
 */
#include <stdio.h>
#include <string.h>

#include "capture_api.h"
#include "httpd.h"
#include "ifwatch.h"
#include "metrics.h"
#include "output.h"
#include "prom.h"

static const struct {
	const char *name, *help;
} bpf_stats[] = {
    [PANO_STAT_SEEN] = {"packets_seen", "frames the capture program ran on"},
    [PANO_STAT_MATCHED] = {"packets_matched", "frames that passed the port/transport filter"},
    [PANO_STAT_CAPTURED] = {"packets_captured", "records committed to the ring buffer"},
    [PANO_STAT_TRUNCATED] = {"packets_truncated", "frames captured cut to the snaplen"},
    [PANO_STAT_RING_FULL] = {"ring_full_drops", "matched frames dropped: ring buffer full"},
    [PANO_STAT_FRAG_TRACKED] = {"fragments_tracked", "first IP fragments remembered"},
    [PANO_STAT_FRAG_FOLLOWED] = {"fragments_followed",
				 "later IP fragments captured because their first matched"},
    [PANO_STAT_PARSE_SHORT] = {"parse_short", "frames whose headers were cut short"},
    [PANO_STAT_COPY_ERR] = {"copy_errors", "matched frames dropped: copying into the ring failed"},
    [PANO_STAT_DEDUP_COPIES] = {"dedup_copies",
				"matched frames not captured: copies of a frame captured at "
				"another hook of this node (--dedup)"},
    [PANO_STAT_WHO_NOTED] = {"who_noted", "socket calls that named a socket's process"},
    [PANO_STAT_WHO_NOTE_FAIL] = {"who_note_failed",
				 "socket calls whose process could not be noted (no memory "
				 "for the socket's storage)"},
    [PANO_STAT_HEAD_SKIPPED] = {"tcp_head_skipped",
				"matched TCP segments left out on purpose: beyond their "
				"direction's --tcp-head bytes"},
    [PANO_STAT_HEAD_SKIPPED_BYTES] = {"tcp_head_skipped_bytes",
				      "frame bytes of the TCP segments left out by --tcp-head"},
    [PANO_STAT_HEAD_CONNS] = {"tcp_head_connections",
			      "TCP connections the --tcp-head table started tracking"},
    [PANO_STAT_HEAD_MIDSTREAM] = {"tcp_head_midstream",
				  "directions whose head began at a segment that was not a SYN "
				  "(connections older than the agent, or forgotten by a full "
				  "table)"},
    [PANO_STAT_HEAD_CLOSED] = {"tcp_head_closed",
			       "TCP connections taken out of the --tcp-head table at FIN or RST"},
};

const char *agent_bpf_stat_name(int i)
{
	if (i < 0 || i >= (int)(sizeof(bpf_stats) / sizeof(bpf_stats[0])) || !bpf_stats[i].name)
		return NULL;
	return bpf_stats[i].name;
}

static void agent_metrics_bpf(const struct agent_metrics *m, struct wbuf *b)
{
	uint64_t v[PANO_STAT_MAX];
	char name[96], help[96];

	memset(v, 0, sizeof(v));
	if (m->read_bpf(m->cap_ctx, v))
		return;
	for (int i = 0; i < PANO_STAT_MAX; i++) {
		const char *n = agent_bpf_stat_name(i);
		if (n) {
			snprintf(name, sizeof(name), "pano_agent_bpf_%s", n);
			prom_one(b, name, PROM_COUNTER, bpf_stats[i].help, NULL, v[i]);
		} else { /* a counter newer than this table */
			snprintf(name, sizeof(name), "pano_agent_bpf_stat_%d", i);
			snprintf(help, sizeof(help), "BPF counter %d", i);
			prom_one(b, name, PROM_COUNTER, help, NULL, v[i]);
		}
	}
}

static void agent_metrics_outputs(const struct agent_metrics *m, struct wbuf *b)
{
	static const struct {
		const char *name, *help;
	} fam[] = {
	    {"pano_agent_output_sent_records", "records written (or queued) by the output"},
	    {"pano_agent_output_sent_bytes", "pcap bytes written (or queued) by the output"},
	    {"pano_agent_output_dropped_records", "records the output lost"},
	    {"pano_agent_output_dropped_bytes", "pcap bytes the output lost"},
	};
	struct {
		const char *name;
		const struct out_stats *st;
	} outs[3];
	int n = 0;
	char lb[64];

	if (m->file)
		outs[n++] = (typeof(outs[0])){"file", out_file_stats(m->file)};
	if (m->out)
		outs[n++] = (typeof(outs[0])){"stdout", out_file_stats(m->out)};
	if (m->srv)
		outs[n++] = (typeof(outs[0])){"pcap_server", pcap_server_stats(m->srv)};
	if (!n)
		return;
	for (int f = 0; f < 4; f++) {
		prom_family(b, fam[f].name, PROM_COUNTER, fam[f].help);
		for (int i = 0; i < n; i++) {
			struct out_stats s;
			out_stats_read(outs[i].st, &s);
			uint64_t v[] = {s.sent_records, s.sent_bytes, s.drop_records, s.drop_bytes};
			prom_labels(lb, sizeof(lb), "output", outs[i].name, NULL);
			prom_sample(b, fam[f].name, PROM_COUNTER, lb, v[f]);
		}
	}
}

int agent_metrics_render(void *ctx, const char *query, struct wbuf *b)
{
	const struct agent_metrics *m = ctx;

	if (m->read_bpf)
		agent_metrics_bpf(m, b);
	if (m->bad_records)
		prom_one(b, "pano_agent_bad_ring_records", PROM_COUNTER,
			 "ring buffer records rejected by user space (bad sizes)", NULL,
			 m->bad_records(m->cap_ctx));
	agent_metrics_outputs(m, b);
	if (m->srv)
		pcap_server_metrics(m->srv, b);
	if (m->ifw)
		ifwatch_metrics(m->ifw, b);
	if (m->who_frames) {
		prom_one(b, "pano_agent_frames_with_sender", PROM_COUNTER,
			 "frames read from the ring that carry their sender's cgroup", NULL,
			 __atomic_load_n(&m->who_frames[0], __ATOMIC_RELAXED));
		prom_one(b, "pano_agent_frames_with_process", PROM_COUNTER,
			 "frames read from the ring that carry their sender's process too", NULL,
			 __atomic_load_n(&m->who_frames[1], __ATOMIC_RELAXED));
	}
	if (m->csum_partial_frames)
		prom_one(b, "pano_agent_frames_csum_partial", PROM_COUNTER,
			 "frames read from the ring whose UDP/TCP checksum the kernel had left to "
			 "offload (CHECKSUM_PARTIAL)",
			 NULL, __atomic_load_n(m->csum_partial_frames, __ATOMIC_RELAXED));
	prom_write_counters(b, "pano");
	return 200;
}
