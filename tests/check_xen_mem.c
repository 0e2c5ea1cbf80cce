// SPDX-License-Identifier: GPL-2.0-only
/*
 * check_xen_mem.c - the Xen backend's page walker and foreign-mapping cache, against guest
 * "physical memory" in a memfd: read-only mappings are really PROT_READ (a write through
 * one would crash the test), frames can be holes, page tables are built by hand.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "xen_internal.h"

#define PAGES 512 /* 2 MiB of guest memory */
#define P 0x1ull  /* present */
#define RW 0x2ull
#define PS 0x80ull

static int memfd = -1;
static uint8_t *mem; /* writable view for the test itself */
static bool hole[PAGES];
static unsigned next_free;
static int live_maps, total_maps, fail_with;

static void *fake_map(void *ctx, uint64_t gfn, bool writable, int *ret_err)
{
	void *p;

	if (fail_with) {
		*ret_err = fail_with;
		return NULL;
	}
	if (gfn >= PAGES || hole[gfn]) {
		*ret_err = -EFAULT;
		return NULL;
	}
	p = mmap(NULL, DT_XEN_PAGE_SIZE, writable ? PROT_READ | PROT_WRITE : PROT_READ,
		 MAP_SHARED, memfd, (off_t)(gfn * DT_XEN_PAGE_SIZE));
	ck_assert_ptr_ne(p, MAP_FAILED);
	live_maps++;
	total_maps++;
	return p;
}

static void fake_unmap(void *ctx, void *page)
{
	ck_assert_int_eq(munmap(page, DT_XEN_PAGE_SIZE), 0);
	live_maps--;
}

static const struct dt_xen_mapper mapper = { .map = fake_map, .unmap = fake_unmap };

static void setup(void)
{
	memfd = memfd_create("guest", 0);
	ck_assert_int_ge(memfd, 0);
	ck_assert_int_eq(ftruncate(memfd, PAGES * DT_XEN_PAGE_SIZE), 0);
	mem = mmap(NULL, PAGES * DT_XEN_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	ck_assert_ptr_ne(mem, MAP_FAILED);
	memset(hole, 0, sizeof(hole));
	next_free = 1; /* frame 0 stays unused */
	live_maps = total_maps = fail_with = 0;
}

static void teardown(void)
{
	munmap(mem, PAGES * DT_XEN_PAGE_SIZE);
	close(memfd);
}

static uint64_t new_table(void)
{
	ck_assert_uint_lt(next_free, PAGES);
	return (uint64_t)next_free++ * DT_XEN_PAGE_SIZE;
}

/* A top-level table as Linux allocates it with KPTI: 8 KiB aligned, so that CR3 bit 12
 * only ever selects the user half (which dt_xen_cr3_root() masks). */
static uint64_t new_root(void)
{
	next_free = (next_free + 1) & ~1u;
	return new_table();
}

static uint64_t *entry(uint64_t table, unsigned index)
{
	return (uint64_t *)(void *)(mem + table + index * 8);
}

/* Map va to gpa in the tables under root; leaf_level 1 (4 KiB), 2 (2 MiB) or 3 (1 GiB). */
static void map_va(uint64_t root, unsigned levels, uint64_t va, uint64_t gpa, unsigned leaf_level)
{
	uint64_t table = root;
	unsigned level;

	for (level = levels; level > leaf_level; level--) {
		uint64_t *e = entry(table, (va >> (12 + 9 * (level - 1))) & 511);

		if (!(*e & P))
			*e = new_table() | P | RW;
		table = *e & 0x000ffffffffff000ull;
	}
	*entry(table, (va >> (12 + 9 * (leaf_level - 1))) & 511) =
		gpa | P | RW | (leaf_level > 1 ? PS : 0);
}

static struct dt_xen_mapcache *new_cache(unsigned entries)
{
	struct dt_xen_mapcache *c = NULL;

	ck_assert_int_eq(dt_xen_mapcache_new(&mapper, entries, &c), 0);
	return c;
}

static int walk(struct dt_xen_mapcache *c, enum dt_xen_paging mode, uint64_t cr3, uint64_t va,
		uint64_t *gpa)
{
	struct dt_xen_phys phys;

	dt_xen_mapcache_phys(c, &phys);
	return dt_xen_walk(&phys, mode, cr3, va, gpa);
}

START_TEST(test_paging_mode)
{
	const uint64_t pg = 1ull << 31, pae = 1ull << 5, la57 = 1ull << 12, lma = 1ull << 10;

	ck_assert_int_eq(dt_xen_paging_mode(0, 0, 0), DT_XEN_PAGING_OFF);
	ck_assert_int_eq(dt_xen_paging_mode(pg, 0, 0), DT_XEN_PAGING_LEGACY);
	ck_assert_int_eq(dt_xen_paging_mode(pg, pae, 0), DT_XEN_PAGING_LEGACY);
	ck_assert_int_eq(dt_xen_paging_mode(pg, pae, lma), DT_XEN_PAGING_4LEVEL);
	ck_assert_int_eq(dt_xen_paging_mode(pg, pae | la57, lma), DT_XEN_PAGING_5LEVEL);
	ck_assert_uint_eq(dt_xen_cr3_root(0x8000000000123fffull), 0x122000ull);
	ck_assert_uint_eq(dt_xen_cr3_root(0xfff0000000004001ull), 0x4000ull);
}
END_TEST

START_TEST(test_walk_4level)
{
	struct dt_xen_mapcache *c = new_cache(0);
	uint64_t root = new_root(), data = new_table(), gpa = 0;
	const uint64_t kva = 0xffffffff81372700ull, uva = 0x00007ffd12345000ull;

	map_va(root, 4, kva & ~0xfffull, data, 1);
	map_va(root, 4, uva, data + DT_XEN_PAGE_SIZE * 0, 1);
	ck_assert_int_eq(walk(c, DT_XEN_PAGING_4LEVEL, root, kva, &gpa), 0);
	ck_assert_uint_eq(gpa, data + 0x700);
	/* PCID bits and the KPTI user-half bit of CR3 do not matter. */
	ck_assert_int_eq(walk(c, DT_XEN_PAGING_4LEVEL, root | 0x1000 | 0x5, kva, &gpa), 0);
	ck_assert_uint_eq(gpa, data + 0x700);
	ck_assert_int_eq(walk(c, DT_XEN_PAGING_4LEVEL, root, uva + 0x10, &gpa), 0);
	ck_assert_uint_eq(gpa, data + 0x10);
	/* Not present at the last level, at the top level, and not canonical. */
	ck_assert_int_eq(walk(c, DT_XEN_PAGING_4LEVEL, root, kva + 0x1000, &gpa), -EFAULT);
	ck_assert_int_eq(walk(c, DT_XEN_PAGING_4LEVEL, root, 0x0000100000000000ull, &gpa), -EFAULT);
	ck_assert_int_eq(walk(c, DT_XEN_PAGING_4LEVEL, root, 0x0000800000000000ull, &gpa), -EFAULT);
	ck_assert_int_eq(walk(c, DT_XEN_PAGING_LEGACY, root, kva, &gpa), -EOPNOTSUPP);
	ck_assert_int_eq(walk(c, DT_XEN_PAGING_OFF, root, 0x1234, &gpa), 0);
	ck_assert_uint_eq(gpa, 0x1234);
	dt_xen_mapcache_free(c);
	ck_assert_int_eq(live_maps, 0);
}
END_TEST

START_TEST(test_walk_large_pages)
{
	struct dt_xen_mapcache *c = new_cache(0);
	uint64_t root = new_root(), gpa = 0;
	const uint64_t va2m = 0xffff888000200000ull, va1g = 0xffff888040000000ull;
	uint64_t *pde;

	map_va(root, 4, va2m, 0x00200000, 2);
	map_va(root, 4, va1g, 0x80000000, 3); /* beyond our memory: translation only */
	ck_assert_int_eq(walk(c, DT_XEN_PAGING_4LEVEL, root, va2m + 0x12345, &gpa), 0);
	ck_assert_uint_eq(gpa, 0x00212345);
	ck_assert_int_eq(walk(c, DT_XEN_PAGING_4LEVEL, root, va1g + 0x3456789, &gpa), 0);
	ck_assert_uint_eq(gpa, 0x83456789);

	/* A reserved bit in a 2 MiB entry faults, as on hardware. */
	ck_assert_int_eq(walk(c, DT_XEN_PAGING_4LEVEL, root, va2m, &gpa), 0);
	pde = entry(*entry(*entry(root, (va2m >> 39) & 511) & ~0xfffull, (va2m >> 30) & 511) &
			    ~0xfffull,
		    (va2m >> 21) & 511);
	*pde |= 1ull << 13;
	ck_assert_int_eq(walk(c, DT_XEN_PAGING_4LEVEL, root, va2m, &gpa), -EFAULT);

	/* PS in a PML4 entry is reserved. */
	*entry(root, 5) = 0x00200000 | P | PS;
	ck_assert_int_eq(walk(c, DT_XEN_PAGING_4LEVEL, root, 5ull << 39, &gpa), -EFAULT);
	dt_xen_mapcache_free(c);
}
END_TEST

START_TEST(test_walk_5level)
{
	struct dt_xen_mapcache *c = new_cache(0);
	uint64_t root = new_root(), data = new_table(), gpa = 0;
	const uint64_t va = 0xff11000000001000ull; /* needs 57 bits */

	map_va(root, 5, va, data, 1);
	ck_assert_int_eq(walk(c, DT_XEN_PAGING_5LEVEL, root, va + 8, &gpa), 0);
	ck_assert_uint_eq(gpa, data + 8);
	/* The same address is not canonical with 4 levels. */
	ck_assert_int_eq(walk(c, DT_XEN_PAGING_4LEVEL, root, va, &gpa), -EFAULT);
	dt_xen_mapcache_free(c);
}
END_TEST

static unsigned reads;

static int counting_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	reads++;
	return dt_xen_read_pa(ctx, gpa, buf, len) == (ssize_t)len ? 0 : -EFAULT;
}

START_TEST(test_walk_hostile_tables)
{
	struct dt_xen_mapcache *c = new_cache(0);
	uint64_t root = new_root(), t = new_root(), gpa = 0;
	struct dt_xen_phys phys = { .read = counting_read, .ctx = c };
	unsigned i;

	/* Every table points back at the root: a walk still ends after 5 reads. */
	for (i = 0; i < 512; i++)
		*entry(root, i) = root | P | RW;
	reads = 0;
	ck_assert_int_eq(dt_xen_walk(&phys, DT_XEN_PAGING_5LEVEL, root, 0x1000, &gpa), 0);
	ck_assert_uint_le(reads, 5);
	ck_assert_uint_eq(gpa, root);
	/* A table beyond guest memory, and one in a hole. */
	*entry(t, 0) = (0x7ffffull << 12) | P;
	ck_assert_int_eq(walk(c, DT_XEN_PAGING_4LEVEL, t, 0x1000, &gpa), -EFAULT);
	hole[root / DT_XEN_PAGE_SIZE] = true;
	dt_xen_mapcache_flush(c);
	ck_assert_int_eq(walk(c, DT_XEN_PAGING_4LEVEL, root, 0x1000, &gpa), -EFAULT);
	dt_xen_mapcache_free(c);
}
END_TEST

START_TEST(test_read_write_va)
{
	struct dt_xen_mapcache *c = new_cache(0);
	uint64_t root = new_root(), a = new_table(), b = new_table();
	const uint64_t va = 0xffffffff81000000ull;
	uint8_t buf[64], want[64];

	map_va(root, 4, va, a, 1);
	map_va(root, 4, va + 0x1000, b, 1);
	memset(mem + a, 0xaa, DT_XEN_PAGE_SIZE);
	memset(mem + b, 0xbb, DT_XEN_PAGE_SIZE);

	/* A read across the page boundary. */
	ck_assert_int_eq(dt_xen_read_va(c, DT_XEN_PAGING_4LEVEL, root, va + 0xff0, buf, 32), 32);
	ck_assert_uint_eq(buf[15], 0xaa);
	ck_assert_uint_eq(buf[16], 0xbb);
	/* Stops where the next page is not present; 0 when the first is not. */
	ck_assert_int_eq(dt_xen_read_va(c, DT_XEN_PAGING_4LEVEL, root, va + 0x1ff8, buf, 32), 8);
	ck_assert_int_eq(dt_xen_read_va(c, DT_XEN_PAGING_4LEVEL, root, va + 0x2000, buf, 32), 0);

	/* Writes are all-or-nothing. */
	memset(want, 0xcc, sizeof(want));
	ck_assert_int_eq(dt_xen_write_va(c, DT_XEN_PAGING_4LEVEL, root, va + 0x1ff0, want, 32),
			 -EFAULT);
	ck_assert_uint_eq(mem[b + 0xff0], 0xbb);
	ck_assert_int_eq(dt_xen_write_va(c, DT_XEN_PAGING_4LEVEL, root, va + 0xff8, want, 16), 0);
	ck_assert_uint_eq(mem[a + 0xff7], 0xaa);
	ck_assert_uint_eq(mem[a + 0xff8], 0xcc);
	ck_assert_uint_eq(mem[b + 0x7], 0xcc);
	ck_assert_uint_eq(mem[b + 0x8], 0xbb);
	/* A write wrapping past the top of the address space. */
	ck_assert_int_eq(dt_xen_write_va(c, DT_XEN_PAGING_4LEVEL, root, ~0ull - 3, want, 8),
			 -EFAULT);
	dt_xen_mapcache_free(c);
	ck_assert_int_eq(live_maps, 0);
}
END_TEST

START_TEST(test_write_va_many_pages)
{
	struct dt_xen_mapcache *c = new_cache(DT_XEN_MAP_CACHE_MIN);
	uint64_t root = new_root();
	const uint64_t va = 0xffffc90000000000ull;
	const size_t len = 20 * DT_XEN_PAGE_SIZE; /* more pages than the cache holds */
	uint8_t *src = malloc(len), *back = malloc(len);
	unsigned i;

	for (i = 0; i < 20; i++)
		map_va(root, 4, va + i * DT_XEN_PAGE_SIZE, new_table(), 1);
	for (i = 0; i < len; i++)
		src[i] = (uint8_t)(i * 7);
	ck_assert_int_eq(dt_xen_write_va(c, DT_XEN_PAGING_4LEVEL, root, va + 1, src, len - 2), 0);
	ck_assert_int_eq(dt_xen_read_va(c, DT_XEN_PAGING_4LEVEL, root, va + 1, back, len - 2),
			 (ssize_t)(len - 2));
	ck_assert_mem_eq(src, back, len - 2);
	free(src);
	free(back);
	dt_xen_mapcache_free(c);
	ck_assert_int_eq(live_maps, 0);
}
END_TEST

START_TEST(test_cache_hits_and_clock)
{
	struct dt_xen_mapcache *c = new_cache(1); /* clamped up to the minimum */
	struct dt_xen_mapcache_stats st;
	uint8_t *page;
	unsigned i;

	ck_assert_uint_eq(dt_xen_mapcache_capacity(c), DT_XEN_MAP_CACHE_MIN);
	for (i = 0; i < DT_XEN_MAP_CACHE_MIN; i++)
		ck_assert_int_eq(dt_xen_mapcache_page(c, 10 + i, false, &page), 0);
	ck_assert_int_eq(dt_xen_mapcache_page(c, 10, false, &page), 0);
	dt_xen_mapcache_get_stats(c, &st);
	ck_assert_uint_eq(st.maps, DT_XEN_MAP_CACHE_MIN);
	ck_assert_uint_eq(st.hits, 1);
	ck_assert_int_eq(live_maps, DT_XEN_MAP_CACHE_MIN);

	/* Full: the clock sweeps (clearing every referenced bit) and evicts the first. */
	ck_assert_int_eq(dt_xen_mapcache_page(c, 100, false, &page), 0);
	dt_xen_mapcache_get_stats(c, &st);
	ck_assert_uint_eq(st.evictions, 1);
	ck_assert_int_eq(live_maps, DT_XEN_MAP_CACHE_MIN);
	/* gfn 11 is used again, so the next victim is gfn 12, not 11. */
	ck_assert_int_eq(dt_xen_mapcache_page(c, 11, false, &page), 0);
	ck_assert_int_eq(dt_xen_mapcache_page(c, 101, false, &page), 0);
	dt_xen_mapcache_get_stats(c, &st);
	ck_assert_uint_eq(st.evictions, 2);
	ck_assert_int_eq(dt_xen_mapcache_page(c, 11, false, &page), 0);
	dt_xen_mapcache_get_stats(c, &st);
	ck_assert_uint_eq(st.maps, DT_XEN_MAP_CACHE_MIN + 2); /* 11 was a hit */
	ck_assert_int_eq(dt_xen_mapcache_page(c, 12, false, &page), 0);
	dt_xen_mapcache_get_stats(c, &st);
	ck_assert_uint_eq(st.maps, DT_XEN_MAP_CACHE_MIN + 3); /* 12 had gone */

	dt_xen_mapcache_flush(c);
	ck_assert_int_eq(live_maps, 0);
	ck_assert_int_eq(dt_xen_mapcache_page(c, 10, false, &page), 0);
	dt_xen_mapcache_free(c);
	ck_assert_int_eq(live_maps, 0);
	dt_xen_mapcache_free(NULL);
}
END_TEST

START_TEST(test_cache_remap_writable)
{
	struct dt_xen_mapcache *c = new_cache(0);
	struct dt_xen_mapcache_stats st;
	uint8_t byte = 0;

	mem[7 * DT_XEN_PAGE_SIZE + 3] = 0x55;
	ck_assert_int_eq(dt_xen_read_pa(c, 7 * DT_XEN_PAGE_SIZE + 3, &byte, 1), 1);
	ck_assert_uint_eq(byte, 0x55);
	/* The cached mapping is PROT_READ: writing needs (and gets) a writable one. */
	byte = 0xcc;
	ck_assert_int_eq(dt_xen_write_pa(c, 7 * DT_XEN_PAGE_SIZE + 3, &byte, 1), 0);
	ck_assert_uint_eq(mem[7 * DT_XEN_PAGE_SIZE + 3], 0xcc);
	ck_assert_int_eq(dt_xen_write_pa(c, 7 * DT_XEN_PAGE_SIZE + 4, &byte, 1), 0);
	dt_xen_mapcache_get_stats(c, &st);
	ck_assert_uint_eq(st.remaps_rw, 1);
	ck_assert_uint_eq(st.maps, 1);
	ck_assert_int_eq(live_maps, 1);
	dt_xen_mapcache_free(c);
}
END_TEST

START_TEST(test_physical_holes_and_errors)
{
	struct dt_xen_mapcache *c = new_cache(0);
	uint8_t buf[32], ones[32];

	hole[21] = true;
	memset(mem + 20 * DT_XEN_PAGE_SIZE, 0x11, DT_XEN_PAGE_SIZE);
	ck_assert_int_eq(dt_xen_read_pa(c, 21 * DT_XEN_PAGE_SIZE - 8, buf, 32), 8);
	ck_assert_int_eq(dt_xen_read_pa(c, 21 * DT_XEN_PAGE_SIZE, buf, 32), 0);
	ck_assert_int_eq(dt_xen_read_pa(c, (uint64_t)PAGES * DT_XEN_PAGE_SIZE, buf, 32), 0);
	ck_assert_int_eq(dt_xen_read_pa(c, ~0ull - 7, buf, 32), 0);
	memset(ones, 0xff, sizeof(ones));
	ck_assert_int_eq(dt_xen_write_pa(c, 21 * DT_XEN_PAGE_SIZE - 8, ones, 32), -EFAULT);
	ck_assert_uint_eq(mem[21 * DT_XEN_PAGE_SIZE - 8], 0x11);
	ck_assert_int_eq(dt_xen_write_pa(c, ~0ull - 7, ones, 32), -EFAULT);
	ck_assert_int_eq(dt_xen_write_pa(c, 0, ones, 0), 0);

	/* Other mapper errors are errors, not short reads. */
	dt_xen_mapcache_flush(c);
	fail_with = -ENODEV;
	ck_assert_int_eq(dt_xen_read_pa(c, 0x5000, buf, 8), -ENODEV);
	ck_assert_int_eq(dt_xen_write_pa(c, 0x5000, ones, 8), -ENODEV);
	dt_xen_mapcache_free(c);
	ck_assert_int_eq(live_maps, 0);
}
END_TEST

static Suite *xen_mem_suite(void)
{
	Suite *s = suite_create("xen_mem");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_paging_mode);
	tcase_add_test(tc, test_walk_4level);
	tcase_add_test(tc, test_walk_large_pages);
	tcase_add_test(tc, test_walk_5level);
	tcase_add_test(tc, test_walk_hostile_tables);
	tcase_add_test(tc, test_read_write_va);
	tcase_add_test(tc, test_write_va_many_pages);
	tcase_add_test(tc, test_cache_hits_and_clock);
	tcase_add_test(tc, test_cache_remap_writable);
	tcase_add_test(tc, test_physical_holes_and_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(xen_mem_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
