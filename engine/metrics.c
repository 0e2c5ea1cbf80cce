// SPDX-License-Identifier: GPL-2.0-only
/*
 * --metrics (metrics.h): collect a snapshot of the counters, render it (promtext.h),
 * serve it with libmicrohttpd. docs/domtrace.8 lists every metric.
 */
#include <errno.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "domtrace/daemon.h"
#include "domtrace/log.h"
#include "domtrace/report.h"
#include "metrics.h"
#include "promtext.h"
#include "worker.h"

struct dt_metrics {
	struct MHD_Daemon *mhd;
	struct dt_daemon *d;
	uint16_t port;
};

/* The per-VM trap counters, in the order they are exposed. */
static const struct {
	const char *name, *help;
	size_t off;
} vm_counters[] = {
#define C(field) offsetof(struct dt_trap_counters, field)
	{ "domtrace_traps_total", "Traps taken: every breakpoint hit of the VM.", C(traps) },
	{ "domtrace_calls_total", "Entries of traced functions.", C(calls) },
	{ "domtrace_returns_total", "Returns paired with their call.", C(returns) },
	{ "domtrace_matches_total", "Calls a filter matched (aborts included).", C(matches) },
	{ "domtrace_aborts_total", "Calls aborted.", C(aborts) },
	{ "domtrace_traps_not_ours_total", "Traps at addresses without a probe of ours.",
	  C(not_ours) },
	{ "domtrace_decode_errors_total", "Hits that could not be decoded fully.", C(errors) },
	{ "domtrace_regex_errors_total", "Matches where a regex hit PCRE2's limits.",
	  C(regex_errors) },
	{ "domtrace_undecided_aborts_total",
	  "Functions where an abort filter lacked its argument.", C(undecided) },
#undef C
};
#define NCOUNTERS (sizeof(vm_counters) / sizeof(vm_counters[0]))

static const char *const state_names[] = {
	[DT_WORKER_STARTING] = "starting",
	[DT_WORKER_RUNNING] = "running",
	[DT_WORKER_REFUSED] = "refused",
	[DT_WORKER_ENDED] = "ended",
};
#define NSTATES (sizeof(state_names) / sizeof(state_names[0]))

struct vm_snap {
	char vm[DT_VM_NAME_MAX];
	char domid[12];
	unsigned state;
	uint64_t c[NCOUNTERS];
	uint64_t armed;
	struct dt_lathist handling;
};

static int cmp_snap(const void *a, const void *b)
{
	const struct vm_snap *x = a, *y = b;
	int r = strtoul(x->domid, NULL, 10) < strtoul(y->domid, NULL, 10)   ? -1
		: strtoul(x->domid, NULL, 10) > strtoul(y->domid, NULL, 10) ? 1
									    : 0;

	return r ? r : strcmp(x->vm, y->vm);
}

/* Every live worker's counters, under counters_lock (taken only at worker start and
 * end: a scrape never holds a trap up). */
static int snap_vms(struct dt_daemon *d, struct vm_snap **ret, size_t *ret_n)
{
	struct vm_snap *v = NULL;
	struct dt_worker *w;
	size_t n = 0, i, k;
	int r = 0;

	pthread_mutex_lock(&d->counters_lock);
	for (w = d->counted; w; w = w->counted)
		n++;
	if (n && !(v = calloc(n, sizeof(*v)))) {
		r = -ENOMEM;
		goto out;
	}
	for (w = d->counted, i = 0; w && i < n; w = w->counted, i++) {
		const struct dt_trap_counters *c = &w->ctx.counters;
		unsigned st = (unsigned)atomic_load(&w->state);

		snprintf(v[i].vm, sizeof(v[i].vm), "%s", w->vm.name);
		snprintf(v[i].domid, sizeof(v[i].domid), "%u", w->vm.domid);
		v[i].state = st < NSTATES ? st : DT_WORKER_ENDED;
		for (k = 0; k < NCOUNTERS; k++)
			v[i].c[k] = atomic_load_explicit(
				(const atomic_uint_fast64_t *)((const char *)c + vm_counters[k].off),
				memory_order_relaxed);
		v[i].armed = atomic_load_explicit(&c->probes_armed, memory_order_relaxed);
		dt_lat_merge(&v[i].handling, &c->handling);
	}
out:
	pthread_mutex_unlock(&d->counters_lock);
	if (r == 0) {
		qsort(v, n, sizeof(*v), cmp_snap);
		*ret = v;
		*ret_n = n;
	}
	return r;
}

static void render_vms(struct dt_prom *p, const struct vm_snap *v, size_t n)
{
	size_t i, k;
	unsigned s;

#define VM_LABELS(x) { "vm", (x).vm, "domid", (x).domid, NULL }
	dt_prom_family(p, "domtrace_vm_state", "gauge",
		       "The VM's worker: 1 for its state now (starting, running, refused, ended).");
	for (i = 0; i < n; i++)
		for (s = 0; s < NSTATES; s++) {
			const char *l[] = { "vm", v[i].vm, "domid", v[i].domid, "state",
					    state_names[s], NULL };

			dt_prom_u64(p, NULL, l, v[i].state == s);
		}
	for (k = 0; k < NCOUNTERS; k++) {
		dt_prom_family(p, vm_counters[k].name, "counter", vm_counters[k].help);
		for (i = 0; i < n; i++) {
			const char *l[] = VM_LABELS(v[i]);

			dt_prom_u64(p, NULL, l, v[i].c[k]);
		}
	}
	dt_prom_family(p, "domtrace_probes_armed", "gauge",
		       "Breakpoints of domtrace in the VM's memory now.");
	for (i = 0; i < n; i++) {
		const char *l[] = VM_LABELS(v[i]);

		dt_prom_u64(p, NULL, l, v[i].armed);
	}
	dt_prom_family(p, "domtrace_trap_handling_seconds", "histogram",
		       "Time from a trap taken to its answer sent, spent by domtrace's worker.");
	for (i = 0; i < n; i++) {
		const char *l[] = VM_LABELS(v[i]);

		dt_prom_lathist(p, l, &v[i].handling);
	}
#undef VM_LABELS
}

static void render_event_count(uint32_t domid, const char *vm, const uint64_t *n, void *arg)
{
	struct dt_prom *p = arg;
	char id[12];
	int t;

	snprintf(id, sizeof(id), "%u", domid);
	for (t = DT_EV_CALL; t < _DT_EV_MAX; t++) {
		const char *l[] = { "vm", vm, "domid", id, "type",
				    dt_event_type_name((enum dt_event_type)t), NULL };

		dt_prom_u64(p, NULL, l, n[t]);
	}
}

static void render_vm_loss(const struct dt_queue_producer_stats *st, void *arg)
{
	struct dt_prom *p = arg;
	char id[12];
	const char *l[] = { "vm", st->vm, "domid", id, NULL };

	snprintf(id, sizeof(id), "%u", st->domid);
	dt_prom_u64(p, NULL, l, st->lost);
}

/* One sink's numbers. */
struct sink_row {
	const char *name;
	uint64_t delivered, failures, backlog;
	size_t backlog_bytes;
};

static void render_sinks(struct dt_prom *p, struct dt_daemon *d)
{
	const struct dt_options *o = d->opts;
	struct dt_report_loss loss[32];
	struct dt_report_stats rs;
	struct sink_row rows[4];
	size_t nl, nr = 0, i, k;

	dt_report_stats(d->reporter, &rs);
	nl = dt_report_losses(d->reporter, loss, sizeof(loss) / sizeof(loss[0]));
	if (o->format != DT_FORMAT_NONE)
		rows[nr++] = (struct sink_row){ "log", rs.log_lines, rs.log_write_errors, 0, 0 };
	if (o->report_file)
		rows[nr++] = (struct sink_row){ "report", rs.report_entries,
						rs.write_errors - rs.log_write_errors, 0, 0 };
	if (o->syslog)
		rows[nr++] = (struct sink_row){ "syslog", rs.syslog_sent, rs.syslog_failures,
						rs.syslog_pending, rs.syslog_backlog_bytes };
	if (o->a3)
		rows[nr++] = (struct sink_row){ "a3", rs.a3_sent, rs.a3_failures, rs.a3_pending,
						rs.a3_backlog_bytes };

	dt_prom_family(p, "domtrace_sink_delivered_events_total", "counter",
		       "Events a sink delivered (log lines, report entries, syslog messages "
		       "sent, events the A3 server accepted).");
	for (i = 0; i < nr; i++) {
		const char *l[] = { "sink", rows[i].name, NULL };

		dt_prom_u64(p, NULL, l, rows[i].delivered);
	}
	dt_prom_family(p, "domtrace_sink_failed_events_total", "counter",
		       "Events a sink will never deliver (by reason: domtrace_lost_events_total).");
	for (i = 0; i < nr; i++) {
		const char *l[] = { "sink", rows[i].name, NULL };
		uint64_t n = 0;

		for (k = 0; k < nl; k++)
			if (!strcmp(loss[k].sink, rows[i].name))
				n += loss[k].count;
		dt_prom_u64(p, NULL, l, n);
	}
	dt_prom_family(p, "domtrace_sink_failures_total", "counter",
		       "Failed writes, requests or connections of a sink (retried, or counted "
		       "lost).");
	for (i = 0; i < nr; i++) {
		const char *l[] = { "sink", rows[i].name, NULL };

		dt_prom_u64(p, NULL, l, rows[i].failures);
	}
	dt_prom_family(p, "domtrace_sink_backlog_events", "gauge",
		       "Events waiting for a sink's remote end (A3 server, syslog collector).");
	for (i = 0; i < nr; i++) {
		const char *l[] = { "sink", rows[i].name, NULL };

		dt_prom_u64(p, NULL, l, rows[i].backlog);
	}
	dt_prom_family(p, "domtrace_sink_backlog_bytes", "gauge",
		       "Bytes of the events waiting in a sink's backlog.");
	for (i = 0; i < nr; i++) {
		const char *l[] = { "sink", rows[i].name, NULL };

		dt_prom_u64(p, NULL, l, rows[i].backlog_bytes);
	}
	dt_prom_family(p, "domtrace_lost_events_total", "counter",
		       "Events lost, by where (the queue, or a sink) and why.");
	for (k = 0; k < nl; k++) {
		const char *l[] = { "sink", loss[k].sink, "reason", loss[k].reason, NULL };

		dt_prom_u64(p, NULL, l, loss[k].count);
	}

	dt_prom_family(p, "domtrace_queue_events_total", "counter",
		       "Records admitted to the queue from the workers to the reporter.");
	dt_prom_u64(p, NULL, NULL, rs.q.enqueued);
	dt_prom_family(p, "domtrace_queue_bytes", "gauge", "Bytes of events in the queue now.");
	dt_prom_u64(p, NULL, NULL, rs.q.bytes);
	dt_prom_family(p, "domtrace_queue_max_bytes", "gauge",
		       "The queue's bound (--queue-bytes).");
	dt_prom_u64(p, NULL, NULL, rs.q.max_bytes);
}

int dt_metrics_render(struct dt_daemon *d, char **ret_text, size_t *ret_len)
{
	struct vm_snap *v = NULL;
	struct dt_prom p;
	size_t n = 0, len;
	char *text;
	int r;

	r = snap_vms(d, &v, &n);
	if (r < 0)
		return r;
	r = dt_prom_open(&p);
	if (r < 0) {
		free(v);
		return r;
	}
	{
		const char *l[] = { "version", DT_VERSION, NULL };

		dt_prom_family(&p, "domtrace_build_info", "gauge", "domtrace's version.");
		dt_prom_u64(&p, NULL, l, 1);
	}
	dt_prom_family(&p, "domtrace_vms_attached_total", "counter", "VMs attached so far.");
	dt_prom_u64(&p, NULL, NULL, atomic_load(&d->stats.attached));
	dt_prom_family(&p, "domtrace_vms_refused_total", "counter",
		       "VMs refused so far (not traceable, symbols that do not fit, ...).");
	dt_prom_u64(&p, NULL, NULL, atomic_load(&d->stats.refused));
	dt_prom_family(&p, "domtrace_action_enabled", "gauge",
		       "The global action bit (SIGUSR1): 1 abort filters abort, 0 would-abort.");
	dt_prom_u64(&p, NULL, NULL, atomic_load(&d->action_on));
	render_vms(&p, v, n);
	free(v);
	dt_prom_family(&p, "domtrace_events_total", "counter",
		       "Events reported (to every sink), by VM and type.");
	dt_report_foreach_count(d->reporter, render_event_count, &p);
	dt_prom_family(&p, "domtrace_vm_lost_events_total", "counter",
		       "The VM's events lost because the queue was full.");
	dt_report_foreach_vm(d->reporter, render_vm_loss, &p);
	render_sinks(&p, d);
	text = dt_prom_close(&p, &len);
	if (!text)
		return -ENOMEM;
	*ret_text = text;
	*ret_len = len;
	return 0;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	static char not_get[] = "only GET and HEAD\n", not_found[] = "not found: try /metrics\n",
		    root[] = "domtrace: the metrics are at /metrics\n";
	struct dt_metrics *m = cls;
	struct MHD_Response *resp;
	unsigned status = MHD_HTTP_OK;
	enum MHD_ResponseMemoryMode mode = MHD_RESPMEM_PERSISTENT;
	char *text = NULL;
	size_t len = 0;
	enum MHD_Result ret;

	(void)version, (void)upload, (void)upload_size, (void)con_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
		text = not_get;
	} else if (!strcmp(url, "/metrics")) {
		if (dt_metrics_render(m->d, &text, &len) == 0) {
			mode = MHD_RESPMEM_MUST_FREE;
		} else {
			status = MHD_HTTP_INTERNAL_SERVER_ERROR;
			text = NULL;
		}
	} else if (!strcmp(url, "/")) {
		text = root;
	} else {
		status = MHD_HTTP_NOT_FOUND;
		text = not_found;
	}
	if (text && mode == MHD_RESPMEM_PERSISTENT)
		len = strlen(text);
	resp = MHD_create_response_from_buffer(len, text ? text : not_found + len, mode);
	if (!resp) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; version=0.0.4; charset=utf-8");
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

int dt_metrics_start(struct dt_daemon *d, const char *listen, struct dt_metrics **ret_m)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	const char *colon = strrchr(listen, ':');
	const union MHD_DaemonInfo *info;
	char host[256];
	struct dt_metrics *m;
	size_t hl;
	int err;

	if (!colon)
		return -EINVAL;
	hl = (size_t)(colon - listen);
	if (listen[0] == '[' && hl >= 2)
		memcpy(host, listen + 1, hl - 2), host[hl - 2] = '\0';
	else if (hl < sizeof(host))
		memcpy(host, listen, hl), host[hl] = '\0';
	else
		return -EINVAL;
	err = getaddrinfo(host, colon + 1, &hints, &ai);
	if (err) {
		dt_err("--metrics %s: %s", listen, gai_strerror(err));
		return -EADDRNOTAVAIL; /* not -EINVAL: that is the exit status of a bad config */
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		freeaddrinfo(ai);
		return -ENOMEM;
	}
	m->d = d;
	/* its own thread (signals stay blocked there: the daemon blocked them first);
	 * few connections, short timeouts: a scraper, not the world */
	m->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
					  (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0),
				  0, NULL, NULL, answer, m, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
				  MHD_OPTION_CONNECTION_LIMIT, 16u, MHD_OPTION_CONNECTION_TIMEOUT,
				  10u, MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!m->mhd) {
		dt_err("--metrics %s: cannot listen there", listen);
		free(m);
		return -EADDRNOTAVAIL;
	}
	info = MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_BIND_PORT);
	m->port = info ? info->port : 0;
	dt_info("metrics: http://%.*s:%u/metrics", (int)hl, listen, m->port);
	*ret_m = m;
	return 0;
}

uint16_t dt_metrics_port(const struct dt_metrics *m)
{
	return m->port;
}

void dt_metrics_stop(struct dt_metrics *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->mhd);
	free(m);
}
