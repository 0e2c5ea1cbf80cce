/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * child.h - run the domtrace program (or another) as a child process in a test: its
 * stderr is captured, stdout goes where the test says; wait for text to appear, signal,
 * reap with a bound. Test threads only.
 */
#ifndef DT_TESTS_CHILD_H
#define DT_TESTS_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct dt_child {
	pid_t pid;
	int err_fd; /* the child's stderr (read end) */
	char buf[1 << 17];
	size_t len;
};

/* $DT_BINARY_DIR/<rel> (or the build's default) into buf. */
const char *dt_child_bin(const char *rel, char *buf, size_t size);
/* $DT_SOURCE_DIR/<rel> into buf. */
const char *dt_child_src(const char *rel, char *buf, size_t size);

/* Start argv[0] with stdout on out_fd (-1: /dev/null) and stderr captured. */
void dt_child_spawn(struct dt_child *c, char *const argv[], int out_fd);
/* Read the child's stderr until `needle` appears (true) or timeout_ms pass. */
bool dt_child_wait_for(struct dt_child *c, const char *needle, int timeout_ms);
/* Wait up to timeout_ms for the child to exit: its status (128+signal if killed), or
 * -1 if it is still running then (it is killed with SIGKILL and reaped). */
int dt_child_reap(struct dt_child *c, int timeout_ms);

#endif /* DT_TESTS_CHILD_H */
