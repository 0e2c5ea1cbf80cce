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
#include "trap/hit.h"

#define POST_ARENA_EXTRA 4096 /* room for out-parameters in a return's event */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int dt_hit_read_stack_word(struct dt_vmctx *vm, const struct dt_regs *r, uint64_t *ret)
{
	ssize_t n = vm->ops->read_va(vm->dom, r->cr3, r->rsp, ret, sizeof(*ret));

	if (n < 0)
		return (int)n;
	return n == (ssize_t)sizeof(*ret) ? 0 : -EFAULT;
}

bool dt_hit_is_exec(const struct dt_vmctx *vm, int func_id)
{
	return func_id >= 0 && (func_id == vm->exec_ids[0] || func_id == vm->exec_ids[1]);
}

void dt_hit_submit(struct dt_vmctx *vm, struct dt_event *ev)
{
	if (vm->pol.quiet && ev->type == DT_EV_CALL) {
		dt_event_free(ev);
		return;
	}
	ev->seq = ++vm->seq;
	(void)vm->out.submit(vm->out.ctx, ev); /* ownership passes; loss is counted there */
}

/* -dd: what a hit decided about a call */
void dt_hit_trace(const struct dt_vmctx *vm, const struct dt_trap *t, const struct dt_event *ev,
		  const char *how)
{
	dt_trace("VM %s v%u: %s %s by %s[%d]: %s%s%.0u%s", vm->name, t->vcpu, ev->func,
		 ev->when == DT_WHEN_POST ? "return" : "entry", ev->proc.comm, ev->proc.pid,
		 dt_event_type_name(ev->type), ev->filter ? " by filter #" : "", ev->filter,
		 how);
}

void dt_hit_fill(struct dt_vmctx *vm, struct dt_event *ev, const struct dt_trap *t)
{
	ev->ts_ns = now_ns();
	ev->domid = vm->domid;
	ev->vcpu = t->vcpu;
	memcpy(ev->vm, vm->name, sizeof(ev->vm));
}

const struct dt_proc_info *dt_hit_load_ancestry(void *ctx, size_t *ret_n)
{
	struct dt_hit_anc *a = ctx;
	struct dt_event *ev = a->ev;
	struct dt_proc_info *v;
	size_t n = 0;

	if (ev->anc) {
		*ret_n = ev->nanc;
		return ev->anc;
	}
	v = dt_event_alloc(ev, DT_ANCESTRY_MAX * sizeof(*v));
	if (!v || dt_guest_ancestry(a->vm->guest, ev->proc.task, a->vm->pol.real_parent, v,
				    DT_ANCESTRY_MAX, &n) < 0)
		n = 0;
	ev->anc = v;
	ev->nanc = (uint16_t)n;
	*ret_n = n;
	return v;
}

/*
 * A pslist event (seed: on execve/waitpid/fork/vfork/clone), restricted by ProcessListNames.
 * The task list is walked outside the RCU read lock (it allocates); the names are
 * checked inside it, against the chain in force then.
 */
static void send_pslist(struct dt_vmctx *vm, const struct dt_trap *t, const struct dt_event *call)
{
	struct dt_pslist_entry *all = NULL;
	const struct dt_config *cfg;
	struct dt_event *ev;
	size_t n = 0, i, k = 0;
	int stop = 0;

	if (dt_guest_pslist(vm->guest, &all, &n, &stop) < 0)
		return;
	if (dt_event_new(DT_EV_PSLIST, n * sizeof(*all) + 64, &ev) == 0) {
		dt_hit_fill(vm, ev, t);
		ev->proc = call->proc;
		ev->ps = dt_event_alloc(ev, n * sizeof(*all));
		dt_chain_read_lock();
		cfg = dt_chain_config(dt_chain_current(vm->chain));
		for (i = 0; ev->ps && i < n; i++)
			if (dt_config_pslist_wants(cfg, vm->name, all[i].comm))
				ev->ps[k++] = all[i];
		dt_chain_read_unlock();
		ev->nps = (uint32_t)k;
		dt_hit_submit(vm, ev);
	}
	free(all);
}

static bool can_abort(enum dt_decide_at where, int64_t value)
{
	return where == DT_DECIDE_AT_ENTRY || (where == DT_DECIDE_AT_KERNEL_COPY && value >= -4095 && value <= -1);
}

/*
 * The decision at a call's entry (or at the execve helper, once its strings are
 * readable): run the filter chain, abort if it says so, arrange the return probe,
 * send the event(s). regs are the registers the vCPU resumes with.
 */
bool dt_hit_decide(struct dt_vmctx *vm, const struct dt_trap *t, struct dt_event *ev,
		   struct dt_inflight_call *call, struct dt_regs *regs, enum dt_decide_at where,
		   bool may_defer)
{
	const struct dt_funcdesc *fd = dt_catalog_get(ev->func_id);
	struct dt_hit_anc actx = { .vm = vm, .ev = ev };
	struct dt_ancestry anc = { .load = dt_hit_load_ancestry, .ctx = &actx };
	const struct dt_config *cfg;
	struct dt_chain *chain;
	struct dt_match m;
	bool aborted = false, want_post, pslist = false;
	uint32_t unsafe_filter = 0, undecided = 0, regex_error = 0, bad_value = 0;
	uint64_t word;
	int r;

	dt_chain_read_lock();
	chain = dt_chain_current(vm->chain);
	cfg = dt_chain_config(chain);
	r = dt_chain_match(chain, vm->reader, ev, &anc, &m);
	if (r == DT_CHAIN_UNDECIDED && may_defer) {
		/* a later point will know what the first candidate filter reads */
		dt_chain_read_unlock();
		if (m.regex_error)
			dt_counter_add(&vm->counters.regex_errors, 1);
		return false;
	}
	if (r == DT_CHAIN_UNDECIDED) {
		/* No later point can read the argument the first candidate filter needs:
		 * decide on what was readable ("<not present ...>" for the rest). */
		if (m.apply)
			undecided = m.filter;
		regex_error = m.regex_error_first ? m.regex_error : 0;
		ev->unknown = 0;
		r = dt_chain_match(chain, vm->reader, ev, &anc, &m);
	}
	if (!regex_error && m.regex_error_first)
		regex_error = m.regex_error;
	if (m.regex_error)
		dt_counter_add(&vm->counters.regex_errors, 1);
	if (r == 1) {
		ev->filter = m.filter;
		ev->type = DT_EV_MATCH;
		dt_counter_add(&vm->counters.matches, 1);
		if (m.apply && dt_catalog_abort_unsafe(ev->func_id)) {
			/* the config check refuses such a filter by name; one for any
			 * function reaches here: report, never abort (it would crash) */
			unsafe_filter = m.filter;
		} else if (m.apply) {
			ev->abort_ret = m.abort_ret;
			ev->type = vm->action_on && can_abort(where, m.abort_ret)
					   ? DT_EV_ABORT
					   : DT_EV_WOULD_ABORT;
			if (where == DT_DECIDE_AT_KERNEL_COPY && ev->type == DT_EV_WOULD_ABORT &&
			    vm->action_on)
				bad_value = m.filter;
			else if (where == DT_DECIDE_AT_RETURN && vm->action_on &&
			    !vm->plan[ev->func_id].late_abort_warned) {
				vm->plan[ev->func_id].late_abort_warned = true;
				dt_warn("VM %s: %s matched abort filter #%u only after the call ran (its "
					"arguments were on pages not present at entry): reported as "
					"would-abort",
					vm->name, ev->func, m.filter);
			}
		}
	}
	want_post = vm->plan[ev->func_id].post_ok &&
		    ((vm->plan[ev->func_id].flags & DT_PROBE_POST) ||
		     dt_chain_wants_post(chain, vm->reader, ev->func_id));
	if ((fd->flags & DT_FN_PSLIST) && vm->want_pslist &&
	    dt_config_pslist_wants(cfg, vm->name, ev->proc.comm))
		pslist = true;
	dt_chain_read_unlock();
	if (regex_error)
		dt_warn("VM %s: filter #%u: a regex could not be evaluated on %s (PCRE2's match or "
			"depth limit, or bad UTF-8): taken as %s by OnRegexError; counted, said once "
			"per filter",
			vm->name, regex_error, ev->func,
			cfg->regex_error_allow ? "no match (allow)" : "a match for abort filters (deny)");
	if (undecided && !vm->plan[ev->func_id].undecided_said) {
		vm->plan[ev->func_id].undecided_said = true;
		dt_counter_add(&vm->counters.undecided, 1);
		dt_warn("VM %s: abort filter #%u reads an argument of %s that was not readable at "
			"entry, and this call has no later point to read it: decided on what was "
			"readable (said once per function)",
			vm->name, undecided, ev->func);
	}
	if (bad_value && !vm->plan[ev->func_id].late_abort_warned) {
		vm->plan[ev->func_id].late_abort_warned = true;
		dt_warn("VM %s: abort filter #%u on %s: its value %lld is not an error, and the path "
			"is decided where the kernel has copied it, where only an error (-4095..-1) "
			"can be returned: reported as would-abort",
			vm->name, bad_value, ev->func, (long long)ev->abort_ret);
	}
	if (unsafe_filter && !vm->plan[ev->func_id].unsafe_abort_said) {
		vm->plan[ev->func_id].unsafe_abort_said = true;
		dt_info("VM %s: abort filter #%u matched %s, which is never aborted (%s): "
			"reported as match",
			vm->name, unsafe_filter, ev->func, dt_catalog_abort_unsafe(ev->func_id));
	}
	if (pslist)
		send_pslist(vm, t, ev);

	if (vm->want_ancestry && ev->nanc == 0 && ev->type != DT_EV_CALL)
		(void)dt_hit_load_ancestry(&actx, &(size_t){ 0 }); /* the report file shows the lineage */
	if (ev->type == DT_EV_ABORT) {
		if (dt_hit_read_stack_word(vm, regs, &word) == 0) {
			dt_site_abort(regs, word, ev->abort_ret);
			aborted = true;
			dt_counter_add(&vm->counters.aborts, 1);
		} else {
			dt_warn("VM %s: cannot read the return address to abort %s; the call runs",
				vm->name, ev->func);
			ev->type = DT_EV_WOULD_ABORT;
		}
	}
	if (want_post && !aborted) {
		if (!call)
			call = dt_inflight_add(&vm->inflight, ev->proc.task, t->regs.rsp);
		if (call) {
			ev->post_follows = true;
			call->func_id = ev->func_id;
			call->compat = ev->compat;
			call->ts_ns = ev->ts_ns;
			dt_inflight_undefer(&vm->inflight, call);
			(void)dt_event_clone(ev, POST_ARENA_EXTRA, &call->pre); /* NULL: no return */
		}
	} else if (call) {
		dt_inflight_del(&vm->inflight, call->task, call->rsp);
		call = NULL;
	}
	dt_hit_trace(vm, t, ev,
		       aborted		 ? ": aborted, the call returns at once"
		       : call && call->pre ? "; its return will be reported"
					   : "");
	if (call && call->pre && ev->type == DT_EV_CALL) {
		/* An unmatched call whose return will be reported: one line, at the return,
		 * with the arguments and the value (the copy above keeps them). */
		dt_event_free(ev);
		return true;
	}
	dt_hit_submit(vm, ev);
	return true;
}

/* execve's and execveat's path argument (its kernel copy is read at the exec helper). */
int dt_hit_exec_path_arg(int func_id)
{
	const struct dt_funcdesc *fd = dt_catalog_get(func_id);
	unsigned k;

	for (k = 0; fd && k < fd->nargs; k++)
		if (fd->args[k].type == DT_AT_PATH)
			return (int)k;
	return -1;
}

/*
 * The chain's verdict on an entry with arguments not known yet (ev->unknown): ABORT_NOW
 * if it aborts the call whatever they say (a filter before any that reads them matches
 * and aborts: decided now, rather than at a later point too late for most calls),
 * DT_CHAIN_UNDECIDED if the decision needs them, 0 otherwise.
 */
#define ABORT_NOW 1

static int entry_verdict(struct dt_vmctx *vm, struct dt_event *ev)
{
	struct dt_hit_anc actx = { .vm = vm, .ev = ev };
	struct dt_ancestry anc = { .load = dt_hit_load_ancestry, .ctx = &actx };
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

/* A deferred entry of this task that never met its later point (its call failed before
 * it, and no return probe saw the end): the task is in a new system call now, so that
 * one is over. Sent, marked unfinished, not lost; and forgotten, so that no later point
 * decides it with another call's data. */
static void flush_stale(struct dt_vmctx *vm, uint64_t task)
{
	struct dt_inflight_call *old = dt_inflight_deferred_of(&vm->inflight, task);

	if (!old)
		return;
	if (old->pre) {
		old->pre->unfinished = true;
		dt_hit_submit(vm, old->pre);
		old->pre = NULL;
	}
	dt_inflight_del(&vm->inflight, old->task, old->rsp);
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

	dt_counter_add(&vm->counters.calls, 1);
	if (p->role == DT_PROBE_EXIT_HELPER || p->func_id == vm->exit_id) {
		/* a task is exiting: what we cached about it may be reused for another */
		if (dt_guest_current_task(vm->guest, t->vcpu, &t->regs, &task) == 0) {
			dt_guest_invalidate(vm->guest, task);
			(void)dt_inflight_drop_task(&vm->inflight, task);
		}
		if (p->role == DT_PROBE_EXIT_HELPER)
			return 0;
	}
	if (dt_guest_current_task(vm->guest, t->vcpu, &t->regs, &task) < 0)
		goto undecodable;
	if (fd->flags & DT_FN_SYSCALL)
		flush_stale(vm, task);
	if (dt_event_new(DT_EV_CALL, DT_EVENT_ARENA, &ev) < 0)
		return 0; /* out of memory: let the call run unseen rather than stall it */
	dt_hit_fill(vm, ev, t);
	ev->when = DT_WHEN_PRE;
	ev->func_id = p->func_id;
	ev->compat = p->compat;
	ev->site = p->site.addr;
	ev->func = (fd->flags & DT_FN_SYSCALL) ? dt_catalog_sys_name(p->func_id) : fd->name;
	ev->nr = (fd->flags & DT_FN_SYSCALL) ? (p->compat ? fd->nr32 : fd->nr64) : -1;
	if (dt_guest_proc_info(vm->guest, task, &ev->proc) < 0) {
		dt_event_free(ev);
		goto undecodable;
	}
	if (!p->regs_abi) {
		int64_t orig_ax;

		if (dt_guest_syscall_args(vm->guest, t->regs.rdi, p->compat, raw, &orig_ax) < 0) {
			vm->decode_errors++;
			dt_counter_add(&vm->counters.errors, 1);
		}
	} else {
		/* a kernel function or a pre-4.17 syscall: the C calling convention */
		raw[0] = t->regs.rdi, raw[1] = t->regs.rsi, raw[2] = t->regs.rdx;
		raw[3] = t->regs.rcx, raw[4] = t->regs.r8, raw[5] = t->regs.r9;
	}
	(void)dt_decode_pre(ev, fd, raw, &vm->mem, &missing);
	if (dt_hit_is_exec(vm, p->func_id))
		karg = vm->exec_helper ? dt_hit_exec_path_arg(p->func_id) : -1;
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
	    (to_copy || (missing > 0 && ((dt_hit_is_exec(vm, p->func_id) && vm->exec_helper) ||
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
			memcpy(c->raw, raw, sizeof(raw));
			c->pre = ev;
			dt_trace("VM %s v%u: %s entry by %s[%d]: decision waits %s",
				 vm->name, t->vcpu, ev->func, ev->proc.comm, ev->proc.pid,
				 c->kcopy   ? "for the kernel's copy of the path (do_filp_open)"
				 : c->kfile ? "for the file the open reaches (security_file_open)"
				 : dt_hit_is_exec(vm, p->func_id) && vm->exec_helper
					 ? "for the exec helper"
					 : "for the return (arguments on pages not present)");
			return 0;
		}
	}
	(void)dt_hit_decide(vm, t, ev, NULL, regs, DT_DECIDE_AT_ENTRY, false);
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
		dt_hit_submit(vm, c->pre);
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
		dt_trace("VM %s v%u: trap at 0x%llx: probe removed meanwhile, the original "
			 "instruction runs",
			 vm->name, t->vcpu, (unsigned long long)t->gla);
		return vm->ops->resume(vm->dom, t, DT_RESUME_RETRY, NULL);
	}
	p->hits++;
	vm->hit_cr3 = t->regs.cr3;
	switch (p->role) {
	case DT_PROBE_ENTRY:
	case DT_PROBE_EXIT_HELPER:
		(void)on_call(vm, p, t, &regs);
		break;
	case DT_PROBE_EXEC_HELPER:
		dt_later_exec_helper(vm, t, &regs);
		break;
	case DT_PROBE_COPY_HELPER:
		dt_later_copy_helper(vm, t, &regs);
		break;
	case DT_PROBE_FILE_HELPER:
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
		r = dt_hit_read_stack_word(vm, &regs, &word);
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
