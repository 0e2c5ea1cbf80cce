// SPDX-License-Identifier: GPL-2.0-only
/*
 * xen_walk.c - guest page-table walks and guest-virtual access.
 *
 * We walk the guest's tables ourselves instead of asking Xen (xc_translate_foreign_address
 * is a hypercall per address and knows no 5-level paging before 4.17's HAP code paths do):
 * each level is one 8-byte read through the mapping cache, so a warm walk costs no
 * hypercall. The guest owns these tables and may be hostile: a walk is at most 5 reads,
 * every entry is checked, nothing loops on guest data.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "xen_internal.h"

#define X86_CR0_PG (1ull << 31)
#define X86_CR4_PAE (1ull << 5)
#define X86_CR4_LA57 (1ull << 12)
#define X86_EFER_LMA (1ull << 10)

#define PTE_PRESENT (1ull << 0)
#define PTE_PS (1ull << 7)
#define PTE_ADDR 0x000ffffffffff000ull	/* bits 12-51 */
#define PTE_ADDR_1G 0x000fffffc0000000ull /* bits 30-51 */
#define PTE_ADDR_2M 0x000fffffffe00000ull /* bits 21-51 */
#define PTE_RSVD_1G 0x000000003fffe000ull /* bits 13-29 must be 0 (bit 12 is PAT) */
#define PTE_RSVD_2M 0x00000000001fe000ull /* bits 13-20 */
#define GPA_LIMIT (1ull << 52)

enum dt_xen_paging dt_xen_paging_mode(uint64_t cr0, uint64_t cr4, uint64_t efer)
{
	if (!(cr0 & X86_CR0_PG))
		return DT_XEN_PAGING_OFF;
	if (!(efer & X86_EFER_LMA) || !(cr4 & X86_CR4_PAE))
		return DT_XEN_PAGING_LEGACY;
	return (cr4 & X86_CR4_LA57) ? DT_XEN_PAGING_5LEVEL : DT_XEN_PAGING_4LEVEL;
}

uint64_t dt_xen_cr3_root(uint64_t cr3)
{
	/* Bits 0-11 are PCID (or PWT/PCD), bit 12 selects Linux's KPTI user half of an
	 * order-1 PGD (the kernel half maps user space too), bit 63 is the no-flush hint. */
	return cr3 & PTE_ADDR & ~(1ull << 12);
}

static bool canonical(uint64_t va, unsigned bits)
{
	int64_t top = (int64_t)va >> (bits - 1);

	return top == 0 || top == -1;
}

int dt_xen_walk(const struct dt_xen_phys *phys, enum dt_xen_paging mode, uint64_t cr3,
		uint64_t va, uint64_t *ret_gpa)
{
	unsigned levels, level;
	uint64_t table, entry;
	int r;

	switch (mode) {
	case DT_XEN_PAGING_OFF:
		if (va >= GPA_LIMIT)
			return -EFAULT;
		*ret_gpa = va;
		return 0;
	case DT_XEN_PAGING_4LEVEL:
		levels = 4;
		break;
	case DT_XEN_PAGING_5LEVEL:
		levels = 5;
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (!canonical(va, 12 + 9 * levels))
		return -EFAULT;

	table = dt_xen_cr3_root(cr3);
	for (level = levels; level >= 1; level--) {
		unsigned shift = 12 + 9 * (level - 1);
		uint64_t index = (va >> shift) & 511;

		r = phys->read(phys->ctx, table + index * 8, &entry, sizeof(entry));
		if (r < 0)
			return r;
		if (!(entry & PTE_PRESENT))
			return -EFAULT;
		if (entry & PTE_PS) {
			if (level == 3) {
				if (entry & PTE_RSVD_1G)
					return -EFAULT;
				*ret_gpa = (entry & PTE_ADDR_1G) | (va & ((1ull << 30) - 1));
				return 0;
			}
			if (level == 2) {
				if (entry & PTE_RSVD_2M)
					return -EFAULT;
				*ret_gpa = (entry & PTE_ADDR_2M) | (va & ((1ull << 21) - 1));
				return 0;
			}
			if (level > 3)
				return -EFAULT; /* PS is reserved in PML5E/PML4E */
			/* level 1: bit 7 is PAT, not a size */
		}
		table = entry & PTE_ADDR;
	}
	*ret_gpa = table | (va & (DT_XEN_PAGE_SIZE - 1));
	return 0;
}

/* ------------------------------------------------------------------ guest-virtual access */

static size_t chunk_in_page(uint64_t addr, size_t left)
{
	size_t room = DT_XEN_PAGE_SIZE - (size_t)(addr & (DT_XEN_PAGE_SIZE - 1));

	return left < room ? left : room;
}

ssize_t dt_xen_read_va(struct dt_xen_mapcache *cache, enum dt_xen_paging mode, uint64_t cr3,
		       uint64_t va, void *buf, size_t len)
{
	struct dt_xen_phys phys;
	uint8_t *out = buf;
	size_t done = 0;

	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	dt_xen_mapcache_phys(cache, &phys);
	while (done < len) {
		uint64_t addr = va + done, gpa;
		size_t n = chunk_in_page(addr, len - done);
		ssize_t got;
		int r;

		if (addr < va) /* wrapped past the top of the address space */
			break;
		r = dt_xen_walk(&phys, mode, cr3, addr, &gpa);
		if (r == -EFAULT)
			break;
		if (r < 0)
			return r;
		got = dt_xen_read_pa(cache, gpa, out + done, n);
		if (got < 0)
			return got;
		done += (size_t)got;
		if ((size_t)got < n)
			break;
	}
	return (ssize_t)done;
}

int dt_xen_write_va(struct dt_xen_mapcache *cache, enum dt_xen_paging mode, uint64_t cr3,
		    uint64_t va, const void *buf, size_t len)
{
	uint64_t inline_gpas[8], *gpas = inline_gpas;
	struct dt_xen_phys phys;
	const uint8_t *in = buf;
	size_t pages, i, done;
	int r = 0;

	if (len == 0)
		return 0;
	if (va + len - 1 < va)
		return -EFAULT;
	pages = (size_t)(((va + len - 1) >> DT_XEN_PAGE_SHIFT) - (va >> DT_XEN_PAGE_SHIFT)) + 1;
	if (pages > sizeof(inline_gpas) / sizeof(inline_gpas[0])) {
		gpas = calloc(pages, sizeof(*gpas));
		if (!gpas)
			return -ENOMEM;
	}

	/* All-or-nothing: translate and map every page writable before the first byte. */
	dt_xen_mapcache_phys(cache, &phys);
	for (i = 0, done = 0; i < pages; i++) {
		uint8_t *page;

		r = dt_xen_walk(&phys, mode, cr3, va + done, &gpas[i]);
		if (r < 0)
			goto out;
		r = dt_xen_mapcache_page(cache, gpas[i] >> DT_XEN_PAGE_SHIFT, true, &page);
		if (r < 0)
			goto out;
		done += chunk_in_page(va + done, len - done);
	}
	for (i = 0, done = 0; i < pages; i++) {
		size_t n = chunk_in_page(va + done, len - done);

		r = dt_xen_write_pa(cache, gpas[i], in + done, n);
		if (r < 0)
			goto out;
		done += n;
	}
out:
	if (gpas != inline_gpas)
		free(gpas);
	return r;
}
