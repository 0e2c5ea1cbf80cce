// SPDX-License-Identifier: GPL-2.0-only
/*
 * xen_ring.c - our end of the vm_event monitor ring, and what its messages mean.
 *
 * Xen is the ring's front end: it produces requests (one per event; a synchronous event
 * pauses the vCPU with VM_EVENT_FLAG_VCPU_PAUSED) and consumes responses when we notify
 * its event channel. Every request needs exactly one response: that frees its slot, and
 * a response echoing VCPU_PAUSED is the only thing that unpauses the vCPU (disabling the
 * monitor does not). Responses need not come in request order: Xen matches them by
 * vcpu_id.
 *
 * The ring page was taken out of the guest's physmap by libxenctrl when the monitor was
 * enabled, so only Xen and we can write it; still, the producer index is clamped to the
 * ring size before use.
 */
#include <errno.h>
#include <string.h>

#include "xen_internal.h"

#define SEG_AR_DPL(ar) (((ar) >> 5) & 3u) /* Xen's packed attr: type:4 s:1 dpl:2 p:1 ... */
#define SEG_AR_L(ar) (((ar) >> 9) & 1u)	  /* ... avl:1 l:1 db:1 g:1 */
#define X86_INSN_MAX 15

void dt_xen_ring_init(struct dt_xen_ring *ring, void *page, size_t page_size)
{
	vm_event_sring_t *sring = page;

	SHARED_RING_INIT(sring);
	BACK_RING_INIT(&ring->back, sring, page_size);
}

static unsigned unconsumed(const struct dt_xen_ring *ring)
{
	const vm_event_back_ring_t *b = &ring->back;
	RING_IDX prod = __atomic_load_n(&b->sring->req_prod, __ATOMIC_ACQUIRE);
	unsigned reqs = prod - b->req_cons;
	unsigned room = RING_SIZE(b) - (b->req_cons - b->rsp_prod_pvt);

	return reqs < room ? reqs : room;
}

int dt_xen_ring_get(struct dt_xen_ring *ring, vm_event_request_t *ret_req)
{
	vm_event_back_ring_t *b = &ring->back;

	if (!unconsumed(ring)) {
		/* Ask for a notification on the next request, then look once more. */
		b->sring->req_event = b->req_cons + 1;
		xen_mb();
		if (!unconsumed(ring))
			return -EAGAIN;
	}
	xen_rmb(); /* the request's contents after its producer index */
	memcpy(ret_req, RING_GET_REQUEST(b, b->req_cons), sizeof(*ret_req));
	b->req_cons++;
	b->sring->req_event = b->req_cons + 1;
	return 0;
}

int dt_xen_ring_put(struct dt_xen_ring *ring, const vm_event_response_t *rsp)
{
	vm_event_back_ring_t *b = &ring->back;

	if (b->rsp_prod_pvt == b->req_cons)
		return -ENOSPC;
	memcpy(RING_GET_RESPONSE(b, b->rsp_prod_pvt), rsp, sizeof(*rsp));
	b->rsp_prod_pvt++;
	RING_PUSH_RESPONSES(b);
	return 0;
}

unsigned dt_xen_ring_unanswered(const struct dt_xen_ring *ring)
{
	return ring->back.req_cons - ring->back.rsp_prod_pvt;
}

unsigned dt_xen_ring_responses_pending(const struct dt_xen_ring *ring)
{
	const vm_event_back_ring_t *b = &ring->back;
	RING_IDX taken = __atomic_load_n(&b->sring->rsp_event, __ATOMIC_ACQUIRE) - 1;
	unsigned pending = b->rsp_prod_pvt - taken;

	return pending < RING_SIZE(b) ? pending : RING_SIZE(b);
}

int dt_xen_ring_put_unasked(struct dt_xen_ring *ring, const vm_event_response_t *rsp)
{
	vm_event_back_ring_t *b = &ring->back;

	/* A slot Xen has not read yet must not be overwritten. */
	if (dt_xen_ring_responses_pending(ring) >= RING_SIZE(b))
		return -ENOSPC;
	memcpy(RING_GET_RESPONSE(b, b->rsp_prod_pvt), rsp, sizeof(*rsp));
	b->rsp_prod_pvt++;
	RING_PUSH_RESPONSES(b);
	return 0;
}

/* ------------------------------------------------------------------ meaning */

enum dt_xen_req_kind dt_xen_req_classify(const vm_event_request_t *req,
					 enum dt_trap_flavour flavour)
{
	if (req->version != VM_EVENT_INTERFACE_VERSION)
		return DT_XEN_REQ_BAD_VERSION;
	/* A vCPU that did not stop cannot be steered: it is not a trap we can resume. */
	if (!(req->flags & VM_EVENT_FLAG_VCPU_PAUSED))
		return DT_XEN_REQ_OTHER;
	if (flavour == DT_TRAP_INT3 && req->reason == VM_EVENT_REASON_SOFTWARE_BREAKPOINT)
		return DT_XEN_REQ_TRAP;
	if (flavour == DT_TRAP_SGDT && req->reason == VM_EVENT_REASON_DESCRIPTOR_ACCESS)
		return DT_XEN_REQ_TRAP;
	return DT_XEN_REQ_OTHER;
}

void dt_xen_regs_from_event(const struct vm_event_regs_x86 *x, uint64_t cstar,
			    struct dt_regs *ret_regs)
{
	*ret_regs = (struct dt_regs){
		.rax = x->rax, .rbx = x->rbx, .rcx = x->rcx, .rdx = x->rdx,
		.rsi = x->rsi, .rdi = x->rdi, .rbp = x->rbp, .rsp = x->rsp,
		.r8 = x->r8, .r9 = x->r9, .r10 = x->r10, .r11 = x->r11,
		.r12 = x->r12, .r13 = x->r13, .r14 = x->r14, .r15 = x->r15,
		.rip = x->rip, .rflags = x->rflags,
		.cr0 = x->cr0, .cr2 = x->cr2, .cr3 = x->cr3, .cr4 = x->cr4,
		.efer = x->msr_efer,
		.fs_base = x->fs_base, .gs_base = x->gs_base, .kernel_gs_base = x->shadow_gs,
		.lstar = x->msr_lstar, .cstar = cstar, .star = x->msr_star,
		.sysenter_eip = x->sysenter_eip,
		/* SS.DPL is the CPL (Xen reports the VMCB's CPL there on AMD too). */
		.cpl = SEG_AR_DPL(x->ss.ar),
		.cs_long = SEG_AR_L(x->cs.ar),
	};
}

void dt_xen_regs_from_cpu(const struct hvm_hw_cpu *c, struct dt_regs *ret_regs)
{
	*ret_regs = (struct dt_regs){
		.rax = c->rax, .rbx = c->rbx, .rcx = c->rcx, .rdx = c->rdx,
		.rsi = c->rsi, .rdi = c->rdi, .rbp = c->rbp, .rsp = c->rsp,
		.r8 = c->r8, .r9 = c->r9, .r10 = c->r10, .r11 = c->r11,
		.r12 = c->r12, .r13 = c->r13, .r14 = c->r14, .r15 = c->r15,
		.rip = c->rip, .rflags = c->rflags,
		.cr0 = c->cr0, .cr2 = c->cr2, .cr3 = c->cr3, .cr4 = c->cr4,
		.efer = c->msr_efer,
		.fs_base = c->fs_base, .gs_base = c->gs_base, .kernel_gs_base = c->shadow_gs,
		.lstar = c->msr_lstar, .cstar = c->msr_cstar, .star = c->msr_star,
		.sysenter_eip = c->sysenter_eip,
		.cpl = SEG_AR_DPL(c->ss_arbytes),
		.cs_long = SEG_AR_L(c->cs_arbytes),
	};
}

void dt_xen_trap_from_request(const vm_event_request_t *req, uint64_t cstar,
			      struct dt_trap *ret_trap)
{
	struct dt_trap t = { .vcpu = req->vcpu_id };

	dt_xen_regs_from_event(&req->data.regs.x86, cstar, &t.regs);
	t.gla = t.regs.rip;
	if (req->reason == VM_EVENT_REASON_SOFTWARE_BREAKPOINT) {
		t.reason = DT_TRAP_BREAKPOINT;
		t.insn_len = req->u.software_breakpoint.insn_length <= X86_INSN_MAX
				     ? (uint8_t)req->u.software_breakpoint.insn_length
				     : 0;
	} else {
		/* Xen reports no instruction length for descriptor accesses: 0 = unknown. */
		t.reason = DT_TRAP_DESCRIPTOR;
		t.insn_len = 0;
	}
	*ret_trap = t;
}

static void response_base(const vm_event_request_t *req, vm_event_response_t *rsp)
{
	memset(rsp, 0, sizeof(*rsp));
	rsp->version = VM_EVENT_INTERFACE_VERSION;
	rsp->vcpu_id = req->vcpu_id;
	rsp->reason = req->reason;
	rsp->flags = req->flags & VM_EVENT_FLAG_VCPU_PAUSED;
	rsp->u = req->u;
}

void dt_xen_response(const vm_event_request_t *req, enum dt_resume_how how,
		     const struct dt_regs *regs, vm_event_response_t *ret_rsp)
{
	struct vm_event_regs_x86 *x = &ret_rsp->data.regs.x86;

	response_base(req, ret_rsp);
	switch (how) {
	case DT_RESUME_SET_REGS:
		/* Xen applies the GPRs, rip and rflags of this block, nothing else. */
		ret_rsp->flags |= VM_EVENT_FLAG_SET_REGISTERS;
		*x = req->data.regs.x86;
		x->rax = regs->rax, x->rbx = regs->rbx, x->rcx = regs->rcx, x->rdx = regs->rdx;
		x->rsi = regs->rsi, x->rdi = regs->rdi, x->rbp = regs->rbp, x->rsp = regs->rsp;
		x->r8 = regs->r8, x->r9 = regs->r9, x->r10 = regs->r10, x->r11 = regs->r11;
		x->r12 = regs->r12, x->r13 = regs->r13, x->r14 = regs->r14, x->r15 = regs->r15;
		x->rip = regs->rip;
		x->rflags = regs->rflags;
		break;
	case DT_RESUME_NOT_OURS:
		if (req->reason == VM_EVENT_REASON_DESCRIPTOR_ACCESS)
			ret_rsp->flags |= VM_EVENT_FLAG_EMULATE;
		break;
	case DT_RESUME_RETRY:
	default:
		break;
	}
}

void dt_xen_response_harmless(const vm_event_request_t *req, vm_event_response_t *ret_rsp)
{
	dt_xen_response(req, DT_RESUME_NOT_OURS, NULL, ret_rsp);
}

void dt_xen_response_release(uint32_t vcpu, vm_event_response_t *ret_rsp)
{
	memset(ret_rsp, 0, sizeof(*ret_rsp));
	ret_rsp->version = VM_EVENT_INTERFACE_VERSION;
	ret_rsp->vcpu_id = vcpu;
	ret_rsp->reason = VM_EVENT_REASON_UNKNOWN;
	ret_rsp->flags = VM_EVENT_FLAG_VCPU_PAUSED;
}
