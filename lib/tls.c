// SPDX-License-Identifier: Apache-2.0
/*
 * tls.c - OpenSSL contexts and connections for PANO's transports (see tls.h). Kept small on
 * purpose: one way to configure (PEM files), TLS 1.2 or newer, peer verification whenever a CA
 * is given, and read/write calls that report "would block" the same way for TLS and plain TCP.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "counter.h"
#include "log.h"
#include "tls.h"

/* Read-ahead: two full records and their headers per recv. Not more: a 256 KiB buffer made
 * the kernel's copy into it and OpenSSL's moves within it cost more than the reads it saved
 * (bench-transport, TLS modes: analyzer 0.27 -> 0.19 CPU s per million frames). */
#define TLS_READ_BUFFER (40u << 10)

PANO_COUNTER(c_tls_refused, "tls_handshake_failed", "drop",
	     "TLS handshakes that failed (peer refused, bad certificate, not TLS)");
PANO_COUNTER(c_tls_ok, "tls_handshake_ok", "event", "TLS handshakes completed");

struct tls_ctx {
	SSL_CTX *ssl;
	bool server;
	bool verify;
};

struct tls_conn {
	int fd;
	SSL *ssl;     /* NULL: plain TCP */
	short events; /* what the last -EAGAIN waits for */
	bool done;    /* handshake finished */
	bool starved; /* the last read wanted bytes the socket did not have yet */
	int failed;   /* handshake failure (negative errno), sticky */
	char peer[256];
	char err[256];
};

bool tls_opts_any(const struct tls_opts *o)
{
	return o && (o->cert || o->key || o->ca);
}

/* The OpenSSL error queue's first reason, as text (and the queue cleared). */
static const char *ssl_err(char *buf, size_t size)
{
	unsigned long e = ERR_get_error();
	if (!e)
		snprintf(buf, size, "no OpenSSL error recorded");
	else
		ERR_error_string_n(e, buf, size);
	ERR_clear_error();
	return buf;
}

int tls_ctx_new(struct tls_ctx **out, bool server, const struct tls_opts *o)
{
	char eb[256];
	struct tls_ctx *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->server = server;
	t->ssl = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (!t->ssl) {
		pr_err("SSL_CTX_new: %s", ssl_err(eb, sizeof(eb)));
		goto fail;
	}
	SSL_CTX_set_min_proto_version(t->ssl, TLS1_2_VERSION);
	/* TLS 1.3 suites, AES-128-GCM first (OpenSSL's default puts AES-256 first): both ends are
	 * ours, and on a stream of small frames the cipher is most of what TLS costs; AES-128 does
	 * 10 rounds to AES-256's 14 (measured here: 4.5 against 4.2 GB/s, openssl speed). */
	if (SSL_CTX_set_ciphersuites(t->ssl, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
					     "TLS_CHACHA20_POLY1305_SHA256") != 1) {
		pr_err("SSL_CTX_set_ciphersuites: %s", ssl_err(eb, sizeof(eb)));
		goto fail;
	}
	/* The server's order wins: also for clients that list AES-256 first (openssl s_client). */
	if (server)
		SSL_CTX_set_options(t->ssl, SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* Buffers stay allocated for the connection's life (no SSL_MODE_RELEASE_BUFFERS). */
	SSL_CTX_set_mode(t->ssl,
			 SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* Read ahead into a large buffer: one recv() takes many records, not two per record
	 * (header, then body) as OpenSSL does by default. */
	SSL_CTX_set_read_ahead(t->ssl, 1);
	SSL_CTX_set_default_read_buffer_len(t->ssl, TLS_READ_BUFFER);
	if (server && (!o->cert || !o->key)) {
		pr_err("TLS server needs --tls-cert and --tls-key");
		goto fail;
	}
	if (!!o->cert != !!o->key) {
		pr_err("--tls-cert and --tls-key go together");
		goto fail;
	}
	if (o->cert) {
		if (SSL_CTX_use_certificate_chain_file(t->ssl, o->cert) != 1) {
			pr_err("SSL_CTX_use_certificate_chain_file %s: %s", o->cert,
			       ssl_err(eb, sizeof(eb)));
			goto fail;
		}
		if (SSL_CTX_use_PrivateKey_file(t->ssl, o->key, SSL_FILETYPE_PEM) != 1) {
			pr_err("SSL_CTX_use_PrivateKey_file %s: %s", o->key,
			       ssl_err(eb, sizeof(eb)));
			goto fail;
		}
		if (SSL_CTX_check_private_key(t->ssl) != 1) {
			pr_err("SSL_CTX_check_private_key %s: %s", o->key, ssl_err(eb, sizeof(eb)));
			goto fail;
		}
	}
	if (o->ca) {
		if (SSL_CTX_load_verify_locations(t->ssl, o->ca, NULL) != 1) {
			pr_err("SSL_CTX_load_verify_locations %s: %s", o->ca,
			       ssl_err(eb, sizeof(eb)));
			goto fail;
		}
		SSL_CTX_set_verify(
		    t->ssl, SSL_VERIFY_PEER | (server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), NULL);
		t->verify = true;
	} else if (!server) {
		pr_warn("TLS without --tls-ca: the server's certificate is not verified");
	}
	*out = t;
	return 0;
fail:
	tls_ctx_free(t);
	return -EINVAL;
}

void tls_ctx_free(struct tls_ctx *t)
{
	if (!t)
		return;
	SSL_CTX_free(t->ssl);
	free(t);
}

struct tls_conn *tls_conn_new(struct tls_ctx *t, int fd, const char *peer_host)
{
	char eb[256];
	struct tls_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->fd = fd;
	c->events = POLLIN;
	if (!t) {
		c->done = true;
		return c;
	}
	c->ssl = SSL_new(t->ssl);
	if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1) {
		pr_err("SSL_new: %s", ssl_err(eb, sizeof(eb)));
		tls_conn_free(c);
		return NULL;
	}
	if (t->server) {
		SSL_set_accept_state(c->ssl);
	} else {
		SSL_set_connect_state(c->ssl);
		if (peer_host && *peer_host) {
			unsigned char a[16];
			bool is_ip = inet_pton(AF_INET, peer_host, a) == 1 ||
				     inet_pton(AF_INET6, peer_host, a) == 1;
			if (!is_ip)
				SSL_set_tlsext_host_name(c->ssl, peer_host);
			if (t->verify) {
				X509_VERIFY_PARAM *vp = SSL_get0_param(c->ssl);
				int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, peer_host)
					       : X509_VERIFY_PARAM_set1_host(vp, peer_host, 0);
				if (ok != 1)
					pr_warn("X509_VERIFY_PARAM_set1_host %s: %s", peer_host,
						ssl_err(eb, sizeof(eb)));
			}
		}
	}
	return c;
}

void tls_conn_free(struct tls_conn *c)
{
	if (!c)
		return;
	if (c->ssl) {
		if (c->done)
			SSL_shutdown(c->ssl); /* best effort; the socket may be non-blocking */
		SSL_free(c->ssl);
		ERR_clear_error();
	}
	free(c);
}

/* Maps an SSL_* result to -EAGAIN (setting the events to wait for) or a negative errno. */
static int ssl_result(struct tls_conn *c, int r, const char *what)
{
	char eb[200];
	int e = SSL_get_error(c->ssl, r);
	switch (e) {
	case SSL_ERROR_WANT_READ:
		c->events = POLLIN;
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		c->events = POLLOUT;
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL: {
		int saved = errno;
		ERR_clear_error();
		if (saved == 0 || r == 0) {
			snprintf(c->err, sizeof(c->err), "%s: connection closed by peer", what);
			return -ECONNRESET;
		}
		snprintf(c->err, sizeof(c->err), "%s: %s", what, strerror(saved));
		return -saved;
	}
	default:
		snprintf(c->err, sizeof(c->err), "%s: %s", what, ssl_err(eb, sizeof(eb)));
		return -EPROTO;
	}
}

int tls_conn_handshake(struct tls_conn *c)
{
	if (c->done)
		return 0;
	if (c->failed)
		return c->failed;
	ERR_clear_error();
	int r = SSL_do_handshake(c->ssl);
	if (r == 1) {
		c->done = true;
		X509 *peer = SSL_get1_peer_certificate(c->ssl);
		if (peer) {
			X509_NAME_oneline(X509_get_subject_name(peer), c->peer, sizeof(c->peer));
			X509_free(peer);
		}
		counter_inc(&c_tls_ok);
		return 0;
	}
	int rc = ssl_result(c, r, "SSL_do_handshake");
	if (rc == -EAGAIN)
		return rc;
	long vr = SSL_get_verify_result(c->ssl);
	if (vr != X509_V_OK) {
		size_t l = strlen(c->err);
		snprintf(c->err + l, sizeof(c->err) - l, " (certificate: %s)",
			 X509_verify_cert_error_string(vr));
	}
	counter_inc(&c_tls_refused);
	c->failed = rc == -EPROTO ? -ECONNREFUSED : (rc ? rc : -ECONNRESET);
	return c->failed;
}

/* Result of a plain-TCP recv/send: r as is, or -EAGAIN (waiting for events), or -errno with
 * the failing call named in c->err. */
static ssize_t plain_result(struct tls_conn *c, ssize_t r, short events, const char *call)
{
	if (r >= 0)
		return r;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
		c->events = events;
		return -EAGAIN;
	}
	int err = errno;
	snprintf(c->err, sizeof(c->err), "%s: %s", call, strerror(err));
	return -err;
}

ssize_t tls_conn_read(struct tls_conn *c, void *buf, size_t n)
{
	if (!c->ssl)
		return plain_result(c, recv(c->fd, buf, n, 0), POLLIN, "recv");
	if (!c->done) {
		int rc = tls_conn_handshake(c);
		if (rc)
			return rc;
	}
	ERR_clear_error();
	size_t got = 0;
	int r = SSL_read_ex(c->ssl, buf, n, &got);
	c->starved = false;
	if (r == 1)
		return (ssize_t)got;
	int rc = ssl_result(c, r, "SSL_read_ex");
	c->starved = rc == -EAGAIN && c->events == POLLIN;
	return rc;
}

ssize_t tls_conn_write(struct tls_conn *c, const void *buf, size_t n)
{
	if (!c->ssl)
		return plain_result(c, send(c->fd, buf, n, MSG_NOSIGNAL), POLLOUT, "send");
	if (!c->done) {
		int rc = tls_conn_handshake(c);
		if (rc)
			return rc;
	}
	ERR_clear_error();
	size_t put = 0;
	int r = SSL_write_ex(c->ssl, buf, n, &put);
	if (r == 1)
		return (ssize_t)put;
	int rc = ssl_result(c, r, "SSL_write_ex");
	return rc == 0 ? -EPIPE : rc;
}

void tls_conn_cork(struct tls_conn *c, bool on)
{
	int v = on;

	if (c->ssl)
		setsockopt(c->fd, IPPROTO_TCP, TCP_CORK, &v, sizeof(v));
}

short tls_conn_events(const struct tls_conn *c)
{
	return c->events;
}

/* SSL_pending counts decrypted bytes only; records read from the socket but not yet decrypted
 * are invisible to poll too, so they count as one byte: the caller reads again instead of
 * waiting for the peer to send more. Except after a read that wanted more from the socket:
 * what OpenSSL holds then is the start of a record, which only more bytes complete (counting
 * it had the caller read again at once, in a loop, until they came). */
size_t tls_conn_pending(const struct tls_conn *c)
{
	int n;

	if (!c->ssl)
		return 0;
	n = SSL_pending(c->ssl);
	if (n > 0)
		return (size_t)n;
	return !c->starved && SSL_has_pending(c->ssl) ? 1 : 0;
}

bool tls_conn_is_tls(const struct tls_conn *c)
{
	return c->ssl != NULL;
}

bool tls_conn_ready(const struct tls_conn *c)
{
	return !c->ssl || c->done;
}

const char *tls_conn_peer(const struct tls_conn *c)
{
	return c->peer;
}

const char *tls_conn_error(const struct tls_conn *c)
{
	return c->err;
}
