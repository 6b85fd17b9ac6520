// SPDX-License-Identifier: Apache-2.0
/*
 * test_input.c - the capture file readers on files built here byte by byte: pcapng (sections in
 * both byte orders, interfaces of different link types, if_name, if_tsresol, if_tsoffset,
 * epb_flags, comments, SPB, the obsolete PB, unknown blocks, every damage the reader counts)
 * and classic pcap (seconds past 2^31, incl_len over orig_len, a file cut short, a record
 * header that cannot be right). A test L7 protocol (port 53) records every frame the decoder
 * delivers, with its metadata.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "counter.h"
#include "engine.h"
#include "input.h"
#include "l7.h"
#include "log.h"
#include "pano/pcap.h"

/* ---- what the decoder delivered ------------------------------------------------------------ */
#define MAX_SEEN 64
static struct seen {
	uint64_t ts_ns;
	int linktype, dir;
	char iface[64], comment[PANO_COMMENT_MAX + 8];
	uint16_t sport;
	uint32_t pid;	/* from the sender the comment names, 0 when none */
	char pod[64];
} seen[MAX_SEEN];
static int nseen;
static unsigned long ntotal; /* every delivery, also past MAX_SEEN */
static uint64_t sport_hash;  /* of every delivery's source port, in order */

static enum l7_verdict t_match(void *st, const struct pano_pkt *p)
{
	return p->sport == 53 || p->dport == 53 ? L7_YES : L7_NO;
}

static void t_on_udp(void *st, const struct pano_pkt *p)
{
	ntotal++;
	sport_hash = sport_hash * 31 + p->sport;
	if (nseen == MAX_SEEN)
		return;
	struct seen *s = &seen[nseen++];
	const struct pano_frame *f = p->frame;
	s->ts_ns = f->ts_ns;
	s->linktype = f->linktype;
	s->dir = f->meta.dir;
	snprintf(s->iface, sizeof(s->iface), "%s", f->meta.iface ? f->meta.iface : "-");
	snprintf(s->comment, sizeof(s->comment), "%s", f->meta.comment ? f->meta.comment : "-");
	s->sport = p->sport;
	s->pid = f->meta.sender ? f->meta.sender->pid : 0;
	s->pod[0] = '\0';
	if (f->meta.sender)
		snprintf(s->pod, sizeof(s->pod), "%.*s", (int)f->meta.sender->pod_len,
			 f->meta.sender->pod);
}

static const struct l7_proto t_proto = {.name = "test", .match = t_match, .on_udp = t_on_udp};

static uint64_t cnt(const char *name)
{
	struct pano_counter *c = counter_find(name);
	if (!c)
		printf("  no counter %s\n", name);
	return c ? counter_get(c) : 0;
}

/* ---- a byte buffer with either byte order ------------------------------------------------- */
static struct buf {
	uint8_t b[1 << 16];
	size_t n;
	int be;
} B;

static void p8(unsigned v)
{
	B.b[B.n++] = (uint8_t)v;
}
static void p16(unsigned v)
{
	if (B.be) {
		p8(v >> 8);
		p8(v);
	} else {
		p8(v);
		p8(v >> 8);
	}
}
static void p32(uint32_t v)
{
	if (B.be) {
		p16(v >> 16);
		p16(v & 0xffff);
	} else {
		p16(v & 0xffff);
		p16(v >> 16);
	}
}
static void pbytes(const void *p, size_t n)
{
	memcpy(B.b + B.n, p, n);
	B.n += n;
}
static void pad4(void)
{
	while (B.n % 4)
		p8(0);
}

/* Block start: returns where the length goes; block_end fills both lengths. */
static size_t block_begin(uint32_t type)
{
	size_t at = B.n;
	p32(type);
	p32(0);
	return at;
}
static void block_end(size_t at)
{
	uint32_t len = (uint32_t)(B.n - at + 4);
	size_t end = B.n;
	B.n = at + 4;
	p32(len);
	B.n = end;
	p32(len);
}
static void opt_str(unsigned code, const char *s)
{
	p16(code);
	p16((unsigned)strlen(s));
	pbytes(s, strlen(s));
	pad4();
}
static void opt_end(void)
{
	p16(0);
	p16(0);
}

static void shb(int be)
{
	B.be = be;
	size_t at = block_begin(0x0a0d0d0a);
	p32(0x1a2b3c4d);
	p16(1);
	p16(0);
	p32(0xffffffff);
	p32(0xffffffff);
	block_end(at);
}

static void idb(unsigned linktype, const char *name, int tsresol, int64_t tsoffset)
{
	size_t at = block_begin(1);
	p16(linktype);
	p16(0);
	p32(0);
	opt_str(2, name);
	if (tsresol >= 0) {
		p16(9);
		p16(1);
		p8((unsigned)tsresol);
		pad4();
	}
	if (tsoffset) {
		p16(14);
		p16(8);
		if (B.be) {
			p32((uint32_t)((uint64_t)tsoffset >> 32));
			p32((uint32_t)tsoffset);
		} else {
			p32((uint32_t)tsoffset);
			p32((uint32_t)((uint64_t)tsoffset >> 32));
		}
	}
	opt_end();
	block_end(at);
}

/* A DNS query from 198.18.0.10:sport to 198.18.0.53:53: IPv4 + UDP (+ link header). */
static size_t mk_query(uint8_t *out, int linktype, uint16_t sport)
{
	static const uint8_t dns[] = "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
				     "\x04test\x00\x00\x01\x00\x01";
	size_t o = 0, dl = sizeof(dns) - 1;
	if (linktype == PCAP_LINKTYPE_ETHERNET) {
		memset(out, 2, 12);
		out[12] = 0x08, out[13] = 0;
		o = 14;
	} else if (linktype == PCAP_LINKTYPE_LINUX_SLL) {
		memset(out, 0, 16);
		out[14] = 0x08, out[15] = 0;
		o = 16;
	}
	uint8_t *ip = out + o;
	memset(ip, 0, 28);
	ip[0] = 0x45;
	ip[2] = (uint8_t)((28 + dl) >> 8), ip[3] = (uint8_t)(28 + dl);
	ip[8] = 64, ip[9] = IPPROTO_UDP;
	memcpy(ip + 12, "\xc6\x12\x00\x0a\xc6\x12\x00\x35", 8);
	uint32_t s = 0;
	for (int i = 0; i < 20; i += 2)
		s += (uint32_t)ip[i] << 8 | ip[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	ip[10] = (uint8_t)(~s >> 8), ip[11] = (uint8_t)~s;
	uint8_t *u = ip + 20;
	u[0] = (uint8_t)(sport >> 8), u[1] = (uint8_t)sport;
	u[3] = 53;
	u[5] = (uint8_t)(8 + dl); /* checksum 0: none */
	memcpy(u + 8, dns, dl);
	return o + 28 + dl;
}

/* The part of EPB and PB after the interface: time, lengths and the frame of a query. */
static void packet_body(uint64_t ts, int linktype, uint16_t sport)
{
	uint8_t f[256];
	size_t fl = mk_query(f, linktype, sport);
	p32((uint32_t)(ts >> 32));
	p32((uint32_t)ts);
	p32((uint32_t)fl);
	p32((uint32_t)fl);
	pbytes(f, fl);
	pad4();
}

/* An Enhanced Packet Block of a query; flags < 0: none; comment NULL: none. */
static void epb(uint32_t ifid, uint64_t ts, int linktype, uint16_t sport, int flags,
		const char *comment)
{
	size_t at = block_begin(6);
	p32(ifid);
	packet_body(ts, linktype, sport);
	if (comment)
		opt_str(1, comment);
	if (flags >= 0) {
		p16(2);
		p16(4);
		p32((uint32_t)flags);
	}
	if (comment || flags >= 0)
		opt_end();
	block_end(at);
}

static char path[] = "/tmp/test_input.XXXXXX";
static struct pano_engine *eng; /* frames go here */

/* Writes B (its first n bytes) to the test file and reads it; returns input_pcap_read's. */
static int read_buf(size_t n)
{
	static volatile sig_atomic_t stop;
	struct input_hooks h = {.eng = eng, .stop = &stop};
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(B.b, 1, n, f) != n) {
		CHECK(!"cannot write the test file");
		return -EIO;
	}
	fclose(f);
	nseen = 0;
	ntotal = 0;
	int rc = input_pcap_read(path, &h);
	decode_finish(eng);
	return rc;
}

#define NS 1000000000ull
static const uint64_t T0 = 1700000000ull;

/* A file of two sections and every packet block, read whole and right. */
static void test_pcapng_whole(void)
{
	char longc[2000];
	memset(longc, 'x', sizeof(longc) - 1);
	longc[sizeof(longc) - 1] = '\0';
	B.n = 0;
	shb(0);
	idb(PCAP_LINKTYPE_ETHERNET, "eth0", 9, 0);
	idb(PCAP_LINKTYPE_RAW, "tun0", -1, 0);
	idb(PCAP_LINKTYPE_LINUX_SLL, "any", 3, 0);
	epb(0, T0 * NS + 1000, PCAP_LINKTYPE_ETHERNET, 1001, 2, "pod=client-a");
	epb(1, (T0 + 1) * 1000000 + 250, PCAP_LINKTYPE_RAW, 1002, 1,
	    "cgroup=4242 pid=77 pod=team-a/client-a container=app comm=dig");
	size_t at = block_begin(0x0bad); /* unknown: skipped */
	p32(1);
	block_end(at);
	epb(2, (T0 + 2) * 1000 + 5, PCAP_LINKTYPE_LINUX_SLL, 1003, -1, longc);
	/* a Simple Packet Block: interface 0, the time of the packet before */
	uint8_t f[256];
	size_t fl = mk_query(f, PCAP_LINKTYPE_ETHERNET, 1004);
	at = block_begin(3);
	p32((uint32_t)fl);
	pbytes(f, fl);
	pad4();
	block_end(at);
	/* section two, big-endian: 2^-20 s units and an offset of 1000 s */
	shb(1);
	idb(PCAP_LINKTYPE_ETHERNET, "br0", 0x80 | 20, 1000);
	epb(0, (T0 + 3 - 1000) << 20 | 1 << 19, PCAP_LINKTYPE_ETHERNET, 1005, 1, NULL);
	/* the obsolete Packet Block, interface 0 of this section */
	at = block_begin(2);
	p16(0);
	p16(0);
	packet_body((T0 + 4 - 1000) << 20, PCAP_LINKTYPE_ETHERNET, 1006);
	p16(2);
	p16(4);
	p32(2);
	opt_end();
	block_end(at);

	uint64_t skipped = cnt("pcapng_blocks_skipped");
	CHECK_EQ_INT(read_buf(B.n), 0);
	CHECK_EQ_INT(nseen, 6);
	if (nseen != 6)
		return;
	CHECK_EQ_INT(cnt("pcapng_blocks_skipped") - skipped, 1);
	static const struct {
		uint64_t ts;
		int lt, dir;
		const char *iface;
		uint16_t sport;
	} want[] = {
	    {T0 * NS + 1000, PCAP_LINKTYPE_ETHERNET, 1, "eth0", 1001},
	    {(T0 + 1) * NS + 250000, PCAP_LINKTYPE_RAW, 0, "tun0", 1002},
	    {(T0 + 2) * NS + 5000000, PCAP_LINKTYPE_LINUX_SLL, -1, "any", 1003},
	    {(T0 + 2) * NS + 5000000, PCAP_LINKTYPE_ETHERNET, -1, "eth0", 1004},
	    {(T0 + 3) * NS + NS / 2, PCAP_LINKTYPE_ETHERNET, 0, "br0", 1005},
	    {(T0 + 4) * NS, PCAP_LINKTYPE_ETHERNET, 1, "br0", 1006},
	};
	for (int i = 0; i < 6; i++) {
		CHECK_EQ_INT(seen[i].ts_ns, want[i].ts);
		CHECK_EQ_INT(seen[i].linktype, want[i].lt);
		CHECK_EQ_INT(seen[i].dir, want[i].dir);
		CHECK_EQ_STR(seen[i].iface, want[i].iface);
		CHECK_EQ_INT(seen[i].sport, want[i].sport);
	}
	CHECK_EQ_STR(seen[0].comment, "pod=client-a");
	CHECK_EQ_INT(seen[0].pid, 0); /* not pano-agent's form: no sender */
	CHECK_EQ_STR(seen[1].comment, "cgroup=4242 pid=77 pod=team-a/client-a container=app comm=dig");
	CHECK_EQ_INT(seen[1].pid, 77); /* pano-agent's sender comment, parsed */
	CHECK_EQ_STR(seen[1].pod, "client-a");
	CHECK_EQ_INT(strlen(seen[2].comment), PANO_COMMENT_MAX); /* cut to the bound */
}

/* Cut anywhere: the packets of whole blocks before the cut are decoded; a cut inside a block
 * is damage (INPUT_DAMAGED, capture_file_truncated), a cut between blocks is a clean end, and
 * fewer than 4 bytes are no capture file at all. */
static void test_pcapng_cut_everywhere(void)
{
	size_t ends[8]; /* block ends; ends[k] for k >= 2 has k - 1 packets before it */
	int nends = 0;

	B.n = 0;
	shb(0);
	ends[nends++] = B.n;
	idb(PCAP_LINKTYPE_ETHERNET, "eth0", -1, 0);
	ends[nends++] = B.n;
	for (int i = 0; i < 3; i++) {
		epb(0, T0 * 1000000 + (uint64_t)i, PCAP_LINKTYPE_ETHERNET, (uint16_t)(2000 + i), 2,
		    "c");
		ends[nends++] = B.n;
	}
	size_t total = B.n;
	int bad = 0;
	log_init("test_input", -1); /* a warning per cut would flood the log: errors only */
	for (size_t n = 1; n < total; n++) {
		int whole = 0, boundary = 0;
		for (int k = 0; k < nends; k++) {
			if (ends[k] <= n)
				whole = k >= 1 ? k - 1 : 0; /* packets in blocks before n */
			if (ends[k] == n)
				boundary = 1;
		}
		uint64_t tr = cnt("capture_file_truncated");
		int rc = read_buf(n);
		int want_rc = n < 4 ? -EINVAL : boundary ? 0 : INPUT_DAMAGED;
		int want_tr = n >= 4 && !boundary;
		if (rc != want_rc || nseen != whole ||
		    cnt("capture_file_truncated") - tr != (uint64_t)want_tr) {
			printf("  cut at %zu: rc %d (want %d), %d packets (want %d)\n", n, rc,
			       want_rc, nseen, whole);
			bad++;
		}
	}
	log_init("test_input", 0);
	CHECK_EQ_INT(bad, 0);
}

/* Damage the reader cannot read past ends the read (corrupt); damage inside one block is
 * counted and skipped. */
static void test_pcapng_damage(void)
{
	uint64_t corrupt = cnt("capture_file_corrupt"), badrec = cnt("pcapng_bad_record");
	uint64_t noif = cnt("pcapng_unknown_interface"), badopt = cnt("pcapng_bad_option");

	/* a block length that is not a multiple of 4: the frames before it are kept */
	B.n = 0;
	shb(0);
	idb(PCAP_LINKTYPE_ETHERNET, "eth0", -1, 0);
	epb(0, 1, PCAP_LINKTYPE_ETHERNET, 3001, -1, NULL);
	size_t at = B.n;
	epb(0, 2, PCAP_LINKTYPE_ETHERNET, 3002, -1, NULL);
	B.b[at + 4] += 1; /* little-endian length, low byte */
	CHECK_EQ_INT(read_buf(B.n), INPUT_DAMAGED);
	CHECK_EQ_INT(nseen, 1);
	CHECK_EQ_INT(cnt("capture_file_corrupt") - corrupt, 1);

	/* a trailing length that differs from the leading one */
	B.b[at + 4] -= 1;
	B.b[B.n - 4] ^= 0x40;
	CHECK_EQ_INT(read_buf(B.n), INPUT_DAMAGED);
	CHECK_EQ_INT(nseen, 1);
	CHECK_EQ_INT(cnt("capture_file_corrupt") - corrupt, 2);

	/* a bad byte-order magic */
	B.n = 0;
	shb(0);
	B.b[8] ^= 1;
	CHECK_EQ_INT(read_buf(B.n), INPUT_DAMAGED);
	CHECK_EQ_INT(cnt("capture_file_corrupt") - corrupt, 3);

	/* a packet longer than its block, a packet of interface 5, an option running past the
	 * end of its block: each counted, the others read */
	B.n = 0;
	shb(0);
	idb(PCAP_LINKTYPE_ETHERNET, "eth0", -1, 0);
	at = B.n;
	epb(0, 1, PCAP_LINKTYPE_ETHERNET, 3003, -1, NULL);
	B.b[at + 20] = 0xff; /* caplen low byte: past the block */
	epb(5, 2, PCAP_LINKTYPE_ETHERNET, 3004, -1, NULL);
	at = B.n;
	epb(0, 3, PCAP_LINKTYPE_ETHERNET, 3005, 2, NULL);
	B.b[B.n - 4 - 4 - 8 + 2] = 200; /* epb_flags option length 4 -> 200 */
	epb(0, 4, PCAP_LINKTYPE_ETHERNET, 3006, 1, NULL);
	CHECK_EQ_INT(read_buf(B.n), 0);
	CHECK_EQ_INT(nseen, 2);
	if (nseen == 2) {
		CHECK_EQ_INT(seen[0].sport, 3005);
		CHECK_EQ_INT(seen[0].dir, -1); /* its flags option was bad */
		CHECK_EQ_INT(seen[1].sport, 3006);
		CHECK_EQ_INT(seen[1].dir, 0);
	}
	CHECK_EQ_INT(cnt("pcapng_bad_record") - badrec, 1);
	CHECK_EQ_INT(cnt("pcapng_unknown_interface") - noif, 1);
	CHECK_EQ_INT(cnt("pcapng_bad_option") - badopt, 1);
}

/* ---- classic pcap ----------------------------------------------------------------------- */
static void pcap_hdr_of(int be, uint32_t magic, unsigned major, unsigned minor, uint32_t snaplen,
			uint32_t linktype)
{
	B.n = 0;
	B.be = be;
	p32(magic);
	p16(major);
	p16(minor);
	p32(0);
	p32(0);
	p32(snaplen);
	p32(linktype);
}

static void pcap_hdr(void)
{
	pcap_hdr_of(0, PCAP_MAGIC_USEC, 2, 4, 65535, PCAP_LINKTYPE_ETHERNET);
}

static void pcap_rec(uint32_t sec, uint32_t usec, uint16_t sport, int origlen_delta)
{
	uint8_t f[256];
	size_t fl = mk_query(f, PCAP_LINKTYPE_ETHERNET, sport);
	p32(sec);
	p32(usec);
	p32((uint32_t)fl);
	p32((uint32_t)((int)fl + origlen_delta));
	pbytes(f, fl);
}

static void test_pcap_classic(void)
{
	/* seconds at and after 2^31 are unsigned: 2038 and 2106 */
	pcap_hdr();
	pcap_rec(0x7fffffff, 500000, 4001, 0);
	pcap_rec(0x80000000, 250000, 4002, 0);
	pcap_rec(0xffffffff, 750000, 4003, 0);
	CHECK_EQ_INT(read_buf(B.n), 0);
	CHECK_EQ_INT(nseen, 3);
	CHECK_EQ_INT(seen[0].ts_ns, 2147483647ull * NS + 500000000);
	CHECK_EQ_INT(seen[1].ts_ns, 2147483648ull * NS + 250000000);
	CHECK_EQ_INT(seen[2].ts_ns, 4294967295ull * NS + 750000000);

	/* incl_len > orig_len: counted, raised, decoded */
	uint64_t ls = cnt("frame_len_short");
	pcap_hdr();
	pcap_rec(T0, 0, 4004, -20);
	CHECK_EQ_INT(read_buf(B.n), 0);
	CHECK_EQ_INT(nseen, 1);
	CHECK_EQ_INT(cnt("frame_len_short") - ls, 1);

	/* cut inside the last record: the first is kept, the file is damaged */
	uint64_t tr = cnt("capture_file_truncated"), corrupt = cnt("capture_file_corrupt");
	pcap_hdr();
	pcap_rec(T0, 0, 4005, 0);
	pcap_rec(T0, 1, 4006, 0);
	CHECK_EQ_INT(read_buf(B.n - 5), INPUT_DAMAGED);
	CHECK_EQ_INT(nseen, 1);
	CHECK_EQ_INT(cnt("capture_file_truncated") - tr, 1);

	/* a record header that cannot be right */
	pcap_hdr();
	pcap_rec(T0, 0, 4007, 0);
	p32(T0);
	p32(0);
	p32(0xffffff00);
	p32(0xffffff00);
	pbytes("garbage!", 8);
	CHECK_EQ_INT(read_buf(B.n), INPUT_DAMAGED);
	CHECK_EQ_INT(nseen, 1);
	CHECK_EQ_INT(cnt("capture_file_corrupt") - corrupt, 1);

	/* not a capture file at all: an error, not damage */
	B.n = 0;
	pbytes("this is not a capture file", 26);
	CHECK_EQ_INT(read_buf(B.n), -EINVAL);
	CHECK_EQ_INT(read_buf(3), -EINVAL);
}

/* The variants of the classic format, as libpcap reads them. */
static void test_pcap_variants(void)
{
	uint8_t f[256];
	size_t fl = mk_query(f, PCAP_LINKTYPE_ETHERNET, 4100);

	/* big-endian, nanoseconds */
	pcap_hdr_of(1, PCAP_MAGIC_NSEC, 2, 4, 65535, PCAP_LINKTYPE_ETHERNET);
	pcap_rec(T0, 123456789, 4101, 0);
	pcap_rec(T0 + 1, 999999999, 4102, 0);
	CHECK_EQ_INT(read_buf(B.n), 0);
	CHECK_EQ_INT(nseen, 2);
	CHECK_EQ_INT(seen[0].ts_ns, T0 * NS + 123456789);
	CHECK_EQ_INT(seen[1].ts_ns, (T0 + 1) * NS + 999999999);
	CHECK_EQ_INT(seen[1].sport, 4102);

	/* Kuznetsov's records: 8 more bytes after each header; the FCS bits of the link type
	 * dropped */
	pcap_hdr_of(0, 0xa1b2cd34u, 2, 4, 65535, PCAP_LINKTYPE_ETHERNET | 0x14000000u);
	for (unsigned i = 0; i < 2; i++) {
		p32((uint32_t)T0);
		p32(500000);
		p32((uint32_t)fl);
		p32((uint32_t)fl);
		p32(7); /* ifindex, protocol, pkt_type, pad */
		p32(0);
		pbytes(f, fl);
	}
	CHECK_EQ_INT(read_buf(B.n), 0);
	CHECK_EQ_INT(nseen, 2);
	CHECK_EQ_INT(seen[1].ts_ns, T0 * NS + 500000000);
	CHECK_EQ_INT(seen[1].linktype, PCAP_LINKTYPE_ETHERNET);
	CHECK_EQ_INT(seen[1].sport, 4100);

	/* version 2.2 wrote caplen and len the other way round */
	uint64_t ls = cnt("frame_len_short");
	pcap_hdr_of(0, PCAP_MAGIC_USEC, 2, 2, 65535, PCAP_LINKTYPE_ETHERNET);
	p32((uint32_t)T0);
	p32(0);
	p32((uint32_t)fl + 100); /* len */
	p32((uint32_t)fl);	 /* caplen */
	pbytes(f, fl);
	CHECK_EQ_INT(read_buf(B.n), 0);
	CHECK_EQ_INT(nseen, 1);
	CHECK_EQ_INT(cnt("frame_len_short") - ls, 0);

	/* records longer than the file's snaplen: the bytes past it dropped, as libpcap does
	 * (the frame is then cut, but the next record is read right) */
	uint64_t cut = cnt("frames_cut");
	pcap_hdr_of(0, PCAP_MAGIC_USEC, 2, 4, 60, PCAP_LINKTYPE_ETHERNET);
	pcap_rec(T0, 0, 4103, 0);
	pcap_rec(T0, 1, 4104, 0);
	CHECK_EQ_INT(read_buf(B.n), 0);
	CHECK_EQ_INT(nseen, 2);
	CHECK_EQ_INT(seen[1].sport, 4104);
	CHECK_EQ_INT(cnt("frames_cut") - cut, 2);

	/* versions that are not 2.0-2.4, and a header that ends early: errors, not damage */
	pcap_hdr_of(0, PCAP_MAGIC_USEC, 3, 0, 65535, PCAP_LINKTYPE_ETHERNET);
	CHECK_EQ_INT(read_buf(B.n), -EINVAL);
	pcap_hdr_of(0, PCAP_MAGIC_USEC, 2, 5, 65535, PCAP_LINKTYPE_ETHERNET);
	CHECK_EQ_INT(read_buf(B.n), -EINVAL);
	pcap_hdr();
	CHECK_EQ_INT(read_buf(20), -EINVAL);
	/* a header alone is an empty capture */
	CHECK_EQ_INT(read_buf(24), 0);
	CHECK_EQ_INT(ntotal, 0);
}

/* A file of many pieces of the input buffer: records that straddle two reads, and records of
 * 256 KiB (the most a record may hold), larger than one read. */
static void test_pcap_pieces(void)
{
	static volatile sig_atomic_t stop;
	struct input_hooks h = {.eng = eng, .stop = &stop};
	static uint8_t big[256 << 10];
	uint8_t f[256];
	FILE *fp = fopen(path, "wb");
	unsigned long want = 0;
	uint64_t want_hash = 0;

	if (!fp) {
		CHECK(!"cannot write the test file");
		return;
	}
	pcap_hdr_of(0, PCAP_MAGIC_USEC, 2, 4, 0, PCAP_LINKTYPE_ETHERNET); /* 0: no snaplen */
	fwrite(B.b, 1, B.n, fp);
	for (unsigned i = 0; i < 30000; i++) {
		uint16_t sport = (uint16_t)(1024 + i % 50000);
		size_t fl = mk_query(f, PCAP_LINKTYPE_ETHERNET, sport);
		uint32_t rh[4] = {(uint32_t)T0, i % 1000000, (uint32_t)fl, (uint32_t)fl};
		uint32_t caplen = sizeof(big);
		if (i % 7000 == 3) { /* a DNS query at the head of 256 KiB */
			memcpy(big, f, fl);
			uint32_t bh[4] = {(uint32_t)T0, 0, caplen, caplen};
			fwrite(bh, 1, sizeof(bh), fp);
			fwrite(big, 1, caplen, fp);
			want++;
			want_hash = want_hash * 31 + sport;
		}
		fwrite(rh, 1, sizeof(rh), fp);
		fwrite(f, 1, fl, fp);
		want++;
		want_hash = want_hash * 31 + sport;
	}
	fclose(fp);
	ntotal = 0;
	nseen = 0;
	sport_hash = 0;
	uint64_t cut = cnt("frames_cut");
	CHECK_EQ_INT(input_pcap_read(path, &h), 0);
	decode_finish(eng);
	CHECK_EQ_INT(ntotal, want);
	CHECK_EQ_INT(sport_hash, want_hash);
	CHECK_EQ_INT(cnt("frames_cut") - cut, 0);
}

int main(void)
{
	int fd = mkstemp(path);
	if (fd < 0)
		return 1;
	close(fd);
	struct engine_config ec;
	engine_config_default(&ec);
	eng = engine_new(&ec);
	if (!eng || l7_set_add(&eng->l7, &t_proto, NULL, seen))
		return 1;
	TEST_CASE("input_pcapng_whole", test_pcapng_whole);
	TEST_CASE("input_pcapng_cut_everywhere", test_pcapng_cut_everywhere);
	TEST_CASE("input_pcapng_damage", test_pcapng_damage);
	TEST_CASE("input_pcap_classic", test_pcap_classic);
	TEST_CASE("input_pcap_variants", test_pcap_variants);
	TEST_CASE("input_pcap_pieces", test_pcap_pieces);
	unlink(path);
	engine_free(eng);
	TEST_EXIT();
}
