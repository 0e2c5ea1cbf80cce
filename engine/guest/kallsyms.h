/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kallsyms.h - a guest kernel's own symbol table, read from its memory: the compressed
 * tables scripts/kallsyms.c links into every kernel's .rodata (kallsyms_num_syms, _names,
 * _markers, _token_table, _token_index, and _offsets + _relative_base or _addresses),
 * found by their structure alone (no profile), checked, and decoded into a dt_symtab that
 * is used exactly like a System.map (guest.h).
 *
 * Layouts understood (x86-64):
 *   absolute   kallsyms_addresses (PTR), 8-byte markers: before 4.6 or without
 *              CONFIG_KALLSYMS_BASE_RELATIVE;
 *   relative   kallsyms_offsets (s32, per-cpu absolute when >= 0) + kallsyms_relative_base
 *              before kallsyms_num_syms, 8-byte markers: 4.6 .. 6.1 (5.10);
 *   + seqs     the same with u32 markers and kallsyms_seqs_of_names (3 or 4 bytes a
 *              symbol) between the markers and the token table: 6.2, 6.3 and the 6.1.y
 *              stable kernels that took the backport (Debian 12's 6.1.0-57);
 *   6.4+       num_syms, names, u32 markers, token table and index first, then offsets,
 *              relative_base and kallsyms_seqs_of_names (3 bytes a symbol): 6.4 on (6.12).
 * Names with one- or two-byte (ULEB128, 6.1+) lengths.
 *
 * Ownership: dt_kallsyms_read() returns a new table the caller frees with
 * dt_symtab_free(); it is immutable, so any number of guests and threads may share it.
 * Threads: no shared state; mem->read is called only from the calling thread.
 *
 * The memory is hostile: the scan is bounded in bytes, every count is capped, every
 * offset is checked against what was read, every name is decoded and capped at
 * DT_SYM_NAME_MAX, addresses must be sorted, and the tables' own symbols, when listed,
 * must sit where they were found. Nothing is ever written.
 */
#ifndef DOMTRACE_KALLSYMS_H
#define DOMTRACE_KALLSYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "domtrace/guest.h"

#define DT_KALLSYMS_SCAN_MAX (128ull << 20) /* bytes of kernel image searched at most */
#define DT_KALLSYMS_SYMS_MAX (4u << 20)	     /* symbols accepted at most */
#define DT_KALLSYMS_NAMES_MAX (64u << 20)    /* bytes of kallsyms_names at most */
#define DT_KALLSYMS_BANNER_MAX 320	     /* linux_banner kept (first line) */
#define DT_KALLSYMS_TEXT_BASE 0xffffffff81000000ull /* _text of an unrelocated kernel */

/* Reads kernel virtual memory: bytes read (short at the first unreadable page), or -errno. */
struct dt_kallsyms_mem {
	ssize_t (*read)(void *ctx, uint64_t va, void *buf, size_t len);
	void *ctx;
};

/* What was found, for logs, caches and tests. Addresses are the guest's (runtime). */
struct dt_kallsyms_info {
	uint32_t num_syms;
	bool relative;	      /* kallsyms_offsets + kallsyms_relative_base */
	bool absolute_percpu; /* offsets >= 0 are absolute (per-cpu) values */
	bool tables_first;    /* the 6.4+ order */
	bool seqs_of_names;   /* a valid kallsyms_seqs_of_names follows (6.4+) */
	uint8_t marker_size;  /* 8 or 4 */
	uint64_t token_table, token_index, names, markers, num_syms_va, addrs;
	/* runtime - table address of kernel-image symbols: runtime _text rounded down to
	 * 2 MiB minus DT_KALLSYMS_TEXT_BASE. Guests of one build get identical tables. */
	uint64_t delta;
	uint64_t scanned; /* bytes read while searching */
	char banner[DT_KALLSYMS_BANNER_MAX]; /* linux_banner's first line */
};

/*
 * Find, check and decode the tables in [start, start + len) (len capped at
 * DT_KALLSYMS_SCAN_MAX; the kernel's .rodata follows its .text, so start at the syscall
 * entry, LSTAR). lstar, when inside the kernel image, must be entry_SYSCALL_64's runtime
 * address; _text or _stext, entry_SYSCALL_64, sys_call_table, linux_banner (reading
 * "Linux version ") and init_task must be present. The table holds the addresses minus
 * info->delta (per-cpu and other absolute values as they are), as a System.map of the
 * same build would; label names it in messages (NULL: "guest kallsyms <release>"). 0, or -ENOENT (no tables found),
 * -EINVAL (found but inconsistent), -ENOMEM, the reader's -ENODEV; err says why.
 * *ret_tab and *ret_info are written only on success (ret_info may be NULL).
 */
int dt_kallsyms_read(const struct dt_kallsyms_mem *mem, uint64_t start, uint64_t len,
		     uint64_t lstar, const char *label, struct dt_symtab **ret_tab,
		     struct dt_kallsyms_info *ret_info, char *err, size_t errlen);

/*
 * The same from a domain the caller holds paused: vCPU vcpu's LSTAR and CR3 say where the
 * kernel is (the search starts at LSTAR's page); vm names it in messages. -EAGAIN when
 * its kernel is not running yet (as dt_guest_open), -EOPNOTSUPP when LSTAR is outside
 * the kernel image (an old KPTI trampoline: nowhere to start from; give a System.map).
 * The table's label is "guest kallsyms <release>"; err starts with the VM's name.
 */
int dt_kallsyms_from_guest(const struct dt_hv_ops *ops, struct dt_hv_dom *dom, uint32_t vcpu,
			   const char *vm, struct dt_symtab **ret_tab,
			   struct dt_kallsyms_info *ret_info, char *err, size_t errlen);

/*
 * The same from a domain that may be running: regs (vCPU 0's, read by the caller under a
 * brief pause) say where the kernel is; the tables are the kernel's read-only data, so
 * the long read needs no pause (the worker decodes before it pauses the domain to arm it).
 */
int dt_kallsyms_from_regs(const struct dt_hv_ops *ops, struct dt_hv_dom *dom,
			  const struct dt_regs *regs, const char *vm, struct dt_symtab **ret_tab,
			  struct dt_kallsyms_info *ret_info, char *err, size_t errlen);

/*
 * Is tab (decoded from a guest whose linux_banner read `banner`) this domain's kernel
 * build? The KASLR offset from LSTAR and tab's entry_SYSCALL_64 must put tab's
 * linux_banner on exactly the same text. A cheap test (one read) before dt_guest_open
 * checks the table for real; it lets guests of one build share one decoded table.
 * LSTAR and CR3 from regs, or (regs NULL) from vCPU vcpu of the paused domain.
 */
bool dt_kallsyms_same_build(const struct dt_hv_ops *ops, struct dt_hv_dom *dom, uint32_t vcpu,
			    const struct dt_regs *regs, const struct dt_symtab *tab,
			    const char *banner);

/* "relative offsets, 6.4+ order, seqs_of_names": the layout in words, for logs. */
const char *dt_kallsyms_layout_name(const struct dt_kallsyms_info *info);

#endif /* DOMTRACE_KALLSYMS_H */
