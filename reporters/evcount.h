/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * evcount.h - reporters' private count of the events dispatched, per VM and type (for
 * the metrics endpoint). The reporter thread adds (dt_evcount_add), any thread reads
 * (dt_evcount_foreach); one mutex, taken once per batch: nothing here is on a worker's
 * trap path.
 */
#ifndef DOMTRACE_REPORTERS_EVCOUNT_H
#define DOMTRACE_REPORTERS_EVCOUNT_H

#include <stddef.h>
#include <stdint.h>

#include "domtrace/event.h"

struct dt_evcount;

int dt_evcount_new(struct dt_evcount **ret_c);
void dt_evcount_free(struct dt_evcount *c); /* NULL ok */
/* Count evs[0..n) (NULL entries skipped). */
void dt_evcount_add(struct dt_evcount *c, struct dt_event *const *evs, size_t n);
void dt_evcount_foreach(struct dt_evcount *c,
			void (*fn)(uint32_t domid, const char *vm, const uint64_t *n, void *arg),
			void *arg);

#endif /* DOMTRACE_REPORTERS_EVCOUNT_H */
