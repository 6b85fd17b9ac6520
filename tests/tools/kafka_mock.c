// SPDX-License-Identifier: Apache-2.0
/*
 * kafka_mock.c - a Kafka cluster for tests: librdkafka's mock cluster (rdkafka_mock.h) with N
 * brokers listening on real loopback TCP ports, and topics created with the partitions asked
 * for. It prints "BOOTSTRAP host:port,..." on standard output (and into --bootstrap-file), then
 * reads commands from standard input, one per line, answering each with "OK <command>" or
 * "ERR <command>: why":
 *
 *   down ID            broker ID (1..N) drops its connections and refuses new ones
 *   up ID              broker ID accepts connections again
 *   fail-produce N [E] the next N Produce requests fail with Kafka error code E
 *                      (default 19, NOT_ENOUGH_REPLICAS, which producers retry)
 *   clear-errors       forget pending fail-produce errors (none pending: no-op)
 *   quit               exit
 *
 * It exits 0 at end of input, on quit, SIGTERM or SIGINT; 1 when the cluster cannot start,
 * 2 on bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MOCK_API_PRODUCE 0 /* Kafka protocol ApiKey of Produce */
#define MOCK_MAX_TOPICS	 16

static volatile sig_atomic_t mock_stop;

static void mock_on_signal(int sig)
{
	mock_stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: kafka_mock [options]\n"
		   "  -b, --brokers N          brokers in the cluster (default 1)\n"
		   "  -p, --partitions N       partitions per topic (default 4)\n"
		   "  -t, --topic NAME         create this topic (repeatable; default pano-dns)\n"
		   "  -f, --bootstrap-file F   also write the bootstrap list to F\n"
		   "  -h, --help               this text\n"
		   "  -V, --version            print the version\n"
		   "Commands on stdin: down ID | up ID | fail-produce N [ERRCODE] | clear-errors | "
		   "quit\n");
}

/* Parses a positive decimal int; -1 when str is not one. */
static int mock_atoi(const char *str)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(str, &end, 10);
	if (errno || end == str || *end || v < 0 || v > 1000000)
		return -1;
	return (int)v;
}

/* Executes one command line against the cluster; prints OK or ERR. 1 on quit, else 0. */
static int mock_command(rd_kafka_mock_cluster_t *mc, int nbrokers, char *line)
{
	char *cmd = strtok(line, " \t\r\n"), *a1 = strtok(NULL, " \t\r\n"),
	     *a2 = strtok(NULL, " \t\r\n");
	rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
	int n;

	if (!cmd)
		return 0;
	if (!strcmp(cmd, "quit")) {
		printf("OK quit\n");
		return 1;
	} else if (!strcmp(cmd, "down") || !strcmp(cmd, "up")) {
		n = a1 ? mock_atoi(a1) : -1;
		if (n < 1 || n > nbrokers) {
			printf("ERR %s: broker id must be 1..%d\n", cmd, nbrokers);
			goto out;
		}
		err = !strcmp(cmd, "down") ? rd_kafka_mock_broker_set_down(mc, n)
					   : rd_kafka_mock_broker_set_up(mc, n);
	} else if (!strcmp(cmd, "fail-produce")) {
		int code = a2 ? mock_atoi(a2) : RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS;
		rd_kafka_resp_err_t *errs;
		int i;

		n = a1 ? mock_atoi(a1) : -1;
		if (n < 1 || code < 1) {
			printf("ERR %s: usage: fail-produce N [ERRCODE]\n", cmd);
			goto out;
		}
		errs = calloc((size_t)n, sizeof(*errs));
		if (!errs) {
			printf("ERR %s: out of memory\n", cmd);
			goto out;
		}
		for (i = 0; i < n; i++)
			errs[i] = (rd_kafka_resp_err_t)code;
		rd_kafka_mock_push_request_errors_array(mc, MOCK_API_PRODUCE, (size_t)n, errs);
		free(errs);
	} else if (!strcmp(cmd, "clear-errors")) {
		rd_kafka_mock_clear_request_errors(mc, MOCK_API_PRODUCE);
	} else {
		printf("ERR %s: unknown command\n", cmd);
		goto out;
	}
	if (err)
		printf("ERR %s: %s\n", cmd, rd_kafka_err2str(err));
	else
		printf("OK %s%s%s\n", cmd, a1 ? " " : "", a1 ? a1 : "");
out:
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"brokers", required_argument, NULL, 'b'},
	    {"partitions", required_argument, NULL, 'p'},
	    {"topic", required_argument, NULL, 't'},
	    {"bootstrap-file", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {0},
	};
	const char *topics[MOCK_MAX_TOPICS], *bootfile = NULL;
	int ntopics = 0, nbrokers = 1, nparts = 4, opt, i, ret = 0;
	rd_kafka_mock_cluster_t *mc;
	struct sigaction sa = {.sa_handler = mock_on_signal};
	rd_kafka_conf_t *conf;
	char errstr[512], line[256];
	rd_kafka_t *rk;

	while ((opt = getopt_long(argc, argv, "b:p:t:f:hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'b':
			nbrokers = mock_atoi(optarg);
			if (nbrokers < 1 || nbrokers > 16) {
				fprintf(stderr, "kafka_mock: --brokers must be 1..16\n");
				return 2;
			}
			break;
		case 'p':
			nparts = mock_atoi(optarg);
			if (nparts < 1 || nparts > 1000) {
				fprintf(stderr, "kafka_mock: --partitions must be 1..1000\n");
				return 2;
			}
			break;
		case 't':
			if (ntopics == MOCK_MAX_TOPICS) {
				fprintf(stderr, "kafka_mock: at most %d topics\n", MOCK_MAX_TOPICS);
				return 2;
			}
			topics[ntopics++] = optarg;
			break;
		case 'f':
			bootfile = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("kafka_mock (pano) %s, librdkafka %s\n", PANO_VERSION,
			       rd_kafka_version_str());
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (!ntopics)
		topics[ntopics++] = "pano-dns";

	/* The mock cluster lives in (and is driven by) a librdkafka handle of ours. */
	conf = rd_kafka_conf_new();
	rd_kafka_conf_set(conf, "log_level", "4", errstr, sizeof(errstr)); /* no bootstrap notice */
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!rk) {
		fprintf(stderr, "kafka_mock: rd_kafka_new: %s\n", errstr);
		return 1;
	}
	mc = rd_kafka_mock_cluster_new(rk, nbrokers);
	if (!mc) {
		fprintf(stderr, "kafka_mock: rd_kafka_mock_cluster_new failed\n");
		rd_kafka_destroy(rk);
		return 1;
	}
	for (i = 0; i < ntopics; i++) {
		rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mc, topics[i], nparts, 1);

		if (err) {
			fprintf(stderr, "kafka_mock: rd_kafka_mock_topic_create %s: %s\n",
				topics[i], rd_kafka_err2str(err));
			ret = 1;
			goto out;
		}
	}
	if (bootfile) {
		FILE *f = fopen(bootfile, "w");

		if (!f || fprintf(f, "%s\n", rd_kafka_mock_cluster_bootstraps(mc)) < 0 ||
		    fclose(f) != 0) {
			fprintf(stderr, "kafka_mock: write %s: %s\n", bootfile, strerror(errno));
			ret = 1;
			goto out;
		}
	}
	printf("BOOTSTRAP %s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);

	/* No SA_RESTART: a signal interrupts the read below and we leave. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	while (!mock_stop && fgets(line, sizeof(line), stdin))
		if (mock_command(mc, nbrokers, line))
			break;
out:
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return ret;
}
