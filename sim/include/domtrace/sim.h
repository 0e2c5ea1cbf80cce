/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sim.h - the simulated Xen host behind `dt_hv_sim`: its parameters, and hooks that let
 * tests and benches see what the simulated guests really did.
 *
 * The engine sees simulated guests only through model/include/domtrace/hv.h. Everything in this
 * header is for the code that opens the backend (params) and for tests/bench (hooks); the
 * engine proper must never call the hooks.
 *
 * Threads: every function here may be called from any thread, concurrently with the hv.h
 * operations and with the guests running. A hook's answer is a snapshot; guests keep running.
 * Ownership: nothing returned points into the simulator unless said; out-arrays are malloc()ed
 * when named ret_*, and the caller frees them.
 *
 * docs/SIM.md describes the guest model, the files written and the scenario language.
 */
#ifndef DOMTRACE_SIM_H
#define DOMTRACE_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <domtrace/hv.h>
#include <domtrace/lathist.h>

enum dt_sim_flavour {
	DT_SIM_FLAVOUR_AUTO = 0, /* alternate 6.1 / 6.6 by VM index */
	DT_SIM_FLAVOUR_61,	 /* nop5 entry, jmp __x86_return_thunk, per-CPU current_task */
	DT_SIM_FLAVOUR_66,	 /* endbr64 + nop5 entry, ret; int3, pcpu_hot.current_task */
	_DT_SIM_FLAVOUR_MAX,
};

/* How the kernel's own kallsyms tables are laid out in its .rodata (docs/SIM.md). */
enum dt_sim_ksyms {
	DT_SIM_KSYMS_AUTO = 0, /* by flavour: 6.1 -> REL_SEQS, 6.6 -> 64 */
	DT_SIM_KSYMS_NONE,     /* no kallsyms at all (CONFIG_KALLSYMS=n) */
	DT_SIM_KSYMS_ABS,      /* kallsyms_addresses, 8-byte markers (before 4.6) */
	DT_SIM_KSYMS_REL,      /* offsets + relative_base first, 8-byte markers (5.10, 6.1) */
	DT_SIM_KSYMS_64,       /* names first, u32 markers, offsets, seqs_of_names (6.4+) */
	DT_SIM_KSYMS_REL_SEQS, /* REL with u32 markers, then 3-byte seqs_of_names before the
				* token table (6.1.y stable, as Debian 12's; 6.2/6.3) */
	_DT_SIM_KSYMS_MAX,
};

/* One VM. Zero-initialised fields take the host's defaults. */
struct dt_sim_vm_params {
	char name[DT_VM_NAME_MAX]; /* "" = "sim-vm<index>" */
	enum dt_sim_flavour flavour;
	/* Kernel build variant. VMs with the same (flavour, build) run the same kernel: same
	 * System.map, same struct layout, different KASLR offsets. -1 = host's choice. */
	int build;
	enum dt_sim_ksyms ksyms; /* part of the build too; AUTO: the host's choice */
	uint32_t vcpus;	  /* 0 = host default (1..32) */
	uint32_t mem_mib; /* 0 = host default (32..4096) */
	uint64_t seed;	  /* KASLR and workload randomness; 0 = derived from host seed */
	bool no_workload; /* do not run the built-in workload in this VM */
	bool pv;	  /* list as a PV guest: traceable=false, dom_open -EOPNOTSUPP */
};

struct dt_sim_params {
	uint32_t n_vms;		     /* VMs created at open */
	const char *const *names;    /* n_vms names or NULL ("sim-vm0", ...) */
	uint32_t vcpus;		     /* per VM */
	uint32_t mem_mib;	     /* guest memory per VM, allocated lazily */
	enum dt_sim_flavour flavour; /* for the VMs created at open */
	uint64_t seed;		     /* every random choice derives from it */
	double rate;		     /* workload syscalls per second per vCPU; 0 = unpaced */
	bool workload;		     /* run the built-in workload */
	const char *scenario;	     /* scenario file run at open, or NULL */
	enum dt_trap_flavour trap;   /* what trap_insn() gives and what traps */
	const char *sysmap_dir;	     /* where System.map-<release> + profile go; NULL: none */
	enum dt_sim_ksyms ksyms;     /* kallsyms layout of the VMs created at open */
	bool pv_vm;		     /* also list one PV VM ("sim-pv") that is not traceable */
	bool no_kaslr;		     /* KASLR offset 0 and page_offset_base not randomised */
	bool snapshot_vms;	     /* snapshot each VM's kernel as it is created, for
				      * dt_sim_check_kernels (domtrace's own check at exit) */
	char *err;		     /* open() failures explained here (scenario errors) */
	size_t errlen;
};

/* Defaults: 2 VMs, 2 vCPUs, 64 MiB, flavours mixed, seed 1, rate 200, workload on, int3. */
void dt_sim_params_default(struct dt_sim_params *p);

/* ---- hooks (tests and bench only) ---- */

struct dt_sim_host;

/* The simulated host behind an hv opened with dt_hv_sim (NULL if hv is not one). */
struct dt_sim_host *dt_sim_host_from(struct dt_hv *hv);

/* Create a VM while running (its APPEARED note is queued), or destroy one (GONE queued;
 * vCPUs paused in traps are released; open handles then get -ENODEV). */
int dt_sim_vm_create(struct dt_sim_host *h, const struct dt_sim_vm_params *p,
		     uint32_t *ret_domid);
/* The same, with a snapshot (below) of its kernel taken before the VM is visible to
 * watchers, so that no breakpoint can be in it yet (*ret_snap NULL for a PV VM). */
struct dt_sim_snapshot;
int dt_sim_vm_create_snapshot(struct dt_sim_host *h, const struct dt_sim_vm_params *p,
			      uint32_t *ret_domid, struct dt_sim_snapshot **ret_snap);
int dt_sim_vm_destroy(struct dt_sim_host *h, uint32_t domid);
int dt_sim_vm_find(struct dt_sim_host *h, const char *name, uint32_t *ret_domid);
/* Start or stop the built-in workload of a running VM. */
int dt_sim_vm_workload(struct dt_sim_host *h, uint32_t domid, bool on);

/* The truth about a VM's kernel, for assertions. */
struct dt_sim_kernel_info {
	char release[64];      /* "6.1.0-sim-6.1", as in linux_banner */
	enum dt_sim_flavour flavour;
	int build;
	uint64_t kaslr_offset; /* runtime _text - 0xffffffff81000000 */
	uint64_t text;	       /* runtime _text */
	uint64_t page_offset_base;
	uint64_t init_task;    /* runtime address */
	uint64_t kernel_cr3;   /* init_top_pgt physical address */
	uint32_t vcpus;
	enum dt_trap_flavour trap;
	char sysmap_path[512]; /* "" when no sysmap_dir */
	char profile_path[512];
};
int dt_sim_kernel_info(struct dt_sim_host *h, uint32_t domid, struct dt_sim_kernel_info *ret);

/* A System.map symbol's runtime (KASLR-applied) address. Per-CPU symbols are returned
 * as the small offsets they are. -ENOENT if unknown. */
int dt_sim_symbol(struct dt_sim_host *h, uint32_t domid, const char *name, uint64_t *ret_addr);

/* The true structure layout of a VM's kernel (what its BTF and profile describe). */
struct dt_sim_offsets {
	uint32_t task_size, task_pid, task_tgid, task_real_parent, task_parent, task_tasks;
	uint32_t task_comm, task_cred, task_real_cred, task_mm, task_flags, task_stack;
	uint32_t task_exit_code, task_exit_state, task_children, task_sibling;
	uint32_t task_group_leader, task_state, task_start_time;
	uint32_t cred_uid, cred_gid, cred_suid, cred_sgid, cred_euid, cred_egid;
	uint32_t cred_fsuid, cred_fsgid;
	uint32_t mm_pgd, mm_arg_start, mm_arg_end;
	uint32_t binprm_filename, filename_name;
	uint64_t percpu_current; /* per-CPU offset of the current task pointer */
};
int dt_sim_offsets(struct dt_sim_host *h, uint32_t domid, struct dt_sim_offsets *ret);

/* Guest crashes recorded (a real guest would have crashed: oops, triple fault...). */
struct dt_sim_crash {
	uint32_t domid;
	uint32_t vcpu;
	uint64_t rip;
	uint8_t bytes[16]; /* guest bytes at rip (nbytes readable) */
	uint8_t nbytes;
	int pid;	   /* task running, -1 none */
	char reason[160];
};
/* Copies up to max crashes of domid (0: every VM, destroyed ones included); returns the
 * total count. */
size_t dt_sim_crashes(struct dt_sim_host *h, uint32_t domid, struct dt_sim_crash *out,
		      size_t max);

/* vCPUs now waiting for a resume() or held by pause() in domid (0: all VMs). The law
 * "no vCPU is ever left paused" is dt_sim_paused_vcpus(h, 0) == 0 after dom_close. */
unsigned dt_sim_paused_vcpus(struct dt_sim_host *h, uint32_t domid);
bool dt_sim_any_paused(struct dt_sim_host *h);

/* Guest-physical memory of domid, as a hypervisor sees it (tests of crash recovery: what
 * a guardian would read and write). 0, -ENOENT (no such VM), -EFAULT (outside memory). */
int dt_sim_phys_read(struct dt_sim_host *h, uint32_t domid, uint64_t gpa, void *buf, size_t len);
int dt_sim_phys_write(struct dt_sim_host *h, uint32_t domid, uint64_t gpa, const void *buf,
		      size_t len);

/* Byte-identical check of kernel text and rodata against an earlier snapshot. */
struct dt_sim_snapshot;
int dt_sim_snapshot_take(struct dt_sim_host *h, uint32_t domid, struct dt_sim_snapshot **ret);
/* 0 identical, 1 differs (*ret_first_diff = runtime address of the first different byte,
 * may be NULL), -errno. */
int dt_sim_snapshot_compare(struct dt_sim_host *h, const struct dt_sim_snapshot *snap,
			    uint64_t *ret_first_diff);
void dt_sim_snapshot_free(struct dt_sim_snapshot *snap);

/* With dt_sim_params.snapshot_vms: every VM this host ever created (at open, by a
 * scenario, by dt_sim_vm_create; PV ones have no kernel) compared with its snapshot
 * from before it was visible. A destroyed VM has nothing left to compare: counted. */
struct dt_sim_kernel_check {
	unsigned vms;	      /* VMs created, PV ones excluded */
	unsigned intact;      /* running, kernel byte-identical to its snapshot */
	unsigned differ;      /* running, kernel changed */
	unsigned destroyed;   /* destroyed before the check */
	uint32_t first_domid; /* the first VM that differs (0 if none) */
	uint64_t first_addr;  /* and the runtime address of its first different byte */
};
/* 0 and *ret; -EINVAL without snapshot_vms; -ENOMEM. */
int dt_sim_check_kernels(struct dt_sim_host *h, struct dt_sim_kernel_check *ret);

/* One system call as the guest saw it. */
struct dt_sim_call {
	uint64_t seq;	  /* per VM, from 1 */
	uint32_t domid;
	uint32_t vcpu;	  /* vCPU it entered on */
	uint32_t ret_vcpu; /* vCPU it returned to user mode on (noreturn: where it ended);
			    * differs from vcpu when the task slept in it and migrated */
	int pid, tgid;
	bool compat;	  /* i386 entry (int 0x80), nr is the i386 number */
	int nr;
	uint64_t args[6]; /* as the user process passed them */
	int64_t ret;	  /* what the process saw in rax (sign-extended for compat) */
	bool body_ran;	  /* the syscall's own code ran (false: aborted at entry) */
	bool done;	  /* returned to user mode, or exit never returning (noreturn) */
	bool noreturn;	  /* exit/exit_group/successful... that never came back */
	char comm[16];	  /* at entry */
	char label[32];	  /* scenario label, "" if none */
};
/* Calls of domid in the order they completed: *cursor counts completed calls (start at 0),
 * at most max are copied and *cursor moves past them. A bounded log (8192): entries
 * overwritten before being read are skipped and counted in *ret_lost (may be NULL). */
size_t dt_sim_calls_read(struct dt_sim_host *h, uint32_t domid, uint64_t *cursor,
			 struct dt_sim_call *out, size_t max, uint64_t *ret_lost);

/* Scenarios: load and start one (file or text). err gets "<file>:<line>: message". */
int dt_sim_scenario_load(struct dt_sim_host *h, const char *path, char *err, size_t errlen);
int dt_sim_scenario_text(struct dt_sim_host *h, const char *text, char *err, size_t errlen);
/* Wait until every scripted process has finished its script: 0, or -ETIMEDOUT. */
int dt_sim_scenario_wait(struct dt_sim_host *h, int timeout_ms);
/* The outcome of a labelled call: 0, -ENOENT (no such label), -EAGAIN (not done yet). */
int dt_sim_call_outcome(struct dt_sim_host *h, const char *label, struct dt_sim_call *ret);
/* Same, waiting up to timeout_ms for it to complete (-ETIMEDOUT). */
int dt_sim_call_wait(struct dt_sim_host *h, const char *label, int timeout_ms,
		     struct dt_sim_call *ret);

/* Open a gate: scripted `PID await NAME` steps, where no call defines NAME, go on from
 * here. A test holds a guest process this way until it has done its part (unlike a sleep,
 * whatever the machine's load). 0, -EEXIST (a call's label, or open already), -EINVAL. */
int dt_sim_gate_open(struct dt_sim_host *h, const char *name);

/* The guest's task list as the simulated kernel knows it. */
struct dt_sim_task {
	int pid, tgid, ppid, real_ppid;
	uint32_t uid, gid, suid, sgid, euid, egid, fsuid, fsgid;
	char comm[16];
	uint64_t task_va; /* runtime address of its task_struct */
	bool zombie, kthread, compat;
	int on_vcpu;	  /* vCPU it runs on now, -1 */
	/* The system call it is inside now (entered, not completed: running or asleep in
	 * it), as dt_sim_call numbers it; call_seq 0 if none. call_body_ran: its own code
	 * has run, so it is past its function's entry (and a probe there). */
	uint64_t call_seq;
	int call_nr;
	bool call_compat, call_body_ran;
};
int dt_sim_tasks(struct dt_sim_host *h, uint32_t domid, struct dt_sim_task **ret_tasks,
		 size_t *ret_n);

struct dt_sim_counters {
	uint64_t calls;	       /* syscalls entered */
	uint64_t calls_done;   /* returned to user */
	uint64_t aborted;      /* returned without the body running */
	uint64_t traps;	       /* traps posted to the trap queue */
	uint64_t resumes;
	uint64_t crashes;
	uint64_t forks, execs, exits;
	uint64_t switches;     /* context switches */
	uint64_t migrations;   /* task ran on another vCPU than last time */
	uint64_t insns;	       /* kernel instructions interpreted */
	/* How long each trapping vCPU stood still: from posting its trap to running again
	 * (the engine's round trip as the guest feels it). */
	struct dt_lathist trap_lat;
	/* A trap's time in the engine, split where the hypervisor's part begins: held, from
	 * the trap handed over (next_trap) to the answer called (resume), the engine's own
	 * work with its reads of the guest; answer, the resume call itself (the sim's
	 * xenevtchn_notify: waking that vCPU's thread). held + answer is what the engine
	 * times as "handling a trap", without the engine reading a clock for the split. */
	struct dt_lathist held_lat;
	struct dt_lathist answer_lat;
	/* The most guest bytes the engine read within one whole-domain pause (how long it
	 * held the guest stopped: attach's reads, not a kallsyms decode). */
	uint64_t pause_read_max;
};
/* domid 0: the sum over running VMs (pause_read_max: the largest). */
int dt_sim_counters(struct dt_sim_host *h, uint32_t domid, struct dt_sim_counters *ret);

#endif /* DOMTRACE_SIM_H */
