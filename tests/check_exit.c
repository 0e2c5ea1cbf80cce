// SPDX-License-Identifier: GPL-2.0-only
/*
 * The domtrace program's exits and losses, as a hostile peer or a careless operator
 * would make them: SIGTERM with --lossless and the A3 server unreachable, with stdout a
 * pipe nobody reads, a second SIGTERM, the config replaced by a FIFO before a reload;
 * A3 answering 4xx, a log on a full device or filesystem, an A3 outage with a small
 * queue. Every exit must be bounded and every loss counted and told.
 */
#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/a3_receiver.h"
#include "support/check_run.h"
#include "support/child.h"

#define EXIT_BOUND_MS 30000 /* far above the default 5 s flush + detaching, even under TSan */

/* A 127.0.0.1 port where nothing listens (bound, then closed). */
static unsigned closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	unsigned port;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* Is a thread of pid asleep in pipe_write (the kernel's wchan)? */
static bool blocked_in_pipe_write(pid_t pid)
{
	char path[300], wchan[64];
	bool found = false;
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	while (d && !found && (de = readdir(d))) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/wchan", (int)pid, de->d_name);
		f = fopen(path, "r");
		if (f && fgets(wchan, sizeof(wchan), f) && strstr(wchan, "pipe_write"))
			found = true;
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	return found;
}

struct args {
	char *v[48];
	unsigned n;
	char bin[512], conf[512];
};

static void args_init(struct args *a)
{
	memset(a, 0, sizeof(*a));
	a->v[a->n++] = (char *)dt_child_bin("domtrace", a->bin, sizeof(a->bin));
	a->v[a->n++] = (char *)"--sim";
	a->v[a->n++] = (char *)"2";
	a->v[a->n++] = (char *)"-c";
	a->v[a->n++] = (char *)dt_child_src("config/examples/sim-demo.conf", a->conf,
					    sizeof(a->conf));
}

static void args_add(struct args *a, const char *s)
{
	ck_assert_uint_lt(a->n, 47);
	a->v[a->n++] = (char *)s;
	a->v[a->n] = NULL;
}

static void wait_tracing(struct dt_child *c)
{
	ck_assert_msg(dt_child_wait_for(c, "sim-vm0 (dom1): tracing", 60000), "%s", c->buf);
	ck_assert_msg(dt_child_wait_for(c, "sim-vm1 (dom2): tracing", 60000), "%s", c->buf);
}

/* Stopped, and the guests are as they were. */
static int stopped_intact(struct dt_child *c, int bound_ms)
{
	int st = dt_child_reap(c, bound_ms);

	ck_assert_msg(st >= 0, "domtrace did not exit within %d ms of SIGTERM: %s", bound_ms,
		      c->buf);
	ck_assert_msg(strstr(c->buf, "2 guests intact"), "guests not intact: %s", c->buf);
	return st;
}

/* --lossless, the A3 server unreachable, a small queue: SIGTERM still ends it. */
START_TEST(lossless_a3_unreachable_sigterm)
{
	char w[64];
	struct args a;
	struct dt_child c;

	snprintf(w, sizeof(w), "127.0.0.1:%u", closed_port());
	args_init(&a);
	args_add(&a, "--lossless");
	args_add(&a, "--queue-bytes");
	args_add(&a, "65536");
	args_add(&a, "--sim-rate");
	args_add(&a, "2000");
	args_add(&a, "--format");
	args_add(&a, "none");
	args_add(&a, "-a");
	args_add(&a, "-w");
	args_add(&a, w);
	args_add(&a, "--stats");
	args_add(&a, "1");
	dt_child_spawn(&c, a.v, -1);
	wait_tracing(&c);
	/* two --stats lines: the backlog had time to fill what the queue holds */
	ck_assert_msg(dt_child_wait_for(&c, "stats:", 30000), "%s", c.buf);
	c.len = 0;
	c.buf[0] = '\0';
	ck_assert_msg(dt_child_wait_for(&c, "stats:", 30000), "%s", c.buf);
	kill(c.pid, SIGTERM);
	stopped_intact(&c, EXIT_BOUND_MS);
}
END_TEST

/* stdout is a pipe nobody reads: SIGTERM ends domtrace within the flush limit. */
START_TEST(stdout_pipe_unread_sigterm)
{
	struct args a;
	struct dt_child c;
	int p[2], queued = 0;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	args_init(&a);
	args_add(&a, "--sim-rate");
	args_add(&a, "2000");
	dt_child_spawn(&c, a.v, p[1]);
	close(p[1]);
	wait_tracing(&c);
	/* wait until the pipe is full: the reporter is blocked in write(2) */
	/* nobody reads: it fills, and the reporter blocks in write(2) */
	for (int i = 0; i < 1200 && !blocked_in_pipe_write(c.pid); i++)
		usleep(50000);
	ck_assert_int_eq(ioctl(p[0], FIONREAD, &queued), 0);
	ck_assert_msg(blocked_in_pipe_write(c.pid), "not blocked; %d bytes in the pipe", queued);
	kill(c.pid, SIGTERM);
	stopped_intact(&c, EXIT_BOUND_MS);
	close(p[0]);
}
END_TEST

/* A second SIGTERM while the sinks flush: exit at once (after detaching). */
START_TEST(second_sigterm_exits_at_once)
{
	struct args a;
	struct dt_child c;
	int p[2], queued = 0;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	args_init(&a);
	args_add(&a, "--sim-rate");
	args_add(&a, "2000");
	args_add(&a, "--flush-timeout");
	args_add(&a, "3600");
	dt_child_spawn(&c, a.v, p[1]);
	close(p[1]);
	wait_tracing(&c);
	/* nobody reads: it fills, and the reporter blocks in write(2) */
	for (int i = 0; i < 1200 && !blocked_in_pipe_write(c.pid); i++)
		usleep(50000);
	ck_assert_int_eq(ioctl(p[0], FIONREAD, &queued), 0);
	ck_assert_msg(blocked_in_pipe_write(c.pid), "not blocked; %d bytes in the pipe", queued);
	kill(c.pid, SIGTERM);
	ck_assert_msg(dt_child_wait_for(&c, "sim-vm0 (dom1): detached", 60000), "%s", c.buf);
	ck_assert_msg(dt_child_wait_for(&c, "sim-vm1 (dom2): detached", 60000), "%s", c.buf);
	kill(c.pid, SIGTERM);
	stopped_intact(&c, EXIT_BOUND_MS);
	ck_assert_msg(strstr(c.buf, "again: not waiting for the sinks"), "%s", c.buf);
	close(p[0]);
}
END_TEST

/* The config file replaced by a FIFO, then USR2: refused at once, SIGTERM still works. */
START_TEST(config_fifo_reload_refused)
{
	char dir[256], conf[512], fifo[512], src[512], *text;
	struct args a;
	struct dt_child c;
	size_t len;
	FILE *f;

	ck_assert_int_eq(dt_test_tmpdir(dir, sizeof(dir)), 0);
	snprintf(conf, sizeof(conf), "%s/domtrace.conf", dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	text = dt_test_read_file(dt_child_src("config/examples/sim-demo.conf", src, sizeof(src)),
				 &len);
	ck_assert_ptr_nonnull(text);
	f = fopen(conf, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	fclose(f);
	free(text);
	args_init(&a);
	a.v[4] = conf;
	args_add(&a, "--format");
	args_add(&a, "none");
	dt_child_spawn(&c, a.v, -1);
	wait_tracing(&c);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	ck_assert_int_eq(rename(fifo, conf), 0);
	kill(c.pid, SIGUSR2);
	ck_assert_msg(dt_child_wait_for(&c, "not a regular file", 30000), "%s", c.buf);
	ck_assert_msg(dt_child_wait_for(&c, "config not reloaded", 30000), "%s", c.buf);
	kill(c.pid, SIGTERM);
	ck_assert_int_eq(stopped_intact(&c, EXIT_BOUND_MS), 0);
	dt_test_rmdir(dir);
}
END_TEST

#define EXIT_LOST 4

static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* An A3 server answering 400 to everything: counted, reported, exit status says so. */
START_TEST(a3_4xx_counted_and_reported)
{
	const char *extra[] = { "-e", "400", "-n", "1000000000", NULL };
	char dir[256], w[64];
	struct dt_test_receiver rcv;
	struct args a;
	struct dt_child c;

	ck_assert_int_eq(dt_test_tmpdir(dir, sizeof(dir)), 0);
	ck_assert_int_eq(dt_test_receiver_start(&rcv, dir, 0, extra), 0);
	snprintf(w, sizeof(w), "127.0.0.1:%u", rcv.port);
	args_init(&a);
	args_add(&a, "--format");
	args_add(&a, "none");
	args_add(&a, "-a");
	args_add(&a, "-w");
	args_add(&a, w);
	args_add(&a, "--stats");
	args_add(&a, "1");
	dt_child_spawn(&c, a.v, -1);
	wait_tracing(&c);
	ck_assert_msg(dt_child_wait_for(&c, "a3: rejected with HTTP 400: events are being lost",
					60000), "%s", c.buf);
	ck_assert_msg(dt_child_wait_for(&c, "a3 ", 30000), "%s", c.buf);
	ck_assert_msg(dt_child_wait_for(&c, "(rejected with HTTP 400)]", 30000), "stats: %s", c.buf);
	kill(c.pid, SIGTERM);
	ck_assert_int_eq(stopped_intact(&c, EXIT_BOUND_MS), EXIT_LOST);
	ck_assert_msg(strstr(c.buf, "lost: a3 "), "no summary: %s", c.buf);
	ck_assert_uint_eq(count_of(c.buf, "events are being lost"), 1); /* said once */
	dt_test_receiver_stop(&rcv);
	dt_test_rmdir(dir);
}
END_TEST

/* --log /dev/full: every write fails; counted, said once, in the summary, exit 4. */
START_TEST(log_dev_full_counted)
{
	struct args a;
	struct dt_child c;

	args_init(&a);
	args_add(&a, "--log");
	args_add(&a, "/dev/full");
	args_add(&a, "--duration");
	args_add(&a, "2");
	dt_child_spawn(&c, a.v, -1);
	ck_assert_int_eq(stopped_intact(&c, 120000), EXIT_LOST);
	ck_assert_uint_eq(count_of(c.buf, "log: write error: No space left on device: events "
					  "are being lost"), 1);
	ck_assert_msg(strstr(c.buf, "lost: log "), "no summary: %s", c.buf);
	ck_assert_msg(strstr(c.buf, "(write error: No space left on device)"), "%s", c.buf);
}
END_TEST

/* A log on a full filesystem: counted and reported, and no line left cut in half. */
START_TEST(log_full_filesystem_whole_lines)
{
	char dir[256], log[512], *text;
	struct args a;
	struct dt_child c;
	size_t len;

	ck_assert_int_eq(dt_test_tmpdir(dir, sizeof(dir)), 0);
	if (mount("dt-test", dir, "tmpfs", 0, "size=64k") != 0) {
		fprintf(stderr, "log_full_filesystem_whole_lines: skipped: cannot mount a tmpfs "
			"(%s)\n", strerror(errno));
		rmdir(dir);
		return;
	}
	snprintf(log, sizeof(log), "%s/domtrace.log", dir);
	args_init(&a);
	args_add(&a, "--log");
	args_add(&a, log);
	args_add(&a, "--sim-rate");
	args_add(&a, "2000");
	dt_child_spawn(&c, a.v, -1);
	wait_tracing(&c);
	ck_assert_msg(dt_child_wait_for(&c, "log: write error: No space left on device", 60000),
		      "%s", c.buf);
	kill(c.pid, SIGTERM);
	ck_assert_int_eq(stopped_intact(&c, EXIT_BOUND_MS), EXIT_LOST);
	text = dt_test_read_file(log, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_gt(len, 32 * 1024);
	ck_assert_msg(text[len - 1] == '\n', "the log ends mid-line: ...%s", text + len - 80);
	ck_assert_ptr_null(memchr(text, '\0', len));
	free(text);
	ck_assert_msg(strstr(c.buf, "lost: log "), "no summary: %s", c.buf);
	umount2(dir, MNT_DETACH);
	rmdir(dir);
}
END_TEST

/* The A3 server down and a small queue: the local log goes on (A3 has its own bound). */
START_TEST(a3_outage_log_goes_on)
{
	char dir[256], log[512], w[64];
	struct args a;
	struct dt_child c;
	long at, now = 0;

	ck_assert_int_eq(dt_test_tmpdir(dir, sizeof(dir)), 0);
	snprintf(log, sizeof(log), "%s/domtrace.log", dir);
	snprintf(w, sizeof(w), "127.0.0.1:%u", closed_port());
	args_init(&a);
	args_add(&a, "--log");
	args_add(&a, log);
	args_add(&a, "--queue-bytes");
	args_add(&a, "65536");
	args_add(&a, "--sim-rate");
	args_add(&a, "2000");
	args_add(&a, "-a");
	args_add(&a, "-w");
	args_add(&a, w);
	dt_child_spawn(&c, a.v, -1);
	wait_tracing(&c);
	ck_assert_msg(dt_child_wait_for(&c, "a3: ", 60000), "%s", c.buf);
	at = file_size(log);
	/* far more than the queue holds: before, the log stopped once A3 had filled it */
	for (int i = 0; i < 1200 && now < at + 16 * 65536; i++) {
		usleep(50000);
		now = file_size(log);
	}
	ck_assert_msg(now >= at + 16 * 65536, "the log stopped at %ld bytes (%ld at the outage)",
		      now, at);
	kill(c.pid, SIGTERM);
	stopped_intact(&c, EXIT_BOUND_MS);
	ck_assert_msg(strstr(c.buf, "(not delivered before the stop's time limit)"), "%s",
		      c.buf);
	dt_test_rmdir(dir);
}
END_TEST

/* Poll a file until it contains `needle` (bounded). */
static bool file_has(const char *path, const char *needle, int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 50) {
		size_t len;
		char *text = dt_test_read_file(path, &len);
		bool found = text && strstr(text, needle);

		free(text);
		if (found)
			return true;
		usleep(50000);
	}
	return false;
}

/* notice events in the log and the report file; HUP after logrotate renamed them: new
 * files at the same paths (the old ones keep what came before). */
START_TEST(hup_reopens_with_notices)
{
	char dir[256], log[400], rep[400], old[512];
	struct args a;
	struct dt_child c;

	ck_assert_int_eq(dt_test_tmpdir(dir, sizeof(dir)), 0);
	snprintf(log, sizeof(log), "%s/domtrace.log", dir);
	snprintf(rep, sizeof(rep), "%s/domtrace.report", dir);
	args_init(&a);
	args_add(&a, "--log");
	args_add(&a, log);
	args_add(&a, "-R");
	args_add(&a, rep);
	dt_child_spawn(&c, a.v, -1);
	wait_tracing(&c);
	ck_assert(file_has(log, "sim-vm0 -- attached: kernel ", 30000));
	ck_assert(file_has(log, "sim-vm1 -- attached: kernel ", 30000));
	ck_assert(file_has(rep, "domain=sim-vm0 attached: kernel ", 30000));
	snprintf(old, sizeof(old), "%s.1", log);
	ck_assert_int_eq(rename(log, old), 0);
	snprintf(old, sizeof(old), "%s.1", rep);
	ck_assert_int_eq(rename(rep, old), 0);
	kill(c.pid, SIGHUP);
	ck_assert_msg(file_has(log, "domtrace -- config reloaded", 30000), "no new log: %s", c.buf);
	ck_assert(file_has(rep, "domain=domtrace config reloaded", 30000));
	kill(c.pid, SIGTERM);
	ck_assert_int_eq(stopped_intact(&c, EXIT_BOUND_MS), 0);
	ck_assert(file_has(log, "sim-vm0 -- detached after ", 0));
	ck_assert(file_has(log, "sim-vm1 -- detached after ", 0));
	ck_assert(file_has(rep, "domain=sim-vm1 detached after ", 0));
	ck_assert(file_has(old, "attached: kernel ", 0)); /* the rotated report kept its part */
	dt_test_rmdir(dir);
}
END_TEST

/* The last --stats line comes after the last A3 flush: nothing pending, all sent. */
START_TEST(final_stats_after_flush)
{
	const char *extra[] = { "-d", "300", NULL };
	char dir[256], w[64], want[64];
	struct dt_test_receiver rcv;
	struct args a;
	struct dt_child c;
	const char *last, *p;
	long events;

	ck_assert_int_eq(dt_test_tmpdir(dir, sizeof(dir)), 0);
	ck_assert_int_eq(dt_test_receiver_start(&rcv, dir, 0, extra), 0);
	snprintf(w, sizeof(w), "127.0.0.1:%u", rcv.port);
	args_init(&a);
	args_add(&a, "--format");
	args_add(&a, "none");
	args_add(&a, "-a");
	args_add(&a, "-w");
	args_add(&a, w);
	args_add(&a, "--stats");
	args_add(&a, "86400");
	args_add(&a, "--duration");
	args_add(&a, "4");
	args_add(&a, "--sim-rate");
	args_add(&a, "1000");
	dt_child_spawn(&c, a.v, -1);
	ck_assert_int_eq(stopped_intact(&c, 120000), 0);
	dt_test_receiver_stop(&rcv);
	events = dt_test_receiver_count(&rcv, "events");
	ck_assert_int_gt(events, 0);
	for (last = NULL, p = c.buf; (p = strstr(p, "stats: ")); p++)
		last = p;
	ck_assert_ptr_nonnull(last);
	snprintf(want, sizeof(want), "a3 sent %ld pending 0", events);
	ck_assert_msg(strstr(last, want), "want '%s' in the last stats line: %s", want, last);
	dt_test_rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("exit");
	TCase *tc = tcase_create("bounded");

	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, lossless_a3_unreachable_sigterm);
	tcase_add_test(tc, stdout_pipe_unread_sigterm);
	tcase_add_test(tc, second_sigterm_exits_at_once);
	tcase_add_test(tc, config_fifo_reload_refused);
	tcase_add_test(tc, a3_4xx_counted_and_reported);
	tcase_add_test(tc, log_dev_full_counted);
	tcase_add_test(tc, log_full_filesystem_whole_lines);
	tcase_add_test(tc, a3_outage_log_goes_on);
	tcase_add_test(tc, hup_reopens_with_notices);
	tcase_add_test(tc, final_stats_after_flush);
	suite_add_tcase(s, tc);
	return dt_check_run(s);
}
