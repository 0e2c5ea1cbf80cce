// SPDX-License-Identifier: GPL-2.0-only
/*
 * The two local sinks: the log (text or JSON lines on an fd, normally stdout) and the
 * ancestor's -R report file. Each renders a whole batch into one buffer and writes
 * it with one write(2), so lines of a batch are never split by other output.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "reporters/format.h"
#include "reporters/sink.h"

struct file_sink {
	struct dt_report *r;
	int fd;
	bool own_fd;
	bool report;		/* report-file entries instead of log lines */
	enum dt_report_log fmt; /* log only */
	bool utc;
	const struct dt_funcdesc *(*lookup)(int func_id);
	struct dt_buf buf;
	_Atomic uint64_t written, errors;
};

static int log_open(struct dt_report *r, const struct dt_report_opts *o, void **ret_state)
{
	struct file_sink *fs = calloc(1, sizeof(*fs));

	if (!fs)
		return -ENOMEM;
	fs->r = r;
	fs->fd = o->log_fd;
	fs->fmt = o->log;
	fs->utc = o->log_utc;
	fs->lookup = o->lookup;
	*ret_state = fs;
	return 0;
}

static int report_open(struct dt_report *r, const struct dt_report_opts *o, void **ret_state)
{
	struct file_sink *fs = calloc(1, sizeof(*fs));

	if (!fs)
		return -ENOMEM;
	fs->fd = open(o->report_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fs->fd < 0) {
		int err = -errno;

		free(fs);
		return err;
	}
	fs->r = r;
	fs->own_fd = true;
	fs->report = true;
	*ret_state = fs;
	return 0;
}

static void file_write_batch(void *state, struct dt_event **evs, size_t n)
{
	struct file_sink *fs = state;
	uint64_t count = 0;
	size_t i;

	dt_buf_reset(&fs->buf);
	for (i = 0; i < n; i++) {
		if (!evs[i])
			continue;
		if (fs->report) {
			count += dt_fmt_report(&fs->buf, evs[i]);
		} else {
			if (fs->fmt == DT_REPORT_LOG_JSON)
				dt_fmt_json(&fs->buf, evs[i]);
			else
				dt_fmt_log(&fs->buf, evs[i], fs->lookup, fs->utc);
			count++;
		}
	}
	if (!fs->buf.len)
		return;
	if (fs->buf.oom || dt_report_write_all(fs->r, fs->fd, fs->buf.p, fs->buf.len) < 0)
		atomic_fetch_add_explicit(&fs->errors, 1, memory_order_relaxed);
	else
		atomic_fetch_add_explicit(&fs->written, count, memory_order_relaxed);
	if (fs->buf.cap > (4u << 20)) /* a huge pslist once: do not keep the memory */
		dt_buf_free(&fs->buf);
}

static void file_stats(void *state, struct dt_report_stats *st)
{
	struct file_sink *fs = state;
	uint64_t w = atomic_load_explicit(&fs->written, memory_order_relaxed);

	if (fs->report)
		st->report_entries += w;
	else
		st->log_lines += w;
	st->write_errors += atomic_load_explicit(&fs->errors, memory_order_relaxed);
}

static void file_close(void *state)
{
	struct file_sink *fs = state;

	if (!fs)
		return;
	if (fs->own_fd)
		close(fs->fd);
	dt_buf_free(&fs->buf);
	free(fs);
}

const struct dt_sink_ops dt_sink_log = {
	.name = "log",
	.open = log_open,
	.write_batch = file_write_batch,
	.stats = file_stats,
	.close = file_close,
};

const struct dt_sink_ops dt_sink_report = {
	.name = "report",
	.open = report_open,
	.write_batch = file_write_batch,
	.stats = file_stats,
	.close = file_close,
};
