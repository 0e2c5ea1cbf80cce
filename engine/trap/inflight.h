/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * inflight.h - traced calls between their entry and their return, per VM.
 *
 * A call is keyed by (task_struct address, RSP at the entry hit): at the function's
 * exit RSP points at the same return address again, whichever vCPU the task runs on by
 * then, so returns pair with their calls across vCPU migration and nested or
 * concurrent calls of other tasks never mix. Bounded (a guest cannot grow it without
 * limit): when full, the oldest call is dropped and counted.
 *
 * Owned by the VM's worker thread; no locking.
 */
#ifndef DT_TRAP_INFLIGHT_H
#define DT_TRAP_INFLIGHT_H

#include <stdbool.h>
#include <stdint.h>

#include "domtrace/event.h"
#include "domtrace/guest.h"
#include "util/hashmap.h"

#define DT_INFLIGHT_MAX 16384

struct dt_inflight_call {
	uint64_t task, rsp;
	uint64_t seq;	     /* insertion order, for dropping the oldest */
	uint64_t ts_ns;	     /* entry time */
	int func_id;
	bool compat;
	bool deferred;	     /* the entry event waits for its strings */
	bool kcopy;	     /* deferred: decided where the kernel has copied the path */
	bool kfile;	     /* deferred: decided where the open has reached its file */
	unsigned missing;    /* deferred: arguments (bits) on pages not present at entry */
	uint64_t raw[DT_MAX_ARGS];
	struct dt_event *pre; /* owned: the entry's event (a copy, or the deferred original) */
	struct dt_proc_stamp stamp; /* what the entry read of the process (guest.h) */
};

struct dt_inflight {
	struct dt_hashmap map;
	struct dt_hashmap deferred; /* (task, 0) -> rsp of the task's deferred call */
	uint64_t next_seq;
	uint64_t dropped; /* calls forgotten because the table was full */
};

int dt_inflight_init(struct dt_inflight *t);
void dt_inflight_fini(struct dt_inflight *t); /* frees every pending event */

/* Record a call; an older call with the same key is replaced (freed, its event with it:
 * the trap path sends such a call's entry first, hit.c flush_stale). NULL on ENOMEM. */
struct dt_inflight_call *dt_inflight_add(struct dt_inflight *t, uint64_t task, uint64_t rsp);
struct dt_inflight_call *dt_inflight_get(struct dt_inflight *t, uint64_t task, uint64_t rsp);
/* Mark a call deferred (its entry event waits for a later point), or not any more. A task
 * runs one system call at a time, so it has at most one deferred call. */
int dt_inflight_defer(struct dt_inflight *t, struct dt_inflight_call *c);
void dt_inflight_undefer(struct dt_inflight *t, struct dt_inflight_call *c);
/* The deferred call of a task, if any: one lookup (the later points run on every open
 * or exec of the guest). */
struct dt_inflight_call *dt_inflight_deferred_of(struct dt_inflight *t, uint64_t task);
/* Forget a call; its pre event, if still owned, is freed. */
void dt_inflight_del(struct dt_inflight *t, uint64_t task, uint64_t rsp);

#endif /* DT_TRAP_INFLIGHT_H */
