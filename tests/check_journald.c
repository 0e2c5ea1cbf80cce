// SPDX-License-Identifier: GPL-2.0-only
/*
 * model/journald.c and its two users: journald's native protocol byte for byte, the
 * diagnostics (log.c) as journal entries with PRIORITY=, VM=, DOMID= when stderr is the
 * journal's stream, and the log sink's events as entries with EVENT_TYPE=, VM=, DOMID=.
 * The test plays journald: a datagram socket in a private directory, and
 * JOURNAL_STREAM naming the pipe it gave as stderr/stdout.
 */
#include <check.h>
#include <endian.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "domtrace/journald.h"
#include "domtrace/log.h"
#include "domtrace/report.h"
#include "support/a3_events.h"
#include "support/a3_receiver.h"
#include "support/check_run.h"

struct journald {
	char dir[256];
	char path[300];
	int fd;
};

static void journald_open(struct journald *j)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	ck_assert_int_eq(dt_test_tmpdir(j->dir, sizeof(j->dir)), 0);
	snprintf(j->path, sizeof(j->path), "%s/socket", j->dir);
	ck_assert_uint_lt(strlen(j->path), sizeof(a.sun_path));
	memcpy(a.sun_path, j->path, strlen(j->path) + 1);
	j->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(j->fd, 0);
	ck_assert_int_eq(bind(j->fd, (struct sockaddr *)&a, sizeof(a)), 0);
}

static void journald_close(struct journald *j)
{
	close(j->fd);
	dt_test_rmdir(j->dir);
}

/* One datagram (bounded wait): its length, or -1. */
static ssize_t journald_recv(struct journald *j, char *buf, size_t len, int timeout_ms)
{
	struct pollfd p = { .fd = j->fd, .events = POLLIN };

	if (poll(&p, 1, timeout_ms) <= 0)
		return -1;
	return recv(j->fd, buf, len, 0);
}

/* The value of field `key` in an entry of simple "KEY=value\n" fields, into out. */
static bool field(const char *entry, size_t len, const char *key, char *out, size_t olen)
{
	size_t kl = strlen(key);
	const char *p = entry, *end = entry + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl)
			return false;
		if ((size_t)(nl - p) > kl && !memcmp(p, key, kl) && p[kl] == '=') {
			snprintf(out, olen, "%.*s", (int)(nl - p - (ptrdiff_t)kl - 1), p + kl + 1);
			return true;
		}
		p = nl + 1;
	}
	return false;
}

/* JOURNAL_STREAM naming fd, as systemd sets it for the stream it gives a service */
static void set_journal_stream(int fd)
{
	struct stat st;
	char v[64];

	ck_assert_int_eq(fstat(fd, &st), 0);
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	ck_assert_int_eq(setenv("JOURNAL_STREAM", v, 1), 0);
}

/* The protocol: simple fields as KEY=value, a value with a newline as KEY, newline,
 * 64-bit little-endian length, the bytes, newline. */
START_TEST(native_protocol_bytes)
{
	static const char want_head[] = "MESSAGE=hello world\nVM\n";
	struct dt_jfield f[] = { { "MESSAGE", "hello world" }, { "VM", "two\nlines" },
				 { "DOMID", "7" } };
	struct journald j;
	char buf[512];
	uint64_t le;
	ssize_t n;
	int fd;

	journald_open(&j);
	fd = dt_journald_socket();
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(dt_journald_send(fd, j.path, f, 3), 0);
	n = journald_recv(&j, buf, sizeof(buf), 10000);
	ck_assert_int_eq(n, (ssize_t)(sizeof(want_head) - 1 + 8 + 9 + 1 + strlen("DOMID=7\n")));
	ck_assert_int_eq(memcmp(buf, want_head, sizeof(want_head) - 1), 0);
	memcpy(&le, buf + sizeof(want_head) - 1, 8);
	ck_assert_uint_eq(le64toh(le), 9);
	ck_assert_int_eq(memcmp(buf + sizeof(want_head) - 1 + 8, "two\nlines\nDOMID=7\n", 18), 0);
	/* nobody listening: an error the caller can act on, not a silent success */
	journald_close(&j);
	ck_assert_int_lt(dt_journald_send(fd, j.path, f, 3), 0);
	close(fd);
}
END_TEST

START_TEST(stream_is_only_the_named_one)
{
	int p1[2], p2[2];

	ck_assert_int_eq(pipe(p1), 0);
	ck_assert_int_eq(pipe(p2), 0);
	unsetenv("JOURNAL_STREAM");
	ck_assert(!dt_journald_stream_is(p1[1]));
	set_journal_stream(p1[1]);
	ck_assert(dt_journald_stream_is(p1[1]));
	ck_assert(!dt_journald_stream_is(p2[1]));
	ck_assert_int_eq(setenv("JOURNAL_STREAM", "garbage", 1), 0);
	ck_assert(!dt_journald_stream_is(p1[1]));
}
END_TEST

/* Diagnostics: entries with PRIORITY= and, in a thread about a VM, VM= and DOMID=;
 * nothing on stderr while journald takes them; stderr again when it does not. */
START_TEST(log_lines_as_entries)
{
	struct journald j;
	char buf[4096], v[256], err[4096];
	int p[2];
	ssize_t n;

	journald_open(&j);
	ck_assert_int_eq(pipe2(p, O_NONBLOCK), 0);
	ck_assert_int_eq(dup2(p[1], STDERR_FILENO), STDERR_FILENO);
	set_journal_stream(STDERR_FILENO);
	ck_assert(dt_log_to_journal(j.path));

	dt_log_set_vm("web-1", 12);
	dt_warn("VM %s: something odd", "web-1");
	n = journald_recv(&j, buf, sizeof(buf), 10000);
	ck_assert_int_gt(n, 0);
	ck_assert(field(buf, (size_t)n, "MESSAGE", v, sizeof(v)));
	ck_assert_str_eq(v, "VM web-1: something odd");
	ck_assert(field(buf, (size_t)n, "PRIORITY", v, sizeof(v)));
	ck_assert_str_eq(v, "4");
	ck_assert(field(buf, (size_t)n, "VM", v, sizeof(v)));
	ck_assert_str_eq(v, "web-1");
	ck_assert(field(buf, (size_t)n, "DOMID", v, sizeof(v)));
	ck_assert_str_eq(v, "12");
	ck_assert(field(buf, (size_t)n, "SYSLOG_IDENTIFIER", v, sizeof(v)));
	ck_assert_str_eq(v, "domtrace");

	dt_log_set_vm(NULL, 0);
	dt_err("no VM here");
	n = journald_recv(&j, buf, sizeof(buf), 10000);
	ck_assert_int_gt(n, 0);
	ck_assert(field(buf, (size_t)n, "PRIORITY", v, sizeof(v)));
	ck_assert_str_eq(v, "3");
	ck_assert(!field(buf, (size_t)n, "VM", v, sizeof(v)));
	ck_assert_int_lt(read(p[0], err, sizeof(err)), 0); /* nothing on stderr */

	/* journald gone: the line is not lost, it goes to stderr as without systemd */
	journald_close(&j);
	dt_info("after journald");
	n = read(p[0], err, sizeof(err) - 1);
	ck_assert_int_gt(n, 0);
	err[n] = '\0';
	ck_assert_msg(strstr(err, "domtrace: after journald\n"), "%s", err);
}
END_TEST

/* Without JOURNAL_STREAM (or naming another stream) the journal is not used. */
START_TEST(log_plain_without_stream)
{
	struct journald j;
	char buf[64];

	journald_open(&j);
	unsetenv("JOURNAL_STREAM");
	ck_assert(!dt_log_to_journal(j.path));
	dt_info("plain");
	ck_assert_int_lt(journald_recv(&j, buf, sizeof(buf), 200), 0);
	journald_close(&j);
}
END_TEST

/* The log sink, its stdout the journal's stream: one entry per event, the event's
 * line as MESSAGE= and its type, VM and domain as fields. */
START_TEST(events_as_entries)
{
	struct dt_report_producer *pr;
	struct dt_report_opts o;
	struct dt_report *r;
	struct journald j;
	char buf[4096], v[1024], out[256];
	struct dt_event *ev;
	ssize_t n;
	int p[2];

	journald_open(&j);
	ck_assert_int_eq(pipe2(p, O_NONBLOCK), 0);
	set_journal_stream(p[1]);
	dt_report_opts_init(&o);
	o.log = DT_REPORT_LOG_TEXT;
	o.log_fd = p[1];
	o.log_utc = true;
	o.lookup = dt_test_lookup;
	o.log_journal = j.path;
	ck_assert_int_eq(dt_report_new(&o, &r), 0);
	ck_assert_int_eq(dt_report_start(r), 0);
	ck_assert_int_eq(dt_report_producer_new(r, 3, "sim-vm0", &pr), 0);
	dt_report_submit(pr, dt_test_ev_openat(DT_EV_MATCH, "sim-vm0", "bash", "/etc/shadow", 64));
	ev = dt_test_ev_openat(DT_EV_ABORT, "sim-vm0", "php-cgi", "/bin/sh", 64);
	dt_report_submit(pr, ev);
	dt_report_producer_free(pr);
	ck_assert_int_eq(dt_report_stop(r, 5000), 0);
	dt_report_free(r);

	n = journald_recv(&j, buf, sizeof(buf), 10000);
	ck_assert_int_gt(n, 0);
	ck_assert(field(buf, (size_t)n, "MESSAGE", v, sizeof(v)));
	ck_assert_str_eq(v, "21:04:05.123 sim-vm0 v1 bash[412<-411] sys_openat(dfd=AT_FDCWD, "
			    "filename=\"/etc/shadow\", flags=O_RDONLY, mode=0) [match #2]");
	ck_assert(field(buf, (size_t)n, "EVENT_TYPE", v, sizeof(v)));
	ck_assert_str_eq(v, "match");
	ck_assert(field(buf, (size_t)n, "VM", v, sizeof(v)));
	ck_assert_str_eq(v, "sim-vm0");
	ck_assert(field(buf, (size_t)n, "DOMID", v, sizeof(v)));
	ck_assert_str_eq(v, "3");
	ck_assert(field(buf, (size_t)n, "PRIORITY", v, sizeof(v)));
	ck_assert_str_eq(v, "5");
	n = journald_recv(&j, buf, sizeof(buf), 10000);
	ck_assert_int_gt(n, 0);
	ck_assert(field(buf, (size_t)n, "EVENT_TYPE", v, sizeof(v)));
	ck_assert_str_eq(v, "abort");
	ck_assert(field(buf, (size_t)n, "PRIORITY", v, sizeof(v)));
	ck_assert_str_eq(v, "4");
	/* the entries only: nothing went to the stream itself */
	ck_assert_int_lt(read(p[0], out, sizeof(out)), 0);
	journald_close(&j);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("journald");
	TCase *tc = tcase_create("protocol");

	tcase_add_test(tc, native_protocol_bytes);
	tcase_add_test(tc, stream_is_only_the_named_one);
	tcase_add_test(tc, log_lines_as_entries);
	tcase_add_test(tc, log_plain_without_stream);
	tcase_add_test(tc, events_as_entries);
	suite_add_tcase(s, tc);
	return dt_check_run(s);
}
