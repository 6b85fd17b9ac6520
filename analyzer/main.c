// SPDX-License-Identifier: Apache-2.0
/*
 * main.c - pano-analyzer: reads frames (pcap/pcapng files, standard input, a PCAP-over-TCP
 * stream or agents' protobuf streams), decodes them in one engine (engine.h) down to the L7
 * protocols' records (Zeek's dns.log, ssl.log, http.log shapes) and writes each record to
 * stdout, a file and/or Kafka (a topic per log). Time is packet time throughout.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf.h"
#include "counter.h"
#include "decode.h"
#include "dns.h"
#include "engine.h"
#include "httpd.h"
#include "input.h"
#include "input_proto.h"
#include "l7.h"
#include "log.h"
#include "opt.h"
#include "records.h"
#include "sink.h"
#include "stats.h"
#include "summary.h"

#define MAIN_MAX_READS 256
#define MAIN_MAX_PROPS 64
#define MAIN_MAX_TOPICS 16
#define MAIN_CLOSE_MS  5000
#define MAIN_LINGER_POLL_US 100000
#define MAIN_EXIT_DAMAGED 3 /* an input file broke off or went bad part way (nothing worse) */

static volatile sig_atomic_t main_stop, main_want_stats;

static void main_on_signal(int sig)
{
	if (sig == SIGUSR1)
		main_want_stats = 1;
	else
		main_stop = 1;
}

/* getopt codes of the protocols' own options: MAIN_L7_OPT + MAIN_L7_OPTS * row + option. */
#define MAIN_L7_OPT  0x400
#define MAIN_L7_OPTS 32
#define MAIN_CFG_MAX 16384 /* bytes of one protocol's configuration */

/* The protocols' options, a block per protocol, into buf (for --help). */
static const char *main_l7_usage(char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < l7_nall; i++) {
		const struct l7_proto *p = l7_all[i];
		for (unsigned j = 0; j < p->nopts && n < size; j++) {
			char lhs[64];
			if (j == 0)
				n += (size_t)snprintf(buf + n, size - n, "Protocol %s:\n",
						      p->name);
			if (n >= size)
				break;
			snprintf(lhs, sizeof(lhs), "--%s%s%s", p->opts[j].name,
				 p->opts[j].arg ? " " : "", p->opts[j].arg ? p->opts[j].arg : "");
			if (strlen(lhs) < 23)
				n += (size_t)snprintf(buf + n, size - n, "      %-23s", lhs);
			else
				n += (size_t)snprintf(buf + n, size - n, "      %s\n%29s", lhs, "");
			/* the help's lines, each under the first */
			for (const char *h = p->opts[j].help; *h && n < size;) {
				size_t k = strcspn(h, "\n");
				n += (size_t)snprintf(buf + n, size - n, "%.*s\n%s", (int)k, h,
						      h[k] ? "                             " : "");
				h += h[k] ? k + 1 : k;
			}
		}
	}
	if (n >= size)
		buf[size - 1] = '\0';
	return buf;
}

static void main_usage(FILE *out)
{
	char l7u[8192];

	fprintf(
	    out,
	    "Usage: pano-analyzer [OPTIONS] [FILE...]\n"
	    "Decodes captured frames into log records (Zeek dns.log, ssl.log, http.log as built;\n"
	    "JSON with _path, or protobuf).\n\n"
	    "Input (one of):\n"
	    "  -r, --read FILE            pcap or pcapng file, '-' for stdin (repeatable;\n"
	    "                             further FILE arguments are read in order)\n"
	    "  -c, --pcap-connect HOST:PORT  PCAP-over-TCP client (pano-agent --pcap-listen),\n"
	    "                             reconnects with backoff until SIGINT/SIGTERM\n"
	    "  -l, --listen ADDR:PORT     protobuf stream from many agents (pano-agent --connect);\n"
	    "                             PORT alone binds 127.0.0.1\n"
	    "      --tls-cert FILE        TLS: for --listen the server certificate (PEM), for\n"
	    "                             --pcap-connect a client certificate to present\n"
	    "      --tls-key FILE         its private key\n"
	    "      --tls-ca FILE          --listen: require agent certificates signed by this CA\n"
	    "                             (mTLS); --pcap-connect: verify the agent's certificate\n"
	    "      --max-agents N         --listen: agents at once (default 256)\n"
	    "      --max-pending N        --listen: connections before their hello (default 128;\n"
	    "                             the oldest gives way to a new one)\n"
	    "      --max-per-source N     --listen: connections from one address (default 32)\n"
	    "      --hello-timeout S      --listen: TLS and hello within S seconds (default 5)\n"
	    "      --idle-timeout S       --listen: close an agent silent for S seconds\n"
	    "                             (default 60; 0: never)\n"
	    "      --ack-interval S       --listen: acknowledge batches within S seconds (default\n"
	    "                             0.1; and after every 512 KiB of batches)\n"
	    "TCP reassembly:\n"
	    "      --tcp-max-conns N      TCP connections tracked (default 65536; the least\n"
	    "                             recently active is evicted)\n"
	    "      --tcp-max-buffer BYTES every TCP buffer together: out-of-order segments and\n"
	    "                             DNS messages in assembly (default 64M; the least\n"
	    "                             recently active connection holding some is evicted)\n"
	    "DNS:\n"
	    "  -p, --ports LIST           DNS ports, comma separated (default 53,137,5353,5355:\n"
	    "                             DNS, NetBIOS name service, mDNS, LLMNR)\n"
	    "      --config FILE          'key = value' lines: ports (the DNS ports), re-read on\n"
	    "                             SIGHUP and when FILE changes, applied between two\n"
	    "                             frames; a bad file is refused and the ports stay (a\n"
	    "                             key belongs in the file or on the command line, not\n"
	    "                             both; see README)\n"
	    "  -t, --dns-timeout SECONDS  log unanswered queries after this packet time (default "
	    "5)\n"
	    "  -z, --zeek-names           Zeek's dotted field names (id.orig_h ...)\n"
	    "      --node NAME            node name for records from --read/--pcap-connect\n"
	    "                             (the protobuf stream carries each agent's own)\n"
	    "      --protocols LIST       protocols to decode, comma separated (default all:\n"
	    "                             dns,tls,http as built)\n"
	    "      --uid-seed N           derive the records' uids (Zeek's connection uids)\n"
	    "                             from N: the same input gives the same uids in every\n"
	    "                             run (default: a random key per run, so that runs\n"
	    "                             never share uids)\n"
	    "Output:\n"
	    "  -F, --format json|protobuf  record encoding (default json, each object with its\n"
	    "                             log in _path; protobuf: pano.v1 DnsRecord, SslRecord,\n"
	    "                             HttpRecord with the log in field 100, length-prefixed\n"
	    "                             in files)\n"
	    "  -o, --output FILE|-        records to FILE or stdout, every log in one stream\n"
	    "                             (default: stdout unless Kafka is configured)\n"
	    "  -k, --kafka-brokers LIST   also publish to Kafka, a topic per log\n"
	    "  -T, --kafka-topic [LOG=]NAME  the topic of LOG's records (dns, ssl, http;\n"
	    "                             default pano-LOG); NAME alone names the dns topic\n"
	    "                             (default pano-dns); repeatable\n"
	    "  -X key=value               librdkafka property (repeatable)\n"
	    "Observability:\n"
	    "  -s, --stats                summary on stderr at exit and on SIGUSR1\n"
	    "  -m, --metrics ADDR:PORT    serve Prometheus /metrics (with the summaries) and\n"
	    "                             /api/v1/metrics/merged, /api/v1/metrics/window/N JSON\n"
	    "Summaries (pktvisor-like; on with --summary or --metrics):\n"
	    "      --summary              print the merged summary as JSON on stdout at the end\n"
	    "                             (records then only go to --output/Kafka if given)\n"
	    "      --period SECONDS       summary window of packet time (default 60)\n"
	    "      --periods N            windows kept and merged (default 5)\n"
	    "      --host-spec CIDR,...   our addresses, for in/out direction\n"
	    "      --linger               after the input ends keep serving --metrics until\n"
	    "                             SIGINT/SIGTERM\n"
	    "  -v, --verbose              more messages (repeat for debug)\n"
	    "  -h, --help                 this help\n"
	    "  -V, --version              print the version\n"
	    "\n"
	    "%s"
	    "Exit status: 0 success; 1 runtime failure (an input that cannot be opened or is no\n"
	    "capture, a read error, a write error on the output, records left undelivered in\n"
	    "Kafka at exit); 2 bad usage; 3 an input file was damaged (truncated or corrupt part\n"
	    "way: the frames before the damage were used, the rest was not). 1 wins over 3.\n",
	    main_l7_usage(l7u, sizeof(l7u)));
}

/* The settings --config may change: the DNS ports. */
struct main_conf {
	uint16_t cli_ports[DNS_MAX_PORTS]; /* the defaults or --ports */
	int cli_nports;
	int cli_given; /* --ports was given: refused in the file */
	uint16_t ports[DNS_MAX_PORTS]; /* the file's, while it is being checked */
	int nports;
	int started; /* the DNS state exists: changes go to dns_set_ports */
	struct dns_state *dns; /* the engine's DNS state (NULL: --protocols left DNS out) */
	struct dns_config *cfg; /* before: they go here */
	const struct option *lopts; /* named when the file sets another option */
};

static int main_conf_ports(void *ctx, const char *v, char *why, size_t whylen)
{
	struct main_conf *mc = ctx;
	int n;

	if (mc->cli_given) {
		snprintf(why, whylen, "--ports is given on the command line too: set it in one "
				      "place");
		return -1;
	}
	n = opt_parse_ports(v, mc->ports, DNS_MAX_PORTS);
	if (n < 0) {
		snprintf(why, whylen, "expected ports 1-65535, comma separated, at most %d",
			 DNS_MAX_PORTS);
		return -1;
	}
	mc->nports = n;
	return 0;
}

/* conf_apply_fn: the file's ports (or, without the key, the command line's) into force. */
static int main_conf_apply(void *ctx, const struct conf *c, const char *path, char *err,
			   size_t errlen)
{
	static const struct conf_key keys[] = {{"ports", main_conf_ports}};
	struct main_conf *mc = ctx;

	memcpy(mc->ports, mc->cli_ports, sizeof(mc->ports));
	mc->nports = mc->cli_nports;
	int rc = conf_apply(c, path, keys, 1, mc->lopts, mc, err, errlen);
	if (rc)
		return rc;
	if (mc->started)
		return mc->dns ? dns_set_ports(mc->dns, mc->ports, mc->nports) : 0;
	memcpy(mc->cfg->ports, mc->ports, sizeof(mc->ports));
	mc->cfg->nports = mc->nports;
	return 0;
}

/* A number in [min, max] from option name's argument, into *v. 0, or -1 (said on stderr). */
static int main_number(const char *name, const char *arg, double min, double max, double *v)
{
	char *end;
	*v = strtod(arg, &end);
	if (*end || end == arg || !(*v >= min && *v <= max)) {
		fprintf(stderr, "pano-analyzer: bad --%s '%s' (%g to %g)\n", name, arg, min, max);
		return -1;
	}
	return 0;
}

/* --protocols: leaves out (cfgs[i] = NULL) every protocol not in the list. 0, or -1
 * (said on stderr) for a name that is no protocol. */
static int main_protocols(const char *list, void **cfgs)
{
	bool want[L7_MAX] = {false};
	char buf[256];
	char *save = NULL;

	snprintf(buf, sizeof(buf), "%s", list);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		unsigned i = 0;
		while (i < l7_nall && strcmp(l7_all[i]->name, t) != 0)
			i++;
		if (i == l7_nall) {
			fprintf(stderr, "pano-analyzer: --protocols: no protocol '%s'\n", t);
			return -1;
		}
		want[i] = true;
	}
	for (unsigned i = 0; i < l7_nall; i++) {
		if (want[i])
			continue;
		cfgs[i] = NULL;
	}
	return 0;
}

struct main_loop {
	int want_stats;
	struct conf_watch *conf; /* --config */
	struct stats_src st;	 /* the engine and the sinks */
	struct summary *sum;	 /* --summary or --metrics, else NULL */
};

/* /metrics (ctx: the struct main_loop): the analyzer's counters and sinks, then the
 * summaries. */
static int main_metrics(void *ctx, const char *query, struct wbuf *out)
{
	struct main_loop *ml = ctx;

	stats_metrics(&ml->st, query, out);
	return summary_metrics(ml->sum, out);
}

/* Between frames: service the sinks, print the summary if SIGUSR1 asked for it, and re-read
 * --config when it changed or SIGHUP came. */
static void main_poll(void *arg)
{
	struct main_loop *ml = arg;

	sink_set_poll(ml->st.sinks);
	summary_progress_poll(ml->sum);
	if (main_want_stats) {
		main_want_stats = 0;
		if (ml->want_stats)
			stats_print(stderr, &ml->st);
	}
	if (ml->conf)
		conf_watch_poll(ml->conf);
}

int main(int argc, char **argv)
{
	static const struct option base_opts[] = {
	    {"read", required_argument, NULL, 'r'},
	    {"pcap-connect", required_argument, NULL, 'c'},
	    {"ports", required_argument, NULL, 'p'},
	    {"dns-timeout", required_argument, NULL, 't'},
	    {"output", required_argument, NULL, 'o'},
	    {"kafka-brokers", required_argument, NULL, 'k'},
	    {"kafka-topic", required_argument, NULL, 'T'},
	    {"zeek-names", no_argument, NULL, 'z'},
	    {"node", required_argument, NULL, 0x120},
	    {"format", required_argument, NULL, 'F'},
	    {"stats", no_argument, NULL, 's'},
	    {"metrics", required_argument, NULL, 'm'},
	    {"summary", no_argument, NULL, 0x100},
	    {"period", required_argument, NULL, 0x101},
	    {"periods", required_argument, NULL, 0x102},
	    {"host-spec", required_argument, NULL, 0x103},
	    {"linger", no_argument, NULL, 0x104},
	    {"listen", required_argument, NULL, 'l'},
	    {"tls-cert", required_argument, NULL, 0x110},
	    {"tls-key", required_argument, NULL, 0x111},
	    {"tls-ca", required_argument, NULL, 0x112},
	    {"max-agents", required_argument, NULL, 0x130},
	    {"max-pending", required_argument, NULL, 0x131},
	    {"max-per-source", required_argument, NULL, 0x132},
	    {"hello-timeout", required_argument, NULL, 0x133},
	    {"idle-timeout", required_argument, NULL, 0x134},
	    {"ack-interval", required_argument, NULL, 0x137},
	    {"tcp-max-conns", required_argument, NULL, 0x135},
	    {"tcp-max-buffer", required_argument, NULL, 0x136},
	    {"config", required_argument, NULL, 0x138},
	    {"protocols", required_argument, NULL, 0x139},
	    {"uid-seed", required_argument, NULL, 0x13a},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct option opts[sizeof(base_opts) / sizeof(base_opts[0]) + L7_MAX * MAIN_L7_OPTS];
	const char *reads[MAIN_MAX_READS], *props[MAIN_MAX_PROPS], *topics[MAIN_MAX_TOPICS];
	const char *connect = NULL, *output = NULL, *metrics = NULL, *config = NULL;
	struct input_proto_opts popts = {0};
	struct kafka_opts kopts = {.topic = "pano-dns"};
	struct dns_config cfg;
	int nreads = 0, nprops = 0, ntopics = 0, verbose = 0, opt;
	struct main_loop ml = {0};
	struct main_conf mc = {.cfg = &cfg, .lopts = opts};
	char *end;

	dns_config_default(&cfg);
	/* Every protocol's configuration, from its defaults and its options; DNS's is cfg. */
	void *cfgs[L7_MAX] = {0};
	/* their storage (plain structs: nothing to free on any way out) */
	static _Alignas(max_align_t) unsigned char cfg_mem[L7_MAX][MAIN_CFG_MAX];
	const char *protocols = NULL;
	size_t nopts = 0;
	for (; base_opts[nopts].name; nopts++)
		opts[nopts] = base_opts[nopts];
	for (unsigned i = 0; i < l7_nall; i++) {
		const struct l7_proto *p = l7_all[i];
		if (strcmp(p->name, "dns") == 0) {
			cfgs[i] = &cfg;
		} else if (p->cfg_size > MAIN_CFG_MAX) {
			fprintf(stderr, "pano-analyzer: protocol %s: configuration of %zu bytes "
					"(raise MAIN_CFG_MAX)\n", p->name, p->cfg_size);
			return 1;
		} else {
			cfgs[i] = cfg_mem[i];
			if (p->cfg_default)
				p->cfg_default(cfgs[i]);
		}
		for (unsigned j = 0; j < p->nopts && j < MAIN_L7_OPTS; j++)
			opts[nopts++] = (struct option){p->opts[j].name, p->opts[j].has_arg, NULL,
							MAIN_L7_OPT + MAIN_L7_OPTS * (int)i + (int)j};
	}
	opts[nopts] = (struct option){NULL, 0, NULL, 0};
	struct summary_config scfg;
	int want_summary = 0, linger = 0;
	summary_config_default(&scfg);
	struct engine_config ecfg;
	engine_config_default(&ecfg);
	double num;
	uint64_t bytes;
	while ((opt = getopt_long(argc, argv, "r:c:l:p:t:o:F:k:T:X:zsm:vhV", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			if (nreads == MAIN_MAX_READS) {
				fprintf(stderr, "pano-analyzer: too many --read files\n");
				return 2;
			}
			reads[nreads++] = optarg;
			break;
		case 'c':
			connect = optarg;
			break;
		case 'l':
			popts.listen = optarg;
			break;
		case 0x110:
			popts.tls.cert = optarg;
			break;
		case 0x111:
			popts.tls.key = optarg;
			break;
		case 0x112:
			popts.tls.ca = optarg;
			break;
		case 'p': {
			int n = opt_parse_ports(optarg, cfg.ports, DNS_MAX_PORTS);
			if (n < 0) {
				fprintf(stderr, "pano-analyzer: bad --ports '%s'\n", optarg);
				return 2;
			}
			cfg.nports = n;
			mc.cli_given = 1;
			break;
		}
		case 0x138:
			config = optarg;
			break;
		case 0x139:
			protocols = optarg;
			break;
		case 0x13a: { /* decimal, or hex after 0x (no octal, no sign) */
			int hex = strncasecmp(optarg, "0x", 2) == 0;
			const char *digits = hex ? optarg + 2 : optarg;
			errno = 0;
			ecfg.uid_seed = strtoull(digits, &end, hex ? 16 : 10);
			if (errno || *end || end == digits || !isxdigit((unsigned char)digits[0])) {
				fprintf(stderr,
					"pano-analyzer: bad --uid-seed '%s' (0 to 2^64-1)\n",
					optarg);
				return 2;
			}
			ecfg.uid_seeded = 1;
			break;
		}
		case 't': {
			double s = strtod(optarg, &end);
			if (*end || end == optarg || !(s >= 0 && s <= 86400)) {
				fprintf(stderr, "pano-analyzer: bad --dns-timeout '%s'\n", optarg);
				return 2;
			}
			cfg.timeout_ns = (uint64_t)(s * 1e9);
			break;
		}
		case 'o':
			output = optarg;
			break;
		case 'k':
			kopts.brokers = optarg;
			break;
		case 'T':
			if (!strchr(optarg, '=')) {
				kopts.topic = optarg;
			} else if (kafka_topic_arg_check(optarg) || ntopics == MAIN_MAX_TOPICS) {
				fprintf(stderr,
					"pano-analyzer: bad --kafka-topic '%s' (NAME or LOG=NAME, "
					"LOG of a-z 0-9 _)\n",
					optarg);
				return 2;
			} else {
				topics[ntopics++] = optarg;
			}
			break;
		case 'X':
			if (!strchr(optarg, '=') || nprops == MAIN_MAX_PROPS) {
				fprintf(stderr, "pano-analyzer: bad -X '%s' (key=value)\n", optarg);
				return 2;
			}
			props[nprops++] = optarg;
			break;
		case 'z':
			cfg.zeek_dotted = 1;
			break;
		case 0x120:
			input_local_node = optarg;
			break;
		case 0x130:
			if (main_number("max-agents", optarg, 1, 65536, &num))
				return 2;
			popts.max_conns = (int)num;
			break;
		case 0x131:
			if (main_number("max-pending", optarg, 1, 65536, &num))
				return 2;
			popts.max_pending = (int)num;
			break;
		case 0x132:
			if (main_number("max-per-source", optarg, 1, 65536, &num))
				return 2;
			popts.max_per_source = (int)num;
			break;
		case 0x133:
			if (main_number("hello-timeout", optarg, 0.1, 3600, &num))
				return 2;
			popts.hello_timeout_ms = (int)(num * 1000);
			break;
		case 0x134:
			if (main_number("idle-timeout", optarg, 0, 86400, &num))
				return 2;
			popts.idle_timeout_ms = num > 0 ? (int)(num * 1000) : -1;
			break;
		case 0x137:
			if (main_number("ack-interval", optarg, 0.01, 60, &num))
				return 2;
			popts.ack_ms = (int)(num * 1000);
			break;
		case 0x135:
			if (main_number("tcp-max-conns", optarg, 16, 1 << 24, &num))
				return 2;
			ecfg.tcp.max_conns = (unsigned)num;
			break;
		case 0x136:
			if (opt_parse_size(optarg, &bytes) || bytes < TCP_MIN_TOTAL_BUF ||
			    bytes > (1ull << 40)) {
				fprintf(stderr,
					"pano-analyzer: bad --tcp-max-buffer '%s' (bytes, at least "
					"%uk; k/M/G suffixes)\n",
					optarg, TCP_MIN_TOTAL_BUF >> 10);
				return 2;
			}
			ecfg.tcp.max_total_buf = (size_t)bytes;
			break;
		case 'F':
			if (strcmp(optarg, "json") == 0) {
				cfg.format = DNS_FORMAT_JSON;
			} else if (strcmp(optarg, "protobuf") == 0) {
				cfg.format = DNS_FORMAT_PROTOBUF;
			} else {
				fprintf(stderr, "pano-analyzer: --format %s: expected json or protobuf\n",
					optarg);
				return 2;
			}
			break;
		case 's':
			ml.want_stats = 1;
			break;
		case 'm':
			metrics = optarg;
			break;
		case 0x100:
			want_summary = 1;
			break;
		case 0x101:
		case 0x102: {
			double v = strtod(optarg, &end);
			if (*end || end == optarg || !(v >= 1 && v <= (opt == 0x101 ? 86400 : 60))) {
				fprintf(stderr, "pano-analyzer: bad --%s '%s'\n",
					opt == 0x101 ? "period" : "periods", optarg);
				return 2;
			}
			if (opt == 0x101)
				scfg.period_ns = (uint64_t)(v * 1e9);
			else
				scfg.periods = (unsigned)v;
			break;
		}
		case 0x103:
			if (summary_parse_hosts(&scfg, optarg))
				return 2;
			break;
		case 0x104:
			linger = 1;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			main_usage(stdout);
			return 0;
		case 'V':
			printf("pano-analyzer %s\n", PANO_VERSION);
			return 0;
		default:
			if (opt >= MAIN_L7_OPT && opt < MAIN_L7_OPT + MAIN_L7_OPTS * (int)l7_nall) {
				unsigned i = (unsigned)(opt - MAIN_L7_OPT) / MAIN_L7_OPTS;
				unsigned j = (unsigned)(opt - MAIN_L7_OPT) % MAIN_L7_OPTS;
				const struct l7_proto *p = l7_all[i];
				char why[256] = "";
				if (p->cfg_set(cfgs[i], p->opts[j].name, optarg, why, sizeof(why))) {
					fprintf(stderr, "pano-analyzer: bad --%s%s%s: %s\n",
						p->opts[j].name, optarg ? " " : "",
						optarg ? optarg : "", why);
					return 2;
				}
				break;
			}
			main_usage(stderr);
			return 2;
		}
	}
	if (protocols && main_protocols(protocols, cfgs))
		return 2;
	for (; optind < argc; optind++) {
		if (nreads == MAIN_MAX_READS) {
			fprintf(stderr, "pano-analyzer: too many files\n");
			return 2;
		}
		reads[nreads++] = argv[optind];
	}
	if ((nreads > 0) + (connect != NULL) + (popts.listen != NULL) != 1) {
		fprintf(stderr, "pano-analyzer: give --read FILE..., --pcap-connect HOST:PORT or "
				"--listen ADDR:PORT (one of them)\n");
		main_usage(stderr);
		return 2;
	}
	if (tls_opts_any(&popts.tls) && !popts.listen && !connect) {
		fprintf(stderr, "pano-analyzer: --tls-cert/--tls-key/--tls-ca need --listen or "
				"--pcap-connect\n");
		return 2;
	}
	log_init(argv[0], verbose);
	if (config) {
		/* Before any thread starts: the watcher blocks SIGHUP for all of them. */
		char why[512];
		memcpy(mc.cli_ports, cfg.ports, sizeof(cfg.ports));
		mc.cli_nports = cfg.nports;
		int rc = conf_watch_open(&ml.conf, config, main_conf_apply, &mc, why, sizeof(why));
		if (rc) {
			fprintf(stderr, "pano-analyzer: %s\n", why);
			return rc == -EINVAL ? 2 : 1;
		}
	}

	struct sigaction sa = {.sa_handler = main_on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A stats request must not end a read from a pipe (EINTR) as a stop does. */
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);

	/* Every record of every engine goes to these sinks. */
	struct sink_set sinks;
	struct sink *s;
	struct pano_engine *eng = NULL;
	struct httpd *httpd = NULL;
	int failed = 0, damaged = 0;
	sink_set_init(&sinks);
	if (output || (!kopts.brokers && !want_summary)) {
		if (sink_file_open(output ? output : "-", &s))
			goto fail;
		if (cfg.format == DNS_FORMAT_PROTOBUF)
			sink_file_set_length_prefixed(s);
		sink_set_add(&sinks, s);
	}
	if (kopts.brokers) {
		kopts.props = props;
		kopts.nprops = nprops;
		kopts.topics = topics;
		kopts.ntopics = ntopics;
		if (sink_kafka_open(&kopts, &s))
			goto fail;
		sink_set_add(&sinks, s);
	}
	ecfg.l7_cfgs = (const void *const *)cfgs;
	ecfg.format = cfg.format == DNS_FORMAT_PROTOBUF ? REC_FORMAT_PROTOBUF : REC_FORMAT_JSON;
	ecfg.dotted = cfg.zeek_dotted;
	ecfg.sinks = &sinks;
	scfg.shared = metrics != NULL;
	if ((want_summary || metrics) && !(ml.sum = summary_new(&scfg)))
		goto fail;
	ecfg.sum = ml.sum;
	eng = engine_new(&ecfg);
	if (!eng)
		goto fail;
	ml.st = (struct stats_src){.eng = eng, .sinks = &sinks};
	mc.dns = l7_set_state(&eng->l7, "dns");
	mc.started = 1;
	if (metrics) {
		httpd = httpd_start(metrics, main_metrics, &ml);
		if (!httpd || summary_routes(ml.sum, httpd))
			goto fail;
	}

	struct input_hooks hooks = {.eng = eng, .stop = &main_stop, .poll = main_poll, .arg = &ml};
	if (connect) {
		if (input_pot_run(connect, &popts.tls, &hooks) == -EINVAL)
			failed = 2;
	}
	if (popts.listen && input_proto_run(&popts, &hooks))
		failed = 1;
	for (int i = 0; i < nreads && !main_stop; i++) {
		if (want_summary)
			summary_progress_start(ml.sum, reads[i]);
		int rc = input_pcap_read(reads[i], &hooks);
		if (rc < 0)
			failed = 1;
		else if (rc == INPUT_DAMAGED)
			damaged = 1;
		summary_progress_end(ml.sum);
	}

	decode_finish(eng);
	summary_finish(ml.sum);
	if (want_summary) {
		struct wbuf hb = WBUF_INIT(HTTPD_BODY_MAX);
		summary_json(ml.sum, -1, &hb, true);
		fwrite(hb.p, 1, hb.len, stdout);
		fflush(stdout);
		wbuf_free(&hb);
	}
	/* Lingering: the sinks are still served (buffered lines written, Kafka delivery reports
	 * taken) and SIGUSR1 still answered, so /metrics and --stats tell the same story. */
	while (linger && httpd && !main_stop) {
		main_poll(&ml);
		usleep(MAIN_LINGER_POLL_US);
	}
	if (sink_set_close(&sinks, MAIN_CLOSE_MS))
		failed = failed ? failed : 1;
	if (ml.want_stats)
		stats_print(stderr, &ml.st);
	goto out;
fail: /* the set-up failed (said): what was opened is closed, the status is 1 */
	sink_set_close(&sinks, MAIN_CLOSE_MS);
	failed = 1;
out:
	if (httpd)
		httpd_stop(httpd);
	conf_watch_close(ml.conf);
	engine_free(eng); /* may still show records to the summaries */
	summary_free(ml.sum);
	sink_set_free(&sinks);
	return failed ? failed : damaged ? MAIN_EXIT_DAMAGED : 0;
}
