// SPDX-License-Identifier: Apache-2.0
/*
 * test_tls_parse.c - unit tests of the TLS module (analyzer/tls) on crafted handshakes fed
 * through its row of the protocol table: JA4 against the worked example of FoxIO's JA4.md (with
 * GREASE added), hellos fragmented across records and segments, a TLS 1.2 handshake with a
 * certificate made here (fingerprint, SNI match), TLS 1.3, resumption, alerts, and hostile input
 * (lying record lengths, a hello that never completes, a 100 KB handshake message, a chain of
 * 1000 certificates, a gap); every buffer given back at close. Records are caught by an emit
 * hook, written by the record's own JSON writer and read back with cJSON.
 */
#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "counter.h"
#include "l7.h"
#include "ssl_rec.h"
#include "tls_proto.h"

/* ---- the module, an emit hook catching records --------------------------------------------- */
static struct wbuf out_buf = WBUF_INIT(1 << 20);
static cJSON *last;
static int nrecs;

static void test_emit(void *arg, const struct rec_type *t, const void *rec)
{
	t->json(rec, 0, &out_buf);
	cJSON_Delete(last);
	last = cJSON_Parse(out_buf.p);
	nrecs++;
}
static struct rec_emit emit = {.fn = test_emit};
static struct l7_env env = {.emit = &emit};
static void *st;

static uint64_t cnt(const char *name)
{
	struct pano_counter *c = counter_find(name);
	return c ? counter_get(c) : 0;
}

static const char *jstr(const char *k)
{
	cJSON *v = last ? cJSON_GetObjectItem(last, k) : NULL;
	return cJSON_IsString(v) ? v->valuestring : NULL;
}
static int jbool(const char *k) /* -1 absent */
{
	cJSON *v = last ? cJSON_GetObjectItem(last, k) : NULL;
	return cJSON_IsBool(v) ? cJSON_IsTrue(v) : -1;
}
static int jlen(const char *k) /* array length, -1 absent */
{
	cJSON *v = last ? cJSON_GetObjectItem(last, k) : NULL;
	return cJSON_IsArray(v) ? cJSON_GetArraySize(v) : -1;
}

/* ---- a connection ------------------------------------------------------------------------- */
static struct l7_tcp_ctx ctx;
static struct pano_frame frame = {.ts_ns = 1000000000, .meta.dir = -1};
static struct pano_pkt pkt = {.ts_ns = 1000000000, .frame = &frame, .l4proto = IPPROTO_TCP};
static uint64_t next_id = 1;

static void conn_open(uint16_t server_port)
{
	memset(&ctx, 0, sizeof(ctx));
	ctx.client.family = ctx.server.family = 4;
	memcpy(ctx.client.a, "\xc6\x12\x00\x0a", 4);
	memcpy(ctx.server.a, "\xc6\x12\x00\x02", 4);
	ctx.client_port = 40000;
	ctx.server_port = server_port;
	ctx.conn_id = next_id++;
	cJSON_Delete(last);
	last = NULL;
	nrecs = 0;
}

/* Feeds bytes of one side, cut into segments of seg bytes (0: whole). */
static void feed(int from_client, const uint8_t *p, size_t n, size_t seg)
{
	while (n) {
		size_t k = seg && seg < n ? seg : n;
		tls_proto.on_tcp_data(st, &ctx, from_client, p, k, &pkt);
		p += k;
		n -= k;
	}
}

static void conn_close(void)
{
	tls_proto.on_tcp_close(st, &ctx);
	CHECK_EQ_INT(ctx.buf_bytes, 0); /* every buffer given back */
	CHECK(ctx.state == NULL);
}

/* ---- a message builder ---------------------------------------------------------------------- */
struct mb {
	uint8_t *b;
	size_t n, cap;
};
static void put(struct mb *m, const void *p, size_t n)
{
	if (m->n + n > m->cap) {
		m->cap = (m->n + n) * 2 + 256;
		m->b = realloc(m->b, m->cap);
	}
	if (n)
		memcpy(m->b + m->n, p, n);
	m->n += n;
}
static void put8(struct mb *m, unsigned v)
{
	uint8_t b = (uint8_t)v;
	put(m, &b, 1);
}
static void put16(struct mb *m, unsigned v)
{
	put8(m, v >> 8);
	put8(m, v);
}
static void put24(struct mb *m, unsigned v)
{
	put8(m, v >> 16);
	put16(m, v);
}
static void put16s(struct mb *m, const uint16_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put16(m, v[i]);
}
static void ext(struct mb *m, unsigned type, const struct mb *body)
{
	put16(m, type);
	put16(m, body ? (unsigned)body->n : 0);
	if (body && body->n)
		put(m, body->b, body->n);
}
static void mb_free(struct mb *m)
{
	free(m->b);
	memset(m, 0, sizeof(*m));
}
/* A handshake message (type, 24-bit length, body). */
static void hs(struct mb *m, unsigned type, const struct mb *body)
{
	put8(m, type);
	put24(m, (unsigned)body->n);
	put(m, body->b, body->n);
}
/* Records of content type ct around p, at most frag body bytes each. */
static void records(struct mb *m, unsigned ct, const uint8_t *p, size_t n, size_t frag)
{
	do {
		size_t k = frag && frag < n ? frag : n;
		put8(m, ct);
		put16(m, 0x0303);
		put16(m, (unsigned)k);
		put(m, p, k);
		p += k;
		n -= k;
	} while (n);
}

/* The ClientHello of JA4.md's example: 15 ciphers, 16 extensions, ALPN h2, TLS 1.3; grease
 * adds GREASE values to the ciphers, extensions, versions and groups. */
static void client_hello(struct mb *m, const char *sni, int grease, const uint8_t *sid,
			 size_t sid_len)
{
	static const uint16_t ciphers[] = {0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f,
					   0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013,
					   0xc014, 0x009c, 0x009d, 0x002f, 0x0035};
	static const uint16_t sigs[] = {0x0403, 0x0804, 0x0401, 0x0503,
					0x0805, 0x0501, 0x0806, 0x0601};
	static const uint16_t exts[] = {0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017,
					0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b,
					0xff01, 0x000b, 0x000a, 0x0015};
	struct mb b = {0}, e = {0}, x = {0};
	uint8_t random[32] = {1};

	put16(&b, 0x0303);
	put(&b, random, 32);
	put8(&b, (unsigned)sid_len);
	put(&b, sid, sid_len);
	put16(&b, (unsigned)(sizeof(ciphers) + (grease ? 2 : 0)));
	if (grease)
		put16(&b, 0x3a3a);
	put16s(&b, ciphers, sizeof(ciphers) / 2);
	put8(&b, 1);
	put8(&b, 0);
	if (grease)
		ext(&e, 0x0a0a, NULL);
	for (size_t i = 0; i < sizeof(exts) / 2; i++) {
		mb_free(&x);
		switch (exts[i]) {
		case 0x0000:
			if (!sni)
				continue;
			put16(&x, (unsigned)strlen(sni) + 3);
			put8(&x, 0);
			put16(&x, (unsigned)strlen(sni));
			put(&x, sni, strlen(sni));
			break;
		case 0x0010:
			put16(&x, 12);
			put8(&x, 2);
			put(&x, "h2", 2);
			put8(&x, 8);
			put(&x, "http/1.1", 8);
			break;
		case 0x002b:
			put8(&x, grease ? 6 : 4);
			if (grease)
				put16(&x, 0x7a7a);
			put16(&x, 0x0304);
			put16(&x, 0x0303);
			break;
		case 0x000d:
			put16(&x, sizeof(sigs));
			put16s(&x, sigs, sizeof(sigs) / 2);
			break;
		case 0x000a:
			put16(&x, 4);
			put16(&x, 0x001d);
			put16(&x, 0x0017);
			break;
		}
		ext(&e, exts[i], &x);
	}
	put16(&b, (unsigned)e.n);
	put(&b, e.b, e.n);
	hs(m, 1, &b);
	mb_free(&b);
	mb_free(&e);
	mb_free(&x);
}

/* A ServerHello: version, cipher, session id, and optionally supported_versions (TLS 1.3),
 * key_share's group, ALPN. */
static void server_hello(struct mb *m, unsigned cipher, const uint8_t *sid, size_t sid_len,
			 int tls13, unsigned group, const char *alpn)
{
	struct mb b = {0}, e = {0}, x = {0};
	uint8_t random[32] = {2};

	put16(&b, 0x0303);
	put(&b, random, 32);
	put8(&b, (unsigned)sid_len);
	put(&b, sid, sid_len);
	put16(&b, cipher);
	put8(&b, 0);
	if (tls13) {
		put16(&x, 0x0304);
		ext(&e, 0x002b, &x);
		mb_free(&x);
	}
	if (group) {
		put16(&x, group);
		put16(&x, 2);
		put16(&x, 0xabcd);
		ext(&e, 0x0033, &x);
		mb_free(&x);
	}
	if (alpn) {
		put16(&x, (unsigned)strlen(alpn) + 1);
		put8(&x, (unsigned)strlen(alpn));
		put(&x, alpn, strlen(alpn));
		ext(&e, 0x0010, &x);
		mb_free(&x);
	}
	put16(&b, (unsigned)e.n);
	put(&b, e.b, e.n);
	hs(m, 2, &b);
	mb_free(&b);
	mb_free(&e);
}

/* A self-signed certificate for subjectAltName *.example.com: its DER into der. */
static void make_cert(struct mb *der)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509_NAME *n = X509_get_subject_name(x);
	X509V3_CTX v3;
	unsigned char *p = NULL;

	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"not-the-name", -1,
				   -1, 0);
	X509_set_issuer_name(x, n);
	X509_set_pubkey(x, k);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	X509_EXTENSION *san =
	    X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "DNS:*.example.com");
	X509_add_ext(x, san, -1);
	X509_EXTENSION_free(san);
	X509_sign(x, k, EVP_sha256());
	int len = i2d_X509(x, &p);
	put(der, p, (size_t)len);
	OPENSSL_free(p);
	X509_free(x);
	EVP_PKEY_free(k);
}

/* ---- cases ---------------------------------------------------------------------------------- */
#define JA4_EXAMPLE "t13d1516h2_8daaf6152771_e5627efa2ab1" /* FoxIO's JA4.md */

static void test_ja4_example(void)
{
	for (int grease = 0; grease < 2; grease++) {
		struct mb h = {0}, r = {0};
		client_hello(&h, "example.com", grease, NULL, 0);
		records(&r, 22, h.b, h.n, 0);
		conn_open(443);
		CHECK_EQ_INT(tls_proto.detect(st, 1, r.b, r.n), L7_YES);
		CHECK_EQ_INT(tls_proto.detect(st, 0, r.b, r.n), L7_NO);
		feed(1, r.b, r.n, 0);
		conn_close();
		CHECK_EQ_INT(nrecs, 1);
		CHECK_EQ_STR(jstr("ja4"), JA4_EXAMPLE);
		CHECK_EQ_STR(jstr("server_name"), "example.com");
		CHECK_EQ_STR(jstr("ssl_history"), "C");
		CHECK_EQ_INT(jbool("established"), 0);
		CHECK_EQ_INT(jlen("client_versions"), 2); /* GREASE left out */
		CHECK_EQ_INT(jlen("client_alpn"), 2);
		CHECK(jstr("version") == NULL);
		mb_free(&h);
		mb_free(&r);
	}
	/* without SNI: "i", one extension less, the hashes unchanged */
	struct mb h = {0}, r = {0};
	client_hello(&h, NULL, 1, NULL, 0);
	records(&r, 22, h.b, h.n, 0);
	conn_open(443);
	feed(1, r.b, r.n, 0);
	conn_close();
	CHECK_EQ_STR(jstr("ja4"), "t13i1515h2_8daaf6152771_e5627efa2ab1");
	mb_free(&h);
	mb_free(&r);
}

/* The same hello cut into records of 7 bytes, sent a byte a segment, then records of 300. */
static void test_fragmented(void)
{
	size_t frags[] = {7, 300, 1};
	size_t segs[] = {1, 13, 0};
	for (int i = 0; i < 3; i++) {
		struct mb h = {0}, r = {0};
		client_hello(&h, "frag.example.com", 1, NULL, 0);
		records(&r, 22, h.b, h.n, frags[i]);
		conn_open(443);
		feed(1, r.b, r.n, segs[i]);
		conn_close();
		CHECK_EQ_STR(jstr("ja4"), "t13d1516h2_8daaf6152771_e5627efa2ab1");
		CHECK_EQ_STR(jstr("server_name"), "frag.example.com");
		mb_free(&h);
		mb_free(&r);
	}
}

/* The server's first flight of TLS 1.2: ServerHello, Certificate (der), ServerKeyExchange
 * (x25519), ServerHelloDone, in records of 1000 bytes. */
static void server_flight12(struct mb *r, const uint8_t *sid, size_t sid_len, const struct mb *der)
{
	struct mb s = {0}, b = {0}, c = {0};

	server_hello(&s, 0xc02f, sid, sid_len, 0, 0, "h2");
	if (der) {
		put24(&c, (unsigned)der->n);
		put(&c, der->b, der->n);
		put24(&b, (unsigned)c.n);
		put(&b, c.b, c.n);
		hs(&s, 11, &b);
		mb_free(&b);
		put8(&b, 3); /* named_curve x25519 */
		put16(&b, 29);
		put8(&b, 0);
		hs(&s, 12, &b);
		mb_free(&b);
	}
	hs(&s, 14, &b);
	records(r, 22, s.b, s.n, 1000);
	mb_free(&s);
	mb_free(&b);
	mb_free(&c);
}

/* ChangeCipherSpec and an encrypted handshake record (Finished); cke adds ClientKeyExchange. */
static void finish_flight(struct mb *r, int cke)
{
	static const uint8_t ccs = 1, enc[40];
	struct mb s = {0}, b = {0};

	if (cke) {
		put16(&b, 0);
		hs(&s, 16, &b);
		records(r, 22, s.b, s.n, 0);
	}
	records(r, 20, &ccs, 1, 0);
	records(r, 22, enc, sizeof(enc), 0);
	mb_free(&s);
	mb_free(&b);
}

/* A whole TLS 1.2 handshake with a certificate for *.example.com: C s x k n G I i, then the
 * server's encrypted Finished makes it established (logged then, before the close). */
static void tls12(const char *sni, const struct mb *der, int match)
{
	struct mb c1 = {0}, r1 = {0}, s1 = {0}, c2 = {0}, s2 = {0};
	unsigned char md[32];
	unsigned int mdlen;
	char fp[65];
	const unsigned char *p = der->b;
	X509 *x = d2i_X509(NULL, &p, (long)der->n);

	X509_digest(x, EVP_sha256(), md, &mdlen);
	X509_free(x);
	for (int i = 0; i < 32; i++)
		snprintf(fp + 2 * i, 3, "%02x", md[i]);
	client_hello(&c1, sni, 1, NULL, 0);
	records(&r1, 22, c1.b, c1.n, 0);
	server_flight12(&s1, (const uint8_t *)"0123456789abcdef", 16, der);
	finish_flight(&c2, 1);
	finish_flight(&s2, 0);
	conn_open(443);
	feed(1, r1.b, r1.n, 0);
	feed(0, s1.b, s1.n, 100);
	feed(1, c2.b, c2.n, 0);
	CHECK_EQ_INT(nrecs, 0);
	feed(0, s2.b, s2.n, 0);
	CHECK_EQ_INT(nrecs, 1);				      /* logged when established */
	CHECK_EQ_INT(ctx.buf_bytes, sizeof(struct tls_conn)); /* its buffers freed then */
	feed(0, s2.b, s2.n, 0); /* bulk after the handshake: ignored */
	conn_close();
	CHECK_EQ_INT(nrecs, 1);
	CHECK_EQ_STR(jstr("version"), "TLSv12");
	CHECK_EQ_STR(jstr("cipher"), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
	CHECK_EQ_STR(jstr("curve"), "x25519");
	CHECK_EQ_STR(jstr("next_protocol"), "h2");
	CHECK_EQ_STR(jstr("ssl_history"), "CsxknGIi");
	CHECK_EQ_INT(jbool("established"), 1);
	CHECK_EQ_INT(jbool("resumed"), 0);
	CHECK_EQ_INT(jbool("sni_matches_cert"), match);
	CHECK_EQ_INT(jlen("cert_chain_fps"), 1);
	CHECK_EQ_INT(jlen("client_cert_chain_fps"), 0);
	cJSON *fps = cJSON_GetObjectItem(last, "cert_chain_fps");
	CHECK_EQ_STR(cJSON_GetArrayItem(fps, 0)->valuestring, fp);
	mb_free(&c1);
	mb_free(&r1);
	mb_free(&s1);
	mb_free(&c2);
	mb_free(&s2);
}

static void test_tls12(void)
{
	struct mb der = {0};
	make_cert(&der);
	tls12("www.example.com", &der, 1);
	tls12("example.org", &der, 0);
	tls12("a.b.example.com", &der, 0); /* a wildcard stands for one label */
	mb_free(&der);
}

/* Resumption: the server echoes the client's session id (abbreviated handshake). */
static void test_resumed(void)
{
	static const uint8_t sid[32] = {9, 9, 9};
	struct mb c1 = {0}, r = {0}, s = {0}, b = {0};

	client_hello(&c1, "r.example.com", 0, sid, 32);
	records(&r, 22, c1.b, c1.n, 0);
	conn_open(443);
	feed(1, r.b, r.n, 0);
	server_hello(&s, 0xc02f, sid, 32, 0, 0, NULL);
	records(&b, 22, s.b, s.n, 0);
	feed(0, b.b, b.n, 0);
	conn_close();
	CHECK_EQ_INT(jbool("resumed"), 1);
	CHECK_EQ_STR(jstr("ssl_history"), "Cs");
	mb_free(&c1);
	mb_free(&r);
	mb_free(&s);
	mb_free(&b);
}

/* TLS 1.3: supported_versions and key_share in the ServerHello, compatibility CCS both ways,
 * established when both sides sent encrypted records. */
static void test_tls13(void)
{
	static const uint8_t sid[32] = {5}, ccs = 1, enc[64];
	struct mb c1 = {0}, r = {0}, s = {0}, b = {0};

	client_hello(&c1, "t13.example.com", 1, sid, 32);
	records(&r, 22, c1.b, c1.n, 0);
	conn_open(8443);
	feed(1, r.b, r.n, 0);
	server_hello(&s, 0x1301, sid, 32, 1, 29, NULL);
	records(&b, 22, s.b, s.n, 0);
	records(&b, 20, &ccs, 1, 0);
	records(&b, 23, enc, sizeof(enc), 0);
	feed(0, b.b, b.n, 7);
	mb_free(&b);
	records(&b, 20, &ccs, 1, 0);
	records(&b, 23, enc, sizeof(enc), 0);
	feed(1, b.b, b.n, 0);
	CHECK_EQ_INT(nrecs, 1);
	conn_close();
	CHECK_EQ_STR(jstr("version"), "TLSv13");
	CHECK_EQ_STR(jstr("cipher"), "TLS_AES_128_GCM_SHA256");
	CHECK_EQ_STR(jstr("curve"), "x25519");
	CHECK_EQ_STR(jstr("ssl_history"), "CsiI");
	CHECK_EQ_INT(jbool("established"), 1);
	CHECK_EQ_INT(jbool("resumed"), 0); /* an echoed session id means nothing in TLS 1.3 */
	CHECK_EQ_INT(jlen("cert_chain_fps"), -1);
	mb_free(&c1);
	mb_free(&r);
	mb_free(&s);
	mb_free(&b);
}

/* An alert in answer to the hello; DoT and DoH flags. */
static void test_alert_dot_doh(void)
{
	static const uint8_t alert[2] = {2, 40};
	struct mb c1 = {0}, r = {0}, b = {0};

	client_hello(&c1, "DNS.Google", 0, NULL, 0);
	records(&r, 22, c1.b, c1.n, 0);
	records(&b, 21, alert, 2, 0);
	conn_open(853);
	feed(1, r.b, r.n, 0);
	feed(0, b.b, b.n, 0);
	conn_close();
	CHECK_EQ_STR(jstr("ssl_history"), "Cl");
	CHECK_EQ_STR(jstr("last_alert"), "handshake_failure");
	CHECK_EQ_INT(jbool("dot"), 1);
	CHECK_EQ_INT(jbool("doh"), 1);
	mb_free(&c1);
	mb_free(&r);
	mb_free(&b);
}

/* Lying lengths, a hello that never completes, a gap, a malformed hello: counted, no record. */
static void test_bad_input(void)
{
	struct mb c1 = {0}, r = {0};
	uint64_t c0;

	client_hello(&c1, "bad.example.com", 0, NULL, 0);
	/* a record header claiming 65535 bytes */
	records(&r, 22, c1.b, c1.n, 0);
	r.b[3] = r.b[4] = 0xff;
	c0 = cnt("tls_record_too_long");
	conn_open(443);
	CHECK_EQ_INT(tls_proto.detect(st, 1, r.b, r.n), L7_NO);
	feed(1, r.b, r.n, 0);
	conn_close();
	CHECK_EQ_INT(cnt("tls_record_too_long"), c0 + 1);
	CHECK_EQ_INT(nrecs, 0);
	/* the hello stops half way and the connection closes */
	mb_free(&r);
	records(&r, 22, c1.b, c1.n, 0);
	c0 = cnt("tls_hello_incomplete");
	conn_open(443);
	feed(1, r.b, r.n / 2, 0);
	CHECK(ctx.buf_bytes > sizeof(struct tls_conn));
	conn_close();
	CHECK_EQ_INT(cnt("tls_hello_incomplete"), c0 + 1);
	CHECK_EQ_INT(nrecs, 0);
	/* a gap in the middle of the hello: the rest is not framed */
	c0 = cnt("tls_gap");
	conn_open(443);
	feed(1, r.b, 20, 0);
	tls_proto.on_tcp_gap(st, &ctx, 1, 0);
	feed(1, r.b + 40, r.n - 40, 0);
	conn_close();
	CHECK_EQ_INT(cnt("tls_gap"), c0 + 1);
	CHECK_EQ_INT(nrecs, 0);
	/* an extension whose length runs past the hello */
	mb_free(&r);
	c1.b[c1.n - 2] = 0xff; /* the last extension's length (padding, empty) */
	records(&r, 22, c1.b, c1.n, 0);
	c0 = cnt("tls_malformed_hello");
	conn_open(443);
	feed(1, r.b, r.n, 0);
	conn_close();
	CHECK_EQ_INT(cnt("tls_malformed_hello"), c0 + 1);
	/* not TLS at all after a good header */
	mb_free(&r);
	put(&r, "\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00GET / HTTP/1.1\r\n\r\n", 28);
	c0 = cnt("tls_bad_record_header");
	conn_open(443);
	feed(1, r.b, r.n, 3);
	conn_close();
	CHECK_EQ_INT(cnt("tls_bad_record_header"), c0 + 1);
	mb_free(&c1);
	mb_free(&r);
}

/* A 100 KB handshake message is skipped, not buffered; a chain of 1000 certificates keeps
 * --tls-max-certs fingerprints and counts the rest. */
static void test_big(void)
{
	struct mb c1 = {0}, r = {0}, s = {0}, b = {0}, chain = {0};
	uint64_t c0 = cnt("tls_handshake_too_long"), c1n = cnt("tls_chain_too_long");
	size_t peak = 0;

	client_hello(&c1, "big.example.com", 0, NULL, 0);
	records(&r, 22, c1.b, c1.n, 0);
	server_hello(&s, 0xc02f, NULL, 0, 0, 0, NULL);
	put8(&s, 11);
	put24(&s, 100000);
	for (int i = 0; i < 100000; i++)
		put8(&s, (unsigned)i);
	records(&b, 22, s.b, s.n, 16384);
	conn_open(443);
	feed(1, r.b, r.n, 0);
	for (size_t off = 0; off < b.n; off += 1400) {
		feed(0, b.b + off, b.n - off < 1400 ? b.n - off : 1400, 0);
		if (ctx.buf_bytes > peak)
			peak = ctx.buf_bytes;
	}
	CHECK(peak < 8192 + sizeof(struct tls_conn)); /* never buffered */
	conn_close();
	CHECK_EQ_INT(cnt("tls_handshake_too_long"), c0 + 1);
	CHECK_EQ_STR(jstr("ssl_history"), "Csx");
	mb_free(&s);
	mb_free(&b);
	/* 1000 certificates of 20 bytes each */
	for (int i = 0; i < 1000; i++) {
		put24(&chain, 20);
		for (int j = 0; j < 20; j++)
			put8(&chain, (unsigned)(i + j));
	}
	server_hello(&s, 0xc02f, NULL, 0, 0, 0, NULL);
	put8(&s, 11);
	put24(&s, (unsigned)chain.n + 3);
	put24(&s, (unsigned)chain.n);
	put(&s, chain.b, chain.n);
	records(&b, 22, s.b, s.n, 16384);
	uint64_t unparsable = cnt("tls_certificate_unparsable");
	conn_open(443);
	feed(1, r.b, r.n, 0);
	feed(0, b.b, b.n, 1400);
	conn_close();
	CHECK_EQ_INT(jlen("cert_chain_fps"), 10);
	CHECK_EQ_INT(cnt("tls_chain_too_long"), c1n + 1);
	CHECK_EQ_INT(cnt("tls_certificate_unparsable"), unparsable + 1);
	CHECK_EQ_INT(jbool("sni_matches_cert"), -1);
	mb_free(&c1);
	mb_free(&r);
	mb_free(&s);
	mb_free(&b);
	mb_free(&chain);
}

int main(void)
{
	struct tls_config cfg;

	tls_config_default(&cfg);
	st = tls_proto.create(&cfg, &env);
	if (!st) {
		printf("FAIL tls_create\n");
		return 1;
	}
	TEST_CASE("tls_ja4_example", test_ja4_example);
	TEST_CASE("tls_fragmented_hello", test_fragmented);
	TEST_CASE("tls12_handshake", test_tls12);
	TEST_CASE("tls12_resumed", test_resumed);
	TEST_CASE("tls13_handshake", test_tls13);
	TEST_CASE("tls_alert_dot_doh", test_alert_dot_doh);
	TEST_CASE("tls_bad_input", test_bad_input);
	TEST_CASE("tls_big_messages", test_big);
	tls_proto.destroy(st);
	cJSON_Delete(last);
	wbuf_free(&out_buf);
	TEST_EXIT();
}
