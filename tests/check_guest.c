// SPDX-License-Identifier: GPL-2.0-only
/*
 * engine/guest/ against the simulated host (dt_hv_sim): KASLR, offsets (BTF and
 * profile), current task and process data, ancestry and its cache, the process list,
 * wrong maps refused with the guest byte-identical, hostile task lists and BTF.
 * Every expected value comes from the simulator's own truth (sim/include/domtrace/sim.h hooks).
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domtrace/guest.h"
#include "domtrace/sim.h"

static char tmpdir[64];

struct vm {
	struct dt_hv *hv;
	struct dt_sim_host *h;
	struct dt_hv_dom *dom;
	uint32_t domid;
	struct dt_sim_kernel_info ki;
	struct dt_symtab *tab;
	struct dt_guest *g;
	char name[DT_VM_NAME_MAX];
};

static struct dt_hv *open_host(uint32_t n, bool workload, struct dt_sim_host **ret_h)
{
	struct dt_sim_params p;
	struct dt_hv *hv = NULL;
	char err[256] = "";

	dt_sim_params_default(&p);
	p.n_vms = n;
	p.flavour = DT_SIM_FLAVOUR_AUTO; /* vm0 6.1, vm1 6.6 */
	p.workload = workload;
	p.rate = 0;
	p.sysmap_dir = tmpdir;
	p.err = err;
	p.errlen = sizeof(err);
	ck_assert_msg(dt_hv_sim.open(&p, &hv) == 0, "open: %s", err);
	*ret_h = dt_sim_host_from(hv);
	ck_assert_ptr_nonnull(*ret_h);
	return hv;
}

/* Open VM index i (paused) and attach; with_guest=false stops before dt_guest_open. */
static void vm_open(struct vm *v, struct dt_hv *hv, struct dt_sim_host *h, unsigned i,
		    bool with_guest)
{
	struct dt_vm_info *vms = NULL;
	struct dt_guest_params gp;
	char err[512] = "";
	size_t n;

	memset(v, 0, sizeof(*v));
	v->hv = hv;
	v->h = h;
	ck_assert_int_eq(dt_hv_sim.list_vms(hv, &vms, &n), 0);
	ck_assert_uint_gt(n, i);
	v->domid = vms[i].domid;
	snprintf(v->name, sizeof(v->name), "%s", vms[i].name);
	free(vms);
	ck_assert_int_eq(dt_hv_sim.dom_open(hv, v->domid, &v->dom), 0);
	ck_assert_int_eq(dt_hv_sim.pause(v->dom), 0);
	ck_assert_int_eq(dt_sim_kernel_info(h, v->domid, &v->ki), 0);
	ck_assert_msg(!dt_symtab_load(v->ki.sysmap_path, &v->tab, err, sizeof(err)), "%s", err);
	if (!with_guest)
		return;
	gp = (struct dt_guest_params){ .vm_name = v->name, .symtab = v->tab };
	ck_assert_msg(!dt_guest_open(&dt_hv_sim, v->dom, &gp, &v->g, err, sizeof(err)), "%s",
		      err);
}

static void vm_close(struct vm *v)
{
	dt_guest_close(v->g);
	if (v->dom) {
		dt_hv_sim.unpause(v->dom);
		dt_hv_sim.dom_close(v->dom);
	}
	dt_symtab_free(v->tab);
}

static void check_offsets(struct vm *v, const struct dt_offsets *o)
{
	struct dt_sim_offsets so;

	ck_assert_int_eq(dt_sim_offsets(v->h, v->domid, &so), 0);
	ck_assert_uint_eq(o->off[DT_OFF_TASK_PID], so.task_pid);
	ck_assert_uint_eq(o->off[DT_OFF_TASK_TGID], so.task_tgid);
	ck_assert_uint_eq(o->off[DT_OFF_TASK_REAL_PARENT], so.task_real_parent);
	ck_assert_uint_eq(o->off[DT_OFF_TASK_PARENT], so.task_parent);
	ck_assert_uint_eq(o->off[DT_OFF_TASK_TASKS], so.task_tasks);
	ck_assert_uint_eq(o->off[DT_OFF_TASK_COMM], so.task_comm);
	ck_assert_uint_eq(o->off[DT_OFF_TASK_CRED], so.task_cred);
	ck_assert_uint_eq(o->off[DT_OFF_TASK_REAL_CRED], so.task_real_cred);
	ck_assert_uint_eq(o->off[DT_OFF_TASK_MM], so.task_mm);
	ck_assert_uint_eq(o->off[DT_OFF_TASK_FLAGS], so.task_flags);
	ck_assert_uint_eq(o->off[DT_SIZE_TASK_STRUCT], so.task_size);
	ck_assert_uint_eq(o->off[DT_OFF_CRED_UID], so.cred_uid);
	ck_assert_uint_eq(o->off[DT_OFF_CRED_GID], so.cred_gid);
	ck_assert_uint_eq(o->off[DT_OFF_CRED_SUID], so.cred_suid);
	ck_assert_uint_eq(o->off[DT_OFF_CRED_SGID], so.cred_sgid);
	ck_assert_uint_eq(o->off[DT_OFF_CRED_EUID], so.cred_euid);
	ck_assert_uint_eq(o->off[DT_OFF_CRED_EGID], so.cred_egid);
	ck_assert_uint_eq(o->off[DT_OFF_BINPRM_FILENAME], so.binprm_filename);
	ck_assert_uint_eq(o->off[DT_OFF_FILENAME_NAME], so.filename_name);
}

START_TEST(attach_both_flavours)
{
	struct dt_sim_host *h;
	struct dt_hv *hv = open_host(2, false, &h);
	unsigned i;

	for (i = 0; i < 2; i++) {
		struct vm v;
		uint64_t va, truth;

		vm_open(&v, hv, h, i, true);
		ck_assert_uint_eq(dt_guest_kaslr(v.g), v.ki.kaslr_offset);
		ck_assert_str_eq(dt_guest_release(v.g), v.ki.release);
		ck_assert_uint_eq(dt_guest_kernel_cr3(v.g), v.ki.kernel_cr3);
		ck_assert_int_eq(dt_guest_offsets_source(v.g), DT_OFFSRC_BTF);
		check_offsets(&v, dt_guest_offsets(v.g));
		ck_assert_int_eq(dt_guest_sym_va(v.g, "init_task", &va), 0);
		ck_assert_uint_eq(va, v.ki.init_task);
		ck_assert_int_eq(dt_guest_sym_va(v.g, "sys_call_table", &va), 0);
		ck_assert_int_eq(dt_sim_symbol(h, v.domid, "sys_call_table", &truth), 0);
		ck_assert_uint_eq(va, truth);
		ck_assert_int_eq(dt_guest_sym_va(v.g, v.ki.flavour == DT_SIM_FLAVOUR_66 ?
							    "pcpu_hot" : "current_task", &va), 0);
		ck_assert_int_eq(dt_sim_symbol(h, v.domid, v.ki.flavour == DT_SIM_FLAVOUR_66 ?
								   "pcpu_hot" : "current_task",
					       &truth), 0);
		ck_assert_uint_eq(va, truth);

		/* the guest's own syscall metadata */
		{
			struct dt_guest_syscall_meta *meta;
			size_t n, k, found = 0;

			ck_assert_int_eq(dt_guest_syscall_meta(v.g, &meta, &n), 0);
			ck_assert_uint_gt(n, 10);
			for (k = 0; k < n; k++) {
				ck_assert_uint_le(meta[k].nargs, 6);
				if (strcmp(meta[k].name, "sys_openat"))
					continue;
				found++;
				ck_assert_int_eq(meta[k].nr, 257);
				ck_assert_uint_eq(meta[k].nargs, 4);
				ck_assert_str_eq(meta[k].arg_names[1], "filename");
				ck_assert_ptr_nonnull(strstr(meta[k].arg_types[1], "char"));
			}
			ck_assert_uint_eq(found, 1);
			free(meta);
		}
		vm_close(&v);
	}
	dt_hv_sim.close(hv);
}
END_TEST

static const struct dt_sim_task *find_pid(const struct dt_sim_task *t, size_t n, int pid)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (t[i].pid == pid)
			return &t[i];
	return NULL;
}

/* Everything the guest module reads equals the simulator's truth, now. */
static void compare_with_truth(struct vm *v)
{
	struct dt_proc_info pi, anc[DT_ANCESTRY_MAX];
	struct dt_guest_cache_stats st0, st1;
	struct dt_pslist_entry *ps;
	struct dt_sim_task *t;
	size_t n, nps, i, k, na;
	int vcpus = dt_hv_sim.vcpu_count(v->dom), c, stop;

	ck_assert_int_eq(dt_sim_tasks(v->h, v->domid, &t, &n), 0);
	ck_assert_uint_gt(n, 2);

	/* the current task of every vCPU */
	ck_assert_int_gt(vcpus, 0);
	for (c = 0; c < vcpus; c++) {
		struct dt_regs regs;
		uint64_t cur;

		ck_assert_int_eq(dt_hv_sim.get_regs(v->dom, (uint32_t)c, &regs), 0);
		ck_assert_int_eq(dt_guest_current_task(v->g, (uint32_t)c, &regs, &cur), 0);
		for (i = 1; i < n && t[i].on_vcpu != c; i++)
			;
		if (i < n) {
			ck_assert_uint_eq(cur, t[i].task_va);
		} else {
			/* idle: swapper/<cpu> */
			ck_assert_int_eq(dt_guest_proc_info(v->g, cur, &pi), 0);
			ck_assert_int_eq(pi.pid, 0);
			ck_assert_int_eq(strncmp(pi.comm, "swapper", 7), 0);
		}
	}

	/* process data of every task, zombies included */
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(dt_guest_proc_info(v->g, t[i].task_va, &pi), 0);
		ck_assert_int_eq(pi.pid, t[i].pid);
		ck_assert_int_eq(pi.tgid, t[i].tgid);
		ck_assert_int_eq(pi.ppid, t[i].ppid);
		ck_assert_int_eq(pi.rppid, t[i].real_ppid);
		ck_assert_uint_eq(pi.uid, t[i].uid);
		ck_assert_uint_eq(pi.gid, t[i].gid);
		ck_assert_uint_eq(pi.euid, t[i].euid);
		ck_assert_uint_eq(pi.egid, t[i].egid);
		ck_assert_str_eq(pi.comm, t[i].comm);
		ck_assert_uint_eq(pi.task, t[i].task_va);
	}

	/* the process list: same tasks, same order */
	ck_assert_int_eq(dt_guest_pslist(v->g, &ps, &nps, &stop), 0);
	ck_assert_int_eq(stop, 0);
	ck_assert_uint_eq(nps, n);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(ps[i].pid, t[i].pid);
		ck_assert_int_eq(ps[i].ppid, t[i].ppid);
		ck_assert_str_eq(ps[i].comm, t[i].comm);
	}
	free(ps);

	/* ancestry of every task: the ppid chain down to pid 1 or 0 */
	for (i = 1; i < n; i++) {
		const struct dt_sim_task *a = &t[i];

		ck_assert_int_eq(dt_guest_ancestry(v->g, t[i].task_va, false, anc,
						   DT_ANCESTRY_MAX, &na), 0);
		for (k = 0; k < na; k++) {
			a = find_pid(t, n, a->ppid);
			ck_assert_ptr_nonnull(a);
			ck_assert_int_eq(anc[k].pid, a->pid);
			ck_assert_str_eq(anc[k].comm, a->comm);
			ck_assert_uint_eq(anc[k].uid, a->uid);
		}
		ck_assert_int_le(a->pid, 1);
	}
	/* again: all hits, nothing read */
	dt_guest_cache_stats(v->g, &st0);
	for (i = 1; i < n; i++)
		ck_assert_int_eq(dt_guest_ancestry(v->g, t[i].task_va, true, anc, DT_ANCESTRY_MAX,
						   &na), 0);
	dt_guest_cache_stats(v->g, &st1);
	ck_assert_uint_eq(st1.misses, st0.misses);
	ck_assert_uint_gt(st1.hits, st0.hits);
	free(t);
}

START_TEST(processes_match_the_sim)
{
	struct dt_sim_host *h;
	struct dt_hv *hv = open_host(2, true, &h);
	struct dt_sim_counters ctr;
	unsigned i, round;

	for (i = 0; i < 2; i++) {
		struct vm v;

		vm_open(&v, hv, h, i, true);
		for (round = 0; round < 4; round++) {
			/* let the workload fork, exec and exit, then look */
			ck_assert_int_eq(dt_hv_sim.unpause(v.dom), 0);
			usleep(150 * 1000);
			ck_assert_int_eq(dt_hv_sim.pause(v.dom), 0);
			/* the engine invalidates on exec/fork/exit; here: everything */
			dt_guest_invalidate_all(v.g);
			compare_with_truth(&v);
		}
		ck_assert_int_eq(dt_sim_counters(h, v.domid, &ctr), 0);
		ck_assert_uint_gt(ctr.forks, 0);
		ck_assert_uint_gt(ctr.execs, 0);
		vm_close(&v);
	}

	ck_assert_uint_eq(dt_sim_crashes(h, 0, NULL, 0), 0);
	dt_hv_sim.close(hv);
}
END_TEST

/*
 * The current task at a real trap: int3 on __x64_sys_<name> (written by the test the
 * way the engine does), the trapped vCPU's current task and its process data equal the
 * task the sim runs there, and pt_regs (RDI) holds the call's number and arguments.
 */
static void trap_and_check(struct vm *v, const char *fn, int nr, unsigned want)
{
	struct dt_trap_insn insn;
	uint64_t addr, kcr3 = dt_guest_kernel_cr3(v->g);
	uint8_t orig;
	unsigned got = 0, spins = 0;

	ck_assert_int_eq(dt_guest_sym_va(v->g, fn, &addr), 0);
	ck_assert_int_eq(dt_hv_sim.trap_insn(v->dom, &insn), 0);
	ck_assert_int_eq(insn.len, 1);
	ck_assert_int_eq(dt_hv_sim.read_va(v->dom, kcr3, addr, &orig, 1), 1);
	ck_assert_int_eq(dt_hv_sim.set_trapping(v->dom, true), 0);
	ck_assert_int_eq(dt_hv_sim.write_va(v->dom, kcr3, addr, insn.bytes, 1), 0);
	ck_assert_int_eq(dt_hv_sim.unpause(v->dom), 0);
	while (got < want) {
		struct dt_proc_info pi;
		struct dt_sim_task *t;
		struct dt_trap trap;
		uint64_t cur, args[6];
		int64_t orig_ax;
		size_t n, i;
		int r = dt_hv_sim.next_trap(v->dom, &trap);

		if (r == -EAGAIN) {
			ck_assert_uint_lt(++spins, 20000);
			usleep(1000);
			continue;
		}
		ck_assert_int_eq(r, 0);
		ck_assert_uint_eq(trap.gla, addr);
		ck_assert_uint_eq(trap.regs.cpl, 0);
		ck_assert_int_eq(dt_guest_current_task(v->g, trap.vcpu, &trap.regs, &cur), 0);
		ck_assert_int_eq(dt_sim_tasks(v->h, v->domid, &t, &n), 0);
		for (i = 0; i < n && t[i].on_vcpu != (int)trap.vcpu; i++)
			;
		ck_assert_uint_lt(i, n);
		ck_assert_uint_eq(cur, t[i].task_va);
		ck_assert_int_eq(dt_guest_proc_info(v->g, cur, &pi), 0);
		ck_assert_int_eq(pi.pid, t[i].pid);
		ck_assert_int_eq(pi.tgid, t[i].tgid);
		ck_assert_int_eq(pi.ppid, t[i].ppid);
		ck_assert_int_eq(pi.rppid, t[i].real_ppid);
		ck_assert_uint_eq(pi.uid, t[i].uid);
		ck_assert_uint_eq(pi.egid, t[i].egid);
		ck_assert_str_eq(pi.comm, t[i].comm);
		free(t);
		/* the wrapper's argument is the task's pt_regs */
		ck_assert_int_eq(dt_guest_syscall_args(v->g, trap.regs.rdi, false, args, &orig_ax),
				 0);
		ck_assert_int_eq(orig_ax, nr);
		/* step over: restore the byte, retry; re-arm while more hits are wanted */
		ck_assert_int_eq(dt_hv_sim.write_va(v->dom, kcr3, addr, &orig, 1), 0);
		ck_assert_int_eq(dt_hv_sim.resume(v->dom, &trap, DT_RESUME_RETRY, NULL), 0);
		if (++got < want) {
			usleep(2000);
			ck_assert_int_eq(dt_hv_sim.write_va(v->dom, kcr3, addr, insn.bytes, 1), 0);
		}
	}
	ck_assert_int_eq(dt_hv_sim.pause(v->dom), 0);
	/* answer any trap still queued by another vCPU, the byte is gone now */
	for (;;) {
		struct dt_trap trap;

		if (dt_hv_sim.next_trap(v->dom, &trap))
			break;
		ck_assert_int_eq(dt_hv_sim.resume(v->dom, &trap, DT_RESUME_RETRY, NULL), 0);
	}
	ck_assert_int_eq(dt_hv_sim.set_trapping(v->dom, false), 0);
}

START_TEST(current_task_at_traps)
{
	struct dt_sim_host *h;
	struct dt_hv *hv = open_host(2, true, &h);
	unsigned i;

	for (i = 0; i < 2; i++) {
		struct vm v;

		vm_open(&v, hv, h, i, true);
		trap_and_check(&v, "__x64_sys_openat", 257, 6);
		trap_and_check(&v, "__x64_sys_write", 1, 3);
		vm_close(&v);
	}
	ck_assert_uint_eq(dt_sim_crashes(h, 0, NULL, 0), 0);
	ck_assert(!dt_sim_any_paused(h));
	dt_hv_sim.close(hv);
}
END_TEST

START_TEST(profile_fallback)
{
	struct dt_sim_host *h;
	struct dt_hv *hv = open_host(2, true, &h);
	unsigned i;

	for (i = 0; i < 2; i++) {
		struct dt_guest_params gp;
		struct vm v;
		char err[512] = "";

		vm_open(&v, hv, h, i, false);
		ck_assert_str_ne(v.ki.profile_path, "");
		gp = (struct dt_guest_params){ .vm_name = v.name, .symtab = v.tab,
					       .profile_path = v.ki.profile_path,
					       .prefer_profile = true };
		ck_assert_msg(!dt_guest_open(&dt_hv_sim, v.dom, &gp, &v.g, err, sizeof(err)),
			      "%s", err);
		ck_assert_int_eq(dt_guest_offsets_source(v.g), DT_OFFSRC_PROFILE);
		check_offsets(&v, dt_guest_offsets(v.g));
		compare_with_truth(&v);
		vm_close(&v);
	}
	dt_hv_sim.close(hv);
}
END_TEST

/* Write the map at `path` with `edit` applied to each line (returns the new path). */
static char *edited_map(const char *path, const char *tag, void (*edit)(char *line))
{
	char *out, line[1024];
	FILE *in, *o;

	ck_assert_int_ge(asprintf(&out, "%s/System.map-%s", tmpdir, tag), 0);
	in = fopen(path, "r");
	o = fopen(out, "w");
	ck_assert(in && o);
	while (fgets(line, sizeof(line), in)) {
		edit(line);
		fputs(line, o);
	}
	fclose(in);
	fclose(o);
	return out;
}

/* another build: all text 2 MiB further */
static void shift_text(char *line)
{
	unsigned long long a;
	char type, name[512];

	if (sscanf(line, "%llx %c %511s", &a, &type, name) == 3 && (type == 'T' || type == 't'))
		sprintf(line, "%016llx %c %s\n", a + 0x200000, type, name);
}

/* one function moved */
static void move_getpid(char *line)
{
	unsigned long long a;
	char type, name[512];

	if (sscanf(line, "%llx %c %511s", &a, &type, name) == 3 &&
	    !strcmp(name, "__x64_sys_getpid"))
		sprintf(line, "%016llx %c %s\n", a + 0x40, type, name);
}

static int open_with_map(struct vm *v, const char *map, const char *profile, char *err,
			 size_t errlen)
{
	struct dt_guest_params gp;
	struct dt_symtab *tab = NULL;
	struct dt_guest *g = (struct dt_guest *)0x1;
	int r;

	ck_assert_msg(!dt_symtab_load(map, &tab, err, errlen), "%s", err);
	gp = (struct dt_guest_params){ .vm_name = v->name, .symtab = tab, .profile_path = profile };
	r = dt_guest_open(&dt_hv_sim, v->dom, &gp, &g, err, errlen);
	if (!r)
		dt_guest_close(g);
	else
		ck_assert_ptr_eq(g, (struct dt_guest *)0x1);
	dt_symtab_free(tab);
	return r;
}

START_TEST(wrong_maps_refused)
{
	struct dt_sim_snapshot *snap;
	struct dt_sim_host *h;
	struct dt_hv *hv = open_host(2, true, &h);
	struct vm v0, v1;
	char err[512] = "", *m;
	uint64_t diff;

	vm_open(&v0, hv, h, 0, false);
	vm_open(&v1, hv, h, 1, false);
	ck_assert_int_ne(v0.ki.flavour, v1.ki.flavour);
	ck_assert_int_eq(dt_sim_snapshot_take(h, v1.domid, &snap), 0);

	/* another VM's map (the other kernel) */
	ck_assert_int_eq(open_with_map(&v1, v0.ki.sysmap_path, NULL, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, v1.name));
	ck_assert_ptr_nonnull(strstr(err, v0.ki.sysmap_path));
	ck_assert_ptr_nonnull(strstr(err, "does not fit"));

	/* its own map, shifted as another build would be */
	m = edited_map(v1.ki.sysmap_path, "shifted", shift_text);
	ck_assert_int_eq(open_with_map(&v1, m, NULL, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, v1.name));
	ck_assert_ptr_nonnull(strstr(err, m));
	free(m);

	/* one symbol edited */
	m = edited_map(v1.ki.sysmap_path, "edited", move_getpid);
	ck_assert_int_eq(open_with_map(&v1, m, NULL, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "sys_call_table[39]"));
	ck_assert_ptr_nonnull(strstr(err, m));
	free(m);

	/* the right one works */
	ck_assert_int_eq(open_with_map(&v1, v1.ki.sysmap_path, NULL, err, sizeof(err)), 0);

	/* the guest is byte-identical: nothing was written */
	ck_assert_int_eq(dt_sim_snapshot_compare(h, snap, &diff), 0);
	dt_sim_snapshot_free(snap);
	vm_close(&v0);
	vm_close(&v1);
	ck_assert_uint_eq(dt_sim_crashes(h, 0, NULL, 0), 0);
	dt_hv_sim.close(hv);
}
END_TEST

static uint64_t kread64(struct vm *v, uint64_t va)
{
	uint64_t x = 0;

	ck_assert_int_eq(dt_hv_sim.read_va(v->dom, dt_guest_kernel_cr3(v->g), va, &x, 8), 8);
	return x;
}

static void kwrite64(struct vm *v, uint64_t va, uint64_t x)
{
	ck_assert_int_eq(dt_hv_sim.write_va(v->dom, dt_guest_kernel_cr3(v->g), va, &x, 8), 0);
}

START_TEST(hostile_guest)
{
	struct dt_proc_info anc[DT_ANCESTRY_MAX];
	struct dt_sim_snapshot *snap;
	struct dt_pslist_entry *ps;
	struct dt_sim_task *t;
	struct dt_sim_host *h;
	struct dt_hv *hv = open_host(1, true, &h);
	const struct dt_offsets *o;
	struct vm v;
	char err[512] = "", junk[64];
	uint64_t start, save_next, save_p4, save_p5, diff, kcr3;
	uint8_t saved[64];
	size_t n, nps, na;
	int stop;

	vm_open(&v, hv, h, 0, true);
	ck_assert_int_eq(dt_hv_sim.unpause(v.dom), 0);
	usleep(100 * 1000);
	ck_assert_int_eq(dt_hv_sim.pause(v.dom), 0);
	o = dt_guest_offsets(v.g);
	kcr3 = dt_guest_kernel_cr3(v.g);
	ck_assert_int_eq(dt_sim_tasks(h, v.domid, &t, &n), 0);
	ck_assert_uint_ge(n, 6);

	/* the task list loops back from t[4] to t[2]: bounded, partial, -ELOOP */
	save_next = kread64(&v, t[4].task_va + o->off[DT_OFF_TASK_TASKS]);
	kwrite64(&v, t[4].task_va + o->off[DT_OFF_TASK_TASKS],
		 t[2].task_va + o->off[DT_OFF_TASK_TASKS]);
	ck_assert_int_eq(dt_guest_pslist(v.g, &ps, &nps, &stop), 0);
	ck_assert_int_eq(stop, -ELOOP);
	ck_assert_uint_eq(nps, 5);
	ck_assert_int_eq(ps[4].pid, t[4].pid);
	free(ps);
	/* ... or into user space */
	kwrite64(&v, t[4].task_va + o->off[DT_OFF_TASK_TASKS], 0x00007ffff0000000ull);
	ck_assert_int_eq(dt_guest_pslist(v.g, &ps, &nps, &stop), 0);
	ck_assert_int_eq(stop, -EFAULT);
	ck_assert_uint_eq(nps, 5);
	free(ps);
	kwrite64(&v, t[4].task_va + o->off[DT_OFF_TASK_TASKS], save_next);
	ck_assert_int_eq(dt_guest_pslist(v.g, &ps, &nps, &stop), 0);
	ck_assert_int_eq(stop, 0);
	ck_assert_uint_eq(nps, n);
	free(ps);

	/* a parent cycle t[4] <-> t[5]: the ancestry walk stops */
	save_p4 = kread64(&v, t[4].task_va + o->off[DT_OFF_TASK_PARENT]);
	save_p5 = kread64(&v, t[5].task_va + o->off[DT_OFF_TASK_PARENT]);
	kwrite64(&v, t[4].task_va + o->off[DT_OFF_TASK_PARENT], t[5].task_va);
	kwrite64(&v, t[5].task_va + o->off[DT_OFF_TASK_PARENT], t[4].task_va);
	dt_guest_invalidate_all(v.g);
	ck_assert_int_eq(dt_guest_ancestry(v.g, t[5].task_va, false, anc, DT_ANCESTRY_MAX, &na),
			 0);
	ck_assert_uint_eq(na, 1);
	ck_assert_int_eq(anc[0].pid, t[4].pid);
	kwrite64(&v, t[4].task_va + o->off[DT_OFF_TASK_PARENT], save_p4);
	kwrite64(&v, t[5].task_va + o->off[DT_OFF_TASK_PARENT], save_p5);
	dt_guest_invalidate(v.g, t[4].task_va);
	dt_guest_invalidate(v.g, t[5].task_va);
	free(t);

	/* a corrupt BTF blob: refused without a profile, the profile with one */
	ck_assert_int_eq(dt_sim_snapshot_take(h, v.domid, &snap), 0);
	ck_assert_int_eq(dt_guest_sym_va(v.g, "__start_BTF", &start), 0);
	ck_assert_int_eq(dt_hv_sim.read_va(v.dom, kcr3, start + 24, saved, sizeof(saved)), 64);
	memset(junk, 0xff, sizeof(junk));
	ck_assert_int_eq(dt_hv_sim.write_va(v.dom, kcr3, start + 24, junk, sizeof(junk)), 0);
	ck_assert_int_eq(open_with_map(&v, v.ki.sysmap_path, NULL, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "BTF"));
	ck_assert_ptr_nonnull(strstr(err, v.name));
	ck_assert_int_eq(open_with_map(&v, v.ki.sysmap_path, v.ki.profile_path, err, sizeof(err)),
			 0);
	/* a BTF header claiming a huge type section */
	memset(junk, 0, sizeof(junk));
	ck_assert_int_eq(dt_hv_sim.read_va(v.dom, kcr3, start, junk, 24), 24);
	ck_assert_int_eq(dt_hv_sim.write_va(v.dom, kcr3, start + 24, saved, sizeof(saved)), 0);
	{
		uint8_t hdr[24];
		uint32_t big = 0x7ffffff0;

		memcpy(hdr, junk, 24);
		memcpy(hdr + 12, &big, 4); /* type_len */
		ck_assert_int_eq(dt_hv_sim.write_va(v.dom, kcr3, start, hdr, 24), 0);
		ck_assert_int_eq(open_with_map(&v, v.ki.sysmap_path, NULL, err, sizeof(err)),
				 -EINVAL);
		ck_assert_int_eq(dt_hv_sim.write_va(v.dom, kcr3, start, junk, 24), 0);
	}
	ck_assert_int_eq(dt_sim_snapshot_compare(h, snap, &diff), 0);
	dt_sim_snapshot_free(snap);
	ck_assert_int_eq(open_with_map(&v, v.ki.sysmap_path, NULL, err, sizeof(err)), 0);
	vm_close(&v);
	ck_assert_uint_eq(dt_sim_crashes(h, 0, NULL, 0), 0);
	dt_hv_sim.close(hv);
}
END_TEST

/*
 * Which file a struct file is, rebuilt from dentries and mounts (engine/guest/vfs.c),
 * against objects a hostile guest laid out: a good chain across a mount, a d_parent
 * cycle, a mount cycle, a name in user space, a name with a slash, a path too long.
 */
START_TEST(file_paths_hostile)
{
	struct dt_sim_host *h;
	struct dt_hv *hv = open_host(1, false, &h);
	const struct dt_offsets *o;
	struct vm v;
	uint64_t pob_va, base, file, mnt_root, mnt_tmp, d_root, d_tmp, d_tmproot, d_etc, d_sh, d_x;
	uint8_t saved[8192], zero[8192] = { 0 };
	char buf[256], tiny[8], big[2048];

	vm_open(&v, hv, h, 0, true);
	o = dt_guest_offsets(v.g);
	ck_assert_int_eq(dt_guest_sym_va(v.g, "page_offset_base", &pob_va), 0);
	base = kread64(&v, pob_va) + (40u << 20); /* a scratch page pair in the direct map */
	ck_assert_int_eq(dt_hv_sim.read_va(v.dom, dt_guest_kernel_cr3(v.g), base, saved,
					   sizeof(saved)),
			 (ssize_t)sizeof(saved));
	ck_assert_int_eq(dt_hv_sim.write_va(v.dom, dt_guest_kernel_cr3(v.g), base, zero,
					    sizeof(zero)),
			 0);
	file = base, mnt_root = base + 0x400, mnt_tmp = base + 0x600;
	d_root = base + 0x800, d_tmp = base + 0xa00, d_tmproot = base + 0xc00;
	d_etc = base + 0xe00, d_sh = base + 0x1000, d_x = base + 0x1200;
#define DENTRY(d, parent, name)                                                              \
	do {                                                                                 \
		kwrite64(&v, (d) + o->off[DT_OFF_DENTRY_PARENT], (parent));                  \
		kwrite64(&v, (d) + o->off[DT_OFF_DENTRY_NAME] + o->off[DT_OFF_QSTR_NAME],     \
			 (d) + 0x100);                                                       \
		ck_assert_int_eq(dt_hv_sim.write_va(v.dom, dt_guest_kernel_cr3(v.g), (d) + 0x100, \
						    name, sizeof(name)),                     \
				 0);                                                         \
	} while (0)
	DENTRY(d_root, d_root, "/");
	DENTRY(d_tmp, d_root, "tmp");
	DENTRY(d_tmproot, d_tmproot, "/");
	DENTRY(d_etc, d_root, "etc");
	DENTRY(d_sh, d_etc, "shadow");
	DENTRY(d_x, d_tmproot, "x");
	kwrite64(&v, mnt_root + o->off[DT_OFF_MOUNT_PARENT], mnt_root);
	kwrite64(&v, mnt_tmp + o->off[DT_OFF_MOUNT_PARENT], mnt_root);
	kwrite64(&v, mnt_tmp + o->off[DT_OFF_MOUNT_MOUNTPOINT], d_tmp);
	/* /etc/shadow on the root mount */
	kwrite64(&v, file + o->off[DT_OFF_FILE_PATH] + o->off[DT_OFF_PATH_MNT],
		 mnt_root + o->off[DT_OFF_MOUNT_MNT]);
	kwrite64(&v, file + o->off[DT_OFF_FILE_PATH] + o->off[DT_OFF_PATH_DENTRY], d_sh);
	ck_assert_int_eq(dt_guest_file_path(v.g, file, buf, sizeof(buf)), 11);
	ck_assert_str_eq(buf, "/etc/shadow");
	ck_assert_int_eq(dt_guest_file_path(v.g, file, tiny, sizeof(tiny)), -ENAMETOOLONG);
	/* /tmp/x across the tmpfs mounted on /tmp */
	kwrite64(&v, file + o->off[DT_OFF_FILE_PATH] + o->off[DT_OFF_PATH_MNT],
		 mnt_tmp + o->off[DT_OFF_MOUNT_MNT]);
	kwrite64(&v, file + o->off[DT_OFF_FILE_PATH] + o->off[DT_OFF_PATH_DENTRY], d_x);
	ck_assert_int_eq(dt_guest_file_path(v.g, file, buf, sizeof(buf)), 6);
	ck_assert_str_eq(buf, "/tmp/x");
	/* the root dentry itself */
	kwrite64(&v, file + o->off[DT_OFF_FILE_PATH] + o->off[DT_OFF_PATH_DENTRY], d_tmproot);
	ck_assert_int_eq(dt_guest_file_path(v.g, file, buf, sizeof(buf)), 4);
	ck_assert_str_eq(buf, "/tmp");
	/* a mount cycle: tmp's parent is a mount whose parent is tmp */
	kwrite64(&v, mnt_root + o->off[DT_OFF_MOUNT_PARENT], mnt_tmp);
	kwrite64(&v, mnt_root + o->off[DT_OFF_MOUNT_MOUNTPOINT], d_tmproot);
	ck_assert_int_eq(dt_guest_file_path(v.g, file, buf, sizeof(buf)), -ELOOP);
	kwrite64(&v, mnt_root + o->off[DT_OFF_MOUNT_PARENT], mnt_root);
	/* a d_parent cycle etc <-> shadow, never reaching a root */
	kwrite64(&v, file + o->off[DT_OFF_FILE_PATH] + o->off[DT_OFF_PATH_MNT],
		 mnt_root + o->off[DT_OFF_MOUNT_MNT]);
	kwrite64(&v, file + o->off[DT_OFF_FILE_PATH] + o->off[DT_OFF_PATH_DENTRY], d_sh);
	kwrite64(&v, d_etc + o->off[DT_OFF_DENTRY_PARENT], d_sh);
	ck_assert_int_eq(dt_guest_file_path(v.g, file, big, sizeof(big)), -ELOOP); /* 64 names */
	ck_assert_int_eq(dt_guest_file_path(v.g, file, buf, sizeof(buf)), -ENAMETOOLONG);
	kwrite64(&v, d_etc + o->off[DT_OFF_DENTRY_PARENT], d_root);
	/* a name in user space, a name with a slash, a parent that is not a kernel address */
	kwrite64(&v, d_sh + o->off[DT_OFF_DENTRY_NAME] + o->off[DT_OFF_QSTR_NAME], 0x7ffff000ull);
	ck_assert_int_eq(dt_guest_file_path(v.g, file, buf, sizeof(buf)), -EFAULT);
	DENTRY(d_sh, d_etc, "a/b");
	ck_assert_int_eq(dt_guest_file_path(v.g, file, buf, sizeof(buf)), -EINVAL);
	kwrite64(&v, d_sh + o->off[DT_OFF_DENTRY_PARENT], 0x1000);
	ck_assert_int_eq(dt_guest_file_path(v.g, file, buf, sizeof(buf)), -EFAULT);
#undef DENTRY
	ck_assert_int_eq(dt_hv_sim.write_va(v.dom, dt_guest_kernel_cr3(v.g), base, saved,
					    sizeof(saved)),
			 0);
	vm_close(&v);
	ck_assert_uint_eq(dt_sim_crashes(h, 0, NULL, 0), 0);
	dt_hv_sim.close(hv);
}
END_TEST

/* the direct-map shortcut's tests: dmap_shortcut, dmap_*_turns_off, dmap_without_symbol */
#include "check_guest_dmap.h"

static Suite *guest_suite(void)
{
	Suite *s = suite_create("guest");
	TCase *tc = tcase_create("sim");

	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, attach_both_flavours);
	tcase_add_test(tc, processes_match_the_sim);
	tcase_add_test(tc, file_paths_hostile);
	tcase_add_test(tc, current_task_at_traps);
	tcase_add_test(tc, profile_fallback);
	tcase_add_test(tc, wrong_maps_refused);
	tcase_add_test(tc, hostile_guest);
	tcase_add_test(tc, dmap_shortcut);
	tcase_add_test(tc, dmap_mismatch_turns_off);
	tcase_add_test(tc, dmap_not_present_turns_off);
	tcase_add_loop_test(tc, dmap_without_symbol, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/dt-guest-XXXXXX");
	if (!mkdtemp(tmpdir))
		return EXIT_FAILURE;
	sr = srunner_create(guest_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	/* leave nothing behind: the maps and profiles the sim wrote */
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", tmpdir);
		if (system(cmd))
			failed++;
	}
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
