/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * a3_events.h - sample events for the reporter tests and benchmark, filled the way
 * the engine and the decoders fill them (strings in the event's arena).
 */
#ifndef DOMTRACE_TESTS_A3_EVENTS_H
#define DOMTRACE_TESTS_A3_EVENTS_H

#include <stdint.h>

#include "domtrace/event.h"

/* 21:04:05.123456789 UTC on 2024-05-01 */
#define DT_TEST_TS 1714597445123456789ull

/* sys_openat(dfd=AT_FDCWD, filename=<filename>, flags=O_RDONLY, mode=0) by
 * <comm>[412<-411] on <vm> vCPU 1; PRE unless ret is given (post). `arena` bytes. */
struct dt_event *dt_test_ev_openat(enum dt_event_type type, const char *vm, const char *comm,
				   const char *filename, size_t arena);
/* Make ev a POST with return value ret and latency. */
void dt_test_ev_post(struct dt_event *ev, int64_t ret, uint64_t latency_ns);
/* Give ev two ancestors (bash[411<-1], init[1<-0]). */
void dt_test_ev_ancestors(struct dt_event *ev);
/* A pslist of n processes: pid i+1, ppid i, comm "p<i>". */
struct dt_event *dt_test_ev_pslist(const char *vm, unsigned n);
/* A catalogue lookup for openat only (the real catalogue lives in engine/decode). */
const struct dt_funcdesc *dt_test_lookup(int func_id);

#endif /* DOMTRACE_TESTS_A3_EVENTS_H */
