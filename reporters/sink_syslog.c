// SPDX-License-Identifier: GPL-2.0-only
/*
 * The syslog sink: the A3 events (match, abort, would-abort, pslist, lost) as RFC 5424
 * messages (syslog.h) to a local datagram socket (unix:/dev/log, one message a
 * datagram) or over TCP to a collector (tcp:HOST:PORT, octet-counting frames).
 *
 * The reporter thread renders each event at once into a frame of its own, so the event
 * goes back to the reporter as usual; the frames wait in a FIFO bounded in bytes
 * (syslog_max_bytes; what does not fit is lost, counted by reason). Sockets are
 * non-blocking: the reporter never waits on the collector, and stop's deadline holds.
 * When the socket fails the connection is dropped and made again after a backoff
 * (doubling from syslog_backoff_min_ms to _max_ms); over TCP the frame being sent is
 * sent again whole on the new connection. A message in the kernel's socket buffer
 * when a TCP connection breaks is gone without being counted (TCP says nothing about
 * it): delivery is "sent whole to the socket", which the counters say.
 */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "format.h"
#include "sink.h"
#include "syslog.h"

#define RETRY_MS 10 /* a socket without room (or a connect in progress): look again */

/* One rendered message, framed for its transport. */
struct frame {
	struct frame *next;
	size_t len;
	char data[];
};

enum conn_state { DOWN = 0, CONNECTING, UP };

struct syslog_sink {
	struct dt_report *r;
	bool tcp, json;
	char target[300]; /* as given, for messages */
	struct sockaddr_un un;
	struct addrinfo *ai, *ai_next; /* tcp: resolved once, at open; tried in turn */
	int fd;
	enum conn_state state;
	struct dt_syslog_id id;

	struct frame *head, *tail;
	size_t npending, pending_bytes, max_bytes;
	size_t off; /* tcp: bytes of head already sent on this connection */
	unsigned backoff_min, backoff_max, backoff;
	uint64_t retry_at;
	struct dt_buf msg;

	_Atomic uint64_t sent, pending, failures;
	_Atomic size_t backlog_bytes;
};

static const struct {
	const char *name;
	unsigned code;
} facilities[] = {
	{ "kern", 0 },	   { "user", 1 },	{ "mail", 2 },	   { "daemon", 3 },
	{ "auth", 4 },	   { "syslog", 5 },	{ "lpr", 6 },	   { "news", 7 },
	{ "uucp", 8 },	   { "cron", 9 },	{ "authpriv", 10 }, { "ftp", 11 },
	{ "ntp", 12 },	   { "security", 13 },	{ "console", 14 }, { "local0", 16 },
	{ "local1", 17 },  { "local2", 18 },	{ "local3", 19 },  { "local4", 20 },
	{ "local5", 21 },  { "local6", 22 },	{ "local7", 23 },
};

int dt_syslog_facility(const char *name)
{
	char *end;
	unsigned long v;
	size_t i;

	for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (!strcasecmp(name, facilities[i].name))
			return (int)facilities[i].code;
	if (name[0] < '0' || name[0] > '9')
		return -EINVAL;
	v = strtoul(name, &end, 10);
	return *end || v > 23 ? -EINVAL : (int)v;
}

int dt_syslog_target(const char *s, bool *ret_tcp, char *host, size_t hostlen, char *port,
		     size_t portlen)
{
	const char *h, *colon, *p;
	size_t hl;
	char *end;
	unsigned long v;

	if (!strncmp(s, "unix:", 5)) {
		if (!s[5] || strlen(s + 5) >= hostlen || strlen(s + 5) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return -EINVAL;
		strcpy(host, s + 5);
		if (portlen)
			port[0] = '\0';
		*ret_tcp = false;
		return 0;
	}
	if (strncmp(s, "tcp:", 4))
		return -EINVAL;
	h = s + 4;
	colon = strrchr(h, ':');
	if (!colon || colon == h)
		return -EINVAL;
	p = colon + 1;
	hl = (size_t)(colon - h);
	if (h[0] == '[') { /* [v6]:port */
		if (hl < 3 || h[hl - 1] != ']')
			return -EINVAL;
		h++;
		hl -= 2;
	} else if (memchr(h, ':', hl)) {
		return -EINVAL; /* a v6 address needs its brackets */
	}
	errno = 0;
	v = strtoul(p, &end, 10);
	if (!*p || *end || errno || v == 0 || v > 65535 || p[0] < '0' || p[0] > '9')
		return -EINVAL;
	if (hl >= hostlen || strlen(p) >= portlen)
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	strcpy(port, p);
	*ret_tcp = true;
	return 0;
}

static void printable(char *dst, size_t max, const char *src)
{
	size_t i;

	for (i = 0; src && src[i] && i < max; i++)
		dst[i] = (unsigned char)src[i] >= 33 && (unsigned char)src[i] <= 126 ? src[i] : '_';
	if (i == 0)
		dst[i++] = '-';
	dst[i] = '\0';
}

void dt_syslog_id_init(struct dt_syslog_id *id, unsigned facility, const char *host,
		       const char *app, int pid)
{
	id->facility = facility > 23 ? 3 : facility;
	printable(id->host, DT_SYSLOG_HOST_MAX, host);
	printable(id->app, DT_SYSLOG_TAG_MAX, app);
	id->pid = pid;
}

unsigned dt_syslog_severity(const struct dt_event *ev)
{
	switch (ev->type) {
	case DT_EV_ABORT:
	case DT_EV_LOST:
		return 4; /* warning */
	case DT_EV_MATCH:
	case DT_EV_WOULD_ABORT:
		return 5; /* notice */
	default:
		return 6; /* info */
	}
}

bool dt_syslog_fmt(struct dt_buf *b, const struct dt_event *ev, const struct dt_syslog_id *id,
		   bool json)
{
	time_t sec = (time_t)(ev->ts_ns / 1000000000u);
	struct tm tm;

	if (!dt_fmt_a3_wanted(ev))
		return false;
	gmtime_r(&sec, &tm);
	dt_buf_printf(b, "<%u>1 %04d-%02d-%02dT%02d:%02d:%02d.%06uZ %s %s %d %s - ",
		      id->facility * 8 + dt_syslog_severity(ev), tm.tm_year + 1900,
		      tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		      (unsigned)(ev->ts_ns % 1000000000u / 1000u), id->host, id->app, id->pid,
		      dt_event_type_name(ev->type));
	if (json) {
		size_t at = b->len;

		dt_fmt_json(b, ev);
		if (b->len > at && b->p[b->len - 1] == '\n')
			b->p[--b->len] = '\0';
	} else {
		dt_fmt_a3(b, ev);
	}
	return true;
}

static void syslog_close(void *state);

static int syslog_open(struct dt_report *r, const struct dt_report_opts *o, void **ret_state)
{
	struct syslog_sink *s = calloc(1, sizeof(*s));
	char host[256], port[16], hostname[DT_SYSLOG_HOST_MAX + 1] = "";
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	int err;

	if (!s)
		return -ENOMEM;
	s->r = r;
	s->fd = -1;
	s->json = o->syslog_json;
	s->max_bytes = o->syslog_max_bytes ? o->syslog_max_bytes : DT_SYSLOG_BACKLOG_DEFAULT;
	s->backoff_min = o->syslog_backoff_min_ms ? o->syslog_backoff_min_ms : 100;
	s->backoff_max = o->syslog_backoff_max_ms > s->backoff_min ? o->syslog_backoff_max_ms
								    : (s->backoff_min > 5000 ? s->backoff_min : 5000);
	snprintf(s->target, sizeof(s->target), "%s", o->syslog_target);
	err = dt_syslog_target(o->syslog_target, &s->tcp, host, sizeof(host), port, sizeof(port));
	if (err < 0)
		goto fail;
	if (s->tcp) {
		/* resolved once: the reporter thread never waits on DNS */
		err = getaddrinfo(host, port, &hints, &s->ai);
		if (err) {
			s->ai = NULL;
			err = err == EAI_MEMORY ? -ENOMEM : err == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
			goto fail;
		}
	} else {
		s->un.sun_family = AF_UNIX;
		memcpy(s->un.sun_path, host, strlen(host) + 1);
	}
	gethostname(hostname, sizeof(hostname) - 1);
	dt_syslog_id_init(&s->id, o->syslog_facility, hostname,
			  o->syslog_tag ? o->syslog_tag : "domtrace", (int)getpid());
	*ret_state = s;
	return 0;
fail:
	syslog_close(s);
	return err;
}

static void pop(struct syslog_sink *s)
{
	struct frame *f = s->head;

	s->head = f->next;
	if (!s->head)
		s->tail = NULL;
	s->npending--;
	s->pending_bytes -= f->len;
	s->off = 0;
	free(f);
	atomic_fetch_sub_explicit(&s->pending, 1, memory_order_relaxed);
	atomic_store_explicit(&s->backlog_bytes, s->pending_bytes, memory_order_relaxed);
}

static void syslog_write_batch(void *state, struct dt_event **evs, size_t n)
{
	struct syslog_sink *s = state;
	char prefix[24];
	struct frame *f;
	size_t i, len;
	int pl;

	for (i = 0; i < n; i++) {
		if (!evs[i])
			continue;
		dt_buf_reset(&s->msg);
		if (!dt_syslog_fmt(&s->msg, evs[i], &s->id, s->json))
			continue;
		pl = s->tcp ? snprintf(prefix, sizeof(prefix), "%zu ", s->msg.len) : 0;
		len = (size_t)pl + s->msg.len;
		if (s->msg.oom || !(f = malloc(sizeof(*f) + len))) {
			dt_report_sink_lost(s->r, &dt_sink_syslog, 1, "out of memory");
			continue;
		}
		if (s->npending && (len > s->max_bytes || s->pending_bytes > s->max_bytes - len)) {
			free(f);
			dt_report_sink_lost(s->r, &dt_sink_syslog, 1, "backlog full (%zu bytes)",
					    s->max_bytes);
			continue;
		}
		memcpy(f->data, prefix, (size_t)pl);
		memcpy(f->data + pl, s->msg.p, s->msg.len);
		f->len = len;
		f->next = NULL;
		if (s->tail)
			s->tail->next = f;
		else
			s->head = f;
		s->tail = f;
		s->npending++;
		s->pending_bytes += len;
		atomic_fetch_add_explicit(&s->pending, 1, memory_order_relaxed);
		atomic_store_explicit(&s->backlog_bytes, s->pending_bytes, memory_order_relaxed);
	}
	if (s->msg.cap > (1u << 20)) /* a huge pslist once: do not keep the memory */
		dt_buf_free(&s->msg);
}

/* The connection failed: close it, say so (once per outage), try again later. */
static void down(struct syslog_sink *s, const char *what, int err)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->state = DOWN;
	s->off = 0;
	atomic_fetch_add_explicit(&s->failures, 1, memory_order_relaxed);
	s->backoff = s->backoff ? s->backoff * 2 : s->backoff_min;
	if (s->backoff > s->backoff_max)
		s->backoff = s->backoff_max;
	s->retry_at = dt_report_now_ms() + s->backoff;
	dt_report_sink_failing(s->r, &dt_sink_syslog, "%s %s: %s", what, s->target,
			       err ? strerror(err) : "connection closed by the collector");
}

static int connect_now(struct syslog_sink *s)
{
	const struct addrinfo *ai = NULL;
	int fd;

	if (s->tcp) {
		ai = s->ai_next ? s->ai_next : s->ai;
		s->ai_next = ai->ai_next;
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	} else {
		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	}
	if (fd < 0)
		return -errno;
	s->fd = fd;
	if (s->tcp ? connect(fd, ai->ai_addr, ai->ai_addrlen)
		   : connect(fd, (const struct sockaddr *)&s->un, sizeof(s->un))) {
		if (errno != EINPROGRESS)
			return -errno;
		s->state = CONNECTING;
		return 0;
	}
	s->state = UP;
	return 0;
}

/* The connection is (still) usable: a connect finished, the peer did not close. */
static bool usable(struct syslog_sink *s)
{
	struct pollfd pfd = { .fd = s->fd, .events = POLLIN | POLLOUT };
	int err = 0;
	socklen_t el = sizeof(err);
	char junk[512];
	ssize_t n;

	if (!s->tcp)
		return true;
	if (poll(&pfd, 1, 0) <= 0)
		return s->state == UP;
	if (s->state == CONNECTING) {
		if (!(pfd.revents & (POLLOUT | POLLERR | POLLHUP)))
			return false;
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
			err = errno;
		if (err) {
			down(s, "cannot connect to", err);
			return false;
		}
		s->state = UP;
	}
	/* a collector says nothing: anything readable is its close (or noise, dropped) */
	while (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
		n = recv(s->fd, junk, sizeof(junk), MSG_DONTWAIT);
		if (n > 0)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		down(s, "lost the connection to", n < 0 ? errno : 0);
		return false;
	}
	return true;
}

/* Send what the socket takes now. */
static void pump(struct syslog_sink *s)
{
	ssize_t n;
	int err;

	if (!s->head)
		return;
	if (s->state == DOWN) {
		if (dt_report_now_ms() < s->retry_at)
			return;
		err = connect_now(s);
		if (err < 0) {
			down(s, "cannot connect to", -err);
			return;
		}
	}
	if (!usable(s))
		return;
	while (s->head) {
		struct frame *f = s->head;

		n = send(s->fd, f->data + s->off, f->len - s->off, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == ENOBUFS)
				return; /* no room now: RETRY_MS */
			if (errno == EMSGSIZE && !s->tcp) {
				pop(s);
				dt_report_sink_lost(s->r, &dt_sink_syslog, 1,
						    "message too long for the socket");
				continue;
			}
			down(s, "cannot send to", errno);
			return;
		}
		s->off += (size_t)n;
		if (s->off < f->len)
			continue;
		pop(s);
		atomic_fetch_add_explicit(&s->sent, 1, memory_order_relaxed);
		s->backoff = 0;
		dt_report_sink_ok(s->r, &dt_sink_syslog);
	}
}

static int syslog_flush(void *state, bool final)
{
	struct syslog_sink *s = state;
	uint64_t now;

	(void)final; /* nothing is held back: every frame goes as soon as it can */
	pump(s);
	if (!s->head)
		return -1;
	now = dt_report_now_ms();
	if (s->state == DOWN)
		return s->retry_at > now ? (int)(s->retry_at - now) : 0;
	return RETRY_MS;
}

static bool syslog_idle(void *state)
{
	struct syslog_sink *s = state;

	return !s->head;
}

static void syslog_abandon(void *state)
{
	struct syslog_sink *s = state;
	uint64_t n = s->npending;

	while (s->head)
		pop(s);
	dt_report_sink_lost(s->r, &dt_sink_syslog, n,
			    "not delivered before the stop's time limit");
}

static void syslog_stats(void *state, struct dt_report_stats *st)
{
	struct syslog_sink *s = state;

	st->syslog_sent = atomic_load_explicit(&s->sent, memory_order_relaxed);
	st->syslog_pending = atomic_load_explicit(&s->pending, memory_order_relaxed);
	st->syslog_failures = atomic_load_explicit(&s->failures, memory_order_relaxed);
	st->syslog_backlog_bytes = atomic_load_explicit(&s->backlog_bytes, memory_order_relaxed);
}

static void syslog_close(void *state)
{
	struct syslog_sink *s = state;

	if (!s)
		return;
	if (s->head)
		syslog_abandon(s);
	if (s->fd >= 0)
		close(s->fd);
	if (s->ai)
		freeaddrinfo(s->ai);
	dt_buf_free(&s->msg);
	free(s);
}

const struct dt_sink_ops dt_sink_syslog = {
	.name = "syslog",
	.open = syslog_open,
	.write_batch = syslog_write_batch,
	.flush = syslog_flush,
	.idle = syslog_idle,
	.abandon = syslog_abandon,
	.stats = syslog_stats,
	.close = syslog_close,
};
