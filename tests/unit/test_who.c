// SPDX-License-Identifier: Apache-2.0
/*
 * test_who.c - naming who sent a frame: the kubelet cgroup layouts the agent reads a pod uid and
 * container id from (agent/who.c), the cgroup2 mount found in a mounts file, the pcapng comment
 * the analyzer reads senders back from, and the analyzer's bounded sender table
 * (analyzer/sender.c), and lookups through the live cgroup2 tree (as root): a kubelet-style
 * container cgroup with its log tree, a host cgroup, a vanished cgroup, a pod with no log
 * directory, no log tree at all.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "counter.h"
#include "sender.h"
#include "who.h"

static const char *cid64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/* uid and container id of path, or "-" for a path that names no container. */
static void parse(const char *path, char *uid, char *cid)
{
	if (who_parse_cgroup_path(path, uid, 64, cid, 80)) {
		strcpy(uid, "-");
		strcpy(cid, "-");
	}
}

static void t_cgroup_layouts(void)
{
	char p[512], uid[64], cid[80];

	/* systemd driver, containerd */
	snprintf(p, sizeof(p),
		 "/kubepods.slice/kubepods-besteffort.slice/"
		 "kubepods-besteffort-pod3f1c_22aa_4b0e_9d1e_0a1b2c3d4e5f.slice/"
		 "cri-containerd-%s.scope",
		 cid64);
	parse(p, uid, cid);
	CHECK_EQ_STR(uid, "3f1c-22aa-4b0e-9d1e-0a1b2c3d4e5f");
	CHECK_EQ_STR(cid, cid64);
	/* guaranteed QoS (no QoS slice), CRI-O */
	snprintf(p, sizeof(p), "/kubepods.slice/kubepods-pod1234_5678.slice/crio-%s.scope", cid64);
	parse(p, uid, cid);
	CHECK_EQ_STR(uid, "1234-5678");
	CHECK_EQ_STR(cid, cid64);
	/* docker */
	snprintf(p, sizeof(p),
		 "/kubepods.slice/kubepods-burstable.slice/"
		 "kubepods-burstable-podab_cd.slice/docker-%s.scope",
		 cid64);
	parse(p, uid, cid);
	CHECK_EQ_STR(uid, "ab-cd");
	CHECK_EQ_STR(cid, cid64);
	/* cgroupfs driver */
	snprintf(p, sizeof(p), "/kubepods/besteffort/pod9a8b7c6d-1111-2222-3333-444455556666/%s",
		 cid64);
	parse(p, uid, cid);
	CHECK_EQ_STR(uid, "9a8b7c6d-1111-2222-3333-444455556666");
	CHECK_EQ_STR(cid, cid64);
	/* not containers: the pod's own slice, CRI-O's conmon, host services, garbage */
	parse("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podab_cd.slice", uid,
	      cid);
	CHECK_EQ_STR(uid, "-");
	snprintf(p, sizeof(p), "/kubepods.slice/kubepods-podab.slice/crio-conmon-%s.scope", cid64);
	parse(p, uid, cid);
	CHECK_EQ_STR(uid, "-");
	parse("/system.slice/sshd.service", uid, cid);
	CHECK_EQ_STR(uid, "-");
	parse("/", uid, cid);
	CHECK_EQ_STR(uid, "-");
	parse("/kubepods/besteffort/podX/not-hex-at-all-zzzzzzzz", uid, cid);
	CHECK_EQ_STR(uid, "-");
	parse("/kubepods/pod/abcdefabcdef", uid, cid); /* empty uid */
	CHECK_EQ_STR(uid, "-");
}

static void t_cgroup2_mount(void)
{
	char path[] = "/tmp/test_who_mountsXXXXXX", out[256];
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	fputs("sysfs /sys sysfs rw 0 0\n"
	      "cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0\n"
	      "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n",
	      f);
	fclose(f);
	CHECK_EQ_INT(who_find_cgroup2(path, out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "/sys/fs/cgroup/unified");
	f = fopen(path, "w");
	fputs("proc /proc proc rw 0 0\n", f);
	fclose(f);
	CHECK(who_find_cgroup2(path, out, sizeof(out)) < 0);
	unlink(path);
	CHECK(who_find_cgroup2("/nonexistent/mounts", out, sizeof(out)) < 0);
}

static int eq(const char *s, uint32_t n, const char *want)
{
	return n == strlen(want) && memcmp(s, want, n) == 0;
}

static void t_comment(void)
{
	struct pano_sender s;
	const char *c = "cgroup=4242 pid=1234 pod=default/client-a container=app comm=Web Content";

	CHECK_EQ_INT(sender_parse_comment(c, strlen(c), &s), 0);
	CHECK_EQ_INT(s.cgroup_id, 4242);
	CHECK_EQ_INT(s.pid, 1234);
	CHECK(eq(s.ns, s.ns_len, "default"));
	CHECK(eq(s.pod, s.pod_len, "client-a"));
	CHECK(eq(s.container, s.container_len, "app"));
	CHECK(eq(s.comm, s.comm_len, "Web Content")); /* comm takes the rest, spaces and all */
	c = "cgroup=7 comm=knotd";		      /* a host process: no pod */
	CHECK_EQ_INT(sender_parse_comment(c, strlen(c), &s), 0);
	CHECK_EQ_INT(s.pid, 0);
	CHECK_EQ_INT(s.pod_len, 0);
	CHECK(eq(s.comm, s.comm_len, "knotd"));
	c = "cgroup=9";
	CHECK_EQ_INT(sender_parse_comment(c, strlen(c), &s), 0);
	/* other comments are not senders */
	static const char *const bad[] = {"hello world",
					  "",
					  "cgroup=",
					  "cgroup=12x",
					  "pid=3 cgroup=4",
					  "cgroup=1 pod=nopodslash",
					  "cgroup=1 pid=99999999999",
					  "cgroup=1 zzz=2"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ_INT(sender_parse_comment(bad[i], strlen(bad[i]), &s), -1);
}

static void t_sender_table(void)
{
	struct sender_table *t = sender_table_new(4); /* one set of four */
	struct pano_sender a = {.pid = 10, .comm = "dig", .comm_len = 3};
	struct sender_ref ra, rb, r[5];
	const struct sender_rec *e;
	uint64_t lost = counter_get(counter_find("sender_lost"));

	ra = sender_intern(t, &a, 1);
	rb = sender_intern(t, &a, 2);
	CHECK(ra.gen != 0);
	CHECK(ra.slot == rb.slot && ra.gen == rb.gen);
	e = sender_get(t, ra);
	CHECK(e && e->pid == 10 && strcmp(e->comm, "dig") == 0 && e->pod[0] == 0);
	/* nobody, and nothing known, is no entry */
	struct pano_sender none = {.cgroup_id = 5};
	CHECK_EQ_INT(sender_intern(t, &none, 3).gen, 0);
	CHECK_EQ_INT(sender_intern(t, NULL, 3).gen, 0);
	CHECK(sender_get(t, (struct sender_ref){0, 0}) == NULL);
	/* five more senders in four slots: the least recently used go, and a reference to a
	 * replaced entry reads as nobody (counted), never as the newcomer */
	for (int i = 0; i < 5; i++) {
		struct pano_sender s = {.pid = 100 + i, .comm = "x", .comm_len = 1};
		r[i] = sender_intern(t, &s, 10 + i);
	}
	CHECK(sender_get(t, ra) == NULL);
	CHECK(sender_get(t, r[0]) == NULL);
	e = sender_get(t, r[4]);
	CHECK(e && e->pid == 104);
	CHECK_EQ_INT(counter_get(counter_find("sender_lost")) - lost, 2);
	/* long fields are cut to fit, NUL-terminated */
	char longpod[400];
	memset(longpod, 'p', sizeof(longpod));
	struct pano_sender l = {
	    .pid = 1, .pod = longpod, .pod_len = sizeof(longpod), .ns = "n", .ns_len = 1};
	e = sender_get(t, sender_intern(t, &l, 99));
	CHECK(e && strlen(e->pod) == SENDER_POD_LEN - 1);
	sender_table_free(t);
}

static uint64_t cnt(const char *name)
{
	return counter_get(counter_find(name));
}

static uint64_t ino(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : (uint64_t)st.st_ino;
}

static void mkdirs(const char *path)
{
	char p[512];

	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = 0;
			mkdir(p, 0755);
			*s = '/';
		}
	mkdir(p, 0755);
}

static void t_lookup(void)
{
	char cg2[256], base[300], podcg[400], ctr[500], other[500], root[] = "/tmp/test_whoXXXXXX";
	char logd[700], link[900], target[800];
	const char *uid = "aaaa1111-2222-3333-4444-555566667777";
	const struct who_pod *p;
	struct who *w;

	if (getuid() != 0 || who_find_cgroup2("/proc/mounts", cg2, sizeof(cg2))) {
		printf("  (not root or no cgroup2 mount: lookups not tried)\n");
		return;
	}
	CHECK(mkdtemp(root) != NULL);
	snprintf(base, sizeof(base), "%s/test_who_%d", cg2, getpid());
	snprintf(podcg, sizeof(podcg), "%s/kubepods/besteffort/pod%s", base, uid);
	snprintf(ctr, sizeof(ctr), "%s/%s", podcg, cid64);
	snprintf(other, sizeof(other), "%s/%.63s1", podcg, cid64); /* another container */
	mkdirs(ctr);
	mkdirs(other);
	snprintf(logd, sizeof(logd), "%s/var/log/pods/team_web-0_%s/nginx", root, uid);
	mkdirs(logd);
	snprintf(logd, sizeof(logd), "%s/var/log/pods/team_web-0_%s/sidecar", root, uid);
	mkdirs(logd);
	snprintf(target, sizeof(target), "%s/var/log/containers", root);
	mkdirs(target);
	snprintf(link, sizeof(link), "%s/var/log/containers/web-0_team_nginx-%s.log", root, cid64);
	CHECK(symlink("/nonexistent/0.log", link) == 0);

	w = who_open(cg2, root);
	CHECK(w != NULL);
	/* a container: namespace, pod and container (from the /var/log/containers link) */
	uint64_t res = cnt("who_cgroups_resolved");
	p = who_lookup(w, ino(ctr), 1);
	CHECK(p && !strcmp(p->ns, "team") && !strcmp(p->pod, "web-0") &&
	      !strcmp(p->container, "nginx"));
	CHECK_EQ_INT(cnt("who_cgroups_resolved") - res, 1);
	p = who_lookup(w, ino(ctr), 2); /* cached: not resolved again */
	CHECK(p && !strcmp(p->pod, "web-0"));
	CHECK_EQ_INT(cnt("who_cgroups_resolved") - res, 1);
	/* a container without a link, in a pod of two containers: the pod, no container name */
	p = who_lookup(w, ino(other), 3);
	CHECK(p && !strcmp(p->pod, "web-0") && p->container[0] == 0);
	/* a host cgroup: no pod, counted as resolved */
	CHECK(who_lookup(w, ino(base), 4) == NULL);
	CHECK_EQ_INT(cnt("who_cgroups_resolved") - res, 3);
	/* a cgroup that vanished: no pod, counted, asked again only after the retry time */
	uint64_t gone = ino(other) + 1000000, van = cnt("who_cgroup_vanished");
	CHECK(who_lookup(w, gone, 5) == NULL);
	CHECK(who_lookup(w, gone, 6) == NULL);
	CHECK_EQ_INT(cnt("who_cgroup_vanished") - van, 1);
	CHECK(who_lookup(w, gone, 6 + WHO_RETRY_NS) == NULL);
	CHECK_EQ_INT(cnt("who_cgroup_vanished") - van, 2);
	who_close(w);

	/* a pod with no log directory (deleted, or not yet there), then no log tree at all */
	snprintf(logd, sizeof(logd), "rm -rf %s/var/log/pods/team_web-0_%s", root, uid);
	CHECK(system(logd) == 0);
	w = who_open(cg2, root);
	uint64_t unk = cnt("who_pod_unknown"), notree = cnt("who_log_tree_missing");
	CHECK(who_lookup(w, ino(ctr), 1) == NULL);
	CHECK_EQ_INT(cnt("who_pod_unknown") - unk, 1);
	who_close(w);
	w = who_open(cg2, "/nonexistent/root");
	CHECK(who_lookup(w, ino(ctr), 1) == NULL);
	CHECK_EQ_INT(cnt("who_log_tree_missing") - notree, 1);
	who_close(w);
	/* no cgroup2 mount at all: nothing resolves, nothing crashes */
	w = who_open("/nonexistent/cgroup2", root);
	CHECK(w && who_cgroup2(w) == NULL && who_lookup(w, ino(ctr), 1) == NULL);
	who_close(w);

	rmdir(ctr);
	rmdir(other);
	rmdir(podcg);
	snprintf(podcg, sizeof(podcg), "%s/kubepods/besteffort", base);
	rmdir(podcg);
	snprintf(podcg, sizeof(podcg), "%s/kubepods", base);
	rmdir(podcg);
	CHECK(rmdir(base) == 0);
	snprintf(logd, sizeof(logd), "rm -rf %s", root);
	CHECK(system(logd) == 0);
}

/* The cache is bounded: more cgroups than it holds replace the least recently used. */
static void t_cache_bound(void)
{
	char cg2[256];
	struct who *w;
	uint64_t ev = cnt("who_cache_evictions");

	if (getuid() != 0 || who_find_cgroup2("/proc/mounts", cg2, sizeof(cg2)))
		return;
	w = who_open(cg2, "/nonexistent");
	for (uint64_t i = 0; i < 2 * WHO_CACHE_SIZE; i++)
		who_lookup(w, 0x7000000000000000ull + i, i);
	CHECK(cnt("who_cache_evictions") - ev >= WHO_CACHE_SIZE);
	who_close(w);
}

int main(void)
{
	TEST_CASE("who_cgroup_layouts", t_cgroup_layouts);
	TEST_CASE("who_cgroup2_mount", t_cgroup2_mount);
	TEST_CASE("sender_pcapng_comment", t_comment);
	TEST_CASE("sender_table_bounded", t_sender_table);
	TEST_CASE("who_lookup_live_cgroups", t_lookup);
	TEST_CASE("who_cache_bounded", t_cache_bound);
	TEST_EXIT();
}
