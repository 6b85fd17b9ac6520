// SPDX-License-Identifier: Apache-2.0
/*
 * input_pot.c - PCAP-over-TCP client. The stream is a classic pcap file sent over TCP: a 24-byte
 * global header (either magic, either byte order) then records, with no other framing. The
 * client connects, validates the global header, decodes records until the peer goes away, and
 * reconnects with exponential backoff (0.1 s doubling to 30 s, reset after a good header).
 * Every (re)connection starts with a new global header, so it resynchronises on it. A record
 * header that cannot be right (caplen > snaplen or > 256 KiB) means the stream is broken: the
 * connection is dropped and counted. Reads poll with a short timeout so *stop is seen soon.
 * Whatever keeps it from a stream (connect refused, TLS refused, the agent closing at once
 * because its client slots are taken, the stream closed under it) is said at the default log
 * level, rate-limited (POT_LOG_MS), with the reason.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "counter.h"
#include "cursor.h"
#include "decode.h"
#include "input.h"
#include "log.h"
#include "pcap_fmt.h"
#include "tls.h"

#define POT_BUF_SIZE	   (PCAP_FMT_MAX_CAPLEN + 64u * 1024u)
#define POT_POLL_MS	   200
#define POT_BACKOFF_MIN_MS 100
#define POT_BACKOFF_MAX_MS 30000
#define POT_POLL_EVERY	   4096
#define POT_LOG_MS	   60000 /* LOG_LIMIT_BURST lines a minute about getting in */

PANO_COUNTER(c_pot_connects, "pot_connects", "event", "PCAP-over-TCP connections made");
PANO_COUNTER(c_pot_reconnects, "pot_reconnects", "event",
	     "PCAP-over-TCP reconnections after the peer went away");
PANO_COUNTER(c_pot_connect_fail, "pot_connect_failed", "event",
	     "PCAP-over-TCP connection attempts that failed");
PANO_COUNTER(c_pot_bad_global, "pot_bad_global_header", "weird",
	     "PCAP-over-TCP streams with an invalid global header (dropped)");
PANO_COUNTER(c_pot_bad_record, "pot_bad_record_header", "weird",
	     "PCAP-over-TCP record headers with caplen over snaplen or 256 KiB (stream dropped)");
PANO_COUNTER(c_pot_partial, "pot_partial_records", "drop",
	     "PCAP-over-TCP records cut by a disconnection");
PANO_COUNTER(c_pot_bytes_lost, "pot_bytes_lost", "drop",
	     "PCAP-over-TCP bytes received but not decoded (partial records, broken streams)");
PANO_COUNTER(c_pot_bytes, "pot_bytes", "event", "PCAP-over-TCP bytes received");

static struct pano_source pot_source = {.id = 1, .node = NULL};

struct pot_conn {
	int fd;
	struct tls_conn *tc; /* plain TCP too (NULL context): one read path */
	uint8_t *buf;
	size_t len, off;    /* valid bytes [off, len) */
	unsigned long recs; /* records of this connection */
	char why[300];	    /* why it ended */
};

static void pot_sleep_ms(unsigned ms, const struct input_hooks *h)
{
	while (ms && !*h->stop) {
		unsigned step = ms < 100 ? ms : 100;
		struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)step * 1000000L};
		nanosleep(&ts, NULL);
		ms -= step;
		if (h->poll)
			h->poll(h->arg);
	}
}

/* Splits "host:port" or "[v6]:port". 0 or -EINVAL. */
static int pot_split(const char *spec, char *host, size_t hsz, char *port, size_t psz)
{
	const char *colon;
	size_t hl;

	if (spec[0] == '[') {
		const char *rb = strchr(spec, ']');
		if (!rb || rb[1] != ':')
			return -EINVAL;
		hl = (size_t)(rb - spec - 1);
		spec++;
		colon = rb + 1;
	} else {
		colon = strrchr(spec, ':');
		if (!colon)
			return -EINVAL;
		hl = (size_t)(colon - spec);
	}
	if (hl == 0 || hl >= hsz || strlen(colon + 1) == 0 || strlen(colon + 1) >= psz)
		return -EINVAL;
	memcpy(host, spec, hl);
	host[hl] = '\0';
	strcpy(port, colon + 1);
	return 0;
}

/* Connects without blocking past *stop. The fd, or -1 with the reason in why. */
static int pot_connect(const char *host, const char *port, const struct input_hooks *h, char *why,
		       size_t wsz)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
	int fd = -1, rc;

	snprintf(why, wsz, "no address");
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc) {
		snprintf(why, wsz, "getaddrinfo: %s", gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai && fd < 0 && !*h->stop; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			snprintf(why, wsz, "socket: %s", strerror(errno));
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			int waited = 0, err = 0;
			socklen_t el = sizeof(err);
			while (!*h->stop && waited < 10000 && (rc = poll(&p, 1, POT_POLL_MS)) == 0)
				waited += POT_POLL_MS;
			if (rc > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && !err)
				break;
			snprintf(why, wsz, "connect: %s", strerror(err ? err : ETIMEDOUT));
		} else {
			snprintf(why, wsz, "connect: %s", strerror(errno));
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/*
 * Makes n bytes available at c->buf + c->off. 1 when they are, 0 when the peer closed or the
 * read failed (the reason in c->why), -1 when *stop was set.
 */
static int pot_fill(struct pot_conn *c, size_t n, const struct input_hooks *h)
{
	while (c->len - c->off < n) {
		if (*h->stop)
			return -1;
		if (c->off && c->off + n > POT_BUF_SIZE) {
			memmove(c->buf, c->buf + c->off, c->len - c->off);
			c->len -= c->off;
			c->off = 0;
		}
		ssize_t r = tls_conn_read(c->tc, c->buf + c->len, POT_BUF_SIZE - c->len);
		if (r > 0) {
			c->len += (size_t)r;
			counter_add(&c_pot_bytes, (uint64_t)r);
			continue;
		}
		if (r == 0) {
			snprintf(c->why, sizeof(c->why), "closed by the agent");
			return 0;
		}
		if (r != -EAGAIN) {
			snprintf(c->why, sizeof(c->why), "%s",
				 tls_conn_error(c->tc)[0] ? tls_conn_error(c->tc)
							  : strerror((int)-r));
			return 0;
		}
		struct pollfd p = {.fd = c->fd, .events = tls_conn_events(c->tc)};
		if (poll(&p, 1, POT_POLL_MS) == 0 && h->poll)
			h->poll(h->arg);
	}
	return 1;
}

/* Reads a global header; 0 with hdr filled, or -1 (invalid: counted and logged). */
static int pot_parse_global(const uint8_t *b, struct pcap_fmt *hdr)
{
	switch (pcap_fmt_parse(b, hdr)) {
	case PCAP_FMT_OK:
		return 0;
	case PCAP_FMT_VERSION:
		counter_inc(&c_pot_bad_global);
		pr_warn("PCAP-over-TCP: pcap version %u.%u, dropping the connection", hdr->major,
			hdr->minor);
		return -1;
	default:
		counter_inc(&c_pot_bad_global);
		pr_warn("PCAP-over-TCP: bad magic %02x%02x%02x%02x, dropping the connection", b[0],
			b[1], b[2], b[3]);
		return -1;
	}
}

/* Decodes records until the connection ends; returns the same values as pot_fill. */
static int pot_stream(struct pot_conn *c, const struct input_hooks *h)
{
	struct pcap_fmt hdr;
	struct pcap_fmt_rec rec;
	unsigned long n = 0;
	int rc = pot_fill(c, 24, h);

	if (rc != 1)
		return rc;
	if (pot_parse_global(c->buf + c->off, &hdr))
		return 0;
	c->off += PCAP_FMT_GLOBAL;
	pr_info("PCAP-over-TCP: stream up, link type %u, snaplen %u%s", hdr.linktype, hdr.snaplen,
		hdr.nsec ? ", ns timestamps" : "");

	struct pano_frame f = {
	    .src = &pot_source, .linktype = (int)hdr.linktype, .meta = {.iface = NULL, .dir = -1}};
	for (;;) {
		rc = pot_fill(c, hdr.rec_len, h);
		if (rc != 1)
			return rc;
		pcap_fmt_rec(&hdr, c->buf + c->off, &rec);
		uint32_t caplen = rec.caplen;
		if (caplen > hdr.snaplen || caplen > PCAP_FMT_MAX_CAPLEN) {
			counter_inc(&c_pot_bad_record);
			pr_warn("PCAP-over-TCP: record caplen %u over snaplen %u: stream broken, "
				"reconnecting",
				caplen, hdr.snaplen);
			return 0;
		}
		rc = pot_fill(c, hdr.rec_len + caplen, h);
		if (rc != 1)
			return rc;
		f.ts_ns = rec.ts_ns;
		f.data = c->buf + c->off + hdr.rec_len;
		f.caplen = caplen;
		f.len = rec.len; /* below caplen: counted and raised by the decoder */
		decode_frame(h->eng, &f);
		c->off += hdr.rec_len + caplen;
		c->recs = ++n;
		if (n % POT_POLL_EVERY == 0 && h->poll)
			h->poll(h->arg);
	}
}

int input_pot_run(const char *hostport, const struct tls_opts *tls, const struct input_hooks *h)
{
	struct tls_ctx *ctx = NULL;
	char host[256], port[32];
	unsigned backoff = POT_BACKOFF_MIN_MS;
	int connected_before = 0;
	struct pot_conn c = {.fd = -1};
	struct log_limit lim = {0};
	char why[300];

	pot_source.node = input_local_node;
	if (pot_split(hostport, host, sizeof(host), port, sizeof(port))) {
		pr_err("--pcap-connect %s: expected HOST:PORT", hostport);
		return -EINVAL;
	}
	if (tls && tls_opts_any(tls) && tls_ctx_new(&ctx, false, tls))
		return -EINVAL;
	c.buf = malloc(POT_BUF_SIZE);
	if (!c.buf) {
		pr_err("malloc: %s", strerror(errno));
		tls_ctx_free(ctx);
		return -ENOMEM;
	}
	while (!*h->stop) {
		c.fd = pot_connect(host, port, h, why, sizeof(why));
		if (c.fd < 0) {
			counter_inc(&c_pot_connect_fail);
			if (!*h->stop)
				pr_warn_limited(
				    &lim, POT_LOG_MS,
				    "PCAP-over-TCP: cannot connect to %s:%s: %s; retrying "
				    "in %u ms",
				    host, port, why, backoff);
			pot_sleep_ms(backoff, h);
			backoff =
			    backoff * 2 > POT_BACKOFF_MAX_MS ? POT_BACKOFF_MAX_MS : backoff * 2;
			continue;
		}
		counter_inc(&c_pot_connects);
		if (connected_before)
			counter_inc(&c_pot_reconnects);
		connected_before = 1;
		c.tc = tls_conn_new(ctx, c.fd, host);
		if (!c.tc) {
			pr_err("tls_conn_new: out of memory");
			close(c.fd);
			break;
		}
		pr_info("PCAP-over-TCP: connected to %s:%s%s", host, port, ctx ? " (TLS)" : "");
		c.len = c.off = 0;
		c.recs = 0;
		snprintf(c.why, sizeof(c.why), "stream broken");
		int got_header = 0;
		int rc = pot_stream(&c, h);
		got_header = c.off > 0 || c.len >= 24;
		if (c.len > c.off) {
			if (rc == 0)
				counter_inc(&c_pot_partial);
			counter_add(&c_pot_bytes_lost, c.len - c.off);
		}
		tls_conn_free(c.tc);
		c.tc = NULL;
		close(c.fd);
		c.fd = -1;
		if (rc < 0)
			break;
		if (got_header)
			backoff = POT_BACKOFF_MIN_MS;
		if (!got_header)
			pr_warn_limited(
			    &lim, POT_LOG_MS,
			    "PCAP-over-TCP: %s:%s let us connect but sent no pcap header "
			    "(%s: its client slots may be taken, or TLS refused); retrying in "
			    "%u ms",
			    host, port, c.why, backoff);
		else
			pr_warn_limited(&lim, POT_LOG_MS,
					"PCAP-over-TCP: %s:%s ended the stream after %lu record(s) "
					"(%s: the agent stopped, or closed this client for a new "
					"one); reconnecting in %u ms",
					host, port, c.recs, c.why, backoff);
		pot_sleep_ms(backoff, h);
		backoff = backoff * 2 > POT_BACKOFF_MAX_MS ? POT_BACKOFF_MAX_MS : backoff * 2;
	}
	free(c.buf);
	tls_ctx_free(ctx);
	return 0;
}
