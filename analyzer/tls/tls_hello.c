// SPDX-License-Identifier: Apache-2.0
/*
 * tls_hello.c - ClientHello and ServerHello bodies (RFC 8446 4.1.2, 4.1.3; RFC 5246 7.4.1),
 * read through the bounded cursor. The parsed hello points into the message; the extensions
 * PANO logs or fingerprints are located (server_name, ALPN, supported_versions,
 * signature_algorithms, key_share, session_ticket, pre_shared_key), the rest is skipped. A
 * hello whose fixed part or extension framing runs past its end is malformed (-1); an
 * extension whose own body is malformed is ignored.
 */
#include <string.h>

#include "cursor.h"
#include "tls_proto.h"

enum {
	EXT_SERVER_NAME = 0,
	EXT_SIGALGS = 13,
	EXT_ALPN = 16,
	EXT_SESSION_TICKET = 35,
	EXT_PSK = 41,
	EXT_SUPPORTED_VERSIONS = 43,
	EXT_KEY_SHARE_OLD = 40, /* key_share in TLS 1.3 drafts before 23 */
	EXT_KEY_SHARE = 51,
};

/* The random of a ServerHello that is a HelloRetryRequest (RFC 8446 4.1.3). */
static const uint8_t tls_hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

/* A vector with a 1- or 2-byte length: its body (pointer and length), or NULL on error. */
static const uint8_t *tls_vec(struct cursor *c, int lenbytes, size_t *len)
{
	*len = lenbytes == 1 ? cur_u8(c) : cur_u16(c);
	return cur_take(c, *len);
}

/* server_name (RFC 6066 3): the first host_name entry. */
static void tls_ext_sni(struct cursor *e, struct tls_chello *h)
{
	size_t n;
	const uint8_t *list = tls_vec(e, 2, &n);
	struct cursor l = cursor_init(list, list ? n : 0);

	h->has_sni = true;
	while (list && cur_left(&l) && !l.err) {
		uint8_t type = cur_u8(&l);
		size_t nl;
		const uint8_t *name = tls_vec(&l, 2, &nl);
		if (name && type == 0) {
			h->sni = name;
			h->sni_len = nl;
			return;
		}
	}
}

/* Walks the extensions block of a hello: calls the handlers of the client or server side.
 * -1 when the framing runs past the block. */
static int tls_exts_client(const uint8_t *p, size_t len, struct tls_chello *h)
{
	struct cursor c = cursor_init(p, len);

	while (cur_left(&c)) {
		uint16_t type = cur_u16(&c);
		size_t n = cur_u16(&c);
		const uint8_t *body = cur_take(&c, n);
		if (c.err)
			return -1;
		struct cursor e = cursor_init(body, n);
		switch (type) {
		case EXT_SERVER_NAME:
			tls_ext_sni(&e, h);
			break;
		case EXT_ALPN:
			h->alpn = tls_vec(&e, 2, &h->alpn_len);
			h->has_alpn = true;
			if (!h->alpn)
				h->alpn_len = 0;
			break;
		case EXT_SUPPORTED_VERSIONS:
			h->versions = tls_vec(&e, 1, &h->versions_len);
			h->has_versions = h->versions != NULL;
			break;
		case EXT_SIGALGS:
			h->sigalgs = tls_vec(&e, 2, &h->sigalgs_len);
			if (!h->sigalgs)
				h->sigalgs_len = 0;
			break;
		case EXT_SESSION_TICKET:
			h->ticket = n > 0;
			break;
		case EXT_PSK:
			h->psk = true;
			break;
		}
	}
	return 0;
}

int tls_parse_client_hello(const uint8_t *p, size_t len, struct tls_chello *h)
{
	struct cursor c = cursor_init(p, len);
	size_t comp_len;

	memset(h, 0, sizeof(*h));
	h->version = cur_u16(&c);
	cur_skip(&c, 32);
	h->sid = tls_vec(&c, 1, &h->sid_len);
	h->ciphers = tls_vec(&c, 2, &h->ciphers_len);
	(void)tls_vec(&c, 1, &comp_len);
	if (c.err || h->sid_len > 32)
		return -1;
	if (!cur_left(&c))
		return 0; /* no extensions (SSL 3.0 style) */
	h->exts = tls_vec(&c, 2, &h->exts_len);
	if (c.err)
		return -1;
	return tls_exts_client(h->exts, h->exts_len, h);
}

int tls_parse_server_hello(const uint8_t *p, size_t len, struct tls_shello *h)
{
	struct cursor c = cursor_init(p, len);
	size_t exts_len;

	memset(h, 0, sizeof(*h));
	h->version = cur_u16(&c);
	const uint8_t *random = cur_take(&c, 32);
	h->sid = tls_vec(&c, 1, &h->sid_len);
	h->cipher = cur_u16(&c);
	(void)cur_u8(&c); /* compression method */
	if (c.err || h->sid_len > 32)
		return -1;
	h->hrr = memcmp(random, tls_hrr_random, 32) == 0;
	if (!cur_left(&c))
		return 0;
	const uint8_t *exts = tls_vec(&c, 2, &exts_len);
	struct cursor x = cursor_init(exts, exts ? exts_len : 0);
	if (c.err)
		return -1;
	while (cur_left(&x)) {
		uint16_t type = cur_u16(&x);
		size_t n = cur_u16(&x);
		const uint8_t *body = cur_take(&x, n);
		if (x.err)
			return -1;
		struct cursor e = cursor_init(body, n);
		switch (type) {
		case EXT_SUPPORTED_VERSIONS:
			h->sv = cur_u16(&e);
			h->has_sv = n == 2;
			break;
		case EXT_KEY_SHARE_OLD:
		case EXT_KEY_SHARE:
			h->group = cur_u16(&e);
			h->has_group = !e.err;
			break;
		case EXT_PSK:
			h->psk = true;
			break;
		case EXT_ALPN: {
			size_t ln, pn;
			const uint8_t *list = tls_vec(&e, 2, &ln);
			struct cursor l = cursor_init(list, list ? ln : 0);
			const uint8_t *name = list ? tls_vec(&l, 1, &pn) : NULL;
			if (name) {
				h->alpn = name;
				h->alpn_len = pn;
			}
			break;
		}
		}
	}
	return 0;
}
