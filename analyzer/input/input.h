/* SPDX-License-Identifier: Apache-2.0 */
/*
 * input.h - where frames come from: pcap files (libpcap's offline reader), pcapng files (our own
 * block reader) and PCAP-over-TCP streams. An input reads frames and hands each to
 * decode_frame() of the engine in its hooks; between frames it calls the hooks' poll() now and
 * then, and it stops soon after *stop becomes non-zero.
 */
#ifndef PANO_INPUT_H
#define PANO_INPUT_H

#include <signal.h>

struct pano_engine;

struct input_hooks {
	struct pano_engine *eng;     /* every frame goes to decode_frame(eng, frame) */
	volatile sig_atomic_t *stop; /* set by a signal handler: return soon */
	void (*poll)(void *arg);     /* called every few thousand frames and when idle */
	void *arg;
};

/* Node name for frames from local inputs (files, PCAP-over-TCP), which carry none of their
 * own: set by --node; NULL leaves the node field out of records. */
extern const char *input_local_node;

/* input_pcap_read's result for a file that broke off (truncated) or turned to garbage (corrupt)
 * part way: the frames before the damage were decoded; the damage was counted and reported. */
#define INPUT_DAMAGED 1

/* Reads one pcap or pcapng file ("-" for standard input; told apart by their magic) to its end.
 * 0 when it was read whole, INPUT_DAMAGED, or -errno when the file cannot be opened, is not a
 * capture file, or a read fails (the error is logged). */
int input_pcap_read(const char *path, const struct input_hooks *h);

/*
 * PCAP-over-TCP client: connects to host:port ("[v6addr]:port" works too), reads the stream and
 * reconnects with exponential backoff whenever the peer goes away, until *stop. With tls
 * options set (tls may be NULL), the stream is read over TLS: with a CA the agent's
 * certificate must chain to it and match host; a client certificate is presented if given. Returns 0 when
 * stopped, -EINVAL when hostport does not parse (logged).
 */
struct tls_opts;
int input_pot_run(const char *hostport, const struct tls_opts *tls, const struct input_hooks *h);

#endif
