/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * report.h - the reporter: one thread that takes events from the per-VM workers
 * through a bounded lock-free queue (queue.h) and hands them to its sinks:
 *
 *   log          one line per event on an fd (stdout): strace-like text or JSON lines
 *   report file  the ancestor's -R file: matches, aborts, losses, with the pid lineage
 *                (dt_sink_report_file; its options say report_file_*)
 *   syslog       the A3 events as RFC 5424 messages (the seed's event string or JSON) to
 *                a local datagram socket (/dev/log) or over TCP (RFC 6587 octet
 *                counting) to a collector; bounded backlog, reconnects with backoff
 *   a3           events for the A3 monitor, batched into HTTP(S) POSTs through libcurl
 *                (one line per event, the seed's text or JSON), or the ancestor's
 *                per-event GET requests; retried with exponential backoff
 *
 * "report" alone (dt_report_*) always means the reporter, never the -R file.
 *
 * docs/EVENTS.md describes every output format and the HTTP requests.
 *
 * Ownership: dt_report_submit() takes the event in every case; the reporter frees it
 * once every sink is done with it. Memory has two bounds over ev->size: max_bytes for
 * events queued and being written by the local sinks, and a3_max_bytes for events
 * waiting for the A3 server, so an A3 outage never costs the log or report file a
 * record. What does not fit the queue is lost, counted per VM and announced with a
 * DT_EV_LOST record (or with wait_when_full the worker waits); what does not fit the
 * A3 backlog is lost for A3 only, likewise counted and announced per VM to the A3
 * server. Every sink's losses are counted by reason (dt_report_losses) and told to
 * the other sinks by a DT_EV_LOST record with lost_sink set.
 *
 * Threads:
 *   dt_report_opts_init, dt_report_new, dt_report_start, dt_report_stop(_begin/_wait/
 *   _now), dt_report_free                 the owner (engine main thread), in this order
 *   dt_report_quiesce                     any thread
 *   dt_report_producer_new/free           any thread (one producer per VM worker)
 *   dt_report_submit                      any thread; no lock, no I/O (unless waiting)
 *   dt_report_producer_hold/release       the one thread submitting on that producer
 *   dt_report_stats, dt_report_foreach_vm, dt_report_foreach_count  any thread
 * curl_global_init() must have run before dt_report_new() when an A3 sink is used
 * (the engine's main does it before starting any thread).
 */
#ifndef DOMTRACE_REPORT_H
#define DOMTRACE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domtrace/catalog.h"
#include "domtrace/event.h"
#include "domtrace/queue.h"

struct dt_report;
struct dt_report_producer; /* a struct dt_queue_producer */

enum dt_report_log {
	DT_REPORT_LOG_OFF = 0,
	DT_REPORT_LOG_TEXT, /* one strace-like line per event */
	DT_REPORT_LOG_JSON, /* one JSON object per line */
};

enum dt_report_a3 {
	DT_REPORT_A3_OFF = 0,
	DT_REPORT_A3_POST,	/* batched POST, body = one seed-format event string per line */
	DT_REPORT_A3_POST_JSON, /* batched POST, body = JSON lines */
	DT_REPORT_A3_GET,	/* the ancestor's per-event GET (URL-compatible) */
};

struct dt_report_opts {
	/* queue */
	size_t max_bytes;    /* bound on bytes of events in flight; 0: DT_QUEUE_DEFAULT_BYTES */
	bool wait_when_full; /* workers wait for room instead of losing events */

	/* log sink */
	enum dt_report_log log;
	int log_fd;	     /* default 1 (stdout); not closed by the reporter */
	const char *log_path; /* instead of log_fd: a file the sink opens (appends to) and
			       * opens again on dt_report_reopen (log rotation) */
	bool log_utc;	     /* text timestamps in UTC instead of local time */
	/* journald's socket (DT_JOURNALD_SOCKET), or NULL: when log_fd is the journal's
	 * stream ($JOURNAL_STREAM: run by systemd), each event goes to journald as an entry
	 * of its own with VM=, DOMID=, EVENT_TYPE= fields (journald.h) */
	const char *log_journal;
	/* which arguments are strings (quoted in text); normally dt_catalog_get */
	const struct dt_funcdesc *(*lookup)(int func_id);

	/* report file sink (-R): created/truncated like the ancestor's; NULL = off */
	const char *report_file_path;

	/* A3 sink (-a) */
	enum dt_report_a3 a3;
	const char *a3_server;	/* -w host:port; default "127.0.0.1:8989" */
	const char *a3_url;	/* -u: absolute http(s) URL, or a path (POST, default
				 * "/events") or query key (GET, the ancestor's default) */
	const char *a3_ca_file; /* CA bundle to verify https servers with; NULL: system */
	unsigned a3_batch_max;	/* events per POST; default 1000 */
	size_t a3_batch_bytes;	/* body bytes per POST (soft); default 1 MiB */
	unsigned a3_delay_ms;	/* a partial batch waits at most this long; default 20;
				 * half of it is how long the reporter lingers after a
				 * small drain before writing what came (every sink) */
	unsigned a3_timeout_ms; /* per request; default 5000 */
	unsigned a3_backoff_min_ms, a3_backoff_max_ms; /* retry delays; default 100, 5000 */
	size_t a3_max_bytes;	/* the A3 backlog's own bound; 0: DT_QUEUE_DEFAULT_BYTES */

	/* syslog sink: NULL = off; "unix:PATH" (datagram) or "tcp:HOST:PORT" */
	const char *syslog_target;
	unsigned syslog_facility; /* 0-23 (dt_syslog_facility); default 3, daemon */
	const char *syslog_tag;	  /* APP-NAME; NULL: "domtrace" */
	bool syslog_json;	  /* MSG is the JSON object instead of the seed's string */
	size_t syslog_max_bytes;  /* the backlog's bound; 0: DT_SYSLOG_BACKLOG_DEFAULT */
	unsigned syslog_backoff_min_ms, syslog_backoff_max_ms; /* reconnect; 100, 5000 */

	/* count the events dispatched, per VM and type (dt_report_foreach_count): for
	 * the metrics endpoint; off, the reporter does exactly what it did without it */
	bool count_events;
};

#define DT_SYSLOG_BACKLOG_DEFAULT (16u << 20)
#define DT_SYSLOG_TAG_MAX 48 /* RFC 5424 APP-NAME */

/* A syslog facility by name ("daemon", "local0", ... as in syslog.conf) or number
 * (0-23): its code, or -EINVAL. */
int dt_syslog_facility(const char *name);
/* A syslog target: "unix:PATH" or "tcp:HOST:PORT" (HOST may be [v6]). Fills the
 * parts (host empty for unix; path in host). 0 or -EINVAL. */
int dt_syslog_target(const char *s, bool *ret_tcp, char *host, size_t hostlen, char *port,
		     size_t portlen);

#define DT_REPORT_REASON_MAX 96

/* Events a sink (or the queue, sink "queue") could not deliver, by reason. */
struct dt_report_loss {
	const char *sink; /* "queue", "log", "report", "a3" */
	char reason[DT_REPORT_REASON_MAX];
	uint64_t count;
};

struct dt_report_stats {
	struct dt_queue_stats q; /* enqueued, delivered, lost, waits, bytes in flight */
	uint64_t lost_total;	 /* q.lost + every sink's losses (dt_report_losses) */
	uint64_t log_lines;	 /* events written by the log sink */
	uint64_t report_entries; /* entries written to the report file */
	uint64_t write_errors;	 /* failed writes to the log fd or report file */
	/* A3 */
	uint64_t a3_pending;   /* events waiting for delivery */
	uint64_t a3_sent;      /* events the server accepted (2xx) */
	uint64_t a3_requests;  /* requests completed, any outcome */
	uint64_t a3_failures;  /* requests failed and to be retried */
	uint64_t a3_rejected;  /* events dropped because the server refused them (4xx) */
	uint64_t a3_abandoned; /* events still undelivered when stop's time limit ran out */
	uint64_t a3_backlog_lost; /* events dropped because the A3 backlog was full */
	size_t a3_backlog_bytes;  /* bytes of events waiting for the A3 server */
	long a3_last_http;     /* HTTP status of the last completed request, 0 if none */
	int a3_last_curl;      /* CURLcode of the last completed request */
	/* syslog */
	uint64_t syslog_sent;	  /* messages handed to the socket whole */
	uint64_t syslog_pending;  /* messages waiting in the backlog */
	uint64_t syslog_failures; /* connects and sends that failed (then retried) */
	size_t syslog_backlog_bytes;
	uint64_t log_write_errors; /* write_errors of the log sink alone */
	uint64_t drains;	   /* batches the reporter took that held events */
};

/* Fill `o` with the defaults (no sink enabled, log_fd 1). */
void dt_report_opts_init(struct dt_report_opts *o);

/* The A3 defaults: dt_report_opts_init and the A3 sink use them, the daemon's options
 * start from them and --help prints them (DT_STRINGIFY). */
#define DT_A3_SERVER_DEFAULT "127.0.0.1:8989"
#define DT_A3_POST_PATH_DEFAULT "/events"			      /* batched POSTs */
#define DT_A3_QUERYKEY_DEFAULT "index.html?op=pub&type=event&event=" /* --a3-body get */
#define DT_A3_BATCH_MAX_DEFAULT 1000
#define DT_A3_DELAY_MS_DEFAULT 20
#define DT_STRINGIFY_(x) #x
#define DT_STRINGIFY(x) DT_STRINGIFY_(x)

/* Create the reporter: queue, sinks (opens the report file, sets up libcurl). No
 * thread yet. 0 or -errno (-EINVAL bad options, -ENOMEM, -errno from open). */
int dt_report_new(const struct dt_report_opts *o, struct dt_report **ret_r);

/* Start the reporter thread. 0 or -errno. */
int dt_report_start(struct dt_report *r);

/* A producer for one VM: its events, losses and LOST records are accounted to it.
 * The reporter must outlive it. `vm` is copied. */
int dt_report_producer_new(struct dt_report *r, uint32_t domid, const char *vm,
			   struct dt_report_producer **ret_p);
/* After the VM's worker is done; unannounced loss is queued as a LOST record. NULL ok. */
void dt_report_producer_free(struct dt_report_producer *p);

/* Hand over `ev` (see dt_queue_push): 0 queued, -ENOBUFS lost, -ESHUTDOWN stopped. */
int dt_report_submit(struct dt_report_producer *p, struct dt_event *ev);
/* Wake the reporter at release rather than at each submit (dt_queue_producer_hold):
 * the producer's own worker thread only. */
void dt_report_producer_hold(struct dt_report_producer *p);
void dt_report_producer_release(struct dt_report_producer *p);

/* The daemon is stopping: workers waiting for room (wait_when_full) give up and their
 * events are counted lost, so the workers can always be joined. Any thread. */
void dt_report_quiesce(struct dt_report *r);

/*
 * Stop: refuse new events, deliver what is queued, flush A3 for at most timeout_ms
 * (retrying as usual), then end the thread. Events A3 could not deliver in time are
 * counted in a3_abandoned. Returns 0 if everything was delivered, -ETIMEDOUT if not.
 * Bounded whatever the sinks do: past the limit (plus a short grace) a write blocked
 * on a pipe or file nobody drains is interrupted and local writes give up (counted as
 * write errors); if the thread still does not come back, -ETIMEDOUT with the thread
 * left running (dt_report_stuck()). Producers should be freed before, so that their
 * last losses are announced.
 *
 * The same in steps, for a caller that watches signals meanwhile: stop_begin starts
 * it (returns at once), stop_wait waits up to wait_ms for the thread (-EINPROGRESS if
 * it still runs, else the result), stop_now cuts the flush short at once.
 */
int dt_report_stop(struct dt_report *r, unsigned timeout_ms);
void dt_report_stop_begin(struct dt_report *r, unsigned timeout_ms);
int dt_report_stop_wait(struct dt_report *r, unsigned wait_ms);
void dt_report_stop_now(struct dt_report *r);
/* Started, and its thread not joined (not stopped yet, or stuck in a write). */
bool dt_report_stuck(const struct dt_report *r);

/* Stop (if running, with a zero time limit) and free everything. NULL ok. A reporter
 * whose thread is stuck in a write that nothing interrupts is not freed: exit() ends
 * it. */
void dt_report_free(struct dt_report *r);

/* Open the log file (log_path) and the report file again, on the reporter thread
 * soon after (logrotate's postrotate: the old files were renamed). The report file is
 * then appended to, not truncated. Any thread. */
void dt_report_reopen(struct dt_report *r);

void dt_report_stats(const struct dt_report *r, struct dt_report_stats *ret_st);
/* Every loss so far by sink and reason (the queue's first); at most max. Any thread. */
size_t dt_report_losses(const struct dt_report *r, struct dt_report_loss *out, size_t max);
/* The same as one line, "a3 30 (backlog full), log 2 (write error: ...)"; returns the
 * number of entries (0: nothing lost). */
size_t dt_report_losses_text(const struct dt_report *r, char *buf, size_t len);
/* Per-VM counters (enqueued, lost, pending) of every live producer. */
void dt_report_foreach_vm(struct dt_report *r,
			  void (*fn)(const struct dt_queue_producer_stats *st, void *arg), void *arg);

/* Events dispatched to the sinks so far, per VM (domid, name) and type, when
 * count_events is on: fn is called once per VM with n[type] (indexed by enum
 * dt_event_type), under the counts' lock (fn must not call into the reporter). Past
 * DT_REPORT_COUNT_VMS distinct VMs the rest are pooled under vm "" and domid
 * UINT32_MAX. Any thread. */
#define DT_REPORT_COUNT_VMS 1024
void dt_report_foreach_count(struct dt_report *r,
			     void (*fn)(uint32_t domid, const char *vm, const uint64_t *n,
					void *arg),
			     void *arg);

#endif /* DOMTRACE_REPORT_H */
