/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * table.h - one VM's breakpoints: which guest addresses carry our trap bytes, what they
 * replaced, and what a hit there means. Owned by the VM's worker thread; no locking.
 *
 * Arming and disarming write guest kernel text, so they follow the guest-safety laws:
 * the caller pauses the domain; every site's current bytes are checked against what we
 * expect before anything is written (the original instruction when arming, our trap
 * bytes when disarming); each write is read back; a batch that fails part-way is undone.
 */
#ifndef DT_PROBES_TABLE_H
#define DT_PROBES_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domtrace/hv.h"
#include "probes/site.h"

enum dt_probe_role {
	DT_PROBE_ENTRY = 1, /* a traced function begins */
	DT_PROBE_EXIT,	    /* a traced function returns */
	DT_PROBE_EXEC_HELPER, /* internal: execve's strings are in memory here; exec happens */
	DT_PROBE_EXIT_HELPER, /* internal: a task exits (keeps the ancestry cache honest) */
	DT_PROBE_COPY_HELPER, /* internal: do_filp_open, the kernel has copied an open's path:
			       * abort decisions on the path are made here, on that copy */
	DT_PROBE_FILE_HELPER, /* internal: security_file_open, the open has reached a file:
			       * decisions on that file (filename:path) are made here */
};

struct dt_probe {
	struct dt_site site;
	uint8_t role;	   /* enum dt_probe_role */
	bool compat;	   /* an __ia32_ entry point */
	bool regs_abi;	   /* arguments in registers (kernel functions, syscalls < 4.17),
			    * not in the pt_regs the __x64_/__ia32_ wrappers receive */
	bool armed;	   /* our bytes are in guest memory */
	bool gone;	   /* removed from the plan: disarmed, kept so that a trap taken
			    * before its bytes were restored is answered RETRY */
	int func_id;	   /* catalogue id (-1 for helpers) */
	uint32_t jid[2];   /* crash-journal records of the armed bytes (0: none; two when
			    * the site crosses a page) */
	uint64_t hits;
};

struct dt_probe_table;
struct dt_journal;

/* Where probes are written: one VM's domain, the kernel page tables, the trap bytes, and
 * the crash journal every armed byte is recorded in first (NULL: no guardian). */
struct dt_probe_io {
	const struct dt_hv_ops *ops;
	struct dt_hv_dom *dom;
	uint64_t cr3;
	const struct dt_trap_insn *insn;
	struct dt_journal *journal;
	uint32_t domid;
};

int dt_probe_table_new(struct dt_probe_table **ret_table);
void dt_probe_table_free(struct dt_probe_table *t); /* NULL ok; does not touch the guest */

/* Lookup by site address; NULL if absent. */
struct dt_probe *dt_probe_table_get(struct dt_probe_table *t, uint64_t addr);
/* Insert a copy; returns the stored probe, or NULL with errno (EEXIST, ENOMEM). The
 * returned pointer is valid until the next put or del. */
struct dt_probe *dt_probe_table_put(struct dt_probe_table *t, const struct dt_probe *p);
int dt_probe_table_del(struct dt_probe_table *t, uint64_t addr);
size_t dt_probe_table_count(const struct dt_probe_table *t);
/* Iteration: slots 0..capacity-1; NULL for empty slots. Do not put/del while iterating. */
size_t dt_probe_table_capacity(const struct dt_probe_table *t);
struct dt_probe *dt_probe_table_slot(struct dt_probe_table *t, size_t i);

/*
 * Write the trap bytes at probes[0..n). The domain must be paused. Each site must hold
 * exactly its original bytes (else -EILSEQ: the kernel is not what we analysed) and fit
 * the trap instruction. Each site is in the journal before its bytes are written
 * (-ENOSPC: journal full, nothing written there). On failure everything this call wrote
 * is restored and *ret_failed is the index that failed.
 */
int dt_probes_arm(const struct dt_probe_io *io, struct dt_probe *const *probes, size_t n,
		  size_t *ret_failed);

/*
 * Restore the original bytes of probes[0..n). The domain must be paused. A site that no
 * longer holds our trap bytes is left alone (the guest rewrote it) and counted in the
 * return value as a warning: returns the number of such sites, or -errno (-ENODEV: the
 * domain is gone, nothing to restore). A site leaves the journal once it holds its
 * original bytes again (or the guest's own).
 */
int dt_probes_disarm(const struct dt_probe_io *io, struct dt_probe *const *probes, size_t n);

#endif /* DT_PROBES_TABLE_H */
