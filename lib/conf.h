/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conf.h - the --config FILE both programs read: `key = value` lines, keys named like the long
 * options (`ports = 53,5353`), `#` starts a comment, blank lines are skipped. The file is read at
 * start and again on SIGHUP or when it changes (inotify on its directory, so a Kubernetes
 * ConfigMap volume's symlink swap is seen as well as an edit in place). A file that does not
 * parse or check is refused whole with one line naming the file, the line and the problem, and
 * the settings in force stay; config_reloads and config_rejected count the outcomes.
 */
#ifndef PANO_CONF_H
#define PANO_CONF_H

#include <getopt.h>
#include <stddef.h>

#define CONF_MAX_BYTES 65536 /* a larger file is refused */
#define CONF_MAX_ITEMS 64
#define CONF_SETTLE_MS 100 /* after the directory's last change, before the file is read */

struct conf_item {
	const char *key, *value; /* into conf.buf, trimmed */
	int line;		 /* 1-based */
};

struct conf {
	char *buf; /* the file's text, cut into keys and values */
	struct conf_item items[CONF_MAX_ITEMS];
	int n;
};

/* Parses len bytes of text (syntax only: keys are not checked against a table). 0, or -EINVAL
 * (-ENOMEM) with "PATH:LINE: problem" in err. conf_free even after a failure. */
int conf_parse(struct conf *c, const char *path, const char *text, size_t len, char *err,
	       size_t errlen);
void conf_free(struct conf *c);

/* One key a program takes in its file: set() checks value and stores it in ctx; 0, or -1 with
 * the reason in why. */
struct conf_key {
	const char *name;
	int (*set)(void *ctx, const char *value, char *why, size_t whylen);
};

/*
 * Hands each item of c to its key's set(), in file order. A key not in keys is refused: as a
 * command-line-only option when lopts (the program's getopt table, may be NULL) has it, else as
 * unknown. 0, or -EINVAL with "PATH:LINE: problem" in err (the first problem; ctx may then be
 * half set, so a caller sets a scratch copy and keeps it only on success).
 */
int conf_apply(const struct conf *c, const char *path, const struct conf_key *keys, int nkeys,
	       const struct option *lopts, void *ctx, char *err, size_t errlen);

/* Checks and applies a parsed file (with conf_apply), all or nothing: 0, or -errno with one line
 * in err and nothing changed. */
typedef int (*conf_apply_fn)(void *ctx, const struct conf *c, const char *path, char *err,
			     size_t errlen);

struct conf_watch;

/*
 * Reads path and applies it through apply (the start settings), then watches for SIGHUP and
 * for changes in path's directory. Call it before the program starts any thread: it blocks
 * SIGHUP, which is then taken only through conf_watch_poll. 0; -EINVAL when the file was
 * refused; another -errno when watching failed; err says which.
 */
int conf_watch_open(struct conf_watch **out, const char *path, conf_apply_fn apply, void *ctx,
		    char *err, size_t errlen);
/*
 * Call often (each round of the main loop): after SIGHUP, or once the directory has been quiet
 * for CONF_SETTLE_MS after a change and the file's text differs from the last text tried, reads
 * and applies the file again. 1 applied, 0 nothing to do, -1 refused (one line logged, the
 * settings stay). Never blocks.
 */
int conf_watch_poll(struct conf_watch *w);
void conf_watch_close(struct conf_watch *w);

#endif
