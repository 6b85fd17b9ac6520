/* SPDX-License-Identifier: Apache-2.0 */
/*
 * input_file.h - what the two capture file readers share: classic pcap (input_pcap.c, through
 * libpcap) and pcapng (input_pcapng.c, a block reader of our own). A file that breaks off or
 * turns to garbage part way keeps the frames read before it; the damage is counted by kind, one
 * warning line names the file, and input_pcap_read() returns INPUT_DAMAGED so that the program
 * can exit with its own status (3).
 */
#ifndef PANO_INPUT_FILE_H
#define PANO_INPUT_FILE_H

#include <stdint.h>
#include <stdio.h>

#include "input.h"
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
 * Reads a pcapng stream from fp, whose first nhead bytes (the start of its first block, the
 * Section Header Block) were already read into head. Every packet goes to h->eng with
 * its own interface's link type and name, its direction (epb_flags) and its first comment.
 * Returns 0 at a clean end (or when *h->stop), INPUT_DAMAGED when the stream broke off or went
 * bad (counted and reported), -EIO on a read error (logged).
 */
int input_pcapng_read(FILE *fp, const char *path, const uint8_t *head, size_t nhead,
		      const struct input_hooks *h);

#endif
