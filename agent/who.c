// SPDX-License-Identifier: Apache-2.0
/*
 * who.c - cgroup id -> Kubernetes namespace, pod and container (see who.h for the contract).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "counter.h"
#include "log.h"
#include "who.h"

PANO_COUNTER(c_who_resolved, "who_cgroups_resolved", "event",
	     "cgroup ids resolved to a pod or to the host");
PANO_COUNTER(c_who_vanished, "who_cgroup_vanished", "event",
	     "cgroup ids whose cgroup was gone when looked up (frames carry no pod)");
PANO_COUNTER(c_who_pod_unknown, "who_pod_unknown", "event",
	     "containers' cgroups with no pod in the kubelet log tree (yet)");
PANO_COUNTER(c_who_no_log_tree, "who_log_tree_missing", "event",
	     "lookups that found no kubelet log tree (var/log/pods) to name pods by");
PANO_COUNTER(c_who_evicted, "who_cache_evictions", "event",
	     "cgroup cache entries replaced to make room (the cache is bounded)");

#define WHO_WAYS	 4
#define FILEID_KERNFS_ID 0xfe /* the kernfs file handle type: the handle is the 64-bit id */

enum who_state { WHO_FREE = 0, WHO_HOST, WHO_POD, WHO_UNRESOLVED };

struct who_entry {
	uint64_t id;
	uint64_t used_ns;  /* last lookup: the least recently used way is replaced */
	uint64_t retry_ns; /* WHO_UNRESOLVED: ask again after this */
	enum who_state state;
	struct who_pod pod;
};

struct who {
	char cgroup2[PATH_MAX]; /* empty: no cgroup2 mount */
	char pods_dir[PATH_MAX];
	char containers_dir[PATH_MAX];
	int mount_fd;
	struct who_entry *tab; /* WHO_CACHE_SIZE entries in sets of WHO_WAYS */
};

int who_find_cgroup2(const char *mounts, char *out, size_t len)
{
	char dev[256], dir[PATH_MAX], type[64];
	int found = -ENOENT;
	FILE *f = fopen(mounts, "re");

	if (!f)
		return -ENOENT;
	while (fscanf(f, "%255s %4095s %63s %*[^\n]", dev, dir, type) == 3) {
		if (strcmp(type, "cgroup2") == 0 && strlen(dir) < len) {
			strcpy(out, dir);
			found = 0;
			break;
		}
	}
	fclose(f);
	return found;
}

struct who *who_open(const char *cgroup2, const char *k8s_root)
{
	struct who *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->tab = calloc(WHO_CACHE_SIZE, sizeof(*w->tab));
	if (!w->tab) {
		free(w);
		return NULL;
	}
	w->mount_fd = -1;
	if (cgroup2 && strlen(cgroup2) < sizeof(w->cgroup2))
		strcpy(w->cgroup2, cgroup2);
	else if (!cgroup2 && who_find_cgroup2("/proc/mounts", w->cgroup2, sizeof(w->cgroup2)))
		pr_warn("who: no cgroup2 mount in /proc/mounts: frames will carry no pod");
	if (w->cgroup2[0]) {
		w->mount_fd = open(w->cgroup2, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (w->mount_fd < 0) {
			pr_warn("who: open(%s): %s: frames will carry no pod", w->cgroup2,
				strerror(errno));
			w->cgroup2[0] = 0;
		}
	}
	if (!k8s_root || !*k8s_root)
		k8s_root = "/";
	snprintf(w->pods_dir, sizeof(w->pods_dir), "%s/var/log/pods", k8s_root);
	snprintf(w->containers_dir, sizeof(w->containers_dir), "%s/var/log/containers", k8s_root);
	return w;
}

const char *who_cgroup2(const struct who *w)
{
	return w->cgroup2[0] ? w->cgroup2 : NULL;
}

void who_close(struct who *w)
{
	if (!w)
		return;
	if (w->mount_fd >= 0)
		close(w->mount_fd);
	free(w->tab);
	free(w);
}

/* Copies n bytes of s as a string, cut to fit len. */
static void who_copy_until(char *out, size_t len, const char *s, size_t n)
{
	if (n >= len)
		n = len - 1;
	memcpy(out, s, n);
	out[n] = 0;
}

/*
 * A container id from a cgroup directory name: "cri-containerd-<id>.scope", "crio-<id>.scope",
 * "docker-<id>.scope" (systemd driver) or "<id>" (cgroupfs driver). CRI-O's conmon scope is
 * not a container. 0 or -ENOENT.
 */
static int who_container_id(const char *name, size_t n, char *cid, size_t len)
{
	static const char *const prefixes[] = {"cri-containerd-", "crio-", "docker-",
					       "containerd-"};
	size_t i;

	if (n >= 6 && memcmp(name + n - 6, ".scope", 6) == 0)
		n -= 6;
	if (n >= 12 && memcmp(name, "crio-conmon-", 12) == 0)
		return -ENOENT;
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t p = strlen(prefixes[i]);
		if (n > p && memcmp(name, prefixes[i], p) == 0) {
			name += p;
			n -= p;
			break;
		}
	}
	if (n < 12) /* container ids are 64 hex digits; anything this short is not one */
		return -ENOENT;
	for (i = 0; i < n; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return -ENOENT;
	who_copy_until(cid, len, name, n);
	return 0;
}

int who_parse_cgroup_path(const char *path, char *uid, size_t uidlen, char *cid, size_t cidlen)
{
	const char *p = path, *comp, *pod = NULL;
	size_t n, podn = 0;

	/* walk the components; the one after the pod's is the container's */
	while (*p) {
		while (*p == '/')
			p++;
		comp = p;
		while (*p && *p != '/')
			p++;
		n = p - comp;
		if (!n)
			break;
		if (pod)
			return who_container_id(comp, n, cid, cidlen) ? -ENOENT : 0;
		/* cgroupfs: "pod<uid>"; systemd: "kubepods-<qos>-pod<uid_>.slice" */
		if (n > 3 && memcmp(comp, "pod", 3) == 0) {
			pod = comp + 3;
			podn = n - 3;
		} else if (n > 10 && memcmp(comp, "kubepods", 8) == 0 &&
			   memcmp(comp + n - 6, ".slice", 6) == 0) {
			const char *m = memmem(comp, n - 6, "-pod", 4);
			if (m) {
				pod = m + 4;
				podn = comp + n - 6 - pod;
			}
		}
		if (pod) {
			if (!podn || podn >= uidlen)
				return -ENOENT;
			for (size_t i = 0; i < podn; i++)
				uid[i] = pod[i] == '_' ? '-' : pod[i];
			uid[podn] = 0;
		}
	}
	return -ENOENT;
}

/* The cgroup's path below the mount, by id: open_by_handle_at, else a walk of the tree. */
static int who_cgroup_path(struct who *w, uint64_t id, char *out, size_t len)
{
	struct {
		struct file_handle fh;
		uint64_t id;
	} h = {.fh = {.handle_bytes = sizeof(uint64_t), .handle_type = FILEID_KERNFS_ID}};
	char link[64], full[PATH_MAX];
	ssize_t n;
	size_t m = strlen(w->cgroup2);
	int fd;

	memcpy(h.fh.f_handle, &id, sizeof(id));
	fd = open_by_handle_at(w->mount_fd, &h.fh, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, full, sizeof(full) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	full[n] = 0;
	if ((size_t)n < m || memcmp(full, w->cgroup2, m) != 0)
		return -ENOENT;
	snprintf(out, len, "%s", full + m);
	return 0;
}

/*
 * Fills pod->ns and pod->pod from the log directory "<ns>_<pod>_<uid>" of uid, and
 * pod->container from the /var/log/containers link "<pod>_<ns>_<container>-<cid>.log" (or the
 * log directory's only container). 0, -ENOENT (no such pod) or -ENOTDIR (no log tree).
 */
static int who_pod_names(struct who *w, const char *uid, const char *cid, struct who_pod *pod)
{
	size_t ul = strlen(uid), cl = strlen(cid);
	char dir[PATH_MAX] = "";
	struct dirent *e;
	DIR *d = opendir(w->pods_dir);

	if (!d)
		return -ENOTDIR;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		const char *u1 = strchr(e->d_name, '_'), *u2 = strrchr(e->d_name, '_');
		if (n <= ul + 1 || strcmp(e->d_name + n - ul, uid) ||
		    e->d_name[n - ul - 1] != '_' || !u1 || u1 == u2)
			continue;
		who_copy_until(pod->ns, sizeof(pod->ns), e->d_name, u1 - e->d_name);
		who_copy_until(pod->pod, sizeof(pod->pod), u1 + 1, u2 - u1 - 1);
		if (strlen(w->pods_dir) + n + 2 <= sizeof(dir))
			sprintf(dir, "%s/%s", w->pods_dir, e->d_name);
		break;
	}
	closedir(d);
	if (!dir[0])
		return -ENOENT;
	/* the container: "<pod>_<ns>_<container>-<cid>.log" in /var/log/containers */
	d = cl ? opendir(w->containers_dir) : NULL;
	while (d && (e = readdir(d))) {
		size_t n = strlen(e->d_name), pl = strlen(pod->pod), nl = strlen(pod->ns);
		if (n < pl + nl + cl + 7 || strcmp(e->d_name + n - 4, ".log") ||
		    memcmp(e->d_name + n - 4 - cl, cid, cl) || e->d_name[n - 5 - cl] != '-' ||
		    memcmp(e->d_name, pod->pod, pl) || e->d_name[pl] != '_' ||
		    memcmp(e->d_name + pl + 1, pod->ns, nl) || e->d_name[pl + 1 + nl] != '_')
			continue;
		who_copy_until(pod->container, sizeof(pod->container), e->d_name + pl + nl + 2,
			       n - 5 - cl - (pl + nl + 2));
		break;
	}
	if (d)
		closedir(d);
	if (!pod->container[0] && cl && (d = opendir(dir))) {
		/* no link: a pod with one container directory has that container */
		int dirs = 0;
		while ((e = readdir(d)))
			if (e->d_type == DT_DIR && e->d_name[0] != '.' && dirs++ == 0)
				who_copy_until(pod->container, sizeof(pod->container), e->d_name,
					       strlen(e->d_name));
		if (dirs != 1)
			pod->container[0] = 0;
		closedir(d);
	}
	return 0;
}

/* Resolves id into e (state and pod). */
static void who_resolve(struct who *w, struct who_entry *e, uint64_t now_ns)
{
	char path[PATH_MAX], uid[64], cid[80] = "";
	int err;

	memset(&e->pod, 0, sizeof(e->pod));
	e->state = WHO_UNRESOLVED;
	e->retry_ns = now_ns + WHO_RETRY_NS;
	err = who_cgroup_path(w, e->id, path, sizeof(path));
	if (err) {
		counter_inc(&c_who_vanished);
		pr_debug("who: cgroup %llu: %s", (unsigned long long)e->id, strerror(-err));
		return;
	}
	if (who_parse_cgroup_path(path, uid, sizeof(uid), cid, sizeof(cid))) {
		e->state = WHO_HOST; /* not a pod's: a host process */
		counter_inc(&c_who_resolved);
		return;
	}
	err = who_pod_names(w, uid, cid, &e->pod);
	if (err == -ENOTDIR) {
		counter_inc(&c_who_no_log_tree);
		return;
	}
	if (err) {
		counter_inc(&c_who_pod_unknown);
		pr_debug("who: cgroup %s: no pod %s in %s", path, uid, w->pods_dir);
		return;
	}
	e->state = WHO_POD;
	counter_inc(&c_who_resolved);
}

const struct who_pod *who_lookup(struct who *w, uint64_t id, uint64_t now_ns)
{
	uint64_t hsh = id * 0x9e3779b97f4a7c15ull;
	struct who_entry *set = &w->tab[(hsh >> 40) % (WHO_CACHE_SIZE / WHO_WAYS) * WHO_WAYS];
	struct who_entry *e = NULL;

	if (!id || w->mount_fd < 0)
		return NULL;
	for (int i = 0; i < WHO_WAYS && !e; i++)
		if (set[i].state != WHO_FREE && set[i].id == id)
			e = &set[i];
	if (!e) {
		e = &set[0];
		for (int i = 1; i < WHO_WAYS; i++)
			if (set[i].state == WHO_FREE ||
			    (e->state != WHO_FREE && set[i].used_ns < e->used_ns))
				e = &set[i];
		if (e->state != WHO_FREE)
			counter_inc(&c_who_evicted);
		e->id = id;
		who_resolve(w, e, now_ns);
	} else if (e->state == WHO_UNRESOLVED && now_ns >= e->retry_ns) {
		who_resolve(w, e, now_ns);
	}
	e->used_ns = now_ns;
	return e->state == WHO_POD ? &e->pod : NULL;
}
