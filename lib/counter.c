// SPDX-License-Identifier: Apache-2.0
/* counter.c - the registry behind PANO_COUNTER; see counter.h. */
#include <string.h>

#include "counter.h"

static struct pano_counter *counter_head, **counter_tail = &counter_head;

/* Called from constructors before main(), single-threaded; keeps registration order. */
void counter_register(struct pano_counter *c)
{
	c->next = NULL;
	*counter_tail = c;
	counter_tail = &c->next;
}

struct pano_counter *counter_first(void)
{
	return counter_head;
}

struct pano_counter *counter_find(const char *name)
{
	for (struct pano_counter *c = counter_head; c; c = c->next)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}
