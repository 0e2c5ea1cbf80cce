// SPDX-License-Identifier: GPL-2.0-only
/* Diagnostics on stderr: one write(2) per line so threads never interleave. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "domtrace/log.h"

static int log_level = DT_LOG_INFO;

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

void dt_log(enum dt_log_level level, const char *fmt, ...)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;
	size_t n;
	va_list ap;

	if ((int)level > __atomic_load_n(&log_level, __ATOMIC_RELAXED))
		return;
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
