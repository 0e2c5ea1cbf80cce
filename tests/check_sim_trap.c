// SPDX-License-Identifier: GPL-2.0-only
/*
 * check_sim_trap.c - a hand-written mini engine against the simulated host: breakpoints
 * written into guest memory, traps with the right registers, resume by emulating the nop,
 * aborting a call, post probes, and every way a careless engine crashes a guest.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "domtrace/sim.h"

struct mini {
	struct dt_hv *hv;
	struct dt_sim_host *h;
	struct dt_hv_dom *dom;
	struct dt_sim_kernel_info ki;
	struct dt_sim_offsets o;
	uint32_t domid;
};

static void mini_open(struct mini *m, enum dt_sim_flavour f, enum dt_trap_flavour trap,
		      uint32_t vcpus)
{
	struct dt_sim_params p;

	memset(m, 0, sizeof(*m));
	dt_sim_params_default(&p);
	p.n_vms = 1;
	p.vcpus = vcpus;
	p.flavour = f;
	p.workload = false;
	p.rate = 0;
	p.trap = trap;
	ck_assert_int_eq(dt_hv_sim.open(&p, &m->hv), 0);
	m->h = dt_sim_host_from(m->hv);
	m->domid = 1;
	ck_assert_int_eq(dt_hv_sim.dom_open(m->hv, m->domid, &m->dom), 0);
	ck_assert_int_eq(dt_sim_kernel_info(m->h, m->domid, &m->ki), 0);
	ck_assert_int_eq(dt_sim_offsets(m->h, m->domid, &m->o), 0);
}

static void mini_close(struct mini *m)
{
	dt_hv_sim.dom_close(m->dom);
	ck_assert_uint_eq(dt_sim_paused_vcpus(m->h, 0), 0);
	dt_hv_sim.close(m->hv);
}

static uint64_t sym(struct mini *m, const char *name)
{
	uint64_t a;

	ck_assert_msg(dt_sim_symbol(m->h, m->domid, name, &a) == 0, "no %s", name);
	return a;
}

/* The probe site: the ftrace nop5 (after endbr64 on 6.6). */
static uint64_t site(struct mini *m, const char *fn)
{
	return sym(m, fn) + (m->ki.flavour == DT_SIM_FLAVOUR_66 ? 4 : 0);
}

/* Callers that trace turn monitoring on first, as domtrace does: a vCPU reaching the site
 * between the write and set_trapping would crash the guest (an int3 with no monitor). */
static void arm(struct mini *m, uint64_t va, uint8_t *saved)
{
	struct dt_trap_insn ti;

	ck_assert_int_eq(dt_hv_sim.trap_insn(m->dom, &ti), 0);
	ck_assert_int_eq(dt_hv_sim.read_va(m->dom, m->ki.kernel_cr3, va, saved, ti.len), ti.len);
	ck_assert_int_eq(dt_hv_sim.write_va(m->dom, m->ki.kernel_cr3, va, ti.bytes, ti.len), 0);
}

static void disarm(struct mini *m, uint64_t va, const uint8_t *saved, size_t len)
{
	ck_assert_int_eq(dt_hv_sim.write_va(m->dom, m->ki.kernel_cr3, va, saved, len), 0);
}

static void wait_trap(struct mini *m, struct dt_trap *t)
{
	struct pollfd pfd = { .fd = dt_hv_sim.trap_fd(m->dom), .events = POLLIN };
	int i, rc;

	for (i = 0; i < 200; i++) {
		rc = dt_hv_sim.next_trap(m->dom, t);
		if (rc == 0)
			return;
		ck_assert_int_eq(rc, -EAGAIN);
		poll(&pfd, 1, 100);
	}
	ck_abort_msg("no trap");
}

static void scenario(struct mini *m, const char *text)
{
	char err[256];

	ck_assert_msg(dt_sim_scenario_text(m->h, text, err, sizeof(err)) == 0, "%s", err);
}

static void wait_crash(struct mini *m)
{
	int i;

	for (i = 0; i < 200 && !dt_sim_crashes(m->h, 0, NULL, 0); i++)
		usleep(20000);
	ck_assert_uint_eq(dt_sim_crashes(m->h, 0, NULL, 0), 1);
}

static void no_crash(struct mini *m)
{
	struct dt_sim_crash cr;

	if (dt_sim_crashes(m->h, 0, &cr, 1))
		ck_abort_msg("guest crash: vm %u vcpu %u rip %#llx pid %d: %s", cr.domid, cr.vcpu,
			     (unsigned long long)cr.rip, cr.pid, cr.reason);
}

static uint64_t mono_ns(void) /* the clock the sim times traps with */
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t rd64(struct mini *m, uint64_t cr3, uint64_t va)
{
	uint64_t v = 0;

	ck_assert_int_eq(dt_hv_sim.read_va(m->dom, cr3, va, &v, 8), 8);
	return v;
}

static const char *open_scn = "vm sim-vm0\n"
			      "proc 500 comm=bash uid=1000 gid=1000\n"
			      "500 call openat AT_FDCWD \"/etc/passwd\" O_RDONLY 0 label=o1\n";

/* The common start: one VM, a breakpoint on openat's site, trapping on, open_scn's call
 * trapped in *t. Returns the site; its original bytes are in saved. */
static uint64_t trap_openat(struct mini *m, enum dt_sim_flavour f, enum dt_trap_flavour trap,
			    uint32_t vcpus, uint8_t *saved, struct dt_trap *t)
{
	uint64_t s;

	mini_open(m, f, trap, vcpus);
	s = site(m, "__x64_sys_openat");
	ck_assert_int_eq(dt_hv_sim.set_trapping(m->dom, true), 0); /* before the int3: see arm() */
	arm(m, s, saved);
	scenario(m, open_scn);
	wait_trap(m, t);
	return s;
}

static void trap_resume(enum dt_sim_flavour f)
{
	struct mini m;
	struct dt_sim_snapshot *snap;
	struct dt_sim_call out;
	struct dt_trap t;
	struct dt_regs r;
	uint64_t s, cur, regs_va, u, first, t0, stall_ns;
	struct dt_sim_counters c;
	uint8_t saved[8];
	char path[32];
	int32_t pid;

	mini_open(&m, f, DT_TRAP_INT3, 2);
	s = site(&m, "__x64_sys_openat");
	ck_assert_int_eq(dt_sim_snapshot_take(m.h, m.domid, &snap), 0);
	ck_assert_int_eq(dt_hv_sim.set_trapping(m.dom, true), 0); /* before the int3: see arm() */
	arm(&m, s, saved);
	ck_assert_int_eq(dt_sim_snapshot_compare(m.h, snap, &first), 1);
	ck_assert_uint_eq(first, s);
	scenario(&m, open_scn);
	wait_trap(&m, &t);
	t0 = mono_ns(); /* after the vCPU posted its trap */
	ck_assert_int_eq(t.reason, DT_TRAP_BREAKPOINT);
	ck_assert_uint_eq(t.gla, s);
	ck_assert_uint_eq(t.regs.rip, s);
	ck_assert_uint_eq(t.insn_len, 1);
	ck_assert_uint_eq(t.regs.cpl, 0);
	ck_assert_uint_eq(t.regs.lstar, sym(&m, "entry_SYSCALL_64"));
	/* while the vCPU waits for us: it is paused, its registers are readable */
	ck_assert_uint_eq(dt_sim_paused_vcpus(m.h, 0), 1);
	ck_assert_int_eq(dt_hv_sim.get_regs(m.dom, t.vcpu, &r), 0);
	ck_assert_uint_eq(r.rip, s);
	/* current: gs_base + current_task (or pcpu_hot.current_task) */
	cur = rd64(&m, t.regs.cr3, t.regs.gs_base + (f == DT_SIM_FLAVOUR_66
							   ? sym(&m, "pcpu_hot")
							   : sym(&m, "current_task")));
	ck_assert_int_eq(dt_hv_sim.read_va(m.dom, t.regs.cr3, cur + m.o.task_pid, &pid, 4), 4);
	ck_assert_int_eq(pid, 500);
	ck_assert_uint_eq(t.regs.gs_base, rd64(&m, t.regs.cr3, sym(&m, "__per_cpu_offset") +
								      8ULL * t.vcpu));
	/* RDI -> pt_regs with the arguments; the filename in user memory */
	regs_va = t.regs.rdi;
	ck_assert_uint_eq(rd64(&m, t.regs.cr3, regs_va + 120), 257); /* orig_ax */
	ck_assert_uint_eq(rd64(&m, t.regs.cr3, regs_va + 112), (uint64_t)-100);
	ck_assert_uint_eq(rd64(&m, t.regs.cr3, regs_va + 96), 0); /* dx: flags */
	u = rd64(&m, t.regs.cr3, regs_va + 104);			/* si: filename */
	ck_assert_int_eq(dt_hv_sim.read_va(m.dom, t.regs.cr3, u, path, 12), 12);
	ck_assert_str_eq(path, "/etc/passwd");
	/* [rsp]: the return address inside do_syscall_64 */
	u = rd64(&m, t.regs.cr3, t.regs.rsp);
	ck_assert_uint_gt(u, sym(&m, "do_syscall_64"));
	ck_assert_uint_lt(u, sym(&m, "do_syscall_64") + 64);
	/* CR3 carries PCID bits; the walk ignores them */
	ck_assert_uint_ne(t.regs.cr3 & 0xfff, 0);
	/* emulate the nop5 and go on (after a known stall: the sim times it) */
	usleep(20000);
	stall_ns = mono_ns() - t0;
	r = t.regs;
	r.rip = s + 5;
	ck_assert_int_eq(dt_hv_sim.resume(m.dom, &t, DT_RESUME_SET_REGS, &r), 0);
	ck_assert_int_eq(dt_hv_sim.resume(m.dom, &t, DT_RESUME_SET_REGS, &r), -EINVAL);
	ck_assert_int_eq(dt_sim_call_wait(m.h, "o1", 10000, &out), 0);
	ck_assert(out.body_ran);
	ck_assert_int_eq(out.ret, 3);
	ck_assert_int_eq(out.pid, 500);
	ck_assert_int_eq(out.nr, 257);
	/* the stall was timed: at least as long as all the looking above, one trap */
	ck_assert_int_eq(dt_sim_counters(m.h, m.domid, &c), 0);
	ck_assert_uint_eq(dt_lat_count(&c.trap_lat), 1);
	ck_assert_uint_eq(c.trap_lat.n[dt_lat_bucket(c.trap_lat.max_ns)], 1);
	ck_assert_uint_eq(c.trap_lat.sum_ns, c.trap_lat.max_ns);
	ck_assert_uint_ge(c.trap_lat.max_ns, stall_ns);
	disarm(&m, s, saved, 1);
	ck_assert_int_eq(dt_hv_sim.set_trapping(m.dom, false), 0);
	ck_assert_int_eq(dt_sim_snapshot_compare(m.h, snap, NULL), 0);
	dt_sim_snapshot_free(snap);
	ck_assert_int_eq(dt_sim_scenario_wait(m.h, 10000), 0);
	no_crash(&m);
	mini_close(&m);
}

START_TEST(test_trap_61)
{
	trap_resume(DT_SIM_FLAVOUR_61);
}
END_TEST

START_TEST(test_trap_66)
{
	trap_resume(DT_SIM_FLAVOUR_66);
}
END_TEST

/* Resuming at RIP+1 (inside the nop5) crashes the guest. */
START_TEST(test_mid_insn_crash)
{
	struct mini m;
	struct dt_sim_crash cr;
	struct dt_trap t;
	struct dt_regs r;
	uint64_t s;
	uint8_t saved[8];

	s = trap_openat(&m, DT_SIM_FLAVOUR_61, DT_TRAP_INT3, 1, saved, &t);
	r = t.regs;
	r.rip = s + 1;
	ck_assert_int_eq(dt_hv_sim.resume(m.dom, &t, DT_RESUME_SET_REGS, &r), 0);
	wait_crash(&m);
	ck_assert_uint_eq(dt_sim_crashes(m.h, m.domid, &cr, 1), 1);
	ck_assert_uint_eq(cr.rip, s + 1);
	ck_assert_int_eq(cr.pid, 500);
	ck_assert_ptr_nonnull(strstr(cr.reason, "invalid opcode"));
	ck_assert_int_eq(dt_sim_call_outcome(m.h, "o1", NULL), -EAGAIN);
	mini_close(&m);
}
END_TEST

/* A 0xCC left in place after trapping is disabled: an oops. */
START_TEST(test_leftover_int3_crash)
{
	struct mini m;
	struct dt_sim_crash cr;
	uint64_t s;
	uint8_t saved[8];

	mini_open(&m, DT_SIM_FLAVOUR_66, DT_TRAP_INT3, 1);
	s = site(&m, "__x64_sys_openat");
	arm(&m, s, saved);
	scenario(&m, open_scn);
	wait_crash(&m);
	ck_assert_uint_eq(dt_sim_crashes(m.h, m.domid, &cr, 1), 1);
	ck_assert_uint_eq(cr.rip, s);
	ck_assert_uint_eq(cr.bytes[0], 0xcc);
	ck_assert_ptr_nonnull(strstr(cr.reason, "int3"));
	mini_close(&m);
}
END_TEST

/* NOT_OURS: the int3 goes to the guest kernel, which oopses. */
START_TEST(test_not_ours_crash)
{
	struct mini m;
	struct dt_trap t;
	uint8_t saved[8];

	(void)trap_openat(&m, DT_SIM_FLAVOUR_61, DT_TRAP_INT3, 1, saved, &t);
	ck_assert_int_eq(dt_hv_sim.resume(m.dom, &t, DT_RESUME_NOT_OURS, NULL), 0);
	wait_crash(&m);
	mini_close(&m);
}
END_TEST

/* Abort at entry: RAX = -EPERM, RIP = [RSP], RSP += 8. The body never runs. */
START_TEST(test_abort)
{
	struct mini m;
	struct dt_sim_call out;
	struct dt_trap t;
	struct dt_regs r;
	uint64_t s;
	uint8_t saved[8];

	s = trap_openat(&m, DT_SIM_FLAVOUR_66, DT_TRAP_INT3, 2, saved, &t);
	r = t.regs;
	r.rip = rd64(&m, t.regs.cr3, t.regs.rsp);
	r.rsp += 8;
	r.rax = (uint64_t)-1;
	ck_assert_int_eq(dt_hv_sim.resume(m.dom, &t, DT_RESUME_SET_REGS, &r), 0);
	ck_assert_int_eq(dt_sim_call_wait(m.h, "o1", 10000, &out), 0);
	ck_assert(!out.body_ran);
	ck_assert_int_eq(out.ret, -1);
	disarm(&m, s, saved, 1);
	ck_assert_int_eq(dt_hv_sim.set_trapping(m.dom, false), 0);
	no_crash(&m);
	mini_close(&m);
}
END_TEST

/* Wrong abort (RSP not popped): the kernel goes off the rails. */
START_TEST(test_bad_abort_crash)
{
	struct mini m;
	struct dt_trap t;
	struct dt_regs r;
	uint64_t s;
	uint8_t saved[8];

	s = trap_openat(&m, DT_SIM_FLAVOUR_61, DT_TRAP_INT3, 1, saved, &t);
	r = t.regs;
	r.rip = rd64(&m, t.regs.cr3, t.regs.rsp);
	r.rax = (uint64_t)-1;
	ck_assert_int_eq(dt_hv_sim.resume(m.dom, &t, DT_RESUME_SET_REGS, &r), 0);
	disarm(&m, s, saved, 1);
	wait_crash(&m);
	mini_close(&m);
}
END_TEST

/* Post probe at the return address: the return value in RAX; restore + RETRY. */
START_TEST(test_post_probe)
{
	struct mini m;
	struct dt_sim_call out;
	struct dt_trap t, t2;
	struct dt_regs r;
	uint64_t s, ret;
	uint8_t saved[8], saved2[8];

	s = trap_openat(&m, DT_SIM_FLAVOUR_61, DT_TRAP_INT3, 2, saved, &t);
	ret = rd64(&m, t.regs.cr3, t.regs.rsp);
	arm(&m, ret, saved2);
	r = t.regs;
	r.rip = s + 5;
	ck_assert_int_eq(dt_hv_sim.resume(m.dom, &t, DT_RESUME_SET_REGS, &r), 0);
	wait_trap(&m, &t2);
	ck_assert_uint_eq(t2.gla, ret);
	ck_assert_uint_eq(t2.regs.rax, 3);
	ck_assert_uint_eq(t2.regs.rsp, t.regs.rsp + 8);
	disarm(&m, ret, saved2, 1);
	ck_assert_int_eq(dt_hv_sim.resume(m.dom, &t2, DT_RESUME_RETRY, NULL), 0);
	ck_assert_int_eq(dt_sim_call_wait(m.h, "o1", 10000, &out), 0);
	ck_assert_int_eq(out.ret, 3);
	ck_assert(out.body_ran);
	disarm(&m, s, saved, 1);
	no_crash(&m);
	mini_close(&m);
}
END_TEST

/* The sgdt flavour: a DESCRIPTOR trap; with trapping off the bytes are harmless. */
START_TEST(test_sgdt)
{
	struct mini m;
	struct dt_trap_insn ti;
	struct dt_sim_call out;
	struct dt_trap t;
	struct dt_regs r;
	uint64_t s;
	uint8_t saved[8];

	mini_open(&m, DT_SIM_FLAVOUR_66, DT_TRAP_SGDT, 1);
	ck_assert_int_eq(dt_hv_sim.trap_insn(m.dom, &ti), 0);
	ck_assert_uint_eq(ti.len, 5);
	ck_assert(!memcmp(ti.bytes, "\x0f\x01\x44\x24\xf0", 5));
	s = site(&m, "__x64_sys_openat");
	ck_assert_int_eq(dt_hv_sim.set_trapping(m.dom, true), 0); /* before the int3: see arm() */
	arm(&m, s, saved);
	scenario(&m, open_scn);
	wait_trap(&m, &t);
	ck_assert_int_eq(t.reason, DT_TRAP_DESCRIPTOR);
	ck_assert_uint_eq(t.insn_len, 5);
	r = t.regs;
	r.rip = s + 5;
	ck_assert_int_eq(dt_hv_sim.resume(m.dom, &t, DT_RESUME_SET_REGS, &r), 0);
	ck_assert_int_eq(dt_sim_call_wait(m.h, "o1", 10000, &out), 0);
	ck_assert_int_eq(out.ret, 3);
	/* trapping off, bytes still there: sgdt just runs */
	ck_assert_int_eq(dt_hv_sim.set_trapping(m.dom, false), 0);
	scenario(&m, "proc 501\n501 call openat AT_FDCWD \"/etc/hosts\" 0 0 label=o2\n");
	ck_assert_int_eq(dt_sim_call_wait(m.h, "o2", 10000, &out), 0);
	ck_assert_int_eq(out.ret, 3);
	ck_assert(out.body_ran);
	disarm(&m, s, saved, 5);
	no_crash(&m);
	mini_close(&m);
}
END_TEST

/* dom_close with a trap pending (bytes restored first): the vCPU is let go. */
START_TEST(test_close_pending)
{
	struct mini m;
	struct dt_sim_call out;
	struct dt_trap t;
	uint64_t s;
	uint8_t saved[8];

	s = trap_openat(&m, DT_SIM_FLAVOUR_61, DT_TRAP_INT3, 2, saved, &t);
	ck_assert_uint_eq(dt_sim_paused_vcpus(m.h, 0), 1);
	disarm(&m, s, saved, 1);
	/* pause twice, close without unpausing: close undoes it all */
	ck_assert_int_eq(dt_hv_sim.pause(m.dom), 0);
	ck_assert_int_eq(dt_hv_sim.pause(m.dom), 0);
	ck_assert_uint_eq(dt_sim_paused_vcpus(m.h, 0), 2);
	dt_hv_sim.dom_close(m.dom);
	ck_assert(!dt_sim_any_paused(m.h));
	ck_assert_int_eq(dt_sim_call_wait(m.h, "o1", 10000, &out), 0);
	ck_assert_int_eq(out.ret, 3);
	no_crash(&m);
	ck_assert_int_eq(dt_hv_sim.dom_open(m.hv, m.domid, &m.dom), 0);
	mini_close(&m);
}
END_TEST

/* Destroying a VM while one of its vCPUs waits in a trap deadlocks nothing. */
START_TEST(test_destroy_trapped)
{
	struct mini m;
	struct dt_trap t;
	uint8_t saved[8];

	(void)trap_openat(&m, DT_SIM_FLAVOUR_66, DT_TRAP_INT3, 2, saved, &t);
	ck_assert_int_eq(dt_sim_vm_destroy(m.h, m.domid), 0);
	ck_assert_int_eq(dt_hv_sim.next_trap(m.dom, &t), -ENODEV);
	ck_assert_int_eq(dt_hv_sim.resume(m.dom, &t, DT_RESUME_RETRY, NULL), -ENODEV);
	ck_assert_int_eq(dt_hv_sim.pause(m.dom), -ENODEV);
	mini_close(&m);
}
END_TEST

/* A probe on do_exit sees the exit code in RDI; SIGSEGV deaths too. */
START_TEST(test_do_exit_probe)
{
	struct mini m;
	struct dt_trap t;
	struct dt_regs r;
	uint64_t s, cur;
	uint8_t saved[8];
	int32_t pid;
	int seen = 0, i;

	mini_open(&m, DT_SIM_FLAVOUR_61, DT_TRAP_INT3, 1);
	s = site(&m, "do_exit");
	ck_assert_int_eq(dt_hv_sim.set_trapping(m.dom, true), 0); /* before the int3: see arm() */
	arm(&m, s, saved);
	scenario(&m, "proc 600\n600 exit 3\nproc 601\n601 segv\n");
	for (i = 0; i < 2; i++) {
		wait_trap(&m, &t);
		ck_assert_uint_eq(t.gla, s);
		cur = rd64(&m, t.regs.cr3, t.regs.gs_base + sym(&m, "current_task"));
		ck_assert_int_eq(dt_hv_sim.read_va(m.dom, t.regs.cr3, cur + m.o.task_pid, &pid, 4),
				 4);
		if (pid == 600) {
			ck_assert_uint_eq(t.regs.rdi, 3 << 8);
			seen |= 1;
		} else {
			ck_assert_int_eq(pid, 601);
			ck_assert_uint_eq(t.regs.rdi, 11);
			seen |= 2;
		}
		r = t.regs;
		r.rip = s + 5;
		ck_assert_int_eq(dt_hv_sim.resume(m.dom, &t, DT_RESUME_SET_REGS, &r), 0);
	}
	ck_assert_int_eq(seen, 3);
	ck_assert_int_eq(dt_sim_scenario_wait(m.h, 10000), 0);
	disarm(&m, s, saved, 1);
	no_crash(&m);
	mini_close(&m);
}
END_TEST

/* An "abort" (return with a value) of a function that never returns: do_exit, reached
 * from exit_group and from a fatal signal, and the exit_group syscall itself. A real
 * kernel runs off into whatever follows the call; the sim records a crash. */
static void abort_noreturn(const char *fn, const char *scn)
{
	struct mini m;
	struct dt_trap t;
	struct dt_regs r;
	uint64_t s;
	uint8_t saved[8];

	mini_open(&m, DT_SIM_FLAVOUR_61, DT_TRAP_INT3, 1);
	s = site(&m, fn);
	ck_assert_int_eq(dt_hv_sim.set_trapping(m.dom, true), 0); /* before the int3: see arm() */
	arm(&m, s, saved);
	scenario(&m, scn);
	wait_trap(&m, &t);
	ck_assert_uint_eq(t.gla, s);
	r = t.regs;
	r.rip = rd64(&m, t.regs.cr3, t.regs.rsp);
	r.rsp += 8;
	r.rax = (uint64_t)-1;
	disarm(&m, s, saved, 1);
	ck_assert_int_eq(dt_hv_sim.resume(m.dom, &t, DT_RESUME_SET_REGS, &r), 0);
	wait_crash(&m);
	mini_close(&m);
}

START_TEST(test_abort_do_exit_crash)
{
	abort_noreturn("do_exit", "proc 600\n600 exit 3\n");
}
END_TEST

START_TEST(test_abort_do_exit_signal_crash)
{
	abort_noreturn("do_exit", "proc 601\n601 segv\n");
}
END_TEST

START_TEST(test_abort_exit_group_crash)
{
	abort_noreturn("__x64_sys_exit_group", "proc 602\n602 exit 0\n");
}
END_TEST

/* A trap answered while the domain is paused: the vCPU runs only after unpause. */
START_TEST(test_resume_while_paused)
{
	struct mini m;
	struct dt_sim_call out;
	struct dt_trap t;
	struct dt_regs r, now;
	uint64_t s;
	uint8_t saved[8];

	s = trap_openat(&m, DT_SIM_FLAVOUR_66, DT_TRAP_INT3, 2, saved, &t);
	ck_assert_int_eq(dt_hv_sim.pause(m.dom), 0);
	r = t.regs;
	r.rip = s + 5;
	ck_assert_int_eq(dt_hv_sim.resume(m.dom, &t, DT_RESUME_SET_REGS, &r), 0);
	/* still not executing: its registers are readable, the call is not done */
	ck_assert_int_eq(dt_hv_sim.get_regs(m.dom, t.vcpu, &now), 0);
	ck_assert_int_eq(dt_sim_call_outcome(m.h, "o1", NULL), -EAGAIN);
	ck_assert_uint_eq(dt_sim_paused_vcpus(m.h, m.domid), 2);
	disarm(&m, s, saved, 1);
	ck_assert_int_eq(dt_hv_sim.unpause(m.dom), 0);
	ck_assert_int_eq(dt_sim_call_wait(m.h, "o1", 10000, &out), 0);
	ck_assert_int_eq(out.ret, 3);
	no_crash(&m);
	mini_close(&m);
}
END_TEST

static Suite *trap_suite(void)
{
	Suite *s = suite_create("sim_trap");
	TCase *tc = tcase_create("trap");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_trap_61);
	tcase_add_test(tc, test_trap_66);
	tcase_add_test(tc, test_mid_insn_crash);
	tcase_add_test(tc, test_leftover_int3_crash);
	tcase_add_test(tc, test_not_ours_crash);
	tcase_add_test(tc, test_abort);
	tcase_add_test(tc, test_bad_abort_crash);
	tcase_add_test(tc, test_abort_do_exit_crash);
	tcase_add_test(tc, test_abort_do_exit_signal_crash);
	tcase_add_test(tc, test_abort_exit_group_crash);
	tcase_add_test(tc, test_post_probe);
	tcase_add_test(tc, test_sgdt);
	tcase_add_test(tc, test_close_pending);
	tcase_add_test(tc, test_destroy_trapped);
	tcase_add_test(tc, test_do_exit_probe);
	tcase_add_test(tc, test_resume_while_paused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(trap_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
