// SPDX-License-Identifier: Apache-2.0
/*
 * engine.c - making and freeing an engine (see engine.h): its parts in order, the out stage
 * first (protocols are handed its emit hook), the TCP table last (it points at the protocols).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "log.h"
#include "sender.h"
#include "uid.h"

#define ENGINE_SENDERS 8192 /* senders (process, pod) that open records of any protocol name */

void engine_config_default(struct engine_config *c)
{
	*c = (struct engine_config){.format = REC_FORMAT_JSON};
	tcp_limits_default(&c->tcp);
	ipfrag_limits_default(&c->frag);
}

/* A random uid key for eng: from getrandom(2); should that fail, from the clock, the pid and
 * eng's address (still different for two engines alive at once), said on stderr. */
static uint64_t engine_uid_key(const struct pano_engine *eng)
{
	uint64_t key;
	struct timespec ts;

	ssize_t n = getrandom(&key, sizeof(key), GRND_NONBLOCK);
	if (n == (ssize_t)sizeof(key))
		return key;
	pr_warn("engine_new: getrandom: %s; uid key from the clock",
		n < 0 ? strerror(errno) : "short read");
	clock_gettime(CLOCK_REALTIME, &ts);
	return uid_mix64((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec) ^
	       uid_mix64(((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)eng);
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
	eng->env.uid_key = c->uid_seeded ? uid_key_of_seed(c->uid_seed) : engine_uid_key(eng);
	eng->env.senders = sender_table_new(ENGINE_SENDERS);
	if (!eng->env.senders) {
		pr_err("engine_new: sender_table_new: out of memory");
		rec_out_free(&eng->out);
		free(eng);
		return NULL;
	}
	if (c->l7_cfgs && l7_set_create(&eng->l7, c->l7_cfgs, &eng->env)) {
		sender_table_free(eng->env.senders);
		rec_out_free(&eng->out);
		free(eng);
		return NULL;
	}
	eng->frag = ipfrag_new(&c->frag);
	eng->tcp = tcp_new(&c->tcp, &eng->l7, eng->env.uid_key);
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
	sender_table_free(eng->env.senders);
	rec_out_free(&eng->out);
	free(eng);
}
