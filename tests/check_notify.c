// SPDX-License-Identifier: GPL-2.0-only
/*
 * engine/notify.c: domtrace under systemd, without systemd. The test plays the service
 * manager: it binds the datagram socket named by NOTIFY_SOCKET, runs the domtrace
 * program on the simulated host, and reads what domtrace tells it: READY=1 only after
 * every VM's attach line, STATUS= with the VMs traced, WATCHDOG=1 again and again
 * (WATCHDOG_USEC), RELOADING=1 then READY=1 on SIGUSR2, STOPPING=1 on SIGTERM.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "support/check_run.h"
#include "support/child.h"

struct manager {
	int fd;
	char path[108];
	char name[108]; /* NOTIFY_SOCKET's value */
	char log[1 << 16]; /* every message so far, separated by "|" */
	size_t len;
};

/* abstract: "@name" (a leading NUL in the address), else a file in a fresh directory */
static void manager_open(struct manager *m, bool abstract)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	socklen_t alen;

	memset(m, 0, sizeof(*m));
	m->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(m->fd, 0);
	if (abstract) {
		snprintf(m->name, sizeof(m->name), "@dt-check-notify-%d", (int)getpid());
		memcpy(a.sun_path, m->name, strlen(m->name));
		a.sun_path[0] = '\0';
		alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(m->name));
	} else {
		char dir[] = "/tmp/dt-notify-XXXXXX";

		ck_assert_ptr_nonnull(mkdtemp(dir));
		snprintf(m->path, sizeof(m->path), "%s/notify", dir);
		snprintf(m->name, sizeof(m->name), "%s", m->path);
		snprintf(a.sun_path, sizeof(a.sun_path), "%s", m->path);
		alen = sizeof(a);
	}
	ck_assert_int_eq(bind(m->fd, (struct sockaddr *)&a, alen), 0);
}

static void manager_close(struct manager *m)
{
	close(m->fd);
	if (m->path[0]) {
		unlink(m->path);
		*strrchr(m->path, '/') = '\0';
		rmdir(m->path);
	}
}

/* Read messages until one contains `want` (true; it is in *ret_msg), or timeout_ms.
 * Every message read is appended to m->log. */
static bool manager_wait(struct manager *m, const char *want, char *ret_msg, size_t len,
			 int timeout_ms)
{
	struct pollfd p = { .fd = m->fd, .events = POLLIN };
	char msg[4096];

	for (int waited = 0; waited < timeout_ms; waited += 50) {
		ssize_t n;

		if (poll(&p, 1, 50) <= 0)
			continue;
		n = recv(m->fd, msg, sizeof(msg) - 1, 0);
		if (n <= 0)
			continue;
		msg[n] = '\0';
		m->len += (size_t)snprintf(m->log + m->len, sizeof(m->log) - m->len, "%s|", msg);
		if (m->len >= sizeof(m->log))
			m->len = 0; /* only a test's diagnostics: start over */
		if (strstr(msg, want)) {
			if (ret_msg)
				snprintf(ret_msg, len, "%s", msg);
			return true;
		}
	}
	return false;
}

/* What the child wrote to stderr so far, without waiting for more. */
static void drain(struct dt_child *c)
{
	struct pollfd p = { .fd = c->err_fd, .events = POLLIN };
	ssize_t n;

	while (c->len < sizeof(c->buf) - 1 && poll(&p, 1, 0) > 0) {
		n = read(c->err_fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
		if (n <= 0)
			break;
		c->len += (size_t)n;
	}
	c->buf[c->len] = '\0';
}

static void spawn_sim(struct dt_child *c, const struct manager *m, const char *vms)
{
	char bin[512], conf[512];
	char *argv[] = { (char *)dt_child_bin("domtrace", bin, sizeof(bin)), (char *)"--sim",
			 (char *)vms, (char *)"--format", (char *)"none", (char *)"-c",
			 (char *)dt_child_src("config/examples/sim-demo.conf", conf, sizeof(conf)),
			 NULL };

	/* the child inherits them; Check runs each test in a process of its own */
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", m->name, 1), 0);
	ck_assert_int_eq(setenv("WATCHDOG_USEC", "400000", 1), 0); /* WATCHDOG=1 every 200 ms */
	unsetenv("WATCHDOG_PID");
	dt_child_spawn(c, argv, -1);
}

static void count_watchdogs(struct manager *m, int want)
{
	for (int i = 0; i < want; i++)
		ck_assert_msg(manager_wait(m, "WATCHDOG=1", NULL, 0, 20000),
			      "WATCHDOG=1 number %d of %d missing; messages: %s", i + 1, want, m->log);
}

START_TEST(ready_status_watchdog_reload_stop)
{
	static struct dt_child c;
	struct manager m;
	char msg[4096];

	manager_open(&m, false);
	spawn_sim(&c, &m, "3");
	ck_assert_msg(manager_wait(&m, "READY=1", msg, sizeof(msg), 90000),
		      "no READY=1; messages: %s", m.log);
	/* every attach line was written before READY=1 was sent: it is in the pipe now */
	drain(&c);
	ck_assert_msg(strstr(c.buf, "VM sim-vm0 (dom1): tracing"), "READY=1 before vm0: %s", c.buf);
	ck_assert_msg(strstr(c.buf, "VM sim-vm1 (dom2): tracing"), "READY=1 before vm1: %s", c.buf);
	ck_assert_msg(strstr(c.buf, "VM sim-vm2 (dom3): tracing"), "READY=1 before vm2: %s", c.buf);
	/* and STATUS= said so just before */
	ck_assert_msg(strstr(m.log, "STATUS=3 VMs traced, 0 refused; ") &&
			      strstr(m.log, "STATUS=3 VMs traced, 0 refused; ") < strstr(m.log, "READY=1"),
		      "no STATUS with the 3 VMs before READY=1: %s", m.log);

	/* the watchdog is fed again and again, STATUS= is refreshed */
	count_watchdogs(&m, 5);
	ck_assert_msg(manager_wait(&m, "STATUS=3 VMs traced, 0 refused; ", msg, sizeof(msg), 20000),
		      "no refreshed STATUS; messages: %s", m.log);
	ck_assert_msg(strstr(msg, " traps/s; ") && strstr(msg, " lost"), "%s", msg);

	/* reload: RELOADING=1, then READY=1 once the new config is in force */
	kill(c.pid, SIGUSR2);
	ck_assert_msg(manager_wait(&m, "RELOADING=1", msg, sizeof(msg), 20000),
		      "no RELOADING=1; messages: %s", m.log);
	ck_assert_msg(strstr(msg, "MONOTONIC_USEC="), "%s", msg);
	ck_assert_msg(manager_wait(&m, "READY=1", NULL, 0, 20000), "no READY=1 after the reload: %s",
		      m.log);
	ck_assert_msg(dt_child_wait_for(&c, "config reloaded", 10000), "%s", c.buf);
	count_watchdogs(&m, 2);

	kill(c.pid, SIGTERM);
	ck_assert_msg(manager_wait(&m, "STOPPING=1", NULL, 0, 20000), "no STOPPING=1: %s", m.log);
	ck_assert_msg(dt_child_wait_for(&c, "3 guests intact", 30000), "%s", c.buf);
	ck_assert_int_eq(dt_child_reap(&c, 30000), 0);
	manager_close(&m);
}
END_TEST

/* NOTIFY_SOCKET="@name": systemd's abstract socket names */
START_TEST(abstract_socket)
{
	static struct dt_child c;
	struct manager m;
	char msg[4096];

	manager_open(&m, true);
	spawn_sim(&c, &m, "1");
	ck_assert_msg(manager_wait(&m, "READY=1", msg, sizeof(msg), 90000),
		      "no READY=1 on %s; messages: %s", m.name, m.log);
	ck_assert_msg(strstr(m.log, "STATUS=1 VMs traced, 0 refused"), "%s", m.log);
	drain(&c);
	ck_assert_msg(strstr(c.buf, "VM sim-vm0 (dom1): tracing"), "%s", c.buf);
	count_watchdogs(&m, 2);
	kill(c.pid, SIGTERM);
	ck_assert_msg(manager_wait(&m, "STOPPING=1", NULL, 0, 20000), "no STOPPING=1: %s", m.log);
	ck_assert_int_eq(dt_child_reap(&c, 30000), 0);
	manager_close(&m);
}
END_TEST

/* WATCHDOG_PID names another process: systemd watches that one, not us */
START_TEST(watchdog_of_another_pid)
{
	static struct dt_child c;
	struct manager m;
	char bin[512];
	char *argv[] = { (char *)dt_child_bin("domtrace", bin, sizeof(bin)), (char *)"--sim",
			 (char *)"1", (char *)"--format", (char *)"none", NULL };

	manager_open(&m, false);
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", m.name, 1), 0);
	ck_assert_int_eq(setenv("WATCHDOG_USEC", "400000", 1), 0);
	ck_assert_int_eq(setenv("WATCHDOG_PID", "1", 1), 0);
	dt_child_spawn(&c, argv, -1);
	ck_assert_msg(manager_wait(&m, "READY=1", NULL, 0, 90000), "%s", m.log);
	/* a STATUS refresh (2 s): ten watchdog periods pass meanwhile */
	ck_assert_msg(manager_wait(&m, "STATUS=1 VMs", NULL, 0, 20000), "%s", m.log);
	kill(c.pid, SIGTERM);
	ck_assert_msg(manager_wait(&m, "STOPPING=1", NULL, 0, 20000), "%s", m.log);
	ck_assert_msg(!strstr(m.log, "WATCHDOG=1"), "WATCHDOG=1 for another pid: %s", m.log);
	ck_assert_int_eq(dt_child_reap(&c, 30000), 0);
	manager_close(&m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("notify");
	TCase *tc = tcase_create("systemd");

	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, ready_status_watchdog_reload_stop);
	tcase_add_test(tc, abstract_socket);
	tcase_add_test(tc, watchdog_of_another_pid);
	suite_add_tcase(s, tc);
	return dt_check_run(s);
}
