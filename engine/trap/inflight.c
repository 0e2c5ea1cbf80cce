// SPDX-License-Identifier: GPL-2.0-only
/* Calls between entry and return, keyed by (task, rsp). */
#include <errno.h>
#include <stdlib.h>

#include "trap/inflight.h"

int dt_inflight_init(struct dt_inflight *t)
{
	int r;

	t->next_seq = 1;
	t->dropped = 0;
	r = dt_hashmap_init(&t->map, sizeof(struct dt_inflight_call), 0);
	if (r == 0 && (r = dt_hashmap_init(&t->deferred, sizeof(uint64_t), 0)) < 0)
		dt_hashmap_fini(&t->map);
	return r;
}

void dt_inflight_fini(struct dt_inflight *t)
{
	size_t i;

	for (i = 0; i < t->map.cap; i++) {
		struct dt_inflight_call *c = dt_hashmap_slot(&t->map, i, NULL, NULL);

		if (c)
			dt_event_free(c->pre);
	}
	dt_hashmap_fini(&t->map);
	dt_hashmap_fini(&t->deferred);
}

static void drop_oldest(struct dt_inflight *t)
{
	struct dt_inflight_call *oldest = NULL;
	size_t i;

	for (i = 0; i < t->map.cap; i++) {
		struct dt_inflight_call *c = dt_hashmap_slot(&t->map, i, NULL, NULL);

		if (c && (!oldest || c->seq < oldest->seq))
			oldest = c;
	}
	if (oldest) {
		t->dropped++;
		dt_inflight_del(t, oldest->task, oldest->rsp);
	}
}

struct dt_inflight_call *dt_inflight_add(struct dt_inflight *t, uint64_t task, uint64_t rsp)
{
	struct dt_inflight_call *c;
	bool fresh;

	if (t->map.count >= DT_INFLIGHT_MAX && !dt_hashmap_get(&t->map, task, rsp))
		drop_oldest(t);
	c = dt_hashmap_put(&t->map, task, rsp, &fresh);
	if (!c)
		return NULL;
	if (!fresh) {
		/* The same task at the same stack depth again: its earlier call never came
		 * back through a probed exit (e.g. the probe was added mid-call). */
		dt_inflight_undefer(t, c);
		dt_event_free(c->pre);
		*c = (struct dt_inflight_call){ 0 };
	}
	c->task = task;
	c->rsp = rsp;
	c->seq = t->next_seq++;
	return c;
}

struct dt_inflight_call *dt_inflight_get(struct dt_inflight *t, uint64_t task, uint64_t rsp)
{
	return dt_hashmap_get(&t->map, task, rsp);
}

int dt_inflight_defer(struct dt_inflight *t, struct dt_inflight_call *c)
{
	uint64_t *rsp = dt_hashmap_put(&t->deferred, c->task, 0, NULL);

	if (!rsp)
		return -ENOMEM;
	*rsp = c->rsp;
	c->deferred = true;
	return 0;
}

void dt_inflight_undefer(struct dt_inflight *t, struct dt_inflight_call *c)
{
	uint64_t *rsp = dt_hashmap_get(&t->deferred, c->task, 0);

	if (c->deferred && rsp && *rsp == c->rsp)
		(void)dt_hashmap_del(&t->deferred, c->task, 0);
	c->deferred = false;
}

struct dt_inflight_call *dt_inflight_deferred_of(struct dt_inflight *t, uint64_t task)
{
	uint64_t *rsp = dt_hashmap_get(&t->deferred, task, 0);
	struct dt_inflight_call *c = rsp ? dt_hashmap_get(&t->map, task, *rsp) : NULL;

	return c && c->deferred ? c : NULL;
}

void dt_inflight_del(struct dt_inflight *t, uint64_t task, uint64_t rsp)
{
	struct dt_inflight_call *c = dt_hashmap_get(&t->map, task, rsp);

	if (!c)
		return;
	dt_inflight_undefer(t, c);
	dt_event_free(c->pre);
	(void)dt_hashmap_del(&t->map, task, rsp);
}
