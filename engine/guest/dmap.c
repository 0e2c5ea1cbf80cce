// SPDX-License-Identifier: GPL-2.0-only
/*
 * The direct-map shortcut for kernel reads (issue 15: less work per trap).
 *
 * Why it is safe: on x86-64 Linux with 4-level paging, the kernel maps all of RAM
 * linearly at page_offset_base: the address page_offset_base + pa is the physical
 * address pa, for every pa of RAM (arch/x86/mm/init_64.c, kernel_physical_mapping_init).
 * Slab objects (task_struct, cred, dentries) and the per-CPU areas of the embedded
 * first chunk live there (task stacks, with pt_regs, are vmalloc'ed: not there). A
 * kernel read of such an address can go to read_pa, with no page walk.
 *
 * Where: the direct map's region (64 TiB with 4-level paging) is sized to RAM plus
 * padding when the kernel randomises its layout (arch/x86/mm/kaslr.c), and vmalloc
 * (task stacks) may follow it well inside 64 TiB; so the shortcut covers only
 * [page_offset_base, page_offset_base + max_pfn pages): RAM as the kernel saw it.
 *
 * How it is checked, since a guest may be odd (a wrong page_offset_base, pages
 * removed from the direct map by DEBUG_PAGEALLOC, set_memory_np, KFENCE's guards):
 *  - it is on only with 4-level paging (CR4.LA57 clear at attach), when the map has
 *    page_offset_base and max_pfn (read once at attach through the walk) and has no
 *    DEBUG_PAGEALLOC (whose freed pages are unmapped: a walk would fail, a read_pa
 *    would not);
 *  - the first DM_CHECK_FIRST shortcut reads of a VM, and every DM_CHECK_EVERY-th one
 *    after, translate each page of the read through the kernel root first: every page
 *    must be present and at va - page_offset_base. One mismatch turns the shortcut
 *    off for this VM for good (one warning, counted) and the read takes the walk;
 *  - a read_pa that comes back short (a hole in guest RAM) or fails takes the walk,
 *    so the walk decides what is not present, as before.
 * What the sampling cannot see: a direct-map page unmapped between checks (a
 * KFENCE guard page, a freed page under set_memory_np) reads as its bytes where the
 * walk would have failed. Every read here is of data the decoders validate anyway
 * (pointers are checked to be kernel addresses, strings NUL-bounded), and a live
 * object the kernel itself uses is always mapped.
 */
#include <errno.h>
#include <inttypes.h>

#include "domtrace/log.h"
#include "guest/guest_internal.h"

#define DM_SIZE (64ull << 40)	 /* the direct map's region with 4-level paging */
#define DM_CHECK_FIRST 64	 /* shortcut reads checked against a walk at first */
#define DM_CHECK_EVERY 64	 /* then every this many */
#define CR4_LA57 (1ull << 12)
#define PAGE 4096ull

void dt_guest_dmap_init(struct dt_guest *g, const struct dt_regs *regs)
{
	uint64_t va, pfn_va, base, pfns;

	g->dm_base = 0;
	g->dm_size = 0;
	if (!g->ops->read_pa || !g->ops->translate || (regs->cr4 & CR4_LA57))
		return;
	/* without the symbol (no CONFIG_RANDOMIZE_MEMORY, or a kallsyms without data
	 * symbols) the base may still be random: off rather than a guessed default */
	if (dt_guest_sym_va(g, "page_offset_base", &va) || dt_guest_sym_va(g, "max_pfn", &pfn_va))
		return;
	if (!dt_guest_sym_va(g, "_debug_pagealloc_enabled", &base) ||
	    !dt_guest_sym_va(g, "_debug_pagealloc_enabled_early", &base))
		return;
	if (dt_guest_read_full(g, va, &base, sizeof(base)) || !dt_kernel_addr(base) ||
	    (base & (PAGE - 1)) || base + DM_SIZE < base)
		return;
	if (dt_guest_read_full(g, pfn_va, &pfns, sizeof(pfns)) || !pfns || pfns > DM_SIZE / PAGE)
		return;
	g->dm_size = pfns * PAGE;
	g->dm_base = base;
}

/* Every page of [va, va + len) present through the kernel root, at va - dm_base?
 * 0 yes; 1 no (the shortcut is now off); 2 the walk could not say (a transient
 * failure other than not present: this read walks, the shortcut stays); -ENODEV. */
static int dm_check(struct dt_guest *g, uint64_t va, size_t len)
{
	uint64_t p, gpa;
	int r;

	g->dm_stats.checks++;
	for (p = va & ~(PAGE - 1); p < va + len; p += PAGE) {
		r = g->ops->translate(g->dom, g->kcr3, p, &gpa);
		if (r == -ENODEV)
			return r;
		if (r && r != -EFAULT)
			return 2;
		if (r || gpa != p - g->dm_base) {
			if (r)
				dt_warn("VM '%s': kernel address 0x%" PRIx64 " is not present, "
					"though in the direct map at 0x%" PRIx64 ": direct-map "
					"reads are off", g->vm_name, p, g->dm_base);
			else
				dt_warn("VM '%s': kernel address 0x%" PRIx64 " maps to 0x%" PRIx64
					", not 0x%" PRIx64 " as the direct map at 0x%" PRIx64
					" would: direct-map reads are off", g->vm_name, p, gpa,
					p - g->dm_base, g->dm_base);
			g->dm_stats.mismatches++;
			g->dm_base = 0;
			return 1;
		}
	}
	return 0;
}

ssize_t dt_guest_dmap_read(struct dt_guest *g, uint64_t va, void *buf, size_t len)
{
	uint64_t n = g->dm_stats.reads;
	ssize_t r;

	if (!g->dm_base || va < g->dm_base || va - g->dm_base >= g->dm_size ||
	    len > g->dm_size - (va - g->dm_base) || !len)
		return DT_DMAP_NOT_TAKEN;
	if (n < DM_CHECK_FIRST || n % DM_CHECK_EVERY == 0) {
		r = dm_check(g, va, len);
		if (r)
			return r < 0 ? r : DT_DMAP_NOT_TAKEN;
	}
	r = g->ops->read_pa(g->dom, va - g->dm_base, buf, len);
	if (r == -ENODEV)
		return r;
	if (r != (ssize_t)len)
		return DT_DMAP_NOT_TAKEN; /* the walk decides, as before */
	g->dm_stats.reads++;
	return r;
}

void dt_guest_dmap_stats(const struct dt_guest *g, struct dt_guest_dmap_stats *ret_stats)
{
	*ret_stats = g->dm_stats;
	ret_stats->base = g->dm_base;
	ret_stats->size = g->dm_base ? g->dm_size : 0;
}
