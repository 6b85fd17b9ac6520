// SPDX-License-Identifier: Apache-2.0
/*
 * test_decode.c - the L2-L4 decoder, IP reassembly and TCP reassembly on crafted frames, in an
 * engine (engine.h). A test L7 protocol (port 53) added to the engine records in its state what
 * the decoder delivers: UDP datagrams, each TCP direction's bytes, gaps and closes; each UDP
 * datagram also becomes a record through the engine's out stage. Counters are checked as deltas.
 * The last case runs two engines side by side on different inputs: they share nothing.
 */
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "counter.h"
#include "dns_txn.h"
#include "engine.h"
#include "http.h"
#include "pano/pcap.h"
#include "sink.h"
#include "tls_proto.h"

#define SEC 1000000000ull

/* ---- the observing L7 protocol ---------------------------------------------------------- */
/* A record per UDP datagram: what the out stage encodes and hands to the engine's sinks. */
#define T_REC_FIELDS(X)                                                                            \
	X(TIME, ts, "ts", 1)                                                                       \
	X(RAW, id_orig_h, "id.orig_h", 2)                                                          \
	X(COUNT, len, "len", 3)
struct t_rec {
	REC_STRUCT(T_REC_FIELDS)
};
static REC_JSON_FN(t_rec_json, struct t_rec, "test",
		   T_REC_FIELDS) static REC_PB_FN(t_rec_pb, struct t_rec, "test",
						  T_REC_FIELDS) static const
    struct rec_type t_rec_type = {
	.path = "test",
	.json = t_rec_json,
	.pb = t_rec_pb,
	.key_off = offsetof(struct t_rec, id_orig_h),
};

/* The test protocol's state (one per engine). */
struct t_seen {
	const struct rec_emit *emit; /* the engine's out stage */
	int udp;
	uint8_t udp_data[70000];
	uint32_t udp_len;
	uint16_t udp_sport, udp_dport;
	int udp_reasm, udp_csum_bad, udp_csum_offload;
	uint32_t udp_wire_len;
	uint8_t tcp[2][70000];
	size_t tcp_len[2];
	int gaps[2], closes, conns;
	uint64_t gap_len[2]; /* bytes the last gap of each direction said were lost */
	struct pano_addr client;
	uint16_t client_port;
	uint64_t conn_id;
	uint64_t uid_seed; /* l7_tcp_uid_seed of the connection */
};

static struct t_seen seen; /* the state of the engine most cases use */

static enum l7_verdict t_match(void *st, const struct pano_pkt *p)
{
	return p->sport == 53 || p->dport == 53 ? L7_YES : L7_NO;
}

static void t_on_udp(void *st, const struct pano_pkt *p)
{
	struct t_seen *s = st;
	s->udp++;
	s->udp_len = p->payload_len;
	memcpy(s->udp_data, p->payload, p->payload_len);
	s->udp_sport = p->sport;
	s->udp_dport = p->dport;
	s->udp_reasm = p->ip_reassembled;
	s->udp_csum_bad = p->l4_csum_bad;
	s->udp_csum_offload = p->l4_csum_offload;
	s->udp_wire_len = p->payload_wire_len;
	if (s->emit) {
		struct t_rec r = {0};
		char addr[PANO_ADDR_TEXT];
		REC_SET(&r, ts, p->ts_ns);
		REC_SET(&r, id_orig_h, rec_cstr(pano_addr_str(&p->saddr, addr, sizeof(addr))));
		REC_SET(&r, len, p->payload_len);
		rec_emit(s->emit, &t_rec_type, &r);
	}
}

static size_t t_hold; /* bytes the test protocol says it buffers per byte delivered (0: none) */

static void t_on_tcp_data(void *st, struct l7_tcp_ctx *c, int from_client, const uint8_t *d,
			  size_t len, const struct pano_pkt *p)
{
	struct t_seen *s = st;
	int dir = from_client ? 0 : 1;
	c->buf_bytes += t_hold * len; /* as a framing protocol holding a partial message */
	if (!c->state) {
		c->state = s;
		s->conns++;
	}
	s->client = c->client;
	s->client_port = c->client_port;
	s->conn_id = c->conn_id;
	s->uid_seed = l7_tcp_uid_seed(c);
	if (s->tcp_len[dir] + len <= sizeof(s->tcp[dir])) {
		memcpy(s->tcp[dir] + s->tcp_len[dir], d, len);
		s->tcp_len[dir] += len;
	}
	CHECK(p != NULL && p->ts_ns != 0);
}

static void t_on_tcp_gap(void *st, struct l7_tcp_ctx *c, int from_client, uint64_t len)
{
	((struct t_seen *)st)->gaps[from_client ? 0 : 1]++;
	((struct t_seen *)st)->gap_len[from_client ? 0 : 1] = len;
}

static void t_on_tcp_close(void *st, struct l7_tcp_ctx *c)
{
	((struct t_seen *)st)->closes++;
	c->buf_bytes = 0;
}

static const struct l7_proto t_proto = {
    .name = "test",
    .match = t_match,
    .on_udp = t_on_udp,
    .on_tcp_data = t_on_tcp_data,
    .on_tcp_gap = t_on_tcp_gap,
    .on_tcp_close = t_on_tcp_close,
};

static uint64_t cnt(const char *name)
{
	struct pano_counter *c = counter_find(name);
	if (!c) {
		printf("  no counter %s\n", name);
		return 0;
	}
	return counter_get(c);
}

/* ---- engines ------------------------------------------------------------------------------ */
/* A sink that keeps what it was handed: records, their path, the last one's bytes. */
struct t_sink {
	struct sink s;
	unsigned n;
	char path[16];
	char last[256];
	size_t last_len;
};

static int t_sink_emit(struct sink *sk, const char *path, const void *key, size_t keylen,
		       const void *rec, size_t len)
{
	struct t_sink *t = (struct t_sink *)sk;
	t->n++;
	snprintf(t->path, sizeof(t->path), "%s", path);
	t->last_len = len < sizeof(t->last) ? len : sizeof(t->last) - 1;
	memcpy(t->last, rec, t->last_len);
	t->last[t->last_len] = '\0';
	return 0;
}

/* An engine with the test protocol (state st) and its own sink set holding sk. */
static struct pano_engine *t_engine(struct t_seen *st, struct sink_set *set, struct t_sink *sk)
{
	struct engine_config ec;
	engine_config_default(&ec);
	sink_set_init(set);
	*sk = (struct t_sink){.s = {.name = "test", .emit = t_sink_emit}};
	sink_set_add(set, &sk->s);
	ec.sinks = set;
	struct pano_engine *e = engine_new(&ec);
	if (!e)
		return NULL;
	st->emit = &e->out.emit;
	l7_set_add(&e->l7, &t_proto, NULL, st);
	return e;
}

static struct pano_engine *eng; /* the engine frames are fed to */

/* ---- frame builders ---------------------------------------------------------------------- */
static uint64_t now_ns = 1700000000ull * SEC;
static const uint8_t A4[4] = {198, 18, 0, 10}, B4[4] = {198, 18, 0, 2};
static const uint8_t A6[16] = {0x20, 0x01, 0, 2, [15] = 0x10};
static const uint8_t B6[16] = {0x20, 0x01, 0, 2, [15] = 0x02};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Fills the L4 checksum of seg (UDP at offset 6, TCP at 16). */
static void l4_csum(int v6, uint8_t proto, uint8_t *seg, uint32_t len)
{
	unsigned al = v6 ? 16 : 4;
	uint32_t s = sum16(v6 ? A6 : A4, al, 0);
	s = sum16(v6 ? B6 : B4, al, s);
	s += proto + (len & 0xffff) + (len >> 16);
	int at = proto == IPPROTO_UDP ? 6 : 16;
	put16(seg + at, 0);
	uint16_t c = fold(sum16(seg, len, s));
	put16(seg + at, proto == IPPROTO_UDP && c == 0 ? 0xffff : c);
}

/* UDP A:sport -> B:dport with payload; returns the segment length. */
static uint32_t mk_udp(uint8_t *seg, int v6, uint16_t sport, uint16_t dport, const uint8_t *pl,
		       uint32_t plen)
{
	put16(seg, sport);
	put16(seg + 2, dport);
	put16(seg + 4, (uint16_t)(8 + plen));
	memcpy(seg + 8, pl, plen);
	l4_csum(v6, IPPROTO_UDP, seg, 8 + plen);
	return 8 + plen;
}

/* TCP segment; from_a: A->B (A is 198.18.0.10:40000, B port 53). */
static uint32_t mk_tcp(uint8_t *seg, int from_a, uint32_t seq, uint32_t ack, uint8_t flags,
		       const uint8_t *pl, uint32_t plen, uint16_t aport)
{
	memset(seg, 0, 20);
	put16(seg, from_a ? aport : 53);
	put16(seg + 2, from_a ? 53 : aport);
	put32(seg + 4, seq);
	put32(seg + 8, ack);
	seg[12] = 5 << 4;
	seg[13] = flags;
	put16(seg + 14, 65535);
	if (plen)
		memcpy(seg + 20, pl, plen);
	return 20 + plen;
}

/* IPv4 header (+ optlen bytes of NOP options) around l4; from_a picks the direction. */
static uint32_t mk_ip4(uint8_t *pkt, int from_a, uint8_t proto, uint16_t id, uint16_t frag,
		       const uint8_t *l4, uint32_t l4len, unsigned optlen)
{
	unsigned ihl = 20 + optlen;
	memset(pkt, 0, ihl);
	pkt[0] = 0x40 | (ihl / 4);
	put16(pkt + 2, (uint16_t)(ihl + l4len));
	put16(pkt + 4, id);
	put16(pkt + 6, frag);
	pkt[8] = 64;
	pkt[9] = proto;
	memcpy(pkt + 12, from_a ? A4 : B4, 4);
	memcpy(pkt + 16, from_a ? B4 : A4, 4);
	memset(pkt + 20, 1, optlen);
	put16(pkt + 10, fold(sum16(pkt, ihl, 0)));
	memcpy(pkt + ihl, l4, l4len);
	return ihl + l4len;
}

/* IPv6 header A->B with the given extension header bytes (already chained) before l4. */
static uint32_t mk_ip6(uint8_t *pkt, uint8_t nh, const uint8_t *ext, uint32_t extlen,
		       const uint8_t *l4, uint32_t l4len)
{
	memset(pkt, 0, 40);
	pkt[0] = 0x60;
	put16(pkt + 4, (uint16_t)(extlen + l4len));
	pkt[6] = nh;
	pkt[7] = 64;
	memcpy(pkt + 8, A6, 16);
	memcpy(pkt + 24, B6, 16);
	if (extlen)
		memcpy(pkt + 40, ext, extlen);
	memcpy(pkt + 40 + extlen, l4, l4len);
	return 40 + extlen + l4len;
}

/* A frame of which the capture kept caplen bytes of len; partial: the input says the kernel
 * had not filled in the L4 checksum. */
static void feed_frame(int linktype, const uint8_t *data, uint32_t caplen, uint32_t len,
		       bool partial)
{
	static const struct pano_source src = {.id = 7};
	struct pano_frame f = {.ts_ns = now_ns,
			       .data = data,
			       .caplen = caplen,
			       .len = len,
			       .linktype = linktype,
			       .src = &src,
			       .meta = {.dir = -1, .l4_csum_partial = partial}};
	decode_frame(eng, &f);
}

static void feed(int linktype, const uint8_t *data, uint32_t len)
{
	feed_frame(linktype, data, len, len, false);
}

/* Ethernet with ntags VLAN tags (first 0x88a8 when QinQ) around an IP packet. */
static void feed_eth(const uint8_t *ip, uint32_t len, int ntags, int v6)
{
	uint8_t fr[70100];
	uint32_t o = 12;
	memset(fr, 0xaa, 12);
	for (int i = 0; i < ntags; i++) {
		put16(fr + o, i == 0 && ntags > 1 ? 0x88a8 : 0x8100);
		put16(fr + o + 2, (uint16_t)(100 + i));
		o += 4;
	}
	put16(fr + o, v6 ? 0x86dd : 0x0800);
	o += 2;
	memcpy(fr + o, ip, len);
	feed(PCAP_LINKTYPE_ETHERNET, fr, o + len);
}

static const uint8_t msg[] = "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x07"
			     "example\x03org\x00\x00\x01\x00\x01";

static void reset_seen(void)
{
	const struct rec_emit *e = seen.emit;
	memset(&seen, 0, sizeof(seen));
	seen.emit = e;
}

static int udp_ok(void)
{
	return seen.udp == 1 && seen.udp_len == sizeof(msg) &&
	       memcmp(seen.udp_data, msg, sizeof(msg)) == 0 && seen.udp_sport == 40000 &&
	       seen.udp_dport == 53;
}

/* ---- link layers ------------------------------------------------------------------------ */
static void test_link_types(void)
{
	uint8_t seg[2048], ip[2048], fr[2100];
	uint32_t sl = mk_udp(seg, 0, 40000, 53, msg, sizeof(msg));
	uint32_t il = mk_ip4(ip, 1, IPPROTO_UDP, 1, 0, seg, sl, 0);

	reset_seen();
	feed_eth(ip, il, 0, 0);
	CHECK(udp_ok());

	/* Linux cooked v1: 14 bytes then the protocol. */
	reset_seen();
	memset(fr, 0, 14);
	put16(fr + 14, 0x0800);
	memcpy(fr + 16, ip, il);
	feed(PCAP_LINKTYPE_LINUX_SLL, fr, 16 + il);
	CHECK(udp_ok());

	/* SLL2: protocol first, 20 bytes in all. */
	reset_seen();
	memset(fr, 0, 20);
	put16(fr, 0x0800);
	memcpy(fr + 20, ip, il);
	feed(PCAP_LINKTYPE_LINUX_SLL2, fr, 20 + il);
	CHECK(udp_ok());

	int raws[] = {PCAP_LINKTYPE_RAW, PCAP_LINKTYPE_IPV4};
	for (unsigned i = 0; i < 2; i++) {
		reset_seen();
		feed(raws[i], ip, il);
		CHECK(udp_ok());
	}

	/* BSD null: host-order AF_INET (2), both byte orders; OpenBSD loop: network order. */
	uint8_t afs[3][4] = {{2, 0, 0, 0}, {0, 0, 0, 2}, {0, 0, 0, 2}};
	int lts[3] = {PCAP_LINKTYPE_NULL, PCAP_LINKTYPE_NULL, PCAP_LINKTYPE_LOOP};
	for (int i = 0; i < 3; i++) {
		reset_seen();
		memcpy(fr, afs[i], 4);
		memcpy(fr + 4, ip, il);
		feed(lts[i], fr, 4 + il);
		CHECK(udp_ok());
	}

	/* PPP (9) with and without address/control, protocol 0x0021. */
	reset_seen();
	fr[0] = 0xff, fr[1] = 0x03, fr[2] = 0x00, fr[3] = 0x21;
	memcpy(fr + 4, ip, il);
	feed(9, fr, 4 + il);
	CHECK(udp_ok());
	reset_seen();
	feed(9, fr + 2, 2 + il);
	CHECK(udp_ok());

	/* IPv6 over raw 229. */
	uint8_t seg6[2048], ip6[2100];
	uint32_t sl6 = mk_udp(seg6, 1, 40000, 53, msg, sizeof(msg));
	uint32_t il6 = mk_ip6(ip6, IPPROTO_UDP, NULL, 0, seg6, sl6);
	reset_seen();
	feed(PCAP_LINKTYPE_IPV6, ip6, il6);
	CHECK(udp_ok());
	CHECK(!seen.udp_csum_bad);

	/* Unsupported link type: counted, not delivered. */
	uint64_t before = cnt("linktype_unsupported");
	reset_seen();
	feed(147, ip, il);
	feed(147, ip, il);
	CHECK_EQ_INT(seen.udp, 0);
	CHECK_EQ_INT(cnt("linktype_unsupported") - before, 2);

	/* Truncated link headers are weird, not crashes. */
	before = cnt("l2_truncated");
	feed(PCAP_LINKTYPE_ETHERNET, ip, 5);
	feed(PCAP_LINKTYPE_LINUX_SLL2, ip, 19);
	feed(PCAP_LINKTYPE_NULL, ip, 3);
	CHECK_EQ_INT(cnt("l2_truncated") - before, 3);
}

static void test_vlan(void)
{
	uint8_t seg[2048], ip[2048];
	uint32_t sl = mk_udp(seg, 0, 40000, 53, msg, sizeof(msg));
	uint32_t il = mk_ip4(ip, 1, IPPROTO_UDP, 1, 0, seg, sl, 0);

	reset_seen();
	feed_eth(ip, il, 1, 0);
	CHECK(udp_ok());
	reset_seen();
	feed_eth(ip, il, 2, 0); /* QinQ */
	CHECK(udp_ok());
	uint64_t before = cnt("vlan_too_deep");
	reset_seen();
	feed_eth(ip, il, 5, 0);
	CHECK_EQ_INT(seen.udp, 0);
	CHECK_EQ_INT(cnt("vlan_too_deep") - before, 1);
}

static void test_ip4_options_and_csum(void)
{
	uint8_t seg[2048], ip[2048];
	uint32_t sl = mk_udp(seg, 0, 40000, 53, msg, sizeof(msg));
	uint32_t il = mk_ip4(ip, 1, IPPROTO_UDP, 1, 0, seg, sl, 8);
	uint64_t bad = cnt("l4_csum_bad");

	reset_seen();
	feed_eth(ip, il, 0, 0);
	CHECK(udp_ok());
	CHECK(!seen.udp_csum_bad);
	CHECK_EQ_INT(cnt("l4_csum_bad"), bad);

	/* A wrong checksum is counted and flagged, and the datagram still delivered. */
	ip[28 + 6] ^= 0x55;
	reset_seen();
	feed_eth(ip, il, 0, 0);
	CHECK(udp_ok());
	CHECK(seen.udp_csum_bad);
	CHECK_EQ_INT(cnt("l4_csum_bad") - bad, 1);

	/* Header length below 20 and a total length that lies. */
	uint64_t b4 = cnt("ip4_bad_header");
	ip[0] = 0x44;
	feed_eth(ip, il, 0, 0);
	CHECK_EQ_INT(cnt("ip4_bad_header") - b4, 1);

	/* IPv4 truncated by snaplen: UDP still delivered (cut), both counted. */
	il = mk_ip4(ip, 1, IPPROTO_UDP, 1, 0, seg, sl, 0);
	uint64_t t4 = cnt("ip4_truncated"), tu = cnt("udp_truncated");
	reset_seen();
	feed_eth(ip, il - 10, 0, 0);
	CHECK_EQ_INT(seen.udp, 1);
	CHECK_EQ_INT(seen.udp_len, sizeof(msg) - 10);
	CHECK_EQ_INT(cnt("ip4_truncated") - t4, 1);
	CHECK_EQ_INT(cnt("udp_truncated") - tu, 1);
}

static void test_ip6_ext(void)
{
	uint8_t seg[2048], ip[2100], ext[64];
	uint32_t sl = mk_udp(seg, 1, 40000, 53, msg, sizeof(msg));

	/* hop-by-hop (8 bytes) -> destination options (16 bytes) -> routing (8) -> UDP */
	memset(ext, 0, sizeof(ext));
	ext[0] = 60, ext[1] = 0;
	ext[8] = 43, ext[9] = 1;
	ext[24] = IPPROTO_UDP, ext[25] = 0;
	uint32_t il = mk_ip6(ip, 0, ext, 32, seg, sl);
	reset_seen();
	feed_eth(ip, il, 0, 1);
	CHECK(udp_ok());
	CHECK(!seen.udp_csum_bad);

	/* An extension header that runs past the packet. */
	uint64_t b = cnt("ip6_bad_header");
	ext[25] = 200;
	il = mk_ip6(ip, 0, ext, 32, seg, sl);
	reset_seen();
	feed_eth(ip, il, 0, 1);
	CHECK_EQ_INT(seen.udp, 0);
	CHECK_EQ_INT(cnt("ip6_bad_header") - b, 1);

	/* A loop of 20 destination-options headers hits the chain limit. */
	uint8_t many[200];
	for (int i = 0; i < 20; i++) {
		memset(many + i * 8, 0, 8);
		many[i * 8] = i == 19 ? IPPROTO_UDP : 60;
	}
	b = cnt("ip6_too_many_ext");
	il = mk_ip6(ip, 60, many, 160, seg, sl);
	reset_seen();
	feed_eth(ip, il, 0, 1);
	CHECK_EQ_INT(seen.udp, 0);
	CHECK_EQ_INT(cnt("ip6_too_many_ext") - b, 1);
}

/* ---- IP fragments ------------------------------------------------------------------------- */
static uint8_t big[3000];
static uint8_t bigseg[3100];
static uint32_t bigseg_len;

/* Sends IPv4 fragment i of the UDP datagram bigseg (fragments of 1000 bytes). */
static void frag4(uint32_t id, unsigned i)
{
	uint8_t ip[1100];
	uint32_t off = i * 1000, len = bigseg_len - off > 1000 ? 1000 : bigseg_len - off;
	int more = off + len < bigseg_len;
	uint32_t il = mk_ip4(ip, 1, IPPROTO_UDP, (uint16_t)id,
			     (uint16_t)((more ? 0x2000 : 0) | off / 8), bigseg + off, len, 0);
	feed_eth(ip, il, 0, 0);
}

static void frag6(uint32_t id, unsigned i)
{
	uint8_t ip[1200], fh[8];
	uint32_t off = i * 1000, len = bigseg_len - off > 1000 ? 1000 : bigseg_len - off;
	int more = off + len < bigseg_len;
	fh[0] = IPPROTO_UDP;
	fh[1] = 0;
	put16(fh + 2, (uint16_t)(off | more));
	put32(fh + 4, id);
	uint32_t il = mk_ip6(ip, 44, fh, 8, bigseg + off, len);
	feed_eth(ip, il, 0, 1);
}

static int big_ok(void)
{
	return seen.udp == 1 && seen.udp_len == sizeof(big) &&
	       memcmp(seen.udp_data, big, sizeof(big)) == 0 && seen.udp_reasm && !seen.udp_csum_bad;
}

static void test_frag(int v6)
{
	void (*frag)(uint32_t, unsigned) = v6 ? frag6 : frag4;
	for (unsigned i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + 3);
	bigseg_len = mk_udp(bigseg, v6, 40000, 53, big, sizeof(big)); /* 3008: 4 fragments */

	reset_seen(); /* in order */
	for (unsigned i = 0; i < 4; i++)
		frag(100, i);
	CHECK(big_ok());

	reset_seen(); /* reversed */
	for (int i = 3; i >= 0; i--)
		frag(101, (unsigned)i);
	CHECK(big_ok());

	uint64_t dup = cnt("ip_frag_duplicate");
	reset_seen(); /* every fragment twice, middle ones first */
	frag(102, 1), frag(102, 1), frag(102, 2), frag(102, 0), frag(102, 2), frag(102, 3);
	frag(102, 0);
	CHECK(big_ok());
	CHECK_EQ_INT(cnt("ip_frag_duplicate") - dup, 2);
	CHECK_EQ_INT(ipfrag_datagrams(eng->frag),
		     1); /* the late duplicate started a new datagram */
	ipfrag_clear(eng->frag);

	/* Overlap: fragment 1 moved 8 bytes back overlaps fragment 0. */
	uint64_t ov = cnt("ip_frag_overlap"), rej = cnt("ip_frag_rejected");
	reset_seen();
	frag(103, 0);
	if (!v6) {
		uint8_t ip[1100];
		uint32_t il =
		    mk_ip4(ip, 1, IPPROTO_UDP, 103, 0x2000 | (992 / 8), bigseg + 992, 1000, 0);
		feed_eth(ip, il, 0, 0);
	} else {
		uint8_t ip[1200], fh[8] = {IPPROTO_UDP, 0};
		put16(fh + 2, 992 | 1);
		put32(fh + 4, 103);
		uint32_t il = mk_ip6(ip, 44, fh, 8, bigseg + 992, 1000);
		feed_eth(ip, il, 0, 1);
	}
	frag(103, 1), frag(103, 2), frag(103, 3);
	CHECK_EQ_INT(seen.udp, 0);
	CHECK_EQ_INT(cnt("ip_frag_overlap") - ov, 1);
	CHECK_EQ_INT(cnt("ip_frag_rejected") - rej, 3);

	/* Oversized: a last fragment ending past 65535. */
	uint64_t os = cnt("ip_frag_oversize");
	reset_seen();
	if (!v6) {
		uint8_t ip[1100];
		uint32_t il = mk_ip4(ip, 1, IPPROTO_UDP, 104, 65528 / 8, bigseg, 100, 0);
		feed_eth(ip, il, 0, 0);
	} else {
		uint8_t ip[1200], fh[8] = {IPPROTO_UDP, 0};
		put16(fh + 2, 65528);
		put32(fh + 4, 104);
		uint32_t il = mk_ip6(ip, 44, fh, 8, bigseg, 100);
		feed_eth(ip, il, 0, 1);
	}
	CHECK_EQ_INT(seen.udp, 0);
	CHECK_EQ_INT(cnt("ip_frag_oversize") - os, 1);

	/* Never completed: dropped after the timeout, on packet time. */
	uint64_t to = cnt("ip_frag_timeout");
	ipfrag_clear(eng->frag);
	reset_seen();
	frag(105, 0), frag(105, 1);
	CHECK_EQ_INT(ipfrag_datagrams(eng->frag), 1);
	CHECK(ipfrag_bytes(eng->frag) == 2000);
	decode_tick(eng, now_ns + 10 * SEC);
	CHECK_EQ_INT(ipfrag_datagrams(eng->frag), 1);
	decode_tick(eng, now_ns + 31 * SEC);
	CHECK_EQ_INT(ipfrag_datagrams(eng->frag), 0);
	CHECK_EQ_INT(ipfrag_bytes(eng->frag), 0);
	CHECK_EQ_INT(cnt("ip_frag_timeout") - to, 1);
	frag(105, 2), frag(105, 3); /* the rest arrives too late: a new, incomplete datagram */
	CHECK_EQ_INT(seen.udp, 0);
	ipfrag_clear(eng->frag);
}

static void test_frag4(void)
{
	test_frag(0);
}

static void test_frag6(void)
{
	test_frag(1);
}

static void test_frag_caps(void)
{
	struct ipfrag_limits old, lim;
	ipfrag_get_limits(eng->frag, &old);
	lim = old;
	lim.max_datagrams = 64;
	lim.max_bytes = 16 << 10;
	ipfrag_set_limits(eng->frag, &lim);
	bigseg_len = mk_udp(bigseg, 0, 40000, 53, big, sizeof(big));

	uint64_t ev = cnt("ip_frag_evicted");
	size_t peak_bytes = 0;
	unsigned peak_dg = 0;
	for (unsigned id = 0; id < 1000; id++) {
		frag4(1000 + id, 0);
		if (ipfrag_bytes(eng->frag) > peak_bytes)
			peak_bytes = ipfrag_bytes(eng->frag);
		if (ipfrag_datagrams(eng->frag) > peak_dg)
			peak_dg = ipfrag_datagrams(eng->frag);
	}
	CHECK(peak_dg <= 64);
	CHECK(peak_bytes <= 16 << 10);
	/* 16 KiB holds 16 first fragments of 1000 bytes: the rest were evicted. */
	CHECK_EQ_INT(cnt("ip_frag_evicted") - ev, 1000 - 16);
	/* A datagram still completes under pressure. */
	reset_seen();
	for (unsigned i = 0; i < 4; i++)
		frag4(5000, i);
	CHECK(big_ok());
	ipfrag_clear(eng->frag);
	ipfrag_set_limits(eng->frag, &old);
}

/* ---- TCP -------------------------------------------------------------------------------- */
static uint16_t tcp_aport = 41000;

static void seg4(int from_a, uint32_t seq, uint8_t flags, const void *pl, uint32_t plen)
{
	uint8_t s[70000], ip[70100];
	uint32_t sl = mk_tcp(s, from_a, seq, 0, flags | 0x10, pl, plen, tcp_aport);
	if (flags & 0x02 && !from_a)
		; /* SYN-ACK keeps ACK */
	else if (flags & 0x02)
		s[13] &= (uint8_t)~0x10; /* bare SYN */
	l4_csum(0, IPPROTO_TCP, s, sl);
	uint32_t il = mk_ip4(ip, from_a, IPPROTO_TCP, 1, 0, s, sl, 0);
	feed_eth(ip, il, 0, 0);
}

#define SYN 0x02
#define FIN 0x01
#define RST 0x04
#define PSH 0x08

static const char stream[] = "\x00\x20"
			     "0123456789abcdefghijklmnopqrstuv"
			     "\x00\x10"
			     "ABCDEFGHIJKLMNOP";
#define SLEN (sizeof(stream) - 1)

static void handshake(uint32_t cisn, uint32_t sisn)
{
	tcp_aport++;
	seg4(1, cisn, SYN, NULL, 0);
	seg4(0, sisn, SYN, NULL, 0);
	seg4(1, cisn + 1, 0, NULL, 0);
}

static void close_both(uint32_t cseq, uint32_t sseq)
{
	seg4(1, cseq, FIN, NULL, 0);
	seg4(0, sseq, FIN, NULL, 0);
}

static void test_tcp_split_and_multi(void)
{
	reset_seen();
	handshake(1000, 5000);
	/* split across three segments */
	seg4(1, 1001, PSH, stream, 5);
	seg4(1, 1006, PSH, stream + 5, 20);
	seg4(1, 1026, PSH, stream + 25, SLEN - 25);
	/* several messages in one segment, server side */
	seg4(0, 5001, PSH, stream, SLEN);
	CHECK_EQ_INT(seen.tcp_len[0], SLEN);
	CHECK(memcmp(seen.tcp[0], stream, SLEN) == 0);
	CHECK_EQ_INT(seen.tcp_len[1], SLEN);
	CHECK(memcmp(seen.tcp[1], stream, SLEN) == 0);
	CHECK(memcmp(seen.client.a, A4, 4) == 0 && seen.client_port == tcp_aport);
	unsigned before = tcp_conns(eng->tcp);
	close_both(1001 + SLEN, 5001 + SLEN);
	CHECK_EQ_INT(seen.closes, 1);
	CHECK_EQ_INT(tcp_conns(eng->tcp), before - 1);
	CHECK_EQ_INT(seen.gaps[0] + seen.gaps[1], 0);
}

static void test_tcp_ooo_retrans(void)
{
	uint64_t rt = cnt("tcp_retransmitted");
	reset_seen();
	handshake(7, 0xfffffff0u);		      /* server sequence numbers wrap */
	seg4(1, 8 + 25, PSH, stream + 25, SLEN - 25); /* third part first */
	seg4(1, 8 + 5, PSH, stream + 5, 20);
	CHECK_EQ_INT(seen.tcp_len[0], 0);
	CHECK(tcp_buffered(eng->tcp) > 0);
	seg4(1, 8, PSH, stream, 5);
	CHECK_EQ_INT(seen.tcp_len[0], SLEN);
	CHECK(memcmp(seen.tcp[0], stream, SLEN) == 0);
	CHECK_EQ_INT(tcp_buffered(eng->tcp), 0);

	/* retransmissions: whole, and overlapping new data */
	seg4(1, 8, PSH, stream, 5);
	seg4(0, 0xfffffff1u, PSH, stream, 30);
	seg4(0, 0xfffffff1u, PSH, stream, 30);
	seg4(0, 0xfffffff1u + 20, PSH, stream + 20, SLEN - 20);
	CHECK_EQ_INT(seen.tcp_len[0], SLEN);
	CHECK_EQ_INT(seen.tcp_len[1], SLEN);
	CHECK(memcmp(seen.tcp[1], stream, SLEN) == 0);
	CHECK(cnt("tcp_retransmitted") - rt >= 3);
	close_both(8 + SLEN, (uint32_t)(0xfffffff1u + SLEN));
	CHECK_EQ_INT(seen.closes, 1);
	CHECK_EQ_INT(seen.gaps[0] + seen.gaps[1], 0);
}

static void test_tcp_gap(void)
{
	uint64_t g = cnt("tcp_gap");
	reset_seen();
	handshake(100, 200);
	seg4(1, 101, PSH, stream, 10);
	seg4(1, 121, PSH, stream + 20, SLEN - 20); /* 10 bytes never arrive */
	CHECK_EQ_INT(seen.tcp_len[0], 10);
	seg4(1, 101 + SLEN, FIN, NULL, 0);
	seg4(0, 201, FIN, NULL, 0);
	/* the server finished, the client's FIN waits behind the hole: still open */
	CHECK_EQ_INT(seen.closes, 0);
	seg4(1, 101, RST, NULL, 0);
	CHECK_EQ_INT(seen.closes, 1);
	CHECK_EQ_INT(seen.gaps[0], 1);
	CHECK_EQ_INT(seen.gap_len[0], 10);
	CHECK_EQ_INT(seen.tcp_len[0], SLEN - 10);
	CHECK(memcmp(seen.tcp[0] + 10, stream + 20, SLEN - 20) == 0);
	CHECK_EQ_INT(cnt("tcp_gap") - g, 1);
}

/* A segment the capture cut short (snaplen): its kept bytes go out, the rest is a hole of known
 * length given up on at once, and the next segment follows without waiting. */
static void test_tcp_cut_segment(void)
{
	uint8_t s[200], ip[300], fr[400];
	uint64_t cut = cnt("tcp_segments_cut");

	reset_seen();
	handshake(100, 200);
	/* 40 payload bytes on the wire, a capture that kept 14 + 20 + 20 + 10 of the frame */
	uint32_t sl = mk_tcp(s, 1, 101, 0, PSH | 0x10, (const uint8_t *)stream, 40, tcp_aport);
	l4_csum(0, IPPROTO_TCP, s, sl);
	uint32_t il = mk_ip4(ip, 1, IPPROTO_TCP, 1, 0, s, sl, 0);
	memset(fr, 0xaa, 12);
	put16(fr + 12, 0x0800);
	memcpy(fr + 14, ip, il);
	feed_frame(PCAP_LINKTYPE_ETHERNET, fr, 14 + il - 30, 14 + il, false);
	CHECK_EQ_INT(seen.tcp_len[0], 10);
	CHECK_EQ_INT(seen.gaps[0], 1);
	CHECK_EQ_INT(seen.gap_len[0], 30);
	CHECK_EQ_INT(cnt("tcp_segments_cut") - cut, 1);
	seg4(1, 141, PSH, stream + 40, 10); /* in order right away */
	CHECK_EQ_INT(seen.tcp_len[0], 20);
	CHECK(memcmp(seen.tcp[0] + 10, stream + 40, 10) == 0);
	close_both(151, 201);
	CHECK_EQ_INT(seen.closes, 1);
	CHECK_EQ_INT(seen.gaps[0], 1);
}

static void test_tcp_unfinished_and_midstream(void)
{
	uint64_t to = cnt("tcp_conn_timeout");
	reset_seen();
	/* no handshake seen: the first segment comes from the server (port 53) */
	tcp_aport++;
	seg4(0, 9000, PSH, stream, SLEN);
	CHECK_EQ_INT(seen.tcp_len[1], SLEN);
	CHECK(memcmp(seen.client.a, A4, 4) == 0 && seen.client_port == tcp_aport);
	seg4(1, 3000, PSH, stream, 12);
	CHECK_EQ_INT(seen.tcp_len[0], 12);
	unsigned open = tcp_conns(eng->tcp);
	decode_tick(eng, now_ns + 30 * SEC);
	CHECK_EQ_INT(tcp_conns(eng->tcp), open);
	decode_tick(eng, now_ns + 61 * SEC);
	CHECK_EQ_INT(tcp_conns(eng->tcp), 0);
	CHECK_EQ_INT(seen.closes, 1);
	CHECK_EQ_INT(cnt("tcp_conn_timeout") - to, 1);
	now_ns += 100 * SEC;
}

static void test_tcp_caps(void)
{
	struct tcp_limits old, lim;
	static uint8_t blob[4096];
	tcp_get_limits(eng->tcp, &old);
	lim = old;
	lim.max_conn_buf = 1024;
	lim.max_conns = 16;
	tcp_set_limits(eng->tcp, &lim);
	for (unsigned i = 0; i < sizeof(blob); i++)
		blob[i] = (uint8_t)i;

	/* A hole followed by more out-of-order data than the per-connection cap. */
	uint64_t ovf = cnt("tcp_ooo_overflow");
	reset_seen();
	handshake(0, 0);
	seg4(1, 1, PSH, blob, 100);
	size_t peak = 0;
	for (unsigned i = 0; i < 10; i++) {
		seg4(1, 1 + 200 + i * 200, PSH, blob + 200 + i * 200, 200);
		if (tcp_buffered(eng->tcp) > peak)
			peak = tcp_buffered(eng->tcp);
	}
	CHECK(peak <= 1024);
	CHECK(cnt("tcp_ooo_overflow") > ovf);
	CHECK_EQ_INT(seen.gaps[0], 1);
	seg4(1, 1, RST, NULL, 0);
	/* everything but the 100-byte hole arrived, in order, once */
	CHECK_EQ_INT(seen.tcp_len[0], 100 + 2000);
	CHECK(memcmp(seen.tcp[0] + 100, blob + 200, 2000) == 0);
	CHECK_EQ_INT(tcp_buffered(eng->tcp), 0);

	/* More connections than the cap: the least recently active ones are evicted. */
	uint64_t ev = cnt("tcp_conn_evicted");
	tcp_close_all(eng->tcp);
	reset_seen();
	unsigned peak_c = 0;
	for (unsigned i = 0; i < 100; i++) {
		tcp_aport++;
		seg4(1, 1, SYN, NULL, 0);
		if (tcp_conns(eng->tcp) > peak_c)
			peak_c = tcp_conns(eng->tcp);
	}
	CHECK(peak_c <= 16);
	CHECK_EQ_INT(cnt("tcp_conn_evicted") - ev, 100 - 16);
	CHECK_EQ_INT(seen.closes, 100 - 16);
	tcp_close_all(eng->tcp);
	CHECK_EQ_INT(seen.closes, 100);
	tcp_set_limits(eng->tcp, &old);
}

/* What the L7 protocol buffers counts in the TCP cap: when the total passes it, the least
 * recently active connections holding buffers are evicted (counted), never the one at hand. */
static void test_tcp_l7_buffers_capped(void)
{
	struct tcp_limits old, lim;
	static uint8_t blob[1000];
	tcp_get_limits(eng->tcp, &old);
	tcp_close_all(eng->tcp);
	lim = old;
	lim.max_total_buf = 10000;
	tcp_set_limits(eng->tcp, &lim);
	reset_seen();
	t_hold = 1;
	uint64_t ev = cnt("tcp_buf_evicted");
	size_t peak = 0;
	for (unsigned i = 0; i < 30; i++) {
		tcp_aport++;
		seg4(1, 1000, PSH, blob, sizeof(blob)); /* no handshake: a half-open connection */
		if (tcp_buffered(eng->tcp) > peak)
			peak = tcp_buffered(eng->tcp);
		CHECK_EQ_INT(tcp_buffered(eng->tcp), (size_t)tcp_conns(eng->tcp) * sizeof(blob));
	}
	CHECK(peak <= lim.max_total_buf);
	CHECK_EQ_INT(tcp_conns(eng->tcp), 10);
	CHECK_EQ_INT(cnt("tcp_buf_evicted") - ev, 20);
	CHECK_EQ_INT(seen.closes, 20);
	/* the connection at hand stays even when it alone is over the cap */
	seg4(1, 1000 + sizeof(blob), PSH, blob, sizeof(blob));
	for (unsigned i = 0; i < 10; i++)
		seg4(1, 1000 + (2 + i) * sizeof(blob), PSH, blob, sizeof(blob));
	CHECK_EQ_INT(tcp_conns(eng->tcp), 1);
	CHECK_EQ_INT(tcp_buffered(eng->tcp), 12 * sizeof(blob));
	t_hold = 0;
	tcp_close_all(eng->tcp);
	CHECK_EQ_INT(tcp_buffered(eng->tcp), 0);
	tcp_set_limits(eng->tcp, &old);
}

/* UDP and IPv4 header checksums of every payload length 0..96 (odd lengths pad the last byte),
 * over IPv4 and IPv6, with payload bytes that carry (0xff runs) and that do not: a right one
 * verifies, one flipped bit anywhere in the datagram is flagged. */
static void test_csum_lengths(void)
{
	uint8_t pl[128], seg[256], ip[512];
	uint64_t bad = cnt("l4_csum_bad"), ip4bad = cnt("ip4_csum_bad");
	int ok = 1, flagged = 1;
	unsigned seed = 1;

	for (int v6 = 0; v6 < 2; v6++) {
		for (uint32_t n = 0; n <= 96; n++) {
			for (uint32_t i = 0; i < n; i++) {
				seed = seed * 1103515245u + 12345u;
				pl[i] = n % 3 == 0 ? 0xff : (uint8_t)(seed >> 16);
			}
			uint32_t sl = mk_udp(seg, v6, 40000, 53, pl, n);
			uint32_t il = v6 ? mk_ip6(ip, IPPROTO_UDP, NULL, 0, seg, sl)
					 : mk_ip4(ip, 1, IPPROTO_UDP, 1, 0, seg, sl, (n % 2) * 4);
			reset_seen();
			feed_eth(ip, il, 0, v6);
			ok &= seen.udp == 1 && !seen.udp_csum_bad;
			/* a flipped bit in the payload (or, empty, in the ports) */
			uint32_t at = il - sl + (n ? 8 + (n * 7) % n : 1);
			ip[at] ^= 0x10;
			reset_seen();
			feed_eth(ip, il, 0, v6);
			flagged &= seen.udp == 1 && seen.udp_csum_bad;
		}
	}
	CHECK(ok);
	CHECK(flagged);
	CHECK_EQ_INT(cnt("l4_csum_bad") - bad, 2 * 97);
	CHECK_EQ_INT(cnt("ip4_csum_bad"), ip4bad);
}

/* The pseudo header's sum alone, folded (not complemented): what the kernel leaves in the
 * checksum field for the NIC under checksum offload (CHECKSUM_PARTIAL). */
static uint16_t pseudo_only(int v6, uint8_t proto, uint32_t len)
{
	unsigned al = v6 ? 16 : 4;
	uint32_t s = sum16(v6 ? A6 : A4, al, 0);
	s = sum16(v6 ? B6 : B4, al, s);
	s += proto + (len & 0xffff) + (len >> 16);
	return (uint16_t)~fold(s);
}

/* Checksums left to the NIC are counted as offload, not as weirds: recognised from the field
 * (pseudo header sum only) for UDP and TCP, v4 and v6, or told by the input; a checksum that is
 * simply wrong is still l4_csum_bad. */
static void test_csum_offload(void)
{
	uint8_t seg[256], ip[512];
	uint64_t bad = cnt("l4_csum_bad"), off = cnt("l4_csum_offload");

	for (int v6 = 0; v6 < 2; v6++) {
		uint32_t sl = mk_udp(seg, v6, 40000, 53, msg, sizeof(msg));
		put16(seg + 6, pseudo_only(v6, IPPROTO_UDP, sl));
		uint32_t il = v6 ? mk_ip6(ip, IPPROTO_UDP, NULL, 0, seg, sl)
				 : mk_ip4(ip, 1, IPPROTO_UDP, 1, 0, seg, sl, 0);
		reset_seen();
		feed_eth(ip, il, 0, v6);
		CHECK(udp_ok());
		CHECK(seen.udp_csum_offload && !seen.udp_csum_bad);
	}
	CHECK_EQ_INT(cnt("l4_csum_offload") - off, 2);
	CHECK_EQ_INT(cnt("l4_csum_bad") - bad, 0);

	/* TCP: a SYN whose checksum holds the pseudo header's sum */
	uint32_t sl = mk_tcp(seg, 1, 1000, 0, 0x02, NULL, 0, 40123);
	put16(seg + 16, pseudo_only(0, IPPROTO_TCP, sl));
	uint32_t il = mk_ip4(ip, 1, IPPROTO_TCP, 2, 0, seg, sl, 0);
	feed_eth(ip, il, 0, 0);
	CHECK_EQ_INT(cnt("l4_csum_offload") - off, 3);
	CHECK_EQ_INT(cnt("l4_csum_bad") - bad, 0);

	/* A wrong checksum of no known pattern: a weird, unless the input says offload. */
	sl = mk_udp(seg, 0, 40001, 53, msg, sizeof(msg));
	seg[6] ^= 0x5a;
	il = mk_ip4(ip, 1, IPPROTO_UDP, 3, 0, seg, sl, 0);
	reset_seen();
	feed_eth(ip, il, 0, 0);
	CHECK(seen.udp_csum_bad && !seen.udp_csum_offload);
	CHECK_EQ_INT(cnt("l4_csum_bad") - bad, 1);
	uint8_t fr[600];
	memset(fr, 0xaa, 12);
	put16(fr + 12, 0x0800);
	memcpy(fr + 14, ip, il);
	reset_seen();
	feed_frame(PCAP_LINKTYPE_ETHERNET, fr, 14 + il, 14 + il, true);
	CHECK(seen.udp_csum_offload && !seen.udp_csum_bad);
	CHECK_EQ_INT(cnt("l4_csum_bad") - bad, 1);
	CHECK_EQ_INT(cnt("l4_csum_offload") - off, 4);
	decode_finish(eng); /* the SYN's connection */
}

/* A frame the capture cut (caplen < len) is counted once, as frames_cut; the IP and UDP lengths
 * running into the cut are no weirds, and the payload's own length is passed on. A length that
 * promises more than the original frame held is still a weird; len < caplen is counted. */
static void test_cut_frames(void)
{
	uint8_t seg[256], ip[512], fr[600];
	uint64_t cut = cnt("frames_cut"), t4 = cnt("ip4_truncated"), tu = cnt("udp_truncated");
	uint64_t short_len = cnt("frame_len_short");
	uint32_t sl = mk_udp(seg, 0, 40000, 53, msg, sizeof(msg));
	uint32_t il = mk_ip4(ip, 1, IPPROTO_UDP, 1, 0, seg, sl, 0);

	memset(fr, 0xaa, 12);
	put16(fr + 12, 0x0800);
	memcpy(fr + 14, ip, il);
	reset_seen();
	feed_frame(PCAP_LINKTYPE_ETHERNET, fr, 14 + il - 10, 14 + il, false);
	CHECK_EQ_INT(seen.udp, 1);
	CHECK_EQ_INT(seen.udp_len, sizeof(msg) - 10);
	CHECK_EQ_INT(seen.udp_wire_len, sizeof(msg));
	CHECK(!seen.udp_csum_bad && !seen.udp_csum_offload); /* not checked: bytes missing */
	CHECK_EQ_INT(cnt("frames_cut") - cut, 1);
	CHECK_EQ_INT(cnt("ip4_truncated") - t4, 0);
	CHECK_EQ_INT(cnt("udp_truncated") - tu, 0);

	/* the IP header claims 100 bytes more than even the original frame had: a lie */
	put16(fr + 14 + 2, (uint16_t)(il + 100));
	feed_frame(PCAP_LINKTYPE_ETHERNET, fr, 14 + il - 10, 14 + il, false);
	CHECK_EQ_INT(cnt("frames_cut") - cut, 2);
	CHECK_EQ_INT(cnt("ip4_truncated") - t4, 1);

	/* the original length below the captured one: counted, raised, decoded */
	memcpy(fr + 14, ip, il);
	reset_seen();
	feed_frame(PCAP_LINKTYPE_ETHERNET, fr, 14 + il, 40, false);
	CHECK(udp_ok());
	CHECK_EQ_INT(cnt("frame_len_short") - short_len, 1);
	CHECK_EQ_INT(cnt("frames_cut") - cut, 2);
}

/* ---- two engines ------------------------------------------------------------------------- */
/* Two engines side by side, each fed its own frames: the fragments, connections, connection
 * ids, packet time, protocol states and records of one are never the other's. */
static void test_two_engines(void)
{
	static struct t_seen sa, sb;
	static struct sink_set seta, setb;
	static struct t_sink ska, skb;
	struct pano_engine *a = t_engine(&sa, &seta, &ska), *b = t_engine(&sb, &setb, &skb);
	char want[32];

	CHECK(a && b);
	if (!a || !b)
		return;
	for (unsigned i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 5 + 1);
	bigseg_len = mk_udp(bigseg, 0, 40000, 53, big, sizeof(big));

	/* A gets two fragments of datagram 900, B the other two: neither is complete. */
	eng = a;
	frag4(900, 0), frag4(900, 1);
	eng = b;
	frag4(900, 2), frag4(900, 3);
	CHECK_EQ_INT(ipfrag_datagrams(a->frag), 1);
	CHECK_EQ_INT(ipfrag_datagrams(b->frag), 1);
	CHECK_EQ_INT(sa.udp + sb.udp, 0);
	/* B completes it with its own copies; A's half stays where it was. */
	frag4(900, 0), frag4(900, 1);
	CHECK_EQ_INT(sb.udp, 1);
	CHECK(sb.udp_reasm && sb.udp_len == sizeof(big) && !memcmp(sb.udp_data, big, sizeof(big)));
	CHECK_EQ_INT(sa.udp, 0);
	CHECK_EQ_INT(ipfrag_datagrams(a->frag), 1);
	CHECK_EQ_INT(ipfrag_datagrams(b->frag), 0);
	/* Its record went through B's out stage to B's sinks only. */
	snprintf(want, sizeof(want), "\"len\":%zu", sizeof(big));
	CHECK_EQ_INT(skb.n, 1);
	CHECK_EQ_INT(ska.n, 0);
	CHECK(strcmp(skb.path, "test") == 0);
	CHECK(strstr(skb.last, "{\"_path\":\"test\"") == skb.last && strstr(skb.last, want));

	/* One connection (same source and 4-tuple) seen by both: each engine tracks its own, with
	 * its own connection ids; B, which missed the start, gets the rest without a gap. */
	tcp_aport++;
	eng = a;
	seg4(1, 100, SYN, NULL, 0);
	seg4(1, 101, PSH, stream, 10);
	eng = b;
	seg4(1, 111, PSH, stream + 10, SLEN - 10);
	frag4(901, 0); /* and a datagram of B's own in reassembly */
	CHECK_EQ_INT(tcp_conns(a->tcp), 1);
	CHECK_EQ_INT(tcp_conns(b->tcp), 1);
	CHECK_EQ_INT(sa.tcp_len[0], 10);
	CHECK(memcmp(sa.tcp[0], stream, 10) == 0);
	CHECK_EQ_INT(sb.tcp_len[0], SLEN - 10);
	CHECK(memcmp(sb.tcp[0], stream + 10, SLEN - 10) == 0);
	CHECK(sa.client_port == tcp_aport && sb.client_port == tcp_aport);
	CHECK(sa.conn_id == 1 && sb.conn_id == 1);
	/* ... but not the same uid: each engine has a random uid key of its own */
	CHECK(a->env.uid_key != b->env.uid_key);
	CHECK(sa.uid_seed != sb.uid_seed);
	CHECK_EQ_INT(sa.gaps[0] + sa.gaps[1] + sb.gaps[0] + sb.gaps[1], 0);

	/* Packet time is each engine's: a frame 61 s later to A expires A's datagram and idle
	 * connection; B, still at the old time, keeps both. */
	uint64_t t0 = now_ns;
	now_ns += 61 * SEC;
	eng = a;
	feed_eth((const uint8_t *)"\x45", 1, 0, 0); /* no IP packet: it only moves A's clock */
	now_ns = t0;
	CHECK(a->dec.last_tick == t0 + 61 * SEC && b->dec.last_tick == t0);
	CHECK_EQ_INT(ipfrag_datagrams(a->frag), 0);
	CHECK_EQ_INT(tcp_conns(a->tcp), 0);
	CHECK_EQ_INT(sa.closes, 1);
	CHECK_EQ_INT(ipfrag_datagrams(b->frag), 1);
	CHECK_EQ_INT(tcp_conns(b->tcp), 1);
	CHECK_EQ_INT(sb.closes, 0);

	/* The end of B's input is B's alone. */
	decode_finish(b);
	CHECK_EQ_INT(sb.closes, 1);
	CHECK_EQ_INT(ipfrag_datagrams(b->frag), 0);
	CHECK_EQ_INT(sa.closes, 1);
	CHECK_EQ_INT(ska.n, 0);
	decode_finish(a);
	engine_free(a);
	engine_free(b);
	eng = NULL;
}

/* A uid seed fixes the key: two engines seeded alike share it, another seed gives another. */
static void test_uid_seed(void)
{
	struct engine_config ec;
	engine_config_default(&ec);
	ec.uid_seeded = 1;
	ec.uid_seed = 42;
	struct pano_engine *a = engine_new(&ec), *b = engine_new(&ec);
	ec.uid_seed = 43;
	struct pano_engine *c = engine_new(&ec);
	CHECK(a && b && c);
	if (a && b && c) {
		CHECK(a->env.uid_key == b->env.uid_key);
		CHECK(a->env.uid_key != c->env.uid_key);
	}
	engine_free(a);
	engine_free(b);
	engine_free(c);
}

/* Every protocol names senders from the one table of its engine. */
static void test_one_sender_table(void)
{
	const void *cfgs[L7_MAX] = {NULL};
	void *mem[L7_MAX] = {NULL};
	struct engine_config ec;

	for (unsigned i = 0; i < l7_nall; i++) {
		mem[i] = calloc(1, l7_all[i]->cfg_size);
		if (mem[i])
			l7_all[i]->cfg_default(mem[i]);
		cfgs[i] = mem[i];
	}
	engine_config_default(&ec);
	ec.l7_cfgs = cfgs;
	struct pano_engine *e = engine_new(&ec);
	CHECK(e && e->env.senders);
	if (e) {
		const struct dns_state *d = l7_set_state(&e->l7, "dns");
		const struct tls_state *t = l7_set_state(&e->l7, "tls");
		const struct http_state *h = l7_set_state(&e->l7, "http");
		CHECK(d && t && h);
		if (d && t && h) {
			CHECK(d->senders == e->env.senders);
			CHECK(t->env.senders == e->env.senders);
			CHECK(h->senders == e->env.senders);
		}
	}
	engine_free(e);
	for (unsigned i = 0; i < l7_nall; i++)
		free(mem[i]);
}

int main(void)
{
	static struct sink_set set;
	static struct t_sink sk;
	eng = t_engine(&seen, &set, &sk);
	if (!eng)
		return 1;
	TEST_CASE("decode_link_types", test_link_types);
	TEST_CASE("decode_vlan_qinq", test_vlan);
	TEST_CASE("decode_ip4_options_csum_truncation", test_ip4_options_and_csum);
	TEST_CASE("decode_csum_lengths", test_csum_lengths);
	TEST_CASE("decode_ip6_ext_headers", test_ip6_ext);
	TEST_CASE("decode_ip4_fragments", test_frag4);
	TEST_CASE("decode_ip6_fragments", test_frag6);
	TEST_CASE("decode_ip_fragment_caps", test_frag_caps);
	TEST_CASE("decode_tcp_split_and_multi", test_tcp_split_and_multi);
	TEST_CASE("decode_tcp_ooo_retransmit", test_tcp_ooo_retrans);
	TEST_CASE("decode_tcp_gap", test_tcp_gap);
	TEST_CASE("decode_tcp_cut_segment", test_tcp_cut_segment);
	TEST_CASE("decode_tcp_unfinished_midstream", test_tcp_unfinished_and_midstream);
	TEST_CASE("decode_tcp_caps", test_tcp_caps);
	TEST_CASE("decode_csum_offload", test_csum_offload);
	TEST_CASE("decode_cut_frames", test_cut_frames);
	TEST_CASE("decode_tcp_l7_buffers_capped", test_tcp_l7_buffers_capped);
	decode_finish(eng);
	engine_free(eng);
	TEST_CASE("decode_two_engines", test_two_engines);
	TEST_CASE("decode_uid_seed", test_uid_seed);
	TEST_CASE("decode_one_sender_table", test_one_sender_table);
	TEST_EXIT();
}
