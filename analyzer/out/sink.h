/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sink.h - where log records go. A protocol formats a record (JSON line, or protobuf bytes with
 * --format protobuf) and calls sinks_emit(); every configured sink gets it: the file/stdout
 * sink, the Kafka sink, later others.
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

/* A sink's account of its records (see above); in is kept by sinks_emit(). */
struct sink_tally {
	uint64_t in, out, pending;
	unsigned nreasons;
	struct {
		const char *reason; /* e.g. "write_error", "queue_full", "at_exit" */
		uint64_t n;
	} dropped[SINK_MAX_REASONS];
};

struct sink {
	const char *name;	/* "file", "kafka" */
	/* Takes a copy of rec; key groups related records (e.g. client address). 0 or -errno. */
	int (*emit)(struct sink *s, const char *topic_proto, const void *key, size_t keylen,
		    const void *rec, size_t len);
	void (*poll)(struct sink *s);			/* service callbacks; cheap, called often */
	/* Flush within timeout and release the sink's resources; the struct itself stays valid
	 * (stats still answer) until free. 0 or -errno (e.g. records left undelivered). */
	int (*close)(struct sink *s, int timeout_ms);
	void (*stats)(struct sink *s, void (*out)(void *arg, const char *name, uint64_t v),
		      void *arg);			/* name e.g. "delivered", "dropped_queue_full" */
	/* Fills out, pending and every drop reason (zeros too) of t; open or closed. */
	void (*tally)(struct sink *s, struct sink_tally *t);
	void (*free)(struct sink *s);			/* after close: free the struct */
	uint64_t in;					/* records handed to the sink */
	struct sink *next;
};

void sinks_add(struct sink *s);
struct sink *sinks_first(void);
/* The account of s (in from the registry, the rest from the sink). */
void sink_tally(struct sink *s, struct sink_tally *t);
/* Adds a drop reason to t (for a sink's tally callback). */
void sink_tally_drop(struct sink_tally *t, const char *reason, uint64_t n);
/* The sum of t's drop reasons. */
uint64_t sink_tally_dropped(const struct sink_tally *t);
/* Hands the record to every sink. */
void sinks_emit(const char *topic_proto, const void *key, size_t keylen, const void *rec,
		size_t len);
void sinks_poll(void);
/* Closes every sink (timeout per sink); their stats remain readable afterwards. */
int sinks_close(int timeout_ms);
/* Closes what is still open and frees every sink; the list is empty afterwards. */
void sinks_free(void);

/* The file sink: JSON lines (or length-prefixed protobuf) to a path, "-" for stdout. */
int sink_file_open(const char *path, struct sink **out);
/* Binary records (--format protobuf): each written after its 4-byte big-endian length instead
 * of followed by a newline. Call right after sink_file_open. */
void sink_file_set_length_prefixed(struct sink *s);

/* The Kafka sink (librdkafka). props are "key=value" strings from -X, applied after our
 * defaults (batching, compression, bounded queue) so the user can override any of them. */
struct kafka_opts {
	const char *brokers;		/* --kafka-brokers */
	const char *topic;		/* --kafka-topic, default "pano-dns" */
	const char *const *props;	/* -X key=value */
	int nprops;
};
int sink_kafka_open(const struct kafka_opts *opts, struct sink **out);

#endif
