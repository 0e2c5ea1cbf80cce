// SPDX-License-Identifier: GPL-2.0-only
/* Events dispatched, per VM and type (evcount.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domtrace/report.h"
#include "evcount.h"

struct vm_count {
	uint32_t domid;
	char vm[DT_VM_NAME_MAX];
	uint64_t n[_DT_EV_MAX];
};

struct dt_evcount {
	pthread_mutex_t lock;
	struct vm_count *v; /* [0..nv), at most DT_REPORT_COUNT_VMS + 1 (the pool) */
	size_t nv, cap, last;
};

int dt_evcount_new(struct dt_evcount **ret_c)
{
	struct dt_evcount *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	*ret_c = c;
	return 0;
}

void dt_evcount_free(struct dt_evcount *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->lock);
	free(c->v);
	free(c);
}

/* The VM's entry (made if new); under the lock. NULL only without memory. */
static struct vm_count *entry(struct dt_evcount *c, const struct dt_event *ev)
{
	uint32_t domid = ev->domid;
	const char *vm = ev->vm;
	struct vm_count *e;
	size_t i;

	/* events come in runs of one VM: try the last one first */
	if (c->last < c->nv && c->v[c->last].domid == domid && !strcmp(c->v[c->last].vm, vm))
		return &c->v[c->last];
	for (i = 0; i < c->nv; i++)
		if (c->v[i].domid == domid && !strcmp(c->v[i].vm, vm))
			return &c->v[c->last = i];
	if (c->nv >= DT_REPORT_COUNT_VMS) {
		/* bounded: later VMs share one pooled entry */
		domid = UINT32_MAX;
		vm = "";
		for (i = DT_REPORT_COUNT_VMS; i < c->nv; i++)
			if (c->v[i].domid == domid)
				return &c->v[c->last = i];
	}
	if (c->nv == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;

		e = realloc(c->v, cap * sizeof(*e));
		if (!e)
			return NULL;
		c->v = e;
		c->cap = cap;
	}
	e = &c->v[c->nv];
	memset(e, 0, sizeof(*e));
	e->domid = domid;
	snprintf(e->vm, sizeof(e->vm), "%s", vm);
	c->last = c->nv++;
	return e;
}

void dt_evcount_add(struct dt_evcount *c, struct dt_event *const *evs, size_t n)
{
	struct vm_count *e;
	size_t i;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < n; i++) {
		if (!evs[i] || (int)evs[i]->type <= 0 || evs[i]->type >= _DT_EV_MAX)
			continue;
		e = entry(c, evs[i]);
		if (e)
			e->n[evs[i]->type]++;
	}
	pthread_mutex_unlock(&c->lock);
}

void dt_evcount_foreach(struct dt_evcount *c,
			void (*fn)(uint32_t domid, const char *vm, const uint64_t *n, void *arg),
			void *arg)
{
	size_t i;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < c->nv; i++)
		fn(c->v[i].domid, c->v[i].vm, c->v[i].n, arg);
	pthread_mutex_unlock(&c->lock);
}
