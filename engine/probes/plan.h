/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * plan.h - which breakpoints a VM needs under the current policy, and making the guest
 * match (engine/probes/plan.c). Private to engine/.
 *
 * Thread: the VM's worker, with the domain paused by the caller.
 */
#ifndef DT_PROBES_PLAN_H
#define DT_PROBES_PLAN_H

#include <stdbool.h>
#include <stdint.h>

struct dt_symtab;
struct dt_vmctx;

/* What the planner reads besides the trap context; the worker owns it. */
struct dt_plan_env {
	const struct dt_symtab *map; /* the guest kernel's symbols */
	uint8_t *code_buf;	     /* DT_FUNC_SCAN_MAX bytes for reading functions */
	uint64_t return_thunk;	     /* runtime address of __x86_return_thunk, or 0 */
	bool sgdt_returns_said;
	const char *not_ready_why; /* out: why the kernel looks not booted yet (static) */
};

/* Make the probe set match the current policy. Returns 0 or -errno (-ENODEV; -EAGAIN:
 * no entry can be probed yet, env->not_ready_why says why). */
int dt_plan_probes(struct dt_vmctx *vm, struct dt_plan_env *env);
/* Restore every byte. */
int dt_plan_disarm_all(struct dt_vmctx *vm);
/* Forget the journal records of every probe (the domain is gone: nothing to restore). */
void dt_plan_forget_journal(struct dt_vmctx *vm);

#endif /* DT_PROBES_PLAN_H */
