// SPDX-License-Identifier: GPL-2.0-only
/* The bounded MPSC queue: order, counts, the byte bound, loss records, waiting. */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domtrace/queue.h"

#define ARENA 200

static struct dt_event *mk(uint32_t domid, uint64_t seq)
{
	struct dt_event *ev;

	ck_assert_int_eq(dt_event_new(DT_EV_MATCH, ARENA, &ev), 0);
	ev->domid = domid;
	ev->seq = seq;
	return ev;
}

static size_t ev_size(void)
{
	struct dt_event *ev = mk(0, 0);
	size_t s = ev->size;

	dt_event_free(ev);
	return s;
}

/* Take everything; return the events in order (caller frees with done). */
static size_t take_all(struct dt_queue *q, struct dt_event **out, size_t max)
{
	struct dt_queue_batch b;
	struct dt_event *ev;
	size_t n = 0;

	while (dt_queue_take(q, &b))
		while ((ev = dt_queue_next(&b))) {
			ck_assert_uint_lt(n, max);
			out[n++] = ev;
		}
	return n;
}

START_TEST(test_fifo_and_counters)
{
	struct dt_queue_opts o = { 0 };
	struct dt_queue_producer *p;
	struct dt_queue_stats st;
	struct dt_event *got[16];
	struct dt_queue *q;
	size_t i, n;

	ck_assert_int_eq(dt_queue_new(&o, &q), 0);
	ck_assert_int_eq(dt_queue_producer_new(q, 7, "vm7", &p), 0);
	for (i = 1; i <= 10; i++)
		ck_assert_int_eq(dt_queue_push(p, mk(7, i)), 0);
	dt_queue_stats(q, &st);
	ck_assert_uint_eq(st.enqueued, 10);
	ck_assert_uint_eq(st.bytes, 10 * ev_size());
	n = take_all(q, got, 16);
	ck_assert_uint_eq(n, 10);
	for (i = 0; i < n; i++) {
		ck_assert_uint_eq(got[i]->seq, i + 1);
		dt_queue_done(q, got[i]);
	}
	dt_queue_stats(q, &st);
	ck_assert_uint_eq(st.delivered, 10);
	ck_assert_uint_eq(st.bytes, 0);
	ck_assert_uint_eq(st.lost, 0);
	ck_assert_uint_eq(st.peak_bytes, 10 * ev_size());
	dt_queue_producer_free(p);
	dt_queue_free(q);
}
END_TEST

/* The eventfd is written only while the consumer sleeps, once per sleep, by the first
 * push; a busy consumer's producers write nothing. */
START_TEST(test_wakeup_only_when_asleep)
{
	struct dt_queue_producer *p;
	struct dt_event *got[8];
	struct dt_queue *q;
	uint64_t cnt = 0;
	size_t i, n;

	ck_assert_int_eq(dt_queue_new(NULL, &q), 0);
	ck_assert_int_eq(dt_queue_producer_new(q, 1, "a", &p), 0);
	for (i = 0; i < 3; i++)
		dt_queue_push(p, mk(1, i + 1));
	ck_assert_int_lt(read(dt_queue_fd(q), &cnt, sizeof(cnt)), 0); /* awake: no write */
	ck_assert(!dt_queue_sleep_begin(q));			       /* events: no sleep */
	dt_queue_push(p, mk(1, 4));
	ck_assert_int_lt(read(dt_queue_fd(q), &cnt, sizeof(cnt)), 0);
	n = take_all(q, got, 8);
	ck_assert_uint_eq(n, 4);
	for (i = 0; i < n; i++)
		dt_queue_done(q, got[i]);
	ck_assert(dt_queue_sleep_begin(q)); /* empty: it sleeps */
	dt_queue_push(p, mk(1, 5));
	dt_queue_push(p, mk(1, 6));
	ck_assert_int_eq(read(dt_queue_fd(q), &cnt, sizeof(cnt)), (int)sizeof(cnt));
	ck_assert_uint_eq(cnt, 1); /* the first push woke it; the second did not write */
	dt_queue_sleep_end(q);
	dt_queue_push(p, mk(1, 7));
	ck_assert_int_lt(read(dt_queue_fd(q), &cnt, sizeof(cnt)), 0); /* awake again */
	/* a sleep that ends by its timeout: the eventfd is left clear, nothing pending */
	n = take_all(q, got, 8);
	ck_assert_uint_eq(n, 3);
	for (i = 0; i < n; i++)
		dt_queue_done(q, got[i]);
	ck_assert(dt_queue_sleep_begin(q));
	dt_queue_sleep_end(q);
	dt_queue_push(p, mk(1, 8));
	ck_assert_int_lt(read(dt_queue_fd(q), &cnt, sizeof(cnt)), 0);
	dt_queue_producer_free(p);
	dt_queue_free(q);
}
END_TEST

/* A held producer (a worker inside a batch of traps) wakes a sleeping consumer once, at
 * release, and only if a push found it asleep. */
START_TEST(test_hold_defers_wakeup)
{
	struct dt_queue_producer *p;
	struct dt_event *got[8];
	struct dt_queue *q;
	uint64_t cnt = 0;
	size_t i, n;

	ck_assert_int_eq(dt_queue_new(NULL, &q), 0);
	ck_assert_int_eq(dt_queue_producer_new(q, 1, "a", &p), 0);
	ck_assert(dt_queue_sleep_begin(q));
	dt_queue_producer_hold(p);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(dt_queue_push(p, mk(1, i + 1)), 0);
	ck_assert_int_lt(read(dt_queue_fd(q), &cnt, sizeof(cnt)), 0); /* not yet */
	dt_queue_producer_release(p);
	ck_assert_int_eq(read(dt_queue_fd(q), &cnt, sizeof(cnt)), (int)sizeof(cnt));
	ck_assert_uint_eq(cnt, 1);
	dt_queue_producer_release(p); /* nothing pushed since: no second wakeup */
	ck_assert_int_lt(read(dt_queue_fd(q), &cnt, sizeof(cnt)), 0);
	dt_queue_sleep_end(q);
	n = take_all(q, got, 8);
	ck_assert_uint_eq(n, 3);
	for (i = 0; i < n; i++)
		dt_queue_done(q, got[i]);
	/* held, the consumer awake: nothing to wake at release */
	dt_queue_producer_hold(p);
	ck_assert_int_eq(dt_queue_push(p, mk(1, 4)), 0);
	dt_queue_producer_release(p);
	ck_assert_int_lt(read(dt_queue_fd(q), &cnt, sizeof(cnt)), 0);
	n = take_all(q, got, 8);
	ck_assert_uint_eq(n, 1);
	for (i = 0; i < n; i++)
		dt_queue_done(q, got[i]);
	dt_queue_producer_free(p);
	dt_queue_free(q);
}
END_TEST

/* A consumer that sleeps until the eventfd says there is work (no polling timeout
 * to rescue a lost wakeup: 60 s, then it says so). */
struct fd_consumer {
	struct dt_queue *q;
	unsigned want, got;
	bool starved;
};

static void *consume_on_wakeup(void *arg)
{
	struct fd_consumer *c = arg;

	while (c->got < c->want) {
		struct pollfd pfd = { .fd = dt_queue_fd(c->q), .events = POLLIN };
		struct dt_queue_batch b;
		struct dt_event *ev;

		if (dt_queue_sleep_begin(c->q)) {
			if (poll(&pfd, 1, 60000) == 0)
				c->starved = true;
			dt_queue_sleep_end(c->q);
		}
		while (dt_queue_take(c->q, &b))
			while ((ev = dt_queue_next(&b))) {
				c->got++;
				dt_queue_done(c->q, ev);
			}
	}
	return NULL;
}

/* wait_when_full on a held producer: the push that must wait wakes the consumer first
 * (else it would wait for room only a sleeping consumer can make). */
START_TEST(test_held_push_wakes_before_waiting)
{
	struct dt_queue_opts o = { .max_bytes = ev_size(), .wait_when_full = true };
	struct fd_consumer c = { .want = 3 };
	struct dt_queue_producer *p;
	struct dt_queue *q;
	pthread_t th;

	ck_assert_int_eq(dt_queue_new(&o, &q), 0);
	c.q = q;
	ck_assert_int_eq(dt_queue_producer_new(q, 1, "a", &p), 0);
	ck_assert_int_eq(pthread_create(&th, NULL, consume_on_wakeup, &c), 0);
	dt_queue_producer_hold(p);
	ck_assert_int_eq(dt_queue_push(p, mk(1, 1)), 0); /* fits; its wakeup is held */
	ck_assert_int_eq(dt_queue_push(p, mk(1, 2)), 0); /* must wait for room */
	ck_assert_int_eq(dt_queue_push(p, mk(1, 3)), 0);
	dt_queue_producer_release(p);
	pthread_join(th, NULL);
	ck_assert_msg(!c.starved, "the consumer was never woken while a push waited for it");
	ck_assert_uint_eq(c.got, 3);
	dt_queue_producer_free(p);
	dt_queue_free(q);
}
END_TEST

struct prod_arg {
	struct dt_queue *q;
	uint32_t domid;
	unsigned count;
	atomic_uint *lost;
};

static void *producer(void *arg)
{
	struct prod_arg *a = arg;
	struct dt_queue_producer *p;
	unsigned i;

	ck_assert_int_eq(dt_queue_producer_new(a->q, a->domid, "vm", &p), 0);
	for (i = 1; i <= a->count; i++)
		if (dt_queue_push(p, mk(a->domid, i)) < 0 && a->lost)
			atomic_fetch_add(a->lost, 1);
	dt_queue_producer_free(p);
	return NULL;
}

#define NPROD 8
#define PER_PROD 20000

/* Many producer threads, one consumer: everything once, in per-producer order. */
START_TEST(test_many_producers)
{
	struct dt_queue_opts o = { .max_bytes = (size_t)NPROD * PER_PROD * ev_size() };
	struct prod_arg args[NPROD];
	pthread_t th[NPROD];
	uint64_t last[NPROD] = { 0 };
	struct dt_queue_stats st;
	struct dt_queue *q;
	size_t total = 0;
	unsigned i;

	ck_assert_int_eq(dt_queue_new(&o, &q), 0);
	for (i = 0; i < NPROD; i++) {
		args[i] = (struct prod_arg){ .q = q, .domid = i, .count = PER_PROD };
		ck_assert_int_eq(pthread_create(&th[i], NULL, producer, &args[i]), 0);
	}
	while (total < (size_t)NPROD * PER_PROD) {
		struct pollfd pfd = { .fd = dt_queue_fd(q), .events = POLLIN };
		struct dt_queue_batch b;
		struct dt_event *ev;

		if (dt_queue_sleep_begin(q)) {
			poll(&pfd, 1, 100);
			dt_queue_sleep_end(q);
		}
		while (dt_queue_take(q, &b))
			while ((ev = dt_queue_next(&b))) {
				ck_assert_uint_lt(ev->domid, NPROD);
				ck_assert_uint_eq(ev->seq, last[ev->domid] + 1);
				last[ev->domid] = ev->seq;
				total++;
				dt_queue_done(q, ev);
			}
	}
	for (i = 0; i < NPROD; i++)
		pthread_join(th[i], NULL);
	ck_assert_ptr_null(dt_queue_take_lost(q));
	dt_queue_stats(q, &st);
	ck_assert_uint_eq(st.enqueued, (uint64_t)NPROD * PER_PROD);
	ck_assert_uint_eq(st.delivered, (uint64_t)NPROD * PER_PROD);
	ck_assert_uint_eq(st.lost, 0);
	ck_assert_uint_eq(st.bytes, 0);
	dt_queue_free(q);
}
END_TEST

/* Past the bound events are lost and counted exactly; the LOST record comes once
 * there is room, before anything the producer queues afterwards. */
START_TEST(test_bound_and_lost_record)
{
	struct dt_queue_opts o = { .max_bytes = 10 * ev_size() };
	struct dt_queue_producer_stats ps;
	struct dt_queue_producer *p, *p2;
	struct dt_event *got[64], *lost;
	struct dt_queue_stats st;
	struct dt_queue *q;
	size_t i, n;

	ck_assert_int_eq(dt_queue_new(&o, &q), 0);
	ck_assert_int_eq(dt_queue_producer_new(q, 3, "vm3", &p), 0);
	ck_assert_int_eq(dt_queue_producer_new(q, 4, "vm4", &p2), 0);
	for (i = 1; i <= 25; i++)
		ck_assert_int_eq(dt_queue_push(p, mk(3, i)), i <= 10 ? 0 : -ENOBUFS);
	ck_assert_int_eq(dt_queue_push(p2, mk(4, 1)), -ENOBUFS);
	dt_queue_producer_stats(p, &ps);
	ck_assert_uint_eq(ps.enqueued, 10);
	ck_assert_uint_eq(ps.lost, 15);
	ck_assert_uint_eq(ps.pending, 15);
	ck_assert_str_eq(ps.vm, "vm3");
	dt_queue_stats(q, &st);
	ck_assert_uint_eq(st.lost, 16);
	ck_assert_uint_eq(st.bytes, 10 * ev_size());

	/* full: no LOST record yet */
	ck_assert_ptr_null(dt_queue_take_lost(q));
	n = take_all(q, got, 64);
	ck_assert_uint_eq(n, 10);
	for (i = 0; i < n; i++)
		dt_queue_done(q, got[i]);

	/* room again: one record per producer, with its exact count */
	lost = dt_queue_take_lost(q);
	ck_assert_ptr_nonnull(lost);
	ck_assert_int_eq(lost->type, DT_EV_LOST);
	ck_assert_uint_eq(lost->domid, 3);
	ck_assert_str_eq(lost->vm, "vm3");
	ck_assert_uint_eq(lost->lost, 15);
	dt_queue_done(q, lost);
	lost = dt_queue_take_lost(q);
	ck_assert_ptr_nonnull(lost);
	ck_assert_uint_eq(lost->domid, 4);
	ck_assert_uint_eq(lost->lost, 1);
	dt_queue_done(q, lost);
	ck_assert_ptr_null(dt_queue_take_lost(q));
	dt_queue_producer_stats(p, &ps);
	ck_assert_uint_eq(ps.pending, 0);
	ck_assert_uint_eq(ps.lost, 15);

	/* loss again, then a successful push: the producer queues the record itself */
	for (i = 26; i <= 36; i++)
		dt_queue_push(p, mk(3, i)); /* 10 fit, #36 is lost */
	n = take_all(q, got, 64);
	ck_assert_uint_eq(n, 10);
	for (i = 0; i < n; i++)
		dt_queue_done(q, got[i]);
	ck_assert_int_eq(dt_queue_push(p, mk(3, 37)), 0);
	n = take_all(q, got, 64);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(got[0]->type, DT_EV_LOST);
	ck_assert_uint_eq(got[0]->lost, 1);
	ck_assert_uint_eq(got[1]->seq, 37);
	for (i = 0; i < n; i++)
		dt_queue_done(q, got[i]);
	ck_assert_ptr_null(dt_queue_take_lost(q));

	/* a producer freed with unannounced loss leaves its record in the queue */
	for (i = 38; i <= 48; i++)
		dt_queue_push(p, mk(3, i));
	n = take_all(q, got, 64);
	for (i = 0; i < n; i++)
		dt_queue_done(q, got[i]);
	dt_queue_producer_free(p);
	n = take_all(q, got, 64);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(got[0]->type, DT_EV_LOST);
	ck_assert_uint_eq(got[0]->lost, 1);
	dt_queue_done(q, got[0]);

	dt_queue_stats(q, &st);
	ck_assert_uint_eq(st.bytes, 0);
	ck_assert_uint_eq(st.lost, 18);
	dt_queue_producer_free(p2);
	dt_queue_free(q);
}
END_TEST

/* An event larger than the bound still passes when nothing is in flight. */
START_TEST(test_oversized_event)
{
	struct dt_queue_opts o = { .max_bytes = 100 };
	struct dt_queue_producer *p;
	struct dt_event *got[4];
	struct dt_queue *q;

	ck_assert_int_eq(dt_queue_new(&o, &q), 0);
	ck_assert_int_eq(dt_queue_producer_new(q, 1, "a", &p), 0);
	ck_assert_int_eq(dt_queue_push(p, mk(1, 1)), 0);
	ck_assert_int_eq(dt_queue_push(p, mk(1, 2)), -ENOBUFS);
	ck_assert_uint_eq(take_all(q, got, 4), 1);
	dt_queue_done(q, got[0]);
	dt_queue_producer_free(p);
	dt_queue_free(q);
}
END_TEST

struct slow_consumer {
	struct dt_queue *q;
	unsigned want;
	unsigned got;
	bool in_order;
};

static void *consume_slowly(void *arg)
{
	struct slow_consumer *c = arg;
	uint64_t last = 0;

	c->in_order = true;
	while (c->got < c->want) {
		struct pollfd pfd = { .fd = dt_queue_fd(c->q), .events = POLLIN };
		struct dt_queue_batch b;
		struct dt_event *ev;

		if (dt_queue_sleep_begin(c->q)) {
			poll(&pfd, 1, 50);
			dt_queue_sleep_end(c->q);
		}
		while (dt_queue_take(c->q, &b))
			while ((ev = dt_queue_next(&b))) {
				if (ev->seq != last + 1)
					c->in_order = false;
				last = ev->seq;
				c->got++;
				usleep(100);
				dt_queue_done(c->q, ev);
			}
	}
	return NULL;
}

/* wait_when_full: the worker waits instead of losing; nothing is lost. */
START_TEST(test_wait_when_full)
{
	struct dt_queue_opts o = { .max_bytes = 4 * ev_size(), .wait_when_full = true };
	struct slow_consumer c = { .want = 300 };
	struct dt_queue_producer *p;
	struct dt_queue_stats st;
	struct dt_queue *q;
	pthread_t th;
	unsigned i;

	ck_assert_int_eq(dt_queue_new(&o, &q), 0);
	c.q = q;
	ck_assert_int_eq(dt_queue_producer_new(q, 1, "a", &p), 0);
	ck_assert_int_eq(pthread_create(&th, NULL, consume_slowly, &c), 0);
	for (i = 1; i <= c.want; i++)
		ck_assert_int_eq(dt_queue_push(p, mk(1, i)), 0);
	pthread_join(th, NULL);
	ck_assert(c.in_order);
	dt_queue_stats(q, &st);
	ck_assert_uint_eq(st.lost, 0);
	ck_assert_uint_eq(st.delivered, c.want);
	ck_assert_uint_gt(st.waits, 0);
	ck_assert_uint_le(st.peak_bytes, 4 * ev_size());
	dt_queue_producer_free(p);
	dt_queue_free(q);
}
END_TEST

static void *push_one(void *arg)
{
	struct dt_queue_producer *p = arg;

	return (void *)(intptr_t)dt_queue_push(p, mk(1, 2));
}

/* close() releases a waiting worker (its event is lost) and refuses further pushes. */
START_TEST(test_close_releases_waiters)
{
	struct dt_queue_opts o = { .max_bytes = ev_size(), .wait_when_full = true };
	struct dt_queue_producer *p;
	struct dt_queue_stats st;
	struct dt_queue *q;
	pthread_t th;
	void *ret;

	ck_assert_int_eq(dt_queue_new(&o, &q), 0);
	ck_assert_int_eq(dt_queue_producer_new(q, 1, "a", &p), 0);
	ck_assert_int_eq(dt_queue_push(p, mk(1, 1)), 0);
	ck_assert_int_eq(pthread_create(&th, NULL, push_one, p), 0);
	do { /* until it waits */
		usleep(1000);
		dt_queue_stats(q, &st);
	} while (!st.waits);
	dt_queue_close(q);
	pthread_join(th, &ret);
	ck_assert_int_eq((int)(intptr_t)ret, -ESHUTDOWN);
	ck_assert_int_eq(dt_queue_push(p, mk(1, 3)), -ESHUTDOWN);
	dt_queue_stats(q, &st);
	ck_assert_uint_eq(st.lost, 2);
	dt_queue_producer_free(p);
	dt_queue_free(q); /* frees the queued event */
}
END_TEST

static void count_vm(const struct dt_queue_producer_stats *st, void *arg)
{
	(*(unsigned *)arg)++;
}

START_TEST(test_foreach_producer)
{
	struct dt_queue_producer *p[3];
	struct dt_queue *q;
	unsigned n = 0, i;

	ck_assert_int_eq(dt_queue_new(NULL, &q), 0);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(dt_queue_producer_new(q, i, "x", &p[i]), 0);
	dt_queue_foreach_producer(q, count_vm, &n);
	ck_assert_uint_eq(n, 3);
	dt_queue_producer_free(p[1]);
	n = 0;
	dt_queue_foreach_producer(q, count_vm, &n);
	ck_assert_uint_eq(n, 2);
	dt_queue_producer_free(p[0]);
	dt_queue_producer_free(p[2]);
	dt_queue_free(q);
}
END_TEST

static Suite *queue_suite(void)
{
	Suite *s = suite_create("queue");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_fifo_and_counters);
	tcase_add_test(tc, test_wakeup_only_when_asleep);
	tcase_add_test(tc, test_many_producers);
	tcase_add_test(tc, test_bound_and_lost_record);
	tcase_add_test(tc, test_oversized_event);
	tcase_add_test(tc, test_wait_when_full);
	tcase_add_test(tc, test_close_releases_waiters);
	tcase_add_test(tc, test_foreach_producer);
	tcase_add_test(tc, test_hold_defers_wakeup);
	tcase_add_test(tc, test_held_push_wakes_before_waiting);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(queue_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
