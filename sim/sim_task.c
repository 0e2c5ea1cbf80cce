// SPDX-License-Identifier: GPL-2.0-only
/*
 * sim_task.c - the simulated kernel's tasks and boot: image load with KASLR, page tables,
 * direct map, per-CPU areas, init_task; task_structs and creds in guest memory, the
 * tasks/children lists, fork/exec/exit/reap, the run queue. Memory: sim_mm.c.
 *
 * Every function here runs with vm->lock held (or before the vCPUs start).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_vm.h"

#define TASK_RUNNING 0
#define TASK_INTERRUPTIBLE 1
#define TASK_DEAD 0x80
#define EXIT_ZOMBIE 16
#define PF_IDLE 0x2
#define PF_EXITING 0x4
#define PF_KTHREAD 0x00200000

uint64_t dt_sim_dm(const struct sim_vm *vm, uint64_t pa)
{
	return vm->pob + pa;
}

uint64_t dt_sim_kva(const struct sim_vm *vm, uint64_t off)
{
	return SIM_TEXT_BASE + vm->kaslr + off;
}

static uint64_t img_pa(uint64_t off)
{
	return SIM_KERNEL_PHYS + off;
}

/* Physical address of a kernel virtual address (image, direct map or vmalloc). */
static uint64_t kpa(struct sim_vm *vm, uint64_t va)
{
	uint64_t text = dt_sim_kva(vm, 0);
	struct sim_walk w;

	if (va >= text && va - text < vm->b->image_size)
		return img_pa(va - text);
	if (va >= vm->pob && va - vm->pob < vm->mem.size)
		return va - vm->pob;
	if (dt_sim_walk(&vm->mem, vm->kpgd, va, &w))
		return 0;
	return w.pa;
}

static void kw64(struct sim_vm *vm, uint64_t va, uint64_t v)
{
	uint64_t pa = kpa(vm, va);

	if (pa)
		dt_sim_gwrite64(&vm->mem, pa, v);
}

static uint64_t kr64(struct sim_vm *vm, uint64_t va)
{
	uint64_t pa = kpa(vm, va);

	return pa ? dt_sim_gread64(&vm->mem, pa) : 0;
}

/* ---- guest list_head helpers ---- */
static void list_init(struct sim_vm *vm, uint64_t head)
{
	kw64(vm, head, head);
	kw64(vm, head + 8, head);
}

static void list_add_tail(struct sim_vm *vm, uint64_t node, uint64_t head)
{
	uint64_t prev = kr64(vm, head + 8);

	kw64(vm, node, head);
	kw64(vm, node + 8, prev);
	kw64(vm, prev, node);
	kw64(vm, head + 8, node);
}

static void list_del(struct sim_vm *vm, uint64_t node)
{
	uint64_t next = kr64(vm, node), prev = kr64(vm, node + 8);

	kw64(vm, prev, next);
	kw64(vm, next + 8, prev);
	/* LIST_POISON1/2, as list_del() leaves them */
	kw64(vm, node, 0xdead000000000100ULL);
	kw64(vm, node + 8, 0xdead000000000122ULL);
}

uint64_t dt_sim_task_cr3(const struct sim_task *t)
{
	if (t->mm)
		return t->mm->pgd_pa | t->mm->pcid;
	return t->vm->kpgd;
}

uint64_t dt_sim_ptregs(const struct sim_task *t)
{
	return t->kstack + SIM_THREAD_SIZE - SIM_PTREGS_SIZE;
}

/* ---- tasks ---- */
static void tw32(struct sim_task *t, uint32_t off, uint32_t v)
{
	dt_sim_gcopy_in(&t->vm->mem, t->pa + off, &v, 4);
}

static void tw64(struct sim_task *t, uint32_t off, uint64_t v)
{
	dt_sim_gwrite64(&t->vm->mem, t->pa + off, v);
}

void dt_sim_task_write_state(struct sim_task *t, unsigned state)
{
	tw32(t, t->vm->b->l.o.task_state, state);
}

void dt_sim_task_set_comm(struct sim_task *t, const char *comm)
{
	char c[16] = { 0 };

	memcpy(c, comm, strnlen(comm, 15));
	memcpy(t->comm, c, 16);
	dt_sim_gcopy_in(&t->vm->mem, t->pa + t->vm->b->l.o.task_comm, c, 16);
}

static void cred_write(struct sim_vm *vm, uint64_t pa, const uint32_t ids[8])
{
	const struct dt_sim_offsets *o = &vm->b->l.o;
	const uint32_t offs[8] = { o->cred_uid,	 o->cred_gid,  o->cred_suid,  o->cred_sgid,
				   o->cred_euid, o->cred_egid, o->cred_fsuid, o->cred_fsgid };
	uint32_t one = 1;
	int i;

	dt_sim_gcopy_in(&vm->mem, pa, &one, 4);
	for (i = 0; i < 8; i++)
		dt_sim_gcopy_in(&vm->mem, pa + offs[i], &ids[i], 4);
}

/* commit_creds(): a new struct cred, the old one freed (readers may still hold it). */
int dt_sim_task_set_ids(struct sim_task *t, const uint32_t ids[8])
{
	struct sim_vm *vm = t->vm;
	const struct sim_layout *l = &vm->b->l;
	uint64_t pa, va = dt_sim_kmalloc(vm, l->cred_size, &pa);

	if (!va)
		return -ENOMEM;
	cred_write(vm, pa, ids);
	tw64(t, l->o.task_real_cred, va);
	tw64(t, l->o.task_cred, va);
	if (t->cred_pa && t->cred_va != dt_sim_kva(vm, vm->b->off_init_cred))
		dt_sim_kfree(vm, t->cred_pa, l->cred_size);
	t->cred_va = va;
	t->cred_pa = pa;
	memcpy(t->ids, ids, sizeof(t->ids));
	return 0;
}

struct sim_task *dt_sim_task_find(struct sim_vm *vm, int pid)
{
	struct sim_task *t;

	for (t = vm->tasks; t; t = t->next_all)
		if (t->pid == pid)
			return t;
	return NULL;
}

static int pid_alloc(struct sim_vm *vm)
{
	int tries;

	for (tries = 0; tries < 32768; tries++) {
		int pid = vm->next_pid++;

		if (vm->next_pid >= 32768)
			vm->next_pid = 300;
		if (!dt_sim_task_find(vm, pid))
			return pid;
	}
	return -EAGAIN;
}

static void task_fields(struct sim_task *t)
{
	struct sim_vm *vm = t->vm;
	const struct sim_layout *l = &vm->b->l;
	const struct dt_sim_offsets *o = &l->o;
	uint64_t parent = t->parent ? t->parent->va : t->va;

	tw32(t, l->task_ti_cpu, 0);
	dt_sim_task_write_state(t, TASK_RUNNING);
	tw64(t, o->task_stack, t->kstack);
	tw32(t, o->task_flags, t->kthread ? PF_KTHREAD : 0);
	tw64(t, o->task_mm, t->mm ? t->mm->va : 0);
	tw64(t, l->task_active_mm, t->mm ? t->mm->va : dt_sim_kva(vm, vm->b->off_init_mm));
	tw32(t, o->task_exit_state, 0);
	tw32(t, o->task_exit_code, 0);
	tw32(t, l->task_exit_signal, 17 /* SIGCHLD */);
	tw32(t, o->task_pid, (uint32_t)t->pid);
	tw32(t, o->task_tgid, (uint32_t)t->tgid);
	tw64(t, o->task_real_parent, parent);
	tw64(t, o->task_parent, parent);
	list_init(vm, t->va + o->task_children);
	list_init(vm, t->va + o->task_sibling);
	tw64(t, o->task_group_leader, t->leader ? t->leader->va : t->va);
	tw64(t, o->task_start_time, t->start_ns);
	dt_sim_task_set_comm(t, t->comm);
}

static void task_link(struct sim_vm *vm, struct sim_task *t, bool in_list)
{
	const struct dt_sim_offsets *o = &vm->b->l.o;

	t->next_all = vm->tasks;
	vm->tasks = t;
	if (in_list)
		list_add_tail(vm, t->va + o->task_tasks, vm->idle[0]->va + o->task_tasks);
	if (t->parent) {
		t->next_sibling = t->parent->first_child;
		t->parent->first_child = t;
		list_add_tail(vm, t->va + o->task_sibling, t->parent->va + o->task_children);
	}
}

struct sim_task *dt_sim_task_new(struct sim_vm *vm, struct sim_task *parent, int pid,
				 const char *comm, bool compat, unsigned flags)
{
	const struct sim_layout *l = &vm->b->l;
	struct sim_task *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->vm = vm;
	t->parent = parent;
	t->last_vcpu = -1;
	t->pid = pid > 0 ? pid : pid_alloc(vm);
	if (t->pid <= 0 || dt_sim_task_find(vm, t->pid))
		goto fail;
	t->tgid = t->pid;
	t->compat = compat;
	t->start_ns = dt_sim_now_ns() - vm->boot_ns;
	snprintf(t->comm, sizeof(t->comm), "%s", comm);
	t->ts_pages = (unsigned)((l->o.task_size + SIM_PAGE - 1) / SIM_PAGE);
	t->pa = dt_sim_page_alloc(&vm->mem, t->ts_pages);
	if (!t->pa)
		goto fail;
	t->va = dt_sim_dm(vm, t->pa);
	t->kstack = dt_sim_kstack_alloc(vm, &t->kslot);
	if (!t->kstack)
		goto fail;
	if (flags & SIM_TF_KTHREAD) {
		t->kthread = true;
	} else if (parent && parent->mm && !(flags & SIM_TF_NEW_MM)) {
		if (flags & SIM_TF_SHARE_MM) {
			t->mm = parent->mm;
			t->mm->refs++;
		} else {
			t->mm = dt_sim_mm_copy(vm, parent->mm);
		}
		if (!t->mm)
			goto fail;
	} else {
		t->mm = dt_sim_mm_new(vm, compat);
		if (!t->mm)
			goto fail;
	}
	task_fields(t);
	if (dt_sim_task_set_ids(t, parent ? parent->ids : (const uint32_t[8]){ 0 }))
		goto fail;
	if (parent)
		memcpy(t->fd, parent->fd, sizeof(t->fd));
	task_link(vm, t, true);
	if (t->mm)
		dt_sim_task_user_ctx(t);
	return t;
fail:
	if (t->mm)
		dt_sim_mm_put(vm, t->mm);
	if (t->kstack)
		dt_sim_kstack_free(vm, t->kstack, t->kslot);
	if (t->pa)
		dt_sim_page_free(&vm->mem, t->pa, t->ts_pages);
	free(t);
	return NULL;
}

int dt_sim_task_exec_mm(struct sim_task *t, bool compat, const char *argv, size_t argv_len)
{
	struct sim_vm *vm = t->vm;
	const struct sim_layout *l = &vm->b->l;
	struct sim_mm *mm = dt_sim_mm_new(vm, compat), *old = t->mm;
	uint64_t start;

	if (!mm)
		return -ENOMEM;
	if (argv_len > 2048)
		argv_len = 2048;
	start = mm->stack_top - 2048 - 64;
	t->mm = mm;
	t->compat = compat;
	dt_sim_uput(t, start, argv, argv_len);
	dt_sim_gwrite64(&vm->mem, mm->pa + l->o.mm_arg_start, start);
	dt_sim_gwrite64(&vm->mem, mm->pa + l->o.mm_arg_end, start + argv_len);
	dt_sim_gwrite64(&vm->mem, mm->pa + l->mm_env_start, start + argv_len);
	dt_sim_gwrite64(&vm->mem, mm->pa + l->mm_env_end, start + argv_len);
	tw64(t, l->o.task_mm, mm->va);
	tw64(t, l->task_active_mm, mm->va);
	dt_sim_mm_put(vm, old);
	return 0;
}

static struct sim_task *child_reaper(struct sim_vm *vm)
{
	return vm->init ? vm->init : vm->idle[0];
}

static void unlink_child(struct sim_task *t)
{
	struct sim_task **pp;

	if (!t->parent)
		return;
	for (pp = &t->parent->first_child; *pp; pp = &(*pp)->next_sibling) {
		if (*pp == t) {
			*pp = t->next_sibling;
			break;
		}
	}
	t->next_sibling = NULL;
}

void dt_sim_task_exit(struct sim_task *t, int code)
{
	struct sim_vm *vm = t->vm;
	const struct dt_sim_offsets *o = &vm->b->l.o;
	struct sim_task *c, *reaper = child_reaper(vm);

	tw32(t, o->task_flags, PF_EXITING | (t->kthread ? PF_KTHREAD : 0));
	memset(t->fd, 0, sizeof(t->fd));
	if (t->mm) { /* exit_mm */
		tw64(t, o->task_mm, 0);
		dt_sim_mm_put(vm, t->mm);
		t->mm = NULL;
	}
	/* reparent children to init */
	while ((c = t->first_child)) {
		unlink_child(c);
		list_del(vm, c->va + o->task_sibling);
		c->parent = reaper == t ? vm->idle[0] : reaper;
		c->next_sibling = c->parent->first_child;
		c->parent->first_child = c;
		list_add_tail(vm, c->va + o->task_sibling, c->parent->va + o->task_children);
		tw64(c, o->task_real_parent, c->parent->va);
		tw64(c, o->task_parent, c->parent->va);
		if (c->state == TS_ZOMBIE)
			dt_sim_wake(c->parent);
	}
	t->exit_code = code;
	t->state = TS_ZOMBIE;
	t->in_kernel = false;
	tw32(t, o->task_exit_code, (uint32_t)code);
	tw32(t, o->task_exit_state, EXIT_ZOMBIE);
	dt_sim_task_write_state(t, TASK_DEAD);
	if (t->parent && t->parent->wait_child)
		dt_sim_wake(t->parent);
	vm->ctr.exits++;
}

void dt_sim_task_reap(struct sim_task *t)
{
	struct sim_vm *vm = t->vm;
	const struct dt_sim_offsets *o = &vm->b->l.o;
	struct sim_task **pp;

	list_del(vm, t->va + o->task_tasks);
	list_del(vm, t->va + o->task_sibling);
	unlink_child(t);
	for (pp = &vm->tasks; *pp; pp = &(*pp)->next_all) {
		if (*pp == t) {
			*pp = t->next_all;
			break;
		}
	}
	if (t->prog.kind == P_SCRIPT && t->prog.script)
		t->prog.script = NULL; /* scripts belong to the host */
	dt_sim_kstack_free(vm, t->kstack, t->kslot);
	if (t->cred_pa)
		dt_sim_kfree(vm, t->cred_pa, vm->b->l.cred_size);
	dt_sim_page_free(&vm->mem, t->pa, t->ts_pages);
	free(t);
}

/* ---- run queue ---- */
void dt_sim_rq_push(struct sim_vm *vm, struct sim_task *t)
{
	t->state = TS_RUNNABLE;
	t->rq_next = NULL;
	if (vm->rq_tail)
		vm->rq_tail->rq_next = t;
	else
		vm->rq_head = t;
	vm->rq_tail = t;
	dt_sim_vcpu_kick(vm);
}

struct sim_task *dt_sim_rq_pop(struct sim_vm *vm)
{
	struct sim_task *t = vm->rq_head;

	if (t) {
		vm->rq_head = t->rq_next;
		if (!vm->rq_head)
			vm->rq_tail = NULL;
		t->rq_next = NULL;
	}
	return t;
}

void dt_sim_wake(struct sim_task *t)
{
	if (t->state != TS_SLEEPING)
		return;
	t->wake_ns = 0;
	t->wait_child = false;
	dt_sim_task_write_state(t, TASK_RUNNING);
	dt_sim_rq_push(t->vm, t); /* wakes an idle vCPU */
}

/* ---- boot ---- */
static int map_image(struct sim_vm *vm)
{
	const struct sim_build *b = vm->b;
	uint64_t off;

	for (off = 0; off < b->image_size; off += SIM_PAGE) {
		uint64_t fl = PTE_P | PTE_G;

		if (off >= b->rodata_off)
			fl |= PTE_NX;
		if (off >= b->data_off)
			fl |= PTE_RW | PTE_D;
		if (dt_sim_map4k(&vm->mem, vm->kpgd, dt_sim_kva(vm, off), img_pa(off), fl, NULL,
				 NULL, 0))
			return -ENOMEM;
	}
	return 0;
}

static int load_image(struct sim_vm *vm)
{
	const struct sim_build *b = vm->b;
	size_t i;

	if (SIM_KERNEL_PHYS + b->image_size + (8ULL << 20) > vm->mem.size)
		return -ENOMEM;
	dt_sim_page_reserve(&vm->mem, 0, 1ULL << 20);
	dt_sim_page_reserve(&vm->mem, SIM_KERNEL_PHYS, b->image_size);
	dt_sim_gcopy_in(&vm->mem, SIM_KERNEL_PHYS, b->image, b->image_size);
	for (i = 0; i < b->nrelocs; i++) {
		uint64_t pa = img_pa(b->relocs[i].off);

		if (b->relocs[i].width == 8) {
			dt_sim_gwrite64(&vm->mem, pa, dt_sim_gread64(&vm->mem, pa) + vm->kaslr);
		} else {
			uint32_t v;

			dt_sim_gcopy_out(&vm->mem, pa, &v, 4);
			v += (uint32_t)vm->kaslr;
			dt_sim_gcopy_in(&vm->mem, pa, &v, 4);
		}
	}
	return 0;
}

static struct sim_task *idle_task(struct sim_vm *vm, unsigned cpu)
{
	const struct sim_layout *l = &vm->b->l;
	struct sim_task *t = calloc(1, sizeof(*t));
	char comm[24];

	if (!t)
		return NULL;
	t->vm = vm;
	t->idle = t->kthread = true;
	t->state = TS_RUNNING;
	t->last_vcpu = (int)cpu;
	snprintf(comm, sizeof(comm), "swapper/%u", cpu);
	memcpy(t->comm, comm, strnlen(comm, 15));
	if (cpu == 0) {
		t->pa = img_pa(vm->b->off_init_task);
		t->kstack = dt_sim_kva(vm, vm->b->off_init_stack);
	} else {
		t->ts_pages = (unsigned)((l->o.task_size + SIM_PAGE - 1) / SIM_PAGE);
		t->pa = dt_sim_page_alloc(&vm->mem, t->ts_pages);
		t->kstack = dt_sim_kstack_alloc(vm, &t->kslot);
		if (!t->pa || !t->kstack) {
			free(t);
			return NULL;
		}
	}
	t->va = t->pa >= SIM_KERNEL_PHYS && cpu == 0 ? dt_sim_kva(vm, vm->b->off_init_task)
						      : dt_sim_dm(vm, t->pa);
	t->cred_va = dt_sim_kva(vm, vm->b->off_init_cred);
	t->cred_pa = 0;
	task_fields(t);
	tw32(t, l->o.task_flags, PF_KTHREAD | PF_IDLE);
	tw32(t, l->task_ti_cpu, cpu);
	tw64(t, l->o.task_real_cred, t->cred_va);
	tw64(t, l->o.task_cred, t->cred_va);
	if (cpu == 0)
		list_init(vm, t->va + l->o.task_tasks);
	return t;
}

int dt_sim_kernel_boot(struct sim_vm *vm)
{
	const struct sim_build *b = vm->b;
	const struct sim_layout *l = &b->l;
	static const char *const kthreads[] = { "rcu_gp", "rcu_par_gp", "ksoftirqd/0",
						"kworker/0:1", "migration/0", "kswapd0" };
	uint64_t pa, i;
	int err;

	vm->boot_ns = dt_sim_now_ns();
	vm->next_pid = 1;
	err = load_image(vm);
	if (err)
		return err;
	vm->kpgd = img_pa(b->off_init_top_pgt);
	err = map_image(vm);
	if (err)
		return err;
	for (pa = 0; pa < vm->mem.size; pa += SIM_LARGE)
		if (dt_sim_map2m(&vm->mem, vm->kpgd, vm->pob + pa, pa,
				 PTE_P | PTE_RW | PTE_G | PTE_NX | PTE_D))
			return -ENOMEM;
	/* the vmalloc PGD slot exists before any process pgd copies the kernel half */
	pa = dt_sim_page_alloc(&vm->mem, 1);
	if (!pa)
		return -ENOMEM;
	dt_sim_gwrite64(&vm->mem, vm->kpgd + ((SIM_VMALLOC_BASE >> 39) & 511) * 8,
			pa | PTE_P | PTE_RW | PTE_A);
	dt_sim_gwrite64(&vm->mem, img_pa(b->off_page_offset_base), vm->pob);
	dt_sim_gwrite64(&vm->mem, img_pa(b->off_max_pfn), vm->mem.size >> 12);

	/* per-CPU areas, in the direct map like the embedded first chunk */
	for (i = 0; i < vm->nvcpus; i++) {
		struct sim_vcpu *c = &vm->vcpu[i];

		c->percpu_pa = dt_sim_page_alloc(&vm->mem, SIM_PERCPU_SIZE / SIM_PAGE);
		if (!c->percpu_pa)
			return -ENOMEM;
		c->percpu = dt_sim_dm(vm, c->percpu_pa);
		dt_sim_gwrite64(&vm->mem, img_pa(b->off_per_cpu_offset) + i * 8, c->percpu);
		if (b->flavour == DT_SIM_FLAVOUR_66)
			dt_sim_gcopy_in(&vm->mem, c->percpu_pa + l->percpu_var + 12, &i, 4);
		else
			dt_sim_gcopy_in(&vm->mem, c->percpu_pa + l->percpu_cpu_number, &i, 4);
	}
	cred_write(vm, img_pa(b->off_init_cred), (const uint32_t[8]){ 0 });
	dt_sim_gwrite64(&vm->mem, img_pa(b->off_init_mm) + l->o.mm_pgd,
			dt_sim_kva(vm, b->off_init_top_pgt));
	for (i = 0; i < vm->nvcpus; i++) {
		vm->idle[i] = idle_task(vm, (unsigned)i);
		if (!vm->idle[i])
			return -ENOMEM;
	}
	/* pid 1 (init), pid 2 (kthreadd) and a few kernel threads */
	vm->init = dt_sim_task_new(vm, vm->idle[0], 1, "systemd", false, 0);
	if (!vm->init)
		return -ENOMEM;
	{
		struct sim_task *k;

		/* kernel threads: no mm, never scheduled (always asleep) */
		k = dt_sim_task_new(vm, vm->idle[0], 2, "kthreadd", false, SIM_TF_KTHREAD);
		if (!k)
			return -ENOMEM;
		k->state = TS_SLEEPING;
		dt_sim_task_write_state(k, TASK_INTERRUPTIBLE);
		for (i = 0; i < sizeof(kthreads) / sizeof(kthreads[0]); i++) {
			struct sim_task *kt = dt_sim_task_new(vm, k, (int)i + 3, kthreads[i],
							      false, SIM_TF_KTHREAD);

			if (!kt)
				return -ENOMEM;
			kt->state = TS_SLEEPING;
			dt_sim_task_write_state(kt, TASK_INTERRUPTIBLE);
		}
	}
	vm->next_pid = 100;
	vm->init->fd[0].kind = vm->init->fd[1].kind = vm->init->fd[2].kind = FD_TTY;
	vm->init->prog.kind = P_INIT;
	dt_sim_rq_push(vm, vm->init);
	return 0;
}

void dt_sim_kernel_free(struct sim_vm *vm)
{
	struct sim_task *t;
	unsigned i;

	while ((t = vm->tasks)) {
		vm->tasks = t->next_all;
		if (t->mm && --t->mm->refs <= 0)
			free(t->mm); /* guest memory goes with the VM */
		free(t);
	}
	for (i = 0; i < SIM_MAX_VCPUS; i++) {
		free(vm->idle[i]);
		vm->idle[i] = NULL;
	}
	for (i = 0; i < 4; i++)
		free(vm->slab[i].free);
	free(vm->kstack_free);
}

/* A user task's registers before it first runs (or after exec). */
void dt_sim_task_user_ctx(struct sim_task *t)
{
	memset(&t->ctx, 0, sizeof(t->ctx));
	t->user_rip = t->mm ? t->mm->text : 0;
	t->ctx.rip = t->user_rip;
	t->ctx.rsp = t->mm ? t->mm->stack_top - 0x100 : 0;
	t->ctx.rflags = 0x202;
	t->ctx.cr3 = dt_sim_task_cr3(t);
	t->ctx.cpl = 3;
	t->ctx.cs_long = !t->compat;
	t->ctx.fs_base = t->compat ? 0 : 0x7ffff7d8a740ULL;
	t->in_kernel = false;
}
