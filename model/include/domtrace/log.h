/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * log.h - the daemon's diagnostics on stderr, or the journal under systemd (not the
 * traced-call log, which is a reporter). Thread-safe; one write(2) per message so lines never interleave.
 * Only engine/ logs errors (once, where the decision is made); libraries return -errno.
 */
#ifndef DOMTRACE_LOG_H
#define DOMTRACE_LOG_H

#include <stdbool.h>

enum dt_log_level {
	DT_LOG_ERR = 0,
	DT_LOG_WARN,
	DT_LOG_INFO,
	DT_LOG_DEBUG,
	DT_LOG_TRACE,
};

/* Messages above `level` are dropped. Default DT_LOG_INFO. Set once at start. */
void dt_log_set_level(enum dt_log_level level);
enum dt_log_level dt_log_get_level(void);

void dt_log(enum dt_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Under systemd (stderr is the journal's stream, $JOURNAL_STREAM), send each message
 * to journald at socket_path (DT_JOURNALD_SOCKET; tests give their own) as an entry
 * with PRIORITY= and, if the calling thread is about a VM, VM= and DOMID=. Else, or
 * if journald cannot take an entry, the line goes to stderr as always. Call once at
 * start, before any thread; returns whether the journal is used.
 */
bool dt_log_to_journal(const char *socket_path);
/* The VM the calling thread's messages are about (a worker's), for VM=/DOMID=;
 * name NULL: none. The name is copied (capped). Calling thread only. */
void dt_log_set_vm(const char *name, unsigned domid);

#define dt_err(...) dt_log(DT_LOG_ERR, __VA_ARGS__)
#define dt_warn(...) dt_log(DT_LOG_WARN, __VA_ARGS__)
#define dt_info(...) dt_log(DT_LOG_INFO, __VA_ARGS__)
/* -d: attach, detach and probe decisions */
#define dt_debug(...)                                      \
	do {                                               \
		if (dt_log_get_level() >= DT_LOG_DEBUG)    \
			dt_log(DT_LOG_DEBUG, __VA_ARGS__); \
	} while (0)
/* -dd: every trap's decision (the arguments are not evaluated below that level) */
#define dt_trace(...)                                      \
	do {                                               \
		if (dt_log_get_level() >= DT_LOG_TRACE)    \
			dt_log(DT_LOG_TRACE, __VA_ARGS__); \
	} while (0)

#endif /* DOMTRACE_LOG_H */
