// SPDX-License-Identifier: GPL-2.0-only
/*
 * check_xen_ring.c - our end of the vm_event ring against a ring page in memory whose other
 * end the test drives the way Xen does (FRONT_RING_INIT, requests in, responses out), with
 * the real vm_event.h structures and ring macros; plus what requests and responses mean.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xen_internal.h"

static void *page;
static struct dt_xen_ring ring;
static vm_event_front_ring_t xen; /* the hypervisor's end */

static void setup(void)
{
	page = aligned_alloc(DT_XEN_PAGE_SIZE, DT_XEN_PAGE_SIZE);
	ck_assert_ptr_nonnull(page);
	memset(page, 0xa5, DT_XEN_PAGE_SIZE); /* xc_monitor_enable gives no clean page */
	dt_xen_ring_init(&ring, page, DT_XEN_PAGE_SIZE);
	FRONT_RING_INIT(&xen, (vm_event_sring_t *)page, DT_XEN_PAGE_SIZE);
}

static void teardown(void)
{
	free(page);
}

static vm_event_request_t make_req(uint32_t vcpu, uint32_t reason, uint64_t rip)
{
	vm_event_request_t r;

	memset(&r, 0, sizeof(r));
	r.version = VM_EVENT_INTERFACE_VERSION;
	r.flags = VM_EVENT_FLAG_VCPU_PAUSED;
	r.reason = reason;
	r.vcpu_id = vcpu;
	r.data.regs.x86.rip = rip;
	return r;
}

static void xen_put(const vm_event_request_t *req)
{
	memcpy(RING_GET_REQUEST(&xen, xen.req_prod_pvt), req, sizeof(*req));
	xen.req_prod_pvt++;
	RING_PUSH_REQUESTS(&xen);
}

static bool xen_get(vm_event_response_t *rsp)
{
	if (!RING_HAS_UNCONSUMED_RESPONSES(&xen))
		return false;
	memcpy(rsp, RING_GET_RESPONSE(&xen, xen.rsp_cons), sizeof(*rsp));
	xen.rsp_cons++;
	return true;
}

START_TEST(test_ring_fifo_and_wrap)
{
	vm_event_request_t req = make_req(0, VM_EVENT_REASON_SOFTWARE_BREAKPOINT, 0), got;
	vm_event_response_t rsp;
	unsigned size = RING_SIZE(&ring.back), round, i;

	ck_assert_uint_ge(size, 4);
	ck_assert_int_eq(dt_xen_ring_get(&ring, &got), -EAGAIN);
	ck_assert_int_eq(dt_xen_ring_put(&ring, &rsp), -ENOSPC); /* nothing to answer */
	for (round = 0; round < 5; round++) {
		/* Fill the ring completely, consume and answer in order. */
		for (i = 0; i < size; i++) {
			req.vcpu_id = i;
			req.data.regs.x86.rip = round * 1000 + i;
			xen_put(&req);
		}
		ck_assert_uint_eq(RING_FREE_REQUESTS(&xen), 0);
		for (i = 0; i < size; i++) {
			ck_assert_int_eq(dt_xen_ring_get(&ring, &got), 0);
			ck_assert_uint_eq(got.vcpu_id, i);
			ck_assert_uint_eq(got.data.regs.x86.rip, round * 1000 + i);
			ck_assert_uint_eq(ring.back.sring->req_event, ring.back.req_cons + 1);
		}
		ck_assert_int_eq(dt_xen_ring_get(&ring, &got), -EAGAIN);
		ck_assert_uint_eq(dt_xen_ring_unanswered(&ring), size);
		for (i = 0; i < size; i++) {
			dt_xen_response_harmless(&got, &rsp);
			rsp.vcpu_id = size - 1 - i; /* answer order need not follow requests */
			ck_assert_int_eq(dt_xen_ring_put(&ring, &rsp), 0);
		}
		ck_assert_int_eq(dt_xen_ring_put(&ring, &rsp), -ENOSPC);
		for (i = 0; i < size; i++) {
			ck_assert(xen_get(&rsp));
			ck_assert_uint_eq(rsp.vcpu_id, size - 1 - i);
		}
		ck_assert(!xen_get(&rsp));
		ck_assert_uint_eq(RING_FREE_REQUESTS(&xen), size);
	}
}
END_TEST

START_TEST(test_ring_corrupt_producer)
{
	vm_event_request_t got;
	unsigned size = RING_SIZE(&ring.back), n = 0;

	/* A producer index far ahead is clamped: never more than the ring's slots. */
	ring.back.sring->req_prod = ring.back.req_cons + 100000;
	while (dt_xen_ring_get(&ring, &got) == 0)
		ck_assert_uint_le(++n, size);
	ck_assert_uint_eq(n, size);
}
END_TEST

START_TEST(test_classify)
{
	vm_event_request_t r = make_req(1, VM_EVENT_REASON_SOFTWARE_BREAKPOINT, 0);

	ck_assert_int_eq(dt_xen_req_classify(&r, DT_TRAP_INT3), DT_XEN_REQ_TRAP);
	ck_assert_int_eq(dt_xen_req_classify(&r, DT_TRAP_SGDT), DT_XEN_REQ_OTHER);
	r.reason = VM_EVENT_REASON_DESCRIPTOR_ACCESS;
	ck_assert_int_eq(dt_xen_req_classify(&r, DT_TRAP_SGDT), DT_XEN_REQ_TRAP);
	ck_assert_int_eq(dt_xen_req_classify(&r, DT_TRAP_INT3), DT_XEN_REQ_OTHER);
	r.reason = VM_EVENT_REASON_CPUID;
	ck_assert_int_eq(dt_xen_req_classify(&r, DT_TRAP_SGDT), DT_XEN_REQ_OTHER);
	r.reason = VM_EVENT_REASON_DESCRIPTOR_ACCESS;
	r.flags = 0; /* the vCPU did not stop: nothing we could steer */
	ck_assert_int_eq(dt_xen_req_classify(&r, DT_TRAP_SGDT), DT_XEN_REQ_OTHER);
	r.version = VM_EVENT_INTERFACE_VERSION + 1;
	ck_assert_int_eq(dt_xen_req_classify(&r, DT_TRAP_SGDT), DT_XEN_REQ_BAD_VERSION);
}
END_TEST

static void fill_x86(struct vm_event_regs_x86 *x)
{
	x->rax = 1, x->rcx = 2, x->rdx = 3, x->rbx = 4, x->rsp = 5, x->rbp = 6, x->rsi = 7;
	x->rdi = 8, x->r8 = 9, x->r9 = 10, x->r10 = 11, x->r11 = 12, x->r12 = 13, x->r13 = 14;
	x->r14 = 15, x->r15 = 16, x->rflags = 0x246, x->rip = 0xffffffff81372700ull;
	x->cr0 = 0x80050033, x->cr2 = 0x7f00, x->cr3 = 0x5a94000, x->cr4 = 0x3506f0;
	x->msr_efer = 0xd01, x->msr_star = 0x23001000000000, x->msr_lstar = 0xffffffff81c00080;
	x->sysenter_eip = 0xffffffff81c01aa0, x->fs_base = 0x7f1234, x->gs_base = 0xffff8880abc;
	x->shadow_gs = 0x7f5678;
	x->cs.ar = 0x29b; /* long-mode ring-0 code: type b, s, dpl 0, p, l */
	x->ss.ar = 0xc93;
}

START_TEST(test_trap_from_request)
{
	vm_event_request_t r = make_req(3, VM_EVENT_REASON_SOFTWARE_BREAKPOINT, 0);
	struct dt_trap t;

	fill_x86(&r.data.regs.x86);
	r.u.software_breakpoint.insn_length = 1;
	dt_xen_trap_from_request(&r, 0xffffffff81c01c40ull, &t);
	ck_assert_uint_eq(t.vcpu, 3);
	ck_assert_int_eq(t.reason, DT_TRAP_BREAKPOINT);
	ck_assert_uint_eq(t.gla, 0xffffffff81372700ull);
	ck_assert_uint_eq(t.insn_len, 1);
	ck_assert_uint_eq(t.regs.rax, 1);
	ck_assert_uint_eq(t.regs.rbx, 4);
	ck_assert_uint_eq(t.regs.rcx, 2);
	ck_assert_uint_eq(t.regs.rsp, 5);
	ck_assert_uint_eq(t.regs.r15, 16);
	ck_assert_uint_eq(t.regs.rip, t.gla);
	ck_assert_uint_eq(t.regs.cr3, 0x5a94000);
	ck_assert_uint_eq(t.regs.lstar, 0xffffffff81c00080ull);
	ck_assert_uint_eq(t.regs.cstar, 0xffffffff81c01c40ull);
	ck_assert_uint_eq(t.regs.kernel_gs_base, 0x7f5678);
	ck_assert_uint_eq(t.regs.gs_base, 0xffff8880abc);
	ck_assert_uint_eq(t.regs.cpl, 0);
	ck_assert(t.regs.cs_long);

	/* User mode: SS.DPL 3, 64-bit code. A descriptor access has no known length. */
	r.data.regs.x86.ss.ar = 0xcf3;
	r.data.regs.x86.cs.ar = 0x2fb;
	r.reason = VM_EVENT_REASON_DESCRIPTOR_ACCESS;
	dt_xen_trap_from_request(&r, 0, &t);
	ck_assert_uint_eq(t.regs.cpl, 3);
	ck_assert(t.regs.cs_long);
	ck_assert_int_eq(t.reason, DT_TRAP_DESCRIPTOR);
	ck_assert_uint_eq(t.insn_len, 0);
	/* 32-bit compatibility code */
	r.data.regs.x86.cs.ar = 0xcfb;
	dt_xen_trap_from_request(&r, 0, &t);
	ck_assert(!t.regs.cs_long);
}
END_TEST

START_TEST(test_regs_from_cpu)
{
	struct hvm_hw_cpu c;
	struct dt_regs regs;

	memset(&c, 0, sizeof(c));
	c.rax = 10, c.rbx = 11, c.rip = 0xffffffff81000000ull, c.rflags = 0x2;
	c.cr3 = 0x1000, c.cr4 = 1u << 12, c.msr_efer = 0x500;
	c.msr_lstar = 0xa, c.msr_cstar = 0xb, c.msr_star = 0xc, c.shadow_gs = 0xd;
	c.ss_arbytes = 0xcf3, c.cs_arbytes = 0x2fb;
	dt_xen_regs_from_cpu(&c, &regs);
	ck_assert_uint_eq(regs.rax, 10);
	ck_assert_uint_eq(regs.rbx, 11);
	ck_assert_uint_eq(regs.rip, 0xffffffff81000000ull);
	ck_assert_uint_eq(regs.cstar, 0xb);
	ck_assert_uint_eq(regs.kernel_gs_base, 0xd);
	ck_assert_uint_eq(regs.cpl, 3);
	ck_assert(regs.cs_long);
}
END_TEST

START_TEST(test_responses)
{
	vm_event_request_t r = make_req(2, VM_EVENT_REASON_SOFTWARE_BREAKPOINT, 0);
	vm_event_response_t rsp;
	struct dt_regs regs;

	fill_x86(&r.data.regs.x86);
	r.flags |= VM_EVENT_FLAG_FOREIGN;
	dt_xen_regs_from_event(&r.data.regs.x86, 0, &regs);
	regs.rax = 0xfffffffffffffff2ull; /* -ENOENT */
	regs.rsp += 8;
	regs.rip = 0xffffffff810a0000ull;
	regs.cr3 = 0xdead000; /* not a GPR: must not reach Xen */

	dt_xen_response(&r, DT_RESUME_SET_REGS, &regs, &rsp);
	ck_assert_uint_eq(rsp.version, VM_EVENT_INTERFACE_VERSION);
	ck_assert_uint_eq(rsp.vcpu_id, 2);
	ck_assert_uint_eq(rsp.reason, VM_EVENT_REASON_SOFTWARE_BREAKPOINT);
	ck_assert_uint_eq(rsp.flags, VM_EVENT_FLAG_VCPU_PAUSED | VM_EVENT_FLAG_SET_REGISTERS);
	ck_assert_uint_eq(rsp.data.regs.x86.rax, 0xfffffffffffffff2ull);
	ck_assert_uint_eq(rsp.data.regs.x86.rsp, 13);
	ck_assert_uint_eq(rsp.data.regs.x86.rip, 0xffffffff810a0000ull);
	ck_assert_uint_eq(rsp.data.regs.x86.rbx, 4);
	ck_assert_uint_eq(rsp.data.regs.x86.cr3, 0x5a94000);

	dt_xen_response(&r, DT_RESUME_RETRY, NULL, &rsp);
	ck_assert_uint_eq(rsp.flags, VM_EVENT_FLAG_VCPU_PAUSED);
	dt_xen_response(&r, DT_RESUME_NOT_OURS, NULL, &rsp);
	ck_assert_uint_eq(rsp.flags, VM_EVENT_FLAG_VCPU_PAUSED); /* re-injection is separate */
	r.reason = VM_EVENT_REASON_DESCRIPTOR_ACCESS;
	dt_xen_response(&r, DT_RESUME_NOT_OURS, NULL, &rsp);
	ck_assert_uint_eq(rsp.flags, VM_EVENT_FLAG_VCPU_PAUSED | VM_EVENT_FLAG_EMULATE);
	dt_xen_response_harmless(&r, &rsp);
	ck_assert_uint_eq(rsp.flags, VM_EVENT_FLAG_VCPU_PAUSED | VM_EVENT_FLAG_EMULATE);
	r.flags = 0;
	dt_xen_response(&r, DT_RESUME_RETRY, NULL, &rsp);
	ck_assert_uint_eq(rsp.flags, 0); /* never unpause a vCPU that was not paused */
}
END_TEST

/* Responses nobody asked for (crash recovery): bounded by what Xen has taken. */
START_TEST(test_unasked_responses)
{
	vm_event_response_t rsp, got;
	unsigned size = RING_SIZE(&ring.back), i;

	dt_xen_response_release(3, &rsp);
	ck_assert_uint_eq(rsp.version, VM_EVENT_INTERFACE_VERSION);
	ck_assert_uint_eq(rsp.vcpu_id, 3);
	ck_assert_uint_eq(rsp.flags, VM_EVENT_FLAG_VCPU_PAUSED);
	ck_assert_uint_eq(rsp.reason, VM_EVENT_REASON_UNKNOWN);

	ck_assert_uint_eq(dt_xen_ring_responses_pending(&ring), 0);
	for (i = 0; i < size; i++) {
		rsp.vcpu_id = i;
		ck_assert_int_eq(dt_xen_ring_put_unasked(&ring, &rsp), 0);
	}
	ck_assert_uint_eq(dt_xen_ring_responses_pending(&ring), size);
	ck_assert_int_eq(dt_xen_ring_put_unasked(&ring, &rsp), -ENOSPC); /* slot 0 unread */

	/* Xen takes two, as vm_event_get_response() does: rsp_event = rsp_cons + 1. */
	for (i = 0; i < 2; i++) {
		ck_assert(xen_get(&got));
		ck_assert_uint_eq(got.vcpu_id, i);
		xen.sring->rsp_event = xen.rsp_cons + 1;
	}
	ck_assert_uint_eq(dt_xen_ring_responses_pending(&ring), size - 2);
	rsp.vcpu_id = 100;
	ck_assert_int_eq(dt_xen_ring_put_unasked(&ring, &rsp), 0);
	ck_assert_int_eq(dt_xen_ring_put_unasked(&ring, &rsp), 0);
	ck_assert_int_eq(dt_xen_ring_put_unasked(&ring, &rsp), -ENOSPC);
	while (xen_get(&got))
		xen.sring->rsp_event = xen.rsp_cons + 1;
	ck_assert_uint_eq(got.vcpu_id, 100);
	ck_assert_uint_eq(dt_xen_ring_responses_pending(&ring), 0);

	/* An rsp_event beyond what we published reads as a full ring, not as room. */
	xen.sring->rsp_event = ring.back.rsp_prod_pvt + 5;
	ck_assert_uint_eq(dt_xen_ring_responses_pending(&ring), size);
	ck_assert_int_eq(dt_xen_ring_put_unasked(&ring, &rsp), -ENOSPC);
}
END_TEST

static Suite *xen_ring_suite(void)
{
	Suite *s = suite_create("xen_ring");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ring_fifo_and_wrap);
	tcase_add_test(tc, test_ring_corrupt_producer);
	tcase_add_test(tc, test_classify);
	tcase_add_test(tc, test_trap_from_request);
	tcase_add_test(tc, test_regs_from_cpu);
	tcase_add_test(tc, test_responses);
	tcase_add_test(tc, test_unasked_responses);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(xen_ring_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
