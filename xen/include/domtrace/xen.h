/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dt_xen.h - parameters of the real Xen backend (dt_hv_xen, xen/).
 *
 * The engine fills one struct dt_xen_params and passes it to dt_hv_xen.open(); NULL means
 * all defaults. open() copies it: the caller keeps ownership. docs/XEN.md explains the
 * choices to an operator.
 */
#ifndef DOMTRACE_XEN_DT_XEN_H
#define DOMTRACE_XEN_DT_XEN_H

#include "domtrace/hv.h"

#define DT_XEN_MAP_CACHE_DEFAULT 512u /* foreign pages kept mapped per domain */
#define DT_XEN_MAP_CACHE_MIN 16u
#define DT_XEN_MAP_CACHE_MAX 65536u

struct dt_xen_params {
	/*
	 * How probes trap (see enum dt_trap_flavour): DT_TRAP_INT3 (0, the default) uses
	 * the software-breakpoint monitor and trap_insn() = cc; DT_TRAP_SGDT uses the
	 * descriptor-access monitor and trap_insn() = 0f 01 44 24 f0 (for QEMU TCG).
	 */
	enum dt_trap_flavour flavour;
	/* Foreign-mapped guest pages cached per domain: 0 = DT_XEN_MAP_CACHE_DEFAULT,
	 * otherwise clamped to [DT_XEN_MAP_CACHE_MIN, DT_XEN_MAP_CACHE_MAX]. */
	unsigned map_cache_pages;
};

#endif /* DOMTRACE_XEN_DT_XEN_H */
