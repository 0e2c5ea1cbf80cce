// SPDX-License-Identifier: GPL-2.0-only
/*
 * sim_mm.c - the simulated kernel's memory: kmalloc slabs and vmalloc'ed kernel stacks in
 * guest memory, process address spaces (a PGD sharing the kernel half, mm_struct, user
 * pages, "swapped" not-present pages) and user-memory access as the kernel does it
 * (faulting backed pages in). vm->lock held.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_vm.h"

/* user address space layout (64-bit PIE-like, and i386) */
#define U64_TEXT 0x0000555555554000ULL
#define U64_ARENA 0x00007ffff7ff0000ULL
#define U64_NP 0x00007ffff7fe0000ULL
#define U64_STACK 0x00007ffffffde000ULL
#define U32_TEXT 0x56555000ULL
#define U32_ARENA 0xf7fd0000ULL
#define U32_NP 0xf7fc0000ULL
#define U32_STACK 0xffffd000ULL
#define ARENA_PAGES 4
#define NP_PAGES 2

/* ---- kmalloc (slab classes) and vmalloc'ed kernel stacks ---- */
static const uint32_t slab_sizes[4] = { 64, 256, 1024, 2048 };

uint64_t dt_sim_kmalloc(struct sim_vm *vm, uint32_t size, uint64_t *ret_pa)
{
	struct sim_kslab *s = NULL;
	unsigned i;
	uint64_t pa;

	for (i = 0; i < 4; i++) {
		if (size <= slab_sizes[i]) {
			s = &vm->slab[i];
			s->size = slab_sizes[i];
			break;
		}
	}
	if (!s)
		return 0;
	if (!s->nfree) {
		uint64_t page = dt_sim_page_alloc(&vm->mem, 1), o;

		if (!page)
			return 0;
		if (s->cap < SIM_PAGE / s->size) {
			uint64_t *n = realloc(s->free, (SIM_PAGE / s->size + s->cap) * 8);

			if (!n) {
				dt_sim_page_free(&vm->mem, page, 1);
				return 0;
			}
			s->free = n;
			s->cap += SIM_PAGE / s->size;
		}
		for (o = SIM_PAGE; o >= s->size; o -= s->size)
			s->free[s->nfree++] = page + o - s->size;
	}
	pa = s->free[--s->nfree];
	dt_sim_gzero(&vm->mem, pa, s->size);
	*ret_pa = pa;
	return dt_sim_dm(vm, pa);
}

void dt_sim_kfree(struct sim_vm *vm, uint64_t pa, uint32_t size)
{
	unsigned i;

	for (i = 0; i < 4; i++) {
		struct sim_kslab *s = &vm->slab[i];

		if (size > slab_sizes[i])
			continue;
		if (s->nfree == s->cap) {
			uint64_t *n = realloc(s->free, (s->cap + 64) * 8);

			if (!n)
				return; /* leak one object rather than fail */
			s->free = n;
			s->cap += 64;
		}
		s->free[s->nfree++] = pa;
		return;
	}
}

#define KSTACK_STRIDE (2 * SIM_THREAD_SIZE) /* stack + guard, THREAD_SIZE aligned */

uint64_t dt_sim_kstack_alloc(struct sim_vm *vm, int *ret_slot)
{
	uint64_t slot, va, i;

	if (vm->nkstack_free)
		slot = vm->kstack_free[--vm->nkstack_free];
	else
		slot = vm->kstack_next++;
	va = SIM_VMALLOC_BASE + slot * KSTACK_STRIDE + SIM_THREAD_SIZE;
	for (i = 0; i < SIM_THREAD_SIZE / SIM_PAGE; i++) {
		uint64_t pa = dt_sim_page_alloc(&vm->mem, 1);

		if (!pa || dt_sim_map4k(&vm->mem, vm->kpgd, va + i * SIM_PAGE, pa,
					PTE_P | PTE_RW | PTE_G | PTE_NX | PTE_D, NULL, NULL, 0)) {
			if (pa)
				dt_sim_page_free(&vm->mem, pa, 1);
			while (i--) {
				struct sim_walk w;

				if (!dt_sim_walk(&vm->mem, vm->kpgd, va + i * SIM_PAGE, &w)) {
					dt_sim_page_free(&vm->mem, w.pa, 1);
					dt_sim_gwrite64(&vm->mem, w.leaf_pte_pa, 0);
				}
			}
			return 0;
		}
	}
	*ret_slot = (int)slot;
	return va;
}

void dt_sim_kstack_free(struct sim_vm *vm, uint64_t va, int slot)
{
	uint64_t i;

	for (i = 0; i < SIM_THREAD_SIZE / SIM_PAGE; i++) {
		struct sim_walk w;

		if (!dt_sim_walk(&vm->mem, vm->kpgd, va + i * SIM_PAGE, &w)) {
			dt_sim_gwrite64(&vm->mem, w.leaf_pte_pa, 0);
			dt_sim_page_free(&vm->mem, w.pa & ~(SIM_PAGE - 1), 1);
		}
	}
	if (vm->nkstack_free % 64 == 0) {
		uint64_t *n = realloc(vm->kstack_free, (vm->nkstack_free + 64) * 8);

		if (!n)
			return;
		vm->kstack_free = n;
	}
	vm->kstack_free[vm->nkstack_free++] = (uint64_t)slot;
}

/* ---- mm ---- */
void dt_sim_mm_put(struct sim_vm *vm, struct sim_mm *mm)
{
	unsigned i;

	if (!mm || --mm->refs > 0)
		return;
	for (i = 0; i < mm->npg; i++)
		dt_sim_page_free(&vm->mem, mm->pg[i].pa, 1);
	for (i = 0; i < mm->npt; i++)
		dt_sim_page_free(&vm->mem, mm->pt[i], 1);
	if (mm->pgd_pa)
		dt_sim_page_free(&vm->mem, mm->pgd_pa, 1);
	if (mm->pa)
		dt_sim_kfree(vm, mm->pa, vm->b->l.mm_size);
	free(mm);
}

static int mm_map(struct sim_vm *vm, struct sim_mm *mm, uint64_t va, uint64_t flags)
{
	uint64_t pa;

	if (mm->npg >= SIM_MM_PAGES)
		return -ENOMEM;
	pa = dt_sim_page_alloc(&vm->mem, 1);
	if (!pa)
		return -ENOMEM;
	if (dt_sim_map4k(&vm->mem, mm->pgd_pa, va, pa, flags, mm->pt, &mm->npt, SIM_MM_PT)) {
		dt_sim_page_free(&vm->mem, pa, 1);
		return -ENOMEM;
	}
	mm->pg[mm->npg].va = va;
	mm->pg[mm->npg].pa = pa;
	mm->npg++;
	return 0;
}

struct sim_mm *dt_sim_mm_new(struct sim_vm *vm, bool compat)
{
	const struct sim_layout *l = &vm->b->l;
	struct sim_mm *mm = calloc(1, sizeof(*mm));
	uint64_t i, urw = PTE_P | PTE_RW | PTE_US | PTE_NX | PTE_D;
	static const uint8_t text[] = { 0x0f, 0x05, 0xcd, 0x80, 0xc3 }; /* syscall; int $0x80 */

	if (!mm)
		return NULL;
	mm->refs = 1;
	mm->compat = compat;
	mm->pgd_pa = dt_sim_page_alloc(&vm->mem, 1);
	if (!mm->pgd_pa)
		goto fail;
	/* the kernel half is shared, as Linux does with its pgd_alloc() */
	for (i = 256; i < 512; i++)
		dt_sim_gwrite64(&vm->mem, mm->pgd_pa + i * 8,
				dt_sim_gread64(&vm->mem, vm->kpgd + i * 8));
	mm->va = dt_sim_kmalloc(vm, l->mm_size, &mm->pa);
	if (!mm->va)
		goto fail;
	vm->next_pcid = (uint16_t)(vm->next_pcid % 4095 + 1);
	mm->pcid = vm->next_pcid;
	mm->text = compat ? U32_TEXT : U64_TEXT;
	mm->arena = compat ? U32_ARENA : U64_ARENA;
	mm->arena_len = ARENA_PAGES * SIM_PAGE;
	mm->np = compat ? U32_NP : U64_NP;
	mm->stack_top = (compat ? U32_STACK : U64_STACK) + SIM_PAGE;
	if (mm_map(vm, mm, mm->text, PTE_P | PTE_US))
		goto fail;
	dt_sim_gcopy_in(&vm->mem, mm->pg[0].pa, text, sizeof(text));
	for (i = 0; i < ARENA_PAGES; i++)
		if (mm_map(vm, mm, mm->arena + i * SIM_PAGE, urw))
			goto fail;
	for (i = 0; i < NP_PAGES; i++)
		if (mm_map(vm, mm, mm->np + i * SIM_PAGE, (urw & ~PTE_P) | PTE_BACKED))
			goto fail;
	if (mm_map(vm, mm, mm->stack_top - SIM_PAGE, urw))
		goto fail;
	dt_sim_gwrite64(&vm->mem, mm->pa + l->o.mm_pgd, dt_sim_dm(vm, mm->pgd_pa));
	return mm;
fail:
	dt_sim_mm_put(vm, mm);
	return NULL;
}

/* fork: same layout, copied contents, same present bits */
struct sim_mm *dt_sim_mm_copy(struct sim_vm *vm, const struct sim_mm *old)
{
	const struct sim_layout *l = &vm->b->l;
	struct sim_mm *mm = dt_sim_mm_new(vm, old->compat);
	unsigned i;

	if (!mm)
		return NULL;
	for (i = 0; i < old->npg && i < mm->npg; i++) {
		uint8_t page[SIM_PAGE];
		struct sim_walk w;

		dt_sim_gcopy_out(&vm->mem, old->pg[i].pa, page, SIM_PAGE);
		dt_sim_gcopy_in(&vm->mem, mm->pg[i].pa, page, SIM_PAGE);
		(void)dt_sim_walk(&vm->mem, old->pgd_pa, old->pg[i].va, &w);
		if (w.leaf & PTE_P)
			dt_sim_set_pte(&vm->mem, mm->pgd_pa, mm->pg[i].va, PTE_P, PTE_BACKED);
	}
	for (i = 0; i < 4; i++) {
		uint32_t off = l->o.mm_arg_start + i * 8;

		dt_sim_gwrite64(&vm->mem, mm->pa + off, dt_sim_gread64(&vm->mem, old->pa + off));
	}
	return mm;
}

/* ---- user memory ---- */
static bool user_range(const struct sim_task *t, uint64_t va, size_t len)
{
	uint64_t lim = t->compat ? 0x100000000ULL : 0x800000000000ULL;

	return va < lim && len <= lim - va;
}

static int uaccess(struct sim_task *t, uint64_t va, void *buf, size_t len, bool write,
		   bool kernel)
{
	struct sim_vm *vm = t->vm;
	size_t done = 0;

	if (!t->mm || !user_range(t, va, len))
		return -EFAULT;
	while (done < len) {
		uint64_t cur = va + done, in_page = SIM_PAGE - (cur & (SIM_PAGE - 1));
		uint64_t n = len - done < in_page ? len - done : in_page, pa;
		struct sim_walk w;

		if (dt_sim_walk(&vm->mem, t->mm->pgd_pa, cur, &w)) {
			if (!w.leaf_pte_pa || !(w.leaf & PTE_BACKED))
				return -EFAULT;
			if (kernel) /* the page fault handler brings it in */
				dt_sim_gwrite64(&vm->mem, w.leaf_pte_pa,
						(w.leaf & ~PTE_BACKED) | PTE_P | PTE_A);
			pa = (w.leaf & PTE_ADDR) + (cur & (SIM_PAGE - 1));
		} else {
			if (!w.us || (write && !w.rw))
				return -EFAULT;
			pa = w.pa;
		}
		if (write)
			dt_sim_gcopy_in(&vm->mem, pa, (const uint8_t *)buf + done, n);
		else
			dt_sim_gcopy_out(&vm->mem, pa, (uint8_t *)buf + done, n);
		done += n;
	}
	return 0;
}

int dt_sim_uput(struct sim_task *t, uint64_t va, const void *buf, size_t len)
{
	return uaccess(t, va, (void *)buf, len, true, false);
}

int dt_sim_uget_k(struct sim_task *t, uint64_t va, void *buf, size_t len)
{
	return uaccess(t, va, buf, len, false, true);
}

int dt_sim_uput_k(struct sim_task *t, uint64_t va, const void *buf, size_t len)
{
	return uaccess(t, va, (void *)buf, len, true, true);
}

int dt_sim_ustr_k(struct sim_task *t, uint64_t va, char *buf, size_t cap)
{
	size_t i;

	for (i = 0; i + 1 < cap; i++) {
		if (uaccess(t, va + i, &buf[i], 1, false, true))
			return -EFAULT;
		if (!buf[i])
			return (int)i;
	}
	buf[i] = 0;
	return -ENAMETOOLONG;
}

void dt_sim_np_reset(struct sim_task *t)
{
	unsigned i;

	if (!t->mm)
		return;
	for (i = 0; i < NP_PAGES; i++)
		dt_sim_set_pte(&t->vm->mem, t->mm->pgd_pa, t->mm->np + i * SIM_PAGE, PTE_BACKED,
			       PTE_P);
}
