// SPDX-License-Identifier: GPL-2.0-only
/* Breakpoint table (open addressing on the site address) and guest writes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/probes/table.h"

struct dt_probe_table {
	size_t count, cap; /* cap: power of two */
	struct dt_probe *slots;
	bool *used;
};

static size_t slot_of(uint64_t addr, size_t cap)
{
	/* Fibonacci hashing: kernel text addresses differ in their low bits. */
	return (size_t)((addr * 0x9E3779B97F4A7C15ull) >> 32) & (cap - 1);
}

int dt_probe_table_new(struct dt_probe_table **ret_table)
{
	struct dt_probe_table *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->cap = 64;
	t->slots = calloc(t->cap, sizeof(*t->slots));
	t->used = calloc(t->cap, sizeof(*t->used));
	if (!t->slots || !t->used) {
		dt_probe_table_free(t);
		return -ENOMEM;
	}
	*ret_table = t;
	return 0;
}

void dt_probe_table_free(struct dt_probe_table *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t->used);
	free(t);
}

static ssize_t find(const struct dt_probe_table *t, uint64_t addr)
{
	size_t i = slot_of(addr, t->cap);

	while (t->used[i]) {
		if (t->slots[i].site.addr == addr)
			return (ssize_t)i;
		i = (i + 1) & (t->cap - 1);
	}
	return -1;
}

struct dt_probe *dt_probe_table_get(struct dt_probe_table *t, uint64_t addr)
{
	ssize_t i = find(t, addr);

	return i < 0 ? NULL : &t->slots[i];
}

static void insert(struct dt_probe_table *t, const struct dt_probe *p)
{
	size_t i = slot_of(p->site.addr, t->cap);

	while (t->used[i])
		i = (i + 1) & (t->cap - 1);
	t->slots[i] = *p;
	t->used[i] = true;
	t->count++;
}

static int grow(struct dt_probe_table *t)
{
	struct dt_probe_table n = { .cap = t->cap * 2 };
	size_t i;

	n.slots = calloc(n.cap, sizeof(*n.slots));
	n.used = calloc(n.cap, sizeof(*n.used));
	if (!n.slots || !n.used) {
		free(n.slots);
		free(n.used);
		return -ENOMEM;
	}
	for (i = 0; i < t->cap; i++)
		if (t->used[i])
			insert(&n, &t->slots[i]);
	free(t->slots);
	free(t->used);
	*t = n;
	return 0;
}

struct dt_probe *dt_probe_table_put(struct dt_probe_table *t, const struct dt_probe *p)
{
	if (find(t, p->site.addr) >= 0) {
		errno = EEXIST;
		return NULL;
	}
	if ((t->count + 1) * 4 > t->cap * 3 && grow(t) < 0) {
		errno = ENOMEM;
		return NULL;
	}
	insert(t, p);
	return dt_probe_table_get(t, p->site.addr);
}

int dt_probe_table_del(struct dt_probe_table *t, uint64_t addr)
{
	ssize_t hole = find(t, addr);
	size_t i, j;

	if (hole < 0)
		return -ENOENT;
	/* Backward-shift deletion keeps probe chains intact without tombstones. */
	i = (size_t)hole;
	t->used[i] = false;
	t->count--;
	for (j = (i + 1) & (t->cap - 1); t->used[j]; j = (j + 1) & (t->cap - 1)) {
		size_t home = slot_of(t->slots[j].site.addr, t->cap);

		/* move j into the hole if its home is not cyclically in (i, j] */
		if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
			t->slots[i] = t->slots[j];
			t->used[i] = true;
			t->used[j] = false;
			i = j;
		}
	}
	return 0;
}

size_t dt_probe_table_count(const struct dt_probe_table *t)
{
	return t->count;
}

size_t dt_probe_table_capacity(const struct dt_probe_table *t)
{
	return t->cap;
}

struct dt_probe *dt_probe_table_slot(struct dt_probe_table *t, size_t i)
{
	return i < t->cap && t->used[i] ? &t->slots[i] : NULL;
}

static int read_exact(const struct dt_hv_ops *ops, struct dt_hv_dom *dom, uint64_t cr3, uint64_t va,
		      void *buf, size_t len)
{
	ssize_t n = ops->read_va(dom, cr3, va, buf, len);

	if (n < 0)
		return (int)n;
	return (size_t)n == len ? 0 : -EFAULT;
}

/* Write bytes and read them back. */
static int write_checked(const struct dt_hv_ops *ops, struct dt_hv_dom *dom, uint64_t cr3, uint64_t va,
			 const uint8_t *bytes, size_t len)
{
	uint8_t back[DT_SITE_MAX_INSN];
	int r;

	r = ops->write_va(dom, cr3, va, bytes, len);
	if (r < 0)
		return r;
	r = read_exact(ops, dom, cr3, va, back, len);
	if (r < 0)
		return r;
	return memcmp(back, bytes, len) == 0 ? 0 : -EIO;
}

int dt_probes_arm(const struct dt_hv_ops *ops, struct dt_hv_dom *dom, uint64_t cr3,
		  const struct dt_trap_insn *insn, struct dt_probe *const *probes, size_t n,
		  size_t *ret_failed)
{
	uint8_t now[DT_SITE_MAX_INSN];
	size_t i;
	int r = 0;

	for (i = 0; i < n; i++) {
		struct dt_probe *p = probes[i];

		if (p->armed)
			continue;
		if (!dt_site_fits(&p->site, insn->len)) {
			r = -EMSGSIZE;
			goto fail;
		}
		r = read_exact(ops, dom, cr3, p->site.addr, now, p->site.len);
		if (r < 0)
			goto fail;
		if (memcmp(now, p->site.orig, p->site.len) != 0) {
			r = -EILSEQ;
			goto fail;
		}
		r = write_checked(ops, dom, cr3, p->site.addr, insn->bytes, insn->len);
		if (r < 0) {
			/* a failed write may have landed in part: put the original back */
			(void)ops->write_va(dom, cr3, p->site.addr, p->site.orig, insn->len);
			goto fail;
		}
		p->armed = true;
	}
	return 0;
fail:
	*ret_failed = i;
	/* Undo this batch: only what this call armed (earlier ones were armed before). */
	while (i-- > 0) {
		struct dt_probe *p = probes[i];

		if (p->armed && ops->write_va(dom, cr3, p->site.addr, p->site.orig, insn->len) == 0)
			p->armed = false;
	}
	return r;
}

int dt_probes_disarm(const struct dt_hv_ops *ops, struct dt_hv_dom *dom, uint64_t cr3,
		     const struct dt_trap_insn *insn, struct dt_probe *const *probes, size_t n)
{
	uint8_t now[DT_SITE_MAX_INSN];
	int foreign = 0, err = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		struct dt_probe *p = probes[i];
		int r;

		if (!p->armed)
			continue;
		r = read_exact(ops, dom, cr3, p->site.addr, now, insn->len);
		if (r == -ENODEV)
			return r;
		if (r == 0 && memcmp(now, insn->bytes, insn->len) != 0) {
			/* Not our bytes any more: writing would corrupt what the guest put there. */
			p->armed = false;
			foreign++;
			continue;
		}
		r = write_checked(ops, dom, cr3, p->site.addr, p->site.orig, insn->len);
		if (r == -ENODEV)
			return r;
		if (r < 0) {
			err = r;
			continue; /* keep going: restore every other site */
		}
		p->armed = false;
	}
	return err < 0 ? err : foreign;
}
