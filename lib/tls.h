/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tls.h - a small OpenSSL wrapper for both ends of PANO's transports (the protobuf stream and
 * PCAP-over-TCP). A context is made from --tls-cert/--tls-key/--tls-ca; a connection wraps a
 * connected socket, blocking or not. With a NULL context a connection is plain TCP through the
 * same calls, so callers have one code path.
 *
 * Server: cert and key are required; with a CA, the client must present a certificate that CA
 * signed (mutual TLS), else the handshake fails and is counted. Client: with a CA, the server's
 * certificate must chain to it and match the host name or address dialled; cert and key, when
 * given, are presented to the server. TLS 1.2 is the minimum.
 */
#ifndef PANO_TLS_H
#define PANO_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct tls_opts {
	const char *cert; /* PEM certificate (chain) file */
	const char *key;  /* PEM private key file */
	const char *ca;	  /* PEM CA bundle: verify (and for a server, require) the peer */
};

struct tls_ctx;
struct tls_conn;

/* True when any of the options is set (TLS wanted). */
bool tls_opts_any(const struct tls_opts *o);

/* Makes a server or client context; loads and checks the files (logged with the OpenSSL error
 * on failure). 0 or -EINVAL (bad or missing file, key not matching the certificate). */
int tls_ctx_new(struct tls_ctx **out, bool server, const struct tls_opts *o);
void tls_ctx_free(struct tls_ctx *ctx);

/*
 * Wraps a connected socket fd (the caller keeps owning fd). ctx NULL: plain TCP. peer_host
 * (client only, may be NULL): the name or address the server's certificate must match.
 * NULL on allocation failure.
 */
struct tls_conn *tls_conn_new(struct tls_ctx *ctx, int fd, const char *peer_host);
/* Frees the connection after a best-effort close_notify; does not close fd. */
void tls_conn_free(struct tls_conn *c);

/*
 * Drives the handshake: 0 when done (at once for plain TCP), -EAGAIN when it waits for the
 * socket (poll for tls_conn_events()), or -ECONNREFUSED / -EPROTO when it failed (refused peer
 * certificate, not TLS at all...; counted, and tls_conn_error() says why).
 */
int tls_conn_handshake(struct tls_conn *c);
/* >0 bytes read, 0 at end of stream, -EAGAIN (poll for tls_conn_events()), or -errno. */
ssize_t tls_conn_read(struct tls_conn *c, void *buf, size_t n);
/* >0 bytes written, -EAGAIN (poll for tls_conn_events()), or -errno. OpenSSL retries must
 * repeat the same buffer: callers pass the unsent remainder of their queue, which does. */
ssize_t tls_conn_write(struct tls_conn *c, const void *buf, size_t n);
/*
 * TLS only (no-op for plain TCP): on, TCP_CORK on the socket, so that the records of a run of
 * tls_conn_write calls (one 16 KiB record per write(2)) leave in full segments rather than one
 * push each; off sends what is held. Callers cork around a run of writes and always uncork.
 */
void tls_conn_cork(struct tls_conn *c, bool on);
/* Poll events (POLLIN/POLLOUT) the last -EAGAIN waits for. */
short tls_conn_events(const struct tls_conn *c);
/* Bytes already decrypted and buffered inside OpenSSL, or 1 when only undecrypted records are
 * held there (poll reports neither). */
size_t tls_conn_pending(const struct tls_conn *c);
bool tls_conn_is_tls(const struct tls_conn *c);
/* True once data can be written without driving a handshake: plain TCP always, TLS after the
 * handshake finished. */
bool tls_conn_ready(const struct tls_conn *c);
/* Subject of the peer's certificate (after the handshake), or "" . */
const char *tls_conn_peer(const struct tls_conn *c);
/* Last failure in one line (OpenSSL's reason and the verify result), or "". */
const char *tls_conn_error(const struct tls_conn *c);

#endif
