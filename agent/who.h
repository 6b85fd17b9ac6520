/* SPDX-License-Identifier: Apache-2.0 */
/*
 * who.h - from a frame's cgroup id to the Kubernetes pod and container it belongs to, without an
 * API server: the cgroup2 mount names the cgroup (a cgroup v2 id is its directory's inode, and
 * open_by_handle_at opens it by id), the kubelet's cgroup layout names the pod uid and the
 * container id (systemd and cgroupfs drivers; containerd, CRI-O and Docker), and the kubelet's
 * log tree (/var/log/pods/<namespace>_<pod>_<uid>/<container>/ and the /var/log/containers
 * links) names the namespace, pod and container. Host processes resolve to no pod.
 *
 * A bounded cache: cgroup ids are never reused within a boot, so an answer stays right; a
 * cgroup that vanished, a pod whose log directory is not there (yet) or a missing log tree
 * are expected, counted, retried after a while, and give an empty answer meanwhile.
 */
#ifndef PANO_AGENT_WHO_H
#define PANO_AGENT_WHO_H

#include <stddef.h>
#include <stdint.h>

#define WHO_NS_LEN	  64  /* Kubernetes namespace: DNS label, at most 63 */
#define WHO_POD_LEN	  254 /* pod name: DNS subdomain, at most 253 */
#define WHO_CONTAINER_LEN 64  /* container name: DNS label */
#define WHO_CACHE_SIZE	  4096
#define WHO_RETRY_NS	  2000000000ull /* an unresolved cgroup is asked again after 2 s */

/* What a cgroup id resolved to; empty strings where unknown. */
struct who_pod {
	char ns[WHO_NS_LEN];
	char pod[WHO_POD_LEN];
	char container[WHO_CONTAINER_LEN];
};

struct who;

/*
 * cgroup2: the cgroup2 mount (NULL: the first one in /proc/mounts; none: pods are not
 * resolved); k8s_root: the directory holding var/log/pods and var/log/containers (NULL: "/").
 * NULL only when out of memory.
 */
struct who *who_open(const char *cgroup2, const char *k8s_root);
/* The cgroup2 mount in use, or NULL when there is none. */
const char *who_cgroup2(const struct who *w);
/*
 * The pod of cgroup id (not 0), or NULL for a host cgroup or one that does not resolve (yet).
 * now_ns: a monotonic clock, for retries. The answer stays valid until the next call.
 */
const struct who_pod *who_lookup(struct who *w, uint64_t id, uint64_t now_ns);
void who_close(struct who *w);

/* Exposed for tests: the pod uid and container id a cgroup path names (kubelet layouts).
 * 0, or -ENOENT when the path is not a container's. */
int who_parse_cgroup_path(const char *path, char *uid, size_t uidlen, char *cid, size_t cidlen);

/* Finds the cgroup2 mount point in a /proc/mounts-format file. 0 or -ENOENT. */
int who_find_cgroup2(const char *mounts, char *out, size_t len);

#endif
