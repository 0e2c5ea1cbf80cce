// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench_kallsyms - how long finding and decoding a kernel's kallsyms tables takes, and
 * what was found (not a test).
 *
 *   bench_kallsyms [-s SYMBOL]... [VMLINUX ...]
 *
 * With no argument: the simulated kernels of each layout (about 900 symbols). With
 * vmlinux files (an uncompressed kernel ELF, e.g. extracted from a distribution's vmlinuz:
 * stripped is fine, the tables are in .rodata): their loadable segments are served at
 * their link addresses as guest memory would be (KASLR 0), the search starts at the
 * first kernel-image segment, and the result is printed with a few symbols, so a real
 * kernel's layout can be checked without a hypervisor. -s adds a symbol to those printed
 * (its address, to look at a function's bytes with objdump, say).
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domtrace/guest.h"
#include "guest/kallsyms.h"
#include "domtrace/sim.h"

struct seg {
	uint64_t va, filesz, memsz;
	const uint8_t *data;
};

struct elfmem {
	struct seg seg[16];
	int n;
};

static ssize_t elf_read(void *ctx, uint64_t va, void *buf, size_t len)
{
	struct elfmem *m = ctx;
	size_t done = 0;
	int i;

	while (done < len) {
		uint64_t a = va + done;

		for (i = 0; i < m->n; i++)
			if (a >= m->seg[i].va && a - m->seg[i].va < m->seg[i].memsz)
				break;
		if (i == m->n)
			break;
		{
			uint64_t off = a - m->seg[i].va, n = m->seg[i].memsz - off;

			if (n > len - done)
				n = len - done;
			if (off >= m->seg[i].filesz)
				memset((uint8_t *)buf + done, 0, n);
			else {
				uint64_t f = m->seg[i].filesz - off < n ? m->seg[i].filesz - off : n;

				memcpy((uint8_t *)buf + done, m->seg[i].data + off, f);
				memset((uint8_t *)buf + done + f, 0, n - f);
			}
			done += n;
		}
	}
	return done ? (ssize_t)done : -EFAULT;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static const char *extra[16];
static size_t nextra;

static void report(const char *what, int r, const struct dt_symtab *tab,
		   const struct dt_kallsyms_info *in, double ms, const char *err)
{
	static const char *const show[] = { "_text", "entry_SYSCALL_64", "sys_call_table",
					    "__x64_sys_openat", "init_task", "linux_banner",
					    "__start_BTF", "pcpu_hot", "current_task" };
	size_t i;

	if (r) {
		printf("%s: refused (%s): %s\n", what, strerror(-r), err);
		return;
	}
	printf("%s: %u symbols, %s, %u-byte markers, token table 0x%llx, %.1f ms, %.1f MiB "
	       "read\n  %s\n",
	       what, in->num_syms, dt_kallsyms_layout_name(in), in->marker_size,
	       (unsigned long long)in->token_table, ms, in->scanned / 1048576.0, in->banner);
	for (i = 0; i < sizeof(show) / sizeof(show[0]); i++) {
		const struct dt_sym *s = dt_symtab_find(tab, show[i]);

		if (s)
			printf("  %016llx %c %s\n", (unsigned long long)s->addr, s->type, s->name);
	}
	for (i = 0; i < nextra; i++) {
		const struct dt_sym *s = dt_symtab_find(tab, extra[i]);

		if (s)
			printf("  %016llx %c %s\n", (unsigned long long)s->addr, s->type, s->name);
		else
			printf("  %s: not found\n", extra[i]);
	}
}

static int vmlinux(const char *path)
{
	struct dt_kallsyms_mem mem = { elf_read, NULL };
	struct dt_kallsyms_info info;
	struct dt_symtab *tab = NULL;
	struct elfmem em = { .n = 0 };
	uint64_t start = 0;
	char err[512] = "";
	uint8_t *file;
	Elf64_Ehdr eh;
	long size;
	double t0;
	FILE *f;
	int i, r;

	f = fopen(path, "rb");
	if (!f || fseek(f, 0, SEEK_END) || (size = ftell(f)) < (long)sizeof(eh) ||
	    fseek(f, 0, SEEK_SET)) {
		perror(path);
		return 1;
	}
	file = malloc((size_t)size);
	if (!file || fread(file, 1, (size_t)size, f) != (size_t)size) {
		perror(path);
		return 1;
	}
	fclose(f);
	memcpy(&eh, file, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_phoff + (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > (uint64_t)size) {
		fprintf(stderr, "%s: not a 64-bit ELF\n", path);
		return 1;
	}
	for (i = 0; i < eh.e_phnum && em.n < 16; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, file + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || !dt_kernel_addr(ph.p_vaddr) ||
		    ph.p_offset + ph.p_filesz > (uint64_t)size)
			continue;
		em.seg[em.n++] = (struct seg){ ph.p_vaddr, ph.p_filesz, ph.p_memsz,
					       file + ph.p_offset };
		if (!start || ph.p_vaddr < start)
			start = ph.p_vaddr;
	}
	mem.ctx = &em;
	t0 = now_ms();
	r = dt_kallsyms_read(&mem, start, DT_KALLSYMS_SCAN_MAX, 0, NULL, &tab, &info, err,
			     sizeof(err));
	report(path, r, tab, &info, now_ms() - t0, err);
	dt_symtab_free(tab);
	free(file);
	return r ? 1 : 0;
}

static int simulated(void)
{
	static const enum dt_sim_ksyms ks[] = { DT_SIM_KSYMS_ABS, DT_SIM_KSYMS_REL,
						DT_SIM_KSYMS_REL_SEQS, DT_SIM_KSYMS_64 };
	struct dt_sim_params p;
	struct dt_hv *hv;
	size_t i;
	int r;

	dt_sim_params_default(&p);
	p.n_vms = 0;
	p.workload = false;
	if ((r = dt_hv_sim.open(&p, &hv)) < 0) {
		fprintf(stderr, "sim: %s\n", strerror(-r));
		return 1;
	}
	for (i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
		struct dt_sim_vm_params vp = { .ksyms = ks[i], .no_workload = true, .vcpus = 1 };
		struct dt_kallsyms_info info;
		struct dt_symtab *tab = NULL;
		struct dt_hv_dom *dom;
		char err[512] = "", what[32];
		uint32_t domid;
		double t0;

		vp.flavour = ks[i] == DT_SIM_KSYMS_64 ? DT_SIM_FLAVOUR_66 : DT_SIM_FLAVOUR_61;
		snprintf(vp.name, sizeof(vp.name), "bench%zu", i);
		if (dt_sim_vm_create(dt_sim_host_from(hv), &vp, &domid) ||
		    dt_hv_sim.dom_open(hv, domid, &dom) || dt_hv_sim.pause(dom)) {
			fprintf(stderr, "sim VM failed\n");
			return 1;
		}
		snprintf(what, sizeof(what), "sim layout %zu", i);
		t0 = now_ms();
		r = dt_kallsyms_from_guest(&dt_hv_sim, dom, 0, vp.name, &tab, &info, err,
					   sizeof(err));
		report(what, r, tab, &info, now_ms() - t0, err);
		dt_symtab_free(tab);
		dt_hv_sim.unpause(dom);
		dt_hv_sim.dom_close(dom);
	}
	dt_hv_sim.close(hv);
	return 0;
}

int main(int argc, char **argv)
{
	int i, status = 0, files = 0;

	for (i = 1; i + 1 < argc && !strcmp(argv[i], "-s"); i += 2)
		if (nextra < sizeof(extra) / sizeof(extra[0]))
			extra[nextra++] = argv[i + 1];
	for (; i < argc; i++, files++)
		status |= vmlinux(argv[i]);
	if (!files)
		return simulated();
	return status;
}
