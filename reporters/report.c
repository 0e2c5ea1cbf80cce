// SPDX-License-Identifier: GPL-2.0-only
/*
 * The reporter thread (reporters/include/domtrace/report.h): take batches from the queue,
 * run them through the sinks in order (log, report file, A3), free what no sink
 * kept, announce losses, and let the A3 sink send and retry in between.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "domtrace/log.h"
#include "domtrace/report.h"
#include "evcount.h"
#include "sink.h"

#define BATCH_MAX 512	      /* events handed to the sinks at once */
#define IDLE_WAIT_MS 1000     /* wake up this often even when nothing happens */
/* A drain that found fewer than LINGER_BELOW events is followed by a linger of half the
 * batch delay (--batch-delay, default 20 ms: 10 ms; half, so that an A3 event still goes
 * out within about the delay's one and a half) before the next: at moderate rates the reporter's
 * wake-up and sink writes then happen once per batch, not once per event, and the trap
 * path makes no system call for it (the queue's eventfd is written only while the
 * reporter sleeps, dt_queue_sleep_begin; in a PV dom0 each call is a trip through Xen).
 * At high rates the batches are large and nobody lingers. A stop or reopen ends a linger
 * at once. */
#define LINGER_BELOW 64
#define MAX_SINKS 4
#define STOP_GRACE_MS 250     /* past the flush deadline before blocked I/O is cut */
#define STOP_CUT_MS 1000      /* after cutting, how long stop waits for the thread */
/* Sent to the reporter thread to interrupt a write(2) blocked on a pipe nobody reads
 * (installed without SA_RESTART; no other thread of domtrace expects it). */
#define DT_REPORT_KICK SIGURG
#define MAX_REASONS 6	      /* distinct loss reasons kept per sink (then "other") */
#define ANNOUNCE_MS 1000      /* a sink's loss record at most this often */

struct loss_reason {
	char text[DT_REPORT_REASON_MAX];
	uint64_t n;
};

/* A sink's losses. Written by the reporter thread, read by stats: under loss_lock. */
struct sink_loss {
	uint64_t lost, unannounced, last_announce_ms;
	bool failing;
	char last[DT_REPORT_REASON_MAX]; /* the reason of the latest loss */
	struct loss_reason why[MAX_REASONS];
	unsigned nwhy;
};

struct dt_report {
	struct dt_queue *q;
	struct {
		const struct dt_sink_ops *ops;
		void *state;
		struct sink_loss loss;
	} sink[MAX_SINKS];
	unsigned nsinks;
	pthread_mutex_t loss_lock;
	struct dt_evcount *counts; /* count_events: events dispatched per VM and type */

	pthread_t thread;
	bool started, joined;
	_Atomic bool stopping;
	_Atomic bool io_cut;	/* stop_now: local writes give up at once */
	_Atomic bool reopen;	/* dt_report_reopen asked: sinks open their files again */
	_Atomic bool finished;	/* the thread has left reporter_main */
	_Atomic uint64_t drains; /* drains that found events (dt_report_stats) */
	_Atomic uint64_t deadline_ms;
	unsigned linger_ms; /* half the batch delay: how long a small drain waits for more */
	int result; /* of the thread: 0 or -ETIMEDOUT */
};

/* A reporter whose thread never came back from a blocked write (an fd nobody drains
 * even after DT_REPORT_KICK): it is left to exit(), reachable from here. */
static struct dt_report *stuck_reporter;

uint64_t dt_report_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t dt_report_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int dt_report_write_all(struct dt_report *r, int fd, const char *buf, size_t len,
			size_t *ret_done)
{
	ssize_t n;

	*ret_done = 0;
	while (len) {
		if (atomic_load(&r->io_cut))
			return -ECANCELED;
		n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pfd = { .fd = fd, .events = POLLOUT };

				poll(&pfd, 1, 100);
				continue;
			}
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
		*ret_done += (size_t)n;
	}
	return 0;
}

void dt_report_opts_init(struct dt_report_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->log_fd = 1;
	o->a3_batch_max = DT_A3_BATCH_MAX_DEFAULT;
	o->a3_batch_bytes = 1u << 20;
	o->a3_delay_ms = DT_A3_DELAY_MS_DEFAULT;
	o->a3_timeout_ms = 5000;
	o->a3_backoff_min_ms = 100;
	o->a3_backoff_max_ms = 5000;
}

void dt_report_done(struct dt_report *r, struct dt_event *ev)
{
	dt_queue_done(r->q, ev);
}

void dt_report_keep(struct dt_report *r, struct dt_event *ev)
{
	dt_queue_release(r->q, ev);
}

static struct sink_loss *loss_of(struct dt_report *r, const struct dt_sink_ops *ops)
{
	unsigned s;

	for (s = 0; s < r->nsinks; s++)
		if (r->sink[s].ops == ops)
			return &r->sink[s].loss;
	return NULL;
}

/* Say once that a sink starts failing; under loss_lock. */
static void start_failing(struct sink_loss *l, const char *name, const char *why, bool losing)
{
	if (l->failing)
		return;
	l->failing = true;
	dt_warn("%s: %s%s", name, why, losing ? ": events are being lost" : "; retrying");
}

void dt_report_sink_lost(struct dt_report *r, const struct dt_sink_ops *ops, uint64_t n,
			 const char *fmt, ...)
{
	struct sink_loss *l = loss_of(r, ops);
	char why[DT_REPORT_REASON_MAX];
	unsigned i;
	va_list ap;

	if (!l || !n)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&r->loss_lock);
	l->lost += n;
	l->unannounced += n;
	memcpy(l->last, why, sizeof(why));
	for (i = 0; i < l->nwhy; i++)
		if (!strcmp(l->why[i].text, why))
			break;
	if (i == l->nwhy && l->nwhy < MAX_REASONS)
		snprintf(l->why[l->nwhy++].text, sizeof(l->why[i].text), "%s", why);
	else if (i == l->nwhy)
		i = MAX_REASONS - 1, snprintf(l->why[i].text, sizeof(l->why[i].text), "other");
	l->why[i].n += n;
	start_failing(l, ops->name, why, true);
	pthread_mutex_unlock(&r->loss_lock);
}

void dt_report_sink_failing(struct dt_report *r, const struct dt_sink_ops *ops, const char *fmt,
			    ...)
{
	struct sink_loss *l = loss_of(r, ops);
	char why[DT_REPORT_REASON_MAX];
	va_list ap;

	if (!l)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&r->loss_lock);
	start_failing(l, ops->name, why, false);
	pthread_mutex_unlock(&r->loss_lock);
}

void dt_report_sink_ok(struct dt_report *r, const struct dt_sink_ops *ops)
{
	struct sink_loss *l = loss_of(r, ops);

	if (!l || !l->failing) /* only the reporter thread writes `failing` */
		return;
	pthread_mutex_lock(&r->loss_lock);
	l->failing = false;
	dt_info("%s: delivering again (%lu events lost so far)", ops->name,
		(unsigned long)l->lost);
	pthread_mutex_unlock(&r->loss_lock);
}

static void close_sinks(struct dt_report *r)
{
	while (r->nsinks) {
		r->nsinks--;
		r->sink[r->nsinks].ops->close(r->sink[r->nsinks].state);
	}
}

int dt_report_new(const struct dt_report_opts *o, struct dt_report **ret_r)
{
	struct dt_queue_opts qo = { .max_bytes = o->max_bytes, .wait_when_full = o->wait_when_full };
	const struct dt_sink_ops *want[MAX_SINKS];
	struct dt_report *r;
	unsigned i, n = 0;
	int err;

	if (o->log > DT_REPORT_LOG_JSON || o->a3 > DT_REPORT_A3_GET ||
	    (o->log && o->log_fd < 0 && !o->log_path))
		return -EINVAL;
	if (o->log)
		want[n++] = &dt_sink_log;
	if (o->report_file_path)
		want[n++] = &dt_sink_report_file;
	if (o->syslog_target)
		want[n++] = &dt_sink_syslog;
	if (o->a3)
		want[n++] = &dt_sink_a3; /* keeps events: must be last */

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	pthread_mutex_init(&r->loss_lock, NULL);
	r->linger_ms = o->a3_delay_ms / 2;
	err = dt_queue_new(&qo, &r->q);
	if (err < 0)
		goto fail;
	if (o->count_events && (err = dt_evcount_new(&r->counts)) < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		err = want[i]->open(r, o, &r->sink[i].state);
		if (err < 0)
			goto fail;
		r->sink[i].ops = want[i];
		r->nsinks++;
	}
	*ret_r = r;
	return 0;
fail:
	close_sinks(r);
	dt_evcount_free(r->counts);
	dt_queue_free(r->q);
	pthread_mutex_destroy(&r->loss_lock);
	free(r);
	return err;
}

/* Hand evs[0..n) to every sink but `skip` (MAX_SINKS: none), then free what none
 * kept. */
static void dispatch_but(struct dt_report *r, struct dt_event **evs, size_t n, unsigned skip)
{
	unsigned s;
	size_t i;

	if (r->counts)
		dt_evcount_add(r->counts, evs, n);
	for (s = 0; s < r->nsinks; s++)
		if (s != skip)
			r->sink[s].ops->write_batch(r->sink[s].state, evs, n);
	for (i = 0; i < n; i++)
		dt_queue_done(r->q, evs[i]);
}

static void dispatch(struct dt_report *r, struct dt_event **evs, size_t n)
{
	dispatch_but(r, evs, n, MAX_SINKS);
}

/* A sink's new losses become a `lost` record (vm "domtrace", with the sink and the
 * reason) for the other sinks, at most every ANNOUNCE_MS unless `now_all`. */
static void announce(struct dt_report *r, bool now_all)
{
	uint64_t now = dt_report_now_ms();
	unsigned s;

	for (s = 0; s < r->nsinks; s++) {
		struct sink_loss *l = &r->sink[s].loss;
		char why[DT_REPORT_REASON_MAX];
		struct dt_event *ev;
		uint64_t n;

		pthread_mutex_lock(&r->loss_lock);
		n = l->unannounced;
		if (n && (now_all || now - l->last_announce_ms >= ANNOUNCE_MS)) {
			l->unannounced = 0;
			l->last_announce_ms = now;
			memcpy(why, l->last, sizeof(why));
		} else {
			n = 0;
		}
		pthread_mutex_unlock(&r->loss_lock);
		if (!n || dt_event_new(DT_EV_LOST, strlen(why) + 1, &ev) < 0)
			continue;
		ev->lost = n;
		snprintf(ev->vm, sizeof(ev->vm), "domtrace");
		ev->ts_ns = dt_report_realtime_ns();
		ev->lost_sink = r->sink[s].ops->name;
		ev->lost_reason = dt_event_strdup(ev, why, strlen(why));
		dt_queue_admit(r->q, ev);
		dispatch_but(r, &ev, 1, s);
	}
}

/* What is queued now (one splice: the sinks get their turn to send between two) and
 * every unannounced loss go to the sinks. Returns whether anything was found. */
/* Hands every queued event to the sinks; returns how many there were. */
static size_t drain(struct dt_report *r)
{
	struct dt_event *evs[BATCH_MAX], *ev;
	struct dt_queue_batch b;
	size_t n = 0, total = 0;

	if (dt_queue_take(r->q, &b)) {
		while ((ev = dt_queue_next(&b))) {
			total++;
			evs[n++] = ev;
			if (n == BATCH_MAX) {
				dispatch(r, evs, n);
				n = 0;
			}
		}
		if (n) {
			dispatch(r, evs, n);
			n = 0;
		}
	}
	while ((ev = dt_queue_take_lost(r->q))) {
		total++;
		dispatch(r, &ev, 1);
	}
	announce(r, false);
	if (total)
		atomic_fetch_add_explicit(&r->drains, 1, memory_order_relaxed);
	return total;
}

/* Wait the batch delay for more events; a stop or reopen (their eventfd writes) ends it.
 * Pushes do not write meanwhile: the reporter is not asleep (dt_queue_sleep_begin). */
static void linger(struct dt_report *r)
{
	struct pollfd pfd = { .fd = dt_queue_fd(r->q), .events = POLLIN };
	uint64_t cnt;

	if (poll(&pfd, 1, (int)r->linger_ms) > 0)
		(void)!read(pfd.fd, &cnt, sizeof(cnt));
}

static bool sinks_idle(struct dt_report *r)
{
	unsigned s;

	for (s = 0; s < r->nsinks; s++)
		if (r->sink[s].ops->idle && !r->sink[s].ops->idle(r->sink[s].state))
			return false;
	return true;
}

static void *reporter_main(void *arg)
{
	struct dt_report *r = arg;
	void (*wait)(void *state, int fd, int timeout_ms) = NULL;
	void *wait_state = NULL;
	int timeout, t;
	unsigned s;

	(void)prctl(PR_SET_NAME, "dt-report");
	/* Woken, it does not preempt a worker in the middle of a trap (whose vCPU waits);
	 * it still gets its fair share of the CPU. */
	(void)pthread_setschedparam(pthread_self(), SCHED_BATCH, &(struct sched_param){ 0 });
	for (s = 0; s < r->nsinks; s++)
		if (r->sink[s].ops->wait) {
			wait = r->sink[s].ops->wait;
			wait_state = r->sink[s].state;
		}
	for (;;) {
		bool stopping = atomic_load(&r->stopping);
		size_t got;
		bool any;

		if (atomic_exchange(&r->reopen, false))
			for (s = 0; s < r->nsinks; s++)
				if (r->sink[s].ops->reopen)
					r->sink[s].ops->reopen(r->sink[s].state);
		got = drain(r);
		any = got > 0;

		timeout = IDLE_WAIT_MS;
		for (s = 0; s < r->nsinks; s++) {
			if (!r->sink[s].ops->flush)
				continue;
			t = r->sink[s].ops->flush(r->sink[s].state, stopping);
			if (t >= 0 && t < timeout)
				timeout = t;
		}
		if (stopping) {
			uint64_t now = dt_report_now_ms(), end = atomic_load(&r->deadline_ms);

			if (!any && sinks_idle(r)) {
				announce(r, true);
				r->result = 0;
				break;
			}
			if (now >= end) {
				while (drain(r))
					;
				r->result = sinks_idle(r) ? 0 : -ETIMEDOUT;
				for (s = 0; s < r->nsinks; s++)
					if (r->sink[s].ops->abandon)
						r->sink[s].ops->abandon(r->sink[s].state);
				announce(r, true);
				break;
			}
			if (any)
				continue;
			if (end - now < (uint64_t)timeout)
				timeout = (int)(end - now);
		}
		if (any && timeout > 0) {
			if (!stopping && got < LINGER_BELOW && r->linger_ms)
				linger(r);
			continue; /* look again before sleeping: more may have come */
		}
		if (!dt_queue_sleep_begin(r->q))
			continue; /* events came since the drain */
		if (wait) {
			wait(wait_state, dt_queue_fd(r->q), timeout);
		} else {
			struct pollfd pfd = { .fd = dt_queue_fd(r->q), .events = POLLIN };

			poll(&pfd, 1, timeout);
		}
		dt_queue_sleep_end(r->q);
	}
	atomic_store(&r->finished, true);
	return NULL;
}

static void kick_handler(int sig)
{
	(void)sig; /* only to make a blocked write(2) return EINTR */
}

int dt_report_start(struct dt_report *r)
{
	struct sigaction sa = { .sa_handler = kick_handler }; /* no SA_RESTART */
	int err;

	if (r->started)
		return -EALREADY;
	sigemptyset(&sa.sa_mask);
	sigaction(DT_REPORT_KICK, &sa, NULL);
	err = pthread_create(&r->thread, NULL, reporter_main, r);
	if (err)
		return -err;
	r->started = true;
	return 0;
}

int dt_report_producer_new(struct dt_report *r, uint32_t domid, const char *vm,
			   struct dt_report_producer **ret_p)
{
	return dt_queue_producer_new(r->q, domid, vm, (struct dt_queue_producer **)ret_p);
}

void dt_report_producer_free(struct dt_report_producer *p)
{
	dt_queue_producer_free((struct dt_queue_producer *)p);
}

int dt_report_submit(struct dt_report_producer *p, struct dt_event *ev)
{
	return dt_queue_push((struct dt_queue_producer *)p, ev);
}

void dt_report_producer_hold(struct dt_report_producer *p)
{
	dt_queue_producer_hold((struct dt_queue_producer *)p);
}

void dt_report_producer_release(struct dt_report_producer *p)
{
	dt_queue_producer_release((struct dt_queue_producer *)p);
}

void dt_report_reopen(struct dt_report *r)
{
	uint64_t one = 1;

	atomic_store(&r->reopen, true);
	if (write(dt_queue_fd(r->q), &one, sizeof(one)) < 0) {
		/* EAGAIN: already signalled */
	}
}

void dt_report_quiesce(struct dt_report *r)
{
	dt_queue_stop_waiting(r->q);
}

void dt_report_stop_begin(struct dt_report *r, unsigned timeout_ms)
{
	uint64_t one = 1;

	if (!r->started || atomic_load(&r->stopping))
		return;
	atomic_store(&r->deadline_ms, dt_report_now_ms() + timeout_ms);
	atomic_store(&r->stopping, true);
	dt_queue_stop_waiting(r->q);
	dt_queue_close(r->q);
	if (write(dt_queue_fd(r->q), &one, sizeof(one)) < 0) {
		/* EAGAIN: already signalled */
	}
}

void dt_report_stop_now(struct dt_report *r)
{
	if (!r->started || r->joined)
		return;
	dt_report_stop_begin(r, 0);
	atomic_store(&r->deadline_ms, 0);
	atomic_store(&r->io_cut, true);
	if (!atomic_load(&r->finished))
		pthread_kill(r->thread, DT_REPORT_KICK);
}

int dt_report_stop_wait(struct dt_report *r, unsigned wait_ms)
{
	uint64_t end = dt_report_now_ms() + wait_ms;
	struct timespec nap = { 0, 10 * 1000000 };

	if (!r->started || r->joined)
		return r->started ? r->result : 0;
	for (;;) {
		if (atomic_load(&r->finished)) {
			pthread_join(r->thread, NULL);
			r->joined = true;
			return r->result;
		}
		if (dt_report_now_ms() >= end)
			return -EINPROGRESS;
		if (atomic_load(&r->io_cut)) /* a write may have blocked again */
			pthread_kill(r->thread, DT_REPORT_KICK);
		nanosleep(&nap, NULL);
	}
}

int dt_report_stop(struct dt_report *r, unsigned timeout_ms)
{
	int err;

	dt_report_stop_begin(r, timeout_ms);
	err = dt_report_stop_wait(r, timeout_ms + STOP_GRACE_MS);
	if (err != -EINPROGRESS)
		return err;
	dt_report_stop_now(r);
	err = dt_report_stop_wait(r, STOP_CUT_MS);
	return err == -EINPROGRESS ? -ETIMEDOUT : err;
}

bool dt_report_stuck(const struct dt_report *r)
{
	return r->started && !r->joined;
}

void dt_report_free(struct dt_report *r)
{
	struct dt_event *evs[BATCH_MAX];
	struct dt_queue_batch b;
	struct dt_event *ev;
	size_t n = 0;

	if (!r)
		return;
	if (r->started && !r->joined)
		dt_report_stop(r, 0);
	if (dt_report_stuck(r)) {
		stuck_reporter = r; /* its thread still uses it: left to exit() */
		return;
	}
	/* never started: what was queued still goes to the local sinks */
	dt_queue_close(r->q);
	while (dt_queue_take(r->q, &b))
		while ((ev = dt_queue_next(&b))) {
			evs[n++] = ev;
			if (n == BATCH_MAX) {
				dispatch(r, evs, n);
				n = 0;
			}
		}
	if (n)
		dispatch(r, evs, n);
	for (unsigned s = 0; s < r->nsinks; s++)
		if (r->sink[s].ops->abandon)
			r->sink[s].ops->abandon(r->sink[s].state);
	announce(r, true); /* what the last flush and abandon lost, to the sinks still up */
	close_sinks(r);
	dt_evcount_free(r->counts);
	dt_queue_free(r->q);
	pthread_mutex_destroy(&r->loss_lock);
	free(r);
}

void dt_report_stats(const struct dt_report *r, struct dt_report_stats *ret_st)
{
	struct dt_report *mr = (struct dt_report *)r; /* the lock only */
	unsigned s;

	memset(ret_st, 0, sizeof(*ret_st));
	dt_queue_stats(r->q, &ret_st->q);
	for (s = 0; s < r->nsinks; s++)
		if (r->sink[s].ops->stats)
			r->sink[s].ops->stats(r->sink[s].state, ret_st);
	ret_st->drains = atomic_load_explicit(&r->drains, memory_order_relaxed);
	ret_st->lost_total = ret_st->q.lost;
	pthread_mutex_lock(&mr->loss_lock);
	for (s = 0; s < r->nsinks; s++)
		ret_st->lost_total += r->sink[s].loss.lost;
	pthread_mutex_unlock(&mr->loss_lock);
}

size_t dt_report_losses(const struct dt_report *r, struct dt_report_loss *out, size_t max)
{
	struct dt_report *mr = (struct dt_report *)r; /* the lock only */
	struct dt_queue_stats qs;
	size_t n = 0;
	unsigned s, i;

	dt_queue_stats(r->q, &qs);
	if (qs.lost && n < max) {
		out[n] = (struct dt_report_loss){ .sink = "queue", .count = qs.lost };
		snprintf(out[n++].reason, sizeof(out->reason), "full");
	}
	pthread_mutex_lock(&mr->loss_lock);
	for (s = 0; s < r->nsinks; s++)
		for (i = 0; i < r->sink[s].loss.nwhy && n < max; i++) {
			out[n] = (struct dt_report_loss){ .sink = r->sink[s].ops->name,
							  .count = r->sink[s].loss.why[i].n };
			memcpy(out[n++].reason, r->sink[s].loss.why[i].text, sizeof(out->reason));
		}
	pthread_mutex_unlock(&mr->loss_lock);
	return n;
}

size_t dt_report_losses_text(const struct dt_report *r, char *buf, size_t len)
{
	struct dt_report_loss l[1 + MAX_SINKS * MAX_REASONS];
	size_t n = dt_report_losses(r, l, sizeof(l) / sizeof(l[0])), i, at = 0;

	if (len)
		buf[0] = '\0';
	for (i = 0; i < n && at < len; i++) {
		int k = snprintf(buf + at, len - at, "%s%s %lu (%s)", i ? ", " : "", l[i].sink,
				 (unsigned long)l[i].count, l[i].reason);

		if (k < 0)
			break;
		at += (size_t)k;
	}
	return n;
}

void dt_report_foreach_vm(struct dt_report *r,
			  void (*fn)(const struct dt_queue_producer_stats *st, void *arg), void *arg)
{
	dt_queue_foreach_producer(r->q, fn, arg);
}

void dt_report_foreach_count(struct dt_report *r,
			     void (*fn)(uint32_t domid, const char *vm, const uint64_t *n,
					void *arg),
			     void *arg)
{
	if (r->counts)
		dt_evcount_foreach(r->counts, fn, arg);
}
