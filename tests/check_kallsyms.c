// SPDX-License-Identifier: GPL-2.0-only
/*
 * engine/guest/kallsyms.c against the simulated host: for every kallsyms layout the sim
 * lays out (absolute, relative 5.10/6.1, 6.4+ with seqs_of_names) the table decoded from
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
#include "engine/guest/kallsyms.h"
#include "sim/sim.h"
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

static void vm_open(struct vm *v, enum dt_sim_flavour f, enum dt_sim_ksyms ks)
{
	struct dt_sim_params p;
	struct dt_vm_info *vms = NULL;
	char err[256] = "";
	size_t n;

	memset(v, 0, sizeof(*v));
	dt_sim_params_default(&p);
	p.n_vms = 1;
	p.flavour = f;
	p.ksyms = ks;
	p.workload = false;
	p.sysmap_dir = tmpdir;
	p.err = err;
	p.errlen = sizeof(err);
	ck_assert_msg(dt_hv_sim.open(&p, &v->hv) == 0, "open: %s", err);
	v->h = dt_sim_host_from(v->hv);
	ck_assert_int_eq(dt_hv_sim.list_vms(v->hv, &vms, &n), 0);
	ck_assert_uint_eq(n, 1);
	v->domid = vms[0].domid;
	free(vms);
	ck_assert_int_eq(dt_hv_sim.dom_open(v->hv, v->domid, &v->dom), 0);
	ck_assert_int_eq(dt_hv_sim.pause(v->dom), 0);
	ck_assert_int_eq(dt_sim_kernel_info(v->h, v->domid, &v->ki), 0);
	ck_assert_msg(!dt_symtab_load(v->ki.sysmap_path, &v->map, err, sizeof(err)), "%s", err);
	ck_assert_int_eq(dt_hv_sim.get_regs(v->dom, 0, &v->regs), 0);
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

static const struct {
	enum dt_sim_flavour f;
	enum dt_sim_ksyms ks;
	bool relative, first, seqs;
	uint8_t marker;
} layouts[] = {
	{ DT_SIM_FLAVOUR_61, DT_SIM_KSYMS_ABS, false, false, false, 8 },
	{ DT_SIM_FLAVOUR_61, DT_SIM_KSYMS_REL, true, false, false, 8 },
	{ DT_SIM_FLAVOUR_66, DT_SIM_KSYMS_64, true, true, true, 4 },
	{ DT_SIM_FLAVOUR_66, DT_SIM_KSYMS_REL, true, false, false, 8 },
	{ DT_SIM_FLAVOUR_61, DT_SIM_KSYMS_64, true, true, true, 4 },
};

START_TEST(decoded_equals_map)
{
	struct dt_kallsyms_info info;
	struct dt_guest_params gp = { .vm_name = "vm" };
	struct dt_symtab *tab = NULL;
	struct dt_guest *g = NULL;
	char err[512] = "";
	struct vm v;

	vm_open(&v, layouts[_i].f, layouts[_i].ks);
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
	ck_assert(dt_kallsyms_same_build(&dt_hv_sim, v.dom, 0, tab, info.banner));
	ck_assert(!dt_kallsyms_same_build(&dt_hv_sim, v.dom, 0, tab, "Linux version 0.0"));
	dt_guest_close(g);
	dt_symtab_free(tab);
	vm_close(&v);
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
	suite_add_tcase(s, tc);
	r = dt_check_run(s);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		(void)!system(cmd);
	}
	return r;
}
