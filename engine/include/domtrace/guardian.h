/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * guardian.h - crash safety for the guests: a small process, forked by main() before any
 * thread exists, that outlives domtrace. It sleeps on a pipe whose write end only domtrace
 * holds; when that pipe reports end-of-file (domtrace exited, was killed with SIGKILL, or
 * crashed) and the journal (journal.h) still lists breakpoints, it opens the hypervisor
 * itself and calls ops->recover() for every domain listed: our bytes out, trapping off,
 * vCPUs left paused on a trap let go. After a clean detach the journal is empty and the
 * guardian exits without touching anything.
 *
 * It ignores the signals an operator sends domtrace (INT, TERM, HUP, USR1, USR2, QUIT) so a
 * Ctrl-C or a `kill` of the process group cannot take it down with domtrace; only SIGKILL of
 * both processes at once defeats it (e.g. a cgroup kill), which docs/DESIGN.md says.
 *
 * Main thread only (start before any thread; finish at the very end).
 */
#ifndef DT_ENGINE_GUARD_GUARDIAN_H
#define DT_ENGINE_GUARD_GUARDIAN_H

#include <stdio.h>
#include <sys/types.h>

#include "domtrace/hv.h"
#include "domtrace/journal.h"

struct dt_guardian;

/* Fork the guardian for backend ops (ops->recover must be set), opened with params when
 * needed. The journal and params must stay valid in this process until finish. */
int dt_guardian_start(const struct dt_hv_ops *ops, const void *params, struct dt_journal *j,
		      struct dt_guardian **ret_g);
/* Normal end, after every VM detached: close the pipe and wait for the guardian. Returns the
 * guardian's exit status (0: nothing to do or all restored). NULL ok (returns 0). */
int dt_guardian_finish(struct dt_guardian *g);
pid_t dt_guardian_pid(const struct dt_guardian *g);

/* The recovery itself, as the guardian runs it (and tests do, in-process): every domain the
 * journal lists gets ops->recover; one line per domain to log. 0 if every site was
 * restored or clean and every domain answered (or gone), else -EIO. */
int dt_guard_recover_all(const struct dt_hv_ops *ops, struct dt_hv *hv,
			 const struct dt_journal *j, FILE *log);

#endif /* DT_ENGINE_GUARD_GUARDIAN_H */
