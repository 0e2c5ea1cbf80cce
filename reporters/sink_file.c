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
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format.h"
#include "sink.h"

struct file_sink {
	struct dt_report *r;
	const struct dt_sink_ops *ops;
	int fd;
	bool own_fd;
	bool report_file;	/* report-file entries instead of log lines */
	enum dt_report_log fmt; /* log only */
	bool utc;
	const struct dt_funcdesc *(*lookup)(int func_id);
	char *path; /* the file, when we open it ourselves: reopened on rotation */
	struct dt_buf buf;
	bool broken_line; /* a failed write may have left part of a line: end it first */
	_Atomic uint64_t written, errors;
};

static int log_open(struct dt_report *r, const struct dt_report_opts *o, void **ret_state)
{
	struct file_sink *fs = calloc(1, sizeof(*fs));

	if (!fs)
		return -ENOMEM;
	fs->r = r;
	fs->ops = &dt_sink_log;
	fs->fd = o->log_fd;
	if (o->log_path) {
		fs->path = strdup(o->log_path);
		fs->fd = fs->path ? open(fs->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640)
				  : -1;
		if (fs->fd < 0) {
			int err = fs->path ? -errno : -ENOMEM;

			free(fs->path);
			free(fs);
			return err;
		}
		fs->own_fd = true;
	}
	fs->fmt = o->log;
	fs->utc = o->log_utc;
	fs->lookup = o->lookup;
	*ret_state = fs;
	return 0;
}

static int report_file_open(struct dt_report *r, const struct dt_report_opts *o, void **ret_state)
{
	struct file_sink *fs = calloc(1, sizeof(*fs));

	if (!fs)
		return -ENOMEM;
	fs->fd = open(o->report_file_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fs->fd < 0) {
		int err = -errno;

		free(fs);
		return err;
	}
	fs->r = r;
	fs->ops = &dt_sink_report_file;
	fs->path = strdup(o->report_file_path);
	fs->own_fd = true;
	fs->report_file = true;
	*ret_state = fs;
	return 0;
}

/* A write that failed after `done` bytes (a full filesystem) left part of a line: in
 * a regular file (appended to by us alone) cut it off again. True if it could. */
static bool cut_partial_line(struct file_sink *fs, size_t done)
{
	struct stat st;
	size_t tail = 0;

	while (tail < done && fs->buf.p[done - 1 - tail] != '\n')
		tail++;
	if (fstat(fs->fd, &st) < 0 || !S_ISREG(st.st_mode) || (off_t)tail > st.st_size)
		return false;
	if (ftruncate(fs->fd, st.st_size - (off_t)tail) < 0)
		return false;
	/* the report file is not O_APPEND: write on at the new end, not after a hole */
	return lseek(fs->fd, st.st_size - (off_t)tail, SEEK_SET) >= 0;
}

static void file_write_batch(void *state, struct dt_event **evs, size_t n)
{
	struct file_sink *fs = state;
	uint64_t count = 0;
	size_t i, done;
	int err;

	dt_buf_reset(&fs->buf);
	for (i = 0; i < n; i++) {
		if (!evs[i])
			continue;
		if (fs->report_file) {
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
	err = fs->buf.oom ? -ENOMEM : 0;
	if (!err && fs->broken_line)
		err = dt_report_write_all(fs->r, fs->fd, "\n", 1, &done);
	if (!err) {
		fs->broken_line = false;
		err = dt_report_write_all(fs->r, fs->fd, fs->buf.p, fs->buf.len, &done);
		if (err < 0 && done && fs->buf.p[done - 1] != '\n')
			fs->broken_line = !cut_partial_line(fs, done);
	}
	if (err < 0) {
		/* whatever part of the batch reached the file, the batch is counted lost */
		atomic_fetch_add_explicit(&fs->errors, 1, memory_order_relaxed);
		dt_report_sink_lost(fs->r, fs->ops, count, "write error: %s",
				    err == -ECANCELED ? "cut at exit (--flush-timeout)"
						      : strerror(-err));
	} else {
		atomic_fetch_add_explicit(&fs->written, count, memory_order_relaxed);
		dt_report_sink_ok(fs->r, fs->ops);
	}
	if (fs->buf.cap > (4u << 20)) /* a huge pslist once: do not keep the memory */
		dt_buf_free(&fs->buf);
}

static void file_stats(void *state, struct dt_report_stats *st)
{
	struct file_sink *fs = state;
	uint64_t w = atomic_load_explicit(&fs->written, memory_order_relaxed);

	if (fs->report_file)
		st->report_entries += w;
	else
		st->log_lines += w;
	st->write_errors += atomic_load_explicit(&fs->errors, memory_order_relaxed);
	if (!fs->report_file)
		st->log_write_errors += atomic_load_explicit(&fs->errors, memory_order_relaxed);
}

/* Rotation: the file was renamed; go on in a new one at the same path (appended to,
 * never truncated). On failure the old file stays in use. */
static void file_reopen(void *state)
{
	struct file_sink *fs = state;
	int fd;

	if (!fs->path)
		return;
	fd = open(fs->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0) {
		dt_report_sink_failing(fs->r, fs->ops, "cannot reopen %s: %s", fs->path,
				       strerror(errno));
		return;
	}
	close(fs->fd);
	fs->fd = fd;
	fs->broken_line = false;
}

static void file_close(void *state)
{
	struct file_sink *fs = state;

	if (!fs)
		return;
	free(fs->path);
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
	.reopen = file_reopen,
	.close = file_close,
};

const struct dt_sink_ops dt_sink_report_file = {
	.name = "report",
	.open = report_file_open,
	.write_batch = file_write_batch,
	.stats = file_stats,
	.reopen = file_reopen,
	.close = file_close,
};
