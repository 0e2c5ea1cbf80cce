/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * guest.h - reading a Linux x86-64 guest kernel: its symbols (System.map or
 * /proc/kallsyms), its KASLR offset, the struct offsets it publishes in its own BTF
 * (or an offsets profile file), its processes, syscall arguments in pt_regs, and its
 * ftrace syscall metadata.
 *
 * Three objects:
 *   struct dt_symtab   a parsed symbol map. Immutable once loaded: any thread may use
 *                      it; several guests may share one (it must outlive them).
 *   struct dt_offsets  plain data: struct member offsets, from BTF or a profile.
 *   struct dt_guest    one attached domain. Owned and used by that domain's worker
 *                      thread only (it calls the domain-scope hv ops), never shared.
 *
 * Everything read from a guest is hostile: every read is bounded, every pointer is
 * checked to be a canonical kernel address before it is followed, every string is
 * capped, every walk is bounded and cycle-safe. Nothing here ever writes guest memory.
 *
 * Errors: -errno. Where the operator needs to know why (a map that does not fit,
 * a corrupt BTF), the function also fills a caller's `err` buffer (NUL-terminated,
 * truncated to errlen) with a message naming the VM and the file; the engine logs it.
 * Nothing here logs.
 */
#ifndef DOMTRACE_GUEST_H
#define DOMTRACE_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "domtrace/event.h"
#include "domtrace/hv.h"

/* ------------------------------------------------------------------------------------
 * Addresses
 */

/* A canonical upper-half (kernel) address: the only kind of pointer we follow. */
static inline bool dt_kernel_addr(uint64_t va)
{
	return va >= 0xffff800000000000ull;
}

/*
 * The page-table root of a CR3 value: the PCID (bits 0-11) and, when the value may be
 * a KPTI user root, the PTI user-PGD bit (bit 12) masked. A trap at a kernel function
 * (cpl 0, after the entry code's CR3 switch) carries the kernel CR3 with PCID bits:
 * dt_cr3_root(cr3, false). A user-mode CR3 under KPTI points at the user copy of the
 * PGD, 4 KiB above the kernel one (PGDs are 8 KiB aligned with PTI configured):
 * dt_cr3_root(cr3, true) gives the kernel copy.
 */
static inline uint64_t dt_cr3_root(uint64_t cr3, bool from_user)
{
	return cr3 & ~(from_user ? 0x1fffull : 0xfffull) & 0x000ffffffffff000ull;
}

/* ------------------------------------------------------------------------------------
 * Symbols
 */

#define DT_SYMTAB_FILE_MAX (1024ull << 20) /* biggest map file accepted */
#define DT_SYMTAB_MAX_SYMS (16u << 20)	    /* most symbols accepted */
#define DT_SYM_NAME_MAX 512		    /* KSYM_NAME_LEN (6.1), NUL included */

struct dt_symtab;

struct dt_sym {
	uint64_t addr;	    /* as written in the map (before KASLR) */
	const char *name;
	const char *module; /* kallsyms "[module]" suffix without brackets; NULL: kernel */
	char type;	    /* 'T', 't', 'D', 'A', ... as in the file */
};

/*
 * Parse a System.map ("%016lx %c %s") or /proc/kallsyms ("... %s\t[module]") file of
 * any size. Malformed lines (bad address, missing fields, names too long or with
 * control bytes) are skipped and counted; a file with no usable line, or whose
 * addresses are all zero (kallsyms read without privilege), is refused (-EINVAL).
 * On failure *ret_tab is untouched and err says why, naming the file.
 */
int dt_symtab_load(const char *path, struct dt_symtab **ret_tab, char *err, size_t errlen);
/* The same from memory; label names the source in messages. */
int dt_symtab_parse(const char *text, size_t len, const char *label, struct dt_symtab **ret_tab,
		    char *err, size_t errlen);
void dt_symtab_free(struct dt_symtab *tab); /* NULL ok */

const char *dt_symtab_label(const struct dt_symtab *tab); /* the path given */
size_t dt_symtab_count(const struct dt_symtab *tab);
size_t dt_symtab_skipped(const struct dt_symtab *tab); /* malformed lines ignored */

/*
 * By name. When a name occurs several times, the preferred one is returned: the
 * kernel's over a module's, a global (upper-case type) over a local one, then the
 * lowest address. NULL if absent. The pointer lives as long as the table.
 */
const struct dt_sym *dt_symtab_find(const struct dt_symtab *tab, const char *name);
/* Every symbol so named, up to max, preferred first; returns how many exist. */
size_t dt_symtab_find_all(const struct dt_symtab *tab, const char *name, const struct dt_sym **out,
			  size_t max);
/* The symbol at or before addr (map addresses); *ret_off = addr - sym->addr. NULL if
 * addr is below every symbol. Per-cpu and absolute symbols take part like others. */
const struct dt_sym *dt_symtab_at(const struct dt_symtab *tab, uint64_t addr, uint64_t *ret_off);
/* The i-th symbol in address order (0 <= i < count). */
const struct dt_sym *dt_symtab_index(const struct dt_symtab *tab, size_t i);

/*
 * True for a zero-based x86-64 per-cpu symbol: between __per_cpu_start and
 * __per_cpu_end while __per_cpu_start is a small value (< 16 MiB), as in every SMP
 * x86-64 kernel before 6.15. Such a symbol is an offset into a CPU's per-cpu area and
 * is not shifted by KASLR. (Kernels with non-zero-based per-cpu have ordinary,
 * shifted per-cpu symbols: false.)
 */
bool dt_symtab_is_percpu(const struct dt_symtab *tab, const struct dt_sym *sym);

/* ------------------------------------------------------------------------------------
 * Struct offsets
 */

enum dt_off {
	DT_OFF_TASK_PID = 0,
	DT_OFF_TASK_TGID,
	DT_OFF_TASK_REAL_PARENT,
	DT_OFF_TASK_PARENT,
	DT_OFF_TASK_TASKS,
	DT_OFF_TASK_COMM,
	DT_OFF_TASK_CRED,
	DT_OFF_TASK_REAL_CRED,
	DT_OFF_TASK_MM,
	DT_OFF_TASK_FLAGS,
	DT_OFF_CRED_UID,
	DT_OFF_CRED_GID,
	DT_OFF_CRED_SUID,
	DT_OFF_CRED_SGID,
	DT_OFF_CRED_EUID,
	DT_OFF_CRED_EGID,
	DT_OFF_LIST_NEXT,
	DT_OFF_LIST_PREV,
	/* pt_regs, in the kernel's order */
	DT_OFF_REGS_R15,
	DT_OFF_REGS_R14,
	DT_OFF_REGS_R13,
	DT_OFF_REGS_R12,
	DT_OFF_REGS_BP,
	DT_OFF_REGS_BX,
	DT_OFF_REGS_R11,
	DT_OFF_REGS_R10,
	DT_OFF_REGS_R9,
	DT_OFF_REGS_R8,
	DT_OFF_REGS_AX,
	DT_OFF_REGS_CX,
	DT_OFF_REGS_DX,
	DT_OFF_REGS_SI,
	DT_OFF_REGS_DI,
	DT_OFF_REGS_ORIG_AX,
	DT_OFF_REGS_IP,
	DT_OFF_REGS_CS,
	DT_OFF_REGS_FLAGS,
	DT_OFF_REGS_SP,
	DT_OFF_REGS_SS,
	DT_OFF_PCPU_HOT_CURRENT_TASK, /* >= 6.2 */
	DT_OFF_BINPRM_FILENAME,
	DT_OFF_FILENAME_NAME,
	DT_OFF_FILE_PATH, /* the file an open reached: file.f_path {path.mnt, path.dentry}, */
	DT_OFF_PATH_MNT,  /* dentry.d_parent, dentry.d_name + qstr.name, and the mount */
	DT_OFF_PATH_DENTRY, /* around a vfsmount: mount.mnt, mnt_parent, mnt_mountpoint */
	DT_OFF_DENTRY_PARENT,
	DT_OFF_DENTRY_NAME,
	DT_OFF_QSTR_NAME,
	DT_OFF_MOUNT_MNT,
	DT_OFF_MOUNT_PARENT,
	DT_OFF_MOUNT_MOUNTPOINT,
	DT_OFF_META_NAME, /* struct syscall_metadata */
	DT_OFF_META_SYSCALL_NR,
	DT_OFF_META_NB_ARGS,
	DT_OFF_META_TYPES,
	DT_OFF_META_ARGS,
	/* sizes (sizeof the struct), keys "task_struct.size", "cred.size", "pt_regs.size" */
	DT_SIZE_TASK_STRUCT,
	DT_SIZE_CRED,
	DT_SIZE_PT_REGS,
	_DT_OFF_MAX,
};

enum dt_off_source {
	DT_OFFSRC_NONE = 0,
	DT_OFFSRC_BTF,	   /* the guest's own BTF */
	DT_OFFSRC_PROFILE, /* an offsets profile file */
	DT_OFFSRC_DEFAULT, /* the x86-64 ABI layout (pt_regs, syscall_metadata only) */
};

struct dt_offsets {
	uint32_t off[_DT_OFF_MAX]; /* bytes from the start of the struct (or its size) */
	uint8_t src[_DT_OFF_MAX];  /* enum dt_off_source; NONE: unknown */
};

/* "task_struct.pid", "pt_regs.orig_ax", "task_struct.size" ...: the key of the
 * profile file format and of messages. NULL for an invalid key. */
const char *dt_off_name(enum dt_off key);
static inline bool dt_off_have(const struct dt_offsets *o, enum dt_off key)
{
	return o->src[key] != DT_OFFSRC_NONE;
}

/*
 * Offsets from a raw BTF blob (the bytes between __start_BTF and __stop_BTF), parsed
 * with libbpf. Members are looked up by name, also inside anonymous structs/unions
 * (randstruct); bitfields, odd bit offsets and members of the wrong size are refused.
 * The required keys (task_struct pid, tgid, real_parent, parent, tasks, comm, cred or
 * real_cred; cred uid, gid, euid, egid) must all be found or the call fails (-EINVAL,
 * or -ENOENT naming the first missing one). Optional keys are filled when present;
 * pt_regs, syscall_metadata and list_head keys default to the x86-64 layout.
 * `ret` is written only on success.
 */
int dt_offsets_from_btf(const void *blob, size_t len, struct dt_offsets *ret, char *err,
			size_t errlen);

/*
 * The offsets profile file (docs/GUEST.md): "key value" lines, key as dt_off_name(),
 * value decimal or 0x-hex, '#' comments, blank lines. Unknown keys are ignored (newer
 * files), a key given twice, a bad value or a missing required key is an error.
 */
int dt_offsets_load_profile(const char *path, struct dt_offsets *ret, char *err, size_t errlen);
int dt_offsets_parse_profile(const char *text, size_t len, const char *label,
			     struct dt_offsets *ret, char *err, size_t errlen);

/* ------------------------------------------------------------------------------------
 * One guest
 */

#define DT_BTF_MAX (64u << 20)	  /* biggest guest BTF read */
#define DT_RELEASE_MAX 65	  /* utsname release, NUL included */
#define DT_PSLIST_MAX 65536	  /* tasks walked at most */
#define DT_GUEST_CACHE_DEFAULT 1024 /* ancestry cache entries */

struct dt_guest;

struct dt_guest_params {
	const char *vm_name;		/* for messages (required) */
	const struct dt_symtab *symtab; /* borrowed; must outlive the guest (required) */
	const char *profile_path;	/* offsets profile, used when the guest has no
					 * usable BTF (optional) */
	bool prefer_profile;		/* use the profile even when BTF is there */
	uint32_t vcpu;			/* vCPU whose registers locate the kernel */
	uint32_t cache_entries;		/* ancestry cache size; 0: DT_GUEST_CACHE_DEFAULT */
};

/*
 * Attach to a domain's kernel. The caller should hold the domain paused (pause()) for
 * a coherent view of vCPU registers and memory. Steps, each of which can refuse:
 *  1. KASLR offset = LSTAR - entry_SYSCALL_64 from the map. When LSTAR is not in the
 *     kernel image (old KPTI trampolines in the cpu_entry_area, a map without
 *     entry_SYSCALL_64), the 2 MiB-aligned offsets below 1 GiB are tried instead, the
 *     first where linux_banner reads "Linux version " wins.
 *  2. Verify before anything is used: linux_banner starts with "Linux version " (the
 *     release is taken from it), sys_call_table[n] equals the map's __x64_sys_* (or
 *     sys_*) + offset for a sample of n, the offsets source is found (BTF, else the
 *     profile), init_task's comm starts with "swapper" and its pid is 0.
 *  3. The kernel page-table root: the physical address of init_top_pgt (swapper_pg_dir)
 *     when the map has it, else the vCPU's CR3 root.
 * A map that does not fit the running kernel gives -EINVAL (a missing symbol -ENOENT,
 * unreadable memory -EFAULT, a gone domain -ENODEV) and err names the VM and the map.
 * Nothing is ever written to the guest. *ret_guest untouched on failure.
 */
int dt_guest_open(const struct dt_hv_ops *ops, struct dt_hv_dom *dom,
		  const struct dt_guest_params *params, struct dt_guest **ret_guest, char *err,
		  size_t errlen);
void dt_guest_close(struct dt_guest *g); /* NULL ok; does not touch the domain */

/* What open found. Strings live as long as the guest. */
uint64_t dt_guest_kaslr(const struct dt_guest *g);
const char *dt_guest_release(const struct dt_guest *g); /* "6.1.0-18-amd64" */
uint64_t dt_guest_kernel_cr3(const struct dt_guest *g);
const struct dt_offsets *dt_guest_offsets(const struct dt_guest *g);
enum dt_off_source dt_guest_offsets_source(const struct dt_guest *g); /* BTF or PROFILE */

/* A symbol's runtime address: map address + KASLR offset, except zero-based per-cpu
 * symbols (returned as they are: offsets into a per-cpu area). -ENOENT if absent. */
int dt_guest_sym_va(const struct dt_guest *g, const char *name, uint64_t *ret_va);
uint64_t dt_guest_sym_runtime(const struct dt_guest *g, const struct dt_sym *sym);

/* Kernel memory through the kernel page-table root; returns bytes read (short at the
 * first page not present) or -errno. */
ssize_t dt_guest_read_kernel(struct dt_guest *g, uint64_t va, void *buf, size_t len);
/* A NUL-terminated kernel string of at most cap-1 bytes into buf (cap >= 1).
 * Returns its length, or -EFAULT if va is not a kernel address or unreadable. */
ssize_t dt_guest_read_kstr(struct dt_guest *g, uint64_t va, char *buf, size_t cap);

/*
 * The absolute path of the file a struct file refers to, as the kernel's d_path builds
 * it: the dentry's names up its d_parent chain, crossing each mount to its mountpoint in
 * the parent mount, to the root mount (the process's chroot is not applied). Bounded:
 * at most DT_PATH_DEPTH names and DT_PATH_MOUNTS mounts, each name capped; a loop or an
 * unreadable pointer fails with -ELOOP / -EFAULT; a path longer than cap-1 -ENAMETOOLONG.
 * Needs the file/path/dentry/qstr/mount offsets (-ENOENT if the guest's BTF lacks them).
 * Returns the path's length. The worker's thread.
 */
#define DT_PATH_DEPTH 64
#define DT_PATH_MOUNTS 16
ssize_t dt_guest_file_path(struct dt_guest *g, uint64_t file, char *buf, size_t cap);

/*
 * The task running on a vCPU: the per-cpu current-task pointer (pcpu_hot.current_task
 * on >= 6.2, current_task before) in the per-cpu area the GS base points to. In
 * kernel mode (cpl 0) GS base is the kernel's after the entry swapgs; if it is not a
 * kernel address, or in user mode, the shadow (kernel_gs_base) is used; failing both,
 * __per_cpu_offset[vcpu]. The pointer read must be a kernel address (-EFAULT).
 */
int dt_guest_current_task(struct dt_guest *g, uint32_t vcpu, const struct dt_regs *regs,
			  uint64_t *ret_task);

/*
 * A task's process data, read now from guest memory (no cache): pid, tgid, ppid
 * (task->parent's pid), rppid (task->real_parent's pid; -1 when unreadable), ids from
 * real_cred (falling back to cred; ~0 when unreadable), comm. -EFAULT if the task
 * itself is unreadable or not a kernel address.
 */
int dt_guest_proc_info(struct dt_guest *g, uint64_t task, struct dt_proc_info *ret_info);

/*
 * What a call's return may reuse of the process data read at its entry: the ids, when
 * the task's credentials pointer is the one the entry saw. Linux never changes a cred
 * in place once a task uses it (commit_creds installs a new one, allocated while the
 * old one is still held, so never at its address), and a task's credentials change only
 * in its own context, once per call at most (execve, setuid, ...): within one call an
 * unchanged pointer means unchanged ids. Not valid across calls (two commits between
 * them may reuse the address). valid false: nothing to reuse.
 */
struct dt_proc_stamp {
	uint64_t task, cred;
	uint32_t uid, gid, euid, egid;
	bool valid;
};

/* dt_guest_proc_info, and the stamp of what it read (*ret_stamp). */
int dt_guest_proc_info_stamp(struct dt_guest *g, uint64_t task, struct dt_proc_info *ret_info,
			     struct dt_proc_stamp *ret_stamp);
/* dt_guest_proc_info at the end of the call stamp's entry was read at: the task and its
 * parents read again, the cred only if its pointer changed. stamp NULL or not valid for
 * task: a full read. */
int dt_guest_proc_info_after(struct dt_guest *g, uint64_t task, const struct dt_proc_stamp *stamp,
			     struct dt_proc_info *ret_info);

/*
 * The same through the ancestry cache (keyed by task pointer): a hit reads nothing.
 * The engine keeps the cache honest by calling dt_guest_invalidate() on exec (comm
 * and ids change), exit (the pointer may be reused) and credential changes;
 * invalidating a task also drops the entries of its children (they get reparented).
 */
int dt_guest_proc_info_cached(struct dt_guest *g, uint64_t task, struct dt_proc_info *ret_info);

/*
 * A task's ancestors, nearest first, not the task itself: the `parent` chain
 * (`real_parent` with real_parent=true), through the cache. Stops after the entry
 * whose pid is 0 or 1 is stored, at max entries (<= DT_ANCESTRY_MAX), at a pointer
 * seen before (a loop), or at an unreadable/non-kernel pointer. Returns 0 with
 * *ret_n entries in anc[] (possibly 0), or -errno if `task` itself is unreadable.
 */
int dt_guest_ancestry(struct dt_guest *g, uint64_t task, bool real_parent,
		      struct dt_proc_info *anc, size_t max, size_t *ret_n);

void dt_guest_invalidate(struct dt_guest *g, uint64_t task);
void dt_guest_invalidate_all(struct dt_guest *g);

struct dt_guest_cache_stats {
	uint64_t hits, misses, evictions, invalidations;
	uint32_t entries, capacity;
};
void dt_guest_cache_stats(const struct dt_guest *g, struct dt_guest_cache_stats *ret_stats);

/* The direct-map shortcut for kernel reads (engine/guest/dmap.c): reads served by
 * read_pa with no page walk, those checked against a walk first, and checks that
 * failed (then the shortcut is off for good). base: page_offset_base, 0 when off;
 * size: the bytes it covers from there (max_pfn pages). */
struct dt_guest_dmap_stats {
	uint64_t reads, checks, mismatches;
	uint64_t base, size;
};
void dt_guest_dmap_stats(const struct dt_guest *g, struct dt_guest_dmap_stats *ret_stats);

/*
 * The process list: the `tasks` list from init_task (thread-group leaders, init_task
 * first as pid 0), at most DT_PSLIST_MAX entries. *ret_ps is malloc()ed (caller
 * frees), *ret_n entries. *ret_stop is 0 when the walk came back to init_task, else
 * why it stopped early (-ELOOP a cycle not through init_task, -EFAULT an unreadable or
 * non-kernel pointer, -E2BIG the bound): the entries up to there are still returned.
 * Returns 0, or -errno (-ENOMEM, -EFAULT if init_task is unreadable).
 */
int dt_guest_pslist(struct dt_guest *g, struct dt_pslist_entry **ret_ps, size_t *ret_n,
		    int *ret_stop);

/* ------------------------------------------------------------------------------------
 * Syscall arguments
 */

/*
 * The six syscall arguments from the pt_regs a __x64_sys_* / __ia32_sys_* wrapper
 * receives in RDI: x86-64 di, si, dx, r10, r8, r9; ia32 (compat) bx, cx, dx, si, di,
 * bp (zero-extended to 32 bits). *ret_orig_ax is the syscall number. -EFAULT if
 * pt_regs is not a kernel address or unreadable.
 */
int dt_guest_syscall_args(struct dt_guest *g, uint64_t pt_regs, bool compat,
			  uint64_t ret_args[6], int64_t *ret_orig_ax);

/* ------------------------------------------------------------------------------------
 * The guest's ftrace syscall metadata (CONFIG_FTRACE_SYSCALLS)
 */

#define DT_META_MAX 2048 /* entries read at most */
#define DT_META_NAME_MAX 64
#define DT_META_ARG_MAX 32
#define DT_META_TYPE_MAX 64

struct dt_guest_syscall_meta {
	int32_t nr;    /* syscall_nr as the kernel set it (-1: not in its table) */
	uint8_t nargs; /* <= 6 */
	char name[DT_META_NAME_MAX]; /* "sys_openat" */
	char arg_names[6][DT_META_ARG_MAX];
	char arg_types[6][DT_META_TYPE_MAX];
};

/*
 * Read __start_syscalls_metadata..__stop_syscalls_metadata (an array of pointers to
 * struct syscall_metadata). Unreadable entries are skipped. *ret_meta is malloc()ed
 * (caller frees). -ENOENT if the kernel has no such section.
 */
int dt_guest_syscall_meta(struct dt_guest *g, struct dt_guest_syscall_meta **ret_meta,
			  size_t *ret_n);

#endif /* DOMTRACE_GUEST_H */
