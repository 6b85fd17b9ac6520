/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tls_proto.h - the TLS module: ssl.log records from the clear part of TLS handshakes over TCP.
 *
 *   tls.c         the row of the protocol table (options, state, match/detect, connections)
 *   tls_record.c  the record layer: records and handshake messages reassembled per direction
 *   tls_hello.c   ClientHello / ServerHello / extensions, through the bounded cursor
 *   tls_txn.c     the connection's transaction: what each message means for the record
 *                 (Zeek's rules), and the record handed to the emit callback
 *   tls_cert.c    Certificate messages: SHA-256 fingerprints, the leaf against the SNI
 *   ja4.c         JA4 of a ClientHello (FoxIO's definition)
 *   tls_names.c   version, cipher suite, group and alert names as Zeek writes them
 *
 * One record per connection, logged when the handshake is established (as Zeek logs it), or
 * when the connection closes, expires or the input ends without that. Every buffer is bounded
 * and counted in the connection's l7_tcp_ctx.buf_bytes (the TCP memory cap).
 */
#ifndef PANO_TLS_PROTO_H
#define PANO_TLS_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "l7.h"
#include "packet.h"
#include "sender.h"
#include "uid.h"

#define TLS_MAX_DOT_PORTS 16
#define TLS_DOH_BYTES	  4096		   /* --tls-doh-names, packed NUL-terminated */
#define TLS_MAX_CERTS_CAP 64		   /* --tls-max-certs at most */
#define TLS_HS_MAX	  (64u << 10)	   /* a larger handshake message is skipped, not buffered */
#define TLS_REC_MAX	  (16384u + 2048u) /* largest record body (TLSCiphertext) */
#define TLS_HIST_MAX	  100		   /* ssl_history length (Zeek's max_ssl_history_length) */
#define TLS_ALPN_BYTES	  256		   /* the client's ALPN list, packed */
#define TLS_MAX_VERSIONS  16		   /* the client's offered versions kept */
#define TLS_FP_HEX	  64		   /* a SHA-256 fingerprint in hex */
#define JA4_LEN		  37		   /* "t13d1516h2_8daaf6152771_e5627efa2ab1" + NUL */

struct tls_config {
	uint16_t dot_ports[TLS_MAX_DOT_PORTS]; /* --tls-dot-ports, default 853 */
	int ndot;
	char doh[TLS_DOH_BYTES]; /* --tls-doh-names: lower-case names, each NUL-terminated */
	size_t doh_len;
	unsigned ndoh;
	unsigned max_certs; /* --tls-max-certs: fingerprints kept per chain (default 10) */
};

extern const struct l7_proto tls_proto;
void tls_config_default(struct tls_config *cfg);

/* One engine's TLS state. */
struct tls_state {
	struct tls_config cfg;
	struct l7_env env; /* its emit, uid key and sender table (the engine's) */
	unsigned open; /* connections with state */
};

/* ---- record layer (tls_record.c) ------------------------------------------------------ */
struct tls_dir {
	uint8_t hdr[5]; /* the record header being gathered */
	uint8_t nhdr;
	uint8_t ctype;	  /* content type of the current record */
	uint8_t small[2]; /* the start of a CCS / alert record's body */
	uint8_t nsmall;
	uint32_t left;	  /* body bytes of the current record still to come */
	uint32_t hs_skip; /* bytes of an oversized handshake message still to skip */
	bool encrypted;	  /* this side sent ChangeCipherSpec (TLS <= 1.2): ciphertext now */
	bool lost;	  /* framing lost (a gap, not TLS): nothing more is parsed */
	uint8_t *hs;	  /* a handshake message being reassembled (hs_cap bytes) */
	uint32_t hs_len, hs_cap;
};

/* ---- parsed hellos (tls_hello.c); pointers into the message ----------------------------- */
struct tls_chello {
	uint16_t version; /* legacy_version */
	const uint8_t *sid;
	size_t sid_len;
	const uint8_t *ciphers; /* 2 bytes each */
	size_t ciphers_len;
	const uint8_t *exts; /* the extensions block (type, length, body)... */
	size_t exts_len;
	bool has_sni, has_alpn, has_versions;
	const uint8_t *sni; /* the first host_name */
	size_t sni_len;
	const uint8_t *alpn; /* ProtocolNameList body: (len, name)... */
	size_t alpn_len;
	const uint8_t *versions; /* supported_versions: 2 bytes each */
	size_t versions_len;
	const uint8_t *sigalgs; /* signature_algorithms: 2 bytes each */
	size_t sigalgs_len;
	bool ticket; /* a non-empty SessionTicket extension */
	bool psk;    /* a pre_shared_key extension */
};

struct tls_shello {
	uint16_t version; /* legacy_version */
	uint16_t sv;	  /* the supported_versions value, when has_sv */
	bool has_sv;
	bool hrr; /* HelloRetryRequest (the special random) */
	const uint8_t *sid;
	size_t sid_len;
	uint16_t cipher;
	bool has_group; /* key_share's group */
	uint16_t group;
	bool psk;	     /* pre_shared_key accepted */
	const uint8_t *alpn; /* the protocol the server chose */
	size_t alpn_len;
};

int tls_parse_client_hello(const uint8_t *p, size_t len, struct tls_chello *h);
int tls_parse_server_hello(const uint8_t *p, size_t len, struct tls_shello *h);
/* GREASE (RFC 8701): 0x0a0a, 0x1a1a, ... 0xfafa. */
static inline bool tls_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* ---- a connection ------------------------------------------------------------------------ */
struct tls_chain {
	char *fps;     /* cap fingerprints of TLS_FP_HEX + 1 bytes (NUL each) */
	unsigned cap;  /* max_certs when fps was made */
	unsigned n;    /* fingerprints in fps */
	unsigned more; /* certificates past max_certs, counted only */
};

struct tls_conn {
	struct tls_dir dir[2]; /* [1] client to server, [0] server to client */
	uint64_t ts_ns;
	char uid[UID_LEN];
	char orig_s[PANO_ADDR_TEXT], resp_s[PANO_ADDR_TEXT];
	uint16_t orig_p, resp_p;
	const char *node;
	struct sender_ref who[2]; /* [1] client, [0] server */
	char hist[TLS_HIST_MAX];
	uint8_t nhist;
	bool done;	     /* logged: what follows is ignored */
	bool chello, shello; /* a ClientHello / ServerHello was parsed */
	bool tls13;	     /* TLS 1.3 (or a draft) was negotiated */
	bool app[2];	     /* TLS 1.3: each side sent an encrypted record */
	bool established, resumed, hrr;
	bool ticket_empty_sid, cke, client_psk;
	bool has_version, has_cipher, has_curve, has_alert;
	uint16_t version, cipher, curve;
	uint8_t alert;
	uint8_t sid[32], sid_len;
	uint8_t sni_len, alpn_len; /* server_name, next_protocol */
	bool has_sni, has_alpn, has_calpn, has_ja4, certs_seen;
	int8_t sni_match; /* -1 unknown, 0, 1 */
	char sni[255], alpn[255];
	char calpn[TLS_ALPN_BYTES]; /* the client's ALPN list, packed */
	uint16_t calpn_len;
	uint8_t ncalpn, ncversions;
	uint16_t cversions[TLS_MAX_VERSIONS];
	char ja4[JA4_LEN];
	struct tls_chain chain[2]; /* [0] server's, [1] client's */
};

/* tls_record.c: the stream bytes of one direction. */
void tls_record_feed(struct tls_state *st, struct l7_tcp_ctx *c, struct tls_conn *t,
		     int from_client, const uint8_t *data, size_t len, const struct pano_pkt *pkt);
void tls_dir_free(struct l7_tcp_ctx *c, struct tls_dir *d);

/* tls_txn.c: what the record layer found. */
void tls_txn_message(struct tls_state *st, struct l7_tcp_ctx *c, struct tls_conn *t,
		     int from_client, uint8_t type, const uint8_t *body, size_t len,
		     const struct pano_pkt *pkt);
void tls_txn_ccs(struct tls_conn *t, int from_client);
void tls_txn_alert(struct tls_conn *t, int from_client, uint8_t level, uint8_t desc);
void tls_txn_heartbeat(struct tls_conn *t, int from_client);
/* A record of content type ctype starts; returns true when the connection is now logged. */
bool tls_txn_record(struct tls_state *st, struct l7_tcp_ctx *c, struct tls_conn *t, int from_client,
		    uint8_t ctype);
void tls_txn_emit(struct tls_state *st, struct l7_tcp_ctx *c, struct tls_conn *t);
/* Frees what t holds besides itself (its bytes off c->buf_bytes). */
void tls_conn_release(struct l7_tcp_ctx *c, struct tls_conn *t);

/* tls_cert.c: a Certificate message's body into chain (server: also the SNI check). */
void tls_cert_message(const struct tls_state *st, struct l7_tcp_ctx *c, struct tls_conn *t,
		      int from_client, const uint8_t *body, size_t len);

/* ja4.c */
void ja4_make(const struct tls_chello *h, char transport, char out[JA4_LEN]);

/* tls_names.c: Zeek's names; buf (24 bytes) holds "unknown-N" when there is none. */
const char *tls_version_name(uint16_t v, char buf[24]);
const char *tls_cipher_name(uint16_t c, char buf[24]);
const char *tls_group_name(uint16_t g, char buf[24]);
const char *tls_alert_name(uint8_t d, char buf[24]);

#endif
