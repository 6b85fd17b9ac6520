/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * capture.h - what the capture BPF programs and pano-agent share: the ring-buffer record,
 * the indices of the per-CPU counters, and the filter configuration. Only __u8..__u64, padding
 * written out, nothing from libc, so the kernel and user sides see the same layout.
 */
#ifndef PANO_CAPTURE_H
#define PANO_CAPTURE_H

/*
 * The default keeps whole frames: at TC egress the kernel hands over TCP segments before
 * segmentation (GSO), so a DNS-over-TCP answer of several KiB arrives as one frame larger than
 * any MTU, and cutting it loses the answer. Records are sized to the frame, so small frames
 * cost no more with a large snaplen.
 */
#define PANO_SNAPLEN_MAX     9216
#define PANO_SNAPLEN_DEFAULT PANO_SNAPLEN_MAX
#define PANO_MAX_PORTS       64	/* entries in the port filter map */
#define PANO_FRAG_ENTRIES    4096	/* datagrams remembered in the fragment LRU map */

/*
 * Port filter map (BPF_MAP_TYPE_ARRAY, one entry): a bitmap with one bit per port in host byte
 * order, bit (port & 7) of bits[port >> 3]. A frame matches when the bit of its source or
 * destination port is set. At most PANO_MAX_PORTS are set (the loader's limit). One indexed
 * load per port, where a hash map lookup costs a hash and a bucket walk on every frame.
 */
struct pano_portset {
	__u8 bits[65536 / 8];
};

/*
 * How the programs copy a frame into the ring (a load-time constant, rodata pano_emit_mode).
 * SIZE_CLASSES reserves the smallest of a few fixed sizes that holds the frame and copies straight
 * into the reservation (one copy, but up to 2x the ring space for small frames); SCRATCH copies
 * into a per-CPU buffer first and outputs exactly header + caplen bytes (densest, two copies);
 * HYBRID, the default, does SCRATCH for frames up to PANO_EMIT_EXACT_MAX bytes (all typical DNS)
 * and SIZE_CLASSES above; RESERVE_MAX always reserves PANO_SNAPLEN_MAX (for comparison only).
 * tests/tools/bpf_bench measures them.
 */
enum pano_emit_mode {
	PANO_EMIT_HYBRID = 0,
	PANO_EMIT_SIZE_CLASSES = 1,
	PANO_EMIT_SCRATCH = 2,
	PANO_EMIT_RESERVE_MAX = 3,
};
#define PANO_EMIT_EXACT_MAX 512

enum pano_dir {
	PANO_DIR_IN = 0,	/* ingress (TC ingress, XDP) */
	PANO_DIR_OUT = 1,	/* egress (TC egress) */
};

/*
 * The classic pcap record header (host byte order, as libpcap writes it), which the programs
 * fill in so the agent can send [pcap][frame] straight from the ring without encoding anything:
 * seconds and micro- or nanoseconds (rodata pano_ts_nsec) of ts_ns, caplen, len.
 */
struct pano_pcap_rec {
	__u32 ts_sec;
	__u32 ts_frac;
	__u32 caplen;
	__u32 len;
};

/* Length of a process name as the kernel keeps it (TASK_COMM_LEN). */
#define PANO_COMM_LEN 16

/*
 * One record in the ring buffer: this header, then caplen bytes of the frame, starting at the
 * Ethernet header. The reservation is rounded up to a size class, so user space must trust
 * caplen (checked against the sample size), never the reservation. The last 16 bytes are the
 * frame's pcap record header (caplen and len are its fields), so the bytes from &pcap on are
 * one complete pcap record.
 *
 * Who sent the frame, when the skb still holds the sending socket (a socket of this node sent
 * it and no IP stack has taken it in since, see who.bpf.h): cgroup_id is the socket's cgroup v2
 * id (0: no socket), pid and comm the process that last sent on the socket (0 and empty: not
 * known, e.g. a socket that has not sent since the agent started).
 */
struct pano_rec {
	__u64 ts_ns;		/* capture time, ns since the Unix epoch (wall clock) */
	__u32 ifindex;		/* interface the frame was seen on */
	__u8 dir;		/* enum pano_dir */
	__u8 flags;		/* PANO_RF_* */
	__u8 pad[2];
	__u64 cgroup_id;	/* cgroup v2 id of the sending socket, 0: unknown */
	__u32 pid;		/* process (tgid) that sent on that socket, 0: unknown */
	__u32 pad2;
	char comm[PANO_COMM_LEN]; /* its name, NUL-padded; empty: unknown */
	union {
		struct pano_pcap_rec pcap; /* ts_ns encoded, caplen, len */
		struct {
			__u32 pcap_ts_sec;
			__u32 pcap_ts_frac;
			__u32 caplen;	/* bytes that follow this header */
			__u32 len;	/* original frame length */
		};
	};
};

/* Bits of struct pano_rec.flags. */
#define PANO_RF_SOCKET 1	/* the skb held a socket (cgroup_id is set) */
/* the L4 checksum was not filled in yet (CHECKSUM_PARTIAL: offload); TC on 6.3+ (csum.bpf.h) */
#define PANO_RF_CSUM_PARTIAL 2

/*
 * The wall clock for the programs (BPF only reads CLOCK_MONOTONIC), published by the loader in
 * two slots: it fills the one not in use, then flips the index, so a program never sees half an
 * update. At monotonic time base_mono_ns the wall clock read exactly sec seconds; wall time is
 * monotonic + wall_off_ns. The programs split timestamps into seconds and fraction from there
 * by subtraction instead of a 64-bit division.
 */
struct pano_clock {
	__u64 wall_off_ns;
	__u64 base_mono_ns;
	__u64 sec;
};

/* Per-CPU counters, one array slot each; user space sums over CPUs. */
enum pano_stat {
	PANO_STAT_SEEN = 0,	/* frames the program ran on */
	PANO_STAT_MATCHED,	/* frames that passed the filter */
	PANO_STAT_CAPTURED,	/* records committed to the ring */
	PANO_STAT_TRUNCATED,	/* captured with caplen < len */
	PANO_STAT_RING_FULL,	/* matched but the ring had no room: dropped */
	PANO_STAT_FRAG_TRACKED,	/* first fragments remembered for their followers */
	PANO_STAT_FRAG_FOLLOWED,/* later fragments captured because their first matched */
	PANO_STAT_PARSE_SHORT,	/* headers cut short (runt or truncated): not matched */
	PANO_STAT_COPY_ERR,	/* matched but copying the frame into the ring failed: dropped */
	PANO_STAT_DEDUP_COPIES,	/* matched copies of a frame already captured at another hook */
	PANO_STAT_WHO_NOTED,	/* sends on a socket that (re)named the socket's process */
	PANO_STAT_WHO_NOTE_FAIL,/* sends whose socket storage could not be had (memory) */
	PANO_STAT_HEAD_SKIPPED,	/* matched TCP segments beyond their direction's head: left out */
	PANO_STAT_HEAD_SKIPPED_BYTES, /* their frame lengths, summed */
	PANO_STAT_HEAD_CONNS,	/* connections the head table started tracking */
	PANO_STAT_HEAD_MIDSTREAM,/* directions whose head began at a segment that was not a SYN */
	PANO_STAT_HEAD_CLOSED,	/* connections taken out of the head table at FIN/RST */
	PANO_STAT_MAX,
};

/* Transport bits in struct pano_cfg.transports. */
#define PANO_TR_UDP 1
#define PANO_TR_TCP 2

/* Filter configuration, slot 0 of the cfg array map; changes apply on the next packet. */
struct pano_cfg {
	__u32 snaplen;		/* bytes to keep per frame, 1..PANO_SNAPLEN_MAX */
	__u32 transports;	/* PANO_TR_* bits */
	__u32 match_all_ports;	/* 1: ignore the port map, capture every UDP/TCP packet */
	__u32 dedup_us;		/* copies of a frame seen at another hook within this many
				 * microseconds are dropped (dedup.bpf.h); 0: keep every copy */
	__u32 tcp_head;		/* 1: some port has a head limit in pano_tcp_head (tcphead.bpf.h);
				 * 0: the table is not looked at */
};

/* Default dedup window: copies inside a node follow the first within microseconds. */
#define PANO_DEDUP_US_DEFAULT 100000
/* Slots of the dedup table (a power of two): 24 bytes each. */
#define PANO_DEDUP_SLOTS 16384

/* Key of the fragment LRU map: a datagram whose first fragment matched. */
struct pano_frag_key {
	__u8 saddr[16];		/* IPv4 addresses use the first 4 bytes, rest zero */
	__u8 daddr[16];
	__u32 id;		/* IPv4 id (16 bits) or IPv6 fragment identification */
	__u8 family;		/* 4 or 6 */
	__u8 proto;		/* L4 protocol of the datagram */
	__u8 pad[2];
};

/*
 * TCP head capture (tcphead.bpf.h). The array map pano_tcp_head holds one __u32 per port (the
 * index in host byte order): 0, no limit; else how many payload bytes of each direction of a
 * TCP connection on that port are captured. The connection table (an LRU hash, sized by the
 * loader) remembers where each direction's payload began.
 */
#define PANO_TCP_HEAD_MAX	    (1u << 30)	/* largest limit: offsets are 32-bit */
#define PANO_TCP_HEAD_CONNS_DEFAULT 65536	/* entries of the connection table */

/* Key of the connection table: the connection's two ends in a fixed order (the numerically
 * lower address, then port, first), so both directions find the same entry. */
struct pano_tcp_key {
	__u8 addr[2][16];	/* IPv4 addresses use the first 4 bytes, rest zero */
	__u16 port[2];
	__u8 family;		/* 4 or 6 */
	__u8 pad[3];
};

/* One connection of the table: where each end's payload began (its head's base). */
struct pano_tcp_conn {
	__u32 base[2];		/* sequence number of end i's first payload byte */
	__u8 known[2];		/* base[i] is set */
	__u8 fin[2];		/* end i sent a FIN */
};

#endif
