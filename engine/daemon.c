// SPDX-License-Identifier: GPL-2.0-only
/* The daemon's life: start order, the signal loop (signalfd), reload, stop order. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <urcu.h>

#include "domtrace/config.h"
#include "domtrace/daemon.h"
#include "domtrace/filter.h"
#include "domtrace/guest.h"
#include "domtrace/journald.h"
#include "domtrace/log.h"
#include "domtrace/report.h"
#include "guest/kallsyms.h"
#include "metrics.h"
#include "notify.h"
#include "watcher.h"
#include "worker.h"

#define EXIT_BAD_CONFIG 8 /* the ancestor's status for a config that does not parse */
#define EXIT_LOST 4	  /* stopped cleanly, but some events were not delivered */
#define STOP_CUT_MS 1000 /* after cutting the flush short, longest wait for the reporter */

/*
 * The config: -c FILE, plus the deprecated -s/-f options as extra lines after it.
 * Without either, the empty config: every VM, the default function set, no filters.
 * One loader (dt_config_load) for start, -t and reloads.
 */
static int load_config(const struct dt_options *o, struct dt_config **ret_cfg,
		       struct dt_config_diags *diags)
{
	return dt_config_load(o->config, o->extra_lines, o->nextra, ret_cfg, diags);
}

static void print_diags(const struct dt_config_diags *diags)
{
	size_t i;

	for (i = 0; i < diags->n; i++)
		fprintf(stderr, "%s\n", diags->v[i].text);
}

int dt_daemon_check_config(const struct dt_options *opts)
{
	struct dt_config_diags diags = { 0 };
	struct dt_config *cfg = NULL;
	int r;

	r = load_config(opts, &cfg, &diags);
	print_diags(&diags);
	if (r == 0)
		printf("%s: OK, %zu filters, %zu sections\n",
		       opts->config ? opts->config : "<command line>", cfg->nfilters,
		       cfg->nsections);
	dt_config_diags_clear(&diags);
	dt_config_free(cfg);
	return r == 0 ? 0 : EXIT_BAD_CONFIG;
}

/* Parse and publish; a bad config changes nothing. Main thread. */
static int publish_config(struct dt_daemon *d)
{
	struct dt_config_diags diags = { 0 };
	struct dt_config *cfg = NULL;
	struct dt_chain *chain = NULL;
	int r;

	r = load_config(d->opts, &cfg, &diags);
	print_diags(&diags);
	dt_config_diags_clear(&diags);
	if (r < 0)
		return r;
	r = dt_chain_new(cfg, &chain);
	if (r < 0) {
		dt_config_free(cfg);
		return r;
	}
	dt_chain_publish(&d->policy, chain);
	atomic_fetch_add(&d->policy_gen, 1);
	return 0;
}

int dt_daemon_get_map(struct dt_daemon *d, const char *path, struct dt_symtab **ret_tab, char *err,
		      size_t errlen)
{
	struct dt_map_ref *m;
	int r = 0;

	pthread_mutex_lock(&d->maps_lock);
	for (m = d->maps; m; m = m->next)
		if (m->path && !strcmp(m->path, path))
			break;
	if (!m) {
		m = calloc(1, sizeof(*m));
		if (!m || !(m->path = strdup(path))) {
			free(m);
			r = -ENOMEM;
			goto out;
		}
		r = dt_symtab_load(path, &m->tab, err, errlen);
		if (r < 0) {
			free(m->path);
			free(m);
			goto out;
		}
		m->next = d->maps;
		d->maps = m;
	}
	m->refs++;
	*ret_tab = m->tab;
out:
	pthread_mutex_unlock(&d->maps_lock);
	return r;
}

void dt_daemon_put_map(struct dt_daemon *d, struct dt_symtab *tab)
{
	struct dt_map_ref **pp, *m;

	pthread_mutex_lock(&d->maps_lock);
	for (pp = &d->maps; (m = *pp); pp = &m->next)
		if (m->tab == tab)
			break;
	if (m && --m->refs == 0) {
		*pp = m->next;
		dt_symtab_free(m->tab);
		free(m->path);
		free(m->banner);
		free(m);
	}
	pthread_mutex_unlock(&d->maps_lock);
}

struct dt_symtab *dt_daemon_kallsyms_find(struct dt_daemon *d, struct dt_hv_dom *dom,
					  const struct dt_regs *regs)
{
	struct dt_symtab *tab = NULL;
	struct dt_map_ref *m;

	/* reads guest memory under the lock: a few bytes per cached build */
	pthread_mutex_lock(&d->maps_lock);
	for (m = d->maps; m && !tab; m = m->next) {
		if (m->banner && dt_kallsyms_same_build(d->ops, dom, 0, regs, m->tab, m->banner)) {
			m->refs++;
			tab = m->tab;
		}
	}
	pthread_mutex_unlock(&d->maps_lock);
	return tab;
}

int dt_daemon_kallsyms_add(struct dt_daemon *d, struct dt_symtab *tab, const char *banner,
			   struct dt_symtab **ret_tab)
{
	struct dt_map_ref **pp, *m, *nm;
	unsigned cached = 0;

	nm = calloc(1, sizeof(*nm));
	if (!nm || !(nm->banner = strdup(banner))) {
		free(nm);
		dt_symtab_free(tab);
		return -ENOMEM;
	}
	pthread_mutex_lock(&d->maps_lock);
	for (m = d->maps; m; m = m->next)
		if (m->banner && !strcmp(m->banner, banner))
			break;
	if (m) {
		m->refs++;
		*ret_tab = m->tab;
		pthread_mutex_unlock(&d->maps_lock);
		dt_symtab_free(tab);
		free(nm->banner);
		free(nm);
		return 0;
	}
	/* bounded: drop unused builds (the cache's reference only) beyond the limit */
	for (pp = &d->maps; (m = *pp);) {
		if (m->banner && ++cached >= DT_KALLSYMS_CACHE_MAX && m->refs == 1) {
			*pp = m->next;
			dt_symtab_free(m->tab);
			free(m->banner);
			free(m);
			continue;
		}
		pp = &m->next;
	}
	nm->tab = tab;
	nm->refs = 2; /* the cache's and the caller's */
	nm->next = d->maps;
	d->maps = nm;
	*ret_tab = tab;
	pthread_mutex_unlock(&d->maps_lock);
	return 0;
}

/* At stop, every worker gone: the cache's own references. */
static void kallsyms_cache_clear(struct dt_daemon *d)
{
	struct dt_map_ref **pp, *m;

	pthread_mutex_lock(&d->maps_lock);
	for (pp = &d->maps; (m = *pp);) {
		if (m->banner && --m->refs == 0) {
			*pp = m->next;
			dt_symtab_free(m->tab);
			free(m->banner);
			free(m);
			continue;
		}
		pp = &m->next;
	}
	pthread_mutex_unlock(&d->maps_lock);
}

static void add_counters(struct dt_trap_totals *t, const struct dt_trap_counters *c)
{
	t->traps += atomic_load_explicit(&c->traps, memory_order_relaxed);
	t->calls += atomic_load_explicit(&c->calls, memory_order_relaxed);
	t->returns += atomic_load_explicit(&c->returns, memory_order_relaxed);
	t->helpers += atomic_load_explicit(&c->helpers, memory_order_relaxed);
	t->unpaired += atomic_load_explicit(&c->unpaired, memory_order_relaxed);
	t->matches += atomic_load_explicit(&c->matches, memory_order_relaxed);
	t->aborts += atomic_load_explicit(&c->aborts, memory_order_relaxed);
	t->not_ours += atomic_load_explicit(&c->not_ours, memory_order_relaxed);
	t->regex_errors += atomic_load_explicit(&c->regex_errors, memory_order_relaxed);
	t->undecided += atomic_load_explicit(&c->undecided, memory_order_relaxed);
	t->errors += atomic_load_explicit(&c->errors, memory_order_relaxed);
	t->hypercalls += atomic_load_explicit(&c->hypercalls, memory_order_relaxed);
	t->maps += atomic_load_explicit(&c->maps, memory_order_relaxed);
	t->map_hits += atomic_load_explicit(&c->map_hits, memory_order_relaxed);
	t->pages += atomic_load_explicit(&c->pages, memory_order_relaxed);
	t->walks += atomic_load_explicit(&c->walks, memory_order_relaxed);
	t->dmap_reads += atomic_load_explicit(&c->dmap_reads, memory_order_relaxed);
	t->dmap_mismatches += atomic_load_explicit(&c->dmap_mismatches, memory_order_relaxed);
	dt_lat_merge(&t->handling, &c->handling);
}

void dt_daemon_count_worker(struct dt_daemon *d, struct dt_worker *w)
{
	pthread_mutex_lock(&d->counters_lock);
	w->counted = d->counted;
	d->counted = w;
	w->is_counted = true;
	pthread_mutex_unlock(&d->counters_lock);
}

void dt_daemon_uncount_worker(struct dt_daemon *d, struct dt_worker *w)
{
	struct dt_worker **pp;

	pthread_mutex_lock(&d->counters_lock);
	for (pp = &d->counted; w->is_counted && *pp; pp = &(*pp)->counted)
		if (*pp == w) {
			*pp = w->counted;
			add_counters(&d->retired, &w->ctx.counters);
			w->is_counted = false;
			break;
		}
	pthread_mutex_unlock(&d->counters_lock);
}

void dt_daemon_totals(struct dt_daemon *d, struct dt_trap_totals *ret)
{
	struct dt_worker *w;

	pthread_mutex_lock(&d->counters_lock);
	*ret = d->retired;
	for (w = d->counted; w; w = w->counted)
		add_counters(ret, &w->ctx.counters);
	pthread_mutex_unlock(&d->counters_lock);
}

size_t dt_daemon_work_text(const struct dt_trap_totals *t, char *buf, size_t len)
{
	double n = (double)t->traps;
	int w;

	if (!t->traps || !len) {
		if (len)
			buf[0] = '\0';
		return 0;
	}
	w = snprintf(buf, len, "per hit: %.1f hypercalls, %.2f maps (%.1f map hits), %.1f pages, "
		     "%.1f walks, %.1f direct-map reads",
		     (double)t->hypercalls / n, (double)t->maps / n, (double)t->map_hits / n,
		     (double)t->pages / n, (double)t->walks / n, (double)t->dmap_reads / n);
	if (w >= 0 && (size_t)w < len && t->dmap_mismatches) {
		int m = snprintf(buf + w, len - (size_t)w, "; %llu direct-map mismatches",
				 (unsigned long long)t->dmap_mismatches);

		w = m < 0 ? w : w + m;
	}
	if (w >= 0 && (size_t)w >= len)
		w = (int)len - 1; /* truncated: the length written */
	return w < 0 ? 0 : (size_t)w;
}

static void print_stats(struct dt_daemon *d)
{
	static struct dt_trap_totals t; /* main thread only; too big for the stack's taste */
	const struct dt_lathist *hl = &t.handling;
	struct dt_report_stats rs;
	char handling[128] = "", lost[512] = "", why[480], work[160] = "";
	struct rusage ru = { 0 };

	dt_daemon_totals(d, &t);
	/* read with the counters, so that a script divides the two at the same instant */
	(void)getrusage(RUSAGE_SELF, &ru);
	dt_report_stats(d->reporter, &rs);
	if (dt_report_losses_text(d->reporter, why, sizeof(why)))
		snprintf(lost, sizeof(lost), " [%s]", why);
	if (dt_daemon_work_text(&t, work + 2, sizeof(work) - 2))
		memcpy(work, "; ", 2);
	if (dt_lat_count(hl))
		snprintf(handling, sizeof(handling),
			 "; handling a trap p50 %.1f us, p99 %.1f us, max %.1f us",
			 (double)dt_lat_quantile(hl, 0.5) / 1000.0,
			 (double)dt_lat_quantile(hl, 0.99) / 1000.0,
			 (double)__atomic_load_n(&hl->max_ns, __ATOMIC_RELAXED) / 1000.0);
	dt_info("stats: symbols: %lu VMs from a System.map, %lu from their kernel's kallsyms "
		"(%lu tables decoded)", (unsigned long)atomic_load(&d->stats.syms_map),
		(unsigned long)atomic_load(&d->stats.syms_kallsyms),
		(unsigned long)atomic_load(&d->stats.kallsyms_decoded));
	/* the main line last: scripts read the last stats line */
	dt_info("stats: traps %lu, calls %lu, returns %lu, matches %lu, aborts %lu, not ours %lu, "
		"undecodable %lu, regex errors %lu, undecided aborts %lu, events %lu, lost %lu%s, "
		"a3 sent %lu pending %lu, cpu %ld.%06ld s user + %ld.%06ld s system%s%s",
		(unsigned long)t.traps, (unsigned long)t.calls, (unsigned long)t.returns,
		(unsigned long)t.matches, (unsigned long)t.aborts, (unsigned long)t.not_ours,
		(unsigned long)t.errors, (unsigned long)t.regex_errors, (unsigned long)t.undecided,
		(unsigned long)rs.q.enqueued, (unsigned long)rs.lost_total, lost,
		(unsigned long)rs.a3_sent, (unsigned long)rs.a3_pending, (long)ru.ru_utime.tv_sec,
		(long)ru.ru_utime.tv_usec, (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec, work,
		handling);
}

static int reporter_open(struct dt_daemon *d)
{
	const struct dt_options *o = d->opts;
	struct dt_report_opts ro;
	int fd, r;

	dt_report_opts_init(&ro);
	ro.max_bytes = o->queue_bytes;
	ro.wait_when_full = o->lossless;
	ro.log = o->format == DT_FORMAT_JSON ? DT_REPORT_LOG_JSON
		 : o->format == DT_FORMAT_NONE ? DT_REPORT_LOG_OFF
					       : DT_REPORT_LOG_TEXT;
	if (o->log_file) {
		/* checked here for the message; the sink opens it (and reopens on HUP/USR2) */
		fd = open(o->log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (fd < 0) {
			dt_err("--log %s: %s", o->log_file, strerror(errno));
			return -errno;
		}
		close(fd);
		ro.log_path = o->log_file;
	}
	ro.log_fd = STDOUT_FILENO;
	ro.log_journal = DT_JOURNALD_SOCKET; /* used only if stdout is the journal's stream */
	ro.lookup = dt_catalog_get;
	ro.report_file_path = o->report_file;
	if (o->a3) {
		ro.a3 = o->a3_body == DT_A3_JSON  ? DT_REPORT_A3_POST_JSON
			: o->a3_body == DT_A3_GET ? DT_REPORT_A3_GET
						  : DT_REPORT_A3_POST;
		ro.a3_server = o->a3_server;
		ro.a3_url = o->a3_url;
		ro.a3_ca_file = o->a3_ca;
		ro.a3_batch_max = o->a3_batch;
		ro.a3_delay_ms = o->a3_delay_ms;
		ro.a3_max_bytes = o->a3_backlog_bytes;
	}
	ro.syslog_target = o->syslog;
	ro.syslog_facility = o->syslog_facility;
	ro.syslog_tag = o->syslog_tag;
	ro.syslog_json = o->syslog_json;
	ro.count_events = o->metrics != NULL;
	r = dt_report_new(&ro, &d->reporter);
	if (r == 0)
		r = dt_report_start(d->reporter);
	if (r == 0)
		r = dt_report_producer_new(d->reporter, 0, "domtrace", &d->notices);
	if (r < 0)
		dt_err("cannot start the reporter: %s", strerror(-r));
	return r;
}

int dt_daemon_signal_fd(void)
{
	static int fd = -1;
	sigset_t set;

	if (fd >= 0)
		return fd;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	/* blocked before any thread starts, so every thread inherits the mask */
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return fd;
}

static uint64_t dt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int arm_timer(double seconds, bool periodic)
{
	struct itimerspec its = { 0 };
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);

	if (fd < 0)
		return -1;
	its.it_value.tv_sec = (time_t)seconds;
	its.it_value.tv_nsec = (long)((seconds - (double)(time_t)seconds) * 1e9);
	if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
		its.it_value.tv_nsec = 1;
	if (periodic)
		its.it_interval = its.it_value;
	timerfd_settime(fd, 0, &its, NULL);
	return fd;
}

/* The main thread's loop: signals, --duration, --stats. Returns when it is time to stop. */
void dt_daemon_run(struct dt_daemon *d, int sfd, bool (*done)(void *arg), void *arg)
{
	const struct dt_options *o = d->opts;
	int tfd = o->duration > 0 ? arm_timer(o->duration, false) : -1;
	int stfd = o->stats_interval ? arm_timer(o->stats_interval, true) : -1;
	struct dt_notify sd; /* systemd, when it started us (engine/notify.h) */
	struct pollfd pfd[4] = {
		{ .fd = sfd, .events = POLLIN },
		{ .fd = tfd, .events = POLLIN },
		{ .fd = stfd, .events = POLLIN },
		{ .fd = -1, .events = POLLIN },
	};
	struct signalfd_siginfo si;
	uint64_t ticks;

	(void)dt_notify_init(&sd);
	pfd[3].fd = sd.timer_fd;
	for (;;) {
		if (done && done(arg)) {
			dt_info("finished");
			break;
		}
		if (poll(pfd, 4, done ? 200 : -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents & POLLIN) {
			dt_info("--duration %.3g s reached", o->duration);
			break;
		}
		if ((pfd[2].revents & POLLIN) && read(stfd, &ticks, sizeof(ticks)) > 0)
			print_stats(d);
		if (pfd[3].revents & POLLIN)
			dt_notify_tick(&sd, d);
		if (!(pfd[0].revents & POLLIN) || read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM) {
			dt_info("%s: detaching from every VM", strsignal((int)si.ssi_signo));
			break;
		}
		if (si.ssi_signo == SIGUSR1) {
			dt_daemon_set_action(d, !atomic_load(&d->action_on));
		} else {
			dt_notify_reloading(&sd);
			(void)dt_daemon_reload(d);
			dt_notify_reloaded(&sd, d);
		}
	}
	dt_notify_stopping(&sd);
	dt_notify_close(&sd);
	if (tfd >= 0)
		close(tfd);
	if (stfd >= 0)
		close(stfd);
}

int dt_daemon_start(const struct dt_options *opts, const struct dt_hv_ops *ops, struct dt_hv *hv,
		    struct dt_daemon **ret_d)
{
	struct dt_daemon *d;
	struct dt_vm_info *vms = NULL;
	size_t n = 0, i;
	int r;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->opts = opts;
	d->ops = ops;
	d->hv = hv;
	d->stop_fd = -1;
	pthread_mutex_init(&d->vms_lock, NULL);
	pthread_mutex_init(&d->maps_lock, NULL);
	pthread_mutex_init(&d->kallsyms_lock, NULL);
	pthread_mutex_init(&d->counters_lock, NULL);
	atomic_store(&d->action_on, true);
	rcu_register_thread();
	r = publish_config(d);
	if (r < 0) {
		dt_err("no valid config: not starting");
		goto fail;
	}
	r = reporter_open(d);
	if (r < 0)
		goto fail;
	if (opts->metrics && (r = dt_metrics_start(d, opts->metrics, &d->metrics)) < 0)
		goto fail;
	r = dt_watcher_start(d);
	if (r < 0) {
		dt_err("cannot start the watcher: %s", strerror(-r));
		goto fail;
	}
	r = ops->list_vms(d->hv, &vms, &n);
	if (r < 0)
		dt_err("cannot list VMs: %s", strerror(-r));
	for (i = 0; i < n; i++)
		if (dt_watcher_attach_vm(d, &vms[i]) > 0)
			d->initial_workers++;
	free(vms);
	dt_info("domtrace %s: %zu VMs found on %s", DT_VERSION, n, ops->name);
	*ret_d = d;
	return 0;
fail:
	dt_daemon_stop(d);
	return r;
}

/* A notice event of domtrace itself (vm "domtrace"), to the sinks that take them. */
static void daemon_notice(struct dt_daemon *d, const char *msg)
{
	struct dt_event *ev;
	struct timespec ts;

	if (!d->notices || dt_event_new(DT_EV_NOTICE, strlen(msg) + 1, &ev) < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	ev->ts_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	snprintf(ev->vm, sizeof(ev->vm), "domtrace");
	ev->msg = dt_event_strdup(ev, msg, strlen(msg));
	(void)dt_report_submit(d->notices, ev);
}

int dt_daemon_reload(struct dt_daemon *d)
{
	dt_info("reloading the config%s%s", d->opts->config ? " " : "",
		d->opts->config ? d->opts->config : "");
	if (d->reporter)
		dt_report_reopen(d->reporter); /* logrotate's postrotate signals us */
	if (publish_config(d) < 0) {
		dt_err("config not reloaded: the running one stays in force");
		daemon_notice(d, "config not reloaded: the running one stays in force");
		return -EINVAL;
	}
	dt_watcher_apply_policy(d);
	dt_info("config reloaded");
	daemon_notice(d, "config reloaded");
	return 0;
}

void dt_daemon_set_action(struct dt_daemon *d, bool on)
{
	atomic_store(&d->action_on, on);
	/* the ancestor's words */
	dt_info("Resetting global filtering to %d (%s).", on ? 1 : 0,
		on ? "abort filters apply" : "abort filters only report would-abort");
}

bool dt_daemon_wait_attached(struct dt_daemon *d, unsigned n, int timeout_ms)
{
	struct timespec nap = { 0, 5000000 };
	int waited;

	for (waited = 0; waited <= timeout_ms; waited += 5) {
		if (atomic_load(&d->stats.attached) + atomic_load(&d->stats.refused) >= n)
			return true;
		nanosleep(&nap, NULL);
	}
	return false;
}

struct dt_hv *dt_daemon_hv(struct dt_daemon *d)
{
	return d->hv;
}

/* Did a SIGINT/SIGTERM arrive on sfd (other signals are dropped while stopping)? */
static bool stop_signal_again(int sfd)
{
	struct signalfd_siginfo si;

	while (sfd >= 0 && read(sfd, &si, sizeof(si)) == sizeof(si))
		if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM) {
			dt_info("%s again: not waiting for the sinks", strsignal((int)si.ssi_signo));
			return true;
		}
	return false;
}

/*
 * Give the reporter its bounded flush (--flush-timeout), watching sfd: a second
 * SIGINT/SIGTERM cuts it short. Past the limit, blocked writes are cut; a reporter
 * that still does not come back is left behind (the process exits anyway).
 */
static void flush_reporter(struct dt_daemon *d, int sfd)
{
	unsigned flush_ms = d->opts->flush_ms;
	uint64_t end = dt_now_ms() + flush_ms + 250, cut_end = 0;
	int r;

	dt_report_stop_begin(d->reporter, flush_ms);
	for (;;) {
		r = dt_report_stop_wait(d->reporter, 50);
		if (r != -EINPROGRESS)
			break;
		if (!cut_end && (stop_signal_again(sfd) || dt_now_ms() >= end)) {
			dt_report_stop_now(d->reporter);
			cut_end = dt_now_ms() + STOP_CUT_MS;
		}
		if (cut_end && dt_now_ms() >= cut_end) {
			dt_warn("the reporter is stuck in a write: exiting without it");
			break;
		}
	}
	if (r == -ETIMEDOUT || r == -EINPROGRESS)
		dt_warn("not every event could be delivered within --flush-timeout %.3g s",
			flush_ms / 1000.0);
}

/* Guests before records: detach every VM, then flush the sinks for a bounded time. */
static void stop_daemon(struct dt_daemon *d, int sfd)
{
	atomic_store(&d->stopping, true);
	if (d->reporter)
		dt_report_quiesce(d->reporter); /* --lossless workers stop waiting for room */
	dt_watcher_stop(d);
	dt_watcher_stop_workers(d); /* each restores its VM's bytes */
	dt_report_producer_free(d->notices);
	d->notices = NULL;
	if (d->reporter)
		flush_reporter(d, sfd);
}

/* The summary at exit: every event made, delivered or counted lost by sink and reason.
 * Returns whether anything was lost. */
static bool summarize(struct dt_daemon *d)
{
	struct dt_report_stats rs;
	char why[1024];
	uint64_t made;

	if (!d->reporter)
		return false;
	dt_report_stats(d->reporter, &rs);
	made = rs.q.enqueued - rs.q.records + rs.q.lost;
	if (!dt_report_losses_text(d->reporter, why, sizeof(why))) {
		dt_info("events: %lu made, none lost", (unsigned long)made);
		return false;
	}
	dt_warn("events: %lu made, %lu lost: %s", (unsigned long)made,
		(unsigned long)rs.lost_total, why);
	return true;
}

static void free_daemon(struct dt_daemon *d)
{
	dt_metrics_stop(d->metrics); /* it reads the reporter and the workers' list */
	dt_report_free(d->reporter);
	dt_chain_slot_clear(&d->policy);
	rcu_unregister_thread();
	kallsyms_cache_clear(d);
	pthread_mutex_destroy(&d->vms_lock);
	pthread_mutex_destroy(&d->maps_lock);
	pthread_mutex_destroy(&d->kallsyms_lock);
	pthread_mutex_destroy(&d->counters_lock);
	free(d);
}

void dt_daemon_stop(struct dt_daemon *d)
{
	dt_daemon_stop_report(d, NULL, NULL, NULL, 0);
}

void dt_daemon_stop_report(struct dt_daemon *d, struct dt_trap_totals *ret_t,
			   struct dt_report_stats *ret_st, char *losses, size_t len)
{
	if (!d)
		return;
	stop_daemon(d, -1);
	if (ret_t)
		dt_daemon_totals(d, ret_t); /* every worker has ended: its counts are final */
	if (ret_st && d->reporter)
		dt_report_stats(d->reporter, ret_st);
	if (losses && d->reporter)
		dt_report_losses_text(d->reporter, losses, len);
	free_daemon(d);
}

int dt_daemon_main(const struct dt_options *opts, const struct dt_hv_ops *ops, struct dt_hv *hv,
		   int (*after_start)(struct dt_daemon *d, void *arg), bool (*done)(void *arg), void *arg)
{
	struct dt_daemon *d = NULL;
	bool lost = false;
	int sfd, r;

	sfd = dt_daemon_signal_fd();
	if (sfd < 0) {
		dt_err("signalfd: %s", strerror(errno));
		return 1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		dt_err("libcurl initialisation failed");
		close(sfd);
		return 1;
	}
	r = dt_daemon_start(opts, ops, hv, &d);
	if (r == 0) {
		dt_info("%s", opts->duration > 0 ? "running for --duration" : "SIGINT/SIGTERM to stop");
		r = after_start ? after_start(d, arg) : 0;
		if (r == 0)
			dt_daemon_run(d, sfd, done, arg);
		stop_daemon(d, sfd);
		if (opts->stats_interval)
			print_stats(d); /* after the last A3 flush */
		lost = summarize(d);
		free_daemon(d);
	}
	curl_global_cleanup();
	if (r == 0 && lost)
		return EXIT_LOST;
	return r == 0 ? 0 : r == -EINVAL ? EXIT_BAD_CONFIG : 1;
}
