/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hit.h - the trap path: what a breakpoint hit means and what the vCPU does next.
 * Private to engine/.
 *
 * hit.c takes every trap (dt_hit_handle), decides calls at their entry and answers the
 * vCPU; later.c holds the later decision points (exec, copy and file helpers, the
 * return); decide.c the decision both make. All work on a struct dt_vmctx only
 * (vmctx.h): no daemon, no worker.
 *
 * Thread: the VM's worker, with the trapping vCPU waiting.
 */
#ifndef DT_TRAP_HIT_H
#define DT_TRAP_HIT_H

#include "domtrace/hv.h"
#include "vmctx.h"

/* Handle one trap and answer it (the vCPU resumes). 0 or -errno (-ENODEV: the domain
 * is gone). */
int dt_hit_handle(struct dt_vmctx *vm, struct dt_trap *t);
/* Send the entry events of calls that have not returned (at detach). */
void dt_hit_flush_inflight(struct dt_vmctx *vm);

#endif /* DT_TRAP_HIT_H */
