/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hv.h - the hypervisor contract: the only way the engine touches a hypervisor.
 *
 * Two implementations, each one `const struct dt_hv_ops` table:
 *   dt_hv_sim  (sim/, always built)   a simulated Xen host with simulated Linux guests
 *   dt_hv_xen  (xen/, DT_ENABLE_XEN)  the real thing: libxenctrl, vm_event, foreign memory
 *
 * Objects and threads
 *   struct dt_hv      host scope. Opened and closed by the main thread. list_vms() may be
 *                     called by the main thread; watch_fd()/watch_read() by the watcher
 *                     thread only; dom_open() from any thread (serialised by the backend).
 *   struct dt_hv_dom  one opened domain. Every domain-scope op is called by exactly one
 *                     thread at a time: the domain's worker (the engine guarantees it).
 *                     Different domains' workers run fully in parallel.
 *
 * Errors: every int-returning op returns 0 (or a count) on success and -errno on failure.
 * -ENODEV from any domain-scope op means the domain is gone (destroyed or dying): the
 * worker stops writing and detaches. Ops never log; the engine decides what to say.
 *
 * Guest safety, which both backends enforce or at least never make worse:
 *   - dom_close() must leave no vCPU paused by us, whatever state it is called in,
 *     answering any trap not yet resumed (unchanged registers) and undoing any pause.
 *   - Breakpoints are only ever the bytes the engine writes with write_va()/write_pa();
 *     a backend never patches guest memory by itself.
 */
#ifndef DOMTRACE_HV_H
#define DOMTRACE_HV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DT_HV_ABI 1
#define DT_VM_NAME_MAX 64 /* including the NUL */

struct dt_hv;
struct dt_hv_dom;

struct dt_vm_info {
	uint32_t domid;
	char name[DT_VM_NAME_MAX];
	bool traceable;	 /* false: e.g. a PV guest, which vm_event cannot trap */
	char why[160];	 /* when !traceable: the reason, for the operator */
	uint32_t vcpus;	 /* vCPU count as known at listing time (0 = unknown) */
};

enum dt_vm_change {
	DT_VM_APPEARED = 1,
	DT_VM_GONE,
};

struct dt_vm_note {
	enum dt_vm_change change;
	struct dt_vm_info info; /* for GONE only domid is meaningful */
};

/*
 * The registers introspection needs. Control registers and MSRs are read-only as far
 * as resume() is concerned: resume() applies the general-purpose registers, rip and
 * rflags (what Xen's VM_EVENT_FLAG_SET_REGISTERS applies), nothing else.
 */
struct dt_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags;
	uint64_t cr0, cr2, cr3, cr4, efer;
	uint64_t fs_base, gs_base, kernel_gs_base; /* kernel_gs_base = MSR_SHADOW_GS_BASE */
	uint64_t lstar, cstar, star;		   /* syscall entry MSRs */
	uint64_t sysenter_eip;
	uint32_t cpl; /* current privilege level: 0 kernel, 3 user */
	bool cs_long; /* CS.L: executing 64-bit code */
};

/*
 * How a probe traps. The engine writes dt_hv_ops.trap_insn() bytes at a probe site and
 * emulates the instruction they replaced by changing registers at resume.
 *   INT3  0xCC, the software-breakpoint monitor (real hardware).
 *   SGDT  `sgdt -0x10(%rsp)` (0f 01 44 24 f0) with the descriptor-access monitor, for
 *         emulators that never report a guest's int3 (QEMU TCG). Needs a 5-byte site.
 */
enum dt_trap_flavour {
	DT_TRAP_INT3 = 0,
	DT_TRAP_SGDT,
	_DT_TRAP_FLAVOUR_MAX,
};

enum dt_trap_reason {
	DT_TRAP_BREAKPOINT = 1, /* a 0xCC executed */
	DT_TRAP_DESCRIPTOR,	/* a descriptor-table access (sgdt flavour) */
};

struct dt_trap {
	uint32_t vcpu;
	enum dt_trap_reason reason;
	uint64_t gla;	  /* guest-linear address of the trapping instruction (== regs.rip) */
	uint8_t insn_len; /* length of the trapping instruction as the CPU decoded it */
	struct dt_regs regs;
	uint64_t token; /* backend-private: identifies the request resume() answers */
};

enum dt_resume_how {
	/* Continue the vCPU with regs' GPRs, rip and rflags. */
	DT_RESUME_SET_REGS = 1,
	/* Continue unchanged: the trapping instruction runs again (use after restoring
	 * the original bytes, e.g. while detaching). */
	DT_RESUME_RETRY,
	/* Not ours: int3 is delivered to the guest as its own #BP; an sgdt or other
	 * descriptor access is emulated by the hypervisor. */
	DT_RESUME_NOT_OURS,
};

struct dt_trap_insn {
	uint8_t bytes[8];
	uint8_t len;
};

/*
 * Crash recovery (the guardian, engine/guard/): one breakpoint a dead domtrace may have
 * left, in guest-physical terms. Never crosses a page.
 */
#define DT_GUARD_SITE_MAX 16
struct dt_guard_site {
	uint64_t gpa;
	uint8_t len; /* 1..DT_GUARD_SITE_MAX */
	uint8_t orig[DT_GUARD_SITE_MAX];  /* the guest's bytes before we wrote */
	uint8_t armed[DT_GUARD_SITE_MAX]; /* what we wrote */
};

struct dt_guard_result {
	unsigned restored;    /* held our bytes, now hold the originals again */
	unsigned clean;	      /* held the originals already */
	unsigned foreign;     /* held neither: left alone (the guest rewrote them) */
	unsigned failed;      /* could not be read or written */
	unsigned vcpus;	      /* vCPUs let go (those a dead domtrace had paused on a trap) */
	unsigned unpaused;    /* whole-domain pauses the dead domtrace held, released */
};

/*
 * The work a domain's operations cost on the hypervisor, counted by the backend since
 * dom_open (dt_hv_ops.work). What "one" is, is the real hypervisor's cost; the sim counts
 * what the equivalent Xen call would cost (docs/SIM.md), not its own work.
 *   hypercalls  calls into the hypervisor's drivers: privcmd ioctls (every xc_* call,
 *               each foreign mapping) and event-channel device calls (pending, unmask,
 *               notify). A munmap is not counted.
 *   maps        foreign mappings made (a frame not in the backend's mapping cache)
 *   map_hits    frames served by a mapping already made (page-table frames included)
 *   pages       guest data pages read or written (each page a read_va/read_pa touches)
 *   walks       page-table walks (one per page of a guest-virtual access, or translate)
 */
struct dt_hv_work {
	uint64_t hypercalls, maps, map_hits, pages, walks;
};

struct dt_hv_ops {
	const char *name; /* "sim", "xen" */
	unsigned abi;	  /* DT_HV_ABI */

	/* ---- host scope ---- */

	/* params: backend-specific (struct dt_sim_params / struct dt_xen_params). */
	int (*open)(const void *params, struct dt_hv **ret_hv);
	void (*close)(struct dt_hv *hv); /* NULL ok; all domains must be closed first */

	/* All domains now, dom0 excluded. *ret_vms is malloc()ed, caller frees. */
	int (*list_vms)(struct dt_hv *hv, struct dt_vm_info **ret_vms, size_t *ret_n);

	/* A pollable fd that becomes readable when domains appear or disappear, and
	 * the next change: 0, or -EAGAIN when there is none. Watcher thread only. */
	int (*watch_fd)(struct dt_hv *hv);
	int (*watch_read)(struct dt_hv *hv, struct dt_vm_note *ret_note);

	int (*dom_open)(struct dt_hv *hv, uint32_t domid, struct dt_hv_dom **ret_dom);
	/* NULL ok. Disables trapping, answers pending traps, drops our pauses. */
	void (*dom_close)(struct dt_hv_dom *dom);

	/*
	 * Undo what a dead domtrace process left in domain domid; no dt_hv_dom of domid may
	 * be open in this process. Under a pause of the whole domain: each site that holds
	 * its armed bytes gets its orig bytes back (others are only counted), trap delivery
	 * is switched off, and every vCPU the dead process left paused on a trap is let go
	 * to run the restored instruction. Then up to `pauses` whole-domain pauses the dead
	 * process may have held (the journal's count, which may be one too many) are
	 * released, each only while the hypervisor still reports the domain paused.
	 * 0 and *ret_result; -ENODEV (domain gone); -errno.
	 * NULL in a backend that needs no recovery (sim: its guests die with the process).
	 * Called by the guardian process only.
	 */
	int (*recover)(struct dt_hv *hv, uint32_t domid, const struct dt_guard_site *sites,
		       size_t n, unsigned pauses, struct dt_guard_result *ret_result);

	/* ---- domain scope: the domain's worker thread only ---- */

	/* Pause/unpause the whole domain. Counted: every pause needs one unpause;
	 * dom_close() undoes any left. */
	int (*pause)(struct dt_hv_dom *dom);
	int (*unpause)(struct dt_hv_dom *dom);
	int (*vcpu_count)(struct dt_hv_dom *dom); /* >0, or -errno */

	/* A vCPU's registers. The domain should be paused for a coherent view. */
	int (*get_regs)(struct dt_hv_dom *dom, uint32_t vcpu, struct dt_regs *ret_regs);
	int (*set_regs)(struct dt_hv_dom *dom, uint32_t vcpu, const struct dt_regs *regs);

	/*
	 * Guest memory. cr3 is the page-table root to translate through (PCID and KPTI
	 * bits are masked by the backend). Reads stop at the first page that is not
	 * present and return the number of bytes copied (0 if the first one is not);
	 * -errno only for other failures. Writes are all-or-nothing: every page is
	 * translated first; -EFAULT if any is not present.
	 */
	ssize_t (*read_va)(struct dt_hv_dom *dom, uint64_t cr3, uint64_t va, void *buf, size_t len);
	int (*write_va)(struct dt_hv_dom *dom, uint64_t cr3, uint64_t va, const void *buf, size_t len);
	ssize_t (*read_pa)(struct dt_hv_dom *dom, uint64_t gpa, void *buf, size_t len);
	int (*write_pa)(struct dt_hv_dom *dom, uint64_t gpa, const void *buf, size_t len);
	/* Translate one address: 0 and *ret_gpa, or -EFAULT when not present. */
	int (*translate)(struct dt_hv_dom *dom, uint64_t cr3, uint64_t va, uint64_t *ret_gpa);
	/* Drop cached translations/mappings (the guest's page tables may have changed). */
	void (*flush_cache)(struct dt_hv_dom *dom);

	/* ---- traps ---- */

	/* The bytes a probe writes in this domain (depends on the backend's flavour). */
	int (*trap_insn)(struct dt_hv_dom *dom, struct dt_trap_insn *ret_insn);
	/* Enable/disable delivery of traps (int3 or descriptor access) to us. While
	 * disabled, a vCPU meeting our trap bytes would crash the guest: disable only
	 * after every probe byte is restored. */
	int (*set_trapping)(struct dt_hv_dom *dom, bool on);
	/* Readable when traps are pending. */
	int (*trap_fd)(struct dt_hv_dom *dom);
	/* The next pending trap: 0, -EAGAIN (none now), -ENODEV (domain gone). The vCPU
	 * stays paused until resume() answers this trap. */
	int (*next_trap)(struct dt_hv_dom *dom, struct dt_trap *ret_trap);
	/* Answer a trap and let its vCPU run. regs is used for DT_RESUME_SET_REGS. */
	int (*resume)(struct dt_hv_dom *dom, const struct dt_trap *trap, enum dt_resume_how how,
		      const struct dt_regs *regs);

	/* ---- accounting ---- */

	/* The domain's work counters since dom_open (struct dt_hv_work): a copy, cheap
	 * enough to take around every trap. NULL ok: a backend that does not count. */
	void (*work)(struct dt_hv_dom *dom, struct dt_hv_work *ret_work);
};

extern const struct dt_hv_ops dt_hv_sim; /* sim/sim_hv.c */
extern const struct dt_hv_ops dt_hv_xen; /* xen/xen_hv.c, only with DT_ENABLE_XEN */

#endif /* DOMTRACE_HV_H */
