// SPDX-License-Identifier: Apache-2.0
/*
 * out_pcap.c - the classic pcap encoding every agent output shares (files, stdout,
 * PCAP-over-TCP): the global header and the per-record header, in host byte order as libpcap
 * writes them, batches of encoded records, and the sent/dropped accounting of the outputs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "capture_api.h"
#include "output.h"

void pcap_encode_global(uint8_t out[PCAP_GHDR_LEN], uint32_t snaplen, int nsec)
{
	struct pcap_file_header_s h = {
	    .magic = nsec ? PCAP_MAGIC_NSEC : PCAP_MAGIC_USEC,
	    .version_major = PCAP_VERSION_MAJOR,
	    .version_minor = PCAP_VERSION_MINOR,
	    .thiszone = 0,
	    .sigfigs = 0,
	    .snaplen = snaplen,
	    .linktype = PCAP_LINKTYPE_ETHERNET,
	};
	memcpy(out, &h, sizeof(h));
}

/*
 * The timestamp splits into seconds and micro- or nanoseconds (truncated, as the kernel's
 * own pcap writers do); seconds wrap in 2106 as the format does.
 */
void pcap_encode_record(uint8_t out[PCAP_RHDR_LEN], uint64_t ts_ns, uint32_t caplen, uint32_t len,
			int nsec)
{
	uint64_t frac = ts_ns % 1000000000ull;
	struct pcap_rec_header_s h = {
	    .ts_sec = (uint32_t)(ts_ns / 1000000000ull),
	    .ts_frac = (uint32_t)(nsec ? frac : frac / 1000),
	    .caplen = caplen,
	    .len = len < caplen ? caplen : len,
	};
	memcpy(out, &h, sizeof(h));
}

int pcap_batch_init(struct pcap_batch *b, size_t cap, int nsec)
{
	if (cap < PCAP_RHDR_LEN + PANO_SNAPLEN_MAX)
		cap = PCAP_RHDR_LEN + PANO_SNAPLEN_MAX;
	memset(b, 0, sizeof(*b));
	b->cap = cap;
	b->max = (uint32_t)(cap / PCAP_RHDR_LEN);
	b->nsec = nsec;
	b->buf = malloc(cap);
	b->ends = malloc(b->max * sizeof(*b->ends));
	if (!b->buf || !b->ends) {
		pcap_batch_free(b);
		return -ENOMEM;
	}
	return 0;
}

void pcap_batch_free(struct pcap_batch *b)
{
	free(b->buf);
	free(b->ends);
	memset(b, 0, sizeof(*b));
}

/* Every record takes at least PCAP_RHDR_LEN bytes, so ends[] (cap / PCAP_RHDR_LEN entries)
 * cannot fill before buf does. */
int pcap_batch_add(struct pcap_batch *b, const struct pano_rec *rec, const uint8_t *frame)
{
	size_t n = PCAP_RHDR_LEN + (size_t)rec->caplen;

	if (b->cap - b->len < n || b->n == b->max)
		return -ENOSPC;
	pcap_encode_record(b->buf + b->len, rec->ts_ns, rec->caplen, rec->len, b->nsec);
	memcpy(b->buf + b->len + PCAP_RHDR_LEN, frame, rec->caplen);
	b->len += n;
	b->ends[b->n++] = (uint32_t)b->len;
	return 0;
}

/*
 * Called for every record, so no read-modify-write: each output counts what it sent on one
 * thread only (the ring reader, or out_proto's sender), and readers on other threads only need
 * untorn values, which relaxed atomic loads and stores give without a locked instruction.
 * Drops may be counted from two threads and keep the atomic add.
 */
void out_stats_sent(struct out_stats *s, uint64_t bytes)
{
	__atomic_store_n(&s->sent_records, __atomic_load_n(&s->sent_records, __ATOMIC_RELAXED) + 1,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&s->sent_bytes, __atomic_load_n(&s->sent_bytes, __ATOMIC_RELAXED) + bytes,
			 __ATOMIC_RELAXED);
}

void out_stats_sent_n(struct out_stats *s, uint64_t records, uint64_t bytes)
{
	__atomic_store_n(&s->sent_records,
			 __atomic_load_n(&s->sent_records, __ATOMIC_RELAXED) + records,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&s->sent_bytes, __atomic_load_n(&s->sent_bytes, __ATOMIC_RELAXED) + bytes,
			 __ATOMIC_RELAXED);
}

void out_stats_drop(struct out_stats *s, uint64_t bytes)
{
	__atomic_fetch_add(&s->drop_records, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->drop_bytes, bytes, __ATOMIC_RELAXED);
}

void out_stats_drop_n(struct out_stats *s, uint64_t records, uint64_t bytes)
{
	__atomic_fetch_add(&s->drop_records, records, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->drop_bytes, bytes, __ATOMIC_RELAXED);
}

void out_stats_read(const struct out_stats *src, struct out_stats *dst)
{
	dst->sent_records = __atomic_load_n(&src->sent_records, __ATOMIC_RELAXED);
	dst->sent_bytes = __atomic_load_n(&src->sent_bytes, __ATOMIC_RELAXED);
	dst->drop_records = __atomic_load_n(&src->drop_records, __ATOMIC_RELAXED);
	dst->drop_bytes = __atomic_load_n(&src->drop_bytes, __ATOMIC_RELAXED);
}
