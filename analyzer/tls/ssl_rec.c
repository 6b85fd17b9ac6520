// SPDX-License-Identifier: Apache-2.0
/*
 * ssl_rec.c - the ssl.log record's type: its writers, generated from its field table (ssl_rec.h).
 */
#include <stddef.h>

#include "ssl_rec.h"

REC_TYPE(ssl_rec_type, struct ssl_rec, "ssl", SSL_REC_FIELDS)
