// SPDX-License-Identifier: GPL-2.0-only
/*
 * A domain's kallsyms (kallsyms.h): where its kernel is (LSTAR, a CR3 root that maps it),
 * the search of kallsyms.c from there, and the one-read test that a table decoded from
 * another guest is this one's build. Reads only; the caller holds the domain paused.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "guest/guest_internal.h"
#include "guest/kallsyms.h"

#define KIMAGE_START 0xffffffff80000000ull
#define KIMAGE_END 0xffffffffc0000000ull
#define PAGE 4096ull

static bool in_image(uint64_t a)
{
	return a >= KIMAGE_START && a < KIMAGE_END;
}

struct guest_mem {
	const struct dt_hv_ops *ops;
	struct dt_hv_dom *dom;
	uint64_t root;
};

static ssize_t guest_read(void *ctx, uint64_t va, void *buf, size_t len)
{
	struct guest_mem *g = ctx;

	return g->ops->read_va(g->dom, g->root, va, buf, len);
}

/* LSTAR and a page-table root that maps it (the kernel copy of a KPTI user PGD too),
 * from the registers given, or vCPU vcpu's read now (regs NULL). */
static int guest_where(const struct dt_hv_ops *ops, struct dt_hv_dom *dom, uint32_t vcpu,
		       const struct dt_regs *given, struct guest_mem *gm, uint64_t *ret_lstar)
{
	struct dt_regs regs;
	uint8_t b;
	int r, i;

	if (given) {
		regs = *given;
	} else {
		r = ops->get_regs(dom, vcpu, &regs);
		if (r)
			return r;
	}
	if (!(regs.cr0 & (1ull << 31)) || !(regs.efer & (1ull << 10)) || !regs.lstar)
		return -EAGAIN;
	*ret_lstar = regs.lstar;
	gm->ops = ops;
	gm->dom = dom;
	for (i = 0; i < 2; i++) {
		gm->root = dt_cr3_root(regs.cr3, i == 1);
		if (ops->read_va(dom, gm->root, regs.lstar, &b, 1) == 1)
			return 0;
	}
	return -EFAULT;
}

static int from_guest(const struct dt_hv_ops *ops, struct dt_hv_dom *dom, uint32_t vcpu,
		      const struct dt_regs *regs, const char *vm, struct dt_symtab **ret_tab,
		      struct dt_kallsyms_info *ret_info, char *err, size_t errlen)
{
	struct dt_kallsyms_mem mem = { guest_read, NULL };
	struct dt_kallsyms_info info;
	struct dt_symtab *tab = NULL;
	char why[400];
	struct guest_mem gm;
	uint64_t lstar = 0;
	int r;

	r = guest_where(ops, dom, vcpu, regs, &gm, &lstar);
	if (r == -EAGAIN) {
		dt_errf(err, errlen, "VM '%s': its kernel is not running yet", vm);
		return r;
	}
	if (r == 0 && !in_image(lstar))
		r = -EOPNOTSUPP;
	if (r) {
		dt_errf(err, errlen,
			r == -EOPNOTSUPP
				? "VM '%s': LSTAR 0x%llx is outside the kernel image (a KPTI "
				  "trampoline?): nowhere to look for its kallsyms"
				: "VM '%s': LSTAR 0x%llx unreadable: %s",
			vm, (unsigned long long)lstar, strerror(-r));
		return r;
	}
	mem.ctx = &gm;
	/* no label: named by its release, as the table outlives this VM */
	r = dt_kallsyms_read(&mem, lstar & ~(PAGE - 1), DT_KALLSYMS_SCAN_MAX, lstar, NULL, &tab,
			     &info, why, sizeof(why));
	if (r) {
		dt_errf(err, errlen, "VM '%s': %s", vm, why);
		return r;
	}
	*ret_tab = tab;
	if (ret_info)
		*ret_info = info;
	return 0;
}

int dt_kallsyms_from_guest(const struct dt_hv_ops *ops, struct dt_hv_dom *dom, uint32_t vcpu,
			   const char *vm, struct dt_symtab **ret_tab,
			   struct dt_kallsyms_info *ret_info, char *err, size_t errlen)
{
	return from_guest(ops, dom, vcpu, NULL, vm, ret_tab, ret_info, err, errlen);
}

int dt_kallsyms_from_regs(const struct dt_hv_ops *ops, struct dt_hv_dom *dom,
			  const struct dt_regs *regs, const char *vm, struct dt_symtab **ret_tab,
			  struct dt_kallsyms_info *ret_info, char *err, size_t errlen)
{
	return from_guest(ops, dom, 0, regs, vm, ret_tab, ret_info, err, errlen);
}

bool dt_kallsyms_same_build(const struct dt_hv_ops *ops, struct dt_hv_dom *dom, uint32_t vcpu,
			    const struct dt_regs *regs, const struct dt_symtab *tab,
			    const char *banner)
{
	const struct dt_sym *entry = dt_symtab_find(tab, "entry_SYSCALL_64");
	const struct dt_sym *lb = dt_symtab_find(tab, "linux_banner");
	char buf[DT_KALLSYMS_BANNER_MAX];
	size_t len = strlen(banner);
	struct guest_mem gm;
	uint64_t lstar;

	if (!entry || !lb || len >= sizeof(buf) || guest_where(ops, dom, vcpu, regs, &gm, &lstar))
		return false;
	if (ops->read_va(dom, gm.root, lb->addr + (lstar - entry->addr), buf, len + 1) !=
	    (ssize_t)(len + 1))
		return false;
	return !memcmp(buf, banner, len) && (buf[len] == '\n' || buf[len] == '\0');
}
