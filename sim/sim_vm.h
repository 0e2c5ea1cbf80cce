/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sim_vm.h - the simulated host, its VMs, vCPUs and the simulated kernel's tasks.
 * Private to sim/. Locking rules: see sim_priv.h.
 */
#ifndef DOMTRACE_SIM_VM_H
#define DOMTRACE_SIM_VM_H

#include "sim_priv.h"

#define SIM_HOST_MAGIC 0x53494d48u /* "SIMH" */
#define SIM_NFD 32
#define SIM_LOG_CAP 8192
#define SIM_MM_PAGES 32
#define SIM_MM_PT 24

struct sim_vm;
struct sim_task;
struct sim_script;

/* ---- host ---- */
struct sim_label {
	char label[32];
	struct dt_sim_call call;
};

struct dt_sim_host {
	uint32_t magic;
	struct dt_sim_params p;
	char *sysmap_dir, *scenario;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* labels done, scripts finished */
	struct sim_build *builds;
	struct sim_vm *vms;
	uint32_t next_domid;
	unsigned next_index;
	struct dt_vm_note *notes;
	size_t nnotes, capnotes;
	int watch_efd;
	struct dt_sim_crash *crashes;
	size_t ncrash, capcrash;
	struct sim_label *labels;
	size_t nlabels, caplabels;
	unsigned scripts_running;
	struct sim_script *scripts;
	uint64_t crash_total;
	/* p.snapshot_vms: each VM's kernel as it was created (dt_sim_check_kernels) */
	struct dt_sim_snapshot *births; /* a list, newest first; freed at close */
};

/* ---- tasks ---- */
enum sim_tstate { TS_RUNNABLE, TS_RUNNING, TS_SLEEPING, TS_ZOMBIE };

enum sim_fdkind { FD_NONE, FD_FILE, FD_DIR, FD_SOCK, FD_LISTEN, FD_CONN, FD_PIPE, FD_TTY };
struct sim_fd {
	enum sim_fdkind kind;
	int port;
	uint32_t off;
	int file; /* index in the VFS table */
};

struct sim_mm {
	int refs;
	bool compat;
	uint16_t pcid;
	uint64_t pgd_pa;
	uint64_t va, pa; /* mm_struct */
	uint64_t pt[SIM_MM_PT];
	unsigned npt;
	struct {
		uint64_t va, pa;
	} pg[SIM_MM_PAGES];
	unsigned npg;
	uint64_t text, arena, arena_len, np, stack_top;
};

/* The next thing a user program does. */
enum sim_uact { UA_SYSCALL = 1, UA_SEGV, UA_IDLE };
struct sim_ucall {
	enum sim_uact act;
	int nr;
	uint64_t a[6];
	const char *label;
	const char *race; /* scenario: another thread's path, written after entry */
	size_t race_len;
};

/* A user program: a built-in workload program or a scenario script. */
enum sim_progkind {
	P_NONE, P_INIT, P_SSHD, P_SSHD_CHILD, P_BASH, P_CMD, P_APACHE, P_WORKER, P_PHP,
	P_SH, P_CRON, P_LEGACY32, P_SCRIPT,
};
struct sim_prog {
	enum sim_progkind kind;
	int pc;
	int step; /* loop counter */
	int fd, conn, child, aux;
	int cmd;  /* which command (P_CMD/P_SH) */
	int svc[3];
	int64_t last; /* result of the previous call */
	char arg[64]; /* argv[1] (argv[2] for sh -c) of the exec'd program */
	struct sim_script *script; /* P_SCRIPT */
	size_t spc;
	bool awaiting; /* P_SCRIPT: waiting for a label */
};

struct sim_task {
	struct sim_vm *vm;
	struct sim_task *next_all, *rq_next;
	struct sim_task *parent, *first_child, *next_sibling, *leader;
	int pid, tgid;
	uint64_t va, pa; /* task_struct */
	unsigned ts_pages;
	uint64_t kstack; /* vmalloc base of the kernel stack */
	int kslot;
	uint64_t cred_va, cred_pa;
	uint32_t ids[8]; /* uid gid suid sgid euid egid fsuid fsgid */
	struct sim_mm *mm;
	char comm[16];
	bool compat, kthread, idle;
	enum sim_tstate state;
	bool in_kernel;
	struct dt_regs ctx; /* registers while not on a vCPU */
	uint64_t wake_ns;
	bool wait_child;
	uint64_t sigpend;
	int exit_code;
	struct sim_fd fd[SIM_NFD];
	struct sim_prog prog;
	struct dt_sim_call call; /* the call in progress */
	bool in_call;
	int last_vcpu;
	uint64_t start_ns;
	uint64_t user_rip;
	uint64_t sleep_until; /* blocking calls: deadline, 0 = not started */
	int fork_pid;	      /* pid the next fork's child gets (scenarios), 0 = any */
	/* open/openat in progress: its struct filename; a scenario's racing rewrite */
	uint64_t open_fname_pa, open_flags, open_file_pa;
	int open_idx;
	const char *race; /* written over the path just before getname (scenario `race=`) */
	size_t race_len;
	/* execve in progress */
	uint64_t fname_kva, fname_pa, bprm_kva, bprm_pa, exec_uargv, exec_uenvp;
	char exec_path[256];
	char exec_argv[256];
	int exec_argc;
};

/* ---- vCPUs ---- */
enum sim_vstate { VS_RUNNING, VS_PARKED, VS_TRAPPED, VS_IDLE, VS_STOPPED };

struct sim_vcpu {
	struct sim_vm *vm;
	unsigned id;
	pthread_t thr;
	bool started;
	enum sim_vstate state;
	struct dt_regs regs;
	struct sim_task *task;
	uint64_t percpu; /* per-CPU base (direct map) */
	uint64_t percpu_pa;
	/* trap */
	bool trapped;	 /* posted, waiting for resume */
	bool resumed;
	uint64_t token;
	enum dt_resume_how how;
	struct dt_regs rregs;
	uint64_t next_ns; /* pacing */
	uint64_t seed;
	uint64_t insns;
	/* This vCPU thread's own waits (idle, trapped, parked), under vm->lock. Only what
	 * concerns it wakes it: its answer, work in the run queue while it idles (kicked),
	 * a pause ending, the VM stopping. vm->cond is for those watching the vCPUs (a
	 * pause waiting for them to stop): one condition for both woke every vCPU at every
	 * change, and two idle vCPUs woke each other without end (2026-12-07: 249 context
	 * switches per trap with 64 VMs). */
	pthread_cond_t cond;
	bool cond_ok;
	bool kicked;
	uint64_t wait_until; /* while idle: when it looks at sleeping tasks' timers again */
	uint64_t taken_ns;   /* its trap handed to the engine (dt_sim_counters.held_lat) */
};

struct sim_kslab {
	uint32_t size;
	uint64_t *free; /* physical addresses */
	size_t nfree, cap;
};

struct sim_vm {
	struct dt_sim_host *h;
	struct sim_vm *next;
	uint32_t domid;
	char name[DT_VM_NAME_MAX];
	struct dt_sim_vm_params p;
	atomic_int refs;
	const struct sim_build *b;
	uint64_t seed;
	struct sim_mem mem;
	uint64_t kaslr, pob, kpgd;
	enum dt_trap_flavour trap;
	char map_path[512], prof_path[512];

	pthread_mutex_t lock;
	pthread_cond_t cond; /* a vCPU's state changed (for sim_pause); vCPUs wait on their own */
	unsigned nvcpus;
	struct sim_vcpu *vcpu;
	atomic_int stop_req;
	int pause_count;
	/* guest bytes read through the hypervisor contract within the current whole-domain
	 * pause, and the most within one (dt_sim_counters: how long a pause is held) */
	atomic_bool in_pause;
	_Atomic uint64_t pause_read_cur, pause_read_max;
	bool dying, crashed, dead, opened;
	atomic_bool trapping; /* written under lock, read by vCPUs at fetch time */
	int dom_pauses; /* pauses taken through the open handle */

	struct dt_trap *tq;
	size_t tq_n, tq_cap;
	int trap_efd;
	uint64_t trap_seq;

	struct sim_task *tasks, *rq_head, *rq_tail;
	struct sim_task *init, *idle[SIM_MAX_VCPUS];
	int next_pid;
	uint16_t next_pcid;
	struct sim_kslab slab[4];
	uint64_t *kstack_free;
	size_t nkstack_free, kstack_next;
	bool workload;
	double rate;
	uint64_t boot_ns;
	int vfs_created;

	/* the VFS as the kernel's objects (sim_vfs.c): dentries made as paths are opened */
	struct sim_dentry {
		char path[128]; /* canonical, absolute */
		uint64_t kva;
	} *dcache;
	size_t ndcache;
	uint64_t mnt_root, mnt_tmp; /* struct mount kva of / and of the tmpfs on /tmp */
	uint64_t tmp_root;	    /* the tmpfs's root dentry */

	struct dt_sim_call *log;
	uint64_t log_seq; /* calls entered (seq numbers) */
	uint64_t log_n;	  /* calls completed (log index) */
	atomic_bool gone;
	struct dt_sim_counters ctr;
};

/* sim_host.c */
uint64_t dt_sim_now_ns(void);
void dt_sim_drain(int fd); /* empty an eventfd */
int dt_sim_cond_init_mono(pthread_cond_t *c);
void dt_sim_vm_kill(struct dt_sim_host *h, struct sim_vm *vm); /* unlinked VM: stop, note, put */
struct sim_vm *dt_sim_vm_get(struct dt_sim_host *h, uint32_t domid); /* ref, or NULL */
void dt_sim_vm_put(struct sim_vm *vm);
void dt_sim_record_crash(struct sim_vcpu *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void dt_sim_label_done(struct dt_sim_host *h, const struct dt_sim_call *call);
/* Append a label (not done yet) to h->labels; h->lock held. NULL when out of memory. */
struct sim_label *dt_sim_label_add_locked(struct dt_sim_host *h, const char *label);
void dt_sim_script_finished(struct dt_sim_host *h);

/* sim_cpu.c */
int dt_sim_vcpus_start(struct sim_vm *vm);
void dt_sim_vcpus_stop(struct sim_vm *vm); /* dying: wakes and joins */
void dt_sim_vm_wake(struct sim_vm *vm);	   /* every vCPU looks again (pause, stop, crash) */
void dt_sim_vcpu_kick(struct sim_vm *vm); /* a task became runnable: wake an idle vCPU */
void dt_sim_timer_armed(struct sim_vm *vm, uint64_t wake_ns); /* a task sleeps until then */
int dt_sim_fetch(struct sim_vm *vm, uint64_t cr3, uint64_t va, void *buf, size_t len);
uint64_t dt_sim_kva(const struct sim_vm *vm, uint64_t off); /* image offset -> runtime va */

/* sim_task.c, sim_mm.c (vm->lock held) */
int dt_sim_kernel_boot(struct sim_vm *vm);
void dt_sim_kernel_free(struct sim_vm *vm);
uint64_t dt_sim_dm(const struct sim_vm *vm, uint64_t pa); /* direct-map va of pa */
uint64_t dt_sim_kmalloc(struct sim_vm *vm, uint32_t size, uint64_t *ret_pa);
/* open/openat's work on a resolved path (sim_sys.c): the checks (VFS index, -1 for a
 * file O_CREAT makes, or -errno), the fd (or -errno), both at once */
int dt_sim_open_check(struct sim_task *t, const char *path, uint64_t flags);
int64_t dt_sim_open_install(struct sim_task *t, int idx);
int64_t dt_sim_open_path(struct sim_task *t, const char *path, uint64_t flags);
/* sim_vfs.c: resolve a path as the kernel would (dirfd, ".", "..", symbolic links) into a
 * canonical absolute path; 0 or -errno. */
int dt_sim_vfs_resolve(struct sim_task *t, int64_t dfd, const char *path, char *out, size_t cap);
/* A struct file for a canonical path, its f_path built of dentries and mounts in guest
 * memory; its kva (0 when out of memory). Lock held. */
uint64_t dt_sim_vfs_file(struct sim_vm *vm, const char *canon, uint32_t flags, uint64_t *ret_pa);
void dt_sim_vfs_free(struct sim_vm *vm); /* the dentry table (not guest memory) */
uint64_t dt_sim_kstack_alloc(struct sim_vm *vm, int *ret_slot); /* vmalloc base, or 0 */
void dt_sim_kstack_free(struct sim_vm *vm, uint64_t va, int slot);
struct sim_mm *dt_sim_mm_new(struct sim_vm *vm, bool compat);
struct sim_mm *dt_sim_mm_copy(struct sim_vm *vm, const struct sim_mm *old);
void dt_sim_mm_put(struct sim_vm *vm, struct sim_mm *mm); /* NULL ok */
void dt_sim_kfree(struct sim_vm *vm, uint64_t pa, uint32_t size);
#define SIM_TF_KTHREAD 1u
#define SIM_TF_SHARE_MM 2u
#define SIM_TF_NEW_MM 4u /* a fresh address space even with a parent that has one */
struct sim_task *dt_sim_task_new(struct sim_vm *vm, struct sim_task *parent, int pid,
				 const char *comm, bool compat, unsigned flags);
struct sim_task *dt_sim_task_find(struct sim_vm *vm, int pid);
void dt_sim_task_set_comm(struct sim_task *t, const char *comm);
int dt_sim_task_set_ids(struct sim_task *t, const uint32_t ids[8]);
int dt_sim_task_exec_mm(struct sim_task *t, bool compat, const char *argv, size_t argv_len);
void dt_sim_task_exit(struct sim_task *t, int code);
void dt_sim_task_reap(struct sim_task *t);
void dt_sim_task_write_state(struct sim_task *t, unsigned state);
void dt_sim_rq_push(struct sim_vm *vm, struct sim_task *t);
struct sim_task *dt_sim_rq_pop(struct sim_vm *vm);
void dt_sim_wake(struct sim_task *t);
uint64_t dt_sim_task_cr3(const struct sim_task *t);
uint64_t dt_sim_ptregs(const struct sim_task *t);
/* User memory of t's mm. put: program writes (ignores present bits; np pages stay not
 * present). get/put_k: kernel accesses, faulting backed pages in; -EFAULT otherwise. */
int dt_sim_uput(struct sim_task *t, uint64_t va, const void *buf, size_t len);
int dt_sim_uget_k(struct sim_task *t, uint64_t va, void *buf, size_t len);
int dt_sim_uput_k(struct sim_task *t, uint64_t va, const void *buf, size_t len);
int dt_sim_ustr_k(struct sim_task *t, uint64_t va, char *buf, size_t cap);
/* Mark the not-present page(s) not present again (a new call may place data there). */
void dt_sim_np_reset(struct sim_task *t);

/* sim_cpu.c: a call that will never return to user mode */
void dt_sim_call_noreturn(struct sim_task *t, int64_t ret);
void dt_sim_update_stop(struct sim_vm *vm);
void dt_sim_task_user_ctx(struct sim_task *t);

/* sim_entry.c, sim_sys.c (vm->lock held): the semantic action of a marker. */
enum sim_act_res { ACT_NEXT, ACT_JUMP, ACT_BLOCK, ACT_GONE, ACT_CRASH, ACT_TO_USER };
enum sim_act_res dt_sim_action(struct sim_vcpu *c, uint32_t imm, uint64_t insn_end,
			       uint64_t *ret_rip);
void dt_sim_send_signal(struct sim_task *t, int sig);
int64_t dt_sim_syscall(struct sim_vcpu *c, unsigned nr, bool compat, const uint64_t a[6],
		       bool *ret_block);
bool dt_sim_fatal_pending(const struct sim_task *t, int *ret_sig);

/* sim_prog.c (vm->lock held): user programs. */
void dt_sim_prog_step(struct sim_task *t, struct sim_ucall *uc);
void dt_sim_prog_result(struct sim_task *t, int64_t ret);
void dt_sim_prog_exec(struct sim_task *t, const char *path);
struct sim_file {
	const char *path;
	unsigned flags;
	const char *content;
};
#define VF_DIR 1u
#define VF_EXEC 2u   /* an x86-64 executable */
#define VF_EXEC32 4u /* an i386 executable */
#define VF_ROOT 8u   /* readable by root only */
#define VF_LINK 16u  /* a symbolic link; content is its target */
int dt_sim_vfs_lookup(const char *path); /* index or -ENOENT */
const struct sim_file *dt_sim_vfs_get(int idx);
void dt_sim_workload_start(struct sim_vm *vm);

/* sim_scn.c */
int dt_sim_scn_run(struct dt_sim_host *h, const char *text, const char *fname, char *err,
		   size_t errlen);
void dt_sim_script_step(struct sim_task *t, struct sim_ucall *uc);
void dt_sim_script_result(struct sim_task *t, int64_t ret);
void dt_sim_scripts_free(struct sim_script *list);

#endif /* DOMTRACE_SIM_VM_H */
