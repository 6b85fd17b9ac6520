/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_rec.h - the http.log record: Zeek's fields in Zeek's order (the file-analysis columns
 * orig_fuids ... resp_mime_types left out), then PANO's own. `password` is not a field at all:
 * PANO never logs one. A leaf: the HTTP transaction code fills a struct http_rec and hands it
 * to its rec_emit; the writers (JSON, protobuf pano.v1.HttpRecord) come from this table.
 *
 * PANO's fields after Zeek's:
 *   latency           request start to response start (when both were seen)
 *   node, orig_... resp_...   as in ssl_rec.h
 */
#ifndef PANO_HTTP_REC_H
#define PANO_HTTP_REC_H

#include "rec.h"

#define HTTP_REC_FIELDS(X)                                                                         \
	REC_ID_FIELDS(X)                                                                           \
	X(COUNT, trans_depth, "trans_depth", 7)                                                    \
	X(STR, method, "method", 8)                                                                \
	X(STR, host, "host", 9)                                                                    \
	X(STR, uri, "uri", 10)                                                                     \
	X(STR, referrer, "referrer", 11)                                                           \
	X(STR, version, "version", 12)                                                             \
	X(STR, user_agent, "user_agent", 13)                                                       \
	X(STR, origin, "origin", 14)                                                               \
	X(COUNT, request_body_len, "request_body_len", 15)                                         \
	X(COUNT, response_body_len, "response_body_len", 16)                                       \
	X(COUNT, status_code, "status_code", 17)                                                   \
	X(STR, status_msg, "status_msg", 18)                                                       \
	X(COUNT, info_code, "info_code", 19)                                                       \
	X(STR, info_msg, "info_msg", 20)                                                           \
	X(STRV, tags, "tags", 21)                                                                  \
	X(STR, username, "username", 22)                                                           \
	X(STRV, proxied, "proxied", 24)                                                            \
	X(INTERVAL, latency, "latency", 30)                                                        \
	X(STR, node, "node", 40)                                                                   \
	REC_WHO_FIELDS(X)

struct http_rec {
	REC_STRUCT(HTTP_REC_FIELDS)
};

extern const struct rec_type http_rec_type;

#endif
