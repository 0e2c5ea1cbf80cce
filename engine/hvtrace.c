// SPDX-License-Identifier: GPL-2.0-only
/* -x / -ddd: a logging pass-through over the hypervisor backend (hvtrace.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "domtrace/log.h"
#include "domtrace/hvtrace.h"

/* Set once by dt_hvtrace_wrap(), before any other thread exists; read-only after. */
static const struct dt_hv_ops *real;
static unsigned flags;
static struct dt_hv_ops traced;

/* Our domain handle: the backend's, and the domid for the messages. */
struct tdom {
	struct dt_hv_dom *dom;
	uint32_t domid;
};

static struct tdom *T(struct dt_hv_dom *d)
{
	return (struct tdom *)(void *)d;
}

#define hvlog(...) dt_log(DT_LOG_INFO, "hv: " __VA_ARGS__)

/* Log a failed call (r < 0); return r. */
static int failed(int r, const char *op, uint32_t domid, const char *what, unsigned long long a)
{
	if (r < 0 && (flags & DT_HVTRACE_FAIL))
		hvlog("%s(dom%u%s%s 0x%llx) failed: %s", op, domid, what[0] ? ", " : "", what, a,
		      strerrorname_np(-r) ? strerrorname_np(-r) : "?");
	return r;
}

static int t_open(const void *params, struct dt_hv **ret_hv)
{
	return failed(real->open(params, ret_hv), "open", 0, "", 0);
}

static void t_close(struct dt_hv *hv)
{
	real->close(hv);
}

static int t_list_vms(struct dt_hv *hv, struct dt_vm_info **ret_vms, size_t *ret_n)
{
	return failed(real->list_vms(hv, ret_vms, ret_n), "list_vms", 0, "", 0);
}

static int t_watch_fd(struct dt_hv *hv)
{
	return failed(real->watch_fd(hv), "watch_fd", 0, "", 0);
}

static int t_watch_read(struct dt_hv *hv, struct dt_vm_note *ret_note)
{
	int r = real->watch_read(hv, ret_note);

	if (r == 0 && (flags & DT_HVTRACE_RING))
		hvlog("note: dom%u %s%s%s", ret_note->info.domid,
		      ret_note->change == DT_VM_APPEARED ? "appeared" : "gone",
		      ret_note->change == DT_VM_APPEARED ? " as " : "",
		      ret_note->change == DT_VM_APPEARED ? ret_note->info.name : "");
	return r == -EAGAIN ? r : failed(r, "watch_read", 0, "", 0);
}

static int t_dom_open(struct dt_hv *hv, uint32_t domid, struct dt_hv_dom **ret_dom)
{
	struct tdom *t = calloc(1, sizeof(*t));
	int r;

	if (!t)
		return failed(-ENOMEM, "dom_open", domid, "", 0);
	r = real->dom_open(hv, domid, &t->dom);
	if (r < 0) {
		free(t);
		return failed(r, "dom_open", domid, "", 0);
	}
	t->domid = domid;
	*ret_dom = (struct dt_hv_dom *)(void *)t;
	return 0;
}

static void t_dom_close(struct dt_hv_dom *dom)
{
	if (!dom)
		return;
	real->dom_close(T(dom)->dom);
	free(T(dom));
}

static int t_pause(struct dt_hv_dom *dom)
{
	return failed(real->pause(T(dom)->dom), "pause", T(dom)->domid, "", 0);
}

static int t_unpause(struct dt_hv_dom *dom)
{
	return failed(real->unpause(T(dom)->dom), "unpause", T(dom)->domid, "", 0);
}

static int t_vcpu_count(struct dt_hv_dom *dom)
{
	return failed(real->vcpu_count(T(dom)->dom), "vcpu_count", T(dom)->domid, "", 0);
}

static int t_get_regs(struct dt_hv_dom *dom, uint32_t vcpu, struct dt_regs *ret_regs)
{
	return failed(real->get_regs(T(dom)->dom, vcpu, ret_regs), "get_regs", T(dom)->domid,
		      "vcpu", vcpu);
}

static int t_set_regs(struct dt_hv_dom *dom, uint32_t vcpu, const struct dt_regs *regs)
{
	return failed(real->set_regs(T(dom)->dom, vcpu, regs), "set_regs", T(dom)->domid, "vcpu",
		      vcpu);
}

static ssize_t t_read_va(struct dt_hv_dom *dom, uint64_t cr3, uint64_t va, void *buf, size_t len)
{
	ssize_t n = real->read_va(T(dom)->dom, cr3, va, buf, len);

	if (n >= 0 && (flags & DT_HVTRACE_READS))
		hvlog("read_va(dom%u, cr3 0x%llx, 0x%llx, %zu) = %zd", T(dom)->domid,
		      (unsigned long long)cr3, (unsigned long long)va, len, n);
	return n < 0 ? failed((int)n, "read_va", T(dom)->domid, "va", va) : n;
}

static int t_write_va(struct dt_hv_dom *dom, uint64_t cr3, uint64_t va, const void *buf, size_t len)
{
	return failed(real->write_va(T(dom)->dom, cr3, va, buf, len), "write_va", T(dom)->domid, "va",
		      va);
}

static ssize_t t_read_pa(struct dt_hv_dom *dom, uint64_t gpa, void *buf, size_t len)
{
	ssize_t n = real->read_pa(T(dom)->dom, gpa, buf, len);

	if (n >= 0 && (flags & DT_HVTRACE_READS))
		hvlog("read_pa(dom%u, 0x%llx, %zu) = %zd", T(dom)->domid, (unsigned long long)gpa, len,
		      n);
	return n < 0 ? failed((int)n, "read_pa", T(dom)->domid, "gpa", gpa) : n;
}

static int t_write_pa(struct dt_hv_dom *dom, uint64_t gpa, const void *buf, size_t len)
{
	return failed(real->write_pa(T(dom)->dom, gpa, buf, len), "write_pa", T(dom)->domid, "gpa",
		      gpa);
}

static int t_translate(struct dt_hv_dom *dom, uint64_t cr3, uint64_t va, uint64_t *ret_gpa)
{
	return failed(real->translate(T(dom)->dom, cr3, va, ret_gpa), "translate", T(dom)->domid,
		      "va", va);
}

static void t_flush_cache(struct dt_hv_dom *dom)
{
	real->flush_cache(T(dom)->dom);
}

static int t_trap_insn(struct dt_hv_dom *dom, struct dt_trap_insn *ret_insn)
{
	return failed(real->trap_insn(T(dom)->dom, ret_insn), "trap_insn", T(dom)->domid, "", 0);
}

static int t_set_trapping(struct dt_hv_dom *dom, bool on)
{
	return failed(real->set_trapping(T(dom)->dom, on), "set_trapping", T(dom)->domid, "on", on);
}

static int t_trap_fd(struct dt_hv_dom *dom)
{
	return failed(real->trap_fd(T(dom)->dom), "trap_fd", T(dom)->domid, "", 0);
}

static int t_next_trap(struct dt_hv_dom *dom, struct dt_trap *ret_trap)
{
	int r = real->next_trap(T(dom)->dom, ret_trap);

	if (r == 0 && (flags & DT_HVTRACE_RING))
		hvlog("trap: dom%u vcpu %u %s at 0x%llx (%u bytes), rsp 0x%llx, cr3 0x%llx",
		      T(dom)->domid, ret_trap->vcpu,
		      ret_trap->reason == DT_TRAP_BREAKPOINT ? "int3" : "descriptor access",
		      (unsigned long long)ret_trap->gla, ret_trap->insn_len,
		      (unsigned long long)ret_trap->regs.rsp, (unsigned long long)ret_trap->regs.cr3);
	return r == -EAGAIN ? r : failed(r, "next_trap", T(dom)->domid, "", 0);
}

static int t_resume(struct dt_hv_dom *dom, const struct dt_trap *trap, enum dt_resume_how how,
		    const struct dt_regs *regs)
{
	int r = real->resume(T(dom)->dom, trap, how, regs);

	if (flags & DT_HVTRACE_RING) {
		if (how == DT_RESUME_SET_REGS && regs)
			hvlog("answer: dom%u vcpu %u resumes at 0x%llx, rsp 0x%llx, rax 0x%llx%s",
			      T(dom)->domid, trap->vcpu, (unsigned long long)regs->rip,
			      (unsigned long long)regs->rsp, (unsigned long long)regs->rax,
			      r < 0 ? " (failed)" : "");
		else
			hvlog("answer: dom%u vcpu %u %s%s", T(dom)->domid, trap->vcpu,
			      how == DT_RESUME_RETRY ? "re-runs the instruction at the trap"
						     : "gets its own trap (not ours)",
			      r < 0 ? " (failed)" : "");
	}
	return failed(r, "resume", T(dom)->domid, "vcpu", trap->vcpu);
}

static void t_work(struct dt_hv_dom *dom, struct dt_hv_work *ret_work)
{
	real->work(T(dom)->dom, ret_work);
}

unsigned dt_hvtrace_flags_for(int hv_debug, int debug)
{
	return (hv_debug >= 1 ? DT_HVTRACE_FAIL : 0) | (hv_debug >= 2 ? DT_HVTRACE_RING : 0) |
	       (debug >= 3 ? DT_HVTRACE_READS : 0);
}

const struct dt_hv_ops *dt_hvtrace_wrap(const struct dt_hv_ops *ops, unsigned f)
{
	real = ops;
	flags = f;
	traced = (struct dt_hv_ops){
		.name = ops->name,
		.abi = ops->abi,
		.open = t_open,
		.close = t_close,
		.list_vms = t_list_vms,
		.watch_fd = t_watch_fd,
		.watch_read = t_watch_read,
		.dom_open = t_dom_open,
		.dom_close = t_dom_close,
		.recover = ops->recover, /* the guardian's, in its own process */
		.pause = t_pause,
		.unpause = t_unpause,
		.vcpu_count = t_vcpu_count,
		.get_regs = t_get_regs,
		.set_regs = t_set_regs,
		.read_va = t_read_va,
		.write_va = t_write_va,
		.read_pa = t_read_pa,
		.write_pa = t_write_pa,
		.translate = t_translate,
		.flush_cache = t_flush_cache,
		.trap_insn = t_trap_insn,
		.set_trapping = t_set_trapping,
		.trap_fd = t_trap_fd,
		.next_trap = t_next_trap,
		.resume = t_resume,
		.work = ops->work ? t_work : NULL,
	};
	return &traced;
}
