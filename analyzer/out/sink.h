/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sink.h - where log records go. The out stage (records.h) encodes a record once (JSON line, or
 * protobuf bytes with --format protobuf) and hands it to a sink set (sink_set_emit) with its
 * log path ("dns", "ssl", "http"); every sink of the set gets it: the file/stdout sink, the
 * Kafka sink (which picks the topic by path), later others. The set is an object its owner
 * (main) keeps; nothing on the way from a record to a sink is process-wide.
 *
 * Every sink accounts for every record it was given, at any moment:
 *
 *     records in = out + dropped + pending,   dropped = the sum of its drop reasons
 *
 * where out counts records known written (the file sink: all their bytes taken by write(2);
 * Kafka: delivery confirmed by the broker), dropped counts records lost, each under its reason
 * (write_error, queue_full, ...), and pending those still on their way (a buffer, a producer
 * queue). --stats, the exit summary and /metrics all print these same numbers.
 */
#ifndef PANO_SINK_H
#define PANO_SINK_H

#include <stddef.h>
#include <stdint.h>

#define SINK_MAX_REASONS 8

/* A sink's account of its records (see above); in is kept by sink_set_emit(). */
struct sink_tally {
	uint64_t in, out, pending;
	unsigned nreasons;
	struct {
		const char *reason; /* e.g. "write_error", "queue_full", "at_exit" */
		uint64_t n;
	} dropped[SINK_MAX_REASONS];
};

struct sink {
	const char *name; /* "file", "kafka" */
	/* Takes a copy of rec; path is its log ("dns", "ssl", ...); key groups related records
	 * (e.g. client address). 0 or -errno. */
	int (*emit)(struct sink *s, const char *path, const void *key, size_t keylen,
		    const void *rec, size_t len);
	void (*poll)(struct sink *s); /* service callbacks; cheap, called often */
	/* Flush within timeout and release the sink's resources; the struct itself stays valid
	 * (stats still answer) until free. 0 or -errno (e.g. records left undelivered). */
	int (*close)(struct sink *s, int timeout_ms);
	void (*stats)(struct sink *s, void (*out)(void *arg, const char *name, uint64_t v),
		      void *arg); /* name e.g. "delivered", "dropped_queue_full" */
	/* Fills out, pending and every drop reason (zeros too) of t; open or closed. */
	void (*tally)(struct sink *s, struct sink_tally *t);
	void (*free)(struct sink *s); /* after close: free the struct */
	uint64_t in;		      /* records handed to the sink */
	struct sink *next;
};

/* An ordered list of sinks: records reach them in the order they were added. */
struct sink_set {
	struct sink *head, **tail;
};

void sink_set_init(struct sink_set *set);
/* Appends s (the set owns it from now: sink_set_free frees it). */
void sink_set_add(struct sink_set *set, struct sink *s);
/* Hands the record to every open sink of set (counted as in for each). */
void sink_set_emit(struct sink_set *set, const char *path, const void *key, size_t keylen,
		   const void *rec, size_t len);
/* Services the open sinks' callbacks; cheap, call often. */
void sink_set_poll(struct sink_set *set);
/* Closes every sink (timeout per sink); their stats remain readable afterwards. 0, or the first
 * error a sink reported. */
int sink_set_close(struct sink_set *set, int timeout_ms);
/* Closes what is still open and frees every sink; the set is empty afterwards. */
void sink_set_free(struct sink_set *set);


/* The account of s (in from its set, the rest from the sink). */
void sink_tally(struct sink *s, struct sink_tally *t);
/* Adds a drop reason to t (for a sink's tally callback). */
void sink_tally_drop(struct sink_tally *t, const char *reason, uint64_t n);
/* The sum of t's drop reasons. */
uint64_t sink_tally_dropped(const struct sink_tally *t);

/* The file sink: JSON lines (or length-prefixed protobuf) to a path, "-" for stdout. */
int sink_file_open(const char *path, struct sink **out);
/* Binary records (--format protobuf): each written after its 4-byte big-endian length instead
 * of followed by a newline. Call right after sink_file_open. */
void sink_file_set_length_prefixed(struct sink *s);

/* The Kafka sink (librdkafka). props are "key=value" strings from -X, applied after our
 * defaults (batching, compression, bounded queue) so the user can override any of them.
 * Each record goes to its path's topic: "pano-<path>" (pano-dns, pano-ssl, pano-http) unless
 * topic (dns) or a "path=NAME" of topics names another. */
#define KAFKA_PATH_MAX 16 /* a path's length, NUL included */
struct kafka_opts {
	const char *brokers;	   /* --kafka-brokers */
	const char *topic;	   /* --kafka-topic NAME: the dns topic, default "pano-dns" */
	const char *const *topics; /* --kafka-topic PATH=NAME: another path's topic */
	int ntopics;
	const char *const *props; /* -X key=value */
	int nprops;
};
/* Checks one "PATH=NAME" (path: 1-15 of [a-z0-9_], name not empty). 0 or -EINVAL. */
int kafka_topic_arg_check(const char *arg);
int sink_kafka_open(const struct kafka_opts *opts, struct sink **out);

#endif
