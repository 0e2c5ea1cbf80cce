// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness for the kallsyms table parser (engine/guest/kallsyms.c) against hostile
 * guest memory. Four simulated kernels, one per kallsyms layout (absolute, relative 5.10,
 * 6.1.y with seqs_of_names before the tokens, 6.4+), are booted once; their kernel images (from LSTAR's
 * page to _end) are copied out. Each input picks one image, rewrites bytes of it anywhere
 * (most often inside the tables: counts, markers, token index and table, offsets, base,
 * names) and may punch unreadable pages, then the parser runs on that memory. What must
 * hold aborts when it does not: no crash, no hang (libFuzzer's -timeout), a table it
 * accepts is bounded (count, name lengths) and holds the symbols it promised.
 *
 * Input: [layout] [holes: 1 byte, a page bit mask over the table pages] then records of
 * 11 bytes, at most 64: [where] [len 1..8] [how] [value, 8 bytes LE].
 *   where  % 8: num_syms, markers, token index, token table, addresses, names, the whole
 *          image, seqs/base (whatever follows the address table)
 *   the byte offset inside it is value >> 40 (bounded by the image), how % 4: raw value,
 *   added to what is there, xor, one byte
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domtrace/guest.h"
#include "guest/kallsyms.h"
#include "domtrace/sim.h"

#define NLAYOUT 4
#define REC 11
#define MAX_RECORDS 64
#define PAGE 4096u

struct image {
	uint64_t base, lstar;
	uint8_t *bytes, *work;
	size_t size;
	struct dt_kallsyms_info info;
	uint8_t holes; /* per input: pages around the tables that read as absent */
};

static struct image IMG[NLAYOUT];
static const struct image *cur;

static void die(const char *what, int r)
{
	fprintf(stderr, "fuzz_kallsyms: %s: %s\n", what, strerror(r < 0 ? -r : r));
	abort();
}

/* The hole pages: 8 pages starting at the token index's page - 4. */
static bool in_hole(uint64_t page)
{
	uint64_t first = (cur->info.token_index & ~(uint64_t)(PAGE - 1)) - 4 * PAGE;

	if (page < first || page >= first + 8 * PAGE)
		return false;
	return cur->holes & (1u << ((page - first) / PAGE));
}

static ssize_t mem_read(void *ctx, uint64_t va, void *buf, size_t len)
{
	size_t done = 0;

	(void)ctx;
	if (va < cur->base || va >= cur->base + cur->size)
		return -EFAULT;
	/* like a backend: stop at the first page not present */
	while (done < len && va + done < cur->base + cur->size) {
		uint64_t a = va + done, page = a & ~(uint64_t)(PAGE - 1);
		size_t n = PAGE - (size_t)(a - page);

		if (in_hole(page))
			break;
		if (n > len - done)
			n = len - done;
		if (a + n > cur->base + cur->size)
			n = (size_t)(cur->base + cur->size - a);
		memcpy((uint8_t *)buf + done, cur->work + (a - cur->base), n);
		done += n;
	}
	return done ? (ssize_t)done : -EFAULT;
}

static const struct dt_kallsyms_mem MEM = { mem_read, NULL };

static void setup(void)
{
	static const enum dt_sim_ksyms ks[NLAYOUT] = { DT_SIM_KSYMS_ABS, DT_SIM_KSYMS_REL,
						       DT_SIM_KSYMS_64, DT_SIM_KSYMS_REL_SEQS };
	struct dt_sim_params p;
	struct dt_hv_dom *dom;
	struct dt_sim_host *h;
	struct dt_symtab *tab;
	struct dt_hv *hv;
	char err[512] = "";
	int i, r;

	dt_sim_params_default(&p);
	p.n_vms = 0;
	p.workload = false;
	if ((r = dt_hv_sim.open(&p, &hv)) < 0)
		die("sim open", r);
	h = dt_sim_host_from(hv);
	for (i = 0; i < NLAYOUT; i++) {
		struct dt_sim_vm_params vp = { .flavour = i == 2 ? DT_SIM_FLAVOUR_66
								 : DT_SIM_FLAVOUR_61,
					       .ksyms = ks[i], .no_workload = true, .vcpus = 1 };
		struct dt_sim_kernel_info ki;
		struct dt_regs regs;
		uint64_t end;
		uint32_t domid;

		snprintf(vp.name, sizeof(vp.name), "fuzz%d", i);
		if ((r = dt_sim_vm_create(h, &vp, &domid)) < 0 ||
		    (r = dt_hv_sim.dom_open(hv, domid, &dom)) < 0 || (r = dt_hv_sim.pause(dom)) < 0 ||
		    (r = dt_hv_sim.get_regs(dom, 0, &regs)) < 0 ||
		    (r = dt_sim_kernel_info(h, domid, &ki)) < 0 ||
		    (r = dt_sim_symbol(h, domid, "_end", &end)) < 0)
			die("sim VM", r);
		IMG[i].lstar = regs.lstar;
		IMG[i].base = regs.lstar & ~(uint64_t)(PAGE - 1);
		IMG[i].size = (size_t)(end - IMG[i].base);
		IMG[i].bytes = malloc(IMG[i].size);
		IMG[i].work = malloc(IMG[i].size);
		if (!IMG[i].bytes || !IMG[i].work)
			die("malloc", ENOMEM);
		if (dt_hv_sim.read_va(dom, ki.kernel_cr3, IMG[i].base, IMG[i].bytes, IMG[i].size) !=
		    (ssize_t)IMG[i].size)
			die("read image", EFAULT);
		memcpy(IMG[i].work, IMG[i].bytes, IMG[i].size);
		cur = &IMG[i];
		if ((r = dt_kallsyms_read(&MEM, IMG[i].base, IMG[i].size, IMG[i].lstar, NULL, &tab,
					  &IMG[i].info, err, sizeof(err))) < 0) {
			fprintf(stderr, "fuzz_kallsyms: layout %d: %s\n", i, err);
			abort();
		}
		fprintf(stderr, "fuzz_kallsyms: layout %d: %s, %u symbols\n", i,
			dt_kallsyms_layout_name(&IMG[i].info), IMG[i].info.num_syms);
		dt_symtab_free(tab);
		dt_hv_sim.unpause(dom);
		dt_hv_sim.dom_close(dom);
	}
	/* the images are copies: the host is not needed any more */
	dt_hv_sim.close(hv);
}

static void apply(struct image *im, const uint8_t *rec)
{
	const struct dt_kallsyms_info *in = &im->info;
	uint64_t starts[8] = { in->num_syms_va, in->markers, in->token_index, in->token_table,
			       in->addrs, in->names, im->base,
			       in->addrs + (in->relative ? 4ull : 8ull) * in->num_syms };

	if (!in->tables_first && in->seqs_of_names)
		starts[7] = in->markers + in->marker_size * ((in->num_syms + 255ull) / 256);
	uint64_t raw, at, span, old = 0;
	uint8_t len = (uint8_t)(rec[1] % 8 + 1);

	memcpy(&raw, rec + 3, 8);
	at = starts[rec[0] % 8];
	span = rec[0] % 8 == 6 ? im->size : 4096;
	at += (raw >> 40) % span;
	if (at < im->base || at + len > im->base + im->size)
		return;
	memcpy(&old, im->work + (at - im->base), len);
	switch (rec[2] % 4) {
	case 1:
		raw += old;
		break;
	case 2:
		raw ^= old;
		break;
	case 3:
		len = 1;
		break;
	default:
		break;
	}
	memcpy(im->work + (at - im->base), &raw, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct dt_kallsyms_info info;
	struct dt_symtab *tab = NULL;
	struct image *im;
	char err[512];
	size_t i, n;
	int r;

	if (!ready) {
		setup();
		ready = true;
	}
	if (size < 2)
		return 0;
	im = &IMG[data[0] % NLAYOUT];
	im->holes = data[1];
	for (i = 2, n = 0; i + REC <= size && n < MAX_RECORDS; i += REC, n++)
		apply(im, data + i);
	cur = im;
	err[0] = '\0';
	r = dt_kallsyms_read(&MEM, im->base, im->size, im->lstar, NULL, &tab, &info, err,
			     sizeof(err));
	if (r == 0) {
		size_t k, count = dt_symtab_count(tab);

		if (count == 0 || count > DT_KALLSYMS_SYMS_MAX || count != info.num_syms ||
		    !dt_symtab_find(tab, "entry_SYSCALL_64") || !dt_symtab_find(tab, "init_task") ||
		    strncmp(info.banner, "Linux version ", 14))
			abort();
		for (k = 0; k < count; k++)
			if (strlen(dt_symtab_index(tab, k)->name) >= DT_SYM_NAME_MAX)
				abort();
		dt_symtab_free(tab);
	} else if (!err[0] || !memchr(err, '\0', sizeof(err))) {
		abort(); /* every refusal says why */
	}
	memcpy(im->work, im->bytes, im->size);
	im->holes = 0;
	return 0;
}
