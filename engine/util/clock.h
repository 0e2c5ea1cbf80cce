/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * clock.h - the trap path's clock readings, as few as it can take.
 *
 * In a Xen PV dom0 the vDSO often has no usable clock source (the Xen tier's profile: every
 * clock_gettime a system call, 1.47 per trap, the most frequent one), so the worker reads
 * CLOCK_MONOTONIC once when it takes a trap and derives the event's wall-clock time from
 * that reading: CLOCK_REALTIME - CLOCK_MONOTONIC, read again once a second. A step of the
 * wall clock (settimeofday, an NTP step) shows in event times within a second; slewing
 * moves the offset by at most 0.5 ms a second, which the next refresh takes in.
 *
 * A struct dt_wallclock belongs to one thread (a worker's vmctx); no locking.
 */
#ifndef DT_UTIL_CLOCK_H
#define DT_UTIL_CLOCK_H

#include <stdint.h>

#define DT_WALLCLOCK_REFRESH_NS 1000000000ull

struct dt_wallclock {
	int64_t offset_ns;   /* CLOCK_REALTIME - CLOCK_MONOTONIC when last read */
	uint64_t read_at_ns; /* CLOCK_MONOTONIC of that reading; 0: never read */
};

/* CLOCK_MONOTONIC in ns. */
uint64_t dt_clock_mono_ns(void);

/* CLOCK_REALTIME in ns at the monotonic instant mono_ns (a reading of dt_clock_mono_ns not
 * older than a second, or 0 for now): reads the clocks only when the offset is a second
 * old (or mono_ns is 0). */
uint64_t dt_wallclock_at(struct dt_wallclock *w, uint64_t mono_ns);

#endif
