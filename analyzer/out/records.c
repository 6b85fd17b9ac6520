// SPDX-License-Identifier: Apache-2.0
/*
 * records.c - the out stage (see records.h): one encoding per record, every sink gets it.
 */
#include "counter.h"
#include "records.h"
#include "sink.h"
#include "summary.h"

PANO_COUNTER(c_rec_cut, "records_over_cap", "drop",
	     "records whose encoding passed the record size cap (not written)");

void rec_out_init(struct rec_out *o, enum rec_format format, int dotted, struct sink_set *sinks)
{
	*o = (struct rec_out){.format = format, .dotted = dotted, .sinks = sinks};
	o->buf.max = WBUF_DEFAULT_MAX;
	o->emit.fn = rec_out_emit;
	o->emit.arg = o;
}

void rec_out_free(struct rec_out *o)
{
	wbuf_free(&o->buf);
}

void rec_out_emit(void *arg, const struct rec_type *t, const void *rec)
{
	struct rec_out *o = arg;

	if (o->sum)
		summary_record(o->sum, t, rec);
	if (!t->path || !o->sinks)
		return;
	if (o->format == REC_FORMAT_PROTOBUF)
		t->pb(rec, &o->buf);
	else
		t->json(rec, o->dotted, &o->buf);
	if (o->buf.cut) {
		o->cut++;
		counter_inc(&c_rec_cut);
		return;
	}
	const struct rec_str *key = (const struct rec_str *)((const char *)rec + t->key_off);
	sink_set_emit(o->sinks, t->path, key->p, key->len, o->buf.p, o->buf.len);
}
