// SPDX-License-Identifier: Apache-2.0
/*
 * decode.c - link layer, IPv4/IPv6 and UDP/TCP decoding (see decode.h). Every byte is read
 * through a bounded cursor; whatever does not parse is counted under a "weird" counter named
 * after what was wrong, and the frame is skipped. L4 checksums are verified when the whole
 * segment was captured; a bad one is counted and flagged, never dropped. Frames taken before
 * the NIC or the kernel filled in the checksum (TC egress, veth: checksum offload) are counted
 * apart, not as weirds: the input may say so per frame, and otherwise the checksum field then
 * holds the pseudo-header's sum alone (the kernel's CHECKSUM_PARTIAL seed), which is what is
 * recognised.
 *
 * A frame cut by the capture (snaplen: caplen below the original length) is counted once, as
 * frames_cut; the IP and UDP lengths that run into the cut-off bytes are then the capture's
 * doing, not weirds, and what was kept goes on (with payload_wire_len saying how long the
 * payload really was). Length fields that promise more than even the original frame held are
 * weirds (ip4_truncated, ip6_truncated, udp_truncated).
 */
#include <netinet/in.h>
#include <string.h>

#include "counter.h"
#include "cursor.h"
#include "decode.h"
#include "engine.h"
#include "ipfrag.h"
#include "l7.h"
#include "log.h"
#include "pano/pcap.h"
#include "summary.h"
#include "tcp.h"

#define ETH_P_IPV4	   0x0800
#define ETH_P_IPV6	   0x86dd
#define ETH_P_8021Q	   0x8100
#define ETH_P_8021AD	   0x88a8
#define ETH_P_QINQ1	   0x9100
#define ETH_P_PPPOE	   0x8864
#define DECODE_MAX_VLANS   4
#define DECODE_MAX_IP6_EXT 16
#define NSEC_PER_SEC	   1000000000ull

/* Link types libpcap may report as DLT values rather than LINKTYPE values. */
#define DLT_RAW_COMMON	   12
#define DLT_RAW_OPENBSD	   14
#define LINKTYPE_PPP	   9
#define LINKTYPE_PPP_HDLC  50
#define LINKTYPE_PPP_ETHER 51
#define LINKTYPE_C_HDLC	   104
#define LINKTYPE_PPP_PPPD  166
#define LINKTYPE_PPP_DIR   204

PANO_COUNTER(c_frames, "frames", "event", "frames decoded");
PANO_COUNTER(c_bytes, "bytes", "event", "bytes of frames decoded (original length)");
PANO_COUNTER(c_not_ip, "l2_not_ip", "event", "frames not carrying IP (ARP, LLC, ...), skipped");
PANO_COUNTER(c_l4_other, "l4_other", "event", "IP packets neither UDP nor TCP, skipped");
PANO_COUNTER(c_linktype, "linktype_unsupported", "drop", "frames of an unsupported link type");
PANO_COUNTER(c_l2_trunc, "l2_truncated", "weird", "frames too short for their link header");
PANO_COUNTER(c_l2_bad, "l2_bad_header", "weird", "link headers with an unknown address family");
PANO_COUNTER(c_vlan_deep, "vlan_too_deep", "weird", "frames with more than 4 VLAN tags");
PANO_COUNTER(c_ip_ver, "ip_bad_version", "weird", "IP headers with a version other than 4/6");
PANO_COUNTER(c_ip4_bad, "ip4_bad_header", "weird", "IPv4 headers too short or inconsistent");
PANO_COUNTER(c_ip4_trunc, "ip4_truncated", "weird",
	     "IPv4 packets shorter than their length (not by the capture's cut)");
PANO_COUNTER(c_ip4_csum, "ip4_csum_bad", "weird", "IPv4 header checksums wrong (not dropped)");
PANO_COUNTER(c_ip6_bad, "ip6_bad_header", "weird", "IPv6 headers or extension headers malformed");
PANO_COUNTER(c_ip6_trunc, "ip6_truncated", "weird",
	     "IPv6 packets shorter than their length (not by the capture's cut)");
PANO_COUNTER(c_ip6_deep, "ip6_too_many_ext", "weird", "IPv6 packets with over 16 ext. headers");
PANO_COUNTER(c_udp_bad, "udp_bad_header", "weird", "UDP headers truncated or with length < 8");
PANO_COUNTER(c_udp_trunc, "udp_truncated", "weird",
	     "UDP datagrams shorter than their length field (not by the capture's cut)");
PANO_COUNTER(c_tcp_bad, "tcp_bad_header", "weird", "TCP headers truncated or data offset < 5");
PANO_COUNTER(c_csum_bad, "l4_csum_bad", "weird", "UDP/TCP checksums wrong (counted, not dropped)");
PANO_COUNTER(c_csum_offload, "l4_csum_offload", "event",
	     "UDP/TCP checksums not filled in yet when captured (checksum offload), not checked");
PANO_COUNTER(c_frames_cut, "frames_cut", "event",
	     "frames the capture kept only in part (snaplen); what was kept is decoded");
PANO_COUNTER(c_frame_len_short, "frame_len_short", "weird",
	     "frames whose original length was below their captured length (raised to it)");

/* Warns once per unsupported link type (up to a few distinct ones), counts every frame. */
static void decode_unsupported(struct decode_state *ds, int linktype)
{
	counter_inc(&c_linktype);
	for (int i = 0; i < ds->nwarned; i++)
		if (ds->warned[i] == (unsigned char)linktype)
			return;
	if (ds->nwarned < DECODE_WARN_LINKTYPES) {
		ds->warned[ds->nwarned++] = (unsigned char)linktype;
		pr_warn("link type %d is not supported: its frames are counted and skipped",
			linktype);
	}
}

static uint16_t decode_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/*
 * The ones' complement sum of p[0..n) as 16-bit big-endian words (an odd last byte padded with
 * zero), folded to 16 bits. Words are added in the host's byte order 8 bytes at a time: the
 * ones' complement sum of byte-swapped words is the byte-swapped sum (RFC 1071), so one swap at
 * the end gives exactly the big-endian result, 0 only when every byte is 0.
 */
static uint16_t decode_csum(const uint8_t *p, size_t n)
{
	uint64_t sum = 0;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t x;
		memcpy(&x, p + i, 8);
		sum += (x & 0xffffffffu) + (x >> 32); /* no overflow below 2^32 words */
	}
	if (i + 4 <= n) {
		uint32_t x;
		memcpy(&x, p + i, 4);
		sum += x;
		i += 4;
	}
	if (i + 2 <= n) {
		uint16_t x;
		memcpy(&x, p + i, 2);
		sum += x;
		i += 2;
	}
	if (i < n) { /* the odd byte is the high half of its big-endian word */
		uint8_t w[2] = {p[i], 0};
		uint16_t x;
		memcpy(&x, w, 2);
		sum += x;
	}
	uint16_t f = decode_fold(sum);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	f = __builtin_bswap16(f);
#endif
	return f;
}

/* The ones' complement sum of the pseudo header of an L4 segment of len bytes, folded. */
static uint16_t decode_pseudo_sum(const struct pano_pkt *p, uint32_t len)
{
	unsigned alen = p->saddr.family == 4 ? 4 : 16;
	uint64_t sum = decode_csum(p->saddr.a, alen);

	sum += decode_csum(p->daddr.a, alen);
	sum += p->l4proto;
	sum += len & 0xffff;
	sum += len >> 16;
	return decode_fold(sum);
}

/*
 * Checks the L4 checksum of seg (len bytes, the whole segment; field is the checksum as read)
 * and flags p: nothing when it verifies; l4_csum_offload when the input says the kernel had not
 * filled it in, or when the field holds just the pseudo header's sum (what the kernel leaves for
 * the NIC under checksum offload); l4_csum_bad otherwise.
 */
static void decode_l4_csum(struct pano_pkt *p, const uint8_t *seg, uint32_t len, uint16_t field)
{
	uint16_t pseudo;

	if (p->frame && p->frame->meta.l4_csum_partial) {
		p->l4_csum_offload = true;
		counter_inc(&c_csum_offload);
		return;
	}
	pseudo = decode_pseudo_sum(p, len);
	if (decode_fold((uint64_t)decode_csum(seg, len) + pseudo) == 0xffff)
		return;
	if (field == pseudo) {
		p->l4_csum_offload = true;
		counter_inc(&c_csum_offload);
		return;
	}
	p->l4_csum_bad = true;
	counter_inc(&c_csum_bad);
}

/* Bytes the capture cut off the end of the frame (0 when it was kept whole). */
static uint32_t decode_cut(const struct pano_frame *f)
{
	return f && f->len > f->caplen ? f->len - f->caplen : 0;
}

/* UDP or TCP in the bytes of c (the whole L4 segment as captured); wire_len is the L4 length
 * the IP header promised. */
static void decode_l4(struct pano_engine *eng, struct pano_pkt *p, struct cursor *c,
		      uint32_t wire_len)
{
	const uint8_t *seg = c->base + c->off;
	uint32_t have = (uint32_t)cur_left(c);

	if (p->l4proto == IPPROTO_UDP) {
		p->sport = cur_u16(c);
		p->dport = cur_u16(c);
		uint16_t ulen = cur_u16(c);
		uint16_t csum = cur_u16(c);
		if (c->err || ulen < 8) {
			counter_inc(&c_udp_bad);
			return;
		}
		uint32_t avail = have - 8;
		uint32_t plen = ulen - 8u;
		p->payload_wire_len = plen;
		if (plen > avail) {
			/* Cut by the capture when the missing bytes fit in what it cut off; a
			 * length field that promises more than that lies. */
			if (p->ip_reassembled || plen - avail > decode_cut(p->frame)) {
				counter_inc(&c_udp_trunc);
				p->payload_wire_len = avail;
			}
			plen = avail;
		} else if (csum && ulen <= wire_len) {
			decode_l4_csum(p, seg, ulen, csum);
		}
		p->payload = cur_take(c, plen);
		p->payload_len = plen;
		if (eng->sum)
			summary_packet(eng->sum, p);
		int pi = l7_match_udp(&eng->l7, p);
		if (pi >= 0)
			eng->l7.proto[pi]->on_udp(eng->l7.st[pi], p);
		return;
	}
	p->sport = cur_u16(c);
	p->dport = cur_u16(c);
	p->tcp_seq = cur_u32(c);
	p->tcp_ack = cur_u32(c);
	uint8_t off = cur_u8(c) >> 4;
	p->tcp_flags = cur_u8(c);
	cur_skip(c, 2); /* window */
	uint16_t csum = cur_u16(c);
	cur_skip(c, 2); /* urgent pointer */
	if (c->err || off < 5) {
		counter_inc(&c_tcp_bad);
		return;
	}
	cur_skip(c, (off - 5u) * 4u);
	if (c->err) {
		counter_inc(&c_tcp_bad);
		return;
	}
	if (have >= wire_len)
		decode_l4_csum(p, seg, wire_len, csum);
	p->payload_len = (uint32_t)cur_left(c);
	p->payload = cur_take(c, p->payload_len);
	p->payload_wire_len = wire_len > off * 4u ? wire_len - off * 4u : 0;
	if (p->payload_wire_len < p->payload_len)
		p->payload_wire_len = p->payload_len;
	if (eng->sum)
		summary_packet(eng->sum, p);
	tcp_segment(eng->tcp, p);
}

/* Hands a transport payload of protocol proto onward (UDP/TCP decoded, others counted). */
static void decode_transport(struct pano_engine *eng, struct pano_pkt *p, uint8_t proto,
			     struct cursor *c, uint32_t wire_len)
{
	if (proto != IPPROTO_UDP && proto != IPPROTO_TCP) {
		counter_inc(&c_l4_other);
		return;
	}
	p->l4proto = proto;
	decode_l4(eng, p, c, wire_len);
}

static void decode_ipv4(struct pano_engine *eng, const struct pano_frame *f, struct cursor *c)
{
	struct cursor h = *c;
	uint8_t vihl = cur_u8(c);
	unsigned ihl = (vihl & 0x0f) * 4u;
	cur_skip(c, 1);
	uint16_t totlen = cur_u16(c);
	uint16_t id = cur_u16(c);
	uint16_t frag = cur_u16(c);
	cur_skip(c, 1);
	uint8_t proto = cur_u8(c);
	cur_skip(c, 2);
	struct pano_pkt p = {.ts_ns = f->ts_ns, .frame = f};
	p.saddr.family = p.daddr.family = 4;
	cur_copy(c, p.saddr.a, 4);
	cur_copy(c, p.daddr.a, 4);
	if (c->err || ihl < 20 || totlen < ihl) {
		counter_inc(&c_ip4_bad);
		return;
	}
	cur_skip(c, ihl - 20); /* options */
	const uint8_t *hdr = cur_take(&h, ihl);
	if (c->err || !hdr) {
		counter_inc(&c_ip4_bad);
		return;
	}
	if (decode_csum(hdr, ihl) != 0xffff)
		counter_inc(&c_ip4_csum);
	uint32_t plen = totlen - ihl;
	if (plen > cur_left(c)) {
		if (plen - cur_left(c) > decode_cut(f))
			counter_inc(&c_ip4_trunc);
		plen = (uint32_t)cur_left(c);
	}
	p.ip_len = totlen;
	struct cursor pl = cur_sub(c, plen);
	uint32_t foff = (frag & 0x1fffu) * 8u;
	int more = !!(frag & 0x2000);
	if (foff || more) {
		struct ipfrag_key k;
		const uint8_t *out;
		uint32_t outlen;
		if (plen != totlen - ihl) /* a truncated fragment cannot be reassembled */
			return;
		memset(&k, 0, sizeof(k));
		k.src_id = f->src ? f->src->id : 0;
		k.id = id;
		k.family = 4;
		k.proto = proto;
		memcpy(k.saddr, p.saddr.a, 4);
		memcpy(k.daddr, p.daddr.a, 4);
		if (ipfrag_add(eng->frag, &k, f->ts_ns, foff, more, pl.base, plen, &out, &outlen) !=
		    1)
			return;
		struct cursor r = cursor_init(out, outlen);
		p.ip_reassembled = true;
		p.ip_len = outlen + ihl;
		decode_transport(eng, &p, proto, &r, outlen);
		return;
	}
	decode_transport(eng, &p, proto, &pl, totlen - ihl);
}

/*
 * Walks IPv6 extension headers from next header nh in c until a transport header; fragments go
 * through reassembly, and the chain continues in the reassembled payload.
 */
#define DECODE_REASSEMBLED 1 /* c is a reassembled payload: no further fragment header */
#define DECODE_TRUNCATED   2 /* c is cut short: fragments cannot be reassembled */
static void decode_ip6_chain(struct pano_engine *eng, const struct pano_frame *f,
			     struct pano_pkt *p, uint8_t nh, struct cursor *c, int flags)
{
	for (int n = 0;; n++) {
		if (n == DECODE_MAX_IP6_EXT) {
			counter_inc(&c_ip6_deep);
			return;
		}
		switch (nh) {
		case 0:	    /* hop-by-hop */
		case 43:    /* routing */
		case 60:    /* destination options */
		case 135:   /* mobility */
		case 139:   /* HIP */
		case 140: { /* shim6 */
			uint8_t next = cur_u8(c);
			uint8_t len = cur_u8(c);
			cur_skip(c, len * 8u + 6u);
			if (c->err) {
				counter_inc(&c_ip6_bad);
				return;
			}
			nh = next;
			continue;
		}
		case 51: { /* AH: length in 4-byte units, minus 2 */
			uint8_t next = cur_u8(c);
			uint8_t len = cur_u8(c);
			cur_skip(c, (len + 2u) * 4u - 2u);
			if (c->err) {
				counter_inc(&c_ip6_bad);
				return;
			}
			nh = next;
			continue;
		}
		case 44: { /* fragment */
			uint8_t next = cur_u8(c);
			cur_skip(c, 1);
			uint16_t offm = cur_u16(c);
			uint32_t id = cur_u32(c);
			if (c->err || (flags & DECODE_REASSEMBLED)) {
				counter_inc(&c_ip6_bad);
				return;
			}
			uint32_t foff = offm & 0xfff8u;
			int more = offm & 1;
			if (!foff && !more) { /* atomic fragment (RFC 6946) */
				nh = next;
				continue;
			}
			if (flags & DECODE_TRUNCATED)
				return;
			struct ipfrag_key k;
			const uint8_t *out;
			uint32_t outlen;
			uint32_t len = (uint32_t)cur_left(c);
			memset(&k, 0, sizeof(k));
			k.src_id = f->src ? f->src->id : 0;
			k.id = id;
			k.family = 6;
			k.proto = next;
			memcpy(k.saddr, p->saddr.a, 16);
			memcpy(k.daddr, p->daddr.a, 16);
			if (ipfrag_add(eng->frag, &k, f->ts_ns, foff, more, cur_take(c, len), len,
				       &out, &outlen) != 1)
				return;
			struct cursor r = cursor_init(out, outlen);
			p->ip_reassembled = true;
			p->ip_len = outlen + 40;
			decode_ip6_chain(eng, f, p, next, &r, DECODE_REASSEMBLED);
			return;
		}
		case 59: /* no next header */
			return;
		default:
			decode_transport(eng, p, nh, c, (uint32_t)cur_left(c));
			return;
		}
	}
}

static void decode_ipv6(struct pano_engine *eng, const struct pano_frame *f, struct cursor *c)
{
	cur_skip(c, 4);
	uint16_t plen = cur_u16(c);
	uint8_t nh = cur_u8(c);
	cur_skip(c, 1);
	struct pano_pkt p = {.ts_ns = f->ts_ns, .frame = f};
	p.saddr.family = p.daddr.family = 6;
	cur_copy(c, p.saddr.a, 16);
	cur_copy(c, p.daddr.a, 16);
	if (c->err) {
		counter_inc(&c_ip6_bad);
		return;
	}
	int flags = 0;
	if (plen > cur_left(c)) {
		/* A truncated packet still goes on (e.g. DNS cut by snaplen), but not into
		 * reassembly; a cut the capture did not make is a weird. */
		if (plen - cur_left(c) > decode_cut(f))
			counter_inc(&c_ip6_trunc);
		plen = (uint16_t)cur_left(c);
		flags = DECODE_TRUNCATED;
	}
	p.ip_len = 40u + plen;
	struct cursor pl = cur_sub(c, plen);
	decode_ip6_chain(eng, f, &p, nh, &pl, flags);
}

/* A bare IPv4 or IPv6 packet (version from the first nibble); f gives time and source. */
static void decode_ip(struct pano_engine *eng, const struct pano_frame *f, const uint8_t *data,
		      uint32_t len)
{
	struct cursor c = cursor_init(data, len);
	const uint8_t *v = cur_take(&c, 1);

	if (!v) {
		counter_inc(&c_l2_trunc);
		return;
	}
	c.off = 0;
	if (*v >> 4 == 4)
		decode_ipv4(eng, f, &c);
	else if (*v >> 4 == 6)
		decode_ipv6(eng, f, &c);
	else
		counter_inc(&c_ip_ver);
}

/* Dispatches on an ethertype, following VLAN tags; c is at the bytes after the type. */
static void decode_ethertype(struct pano_engine *eng, const struct pano_frame *f, uint16_t type,
			     struct cursor *c)
{
	for (int tags = 0; type == ETH_P_8021Q || type == ETH_P_8021AD || type == ETH_P_QINQ1;
	     tags++) {
		if (tags == DECODE_MAX_VLANS) {
			counter_inc(&c_vlan_deep);
			return;
		}
		cur_skip(c, 2);
		type = cur_u16(c);
		if (c->err) {
			counter_inc(&c_l2_trunc);
			return;
		}
	}
	if (type == ETH_P_PPPOE) {
		cur_skip(c, 6);
		type = cur_u16(c); /* PPP protocol */
		if (c->err) {
			counter_inc(&c_l2_trunc);
			return;
		}
		type = type == 0x0021 ? ETH_P_IPV4 : type == 0x0057 ? ETH_P_IPV6 : 0;
	}
	if (type != ETH_P_IPV4 && type != ETH_P_IPV6) {
		counter_inc(&c_not_ip);
		return;
	}
	size_t n = cur_left(c);
	decode_ip(eng, f, cur_take(c, n), (uint32_t)n);
}

/* BSD null/loop: the address family, 2 for IPv4 and 24/28/30 for IPv6 depending on the OS. */
static void decode_af(struct pano_engine *eng, const struct pano_frame *f, uint32_t af,
		      struct cursor *c)
{
	size_t n = cur_left(c);

	if (af == 2 || af == 24 || af == 28 || af == 30)
		decode_ip(eng, f, cur_take(c, n), (uint32_t)n);
	else {
		counter_inc(&c_l2_bad);
	}
}

/* PPP in HDLC-like framing (address 0xff, control 0x03 optional), then a 1 or 2 byte protocol. */
static void decode_ppp(struct pano_engine *eng, const struct pano_frame *f, struct cursor *c)
{
	if (cur_left(c) >= 2 && c->base[c->off] == 0xff && c->base[c->off + 1] == 0x03)
		cur_skip(c, 2);
	uint16_t proto = cur_u8(c);
	if (!(proto & 1))
		proto = (uint16_t)(proto << 8 | cur_u8(c));
	if (c->err) {
		counter_inc(&c_l2_trunc);
		return;
	}
	if (proto == 0x0021 || proto == 0x0057) {
		size_t n = cur_left(c);
		decode_ip(eng, f, cur_take(c, n), (uint32_t)n);
	} else {
		counter_inc(&c_not_ip);
	}
}

/* Hands the rest of the frame to its EtherType's decoder once the link header read cleanly;
 * a link header cut short is counted. */
static void decode_after_link(struct pano_engine *eng, const struct pano_frame *f, uint16_t type,
			      struct cursor *c)
{
	if (c->err) {
		counter_inc(&c_l2_trunc);
		return;
	}
	decode_ethertype(eng, f, type, c);
}

static void decode_link(struct pano_engine *eng, const struct pano_frame *f, struct cursor *c)
{
	uint16_t type;

	switch (f->linktype) {
	case PCAP_LINKTYPE_ETHERNET:
		cur_skip(c, 12);
		type = cur_u16(c);
		if (c->err) {
			counter_inc(&c_l2_trunc);
			return;
		}
		if (type <= 1500) { /* 802.3 length: LLC, not IP */
			counter_inc(&c_not_ip);
			return;
		}
		decode_ethertype(eng, f, type, c);
		return;
	case PCAP_LINKTYPE_LINUX_SLL:
		cur_skip(c, 14);
		type = cur_u16(c);
		decode_after_link(eng, f, type, c);
		return;
	case PCAP_LINKTYPE_LINUX_SLL2:
		type = cur_u16(c);
		cur_skip(c, 18);
		decode_after_link(eng, f, type, c);
		return;
	case PCAP_LINKTYPE_RAW:
	case PCAP_LINKTYPE_IPV4:
	case PCAP_LINKTYPE_IPV6:
	case DLT_RAW_COMMON:
	case DLT_RAW_OPENBSD: {
		size_t n = cur_left(c);
		decode_ip(eng, f, cur_take(c, n), (uint32_t)n);
		return;
	}
	case PCAP_LINKTYPE_NULL: {
		uint32_t af = cur_u32_le(c);
		if (c->err) {
			counter_inc(&c_l2_trunc);
			return;
		}
		if (af > 0xffff) /* written by a big-endian host */
			af = __builtin_bswap32(af);
		decode_af(eng, f, af, c);
		return;
	}
	case PCAP_LINKTYPE_LOOP: {
		uint32_t af = cur_u32(c);
		if (c->err) {
			counter_inc(&c_l2_trunc);
			return;
		}
		decode_af(eng, f, af, c);
		return;
	}
	case LINKTYPE_PPP:
	case LINKTYPE_PPP_HDLC:
	case LINKTYPE_PPP_PPPD:
		decode_ppp(eng, f, c);
		return;
	case LINKTYPE_PPP_DIR:
		cur_skip(c, 1);
		decode_ppp(eng, f, c);
		return;
	case LINKTYPE_PPP_ETHER:
		cur_skip(c, 6);
		decode_ppp(eng, f, c);
		return;
	case LINKTYPE_C_HDLC:
		cur_skip(c, 2);
		type = cur_u16(c);
		decode_after_link(eng, f, type, c);
		return;
	default:
		decode_unsupported(&eng->dec, f->linktype);
		return;
	}
}

void decode_tick(struct pano_engine *eng, uint64_t now_ns)
{
	ipfrag_expire(eng->frag, now_ns);
	tcp_expire(eng->tcp, now_ns);
	l7_tick_all(&eng->l7, now_ns);
}

void decode_frame(struct pano_engine *eng, const struct pano_frame *f)
{
	struct cursor c = cursor_init(f->data, f->caplen);
	struct pano_frame raised;

	if (f->len < f->caplen) {
		counter_inc(&c_frame_len_short);
		raised = *f;
		raised.len = f->caplen;
		f = &raised;
	} else if (f->len > f->caplen) {
		counter_inc(&c_frames_cut);
	}
	counter_inc(&c_frames);
	counter_add(&c_bytes, f->len);
	/* Time only moves forward; a frame from the past does not rewind it. */
	if (!eng->dec.last_tick)
		eng->dec.last_tick = f->ts_ns;
	if (f->ts_ns >= eng->dec.last_tick + NSEC_PER_SEC) {
		eng->dec.last_tick = f->ts_ns;
		decode_tick(eng, f->ts_ns);
	}
	decode_link(eng, f, &c);
}

void decode_finish(struct pano_engine *eng)
{
	tcp_close_all(eng->tcp);
	ipfrag_clear(eng->frag);
	l7_flush_all(&eng->l7);
	eng->dec.last_tick = 0;
}
