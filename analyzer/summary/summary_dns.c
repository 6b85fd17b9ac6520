// SPDX-License-Identifier: Apache-2.0
/*
 * summary_dns.c - the adapter between the DNS module's transaction records and the summary
 * hooks: summary_dns_info() for each transaction record the module emits. (summary_dns_parsed(),
 * for each parsed message, is in summary.c, where the message hook is inlined into it.)
 */
#include <netinet/in.h>

#include "dns_txn.h"
#include "summary.h"

void summary_dns_info(const struct dns_info *in)
{
	struct summary_dns_txn t = {
	    .ts_ns = in->ts_ns,
	    .client = in->conn ? &in->conn->orig_h : NULL,
	    .server = in->conn ? &in->conn->resp_h : NULL,
	    .qname = in->query,
	    .qtype = in->qtype,
	    .answered = in->saw_query && in->saw_reply,
	    .timed_out = in->saw_query && !in->saw_reply,
	    .orphan = in->saw_reply && !in->saw_query,
	    /* Transaction time from the two halves, also where Zeek leaves rtt unset (a reply
	     * without answers). */
	    .rtt_ns = in->saw_query && in->saw_reply && in->reply_ts_ns > in->query_ts_ns
			  ? in->reply_ts_ns - in->query_ts_ns
			  : 0,
	    .query_size = in->query_size,
	    .reply_size = in->reply_size,
	    .client_ns = in->orig_w && in->orig_w->pod[0] ? in->orig_w->ns : NULL,
	    .client_pod = in->orig_w && in->orig_w->pod[0] ? in->orig_w->pod : NULL,
	    .rcode = in->has_rcode ? in->rcode : -1,
	};

	if (in->conn && in->conn->multicast) /* never paired: not a transaction */
		return;
	summary_dns_txn(&t);
}

void summary_dns_record(const struct rec_type *t, const void *rec)
{
	(void)t;
	(void)rec; /* DNS still reports through summary_dns_info() */
}
