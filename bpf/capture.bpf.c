// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * capture.bpf.c - the capture filter: TC (clsact ingress and egress) and XDP programs that find
 * UDP/TCP packets whose source or destination port is in the port map (default 53), follow
 * their IP fragments, keep only the head of TCP connections on ports that have a head limit
 * (tcphead.bpf.h), and copy the frame with a small header into a ring buffer for pano-agent.
 * They only observe: every program returns "pass" whatever happens. Every frame is counted in
 * the per-CPU stats map, and every matched frame that does not reach the ring is counted too.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "capture.h"

#define PANO_VLAN_MAX	2   /* 802.1Q / 802.1ad tags walked (QinQ) */
#define PANO_V6_EXT_MAX 6   /* IPv6 extension headers walked before giving up */
#define PANO_PULL_LEN	256 /* bytes of a non-linear skb pulled in so headers can be read */
#define PANO_IP_MF	0x2000
#define PANO_IP_OFFMASK 0x1fff
#define PANO_NS		1000000000ull

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by the loader before load: how frames are copied into the ring (enum pano_emit_mode). */
const volatile __u32 pano_emit_mode = PANO_EMIT_HYBRID;
/*
 * Set by the loader before load: the ring wakes its reader only when this many bytes wait
 * (0: the kernel's own policy, a wakeup whenever the reader had caught up). Records are committed
 * without a wakeup, and the one that takes the unread data across the threshold forces one; the
 * reader also looks at the ring on a short timer, so a quiet trickle still arrives promptly. One
 * wakeup per batch instead of one per record is most of what capturing costs user space.
 */
const volatile __u32 pano_wakeup_bytes = 0;
/* Set by the loader before load: nanosecond (1) or microsecond (0) pcap timestamps. */
const volatile __u32 pano_ts_nsec = 0;
/* The wall clock, kept fresh by the loader (struct pano_clock): slot pano_clock_idx & 1. */
volatile struct pano_clock pano_clock[2];
volatile __u32 pano_clock_idx;

/*
 * One ring buffer per CPU, so that CPUs never share a ring: a shared ring's spinlock and
 * producer position bounce between the CPUs that capture at once, which tripled the cost of a
 * record on two CPUs (tests/tools/bpf_bench --cpus 2). The loader sizes the array to the
 * possible CPUs, creates the rings (all of the template's size) and merges them by time.
 */
struct pano_ring_tmpl {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20); /* the loader sets the real size */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1); /* the loader sets one per possible CPU */
	__type(key, __u32);
	__array(values, struct pano_ring_tmpl);
} pano_rings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PANO_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} pano_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pano_cfg);
} pano_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pano_portset);
} pano_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PANO_FRAG_ENTRIES);
	__type(key, struct pano_frag_key);
	__type(value, __u8);
} pano_frags SEC(".maps");

/* Staging buffer of the SCRATCH emit mode: header + the largest frame we keep. */
struct pano_scratch {
	struct pano_rec hdr;
	__u8 data[PANO_SNAPLEN_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pano_scratch);
} pano_scratch SEC(".maps");

struct pano_vlan_hdr {
	__be16 tci;
	__be16 proto;
};

struct pano_v6_frag {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset << 3 | M flag in bit 0 */
	__be32 id;
};

/* What the parser found. */
enum pano_parse {
	PANO_P_OTHER, /* not UDP/TCP over IP (or not walkable): not ours, not an error */
	PANO_P_SHORT, /* a header was cut short or malformed */
	PANO_P_L4,    /* ports found (pkt.sport/dport/proto valid) */
	PANO_P_LATER, /* a non-first IP fragment: key in pkt.frag */
};

struct pano_pkt {
	struct pano_frag_key frag; /* addresses, id and protocol, filled for IP packets */
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 first_frag; /* offset 0 with more fragments to come */
	/* what else identifies the packet across hooks (dedup.bpf.h) */
	__u16 fragoff; /* fragment offset field (IPv4) or offset and M flag (IPv6) */
	__u16 csum;    /* UDP/TCP checksum field as found */
	__u32 l3len;   /* IPv4 total length or IPv6 payload length */
	__u32 seq;     /* TCP sequence and acknowledgment numbers */
	__u32 ack;
	__u64 head8; /* the first 8 bytes of the L4 payload, zeros where there are none */
	/* what the TCP head (tcphead.bpf.h) needs */
	__u32 l3end;	/* frame offset where the IP length field ends the packet */
	__u32 l4end;	/* frame offset of the TCP payload */
	__u8 tcp_flags; /* byte 13 of the TCP header: FIN, SYN, RST, PSH, ACK... */
};

static __always_inline void pano_count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&pano_stats, &idx);

	if (v)
		(*v)++;
}

static __always_inline void pano_count_add(__u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&pano_stats, &idx);

	if (v)
		*v += n;
}

#include "csum.bpf.h"
#include "dedup.bpf.h"
#include "tcphead.bpf.h"
#include "who.bpf.h"

/* The first 8 payload bytes at off when the linear data holds them (dedup's fingerprint). */
static __always_inline void pano_head8(void *data, void *data_end, __u32 off, struct pano_pkt *pkt)
{
	__u64 *p;

	off &= 0x3fff;
	p = data + off;
	if ((void *)(p + 1) <= data_end)
		__builtin_memcpy(&pkt->head8, p, sizeof(pkt->head8));
}

/* Reads the UDP or TCP ports at off; SHORT when the (minimal) header is not all there. */
static __always_inline int pano_parse_l4(void *data, void *data_end, __u32 off, __u8 proto,
					 struct pano_pkt *pkt)
{
	off &= 0x3fff;
	pkt->proto = proto;
	if (proto == IPPROTO_UDP) {
		struct udphdr *uh = data + off;

		if ((void *)(uh + 1) > data_end)
			return PANO_P_SHORT;
		pkt->sport = bpf_ntohs(uh->source);
		pkt->dport = bpf_ntohs(uh->dest);
		pkt->csum = uh->check;
		pano_head8(data, data_end, off + sizeof(*uh), pkt);
		return PANO_P_L4;
	}
	if (proto == IPPROTO_TCP) {
		struct tcphdr *th = data + off;

		if ((void *)(th + 1) > data_end)
			return PANO_P_SHORT;
		pkt->sport = bpf_ntohs(th->source);
		pkt->dport = bpf_ntohs(th->dest);
		pkt->csum = th->check;
		pkt->seq = th->seq;
		pkt->ack = th->ack_seq;
		pkt->tcp_flags = ((__u8 *)th)[13];
		pkt->l4end = off + th->doff * 4;
		pano_head8(data, data_end, off + th->doff * 4, pkt);
		return PANO_P_L4;
	}
	return PANO_P_OTHER;
}

/* IPv4 at off: honours IHL, records the fragment key, stops at non-first fragments. */
static __always_inline int pano_parse_ipv4(void *data, void *data_end, __u32 off,
					   struct pano_pkt *pkt)
{
	struct iphdr *ip = data + off;
	__u32 ihl;
	__u16 fo;

	if ((void *)(ip + 1) > data_end)
		return PANO_P_SHORT;
	ihl = ip->ihl * 4;
	if (ip->version != 4 || ihl < sizeof(*ip))
		return PANO_P_SHORT;
	if (data + off + ihl > data_end)
		return PANO_P_SHORT;
	__builtin_memcpy(pkt->frag.saddr, &ip->saddr, 4);
	__builtin_memcpy(pkt->frag.daddr, &ip->daddr, 4);
	pkt->frag.id = bpf_ntohs(ip->id);
	pkt->frag.family = 4;
	pkt->frag.proto = ip->protocol;
	pkt->l3len = bpf_ntohs(ip->tot_len);
	pkt->l3end = off + pkt->l3len;
	fo = bpf_ntohs(ip->frag_off);
	pkt->fragoff = fo & (PANO_IP_OFFMASK | PANO_IP_MF);
	if (fo & PANO_IP_OFFMASK)
		return PANO_P_LATER;
	pkt->first_frag = !!(fo & PANO_IP_MF);
	return pano_parse_l4(data, data_end, off + ihl, ip->protocol, pkt);
}

/* IPv6 at off: walks hop-by-hop, routing, destination options, AH and fragment headers. */
static __always_inline int pano_parse_ipv6(void *data, void *data_end, __u32 off,
					   struct pano_pkt *pkt)
{
	struct ipv6hdr *ip6 = data + off;
	__u8 nh;
	int i;

	if ((void *)(ip6 + 1) > data_end)
		return PANO_P_SHORT;
	if (ip6->version != 6)
		return PANO_P_SHORT;
	__builtin_memcpy(pkt->frag.saddr, &ip6->saddr, 16);
	__builtin_memcpy(pkt->frag.daddr, &ip6->daddr, 16);
	pkt->frag.family = 6;
	pkt->l3len = bpf_ntohs(ip6->payload_len);
	pkt->l3end = off + sizeof(*ip6) + pkt->l3len;
	nh = ip6->nexthdr;
	off += sizeof(*ip6);

	for (i = 0; i < PANO_V6_EXT_MAX; i++) {
		__u8 *eh;

		off &= 0x3fff;
		eh = data + off;
		if (nh == IPPROTO_FRAGMENT) {
			struct pano_v6_frag *fh = (void *)eh;
			__u16 fo;

			if ((void *)(fh + 1) > data_end)
				return PANO_P_SHORT;
			pkt->frag.id = bpf_ntohl(fh->id);
			pkt->frag.proto = fh->nexthdr;
			fo = bpf_ntohs(fh->frag_off);
			pkt->fragoff = fo;
			if (fo & 0xfff8)
				return PANO_P_LATER;
			pkt->first_frag = fo & 1;
			nh = fh->nexthdr;
			off += sizeof(*fh);
			continue;
		}
		if (nh != IPPROTO_HOPOPTS && nh != IPPROTO_ROUTING && nh != IPPROTO_DSTOPTS &&
		    nh != IPPROTO_AH)
			return pano_parse_l4(data, data_end, off, nh, pkt);
		if ((void *)(eh + 8) > data_end) /* every extension header is >= 8 bytes */
			return PANO_P_SHORT;
		if (nh == IPPROTO_AH)
			off += (eh[1] + 2) * 4;
		else
			off += (eh[1] + 1) * 8;
		nh = eh[0];
	}
	return PANO_P_OTHER; /* more extension headers than we walk */
}

/* Ethernet, then up to PANO_VLAN_MAX 802.1Q/802.1ad tags, then IPv4 or IPv6. */
static __always_inline int pano_parse(void *data, void *data_end, struct pano_pkt *pkt)
{
	struct ethhdr *eth = data;
	__u32 off = sizeof(*eth);
	__be16 proto;
	int i;

	if ((void *)(eth + 1) > data_end)
		return PANO_P_SHORT;
	proto = eth->h_proto;
#pragma unroll
	for (i = 0; i < PANO_VLAN_MAX; i++) {
		struct pano_vlan_hdr *vh = data + off;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD) &&
		    proto != bpf_htons(ETH_P_QINQ1))
			break;
		if ((void *)(vh + 1) > data_end)
			return PANO_P_SHORT;
		proto = vh->proto;
		off += sizeof(*vh);
	}
	if (proto == bpf_htons(ETH_P_IP))
		return pano_parse_ipv4(data, data_end, off, pkt);
	if (proto == bpf_htons(ETH_P_IPV6))
		return pano_parse_ipv6(data, data_end, off, pkt);
	return PANO_P_OTHER;
}

/* Ring space a sample of size bytes takes: an 8-byte header, rounded up to 8 bytes. */
#define PANO_RB_SPACE(size) (((size) + 8 + 7) & ~7ull)

/*
 * Commit flags for a sample of size bytes, given after, the bytes unread in the ring with the
 * sample counted: a forced wakeup when this sample took the unread data across
 * pano_wakeup_bytes, none otherwise. (With several CPUs producing, a crossing can be missed or
 * doubled; the reader's timer covers a missed one.)
 */
static __always_inline __u64 pano_wake_flags(__u64 after, __u64 size)
{
	__u64 thr = pano_wakeup_bytes;

	if (!thr)
		return 0;
	if (after >= thr && after < thr + PANO_RB_SPACE(size))
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

/* Copies the first len bytes of the frame to dst (helpers cope with non-linear data). */
static __always_inline long pano_load(void *ctx, bool xdp, void *dst, __u32 len)
{
	if (xdp)
		return bpf_xdp_load_bytes(ctx, 0, dst, len);
	return bpf_skb_load_bytes(ctx, 0, dst, len);
}

/*
 * Reserves header + cls bytes (cls a compile-time constant: bpf_ringbuf_reserve wants one),
 * copies caplen <= cls frame bytes and submits. Counts ring-full and copy failures.
 */
static __always_inline void pano_emit_class(void *ring, void *ctx, bool xdp,
					    const struct pano_rec *h, const __u32 cls)
{
	struct pano_rec *r = bpf_ringbuf_reserve(ring, sizeof(*r) + cls, 0);
	__u64 caplen = h->caplen; /* 64-bit: no zero-extension copy that would hide the bounds */

	if (!r) {
		pano_count(PANO_STAT_RING_FULL);
		return;
	}
	/* Separate checks with barriers so the compiler keeps the bounds the verifier needs on
	 * the very register passed to the copy helper. */
	barrier_var(caplen);
	if (caplen > cls)
		goto drop;
	barrier_var(caplen);
	if (caplen < 1)
		goto drop;
	if (pano_load(ctx, xdp, r + 1, caplen))
		goto drop;
	__builtin_memcpy(r, h, sizeof(*r));
	/* the reservation already counts in the unread data */
	bpf_ringbuf_submit(
	    r, pano_wake_flags(bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA), sizeof(*r) + cls));
	pano_count(PANO_STAT_CAPTURED);
	if (h->caplen < h->len)
		pano_count(PANO_STAT_TRUNCATED);
	return;
drop:
	bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);
	pano_count(PANO_STAT_COPY_ERR);
}

/* Copies into the per-CPU scratch buffer, then outputs exactly header + caplen bytes. */
static __always_inline void pano_emit_scratch(void *ring, void *ctx, bool xdp,
					      const struct pano_rec *h)
{
	__u64 caplen = h->caplen, avail;
	__u32 zero = 0;
	struct pano_scratch *s = bpf_map_lookup_elem(&pano_scratch, &zero);

	barrier_var(caplen);
	if (!s || caplen > PANO_SNAPLEN_MAX)
		goto drop;
	barrier_var(caplen);
	if (caplen < 1 || pano_load(ctx, xdp, s->data, caplen)) {
	drop:
		pano_count(PANO_STAT_COPY_ERR);
		return;
	}
	__builtin_memcpy(&s->hdr, h, sizeof(*h));
	avail = bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA) + PANO_RB_SPACE(sizeof(*h) + caplen);
	if (bpf_ringbuf_output(ring, s, sizeof(*h) + caplen,
			       pano_wake_flags(avail, sizeof(*h) + caplen))) {
		pano_count(PANO_STAT_RING_FULL);
		return;
	}
	pano_count(PANO_STAT_CAPTURED);
	if (h->caplen < h->len)
		pano_count(PANO_STAT_TRUNCATED);
}

/*
 * Sends one matched frame to the ring. Measured with tests/tools/bpf_bench (TC program under
 * BPF_PROG_TEST_RUN, 1e6 frames, 2-core VM, kernel 6.18, quiet runs):
 *   75-byte DNS query:  size classes ~95-112 ns, 160 ring bytes; scratch ~92 ns, 112 bytes
 *   1400-byte frame:    size classes ~94-101 ns, 1568 ring bytes; scratch ~114-117 ns, 1432 bytes
 *   reserving the max:  ~150-190 ns and 9248 ring bytes for any frame
 * For small frames the exact-size scratch copy is both denser (30%) and no slower (one helper
 * call instead of reserve + submit); for large ones the second copy costs ~20% for 9% space.
 * Hence the hybrid default: scratch up to PANO_EMIT_EXACT_MAX bytes, size classes above.
 */
static __always_inline void pano_emit(void *ctx, bool xdp, const struct pano_rec *h)
{
	__u32 caplen = h->caplen, cpu = bpf_get_smp_processor_id();
	void *ring = bpf_map_lookup_elem(&pano_rings, &cpu);

	if (!ring) { /* a CPU the loader made no ring for: cannot happen, but counted */
		pano_count(PANO_STAT_RING_FULL);
		return;
	}
	if (pano_emit_mode == PANO_EMIT_SCRATCH ||
	    (pano_emit_mode == PANO_EMIT_HYBRID && caplen <= PANO_EMIT_EXACT_MAX)) {
		pano_emit_scratch(ring, ctx, xdp, h);
		return;
	}
	if (pano_emit_mode == PANO_EMIT_RESERVE_MAX) {
		pano_emit_class(ring, ctx, xdp, h, PANO_SNAPLEN_MAX);
		return;
	}
	if (caplen <= 128)
		pano_emit_class(ring, ctx, xdp, h, 128);
	else if (caplen <= 256)
		pano_emit_class(ring, ctx, xdp, h, 256);
	else if (caplen <= 512)
		pano_emit_class(ring, ctx, xdp, h, 512);
	else if (caplen <= 1024)
		pano_emit_class(ring, ctx, xdp, h, 1024);
	else if (caplen <= 1536)
		pano_emit_class(ring, ctx, xdp, h, 1536);
	else if (caplen <= 4096)
		pano_emit_class(ring, ctx, xdp, h, 4096);
	else
		pano_emit_class(ring, ctx, xdp, h, PANO_SNAPLEN_MAX);
}

/* True when the L4 packet passes the transport and port filters. */
static __always_inline bool pano_wanted(const struct pano_cfg *cfg, const struct pano_pkt *pkt)
{
	__u32 bit = pkt->proto == IPPROTO_UDP ? PANO_TR_UDP : PANO_TR_TCP, zero = 0;
	struct pano_portset *ps;
	__u16 sp = pkt->sport, dp = pkt->dport;

	if (!(cfg->transports & bit))
		return false;
	if (cfg->match_all_ports)
		return true;
	ps = bpf_map_lookup_elem(&pano_ports, &zero);
	if (!ps)
		return false;
	return ((ps->bits[sp >> 3] >> (sp & 7)) & 1) || ((ps->bits[dp >> 3] >> (dp & 7)) & 1);
}

/* The whole decision for one frame; data..data_end are its readable (linear) bytes; csum: read
 * the skb's checksum state (TC programs of kernels that have bpf_cast_to_kern_ctx). */
static __always_inline void pano_handle(void *ctx, bool xdp, bool csum, void *data, void *data_end,
					__u32 len, __u32 ifindex, __u8 dir)
{
	struct pano_pkt pkt = {};
	struct pano_rec h = {};
	struct pano_cfg *cfg;
	__u32 zero = 0, snaplen;
	__u8 one = 1;
	volatile struct pano_clock *ck;
	__u64 mono, sec, frac;

	pano_count(PANO_STAT_SEEN);
	cfg = bpf_map_lookup_elem(&pano_cfg, &zero);
	if (!cfg)
		return;
	switch (pano_parse(data, data_end, &pkt)) {
	case PANO_P_SHORT:
		pano_count(PANO_STAT_PARSE_SHORT);
		return;
	case PANO_P_LATER:
		if (!bpf_map_lookup_elem(&pano_frags, &pkt.frag))
			return;
		pano_count(PANO_STAT_FRAG_FOLLOWED);
		break;
	case PANO_P_L4:
		if (!pano_wanted(cfg, &pkt))
			return;
		if (pkt.proto == IPPROTO_TCP && cfg->tcp_head && pano_tcp_head_skip(&pkt, len)) {
			pano_count(PANO_STAT_MATCHED); /* a deliberate skip, counted as such */
			return;
		}
		if (pkt.first_frag) {
			bpf_map_update_elem(&pano_frags, &pkt.frag, &one, BPF_ANY);
			pano_count(PANO_STAT_FRAG_TRACKED);
		}
		break;
	default:
		return;
	}
	pano_count(PANO_STAT_MATCHED);

	ck = &pano_clock[pano_clock_idx & 1];
	mono = bpf_ktime_get_ns(); /* after reading the slot: never before its base */
	if (pano_dedup_copy(cfg, &pkt, ifindex, dir, mono))
		return;
	if (!xdp)
		pano_who(ctx, &h);
	if (!xdp && csum && pano_csum_partial(ctx))
		h.flags |= PANO_RF_CSUM_PARTIAL;
	snaplen = cfg->snaplen;
	if (snaplen < 1 || snaplen > PANO_SNAPLEN_MAX)
		snaplen = PANO_SNAPLEN_DEFAULT;
	h.ts_ns = mono + ck->wall_off_ns;
	h.ifindex = ifindex;
	h.len = len;
	h.caplen = len < snaplen ? len : snaplen;
	h.dir = dir;
	/* The loader refreshes the slot about every second, so the second is the slot's or one
	 * or two after it; a stale slot (nothing read the ring for long) takes the division. */
	frac = mono - ck->base_mono_ns;
	sec = ck->sec;
	if (frac >= PANO_NS) {
		frac -= PANO_NS;
		sec++;
		if (frac >= PANO_NS) {
			frac -= PANO_NS;
			sec++;
			if (frac >= PANO_NS) {
				sec = h.ts_ns / PANO_NS;
				frac = h.ts_ns - sec * PANO_NS;
			}
		}
	}
	h.pcap.ts_sec = (__u32)sec; /* truncated, wrapping in 2106, as pcap has it */
	h.pcap.ts_frac = (__u32)frac;
	if (!pano_ts_nsec)
		h.pcap.ts_frac /= 1000;
	pano_emit(ctx, xdp, &h);
}

/* TC entry: makes sure the headers are in the linear part, then decides. */
static __always_inline int pano_tc(struct __sk_buff *skb, __u8 dir, bool csum)
{
	__u32 linear = skb->data_end - skb->data;

	if (linear < PANO_PULL_LEN && linear < skb->len)
		bpf_skb_pull_data(skb, skb->len < PANO_PULL_LEN ? skb->len : PANO_PULL_LEN);
	pano_handle(skb, false, csum, (void *)(long)skb->data, (void *)(long)skb->data_end,
		    skb->len, skb->ifindex, dir);
	return TC_ACT_OK;
}

SEC("tc")
int pano_tc_in(struct __sk_buff *skb)
{
	return pano_tc(skb, PANO_DIR_IN, true);
}

SEC("tc")
int pano_tc_out(struct __sk_buff *skb)
{
	return pano_tc(skb, PANO_DIR_OUT, true);
}

/* The same without the checksum state, for kernels before 6.3 (the loader picks one pair). */
SEC("tc")
int pano_tc_in_nocsum(struct __sk_buff *skb)
{
	return pano_tc(skb, PANO_DIR_IN, false);
}

SEC("tc")
int pano_tc_out_nocsum(struct __sk_buff *skb)
{
	return pano_tc(skb, PANO_DIR_OUT, false);
}

SEC("xdp")
int pano_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;

	pano_handle(ctx, true, false, data, data_end, data_end - data, ctx->ingress_ifindex,
		    PANO_DIR_IN);
	return XDP_PASS;
}
