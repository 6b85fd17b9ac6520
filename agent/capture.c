// SPDX-License-Identifier: Apache-2.0
/*
 * capture.c - the loader of the capture BPF programs (bpf/capture.bpf.c): opens and loads the
 * skeleton, attaches TC (clsact ingress + egress) or XDP to interfaces and cleans up what a
 * crashed agent left there, changes the port/transport filter at run time through maps, reads
 * and checks the ring buffer, and sums the per-CPU counters. The only agent file that talks to
 * libbpf (see capture_api.h for the contract of each call).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "capture_api.h" /* before the skeleton: it names struct pano_clock */
#include "bpf/capture.skel.h"
#include "counter.h"
#include "log.h"

/* Default ring size: CAPTURE_RING_TOTAL over the CPUs' rings, CAPTURE_RING_MIN at least each. */
#define CAPTURE_RING_TOTAL (8u << 20)
#define CAPTURE_RING_MIN   (1u << 20)
#define CAPTURE_MAX_LINKS  4096 /* interfaces one agent attaches to */
/*
 * Batching: the programs wake the reader only when CAPTURE_WAKEUP_DIV-th of the ring is unread,
 * and capture_poll looks at the ring at least every CAPTURE_FLUSH_MS without a wakeup, so a
 * record waits at most that long while one wakeup serves thousands at full load. Each wakeup
 * costs the reader 40-60 us of CPU on the 2-core test VMs (timer, two context switches), so at
 * 20 ms the timer alone was ~15 ns per packet at 150k packets/s; at 50 ms, with the byte
 * threshold at 1 MiB of the default 8 MiB ring, full-load rounds come ~20 times a second.
 */
#define CAPTURE_WAKEUP_DIV 8
#define CAPTURE_FLUSH_MS   50

PANO_COUNTER(c_bad_records, "capture_bad_records", "weird",
	     "ring samples with impossible sizes or lengths, skipped");

/* One interface we attached to. */
struct capture_link {
	int ifindex;
	bool own_qdisc;	 /* TC: we created the clsact qdisc, remove it when it empties */
	__u32 xdp_flags; /* XDP: the mode we attached in */
};

/*
 * The ring buffer as the kernel maps it for a reader (BPF_MAP_TYPE_RINGBUF): a writable page
 * holding the consumer position, then a read-only page holding the producer position followed
 * by the data area mapped twice in a row, so a sample never wraps. Each sample starts with an
 * 8-byte header whose first word is its length plus a busy bit (still being written) and a
 * discard bit; samples start on 8-byte boundaries.
 */
struct capture_ring {
	int fd;
	unsigned long *cons_pos; /* written by us, read by the programs */
	const unsigned long *prod_pos;
	const uint8_t *data;
	size_t size, mask, page;
	unsigned long seen; /* end of the last sample handed out; cons_pos <= seen */
	/* during a read (capture_ring_read): */
	unsigned long prod; /* the producer position when the read began: it reads up to here */
	unsigned long next; /* end of the sample of the record at the head */
	unsigned long pf;   /* cache lines from here on are not prefetched yet */
	const struct pano_rec *head; /* the next record to hand out, NULL: none yet */
};

#define CAPTURE_WHO_PROGS 8 /* programs in bpf/who.bpf.h */

#define CAPTURE_RB_BUSY	   (1u << 31)
#define CAPTURE_RB_DISCARD (1u << 30)
#define CAPTURE_RB_HDR	   8u
#define CAPTURE_PREFETCH   2048 /* bytes of the ring read ahead of the record being handled */

struct capture {
	struct capture_bpf *skel;
	struct capture_ring *rings; /* one per possible CPU, the rings of pano_rings */
	int nrings;
	int *active; /* scratch of capture_ring_read: rings with a record at the head */
	int epfd;    /* edge-triggered on the rings: only the programs' forced wakeups wake us */
	enum capture_mode mode;
	struct capture_link *links;
	int nlinks, caplinks;
	__u32 tc_ids[2];      /* ids of our TC ingress and egress programs */
	struct bpf_program *tc_in, *tc_out; /* the pair loaded (with the checksum state or not) */
	bool csum_state;		    /* tc_in/tc_out flag PANO_RF_CSUM_PARTIAL */
	uint64_t bad_records; /* atomic: capture_bad_records may run on another thread */
	time_t clock_synced;  /* CLOCK_MONOTONIC seconds of the last wall-offset update */
	struct bpf_link *who_links[CAPTURE_WHO_PROGS]; /* bpf/who.bpf.h's programs */
	int nwho;
	struct capture_head heads[PANO_MAX_PORTS]; /* the TCP head limits in pano_tcp_head */
	int nheads;
	bool no_heads; /* the head maps were made with one entry: no limit can be set */
};

static int capture_verbose;

/* libbpf's own messages: debug ones only with -v; so are the kernel's extended ack texts, which
 * libbpf prints as warnings even for the "nothing there" answers probing expects (our own
 * pr_err names the failing call when it matters). */
static int capture_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if ((level == LIBBPF_DEBUG || strstr(fmt, "Kernel error message")) && !capture_verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* Capability bits as in linux/capability.h (not included: it pulls in the old capget ABI). */
#define CAP_NET_ADMIN_BIT 12
#define CAP_SYS_ADMIN_BIT 21
#define CAP_PERFMON_BIT	  38
#define CAP_BPF_BIT	  39

/* The effective capability set from /proc/self/status, or 0 when unreadable. */
static uint64_t capture_cap_eff(void)
{
	unsigned long long v = 0;
	char line[256];
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* Explains an EPERM from the bpf() syscall by naming the capabilities we do not have. */
static void capture_explain_eperm(const char *what)
{
	uint64_t eff = capture_cap_eff();
	bool admin = eff & (1ull << CAP_SYS_ADMIN_BIT);
	char miss[128] = "";

	if (!(eff & (1ull << CAP_BPF_BIT)) && !admin)
		strcat(miss, " CAP_BPF");
	if (!(eff & (1ull << CAP_PERFMON_BIT)) && !admin)
		strcat(miss, " CAP_PERFMON");
	if (!(eff & (1ull << CAP_NET_ADMIN_BIT)))
		strcat(miss, " CAP_NET_ADMIN");
	if (miss[0])
		pr_err("%s: operation not permitted: missing%s (or CAP_SYS_ADMIN on kernels older "
		       "than 5.8); run as root or grant them",
		       what, miss);
	else
		pr_err("%s: operation not permitted although CAP_BPF, CAP_PERFMON and "
		       "CAP_NET_ADMIN are effective (a LSM or kernel.unprivileged_bpf_disabled?)",
		       what);
}

/*
 * Publishes the wall clock to the programs (struct pano_clock): CLOCK_REALTIME - CLOCK_MONOTONIC,
 * and the monotonic time of the last whole wall second, into the slot not in use, then flips.
 */
static void capture_sync_clock(struct capture *c)
{
	struct timespec m1, rt, m2;
	int64_t mono, wall, off;
	uint32_t idx = c->skel->bss->pano_clock_idx;
	volatile struct pano_clock *ck = &c->skel->bss->pano_clock[(idx + 1) & 1];

	clock_gettime(CLOCK_MONOTONIC, &m1);
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &m2);
	mono = ((int64_t)m1.tv_sec * 1000000000 + m1.tv_nsec + (int64_t)m2.tv_sec * 1000000000 +
		m2.tv_nsec) /
	       2;
	wall = (int64_t)rt.tv_sec * 1000000000 + rt.tv_nsec;
	off = wall - mono;
	ck->wall_off_ns = (uint64_t)off;
	ck->sec = (uint64_t)(wall / 1000000000);
	ck->base_mono_ns = (uint64_t)(wall / 1000000000 * 1000000000 - off);
	__atomic_store_n(&c->skel->bss->pano_clock_idx, idx + 1, __ATOMIC_RELEASE);
	c->clock_synced = m2.tv_sec;
}

int capture_rec_check(const void *data, size_t size)
{
	const struct pano_rec *r = data;

	if (size < sizeof(*r))
		return -EBADMSG;
	if (r->caplen > size - sizeof(*r) || r->caplen > r->len || r->caplen > PANO_SNAPLEN_MAX ||
	    r->dir > PANO_DIR_OUT)
		return -EBADMSG;
	return 0;
}

/* Counts (and logs, sparingly) a sample that is not a valid record. */
static void capture_bad_sample(struct capture *c, size_t size)
{
	uint64_t n = __atomic_add_fetch(&c->bad_records, 1, __ATOMIC_RELAXED);

	counter_inc(&c_bad_records);
	if ((n & (n - 1)) == 0) /* 1st, 2nd, 4th... */
		pr_warn("capture: bad ring record (size %zu), %llu so far: skipped", size,
			(unsigned long long)n);
}

/* Maps the ring for reading (see struct capture_ring). 0 or -errno. */
static int capture_ring_map(struct capture_ring *r, int fd, size_t size)
{
	void *p;

	r->fd = fd;
	r->page = (size_t)getpagesize();
	r->size = size;
	r->mask = size - 1;
	p = mmap(NULL, r->page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	r->cons_pos = p;
	p = mmap(NULL, r->page + 2 * size, PROT_READ, MAP_SHARED, fd, (off_t)r->page);
	if (p == MAP_FAILED) {
		int err = -errno;

		munmap(r->cons_pos, r->page);
		r->cons_pos = NULL;
		return err;
	}
	r->prod_pos = p;
	r->data = (const uint8_t *)p + r->page;
	r->seen = __atomic_load_n(r->cons_pos, __ATOMIC_ACQUIRE);
	return 0;
}

static void capture_ring_unmap(struct capture_ring *r)
{
	if (r->cons_pos)
		munmap(r->cons_pos, r->page);
	if (r->prod_pos)
		munmap((void *)r->prod_pos, r->page + 2 * r->size);
	close(r->fd); /* only mapped rings come here: each has its descriptor */
	memset(r, 0, sizeof(*r));
}

void capture_release(struct capture *c)
{
	for (int i = 0; i < c->nrings; i++) {
		struct capture_ring *r = &c->rings[i];
		if (*r->cons_pos != r->seen)
			__atomic_store_n(r->cons_pos, r->seen, __ATOMIC_RELEASE);
	}
}

/*
 * Finds the record at the head of r's unread samples before r->prod and sets r->head (NULL:
 * none yet, the end or a sample still being written) and r->next. Discarded samples on the
 * way are passed, impossible ones passed and counted; without hold the consumer position
 * follows.
 */
static inline __attribute__((always_inline)) void
capture_ring_peek(struct capture *c, struct capture_ring *r, bool hold)
{
	unsigned long pos = r->seen;

	r->head = NULL;
	while (pos < r->prod) {
		const uint8_t *h = r->data + (pos & r->mask);

		/* The programs wrote these lines on another CPU: ask for them ahead, for us and for
		 * whoever reads the frames next (the PCAP-over-TCP server's gather). */
		for (; r->pf < pos + CAPTURE_PREFETCH && r->pf < r->prod; r->pf += 64)
			__builtin_prefetch(r->data + (r->pf & r->mask));
		uint32_t len = __atomic_load_n((const uint32_t *)h, __ATOMIC_ACQUIRE);
		uint32_t size = len & ~(CAPTURE_RB_BUSY | CAPTURE_RB_DISCARD);

		if (len & CAPTURE_RB_BUSY)
			return;
		unsigned long next = pos + ((CAPTURE_RB_HDR + size + 7) & ~7ul);
		if (!(len & CAPTURE_RB_DISCARD)) {
			const struct pano_rec *rec = (const void *)(h + CAPTURE_RB_HDR);
			if (size <= r->size && !capture_rec_check(rec, size)) {
				r->head = rec;
				r->next = next;
				return;
			}
			capture_bad_sample(c, size);
		}
		pos = r->seen = next;
		if (!hold)
			__atomic_store_n(r->cons_pos, pos, __ATOMIC_RELEASE);
	}
}

/*
 * Hands every record committed to the rings when the read began, after the last one handed
 * out, to cb, merged by capture time: each CPU's ring is in time order, and the one whose next
 * record is oldest goes first, so that a query captured on one CPU comes before its reply
 * captured on another. Stops in a ring at a sample still being written. With hold, the
 * consumer positions stay where they were (capture_release moves them); without, they follow
 * every record. Returns the number of records handed to cb.
 */
static int capture_ring_read(struct capture *c, capture_cb cb, void *ctx, bool hold)
{
	int nactive = 0, handled = 0;

	for (int i = 0; i < c->nrings; i++) {
		struct capture_ring *r = &c->rings[i];
		r->prod = __atomic_load_n(r->prod_pos, __ATOMIC_ACQUIRE);
		r->pf = r->seen & ~63ul;
	}
	for (int i = 0; i < c->nrings; i++) {
		capture_ring_peek(c, &c->rings[i], hold);
		if (c->rings[i].head)
			c->active[nactive++] = i;
	}
	while (nactive) {
		/* the ring with the oldest head goes, as long as its records are older than every
		 * other ring's head (one comparison a record; alone, a ring just drains) */
		int best = 0;
		uint64_t oldest = c->rings[c->active[0]].head->ts_ns, limit = UINT64_MAX;
		for (int k = 1; k < nactive; k++) {
			uint64_t ts = c->rings[c->active[k]].head->ts_ns;
			if (ts < oldest) {
				limit = oldest;
				oldest = ts;
				best = k;
			} else if (ts < limit) {
				limit = ts;
			}
		}
		struct capture_ring *r = &c->rings[c->active[best]];
		do {
			const struct pano_rec *rec = r->head;

			r->seen = r->next;
			if (!hold)
				__atomic_store_n(r->cons_pos, r->seen, __ATOMIC_RELEASE);
			handled++;
			if (cb)
				cb(ctx, rec, (const uint8_t *)(rec + 1));
			capture_ring_peek(c, r, hold);
		} while (r->head && r->head->ts_ns <= limit);
		if (!r->head)
			c->active[best] = c->active[--nactive];
	}
	return handled;
}

static int capture_write_cfg(struct capture *c, const struct pano_cfg *cfg)
{
	__u32 zero = 0;
	int err = bpf_map__update_elem(c->skel->maps.pano_cfg, &zero, sizeof(zero), cfg,
				       sizeof(*cfg), BPF_ANY);

	if (err)
		pr_err("bpf_map_update_elem(pano_cfg): %s", strerror(-err));
	return err;
}

static __u32 capture_prog_id(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/* Creates n rings of size bytes, maps them and adds them to the epoll set (before the load:
 * the first is the template of pano_rings' values, see capture_open). */
static int capture_rings_create(struct capture *c, int n, uint32_t size)
{
	int err;

	c->rings = calloc(n, sizeof(*c->rings));
	c->active = calloc(n, sizeof(*c->active));
	if (!c->rings || !c->active)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		struct capture_ring *r = &c->rings[i];
		struct epoll_event ev = {.events = EPOLLIN | EPOLLET};
		int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "pano_ring", 0, 0, size, NULL);

		if (fd < 0) {
			if (fd == -EPERM)
				capture_explain_eperm("bpf_map_create(pano_ring)");
			else
				pr_err("bpf_map_create(pano_ring %d, %u bytes): %s", i, size,
				       strerror(-fd));
			return fd;
		}
		err = capture_ring_map(r, fd, size);
		if (err) {
			pr_err("mmap(pano_ring %d): %s", i, strerror(-err));
			close(fd);
			return err;
		}
		c->nrings = i + 1; /* capture_close unmaps and closes it from here on */
		/* Edge-triggered: a level-triggered set would report a ring holding a single record
		 * (committed without a wakeup) at once, and the reader would take records one by
		 * one again. */
		if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			err = -errno;
			pr_err("epoll_ctl(pano_ring %d): %s", i, strerror(-err));
			return err;
		}
	}
	return 0;
}

/* The programs of bpf/who.bpf.h that attach to the cgroup2 root, into p; returns how many. */
static int capture_who_cgroup_progs(struct capture *c, struct bpf_program *p[CAPTURE_WHO_PROGS])
{
	p[0] = c->skel->progs.pano_who_create;
	p[1] = c->skel->progs.pano_who_bind4;
	p[2] = c->skel->progs.pano_who_bind6;
	p[3] = c->skel->progs.pano_who_connect4;
	p[4] = c->skel->progs.pano_who_connect6;
	return 5;
}

/*
 * Before the load: the process-noting programs load only where they can attach (a cgroup2
 * mount was given; the sock_send_length tracepoint exists, 6.3+).
 */
/*
 * Which TC pair loads: the one that reads the skb's checksum state (csum.bpf.h) when the kernel
 * has the kfunc bpf_cast_to_kern_ctx (6.3+), else the one without. PANO_NO_CSUM_STATE=1 in the
 * environment picks the second anyway (tests of the fallback).
 */
static void capture_csum_autoload(struct capture *c)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	const char *no = getenv("PANO_NO_CSUM_STATE");
	bool have = false;

	if (vmlinux && !(no && *no && strcmp(no, "0")))
		have = btf__find_by_name_kind(vmlinux, "bpf_cast_to_kern_ctx", BTF_KIND_FUNC) > 0;
	btf__free(vmlinux);
	c->csum_state = have;
	c->tc_in = have ? c->skel->progs.pano_tc_in : c->skel->progs.pano_tc_in_nocsum;
	c->tc_out = have ? c->skel->progs.pano_tc_out : c->skel->progs.pano_tc_out_nocsum;
	bpf_program__set_autoload(c->skel->progs.pano_tc_in, have);
	bpf_program__set_autoload(c->skel->progs.pano_tc_out, have);
	bpf_program__set_autoload(c->skel->progs.pano_tc_in_nocsum, !have);
	bpf_program__set_autoload(c->skel->progs.pano_tc_out_nocsum, !have);
	if (!have)
		pr_info("capture: this kernel has no bpf_cast_to_kern_ctx (6.3+): frames carry no "
			"checksum state");
}

static void capture_who_autoload(struct capture *c, const struct capture_opts *o)
{
	struct bpf_program *p[CAPTURE_WHO_PROGS];
	int n = capture_who_cgroup_progs(c, p);

	for (int i = 0; i < n; i++)
		bpf_program__set_autoload(p[i], o->cgroup2 != NULL);
	bpf_program__set_autoload(c->skel->progs.pano_who_sent,
				  o->cgroup2 && libbpf_find_vmlinux_btf_id(
						    "sock_send_length", BPF_TRACE_RAW_TP) > 0);
	bpf_program__set_autoload(c->skel->progs.pano_who_recv,
				  bpf_program__autoload(c->skel->progs.pano_who_sent));
}

/*
 * After the load: attaches the process-noting programs (links: the kernel detaches them when
 * the agent dies). A failure costs the process names only, so it is a warning.
 */
static void capture_who_attach(struct capture *c, const char *cgroup2)
{
	int fd = open(cgroup2, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct bpf_program *p[CAPTURE_WHO_PROGS];
	int n = capture_who_cgroup_progs(c, p);
	struct bpf_link *l;

	if (fd < 0) {
		pr_warn("open(%s): %s: frames will carry no process", cgroup2, strerror(errno));
		return;
	}
	for (int i = 0; i < n; i++) {
		l = bpf_program__attach_cgroup(p[i], fd);
		if (!l) {
			pr_warn("bpf_program__attach_cgroup(%s, %s): %s: frames will carry no "
				"process",
				bpf_program__name(p[i]), cgroup2, strerror(errno));
			break;
		}
		c->who_links[c->nwho++] = l;
	}
	close(fd);
	for (int i = 0; i < 2; i++) {
		struct bpf_program *t =
		    i ? c->skel->progs.pano_who_recv : c->skel->progs.pano_who_sent;
		if (bpf_program__autoload(t) && (l = bpf_program__attach(t)))
			c->who_links[c->nwho++] = l;
		else if (i == 0)
			pr_info("capture: no sock_send_length tracepoint (6.3+): sockets opened "
				"before the agent are named only once they connect");
	}
	if (c->nwho < n) {
		while (c->nwho > 0)
			bpf_link__destroy(c->who_links[--c->nwho]);
	}
}

int capture_who_attached(const struct capture *c)
{
	return c->nwho > 0;
}

int capture_open(struct capture **out, const struct capture_opts *opts)
{
	static const uint16_t def_ports[] = {53};
	int ncpu = libbpf_num_possible_cpus();
	uint32_t ring = opts->ring_bytes;
	struct pano_cfg cfg = {
	    .snaplen = opts->snaplen ? opts->snaplen : PANO_SNAPLEN_DEFAULT,
	    .transports = opts->transports ? opts->transports : PANO_TR_UDP | PANO_TR_TCP,
	    .dedup_us = opts->dedup_us,
	};
	struct capture *c;
	int err;

	*out = NULL;
	if (ncpu < 1) {
		pr_err("libbpf_num_possible_cpus: %s", strerror(ncpu < 0 ? -ncpu : EINVAL));
		return ncpu < 0 ? ncpu : -EINVAL;
	}
	/* default: CAPTURE_RING_TOTAL shared out, a power of two each, CAPTURE_RING_MIN at least */
	if (!ring)
		for (ring = CAPTURE_RING_TOTAL;
		     ring > CAPTURE_RING_MIN && (uint64_t)ring * ncpu > CAPTURE_RING_TOTAL;)
			ring >>= 1;
	if (cfg.snaplen > PANO_SNAPLEN_MAX || cfg.transports & ~(PANO_TR_UDP | PANO_TR_TCP) ||
	    (ring & (ring - 1)) || ring < (uint32_t)getpagesize() ||
	    opts->emit_mode > PANO_EMIT_RESERVE_MAX) {
		pr_err("capture_open: invalid options (snaplen %u, transports %#x, ring %u bytes "
		       "(power of two >= page size), emit mode %u)",
		       cfg.snaplen, cfg.transports, ring, opts->emit_mode);
		return -EINVAL;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		pr_err("capture_open: /sys/kernel/btf/vmlinux: %s: the kernel needs BTF "
		       "(CONFIG_DEBUG_INFO_BTF=y)",
		       strerror(errno));
		return -EOPNOTSUPP;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->epfd = -1;
	c->mode = opts->mode;
	capture_verbose = opts->verbose;
	libbpf_set_print(capture_libbpf_print);

	/* 1. open */
	c->skel = capture_bpf__open();
	if (!c->skel) {
		err = -errno;
		pr_err("capture_bpf__open: %s", strerror(-err));
		goto cleanup;
	}
	/* 2. load-time constants, map sizes, and which programs this kernel can take:
	 * bpf_xdp_load_bytes needs 5.18, so elsewhere only the TC programs load */
	c->skel->rodata->pano_emit_mode = opts->emit_mode;
	c->skel->rodata->pano_wakeup_bytes = ring / CAPTURE_WAKEUP_DIV;
	c->skel->rodata->pano_ts_nsec = !!opts->nsec;
	if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, BPF_FUNC_xdp_load_bytes, NULL) == 0) {
		if (opts->mode == CAPTURE_XDP) {
			pr_err(
			    "capture_open: this kernel has no bpf_xdp_load_bytes helper (5.18+), "
			    "which XDP mode needs: use TC mode");
			err = -EOPNOTSUPP;
			goto cleanup;
		}
		bpf_program__set_autoload(c->skel->progs.pano_xdp, false);
	}
	capture_who_autoload(c, opts);
	capture_csum_autoload(c);
	c->no_heads = opts->no_heads && !opts->nheads;
	err = bpf_map__set_max_entries(c->skel->maps.pano_tcp_conns,
				       c->no_heads	  ? 1
				       : opts->head_conns ? opts->head_conns
							  : PANO_TCP_HEAD_CONNS_DEFAULT);
	if (!err && c->no_heads) /* 512 KiB saved: the programs never look */
		err = bpf_map__set_max_entries(c->skel->maps.pano_tcp_head, 1);
	if (err) {
		pr_err("bpf_map__set_max_entries(pano_tcp_conns, %u): %s", opts->head_conns,
		       strerror(-err));
		goto cleanup;
	}
	/* The rings exist before the load: the first is the template of pano_rings' values (the
	 * verifier's idea of their size), one per possible CPU. */
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (c->epfd < 0) {
		err = -errno;
		pr_err("epoll_create1: %s", strerror(-err));
		goto cleanup;
	}
	err = capture_rings_create(c, ncpu, ring);
	if (err)
		goto cleanup;
	err = bpf_map__set_max_entries(c->skel->maps.pano_rings, (__u32)ncpu);
	if (!err)
		err = bpf_map__set_inner_map_fd(c->skel->maps.pano_rings, c->rings[0].fd);
	if (err) {
		pr_err(
		    "bpf_map__set_max_entries/inner_map_fd(pano_rings: %d rings of %u bytes): %s",
		    ncpu, ring, strerror(-err));
		goto cleanup;
	}
	/* 3. load (the verifier runs here) */
	err = capture_bpf__load(c->skel);
	if (err) {
		if (err == -EPERM)
			capture_explain_eperm("capture_bpf__load");
		else
			pr_err("capture_bpf__load: %s", strerror(-err));
		goto cleanup;
	}
	c->tc_ids[0] = capture_prog_id(bpf_program__fd(c->tc_in));
	c->tc_ids[1] = capture_prog_id(bpf_program__fd(c->tc_out));
	capture_sync_clock(c);
	err = capture_write_cfg(c, &cfg);
	if (!err && opts->nheads) /* before the ports: a head port is never captured whole */
		err = capture_set_tcp_head(c, opts->heads, opts->nheads);
	if (err)
		goto cleanup;
	if (opts->ports)
		err = capture_set_ports(c, opts->ports, opts->nports);
	else
		err = capture_set_ports(c, def_ports, 1);
	if (err)
		goto cleanup;
	for (int i = 0; i < c->nrings; i++) {
		__u32 key = i;
		if (bpf_map_update_elem(bpf_map__fd(c->skel->maps.pano_rings), &key,
					&c->rings[i].fd, BPF_ANY)) {
			err = -errno;
			pr_err("bpf_map_update_elem(pano_rings, %d): %s", i, strerror(-err));
			goto cleanup;
		}
	}
	/* 4. attach: the process-noting programs now, the capture per interface in
	 * capture_attach */
	if (opts->cgroup2)
		capture_who_attach(c, opts->cgroup2);
	*out = c;
	return 0;
cleanup:
	capture_close(c);
	return err;
}

/* What sits in one attachment slot (PANO's TC handle, or an XDP mode) of an interface. */
struct capture_found {
	__u32 id;		     /* program id, 0 when the slot is empty */
	char name[BPF_OBJ_NAME_LEN]; /* its name: PANO's all start with "pano_" */
	pid_t holder;		     /* PANO's: a live process holding its ring buffer, or 0 */
};

static bool capture_is_pano(const struct capture_found *f)
{
	return !strncmp(f->name, "pano_", 5);
}

/*
 * A live process (other than a dead agent's leftovers) that has map map_id open, found by
 * scanning /proc/<pid>/fd for bpf-map descriptors and reading their fdinfo. 0 when none is
 * visible: a SIGKILLed agent's programs are held only by their TC filter or XDP slot. Processes
 * in other PID namespaces are invisible, so there a running agent looks stale.
 */
static pid_t capture_map_holder(__u32 map_id)
{
	DIR *proc = opendir("/proc"), *fds;
	struct dirent *p, *f;
	char path[64], target[32], line[128];
	pid_t found = 0;

	if (!proc)
		return 0;
	while (!found && (p = readdir(proc))) {
		int pid = atoi(p->d_name);

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd", pid);
		fds = opendir(path);
		if (!fds)
			continue;
		while (!found && (f = readdir(fds))) {
			int fdn = atoi(f->d_name);
			unsigned int id;
			ssize_t n;
			FILE *fi;

			if (f->d_name[0] < '0' || f->d_name[0] > '9')
				continue;
			snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fdn);
			n = readlink(path, target, sizeof(target) - 1);
			if (n <= 0)
				continue;
			target[n] = 0;
			if (strcmp(target, "anon_inode:bpf-map"))
				continue;
			snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fdn);
			fi = fopen(path, "re");
			if (!fi)
				continue;
			while (fgets(line, sizeof(line), fi))
				if (sscanf(line, "map_id: %u", &id) == 1) {
					if (id == map_id)
						found = pid;
					break;
				}
			fclose(fi);
		}
		closedir(fds);
	}
	closedir(proc);
	return found;
}

/* The id of the map of ring buffers program prog_fd uses (pano_rings), or 0. */
static __u32 capture_prog_ring(int prog_fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), ids[16], i;

	info.nr_map_ids = 16;
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return 0;
	for (i = 0; i < info.nr_map_ids && i < 16; i++) {
		struct bpf_map_info mi = {};
		__u32 mlen = sizeof(mi);
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &mi, &mlen) &&
		    mi.type == BPF_MAP_TYPE_ARRAY_OF_MAPS) {
			close(fd);
			return mi.id;
		}
		close(fd);
	}
	return 0;
}

/* Fills f for program id: its name and, for PANO's, whether a live agent still owns it. */
static int capture_inspect(__u32 id, struct capture_found *f)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), ring;
	int fd, err = 0;

	memset(f, 0, sizeof(*f));
	f->id = id;
	if (!id)
		return 0;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		goto out;
	}
	memcpy(f->name, info.name, BPF_OBJ_NAME_LEN);
	f->name[BPF_OBJ_NAME_LEN - 1] = 0;
	if (capture_is_pano(f) && (ring = capture_prog_ring(fd)))
		f->holder = capture_map_holder(ring);
out:
	close(fd);
	return err;
}

/* Refuses links whose frames do not start with an Ethernet header (tun, wireguard...).
 * Uses SIOCGIFHWADDR so the answer is about the caller's network namespace. */
static int capture_check_link(int ifindex, char *ifname)
{
	struct ifreq ifr = {};
	int fd, type;

	if (!if_indextoname(ifindex, ifname)) {
		pr_err("capture: interface index %d: %s", ifindex, strerror(errno));
		return -ENODEV;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		int err = -errno;

		close(fd);
		pr_err("capture: ioctl(SIOCGIFHWADDR, %s): %s", ifname, strerror(-err));
		return err;
	}
	close(fd);
	type = ifr.ifr_hwaddr.sa_family;
	if (type != ARPHRD_ETHER && type != ARPHRD_LOOPBACK) {
		pr_err("capture: interface %s has link type %d (%s): its frames carry no Ethernet "
		       "header, which PANO needs; not attaching",
		       ifname, type,
		       type == ARPHRD_NONE ? "ARPHRD_NONE: tun, wireguard"
					   : "not "
					     "Ethernet");
		return -EPROTONOSUPPORT;
	}
	return 0;
}

/*
 * Counts the TC filters on one clsact direction of ifindex that are not PANO's (any priority
 * other than CAPTURE_TC_PRIO), with an RTM_GETTFILTER dump. Returns the count or -errno.
 */
static int capture_tc_foreign(int ifindex, __u32 parent_min)
{
	struct {
		struct nlmsghdr nh;
		struct tcmsg tc;
	} req = {
	    .nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg)),
	    .nh.nlmsg_type = RTM_GETTFILTER,
	    .nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
	    .nh.nlmsg_seq = 1,
	    .tc.tcm_family = AF_UNSPEC,
	    .tc.tcm_ifindex = ifindex,
	    .tc.tcm_parent = TC_H_MAKE(TC_H_CLSACT, parent_min),
	};
	char buf[16384];
	int fd, n, foreign = 0, err = 0;
	bool done = false;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (send(fd, &req, req.nh.nlmsg_len, 0) < 0) {
		err = -errno;
		goto out;
	}
	while (!done) {
		struct nlmsghdr *nh;

		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			err = -errno;
			goto out;
		}
		for (nh = (void *)buf; NLMSG_OK(nh, (unsigned)n); nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_type == NLMSG_DONE) {
				done = true;
				break;
			}
			if (nh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nh);

				err = nh->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) ? e->error : -EIO;
				goto out;
			}
			if (nh->nlmsg_type == RTM_NEWTFILTER &&
			    nh->nlmsg_len >= NLMSG_LENGTH(sizeof(struct tcmsg))) {
				struct tcmsg *t = NLMSG_DATA(nh);

				if (TC_H_MAJ(t->tcm_info) >> 16 != CAPTURE_TC_PRIO)
					foreign++;
			}
		}
	}
out:
	close(fd);
	return err ? err : foreign;
}

/* What sits at PANO's handle/priority on this hook (f->id 0: nothing); 0 or -errno. */
static int capture_tc_find(struct bpf_tc_hook *hook, struct capture_found *f)
{
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = CAPTURE_TC_HANDLE, .priority = CAPTURE_TC_PRIO);
	int err = bpf_tc_query(hook, &q);

	memset(f, 0, sizeof(*f));
	if (err == -ENOENT || err == -EINVAL) /* nothing there (or no clsact qdisc) */
		return 0;
	if (err)
		return err;
	return capture_inspect(q.prog_id, f);
}

/*
 * Whether an agent may take over slot f holding someone's program: 0 when it is empty, ours
 * (own_id) or a dead agent's; -EEXIST for a program that is not PANO's; -EBUSY for a PANO
 * program a running agent still owns. Logs why not.
 */
static int capture_may_take(const char *ifname, const char *slot, const struct capture_found *f,
			    __u32 own_id)
{
	if (!f->id || f->id == own_id)
		return 0;
	if (!capture_is_pano(f)) {
		pr_err("capture: %s %s: program '%s' (id %u) is not PANO's: leaving it alone",
		       ifname, slot, f->name, f->id);
		return -EEXIST;
	}
	if (f->holder) {
		pr_err("capture: %s %s: a running PANO agent (pid %d) captures here already",
		       ifname, slot, (int)f->holder);
		return -EBUSY;
	}
	return 0;
}

/* Attaches prog_fd at PANO's handle/priority on one direction, replacing a stale PANO filter. */
static int capture_tc_attach_dir(const char *ifname, int ifindex, enum bpf_tc_attach_point pt,
				 int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = pt);
	LIBBPF_OPTS(bpf_tc_opts, a, .handle = CAPTURE_TC_HANDLE, .priority = CAPTURE_TC_PRIO,
		    .prog_fd = prog_fd);
	const char *dir = pt == BPF_TC_INGRESS ? "tc ingress" : "tc egress";
	struct capture_found f;
	int err = capture_tc_find(&hook, &f);

	if (err) {
		pr_err("bpf_tc_query(%s %s): %s", ifname, dir, strerror(-err));
		return err;
	}
	err = capture_may_take(ifname, dir, &f, 0);
	if (err)
		return err;
	if (f.id) {
		pr_info("capture: %s %s: replacing stale PANO filter '%s' (id %u)", ifname, dir,
			f.name, f.id);
		a.flags = BPF_TC_F_REPLACE;
	}
	err = bpf_tc_attach(&hook, &a);
	if (err)
		pr_err("bpf_tc_attach(%s %s): %s", ifname, dir, strerror(-err));
	return err;
}

/* What capture_tc_remove does with the clsact qdisc once PANO's filters are gone. */
enum capture_qdisc_policy {
	CAPTURE_QDISC_KEEP,	/* not ours */
	CAPTURE_QDISC_IF_EMPTY, /* ours: remove it unless someone else's filter is on it */
	CAPTURE_QDISC_IF_STALE, /* unknown: remove it if empty after removing stale PANO filters */
};

/*
 * Removes PANO's filters from both directions of ifindex: with own_ids ({ingress, egress}
 * program ids), only those; without, any dead agent's (a running agent's give -EBUSY). Then
 * the clsact qdisc as policy says. Returns how many filters were removed, or -errno.
 */
static int capture_tc_remove(const char *ifname, int ifindex, enum capture_qdisc_policy policy,
			     const __u32 *own_ids)
{
	static const enum bpf_tc_attach_point pts[] = {BPF_TC_INGRESS, BPF_TC_EGRESS};
	static const __u32 mins[] = {TC_H_MIN_INGRESS, TC_H_MIN_EGRESS};
	int removed = 0, busy = 0, err, i;

	for (i = 0; i < 2; i++) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = pts[i]);
		LIBBPF_OPTS(bpf_tc_opts, d, .handle = CAPTURE_TC_HANDLE,
			    .priority = CAPTURE_TC_PRIO);
		const char *dir = i ? "tc egress" : "tc ingress";
		struct capture_found f;

		err = capture_tc_find(&hook, &f);
		if (err) {
			pr_warn("bpf_tc_query(%s %s): %s", ifname, dir, strerror(-err));
			continue;
		}
		if (!f.id || (own_ids && f.id != own_ids[i]))
			continue; /* empty, or someone else's now */
		if (!own_ids && capture_may_take(ifname, dir, &f, 0)) {
			busy = 1;
			continue;
		}
		err = bpf_tc_detach(&hook, &d);
		if (err) {
			pr_err("bpf_tc_detach(%s %s): %s", ifname, dir, strerror(-err));
			return err;
		}
		removed++;
	}
	if (busy)
		return -EBUSY;
	if (policy == CAPTURE_QDISC_KEEP || (policy == CAPTURE_QDISC_IF_STALE && !removed))
		return removed;
	for (i = 0; i < 2; i++) {
		err = capture_tc_foreign(ifindex, mins[i]);
		if (err) {
			if (err < 0)
				pr_warn("capture: RTM_GETTFILTER(%s): %s: keeping the clsact qdisc",
					ifname, strerror(-err));
			return removed;
		}
	}
	{
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

		err = bpf_tc_hook_destroy(&hook);
		if (err)
			pr_warn("bpf_tc_hook_destroy(%s): %s", ifname, strerror(-err));
	}
	return removed;
}

/* XDP: what is attached in driver (f[0]) and generic (f[1]) mode. 0 or -errno. */
static int capture_xdp_find(const char *ifname, int ifindex, struct capture_found *f)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int err = bpf_xdp_query(ifindex, 0, &q);

	if (!err)
		err = capture_inspect(q.drv_prog_id, &f[0]);
	if (!err)
		err = capture_inspect(q.skb_prog_id, &f[1]);
	if (err)
		pr_err("bpf_xdp_query(%s): %s", ifname, strerror(-err));
	return err;
}

static const __u32 capture_xdp_modes[2] = {XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE};

/*
 * Removes dead agents' XDP programs from ifindex (all of them, or only the generic-mode one
 * when keep_drv: an attach in driver mode replaces that one in place). Refuses (-EEXIST,
 * -EBUSY) when a slot holds another program or a running agent's. Returns how many it removed.
 */
static int capture_xdp_clear(const char *ifname, int ifindex, bool keep_drv)
{
	struct capture_found f[2];
	int err = capture_xdp_find(ifname, ifindex, f), removed = 0, i;

	for (i = 0; !err && i < 2; i++)
		err = capture_may_take(ifname, i ? "xdp generic" : "xdp driver", &f[i], 0);
	for (i = keep_drv ? 1 : 0; !err && i < 2; i++) {
		LIBBPF_OPTS(bpf_xdp_attach_opts, o);
		int fd;

		if (!f[i].id)
			continue;
		/* detach exactly that program, not whatever may have replaced it meanwhile */
		fd = bpf_prog_get_fd_by_id(f[i].id);
		if (fd < 0)
			continue; /* gone already */
		o.old_prog_fd = fd;
		err = bpf_xdp_detach(ifindex, capture_xdp_modes[i] | XDP_FLAGS_REPLACE, &o);
		close(fd);
		if (err)
			pr_err("bpf_xdp_detach(%s): %s", ifname, strerror(-err));
		else
			removed++;
	}
	return err ? err : removed;
}

int capture_cleanup_stale(int ifindex)
{
	char ifname[IF_NAMESIZE];
	int tc, xdp;

	if (!if_indextoname(ifindex, ifname)) {
		pr_err("capture: interface index %d: %s", ifindex, strerror(errno));
		return -ENODEV;
	}
	/* A clsact qdisc left empty by removing a stale PANO filter was most likely created by
	 * that agent, so it goes too; one holding other filters stays. */
	tc = capture_tc_remove(ifname, ifindex, CAPTURE_QDISC_IF_STALE, NULL);
	if (tc > 0)
		pr_info("capture: %s: removed %d stale PANO TC filter(s)", ifname, tc);
	xdp = capture_xdp_clear(ifname, ifindex, false);
	if (xdp > 0)
		pr_info("capture: %s: removed %d stale PANO XDP program(s)", ifname, xdp);
	if (xdp == -EEXIST)
		xdp = 0; /* someone else's XDP program: not ours to clean, not an error here */
	return tc < 0 ? tc : xdp < 0 ? xdp : 0;
}

static struct capture_link *capture_find_link(struct capture *c, int ifindex)
{
	int i;

	for (i = 0; i < c->nlinks; i++)
		if (c->links[i].ifindex == ifindex)
			return &c->links[i];
	return NULL;
}

int capture_attach(struct capture *c, int ifindex)
{
	char ifname[IF_NAMESIZE];
	struct capture_link l = {.ifindex = ifindex};
	int err;

	if (capture_find_link(c, ifindex))
		return 0;
	if (c->nlinks >= CAPTURE_MAX_LINKS) {
		pr_err("capture: more than %d interfaces", CAPTURE_MAX_LINKS);
		return -E2BIG;
	}
	err = capture_check_link(ifindex, ifname);
	if (err)
		return err;
	if (c->nlinks == c->caplinks) {
		int cap = c->caplinks ? c->caplinks * 2 : 8;
		struct capture_link *n = realloc(c->links, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		c->links = n;
		c->caplinks = cap;
	}

	if (c->mode == CAPTURE_XDP) {
		int fd = bpf_program__fd(c->skel->progs.pano_xdp);

		err = capture_xdp_clear(ifname, ifindex, true);
		if (err < 0)
			return err;
		l.xdp_flags = XDP_FLAGS_DRV_MODE;
		err = bpf_xdp_attach(ifindex, fd, l.xdp_flags, NULL);
		if (err) {
			pr_info("capture: %s: driver-mode XDP failed (%s), using generic mode",
				ifname, strerror(-err));
			l.xdp_flags = XDP_FLAGS_SKB_MODE;
			err = bpf_xdp_attach(ifindex, fd, l.xdp_flags, NULL);
		}
		if (err) {
			if (err == -EPERM)
				capture_explain_eperm("bpf_xdp_attach");
			else
				pr_err("bpf_xdp_attach(%s): %s", ifname, strerror(-err));
			return err;
		}
	} else {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

		err = bpf_tc_hook_create(&hook);
		if (err && err != -EEXIST) {
			if (err == -EPERM)
				capture_explain_eperm("bpf_tc_hook_create");
			else
				pr_err("bpf_tc_hook_create(%s): %s", ifname, strerror(-err));
			return err;
		}
		l.own_qdisc = !err;
		err = capture_tc_attach_dir(ifname, ifindex, BPF_TC_INGRESS,
					    bpf_program__fd(c->tc_in));
		if (!err)
			err = capture_tc_attach_dir(ifname, ifindex, BPF_TC_EGRESS,
						    bpf_program__fd(c->tc_out));
		if (err) {
			capture_tc_remove(ifname, ifindex,
					  l.own_qdisc ? CAPTURE_QDISC_IF_EMPTY : CAPTURE_QDISC_KEEP,
					  c->tc_ids);
			return err;
		}
	}
	c->links[c->nlinks++] = l;
	pr_info("capture: attached to %s (%s)", ifname,
		c->mode == CAPTURE_TC		    ? "tc ingress+egress"
		: l.xdp_flags == XDP_FLAGS_DRV_MODE ? "xdp driver mode"
						    : "xdp generic mode");
	return 0;
}

/* Undoes one attachment; keeps going on errors (the interface may be gone). */
static int capture_unlink(struct capture *c, struct capture_link *l)
{
	char ifname[IF_NAMESIZE];
	int err;

	if (!if_indextoname(l->ifindex, ifname))
		return 0; /* interface gone: so are its filters */
	if (c->mode == CAPTURE_XDP) {
		LIBBPF_OPTS(bpf_xdp_attach_opts, o,
			    .old_prog_fd = bpf_program__fd(c->skel->progs.pano_xdp));

		err = bpf_xdp_detach(l->ifindex, l->xdp_flags | XDP_FLAGS_REPLACE, &o);
		if (err)
			pr_warn("bpf_xdp_detach(%s): %s", ifname, strerror(-err));
		return err;
	}
	err = capture_tc_remove(ifname, l->ifindex,
				l->own_qdisc ? CAPTURE_QDISC_IF_EMPTY : CAPTURE_QDISC_KEEP,
				c->tc_ids);
	return err < 0 ? err : 0;
}

int capture_detach(struct capture *c, int ifindex)
{
	struct capture_link *l = capture_find_link(c, ifindex);
	int err;

	if (!l)
		return -ENOENT;
	err = capture_unlink(c, l);
	*l = c->links[--c->nlinks];
	return err;
}

int capture_set_ports(struct capture *c, const uint16_t *ports, int nports)
{
	struct bpf_map *m = c->skel->maps.pano_ports;
	struct pano_portset *cur, *next;
	__u32 zero = 0;
	int i, err;

	if (nports < 0 || nports > PANO_MAX_PORTS) {
		pr_err("capture: %d ports, at most %d", nports, PANO_MAX_PORTS);
		return -E2BIG;
	}
	for (i = 0; i < nports; i++)
		if (!ports[i]) {
			pr_err("capture: port 0 is not a port");
			return -EINVAL;
		}
	cur = calloc(2, sizeof(*cur));
	if (!cur)
		return -ENOMEM;
	next = cur + 1;
	for (i = 0; i < nports; i++)
		next->bits[ports[i] >> 3] |= 1u << (ports[i] & 7);
	err = bpf_map__lookup_elem(m, &zero, sizeof(zero), cur, sizeof(*cur), 0);
	if (err) {
		pr_err("bpf_map_lookup_elem(pano_ports): %s", strerror(-err));
		goto out;
	}
	/* The union first, then the new set: a port in both never stops matching, even for a
	 * program reading the bitmap while it is being copied in. */
	for (i = 0; i < (int)sizeof(cur->bits); i++)
		cur->bits[i] |= next->bits[i];
	err = bpf_map__update_elem(m, &zero, sizeof(zero), cur, sizeof(*cur), BPF_ANY);
	if (!err)
		err = bpf_map__update_elem(m, &zero, sizeof(zero), next, sizeof(*next), BPF_ANY);
	if (err)
		pr_err("bpf_map_update_elem(pano_ports): %s", strerror(-err));
out:
	free(cur);
	return err;
}

/* Reads the filter configuration, lets change() edit it, writes it back. */
static int capture_edit_cfg(struct capture *c, void (*change)(struct pano_cfg *, uint32_t),
			    uint32_t v)
{
	struct pano_cfg cfg;
	__u32 zero = 0;
	int err =
	    bpf_map__lookup_elem(c->skel->maps.pano_cfg, &zero, sizeof(zero), &cfg, sizeof(cfg), 0);

	if (err) {
		pr_err("bpf_map_lookup_elem(pano_cfg): %s", strerror(-err));
		return err;
	}
	change(&cfg, v);
	return capture_write_cfg(c, &cfg);
}

static void capture_cfg_dedup(struct pano_cfg *cfg, uint32_t v)
{
	cfg->dedup_us = v;
}

static void capture_cfg_transports(struct pano_cfg *cfg, uint32_t v)
{
	cfg->transports = v;
}

int capture_set_dedup(struct capture *c, uint32_t dedup_us)
{
	return capture_edit_cfg(c, capture_cfg_dedup, dedup_us);
}

static void capture_cfg_snaplen(struct pano_cfg *cfg, uint32_t v)
{
	cfg->snaplen = v;
}

int capture_set_snaplen(struct capture *c, uint32_t snaplen)
{
	if (snaplen < 1 || snaplen > PANO_SNAPLEN_MAX) {
		pr_err("capture: snaplen %u, 1 to %u", snaplen, PANO_SNAPLEN_MAX);
		return -EINVAL;
	}
	return capture_edit_cfg(c, capture_cfg_snaplen, snaplen);
}

static void capture_cfg_tcp_head(struct pano_cfg *cfg, uint32_t v)
{
	cfg->tcp_head = v;
}

/* Writes one port's head limit (0: none) into pano_tcp_head. */
static int capture_write_head(struct capture *c, uint16_t port, uint32_t bytes)
{
	__u32 key = port;
	int err = bpf_map__update_elem(c->skel->maps.pano_tcp_head, &key, sizeof(key), &bytes,
				       sizeof(bytes), BPF_ANY);

	if (err)
		pr_err("bpf_map_update_elem(pano_tcp_head, %u): %s", port, strerror(-err));
	return err;
}

/*
 * The new limits go in first and the table is switched on, then the ports that lost theirs are
 * cleared (or, with none left, the table is switched off first): a port keeps a limit until it
 * is given another or none.
 */
int capture_set_tcp_head(struct capture *c, const struct capture_head *heads, int n)
{
	int i, j, err = 0;

	if (c->no_heads && n) {
		pr_err("capture: TCP head limits need the head table, which this agent was started "
		       "without (no --tcp-head, no --config)");
		return -EOPNOTSUPP;
	}
	if (n < 0 || n > PANO_MAX_PORTS) {
		pr_err("capture: %d TCP head ports, at most %d", n, PANO_MAX_PORTS);
		return -E2BIG;
	}
	for (i = 0; i < n; i++)
		if (!heads[i].port || !heads[i].bytes || heads[i].bytes > PANO_TCP_HEAD_MAX) {
			pr_err("capture: TCP head %u:%u: a port 1-65535 and 1 to %u bytes",
			       heads[i].port, heads[i].bytes, PANO_TCP_HEAD_MAX);
			return -EINVAL;
		}
	for (i = 0; i < n && !err; i++)
		err = capture_write_head(c, heads[i].port, heads[i].bytes);
	if (!err)
		err = capture_edit_cfg(c, capture_cfg_tcp_head, n > 0);
	for (i = 0; i < c->nheads && !err; i++) {
		for (j = 0; j < n && heads[j].port != c->heads[i].port; j++)
			;
		if (j == n)
			err = capture_write_head(c, c->heads[i].port, 0);
	}
	if (err)
		return err; /* c->heads stays: a retry clears what it lists */
	if (n) /* heads may be NULL then */
		memcpy(c->heads, heads, sizeof(*heads) * (size_t)n);
	c->nheads = n;
	return 0;
}

int capture_set_transports(struct capture *c, uint32_t transports)
{
	if (!transports || transports & ~(PANO_TR_UDP | PANO_TR_TCP)) {
		pr_err("capture: bad transport set %#x", transports);
		return -EINVAL;
	}
	return capture_edit_cfg(c, capture_cfg_transports, transports);
}

/* Waits (see capture_poll), keeps the programs' wall clock fresh, then reads the ring. */
static int capture_poll_ring(struct capture *c, int timeout_ms, capture_cb cb, void *ctx, bool hold)
{
	struct epoll_event ev;
	struct timespec now;
	int n;

	if (timeout_ms < 0 || timeout_ms > CAPTURE_FLUSH_MS)
		timeout_ms = CAPTURE_FLUSH_MS;
	if (timeout_ms && epoll_wait(c->epfd, &ev, 1, timeout_ms) < 0 && errno != EINTR) {
		n = -errno;
		pr_err("epoll_wait(pano_rings): %s", strerror(-n));
		return n;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec != c->clock_synced)
		capture_sync_clock(c);
	return capture_ring_read(c, cb, ctx, hold);
}

int capture_poll(struct capture *c, int timeout_ms, capture_cb cb, void *ctx)
{
	return capture_poll_ring(c, timeout_ms, cb, ctx, false);
}

int capture_poll_hold(struct capture *c, int timeout_ms, capture_cb cb, void *ctx)
{
	return capture_poll_ring(c, timeout_ms, cb, ctx, true);
}

int capture_read_stats(struct capture *c, uint64_t *out)
{
	int ncpu = libbpf_num_possible_cpus(), i, k, err;
	__u64 *v;

	if (ncpu < 1)
		return ncpu < 0 ? ncpu : -EINVAL;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (k = 0; k < PANO_STAT_MAX; k++) {
		__u32 key = k;

		err = bpf_map__lookup_elem(c->skel->maps.pano_stats, &key, sizeof(key), v,
					   ncpu * sizeof(*v), 0);
		if (err) {
			pr_err("bpf_map_lookup_elem(pano_stats, %d): %s", k, strerror(-err));
			free(v);
			return err;
		}
		out[k] = 0;
		for (i = 0; i < ncpu; i++)
			out[k] += v[i];
	}
	free(v);
	return 0;
}

uint64_t capture_ring_produced(struct capture *c)
{
	uint64_t sum = 0;

	for (int i = 0; i < c->nrings; i++)
		sum += __atomic_load_n(c->rings[i].prod_pos, __ATOMIC_ACQUIRE);
	return sum;
}

size_t capture_ring_size(const struct capture *c)
{
	return c->nrings ? c->rings[0].size : 0;
}

uint64_t capture_bad_records(const struct capture *c)
{
	return __atomic_load_n(&c->bad_records, __ATOMIC_RELAXED);
}

struct capture_bpf *capture_skeleton(struct capture *c)
{
	return c->skel;
}

int capture_tc_prog_fd(struct capture *c, bool egress)
{
	return bpf_program__fd(egress ? c->tc_out : c->tc_in);
}

bool capture_csum_state(const struct capture *c)
{
	return c->csum_state;
}

void capture_close(struct capture *c)
{
	if (!c)
		return;
	while (c->nlinks > 0)
		capture_detach(c, c->links[c->nlinks - 1].ifindex);
	while (c->nwho > 0)
		bpf_link__destroy(c->who_links[--c->nwho]);
	if (c->epfd >= 0)
		close(c->epfd);
	for (int i = 0; i < c->nrings; i++)
		capture_ring_unmap(&c->rings[i]);
	free(c->rings);
	free(c->active);
	capture_bpf__destroy(c->skel);
	free(c->links);
	free(c);
}
