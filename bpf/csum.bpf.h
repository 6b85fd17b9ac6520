/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * csum.bpf.h - whether the kernel had filled in a frame's L4 checksum yet. A socket of this node
 * sending through a device that offloads checksums (a veth, most NICs) leaves the skb with
 * ip_summed == CHECKSUM_PARTIAL and only the pseudo header's sum in the checksum field: the
 * frame is fine, the NIC (or nobody, on a veth) finishes it later. The analyzer would otherwise
 * call every such frame a checksum error. The skb's ip_summed is not in struct __sk_buff; the
 * kfunc bpf_cast_to_kern_ctx (Linux 6.3+) gives the kernel's struct sk_buff, read with a CO-RE
 * bitfield relocation (no vmlinux.h). The kfunc is weak: on an older kernel libbpf leaves it
 * unresolved, and the loader loads the programs built without this read (pano_tc_*_nocsum)
 * instead, whose frames carry no checksum flag.
 */
#ifndef PANO_CSUM_BPF_H
#define PANO_CSUM_BPF_H

#include <bpf/bpf_core_read.h>

#define PANO_CHECKSUM_PARTIAL 3 /* include/linux/skbuff.h */

struct sk_buff {
	__u8 ip_summed : 2;
} __attribute__((preserve_access_index));

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym __weak;

/* True when skb's L4 checksum is left for the device (CHECKSUM_PARTIAL). */
static __always_inline bool pano_csum_partial(struct __sk_buff *skb)
{
	struct sk_buff *k = bpf_cast_to_kern_ctx(skb);

	if (!bpf_core_field_exists(k->ip_summed))
		return false;
	return BPF_CORE_READ_BITFIELD(k, ip_summed) == PANO_CHECKSUM_PARTIAL;
}

#endif
