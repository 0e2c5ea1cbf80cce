// SPDX-License-Identifier: GPL-2.0-only
/*
 * engine/guest/kallsyms.c against the simulated host: for every kallsyms layout the sim
 * lays out (absolute, relative 5.10, 6.1.y with seqs_of_names before the tokens, 6.4+)
 * the table decoded from
 * guest memory equals the sim's System.map, and dt_guest_open accepts it; hostile tables
 * (patched counts, markers, token index, offsets, relative base, a name that loops) are
 * refused and never crash; the daemon with no map at all attaches and traces, decoding
 * one table per kernel build; a kernel without kallsyms is refused, saying so.
 */
#include <check.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domtrace/guest.h"
#include "guest/kallsyms.h"
#include "domtrace/sim.h"
#include "support/check_run.h"
#include "support/harness.h"

static char tmpdir[64];

struct vm {
	struct dt_hv *hv;
	struct dt_sim_host *h;
	struct dt_hv_dom *dom;
	uint32_t domid;
	struct dt_sim_kernel_info ki;
	struct dt_symtab *map;
	struct dt_regs regs;
};

static void vm_open_build(struct vm *v, enum dt_sim_flavour f, enum dt_sim_ksyms ks, int build)
{
	struct dt_sim_vm_params vp = { .flavour = f, .ksyms = ks, .build = build,
				       .no_workload = true };
	struct dt_sim_params p;
	char err[256] = "";

	memset(v, 0, sizeof(*v));
	dt_sim_params_default(&p);
	p.n_vms = 0;
	p.workload = false;
	p.sysmap_dir = tmpdir;
	p.err = err;
	p.errlen = sizeof(err);
	ck_assert_msg(dt_hv_sim.open(&p, &v->hv) == 0, "open: %s", err);
	v->h = dt_sim_host_from(v->hv);
	ck_assert_int_eq(dt_sim_vm_create(v->h, &vp, &v->domid), 0);
	ck_assert_int_eq(dt_hv_sim.dom_open(v->hv, v->domid, &v->dom), 0);
	ck_assert_int_eq(dt_hv_sim.pause(v->dom), 0);
	ck_assert_int_eq(dt_sim_kernel_info(v->h, v->domid, &v->ki), 0);
	ck_assert_msg(!dt_symtab_load(v->ki.sysmap_path, &v->map, err, sizeof(err)), "%s", err);
	ck_assert_int_eq(dt_hv_sim.get_regs(v->dom, 0, &v->regs), 0);
}

static void vm_open(struct vm *v, enum dt_sim_flavour f, enum dt_sim_ksyms ks)
{
	vm_open_build(v, f, ks, 0);
}

static void vm_close(struct vm *v)
{
	dt_symtab_free(v->map);
	dt_hv_sim.unpause(v->dom);
	dt_hv_sim.dom_close(v->dom);
	dt_hv_sim.close(v->hv);
}

static uint64_t sym(const struct vm *v, const char *name)
{
	const struct dt_sym *s = dt_symtab_find(v->map, name);

	ck_assert_msg(s != NULL, "%s not in the map", name);
	return s->addr + v->ki.kaslr_offset;
}

/* Every map symbol is in the decoded table at the same (map) address, and no other. */
static void same_as_map(const struct vm *v, const struct dt_symtab *tab, bool percpu_a)
{
	size_t i, n = dt_symtab_count(v->map);

	ck_assert_uint_eq(dt_symtab_count(tab), n);
	ck_assert_uint_eq(dt_symtab_skipped(tab), 0);
	for (i = 0; i < n; i++) {
		const struct dt_sym *m = dt_symtab_index(v->map, i), *k = dt_symtab_index(tab, i);

		ck_assert_str_eq(k->name, m->name);
		ck_assert_msg(k->addr == m->addr, "%s: 0x%llx in kallsyms, 0x%llx in the map",
			      m->name, (unsigned long long)k->addr, (unsigned long long)m->addr);
		if (percpu_a && m->addr < (16u << 20)) /* per-cpu, __per_cpu_end too */
			ck_assert_int_eq(k->type, 'A');
		else
			ck_assert_int_eq(k->type, m->type);
	}
}

/* build 1 has 256 more symbols than build 0: odd and even marker counts (an odd count of
 * u32 markers is followed by 4 bytes of padding, which alone read as a marker 0) */
static const struct {
	enum dt_sim_flavour f;
	enum dt_sim_ksyms ks;
	int build;
	bool relative, first, seqs;
	uint8_t marker;
} layouts[] = {
	{ DT_SIM_FLAVOUR_61, DT_SIM_KSYMS_ABS, 0, false, false, false, 8 },
	{ DT_SIM_FLAVOUR_61, DT_SIM_KSYMS_REL, 0, true, false, false, 8 },
	{ DT_SIM_FLAVOUR_66, DT_SIM_KSYMS_64, 0, true, true, true, 4 },
	{ DT_SIM_FLAVOUR_66, DT_SIM_KSYMS_REL, 0, true, false, false, 8 },
	{ DT_SIM_FLAVOUR_61, DT_SIM_KSYMS_64, 0, true, true, true, 4 },
	{ DT_SIM_FLAVOUR_61, DT_SIM_KSYMS_REL_SEQS, 0, true, false, true, 4 },
	{ DT_SIM_FLAVOUR_66, DT_SIM_KSYMS_REL_SEQS, 0, true, false, true, 4 },
	{ DT_SIM_FLAVOUR_61, DT_SIM_KSYMS_ABS, 1, false, false, false, 8 },
	{ DT_SIM_FLAVOUR_61, DT_SIM_KSYMS_REL, 1, true, false, false, 8 },
	{ DT_SIM_FLAVOUR_66, DT_SIM_KSYMS_64, 1, true, true, true, 4 },
	{ DT_SIM_FLAVOUR_61, DT_SIM_KSYMS_REL_SEQS, 1, true, false, true, 4 },
};

START_TEST(decoded_equals_map)
{
	struct dt_kallsyms_info info;
	struct dt_guest_params gp = { .vm_name = "vm" };
	struct dt_symtab *tab = NULL;
	struct dt_guest *g = NULL;
	char err[512] = "";
	struct vm v;

	vm_open_build(&v, layouts[_i].f, layouts[_i].ks, layouts[_i].build);
	ck_assert_msg(!dt_kallsyms_from_guest(&dt_hv_sim, v.dom, 0, "vm", &tab, &info, err,
					      sizeof(err)),
		      "%s", err);
	ck_assert_uint_eq(info.relative, layouts[_i].relative);
	ck_assert_uint_eq(info.tables_first, layouts[_i].first);
	ck_assert_uint_eq(info.seqs_of_names, layouts[_i].seqs);
	ck_assert_uint_eq(info.marker_size, layouts[_i].marker);
	ck_assert_uint_eq(info.absolute_percpu, layouts[_i].relative);
	ck_assert_uint_eq(info.num_syms, dt_symtab_count(v.map));
	ck_assert_uint_eq(info.token_table, sym(&v, "kallsyms_token_table"));
	ck_assert_uint_eq(info.names, sym(&v, "kallsyms_names"));
	ck_assert_uint_eq(info.delta, v.ki.kaslr_offset);
	ck_assert_ptr_nonnull(strstr(info.banner, v.ki.release));
	ck_assert_ptr_nonnull(strstr(dt_symtab_label(tab), v.ki.release));
	same_as_map(&v, tab, layouts[_i].relative);
	/* and it is used like a map: KASLR, checks, offsets */
	gp.symtab = tab;
	ck_assert_msg(!dt_guest_open(&dt_hv_sim, v.dom, &gp, &g, err, sizeof(err)), "%s", err);
	ck_assert_uint_eq(dt_guest_kaslr(g), v.ki.kaslr_offset);
	ck_assert_str_eq(dt_guest_release(g), v.ki.release);
	ck_assert(dt_kallsyms_same_build(&dt_hv_sim, v.dom, 0, NULL, tab, info.banner));
	ck_assert(!dt_kallsyms_same_build(&dt_hv_sim, v.dom, 0, NULL, tab, "Linux version 0.0"));
	dt_guest_close(g);
	dt_symtab_free(tab);
	vm_close(&v);
}
END_TEST


/* ---- hostile tables: each patch is refused, never a crash; restored, all is well ---- */

struct patch {
	const char *what;
	int where; /* 0 num_syms, 1 markers, 2 token index, 3 token table, 4 offsets, 5 base,
		    * 6 names */
	uint64_t at;	  /* bytes into it */
	uint8_t len;
	uint64_t value;	  /* little-endian, len bytes */
	bool add;	  /* value added to what is there */
};

static const struct patch patches[] = {
	{ "num_syms + 1", 0, 0, 4, 1, true },
	{ "num_syms - 300", 0, 0, 4, (uint64_t)-300, true },
	{ "num_syms huge", 0, 0, 4, 0xffffffffu, false },
	{ "num_syms 0", 0, 0, 4, 0, false },
	{ "second marker + 1", 1, 8, 8, 1, true },
	{ "second marker 0 (a loop back)", 1, 8, 8, 0, false },
	{ "last marker past the names", 1, 8, 8, 0x7fffffff, false },
	{ "token index not increasing", 2, 10, 2, 0, false },
	{ "token index step too long", 2, 2, 2, 0x4000, false },
	{ "token with a control byte", 3, 0, 1, 1, false },
	{ "token table NULs gone", 3, 0, 8, 0x4141414141414141ull, false },
	{ "offset out of order", 4, 40, 4, 0x7fffffff, false },
	{ "offset far outside the image", 4, 400, 4, 0x80000000u, false },
	{ "relative_base 0", 5, 0, 8, 0, false },
	{ "relative_base user address", 5, 0, 8, 0x400000, false },
	{ "name length 0", 6, 0, 1, 0, false },
	{ "name length past the table", 6, 0, 2, 0x7fff, false },
	{ "name length two-byte loop", 6, 0, 2, 0x8080, false },
};

#define NPATCH (sizeof(patches) / sizeof(patches[0]))
static const enum dt_sim_ksyms hostile_layouts[] = { DT_SIM_KSYMS_REL, DT_SIM_KSYMS_REL_SEQS,
						     DT_SIM_KSYMS_64 };

START_TEST(hostile_tables_refused)
{
	const struct patch *pt = &patches[_i % NPATCH];
	enum dt_sim_ksyms layout = hostile_layouts[_i / NPATCH];
	struct dt_kallsyms_info info, info2;
	struct dt_symtab *tab = NULL;
	uint64_t va, old = 0, val;
	char err[512] = "";
	struct vm v;
	int r;

	vm_open(&v, DT_SIM_FLAVOUR_61, layout);
	ck_assert_int_eq(dt_kallsyms_from_guest(&dt_hv_sim, v.dom, 0, "vm", &tab, &info, err,
						sizeof(err)), 0);
	dt_symtab_free(tab);
	tab = NULL;
	switch (pt->where) {
	case 0: va = info.num_syms_va; break;
	case 1: va = info.markers; break;
	case 2: va = info.token_index; break;
	case 3: va = info.token_table; break;
	case 4: va = info.addrs; break;
	case 5: va = info.addrs + ((4ull * info.num_syms + 7) & ~7ull); break;
	default: va = info.names; break;
	}
	va += pt->at;
	ck_assert_int_eq(dt_hv_sim.read_va(v.dom, v.ki.kernel_cr3, va, &old, pt->len), pt->len);
	val = pt->add ? old + pt->value : pt->value;
	ck_assert_int_eq(dt_hv_sim.write_va(v.dom, v.ki.kernel_cr3, va, &val, pt->len), 0);
	err[0] = '\0';
	r = dt_kallsyms_from_guest(&dt_hv_sim, v.dom, 0, "vm", &tab, &info2, err, sizeof(err));
	ck_assert_msg(r == -EINVAL || r == -ENOENT, "%s (layout %d): accepted (%d)", pt->what,
		      layout, r);
	ck_assert_ptr_null(tab);
	ck_assert_msg(strstr(err, "VM 'vm'") && strstr(err, "kallsyms"), "%s: %s", pt->what, err);
	/* put back: found again */
	ck_assert_int_eq(dt_hv_sim.write_va(v.dom, v.ki.kernel_cr3, va, &old, pt->len), 0);
	ck_assert_int_eq(dt_kallsyms_from_guest(&dt_hv_sim, v.dom, 0, "vm", &tab, &info2, err,
						sizeof(err)), 0);
	ck_assert_uint_eq(info2.num_syms, info.num_syms);
	dt_symtab_free(tab);
	vm_close(&v);
}
END_TEST

/* A kernel built without kallsyms: refused, naming what is missing. */
START_TEST(no_kallsyms_refused)
{
	struct dt_symtab *tab = NULL;
	char err[512] = "";
	struct vm v;

	vm_open(&v, DT_SIM_FLAVOUR_66, DT_SIM_KSYMS_NONE);
	ck_assert_int_eq(dt_kallsyms_from_guest(&dt_hv_sim, v.dom, 0, "vm", &tab, NULL, err,
						sizeof(err)),
			 -ENOENT);
	ck_assert_ptr_null(tab);
	ck_assert_msg(strstr(err, "no usable kallsyms") && strstr(err, "token_table"), "%s", err);
	vm_close(&v);
}
END_TEST

/* ---- the daemon: no map anywhere ---- */

static struct dt_sim_vm_params extra_vm(const char *name, enum dt_sim_flavour f)
{
	struct dt_sim_vm_params vp = { .flavour = f, .build = 0 };

	snprintf(vp.name, sizeof(vp.name), "%s", name);
	return vp;
}

/* 6 guests on 2 kernel builds, no System.map at all: all traced, 2 tables decoded. */
START_TEST(no_map_six_guests_two_decodes)
{
	static const char *const names[] = { "extra-a", "extra-b", "extra-c", "extra-d" };
	struct dt_harness h;
	size_t i;

	dt_harness_init(&h, 2); /* sim-vm0 6.1, sim-vm1 6.6, build 0 both */
	h.sp.sysmap_dir = NULL;
	h.o.sysmap_dir = NULL;
	h.sp.workload = true;
	dt_harness_start(&h, NULL, NULL);
	for (i = 0; i < 4; i++) {
		struct dt_sim_vm_params vp =
			extra_vm(names[i], i % 2 ? DT_SIM_FLAVOUR_66 : DT_SIM_FLAVOUR_61);

		(void)dt_harness_create_vm(&h, &vp);
	}
	ck_assert(dt_harness_wait_attached(&h, 6, 60000));
	ck_assert_uint_eq(atomic_load(&h.d->stats.attached), 6);
	ck_assert_uint_eq(atomic_load(&h.d->stats.syms_kallsyms), 6);
	ck_assert_uint_eq(atomic_load(&h.d->stats.syms_map), 0);
	ck_assert_uint_eq(atomic_load(&h.d->stats.kallsyms_decoded), 2);
	/* each decode read its tables with the guest running: no pause is held through one
	 * (decoding under the attach's pause read 671,151 bytes in one; now 6,914) */
	{
		struct dt_sim_counters c;

		ck_assert_int_eq(dt_sim_counters(h.host, 0, &c), 0);
		ck_assert_uint_gt(c.pause_read_max, 0);
		ck_assert_uint_lt(c.pause_read_max, 64 * 1024);
	}
	ck_assert(dt_harness_wait_traps(&h, 200, 60000)); /* and it traces */
	dt_harness_finish(&h);
	dt_harness_free(&h);
}
END_TEST

/* A fitting map in the directory is preferred; where none fits, the guest's kallsyms. */
START_TEST(map_preferred_kallsyms_when_none_fits)
{
	struct dt_harness h;
	char path[256];
	FILE *f;

	dt_harness_init(&h, 2);
	h.sp.workload = true;
	dt_harness_start(&h, NULL, NULL);
	ck_assert(dt_harness_wait_attached(&h, 2, 60000));
	ck_assert_uint_eq(atomic_load(&h.d->stats.syms_map), 2);
	ck_assert_uint_eq(atomic_load(&h.d->stats.kallsyms_decoded), 0);
	dt_harness_finish(&h);
	dt_harness_free(&h);

	/* a directory holding only a map that fits nothing */
	dt_harness_init(&h, 1);
	h.sp.sysmap_dir = NULL;
	snprintf(path, sizeof(path), "%s/System.map-9.9.9-other", h.dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("ffffffff81000000 T _text\nffffffff81000040 T entry_SYSCALL_64\n"
	      "ffffffff82000000 R linux_banner\n", f);
	ck_assert_int_eq(fclose(f), 0);
	dt_harness_start(&h, NULL, NULL);
	ck_assert(dt_harness_wait_attached(&h, 1, 60000));
	ck_assert_uint_eq(atomic_load(&h.d->stats.attached), 1);
	ck_assert_uint_eq(atomic_load(&h.d->stats.syms_kallsyms), 1);
	dt_harness_finish(&h);
	dt_harness_free(&h);
}
END_TEST

/* No map and no kallsyms: refused, the guest untouched. */
START_TEST(no_map_no_kallsyms_refused)
{
	struct dt_harness h;
	struct dt_trap_totals t;

	dt_harness_init(&h, 1);
	h.sp.sysmap_dir = NULL;
	h.o.sysmap_dir = NULL;
	h.sp.ksyms = DT_SIM_KSYMS_NONE;
	h.sp.workload = true;
	dt_harness_start(&h, NULL, NULL);
	ck_assert(dt_harness_wait_attached(&h, 1, 60000));
	ck_assert_uint_eq(atomic_load(&h.d->stats.refused), 1);
	dt_daemon_totals(h.d, &t);
	ck_assert_uint_eq(t.traps, 0);
	dt_harness_finish(&h);
	dt_harness_free(&h);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("kallsyms");
	TCase *tc = tcase_create("sim");
	int r;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/dt-ks-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, decoded_equals_map, 0, sizeof(layouts) / sizeof(layouts[0]));
	tcase_add_loop_test(tc, hostile_tables_refused, 0,
			    NPATCH * (sizeof(hostile_layouts) / sizeof(hostile_layouts[0])));
	tcase_add_test(tc, no_kallsyms_refused);
	suite_add_tcase(s, tc);
	tc = tcase_create("daemon");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, no_map_six_guests_two_decodes);
	tcase_add_test(tc, map_preferred_kallsyms_when_none_fits);
	tcase_add_test(tc, no_map_no_kallsyms_refused);
	suite_add_tcase(s, tc);
	r = dt_check_run(s);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		(void)!system(cmd);
	}
	return r;
}
