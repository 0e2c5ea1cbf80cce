// SPDX-License-Identifier: GPL-2.0-only
/*
 * systemd's notification protocol (sd_notify(3)), spoken directly rather than through
 * libsystemd: it is one datagram to a socket named in the environment, and speaking it
 * ourselves keeps the daemon free of a library it would use for nothing else.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "domtrace/daemon.h"
#include "domtrace/log.h"
#include "domtrace/report.h"
#include "notify.h"
#include "worker.h"

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t env_u64(const char *name)
{
	const char *s = getenv(name);
	char *end;
	unsigned long long v;

	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	return errno || *end ? 0 : (uint64_t)v;
}

int dt_notify_init(struct dt_notify *n)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct itimerspec its = { 0 };
	uint64_t wd_pid = env_u64("WATCHDOG_PID");
	size_t len;

	memset(n, 0, sizeof(*n));
	n->fd = -1;
	n->timer_fd = -1;
	if (!path || !*path)
		return 0;
	len = strlen(path);
	/* "/path" or "@abstract" (the '@' stands for the leading NUL) */
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(n->addr.sun_path)) {
		dt_warn("NOTIFY_SOCKET %s: not a unix socket path; not telling systemd", path);
		return -EINVAL;
	}
	n->addr.sun_family = AF_UNIX;
	memcpy(n->addr.sun_path, path, len);
	if (path[0] == '@')
		n->addr.sun_path[0] = '\0';
	n->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
				  (path[0] == '/' ? 1 : 0));
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (n->fd < 0)
		return -errno;
	/* WATCHDOG_PID, when set, names the process systemd watches: maybe not us */
	if (!wd_pid || wd_pid == (uint64_t)getpid())
		n->watchdog_ms = env_u64("WATCHDOG_USEC") / 2000u;
	n->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (n->timer_fd >= 0) {
		its.it_value.tv_nsec = DT_NOTIFY_TICK_MS * 1000000L;
		its.it_interval = its.it_value;
		timerfd_settime(n->timer_fd, 0, &its, NULL);
	}
	n->start_ms = mono_us() / 1000u;
	n->last_status_ms = n->start_ms;
	n->last_watchdog_ms = n->start_ms;
	return 0;
}

int dt_notify_send(struct dt_notify *n, const char *msg)
{
	ssize_t r;

	if (n->fd < 0)
		return 0;
	r = sendto(n->fd, msg, strlen(msg), MSG_NOSIGNAL, (const struct sockaddr *)&n->addr,
		   n->addr_len);
	return r < 0 ? -errno : 0;
}

/* Every VM present at start is past its attach: none of the workers is still starting
 * (a VM that appears meanwhile is waited for too; it is as present as the others). */
static bool all_attached(struct dt_daemon *d, unsigned *ret_running)
{
	struct dt_worker *w;
	unsigned starting = 0, running = 0;

	pthread_mutex_lock(&d->vms_lock);
	for (w = d->workers; w; w = w->next) {
		enum dt_worker_state s = atomic_load(&w->state);

		starting += s == DT_WORKER_STARTING;
		running += s == DT_WORKER_RUNNING;
	}
	pthread_mutex_unlock(&d->vms_lock);
	*ret_running = running;
	return starting == 0;
}

static void send_status(struct dt_notify *n, struct dt_daemon *d, uint64_t now_ms,
			unsigned running)
{
	static struct dt_trap_totals t; /* main thread only; large */
	struct dt_report_stats rs = { 0 };
	uint64_t dt_ms = now_ms - n->last_status_ms;
	char msg[256];

	dt_daemon_totals(d, &t);
	if (d->reporter)
		dt_report_stats(d->reporter, &rs);
	snprintf(msg, sizeof(msg),
		 "STATUS=%s%u VMs traced, %lu refused; %lu traps/s; %lu events, %lu lost",
		 n->ready ? "" : "attaching: ", running,
		 (unsigned long)atomic_load(&d->stats.refused),
		 (unsigned long)(dt_ms ? (t.traps - n->last_traps) * 1000u / dt_ms : 0),
		 (unsigned long)rs.q.enqueued, (unsigned long)rs.lost_total);
	n->last_traps = t.traps;
	n->last_status_ms = now_ms;
	(void)dt_notify_send(n, msg);
}

void dt_notify_tick(struct dt_notify *n, struct dt_daemon *d)
{
	uint64_t now_ms = mono_us() / 1000u, ticks;
	unsigned running = 0;

	if (n->fd < 0)
		return;
	if (n->timer_fd >= 0)
		(void)!read(n->timer_fd, &ticks, sizeof(ticks));
	if (n->watchdog_ms && now_ms - n->last_watchdog_ms >= n->watchdog_ms) {
		(void)dt_notify_send(n, "WATCHDOG=1");
		n->last_watchdog_ms = now_ms;
	}
	if (!n->ready) {
		bool done = all_attached(d, &running);

		if (!done && now_ms - n->start_ms < DT_NOTIFY_READY_MAX_S * 1000u)
			return;
		if (!done)
			dt_warn("not every VM attached within %d s: telling systemd we are ready",
				DT_NOTIFY_READY_MAX_S);
		n->ready = true;
		send_status(n, d, now_ms, running);
		(void)dt_notify_send(n, "READY=1");
		return;
	}
	if (now_ms - n->last_status_ms >= DT_NOTIFY_STATUS_MS) {
		(void)all_attached(d, &running);
		send_status(n, d, now_ms, running);
	}
}

void dt_notify_reloading(struct dt_notify *n)
{
	char msg[64];

	/* MONOTONIC_USEC: what systemd 253's Type=notify-reload asks for; older ignore it */
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)mono_us());
	(void)dt_notify_send(n, msg);
}

void dt_notify_reloaded(struct dt_notify *n, struct dt_daemon *d)
{
	unsigned running = 0;

	if (n->fd < 0)
		return;
	if (!n->ready) /* reloaded while attaching: READY=1 comes with the tick */
		return;
	(void)all_attached(d, &running);
	send_status(n, d, mono_us() / 1000u, running);
	(void)dt_notify_send(n, "READY=1");
}

void dt_notify_stopping(struct dt_notify *n)
{
	(void)dt_notify_send(n, "STOPPING=1\nSTATUS=detaching from every VM");
}

void dt_notify_close(struct dt_notify *n)
{
	if (!n)
		return;
	if (n->fd >= 0)
		close(n->fd);
	if (n->timer_fd >= 0)
		close(n->timer_fd);
	n->fd = n->timer_fd = -1;
}
