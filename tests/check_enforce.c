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
#include <unistd.h>

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

/* The log is written by the reporter thread after the guest saw its calls complete:
 * wait (bounded) for n lines with the needles. */
static void expect_count(struct dt_harness *h, size_t n, const char *n1, const char *n2)
{
	size_t got = 0;
	int i;

	for (i = 0; i < WAIT_MS / 20; i++) {
		got = dt_harness_count_lines(h, n1, n2 ? n2 : n1, NULL);
		if (got >= n)
			break;
		usleep(20000);
	}
	ck_assert_msg(got == n, "%zu lines with %s %s, want %zu", got, n1, n2 ? n2 : "", n);
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

/*
 * A path on a page not present at entry (a file-backed page not touched yet): a filter
 * that does not read the path decides at entry and aborts; before, every decision of
 * such a call waited for the return and came too late ("would-abort").
 */
START_TEST(absent_page_name_filter_aborts_at_entry)
{
	static const char scn[] =
		"proc 950 comm=php-cgi uid=33 gid=33\n"
		"950 call openat AT_FDCWD np:\"/etc/hosts\" O_RDONLY 0 label=np1\n"
		"950 call openat AT_FDCWD np:\"/etc/passwd\" O_RDONLY 0 label=np2\n";
	struct dt_harness h;
	struct dt_sim_call c;

	dt_harness_init(&h, 1);
	dt_harness_start(&h,
			 "Functions openat\n"
			 "Filter function=openat,name=php-cgi,argname=flags,argval=O_RDONLY,"
			 "apply=1,retval=-EACCES\n",
			 scn);
	call_wait(&h, "np1", &c);
	ck_assert_int_eq(c.ret, -13);
	ck_assert(!c.body_ran);
	call_wait(&h, "np2", &c);
	ck_assert_int_eq(c.ret, -13);
	ck_assert(!c.body_ran);
	expect_line(&h, "abort", "\"type\":\"abort\"", "\"pid\":950", "\"abort_ret\":-13");
	ck_assert_uint_eq(dt_harness_count_lines(&h, "\"type\":\"would-abort\"", NULL), 0);
	dt_harness_finish(&h);
	dt_harness_free(&h);
}
END_TEST

/*
 * A path crafted to make the filter's regex backtrack past PCRE2's match limit: with the
 * default OnRegexError deny the abort filter takes it as a match and the call does not
 * run (before, the failure counted as "no match" and the open ran).
 */
START_TEST(regex_limit_cannot_dodge_abort)
{
	static const char scn[] =
		"proc 960 comm=reader\n"
		"960 call openat AT_FDCWD \"/x/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/etc/shadow\" "
		"O_RDONLY 0 label=evil\n"
		"960 call openat AT_FDCWD \"/etc/hosts\" O_RDONLY 0 label=fine\n";
	struct dt_harness h;
	struct dt_sim_call c;
	struct dt_trap_totals t;

	dt_harness_init(&h, 1);
	dt_harness_start(&h,
			 "Functions openat\n"
			 "Filter function=openat,argname=filename,argval=(a+)+b|shadow,apply=1\n",
			 scn);
	call_wait(&h, "evil", &c);
	ck_assert_int_eq(c.ret, -1);
	ck_assert(!c.body_ran);
	call_wait(&h, "fine", &c);
	ck_assert(c.body_ran);
	ck_assert_int_ge(c.ret, 0);
	expect_line(&h, "abort", "\"type\":\"abort\"", "\"pid\":960", "aaaa/etc/shadow");
	dt_daemon_totals(h.d, &t);
	ck_assert_uint_ge(t.regex_errors, 1);
	dt_harness_finish(&h);
	dt_harness_free(&h);
}
END_TEST

/*
 * The path an open's abort filter reads is decided on the kernel's own copy (at
 * do_filp_open): a second thread rewriting the string after the entry probe read it (the
 * classic syscall-wrapper race: the scenario's race=) cannot slip /etc/shadow past, and a
 * path on a page not present at entry is aborted too, not reported as would-abort.
 */
START_TEST(open_path_decided_on_kernel_copy)
{
	static const char scn[] =
		"proc 970 comm=racer\n"
		"970 call openat AT_FDCWD \"/etc/hosts\" O_RDONLY 0 race=\"/etc/shadow\" label=race\n"
		"970 call openat AT_FDCWD np:\"/etc/shadow\" O_RDONLY 0 label=absent\n"
		"970 call open \"/etc/shadow\" O_RDONLY 0 label=plain\n"
		"970 call openat AT_FDCWD \"/etc/shadow\" O_RDONLY 0 race=\"/etc/hosts\" label=benign\n"
		"970 call openat AT_FDCWD np:\"/etc/passwd\" O_RDONLY 0 label=other\n";
	struct dt_harness h;
	struct dt_sim_call c;

	dt_harness_init(&h, 1);
	dt_harness_start(&h,
			 "Functions openat,open\n"
			 "Filter function=openat,argname=filename,argval=^/etc/shadow$,apply=1,"
			 "retval=-EACCES\n"
			 "Filter function=open,argname=filename,argval=^/etc/shadow$,apply=1,"
			 "retval=-EACCES\n",
			 scn);
	call_wait(&h, "race", &c);
	ck_assert_int_eq(c.ret, -13);
	ck_assert(!c.body_ran);
	call_wait(&h, "absent", &c);
	ck_assert_int_eq(c.ret, -13);
	ck_assert(!c.body_ran);
	call_wait(&h, "plain", &c);
	ck_assert_int_eq(c.ret, -13);
	ck_assert(!c.body_ran);
	/* the kernel opens what it copied: /etc/hosts, not what the entry saw */
	call_wait(&h, "benign", &c);
	ck_assert(c.body_ran);
	ck_assert_int_ge(c.ret, 0);
	call_wait(&h, "other", &c);
	ck_assert(c.body_ran);
	ck_assert_int_ge(c.ret, 0);
	/* events name the path the kernel used */
	expect_line(&h, "race aborted", "\"type\":\"abort\"", "\"filename\":\"/etc/shadow\"",
		    "\"abort_ret\":-13");
	expect_count(&h, 3, "\"type\":\"abort\"", NULL);
	ck_assert_uint_eq(dt_harness_count_lines(&h, "\"type\":\"would-abort\"", NULL), 0);
	expect_line(&h, "benign opened", "\"func\":\"sys_openat\"", "\"filename\":\"/etc/hosts\"",
		    "\"when\":\"post\"");
	expect_line(&h, "absent path decoded", "\"func\":\"sys_openat\"", "\"filename\":\"/etc/passwd\"",
		    "\"when\":\"post\"");
	dt_harness_finish(&h);
	dt_harness_free(&h);
}
END_TEST

/* The same for execve: the path is decided on bprm->filename, the kernel's copy. */
START_TEST(exec_path_decided_on_kernel_copy)
{
	static const char scn[] =
		"proc 975 comm=php-cgi uid=33 gid=33\n"
		"975 call execve \"/bin/true\" [\"true\"] [] race=\"/usr/bin/nc\" label=race\n"
		"975 call execve np:\"/usr/bin/nc\" [\"nc\"] [] label=absent\n"
		"975 call execve \"/usr/bin/nc\" [\"nc\"] [] race=\"/usr/bin/id\" label=benign\n";
	struct dt_harness h;
	struct dt_sim_call c;

	dt_harness_init(&h, 1);
	dt_harness_start(&h,
			 "Functions execve\n"
			 "Filter function=sys_execve,argname=filename,argval=^/usr/bin/nc$,apply=1\n",
			 scn);
	call_wait(&h, "race", &c);
	ck_assert_int_eq(c.ret, -1);
	call_wait(&h, "absent", &c);
	ck_assert_int_eq(c.ret, -1);
	call_wait(&h, "benign", &c);
	ck_assert_int_eq(c.ret, 0);
	expect_count(&h, 2, "\"type\":\"abort\"", "\"filename\":\"/usr/bin/nc\"");
	ck_assert_uint_eq(dt_harness_count_lines(&h, "\"type\":\"would-abort\"", NULL), 0);
	dt_harness_finish(&h);
	dt_harness_free(&h);
}
END_TEST

/*
 * argname=filename:path is the file the open reached, rebuilt from the kernel's dentries
 * and mounts at security_file_open: a symbolic link (absolute or relative), a directory
 * fd with ../ and ../ components all reach /etc/shadow and are all aborted; a file on
 * the tmpfs mounted on /tmp is named across the mount.
 */
START_TEST(open_decided_on_the_file_reached)
{
	static const char scn[] =
		"proc 980 comm=reader\n"
		"980 call openat AT_FDCWD \"/tmp/x\" O_RDONLY 0 label=symlink\n"
		"980 call open \"/var/www/html/s\" O_RDONLY 0 label=rellink\n"
		"980 call openat AT_FDCWD \"/var/www/html\" O_RDONLY|O_DIRECTORY 0 label=dir\n"
		"980 call openat $dir \"../../../etc/shadow\" O_RDONLY 0 label=dirfd\n"
		"980 call open \"/var/www/html/../../../etc/./shadow\" O_RDONLY 0 label=dotdot\n"
		"980 call openat AT_FDCWD \"/tmp/new\" O_WRONLY|O_CREAT 0600 label=tmpfs\n"
		"980 call openat AT_FDCWD \"/etc/hosts\" O_RDONLY 0 label=fine\n";
	const char *const aborted[] = { "symlink", "rellink", "dirfd", "dotdot" };
	struct dt_harness h;
	struct dt_sim_call c;
	size_t i;

	dt_harness_init(&h, 1);
	dt_harness_start(&h,
			 "Functions openat,open\n"
			 "Filter function=openat,argname=filename:path,argval=^/etc/shadow$,apply=1,"
			 "retval=-EACCES\n"
			 "Filter function=open,argname=filename:path,argval=^/etc/shadow$,apply=1,"
			 "retval=-EACCES\n",
			 scn);
	for (i = 0; i < sizeof(aborted) / sizeof(aborted[0]); i++) {
		call_wait(&h, aborted[i], &c);
		ck_assert_msg(c.ret == -13, "%s: the guest saw %lld", aborted[i], (long long)c.ret);
		ck_assert(!c.body_ran);
	}
	call_wait(&h, "dir", &c);
	ck_assert_int_ge(c.ret, 0);
	call_wait(&h, "tmpfs", &c);
	ck_assert_int_ge(c.ret, 0);
	call_wait(&h, "fine", &c);
	ck_assert_int_ge(c.ret, 0);
	expect_line(&h, "symlink", "\"type\":\"abort\"", "\"filename\":\"/tmp/x\"",
		    "\"filename:path\":\"/etc/shadow\"");
	expect_line(&h, "dirfd", "\"type\":\"abort\"", "\"filename\":\"../../../etc/shadow\"",
		    "\"filename:path\":\"/etc/shadow\"");
	expect_line(&h, "across the tmpfs mount", "\"filename\":\"/tmp/new\"",
		    "\"filename:path\":\"/tmp/new\"", "\"when\":\"post\"");
	expect_count(&h, 4, "\"type\":\"abort\"", NULL);
	dt_harness_finish(&h);
	dt_harness_free(&h);
}
END_TEST

/*
 * Without return probes (--no-returns, as in sgdt mode), an open deferred to the kernel's
 * copy that fails before the copy (an empty path) never meets its later point: when the
 * task makes its next call the entry is sent, marked unfinished, not lost, and no later
 * point can decide it with another call's data.
 */
START_TEST(deferred_open_that_never_copies_is_not_lost)
{
	static const char scn[] =
		"proc 985 comm=reader\n"
		"985 call openat AT_FDCWD \"\" O_RDONLY 0 label=empty\n"
		"985 call getpid label=next\n"
		"985 call openat AT_FDCWD \"/tmp/x\" O_RDONLY 0 label=link\n";
	struct dt_harness h;
	struct dt_sim_call c;

	dt_harness_init(&h, 1);
	h.o.returns = false;
	dt_harness_start(&h,
			 "Functions openat,getpid\n"
			 "Filter function=openat,argname=filename:path,argval=^/etc/shadow$,apply=1,"
			 "retval=-EACCES\n",
			 scn);
	call_wait(&h, "empty", &c);
	ck_assert_int_eq(c.ret, -2);
	call_wait(&h, "link", &c);
	ck_assert_int_eq(c.ret, -13);
	expect_line(&h, "the stale entry", "\"func\":\"sys_openat\"", "\"filename\":\"\"",
		    "\"unfinished\":true");
	expect_count(&h, 1, "\"type\":\"abort\"", NULL);
	dt_harness_finish(&h);
	dt_harness_free(&h);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("enforce");
	TCase *tc = tcase_create("sim");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, name_only_abort_never_touches_exit);
	tcase_add_test(tc, absent_page_name_filter_aborts_at_entry);
	tcase_add_test(tc, regex_limit_cannot_dodge_abort);
	tcase_add_test(tc, open_path_decided_on_kernel_copy);
	tcase_add_test(tc, exec_path_decided_on_kernel_copy);
	tcase_add_test(tc, open_decided_on_the_file_reached);
	tcase_add_test(tc, deferred_open_that_never_copies_is_not_lost);
	suite_add_tcase(s, tc);
	return dt_check_run(s);
}
