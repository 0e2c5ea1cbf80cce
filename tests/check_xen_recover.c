// SPDX-License-Identifier: GPL-2.0-only
/*
 * check_xen_recover.c - dt_hv_xen.recover (crash recovery after a kill -9 of domtrace)
 * driven through a fake libxen seam that behaves as Xen 4.17 does where it matters:
 *   - a monitor ring left enabled by the dead process: xc_monitor_enable -> EBUSY
 *     (common/vm_event.c vm_event_enable);
 *   - xc_monitor_disable: EINVAL without a ring, EBUSY while vCPUs wait for ring space;
 *     it clears the monitor flags (arch_monitor_cleanup_domain) but leaves descriptor-table
 *     exiting on and never touches a vCPU's vm_event_pause_count;
 *   - xc_monitor_resume: vm_event_resume, which unpauses (count - 1) only a vCPU whose
 *     count is not zero and whose response says VCPU_PAUSED, ignores the others, and
 *     leaves rsp_event = rsp_cons + 1;
 *   - monitor ops: EOPNOTSUPP without the capability, then EEXIST if already so;
 *   - whole-domain pauses counted (controller_pause_count): XEN_DOMINF_paused while any is
 *     held; an unpause without one is a test failure here (Xen says EINVAL).
 * Guest memory is a plain array; a "write" is a writable mapping.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xen_internal.h"

#define DOMID 5
#define MAXV 64
#define MEM_PAGES 8

static struct {
	bool exists, hvm, dying, gone, attached;
	uint32_t vcpus;
	int dom_pauses;
	int pause_count[MAXV]; /* vm_event_pause_count */
	bool ring, ring_waiters;
	bool bp_on, desc_on, desc_exiting, desc_cap;
	void *ring_page;
	vm_event_front_ring_t front;
	int enable_err, resume_err;
	bool take_nothing;   /* a resume that consumes no response */
	int vanish_on_map;   /* the domain is destroyed at the n-th mapping (1-based) */
	int rw_fail_gfn;     /* writable mapping of this frame fails */
	int rw_lost_gfn;     /* writable mapping of this frame does not reach the guest */
	uint8_t scratch[DT_XEN_PAGE_SIZE];
	uint8_t *mem;
	int live_maps, maps, rw_maps, resumes, unpaused_by_rsp, ignored_rsp;
	bool running_while_writing, running_while_answering;
	vm_event_response_t rsp[MAXV];
	int n_rsp[MAXV];
	char log[2048];
} X;

static void xlog(const char *what)
{
	strncat(X.log, what, sizeof(X.log) - strlen(X.log) - 1);
}

/* ---------------------------------------------------------------- fake host */

static int f_host_open(void **ret_host)
{
	*ret_host = &X;
	return 0;
}

static void f_host_close(void *host)
{
}

static int f_list(void *host, uint32_t first, struct dt_xen_dominfo *buf, size_t max,
		  size_t *ret_n)
{
	*ret_n = 0;
	return 0;
}

static int f_name(void *host, uint32_t domid, char *buf, size_t size)
{
	return -ENOENT;
}

static int f_watch_fd(void *host)
{
	return -1;
}

static int f_watch_drain(void *host)
{
	return 0;
}

/* ---------------------------------------------------------------- fake domain */

/* Like the real seam: opening handles does not look at the domain. */
static int f_dom_attach(void *host, uint32_t domid, void **ret_sd)
{
	ck_assert(!X.attached);
	ck_assert_uint_eq(domid, DOMID);
	X.attached = true;
	*ret_sd = &X;
	return 0;
}

static void f_dom_detach(void *sd)
{
	ck_assert_ptr_eq(sd, &X);
	X.attached = false;
	xlog("detach;");
}

static int f_dom_info(void *sd, struct dt_xen_dominfo *ret)
{
	if (!X.exists || X.gone)
		return -ENODEV;
	*ret = (struct dt_xen_dominfo){
		.domid = DOMID, .vcpus = X.vcpus, .hvm = X.hvm, .dying = X.dying,
		.paused = X.dom_pauses > 0, /* getdomaininfo: controller_pause_count > 0 */
	};
	return 0;
}

static int f_monitor_enable(void *sd, void **ret_ring, uint32_t *ret_port)
{
	if (X.gone)
		return -ENODEV;
	if (X.ring)
		return -EBUSY; /* vm_event_enable: only one helper at a time */
	if (X.enable_err)
		return X.enable_err;
	X.ring_page = aligned_alloc(DT_XEN_PAGE_SIZE, DT_XEN_PAGE_SIZE);
	ck_assert_ptr_nonnull(X.ring_page);
	memset(X.ring_page, 0x5a, DT_XEN_PAGE_SIZE); /* libxenctrl gives no clean page */
	FRONT_RING_INIT(&X.front, (vm_event_sring_t *)X.ring_page, DT_XEN_PAGE_SIZE);
	X.ring = true;
	*ret_ring = X.ring_page;
	*ret_port = 77;
	xlog("enable;");
	return 0;
}

static void f_ring_unmap(void *sd, void *ring)
{
	ck_assert_ptr_nonnull(ring);
	ck_assert_ptr_eq(ring, X.ring_page);
	free(ring);
	X.ring_page = NULL;
	xlog("unmap;");
}

static int f_monitor_disable(void *sd)
{
	if (X.gone)
		return -ENODEV;
	if (!X.ring)
		return -EINVAL; /* vm_event_domctl: rc stays -EINVAL without a ring */
	if (X.ring_waiters)
		return -EBUSY;
	X.ring = false;
	/* arch_monitor_cleanup_domain: a memset, no set_descriptor_access_exiting(). */
	X.bp_on = X.desc_on = false;
	xlog("disable;");
	return 0;
}

/* vm_event_resume() */
static int f_monitor_resume(void *sd)
{
	vm_event_response_t rsp;

	if (X.gone)
		return -ENODEV;
	if (!X.ring)
		return -ENODEV;
	if (X.resume_err)
		return X.resume_err;
	X.resumes++;
	xlog("resume;");
	if (X.take_nothing)
		return 0;
	while (RING_HAS_UNCONSUMED_RESPONSES(&X.front)) {
		memcpy(&rsp, RING_GET_RESPONSE(&X.front, X.front.rsp_cons), sizeof(rsp));
		X.front.rsp_cons++;
		X.front.sring->rsp_event = X.front.rsp_cons + 1;
		if (rsp.version != VM_EVENT_INTERFACE_VERSION || rsp.vcpu_id >= X.vcpus)
			continue;
		X.rsp[rsp.vcpu_id] = rsp;
		X.n_rsp[rsp.vcpu_id]++;
		if (!X.dom_pauses)
			X.running_while_answering = true;
		if (X.pause_count[rsp.vcpu_id] && (rsp.flags & VM_EVENT_FLAG_VCPU_PAUSED)) {
			X.pause_count[rsp.vcpu_id]--;
			X.unpaused_by_rsp++;
		} else {
			X.ignored_rsp++;
		}
	}
	return 0;
}

static int f_monitor_event(void *sd, enum dt_trap_flavour f, bool on)
{
	bool *flag = f == DT_TRAP_SGDT ? &X.desc_on : &X.bp_on;

	if (X.gone)
		return -ENODEV;
	if (f == DT_TRAP_SGDT && !X.desc_cap)
		return -EOPNOTSUPP;
	if (*flag == on)
		return -EEXIST;
	*flag = on;
	if (f == DT_TRAP_SGDT)
		X.desc_exiting = on;
	xlog(f == DT_TRAP_SGDT ? "desc-off;" : "bp-off;");
	return 0;
}

static void *f_map(void *sd, uint64_t gfn, bool writable, int *ret_err)
{
	if (X.vanish_on_map && ++X.maps == X.vanish_on_map)
		X.gone = true;
	if (X.gone) {
		*ret_err = -ENODEV;
		return NULL;
	}
	if (gfn >= MEM_PAGES) {
		*ret_err = -EFAULT;
		return NULL;
	}
	if (writable) {
		if ((int)gfn == X.rw_fail_gfn) {
			*ret_err = -EPERM;
			return NULL;
		}
		X.rw_maps++;
		if (!X.dom_pauses)
			X.running_while_writing = true;
		xlog("map-rw;");
		if ((int)gfn == X.rw_lost_gfn) {
			memcpy(X.scratch, X.mem + gfn * DT_XEN_PAGE_SIZE, DT_XEN_PAGE_SIZE);
			X.live_maps++;
			return X.scratch;
		}
	}
	X.live_maps++;
	return X.mem + gfn * DT_XEN_PAGE_SIZE;
}

static void f_unmap(void *sd, void *page)
{
	X.live_maps--;
}

static int f_pause(void *sd)
{
	if (X.gone)
		return -ENODEV;
	X.dom_pauses++;
	xlog("pause;");
	return 0;
}

static int f_unpause(void *sd)
{
	if (X.gone)
		return -ENODEV;
	ck_assert_int_gt(X.dom_pauses, 0);
	X.dom_pauses--;
	xlog("unpause;");
	return 0;
}

/* recover never binds an event channel, reads registers or injects: those stay NULL, and
 * a call would crash the test. */
static const struct dt_xen_sys_ops fake = {
	.host_open = f_host_open,
	.host_close = f_host_close,
	.list = f_list,
	.name = f_name,
	.watch_fd = f_watch_fd,
	.watch_drain = f_watch_drain,
	.dom_attach = f_dom_attach,
	.dom_detach = f_dom_detach,
	.dom_info = f_dom_info,
	.monitor_enable = f_monitor_enable,
	.ring_unmap = f_ring_unmap,
	.monitor_disable = f_monitor_disable,
	.monitor_resume = f_monitor_resume,
	.monitor_event = f_monitor_event,
	.map = f_map,
	.unmap = f_unmap,
	.pause = f_pause,
	.unpause = f_unpause,
};

/* ---------------------------------------------------------------- scenes */

static const uint8_t SGDT[5] = { 0x0f, 0x01, 0x44, 0x24, 0xf0 };
static const uint8_t PUSH_RBP_MOV[5] = { 0x55, 0x48, 0x89, 0xe5, 0x41 };
static const uint8_t NOPL[5] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };

static void setup(void)
{
	memset(&X, 0, sizeof(X));
	X.exists = X.hvm = true;
	X.vcpus = 4;
	X.desc_cap = true;
	X.rw_fail_gfn = X.rw_lost_gfn = -1;
	X.mem = calloc(MEM_PAGES, DT_XEN_PAGE_SIZE);
	ck_assert_ptr_nonnull(X.mem);
}

static void teardown(void)
{
	free(X.mem);
	free(X.ring_page);
}

static struct dt_hv *open_hv(void)
{
	struct dt_hv *hv = NULL;

	ck_assert_int_eq(dt_xen_open_sys(NULL, &fake, &hv), 0);
	return hv;
}

/* What a kill -9 leaves: the ring on, a monitor on, vCPUs paused on requests. */
static void dead_domtrace(enum dt_trap_flavour flavour, const int *paused, uint32_t n)
{
	uint32_t v;

	X.ring = true;
	if (flavour == DT_TRAP_SGDT)
		X.desc_on = X.desc_exiting = true;
	else
		X.bp_on = true;
	for (v = 0; v < n; v++)
		X.pause_count[v] = paused[v];
}

/* A site at gpa with these original bytes; the guest memory holds `now`. */
static struct dt_guard_site site(uint64_t gpa, const uint8_t *orig, const uint8_t *armed,
				 uint8_t len, const uint8_t *now)
{
	struct dt_guard_site s = { .gpa = gpa, .len = len };

	memcpy(s.orig, orig, len);
	memcpy(s.armed, armed, len);
	if (now)
		memcpy(X.mem + gpa, now, len);
	return s;
}

static const char *after(const char *log, const char *what)
{
	const char *p = strstr(log, what);

	ck_assert_msg(p != NULL, "'%s' missing from '%s'", what, log);
	return p + strlen(what);
}

static bool any_vcpu_paused(void)
{
	uint32_t v;

	for (v = 0; v < MAXV; v++)
		if (X.pause_count[v])
			return true;
	return false;
}

/* What every path must leave: nothing paused by us, nothing mapped, handles closed. */
static void assert_let_go(void)
{
	ck_assert_int_eq(X.dom_pauses, 0);
	ck_assert_int_eq(X.live_maps, 0);
	ck_assert(!X.attached);
	ck_assert_ptr_null(X.ring_page);
	ck_assert(!X.running_while_writing);
	ck_assert(!X.running_while_answering);
}

/* ---------------------------------------------------------------- tests */

/* Whole-domain pauses a dead domtrace held: released after the restore, never one more
 * than are held, and never one somebody else holds beyond the journal's count. */
START_TEST(test_releases_dead_pauses)
{
	static const int paused[4] = { 1, 0, 0, 0 };
	static const struct {
		int held_by_dead, held_by_others;
		unsigned noted, released;
	} cases[] = {
		{ 2, 0, 2, 2 }, /* killed in a nested pause */
		{ 1, 0, 2, 1 }, /* killed between noting a pause and taking it */
		{ 0, 0, 1, 0 }, /* killed between the unpause and dropping the note */
		{ 1, 1, 1, 1 }, /* an operator's `xl pause` stays */
		{ 0, 0, 0, 0 },
	};
	struct dt_guard_result res;
	struct dt_hv *hv = open_hv();
	struct dt_guard_site s;
	const char *p;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		X.log[0] = '\0';
		dead_domtrace(DT_TRAP_SGDT, paused, 4);
		s = site(0x2000, NOPL, SGDT, 5, SGDT);
		X.dom_pauses = cases[i].held_by_dead + cases[i].held_by_others;
		ck_assert_int_eq(dt_hv_xen.recover(hv, DOMID, &s, 1, cases[i].noted, &res), 0);
		ck_assert_msg(res.unpaused == cases[i].released, "case %zu: %u released", i,
			      res.unpaused);
		ck_assert_int_eq(X.dom_pauses, cases[i].held_by_others);
		ck_assert_mem_eq(X.mem + 0x2000, NOPL, 5);
		ck_assert(!any_vcpu_paused());
		/* ours first (it covered the restoring), then theirs */
		p = after(X.log, "pause;");
		p = after(p, "unpause;");
		X.dom_pauses = 0;
		assert_let_go();
	}
	dt_hv_xen.close(hv);
}
END_TEST

START_TEST(test_restores_only_our_bytes)
{
	static const uint8_t cc = 0xcc, orig1 = 0x0f, guest_bp = 0xcd;
	static const int paused[4] = { 1, 0, 0, 0 };
	struct dt_guard_site s[7];
	struct dt_guard_result res;
	struct dt_hv *hv = open_hv();
	uint8_t *before;

	dead_domtrace(DT_TRAP_INT3, paused, 4);
	s[0] = site(0x1010, &orig1, &cc, 1, &cc);	   /* ours: restored */
	s[1] = site(0x1020, &orig1, &cc, 1, &orig1);	   /* restored before the crash */
	s[2] = site(0x1030, &orig1, &cc, 1, &guest_bp);	   /* rewritten by the guest */
	s[3] = site(0x2ffb, PUSH_RBP_MOV, SGDT, 5, SGDT); /* ours, ends a page */
	s[4] = site(0x3000, NOPL, SGDT, 5, NOPL);	   /* clean */
	s[5] = site(0x4000, NOPL, SGDT, 0, NULL);	   /* damaged: len 0 */
	s[6] = site(0x4ffe, NOPL, SGDT, 5, NULL);	   /* damaged: crosses a page */
	memcpy(X.mem + 0x4ffe, SGDT, 2);
	memcpy(X.mem + 0x5000, SGDT + 2, 3);
	before = malloc(MEM_PAGES * DT_XEN_PAGE_SIZE);
	memcpy(before, X.mem, MEM_PAGES * DT_XEN_PAGE_SIZE);

	memset(&res, 0xee, sizeof(res));
	ck_assert_int_eq(dt_hv_xen.recover(hv, DOMID, s, 7, 0, &res), 0);
	ck_assert_uint_eq(res.restored, 2);
	ck_assert_uint_eq(res.clean, 2);
	ck_assert_uint_eq(res.foreign, 1);
	ck_assert_uint_eq(res.failed, 2);
	ck_assert_uint_eq(res.vcpus, 4);
	ck_assert_uint_eq(X.mem[0x1010], 0x0f);
	ck_assert_mem_eq(X.mem + 0x2ffb, PUSH_RBP_MOV, 5);
	/* Everything else is byte for byte what it was. */
	memcpy(before + 0x1010, X.mem + 0x1010, 1);
	memcpy(before + 0x2ffb, X.mem + 0x2ffb, 5);
	ck_assert_mem_eq(X.mem, before, MEM_PAGES * DT_XEN_PAGE_SIZE);
	ck_assert_int_eq(X.rw_maps, 2); /* only the two armed sites were ever mapped writable */
	ck_assert(!X.bp_on && !X.desc_on);
	ck_assert(!any_vcpu_paused());
	assert_let_go();
	free(before);
	dt_hv_xen.close(hv);
}
END_TEST

START_TEST(test_order_and_responses)
{
	static const uint8_t cc = 0xcc, orig = 0x55;
	static const int paused[4] = { 1, 0, 1, 0 };
	struct dt_guard_site s;
	struct dt_guard_result res;
	struct dt_hv *hv = open_hv();
	const char *p;
	uint32_t v;

	dead_domtrace(DT_TRAP_INT3, paused, 4);
	s = site(0x1100, &orig, &cc, 1, &cc);
	ck_assert_int_eq(dt_hv_xen.recover(hv, DOMID, &s, 1, 0, &res), 0);
	ck_assert_uint_eq(res.restored, 1);

	/* pause, sites, both monitors off, drop the dead ring, a fresh one to answer on,
	 * drop it, unpause, detach. */
	p = after(X.log, "pause;");
	p = after(p, "map-rw;");
	p = after(p, "bp-off;");
	p = after(p, "disable;");
	p = after(p, "enable;");
	p = after(p, "resume;");
	p = after(p, "disable;");
	p = after(p, "unmap;");
	p = after(p, "unpause;");
	p = after(p, "detach;");
	ck_assert_str_eq(p, "");
	ck_assert_ptr_null(strstr(X.log, "desc-off;")); /* was off already: EEXIST is fine */

	/* One response per vCPU, VCPU_PAUSED and nothing else: registers untouched, the
	 * vCPU re-runs the (restored) instruction at its RIP. */
	ck_assert_uint_eq(res.vcpus, 4);
	for (v = 0; v < 4; v++) {
		ck_assert_int_eq(X.n_rsp[v], 1);
		ck_assert_uint_eq(X.rsp[v].version, VM_EVENT_INTERFACE_VERSION);
		ck_assert_uint_eq(X.rsp[v].flags, VM_EVENT_FLAG_VCPU_PAUSED);
		ck_assert_uint_eq(X.rsp[v].reason, VM_EVENT_REASON_UNKNOWN);
	}
	ck_assert_int_eq(X.unpaused_by_rsp, 2);
	ck_assert_int_eq(X.ignored_rsp, 2); /* vCPUs 1 and 3 were running: Xen ignores */
	ck_assert(!any_vcpu_paused());
	ck_assert(!X.ring && !X.bp_on);
	assert_let_go();
	dt_hv_xen.close(hv);
}
END_TEST

START_TEST(test_sgdt_monitor_off)
{
	static const int paused[4] = { 0, 1, 0, 0 };
	struct dt_guard_site s;
	struct dt_guard_result res;
	struct dt_hv *hv = open_hv();
	const char *p;

	dead_domtrace(DT_TRAP_SGDT, paused, 4);
	s = site(0x2000, NOPL, SGDT, 5, SGDT);
	ck_assert_int_eq(dt_hv_xen.recover(hv, DOMID, &s, 1, 0, &res), 0);
	ck_assert_mem_eq(X.mem + 0x2000, NOPL, 5);
	/* Switched off before the ring went: descriptor-table exiting is off too. */
	p = after(X.log, "desc-off;");
	after(p, "disable;");
	ck_assert(!X.desc_on && !X.desc_exiting && !X.bp_on);
	ck_assert(!any_vcpu_paused());
	assert_let_go();

	/* A host without the descriptor-access monitor: EOPNOTSUPP means "cannot be on". */
	X.log[0] = '\0';
	X.desc_cap = false;
	dead_domtrace(DT_TRAP_INT3, paused, 4);
	ck_assert_int_eq(dt_hv_xen.recover(hv, DOMID, NULL, 0, 0, &res), 0);
	ck_assert_uint_eq(res.restored + res.clean + res.foreign + res.failed, 0);
	ck_assert(!X.bp_on);
	ck_assert(!any_vcpu_paused());
	assert_let_go();
	dt_hv_xen.close(hv);
}
END_TEST

START_TEST(test_more_vcpus_than_ring_slots)
{
	static int paused[MAXV];
	struct dt_xen_ring ring;
	struct dt_guard_result res;
	struct dt_hv *hv = open_hv();
	void *page = aligned_alloc(DT_XEN_PAGE_SIZE, DT_XEN_PAGE_SIZE);
	unsigned slots;
	uint32_t v;

	dt_xen_ring_init(&ring, page, DT_XEN_PAGE_SIZE);
	slots = RING_SIZE(&ring.back);
	free(page);
	ck_assert_uint_lt(2 * slots + 1, MAXV);
	X.vcpus = 2 * slots + 1;
	for (v = 0; v < X.vcpus; v++)
		paused[v] = 1;
	dead_domtrace(DT_TRAP_INT3, paused, X.vcpus);
	ck_assert_int_eq(dt_hv_xen.recover(hv, DOMID, NULL, 0, 0, &res), 0);
	ck_assert_uint_eq(res.vcpus, X.vcpus);
	ck_assert_int_eq(X.resumes, 3);
	for (v = 0; v < X.vcpus; v++)
		ck_assert_int_eq(X.n_rsp[v], 1);
	ck_assert(!any_vcpu_paused());
	assert_let_go();
	dt_hv_xen.close(hv);
}
END_TEST

START_TEST(test_write_failures_still_let_go)
{
	static const uint8_t cc = 0xcc, orig = 0x55;
	static const int paused[4] = { 1, 1, 1, 1 };
	struct dt_guard_site s[3];
	struct dt_guard_result res;
	struct dt_hv *hv = open_hv();

	dead_domtrace(DT_TRAP_INT3, paused, 4);
	s[0] = site(0x1000, &orig, &cc, 1, &cc); /* writable mapping refused */
	s[1] = site(0x2000, &orig, &cc, 1, &cc); /* write does not reach the guest */
	s[2] = site(0x3000, &orig, &cc, 1, &cc);
	X.rw_fail_gfn = 1;
	X.rw_lost_gfn = 2;
	ck_assert_int_eq(dt_hv_xen.recover(hv, DOMID, s, 3, 0, &res), 0);
	ck_assert_uint_eq(res.failed, 2);
	ck_assert_uint_eq(res.restored, 1);
	ck_assert_uint_eq(X.mem[0x1000], 0xcc);
	ck_assert_uint_eq(X.mem[0x2000], 0xcc); /* the read-back saw it */
	ck_assert_uint_eq(X.mem[0x3000], 0x55);
	ck_assert(!X.bp_on && !X.ring);
	ck_assert(!any_vcpu_paused());
	assert_let_go();

	/* A frame that is not backed any more: failed, the rest goes on. */
	X.log[0] = '\0';
	dead_domtrace(DT_TRAP_INT3, paused, 4);
	s[0] = site(0x1000, &orig, &cc, 1, &cc);
	s[0].gpa = (uint64_t)MEM_PAGES * DT_XEN_PAGE_SIZE + 0x10;
	ck_assert_int_eq(dt_hv_xen.recover(hv, DOMID, s, 1, 0, &res), 0);
	ck_assert_uint_eq(res.failed, 1);
	ck_assert_uint_eq(res.vcpus, 4);
	assert_let_go();
	dt_hv_xen.close(hv);
}
END_TEST

START_TEST(test_domain_gone)
{
	static const uint8_t cc = 0xcc, orig = 0x55;
	static const int paused[4] = { 1, 0, 0, 0 };
	struct dt_guard_result res, untouched;
	struct dt_guard_site s[2];
	struct dt_hv *hv = open_hv();

	memset(&untouched, 0x77, sizeof(untouched));
	res = untouched;
	X.exists = false;
	ck_assert_int_eq(dt_hv_xen.recover(hv, DOMID, NULL, 0, 0, &res), -ENODEV);
	ck_assert_mem_eq(&res, &untouched, sizeof(res));
	ck_assert_ptr_null(strstr(X.log, "pause;"));
	ck_assert(!X.attached);

	X.exists = true;
	X.dying = true;
	ck_assert_int_eq(dt_hv_xen.recover(hv, DOMID, NULL, 0, 0, &res), -ENODEV);
	ck_assert(!X.attached);
	ck_assert_int_eq(X.dom_pauses, 0);

	/* Destroyed half-way: -ENODEV, no more calls but the unpause and detach. */
	X.dying = false;
	X.log[0] = '\0';
	dead_domtrace(DT_TRAP_INT3, paused, 4);
	s[0] = site(0x1000, &orig, &cc, 1, &cc);
	s[1] = site(0x2000, &orig, &cc, 1, &cc);
	X.vanish_on_map = 2; /* the writable mapping of the first site */
	ck_assert_int_eq(dt_hv_xen.recover(hv, DOMID, s, 2, 0, &res), -ENODEV);
	ck_assert_mem_eq(&res, &untouched, sizeof(res));
	ck_assert_ptr_null(strstr(X.log, "disable;"));
	ck_assert_ptr_null(strstr(X.log, "bp-off;"));
	ck_assert(!X.attached);
	ck_assert_int_eq(X.live_maps, 0);
	dt_hv_xen.close(hv);
}
END_TEST

START_TEST(test_vcpus_waiting_for_ring_space)
{
	static const uint8_t cc = 0xcc, orig = 0x55;
	static const int paused[4] = { 1, 1, 1, 1 };
	struct dt_guard_result res;
	struct dt_guard_site s;
	struct dt_hv *hv = open_hv();

	/* The dead ring is full and vCPUs wait for space: it cannot be dropped (EBUSY),
	 * so no fresh ring either. The rest is still done; the error is reported. */
	dead_domtrace(DT_TRAP_INT3, paused, 4);
	X.ring_waiters = true;
	s = site(0x1000, &orig, &cc, 1, &cc);
	ck_assert_int_eq(dt_hv_xen.recover(hv, DOMID, &s, 1, 0, &res), -EBUSY);
	ck_assert_uint_eq(X.mem[0x1000], 0x55);
	ck_assert(!X.bp_on);
	ck_assert_ptr_null(strstr(X.log, "enable;"));
	ck_assert(X.ring);
	assert_let_go();
	dt_hv_xen.close(hv);
}
END_TEST

START_TEST(test_ring_failures)
{
	static const int paused[4] = { 0, 0, 1, 0 };
	struct dt_guard_result res;
	struct dt_hv *hv = open_hv();

	/* The dead process had dropped its ring already (EINVAL): still answer. */
	X.pause_count[2] = 1;
	ck_assert_int_eq(dt_hv_xen.recover(hv, DOMID, NULL, 0, 0, &res), 0);
	ck_assert_uint_eq(res.vcpus, 4);
	ck_assert(!any_vcpu_paused() && !X.ring);
	assert_let_go();

	/* No fresh ring to be had. */
	X.log[0] = '\0';
	dead_domtrace(DT_TRAP_INT3, paused, 4);
	X.enable_err = -ENOMEM;
	ck_assert_int_eq(dt_hv_xen.recover(hv, DOMID, NULL, 0, 0, &res), -ENOMEM);
	ck_assert(!X.bp_on);
	assert_let_go();

	/* Xen takes no response: nothing is overwritten, the ring still goes. */
	X.log[0] = '\0';
	X.enable_err = 0;
	dead_domtrace(DT_TRAP_INT3, paused, 4);
	X.take_nothing = true;
	ck_assert_int_eq(dt_hv_xen.recover(hv, DOMID, NULL, 0, 0, &res), -EIO);
	ck_assert(!X.ring);
	after(after(X.log, "resume;"), "disable;");
	assert_let_go();

	/* The resume call itself fails. */
	X.log[0] = '\0';
	X.take_nothing = false;
	X.resume_err = -EACCES;
	ck_assert_int_eq(dt_hv_xen.recover(hv, DOMID, NULL, 0, 0, &res), -EACCES);
	ck_assert(!X.ring);
	assert_let_go();
	dt_hv_xen.close(hv);
}
END_TEST

START_TEST(test_refusals)
{
	static const uint8_t cc = 0xcc, orig = 0x55;
	struct dt_guard_result res;
	struct dt_guard_site s;
	struct dt_hv *hv = open_hv();

	ck_assert_ptr_nonnull(dt_hv_xen.recover);
	ck_assert_int_eq(dt_hv_xen.recover(hv, 0, NULL, 0, 0, &res), -EINVAL);
	ck_assert_int_eq(dt_hv_xen.recover(hv, DT_XEN_MAX_DOMAINS, NULL, 0, 0, &res), -EINVAL);
	ck_assert_int_eq(dt_hv_xen.recover(hv, DOMID, NULL, 1, 0, &res), -EINVAL);
	ck_assert(!X.attached);

	/* A PV domain was never traced: nothing is looked at. */
	X.hvm = false;
	s = site(0x1000, &orig, &cc, 1, &cc);
	ck_assert_int_eq(dt_hv_xen.recover(hv, DOMID, &s, 1, 0, &res), -EOPNOTSUPP);
	ck_assert_uint_eq(X.mem[0x1000], 0xcc);
	ck_assert_int_eq(X.dom_pauses, 0);
	ck_assert(!X.attached);
	dt_hv_xen.close(hv);
}
END_TEST

static Suite *xen_recover_suite(void)
{
	Suite *s = suite_create("xen_recover");
	TCase *tc = tcase_create("recover");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_restores_only_our_bytes);
	tcase_add_test(tc, test_order_and_responses);
	tcase_add_test(tc, test_sgdt_monitor_off);
	tcase_add_test(tc, test_more_vcpus_than_ring_slots);
	tcase_add_test(tc, test_write_failures_still_let_go);
	tcase_add_test(tc, test_domain_gone);
	tcase_add_test(tc, test_vcpus_waiting_for_ring_space);
	tcase_add_test(tc, test_ring_failures);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_releases_dead_pauses);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(xen_recover_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
