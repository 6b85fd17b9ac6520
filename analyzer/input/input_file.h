/* SPDX-License-Identifier: Apache-2.0 */
/*
 * input_file.h - what the two capture file readers share: classic pcap (input_pcap.c) and
 * pcapng (input_pcapng.c), both parsing records in place in an input_buf (input_buf.h). A
 * file that breaks off or turns to garbage part way keeps the frames read before it; the
 * damage is counted by kind, one warning line names the file, and input_pcap_read() returns
 * INPUT_DAMAGED so that the program can exit with its own status (3).
 */
#ifndef PANO_INPUT_FILE_H
#define PANO_INPUT_FILE_H

#include <stdint.h>
#include <stdio.h>

#include "input.h"
#include "input_buf.h"
#include "packet.h"

#define INPUT_POLL_EVERY 4096 /* frames between two calls of the hooks' poll() */
#define INPUT_IDLE_MS	 100  /* a live input with nothing to read: poll() this often */

enum input_damage {
	INPUT_TRUNCATED, /* the file ends inside a record or block */
	INPUT_CORRUPT,	 /* a record or block header that cannot be right: reading stopped */
};

/* Counts the damage of path (capture_file_truncated / capture_file_corrupt) and prints one
 * warning line: what broke (why), after how many frames. */
void input_file_damaged(const char *path, enum input_damage kind, unsigned long frames,
			const char *why);

/* Counts (pcap_read_error) and logs a failed read of path; returns -EIO. */
int input_file_read_error(const char *path, int err);

/*
 * Before a read from a live input (a pipe or FIFO: pano-agent --stdout | pano-analyzer --read -):
 * when nothing is waiting on fd, waits for it here, running the hooks' poll() every
 * INPUT_IDLE_MS, so that what is done reaches the sinks (and they flush it) while the capture
 * is quiet, instead of waiting for INPUT_POLL_EVERY more frames or the end of input.
 */
void input_before_read(int fd, const struct input_hooks *h);

/* The local source every file's frames come from (node name from --node). */
const struct pano_source *input_file_source(void);

/*
 * Reads a pcapng stream from in, which starts at the stream's first block (the Section Header
 * Block). Every packet goes to h->eng with its own interface's link type and name, its
 * direction (epb_flags) and its first comment. Returns 0 at a clean end (or when *h->stop),
 * INPUT_DAMAGED when the stream broke off or went bad (counted and reported), -EIO on a read
 * error (logged).
 */
int input_pcapng_read(struct input_buf *in, const char *path, const struct input_hooks *h);

#endif
