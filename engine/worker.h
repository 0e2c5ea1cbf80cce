/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * worker.h - one monitored VM's thread: attach (read the guest, arm breakpoints), the
 * trap loop, re-planning on reload, and detach on every exit path.
 *
 * Everything in struct dt_worker belongs to the worker thread, except the fields
 * marked "any thread" (the control eventfd and request bits, set by the watcher and
 * the main thread) and the list linkage (daemon vms_lock).
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

#include "domtrace/decode.h"
#include "domtrace/event.h"
#include "domtrace/guest.h"
#include "domtrace/hv.h"
#include "probes/table.h"
#include "trap/inflight.h"

struct dt_daemon;
struct dt_report_producer;
struct dt_chain_reader;

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

/* Per-function plan for this VM, indexed by catalogue id. */
struct dt_func_plan {
	uint8_t flags;	   /* DT_PROBE_PRE / DT_PROBE_POST (config.h) */
	bool post_ok;	   /* exits found and armed */
	bool refused;	   /* entry could not be probed (reason logged once) */
	bool late_abort_warned;
	bool unsafe_abort_said; /* an abort filter matched a never-aborted function */
	bool undecided_said;	/* an abort filter needed an argument never readable */
};

struct dt_worker {
	struct dt_daemon *d;
	struct dt_vm_info vm;
	pthread_t thread;
	bool started;
	struct dt_worker *next; /* daemon list, vms_lock */

	int ctl_fd;			/* eventfd, any thread writes */
	atomic_uint requests;		/* enum dt_worker_request bits, any thread */
	_Atomic enum dt_worker_state state;

	const struct dt_hv_ops *ops;
	struct dt_hv_dom *dom;
	struct dt_symtab *map; /* from the daemon's map cache */
	char map_path[4096];   /* the map's path, or "guest kallsyms <release> (...)" */
	bool syms_kallsyms;    /* map was decoded from the guest's own kallsyms */
	struct dt_guest *guest;
	struct dt_trap_insn insn;
	uint64_t kcr3;
	uint64_t return_thunk; /* runtime address of __x86_return_thunk, or 0 */
	uint8_t *code_buf;     /* DT_FUNC_SCAN_MAX bytes for reading functions to plan */
	bool trapping;
	bool gone;
	unsigned paused; /* our outstanding pauses */
	unsigned pause_unjournaled; /* pauses the crash journal had no room for (warned once) */

	struct dt_probe_table *probes;
	struct dt_func_plan *plan; /* [catalogue size] */
	size_t nfuncs;
	bool want_ancestry; /* some filter needs name=^ / ppid=^, or a report file */
	bool want_pslist;
	bool exec_helper;   /* a probe completes execve events whose strings were absent */
	bool exec_helper_bprm; /* ... on bprm_execve (else do_execveat_common) */
	bool copy_helper;   /* a probe on do_filp_open decides open paths on the kernel's copy */
	bool file_helper;   /* one on security_file_open decides on the file an open reached */
	bool sgdt_returns_said;
	const char *not_ready_why; /* plan: why the kernel looks not booted yet (static) */

	struct dt_inflight inflight;
	struct dt_report_producer *producer;
	struct dt_chain_reader *reader;
	uint64_t seq;

	/* per-hit scratch: the trapping vCPU's address space, for decoders */
	uint64_t hit_cr3;
	struct dt_guest_mem mem;

	int exec_ids[2];   /* catalogue ids of execve, execveat (-1 if absent) */
	int exit_id;	   /* catalogue id of do_exit */
	uint64_t hits, not_ours, decode_errors;
};

/* Start a worker thread for vm. It attaches by itself; *ret_w is valid at once. */
int dt_worker_start(struct dt_daemon *d, const struct dt_vm_info *vm, struct dt_worker **ret_w);
/* Ask for something (any thread). */
void dt_worker_request(struct dt_worker *w, unsigned req);
/* Wait for the thread to end and free the worker (caller owns w, not on the list). */
void dt_worker_join(struct dt_worker *w);

/* Pause/unpause the whole domain, noted in the crash journal (engine/include/domtrace/journal.h) so
 * the guardian can release a pause a dead domtrace held. Worker thread only. */
int dt_worker_pause(struct dt_worker *w);
int dt_worker_unpause(struct dt_worker *w);

/* engine/trap/hit.c: handle one trap; fills the resume decision. */
int dt_worker_handle_trap(struct dt_worker *w, struct dt_trap *t);

/* Send the entry events of calls that have not returned (at detach). */
void dt_worker_flush_inflight(struct dt_worker *w);

/* engine/probes/plan.c: make the probe set match the current policy (domain paused
 * by the caller). Returns 0 or -errno (-ENODEV). */
int dt_worker_plan_probes(struct dt_worker *w);
/* Restore every byte (domain paused by the caller). */
int dt_worker_disarm_all(struct dt_worker *w);
/* Forget the journal records of every probe (the domain is gone: nothing to restore). */
void dt_worker_forget_journal(struct dt_worker *w);
/* Where this worker's probes are written (engine/probes/table.h). */
void dt_worker_probe_io(const struct dt_worker *w, struct dt_probe_io *ret_io);

#endif /* DT_ENGINE_WORKER_H */
