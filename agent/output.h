/* SPDX-License-Identifier: Apache-2.0 */
/*
 * output.h - where pano-agent's captured frames go: pcap encoding (out_pcap.c), pcapng encoding
 * (out_pcapng.c), pcap or pcapng files and standard output with rotation (out_file.c), and the
 * PCAP-over-TCP server (pcap_server.c).
 * Every output counts what it sent and what it dropped, in records and bytes.
 */
#ifndef PANO_AGENT_OUTPUT_H
#define PANO_AGENT_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "pano/pcap.h"

struct pano_rec;
struct who_pod;
struct wbuf;
struct iovec;
struct tls_opts;

/* ---- pcap encoding (out_pcap.c) ---------------------------------------------------------- */

#define PCAP_GHDR_LEN 24
#define PCAP_RHDR_LEN 16

/* Writes the 24-byte global header (host byte order, linktype Ethernet). */
void pcap_encode_global(uint8_t out[PCAP_GHDR_LEN], uint32_t snaplen, int nsec);
/* Writes the 16-byte record header for a frame captured at ts_ns (ns since the epoch). */
void pcap_encode_record(uint8_t out[PCAP_RHDR_LEN], uint64_t ts_ns, uint32_t caplen, uint32_t len,
			int nsec);

/*
 * A batch of encoded pcap records (record header and frame each, back to back), so an output
 * can take one capture_poll() round under one lock and copy it with one memcpy. ends[i] is the
 * offset just past record i, which keeps whole-record drops possible.
 */
struct pcap_batch {
	uint8_t *buf;
	size_t len, cap;
	uint32_t *ends;
	uint32_t n, max;
	int nsec;
};

/* Allocates a batch of cap bytes (at least one record of PANO_SNAPLEN_MAX). 0 or -ENOMEM. */
int pcap_batch_init(struct pcap_batch *b, size_t cap, int nsec);
void pcap_batch_free(struct pcap_batch *b);
/* Encodes one record at the end of the batch. 0, or -ENOSPC when it does not fit (the caller
 * hands the batch on, resets it and adds again). */
int pcap_batch_add(struct pcap_batch *b, const struct pano_rec *rec, const uint8_t *frame);
static inline void pcap_batch_reset(struct pcap_batch *b)
{
	b->len = 0;
	b->n = 0;
}

/* ---- pcapng encoding (out_pcapng.c) -------------------------------------------------------- */

#define PCAPNG_SHB_MAX	   96
#define PCAPNG_IDB_MAX	   52  /* with an interface name of up to IF_NAMESIZE - 1 bytes */
#define PCAPNG_COMMENT_MAX 512 /* the longest comment pcapng_comment writes, and its NUL */
#define PCAPNG_MAX_IFACES  4096

/* The section header block (byte-order magic, version 1.0, shb_userappl). Returns its size. */
size_t pcapng_encode_shb(uint8_t out[PCAPNG_SHB_MAX]);
/* An interface description block: Ethernet, snaplen, if_name (left out when name is NULL or
 * empty), if_tsresol 9 (nsec) or 6. Returns its size. */
size_t pcapng_encode_idb(uint8_t out[PCAPNG_IDB_MAX], const char *name, uint32_t snaplen, int nsec);
/* Size of the enhanced packet block of a frame of caplen bytes with a comment of that length. */
size_t pcapng_epb_len(uint32_t caplen, size_t comment_len);
/* The enhanced packet block of rec on interface block ifid: timestamp in the interface's
 * resolution (nsec: ns, else us), caplen, original length, the frame, the comment (when
 * comment_len), epb_flags with the direction. out holds pcapng_epb_len() bytes. */
size_t pcapng_encode_epb(uint8_t *out, uint32_t ifid, const struct pano_rec *rec,
			 const uint8_t *frame, const char *comment, size_t comment_len, int nsec);
/*
 * Who sent rec, as a packet comment (README, "pcapng"); empty when rec->cgroup_id is 0:
 *   cgroup=<id> pid=<pid> pod=<namespace>/<pod> container=<container> comm=<comm>
 * each key only when known (pid != 0; pod and container from pod, when not NULL and set; comm
 * not empty), in this order. Returns its length.
 */
size_t pcapng_comment(char out[PCAPNG_COMMENT_MAX], const struct pano_rec *rec,
		      const struct who_pod *pod);

/*
 * The interfaces of a pcapng writer: the names the agent gives (ifindex -> name), and for each
 * the interface block of the current section that stands for it. At most PCAPNG_MAX_IFACES
 * entries (one forgotten is only written again).
 */
struct pcapng_ifs;
struct pcapng_ifs *pcapng_ifs_new(void);
void pcapng_ifs_free(struct pcapng_ifs *t);
/* The agent attached ifindex under name (a new name gets a new block on its next frame). */
void pcapng_ifs_set(struct pcapng_ifs *t, int ifindex, const char *name);
/* The agent detached it: kept for the records still in the ring, forgotten first when full. */
void pcapng_ifs_gone(struct pcapng_ifs *t, int ifindex);
/* The block id of ifindex in this section, or -1 when one must be written first; *name is the
 * name for it (NULL: not known; an unknown index is asked of the kernel, if_indextoname). */
int pcapng_ifs_lookup(struct pcapng_ifs *t, int ifindex, const char **name);
/* Records that the next block written stands for ifindex; returns its id. */
uint32_t pcapng_ifs_assign(struct pcapng_ifs *t, int ifindex);
/* A new section (file) starts: no interface has a block in it yet. */
void pcapng_ifs_new_section(struct pcapng_ifs *t);

/* Sent/dropped accounting shared by all outputs; updated atomically, read by /metrics. */
struct out_stats {
	uint64_t sent_records, sent_bytes;
	uint64_t drop_records, drop_bytes;
};

void out_stats_sent(struct out_stats *s, uint64_t bytes);
/* Counts a batch of records sent at once (one thread per output, as out_stats_sent). */
void out_stats_sent_n(struct out_stats *s, uint64_t records, uint64_t bytes);
void out_stats_drop(struct out_stats *s, uint64_t bytes);
void out_stats_drop_n(struct out_stats *s, uint64_t records, uint64_t bytes);
/* An atomic snapshot of src into dst. */
void out_stats_read(const struct out_stats *src, struct out_stats *dst);

/* ---- pcap files and stdout (out_file.c) --------------------------------------------------- */

enum out_format { OUT_PCAP = 0, OUT_PCAPNG = 1 };

struct out_file_opts {
	uint32_t snaplen;
	int nsec; /* nanosecond magic (pcapng: if_tsresol 9) */
	enum out_format format;
	uint64_t rotate_bytes;	 /* 0: never rotate by size */
	uint64_t rotate_seconds; /* 0: never rotate by age */
	uint64_t (*now)(void);	 /* monotonic seconds; NULL: CLOCK_MONOTONIC (tests fake it) */
};

struct out_file;

/*
 * Opens FILE for writing (truncating it) and writes the global header (pcapng: the section
 * header; each interface's block follows before its first frame). With rotation, the
 * file being written is always FILE; when it is full (rotate_bytes: a record that would take
 * it past the limit starts a new file, a file always holds at least one record) or old
 * (rotate_seconds since it was opened), it is closed and renamed FILE.1, then FILE.2 and so on
 * (numbers only grow, the highest is the newest), and a new FILE is started, each a complete
 * file (pcapng: its own section header and interface blocks). NULL on error.
 */
struct out_file *out_file_open(const char *path, const struct out_file_opts *o);
/* pcap on an already open descriptor (standard output): no rotation. */
struct out_file *out_file_fdopen(int fd, const char *name, const struct out_file_opts *o);
/* Appends one record (buffered); pod: the pod of rec->cgroup_id (NULL: none or not known),
 * used by pcapng only. 0, or -errno when the output failed (the record is counted as dropped;
 * the output stays usable where possible, EPIPE is permanent). */
int out_file_write(struct out_file *f, const struct pano_rec *rec, const uint8_t *frame,
		   const struct who_pod *pod);
/* pcapng: the agent's name for an interface it attached, and its detaching (no-ops for pcap). */
void out_file_iface_add(struct out_file *f, int ifindex, const char *name);
void out_file_iface_del(struct out_file *f, int ifindex);
enum out_format out_file_format(const struct out_file *f);
/* Writes buffered bytes out, and rotates by age when due. 0 or -errno. */
int out_file_flush(struct out_file *f);
/* Files rotated so far. */
uint64_t out_file_rotations(const struct out_file *f);
const struct out_stats *out_file_stats(const struct out_file *f);
const char *out_file_name(const struct out_file *f);
/* Flushes and closes (the descriptor too, for out_file_fdopen). */
void out_file_close(struct out_file *f);

/* ---- PCAP-over-TCP server (pcap_server.c) ------------------------------------------------- */

#define PCAP_SERVER_PORT 57012

struct pcap_server_opts {
	uint32_t snaplen;
	int nsec;
	size_t queue_bytes;	    /* per-client queue; default 4 MiB */
	int max_clients;	    /* default 64; a new client beyond closes the most idle one */
	int max_per_source;	    /* clients from one address; default PCAP_SERVER_PER_SOURCE */
	unsigned stall_ms;	    /* a client whose queue stays full this long is dropped
				     * (default 5000) */
	const struct tls_opts *tls; /* NULL or nothing set: plain TCP; with a CA, clients
				     * must present a certificate it signed (lib/tls.h) */
};

#define PCAP_SERVER_PER_SOURCE 8

struct pcap_server;

/* Binds spec (ADDR:PORT, [V6]:PORT or PORT, default address 127.0.0.1) and starts the writer
 * thread. NULL on failure (logged). */
struct pcap_server *pcap_server_start(const char *spec, const struct pcap_server_opts *o);
/* Queues one record for every connected client; never blocks on a socket. */
void pcap_server_write(struct pcap_server *s, const struct pano_rec *rec, const uint8_t *frame);
/* Records per pcap_server_write_iov call at most, and the bytes after which a caller that
 * holds them in place should hand them over: one plain-TCP piece, a full-load round of
 * DNS-sized frames. pano-agent holds them in the capture ring and hands them over after a
 * quarter of one CPU's ring if that is less. */
#define PCAP_SERVER_IOV_MAX   8192
#define PCAP_SERVER_BATCH_LEN (1u << 20)
/*
 * Hands n complete pcap records (one iovec each, len bytes in all, n <= PCAP_SERVER_IOV_MAX) to
 * every connected client, under one lock; never blocks on a socket. A client with nothing
 * queued gets them gathered into 1 MiB pieces (16 KiB TLS records), each written with one
 * non-blocking send, and what the socket does not take is queued. Otherwise a client with
 * room for all of them takes them into its queue, one without gets the records that fit and
 * the others are dropped and counted for it, record by record. The iovecs are not used after
 * the call.
 */
void pcap_server_write_iov(struct pcap_server *s, const struct iovec *iov, uint32_t n, size_t len);
/* The same for every record of an encoded batch. */
void pcap_server_write_batch(struct pcap_server *s, const struct pcap_batch *b);
/* After a round of writes: wakes the writer thread when any of them left bytes queued. */
void pcap_server_kick(struct pcap_server *s);
int pcap_server_port(const struct pcap_server *s);
int pcap_server_clients(struct pcap_server *s);
const struct out_stats *pcap_server_stats(const struct pcap_server *s);
/* Writes per-client metrics (sent/dropped records and bytes, queued bytes) into b. */
void pcap_server_metrics(struct pcap_server *s, struct wbuf *b);
void pcap_server_stop(struct pcap_server *s);

#endif
