// SPDX-License-Identifier: GPL-2.0-only
/*
 * The domtrace program as a user runs it: signals during tracing (USR1, USR2, INT, TERM)
 * on the simulated host, where domtrace checks at exit that every guest is intact;
 * -t/--check-config; --help and --version.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support/check_run.h"

struct child {
	pid_t pid;
	int err_fd; /* the child's stderr */
	char buf[1 << 16];
	size_t len;
};

static const char *path_of(const char *env, const char *fallback, const char *rel, char *buf,
			   size_t size)
{
	snprintf(buf, size, "%s/%s", getenv(env) ? getenv(env) : fallback, rel);
	return buf;
}

static void spawn(struct child *c, char *const argv[])
{
	int pfd[2];

	memset(c, 0, sizeof(*c));
	ck_assert_int_eq(pipe2(pfd, O_CLOEXEC), 0);
	c->pid = fork();
	ck_assert_int_ge(c->pid, 0);
	if (c->pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, STDOUT_FILENO);
		dup2(pfd[1], STDERR_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	c->err_fd = pfd[0];
}

/* Read the child's stderr until `needle` appears (true) or timeout_ms pass. */
static bool wait_for(struct child *c, const char *needle, int timeout_ms)
{
	struct pollfd p = { .fd = c->err_fd, .events = POLLIN };

	for (int waited = 0; waited < timeout_ms; waited += 50) {
		ssize_t n;

		c->buf[c->len] = '\0';
		if (strstr(c->buf, needle))
			return true;
		if (poll(&p, 1, 50) > 0) {
			n = read(c->err_fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
			if (n > 0)
				c->len += (size_t)n;
			else if (n == 0)
				usleep(50000);
		}
	}
	c->buf[c->len] = '\0';
	return strstr(c->buf, needle) != NULL;
}

/* Wait for the child's exit, reading its stderr until the end (or 500 ms of silence once
 * it has exited: a guardian it forked may hold the pipe). A fixed 500 ms drain lost the
 * output of a slow-starting (TSan, loaded machine) child that exited later. */
static int finish(struct child *c)
{
	struct pollfd p = { .fd = c->err_fd, .events = POLLIN };
	int status = 0, quiet = 0, waited;
	bool exited = false, eof = false;

	for (waited = 0; waited < 60000 && !eof; waited += 50) {
		ssize_t n = 0;

		if (poll(&p, 1, 50) > 0) {
			n = read(c->err_fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
			eof = n <= 0;
		}
		if (n > 0) {
			c->len += (size_t)n;
			quiet = 0;
			continue;
		}
		if (!exited && waitpid(c->pid, &status, WNOHANG) == c->pid)
			exited = true;
		if (exited && (quiet += 50) >= 500)
			break;
	}
	c->buf[c->len] = '\0';
	if (!exited)
		ck_assert_int_eq(waitpid(c->pid, &status, 0), c->pid);
	close(c->err_fd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void signals_while_tracing(int stop_signal)
{
	char bin[512], conf[512];
	char *argv[] = { (char *)path_of("DT_BINARY_DIR", DT_BINARY_DIR_DEFAULT, "domtrace", bin, sizeof(bin)),
			 (char *)"--sim", (char *)"2", (char *)"--format", (char *)"none", (char *)"-c",
			 (char *)path_of("DT_SOURCE_DIR", DT_SOURCE_DIR_DEFAULT,
					 "config/examples/sim-demo.conf", conf, sizeof(conf)),
			 NULL };
	struct child c;

	spawn(&c, argv);
	ck_assert_msg(wait_for(&c, "sim-vm0 (dom1): tracing", 30000), "not tracing: %s", c.buf);
	ck_assert_msg(wait_for(&c, "sim-vm1 (dom2): tracing", 30000), "not tracing: %s", c.buf);
	kill(c.pid, SIGUSR1);
	ck_assert_msg(wait_for(&c, "Resetting global filtering to 0", 10000), "%s", c.buf);
	kill(c.pid, SIGUSR1);
	ck_assert_msg(wait_for(&c, "Resetting global filtering to 1", 10000), "%s", c.buf);
	kill(c.pid, SIGUSR2);
	ck_assert_msg(wait_for(&c, "config reloaded", 10000), "%s", c.buf);
	kill(c.pid, SIGHUP);
	ck_assert_msg(wait_for(&c, "reloading", 10000), "%s", c.buf);
	usleep(300000);
	kill(c.pid, stop_signal);
	ck_assert_msg(wait_for(&c, "2 guests intact", 30000), "guests not intact: %s", c.buf);
	ck_assert_int_eq(finish(&c), 0);
	ck_assert_ptr_null(strstr(c.buf, "error"));
}

START_TEST(sigint_while_tracing)
{
	signals_while_tracing(SIGINT);
}
END_TEST

START_TEST(sigterm_while_tracing)
{
	signals_while_tracing(SIGTERM);
}
END_TEST

START_TEST(check_config_flag)
{
	char bin[512], good[512], bad[] = "/tmp/dt-cli-bad-XXXXXX";
	struct child c;
	int fd;

	path_of("DT_BINARY_DIR", DT_BINARY_DIR_DEFAULT, "domtrace", bin, sizeof(bin));
	path_of("DT_SOURCE_DIR", DT_SOURCE_DIR_DEFAULT, "config/examples/seed.conf", good, sizeof(good));
	{
		char *argv[] = { bin, (char *)"-t", (char *)"-c", good, NULL };

		spawn(&c, argv);
		ck_assert_int_eq(finish(&c), 0);
	}
	fd = mkstemp(bad);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_gt(write(fd, "Functions openat\nFilter function=nosuch\nFilter pid=x\n", 52), 0);
	close(fd);
	{
		char *argv[] = { bin, (char *)"--check-config", (char *)"-c", bad, NULL };
		char where[64];

		spawn(&c, argv);
		ck_assert_int_eq(finish(&c), 8);
		/* every error, each with file:line:column */
		snprintf(where, sizeof(where), "%s:2:", bad);
		ck_assert_msg(strstr(c.buf, where) != NULL, "%s", c.buf);
		snprintf(where, sizeof(where), "%s:3:", bad);
		ck_assert_msg(strstr(c.buf, where) != NULL, "%s", c.buf);
	}
	unlink(bad);
}
END_TEST

START_TEST(help_and_version)
{
	char bin[512];
	char *help[] = { bin, (char *)"--help", NULL };
	char *bad[] = { bin, (char *)"--no-such-option", NULL };
	struct child c;

	path_of("DT_BINARY_DIR", DT_BINARY_DIR_DEFAULT, "domtrace", bin, sizeof(bin));
	spawn(&c, help);
	ck_assert_int_eq(finish(&c), 0);
	spawn(&c, bad);
	ck_assert_int_eq(finish(&c), 2);
	ck_assert_ptr_nonnull(strstr(c.buf, "--help"));
}
END_TEST

/* The "guests intact" check at exit covers every simulated VM: the one --sim made at
 * start and the one the scenario made after domtrace had attached. */
START_TEST(sim_checks_every_guest)
{
	char bin[512], scn[512];
	char *argv[] = { (char *)path_of("DT_BINARY_DIR", DT_BINARY_DIR_DEFAULT, "domtrace", bin, sizeof(bin)),
			 (char *)"--sim", (char *)"1", (char *)"--format", (char *)"none",
			 (char *)"--sim-scenario",
			 (char *)path_of("DT_SOURCE_DIR", DT_SOURCE_DIR_DEFAULT,
					 "config/examples/sim-attack.scn", scn, sizeof(scn)),
			 NULL };
	struct child c;

	spawn(&c, argv);
	ck_assert_msg(wait_for(&c, "guests intact", 60000), "%s", c.buf);
	ck_assert_int_eq(finish(&c), 0);
	ck_assert_msg(strstr(c.buf, "sim: 2 guests intact") != NULL, "%s", c.buf);
}
END_TEST

/* Count the entries of a directory ("." and ".." aside); -1 if it cannot be read. */
static int dir_entries(const char *path, const char *prefix)
{
	struct dirent *de;
	DIR *d = opendir(path);
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    !strncmp(de->d_name, prefix, strlen(prefix)))
			n++;
	closedir(d);
	return n;
}

static void rm_tree(const char *path)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	ck_assert_int_eq(system(cmd), 0);
}

/* Runs sharing a --sim-dir at the same time: each writes its maps in a directory of
 * its own (their kernels differ with the seed), and each traces its guests. */
START_TEST(shared_sim_dir)
{
	enum { RUNS = 3 };
	char bin[512], dir[] = "/tmp/dt-cli-simdir-XXXXXX", seed[RUNS][8];
	struct child *c = calloc(RUNS, sizeof(*c));
	int i;

	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	path_of("DT_BINARY_DIR", DT_BINARY_DIR_DEFAULT, "domtrace", bin, sizeof(bin));
	for (i = 0; i < RUNS; i++) {
		char *argv[] = { bin, (char *)"--sim", (char *)"4", (char *)"--duration", (char *)"1",
				 (char *)"--format", (char *)"none", (char *)"--sim-dir", dir,
				 (char *)"--sim-seed", seed[i], NULL };

		snprintf(seed[i], sizeof(seed[i]), "%d", i + 1);
		spawn(&c[i], argv);
	}
	for (i = 0; i < RUNS; i++) {
		ck_assert_msg(wait_for(&c[i], "guests intact", 60000), "run %d: %s", i, c[i].buf);
		ck_assert_msg(finish(&c[i]) == 0, "run %d: %s", i, c[i].buf);
		ck_assert_msg(strstr(c[i].buf, "sim: 4 guests intact"), "run %d: %s", i, c[i].buf);
		ck_assert_msg(!strstr(c[i].buf, "error"), "run %d: %s", i, c[i].buf);
	}
	/* kept (the user asked for the files), one directory per run, nothing else */
	ck_assert_int_eq(dir_entries(dir, "run-"), RUNS);
	ck_assert_int_eq(dir_entries(dir, ""), RUNS);
	rm_tree(dir);
	free(c);
}
END_TEST

/* Run domtrace to its end with stderr in a file; its exit status; *ret_text what it said. */
static int run_to_file(char *const argv[], const char *path, char **ret_text)
{
	size_t len;
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(null, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	*ret_text = NULL;
	{
		FILE *f = fopen(path, "r");

		ck_assert_ptr_nonnull(f);
		ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
		len = (size_t)ftell(f);
		rewind(f);
		*ret_text = calloc(1, len + 1);
		ck_assert_uint_eq(fread(*ret_text, 1, len, f), len);
		fclose(f);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* -d, -dd, -ddd, -x, -xx each say what domtrace(8) promises, and more than the level
 * below: probe decisions; every trap's decision; every guest read; failed hypervisor
 * calls (none in a clean run); every ring event. */
START_TEST(debug_levels_differ)
{
	static const char *const flag[] = { NULL, "-d", "-dd", "-ddd", "-x", "-xx" };
	char bin[512], out[] = "/tmp/dt-cli-levels-XXXXXX", path[64], scn[64];
	char *text[6];
	unsigned i;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(out));
	snprintf(path, sizeof(path), "%s/stderr", out);
	snprintf(scn, sizeof(scn), "%s/levels.scn", out);
	/* in the VM --sim made, which is traced before the scenario starts */
	f = fopen(scn, "w");
	ck_assert_ptr_nonnull(f);
	fputs("proc 600 comm=sh uid=0 gid=0\n"
	      "600 call openat AT_FDCWD \"/etc/passwd\" O_RDONLY 0 label=o\n"
	      "600 call socket AF_INET SOCK_STREAM 0 label=s\n"
	      "600 call connect $s inet:10.0.0.66:4444 16 label=c\n",
	      f);
	ck_assert_int_eq(fclose(f), 0);
	path_of("DT_BINARY_DIR", DT_BINARY_DIR_DEFAULT, "domtrace", bin, sizeof(bin));
	for (i = 0; i < 6; i++) {
		char *argv[] = { bin, (char *)"--sim", (char *)"1", (char *)"--format", (char *)"none",
				 (char *)"--sim-scenario", scn, (char *)flag[i], NULL };

		ck_assert_int_eq(run_to_file(argv, path, &text[i]), 0);
		ck_assert_msg(strstr(text[i], "guests intact"), "%s: %.3000s", flag[i], text[i]);
	}
	/* nothing extra by default */
	ck_assert_ptr_null(strstr(text[0], "debug: "));
	ck_assert_ptr_null(strstr(text[0], " trace: "));
	ck_assert_ptr_null(strstr(text[0], "hv: "));
	/* -d: attach, probe and detach decisions */
	ck_assert_msg(strstr(text[1], "debug: VM sim-vm0 (dom1) monitored: starting its worker"), "%.3000s", text[1]);
	ck_assert_msg(strstr(text[1], "debug: VM sim-vm0: __x64_sys_connect: entry probe; return probes"),
		      "%.3000s", text[1]);
	ck_assert_msg(strstr(text[1], "debug: VM sim-vm0: detaching: restoring every breakpoint byte"),
		      "%.3000s", text[1]);
	ck_assert_ptr_null(strstr(text[1], " trace: "));
	ck_assert_ptr_null(strstr(text[1], "hv: "));
	/* -dd: every trap's decision */
	ck_assert_msg(strstr(text[2], " trace: VM sim-vm0 v") && strstr(text[2], ": sys_connect entry by sh[600]: "),
		      "%.3000s", text[2]);
	ck_assert_ptr_nonnull(strstr(text[2], "debug: "));
	ck_assert_ptr_null(strstr(text[2], "hv: "));
	/* -ddd: every guest read */
	ck_assert_msg(strstr(text[3], "hv: read_va(dom1, cr3 0x"), "%.3000s", text[3]);
	ck_assert_ptr_nonnull(strstr(text[3], " trace: "));
	/* -x: failed hypervisor calls only, and a clean run has none */
	ck_assert_ptr_null(strstr(text[4], "hv: "));
	ck_assert_ptr_null(strstr(text[4], "debug: "));
	/* -xx: every ring event */
	ck_assert_msg(strstr(text[5], "hv: trap: dom1 vcpu "), "%.3000s", text[5]);
	ck_assert_msg(strstr(text[5], "hv: trap: dom1 vcpu "), "%.3000s", text[5]);
	ck_assert_msg(strstr(text[5], "hv: answer: dom1 vcpu "), "%.3000s", text[5]);
	ck_assert_ptr_null(strstr(text[5], "hv: read_va(dom1, cr3"));
	ck_assert_ptr_null(strstr(text[5], "debug: "));
	for (i = 0; i < 6; i++)
		free(text[i]);
	unlink(path);
	unlink(scn);
	rmdir(out);
}
END_TEST

/* Every bad value refused by the option parser, naming the option and what it takes
 * (exit 2, never 8, which is for the config file). */
START_TEST(bad_values_named)
{
	static const struct {
		const char *opt, *val, *want;
	} cases[] = {
		{ "--batch", "0", "--batch: '0' is not a number from 1 to 65536" },
		{ "--sim-vcpus", "0", "--sim-vcpus: '0' is not a number from 1 to 32" },
		{ "--sim", "100", "--sim: '100' is not a number from 1 to 64" },
		{ "-w", "127.0.0.1:abc", "-w: '127.0.0.1:abc' is not HOST:PORT" },
		{ "-w", "127.0.0.1:0", "-w: '127.0.0.1:0' is not HOST:PORT" },
		{ "-u", "ftp://a3.example/events", "-u: 'ftp://a3.example/events' is not an http" },
		{ "--flush-timeout", "-1", "--flush-timeout: '-1' is not a number of seconds" },
		{ "--a3-backlog-bytes", "10", "--a3-backlog-bytes: '10' is not a number from 65536" },
	};
	char bin[512];
	struct child c;

	path_of("DT_BINARY_DIR", DT_BINARY_DIR_DEFAULT, "domtrace", bin, sizeof(bin));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[] = { bin, (char *)"--sim", (char *)"1", (char *)cases[i].opt,
				 (char *)cases[i].val, (char *)"--duration", (char *)"1", NULL };

		spawn(&c, argv);
		ck_assert_int_eq(finish(&c), 2);
		ck_assert_msg(strstr(c.buf, cases[i].want), "%s %s: %s", cases[i].opt, cases[i].val,
			      c.buf);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("program");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, sigint_while_tracing);
	tcase_add_test(tc, sigterm_while_tracing);
	tcase_add_test(tc, check_config_flag);
	tcase_add_test(tc, help_and_version);
	tcase_add_test(tc, sim_checks_every_guest);
	tcase_add_test(tc, shared_sim_dir);
	tcase_add_test(tc, debug_levels_differ);
	tcase_add_test(tc, bad_values_named);
	suite_add_tcase(s, tc);
	return dt_check_run(s);
}
