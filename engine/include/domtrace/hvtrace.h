/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hvtrace.h - the hypervisor diagnostics of -x and -ddd: a pass-through dt_hv_ops table
 * that logs what goes between the engine and a backend, and changes nothing.
 *
 *   DT_HVTRACE_FAIL   (-x)   every call that fails: op, domain, arguments, -errno
 *                            (-EAGAIN of next_trap/watch_read is "nothing now", not a
 *                            failure; a short read is an answer, not a failure)
 *   DT_HVTRACE_RING   (-xx)  every ring event: each trap taken (vCPU, reason, address),
 *                            each answer (how, the RIP it resumes at), each VM note
 *   DT_HVTRACE_READS  (-ddd) every guest memory read: address, length, bytes read
 *
 * dt_hvtrace_wrap() is called once by the main thread before any other thread exists;
 * the table it returns may then be used like the backend's own, by the same threads.
 * Domain handles it hands out are its own (each carries the real handle and the domid);
 * they are only good with the returned table.
 */
#ifndef DT_ENGINE_HVTRACE_H
#define DT_ENGINE_HVTRACE_H

#include "domtrace/hv.h"

enum dt_hvtrace_flags {
	DT_HVTRACE_FAIL = 1u << 0,
	DT_HVTRACE_RING = 1u << 1,
	DT_HVTRACE_READS = 1u << 2,
};

/* The flags -x / -d counts ask for (0: no tracing, use the backend's table as is). */
unsigned dt_hvtrace_flags_for(int hv_debug, int debug);

/* A table that calls `real` and logs per `flags` (static storage: one per process). */
const struct dt_hv_ops *dt_hvtrace_wrap(const struct dt_hv_ops *real, unsigned flags);

#endif /* DT_ENGINE_HVTRACE_H */
