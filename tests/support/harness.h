/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * harness.h - run domtrace in-process against the simulated host, for tests.
 *
 * A harness owns a temporary directory (the guests' System.maps, the config file, the
 * JSON log), a simulated host, and a daemon attached to it. Before the daemon starts it
 * snapshots every VM's kernel; dt_harness_finish() stops the daemon and checks the laws:
 * every kernel byte identical to the snapshot, no vCPU paused, no guest crash.
 *
 * One thread (the test's). Check assertions fail the test from inside.
 */
#ifndef DT_TESTS_HARNESS_H
#define DT_TESTS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domtrace/daemon.h"
#include "domtrace/options.h"
#include "domtrace/sim.h"

#define DT_HARNESS_MAX_VMS 16

struct dt_harness {
	char dir[64];
	char config_path[128];
	char log_path[128];
	struct dt_sim_params sp;
	struct dt_options o;
	struct dt_hv *hv;
	struct dt_sim_host *host;
	struct dt_daemon *d;
	uint32_t domids[DT_HARNESS_MAX_VMS];
	struct dt_sim_snapshot *snaps[DT_HARNESS_MAX_VMS];
	size_t nvms;
	size_t log_off; /* how far dt_harness_next_line has read */
};

/* Fill defaults: 1 VM, 2 vCPUs, workload off, JSON log to the harness file. Edit h->sp and
 * h->o after this and before dt_harness_start. */
void dt_harness_init(struct dt_harness *h, unsigned vms);
/* Write `config` (may be NULL: no -c), open the sim (running `scenario` text if not
 * NULL), snapshot, start the daemon. Asserts on failure. */
void dt_harness_start(struct dt_harness *h, const char *config, const char *scenario);
/* The same in two steps, for a test that looks at the guests before domtrace attaches:
 * open the sim and snapshot its VMs, then start the daemon (and the scenario). */
void dt_harness_open(struct dt_harness *h, const char *config);
void dt_harness_attach(struct dt_harness *h, const char *scenario);
/* Replace the config file's text (for reloads). */
void dt_harness_write_config(struct dt_harness *h, const char *config);
/* Snapshot a VM created later (so finish() checks it too). */
void dt_harness_track_vm(struct dt_harness *h, uint32_t domid);
/* Create a VM while the daemon runs, snapshotted before the watcher can see it (so a
 * breakpoint armed at once cannot end up in the snapshot), and track it. */
uint32_t dt_harness_create_vm(struct dt_harness *h, const struct dt_sim_vm_params *vp);
/* Stop the daemon and assert the laws for every tracked VM that still exists. */
void dt_harness_finish(struct dt_harness *h);
/* The same, with the daemon's final trap totals and the reporter's last counters (either
 * may be NULL; dt_daemon_stop_report). */
struct dt_report_stats;
void dt_harness_finish_report(struct dt_harness *h, struct dt_trap_totals *ret_t,
			      struct dt_report_stats *ret_st);
/* Close the sim and remove the directory. */
void dt_harness_free(struct dt_harness *h);

/* Wait until a line of the JSON log contains every needle (NULL-terminated list);
 * returns a malloc()ed copy of the line, or NULL after timeout_ms. */
char *dt_harness_wait_line(struct dt_harness *h, int timeout_ms, ...) __attribute__((sentinel));
/* Count the log lines that contain every needle. */
size_t dt_harness_count_lines(struct dt_harness *h, ...) __attribute__((sentinel));
/* Wait until fn(arg) is true, polling; false after timeout_ms. */
bool dt_harness_wait(bool (*fn)(void *arg), void *arg, int timeout_ms);
/* Wait until n VMs have been attached or refused. */
bool dt_harness_wait_attached(struct dt_harness *h, uint64_t n, int timeout_ms);
/* Wait until the daemon has taken at least n traps. */
bool dt_harness_wait_traps(struct dt_harness *h, uint64_t n, int timeout_ms);
/* Every trap the guests posted has its vCPU running again. The sim counts a resume when
 * the vCPU thread wakes, which may come just after our answer (so after a detach, wait). */
bool dt_harness_wait_resumed(struct dt_harness *h, int timeout_ms);

#endif /* DT_TESTS_HARNESS_H */
