// SPDX-License-Identifier: Apache-2.0
/*
 * summary.c - the windows of live summaries (see summary.h): what each hook adds to the
 * current window, how windows rotate on packet time, and the merged view. The JSON and
 * Prometheus writers are in summary_out.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_parse.h"
#include "log.h"
#include "sender.h"
#include "sketch_hash.h"
#include "summary.h"
#include "summary_int.h"

void summary_config_default(struct summary_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->period_ns = 60ull * 1000000000ull;
	cfg->periods = 5;
	cfg->topn_k = 512;
	cfg->top_show = 10;
}

int summary_parse_hosts(struct summary_config *cfg, const char *spec)
{
	char *copy = strdup(spec), *save = NULL, *tok;
	int rc = 0;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct summary_net *n = &cfg->nets[cfg->nnets];
		char *slash = strchr(tok, '/'), *end;
		long plen = -1;

		if (cfg->nnets == SUMMARY_MAX_NETS) {
			pr_err("--host-spec: more than %d networks", SUMMARY_MAX_NETS);
			rc = -EINVAL;
			break;
		}
		if (slash) {
			*slash = 0;
			plen = strtol(slash + 1, &end, 10);
			if (*end || end == slash + 1)
				plen = 999;
		}
		memset(n, 0, sizeof(*n));
		if (inet_pton(AF_INET, tok, n->a) == 1) {
			n->family = 4;
			if (plen < 0)
				plen = 32;
		} else if (inet_pton(AF_INET6, tok, n->a) == 1) {
			n->family = 6;
			if (plen < 0)
				plen = 128;
		}
		if (!n->family || plen > (n->family == 4 ? 32 : 128)) {
			pr_err("--host-spec: '%s' is not an address or CIDR", tok);
			rc = -EINVAL;
			break;
		}
		n->plen = (uint8_t)plen;
		cfg->nnets++;
	}
	free(copy);
	return rc;
}

bool summary_addr_local(const struct summary *s, const struct pano_addr *a)
{
	for (unsigned i = 0; i < s->cfg.nnets; i++) {
		const struct summary_net *n = &s->cfg.nets[i];
		unsigned full = n->plen / 8, rest = n->plen % 8;

		if (n->family != a->family || memcmp(n->a, a->a, full))
			continue;
		if (rest && ((n->a[full] ^ a->a[full]) & (0xff00 >> rest)))
			continue;
		return true;
	}
	return false;
}

/* Copies n bytes of s into out (size outsz) as a string, cut to fit. */
static void sum_copy(char *out, size_t outsz, const char *s, size_t n)
{
	if (n >= outsz)
		n = outsz - 1;
	memcpy(out, s, n);
	out[n] = 0;
}

/* The last `labels` labels of name (len bytes) as summary_qname_suffix() defines them, in place:
 * returns where they start and sets *n to their length (0: the name has fewer labels). */
static const char *sum_suffix(const char *name, size_t len, unsigned labels, size_t *n)
{
	unsigned seen = 0;

	*n = 0;
	if (!len || !labels)
		return name;
	if (name[len - 1] == '.') /* a trailing root dot is not a label */
		len--;
	for (size_t i = len; i-- > 0;) {
		if (name[i] != '.')
			continue;
		if (++seen == labels) { /* keep ".last.labels" with its leading dot */
			*n = len - i;
			return name + i;
		}
	}
	if (len && seen == labels - 1) /* exactly that many labels: the whole name */
		*n = len;
	return name;
}

/*
 * sum_suffix for 2 and 3 labels at once, in one backward scan: the ".b.c" and ".a.b.c" of a
 * name (n2, n3 zero when the name has fewer labels), exactly as the two calls would give them.
 */
static void sum_suffix23(const char *name, size_t len, const char **s2, size_t *n2, const char **s3,
			 size_t *n3)
{
	const char *d1, *d2, *d3;

	*s2 = *s3 = name;
	*n2 = *n3 = 0;
	if (!len)
		return;
	if (name[len - 1] == '.') /* a trailing root dot is not a label */
		len--;
	d1 = memrchr(name, '.', len); /* the dots from the end, as the scan would meet them */
	if (!d1)
		return;
	d2 = memrchr(name, '.', (size_t)(d1 - name));
	if (!d2) { /* exactly two labels: the whole name */
		*n2 = len;
		return;
	}
	*s2 = d2;
	*n2 = len - (size_t)(d2 - name);
	d3 = memrchr(name, '.', (size_t)(d2 - name));
	if (!d3) {
		*n3 = len;
		return;
	}
	*s3 = d3;
	*n3 = len - (size_t)(d3 - name);
}

void summary_qname_suffix(const char *name, unsigned labels, char *out, size_t outsz)
{
	size_t n;
	const char *s = sum_suffix(name, strlen(name), labels, &n);

	if (!outsz)
		return;
	out[0] = 0;
	if (n)
		sum_copy(out, outsz, s, n);
}

static int sum_window_alloc(struct sum_window *w, unsigned k)
{
	memset(w, 0, sizeof(*w));
	for (int i = 0; i < SUM_Q_N; i++)
		if (!(w->q[i] = quant_new()))
			return -ENOMEM;
	for (int i = 0; i < SUM_T_N; i++)
		if (!(w->t[i] = topn_new(k)))
			return -ENOMEM;
	for (int i = 0; i < SUM_H_N; i++)
		if (!(w->h[i] = hll_new(HLL_P_DEFAULT)))
			return -ENOMEM;
	return 0;
}

static void sum_window_release(struct sum_window *w)
{
	for (int i = 0; i < SUM_Q_N; i++)
		quant_free(w->q[i]);
	for (int i = 0; i < SUM_T_N; i++)
		topn_free(w->t[i]);
	for (int i = 0; i < SUM_H_N; i++)
		hll_free(w->h[i]);
	memset(w, 0, sizeof(*w));
}

void sum_window_reset(struct sum_window *w)
{
	w->used = false;
	w->start_ns = w->end_ns = w->first_ns = w->last_ns = 0;
	w->sec_end_ns = 0;
	memset(&w->c, 0, sizeof(w->c));
	w->sec = 0;
	w->sec_pkts = w->sec_dns = 0;
	w->sec_open = false;
	w->slow_ns = 0;
	w->slow_fixed = false;
	for (int i = 0; i < SUM_Q_N; i++)
		quant_reset(w->q[i]);
	for (int i = 0; i < SUM_T_N; i++)
		topn_reset(w->t[i]);
	for (int i = 0; i < SUM_H_N; i++)
		hll_reset(w->h[i]);
}

void summary_free(struct summary *s)
{
	if (!s)
		return;
	free(s->front);
	if (s->win) {
		for (unsigned i = 0; i < s->cfg.periods; i++)
			sum_window_release(&s->win[i]);
		free(s->win);
	}
	sum_window_release(&s->merged);
	free(s);
}

struct summary *summary_new(const struct summary_config *cfg)
{
	struct summary *s = calloc(1, sizeof(*s));
	int err = 0;

	if (!s) {
		pr_err("summary_new: calloc: out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	if (s->cfg.periods < 1)
		s->cfg.periods = 1;
	if (s->cfg.periods > SUMMARY_MAX_PERIODS)
		s->cfg.periods = SUMMARY_MAX_PERIODS;
	if (s->cfg.period_ns < 1000000000ull)
		s->cfg.period_ns = 1000000000ull;
	atomic_init(&s->lock, 0);
	s->prog.fd = -1;
	s->win = calloc(s->cfg.periods, sizeof(*s->win));
	if (posix_memalign((void **)&s->front, 64, sizeof(*s->front)))
		s->front = NULL;
	if (s->front)
		memset(s->front, 0, sizeof(*s->front));
	if (!s->win || !s->front)
		err = -ENOMEM;
	for (unsigned i = 0; i < s->cfg.periods && !err; i++)
		err = sum_window_alloc(&s->win[i], s->cfg.topn_k);
	if (!err)
		err = sum_window_alloc(&s->merged, s->cfg.topn_k);
	if (err) {
		pr_err("summary_new: out of memory for %u windows", s->cfg.periods);
		summary_free(s);
		return NULL;
	}
	return s;
}

/* Closes the window's current second: its counts (and the empty seconds before it) go into
 * the per-second rate sketches. */
static void sum_close_second(struct sum_window *w)
{
	if (!w->sec_open)
		return;
	quant_add(w->q[SUM_Q_PPS], (double)w->sec_pkts);
	quant_add(w->q[SUM_Q_DPS], (double)w->sec_dns);
	w->sec_pkts = w->sec_dns = 0;
	w->sec_open = false;
}

static void sum_second_slow(const struct summary *s, struct sum_window *w, uint64_t ts_ns)
{
	uint64_t sec = ts_ns / 1000000000ull;

	if (w->sec_open && sec > w->sec) {
		uint64_t gap = sec - w->sec - 1, max = s->cfg.period_ns / 1000000000ull;

		sum_close_second(w);
		if (gap) { /* seconds without packets count as rate 0 */
			if (gap > max)
				gap = max;
			quant_add_n(w->q[SUM_Q_PPS], 0, gap);
			quant_add_n(w->q[SUM_Q_DPS], 0, gap);
		}
	}
	if (!w->sec_open) {
		w->sec_open = true;
		w->sec = sec;
		w->sec_end_ns = (sec + 1) * 1000000000ull;
	}
}

/* Makes ts_ns count in the window's open second. Time going backwards stays in it. */
static inline void sum_second(const struct summary *s, struct sum_window *w, uint64_t ts_ns)
{
	if (__builtin_expect(w->sec_open && ts_ns < w->sec_end_ns, 1))
		return;
	sum_second_slow(s, w, ts_ns);
}

static struct sum_window *sum_advance_slow(struct summary *s, uint64_t ts_ns)
{
	struct sum_window *w = &s->win[s->cur];
	uint64_t p = s->cfg.period_ns;

	if (w->used && ts_ns >= w->end_ns) {
		double prev_p90 = quant_quantile(w->q[SUM_Q_TXN], 0.9);
		bool has_txn = quant_count(w->q[SUM_Q_TXN]) > 0;

		sum_flush(s, true);
		sum_close_second(w);
		sum_lifetime_add(s, w);
		s->cur = (s->cur + 1) % s->cfg.periods;
		w = &s->win[s->cur];
		sum_window_reset(w);
		if (has_txn) { /* slow = above the previous window's p90 */
			w->slow_ns = (uint64_t)(prev_p90 * 1000.0);
			w->slow_fixed = true;
		}
	}
	if (!w->used) {
		w->used = true;
		w->start_ns = ts_ns - ts_ns % p;
		w->end_ns = w->start_ns + p;
		w->first_ns = ts_ns;
	}
	if (ts_ns > w->last_ns)
		w->last_ns = ts_ns;
	return w;
}

/* The window that ts_ns belongs to, rotating when packet time passed the current window's
 * end. Time going backwards stays in the current window. */
static inline struct sum_window *sum_advance(struct summary *s, uint64_t ts_ns)
{
	struct sum_window *w = &s->win[s->cur];

	if (__builtin_expect(w->used && ts_ns < w->end_ns, 1)) {
		if (ts_ns > w->last_ns)
			w->last_ns = ts_ns;
		return w;
	}
	return sum_advance_slow(s, ts_ns);
}

struct sum_window *sum_window_at(struct summary *s, uint64_t ts_ns)
{
	return sum_advance(s, ts_ns);
}

void summary_packet(struct summary *s, const struct pano_pkt *pkt)
{
	struct sum_window *w;
	int dir = pkt->frame ? pkt->frame->meta.dir : -1;

	sum_lock(s);
	w = sum_advance(s, pkt->ts_ns);
	sum_second(s, w, pkt->ts_ns);
	w->sec_pkts++;
	w->c.packets++;
	if (pkt->saddr.family == 6)
		w->c.ipv6++;
	else
		w->c.ipv4++;
	if (pkt->l4proto == IPPROTO_TCP)
		w->c.tcp++;
	else
		w->c.udp++;
	if (dir < 0 && s->cfg.nnets)
		dir = summary_addr_local(s, &pkt->daddr)   ? 0
		      : summary_addr_local(s, &pkt->saddr) ? 1
							   : -1;
	if (dir == 0)
		w->c.in++;
	else if (dir == 1)
		w->c.out++;
	sum_unlock(s);
}

/* Adds a key to a top-N sketch with its hash h (sketch_hash of the whole key) when that is
 * also the hash of the key as the sketch keeps it (not cut). */
static void sum_topn_hashed(struct topn *t, uint64_t h, const void *key, size_t len, uint64_t n)
{
	if (len <= TOPN_KEY_MAX)
		topn_add_hash(t, h, key, len, n);
	else
		topn_add(t, key, len, n);
}

/* The pending counts of a name's cache slot into the window's sketches. */
static void sum_name_flush(struct sum_window *w, struct sum_nent *e)
{
	static const int tab[SUM_NP_N] = {
	    [SUM_NP_NX] = SUM_T_NX,
	    [SUM_NP_SRVFAIL] = SUM_T_SRVFAIL,
	    [SUM_NP_REFUSED] = SUM_T_REFUSED,
	    [SUM_NP_SLOW] = SUM_T_SLOW,
	};
	uint32_t q = e->pend[SUM_NP_Q];

	if (q) {
		const char *sfx, *sfx3;
		size_t n, n3;

		topn_add_hash(w->t[SUM_T_QNAME], e->hash, e->key, e->len, q);
		sum_suffix23(e->key, e->len, &sfx, &n, &sfx3, &n3);
		if (n)
			topn_add(w->t[SUM_T_QNAME2], sfx, n, q);
		if (n3)
			topn_add(w->t[SUM_T_QNAME3], sfx3, n3, q);
	}
	for (int i = SUM_NP_NX; i < SUM_NP_N; i++)
		if (e->pend[i])
			topn_add_hash(w->t[tab[i]], e->hash, e->key, e->len, e->pend[i]);
	memset(e->pend, 0, sizeof(e->pend));
}

/* A cheap hash for the front caches' slots: one multiply per 8 bytes, the top bits used. */
static inline uint64_t sum_fast_hash(const char *s, size_t len)
{
	uint64_t h = (len + 1) * 0x9e3779b97f4a7c15ULL, w = 0;

	if (len >= 8) {
		for (size_t i = 0; i + 8 < len; i += 8) {
			memcpy(&w, s + i, 8);
			h = (h ^ w) * 0xff51afd7ed558ccdULL;
			h ^= h >> 32;
		}
		memcpy(&w, s + len - 8, 8); /* the last 8 bytes, maybe overlapping */
	} else {
		for (size_t i = 0; i < len; i++)
			w = w << 8 | (uint8_t)s[i];
	}
	return (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
}

/* memcmp(a, b, len) == 0 for the short keys of the caches, without the call. */
static inline bool sum_key_eq(const char *a, const char *b, size_t len)
{
	uint64_t x, y;

	if (len < 8)
		return !memcmp(a, b, len);
	for (size_t i = 0; i + 8 < len; i += 8) {
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y)
			return false;
	}
	memcpy(&x, a + len - 8, 8);
	memcpy(&y, b + len - 8, 8);
	return x == y;
}

/* The cache slot of a name (len <= SUM_NC_KEY, cheap hash fh), taken over from another name if
 * need be; a name entering the cache is counted in the unique-names HyperLogLog. */
static inline struct sum_nent *sum_name_slot(struct sum_front *f, struct sum_window *w,
					     const char *name, size_t len, uint64_t fh)
{
	struct sum_nent *e = &f->names[fh >> (64 - SUM_NC_BITS)];

	if (__builtin_expect(e->used && e->fh == fh && e->len == len, 1) &&
	    sum_key_eq(e->key, name, len))
		return e;
	if (e->used)
		sum_name_flush(w, e);
	e->used = 1;
	e->fh = fh;
	e->hash = sketch_hash(name, len, SKETCH_SEED);
	e->len = (uint16_t)len;
	memcpy(e->key, name, len);
	hll_add_hash(w->h[SUM_H_QNAME], e->hash);
	return e;
}

/* One more for pending count i of slot e; near the limit of the counter it is flushed. */
static inline void sum_name_count(struct sum_window *w, struct sum_nent *e, int i)
{
	if (__builtin_expect(++e->pend[i] >= 0x80000000u, 0))
		sum_name_flush(w, e);
}

/* The top-N key of an address slot: family byte, then the address. Returns its length. */
static size_t sum_addr_bytes(const struct sum_aent *e, uint8_t key[17])
{
	key[0] = e->len == 17 ? 6 : 4;
	memcpy(key + 1, e->a, e->len - 1);
	return e->len;
}

/* The miss path of sum_addr_key(): slot e's pending count into the sketch, then the address
 * (a0, a1, len) takes the slot. */
static __attribute__((noinline)) void sum_addr_miss(struct sum_window *w, int which,
						    struct sum_aent *e, uint64_t a0, uint64_t a1,
						    uint8_t len)
{
	uint8_t key[17];

	if (e->pend)
		topn_add_hash(w->t[SUM_T_CLIENT + which], e->hash, key, sum_addr_bytes(e, key),
			      e->pend);
	e->pend = 1;
	if (e->a[0] == a0 && e->a[1] == a1 && e->len == len)
		return; /* only the counter was full */
	e->a[0] = a0;
	e->a[1] = a1;
	e->len = len;
	e->hash = sketch_hash(key, sum_addr_bytes(e, key), SKETCH_SEED);
	hll_add_hash(w->h[SUM_H_CLIENT + which], e->hash);
}

/* A client (which 0) or server (1) address: top-N and HyperLogLog through the cache. */
static inline __attribute__((always_inline)) void
sum_addr_key(struct sum_front *f, struct sum_window *w, int which, const struct pano_addr *a)
{
	uint64_t a0 = 0, a1 = 0, x;
	uint8_t len;
	struct sum_aent *e;

	if (a->family == 6) {
		memcpy(&a0, a->a, 8);
		memcpy(&a1, a->a + 8, 8);
		len = 17;
	} else {
		uint32_t v4;

		memcpy(&v4, a->a, 4);
		a0 = v4;
		len = 5;
	}
	x = (a0 * 0x9e3779b97f4a7c15ULL) ^ a1;
	x = (x ^ (x >> 29) ^ len) * 0xff51afd7ed558ccdULL;
	e = &f->addr[which][x >> (64 - SUM_AC_BITS)];
	if (__builtin_expect(e->a[0] == a0 && e->a[1] == a1 && e->len == len, 1) &&
	    e->pend < 0x80000000u) {
		e->pend++;
		return;
	}
	sum_addr_miss(w, which, e, a0, a1, len);
}

static void sum_port(struct sum_front *f, struct sum_window *w, uint16_t port)
{
	struct sum_pent *e = &f->ports[port & (SUM_PC_SLOTS - 1)];

	if (e->pend && (e->port != port || e->pend >= 0x80000000u)) {
		topn_add_u64(w->t[SUM_T_PORT], e->port, e->pend);
		e->pend = 0;
	}
	e->port = port;
	e->pend++;
}

void sum_flush(struct summary *s, bool forget)
{
	struct sum_front *f = s->front;
	struct sum_window *w;

	if (!f || !s->win)
		return;
	w = &s->win[s->cur];
	if (f->dirty) {
		for (unsigned i = 0; i < SUM_NC_SLOTS; i++)
			if (f->names[i].used)
				sum_name_flush(w, &f->names[i]);
		for (int a = 0; a < 2; a++)
			for (unsigned i = 0; i < SUM_AC_SLOTS; i++) {
				struct sum_aent *e = &f->addr[a][i];

				uint8_t key[17];

				if (e->pend)
					topn_add_hash(w->t[SUM_T_CLIENT + a], e->hash, key,
						      sum_addr_bytes(e, key), e->pend);
				e->pend = 0;
			}
		for (unsigned i = 0; i < SUM_PC_SLOTS; i++) {
			if (f->ports[i].pend)
				topn_add_u64(w->t[SUM_T_PORT], f->ports[i].port, f->ports[i].pend);
			f->ports[i].pend = 0;
		}
		for (unsigned i = 0; i < SUM_QT_DIRECT; i++)
			if (f->qtype[i]) {
				topn_add_u64(w->t[SUM_T_QTYPE], i, f->qtype[i]);
				f->qtype[i] = 0;
			}
		for (unsigned i = 0; i < 16; i++)
			if (f->rcode[i]) {
				topn_add_u64(w->t[SUM_T_RCODE], i, f->rcode[i]);
				f->rcode[i] = 0;
			}
		f->dirty = false;
	}
	if (forget) { /* the next window's HyperLogLogs have not seen these keys */
		for (unsigned i = 0; i < SUM_NC_SLOTS; i++)
			f->names[i].used = 0;
		for (int a = 0; a < 2; a++)
			for (unsigned i = 0; i < SUM_AC_SLOTS; i++)
				f->addr[a][i].len = 0;
	}
}

/* summary_dns_message(), inlined into both hooks so that summary_dns_parsed() builds no
 * structure in memory. */
static inline __attribute__((always_inline)) void sum_dns_message(struct summary *s,
								  const struct summary_dns_msg *m)
{
	const struct pano_addr *client = m->is_reply ? m->daddr : m->saddr;
	const struct pano_addr *server = m->is_reply ? m->saddr : m->daddr;
	uint16_t sport = m->is_reply ? m->sport : m->dport;
	struct sum_front *f = s->front;
	struct sum_window *w;
	struct sum_nent *ne = NULL;
	size_t qlen = 0;
	uint64_t qhash = 0;

	sum_lock(s);
	w = sum_advance(s, m->ts_ns);
	sum_second(s, w, m->ts_ns);
	f->dirty = true;
	w->sec_dns++;
	w->c.dns_messages++;
	if (m->l4proto == IPPROTO_TCP)
		w->c.dns_tcp++;
	else
		w->c.dns_udp++;
	if (client->family == 6)
		w->c.dns_ipv6++;
	else
		w->c.dns_ipv4++;
	w->c.opcode[m->opcode & 15]++;
	if (m->qname) { /* pktvisor counts names and qtypes on queries and replies alike */
		qlen = strlen(m->qname);
		if (qlen <= SUM_NC_KEY) {
			ne = sum_name_slot(f, w, m->qname, qlen, sum_fast_hash(m->qname, qlen));
			sum_name_count(w, ne, SUM_NP_Q);
		} else {
			qhash =
			    sketch_hash(m->qname, qlen, SKETCH_SEED); /* once for every sketch */
			const char *sfx, *sfx3;
			size_t n, n3;

			sum_topn_hashed(w->t[SUM_T_QNAME], qhash, m->qname, qlen, 1);
			hll_add_hash(w->h[SUM_H_QNAME], qhash);
			sum_suffix23(m->qname, qlen, &sfx, &n, &sfx3, &n3);
			if (n)
				topn_add(w->t[SUM_T_QNAME2], sfx, n, 1);
			if (n3)
				topn_add(w->t[SUM_T_QNAME3], sfx3, n3, 1);
		}
		if (m->qtype < SUM_QT_DIRECT)
			f->qtype[m->qtype]++;
		else
			topn_add_u64(w->t[SUM_T_QTYPE], m->qtype, 1);
	}
	sum_addr_key(f, w, 0, client);
	sum_addr_key(f, w, 1, server);
	if (sport != 53)
		sum_port(f, w, sport);
	if (m->is_reply) {
		int nt = -1, np = -1;

		w->c.replies++;
		quant_add_uint(w->q[SUM_Q_RSIZE], m->size);
		f->rcode[m->rcode & 15]++;
		switch (m->rcode) {
		case 0: /* pktvisor: NOERROR without answers is NODATA */
			if (m->ancount)
				w->c.noerror++;
			else
				w->c.nodata++;
			break;
		case 2:
			w->c.srvfail++;
			nt = SUM_T_SRVFAIL;
			np = SUM_NP_SRVFAIL;
			break;
		case 3:
			w->c.nxdomain++;
			nt = SUM_T_NX;
			np = SUM_NP_NX;
			break;
		case 5:
			w->c.refused++;
			nt = SUM_T_REFUSED;
			np = SUM_NP_REFUSED;
			break;
		}
		if (nt >= 0 && ne)
			sum_name_count(w, ne, np);
		else if (nt >= 0 && m->qname)
			sum_topn_hashed(w->t[nt], qhash, m->qname, qlen, 1);
	} else {
		w->c.queries++;
		quant_add_uint(w->q[SUM_Q_QSIZE], m->size);
		/* EDNS features are the client's choice: counted on queries (as pktvisor) */
		if (m->edns)
			w->c.edns++;
		if (m->do_bit)
			w->c.edns_do++;
		if (m->ecs)
			w->c.ecs++;
	}
	sum_unlock(s);
}

void summary_dns_message(struct summary *s, const struct summary_dns_msg *m)
{
	sum_dns_message(s, m);
}

void summary_dns_parsed(struct summary *s, const struct dns_msg *m, const struct pano_pkt *pkt,
			size_t len)
{
	struct summary_dns_msg d = {
	    .ts_ns = pkt->ts_ns,
	    .saddr = &pkt->saddr,
	    .daddr = &pkt->daddr,
	    .sport = pkt->sport,
	    .dport = pkt->dport,
	    .l4proto = pkt->l4proto,
	    .is_reply = DNS_QR(m->flags),
	    .opcode = DNS_OPCODE(m->flags),
	    .rcode = DNS_RCODE(m->flags),
	    .qtype = m->has_question ? m->qtype : 0,
	    .qname = m->has_question ? m->qname : NULL,
	    .ancount = m->ancount,
	    .size = (uint32_t)len,
	    .edns = m->edns.present,
	    .do_bit = m->edns.do_bit,
	    .ecs = m->edns.ecs,
	};

	sum_dns_message(s, &d);
}

/* A slow transaction's name: through its cache slot when the name sits there (it usually
 * does: its reply was just counted), else straight into the sketch. */
static void sum_slow_name(struct sum_front *f, struct sum_window *w, const char *name, size_t len)
{
	if (len <= SUM_NC_KEY) {
		uint64_t fh = sum_fast_hash(name, len);
		struct sum_nent *e = &f->names[fh >> (64 - SUM_NC_BITS)];

		if (e->used && e->fh == fh && e->len == len && sum_key_eq(e->key, name, len)) {
			sum_name_count(w, e, SUM_NP_SLOW);
			f->dirty = true;
			return;
		}
	}
	topn_add(w->t[SUM_T_SLOW], name, len, 1);
}

void summary_dns_txn(struct summary *s, const struct summary_dns_txn *t)
{
	struct sum_window *w;

	sum_lock(s);
	w = sum_advance(s, t->ts_ns);
	if (t->client_pod && !t->orphan) {
		char key[SENDER_NS_LEN + SENDER_POD_LEN + 1];
		int n = snprintf(key, sizeof(key), "%.*s/%.*s", (int)t->client_ns_len,
				 t->client_ns ? t->client_ns : "", (int)t->client_pod_len,
				 t->client_pod);
		size_t len = n < 0 ? 0 : (size_t)n < sizeof(key) ? (size_t)n : sizeof(key) - 1;

		topn_add(w->t[SUM_T_POD], key, len, 1);
		if (t->rcode == 3)
			topn_add(w->t[SUM_T_POD_NX], key, len, 1);
		else if (t->rcode == 2)
			topn_add(w->t[SUM_T_POD_SRVFAIL], key, len, 1);
	}
	if (t->orphan) {
		w->c.orphans++;
	} else if (t->timed_out) {
		w->c.timed_out++;
	} else if (t->answered) {
		double us = (double)t->rtt_ns / 1000.0;

		w->c.xact++;
		if (t->server && s->cfg.nnets && summary_addr_local(s, t->server))
			w->c.xact_in++;
		else
			w->c.xact_out++;
		quant_add(w->q[SUM_Q_TXN], us);
		if (t->query_size && t->reply_size)
			quant_add(w->q[SUM_Q_RATIO], (double)t->reply_size / t->query_size);
		/* Without a previous window, the threshold is this window's p90 so far,
		 * refreshed every 256 transactions. */
		if (!w->slow_fixed && (w->c.xact & 255) == 0)
			w->slow_ns = (uint64_t)(quant_quantile(w->q[SUM_Q_TXN], 0.9) * 1000.0);
		if (w->slow_ns && t->rtt_ns > w->slow_ns && t->qname)
			sum_slow_name(s->front, w, t->qname, t->qname_len);
	}
	sum_unlock(s);
}

void summary_finish(struct summary *s)
{
	if (!s)
		return;
	sum_lock(s);
	sum_close_second(&s->win[s->cur]);
	sum_unlock(s);
}

/* Window n back from the current one, or NULL. Caller holds the lock. */
struct sum_window *sum_window_nth(struct summary *s, unsigned n)
{
	struct sum_window *w;

	if (n >= s->cfg.periods)
		return NULL;
	sum_flush(s, false); /* readers see what the front caches still hold */
	w = &s->win[(s->cur + s->cfg.periods - n) % s->cfg.periods];
	return w->used ? w : NULL;
}

/* Fills s->merged with every kept window. Caller holds the lock. */
struct sum_window *sum_merge_all(struct summary *s)
{
	struct sum_window *m = &s->merged;

	sum_window_reset(m);
	for (unsigned n = s->cfg.periods; n-- > 0;) {
		struct sum_window *w = sum_window_nth(s, n);

		if (!w)
			continue;
		if (!m->used || w->first_ns < m->first_ns)
			m->first_ns = w->first_ns;
		if (!m->used)
			m->start_ns = w->start_ns;
		if (w->last_ns > m->last_ns)
			m->last_ns = w->last_ns;
		m->used = true;
		sum_counts_add(&m->c, &w->c);
		for (int i = 0; i < SUM_Q_N; i++)
			quant_merge(m->q[i], w->q[i]);
		for (int i = 0; i < SUM_T_N; i++)
			topn_merge(m->t[i], w->t[i]);
		for (int i = 0; i < SUM_H_N; i++)
			hll_merge(m->h[i], w->h[i]);
	}
	return m;
}

void sum_counts_add(struct sum_counts *a, const struct sum_counts *b)
{
#define SUM_ADD(f, h) a->f += b->f;
	SUM_COUNTERS(SUM_ADD)
#undef SUM_ADD
	for (int i = 0; i < 16; i++)
		a->opcode[i] += b->opcode[i];
	for (int i = 0; i < 6; i++)
		a->http_class[i] += b->http_class[i];
}

/* A window leaving "current": its counters and sketch totals join the lifetime totals. */
void sum_lifetime_add(struct summary *s, const struct sum_window *w)
{
	sum_counts_add(&s->life, &w->c);
	for (int i = 0; i < SUM_Q_N; i++) {
		s->life_qsum[i] += quant_sum(w->q[i]);
		s->life_qcount[i] += quant_count(w->q[i]);
	}
}
