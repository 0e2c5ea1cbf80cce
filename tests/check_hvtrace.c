// SPDX-License-Identifier: GPL-2.0-only
/*
 * -x, -xx and -ddd: the tracing pass-through over the hypervisor backend logs what each
 * level promises (failed calls; ring events; guest reads), nothing of the others, and
 * changes nothing: the daemon traces a simulated VM through it, the VM is destroyed
 * while traced, and the calls that then fail are named with their errno.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domtrace/log.h"
#include "domtrace/daemon.h"
#include "domtrace/hvtrace.h"
#include "domtrace/options.h"
#include "domtrace/sim.h"
#include "support/a3_receiver.h"
#include "support/check_run.h"

#define WAIT_MS 20000

struct run {
	char dir[256];
	char log[300];
	char *text; /* what was logged on stderr */
};

static char *read_all(const char *path)
{
	size_t len;
	char *s = dt_test_read_file(path, &len);

	return s ? s : strdup("");
}

/* Poll the captured stderr until it holds `needle`: true, or false after WAIT_MS. */
static bool wait_logged(const char *path, const char *needle)
{
	for (int waited = 0; waited < WAIT_MS; waited += 20) {
		char *s = read_all(path);
		bool found = strstr(s, needle) != NULL;

		free(s);
		if (found)
			return true;
		usleep(20000);
	}
	return false;
}

/* The end of what was logged, for a failure's message: Check's messages are capped
 * (CK_MAX_MSG_SIZE, 4 KiB by default) and a longer one ends the test with no verdict. */
static const char *tail_of(const char *text)
{
	size_t len = strlen(text);

	return len > 3000 ? text + len - 3000 : text;
}

#define ck_assert_logged(r, needle) \
	ck_assert_msg(strstr((r)->text, needle) != NULL, "no \"%s\" in ...%s", needle, tail_of((r)->text))

/* Trace one simulated VM through the wrapper with `flags`, destroy it while traced, wait
 * until `last` is logged (the worker's own "gone" when NULL), and keep what was logged. */
static void run_traced(struct run *r, unsigned flags, const char *last)
{
	char *argv[] = { (char *)"domtrace", NULL };
	const struct dt_hv_ops *ops;
	struct dt_sim_params p;
	struct dt_options o;
	struct dt_daemon *d = NULL;
	struct dt_hv *hv = NULL;
	struct dt_trap_totals t;
	int saved, fd;

	ck_assert_int_eq(dt_test_tmpdir(r->dir, sizeof(r->dir)), 0);
	snprintf(r->log, sizeof(r->log), "%s/stderr.txt", r->dir);
	fd = open(r->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	saved = dup(STDERR_FILENO);
	ck_assert_int_ge(saved, 0);
	ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);
	close(fd);
	dt_log_set_level(DT_LOG_INFO);

	dt_sim_params_default(&p);
	p.n_vms = 1;
	p.rate = 0; /* the workload as fast as it goes: traps at once */
	p.sysmap_dir = r->dir;
	ops = dt_hvtrace_wrap(&dt_hv_sim, flags);
	ck_assert_int_eq(ops->open(&p, &hv), 0);
	ck_assert_int_eq(dt_options_parse(&o, 1, argv), 0);
	o.backend = DT_BACKEND_SIM;
	o.format = DT_FORMAT_NONE;
	o.sysmap_dir = r->dir;
	ck_assert_int_eq(dt_daemon_start(&o, ops, hv, &d), 0);
	ck_assert(dt_daemon_wait_attached(d, 1, WAIT_MS));
	for (int waited = 0; waited < WAIT_MS; waited += 10) {
		dt_daemon_totals(d, &t);
		if (t.traps >= 50)
			break;
		usleep(10000);
	}
	ck_assert_uint_ge(t.traps, 50);
	ck_assert_int_eq(dt_sim_vm_destroy(dt_sim_host_from(hv), 1), 0);
	ck_assert(wait_logged(r->log, "(dom1): gone"));
	/* the watcher's note of the same end comes on its own thread, maybe later */
	if (last)
		ck_assert(wait_logged(r->log, last));
	dt_daemon_stop(d);
	ck_assert_uint_eq(dt_sim_crashes(dt_sim_host_from(hv), 0, NULL, 0), 0);
	ops->close(hv);
	dt_options_free(&o);

	fflush(stderr);
	ck_assert_int_ge(dup2(saved, STDERR_FILENO), 0);
	close(saved);
	r->text = read_all(r->log);
}

static void run_free(struct run *r)
{
	free(r->text);
	dt_test_rmdir(r->dir);
}

START_TEST(x_logs_failed_calls_only)
{
	struct run r;

	run_traced(&r, dt_hvtrace_flags_for(1, 0), NULL);
	/* the domain went away under the worker: its next call failed, with ENODEV */
	ck_assert_logged(&r, "(dom1");
	ck_assert_logged(&r, ") failed: ENODEV");
	ck_assert_ptr_null(strstr(r.text, "hv: trap:"));
	ck_assert_ptr_null(strstr(r.text, "hv: answer:"));
	ck_assert_ptr_null(strstr(r.text, "hv: read_va(dom1, cr3")); /* a failed one may show */
	run_free(&r);
}
END_TEST

START_TEST(xx_adds_ring_events)
{
	struct run r;

	run_traced(&r, dt_hvtrace_flags_for(2, 0), "hv: note: dom1 gone");
	ck_assert_logged(&r, "hv: note: dom1 gone");
	ck_assert_logged(&r, "hv: trap: dom1 vcpu ");
	ck_assert_logged(&r, "hv: answer: dom1 vcpu ");
	ck_assert_logged(&r, " resumes at 0x");
	ck_assert_logged(&r, "failed: ENODEV");
	ck_assert_ptr_null(strstr(r.text, "hv: read_va(dom1, cr3")); /* a failed one may show */
	run_free(&r);
}
END_TEST

START_TEST(ddd_adds_guest_reads)
{
	struct run r;

	ck_assert_uint_eq(dt_hvtrace_flags_for(0, 2), 0); /* -dd: no hypervisor tracing */
	run_traced(&r, dt_hvtrace_flags_for(0, 3), NULL);
	ck_assert_logged(&r, "hv: read_va(dom1, cr3 0x");
	ck_assert_ptr_null(strstr(r.text, "hv: trap:"));
	ck_assert_ptr_null(strstr(r.text, "failed:"));
	run_free(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hvtrace");
	TCase *tc = tcase_create("levels");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, x_logs_failed_calls_only);
	tcase_add_test(tc, xx_adds_ring_events);
	tcase_add_test(tc, ddd_adds_guest_reads);
	suite_add_tcase(s, tc);
	return dt_check_run(s);
}
