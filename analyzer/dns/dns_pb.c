// SPDX-License-Identifier: Apache-2.0
/*
 * dns_pb.c - the DNS record as protobuf (pano.v1.DnsRecord, proto/pano_record.proto), for
 * --format protobuf: the same fields as the JSON writer, unset fields left unset. The message
 * is built on the stack, pointing at the record's own strings, and packed into one buffer.
 */
#include <stdlib.h>
#include <string.h>

#include "dns_txn.h"
#include "pano_record.pb-c.h"

#define DNS_PB_MAX_ANSWERS 1000

void dns_pb_write(const struct dns_info *in, const struct dns_conn *c, struct wbuf *out)
{
	Pano__V1__DnsRecord r = PANO__V1__DNS_RECORD__INIT;
	char *answers[DNS_PB_MAX_ANSWERS];
	double ttls[DNS_PB_MAX_ANSWERS];
	char b1[32], b2[32], b3[32], b4[32], b5[32];
	size_t pos = 0;

	out->len = 0;
	out->cut = false;
	r.has_ts = 1;
	r.ts = (double)(in->ts_ns / 1000) / 1e6;
	r.uid = (char *)c->uid;
	r.id_orig_h = (char *)c->orig_s;
	r.has_id_orig_p = 1;
	r.id_orig_p = c->orig_p;
	r.id_resp_h = (char *)c->resp_s;
	r.has_id_resp_p = 1;
	r.id_resp_p = c->resp_p;
	r.proto = c->proto == 6 ? "tcp" : "udp";
	r.has_trans_id = 1;
	r.trans_id = in->trans_id;
	if (in->has_rtt) {
		r.has_rtt = 1;
		r.rtt = (double)(in->rtt_ns / 1000) / 1e6;
	}
	r.query = in->query;
	if (in->has_qclass) {
		r.has_qclass = r.has_qtype = 1;
		r.qclass = in->qclass;
		r.qtype = in->qtype;
		r.qclass_name = (char *)dns_qclass_name(in->qclass, b1, sizeof(b1));
		r.qtype_name = (char *)dns_qtype_name(in->qtype, b2, sizeof(b2));
		if (c->netbios && in->qtype == DNS_T_SRV)
			r.qtype_name = "NBSTAT";
	}
	if (in->has_rcode) {
		r.has_rcode = 1;
		r.rcode = in->rcode;
		r.rcode_name = (char *)dns_rcode_name(in->rcode, b3, sizeof(b3));
	}
	r.has_aa = r.has_tc = r.has_rd = r.has_ra = r.has_z = r.has_rejected = r.has_opcode = 1;
	r.aa = in->AA;
	r.tc = in->TC;
	r.rd = in->RD;
	r.ra = in->RA;
	r.z = in->Z;
	for (unsigned i = 0; i < in->nanswers && i < DNS_PB_MAX_ANSWERS; i++) {
		uint32_t ttl;
		answers[i] = (char *)dns_info_answer(in, &pos, &ttl, i);
		ttls[i] = ttl;
		r.n_answers = r.n_ttls = i + 1;
	}
	r.answers = answers;
	r.ttls = ttls;
	r.rejected = in->rejected;
	r.opcode = in->opcode;
	r.opcode_name = (char *)dns_opcode_name(in->opcode, c->netbios, b4, sizeof(b4));
	if (c->node[0])
		r.node = (char *)c->node;
	if (in->iface[0])
		r.interface = (char *)in->iface;
	if (in->dir == 0 || in->dir == 1)
		r.direction = in->dir ? "out" : "in";
	if (in->query_size) {
		r.has_query_len = 1;
		r.query_len = in->query_size;
	}
	if (in->reply_size) {
		r.has_reply_len = 1;
		r.reply_len = in->reply_size;
	}
	if (in->has_latency) {
		r.has_latency = 1;
		r.latency = (double)(in->latency_ns / 1000) / 1e6;
	}
	if (in->has_edns) {
		r.has_edns_udp_size = r.has_edns_do = r.has_edns_version = 1;
		r.edns_udp_size = in->edns.udp_size;
		r.edns_do = in->edns.do_bit;
		r.edns_version = in->edns.version;
	}
	if (in->has_service) {
		r.service_h = (char *)in->service_s;
		r.has_service_p = 1;
		r.service_p = in->service_p;
	}
	struct {
		const struct sender_rec *w;
		char **ns, **pod, **container, **comm;
		protobuf_c_boolean *has_pid;
		uint32_t *pid;
	} sides[] = {{in->orig_w, &r.orig_k8s_namespace, &r.orig_k8s_pod, &r.orig_container,
		      &r.orig_comm, &r.has_orig_pid, &r.orig_pid},
		     {in->resp_w, &r.resp_k8s_namespace, &r.resp_k8s_pod, &r.resp_container,
		      &r.resp_comm, &r.has_resp_pid, &r.resp_pid}};
	for (int i = 0; i < 2; i++) {
		const struct sender_rec *w = sides[i].w;
		if (!w)
			continue;
		*sides[i].ns = w->ns[0] ? (char *)w->ns : NULL;
		*sides[i].pod = w->pod[0] ? (char *)w->pod : NULL;
		*sides[i].container = w->container[0] ? (char *)w->container : NULL;
		*sides[i].comm = w->comm[0] ? (char *)w->comm : NULL;
		*sides[i].has_pid = w->pid != 0;
		*sides[i].pid = w->pid;
	}
	if (in->has_edns_rcode) {
		r.has_edns_rcode = 1;
		r.edns_rcode = in->edns_rcode;
		r.edns_rcode_name = (char *)dns_rcode_name(in->edns_rcode, b5, sizeof(b5));
	}
	if (in->query_cut)
		r.has_query_cut = r.query_cut = 1;
	if (in->reply_cut)
		r.has_reply_cut = r.reply_cut = 1;
	size_t n = pano__v1__dns_record__get_packed_size(&r);
	if (n + 1 > DNS_REC_MAX) {
		out->cut = true;
		return;
	}
	wbuf_put(out, "", 0); /* make sure a buffer exists */
	if (out->cap < n + 1) {
		char *p = realloc(out->p, n + 1);
		if (!p) {
			out->cut = true;
			return;
		}
		out->p = p;
		out->cap = n + 1;
	}
	out->len = pano__v1__dns_record__pack(&r, (uint8_t *)out->p);
}
