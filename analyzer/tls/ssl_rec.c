// SPDX-License-Identifier: Apache-2.0
/*
 * ssl_rec.c - the ssl.log record's writers, generated from its field table (ssl_rec.h).
 */
#include <stddef.h>

#include "ssl_rec.h"

static REC_JSON_FN(ssl_rec_json, struct ssl_rec, "ssl", SSL_REC_FIELDS)
static REC_PB_FN(ssl_rec_pb, struct ssl_rec, "ssl", SSL_REC_FIELDS)

const struct rec_type ssl_rec_type = {
    .path = "ssl",
    .json = ssl_rec_json,
    .pb = ssl_rec_pb,
    .key_off = offsetof(struct ssl_rec, id_orig_h),
};
