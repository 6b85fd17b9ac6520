/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ssl_rec.h - the ssl.log record: Zeek's fields in Zeek's order and types, then PANO's own.
 * A leaf: the TLS transaction code fills a struct ssl_rec and hands it to its rec_emit; the
 * writers (JSON, protobuf pano.v1.SslRecord) come from this one table (rec.h).
 *
 * PANO's fields after Zeek's:
 *   ja4               JA4 of the ClientHello, as FoxIO defines it
 *   client_alpn       the ALPN protocols the client offered, in its order
 *   client_versions   the versions it offered (supported_versions, else the hello's), GREASE
 *                     left out, e.g. ["TLSv13","TLSv12"]
 *   dot, doh          DNS over TLS (port 853) / an SNI on the list of DoH resolvers
 *   node              the capturing agent's node
 *   orig_... resp_... who sent each side's frames (namespace, pod, container, pid, comm)
 */
#ifndef PANO_SSL_REC_H
#define PANO_SSL_REC_H

#include "rec.h"

#define SSL_REC_FIELDS(X)                                                                          \
	REC_ID_FIELDS(X)                                                                           \
	X(RAW, version, "version", 7)                                                              \
	X(RAW, cipher, "cipher", 8)                                                                \
	X(RAW, curve, "curve", 9)                                                                  \
	X(STR, server_name, "server_name", 10)                                                     \
	X(BOOL, resumed, "resumed", 11)                                                            \
	X(RAW, last_alert, "last_alert", 12)                                                       \
	X(STR, next_protocol, "next_protocol", 13)                                                 \
	X(BOOL, established, "established", 14)                                                    \
	X(RAW, ssl_history, "ssl_history", 15)                                                     \
	X(STRV, cert_chain_fps, "cert_chain_fps", 16)                                              \
	X(STRV, client_cert_chain_fps, "client_cert_chain_fps", 17)                                \
	X(BOOL, sni_matches_cert, "sni_matches_cert", 18)                                          \
	X(RAW, ja4, "ja4", 30)                                                                     \
	X(STRV, client_alpn, "client_alpn", 31)                                                    \
	X(STRV, client_versions, "client_versions", 32)                                            \
	X(BOOL, dot, "dot", 33)                                                                    \
	X(BOOL, doh, "doh", 34)                                                                    \
	X(STR, node, "node", 40)                                                                   \
	REC_WHO_FIELDS(X)

struct ssl_rec {
	REC_STRUCT(SSL_REC_FIELDS)
};

extern const struct rec_type ssl_rec_type;

#endif
