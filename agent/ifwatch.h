/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ifwatch.h - which interfaces pano-agent captures on: a fixed list (--iface eth0,eth1) or
 * every up non-loopback Ethernet interface, present and future (--iface all), followed through
 * rtnetlink (RTNLGRP_LINK) so that a new pod's veth is attached when it comes up and forgotten
 * when it goes.
 */
#ifndef PANO_AGENT_IFWATCH_H
#define PANO_AGENT_IFWATCH_H

struct wbuf;
struct ifwatch;

/* Attach: 0, or -errno (-EPROTONOSUPPORT: not an Ethernet link, skipped with a message). */
typedef int (*ifwatch_attach_fn)(void *ctx, int ifindex, const char *name);
/* Detach; gone is 1 when the interface no longer exists (its filters went with it). */
typedef void (*ifwatch_detach_fn)(void *ctx, int ifindex, const char *name, int gone);

/*
 * Opens the netlink watch, reads the current links and attaches what spec selects. With a
 * list, every named interface must exist, be Ethernet and attach, else NULL (an error that
 * names the interface was logged). With "all", zero interfaces is fine (more may come).
 */
struct ifwatch *ifwatch_open(const char *spec, ifwatch_attach_fn attach, ifwatch_detach_fn detach,
			     void *ctx);
/* The netlink socket, readable when link events are pending. */
int ifwatch_fd(const struct ifwatch *w);
/* Handles pending link events without blocking. 0 or -errno. */
int ifwatch_process(struct ifwatch *w);
/* Interfaces attached now. */
int ifwatch_attached(struct ifwatch *w);
/* pano_agent_interface_attached{iface,ifindex} 1 per attached interface, and the count. */
void ifwatch_metrics(struct ifwatch *w, struct wbuf *b);
/* Detaches every interface and closes the socket. */
void ifwatch_close(struct ifwatch *w);

#endif
