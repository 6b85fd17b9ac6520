// SPDX-License-Identifier: Apache-2.0
/*
 * test_pcapng.c - pano-agent's pcapng output without the kernel: the sender comment exactly
 * (each key only when known, hostile bytes replaced, the longest values whole), the blocks'
 * layout, and files written through out_file (--write X.pcapng, rotation, stdout) read back by
 * tshark (interface names, comments and directions, field by field), by libpcap (frames and
 * timestamps in both resolutions) and accepted by capinfos.
 */
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture_api.h"
#include "check.h"
#include "log.h"
#include "output.h"
#include "who.h"

static char tmpdir[] = "/tmp/pano-pcapng.XXXXXX";
static int have_tshark;

static const struct who_pod pod_a = {"default", "client-a", "app"};
static const struct who_pod pod_nocont = {"kube-system", "coredns-5d78c9869d-x2x7w", ""};

static void mkrec(struct pano_rec *r, uint8_t *frame, uint32_t seq, uint32_t caplen)
{
	memset(r, 0, sizeof(*r));
	r->ts_ns = 1700000000ull * 1000000000ull + seq * 1000003ull + 7;
	r->caplen = caplen;
	r->len = caplen + 10;
	for (uint32_t i = 0; i < caplen; i++)
		frame[i] = (uint8_t)(seq * 31 + i);
}

static void who(struct pano_rec *r, uint64_t cgroup, uint32_t pid, const char *comm)
{
	r->cgroup_id = cgroup;
	r->flags = cgroup ? PANO_RF_SOCKET : 0;
	r->pid = pid;
	memset(r->comm, 0, sizeof(r->comm));
	memcpy(r->comm, comm, strnlen(comm, sizeof(r->comm)));
}

static const char *comment_of(const struct pano_rec *r, const struct who_pod *pod)
{
	static char c[PCAPNG_COMMENT_MAX];
	size_t n = pcapng_comment(c, r, pod);
	CHECK_EQ_INT(n, strlen(c));
	return c;
}

static void test_comment(void)
{
	struct pano_rec r;
	uint8_t frame[1];

	mkrec(&r, frame, 0, 0);
	who(&r, 0, 1234, "dig"); /* no socket: no comment, whatever else is set */
	CHECK_EQ_STR(comment_of(&r, &pod_a), "");
	who(&r, 4242, 1234, "dig");
	CHECK_EQ_STR(comment_of(&r, &pod_a),
		     "cgroup=4242 pid=1234 pod=default/client-a container=app comm=dig");
	CHECK_EQ_STR(comment_of(&r, NULL), "cgroup=4242 pid=1234 comm=dig");
	who(&r, 4242, 0, "");
	CHECK_EQ_STR(comment_of(&r, NULL), "cgroup=4242");
	CHECK_EQ_STR(comment_of(&r, &pod_nocont),
		     "cgroup=4242 pod=kube-system/coredns-5d78c9869d-x2x7w");
	who(&r, UINT64_MAX, UINT32_MAX, "0123456789abcdef"); /* comm: all 16 bytes, no NUL */
	CHECK_EQ_STR(comment_of(&r, NULL),
		     "cgroup=18446744073709551615 pid=4294967295 comm=0123456789abcdef");
	/* comm takes the rest: spaces stay; control bytes and broken UTF-8 become '?', valid
	 * UTF-8 stays */
	who(&r, 7, 9, "my proc");
	CHECK_EQ_STR(comment_of(&r, NULL), "cgroup=7 pid=9 comm=my proc");
	who(&r, 7, 9, "a\nb\tc\x7f");
	CHECK_EQ_STR(comment_of(&r, NULL), "cgroup=7 pid=9 comm=a?b?c?");
	who(&r, 7, 9, "caf\xc3\xa9 \xc3 \xff\xed\xa0\x80");
	CHECK_EQ_STR(comment_of(&r, NULL), "cgroup=7 pid=9 comm=caf\xc3\xa9 ? ????");
	who(&r, 7, 9, "\xe2\x82\xac\xf0\x9f\x98\x80\xc0\xaf");
	CHECK_EQ_STR(comment_of(&r, NULL), "cgroup=7 pid=9 comm=\xe2\x82\xac\xf0\x9f\x98\x80??");
	/* a cut-off sequence at the end of comm */
	who(&r, 7, 9, "abcdefghijklmn\xe2");
	CHECK_EQ_STR(comment_of(&r, NULL), "cgroup=7 pid=9 comm=abcdefghijklmn?");
	/* fields before comm never hold a space */
	struct who_pod odd = {"a b", "p\nq", "c d"};
	CHECK_EQ_STR(comment_of(&r, &odd),
		     "cgroup=7 pid=9 pod=a?b/p?q container=c?d comm=abcdefghijklmn?");

	/* The longest values fit whole. */
	struct who_pod big;
	char want[PCAPNG_COMMENT_MAX];
	memset(&big, 0, sizeof(big));
	memset(big.ns, 'n', sizeof(big.ns) - 1);
	memset(big.pod, 'p', sizeof(big.pod) - 1);
	memset(big.container, 'c', sizeof(big.container) - 1);
	who(&r, UINT64_MAX, UINT32_MAX, "0123456789abcde");
	snprintf(want, sizeof(want), "cgroup=%llu pid=%u pod=%s/%s container=%s comm=%s",
		 (unsigned long long)UINT64_MAX, UINT32_MAX, big.ns, big.pod, big.container,
		 "0123456789abcde");
	CHECK_EQ_STR(comment_of(&r, &big), want);
	CHECK(strlen(want) < PCAPNG_COMMENT_MAX);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

/* A block is well formed: its length is a multiple of 4 and repeated at its end. */
static int block_ok(const uint8_t *b, size_t n, uint32_t type)
{
	return n % 4 == 0 && get32(b) == type && get32(b + 4) == n && get32(b + n - 4) == n;
}

static void test_blocks(void)
{
	static uint8_t b[PCAPNG_SHB_MAX + PANO_SNAPLEN_MAX + PCAPNG_COMMENT_MAX + 64];
	struct pano_rec r;
	uint8_t frame[64];
	size_t n;

	n = pcapng_encode_shb(b);
	CHECK(n <= PCAPNG_SHB_MAX);
	CHECK(block_ok(b, n, 0x0a0d0d0a));
	CHECK_EQ_INT(get32(b + 8), 0x1a2b3c4d);
	CHECK_EQ_INT(get16(b + 12), 1);
	CHECK_EQ_INT(get16(b + 14), 0);
	CHECK(memcmp(b + 16, "\xff\xff\xff\xff\xff\xff\xff\xff", 8) == 0);

	/* IDB: linktype, snaplen, if_name "eth0" (4 bytes, no padding), if_tsresol, end */
	n = pcapng_encode_idb(b, "eth0", 1518, 1);
	CHECK_EQ_INT(n, 16 + 8 + 8 + 4 + 4);
	CHECK(block_ok(b, n, 1));
	CHECK_EQ_INT(get16(b + 8), 1);
	CHECK_EQ_INT(get32(b + 12), 1518);
	CHECK_EQ_INT(get16(b + 16), 2);
	CHECK_EQ_INT(get16(b + 18), 4);
	CHECK(memcmp(b + 20, "eth0", 4) == 0);
	CHECK_EQ_INT(get16(b + 24), 9);
	CHECK_EQ_INT(get16(b + 26), 1);
	CHECK_EQ_INT(b[28], 9);
	CHECK_EQ_INT(get32(b + 32), 0);
	/* the longest name fits; no name: no if_name */
	CHECK(pcapng_encode_idb(b, "fifteen-chars-x", 9216, 0) <= PCAPNG_IDB_MAX);
	CHECK_EQ_INT(b[28 + 12], 6);
	n = pcapng_encode_idb(b, NULL, 9216, 0);
	CHECK_EQ_INT(n, 16 + 8 + 4 + 4);
	CHECK_EQ_INT(get16(b + 16), 9);

	/* EPB: 61 bytes padded to 64, the comment (11 bytes padded to 12), flags outbound */
	mkrec(&r, frame, 3, 61);
	r.ifindex = 9;
	r.dir = PANO_DIR_OUT;
	n = pcapng_encode_epb(b, 5, &r, frame, "cgroup=4242", 11, 0);
	CHECK_EQ_INT(n, pcapng_epb_len(61, 11));
	CHECK_EQ_INT(n, 28 + 64 + 4 + 12 + 8 + 4 + 4);
	CHECK(block_ok(b, n, 6));
	CHECK_EQ_INT(get32(b + 8), 5);
	uint64_t us = r.ts_ns / 1000;
	CHECK_EQ_INT(get32(b + 12), (uint32_t)(us >> 32));
	CHECK_EQ_INT(get32(b + 16), (uint32_t)us);
	CHECK_EQ_INT(get32(b + 20), 61);
	CHECK_EQ_INT(get32(b + 24), 71);
	CHECK(memcmp(b + 28, frame, 61) == 0 && memcmp(b + 89, "\0\0\0", 3) == 0);
	CHECK_EQ_INT(get16(b + 92), 1);
	CHECK_EQ_INT(get16(b + 94), 11);
	CHECK(memcmp(b + 96, "cgroup=4242\0", 12) == 0);
	CHECK_EQ_INT(get16(b + 108), 2);
	CHECK_EQ_INT(get32(b + 112), 2);
	/* no comment, inbound, ns; a len below caplen is raised to caplen as in classic pcap */
	r.dir = PANO_DIR_IN;
	r.len = 10;
	n = pcapng_encode_epb(b, 0, &r, frame, NULL, 0, 1);
	CHECK_EQ_INT(n, pcapng_epb_len(61, 0));
	CHECK(block_ok(b, n, 6));
	CHECK_EQ_INT(((uint64_t)get32(b + 12) << 32) | get32(b + 16), r.ts_ns);
	CHECK_EQ_INT(get32(b + 24), 61);
	CHECK_EQ_INT(get16(b + 92), 2);
	CHECK_EQ_INT(get32(b + 96), 1);
}

/* Runs cmd and returns its standard output (static buffer), or NULL when it failed. */
static const char *run(const char *cmd)
{
	static char out[1 << 16];
	FILE *p = popen(cmd, "r");
	size_t n = 0;

	if (!p)
		return NULL;
	while (n < sizeof(out) - 1) {
		size_t k = fread(out + n, 1, sizeof(out) - 1 - n, p);
		if (!k)
			break;
		n += k;
	}
	out[n] = '\0';
	return pclose(p) == 0 ? out : NULL;
}

/* tshark's view of a file: one line per frame, "interface|comment|direction|epoch|len|caplen". */
static const char *tshark_fields(const char *path)
{
	char cmd[600];

	snprintf(
	    cmd, sizeof(cmd),
	    "tshark -n -r '%s' -T fields -E separator='|' -e frame.interface_name "
	    "-e frame.comment -e frame.packet_flags_direction -e frame.time_epoch -e frame.len "
	    "-e frame.cap_len 2>/dev/null",
	    path);
	return run(cmd);
}

/* capinfos takes the file as pcapng and lists its interfaces by these names (space-separated,
 * in block order). */
static int capinfos_ok(const char *path, const char *names)
{
	char cmd[600], got[512] = "";
	const char *out, *p;
	size_t n = 0;

	snprintf(cmd, sizeof(cmd), "capinfos -M '%s' 2>&1", path);
	out = run(cmd);
	/* "File type: pcapng" (older versions: "Wireshark/... - pcapng") */
	p = out ? strstr(out, "File type:") : NULL;
	size_t l = p ? strcspn(p, "\n") : 0;
	if (!p || l < 7 || memcmp(p + l - 7, " pcapng", 7) != 0) {
		printf("  capinfos %s: %s\n", path, out ? out : "failed");
		return 0;
	}
	for (p = out; (p = strstr(p, "Name = ")); p += 7) {
		size_t l = strcspn(p + 7, "\n");
		n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%.*s", n ? " " : "", (int)l,
				      p + 7);
		if (n >= sizeof(got))
			break;
	}
	if (strcmp(got, names) != 0)
		printf("  capinfos %s: interfaces '%s', want '%s'\n", path, got, names);
	return strcmp(got, names) == 0;
}

/* Reads a file with libpcap: the count of records, -1 when one is not what seq says. */
static int read_frames(const char *path, int nsec, uint32_t first, uint32_t step, uint32_t caplen)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline_with_tstamp_precision(
	    path, nsec ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO, err);
	struct pcap_pkthdr *h;
	const u_char *d;
	int n = 0, bad = 0;

	if (!p) {
		printf("  pcap_open_offline %s: %s\n", path, err);
		return -1;
	}
	while (pcap_next_ex(p, &h, &d) == 1) {
		uint32_t seq = first + (uint32_t)n * step;
		uint64_t ns = 7 + seq * 1000003ull, want = nsec ? ns : ns / 1000;
		int ok = h->caplen == caplen && h->len == caplen + 10 &&
			 h->ts.tv_sec == 1700000000 && (uint64_t)h->ts.tv_usec == want;
		for (uint32_t i = 0; ok && i < caplen; i++)
			ok = d[i] == (uint8_t)(seq * 31 + i);
		if (!ok) {
			printf("  %s: record %d (seq %u) differs\n", path, n, seq);
			bad++;
		}
		n++;
	}
	pcap_close(p);
	return bad ? -1 : n;
}

/*
 * The frames of test_file: on three interfaces (two named by the agent, one it never named:
 * ifindex 1, which the kernel names "lo" in any namespace), both directions, with and without
 * a sender, a pod and a process. Returns the tshark line each should give.
 */
static void file_rec(uint32_t i, struct pano_rec *r, uint8_t *frame, const struct who_pod **pod,
		     char *line, size_t n, int nsec)
{
	static const char *ifn[] = {"veth-a1", "veth-b2", "lo"};
	static const int ifx[] = {1001, 1002, 1};
	char ts[32], dir[16];

	mkrec(r, frame, i, 60 + i % 7);
	r->ifindex = (uint32_t)ifx[i % 3];
	r->dir = (i / 3) % 2 ? PANO_DIR_OUT : PANO_DIR_IN;
	*pod = NULL;
	switch (i % 4) {
	case 0:
		break;
	case 1:
		who(r, 4242, 1234, "dig");
		*pod = &pod_a;
		break;
	case 2:
		who(r, 77, 0, "");
		break;
	case 3:
		who(r, 78, 555, "knot worker");
		*pod = &pod_nocont;
		break;
	}
	uint64_t ns = r->ts_ns;
	if (nsec)
		snprintf(ts, sizeof(ts), "%llu.%09llu", (unsigned long long)(ns / 1000000000ull),
			 (unsigned long long)(ns % 1000000000ull));
	else
		snprintf(ts, sizeof(ts), "%llu.%06llu000", (unsigned long long)(ns / 1000000000ull),
			 (unsigned long long)(ns % 1000000000ull / 1000));
	snprintf(dir, sizeof(dir), "0x%08x", r->dir == PANO_DIR_IN ? 1 : 2);
	snprintf(line, n, "%s|%s|%s|%s|%u|%u\n", ifn[i % 3], comment_of(r, *pod), dir, ts, r->len,
		 r->caplen);
}

static void test_file(void)
{
	static char want[1 << 16];
	char path[256], line[1024];
	struct pano_rec r;
	uint8_t frame[128];
	const struct who_pod *pod;

	for (int nsec = 0; nsec < 2; nsec++) {
		size_t w = 0;
		snprintf(path, sizeof(path), "%s/file%d.pcapng", tmpdir, nsec);
		struct out_file_opts o = {.snaplen = 9216, .nsec = nsec, .format = OUT_PCAPNG};
		struct out_file *f = out_file_open(path, &o);
		CHECK(f != NULL);
		if (!f)
			return;
		out_file_iface_add(f, 1001, "veth-a1");
		out_file_iface_add(f, 1002, "veth-b2");
		uint64_t bytes = 0;
		for (uint32_t i = 0; i < 24; i++) {
			file_rec(i, &r, frame, &pod, line, sizeof(line), nsec);
			CHECK_EQ_INT(out_file_write(f, &r, frame, pod), 0);
			w += (size_t)snprintf(want + w, sizeof(want) - w, "%s", line);
			bytes += pcapng_epb_len(r.caplen, strlen(comment_of(&r, pod)));
		}
		/* accounting: every record sent, its block's bytes counted */
		struct out_stats st;
		out_stats_read(out_file_stats(f), &st);
		CHECK_EQ_INT(st.sent_records, 24);
		CHECK_EQ_INT(st.sent_bytes, bytes);
		CHECK_EQ_INT(st.drop_records, 0);
		out_file_close(f);

		/* libpcap: every frame and timestamp */
		char err[PCAP_ERRBUF_SIZE];
		pcap_t *p = pcap_open_offline(path, err);
		CHECK(p && pcap_datalink(p) == DLT_EN10MB);
		if (p)
			pcap_close(p);
		const char *got = tshark_fields(path);
		CHECK(got != NULL);
		if (got && strcmp(got, want) != 0)
			printf("  tshark read:\n%s  want:\n%s", got, want);
		CHECK(got && strcmp(got, want) == 0);
		CHECK(capinfos_ok(path, "veth-a1 veth-b2 lo"));
	}
}

/* Frames by libpcap, in both resolutions. */
static void test_file_frames(void)
{
	char path[256];
	struct pano_rec r;
	uint8_t frame[128];

	for (int nsec = 0; nsec < 2; nsec++) {
		snprintf(path, sizeof(path), "%s/frames%d.pcapng", tmpdir, nsec);
		struct out_file_opts o = {.snaplen = 1518, .nsec = nsec, .format = OUT_PCAPNG};
		struct out_file *f = out_file_open(path, &o);
		CHECK(f != NULL);
		if (!f)
			return;
		out_file_iface_add(f, 1001, "veth-a1");
		for (uint32_t i = 0; i < 300; i++) {
			mkrec(&r, frame, i, 100);
			r.ifindex = 1001;
			who(&r, i % 2 ? 4242 : 0, 1234, "dig");
			CHECK_EQ_INT(out_file_write(f, &r, frame, i % 4 == 1 ? &pod_a : NULL), 0);
		}
		out_file_close(f);
		CHECK_EQ_INT(read_frames(path, nsec, 0, 1, 100), 300);
	}
}

/* tshark's interface names, one per frame. */
static const char *tshark_ifnames(const char *path)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd),
		 "tshark -n -r '%s' -T fields -e frame.interface_name 2>/dev/null | tr '\\n' ' '",
		 path);
	return run(cmd);
}

/*
 * Rotation by size: every file, finished or current, is a complete pcapng file: its own
 * section header and a block for each interface it has frames of, named.
 */
static void test_rotate(void)
{
	char path[256], p[300];
	struct pano_rec r;
	uint8_t frame[128];
	/* Each file: SHB, two IDBs and four 100-byte frames without comments; a fifth does not
	 * fit. */
	uint8_t b[PCAPNG_SHB_MAX];
	size_t shb = pcapng_encode_shb(b), idb = pcapng_encode_idb(b, "veth-a1", 9216, 0);
	uint64_t limit = shb + 2 * idb + 4 * pcapng_epb_len(100, 0);

	snprintf(path, sizeof(path), "%s/rot.pcapng", tmpdir);
	struct out_file_opts o = {.snaplen = 9216, .rotate_bytes = limit, .format = OUT_PCAPNG};
	struct out_file *f = out_file_open(path, &o);
	CHECK(f != NULL);
	if (!f)
		return;
	out_file_iface_add(f, 1001, "veth-a1");
	out_file_iface_add(f, 1002, "veth-b2");
	for (uint32_t i = 0; i < 10; i++) {
		mkrec(&r, frame, i, 100);
		r.ifindex = i % 2 ? 1002 : 1001;
		CHECK_EQ_INT(out_file_write(f, &r, frame, NULL), 0);
	}
	CHECK_EQ_INT(out_file_rotations(f), 2);
	out_file_close(f);
	struct stat st;
	for (int k = 1; k <= 3; k++) {
		if (k < 3)
			snprintf(p, sizeof(p), "%s.%d", path, k);
		else
			snprintf(p, sizeof(p), "%s", path);
		CHECK(stat(p, &st) == 0 && (uint64_t)st.st_size <= limit);
		CHECK_EQ_INT(read_frames(p, 0, (uint32_t)(k - 1) * 4, 1, 100), k < 3 ? 4 : 2);
		const char *names = tshark_ifnames(p);
		CHECK_EQ_STR(names,
			     k < 3 ? "veth-a1 veth-b2 veth-a1 veth-b2 " : "veth-a1 veth-b2 ");
		CHECK(capinfos_ok(p, "veth-a1 veth-b2"));
	}
}

/*
 * An interface renamed (or a new one under an old index) gets a new block; one the agent
 * detached keeps its name for the frames still in the ring. pcapng on a descriptor (--stdout).
 */
static void test_rename_and_fd(void)
{
	char path[256];
	struct pano_rec r;
	uint8_t frame[128];

	snprintf(path, sizeof(path), "%s/fd.pcapng", tmpdir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	struct out_file_opts o = {.snaplen = 9216, .format = OUT_PCAPNG};
	struct out_file *f = out_file_fdopen(fd, "stdout", &o);
	CHECK(f != NULL);
	if (!f)
		return;
	for (uint32_t i = 0; i < 5; i++) {
		if (i == 0)
			out_file_iface_add(f, 2001, "first");
		if (i == 1)
			out_file_iface_add(f, 2001, "second");
		if (i == 3)
			out_file_iface_add(f, 2002, "other");
		if (i == 4)
			out_file_iface_del(f, 2001);
		mkrec(&r, frame, i, 80);
		r.ifindex = i == 3 ? 2002 : 2001;
		CHECK_EQ_INT(out_file_write(f, &r, frame, NULL), 0);
	}
	CHECK_EQ_INT(out_file_flush(f), 0);
	out_file_close(f);
	CHECK_EQ_INT(read_frames(path, 0, 0, 1, 80), 5);
	CHECK_EQ_STR(tshark_ifnames(path), "first second second other second ");
	CHECK(capinfos_ok(path, "first second other"));
}

int main(void)
{
	log_init("test_pcapng", 0);
	if (!mkdtemp(tmpdir)) {
		printf("FAIL setup: mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	have_tshark = system("command -v tshark >/dev/null 2>&1 && "
			     "command -v capinfos >/dev/null 2>&1") == 0;
	TEST_CASE("pcapng_comment", test_comment);
	TEST_CASE("pcapng_blocks", test_blocks);
	TEST_CASE("pcapng_file_frames", test_file_frames);
	if (have_tshark) {
		TEST_CASE("pcapng_file_tshark", test_file);
		TEST_CASE("pcapng_rotate", test_rotate);
		TEST_CASE("pcapng_rename_and_stdout", test_rename_and_fd);
	} else {
		TEST_SKIP("pcapng_file_tshark", "tshark or capinfos not installed");
		TEST_SKIP("pcapng_rotate", "tshark or capinfos not installed");
		TEST_SKIP("pcapng_rename_and_stdout", "tshark or capinfos not installed");
	}
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		printf("  could not remove %s\n", tmpdir);
	TEST_EXIT();
}
