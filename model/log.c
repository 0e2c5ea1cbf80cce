// SPDX-License-Identifier: GPL-2.0-only
/* Diagnostics on stderr: one write(2) per line so threads never interleave. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "domtrace/journald.h"
#include "domtrace/log.h"

static int log_level = DT_LOG_INFO;
/* set once before any thread (dt_log_to_journal), read-only afterwards */
static int journal_fd = -1;
static const char *journal_path;
static __thread char thread_vm[64];
static __thread unsigned thread_domid;

void dt_log_set_level(enum dt_log_level level)
{
	__atomic_store_n(&log_level, (int)level, __ATOMIC_RELAXED);
}

enum dt_log_level dt_log_get_level(void)
{
	return (enum dt_log_level)__atomic_load_n(&log_level, __ATOMIC_RELAXED);
}

static const char *const level_tag[] = {
	[DT_LOG_ERR] = "error: ",
	[DT_LOG_WARN] = "warning: ",
	[DT_LOG_INFO] = "",
	[DT_LOG_DEBUG] = "debug: ",
	[DT_LOG_TRACE] = "trace: ",
};

bool dt_log_to_journal(const char *socket_path)
{
	if (journal_fd >= 0 || !dt_journald_stream_is(STDERR_FILENO))
		return journal_fd >= 0;
	journal_fd = dt_journald_socket();
	journal_path = socket_path;
	return journal_fd >= 0;
}

void dt_log_set_vm(const char *name, unsigned domid)
{
	snprintf(thread_vm, sizeof(thread_vm), "%s", name ? name : "");
	thread_domid = domid;
}

/* syslog(3)'s priorities, as journald wants them */
static const char *const level_priority[] = {
	[DT_LOG_ERR] = "3", [DT_LOG_WARN] = "4", [DT_LOG_INFO] = "6",
	[DT_LOG_DEBUG] = "7", [DT_LOG_TRACE] = "7",
};

/* The message as a journal entry; false if journald did not take it. */
static bool journal_log(enum dt_log_level level, const char *msg)
{
	char domid[16];
	struct dt_jfield f[5] = {
		{ "MESSAGE", msg },
		{ "PRIORITY", level_priority[level] },
		{ "SYSLOG_IDENTIFIER", "domtrace" },
		{ "VM", thread_vm },
		{ "DOMID", domid },
	};

	snprintf(domid, sizeof(domid), "%u", thread_domid);
	return dt_journald_send(journal_fd, journal_path, f, thread_vm[0] ? 5 : 3) == 0;
}

void dt_log(enum dt_log_level level, const char *fmt, ...)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;
	size_t n;
	va_list ap;

	if ((int)level > __atomic_load_n(&log_level, __ATOMIC_RELAXED))
		return;
	if (journal_fd >= 0) {
		/* journald stamps the time and knows the program: the message alone */
		va_start(ap, fmt);
		vsnprintf(line, sizeof(line), fmt, ap);
		va_end(ap);
		if (journal_log(level, line))
			return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%H:%M:%S", &tm);
	n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03ld domtrace: %s", ts.tv_nsec / 1000000,
			      level_tag[level]);
	va_start(ap, fmt);
	if (n < sizeof(line))
		n += (size_t)vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	if (n == 0 || line[n - 1] != '\n')
		line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
}
