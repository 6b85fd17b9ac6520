// SPDX-License-Identifier: Apache-2.0
/*
 * ifwatch.c - the interfaces pano-agent attaches to (see ifwatch.h). One rtnetlink socket does
 * both jobs: it joins RTNLGRP_LINK first and then asks for a dump of all links, so no link can
 * appear between the dump and the subscription unseen; dump replies and later events go
 * through the same handler. The table of known links is bounded (IFW_MAX); what does not fit
 * is counted and logged.
 */
#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "counter.h"
#include "httpd.h"
#include "ifwatch.h"
#include "log.h"
#include "prom.h"

#define IFW_MAX	     4096
#define IFW_MAX_LIST 64

PANO_COUNTER(c_ifw_skipped, "agent_interfaces_skipped", "event",
	     "interfaces not attached because their frames have no Ethernet header");
PANO_COUNTER(c_ifw_attach_err, "agent_interface_attach_errors", "drop",
	     "interfaces that could not be attached");
PANO_COUNTER(c_ifw_table_full, "agent_interface_table_full", "drop",
	     "interfaces ignored because the interface table was full");
PANO_COUNTER(c_ifw_overrun, "agent_netlink_overruns", "event",
	     "netlink link event overruns (the link list was read again)");

struct ifw_link {
	int ifindex;
	char name[IF_NAMESIZE];
	int attached;
	int reported; /* a skip or failure message was printed */
};

struct ifwatch {
	int fd;
	int all;
	char list[IFW_MAX_LIST][IF_NAMESIZE];
	int nlist;
	ifwatch_attach_fn attach;
	ifwatch_detach_fn detach;
	void *ctx;
	pthread_mutex_t lock; /* guards links[] against the metrics thread */
	struct ifw_link *links;
	int nlinks;
	int dump_done;
	uint32_t seq;
};

static int ifw_listed(const struct ifwatch *w, const char *name)
{
	for (int i = 0; i < w->nlist; i++)
		if (strcmp(w->list[i], name) == 0)
			return 1;
	return 0;
}

static struct ifw_link *ifw_find(struct ifwatch *w, int ifindex)
{
	for (int i = 0; i < w->nlinks; i++)
		if (w->links[i].ifindex == ifindex)
			return &w->links[i];
	return NULL;
}

/* Asks the kernel for every link; the answers arrive on the socket like events. */
static int ifw_request_dump(struct ifwatch *w)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {
	    .nh = {.nlmsg_len = sizeof(req),
		   .nlmsg_type = RTM_GETLINK,
		   .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		   .nlmsg_seq = ++w->seq},
	    .ifi = {.ifi_family = AF_UNSPEC},
	};
	w->dump_done = 0;
	if (send(w->fd, &req, sizeof(req), 0) < 0) {
		int err = -errno;
		pr_err("ifwatch: send RTM_GETLINK: %s", strerror(errno));
		return err;
	}
	return 0;
}

/* A link exists (new, changed, or listed by the dump): attach it when it is selected, up and
 * Ethernet; say once why not otherwise. */
static void ifw_newlink(struct ifwatch *w, const struct ifinfomsg *ifi, const char *name)
{
	struct ifw_link *l = ifw_find(w, ifi->ifi_index);

	if (!l) {
		if (w->all && (ifi->ifi_flags & IFF_LOOPBACK))
			return;
		if (!w->all && !ifw_listed(w, name))
			return;
		if (w->nlinks == IFW_MAX) {
			counter_inc(&c_ifw_table_full);
			pr_warn("ifwatch: %d interfaces known already, ignoring %s", IFW_MAX, name);
			return;
		}
		pthread_mutex_lock(&w->lock);
		l = &w->links[w->nlinks++];
		memset(l, 0, sizeof(*l));
		l->ifindex = ifi->ifi_index;
		snprintf(l->name, sizeof(l->name), "%s", name);
		pthread_mutex_unlock(&w->lock);
	} else if (strcmp(l->name, name) != 0) {
		pthread_mutex_lock(&w->lock);
		snprintf(l->name, sizeof(l->name), "%s", name);
		pthread_mutex_unlock(&w->lock);
	}
	if (l->attached || l->reported)
		return;
	if (ifi->ifi_type != ARPHRD_ETHER && ifi->ifi_type != ARPHRD_LOOPBACK) {
		l->reported = 1;
		counter_inc(&c_ifw_skipped);
		pr_warn("skipping interface %s: link type %u is not Ethernet (its frames have no "
			"Ethernet header, e.g. tun or wireguard)",
			name, ifi->ifi_type);
		return;
	}
	if (w->all && !(ifi->ifi_flags & IFF_UP))
		return; /* attached when it comes up */
	int err = w->attach(w->ctx, l->ifindex, l->name);
	if (err == -EPROTONOSUPPORT) {
		l->reported = 1;
		counter_inc(&c_ifw_skipped);
		pr_warn("skipping interface %s: not an Ethernet link", name);
		return;
	}
	if (err) {
		l->reported = 1;
		counter_inc(&c_ifw_attach_err);
		pr_err("attach to %s (ifindex %d): %s", name, l->ifindex, strerror(-err));
		return;
	}
	pthread_mutex_lock(&w->lock);
	l->attached = 1;
	pthread_mutex_unlock(&w->lock);
	pr_info("attached to %s (ifindex %d)", l->name, l->ifindex);
}

/* A link went away (deleted or moved to another namespace): forget it. */
static void ifw_dellink(struct ifwatch *w, int ifindex)
{
	struct ifw_link *l = ifw_find(w, ifindex);

	if (!l)
		return;
	if (l->attached) {
		w->detach(w->ctx, l->ifindex, l->name, 1);
		pr_info("interface %s (ifindex %d) is gone", l->name, l->ifindex);
	}
	pthread_mutex_lock(&w->lock);
	*l = w->links[--w->nlinks];
	pthread_mutex_unlock(&w->lock);
}

/* Handles one buffer of netlink messages. */
static void ifw_handle(struct ifwatch *w, const void *buf, size_t len)
{
	for (const struct nlmsghdr *nh = buf; NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
		if (nh->nlmsg_type == NLMSG_DONE) {
			w->dump_done = 1;
			continue;
		}
		if (nh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(nh);
			if (nh->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) && e->error)
				pr_warn("ifwatch: netlink error: %s", strerror(-e->error));
			w->dump_done = 1;
			continue;
		}
		if (nh->nlmsg_type != RTM_NEWLINK && nh->nlmsg_type != RTM_DELLINK)
			continue;
		if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
			continue;
		const struct ifinfomsg *ifi = NLMSG_DATA(nh);
		if (nh->nlmsg_type == RTM_DELLINK) {
			ifw_dellink(w, ifi->ifi_index);
			continue;
		}
		char name[IF_NAMESIZE] = "";
		int alen = IFLA_PAYLOAD(nh);
		for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, alen);
		     a = RTA_NEXT(a, alen)) {
			if (a->rta_type != IFLA_IFNAME)
				continue;
			size_t n = RTA_PAYLOAD(a);
			if (n >= sizeof(name))
				n = sizeof(name) - 1;
			memcpy(name, RTA_DATA(a), n);
			name[n] = 0;
		}
		if (name[0])
			ifw_newlink(w, ifi, name);
	}
}

int ifwatch_process(struct ifwatch *w)
{
	static char buf[32768] __attribute__((aligned(NLMSG_ALIGNTO)));

	for (;;) {
		ssize_t n = recv(w->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0 && errno == ENOBUFS) {
			/* Events were lost: read the whole list again. */
			counter_inc(&c_ifw_overrun);
			pr_warn("ifwatch: netlink overrun, reading the link list again");
			int err = ifw_request_dump(w);
			if (err)
				return err;
			continue;
		}
		if (n < 0) {
			int err = -errno;
			pr_err("ifwatch: recv: %s", strerror(errno));
			return err;
		}
		if (n == 0)
			return 0;
		ifw_handle(w, buf, n);
	}
}

/* Splits "eth0,eth1" into w->list. 0 or -EINVAL (logged). */
static int ifw_parse_list(struct ifwatch *w, const char *spec)
{
	const char *p = spec;

	while (*p) {
		size_t n = strcspn(p, ",");
		if (n == 0 || n >= IF_NAMESIZE || w->nlist == IFW_MAX_LIST) {
			pr_err("--iface: bad interface list '%s'", spec);
			return -EINVAL;
		}
		memcpy(w->list[w->nlist], p, n);
		w->list[w->nlist++][n] = 0;
		p += n;
		if (*p == ',')
			p++;
	}
	if (!w->nlist) {
		pr_err("--iface: empty interface list");
		return -EINVAL;
	}
	return 0;
}

struct ifwatch *ifwatch_open(const char *spec, ifwatch_attach_fn attach, ifwatch_detach_fn detach,
			     void *ctx)
{
	struct ifwatch *w = calloc(1, sizeof(*w));
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK};
	int rcv = 1 << 20;

	if (!w || !(w->links = calloc(IFW_MAX, sizeof(*w->links)))) {
		pr_err("ifwatch: calloc: %s", strerror(ENOMEM));
		free(w);
		return NULL;
	}
	w->fd = -1;
	w->attach = attach;
	w->detach = detach;
	w->ctx = ctx;
	pthread_mutex_init(&w->lock, NULL);
	if (strcmp(spec, "all") == 0)
		w->all = 1;
	else if (ifw_parse_list(w, spec))
		goto fail;
	w->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	if (w->fd < 0) {
		pr_err("ifwatch: socket(AF_NETLINK): %s", strerror(errno));
		goto fail;
	}
	setsockopt(w->fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if (bind(w->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		pr_err("ifwatch: bind(RTMGRP_LINK): %s", strerror(errno));
		goto fail;
	}
	if (ifw_request_dump(w))
		goto fail;
	/* Read until the dump is complete (events that arrive meanwhile are handled too). */
	for (int tries = 0; !w->dump_done && tries < 50; tries++) {
		struct pollfd pfd = {.fd = w->fd, .events = POLLIN};
		if (poll(&pfd, 1, 100) < 0 && errno != EINTR) {
			pr_err("ifwatch: poll: %s", strerror(errno));
			goto fail;
		}
		if (ifwatch_process(w))
			goto fail;
	}
	if (!w->dump_done) {
		pr_err("ifwatch: the kernel did not finish listing links");
		goto fail;
	}
	for (int i = 0; i < w->nlist; i++) {
		int found = 0, ok = 0;
		for (int j = 0; j < w->nlinks; j++) {
			if (strcmp(w->links[j].name, w->list[i]) == 0) {
				found = 1;
				ok = w->links[j].attached;
			}
		}
		if (!found) {
			pr_err("--iface %s: no such interface", w->list[i]);
			goto fail;
		}
		if (!ok) {
			pr_err("--iface %s: cannot capture on this interface (see above)",
			       w->list[i]);
			goto fail;
		}
	}
	return w;
fail:
	ifwatch_close(w);
	return NULL;
}

int ifwatch_fd(const struct ifwatch *w)
{
	return w->fd;
}

int ifwatch_attached(struct ifwatch *w)
{
	int n = 0;

	pthread_mutex_lock(&w->lock);
	for (int i = 0; i < w->nlinks; i++)
		n += w->links[i].attached;
	pthread_mutex_unlock(&w->lock);
	return n;
}

void ifwatch_metrics(struct ifwatch *w, struct wbuf *b)
{
	char lb[96], idx[16];
	int n = 0;

	prom_family(b, "pano_agent_interface_attached", PROM_GAUGE,
		    "1 for each interface the capture programs are attached to");
	pthread_mutex_lock(&w->lock);
	for (int i = 0; i < w->nlinks; i++) {
		if (!w->links[i].attached)
			continue;
		n++;
		snprintf(idx, sizeof(idx), "%d", w->links[i].ifindex);
		prom_labels(lb, sizeof(lb), "iface", w->links[i].name, "ifindex", idx, NULL);
		prom_sample(b, "pano_agent_interface_attached", PROM_GAUGE, lb, 1);
	}
	pthread_mutex_unlock(&w->lock);
	prom_one(b, "pano_agent_interfaces_attached", PROM_GAUGE, "interfaces attached", NULL, n);
}

void ifwatch_close(struct ifwatch *w)
{
	if (!w)
		return;
	for (int i = 0; i < w->nlinks; i++) {
		if (w->links[i].attached) {
			w->detach(w->ctx, w->links[i].ifindex, w->links[i].name, 0);
			w->links[i].attached = 0;
		}
	}
	if (w->fd >= 0)
		close(w->fd);
	pthread_mutex_destroy(&w->lock);
	free(w->links);
	free(w);
}
