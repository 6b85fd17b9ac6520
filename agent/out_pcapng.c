// SPDX-License-Identifier: Apache-2.0
/*
 * out_pcapng.c - the pcapng encoding of pano-agent's file outputs (--write X.pcapng, --format
 * pcapng): the section header, one interface description block per interface (its name, the
 * timestamp resolution), and one enhanced packet block per frame with the direction in its
 * flags and who sent it in its comment. Blocks are in host byte order, as libpcap writes them;
 * the section header's byte-order magic tells readers which.
 *
 * Also the interface table a pcapng writer keeps: the agent's ifindex -> name, and which
 * interface block of the current section (file) stands for each interface.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_api.h"
#include "output.h"
#include "who.h"

#define PCAPNG_BT_SHB		0x0a0d0d0au
#define PCAPNG_BT_IDB		1u
#define PCAPNG_BT_EPB		6u
#define PCAPNG_BYTE_ORDER_MAGIC 0x1a2b3c4du

#define PCAPNG_OPT_END	    0
#define PCAPNG_OPT_COMMENT  1
#define PCAPNG_SHB_USERAPPL 4
#define PCAPNG_IF_NAME	    2
#define PCAPNG_IF_TSRESOL   9
#define PCAPNG_EPB_FLAGS    2

#define PCAPNG_EPB_FIXED 28 /* type, length, interface, timestamp (2), caplen, len */

static const char pcapng_userappl[] = "pano-agent " PANO_VERSION;

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static size_t put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
	return 4;
}

static size_t put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
	return 2;
}

/* One option: code, length, value, zero padding to 32 bits. Returns the bytes written. */
static size_t put_opt(uint8_t *p, uint16_t code, const void *v, size_t len)
{
	size_t n = 0;

	n += put16(p + n, code);
	n += put16(p + n, (uint16_t)len);
	if (len) /* opt_endofopt has no value (v NULL) */
		memcpy(p + n, v, len);
	memset(p + n + len, 0, pad4(len) - len);
	return n + pad4(len);
}

/* Closes a block that starts at p and has n bytes so far: end of options (when with_opts),
 * then the trailing total length, which also goes into the header. Returns the block's size. */
static size_t close_block(uint8_t *p, size_t n, int with_opts)
{
	if (with_opts)
		n += put_opt(p + n, PCAPNG_OPT_END, NULL, 0);
	n += 4;
	put32(p + 4, (uint32_t)n);
	put32(p + n - 4, (uint32_t)n);
	return n;
}

size_t pcapng_encode_shb(uint8_t out[PCAPNG_SHB_MAX])
{
	size_t n = 0;
	uint64_t section_len = UINT64_MAX; /* not given: readers walk the blocks */

	_Static_assert(16 + 4 + sizeof(pcapng_userappl) + 3 + 4 + 8 <= PCAPNG_SHB_MAX,
		       "PCAPNG_SHB_MAX holds the section header");
	n += put32(out + n, PCAPNG_BT_SHB);
	n += 4; /* total length, filled in by close_block */
	n += put32(out + n, PCAPNG_BYTE_ORDER_MAGIC);
	n += put16(out + n, 1); /* version 1.0 */
	n += put16(out + n, 0);
	memcpy(out + n, &section_len, 8);
	n += 8;
	n += put_opt(out + n, PCAPNG_SHB_USERAPPL, pcapng_userappl, strlen(pcapng_userappl));
	return close_block(out, n, 1);
}

size_t pcapng_encode_idb(uint8_t out[PCAPNG_IDB_MAX], const char *name, uint32_t snaplen, int nsec)
{
	uint8_t tsresol = nsec ? 9 : 6; /* 10^-9 or 10^-6 s */
	size_t n = 0, nlen = name ? strnlen(name, IF_NAMESIZE - 1) : 0;

	n += put32(out + n, PCAPNG_BT_IDB);
	n += 4;
	n += put16(out + n, PCAP_LINKTYPE_ETHERNET);
	n += put16(out + n, 0);
	n += put32(out + n, snaplen);
	if (nlen)
		n += put_opt(out + n, PCAPNG_IF_NAME, name, nlen);
	n += put_opt(out + n, PCAPNG_IF_TSRESOL, &tsresol, 1);
	return close_block(out, n, 1);
}

size_t pcapng_epb_len(uint32_t caplen, size_t comment_len)
{
	size_t n = PCAPNG_EPB_FIXED + pad4(caplen) + 4 + 4 + 4 + 4; /* flags, end, trailer */

	if (comment_len)
		n += 4 + pad4(comment_len);
	return n;
}

/* epb_flags bits 0-1: 01 inbound, 10 outbound (00: not known). */
static uint32_t pcapng_dir_flags(uint8_t dir)
{
	return dir == PANO_DIR_IN ? 1u : dir == PANO_DIR_OUT ? 2u : 0u;
}

size_t pcapng_encode_epb(uint8_t *out, uint32_t ifid, const struct pano_rec *rec,
			 const uint8_t *frame, const char *comment, size_t comment_len, int nsec)
{
	uint64_t ts = nsec ? rec->ts_ns : rec->ts_ns / 1000; /* truncated, as in classic pcap */
	uint32_t flags = pcapng_dir_flags(rec->dir);
	size_t n = 0;

	n += put32(out + n, PCAPNG_BT_EPB);
	n += 4;
	n += put32(out + n, ifid);
	n += put32(out + n, (uint32_t)(ts >> 32));
	n += put32(out + n, (uint32_t)ts);
	n += put32(out + n, rec->caplen);
	n += put32(out + n, rec->len < rec->caplen ? rec->caplen : rec->len);
	memcpy(out + n, frame, rec->caplen);
	memset(out + n + rec->caplen, 0, pad4(rec->caplen) - rec->caplen);
	n += pad4(rec->caplen);
	if (comment_len)
		n += put_opt(out + n, PCAPNG_OPT_COMMENT, comment, comment_len);
	n += put_opt(out + n, PCAPNG_EPB_FLAGS, &flags, 4);
	return close_block(out, n, 1);
}

/*
 * Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when s does not start one
 * (a stray continuation byte, an overlong form, a surrogate, past U+10FFFF, cut short).
 */
static size_t utf8_seq(const uint8_t *s, size_t n)
{
	size_t len;
	uint8_t lo = 0x80, hi = 0xbf;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* The comment being written: never past cap - 1 (the caller sizes it for the longest). */
struct pcapng_cbuf {
	char *p;
	size_t len, cap;
};

static void cb_bytes(struct pcapng_cbuf *b, const void *s, size_t n)
{
	if (n > b->cap - 1 - b->len)
		n = b->cap - 1 - b->len;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

/* " key=" (no space before the first key). */
static void cb_key(struct pcapng_cbuf *b, const char *key)
{
	if (b->len)
		cb_bytes(b, " ", 1);
	cb_bytes(b, key, strlen(key));
	cb_bytes(b, "=", 1);
}

static void cb_u64(struct pcapng_cbuf *b, uint64_t v)
{
	char d[20];
	size_t n = sizeof(d);

	do {
		d[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	cb_bytes(b, d + n, sizeof(d) - n);
}

/*
 * At most max bytes of v, up to a NUL. Control characters, bytes that are not valid UTF-8 and
 * (unless spaces_ok) spaces become '?', so a comment stays one line of UTF-8 and the values
 * before comm stay separable.
 */
static void cb_text(struct pcapng_cbuf *b, const char *v, size_t max, int spaces_ok)
{
	const uint8_t *s = (const uint8_t *)v;
	size_t n = strnlen(v, max);

	for (size_t i = 0; i < n;) {
		size_t l = s[i] > ' ' && s[i] < 0x7f ? 1 : utf8_seq(s + i, n - i);
		if (l == 1 && (s[i] < ' ' || s[i] == 0x7f || (s[i] == ' ' && !spaces_ok)))
			l = 0;
		if (l)
			cb_bytes(b, s + i, l);
		else
			cb_bytes(b, "?", 1);
		i += l ? l : 1;
	}
}

/* By hand rather than with snprintf: this runs for every frame of a pcapng output. */
size_t pcapng_comment(char out[PCAPNG_COMMENT_MAX], const struct pano_rec *rec,
		      const struct who_pod *pod)
{
	struct pcapng_cbuf b = {.p = out, .cap = PCAPNG_COMMENT_MAX};

	if (rec->cgroup_id) {
		cb_key(&b, "cgroup");
		cb_u64(&b, rec->cgroup_id);
		if (rec->pid) {
			cb_key(&b, "pid");
			cb_u64(&b, rec->pid);
		}
		if (pod && pod->pod[0]) {
			cb_key(&b, "pod");
			cb_text(&b, pod->ns, sizeof(pod->ns) - 1, 0);
			cb_bytes(&b, "/", 1);
			cb_text(&b, pod->pod, sizeof(pod->pod) - 1, 0);
		}
		if (pod && pod->container[0]) {
			cb_key(&b, "container");
			cb_text(&b, pod->container, sizeof(pod->container) - 1, 0);
		}
		if (rec->comm[0]) {
			cb_key(&b, "comm");
			cb_text(&b, rec->comm, sizeof(rec->comm), 1);
		}
	}
	out[b.len] = '\0';
	return b.len;
}

/* ---- the interface table ------------------------------------------------------------------ */

struct pcapng_if {
	int ifindex;
	int live;    /* attached now; otherwise kept for its records still in the ring */
	int32_t idb; /* its interface block in the current section, -1: none written yet */
	char name[IF_NAMESIZE];
};

struct pcapng_ifs {
	struct pcapng_if *v;
	uint32_t n, cap;
	uint32_t last; /* index of the last lookup: runs of one interface need no scan */
	uint32_t next_idb;
};

struct pcapng_ifs *pcapng_ifs_new(void)
{
	return calloc(1, sizeof(struct pcapng_ifs));
}

void pcapng_ifs_free(struct pcapng_ifs *t)
{
	if (!t)
		return;
	free(t->v);
	free(t);
}

static struct pcapng_if *pcapng_ifs_find(struct pcapng_ifs *t, int ifindex)
{
	if (t->last < t->n && t->v[t->last].ifindex == ifindex)
		return &t->v[t->last];
	for (uint32_t i = 0; i < t->n; i++)
		if (t->v[i].ifindex == ifindex)
			return &t->v[t->last = i];
	return NULL;
}

/*
 * A new entry. The table is bounded: when full, an interface no longer attached (else any)
 * is forgotten; if its records come back, it simply gets a new interface block. NULL only when
 * out of memory.
 */
static struct pcapng_if *pcapng_ifs_add(struct pcapng_ifs *t, int ifindex)
{
	struct pcapng_if *e;

	if (t->n == t->cap && t->cap < PCAPNG_MAX_IFACES) {
		uint32_t cap = t->cap ? t->cap * 2 : 16;
		void *v = realloc(t->v, cap * sizeof(*t->v));
		if (v) {
			t->v = v;
			t->cap = cap;
		}
	}
	if (t->n < t->cap) {
		e = &t->v[t->n++];
	} else if (!t->cap) {
		return NULL;
	} else {
		uint32_t i = 0;
		while (i < t->n && t->v[i].live)
			i++;
		e = &t->v[i < t->n ? i : (t->last + 1) % t->n];
	}
	memset(e, 0, sizeof(*e));
	e->ifindex = ifindex;
	e->idb = -1;
	t->last = (uint32_t)(e - t->v);
	return e;
}

void pcapng_ifs_set(struct pcapng_ifs *t, int ifindex, const char *name)
{
	struct pcapng_if *e = pcapng_ifs_find(t, ifindex);

	if (!e && !(e = pcapng_ifs_add(t, ifindex)))
		return;
	e->live = 1;
	if (strncmp(e->name, name, sizeof(e->name) - 1) != 0) {
		snprintf(e->name, sizeof(e->name), "%s", name);
		e->idb = -1; /* renamed, or a new interface with an old index: a new block */
	}
}

void pcapng_ifs_gone(struct pcapng_ifs *t, int ifindex)
{
	struct pcapng_if *e = pcapng_ifs_find(t, ifindex);

	if (e)
		e->live = 0;
}

int pcapng_ifs_lookup(struct pcapng_ifs *t, int ifindex, const char **name)
{
	struct pcapng_if *e = pcapng_ifs_find(t, ifindex);

	if (!e) {
		/* Not one the agent named (it is not told of it yet): ask the kernel. */
		char buf[IF_NAMESIZE];
		if (!(e = pcapng_ifs_add(t, ifindex))) {
			*name = NULL;
			return -1;
		}
		if (if_indextoname((unsigned)ifindex, buf))
			snprintf(e->name, sizeof(e->name), "%s", buf);
	}
	*name = e->name[0] ? e->name : NULL;
	return e->idb;
}

uint32_t pcapng_ifs_assign(struct pcapng_ifs *t, int ifindex)
{
	struct pcapng_if *e = pcapng_ifs_find(t, ifindex);
	uint32_t id = t->next_idb++;

	if (e)
		e->idb = (int32_t)id;
	return id;
}

void pcapng_ifs_new_section(struct pcapng_ifs *t)
{
	for (uint32_t i = 0; i < t->n; i++)
		t->v[i].idb = -1;
	t->next_idb = 0;
}
