// SPDX-License-Identifier: GPL-2.0-only
/*
 * Crash safety (engine/guard/): the journal of armed bytes, shared with a forked guardian;
 * the guardian surviving the signals an operator sends domtrace and recovering when the
 * writer dies (also by SIGKILL); and, on the simulated host, the journal naming exactly the
 * bytes domtrace changed, so that restoring them leaves every guest byte-identical.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "domtrace/guardian.h"
#include "domtrace/journal.h"
#include "support/check_run.h"
#include "support/harness.h"

static struct dt_guard_site site_at(uint64_t gpa, uint8_t len, uint8_t seed)
{
	struct dt_guard_site s = { .gpa = gpa, .len = len };
	uint8_t i;

	for (i = 0; i < len; i++) {
		s.orig[i] = (uint8_t)(seed + i);
		s.armed[i] = 0xcc;
	}
	return s;
}

START_TEST(journal_add_drop_reuse)
{
	struct dt_journal *j;
	struct dt_guard_site s = site_at(0x1000, 1, 0x90);
	uint32_t ids[4], id;
	int i;

	ck_assert_int_eq(dt_journal_new(4, &j), 0);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(dt_journal_add(j, 1, &s, &ids[i]), 0);
		ck_assert_uint_eq(ids[i], (uint32_t)i + 1);
	}
	ck_assert_int_eq(dt_journal_add(j, 1, &s, &id), -ENOSPC);
	ck_assert_uint_eq(dt_journal_count(j), 4);
	dt_journal_drop(j, ids[1]);
	dt_journal_drop(j, ids[1]); /* twice: must not free the id twice */
	dt_journal_drop(j, 0);
	ck_assert_uint_eq(dt_journal_count(j), 3);
	ck_assert_int_eq(dt_journal_add(j, 1, &s, &id), 0);
	ck_assert_uint_eq(id, ids[1]);
	ck_assert_int_eq(dt_journal_add(j, 1, &s, &id), -ENOSPC);
	s.len = 0;
	ck_assert_int_eq(dt_journal_add(j, 1, &s, &id), -EINVAL);
	s.len = DT_GUARD_SITE_MAX + 1;
	ck_assert_int_eq(dt_journal_add(j, 1, &s, &id), -EINVAL);
	dt_journal_drop(NULL, 1);
	dt_journal_free(j);
	dt_journal_free(NULL);
}
END_TEST

START_TEST(journal_lists_domains_and_sites)
{
	struct dt_journal *j;
	struct dt_guard_site a = site_at(0x2000, 5, 1), b = site_at(0x3ffe, 2, 9), out[4];
	uint32_t doms[4], id, drop;

	ck_assert_int_eq(dt_journal_new(16, &j), 0);
	ck_assert_int_eq(dt_journal_add(j, 5, &a, &id), 0);
	ck_assert_int_eq(dt_journal_add(j, 7, &b, &drop), 0);
	ck_assert_int_eq(dt_journal_add(j, 5, &b, &id), 0);
	ck_assert_uint_eq(dt_journal_domains(j, doms, 4), 2);
	ck_assert_uint_eq(doms[0], 5);
	ck_assert_uint_eq(doms[1], 7);
	ck_assert_uint_eq(dt_journal_sites(j, 5, out, 4), 2);
	ck_assert_mem_eq(&out[0], &a, sizeof(a));
	ck_assert_mem_eq(&out[1], &b, sizeof(b));
	ck_assert_uint_eq(dt_journal_sites(j, 5, NULL, 0), 2); /* count only */
	dt_journal_drop(j, drop);
	ck_assert_uint_eq(dt_journal_domains(j, doms, 4), 1);
	ck_assert_uint_eq(dt_journal_sites(j, 7, out, 4), 0);
	dt_journal_free(j);
}
END_TEST

START_TEST(journal_is_shared_with_a_fork)
{
	struct dt_journal *j;
	struct dt_guard_site s = site_at(0x5000, 1, 0x55), out;
	int st;
	pid_t pid;

	ck_assert_int_eq(dt_journal_new(8, &j), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		uint32_t id;

		_exit(dt_journal_add(j, 42, &s, &id) == 0 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_uint_eq(dt_journal_count(j), 1);
	ck_assert_uint_eq(dt_journal_sites(j, 42, &out, 1), 1);
	ck_assert_mem_eq(&out, &s, sizeof(s));
	dt_journal_free(j);
}
END_TEST

/* Pauses: counted per domain, never below zero, listed with the domains to recover. */
START_TEST(journal_counts_pauses_per_domain)
{
	struct dt_journal *j;
	uint32_t doms[4];
	uint32_t d;

	ck_assert_int_eq(dt_journal_new(8, &j), 0);
	ck_assert(dt_journal_empty(j));
	ck_assert_int_eq(dt_journal_pause_note(j, 6, +1), 0);
	ck_assert_int_eq(dt_journal_pause_note(j, 6, +1), 0);
	ck_assert_int_eq(dt_journal_pause_note(j, 7, +1), 0);
	ck_assert_int_eq(dt_journal_pause_note(j, 6, -1), 0);
	ck_assert_uint_eq(dt_journal_pauses(j, 6), 1);
	ck_assert_uint_eq(dt_journal_pauses(j, 7), 1);
	ck_assert_uint_eq(dt_journal_pauses(j, 8), 0);
	ck_assert(!dt_journal_empty(j));
	ck_assert_uint_eq(dt_journal_count(j), 0); /* no breakpoint, yet work for a guardian */
	ck_assert_uint_eq(dt_journal_domains(j, doms, 4), 2);
	ck_assert(doms[0] + doms[1] == 13);
	ck_assert_int_eq(dt_journal_pause_note(j, 7, -3), 0); /* never below zero */
	ck_assert_uint_eq(dt_journal_pauses(j, 7), 0);
	ck_assert_int_eq(dt_journal_pause_note(j, 9, -1), 0); /* nothing held: nothing dropped */
	dt_journal_pause_forget(j, 6);
	ck_assert(dt_journal_empty(j));
	ck_assert_uint_eq(dt_journal_domains(j, doms, 4), 0);
	/* slots are given back: more domains than slots over time, each paused once */
	for (d = 1; d <= 3 * DT_JOURNAL_PAUSE_SLOTS; d++) {
		ck_assert_int_eq(dt_journal_pause_note(j, d, +1), 0);
		ck_assert_int_eq(dt_journal_pause_note(j, d, -1), 0);
	}
	/* but no more at once than there are slots */
	for (d = 1; d <= DT_JOURNAL_PAUSE_SLOTS; d++)
		ck_assert_int_eq(dt_journal_pause_note(j, d, +1), 0);
	ck_assert_int_eq(dt_journal_pause_note(j, d, +1), -ENOSPC);
	ck_assert_uint_eq(dt_journal_pauses(j, DT_JOURNAL_PAUSE_SLOTS), 1);
	dt_journal_pause_note(NULL, 1, +1); /* no journal: nothing to record, no crash */
	dt_journal_free(j);
}
END_TEST

/* ---- a fake backend for the guardian: what it was asked, in memory shared with it ---- */

struct fake_calls {
	atomic_int opens, closes, recovers;
	uint32_t domids[8];
	size_t nsites[8];
	uint64_t first_gpa[8];
	unsigned pauses[8];
};

static struct fake_calls *calls; /* MAP_SHARED: the guardian is another process */
static struct dt_hv *const fake_host = (struct dt_hv *)&calls;

static int fake_open(const void *params, struct dt_hv **ret_hv)
{
	(void)params;
	atomic_fetch_add(&calls->opens, 1);
	*ret_hv = fake_host;
	return 0;
}

static void fake_close(struct dt_hv *hv)
{
	if (hv == fake_host)
		atomic_fetch_add(&calls->closes, 1);
}

static int fake_recover(struct dt_hv *hv, uint32_t domid, const struct dt_guard_site *sites,
			size_t n, unsigned pauses, struct dt_guard_result *ret)
{
	int k = atomic_fetch_add(&calls->recovers, 1);

	ck_assert_ptr_eq(hv, fake_host);
	if (k < 8) {
		calls->domids[k] = domid;
		calls->nsites[k] = n;
		calls->first_gpa[k] = n ? sites[0].gpa : 0;
		calls->pauses[k] = pauses;
	}
	if (domid == 9)
		return -ENODEV; /* a domain destroyed meanwhile */
	*ret = (struct dt_guard_result){ .restored = (unsigned)n, .vcpus = 2 };
	return 0;
}

static const struct dt_hv_ops fake_ops = {
	.name = "fake",
	.abi = DT_HV_ABI,
	.open = fake_open,
	.close = fake_close,
	.recover = fake_recover,
};

static void calls_setup(void)
{
	calls = mmap(NULL, sizeof(*calls), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		     -1, 0);
	ck_assert_ptr_ne(calls, MAP_FAILED);
	memset(calls, 0, sizeof(*calls));
}

/* The k-th recover call the fake saw: for domid, with n sites and that many pauses. */
static void expect_recover(int k, uint32_t domid, size_t nsites, unsigned pauses)
{
	ck_assert_int_gt(atomic_load(&calls->recovers), k);
	ck_assert_uint_eq(calls->domids[k], domid);
	ck_assert_uint_eq(calls->nsites[k], nsites);
	ck_assert_uint_eq(calls->pauses[k], pauses);
}

static bool alive(pid_t pid)
{
	int st;

	return waitpid(pid, &st, WNOHANG) == 0;
}

START_TEST(guardian_ignores_operator_signals_and_does_nothing_after_a_clean_end)
{
	struct dt_journal *j;
	struct dt_guardian *g;
	struct timespec pause = { 0, 200 * 1000 * 1000 };
	pid_t pid;

	calls_setup();
	ck_assert_int_eq(dt_journal_new(8, &j), 0);
	ck_assert_int_eq(dt_guardian_start(&fake_ops, NULL, j, &g), 0);
	pid = dt_guardian_pid(g);
	ck_assert_int_gt(pid, 0);
	kill(pid, SIGTERM);
	kill(pid, SIGINT);
	kill(pid, SIGHUP);
	kill(pid, SIGUSR1);
	kill(pid, SIGUSR2);
	kill(pid, SIGABRT); /* systemd's watchdog signals the whole service */
	nanosleep(&pause, NULL);
	ck_assert_msg(alive(pid), "a signal for domtrace took the guardian down");
	ck_assert_int_eq(dt_guardian_finish(g), 0);
	ck_assert_int_eq(atomic_load(&calls->opens), 0); /* empty journal: Xen not even opened */
	ck_assert_int_eq(atomic_load(&calls->recovers), 0);
	dt_journal_free(j);
}
END_TEST

START_TEST(guardian_recovers_what_the_writer_left)
{
	struct dt_journal *j;
	struct dt_guardian *g;
	struct dt_guard_site s;
	uint32_t id;
	int i;

	calls_setup();
	ck_assert_int_eq(dt_journal_new(64, &j), 0);
	ck_assert_int_eq(dt_guardian_start(&fake_ops, NULL, j, &g), 0);
	for (i = 0; i < 3; i++) {
		s = site_at(0x10000 + 0x10 * (uint64_t)i, 5, (uint8_t)i);
		ck_assert_int_eq(dt_journal_add(j, 3, &s, &id), 0);
	}
	s = site_at(0x9000, 1, 7);
	ck_assert_int_eq(dt_journal_add(j, 9, &s, &id), 0);
	/* closing the pipe is what the guardian sees when we die: it must recover */
	ck_assert_int_eq(dt_guardian_finish(g), 0);
	ck_assert_int_eq(atomic_load(&calls->opens), 1);
	ck_assert_int_eq(atomic_load(&calls->closes), 1);
	ck_assert_int_eq(atomic_load(&calls->recovers), 2);
	expect_recover(0, 3, 3, 0);
	ck_assert_uint_eq(calls->first_gpa[0], 0x10000);
	expect_recover(1, 9, 1, 0);
	dt_journal_free(j);
}
END_TEST

/* Killed while holding a pause, before any breakpoint: the guardian still has work. */
START_TEST(guardian_releases_a_pause_without_breakpoints)
{
	struct dt_journal *j;
	struct dt_guardian *g;

	calls_setup();
	ck_assert_int_eq(dt_journal_new(8, &j), 0);
	ck_assert_int_eq(dt_guardian_start(&fake_ops, NULL, j, &g), 0);
	ck_assert_int_eq(dt_journal_pause_note(j, 11, +1), 0);
	ck_assert_int_eq(dt_guardian_finish(g), 0);
	ck_assert_int_eq(atomic_load(&calls->recovers), 1);
	expect_recover(0, 11, 0, 1);
	dt_journal_free(j);
}
END_TEST

START_TEST(guardian_recovers_after_sigkill_of_domtrace)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	int st, i;
	pid_t pid;

	calls_setup();
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* "domtrace": a journal, a guardian, two breakpoints, then SIGKILL */
		struct dt_journal *j;
		struct dt_guardian *g;
		struct dt_guard_site s = site_at(0x7000, 1, 0x0f);
		uint32_t id;

		if (dt_journal_new(8, &j) < 0 || dt_guardian_start(&fake_ops, NULL, j, &g) < 0 ||
		    dt_journal_add(j, 4, &s, &id) < 0 || dt_journal_add(j, 4, &s, &id) < 0)
			_exit(1);
		raise(SIGKILL);
		_exit(2);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	for (i = 0; i < 1000 && atomic_load(&calls->closes) == 0; i++)
		nanosleep(&tick, NULL);
	ck_assert_int_eq(atomic_load(&calls->recovers), 1);
	expect_recover(0, 4, 2, 0);
	ck_assert_uint_eq(calls->first_gpa[0], 0x7000);
}
END_TEST

/* ---- the engine on the simulated host: the journal is exactly what we wrote ---- */

#define BUSY_CONFIG "Functions openat, read, write, close, getpid, sys_execve, wait4\n"
#define MORE_CONFIG "Functions openat, read, close, kill, socket, connect\n"

/* Every journal site of every VM holds its armed bytes; returns how many there are. */
static size_t check_sites_armed(struct dt_harness *h, struct dt_journal *j)
{
	struct dt_guard_site *sites;
	size_t v, i, n, total = 0;
	uint8_t now[DT_GUARD_SITE_MAX];

	for (v = 0; v < h->nvms; v++) {
		n = dt_journal_sites(j, h->domids[v], NULL, 0);
		ck_assert_uint_gt(n, 0);
		sites = calloc(n, sizeof(*sites));
		ck_assert_ptr_nonnull(sites);
		ck_assert_uint_eq(dt_journal_sites(j, h->domids[v], sites, n), n);
		for (i = 0; i < n; i++) {
			ck_assert_int_eq(dt_sim_phys_read(h->host, h->domids[v], sites[i].gpa, now,
							  sites[i].len), 0);
			ck_assert_mem_eq(now, sites[i].armed, sites[i].len);
			ck_assert(memcmp(sites[i].orig, sites[i].armed, sites[i].len) != 0);
		}
		free(sites);
		total += n;
	}
	ck_assert_uint_eq(total, dt_journal_count(j));
	return total;
}

/* Two busy VMs traced with a journal; returns once traps flow. */
static struct dt_journal *start_journaled(struct dt_harness *h)
{
	struct dt_journal *j;

	ck_assert_int_eq(dt_journal_new(0, &j), 0);
	dt_harness_init(h, 2);
	h->sp.workload = true;
	h->sp.rate = 2000;
	h->o.journal = j;
	dt_harness_start(h, BUSY_CONFIG, NULL);
	ck_assert(dt_harness_wait_traps(h, 300, 20000));
	return j;
}

START_TEST(journal_names_every_armed_byte_and_is_empty_after_detach)
{
	struct dt_harness h;
	struct dt_journal *j;
	size_t before, after;
	char *line;

	j = start_journaled(&h);
	before = check_sites_armed(&h, j);
	/* a reload arms some, disarms others: the journal follows */
	dt_harness_write_config(&h, MORE_CONFIG);
	ck_assert_int_eq(dt_daemon_reload(h.d), 0);
	/* the workers re-plan on their own threads: wait until both trace a new function */
	line = dt_harness_wait_line(&h, 20000, "\"vm\":\"sim-vm0\"", "\"func\":\"sys_kill\"", NULL);
	ck_assert_ptr_nonnull(line);
	free(line);
	line = dt_harness_wait_line(&h, 20000, "\"vm\":\"sim-vm1\"", "\"func\":\"sys_kill\"", NULL);
	ck_assert_ptr_nonnull(line);
	free(line);
	after = check_sites_armed(&h, j);
	ck_assert_uint_ne(before, after);
	/* both re-planned: every whole-domain pause taken for it was given back */
	ck_assert_uint_eq(dt_journal_pauses(j, h.domids[0]), 0);
	ck_assert_uint_eq(dt_journal_pauses(j, h.domids[1]), 0);
	dt_harness_finish(&h); /* detach: guests identical, nothing paused */
	ck_assert_uint_eq(dt_journal_count(j), 0);
	ck_assert(dt_journal_empty(j)); /* nothing for a guardian: no pause noted either */
	dt_harness_free(&h);
	dt_journal_free(j);
}
END_TEST

START_TEST(restoring_the_journal_alone_leaves_guests_identical)
{
	struct dt_harness h;
	struct dt_journal *j;
	struct dt_guard_site *sites;
	uint8_t now[DT_GUARD_SITE_MAX];
	size_t v, i, n;

	j = start_journaled(&h);
	/* What the guardian does after a SIGKILL, done behind the running daemon's back:
	 * put back the orig bytes of every journal site that holds its armed bytes. */
	for (v = 0; v < h.nvms; v++) {
		n = dt_journal_sites(j, h.domids[v], NULL, 0);
		sites = calloc(n ? n : 1, sizeof(*sites));
		ck_assert_ptr_nonnull(sites);
		n = dt_journal_sites(j, h.domids[v], sites, n);
		for (i = 0; i < n; i++) {
			ck_assert_int_eq(dt_sim_phys_read(h.host, h.domids[v], sites[i].gpa, now,
							  sites[i].len), 0);
			if (memcmp(now, sites[i].armed, sites[i].len) == 0)
				ck_assert_int_eq(dt_sim_phys_write(h.host, h.domids[v], sites[i].gpa,
								   sites[i].orig, sites[i].len), 0);
		}
		free(sites);
	}
	/* finish() compares every VM's kernel with its snapshot from before the attach: the
	 * journal alone must have been enough to make them identical (the daemon finds no
	 * bytes of its own left and says the guest rewrote them) */
	dt_harness_finish(&h);
	ck_assert_uint_eq(dt_journal_count(j), 0);
	dt_harness_free(&h);
	dt_journal_free(j);
}
END_TEST

/* While a worker holds its domain paused (at attach, held on purpose by the test hook), the
 * journal says so: a guardian would release it. Given back once the worker unpauses. */
struct pause_watch {
	struct dt_journal *j;
	atomic_bool stop;
	unsigned most;
};

static void *watch_pauses(void *arg)
{
	struct pause_watch *pw = arg;
	struct timespec tick = { 0, 1000 * 1000 };

	while (!atomic_load(&pw->stop)) {
		unsigned n = dt_journal_pauses(pw->j, 1);

		if (n > pw->most)
			pw->most = n;
		nanosleep(&tick, NULL);
	}
	return NULL;
}

START_TEST(a_pause_held_is_in_the_journal_until_given_back)
{
	struct pause_watch pw = { 0 };
	struct dt_harness h;
	pthread_t th;

	ck_assert_int_eq(dt_journal_new(0, &pw.j), 0);
	dt_harness_init(&h, 1);
	h.o.journal = pw.j;
	ck_assert_int_eq(setenv("DOMTRACE_TEST_HOLD_PAUSED_MS", "1000", 1), 0);
	ck_assert_int_eq(pthread_create(&th, NULL, watch_pauses, &pw), 0);
	dt_harness_start(&h, BUSY_CONFIG, NULL); /* returns once attached: after the hold */
	atomic_store(&pw.stop, true);
	pthread_join(th, NULL);
	unsetenv("DOMTRACE_TEST_HOLD_PAUSED_MS");
	ck_assert_uint_eq(pw.most, 1);
	ck_assert_uint_eq(dt_journal_pauses(pw.j, 1), 0);
	ck_assert_uint_gt(dt_journal_count(pw.j), 0); /* the breakpoints stay noted */
	dt_harness_finish(&h);
	ck_assert(dt_journal_empty(pw.j));
	dt_harness_free(&h);
	dt_journal_free(pw.j);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("guard");
	TCase *tj = tcase_create("journal");
	TCase *tg = tcase_create("guardian");
	TCase *te = tcase_create("sim");

	tcase_add_test(tj, journal_add_drop_reuse);
	tcase_add_test(tj, journal_lists_domains_and_sites);
	tcase_add_test(tj, journal_is_shared_with_a_fork);
	tcase_add_test(tj, journal_counts_pauses_per_domain);
	tcase_add_test(tg, guardian_ignores_operator_signals_and_does_nothing_after_a_clean_end);
	tcase_add_test(tg, guardian_recovers_what_the_writer_left);
	tcase_add_test(tg, guardian_releases_a_pause_without_breakpoints);
	tcase_add_test(tg, guardian_recovers_after_sigkill_of_domtrace);
	tcase_set_timeout(te, 120);
	tcase_add_test(te, journal_names_every_armed_byte_and_is_empty_after_detach);
	tcase_add_test(te, restoring_the_journal_alone_leaves_guests_identical);
	tcase_add_test(te, a_pause_held_is_in_the_journal_until_given_back);
	suite_add_tcase(s, tj);
	suite_add_tcase(s, tg);
	suite_add_tcase(s, te);
	return dt_check_run(s);
}
