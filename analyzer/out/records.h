/* SPDX-License-Identifier: Apache-2.0 */
/*
 * records.h - the out stage: finished records from every protocol (struct rec_emit, rec.h) are
 * shown to the summaries, encoded once (JSON with _path, or protobuf) and handed to the sinks
 * with their log path, which the Kafka sink maps to a topic. An engine owns its struct rec_out;
 * the sink set it writes to belongs to whoever made the engine (main: one set for all).
 */
#ifndef PANO_RECORDS_H
#define PANO_RECORDS_H

#include "rec.h"
#include "wbuf.h"

struct sink_set;
struct summary;

enum rec_format { REC_FORMAT_JSON = 0, REC_FORMAT_PROTOBUF = 1 };

struct rec_out {
	enum rec_format format;
	int dotted;		/* Zeek's dotted names (id.orig_h) */
	struct wbuf buf;	/* the encoded record (reused) */
	struct rec_emit emit;	/* what protocols are given: calls rec_out_emit with this */
	struct sink_set *sinks; /* where encoded records go; NULL: summaries only */
	struct summary *sum;	/* the summaries records are shown to; NULL: none */
	uint64_t cut;		/* records over the buffer's cap, not written (also counted) */
};

/* Sets up o (encoding, the sinks, the emit hook protocols get); no summaries until o->sum is
 * set. */
void rec_out_init(struct rec_out *o, enum rec_format format, int dotted, struct sink_set *sinks);
void rec_out_free(struct rec_out *o);
/* Summaries, then (for a record with a path) encode and hand to the sinks. */
void rec_out_emit(void *o, const struct rec_type *t, const void *rec);

#endif
