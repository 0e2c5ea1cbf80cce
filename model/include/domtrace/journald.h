/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * journald.h - systemd-journald's native protocol, spoken directly (no libsystemd):
 * one datagram per entry to journald's socket, each field "KEY=value\n", or, for a
 * value with a newline, "KEY\n" + its length (64-bit little-endian) + value + "\n".
 * Used when systemd connected our stderr/stdout to the journal (JOURNAL_STREAM), so
 * that entries carry fields (VM=, DOMID=, EVENT_TYPE=) a stream line cannot.
 * Thread-safe: no state but the caller's socket.
 */
#ifndef DOMTRACE_JOURNALD_H
#define DOMTRACE_JOURNALD_H

#include <stdbool.h>
#include <stddef.h>

#define DT_JOURNALD_SOCKET "/run/systemd/journal/socket"

struct dt_jfield {
	const char *key; /* upper case, digits, '_'; not starting with '_' */
	const char *val; /* NUL-terminated, may contain newlines */
};

/* Is fd the stream systemd connected to the journal ($JOURNAL_STREAM "dev:ino")? */
bool dt_journald_stream_is(int fd);
/* A datagram socket for dt_journald_send: fd, or -errno. */
int dt_journald_socket(void);
/* One entry of n fields to the journal socket at path. 0 or -errno (-EMSGSIZE: over
 * 64 KiB, the caller writes it its old way). */
int dt_journald_send(int fd, const char *path, const struct dt_jfield *f, size_t n);

#endif /* DOMTRACE_JOURNALD_H */
