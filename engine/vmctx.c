// SPDX-License-Identifier: GPL-2.0-only
/* The per-VM trap context's life: its tables, and the journalled whole-domain pause. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domtrace/catalog.h"
#include "domtrace/journal.h"
#include "domtrace/log.h"
#include "vmctx.h"

static ssize_t mem_read(void *ctx, uint64_t va, void *buf, size_t len)
{
	struct dt_vmctx *vm = ctx;

	return vm->ops->read_va(vm->dom, vm->hit_cr3, va, buf, len);
}

int dt_vmctx_init(struct dt_vmctx *vm, const char *name, uint32_t domid,
		  const struct dt_hv_ops *ops, const struct dt_vm_policy *pol,
		  struct dt_chain_slot *chain, struct dt_journal *journal)
{
	size_t n;
	int r;

	memset(vm, 0, sizeof(*vm));
	snprintf(vm->name, sizeof(vm->name), "%s", name);
	vm->domid = domid;
	vm->ops = ops;
	vm->pol = *pol;
	vm->chain = chain;
	vm->io = (struct dt_probe_io){ .ops = ops, .insn = &vm->insn, .journal = journal,
				       .domid = domid };
	vm->mem.read = mem_read;
	vm->mem.ctx = vm;
	(void)dt_catalog_funcs(&n);
	vm->nfuncs = n;
	vm->plan = calloc(n, sizeof(*vm->plan));
	if (!vm->plan)
		return -ENOMEM;
	r = dt_probe_table_new(&vm->probes);
	if (r < 0)
		return r;
	r = dt_inflight_init(&vm->inflight);
	if (r < 0)
		return r;
	vm->exec_ids[0] = dt_catalog_by_symbol("execve", NULL);
	vm->exec_ids[1] = dt_catalog_by_symbol("execveat", NULL);
	vm->exit_id = dt_catalog_by_symbol("do_exit", NULL);
	return 0;
}

void dt_vmctx_fini(struct dt_vmctx *vm)
{
	if (!vm)
		return;
	dt_inflight_fini(&vm->inflight);
	dt_probe_table_free(vm->probes);
	vm->probes = NULL;
	free(vm->plan);
	vm->plan = NULL;
	dt_event_free(vm->spare_ev);
	vm->spare_ev = NULL;
}

int dt_vmctx_event_new(struct dt_vmctx *vm, struct dt_event **ret_ev)
{
	struct dt_event *ev = vm->spare_ev;

	if (!ev)
		return dt_event_new(DT_EV_CALL, DT_EVENT_ARENA, ret_ev);
	vm->spare_ev = NULL;
	dt_event_reset(ev, DT_EV_CALL);
	*ret_ev = ev;
	return 0;
}

void dt_vmctx_event_done(struct dt_vmctx *vm, struct dt_event *ev)
{
	if (ev && !vm->spare_ev && ev->arena_cap == DT_EVENT_ARENA) {
		vm->spare_ev = ev;
		return;
	}
	dt_event_free(ev);
}

void dt_vmctx_set_dom(struct dt_vmctx *vm, struct dt_hv_dom *dom)
{
	vm->dom = dom;
	vm->io.dom = dom;
	memset(&vm->work_mark, 0, sizeof(vm->work_mark)); /* a new domain counts from 0 */
}

/* Whole-domain pauses go in the crash journal too: a guardian releases what a dead
 * domtrace held (journal.h: noted before the pause, dropped after the unpause). */
int dt_vmctx_pause(struct dt_vmctx *vm)
{
	int r;

	if (dt_journal_pause_note(vm->io.journal, vm->domid, +1) == -ENOSPC &&
	    !vm->pause_unjournaled++)
		dt_warn("VM %s: crash journal full: a pause of ours goes unrecorded", vm->name);
	r = vm->ops->pause(vm->dom);
	if (r < 0)
		(void)dt_journal_pause_note(vm->io.journal, vm->domid, -1);
	return r;
}

int dt_vmctx_unpause(struct dt_vmctx *vm)
{
	int r = vm->ops->unpause(vm->dom);

	if (r == 0)
		(void)dt_journal_pause_note(vm->io.journal, vm->domid, -1);
	return r;
}

/* The direct-map shortcut's counts since the mark: reads only on a trap's count
 * (attaching's are not a trap's), mismatches always (one on attach counts too). */
static void count_dmap(struct dt_vmctx *vm, bool reads)
{
	struct dt_guest_dmap_stats now;

	if (!vm->guest)
		return;
	dt_guest_dmap_stats(vm->guest, &now);
	if (reads && now.reads > vm->dmap_mark.reads)
		dt_counter_add(&vm->counters.dmap_reads, now.reads - vm->dmap_mark.reads);
	if (now.mismatches > vm->dmap_mark.mismatches)
		dt_counter_add(&vm->counters.dmap_mismatches,
			       now.mismatches - vm->dmap_mark.mismatches);
	vm->dmap_mark = now;
}

void dt_vmctx_mark_work(struct dt_vmctx *vm)
{
	count_dmap(vm, false);
	if (vm->ops->work && vm->dom)
		vm->ops->work(vm->dom, &vm->work_mark);
}

void dt_vmctx_count_work(struct dt_vmctx *vm, struct dt_hv_work *ret_delta)
{
	struct dt_hv_work now, d = { 0 };

	count_dmap(vm, true);
	if (vm->ops->work && vm->dom) {
		vm->ops->work(vm->dom, &now);
		d.hypercalls = now.hypercalls - vm->work_mark.hypercalls;
		d.maps = now.maps - vm->work_mark.maps;
		d.map_hits = now.map_hits - vm->work_mark.map_hits;
		d.pages = now.pages - vm->work_mark.pages;
		d.walks = now.walks - vm->work_mark.walks;
		vm->work_mark = now;
		dt_counter_add(&vm->counters.hypercalls, d.hypercalls);
		dt_counter_add(&vm->counters.maps, d.maps);
		dt_counter_add(&vm->counters.map_hits, d.map_hits);
		dt_counter_add(&vm->counters.pages, d.pages);
		dt_counter_add(&vm->counters.walks, d.walks);
	}
	if (ret_delta)
		*ret_delta = d;
}
