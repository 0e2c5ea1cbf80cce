/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * check_guest_dmap.h - part of check_guest.c, included once where its helpers
 * (struct vm, open_host, vm_open, vm_close, compare_with_truth, edited_map) are
 * defined: the tests of the direct-map shortcut (engine/guest/dmap.c), kept apart so
 * that neither file grows past ~800 lines.
 */
#ifndef DT_CHECK_GUEST_DMAP_H
#define DT_CHECK_GUEST_DMAP_H

/* Walks and pages the backend counted for re-reading every task's process data
 * (ancestry cache emptied first). */
static void decode_work(struct vm *v, struct dt_hv_work *ret)
{
	struct dt_hv_work w0, w1;
	struct dt_proc_info pi;
	struct dt_sim_task *t;
	size_t n, i;

	ck_assert_int_eq(dt_sim_tasks(v->h, v->domid, &t, &n), 0);
	dt_guest_invalidate_all(v->g);
	dt_hv_sim.work(v->dom, &w0);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(dt_guest_proc_info(v->g, t[i].task_va, &pi), 0);
		ck_assert_int_eq(pi.pid, t[i].pid);
	}
	dt_hv_sim.work(v->dom, &w1);
	ret->pages = w1.pages - w0.pages;
	ret->walks = w1.walks - w0.walks;
	free(t);
}

/* The direct-map shortcut (engine/guest/dmap.c) on the sim's randomised
 * page_offset_base: the same results as the walk, and far fewer walks. */
START_TEST(dmap_shortcut)
{
	struct dt_sim_host *h;
	struct dt_hv *hv = open_host(2, false, &h);
	unsigned i;

	for (i = 0; i < 2; i++) {
		struct dt_guest_dmap_stats st;
		struct dt_hv_work w;
		struct vm v;

		vm_open(&v, hv, h, i, true);
		dt_guest_dmap_stats(v.g, &st);
		ck_assert_uint_eq(st.base, v.ki.page_offset_base);
		ck_assert_uint_eq(st.size, 64ull << 20); /* max_pfn: the sim's 64 MiB of RAM */
		compare_with_truth(&v);
		decode_work(&v, &w); /* past the first checked reads */
		dt_guest_dmap_stats(v.g, &st);
		ck_assert_uint_gt(st.reads, 64);
		ck_assert_uint_eq(st.mismatches, 0);
		ck_assert_uint_eq(st.base, v.ki.page_offset_base);
		decode_work(&v, &w);
		/* task_structs and creds are in the direct map: a read of them walks only
		 * when checked (one in 64); init_task and init_cred are in the kernel image
		 * and walk. Without the shortcut, a walk for every page read (below). */
		ck_assert_uint_gt(w.pages, 0);
		ck_assert_uint_lt(w.walks * 4, w.pages);
		compare_with_truth(&v);
		vm_close(&v);
	}
	dt_hv_sim.close(hv);
}
END_TEST

/* A guest whose page_offset_base does not give its direct map: the first check
 * turns the shortcut off, and every result is still right (read by the walk). */
START_TEST(dmap_mismatch_turns_off)
{
	struct dt_sim_host *h;
	struct dt_hv *hv = open_host(1, false, &h);
	struct dt_guest_dmap_stats st;
	struct dt_guest_params gp;
	struct dt_hv_work w;
	uint64_t va, wrong;
	char err[512] = "";
	struct vm v;

	vm_open(&v, hv, h, 0, false);
	ck_assert_int_eq(dt_sim_symbol(h, v.domid, "page_offset_base", &va), 0);
	wrong = v.ki.page_offset_base + 4096; /* one page off: aligned, plausible */
	ck_assert_int_eq(dt_hv_sim.write_va(v.dom, v.ki.kernel_cr3, va, &wrong, 8), 0);
	gp = (struct dt_guest_params){ .vm_name = v.name, .symtab = v.tab };
	ck_assert_msg(!dt_guest_open(&dt_hv_sim, v.dom, &gp, &v.g, err, sizeof(err)), "%s",
		      err);
	dt_guest_dmap_stats(v.g, &st);
	ck_assert_uint_eq(st.base, wrong);
	compare_with_truth(&v);
	dt_guest_dmap_stats(v.g, &st);
	ck_assert_uint_eq(st.base, 0);
	ck_assert_uint_eq(st.mismatches, 1);
	ck_assert_uint_eq(st.checks, 1);
	ck_assert_uint_eq(st.reads, 0);
	decode_work(&v, &w);
	ck_assert_uint_ge(w.walks, w.pages); /* every read walks, as before */
	vm_close(&v);
	dt_hv_sim.close(hv);
}
END_TEST

/* The guest-physical address of the leaf entry mapping va through root (a 4-level walk
 * of the sim's tables, 1 GiB and 2 MiB pages stopping it). */
static uint64_t leaf_entry(struct vm *v, uint64_t root, uint64_t va)
{
	uint64_t table = root & 0x000ffffffffff000ull, e = 0, at = 0;
	int level;

	for (level = 3; level >= 0; level--) {
		at = table + 8 * ((va >> (12 + 9 * level)) & 511);
		ck_assert_int_eq(dt_sim_phys_read(v->h, v->domid, at, &e, 8), 0);
		ck_assert(e & 1);
		if (level == 0 || (level < 3 && (e & 0x80)))
			break;
		table = e & 0x000ffffffffff000ull;
	}
	return at;
}

/* A direct-map page that is not present (as DEBUG_PAGEALLOC or KFENCE leave them):
 * the check finds it, the shortcut turns off, and the read fails as the walk's did. */
START_TEST(dmap_not_present_turns_off)
{
	struct dt_sim_host *h;
	struct dt_hv *hv = open_host(1, false, &h);
	struct dt_guest_dmap_stats st;
	struct dt_proc_info pi;
	struct dt_sim_task *t;
	uint64_t at, e, gone;
	struct vm v;
	size_t n;

	vm_open(&v, hv, h, 0, true);
	ck_assert_int_eq(dt_sim_tasks(h, v.domid, &t, &n), 0);
	ck_assert_uint_gt(n, 1);
	ck_assert_uint_ge(t[1].task_va, v.ki.page_offset_base); /* a slab task_struct */
	at = leaf_entry(&v, v.ki.kernel_cr3, t[1].task_va);
	ck_assert_int_eq(dt_sim_phys_read(h, v.domid, at, &e, 8), 0);
	gone = e & ~1ull;
	ck_assert_int_eq(dt_sim_phys_write(h, v.domid, at, &gone, 8), 0);
	ck_assert_int_eq(dt_guest_proc_info(v.g, t[1].task_va, &pi), -EFAULT);
	dt_guest_dmap_stats(v.g, &st);
	ck_assert_uint_eq(st.mismatches, 1);
	ck_assert_uint_eq(st.base, 0);
	ck_assert_uint_eq(st.reads, 0);
	/* mapped again: read by the walk, and right */
	ck_assert_int_eq(dt_sim_phys_write(h, v.domid, at, &e, 8), 0);
	compare_with_truth(&v);
	dt_guest_dmap_stats(v.g, &st);
	ck_assert_uint_eq(st.reads, 0);
	ck_assert_uint_eq(st.mismatches, 1);
	free(t);
	vm_close(&v);
	dt_hv_sim.close(hv);
}
END_TEST

static const char *const dmap_syms[2] = { "page_offset_base", "max_pfn" };

static void drop_page_offset_base(char *line)
{
	if (strstr(line, " page_offset_base\n"))
		line[0] = '\0';
}

static void drop_max_pfn(char *line)
{
	if (strstr(line, " max_pfn\n"))
		line[0] = '\0';
}

/* A map without page_offset_base, or without max_pfn: no shortcut, every read walks,
 * results right. */
START_TEST(dmap_without_symbol)
{
	struct dt_sim_host *h;
	struct dt_hv *hv = open_host(1, false, &h);
	struct dt_guest_dmap_stats st;
	struct dt_guest_params gp;
	struct dt_hv_work w;
	char err[512] = "", *m;
	uint64_t va;
	struct vm v;

	vm_open(&v, hv, h, 0, false);
	m = edited_map(v.ki.sysmap_path, dmap_syms[_i],
		       _i ? drop_max_pfn : drop_page_offset_base);
	dt_symtab_free(v.tab);
	ck_assert_msg(!dt_symtab_load(m, &v.tab, err, sizeof(err)), "%s", err);
	free(m);
	gp = (struct dt_guest_params){ .vm_name = v.name, .symtab = v.tab };
	ck_assert_msg(!dt_guest_open(&dt_hv_sim, v.dom, &gp, &v.g, err, sizeof(err)), "%s",
		      err);
	ck_assert_int_eq(dt_guest_sym_va(v.g, dmap_syms[_i], &va), -ENOENT);
	compare_with_truth(&v);
	dt_guest_dmap_stats(v.g, &st);
	ck_assert_uint_eq(st.base, 0);
	ck_assert_uint_eq(st.reads + st.checks + st.mismatches, 0);
	decode_work(&v, &w);
	ck_assert_uint_ge(w.walks, w.pages);
	vm_close(&v);
	dt_hv_sim.close(hv);
}
END_TEST

#endif /* DT_CHECK_GUEST_DMAP_H */
