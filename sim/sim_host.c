// SPDX-License-Identifier: GPL-2.0-only
/*
 * sim_host.c - the simulated host's VMs: creation (build, memory, KASLR, boot, vCPUs),
 * destruction, the domain notes the watcher reads, crash and label records, scenario
 * loading. The hv.h operations are in sim_hv.c.
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

uint64_t dt_sim_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void dt_sim_params_default(struct dt_sim_params *p)
{
	memset(p, 0, sizeof(*p));
	p->n_vms = 2;
	p->vcpus = 2;
	p->mem_mib = 64;
	p->flavour = DT_SIM_FLAVOUR_AUTO;
	p->seed = 1;
	p->rate = 200;
	p->workload = true;
	p->trap = DT_TRAP_INT3;
}

void dt_sim_drain(int fd)
{
	uint64_t v;

	while (read(fd, &v, 8) == 8)
		;
}

static void kick(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, 8) < 0) {
		/* the counter cannot overflow in practice: nothing to do */
	}
}

int dt_sim_cond_init_mono(pthread_cond_t *c)
{
	pthread_condattr_t a;
	int err;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	err = pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
	return -err;
}

/* ---- notes ---- */
static void note(struct dt_sim_host *h, enum dt_vm_change ch, const struct sim_vm *vm)
{
	struct dt_vm_note *n;

	if (h->nnotes == h->capnotes) {
		size_t cap = h->capnotes ? h->capnotes * 2 : 16;

		n = realloc(h->notes, cap * sizeof(*n));
		if (!n)
			return;
		h->notes = n;
		h->capnotes = cap;
	}
	n = &h->notes[h->nnotes++];
	memset(n, 0, sizeof(*n));
	n->change = ch;
	n->info.domid = vm->domid;
	snprintf(n->info.name, sizeof(n->info.name), "%s", vm->name);
	n->info.traceable = !vm->p.pv;
	if (vm->p.pv)
		snprintf(n->info.why, sizeof(n->info.why),
			 "PV guest: vm_event cannot trap it (needs HVM or PVH)");
	n->info.vcpus = vm->nvcpus;
	kick(h->watch_efd);
}

/* ---- VMs ---- */
static void vm_free(struct sim_vm *vm)
{
	if (!vm)
		return;
	dt_sim_kernel_free(vm);
	dt_sim_mem_fini(&vm->mem);
	free(vm->tq);
	free(vm->log);
	dt_sim_vfs_free(vm);
	for (unsigned i = 0; vm->vcpu && i < vm->nvcpus; i++)
		if (vm->vcpu[i].cond_ok)
			pthread_cond_destroy(&vm->vcpu[i].cond);
	free(vm->vcpu);
	if (vm->trap_efd >= 0)
		close(vm->trap_efd);
	pthread_mutex_destroy(&vm->lock);
	pthread_cond_destroy(&vm->cond);
	free(vm);
}

void dt_sim_vm_put(struct sim_vm *vm)
{
	if (vm && atomic_fetch_sub(&vm->refs, 1) == 1)
		vm_free(vm);
}

struct sim_vm *dt_sim_vm_get(struct dt_sim_host *h, uint32_t domid)
{
	struct sim_vm *vm;

	pthread_mutex_lock(&h->lock);
	for (vm = h->vms; vm; vm = vm->next)
		if (vm->domid == domid)
			break;
	if (vm)
		atomic_fetch_add(&vm->refs, 1);
	pthread_mutex_unlock(&h->lock);
	return vm;
}

int dt_sim_vm_create(struct dt_sim_host *h, const struct dt_sim_vm_params *p,
		     uint32_t *ret_domid)
{
	return dt_sim_vm_create_snapshot(h, p, ret_domid, NULL);
}

int dt_sim_vm_create_snapshot(struct dt_sim_host *h, const struct dt_sim_vm_params *p,
			      uint32_t *ret_domid, struct dt_sim_snapshot **ret_snap)
{
	struct dt_sim_snapshot *birth = NULL;
	struct sim_vm *vm, *o;
	unsigned index;
	uint64_t seed;
	int err = -ENOMEM;

	if (ret_snap)
		*ret_snap = NULL;
	if (!h || !p)
		return -EINVAL;
	if (p->vcpus > SIM_MAX_VCPUS || (p->mem_mib && (p->mem_mib < 32 || p->mem_mib > 4096)) ||
	    p->flavour >= _DT_SIM_FLAVOUR_MAX || p->ksyms >= _DT_SIM_KSYMS_MAX)
		return -EINVAL;
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	atomic_init(&vm->refs, 1);
	vm->h = h;
	vm->trap_efd = -1;
	vm->p = *p;
	pthread_mutex_init(&vm->lock, NULL);
	err = dt_sim_cond_init_mono(&vm->cond);
	if (err) {
		free(vm);
		return err;
	}
	pthread_mutex_lock(&h->lock);
	index = h->next_index++;
	vm->domid = ++h->next_domid;
	if (p->name[0])
		snprintf(vm->name, sizeof(vm->name), "%s", p->name);
	else
		snprintf(vm->name, sizeof(vm->name), "sim-vm%u", index);
	for (o = h->vms; o; o = o->next)
		if (!strcmp(o->name, vm->name))
			break;
	pthread_mutex_unlock(&h->lock);
	err = -EEXIST;
	if (o)
		goto fail;
	snprintf(vm->p.name, sizeof(vm->p.name), "%s", vm->name);
	vm->nvcpus = p->vcpus ? p->vcpus : h->p.vcpus;
	if (p->pv)
		goto link;
	if (vm->p.flavour == DT_SIM_FLAVOUR_AUTO)
		vm->p.flavour = index % 2 ? DT_SIM_FLAVOUR_66 : DT_SIM_FLAVOUR_61;
	if (vm->p.build < 0)
		vm->p.build = (int)(index / 2);
	seed = p->seed ? p->seed : h->p.seed * 1000003ULL + vm->domid;
	vm->seed = seed;
	(void)sim_rand(&vm->seed);
	vm->trap = h->p.trap;
	vm->rate = h->p.rate;
	vm->workload = !p->no_workload;
	if (vm->p.ksyms == DT_SIM_KSYMS_AUTO)
		vm->p.ksyms = h->p.ksyms;
	err = dt_sim_build_get(h, vm->p.flavour, vm->p.build, vm->p.ksyms, &vm->b);
	if (err)
		goto fail;
	err = dt_sim_mem_init(&vm->mem, (uint64_t)(p->mem_mib ? p->mem_mib : h->p.mem_mib) << 20);
	if (err)
		goto fail;
	if (!h->p.no_kaslr) {
		vm->kaslr = (1 + sim_rand_below(&vm->seed, 480)) * SIM_LARGE;
		vm->pob = SIM_PAGE_OFFSET + (sim_rand_below(&vm->seed, 64) << 30);
	} else {
		vm->pob = SIM_PAGE_OFFSET;
	}
	err = -ENOMEM;
	vm->vcpu = calloc(vm->nvcpus, sizeof(*vm->vcpu));
	vm->log = calloc(SIM_LOG_CAP, sizeof(*vm->log));
	if (!vm->vcpu || !vm->log)
		goto fail;
	for (index = 0; index < vm->nvcpus; index++) {
		vm->vcpu[index].vm = vm;
		vm->vcpu[index].id = index;
		vm->vcpu[index].seed = vm->seed ^ (0x1234567ULL * (index + 1));
		err = dt_sim_cond_init_mono(&vm->vcpu[index].cond);
		if (err)
			goto fail;
		vm->vcpu[index].cond_ok = true;
		err = -ENOMEM;
	}
	vm->trap_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (vm->trap_efd < 0) {
		err = -errno;
		goto fail;
	}
	if (h->sysmap_dir) {
		pthread_mutex_lock(&h->lock);
		err = dt_sim_build_write_files(vm->b, h->sysmap_dir, vm->map_path,
					       sizeof(vm->map_path), vm->prof_path,
					       sizeof(vm->prof_path));
		pthread_mutex_unlock(&h->lock);
		if (err)
			goto fail;
	}
	pthread_mutex_lock(&vm->lock);
	err = dt_sim_kernel_boot(vm);
	pthread_mutex_unlock(&vm->lock);
	if (err)
		goto fail;
	/* before anyone can see the VM: nothing but its own boot has touched its kernel */
	if (ret_snap) {
		err = dt_sim_snapshot_of(vm, ret_snap);
		if (err)
			goto fail;
	}
	if (h->p.snapshot_vms)
		err = dt_sim_snapshot_of(vm, &birth);
	if (!err)
		err = dt_sim_vcpus_start(vm);
	if (err) {
		if (ret_snap) {
			dt_sim_snapshot_free(*ret_snap);
			*ret_snap = NULL;
		}
		goto fail;
	}
link:
	pthread_mutex_lock(&h->lock);
	if (birth)
		dt_sim_birth_add_locked(h, birth);
	vm->next = h->vms;
	h->vms = vm;
	note(h, DT_VM_APPEARED, vm);
	pthread_mutex_unlock(&h->lock);
	if (ret_domid)
		*ret_domid = vm->domid;
	return 0;
fail:
	dt_sim_snapshot_free(birth);
	vm_free(vm);
	return err;
}

void dt_sim_vm_kill(struct dt_sim_host *h, struct sim_vm *vm)
{
	atomic_store(&vm->gone, true);
	if (!vm->p.pv)
		dt_sim_vcpus_stop(vm);
	pthread_mutex_lock(&vm->lock);
	vm->dead = true;
	pthread_mutex_unlock(&vm->lock);
	pthread_mutex_lock(&h->lock);
	note(h, DT_VM_GONE, vm);
	pthread_mutex_unlock(&h->lock);
	dt_sim_vm_put(vm);
}

int dt_sim_vm_destroy(struct dt_sim_host *h, uint32_t domid)
{
	struct sim_vm **pp, *vm = NULL;

	pthread_mutex_lock(&h->lock);
	for (pp = &h->vms; *pp; pp = &(*pp)->next) {
		if ((*pp)->domid == domid) {
			vm = *pp;
			*pp = vm->next;
			break;
		}
	}
	pthread_mutex_unlock(&h->lock);
	if (!vm)
		return -ENOENT;
	dt_sim_vm_kill(h, vm);
	return 0;
}

int dt_sim_vm_find(struct dt_sim_host *h, const char *name, uint32_t *ret_domid)
{
	struct sim_vm *vm;
	int err = -ENOENT;

	pthread_mutex_lock(&h->lock);
	for (vm = h->vms; vm; vm = vm->next) {
		if (!strcmp(vm->name, name)) {
			*ret_domid = vm->domid;
			err = 0;
			break;
		}
	}
	pthread_mutex_unlock(&h->lock);
	return err;
}

int dt_sim_vm_workload(struct dt_sim_host *h, uint32_t domid, bool on)
{
	struct sim_vm *vm = dt_sim_vm_get(h, domid);

	if (!vm)
		return -ENOENT;
	pthread_mutex_lock(&vm->lock);
	if (on)
		dt_sim_workload_start(vm);
	else
		vm->workload = false;
	pthread_mutex_unlock(&vm->lock);
	dt_sim_vm_put(vm);
	return 0;
}

/* ---- crashes and labels (called with a vm->lock held) ---- */
void dt_sim_record_crash(struct sim_vcpu *c, const char *fmt, ...)
{
	struct sim_vm *vm = c->vm;
	struct dt_sim_host *h = vm->h;
	struct dt_sim_crash cr = { 0 };
	va_list ap;
	ssize_t n;

	cr.domid = vm->domid;
	cr.vcpu = c->id;
	cr.rip = c->regs.rip;
	cr.pid = c->task ? c->task->pid : -1;
	n = dt_sim_read_va(&vm->mem, c->regs.cr3, c->regs.rip, cr.bytes, sizeof(cr.bytes));
	cr.nbytes = (uint8_t)(n > 0 ? n : 0);
	va_start(ap, fmt);
	vsnprintf(cr.reason, sizeof(cr.reason), fmt, ap);
	va_end(ap);
	vm->ctr.crashes++;
	pthread_mutex_lock(&h->lock);
	if (h->ncrash == h->capcrash) {
		size_t cap = h->capcrash ? h->capcrash * 2 : 16;
		struct dt_sim_crash *nc = realloc(h->crashes, cap * sizeof(*nc));

		if (nc) {
			h->crashes = nc;
			h->capcrash = cap;
		}
	}
	if (h->ncrash < h->capcrash)
		h->crashes[h->ncrash++] = cr;
	h->crash_total++;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

struct sim_label *dt_sim_label_add_locked(struct dt_sim_host *h, const char *label)
{
	struct sim_label *l;

	if (h->nlabels == h->caplabels) {
		size_t cap = h->caplabels ? h->caplabels * 2 : 32;
		struct sim_label *n = realloc(h->labels, cap * sizeof(*n));

		if (!n)
			return NULL;
		h->labels = n;
		h->caplabels = cap;
	}
	l = &h->labels[h->nlabels++];
	memset(l, 0, sizeof(*l));
	snprintf(l->label, sizeof(l->label), "%s", label);
	return l;
}

int dt_sim_gate_open(struct dt_sim_host *h, const char *name)
{
	struct sim_label *l;
	size_t i;
	int err = 0;

	if (!h || !name || !name[0] || strlen(name) >= sizeof(l->label))
		return -EINVAL;
	pthread_mutex_lock(&h->lock);
	for (i = 0; i < h->nlabels; i++)
		if (!strcmp(h->labels[i].label, name))
			break;
	if (i < h->nlabels) {
		err = -EEXIST; /* a call's label, or a gate already open */
	} else if (!(l = dt_sim_label_add_locked(h, name))) {
		err = -ENOMEM;
	} else {
		l->call.done = true; /* what `await` looks at */
		pthread_cond_broadcast(&h->cond);
	}
	pthread_mutex_unlock(&h->lock);
	return err;
}

void dt_sim_label_done(struct dt_sim_host *h, const struct dt_sim_call *call)
{
	size_t i;

	pthread_mutex_lock(&h->lock);
	for (i = 0; i < h->nlabels; i++) {
		if (!strcmp(h->labels[i].label, call->label)) {
			h->labels[i].call = *call;
			break;
		}
	}
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
}


static int read_file(const char *path, char **ret)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int err = 0;

	if (!f)
		return -errno;
	for (;;) {
		size_t n;

		if (cap - len < 4096) {
			char *nb;

			if (cap > (16u << 20)) {
				err = -EFBIG;
				break;
			}
			nb = realloc(buf, cap + 65536);
			if (!nb) {
				err = -ENOMEM;
				break;
			}
			buf = nb;
			cap += 65536;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f) && !err)
		err = -EIO;
	fclose(f);
	if (err) {
		free(buf);
		return err;
	}
	buf[len] = 0;
	*ret = buf;
	return 0;
}

int dt_sim_scenario_text(struct dt_sim_host *h, const char *text, char *err, size_t errlen)
{
	if (!h || !text)
		return -EINVAL;
	return dt_sim_scn_run(h, text, "<text>", err, errlen);
}

int dt_sim_scenario_load(struct dt_sim_host *h, const char *path, char *err, size_t errlen)
{
	char *text = NULL;
	int rc;

	if (!h || !path)
		return -EINVAL;
	rc = read_file(path, &text);
	if (rc) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	rc = dt_sim_scn_run(h, text, path, err, errlen);
	free(text);
	return rc;
}

