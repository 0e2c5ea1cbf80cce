/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * daemon.h - the running tracer: one hypervisor, one published policy, one report
 * queue, and a worker thread per monitored VM.
 *
 * Threads and what they own
 *   main      the daemon, options, the hv host handle; loads and publishes the policy
 *             (start, SIGUSR2/SIGHUP), flips the action bit (SIGUSR1), stops (INT/TERM,
 *             --duration). Signals arrive through a signalfd, never in async handlers.
 *   watcher   the hv watch fd; starts a worker when a monitored VM appears, stops it
 *             when the VM goes (engine/watcher.c).
 *   worker    one per VM: its domain handle, guest state, breakpoints, in-flight calls,
 *             match scratch. Reads the policy inside RCU read-side sections
 *             (engine/worker.c, engine/trap/).
 *   reporter  drains the queue into the sinks (reporters/).
 *
 * Shared state and how it is synchronised
 *   policy       RCU slot (filter.h): published by main, read by workers.
 *   action_on    atomic bool: written by main, read by workers.
 *   vms          the worker table: mutex `vms_lock` (watcher and main).
 *   maps         loaded System.maps, shared by VMs using the same file: `maps_lock`.
 *   stats        atomic counters.
 */
#ifndef DT_ENGINE_DAEMON_H
#define DT_ENGINE_DAEMON_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "domtrace/filter.h"
#include "domtrace/hv.h"
#include "domtrace/lathist.h"
#include "domtrace/options.h"

struct dt_metrics;
struct dt_report;
struct dt_report_producer;
struct dt_symtab;
struct dt_worker;

/* Daemon-wide counts (rare events: attach, refusals, symbol tables). */
struct dt_daemon_stats {
	atomic_uint_fast64_t attached;	/* VMs attached so far */
	atomic_uint_fast64_t refused;	/* VMs refused (bad map, PV, ...) */
	atomic_uint_fast64_t syms_map;	/* VMs attached with a System.map */
	atomic_uint_fast64_t syms_kallsyms; /* ... with their kernel's own kallsyms */
	atomic_uint_fast64_t kallsyms_decoded; /* kallsyms tables decoded (one a build) */
};

/* What the trap path counted, summed over every worker, live and ended
 * (dt_daemon_totals). Each worker counts in its own trap context: no trap writes a
 * counter another thread writes. */
struct dt_trap_totals {
	uint64_t traps;	       /* every trap taken */
	uint64_t calls;	       /* entry hits of traced functions */
	uint64_t returns;      /* exit hits paired with a call */
	uint64_t helpers;      /* hits of internal probes (exec/copy/file helpers, do_exit) */
	uint64_t unpaired;     /* exit hits with no call, hits of probes removed meanwhile;
				* traps = calls + returns + helpers + unpaired + not_ours
				* (+ exit hits whose task was unreadable: in errors) */
	uint64_t matches;      /* filter matches (incl. aborts) */
	uint64_t aborts;       /* calls aborted */
	uint64_t not_ours;     /* traps at addresses without our probe */
	uint64_t regex_errors; /* matches where a regex could not be evaluated */
	uint64_t undecided;    /* functions where an abort filter lacked its argument */
	uint64_t errors;       /* hits that could not be decoded fully */
	struct dt_lathist handling; /* a trap taken -> its answer sent, by the workers */
	/* the hypervisor work those traps cost (hv.h struct dt_hv_work) */
	uint64_t hypercalls, maps, map_hits, pages, walks;
	/* kernel reads served from the direct map without a walk, and the shortcut's
	 * failed checks (engine/guest/dmap.c) */
	uint64_t dmap_reads, dmap_mismatches;
};

/* A shared symbol table: a System.map file (path), or a table decoded from a guest's
 * kallsyms (banner: its build's linux_banner; the cache holds one reference itself). */
struct dt_map_ref {
	char *path;
	char *banner;
	struct dt_symtab *tab;
	unsigned refs;
	struct dt_map_ref *next;
};

#define DT_KALLSYMS_CACHE_MAX 64 /* kernel builds whose decoded table is kept */

struct dt_daemon {
	const struct dt_options *opts;
	const struct dt_hv_ops *ops;
	struct dt_hv *hv; /* borrowed: opened and closed by the caller */

	struct dt_chain_slot policy; /* RCU-published chain; never empty while workers run */
	atomic_bool action_on;	 /* the global action bit (SIGUSR1) */
	atomic_uint policy_gen;	 /* bumped on every publish */

	struct dt_report *reporter;
	struct dt_report_producer *notices; /* domtrace's own notices (main thread) */
	struct dt_metrics *metrics; /* --metrics: the HTTP endpoint (engine/metrics.h) */

	pthread_mutex_t vms_lock;
	struct dt_worker *workers; /* list, under vms_lock */

	pthread_mutex_t maps_lock;
	struct dt_map_ref *maps;
	/* held across "is it cached? else decode and add": one decode per build. Taken
	 * before maps_lock, never under it. */
	pthread_mutex_t kallsyms_lock;

	unsigned initial_workers; /* workers started for the VMs found at start */
	int stop_fd;	/* eventfd: tells the watcher to stop */
	atomic_bool stopping;
	pthread_t watcher;
	bool watcher_started;

	struct dt_daemon_stats stats;
	/* every worker's trap counters: those of live workers (list, counters_lock) and
	 * the sum of those that ended */
	pthread_mutex_t counters_lock;
	struct dt_worker *counted;
	struct dt_trap_totals retired;
};

/* Block the daemon's signals (in every thread created after this call) and return a
 * signalfd for them. Call first thing in main(). -1 on failure. */
int dt_daemon_signal_fd(void);

/* Run on an opened hypervisor until stopped (signal, --duration, or done(arg) true).
 * after_start(d, arg), if given, runs once every VM present at start is attached (a
 * non-zero return stops at once). Returns the process exit status. Main thread; the
 * caller opened hv and closes it afterwards. */
int dt_daemon_main(const struct dt_options *opts, const struct dt_hv_ops *ops, struct dt_hv *hv,
		   int (*after_start)(struct dt_daemon *d, void *arg), bool (*done)(void *arg),
		   void *arg);
/* The signal loop of dt_daemon_main (sfd from dt_daemon_signal_fd()). */
void dt_daemon_run(struct dt_daemon *d, int sfd, bool (*done)(void *arg), void *arg);
/* Wait until n VMs are attached or refused: true, or false after timeout_ms. */
/* The trap path's counts so far, every worker's summed. Any thread. */
void dt_daemon_totals(struct dt_daemon *d, struct dt_trap_totals *ret);
/* "per hit: 5.0 hypercalls, 0.00 maps (14.0 map hits), 4.0 pages, 0.1 walks, 3.9
 * direct-map reads" (then "; N direct-map mismatches" if any) for t into
 * buf (NUL-terminated, truncated to len): its length, 0 (buf "") when no trap was taken. */
size_t dt_daemon_work_text(const struct dt_trap_totals *t, char *buf, size_t len);
/* worker.c: a worker's counters join the sum when it starts, and are folded into the
 * retired sum once its thread has ended (w not yet counted: nothing happens). */
void dt_daemon_count_worker(struct dt_daemon *d, struct dt_worker *w);
void dt_daemon_uncount_worker(struct dt_daemon *d, struct dt_worker *w);
bool dt_daemon_wait_attached(struct dt_daemon *d, unsigned n, int timeout_ms);

/* The same in parts, for tests and benches (no signal handling): start (open the
 * backend, attach every VM), reload, flip the action bit, stop (detach all, free). */
int dt_daemon_start(const struct dt_options *opts, const struct dt_hv_ops *ops, struct dt_hv *hv,
		    struct dt_daemon **ret_d);
int dt_daemon_reload(struct dt_daemon *d); /* -EINVAL: bad config, nothing changed */
void dt_daemon_set_action(struct dt_daemon *d, bool on);
struct dt_hv *dt_daemon_hv(struct dt_daemon *d);
void dt_daemon_stop(struct dt_daemon *d); /* NULL ok */
/* The same, with the trap totals once every worker has ended, and the reporter's last
 * counters and losses (dt_report_losses_text) after its final flush, for tests and the
 * soak (any may be NULL). */
struct dt_report_stats;
void dt_daemon_stop_report(struct dt_daemon *d, struct dt_trap_totals *ret_t,
			   struct dt_report_stats *ret_st, char *losses, size_t len);

/* --check-config: parse, print every diagnostic, return the exit status. */
int dt_daemon_check_config(const struct dt_options *opts);

/* Load (or share) a System.map; release with dt_daemon_put_map. Any thread. */
int dt_daemon_get_map(struct dt_daemon *d, const char *path, struct dt_symtab **ret_tab, char *err,
		      size_t errlen);
void dt_daemon_put_map(struct dt_daemon *d, struct dt_symtab *tab);

/*
 * Tables decoded from guests' own kallsyms, one per kernel build. find: the cached table
 * of the build this domain runs (where regs, vCPU 0's, say its kernel is; NULL: read them,
 * the domain paused), with a reference taken, or NULL. add: cache a table just decoded
 * (ownership passes; if its banner is cached already, the cached one is returned
 * instead), a reference taken for the caller. Release with put_map. A caller that decodes
 * holds kallsyms_lock around find + decode + add. Any thread.
 */
struct dt_symtab *dt_daemon_kallsyms_find(struct dt_daemon *d, struct dt_hv_dom *dom,
					  const struct dt_regs *regs);
int dt_daemon_kallsyms_add(struct dt_daemon *d, struct dt_symtab *tab, const char *banner,
			   struct dt_symtab **ret_tab);

#endif /* DT_ENGINE_DAEMON_H */
