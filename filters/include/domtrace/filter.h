/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * filter.h - the filter chain: a parsed configuration compiled into an immutable
 * chain, published with RCU, matched by workers without locks.
 *
 * Semantics (docs/domtrace.conf.5): filters are tried strictly in file order; the
 * first whose every given key matches the event wins (like an iptables chain). A
 * filter applies to a VM if it is in the global section or in a Domain section whose
 * glob matches the VM's name.
 *
 * Objects, owners, threads
 *   struct dt_chain        immutable. Built by dt_chain_new() on the loading thread; owns
 *                          its struct dt_config. Published in a struct dt_chain_slot; freed
 *                          by dt_chain_publish()/dt_chain_slot_clear() after a grace period.
 *   struct dt_chain_slot   the one published pointer. Writers (publish, clear, load) must
 *                          be serialised by the caller (the main thread does all of them).
 *   struct dt_chain_reader per worker thread: the VM name, pcre2 match data and a cache of
 *                          which sections apply to the VM (recomputed once per chain
 *                          generation). Never shared between threads.
 *
 * Synchronisation
 *   | operation                         | thread              | RCU state            |
 *   |-----------------------------------|---------------------|----------------------|
 *   | dt_chain_new/free                 | any (unpublished)   | -                    |
 *   | dt_chain_publish/slot_clear/load  | one writer at a time| outside a read lock  |
 *   | dt_chain_read_lock/unlock         | registered readers  | -                    |
 *   | dt_chain_current                  | registered readers  | inside a read lock   |
 *   | dt_chain_match/wants_post         | reader's own thread | inside a read lock   |
 *   | dt_chain_config + config queries  | reader              | inside a read lock   |
 * Readers call rcu_register_thread() (liburcu's default flavour, <urcu.h>) before
 * their first read lock. Nothing called inside a read lock blocks, allocates or logs.
 */
#ifndef DOMTRACE_FILTER_H
#define DOMTRACE_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domtrace/config.h"
#include "domtrace/event.h"

struct dt_chain;
struct dt_chain_reader;

struct dt_chain_slot {
	struct dt_chain *chain; /* RCU-protected; NULL: nothing published yet */
};

/* The first matching filter. */
struct dt_match {
	uint32_t filter;   /* 1-based index in the chain (UNDECIDED: the undecided filter) */
	bool apply;	   /* abort filter: the engine aborts (global bit on) or reports would-abort */
	int64_t abort_ret; /* apply: the value the aborted call returns */
	/* Set on every return: the first filter whose regex failed during this match
	 * (match or depth limit, bad UTF; 0 if none), and whether it was that filter's
	 * first failure in this chain (the engine says so once). */
	uint32_t regex_error;
	bool regex_error_first;
};

/* dt_chain_match(): the first filter that could match reads an argument the event
 * marks unknown (ev->unknown): the decision needs its value. */
#define DT_CHAIN_UNDECIDED 2

/*
 * The calling process's ancestors, loaded lazily: called at most once per
 * dt_chain_match() and only if a filter uses name=^ or ppid=^ and the process itself
 * does not already decide it. Returns an array parent first (n may be 0; NULL ok when
 * n is 0). Runs inside the read lock on the worker: bounded guest reads only.
 */
struct dt_ancestry {
	const struct dt_proc_info *(*load)(void *ctx, size_t *ret_n);
	void *ctx;
};

/* Compile cfg into a chain, taking ownership of cfg on success only. 0 or -ENOMEM. */
int dt_chain_new(struct dt_config *cfg, struct dt_chain **ret_chain);
void dt_chain_free(struct dt_chain *chain); /* NULL ok; frees its config */

const struct dt_config *dt_chain_config(const struct dt_chain *chain);
uint64_t dt_chain_generation(const struct dt_chain *chain); /* unique per chain, from 1 */
size_t dt_chain_length(const struct dt_chain *chain);
/* How often filter (1-based) failed to evaluate a regex in this chain. Any reader. */
uint64_t dt_chain_regex_errors(const struct dt_chain *chain, uint32_t filter);

/* A reader for worker threads tracing VM `vm`. 0 or -ENOMEM (-EINVAL: name too long). */
int dt_chain_reader_new(const char *vm, struct dt_chain_reader **ret_reader);
void dt_chain_reader_free(struct dt_chain_reader *reader); /* NULL ok */

/*
 * Match an event (ev->when is PRE or POST) against the chain for the reader's VM.
 * Returns 1 and fills *ret_match on a match, 0 if no filter matches, DT_CHAIN_UNDECIDED
 * if filters are tried in order up to one whose other keys match but whose argval reads
 * an argument in ev->unknown (*ret_match names it). anc may be NULL: then
 * ev->anc/ev->nanc are the ancestry. A regex that fails is decided by the config's
 * OnRegexError policy and counted (dt_chain_regex_errors). Does not block, allocate or
 * log.
 */
int dt_chain_match(const struct dt_chain *chain, struct dt_chain_reader *reader,
		   const struct dt_event *ev, const struct dt_ancestry *anc,
		   struct dt_match *ret_match);

/* Does any when=post/both filter applying to the reader's VM name func_id (or "*")?
 * The engine arms a post probe for this call if so. */
bool dt_chain_wants_post(const struct dt_chain *chain, struct dt_chain_reader *reader,
			 int func_id);

/* RCU publication (filters/chain_rcu.c). */
void dt_chain_read_lock(void);
void dt_chain_read_unlock(void);
/* The published chain (NULL if none); valid until dt_chain_read_unlock(). */
struct dt_chain *dt_chain_current(struct dt_chain_slot *slot);
/* Publish chain (may be NULL), wait for a grace period, free the previous one. Blocks. */
void dt_chain_publish(struct dt_chain_slot *slot, struct dt_chain *chain);
static inline void dt_chain_slot_clear(struct dt_chain_slot *slot)
{
	dt_chain_publish(slot, NULL);
}

/*
 * Parse `path`, compile, publish. On any error the published chain is left exactly
 * as it was: -EINVAL with the errors in diags (bad config), -errno if unreadable,
 * -ENOMEM. Blocks for a grace period on success.
 */
int dt_chain_load_file(struct dt_chain_slot *slot, const char *path,
		       struct dt_config_diags *diags);

#endif /* DOMTRACE_FILTER_H */
