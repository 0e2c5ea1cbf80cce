// SPDX-License-Identifier: GPL-2.0-only
/*
 * sim_hv.c - dt_hv_sim: the hv.h operations over the simulated host (VMs: sim_host.c,
 * test hooks: sim_hooks.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "sim_vm.h"

/*
 * The work counters (hv.h struct dt_hv_work) count what the same op would cost on Xen
 * (xen/xen_dom.c), not what the sim does: a pause or a register read is one hypercall, a
 * register write two (get + set context), an answer one notify (two for a guest's own
 * int3: the re-injection first); taking a trap from the ring is free, acknowledging the
 * event channel when the ring is empty one call (pending) or two (pending, unmask) when a
 * trap had notified (xen_dom.c ack_events). Guest memory goes through a model of Xen's
 * mapping cache (xen_mapcache.c: MAP_SLOTS frames, clock replacement): a frame not in it
 * is one foreign mapping (one hypercall), then kept.
 */
#define MAP_SLOTS 512u	  /* DT_XEN_MAP_CACHE_DEFAULT */
#define MAP_BUCKETS 1024u /* a power of two */

struct map_slot {
	uint64_t gfn;
	int32_t next; /* hash chain, -1 = end */
	bool referenced;
};

struct sim_dom {
	struct sim_vm *vm;
	int pauses;
	struct dt_hv_work work; /* the worker's thread only, as every domain op */
	unsigned used, hand;
	int32_t bucket[MAP_BUCKETS];
	struct map_slot slot[MAP_SLOTS];
};

/* ---- host ---- */
static struct dt_sim_host *H(struct dt_hv *hv)
{
	return (struct dt_sim_host *)(void *)hv;
}

struct dt_sim_host *dt_sim_host_from(struct dt_hv *hv)
{
	struct dt_sim_host *h = H(hv);

	return h && h->magic == SIM_HOST_MAGIC ? h : NULL;
}

static void sim_close(struct dt_hv *hv);

static int sim_open(const void *params, struct dt_hv **ret_hv)
{
	const struct dt_sim_params *p = params;
	struct dt_sim_host *h;
	uint32_t i;
	int err;

	if (!p || p->n_vms > 64 || !p->vcpus || p->vcpus > SIM_MAX_VCPUS || p->mem_mib < 32 ||
	    p->mem_mib > 4096 || p->flavour >= _DT_SIM_FLAVOUR_MAX || p->ksyms >= _DT_SIM_KSYMS_MAX || p->rate < 0 ||
	    p->trap >= _DT_TRAP_FLAVOUR_MAX)
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->magic = SIM_HOST_MAGIC;
	h->p = *p;
	h->p.names = NULL;
	h->p.scenario = NULL;
	h->p.sysmap_dir = NULL;
	h->watch_efd = -1;
	pthread_mutex_init(&h->lock, NULL);
	err = dt_sim_cond_init_mono(&h->cond);
	if (err)
		goto fail_nocond;
	err = -ENOMEM;
	if (p->sysmap_dir && !(h->sysmap_dir = strdup(p->sysmap_dir)))
		goto fail;
	h->watch_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (h->watch_efd < 0) {
		err = -errno;
		goto fail;
	}
	for (i = 0; i < p->n_vms; i++) {
		struct dt_sim_vm_params vp = { 0 };

		if (p->names && p->names[i])
			snprintf(vp.name, sizeof(vp.name), "%s", p->names[i]);
		vp.flavour = p->flavour;
		vp.ksyms = p->ksyms;
		vp.build = p->flavour == DT_SIM_FLAVOUR_AUTO ? -1 : 0;
		vp.no_workload = !p->workload;
		err = dt_sim_vm_create(h, &vp, NULL);
		if (err) {
			if (p->err && p->errlen)
				snprintf(p->err, p->errlen, "sim: cannot create VM %u: %s", i,
					 strerror(-err));
			goto fail;
		}
	}
	if (p->pv_vm) {
		struct dt_sim_vm_params vp = { .pv = true, .vcpus = 1 };

		snprintf(vp.name, sizeof(vp.name), "sim-pv");
		err = dt_sim_vm_create(h, &vp, NULL);
		if (err)
			goto fail;
	}
	/* VMs present at open are found by list_vms(), not announced */
	h->nnotes = 0;
	dt_sim_drain(h->watch_efd);
	if (p->scenario) {
		err = dt_sim_scenario_load(h, p->scenario, p->err, p->errlen);
		if (err)
			goto fail;
	}
	*ret_hv = (struct dt_hv *)(void *)h;
	return 0;
fail:
	sim_close((struct dt_hv *)(void *)h);
	return err;
fail_nocond:
	pthread_mutex_destroy(&h->lock);
	free(h);
	return err;
}

static void sim_close(struct dt_hv *hv)
{
	struct dt_sim_host *h = dt_sim_host_from(hv);
	struct sim_vm *vm;

	if (!h)
		return;
	for (;;) {
		pthread_mutex_lock(&h->lock);
		vm = h->vms;
		if (vm)
			h->vms = vm->next;
		pthread_mutex_unlock(&h->lock);
		if (!vm)
			break;
		dt_sim_vm_kill(h, vm);
	}
	dt_sim_builds_free(h->builds);
	dt_sim_scripts_free(h->scripts);
	free(h->notes);
	free(h->crashes);
	free(h->labels);
	dt_sim_births_free(h);
	free(h->sysmap_dir);
	if (h->watch_efd >= 0)
		close(h->watch_efd);
	h->magic = 0;
	pthread_cond_destroy(&h->cond);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

static int sim_list_vms(struct dt_hv *hv, struct dt_vm_info **ret_vms, size_t *ret_n)
{
	struct dt_sim_host *h = dt_sim_host_from(hv);
	struct dt_vm_info *out;
	struct sim_vm *vm;
	size_t n = 0;

	if (!h)
		return -EINVAL;
	pthread_mutex_lock(&h->lock);
	for (vm = h->vms; vm; vm = vm->next)
		n++;
	out = calloc(n ? n : 1, sizeof(*out));
	if (!out) {
		pthread_mutex_unlock(&h->lock);
		return -ENOMEM;
	}
	n = 0;
	for (vm = h->vms; vm; vm = vm->next) {
		struct dt_vm_info *i = &out[n++];

		i->domid = vm->domid;
		snprintf(i->name, sizeof(i->name), "%s", vm->name);
		i->traceable = !vm->p.pv;
		if (vm->p.pv)
			snprintf(i->why, sizeof(i->why),
				 "PV guest: vm_event cannot trap it (needs HVM or PVH)");
		i->vcpus = vm->nvcpus;
	}
	pthread_mutex_unlock(&h->lock);
	*ret_vms = out;
	*ret_n = n;
	return 0;
}

static int sim_watch_fd(struct dt_hv *hv)
{
	struct dt_sim_host *h = dt_sim_host_from(hv);

	return h ? h->watch_efd : -EINVAL;
}

static int sim_watch_read(struct dt_hv *hv, struct dt_vm_note *ret_note)
{
	struct dt_sim_host *h = dt_sim_host_from(hv);
	int err = -EAGAIN;

	if (!h)
		return -EINVAL;
	pthread_mutex_lock(&h->lock);
	if (h->nnotes) {
		*ret_note = h->notes[0];
		memmove(h->notes, h->notes + 1, --h->nnotes * sizeof(*h->notes));
		err = 0;
	} else {
		dt_sim_drain(h->watch_efd);
	}
	pthread_mutex_unlock(&h->lock);
	return err;
}

/* ---- domains ---- */
static int sim_dom_open(struct dt_hv *hv, uint32_t domid, struct dt_hv_dom **ret_dom)
{
	struct dt_sim_host *h = dt_sim_host_from(hv);
	struct sim_vm *vm;
	struct sim_dom *d;
	int err = 0;

	if (!h)
		return -EINVAL;
	vm = dt_sim_vm_get(h, domid);
	if (!vm)
		return -ENODEV;
	if (vm->p.pv) {
		dt_sim_vm_put(vm);
		return -EOPNOTSUPP;
	}
	pthread_mutex_lock(&vm->lock);
	if (vm->dead || vm->dying)
		err = -ENODEV;
	else if (vm->opened)
		err = -EBUSY;
	else
		vm->opened = true;
	pthread_mutex_unlock(&vm->lock);
	d = err ? NULL : calloc(1, sizeof(*d));
	if (!err && !d) {
		pthread_mutex_lock(&vm->lock);
		vm->opened = false;
		pthread_mutex_unlock(&vm->lock);
		err = -ENOMEM;
	}
	if (err) {
		dt_sim_vm_put(vm);
		return err;
	}
	d->vm = vm;
	memset(d->bucket, 0xff, sizeof(d->bucket)); /* -1: empty */
	*ret_dom = (struct dt_hv_dom *)(void *)d;
	return 0;
}

static struct sim_dom *D(struct dt_hv_dom *dom)
{
	return (struct sim_dom *)(void *)dom;
}

static unsigned map_bucket(uint64_t gfn)
{
	return (unsigned)((gfn * 0x9E3779B97F4A7C15ull) >> 32) & (MAP_BUCKETS - 1);
}

/* One guest frame accessed through the modelled mapping cache. */
static void touch_frame(struct sim_dom *d, uint64_t pa)
{
	uint64_t gfn = pa >> 12;
	int32_t *link, i;

	for (i = d->bucket[map_bucket(gfn)]; i >= 0; i = d->slot[i].next)
		if (d->slot[i].gfn == gfn) {
			d->slot[i].referenced = true;
			d->work.map_hits++;
			return;
		}
	d->work.maps++;
	d->work.hypercalls++;
	if (d->used < MAP_SLOTS) {
		i = (int32_t)d->used++;
	} else {
		while (d->slot[d->hand].referenced) {
			d->slot[d->hand].referenced = false;
			d->hand = (d->hand + 1) % MAP_SLOTS;
		}
		i = (int32_t)d->hand;
		d->hand = (d->hand + 1) % MAP_SLOTS;
		for (link = &d->bucket[map_bucket(d->slot[i].gfn)]; *link != i;
		     link = &d->slot[*link].next)
			;
		*link = d->slot[i].next;
	}
	d->slot[i] = (struct map_slot){ .gfn = gfn, .next = d->bucket[map_bucket(gfn)],
					.referenced = true };
	d->bucket[map_bucket(gfn)] = i;
}

/* A page walk as Xen's walker does it: each table frame read through the cache. */
static int walk_counted(struct sim_dom *d, uint64_t cr3, uint64_t va, struct sim_walk *w)
{
	int r = dt_sim_walk(&d->vm->mem, cr3, va, w);
	unsigned i;

	d->work.walks++;
	for (i = 0; i < w->ntables; i++)
		touch_frame(d, w->tables[i]);
	return r;
}

/* A physical range of one page or less, read or written: its frames. */
static void touch_range(struct sim_dom *d, uint64_t pa, size_t n)
{
	uint64_t f;

	for (f = pa >> 12; n && f <= (pa + n - 1) >> 12; f++) {
		d->work.pages++;
		touch_frame(d, f << 12);
	}
}

static void sim_work(struct dt_hv_dom *dom, struct dt_hv_work *ret_work)
{
	*ret_work = D(dom)->work;
}

static void sim_dom_close(struct dt_hv_dom *dom)
{
	struct sim_dom *d = D(dom);
	struct sim_vm *vm;
	unsigned i;

	if (!d)
		return;
	vm = d->vm;
	pthread_mutex_lock(&vm->lock);
	atomic_store(&vm->trapping, false);
	/* answer every trap not yet resumed, unchanged */
	for (i = 0; i < vm->nvcpus; i++) {
		struct sim_vcpu *c = &vm->vcpu[i];

		if (c->trapped && !c->resumed) {
			c->how = DT_RESUME_RETRY;
			c->resumed = true;
		}
	}
	vm->tq_n = 0;
	if (vm->trap_efd >= 0)
		dt_sim_drain(vm->trap_efd);
	vm->pause_count -= d->pauses;
	d->pauses = 0;
	vm->opened = false;
	dt_sim_update_stop(vm);
	dt_sim_vm_wake(vm);
	pthread_mutex_unlock(&vm->lock);
	dt_sim_vm_put(vm);
	free(d);
}

static bool any_running(const struct sim_vm *vm)
{
	unsigned i;

	for (i = 0; i < vm->nvcpus; i++)
		if (vm->vcpu[i].started && vm->vcpu[i].state == VS_RUNNING)
			return true;
	return false;
}

static int sim_pause(struct dt_hv_dom *dom)
{
	struct sim_dom *d = D(dom);
	struct sim_vm *vm = d->vm;
	int err = 0;

	d->work.hypercalls++;
	pthread_mutex_lock(&vm->lock);
	if (vm->dead || vm->dying) {
		err = -ENODEV;
	} else {
		vm->pause_count++;
		d->pauses++;
		dt_sim_update_stop(vm);
		dt_sim_vm_wake(vm);
		while (!vm->dying && any_running(vm))
			pthread_cond_wait(&vm->cond, &vm->lock);
	}
	pthread_mutex_unlock(&vm->lock);
	return err;
}

static int sim_unpause(struct dt_hv_dom *dom)
{
	struct sim_dom *d = D(dom);
	struct sim_vm *vm = d->vm;
	int err = 0;

	d->work.hypercalls++;
	pthread_mutex_lock(&vm->lock);
	if (vm->dead || vm->dying) {
		err = -ENODEV;
	} else if (!d->pauses) {
		err = -EINVAL;
	} else {
		vm->pause_count--;
		d->pauses--;
		dt_sim_update_stop(vm);
		dt_sim_vm_wake(vm);
	}
	pthread_mutex_unlock(&vm->lock);
	return err;
}

static int sim_vcpu_count(struct dt_hv_dom *dom)
{
	struct sim_vm *vm = D(dom)->vm;

	return atomic_load(&vm->gone) ? -ENODEV : (int)vm->nvcpus;
}

static int sim_get_regs(struct dt_hv_dom *dom, uint32_t vcpu, struct dt_regs *ret_regs)
{
	struct sim_vm *vm = D(dom)->vm;
	int err = 0;

	D(dom)->work.hypercalls++; /* xc_domain_hvm_getcontext_partial */
	pthread_mutex_lock(&vm->lock);
	if (vm->dead || vm->dying)
		err = -ENODEV;
	else if (vcpu >= vm->nvcpus)
		err = -EINVAL;
	else if (vm->vcpu[vcpu].state == VS_RUNNING)
		err = -EBUSY; /* pause the domain first */
	else
		*ret_regs = vm->vcpu[vcpu].regs;
	pthread_mutex_unlock(&vm->lock);
	return err;
}

static int sim_set_regs(struct dt_hv_dom *dom, uint32_t vcpu, const struct dt_regs *r)
{
	struct sim_vm *vm = D(dom)->vm;
	struct dt_regs *c;
	int err = 0;

	D(dom)->work.hypercalls += 2; /* xc_vcpu_getcontext + xc_vcpu_setcontext */
	pthread_mutex_lock(&vm->lock);
	if (vm->dead || vm->dying) {
		err = -ENODEV;
	} else if (vcpu >= vm->nvcpus || !r) {
		err = -EINVAL;
	} else if (vm->vcpu[vcpu].state == VS_RUNNING) {
		err = -EBUSY;
	} else {
		c = &vm->vcpu[vcpu].regs;
		c->rax = r->rax, c->rbx = r->rbx, c->rcx = r->rcx, c->rdx = r->rdx;
		c->rsi = r->rsi, c->rdi = r->rdi, c->rbp = r->rbp, c->rsp = r->rsp;
		c->r8 = r->r8, c->r9 = r->r9, c->r10 = r->r10, c->r11 = r->r11;
		c->r12 = r->r12, c->r13 = r->r13, c->r14 = r->r14, c->r15 = r->r15;
		c->rip = r->rip, c->rflags = r->rflags;
	}
	pthread_mutex_unlock(&vm->lock);
	return err;
}

/* Guest bytes read while the domain is paused whole: the most within one pause. */
static void count_paused_read(struct sim_vm *vm, size_t n)
{
	uint64_t cur, max;

	if (!n || !atomic_load_explicit(&vm->in_pause, memory_order_relaxed))
		return;
	cur = atomic_fetch_add(&vm->pause_read_cur, n) + n;
	max = atomic_load(&vm->pause_read_max);
	while (cur > max && !atomic_compare_exchange_weak(&vm->pause_read_max, &max, cur))
		;
}

static ssize_t sim_read_va(struct dt_hv_dom *dom, uint64_t cr3, uint64_t va, void *buf,
			   size_t len)
{
	struct sim_dom *d = D(dom);
	struct sim_vm *vm = d->vm;
	size_t done = 0;

	if (atomic_load(&vm->gone))
		return -ENODEV;
	if (!buf && len)
		return -EINVAL;
	/* dt_sim_read_va, page by page, counted */
	while (done < len) {
		struct sim_walk w;
		uint64_t in_page = 4096 - ((va + done) & 4095), n;

		if (walk_counted(d, cr3, va + done, &w))
			break;
		n = len - done < in_page ? len - done : in_page;
		touch_range(d, w.pa, n);
		dt_sim_gcopy_out(&vm->mem, w.pa, (uint8_t *)buf + done, n);
		done += n;
	}
	count_paused_read(vm, done);
	return (ssize_t)done;
}

static int sim_write_va(struct dt_hv_dom *dom, uint64_t cr3, uint64_t va, const void *buf,
			size_t len)
{
	struct sim_dom *d = D(dom);
	struct sim_vm *vm = d->vm;
	size_t done;

	if (atomic_load(&vm->gone))
		return -ENODEV;
	if (!buf && len)
		return -EINVAL;
	for (done = 0; done < len;) {
		uint64_t in_page = 4096 - ((va + done) & 4095), n;
		struct sim_walk w;

		if (walk_counted(d, cr3, va + done, &w))
			break;
		n = len - done < in_page ? len - done : in_page;
		touch_range(d, w.pa, n);
		done += n;
	}
	return dt_sim_write_va(&vm->mem, cr3, va, buf, len);
}

static ssize_t sim_read_pa(struct dt_hv_dom *dom, uint64_t gpa, void *buf, size_t len)
{
	struct sim_vm *vm = D(dom)->vm;
	size_t done;

	if (atomic_load(&vm->gone))
		return -ENODEV;
	if (gpa >= vm->mem.size)
		return 0;
	if (len > vm->mem.size - gpa)
		len = vm->mem.size - gpa;
	for (done = 0; done < len;) {
		size_t n = 4096 - ((gpa + done) & 4095);

		n = n < len - done ? n : len - done;
		touch_range(D(dom), gpa + done, n);
		done += n;
	}
	dt_sim_gcopy_out(&vm->mem, gpa, buf, len);
	count_paused_read(vm, len);
	return (ssize_t)len;
}

static int sim_write_pa(struct dt_hv_dom *dom, uint64_t gpa, const void *buf, size_t len)
{
	struct sim_vm *vm = D(dom)->vm;
	size_t done;

	if (atomic_load(&vm->gone))
		return -ENODEV;
	if (gpa >= vm->mem.size || len > vm->mem.size - gpa)
		return -EFAULT;
	for (done = 0; done < len;) {
		size_t n = 4096 - ((gpa + done) & 4095);

		n = n < len - done ? n : len - done;
		touch_range(D(dom), gpa + done, n);
		done += n;
	}
	dt_sim_gcopy_in(&vm->mem, gpa, buf, len);
	return 0;
}

static int sim_translate(struct dt_hv_dom *dom, uint64_t cr3, uint64_t va, uint64_t *ret_gpa)
{
	struct sim_vm *vm = D(dom)->vm;
	struct sim_walk w;

	if (atomic_load(&vm->gone))
		return -ENODEV;
	if (walk_counted(D(dom), cr3, va, &w))
		return -EFAULT;
	*ret_gpa = w.pa;
	return 0;
}

static void sim_flush_cache(struct dt_hv_dom *dom)
{
	(void)dom; /* no translation cache: every access walks the guest's tables */
}

static int sim_trap_insn(struct dt_hv_dom *dom, struct dt_trap_insn *ret)
{
	struct sim_vm *vm = D(dom)->vm;
	static const uint8_t sgdt[5] = { 0x0f, 0x01, 0x44, 0x24, 0xf0 };

	memset(ret, 0, sizeof(*ret));
	if (vm->trap == DT_TRAP_SGDT) {
		memcpy(ret->bytes, sgdt, 5);
		ret->len = 5;
	} else {
		ret->bytes[0] = 0xcc;
		ret->len = 1;
	}
	return 0;
}

static int sim_set_trapping(struct dt_hv_dom *dom, bool on)
{
	struct sim_vm *vm = D(dom)->vm;
	int err = 0;

	pthread_mutex_lock(&vm->lock);
	if (vm->dead || vm->dying)
		err = -ENODEV;
	else
		atomic_store(&vm->trapping, on);
	pthread_mutex_unlock(&vm->lock);
	return err;
}

static int sim_trap_fd(struct dt_hv_dom *dom)
{
	struct sim_vm *vm = D(dom)->vm;

	return atomic_load(&vm->gone) ? -ENODEV : vm->trap_efd;
}

static int sim_next_trap(struct dt_hv_dom *dom, struct dt_trap *ret)
{
	struct sim_vm *vm = D(dom)->vm;
	int err = 0;

	pthread_mutex_lock(&vm->lock);
	if (vm->dead || vm->dying) {
		err = -ENODEV;
	} else if (!vm->tq_n) {
		uint64_t v;

		/* the ack: xenevtchn_pending, and xenevtchn_unmask when a trap notified. One
		 * read clears the (non-semaphore) eventfd: the vCPUs write it under vm->lock,
		 * so nothing can arrive between it and a second one. */
		D(dom)->work.hypercalls += read(vm->trap_efd, &v, 8) == 8 ? 2 : 1;
		err = -EAGAIN;
	} else {
		*ret = vm->tq[0];
		if ((ret->token >> 48) < vm->nvcpus)
			vm->vcpu[ret->token >> 48].taken_ns = dt_sim_now_ns();
		memmove(vm->tq, vm->tq + 1, --vm->tq_n * sizeof(*vm->tq));
	}
	pthread_mutex_unlock(&vm->lock);
	return err;
}

static int sim_resume(struct dt_hv_dom *dom, const struct dt_trap *trap, enum dt_resume_how how,
		      const struct dt_regs *regs)
{
	struct sim_vm *vm = D(dom)->vm;
	uint64_t id;
	struct sim_vcpu *c;
	uint64_t called_ns;
	int err = 0;

	if (!trap || how < DT_RESUME_SET_REGS || how > DT_RESUME_NOT_OURS ||
	    (how == DT_RESUME_SET_REGS && !regs))
		return -EINVAL;
	id = trap->token >> 48;
	called_ns = dt_sim_now_ns();
	pthread_mutex_lock(&vm->lock);
	if (vm->dead || vm->dying) {
		err = -ENODEV;
		goto out;
	}
	if (id >= vm->nvcpus) {
		err = -EINVAL;
		goto out;
	}
	c = &vm->vcpu[id];
	if (!c->trapped || c->resumed || c->token != trap->token) {
		err = -EINVAL;
		goto out;
	}
	c->how = how;
	/* xenevtchn_notify; a guest's own int3 is re-injected first (xc_hvm_inject_trap) */
	D(dom)->work.hypercalls += how == DT_RESUME_NOT_OURS && trap->reason == DT_TRAP_BREAKPOINT ? 2 : 1;
	if (regs)
		c->rregs = *regs;
	c->resumed = true;
	if (c->taken_ns)
		dt_lat_add(&vm->ctr.held_lat, called_ns - c->taken_ns);
	c->taken_ns = 0;
	pthread_mutex_unlock(&vm->lock);
	/* that vCPU only (xenevtchn_notify), after the unlock: woken under the lock, it
	 * would wait for the lock at once and be woken a second time. Its condition lives
	 * as long as the VM, which our handle keeps. */
	pthread_cond_signal(&c->cond);
	dt_lat_add(&vm->ctr.answer_lat, dt_sim_now_ns() - called_ns);
	return 0;
out:
	pthread_mutex_unlock(&vm->lock);
	return err;
}

const struct dt_hv_ops dt_hv_sim = {
	.name = "sim",
	.abi = DT_HV_ABI,
	.open = sim_open,
	.close = sim_close,
	.list_vms = sim_list_vms,
	.watch_fd = sim_watch_fd,
	.watch_read = sim_watch_read,
	.dom_open = sim_dom_open,
	.dom_close = sim_dom_close,
	.recover = NULL, /* its guests live in our process and die with it */
	.pause = sim_pause,
	.unpause = sim_unpause,
	.vcpu_count = sim_vcpu_count,
	.get_regs = sim_get_regs,
	.set_regs = sim_set_regs,
	.read_va = sim_read_va,
	.write_va = sim_write_va,
	.read_pa = sim_read_pa,
	.write_pa = sim_write_pa,
	.translate = sim_translate,
	.flush_cache = sim_flush_cache,
	.trap_insn = sim_trap_insn,
	.set_trapping = sim_set_trapping,
	.trap_fd = sim_trap_fd,
	.next_trap = sim_next_trap,
	.resume = sim_resume,
	.work = sim_work,
};
