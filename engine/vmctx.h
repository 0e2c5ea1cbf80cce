/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vmctx.h - the per-VM trap context: everything the trap path (engine/trap/) and the
 * probe planner (engine/probes/plan.c) may touch of one monitored VM, and nothing else.
 * Private to engine/.
 *
 * Ownership: embedded in its worker (worker.h), which fills it at attach and empties it
 * at detach; the trap and probe code borrow it for the length of a call. Nothing here
 * points back into the daemon: the policy is a snapshot, the filter chain is read
 * through the slot the daemon publishes into (RCU), events leave through `out` (the
 * worker's report producer), and what the trap path counts stays in the context until
 * --stats sums it (dt_daemon_totals). So a test can drive the trap path with a backend
 * and a chain of its own, and no daemon (tests/check_trap.c).
 *
 * Thread: the worker's thread only, but for the counters, which any thread may read
 * (one writer: dt_counter_add is a relaxed load and store, never a locked add).
 */
#ifndef DT_ENGINE_VMCTX_H
#define DT_ENGINE_VMCTX_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "domtrace/decode.h"
#include "domtrace/event.h"
#include "domtrace/guest.h"
#include "domtrace/hv.h"
#include "domtrace/lathist.h"
#include "probes/table.h"
#include "trap/inflight.h"
#include "util/clock.h"

struct dt_chain_slot;
struct dt_journal;
struct dt_chain_reader;

/* Per-function plan for this VM, indexed by catalogue id. */
struct dt_func_plan {
	uint8_t flags;	   /* DT_PROBE_PRE / DT_PROBE_POST (config.h) */
	bool post_ok;	   /* exits found and armed */
	bool refused;	   /* entry could not be probed (reason logged once) */
	bool late_abort_warned;
	bool unsafe_abort_said; /* an abort filter matched a never-aborted function */
	bool undecided_said;	/* an abort filter needed an argument never readable */
};

/* What the trap path counts. One writer (the worker), any reader. */
struct dt_trap_counters {
	atomic_uint_fast64_t traps;	   /* every trap taken */
	atomic_uint_fast64_t calls;	   /* entry hits of traced functions */
	atomic_uint_fast64_t returns;	   /* exit hits paired with a call */
	atomic_uint_fast64_t helpers;	   /* hits of the later decision points (exec, copy,
					    * file helpers) and of do_exit kept for the cache */
	atomic_uint_fast64_t unpaired;	   /* exit hits with no call to pair (it began before
					    * we attached), and hits of probes removed while
					    * their trap waited */
	atomic_uint_fast64_t matches;	   /* filter matches (incl. aborts) */
	atomic_uint_fast64_t aborts;	   /* calls aborted */
	atomic_uint_fast64_t not_ours;	   /* traps at addresses without our probe */
	atomic_uint_fast64_t regex_errors; /* matches where a regex could not be evaluated */
	atomic_uint_fast64_t undecided;	   /* functions where an abort filter lacked its argument */
	atomic_uint_fast64_t errors;	   /* hits that could not be decoded fully */
	struct dt_lathist handling;	   /* a trap taken -> its answer sent */
	atomic_uint_fast64_t probes_armed; /* a gauge: breakpoints in guest memory now
					    * (set after each plan and detach) */
	/* the backend's work for traps (hv.h struct dt_hv_work), from taking each trap to
	 * answering it: dt_vmctx_count_work */
	atomic_uint_fast64_t hypercalls, maps, map_hits, pages, walks;
	/* kernel reads the direct-map shortcut served without a walk (on traps), and its
	 * checks that failed (attach included; each turned a VM's shortcut off) */
	atomic_uint_fast64_t dmap_reads, dmap_mismatches;
};

static inline void dt_counter_add(atomic_uint_fast64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

/* The options the trap path and the planner obey: copied once, at the worker's start. */
struct dt_vm_policy {
	bool quiet;	     /* -q: unmatched calls are not reported */
	bool real_parent;    /* ancestry follows real_parent, not parent */
	bool returns;	     /* -r: every traced call's return is reported */
	bool sgdt_returns;   /* --sgdt-returns */
	bool report_file;    /* -R: the report file shows every match's lineage */
	bool a3;	     /* -a: pslist events go to the A3 monitor */
	/* The global action bit (SIGUSR1): the trap path takes one snapshot of it per
	 * trap (action_on below), so that every decision of a trap sees the same value. */
	const atomic_bool *action_bit;
};

/* Where a VM's events go: submit takes the event in every case (ownership passes). */
struct dt_vm_out {
	int (*submit)(void *ctx, struct dt_event *ev);
	void *ctx;
};

struct dt_vmctx {
	/* the VM and its backend */
	char name[DT_VM_NAME_MAX];
	uint32_t domid;
	const struct dt_hv_ops *ops;
	struct dt_hv_dom *dom;	  /* NULL while not attached */
	struct dt_guest *guest;	  /* the guest's kernel as read at attach */
	struct dt_probe_io io;	  /* where probes are written (dom, insn, journal) */
	struct dt_trap_insn insn; /* io.insn points here */
	unsigned pause_unjournaled; /* pauses the crash journal had no room for */

	/* probes and calls in flight */
	struct dt_probe_table *probes;
	struct dt_func_plan *plan; /* [nfuncs] */
	size_t nfuncs;
	struct dt_inflight inflight;
	int exec_ids[2]; /* catalogue ids of execve, execveat (-1 if absent) */
	int exit_id;	 /* catalogue id of do_exit */
	/* what the planner armed, for the trap path */
	bool want_ancestry;    /* some filter needs name=^ / ppid=^, or a report file */
	bool want_pslist;
	bool exec_helper;      /* a probe completes execve events whose strings were absent */
	bool exec_helper_bprm; /* ... on bprm_execve (else do_execveat_common) */
	bool copy_helper;      /* a probe on do_filp_open decides open paths on the kernel's copy */
	bool file_helper;      /* one on security_file_open decides on the file an open reached */

	/* the filter chain: the daemon's published slot, read with this VM's reader */
	struct dt_chain_slot *chain;
	struct dt_chain_reader *reader;
	/* events leave through out (the worker's: its report producer), numbered by seq */
	struct dt_vm_out out;
	uint64_t seq;

	struct dt_vm_policy pol;
	bool action_on; /* the action bit, as this trap found it */

	struct dt_trap_counters counters;
	uint64_t hits, not_ours, decode_errors; /* for this VM's own messages */

	/* the backend's work counters when last counted (dt_vmctx_count_work) */
	struct dt_hv_work work_mark;
	/* the guest's direct-map counts when last counted (guest.h dt_guest_dmap_stats) */
	struct dt_guest_dmap_stats dmap_mark;

	/* per-hit scratch: the trapping vCPU's address space, for decoders; what an entry
	 * read of its process (valid only on the entry hit that read it: dt_hit_handle
	 * clears it), for the call's return */
	uint64_t hit_cr3;
	/* CLOCK_MONOTONIC when the worker took this trap (0: not read, dt_decide_fill reads
	 * the clock), and the wall clock's offset from it (util/clock.h): an event's time
	 * costs no clock reading of its own */
	uint64_t hit_mono_ns;
	struct dt_wallclock wallclock;
	struct dt_proc_stamp hit_stamp;
	struct dt_guest_mem mem;
	/* a call event (DT_EVENT_ARENA) the trap path finished with, for the next entry:
	 * most entries end in a small copy (the return's), and allocating and clearing
	 * 16 KiB per trap showed in the profile */
	struct dt_event *spare_ev;
};

/*
 * Set up a context for the VM name/domid on ops: its tables (probe, in-flight, plan),
 * its guest-memory reader and the catalogue ids it needs, with the policy snapshot pol
 * and the daemon's chain slot and crash journal (borrowed). The caller sets reader and
 * out (and frees what they hold), and dom and guest at attach. 0 or -errno; on failure
 * dt_vmctx_fini still frees what was made.
 */
int dt_vmctx_init(struct dt_vmctx *vm, const char *name, uint32_t domid,
		  const struct dt_hv_ops *ops, const struct dt_vm_policy *pol,
		  struct dt_chain_slot *chain, struct dt_journal *journal);
/* Free the tables (every pending event with them). Does not touch the guest. */
void dt_vmctx_fini(struct dt_vmctx *vm);
/* A call event with DT_EVENT_ARENA bytes of text, as dt_event_new makes it (the spare
 * when there is one); 0 or -ENOMEM. dt_vmctx_event_done: the trap path is finished
 * with ev (not queued): kept as the spare, or freed. NULL ok. */
int dt_vmctx_event_new(struct dt_vmctx *vm, struct dt_event **ret_ev);
void dt_vmctx_event_done(struct dt_vmctx *vm, struct dt_event *ev);
/* The domain was opened (or closed: NULL): the probe writer follows. */
void dt_vmctx_set_dom(struct dt_vmctx *vm, struct dt_hv_dom *dom);

/* Pause/unpause the whole domain, noted in the crash journal (domtrace/journal.h) so
 * the guardian can release a pause a dead domtrace held. 0 or -errno. */
int dt_vmctx_pause(struct dt_vmctx *vm);
int dt_vmctx_unpause(struct dt_vmctx *vm);

/*
 * The backend's work since the last mark (hv.h dt_hv_work). dt_vmctx_mark_work forgets
 * what went before (attach, a re-plan: not a trap's); dt_vmctx_count_work adds what was
 * done since to the counters as trap work, marks, and gives the delta (ret_delta may be
 * NULL). The worker counts after each trap, so a trap's work includes taking it from the
 * ring and answering it. Nothing happens on a backend without dt_hv_ops.work.
 */
void dt_vmctx_mark_work(struct dt_vmctx *vm);
void dt_vmctx_count_work(struct dt_vmctx *vm, struct dt_hv_work *ret_delta);

#endif /* DT_ENGINE_VMCTX_H */
