// SPDX-License-Identifier: Apache-2.0
/*
 * main.c - pano-agent: options, start-up, the main loop and a clean stop. The loop reads the
 * capture ring (capture_api.h) and hands every record to the outputs (output.h): pcap or pcapng
 * files, standard output, the PCAP-over-TCP server, the protobuf stream. Interfaces come and go
 * through ifwatch.c; /metrics is served by lib/httpd.c from metrics.c. Logs go to stderr only, so
 * --stdout carries nothing but the capture.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "capture_api.h"
#include "httpd.h"
#include "ifwatch.h"
#include "live.h"
#include "log.h"
#include "opt.h"
#include "metrics.h"
#include "out_proto.h"
#include "output.h"
#include "who.h"

static volatile sig_atomic_t agent_stop;

struct agent {
	struct capture *cap;
	struct out_file *file, *out;
	struct pcap_server *srv;
	/* srv's records, pointing into the capture ring (held there until handed over): each
	 * record's pcap header and frame, written by the BPF program, sent without a copy */
	struct iovec iov[PCAP_SERVER_IOV_MAX];
	uint32_t niov;
	size_t iov_len;
	size_t iov_len_max; /* hand over at this many bytes: the ring space held stays small */
	struct out_proto *proto; /* --connect */
	struct ifwatch *ifw;
	struct who *who; /* cgroup id -> pod, for the outputs that carry it */
	uint64_t who_frames[2]; /* frames with a sender cgroup, and with a process too */
	uint64_t csum_partial_frames; /* frames whose L4 checksum was left to offload */
	int want_who; /* an output carries the pod (--connect, pcapng) */
	struct httpd *http;
	struct agent_metrics m;
	struct conf_watch *conf; /* --config */
};

static void agent_usage(FILE *f)
{
	fprintf(f,
		"Usage: pano-agent --iface LIST|all OUTPUT... [options]\n"
		"Capture DNS (or other configured ports) with eBPF and ship the frames as pcap.\n"
		"\n"
		"Interfaces:\n"
		"  -i, --iface LIST         eth0,eth1 or 'all' (every up non-loopback Ethernet\n"
		"                           interface, including those that appear later)\n"
		"  -m, --mode tc|xdp        TC ingress+egress (default) or XDP ingress only\n"
		"Filter:\n"
		"  -p, --ports LIST         ports on either side (default 53)\n"
		"  -t, --transports LIST    udp,tcp (default both)\n"
		"      --tcp-head LIST      TCP on these ports (either side): only segments that\n"
		"                           start in the first SIZE bytes of each direction;\n"
		"                           LIST is PORTS:SIZE[,PORTS:SIZE...], e.g. 443,853:16K\n"
		"                           (TLS handshakes in, bulk out); SYN, FIN and RST\n"
		"                           always; the ports join --ports (see README)\n"
		"      --tcp-head-conns N   connections the head table tracks (default %d;\n"
		"                           the least recently used is forgotten first)\n"
		"  -s, --snaplen N          bytes kept per frame (default %d, max %d)\n"
		"      --ring-size BYTES    each CPU's ring buffer, power of two (default: 8M over\n"
		"                           the CPUs, 1M at least each)\n"
		"      --dedup on|off       capture a packet once per node, at the first hook\n"
		"                           that sees it (default on; see README)\n"
		"      --config FILE        ports, tcp-head, transports, snaplen and dedup as\n"
		"                           'key = value' lines, re-read on SIGHUP and when FILE\n"
		"                           changes and applied without a capture gap; a bad\n"
		"                           file is refused and the settings stay (a key belongs\n"
		"                           in the file or on the command line, not both; see\n"
		"                           README)\n"
		"Who sent each frame:\n"
		"      --cgroup-root DIR    the cgroup2 mount (default: found in /proc/mounts)\n"
		"      --k8s-root DIR       where var/log/pods and var/log/containers are, to name\n"
		"                           pods and containers (default /)\n"
		"Outputs (at least one):\n"
		"  -l, --pcap-listen ADDR:PORT  PCAP-over-TCP server (default address 127.0.0.1,\n"
		"                           conventional port %d)\n"
		"  -w, --write FILE         pcap file (pcapng when FILE ends in .pcapng); finished\n"
		"                           rotated files become FILE.1, FILE.2...\n"
		"      --rotate-size BYTES  start a new file before FILE would exceed BYTES\n"
		"      --rotate-seconds N   start a new file when FILE is N seconds old\n"
		"      --stdout             pcap on standard output (e.g. | tcpdump -r -)\n"
		"      --format pcap|pcapng format of --write and --stdout (default pcap, or pcapng\n"
		"                           for a --write FILE ending in .pcapng); pcapng names\n"
		"                           each interface, and gives each frame its direction\n"
		"                           and, when known, its sender as a comment (see README)\n"
		"      --nanosecond         nanosecond timestamps (pcap magic a1b23c4d, pcapng\n"
		"                           if_tsresol 9)\n"
		"      --client-queue BYTES per PCAP-over-TCP client queue (default 4M)\n"
		"      --max-clients N      PCAP-over-TCP clients at once (default 64); a new one\n"
		"                           beyond closes the most idle\n"
		"      --clients-per-source N  PCAP-over-TCP clients from one address (default %d)\n"
		"Protobuf stream to pano-analyzer --listen:\n"
		"      --connect HOST:PORT  stream batches of frames, hello and stats (reconnects)\n"
		"      --node NAME          node name carried in the stream (default: host name)\n"
		"      --tls-cert FILE      TLS certificate (PEM): client cert for --connect, server\n"
		"                           cert for --pcap-listen (then PCAP-over-TLS)\n"
		"      --tls-key FILE       its private key\n"
		"      --tls-ca FILE        CA the peer's certificate must chain to (--connect: the\n"
		"                           analyzer; --pcap-listen: clients must present one)\n"
		"      --connect-queue BYTES  frames buffered for --connect until the analyzer\n"
		"                             acknowledges them (default 8M)\n"
		"Other:\n"
		"      --metrics ADDR:PORT  Prometheus /metrics and /healthz\n"
		"  -v, --verbose            more messages (twice: libbpf debug)\n"
		"  -h, --help               this text\n"
		"  -V, --version            version\n"
		"BYTES take a k, M or G suffix (powers of 1024).\n",
		PANO_TCP_HEAD_CONNS_DEFAULT, PANO_SNAPLEN_DEFAULT, PANO_SNAPLEN_MAX, PCAP_SERVER_PORT,
		PCAP_SERVER_PER_SOURCE);
}

static void agent_on_signal(int sig)
{
	agent_stop = 1;
}

/* The format --write picks by itself: pcapng for a name ending in .pcapng, else pcap. */
static enum out_format agent_path_format(const char *path)
{
	size_t n = path ? strlen(path) : 0;

	return n >= 7 && strcmp(path + n - 7, ".pcapng") == 0 ? OUT_PCAPNG : OUT_PCAP;
}

/* Hands the gathered records to the PCAP-over-TCP server, then gives them back to the ring. */
static void agent_flush_batch(struct agent *a)
{
	if (!a->srv)
		return;
	if (a->niov) {
		pcap_server_write_iov(a->srv, a->iov, a->niov, a->iov_len);
		a->niov = 0;
		a->iov_len = 0;
	}
	capture_release(a->cap);
}

/*
 * Per record: the files and the protobuf stream copy it; the server's records are only
 * gathered (pointers into the ring) and handed over when PCAP_SERVER_IOV_MAX records or
 * iov_len_max bytes are there or the round ends, after the other outputs are done with them.
 */
static void agent_on_record(void *ctx, const struct pano_rec *rec, const uint8_t *frame)
{
	struct agent *a = ctx;

	if (rec->cgroup_id) {
		/* one writer; /metrics reads them with relaxed loads */
		__atomic_store_n(&a->who_frames[0], a->who_frames[0] + 1, __ATOMIC_RELAXED);
		if (rec->pid)
			__atomic_store_n(&a->who_frames[1], a->who_frames[1] + 1, __ATOMIC_RELAXED);
	}
	if (rec->flags & PANO_RF_CSUM_PARTIAL)
		__atomic_store_n(&a->csum_partial_frames, a->csum_partial_frames + 1,
				 __ATOMIC_RELAXED);
	const struct who_pod *pod =
	    rec->cgroup_id && a->want_who ? who_lookup(a->who, rec->cgroup_id, rec->ts_ns) : NULL;

	if (a->file)
		out_file_write(a->file, rec, frame, pod);
	if (a->out)
		out_file_write(a->out, rec, frame, pod);
	if (a->proto)
		out_proto_write(a->proto, rec, frame, pod);
	if (a->srv) {
		size_t n = sizeof(rec->pcap) + rec->caplen;

		a->iov[a->niov].iov_base = (void *)&rec->pcap; /* frame follows: one pcap record */
		a->iov[a->niov++].iov_len = n;
		a->iov_len += n;
		if (a->niov == PCAP_SERVER_IOV_MAX || a->iov_len >= a->iov_len_max)
			agent_flush_batch(a);
	}
}

/* Reads the ring: with the PCAP-over-TCP server, records stay there until agent_flush_batch. */
static int agent_poll(struct agent *a, int timeout_ms)
{
	if (a->srv)
		return capture_poll_hold(a->cap, timeout_ms, agent_on_record, a);
	return capture_poll(a->cap, timeout_ms, agent_on_record, a);
}

/* ifwatch callbacks: remove what a crashed agent left, then attach. */
static int agent_attach(void *ctx, int ifindex, const char *name)
{
	struct agent *a = ctx;
	int err = capture_cleanup_stale(ifindex);

	if (err && err != -ENOENT)
		pr_warn("%s: removing stale PANO filters: %s", name, strerror(-err));
	err = capture_attach(a->cap, ifindex);
	if (err)
		return err;
	if (a->proto)
		out_proto_iface_add(a->proto, ifindex, name);
	if (a->file)
		out_file_iface_add(a->file, ifindex, name);
	if (a->out)
		out_file_iface_add(a->out, ifindex, name);
	return 0;
}

static void agent_detach(void *ctx, int ifindex, const char *name, int gone)
{
	struct agent *a = ctx;
	int err = capture_detach(a->cap, ifindex);

	if (a->proto)
		out_proto_iface_del(a->proto, ifindex);
	if (a->file)
		out_file_iface_del(a->file, ifindex);
	if (a->out)
		out_file_iface_del(a->out, ifindex);

	if (err && !gone)
		pr_warn("detach from %s: %s", name, strerror(-err));
}

static int agent_read_bpf(void *ctx, uint64_t *out)
{
	return capture_read_stats(ctx, out);
}

static uint64_t agent_bad_records(void *ctx)
{
	return capture_bad_records(ctx);
}

/* After each batch from the ring: push buffered bytes out, wake the server, follow links. */
static int agent_after_batch(struct agent *a, int got)
{
	agent_flush_batch(a);
	if (a->file)
		out_file_flush(a->file);
	if (a->out && out_file_flush(a->out) == -EPIPE && !a->file && !a->srv) {
		pr_info("standard output closed and it was the only output: stopping");
		return -EPIPE;
	}
	if (a->srv && got > 0)
		pcap_server_kick(a->srv);
	if (a->proto && got > 0)
		out_proto_kick(a->proto);
	if (a->ifw)
		return ifwatch_process(a->ifw);
	return 0;
}

static void agent_final_stats(struct agent *a)
{
	uint64_t v[PANO_STAT_MAX] = {0};
	char line[1024];
	int n = 0;

	capture_read_stats(a->cap, v);
	n += snprintf(
	    line + n, sizeof(line) - n,
	    "stats: seen %llu, matched %llu, captured %llu, dedup copies %llu, head skipped %llu "
	    "(%llu bytes), ring drops %llu, copy errors %llu, bad records %llu",
	    (unsigned long long)v[PANO_STAT_SEEN], (unsigned long long)v[PANO_STAT_MATCHED],
	    (unsigned long long)v[PANO_STAT_CAPTURED],
	    (unsigned long long)v[PANO_STAT_DEDUP_COPIES],
	    (unsigned long long)v[PANO_STAT_HEAD_SKIPPED],
	    (unsigned long long)v[PANO_STAT_HEAD_SKIPPED_BYTES],
	    (unsigned long long)v[PANO_STAT_RING_FULL], (unsigned long long)v[PANO_STAT_COPY_ERR],
	    (unsigned long long)capture_bad_records(a->cap));
	if (v[PANO_STAT_HEAD_CONNS] || v[PANO_STAT_HEAD_MIDSTREAM])
		n += snprintf(line + n, sizeof(line) - n,
			      "; tcp head connections %llu (mid-stream %llu, closed %llu)",
			      (unsigned long long)v[PANO_STAT_HEAD_CONNS],
			      (unsigned long long)v[PANO_STAT_HEAD_MIDSTREAM],
			      (unsigned long long)v[PANO_STAT_HEAD_CLOSED]);
	n += snprintf(line + n, sizeof(line) - n,
		      "; sender known %llu (process %llu); checksum partial %llu",
		      (unsigned long long)a->who_frames[0], (unsigned long long)a->who_frames[1],
		      (unsigned long long)a->csum_partial_frames);
	struct {
		const char *name;
		const struct out_stats *st;
	} outs[] = {
	    {"file", a->file ? out_file_stats(a->file) : NULL},
	    {"stdout", a->out ? out_file_stats(a->out) : NULL},
	    {"pcap-listen", a->srv ? pcap_server_stats(a->srv) : NULL},
	    {"connect", a->proto ? out_proto_stats(a->proto) : NULL},
	};
	for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++) {
		struct out_stats s;
		if (!outs[i].st || n >= (int)sizeof(line))
			continue;
		out_stats_read(outs[i].st, &s);
		n += snprintf(line + n, sizeof(line) - n, "; %s: sent %llu, dropped %llu",
			      outs[i].name, (unsigned long long)s.sent_records,
			      (unsigned long long)s.drop_records);
	}
	if (a->proto && n < (int)sizeof(line)) {
		uint64_t acked, resent, lost;
		out_proto_delivery(a->proto, &acked, &resent, &lost);
		n += snprintf(line + n, sizeof(line) - n,
			      "; connect acked %llu, resent %llu, unacked lost %llu",
			      (unsigned long long)acked, (unsigned long long)resent,
			      (unsigned long long)lost);
	}
	fprintf(stderr, "pano-agent: %s\n", line);
}

int main(int argc, char **argv)
{
	enum { O_RING = 256, O_ROT_SIZE, O_ROT_SEC, O_STDOUT, O_NSEC, O_METRICS, O_QUEUE };
	enum { O_CONNECT = 300, O_NODE, O_TLS_CERT, O_TLS_KEY, O_TLS_CA, O_CONNECT_QUEUE };
	enum { O_DEDUP = 400, O_CGROUP_ROOT, O_K8S_ROOT, O_FORMAT };
	enum { O_MAX_CLIENTS = 320, O_PER_SOURCE, O_CONFIG };
	enum { O_TCP_HEAD = 340, O_TCP_HEAD_CONNS };
	static const struct option lopts[] = {
	    {"iface", required_argument, NULL, 'i'},
	    {"mode", required_argument, NULL, 'm'},
	    {"ports", required_argument, NULL, 'p'},
	    {"transports", required_argument, NULL, 't'},
	    {"tcp-head", required_argument, NULL, O_TCP_HEAD},
	    {"tcp-head-conns", required_argument, NULL, O_TCP_HEAD_CONNS},
	    {"snaplen", required_argument, NULL, 's'},
	    {"ring-size", required_argument, NULL, O_RING},
	    {"pcap-listen", required_argument, NULL, 'l'},
	    {"write", required_argument, NULL, 'w'},
	    {"rotate-size", required_argument, NULL, O_ROT_SIZE},
	    {"rotate-seconds", required_argument, NULL, O_ROT_SEC},
	    {"stdout", no_argument, NULL, O_STDOUT},
	    {"nanosecond", no_argument, NULL, O_NSEC},
	    {"format", required_argument, NULL, O_FORMAT},
	    {"client-queue", required_argument, NULL, O_QUEUE},
	    {"max-clients", required_argument, NULL, O_MAX_CLIENTS},
	    {"clients-per-source", required_argument, NULL, O_PER_SOURCE},
	    {"metrics", required_argument, NULL, O_METRICS},
	    {"connect", required_argument, NULL, O_CONNECT},
	    {"node", required_argument, NULL, O_NODE},
	    {"tls-cert", required_argument, NULL, O_TLS_CERT},
	    {"tls-key", required_argument, NULL, O_TLS_KEY},
	    {"tls-ca", required_argument, NULL, O_TLS_CA},
	    {"connect-queue", required_argument, NULL, O_CONNECT_QUEUE},
	    {"dedup", required_argument, NULL, O_DEDUP},
	    {"cgroup-root", required_argument, NULL, O_CGROUP_ROOT},
	    {"k8s-root", required_argument, NULL, O_K8S_ROOT},
	    {"config", required_argument, NULL, O_CONFIG},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {0},
	};
	const char *iface = NULL, *listen_spec = NULL, *write_path = NULL, *metrics_spec = NULL;
	struct agent_conf ac;
	struct agent_live start;
	struct capture_opts co = {.mode = CAPTURE_TC};
	const char *cgroup_root = NULL, *k8s_root = NULL, *config = NULL;
	uint64_t rot_size = 0, rot_sec = 0, queue = 4u << 20, v;
	int use_stdout = 0, nsec = 0, verbose = 0, opt, rc = 1, format = -1;
	int max_clients = 0, per_source = 0;
	struct agent a = {0};
	const char *connect_spec = NULL;
	struct out_proto_opts po = {0};
	uint64_t connect_queue = 0;

	agent_live_init(&ac);
	ac.lopts = lopts;
	while ((opt = getopt_long(argc, argv, "i:m:p:t:s:l:w:vhV", lopts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			iface = optarg;
			break;
		case 'm':
			if (strcmp(optarg, "tc") == 0)
				co.mode = CAPTURE_TC;
			else if (strcmp(optarg, "xdp") == 0)
				co.mode = CAPTURE_XDP;
			else
				goto usage_msg;
			break;
		case 'p': /* the keys --config may set too: one parser (live.c) */
			if (agent_live_option(&ac, "ports", optarg))
				goto usage_msg;
			break;
		case 't':
			if (agent_live_option(&ac, "transports", optarg))
				goto usage_msg;
			break;
		case 's':
			if (agent_live_option(&ac, "snaplen", optarg))
				goto usage_msg;
			break;
		case O_DEDUP:
			if (agent_live_option(&ac, "dedup", optarg))
				goto usage_msg;
			break;
		case O_TCP_HEAD:
			if (agent_live_option(&ac, "tcp-head", optarg))
				goto usage_msg;
			break;
		case O_TCP_HEAD_CONNS:
			if (opt_parse_size(optarg, &v) || v < 1 || v > (1u << 24))
				goto usage_msg;
			co.head_conns = (uint32_t)v;
			break;
		case O_CONFIG:
			config = optarg;
			break;
		case O_RING:
			if (opt_parse_size(optarg, &v) || v < 4096 || v > (1u << 30) ||
			    (v & (v - 1)))
				goto usage_msg;
			co.ring_bytes = (uint32_t)v;
			break;
		case 'l':
			listen_spec = optarg;
			break;
		case 'w':
			write_path = optarg;
			break;
		case O_ROT_SIZE:
			if (opt_parse_size(optarg, &rot_size) || !rot_size)
				goto usage_msg;
			break;
		case O_ROT_SEC:
			if (opt_parse_size(optarg, &rot_sec) || !rot_sec)
				goto usage_msg;
			break;
		case O_STDOUT:
			use_stdout = 1;
			break;
		case O_NSEC:
			nsec = 1;
			break;
		case O_FORMAT:
			if (strcmp(optarg, "pcap") == 0)
				format = OUT_PCAP;
			else if (strcmp(optarg, "pcapng") == 0)
				format = OUT_PCAPNG;
			else
				goto usage_msg;
			break;
		case O_QUEUE:
			if (opt_parse_size(optarg, &queue) || queue > (1ull << 30))
				goto usage_msg;
			break;
		case O_MAX_CLIENTS:
		case O_PER_SOURCE:
			if (opt_parse_size(optarg, &v) || v < 1 || v > 1024)
				goto usage_msg;
			*(opt == O_MAX_CLIENTS ? &max_clients : &per_source) = (int)v;
			break;
		case O_METRICS:
			metrics_spec = optarg;
			break;
		case O_CONNECT:
			connect_spec = optarg;
			break;
		case O_NODE:
			po.node = optarg;
			break;
		case O_TLS_CERT:
			po.tls.cert = optarg;
			break;
		case O_TLS_KEY:
			po.tls.key = optarg;
			break;
		case O_TLS_CA:
			po.tls.ca = optarg;
			break;
		case O_CONNECT_QUEUE:
			if (opt_parse_size(optarg, &connect_queue) || connect_queue < 65536 ||
			    connect_queue > (1ull << 30))
				goto usage_msg;
			break;
		case O_CGROUP_ROOT:
			cgroup_root = optarg;
			break;
		case O_K8S_ROOT:
			k8s_root = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			agent_usage(stdout);
			return 0;
		case 'V':
			printf("pano-agent %s\n", PANO_VERSION);
			return 0;
		default:
			goto usage;
		}
	}
	log_init("pano-agent", verbose);
	if (optind < argc) {
		fprintf(stderr, "pano-agent: unexpected argument '%s'\n", argv[optind]);
		goto usage;
	}
	if (!iface) {
		fprintf(stderr, "pano-agent: --iface is required\n");
		goto usage;
	}
	if (!listen_spec && !write_path && !use_stdout && !connect_spec) {
		fprintf(stderr, "pano-agent: no output: give --pcap-listen, --write, --stdout or "
				"--connect\n");
		goto usage;
	}
	if (tls_opts_any(&po.tls) && !connect_spec && !listen_spec) {
		fprintf(stderr, "pano-agent: --tls-cert/--tls-key/--tls-ca need --connect or "
				"--pcap-listen\n");
		goto usage;
	}
	if (format >= 0 && !write_path && !use_stdout) {
		fprintf(stderr, "pano-agent: --format needs --write or --stdout\n");
		goto usage;
	}
	if ((rot_size || rot_sec) && !write_path) {
		fprintf(stderr, "pano-agent: --rotate-size/--rotate-seconds need --write\n");
		goto usage;
	}
	if (use_stdout && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "pano-agent: --stdout: standard output is a terminal; pipe it\n");
		goto usage;
	}
	/* Before any thread starts: the watcher blocks SIGHUP for all of them. */
	char why[512];
	int err = config ? conf_watch_open(&a.conf, config, agent_live_apply, &ac, why, sizeof(why))
			 : 0;
	if (err) {
		fprintf(stderr, "pano-agent: %s\n", why);
		if (err == -EINVAL)
			goto usage;
		return 1;
	}
	co.verbose = verbose > 1;
	co.nsec = nsec;
	start = ac.cur; /* a copy: reloads change ac.cur, the hello keeps telling these */
	uint16_t filter_ports[PANO_MAX_PORTS];
	int nfilter = agent_live_filter_ports(&start, filter_ports);
	if (nfilter < 0) {
		fprintf(stderr,
			"pano-agent: --ports and --tcp-head name more than %d ports together\n",
			PANO_MAX_PORTS);
		goto usage;
	}
	co.ports = filter_ports;
	co.nports = nfilter;
	co.heads = start.heads;
	co.nheads = start.nheads;
	/* The head table's memory is taken at load: none when no head can ever be set. */
	co.no_heads = !start.nheads && !config;
	co.transports = start.transports;
	co.snaplen = start.snaplen;
	co.dedup_us = start.dedup_us;

	struct sigaction sa = {.sa_handler = agent_on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	a.who = who_open(cgroup_root, k8s_root);
	if (!a.who) {
		pr_err("who_open: %s", strerror(ENOMEM));
		goto out;
	}
	co.cgroup2 = who_cgroup2(a.who);
	err = capture_open(&a.cap, &co);
	if (err) {
		pr_err("cannot load the capture programs: %s", strerror(-err));
		goto out;
	}
	ac.cap = a.cap;
	ac.snaplen_max = co.snaplen;
	struct out_file_opts fo = {.snaplen = co.snaplen,
				   .nsec = nsec,
				   .rotate_bytes = rot_size,
				   .rotate_seconds = rot_sec};
	fo.format = format >= 0 ? (enum out_format)format : agent_path_format(write_path);
	if (write_path && !(a.file = out_file_open(write_path, &fo)))
		goto out;
	fo.format = format >= 0 ? (enum out_format)format : OUT_PCAP;
	if (use_stdout && !(a.out = out_file_fdopen(STDOUT_FILENO, "stdout", &fo)))
		goto out;
	if (listen_spec) {
		struct pcap_server_opts so = {.snaplen = co.snaplen,
					      .nsec = nsec,
					      .queue_bytes = queue,
					      .max_clients = max_clients,
					      .max_per_source = per_source};
		so.tls = &po.tls; /* --tls-*: the server side of TLS */
		if (!(a.srv = pcap_server_start(listen_spec, &so)))
			goto out;
		a.iov_len_max = capture_ring_size(a.cap) / 4;
		if (a.iov_len_max > PCAP_SERVER_BATCH_LEN)
			a.iov_len_max = PCAP_SERVER_BATCH_LEN;
	}
	if (connect_spec) {
		po.queue_bytes = connect_queue;
		po.ports = co.ports;
		po.nports = co.nports;
		po.transports = co.transports;
		po.snaplen = co.snaplen;
		po.mode = co.mode == CAPTURE_XDP ? "xdp" : "tc";
		po.read_stats = agent_read_bpf;
		po.stats_ctx = a.cap;
		po.other_names[0] = "pcap-listen";
		po.other_stats[0] = a.srv ? pcap_server_stats(a.srv) : NULL;
		po.other_names[1] = "file";
		po.other_stats[1] = a.file ? out_file_stats(a.file) : NULL;
		if (!(a.proto = out_proto_start(connect_spec, &po)))
			goto out;
	}
	a.m = (struct agent_metrics){.read_bpf = agent_read_bpf,
				     .bad_records = agent_bad_records,
				     .cap_ctx = a.cap,
				     .file = a.file,
				     .out = a.out,
				     .srv = a.srv,
				     .who_frames = a.who_frames,
				     .csum_partial_frames = &a.csum_partial_frames};
	a.want_who = a.proto || (a.file && out_file_format(a.file) == OUT_PCAPNG) ||
		     (a.out && out_file_format(a.out) == OUT_PCAPNG);
	if (metrics_spec && !(a.http = httpd_start(metrics_spec, agent_metrics_render, &a.m)))
		goto out;
	a.ifw = ifwatch_open(iface, agent_attach, agent_detach, &a);
	if (!a.ifw)
		goto out;
	__atomic_store_n(&a.m.ifw, a.ifw, __ATOMIC_RELEASE);
	pr_info("capturing on %d interface(s)", ifwatch_attached(a.ifw));

	rc = 0;
	while (!agent_stop) {
		int got = agent_poll(&a, 100);
		if (got < 0 && got != -EINTR) {
			pr_err("capture_poll: %s", strerror(-got));
			rc = 1;
			break;
		}
		if (agent_after_batch(&a, got) == -EPIPE)
			break;
		if (a.conf)
			conf_watch_poll(a.conf);
	}
out:
	/* Detach first, then take what is still in the ring, then close the outputs. */
	if (a.http)
		httpd_stop(a.http);
	a.m.ifw = NULL;
	ifwatch_close(a.ifw);
	a.ifw = NULL;
	if (a.cap) {
		agent_poll(&a, 0);
		agent_after_batch(&a, 1);
		out_proto_drain(a.proto); /* its acks and losses are in the stats line */
		agent_final_stats(&a);
	}
	pcap_server_stop(a.srv);
	out_proto_stop(a.proto);
	out_file_close(a.file);
	out_file_close(a.out);
	capture_close(a.cap);
	who_close(a.who);
	conf_watch_close(a.conf);
	return rc;

usage_msg:
	/* "--opt value" leaves optind past the value, "--opt=value" past the option */
	fprintf(stderr, "pano-agent: bad value for %s: '%s'\n",
		argv[optind - 1] == optarg && optind > 1 ? argv[optind - 2] : argv[optind - 1],
		optarg);
usage:
	fprintf(stderr, "Try 'pano-agent --help'.\n");
	return 2;
}
