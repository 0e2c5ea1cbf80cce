/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * decide.h - the decision on a call (engine/trap/decide.c), shared by the trap path's own
 * files: hit.c (at the entry) and later.c (at the later points). Private to engine/trap/.
 *
 * Thread: the VM's worker, with the trapping vCPU waiting.
 */
#ifndef DT_TRAP_DECIDE_H
#define DT_TRAP_DECIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domtrace/event.h"
#include "domtrace/hv.h"
#include "trap/inflight.h"
#include "vmctx.h"

/* Where a decision is made, and so what an abort can do there. */
enum dt_decide_at {
	DT_DECIDE_AT_RETURN,	  /* the call has run: nothing to abort */
	DT_DECIDE_AT_ENTRY,	  /* the traced function's entry (or the exec helper): any value */
	DT_DECIDE_AT_KERNEL_COPY, /* do_filp_open's entry: it returns a pointer its caller
				   * tests with IS_ERR, so only an error (-4095..-1) can come
				   * back from there */
};

/*
 * The decision at a call's entry (or at a later point, once what it needs is readable):
 * run the filter chain, abort if it says so, arrange the return probe, send the
 * event(s). regs are the registers the vCPU resumes with. call: the in-flight call the
 * event waited in, or NULL. False (nothing done) if the chain is undecided and
 * may_defer: a later point will know what the first candidate filter reads.
 */
bool dt_decide(struct dt_vmctx *vm, const struct dt_trap *t, struct dt_event *ev,
	       struct dt_inflight_call *call, struct dt_regs *regs, enum dt_decide_at where,
	       bool may_defer);
/* Number and send an event (ownership passes; -q drops unmatched calls). */
void dt_decide_submit(struct dt_vmctx *vm, struct dt_event *ev);
/* Time, VM and vCPU of an event. */
void dt_decide_fill(struct dt_vmctx *vm, struct dt_event *ev, const struct dt_trap *t);
/* -dd: what a hit decided about a call. */
void dt_decide_trace(const struct dt_vmctx *vm, const struct dt_trap *t,
		     const struct dt_event *ev, const char *how);
bool dt_decide_is_exec(const struct dt_vmctx *vm, int func_id);
/* execve's and execveat's path argument (its kernel copy is read at the exec helper). */
int dt_decide_exec_path_arg(int func_id);
/* The word at the trapping vCPU's stack pointer. 0 or -errno. */
int dt_decide_read_stack_word(struct dt_vmctx *vm, const struct dt_regs *r, uint64_t *ret);

/* Lazy ancestry for the filter chain (and the report file's pid lineage): the ctx of a
 * struct dt_ancestry whose load is dt_decide_load_ancestry. */
struct dt_decide_anc {
	struct dt_vmctx *vm;
	struct dt_event *ev;
};
const struct dt_proc_info *dt_decide_load_ancestry(void *ctx, size_t *ret_n);

#endif /* DT_TRAP_DECIDE_H */
