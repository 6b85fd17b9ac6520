// SPDX-License-Identifier: Apache-2.0
/*
 * tls_txn.c - a TLS connection's transaction: what each clear message means for its ssl.log
 * record, by Zeek's rules (base/protocols/ssl/main.zeek and its analyzer), and the record handed
 * to the emit callback.
 *
 *  - ssl_history: a letter per handshake message, ChangeCipherSpec (i), alert (l) and heartbeat
 *    (b), capital when the client sent it; at most 100.
 *  - version: the server's supported_versions value, else its hello's version; cipher: the
 *    server's choice; curve: the server's key_share group, or the named curve of an ECDHE
 *    ServerKeyExchange; next_protocol: the server's ALPN choice; server_name: the client's SNI.
 *  - resumed: the server echoed the client's session id (before TLS 1.3), or accepted its PSK,
 *    or the client offered a ticket with an empty session id and changed cipher spec without a
 *    ClientKeyExchange.
 *  - established: TLS <= 1.2 (and 1.3 experiments): both sides changed cipher spec and an
 *    encrypted record followed; TLS 1.3: both sides sent encrypted records after the
 *    ServerHello. The record is logged at that moment, as Zeek logs it, or at the
 *    connection's end without it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counter.h"
#include "ssl_rec.h"
#include "tls_proto.h"

PANO_COUNTER(c_tls_records, "tls_records", "event", "ssl.log records emitted");
PANO_COUNTER(c_tls_bad_hello, "tls_malformed_hello", "weird",
	     "TLS ClientHello/ServerHello messages that could not be parsed");
PANO_COUNTER(c_tls_hist_full, "tls_history_full", "weird",
	     "TLS connections whose ssl_history reached 100 letters");
PANO_COUNTER(c_tls_alpn_cut, "tls_client_alpn_cut", "weird",
	     "client ALPN lists longer than 256 bytes or with NUL bytes (the rest not logged)");

enum {
	HS_HELLO_REQUEST = 0,
	HS_CLIENT_HELLO = 1,
	HS_SERVER_HELLO = 2,
	HS_CERTIFICATE = 11,
	HS_SERVER_KEY_EXCHANGE = 12,
	HS_CLIENT_KEY_EXCHANGE = 16,
};

static void tls_hist(struct tls_conn *t, int fc, char letter)
{
	if (t->nhist == TLS_HIST_MAX)
		return;
	t->hist[t->nhist++] = fc ? (char)toupper((unsigned char)letter) : letter;
	if (t->nhist == TLS_HIST_MAX)
		counter_inc(&c_tls_hist_full);
}

/* Zeek's letter for a handshake message type. */
static char tls_hs_letter(uint8_t type)
{
	static const char letters[] = {
	    [0] = 'h',	[1] = 'c',  [2] = 's',	[3] = 'v',  [4] = 't',	[5] = 'e',  [6] = 'j',
	    [8] = 'o',	[11] = 'x', [12] = 'k', [13] = 'r', [14] = 'n', [15] = 'y', [16] = 'g',
	    [20] = 'f', [21] = 'w', [22] = 'u', [23] = 'a', [24] = 'p',
	};
	if (type == 254)
		return 'm';
	if (type < sizeof(letters) && letters[type])
		return letters[type];
	return 'z';
}

static bool tls_is13(uint16_t v)
{
	return v == 0x0304 || v >> 8 == 0x7f;
}

/* The client's ALPN protocols, packed NUL-terminated (at most TLS_ALPN_BYTES). */
static void tls_client_alpn(struct tls_conn *t, const struct tls_chello *h)
{
	const uint8_t *p = h->alpn, *end = h->alpn + h->alpn_len;

	t->has_calpn = h->has_alpn;
	while (p && p < end) {
		size_t n = *p++;
		if (n > (size_t)(end - p))
			break;
		if (memchr(p, 0, n) || t->calpn_len + n + 1 > TLS_ALPN_BYTES) {
			counter_inc(&c_tls_alpn_cut);
			break;
		}
		memcpy(t->calpn + t->calpn_len, p, n);
		t->calpn_len += (uint16_t)(n + 1);
		t->calpn[t->calpn_len - 1] = '\0';
		t->ncalpn++;
		p += n;
	}
}

static void tls_client_hello(struct tls_conn *t, const uint8_t *body, size_t len)
{
	struct tls_chello h;
	static const uint8_t zero[32];

	if (tls_parse_client_hello(body, len, &h)) {
		counter_inc(&c_tls_bad_hello);
		return;
	}
	if (h.has_sni && h.sni) {
		t->sni_len = (uint8_t)(h.sni_len < sizeof(t->sni) ? h.sni_len : sizeof(t->sni));
		memcpy(t->sni, h.sni, t->sni_len);
		t->has_sni = true;
	}
	t->ticket_empty_sid = h.ticket;
	if (h.sid_len && !(h.sid_len == 32 && !memcmp(h.sid, zero, 32))) {
		memcpy(t->sid, h.sid, h.sid_len);
		t->sid_len = (uint8_t)h.sid_len;
		t->ticket_empty_sid = false;
	}
	t->client_psk |= h.psk;
	if (t->chello)
		return; /* a second hello (after a HelloRetryRequest): fingerprinted once */
	t->chello = true;
	ja4_make(&h, 't', t->ja4);
	t->has_ja4 = true;
	tls_client_alpn(t, &h);
	const uint8_t *v = h.has_versions ? h.versions : NULL;
	size_t nv = h.has_versions ? h.versions_len / 2 : 1;
	for (size_t i = 0; i < nv && t->ncversions < TLS_MAX_VERSIONS; i++) {
		uint16_t x = v ? (uint16_t)(v[2 * i] << 8 | v[2 * i + 1]) : h.version;
		if (!tls_grease(x))
			t->cversions[t->ncversions++] = x;
	}
}

/* Returns the history letter: 's', or 'j' for a HelloRetryRequest. */
static char tls_server_hello(struct tls_conn *t, const uint8_t *body, size_t len)
{
	struct tls_shello h;

	if (tls_parse_server_hello(body, len, &h)) {
		counter_inc(&c_tls_bad_hello);
		return 's';
	}
	t->shello = true;
	if (h.has_sv || !t->has_version) {
		t->version = h.has_sv ? h.sv : h.version;
		t->has_version = true;
	}
	t->cipher = h.cipher;
	t->has_cipher = true;
	t->tls13 = tls_is13(t->version);
	if (h.has_group) {
		t->curve = h.group;
		t->has_curve = true;
	}
	if (h.alpn) {
		t->alpn_len = (uint8_t)h.alpn_len;
		memcpy(t->alpn, h.alpn, h.alpn_len);
		t->has_alpn = true;
	}
	if (h.psk && t->client_psk)
		t->resumed = true;
	if (t->sid_len && h.sid_len == t->sid_len && !memcmp(h.sid, t->sid, t->sid_len) &&
	    !tls_is13(t->version))
		t->resumed = true;
	return h.hrr ? 'j' : 's';
}

/* An ECDHE ServerKeyExchange names its curve (RFC 8422 5.4: curve_type 3, named_curve). */
static void tls_server_kex(struct tls_conn *t, const uint8_t *body, size_t len)
{
	char buf[24];

	if (!t->has_cipher || len < 3 || body[0] != 3 ||
	    !strstr(tls_cipher_name(t->cipher, buf), "_ECDH"))
		return;
	t->curve = (uint16_t)(body[1] << 8 | body[2]);
	t->has_curve = true;
}

void tls_txn_message(struct tls_state *st, struct l7_tcp_ctx *c, struct tls_conn *t, int fc,
		     uint8_t type, const uint8_t *body, size_t len, const struct pano_pkt *pkt)
{
	char letter = tls_hs_letter(type);

	if (body) {
		switch (type) {
		case HS_CLIENT_HELLO:
			tls_client_hello(t, body, len);
			break;
		case HS_SERVER_HELLO:
			letter = tls_server_hello(t, body, len);
			break;
		case HS_CERTIFICATE:
			tls_cert_message(st, c, t, fc, body, len);
			break;
		case HS_SERVER_KEY_EXCHANGE:
			tls_server_kex(t, body, len);
			break;
		case HS_CLIENT_KEY_EXCHANGE:
			t->cke |= fc;
			break;
		}
	}
	tls_hist(t, fc, letter);
}

void tls_txn_ccs(struct tls_conn *t, int fc)
{
	tls_hist(t, fc, 'i');
	if (!t->tls13)
		t->dir[fc ? 1 : 0].encrypted = true;
	if (fc && t->ticket_empty_sid && !t->cke)
		t->resumed = true;
}

void tls_txn_alert(struct tls_conn *t, int fc, uint8_t level, uint8_t desc)
{
	tls_hist(t, fc, 'l');
	t->alert = desc;
	t->has_alert = true;
}

void tls_txn_heartbeat(struct tls_conn *t, int fc)
{
	tls_hist(t, fc, 'b');
}

bool tls_txn_record(struct tls_state *st, struct l7_tcp_ctx *c, struct tls_conn *t, int fc,
		    uint8_t ctype)
{
	if (t->dir[fc ? 1 : 0].encrypted) {
		if (!t->dir[0].encrypted || !t->dir[1].encrypted)
			return false;
	} else if (t->tls13 && ctype == 23) {
		t->app[fc ? 1 : 0] = true;
		if (!t->app[0] || !t->app[1])
			return false;
	} else {
		return false;
	}
	t->established = true;
	tls_txn_emit(st, c, t);
	return true;
}

void tls_conn_release(struct l7_tcp_ctx *c, struct tls_conn *t)
{
	tls_dir_free(c, &t->dir[0]);
	tls_dir_free(c, &t->dir[1]);
	for (int i = 0; i < 2; i++) {
		if (t->chain[i].fps)
			c->buf_bytes -= (size_t)t->chain[i].cap * (TLS_FP_HEX + 1);
		free(t->chain[i].fps);
		t->chain[i].fps = NULL;
	}
}

/* Is name (n bytes) on the DoH list (case-insensitively)? */
static bool tls_doh(const struct tls_config *cfg, const char *name, size_t n)
{
	for (const char *s = cfg->doh; s < cfg->doh + cfg->doh_len; s += strlen(s) + 1)
		if (strlen(s) == n && !strncasecmp(s, name, n))
			return true;
	return false;
}

static bool tls_dot(const struct tls_config *cfg, uint16_t port)
{
	for (int i = 0; i < cfg->ndot; i++)
		if (cfg->dot_ports[i] == port)
			return true;
	return false;
}

void tls_txn_emit(struct tls_state *st, struct l7_tcp_ctx *c, struct tls_conn *t)
{
	struct ssl_rec r;
	char vb[24], cb[24], gb[24], ab[24];
	char cv[TLS_MAX_VERSIONS * 24];
	size_t cvl = 0;

	memset(&r, 0, sizeof(r));
	REC_SET(&r, ts, t->ts_ns);
	REC_SET(&r, uid, rec_cstr(t->uid));
	REC_SET(&r, id_orig_h, rec_cstr(t->orig_s));
	REC_SET(&r, id_orig_p, t->orig_p);
	REC_SET(&r, id_resp_h, rec_cstr(t->resp_s));
	REC_SET(&r, id_resp_p, t->resp_p);
	if (t->has_version)
		REC_SET(&r, version, rec_cstr(tls_version_name(t->version, vb)));
	if (t->has_cipher)
		REC_SET(&r, cipher, rec_cstr(tls_cipher_name(t->cipher, cb)));
	if (t->has_curve)
		REC_SET(&r, curve, rec_cstr(tls_group_name(t->curve, gb)));
	if (t->has_sni)
		REC_SET(&r, server_name, rec_str(t->sni, t->sni_len));
	REC_SET(&r, resumed, t->resumed);
	if (t->has_alert)
		REC_SET(&r, last_alert, rec_cstr(tls_alert_name(t->alert, ab)));
	if (t->has_alpn)
		REC_SET(&r, next_protocol, rec_str(t->alpn, t->alpn_len));
	REC_SET(&r, established, t->established);
	REC_SET(&r, ssl_history, rec_str(t->hist, t->nhist));
	if (t->certs_seen) {
		for (int i = 0; i < 2; i++) {
			struct rec_strv v = {t->chain[i].fps,
					     (size_t)t->chain[i].n * (TLS_FP_HEX + 1),
					     t->chain[i].n};
			if (i)
				REC_SET(&r, client_cert_chain_fps, v);
			else
				REC_SET(&r, cert_chain_fps, v);
		}
	}
	if (t->sni_match >= 0)
		REC_SET(&r, sni_matches_cert, t->sni_match == 1);
	if (t->has_ja4)
		REC_SET(&r, ja4, rec_cstr(t->ja4));
	if (t->has_calpn)
		REC_SET(&r, client_alpn, ((struct rec_strv){t->calpn, t->calpn_len, t->ncalpn}));
	for (unsigned i = 0; i < t->ncversions; i++) {
		char xb[24];
		const char *n = tls_version_name(t->cversions[i], xb);
		size_t l = strlen(n) + 1;
		memcpy(cv + cvl, n, l);
		cvl += l;
	}
	if (t->ncversions)
		REC_SET(&r, client_versions, ((struct rec_strv){cv, cvl, t->ncversions}));
	REC_SET(&r, dot, tls_dot(&st->cfg, t->resp_p));
	REC_SET(&r, doh, t->has_sni && tls_doh(&st->cfg, t->sni, t->sni_len));
	if (t->node)
		REC_SET(&r, node, rec_cstr(t->node));
	SENDER_REC_CONN(&r, st->env.senders, t->who);
	rec_emit(st->env.emit, &ssl_rec_type, &r);
	counter_inc(&c_tls_records);
	t->done = true;
	tls_conn_release(c, t);
}
