// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reload while guests trap at full rate: the chain is swapped under RCU and each VM's
 * breakpoints change by difference, thousands of times, with no window in which a
 * function wanted by both configs is unprobed; VMs enabled and disabled by name change
 * alone; a broken config leaves everything as it was.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "worker.h"
#include "support/check_run.h"
#include "support/harness.h"

static struct dt_worker *worker_of(struct dt_daemon *d, const char *vm)
{
	struct dt_worker *w;

	pthread_mutex_lock(&d->vms_lock);
	for (w = d->workers; w; w = w->next)
		if (!strcmp(w->vm.name, vm) && atomic_load(&w->state) == DT_WORKER_RUNNING)
			break;
	pthread_mutex_unlock(&d->vms_lock);
	return w;
}

START_TEST(reload_storm_while_trapping)
{
	static const char *const cfg[2] = {
		"Functions openat, close, read\n",
		"Functions openat, write\nFilter function=openat, argname=filename, argval=passwd\n",
	};
	struct dt_harness h;
	size_t opens_before, opens_after;
	int i;

	dt_harness_init(&h, 2);
	h.sp.workload = true;
	h.sp.rate = 5000;
	h.o.returns = false; /* entries only: the most reloads per second */
	dt_harness_start(&h, cfg[0], NULL);
	ck_assert(dt_harness_wait_traps(&h, 200, 20000));
	opens_before = dt_harness_count_lines(&h, "\"func\":\"sys_openat\"", NULL);
	for (i = 1; i <= 2000; i++) {
		dt_harness_write_config(&h, cfg[i & 1]);
		ck_assert_int_eq(dt_daemon_reload(h.d), 0);
	}
	/* openat is wanted by both configs: it kept being traced through the storm */
	for (i = 0; i < 2000; i++) { /* up to 20 s: a loaded machine is slow, not wrong */
		opens_after = dt_harness_count_lines(&h, "\"func\":\"sys_openat\"", NULL);
		if (opens_after > opens_before)
			break;
		usleep(10000);
	}
	ck_assert_uint_gt(opens_after, opens_before);
	/* the last config (2000 is even: cfg[0]) is in force once both workers re-planned, on
	 * their own threads after the reload returned: read is traced, write no more. The log
	 * is the queue's order (one FIFO), so once a read line newer than a count of the write
	 * lines is out, every write traced before it is out too: when no write came in such a
	 * window, none is traced any longer. Timing-free, whatever the machine's load. */
	{
		size_t writes = 0, reads;
		struct dt_sim_counters c;
		int k;

		ck_assert_uint_gt(dt_harness_count_lines(&h, "\"func\":\"sys_write\"", NULL), 0);
		for (i = 0; i < 40; i++) {
			writes = dt_harness_count_lines(&h, "\"func\":\"sys_write\"", NULL);
			reads = dt_harness_count_lines(&h, "\"func\":\"sys_read\"", NULL);
			for (k = 0; k < 2000 && dt_harness_count_lines(&h, "\"func\":\"sys_read\"",
								       NULL) == reads; k++)
				usleep(10000);
			ck_assert_msg(k < 2000, "read not traced after the last reload");
			if (dt_harness_count_lines(&h, "\"func\":\"sys_write\"", NULL) == writes)
				break;
		}
		ck_assert_msg(i < 40, "write still traced after the last reload");
		dt_harness_finish(&h);
		/* every trap the guests took was answered exactly once */
		ck_assert(dt_harness_wait_resumed(&h, 5000));
		ck_assert_int_eq(dt_sim_counters(h.host, 0, &c), 0);
		ck_assert_uint_eq(c.traps, c.resumes);
	}
	dt_harness_free(&h);
}
END_TEST

START_TEST(vms_enabled_and_disabled_by_name)
{
	struct dt_harness h;
	struct dt_worker *w2, *w0;
	uint64_t attached;
	char *line;

	dt_harness_init(&h, 3);
	h.sp.workload = true;
	h.sp.rate = 2000;
	dt_harness_start(&h, "Ignore sim-vm1\nFunctions openat, close\n", NULL);
	ck_assert_ptr_nonnull(worker_of(h.d, "sim-vm0"));
	ck_assert_ptr_null(worker_of(h.d, "sim-vm1"));
	w2 = worker_of(h.d, "sim-vm2");
	ck_assert_ptr_nonnull(w2);
	attached = atomic_load(&h.d->stats.attached);

	/* now vm0 is ignored and vm1 is not: only those two change */
	dt_harness_write_config(&h, "Ignore sim-vm0\nFunctions openat, close\n");
	ck_assert_int_eq(dt_daemon_reload(h.d), 0);
	ck_assert(dt_harness_wait_attached(&h, attached + 1 + atomic_load(&h.d->stats.refused), 20000));
	ck_assert_uint_eq(atomic_load(&h.d->stats.attached), attached + 1);
	ck_assert_ptr_null(worker_of(h.d, "sim-vm0"));
	ck_assert_ptr_nonnull(worker_of(h.d, "sim-vm1"));
	ck_assert_ptr_eq(worker_of(h.d, "sim-vm2"), w2); /* the same worker: untouched */
	line = dt_harness_wait_line(&h, 20000, "\"vm\":\"sim-vm1\"", NULL);
	ck_assert_ptr_nonnull(line);
	free(line);
	/* vm0 was detached at once: its kernel is already back to what it was */
	{
		uint64_t where = 0;
		uint32_t domid;
		size_t k;
		int r;

		ck_assert_int_eq(dt_sim_vm_find(h.host, "sim-vm0", &domid), 0);
		for (k = 0; k < h.nvms && h.domids[k] != domid; k++)
			;
		ck_assert_uint_lt(k, h.nvms);
		r = dt_sim_snapshot_compare(h.host, h.snaps[k], &where);

		ck_assert_msg(r == 0, "vm0 differs at 0x%llx", (unsigned long long)where);
	}
	/* a broken config changes nothing */
	w0 = worker_of(h.d, "sim-vm1");
	dt_harness_write_config(&h, "Ignore sim-vm2\nFilter function=openat, argval=\"(\"\n");
	ck_assert_int_lt(dt_daemon_reload(h.d), 0);
	ck_assert_ptr_eq(worker_of(h.d, "sim-vm2"), w2);
	ck_assert_ptr_eq(worker_of(h.d, "sim-vm1"), w0);
	dt_harness_finish(&h);
	dt_harness_free(&h);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("reload");
	TCase *tc = tcase_create("sim");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, reload_storm_while_trapping);
	tcase_add_test(tc, vms_enabled_and_disabled_by_name);
	suite_add_tcase(s, tc);
	return dt_check_run(s);
}
