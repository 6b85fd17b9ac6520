/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * tcphead.bpf.h - the head of a TCP connection only (pano-agent --tcp-head 443:16K): on ports
 * with a head limit, each direction's segments are captured while their payload starts less
 * than the limit into that direction's byte stream, so a TLS handshake (and the server's
 * certificates before TLS 1.3) is seen and the bulk after it is not.
 *
 * The offset of a segment is its sequence number minus the direction's base, in 32-bit
 * arithmetic, so it is right across a wrap of the sequence space. The base is the sequence
 * number after the SYN (or SYN-ACK) when the table saw it; otherwise the first segment with
 * payload seen for the direction starts the head there (a connection older than the agent, or
 * one the full table forgot): its next limit bytes are captured. A segment is kept whole or left
 * out whole, so what is kept may end up to one segment (a GSO frame: up to 64 KiB) past the
 * limit.
 *
 * Segments that carry SYN, FIN or RST are always kept (with any payload they carry), so the
 * analyzer sees every connection open and close; a SYN without ACK on ends the table knows (a
 * port reused) starts the connection afresh. Segments with no payload (ACKs, window updates)
 * are kept while they acknowledge no more than the peer's head (their acknowledgment number at
 * most limit bytes past the peer's base), so the bulk's ACKs are left out with the bulk, and
 * kept when the peer's base is unknown. Everything left out is counted, in segments and in
 * frame bytes, as a deliberate skip: matched = captured + dedup copies + head skipped + ring
 * and copy drops.
 *
 * The limit of a segment is the larger of its two ports' (a port without one counts 0); a
 * segment whose ports both have none is captured whole and never touches the table.
 *
 * State: one entry per connection in an LRU hash keyed by both ends in a fixed order (so the two
 * directions share it), created by a SYN or by a direction's first payload, removed at an RST
 * or at the second FIN. A full table forgets its least recently used connection, whose next
 * payload segment then starts a new head (counted in PANO_STAT_HEAD_MIDSTREAM): at worst up to
 * limit bytes more of it are captured, nothing is lost. CPUs update an entry without locks;
 * two segments of one connection racing on two CPUs can at worst set a base twice.
 */
#ifndef PANO_TCPHEAD_BPF_H
#define PANO_TCPHEAD_BPF_H

#define PANO_TCP_FIN 0x01
#define PANO_TCP_SYN 0x02
#define PANO_TCP_RST 0x04
#define PANO_TCP_ACK 0x10

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536); /* one per port; the loader makes both maps one entry when no
				     * limit can ever be set */
	__type(key, __u32);
	__type(value, __u32);
} pano_tcp_head SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PANO_TCP_HEAD_CONNS_DEFAULT); /* the loader sets --tcp-head-conns */
	__type(key, struct pano_tcp_key);
	__type(value, struct pano_tcp_conn);
} pano_tcp_conns SEC(".maps");

/* The head limit of a segment: the larger of its ports' limits, 0 for none. */
static __always_inline __u32 pano_tcp_limit(const struct pano_pkt *p)
{
	__u32 sp = p->sport, dp = p->dport, limit = 0, *l;

	l = bpf_map_lookup_elem(&pano_tcp_head, &sp);
	if (l)
		limit = *l;
	l = bpf_map_lookup_elem(&pano_tcp_head, &dp);
	if (l && *l > limit)
		limit = *l;
	return limit;
}

/* Fills the table key of p's connection; returns the sender's end in it (0 or 1). */
static __always_inline __u32 pano_tcp_key(const struct pano_pkt *p, struct pano_tcp_key *k)
{
	const __u64 *s = (const __u64 *)p->frag.saddr, *d = (const __u64 *)p->frag.daddr;
	__u32 swap;

	if (s[0] != d[0])
		swap = s[0] > d[0];
	else if (s[1] != d[1])
		swap = s[1] > d[1];
	else
		swap = p->sport > p->dport;
	if (swap) {
		__builtin_memcpy(k->addr[0], p->frag.daddr, 16);
		__builtin_memcpy(k->addr[1], p->frag.saddr, 16);
		k->port[0] = p->dport;
		k->port[1] = p->sport;
	} else {
		__builtin_memcpy(k->addr[0], p->frag.saddr, 16);
		__builtin_memcpy(k->addr[1], p->frag.daddr, 16);
		k->port[0] = p->sport;
		k->port[1] = p->dport;
	}
	k->family = p->frag.family;
	return swap;
}

/* Starts tracking a connection whose end `side` has its payload begin at base. */
static __always_inline void pano_tcp_track(const struct pano_tcp_key *k, __u32 side, __u32 base)
{
	struct pano_tcp_conn c = {};

	/* constant indices: a variable offset into the stack is refused */
	if (side) {
		c.base[1] = base;
		c.known[1] = 1;
	} else {
		c.base[0] = base;
		c.known[0] = 1;
	}
	if (!bpf_map_update_elem(&pano_tcp_conns, k, &c, BPF_NOEXIST))
		pano_count(PANO_STAT_HEAD_CONNS);
}

/*
 * Decides a matched TCP segment of frame length len on a port that may have a head limit: true
 * when it lies beyond the head and is left out (then counted), false when it is captured.
 */
static __always_inline bool pano_tcp_head_skip(const struct pano_pkt *p, __u32 len)
{
	__u32 limit = pano_tcp_limit(p), side, seq, flags = p->tcp_flags;
	struct pano_tcp_key k = {};
	struct pano_tcp_conn *c;
	bool payload;

	if (!limit)
		return false;
	side = pano_tcp_key(p, &k) & 1;
	seq = bpf_ntohl(p->seq);
	if (flags & PANO_TCP_RST) {
		if (!bpf_map_delete_elem(&pano_tcp_conns, &k))
			pano_count(PANO_STAT_HEAD_CLOSED);
		return false;
	}
	c = bpf_map_lookup_elem(&pano_tcp_conns, &k);
	if (flags & PANO_TCP_SYN) {
		/* the payload begins after the SYN's own sequence number */
		if (!c) {
			pano_tcp_track(&k, side, seq + 1);
			return false;
		}
		if (!(flags & PANO_TCP_ACK)) { /* a new connection on the same ends */
			c->known[side ^ 1] = 0;
			c->fin[0] = 0;
			c->fin[1] = 0;
		}
		c->base[side] = seq + 1;
		c->known[side] = 1;
		return false;
	}
	if (flags & PANO_TCP_FIN) {
		if (c) {
			c->fin[side] = 1;
			if (c->fin[side ^ 1] && !bpf_map_delete_elem(&pano_tcp_conns, &k))
				pano_count(PANO_STAT_HEAD_CLOSED);
		}
		return false;
	}
	/* IP length field 0: a GSO packet over 64 KiB (BIG TCP); the frame tells then */
	payload = p->l3len ? p->l3end > p->l4end : len > p->l4end;
	if (!payload) {
		if (!c || !(flags & PANO_TCP_ACK) || !c->known[side ^ 1] ||
		    bpf_ntohl(p->ack) - c->base[side ^ 1] <= limit)
			return false;
	} else if (!c) {
		pano_count(PANO_STAT_HEAD_MIDSTREAM);
		pano_tcp_track(&k, side, seq);
		return false;
	} else if (!c->known[side]) {
		pano_count(PANO_STAT_HEAD_MIDSTREAM);
		c->base[side] = seq;
		c->known[side] = 1;
		return false;
	} else if (seq - c->base[side] < limit) {
		return false;
	}
	pano_count(PANO_STAT_HEAD_SKIPPED);
	pano_count_add(PANO_STAT_HEAD_SKIPPED_BYTES, len);
	return true;
}

#endif
