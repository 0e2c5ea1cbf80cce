// SPDX-License-Identifier: GPL-2.0-only
/*
 * xen_recover.c - dt_hv_xen.recover: undo what a dead domtrace left in one domain.
 *
 * The guardian (engine/guard/) calls this from a freshly opened host after domtrace died
 * without detaching (kill -9). What the dead process can have left, as Xen 4.17 has it:
 *   - breakpoint bytes in guest memory (nobody but us knows them: the journal's sites);
 *   - its monitor ring, still enabled: a new xc_monitor_enable() fails with EBUSY
 *     (common/vm_event.c, vm_event_enable), and its trap monitor still switched on;
 *   - vCPUs paused on a synchronous request (vm_event_vcpu_pause: vm_event_pause_count).
 *     Only a response with VM_EVENT_FLAG_VCPU_PAUSED on a ring lets such a vCPU go
 *     (vm_event_resume -> vm_event_vcpu_unpause); vm_event_disable unpauses only the
 *     vCPUs it parked for ring space itself, never these.
 * So, all under one pause of the whole domain: put back the original bytes where ours
 * still are, switch both trap monitors off, drop the dead ring, enable a fresh one just to
 * answer every vCPU with a plain VCPU_PAUSED response (each re-runs the instruction at its
 * RIP, which is the restored original now), and drop that ring too. Last, the whole-domain
 * pauses the dead process held (the journal counts one before asking, so it may say one
 * too many): each released only while Xen still says the domain is paused (getdomaininfo's
 * XEN_DOMINF_paused is controller_pause_count > 0), so we never go below what others hold
 * but for that one-pause window.
 *
 * Host scope, guardian process only (hv.h); a domain handle of our own, never shared.
 */
#include <errno.h>
#include <string.h>

#include "xen_internal.h"

struct recovery {
	const struct dt_xen_sys_ops *sys;
	void *sd;
	struct dt_guard_result res;
	int first_err;
	bool gone;
};

enum site_state {
	SITE_ORIG,    /* the guest's own bytes */
	SITE_ARMED,   /* ours */
	SITE_FOREIGN, /* neither */
};

/* After a failed call: -ENODEV if the domain is gone or dying, r otherwise. */
static int gone_or(struct recovery *rc, int r)
{
	struct dt_xen_dominfo info;
	int q;

	if (r >= 0)
		return r;
	if (r != -ENODEV) {
		q = rc->sys->dom_info(rc->sd, &info);
		if (q == -ENODEV || (q == 0 && info.dying))
			r = -ENODEV;
	}
	if (r == -ENODEV)
		rc->gone = true;
	return r;
}

/* The dead process's whole-domain pauses, after ours is gone (step 7). */
static int release_pauses(struct recovery *rc, unsigned pauses)
{
	struct dt_xen_dominfo info;
	int r;

	while (rc->res.unpaused < pauses) {
		r = rc->sys->dom_info(rc->sd, &info);
		if (r < 0)
			return gone_or(rc, r);
		if (!info.paused)
			return 0; /* the count was one too many: nothing of ours is left */
		r = rc->sys->unpause(rc->sd);
		if (r < 0)
			return gone_or(rc, r);
		rc->res.unpaused++;
	}
	return 0;
}

/* Remember the first error of a step that failed (after best effort on the rest). */
static void keep(struct recovery *rc, int r)
{
	r = gone_or(rc, r);
	if (r < 0 && !rc->first_err)
		rc->first_err = r;
}

static bool site_valid(const struct dt_guard_site *s)
{
	uint64_t offset = s->gpa & (DT_XEN_PAGE_SIZE - 1);

	return s->len >= 1 && s->len <= DT_GUARD_SITE_MAX && offset + s->len <= DT_XEN_PAGE_SIZE;
}

static enum site_state classify(const struct dt_guard_site *s, const uint8_t *bytes)
{
	if (!memcmp(bytes, s->orig, s->len))
		return SITE_ORIG;
	if (!memcmp(bytes, s->armed, s->len))
		return SITE_ARMED;
	return SITE_FOREIGN;
}

/* What a site holds now, read through a fresh read-only mapping: 0 and *ret_state. */
static int site_state(struct recovery *rc, const struct dt_guard_site *s,
		      enum site_state *ret_state)
{
	uint8_t *page;
	int err = -EIO;

	page = rc->sys->map(rc->sd, s->gpa >> DT_XEN_PAGE_SHIFT, false, &err);
	if (!page)
		return err < 0 ? err : -EIO;
	*ret_state = classify(s, page + (s->gpa & (DT_XEN_PAGE_SIZE - 1)));
	rc->sys->unmap(rc->sd, page);
	return 0;
}

/* One site: counted as restored, clean, foreign or failed (rc->gone if the domain went). */
static void restore_site(struct recovery *rc, const struct dt_guard_site *s)
{
	enum site_state state;
	uint8_t *page;
	bool wrote;
	int r, err = -EIO;

	if (!site_valid(s)) {
		rc->res.failed++; /* a damaged journal entry: touch nothing */
		return;
	}
	r = site_state(rc, s, &state);
	if (r < 0)
		goto fail;
	if (state == SITE_ORIG) {
		rc->res.clean++;
		return;
	}
	if (state == SITE_FOREIGN) {
		rc->res.foreign++;
		return;
	}

	page = rc->sys->map(rc->sd, s->gpa >> DT_XEN_PAGE_SHIFT, true, &err);
	if (!page) {
		r = err < 0 ? err : -EIO;
		goto fail;
	}
	/* Looked at again through the mapping we write with: only ever over our bytes. */
	wrote = classify(s, page + (s->gpa & (DT_XEN_PAGE_SIZE - 1))) == SITE_ARMED;
	if (wrote)
		memcpy(page + (s->gpa & (DT_XEN_PAGE_SIZE - 1)), s->orig, s->len);
	rc->sys->unmap(rc->sd, page);
	if (!wrote) {
		rc->res.foreign++; /* changed under us (a backend's DMA: the vCPUs are paused) */
		return;
	}

	/* Read back through a new mapping: the write must have reached the guest's frame. */
	r = site_state(rc, s, &state);
	if (r == 0 && state != SITE_ORIG)
		r = -EIO;
	if (r < 0)
		goto fail;
	rc->res.restored++;
	return;
fail:
	rc->res.failed++;
	(void)gone_or(rc, r);
}

/*
 * Both trap monitors off, whichever flavour the dead process used. -EEXIST: already off;
 * -EOPNOTSUPP: this host cannot trap that way at all, so it cannot be on. Done while the
 * dead ring still exists: the DISABLE below clears the monitor flags too (vm_event_domctl
 * -> arch_monitor_cleanup_domain) but with a memset, which leaves descriptor-table exiting
 * switched on in the vCPUs (only xc_monitor_descriptor_access(.., false) turns it off).
 */
static int monitors_off(struct recovery *rc)
{
	static const enum dt_trap_flavour flavours[] = { DT_TRAP_INT3, DT_TRAP_SGDT };
	int first = 0, r;
	size_t i;

	for (i = 0; i < sizeof(flavours) / sizeof(flavours[0]); i++) {
		r = rc->sys->monitor_event(rc->sd, flavours[i], false);
		if (r == -EEXIST || r == -EOPNOTSUPP)
			r = 0;
		if (r < 0 && !first)
			first = r;
	}
	return first;
}

/*
 * Answer every vCPU through a ring of our own (see the top of the file). We cannot tell
 * which vCPUs the dead process left paused on a request (Xen does not say), so vCPUs
 * 0..max_vcpu_id all get a response; Xen acts on one only for a vCPU whose
 * vm_event_pause_count is not zero and ignores the others. *ret_answered counts the
 * responses Xen took, not the vCPUs that were really paused.
 */
static int release_vcpus(struct recovery *rc, uint32_t vcpus, unsigned *ret_answered)
{
	vm_event_response_t rsp;
	struct dt_xen_ring ring;
	void *ring_page = NULL;
	uint32_t remote_port, v = 0;
	unsigned batch;
	int r, d;

	/*
	 * Drop the dead ring. -EINVAL: there is none (vm_event_domctl's answer then; the dead
	 * process had disabled it): still answer, a vCPU may be paused all the same. -EBUSY:
	 * vCPUs wait for space in the dead ring, which nobody can empty any more.
	 */
	r = rc->sys->monitor_disable(rc->sd);
	if (r == -EINVAL)
		r = 0;
	if (r < 0)
		return r;
	r = rc->sys->monitor_enable(rc->sd, &ring_page, &remote_port);
	if (r < 0)
		return r;
	dt_xen_ring_init(&ring, ring_page, DT_XEN_PAGE_SIZE);

	/* More vCPUs than ring slots: in batches, each taken by Xen before the next. */
	while (v < vcpus) {
		for (batch = 0; v < vcpus; v++, batch++) {
			dt_xen_response_release(v, &rsp);
			if (dt_xen_ring_put_unasked(&ring, &rsp) < 0)
				break;
		}
		r = rc->sys->monitor_resume(rc->sd);
		if (r < 0)
			break;
		if (dt_xen_ring_responses_pending(&ring)) {
			r = -EIO; /* Xen did not take them: do not overwrite their slots */
			break;
		}
		*ret_answered += batch;
	}

	d = rc->sys->monitor_disable(rc->sd);
	rc->sys->ring_unmap(rc->sd, ring_page);
	return r < 0 ? r : d;
}

int dt_xen_recover(struct dt_hv *hv, uint32_t domid, const struct dt_guard_site *sites, size_t n,
		   unsigned pauses, struct dt_guard_result *ret_result)
{
	struct dt_xen_host_view view;
	struct dt_xen_dominfo info;
	struct recovery rc = { 0 };
	bool paused = false;
	size_t i;
	int r;

	if (domid == 0 || domid >= DT_XEN_MAX_DOMAINS || (n && !sites))
		return -EINVAL;
	dt_xen_host_view(hv, &view);
	rc.sys = view.sys;

	/* 1. Our own handles, no ring (the dead process's one is still enabled). */
	dt_xen_host_lock(hv);
	r = rc.sys->dom_attach(view.host, domid, &rc.sd);
	dt_xen_host_unlock(hv);
	if (r < 0)
		return r;
	r = rc.sys->dom_info(rc.sd, &info);
	if (r < 0)
		goto out;
	if (info.dying || info.vcpus == 0) {
		r = -ENODEV;
		goto out;
	}
	if (!info.hvm) {
		r = -EOPNOTSUPP; /* PV: never traced, so nothing of ours is there */
		goto out;
	}

	/* 2. Nothing runs while we look and write. */
	r = rc.sys->pause(rc.sd);
	if (r < 0) {
		r = gone_or(&rc, r);
		goto out;
	}
	paused = true;

	/* 3. The sites. */
	for (i = 0; i < n && !rc.gone; i++)
		restore_site(&rc, &sites[i]);

	/* 4. No more traps, 5. no vCPU left waiting for an answer. */
	if (!rc.gone)
		keep(&rc, monitors_off(&rc));
	if (!rc.gone)
		keep(&rc, release_vcpus(&rc, info.vcpus, &rc.res.vcpus));
	r = rc.gone ? -ENODEV : rc.first_err;
out:
	/* 6. Every path after the pause comes through here (a gone domain just fails). */
	if (paused) {
		int u = rc.sys->unpause(rc.sd);

		if (u < 0 && r == 0)
			r = gone_or(&rc, u);
		/* 7. Only now: our own pause covered the restoring whatever the dead held. */
		if (u == 0 && !rc.gone) {
			u = release_pauses(&rc, pauses);
			if (u < 0 && r == 0)
				r = u;
		}
	}
	rc.sys->dom_detach(rc.sd);
	if (r == 0)
		*ret_result = rc.res;
	return r;
}
