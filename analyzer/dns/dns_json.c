// SPDX-License-Identifier: Apache-2.0
/*
 * dns_json.c - the DNS record writer: one JSON object per transaction with Zeek's dns.log
 * fields in Zeek's order and types (unset fields left out, as Zeek's JSON writer does), then
 * PANO's own fields:
 *   node           agent node name (when the input knows it)
 *   interface      capture interface (when known)
 *   direction      "in" / "out" at that interface (when known)
 *   query_size     DNS query message bytes (when a query was seen)
 *   reply_size     DNS reply message bytes (when a reply was seen)
 *   edns_udp_size, edns_version, edns_do    EDNS0 OPT of the query (else of the reply)
 *   edns_ecs       client subnet as "address/source-prefix" (e.g. "192.0.2.0/24")
 *   edns_cookie    true when a COOKIE option was present
 *   edns_rcode, edns_rcode_name   the reply's full extended RCODE (RFC 6891: the OPT's 8 bits
 *                  above the header's 4, e.g. 16 BADVERS, 23 BADCOOKIE) when the reply had an OPT
 *                  record; Zeek's rcode stays the header's 4 bits
 *   query_cut, reply_cut   true (else left out) when the capture kept only part of that
 *                  message: its size is still the message's own length
 * A hand-written writer: it is on the hot path and every string is escaped here.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_txn.h"
#include "json.h"

const char *dns_info_answer(const struct dns_info *in, size_t *pos, uint32_t *ttl, unsigned i)
{
	const char *a = in->answers.p + *pos;
	*pos += strlen(a) + 1;
	memcpy(ttl, in->ttls.p + (size_t)i * sizeof(*ttl), sizeof(*ttl));
	return a;
}

/* One side's sender: <side>_k8s_namespace, _k8s_pod, _container, _pid, _comm, where known. */
static void json_sender(struct wbuf *b, const char *side, const struct sender_rec *w)
{
	static const char *const keys[] = {"k8s_namespace", "k8s_pod", "container", "comm"};
	const char *vals[] = {w->ns, w->pod, w->container, w->comm};
	char k[32];

	for (int i = 0; i < 4; i++) {
		if (i == 3 && w->pid) {
			snprintf(k, sizeof(k), "%s_pid", side);
			json_kuint(b, k, w->pid);
		}
		if (!vals[i][0])
			continue;
		snprintf(k, sizeof(k), "%s_%s", side, keys[i]);
		json_kstr(b, k, vals[i]);
	}
}

/* The fields after EDNS, by exact appends on both paths: the service address of a record
 * joined across a DNAT, and each side's sender. */
static void json_tail(struct wbuf *b, const struct dns_info *in)
{
	if (in->has_service) {
		json_kraw(b, "service_h", in->service_s);
		json_kuint(b, "service_p", in->service_p);
	}
	if (in->orig_w)
		json_sender(b, "orig", in->orig_w);
	if (in->resp_w)
		json_sender(b, "resp", in->resp_w);
}

/* The record by exact appends, each checked against DNS_REC_MAX: the path of a record whose
 * worst case does not fit under the cap (json_write_fast writes the same bytes). */
static void json_write_exact(const struct dns_info *in, const struct dns_conn *c, int dotted,
			     struct wbuf *b)
{
	char a[INET6_ADDRSTRLEN], nb[32];

	b->len = 0;
	b->cut = false;
	wbuf_puts(b, "{\"ts\":");
	json_secs(b, in->ts_ns);
	json_kraw(b, "uid", c->uid);
	json_kraw(b, dotted ? "id.orig_h" : "id_orig_h", c->orig_s);
	json_kuint(b, dotted ? "id.orig_p" : "id_orig_p", c->orig_p);
	json_kraw(b, dotted ? "id.resp_h" : "id_resp_h", c->resp_s);
	json_kuint(b, dotted ? "id.resp_p" : "id_resp_p", c->resp_p);
	json_kraw(b, "proto", c->proto == 6 ? "tcp" : "udp");
	json_kuint(b, "trans_id", in->trans_id);
	if (in->has_rtt)
		json_ksecs(b, "rtt", in->rtt_ns);
	if (in->query)
		json_kstr(b, "query", in->query);
	if (in->has_qclass) {
		json_kuint(b, "qclass", in->qclass);
		json_kraw(b, "qclass_name", dns_qclass_name(in->qclass, nb, sizeof(nb)));
		json_kuint(b, "qtype", in->qtype);
		const char *tn = dns_qtype_name(in->qtype, nb, sizeof(nb));
		if (c->netbios && in->qtype == DNS_T_SRV)
			tn = "NBSTAT";
		json_kraw(b, "qtype_name", tn);
	}
	if (in->has_rcode) {
		json_kuint(b, "rcode", in->rcode);
		json_kraw(b, "rcode_name", dns_rcode_name(in->rcode, nb, sizeof(nb)));
	}
	json_kbool(b, "AA", in->AA);
	json_kbool(b, "TC", in->TC);
	json_kbool(b, "RD", in->RD);
	json_kbool(b, "RA", in->RA);
	json_kuint(b, "Z", in->Z);
	if (in->nanswers) {
		size_t pos = 0;
		uint32_t ttl;
		json_key(b, "answers");
		wbuf_put(b, "[", 1);
		for (unsigned i = 0; i < in->nanswers; i++) {
			const char *a = dns_info_answer(in, &pos, &ttl, i);
			if (i)
				wbuf_put(b, ",", 1);
			json_str(b, a, strlen(a));
		}
		wbuf_put(b, "]", 1);
		json_key(b, "TTLs");
		wbuf_put(b, "[", 1);
		pos = 0;
		for (unsigned i = 0; i < in->nanswers; i++) {
			dns_info_answer(in, &pos, &ttl, i);
			if (i)
				wbuf_put(b, ",", 1);
			json_uint(b, ttl);
			wbuf_put(b, ".0", 2);
		}
		wbuf_put(b, "]", 1);
	}
	json_kbool(b, "rejected", in->rejected);
	json_kuint(b, "opcode", in->opcode);
	json_kraw(b, "opcode_name", dns_opcode_name(in->opcode, c->netbios, nb, sizeof(nb)));
	/* PANO's own fields. */
	if (c->node[0])
		json_kstr(b, "node", c->node);
	if (in->iface[0])
		json_kstr(b, "interface", in->iface);
	if (in->dir == 0 || in->dir == 1)
		json_kraw(b, "direction", in->dir ? "out" : "in");
	if (in->query_size)
		json_kuint(b, "query_size", in->query_size);
	if (in->reply_size)
		json_kuint(b, "reply_size", in->reply_size);
	if (in->has_latency)
		json_ksecs(b, "latency", in->latency_ns);
	if (in->has_edns) {
		const struct dns_edns *e = &in->edns;
		json_kuint(b, "edns_udp_size", e->udp_size);
		json_kuint(b, "edns_version", e->version);
		json_kbool(b, "edns_do", e->do_bit);
		if (e->ecs) {
			char s[INET6_ADDRSTRLEN + 8];
			if (e->ecs_family == 1)
				pano_ip4_text(e->ecs_addr, a);
			else
				pano_ip6_text(e->ecs_addr, a);
			snprintf(s, sizeof(s), "%s/%u", a, e->ecs_source);
			json_kstr(b, "edns_ecs", s);
		}
		json_kbool(b, "edns_cookie", e->cookie);
	}
	if (in->has_edns_rcode) {
		json_kuint(b, "edns_rcode", in->edns_rcode);
		json_kraw(b, "edns_rcode_name", dns_rcode_name(in->edns_rcode, nb, sizeof(nb)));
	}
	if (in->query_cut)
		json_kbool(b, "query_cut", true);
	if (in->reply_cut)
		json_kbool(b, "reply_cut", true);
	json_tail(b, in);
	wbuf_put(b, "}", 1);
}

/*
 * Bytes the record of in may take at most. Fixed part: keys, numbers (20 digits at most),
 * booleans, uid (< 24), address texts (< 46), table names (< 32), EDNS with its client subnet:
 * under 1,500 bytes. Escaped strings take at most 6 bytes per byte plus their quotes; each
 * answer adds a comma and its quotes, and its TTL at most 13 bytes (",4294967295.0").
 */
static size_t json_bound(const struct dns_info *in, const struct dns_conn *c, size_t qlen)
{
	return 2048 + 6 * (qlen + strlen(c->node) + strlen(in->iface)) + 6 * in->answers.len +
	       24 * (size_t)in->nanswers;
}

/*
 * The record written in place after one reservation of its worst case (json_bound): no check
 * per field. Returns false, having written nothing, when that reservation does not fit under
 * DNS_REC_MAX; the caller then takes the exact path, so a record near the cap is cut exactly
 * where it always was.
 */
static bool json_write_fast(const struct dns_info *in, const struct dns_conn *c, int dotted,
			    struct wbuf *b)
{
	char nb[32];
	size_t qlen = in->query ? in->query_len : 0;
	char *p = wbuf_room(b, json_bound(in, c, qlen));

	if (!p)
		return false;
	JSON_LIT(p, "{\"ts\":");
	p = json_secs_to(p, in->ts_ns);
	JSON_LIT(p, ",\"uid\":");
	p = json_raw_to(p, c->uid);
	if (dotted)
		JSON_LIT(p, ",\"id.orig_h\":");
	else
		JSON_LIT(p, ",\"id_orig_h\":");
	p = json_raw_to(p, c->orig_s);
	if (dotted)
		JSON_LIT(p, ",\"id.orig_p\":");
	else
		JSON_LIT(p, ",\"id_orig_p\":");
	p = json_utoa(p, c->orig_p);
	if (dotted)
		JSON_LIT(p, ",\"id.resp_h\":");
	else
		JSON_LIT(p, ",\"id_resp_h\":");
	p = json_raw_to(p, c->resp_s);
	if (dotted)
		JSON_LIT(p, ",\"id.resp_p\":");
	else
		JSON_LIT(p, ",\"id_resp_p\":");
	p = json_utoa(p, c->resp_p);
	if (c->proto == 6)
		JSON_LIT(p, ",\"proto\":\"tcp\",\"trans_id\":");
	else
		JSON_LIT(p, ",\"proto\":\"udp\",\"trans_id\":");
	p = json_utoa(p, in->trans_id);
	if (in->has_rtt) {
		JSON_LIT(p, ",\"rtt\":");
		p = json_secs_to(p, in->rtt_ns);
	}
	if (in->query) {
		JSON_LIT(p, ",\"query\":");
		p = json_str_to(p, in->query, qlen);
	}
	if (in->has_qclass) {
		JSON_LIT(p, ",\"qclass\":");
		p = json_utoa(p, in->qclass);
		JSON_LIT(p, ",\"qclass_name\":");
		p = json_raw_to(p, dns_qclass_name(in->qclass, nb, sizeof(nb)));
		JSON_LIT(p, ",\"qtype\":");
		p = json_utoa(p, in->qtype);
		const char *tn = dns_qtype_name(in->qtype, nb, sizeof(nb));
		if (c->netbios && in->qtype == DNS_T_SRV)
			tn = "NBSTAT";
		JSON_LIT(p, ",\"qtype_name\":");
		p = json_raw_to(p, tn);
	}
	if (in->has_rcode) {
		JSON_LIT(p, ",\"rcode\":");
		p = json_utoa(p, in->rcode);
		JSON_LIT(p, ",\"rcode_name\":");
		p = json_raw_to(p, dns_rcode_name(in->rcode, nb, sizeof(nb)));
	}
	JSON_LIT(p, ",\"AA\":");
	p = json_bool_to(p, in->AA);
	JSON_LIT(p, ",\"TC\":");
	p = json_bool_to(p, in->TC);
	JSON_LIT(p, ",\"RD\":");
	p = json_bool_to(p, in->RD);
	JSON_LIT(p, ",\"RA\":");
	p = json_bool_to(p, in->RA);
	JSON_LIT(p, ",\"Z\":");
	p = json_utoa(p, in->Z);
	if (in->nanswers) {
		size_t pos = 0;
		JSON_LIT(p, ",\"answers\":[");
		for (unsigned i = 0; i < in->nanswers; i++) {
			const char *a = in->answers.p + pos;
			size_t n = strlen(a);
			pos += n + 1;
			if (i)
				*p++ = ',';
			p = json_str_to(p, a, n);
		}
		JSON_LIT(p, "],\"TTLs\":[");
		for (unsigned i = 0; i < in->nanswers; i++) {
			uint32_t ttl;
			memcpy(&ttl, in->ttls.p + (size_t)i * sizeof(ttl), sizeof(ttl));
			if (i)
				*p++ = ',';
			p = json_utoa(p, ttl);
			JSON_LIT(p, ".0");
		}
		*p++ = ']';
	}
	if (in->rejected)
		JSON_LIT(p, ",\"rejected\":true,\"opcode\":");
	else
		JSON_LIT(p, ",\"rejected\":false,\"opcode\":");
	p = json_utoa(p, in->opcode);
	JSON_LIT(p, ",\"opcode_name\":");
	p = json_raw_to(p, dns_opcode_name(in->opcode, c->netbios, nb, sizeof(nb)));
	/* PANO's own fields. */
	if (c->node[0]) {
		JSON_LIT(p, ",\"node\":");
		p = json_str_to(p, c->node, strlen(c->node));
	}
	if (in->iface[0]) {
		JSON_LIT(p, ",\"interface\":");
		p = json_str_to(p, in->iface, strlen(in->iface));
	}
	if (in->dir == 0)
		JSON_LIT(p, ",\"direction\":\"in\"");
	else if (in->dir == 1)
		JSON_LIT(p, ",\"direction\":\"out\"");
	if (in->query_size) {
		JSON_LIT(p, ",\"query_size\":");
		p = json_utoa(p, in->query_size);
	}
	if (in->reply_size) {
		JSON_LIT(p, ",\"reply_size\":");
		p = json_utoa(p, in->reply_size);
	}
	if (in->has_latency) {
		JSON_LIT(p, ",\"latency\":");
		p = json_secs_to(p, in->latency_ns);
	}
	if (in->has_edns) {
		const struct dns_edns *e = &in->edns;
		JSON_LIT(p, ",\"edns_udp_size\":");
		p = json_utoa(p, e->udp_size);
		JSON_LIT(p, ",\"edns_version\":");
		p = json_utoa(p, e->version);
		JSON_LIT(p, ",\"edns_do\":");
		p = json_bool_to(p, e->do_bit);
		if (e->ecs) {
			char a[INET6_ADDRSTRLEN], s[INET6_ADDRSTRLEN + 8];
			if (e->ecs_family == 1)
				pano_ip4_text(e->ecs_addr, a);
			else
				pano_ip6_text(e->ecs_addr, a);
			int n = snprintf(s, sizeof(s), "%s/%u", a, e->ecs_source);
			JSON_LIT(p, ",\"edns_ecs\":");
			p = json_str_to(p, s,
					n < 0			? 0
					: (size_t)n < sizeof(s) ? (size_t)n
								: sizeof(s) - 1);
		}
		JSON_LIT(p, ",\"edns_cookie\":");
		p = json_bool_to(p, e->cookie);
	}
	if (in->has_edns_rcode) {
		JSON_LIT(p, ",\"edns_rcode\":");
		p = json_utoa(p, in->edns_rcode);
		JSON_LIT(p, ",\"edns_rcode_name\":");
		p = json_raw_to(p, dns_rcode_name(in->edns_rcode, nb, sizeof(nb)));
	}
	if (in->query_cut)
		JSON_LIT(p, ",\"query_cut\":true");
	if (in->reply_cut)
		JSON_LIT(p, ",\"reply_cut\":true");
	wbuf_done(b, p);
	if (in->has_service || in->orig_w || in->resp_w)
		json_tail(b, in);
	wbuf_put(b, "}", 1);
	return true;
}

void dns_json_write(const struct dns_info *in, const struct dns_conn *c, int dotted,
		    struct wbuf *b)
{
	b->len = 0;
	b->cut = false;
	if (!json_write_fast(in, c, dotted, b))
		json_write_exact(in, c, dotted, b);
}
