/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * journal.h - every breakpoint domtrace has in guest memory, by guest-physical address, in
 * a mapping shared with the guardian process (guardian.h), which restores them if domtrace
 * dies without detaching (kill -9, a crash).
 *
 * Protocol (what makes a record trustworthy to the guardian at any instant):
 *   arm     dt_journal_add() publishes the record (orig + armed bytes) BEFORE the guest
 *           bytes are written; a death in between leaves a record whose site still holds
 *           orig, which recovery counts as clean.
 *   disarm  dt_journal_drop() AFTER the original bytes are back; a death in between
 *           leaves a record whose site holds orig again: clean too.
 * Recovery writes only where a site holds exactly its armed bytes (hv.h, recover).
 *   pause   dt_journal_pause_note(+1) BEFORE asking for a whole-domain pause, (-1) AFTER the
 *           unpause returned (or the pause failed): a death in between can only over-count,
 *           so no pause of ours is ever left behind; recovery unpauses at most that many
 *           times and only while Xen still reports the domain paused (hv.h, recover).
 *
 * Ownership and threads: created by main() before any fork or thread; add/drop from any
 * thread (a mutex guards the free list, which is private to the process); the snapshot
 * functions are for the guardian (after the writer died) and for tests.
 */
#ifndef DT_ENGINE_GUARD_JOURNAL_H
#define DT_ENGINE_GUARD_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domtrace/hv.h"

#define DT_JOURNAL_DEFAULT_RECORDS (1u << 18) /* 64 VMs x 4096 site pieces */
#define DT_JOURNAL_PAUSE_SLOTS 1024	      /* domains holding a pause of ours at once */

struct dt_journal;

/* capacity records (0 = default) in a MAP_SHARED anonymous mapping: survives fork(). */
int dt_journal_new(size_t capacity, struct dt_journal **ret_journal);
void dt_journal_free(struct dt_journal *j); /* NULL ok */

/* Publish one site piece (len <= DT_GUARD_SITE_MAX, within one page): *ret_id > 0.
 * -ENOSPC when full, -EINVAL for a bad length. */
int dt_journal_add(struct dt_journal *j, uint32_t domid, const struct dt_guard_site *site,
		   uint32_t *ret_id);
/* Forget a record (its site holds its original bytes again). id 0 is ignored. */
void dt_journal_drop(struct dt_journal *j, uint32_t id);

/* Whole-domain pauses held on domid: delta +1 before a pause, -1 after an unpause (see the
 * protocol above); never below 0. 0, or -ENOSPC (DT_JOURNAL_PAUSE_SLOTS domains already
 * hold one: the pause goes unrecorded). NULL j ok (no journal: nothing to record). */
int dt_journal_pause_note(struct dt_journal *j, uint32_t domid, int delta);
/* The domain is gone: its pauses went with it. NULL j ok. */
void dt_journal_pause_forget(struct dt_journal *j, uint32_t domid);
unsigned dt_journal_pauses(const struct dt_journal *j, uint32_t domid);

/* Live records now. */
size_t dt_journal_count(const struct dt_journal *j);
/* No live record and no pause held: nothing for a guardian to do. */
bool dt_journal_empty(const struct dt_journal *j);
/* Domains with live records or pauses held: up to max domids into ret (distinct), the
 * number found. */
size_t dt_journal_domains(const struct dt_journal *j, uint32_t *ret, size_t max);
/* Live records of one domain: up to max into ret, the number found (may exceed max). */
size_t dt_journal_sites(const struct dt_journal *j, uint32_t domid, struct dt_guard_site *ret,
			size_t max);

#endif /* DT_ENGINE_GUARD_JOURNAL_H */
