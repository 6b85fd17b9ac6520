// SPDX-License-Identifier: Apache-2.0
/*
 * l7.c - the registry of application protocols (see l7.h). Protocols register once at start-up;
 * the decoder asks them in registration order which one wants a packet.
 */
#include <stddef.h>

#include "l7.h"
#include "log.h"

#define L7_MAX_PROTOS 16

static const struct l7_proto *l7_protos[L7_MAX_PROTOS];
static int l7_nprotos;

/* Adds p (not copied: it must outlive the program). Registering the same proto twice is a no-op;
 * beyond L7_MAX_PROTOS registrations are refused with an error line. */
void l7_register(const struct l7_proto *p)
{
	for (int i = 0; i < l7_nprotos; i++)
		if (l7_protos[i] == p)
			return;
	if (l7_nprotos == L7_MAX_PROTOS) {
		pr_err("l7_register %s: too many protocols (max %d)", p->name, L7_MAX_PROTOS);
		return;
	}
	l7_protos[l7_nprotos++] = p;
}

const struct l7_proto *l7_lookup(const struct pano_pkt *pkt)
{
	for (int i = 0; i < l7_nprotos; i++)
		if (l7_protos[i]->match && l7_protos[i]->match(pkt))
			return l7_protos[i];
	return NULL;
}

void l7_tick_all(uint64_t now_ns)
{
	for (int i = 0; i < l7_nprotos; i++)
		if (l7_protos[i]->tick)
			l7_protos[i]->tick(now_ns);
}

void l7_flush_all(void)
{
	for (int i = 0; i < l7_nprotos; i++)
		if (l7_protos[i]->flush)
			l7_protos[i]->flush();
}

/* For tests: forget every registered protocol. */
void l7_reset(void)
{
	l7_nprotos = 0;
}
