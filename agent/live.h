/* SPDX-License-Identifier: Apache-2.0 */
/*
 * live.h - the agent's settings that change at run time (--config FILE, lib/conf.h): the capture
 * filter's ports and transports, the TCP head limits, the snap length and dedup, all held in the
 * BPF programs' maps, so a change applies from the next packet on with no reload and no capture
 * gap.
 */
#ifndef PANO_AGENT_LIVE_H
#define PANO_AGENT_LIVE_H

#include <stdint.h>

#include "capture_api.h"
#include "conf.h"

struct agent_live {
	uint16_t ports[PANO_MAX_PORTS];
	int nports;
	uint32_t transports; /* PANO_TR_* */
	uint32_t snaplen;
	uint32_t dedup_us;
	struct capture_head heads[PANO_MAX_PORTS]; /* --tcp-head: these ports join the filter */
	int nheads;
};

struct agent_conf {
	struct agent_live cli;	    /* the defaults with the command line's options */
	unsigned cli_set;	    /* which keys the command line gave (LIVE_* bits) */
	struct agent_live cur;	    /* in force */
	uint32_t snaplen_max;	    /* after start: the snap length the outputs announced */
	struct capture *cap;	    /* NULL until the programs are loaded */
	const struct option *lopts; /* the command line's options, named in refusals */
};

/* The defaults: port 53, udp and tcp, PANO_SNAPLEN_DEFAULT, dedup on. */
void agent_live_init(struct agent_conf *ac);
/* A command-line option of the file's keys (name without "--"): -1 for a bad value, 1 when
 * name is not one of them, 0 when set. */
int agent_live_option(struct agent_conf *ac, const char *name, const char *value);
/* The ports the capture filter matches: ports and the ports of heads, each once, into
 * out[PANO_MAX_PORTS]. The count, or -1 when there are more than PANO_MAX_PORTS. */
int agent_live_filter_ports(const struct agent_live *l, uint16_t *out);
/* conf_apply_fn: checks the whole file (a key the command line gave too is refused), then
 * writes what changed into the maps (once ac->cap is set) and into ac->cur. */
int agent_live_apply(void *ctx, const struct conf *c, const char *path, char *err, size_t errlen);

#endif
