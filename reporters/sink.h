/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sink.h - reporters' private sink interface. Every op runs on the reporter thread,
 * except stats, which any thread may call (it reads atomics only).
 *
 * write_batch gets the events of one batch in queue order; NULL entries are to be
 * skipped. A sink that must keep an event past the call (only a3) takes it by setting
 * its entry to NULL and later gives it back with dt_report_done(). Such a sink comes
 * last in the reporter's list; the reporter frees the entries left non-NULL.
 */
#ifndef DOMTRACE_REPORTERS_SINK_H
#define DOMTRACE_REPORTERS_SINK_H

#include <stdbool.h>
#include <stddef.h>

#include "domtrace/report.h"

struct dt_sink_ops {
	const char *name;
	int (*open)(struct dt_report *r, const struct dt_report_opts *o, void **ret_state);
	void (*write_batch)(void *state, struct dt_event **evs, size_t n);
	/* Deferred work (sending, retrying); `final` when stopping: send without waiting
	 * for a batch to fill. Returns ms until it wants to run again, or -1. Optional. */
	int (*flush)(void *state, bool final);
	/* Wait up to timeout_ms for the sink's own I/O or for `fd` to be readable (one
	 * sink at most provides it). Optional. */
	void (*wait)(void *state, int fd, int timeout_ms);
	bool (*idle)(void *state);    /* nothing left to deliver; optional (= true) */
	void (*abandon)(void *state); /* stop's time limit ran out: drop what is left */
	void (*stats)(void *state, struct dt_report_stats *st); /* add its counters */
	void (*reopen)(void *state); /* open its file again (rotation); optional */
	void (*close)(void *state);			       /* NULL ok */
};

extern const struct dt_sink_ops dt_sink_log;
extern const struct dt_sink_ops dt_sink_report_file;
extern const struct dt_sink_ops dt_sink_syslog;
extern const struct dt_sink_ops dt_sink_a3;

/* A sink is done with an event it kept: free it and give its bytes back. */
void dt_report_done(struct dt_report *r, struct dt_event *ev);

/* A sink keeps an event past write_batch in its own bound (a3): the queue is done
 * with it (its bytes go back); the sink frees it with dt_event_free. */
void dt_report_keep(struct dt_report *r, struct dt_event *ev);

/*
 * A sink's losses and health, reporter thread only. sink_lost: n events this sink
 * will never deliver, and why ("write error: ...", "rejected with HTTP 400", ...):
 * counted by reason, and announced to the other sinks by a `lost` record. The first
 * loss or failure (sink_failing: not delivering yet, nothing lost) of a run prints one
 * warning; sink_ok, after a failure, one line saying it delivers again.
 */
void dt_report_sink_lost(struct dt_report *r, const struct dt_sink_ops *ops, uint64_t n,
			 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void dt_report_sink_failing(struct dt_report *r, const struct dt_sink_ops *ops, const char *fmt,
			    ...) __attribute__((format(printf, 3, 4)));
void dt_report_sink_ok(struct dt_report *r, const struct dt_sink_ops *ops);

/* CLOCK_REALTIME in ns, for records the reporter makes. */
uint64_t dt_report_realtime_ns(void);

/* Monotonic milliseconds, for batch delays and backoff. */
uint64_t dt_report_now_ms(void);

/* write(2) all of buf to fd, retrying on EINTR/short writes (*ret_done: bytes written,
 * also on failure); gives up with -ECANCELED
 * once dt_report_stop_now() cut the reporter's I/O. 0 or -errno. */
int dt_report_write_all(struct dt_report *r, int fd, const char *buf, size_t len,
			size_t *ret_done);

#endif /* DOMTRACE_REPORTERS_SINK_H */
