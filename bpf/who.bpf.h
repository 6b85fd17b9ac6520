/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * who.bpf.h - which cgroup and process sent a frame. An skb keeps its sending socket from the
 * socket's send call until an IP stack takes it in: through the host side of a pod's veth
 * (crossing namespaces keeps it), a bridge and the peer veth, and out of an uplink. Routing
 * through the node's own stack (ip_rcv) orphans it, so frames past a node's NAT carry no
 * socket; the analyzer takes their attribution from the copy before the NAT.
 *
 * The cgroup comes from the socket itself (bpf_skb_cgroup_id: the cgroup v2 the socket was
 * created in). The process does not: a socket outlives and is shared by processes, and the skb
 * does not say which one sent. So the programs below note the process in the socket's own
 * storage (BPF_MAP_TYPE_SK_STORAGE: freed with the socket, so bounded by the open sockets and
 * never stale after a socket closes) at every point where the socket's process is current and
 * before its first frame leaves: socket creation, bind and connect (cgroup sock and sock_addr
 * hooks on the cgroup2 root, inherited by every cgroup), and after
 * every send and receive (tracepoints sock_send_length and sock_recv_length, 6.3+: sockets
 * older than the agent, processes that share a socket; a server reads a query before it
 * answers, so even its first answer is named). An iterator over every task's files would name
 * old sockets at once, but the kernel hands it sockets as untrusted pointers, which socket
 * storage refuses. Frames sent from softirq (TCP acks, retransmissions) carry the noted
 * process, never the one that happened to be interrupted. Measured (a sendto loop on
 * loopback, 2-core VM): these hooks add 80-170 ns to a send of ~5 us; the sendmsg4/6 hooks of
 * unconnected UDP sends added 300-400 ns more (they lock the socket) and named nothing the
 * receive tracepoint does not, so they are not used. fentry on udp_sendmsg and friends would
 * be fewer hooks, but kernels that refuse BPF trampolines (lockdown, some hypervisors: this
 * project's test machines) refuse those; these hooks load everywhere.
 */
#ifndef PANO_WHO_BPF_H
#define PANO_WHO_BPF_H

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

struct pano_sk_who {
	__u32 pid;
	__u32 pad;
	char comm[PANO_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE); /* an accepted socket starts with
							     * its listener's process */
	__type(key, int);
	__type(value, struct pano_sk_who);
} pano_sk_who SEC(".maps");

/*
 * The address family of a struct sock: the tracepoint fires for every socket (unix, netlink),
 * and only IP sockets need storage. CO-RE relocated, so no vmlinux.h.
 */
struct sock_common {
	unsigned short skc_family;
} __attribute__((preserve_access_index));
struct sock {
	struct sock_common __sk_common;
} __attribute__((preserve_access_index));

/* The process's name is its main thread's: a thread of it (dig's "isc-net-0000") sends. */
struct task_struct {
	struct task_struct *group_leader;
	char comm[PANO_COMM_LEN];
} __attribute__((preserve_access_index));

#define PANO_AF_INET  2
#define PANO_AF_INET6 10

/* Notes the current process as the one that sends on sk. */
static __always_inline void pano_note_sender(void *sk)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct pano_sk_who *w;

	if (!sk)
		return;
	w = bpf_sk_storage_get(&pano_sk_who, sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
	if (!w) {
		pano_count(PANO_STAT_WHO_NOTE_FAIL);
		return;
	}
	if (w->pid == pid)
		return;
	struct task_struct *t = (void *)bpf_get_current_task(), *leader = NULL;
	if (bpf_core_read(&leader, sizeof(leader), &t->group_leader) || !leader ||
	    bpf_core_read_str(w->comm, sizeof(w->comm), &leader->comm) <= 0)
		bpf_get_current_comm(w->comm, sizeof(w->comm));
	w->pid = pid;
	pano_count(PANO_STAT_WHO_NOTED);
}

SEC("cgroup/sock_create")
int pano_who_create(struct bpf_sock *sk)
{
	pano_note_sender(sk);
	return 1;
}

SEC("cgroup/post_bind4")
int pano_who_bind4(struct bpf_sock *sk)
{
	pano_note_sender(sk);
	return 1;
}

SEC("cgroup/post_bind6")
int pano_who_bind6(struct bpf_sock *sk)
{
	pano_note_sender(sk);
	return 1;
}

/* connect (TCP, connected UDP): the sock_addr hooks. */
static __always_inline int pano_who_addr(struct bpf_sock_addr *ctx)
{
	struct bpf_sock *sk = ctx->sk;

	if (sk)
		pano_note_sender(sk);
	return 1;
}

SEC("cgroup/connect4")
int pano_who_connect4(struct bpf_sock_addr *ctx)
{
	return pano_who_addr(ctx);
}

SEC("cgroup/connect6")
int pano_who_connect6(struct bpf_sock_addr *ctx)
{
	return pano_who_addr(ctx);
}

/* After a send or receive on any socket: IP sockets only. */
static __always_inline void pano_who_io(struct sock *sk)
{
	unsigned short family = sk->__sk_common.skc_family;

	if (family == PANO_AF_INET || family == PANO_AF_INET6)
		pano_note_sender(sk);
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(pano_who_sent, struct sock *sk, int ret, int flags)
{
	pano_who_io(sk);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(pano_who_recv, struct sock *sk, int ret, int flags)
{
	pano_who_io(sk);
	return 0;
}

/*
 * Fills in the socket's cgroup and, when noted, its process (TC only: XDP has no socket). The
 * socket storage lookup takes a non-full socket too (it answers NULL): no bpf_sk_fullsock. The
 * frames that carry a sender are counted in user space, not here (two map updates a frame).
 */
static __always_inline void pano_who(struct __sk_buff *skb, struct pano_rec *h)
{
	struct bpf_sock *sk = skb->sk;
	struct pano_sk_who *w;

	if (!sk)
		return;
	h->cgroup_id = bpf_skb_cgroup_id(skb);
	if (!h->cgroup_id)
		return;
	h->flags |= PANO_RF_SOCKET;
	w = bpf_sk_storage_get(&pano_sk_who, sk, NULL, 0);
	if (!w || !w->pid)
		return;
	h->pid = w->pid;
	__builtin_memcpy(h->comm, w->comm, sizeof(h->comm));
}

#endif
