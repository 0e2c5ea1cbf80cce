// SPDX-License-Identifier: GPL-2.0-only
/* Breakpoint table (a hash map on the site address) and guest writes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "domtrace/journal.h"
#include "probes/table.h"
#include "util/hashmap.h"

struct dt_probe_table {
	struct dt_hashmap map; /* (site address, 0) -> struct dt_probe */
};

int dt_probe_table_new(struct dt_probe_table **ret_table)
{
	struct dt_probe_table *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	if (dt_hashmap_init(&t->map, sizeof(struct dt_probe), 0) < 0) {
		free(t);
		return -ENOMEM;
	}
	*ret_table = t;
	return 0;
}

void dt_probe_table_free(struct dt_probe_table *t)
{
	if (!t)
		return;
	dt_hashmap_fini(&t->map);
	free(t);
}

struct dt_probe *dt_probe_table_get(struct dt_probe_table *t, uint64_t addr)
{
	return dt_hashmap_get(&t->map, addr, 0);
}

struct dt_probe *dt_probe_table_put(struct dt_probe_table *t, const struct dt_probe *p)
{
	struct dt_probe *slot;
	bool fresh;

	slot = dt_hashmap_put(&t->map, p->site.addr, 0, &fresh);
	if (!slot)
		return NULL;
	if (!fresh) {
		errno = EEXIST;
		return NULL;
	}
	*slot = *p;
	return slot;
}

int dt_probe_table_del(struct dt_probe_table *t, uint64_t addr)
{
	return dt_hashmap_del(&t->map, addr, 0);
}

size_t dt_probe_table_count(const struct dt_probe_table *t)
{
	return t->map.count;
}

size_t dt_probe_table_capacity(const struct dt_probe_table *t)
{
	return t->map.cap;
}

struct dt_probe *dt_probe_table_slot(struct dt_probe_table *t, size_t i)
{
	return dt_hashmap_slot(&t->map, i, NULL, NULL);
}

static int read_exact(const struct dt_probe_io *io, uint64_t va, void *buf, size_t len)
{
	ssize_t n = io->ops->read_va(io->dom, io->cr3, va, buf, len);

	if (n < 0)
		return (int)n;
	return (size_t)n == len ? 0 : -EFAULT;
}

/* Write bytes and read them back. */
static int write_checked(const struct dt_probe_io *io, uint64_t va, const uint8_t *bytes,
			 size_t len)
{
	uint8_t back[DT_SITE_MAX_INSN];
	int r;

	r = io->ops->write_va(io->dom, io->cr3, va, bytes, len);
	if (r < 0)
		return r;
	r = read_exact(io, va, back, len);
	if (r < 0)
		return r;
	return memcmp(back, bytes, len) == 0 ? 0 : -EIO;
}

static void journal_drop(const struct dt_probe_io *io, struct dt_probe *p)
{
	dt_journal_drop(io->journal, p->jid[0]);
	dt_journal_drop(io->journal, p->jid[1]);
	p->jid[0] = p->jid[1] = 0;
}

/* Record the bytes we are about to write at p, by guest-physical address, one record per
 * page the site touches. */
static int journal_add(const struct dt_probe_io *io, struct dt_probe *p)
{
	uint64_t va = p->site.addr;
	size_t done = 0, len = io->insn->len;
	int k, r;

	if (!io->journal)
		return 0;
	for (k = 0; done < len; k++) {
		struct dt_guard_site gs = { 0 };
		size_t room = 4096 - ((va + done) & 4095);
		size_t piece = len - done < room ? len - done : room;

		r = io->ops->translate(io->dom, io->cr3, va + done, &gs.gpa);
		if (r < 0)
			goto fail;
		gs.len = (uint8_t)piece;
		memcpy(gs.orig, p->site.orig + done, piece);
		memcpy(gs.armed, io->insn->bytes + done, piece);
		r = dt_journal_add(io->journal, io->domid, &gs, &p->jid[k]);
		if (r < 0)
			goto fail;
		done += piece;
	}
	return 0;
fail:
	journal_drop(io, p);
	return r;
}

int dt_probes_arm(const struct dt_probe_io *io, struct dt_probe *const *probes, size_t n,
		  size_t *ret_failed)
{
	const struct dt_trap_insn *insn = io->insn;
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
		r = read_exact(io, p->site.addr, now, p->site.len);
		if (r < 0)
			goto fail;
		if (memcmp(now, p->site.orig, p->site.len) != 0) {
			r = -EILSEQ;
			goto fail;
		}
		r = journal_add(io, p);
		if (r < 0)
			goto fail;
		r = write_checked(io, p->site.addr, insn->bytes, insn->len);
		if (r < 0) {
			/* a failed write may have landed in part: put the original back */
			if (io->ops->write_va(io->dom, io->cr3, p->site.addr, p->site.orig,
					      insn->len) == 0)
				journal_drop(io, p);
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

		if (p->armed &&
		    io->ops->write_va(io->dom, io->cr3, p->site.addr, p->site.orig, insn->len) == 0) {
			p->armed = false;
			journal_drop(io, p);
		}
	}
	return r;
}

int dt_probes_disarm(const struct dt_probe_io *io, struct dt_probe *const *probes, size_t n)
{
	const struct dt_trap_insn *insn = io->insn;
	uint8_t now[DT_SITE_MAX_INSN];
	int foreign = 0, err = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		struct dt_probe *p = probes[i];
		int r;

		if (!p->armed)
			continue;
		r = read_exact(io, p->site.addr, now, insn->len);
		if (r == -ENODEV)
			return r;
		if (r == 0 && memcmp(now, insn->bytes, insn->len) != 0) {
			/* Not our bytes any more: writing would corrupt what the guest put there. */
			p->armed = false;
			journal_drop(io, p);
			foreign++;
			continue;
		}
		r = write_checked(io, p->site.addr, p->site.orig, insn->len);
		if (r == -ENODEV)
			return r;
		if (r < 0) {
			err = r;
			continue; /* keep going: restore every other site */
		}
		p->armed = false;
		journal_drop(io, p);
	}
	return err < 0 ? err : foreign;
}
