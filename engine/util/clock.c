// SPDX-License-Identifier: GPL-2.0-only
/* clock.c - see clock.h. */
#include <time.h>

#include "util/clock.h"

static uint64_t ns_of(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t dt_clock_mono_ns(void)
{
	return ns_of(CLOCK_MONOTONIC);
}

uint64_t dt_wallclock_at(struct dt_wallclock *w, uint64_t mono_ns)
{
	/* a mono_ns older than the offset's reading is as well served by it */
	if (mono_ns == 0 || w->read_at_ns == 0 ||
	    (mono_ns > w->read_at_ns && mono_ns - w->read_at_ns >= DT_WALLCLOCK_REFRESH_NS)) {
		uint64_t real = ns_of(CLOCK_REALTIME), mono = ns_of(CLOCK_MONOTONIC);

		w->offset_ns = (int64_t)(real - mono);
		w->read_at_ns = mono;
		if (mono_ns == 0)
			mono_ns = mono;
	}
	return mono_ns + (uint64_t)w->offset_ns;
}
