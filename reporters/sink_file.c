// SPDX-License-Identifier: GPL-2.0-only
/*
 * The two local sinks: the log (text or JSON lines on an fd, normally stdout; under
 * systemd, journal entries with fields) and the ancestor's -R report file. Each renders a whole batch into one buffer and writes
 * it with one write(2), so lines of a batch are never split by other output.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domtrace/journald.h"
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
	int jfd;      /* log: journald socket when fd is the journal's stream, else -1 */
	char *jpath;  /* its address */
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
	fs->jfd = -1;
	if (o->log_journal && !fs->own_fd && dt_journald_stream_is(fs->fd)) {
		fs->jpath = strdup(o->log_journal);
		fs->jfd = fs->jpath ? dt_journald_socket() : -1;
	}
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
	fs->jfd = -1;
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

/* syslog(3) priorities: an abort is a warning, a match a notice, the rest info */
static const char *event_priority(enum dt_event_type t)
{
	return t == DT_EV_ABORT || t == DT_EV_LOST ? "4"
	       : t == DT_EV_MATCH || t == DT_EV_WOULD_ABORT ? "5"
							      : "6";
}

/* Under systemd: one journal entry per event, the line as MESSAGE= and the event's
 * VM, domain and type as fields. An entry journald does not take (it is down, the
 * entry is too big) is written to the stream as a plain line, like without journald. */
static void journal_write_batch(struct file_sink *fs, struct dt_event **evs, size_t n)
{
	char domid[16];
	bool lost = false;
	size_t i;

	for (i = 0; i < n; i++) {
		struct dt_jfield f[6];

		if (!evs[i])
			continue;
		dt_buf_reset(&fs->buf);
		if (fs->fmt == DT_REPORT_LOG_JSON)
			dt_fmt_json(&fs->buf, evs[i]);
		else
			dt_fmt_log(&fs->buf, evs[i], fs->lookup, fs->utc);
		if (!fs->buf.len || fs->buf.oom)
			continue;
		fs->buf.p[--fs->buf.len] = '\0'; /* the line's newline: journald ends entries */
		snprintf(domid, sizeof(domid), "%u", (unsigned)evs[i]->domid);
		f[0] = (struct dt_jfield){ "MESSAGE", fs->buf.p };
		f[1] = (struct dt_jfield){ "PRIORITY", event_priority(evs[i]->type) };
		f[2] = (struct dt_jfield){ "SYSLOG_IDENTIFIER", "domtrace" };
		f[3] = (struct dt_jfield){ "EVENT_TYPE", dt_event_type_name(evs[i]->type) };
		f[4] = (struct dt_jfield){ "VM", evs[i]->vm };
		f[5] = (struct dt_jfield){ "DOMID", domid };
		if (dt_journald_send(fs->jfd, fs->jpath, f, 6) < 0) {
			size_t done;
			int err;

			fs->buf.p[fs->buf.len++] = '\n';
			err = dt_report_write_all(fs->r, fs->fd, fs->buf.p, fs->buf.len, &done);
			if (err < 0) {
				atomic_fetch_add_explicit(&fs->errors, 1, memory_order_relaxed);
				dt_report_sink_lost(fs->r, fs->ops, 1, "write error: %s",
						    strerror(-err));
				lost = true;
				continue;
			}
		}
		atomic_fetch_add_explicit(&fs->written, 1, memory_order_relaxed);
	}
	if (!lost)
		dt_report_sink_ok(fs->r, fs->ops);
}

static void file_write_batch(void *state, struct dt_event **evs, size_t n)
{
	struct file_sink *fs = state;
	uint64_t count = 0;
	size_t i, done;
	int err;

	if (fs->jfd >= 0) {
		journal_write_batch(fs, evs, n);
		return;
	}
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
	free(fs->jpath);
	if (fs->jfd >= 0)
		close(fs->jfd);
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
