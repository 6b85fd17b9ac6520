// SPDX-License-Identifier: Apache-2.0
/*
 * http_rec.c - the http.log record's type: its writers, generated from its field table (http_rec.h).
 */
#include <stddef.h>

#include "http_rec.h"

REC_TYPE(http_rec_type, struct http_rec, "http", HTTP_REC_FIELDS)
