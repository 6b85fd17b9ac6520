// SPDX-License-Identifier: Apache-2.0
/*
 * pcap_server.c - the PCAP-over-TCP server (--pcap-listen): every client gets the 24-byte
 * global header, then every record captured while it is connected, with no other framing.
 *
 * Threads: the ring reader (main thread) hands over up to PCAP_SERVER_IOV_MAX complete pcap
 * records at a time, as iovecs (pano-agent points them straight into the capture ring, whose
 * records carry their pcap header), under one short mutex. To a client with nothing queued it
 * sends them itself: no wakeup of another thread, which at full load is most of what serving a
 * client costs. It gathers them into a piece buffer (1 MiB for plain TCP, one TLS record's
 * 16 KiB of plaintext for TLS) and writes each piece with one non-blocking send(): the copy
 * into the piece and the kernel's copy of it cost about 0.6 of the kernel's copy of a thousand
 * 90-byte iovecs (a sendmsg straight from the ring, as it was before). What the socket does not
 * take (and everything for a client with bytes already queued) is copied into the client's byte
 * queue. A writer thread owns the rest: it accepts, sends from the queues with non-blocking send()
 * driven by epoll, reads, and closes clients. The queues are single-producer single-consumer rings:
 * the producer appends at tail, the writer sends from head without holding the lock (the producer
 * never overwrites [head, tail)). Both threads send, but never at once: the reader only while it
 * holds the lock and the queue is empty, the writer only while the queue holds bytes, which only
 * it removes.
 *
 * A slow client: when its queue (default 4 MiB) has no room for a whole record, the record is
 * dropped for that client only and counted; when it keeps dropping for stall_ms (default 5 s)
 * without one record getting in, the client is disconnected. Neither the ring reader nor the
 * other clients ever wait for it.
 *
 * Idle clients cannot lock readers out (lib/admit.h): an address holds at most
 * max_per_source clients and the server max_clients; a new client that finds either full
 * closes the most idle one (of its address, if that is what is full): the one that has not
 * kept up with the records (all of a round taken by its socket) for the longest time, or that
 * never got any, oldest first. (A client that does not read looks like one that keeps up until
 * the socket buffers between it and us are full: a few MB of records.) A TLS client must
 * finish its handshake within PS_HANDSHAKE_MS. Each such close is counted and logged
 * (rate-limited).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "admit.h"
#include "capture_api.h"
#include "counter.h"
#include "httpd.h"
#include "log.h"
#include "output.h"
#include "prom.h"
#include "tls.h"

#define PS_MAX_CLIENTS_LIMIT 1024
#define PS_HANDSHAKE_MS	     5000
#define PS_LOG_MS	     10000 /* LOG_LIMIT_BURST lines per 10 s for closes peers cause */

PANO_COUNTER(c_ps_client_drops, "agent_pcap_queue_full_drops", "drop",
	     "records not queued for a PCAP-over-TCP client whose queue was full");
PANO_COUNTER(c_ps_refused, "agent_pcap_clients_refused", "drop",
	     "PCAP-over-TCP connections refused (no memory, or no client could give way)");
PANO_COUNTER(c_ps_evicted, "agent_pcap_clients_evicted", "drop",
	     "PCAP-over-TCP clients closed to make room for a new one (the most idle)");
PANO_COUNTER(c_ps_hs_timeout, "agent_pcap_clients_handshake_timeout", "event",
	     "PCAP-over-TCP clients closed: TLS handshake not done in time");
PANO_COUNTER(c_ps_stalled, "agent_pcap_clients_stalled", "drop",
	     "PCAP-over-TCP clients disconnected after their queue stayed full");
PANO_COUNTER(c_ps_accepted, "agent_pcap_clients_accepted", "event",
	     "PCAP-over-TCP connections accepted");

struct ps_client {
	struct admit_conn adm; /* since_ns: when it last took records (guarded by the lock) */
	uint64_t accepted_ns;
	int fd;
	struct tls_conn *tls; /* TLS or plain passthrough (lib/tls.h) */
	pthread_mutex_t io;   /* held around every use of tls: the writer thread locks it, the
			       * ring reader only tries (ps_send_tls) */
	char name[64];	      /* peer ADDR:PORT, the metrics label */
	uint8_t *q;
	size_t cap;
	uint64_t head, tail;	/* byte offsets, only grow; used = tail - head */
	uint64_t full_since_ms; /* first drop of the current overflow, 0 when none */
	int kill;		/* set by the producer: the writer closes it */
	int send_err;		/* errno of a failed send by the producer (kill is set too) */
	int direct;		/* plain TCP: the producer may send() to fd itself */
	int want_out;		/* EPOLLOUT registered */
	struct out_stats stats;
};

struct pcap_server {
	int lfd, efd, epfd;
	int port;
	struct tls_ctx *tls; /* NULL: plain TCP */
	pthread_t thr;
	int thr_started;
	int stop;
	int kicked;	      /* an eventfd wakeup is pending */
	int pending;	      /* bytes were queued since the last pcap_server_kick */
	pthread_mutex_t lock; /* guards cl[], ncl and every queue's head/tail */
	struct ps_client **cl;
	int ncl;
	struct pcap_server_opts o;
	uint8_t ghdr[PCAP_GHDR_LEN];
	struct out_stats stats; /* all clients together */
	uint8_t *piece;		/* what the ring reader gathers for one write to an idle client */
	size_t piece_len; /* its size: PS_TCP_PIECE or PS_TLS_PIECE, less if the queue is small */
	struct admit_limits lim;
	struct log_limit log_evict, log_hs; /* writer thread */
};

/* Bytes the ring reader gathers for one write: one send() to a plain-TCP client, one full
 * TLS record's plaintext handed to OpenSSL. A plain-TCP piece holds a whole batch
 * (PCAP_SERVER_BATCH_LEN, 1 MiB: a 50 ms round at about 190k records a second), so at full
 * load a round is one send() and one wakeup of the client, not one per 64 KiB: 0.056 instead
 * of 0.067 agent CPU s per million packets in bench-agent (both builds in the same 10 rounds). */
#define PS_TCP_PIECE PCAP_SERVER_BATCH_LEN
#define PS_TLS_PIECE 16384u

static uint64_t ps_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Copies n bytes into the client's ring at tail (caller checked the room, holds the lock). */
static void ps_put(struct ps_client *c, const void *p, size_t n)
{
	size_t off = c->tail % c->cap, first = c->cap - off;

	if (first > n)
		first = n;
	memcpy(c->q + off, p, first);
	memcpy(c->q, (const uint8_t *)p + first, n - first);
	c->tail += n;
}

static void ps_wake(struct pcap_server *s)
{
	uint64_t one = 1;

	if (__atomic_exchange_n(&s->kicked, 1, __ATOMIC_ACQ_REL))
		return;
	if (write(s->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_warn("pcap server: write eventfd: %s", strerror(errno));
}

/*
 * Producer, lock held: records [i, n) of iov (one record each) into c's queue, those that fit,
 * record by record. A record that does not fit is dropped and counted; the first drop of an
 * overflow is logged, and one stall_ms after it the client is marked for the writer to close
 * (and gets nothing more). A record that fits ends the overflow.
 */
static void ps_queue_recs(struct pcap_server *s, struct ps_client *c, const struct iovec *iov,
			  uint32_t i, uint32_t n, uint64_t *now)
{
	size_t room = c->cap - (c->tail - c->head);
	uint64_t sent = 0, sent_b = 0, drop = 0, drop_b = 0;

	for (; i < n; i++) {
		size_t len = iov[i].iov_len;
		if (len <= room) {
			ps_put(c, iov[i].iov_base, len);
			room -= len;
			sent++;
			sent_b += len;
			c->full_since_ms = 0;
		} else {
			drop++;
			drop_b += len;
			if (!*now)
				*now = ps_now_ms();
			if (!c->full_since_ms) {
				c->full_since_ms = *now;
				pr_warn("pcap client %s: queue full, dropping records", c->name);
			} else if (*now - c->full_since_ms >= s->o.stall_ms) {
				c->kill = 1; /* the rest is not queued, as for any killed client */
				break;
			}
		}
	}
	if (sent) {
		out_stats_sent_n(&c->stats, sent, sent_b);
		out_stats_sent_n(&s->stats, sent, sent_b);
	}
	if (drop) {
		out_stats_drop_n(&c->stats, drop, drop_b);
		out_stats_drop_n(&s->stats, drop, drop_b);
		counter_add(&c_ps_client_drops, drop);
	}
}

/* A send by the producer failed for good (err: an errno): the writer closes the client. */
static void ps_send_failed(struct ps_client *c, int err)
{
	c->send_err = err;
	c->kill = 1;
}

/* A write's result w (ps_write_piece's or tls_conn_write's) that is neither progress nor
 * "would block" marks the client failed. */
static void ps_write_failed(struct ps_client *c, ssize_t w)
{
	if (w != -EAGAIN)
		ps_send_failed(c, w < 0 ? (int)-w : EPIPE);
}

/* The ring reader may serve TLS client c itself: TLS, nothing queued, the handshake done and
 * the writer not using the connection. True with c->io taken (the caller unlocks it). */
static bool ps_tls_take(struct ps_client *c)
{
	if (c->direct || c->kill || c->tail != c->head || pthread_mutex_trylock(&c->io))
		return false;
	if (tls_conn_ready(c->tls))
		return true;
	pthread_mutex_unlock(&c->io);
	return false;
}

/* One write of a piece to c: send() on a plain-TCP client, a TLS record otherwise. What
 * tls_conn_write returns (bytes taken, -EAGAIN, another -errno or 0 for a closed connection). */
static ssize_t ps_write_piece(struct ps_client *c, const uint8_t *p, size_t n)
{
	if (!c->direct)
		return tls_conn_write(c->tls, p, n);
	ssize_t w = send(c->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (w >= 0)
		return w;
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -EAGAIN : -errno;
}

/*
 * Producer, lock held, c's queue empty (and for TLS c->io held and the handshake done): sends
 * the n records itself, gathering them into s->piece one piece at a time (one copy in user
 * space, then one large write instead of the kernel's walk over an iovec per record) and
 * writing each piece whole. What the socket does not take is queued: first the rest
 * of the piece, at the very start of the queue so that the writer passes it again in one
 * piece as OpenSSL requires, then the rest of the record the piece ended in (the stream must
 * go on with it), then the other records as ps_queue_recs does. Returns 1 when the writer has
 * work (bytes queued, or a failed send: the client is marked for the writer to close), 0 when
 * all went.
 */
static int ps_send_pieces(struct pcap_server *s, struct ps_client *c, const struct iovec *iov,
			  uint32_t n, size_t len, uint64_t *now)
{
	uint8_t *piece = s->piece;
	size_t fill = 0, done = 0, off = 0, took_b = 0;
	uint32_t i = 0;
	ssize_t w = 0;

	while (i < n) {
		while (i < n && fill < s->piece_len) {
			size_t k = iov[i].iov_len - off;
			if (k > s->piece_len - fill)
				k = s->piece_len - fill;
			memcpy(piece + fill, (const uint8_t *)iov[i].iov_base + off, k);
			fill += k;
			off += k;
			if (off == iov[i].iov_len) {
				took_b += iov[i++].iov_len;
				off = 0;
			}
		}
		for (done = 0; done < fill; done += (size_t)w) {
			w = ps_write_piece(c, piece + done, fill - done);
			if (w <= 0)
				goto left;
		}
		fill = 0;
	}
	c->full_since_ms = 0;
	out_stats_sent_n(&c->stats, n, len);
	out_stats_sent_n(&s->stats, n, len);
	return 0;
left:
	ps_write_failed(c, w);
	if (c->kill)
		return 1;
	if (c->tail % c->cap) /* empty: start it over at offset 0 */
		c->tail += c->cap - c->tail % c->cap;
	c->head = c->tail;
	ps_put(c, piece + done, fill - done); /* fits: see pcap_server_start */
	if (off) {
		ps_put(c, (const uint8_t *)iov[i].iov_base + off, iov[i].iov_len - off);
		took_b += iov[i++].iov_len;
	}
	c->full_since_ms = 0;
	if (i) {
		out_stats_sent_n(&c->stats, i, took_b);
		out_stats_sent_n(&s->stats, i, took_b);
	}
	ps_queue_recs(s, c, iov, i, n, now);
	return 1;
}

void pcap_server_write_iov(struct pcap_server *s, const struct iovec *iov, uint32_t n, size_t len)
{
	int wake = 0;
	uint64_t now = 0;

	if (!n)
		return;
	uint64_t now_ns = admit_now_ns();
	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < s->ncl; i++) {
		struct ps_client *c = s->cl[i];
		if (c->kill)
			continue;
		if (c->direct && c->tail == c->head) {
			/* a failed client or bytes left over: the writer closes or sends */
			wake |= ps_send_pieces(s, c, iov, n, len, &now);
		} else if (ps_tls_take(c)) {
			tls_conn_cork(c->tls, true);
			wake |= ps_send_pieces(s, c, iov, n, len, &now);
			tls_conn_cork(c->tls, false);
			pthread_mutex_unlock(&c->io);
		} else if (c->cap - (c->tail - c->head) >= len) {
			for (uint32_t k = 0; k < n; k++)
				ps_put(c, iov[k].iov_base, iov[k].iov_len);
			c->full_since_ms = 0;
			out_stats_sent_n(&c->stats, n, len);
			out_stats_sent_n(&s->stats, n, len);
		} else {
			ps_queue_recs(s, c, iov, 0, n, &now);
			wake |= c->kill;
		}
		if (c->tail == c->head)
			c->adm.since_ns = now_ns; /* it keeps up with the records: not idle */
		if (c->tail != c->head)
			s->pending = 1; /* pcap_server_kick wakes the writer */
		if (c->tail - c->head > c->cap / 4)
			wake = 1; /* do not wait for the end of the round */
	}
	pthread_mutex_unlock(&s->lock);
	if (wake)
		ps_wake(s);
}

/* The records of a batch as iovecs, PS_BATCH_IOV at a time (on the stack). */
#define PS_BATCH_IOV 1024
void pcap_server_write_batch(struct pcap_server *s, const struct pcap_batch *b)
{
	struct iovec iov[PS_BATCH_IOV];
	uint32_t i = 0, n = 0;
	size_t start = 0, len = 0;

	while (i < b->n) {
		iov[n].iov_base = b->buf + start;
		iov[n].iov_len = b->ends[i] - start;
		len += iov[n++].iov_len;
		start = b->ends[i++];
		if (n == PS_BATCH_IOV || i == b->n) {
			pcap_server_write_iov(s, iov, n, len);
			n = 0;
			len = 0;
		}
	}
}

/* One record: a batch of one on the stack. */
void pcap_server_write(struct pcap_server *s, const struct pano_rec *rec, const uint8_t *frame)
{
	uint8_t buf[PCAP_RHDR_LEN + PANO_SNAPLEN_MAX];
	uint32_t end;
	struct pcap_batch b = {
	    .buf = buf, .cap = sizeof(buf), .ends = &end, .max = 1, .nsec = s->o.nsec};

	if (pcap_batch_add(&b, rec, frame)) {
		/* caplen above PANO_SNAPLEN_MAX: capture_rec_check never lets one through */
		out_stats_drop(&s->stats, PCAP_RHDR_LEN + (uint64_t)rec->caplen);
		return;
	}
	pcap_server_write_batch(s, &b);
}

/*
 * Ring reader, end of a round: sends what TLS clients have queued itself, encrypting it in
 * pieces as large as the queue holds (full 16 KiB records), for each client whose handshake is
 * done and whose connection the writer is not using (trylock: never waits for it). Up to the
 * socket's room, without blocking; a partial write's remainder stays queued at head, where
 * whoever writes next (this thread or the writer) passes it again, as OpenSSL wants. Returns 1
 * when the writer has work left: bytes the socket did not take, a client busy or still in its
 * handshake, a plain client's leftover, a failed send.
 */
static int ps_send_tls(struct pcap_server *s)
{
	int wake = 0;

	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < s->ncl; i++) {
		struct ps_client *c = s->cl[i];
		if (c->tail == c->head)
			continue;
		if (c->direct || c->kill || pthread_mutex_trylock(&c->io)) {
			wake = 1;
			continue;
		}
		tls_conn_cork(c->tls, true);
		while (c->head != c->tail) {
			if (!tls_conn_ready(c->tls)) {
				wake = 1;
				break;
			}
			size_t off = c->head % c->cap, n = c->tail - c->head;
			if (n > c->cap - off)
				n = c->cap - off;
			ssize_t w = tls_conn_write(c->tls, c->q + off, n);
			if (w > 0) {
				c->head += (uint64_t)w;
				continue;
			}
			ps_write_failed(c, w);
			wake = 1;
			break;
		}
		tls_conn_cork(c->tls, false);
		pthread_mutex_unlock(&c->io);
	}
	pthread_mutex_unlock(&s->lock);
	return wake;
}

/* Only when something was queued: records sent straight to the sockets need no writer. */
void pcap_server_kick(struct pcap_server *s)
{
	if (!__atomic_exchange_n(&s->pending, 0, __ATOMIC_ACQ_REL))
		return;
	if (s->tls && !ps_send_tls(s))
		return; /* the TLS clients took everything */
	ps_wake(s);
}

/* Frees a client that is in no table: TLS close_notify first, then closes fd (unless < 0). */
static void ps_free(struct ps_client *c, int fd)
{
	tls_conn_free(c->tls);
	if (fd >= 0)
		close(fd);
	free(c->q);
	pthread_mutex_destroy(&c->io);
	free(c);
}

/* Writer thread: closes c and removes it from the table. */
static void ps_close(struct pcap_server *s, struct ps_client *c, const char *why)
{
	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < s->ncl; i++) {
		if (s->cl[i] == c) {
			s->cl[i] = s->cl[--s->ncl];
			break;
		}
	}
	uint64_t left = c->tail - c->head;
	pthread_mutex_unlock(&s->lock);
	if (left)
		__atomic_fetch_add(&s->stats.drop_bytes, left, __ATOMIC_RELAXED);
	struct out_stats st;
	out_stats_read(&c->stats, &st);
	pr_info("pcap client %s disconnected (%s): %llu records sent, %llu dropped", c->name, why,
		(unsigned long long)st.sent_records, (unsigned long long)st.drop_records);
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	ps_free(c, c->fd);
}

/* Writer thread: sends what the client's queue holds until empty or the socket is full.
 * Returns 0, or -1 when the client is gone (closed here). */
static int ps_flush(struct pcap_server *s, struct ps_client *c)
{
	char why[256];

	pthread_mutex_lock(&c->io);
	for (;;) {
		pthread_mutex_lock(&s->lock);
		uint64_t head = c->head, tail = c->tail;
		int kill = c->kill;
		pthread_mutex_unlock(&s->lock);
		if (kill) {
			pthread_mutex_unlock(&c->io);
			if (c->send_err) {
				ps_close(s, c, strerror(c->send_err));
				return -1;
			}
			counter_inc(&c_ps_stalled);
			pr_warn("pcap client %s: queue full for %u ms, disconnecting", c->name,
				s->o.stall_ms);
			ps_close(s, c, "too slow");
			return -1;
		}
		if (head == tail)
			break;
		size_t off = head % c->cap, n = tail - head;
		if (n > c->cap - off)
			n = c->cap - off;
		ssize_t w = tls_conn_write(c->tls, c->q + off, n);
		if (w == -EAGAIN) {
			/* A TLS handshake waiting to read is served by ps_readable. */
			if (!(tls_conn_events(c->tls) & POLLOUT)) {
				pthread_mutex_unlock(&c->io);
				return 0;
			}
			if (!c->want_out) {
				struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLOUT,
							 .data.ptr = c};
				epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev);
				c->want_out = 1;
			}
			pthread_mutex_unlock(&c->io);
			return 0;
		}
		if (w <= 0) {
			snprintf(why, sizeof(why), "%s",
				 w < 0 ? tls_conn_error(c->tls) : "send returned 0");
			pthread_mutex_unlock(&c->io);
			ps_close(s, c, why);
			return -1;
		}
		pthread_mutex_lock(&s->lock);
		c->head += w;
		pthread_mutex_unlock(&s->lock);
	}
	pthread_mutex_unlock(&c->io);
	if (c->want_out) {
		struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
		epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev);
		c->want_out = 0;
	}
	return 0;
}

static const struct admit_conn *ps_admit_get(void *table, int i)
{
	return &((struct ps_client **)table)[i]->adm;
}

/* Writer thread: makes room for a new client from addr (host for the logs): closes the most
 * idle client when its address or the server is full. 0, or -1 when none can give way. */
static int ps_admit(struct pcap_server *s, const struct admit_addr *addr, const char *host)
{
	int victim;
	pthread_mutex_lock(&s->lock);
	enum admit_verdict v = admit_decide(&s->lim, addr, s->cl, ps_admit_get, s->ncl, &victim);
	struct ps_client *old = v == ADMIT_EVICT ? s->cl[victim] : NULL;
	bool same = old && memcmp(old->adm.addr.a, addr->a, sizeof(addr->a)) == 0;
	uint64_t idle_ms = old ? (admit_now_ns() - old->adm.since_ns) / 1000000u : 0;
	pthread_mutex_unlock(&s->lock);
	if (v == ADMIT_OK)
		return 0;
	if (!old)
		return -1;
	char why[160];
	counter_inc(&c_ps_evicted);
	snprintf(why, sizeof(why),
		 "evicted for a new client from %s: %s full, no record for %llu ms", host,
		 same ? "its address's slots" : "client slots", (unsigned long long)idle_ms);
	pr_warn_limited(&s->log_evict, PS_LOG_MS, "pcap client %s: %s", old->name, why);
	ps_close(s, old, why);
	return 0;
}

/* Writer thread: accepts one pending connection and queues the global header for it. */
static void ps_accept(struct pcap_server *s)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0, one = 1;

	int fd = accept4(s->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			pr_warn_limited(&s->log_evict, PS_LOG_MS, "pcap server: accept4: %s",
					strerror(errno));
		return;
	}
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		port = ntohs(a->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		port = ntohs(a->sin6_port);
	}
	struct admit_addr addr;
	admit_addr_from(&addr, (struct sockaddr *)&ss);
	if (ps_admit(s, &addr, host)) {
		counter_inc(&c_ps_refused);
		pr_warn_limited(&s->log_evict, PS_LOG_MS,
				"pcap server: %d clients already, refusing %s:%d", s->ncl, host,
				port);
		close(fd);
		return;
	}
	struct ps_client *c = calloc(1, sizeof(*c));
	if (c) {
		pthread_mutex_init(&c->io, NULL);
		c->q = malloc(s->o.queue_bytes);
	}
	if (!c || !c->q) {
		pr_warn("pcap server: no memory for client %s: refused", host);
		counter_inc(&c_ps_refused);
		if (c)
			ps_free(c, -1);
		close(fd);
		return;
	}
	c->fd = fd;
	c->cap = s->o.queue_bytes;
	c->adm.addr = addr;
	c->adm.since_ns = c->accepted_ns = admit_now_ns();
	/* Sends are whole rounds of records already: Nagle would only hold a quiet round's small
	 * send back until the previous one is acknowledged (up to a delayed-ACK timeout). */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->tls = tls_conn_new(s->tls, fd, NULL);
	if (!c->tls) {
		counter_inc(&c_ps_refused);
		ps_free(c, fd);
		return;
	}
	snprintf(c->name, sizeof(c->name), ss.ss_family == AF_INET6 ? "[%s]:%d" : "%s:%d", host,
		 port);
	c->direct = !tls_conn_is_tls(c->tls);
	ps_put(c, s->ghdr, PCAP_GHDR_LEN);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		pr_warn("pcap server: epoll_ctl: %s", strerror(errno));
		ps_free(c, fd);
		return;
	}
	pthread_mutex_lock(&s->lock);
	int full = s->ncl >= s->o.max_clients; /* not reached: ps_admit made room */
	if (!full)
		s->cl[s->ncl++] = c;
	pthread_mutex_unlock(&s->lock);
	if (full) {
		pr_warn("pcap server: %d clients already, refusing %s", s->o.max_clients, c->name);
		counter_inc(&c_ps_refused);
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, NULL);
		ps_free(c, fd);
		return;
	}
	counter_inc(&c_ps_accepted);
	pr_info("pcap client %s connected", c->name);
	ps_flush(s, c);
}

/* Writer thread: closes TLS clients whose handshake is not done PS_HANDSHAKE_MS after their
 * accept (plain clients are ready at once). */
static void ps_handshake_deadlines(struct pcap_server *s)
{
	if (!s->tls)
		return;
	uint64_t now = admit_now_ns();
	/* Only this thread removes clients: walk from the end (ps_close swaps the last in). */
	for (int j = s->ncl - 1; j >= 0; j--) {
		pthread_mutex_lock(&s->lock);
		struct ps_client *c = j < s->ncl ? s->cl[j] : NULL;
		pthread_mutex_unlock(&s->lock);
		if (!c || now - c->accepted_ns < PS_HANDSHAKE_MS * 1000000ull)
			continue;
		pthread_mutex_lock(&c->io);
		bool ready = tls_conn_ready(c->tls);
		pthread_mutex_unlock(&c->io);
		if (ready)
			continue;
		counter_inc(&c_ps_hs_timeout);
		pr_warn_limited(&s->log_hs, PS_LOG_MS,
				"pcap client %s: TLS handshake not done in %d ms, closing", c->name,
				PS_HANDSHAKE_MS);
		ps_close(s, c, "TLS handshake timeout");
	}
}

/* Writer thread: a readable client socket; clients have nothing to say, so data is discarded
 * and EOF or an error means it left. */
static void ps_readable(struct pcap_server *s, struct ps_client *c)
{
	char junk[512], why[256];

	pthread_mutex_lock(&c->io);
	for (;;) {
		ssize_t r = tls_conn_read(c->tls, junk, sizeof(junk));
		if (r > 0)
			continue;
		if (r == -EAGAIN) {
			pthread_mutex_unlock(&c->io);
			/* TLS: this may have advanced the handshake; send what waits. */
			if (tls_conn_is_tls(c->tls))
				ps_flush(s, c);
			return;
		}
		snprintf(why, sizeof(why), "%s",
			 r == 0 ? "closed by peer" : tls_conn_error(c->tls));
		pthread_mutex_unlock(&c->io);
		ps_close(s, c, why);
		return;
	}
}

static void *ps_thread(void *arg)
{
	struct pcap_server *s = arg;
	struct epoll_event evs[64];

	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		int n = epoll_wait(s->epfd, evs, 64, 1000);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			pr_err("pcap server: epoll_wait: %s", strerror(errno));
			break;
		}
		int flush_all = 0;
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;
			if (p == &s->lfd) {
				ps_accept(s);
			} else if (p == &s->efd) {
				uint64_t v;
				if (read(s->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
					pr_warn("pcap server: read eventfd: %s", strerror(errno));
				__atomic_store_n(&s->kicked, 0, __ATOMIC_RELEASE);
				flush_all = 1;
			}
		}
		/* Client events after the accepts, on pointers still in the table: an accept may
		 * have evicted a client this round (its events are skipped; if a new client got
		 * its address, the events only make it read or flush early, which is harmless).
		 * Other closes happen below or by flush_all, after this loop's table lookup. */
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;
			if (p == &s->lfd || p == &s->efd)
				continue;
			struct ps_client *c = p;
			int alive = 0;
			pthread_mutex_lock(&s->lock);
			for (int j = 0; j < s->ncl; j++)
				alive |= s->cl[j] == c;
			pthread_mutex_unlock(&s->lock);
			if (!alive)
				continue;
			if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
				ps_readable(s, c);
				continue; /* flushed below if it stayed */
			}
			if (evs[i].events & EPOLLOUT)
				ps_flush(s, c);
		}
		ps_handshake_deadlines(s);
		if (flush_all || n == 0) {
			/* Only this thread removes clients, so the table can be walked from the
			 * end while ps_flush may remove the entry at j (it swaps the last in). */
			for (int j = s->ncl - 1; j >= 0; j--) {
				pthread_mutex_lock(&s->lock);
				struct ps_client *c = j < s->ncl ? s->cl[j] : NULL;
				pthread_mutex_unlock(&s->lock);
				if (c)
					ps_flush(s, c);
			}
		}
	}
	return NULL;
}

struct pcap_server *pcap_server_start(const char *spec, const struct pcap_server_opts *o)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1;

	if (httpd_parse_addr(spec, "127.0.0.1", &ss, &sl))
		return NULL;
	struct tls_ctx *tls = NULL;
	if (o->tls && tls_opts_any(o->tls) && tls_ctx_new(&tls, true, o->tls))
		return NULL;
	int loopback = ss.ss_family == AF_INET
			   ? (ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24) == 127
			   : IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&ss)->sin6_addr);
	if (!loopback && !tls)
		pr_warn("pcap server on %s without TLS: captured payloads travel in clear "
			"(give --tls-cert/--tls-key/--tls-ca)",
			spec);
	struct pcap_server *s = calloc(1, sizeof(*s));
	if (!s) {
		pr_err("pcap server: calloc: %s", strerror(errno));
		tls_ctx_free(tls);
		return NULL;
	}
	s->lfd = s->efd = s->epfd = -1;
	s->o = *o;
	s->tls = tls;
	if (!s->o.queue_bytes)
		s->o.queue_bytes = 4u << 20;
	if (s->o.queue_bytes < PCAP_GHDR_LEN + PCAP_RHDR_LEN + PANO_SNAPLEN_MAX)
		s->o.queue_bytes = PCAP_GHDR_LEN + PCAP_RHDR_LEN + PANO_SNAPLEN_MAX;
	/* The ring reader serves idle clients through a piece buffer; the queue must hold what
	 * the socket left of a piece and the rest of a record after it, so a small queue makes
	 * the piece smaller (the smallest queue leaves 24 bytes). */
	s->piece_len = tls ? PS_TLS_PIECE : PS_TCP_PIECE;
	if (s->piece_len > s->o.queue_bytes - PCAP_RHDR_LEN - PANO_SNAPLEN_MAX)
		s->piece_len = s->o.queue_bytes - PCAP_RHDR_LEN - PANO_SNAPLEN_MAX;
	s->piece = malloc(s->piece_len);
	if (!s->piece) {
		pr_err("pcap server: malloc: %s", strerror(errno));
		tls_ctx_free(tls);
		free(s);
		return NULL;
	}
	if (s->o.max_clients <= 0 || s->o.max_clients > PS_MAX_CLIENTS_LIMIT)
		s->o.max_clients = s->o.max_clients <= 0 ? 64 : PS_MAX_CLIENTS_LIMIT;
	if (!s->o.stall_ms)
		s->o.stall_ms = 5000;
	if (s->o.max_per_source <= 0)
		s->o.max_per_source = PCAP_SERVER_PER_SOURCE;
	s->lim.max_untrusted = s->o.max_clients;
	s->lim.max_per_source = s->o.max_per_source;
	pcap_encode_global(s->ghdr, s->o.snaplen, s->o.nsec);
	pthread_mutex_init(&s->lock, NULL);
	s->cl = calloc(s->o.max_clients, sizeof(*s->cl));
	if (!s->cl) {
		pr_err("pcap server: calloc: %s", strerror(errno));
		goto fail;
	}
	s->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->lfd < 0) {
		pr_err("pcap server: socket: %s", strerror(errno));
		goto fail;
	}
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s->lfd, (struct sockaddr *)&ss, sl) || listen(s->lfd, SOMAXCONN)) {
		pr_err("pcap server: bind/listen %s: %s", spec, strerror(errno));
		goto fail;
	}
	sl = sizeof(ss);
	getsockname(s->lfd, (struct sockaddr *)&ss, &sl);
	s->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
						: ((struct sockaddr_in6 *)&ss)->sin6_port);
	s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->efd < 0 || s->epfd < 0) {
		pr_err("pcap server: eventfd/epoll_create1: %s", strerror(errno));
		goto fail;
	}
	struct epoll_event el = {.events = EPOLLIN, .data.ptr = &s->lfd};
	struct epoll_event ee = {.events = EPOLLIN, .data.ptr = &s->efd};
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->lfd, &el) ||
	    epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->efd, &ee)) {
		pr_err("pcap server: epoll_ctl: %s", strerror(errno));
		goto fail;
	}
	int err = pthread_create(&s->thr, NULL, ps_thread, s);
	if (err) {
		pr_err("pcap server: pthread_create: %s", strerror(err));
		goto fail;
	}
	s->thr_started = 1;
	pr_info("PCAP-over-TCP server listening on %s (port %d)", spec, s->port);
	return s;
fail:
	pcap_server_stop(s);
	return NULL;
}

int pcap_server_port(const struct pcap_server *s)
{
	return s->port;
}

int pcap_server_clients(struct pcap_server *s)
{
	pthread_mutex_lock(&s->lock);
	int n = s->ncl;
	pthread_mutex_unlock(&s->lock);
	return n;
}

const struct out_stats *pcap_server_stats(const struct pcap_server *s)
{
	return &s->stats;
}

void pcap_server_metrics(struct pcap_server *s, struct wbuf *b)
{
	static const struct {
		const char *name, *help;
	} fam[] = {
	    {"pano_agent_pcap_client_sent_records", "records queued for this client"},
	    {"pano_agent_pcap_client_sent_bytes", "pcap bytes queued for this client"},
	    {"pano_agent_pcap_client_dropped_records",
	     "records dropped for this client because its queue was full"},
	    {"pano_agent_pcap_client_dropped_bytes", "pcap bytes dropped for this client"},
	    {"pano_agent_pcap_client_queued_bytes", "bytes waiting in this client's queue"},
	};
	char lb[128];

	pthread_mutex_lock(&s->lock);
	for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
		enum prom_type t = f == 4 ? PROM_GAUGE : PROM_COUNTER;
		prom_family(b, fam[f].name, t, fam[f].help);
		for (int i = 0; i < s->ncl; i++) {
			struct ps_client *c = s->cl[i];
			struct out_stats st;
			out_stats_read(&c->stats, &st);
			uint64_t v[] = {st.sent_records, st.sent_bytes, st.drop_records,
					st.drop_bytes, c->tail - c->head};
			prom_labels(lb, sizeof(lb), "client", c->name, NULL);
			prom_sample(b, fam[f].name, t, lb, v[f]);
		}
	}
	int n = s->ncl;
	pthread_mutex_unlock(&s->lock);
	prom_one(b, "pano_agent_pcap_clients", PROM_GAUGE, "PCAP-over-TCP clients connected", NULL,
		 n);
}

void pcap_server_stop(struct pcap_server *s)
{
	if (!s)
		return;
	if (s->thr_started) {
		__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
		__atomic_store_n(&s->kicked, 0, __ATOMIC_RELEASE);
		ps_wake(s);
		pthread_join(s->thr, NULL);
	}
	/* Give each client what is still queued, briefly, then close. */
	for (int i = 0; i < s->ncl; i++) {
		struct ps_client *c = s->cl[i];
		while (c->head != c->tail) {
			size_t off = c->head % c->cap, n = c->tail - c->head;
			if (n > c->cap - off)
				n = c->cap - off;
			ssize_t w = tls_conn_write(c->tls, c->q + off, n);
			if (w <= 0)
				break;
			c->head += w;
		}
		ps_free(c, c->fd);
	}
	free(s->cl);
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->efd >= 0)
		close(s->efd);
	if (s->epfd >= 0)
		close(s->epfd);
	pthread_mutex_destroy(&s->lock);
	tls_ctx_free(s->tls);
	free(s->piece);
	free(s);
}
