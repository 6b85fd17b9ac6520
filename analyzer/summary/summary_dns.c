// SPDX-License-Identifier: Apache-2.0
/*
 * summary_dns.c - DNS's records and summary-only events (summary_record() hands them here)
 * turned into the summary hooks: each dns.log record is a transaction (summary_dns_txn), each
 * message event a parsed message (summary_dns_parsed, in summary.c where the message hook is
 * inlined into it).
 */
#include <stddef.h>

#include "dns_rec.h"
#include "summary.h"

/* The transaction a dns.log record tells of. */
static void summary_dns_rec(struct summary *s, const struct dns_rec *r)
{
	if (r->single) /* mDNS/LLMNR: never paired, not a transaction */
		return;
	bool q = r->has_query_size, a = r->has_reply_size; /* which halves were seen */
	bool pod = r->has_orig_k8s_pod;
	struct summary_dns_txn t = {
	    .ts_ns = r->ts,
	    .client = r->orig_a,
	    .server = r->resp_a,
	    .qname = r->has_query ? r->query.p : NULL,
	    .qname_len = r->has_query ? r->query.len : 0,
	    .qtype = r->has_qtype ? (uint16_t)r->qtype : 0,
	    .answered = q && a,
	    .timed_out = q && !a,
	    .orphan = a && !q,
	    /* Transaction time from the two halves (PANO's latency), also where Zeek leaves rtt
	     * unset (a reply without answers). */
	    .rtt_ns = r->has_latency ? r->latency : 0,
	    .query_size = q ? (uint32_t)r->query_size : 0,
	    .reply_size = a ? (uint32_t)r->reply_size : 0,
	    .client_ns = pod && r->has_orig_k8s_namespace ? r->orig_k8s_namespace.p : NULL,
	    .client_ns_len = pod && r->has_orig_k8s_namespace ? r->orig_k8s_namespace.len : 0,
	    .client_pod = pod ? r->orig_k8s_pod.p : NULL,
	    .client_pod_len = pod ? r->orig_k8s_pod.len : 0,
	    .rcode = r->has_rcode ? (int)r->rcode : -1,
	};
	summary_dns_txn(s, &t);
}

void summary_dns_record(struct summary *s, const struct rec_type *t, const void *rec)
{
	if (t == &dns_msg_ev_type) {
		const struct dns_msg_ev *e = rec;
		summary_dns_parsed(s, e->msg, e->pkt, e->size);
	} else if (t == &dns_rec_type) {
		summary_dns_rec(s, rec);
	}
}
