/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * a3_receiver.h - test helpers around dt-a3-receiver (started as a child process on
 * 127.0.0.1), temporary directories, line files, a JSON validator, and a test CA made
 * with the openssl command. Test threads only; not thread-safe.
 */
#ifndef DOMTRACE_TESTS_A3_RECEIVER_H
#define DOMTRACE_TESTS_A3_RECEIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct dt_test_receiver {
	pid_t pid;
	unsigned port;
	char out[512];	 /* event lines it appends to */
	char err[512];	 /* its stderr: the counts at exit */
	char ready[512];
};

/* Make a fresh directory under $TMPDIR (or /tmp); path into buf. 0 or -errno. */
int dt_test_tmpdir(char *buf, size_t len);
/* Remove a directory made by dt_test_tmpdir and its files (one level). */
void dt_test_rmdir(const char *dir);

/* Start the receiver in `dir`, listening on 127.0.0.1:port (0: any free port), with
 * extra arguments (NULL-terminated, may be NULL). Waits until it listens. 0 or -errno.
 * A restart with the same struct and port keeps the out file (the receiver appends). */
int dt_test_receiver_start(struct dt_test_receiver *r, const char *dir, unsigned port,
			   const char *const *extra);
/* SIGTERM and reap it. Returns its exit status, or -1. */
int dt_test_receiver_stop(struct dt_test_receiver *r);
/* A counter from its exit line ("events", "duplicates", ...); -1 if absent. */
long dt_test_receiver_count(const struct dt_test_receiver *r, const char *name);

/* Read a file's lines (without '\n'); *ret_n lines. NULL on error. */
char **dt_test_read_lines(const char *path, size_t *ret_n);
void dt_test_free_lines(char **lines, size_t n);
/* Read a whole file (NUL-terminated); *ret_len bytes. NULL on error. */
char *dt_test_read_file(const char *path, size_t *ret_len);

/* Whether s[0..len) is exactly one valid JSON value (RFC 8259), valid UTF-8, with no
 * raw control characters. */
bool dt_test_json_valid(const char *s, size_t len);
/* The decoded string value of top-level key `key` of a JSON object, into buf (bytes,
 * \uXXXX decoded to UTF-8). Returns the length, or -1 if absent or not a string. */
long dt_test_json_get_str(const char *json, const char *key, char *buf, size_t len);

/* Make with the openssl command, in dir: <name>-ca.pem (a self-signed CA) and
 * <name>-server.pem / <name>-server.key (a certificate for 127.0.0.1 and localhost
 * signed by it). 0 or -1. */
int dt_test_make_ca(const char *dir, const char *name);

/* $DT_BINARY_DIR/dt-a3-receiver (ctest sets DT_BINARY_DIR). */
const char *dt_test_receiver_path(void);

#endif /* DOMTRACE_TESTS_A3_RECEIVER_H */
