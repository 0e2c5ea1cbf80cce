// SPDX-License-Identifier: GPL-2.0-only
/*
 * Attaching to a guest kernel: the KASLR offset, the checks that the map fits the
 * running kernel, the offsets source, the kernel page-table root; then the small
 * readers every other part uses (kernel memory, strings, current task, pt_regs).
 * Nothing here writes guest memory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domtrace/guest.h"
#include "guest/guest_internal.h"

#define KIMAGE_START 0xffffffff80000000ull /* __START_KERNEL_map */
#define KIMAGE_END 0xffffffffc0000000ull   /* + KERNEL_IMAGE_SIZE (1 GiB) */
#define KASLR_ALIGN (2ull << 20)	   /* CONFIG_PHYSICAL_ALIGN is a multiple of 2 MiB */
#define KASLR_SLOTS 512			   /* 1 GiB / 2 MiB */
#define BANNER_PREFIX "Linux version "
#define MAX_VCPU_INDEX 8192		   /* NR_CPUS bound for __per_cpu_offset[] */

/* Stable syscalls whose sys_call_table slot must hold the map's function. */
static const struct {
	int nr;
	const char *name;
} sample_calls[] = {
	{ 0, "read" },	  { 1, "write" },  { 3, "close" },  { 9, "mmap" },
	{ 39, "getpid" }, { 57, "fork" },  { 59, "execve" }, { 60, "exit" },
	{ 62, "kill" },	  { 231, "exit_group" }, { 257, "openat" },
};
#define SAMPLE_MIN 3 /* slots that must be checked */

int dt_guest_read_full(struct dt_guest *g, uint64_t va, void *buf, size_t len)
{
	ssize_t n;

	if (!dt_kernel_addr(va) || va + len < va)
		return -EFAULT;
	n = dt_guest_dmap_read(g, va, buf, len);
	if (n == DT_DMAP_NOT_TAKEN)
		n = g->ops->read_va(g->dom, g->kcr3, va, buf, len);
	if (n < 0)
		return (int)n;
	return (size_t)n == len ? 0 : -EFAULT;
}

ssize_t dt_guest_read_kernel(struct dt_guest *g, uint64_t va, void *buf, size_t len)
{
	ssize_t n;

	if (!dt_kernel_addr(va) || va + len < va)
		return -EFAULT;
	n = dt_guest_dmap_read(g, va, buf, len);
	if (n == DT_DMAP_NOT_TAKEN)
		n = g->ops->read_va(g->dom, g->kcr3, va, buf, len);
	return n;
}

ssize_t dt_guest_read_kstr(struct dt_guest *g, uint64_t va, char *buf, size_t cap)
{
	ssize_t n;
	char *nul;

	if (!cap)
		return -EINVAL;
	buf[0] = '\0';
	if (!dt_kernel_addr(va))
		return -EFAULT;
	/* one read: the backend stops at the first page not present */
	n = dt_guest_read_kernel(g, va, buf, cap - 1);
	if (n < 0)
		return n;
	if (!n)
		return -EFAULT;
	buf[n] = '\0';
	nul = memchr(buf, '\0', (size_t)n);
	return nul ? nul - buf : n;
}

uint64_t dt_guest_sym_runtime(const struct dt_guest *g, const struct dt_sym *sym)
{
	if (dt_symtab_is_percpu(g->symtab, sym))
		return sym->addr;
	return sym->addr + g->kaslr;
}

int dt_guest_sym_va(const struct dt_guest *g, const char *name, uint64_t *ret_va)
{
	const struct dt_sym *s = dt_symtab_find(g->symtab, name);

	if (!s || s->module)
		return -ENOENT;
	*ret_va = dt_guest_sym_runtime(g, s);
	return 0;
}

uint64_t dt_guest_kaslr(const struct dt_guest *g)
{
	return g->kaslr;
}

const char *dt_guest_release(const struct dt_guest *g)
{
	return g->release;
}

uint64_t dt_guest_kernel_cr3(const struct dt_guest *g)
{
	return g->kcr3;
}

const struct dt_offsets *dt_guest_offsets(const struct dt_guest *g)
{
	return &g->off;
}

enum dt_off_source dt_guest_offsets_source(const struct dt_guest *g)
{
	return g->off_src;
}

/* A kernel symbol (not a module's). */
static const struct dt_sym *ksym(const struct dt_guest *g, const char *name)
{
	const struct dt_sym *s = dt_symtab_find(g->symtab, name);

	return s && !s->module ? s : NULL;
}

/* Does linux_banner at this offset read "Linux version " through root? */
static bool banner_at(struct dt_guest *g, const struct dt_sym *banner, uint64_t off,
		      uint64_t root)
{
	char buf[sizeof(BANNER_PREFIX) - 1];
	uint64_t va = banner->addr + off;
	ssize_t n;

	if (!dt_kernel_addr(va))
		return false;
	n = g->ops->read_va(g->dom, root, va, buf, sizeof(buf));
	return n == (ssize_t)sizeof(buf) && !memcmp(buf, BANNER_PREFIX, sizeof(buf));
}

/*
 * Step 1: the KASLR offset and a root that maps the kernel. A user-mode CR3 under
 * KPTI maps little of the kernel: the kernel copy of its PGD is tried too.
 */
static int find_kaslr(struct dt_guest *g, const struct dt_regs *regs, const char *vm,
		      const char *map, char *err, size_t errlen)
{
	const struct dt_sym *entry = ksym(g, "entry_SYSCALL_64");
	const struct dt_sym *banner = ksym(g, "linux_banner");
	uint64_t roots[2] = { dt_cr3_root(regs->cr3, false), dt_cr3_root(regs->cr3, true) };
	uint64_t off, k;
	int i;

	if (!banner) {
		dt_errf(err, errlen, "VM '%s': System.map '%s' has no linux_banner", vm, map);
		return -ENOENT;
	}
	/* A VM seen at creation: firmware or early boot, no long-mode paging or no
	 * syscall entry yet. Not a verdict on the map: the caller may try again. */
	if (!(regs->cr0 & (1ull << 31)) || !(regs->efer & (1ull << 10)) || regs->lstar == 0) {
		dt_errf(err, errlen,
			"VM '%s': its kernel is not running yet (CR0.PG %d, EFER.LMA %d, LSTAR 0x%llx)",
			vm, !!(regs->cr0 & (1ull << 31)), !!(regs->efer & (1ull << 10)),
			(unsigned long long)regs->lstar);
		return -EAGAIN;
	}
	if (entry && regs->lstar >= KIMAGE_START && regs->lstar < KIMAGE_END) {
		off = regs->lstar - entry->addr;
		if (off % KASLR_ALIGN) {
			dt_errf(err, errlen,
				"VM '%s': System.map '%s' does not fit the running kernel: LSTAR "
				"0x%llx against entry_SYSCALL_64 0x%llx gives an offset 0x%llx "
				"that is not 2 MiB aligned", vm, map,
				(unsigned long long)regs->lstar, (unsigned long long)entry->addr,
				(unsigned long long)off);
			return -EINVAL;
		}
		for (i = 0; i < 2; i++) {
			if (banner_at(g, banner, off, roots[i])) {
				g->kaslr = off;
				g->kcr3 = roots[i];
				return 0;
			}
		}
		dt_errf(err, errlen,
			"VM '%s': System.map '%s' does not fit the running kernel: linux_banner "
			"at 0x%llx (KASLR offset 0x%llx from LSTAR) does not read \"%s\"", vm,
			map, (unsigned long long)(banner->addr + off), (unsigned long long)off,
			BANNER_PREFIX);
		return -EINVAL;
	}
	/* LSTAR elsewhere (an old KPTI trampoline, Xen PV entry): try every slot. */
	for (k = 0; k < KASLR_SLOTS; k++) {
		for (i = 0; i < 2; i++) {
			if (banner_at(g, banner, k * KASLR_ALIGN, roots[i])) {
				g->kaslr = k * KASLR_ALIGN;
				g->kcr3 = roots[i];
				return 0;
			}
		}
	}
	dt_errf(err, errlen,
		"VM '%s': System.map '%s' does not fit the running kernel: LSTAR 0x%llx is not "
		"%s and no KASLR offset makes linux_banner read \"%s\"", vm, map,
		(unsigned long long)regs->lstar,
		entry ? "in the kernel image" : "usable (the map has no entry_SYSCALL_64)",
		BANNER_PREFIX);
	return -EINVAL;
}

/* The release from "Linux version 6.1.0-18-amd64 (...". */
static int read_release(struct dt_guest *g, const char *vm, const char *map, char *err,
			size_t errlen)
{
	char buf[sizeof(BANNER_PREFIX) + DT_RELEASE_MAX];
	const char *p;
	size_t i;
	uint64_t va;
	ssize_t n;

	if (dt_guest_sym_va(g, "linux_banner", &va))
		return -ENOENT;
	n = dt_guest_read_kstr(g, va, buf, sizeof(buf));
	if (n < 0 || strncmp(buf, BANNER_PREFIX, strlen(BANNER_PREFIX))) {
		dt_errf(err, errlen, "VM '%s': linux_banner unreadable (map '%s')", vm, map);
		return n < 0 ? (int)n : -EINVAL;
	}
	p = buf + strlen(BANNER_PREFIX);
	for (i = 0; i < DT_RELEASE_MAX - 1 && p[i] > ' ' && p[i] < 0x7f; i++)
		g->release[i] = p[i];
	g->release[i] = '\0';
	if (!i) {
		dt_errf(err, errlen, "VM '%s': linux_banner has no release (map '%s')", vm, map);
		return -EINVAL;
	}
	return 0;
}

/* sys_call_table[n] == __x64_sys_<name> (or sys_<name>) + offset for a sample of n. */
static int check_syscall_table(struct dt_guest *g, const char *vm, const char *map, char *err,
			       size_t errlen)
{
	uint64_t table, slot;
	size_t i, checked = 0;
	char name[64];
	int r;

	if (dt_guest_sym_va(g, "sys_call_table", &table)) {
		dt_errf(err, errlen, "VM '%s': System.map '%s' has no sys_call_table", vm, map);
		return -ENOENT;
	}
	for (i = 0; i < sizeof(sample_calls) / sizeof(sample_calls[0]); i++) {
		const struct dt_sym *s;

		snprintf(name, sizeof(name), "__x64_sys_%s", sample_calls[i].name);
		s = ksym(g, name);
		if (!s) {
			snprintf(name, sizeof(name), "sys_%s", sample_calls[i].name);
			s = ksym(g, name);
		}
		if (!s)
			continue;
		r = dt_guest_read_full(g, table + 8 * (uint64_t)sample_calls[i].nr, &slot,
				       sizeof(slot));
		if (r == -ENODEV)
			return r;
		if (r) {
			dt_errf(err, errlen,
				"VM '%s': System.map '%s' does not fit the running kernel: "
				"sys_call_table at 0x%llx is unreadable", vm, map,
				(unsigned long long)table);
			return -EINVAL;
		}
		if (slot != s->addr + g->kaslr) {
			dt_errf(err, errlen,
				"VM '%s': System.map '%s' does not fit the running kernel: "
				"sys_call_table[%d] = 0x%llx, but %s + KASLR offset 0x%llx = "
				"0x%llx", vm, map, sample_calls[i].nr, (unsigned long long)slot,
				name, (unsigned long long)g->kaslr,
				(unsigned long long)(s->addr + g->kaslr));
			return -EINVAL;
		}
		checked++;
	}
	if (checked < SAMPLE_MIN) {
		dt_errf(err, errlen,
			"VM '%s': System.map '%s' has too few __x64_sys_* symbols to check "
			"sys_call_table (%zu)", vm, map, checked);
		return -ENOENT;
	}
	return 0;
}

/*
 * A stable kernel root: the physical address of init_top_pgt (swapper_pg_dir), whose
 * kernel half every process shares. The CR3 found at open belongs to whatever process
 * ran then, which may exit and free its PGD.
 */
static void find_kernel_root(struct dt_guest *g)
{
	uint64_t va, gpa, old = g->kcr3;

	if (dt_guest_sym_va(g, "init_top_pgt", &va) && dt_guest_sym_va(g, "swapper_pg_dir", &va))
		return;
	if (g->ops->translate(g->dom, g->kcr3, va, &gpa) || (gpa & 0xfff))
		return;
	g->kcr3 = gpa;
	/* keep it only if the kernel reads the same through it */
	if (!banner_at(g, ksym(g, "linux_banner"), g->kaslr, gpa))
		g->kcr3 = old;
}

static int find_offsets(struct dt_guest *g, const struct dt_guest_params *p, const char *vm,
			const char *map, char *err, size_t errlen)
{
	char berr[256] = "", perr[256] = "";
	uint64_t start, stop;
	void *blob = NULL;
	int r = -ENOENT;

	if (!p->prefer_profile || !p->profile_path) {
		if (dt_guest_sym_va(g, "__start_BTF", &start) ||
		    dt_guest_sym_va(g, "__stop_BTF", &stop)) {
			snprintf(berr, sizeof(berr), "no __start_BTF/__stop_BTF in the map");
		} else if (stop <= start || stop - start > DT_BTF_MAX) {
			snprintf(berr, sizeof(berr), "BTF size %lld out of bounds",
				 (long long)(stop - start));
			r = -EINVAL;
		} else if (!(blob = malloc(stop - start))) {
			r = -ENOMEM;
			goto out;
		} else if ((r = dt_guest_read_full(g, start, blob, stop - start))) {
			if (r == -ENODEV)
				goto out;
			snprintf(berr, sizeof(berr), "BTF at 0x%llx (%llu bytes) unreadable",
				 (unsigned long long)start, (unsigned long long)(stop - start));
		} else {
			r = dt_offsets_from_btf(blob, stop - start, &g->off, berr, sizeof(berr));
			if (!r) {
				g->off_src = DT_OFFSRC_BTF;
				goto out;
			}
		}
	}
	if (p->profile_path) {
		r = dt_offsets_load_profile(p->profile_path, &g->off, perr, sizeof(perr));
		if (!r) {
			g->off_src = DT_OFFSRC_PROFILE;
			goto out;
		}
	}
	dt_errf(err, errlen, "VM '%s' (map '%s'): no struct offsets: %s%s%s", vm, map,
		berr[0] ? berr : "BTF not used", p->profile_path ? "; " : " and no profile file",
		perr);
	if (r >= 0)
		r = -ENOENT;
out:
	free(blob);
	return r;
}

/* init_task: pid 0, comm "swapper..."; proves the offsets as much as the map. */
static int check_init_task(struct dt_guest *g, const char *vm, const char *map, char *err,
			   size_t errlen)
{
	char comm[16];
	int32_t pid;
	int r;

	if (dt_guest_sym_va(g, "init_task", &g->init_task)) {
		dt_errf(err, errlen, "VM '%s': System.map '%s' has no init_task", vm, map);
		return -ENOENT;
	}
	r = dt_guest_read_full(g, g->init_task + g->off.off[DT_OFF_TASK_PID], &pid, sizeof(pid));
	if (!r)
		r = dt_guest_read_full(g, g->init_task + g->off.off[DT_OFF_TASK_COMM], comm,
				       sizeof(comm));
	if (r == -ENODEV)
		return r;
	if (r || pid != 0 || strncmp(comm, "swapper", 7)) {
		dt_errf(err, errlen,
			"VM '%s': init_task at 0x%llx is not swapper/pid 0 (%s offsets, map '%s'): "
			"the map or the offsets do not fit the running kernel", vm,
			(unsigned long long)g->init_task,
			g->off_src == DT_OFFSRC_BTF ? "BTF" : "profile", map);
		return -EINVAL;
	}
	return 0;
}

static int find_current(struct dt_guest *g, const char *vm, const char *map, char *err,
			size_t errlen)
{
	const struct dt_sym *s = ksym(g, "pcpu_hot");

	if (s && dt_off_have(&g->off, DT_OFF_PCPU_HOT_CURRENT_TASK)) {
		g->current_off = dt_guest_sym_runtime(g, s) +
				 g->off.off[DT_OFF_PCPU_HOT_CURRENT_TASK];
	} else if ((s = ksym(g, "current_task"))) {
		g->current_off = dt_guest_sym_runtime(g, s);
	} else {
		dt_errf(err, errlen,
			"VM '%s': System.map '%s' has neither pcpu_hot (with BTF) nor "
			"current_task", vm, map);
		return -ENOENT;
	}
	/* no per-cpu section at all: a UP kernel, current is a plain variable */
	g->current_percpu = dt_symtab_find(g->symtab, "__per_cpu_start") != NULL;
	if (dt_guest_sym_va(g, "__per_cpu_offset", &g->per_cpu_offset))
		g->per_cpu_offset = 0;
	return 0;
}

int dt_guest_open(const struct dt_hv_ops *ops, struct dt_hv_dom *dom,
		  const struct dt_guest_params *p, struct dt_guest **ret_guest, char *err,
		  size_t errlen)
{
	struct dt_guest *g;
	struct dt_regs regs;
	const char *vm, *map;
	int r;

	if (!ops || !dom || !p || !p->vm_name || !p->symtab) {
		dt_errf(err, errlen, "dt_guest_open: missing parameters");
		return -EINVAL;
	}
	vm = p->vm_name;
	map = dt_symtab_label(p->symtab);
	g = calloc(1, sizeof(*g));
	if (!g || !(g->vm_name = strdup(vm))) {
		r = -ENOMEM;
		dt_errf(err, errlen, "VM '%s': out of memory", vm);
		goto fail;
	}
	g->ops = ops;
	g->dom = dom;
	g->symtab = p->symtab;
	r = ops->get_regs(dom, p->vcpu, &regs);
	if (r) {
		dt_errf(err, errlen, "VM '%s': cannot read vCPU %u registers: %s", vm, p->vcpu,
			strerror(-r));
		goto fail;
	}
	r = find_kaslr(g, &regs, vm, map, err, errlen);
	if (r)
		goto fail;
	find_kernel_root(g);
	r = read_release(g, vm, map, err, errlen);
	if (!r)
		r = check_syscall_table(g, vm, map, err, errlen);
	if (!r)
		r = find_offsets(g, p, vm, map, err, errlen);
	if (!r)
		r = check_init_task(g, vm, map, err, errlen);
	if (!r)
		r = find_current(g, vm, map, err, errlen);
	if (!r)
		r = dt_task_cache_init(&g->cache, p->cache_entries ? p->cache_entries
								 : DT_GUEST_CACHE_DEFAULT);
	if (r) {
		if (r == -ENODEV)
			dt_errf(err, errlen, "VM '%s': the domain is gone", vm);
		else if (r == -ENOMEM)
			dt_errf(err, errlen, "VM '%s': out of memory", vm);
		goto fail;
	}
	dt_guest_task_span(g);
	dt_guest_dmap_init(g, &regs);
	*ret_guest = g;
	return 0;
fail:
	dt_guest_close(g);
	return r;
}

void dt_guest_close(struct dt_guest *g)
{
	if (!g)
		return;
	dt_task_cache_free(&g->cache);
	free(g->vm_name);
	free(g);
}

int dt_guest_current_task(struct dt_guest *g, uint32_t vcpu, const struct dt_regs *regs,
			  uint64_t *ret_task)
{
	uint64_t base = 0, task;
	int r;

	if (g->current_percpu) {
		if (regs->cpl == 0 && dt_kernel_addr(regs->gs_base)) {
			base = regs->gs_base;
		} else if (dt_kernel_addr(regs->kernel_gs_base)) {
			base = regs->kernel_gs_base;
		} else if (g->per_cpu_offset && vcpu < MAX_VCPU_INDEX) {
			r = dt_guest_read_full(g, g->per_cpu_offset + 8 * (uint64_t)vcpu, &base,
					       sizeof(base));
			if (r)
				return r;
		}
		if (!dt_kernel_addr(base))
			return -EFAULT;
	}
	r = dt_guest_read_full(g, base + g->current_off, &task, sizeof(task));
	if (r)
		return r;
	if (!dt_kernel_addr(task))
		return -EFAULT;
	*ret_task = task;
	return 0;
}

int dt_guest_syscall_args(struct dt_guest *g, uint64_t pt_regs, bool compat,
			  uint64_t ret_args[6], int64_t *ret_orig_ax)
{
	static const enum dt_off x64[6] = { DT_OFF_REGS_DI, DT_OFF_REGS_SI, DT_OFF_REGS_DX,
					    DT_OFF_REGS_R10, DT_OFF_REGS_R8, DT_OFF_REGS_R9 };
	static const enum dt_off ia32[6] = { DT_OFF_REGS_BX, DT_OFF_REGS_CX, DT_OFF_REGS_DX,
					     DT_OFF_REGS_SI, DT_OFF_REGS_DI, DT_OFF_REGS_BP };
	const enum dt_off *which = compat ? ia32 : x64;
	uint8_t buf[512];
	uint32_t size = 0;
	uint64_t v;
	int i, r;

	/* read the span that holds the seven slots, once */
	for (i = 0; i < 6; i++)
		if (g->off.off[which[i]] + 8 > size)
			size = g->off.off[which[i]] + 8;
	if (g->off.off[DT_OFF_REGS_ORIG_AX] + 8 > size)
		size = g->off.off[DT_OFF_REGS_ORIG_AX] + 8;
	if (size > sizeof(buf))
		return -EINVAL;
	r = dt_guest_read_full(g, pt_regs, buf, size);
	if (r)
		return r;
	for (i = 0; i < 6; i++) {
		memcpy(&v, buf + g->off.off[which[i]], sizeof(v));
		ret_args[i] = compat ? (uint32_t)v : v;
	}
	memcpy(&v, buf + g->off.off[DT_OFF_REGS_ORIG_AX], sizeof(v));
	*ret_orig_ax = (int64_t)v;
	return 0;
}
