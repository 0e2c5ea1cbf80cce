// SPDX-License-Identifier: GPL-2.0-only
/*
 * sim_mem.c - guest-physical memory, its page allocator, and x86-64 4-level page tables
 * living in that memory.
 *
 * Guest memory is one lazily-backed anonymous mapping. The engine writes probe bytes into
 * it while vCPU threads fetch instructions from it, exactly as on hardware; every access
 * goes through relaxed atomics so that this sharing is defined behaviour (and TSan-clean).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "sim_priv.h"

int dt_sim_mem_init(struct sim_mem *m, uint64_t size)
{
	void *p;

	memset(m, 0, sizeof(*m));
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	m->npages = size / SIM_PAGE;
	m->used = calloc(m->npages, 1);
	if (!m->used) {
		munmap(p, size);
		return -ENOMEM;
	}
	m->base = p;
	m->size = size;
	m->nfree = m->npages;
	return 0;
}

void dt_sim_mem_fini(struct sim_mem *m)
{
	if (m->base)
		munmap(m->base, m->size);
	free(m->used);
	memset(m, 0, sizeof(*m));
}

void dt_sim_gcopy_out(const struct sim_mem *m, uint64_t pa, void *buf, size_t len)
{
	const uint8_t *s = m->base + pa;
	uint8_t *d = buf;

	while (len && ((uintptr_t)s & 7)) {
		*d++ = __atomic_load_n(s++, __ATOMIC_RELAXED);
		len--;
	}
	for (; len >= 8; len -= 8, s += 8, d += 8) {
		uint64_t v = __atomic_load_n((const uint64_t *)s, __ATOMIC_RELAXED);

		memcpy(d, &v, 8);
	}
	while (len--)
		*d++ = __atomic_load_n(s++, __ATOMIC_RELAXED);
}

void dt_sim_gcopy_in(struct sim_mem *m, uint64_t pa, const void *buf, size_t len)
{
	uint8_t *d = m->base + pa;
	const uint8_t *s = buf;

	while (len && ((uintptr_t)d & 7)) {
		__atomic_store_n(d++, *s++, __ATOMIC_RELAXED);
		len--;
	}
	for (; len >= 8; len -= 8, s += 8, d += 8) {
		uint64_t v;

		memcpy(&v, s, 8);
		__atomic_store_n((uint64_t *)d, v, __ATOMIC_RELAXED);
	}
	while (len--)
		__atomic_store_n(d++, *s++, __ATOMIC_RELAXED);
}

void dt_sim_gzero(struct sim_mem *m, uint64_t pa, size_t len)
{
	static const uint8_t zero[256];

	while (len) {
		size_t n = len < sizeof(zero) ? len : sizeof(zero);

		dt_sim_gcopy_in(m, pa, zero, n);
		pa += n;
		len -= n;
	}
}

uint64_t dt_sim_gread64(const struct sim_mem *m, uint64_t pa)
{
	uint64_t v;

	dt_sim_gcopy_out(m, pa, &v, 8);
	return v;
}

void dt_sim_gwrite64(struct sim_mem *m, uint64_t pa, uint64_t v)
{
	dt_sim_gcopy_in(m, pa, &v, 8);
}

/* ---- page allocator: first fit from a rotating hint; n contiguous pages ---- */

uint64_t dt_sim_page_alloc(struct sim_mem *m, unsigned n)
{
	uint64_t tries, i, start;

	if (!n || n > m->nfree)
		return 0;
	start = m->hint;
	for (tries = 0; tries < m->npages; tries++) {
		uint64_t p = (start + tries) % m->npages;
		unsigned k;

		if (p + n > m->npages || p == 0)
			continue;
		for (k = 0; k < n && !m->used[p + k]; k++)
			;
		if (k < n) {
			tries += k;
			continue;
		}
		for (i = 0; i < n; i++)
			m->used[p + i] = 1;
		m->nfree -= n;
		m->hint = p + n;
		dt_sim_gzero(m, p * SIM_PAGE, n * SIM_PAGE);
		return p * SIM_PAGE;
	}
	return 0;
}

void dt_sim_page_free(struct sim_mem *m, uint64_t pa, unsigned n)
{
	uint64_t p = pa / SIM_PAGE, i;

	for (i = 0; i < n && p + i < m->npages; i++) {
		if (m->used[p + i]) {
			m->used[p + i] = 0;
			m->nfree++;
		}
	}
	/* Freed memory keeps its bytes (as on real hardware) until reused. */
}

void dt_sim_page_reserve(struct sim_mem *m, uint64_t pa, uint64_t len)
{
	uint64_t p;

	for (p = pa / SIM_PAGE; p < (pa + len + SIM_PAGE - 1) / SIM_PAGE && p < m->npages; p++) {
		if (!m->used[p]) {
			m->used[p] = 1;
			m->nfree--;
		}
	}
}

/* ---- page tables ---- */

static bool pa_ok(const struct sim_mem *m, uint64_t pa, uint64_t len)
{
	return pa < m->size && len <= m->size - pa;
}

int dt_sim_walk(const struct sim_mem *m, uint64_t cr3, uint64_t va, struct sim_walk *ret)
{
	static const unsigned shift[4] = { 39, 30, 21, 12 };
	uint64_t table = cr3 & PTE_ADDR, e = 0, epa = 0;
	bool rw = true, us = true, nx = false;
	int lvl;

	if (ret)
		ret->ntables = 0;
	/* Non-canonical addresses fault (#GP on hardware). */
	if ((uint64_t)((int64_t)(va << 16) >> 16) != va)
		return -EFAULT;
	for (lvl = 0; lvl < 4; lvl++) {
		epa = table + ((va >> shift[lvl]) & 511) * 8;
		if (!pa_ok(m, epa, 8))
			return -EFAULT;
		if (ret)
			ret->tables[ret->ntables++] = table;
		e = dt_sim_gread64(m, epa);
		if (!(e & PTE_P))
			goto hole;
		rw = rw && (e & PTE_RW);
		us = us && (e & PTE_US);
		nx = nx || (e & PTE_NX);
		if (lvl == 3 || ((lvl == 1 || lvl == 2) && (e & PTE_PS)))
			break;
		table = e & PTE_ADDR;
	}
	{
		uint64_t psize = 1ULL << shift[lvl];
		uint64_t base = e & PTE_ADDR & ~(psize - 1);

		if (!pa_ok(m, base, psize))
			return -EFAULT;
		if (ret) {
			ret->pa = base + (va & (psize - 1));
			ret->leaf_pte_pa = epa;
			ret->leaf = e;
			ret->page_size = psize;
			ret->rw = rw;
			ret->us = us;
			ret->nx = nx;
		}
	}
	return 0;
hole:
	if (ret) {
		ret->pa = 0;
		ret->leaf_pte_pa = lvl == 3 ? epa : 0;
		ret->leaf = e;
		ret->page_size = 0;
	}
	return -EFAULT;
}

static uint64_t table_next(struct sim_mem *m, uint64_t table, unsigned idx, uint64_t *ptpages,
			   unsigned *npt, unsigned maxpt, bool user)
{
	uint64_t epa = table + idx * 8, e = dt_sim_gread64(m, epa);

	if (e & PTE_P)
		return e & PTE_ADDR;
	if (ptpages && *npt >= maxpt)
		return 0;
	e = dt_sim_page_alloc(m, 1);
	if (!e)
		return 0;
	if (ptpages)
		ptpages[(*npt)++] = e;
	dt_sim_gwrite64(m, epa, e | PTE_P | PTE_RW | PTE_A | (user ? PTE_US : 0));
	return e;
}

int dt_sim_map4k(struct sim_mem *m, uint64_t pgd_pa, uint64_t va, uint64_t pa, uint64_t flags,
		 uint64_t *ptpages, unsigned *nptpages, unsigned maxpt)
{
	bool user = flags & PTE_US;
	uint64_t t = pgd_pa;

	t = table_next(m, t, (va >> 39) & 511, ptpages, nptpages, maxpt, user);
	if (t)
		t = table_next(m, t, (va >> 30) & 511, ptpages, nptpages, maxpt, user);
	if (t)
		t = table_next(m, t, (va >> 21) & 511, ptpages, nptpages, maxpt, user);
	if (!t)
		return -ENOMEM;
	dt_sim_gwrite64(m, t + ((va >> 12) & 511) * 8, (pa & PTE_ADDR) | flags | PTE_A);
	return 0;
}

int dt_sim_map2m(struct sim_mem *m, uint64_t pgd_pa, uint64_t va, uint64_t pa, uint64_t flags)
{
	uint64_t t = pgd_pa;

	t = table_next(m, t, (va >> 39) & 511, NULL, NULL, 0, false);
	if (t)
		t = table_next(m, t, (va >> 30) & 511, NULL, NULL, 0, false);
	if (!t)
		return -ENOMEM;
	dt_sim_gwrite64(m, t + ((va >> 21) & 511) * 8, (pa & PTE_ADDR) | flags | PTE_PS | PTE_A);
	return 0;
}

int dt_sim_set_pte(struct sim_mem *m, uint64_t pgd_pa, uint64_t va, uint64_t set, uint64_t clear)
{
	struct sim_walk w;
	uint64_t e;

	(void)dt_sim_walk(m, pgd_pa, va, &w);
	if (!w.leaf_pte_pa || (w.page_size && w.page_size != SIM_PAGE))
		return -EFAULT;
	e = dt_sim_gread64(m, w.leaf_pte_pa);
	if (!(e & PTE_ADDR))
		return -EFAULT;
	dt_sim_gwrite64(m, w.leaf_pte_pa, (e & ~clear) | set);
	return 0;
}

ssize_t dt_sim_read_va(const struct sim_mem *m, uint64_t cr3, uint64_t va, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		struct sim_walk w;
		uint64_t in_page, n;

		if (dt_sim_walk(m, cr3, va + done, &w))
			break;
		in_page = SIM_PAGE - ((va + done) & (SIM_PAGE - 1));
		n = len - done < in_page ? len - done : in_page;
		dt_sim_gcopy_out(m, w.pa, (uint8_t *)buf + done, n);
		done += n;
	}
	return (ssize_t)done;
}

int dt_sim_write_va(struct sim_mem *m, uint64_t cr3, uint64_t va, const void *buf, size_t len)
{
	size_t done;

	/* All or nothing: translate every page first. */
	for (done = 0; done < len;) {
		uint64_t in_page = SIM_PAGE - ((va + done) & (SIM_PAGE - 1));

		if (dt_sim_walk(m, cr3, va + done, NULL))
			return -EFAULT;
		done += in_page;
	}
	for (done = 0; done < len;) {
		struct sim_walk w;
		uint64_t in_page = SIM_PAGE - ((va + done) & (SIM_PAGE - 1));
		uint64_t n = len - done < in_page ? len - done : in_page;

		if (dt_sim_walk(m, cr3, va + done, &w))
			return -EFAULT;
		dt_sim_gcopy_in(m, w.pa, (const uint8_t *)buf + done, n);
		done += n;
	}
	return 0;
}
