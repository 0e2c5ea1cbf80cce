// SPDX-License-Identifier: GPL-2.0-only
/*
 * check_trap.c - the trap path's decisions through a per-VM trap context alone
 * (engine/vmctx.h): no daemon, no worker thread, no reporter. The test owns the backend
 * (the simulated host, as a stand-in for Xen), publishes its own filter chain, holds the
 * action bit, collects the events the trap path sends, and answers every trap itself:
 * an abort at entry, a would-abort with the action bit off, an open's path decided on
 * the kernel's copy after the entry deferred it, a return paired with its call, and
 * what the context counted for each.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <urcu.h>

#include "domtrace/catalog.h"
#include "domtrace/config.h"
#include "domtrace/filter.h"
#include "domtrace/guest.h"
#include "domtrace/sim.h"
#include "probes/plan.h"
#include "trap/decide.h"
#include "trap/hit.h"
#include "util/clock.h"
#include "vmctx.h"

#define WAIT_MS 60000
#define MAX_EVENTS 64

/* What one test sets up: a sim VM, its guest, a chain, and the trap context. */
struct rig {
	char dir[64];
	struct dt_hv *hv;
	struct dt_sim_host *host;
	struct dt_hv_dom *dom;
	struct dt_symtab *map;
	struct dt_guest *guest;
	struct dt_chain_slot slot;
	struct dt_chain_reader *reader;
	atomic_bool action;
	struct dt_vmctx vm;
	struct dt_plan_env env;
	/* the events the trap path sent, and the role of the probe each was sent at */
	struct dt_event *ev[MAX_EVENTS];
	int role_at[MAX_EVENTS];
	size_t nev;
	int role_now; /* role of the probe the trap being handled hit; -1: none */
	/* the backend's work for each trap handled (as the worker counts it) */
	struct dt_hv_work work[MAX_EVENTS];
	size_t ntraps;
};

static struct rig R;

static int collect(void *ctx, struct dt_event *ev)
{
	struct rig *r = ctx;

	ck_assert_uint_lt(r->nev, MAX_EVENTS);
	r->role_at[r->nev] = r->role_now;
	r->ev[r->nev++] = ev;
	return 0;
}

/* Attach as a worker does (paused: guest, trap instruction, trapping on, plan), with
 * `config` as the policy, returns on or off. */
static void rig_start(const char *config, bool returns, bool action_on)
{
	static const char *const names[] = { "trapvm" };
	struct dt_vm_policy pol = { .returns = returns, .action_bit = &R.action };
	struct dt_guest_params gp = { .vm_name = "trapvm" };
	struct dt_sim_kernel_info ki;
	struct dt_sim_params p;
	struct dt_config *cfg = NULL;
	struct dt_chain *chain = NULL;
	struct dt_hv_dom *dom = NULL;
	uint64_t thunk;
	char err[512];

	memset(&R, 0, sizeof(R));
	R.role_now = -1;
	atomic_store(&R.action, action_on);
	rcu_register_thread();
	snprintf(R.dir, sizeof(R.dir), "/tmp/dt-trap-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(R.dir));
	dt_sim_params_default(&p);
	p.n_vms = 1;
	p.names = names;
	p.workload = false;
	p.rate = 0;
	p.sysmap_dir = R.dir;
	p.snapshot_vms = true;
	ck_assert_int_eq(dt_hv_sim.open(&p, &R.hv), 0);
	R.host = dt_sim_host_from(R.hv);
	ck_assert_int_eq(dt_sim_kernel_info(R.host, 1, &ki), 0);

	ck_assert_int_eq(dt_config_parse_string("test", config, strlen(config), &cfg, NULL), 0);
	ck_assert_int_eq(dt_chain_new(cfg, &chain), 0);
	dt_chain_publish(&R.slot, chain);
	ck_assert_int_eq(dt_chain_reader_new("trapvm", &R.reader), 0);

	ck_assert_int_eq(dt_vmctx_init(&R.vm, "trapvm", 1, &dt_hv_sim, &pol, &R.slot, NULL), 0);
	R.vm.reader = R.reader;
	R.vm.out = (struct dt_vm_out){ .submit = collect, .ctx = &R };
	ck_assert_int_eq(dt_hv_sim.dom_open(R.hv, 1, &dom), 0);
	dt_vmctx_set_dom(&R.vm, dom);
	ck_assert_int_eq(dt_vmctx_pause(&R.vm), 0);
	ck_assert_int_eq(dt_symtab_load(ki.sysmap_path, &R.map, err, sizeof(err)), 0);
	gp.symtab = R.map;
	ck_assert_msg(dt_guest_open(&dt_hv_sim, dom, &gp, &R.vm.guest, err, sizeof(err)) == 0, "%s",
		      err);
	R.vm.io.cr3 = dt_guest_kernel_cr3(R.vm.guest);
	ck_assert_int_eq(dt_hv_sim.trap_insn(dom, &R.vm.insn), 0);
	ck_assert_int_eq(dt_hv_sim.set_trapping(dom, true), 0);
	R.env.map = R.map;
	if (dt_guest_sym_va(R.vm.guest, "__x86_return_thunk", &thunk) == 0)
		R.env.return_thunk = thunk;
	R.env.code_buf = malloc(DT_FUNC_SCAN_MAX);
	ck_assert_ptr_nonnull(R.env.code_buf);
	ck_assert_int_eq(dt_plan_probes(&R.vm, &R.env), 0);
	ck_assert_uint_gt(dt_probe_table_count(R.vm.probes), 0);
	ck_assert_int_eq(dt_vmctx_unpause(&R.vm), 0);
	dt_vmctx_mark_work(&R.vm); /* attaching is not a trap's work */
}

/* Answer every trap queued now; true if there was one. */
static bool handle_queued(void)
{
	struct dt_trap t;
	bool any = false;

	while (dt_hv_sim.next_trap(R.vm.dom, &t) == 0) {
		struct dt_probe *p = dt_probe_table_get(R.vm.probes, t.gla);

		R.role_now = p ? p->role : -1;
		/* a hit's own work, from here to its answer: taking traps from the ring
		 * depends on how they queued (the sim's guest runs on while we look) */
		dt_vmctx_mark_work(&R.vm);
		ck_assert_int_eq(dt_hit_handle(&R.vm, &t), 0);
		R.role_now = -1;
		dt_vmctx_count_work(&R.vm, R.ntraps < MAX_EVENTS ? &R.work[R.ntraps] : NULL);
		R.ntraps++;
		any = true;
	}
	return any;
}

/* Be the worker until the labelled call has completed (bounded: WAIT_MS of quiet). */
static struct dt_sim_call run_call(const char *label)
{
	struct pollfd pfd = { .fd = dt_hv_sim.trap_fd(R.vm.dom), .events = POLLIN };
	struct dt_sim_call c;
	int quiet_ms = 0;

	while (dt_sim_call_outcome(R.host, label, &c) == -EAGAIN) {
		ck_assert_msg(quiet_ms < WAIT_MS, "call %s never completed", label);
		if (poll(&pfd, 1, 10) <= 0 || !handle_queued())
			quiet_ms += 10;
	}
	ck_assert_int_eq(dt_sim_call_outcome(R.host, label, &c), 0);
	return c;
}

/* Detach as a worker does: restore every byte, answer what is left, send the calls in
 * flight as unfinished, and check that the guest's kernel is byte-identical, nothing
 * paused, nothing crashed. The events stay for a look (rig_free). */
static void rig_detach(void)
{
	struct dt_sim_kernel_check kc;

	ck_assert_int_eq(dt_vmctx_pause(&R.vm), 0);
	ck_assert_int_eq(dt_plan_disarm_all(&R.vm), 0);
	(void)handle_queued();
	ck_assert_int_eq(dt_hv_sim.set_trapping(R.vm.dom, false), 0);
	ck_assert_int_eq(dt_vmctx_unpause(&R.vm), 0);
	dt_hv_sim.dom_close(R.vm.dom);
	dt_vmctx_set_dom(&R.vm, NULL);
	dt_hit_flush_inflight(&R.vm);
	ck_assert_int_eq(dt_sim_check_kernels(R.host, &kc), 0);
	ck_assert_uint_eq(kc.intact, 1);
	ck_assert_uint_eq(kc.differ, 0);
	ck_assert(!dt_sim_any_paused(R.host));
}

static void rig_free(void)
{
	struct dirent *de;
	DIR *dir;
	size_t i;

	for (i = 0; i < R.nev; i++)
		dt_event_free(R.ev[i]);
	dt_vmctx_fini(&R.vm);
	dt_guest_close(R.vm.guest);
	dt_symtab_free(R.map);
	free(R.env.code_buf);
	dt_chain_reader_free(R.reader);
	dt_chain_slot_clear(&R.slot);
	dt_hv_sim.close(R.hv);
	dir = opendir(R.dir);
	if (dir) {
		while ((de = readdir(dir)))
			if (de->d_name[0] != '.')
				(void)unlinkat(dirfd(dir), de->d_name, 0);
		closedir(dir);
	}
	(void)rmdir(R.dir);
	rcu_unregister_thread();
}

static void rig_finish(void)
{
	rig_detach();
	rig_free();
}

static uint64_t count(const atomic_uint_fast64_t *c)
{
	return atomic_load(c);
}

/* An abort filter that needs nothing unreadable decides at the entry: the call never
 * runs, returns the filter's value, and the abort is counted. */
START_TEST(entry_abort)
{
	struct dt_sim_call c;

	rig_start("Functions getpid\nFilter function=getpid,name=victim,apply=1,retval=-EPERM\n",
		  false, true);
	ck_assert_int_eq(dt_sim_scenario_text(R.host, "proc 940 comm=victim\n"
						      "940 call getpid label=g\n",
					      NULL, 0),
			 0);
	c = run_call("g");
	ck_assert_int_eq(c.ret, -EPERM);
	ck_assert(!c.body_ran);
	ck_assert_uint_eq(R.nev, 1);
	ck_assert_int_eq(R.ev[0]->type, DT_EV_ABORT);
	ck_assert_int_eq(R.ev[0]->abort_ret, -EPERM);
	ck_assert_int_eq(R.ev[0]->proc.pid, 940);
	ck_assert_int_eq(R.role_at[0], DT_PROBE_ENTRY);
	ck_assert_uint_eq(count(&R.vm.counters.calls), 1);
	ck_assert_uint_eq(count(&R.vm.counters.matches), 1);
	ck_assert_uint_eq(count(&R.vm.counters.aborts), 1);
	ck_assert_uint_ge(count(&R.vm.counters.traps), 1);
	ck_assert_uint_eq(count(&R.vm.counters.not_ours), 0);
	rig_finish();
}
END_TEST

/* The same filter with the action bit off: reported as would-abort, the call runs. The
 * bit is the test's own: the context reads it once per trap, no daemon behind it. */
START_TEST(would_abort_when_action_off)
{
	struct dt_sim_call c;

	rig_start("Functions getpid\nFilter function=getpid,name=victim,apply=1,retval=-EPERM\n",
		  false, false);
	ck_assert_int_eq(dt_sim_scenario_text(R.host, "proc 941 comm=victim\n"
						      "941 call getpid label=g\n",
					      NULL, 0),
			 0);
	c = run_call("g");
	ck_assert(c.body_ran);
	ck_assert_int_eq(c.ret, 941);
	ck_assert_uint_eq(R.nev, 1);
	ck_assert_int_eq(R.ev[0]->type, DT_EV_WOULD_ABORT);
	ck_assert_int_eq(R.ev[0]->abort_ret, -EPERM);
	ck_assert_uint_eq(count(&R.vm.counters.matches), 1);
	ck_assert_uint_eq(count(&R.vm.counters.aborts), 0);
	rig_finish();
}
END_TEST

/* An abort filter on an open's path: the entry cannot decide (the user's string could
 * change after the check), so the decision waits for do_filp_open, where it is made on
 * the kernel's own copy and the open fails with the filter's error. */
START_TEST(undecided_entry_deferred_to_kernel_copy)
{
	struct dt_sim_call c;

	rig_start("Functions openat\n"
		  "Filter function=openat,argname=filename,argval=^/etc/shadow$,apply=1,"
		  "retval=-EACCES\n",
		  false, true);
	ck_assert(R.vm.copy_helper);
	ck_assert_int_eq(dt_sim_scenario_text(R.host, "proc 950 comm=cat\n"
						      "950 call openat AT_FDCWD \"/etc/shadow\" "
						      "O_RDONLY 0 label=o\n",
					      NULL, 0),
			 0);
	c = run_call("o");
	ck_assert_int_eq(c.ret, -EACCES);
	ck_assert_uint_eq(R.nev, 1);
	ck_assert_int_eq(R.ev[0]->type, DT_EV_ABORT);
	ck_assert_str_eq(dt_event_value_of(R.ev[0], "filename"), "/etc/shadow");
	/* sent where the kernel had copied the path, not at the entry */
	ck_assert_int_eq(R.role_at[0], DT_PROBE_COPY_HELPER);
	ck_assert_uint_eq(count(&R.vm.counters.calls), 1);
	ck_assert_uint_eq(count(&R.vm.counters.aborts), 1);
	rig_finish();
}
END_TEST

/* With returns on, an unmatched call is one event at its return: paired with its entry
 * (task and stack pointer), the value the guest saw, and how long the call took. */
START_TEST(return_pairs_with_its_call)
{
	struct dt_sim_call c;

	rig_start("Functions openat\n", true, true);
	ck_assert_int_eq(dt_sim_scenario_text(R.host, "proc 960 comm=plain\n"
						      "960 call openat AT_FDCWD \"/etc/hosts\" "
						      "O_RDONLY 0 label=r\n",
					      NULL, 0),
			 0);
	c = run_call("r");
	ck_assert(c.body_ran);
	ck_assert_int_ge(c.ret, 0);
	ck_assert_uint_eq(R.nev, 1);
	ck_assert_int_eq(R.ev[0]->type, DT_EV_CALL);
	ck_assert_int_eq(R.ev[0]->when, DT_WHEN_POST);
	ck_assert(R.ev[0]->has_ret);
	ck_assert_int_eq(R.ev[0]->ret, c.ret);
	ck_assert_int_eq(R.ev[0]->proc.pid, 960);
	ck_assert_int_eq(R.role_at[0], DT_PROBE_EXIT);
	ck_assert_uint_eq(count(&R.vm.counters.calls), 1);
	ck_assert_uint_eq(count(&R.vm.counters.returns), 1);
	ck_assert_uint_eq(count(&R.vm.counters.matches), 0);
	ck_assert_uint_ge(count(&R.vm.counters.traps), 2);
	ck_assert_uint_eq(dt_lat_count(&R.vm.counters.handling), 0); /* the worker's to time */
	rig_finish();
}
END_TEST

/* A return reuses its entry's ids only while the cred pointer is the same: a call that
 * changes the credentials (a new cred, as commit_creds installs) shows the new ids at its
 * return. */
START_TEST(return_sees_new_creds)
{
	struct dt_sim_call c;

	rig_start("Functions setuid\n", true, true);
	ck_assert_int_eq(dt_sim_scenario_text(R.host, "proc 980 comm=drop uid=0 gid=0\n"
						      "980 call setuid 1000 label=s\n",
					      NULL, 0),
			 0);
	c = run_call("s");
	ck_assert_int_eq(c.ret, 0);
	ck_assert_uint_eq(R.nev, 1);
	ck_assert_int_eq(R.ev[0]->when, DT_WHEN_POST);
	ck_assert_uint_eq(R.ev[0]->proc.uid, 1000);
	ck_assert_uint_eq(R.ev[0]->proc.euid, 1000);
	ck_assert_uint_eq(R.ev[0]->proc.gid, 0);
	rig_finish();
}
END_TEST

/* Wait for the next trap and answer it; the role of the probe it hit. */
static int handle_one(void)
{
	struct pollfd pfd = { .fd = dt_hv_sim.trap_fd(R.vm.dom), .events = POLLIN };
	struct dt_trap t;
	struct dt_probe *p;
	int waited = 0;

	while (dt_hv_sim.next_trap(R.vm.dom, &t) != 0) {
		ck_assert_msg(waited < WAIT_MS, "no trap came");
		if (poll(&pfd, 1, 10) <= 0)
			waited += 10;
	}
	p = dt_probe_table_get(R.vm.probes, t.gla);
	R.role_now = p ? p->role : -1;
	ck_assert_int_eq(dt_hit_handle(&R.vm, &t), 0);
	R.role_now = -1;
	return p ? p->role : -1;
}

/* Take out (paused) every probe of this role of the function, as a replan that drops it
 * while a call runs does. */
static void disarm(int role, int func_id)
{
	size_t i, n = 0;
	struct dt_probe *v[8];

	ck_assert_int_eq(dt_vmctx_pause(&R.vm), 0);
	for (i = 0; i < dt_probe_table_capacity(R.vm.probes); i++) {
		struct dt_probe *p = dt_probe_table_slot(R.vm.probes, i);

		if (p && p->role == role && p->func_id == func_id && n < 8)
			v[n++] = p;
	}
	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(dt_probes_disarm(&R.vm.io, v, n), 0);
	ck_assert_int_eq(dt_vmctx_unpause(&R.vm), 0);
}

/* A call whose return went unseen (its return probe taken out while it ran): the task's
 * next call enters at the same stack depth, the same key. The first call's entry is sent
 * as unfinished, not dropped with no record, and the second is one record too. */
START_TEST(missed_return_is_unfinished_not_lost)
{
	int getppid = dt_catalog_by_nr(110, false);
	size_t i;

	ck_assert_int_ge(getppid, 0);
	rig_start("Functions getppid\n", true, true);
	ck_assert_int_eq(dt_sim_scenario_text(R.host, "proc 990 comm=twice\n"
						      "990 call getppid label=a\n"
						      "990 call getppid label=b\n",
					      NULL, 0),
			 0);
	ck_assert_int_eq(handle_one(), DT_PROBE_ENTRY); /* a's entry: its event waits */
	ck_assert_uint_eq(R.nev, 0);
	disarm(DT_PROBE_EXIT, getppid);
	(void)run_call("a");
	(void)run_call("b");
	ck_assert_uint_eq(R.nev, 1); /* a's, sent as b entered */
	rig_detach(); /* b's, in flight as far as we know: sent at the detach */
	ck_assert_uint_eq(R.nev, 2);
	for (i = 0; i < R.nev; i++) {
		ck_assert_int_eq(R.ev[i]->when, DT_WHEN_PRE);
		ck_assert(R.ev[i]->unfinished);
		ck_assert_int_eq(R.ev[i]->proc.pid, 990);
		ck_assert_int_eq(R.ev[i]->func_id, getppid);
	}
	ck_assert_uint_eq(count(&R.vm.counters.calls), 2);
	ck_assert_uint_eq(count(&R.vm.counters.returns), 0);
	rig_free();
}
END_TEST

/* The return of a call whose entry went unseen (its probe put in while it ran), at the
 * depth of another function's call whose return went unseen: never paired with it (one
 * call's arguments with the other's value). The old entry is sent as unfinished, the
 * return counted unpaired. */
START_TEST(return_never_pairs_with_another_function)
{
	int getppid = dt_catalog_by_nr(110, false), getpid = dt_catalog_by_nr(39, false);

	ck_assert_int_ge(getppid, 0);
	ck_assert_int_ge(getpid, 0);
	rig_start("Functions getppid, getpid\n", true, true);
	ck_assert_int_eq(dt_sim_scenario_text(R.host, "proc 995 comm=mixed\n"
						      "995 call getppid label=a\n"
						      "995 call getpid label=b\n",
					      NULL, 0),
			 0);
	ck_assert_int_eq(handle_one(), DT_PROBE_ENTRY);
	disarm(DT_PROBE_EXIT, getppid);
	disarm(DT_PROBE_ENTRY, getpid);
	(void)run_call("a");
	(void)run_call("b");
	ck_assert_uint_eq(R.nev, 1);
	ck_assert_int_eq(R.ev[0]->when, DT_WHEN_PRE);
	ck_assert(R.ev[0]->unfinished);
	ck_assert_int_eq(R.ev[0]->func_id, getppid);
	ck_assert_int_eq(R.role_at[0], DT_PROBE_EXIT); /* sent at getpid's return */
	ck_assert_uint_eq(count(&R.vm.counters.returns), 0);
	ck_assert_uint_ge(count(&R.vm.counters.unpaired), 1);
	rig_detach();
	ck_assert_uint_eq(R.nev, 1);
	rig_free();
}
END_TEST


static uint64_t realtime_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* An event's wall-clock time comes from the worker's one monotonic reading of its trap and
 * an offset read once a second (util/clock.h): no clock reading per event, the right time. */
START_TEST(event_time_from_the_trap_reading)
{
	struct dt_wallclock w = { 0 };
	uint64_t before = realtime_now(), t, m, now;

	/* never read: reads both clocks, gives now */
	t = dt_wallclock_at(&w, 0);
	ck_assert_uint_ge(t, before);
	ck_assert_uint_le(t, realtime_now());
	ck_assert_uint_ne(w.read_at_ns, 0);

	/* within the second: the offset as it is, no reading (a planted offset shows it) */
	m = w.read_at_ns;
	w.offset_ns = 12345;
	ck_assert_uint_eq(dt_wallclock_at(&w, m + 999999999ull), m + 999999999ull + 12345);
	ck_assert_uint_eq(dt_wallclock_at(&w, m - 1000), m - 1000 + 12345); /* an older reading */
	ck_assert_uint_eq(w.read_at_ns, m);

	/* a second old: read again, the planted offset gone */
	now = dt_clock_mono_ns();
	w.read_at_ns = now - DT_WALLCLOCK_REFRESH_NS;
	before = realtime_now();
	t = dt_wallclock_at(&w, now);
	ck_assert_uint_ge(w.read_at_ns, now);
	ck_assert_int_ne(w.offset_ns, 12345);
	/* now + offset: the wall clock at `now`, which is before `before` by less than the
	 * time between the two readings */
	ck_assert_uint_le(t, realtime_now());
	ck_assert_uint_ge(t + 1000000000ull, before);

	/* the trap path: an event made in a hit carries the worker's reading */
	R.vm.hit_mono_ns = dt_clock_mono_ns();
	R.vm.wallclock = (struct dt_wallclock){ .offset_ns = 777, .read_at_ns = R.vm.hit_mono_ns };
	{
		struct dt_event ev = { 0 };
		struct dt_trap tr = { .vcpu = 0 };

		dt_decide_fill(&R.vm, &ev, &tr);
		ck_assert_uint_eq(ev.ts_ns, R.vm.hit_mono_ns + 777);
	}
	R.vm.hit_mono_ns = 0;
}
END_TEST

/* The hypervisor work of a hit as the backend counts it (hv.h dt_hv_work; the sim counts
 * what Xen would do), from taking the trap to answering it: two getppid calls of one
 * process, with their returns. The first entry maps what it reads; every later hit finds
 * its frames mapped (its one hypercall is the answer's notify). */
START_TEST(work_per_hit)
{
	/* hypercalls, maps, map hits, pages, walks: the first entry maps the 6 frames
	 * (pages and the page tables leading to them) that attaching had not (the 7th
	 * hypercall: the answer's notify); the rest find every frame mapped. An entry reads
	 * 4 pages: the current task pointer, the task, its parent's pid, its cred (getppid
	 * has no arguments: its pt_regs are not read); a return 3: its cred is the one its
	 * entry read (struct dt_proc_stamp), so its ids are too. Those are all in the direct
	 * map, read by physical address (engine/guest/dmap.c), but a VM's first 64 such
	 * reads are each checked by a walk: one walk a page, as without the shortcut. */
	static const struct dt_hv_work want[4] = {
		{ 7, 6, 10, 4, 4 },  /* entry a */
		{ 1, 0, 12, 3, 3 },  /* return a */
		{ 1, 0, 16, 4, 4 },  /* entry b */
		{ 1, 0, 12, 3, 3 },  /* return b */
	};
	uint64_t hc = 0, pages = 0;
	size_t i;

	rig_start("Functions getppid\n", true, true);
	ck_assert_int_eq(dt_sim_scenario_text(R.host, "proc 970 comm=worker\n"
						      "970 call getppid label=a\n"
						      "970 call getppid label=b\n",
					      NULL, 0),
			 0);
	(void)run_call("b");
	ck_assert_uint_eq(R.ntraps, 4);
	for (i = 0; i < 4; i++) {
		const struct dt_hv_work *w = &R.work[i];

		ck_assert_msg(!memcmp(w, &want[i], sizeof(*w)),
			      "trap %zu: %lu hypercalls, %lu maps, %lu map hits, %lu pages, %lu walks",
			      i, (unsigned long)w->hypercalls, (unsigned long)w->maps,
			      (unsigned long)w->map_hits, (unsigned long)w->pages,
			      (unsigned long)w->walks);
		hc += w->hypercalls;
		pages += w->pages;
	}
	/* the context's counters hold the same sums (what --stats divides by its traps) */
	ck_assert_uint_eq(count(&R.vm.counters.hypercalls), hc);
	ck_assert_uint_eq(count(&R.vm.counters.pages), pages);
	/* each of those pages was one read, and every one went by the direct map */
	ck_assert_uint_eq(count(&R.vm.counters.dmap_reads), pages);
	ck_assert_uint_eq(count(&R.vm.counters.dmap_mismatches), 0);
	rig_finish();
}
END_TEST

static Suite *trap_suite(void)
{
	Suite *s = suite_create("trap");
	TCase *tc = tcase_create("decisions");

	tcase_add_test(tc, entry_abort);
	tcase_add_test(tc, would_abort_when_action_off);
	tcase_add_test(tc, undecided_entry_deferred_to_kernel_copy);
	tcase_add_test(tc, return_pairs_with_its_call);
	tcase_add_test(tc, work_per_hit);
	tcase_add_test(tc, event_time_from_the_trap_reading);
	tcase_add_test(tc, return_sees_new_creds);
	tcase_add_test(tc, missed_return_is_unfinished_not_lost);
	tcase_add_test(tc, return_never_pairs_with_another_function);
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
