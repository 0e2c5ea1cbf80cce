// SPDX-License-Identifier: GPL-2.0-only
/*
 * check_sim.c - the simulated host: page tables, System.map vs memory, BTF, syscall tables,
 * KASLR, the task list in guest memory, the built-in workload, VM lifecycle notes.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/btf.h>

#include "domtrace/sim.h"
#include "sim_priv.h"

static char tmpdir[64];

static struct dt_hv *open_sim(uint32_t n, enum dt_sim_flavour f, bool workload,
			      struct dt_sim_host **ret_h)
{
	struct dt_sim_params p;
	struct dt_hv *hv = NULL;
	char err[256] = "";

	dt_sim_params_default(&p);
	p.n_vms = n;
	p.flavour = f;
	p.workload = workload;
	p.rate = 0;
	p.sysmap_dir = tmpdir;
	p.err = err;
	p.errlen = sizeof(err);
	ck_assert_msg(dt_hv_sim.open(&p, &hv) == 0, "open: %s", err);
	*ret_h = dt_sim_host_from(hv);
	ck_assert_ptr_nonnull(*ret_h);
	return hv;
}

/* ---- page tables ---- */
START_TEST(test_walk)
{
	struct sim_mem m;
	struct sim_walk w;
	uint64_t pgd, pa, v;
	uint8_t buf[16];

	ck_assert_int_eq(dt_sim_mem_init(&m, 16ULL << 20), 0);
	pgd = dt_sim_page_alloc(&m, 1);
	ck_assert_uint_ne(pgd, 0);
	pa = dt_sim_page_alloc(&m, 1);
	/* a 4 KiB user page */
	ck_assert_int_eq(dt_sim_map4k(&m, pgd, 0x7f0000001000ULL, pa, PTE_P | PTE_RW | PTE_US,
				      NULL, NULL, 0),
			 0);
	ck_assert_int_eq(dt_sim_walk(&m, pgd, 0x7f0000001234ULL, &w), 0);
	ck_assert_uint_eq(w.pa, pa + 0x234);
	ck_assert_uint_eq(w.page_size, 4096);
	/* PCID bits in CR3 are ignored */
	ck_assert_int_eq(dt_sim_walk(&m, pgd | 0x7ab, 0x7f0000001234ULL, &w), 0);
	ck_assert_uint_eq(w.pa, pa + 0x234);
	/* a 2 MiB page */
	ck_assert_int_eq(dt_sim_map2m(&m, pgd, 0xffff888000200000ULL, 0x200000, PTE_P | PTE_RW),
			 0);
	ck_assert_int_eq(dt_sim_walk(&m, pgd, 0xffff8880002abcdeULL, &w), 0);
	ck_assert_uint_eq(w.pa, 0x2abcde);
	ck_assert_uint_eq(w.page_size, 2ULL << 20);
	/* not present: the next page, and a backed-but-absent PTE */
	ck_assert_int_eq(dt_sim_walk(&m, pgd, 0x7f0000002000ULL, &w), -EFAULT);
	ck_assert_int_eq(dt_sim_map4k(&m, pgd, 0x7f0000002000ULL, dt_sim_page_alloc(&m, 1),
				      PTE_RW | PTE_US | PTE_BACKED, NULL, NULL, 0),
			 0);
	ck_assert_int_eq(dt_sim_walk(&m, pgd, 0x7f0000002000ULL, &w), -EFAULT);
	/* reads stop at the first hole, writes are all or nothing */
	v = 0x1122334455667788ULL;
	dt_sim_gcopy_in(&m, pa + 4088, &v, 8);
	ck_assert_int_eq(dt_sim_read_va(&m, pgd, 0x7f0000001ff8ULL, buf, 16), 8);
	ck_assert_int_eq(memcmp(buf, &v, 8), 0);
	ck_assert_int_eq(dt_sim_write_va(&m, pgd, 0x7f0000001ffcULL, buf, 8), -EFAULT);
	ck_assert_uint_eq(dt_sim_gread64(&m, pa + 4088), v);
	/* non-canonical */
	ck_assert_int_eq(dt_sim_walk(&m, pgd, 0x0000900000000000ULL, &w), -EFAULT);
	dt_sim_mem_fini(&m);
}
END_TEST

/* ---- System.map ---- */
struct map {
	char name[128];
	uint64_t addr;
	char type;
};

static size_t load_map(const char *path, struct map **ret)
{
	FILE *f = fopen(path, "r");
	struct map *m = NULL;
	size_t n = 0, cap = 0;
	char line[256];
	uint64_t prev = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a;
		char t, name[128];

		ck_assert_int_eq(sscanf(line, "%16llx %c %127s", &a, &t, name), 3);
		ck_assert_msg(strlen(line) == 16 + 3 + strlen(name) + 1, "format: %s", line);
		ck_assert_msg(a >= prev, "System.map not sorted at %s", name);
		prev = a;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			m = realloc(m, cap * sizeof(*m));
			ck_assert_ptr_nonnull(m);
		}
		snprintf(m[n].name, sizeof(m[n].name), "%s", name);
		m[n].addr = a;
		m[n].type = t;
		n++;
	}
	fclose(f);
	*ret = m;
	return n;
}

static uint64_t map_sym(const struct map *m, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(m[i].name, name))
			return m[i].addr;
	ck_abort_msg("symbol %s not in System.map", name);
	return 0;
}

static bool map_has(const struct map *m, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(m[i].name, name))
			return true;
	return false;
}

static uint64_t rd(struct dt_hv_dom *dom, uint64_t cr3, uint64_t va)
{
	uint64_t v = 0;

	ck_assert_int_eq(dt_hv_sim.read_va(dom, cr3, va, &v, 8), 8);
	return v;
}

static void check_kernel(struct dt_hv *hv, struct dt_sim_host *h, uint32_t domid)
{
	struct dt_sim_kernel_info ki;
	struct dt_hv_dom *dom;
	struct map *m;
	size_t n, i, checked = 0;
	uint64_t slide, cr3, a, tbl, pob;
	char banner[256];
	uint8_t b[16];
	bool f66;

	ck_assert_int_eq(dt_sim_kernel_info(h, domid, &ki), 0);
	f66 = ki.flavour == DT_SIM_FLAVOUR_66;
	ck_assert_uint_eq(ki.kaslr_offset % (2ULL << 20), 0);
	ck_assert_uint_lt(ki.kaslr_offset, 1ULL << 30);
	ck_assert_uint_ne(ki.kaslr_offset, 0);
	ck_assert_int_eq(dt_hv_sim.dom_open(hv, domid, &dom), 0);
	n = load_map(ki.sysmap_path, &m);
	ck_assert_uint_gt(n, 800);
	slide = ki.kaslr_offset;
	cr3 = ki.kernel_cr3;
	ck_assert_uint_eq(map_sym(m, n, "_text") + slide, ki.text);
	ck_assert_uint_eq(map_sym(m, n, "_text"), 0xffffffff81000000ULL);
	/* per-CPU symbols are small and not slid */
	ck_assert_uint_lt(map_sym(m, n, f66 ? "pcpu_hot" : "current_task"), 0x20000);
	ck_assert(!map_has(m, n, f66 ? "current_task" : "pcpu_hot"));
	/* linux_banner */
	a = map_sym(m, n, "linux_banner") + slide;
	ck_assert_int_gt(dt_hv_sim.read_va(dom, cr3, a, banner, sizeof(banner)), 0);
	banner[sizeof(banner) - 1] = 0;
	ck_assert_msg(!strncmp(banner, "Linux version ", 14), "%s", banner);
	ck_assert_ptr_nonnull(strstr(banner, ki.release));
	ck_assert_ptr_nonnull(strstr(banner, f66 ? "sim-6.6" : "sim-6.1"));
	/* init_task: pid 0, "swapper/0" */
	{
		struct dt_sim_offsets o;
		char comm[16];
		int32_t pid = -1;

		ck_assert_int_eq(dt_sim_offsets(h, domid, &o), 0);
		a = map_sym(m, n, "init_task") + slide;
		ck_assert_uint_eq(a, ki.init_task);
		ck_assert_int_eq(dt_hv_sim.read_va(dom, cr3, a + o.task_comm, comm, 16), 16);
		ck_assert_str_eq(comm, "swapper/0");
		ck_assert_int_eq(dt_hv_sim.read_va(dom, cr3, a + o.task_pid, &pid, 4), 4);
		ck_assert_int_eq(pid, 0);
	}
	/* page_offset_base variable */
	a = map_sym(m, n, "page_offset_base") + slide;
	ck_assert_int_eq(dt_hv_sim.read_va(dom, cr3, a, &pob, 8), 8);
	ck_assert_uint_eq(pob, ki.page_offset_base);
	/* every syscall table entry points at a function with the flavour's prologue */
	tbl = map_sym(m, n, "sys_call_table") + slide;
	for (i = 0; i < n; i++) {
		uint64_t fn;
		unsigned nr;
		size_t k;

		if (strncmp(m[i].name, "__x64_sys_", 10) || !strcmp(m[i].name,
								    "__x64_sys_ni_syscall"))
			continue;
		ck_assert_int_eq(dt_hv_sim.read_va(dom, cr3, m[i].addr + slide, b, 16), 16);
		if (f66)
			ck_assert_msg(!memcmp(b, "\xf3\x0f\x1e\xfa\x0f\x1f\x44\x00\x00", 9),
				      "%s prologue", m[i].name);
		else
			ck_assert_msg(!memcmp(b, "\x0f\x1f\x44\x00\x00\x55", 6), "%s prologue",
				      m[i].name);
		/* find its number: the table must hold this address at that index */
		for (k = 0; k < dt_sim_sysnr_64_len; k++) {
			const char *nm = m[i].name + 10;

			if (strcmp(dt_sim_sysnr_64[k].name, nm))
				continue;
			nr = dt_sim_sysnr_64[k].nr;
			ck_assert_int_eq(dt_hv_sim.read_va(dom, cr3, tbl + nr * 8, &fn, 8), 8);
			ck_assert_msg(fn == m[i].addr + slide, "sys_call_table[%u] != %s", nr,
				      m[i].name);
			checked++;
		}
	}
	ck_assert_uint_gt(checked, 300);
	/* every x86-64 syscall has an entry pointing at a function in text */
	for (i = 0; i < dt_sim_sysnr_64_len; i++) {
		uint64_t fn;

		ck_assert_int_eq(dt_hv_sim.read_va(dom, cr3, tbl + dt_sim_sysnr_64[i].nr * 8, &fn,
						   8),
				 8);
		ck_assert_uint_ge(fn, ki.text);
		ck_assert_uint_lt(fn, map_sym(m, n, "_etext") + slide);
	}
	/* the pt_regs wrappers and friends the engine looks for */
	ck_assert(map_has(m, n, "__x64_sys_openat"));
	ck_assert(map_has(m, n, "__x64_sys_execve"));
	ck_assert(map_has(m, n, "__ia32_sys_socketcall"));
	ck_assert(map_has(m, n, "__ia32_compat_sys_socketcall"));
	ck_assert(map_has(m, n, "ia32_sys_call_table"));
	/* i386 entries reach the functions syscall_32.tbl names (the engine probes those) */
	{
		static const struct {
			unsigned nr;
			const char *fn;
		} i386[] = { { 162, "__ia32_sys_nanosleep_time32" },
			     { 267, "__ia32_sys_clock_nanosleep_time32" },
			     { 24, "__ia32_sys_getuid16" },
			     { 199, "__ia32_sys_getuid" },
			     { 20, "__ia32_sys_getpid" },
			     { 309, "__ia32_compat_sys_ppoll_time32" } };
		uint64_t t32 = map_sym(m, n, "ia32_sys_call_table") + slide, fn;

		for (i = 0; i < sizeof(i386) / sizeof(i386[0]); i++) {
			ck_assert_int_eq(dt_hv_sim.read_va(dom, cr3, t32 + i386[i].nr * 8, &fn, 8), 8);
			ck_assert_msg(fn == map_sym(m, n, i386[i].fn) + slide,
				      "ia32_sys_call_table[%u] is not %s", i386[i].nr, i386[i].fn);
		}
	}
	ck_assert(map_has(m, n, "do_exit"));
	ck_assert(map_has(m, n, "do_execveat_common"));
	ck_assert(map_has(m, n, "bprm_execve"));
	ck_assert(map_has(m, n, "__x86_return_thunk"));
	ck_assert(map_has(m, n, "__per_cpu_offset"));
	ck_assert(map_has(m, n, "__start_syscalls_metadata"));
	/* LSTAR points at entry_SYSCALL_64 */
	{
		struct dt_regs r;

		ck_assert_int_eq(dt_hv_sim.pause(dom), 0);
		ck_assert_int_eq(dt_hv_sim.get_regs(dom, 0, &r), 0);
		ck_assert_uint_eq(r.lstar, map_sym(m, n, "entry_SYSCALL_64") + slide);
		ck_assert_int_eq(dt_hv_sim.unpause(dom), 0);
	}
	/* syscall metadata (CONFIG_FTRACE_SYSCALLS) */
	{
		uint64_t ms = map_sym(m, n, "__start_syscalls_metadata") + slide;
		uint64_t me = map_sym(m, n, "__stop_syscalls_metadata") + slide, p, q;
		char name[32], arg[32];
		int32_t nr_args[2];
		bool found = false;

		ck_assert_uint_gt(me, ms);
		for (a = ms; a < me; a += 8) {
			p = rd(dom, cr3, a);
			ck_assert_int_gt(dt_hv_sim.read_va(dom, cr3, rd(dom, cr3, p), name,
							   sizeof(name)),
					 0);
			name[sizeof(name) - 1] = 0;
			if (strcmp(name, "sys_openat"))
				continue;
			found = true;
			ck_assert_int_eq(dt_hv_sim.read_va(dom, cr3, p + 8, nr_args, 8), 8);
			ck_assert_int_eq(nr_args[0], 257);
			ck_assert_int_eq(nr_args[1], 4);
			q = rd(dom, cr3, rd(dom, cr3, p + 24) + 8); /* args[1] */
			ck_assert_int_gt(dt_hv_sim.read_va(dom, cr3, q, arg, sizeof(arg)), 0);
			ck_assert_str_eq(arg, "filename");
			q = rd(dom, cr3, rd(dom, cr3, p + 16) + 8); /* types[1] */
			ck_assert_int_gt(dt_hv_sim.read_va(dom, cr3, q, arg, sizeof(arg)), 0);
			ck_assert_str_eq(arg, "const char *");
		}
		ck_assert(found);
	}
	/* do_exit is a traced function too */
	ck_assert_int_eq(dt_hv_sim.read_va(dom, cr3, map_sym(m, n, "do_exit") + slide, b, 9), 9);
	ck_assert(!memcmp(b + (f66 ? 4 : 0), "\x0f\x1f\x44\x00\x00", 5));
	free(m);
	dt_hv_sim.dom_close(dom);
}

START_TEST(test_kernel_61)
{
	struct dt_sim_host *h;
	struct dt_hv *hv = open_sim(1, DT_SIM_FLAVOUR_61, false, &h);

	check_kernel(hv, h, 1);
	dt_hv_sim.close(hv);
}
END_TEST

START_TEST(test_kernel_66)
{
	struct dt_sim_host *h;
	struct dt_hv *hv = open_sim(1, DT_SIM_FLAVOUR_66, false, &h);

	check_kernel(hv, h, 1);
	dt_hv_sim.close(hv);
}
END_TEST

/* ---- BTF ---- */
static uint32_t member_off(const struct btf *btf, const char *sname, const char *mname)
{
	int id = btf__find_by_name_kind(btf, sname, BTF_KIND_STRUCT);
	const struct btf_type *t;
	const struct btf_member *mb;
	int i;

	ck_assert_msg(id > 0, "struct %s missing", sname);
	t = btf__type_by_id(btf, (uint32_t)id);
	mb = btf_members(t);
	for (i = 0; i < btf_vlen(t); i++, mb++)
		if (!strcmp(btf__name_by_offset(btf, mb->name_off), mname))
			return mb->offset / 8;
	ck_abort_msg("%s.%s missing", sname, mname);
	return 0;
}

static void check_btf(struct dt_hv *hv, struct dt_sim_host *h, uint32_t domid)
{
	struct dt_sim_kernel_info ki;
	struct dt_sim_offsets o;
	struct dt_hv_dom *dom;
	uint64_t s, e;
	void *blob;
	struct btf *btf;

	ck_assert_int_eq(dt_sim_kernel_info(h, domid, &ki), 0);
	ck_assert_int_eq(dt_sim_offsets(h, domid, &o), 0);
	ck_assert_int_eq(dt_sim_symbol(h, domid, "__start_BTF", &s), 0);
	ck_assert_int_eq(dt_sim_symbol(h, domid, "__stop_BTF", &e), 0);
	ck_assert_uint_gt(e, s);
	ck_assert_int_eq(dt_hv_sim.dom_open(hv, domid, &dom), 0);
	blob = malloc(e - s);
	ck_assert_int_eq(dt_hv_sim.read_va(dom, ki.kernel_cr3, s, blob, e - s), (ssize_t)(e - s));
	btf = btf__new(blob, (uint32_t)(e - s));
	ck_assert_ptr_nonnull(btf);
	ck_assert_uint_eq(member_off(btf, "task_struct", "pid"), o.task_pid);
	ck_assert_uint_eq(member_off(btf, "task_struct", "tgid"), o.task_tgid);
	ck_assert_uint_eq(member_off(btf, "task_struct", "real_parent"), o.task_real_parent);
	ck_assert_uint_eq(member_off(btf, "task_struct", "parent"), o.task_parent);
	ck_assert_uint_eq(member_off(btf, "task_struct", "tasks"), o.task_tasks);
	ck_assert_uint_eq(member_off(btf, "task_struct", "comm"), o.task_comm);
	ck_assert_uint_eq(member_off(btf, "task_struct", "cred"), o.task_cred);
	ck_assert_uint_eq(member_off(btf, "task_struct", "real_cred"), o.task_real_cred);
	ck_assert_uint_eq(member_off(btf, "task_struct", "mm"), o.task_mm);
	ck_assert_uint_eq(member_off(btf, "cred", "uid"), o.cred_uid);
	ck_assert_uint_eq(member_off(btf, "cred", "euid"), o.cred_euid);
	ck_assert_uint_eq(member_off(btf, "cred", "fsgid"), o.cred_fsgid);
	ck_assert_uint_eq(member_off(btf, "list_head", "prev"), 8);
	ck_assert_uint_eq(member_off(btf, "pt_regs", "orig_ax"), 120);
	ck_assert_uint_eq(member_off(btf, "pt_regs", "di"), 112);
	ck_assert_uint_eq(member_off(btf, "pt_regs", "ss"), 160);
	ck_assert_uint_eq(member_off(btf, "linux_binprm", "filename"), o.binprm_filename);
	ck_assert_uint_eq(member_off(btf, "filename", "name"), 0);
	ck_assert_uint_eq(member_off(btf, "mm_struct", "pgd"), o.mm_pgd);
	if (ki.flavour == DT_SIM_FLAVOUR_66)
		ck_assert_uint_eq(member_off(btf, "pcpu_hot", "current_task"), 0);
	btf__free(btf);
	free(blob);
	dt_hv_sim.dom_close(dom);
}

START_TEST(test_btf)
{
	struct dt_sim_host *h;
	struct dt_hv *hv = open_sim(4, DT_SIM_FLAVOUR_AUTO, false, &h);
	struct dt_sim_offsets o[4];
	uint32_t d;

	for (d = 1; d <= 4; d++) {
		check_btf(hv, h, d);
		ck_assert_int_eq(dt_sim_offsets(h, d, &o[d - 1]), 0);
	}
	/* different builds lay task_struct out differently */
	ck_assert(o[0].task_pid != o[1].task_pid || o[0].task_comm != o[1].task_comm);
	ck_assert(o[0].task_pid != o[2].task_pid || o[0].task_comm != o[2].task_comm);
	dt_hv_sim.close(hv);
}
END_TEST

/* ---- the task list in guest memory equals the kernel's ---- */
static int walk_tasks(struct dt_hv_dom *dom, uint64_t cr3, uint64_t init, const struct dt_sim_offsets *o,
		      int *pids, int max)
{
	uint64_t head = init + o->task_tasks, cur = head;
	int n = 0;

	do {
		uint64_t t = cur - o->task_tasks;
		int32_t pid;

		ck_assert_int_eq(dt_hv_sim.read_va(dom, cr3, t + o->task_pid, &pid, 4), 4);
		ck_assert_int_lt(n, max);
		pids[n++] = pid;
		ck_assert_int_eq(dt_hv_sim.read_va(dom, cr3, cur, &cur, 8), 8);
	} while (cur != head);
	return n;
}

START_TEST(test_workload)
{
	struct dt_sim_host *h;
	struct dt_hv *hv = open_sim(2, DT_SIM_FLAVOUR_AUTO, true, &h);
	struct dt_sim_counters c;
	struct dt_sim_kernel_info ki;
	struct dt_sim_offsets o;
	struct dt_sim_task *tasks;
	struct dt_hv_dom *dom, *dom2;
	struct dt_sim_call calls[256];
	uint64_t cursor = 0;
	size_t nt, i, n;
	int pids[512], np, tries;
	bool saw_exec = false, saw_fork = false;

	/* let it run until real work happened (bounded) */
	for (tries = 0; tries < 200; tries++) {
		ck_assert_int_eq(dt_sim_counters(h, 0, &c), 0);
		if (c.execs > 10 && c.exits > 10)
			break;
		usleep(50000);
	}
	ck_assert_uint_gt(c.execs, 10);
	ck_assert_uint_gt(c.forks, 10);
	ck_assert_uint_eq(dt_sim_crashes(h, 0, NULL, 0), 0);
	ck_assert_uint_eq(dt_sim_paused_vcpus(h, 0), 0);
	n = dt_sim_calls_read(h, 1, &cursor, calls, 256, NULL);
	ck_assert_uint_gt(n, 10);
	for (i = 0; i < n; i++) {
		ck_assert(calls[i].done);
		ck_assert(calls[i].body_ran); /* nobody aborts anything here */
		saw_exec |= calls[i].nr == 59;
		saw_fork |= calls[i].nr == 57;
	}
	ck_assert(saw_exec && saw_fork);

	/* pause, and compare the guest's task list with the kernel's */
	ck_assert_int_eq(dt_hv_sim.dom_open(hv, 1, &dom), 0);
	ck_assert_int_eq(dt_hv_sim.dom_open(hv, 1, &dom2), -EBUSY);
	ck_assert_int_eq(dt_sim_kernel_info(h, 1, &ki), 0);
	ck_assert_int_eq(dt_sim_offsets(h, 1, &o), 0);
	ck_assert_int_eq(dt_hv_sim.pause(dom), 0);
	ck_assert_uint_eq(dt_sim_paused_vcpus(h, 1), ki.vcpus);
	np = walk_tasks(dom, ki.kernel_cr3, ki.init_task, &o, pids, 512);
	ck_assert_int_eq(dt_sim_tasks(h, 1, &tasks, &nt), 0);
	ck_assert_int_eq(np, (int)nt);
	for (i = 0; i < nt; i++)
		ck_assert_int_eq(pids[i], tasks[i].pid);
	free(tasks);
	ck_assert_int_eq(dt_hv_sim.unpause(dom), 0);
	ck_assert_int_eq(dt_hv_sim.unpause(dom), -EINVAL);
	dt_hv_sim.dom_close(dom);
	ck_assert_uint_eq(dt_sim_paused_vcpus(h, 0), 0);
	dt_hv_sim.close(hv);
}
END_TEST

/* ---- VMs come and go ---- */
START_TEST(test_lifecycle)
{
	struct dt_sim_host *h;
	struct dt_hv *hv = open_sim(1, DT_SIM_FLAVOUR_61, true, &h);
	struct dt_sim_vm_params vp = { .build = -1, .name = "late" };
	struct dt_vm_info *vms;
	struct dt_vm_note note;
	struct dt_hv_dom *dom;
	struct pollfd pfd;
	uint32_t domid;
	size_t n;
	uint64_t v;

	pfd.fd = dt_hv_sim.watch_fd(hv);
	pfd.events = POLLIN;
	ck_assert_int_eq(dt_hv_sim.watch_read(hv, &note), -EAGAIN);
	ck_assert_int_eq(dt_sim_vm_create(h, &vp, &domid), 0);
	ck_assert_int_eq(poll(&pfd, 1, 5000), 1);
	ck_assert_int_eq(dt_hv_sim.watch_read(hv, &note), 0);
	ck_assert_int_eq(note.change, DT_VM_APPEARED);
	ck_assert_uint_eq(note.info.domid, domid);
	ck_assert_str_eq(note.info.name, "late");
	ck_assert(note.info.traceable);
	ck_assert_int_eq(dt_sim_vm_create(h, &vp, NULL), -EEXIST);
	ck_assert_int_eq(dt_hv_sim.list_vms(hv, &vms, &n), 0);
	ck_assert_uint_eq(n, 2);
	free(vms);
	ck_assert_int_eq(dt_hv_sim.dom_open(hv, domid, &dom), 0);
	ck_assert_int_eq(dt_sim_vm_destroy(h, domid), 0);
	ck_assert_int_eq(dt_hv_sim.watch_read(hv, &note), 0);
	ck_assert_int_eq(note.change, DT_VM_GONE);
	ck_assert_uint_eq(note.info.domid, domid);
	ck_assert_int_eq(dt_hv_sim.pause(dom), -ENODEV);
	ck_assert_int_eq(dt_hv_sim.read_va(dom, 0, 0, &v, 8), -ENODEV);
	dt_hv_sim.dom_close(dom);
	ck_assert_int_eq(dt_hv_sim.dom_open(hv, domid, &dom), -ENODEV);
	ck_assert_int_eq(dt_sim_vm_destroy(h, domid), -ENOENT);
	dt_hv_sim.close(hv);
}
END_TEST

/* A worker pausing and unpausing a VM while it is destroyed (the soak's VMs come and go
 * under attached workers): every pause ends, with 0 or -ENODEV, and no vCPU state is
 * touched unlocked (a 10-minute TSan soak found vcpus_stop clearing `started` unlocked). */
struct pauser {
	struct dt_hv_dom *dom;
	int last;
	unsigned pauses;
};

static void *pause_loop(void *arg)
{
	struct pauser *p = arg;

	for (;;) {
		p->last = dt_hv_sim.pause(p->dom);
		if (p->last < 0)
			return NULL;
		p->pauses++;
		(void)dt_hv_sim.unpause(p->dom);
	}
}

START_TEST(test_pause_while_destroyed)
{
	struct dt_sim_host *h;
	struct dt_hv *hv = open_sim(1, DT_SIM_FLAVOUR_61, true, &h);

	for (int i = 0; i < 20; i++) {
		struct dt_sim_vm_params vp = { .build = -1, .name = "brief" };
		struct pauser p = { 0 };
		pthread_t th;
		uint32_t domid;

		ck_assert_int_eq(dt_sim_vm_create(h, &vp, &domid), 0);
		ck_assert_int_eq(dt_hv_sim.dom_open(hv, domid, &p.dom), 0);
		ck_assert_int_eq(pthread_create(&th, NULL, pause_loop, &p), 0);
		usleep(1000 * (i % 5));
		ck_assert_int_eq(dt_sim_vm_destroy(h, domid), 0);
		ck_assert_int_eq(pthread_join(th, NULL), 0);
		ck_assert_int_eq(p.last, -ENODEV);
		dt_hv_sim.dom_close(p.dom);
	}
	dt_hv_sim.close(hv);
}
END_TEST

/* snapshot_vms: every VM is compared with its kernel as created, also one created
 * later; a changed byte is found; a destroyed VM is counted, not compared. */
START_TEST(test_check_kernels)
{
	struct dt_sim_params p;
	struct dt_sim_kernel_check k;
	struct dt_sim_kernel_info ki;
	struct dt_sim_vm_params late = { .build = -1, .name = "late" };
	struct dt_sim_vm_params gone = { .build = -1, .name = "gone" };
	struct dt_sim_host *h;
	struct dt_hv *hv = NULL;
	uint32_t late_id, gone_id;
	uint8_t byte;

	hv = open_sim(1, DT_SIM_FLAVOUR_61, false, &h);
	ck_assert_int_eq(dt_sim_check_kernels(h, &k), -EINVAL); /* not asked for */
	dt_hv_sim.close(hv);

	dt_sim_params_default(&p);
	p.n_vms = 1;
	p.workload = false;
	p.sysmap_dir = tmpdir;
	p.snapshot_vms = true;
	ck_assert_int_eq(dt_hv_sim.open(&p, &hv), 0);
	h = dt_sim_host_from(hv);
	ck_assert_int_eq(dt_sim_vm_create(h, &late, &late_id), 0);
	ck_assert_int_eq(dt_sim_vm_create(h, &gone, &gone_id), 0);
	ck_assert_int_eq(dt_sim_check_kernels(h, &k), 0);
	ck_assert_uint_eq(k.vms, 3);
	ck_assert_uint_eq(k.intact, 3);
	ck_assert_uint_eq(k.differ + k.destroyed, 0);

	/* one byte of the late VM's kernel text changes */
	ck_assert_int_eq(dt_sim_kernel_info(h, late_id, &ki), 0);
	ck_assert_int_eq(dt_sim_vm_destroy(h, gone_id), 0);
	ck_assert_int_eq(dt_sim_phys_read(h, late_id, SIM_KERNEL_PHYS + 0x100, &byte, 1), 0);
	byte ^= 0xff;
	ck_assert_int_eq(dt_sim_phys_write(h, late_id, SIM_KERNEL_PHYS + 0x100, &byte, 1), 0);
	ck_assert_int_eq(dt_sim_check_kernels(h, &k), 0);
	ck_assert_uint_eq(k.vms, 3);
	ck_assert_uint_eq(k.intact, 1);
	ck_assert_uint_eq(k.differ, 1);
	ck_assert_uint_eq(k.destroyed, 1);
	ck_assert_uint_eq(k.first_domid, late_id);
	ck_assert_uint_eq(k.first_addr, ki.text + 0x100);
	dt_hv_sim.close(hv);
}
END_TEST

START_TEST(test_pv)
{
	struct dt_sim_params p;
	struct dt_hv *hv;
	struct dt_vm_info *vms;
	struct dt_hv_dom *dom;
	size_t n, i;
	bool found = false;

	dt_sim_params_default(&p);
	p.n_vms = 1;
	p.workload = false;
	p.pv_vm = true;
	ck_assert_int_eq(dt_hv_sim.open(&p, &hv), 0);
	ck_assert_int_eq(dt_hv_sim.list_vms(hv, &vms, &n), 0);
	for (i = 0; i < n; i++) {
		if (strcmp(vms[i].name, "sim-pv"))
			continue;
		found = true;
		ck_assert(!vms[i].traceable);
		ck_assert_ptr_nonnull(strstr(vms[i].why, "PV"));
		ck_assert_int_eq(dt_hv_sim.dom_open(hv, vms[i].domid, &dom), -EOPNOTSUPP);
	}
	ck_assert(found);
	free(vms);
	dt_hv_sim.close(hv);
}
END_TEST

START_TEST(test_bad_params)
{
	struct dt_sim_params p;
	struct dt_hv *hv = NULL;

	dt_sim_params_default(&p);
	p.vcpus = 0;
	ck_assert_int_eq(dt_hv_sim.open(&p, &hv), -EINVAL);
	dt_sim_params_default(&p);
	p.mem_mib = 8;
	ck_assert_int_eq(dt_hv_sim.open(&p, &hv), -EINVAL);
	ck_assert_ptr_null(dt_sim_host_from(NULL));
	dt_hv_sim.close(NULL);
}
END_TEST

static Suite *sim_suite(void)
{
	Suite *s = suite_create("sim");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_walk);
	tcase_add_test(tc, test_kernel_61);
	tcase_add_test(tc, test_kernel_66);
	tcase_add_test(tc, test_btf);
	tcase_add_test(tc, test_workload);
	tcase_add_test(tc, test_lifecycle);
	tcase_add_test(tc, test_pause_while_destroyed);
	tcase_add_test(tc, test_check_kernels);
	tcase_add_test(tc, test_pv);
	tcase_add_test(tc, test_bad_params);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sim_suite());
	int failed;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/dt-check-sim-XXXXXX");
	if (!mkdtemp(tmpdir))
		return EXIT_FAILURE;
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (tmpdir[0]) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
		if (system(cmd)) {
			/* leftover temp dir: harmless */
		}
	}
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
