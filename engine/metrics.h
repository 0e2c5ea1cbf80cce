/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * metrics.h - --metrics: the daemon's counters over HTTP in the Prometheus text format
 * (docs/domtrace.8, METRICS), served by libmicrohttpd's own thread.
 *
 * What it reads, and how, so that no trap waits for a scrape: the workers' trap
 * counters (one writer each, relaxed atomics; the list under counters_lock, which only
 * worker start and end take), the reporter's counters (dt_report_stats and friends:
 * atomics and the reporter's own locks), the daemon's atomic stats. Nothing is added
 * to the trap path.
 *
 * Threads: start and stop on the main thread (stop before the reporter is freed);
 * render on any thread (the HTTP thread; tests).
 */
#ifndef DT_ENGINE_METRICS_H
#define DT_ENGINE_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct dt_daemon;
struct dt_metrics;

/* Listen on `listen` (HOST:PORT, [v6]:PORT; port 0: any) and serve GET /metrics from
 * d's counters until dt_metrics_stop. 0 or -errno (-EADDRNOTAVAIL: no such address or
 * cannot listen there; the reason is logged). */
int dt_metrics_start(struct dt_daemon *d, const char *listen, struct dt_metrics **ret_m);
/* The port it listens on. */
uint16_t dt_metrics_port(const struct dt_metrics *m);
/* Stop serving (waits for the HTTP thread) and free. NULL ok. */
void dt_metrics_stop(struct dt_metrics *m);
/* The exposition text now: malloc()ed, the caller frees. 0 or -ENOMEM. */
int dt_metrics_render(struct dt_daemon *d, char **ret_text, size_t *ret_len);

#endif /* DT_ENGINE_METRICS_H */
