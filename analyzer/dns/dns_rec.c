// SPDX-License-Identifier: Apache-2.0
/*
 * dns_rec.c - the dns.log record's type (its writers, generated from its field table in
 * dns_rec.h) and the summary-only message event (no path: only the summaries see it).
 */
#include <stddef.h>

#include "dns_rec.h"

REC_TYPE(dns_rec_type, struct dns_rec, "dns", DNS_REC_FIELDS)

const struct rec_type dns_msg_ev_type = {.path = NULL};
