// SPDX-License-Identifier: GPL-2.0-only
/* Test helper: a child process with its stderr captured (support/child.h). */
#include <check.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support/child.h"

#ifndef DT_BINARY_DIR_DEFAULT
#define DT_BINARY_DIR_DEFAULT "."
#endif
#ifndef DT_SOURCE_DIR_DEFAULT
#define DT_SOURCE_DIR_DEFAULT "."
#endif

const char *dt_child_bin(const char *rel, char *buf, size_t size)
{
	const char *d = getenv("DT_BINARY_DIR");

	snprintf(buf, size, "%s/%s", d ? d : DT_BINARY_DIR_DEFAULT, rel);
	return buf;
}

const char *dt_child_src(const char *rel, char *buf, size_t size)
{
	const char *d = getenv("DT_SOURCE_DIR");

	snprintf(buf, size, "%s/%s", d ? d : DT_SOURCE_DIR_DEFAULT, rel);
	return buf;
}

void dt_child_spawn(struct dt_child *c, char *const argv[], int out_fd)
{
	int pfd[2];

	memset(c, 0, sizeof(*c));
	ck_assert_int_eq(pipe2(pfd, O_CLOEXEC), 0);
	c->pid = fork();
	ck_assert_int_ge(c->pid, 0);
	if (c->pid == 0) {
		int out = out_fd >= 0 ? out_fd : open("/dev/null", O_WRONLY);

		dup2(out, STDOUT_FILENO);
		dup2(pfd[1], STDERR_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	c->err_fd = pfd[0];
}

/* Read what is there within wait_ms; false at end of file. */
static bool read_some(struct dt_child *c, int wait_ms)
{
	struct pollfd p = { .fd = c->err_fd, .events = POLLIN };
	ssize_t n;

	if (c->err_fd < 0 || poll(&p, 1, wait_ms) <= 0)
		return c->err_fd >= 0;
	if (c->len + 1 >= sizeof(c->buf)) { /* keep the last half: the news is at the end */
		memmove(c->buf, c->buf + sizeof(c->buf) / 2, c->len - sizeof(c->buf) / 2);
		c->len -= sizeof(c->buf) / 2;
	}
	n = read(c->err_fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
	if (n <= 0)
		return false;
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	return true;
}

bool dt_child_wait_for(struct dt_child *c, const char *needle, int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms; waited += 50) {
		c->buf[c->len] = '\0';
		if (strstr(c->buf, needle))
			return true;
		if (!read_some(c, 50))
			usleep(50000);
	}
	c->buf[c->len] = '\0';
	return strstr(c->buf, needle) != NULL;
}

int dt_child_reap(struct dt_child *c, int timeout_ms)
{
	int status, waited;
	pid_t r = 0;

	for (waited = 0; waited <= timeout_ms; waited += 20) {
		r = waitpid(c->pid, &status, WNOHANG);
		if (r == c->pid)
			break;
		if (!read_some(c, 20))
			usleep(20000);
	}
	if (r != c->pid) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, &status, 0);
		status = -1;
	}
	while (read_some(c, 100)) /* what is left of its stderr */
		;
	close(c->err_fd);
	c->err_fd = -1;
	if (status == -1)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
