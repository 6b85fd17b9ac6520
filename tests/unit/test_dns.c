// SPDX-License-Identifier: Apache-2.0
/*
 * test_dns.c - unit tests of the DNS module on crafted messages: every RR type's text, hostile
 * names (loops, forward and self pointers, long labels and names), lying counts, truncated
 * rdata, EDNS options, DNS over TCP framing, transaction pairing and timeouts, caps, mDNS, and
 * the JSON writer's escaping. Records go through the out stage (records.h) to a test sink and
 * are parsed back with cJSON.
 */
#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "counter.h"
#include "dns.h"
#include "dns_parse.h"
#include "dns_txn.h"
#include "dns_rec.h"
#include "json.h"
#include "l7.h"
#include "pano_record.pb-c.h"
#include "records.h"
#include "sink.h"

/* The DNS module's state, as an engine would make it (l7.h), its out stage, and its port
 * match. */
static struct rec_out rout;
static struct sink_set rsinks; /* the out stage's sinks: cap_sink */
static struct l7_env dns_env;
static void *dns_st;

/* A new DNS state for cfg (the previous one flushed, its records kept, and freed), with an out
 * stage in cfg's format. */
static void dns_new(const struct dns_config *cfg)
{
	if (dns_st) {
		dns_proto.flush(dns_st);
		dns_proto.destroy(dns_st);
	}
	rec_out_free(&rout);
	rec_out_init(&rout,
		     cfg->format == DNS_FORMAT_PROTOBUF ? REC_FORMAT_PROTOBUF : REC_FORMAT_JSON,
		     cfg->zeek_dotted, &rsinks);
	dns_env.emit = &rout.emit;
	dns_st = dns_proto.create(cfg, &dns_env);
}
static const struct l7_proto *dns_lookup(const struct pano_pkt *pkt)
{
	return dns_st && dns_proto.match(dns_st, pkt) == L7_YES ? &dns_proto : NULL;
}

/* ---- a message builder -------------------------------------------------------------- */
struct mb {
	uint8_t b[4096];
	size_t n;
};
static void put8(struct mb *m, unsigned v)
{
	m->b[m->n++] = (uint8_t)v;
}
static void put16(struct mb *m, unsigned v)
{
	put8(m, v >> 8);
	put8(m, v & 0xff);
}
static void put32(struct mb *m, uint32_t v)
{
	put16(m, v >> 16);
	put16(m, v & 0xffff);
}
static void putb(struct mb *m, const void *p, size_t n)
{
	memcpy(m->b + m->n, p, n);
	m->n += n;
}
/* "www.example.com" as labels; "" is the root. */
static void putname(struct mb *m, const char *s)
{
	while (*s) {
		const char *d = strchr(s, '.');
		size_t l = d ? (size_t)(d - s) : strlen(s);
		put8(m, l);
		putb(m, s, l);
		s += l + (d ? 1 : 0);
	}
	put8(m, 0);
}
static void hdr(struct mb *m, unsigned id, unsigned flags, unsigned qd, unsigned an, unsigned ns,
		unsigned ar)
{
	m->n = 0;
	put16(m, id);
	put16(m, flags);
	put16(m, qd);
	put16(m, an);
	put16(m, ns);
	put16(m, ar);
}
static void question(struct mb *m, const char *name, unsigned type)
{
	putname(m, name);
	put16(m, type);
	put16(m, 1);
}
/* Starts an RR; returns where its rdlength goes (rr_end fills it). */
static size_t rr_begin(struct mb *m, const char *owner, unsigned type, unsigned cls, uint32_t ttl)
{
	putname(m, owner);
	put16(m, type);
	put16(m, cls);
	put32(m, ttl);
	put16(m, 0);
	return m->n - 2;
}
static void rr_end(struct mb *m, size_t at)
{
	size_t l = m->n - at - 2;
	m->b[at] = (uint8_t)(l >> 8);
	m->b[at + 1] = (uint8_t)l;
}

static struct dns_msg msg;
static char text[4096];

/* Parses m (one question, one answer) and returns the answer's text (or "NONE"). */
static const char *answer_text(struct mb *m)
{
	if (dns_parse(m->b, m->n, &msg) != 0 || msg.nrr < 1)
		return "PARSE-ERROR";
	int n = dns_rr_text(&msg, &msg.rr[0], text, sizeof(text));
	return n == DNS_RR_NONE ? "NONE" : text;
}

#define RR(type, owner)                                                                            \
	hdr(&m, 1, 0x8180, 1, 1, 0, 0), question(&m, "example.com", 1),                            \
	    at = rr_begin(&m, owner, type, 1, 300)

static void test_rr_types(void)
{
	struct mb m;
	size_t at;
	static const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};

	RR(DNS_T_A, "example.com");
	put32(&m, 0xc0000201);
	rr_end(&m, at);
	CHECK_EQ_STR(answer_text(&m), "192.0.2.1");
	RR(DNS_T_AAAA, "example.com");
	putb(&m, a6, 16);
	rr_end(&m, at);
	CHECK_EQ_STR(answer_text(&m), "2001:db8::1");
	RR(DNS_T_CNAME, "example.com");
	putname(&m, "Alias.Example.NET");
	rr_end(&m, at);
	CHECK_EQ_STR(answer_text(&m), "alias.example.net");
	RR(DNS_T_NS, "example.com");
	put8(&m, 3);
	putb(&m, "ns1", 3);
	put16(&m, 0xc00c); /* compressed: ns1 + the question's name */
	rr_end(&m, at);
	CHECK_EQ_STR(answer_text(&m), "ns1.example.com");
	RR(DNS_T_PTR, "1.2.0.192.in-addr.arpa");
	putname(&m, "host.example.com");
	rr_end(&m, at);
	CHECK_EQ_STR(answer_text(&m), "host.example.com");
	RR(DNS_T_MX, "example.com");
	put16(&m, 10);
	putname(&m, "mail.example.com");
	rr_end(&m, at);
	CHECK_EQ_STR(answer_text(&m), "mail.example.com");
	RR(DNS_T_TXT, "example.com");
	put8(&m, 5);
	putb(&m, "hello", 5);
	put8(&m, 6);
	putb(&m, "wor ld", 6);
	put8(&m, 2);
	putb(&m, "\x01\xff", 2);
	rr_end(&m, at);
	CHECK_EQ_STR(answer_text(&m), "TXT 5 hello TXT 6 wor ld TXT 2 \\x01\\xff");
	RR(DNS_T_SOA, "example.com");
	putname(&m, "ns1.example.com");
	putname(&m, "hostmaster.example.com");
	for (int i = 0; i < 5; i++)
		put32(&m, 3600);
	rr_end(&m, at);
	CHECK_EQ_STR(answer_text(&m), "ns1.example.com");
	RR(DNS_T_SRV, "_sip._udp.example.com");
	put16(&m, 0);
	put16(&m, 5);
	put16(&m, 5060);
	putname(&m, "sip.example.com");
	rr_end(&m, at);
	CHECK_EQ_STR(answer_text(&m), "sip.example.com");
	RR(DNS_T_NAPTR, "example.com");
	put16(&m, 100);
	put16(&m, 10);
	put8(&m, 1);
	putb(&m, "S", 1);
	put8(&m, 7);
	putb(&m, "SIP+D2U", 7);
	put8(&m, 0);
	putname(&m, "_sip._udp.example.com");
	rr_end(&m, at);
	CHECK_EQ_STR(answer_text(&m), "NAPTR 100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.example.com");
	RR(DNS_T_CAA, "example.com");
	put8(&m, 0);
	put8(&m, 5);
	putb(&m, "issue", 5);
	putb(&m, "letsencrypt.org", 15);
	rr_end(&m, at);
	CHECK_EQ_STR(answer_text(&m), "CAA 0 issue \"letsencrypt.org\"");
	RR(DNS_T_DS, "example.com");
	put16(&m, 12345);
	put8(&m, 8);
	put8(&m, 2);
	put32(&m, 0xdeadbeef);
	rr_end(&m, at);
	CHECK_EQ_STR(answer_text(&m), "DS 8 2");
	RR(DNS_T_DNSKEY, "example.com");
	put16(&m, 257);
	put8(&m, 3);
	put8(&m, 13);
	put32(&m, 0x01020304);
	rr_end(&m, at);
	CHECK_EQ_STR(answer_text(&m), "DNSKEY 13");
	for (int root = 0; root < 2; root++) {
		RR(DNS_T_RRSIG, "example.com");
		put16(&m, 1);
		put8(&m, 8);
		put8(&m, 2);
		put32(&m, 300);
		put32(&m, 1700000000);
		put32(&m, 1690000000);
		put16(&m, 4242);
		putname(&m, root ? "" : "example.com");
		put32(&m, 0xaabbccdd);
		rr_end(&m, at);
		CHECK_EQ_STR(answer_text(&m), root ? "RRSIG 1 <Root>" : "RRSIG 1 example.com");
	}
	RR(DNS_T_NSEC, "a.example.com");
	putname(&m, "b.example.com");
	putb(&m, "\x00\x01\x40", 3);
	rr_end(&m, at);
	CHECK_EQ_STR(answer_text(&m), "NSEC a.example.com b.example.com");
	RR(DNS_T_NSEC3, "abc.example.com");
	putb(&m, "\x01\x00\x00\x0a\x00\x01\xff\x00", 8);
	rr_end(&m, at);
	CHECK_EQ_STR(answer_text(&m), "NSEC3");
	RR(DNS_T_SSHFP, "example.com");
	putb(&m, "\x01\x02\xab\xcd", 4);
	rr_end(&m, at);
	CHECK_EQ_STR(answer_text(&m), "SSHFP: abcd");
	RR(DNS_T_TLSA, "_443._tcp.example.com");
	putb(&m, "\x03\x01\x01\xde\xad", 5);
	rr_end(&m, at);
	CHECK_EQ_STR(answer_text(&m), "TLSA 3 1 1 dead");
	RR(DNS_T_HTTPS, "example.com");
	put16(&m, 1);
	put8(&m, 0);
	put16(&m, 1);
	put16(&m, 6);
	putb(&m, "\x02h2\x02h3", 6);
	put16(&m, 3);
	put16(&m, 2);
	put16(&m, 443);
	rr_end(&m, at);
	CHECK_EQ_STR(answer_text(&m), "HTTPS 1 . alpn=h2,h3 port=443");
	RR(DNS_T_LOC, "example.com");
	putb(&m, "\x00\x12\x16\x13", 4);
	put32(&m, 0x88000000);
	put32(&m, 0x88000000);
	put32(&m, 10000000);
	rr_end(&m, at);
	CHECK_EQ_STR(answer_text(&m), "LOC:  18 22 19");
	RR(DNS_T_TSIG, "key.example.com");
	put32(&m, 0);
	rr_end(&m, at);
	CHECK_EQ_STR(answer_text(&m), "NONE");
	RR(999, "example.com");
	put16(&m, 1);
	rr_end(&m, at);
	CHECK_EQ_STR(answer_text(&m), "<unknown type=999>");
	RR(DNS_T_A, "example.com"); /* rdata too short for an address */
	putb(&m, "\x01\x02\x03", 3);
	rr_end(&m, at);
	CHECK_EQ_STR(answer_text(&m), "<malformed type=1>");
}

static int parse_err(struct mb *m)
{
	return dns_parse(m->b, m->n, &msg);
}

static void test_hostile_names(void)
{
	struct mb m;
	struct pano_counter *ptr = counter_find("dns_bad_pointer");
	uint64_t before = ptr ? counter_get(ptr) : 0;

	hdr(&m, 1, 0, 1, 0, 0, 0); /* pointer to itself */
	put16(&m, 0xc00c);
	put32(&m, 0x00010001);
	CHECK_EQ_INT(parse_err(&m), DNS_EPTR);
	hdr(&m, 1, 0, 1, 0, 0, 0); /* forward pointer */
	put16(&m, 0xc010);
	put32(&m, 0x00010001);
	putname(&m, "x");
	CHECK_EQ_INT(parse_err(&m), DNS_EPTR);
	hdr(&m, 1, 0, 1, 0, 0, 0); /* label then a pointer back to the name's start */
	put8(&m, 1);
	put8(&m, 'a');
	put16(&m, 0xc00c);
	put32(&m, 0x00010001);
	CHECK_EQ_INT(parse_err(&m), DNS_EPTR);
	/* a would-be loop between two names: one of the two pointers must point forward */
	hdr(&m, 1, 0x8000, 1, 1, 0, 0);
	put8(&m, 1);
	put8(&m, 'q');
	put16(&m, 0xc000 | 20); /* question name continues at offset 20 (forward) */
	put32(&m, 0x00010001);
	put8(&m, 1); /* offset 20 */
	put8(&m, 'r');
	put16(&m, 0xc00c);
	CHECK_EQ_INT(parse_err(&m), DNS_EPTR);
	hdr(&m, 1, 0, 1, 0, 0, 0); /* a chain of 200 pointers, each one step back: too many */
	m.n = 12 + 400;
	m.b[12] = 0;
	m.b[13] = 0;
	for (int i = 1; i < 200; i++) {
		m.b[12 + 2 * i] = 0xc0 | ((12 + 2 * (i - 1)) >> 8);
		m.b[13 + 2 * i] = (uint8_t)(12 + 2 * (i - 1));
	}
	struct cursor cc = cursor_init(m.b, m.n);
	cur_seek(&cc, 12 + 2 * 199);
	char nm[DNS_NAME_TEXT];
	CHECK_EQ_INT(dns_name_read(&cc, nm, sizeof(nm)), DNS_EPTR);
	cur_seek(&cc, 12 + 2 * 100); /* 100 hops: fine, the root name */
	CHECK_EQ_INT(dns_name_read(&cc, nm, sizeof(nm)), 0);
	CHECK_EQ_STR(nm, "");
	hdr(&m, 1, 0, 1, 0, 0, 0); /* label of 64 bytes (0x40: reserved type) */
	put8(&m, 64);
	for (int i = 0; i < 64; i++)
		put8(&m, 'a');
	put8(&m, 0);
	put32(&m, 0x00010001);
	CHECK_EQ_INT(parse_err(&m), DNS_ELABEL);
	hdr(&m, 1, 0, 1, 0, 0, 0); /* 5 x 63-byte labels: over 255 */
	for (int l = 0; l < 5; l++) {
		put8(&m, 63);
		for (int i = 0; i < 63; i++)
			put8(&m, 'b');
	}
	put8(&m, 0);
	put32(&m, 0x00010001);
	CHECK_EQ_INT(parse_err(&m), DNS_ENAMELEN);
	hdr(&m, 1, 0x8180, 1, 5, 0, 0); /* ancount 5, one answer present */
	question(&m, "example.com", 1);
	size_t at = rr_begin(&m, "example.com", 1, 1, 60);
	put32(&m, 0x01020304);
	rr_end(&m, at);
	CHECK_EQ_INT(parse_err(&m), DNS_ETRUNC);
	CHECK_EQ_INT(msg.nrr, 1);	/* what came before is kept */
	hdr(&m, 1, 0x8180, 1, 1, 0, 0); /* rdlength beyond the message */
	question(&m, "example.com", 1);
	rr_begin(&m, "example.com", 1, 1, 60);
	m.b[m.n - 1] = 10;
	put32(&m, 0x01020304);
	CHECK_EQ_INT(parse_err(&m), DNS_ETRUNC);
	hdr(&m, 1, 0, 0, 0, 0, 0);
	CHECK_EQ_INT(dns_parse(m.b, 11, &msg), DNS_ETRUNC); /* shorter than a header */
	if (ptr)
		CHECK(counter_get(ptr) >= before + 4);
	else
		CHECK(!"dns_bad_pointer counter registered");
}

static void test_edns(void)
{
	struct mb m;
	hdr(&m, 7, 0x0100, 1, 0, 0, 1);
	question(&m, "example.com", 1);
	size_t at = rr_begin(&m, "", DNS_T_OPT, 1232, 0x00008000); /* DO */
	put16(&m, 8); /* ECS: family 1, /24, scope 0, 3 address bytes */
	put16(&m, 7);
	putb(&m, "\x00\x01\x18\x00\xc0\x00\x02", 7);
	put16(&m, 10); /* client cookie */
	put16(&m, 8);
	putb(&m, "12345678", 8);
	put16(&m, 3); /* NSID request */
	put16(&m, 0);
	put16(&m, 12); /* padding */
	put16(&m, 4);
	put32(&m, 0);
	rr_end(&m, at);
	CHECK_EQ_INT(parse_err(&m), 0);
	CHECK(msg.edns.present);
	CHECK_EQ_INT(msg.edns.udp_size, 1232);
	CHECK(msg.edns.do_bit);
	CHECK_EQ_INT(msg.edns.version, 0);
	CHECK(msg.edns.ecs);
	CHECK_EQ_INT(msg.edns.ecs_family, 1);
	CHECK_EQ_INT(msg.edns.ecs_source, 24);
	CHECK_EQ_INT(msg.edns.ecs_addr[0], 192);
	CHECK_EQ_INT(msg.edns.ecs_addr[2], 2);
	CHECK(msg.edns.cookie);
	CHECK_EQ_INT(msg.edns.cookie_len, 8);
	CHECK(msg.edns.nsid);
	CHECK_EQ_INT(msg.edns.padding, 4);
	/* an option whose length runs past the OPT rdata: counted, no crash, no ECS */
	hdr(&m, 7, 0x0100, 1, 0, 0, 1);
	question(&m, "example.com", 1);
	at = rr_begin(&m, "", DNS_T_OPT, 512, 0);
	put16(&m, 8);
	put16(&m, 40);
	putb(&m, "\x00\x01\x18\x00", 4);
	rr_end(&m, at);
	CHECK_EQ_INT(parse_err(&m), 0);
	CHECK(msg.edns.present && !msg.edns.ecs);
}

/* ---- records through a test sink --------------------------------------------------------- */
#define MAX_RECS 64
static char *recs[MAX_RECS];
static size_t rec_len[MAX_RECS];
static int nrecs;

static int cap_emit(struct sink *s, const char *topic, const void *key, size_t keylen,
		    const void *rec, size_t len)
{
	if (nrecs < MAX_RECS) {
		recs[nrecs] = malloc(len + 1);
		memcpy(recs[nrecs], rec, len);
		recs[nrecs][len] = '\0';
		rec_len[nrecs++] = len;
	}
	return 0;
}
static struct sink cap_sink = {.name = "test", .emit = cap_emit};

static void recs_clear(void)
{
	for (int i = 0; i < nrecs; i++)
		free(recs[i]);
	nrecs = 0;
}

static const struct l7_proto *dns_setup_fmt(unsigned max_open, enum dns_format fmt)
{
	struct dns_config cfg;
	dns_config_default(&cfg);
	cfg.max_open = max_open;
	cfg.format = fmt;
	dns_new(&cfg);
	recs_clear();
	return NULL;
}

static const struct l7_proto *dns_setup(unsigned max_open)
{
	return dns_setup_fmt(max_open, DNS_FORMAT_JSON);
}

/* A record field as text ("" if absent); numbers printed with %g, bools as true/false. */
static char fbuf[1024];
static const char *field(int i, const char *name)
{
	fbuf[0] = '\0';
	if (i >= nrecs)
		return "NO-RECORD";
	cJSON *j = cJSON_Parse(recs[i]);
	if (!j)
		return "NOT-JSON";
	cJSON *f = cJSON_GetObjectItemCaseSensitive(j, name);
	if (cJSON_IsString(f))
		snprintf(fbuf, sizeof(fbuf), "%s", f->valuestring);
	else if (cJSON_IsNumber(f))
		snprintf(fbuf, sizeof(fbuf), "%g", f->valuedouble);
	else if (cJSON_IsBool(f))
		snprintf(fbuf, sizeof(fbuf), "%s", cJSON_IsTrue(f) ? "true" : "false");
	else if (f) {
		char *p = cJSON_PrintUnformatted(f);
		snprintf(fbuf, sizeof(fbuf), "%s", p);
		free(p);
	}
	cJSON_Delete(j);
	return fbuf;
}

static struct pano_frame frame;
static struct pano_pkt pkt;

/* A UDP packet from client 192.0.2.10:port to 198.51.100.1:sport (or back, if reply). */
static void udp(uint64_t ts_ms, struct mb *m, int reply, uint16_t cport, uint16_t sport)
{
	memset(&pkt, 0, sizeof(pkt));
	frame.ts_ns = ts_ms * 1000000ull;
	frame.meta.dir = -1;
	pkt.frame = &frame;
	pkt.ts_ns = frame.ts_ns;
	pkt.l4proto = IPPROTO_UDP;
	struct pano_addr cli = {.family = 4, .a = {192, 0, 2, 10}};
	struct pano_addr srv = {.family = 4, .a = {198, 51, 100, 1}};
	pkt.saddr = reply ? srv : cli;
	pkt.daddr = reply ? cli : srv;
	pkt.sport = reply ? sport : cport;
	pkt.dport = reply ? cport : sport;
	pkt.payload = m->b;
	pkt.payload_len = m->n;
	const struct l7_proto *p = dns_lookup(&pkt);
	if (p && p->on_udp)
		p->on_udp(dns_st, &pkt);
	if (p && p->tick)
		p->tick(dns_st, pkt.ts_ns);
}

static void query(struct mb *m, unsigned id, const char *name)
{
	hdr(m, id, 0x0100, 1, 0, 0, 0);
	question(m, name, 1);
}
static void reply(struct mb *m, unsigned id, const char *name, int answers)
{
	hdr(m, id, 0x8180, 1, answers, 0, 0);
	question(m, name, 1);
	for (int i = 0; i < answers; i++) {
		size_t at = rr_begin(m, name, 1, 1, 60 + i);
		put32(m, 0xc0000201 + i);
		rr_end(m, at);
	}
}

static void test_txn_pairing(void)
{
	struct mb q, r;
	dns_setup(100);
	query(&q, 1, "WWW.Example.COM");
	reply(&r, 1, "www.example.com", 2);
	udp(1000, &q, 0, 40000, 53);
	udp(1500, &r, 1, 40000, 53);
	CHECK_EQ_INT(nrecs, 1);
	/* Zeek's JSON writer on a shared stream: the log's path first */
	CHECK(nrecs && strncmp(recs[0], "{\"_path\":\"dns\",\"ts\":1.000000,\"uid\":", 35) == 0);
	CHECK_EQ_STR(field(0, "query"), "www.example.com");
	CHECK_EQ_STR(field(0, "rtt"), "0.5");
	CHECK_EQ_STR(field(0, "answers"), "[\"192.0.2.1\",\"192.0.2.2\"]");
	CHECK_EQ_STR(field(0, "TTLs"), "[60,61]");
	CHECK_EQ_STR(field(0, "id_orig_h"), "192.0.2.10");
	CHECK_EQ_STR(field(0, "id_resp_p"), "53");
	CHECK_EQ_STR(field(0, "RD"), "true");
	CHECK_EQ_STR(field(0, "RA"), "true");
	CHECK_EQ_STR(field(0, "qtype_name"), "A");
	CHECK_EQ_STR(field(0, "rcode_name"), "NOERROR");
	CHECK_EQ_STR(field(0, "query_size"), "33");
	CHECK(field(0, "uid")[0] == 'C' && strlen(fbuf) > 10);
	CHECK_EQ_INT(dns_txn_open(dns_st), 0);
	/* two queries with one id on one connection pair FIFO; the uid stays the same */
	query(&q, 9, "a.example");
	udp(2000, &q, 0, 40000, 53);
	query(&q, 9, "b.example");
	udp(2100, &q, 0, 40000, 53);
	reply(&r, 9, "a.example", 1);
	udp(2200, &r, 1, 40000, 53);
	CHECK_EQ_INT(nrecs, 2);
	CHECK_EQ_STR(field(1, "query"), "a.example");
	char uid0[64];
	snprintf(uid0, sizeof(uid0), "%s", field(0, "uid"));
	CHECK_EQ_STR(field(1, "uid"), uid0);
	dns_proto.flush(dns_st);
	CHECK_EQ_INT(nrecs, 3);
	CHECK_EQ_STR(field(2, "query"), "b.example");
	CHECK_EQ_STR(field(2, "rcode"), ""); /* unset: left out */
}

/* Zeek's rule: every instance of a connection has its own uid. A UDP 5-tuple seen again after
 * its conversation ended (idle for 60 s, or evicted) is a new conversation with a new uid;
 * within one it keeps its uid. Another uid key gives other uids for the same input, the same
 * key the same. */
static void uid_run(uint64_t key, char uids[][64], int n)
{
	struct mb q, r;
	dns_env.uid_key = key;
	dns_setup(2);
	for (int i = 0; i < 2; i++) { /* one conversation: two transactions 30 s apart */
		query(&q, 10 + i, "a.example");
		reply(&r, 10 + i, "a.example", 1);
		udp(1000 + 30000 * i, &q, 0, 40000, 53);
		udp(1100 + 30000 * i, &r, 1, 40000, 53);
	}
	query(&q, 20, "b.example"); /* other tuples, moving time on past the idle timeout */
	udp(92000, &q, 0, 40001, 53);
	query(&q, 21, "a.example"); /* the first tuple again, after 61 s idle */
	udp(92100, &q, 0, 40000, 53);
	query(&q, 22, "c.example"); /* two more tuples: the cap of 2 evicts 40001, then 40000 */
	udp(92200, &q, 0, 40002, 53);
	query(&q, 24, "d.example");
	udp(92300, &q, 0, 40003, 53);
	query(&q, 23, "a.example"); /* the first tuple once more, after the eviction */
	udp(92400, &q, 0, 40000, 53);
	dns_proto.flush(dns_st);
	CHECK_EQ_INT(nrecs, n);
	for (int i = 0; i < nrecs && i < n; i++) { /* "port:query:uid" (field's buffer is one) */
		size_t k = (size_t)snprintf(uids[i], 64, "%s:", field(i, "id_orig_p"));
		k += (size_t)snprintf(uids[i] + k, 64 - k, "%s:", field(i, "query"));
		snprintf(uids[i] + k, 64 - k, "%s", field(i, "uid"));
	}
	dns_env.uid_key = 0;
}

static void test_uid_instances(void)
{
	char a[7][64] = {{0}}, b[7][64] = {{0}}, c[7][64] = {{0}};
	const char *u[7];
	uid_run(1, a, 7);
	uid_run(2, b, 7);
	uid_run(1, c, 7);
	/* records by port and query: the two transactions of the first conversation, then the
	 * rest in the order they were logged (timeouts, eviction, flush) */
	CHECK(strncmp(a[0], "40000:a.example:C", 17) == 0);
	CHECK(strncmp(a[1], "40000:a.example:C", 17) == 0);
	for (int i = 0; i < 7; i++)
		u[i] = strrchr(a[i], ':') ? strrchr(a[i], ':') + 1 : "";
	CHECK_EQ_STR(u[0], u[1]); /* one conversation, one uid */
	int n40000 = 0;
	for (int i = 0; i < 7; i++) {
		n40000 += strncmp(a[i], "40000:", 6) == 0;
		for (int j = i + 1; j < 7; j++)
			if (!(i == 0 && j == 1))
				CHECK(strcmp(u[i], u[j]) != 0); /* every other record: its own */
	}
	CHECK_EQ_INT(n40000, 4);
	for (int i = 0; i < 7; i++) {
		CHECK_EQ_STR(c[i], a[i]);	/* the same key: the same uids */
		CHECK(strcmp(b[i], a[i]) != 0); /* another key: other uids */
	}
}

static void test_txn_timeout_orphan_dup(void)
{
	struct mb q, r;
	dns_setup(100);
	query(&q, 2, "slow.example");
	udp(10000, &q, 0, 40001, 53);
	udp(14999, &q, 0, 40002, 53); /* another connection, keeps time moving */
	CHECK_EQ_INT(nrecs, 0);
	reply(&r, 77, "x.example", 0);
	udp(15000, &r, 1, 40003, 53); /* 5 s after the first query: it times out */
	CHECK_EQ_INT(nrecs, 1);
	CHECK_EQ_STR(field(0, "query"), "slow.example");
	CHECK_EQ_STR(field(0, "rtt"), "");
	CHECK_EQ_STR(field(0, "rcode"), "");
	dns_proto.flush(dns_st);
	recs_clear();
	/* orphan reply: query name from the first answer's owner, no qtype, no rtt */
	reply(&r, 3, "lone.example", 1);
	udp(20000, &r, 1, 40010, 53);
	dns_proto.flush(dns_st);
	CHECK_EQ_INT(nrecs, 1);
	CHECK_EQ_STR(field(0, "query"), "lone.example");
	CHECK_EQ_STR(field(0, "qtype"), "");
	CHECK_EQ_STR(field(0, "rtt"), "");
	CHECK_EQ_STR(field(0, "id_orig_h"), "192.0.2.10"); /* flipped to the client */
	recs_clear();
	/* duplicate reply: first pairs, second is logged alone (Zeek's duplicate-responses) */
	query(&q, 4, "dup.example");
	reply(&r, 4, "dup.example", 1);
	udp(30000, &q, 0, 40020, 53);
	udp(30001, &r, 1, 40020, 53);
	udp(30002, &r, 1, 40020, 53);
	CHECK_EQ_INT(nrecs, 1);
	dns_proto.flush(dns_st);
	CHECK_EQ_INT(nrecs, 2);
	CHECK_EQ_STR(field(0, "rtt"), "0.001");
	CHECK_EQ_STR(field(1, "rtt"), "");
	CHECK_EQ_STR(field(1, "answers"), "[\"192.0.2.1\"]");
	CHECK_EQ_STR(field(1, "Z"), "0");
}

static void test_txn_cap_mdns(void)
{
	struct mb q, r;
	struct pano_counter *ev = counter_find("dns_txn_evicted");
	uint64_t before = ev ? counter_get(ev) : 0;
	dns_setup(2);
	for (unsigned i = 0; i < 3; i++) {
		query(&q, 100 + i, "cap.example");
		udp(40000 + i, &q, 0, 41000, 53);
	}
	CHECK_EQ_INT(dns_txn_open(dns_st), 2);
	CHECK_EQ_INT(nrecs, 1);
	CHECK_EQ_STR(field(0, "trans_id"), "100");
	CHECK(ev && counter_get(ev) == before + 1);
	dns_setup(100);
	/* mDNS: same id both ways, never paired, each logged at once */
	query(&q, 0, "printer.local");
	reply(&r, 0, "printer.local", 1);
	udp(50000, &q, 0, 5353, 5353);
	udp(50001, &r, 1, 5353, 5353);
	CHECK_EQ_INT(nrecs, 2);
	CHECK_EQ_STR(field(0, "rcode"), "");
	CHECK_EQ_STR(field(1, "rcode"), "0");
	CHECK_EQ_STR(field(1, "rtt"), "");
	CHECK_EQ_INT(dns_txn_open(dns_st), 0);
}

/* TCP: the client sends two queries in one segment, the server answers in three pieces. */
static void test_tcp_framing(void)
{
	struct mb q1, q2, r1, r2;
	uint8_t cs[1024], ss[1024];
	size_t cn = 0, sn = 0;
	dns_setup(100);
	query(&q1, 11, "one.example");
	query(&q2, 12, "two.example");
	reply(&r1, 11, "one.example", 1);
	reply(&r2, 12, "two.example", 1);
	struct mb *cm[] = {&q1, &q2}, *sm[] = {&r1, &r2};
	for (int i = 0; i < 2; i++) {
		cs[cn++] = (uint8_t)(cm[i]->n >> 8);
		cs[cn++] = (uint8_t)cm[i]->n;
		memcpy(cs + cn, cm[i]->b, cm[i]->n);
		cn += cm[i]->n;
		ss[sn++] = (uint8_t)(sm[i]->n >> 8);
		ss[sn++] = (uint8_t)sm[i]->n;
		memcpy(ss + sn, sm[i]->b, sm[i]->n);
		sn += sm[i]->n;
	}
	memset(&pkt, 0, sizeof(pkt));
	pkt.l4proto = IPPROTO_TCP;
	pkt.sport = 45000;
	pkt.dport = 53;
	pkt.saddr = (struct pano_addr){.family = 6, .a = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}};
	pkt.daddr = (struct pano_addr){.family = 6, .a = {0x20, 0x01, 0x0d, 0xb8, [15] = 2}};
	frame.ts_ns = pkt.ts_ns = 1000000000ull;
	frame.meta.dir = 1;
	frame.meta.iface = "veth0";
	pkt.frame = &frame;
	const struct l7_proto *p = dns_lookup(&pkt);
	CHECK(p != NULL);
	if (!p)
		return;
	struct l7_tcp_ctx ctx = {.client = pkt.saddr,
				 .server = pkt.daddr,
				 .client_port = 45000,
				 .server_port = 53,
				 .conn_id = 42};
	p->on_tcp_data(dns_st, &ctx, 1, cs, cn, &pkt);
	CHECK_EQ_INT(dns_txn_open(dns_st), 2);
	CHECK_EQ_INT(ctx.buf_bytes, 0); /* whole messages are parsed in place: no buffer */
	pkt.ts_ns += 2000000;
	p->on_tcp_data(dns_st, &ctx, 0, ss, 1, &pkt); /* half the length prefix */
	p->on_tcp_data(dns_st, &ctx, 0, ss + 1, 10, &pkt);
	CHECK_EQ_INT(nrecs, 0);
	/* a partial message: a small buffer, counted on the connection (not 64 KiB) */
	CHECK(ctx.buf_bytes >= 11 && ctx.buf_bytes <= 512);
	p->on_tcp_data(dns_st, &ctx, 0, ss + 11, sn - 11, &pkt); /* rest of r1 and all of r2 */
	CHECK_EQ_INT(nrecs, 2);
	CHECK_EQ_STR(field(0, "proto"), "tcp");
	CHECK_EQ_STR(field(0, "query"), "one.example");
	CHECK_EQ_STR(field(1, "query"), "two.example");
	CHECK_EQ_STR(field(1, "rtt"), "0.002");
	CHECK_EQ_STR(field(0, "id_orig_h"), "2001:db8::1");
	CHECK_EQ_STR(field(0, "interface"), "veth0");
	CHECK_EQ_STR(field(0, "direction"), "out");
	/* a gap in the middle of a message: the partial one is dropped, framing restarts */
	p->on_tcp_data(dns_st, &ctx, 1, cs, 20, &pkt);
	p->on_tcp_gap(dns_st, &ctx, 1, 0);
	p->on_tcp_data(dns_st, &ctx, 1, cs + 13, 20,
		       &pkt); /* mid-message bytes after the hole: skipped */
	CHECK_EQ_INT(dns_txn_open(dns_st), 0);
	p->on_tcp_data(dns_st, &ctx, 1, cs, 2 + q1.n, &pkt);
	CHECK_EQ_INT(dns_txn_open(dns_st), 1);
	/* a message that comes in pieces grows its buffer with what came, never to the claim */
	uint8_t big[2 + 3000];
	memset(big, 0, sizeof(big));
	big[0] = 0xff, big[1] = 0xff; /* claims 65535 bytes */
	p->on_tcp_data(dns_st, &ctx, 1, big, sizeof(big), &pkt);
	CHECK(ctx.buf_bytes >= sizeof(big) && ctx.buf_bytes <= 2 * sizeof(big));
	uint64_t lost = counter_get(counter_find("dns_tcp_partial_at_close"));
	p->on_tcp_close(dns_st, &ctx);
	CHECK_EQ_INT(dns_txn_open(dns_st), 0);
	CHECK_EQ_INT(nrecs, 3);
	CHECK(ctx.state == NULL);
	CHECK_EQ_INT(ctx.buf_bytes, 0);
	CHECK_EQ_INT(counter_get(counter_find("dns_tcp_partial_at_close")) - lost, 1);
}

static void test_json_escaping(void)
{
	struct mb q;
	dns_setup(100);
	hdr(&q, 5, 0x0100, 1, 0, 0, 0);
	put8(&q, 7);
	putb(&q, "a\x00\xff\"\\Z\x7f", 7);
	putname(&q, "example");
	put32(&q, 0x00010001);
	udp(60000, &q, 0, 42000, 53);
	dns_proto.flush(dns_st);
	CHECK_EQ_INT(nrecs, 1);
	CHECK_EQ_STR(field(0, "query"), "a\\x00\\xff\"\\z\\x7f.example");
	/* the writer itself: invalid UTF-8 as \xNN text, valid UTF-8 kept, controls \u00NN */
	struct wbuf b = {0};
	json_str(&b, "\xff\xc3\xa9\x01\"", 5);
	CHECK_EQ_STR(b.p, "\"\\\\xff\xc3\xa9\\u0001\\\"\"");
	cJSON *j = cJSON_Parse(b.p);
	CHECK(j != NULL);
	cJSON_Delete(j);
	wbuf_free(&b);
}

static void reply_opt(struct mb *m, unsigned id, const char *name, unsigned rcode, unsigned ext);

/* --format protobuf: the same record as a pano.v1.DnsRecord. */
static void test_protobuf(void)
{
	struct mb q, r;
	dns_setup_fmt(100, DNS_FORMAT_PROTOBUF);
	query(&q, 21, "pb.example");
	reply(&r, 21, "pb.example", 2);
	udp(70000, &q, 0, 43000, 53);
	udp(70250, &r, 1, 43000, 53);
	CHECK_EQ_INT(nrecs, 1);
	if (nrecs < 1)
		return;
	Pano__V1__DnsRecord *d =
	    pano__v1__dns_record__unpack(NULL, rec_len[0], (const uint8_t *)recs[0]);
	CHECK(d != NULL);
	if (!d)
		return;
	CHECK_EQ_STR(d->query, "pb.example");
	CHECK_EQ_STR(d->id_orig_h, "192.0.2.10");
	CHECK_EQ_INT(d->id_resp_p, 53);
	CHECK_EQ_INT(d->trans_id, 21);
	CHECK(d->has_rtt && d->rtt > 0.2499 && d->rtt < 0.2501);
	CHECK_EQ_INT(d->n_answers, 2);
	if (d->n_answers == 2) {
		CHECK_EQ_STR(d->answers[1], "192.0.2.2");
		CHECK(d->ttls[1] == 61.0);
	}
	CHECK(d->has_rcode && d->rcode == 0);
	CHECK_EQ_STR(d->rcode_name, "NOERROR");
	CHECK_EQ_STR(d->path, "dns");
	CHECK_EQ_INT(d->query_len, q.n);
	CHECK(!d->has_edns_rcode && !d->has_query_cut && !d->has_reply_cut);
	pano__v1__dns_record__free_unpacked(d, NULL);
	recs_clear();
	/* the extended RCODE of an OPT in the reply */
	query(&q, 22, "pb2.example");
	reply_opt(&r, 22, "pb2.example", 7, 1);
	udp(71000, &q, 0, 43001, 53);
	udp(71250, &r, 1, 43001, 53);
	CHECK_EQ_INT(nrecs, 1);
	d = nrecs ? pano__v1__dns_record__unpack(NULL, rec_len[0], (const uint8_t *)recs[0]) : NULL;
	CHECK(d != NULL);
	if (d) {
		CHECK(d->has_rcode && d->rcode == 7);
		CHECK(d->has_edns_rcode && d->edns_rcode == 23);
		CHECK_EQ_STR(d->edns_rcode_name, "BADCOOKIE");
		pano__v1__dns_record__free_unpacked(d, NULL);
	}
	dns_setup(100);
}

static uint64_t cnt(const char *name)
{
	struct pano_counter *c = counter_find(name);
	if (!c)
		printf("  no counter %s\n", name);
	return c ? counter_get(c) : 0;
}

/* One fault, one count: a message shorter than a header is dns_too_short only; one the capture
 * cut inside its header is dns_header_cut only; a message the capture cut later is no weird at
 * all, while the same bytes as a whole message that lies about its counts are dns_truncated. */
static void test_one_count_per_fault(void)
{
	struct mb m;
	uint64_t shrt = cnt("dns_too_short"), tr = cnt("dns_truncated"), hc = cnt("dns_header_cut");

	hdr(&m, 1, 0x0100, 1, 0, 0, 0);
	question(&m, "example.com", 1);
	CHECK_EQ_INT(dns_parse(m.b, 11, &msg), DNS_ETRUNC);
	CHECK_EQ_INT(cnt("dns_too_short") - shrt, 1);
	CHECK_EQ_INT(cnt("dns_truncated") - tr, 0);
	CHECK_EQ_INT(cnt("dns_header_cut") - hc, 0);
	CHECK_EQ_INT(dns_parse_wire(m.b, 6, m.n, &msg), DNS_ETRUNC);
	CHECK_EQ_INT(cnt("dns_too_short") - shrt, 1);
	CHECK_EQ_INT(cnt("dns_header_cut") - hc, 1);
	CHECK_EQ_INT(cnt("dns_truncated") - tr, 0);
	CHECK_EQ_INT(dns_parse_wire(m.b, 20, m.n, &msg), DNS_ETRUNC); /* cut in the question */
	CHECK_EQ_INT(msg.wire_len, m.n);
	CHECK_EQ_INT(cnt("dns_truncated") - tr, 0);
	CHECK_EQ_INT(dns_parse(m.b, 20, &msg), DNS_ETRUNC); /* the same bytes, whole: a lie */
	CHECK_EQ_INT(cnt("dns_truncated") - tr, 1);
	CHECK_EQ_INT(cnt("dns_too_short") - shrt, 1);
}

/* An OPT record in an answer: the full extended RCODE in edns_rcode (RFC 6891: the OPT's
 * 8 bits above the header's 4), Zeek's rcode still the header's. */
static void reply_opt(struct mb *m, unsigned id, const char *name, unsigned rcode, unsigned ext)
{
	hdr(m, id, 0x8180 | rcode, 1, 0, 0, 1);
	question(m, name, 1);
	size_t at = rr_begin(m, "", DNS_T_OPT, 1232, ext << 24);
	rr_end(m, at);
}

static void test_edns_rcode(void)
{
	struct mb q, r;
	dns_setup(100);
	query(&q, 41, "badvers.example");
	reply_opt(&r, 41, "badvers.example", 0, 1);
	udp(90000, &q, 0, 45000, 53);
	udp(90010, &r, 1, 45000, 53);
	query(&q, 42, "badcookie.example");
	reply_opt(&r, 42, "badcookie.example", 7, 1);
	udp(90100, &q, 0, 45001, 53);
	udp(90110, &r, 1, 45001, 53);
	query(&q, 43, "plain.example");
	reply(&r, 43, "plain.example", 1);
	udp(90200, &q, 0, 45002, 53);
	udp(90210, &r, 1, 45002, 53);
	query(&q, 44, "noerror.example");
	reply_opt(&r, 44, "noerror.example", 0, 0);
	udp(90300, &q, 0, 45003, 53);
	udp(90310, &r, 1, 45003, 53);
	CHECK_EQ_INT(nrecs, 4);
	CHECK_EQ_STR(field(0, "rcode"), "0");
	CHECK_EQ_STR(field(0, "rcode_name"), "NOERROR");
	CHECK_EQ_STR(field(0, "edns_rcode"), "16");
	CHECK_EQ_STR(field(0, "edns_rcode_name"), "BADVERS");
	CHECK_EQ_STR(field(1, "rcode"), "7");
	CHECK_EQ_STR(field(1, "rcode_name"), "YXRRSET");
	CHECK_EQ_STR(field(1, "edns_rcode"), "23");
	CHECK_EQ_STR(field(1, "edns_rcode_name"), "BADCOOKIE");
	CHECK_EQ_STR(field(2, "edns_rcode"), ""); /* no OPT in the reply: left out */
	CHECK_EQ_STR(field(3, "edns_rcode"), "0");
	CHECK_EQ_STR(field(3, "edns_rcode_name"), "NOERROR");
	dns_setup(100);
}

/* A reply the capture cut: its size is the message's own (the UDP length), flagged, and the
 * parse running into the cut is not a weird. */
static void test_cut_sizes(void)
{
	struct mb q, r;
	uint64_t tr = cnt("dns_truncated");
	dns_setup(100);
	query(&q, 51, "cut.example");
	reply(&r, 51, "cut.example", 3);
	size_t whole = r.n;
	udp(95000, &q, 0, 46000, 53);
	/* what udp() does, with the capture keeping 40 bytes of the reply */
	r.n = 40;
	memset(&pkt, 0, sizeof(pkt));
	frame.ts_ns = 95002 * 1000000ull;
	pkt.frame = &frame;
	pkt.ts_ns = frame.ts_ns;
	pkt.l4proto = IPPROTO_UDP;
	pkt.saddr = (struct pano_addr){.family = 4, .a = {198, 51, 100, 1}};
	pkt.daddr = (struct pano_addr){.family = 4, .a = {192, 0, 2, 10}};
	pkt.sport = 53;
	pkt.dport = 46000;
	pkt.payload = r.b;
	pkt.payload_len = 40;
	pkt.payload_wire_len = (uint32_t)whole;
	dns_proto.on_udp(dns_st, &pkt);
	CHECK_EQ_INT(nrecs, 1);
	char want[16];
	snprintf(want, sizeof(want), "%zu", whole);
	CHECK_EQ_STR(field(0, "reply_size"), want);
	CHECK_EQ_STR(field(0, "reply_cut"), "true");
	CHECK_EQ_STR(field(0, "query_cut"), "");
	CHECK_EQ_STR(field(0, "rcode"), "0");
	CHECK_EQ_INT(cnt("dns_truncated") - tr, 0);
	dns_setup(100);
}

/*
 * PANO's latency beside Zeek's rtt: rtt only when the reply carries answers, latency whenever
 * both halves were seen (NXDOMAIN, NODATA and SERVFAIL too); neither without a reply, and no
 * latency for a reply that found no query. Checked on the JSON text itself (six decimals, like
 * rtt) and in the protobuf record.
 */
static void test_latency(void)
{
	static const struct {
		unsigned flags, answers;
		const char *rcode, *rtt;
	} cases[] = {
	    {0x8180, 1, "NOERROR", "0.250000"}, /* answered */
	    {0x8183, 0, "NXDOMAIN", NULL},
	    {0x8180, 0, "NOERROR", NULL}, /* NODATA */
	    {0x8182, 0, "SERVFAIL", NULL},
	};
	struct mb q, r;
	dns_setup(100);
	for (unsigned i = 0; i < 4; i++) {
		char want[64];
		query(&q, 30 + i, "lat.example");
		hdr(&r, 30 + i, cases[i].flags, 1, cases[i].answers, 0, 0);
		question(&r, "lat.example", 1);
		if (cases[i].answers) {
			size_t at = rr_begin(&r, "lat.example", 1, 1, 60);
			put32(&r, 0xc0000201);
			rr_end(&r, at);
		}
		udp(80000 + 1000 * i, &q, 0, 44000, 53);
		udp(80000 + 1000 * i + 250, &r, 1, 44000, 53);
		CHECK_EQ_INT(nrecs, (int)i + 1);
		if (nrecs < (int)i + 1)
			return;
		CHECK_EQ_STR(field(i, "rcode_name"), cases[i].rcode);
		CHECK(strstr(recs[i], ",\"latency\":0.250000") != NULL);
		snprintf(want, sizeof(want), ",\"rtt\":%s,", cases[i].rtt ? cases[i].rtt : "");
		CHECK((strstr(recs[i], want) != NULL) == (cases[i].rtt != NULL));
		CHECK(cases[i].rtt || !strstr(recs[i], "\"rtt\""));
		/* among PANO's own fields: after Zeek's last one */
		CHECK(strstr(recs[i], "\"latency\"") > strstr(recs[i], "\"opcode_name\""));
	}
	/* no reply (timeout), and a reply without query: no latency, no rtt */
	recs_clear();
	query(&q, 40, "late.example");
	udp(90000, &q, 0, 44001, 53);
	reply(&r, 41, "lone.example", 1);
	udp(96000, &r, 1, 44002, 53);
	dns_proto.flush(dns_st);
	CHECK_EQ_INT(nrecs, 2);
	for (int i = 0; i < nrecs; i++) {
		CHECK_EQ_STR(field(i, "latency"), "");
		CHECK_EQ_STR(field(i, "rtt"), "");
	}
	/* protobuf: NXDOMAIN carries latency, not rtt */
	dns_setup_fmt(100, DNS_FORMAT_PROTOBUF);
	query(&q, 42, "nx.example");
	hdr(&r, 42, 0x8183, 1, 0, 0, 0);
	question(&r, "nx.example", 1);
	udp(100000, &q, 0, 44003, 53);
	udp(100125, &r, 1, 44003, 53);
	CHECK_EQ_INT(nrecs, 1);
	if (nrecs == 1) {
		Pano__V1__DnsRecord *d =
		    pano__v1__dns_record__unpack(NULL, rec_len[0], (const uint8_t *)recs[0]);
		CHECK(d != NULL);
		if (d) {
			CHECK(d->has_latency && d->latency == 0.125);
			CHECK(!d->has_rtt);
			CHECK(d->has_rcode && d->rcode == 3);
			pano__v1__dns_record__free_unpacked(d, NULL);
		}
	}
	dns_setup(100);
}

/* zeek_dotted: Zeek's own "id.orig_h" names. */
static void test_dotted(void)
{
	struct mb q;
	struct dns_config cfg;
	dns_config_default(&cfg);
	cfg.zeek_dotted = 1;
	dns_new(&cfg);
	recs_clear();
	query(&q, 31, "dot.example");
	udp(80000, &q, 0, 44000, 53);
	dns_proto.flush(dns_st);
	CHECK_EQ_STR(field(0, "id.orig_h"), "192.0.2.10");
	CHECK_EQ_STR(field(0, "id.resp_p"), "53");
	CHECK_EQ_STR(field(0, "id_orig_h"), "");
	dns_setup(100);
}

/* What the module hands its rec_emit: one summary-only event per parsed message and one
 * dns_rec per transaction, and nothing else (it knows no format, sink or summary). */
static unsigned seam_ev, seam_rec, seam_other;
static struct dns_rec seam_last;
static char seam_query[64];
static void seam_emit(void *arg, const struct rec_type *t, const void *rec)
{
	(void)arg;
	if (t == &dns_msg_ev_type) {
		const struct dns_msg_ev *e = rec;
		CHECK(e->msg && e->pkt && e->size >= DNS_HDR_LEN);
		CHECK(t->path == NULL);
		seam_ev++;
	} else if (t == &dns_rec_type) {
		seam_last = *(const struct dns_rec *)rec;
		snprintf(seam_query, sizeof(seam_query), "%.*s", (int)seam_last.query.len,
			 seam_last.query.p);
		seam_rec++;
	} else {
		seam_other++;
	}
}

static void test_emit_seam(void)
{
	struct rec_emit e = {.fn = seam_emit};
	struct l7_env env = {.emit = &e};
	struct dns_config cfg;
	struct mb q, r;

	dns_config_default(&cfg);
	void *st = dns_proto.create(&cfg, &env), *keep = dns_st;
	CHECK(st != NULL);
	if (!st)
		return;
	dns_st = st;
	query(&q, 61, "seam.example");
	reply(&r, 61, "seam.example", 2);
	udp(200000, &q, 0, 47000, 53);
	CHECK_EQ_INT(seam_ev, 1);
	CHECK_EQ_INT(seam_rec, 0);
	udp(200010, &r, 1, 47000, 53);
	CHECK_EQ_INT(seam_ev, 2);
	CHECK_EQ_INT(seam_rec, 1);
	CHECK_EQ_INT(seam_other, 0);
	CHECK_EQ_STR(seam_query, "seam.example");
	CHECK(seam_last.has_query_size && seam_last.has_reply_size && seam_last.has_latency);
	CHECK_EQ_INT(seam_last.latency, 10000000);
	CHECK(seam_last.has_answers && seam_last.answers.n == 2);
	CHECK(seam_last.has_TTLs && seam_last.TTLs.n == 2);
	CHECK(seam_last.orig_a && seam_last.orig_a->a[0] == 192 && !seam_last.single);
	CHECK_EQ_INT(nrecs, 0); /* nothing reached the sinks: this state's emit is the test's */
	dns_proto.flush(st);
	dns_proto.destroy(st);
	dns_st = keep;
}

int main(void)
{
	sink_set_init(&rsinks);
	sink_set_add(&rsinks, &cap_sink);
	TEST_CASE("dns_rr_types", test_rr_types);
	TEST_CASE("dns_hostile_names_counts", test_hostile_names);
	TEST_CASE("dns_edns_options", test_edns);
	TEST_CASE("dns_txn_pairing", test_txn_pairing);
	TEST_CASE("dns_txn_timeout_orphan_duplicate", test_txn_timeout_orphan_dup);
	TEST_CASE("dns_uid_per_conversation_and_key", test_uid_instances);
	TEST_CASE("dns_txn_cap_mdns", test_txn_cap_mdns);
	TEST_CASE("dns_tcp_framing", test_tcp_framing);
	TEST_CASE("dns_json_escaping", test_json_escaping);
	TEST_CASE("dns_protobuf_record", test_protobuf);
	TEST_CASE("dns_zeek_dotted_names", test_dotted);
	TEST_CASE("dns_latency_every_reply", test_latency);
	TEST_CASE("dns_one_count_per_fault", test_one_count_per_fault);
	TEST_CASE("dns_edns_extended_rcode", test_edns_rcode);
	TEST_CASE("dns_cut_message_sizes", test_cut_sizes);
	TEST_CASE("dns_emit_records_and_events", test_emit_seam);
	recs_clear();
	dns_proto.destroy(dns_st);
	rec_out_free(&rout);
	TEST_EXIT();
}
