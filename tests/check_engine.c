// SPDX-License-Identifier: GPL-2.0-only
/*
 * The engine on the simulated host: breakpoints in, trapped, resumed, removed with every
 * guest byte identical afterwards; VMs appearing and disappearing while traced; reload
 * changing breakpoints by difference; both trap flavours.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domtrace/daemon.h"
#include "support/check_run.h"
#include "support/harness.h"
#include "worker.h"

#define BUSY_CONFIG "Functions openat, read, write, close, getpid, sys_execve, sys_clone, wait4\n"

static void start_busy(struct dt_harness *h, unsigned vms, enum dt_trap_flavour trap)
{
	dt_harness_init(h, vms);
	h->sp.workload = true;
	h->sp.rate = 2000;
	h->sp.trap = trap;
	dt_harness_start(h, BUSY_CONFIG, NULL);
}

START_TEST(trace_then_detach_leaves_guests_identical)
{
	struct dt_harness h;
	struct dt_sim_counters c;
	struct dt_trap_totals t;
	char work[160];

	start_busy(&h, 2, DT_TRAP_INT3);
	ck_assert_msg(dt_harness_wait_traps(&h, 500, 20000), "no traps");
	/* the workers time every trap they handle (--stats): one per trap taken so far */
	dt_daemon_totals(h.d, &t);
	ck_assert_uint_gt(dt_lat_count(&t.handling), 0);
	ck_assert_uint_le(dt_lat_count(&t.handling), t.traps);
	ck_assert_uint_gt(t.handling.sum_ns, 0);
	/* task and cred reads went by the guests' direct maps, none failed its check; and
	 * --stats says so (the mismatches only when there were any) */
	ck_assert_uint_gt(t.dmap_reads, 0);
	ck_assert_uint_eq(t.dmap_mismatches, 0);
	ck_assert_uint_gt(dt_daemon_work_text(&t, work, sizeof(work)), 0);
	ck_assert_ptr_nonnull(strstr(work, " walks, "));
	ck_assert_ptr_nonnull(strstr(work, " direct-map reads"));
	ck_assert_ptr_null(strstr(work, "mismatch"));
	t.dmap_mismatches = 1;
	ck_assert_uint_gt(dt_daemon_work_text(&t, work, sizeof(work)), 0);
	ck_assert_ptr_nonnull(strstr(work, " direct-map reads; 1 direct-map mismatches"));
	dt_harness_finish(&h);
	/* every trap the guests posted was answered by us (the sim counts a resume when the
	 * vCPU thread runs again, which may be just after our answer: give it a moment) */
	ck_assert(dt_harness_wait_resumed(&h, 5000));
	ck_assert_int_eq(dt_sim_counters(h.host, 0, &c), 0);
	ck_assert_uint_eq(c.traps, c.resumes);
	ck_assert_uint_ge(c.traps, 500);
	/* both kernel flavours were traced */
	ck_assert_uint_gt(dt_harness_count_lines(&h, "\"vm\":\"sim-vm0\"", "\"type\":\"call\"", NULL), 0);
	ck_assert_uint_gt(dt_harness_count_lines(&h, "\"vm\":\"sim-vm1\"", "\"type\":\"call\"", NULL), 0);
	dt_harness_free(&h);
}
END_TEST

START_TEST(sgdt_flavour_traces_and_restores)
{
	struct dt_harness h;

	start_busy(&h, 2, DT_TRAP_SGDT);
	ck_assert_msg(dt_harness_wait_traps(&h, 300, 20000), "no traps");
	dt_harness_finish(&h);
	dt_harness_free(&h);
}
END_TEST

START_TEST(vm_created_while_running_is_traced)
{
	struct dt_sim_vm_params vp = { .name = "late-vm", .flavour = DT_SIM_FLAVOUR_66 };
	struct dt_harness h;
	char *line;

	start_busy(&h, 1, DT_TRAP_INT3);
	ck_assert(dt_harness_wait_traps(&h, 50, 20000));
	/* snapshotted before the watcher can see it: it may attach at once, and the snapshot
	 * compares text + rodata, which our breakpoints are the only writers of */
	(void)dt_harness_create_vm(&h, &vp);
	line = dt_harness_wait_line(&h, 20000, "\"vm\":\"late-vm\"", "\"type\":\"call\"", NULL);
	ck_assert_msg(line != NULL, "the VM created while running was never traced");
	free(line);
	dt_harness_finish(&h);
	dt_harness_free(&h);
}
END_TEST

START_TEST(vm_destroyed_while_traced)
{
	struct dt_harness h;
	struct dt_trap_totals t;
	uint64_t before;

	start_busy(&h, 2, DT_TRAP_INT3);
	ck_assert(dt_harness_wait_traps(&h, 300, 20000));
	/* vCPUs of dom of VM 1 are trapping all the time: some are paused in a trap now */
	ck_assert_int_eq(dt_sim_vm_destroy(h.host, h.domids[1]), 0);
	dt_daemon_totals(h.d, &t);
	before = t.traps;
	/* the other VM goes on being traced */
	ck_assert(dt_harness_wait_traps(&h, before + 300, 20000));
	dt_harness_finish(&h);
	dt_harness_free(&h);
}
END_TEST

/* Workers whose trap counters are still live (not yet folded into the retired sum). */
static unsigned counted_workers(struct dt_daemon *d)
{
	struct dt_worker *w;
	unsigned n = 0;

	pthread_mutex_lock(&d->counters_lock);
	for (w = d->counted; w; w = w->counted)
		n++;
	pthread_mutex_unlock(&d->counters_lock);
	return n;
}

/*
 * --stats sums per-worker counters: a worker that ends hands its counts to the daemon's
 * retired sum, so the totals never go down when a VM goes (before, one set of shared
 * counters; a lost fold would drop the gone VM's traps from every later --stats).
 */
START_TEST(totals_survive_a_worker_ending)
{
	struct dt_harness h;
	struct dt_trap_totals t0, t1;
	uint64_t last = 0;
	int stable = 0, i;

	start_busy(&h, 2, DT_TRAP_INT3);
	ck_assert(dt_harness_wait_traps(&h, 300, 20000));
	ck_assert_int_eq(dt_sim_vm_workload(h.host, h.domids[0], false), 0);
	ck_assert_int_eq(dt_sim_vm_workload(h.host, h.domids[1], false), 0);
	/* wait (bounded) until no more traps come: the counts are then fixed */
	for (i = 0; i < 2000 && stable < 5; i++) {
		dt_daemon_totals(h.d, &t0);
		stable = t0.traps == last ? stable + 1 : 0;
		last = t0.traps;
		usleep(20000);
	}
	ck_assert_msg(stable >= 5, "the guests never stopped trapping");
	ck_assert_uint_eq(counted_workers(h.d), 2);
	ck_assert_int_eq(dt_sim_vm_destroy(h.host, h.domids[1]), 0);
	for (i = 0; i < 3000 && counted_workers(h.d) != 1; i++)
		usleep(20000);
	ck_assert_uint_eq(counted_workers(h.d), 1);
	dt_daemon_totals(h.d, &t1);
	ck_assert_uint_ge(t1.traps, t0.traps);
	ck_assert_uint_ge(t1.calls, t0.calls);
	ck_assert_uint_ge(t1.returns, t0.returns);
	ck_assert_uint_ge(dt_lat_count(&t1.handling), dt_lat_count(&t0.handling));
	ck_assert_uint_gt(h.d->retired.traps, 0);
	dt_harness_finish(&h);
	dt_harness_free(&h);
}
END_TEST

START_TEST(reload_changes_breakpoints_by_difference)
{
	struct dt_harness h;
	size_t closes;
	char *line;

	dt_harness_init(&h, 1);
	h.sp.workload = true;
	h.sp.rate = 2000;
	dt_harness_start(&h, "Functions openat\n", NULL);
	line = dt_harness_wait_line(&h, 20000, "\"func\":\"sys_openat\"", NULL);
	ck_assert_ptr_nonnull(line);
	free(line);
	ck_assert_uint_eq(dt_harness_count_lines(&h, "\"func\":\"sys_close\"", NULL), 0);

	dt_harness_write_config(&h, "Functions openat, close\n");
	ck_assert_int_eq(dt_daemon_reload(h.d), 0);
	line = dt_harness_wait_line(&h, 20000, "\"func\":\"sys_close\"", NULL);
	ck_assert_msg(line != NULL, "close not traced after reload");
	free(line);

	/* a broken config changes nothing */
	dt_harness_write_config(&h, "Functions openat, close\nFilter function=no_such_call\n");
	ck_assert_int_lt(dt_daemon_reload(h.d), 0);
	closes = dt_harness_count_lines(&h, "\"func\":\"sys_close\"", NULL);
	line = NULL;
	for (int i = 0; i < 200 && dt_harness_count_lines(&h, "\"func\":\"sys_close\"", NULL) == closes; i++)
		usleep(10000);
	ck_assert_uint_gt(dt_harness_count_lines(&h, "\"func\":\"sys_close\"", NULL), closes);

	/* back to openat only: close's breakpoints go, its bytes are restored at once */
	dt_harness_write_config(&h, "Functions openat\n");
	ck_assert_int_eq(dt_daemon_reload(h.d), 0);
	dt_harness_finish(&h);
	dt_harness_free(&h);
}
END_TEST

/* Detach while a traced call is blocked (a wait4 whose child waits at a gate the test
 * opens only after the detach; a sleep raced a loaded CI machine): when it returns later,
 * the return probe is gone and the guest neither traps nor crashes, and its entry is
 * reported as unfinished. The simulated init calls wait4 too: only pid 950's counts. */
START_TEST(detach_with_call_in_flight)
{
	static const char scn[] = "proc 950 comm=parent\n"
				  "proc 951 forked\n"
				  "950 call fork child=951 label=fk\n"
				  "951 await detached\n"
				  "950 call wait4 $fk int:0 0 0 label=wait\n";
	struct dt_harness h;
	struct dt_sim_call c;
	char *line;

	dt_harness_init(&h, 1);
	/* the match filter reports pid 950's wait4 at its entry: then it is in flight */
	dt_harness_start(&h, "Functions wait4, fork\nFilter function=wait4, pid=950\n", scn);
	line = dt_harness_wait_line(&h, 20000, "\"type\":\"match\"", "\"func\":\"sys_wait4\"",
				    "\"pid\":950", NULL);
	ck_assert_msg(line != NULL, "pid 950's wait4 entry not seen");
	free(line);
	ck_assert_int_eq(dt_sim_call_outcome(h.host, "wait", &c), -EAGAIN);
	dt_harness_finish(&h); /* detach now; bytes identical, nothing paused */
	ck_assert_int_eq(dt_sim_call_outcome(h.host, "wait", &c), -EAGAIN);
	/* the call still returns in the guest, untraced */
	ck_assert_int_eq(dt_sim_gate_open(h.host, "detached"), 0);
	ck_assert_int_eq(dt_sim_call_wait(h.host, "wait", 20000, &c), 0);
	ck_assert_int_eq(c.ret, 951);
	ck_assert_uint_eq(dt_sim_crashes(h.host, 0, NULL, 0), 0);
	ck_assert_uint_eq(dt_sim_paused_vcpus(h.host, 0), 0);
	/* and its entry was reported as unfinished, not lost */
	line = dt_harness_wait_line(&h, 5000, "\"func\":\"sys_wait4\"", "\"pid\":950",
				    "\"unfinished\":true", NULL);
	if (!line)
		line = dt_harness_wait_line(&h, 0, "\"func\":\"sys_wait4\"", "\"pid\":950", NULL);
	ck_assert_msg(line && strstr(line, "\"unfinished\":true") && strstr(line, "\"when\":\"pre\""),
		      "wait4's entry not reported as unfinished; its line: %s", line ? line : "none");
	free(line);
	dt_harness_free(&h);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("engine");
	TCase *tc = tcase_create("sim");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, trace_then_detach_leaves_guests_identical);
	tcase_add_test(tc, sgdt_flavour_traces_and_restores);
	tcase_add_test(tc, vm_created_while_running_is_traced);
	tcase_add_test(tc, vm_destroyed_while_traced);
	tcase_add_test(tc, totals_survive_a_worker_ending);
	tcase_add_test(tc, reload_changes_breakpoints_by_difference);
	tcase_add_test(tc, detach_with_call_in_flight);
	suite_add_tcase(s, tc);
	return dt_check_run(s);
}
