/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * later.h - the later decision points of the trap path (engine/trap/later.c), called by
 * hit.c for a trap at a helper probe or an exit probe. Private to engine/trap/.
 *
 * Thread: the VM's worker, with the trapping vCPU waiting.
 */
#ifndef DT_TRAP_LATER_H
#define DT_TRAP_LATER_H

#include "domtrace/hv.h"
#include "probes/table.h"
#include "vmctx.h"

void dt_later_exec_helper(struct dt_vmctx *vm, const struct dt_trap *t, struct dt_regs *regs);
void dt_later_copy_helper(struct dt_vmctx *vm, const struct dt_trap *t, struct dt_regs *regs);
void dt_later_file_helper(struct dt_vmctx *vm, const struct dt_trap *t, struct dt_regs *regs);
int dt_later_return(struct dt_vmctx *vm, struct dt_probe *p, const struct dt_trap *t);

#endif /* DT_TRAP_LATER_H */
