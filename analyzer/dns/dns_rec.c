// SPDX-License-Identifier: Apache-2.0
/*
 * dns_rec.c - the dns.log record's writers, generated from its field table (dns_rec.h), and
 * the summary-only message event (no path: the out stage only shows it to the summaries).
 */
#include <stddef.h>

#include "dns_rec.h"

static REC_JSON_FN(dns_rec_json, struct dns_rec, "dns",
		   DNS_REC_FIELDS) static REC_PB_FN(dns_rec_pb, struct dns_rec, "dns",
						    DNS_REC_FIELDS)

    const struct rec_type dns_rec_type = {
	.path = "dns",
	.json = dns_rec_json,
	.pb = dns_rec_pb,
	.key_off = offsetof(struct dns_rec, id_orig_h),
};

const struct rec_type dns_msg_ev_type = {.path = NULL};
