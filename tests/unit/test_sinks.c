// SPDX-License-Identifier: Apache-2.0
/*
 * test_sinks.c - sink sets, the file sink and the Kafka sink. The Kafka cases run
 * against librdkafka's mock cluster, started in this process on a real loopback TCP port, and
 * read the records back with a real librdkafka consumer.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "check.h"
#include "sink.h"

/* ---- helpers ---------------------------------------------------------------------------- */

static struct sink_set set; /* the sinks each case adds to and emits through */

struct stat_get {
	const char *name;
	uint64_t v;
	int found;
};

static void stat_get_out(void *arg, const char *name, uint64_t v)
{
	struct stat_get *g = arg;

	if (!strcmp(name, g->name)) {
		g->v = v;
		g->found = 1;
	}
}

/* One named value from a sink's stats callback; UINT64_MAX when the sink does not report it. */
static uint64_t sink_stat(struct sink *s, const char *name)
{
	struct stat_get g = {.name = name};

	s->stats(s, stat_get_out, &g);
	return g.found ? g.v : UINT64_MAX;
}

/* The sink's tally, checked: in = out + every drop reason + pending. */
static struct sink_tally tally_of(struct sink *s)
{
	struct sink_tally t;

	sink_tally(s, &t);
	if (t.in != t.out + sink_tally_dropped(&t) + t.pending) {
		printf("  sink %s: in %llu != out %llu + dropped %llu + pending %llu\n", s->name,
		       (unsigned long long)t.in, (unsigned long long)t.out,
		       (unsigned long long)sink_tally_dropped(&t), (unsigned long long)t.pending);
		CHECK(!"the sink's records do not add up");
	}
	return t;
}

/* The count of one drop reason in t; UINT64_MAX when the sink has no such reason. */
static uint64_t tally_drop(const struct sink_tally *t, const char *reason)
{
	for (unsigned i = 0; i < t->nreasons; i++)
		if (!strcmp(t->dropped[i].reason, reason))
			return t->dropped[i].n;
	return UINT64_MAX;
}

/* A sink that remembers what it got, for the registry tests. */
struct fake_sink {
	struct sink s;
	char got[4096];
	size_t used;
	int refuse; /* emit fails */
	int polls, closed, freed;
	uint64_t taken, refused;
};

static int fake_emit(struct sink *s, const char *proto, const void *key, size_t keylen,
		     const void *rec, size_t len)
{
	struct fake_sink *f = (struct fake_sink *)s;

	if (f->refuse) {
		f->refused++;
		return -ENOBUFS;
	}
	f->taken++;
	f->used +=
	    (size_t)snprintf(f->got + f->used, sizeof(f->got) - f->used, "%s|%.*s|%.*s;", proto,
			     (int)keylen, (const char *)key, (int)len, (const char *)rec);
	return 0;
}

static void fake_poll(struct sink *s)
{
	((struct fake_sink *)s)->polls++;
}

static int fake_close(struct sink *s, int timeout_ms)
{
	((struct fake_sink *)s)->closed++;
	return ((struct fake_sink *)s)->refuse ? -EIO : 0;
}

static void fake_free(struct sink *s)
{
	((struct fake_sink *)s)->freed++;
}

static void fake_tally(struct sink *s, struct sink_tally *t)
{
	struct fake_sink *f = (struct fake_sink *)s;

	t->out = f->taken;
	sink_tally_drop(t, "refused", f->refused);
}

static void fake_init(struct fake_sink *f, const char *name)
{
	memset(f, 0, sizeof(*f));
	f->s.name = name;
	f->s.emit = fake_emit;
	f->s.poll = fake_poll;
	f->s.close = fake_close;
	f->s.free = fake_free;
	f->s.tally = fake_tally;
}

/* ---- registry ----------------------------------------------------------------------------- */

static void test_registry(void)
{
	struct fake_sink a, b;

	fake_init(&a, "a");
	fake_init(&b, "b");
	b.refuse = 1;
	CHECK(set.head == NULL);
	sink_set_add(&set, &a.s);
	sink_set_add(&set, &b.s);
	CHECK(set.head == &a.s);
	CHECK(a.s.next == &b.s);

	sink_set_emit(&set, "dns", "10.0.0.1", 8, "{\"x\":1}", 7);
	b.refuse = 0;
	sink_set_emit(&set, "dns", "10.0.0.2", 8, "{\"x\":2}", 7);
	sink_set_poll(&set);
	CHECK_EQ_STR(a.got, "dns|10.0.0.1|{\"x\":1};dns|10.0.0.2|{\"x\":2};");
	CHECK_EQ_STR(b.got, "dns|10.0.0.2|{\"x\":2};");
	struct sink_tally ta = tally_of(&a.s), tb = tally_of(&b.s);
	CHECK_EQ_INT(ta.in, 2);
	CHECK_EQ_INT(ta.out, 2);
	CHECK_EQ_INT(sink_tally_dropped(&ta), 0);
	CHECK_EQ_INT(tb.in, 2);
	CHECK_EQ_INT(tb.out, 1);
	CHECK_EQ_INT(tally_drop(&tb, "refused"), 1);
	CHECK_EQ_INT(a.polls, 1);
	CHECK_EQ_INT(b.polls, 1);

	b.refuse = 1; /* close reports an error: the first error is returned */
	CHECK_EQ_INT(sink_set_close(&set, 100), -EIO);
	CHECK_EQ_INT(a.closed, 1);
	CHECK_EQ_INT(b.closed, 1);
	/* Closed sinks stay listed (for stats) but take nothing more and are not closed twice. */
	sink_set_emit(&set, "dns", "k", 1, "r", 1);
	sink_set_poll(&set);
	CHECK_EQ_INT(a.s.in, 2);
	CHECK_EQ_INT(a.polls, 1);
	CHECK_EQ_INT(sink_set_close(&set, 100), 0);
	CHECK_EQ_INT(a.closed, 1);
	sink_set_free(&set);
	CHECK_EQ_INT(a.freed, 1);
	CHECK_EQ_INT(b.freed, 1);
	CHECK(set.head == NULL);
}

/* ---- file sink ---------------------------------------------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0;

	*len = 0;
	if (!f)
		return NULL;
	for (;;) {
		if (*len + 65536 > cap) {
			cap = cap * 2 + 65536;
			buf = realloc(buf, cap + 1);
		}
		size_t n = fread(buf + *len, 1, cap - *len, f);

		if (!n)
			break;
		*len += n;
	}
	fclose(f);
	buf[*len] = '\0';
	return buf;
}

static void test_file_sink(void)
{
	char path[] = "/tmp/test_sinks.XXXXXX", rec[64];
	static char big[300 * 1024];
	struct sink *s = NULL;
	size_t len, off = 0;
	char *got;
	int fd = mkstemp(path), i;

	CHECK(fd >= 0);
	close(fd);
	CHECK_EQ_INT(sink_file_open(path, &s), 0);
	if (!s)
		return;
	sink_set_add(&set, s);
	for (i = 0; i < 5000; i++) {
		int n = snprintf(rec, sizeof(rec), "{\"n\":%d}", i);

		sink_set_emit(&set, "dns", "c", 1, rec, (size_t)n);
	}
	/* A record bigger than the buffer goes straight out, in order. */
	memset(big, 'x', sizeof(big));
	sink_set_emit(&set, "dns", "c", 1, big, sizeof(big));
	sink_set_emit(&set, "dns", "c", 1, "{\"last\":1}", 10);
	CHECK_EQ_INT(sink_set_close(&set, 1000), 0);
	CHECK_EQ_INT(sink_stat(s, "written"), 5002);
	CHECK_EQ_INT(sink_stat(s, "dropped_write_error"), 0);
	struct sink_tally t = tally_of(s);
	CHECK_EQ_INT(t.in, 5002);
	CHECK_EQ_INT(t.out, 5002);
	CHECK_EQ_INT(t.pending, 0);

	got = slurp(path, &len);
	CHECK(got != NULL);
	if (got) {
		CHECK_EQ_INT(sink_stat(s, "bytes"), len);
		for (i = 0; i < 5000; i++) {
			int n = snprintf(rec, sizeof(rec), "{\"n\":%d}\n", i);

			if (off + (size_t)n > len || memcmp(got + off, rec, (size_t)n)) {
				CHECK(!"record out of order or missing");
				break;
			}
			off += (size_t)n;
		}
		CHECK(off + sizeof(big) + 1 <= len && got[off] == 'x' &&
		      got[off + sizeof(big) - 1] == 'x' && got[off + sizeof(big)] == '\n');
		off += sizeof(big) + 1;
		CHECK(off + 11 == len && !memcmp(got + off, "{\"last\":1}\n", 11));
	}
	free(got);
	unlink(path);
	sink_set_free(&set);
}

/* The reader goes away: EPIPE is counted and reported, records are dropped, nothing crashes. */
static void test_file_sink_epipe(void)
{
	int pfd[2], saved = dup(STDOUT_FILENO), i;
	struct sink *s = NULL;

	CHECK(pipe(pfd) == 0);
	CHECK(dup2(pfd[1], STDOUT_FILENO) >= 0);
	close(pfd[1]);
	close(pfd[0]); /* no reader */
	CHECK_EQ_INT(sink_file_open("-", &s), 0);
	if (s) {
		sink_set_add(&set, s);
		for (i = 0; i < 100000; i++)
			sink_set_emit(&set, "dns", "c", 1, "{\"a\":\"bcdefghijklmnopqrstuvwxyz\"}",
				      32);
		CHECK(sink_set_close(&set, 100) < 0);
		CHECK_EQ_INT(sink_stat(s, "dropped_write_error"), 100000);
		CHECK_EQ_INT(sink_stat(s, "written"), 0);
		struct sink_tally t = tally_of(s);
		CHECK_EQ_INT(t.in, 100000);
		CHECK_EQ_INT(t.out, 0);
		CHECK_EQ_INT(tally_drop(&t, "write_error"), 100000);
		CHECK_EQ_INT(t.pending, 0);
	}
	dup2(saved, STDOUT_FILENO);
	close(saved);
	sink_set_free(&set);
}

/*
 * The disk fills part way through a flush (a file size limit, SIGXFSZ ignored: write(2) takes
 * what fits, then fails with EFBIG): the records written whole are out, the one cut and all
 * after it are dropped, and in = out + dropped at every step. JSON lines and length-prefixed.
 */
static void test_file_sink_partial_write(int prefixed)
{
	char path[] = "/tmp/test_sinks.XXXXXX", rec[64];
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	struct rlimit lim, saved;
	const size_t reclen = 40, frame = prefixed ? reclen + 4 : reclen + 1, limit = 10000;
	struct sink *s = NULL;
	int fd = mkstemp(path), i;

	CHECK(fd >= 0);
	close(fd);
	memset(rec, 'r', sizeof(rec));
	CHECK_EQ_INT(sink_file_open(path, &s), 0);
	if (!s)
		return;
	if (prefixed)
		sink_file_set_length_prefixed(s);
	sink_set_add(&set, s);
	sigaction(SIGXFSZ, &ign, &old);
	getrlimit(RLIMIT_FSIZE, &saved);
	lim = saved;
	lim.rlim_cur = limit;
	CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
	for (i = 0; i < 1000; i++) /* 41-44 KB: the 256 KiB buffer holds them all */
		sink_set_emit(&set, "dns", "c", 1, rec, reclen);
	struct sink_tally t = tally_of(s);
	CHECK_EQ_INT(t.in, 1000);
	CHECK_EQ_INT(t.pending, 1000);
	CHECK_EQ_INT(t.out, 0);
	CHECK(sink_set_close(&set, 100) < 0);
	setrlimit(RLIMIT_FSIZE, &saved);
	sigaction(SIGXFSZ, &old, NULL);
	t = tally_of(s);
	CHECK_EQ_INT(t.in, 1000);
	CHECK_EQ_INT(t.out, limit / frame);
	CHECK_EQ_INT(tally_drop(&t, "write_error"), 1000 - limit / frame);
	CHECK_EQ_INT(t.pending, 0);
	CHECK_EQ_INT(sink_stat(s, "bytes"), limit);
	unlink(path);
	sink_set_free(&set);
}

static void test_file_sink_partial_lines(void)
{
	test_file_sink_partial_write(0);
}

static void test_file_sink_partial_prefixed(void)
{
	test_file_sink_partial_write(1);
}

/* /dev/full: nothing is ever written; every record is dropped, none counted out. */
static void test_file_sink_full(void)
{
	struct sink *s = NULL;
	int i;

	CHECK_EQ_INT(sink_file_open("/dev/full", &s), 0);
	if (!s)
		return;
	sink_set_add(&set, s);
	for (i = 0; i < 3000; i++)
		sink_set_emit(&set, "dns", "c", 1,
			      "{\"a\":\"bcdefghijklmnopqrstuvwxyz0123456789\"}", 42);
	tally_of(s);
	CHECK(sink_set_close(&set, 100) < 0);
	struct sink_tally t = tally_of(s);
	CHECK_EQ_INT(t.in, 3000);
	CHECK_EQ_INT(t.out, 0);
	CHECK_EQ_INT(tally_drop(&t, "write_error"), 3000);
	CHECK_EQ_INT(t.pending, 0);
	sink_set_free(&set);
}

static void test_file_sink_open_error(void)
{
	struct sink *s = NULL;

	CHECK_EQ_INT(sink_file_open("/nonexistent-dir/x.log", &s), -ENOENT);
	CHECK(s == NULL);
}

/* ---- Kafka sink ------------------------------------------------------------------------------ */

#define KT_PARTS   4
#define KT_CLIENTS 13
#define KT_RECORDS 2000

static rd_kafka_t *mock_rk;
static rd_kafka_mock_cluster_t *mock;

static int mock_start(const char *topic)
{
	char errstr[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();

	rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
	mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!mock_rk)
		return -1;
	mock = rd_kafka_mock_cluster_new(mock_rk, 1);
	if (!mock)
		return -1;
	return rd_kafka_mock_topic_create(mock, topic, KT_PARTS, 1) ? -1 : 0;
}

static void mock_stop(void)
{
	if (mock)
		rd_kafka_mock_cluster_destroy(mock);
	if (mock_rk)
		rd_kafka_destroy(mock_rk);
	mock = NULL;
	mock_rk = NULL;
}

/* Opens the Kafka sink on the running mock cluster and adds it to the set. The sink, or NULL
 * (a check failed). */
static struct sink *kafka_open_on_mock(struct kafka_opts *o)
{
	struct sink *s = NULL;

	o->brokers = rd_kafka_mock_cluster_bootstraps(mock);
	CHECK_EQ_INT(sink_kafka_open(o, &s), 0);
	if (s)
		sink_set_add(&set, s);
	return s;
}

/* Polls the sinks until the Kafka sink reports want delivered, or gives up after a generous
 * number of rounds (so a broken sink fails the test instead of hanging it). */
static void kafka_wait_delivered(struct sink *s, uint64_t want)
{
	int i;

	for (i = 0; i < 3000 && sink_stat(s, "delivered") < want; i++) {
		sink_set_poll(&set);
		usleep(10000);
	}
}

struct consumed {
	char *key, *val;
	int part;
};

/* Reads every message of topic (all partitions, from the beginning, until end of each
 * partition) with a librdkafka consumer. Returns how many, in *out (caller frees). */
static int kafka_consume_all(const char *brokers, const char *topic, struct consumed **out)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_topic_partition_list_t *parts;
	char errstr[256];
	rd_kafka_t *rk;
	int n = 0, cap = 0, eof = 0, idle = 0, i;

	*out = NULL;
	rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof(errstr));
	rd_kafka_conf_set(conf, "enable.partition.eof", "true", errstr, sizeof(errstr));
	rd_kafka_conf_set(conf, "group.id", "test-sinks", errstr, sizeof(errstr));
	rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
	if (!rk) {
		printf("  rd_kafka_new consumer: %s\n", errstr);
		return -1;
	}
	parts = rd_kafka_topic_partition_list_new(KT_PARTS);
	for (i = 0; i < KT_PARTS; i++)
		rd_kafka_topic_partition_list_add(parts, topic, i)->offset =
		    RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_assign(rk, parts);
	rd_kafka_topic_partition_list_destroy(parts);
	while (eof < KT_PARTS && idle < 100) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);

		if (!m) {
			idle++;
			continue;
		}
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			eof++;
		} else if (m->err) {
			printf("  consume: %s\n", rd_kafka_message_errstr(m));
		} else {
			if (n == cap) {
				cap = cap * 2 + 256;
				*out = realloc(*out, (size_t)cap * sizeof(**out));
			}
			(*out)[n].key = strndup(m->key ? m->key : "", m->key_len);
			(*out)[n].val = strndup(m->payload, m->len);
			(*out)[n].part = m->partition;
			n++;
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return n;
}

static void consumed_free(struct consumed *c, int n)
{
	int i;

	for (i = 0; i < n && c; i++) {
		free(c[i].key);
		free(c[i].val);
	}
	free(c);
}

/* Records arrive, each once, with its key, one client's records on one partition. */
static void test_kafka_delivery(void)
{
	const char *props[] = {"linger.ms=5", "compression.codec=zstd"};
	struct kafka_opts o = {.topic = "t-deliver", .props = props, .nprops = 2};
	int client_part[KT_CLIENTS], seen[KT_RECORDS] = {0}, i, n = 0;
	struct consumed *c = NULL;
	struct sink *s = NULL;
	char key[32], rec[128];

	if (mock_start("t-deliver")) {
		CHECK(!"mock cluster did not start");
		goto out;
	}
	if (!(s = kafka_open_on_mock(&o)))
		goto out;
	for (i = 0; i < KT_RECORDS; i++) {
		int kl = snprintf(key, sizeof(key), "198.18.0.%d", i % KT_CLIENTS);
		int rl = snprintf(rec, sizeof(rec), "{\"id\":%d,\"id_orig_h\":\"%s\"}", i, key);

		sink_set_emit(&set, "dns", key, (size_t)kl, rec, (size_t)rl);
	}
	CHECK_EQ_INT(s->in, KT_RECORDS);
	kafka_wait_delivered(s, KT_RECORDS);
	CHECK_EQ_INT(sink_stat(s, "delivered"), KT_RECORDS);
	CHECK_EQ_INT(sink_stat(s, "failed"), 0);
	CHECK_EQ_INT(sink_stat(s, "dropped_queue_full"), 0);
	CHECK_EQ_INT(sink_set_close(&set, 5000), 0);
	CHECK_EQ_INT(sink_stat(s, "dropped_at_exit"), 0);

	n = kafka_consume_all(o.brokers, "t-deliver", &c);
	CHECK_EQ_INT(n, KT_RECORDS);
	for (i = 0; i < KT_CLIENTS; i++)
		client_part[i] = -1;
	for (i = 0; i < n; i++) {
		int id, cl;

		if (sscanf(c[i].val, "{\"id\":%d,", &id) != 1 || id < 0 || id >= KT_RECORDS) {
			CHECK(!"unexpected record");
			continue;
		}
		seen[id]++;
		snprintf(key, sizeof(key), "198.18.0.%d", id % KT_CLIENTS);
		CHECK_EQ_STR(c[i].key, key);
		snprintf(rec, sizeof(rec), "{\"id\":%d,\"id_orig_h\":\"%s\"}", id, key);
		CHECK_EQ_STR(c[i].val, rec);
		cl = id % KT_CLIENTS;
		if (client_part[cl] < 0)
			client_part[cl] = c[i].part;
		CHECK_EQ_INT(c[i].part, client_part[cl]);
	}
	for (i = 0; i < KT_RECORDS; i++)
		if (seen[i] != 1) {
			printf("  record %d arrived %d times\n", i, seen[i]);
			CHECK(seen[i] == 1);
			break;
		}
out:
	consumed_free(c, n > 0 ? n : 0);
	sink_set_free(&set);
	mock_stop();
}

/* Starts the mock cluster with the topic o->topic (its broker down when down), opens the Kafka
 * sink on it and adds the sink to the registry. The sink, or NULL (a check failed). */
static struct sink *kafka_on_mock(struct kafka_opts *o, int down)
{
	if (mock_start(o->topic)) {
		CHECK(!"mock cluster did not start");
		return NULL;
	}
	if (down)
		CHECK_EQ_INT(rd_kafka_mock_broker_set_down(mock, 1), 0);
	return kafka_open_on_mock(o);
}

/* Broker down, tiny local queue: emit never blocks, overflow is counted as dropped_queue_full,
 * and what sat in the queue at close is counted as dropped_at_exit. */
static void test_kafka_queue_full(void)
{
	const char *props[] = {"queue.buffering.max.messages=10", "linger.ms=5"};
	struct kafka_opts o = {.topic = "t-full", .props = props, .nprops = 2};
	struct sink *s = kafka_on_mock(&o, 1);
	int i;

	if (!s)
		goto out;
	for (i = 0; i < 100; i++)
		sink_set_emit(&set, "dns", "198.18.0.10", 11, "{\"q\":1}", 7);
	sink_set_poll(&set);
	CHECK_EQ_INT(sink_stat(s, "dropped_queue_full"), 90);
	CHECK_EQ_INT(sink_stat(s, "queued"), 10);
	CHECK_EQ_INT(sink_stat(s, "delivered"), 0);
	struct sink_tally t = tally_of(s);
	CHECK_EQ_INT(t.in, 100);
	CHECK_EQ_INT(t.out, 0);
	CHECK_EQ_INT(t.pending, 10);
	CHECK_EQ_INT(tally_drop(&t, "queue_full"), 90);
	CHECK_EQ_INT(sink_set_close(&set, 200), -ETIMEDOUT);
	CHECK_EQ_INT(sink_stat(s, "dropped_at_exit"), 10);
	CHECK_EQ_INT(sink_stat(s, "queued"), 0);
	t = tally_of(s);
	CHECK_EQ_INT(t.in, 100);
	CHECK_EQ_INT(t.out, 0);
	CHECK_EQ_INT(t.pending, 0);
	CHECK_EQ_INT(tally_drop(&t, "queue_full"), 90);
	CHECK_EQ_INT(tally_drop(&t, "at_exit"), 10);
	CHECK_EQ_INT(tally_drop(&t, "delivery_failed"), 0);
out:
	sink_set_free(&set);
	mock_stop();
}

/* Broker down while records come in: they wait in the queue and are delivered once it is back. */
static void test_kafka_recovery(void)
{
	struct kafka_opts o = {.topic = "t-recover"};
	struct consumed *c = NULL;
	struct sink *s = NULL;
	int i, n = 0;

	if (mock_start("t-recover")) {
		CHECK(!"mock cluster did not start");
		goto out;
	}
	if (!(s = kafka_open_on_mock(&o)))
		goto out;
	sink_set_emit(&set, "dns", "a", 1, "{\"before\":1}", 12);
	kafka_wait_delivered(s, 1);
	CHECK_EQ_INT(sink_stat(s, "delivered"), 1);

	CHECK_EQ_INT(rd_kafka_mock_broker_set_down(mock, 1), 0);
	for (i = 0; i < 50; i++)
		sink_set_emit(&set, "dns", "b", 1, "{\"during\":1}", 12);
	for (i = 0; i < 30; i++) { /* let the producer notice */
		sink_set_poll(&set);
		usleep(10000);
	}
	CHECK_EQ_INT(sink_stat(s, "delivered"), 1);
	CHECK_EQ_INT(rd_kafka_mock_broker_set_up(mock, 1), 0);
	kafka_wait_delivered(s, 51);
	CHECK_EQ_INT(sink_stat(s, "delivered"), 51);
	CHECK_EQ_INT(sink_stat(s, "failed"), 0);
	CHECK_EQ_INT(sink_set_close(&set, 5000), 0);
	n = kafka_consume_all(o.brokers, "t-recover", &c);
	CHECK_EQ_INT(n, 51);
out:
	consumed_free(c, n > 0 ? n : 0);
	sink_set_free(&set);
	mock_stop();
}

/* Polls until the sink has a report (delivered or failed) for want records, bounded. */
static void kafka_wait_reported(struct sink *s, uint64_t want)
{
	for (int i = 0; i < 3000 && sink_stat(s, "delivered") + sink_stat(s, "failed") < want;
	     i++) {
		sink_set_poll(&set);
		usleep(10000);
	}
}

/* Broker down longer than message.timeout.ms: every record expires in the queue and is
 * reported failed while the sink is open; in = out + dropped + pending throughout. */
static void test_kafka_timeout(void)
{
	const char *props[] = {"message.timeout.ms=300", "linger.ms=5"};
	struct kafka_opts o = {.topic = "t-timeout", .props = props, .nprops = 2};
	struct sink *s = kafka_on_mock(&o, 1);
	int i;

	if (!s)
		goto out;
	for (i = 0; i < 20; i++)
		sink_set_emit(&set, "dns", "198.18.0.11", 11, "{\"t\":1}", 7);
	struct sink_tally t = tally_of(s);
	CHECK_EQ_INT(t.in, 20);
	CHECK_EQ_INT(t.pending, 20);
	kafka_wait_reported(s, 20);
	t = tally_of(s);
	CHECK_EQ_INT(t.out, 0);
	CHECK_EQ_INT(tally_drop(&t, "delivery_failed"), 20);
	CHECK_EQ_INT(t.pending, 0);
	CHECK_EQ_INT(sink_set_close(&set, 200), 0); /* nothing was left to flush */
	t = tally_of(s);
	CHECK_EQ_INT(tally_drop(&t, "at_exit"), 0);
	CHECK_EQ_INT(tally_drop(&t, "delivery_failed"), 20);
out:
	sink_set_free(&set);
	mock_stop();
}

/* The broker refuses some Produce requests for good (MESSAGE_TOO_LARGE, not retried): the
 * records of those batches fail, the rest arrive, and every record is accounted for exactly
 * once. */
static void test_kafka_produce_refused(void)
{
	const char *props[] = {"linger.ms=1", "batch.num.messages=10", "retries=0"};
	struct kafka_opts o = {.topic = "t-refused", .props = props, .nprops = 3};
	struct consumed *c = NULL;
	struct sink *s = kafka_on_mock(&o, 0);
	int i, n = 0;

	if (!s)
		goto out;
	rd_kafka_mock_push_request_errors(
	    mock, 0 /* Produce */, 3, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
	    RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
	for (i = 0; i < 100; i++) {
		sink_set_emit(&set, "dns", "198.18.0.12", 11, "{\"r\":1}", 7);
		if (i % 10 == 9) { /* batches of about ten, one request each */
			sink_set_poll(&set);
			usleep(20000);
		}
	}
	kafka_wait_reported(s, 100);
	struct sink_tally t = tally_of(s);
	uint64_t failed = tally_drop(&t, "delivery_failed");
	CHECK_EQ_INT(t.in, 100);
	CHECK_EQ_INT(t.pending, 0);
	CHECK(failed > 0 && failed < 100);
	CHECK_EQ_INT(t.out + failed, 100); /* nothing refused locally nor queued */
	CHECK_EQ_INT(sink_set_close(&set, 2000), 0);
	n = kafka_consume_all(o.brokers, "t-refused", &c);
	CHECK_EQ_INT(n, (int)t.out); /* out means in the broker */
out:
	consumed_free(c, n > 0 ? n : 0);
	sink_set_free(&set);
	mock_stop();
}

/* -X is applied after the defaults; a bad property or a malformed -X fails the open. */
static void test_kafka_bad_props(void)
{
	const char *bad_name[] = {"no.such.property=1"};
	const char *bad_form[] = {"linger.ms"};
	const char *bad_value[] = {"compression.codec=nonsense"};
	struct kafka_opts o = {.brokers = "127.0.0.1:1", .nprops = 1};
	struct sink *s = NULL;

	o.props = bad_name;
	CHECK_EQ_INT(sink_kafka_open(&o, &s), -EINVAL);
	o.props = bad_form;
	CHECK_EQ_INT(sink_kafka_open(&o, &s), -EINVAL);
	o.props = bad_value;
	CHECK_EQ_INT(sink_kafka_open(&o, &s), -EINVAL);
	o.brokers = NULL;
	o.nprops = 0;
	CHECK_EQ_INT(sink_kafka_open(&o, &s), -EINVAL);
	CHECK(s == NULL);
}

/* Each record goes to its log's topic: dns to --kafka-topic NAME, a path given PATH=NAME to
 * that, any other to pano-PATH; the sink's account covers every path at once. */
static void test_kafka_paths(void)
{
	const char *const topics[] = {"ssl=t-paths-ssl"};
	const char *props[] = {"linger.ms=5"};
	struct kafka_opts o = {
	    .topic = "t-paths-dns", .topics = topics, .ntopics = 1, .props = props, .nprops = 1};
	static const char *const paths[] = {"dns", "ssl", "http"};
	static const char *const names[] = {"t-paths-dns", "t-paths-ssl", "pano-http"};
	struct consumed *c = NULL;
	struct sink *s = NULL;
	char rec[64];
	int i, n;

	CHECK_EQ_INT(kafka_topic_arg_check("ssl=x"), 0);
	CHECK_EQ_INT(kafka_topic_arg_check("http="), -EINVAL);
	CHECK_EQ_INT(kafka_topic_arg_check("=x"), -EINVAL);
	CHECK_EQ_INT(kafka_topic_arg_check("Bad=x"), -EINVAL);
	CHECK_EQ_INT(kafka_topic_arg_check("ssl"), -EINVAL);
	if (mock_start("t-paths-dns") ||
	    rd_kafka_mock_topic_create(mock, "t-paths-ssl", KT_PARTS, 1) ||
	    rd_kafka_mock_topic_create(mock, "pano-http", KT_PARTS, 1)) {
		CHECK(!"mock cluster did not start");
		goto out;
	}
	if (!(s = kafka_open_on_mock(&o)))
		goto out;
	for (i = 0; i < 30; i++) {
		int rl = snprintf(rec, sizeof(rec), "{\"_path\":\"%s\",\"n\":%d}", paths[i % 3], i);
		sink_set_emit(&set, paths[i % 3], "198.18.0.1", 10, rec, (size_t)rl);
	}
	kafka_wait_delivered(s, 30);
	CHECK_EQ_INT(sink_set_close(&set, 5000), 0);
	struct sink_tally t = tally_of(s);
	CHECK_EQ_INT(t.in, 30);
	CHECK_EQ_INT(t.out, 30);
	CHECK_EQ_INT(t.pending + sink_tally_dropped(&t), 0);
	CHECK_EQ_INT(sink_stat(s, "delivered_dns"), 10);
	CHECK_EQ_INT(sink_stat(s, "delivered_ssl"), 10);
	CHECK_EQ_INT(sink_stat(s, "delivered_http"), 10);
	for (int p = 0; p < 3; p++) {
		n = kafka_consume_all(o.brokers, names[p], &c);
		CHECK_EQ_INT(n, 10);
		int ok = 1;
		for (i = 0; i < n; i++) {
			snprintf(rec, sizeof(rec), "{\"_path\":\"%s\",", paths[p]);
			ok &= strncmp(c[i].val, rec, strlen(rec)) == 0;
		}
		CHECK(ok);
		consumed_free(c, n > 0 ? n : 0);
		c = NULL;
	}
out:
	sink_set_free(&set);
	mock_stop();
}

int main(void)
{
	sink_set_init(&set);
	TEST_CASE("sinks_registry_fanout", test_registry);
	TEST_CASE("sink_file_lines", test_file_sink);
	TEST_CASE("sink_file_epipe", test_file_sink_epipe);
	TEST_CASE("sink_file_open_error", test_file_sink_open_error);
	TEST_CASE("sink_file_partial_write_lines", test_file_sink_partial_lines);
	TEST_CASE("sink_file_partial_write_prefixed", test_file_sink_partial_prefixed);
	TEST_CASE("sink_file_dev_full", test_file_sink_full);
	TEST_CASE("sink_kafka_bad_props", test_kafka_bad_props);
	TEST_CASE("sink_kafka_delivery_keys_partitions", test_kafka_delivery);
	TEST_CASE("sink_kafka_topic_per_path", test_kafka_paths);
	TEST_CASE("sink_kafka_queue_full", test_kafka_queue_full);
	TEST_CASE("sink_kafka_recovery", test_kafka_recovery);
	TEST_CASE("sink_kafka_timeout_failed", test_kafka_timeout);
	TEST_CASE("sink_kafka_produce_refused", test_kafka_produce_refused);
	TEST_EXIT();
}
