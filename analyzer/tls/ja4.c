// SPDX-License-Identifier: Apache-2.0
/*
 * ja4.c - JA4, the TLS client fingerprint, as FoxIO's technical_details/JA4.md defines it
 * (BSD-3-Clause; JA4 only, none of the rest of JA4+):
 *
 *   t13d1516h2_8daaf6152771_e5627efa2ab1
 *   a: transport (t, q), version (the highest of supported_versions, else the hello's),
 *      d/i (an SNI extension or not), cipher count, extension count (both two digits, at most
 *      99), the first and last characters of the first ALPN value ("00" without one);
 *   b: SHA-256 of the sorted cipher list ("002f,0035,..."), first 12 hex digits;
 *   c: SHA-256 of the sorted extension list without SNI (0000) and ALPN (0010), then "_" and
 *      the signature algorithms in their order, first 12 hex digits.
 * GREASE values are left out everywhere; an empty list hashes to "000000000000".
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "tls_proto.h"

#define JA4_MAX_LIST 1024 /* entries of a list hashed (a hello has at most a few dozen) */

static int ja4_u16_cmp(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* The non-GREASE 16-bit values of a list of n bytes at p into out (at most JA4_MAX_LIST). */
static unsigned ja4_list(const uint8_t *p, size_t n, uint16_t *out)
{
	struct cursor c = cursor_init(p, p ? n & ~(size_t)1 : 0);
	unsigned k = 0;

	while (cur_left(&c) && k < JA4_MAX_LIST) {
		uint16_t v = cur_u16(&c);
		if (!tls_grease(v))
			out[k++] = v;
	}
	return k;
}

/* Appends "xxxx,yyyy,..." of n values to s (at offset *off). */
static void ja4_hex_list(char *s, size_t *off, const uint16_t *v, unsigned n)
{
	static const char hx[] = "0123456789abcdef";
	for (unsigned i = 0; i < n; i++) {
		char *d = s + *off;
		if (i)
			*d++ = ',';
		d[0] = hx[v[i] >> 12];
		d[1] = hx[(v[i] >> 8) & 15];
		d[2] = hx[(v[i] >> 4) & 15];
		d[3] = hx[v[i] & 15];
		*off = (size_t)(d + 4 - s);
	}
}

/* The first 12 hex digits of SHA-256(s[0..n)), a list of items entries, into out (12 bytes, no
 * NUL). */
static void ja4_hash12(const char *s, size_t n, unsigned items, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	/* an empty list is twelve zeros, not the hash of nothing */
	if (!items || !EVP_Digest(s, n, md, &mdlen, EVP_sha256(), NULL) || mdlen < 6) {
		memset(out, '0', 12);
		return;
	}
	for (int i = 0; i < 6; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static bool ja4_alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* The ALPN part: the first and last characters of the first protocol, or of its hex form when
 * either is not alphanumeric; "00" without one. */
static void ja4_alpn(const struct tls_chello *h, char out[2])
{
	static const char hx[] = "0123456789abcdef";
	struct cursor c = cursor_init(h->alpn, h->alpn ? h->alpn_len : 0);
	size_t n = cur_u8(&c);
	const uint8_t *p = cur_take(&c, n);

	out[0] = out[1] = '0';
	if (!p || !n)
		return;
	if (ja4_alnum(p[0]) && ja4_alnum(p[n - 1])) {
		out[0] = (char)p[0];
		out[1] = (char)p[n - 1];
	} else {
		out[0] = hx[p[0] >> 4];
		out[1] = hx[p[n - 1] & 15];
	}
}

static const char *ja4_version(const struct tls_chello *h)
{
	uint16_t v = h->version;

	if (h->has_versions) {
		uint16_t vs[JA4_MAX_LIST];
		unsigned n = ja4_list(h->versions, h->versions_len, vs);
		v = 0;
		for (unsigned i = 0; i < n; i++)
			if (vs[i] > v)
				v = vs[i];
	}
	switch (v) {
	case 0x0304:
		return "13";
	case 0x0303:
		return "12";
	case 0x0302:
		return "11";
	case 0x0301:
		return "10";
	case 0x0300:
		return "s3";
	case 0x0002:
		return "s2";
	case 0xfeff:
		return "d1";
	case 0xfefd:
		return "d2";
	case 0xfefc:
		return "d3";
	default:
		return "00";
	}
}

void ja4_make(const struct tls_chello *h, char transport, char out[JA4_LEN])
{
	uint16_t ciphers[JA4_MAX_LIST], exts[JA4_MAX_LIST], sig[JA4_MAX_LIST];
	char s[JA4_MAX_LIST * 5 * 2 + 2];
	unsigned nc = ja4_list(h->ciphers, h->ciphers_len, ciphers);
	unsigned ns = ja4_list(h->sigalgs, h->sigalgs_len, sig);
	unsigned ne = 0, nh = 0;
	struct cursor c = cursor_init(h->exts, h->exts ? h->exts_len : 0);
	char alpn[2];
	size_t off = 0;

	while (cur_left(&c) && ne < JA4_MAX_LIST) {
		uint16_t t = cur_u16(&c);
		cur_skip(&c, cur_u16(&c));
		if (c.err || tls_grease(t))
			continue;
		ne++;
		if (t != 0x0000 && t != 0x0010)
			exts[nh++] = t;
	}
	ja4_alpn(h, alpn);
	snprintf(out, JA4_LEN, "%c%s%c%02u%02u%c%c_", transport, ja4_version(h),
		 h->has_sni ? 'd' : 'i', nc > 99 ? 99 : nc, ne > 99 ? 99 : ne, alpn[0], alpn[1]);
	qsort(ciphers, nc, sizeof(ciphers[0]), ja4_u16_cmp);
	ja4_hex_list(s, &off, ciphers, nc);
	ja4_hash12(s, off, nc, out + 11);
	out[23] = '_';
	off = 0;
	qsort(exts, nh, sizeof(exts[0]), ja4_u16_cmp);
	ja4_hex_list(s, &off, exts, nh);
	if (ns) {
		s[off++] = '_';
		ja4_hex_list(s, &off, sig, ns);
	}
	ja4_hash12(s, off, nh, out + 24);
	out[36] = '\0';
}
