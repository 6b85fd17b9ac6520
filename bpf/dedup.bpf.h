/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * dedup.bpf.h - one copy per packet per node. A packet crossing a node is seen at several hooks:
 * the host side of the sender's veth (ingress), the bridge, the receiver's veth (egress), the
 * uplink. On the way its MAC addresses, VLAN tags, TTL / hop limit and IP header checksum
 * change; its addresses, ports, IP id, lengths, L4 checksum field (left alone by forwarding,
 * and by offload, which fills it in only on the wire), TCP sequence numbers and payload do not.
 * A NAT changes addresses (and checksums): the copies on its two sides are different packets,
 * which the analyzer joins.
 *
 * The fingerprint is a 64-bit hash of those invariant fields and the first 8 payload bytes (a
 * DNS message's id, flags and counts). The table is a direct-mapped array of slots indexed by
 * the fingerprint: a slot holds the last fingerprint that fell there, the hook (interface and
 * direction) it was first seen at, and when. A frame whose fingerprint is in its slot, seen at
 * another hook within the window, is a copy: dropped and counted. Anything else is kept and
 * takes the slot. A sender repeating a packet byte for byte (a retransmission) repeats it at
 * the same first hook, so it is kept; a copy missed because another packet took its slot in
 * between (two packets in the same slot within microseconds) is emitted twice, never lost.
 * Slots are shared by all CPUs and written without locks: a torn slot can only miss a copy.
 */
#ifndef PANO_DEDUP_BPF_H
#define PANO_DEDUP_BPF_H

struct pano_dedup_slot {
	__u64 fp;      /* fingerprint of the packet that took the slot last */
	__u64 mono_ns; /* when it was first seen (bpf_ktime_get_ns) */
	__u32 ifindex; /* where */
	__u32 dir;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PANO_DEDUP_SLOTS);
	__type(key, __u32);
	__type(value, struct pano_dedup_slot);
} pano_dedup SEC(".maps");

/* One round of a multiply-xorshift mix (64-bit multiplication is one BPF instruction). */
static __always_inline __u64 pano_mix(__u64 h, __u64 v)
{
	h ^= v;
	h *= 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

static __always_inline __u64 pano_fingerprint(const struct pano_pkt *p)
{
	const __u64 *s = (const __u64 *)p->frag.saddr, *d = (const __u64 *)p->frag.daddr;
	__u64 h = 0x243f6a8885a308d3ull;

	h = pano_mix(h, s[0]);
	h = pano_mix(h, s[1]);
	h = pano_mix(h, d[0]);
	h = pano_mix(h, d[1]);
	h = pano_mix(h,
		     (__u64)p->frag.id | (__u64)p->frag.proto << 32 | (__u64)p->frag.family << 40);
	h = pano_mix(h, (__u64)p->sport | (__u64)p->dport << 16 | (__u64)p->l3len << 32);
	h = pano_mix(h, (__u64)p->fragoff | (__u64)p->csum << 16 | (__u64)p->proto << 32);
	h = pano_mix(h, (__u64)p->seq | (__u64)p->ack << 32);
	return pano_mix(h, p->head8);
}

/* True when the frame is a copy of one already captured at another hook (then counted). */
static __always_inline bool pano_dedup_copy(const struct pano_cfg *cfg, const struct pano_pkt *p,
					    __u32 ifindex, __u8 dir, __u64 mono)
{
	__u64 fp, window = (__u64)cfg->dedup_us * 1000;
	struct pano_dedup_slot *s;
	__u32 idx;

	if (!window)
		return false;
	fp = pano_fingerprint(p);
	idx = (__u32)fp & (PANO_DEDUP_SLOTS - 1);
	s = bpf_map_lookup_elem(&pano_dedup, &idx);
	if (!s)
		return false;
	if (s->fp == fp && mono - s->mono_ns < window && (s->ifindex != ifindex || s->dir != dir)) {
		pano_count(PANO_STAT_DEDUP_COPIES);
		return true;
	}
	s->fp = fp;
	s->mono_ns = mono;
	s->ifindex = ifindex;
	s->dir = dir;
	return false;
}

#endif
