// SPDX-License-Identifier: GPL-2.0-only
/*
 * engine/guest/ against a tiny hand-made host: a kernel image and a direct map in
 * flat buffers behind a minimal dt_hv_ops (reads, registers, translate; no write op
 * at all, so any write would crash the test). Covers the logic of attach (KASLR from
 * LSTAR and by scan, KPTI user roots, refusing wrong maps), offsets sources, current
 * task, process data, ancestry and its cache, pslist, hostile lists, pt_regs,
 * metadata. The same behaviour against the simulated host is in check_guest.c.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domtrace/guest.h"
#include "check_guest_btf.h"

#define KBASE 0xffffffff81000000ull
#define KSIZE (40ull << 20)
#define DMAP 0xffff888000000000ull
#define DSIZE (32ull << 20)
#define KROOT 0x4000ull	       /* kernel PGD; its KPTI user copy is KROOT + 0x1000 */
#define KIMG_GPA 0x1000000ull  /* where the image sits in guest-physical memory */

/* map addresses (before KASLR) */
#define M_SYS(nr) (KBASE + 0x1000 + (uint64_t)(nr) * 0x40)
#define M_NI_SYSCALL (KBASE + 0x900)
#define M_ENTRY (KBASE + 0x800000)
#define M_BANNER 0xffffffff82000000ull
#define M_SCT 0xffffffff82001000ull
#define M_PGT 0xffffffff82010000ull
#define M_PCPU_OFF 0xffffffff82011000ull
#define M_META 0xffffffff82012000ull
#define M_META_DATA 0xffffffff82013000ull
#define M_BTF 0xffffffff82100000ull
#define M_INIT_TASK 0xffffffff82400000ull
#define M_INIT_CRED 0xffffffff82500000ull
#define PCPU_CURRENT 0x1fbc0ull
#define PCPU_HOT 0x32840ull
#define PCPU_AREA(cpu) (DMAP + 0x100000 + (uint64_t)(cpu) * 0x100000)
#define TASK(i) (DMAP + 0x1000000 + (uint64_t)(i) * 0x4000)
#define CRED(i) (DMAP + 0x1800000 + (uint64_t)(i) * 0x100)

struct mock {
	uint8_t *kimg, *dmap;
	uint64_t kaslr;
	struct dt_regs regs;
	unsigned long reads;
	bool gone;
	uint64_t hole; /* a page that is not present, 0: none */
};

static struct dt_hv_dom *as_dom(struct mock *m)
{
	return (struct dt_hv_dom *)m;
}

static uint8_t *mock_ptr(struct mock *m, uint64_t va)
{
	if (va >= KBASE + m->kaslr && va - (KBASE + m->kaslr) < KSIZE)
		return m->kimg + (va - (KBASE + m->kaslr));
	if (va >= DMAP && va - DMAP < DSIZE)
		return m->dmap + (va - DMAP);
	return NULL;
}

static ssize_t mock_read_va(struct dt_hv_dom *dom, uint64_t cr3, uint64_t va, void *buf,
			    size_t len)
{
	struct mock *m = (struct mock *)dom;
	uint64_t pgt_gpa = KIMG_GPA + (M_PGT - KBASE);
	size_t done = 0;

	if (m->gone)
		return -ENODEV;
	m->reads++;
	/* only the kernel roots map the kernel (a KPTI user root maps nearly none) */
	if (cr3 != KROOT && cr3 != pgt_gpa)
		return 0;
	while (done < len) {
		uint64_t a = va + done;
		size_t chunk = 4096 - (a & 4095);
		uint8_t *p = mock_ptr(m, a);

		if (!p || (m->hole && (a & ~4095ull) == m->hole))
			break;
		if (chunk > len - done)
			chunk = len - done;
		memcpy((uint8_t *)buf + done, p, chunk);
		done += chunk;
	}
	return (ssize_t)done;
}

static int mock_translate(struct dt_hv_dom *dom, uint64_t cr3, uint64_t va, uint64_t *ret_gpa)
{
	struct mock *m = (struct mock *)dom;

	if (m->gone)
		return -ENODEV;
	if (va < KBASE + m->kaslr || va - (KBASE + m->kaslr) >= KSIZE)
		return -EFAULT;
	*ret_gpa = KIMG_GPA + (va - (KBASE + m->kaslr));
	return 0;
}

static int mock_get_regs(struct dt_hv_dom *dom, uint32_t vcpu, struct dt_regs *ret_regs)
{
	struct mock *m = (struct mock *)dom;

	if (m->gone)
		return -ENODEV;
	if (vcpu > 1)
		return -EINVAL;
	*ret_regs = m->regs;
	return 0;
}

static const struct dt_hv_ops mock_ops = {
	.name = "mock",
	.abi = DT_HV_ABI,
	.get_regs = mock_get_regs,
	.read_va = mock_read_va,
	.translate = mock_translate,
};

static void put(struct mock *m, uint64_t va, const void *data, size_t len)
{
	uint8_t *p = mock_ptr(m, va);

	ck_assert_ptr_nonnull(p);
	memcpy(p, data, len);
}

static void put64(struct mock *m, uint64_t va, uint64_t v)
{
	put(m, va, &v, 8);
}

static void put32(struct mock *m, uint64_t va, uint32_t v)
{
	put(m, va, &v, 4);
}

static const struct {
	int nr;
	const char *name;
} calls[] = { { 0, "read" },   { 1, "write" },	  { 3, "close" }, { 39, "getpid" },
	      { 59, "execve" }, { 60, "exit" },	  { 62, "kill" }, { 231, "exit_group" },
	      { 257, "openat" } };

/* The System.map for this kernel; shift moves every text symbol (a wrong build). */
static char *gen_map(bool v66, bool with_btf, size_t btf_len, uint64_t shift)
{
	char *buf = malloc(1 << 16);
	size_t n = 0, i;

#define L(addr, type, name) \
	n += (size_t)snprintf(buf + n, (1 << 16) - n, "%016llx %c %s\n", \
			      (unsigned long long)(addr), type, name)
	L(0, 'A', "__per_cpu_start");
	L(v66 ? PCPU_HOT : PCPU_CURRENT, 'D', v66 ? "pcpu_hot" : "current_task");
	L(0x35000, 'A', "__per_cpu_end");
	L(KBASE, 'T', "_text");
	L(M_NI_SYSCALL + shift, 'T', "__x64_sys_ni_syscall");
	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		char name[64];

		snprintf(name, sizeof(name), "__x64_sys_%s", calls[i].name);
		L(M_SYS(calls[i].nr) + shift, 'T', name);
	}
	L(M_ENTRY + shift, 'T', "entry_SYSCALL_64");
	L(M_BANNER, 'D', "linux_banner");
	L(M_SCT, 'D', "sys_call_table");
	L(M_PGT, 'D', "init_top_pgt");
	L(M_PCPU_OFF, 'D', "__per_cpu_offset");
	L(M_META, 'D', "__start_syscalls_metadata");
	L(M_META + 3 * 8, 'D', "__stop_syscalls_metadata");
	if (with_btf) {
		L(M_BTF, 'R', "__start_BTF");
		L(M_BTF + btf_len, 'R', "__stop_BTF");
	}
	L(M_INIT_TASK, 'D', "init_task");
#undef L
	return buf;
}

struct proc {
	int idx, pid, parent_idx; /* idx 0 = init_task */
	const char *comm;
	uint32_t uid;
};

/* swapper, init, kthreadd, sshd, bash, sh, nc (sh spawned by bash, nc by sh) */
static const struct proc procs[] = {
	{ 0, 0, 0, "swapper/0", 0 },	{ 1, 1, 0, "systemd", 0 },    { 2, 2, 0, "kthreadd", 0 },
	{ 3, 100, 1, "sshd", 0 },	{ 4, 200, 3, "bash", 1000 }, { 5, 300, 4, "sh", 1000 },
	{ 6, 301, 5, "nc", 1001 },
};
#define NPROCS (sizeof(procs) / sizeof(procs[0]))

static uint64_t task_va(int idx)
{
	return idx ? TASK(idx) : 0; /* init_task is relocated: see task_addr() */
}

static uint64_t task_addr(struct mock *m, int idx)
{
	return idx ? task_va(idx) : M_INIT_TASK + m->kaslr;
}

static void write_task(struct mock *m, const struct layout *l, int i)
{
	const struct proc *p = &procs[i];
	uint64_t t = task_addr(m, p->idx), parent = task_addr(m, p->parent_idx);
	uint64_t cred = p->idx ? CRED(p->idx) : M_INIT_CRED + m->kaslr;
	uint64_t next = task_addr(m, procs[(i + 1) % NPROCS].idx);
	uint64_t prev = task_addr(m, procs[(i + NPROCS - 1) % NPROCS].idx);
	char comm[16] = { 0 };

	put32(m, t + l->pid, (uint32_t)p->pid);
	put32(m, t + l->tgid, (uint32_t)p->pid);
	put64(m, t + l->real_parent, parent);
	put64(m, t + l->parent, parent);
	put64(m, t + l->tasks, next + l->tasks);
	put64(m, t + l->tasks + 8, prev + l->tasks);
	put64(m, t + l->real_cred, cred);
	put64(m, t + l->cred, cred);
	memcpy(comm, p->comm, strlen(p->comm));
	put(m, t + l->comm, comm, 16);
	put32(m, cred + 4, p->uid);	   /* uid */
	put32(m, cred + 8, p->uid + 5);	   /* gid */
	put32(m, cred + 20, p->uid + 1);   /* euid */
	put32(m, cred + 24, p->uid + 6);   /* egid */
}

struct world {
	struct mock m;
	struct dt_symtab *tab;
	void *btf;
	size_t btf_len;
	struct layout l;
	bool v66;
};

static void world_init(struct world *w, bool v66, uint64_t kaslr, bool with_btf)
{
	static const char banner[] = "Linux version 6.1.0-mock (mock@domtrace) #1 SMP\n";
	char err[256] = "", *map;
	size_t i;
	int nr;

	memset(w, 0, sizeof(*w));
	w->v66 = v66;
	w->l = l61;
	w->m.kaslr = kaslr;
	w->m.kimg = calloc(1, KSIZE);
	w->m.dmap = calloc(1, DSIZE);
	ck_assert(w->m.kimg && w->m.dmap);
	w->btf = build_btf(&w->l, &w->btf_len, NULL);
	map = gen_map(v66, with_btf, w->btf_len, 0);
	ck_assert_msg(!dt_symtab_parse(map, strlen(map), "/boot/System.map-6.1.0-mock", &w->tab,
				       err, sizeof(err)), "%s", err);
	free(map);

	put(&w->m, M_BANNER + kaslr, banner, sizeof(banner));
	for (nr = 0; nr < 335; nr++)
		put64(&w->m, M_SCT + kaslr + 8 * (uint64_t)nr, M_NI_SYSCALL + kaslr);
	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		put64(&w->m, M_SCT + kaslr + 8 * (uint64_t)calls[i].nr, M_SYS(calls[i].nr) + kaslr);
	put(&w->m, M_BTF + kaslr, w->btf, w->btf_len);
	for (i = 0; i < NPROCS; i++)
		write_task(&w->m, &w->l, (int)i);
	/* per-cpu: vCPU 0 runs nc, vCPU 1 runs bash */
	put64(&w->m, M_PCPU_OFF + kaslr, PCPU_AREA(0));
	put64(&w->m, M_PCPU_OFF + kaslr + 8, PCPU_AREA(1));
	put64(&w->m, PCPU_AREA(0) + (v66 ? PCPU_HOT : PCPU_CURRENT), TASK(6));
	put64(&w->m, PCPU_AREA(1) + (v66 ? PCPU_HOT : PCPU_CURRENT), TASK(4));

	/* syscall metadata: sys_read, a bad pointer, sys_getpid */
	put64(&w->m, M_META + kaslr, M_META_DATA + kaslr);
	put64(&w->m, M_META + kaslr + 8, 0x1234);
	put64(&w->m, M_META + kaslr + 16, M_META_DATA + kaslr + 0x40);
	{
		uint64_t d = M_META_DATA + kaslr, s = d + 0x800;
		static const char *const strs[] = { "sys_read", "fd", "buf", "count",
						    "unsigned int", "char *", "size_t",
						    "sys_getpid" };

		for (i = 0; i < 8; i++)
			put(&w->m, s + i * 32, strs[i], strlen(strs[i]) + 1);
		put64(&w->m, d, s);		/* name */
		put32(&w->m, d + 8, 0);		/* syscall_nr */
		put32(&w->m, d + 12, 3);	/* nb_args */
		put64(&w->m, d + 16, d + 0x100); /* types */
		put64(&w->m, d + 24, d + 0x200); /* args */
		for (i = 0; i < 3; i++) {
			put64(&w->m, d + 0x100 + 8 * i, s + (4 + i) * 32);
			put64(&w->m, d + 0x200 + 8 * i, s + (1 + i) * 32);
		}
		put64(&w->m, d + 0x40, s + 7 * 32);
		put32(&w->m, d + 0x40 + 8, 39);
		put32(&w->m, d + 0x40 + 12, 0);
	}

	/* vCPU 0 trapped in the kernel, after swapgs, PCID bits in CR3 */
	w->m.regs.cpl = 0;
	w->m.regs.cr3 = KROOT | 0x7;
	w->m.regs.cr0 = 0x80050033ull; /* PG PE: a running 64-bit kernel */
	w->m.regs.efer = 0xd01ull;    /* SCE LME LMA NXE */
	w->m.regs.lstar = M_ENTRY + kaslr;
	w->m.regs.gs_base = PCPU_AREA(0);
	w->m.regs.kernel_gs_base = 0x7f0000001000ull;
}

static void world_free(struct world *w)
{
	dt_symtab_free(w->tab);
	free(w->btf);
	free(w->m.kimg);
	free(w->m.dmap);
}

static struct dt_guest *open_ok(struct world *w, const char *profile)
{
	struct dt_guest_params p = { .vm_name = "vm-a", .symtab = w->tab,
				     .profile_path = profile };
	struct dt_guest *g = NULL;
	char err[512] = "";

	ck_assert_msg(!dt_guest_open(&mock_ops, as_dom(&w->m), &p, &g, err, sizeof(err)), "%s",
		      err);
	return g;
}

static int open_err(struct world *w, const struct dt_symtab *tab, const char *profile,
		    char *err, size_t errlen)
{
	struct dt_guest_params p = { .vm_name = "vm-a", .symtab = tab, .profile_path = profile };
	struct dt_guest *g = (struct dt_guest *)0x1;
	int r = dt_guest_open(&mock_ops, as_dom(&w->m), &p, &g, err, errlen);

	ck_assert_ptr_eq(g, (struct dt_guest *)0x1);
	return r;
}

static char *profile_path(void)
{
	const char *src = getenv("DT_SOURCE_DIR");
	char *p;

	ck_assert_int_ge(asprintf(&p, "%s/tests/data/offsets-6.1.profile", src ? src : "."), 0);
	return p;
}

static void attach_and_check(bool v66, uint64_t kaslr)
{
	struct world w;
	struct dt_guest *g;
	struct dt_proc_info pi;
	uint64_t task, va;

	world_init(&w, v66, kaslr, true);
	g = open_ok(&w, NULL);
	ck_assert_uint_eq(dt_guest_kaslr(g), kaslr);
	ck_assert_str_eq(dt_guest_release(g), "6.1.0-mock");
	ck_assert_int_eq(dt_guest_offsets_source(g), DT_OFFSRC_BTF);
	ck_assert_uint_eq(dt_guest_offsets(g)->off[DT_OFF_TASK_COMM], l61.comm);
	/* the stable root: init_top_pgt's physical address */
	ck_assert_uint_eq(dt_guest_kernel_cr3(g), KIMG_GPA + (M_PGT - KBASE));
	ck_assert_int_eq(dt_guest_sym_va(g, "init_task", &va), 0);
	ck_assert_uint_eq(va, M_INIT_TASK + kaslr);
	ck_assert_int_eq(dt_guest_sym_va(g, v66 ? "pcpu_hot" : "current_task", &va), 0);
	ck_assert_uint_eq(va, v66 ? PCPU_HOT : PCPU_CURRENT); /* per-cpu: not shifted */
	ck_assert_int_eq(dt_guest_sym_va(g, "nonexistent", &va), -ENOENT);

	ck_assert_int_eq(dt_guest_current_task(g, 0, &w.m.regs, &task), 0);
	ck_assert_uint_eq(task, TASK(6));
	ck_assert_int_eq(dt_guest_proc_info(g, task, &pi), 0);
	ck_assert_int_eq(pi.pid, 301);
	ck_assert_int_eq(pi.tgid, 301);
	ck_assert_int_eq(pi.ppid, 300);
	ck_assert_int_eq(pi.rppid, 300);
	ck_assert_uint_eq(pi.uid, 1001);
	ck_assert_uint_eq(pi.gid, 1006);
	ck_assert_uint_eq(pi.euid, 1002);
	ck_assert_uint_eq(pi.egid, 1007);
	ck_assert_str_eq(pi.comm, "nc");
	ck_assert_uint_eq(pi.task, TASK(6));
	dt_guest_close(g);
	world_free(&w);
}

START_TEST(attach_61)
{
	attach_and_check(false, 0x1e00000);
	attach_and_check(false, 0);
}
END_TEST

START_TEST(attach_66)
{
	attach_and_check(true, 0x3a400000);
}
END_TEST

/* Trapped in user mode under KPTI: CR3 is the user root, GS the user's. */
START_TEST(attach_kpti_user_mode)
{
	struct world w;
	struct dt_guest *g;
	uint64_t task;

	world_init(&w, false, 0x800000, true);
	w.m.regs.cpl = 3;
	w.m.regs.cr3 = (KROOT + 0x1000) | 0x801;
	w.m.regs.gs_base = 0x7f0000001000ull;
	w.m.regs.kernel_gs_base = PCPU_AREA(1);
	g = open_ok(&w, NULL);
	ck_assert_uint_eq(dt_guest_kaslr(g), 0x800000);
	ck_assert_int_eq(dt_guest_current_task(g, 1, &w.m.regs, &task), 0);
	ck_assert_uint_eq(task, TASK(4));
	/* a user GS base that looks like a kernel address is not trusted in user mode */
	w.m.regs.gs_base = PCPU_AREA(0);
	ck_assert_int_eq(dt_guest_current_task(g, 1, &w.m.regs, &task), 0);
	ck_assert_uint_eq(task, TASK(4));
	/* neither base usable: __per_cpu_offset[vcpu] */
	w.m.regs.gs_base = 0;
	w.m.regs.kernel_gs_base = 0;
	ck_assert_int_eq(dt_guest_current_task(g, 0, &w.m.regs, &task), 0);
	ck_assert_uint_eq(task, TASK(6));
	dt_guest_close(g);
	ck_assert_uint_eq(dt_cr3_root(0x5801, false), 0x5000);
	ck_assert_uint_eq(dt_cr3_root(0x5801, true), 0x4000);
	world_free(&w);
}
END_TEST

/* LSTAR outside the image (an old KPTI trampoline): found by scanning. */
START_TEST(attach_lstar_elsewhere)
{
	struct world w;
	struct dt_guest *g;

	world_init(&w, false, 0x24600000, true);
	w.m.regs.lstar = 0xfffffe0000006000ull;
	g = open_ok(&w, NULL);
	ck_assert_uint_eq(dt_guest_kaslr(g), 0x24600000);
	dt_guest_close(g);
	world_free(&w);
}
END_TEST

/* A VM caught before its kernel runs: "try again", not "the map does not fit". */
START_TEST(attach_before_boot)
{
	struct world w;
	char err[512] = "";

	world_init(&w, false, 0x1e00000, true);
	w.m.regs.lstar = 0;
	ck_assert_int_eq(open_err(&w, w.tab, NULL, err, sizeof(err)), -EAGAIN);
	ck_assert_ptr_nonnull(strstr(err, "not running yet"));
	w.m.regs.lstar = 0xffffffff81000000ull;
	w.m.regs.cr0 = 0x11; /* paging off: firmware */
	ck_assert_int_eq(open_err(&w, w.tab, NULL, err, sizeof(err)), -EAGAIN);
	world_free(&w);
}
END_TEST

START_TEST(wrong_maps_refused)
{
	struct world w;
	struct dt_symtab *bad = NULL;
	char err[512] = "", *map, *img;
	uint8_t *before_k, *before_d;

	world_init(&w, false, 0x1e00000, true);
	before_k = malloc(KSIZE);
	before_d = malloc(DSIZE);
	memcpy(before_k, w.m.kimg, KSIZE);
	memcpy(before_d, w.m.dmap, DSIZE);

	/* another build: text moved by 2 MiB; LSTAR then gives the wrong offset */
	map = gen_map(false, true, w.btf_len, 0x200000);
	ck_assert_int_eq(dt_symtab_parse(map, strlen(map), "/maps/System.map-other", &bad, err,
					 sizeof(err)), 0);
	ck_assert_int_eq(open_err(&w, bad, NULL, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "vm-a"));
	ck_assert_ptr_nonnull(strstr(err, "/maps/System.map-other"));
	ck_assert_ptr_nonnull(strstr(err, "does not fit"));
	dt_symtab_free(bad);
	free(map);

	/* not 2 MiB aligned */
	map = gen_map(false, true, w.btf_len, 0x1000);
	ck_assert_int_eq(dt_symtab_parse(map, strlen(map), "/maps/System.map-odd", &bad, err,
					 sizeof(err)), 0);
	ck_assert_int_eq(open_err(&w, bad, NULL, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "not 2 MiB aligned"));
	dt_symtab_free(bad);
	free(map);

	/* one function edited: sys_call_table disagrees */
	map = gen_map(false, true, w.btf_len, 0);
	img = strstr(map, " T __x64_sys_getpid");
	ck_assert_ptr_nonnull(img);
	img[-1] = img[-1] == '0' ? '8' : '0';
	ck_assert_int_eq(dt_symtab_parse(map, strlen(map), "/maps/System.map-edited", &bad, err,
					 sizeof(err)), 0);
	ck_assert_int_eq(open_err(&w, bad, NULL, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "sys_call_table[39]"));
	ck_assert_ptr_nonnull(strstr(err, "/maps/System.map-edited"));
	dt_symtab_free(bad);
	free(map);

	/* a map without the banner */
	ck_assert_int_eq(dt_symtab_parse("ffffffff81000000 T _text\n", 25, "/maps/tiny", &bad,
					 err, sizeof(err)), 0);
	ck_assert_int_eq(open_err(&w, bad, NULL, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "linux_banner"));
	dt_symtab_free(bad);

	/* a kernel whose init_task is not swapper: offsets or map wrong */
	put(&w.m, M_INIT_TASK + w.m.kaslr + l61.comm, "systemd", 8);
	ck_assert_int_eq(open_err(&w, w.tab, NULL, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "init_task"));
	put(&w.m, M_INIT_TASK + w.m.kaslr + l61.comm, "swapper/0", 10);

	/* nothing was ever written */
	ck_assert(!memcmp(before_k, w.m.kimg, KSIZE));
	ck_assert(!memcmp(before_d, w.m.dmap, DSIZE));
	free(before_k);
	free(before_d);

	w.m.gone = true;
	ck_assert_int_eq(open_err(&w, w.tab, NULL, err, sizeof(err)), -ENODEV);
	world_free(&w);
}
END_TEST

START_TEST(offsets_sources)
{
	struct world w;
	struct dt_guest *g;
	char err[512] = "", *prof = profile_path();
	struct dt_guest_params p;

	/* no BTF in the map: the profile, or a clear error */
	world_init(&w, false, 0x1e00000, false);
	g = open_ok(&w, prof);
	ck_assert_int_eq(dt_guest_offsets_source(g), DT_OFFSRC_PROFILE);
	dt_guest_close(g);
	ck_assert_int_eq(open_err(&w, w.tab, NULL, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "__start_BTF"));
	ck_assert_ptr_nonnull(strstr(err, "vm-a"));
	world_free(&w);

	/* a corrupt BTF blob: the profile, or an error naming BTF */
	world_init(&w, false, 0x1e00000, true);
	memset(w.m.kimg + (M_BTF - KBASE) + 24, 0xff, 64);
	g = open_ok(&w, prof);
	ck_assert_int_eq(dt_guest_offsets_source(g), DT_OFFSRC_PROFILE);
	dt_guest_close(g);
	ck_assert_int_eq(open_err(&w, w.tab, NULL, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "BTF"));
	/* BTF unreadable (a page not present) */
	w.m.hole = M_BTF + w.m.kaslr;
	ck_assert_int_lt(open_err(&w, w.tab, NULL, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "unreadable"));
	world_free(&w);

	/* prefer_profile with a good BTF */
	world_init(&w, false, 0x1e00000, true);
	p = (struct dt_guest_params){ .vm_name = "vm-a", .symtab = w.tab, .profile_path = prof,
				      .prefer_profile = true };
	ck_assert_int_eq(dt_guest_open(&mock_ops, as_dom(&w.m), &p, &g, err, sizeof(err)), 0);
	ck_assert_int_eq(dt_guest_offsets_source(g), DT_OFFSRC_PROFILE);
	dt_guest_close(g);
	world_free(&w);
	free(prof);
}
END_TEST

START_TEST(ancestry_and_cache)
{
	struct dt_proc_info anc[DT_ANCESTRY_MAX];
	struct dt_guest_cache_stats st;
	struct world w;
	struct dt_guest *g;
	unsigned long reads;
	size_t n;

	world_init(&w, false, 0x1e00000, true);
	g = open_ok(&w, NULL);
	ck_assert_int_eq(dt_guest_ancestry(g, TASK(6), false, anc, DT_ANCESTRY_MAX, &n), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(anc[0].comm, "sh");
	ck_assert_int_eq(anc[0].pid, 300);
	ck_assert_str_eq(anc[1].comm, "bash");
	ck_assert_str_eq(anc[2].comm, "sshd");
	ck_assert_int_eq(anc[3].pid, 1); /* stops at init */
	dt_guest_cache_stats(g, &st);
	ck_assert_uint_eq(st.misses, 5);
	ck_assert_uint_eq(st.entries, 5);

	/* a hit reads nothing */
	reads = w.m.reads;
	ck_assert_int_eq(dt_guest_ancestry(g, TASK(6), true, anc, DT_ANCESTRY_MAX, &n), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_uint_eq(w.m.reads, reads);
	ck_assert_int_eq(dt_guest_ancestry(g, TASK(6), false, anc, 2, &n), 0);
	ck_assert_uint_eq(n, 2);
	dt_guest_cache_stats(g, &st);
	ck_assert_uint_eq(st.hits, 5 + 3);

	/* bash execs zsh: invalidate bash, which also drops sh (its child) */
	put(&w.m, TASK(4) + l61.comm, "zsh\0", 4);
	dt_guest_invalidate(g, TASK(4));
	dt_guest_cache_stats(g, &st);
	ck_assert_uint_eq(st.entries, 3);
	ck_assert_int_eq(dt_guest_ancestry(g, TASK(6), false, anc, DT_ANCESTRY_MAX, &n), 0);
	ck_assert_str_eq(anc[1].comm, "zsh");
	/* without invalidation the cache would have kept the old name */
	put(&w.m, TASK(4) + l61.comm, "fish", 5);
	ck_assert_int_eq(dt_guest_ancestry(g, TASK(6), false, anc, DT_ANCESTRY_MAX, &n), 0);
	ck_assert_str_eq(anc[1].comm, "zsh");
	dt_guest_invalidate_all(g);
	dt_guest_cache_stats(g, &st);
	ck_assert_uint_eq(st.entries, 0);
	ck_assert_int_eq(dt_guest_ancestry(g, TASK(6), false, anc, DT_ANCESTRY_MAX, &n), 0);
	ck_assert_str_eq(anc[1].comm, "fish");

	/* swapper has no ancestors; kthreadd's is swapper */
	ck_assert_int_eq(dt_guest_ancestry(g, M_INIT_TASK + w.m.kaslr, false, anc, 8, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(dt_guest_ancestry(g, TASK(2), false, anc, 8, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(anc[0].pid, 0);

	/* a parent loop sh -> bash -> sh: bounded */
	put64(&w.m, TASK(4) + l61.parent, TASK(5));
	dt_guest_invalidate_all(g);
	ck_assert_int_eq(dt_guest_ancestry(g, TASK(6), false, anc, DT_ANCESTRY_MAX, &n), 0);
	ck_assert_uint_eq(n, 2);
	/* a self-parent that is not pid 0, a garbage parent pointer */
	put64(&w.m, TASK(4) + l61.parent, TASK(4));
	dt_guest_invalidate_all(g);
	ck_assert_int_eq(dt_guest_ancestry(g, TASK(6), false, anc, DT_ANCESTRY_MAX, &n), 0);
	ck_assert_uint_eq(n, 2);
	put64(&w.m, TASK(4) + l61.parent, 0x4141414141414141ull);
	dt_guest_invalidate_all(g);
	ck_assert_int_eq(dt_guest_ancestry(g, TASK(6), false, anc, DT_ANCESTRY_MAX, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(anc[1].ppid, -1);
	/* unreadable or non-kernel task */
	ck_assert_int_eq(dt_guest_ancestry(g, 0x1000, false, anc, 8, &n), -EFAULT);
	ck_assert_int_eq(dt_guest_ancestry(g, DMAP + DSIZE + 0x10000, false, anc, 8, &n), -EFAULT);
	ck_assert_int_eq(dt_guest_proc_info(g, 0xffffffffffff0000ull, &anc[0]), -EFAULT);
	dt_guest_close(g);
	world_free(&w);
}
END_TEST

START_TEST(cache_bounded)
{
	struct dt_guest_params p;
	struct dt_guest_cache_stats st;
	struct dt_proc_info pi;
	struct world w;
	struct dt_guest *g;
	char err[256];
	int i, k;

	world_init(&w, false, 0x1e00000, true);
	p = (struct dt_guest_params){ .vm_name = "vm-a", .symtab = w.tab, .cache_entries = 3 };
	ck_assert_int_eq(dt_guest_open(&mock_ops, as_dom(&w.m), &p, &g, err, sizeof(err)), 0);
	for (k = 0; k < 3; k++)
		for (i = 1; i < (int)NPROCS; i++)
			ck_assert_int_eq(dt_guest_proc_info_cached(g, TASK(i), &pi), 0);
	dt_guest_cache_stats(g, &st);
	ck_assert_uint_eq(st.entries, 3);
	ck_assert_uint_eq(st.capacity, 3);
	ck_assert_uint_eq(st.hits + st.misses, 18);
	ck_assert_uint_eq(st.evictions, st.misses - 3);
	/* LRU: the three most recent are hits */
	ck_assert_int_eq(dt_guest_proc_info_cached(g, TASK(6), &pi), 0);
	ck_assert_int_eq(dt_guest_proc_info_cached(g, TASK(5), &pi), 0);
	ck_assert_int_eq(dt_guest_proc_info_cached(g, TASK(4), &pi), 0);
	dt_guest_cache_stats(g, &st);
	ck_assert_uint_eq(st.hits + st.misses, 21);
	ck_assert_uint_eq(st.evictions, st.misses - 3);
	ck_assert_str_eq(pi.comm, "bash");
	dt_guest_close(g);
	world_free(&w);
}
END_TEST

START_TEST(pslist_walk)
{
	struct dt_pslist_entry *ps;
	struct world w;
	struct dt_guest *g;
	size_t n, i;
	int stop;

	world_init(&w, false, 0x1e00000, true);
	g = open_ok(&w, NULL);
	ck_assert_int_eq(dt_guest_pslist(g, &ps, &n, &stop), 0);
	ck_assert_int_eq(stop, 0);
	ck_assert_uint_eq(n, NPROCS);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(ps[i].pid, procs[i].pid);
		ck_assert_int_eq(ps[i].ppid, procs[procs[i].parent_idx].pid);
		ck_assert_str_eq(ps[i].comm, procs[i].comm);
	}
	free(ps);

	/* a loop not through init_task: sh's next is bash */
	put64(&w.m, TASK(5) + l61.tasks, TASK(4) + l61.tasks);
	ck_assert_int_eq(dt_guest_pslist(g, &ps, &n, &stop), 0);
	ck_assert_int_eq(stop, -ELOOP);
	ck_assert_uint_eq(n, 6);
	free(ps);
	/* a garbage next pointer */
	put64(&w.m, TASK(5) + l61.tasks, 0x00007fff00000000ull);
	ck_assert_int_eq(dt_guest_pslist(g, &ps, &n, &stop), 0);
	ck_assert_int_eq(stop, -EFAULT);
	ck_assert_uint_eq(n, 6);
	free(ps);
	/* next pointing into unmapped kernel space */
	put64(&w.m, TASK(5) + l61.tasks, DMAP + DSIZE + 0x100);
	ck_assert_int_eq(dt_guest_pslist(g, &ps, &n, &stop), 0);
	ck_assert_int_eq(stop, -EFAULT);
	ck_assert_uint_eq(n, 6);
	free(ps);
	/* a long chain without end: bounded by DT_PSLIST_MAX */
	for (i = 0; i < 1000; i++) {
		uint64_t t = DMAP + 0x400000 + i * 0x2000;

		put32(&w.m, t + l61.pid, 5000 + (uint32_t)i);
		put64(&w.m, t + l61.parent, TASK(1));
		/* the last loops back to the first: a cycle of 1000 */
		put64(&w.m, t + l61.tasks, (i == 999 ? DMAP + 0x400000 : t + 0x2000) + l61.tasks);
	}
	put64(&w.m, TASK(5) + l61.tasks, DMAP + 0x400000 + l61.tasks);
	ck_assert_int_eq(dt_guest_pslist(g, &ps, &n, &stop), 0);
	ck_assert_int_eq(stop, -ELOOP);
	ck_assert_uint_eq(n, 6 + 1000);
	ck_assert_int_eq(ps[6].ppid, 1);
	free(ps);

	w.m.gone = true;
	ck_assert_int_eq(dt_guest_pslist(g, &ps, &n, &stop), -ENODEV);
	dt_guest_close(g);
	world_free(&w);
}
END_TEST

START_TEST(syscall_args_and_meta)
{
	struct dt_guest_syscall_meta *meta;
	struct world w;
	struct dt_guest *g;
	uint64_t args[6], regs = DMAP + 0x300000;
	int64_t nr;
	char s[8];
	size_t n;
	int i;

	world_init(&w, false, 0x1e00000, true);
	g = open_ok(&w, NULL);
	for (i = 0; i < 21; i++)
		put64(&w.m, regs + 8 * (uint64_t)i, 0xffffffff00000000ull | (uint64_t)i);
	ck_assert_int_eq(dt_guest_syscall_args(g, regs, false, args, &nr), 0);
	ck_assert_uint_eq(args[0], 0xffffffff0000000eull); /* di */
	ck_assert_uint_eq(args[1], 0xffffffff0000000dull); /* si */
	ck_assert_uint_eq(args[2], 0xffffffff0000000cull); /* dx */
	ck_assert_uint_eq(args[3], 0xffffffff00000007ull); /* r10 */
	ck_assert_uint_eq(args[4], 0xffffffff00000009ull); /* r8 */
	ck_assert_uint_eq(args[5], 0xffffffff00000008ull); /* r9 */
	ck_assert_int_eq(nr, (int64_t)0xffffffff0000000full);
	ck_assert_int_eq(dt_guest_syscall_args(g, regs, true, args, &nr), 0);
	ck_assert_uint_eq(args[0], 5);	/* bx */
	ck_assert_uint_eq(args[1], 11); /* cx */
	ck_assert_uint_eq(args[2], 12); /* dx */
	ck_assert_uint_eq(args[3], 13); /* si */
	ck_assert_uint_eq(args[4], 14); /* di */
	ck_assert_uint_eq(args[5], 4);	/* bp */
	ck_assert_int_eq(dt_guest_syscall_args(g, 0x7fff0000, false, args, &nr), -EFAULT);
	ck_assert_int_eq(dt_guest_syscall_args(g, DMAP + DSIZE - 8, false, args, &nr), -EFAULT);

	ck_assert_int_eq(dt_guest_syscall_meta(g, &meta, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(meta[0].name, "sys_read");
	ck_assert_int_eq(meta[0].nr, 0);
	ck_assert_uint_eq(meta[0].nargs, 3);
	ck_assert_str_eq(meta[0].arg_names[1], "buf");
	ck_assert_str_eq(meta[0].arg_types[1], "char *");
	ck_assert_str_eq(meta[0].arg_types[2], "size_t");
	ck_assert_str_eq(meta[1].name, "sys_getpid");
	ck_assert_int_eq(meta[1].nr, 39);
	ck_assert_uint_eq(meta[1].nargs, 0);
	free(meta);

	/* strings: capped, stop at a page that is not present */
	put(&w.m, DMAP + 0x5000 - 3, "abcdef", 6);
	w.m.hole = DMAP + 0x5000;
	ck_assert_int_eq(dt_guest_read_kstr(g, DMAP + 0x5000 - 3, s, sizeof(s)), 3);
	ck_assert_str_eq(s, "abc");
	w.m.hole = 0;
	ck_assert_int_eq(dt_guest_read_kstr(g, DMAP + 0x5000 - 3, s, sizeof(s)), 6);
	ck_assert_str_eq(s, "abcdef");
	ck_assert_int_eq(dt_guest_read_kstr(g, DMAP + 0x5000 - 3, s, 3), 2);
	ck_assert_int_eq(dt_guest_read_kstr(g, 0x1000, s, sizeof(s)), -EFAULT);
	dt_guest_close(g);
	world_free(&w);
}
END_TEST

static Suite *mock_suite(void)
{
	Suite *s = suite_create("guest_mock");
	TCase *tc = tcase_create("attach");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, attach_61);
	tcase_add_test(tc, attach_66);
	tcase_add_test(tc, attach_kpti_user_mode);
	tcase_add_test(tc, attach_lstar_elsewhere);
	tcase_add_test(tc, attach_before_boot);
	tcase_add_test(tc, wrong_maps_refused);
	tcase_add_test(tc, offsets_sources);
	suite_add_tcase(s, tc);
	tc = tcase_create("tasks");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, ancestry_and_cache);
	tcase_add_test(tc, cache_bounded);
	tcase_add_test(tc, pslist_walk);
	tcase_add_test(tc, syscall_args_and_meta);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(mock_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
