/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * notify.h - telling systemd how the daemon is (sd_notify(3)'s protocol, spoken
 * directly: one datagram of "KEY=value" lines to the unix socket named by
 * $NOTIFY_SOCKET, abstract names written with a leading '@'). Private to engine/.
 *
 *   READY=1      once every VM present at start is attached or refused (or after
 *                DT_NOTIFY_READY_MAX_S, with a warning), and again after a reload
 *   STATUS=...   VMs traced, traps/s, events, losses: every DT_NOTIFY_STATUS_MS
 *   WATCHDOG=1   every half of $WATCHDOG_USEC (WatchdogSec=), from the main loop, so a
 *                main thread that hangs is noticed
 *   RELOADING=1  before a reload (SIGUSR2/SIGHUP), READY=1 after it
 *   STOPPING=1   when the main loop ends (SIGTERM/SIGINT, --duration, done)
 *
 * Without $NOTIFY_SOCKET every call is a no-op and no timer exists.
 * Ownership and thread: the main thread's, inside dt_daemon_run.
 */
#ifndef DT_ENGINE_NOTIFY_H
#define DT_ENGINE_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

struct dt_daemon;

#define DT_NOTIFY_STATUS_MS 2000   /* STATUS= refreshed this often */
#define DT_NOTIFY_TICK_MS 100	   /* the main loop's tick while systemd listens */
#define DT_NOTIFY_READY_MAX_S 120  /* READY=1 at the latest this long after start */

struct dt_notify {
	int fd;	      /* datagram socket, -1: not under systemd (every call a no-op) */
	int timer_fd; /* periodic tick for the main loop's poll, -1 if none */
	struct sockaddr_un addr;
	socklen_t addr_len;
	uint64_t watchdog_ms; /* WATCHDOG=1 period (half of WATCHDOG_USEC), 0: none */
	uint64_t start_ms, last_watchdog_ms, last_status_ms;
	uint64_t last_traps; /* for traps/s */
	bool ready;
};

/* From the environment (NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID). 0, or -errno
 * when the socket is named but unusable (n is then a no-op too). */
int dt_notify_init(struct dt_notify *n);
/* Send one message (newline-separated KEY=value lines). 0 or -errno; no-op: 0. */
int dt_notify_send(struct dt_notify *n, const char *msg);
/* The main loop's tick (on timer_fd): readiness, STATUS=, WATCHDOG=1. */
void dt_notify_tick(struct dt_notify *n, struct dt_daemon *d);
void dt_notify_reloading(struct dt_notify *n);
void dt_notify_reloaded(struct dt_notify *n, struct dt_daemon *d);
void dt_notify_stopping(struct dt_notify *n);
void dt_notify_close(struct dt_notify *n); /* NULL ok */

#endif /* DT_ENGINE_NOTIFY_H */
