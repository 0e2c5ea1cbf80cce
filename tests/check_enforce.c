// SPDX-License-Identifier: GPL-2.0-only
/*
 * Enforcement on the simulated host: an abort filter must neither crash a guest nor be
 * bypassed. Each test reproduces one way it could (a never-returning function, a path
 * on a page not present at entry, a second thread rewriting the path after entry, a
 * regex that hits PCRE2's limits) and checks what the guest saw.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/check_run.h"
#include "support/harness.h"

#define WAIT_MS 20000

static void expect_line(struct dt_harness *h, const char *what, const char *n1, const char *n2,
			const char *n3)
{
	char *line = dt_harness_wait_line(h, WAIT_MS, n1, n2 ? n2 : n1, n3 ? n3 : n1, NULL);

	ck_assert_msg(line != NULL, "no event: %s (%s %s %s)", what, n1, n2 ? n2 : "", n3 ? n3 : "");
	free(line);
}

static void call_wait(struct dt_harness *h, const char *label, struct dt_sim_call *c)
{
	ck_assert_msg(dt_sim_call_wait(h->host, label, WAIT_MS, c) == 0, "call %s never completed",
		      label);
}

/*
 * `Filter name=victim,apply=1` (no function=) with exit_group and do_exit traced: the
 * process's getpid is aborted, but its exit_group and do_exit are only reported; the
 * process dies as it asked. Aborting either would crash the guest (the sim says so).
 */
START_TEST(name_only_abort_never_touches_exit)
{
	static const char scn[] = "proc 940 comm=victim\n"
				  "940 call getpid label=g\n"
				  "940 exit 7\n"
				  "proc 941 comm=victim\n"
				  "941 segv\n";
	struct dt_harness h;
	struct dt_sim_call c;

	dt_harness_init(&h, 1);
	dt_harness_start(&h,
			 "Functions getpid,exit_group,do_exit\n"
			 "Filter name=victim,apply=1,retval=-EPERM\n",
			 scn);
	call_wait(&h, "g", &c);
	ck_assert_int_eq(c.ret, -1);
	ck_assert(!c.body_ran);
	ck_assert_int_eq(dt_sim_scenario_wait(h.host, WAIT_MS), 0);
	expect_line(&h, "exit_group reported", "\"type\":\"match\"", "\"func\":\"sys_exit_group\"",
		    "\"pid\":940");
	expect_line(&h, "do_exit reported", "\"type\":\"match\"", "\"func\":\"do_exit\"", "\"pid\":940");
	expect_line(&h, "do_exit by signal reported", "\"type\":\"match\"", "\"func\":\"do_exit\"",
		    "\"pid\":941");
	ck_assert_uint_eq(dt_harness_count_lines(&h, "\"type\":\"abort\"", "\"func\":\"do_exit\"", NULL), 0);
	ck_assert_uint_eq(dt_harness_count_lines(&h, "\"type\":\"abort\"", "\"func\":\"sys_exit_group\"",
						 NULL),
			  0);
	dt_harness_finish(&h); /* no guest crash, kernel identical, nothing paused */
	dt_harness_free(&h);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("enforce");
	TCase *tc = tcase_create("sim");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, name_only_abort_never_touches_exit);
	suite_add_tcase(s, tc);
	return dt_check_run(s);
}
