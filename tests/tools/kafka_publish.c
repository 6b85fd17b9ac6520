// SPDX-License-Identifier: Apache-2.0
/*
 * kafka_publish.c - pushes JSON records through the Kafka sink (sink_kafka.c) exactly as the
 * analyzer does (sink_set_emit, sink_set_poll, sink_set_close), to measure the sink on its own and
 * to feed a broker in tests. Records are the lines of --input (cycled until --count is reached; the
 * key is the line's "id_orig_h" value), or synthetic dns.log-shaped records from
 * --clients distinct clients. Prints one summary line:
 *
 *   records N seconds S rate R delivered D failed F dropped_queue_full Q dropped_at_exit X
 *   produce_errors P dropped L
 *
 * where R is delivered records per second (records dropped do not count), flush at close
 * included, and L the records lost for any reason (F + Q + X + P = N - D).
 *
 * Exit 0 when every record was delivered, 1 otherwise, 2 on bad usage.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "sink.h"

#define PUB_MAX_PROPS 64

struct pub_line {
	char *rec, *key;
	size_t len, keylen;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: kafka_publish --brokers LIST [options]\n"
		   "  -b, --brokers LIST    bootstrap servers\n"
		   "  -t, --topic NAME      topic for the records (default pano-dns)\n"
		   "  -n, --count N         records to publish (default 1000000)\n"
		   "  -i, --input FILE      JSON lines to publish (default: synthetic records)\n"
		   "  -c, --clients N       distinct keys of synthetic records (default 1000)\n"
		   "  -X key=value          librdkafka property (repeatable)\n"
		   "  -T, --timeout MS      flush bound at close (default 30000)\n"
		   "  -v, --verbose         more logging\n"
		   "  -h, --help            this text\n"
		   "  -V, --version         print the version\n");
}

static double pub_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Finds the "id_orig_h" string value in a JSON line; the empty key when there is none. */
static void pub_key(struct pub_line *l)
{
	const char *p = strstr(l->rec, "\"id_orig_h\":\""), *e;

	l->key = "";
	l->keylen = 0;
	if (!p)
		return;
	p += strlen("\"id_orig_h\":\"");
	e = strchr(p, '"');
	if (e) {
		l->key = (char *)p;
		l->keylen = (size_t)(e - p);
	}
}

/* Reads the non-empty lines of path (without their newline). Count in *n; NULL on error. */
static struct pub_line *pub_read(const char *path, size_t *n)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	struct pub_line *lines = NULL;
	size_t cap = 0, bufcap = 0;
	char *buf = NULL;
	ssize_t len;

	*n = 0;
	if (!f) {
		pr_err("fopen %s: %m", path);
		return NULL;
	}
	while ((len = getline(&buf, &bufcap, f)) > 0) {
		while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
			len--;
		if (!len)
			continue;
		if (*n == cap) {
			cap = cap * 2 + 1024;
			lines = realloc(lines, cap * sizeof(*lines));
			if (!lines)
				break;
		}
		lines[*n].rec = strndup(buf, (size_t)len);
		lines[*n].len = (size_t)len;
		pub_key(&lines[*n]);
		(*n)++;
	}
	free(buf);
	if (f != stdin)
		fclose(f);
	return lines;
}

struct pub_stats {
	uint64_t delivered, failed, queue_full, at_exit, produce_err;
};

static void pub_stat_out(void *arg, const char *name, uint64_t v)
{
	struct pub_stats *st = arg;

	if (!strcmp(name, "delivered"))
		st->delivered = v;
	else if (!strcmp(name, "failed"))
		st->failed = v;
	else if (!strcmp(name, "dropped_queue_full"))
		st->queue_full = v;
	else if (!strcmp(name, "dropped_at_exit"))
		st->at_exit = v;
	else if (!strcmp(name, "produce_errors"))
		st->produce_err = v;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"brokers", required_argument, NULL, 'b'}, {"topic", required_argument, NULL, 't'},
	    {"count", required_argument, NULL, 'n'},   {"input", required_argument, NULL, 'i'},
	    {"clients", required_argument, NULL, 'c'}, {"timeout", required_argument, NULL, 'T'},
	    {"verbose", no_argument, NULL, 'v'},       {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},       {0},
	};
	const char *props[PUB_MAX_PROPS], *input = NULL;
	struct kafka_opts o = {.props = props};
	unsigned long long count = 1000000, clients = 1000, i;
	int opt, verbose = 0, timeout_ms = 30000;
	struct pub_line *lines = NULL;
	struct pub_stats st = {0};
	struct sink *s;
	struct sink_set set;
	size_t nlines = 0;
	char rec[512], key[64];
	double t0, t1;

	while ((opt = getopt_long(argc, argv, "b:t:n:i:c:X:T:vhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'b':
			o.brokers = optarg;
			break;
		case 't':
			o.topic = optarg;
			break;
		case 'n':
			count = strtoull(optarg, NULL, 10);
			break;
		case 'i':
			input = optarg;
			break;
		case 'c':
			clients = strtoull(optarg, NULL, 10);
			break;
		case 'X':
			if (o.nprops == PUB_MAX_PROPS) {
				fprintf(stderr, "kafka_publish: too many -X\n");
				return 2;
			}
			props[o.nprops++] = optarg;
			break;
		case 'T':
			timeout_ms = atoi(optarg);
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("kafka_publish (pano) %s\n", PANO_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!o.brokers || optind != argc || !count || !clients) {
		usage(stderr);
		return 2;
	}
	log_init(argv[0], verbose);
	if (input && (!(lines = pub_read(input, &nlines)) || !nlines)) {
		fprintf(stderr, "kafka_publish: no records in %s\n", input);
		return 1;
	}
	if (sink_kafka_open(&o, &s))
		return 1;
	sink_set_init(&set);
	sink_set_add(&set, s);

	t0 = pub_now();
	for (i = 0; i < count; i++) {
		if (lines) {
			struct pub_line *l = &lines[i % nlines];

			sink_set_emit(&set, "dns", l->key, l->keylen, l->rec, l->len);
		} else {
			int kl = snprintf(key, sizeof(key), "10.%llu.%llu.%llu",
					  (i % clients) >> 16 & 255, (i % clients) >> 8 & 255,
					  (i % clients) & 255);
			int rl = snprintf(
			    rec, sizeof(rec),
			    "{\"ts\":%.6f,\"uid\":\"C%010llu\",\"id_orig_h\":\"%s\","
			    "\"id_orig_p\":%llu,\"id_resp_h\":\"198.18.0.2\",\"id_resp_p\":53,"
			    "\"proto\":\"udp\",\"trans_id\":%llu,\"rtt\":0.000231,"
			    "\"query\":\"host%llu.example.com\",\"qclass\":1,"
			    "\"qclass_name\":\"C_INTERNET\",\"qtype\":1,\"qtype_name\":\"A\","
			    "\"rcode\":0,\"rcode_name\":\"NOERROR\",\"AA\":true,\"TC\":false,"
			    "\"RD\":true,\"RA\":false,\"Z\":0,\"answers\":[\"192.0.2.%llu\"],"
			    "\"TTLs\":[3600.0],\"rejected\":false}",
			    1700000000.0 + (double)i / 1e6, i, key, 1024 + i % 60000, i & 0xffff,
			    i % 100000, i & 255);

			sink_set_emit(&set, "dns", key, (size_t)kl, rec, (size_t)rl);
		}
		if ((i & 1023) == 1023)
			sink_set_poll(&set);
	}
	sink_set_close(&set, timeout_ms);
	t1 = pub_now();
	s->stats(s, pub_stat_out, &st);
	struct sink_tally t;
	sink_tally(s, &t);
	/* The rate is what reached the broker: records dropped on a full queue do not count. */
	printf("records %llu seconds %.3f rate %.0f delivered %llu failed %llu "
	       "dropped_queue_full %llu dropped_at_exit %llu produce_errors %llu dropped %llu\n",
	       count, t1 - t0, (double)st.delivered / (t1 - t0), (unsigned long long)st.delivered,
	       (unsigned long long)st.failed, (unsigned long long)st.queue_full,
	       (unsigned long long)st.at_exit, (unsigned long long)st.produce_err,
	       (unsigned long long)sink_tally_dropped(&t));
	for (i = 0; i < nlines; i++)
		free(lines[i].rec);
	free(lines);
	sink_set_free(&set);
	return st.delivered == count ? 0 : 1;
}
