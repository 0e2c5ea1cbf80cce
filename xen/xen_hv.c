// SPDX-License-Identifier: GPL-2.0-only
/*
 * xen_hv.c - dt_hv_xen: host scope (domain list, xenstore watch) and the ops table.
 *
 * Threads (hv.h): list_vms from the main thread, watch_fd/watch_read from the watcher,
 * dom_open from any thread. One mutex guards the host handle and the domain list the
 * watch diffs against; list_vms refreshes that list too, so a domain is reported once,
 * either by list_vms or by the watch, never by both.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "xen_internal.h"

#define LIST_CHUNK 256

struct dt_hv {
	const struct dt_xen_sys_ops *sys;
	void *host;
	struct dt_xen_params params;

	pthread_mutex_t lock; /* host, known, n_known */
	struct dt_xen_dominfo *known;
	size_t n_known;

	/* Changes found but not yet handed out: watcher thread only. */
	struct dt_vm_note *notes;
	size_t n_notes, next_note;
};

/* Every domain now, cleaned (dt_xen_domlist_clean). Host lock held. */
static int list_all(struct dt_hv *hv, struct dt_xen_dominfo **ret_doms, size_t *ret_n)
{
	struct dt_xen_dominfo *doms = NULL, *grown;
	size_t n = 0, cap = 0, got;
	uint32_t first = 0;
	int r;

	for (;;) {
		if (cap - n < LIST_CHUNK) {
			grown = realloc(doms, (cap + LIST_CHUNK) * sizeof(*doms));
			if (!grown) {
				r = -ENOMEM;
				goto fail;
			}
			doms = grown;
			cap += LIST_CHUNK;
		}
		r = hv->sys->list(hv->host, first, doms + n, LIST_CHUNK, &got);
		if (r < 0)
			goto fail;
		if (got > LIST_CHUNK) {
			r = -EIO;
			goto fail;
		}
		n += got;
		if (got < LIST_CHUNK)
			break;
		first = doms[n - 1].domid + 1;
		if (first >= DT_XEN_MAX_DOMAINS || n >= DT_XEN_MAX_DOMAINS)
			break;
	}
	*ret_n = dt_xen_domlist_clean(doms, n);
	*ret_doms = doms;
	return 0;
fail:
	free(doms);
	return r;
}

static void fill_info(struct dt_hv *hv, const struct dt_xen_dominfo *d, struct dt_vm_info *ret)
{
	char name[DT_VM_NAME_MAX];

	if (hv->sys->name(hv->host, d->domid, name, sizeof(name)) < 0)
		name[0] = '\0';
	dt_xen_vm_info(d, name, ret);
}

int dt_xen_open_sys(const struct dt_xen_params *params, const struct dt_xen_sys_ops *sys,
		    struct dt_hv **ret_hv)
{
	struct dt_hv *hv;
	int r;

	if (params && ((unsigned)params->flavour >= _DT_TRAP_FLAVOUR_MAX))
		return -EINVAL;
	hv = calloc(1, sizeof(*hv));
	if (!hv)
		return -ENOMEM;
	hv->sys = sys;
	if (params)
		hv->params = *params;
	r = pthread_mutex_init(&hv->lock, NULL);
	if (r) {
		free(hv);
		return -r;
	}
	r = sys->host_open(&hv->host);
	if (r < 0)
		goto fail;
	/* The baseline the first watch firing is compared with. */
	r = list_all(hv, &hv->known, &hv->n_known);
	if (r < 0)
		goto fail;
	*ret_hv = hv;
	return 0;
fail:
	sys->host_close(hv->host);
	pthread_mutex_destroy(&hv->lock);
	free(hv);
	return r;
}

static int xen_open(const void *params, struct dt_hv **ret_hv)
{
	return dt_xen_open_sys(params, &dt_xen_sys_real, ret_hv);
}

static void xen_close(struct dt_hv *hv)
{
	if (!hv)
		return;
	hv->sys->host_close(hv->host);
	pthread_mutex_destroy(&hv->lock);
	free(hv->known);
	free(hv->notes);
	free(hv);
}

static int xen_list_vms(struct dt_hv *hv, struct dt_vm_info **ret_vms, size_t *ret_n)
{
	struct dt_xen_dominfo *doms;
	struct dt_vm_info *vms;
	size_t n, i;
	int r;

	pthread_mutex_lock(&hv->lock);
	r = list_all(hv, &doms, &n);
	if (r < 0)
		goto out;
	vms = calloc(n ? n : 1, sizeof(*vms));
	if (!vms) {
		free(doms);
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		fill_info(hv, &doms[i], &vms[i]);
	free(hv->known);
	hv->known = doms;
	hv->n_known = n;
	*ret_vms = vms;
	*ret_n = n;
out:
	pthread_mutex_unlock(&hv->lock);
	return r;
}

static int xen_watch_fd(struct dt_hv *hv)
{
	return hv->sys->watch_fd(hv->host);
}

/* Diff the domain list against the last one into hv->notes. Host lock held. */
static int refresh(struct dt_hv *hv)
{
	struct dt_xen_dominfo *doms;
	struct dt_xen_change *changes;
	struct dt_vm_note *notes;
	size_t n, nc, i;
	int r;

	r = list_all(hv, &doms, &n);
	if (r < 0)
		return r;
	changes = calloc(hv->n_known + n + 1, sizeof(*changes));
	notes = calloc(hv->n_known + n + 1, sizeof(*notes));
	if (!changes || !notes) {
		free(changes);
		free(notes);
		free(doms);
		return -ENOMEM;
	}
	nc = dt_xen_domlist_diff(hv->known, hv->n_known, doms, n, changes);
	for (i = 0; i < nc; i++) {
		notes[i].change = changes[i].change;
		if (changes[i].change == DT_VM_APPEARED)
			fill_info(hv, &changes[i].info, &notes[i].info);
		else
			notes[i].info = (struct dt_vm_info){ .domid = changes[i].info.domid };
	}
	free(changes);
	free(hv->known);
	hv->known = doms;
	hv->n_known = n;
	free(hv->notes);
	hv->notes = notes;
	hv->n_notes = nc;
	hv->next_note = 0;
	return 0;
}

static int xen_watch_read(struct dt_hv *hv, struct dt_vm_note *ret_note)
{
	int r;

	if (hv->next_note >= hv->n_notes) {
		pthread_mutex_lock(&hv->lock);
		r = hv->sys->watch_drain(hv->host);
		if (r > 0)
			r = refresh(hv);
		else if (r == 0)
			r = -EAGAIN;
		pthread_mutex_unlock(&hv->lock);
		if (r < 0)
			return r;
	}
	if (hv->next_note >= hv->n_notes)
		return -EAGAIN;
	*ret_note = hv->notes[hv->next_note++];
	return 0;
}

void dt_xen_host_view(struct dt_hv *hv, struct dt_xen_host_view *ret_view)
{
	ret_view->sys = hv->sys;
	ret_view->host = hv->host;
	ret_view->params = &hv->params;
}

void dt_xen_host_lock(struct dt_hv *hv)
{
	pthread_mutex_lock(&hv->lock);
}

void dt_xen_host_unlock(struct dt_hv *hv)
{
	pthread_mutex_unlock(&hv->lock);
}

const struct dt_hv_ops dt_hv_xen = {
	.name = "xen",
	.abi = DT_HV_ABI,
	.open = xen_open,
	.close = xen_close,
	.list_vms = xen_list_vms,
	.watch_fd = xen_watch_fd,
	.watch_read = xen_watch_read,
	.recover = dt_xen_recover,
	.dom_open = dt_xen_dom_open,
	.dom_close = dt_xen_dom_close,
	.pause = dt_xen_dom_pause,
	.unpause = dt_xen_dom_unpause,
	.vcpu_count = dt_xen_dom_vcpu_count,
	.get_regs = dt_xen_dom_get_regs,
	.set_regs = dt_xen_dom_set_regs,
	.read_va = dt_xen_dom_read_va,
	.write_va = dt_xen_dom_write_va,
	.read_pa = dt_xen_dom_read_pa,
	.write_pa = dt_xen_dom_write_pa,
	.translate = dt_xen_dom_translate,
	.flush_cache = dt_xen_dom_flush_cache,
	.trap_insn = dt_xen_dom_trap_insn,
	.set_trapping = dt_xen_dom_set_trapping,
	.trap_fd = dt_xen_dom_trap_fd,
	.next_trap = dt_xen_dom_next_trap,
	.resume = dt_xen_dom_resume,
	.work = dt_xen_dom_work,
};
