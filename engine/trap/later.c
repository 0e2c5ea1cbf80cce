// SPDX-License-Identifier: GPL-2.0-only
/*
 * The later decision points of the trap path: where a call whose entry could not be
 * decided (its strings on pages not present, or an open's path a filter reads) is
 * decided once the kernel has done its part, and where a call returns.
 *
 *   exec helper (bprm_execve / do_execveat_common)  execve's strings are in
 *   copy helper (do_filp_open)                      an open's path, as the kernel copied it
 *   file helper (security_file_open)                the file an open has reached
 *   return                                          the value, out-parameters, pairing
 *
 * Every function here runs on the VM's worker thread with the trapping vCPU waiting.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "domtrace/decode.h"
#include "domtrace/filter.h"
#include "domtrace/log.h"
#include "trap/decide.h"
#include "trap/later.h"

/*
 * The exec's path as the kernel copied it: bprm->filename at bprm_execve(bprm, ...), or
 * the struct filename do_execveat_common(fd, filename, ...) received. True if read.
 */
static bool read_exec_path(struct dt_vmctx *vm, const struct dt_regs *r, struct dt_event *ev,
			   int karg)
{
	const struct dt_offsets *o = dt_guest_offsets(vm->guest);
	enum dt_off key = vm->exec_helper_bprm ? DT_OFF_BINPRM_FILENAME : DT_OFF_FILENAME_NAME;
	uint64_t base = vm->exec_helper_bprm ? r->rdi : r->rsi, name = 0;
	char path[DT_STR_MAX];
	ssize_t n;

	if (karg >= ev->nargs || !dt_off_have(o, key) ||
	    dt_guest_read_kernel(vm->guest, base + o->off[key], &name, sizeof(name)) !=
		    (ssize_t)sizeof(name))
		return false;
	n = dt_guest_read_kstr(vm->guest, name, path, sizeof(path));
	return n >= 0 && dt_decode_set_copied(ev, dt_catalog_get(ev->func_id), (unsigned)karg, path,
					      (size_t)n, (size_t)n >= sizeof(path) - 1) == 0;
}

/* bprm_execve (or do_execveat_common): the kernel has copied execve's strings in. */
void dt_later_exec_helper(struct dt_vmctx *vm, const struct dt_trap *t, struct dt_regs *regs)
{
	struct dt_inflight_call *c;
	struct dt_event *ev;
	uint64_t task;
	unsigned i;
	int karg;

	if (dt_guest_current_task(vm->guest, t->vcpu, &t->regs, &task) < 0)
		return;
	if (vm->want_ancestry)
		dt_guest_invalidate(vm->guest, task); /* its image and comm are about to change */
	c = dt_inflight_deferred_of(&vm->inflight, task);
	if (!c || !c->pre || c->kcopy)
		return;
	ev = c->pre;
	c->pre = NULL;
	vm->hit_cr3 = t->regs.cr3;
	ev->unknown = 0;
	karg = dt_decide_exec_path_arg(c->func_id);
	if (karg >= 0 && read_exec_path(vm, &t->regs, ev, karg))
		c->missing &= ~(1u << karg); /* the kernel's copy, not the user's string */
	for (i = 0; i < ev->nargs; i++)
		if ((c->missing & (1u << i)) &&
		    dt_decode_retry_arg(ev, dt_catalog_get(c->func_id), i, &vm->mem) == -EAGAIN)
			ev->unknown |= (uint8_t)(1u << i);
	/* the decision happens here; an abort returns from this function instead */
	(void)dt_decide(vm, t, ev, c, regs, DT_DECIDE_AT_ENTRY, false);
}

/* The trapping task's call whose entry event waits for this point, or NULL. */
static struct dt_inflight_call *deferred_call(struct dt_vmctx *vm, const struct dt_trap *t)
{
	struct dt_inflight_call *c;
	uint64_t task;

	if (dt_guest_current_task(vm->guest, t->vcpu, &t->regs, &task) < 0)
		return NULL;
	c = dt_inflight_deferred_of(&vm->inflight, task);
	return c && c->pre ? c : NULL;
}

/*
 * do_filp_open(dfd, struct filename *name, op): the kernel has copied the path of an open
 * whose decision waits for it. The path is read from that copy (kernel memory: no user
 * thread can change it now), the chain decides, and an abort makes do_filp_open return
 * the error to its caller, which tests it with IS_ERR, gives the fd back and puts the name.
 */
void dt_later_copy_helper(struct dt_vmctx *vm, const struct dt_trap *t, struct dt_regs *regs)
{
	const struct dt_offsets *o = dt_guest_offsets(vm->guest);
	struct dt_inflight_call *c;
	struct dt_event *ev;
	char path[DT_STR_MAX];
	uint64_t name = 0;
	ssize_t n = -EFAULT;
	bool kfile;
	int karg;
	unsigned i;

	c = deferred_call(vm, t);
	if (!c || !c->kcopy)
		return; /* a kernel-internal open, or an open decided at entry */
	ev = c->pre;
	c->pre = NULL;
	c->kcopy = false;
	karg = dt_kcopy_arg(c->func_id);
	if (dt_off_have(o, DT_OFF_FILENAME_NAME) &&
	    dt_guest_read_kernel(vm->guest, t->regs.rsi + o->off[DT_OFF_FILENAME_NAME], &name,
				 sizeof(name)) == (ssize_t)sizeof(name))
		n = dt_guest_read_kstr(vm->guest, name, path, sizeof(path));
	ev->unknown = c->kfile ? DT_UNKNOWN_OBJECT : 0;
	if (karg >= 0 && n >= 0)
		(void)dt_decode_set_copied(ev, dt_catalog_get(c->func_id), (unsigned)karg, path,
					   (size_t)n, (size_t)n >= sizeof(path) - 1);
	vm->hit_cr3 = t->regs.cr3;
	for (i = 0; i < ev->nargs; i++)
		if ((c->missing & (1u << i)) && (int)i != karg &&
		    dt_decode_retry_arg(ev, dt_catalog_get(c->func_id), i, &vm->mem) == -EAGAIN)
			ev->unknown |= (uint8_t)(1u << i);
	kfile = c->kfile;
	c->kfile = false; /* decide_pre may forget c (an abort, no return wanted) */
	if (!dt_decide(vm, t, ev, c, regs, DT_DECIDE_AT_KERNEL_COPY, kfile)) {
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
void dt_later_file_helper(struct dt_vmctx *vm, const struct dt_trap *t, struct dt_regs *regs)
{
	const struct dt_funcdesc *fd;
	struct dt_inflight_call *c;
	struct dt_event *ev;
	char path[DT_STR_MAX];
	ssize_t n;
	int karg;

	c = deferred_call(vm, t);
	if (!c || !c->kfile)
		return; /* an open of the kernel's own, or one decided earlier */
	ev = c->pre;
	c->pre = NULL;
	c->kfile = c->kcopy = false;
	fd = dt_catalog_get(c->func_id);
	karg = dt_kcopy_arg(c->func_id);
	n = dt_guest_file_path(vm->guest, t->regs.rdi, path, sizeof(path));
	if (karg >= 0 && n >= 0)
		(void)dt_event_add_dec(ev, dt_event_printf(ev, "%s:path", fd->args[karg].name),
				       dt_event_strdup(ev, path, (size_t)n));
	else
		vm->decode_errors++;
	ev->unknown &= (uint8_t)~DT_UNKNOWN_OBJECT;
	(void)dt_decide(vm, t, ev, c, regs, DT_DECIDE_AT_KERNEL_COPY, false);
}

/* A traced function returns: pair it with its call, send the return's event. */
int dt_later_return(struct dt_vmctx *vm, struct dt_probe *p, const struct dt_trap *t)
{
	const struct dt_funcdesc *fd = dt_catalog_get(p->func_id);
	struct dt_decide_anc actx;
	struct dt_ancestry anc;
	struct dt_inflight_call *c;
	struct dt_event *ev;
	struct dt_match m;
	uint64_t task;

	if (dt_guest_current_task(vm->guest, t->vcpu, &t->regs, &task) < 0) {
		dt_counter_add(&vm->counters.errors, 1);
		return 0;
	}
	c = dt_inflight_get(&vm->inflight, task, t->regs.rsp);
	if (c && c->func_id != p->func_id && (c->pre || c->deferred)) {
		/* Another function's call at this depth: it returned unseen, and this one
		 * began unseen (its entry probe was put in while it ran). Pairing them would
		 * report one call's arguments with the other's value: the old entry is sent
		 * as unfinished, this return has no call. */
		if (c->pre) {
			c->pre->unfinished = true;
			dt_decide_submit(vm, c->pre);
			c->pre = NULL;
		}
		dt_inflight_del(&vm->inflight, task, t->regs.rsp);
		c = NULL;
	}
	if (!c) {
		/* a call we did not see begin, or that no one wants the end of */
		dt_counter_add(&vm->counters.unpaired, 1);
		return 0;
	}
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
				(void)dt_decode_retry_arg(pre, fd, i, &vm->mem);
		(void)dt_decide(vm, t, pre, c, &unused, DT_DECIDE_AT_RETURN, false);
		c = dt_inflight_get(&vm->inflight, task, t->regs.rsp);
		if (!c) {
			dt_counter_add(&vm->counters.unpaired, 1); /* decided: no return wanted */
			return 0;
		}
	}
	ev = c->pre;
	c->pre = NULL;
	if (!ev) {
		dt_counter_add(&vm->counters.unpaired, 1);
		dt_inflight_del(&vm->inflight, task, t->regs.rsp);
		return 0;
	}
	dt_counter_add(&vm->counters.returns, 1);
	dt_decide_fill(vm, ev, t);
	ev->type = DT_EV_CALL;
	ev->when = DT_WHEN_POST;
	ev->filter = 0;
	ev->latency_ns = ev->ts_ns - c->ts_ns;
	ev->has_ret = true;
	ev->ret = (int64_t)t->regs.rax;
	/* read again (exec changes the comm, setuid the ids), the ids only if changed */
	(void)dt_guest_proc_info_after(vm->guest, task, &c->stamp, &ev->proc);
	ev->anc = NULL;
	ev->nanc = 0;
	dt_inflight_del(&vm->inflight, task, t->regs.rsp);
	(void)dt_decode_post(ev, fd, &vm->mem, NULL);
	if (dt_decide_is_exec(vm, p->func_id) && ev->ret == 0 && vm->want_ancestry)
		dt_guest_invalidate(vm->guest, task);

	actx = (struct dt_decide_anc){ .vm = vm, .ev = ev };
	anc = (struct dt_ancestry){ .load = dt_decide_load_ancestry, .ctx = &actx };
	dt_chain_read_lock();
	if (dt_chain_match(dt_chain_current(vm->chain), vm->reader, ev, &anc, &m) == 1) {
		ev->filter = m.filter;
		ev->type = DT_EV_MATCH; /* nothing to abort after the fact */
		dt_counter_add(&vm->counters.matches, 1);
	}
	dt_chain_read_unlock();
	if (vm->want_ancestry && ev->type != DT_EV_CALL && ev->nanc == 0)
		(void)dt_decide_load_ancestry(&actx, &(size_t){ 0 });
	dt_decide_trace(vm, t, ev, "");
	dt_decide_submit(vm, ev);
	return 0;
}
