// SPDX-License-Identifier: GPL-2.0-only
/*
 * sim_hooks.c - the test hooks of sim/include/domtrace/sim.h: the truth about the simulated guests.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim_vm.h"

int dt_sim_kernel_info(struct dt_sim_host *h, uint32_t domid, struct dt_sim_kernel_info *ret)
{
	struct sim_vm *vm = h ? dt_sim_vm_get(h, domid) : NULL;

	if (!vm)
		return -ENOENT;
	if (vm->p.pv) {
		dt_sim_vm_put(vm);
		return -EOPNOTSUPP;
	}
	memset(ret, 0, sizeof(*ret));
	snprintf(ret->release, sizeof(ret->release), "%s", vm->b->release);
	ret->flavour = vm->b->flavour;
	ret->build = vm->b->build;
	ret->kaslr_offset = vm->kaslr;
	ret->text = dt_sim_kva(vm, 0);
	ret->page_offset_base = vm->pob;
	ret->init_task = dt_sim_kva(vm, vm->b->off_init_task);
	ret->kernel_cr3 = vm->kpgd;
	ret->vcpus = vm->nvcpus;
	ret->trap = vm->trap;
	snprintf(ret->sysmap_path, sizeof(ret->sysmap_path), "%s", vm->map_path);
	snprintf(ret->profile_path, sizeof(ret->profile_path), "%s", vm->prof_path);
	dt_sim_vm_put(vm);
	return 0;
}

int dt_sim_symbol(struct dt_sim_host *h, uint32_t domid, const char *name, uint64_t *ret_addr)
{
	struct sim_vm *vm = h ? dt_sim_vm_get(h, domid) : NULL;
	uint64_t a;
	bool percpu;
	int err;

	if (!vm)
		return -ENOENT;
	err = vm->b ? dt_sim_build_sym(vm->b, name, &a, &percpu) : -EOPNOTSUPP;
	if (!err)
		*ret_addr = percpu ? a : a + vm->kaslr;
	dt_sim_vm_put(vm);
	return err;
}

int dt_sim_offsets(struct dt_sim_host *h, uint32_t domid, struct dt_sim_offsets *ret)
{
	struct sim_vm *vm = h ? dt_sim_vm_get(h, domid) : NULL;

	if (!vm)
		return -ENOENT;
	if (!vm->b) {
		dt_sim_vm_put(vm);
		return -EOPNOTSUPP;
	}
	*ret = vm->b->l.o;
	dt_sim_vm_put(vm);
	return 0;
}

size_t dt_sim_crashes(struct dt_sim_host *h, uint32_t domid, struct dt_sim_crash *out,
		      size_t max)
{
	size_t i, n = 0;

	if (!h)
		return 0;
	pthread_mutex_lock(&h->lock);
	for (i = 0; i < h->ncrash; i++) {
		if (domid && h->crashes[i].domid != domid)
			continue;
		if (out && n < max)
			out[n] = h->crashes[i];
		n++;
	}
	pthread_mutex_unlock(&h->lock);
	return n;
}

/* References to the VMs (domid 0: all), taken under host->lock and used without it:
 * the lock order is vm->lock before host->lock. */
static size_t vms_ref(struct dt_sim_host *h, uint32_t domid, struct sim_vm ***ret)
{
	struct sim_vm *vm, **arr;
	size_t n = 0;

	pthread_mutex_lock(&h->lock);
	for (vm = h->vms; vm; vm = vm->next)
		n++;
	arr = calloc(n ? n : 1, sizeof(*arr));
	n = 0;
	for (vm = arr ? h->vms : NULL; vm; vm = vm->next) {
		if (domid && vm->domid != domid)
			continue;
		atomic_fetch_add(&vm->refs, 1);
		arr[n++] = vm;
	}
	pthread_mutex_unlock(&h->lock);
	*ret = arr;
	return n;
}

static void vms_unref(struct sim_vm **arr, size_t n)
{
	while (n--)
		dt_sim_vm_put(arr[n]);
	free(arr);
}

unsigned dt_sim_paused_vcpus(struct dt_sim_host *h, uint32_t domid)
{
	struct sim_vm **vms;
	size_t nv, k;
	unsigned n = 0, i;

	if (!h)
		return 0;
	nv = vms_ref(h, domid, &vms);
	for (k = 0; k < nv; k++) {
		struct sim_vm *vm = vms[k];
		unsigned trapped = 0;

		if (vm->p.pv)
			continue;
		pthread_mutex_lock(&vm->lock);
		for (i = 0; i < vm->nvcpus; i++)
			if (vm->vcpu[i].trapped && !vm->vcpu[i].resumed)
				trapped++;
		n += vm->pause_count > 0 ? vm->nvcpus : trapped;
		pthread_mutex_unlock(&vm->lock);
	}
	vms_unref(vms, nv);
	return n;
}

bool dt_sim_any_paused(struct dt_sim_host *h)
{
	return dt_sim_paused_vcpus(h, 0) > 0;
}

struct dt_sim_snapshot {
	struct dt_sim_snapshot *next; /* h->births; set once, under h->lock */
	uint32_t domid;
	uint64_t base; /* runtime _text */
	size_t len;
	uint8_t bytes[];
};

static int phys_access(struct dt_sim_host *h, uint32_t domid, uint64_t gpa, void *rbuf,
		       const void *wbuf, size_t len)
{
	struct sim_vm *vm = h ? dt_sim_vm_get(h, domid) : NULL;
	int r = 0;

	if (!vm)
		return -ENOENT;
	if (gpa > vm->mem.size || len > vm->mem.size - gpa)
		r = -EFAULT;
	else if (rbuf)
		dt_sim_gcopy_out(&vm->mem, gpa, rbuf, len);
	else
		dt_sim_gcopy_in(&vm->mem, gpa, wbuf, len);
	dt_sim_vm_put(vm);
	return r;
}

int dt_sim_phys_read(struct dt_sim_host *h, uint32_t domid, uint64_t gpa, void *buf, size_t len)
{
	return phys_access(h, domid, gpa, buf, NULL, len);
}

int dt_sim_phys_write(struct dt_sim_host *h, uint32_t domid, uint64_t gpa, const void *buf,
		      size_t len)
{
	return phys_access(h, domid, gpa, NULL, buf, len);
}

/* The kernel text + rodata of vm now (sim_priv.h: also used before the VM is published). */
int dt_sim_snapshot_of(struct sim_vm *vm, struct dt_sim_snapshot **ret)
{
	struct dt_sim_snapshot *s;

	if (!vm->b)
		return -EOPNOTSUPP;
	s = malloc(sizeof(*s) + vm->b->rodata_end);
	if (!s)
		return -ENOMEM;
	s->next = NULL;
	s->domid = vm->domid;
	s->base = dt_sim_kva(vm, 0);
	s->len = vm->b->rodata_end;
	dt_sim_gcopy_out(&vm->mem, SIM_KERNEL_PHYS, s->bytes, s->len);
	*ret = s;
	return 0;
}

int dt_sim_snapshot_take(struct dt_sim_host *h, uint32_t domid, struct dt_sim_snapshot **ret)
{
	struct sim_vm *vm = h ? dt_sim_vm_get(h, domid) : NULL;
	int r;

	if (!vm)
		return -ENOENT;
	r = dt_sim_snapshot_of(vm, ret);
	dt_sim_vm_put(vm);
	return r;
}

int dt_sim_snapshot_compare(struct dt_sim_host *h, const struct dt_sim_snapshot *snap,
			    uint64_t *ret_first_diff)
{
	struct sim_vm *vm = h && snap ? dt_sim_vm_get(h, snap->domid) : NULL;
	uint8_t *now;
	size_t i;
	int rc = 0;

	if (!vm)
		return -ENOENT;
	now = malloc(snap->len);
	if (!now) {
		dt_sim_vm_put(vm);
		return -ENOMEM;
	}
	dt_sim_gcopy_out(&vm->mem, SIM_KERNEL_PHYS, now, snap->len);
	for (i = 0; i < snap->len; i++) {
		if (now[i] != snap->bytes[i]) {
			if (ret_first_diff)
				*ret_first_diff = snap->base + i;
			rc = 1;
			break;
		}
	}
	free(now);
	dt_sim_vm_put(vm);
	return rc;
}

void dt_sim_snapshot_free(struct dt_sim_snapshot *snap)
{
	free(snap);
}

void dt_sim_birth_add_locked(struct dt_sim_host *h, struct dt_sim_snapshot *s)
{
	s->next = h->births;
	h->births = s;
}

void dt_sim_births_free(struct dt_sim_host *h)
{
	while (h->births) {
		struct dt_sim_snapshot *s = h->births;

		h->births = s->next;
		free(s);
	}
}

int dt_sim_check_kernels(struct dt_sim_host *h, struct dt_sim_kernel_check *ret)
{
	const struct dt_sim_snapshot *s;

	memset(ret, 0, sizeof(*ret));
	if (!h || !h->p.snapshot_vms)
		return -EINVAL;
	/* the list only grows at its head and lives until close: walk it unlocked */
	pthread_mutex_lock(&h->lock);
	s = h->births;
	pthread_mutex_unlock(&h->lock);
	for (; s; s = s->next) {
		uint64_t where = 0;
		int r = dt_sim_snapshot_compare(h, s, &where);

		ret->vms++;
		if (r == -ENOENT) {
			ret->destroyed++;
		} else if (r == 0) {
			ret->intact++;
		} else if (r == 1) {
			if (!ret->differ++) {
				ret->first_domid = s->domid;
				ret->first_addr = where;
			}
		} else {
			return r;
		}
	}
	return 0;
}

size_t dt_sim_calls_read(struct dt_sim_host *h, uint32_t domid, uint64_t *cursor,
			 struct dt_sim_call *out, size_t max, uint64_t *ret_lost)
{
	struct sim_vm *vm = h ? dt_sim_vm_get(h, domid) : NULL;
	size_t n = 0;

	if (!vm || !vm->log) {
		dt_sim_vm_put(vm);
		return 0;
	}
	pthread_mutex_lock(&vm->lock);
	if (vm->log_n > SIM_LOG_CAP && *cursor < vm->log_n - SIM_LOG_CAP) {
		if (ret_lost)
			*ret_lost += vm->log_n - SIM_LOG_CAP - *cursor;
		*cursor = vm->log_n - SIM_LOG_CAP;
	}
	while (n < max && *cursor < vm->log_n) {
		out[n++] = vm->log[*cursor % SIM_LOG_CAP];
		(*cursor)++;
	}
	pthread_mutex_unlock(&vm->lock);
	dt_sim_vm_put(vm);
	return n;
}

static void deadline(struct timespec *ts, int timeout_ms)
{
	uint64_t t = dt_sim_now_ns() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000ULL;

	ts->tv_sec = (time_t)(t / 1000000000ULL);
	ts->tv_nsec = (long)(t % 1000000000ULL);
}

int dt_sim_scenario_wait(struct dt_sim_host *h, int timeout_ms)
{
	struct timespec ts;
	int err = 0;

	if (!h)
		return -EINVAL;
	deadline(&ts, timeout_ms);
	pthread_mutex_lock(&h->lock);
	while (h->scripts_running && !err)
		err = pthread_cond_timedwait(&h->cond, &h->lock, &ts);
	err = h->scripts_running ? -ETIMEDOUT : 0;
	pthread_mutex_unlock(&h->lock);
	return err;
}

static int outcome_locked(struct dt_sim_host *h, const char *label, struct dt_sim_call *ret)
{
	size_t i;

	for (i = 0; i < h->nlabels; i++) {
		if (strcmp(h->labels[i].label, label))
			continue;
		if (!h->labels[i].call.done)
			return -EAGAIN;
		if (ret)
			*ret = h->labels[i].call;
		return 0;
	}
	return -ENOENT;
}

int dt_sim_call_outcome(struct dt_sim_host *h, const char *label, struct dt_sim_call *ret)
{
	int err;

	if (!h || !label)
		return -EINVAL;
	pthread_mutex_lock(&h->lock);
	err = outcome_locked(h, label, ret);
	pthread_mutex_unlock(&h->lock);
	return err;
}

int dt_sim_call_wait(struct dt_sim_host *h, const char *label, int timeout_ms,
		     struct dt_sim_call *ret)
{
	struct timespec ts;
	int err;

	if (!h || !label)
		return -EINVAL;
	deadline(&ts, timeout_ms);
	pthread_mutex_lock(&h->lock);
	while ((err = outcome_locked(h, label, ret)) == -EAGAIN)
		if (pthread_cond_timedwait(&h->cond, &h->lock, &ts)) {
			err = outcome_locked(h, label, ret);
			if (err == -EAGAIN)
				err = -ETIMEDOUT;
			break;
		}
	pthread_mutex_unlock(&h->lock);
	return err;
}

static void task_info(const struct sim_task *t, struct dt_sim_task *o)
{
	memset(o, 0, sizeof(*o));
	o->pid = t->idle ? 0 : t->pid;
	o->tgid = t->idle ? 0 : t->tgid;
	o->ppid = t->parent ? (t->parent->idle ? 0 : t->parent->pid) : 0;
	o->real_ppid = o->ppid;
	o->uid = t->ids[0], o->gid = t->ids[1], o->suid = t->ids[2], o->sgid = t->ids[3];
	o->euid = t->ids[4], o->egid = t->ids[5], o->fsuid = t->ids[6], o->fsgid = t->ids[7];
	memcpy(o->comm, t->comm, sizeof(o->comm));
	o->comm[15] = 0;
	o->task_va = t->va;
	o->zombie = t->state == TS_ZOMBIE;
	o->kthread = t->kthread;
	o->compat = t->compat;
	o->on_vcpu = -1;
	if (t->in_call) {
		o->call_seq = t->call.seq;
		o->call_nr = t->call.nr;
		o->call_compat = t->call.compat;
		o->call_body_ran = t->call.body_ran;
	}
}

int dt_sim_tasks(struct dt_sim_host *h, uint32_t domid, struct dt_sim_task **ret_tasks,
		 size_t *ret_n)
{
	struct sim_vm *vm = h ? dt_sim_vm_get(h, domid) : NULL;
	struct dt_sim_task *out;
	struct sim_task *t;
	size_t n = 1, i;
	unsigned c;

	if (!vm)
		return -ENOENT;
	if (vm->p.pv) {
		dt_sim_vm_put(vm);
		return -EOPNOTSUPP;
	}
	pthread_mutex_lock(&vm->lock);
	for (t = vm->tasks; t; t = t->next_all)
		n++;
	out = calloc(n, sizeof(*out));
	if (!out) {
		pthread_mutex_unlock(&vm->lock);
		dt_sim_vm_put(vm);
		return -ENOMEM;
	}
	/* guest list order: init_task, then creation order (the host list is newest first) */
	task_info(vm->idle[0], &out[0]);
	i = n;
	for (t = vm->tasks; t; t = t->next_all)
		task_info(t, &out[--i]);
	for (c = 0; c < vm->nvcpus; c++) {
		const struct sim_task *r = vm->vcpu[c].task;

		for (i = 1; r && i < n; i++)
			if (out[i].task_va == r->va)
				out[i].on_vcpu = (int)c;
	}
	pthread_mutex_unlock(&vm->lock);
	dt_sim_vm_put(vm);
	*ret_tasks = out;
	*ret_n = n;
	return 0;
}

static void add(struct dt_sim_counters *s, const struct dt_sim_counters *c)
{
	s->calls += c->calls, s->calls_done += c->calls_done, s->aborted += c->aborted;
	s->traps += c->traps, s->resumes += c->resumes, s->crashes += c->crashes;
	s->forks += c->forks, s->execs += c->execs, s->exits += c->exits;
	s->switches += c->switches, s->migrations += c->migrations, s->insns += c->insns;
	dt_lat_merge(&s->trap_lat, &c->trap_lat);
	dt_lat_merge(&s->held_lat, &c->held_lat);
	dt_lat_merge(&s->answer_lat, &c->answer_lat);
}

int dt_sim_counters(struct dt_sim_host *h, uint32_t domid, struct dt_sim_counters *ret)
{
	struct sim_vm **vms;
	size_t nv, k;

	if (!h)
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	nv = vms_ref(h, domid, &vms);
	for (k = 0; k < nv; k++) {
		pthread_mutex_lock(&vms[k]->lock);
		add(ret, &vms[k]->ctr);
		pthread_mutex_unlock(&vms[k]->lock);
		if (atomic_load(&vms[k]->pause_read_max) > ret->pause_read_max)
			ret->pause_read_max = atomic_load(&vms[k]->pause_read_max);
	}
	vms_unref(vms, nv);
	return domid && !nv ? -ENOENT : 0;
}
