// SPDX-License-Identifier: Apache-2.0
/*
 * http_rec.c - the http.log record's writers, generated from its field table (http_rec.h).
 */
#include <stddef.h>

#include "http_rec.h"

static REC_JSON_FN(http_rec_json, struct http_rec, "http", HTTP_REC_FIELDS)
static REC_PB_FN(http_rec_pb, struct http_rec, "http", HTTP_REC_FIELDS)

const struct rec_type http_rec_type = {
    .path = "http",
    .json = http_rec_json,
    .pb = http_rec_pb,
    .key_off = offsetof(struct http_rec, id_orig_h),
};
