// SPDX-License-Identifier: GPL-2.0-only
/*
 * The A3 sink against a real HTTP(S) server on 127.0.0.1 (dt-a3-receiver): every
 * event exactly once and in per-VM order with many producer threads; server down
 * and back: everything within the bound arrives and the loss beyond it is exact and
 * announced; 5xx retried, 4xx rejected, timeouts retried without duplicates; the
 * ancestor's GET format; https with a trusted and an untrusted CA; waiting workers.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "domtrace/report.h"
#include "format.h"
#include "support/a3_events.h"
#include "support/a3_receiver.h"

#define ARENA 64

static char dir[256];
static struct dt_test_receiver rcv;

static void setup(void)
{
	ck_assert_int_eq(dt_test_tmpdir(dir, sizeof(dir)), 0);
	memset(&rcv, 0, sizeof(rcv));
}

static void teardown(void)
{
	dt_test_receiver_stop(&rcv);
	dt_test_rmdir(dir);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void a3_opts(struct dt_report_opts *o, enum dt_report_a3 mode, unsigned port)
{
	static char server[64];

	dt_report_opts_init(o);
	snprintf(server, sizeof(server), "127.0.0.1:%u", port);
	o->a3 = mode;
	o->a3_server = server;
	o->a3_delay_ms = 5;
	o->a3_backoff_min_ms = 20;
	o->a3_backoff_max_ms = 200;
	o->a3_timeout_ms = 10000; /* sanitizer builds on a loaded machine are slow */
	o->max_bytes = 1u << 30;
}

static struct dt_event *mk(uint32_t domid, unsigned i)
{
	char vm[16], name[32];
	struct dt_event *ev;

	snprintf(vm, sizeof(vm), "vm%u", domid);
	snprintf(name, sizeof(name), "/n/%u", i);
	ev = dt_test_ev_openat(DT_EV_MATCH, vm, "cat", name, ARENA);
	ck_assert_ptr_nonnull(ev);
	ev->domid = domid;
	ev->seq = i;
	return ev;
}

static size_t ev_size(void)
{
	struct dt_event *ev = mk(0, 1000000);
	size_t s = ev->size;

	dt_event_free(ev);
	return s;
}

/* Parse "domain=vm<d> ... filename=/n/<i>,": false if the line is not such an event. */
static bool parse_line(const char *l, unsigned *vm, unsigned *i)
{
	const char *f = strstr(l, "filename=/n/");

	return sscanf(l, "domain=vm%u ", vm) == 1 && f && sscanf(f, "filename=/n/%u,", i) == 1;
}

/* Wait (bounded) until fn(stats) holds. */
static bool wait_stats(struct dt_report *r, bool (*fn)(const struct dt_report_stats *st))
{
	struct dt_report_stats st;
	unsigned t;

	for (t = 0; t < 3000; t++) {
		dt_report_stats(r, &st);
		if (fn(&st))
			return true;
		sleep_ms(10);
	}
	return false;
}

struct submit_arg {
	struct dt_report *r;
	uint32_t domid;
	unsigned first, count;
	int lost;
};

static void *submitter(void *arg)
{
	struct submit_arg *a = arg;
	struct dt_report_producer *p;
	char vm[16];
	unsigned i;

	snprintf(vm, sizeof(vm), "vm%u", a->domid);
	ck_assert_int_eq(dt_report_producer_new(a->r, a->domid, vm, &p), 0);
	for (i = a->first; i < a->first + a->count; i++)
		if (dt_report_submit(p, mk(a->domid, i)) < 0)
			a->lost++;
	dt_report_producer_free(p);
	return NULL;
}

/* Check the receiver's file: for each VM, events first..first+count-1 exactly once,
 * in order; returns the number of event lines. */
static size_t check_received(unsigned nvm, unsigned count)
{
	unsigned *next = calloc(nvm, sizeof(*next)), vm, i;
	size_t n, k, events = 0;
	char **lines = dt_test_read_lines(rcv.out, &n);

	ck_assert_ptr_nonnull(lines);
	for (k = 0; k < n; k++) {
		if (!parse_line(lines[k], &vm, &i))
			continue;
		ck_assert_uint_lt(vm, nvm);
		ck_assert_msg(i == next[vm] + 1, "vm%u: got %u after %u", vm, i, next[vm]);
		next[vm] = i;
		events++;
	}
	for (vm = 0; vm < nvm; vm++)
		ck_assert_uint_eq(next[vm], count);
	dt_test_free_lines(lines, n);
	free(next);
	return events;
}

#define NVM 8
#define PER_VM 5000

START_TEST(test_many_producers_exactly_once)
{
	struct submit_arg args[NVM];
	struct dt_report_stats st;
	struct dt_report_opts o;
	struct dt_report *r;
	pthread_t th[NVM];
	unsigned i;

	ck_assert_int_eq(dt_test_receiver_start(&rcv, dir, 0, NULL), 0);
	a3_opts(&o, DT_REPORT_A3_POST, rcv.port);
	ck_assert_int_eq(dt_report_new(&o, &r), 0);
	ck_assert_int_eq(dt_report_start(r), 0);
	for (i = 0; i < NVM; i++) {
		args[i] = (struct submit_arg){ .r = r, .domid = i, .first = 1, .count = PER_VM };
		ck_assert_int_eq(pthread_create(&th[i], NULL, submitter, &args[i]), 0);
	}
	for (i = 0; i < NVM; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(args[i].lost, 0);
	}
	ck_assert_int_eq(dt_report_stop(r, 10000), 0);
	dt_report_stats(r, &st);
	ck_assert_uint_eq(st.a3_sent, NVM * PER_VM);
	ck_assert_uint_eq(st.a3_failures, 0);
	ck_assert_uint_eq(st.a3_pending, 0);
	ck_assert_uint_eq(st.q.lost, 0);
	ck_assert_uint_eq(st.q.bytes, 0);
	ck_assert_uint_eq(st.a3_last_http, 200);
	ck_assert_uint_gt(st.a3_requests, 0);
	ck_assert_uint_lt(st.a3_requests, NVM * PER_VM); /* batched */
	dt_report_free(r);
	ck_assert_int_eq(dt_test_receiver_stop(&rcv), 0);
	ck_assert_uint_eq(check_received(NVM, PER_VM), NVM * PER_VM);
	ck_assert_int_eq(dt_test_receiver_count(&rcv, "events"), NVM * PER_VM);
	ck_assert_int_eq(dt_test_receiver_count(&rcv, "duplicates"), 0);
	/* keep-alive: far fewer connections than requests */
	ck_assert_int_le(dt_test_receiver_count(&rcv, "connections"), 2);
}
END_TEST

START_TEST(test_json_body)
{
	struct submit_arg a;
	struct dt_report_opts o;
	struct dt_report *r;
	char **lines;
	size_t n, k;
	unsigned last = 0, seq;

	ck_assert_int_eq(dt_test_receiver_start(&rcv, dir, 0, NULL), 0);
	a3_opts(&o, DT_REPORT_A3_POST_JSON, rcv.port);
	o.a3_url = "a3/json"; /* a path: joined to -w */
	ck_assert_int_eq(dt_report_new(&o, &r), 0);
	ck_assert_int_eq(dt_report_start(r), 0);
	a = (struct submit_arg){ .r = r, .domid = 1, .first = 1, .count = 2000 };
	submitter(&a);
	ck_assert_int_eq(dt_report_stop(r, 10000), 0);
	dt_report_free(r);
	dt_test_receiver_stop(&rcv);
	lines = dt_test_read_lines(rcv.out, &n);
	ck_assert_uint_eq(n, 2000);
	for (k = 0; k < n; k++) {
		ck_assert(dt_test_json_valid(lines[k], strlen(lines[k])));
		ck_assert_int_eq(sscanf(strstr(lines[k], "\"seq\":"), "\"seq\":%u", &seq), 1);
		ck_assert_uint_eq(seq, last + 1);
		last = seq;
	}
	dt_test_free_lines(lines, n);
}
END_TEST

static bool two_failures(const struct dt_report_stats *st)
{
	return st->a3_failures >= 2;
}

/* two failed sends, and every one of the outage test's 40 events has reached the A3 sink
 * (kept or counted lost): the reporter may still hold the last one while the second
 * failure is already counted (29 lost + 10 kept seen under load, 2026-12-07) */
static bool two_failures_all_dispatched(const struct dt_report_stats *st)
{
	return st->a3_failures >= 2 && st->a3_pending + st->a3_backlog_lost >= 40;
}

static bool nothing_pending(const struct dt_report_stats *st)
{
	return !st->a3_pending && !st->q.bytes;
}

#define BOUND 50
#define DOWN_EVENTS 80

/* Server down: the events within the A3 backlog's own bound wait for it; the rest are
 * lost for A3 only (the queue loses nothing), counted exactly by reason, and announced
 * to the server by a LOST record once there is room, before the VM's later events. */
START_TEST(test_server_down_and_back)
{
	struct dt_report_loss loss[8];
	struct dt_report_producer *p;
	struct dt_report_stats st;
	struct dt_report_opts o;
	struct dt_report *r;
	unsigned port, i, vm;
	char **lines;
	size_t n, k;

	ck_assert_int_eq(dt_test_receiver_start(&rcv, dir, 0, NULL), 0);
	port = rcv.port;
	dt_test_receiver_stop(&rcv); /* nobody listens there now */

	a3_opts(&o, DT_REPORT_A3_POST, port);
	o.max_bytes = 1u << 30;
	o.a3_max_bytes = BOUND * ev_size();
	ck_assert_int_eq(dt_report_new(&o, &r), 0);
	ck_assert_int_eq(dt_report_start(r), 0);
	ck_assert_int_eq(dt_report_producer_new(r, 0, "vm0", &p), 0);
	for (i = 1; i <= DOWN_EVENTS; i++)
		ck_assert_int_eq(dt_report_submit(p, mk(0, i)), 0);
	ck_assert(wait_stats(r, two_failures)); /* it kept retrying */
	dt_report_stats(r, &st);
	ck_assert_uint_eq(st.a3_sent, 0);
	ck_assert_uint_eq(st.a3_pending, BOUND);
	ck_assert_uint_eq(st.q.lost, 0);
	ck_assert_uint_eq(st.a3_backlog_lost, DOWN_EVENTS - BOUND);
	ck_assert_uint_eq(st.lost_total, DOWN_EVENTS - BOUND);
	ck_assert_uint_eq(st.q.bytes, 0); /* the backlog is not the queue's */
	ck_assert_uint_eq(st.a3_backlog_bytes, BOUND * ev_size());
	ck_assert_int_ne(st.a3_last_curl, 0);
	ck_assert_uint_eq(dt_report_losses(r, loss, 8), 1);
	ck_assert_str_eq(loss[0].sink, "a3");
	ck_assert_uint_eq(loss[0].count, DOWN_EVENTS - BOUND);
	ck_assert_msg(!strncmp(loss[0].reason, "backlog full", 12), "%s", loss[0].reason);

	ck_assert_int_eq(dt_test_receiver_start(&rcv, dir, port, NULL), 0);
	ck_assert(wait_stats(r, nothing_pending));
	ck_assert_int_eq(dt_report_submit(p, mk(0, DOWN_EVENTS + 1)), 0);
	dt_report_producer_free(p);
	ck_assert_int_eq(dt_report_stop(r, 10000), 0);
	dt_report_stats(r, &st);
	ck_assert_uint_eq(st.a3_sent, BOUND + 2); /* events, the LOST record, the last one */
	dt_report_free(r);
	dt_test_receiver_stop(&rcv);

	lines = dt_test_read_lines(rcv.out, &n);
	ck_assert_uint_eq(n, BOUND + 2);
	for (k = 0; k < BOUND; k++) {
		ck_assert(parse_line(lines[k], &vm, &i));
		ck_assert_uint_eq(i, k + 1);
	}
	ck_assert_str_eq(lines[BOUND], "domain=vm0 type=lost count=30");
	ck_assert(parse_line(lines[BOUND + 1], &vm, &i));
	ck_assert_uint_eq(i, DOWN_EVENTS + 1);
	dt_test_free_lines(lines, n);
}
END_TEST

/* 5xx answers are retried with the same batch; nothing lost, nothing twice. */
START_TEST(test_server_errors_retried)
{
	const char *const extra[] = { "-e", "500", "-n", "3", NULL };
	struct submit_arg a;
	struct dt_report_stats st;
	struct dt_report_opts o;
	struct dt_report *r;

	ck_assert_int_eq(dt_test_receiver_start(&rcv, dir, 0, extra), 0);
	a3_opts(&o, DT_REPORT_A3_POST, rcv.port);
	ck_assert_int_eq(dt_report_new(&o, &r), 0);
	a = (struct submit_arg){ .r = r, .domid = 0, .first = 1, .count = 100 };
	submitter(&a); /* queued before the thread starts: one batch */
	ck_assert_int_eq(dt_report_start(r), 0);
	ck_assert_int_eq(dt_report_stop(r, 10000), 0);
	dt_report_stats(r, &st);
	ck_assert_uint_eq(st.a3_failures, 3);
	ck_assert_uint_eq(st.a3_sent, 100);
	ck_assert_uint_eq(st.a3_requests, 4);
	dt_report_free(r);
	dt_test_receiver_stop(&rcv);
	ck_assert_uint_eq(check_received(1, 100), 100);
	ck_assert_int_eq(dt_test_receiver_count(&rcv, "errors"), 3);
}
END_TEST

/* A 4xx answer is final: the batch is counted as rejected. */
START_TEST(test_client_error_rejected)
{
	const char *const extra[] = { "-e", "400", "-n", "1", NULL };
	struct submit_arg a;
	struct dt_report_stats st;
	struct dt_report_opts o;
	struct dt_report *r;

	ck_assert_int_eq(dt_test_receiver_start(&rcv, dir, 0, extra), 0);
	a3_opts(&o, DT_REPORT_A3_POST, rcv.port);
	ck_assert_int_eq(dt_report_new(&o, &r), 0);
	a = (struct submit_arg){ .r = r, .domid = 0, .first = 1, .count = 10 };
	submitter(&a);
	ck_assert_int_eq(dt_report_start(r), 0);
	ck_assert_int_eq(dt_report_stop(r, 10000), 0);
	dt_report_stats(r, &st);
	ck_assert_uint_eq(st.a3_rejected, 10);
	ck_assert_uint_eq(st.a3_sent, 0);
	ck_assert_uint_eq(st.a3_last_http, 400);
	ck_assert_uint_eq(st.q.bytes, 0);
	dt_report_free(r);
}
END_TEST

/* A server slower than the request timeout: retried (the receiver drops the repeated
 * batch by its id), workers never wait, and stop gives up at its time limit. */
START_TEST(test_slow_server_timeout)
{
	const char *const extra[] = { "-d", "3000", NULL };
	struct submit_arg a;
	struct dt_report_stats st;
	struct dt_report_opts o;
	struct dt_report *r;

	ck_assert_int_eq(dt_test_receiver_start(&rcv, dir, 0, extra), 0);
	a3_opts(&o, DT_REPORT_A3_POST, rcv.port);
	o.a3_timeout_ms = 150;
	ck_assert_int_eq(dt_report_new(&o, &r), 0);
	a = (struct submit_arg){ .r = r, .domid = 0, .first = 1, .count = 10 };
	submitter(&a);
	ck_assert_int_eq(dt_report_start(r), 0);
	ck_assert(wait_stats(r, two_failures));
	ck_assert_int_eq(dt_report_stop(r, 300), -ETIMEDOUT);
	dt_report_stats(r, &st);
	ck_assert_uint_eq(st.a3_sent, 0);
	ck_assert_uint_eq(st.a3_abandoned, 10);
	ck_assert_int_eq(st.a3_last_curl, CURLE_OPERATION_TIMEDOUT);
	ck_assert_uint_eq(st.q.bytes, 0);
	dt_report_free(r);
	dt_test_receiver_stop(&rcv);
	ck_assert_uint_eq(check_received(1, 10), 10); /* once, despite the retries */
	ck_assert_int_ge(dt_test_receiver_count(&rcv, "duplicates"), 1);
}
END_TEST

/* A slow server within the timeout: everything arrives. */
START_TEST(test_slow_server_ok)
{
	const char *const extra[] = { "-d", "100", NULL };
	struct submit_arg a;
	struct dt_report_stats st;
	struct dt_report_opts o;
	struct dt_report *r;

	ck_assert_int_eq(dt_test_receiver_start(&rcv, dir, 0, extra), 0);
	a3_opts(&o, DT_REPORT_A3_POST, rcv.port);
	o.a3_batch_max = 100;
	ck_assert_int_eq(dt_report_new(&o, &r), 0);
	ck_assert_int_eq(dt_report_start(r), 0);
	a = (struct submit_arg){ .r = r, .domid = 0, .first = 1, .count = 1000 };
	submitter(&a);
	ck_assert_int_eq(dt_report_stop(r, 20000), 0);
	dt_report_stats(r, &st);
	ck_assert_uint_eq(st.a3_sent, 1000);
	ck_assert_uint_eq(st.a3_failures, 0);
	dt_report_free(r);
	dt_test_receiver_stop(&rcv);
	ck_assert_uint_eq(check_received(1, 1000), 1000);
}
END_TEST

/* The ancestor's per-event GET: the receiver decodes exactly the seed event string. */
START_TEST(test_get_compat)
{
	struct dt_report_producer *p;
	struct dt_report_opts o;
	struct dt_report *r;
	struct dt_buf b = { 0 };
	char **lines;
	size_t n, k;

	ck_assert_int_eq(dt_test_receiver_start(&rcv, dir, 0, NULL), 0);
	a3_opts(&o, DT_REPORT_A3_GET, rcv.port);
	ck_assert_int_eq(dt_report_new(&o, &r), 0);
	ck_assert_int_eq(dt_report_start(r), 0);
	ck_assert_int_eq(dt_report_producer_new(r, 0, "vm0", &p), 0);
	for (k = 1; k <= 5; k++)
		dt_report_submit(p, mk(0, (unsigned)k));
	dt_report_submit(p, dt_test_ev_pslist("vm0", 3));
	dt_report_producer_free(p);
	ck_assert_int_eq(dt_report_stop(r, 10000), 0);
	dt_report_free(r);
	dt_test_receiver_stop(&rcv);
	lines = dt_test_read_lines(rcv.out, &n);
	ck_assert_uint_eq(n, 6);
	for (k = 0; k < 5; k++) {
		struct dt_event *ev = mk(0, (unsigned)k + 1);

		dt_buf_reset(&b);
		dt_fmt_a3(&b, ev);
		ck_assert_str_eq(lines[k], b.p);
		dt_event_free(ev);
	}
	ck_assert_str_eq(lines[5], "domain=vm0 type=pslist pid=1,ppid=0,name=p0|pid=2,ppid=1,name=p1|"
				   "pid=3,ppid=2,name=p2|");
	ck_assert_int_eq(dt_test_receiver_count(&rcv, "requests"), 6);
	dt_buf_free(&b);
	dt_test_free_lines(lines, n);
}
END_TEST

static bool one_failure(const struct dt_report_stats *st)
{
	return st->a3_failures >= 1;
}

/* https: a server certified by the CA we trust works; by another CA it is refused. */
START_TEST(test_https)
{
	char cert[300], key[300], ca[300], other[300], url[128];
	const char *extra[] = { "-c", cert, "-k", key, NULL };
	struct submit_arg a;
	struct dt_report_stats st;
	struct dt_report_opts o;
	struct dt_report *r;

	ck_assert_int_eq(dt_test_make_ca(dir, "good"), 0);
	ck_assert_int_eq(dt_test_make_ca(dir, "other"), 0);
	snprintf(cert, sizeof(cert), "%s/good-server.pem", dir);
	snprintf(key, sizeof(key), "%s/good-server.key", dir);
	snprintf(ca, sizeof(ca), "%s/good-ca.pem", dir);
	snprintf(other, sizeof(other), "%s/other-ca.pem", dir);
	ck_assert_int_eq(dt_test_receiver_start(&rcv, dir, 0, extra), 0);
	snprintf(url, sizeof(url), "https://127.0.0.1:%u/events", rcv.port);

	a3_opts(&o, DT_REPORT_A3_POST, 0);
	o.a3_url = url;
	o.a3_ca_file = ca;
	ck_assert_int_eq(dt_report_new(&o, &r), 0);
	ck_assert_int_eq(dt_report_start(r), 0);
	a = (struct submit_arg){ .r = r, .domid = 0, .first = 1, .count = 200 };
	submitter(&a);
	ck_assert_int_eq(dt_report_stop(r, 10000), 0);
	dt_report_stats(r, &st);
	ck_assert_uint_eq(st.a3_sent, 200);
	dt_report_free(r);

	o.a3_ca_file = other;
	ck_assert_int_eq(dt_report_new(&o, &r), 0);
	ck_assert_int_eq(dt_report_start(r), 0);
	a = (struct submit_arg){ .r = r, .domid = 0, .first = 201, .count = 10 };
	submitter(&a);
	ck_assert(wait_stats(r, one_failure));
	ck_assert_int_eq(dt_report_stop(r, 200), -ETIMEDOUT);
	dt_report_stats(r, &st);
	ck_assert_uint_eq(st.a3_sent, 0);
	ck_assert_uint_eq(st.a3_abandoned, 10);
	ck_assert_int_eq(st.a3_last_curl, CURLE_PEER_FAILED_VERIFICATION);
	dt_report_free(r);
	dt_test_receiver_stop(&rcv);
	ck_assert_uint_eq(check_received(1, 200), 200); /* none of the refused ones */
	ck_assert_int_ge(dt_test_receiver_count(&rcv, "tls_failures"), 1);
}
END_TEST

/* wait_when_full and the server down: the workers never wait on A3 (its backlog has
 * its own bound); nothing is lost in the queue, what A3 could not keep is counted. */
START_TEST(test_a3_outage_never_blocks_workers)
{
	struct submit_arg a;
	struct dt_report_stats st;
	struct dt_report_opts o;
	struct dt_report *r;
	pthread_t th;
	unsigned port;

	ck_assert_int_eq(dt_test_receiver_start(&rcv, dir, 0, NULL), 0);
	port = rcv.port;
	dt_test_receiver_stop(&rcv);
	a3_opts(&o, DT_REPORT_A3_POST, port);
	o.max_bytes = 10 * ev_size();
	o.a3_max_bytes = 10 * ev_size();
	o.wait_when_full = true;
	ck_assert_int_eq(dt_report_new(&o, &r), 0);
	ck_assert_int_eq(dt_report_start(r), 0);
	a = (struct submit_arg){ .r = r, .domid = 0, .first = 1, .count = 40 };
	ck_assert_int_eq(pthread_create(&th, NULL, submitter, &a), 0);
	pthread_join(th, NULL); /* before: waited for the server forever */
	ck_assert_int_eq(a.lost, 0);
	ck_assert(wait_stats(r, two_failures_all_dispatched));
	dt_report_stats(r, &st);
	ck_assert_uint_eq(st.q.lost, 0);
	ck_assert_uint_eq(st.a3_pending, 10);
	ck_assert_uint_eq(st.a3_backlog_lost, 30);
	ck_assert_int_eq(dt_test_receiver_start(&rcv, dir, port, NULL), 0);
	ck_assert_int_eq(dt_report_stop(r, 10000), 0);
	dt_report_stats(r, &st);
	ck_assert_uint_eq(st.a3_sent, 11); /* 10 events and the LOST record */
	dt_report_free(r);
	dt_test_receiver_stop(&rcv);
	ck_assert_uint_eq(check_received(1, 10), 10);
}
END_TEST

START_TEST(test_bad_url)
{
	struct dt_report_opts o;
	struct dt_report *r = NULL;

	a3_opts(&o, DT_REPORT_A3_POST, 1);
	o.a3_server = "host/with/slash:80";
	ck_assert_int_eq(dt_report_new(&o, &r), -EINVAL);
	ck_assert_ptr_null(r);
}
END_TEST

static Suite *a3_suite(void)
{
	Suite *s = suite_create("report_a3");
	TCase *tc = tcase_create("http");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_many_producers_exactly_once);
	tcase_add_test(tc, test_json_body);
	tcase_add_test(tc, test_server_down_and_back);
	tcase_add_test(tc, test_server_errors_retried);
	tcase_add_test(tc, test_client_error_rejected);
	tcase_add_test(tc, test_slow_server_timeout);
	tcase_add_test(tc, test_slow_server_ok);
	tcase_add_test(tc, test_get_compat);
	tcase_add_test(tc, test_https);
	tcase_add_test(tc, test_a3_outage_never_blocks_workers);
	tcase_add_test(tc, test_bad_url);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	sr = srunner_create(a3_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
