// SPDX-License-Identifier: Apache-2.0
/*
 * sink_kafka.c - the Kafka sink: every record becomes one Kafka message, produced with
 * librdkafka to its log's topic (path "dns" -> pano-dns, "ssl" -> pano-ssl, "http" ->
 * pano-http, unless --kafka-topic [PATH=]NAME names another), keyed by what the protocol passes
 * as key (the client address) so that the default consistent partitioner keeps one client's
 * records on one partition.
 *
 * Defaults batch and compress (linger, big batches, lz4) and bound librdkafka's local queue;
 * every -X key=value is applied afterwards, so a user can override any of them.
 *
 * The packet path never blocks here: when the local queue is full we serve callbacks once and
 * retry once, then drop the record and count it (dropped_queue_full). While the brokers are
 * down the queue holds what it can (messages expire after message.timeout.ms and are counted
 * as failed) and librdkafka delivers the rest when a broker is back. Close flushes within its
 * timeout, purges what is left and counts it as dropped_at_exit.
 *
 * Every record that does not reach Kafka is counted under one cause, and each cause is said in
 * one line (broker errors once per outage, delivery failures at most every 10 s, a missing
 * topic once); close then sums up in one line what was lost, and fails (the analyzer exits 1)
 * when records were left undelivered at exit.
 *
 * All callbacks run from rd_kafka_poll()/rd_kafka_flush() on the caller's thread (the analyzer's
 * main loop via sink_set_poll()), so the tallies below need no locking.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "counter.h"
#include "log.h"
#include "sink.h"

PANO_COUNTER(c_kafka_queue_full, "kafka_dropped_queue_full", "drop",
	     "records dropped because librdkafka's local queue was full");
PANO_COUNTER(c_kafka_failed, "kafka_delivery_failed", "drop",
	     "records librdkafka reported as not delivered");
PANO_COUNTER(c_kafka_produce_err, "kafka_produce_error", "drop",
	     "records rejected by rd_kafka_produce for a reason other than a full queue");
PANO_COUNTER(c_kafka_at_exit, "kafka_dropped_at_exit", "drop",
	     "records still undelivered when the Kafka sink closed");

#define KAFKA_MAX_TOPICS   8
#define KAFKA_LOG_EVERY_NS (10 * 1000000000ull) /* rate limit for repeated warnings */

struct kafka_topic {
	char path[KAFKA_PATH_MAX];
	rd_kafka_topic_t *rkt; /* NULL once the sink is closed (the counts stay) */
	int missing_logged;    /* "does not exist" said */
	uint64_t delivered;    /* this path's share of the sink's delivered */
};

/* A topic name the user gave a path (--kafka-topic [PATH=]NAME). */
struct kafka_name {
	char path[KAFKA_PATH_MAX];
	char *topic;
};

struct kafka_sink {
	struct sink s;
	rd_kafka_t *rk;
	struct kafka_name names[KAFKA_MAX_TOPICS];
	int nnames;
	struct kafka_topic topics[KAFKA_MAX_TOPICS];
	int ntopics;
	int closing;	   /* 1: reports now are purges at exit; 2: all counted, ignore reports */
	uint64_t produced; /* accepted by rd_kafka_produce */
	uint64_t delivered, failed, queue_full, produce_err, at_exit;
	rd_kafka_resp_err_t last_err; /* of a failed delivery or a broker error, for the summary */
	/* Errors logged since the last successful delivery: each is logged once per outage. */
	int seen_err[8];
	int nseen_err;
	uint64_t warn_ns_full, warn_ns_failed, warn_ns_err;
};

static uint64_t kafka_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* True at most once per KAFKA_LOG_EVERY_NS for the given slot. */
static int kafka_ratelimit(uint64_t *last_ns)
{
	uint64_t now = kafka_now_ns();

	if (*last_ns && now - *last_ns < KAFKA_LOG_EVERY_NS)
		return 0;
	*last_ns = now;
	return 1;
}

/* The errors that mean the topic does not exist (and the brokers did not create it). */
static int kafka_unknown_topic(rd_kafka_resp_err_t err)
{
	return err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
	       err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
}

/* Says once per topic that it is missing; its records are counted where they fail. */
static void kafka_warn_topic(struct kafka_sink *k, rd_kafka_topic_t *rkt)
{
	struct kafka_topic *t = rd_kafka_topic_opaque(rkt);

	if (t && !t->missing_logged) {
		t->missing_logged = 1;
		pr_err("kafka: topic %s does not exist and the brokers do not create it: its "
		       "records are dropped and counted",
		       rd_kafka_topic_name(rkt));
	}
}

/* Delivery report: one per message, success or final failure (retries exhausted, timed out
 * in the queue, or purged at close). */
static void kafka_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct kafka_sink *k = opaque;

	if (k->closing == 2)
		return;
	if (!m->err) {
		struct kafka_topic *t = rd_kafka_topic_opaque(m->rkt);
		k->delivered++;
		if (t)
			t->delivered++;
		if (k->nseen_err) {
			pr_warn("kafka: delivering again");
			k->nseen_err = 0;
		}
		return;
	}
	if (k->closing) {
		k->at_exit++;
		counter_inc(&c_kafka_at_exit);
		return;
	}
	k->failed++;
	counter_inc(&c_kafka_failed);
	k->last_err = m->err;
	if (kafka_unknown_topic(m->err)) {
		kafka_warn_topic(k, m->rkt);
		return;
	}
	if (kafka_ratelimit(&k->warn_ns_failed))
		pr_warn("kafka: a %zu-byte record to %s not delivered: %s (%llu so far)", m->len,
			rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err),
			(unsigned long long)k->failed);
}

/* Error callback: broker and client-level errors (connection refused, all brokers down...).
 * Each distinct error is logged once until a delivery succeeds again, so a dead broker does not
 * flood the log with reconnect attempts; the recovery is logged by the delivery report. */
static void kafka_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct kafka_sink *k = opaque;
	int i;

	if (err == RD_KAFKA_RESP_ERR__FATAL) {
		char buf[256];
		rd_kafka_resp_err_t ferr = rd_kafka_fatal_error(rk, buf, sizeof(buf));

		pr_err("kafka: fatal error %s: %s", rd_kafka_err2name(ferr), buf);
		return;
	}
	k->last_err = err;
	for (i = 0; i < k->nseen_err; i++)
		if (k->seen_err[i] == err)
			return;
	if (k->nseen_err < (int)(sizeof(k->seen_err) / sizeof(k->seen_err[0])))
		k->seen_err[k->nseen_err++] = err;
	pr_warn("kafka: %s: %s", rd_kafka_err2name(err), reason);
}

/* librdkafka's own log lines go through our logger as debug output. */
static void kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	pr_debug("rdkafka %s: %s", fac, buf);
}

/* Sets one property; logs the name and librdkafka's reason on failure. */
static int kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
	char errstr[512];

	if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
		pr_err("rd_kafka_conf_set %s=%s: %s", name, value, errstr);
		return -EINVAL;
	}
	return 0;
}

/* The length of the path at the start of s (up to '=' or the end) when it is 1 to
 * KAFKA_PATH_MAX - 1 of [a-z0-9_], else 0. */
static size_t kafka_path_len(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_");

	return n && n < KAFKA_PATH_MAX && (s[n] == '=' || !s[n]) ? n : 0;
}

int kafka_topic_arg_check(const char *arg)
{
	size_t n = kafka_path_len(arg);

	return n && arg[n] == '=' && arg[n + 1] ? 0 : -EINVAL;
}

/* The topic handle for a log path, created on first use; NULL when the table is full or
 * librdkafka refuses the name. */
static rd_kafka_topic_t *kafka_topic_for(struct kafka_sink *k, const char *path)
{
	char name[256];
	int i;

	if (!path)
		path = "dns";
	for (i = 0; i < k->ntopics; i++)
		if (!strcmp(k->topics[i].path, path))
			return k->topics[i].rkt;
	if (k->ntopics == KAFKA_MAX_TOPICS || strlen(path) >= sizeof(k->topics[0].path))
		return NULL;
	snprintf(name, sizeof(name), "pano-%s", path);
	for (int j = 0; j < k->nnames; j++)
		if (!strcmp(k->names[j].path, path))
			snprintf(name, sizeof(name), "%s", k->names[j].topic);
	rd_kafka_topic_conf_t *tconf = rd_kafka_default_topic_conf_dup(k->rk); /* the -X ones */
	rd_kafka_topic_t *rkt;

	if (tconf)
		rd_kafka_topic_conf_set_opaque(tconf, &k->topics[i]);
	rkt = rd_kafka_topic_new(k->rk, name, tconf); /* takes tconf */

	if (!rkt) {
		pr_err("rd_kafka_topic_new %s: %s", name, rd_kafka_err2str(rd_kafka_last_error()));
		return NULL;
	}
	snprintf(k->topics[i].path, sizeof(k->topics[i].path), "%s", path);
	k->topics[i].rkt = rkt;
	k->ntopics++;
	return rkt;
}

/* Queues one record (librdkafka copies it). Never blocks: a full queue gets one poll(0) and
 * one retry, then the record is dropped and counted. 0, -ENOBUFS (queue full) or -EIO. */
static int kafka_emit(struct sink *s, const char *path, const void *key, size_t keylen,
		      const void *rec, size_t len)
{
	struct kafka_sink *k = (struct kafka_sink *)s;
	rd_kafka_topic_t *rkt = kafka_topic_for(k, path);
	rd_kafka_resp_err_t err;
	int tries;

	if (!rkt) {
		k->produce_err++;
		counter_inc(&c_kafka_produce_err);
		return -EIO;
	}
	for (tries = 0; tries < 2; tries++) {
		if (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, (void *)rec,
				     len, key, keylen, NULL) == 0) {
			k->produced++;
			return 0;
		}
		err = rd_kafka_last_error();
		if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
			break;
		if (!tries)
			rd_kafka_poll(k->rk, 0); /* serve delivery reports, frees room */
	}
	if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
		k->queue_full++;
		counter_inc(&c_kafka_queue_full);
		if (kafka_ratelimit(&k->warn_ns_full))
			pr_warn("kafka: local queue full, dropping records (%llu so far)",
				(unsigned long long)k->queue_full);
		return -ENOBUFS;
	}
	k->produce_err++;
	counter_inc(&c_kafka_produce_err);
	k->last_err = err;
	if (kafka_unknown_topic(err))
		kafka_warn_topic(k, rkt);
	else if (kafka_ratelimit(&k->warn_ns_err))
		pr_warn("kafka: a %zu-byte record to %s refused: %s (%llu so far)", len,
			rd_kafka_topic_name(rkt), rd_kafka_err2str(err),
			(unsigned long long)k->produce_err);
	return -EIO;
}

static void kafka_poll(struct sink *s)
{
	struct kafka_sink *k = (struct kafka_sink *)s;

	rd_kafka_poll(k->rk, 0);
}

/* Records handed to librdkafka and not yet reported delivered or failed. */
static uint64_t kafka_pending(const struct kafka_sink *k)
{
	return k->produced - k->delivered - k->failed - k->at_exit;
}

/* Records are still waiting after the flush although no broker error was reported: the
 * usual cause is a topic the brokers do not know, whose records librdkafka holds for
 * topic.metadata.propagation.max.ms before failing them. Asks each topic's metadata (at most
 * 1 s each) and says so for a missing one. */
static void kafka_explain_pending(struct kafka_sink *k)
{
	const struct rd_kafka_metadata *md;
	int i;

	for (i = 0; i < k->ntopics; i++) {
		if (rd_kafka_metadata(k->rk, 0, k->topics[i].rkt, &md, 1000))
			return; /* no broker answers */
		if (md->topic_cnt == 1 && kafka_unknown_topic(md->topics[0].err)) {
			k->last_err = md->topics[0].err;
			kafka_warn_topic(k, k->topics[i].rkt);
		}
		rd_kafka_metadata_destroy(md);
	}
}

/* Flushes for at most timeout_ms, then purges what is left (counted as dropped_at_exit) and
 * destroys the producer. When any record was not delivered, one line sums up the losses by
 * cause. -ETIMEDOUT when records were left behind, else 0. */
static int kafka_close(struct sink *s, int timeout_ms)
{
	struct kafka_sink *k = (struct kafka_sink *)s;
	rd_kafka_resp_err_t err;
	uint64_t left, lost;
	int i;

	err = rd_kafka_flush(k->rk, timeout_ms > 0 ? timeout_ms : 0);
	if (err && err != RD_KAFKA_RESP_ERR__TIMED_OUT)
		pr_warn("rd_kafka_flush: %s", rd_kafka_err2str(err));
	if (kafka_pending(k) && !k->nseen_err)
		kafka_explain_pending(k);
	k->closing = 1;
	if (kafka_pending(k)) {
		rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		rd_kafka_poll(k->rk, 0); /* purged messages' delivery reports */
	}
	/* Whatever has no report yet is as good as lost. */
	left = kafka_pending(k);
	k->at_exit += left;
	counter_add(&c_kafka_at_exit, left);
	k->closing = 2;
	lost = k->failed + k->queue_full + k->produce_err + k->at_exit;
	if (lost)
		pr_warn(
		    "kafka: %llu of %llu records not delivered: %llu failed, %llu dropped with "
		    "the local queue full, %llu refused, %llu undelivered at exit (flush bound %d "
		    "ms)%s%s",
		    (unsigned long long)lost,
		    (unsigned long long)(k->produced + k->queue_full + k->produce_err),
		    (unsigned long long)k->failed, (unsigned long long)k->queue_full,
		    (unsigned long long)k->produce_err, (unsigned long long)k->at_exit, timeout_ms,
		    k->last_err ? "; last error " : "",
		    k->last_err ? rd_kafka_err2name(k->last_err) : "");
	for (i = 0; i < k->ntopics; i++) {
		rd_kafka_topic_destroy(k->topics[i].rkt);
		k->topics[i].rkt = NULL;
	}
	rd_kafka_destroy(k->rk);
	k->rk = NULL;
	return k->at_exit ? -ETIMEDOUT : 0;
}

static void kafka_stats(struct sink *s, void (*out)(void *arg, const char *name, uint64_t v),
			void *arg)
{
	struct kafka_sink *k = (struct kafka_sink *)s;

	out(arg, "delivered", k->delivered);
	out(arg, "failed", k->failed);
	out(arg, "dropped_queue_full", k->queue_full);
	out(arg, "produce_errors", k->produce_err);
	out(arg, "queued", k->rk ? kafka_pending(k) : 0);
	out(arg, "dropped_at_exit", k->at_exit);
	for (int i = 0; i < k->ntopics; i++) {
		char name[32];
		snprintf(name, sizeof(name), "delivered_%s", k->topics[i].path);
		out(arg, name, k->topics[i].delivered);
	}
}

/* out: delivered; pending: in librdkafka's hands, no report yet; dropped by reason. */
static void kafka_tally(struct sink *s, struct sink_tally *t)
{
	struct kafka_sink *k = (struct kafka_sink *)s;

	t->out = k->delivered;
	t->pending = k->rk ? kafka_pending(k) : 0;
	sink_tally_drop(t, "queue_full", k->queue_full);
	sink_tally_drop(t, "produce_error", k->produce_err);
	sink_tally_drop(t, "delivery_failed", k->failed);
	sink_tally_drop(t, "at_exit", k->at_exit);
}

static void kafka_free(struct sink *s)
{
	struct kafka_sink *k = (struct kafka_sink *)s;

	for (int i = 0; i < k->nnames; i++)
		free(k->names[i].topic);
	free(k);
}

/* The defaults: batch (linger 50 ms, up to 10000 messages or 1 MB per batch), compress with
 * lz4, and bound the local queue (100000 messages, 32 MiB) so a dead broker costs bounded
 * memory. librdkafka fails the queued records of a topic the brokers say they do not have
 * once topic.metadata.propagation.max.ms has passed since the topic handle was made; with its
 * 30 s, a broker down for longer at start lost every record queued meanwhile, as an "unknown
 * topic", when it came back and created the topic (test_kafka.sh, "down at start"). So that
 * wait is as long as a record's own (message.timeout.ms). Users override any of them with
 * -X. */
static const char *const kafka_defaults[][2] = {
    {"client.id", "pano-analyzer"},
    {"linger.ms", "50"},
    {"batch.num.messages", "10000"},
    {"batch.size", "1000000"},
    {"compression.codec", "lz4"},
    {"queue.buffering.max.messages", "100000"},
    {"queue.buffering.max.kbytes", "32768"},
    {"message.timeout.ms", "300000"},
    {"topic.metadata.propagation.max.ms", "300000"},
    {"reconnect.backoff.max.ms", "2000"},
};

/* The properties that decide how delivery is retried and acknowledged. When -X sets none of
 * them the producer is idempotent (acks=all, as Kafka's own producer since 3.0): a request
 * retried after a broker stalled is not written twice, and one client's records stay in order
 * (test_kafka.sh: 296 duplicates of 2000 without it after the broker froze for 20 s). Setting
 * any of them (e.g. retries=0, which idempotence forbids) leaves the choice to the user. */
static const char *const kafka_guarantee_props[] = {
    "enable.idempotence",
    "acks",
    "request.required.acks",
    "retries",
    "message.send.max.retries",
    "max.in.flight",
    "max.in.flight.requests.per.connection",
};

/* True when one of the -X properties is one of kafka_guarantee_props. */
static int kafka_user_sets_guarantees(const struct kafka_opts *opts)
{
	size_t g, len;
	int i;

	for (i = 0; i < opts->nprops; i++) {
		len = strcspn(opts->props[i], "=");
		for (g = 0; g < sizeof(kafka_guarantee_props) / sizeof(kafka_guarantee_props[0]);
		     g++)
			if (strlen(kafka_guarantee_props[g]) == len &&
			    !strncmp(opts->props[i], kafka_guarantee_props[g], len))
				return 1;
	}
	return 0;
}

/* The topic names of opts into k->names (dns's from opts->topic, the others from "PATH=NAME";
 * a later one for the same path wins). 0, -EINVAL or -ENOMEM. */
static int kafka_names(struct kafka_sink *k, const struct kafka_opts *opts)
{
	for (int i = -1; i < opts->ntopics; i++) {
		const char *arg = i < 0 ? opts->topic : opts->topics[i];
		const char *path = "dns", *topic = arg;
		size_t plen = 3;
		int j;

		if (i < 0 && (!arg || !*arg))
			continue;
		if (i >= 0) {
			if (kafka_topic_arg_check(arg))
				return -EINVAL;
			path = arg;
			plen = kafka_path_len(arg);
			topic = arg + plen + 1;
		}
		for (j = 0; j < k->nnames; j++)
			if (strlen(k->names[j].path) == plen &&
			    !strncmp(k->names[j].path, path, plen))
				break;
		if (j == KAFKA_MAX_TOPICS - 1)
			return -EINVAL; /* a topic slot stays for records of an unnamed path */
		char *dup = strdup(topic);
		if (!dup)
			return -ENOMEM;
		if (j == k->nnames) {
			memcpy(k->names[j].path, path, plen);
			k->names[j].path[plen] = '\0';
			k->nnames++;
		}
		free(k->names[j].topic);
		k->names[j].topic = dup;
	}
	return 0;
}

/* Creates the producer: our defaults, then bootstrap.servers from opts->brokers, then every
 * -X key=value in order. 0 and *out set, or -errno (logged). */
int sink_kafka_open(const struct kafka_opts *opts, struct sink **out)
{
	struct kafka_sink *k;
	rd_kafka_conf_t *conf;
	char errstr[512];
	size_t i;
	int err;

	if (!opts || !opts->brokers || !*opts->brokers) {
		pr_err("kafka: no brokers given");
		return -EINVAL;
	}
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	conf = rd_kafka_conf_new();
	if (!conf || (err = kafka_names(k, opts)) == -ENOMEM) {
		err = -ENOMEM;
		goto fail;
	}
	if (err) {
		pr_err("kafka: bad topic names (expected NAME or PATH=NAME, at most %d)",
		       KAFKA_MAX_TOPICS - 1);
		goto fail;
	}
	for (i = 0; i < sizeof(kafka_defaults) / sizeof(kafka_defaults[0]); i++)
		if ((err = kafka_conf_set(conf, kafka_defaults[i][0], kafka_defaults[i][1])))
			goto fail;
	if (!kafka_user_sets_guarantees(opts) &&
	    (err = kafka_conf_set(conf, "enable.idempotence", "true")))
		goto fail;
	if ((err = kafka_conf_set(conf, "bootstrap.servers", opts->brokers)))
		goto fail;
	for (i = 0; i < (size_t)opts->nprops; i++) {
		const char *kv = opts->props[i], *eq = strchr(kv, '=');
		char name[256];

		if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof(name)) {
			pr_err("kafka: -X %s: expected key=value", kv);
			err = -EINVAL;
			goto fail;
		}
		memcpy(name, kv, (size_t)(eq - kv));
		name[eq - kv] = '\0';
		if ((err = kafka_conf_set(conf, name, eq + 1)))
			goto fail;
	}
	rd_kafka_conf_set_opaque(conf, k);
	rd_kafka_conf_set_dr_msg_cb(conf, kafka_dr_cb);
	rd_kafka_conf_set_error_cb(conf, kafka_error_cb);
	rd_kafka_conf_set_log_cb(conf, kafka_log_cb);

	k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!k->rk) {
		pr_err("rd_kafka_new: %s", errstr);
		err = -EINVAL;
		goto fail;
	}
	conf = NULL; /* owned by rk now */
	/* dns's topic and every one named: a name librdkafka refuses fails here, not later */
	bool ok = kafka_topic_for(k, "dns") != NULL;
	for (i = 0; ok && i < (size_t)k->nnames; i++)
		ok = kafka_topic_for(k, k->names[i].path) != NULL;
	if (!ok) {
		err = -EINVAL;
		for (int j = 0; j < k->ntopics; j++)
			rd_kafka_topic_destroy(k->topics[j].rkt);
		rd_kafka_destroy(k->rk);
		goto fail;
	}
	k->s.name = "kafka";
	k->s.emit = kafka_emit;
	k->s.poll = kafka_poll;
	k->s.close = kafka_close;
	k->s.stats = kafka_stats;
	k->s.tally = kafka_tally;
	k->s.free = kafka_free;
	*out = &k->s;
	return 0;
fail:
	if (conf)
		rd_kafka_conf_destroy(conf);
	kafka_free(&k->s);
	return err;
}
