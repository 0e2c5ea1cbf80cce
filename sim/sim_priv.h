/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sim_priv.h - internals of the simulated host. Only the files of sim/ include this.
 *
 * Pieces
 *   sim_build   one kernel build (flavour + build number): struct layout, BTF, symbols and
 *               the relocatable image bytes. Shared read-only by the VMs running it.
 *   sim_vm      one guest: physical memory, page tables, the simulated kernel's state
 *               (tasks, scheduler, allocators), its vCPU threads, trap queue, call log.
 *   sim_vcpu    one vCPU thread interpreting the guest kernel's code from guest memory.
 *   sim_task    the kernel's view of one task (its task_struct lives in guest memory).
 *
 * Locking: vm->lock protects every field of the VM, its tasks and its vCPUs' states except
 * what a RUNNING vCPU thread touches alone (its regs, decoding). Guest memory is accessed
 * only through the relaxed-atomic helpers of sim_mem.c (the engine writes into it while
 * vCPUs run, as it does on real hardware). host->lock protects the VM list, notes, crash
 * list, scripts and labels. Lock order: vm->lock, then host->lock (vCPUs record crashes and
 * labels while holding their VM's lock); code holding host->lock never takes a vm->lock -
 * it takes a VM reference, drops host->lock, then locks the VM.
 */
#ifndef DOMTRACE_SIM_PRIV_H
#define DOMTRACE_SIM_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <domtrace/hv.h>

#include "domtrace/sim.h"

/* ---- generated syscall number tables (sim_sysnr_gen.c) ---- */
struct dt_sim_sysnr {
	const char *name;
	unsigned nr;
};
extern const struct dt_sim_sysnr dt_sim_sysnr_64[];
extern const size_t dt_sim_sysnr_64_len;
extern const struct dt_sim_sysnr dt_sim_sysnr_32[];
extern const size_t dt_sim_sysnr_32_len;

/* ---- guest constants (x86-64 Linux) ---- */
#define SIM_PAGE 4096ULL
#define SIM_LARGE (2ULL << 20)
#define SIM_START_KERNEL_MAP 0xffffffff80000000ULL
#define SIM_TEXT_BASE 0xffffffff81000000ULL /* unrandomised _text */
#define SIM_KERNEL_PHYS 0x1000000ULL	    /* 16 MiB, where the image is loaded */
#define SIM_PAGE_OFFSET 0xffff888000000000ULL
#define SIM_VMALLOC_BASE 0xffffc90000000000ULL
#define SIM_THREAD_SIZE 16384ULL
#define SIM_PERCPU_SIZE 0x20000ULL
#define SIM_NR_CPUS 64
#define SIM_MAX_VCPUS 32
#define SIM_PTREGS_SIZE 168

#define PTE_P 0x1ULL
#define PTE_RW 0x2ULL
#define PTE_US 0x4ULL
#define PTE_A 0x20ULL
#define PTE_D 0x40ULL
#define PTE_PS 0x80ULL
#define PTE_G 0x100ULL
#define PTE_BACKED 0x200ULL /* software bit: not present, but faults in (swapped) */
#define PTE_NX (1ULL << 63)
#define PTE_ADDR 0x000ffffffffff000ULL

/* pt_regs member offsets: the real x86-64 order */
enum {
	PT_R15 = 0, PT_R14 = 8, PT_R13 = 16, PT_R12 = 24, PT_BP = 32, PT_BX = 40, PT_R11 = 48,
	PT_R10 = 56, PT_R9 = 64, PT_R8 = 72, PT_AX = 80, PT_CX = 88, PT_DX = 96, PT_SI = 104,
	PT_DI = 112, PT_ORIG_AX = 120, PT_IP = 128, PT_CS = 136, PT_FLAGS = 144, PT_SP = 152,
	PT_SS = 160,
};
#define SIM_USER_CS 0x33
#define SIM_USER32_CS 0x23
#define SIM_USER_DS 0x2b
#define SIM_KERNEL_CS 0x10

/* ---- marker actions: `nopl imm32(%rax)`, imm32 = action << 16 | argument ---- */
enum sim_action {
	A_NOP = 1,
	A_ENTRY64,	/* entry_SYSCALL_64: build pt_regs */
	A_EXIT64,	/* back to user: restore from pt_regs (sysret or iret path) */
	A_ENTRY32,	/* entry_INT80_compat */
	A_EXIT_IRET,	/* restore from pt_regs, rsp = &regs->ip for iretq */
	A_EXC_ENTRY,	/* exception/interrupt from user mode; arg = vector */
	A_PF,		/* exc_page_fault body: SIGSEGV */
	A_SYS64,	/* __x64_sys_*: arg = nr */
	A_SYS32,	/* __ia32_sys_* / __ia32_compat_sys_*: arg = i386 nr */
	A_NI,		/* sys_ni_syscall */
	A_EXIT_PREP,	/* exit/exit_group: rdi = code << 8, then call do_exit */
	A_GETNAME,	/* execve: getname(); skip the call on failure; arg 1 = compat */
	A_COPY_STRINGS, /* do_execveat_common: argv/envp, bprm; skip the call on failure */
	A_EXEC,		/* bprm_execve: the new image */
	A_DO_EXIT,	/* do_exit(code in rdi): never returns */
	A_EXIT_WORK,	/* exit to user mode: fatal signal -> fall into call do_exit */
	A_RET_FROM_FORK,
	A_OPEN_NAME,	/* open/openat: getname() (the kernel's copy); skip the call on failure;
			 * arg = nr | 0x8000 for compat */
	A_FILP_OPEN,	/* do_filp_open(dfd, struct filename *, flags): resolve the copy, check,
			 * make a struct file (rdi) for security_file_open; skip it on failure */
	A_OPEN_DONE,	/* open/openat after do_filp_open: putname(); rax is the result */
	A_FILP_DONE,	/* do_filp_open after security_file_open: 0 installs the fd */
	A_RET0,		/* rax = 0 (an LSM hook that allows) */
};
#define SIM_MARK(a, arg) ((uint32_t)(a) << 16 | ((uint32_t)(arg) & 0xffff))

/* ---- VFS objects in guest memory (sim_vfs.c), described by the BTF (sim_btf.c) ---- */
#define SIM_QSTR_NAME 8		/* struct qstr { u64 hash_len; const char *name; } */
#define SIM_DENTRY_SIZE 192
#define SIM_DENTRY_PARENT 24	/* struct dentry *d_parent */
#define SIM_DENTRY_NAME 32	/* struct qstr d_name */
#define SIM_DENTRY_INAME 56	/* char d_iname[128]: the name's storage */
#define SIM_VFSMOUNT_SIZE 32	/* struct vfsmount { dentry *mnt_root; sb; int flags; } */
#define SIM_MOUNT_SIZE 128
#define SIM_MOUNT_PARENT 16	/* struct mount *mnt_parent */
#define SIM_MOUNT_MOUNTPOINT 24 /* struct dentry *mnt_mountpoint */
#define SIM_MOUNT_MNT 32	/* struct vfsmount mnt */
#define SIM_PATH_SIZE 16	/* struct path { vfsmount *mnt; dentry *dentry; } */
#define SIM_FILE_SIZE 232
#define SIM_FILE_PATH 16	/* struct path f_path */
#define SIM_FILE_FLAGS 48	/* unsigned int f_flags */

/* ---- randomness: splitmix64 ---- */
static inline uint64_t sim_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}
static inline uint64_t sim_rand_below(uint64_t *s, uint64_t n)
{
	return n ? sim_rand(s) % n : 0;
}

/* ---- build ---- */
struct sim_layout {
	struct dt_sim_offsets o;
	uint32_t task_active_mm, task_exit_signal, task_ti_cpu;
	uint32_t cred_size, cred_usage;
	uint32_t mm_size, mm_env_start, mm_env_end;
	uint32_t binprm_size, binprm_argc, binprm_envc, binprm_p, binprm_interp;
	uint32_t filename_size;
	uint64_t percpu_var;	    /* current_task (6.1) or pcpu_hot (6.6) */
	uint64_t percpu_cpu_number; /* per-CPU int cpu_number */
	uint64_t percpu_top_of_stack;
};

struct sim_sym {
	char *name;	  /* owned */
	uint64_t addr;	  /* unrandomised address, or per-CPU offset */
	char type;	  /* System.map type letter */
	bool percpu;
};

struct sim_reloc {
	uint32_t off;  /* image offset */
	uint8_t width; /* 8: absolute 64-bit; 4: sign-extended 32-bit */
};

struct sim_build {
	enum dt_sim_flavour flavour;
	int build;
	enum dt_sim_ksyms ksyms; /* never AUTO */
	char release[64];
	char banner[320];
	struct sim_layout l;

	struct sim_sym *syms; /* sorted by address */
	size_t nsyms;
	struct sim_sym **by_name; /* sorted by name */

	uint8_t *image; /* text | rodata | data | bss, linked at SIM_TEXT_BASE */
	size_t image_size, text_size, rodata_off, rodata_end, data_off, bss_off;
	uint8_t *insn_start; /* bitmap over text: first byte of each instruction */
	struct sim_reloc *relocs;
	size_t nrelocs;

	void *btf; /* raw BTF blob (also inside image) */
	uint32_t btf_size;

	/* image offsets the VM needs at boot/run time */
	uint64_t off_entry64, off_exit64_sysret, off_entry32, off_exc_pf, off_exc_irq;
	uint64_t off_ret_from_fork, off_do_exit, off_init_task, off_init_cred, off_init_mm;
	uint64_t off_per_cpu_offset, off_page_offset_base, off_init_top_pgt, off_banner;
	uint64_t off_max_pfn; /* max_pfn: the end of RAM in pages (the direct map's extent) */
	uint64_t off_sys_call_table, off_ia32_sys_call_table, off_init_stack;
	uint64_t off_iret_path; /* swapgs_restore_regs_and_return_to_usermode */
	uint64_t off_btf;

	struct sim_build *next;
};

/* Build (or find in h's cache) the kernel for (flavour, build, kallsyms layout, host
 * seed). ksyms AUTO takes the flavour's own. */
int dt_sim_build_get(struct dt_sim_host *h, enum dt_sim_flavour flavour, int build,
		     enum dt_sim_ksyms ksyms, const struct sim_build **ret);
void dt_sim_builds_free(struct sim_build *list);
/* Symbol by name: unrandomised address, -ENOENT. */
int dt_sim_build_sym(const struct sim_build *b, const char *name, uint64_t *ret_addr,
		     bool *ret_percpu);
/* Write System.map-<release> and offsets-<release>.profile into dir. */
int dt_sim_build_write_files(const struct sim_build *b, const char *dir, char *map_path,
			     size_t map_len, char *prof_path, size_t prof_len);
/* sim_btf.c: layout for a build, and its BTF blob. */
void dt_sim_layout_make(struct sim_layout *l, enum dt_sim_flavour f, uint64_t seed);
int dt_sim_btf_make(const struct sim_layout *l, enum dt_sim_flavour f, void **ret_blob,
		    uint32_t *ret_size);
/* sim_ksyms.c: naming tables. */
const char *dt_sim_x64_fn_name(const char *unistd_name); /* "stat" -> "newstat" ... */
bool dt_sim_x64_ni(const char *unistd_name);		  /* served by sys_ni_syscall */
bool dt_sim_i386_ni(const char *unistd_name);
bool dt_sim_i386_compat(const char *unistd_name);	  /* has __ia32_compat_sys_ */
const char *dt_sim_i386_fn_name(const char *unistd_32_name); /* "nanosleep" ->
							       * "nanosleep_time32" ... */
const char *const *dt_sim_filler(size_t *ret_n);
const char *const *dt_sim_meta_src(size_t *ret_n);	  /* "name|type arg|..." */
/* sim_kallsyms.c: bytes of .rodata to reserve for the tables (an upper bound, with the
 * symbols known so far), and the tables written there once every symbol is placed (their
 * own symbols are added to b->syms, their relocations to b->relocs). */
size_t dt_sim_kallsyms_reserve(const struct sim_build *b);
int dt_sim_kallsyms_emit(struct sim_build *b, uint8_t *img, size_t at, size_t space);
/* sim_kernel.c: the image. */
int dt_sim_image_make(struct sim_build *b, uint64_t seed);

/* ---- guest memory (sim_mem.c) ---- */
struct sim_mem {
	uint8_t *base;
	uint64_t size;
	uint8_t *used; /* one byte per page: allocated */
	uint64_t npages, hint, nfree;
};

int dt_sim_mem_init(struct sim_mem *m, uint64_t size);
void dt_sim_mem_fini(struct sim_mem *m);
/* Relaxed-atomic copies in and out of guest-physical memory (bounds checked by callers). */
struct dt_sim_snapshot;
struct sim_vm;
int dt_sim_snapshot_of(struct sim_vm *vm, struct dt_sim_snapshot **ret); /* sim_hooks.c */
/* h->births (p.snapshot_vms): add a new VM's snapshot (h->lock held); free them all. */
void dt_sim_birth_add_locked(struct dt_sim_host *h, struct dt_sim_snapshot *s);
void dt_sim_births_free(struct dt_sim_host *h);
void dt_sim_gcopy_out(const struct sim_mem *m, uint64_t pa, void *buf, size_t len);
void dt_sim_gcopy_in(struct sim_mem *m, uint64_t pa, const void *buf, size_t len);
void dt_sim_gzero(struct sim_mem *m, uint64_t pa, size_t len);
uint64_t dt_sim_gread64(const struct sim_mem *m, uint64_t pa);
void dt_sim_gwrite64(struct sim_mem *m, uint64_t pa, uint64_t v);
/* Page allocator (caller holds vm->lock): n contiguous zeroed pages, or 0. */
uint64_t dt_sim_page_alloc(struct sim_mem *m, unsigned n);
void dt_sim_page_free(struct sim_mem *m, uint64_t pa, unsigned n);
void dt_sim_page_reserve(struct sim_mem *m, uint64_t pa, uint64_t len);

/* Page walk. Returns 0 and the physical address, or -EFAULT (not present). ret_pte (may be
 * NULL) gets the leaf entry and its physical address for fault-in; ret_flags the AND of
 * RW/US and the OR of NX over the levels. */
struct sim_walk {
	uint64_t pa;
	uint64_t leaf_pte_pa; /* where the leaf entry lives */
	uint64_t leaf;	      /* the leaf entry */
	uint64_t page_size;
	bool rw, us, nx;
	/* the table frames read, top level first (also when the walk fails): what a real
	 * walker maps (sim_hv.c counts them as dt_hv_work) */
	uint64_t tables[4];
	unsigned ntables;
};
int dt_sim_walk(const struct sim_mem *m, uint64_t cr3, uint64_t va, struct sim_walk *ret);
/* Map one 4 KiB page (allocating tables; ptpages collects new table pages if not NULL). */
int dt_sim_map4k(struct sim_mem *m, uint64_t pgd_pa, uint64_t va, uint64_t pa, uint64_t flags,
		 uint64_t *ptpages, unsigned *nptpages, unsigned maxpt);
int dt_sim_map2m(struct sim_mem *m, uint64_t pgd_pa, uint64_t va, uint64_t pa, uint64_t flags);
/* Change a leaf entry's flags (present bit included). */
int dt_sim_set_pte(struct sim_mem *m, uint64_t pgd_pa, uint64_t va, uint64_t set, uint64_t clear);
/* read/write through page tables like the hv ops (reads stop at the first hole). */
ssize_t dt_sim_read_va(const struct sim_mem *m, uint64_t cr3, uint64_t va, void *buf,
		       size_t len);
int dt_sim_write_va(struct sim_mem *m, uint64_t cr3, uint64_t va, const void *buf, size_t len);

#endif /* DOMTRACE_SIM_PRIV_H */
