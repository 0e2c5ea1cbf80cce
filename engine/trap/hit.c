// SPDX-License-Identifier: GPL-2.0-only
/*
 * The trap path: what a breakpoint hit means and what the vCPU does next. This file
 * takes every trap and decides calls at their entry; later.c holds the later decision
 * points. Both see one VM's trap context (vmctx.h), nothing of the daemon.
 *
 * Every trap is answered exactly once. A hit on our probe resumes with registers that
 * emulate the instruction the probe replaced (nop: RIP moves on; ret/jmp: RIP and RSP as
 * the instruction would leave them), or that abort the call (RAX = value, RIP = return
 * address, RSP += 8). A trap elsewhere is handed back to the guest. Only the trapping
 * vCPU ever waits, and only while this function runs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domtrace/config.h"
#include "domtrace/decode.h"
#include "domtrace/filter.h"
#include "domtrace/log.h"
#include "trap/decide.h"
#include "trap/hit.h"
#include "trap/later.h"

/*
 * The chain's verdict on an entry with arguments not known yet (ev->unknown): ABORT_NOW
 * if it aborts the call whatever they say (a filter before any that reads them matches
 * and aborts: decided now, rather than at a later point too late for most calls),
 * DT_CHAIN_UNDECIDED if the decision needs them, 0 otherwise.
 */
#define ABORT_NOW 1

static int entry_verdict(struct dt_vmctx *vm, struct dt_event *ev)
{
	struct dt_decide_anc actx = { .vm = vm, .ev = ev };
	struct dt_ancestry anc = { .load = dt_decide_load_ancestry, .ctx = &actx };
	struct dt_match m;
	int r;

	dt_chain_read_lock();
	r = dt_chain_match(dt_chain_current(vm->chain), vm->reader, ev, &anc, &m);
	dt_chain_read_unlock();
	if (r == 1)
		return m.apply && vm->action_on && !dt_catalog_abort_unsafe(ev->func_id)
			       ? ABORT_NOW
			       : 0;
	return r;
}

/* A call that is over without a return we saw: its entry is sent, marked unfinished,
 * rather than lost, and the call forgotten. */
static void send_unfinished(struct dt_vmctx *vm, struct dt_inflight_call *old)
{
	if (old->pre) {
		old->pre->when = DT_WHEN_PRE;
		old->pre->unfinished = true;
		dt_decide_submit(vm, old->pre);
		old->pre = NULL;
	}
	dt_inflight_del(&vm->inflight, old->task, old->rsp);
}

/*
 * Calls of this task that a new entry at rsp proves over. A deferred entry that never
 * met its later point (its call failed before it, and no return probe saw the end): the
 * task is in a new system call now; forgotten too so that no later point decides it with
 * another call's data. And a call at this very stack depth: its frame is where the new
 * call's is, so it has returned, unseen (a return probe removed while it ran, or a task
 * that died in it and whose task_struct and stack a new task has now). Every system call
 * of a task enters at the same depth, so without this its next call would replace the
 * entry and lose its record.
 */
static void flush_stale(struct dt_vmctx *vm, uint64_t task, uint64_t rsp, bool syscall)
{
	struct dt_inflight_call *old = syscall ? dt_inflight_deferred_of(&vm->inflight, task) : NULL;

	if (old)
		send_unfinished(vm, old);
	old = dt_inflight_get(&vm->inflight, task, rsp);
	if (old)
		send_unfinished(vm, old);
}

/* A task is exiting: the calls it has in flight will not return (none should be left:
 * Linux takes a fatal signal on the way out of a call, after its return). */
static void flush_task(struct dt_vmctx *vm, uint64_t task)
{
	bool again = true;

	/* a delete shifts later slots back: rescan until a pass finds nothing */
	while (again) {
		size_t i;

		again = false;
		for (i = 0; i < vm->inflight.map.cap; i++) {
			uint64_t k1, k2;
			struct dt_inflight_call *c = dt_hashmap_slot(&vm->inflight.map, i, &k1, &k2);

			if (c && k1 == task) {
				send_unfinished(vm, c);
				again = true;
			}
		}
	}
}

static int on_call(struct dt_vmctx *vm, struct dt_probe *p, const struct dt_trap *t,
		    struct dt_regs *regs)
{
	const struct dt_funcdesc *fd = dt_catalog_get(p->func_id);
	struct dt_event *ev;
	uint64_t raw[DT_MAX_ARGS] = { 0 };
	uint64_t task;
	unsigned missing = 0;
	int karg, verdict;
	unsigned kbit;
	bool to_copy;

	dt_counter_add(p->role == DT_PROBE_EXIT_HELPER ? &vm->counters.helpers : &vm->counters.calls,
		       1);
	if (p->role == DT_PROBE_EXIT_HELPER || p->func_id == vm->exit_id) {
		/* a task is exiting: what we cached about it may be reused for another */
		if (dt_guest_current_task(vm->guest, t->vcpu, &t->regs, &task) == 0) {
			dt_guest_invalidate(vm->guest, task);
			flush_task(vm, task);
		}
		if (p->role == DT_PROBE_EXIT_HELPER)
			return 0;
	}
	if (dt_guest_current_task(vm->guest, t->vcpu, &t->regs, &task) < 0)
		goto undecodable;
	flush_stale(vm, task, t->regs.rsp, fd->flags & DT_FN_SYSCALL);
	if (dt_vmctx_event_new(vm, &ev) < 0)
		return 0; /* out of memory: let the call run unseen rather than stall it */
	dt_decide_fill(vm, ev, t);
	ev->when = DT_WHEN_PRE;
	ev->func_id = p->func_id;
	ev->compat = p->compat;
	ev->site = p->site.addr;
	ev->func = (fd->flags & DT_FN_SYSCALL) ? dt_catalog_sys_name(p->func_id) : fd->name;
	ev->nr = (fd->flags & DT_FN_SYSCALL) ? (p->compat ? fd->nr32 : fd->nr64) : -1;
	if (dt_guest_proc_info_stamp(vm->guest, task, &ev->proc, &vm->hit_stamp) < 0) {
		dt_vmctx_event_done(vm, ev);
		goto undecodable;
	}
	if (!p->regs_abi) {
		int64_t orig_ax;

		/* a call without arguments (getpid) has nothing in its pt_regs for us */
		if (fd->nargs > 0 &&
		    dt_guest_syscall_args(vm->guest, t->regs.rdi, p->compat, raw, &orig_ax) < 0) {
			vm->decode_errors++;
			dt_counter_add(&vm->counters.errors, 1);
		}
	} else {
		/* a kernel function or a pre-4.17 syscall: the C calling convention */
		raw[0] = t->regs.rdi, raw[1] = t->regs.rsi, raw[2] = t->regs.rdx;
		raw[3] = t->regs.rcx, raw[4] = t->regs.r8, raw[5] = t->regs.r9;
	}
	(void)dt_decode_pre(ev, fd, raw, &vm->mem, &missing);
	if (dt_decide_is_exec(vm, p->func_id))
		karg = vm->exec_helper ? dt_decide_exec_path_arg(p->func_id) : -1;
	else
		karg = vm->copy_helper ? dt_kcopy_arg(p->func_id) : -1;
	kbit = karg >= 0 ? 1u << karg : 0;
	if (vm->file_helper && dt_kcopy_arg(p->func_id) >= 0)
		kbit |= DT_UNKNOWN_OBJECT; /* the file it will reach */
	/* An open's path is decided on the kernel's own copy when a filter reads it: the
	 * user's string may be absent now, or rewritten by another thread after this read. */
	ev->unknown = (uint8_t)(missing | kbit);
	verdict = ev->unknown ? entry_verdict(vm, ev) : 0;
	to_copy = kbit && verdict == DT_CHAIN_UNDECIDED;
	if (!to_copy)
		ev->unknown &= (uint8_t)~kbit;
	if (verdict != ABORT_NOW &&
	    (to_copy || (missing > 0 && ((dt_decide_is_exec(vm, p->func_id) && vm->exec_helper) ||
					 vm->plan[p->func_id].post_ok)))) {
		/* Strings on pages the guest has not faulted in yet (the ancestor's "(null)"):
		 * the kernel touches them during the call. The event waits for a point where
		 * they are present: do_filp_open for an open's path (where the decision is
		 * made, on the kernel's copy), the exec helper probe (bprm_execve) for execve,
		 * the return for other calls (too late to abort those: docs/DESIGN.md). */
		struct dt_inflight_call *c;

		c = dt_inflight_add(&vm->inflight, task, t->regs.rsp);
		if (c && dt_inflight_defer(&vm->inflight, c) == 0) {
			/* exec: at its helper; an open: at do_filp_open, then at
			 * security_file_open if a filter reads the file it reached */
			c->kcopy = to_copy && vm->copy_helper && dt_kcopy_arg(p->func_id) >= 0;
			c->kfile = to_copy && vm->file_helper && dt_kcopy_arg(p->func_id) >= 0;
			c->missing = (unsigned)missing;
			c->func_id = p->func_id;
			c->compat = p->compat;
			c->ts_ns = ev->ts_ns;
			c->stamp = vm->hit_stamp;
			memcpy(c->raw, raw, sizeof(raw));
			c->pre = ev;
			dt_trace("VM %s v%u: %s entry by %s[%d]: decision waits %s",
				 vm->name, t->vcpu, ev->func, ev->proc.comm, ev->proc.pid,
				 c->kcopy   ? "for the kernel's copy of the path (do_filp_open)"
				 : c->kfile ? "for the file the open reaches (security_file_open)"
				 : dt_decide_is_exec(vm, p->func_id) && vm->exec_helper
					 ? "for the exec helper"
					 : "for the return (arguments on pages not present)");
			return 0;
		}
	}
	(void)dt_decide(vm, t, ev, NULL, regs, DT_DECIDE_AT_ENTRY, false);
	return 0;
undecodable:
	vm->decode_errors++;
	dt_counter_add(&vm->counters.errors, 1);
	return 0;
}

void dt_hit_flush_inflight(struct dt_vmctx *vm)
{
	size_t i;

	/* Calls still running when we detach (a long wait4, accept): their entries are
	 * sent now, marked as never returned, rather than lost. */
	for (i = 0; i < vm->inflight.map.cap; i++) {
		struct dt_inflight_call *c = dt_hashmap_slot(&vm->inflight.map, i, NULL, NULL);

		if (!c || !c->pre)
			continue;
		c->pre->when = DT_WHEN_PRE;
		c->pre->unfinished = true;
		dt_decide_submit(vm, c->pre);
		c->pre = NULL;
	}
}

int dt_hit_handle(struct dt_vmctx *vm, struct dt_trap *t)
{
	struct dt_probe *p = dt_probe_table_get(vm->probes, t->gla);
	struct dt_regs regs = t->regs;
	uint64_t word = 0;
	int r;

	vm->hits++;
	dt_counter_add(&vm->counters.traps, 1);
	/* one look at the action bit per trap: every decision of this trap sees the same */
	vm->action_on = vm->pol.action_bit && atomic_load(vm->pol.action_bit);
	if (!p) {
		/* not ours: the guest's own int3, or a descriptor access in sgdt mode */
		if (++vm->not_ours <= 10)
			dt_info("VM %s: trap not ours on vCPU %u at 0x%llx (%s, %u bytes): handed back "
				"to the guest%s",
				vm->name, t->vcpu, (unsigned long long)t->gla,
				t->reason == DT_TRAP_BREAKPOINT ? "int3" : "descriptor access", t->insn_len,
				vm->not_ours == 10 ? " (no more of these are logged)" : "");
		dt_counter_add(&vm->counters.not_ours, 1);
		dt_trace("VM %s v%u: trap at 0x%llx is not ours: handed back to the guest",
			 vm->name, t->vcpu, (unsigned long long)t->gla);
		return vm->ops->resume(vm->dom, t, DT_RESUME_NOT_OURS, NULL);
	}
	if (!p->armed) {
		/* removed while this trap waited: the original instruction is back */
		dt_counter_add(&vm->counters.unpaired, 1);
		dt_trace("VM %s v%u: trap at 0x%llx: probe removed meanwhile, the original "
			 "instruction runs",
			 vm->name, t->vcpu, (unsigned long long)t->gla);
		return vm->ops->resume(vm->dom, t, DT_RESUME_RETRY, NULL);
	}
	p->hits++;
	vm->hit_cr3 = t->regs.cr3;
	vm->hit_stamp.valid = false; /* another hit's: on_call reads this one's */
	switch (p->role) {
	case DT_PROBE_ENTRY:
	case DT_PROBE_EXIT_HELPER:
		(void)on_call(vm, p, t, &regs);
		break;
	case DT_PROBE_EXEC_HELPER:
		dt_counter_add(&vm->counters.helpers, 1);
		dt_later_exec_helper(vm, t, &regs);
		break;
	case DT_PROBE_COPY_HELPER:
		dt_counter_add(&vm->counters.helpers, 1);
		dt_later_copy_helper(vm, t, &regs);
		break;
	case DT_PROBE_FILE_HELPER:
		dt_counter_add(&vm->counters.helpers, 1);
		dt_later_file_helper(vm, t, &regs);
		break;
	case DT_PROBE_EXIT:
		(void)dt_later_return(vm, p, t);
		break;
	}
	if (regs.rip != t->regs.rip)
		/* aborted: the call returns from where the probe was; nothing to emulate */
		return vm->ops->resume(vm->dom, t, DT_RESUME_SET_REGS, &regs);
	if (p->site.emul == DT_EMUL_RET) {
		r = dt_decide_read_stack_word(vm, &regs, &word);
		if (r < 0) {
			/* Cannot emulate the ret: put the instruction back (paused) and let it run. */
			if (dt_vmctx_pause(vm) == 0) {
				(void)dt_probes_disarm(&vm->io, &p, 1);
				(void)dt_vmctx_unpause(vm);
			}
			dt_warn("VM %s: return probe at 0x%llx removed: stack unreadable", vm->name,
				(unsigned long long)p->site.addr);
			return vm->ops->resume(vm->dom, t, DT_RESUME_RETRY, NULL);
		}
	}
	dt_site_emulate(&p->site, &regs, word);
	return vm->ops->resume(vm->dom, t, DT_RESUME_SET_REGS, &regs);
}
