/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * watcher.h - the daemon's table of VMs (engine/watcher.c): the xenstore watch that
 * attaches VMs as they appear and detaches them as they go, and the changes a reload
 * makes to the set of workers. Private to engine/.
 *
 * Thread: the watcher thread and the main thread, under the daemon's vms_lock.
 */
#ifndef DT_ENGINE_WATCHER_H
#define DT_ENGINE_WATCHER_H

#include <stdint.h>

#include "domtrace/daemon.h"

/* attach_vm returns 1 if a worker was started, 0 if the VM is not wanted or known
 * already, -errno. */
int dt_watcher_attach_vm(struct dt_daemon *d, const struct dt_vm_info *vm);
void dt_watcher_vm_gone(struct dt_daemon *d, uint32_t domid);
/* After a reload: start workers for newly monitored VMs, stop those no longer
 * monitored, ask the others to re-plan their probes. */
void dt_watcher_apply_policy(struct dt_daemon *d);
/* Stop every worker (each restores its VM's bytes) and wait for them. */
void dt_watcher_stop_workers(struct dt_daemon *d);
int dt_watcher_start(struct dt_daemon *d);
void dt_watcher_stop(struct dt_daemon *d);

#endif /* DT_ENGINE_WATCHER_H */
