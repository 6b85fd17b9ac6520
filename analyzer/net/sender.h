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
#include "rec.h"

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

/* A TCP connection's two senders, who[1] the client's and who[0] the server's: the sender of
 * pkt (which from_client's side sent) is interned when that side has none yet, so each side
 * is named by its first frame that names one. */
static inline void sender_note(struct sender_table *t, struct sender_ref who[2], int from_client,
			       const struct pano_pkt *pkt)
{
	struct sender_ref *r = &who[from_client ? 1 : 0];

	if (!r->gen && pkt->frame && pkt->frame->meta.sender)
		*r = sender_intern(t, pkt->frame->meta.sender, pkt->ts_ns);
}

/* The who fields of record r (a table that lists REC_WHO_FIELDS, rec.h): SENDER_REC_WHO sets
 * the orig_* ones from the client's sender o and the resp_* ones from the server's s (either
 * NULL: not known); SENDER_REC_CONN those of a connection's pair who[2] (sender_note) in table
 * t; SENDER_REC_SIDE one side's (side orig or resp) from w. Namespace, pod, container, pid and
 * process name are set where the sender has them, the rest left unset. */
#define SENDER_REC_SIDE(r, side, w)                                                                \
	do {                                                                                       \
		if ((w)->ns[0])                                                                    \
			REC_SET(r, side##_k8s_namespace, rec_cstr((w)->ns));                       \
		if ((w)->pod[0])                                                                   \
			REC_SET(r, side##_k8s_pod, rec_cstr((w)->pod));                            \
		if ((w)->container[0])                                                             \
			REC_SET(r, side##_container, rec_cstr((w)->container));                    \
		if ((w)->pid)                                                                      \
			REC_SET(r, side##_pid, (w)->pid);                                          \
		if ((w)->comm[0])                                                                  \
			REC_SET(r, side##_comm, rec_cstr((w)->comm));                              \
	} while (0)
#define SENDER_REC_WHO(r, o, s)                                                                    \
	do {                                                                                       \
		const struct sender_rec *o_ = (o), *s_ = (s);                                      \
		if (o_)                                                                            \
			SENDER_REC_SIDE(r, orig, o_);                                              \
		if (s_)                                                                            \
			SENDER_REC_SIDE(r, resp, s_);                                              \
	} while (0)
#define SENDER_REC_CONN(r, t, who)                                                                 \
	SENDER_REC_WHO(r, sender_get(t, (who)[1]), sender_get(t, (who)[0]))

/* Parses the comment pano-agent writes on a pcapng packet ("cgroup=N pid=N pod=NS/POD
 * container=C comm=REST", each key optional, in that order) into s, pointing into text.
 * 0, or -1 when text is not such a comment. */
int sender_parse_comment(const char *text, size_t len, struct pano_sender *s);

#endif
