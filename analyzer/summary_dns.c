// SPDX-License-Identifier: Apache-2.0
/*
 * summary_dns.c - the adapters between the DNS module's own structures and the summary hooks,
 * so that the DNS module needs one guarded call per hook: summary_dns_parsed() for each parsed
 * message, summary_dns_info() for each transaction record it emits.
 */
#include <netinet/in.h>

#include "dns_txn.h"
#include "summary.h"

void summary_dns_parsed(const struct dns_msg *m, const struct pano_pkt *pkt, size_t len)
{
	struct summary_dns_msg s = {
	    .ts_ns = pkt->ts_ns,
	    .saddr = &pkt->saddr,
	    .daddr = &pkt->daddr,
	    .sport = pkt->sport,
	    .dport = pkt->dport,
	    .l4proto = pkt->l4proto,
	    .is_reply = DNS_QR(m->flags),
	    .opcode = DNS_OPCODE(m->flags),
	    .rcode = DNS_RCODE(m->flags),
	    .qtype = m->has_question ? m->qtype : 0,
	    .qname = m->has_question ? m->qname : NULL,
	    .ancount = m->ancount,
	    .size = (uint32_t)len,
	    .edns = m->edns.present,
	    .do_bit = m->edns.do_bit,
	    .ecs = m->edns.ecs,
	};

	summary_dns_message(&s);
}

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
	};

	if (in->conn && in->conn->multicast) /* never paired: not a transaction */
		return;
	summary_dns_txn(&t);
}
