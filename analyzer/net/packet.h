/* SPDX-License-Identifier: Apache-2.0 */
/*
 * packet.h - what flows through the analyzer: a captured frame as an input delivers it, and a
 * decoded packet (addresses, ports, payload) as the L3/L4 decoder hands it to an L7 protocol.
 * The decoder owns the bytes; an L7 protocol copies what it keeps past the call.
 */
#ifndef PANO_PACKET_H
#define PANO_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where frames come from: one per input stream (file, PCAP-over-TCP connection, agent). */
struct pano_source {
	uint32_t id;		/* 0 for local inputs; a distinct id per agent stream */
	const char *node;	/* agent's node name, or NULL */
};

/*
 * Who sent a frame, as the agent saw it (protobuf stream, pcapng comment): the sending socket's
 * cgroup, the process, the Kubernetes pod. Strings are not NUL-terminated; a length of 0 (or
 * a pid or cgroup_id of 0) means unknown.
 */
struct pano_sender {
	uint64_t cgroup_id;
	uint32_t pid;
	uint32_t comm_len, ns_len, pod_len, container_len;
	const char *comm, *ns, *pod, *container;
};

#define PANO_COMMENT_MAX 1024 /* bytes of a packet comment kept (pcapng opt_comment) */

/* Per-frame metadata an input may know (protobuf stream, agent records, pcapng options).
 * Zero (NULL/false) is "not known"; only dir needs -1 for that. */
struct pano_frame_meta {
	const char *iface;	/* interface name, or NULL */
	int dir;		/* 0 in, 1 out, -1 unknown */
	const struct pano_sender *sender; /* NULL: not known */
	const char *comment;	/* the packet's first comment, NUL-terminated, at most
				 * PANO_COMMENT_MAX bytes (longer ones are cut), or NULL */
	bool l4_csum_partial;	/* the capturing kernel had not filled in the L4 checksum yet
				 * (checksum offload, CHECKSUM_PARTIAL): not a weird */
};

struct pano_frame {
	uint64_t ts_ns;		/* capture time, ns since the epoch */
	const uint8_t *data;
	uint32_t caplen;	/* bytes at data */
	uint32_t len;		/* original length on the wire */
	int linktype;		/* PCAP_LINKTYPE_* */
	const struct pano_source *src;
	struct pano_frame_meta meta;
};

struct pano_addr {
	uint8_t family;		/* 4 or 6 */
	uint8_t a[16];		/* IPv4 in the first 4 bytes, the rest zero */
};

/* A decoded UDP datagram or TCP segment (after IP reassembly). */
struct pano_pkt {
	uint64_t ts_ns;
	const struct pano_frame *frame;	/* the frame that completed this packet */
	uint8_t l4proto;		/* IPPROTO_UDP or IPPROTO_TCP */
	struct pano_addr saddr, daddr;
	uint16_t sport, dport;
	uint8_t tcp_flags;		/* TCP only */
	uint32_t tcp_seq, tcp_ack;	/* TCP only */
	bool ip_reassembled;		/* built from IP fragments */
	bool l4_csum_bad;		/* checksum present and wrong (counted, not dropped) */
	bool l4_csum_offload;		/* checksum not filled in yet (offload): counted apart */
	uint32_t ip_len;		/* IP datagram length (header + payload) */
	const uint8_t *payload;
	uint32_t payload_len;		/* bytes at payload */
	uint32_t payload_wire_len;	/* the payload's length as its headers give it (UDP: the
					 * length field - 8); above payload_len when the capture
					 * cut the frame (snaplen) */
};

#define PANO_ADDR_TEXT 46 /* INET6_ADDRSTRLEN */

/* Formats an address as text, exactly as inet_ntop does; buf needs 46 bytes (empty string when
 * it is too small). Returns buf. */
char *pano_addr_str(const struct pano_addr *a, char *buf, unsigned size);
/* inet_ntop(AF_INET / AF_INET6) text of the 4 or 16 bytes at a into out (16 / 46 bytes),
 * without going through stdio. Return the length (NUL not counted). */
size_t pano_ip4_text(const uint8_t *a, char *out);
size_t pano_ip6_text(const uint8_t *a, char *out);

#endif
