// SPDX-License-Identifier: Apache-2.0
/*
 * conf.c - the --config file: its syntax, the key table check, and the watcher that re-reads it
 * on SIGHUP (a signalfd, so no thread is interrupted) or when its directory changes (inotify).
 * A Kubernetes ConfigMap volume holds FILE -> ..data/FILE, and the kubelet updates it by making
 * a new ..TIMESTAMP directory and renaming a ..data_tmp symlink over ..data: FILE itself never
 * changes, so the whole directory is watched and the file re-read by its path; a reload happens
 * only when the text differs from the last one tried (applied or refused).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "counter.h"
#include "log.h"

PANO_COUNTER(c_conf_reloads, "config_reloads", "event",
	     "--config file re-read and applied (SIGHUP or a change)");
PANO_COUNTER(c_conf_rejected, "config_rejected", "event",
	     "--config file re-read and refused (the settings in force stayed)");

static char *conf_trim(char *s, char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	*end = '\0';
	return s;
}

static int conf_key_ok(const char *k)
{
	for (; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '-'))
			return 0;
	return 1;
}

int conf_parse(struct conf *c, const char *path, const char *text, size_t len, char *err,
	       size_t errlen)
{
	int line = 0;

	memset(c, 0, sizeof(*c));
	if (len > CONF_MAX_BYTES) {
		snprintf(err, errlen, "%s: larger than %d bytes", path, CONF_MAX_BYTES);
		return -EINVAL;
	}
	const char *nul = memchr(text, '\0', len);
	if (nul) {
		line = 1;
		for (const char *p = text; p < nul; p++)
			line += *p == '\n';
		snprintf(err, errlen, "%s:%d: a NUL byte (not a text file)", path, line);
		return -EINVAL;
	}
	c->buf = malloc(len + 1);
	if (!c->buf) {
		snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		return -ENOMEM;
	}
	memcpy(c->buf, text, len);
	c->buf[len] = '\0';
	for (char *p = c->buf, *next; *p; p = next) {
		char *nl = strchr(p, '\n');
		next = nl ? nl + 1 : p + strlen(p);
		char *end = nl ? nl : next, *hash = memchr(p, '#', (size_t)(end - p));
		line++;
		if (hash)
			end = hash;
		char *s = conf_trim(p, end);
		if (!*s)
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%d: expected 'key = value', got '%.40s'", path,
				 line, s);
			return -EINVAL;
		}
		char *key = conf_trim(s, eq), *value = conf_trim(eq + 1, eq + 1 + strlen(eq + 1));
		if (!*key) {
			snprintf(err, errlen, "%s:%d: no key before '='", path, line);
			return -EINVAL;
		}
		if (!conf_key_ok(key)) {
			snprintf(err, errlen,
				 "%s:%d: bad key '%.40s' (lower case letters, digits and '-')",
				 path, line, key);
			return -EINVAL;
		}
		if (!*value) {
			snprintf(err, errlen, "%s:%d: no value for %s", path, line, key);
			return -EINVAL;
		}
		for (int i = 0; i < c->n; i++)
			if (strcmp(c->items[i].key, key) == 0) {
				snprintf(err, errlen, "%s:%d: %s set again (first on line %d)",
					 path, line, key, c->items[i].line);
				return -EINVAL;
			}
		if (c->n == CONF_MAX_ITEMS) {
			snprintf(err, errlen, "%s:%d: more than %d settings", path, line,
				 CONF_MAX_ITEMS);
			return -EINVAL;
		}
		c->items[c->n++] = (struct conf_item){.key = key, .value = value, .line = line};
	}
	return 0;
}

void conf_free(struct conf *c)
{
	free(c->buf);
	c->buf = NULL;
	c->n = 0;
}

int conf_apply(const struct conf *c, const char *path, const struct conf_key *keys, int nkeys,
	       const struct option *lopts, void *ctx, char *err, size_t errlen)
{
	for (int i = 0; i < c->n; i++) {
		const struct conf_item *it = &c->items[i];
		const struct conf_key *k = NULL;
		char why[160] = "";

		for (int j = 0; j < nkeys && !k; j++)
			if (strcmp(keys[j].name, it->key) == 0)
				k = &keys[j];
		if (k && k->set(ctx, it->value, why, sizeof(why)) == 0)
			continue;
		if (k) {
			snprintf(err, errlen, "%s:%d: %s = %.60s: %s", path, it->line, it->key,
				 it->value, why);
			return -EINVAL;
		}
		for (const struct option *o = lopts; o && o->name; o++)
			if (strcmp(o->name, it->key) == 0) {
				snprintf(err, errlen,
					 "%s:%d: %s cannot be set in the file (it cannot change at "
					 "run time): give --%s on the command line",
					 path, it->line, it->key, it->key);
				return -EINVAL;
			}
		snprintf(err, errlen, "%s:%d: unknown key '%s'", path, it->line, it->key);
		return -EINVAL;
	}
	return 0;
}

struct conf_watch {
	char *path;
	conf_apply_fn apply;
	void *ctx;
	int ifd, sfd;	/* inotify on the directory; signalfd for SIGHUP */
	int64_t due_ms; /* re-read at this monotonic time; 0: nothing pending */
	char *last;	/* the last text tried */
	size_t last_len;
};

static int64_t conf_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The whole file into a malloc'd buffer (one byte over the cap at most, so conf_parse sees
 * that it is too large). 0 or -errno with err set. */
static int conf_slurp(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf = NULL;
	size_t n = 0;

	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: open: %s", path, strerror(e));
		return -e;
	}
	buf = malloc(CONF_MAX_BYTES + 1);
	if (!buf) {
		close(fd);
		snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		return -ENOMEM;
	}
	while (n < CONF_MAX_BYTES + 1) {
		ssize_t r = read(fd, buf + n, CONF_MAX_BYTES + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			snprintf(err, errlen, "%s: read: %s", path, strerror(e));
			close(fd);
			free(buf);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*out = buf;
	*len = n;
	return 0;
}

/* Reads and applies the file; force: even when its text is the one tried last. 1 applied,
 * 0 unchanged, -errno refused (err set). */
static int conf_watch_load(struct conf_watch *w, int force, char *err, size_t errlen)
{
	struct conf c;
	char *text = NULL;
	size_t len = 0;
	int rc = conf_slurp(w->path, &text, &len, err, errlen);

	if (rc)
		return rc;
	if (!force && w->last && len == w->last_len && memcmp(text, w->last, len) == 0) {
		free(text);
		return 0;
	}
	free(w->last);
	w->last = text;
	w->last_len = len;
	rc = conf_parse(&c, w->path, text, len, err, errlen);
	if (!rc)
		rc = w->apply(w->ctx, &c, w->path, err, errlen);
	conf_free(&c);
	return rc ? rc : 1;
}

int conf_watch_open(struct conf_watch **out, const char *path, conf_apply_fn apply, void *ctx,
		    char *err, size_t errlen)
{
	struct conf_watch *w = calloc(1, sizeof(*w));
	char *dir = NULL;
	sigset_t hup;
	int rc;

	*out = NULL;
	if (!w || !(w->path = strdup(path)) || !(dir = strdup(path))) {
		snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		rc = -ENOMEM;
		goto fail;
	}
	w->apply = apply;
	w->ctx = ctx;
	w->ifd = w->sfd = -1;
	rc = conf_watch_load(w, 1, err, errlen);
	if (rc < 0) {
		rc = -EINVAL; /* a file that cannot be read is bad usage too */
		goto fail;
	}
	w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->ifd < 0) {
		rc = -errno;
		snprintf(err, errlen, "inotify_init1: %s", strerror(-rc));
		goto fail;
	}
	const char *d = dirname(dir);
	if (inotify_add_watch(w->ifd, d,
			      IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE |
				  IN_ATTRIB) < 0) {
		rc = -errno;
		snprintf(err, errlen, "inotify_add_watch %s: %s", d, strerror(-rc));
		goto fail;
	}
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	/* Blocked in this thread and every thread started later: only the signalfd takes it. */
	if (sigprocmask(SIG_BLOCK, &hup, NULL) ||
	    (w->sfd = signalfd(-1, &hup, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "signalfd(SIGHUP): %s", strerror(-rc));
		goto fail;
	}
	free(dir);
	*out = w;
	return 0;
fail:
	free(dir);
	conf_watch_close(w);
	return rc;
}

int conf_watch_poll(struct conf_watch *w)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct signalfd_siginfo si;
	int force = 0, changed = 0, rc;
	char err[512];

	while (read(w->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		force = 1;
	while (read(w->ifd, buf, sizeof(buf)) > 0)
		changed = 1;
	int64_t now = conf_now_ms();
	if (changed)
		w->due_ms = now + CONF_SETTLE_MS; /* wait for the writer to finish */
	if (!force && !(w->due_ms && now >= w->due_ms))
		return 0;
	w->due_ms = 0;
	rc = conf_watch_load(w, force, err, sizeof(err));
	if (rc == 0)
		return 0;
	if (rc < 0) {
		counter_inc(&c_conf_rejected);
		pr_err("%s; keeping the settings in force", err);
		return -1;
	}
	counter_inc(&c_conf_reloads);
	pr_info("%s: settings reloaded%s", w->path, force ? " (SIGHUP)" : "");
	return 1;
}

void conf_watch_close(struct conf_watch *w)
{
	if (!w)
		return;
	if (w->ifd >= 0)
		close(w->ifd);
	if (w->sfd >= 0)
		close(w->sfd);
	free(w->last);
	free(w->path);
	free(w);
}
