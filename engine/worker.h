/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * worker.h - one monitored VM's thread: attach (read the guest, arm breakpoints), the
 * trap loop, re-planning on reload, and detach on every exit path.
 *
 * Everything in struct dt_worker belongs to the worker thread, except the fields
 * marked "any thread" (the control eventfd and request bits, set by the watcher and
 * the main thread), the list linkage (daemon vms_lock, counters_lock) and the trap
 * counters in ctx (read by --stats). The worker owns its trap context (vmctx.h) and
 * passes it, never itself, to the trap path and the planner.
 *
 * Guest-safety laws the worker keeps:
 *   - trapping is enabled before the first byte is written and disabled only after the
 *     last one is restored;
 *   - every byte is written with the domain paused, after checking what is there;
 *   - every trap is answered (ours emulated, others handed back to the guest), and on
 *     detach every original byte is restored before the pending traps are answered;
 *   - a domain that is gone (-ENODEV) is never written again.
 */
#ifndef DT_ENGINE_WORKER_H
#define DT_ENGINE_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "domtrace/hv.h"
#include "probes/plan.h"
#include "vmctx.h"

struct dt_daemon;
struct dt_report_producer;
struct dt_symtab;

#define DT_BOOT_WAIT_S 600 /* how long a VM whose kernel is not running yet is waited for */

enum dt_worker_request {
	DT_WREQ_STOP = 1u << 0,	  /* detach and end */
	DT_WREQ_GONE = 1u << 1,	  /* the domain was destroyed: end without writing */
	DT_WREQ_REPLAN = 1u << 2, /* the policy changed: re-plan breakpoints */
};

enum dt_worker_state {
	DT_WORKER_STARTING = 0,
	DT_WORKER_RUNNING,
	DT_WORKER_REFUSED, /* attach failed: nothing was written */
	DT_WORKER_ENDED,
};

struct dt_worker {
	struct dt_daemon *d;
	struct dt_vm_info vm;
	pthread_t thread;
	bool started;
	struct dt_worker *next;	   /* daemon list, vms_lock */
	struct dt_worker *counted; /* daemon list of live counters, counters_lock */
	bool is_counted;

	int ctl_fd;			/* eventfd, any thread writes */
	atomic_uint requests;		/* enum dt_worker_request bits, any thread */
	_Atomic enum dt_worker_state state;

	/* The trap context: all the trap path and the planner see of this VM. */
	struct dt_vmctx ctx;
	struct dt_plan_env env; /* the planner's inputs: symbols, scratch */
	struct dt_report_producer *producer; /* ctx.out submits here */

	struct dt_symtab *map; /* from the daemon's map cache */
	char map_path[4096];   /* the map's path, or "guest kallsyms <release> (...)" */
	bool syms_kallsyms;    /* map was decoded from the guest's own kallsyms */
	/* decode_early's table, referenced until the paused attach has taken its own, and
	 * whether decode_early decoded it (for the attach line) */
	struct dt_symtab *early_tab;
	bool decoded_early;
	bool trapping;
	bool gone;
	unsigned paused; /* our outstanding pauses */
};

/* Start a worker thread for vm. It attaches by itself; *ret_w is valid at once. */
int dt_worker_start(struct dt_daemon *d, const struct dt_vm_info *vm, struct dt_worker **ret_w);
/* Ask for something (any thread). */
void dt_worker_request(struct dt_worker *w, unsigned req);
/* Wait for the thread to end and free the worker (caller owns w, not on the list). */
void dt_worker_join(struct dt_worker *w);

#endif /* DT_ENGINE_WORKER_H */
