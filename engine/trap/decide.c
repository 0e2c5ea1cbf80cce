// SPDX-License-Identifier: GPL-2.0-only
/*
 * The decision on a call, wherever it is made (the entry in hit.c, a later point in
 * later.c): the filter chain's verdict, the abort, the return probe, and the event(s)
 * sent through the trap context's out. Also the small pieces both files use.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "domtrace/config.h"
#include "domtrace/decode.h"
#include "domtrace/filter.h"
#include "domtrace/log.h"
#include "trap/decide.h"

#define POST_ARENA_EXTRA 4096 /* room for out-parameters in a return's event */

int dt_decide_read_stack_word(struct dt_vmctx *vm, const struct dt_regs *r, uint64_t *ret)
{
	ssize_t n = vm->ops->read_va(vm->dom, r->cr3, r->rsp, ret, sizeof(*ret));

	if (n < 0)
		return (int)n;
	return n == (ssize_t)sizeof(*ret) ? 0 : -EFAULT;
}

bool dt_decide_is_exec(const struct dt_vmctx *vm, int func_id)
{
	return func_id >= 0 && (func_id == vm->exec_ids[0] || func_id == vm->exec_ids[1]);
}

void dt_decide_submit(struct dt_vmctx *vm, struct dt_event *ev)
{
	if (vm->pol.quiet && ev->type == DT_EV_CALL) {
		dt_vmctx_event_done(vm, ev);
		return;
	}
	ev->seq = ++vm->seq;
	(void)vm->out.submit(vm->out.ctx, ev); /* ownership passes; loss is counted there */
}

/* -dd: what a hit decided about a call */
void dt_decide_trace(const struct dt_vmctx *vm, const struct dt_trap *t,
		     const struct dt_event *ev, const char *how)
{
	dt_trace("VM %s v%u: %s %s by %s[%d]: %s%s%.0u%s", vm->name, t->vcpu, ev->func,
		 ev->when == DT_WHEN_POST ? "return" : "entry", ev->proc.comm, ev->proc.pid,
		 dt_event_type_name(ev->type), ev->filter ? " by filter #" : "", ev->filter,
		 how);
}

void dt_decide_fill(struct dt_vmctx *vm, struct dt_event *ev, const struct dt_trap *t)
{
	ev->ts_ns = dt_wallclock_at(&vm->wallclock, vm->hit_mono_ns);
	ev->domid = vm->domid;
	ev->vcpu = t->vcpu;
	memcpy(ev->vm, vm->name, sizeof(ev->vm));
}

const struct dt_proc_info *dt_decide_load_ancestry(void *ctx, size_t *ret_n)
{
	struct dt_decide_anc *a = ctx;
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
		dt_decide_fill(vm, ev, t);
		ev->proc = call->proc;
		ev->ps = dt_event_alloc(ev, n * sizeof(*all));
		dt_chain_read_lock();
		cfg = dt_chain_config(dt_chain_current(vm->chain));
		for (i = 0; ev->ps && i < n; i++)
			if (dt_config_pslist_wants(cfg, vm->name, all[i].comm))
				ev->ps[k++] = all[i];
		dt_chain_read_unlock();
		ev->nps = (uint32_t)k;
		dt_decide_submit(vm, ev);
	}
	free(all);
}

static bool can_abort(enum dt_decide_at where, int64_t value)
{
	return where == DT_DECIDE_AT_ENTRY ||
	       (where == DT_DECIDE_AT_KERNEL_COPY && value >= -4095 && value <= -1);
}

/*
 * The decision at a call's entry (or at the execve helper, once its strings are
 * readable): run the filter chain, abort if it says so, arrange the return probe,
 * send the event(s). regs are the registers the vCPU resumes with.
 */
bool dt_decide(struct dt_vmctx *vm, const struct dt_trap *t, struct dt_event *ev,
	       struct dt_inflight_call *call, struct dt_regs *regs, enum dt_decide_at where,
	       bool may_defer)
{
	const struct dt_funcdesc *fd = dt_catalog_get(ev->func_id);
	struct dt_decide_anc actx = { .vm = vm, .ev = ev };
	struct dt_ancestry anc = { .load = dt_decide_load_ancestry, .ctx = &actx };
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
		(void)dt_decide_load_ancestry(&actx, &(size_t){ 0 }); /* the report file shows the lineage */
	if (ev->type == DT_EV_ABORT) {
		if (dt_decide_read_stack_word(vm, regs, &word) == 0) {
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
			if (vm->hit_stamp.valid && vm->hit_stamp.task == ev->proc.task)
				call->stamp = vm->hit_stamp; /* decided at its entry */
			dt_inflight_undefer(&vm->inflight, call);
			(void)dt_event_clone(ev, POST_ARENA_EXTRA, &call->pre); /* NULL: no return */
		}
	} else if (call) {
		dt_inflight_del(&vm->inflight, call->task, call->rsp);
		call = NULL;
	}
	dt_decide_trace(vm, t, ev,
		       aborted		 ? ": aborted, the call returns at once"
		       : call && call->pre ? "; its return will be reported"
					   : "");
	if (call && call->pre && ev->type == DT_EV_CALL) {
		/* An unmatched call whose return will be reported: one line, at the return,
		 * with the arguments and the value (the copy above keeps them). */
		dt_vmctx_event_done(vm, ev);
		return true;
	}
	dt_decide_submit(vm, ev);
	return true;
}

/* execve's and execveat's path argument (its kernel copy is read at the exec helper). */
int dt_decide_exec_path_arg(int func_id)
{
	const struct dt_funcdesc *fd = dt_catalog_get(func_id);
	unsigned k;

	for (k = 0; fd && k < fd->nargs; k++)
		if (fd->args[k].type == DT_AT_PATH)
			return (int)k;
	return -1;
}
