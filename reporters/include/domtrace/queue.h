/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * queue.h - the bounded multi-producer, single-consumer event queue between the
 * per-VM workers and the reporter thread.
 *
 * Workers enqueue with liburcu's wait-free cds_wfcq_enqueue; the consumer splices the
 * whole queue into a private batch at once. The consumer is woken through an eventfd,
 * written only when the consumer said it sleeps (dt_queue_sleep_begin): a busy or
 * lingering consumer costs the producers no system call.
 *
 * Memory is bounded by the bytes of events in flight (ev->size, from the push until
 * the consumer calls dt_queue_done()). An event that does not fit is either lost
 * (freed, counted against its producer, and later announced by a DT_EV_LOST record
 * in that producer's order) or, with wait_when_full, the pushing worker waits until
 * it fits. An event is always admitted when nothing is in flight, so one event larger
 * than the bound cannot block forever. LOST records themselves bypass the bound:
 * they are small and there is at most one per loss episode per producer.
 *
 * Threads:
 *   dt_queue_new/free/close             owner (the reporter's creator)
 *   dt_queue_stop_waiting                any thread
 *   dt_queue_producer_new/free          any thread, not concurrently with dt_queue_free
 *   dt_queue_push                        any thread (a producer may even be shared)
 *   dt_queue_producer_hold/release       the one thread pushing on that producer
 *   dt_queue_take/next/done/take_lost    the single consumer thread only
 *   dt_queue_sleep_begin/end             the single consumer thread only
 *   dt_queue_fd, *_stats                 any thread
 */
#ifndef DOMTRACE_QUEUE_H
#define DOMTRACE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <urcu/wfcqueue.h>

#include "domtrace/event.h"

struct dt_queue;
struct dt_queue_producer;

struct dt_queue_opts {
	size_t max_bytes;    /* bound on bytes in flight; 0 = DT_QUEUE_DEFAULT_BYTES */
	bool wait_when_full; /* block the worker instead of losing the event */
};

#define DT_QUEUE_DEFAULT_BYTES (64u << 20)

/* A batch the consumer took; private to the consumer thread. */
struct dt_queue_batch {
	struct __cds_wfcq_head head;
	struct cds_wfcq_tail tail;
};

struct dt_queue_stats {
	uint64_t enqueued;  /* events admitted (including LOST records) */
	uint64_t delivered; /* events the consumer finished with (dt_queue_done) */
	uint64_t lost;	    /* events lost because the queue was full or closed */
	uint64_t waits;	    /* pushes that had to wait for room (wait_when_full) */
	uint64_t records;   /* LOST records among enqueued (made by the queue or admitted);
			     * events the producers made = enqueued - records + lost */
	size_t bytes;	    /* bytes in flight now */
	size_t max_bytes;   /* the bound */
	size_t peak_bytes;  /* highest bytes in flight seen */
};

struct dt_queue_producer_stats {
	uint32_t domid;
	char vm[DT_VM_NAME_MAX];
	uint64_t enqueued; /* events of this producer admitted */
	uint64_t lost;	   /* events of this producer lost, in total */
	uint64_t pending;  /* lost and not yet announced by a LOST record */
};

/* Create a queue. 0 or -errno (-ENOMEM, -EMFILE from eventfd). Fills *ret_q. */
int dt_queue_new(const struct dt_queue_opts *opts, struct dt_queue **ret_q);

/* Refuse further pushes (they lose their event) and wake every waiting worker.
 * Events already queued stay for the consumer. Idempotent. */
void dt_queue_close(struct dt_queue *q);

/* Stopping: from now on a push that does not fit loses its event (counted) instead of
 * waiting, and every waiting worker gives up, so that workers can always be joined.
 * Events still fit while there is room. Idempotent; any thread. */
void dt_queue_stop_waiting(struct dt_queue *q);

/* Free the queue and every event still in it. Every producer must be freed first.
 * NULL ok. */
void dt_queue_free(struct dt_queue *q);

/* The eventfd the consumer polls for POLLIN, between dt_queue_sleep_begin and
 * dt_queue_sleep_end; owned by the queue. */
int dt_queue_fd(const struct dt_queue *q);

/*
 * Consumer, before it waits on dt_queue_fd(): from now the first push writes the
 * eventfd. Returns false, and the consumer should not wait, if the queue holds events.
 * After the wait (however it ended), dt_queue_sleep_end: pushes stop writing and the
 * eventfd is cleared. Without a sleep_begin, no push ever writes it.
 */
bool dt_queue_sleep_begin(struct dt_queue *q);
void dt_queue_sleep_end(struct dt_queue *q);

/* A producer: one per VM (domid, name); its counters and loss accounting are per VM.
 * `vm` is copied. 0 or -ENOMEM. */
int dt_queue_producer_new(struct dt_queue *q, uint32_t domid, const char *vm,
			  struct dt_queue_producer **ret_p);

/* Unregister a producer. Loss not announced yet becomes a LOST record now (queued
 * past the bound, unless the queue is closed). No push on it may be running. NULL ok. */
void dt_queue_producer_free(struct dt_queue_producer *p);

/*
 * Hand `ev` to the consumer; ownership passes in every case. Returns 0 if queued,
 * -ENOBUFS if it was lost (queue full, not waiting), -ESHUTDOWN if the queue is
 * closed (lost too). If earlier events of this producer were lost, a LOST record is
 * queued just before `ev`. Never blocks unless wait_when_full and the queue is full.
 * ev->size must be set (dt_event_new does); domid and vm are not changed.
 */
int dt_queue_push(struct dt_queue_producer *p, struct dt_event *ev);

/*
 * Hold back the consumer's wakeup: a push on p that finds the consumer asleep leaves
 * the eventfd write to dt_queue_producer_release, which does it (once) if one did. A worker
 * holds while it handles a batch of traps, so that a trapped vCPU is answered before
 * the reporter is woken, and the reporter wakes once per batch, not once per event.
 * Only while one thread alone pushes on p. A push that must wait for room wakes the
 * consumer first; dt_queue_producer_free releases.
 */
void dt_queue_producer_hold(struct dt_queue_producer *p);
void dt_queue_producer_release(struct dt_queue_producer *p);

/* Consumer: move everything queued into `b` (initialised here). Returns true if it
 * took anything. */
bool dt_queue_take(struct dt_queue *q, struct dt_queue_batch *b);

/* Consumer: the next event of a batch in queue order, or NULL when it is empty. */
struct dt_event *dt_queue_next(struct dt_queue_batch *b);

/* Consumer: the event is finished; free it, give its bytes back (waking waiting
 * workers), count it delivered. NULL ok. */
void dt_queue_done(struct dt_queue *q, struct dt_event *ev);

/* Consumer: the queue is done with the event but a sink keeps it (in its own bound):
 * give its bytes back and count it delivered, without freeing it. */
void dt_queue_release(struct dt_queue *q, struct dt_event *ev);

/* Consumer: charge an event the consumer made itself (a record about a sink's loss)
 * to the queue, past the bound, as if it had been queued; finish it with
 * dt_queue_done. */
void dt_queue_admit(struct dt_queue *q, struct dt_event *ev);

/*
 * Consumer: if a producer has unannounced loss and the queue has room again, make its
 * LOST record (charged to the bound like any event; the caller finishes it with
 * dt_queue_done) and return it; else NULL. Cheap when nothing was lost. Records made
 * here precede every event the producer queues afterwards.
 */
struct dt_event *dt_queue_take_lost(struct dt_queue *q);

void dt_queue_stats(const struct dt_queue *q, struct dt_queue_stats *ret_st);
void dt_queue_producer_stats(const struct dt_queue_producer *p,
			     struct dt_queue_producer_stats *ret_st);

/* Call fn for each registered producer (under the registry lock: fn must not register
 * or free producers). */
void dt_queue_foreach_producer(struct dt_queue *q,
			       void (*fn)(const struct dt_queue_producer_stats *st, void *arg),
			       void *arg);

#endif /* DOMTRACE_QUEUE_H */
