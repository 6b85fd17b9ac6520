/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sender.h - the senders of frames (process, pod, container: struct pano_sender) that records
 * name, kept once each in a bounded table instead of in every open transaction. A transaction
 * holds a small reference; the table replaces its least recently used entries when full, and a
 * reference to a replaced entry reads as unknown (counted), never as another sender.
 */
#ifndef PANO_SENDER_H
#define PANO_SENDER_H

#include <stdint.h>

#include "packet.h"

#define SENDER_COMM_LEN	     16
#define SENDER_NS_LEN	     64
#define SENDER_POD_LEN	     254
#define SENDER_CONTAINER_LEN 64

struct sender_rec {
	uint32_t gen; /* 0: free */
	uint32_t pid;
	uint64_t hash, used_ns;
	char comm[SENDER_COMM_LEN]; /* NUL-terminated, "" unknown */
	char ns[SENDER_NS_LEN];
	char pod[SENDER_POD_LEN];
	char container[SENDER_CONTAINER_LEN];
};

/* A reference into the table; gen 0 is "nobody". */
struct sender_ref {
	uint32_t slot, gen;
};

struct sender_table;

/* A table of slots entries (rounded up to a multiple of 4); NULL when out of memory. */
struct sender_table *sender_table_new(unsigned slots);
void sender_table_free(struct sender_table *t);
/* The reference of s (added when new; NULL or nothing known: gen 0). */
struct sender_ref sender_intern(struct sender_table *t, const struct pano_sender *s,
				uint64_t now_ns);
/* The entry r refers to, or NULL (nobody, or replaced since: counted). */
const struct sender_rec *sender_get(const struct sender_table *t, struct sender_ref r);
/* Entries in use (*size: slots in all); a walk over every slot, for gauges, not the data path. */
unsigned sender_table_used(const struct sender_table *t, unsigned *size);

/* Parses the comment pano-agent writes on a pcapng packet ("cgroup=N pid=N pod=NS/POD
 * container=C comm=REST", each key optional, in that order) into s, pointing into text.
 * 0, or -1 when text is not such a comment. */
int sender_parse_comment(const char *text, size_t len, struct pano_sender *s);

#endif
