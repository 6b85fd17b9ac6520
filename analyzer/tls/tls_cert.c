// SPDX-License-Identifier: Apache-2.0
/*
 * tls_cert.c - a Certificate message in clear (TLS <= 1.2, RFC 5246 7.4.2: a 24-bit list of
 * 24-bit length-prefixed DER certificates): the SHA-256 fingerprint of each, in lower-case hex
 * as Zeek's cert_chain_fps writes them, the first --tls-max-certs of a chain kept and the rest
 * counted; the server's leaf is decoded (OpenSSL's d2i_X509) to check the client's SNI against
 * it the way Zeek's sni_matches_cert does (subjectAltName DNS names with wildcards, else the
 * common name: X509_check_host).
 */
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include "counter.h"
#include "cursor.h"
#include "tls_proto.h"

PANO_COUNTER(c_tls_certs, "tls_certificates", "event", "TLS certificates fingerprinted");
PANO_COUNTER(c_tls_chain_long, "tls_chain_too_long", "drop",
	     "TLS certificate chains longer than --tls-max-certs (the rest counted, not logged)");
PANO_COUNTER(c_tls_cert_bad, "tls_certificate_malformed", "weird",
	     "TLS Certificate messages whose framing runs past their end");
PANO_COUNTER(c_tls_cert_parse, "tls_certificate_unparsable", "weird",
	     "TLS server leaf certificates OpenSSL could not decode (no SNI check)");
PANO_COUNTER(c_tls_cert_nomem, "tls_certificate_nomem", "drop",
	     "TLS certificate fingerprints not kept: no memory");

static uint32_t tls_cur_u24(struct cursor *c)
{
	const uint8_t *p = cur_take(c, 3);
	return p ? (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2] : 0;
}

/* The lower-case hex SHA-256 of der into out (TLS_FP_HEX + 1 bytes). */
static bool tls_fingerprint(const uint8_t *der, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (!EVP_Digest(der, n, md, &len, EVP_sha256(), NULL) || len != 32)
		return false;
	for (unsigned i = 0; i < 32; i++) {
		out[2 * i] = hx[md[i] >> 4];
		out[2 * i + 1] = hx[md[i] & 15];
	}
	out[TLS_FP_HEX] = '\0';
	return true;
}

/* The server's leaf against the SNI: t->sni_match 1 or 0, left unknown when it will not decode. */
static void tls_sni_check(struct tls_conn *t, const uint8_t *der, size_t n)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)n);

	if (!x) {
		counter_inc(&c_tls_cert_parse);
		return;
	}
	t->sni_match = X509_check_host(x, t->sni, t->sni_len, 0, NULL) == 1;
	X509_free(x);
}

void tls_cert_message(const struct tls_state *st, struct l7_tcp_ctx *c, struct tls_conn *t, int fc,
		      const uint8_t *body, size_t len)
{
	struct tls_chain *ch = &t->chain[fc ? 1 : 0];
	struct cursor m = cursor_init(body, len);
	size_t total = tls_cur_u24(&m);
	struct cursor l = cur_sub(&m, total);
	bool leaf = !fc;

	if (m.err) {
		counter_inc(&c_tls_cert_bad);
		return;
	}
	while (cur_left(&l)) {
		size_t n = tls_cur_u24(&l);
		const uint8_t *der = cur_take(&l, n);
		if (l.err) {
			counter_inc(&c_tls_cert_bad);
			break;
		}
		t->certs_seen = true;
		if (leaf && t->has_sni)
			tls_sni_check(t, der, n);
		leaf = false;
		if (!ch->fps && st->cfg.max_certs) {
			ch->fps = malloc((size_t)st->cfg.max_certs * (TLS_FP_HEX + 1));
			if (ch->fps) {
				ch->cap = st->cfg.max_certs;
				c->buf_bytes += (size_t)ch->cap * (TLS_FP_HEX + 1);
			} else {
				counter_inc(&c_tls_cert_nomem);
			}
		}
		if (ch->n < ch->cap &&
		    tls_fingerprint(der, n, ch->fps + ch->n * (TLS_FP_HEX + 1))) {
			ch->n++;
			counter_inc(&c_tls_certs);
		} else if (ch->fps) {
			if (!ch->more++)
				counter_inc(&c_tls_chain_long);
		}
	}
}
