// SPDX-License-Identifier: Apache-2.0
/*
 * summary_progress.c - the progress bar of `--read FILE --summary` on stderr: shown only when
 * stderr is a terminal and the file has taken more than a second. The reader's position is
 * read from /proc/self/fdinfo of the descriptor that has the file open, so the input code
 * needs no hook of its own. The bar's state is the summary object's (struct sum_progress).
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "summary.h"
#include "summary_int.h"

static double prog_since(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (b->tv_nsec - a->tv_nsec) / 1e9;
}

void summary_progress_start(struct summary *s, const char *path)
{
	struct sum_progress *p = &s->prog;
	struct stat st;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	if (!path || !strcmp(path, "-") || !isatty(STDERR_FILENO) || stat(path, &st) ||
	    !S_ISREG(st.st_mode) || !st.st_size)
		return;
	p->active = true;
	p->dev = st.st_dev;
	p->ino = st.st_ino;
	p->size = st.st_size;
	clock_gettime(CLOCK_MONOTONIC, &p->t0);
}

/* The descriptor open on our file, or -1. */
static int prog_find_fd(const struct sum_progress *p)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int found = -1;

	if (!d)
		return -1;
	while ((de = readdir(d)) && found < 0) {
		struct stat st;
		int fd = atoi(de->d_name);

		if (de->d_name[0] < '0' || de->d_name[0] > '9' || fd == dirfd(d))
			continue;
		if (!fstat(fd, &st) && st.st_dev == p->dev && st.st_ino == p->ino)
			found = fd;
	}
	closedir(d);
	return found;
}

static long long prog_pos(int fd)
{
	char path[64], line[128];
	long long pos = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "pos: %lld", &pos) == 1)
			break;
	fclose(f);
	return pos;
}

void summary_progress_poll(struct summary *s)
{
	struct sum_progress *p = s ? &s->prog : NULL;
	struct timespec now;
	long long pos;
	int pct, w;

	if (!p || !p->active)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (prog_since(&p->t0, &now) < 1.0 || (p->shown && prog_since(&p->last, &now) < 0.2))
		return;
	if (p->fd < 0 && (p->fd = prog_find_fd(p)) < 0)
		return;
	pos = prog_pos(p->fd);
	if (pos < 0)
		return;
	p->last = now;
	p->shown = true;
	pct = (int)(pos * 100 / p->size);
	if (pct > 100)
		pct = 100;
	w = pct * 40 / 100;
	fprintf(stderr, "\r[%.*s%*s] %3d%% %.1fs", w, "########################################",
		40 - w, "", pct, prog_since(&p->t0, &now));
	fflush(stderr);
}

void summary_progress_end(struct summary *s)
{
	struct sum_progress *p = s ? &s->prog : NULL;

	if (!p)
		return;
	if (p->shown) {
		fprintf(stderr, "\r[########################################] 100%%\n");
		fflush(stderr);
	}
	p->active = p->shown = false;
}
