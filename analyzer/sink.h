/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sink.h - where log records go. A protocol formats a record (JSON line, or protobuf bytes with
 * --format protobuf) and calls sinks_emit(); every configured sink gets it: the file/stdout
 * sink, the Kafka sink, later others. Each sink counts what it wrote and what it dropped.
 */
#ifndef PANO_SINK_H
#define PANO_SINK_H

#include <stddef.h>
#include <stdint.h>

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
	void (*free)(struct sink *s);			/* after close: free the struct */
	uint64_t emitted, dropped;
	struct sink *next;
};

void sinks_add(struct sink *s);
struct sink *sinks_first(void);
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
