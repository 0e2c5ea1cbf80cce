// SPDX-License-Identifier: GPL-2.0-only
/*
 * The VM table and the watcher thread: a worker per monitored VM, started when the VM
 * appears (or at start), stopped when it goes, re-planned or stopped on reload.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <urcu.h>

#include "domtrace/config.h"
#include "domtrace/daemon.h"
#include "domtrace/log.h"
#include "watcher.h"
#include "worker.h"

/* Is this VM to be traced now? (the config, the command line's names, its kind) */
static bool wanted(struct dt_daemon *d, const struct dt_vm_info *vm)
{
	const struct dt_options *o = d->opts;
	bool yes;
	size_t i;

	dt_chain_read_lock();
	yes = dt_config_vm_monitored(dt_chain_config(dt_chain_current(&d->policy)), vm->name);
	dt_chain_read_unlock();
	if (yes && o->nvms) {
		yes = false;
		for (i = 0; i < o->nvms && !yes; i++)
			yes = dt_glob_match(o->vms[i], vm->name);
	}
	return yes;
}

static struct dt_worker *find_locked(struct dt_daemon *d, uint32_t domid)
{
	struct dt_worker *w;

	for (w = d->workers; w; w = w->next)
		if (w->vm.domid == domid)
			return w;
	return NULL;
}

/* Unlink and return the workers that have ended by themselves (refused VMs). */
static void reap_ended(struct dt_daemon *d)
{
	struct dt_worker **pp, *w, *done = NULL;

	pthread_mutex_lock(&d->vms_lock);
	for (pp = &d->workers; (w = *pp);) {
		enum dt_worker_state st = atomic_load(&w->state);

		if (st == DT_WORKER_REFUSED || st == DT_WORKER_ENDED) {
			*pp = w->next;
			w->next = done;
			done = w;
		} else {
			pp = &w->next;
		}
	}
	pthread_mutex_unlock(&d->vms_lock);
	while ((w = done)) {
		done = w->next;
		dt_worker_join(w);
	}
}

int dt_watcher_attach_vm(struct dt_daemon *d, const struct dt_vm_info *vm)
{
	struct dt_worker *w;
	int r;

	if (!vm->traceable) {
		dt_log_set_vm(vm->name, vm->domid);
		dt_warn("VM %s (dom%u) not traceable: %s", vm->name, vm->domid, vm->why);
		dt_log_set_vm(NULL, 0);
		atomic_fetch_add(&d->stats.refused, 1);
		return -EOPNOTSUPP;
	}
	if (!wanted(d, vm)) {
		dt_debug("VM %s (dom%u) not monitored by the config", vm->name, vm->domid);
		return 0;
	}
	reap_ended(d);
	pthread_mutex_lock(&d->vms_lock);
	if (atomic_load(&d->stopping) || find_locked(d, vm->domid)) {
		pthread_mutex_unlock(&d->vms_lock);
		return 0;
	}
	dt_debug("VM %s (dom%u) monitored: starting its worker", vm->name, vm->domid);
	r = dt_worker_start(d, vm, &w);
	if (r == 0) {
		w->next = d->workers;
		d->workers = w;
	}
	pthread_mutex_unlock(&d->vms_lock);
	if (r < 0)
		dt_err("VM %s: cannot start its worker: %s", vm->name, strerror(-r));
	return r < 0 ? r : 1;
}

static struct dt_worker *unlink_vm(struct dt_daemon *d, uint32_t domid)
{
	struct dt_worker **pp, *w;

	pthread_mutex_lock(&d->vms_lock);
	for (pp = &d->workers; (w = *pp); pp = &w->next)
		if (w->vm.domid == domid) {
			*pp = w->next;
			break;
		}
	pthread_mutex_unlock(&d->vms_lock);
	return w;
}

void dt_watcher_vm_gone(struct dt_daemon *d, uint32_t domid)
{
	struct dt_worker *w = unlink_vm(d, domid);

	if (!w)
		return;
	dt_worker_request(w, DT_WREQ_GONE);
	dt_worker_join(w);
}

void dt_watcher_apply_policy(struct dt_daemon *d)
{
	struct dt_vm_info *vms = NULL;
	struct dt_worker *w, *stop = NULL, **pp;
	size_t n = 0, i;

	reap_ended(d);
	/* VMs no longer wanted stop; the others re-plan their breakpoints */
	pthread_mutex_lock(&d->vms_lock);
	for (pp = &d->workers; (w = *pp);) {
		if (!wanted(d, &w->vm)) {
			*pp = w->next;
			w->next = stop;
			stop = w;
			continue;
		}
		dt_worker_request(w, DT_WREQ_REPLAN);
		pp = &w->next;
	}
	pthread_mutex_unlock(&d->vms_lock);
	while ((w = stop)) {
		stop = w->next;
		dt_info("VM %s: no longer monitored", w->vm.name);
		dt_worker_request(w, DT_WREQ_STOP);
		dt_worker_join(w);
	}
	/* VMs newly wanted attach */
	if (d->ops->list_vms(d->hv, &vms, &n) < 0)
		return;
	for (i = 0; i < n; i++) {
		bool known;

		pthread_mutex_lock(&d->vms_lock);
		known = find_locked(d, vms[i].domid) != NULL;
		pthread_mutex_unlock(&d->vms_lock);
		if (!known && vms[i].traceable)
			(void)dt_watcher_attach_vm(d, &vms[i]);
	}
	free(vms);
}

void dt_watcher_stop_workers(struct dt_daemon *d)
{
	struct dt_worker *w, *all;

	pthread_mutex_lock(&d->vms_lock);
	all = d->workers;
	d->workers = NULL;
	pthread_mutex_unlock(&d->vms_lock);
	/* ask all first, so they detach in parallel, then join */
	for (w = all; w; w = w->next)
		dt_worker_request(w, DT_WREQ_STOP);
	while ((w = all)) {
		all = w->next;
		dt_worker_join(w);
	}
}

static void *watcher_main(void *arg)
{
	struct dt_daemon *d = arg;
	struct pollfd pfd[2] = {
		{ .fd = d->ops->watch_fd(d->hv), .events = POLLIN },
		{ .fd = d->stop_fd, .events = POLLIN },
	};
	struct dt_vm_note note;

	rcu_register_thread(); /* wanted() reads the policy */
	while (!atomic_load(&d->stopping)) {
		if (poll(pfd, 2, 1000) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents & POLLIN)
			break;
		while (d->ops->watch_read(d->hv, &note) == 0) {
			if (note.change == DT_VM_APPEARED) {
				dt_info("VM %s (dom%u) appeared", note.info.name, note.info.domid);
				(void)dt_watcher_attach_vm(d, &note.info);
			} else {
				dt_info("VM dom%u is gone", note.info.domid);
				dt_watcher_vm_gone(d, note.info.domid);
			}
		}
		reap_ended(d);
	}
	rcu_unregister_thread();
	return NULL;
}

int dt_watcher_start(struct dt_daemon *d)
{
	int r;

	d->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->stop_fd < 0)
		return -errno;
	r = -pthread_create(&d->watcher, NULL, watcher_main, d);
	if (r == 0)
		d->watcher_started = true;
	return r;
}

void dt_watcher_stop(struct dt_daemon *d)
{
	uint64_t one = 1;

	if (!d->watcher_started)
		return;
	(void)!write(d->stop_fd, &one, sizeof(one));
	pthread_join(d->watcher, NULL);
	d->watcher_started = false;
	close(d->stop_fd);
	d->stop_fd = -1;
}
