// SPDX-License-Identifier: GPL-2.0-only
/*
 * check_xen_hv.c - dt_hv_xen's host and domain logic driven through a fake libxen seam
 * (struct dt_xen_sys_ops): a fake hypervisor with a domain list, a xenstore watch pipe,
 * a real vm_event ring page it produces requests into and takes responses from, an event
 * channel pipe, per-vCPU pause state, guest memory and vCPU contexts. What cannot be
 * checked here (that Xen 4.17 behaves as the fake does) is listed in docs/XEN.md.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xen_internal.h"

#define MAXD 16
#define NVCPU 4
#define MEM_PAGES 64
#define LOCAL_PORT 7
#define X86_CR0_PG (1ull << 31)
#define X86_CR4_PAE (1ull << 5)
#define X86_CR4_LA57 (1ull << 12)
#define X86_EFER_LMA (1ull << 10)

struct fake_dom {
	bool exists, hvm, dying, has_name;
	uint32_t domid, vcpus;
	uint8_t handle[16];
	char name[80];
};

static struct fake_dom doms[MAXD];
static int watch_pipe[2] = { -1, -1 };

/* The hypervisor side of the one domain a test opens. */
static struct {
	uint32_t domid;
	bool attached, gone, monitor_on, bound, event_on[_DT_TRAP_FLAVOUR_MAX];
	uint32_t caps;
	int enable_err, pause_err, busy_disables, paused_at_disable;
	void *ring_page;
	vm_event_front_ring_t front;
	int evt[2];
	int dom_pauses;
	bool vcpu_paused[NVCPU];
	vm_event_response_t rsp[NVCPU];
	int n_rsp, injected;
	uint32_t inj_vcpu;
	uint8_t inj_type, inj_len;
	struct hvm_hw_cpu cpu[NVCPU];
	struct dt_regs set[NVCPU];
	uint8_t *mem;
	int live_maps;
	char log[1024];
} X;

static void xlog(const char *what)
{
	strncat(X.log, what, sizeof(X.log) - strlen(X.log) - 1);
}

static struct fake_dom *find(uint32_t domid)
{
	int i;

	for (i = 0; i < MAXD; i++)
		if (doms[i].exists && doms[i].domid == domid)
			return &doms[i];
	return NULL;
}

static struct fake_dom *add(uint32_t domid, bool hvm, const char *name, uint32_t vcpus)
{
	int i;

	for (i = 0; i < MAXD && doms[i].exists; i++)
		;
	ck_assert_int_lt(i, MAXD);
	doms[i] = (struct fake_dom){ .exists = true, .hvm = hvm, .domid = domid, .vcpus = vcpus };
	doms[i].handle[0] = (uint8_t)domid;
	if (name) {
		doms[i].has_name = true;
		snprintf(doms[i].name, sizeof(doms[i].name), "%s", name);
	}
	return &doms[i];
}

static void fire_watch(void)
{
	ck_assert_int_eq(write(watch_pipe[1], "w", 1), 1);
}

/* ---------------------------------------------------------------- fake host */

static int f_host_open(void **ret_host)
{
	*ret_host = doms;
	return 0;
}

static void f_host_close(void *host)
{
}

static int f_list(void *host, uint32_t first, struct dt_xen_dominfo *buf, size_t max,
		  size_t *ret_n)
{
	size_t n = 0;
	uint32_t id;

	/* In domid order, like XEN_DOMCTL_getdomaininfo. */
	for (id = first; id < DT_XEN_MAX_DOMAINS && n < max; id++) {
		struct fake_dom *d = find(id);

		if (!d)
			continue;
		buf[n] = (struct dt_xen_dominfo){
			.domid = id, .vcpus = d->vcpus, .hvm = d->hvm, .dying = d->dying
		};
		memcpy(buf[n].handle, d->handle, 16);
		n++;
	}
	*ret_n = n;
	return 0;
}

static int f_name(void *host, uint32_t domid, char *buf, size_t size)
{
	struct fake_dom *d = find(domid);

	if (!d || !d->has_name)
		return -ENOENT;
	snprintf(buf, size, "%s", d->name);
	return 0;
}

static int f_watch_fd(void *host)
{
	return watch_pipe[0];
}

static int f_watch_drain(void *host)
{
	char c;
	int n = 0;

	while (read(watch_pipe[0], &c, 1) == 1)
		n++;
	return n;
}

/* ---------------------------------------------------------------- fake domain */

static int f_dom_attach(void *host, uint32_t domid, void **ret_sd)
{
	ck_assert(!X.attached);
	X.attached = true;
	X.domid = domid;
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
	struct fake_dom *d = find(X.domid);
	size_t n;

	if (X.gone || !d)
		return -ENODEV;
	ck_assert_int_eq(f_list(NULL, X.domid, ret, 1, &n), 0);
	return 0;
}

static int f_monitor_caps(void *sd, uint32_t *ret_caps)
{
	if (X.gone)
		return -ENODEV;
	*ret_caps = X.caps;
	return 0;
}

static int f_monitor_enable(void *sd, void **ret_ring, uint32_t *ret_port)
{
	if (X.enable_err)
		return X.enable_err;
	X.ring_page = aligned_alloc(DT_XEN_PAGE_SIZE, DT_XEN_PAGE_SIZE);
	memset(X.ring_page, 0x5a, DT_XEN_PAGE_SIZE);
	FRONT_RING_INIT(&X.front, (vm_event_sring_t *)X.ring_page, DT_XEN_PAGE_SIZE);
	X.monitor_on = true;
	*ret_ring = X.ring_page;
	*ret_port = 99;
	xlog("enable;");
	return 0;
}

static void f_ring_unmap(void *sd, void *ring)
{
	ck_assert_ptr_eq(ring, X.ring_page);
	free(ring);
	X.ring_page = NULL;
	xlog("unmap;");
}

static int f_monitor_disable(void *sd)
{
	int v;

	if (X.gone)
		return -ENODEV;
	if (X.busy_disables > 0) {
		X.busy_disables--;
		return -EBUSY;
	}
	for (v = 0; v < NVCPU; v++)
		X.paused_at_disable += X.vcpu_paused[v];
	X.monitor_on = false;
	xlog("disable;");
	return 0;
}

static int f_monitor_event(void *sd, enum dt_trap_flavour f, bool on)
{
	if (X.gone)
		return -ENODEV;
	X.event_on[f] = on;
	xlog(on ? "event-on;" : "event-off;");
	return 0;
}

static int f_evtchn_bind(void *sd, uint32_t remote, uint32_t *ret_local)
{
	ck_assert_uint_eq(remote, 99);
	ck_assert_int_eq(pipe2(X.evt, O_NONBLOCK), 0);
	X.bound = true;
	*ret_local = LOCAL_PORT;
	return 0;
}

static int f_evtchn_unbind(void *sd, uint32_t local)
{
	ck_assert_uint_eq(local, LOCAL_PORT);
	close(X.evt[0]);
	close(X.evt[1]);
	X.bound = false;
	xlog("unbind;");
	return 0;
}

static int f_evtchn_fd(void *sd)
{
	return X.evt[0];
}

static int f_evtchn_pending(void *sd)
{
	char c;

	return read(X.evt[0], &c, 1) == 1 ? LOCAL_PORT : -EAGAIN;
}

static int f_evtchn_unmask(void *sd, uint32_t port)
{
	return 0;
}

/* Xen's vm_event_resume(): take every response, unpause as they say. */
static int f_evtchn_notify(void *sd, uint32_t port)
{
	vm_event_response_t rsp;

	if (X.gone)
		return -ENODEV;
	while (RING_HAS_UNCONSUMED_RESPONSES(&X.front)) {
		memcpy(&rsp, RING_GET_RESPONSE(&X.front, X.front.rsp_cons), sizeof(rsp));
		X.front.rsp_cons++;
		ck_assert_uint_eq(rsp.version, VM_EVENT_INTERFACE_VERSION);
		ck_assert_uint_lt(rsp.vcpu_id, NVCPU);
		X.rsp[rsp.vcpu_id] = rsp;
		X.n_rsp++;
		if (rsp.flags & VM_EVENT_FLAG_VCPU_PAUSED)
			X.vcpu_paused[rsp.vcpu_id] = false;
	}
	return 0;
}

/* XEN_VM_EVENT_RESUME: the same vm_event_resume(), by domctl. */
static int f_monitor_resume(void *sd)
{
	if (X.gone)
		return -ENODEV;
	return X.monitor_on ? f_evtchn_notify(sd, LOCAL_PORT) : -ENODEV;
}

static void *f_map(void *sd, uint64_t gfn, bool writable, int *ret_err)
{
	if (X.gone) {
		*ret_err = -ENODEV;
		return NULL;
	}
	if (gfn >= MEM_PAGES) {
		*ret_err = -EFAULT;
		return NULL;
	}
	X.live_maps++;
	return X.mem + gfn * DT_XEN_PAGE_SIZE;
}

static void f_unmap(void *sd, void *page)
{
	X.live_maps--;
}

static int f_get_cpu(void *sd, uint32_t vcpu, struct hvm_hw_cpu *ret)
{
	if (X.gone)
		return -ENODEV;
	ck_assert_uint_lt(vcpu, NVCPU);
	*ret = X.cpu[vcpu];
	return 0;
}

static int f_set_gprs(void *sd, uint32_t vcpu, const struct dt_regs *regs)
{
	if (X.gone)
		return -ENODEV;
	X.set[vcpu] = *regs;
	return 0;
}

static int f_inject_int3(void *sd, uint32_t vcpu, uint8_t type, uint8_t len)
{
	X.injected++;
	X.inj_vcpu = vcpu;
	X.inj_type = type;
	X.inj_len = len;
	return 0;
}

static int f_pause(void *sd)
{
	if (X.gone)
		return -ENODEV;
	if (X.pause_err)
		return X.pause_err;
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
	.monitor_caps = f_monitor_caps,
	.monitor_enable = f_monitor_enable,
	.ring_unmap = f_ring_unmap,
	.monitor_disable = f_monitor_disable,
	.monitor_resume = f_monitor_resume,
	.monitor_event = f_monitor_event,
	.evtchn_bind = f_evtchn_bind,
	.evtchn_unbind = f_evtchn_unbind,
	.evtchn_fd = f_evtchn_fd,
	.evtchn_pending = f_evtchn_pending,
	.evtchn_unmask = f_evtchn_unmask,
	.evtchn_notify = f_evtchn_notify,
	.map = f_map,
	.unmap = f_unmap,
	.get_cpu = f_get_cpu,
	.set_gprs = f_set_gprs,
	.inject_int3 = f_inject_int3,
	.pause = f_pause,
	.unpause = f_unpause,
};

/* Xen's side of a synchronous monitor event: pause the vCPU, queue, notify. */
static void hit(uint32_t vcpu, uint32_t reason, uint64_t rip)
{
	vm_event_request_t req;
	struct vm_event_regs_x86 *x = &req.data.regs.x86;

	memset(&req, 0, sizeof(req));
	req.version = VM_EVENT_INTERFACE_VERSION;
	req.flags = VM_EVENT_FLAG_VCPU_PAUSED;
	req.reason = reason;
	req.vcpu_id = vcpu;
	x->rip = rip;
	x->rsp = 0xffffc90000693f00ull;
	x->rdi = 0xffffc90000693f58ull;
	x->cr0 = X86_CR0_PG, x->cr4 = X86_CR4_PAE, x->msr_efer = X86_EFER_LMA;
	x->cr3 = 0x2000;
	x->cs.ar = 0x29b;
	req.u.software_breakpoint.type = 6; /* X86_EVENTTYPE_SW_EXCEPTION */
	req.u.software_breakpoint.insn_length = 1;
	ck_assert_int_gt(RING_FREE_REQUESTS(&X.front), 0);
	memcpy(RING_GET_REQUEST(&X.front, X.front.req_prod_pvt), &req, sizeof(req));
	X.front.req_prod_pvt++;
	RING_PUSH_REQUESTS(&X.front);
	if (vcpu < NVCPU)
		X.vcpu_paused[vcpu] = true;
	ck_assert_int_eq(write(X.evt[1], "e", 1), 1);
}

static bool any_vcpu_paused(void)
{
	int v;

	for (v = 0; v < NVCPU; v++)
		if (X.vcpu_paused[v])
			return true;
	return false;
}

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

static void setup(void)
{
	int v;

	memset(doms, 0, sizeof(doms));
	memset(&X, 0, sizeof(X));
	X.evt[0] = X.evt[1] = -1;
	ck_assert_int_eq(pipe2(watch_pipe, O_NONBLOCK), 0);
	add(0, false, "Domain-0", 2);
	add(1, true, "web", NVCPU);
	add(2, false, "old", 1);
	X.caps = 1u << XEN_DOMCTL_MONITOR_EVENT_SOFTWARE_BREAKPOINT |
		 1u << XEN_DOMCTL_MONITOR_EVENT_DESC_ACCESS;
	X.mem = calloc(MEM_PAGES, DT_XEN_PAGE_SIZE);
	for (v = 0; v < NVCPU; v++) {
		X.cpu[v].cr0 = X86_CR0_PG;
		X.cpu[v].cr4 = X86_CR4_PAE;
		X.cpu[v].msr_efer = X86_EFER_LMA;
		X.cpu[v].msr_cstar = 0xffffffff81c01c40ull;
		X.cpu[v].rip = 0xffffffff81000000ull + v;
		X.cpu[v].cr3 = 0x2000;
	}
}

static void teardown(void)
{
	close(watch_pipe[0]);
	close(watch_pipe[1]);
	free(X.mem);
}

static struct dt_hv *open_hv(enum dt_trap_flavour flavour)
{
	struct dt_xen_params p = { .flavour = flavour, .map_cache_pages = 16 };
	struct dt_hv *hv = NULL;

	ck_assert_int_eq(dt_xen_open_sys(&p, &fake, &hv), 0);
	return hv;
}

static struct dt_hv_dom *open_dom(struct dt_hv *hv, uint32_t domid)
{
	struct dt_hv_dom *dom = NULL;

	ck_assert_int_eq(dt_hv_xen.dom_open(hv, domid, &dom), 0);
	ck_assert(X.monitor_on && X.bound);
	return dom;
}

/* ---------------------------------------------------------------- host tests */

START_TEST(test_list_vms)
{
	struct dt_hv *hv = open_hv(DT_TRAP_INT3);
	struct dt_vm_info *vms = NULL;
	size_t n = 0;

	add(3, true, "going", 1)->dying = true;
	add(5, true, NULL, 1);
	add(9, true, "\x01" "evil\n", 2);
	ck_assert_int_eq(dt_hv_xen.list_vms(hv, &vms, &n), 0);
	ck_assert_uint_eq(n, 4); /* dom0 and the dying domain left out */
	ck_assert_uint_eq(vms[0].domid, 1);
	ck_assert_str_eq(vms[0].name, "web");
	ck_assert(vms[0].traceable);
	ck_assert_uint_eq(vms[0].vcpus, NVCPU);
	ck_assert_uint_eq(vms[1].domid, 2);
	ck_assert(!vms[1].traceable);
	ck_assert_ptr_nonnull(strstr(vms[1].why, "PV"));
	ck_assert_uint_eq(vms[2].domid, 5);
	ck_assert_str_eq(vms[2].name, "");
	ck_assert_str_eq(vms[3].name, "?evil?");
	free(vms);
	dt_hv_xen.close(hv);
	dt_hv_xen.close(NULL);
}
END_TEST

START_TEST(test_watch)
{
	struct dt_hv *hv = open_hv(DT_TRAP_INT3);
	struct dt_vm_note note;

	ck_assert_int_eq(dt_hv_xen.watch_fd(hv), watch_pipe[0]);
	ck_assert_int_eq(dt_hv_xen.watch_read(hv, &note), -EAGAIN);

	add(7, true, "new", 2);
	find(2)->exists = false;
	fire_watch();
	fire_watch();
	ck_assert_int_eq(dt_hv_xen.watch_read(hv, &note), 0);
	ck_assert_int_eq(note.change, DT_VM_GONE);
	ck_assert_uint_eq(note.info.domid, 2);
	ck_assert_int_eq(dt_hv_xen.watch_read(hv, &note), 0);
	ck_assert_int_eq(note.change, DT_VM_APPEARED);
	ck_assert_uint_eq(note.info.domid, 7);
	ck_assert_str_eq(note.info.name, "new");
	ck_assert(note.info.traceable);
	ck_assert_int_eq(dt_hv_xen.watch_read(hv, &note), -EAGAIN);
	ck_assert(!readable(watch_pipe[0]));

	/* A domid reused by another domain between two firings: gone, then new. */
	find(1)->handle[5] = 0x77;
	fire_watch();
	ck_assert_int_eq(dt_hv_xen.watch_read(hv, &note), 0);
	ck_assert_int_eq(note.change, DT_VM_GONE);
	ck_assert_uint_eq(note.info.domid, 1);
	ck_assert_int_eq(dt_hv_xen.watch_read(hv, &note), 0);
	ck_assert_int_eq(note.change, DT_VM_APPEARED);
	ck_assert_uint_eq(note.info.domid, 1);

	/* A dying domain is gone already; a firing with no change says nothing. */
	find(7)->dying = true;
	fire_watch();
	ck_assert_int_eq(dt_hv_xen.watch_read(hv, &note), 0);
	ck_assert_int_eq(note.change, DT_VM_GONE);
	ck_assert_uint_eq(note.info.domid, 7);
	fire_watch();
	ck_assert_int_eq(dt_hv_xen.watch_read(hv, &note), -EAGAIN);
	dt_hv_xen.close(hv);
}
END_TEST

START_TEST(test_list_vms_is_the_baseline)
{
	struct dt_hv *hv = open_hv(DT_TRAP_INT3);
	struct dt_vm_info *vms = NULL;
	struct dt_vm_note note;
	size_t n = 0;

	add(8, true, "late", 1);
	fire_watch();
	ck_assert_int_eq(dt_hv_xen.list_vms(hv, &vms, &n), 0);
	ck_assert_uint_eq(n, 3);
	free(vms);
	/* list_vms reported domain 8: the watch must not report it again. */
	ck_assert_int_eq(dt_hv_xen.watch_read(hv, &note), -EAGAIN);
	dt_hv_xen.close(hv);
}
END_TEST

START_TEST(test_domain_list_diff)
{
	struct dt_xen_dominfo a[4] = { { .domid = 4 }, { .domid = 0 }, { .domid = 2 }, { .domid = 4 } };
	struct dt_xen_dominfo b[3] = { { .domid = 3 }, { .domid = 4 }, { .domid = 0x7ff1 } };
	struct dt_xen_change out[8];
	size_t na, nb, n;

	na = dt_xen_domlist_clean(a, 4);
	ck_assert_uint_eq(na, 2); /* dom0 and the duplicate dropped, sorted */
	ck_assert_uint_eq(a[0].domid, 2);
	nb = dt_xen_domlist_clean(b, 3);
	ck_assert_uint_eq(nb, 2); /* a reserved domid dropped */
	n = dt_xen_domlist_diff(a, na, b, nb, out);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(out[0].change, DT_VM_GONE);
	ck_assert_uint_eq(out[0].info.domid, 2);
	ck_assert_int_eq(out[1].change, DT_VM_APPEARED);
	ck_assert_uint_eq(out[1].info.domid, 3);
	ck_assert_uint_eq(dt_xen_domlist_diff(a, na, a, na, out), 0);
	ck_assert_uint_eq(dt_xen_domlist_diff(NULL, 0, b, nb, out), 2);
	ck_assert(dt_xen_watch_is_domain_event("@introduceDomain"));
	ck_assert(dt_xen_watch_is_domain_event("@releaseDomain"));
	ck_assert(!dt_xen_watch_is_domain_event("/local/domain/1/name"));
	ck_assert(!dt_xen_watch_is_domain_event(NULL));
}
END_TEST

static void *watcher(void *arg)
{
	struct dt_hv *hv = arg;
	struct dt_vm_note note;
	int i;

	for (i = 0; i < 200; i++) {
		fire_watch();
		while (dt_hv_xen.watch_read(hv, &note) == 0)
			;
	}
	return NULL;
}

START_TEST(test_host_threads)
{
	struct dt_hv *hv = open_hv(DT_TRAP_INT3);
	struct dt_vm_info *vms;
	struct dt_hv_dom *dom = NULL;
	pthread_t tid;
	size_t n;
	int i;

	/* hv.h: list_vms on the main thread, the watch on the watcher, dom_open anywhere. */
	ck_assert_int_eq(pthread_create(&tid, NULL, watcher, hv), 0);
	for (i = 0; i < 200; i++) {
		ck_assert_int_eq(dt_hv_xen.list_vms(hv, &vms, &n), 0);
		free(vms);
		if (i == 100) {
			dom = open_dom(hv, 1);
			dt_hv_xen.dom_close(dom);
		}
	}
	ck_assert_int_eq(pthread_join(tid, NULL), 0);
	dt_hv_xen.close(hv);
}
END_TEST

/* The real seam on a machine that is not a Xen dom0: a clean error, and silence. */
START_TEST(test_real_open_is_quiet)
{
	struct dt_hv *hv = NULL;
	int err_pipe[2], saved, r;
	char c;

	ck_assert_int_eq(pipe2(err_pipe, O_NONBLOCK), 0);
	saved = dup(2);
	ck_assert_int_eq(dup2(err_pipe[1], 2), 2);
	r = dt_hv_xen.open(NULL, &hv);
	ck_assert_int_eq(dup2(saved, 2), 2);
	close(saved);
	ck_assert_int_eq(read(err_pipe[0], &c, 1), -1); /* nothing printed */
	close(err_pipe[0]);
	close(err_pipe[1]);
	if (r == 0)
		dt_hv_xen.close(hv); /* running on a real dom0 */
	else
		ck_assert_int_lt(r, 0);
	ck_assert_str_eq(dt_hv_xen.name, "xen");
	ck_assert_uint_eq(dt_hv_xen.abi, DT_HV_ABI);
}
END_TEST

/* ---------------------------------------------------------------- domain tests */

START_TEST(test_dom_open_refusals)
{
	struct dt_hv *hv = open_hv(DT_TRAP_INT3), *hv2;
	struct dt_hv_dom *dom = NULL;

	ck_assert_int_eq(dt_hv_xen.dom_open(hv, 0, &dom), -EINVAL);
	ck_assert_int_eq(dt_hv_xen.dom_open(hv, 2, &dom), -EOPNOTSUPP); /* PV */
	ck_assert(!X.attached);
	ck_assert_int_eq(dt_hv_xen.dom_open(hv, 42, &dom), -ENODEV);
	ck_assert(!X.attached);
	X.enable_err = -EBUSY; /* another introspector has the ring */
	ck_assert_int_eq(dt_hv_xen.dom_open(hv, 1, &dom), -EBUSY);
	ck_assert(!X.attached);
	X.enable_err = 0;
	X.caps = 1u << XEN_DOMCTL_MONITOR_EVENT_DESC_ACCESS;
	ck_assert_int_eq(dt_hv_xen.dom_open(hv, 1, &dom), -EOPNOTSUPP);
	ck_assert(!X.attached);
	ck_assert_ptr_null(dom);
	dt_hv_xen.close(hv);

	X.caps = 1u << XEN_DOMCTL_MONITOR_EVENT_SOFTWARE_BREAKPOINT;
	hv2 = open_hv(DT_TRAP_SGDT);
	ck_assert_int_eq(dt_hv_xen.dom_open(hv2, 1, &dom), -EOPNOTSUPP);
	dt_hv_xen.close(hv2);
	{
		struct dt_xen_params bad = { .flavour = _DT_TRAP_FLAVOUR_MAX };

		ck_assert_int_eq(dt_xen_open_sys(&bad, &fake, &hv2), -EINVAL);
	}
}
END_TEST

START_TEST(test_int3_traps)
{
	struct dt_hv *hv = open_hv(DT_TRAP_INT3);
	struct dt_hv_dom *dom = open_dom(hv, 1);
	struct dt_trap_insn insn;
	struct dt_trap t, t2;
	struct dt_regs regs;

	ck_assert_int_eq(dt_hv_xen.trap_insn(dom, &insn), 0);
	ck_assert_uint_eq(insn.len, 1);
	ck_assert_uint_eq(insn.bytes[0], 0xcc);
	ck_assert_int_eq(dt_hv_xen.vcpu_count(dom), NVCPU);
	ck_assert_int_eq(dt_hv_xen.set_trapping(dom, true), 0);
	ck_assert(X.event_on[DT_TRAP_INT3]);
	ck_assert_int_eq(dt_hv_xen.next_trap(dom, &t), -EAGAIN);

	/* A probe hit: handed out once, the vCPU stays paused until resumed. */
	hit(1, VM_EVENT_REASON_SOFTWARE_BREAKPOINT, 0xffffffff81372700ull);
	ck_assert(readable(dt_hv_xen.trap_fd(dom)));
	ck_assert_int_eq(dt_hv_xen.next_trap(dom, &t), 0);
	ck_assert(readable(dt_hv_xen.trap_fd(dom))); /* acknowledged once the ring is empty */
	ck_assert_uint_eq(t.vcpu, 1);
	ck_assert_int_eq(t.reason, DT_TRAP_BREAKPOINT);
	ck_assert_uint_eq(t.gla, 0xffffffff81372700ull);
	ck_assert_uint_eq(t.insn_len, 1);
	ck_assert_uint_eq(t.regs.rdi, 0xffffc90000693f58ull);
	ck_assert_uint_eq(t.regs.cstar, 0xffffffff81c01c40ull); /* from the vCPU context */
	ck_assert_int_eq(dt_hv_xen.next_trap(dom, &t2), -EAGAIN);
	ck_assert(!readable(dt_hv_xen.trap_fd(dom)));
	ck_assert(X.vcpu_paused[1]);

	regs = t.regs;
	regs.rip = t.gla + 5;
	regs.rax = 42;
	ck_assert_int_eq(dt_hv_xen.resume(dom, &t, DT_RESUME_SET_REGS, &regs), 0);
	ck_assert(!X.vcpu_paused[1]);
	ck_assert_uint_eq(X.rsp[1].flags, VM_EVENT_FLAG_VCPU_PAUSED | VM_EVENT_FLAG_SET_REGISTERS);
	ck_assert_uint_eq(X.rsp[1].data.regs.x86.rip, 0xffffffff81372705ull);
	ck_assert_uint_eq(X.rsp[1].data.regs.x86.rax, 42);
	ck_assert_int_eq(dt_hv_xen.resume(dom, &t, DT_RESUME_RETRY, NULL), -EINVAL);

	/* Not ours: the int3 goes back to the guest. */
	hit(2, VM_EVENT_REASON_SOFTWARE_BREAKPOINT, 0xffffffff81000010ull);
	ck_assert_int_eq(dt_hv_xen.next_trap(dom, &t), 0);
	ck_assert_int_eq(dt_hv_xen.resume(dom, &t, DT_RESUME_SET_REGS, NULL), -EINVAL);
	ck_assert_int_eq(dt_hv_xen.resume(dom, &t, DT_RESUME_NOT_OURS, NULL), 0);
	ck_assert_int_eq(X.injected, 1);
	ck_assert_uint_eq(X.inj_vcpu, 2);
	ck_assert_uint_eq(X.inj_type, 6);
	ck_assert_uint_eq(X.inj_len, 1);
	ck_assert_uint_eq(X.rsp[2].flags, VM_EVENT_FLAG_VCPU_PAUSED);
	ck_assert(!X.vcpu_paused[2]);

	/* Two vCPUs at once, answered in the other order; a forged token is refused. */
	hit(0, VM_EVENT_REASON_SOFTWARE_BREAKPOINT, 0x1000);
	hit(3, VM_EVENT_REASON_SOFTWARE_BREAKPOINT, 0x3000);
	ck_assert_int_eq(dt_hv_xen.next_trap(dom, &t), 0);
	ck_assert_int_eq(dt_hv_xen.next_trap(dom, &t2), 0);
	ck_assert_uint_eq(t.vcpu, 0);
	ck_assert_uint_eq(t2.vcpu, 3);
	t2.token++;
	ck_assert_int_eq(dt_hv_xen.resume(dom, &t2, DT_RESUME_RETRY, NULL), -EINVAL);
	t2.token--;
	t2.vcpu = 9;
	ck_assert_int_eq(dt_hv_xen.resume(dom, &t2, DT_RESUME_RETRY, NULL), -EINVAL);
	t2.vcpu = 3;
	ck_assert_int_eq(dt_hv_xen.resume(dom, &t2, DT_RESUME_RETRY, NULL), 0);
	ck_assert_int_eq(dt_hv_xen.resume(dom, &t, DT_RESUME_RETRY, NULL), 0);
	ck_assert(!any_vcpu_paused());
	ck_assert_uint_eq(X.rsp[3].flags, VM_EVENT_FLAG_VCPU_PAUSED);

	/* Requests for reasons we never hand out are answered on the spot. */
	hit(1, VM_EVENT_REASON_CPUID, 0x2000);
	hit(2, VM_EVENT_REASON_DESCRIPTOR_ACCESS, 0x2000);
	ck_assert_int_eq(dt_hv_xen.next_trap(dom, &t), -EAGAIN);
	ck_assert(!any_vcpu_paused());
	ck_assert_uint_eq(X.rsp[2].flags, VM_EVENT_FLAG_VCPU_PAUSED | VM_EVENT_FLAG_EMULATE);

	ck_assert_int_eq(dt_hv_xen.set_trapping(dom, false), 0);
	ck_assert(!X.event_on[DT_TRAP_INT3]);
	dt_hv_xen.dom_close(dom);
	ck_assert(!X.attached);
	dt_hv_xen.dom_close(NULL);
	dt_hv_xen.close(hv);
}
END_TEST

START_TEST(test_sgdt_traps)
{
	static const uint8_t sgdt[] = { 0x0f, 0x01, 0x44, 0x24, 0xf0 };
	struct dt_hv *hv = open_hv(DT_TRAP_SGDT);
	struct dt_hv_dom *dom = open_dom(hv, 1);
	struct dt_trap_insn insn;
	struct dt_trap t;

	ck_assert_int_eq(dt_hv_xen.trap_insn(dom, &insn), 0);
	ck_assert_uint_eq(insn.len, 5);
	ck_assert_mem_eq(insn.bytes, sgdt, 5);
	ck_assert_int_eq(dt_hv_xen.set_trapping(dom, true), 0);
	ck_assert(X.event_on[DT_TRAP_SGDT]);
	ck_assert(!X.event_on[DT_TRAP_INT3]);

	hit(0, VM_EVENT_REASON_SOFTWARE_BREAKPOINT, 0x1000); /* not enabled: answered */
	hit(1, VM_EVENT_REASON_DESCRIPTOR_ACCESS, 0xffffffff81372700ull);
	ck_assert_int_eq(dt_hv_xen.next_trap(dom, &t), 0);
	ck_assert(!X.vcpu_paused[0]);
	ck_assert_int_eq(t.reason, DT_TRAP_DESCRIPTOR);
	ck_assert_uint_eq(t.insn_len, 0);
	ck_assert_uint_eq(t.gla, 0xffffffff81372700ull);
	ck_assert_int_eq(dt_hv_xen.resume(dom, &t, DT_RESUME_NOT_OURS, NULL), 0);
	ck_assert_int_eq(X.injected, 0);
	ck_assert_uint_eq(X.rsp[1].flags, VM_EVENT_FLAG_VCPU_PAUSED | VM_EVENT_FLAG_EMULATE);
	dt_hv_xen.dom_close(dom);
	dt_hv_xen.close(hv);
}
END_TEST

static const char *after(const char *log, const char *what)
{
	const char *p = strstr(log, what);

	ck_assert_msg(p != NULL, "'%s' missing from '%s'", what, log);
	return p + strlen(what);
}

START_TEST(test_close_releases_everything)
{
	struct dt_hv *hv = open_hv(DT_TRAP_INT3);
	struct dt_hv_dom *dom = open_dom(hv, 1);
	struct dt_trap t;
	uint8_t b;
	const char *p;

	ck_assert_int_eq(dt_hv_xen.set_trapping(dom, true), 0);
	ck_assert_int_eq(dt_hv_xen.pause(dom), 0);
	ck_assert_int_eq(dt_hv_xen.pause(dom), 0);
	ck_assert_int_eq(dt_hv_xen.read_pa(dom, 0x3000, &b, 1), 1);
	hit(0, VM_EVENT_REASON_SOFTWARE_BREAKPOINT, 0x1000);
	ck_assert_int_eq(dt_hv_xen.next_trap(dom, &t), 0); /* handed out, never resumed */
	hit(2, VM_EVENT_REASON_SOFTWARE_BREAKPOINT, 0x2000); /* still in the ring */
	X.busy_disables = 3;
	X.log[0] = '\0';

	dt_hv_xen.dom_close(dom);
	ck_assert(!any_vcpu_paused());
	ck_assert_int_eq(X.paused_at_disable, 0);
	ck_assert_int_eq(X.dom_pauses, 0);
	ck_assert_int_eq(X.busy_disables, 0);
	ck_assert_int_eq(X.live_maps, 0);
	ck_assert(!X.attached && !X.monitor_on && !X.bound);
	/* The order Xen's own tools use: events off, answer, monitor off, ring, channel. */
	p = after(X.log, "event-off;");
	p = after(p, "disable;");
	p = after(p, "unmap;");
	p = after(p, "unbind;");
	p = after(p, "detach;");
	dt_hv_xen.close(hv);
}
END_TEST

START_TEST(test_pause_counting)
{
	struct dt_hv *hv = open_hv(DT_TRAP_INT3);
	struct dt_hv_dom *dom = open_dom(hv, 1);

	ck_assert_int_eq(dt_hv_xen.unpause(dom), -EINVAL);
	ck_assert_int_eq(dt_hv_xen.pause(dom), 0);
	ck_assert_int_eq(dt_hv_xen.pause(dom), 0);
	ck_assert_int_eq(X.dom_pauses, 2);
	ck_assert_int_eq(dt_hv_xen.unpause(dom), 0);
	ck_assert_int_eq(X.dom_pauses, 1);
	dt_hv_xen.dom_close(dom);
	ck_assert_int_eq(X.dom_pauses, 0);
	dt_hv_xen.close(hv);
}
END_TEST

START_TEST(test_domain_dies)
{
	struct dt_hv *hv = open_hv(DT_TRAP_INT3);
	struct dt_hv_dom *dom = open_dom(hv, 1);
	struct dt_trap t;
	struct dt_regs regs;
	uint8_t b;

	/* A failing call on a dying domain becomes -ENODEV. */
	X.pause_err = -EINVAL;
	ck_assert_int_eq(dt_hv_xen.pause(dom), -EINVAL);
	find(1)->dying = true;
	ck_assert_int_eq(dt_hv_xen.pause(dom), -ENODEV);
	ck_assert_int_eq(dt_hv_xen.read_pa(dom, 0, &b, 1), -ENODEV);
	ck_assert_int_eq(dt_hv_xen.next_trap(dom, &t), -ENODEV);
	ck_assert_int_eq(dt_hv_xen.vcpu_count(dom), -ENODEV);
	dt_hv_xen.dom_close(dom);
	ck_assert(!X.attached);

	/* Destroyed outright while a trap is outstanding. */
	X.pause_err = 0;
	find(1)->dying = false;
	dom = open_dom(hv, 1);
	ck_assert_int_eq(dt_hv_xen.set_trapping(dom, true), 0);
	hit(1, VM_EVENT_REASON_SOFTWARE_BREAKPOINT, 0x1000);
	ck_assert_int_eq(dt_hv_xen.next_trap(dom, &t), 0);
	X.gone = true;
	ck_assert_int_eq(dt_hv_xen.get_regs(dom, 0, &regs), -ENODEV);
	ck_assert_int_eq(dt_hv_xen.resume(dom, &t, DT_RESUME_RETRY, NULL), -ENODEV);
	ck_assert_int_eq(dt_hv_xen.set_regs(dom, 0, &regs), -ENODEV);
	dt_hv_xen.dom_close(dom);
	ck_assert(!X.attached && !X.bound);
	ck_assert_ptr_null(X.ring_page);
	dt_hv_xen.close(hv);
}
END_TEST

START_TEST(test_bad_interface_version)
{
	struct dt_hv *hv = open_hv(DT_TRAP_INT3);
	struct dt_hv_dom *dom = open_dom(hv, 1);
	vm_event_request_t *req;
	struct dt_trap t;

	ck_assert_int_eq(dt_hv_xen.set_trapping(dom, true), 0);
	hit(1, VM_EVENT_REASON_SOFTWARE_BREAKPOINT, 0x1000);
	req = RING_GET_REQUEST(&X.front, X.front.req_prod_pvt - 1);
	req->version++;
	ck_assert_int_eq(dt_hv_xen.next_trap(dom, &t), -EPROTO);
	ck_assert_int_eq(dt_hv_xen.next_trap(dom, &t), -EPROTO);
	dt_hv_xen.dom_close(dom); /* must not hang on the unanswerable request */
	ck_assert(!X.attached);
	dt_hv_xen.close(hv);
}
END_TEST

/* Map va -> gpa (4 KiB) in X.mem page tables under root. */
static void map_page(uint64_t root, unsigned levels, uint64_t va, uint64_t gpa, unsigned *next)
{
	uint64_t table = root;
	unsigned level;

	for (level = levels; level > 1; level--) {
		uint64_t *e = (uint64_t *)(void *)(X.mem + table) +
			      ((va >> (12 + 9 * (level - 1))) & 511);

		if (!(*e & 1))
			*e = ((uint64_t)(*next)++ * DT_XEN_PAGE_SIZE) | 3;
		table = *e & 0x000ffffffffff000ull;
	}
	((uint64_t *)(void *)(X.mem + table))[(va >> 12) & 511] = gpa | 3;
}

/* Calls into Xen for one trap taken alone, answered, and the ring found empty again:
 * the notify, then pending (the port) and unmask before the ring's last look (the trap
 * itself is taken from the ring with no call: ack_events in xen_dom.c). */
#define TRAP_CALLS 3

START_TEST(test_memory_and_registers)
{
	struct dt_hv *hv = open_hv(DT_TRAP_INT3);
	struct dt_hv_dom *dom;
	const uint64_t va = 0xffffffff81000ffeull;
	uint64_t gpa = 0;
	struct dt_regs regs;
	unsigned next = 4;
	char buf[8] = { 0 };

	/* Guest in 5-level paging: the backend learns it from vCPU 0 at open. */
	for (unsigned v = 0; v < NVCPU; v++)
		X.cpu[v].cr4 |= X86_CR4_LA57;
	map_page(0x2000, 5, va & ~0xfffull, 0x20000, &next);
	map_page(0x2000, 5, (va & ~0xfffull) + 0x1000, 0x30000, &next);
	dom = open_dom(hv, 1);
	ck_assert_int_eq(dt_hv_xen.translate(dom, 0x2000, va, &gpa), 0);
	ck_assert_uint_eq(gpa, 0x20ffe);
	ck_assert_int_eq(dt_hv_xen.write_va(dom, 0x2000, va, "abcd", 4), 0);
	ck_assert_mem_eq(X.mem + 0x20ffe, "ab", 2);
	ck_assert_mem_eq(X.mem + 0x30000, "cd", 2);
	ck_assert_int_eq(dt_hv_xen.read_va(dom, 0x2000, va, buf, 4), 4);
	ck_assert_str_eq(buf, "abcd");
	ck_assert_int_eq(dt_hv_xen.read_va(dom, 0x2000, va + 0x1002, buf, 4), 0);
	ck_assert_int_eq(dt_hv_xen.write_va(dom, 0x2000, va + 0x1000, "xyzw", 4), -EFAULT);
	ck_assert_int_eq(dt_hv_xen.write_pa(dom, 0x30002, "ef", 2), 0);
	ck_assert_int_eq(dt_hv_xen.read_pa(dom, 0x30000, buf, 4), 4);
	ck_assert_str_eq(buf, "cdef");
	ck_assert_int_eq(dt_hv_xen.read_pa(dom, MEM_PAGES * DT_XEN_PAGE_SIZE, buf, 4), 0);
	ck_assert_int_gt(X.live_maps, 0);
	dt_hv_xen.flush_cache(dom);
	ck_assert_int_eq(X.live_maps, 0);

	ck_assert_int_eq(dt_hv_xen.get_regs(dom, 2, &regs), 0);
	ck_assert_uint_eq(regs.rip, 0xffffffff81000002ull);
	ck_assert_uint_eq(regs.cstar, 0xffffffff81c01c40ull);
	ck_assert_int_eq(dt_hv_xen.get_regs(dom, NVCPU, &regs), -EINVAL);
	regs.rip = 0x1234;
	ck_assert_int_eq(dt_hv_xen.set_regs(dom, 2, &regs), 0);
	ck_assert_uint_eq(X.set[2].rip, 0x1234);
	ck_assert_int_eq(dt_hv_xen.set_regs(dom, NVCPU, &regs), -EINVAL);

	/* An offline vCPU (all zero) does not switch the domain to "no paging". */
	ck_assert_int_eq(dt_hv_xen.get_regs(dom, 3, &regs), 0);
	memset(&X.cpu[3], 0, sizeof(X.cpu[3]));
	ck_assert_int_eq(dt_hv_xen.get_regs(dom, 3, &regs), 0);
	ck_assert_int_eq(dt_hv_xen.translate(dom, 0x2000, va, &gpa), 0);
	ck_assert_uint_eq(gpa, 0x20ffe);
	dt_hv_xen.dom_close(dom);
	ck_assert_int_eq(X.live_maps, 0);
	dt_hv_xen.close(hv);
}
END_TEST

/* What a domain's ops cost on Xen, as dt_hv_ops.work counts it (hv.h): every call into
 * Xen's drivers, the mappings the cache made (the fake's own count), pages and walks. */
START_TEST(test_work_counted)
{
	struct dt_hv *hv = open_hv(DT_TRAP_INT3);
	struct dt_hv_dom *dom;
	const uint64_t va = 0xffffffff81000ffeull;
	struct dt_hv_work w0, w1;
	struct dt_trap t;
	unsigned next = 4;
	uint64_t gpa;
	char buf[8];
	int maps0;

	map_page(0x2000, 4, va & ~0xfffull, 0x20000, &next);
	map_page(0x2000, 4, (va & ~0xfffull) + 0x1000, 0x30000, &next);
	dom = open_dom(hv, 1);
	ck_assert_int_eq(dt_hv_xen.set_trapping(dom, true), 0);
	ck_assert_int_eq(dt_hv_xen.next_trap(dom, &t), -EAGAIN);

	/* one trap, alone: taken, answered, and the ring found empty again */
	dt_hv_xen.work(dom, &w0);
	hit(1, VM_EVENT_REASON_SOFTWARE_BREAKPOINT, 0xffffffff81372700ull);
	ck_assert_int_eq(dt_hv_xen.next_trap(dom, &t), 0);
	ck_assert_int_eq(dt_hv_xen.resume(dom, &t, DT_RESUME_RETRY, NULL), 0);
	ck_assert_int_eq(dt_hv_xen.next_trap(dom, &t), -EAGAIN);
	ck_assert(!readable(dt_hv_xen.trap_fd(dom))); /* the worker may sleep now */
	dt_hv_xen.work(dom, &w1);
	ck_assert_uint_eq(w1.hypercalls - w0.hypercalls, TRAP_CALLS);
	ck_assert_uint_eq(w1.pages - w0.pages, 0);
	/* a request after that look notifies again: nothing is slept through */
	hit(2, VM_EVENT_REASON_SOFTWARE_BREAKPOINT, 0xffffffff81372700ull);
	ck_assert(readable(dt_hv_xen.trap_fd(dom)));
	ck_assert_int_eq(dt_hv_xen.next_trap(dom, &t), 0);
	ck_assert_int_eq(dt_hv_xen.resume(dom, &t, DT_RESUME_RETRY, NULL), 0);

	/* memory: a walk per page, a page per page read, a hypercall per mapping */
	dt_hv_xen.work(dom, &w0);
	maps0 = X.live_maps;
	ck_assert_int_eq(dt_hv_xen.translate(dom, 0x2000, va, &gpa), 0);
	ck_assert_int_eq(dt_hv_xen.read_va(dom, 0x2000, va, buf, 4), 4);	   /* 2 pages */
	ck_assert_int_eq(dt_hv_xen.read_va(dom, 0x2000, va + 0x1002, buf, 4), 0); /* absent */
	ck_assert_int_eq(dt_hv_xen.read_pa(dom, 0x30000, buf, 4), 4);
	dt_hv_xen.work(dom, &w1);
	ck_assert_uint_eq(w1.walks - w0.walks, 4);
	ck_assert_uint_eq(w1.pages - w0.pages, 3);
	ck_assert_uint_eq(w1.maps - w0.maps, (uint64_t)(X.live_maps - maps0));
	ck_assert_uint_gt(w1.maps - w0.maps, 0);
	ck_assert_uint_gt(w1.map_hits - w0.map_hits, 0);
	ck_assert_uint_eq(w1.hypercalls - w0.hypercalls, w1.maps - w0.maps);
	dt_hv_xen.dom_close(dom);
	dt_hv_xen.close(hv);
}
END_TEST

static Suite *xen_hv_suite(void)
{
	Suite *s = suite_create("xen_hv");
	TCase *host = tcase_create("host"), *dom = tcase_create("domain");

	tcase_add_checked_fixture(host, setup, teardown);
	tcase_add_test(host, test_list_vms);
	tcase_add_test(host, test_watch);
	tcase_add_test(host, test_list_vms_is_the_baseline);
	tcase_add_test(host, test_domain_list_diff);
	tcase_add_test(host, test_host_threads);
	tcase_add_test(host, test_real_open_is_quiet);
	suite_add_tcase(s, host);

	tcase_add_checked_fixture(dom, setup, teardown);
	tcase_add_test(dom, test_dom_open_refusals);
	tcase_add_test(dom, test_int3_traps);
	tcase_add_test(dom, test_sgdt_traps);
	tcase_add_test(dom, test_close_releases_everything);
	tcase_add_test(dom, test_pause_counting);
	tcase_add_test(dom, test_domain_dies);
	tcase_add_test(dom, test_bad_interface_version);
	tcase_add_test(dom, test_memory_and_registers);
	tcase_add_test(dom, test_work_counted);
	suite_add_tcase(s, dom);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(xen_hv_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
