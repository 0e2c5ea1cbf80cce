// SPDX-License-Identifier: GPL-2.0-only
/*
 * xen_domlist.c - which domains exist, what changed, and what the engine is told.
 *
 * xenstore's @introduceDomain/@releaseDomain watches say only that *some* domain came or
 * went, so on every firing the host lists all domains (one hypercall per 256) and diffs
 * the list against the previous one. The domain handle (UUID) tells a domid that was
 * released and reused between two firings apart from the same domain.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xen_internal.h"

static int by_domid(const void *a, const void *b)
{
	const struct dt_xen_dominfo *x = a, *y = b;

	return x->domid < y->domid ? -1 : x->domid > y->domid;
}

size_t dt_xen_domlist_clean(struct dt_xen_dominfo *doms, size_t n)
{
	size_t i, kept = 0;

	qsort(doms, n, sizeof(*doms), by_domid);
	for (i = 0; i < n; i++) {
		const struct dt_xen_dominfo *d = &doms[i];

		if (d->domid == 0 || d->domid >= DT_XEN_MAX_DOMAINS || d->dying)
			continue;
		if (kept && doms[kept - 1].domid == d->domid)
			continue;
		doms[kept++] = *d;
	}
	return kept;
}

static void note(struct dt_xen_change *out, size_t *n, enum dt_vm_change change,
		 const struct dt_xen_dominfo *d)
{
	out[*n].change = change;
	out[*n].info = *d;
	(*n)++;
}

size_t dt_xen_domlist_diff(const struct dt_xen_dominfo *old, size_t n_old,
			   const struct dt_xen_dominfo *cur, size_t n_cur,
			   struct dt_xen_change *out)
{
	size_t i = 0, j = 0, n = 0;

	while (i < n_old || j < n_cur) {
		if (j == n_cur || (i < n_old && old[i].domid < cur[j].domid)) {
			note(out, &n, DT_VM_GONE, &old[i++]);
		} else if (i == n_old || cur[j].domid < old[i].domid) {
			note(out, &n, DT_VM_APPEARED, &cur[j++]);
		} else {
			if (memcmp(old[i].handle, cur[j].handle, sizeof(old[i].handle)) != 0) {
				note(out, &n, DT_VM_GONE, &old[i]);
				note(out, &n, DT_VM_APPEARED, &cur[j]);
			}
			i++;
			j++;
		}
	}
	return n;
}

void dt_xen_vm_info(const struct dt_xen_dominfo *dom, const char *name,
		    struct dt_vm_info *ret_info)
{
	struct dt_vm_info v = { .domid = dom->domid, .vcpus = dom->vcpus };
	size_t i;

	for (i = 0; name && name[i] && i < sizeof(v.name) - 1; i++) {
		unsigned char ch = (unsigned char)name[i];

		v.name[i] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
	}
	v.traceable = dom->hvm;
	if (!dom->hvm)
		snprintf(v.why, sizeof(v.why), "%s",
			 "PV guest: Xen's vm_event cannot trap PV guests and Debian's Xen has no "
			 "gdbsx; run it as HVM or PVH");
	*ret_info = v;
}

bool dt_xen_watch_is_domain_event(const char *path)
{
	return path && (strcmp(path, DT_XEN_WATCH_INTRODUCE) == 0 ||
			strcmp(path, DT_XEN_WATCH_RELEASE) == 0);
}
