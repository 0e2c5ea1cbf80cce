// SPDX-License-Identifier: GPL-2.0-only
/*
 * check_sim_scn.c - scenario files: errors with line numbers, and scripted processes whose
 * calls really go through the guest kernel (fork/exec/kill/wait, files, sockets, creds,
 * not-present argument pages, i386 processes), with outcomes queryable by label.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domtrace/sim.h"

static struct dt_hv *open1(struct dt_sim_host **h, uint32_t vcpus)
{
	struct dt_sim_params p;
	struct dt_hv *hv;

	dt_sim_params_default(&p);
	p.n_vms = 1;
	p.vcpus = vcpus;
	p.workload = false;
	p.rate = 0;
	ck_assert_int_eq(dt_hv_sim.open(&p, &hv), 0);
	*h = dt_sim_host_from(hv);
	return hv;
}

static void expect_error(struct dt_sim_host *h, const char *text, const char *where,
			 const char *what)
{
	char err[256];

	ck_assert_msg(dt_sim_scenario_text(h, text, err, sizeof(err)) == -EINVAL, "accepted: %s", text);
	ck_assert_msg(strstr(err, where) != NULL, "'%s' lacks '%s'", err, where);
	ck_assert_msg(strstr(err, what) != NULL, "'%s' lacks '%s'", err, what);
}

START_TEST(test_errors)
{
	struct dt_sim_host *h;
	struct dt_hv *hv = open1(&h, 1);
	struct dt_sim_task *t;
	size_t n0, n;
	char path[] = "/tmp/dt-scn-XXXXXX", err[256];
	FILE *f;
	int fd;

	ck_assert_int_eq(dt_sim_tasks(h, 1, &t, &n0), 0);
	free(t);
	expect_error(h, "bogus\n", "<text>:1:", "unknown statement");
	expect_error(h, "vm x flavour=7.0\n", ":1:", "flavour");
	expect_error(h, "proc 5\n", ":1:", "pid 10..32767");
	expect_error(h, "proc 500\n500 call nosuchcall\n", ":2:", "unknown x86-64 system call");
	expect_error(h, "proc 500 compat\n500 call newfstatat 1 2\n", ":2:", "unknown i386");
	expect_error(h, "proc 500\n\n500 call openat AT_FDCWD \"abc\n", ":3:", "unterminated");
	expect_error(h, "proc 500\n501 call getpid\n", ":2:", "not a statement");
	expect_error(h, "proc 500\n500 call getpid label=a\n500 call getpid label=a\n", ":3:",
		     "used twice");
	expect_error(h, "proc 500\n500 call read 0 buf:99999 10\n", ":2:", "0..4096");
	expect_error(h, "proc 500\n500 call read 0 NOT_A_CONST 1\n", ":2:", "NOT_A_CONST");
	expect_error(h, "proc 500\n500 call connect 3 inet:1.2.3:80 16\n", ":2:", "IPv4");
	expect_error(h, "proc 500\n500 call getpid 1 2 3 4 5 6 7\n", ":2:", "more than 6");
	expect_error(h, "proc 500\n500 fly\n", ":2:", "unknown action");
	expect_error(h, "proc 500\nproc 500\n", ":2:", "twice");
	expect_error(h, "proc 500\n500 call open np:5 0\n", ":2:", "np:");
	/* runtime failure: the parent does not exist */
	ck_assert_int_eq(dt_sim_scenario_text(h, "proc 500 ppid=4242\n", err, sizeof(err)), -ESRCH);
	ck_assert_ptr_nonnull(strstr(err, ":1:"));
	/* from a file: its name in the message */
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	fprintf(f, "# a comment\nproc 500\n500 call getpid extra=1\n");
	fclose(f);
	ck_assert_int_eq(dt_sim_scenario_load(h, path, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, path));
	ck_assert_ptr_nonnull(strstr(err, ":3:"));
	unlink(path);
	ck_assert_int_eq(dt_sim_scenario_load(h, "/nonexistent.scn", err, sizeof(err)), -ENOENT);
	/* nothing was created by failed scenarios */
	ck_assert_int_eq(dt_sim_tasks(h, 1, &t, &n), 0);
	free(t);
	ck_assert_uint_eq(n, n0);
	ck_assert_int_eq(dt_sim_scenario_wait(h, 1000), 0);
	dt_hv_sim.close(hv);
}
END_TEST

static const char *scn =
	"vm scn flavour=6.6 vcpus=2\n"
	"proc 500 comm=bash uid=1000 gid=1000\n"
	"proc 501 forked\n"
	"proc 503 compat comm=legacy uid=33 gid=33\n"
	"proc 504 comm=nosy uid=1000 gid=1000\n"
	"500 call getpid label=pid\n"
	"500 call fork child=501 label=fork\n"
	"501 call execve \"/bin/sleep\" [\"sleep\", \"100\"] np:[\"PATH=/bin\"] label=exec\n"
	"501 sleep 10000\n"
	"500 await exec\n"
	"500 call kill 501 SIGTERM label=kill\n"
	"500 call wait4 -1 buf:4 0 0 label=wait\n"
	"500 call openat AT_FDCWD np:\"/etc/hosts\" O_RDONLY 0 label=np\n"
	"500 call read $np np:buf:64 64 label=read\n"
	"500 call openat AT_FDCWD \"/etc/shadow\" O_RDONLY 0 label=shadow\n"
	"500 call connect 29 inet:10.0.0.1:80 16 label=badfd\n"
	"500 call socket AF_INET SOCK_STREAM 0 label=sock\n"
	"500 call connect $sock inet:93.184.216.34:80 16 label=conn\n"
	"500 call socket AF_INET6 SOCK_STREAM 0 label=sock6\n"
	"500 call connect $sock6 inet6:[::1]:4444 28 label=refused\n"
	"500 call execve \"/nonexistent\" [] [] label=enoent\n"
	"500 call setuid 0 label=setuid\n"
	"500 call getuid label=uid\n"
	"503 call socketcall SYS_SOCKET ints:[AF_INET, SOCK_STREAM, 0] label=s32\n"
	"503 call getuid32 label=uid32\n"
	"503 call open \"/etc/passwd\" O_RDONLY 0 label=open32\n"
	"504 call kill 1 SIGKILL label=killinit\n"
	"504 call execve np:\"/usr/bin/id\" np:[\"id\"] [] label=npexec\n"
	"504 call getppid label=ppid\n"
	"504 exit 7\n";

static int64_t ret_of(struct dt_sim_host *h, const char *label)
{
	struct dt_sim_call c;

	ck_assert_msg(dt_sim_call_wait(h, label, 20000, &c) == 0, "label %s", label);
	ck_assert(c.done);
	return c.ret;
}

START_TEST(test_semantics)
{
	struct dt_sim_host *h;
	struct dt_hv *hv = open1(&h, 1);
	struct dt_sim_call c;
	char err[256];
	uint32_t domid;

	ck_assert_msg(dt_sim_scenario_text(h, scn, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(dt_sim_vm_find(h, "scn", &domid), 0);
	ck_assert_int_eq(ret_of(h, "pid"), 500);
	ck_assert_int_eq(ret_of(h, "fork"), 501);
	ck_assert_int_eq(ret_of(h, "exec"), 0);
	ck_assert_int_eq(dt_sim_call_outcome(h, "exec", &c), 0);
	ck_assert_int_eq(c.pid, 501);
	ck_assert_uint_eq(c.domid, domid);
	ck_assert_int_eq(ret_of(h, "kill"), 0);
	ck_assert_int_eq(ret_of(h, "wait"), 501);
	ck_assert_int_eq(ret_of(h, "np"), 3);
	ck_assert_int_eq(ret_of(h, "read"), 20);
	ck_assert_int_eq(ret_of(h, "shadow"), -EACCES);
	ck_assert_int_eq(ret_of(h, "badfd"), -EBADF);
	ck_assert_int_eq(ret_of(h, "sock"), 4);
	ck_assert_int_eq(ret_of(h, "conn"), 0);
	ck_assert_int_eq(ret_of(h, "refused"), -ECONNREFUSED);
	ck_assert_int_eq(ret_of(h, "enoent"), -ENOENT);
	ck_assert_int_eq(ret_of(h, "setuid"), -EPERM);
	ck_assert_int_eq(ret_of(h, "uid"), 1000);
	ck_assert_int_eq(ret_of(h, "s32"), 3);
	ck_assert_int_eq(dt_sim_call_outcome(h, "s32", &c), 0);
	ck_assert(c.compat);
	ck_assert_int_eq(c.nr, 102);
	ck_assert_uint_eq(c.args[0], 1);
	ck_assert_int_eq(ret_of(h, "uid32"), 33);
	ck_assert_int_eq(ret_of(h, "open32"), 4);
	ck_assert_int_eq(ret_of(h, "killinit"), -EPERM);
	ck_assert_int_eq(ret_of(h, "npexec"), 0);
	ck_assert_int_eq(ret_of(h, "ppid"), 1);
	ck_assert_int_eq(dt_sim_call_outcome(h, "nolabel", NULL), -ENOENT);
	ck_assert_int_eq(dt_sim_scenario_wait(h, 20000), 0);
	ck_assert_uint_eq(dt_sim_crashes(h, 0, NULL, 0), 0);
	dt_hv_sim.close(hv);
}
END_TEST

/* A gate holds a scripted process until the test opens it, however long that takes. */
START_TEST(test_gate)
{
	struct dt_sim_host *h;
	struct dt_hv *hv = open1(&h, 1);
	char err[256];

	ck_assert_msg(dt_sim_scenario_text(h, "proc 800\n800 await g1\n800 call getpid label=gp\n",
					   err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert_int_eq(dt_sim_call_wait(h, "gp", 300, NULL), -ETIMEDOUT);
	ck_assert_int_eq(dt_sim_gate_open(h, "gp"), -EEXIST); /* a call's label is not a gate */
	ck_assert_int_eq(dt_sim_gate_open(h, ""), -EINVAL);
	ck_assert_int_eq(dt_sim_gate_open(h, "g1"), 0);
	ck_assert_int_eq(dt_sim_gate_open(h, "g1"), -EEXIST);
	ck_assert_int_eq(ret_of(h, "gp"), 800);
	ck_assert_int_eq(dt_sim_scenario_wait(h, 20000), 0);
	dt_hv_sim.close(hv);
}
END_TEST

/* A post probe on wait4's return address hits when the blocked call finally returns. */
START_TEST(test_blocked_post_probe)
{
	struct dt_sim_host *h;
	struct dt_hv *hv = open1(&h, 2);
	struct dt_sim_kernel_info ki;
	struct dt_sim_call c;
	struct dt_hv_dom *dom;
	struct dt_trap t, t2;
	struct dt_regs r;
	struct pollfd pfd;
	uint64_t s, ret, cur, ct;
	uint8_t cc = 0xcc, o1, o2;
	int32_t pid;
	char err[256];
	int i;

	ck_assert_int_eq(dt_sim_kernel_info(h, 1, &ki), 0);
	ck_assert_int_eq(dt_sim_symbol(h, 1, "__x64_sys_wait4", &s), 0);
	ck_assert_int_eq(dt_sim_symbol(h, 1, ki.flavour == DT_SIM_FLAVOUR_66 ? "pcpu_hot"
									     : "current_task",
				       &ct),
			 0);
	if (ki.flavour == DT_SIM_FLAVOUR_66)
		s += 4;
	ck_assert_int_eq(dt_hv_sim.dom_open(hv, 1, &dom), 0);
	pfd.fd = dt_hv_sim.trap_fd(dom);
	pfd.events = POLLIN;
	ck_assert_int_eq(dt_hv_sim.read_va(dom, ki.kernel_cr3, s, &o1, 1), 1);
	/* monitoring on before the int3 goes in, as domtrace does: init's first wait4 may run
	 * between the two, and an int3 with no monitor crashes the guest (twice in CI: "no
	 * trap for 10 s", init in wait4 and the guest crashed) */
	ck_assert_int_eq(dt_hv_sim.set_trapping(dom, true), 0);
	ck_assert_int_eq(dt_hv_sim.write_va(dom, ki.kernel_cr3, s, &cc, 1), 0);
	ck_assert_msg(dt_sim_scenario_text(h,
					   "proc 700\nproc 701 forked\n"
					   "700 call fork child=701 label=f7\n"
					   "701 sleep 300\n"
					   "700 call wait4 701 buf:4 0 0 label=w7\n",
					   err, sizeof(err)) == 0,
		      "%s", err);
	/* the entry trap of pid 700's wait4 (init may call wait4 too: skip others) */
	for (i = 0; i < 100; i++) {
		int waits = 0;

		while (dt_hv_sim.next_trap(dom, &t) == -EAGAIN) {
			struct dt_sim_counters sc = { 0 };
			struct dt_sim_crash cr = { 0 };

			(void)dt_sim_counters(h, 1, &sc);
			/* say what the guest did, and whether it crashed */
			ck_assert_msg(waits++ < 100,
				      "no trap for 10 s: %d other traps resumed; guest calls %llu "
				      "(done %llu), traps %llu, resumes %llu, switches %llu; "
				      "crashes %zu (%s)",
				      i, (unsigned long long)sc.calls, (unsigned long long)sc.calls_done,
				      (unsigned long long)sc.traps, (unsigned long long)sc.resumes,
				      (unsigned long long)sc.switches, dt_sim_crashes(h, 1, &cr, 1),
				      cr.reason);
			poll(&pfd, 1, 100);
		}
		cur = 0;
		ck_assert_int_eq(dt_hv_sim.read_va(dom, t.regs.cr3, t.regs.gs_base + ct, &cur, 8), 8);
		{
			struct dt_sim_offsets o;

			ck_assert_int_eq(dt_sim_offsets(h, 1, &o), 0);
			ck_assert_int_eq(
				dt_hv_sim.read_va(dom, t.regs.cr3, cur + o.task_pid, &pid, 4), 4);
		}
		if (pid == 700)
			break;
		r = t.regs;
		r.rip = s + 5;
		ck_assert_int_eq(dt_hv_sim.resume(dom, &t, DT_RESUME_SET_REGS, &r), 0);
	}
	ck_assert_int_eq(pid, 700);
	/* restore the entry byte, arm the return address, go on */
	ck_assert_int_eq(dt_hv_sim.write_va(dom, ki.kernel_cr3, s, &o1, 1), 0);
	ck_assert_int_eq(dt_hv_sim.read_va(dom, t.regs.cr3, t.regs.rsp, &ret, 8), 8);
	ck_assert_int_eq(dt_hv_sim.read_va(dom, ki.kernel_cr3, ret, &o2, 1), 1);
	ck_assert_int_eq(dt_hv_sim.write_va(dom, ki.kernel_cr3, ret, &cc, 1), 0);
	ck_assert_int_eq(dt_hv_sim.resume(dom, &t, DT_RESUME_RETRY, NULL), 0);
	/* it blocks in the kernel, then returns: the post trap */
	for (i = 0; i < 100; i++) {
		int waits = 0;

		while (dt_hv_sim.next_trap(dom, &t2) == -EAGAIN) {
			ck_assert_int_lt(waits++, 100);
			poll(&pfd, 1, 100);
		}
		ck_assert_int_eq(dt_hv_sim.read_va(dom, t2.regs.cr3, t2.regs.gs_base + ct, &cur, 8),
				 8);
		if (t2.gla == s) { /* an entry trap queued before we restored the byte */
			r = t2.regs;
			r.rip = s + 5;
			ck_assert_int_eq(dt_hv_sim.resume(dom, &t2, DT_RESUME_SET_REGS, &r), 0);
			continue;
		}
		if (t2.regs.rsp == t.regs.rsp + 8)
			break;
		/* another call returning: emulate `mov %rax,0x50(%rbx)` under the probe */
		ck_assert_int_eq(dt_hv_sim.write_va(dom, t2.regs.cr3, t2.regs.rbx + 0x50,
						    &t2.regs.rax, 8),
				 0);
		r = t2.regs;
		r.rip += 4;
		ck_assert_int_eq(dt_hv_sim.resume(dom, &t2, DT_RESUME_SET_REGS, &r), 0);
	}
	ck_assert_uint_eq(t2.gla, ret);
	{
		uint64_t orig = 0;

		struct dt_sim_offsets o;
		int32_t p2 = -1;

		ck_assert_int_eq(dt_sim_offsets(h, 1, &o), 0);
		dt_hv_sim.read_va(dom, t2.regs.cr3, cur + o.task_pid, &p2, 4);
		dt_hv_sim.read_va(dom, t2.regs.cr3, t2.regs.rbx + 120, &orig, 8);
		ck_assert_msg(t2.regs.rax == 701, "rax %lld orig_ax %llu pid %d rsp %llx/%llx",
			      (long long)t2.regs.rax, (unsigned long long)orig, p2,
			      (unsigned long long)t2.regs.rsp, (unsigned long long)t.regs.rsp);
	}
	ck_assert_int_eq(dt_hv_sim.write_va(dom, ki.kernel_cr3, ret, &o2, 1), 0);
	ck_assert_int_eq(dt_hv_sim.resume(dom, &t2, DT_RESUME_RETRY, NULL), 0);
	ck_assert_int_eq(dt_sim_call_wait(h, "w7", 10000, &c), 0);
	ck_assert_int_eq(c.ret, 701);
	ck_assert_int_eq(dt_hv_sim.set_trapping(dom, false), 0);
	dt_hv_sim.dom_close(dom);
	ck_assert_uint_eq(dt_sim_crashes(h, 0, NULL, 0), 0);
	ck_assert(!dt_sim_any_paused(h));
	dt_hv_sim.close(hv);
}
END_TEST

/* The shipped examples run, finish and do what their comments say. */
START_TEST(test_examples)
{
	static const char *const files[] = { "sim-basic.scn", "sim-attack.scn",
					     "sim-compat.scn" };
	const char *src = getenv("DT_SOURCE_DIR");
	struct dt_sim_host *h;
	struct dt_hv *hv = open1(&h, 1);
	char path[512], err[256];
	size_t i;

	ck_assert_ptr_nonnull(src);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/config/examples/%s", src, files[i]);
		ck_assert_msg(dt_sim_scenario_load(h, path, err, sizeof(err)) == 0, "%s", err);
	}
	ck_assert_int_eq(dt_sim_scenario_wait(h, 30000), 0);
	ck_assert_int_eq(ret_of(h, "read-passwd"), 128);
	ck_assert_int_eq(ret_of(h, "open-np"), 3);
	ck_assert_int_eq(ret_of(h, "open-shadow"), -EACCES);
	ck_assert_int_eq(ret_of(h, "sh-exec"), 0);
	ck_assert_int_eq(ret_of(h, "sh-connect"), -ECONNREFUSED);
	ck_assert_int_eq(ret_of(h, "web-wait"), 601);
	ck_assert_int_eq(ret_of(h, "bash-wait"), 621);
	ck_assert_int_eq(ret_of(h, "c-open"), 3);
	ck_assert_int_eq(ret_of(h, "c-socket"), 4);
	ck_assert_int_eq(ret_of(h, "c-getuid"), 0);
	ck_assert_int_eq(ret_of(h, "c-exec"), 0);
	ck_assert_uint_eq(dt_sim_crashes(h, 0, NULL, 0), 0);
	dt_hv_sim.close(hv);
}
END_TEST

static Suite *scn_suite(void)
{
	Suite *s = suite_create("sim_scn");
	TCase *tc = tcase_create("scenario");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_semantics);
	tcase_add_test(tc, test_gate);
	tcase_add_test(tc, test_blocked_post_probe);
	tcase_add_test(tc, test_examples);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(scn_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
