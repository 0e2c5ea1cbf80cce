// SPDX-License-Identifier: GPL-2.0-only
/*
 * xen_dom.c - dt_hv_xen: one traced domain (HVM or PVH) through vm_event.
 *
 * dom_open enables the domain's monitor ring and binds its event channel; set_trapping
 * switches the chosen event on and off (software breakpoints for the int3 flavour,
 * descriptor accesses for sgdt). A trap is a synchronous request: Xen has paused only
 * that vCPU, and it stays paused until resume() answers the request. At most one trap
 * per vCPU is outstanding, so pending requests live in a per-vCPU table; the token handed
 * out with a trap is checked at resume.
 *
 * Every op runs on the domain's worker thread (hv.h), so nothing here locks, except
 * dom_open, which holds the host lock while it sets up.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xen_internal.h"

/* A call into Xen's drivers, counted (dt_hv_work.hypercalls) */
#define XCALL(dom, op) ((dom)->work.hypercalls++, (dom)->sys->op)

#define DISABLE_TRIES 50     /* xc_monitor_disable -EBUSY: vCPUs still queued for the ring */
#define DISABLE_WAIT_US 2000

struct pending {
	bool busy;
	uint64_t token;
	vm_event_request_t req;
};

struct dt_hv_dom {
	struct dt_hv *hv;
	const struct dt_xen_sys_ops *sys;
	void *sd; /* the seam's per-domain handles */
	uint32_t domid;
	uint32_t vcpus;
	enum dt_trap_flavour flavour;
	enum dt_xen_paging paging; /* long-mode paging depth, learnt from the vCPUs */
	uint64_t cstar;		   /* MSR_CSTAR: vm_event does not carry it */

	void *ring_page;
	struct dt_xen_ring ring;
	uint32_t local_port;
	bool monitor_on;
	bool bound;
	bool trapping;
	bool gone;   /* the domain died: every op says -ENODEV */
	bool broken; /* a request we cannot answer (interface version): -EPROTO */

	unsigned pauses; /* our xc_domain_pause()s not yet undone */
	uint64_t last_token;
	struct pending *pending; /* [vcpus] */
	struct dt_xen_mapcache *cache;
	/* hv.h dt_hv_work: hypercalls counted at each call below; maps and map hits are the
	 * cache's own counts; pages and walks counted per guest access */
	struct dt_hv_work work;
};

/* Pages [addr, addr + n) spans: what one access of n bytes reads, or walks. */
static uint64_t pages_of(uint64_t addr, size_t n)
{
	return n ? ((addr + n - 1) >> DT_XEN_PAGE_SHIFT) - (addr >> DT_XEN_PAGE_SHIFT) + 1 : 0;
}

/* After a failed call: -ENODEV (and remember it) if the domain is gone or dying. */
static int failed(struct dt_hv_dom *dom, int r)
{
	struct dt_xen_dominfo info;
	int q;

	if (r >= 0 || r == -EFAULT || r == -EAGAIN)
		return r;
	q = r == -ENODEV ? -ENODEV : XCALL(dom, dom_info)(dom->sd, &info);
	if (q == -ENODEV || (q == 0 && info.dying)) { /* info is only set when q == 0 */
		dom->gone = true;
		return -ENODEV;
	}
	return r;
}

static void learn_paging(struct dt_hv_dom *dom, const struct dt_regs *regs)
{
	enum dt_xen_paging mode = dt_xen_paging_mode(regs->cr0, regs->cr4, regs->efer);

	/* A vCPU still booting (or offline, all zero) must not change how we translate. */
	if (mode == DT_XEN_PAGING_4LEVEL || mode == DT_XEN_PAGING_5LEVEL)
		dom->paging = mode;
	if (regs->cstar)
		dom->cstar = regs->cstar;
}

static void *map_frame(void *ctx, uint64_t gfn, bool writable, int *ret_err)
{
	struct dt_hv_dom *dom = ctx;

	return XCALL(dom, map)(dom->sd, gfn, writable, ret_err);
}

static void unmap_frame(void *ctx, void *page)
{
	struct dt_hv_dom *dom = ctx;

	dom->sys->unmap(dom->sd, page);
}

static void answer(struct dt_hv_dom *dom, const vm_event_request_t *req, enum dt_resume_how how,
		   const struct dt_regs *regs)
{
	vm_event_response_t rsp;

	dt_xen_response(req, how, regs, &rsp);
	(void)dt_xen_ring_put(&dom->ring, &rsp);
}

/*
 * Answer every trap handed out and every request still in the ring with a plain unpause.
 * Used once trapping is off: the instruction runs again, now without an event (our bytes
 * are restored by then; a guest's own int3 then reaches the guest).
 */
static void drain(struct dt_hv_dom *dom)
{
	vm_event_request_t req;
	bool answered = false;
	uint32_t v;
	unsigned n;

	for (v = 0; v < dom->vcpus; v++) {
		if (!dom->pending[v].busy)
			continue;
		answer(dom, &dom->pending[v].req, DT_RESUME_RETRY, NULL);
		dom->pending[v].busy = false;
		answered = true;
	}
	for (n = 0; n < RING_SIZE(&dom->ring.back) && dt_xen_ring_get(&dom->ring, &req) == 0;
	     n++) {
		if (req.version == VM_EVENT_INTERFACE_VERSION)
			answer(dom, &req, DT_RESUME_RETRY, NULL);
		answered = true;
	}
	if (answered && dom->bound)
		(void)XCALL(dom, evtchn_notify)(dom->sd, dom->local_port);
}

static void disable_monitor(struct dt_hv_dom *dom)
{
	int tries, r;

	for (tries = 0; tries < DISABLE_TRIES; tries++) {
		bool paused;

		drain(dom);
		/* With the domain paused no vCPU can be half-way into the ring: the last
		 * drain sees every request. */
		paused = !dom->gone && XCALL(dom, pause)(dom->sd) == 0;
		drain(dom);
		r = XCALL(dom, monitor_disable)(dom->sd);
		if (paused)
			(void)XCALL(dom, unpause)(dom->sd);
		if (r != -EBUSY || dom->gone)
			break;
		usleep(DISABLE_WAIT_US);
	}
	dom->monitor_on = false;
}

/* dom_close and dom_open's failure path: undo whatever was set up, in this order. */
static void teardown(struct dt_hv_dom *dom)
{
	if (dom->trapping)
		(void)XCALL(dom, monitor_event)(dom->sd, dom->flavour, false);
	dom->trapping = false;
	if (dom->monitor_on)
		disable_monitor(dom);
	if (dom->ring_page)
		dom->sys->ring_unmap(dom->sd, dom->ring_page);
	dom->ring_page = NULL;
	if (dom->bound)
		(void)XCALL(dom, evtchn_unbind)(dom->sd, dom->local_port);
	dom->bound = false;
	while (dom->pauses) {
		if (XCALL(dom, unpause)(dom->sd) < 0 && failed(dom, -EIO) == -ENODEV)
			break;
		dom->pauses--;
	}
	dt_xen_mapcache_free(dom->cache);
	dom->sys->dom_detach(dom->sd);
	free(dom->pending);
	free(dom);
}

static int check_domain(struct dt_hv_dom *dom, const struct dt_xen_params *params)
{
	struct dt_xen_dominfo info;
	uint32_t caps = 0, need;
	int r;

	r = XCALL(dom, dom_info)(dom->sd, &info);
	if (r < 0)
		return r;
	if (info.dying)
		return -ENODEV;
	if (!info.hvm)
		return -EOPNOTSUPP; /* PV: vm_event cannot trap it (dt_vm_info.why) */
	if (info.vcpus == 0)
		return -ENODEV;
	dom->vcpus = info.vcpus;

	need = params->flavour == DT_TRAP_SGDT ? 1u << XEN_DOMCTL_MONITOR_EVENT_DESC_ACCESS
					       : 1u << XEN_DOMCTL_MONITOR_EVENT_SOFTWARE_BREAKPOINT;
	r = XCALL(dom, monitor_caps)(dom->sd, &caps);
	if (r < 0)
		return r;
	return (caps & need) ? 0 : -EOPNOTSUPP;
}

int dt_xen_dom_open(struct dt_hv *hv, uint32_t domid, struct dt_hv_dom **ret_dom)
{
	struct dt_xen_host_view view;
	struct dt_xen_mapper mapper;
	struct dt_hv_dom *dom;
	struct hvm_hw_cpu cpu;
	struct dt_regs regs;
	uint32_t remote_port;
	int r;

	if (domid == 0 || domid >= DT_XEN_MAX_DOMAINS)
		return -EINVAL;
	dt_xen_host_view(hv, &view);
	dom = calloc(1, sizeof(*dom));
	if (!dom)
		return -ENOMEM;
	dom->hv = hv;
	dom->sys = view.sys;
	dom->domid = domid;
	dom->flavour = view.params->flavour;
	dom->paging = DT_XEN_PAGING_4LEVEL;

	dt_xen_host_lock(hv);
	r = view.sys->dom_attach(view.host, domid, &dom->sd);
	if (r < 0) {
		dt_xen_host_unlock(hv);
		free(dom);
		return r;
	}
	r = check_domain(dom, view.params);
	if (r < 0)
		goto fail;
	dom->pending = calloc(dom->vcpus, sizeof(*dom->pending));
	if (!dom->pending) {
		r = -ENOMEM;
		goto fail;
	}
	mapper = (struct dt_xen_mapper){ .map = map_frame, .unmap = unmap_frame, .ctx = dom };
	r = dt_xen_mapcache_new(&mapper, view.params->map_cache_pages, &dom->cache);
	if (r < 0)
		goto fail;

	/* -EBUSY here: another introspection tool holds this domain's monitor ring. */
	r = XCALL(dom, monitor_enable)(dom->sd, &dom->ring_page, &remote_port);
	if (r < 0)
		goto fail;
	dom->monitor_on = true;
	dt_xen_ring_init(&dom->ring, dom->ring_page, DT_XEN_PAGE_SIZE);
	r = XCALL(dom, evtchn_bind)(dom->sd, remote_port, &dom->local_port);
	if (r < 0)
		goto fail;
	dom->bound = true;

	if (XCALL(dom, get_cpu)(dom->sd, 0, &cpu) == 0) {
		dt_xen_regs_from_cpu(&cpu, &regs);
		learn_paging(dom, &regs);
	}
	dt_xen_host_unlock(hv);
	*ret_dom = dom;
	return 0;
fail:
	r = failed(dom, r);
	teardown(dom);
	dt_xen_host_unlock(hv);
	return r;
}

void dt_xen_dom_close(struct dt_hv_dom *dom)
{
	if (dom)
		teardown(dom);
}

int dt_xen_dom_pause(struct dt_hv_dom *dom)
{
	int r;

	if (dom->gone)
		return -ENODEV;
	r = XCALL(dom, pause)(dom->sd);
	if (r < 0)
		return failed(dom, r);
	dom->pauses++;
	return 0;
}

int dt_xen_dom_unpause(struct dt_hv_dom *dom)
{
	int r;

	if (dom->gone)
		return -ENODEV;
	if (!dom->pauses)
		return -EINVAL;
	r = XCALL(dom, unpause)(dom->sd);
	if (r < 0)
		return failed(dom, r);
	dom->pauses--;
	return 0;
}

int dt_xen_dom_vcpu_count(struct dt_hv_dom *dom)
{
	return dom->gone ? -ENODEV : (int)dom->vcpus;
}

int dt_xen_dom_get_regs(struct dt_hv_dom *dom, uint32_t vcpu, struct dt_regs *ret_regs)
{
	struct hvm_hw_cpu cpu;
	int r;

	if (dom->gone)
		return -ENODEV;
	if (vcpu >= dom->vcpus)
		return -EINVAL;
	r = XCALL(dom, get_cpu)(dom->sd, vcpu, &cpu);
	if (r < 0)
		return failed(dom, r);
	dt_xen_regs_from_cpu(&cpu, ret_regs);
	learn_paging(dom, ret_regs);
	return 0;
}

int dt_xen_dom_set_regs(struct dt_hv_dom *dom, uint32_t vcpu, const struct dt_regs *regs)
{
	if (dom->gone)
		return -ENODEV;
	if (vcpu >= dom->vcpus)
		return -EINVAL;
	dom->work.hypercalls++; /* xc_vcpu_getcontext, then setcontext */
	return failed(dom, XCALL(dom, set_gprs)(dom->sd, vcpu, regs));
}

ssize_t dt_xen_dom_read_va(struct dt_hv_dom *dom, uint64_t cr3, uint64_t va, void *buf,
			   size_t len)
{
	ssize_t r;

	if (dom->gone)
		return -ENODEV;
	r = dt_xen_read_va(dom->cache, dom->paging, cr3, va, buf, len);
	if (r >= 0) { /* a walk per page read, and one for the page that stopped it */
		dom->work.pages += pages_of(va, (size_t)r);
		dom->work.walks += pages_of(va, (size_t)r) + ((size_t)r < len);
	}
	return r < 0 ? failed(dom, (int)r) : r;
}

int dt_xen_dom_write_va(struct dt_hv_dom *dom, uint64_t cr3, uint64_t va, const void *buf,
			size_t len)
{
	if (dom->gone)
		return -ENODEV;
	dom->work.pages += pages_of(va, len);
	dom->work.walks += pages_of(va, len);
	return failed(dom, dt_xen_write_va(dom->cache, dom->paging, cr3, va, buf, len));
}

ssize_t dt_xen_dom_read_pa(struct dt_hv_dom *dom, uint64_t gpa, void *buf, size_t len)
{
	ssize_t r;

	if (dom->gone)
		return -ENODEV;
	r = dt_xen_read_pa(dom->cache, gpa, buf, len);
	if (r >= 0)
		dom->work.pages += pages_of(gpa, (size_t)r);
	return r < 0 ? failed(dom, (int)r) : r;
}

int dt_xen_dom_write_pa(struct dt_hv_dom *dom, uint64_t gpa, const void *buf, size_t len)
{
	if (dom->gone)
		return -ENODEV;
	dom->work.pages += pages_of(gpa, len);
	return failed(dom, dt_xen_write_pa(dom->cache, gpa, buf, len));
}

int dt_xen_dom_translate(struct dt_hv_dom *dom, uint64_t cr3, uint64_t va, uint64_t *ret_gpa)
{
	struct dt_xen_phys phys;

	if (dom->gone)
		return -ENODEV;
	dt_xen_mapcache_phys(dom->cache, &phys);
	dom->work.walks++;
	return failed(dom, dt_xen_walk(&phys, dom->paging, cr3, va, ret_gpa));
}

void dt_xen_dom_flush_cache(struct dt_hv_dom *dom)
{
	dt_xen_mapcache_flush(dom->cache);
}

int dt_xen_dom_trap_insn(struct dt_hv_dom *dom, struct dt_trap_insn *ret_insn)
{
	static const uint8_t sgdt[] = { 0x0f, 0x01, 0x44, 0x24, 0xf0 }; /* sgdt -0x10(%rsp) */

	memset(ret_insn, 0, sizeof(*ret_insn));
	if (dom->flavour == DT_TRAP_SGDT) {
		memcpy(ret_insn->bytes, sgdt, sizeof(sgdt));
		ret_insn->len = sizeof(sgdt);
	} else {
		ret_insn->bytes[0] = 0xcc;
		ret_insn->len = 1;
	}
	return 0;
}

int dt_xen_dom_set_trapping(struct dt_hv_dom *dom, bool on)
{
	int r;

	if (dom->gone)
		return -ENODEV;
	if (dom->trapping == on)
		return 0;
	r = XCALL(dom, monitor_event)(dom->sd, dom->flavour, on);
	if (r < 0)
		return failed(dom, r);
	dom->trapping = on;
	return 0;
}

int dt_xen_dom_trap_fd(struct dt_hv_dom *dom)
{
	return dom->sys->evtchn_fd(dom->sd);
}

/*
 * Take the event channel's notification (non-blocking) and re-arm it. Done only once the
 * ring looks empty, and the ring looked at again after it: a request arriving after that
 * look notifies again, so the worker never sleeps on a request. A request taken while a
 * notification is still pending costs nothing: the fd stays readable (one wake-up more at
 * most), and the ack waits for the look that finds the ring empty. One port is bound per
 * handle, and the driver queues it once until unmasked: one pending read suffices (two
 * calls per ack instead of a pending read per trap and one more to find none).
 */
static int ack_events(struct dt_hv_dom *dom)
{
	int port = XCALL(dom, evtchn_pending)(dom->sd);

	if (port == -EAGAIN)
		return 0;
	if (port < 0)
		return failed(dom, port);
	(void)XCALL(dom, evtchn_unmask)(dom->sd, (uint32_t)port);
	return 0;
}

int dt_xen_dom_next_trap(struct dt_hv_dom *dom, struct dt_trap *ret_trap)
{
	vm_event_request_t req;
	bool answered = false;
	int r;

	if (dom->gone)
		return -ENODEV;
	if (dom->broken)
		return -EPROTO;
	for (bool acked = false;;) {
		struct pending *p;

		r = dt_xen_ring_get(&dom->ring, &req);
		if (r < 0 && !acked) {
			/* empty: re-arm the channel, then look once more (ack_events) */
			acked = true;
			r = ack_events(dom);
			if (r < 0)
				goto out;
			continue;
		}
		if (r < 0)
			break; /* -EAGAIN */
		switch (dt_xen_req_classify(&req, dom->flavour)) {
		case DT_XEN_REQ_BAD_VERSION:
			/* Xen ignores a response of another version, so this vCPU cannot be
			 * answered: refuse to go on (dom_close still releases the rest). */
			dom->broken = true;
			r = -EPROTO;
			goto out;
		case DT_XEN_REQ_OTHER:
			answer(dom, &req, DT_RESUME_NOT_OURS, NULL);
			answered = true;
			continue;
		case DT_XEN_REQ_TRAP:
			break;
		}
		if (req.vcpu_id >= dom->vcpus || dom->pending[req.vcpu_id].busy) {
			answer(dom, &req, DT_RESUME_RETRY, NULL); /* cannot happen: be safe */
			answered = true;
			continue;
		}
		p = &dom->pending[req.vcpu_id];
		p->busy = true;
		p->token = ++dom->last_token;
		p->req = req;
		dt_xen_trap_from_request(&req, dom->cstar, ret_trap);
		ret_trap->token = p->token;
		learn_paging(dom, &ret_trap->regs);
		r = 0;
		break;
	}
out:
	if (answered)
		(void)XCALL(dom, evtchn_notify)(dom->sd, dom->local_port);
	return r;
}

int dt_xen_dom_resume(struct dt_hv_dom *dom, const struct dt_trap *trap, enum dt_resume_how how,
		      const struct dt_regs *regs)
{
	const struct vm_event_debug *bp;
	struct pending *p;
	int inject = 0, r;

	if (dom->gone)
		return -ENODEV;
	if (trap->vcpu >= dom->vcpus)
		return -EINVAL;
	p = &dom->pending[trap->vcpu];
	if (!p->busy || p->token != trap->token)
		return -EINVAL; /* not outstanding, or answered already */
	if (how != DT_RESUME_SET_REGS && how != DT_RESUME_RETRY && how != DT_RESUME_NOT_OURS)
		return -EINVAL;
	if (how == DT_RESUME_SET_REGS && !regs)
		return -EINVAL;

	bp = &p->req.u.software_breakpoint;
	if (how == DT_RESUME_NOT_OURS && p->req.reason == VM_EVENT_REASON_SOFTWARE_BREAKPOINT) {
		/* The guest's own int3: queue #BP for it; the unpause below delivers it. If
		 * that fails the vCPU runs the int3 again and we see it again. */
		inject = XCALL(dom, inject_int3)(dom->sd, trap->vcpu, bp->type,
					       (uint8_t)bp->insn_length);
	}
	answer(dom, &p->req, how, regs);
	p->busy = false;
	r = XCALL(dom, evtchn_notify)(dom->sd, dom->local_port);
	if (r < 0)
		return failed(dom, r);
	return inject < 0 ? failed(dom, inject) : 0;
}

void dt_xen_dom_work(struct dt_hv_dom *dom, struct dt_hv_work *ret_work)
{
	struct dt_xen_mapcache_stats st;

	*ret_work = dom->work;
	dt_xen_mapcache_get_stats(dom->cache, &st);
	ret_work->maps = st.maps + st.remaps_rw;
	ret_work->map_hits = st.hits;
}
