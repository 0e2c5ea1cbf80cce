// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness for guest introspection (engine/guest/) against a hostile guest: a
 * simulated VM with a small process tree is booted once and paused; each input rewrites
 * fields of its task_structs, the per-CPU current-task pointers and the syscall-metadata
 * array with chosen values (other tasks' addresses, self-loops, kernel text, user or
 * unmapped addresses, raw bytes), then every reader runs: current task, process data
 * (plain and cached), both ancestry chains, the process list, syscall metadata. What must
 * hold on any input aborts when it does not: bounded counts, NUL-terminated strings, no
 * crash, no hang (libFuzzer's -timeout). The original bytes are put back after each input.
 *
 * Input: records of 11 bytes, at most 64: [target] [field] [how] [value, 8 bytes LE].
 *   target  % (tasks + 2): a task; tasks: a vCPU's current pointer; tasks + 1: metadata
 *   field   which task_struct field (pid, tgid, real_parent, parent, tasks.next/prev,
 *           comm, cred, real_cred, mm, flags), or any 8-byte slot of the task_struct
 *   how     % 6: raw value; a task's address (value % tasks) + a small delta; kernel text;
 *           0; a user address; the target itself (a self-loop)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domtrace/guest.h"
#include "domtrace/sim.h"

#define MAX_RECORDS 64
#define REC 11
#define MAX_TASKS 64
#define META_SLOTS 16 /* metadata array entries the harness may rewrite */

static struct {
	struct dt_hv *hv;
	struct dt_hv_dom *dom;
	struct dt_symtab *tab;
	struct dt_guest *g;
	uint64_t kcr3, text, meta;
	struct dt_sim_offsets o;
	uint64_t task[MAX_TASKS], pcpu_cur[2];
	uint8_t *saved_task[MAX_TASKS];
	uint64_t saved_cur[2], saved_meta[META_SLOTS];
	size_t ntasks;
} F;

static const char scenario[] = "proc 100 comm=sshd\n"
			       "proc 200 comm=bash ppid=100 uid=1000 gid=1000\n"
			       "proc 300 comm=sh ppid=200 uid=1000 gid=1000\n"
			       "proc 301 comm=nc ppid=300 uid=1001 gid=1001\n"
			       "100 await never\n200 await never\n300 await never\n301 await never\n";

static void die(const char *what, int r)
{
	fprintf(stderr, "fuzz_guest: %s: %s\n", what, strerror(r < 0 ? -r : r));
	abort();
}

static void rd(uint64_t va, void *buf, size_t len)
{
	if (dt_hv_sim.read_va(F.dom, F.kcr3, va, buf, len) != (ssize_t)len)
		die("read", EFAULT);
}

static void wr(uint64_t va, const void *buf, size_t len)
{
	int r = dt_hv_sim.write_va(F.dom, F.kcr3, va, buf, len);

	if (r < 0)
		die("write", r);
}

static char dir[] = "/tmp/dt-fuzz-guest-XXXXXX";

static void remove_dir(void)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)!system(cmd);
}

static void setup(void)
{
	struct dt_guest_params gp = { .vm_name = "fuzz", .vcpu = 0 };
	struct dt_sim_kernel_info ki;
	struct dt_sim_params p;
	struct dt_sim_task *t = NULL;
	struct dt_sim_host *h;
	char err[512] = "";
	uint64_t pcpu_off, cur;
	size_t n, i;
	int r;

	if (!mkdtemp(dir))
		die("mkdtemp", errno);
	atexit(remove_dir);
	dt_sim_params_default(&p);
	p.n_vms = 1;
	p.vcpus = 2;
	p.workload = false;
	p.sysmap_dir = dir;
	if ((r = dt_hv_sim.open(&p, &F.hv)) < 0)
		die("sim open", r);
	h = dt_sim_host_from(F.hv);
	if ((r = dt_sim_scenario_text(h, scenario, err, sizeof(err))) < 0) {
		fprintf(stderr, "fuzz_guest: %s\n", err);
		abort();
	}
	if ((r = dt_hv_sim.dom_open(F.hv, 1, &F.dom)) < 0)
		die("dom_open", r);
	/* the scripted processes run to their await, then the whole VM stands still */
	nanosleep(&(struct timespec){ 0, 300 * 1000 * 1000 }, NULL);
	if ((r = dt_hv_sim.pause(F.dom)) < 0)
		die("pause", r);
	if ((r = dt_sim_tasks(h, 1, &t, &n)) < 0)
		die("tasks", r);
	if (dt_sim_kernel_info(h, 1, &ki) < 0 || dt_sim_offsets(h, 1, &F.o) < 0)
		die("kernel info", EINVAL);
	F.kcr3 = ki.kernel_cr3;
	F.text = ki.text;
	for (i = 0; i < n && F.ntasks < MAX_TASKS; i++) {
		F.task[F.ntasks] = t[i].task_va;
		F.saved_task[F.ntasks] = malloc(F.o.task_size);
		rd(t[i].task_va, F.saved_task[F.ntasks], F.o.task_size);
		F.ntasks++;
	}
	free(t);
	for (i = 0; i < 2; i++) {
		if (dt_sim_symbol(h, 1, "__per_cpu_offset", &pcpu_off) < 0)
			die("__per_cpu_offset", ENOENT);
		rd(pcpu_off + 8 * i, &cur, 8);
		F.pcpu_cur[i] = cur + F.o.percpu_current;
		rd(F.pcpu_cur[i], &F.saved_cur[i], 8);
	}
	if (dt_sim_symbol(h, 1, "__start_syscalls_metadata", &F.meta) == 0)
		rd(F.meta, F.saved_meta, sizeof(F.saved_meta));
	if ((r = dt_symtab_load(ki.sysmap_path, &F.tab, err, sizeof(err))) < 0 ||
	    (gp.symtab = F.tab, r = dt_guest_open(&dt_hv_sim, F.dom, &gp, &F.g, err,
						    sizeof(err))) < 0) {
		fprintf(stderr, "fuzz_guest: %s\n", err);
		abort();
	}
	fprintf(stderr, "fuzz_guest: %zu tasks, %s syscall metadata, kernel %s\n", F.ntasks,
		F.meta ? "with" : "no", dt_guest_release(F.g));
}

static uint32_t field_offset(uint8_t field, uint64_t raw)
{
	const uint32_t fields[] = { F.o.task_pid,	  F.o.task_tgid,      F.o.task_real_parent,
				    F.o.task_parent,	  F.o.task_tasks,     F.o.task_tasks + 8,
				    F.o.task_comm,	  F.o.task_comm + 8,  F.o.task_cred,
				    F.o.task_real_cred,	  F.o.task_mm,	      F.o.task_flags };
	size_t nf = sizeof(fields) / sizeof(fields[0]);

	if (field < 4 * nf)
		return fields[field % nf];
	return (uint32_t)(raw % (F.o.task_size / 8)) * 8; /* any slot */
}

static uint64_t value_of(uint8_t how, uint64_t raw, uint64_t self)
{
	switch (how % 6) {
	case 1:
		return F.task[raw % F.ntasks] + (uint64_t)(int64_t)(int8_t)(raw >> 56);
	case 2:
		return F.text + (raw & 0xffffff);
	case 3:
		return 0;
	case 4:
		return 0x00007ffff7dd0000ull + (raw & 0xffff);
	case 5:
		return self;
	default:
		return raw;
	}
}

static void apply(const uint8_t *rec)
{
	uint8_t target = rec[0], field = rec[1], how = rec[2];
	uint64_t raw, at, v;

	memcpy(&raw, rec + 3, 8);
	target %= (uint8_t)(F.ntasks + 2);
	if (target < F.ntasks) {
		uint32_t off = field_offset(field, raw);

		at = F.task[target] + off;
		v = value_of(how, raw, F.task[target] + off);
		/* a 4-byte field written whole, comm and pointers as 8 bytes */
		wr(at, &v, off + 8 <= F.o.task_size ? 8 : 4);
	} else if (target == F.ntasks) {
		at = F.pcpu_cur[field & 1];
		v = value_of(how, raw, at);
		wr(at, &v, 8);
	} else if (F.meta) {
		at = F.meta + 8 * (field % META_SLOTS);
		v = value_of(how, raw, at);
		wr(at, &v, 8);
	}
}

static void restore(void)
{
	size_t i;

	for (i = 0; i < F.ntasks; i++)
		wr(F.task[i], F.saved_task[i], F.o.task_size);
	for (i = 0; i < 2; i++)
		wr(F.pcpu_cur[i], &F.saved_cur[i], 8);
	if (F.meta)
		wr(F.meta, F.saved_meta, sizeof(F.saved_meta));
	dt_guest_invalidate_all(F.g);
}

static void check_proc(const struct dt_proc_info *pi)
{
	if (memchr(pi->comm, 0, sizeof(pi->comm)) == NULL)
		abort(); /* comm not terminated */
}

static void exercise(void)
{
	struct dt_proc_info pi, anc[DT_ANCESTRY_MAX];
	struct dt_pslist_entry *ps = NULL;
	struct dt_guest_syscall_meta *meta = NULL;
	struct dt_regs regs;
	uint64_t task;
	size_t i, k, n;
	int stop;

	for (i = 0; i < 2; i++) {
		if (dt_hv_sim.get_regs(F.dom, (uint32_t)i, &regs) == 0 &&
		    dt_guest_current_task(F.g, (uint32_t)i, &regs, &task) == 0 &&
		    !dt_kernel_addr(task))
			abort(); /* the contract: a kernel address or an error */
	}
	for (i = 0; i < F.ntasks; i++) {
		if (dt_guest_proc_info(F.g, F.task[i], &pi) == 0)
			check_proc(&pi);
		if (dt_guest_proc_info_cached(F.g, F.task[i], &pi) == 0)
			check_proc(&pi);
		for (k = 0; k < 2; k++) {
			n = 0;
			if (dt_guest_ancestry(F.g, F.task[i], k, anc, DT_ANCESTRY_MAX, &n) == 0) {
				if (n > DT_ANCESTRY_MAX)
					abort();
				while (n--)
					check_proc(&anc[n]);
			}
		}
	}
	if (dt_guest_pslist(F.g, &ps, &n, &stop) == 0) {
		if (n > DT_PSLIST_MAX)
			abort();
		for (i = 0; i < n; i++)
			if (!memchr(ps[i].comm, 0, sizeof(ps[i].comm)))
				abort();
		free(ps);
	}
	if (dt_guest_syscall_meta(F.g, &meta, &n) == 0) {
		if (n > DT_META_MAX)
			abort();
		for (i = 0; i < n; i++)
			if (meta[i].nargs > 6 || !memchr(meta[i].name, 0, sizeof(meta[i].name)))
				abort();
		free(meta);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t i;

	if (!F.g)
		setup();
	for (i = 0; i + REC <= size && i / REC < MAX_RECORDS; i += REC)
		apply(data + i);
	exercise();
	restore();
	return 0;
}
