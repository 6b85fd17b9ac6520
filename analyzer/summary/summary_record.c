// SPDX-License-Identifier: Apache-2.0
/*
 * summary_record.c - the summaries' entry for finished records (records.h shows every record
 * to summary_record()): each record type goes to the summaries of its protocol.
 */
#include "http_rec.h"
#include "ssl_rec.h"
#include "summary.h"

void summary_record(struct summary *s, const struct rec_type *t, const void *rec)
{
	if (t == &ssl_rec_type)
		summary_tls(s, rec);
	else if (t == &http_rec_type)
		summary_http(s, rec);
	else
		summary_dns_record(s, t, rec); /* DNS's records and events (summary_dns.c) */
}
