// SPDX-License-Identifier: GPL-2.0-only
/*
 * The trap path: what a breakpoint hit means and what the vCPU does next.
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
#include "domtrace/report.h"
#include "domtrace/daemon.h"
#include "worker.h"

#define POST_ARENA_EXTRA 4096 /* room for out-parameters in a return's event */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int read_stack_word(struct dt_worker *w, const struct dt_regs *r, uint64_t *ret)
{
	ssize_t n = w->ops->read_va(w->dom, r->cr3, r->rsp, ret, sizeof(*ret));

	if (n < 0)
		return (int)n;
	return n == (ssize_t)sizeof(*ret) ? 0 : -EFAULT;
}

static bool is_exec(const struct dt_worker *w, int func_id)
{
	return func_id >= 0 && (func_id == w->exec_ids[0] || func_id == w->exec_ids[1]);
}

static void submit(struct dt_worker *w, struct dt_event *ev)
{
	if (w->d->opts->quiet && ev->type == DT_EV_CALL) {
		dt_event_free(ev);
		return;
	}
	ev->seq = ++w->seq;
	(void)dt_report_submit(w->producer, ev); /* ownership passes; loss is counted there */
}

/* -dd: what a hit decided about a call */
static void trace_decision(const struct dt_worker *w, const struct dt_trap *t, const struct dt_event *ev,
			   const char *how)
{
	dt_trace("VM %s v%u: %s %s by %s[%d]: %s%s%.0u%s", w->vm.name, t->vcpu, ev->func,
		 ev->when == DT_WHEN_POST ? "return" : "entry", ev->proc.comm, ev->proc.pid,
		 dt_event_type_name(ev->type), ev->filter ? " by filter #" : "", ev->filter,
		 how);
}

static void fill_common(struct dt_worker *w, struct dt_event *ev, const struct dt_trap *t)
{
	ev->ts_ns = now_ns();
	ev->domid = w->vm.domid;
	ev->vcpu = t->vcpu;
	memcpy(ev->vm, w->vm.name, sizeof(ev->vm));
}

/* Lazy ancestry for the filter chain (and the report file's pid lineage). */
struct anc_ctx {
	struct dt_worker *w;
	struct dt_event *ev;
};

static const struct dt_proc_info *load_ancestry(void *ctx, size_t *ret_n)
{
	struct anc_ctx *a = ctx;
	struct dt_event *ev = a->ev;
	struct dt_proc_info *v;
	size_t n = 0;

	if (ev->anc) {
		*ret_n = ev->nanc;
		return ev->anc;
	}
	v = dt_event_alloc(ev, DT_ANCESTRY_MAX * sizeof(*v));
	if (!v || dt_guest_ancestry(a->w->guest, ev->proc.task, a->w->d->opts->real_parent, v,
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
static void send_pslist(struct dt_worker *w, const struct dt_trap *t, const struct dt_event *call)
{
	struct dt_pslist_entry *all = NULL;
	const struct dt_config *cfg;
	struct dt_event *ev;
	size_t n = 0, i, k = 0;
	int stop = 0;

	if (dt_guest_pslist(w->guest, &all, &n, &stop) < 0)
		return;
	if (dt_event_new(DT_EV_PSLIST, n * sizeof(*all) + 64, &ev) == 0) {
		fill_common(w, ev, t);
		ev->proc = call->proc;
		ev->ps = dt_event_alloc(ev, n * sizeof(*all));
		dt_chain_read_lock();
		cfg = dt_chain_config(dt_chain_current(&w->d->policy));
		for (i = 0; ev->ps && i < n; i++)
			if (dt_config_pslist_wants(cfg, w->vm.name, all[i].comm))
				ev->ps[k++] = all[i];
		dt_chain_read_unlock();
		ev->nps = (uint32_t)k;
		submit(w, ev);
	}
	free(all);
}

/* Where a decision is made, and so what an abort can do there. */
enum abort_at {
	AT_RETURN,	/* the call has run: nothing to abort */
	AT_ENTRY,	/* the traced function's entry (or the exec helper): any value */
	AT_KERNEL_COPY, /* do_filp_open's entry: it returns a pointer its caller tests with
			 * IS_ERR, so only an error (-4095..-1) can come back from there */
};

static bool can_abort(enum abort_at where, int64_t value)
{
	return where == AT_ENTRY || (where == AT_KERNEL_COPY && value >= -4095 && value <= -1);
}

/*
 * The decision at a call's entry (or at the execve helper, once its strings are
 * readable): run the filter chain, abort if it says so, arrange the return probe,
 * send the event(s). regs are the registers the vCPU resumes with.
 */
static bool decide_pre(struct dt_worker *w, const struct dt_trap *t, struct dt_event *ev,
		       struct dt_inflight_call *call, struct dt_regs *regs, enum abort_at where,
		       bool may_defer)
{
	const struct dt_funcdesc *fd = dt_catalog_get(ev->func_id);
	struct anc_ctx actx = { .w = w, .ev = ev };
	struct dt_ancestry anc = { .load = load_ancestry, .ctx = &actx };
	const struct dt_config *cfg;
	struct dt_chain *chain;
	struct dt_match m;
	bool aborted = false, want_post, pslist = false;
	uint32_t unsafe_filter = 0, undecided = 0, regex_error = 0, bad_value = 0;
	uint64_t word;
	int r;

	dt_chain_read_lock();
	chain = dt_chain_current(&w->d->policy);
	cfg = dt_chain_config(chain);
	r = dt_chain_match(chain, w->reader, ev, &anc, &m);
	if (r == DT_CHAIN_UNDECIDED && may_defer) {
		/* a later point will know what the first candidate filter reads */
		dt_chain_read_unlock();
		if (m.regex_error)
			atomic_fetch_add(&w->d->stats.regex_errors, 1);
		return false;
	}
	if (r == DT_CHAIN_UNDECIDED) {
		/* No later point can read the argument the first candidate filter needs:
		 * decide on what was readable ("<not present ...>" for the rest). */
		if (m.apply)
			undecided = m.filter;
		regex_error = m.regex_error_first ? m.regex_error : 0;
		ev->unknown = 0;
		r = dt_chain_match(chain, w->reader, ev, &anc, &m);
	}
	if (!regex_error && m.regex_error_first)
		regex_error = m.regex_error;
	if (m.regex_error)
		atomic_fetch_add(&w->d->stats.regex_errors, 1);
	if (r == 1) {
		ev->filter = m.filter;
		ev->type = DT_EV_MATCH;
		atomic_fetch_add(&w->d->stats.matches, 1);
		if (m.apply && dt_catalog_abort_unsafe(ev->func_id)) {
			/* the config check refuses such a filter by name; one for any
			 * function reaches here: report, never abort (it would crash) */
			unsafe_filter = m.filter;
		} else if (m.apply) {
			ev->abort_ret = m.abort_ret;
			ev->type = atomic_load(&w->d->action_on) && can_abort(where, m.abort_ret)
					   ? DT_EV_ABORT
					   : DT_EV_WOULD_ABORT;
			if (where == AT_KERNEL_COPY && ev->type == DT_EV_WOULD_ABORT &&
			    atomic_load(&w->d->action_on))
				bad_value = m.filter;
			else if (where == AT_RETURN && atomic_load(&w->d->action_on) &&
			    !w->plan[ev->func_id].late_abort_warned) {
				w->plan[ev->func_id].late_abort_warned = true;
				dt_warn("VM %s: %s matched abort filter #%u only after the call ran (its "
					"arguments were on pages not present at entry): reported as "
					"would-abort",
					w->vm.name, ev->func, m.filter);
			}
		}
	}
	want_post = w->plan[ev->func_id].post_ok &&
		    ((w->plan[ev->func_id].flags & DT_PROBE_POST) ||
		     dt_chain_wants_post(chain, w->reader, ev->func_id));
	if ((fd->flags & DT_FN_PSLIST) && w->want_pslist &&
	    dt_config_pslist_wants(cfg, w->vm.name, ev->proc.comm))
		pslist = true;
	dt_chain_read_unlock();
	if (regex_error)
		dt_warn("VM %s: filter #%u: a regex could not be evaluated on %s (PCRE2's match or "
			"depth limit, or bad UTF-8): taken as %s by OnRegexError; counted, said once "
			"per filter",
			w->vm.name, regex_error, ev->func,
			cfg->regex_error_allow ? "no match (allow)" : "a match for abort filters (deny)");
	if (undecided && !w->plan[ev->func_id].undecided_said) {
		w->plan[ev->func_id].undecided_said = true;
		atomic_fetch_add(&w->d->stats.undecided, 1);
		dt_warn("VM %s: abort filter #%u reads an argument of %s that was not readable at "
			"entry, and this call has no later point to read it: decided on what was "
			"readable (said once per function)",
			w->vm.name, undecided, ev->func);
	}
	if (bad_value && !w->plan[ev->func_id].late_abort_warned) {
		w->plan[ev->func_id].late_abort_warned = true;
		dt_warn("VM %s: abort filter #%u on %s: its value %lld is not an error, and the path "
			"is decided where the kernel has copied it, where only an error (-4095..-1) "
			"can be returned: reported as would-abort",
			w->vm.name, bad_value, ev->func, (long long)ev->abort_ret);
	}
	if (unsafe_filter && !w->plan[ev->func_id].unsafe_abort_said) {
		w->plan[ev->func_id].unsafe_abort_said = true;
		dt_info("VM %s: abort filter #%u matched %s, which is never aborted (%s): "
			"reported as match",
			w->vm.name, unsafe_filter, ev->func, dt_catalog_abort_unsafe(ev->func_id));
	}
	if (pslist)
		send_pslist(w, t, ev);

	if (w->want_ancestry && ev->nanc == 0 && ev->type != DT_EV_CALL)
		(void)load_ancestry(&actx, &(size_t){ 0 }); /* the report file shows the lineage */
	if (ev->type == DT_EV_ABORT) {
		if (read_stack_word(w, regs, &word) == 0) {
			dt_site_abort(regs, word, ev->abort_ret);
			aborted = true;
			atomic_fetch_add(&w->d->stats.aborts, 1);
		} else {
			dt_warn("VM %s: cannot read the return address to abort %s; the call runs",
				w->vm.name, ev->func);
			ev->type = DT_EV_WOULD_ABORT;
		}
	}
	if (want_post && !aborted) {
		if (!call)
			call = dt_inflight_add(&w->inflight, ev->proc.task, t->regs.rsp);
		if (call) {
			ev->post_follows = true;
			call->func_id = ev->func_id;
			call->compat = ev->compat;
			call->ts_ns = ev->ts_ns;
			dt_inflight_undefer(&w->inflight, call);
			(void)dt_event_clone(ev, POST_ARENA_EXTRA, &call->pre); /* NULL: no return */
		}
	} else if (call) {
		dt_inflight_del(&w->inflight, call->task, call->rsp);
		call = NULL;
	}
	trace_decision(w, t, ev,
		       aborted		 ? ": aborted, the call returns at once"
		       : call && call->pre ? "; its return will be reported"
					   : "");
	if (call && call->pre && ev->type == DT_EV_CALL) {
		/* An unmatched call whose return will be reported: one line, at the return,
		 * with the arguments and the value (the copy above keeps them). */
		dt_event_free(ev);
		return true;
	}
	submit(w, ev);
	return true;
}

/* execve's and execveat's path argument (its kernel copy is read at the exec helper). */
static int exec_path_arg(int func_id)
{
	const struct dt_funcdesc *fd = dt_catalog_get(func_id);
	unsigned k;

	for (k = 0; fd && k < fd->nargs; k++)
		if (fd->args[k].type == DT_AT_PATH)
			return (int)k;
	return -1;
}

/*
 * The exec's path as the kernel copied it: bprm->filename at bprm_execve(bprm, ...), or
 * the struct filename do_execveat_common(fd, filename, ...) received. True if read.
 */
static bool read_exec_path(struct dt_worker *w, const struct dt_regs *r, struct dt_event *ev,
			   int karg)
{
	const struct dt_offsets *o = dt_guest_offsets(w->guest);
	enum dt_off key = w->exec_helper_bprm ? DT_OFF_BINPRM_FILENAME : DT_OFF_FILENAME_NAME;
	uint64_t base = w->exec_helper_bprm ? r->rdi : r->rsi, name = 0;
	char path[DT_STR_MAX];
	ssize_t n;

	if (karg >= ev->nargs || !dt_off_have(o, key) ||
	    dt_guest_read_kernel(w->guest, base + o->off[key], &name, sizeof(name)) !=
		    (ssize_t)sizeof(name))
		return false;
	n = dt_guest_read_kstr(w->guest, name, path, sizeof(path));
	return n >= 0 && dt_decode_set_copied(ev, dt_catalog_get(ev->func_id), (unsigned)karg, path,
					      (size_t)n, (size_t)n >= sizeof(path) - 1) == 0;
}

/*
 * The chain's verdict on an entry with arguments not known yet (ev->unknown): ABORT_NOW
 * if it aborts the call whatever they say (a filter before any that reads them matches
 * and aborts: decided now, rather than at a later point too late for most calls),
 * DT_CHAIN_UNDECIDED if the decision needs them, 0 otherwise.
 */
#define ABORT_NOW 1

static int entry_verdict(struct dt_worker *w, struct dt_event *ev)
{
	struct anc_ctx actx = { .w = w, .ev = ev };
	struct dt_ancestry anc = { .load = load_ancestry, .ctx = &actx };
	struct dt_match m;
	int r;

	dt_chain_read_lock();
	r = dt_chain_match(dt_chain_current(&w->d->policy), w->reader, ev, &anc, &m);
	dt_chain_read_unlock();
	if (r == 1)
		return m.apply && atomic_load(&w->d->action_on) && !dt_catalog_abort_unsafe(ev->func_id)
			       ? ABORT_NOW
			       : 0;
	return r;
}

/* A deferred entry of this task that never met its later point (its call failed before
 * it, and no return probe saw the end): the task is in a new system call now, so that
 * one is over. Sent, marked unfinished, not lost; and forgotten, so that no later point
 * decides it with another call's data. */
static void flush_stale(struct dt_worker *w, uint64_t task)
{
	struct dt_inflight_call *old = dt_inflight_deferred_of(&w->inflight, task);

	if (!old)
		return;
	if (old->pre) {
		old->pre->unfinished = true;
		submit(w, old->pre);
		old->pre = NULL;
	}
	dt_inflight_del(&w->inflight, old->task, old->rsp);
}

static int on_call(struct dt_worker *w, struct dt_probe *p, const struct dt_trap *t,
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

	atomic_fetch_add(&w->d->stats.calls, 1);
	if (p->role == DT_PROBE_EXIT_HELPER || p->func_id == w->exit_id) {
		/* a task is exiting: what we cached about it may be reused for another */
		if (dt_guest_current_task(w->guest, t->vcpu, &t->regs, &task) == 0) {
			dt_guest_invalidate(w->guest, task);
			(void)dt_inflight_drop_task(&w->inflight, task);
		}
		if (p->role == DT_PROBE_EXIT_HELPER)
			return 0;
	}
	if (dt_guest_current_task(w->guest, t->vcpu, &t->regs, &task) < 0)
		goto undecodable;
	if (fd->flags & DT_FN_SYSCALL)
		flush_stale(w, task);
	if (dt_event_new(DT_EV_CALL, DT_EVENT_ARENA, &ev) < 0)
		return 0; /* out of memory: let the call run unseen rather than stall it */
	fill_common(w, ev, t);
	ev->when = DT_WHEN_PRE;
	ev->func_id = p->func_id;
	ev->compat = p->compat;
	ev->site = p->site.addr;
	ev->func = (fd->flags & DT_FN_SYSCALL) ? dt_catalog_sys_name(p->func_id) : fd->name;
	ev->nr = (fd->flags & DT_FN_SYSCALL) ? (p->compat ? fd->nr32 : fd->nr64) : -1;
	if (dt_guest_proc_info(w->guest, task, &ev->proc) < 0) {
		dt_event_free(ev);
		goto undecodable;
	}
	if (!p->regs_abi) {
		int64_t orig_ax;

		if (dt_guest_syscall_args(w->guest, t->regs.rdi, p->compat, raw, &orig_ax) < 0) {
			w->decode_errors++;
			atomic_fetch_add(&w->d->stats.errors, 1);
		}
	} else {
		/* a kernel function or a pre-4.17 syscall: the C calling convention */
		raw[0] = t->regs.rdi, raw[1] = t->regs.rsi, raw[2] = t->regs.rdx;
		raw[3] = t->regs.rcx, raw[4] = t->regs.r8, raw[5] = t->regs.r9;
	}
	(void)dt_decode_pre(ev, fd, raw, &w->mem, &missing);
	if (is_exec(w, p->func_id))
		karg = w->exec_helper ? exec_path_arg(p->func_id) : -1;
	else
		karg = w->copy_helper ? dt_kcopy_arg(p->func_id) : -1;
	kbit = karg >= 0 ? 1u << karg : 0;
	if (w->file_helper && dt_kcopy_arg(p->func_id) >= 0)
		kbit |= DT_UNKNOWN_OBJECT; /* the file it will reach */
	/* An open's path is decided on the kernel's own copy when a filter reads it: the
	 * user's string may be absent now, or rewritten by another thread after this read. */
	ev->unknown = (uint8_t)(missing | kbit);
	verdict = ev->unknown ? entry_verdict(w, ev) : 0;
	to_copy = kbit && verdict == DT_CHAIN_UNDECIDED;
	if (!to_copy)
		ev->unknown &= (uint8_t)~kbit;
	if (verdict != ABORT_NOW &&
	    (to_copy || (missing > 0 && ((is_exec(w, p->func_id) && w->exec_helper) ||
					 w->plan[p->func_id].post_ok)))) {
		/* Strings on pages the guest has not faulted in yet (the ancestor's "(null)"):
		 * the kernel touches them during the call. The event waits for a point where
		 * they are present: do_filp_open for an open's path (where the decision is
		 * made, on the kernel's copy), the exec helper probe (bprm_execve) for execve,
		 * the return for other calls (too late to abort those: docs/DESIGN.md). */
		struct dt_inflight_call *c;

		c = dt_inflight_add(&w->inflight, task, t->regs.rsp);
		if (c && dt_inflight_defer(&w->inflight, c) == 0) {
			/* exec: at its helper; an open: at do_filp_open, then at
			 * security_file_open if a filter reads the file it reached */
			c->kcopy = to_copy && w->copy_helper && dt_kcopy_arg(p->func_id) >= 0;
			c->kfile = to_copy && w->file_helper && dt_kcopy_arg(p->func_id) >= 0;
			c->missing = (unsigned)missing;
			c->func_id = p->func_id;
			c->compat = p->compat;
			c->ts_ns = ev->ts_ns;
			memcpy(c->raw, raw, sizeof(raw));
			c->pre = ev;
			dt_trace("VM %s v%u: %s entry by %s[%d]: decision waits %s",
				 w->vm.name, t->vcpu, ev->func, ev->proc.comm, ev->proc.pid,
				 c->kcopy   ? "for the kernel's copy of the path (do_filp_open)"
				 : c->kfile ? "for the file the open reaches (security_file_open)"
				 : is_exec(w, p->func_id) && w->exec_helper
					 ? "for the exec helper"
					 : "for the return (arguments on pages not present)");
			return 0;
		}
	}
	(void)decide_pre(w, t, ev, NULL, regs, AT_ENTRY, false);
	return 0;
undecodable:
	w->decode_errors++;
	atomic_fetch_add(&w->d->stats.errors, 1);
	return 0;
}

/* bprm_execve (or do_execveat_common): the kernel has copied execve's strings in. */
static void on_exec_helper(struct dt_worker *w, const struct dt_trap *t, struct dt_regs *regs)
{
	struct dt_inflight_call *c;
	struct dt_event *ev;
	uint64_t task;
	unsigned i;
	int karg;

	if (dt_guest_current_task(w->guest, t->vcpu, &t->regs, &task) < 0)
		return;
	if (w->want_ancestry)
		dt_guest_invalidate(w->guest, task); /* its image and comm are about to change */
	c = dt_inflight_deferred_of(&w->inflight, task);
	if (!c || !c->pre || c->kcopy)
		return;
	ev = c->pre;
	c->pre = NULL;
	w->hit_cr3 = t->regs.cr3;
	ev->unknown = 0;
	karg = exec_path_arg(c->func_id);
	if (karg >= 0 && read_exec_path(w, &t->regs, ev, karg))
		c->missing &= ~(1u << karg); /* the kernel's copy, not the user's string */
	for (i = 0; i < ev->nargs; i++)
		if ((c->missing & (1u << i)) &&
		    dt_decode_retry_arg(ev, dt_catalog_get(c->func_id), i, &w->mem) == -EAGAIN)
			ev->unknown |= (uint8_t)(1u << i);
	/* the decision happens here; an abort returns from this function instead */
	(void)decide_pre(w, t, ev, c, regs, AT_ENTRY, false);
}

/* The trapping task's call whose entry event waits for this point, or NULL. */
static struct dt_inflight_call *deferred_call(struct dt_worker *w, const struct dt_trap *t)
{
	struct dt_inflight_call *c;
	uint64_t task;

	if (dt_guest_current_task(w->guest, t->vcpu, &t->regs, &task) < 0)
		return NULL;
	c = dt_inflight_deferred_of(&w->inflight, task);
	return c && c->pre ? c : NULL;
}

/*
 * do_filp_open(dfd, struct filename *name, op): the kernel has copied the path of an open
 * whose decision waits for it. The path is read from that copy (kernel memory: no user
 * thread can change it now), the chain decides, and an abort makes do_filp_open return
 * the error to its caller, which tests it with IS_ERR, gives the fd back and puts the name.
 */
static void on_copy_helper(struct dt_worker *w, const struct dt_trap *t, struct dt_regs *regs)
{
	const struct dt_offsets *o = dt_guest_offsets(w->guest);
	struct dt_inflight_call *c;
	struct dt_event *ev;
	char path[DT_STR_MAX];
	uint64_t name = 0;
	ssize_t n = -EFAULT;
	bool kfile;
	int karg;
	unsigned i;

	c = deferred_call(w, t);
	if (!c || !c->kcopy)
		return; /* a kernel-internal open, or an open decided at entry */
	ev = c->pre;
	c->pre = NULL;
	c->kcopy = false;
	karg = dt_kcopy_arg(c->func_id);
	if (dt_off_have(o, DT_OFF_FILENAME_NAME) &&
	    dt_guest_read_kernel(w->guest, t->regs.rsi + o->off[DT_OFF_FILENAME_NAME], &name,
				 sizeof(name)) == (ssize_t)sizeof(name))
		n = dt_guest_read_kstr(w->guest, name, path, sizeof(path));
	ev->unknown = c->kfile ? DT_UNKNOWN_OBJECT : 0;
	if (karg >= 0 && n >= 0)
		(void)dt_decode_set_copied(ev, dt_catalog_get(c->func_id), (unsigned)karg, path,
					   (size_t)n, (size_t)n >= sizeof(path) - 1);
	w->hit_cr3 = t->regs.cr3;
	for (i = 0; i < ev->nargs; i++)
		if ((c->missing & (1u << i)) && (int)i != karg &&
		    dt_decode_retry_arg(ev, dt_catalog_get(c->func_id), i, &w->mem) == -EAGAIN)
			ev->unknown |= (uint8_t)(1u << i);
	kfile = c->kfile;
	c->kfile = false; /* decide_pre may forget c (an abort, no return wanted) */
	if (!decide_pre(w, t, ev, c, regs, AT_KERNEL_COPY, kfile)) {
		c->pre = ev; /* decided where the open reaches its file (on_file_helper) */
		c->kfile = true;
	}
}

/*
 * security_file_open(struct file *): the open has reached a file. Its path is rebuilt from
 * the kernel's dentries and mounts (what a symlink, a directory fd or ../ led to), given
 * to filters as "<path arg>:path", and an abort makes the hook deny the open, as an LSM
 * does: do_dentry_open's caller gets the error and the file is never installed.
 */
static void on_file_helper(struct dt_worker *w, const struct dt_trap *t, struct dt_regs *regs)
{
	const struct dt_funcdesc *fd;
	struct dt_inflight_call *c;
	struct dt_event *ev;
	char path[DT_STR_MAX];
	ssize_t n;
	int karg;

	c = deferred_call(w, t);
	if (!c || !c->kfile)
		return; /* an open of the kernel's own, or one decided earlier */
	ev = c->pre;
	c->pre = NULL;
	c->kfile = c->kcopy = false;
	fd = dt_catalog_get(c->func_id);
	karg = dt_kcopy_arg(c->func_id);
	n = dt_guest_file_path(w->guest, t->regs.rdi, path, sizeof(path));
	if (karg >= 0 && n >= 0)
		(void)dt_event_add_dec(ev, dt_event_printf(ev, "%s:path", fd->args[karg].name),
				       dt_event_strdup(ev, path, (size_t)n));
	else
		w->decode_errors++;
	ev->unknown &= (uint8_t)~DT_UNKNOWN_OBJECT;
	(void)decide_pre(w, t, ev, c, regs, AT_KERNEL_COPY, false);
}

/* A traced function returns: pair it with its call, send the return's event. */
static int on_return(struct dt_worker *w, struct dt_probe *p, const struct dt_trap *t)
{
	const struct dt_funcdesc *fd = dt_catalog_get(p->func_id);
	struct anc_ctx actx;
	struct dt_ancestry anc;
	struct dt_inflight_call *c;
	struct dt_event *ev;
	struct dt_match m;
	uint64_t task;

	if (dt_guest_current_task(w->guest, t->vcpu, &t->regs, &task) < 0)
		return 0;
	c = dt_inflight_get(&w->inflight, task, t->regs.rsp);
	if (!c)
		return 0; /* a call we did not see begin, or that no one wants the end of */
	if (c->deferred) {
		/* The entry waited for its strings: the call has touched them by now (an
		 * execve that failed before bprm_execve still has its old memory). Decide
		 * now; too late to abort. */
		struct dt_event *pre = c->pre;
		struct dt_regs unused = t->regs;
		unsigned i;

		c->pre = NULL;
		pre->unknown = 0; /* nothing later to wait for: decide on what is readable */
		for (i = 0; i < pre->nargs; i++)
			if (c->missing & (1u << i))
				(void)dt_decode_retry_arg(pre, fd, i, &w->mem);
		(void)decide_pre(w, t, pre, c, &unused, AT_RETURN, false);
		c = dt_inflight_get(&w->inflight, task, t->regs.rsp);
		if (!c)
			return 0;
	}
	ev = c->pre;
	c->pre = NULL;
	if (!ev) {
		dt_inflight_del(&w->inflight, task, t->regs.rsp);
		return 0;
	}
	atomic_fetch_add(&w->d->stats.returns, 1);
	fill_common(w, ev, t);
	ev->type = DT_EV_CALL;
	ev->when = DT_WHEN_POST;
	ev->filter = 0;
	ev->latency_ns = ev->ts_ns - c->ts_ns;
	ev->has_ret = true;
	ev->ret = (int64_t)t->regs.rax;
	(void)dt_guest_proc_info(w->guest, task, &ev->proc); /* exec changes the comm */
	ev->anc = NULL;
	ev->nanc = 0;
	dt_inflight_del(&w->inflight, task, t->regs.rsp);
	(void)dt_decode_post(ev, fd, &w->mem, NULL);
	if (is_exec(w, p->func_id) && ev->ret == 0 && w->want_ancestry)
		dt_guest_invalidate(w->guest, task);

	actx = (struct anc_ctx){ .w = w, .ev = ev };
	anc = (struct dt_ancestry){ .load = load_ancestry, .ctx = &actx };
	dt_chain_read_lock();
	if (dt_chain_match(dt_chain_current(&w->d->policy), w->reader, ev, &anc, &m) == 1) {
		ev->filter = m.filter;
		ev->type = DT_EV_MATCH; /* nothing to abort after the fact */
		atomic_fetch_add(&w->d->stats.matches, 1);
	}
	dt_chain_read_unlock();
	if (w->want_ancestry && ev->type != DT_EV_CALL && ev->nanc == 0)
		(void)load_ancestry(&actx, &(size_t){ 0 });
	trace_decision(w, t, ev, "");
	submit(w, ev);
	return 0;
}

void dt_worker_flush_inflight(struct dt_worker *w)
{
	size_t i;

	/* Calls still running when we detach (a long wait4, accept): their entries are
	 * sent now, marked as never returned, rather than lost. */
	for (i = 0; i < w->inflight.map.cap; i++) {
		struct dt_inflight_call *c = dt_hashmap_slot(&w->inflight.map, i, NULL, NULL);

		if (!c || !c->pre)
			continue;
		c->pre->when = DT_WHEN_PRE;
		c->pre->unfinished = true;
		submit(w, c->pre);
		c->pre = NULL;
	}
}

int dt_worker_handle_trap(struct dt_worker *w, struct dt_trap *t)
{
	struct dt_probe *p = dt_probe_table_get(w->probes, t->gla);
	struct dt_regs regs = t->regs;
	uint64_t word = 0;
	int r;

	w->hits++;
	atomic_fetch_add(&w->d->stats.traps, 1);
	if (!p) {
		/* not ours: the guest's own int3, or a descriptor access in sgdt mode */
		if (++w->not_ours <= 10)
			dt_info("VM %s: trap not ours on vCPU %u at 0x%llx (%s, %u bytes): handed back "
				"to the guest%s",
				w->vm.name, t->vcpu, (unsigned long long)t->gla,
				t->reason == DT_TRAP_BREAKPOINT ? "int3" : "descriptor access", t->insn_len,
				w->not_ours == 10 ? " (no more of these are logged)" : "");
		atomic_fetch_add(&w->d->stats.not_ours, 1);
		dt_trace("VM %s v%u: trap at 0x%llx is not ours: handed back to the guest",
			 w->vm.name, t->vcpu, (unsigned long long)t->gla);
		return w->ops->resume(w->dom, t, DT_RESUME_NOT_OURS, NULL);
	}
	if (!p->armed) {
		/* removed while this trap waited: the original instruction is back */
		dt_trace("VM %s v%u: trap at 0x%llx: probe removed meanwhile, the original "
			 "instruction runs",
			 w->vm.name, t->vcpu, (unsigned long long)t->gla);
		return w->ops->resume(w->dom, t, DT_RESUME_RETRY, NULL);
	}
	p->hits++;
	w->hit_cr3 = t->regs.cr3;
	switch (p->role) {
	case DT_PROBE_ENTRY:
	case DT_PROBE_EXIT_HELPER:
		(void)on_call(w, p, t, &regs);
		break;
	case DT_PROBE_EXEC_HELPER:
		on_exec_helper(w, t, &regs);
		break;
	case DT_PROBE_COPY_HELPER:
		on_copy_helper(w, t, &regs);
		break;
	case DT_PROBE_FILE_HELPER:
		on_file_helper(w, t, &regs);
		break;
	case DT_PROBE_EXIT:
		(void)on_return(w, p, t);
		break;
	}
	if (regs.rip != t->regs.rip)
		/* aborted: the call returns from where the probe was; nothing to emulate */
		return w->ops->resume(w->dom, t, DT_RESUME_SET_REGS, &regs);
	if (p->site.emul == DT_EMUL_RET) {
		r = read_stack_word(w, &regs, &word);
		if (r < 0) {
			/* Cannot emulate the ret: put the instruction back (paused) and let it run. */
			if (dt_worker_pause(w) == 0) {
				struct dt_probe_io io;

				dt_worker_probe_io(w, &io);
				(void)dt_probes_disarm(&io, &p, 1);
				(void)dt_worker_unpause(w);
			}
			dt_warn("VM %s: return probe at 0x%llx removed: stack unreadable", w->vm.name,
				(unsigned long long)p->site.addr);
			return w->ops->resume(w->dom, t, DT_RESUME_RETRY, NULL);
		}
	}
	dt_site_emulate(&p->site, &regs, word);
	return w->ops->resume(w->dom, t, DT_RESUME_SET_REGS, &regs);
}
