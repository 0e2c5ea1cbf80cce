// SPDX-License-Identifier: GPL-2.0-only
/*
 * The bounded MPSC event queue (reporters/include/domtrace/queue.h).
 *
 * Hot path (dt_queue_push with room): one CAS on the byte count, one wfcq enqueue,
 * a few relaxed counters, and an eventfd write only when the consumer said it sleeps
 * (dt_queue_sleep_begin; a held producer writes it at dt_queue_producer_release
 * instead). A consumer that is busy, or lingers to batch, costs its producers no
 * system call and reads no eventfd per drain.
 * The mutex and condition variable are used only to register producers and, in
 * wait_when_full mode, to park workers while the queue is full.
 */
#define _LGPL_SOURCE 1 /* liburcu's inline wfcqueue: no call per enqueue */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <urcu/list.h>
#include <urcu/wfcqueue.h>

#include "domtrace/queue.h"
#include "domtrace/tsan.h"

struct dt_queue {
	struct __cds_wfcq_head head; /* consumer-only head: splice is single-threaded */
	struct cds_wfcq_tail tail;
	int efd;
	size_t max_bytes;
	bool wait_when_full;

	_Atomic size_t bytes; /* in flight: pushed and not yet done */
	_Atomic size_t peak_bytes;
	_Atomic bool closed;
	_Atomic bool no_wait;	       /* stopping: a full queue loses instead of waiting */
	_Atomic bool asleep;	       /* the consumer waits on efd: the first push wakes it */
	_Atomic unsigned waiters;      /* workers parked in wait_when_full */
	_Atomic unsigned lost_pending; /* producers with unannounced loss (a hint) */
	_Atomic uint64_t enqueued, delivered, lost, waits;
	_Atomic uint64_t records; /* LOST records made here or admitted (in enqueued too) */

	pthread_mutex_t lock; /* producers list; parking */
	pthread_cond_t room;
	struct cds_list_head producers;
};

struct dt_queue_producer {
	struct dt_queue *q;
	struct cds_list_head node; /* in q->producers, under q->lock */
	uint32_t domid;
	char vm[DT_VM_NAME_MAX];
	_Atomic uint64_t enqueued, lost, pending;
	/* dt_queue_producer_hold: the pushing thread's own (a held producer is not shared) */
	bool held;
	bool wake_due; /* a held push found the consumer asleep: wake it at release */
};

/* container_of through void *, which -Wcast-align (clang) accepts */
static struct dt_queue_producer *producer_of(struct cds_list_head *n)
{
	return (struct dt_queue_producer *)(void *)((char *)n -
						   offsetof(struct dt_queue_producer, node));
}

static uint64_t now_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int dt_queue_new(const struct dt_queue_opts *opts, struct dt_queue **ret_q)
{
	struct dt_queue *q;
	int r;

	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->efd < 0) {
		r = -errno;
		free(q);
		return r;
	}
	__cds_wfcq_init(&q->head, &q->tail);
	q->max_bytes = opts && opts->max_bytes ? opts->max_bytes : DT_QUEUE_DEFAULT_BYTES;
	q->wait_when_full = opts && opts->wait_when_full;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->room, NULL);
	CDS_INIT_LIST_HEAD(&q->producers);
	*ret_q = q;
	return 0;
}

void dt_queue_close(struct dt_queue *q)
{
	atomic_store(&q->closed, true);
	pthread_mutex_lock(&q->lock);
	pthread_cond_broadcast(&q->room);
	pthread_mutex_unlock(&q->lock);
}

void dt_queue_stop_waiting(struct dt_queue *q)
{
	atomic_store(&q->no_wait, true);
	pthread_mutex_lock(&q->lock);
	pthread_cond_broadcast(&q->room);
	pthread_mutex_unlock(&q->lock);
}

void dt_queue_free(struct dt_queue *q)
{
	struct dt_queue_batch b;
	struct dt_event *ev;

	if (!q)
		return;
	dt_queue_take(q, &b);
	while ((ev = dt_queue_next(&b)))
		dt_event_free(ev);
	close(q->efd);
	pthread_cond_destroy(&q->room);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

int dt_queue_fd(const struct dt_queue *q)
{
	return q->efd;
}

int dt_queue_producer_new(struct dt_queue *q, uint32_t domid, const char *vm,
			  struct dt_queue_producer **ret_p)
{
	struct dt_queue_producer *p;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->q = q;
	p->domid = domid;
	if (vm)
		strncpy(p->vm, vm, sizeof(p->vm) - 1);
	pthread_mutex_lock(&q->lock);
	cds_list_add_tail(&p->node, &q->producers);
	pthread_mutex_unlock(&q->lock);
	*ret_p = p;
	return 0;
}

/* Reserve `size` bytes if they fit (or nothing is in flight). */
static bool reserve(struct dt_queue *q, size_t size)
{
	size_t cur = atomic_load_explicit(&q->bytes, memory_order_relaxed);
	size_t peak;

	do {
		if (cur && (size > q->max_bytes || cur > q->max_bytes - size))
			return false;
	} while (!atomic_compare_exchange_weak(&q->bytes, &cur, cur + size));
	peak = atomic_load_explicit(&q->peak_bytes, memory_order_relaxed);
	while (cur + size > peak &&
	       !atomic_compare_exchange_weak_explicit(&q->peak_bytes, &peak, cur + size,
						      memory_order_relaxed, memory_order_relaxed))
		;
	return true;
}

/* Park until `size` fits or the queue closes. Dekker with dt_queue_done(): we count
 * ourselves as a waiter before re-checking, it frees bytes before looking at waiters
 * (both sequentially consistent), so one of us sees the other. */
static bool reserve_waiting(struct dt_queue *q, size_t size)
{
	bool ok;

	atomic_fetch_add_explicit(&q->waits, 1, memory_order_relaxed);
	pthread_mutex_lock(&q->lock);
	atomic_fetch_add(&q->waiters, 1);
	while (!(ok = reserve(q, size)) && !atomic_load(&q->closed) && !atomic_load(&q->no_wait))
		pthread_cond_wait(&q->room, &q->lock);
	atomic_fetch_sub(&q->waiters, 1);
	pthread_mutex_unlock(&q->lock);
	return ok;
}

static void wake_consumer(struct dt_queue *q)
{
	uint64_t one = 1;
	ssize_t n;

	do
		n = write(q->efd, &one, sizeof(one));
	while (n < 0 && errno == EINTR);
	/* EAGAIN: the counter is saturated, so the consumer is awake anyway */
}

/*
 * After an enqueue: true once per sleep of the consumer, to the push that must wake it.
 * The enqueue's xchg of the tail is a full barrier (liburcu's uatomic_xchg), which pairs
 * with dt_queue_sleep_begin's: either the consumer's look finds this event, or this load
 * finds the consumer asleep (or both). No second barrier on the trap path.
 */
static bool claim_wakeup(struct dt_queue *q)
{
	return atomic_load_explicit(&q->asleep, memory_order_relaxed) &&
	       atomic_exchange(&q->asleep, false);
}

/* p: the pushing producer (NULL: never held) */
static void enqueue(struct dt_queue *q, struct dt_queue_producer *p, struct dt_event *ev)
{
	cds_wfcq_node_init(&ev->qnode);
	DT_TSAN_RELEASE(ev);
	(void)cds_wfcq_enqueue(&q->head, &q->tail, &ev->qnode);
	if (claim_wakeup(q)) {
		if (p && p->held)
			p->wake_due = true;
		else
			wake_consumer(q);
	}
	atomic_fetch_add_explicit(&q->enqueued, 1, memory_order_relaxed);
}

static struct dt_event *make_lost(const struct dt_queue_producer *p, uint64_t n)
{
	struct dt_event *ev;

	if (dt_event_new(DT_EV_LOST, 0, &ev) < 0)
		return NULL;
	ev->lost = n;
	ev->domid = p->domid;
	memcpy(ev->vm, p->vm, sizeof(ev->vm));
	ev->ts_ns = now_realtime_ns();
	return ev;
}

/* Queue a LOST record for p's unannounced loss, past the bound. */
static void announce_loss(struct dt_queue_producer *p)
{
	struct dt_queue *q = p->q;
	uint64_t n = atomic_exchange(&p->pending, 0);
	struct dt_event *ev;

	if (!n)
		return;
	ev = make_lost(p, n);
	if (!ev) {
		atomic_fetch_add(&p->pending, n); /* try again with the next event */
		return;
	}
	atomic_fetch_add(&q->bytes, ev->size);
	atomic_fetch_add_explicit(&q->records, 1, memory_order_relaxed);
	enqueue(q, p, ev);
}

static void count_lost(struct dt_queue_producer *p, struct dt_event *ev)
{
	atomic_fetch_add_explicit(&p->lost, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&p->q->lost, 1, memory_order_relaxed);
	atomic_fetch_add(&p->pending, 1);
	atomic_store_explicit(&p->q->lost_pending, 1, memory_order_release);
	dt_event_free(ev);
}

int dt_queue_push(struct dt_queue_producer *p, struct dt_event *ev)
{
	struct dt_queue *q = p->q;
	bool ok;

	if (atomic_load_explicit(&q->closed, memory_order_relaxed)) {
		count_lost(p, ev);
		return -ESHUTDOWN;
	}
	ok = reserve(q, ev->size);
	if (!ok && q->wait_when_full && !atomic_load(&q->no_wait)) {
		if (p->wake_due) {
			/* about to wait for the consumer: it must be awake to make room */
			p->wake_due = false;
			wake_consumer(q);
		}
		ok = reserve_waiting(q, ev->size);
	}
	if (!ok) {
		count_lost(p, ev);
		return atomic_load(&q->closed) ? -ESHUTDOWN : -ENOBUFS;
	}
	if (atomic_load_explicit(&p->pending, memory_order_relaxed))
		announce_loss(p);
	atomic_fetch_add_explicit(&p->enqueued, 1, memory_order_relaxed);
	enqueue(q, p, ev);
	return 0;
}

void dt_queue_producer_hold(struct dt_queue_producer *p)
{
	p->held = true;
}

void dt_queue_producer_release(struct dt_queue_producer *p)
{
	p->held = false;
	if (p->wake_due) {
		p->wake_due = false;
		wake_consumer(p->q);
	}
}

void dt_queue_producer_free(struct dt_queue_producer *p)
{
	if (!p)
		return;
	dt_queue_producer_release(p);
	if (!atomic_load(&p->q->closed))
		announce_loss(p);
	pthread_mutex_lock(&p->q->lock);
	cds_list_del(&p->node);
	pthread_mutex_unlock(&p->q->lock);
	free(p);
}

bool dt_queue_sleep_begin(struct dt_queue *q)
{
	atomic_store(&q->asleep, true);
	cmm_smp_mb(); /* liburcu's full barrier (GCC's TSan rejects C11 fences); pairs with
		       * the enqueue's xchg before claim_wakeup */
	if (cds_wfcq_empty(&q->head, &q->tail))
		return true;
	/* events came meanwhile: awake again, unless a push claimed the wakeup already
	 * (then its eventfd write makes one wait return at once) */
	atomic_store(&q->asleep, false);
	return false;
}

void dt_queue_sleep_end(struct dt_queue *q)
{
	uint64_t cnt;

	atomic_store(&q->asleep, false);
	/* EAGAIN: the wait ended by its timeout or another fd */
	(void)!read(q->efd, &cnt, sizeof(cnt));
}

bool dt_queue_take(struct dt_queue *q, struct dt_queue_batch *b)
{
	__cds_wfcq_init(&b->head, &b->tail);
	return __cds_wfcq_splice_blocking(&b->head, &b->tail, &q->head, &q->tail) !=
	       CDS_WFCQ_RET_SRC_EMPTY;
}

struct dt_event *dt_queue_next(struct dt_queue_batch *b)
{
	struct cds_wfcq_node *node = __cds_wfcq_dequeue_blocking(&b->head, &b->tail);
	struct dt_event *ev;

	if (!node)
		return NULL;
	ev = (struct dt_event *)(void *)((char *)node - offsetof(struct dt_event, qnode));
	DT_TSAN_ACQUIRE(ev);
	return ev;
}

void dt_queue_admit(struct dt_queue *q, struct dt_event *ev)
{
	atomic_fetch_add(&q->bytes, ev->size);
	atomic_fetch_add_explicit(&q->enqueued, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&q->records, 1, memory_order_relaxed);
}

void dt_queue_done(struct dt_queue *q, struct dt_event *ev)
{
	dt_queue_release(q, ev);
	dt_event_free(ev);
}

void dt_queue_release(struct dt_queue *q, struct dt_event *ev)
{
	size_t size, after;

	if (!ev)
		return;
	size = ev->size;
	atomic_fetch_add_explicit(&q->delivered, 1, memory_order_relaxed);
	after = atomic_fetch_sub(&q->bytes, size) - size;
	/* Wake waiting workers once a quarter of the bound is free, not per event:
	 * waking them for every event makes them and us thrash. Everything in flight
	 * drains eventually, so a waiter for a big event is woken at 0 at the latest. */
	if (atomic_load(&q->waiters) && after <= q->max_bytes - q->max_bytes / 4) {
		pthread_mutex_lock(&q->lock);
		pthread_cond_broadcast(&q->room);
		pthread_mutex_unlock(&q->lock);
	}
}

struct dt_event *dt_queue_take_lost(struct dt_queue *q)
{
	struct dt_queue_producer *p;
	struct cds_list_head *n;
	struct dt_event *ev = NULL;
	uint64_t cnt;

	if (!atomic_load_explicit(&q->lost_pending, memory_order_acquire))
		return NULL;
	if (atomic_load(&q->bytes) >= q->max_bytes)
		return NULL; /* no room yet: announce when there is */
	atomic_store(&q->lost_pending, 0);
	pthread_mutex_lock(&q->lock);
	for (n = q->producers.next; n != &q->producers; n = n->next) {
		p = producer_of(n);
		if (!atomic_load(&p->pending))
			continue;
		if (ev) {
			/* more to announce: look again on the next call */
			atomic_store(&q->lost_pending, 1);
			break;
		}
		cnt = atomic_exchange(&p->pending, 0);
		if (!cnt)
			continue;
		ev = make_lost(p, cnt);
		if (!ev) {
			atomic_fetch_add(&p->pending, cnt);
			atomic_store(&q->lost_pending, 1);
			break;
		}
	}
	pthread_mutex_unlock(&q->lock);
	if (ev) {
		atomic_fetch_add(&q->bytes, ev->size);
		atomic_fetch_add_explicit(&q->enqueued, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&q->records, 1, memory_order_relaxed);
	}
	return ev;
}

void dt_queue_stats(const struct dt_queue *q, struct dt_queue_stats *ret_st)
{
	struct dt_queue *mq = (struct dt_queue *)q; /* atomics: loads only */

	ret_st->enqueued = atomic_load_explicit(&mq->enqueued, memory_order_relaxed);
	ret_st->delivered = atomic_load_explicit(&mq->delivered, memory_order_relaxed);
	ret_st->lost = atomic_load_explicit(&mq->lost, memory_order_relaxed);
	ret_st->waits = atomic_load_explicit(&mq->waits, memory_order_relaxed);
	ret_st->records = atomic_load_explicit(&mq->records, memory_order_relaxed);
	ret_st->bytes = atomic_load_explicit(&mq->bytes, memory_order_relaxed);
	ret_st->peak_bytes = atomic_load_explicit(&mq->peak_bytes, memory_order_relaxed);
	ret_st->max_bytes = q->max_bytes;
}

void dt_queue_producer_stats(const struct dt_queue_producer *p,
			     struct dt_queue_producer_stats *ret_st)
{
	struct dt_queue_producer *mp = (struct dt_queue_producer *)p;

	ret_st->domid = p->domid;
	memcpy(ret_st->vm, p->vm, sizeof(ret_st->vm));
	ret_st->enqueued = atomic_load_explicit(&mp->enqueued, memory_order_relaxed);
	ret_st->lost = atomic_load_explicit(&mp->lost, memory_order_relaxed);
	ret_st->pending = atomic_load_explicit(&mp->pending, memory_order_relaxed);
}

void dt_queue_foreach_producer(struct dt_queue *q,
			       void (*fn)(const struct dt_queue_producer_stats *st, void *arg),
			       void *arg)
{
	struct dt_queue_producer_stats st;
	struct cds_list_head *n;

	pthread_mutex_lock(&q->lock);
	for (n = q->producers.next; n != &q->producers; n = n->next) {
		dt_queue_producer_stats(producer_of(n), &st);
		fn(&st, arg);
	}
	pthread_mutex_unlock(&q->lock);
}
