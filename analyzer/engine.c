// SPDX-License-Identifier: Apache-2.0
/*
 * engine.c - making and freeing an engine (see engine.h): its parts in order, the out stage
 * first (protocols are handed its emit hook), the TCP table last (it points at the protocols).
 */
#include <stdlib.h>

#include "engine.h"
#include "log.h"

void engine_config_default(struct engine_config *c)
{
	*c = (struct engine_config){.format = REC_FORMAT_JSON};
	tcp_limits_default(&c->tcp);
	ipfrag_limits_default(&c->frag);
}

struct pano_engine *engine_new(const struct engine_config *c)
{
	struct pano_engine *eng = calloc(1, sizeof(*eng));

	if (!eng) {
		pr_err("engine_new: calloc: out of memory");
		return NULL;
	}
	rec_out_init(&eng->out, c->format, c->dotted, c->sinks);
	eng->sum = eng->out.sum = c->sum;
	eng->env.emit = &eng->out.emit;
	if (c->l7_cfgs && l7_set_create(&eng->l7, c->l7_cfgs, &eng->env)) {
		rec_out_free(&eng->out);
		free(eng);
		return NULL;
	}
	eng->frag = ipfrag_new(&c->frag);
	eng->tcp = tcp_new(&c->tcp, &eng->l7);
	if (!eng->frag || !eng->tcp) {
		engine_free(eng);
		return NULL;
	}
	return eng;
}

void engine_free(struct pano_engine *eng)
{
	if (!eng)
		return;
	tcp_free(eng->tcp);
	ipfrag_free(eng->frag);
	l7_set_destroy(&eng->l7);
	rec_out_free(&eng->out);
	free(eng);
}
