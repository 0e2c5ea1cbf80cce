// SPDX-License-Identifier: GPL-2.0-only
/* A VM's worker thread: attach, trap loop, re-plan, detach (see worker.h for the laws). */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <urcu.h>

#include "domtrace/config.h"
#include "domtrace/filter.h"
#include "domtrace/log.h"
#include "domtrace/report.h"
#include "domtrace/daemon.h"
#include "domtrace/journal.h"
#include "guest/kallsyms.h"
#include "trap/hit.h"
#include "worker.h"

/* The armed-probes gauge (metrics): after every change of the probe set. */
static void count_armed(struct dt_worker *w)
{
	size_t i, n = 0;

	for (i = 0; w->ctx.probes && i < dt_probe_table_capacity(w->ctx.probes); i++) {
		const struct dt_probe *p = dt_probe_table_slot(w->ctx.probes, i);

		n += p && p->armed;
	}
	atomic_store_explicit(&w->ctx.counters.probes_armed, n, memory_order_relaxed);
}

/* Make the probe set match the policy (domain paused by the caller). */
static int plan(struct dt_worker *w)
{
	int r;

	w->env.map = w->map;
	r = dt_plan_probes(&w->ctx, &w->env);
	count_armed(w);
	return r;
}

static int pause_dom(struct dt_worker *w)
{
	int r = dt_vmctx_pause(&w->ctx);

	if (r == 0)
		w->paused++;
	return r;
}

static void unpause_dom(struct dt_worker *w)
{
	while (w->paused) {
		if (dt_vmctx_unpause(&w->ctx) < 0)
			break;
		w->paused--;
	}
}

static bool wait_or_stop(struct dt_worker *w, int ms);

/*
 * A test hook (the Xen tier's kill -9 while paused, check_guard): after arming at attach,
 * keep the domain paused for DOMTRACE_TEST_HOLD_PAUSED_MS, as if arming took that long. A
 * stop request ends it early. Never set in production; it says so loudly when it is.
 */
static void test_hold_paused(struct dt_worker *w)
{
	const char *v = getenv("DOMTRACE_TEST_HOLD_PAUSED_MS");
	long ms = v ? strtol(v, NULL, 10) : 0;

	if (ms <= 0)
		return;
	if (ms > 600000)
		ms = 600000;
	dt_warn("VM %s: test hook: held paused with its breakpoints armed for %ld ms "
		"(DOMTRACE_TEST_HOLD_PAUSED_MS)", w->vm.name, ms);
	(void)wait_or_stop(w, (int)ms);
}

/* Try one map: load (shared) and verify it against the running kernel. */
static int try_map(struct dt_worker *w, const char *path, char *err, size_t errlen)
{
	struct dt_guest_params gp = { .vm_name = w->vm.name, .vcpu = 0 };
	int r;

	r = dt_daemon_get_map(w->d, path, &w->map, err, errlen);
	if (r < 0)
		return r;
	gp.symtab = w->map;
	r = dt_guest_open(w->ctx.ops, w->ctx.dom, &gp, &w->ctx.guest, err, errlen);
	if (r < 0) {
		dt_daemon_put_map(w->d, w->map);
		w->map = NULL;
		return r;
	}
	snprintf(w->map_path, sizeof(w->map_path), "%s", path);
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * A directory of maps named System.map-<release>: the guest's release is only known
 * once a map fits it, so each map is tried (in name order) until one is verified.
 */
static int try_map_dir(struct dt_worker *w, const char *dir, char *err, size_t errlen)
{
	char path[sizeof(w->map_path)], *names[256];
	struct dirent *de;
	size_t n = 0, i;
	DIR *dh;
	int r = -ENOENT;

	dh = opendir(dir);
	if (!dh) {
		snprintf(err, errlen, "VM %s: map directory %s: %s", w->vm.name, dir, strerror(errno));
		return -errno;
	}
	while ((de = readdir(dh)) && n < 256)
		if (!strncmp(de->d_name, "System.map-", 11) && (names[n] = strdup(de->d_name)))
			n++;
	closedir(dh);
	qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		if (r < 0 && r != -EAGAIN) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			r = try_map(w, path, err, errlen);
			dt_debug("VM %s: %s: %s", w->vm.name, path, r == 0 ? "fits" : err);
		}
		free(names[i]);
	}
	if (r == -EAGAIN)
		return r; /* the kernel is not up: no map could be judged */
	if (r < 0 && n == 0)
		snprintf(err, errlen, "VM %s: no System.map-* file in %s", w->vm.name, dir);
	else if (r < 0)
		snprintf(err, errlen, "VM %s: none of the %zu maps in %s fits its kernel", w->vm.name, n,
			 dir);
	return r;
}

/*
 * This VM's kernel build's table: cached, or decoded now and cached (under kallsyms_lock:
 * N guests on K builds decode K tables). regs: vCPU 0's registers (NULL: read them, the
 * domain paused). *ret_decoded: this call decoded it.
 */
static int decode_kallsyms(struct dt_worker *w, const struct dt_regs *regs,
			   struct dt_symtab **ret_tab, bool *ret_decoded, char *err, size_t errlen)
{
	struct dt_kallsyms_info info;
	struct dt_symtab *tab;
	int r = 0;

	*ret_decoded = false;
	pthread_mutex_lock(&w->d->kallsyms_lock);
	tab = dt_daemon_kallsyms_find(w->d, w->ctx.dom, regs);
	if (!tab) {
		r = dt_kallsyms_from_regs(w->ctx.ops, w->ctx.dom, regs, w->vm.name, &tab, &info,
					  err, errlen);
		if (r == 0)
			r = dt_daemon_kallsyms_add(w->d, tab, info.banner, &tab);
		if (r == 0) {
			*ret_decoded = true;
			atomic_fetch_add(&w->d->stats.kallsyms_decoded, 1);
		} else if (r == -ENOMEM) {
			snprintf(err, errlen, "VM %s: out of memory", w->vm.name);
		}
	}
	pthread_mutex_unlock(&w->d->kallsyms_lock);
	if (r < 0)
		return r;
	if (*ret_decoded)
		dt_info("VM %s: %u symbols decoded from its kernel's kallsyms at 0x%llx (%s, "
			"%llu bytes read): %s", w->vm.name, info.num_syms,
			(unsigned long long)info.token_table, dt_kallsyms_layout_name(&info),
			(unsigned long long)info.scanned, info.banner);
	*ret_tab = tab;
	return 0;
}

/*
 * The kernel's own kallsyms: the table of this build if another VM decoded it already,
 * else decoded now (under kallsyms_lock: N guests on K builds decode K tables). Then it
 * is checked against the running kernel exactly as a map is.
 */
static int try_kallsyms(struct dt_worker *w, char *err, size_t errlen)
{
	struct dt_guest_params gp = { .vm_name = w->vm.name, .vcpu = 0 };
	struct dt_symtab *tab;
	bool decoded = false;
	int r = 0;

	/* most often cached (decode_early): no wait on another VM's decode while paused */
	tab = dt_daemon_kallsyms_find(w->d, w->ctx.dom, NULL);
	if (!tab)
		r = decode_kallsyms(w, NULL, &tab, &decoded, err, errlen);
	if (r < 0)
		return r;
	decoded |= w->decoded_early && tab == w->early_tab;
	w->map = tab;
	gp.symtab = tab;
	r = dt_guest_open(w->ctx.ops, w->ctx.dom, &gp, &w->ctx.guest, err, errlen);
	if (r < 0) {
		dt_daemon_put_map(w->d, w->map);
		w->map = NULL;
		return r;
	}
	snprintf(w->map_path, sizeof(w->map_path), "%s (%s)", dt_symtab_label(tab),
		 decoded ? "decoded" : "shared with another VM of this build");
	w->syms_kallsyms = true;
	return 0;
}

/*
 * Choose the System.map: the config's SystemMap or SystemMapDir for this VM, else -m,
 * else --system-map-dir. A map that does not fit is refused before anything is written.
 * *ret_pinned: one file was named for this VM (SystemMap, -m); *ret_dir: a directory.
 */
static int choose_map(struct dt_worker *w, char *err, size_t errlen, bool *ret_pinned,
		      bool *ret_dir)
{
	const struct dt_options *o = w->d->opts;
	char path[sizeof(w->map_path)];
	const struct dt_config *cfg;
	size_t len;
	int r, rd = -ENOENT;

	dt_chain_read_lock();
	cfg = dt_chain_config(dt_chain_current(&w->d->policy));
	r = dt_config_system_map(cfg, w->vm.name, NULL, path, sizeof(path));
	if (r == -EINVAL) /* a SystemMapDir applies: find its directory */
		rd = dt_config_system_map(cfg, w->vm.name, "x", path, sizeof(path));
	dt_chain_read_unlock();
	*ret_pinned = r == 0 || (rd != 0 && o->sysmap);
	*ret_dir = !*ret_pinned && (rd == 0 || o->sysmap_dir);
	if (r == 0)
		return try_map(w, path, err, errlen);
	if (rd == 0) {
		len = strlen(path);
		if (len > strlen("/System.map-x"))
			path[len - strlen("/System.map-x")] = '\0';
		return try_map_dir(w, path, err, errlen);
	}
	if (o->sysmap)
		return try_map(w, o->sysmap, err, errlen);
	if (o->sysmap_dir)
		return try_map_dir(w, o->sysmap_dir, err, errlen);
	snprintf(err, errlen,
		 "VM %s: no System.map: give -m FILE, --system-map-dir DIR, or SystemMap in the config",
		 w->vm.name);
	return -ENOENT;
}

/*
 * The symbols: a System.map that fits is preferred; when none is given, or none in a map
 * directory fits, the kernel's own kallsyms. A map named for the VM (SystemMap, -m) that
 * does not fit is refused as before: the operator said which kernel runs there, and it
 * does not. Nothing is written to the guest before the symbols are verified.
 */
static int open_guest(struct dt_worker *w, char *err, size_t errlen)
{
	char merr[512], kerr[512];
	bool pinned = false, dir = false;
	int r, rk;

	r = choose_map(w, err, errlen, &pinned, &dir);
	if (r == 0 || r == -EAGAIN || r == -ENODEV || pinned)
		return r;
	snprintf(merr, sizeof(merr), "%s", err);
	rk = try_kallsyms(w, kerr, sizeof(kerr));
	if (rk == 0) {
		if (dir)
			dt_info("%s; using its kernel's own kallsyms", merr);
		return 0;
	}
	if (rk == -EAGAIN || rk == -ENODEV) {
		snprintf(err, errlen, "%s", kerr);
		return rk;
	}
	snprintf(err, errlen, "%.240s; and from its kernel's kallsyms: %.230s", merr, kerr);
	return r;
}

/* Is a System.map named for this VM, or a map directory given? (choose_map's sources) */
static bool maps_apply(struct dt_worker *w)
{
	const struct dt_options *o = w->d->opts;
	const struct dt_config *cfg;
	char path[sizeof(w->map_path)];
	int r;

	if (o->sysmap || o->sysmap_dir)
		return true;
	dt_chain_read_lock();
	cfg = dt_chain_config(dt_chain_current(&w->d->policy));
	r = dt_config_system_map(cfg, w->vm.name, NULL, path, sizeof(path));
	dt_chain_read_unlock();
	return r != -ENOENT;
}

/*
 * Decode the guest's kallsyms before the domain is paused to be armed: the decode reads
 * ~10 MB (seconds under an emulator, and other VMs' decodes are waited for), and the Xen
 * tier's matrix run of 2026-12-07 held m612 paused 37 s and m510 17 s in attach. Only
 * reading the registers that say where the kernel is needs a pause, a brief one; the
 * tables are the kernel's read-only data. Only where no System.map applies to this VM
 * (one that fits is preferred, and is found paused as before). Nothing is written here;
 * the paused attach finds the table cached and checks it against the kernel as ever.
 * A failure is left for the paused attach to meet and report.
 */
static void decode_early(struct dt_worker *w)
{
	struct dt_symtab *tab = NULL;
	struct dt_regs regs;
	char err[256];
	int r;

	if (maps_apply(w) || pause_dom(w) < 0)
		return;
	r = w->ctx.ops->get_regs(w->ctx.dom, 0, &regs);
	unpause_dom(w);
	if (r < 0)
		return;
	if (decode_kallsyms(w, &regs, &tab, &w->decoded_early, err, sizeof(err)) == 0)
		w->early_tab = tab; /* held: the cache frees a table nobody references */
	else
		w->decoded_early = false;
}

static void drop_early(struct dt_worker *w)
{
	if (w->early_tab)
		dt_daemon_put_map(w->d, w->early_tab);
	w->early_tab = NULL;
	w->decoded_early = false;
}

static int attach(struct dt_worker *w, char *err, size_t errlen)
{
	struct dt_hv_dom *dom = NULL;
	uint64_t thunk;
	int r;

	r = w->ctx.ops->dom_open(w->d->hv, w->vm.domid, &dom);
	dt_vmctx_set_dom(&w->ctx, r < 0 ? NULL : dom);
	if (r < 0) {
		snprintf(err, errlen, "VM %s (dom%u): cannot open: %s", w->vm.name, w->vm.domid,
			 strerror(-r));
		return r;
	}
	decode_early(w);
	r = pause_dom(w);
	if (r < 0) {
		drop_early(w);
		snprintf(err, errlen, "VM %s: cannot pause: %s", w->vm.name, strerror(-r));
		return r;
	}
	r = open_guest(w, err, errlen);
	drop_early(w);
	if (r < 0)
		return r;
	w->ctx.io.cr3 = dt_guest_kernel_cr3(w->ctx.guest);
	w->env.return_thunk = dt_guest_sym_va(w->ctx.guest, "__x86_return_thunk", &thunk) == 0 ? thunk : 0;
	r = w->ctx.ops->trap_insn(w->ctx.dom, &w->ctx.insn);
	if (r < 0) {
		snprintf(err, errlen, "VM %s: backend has no trap instruction: %s", w->vm.name,
			 strerror(-r));
		return r;
	}
	/* Trapping first: a vCPU must never meet our bytes with trapping off. */
	r = w->ctx.ops->set_trapping(w->ctx.dom, true);
	if (r < 0) {
		snprintf(err, errlen, "VM %s: cannot enable trapping: %s", w->vm.name, strerror(-r));
		return r;
	}
	w->trapping = true;
	r = plan(w);
	if (r == -EAGAIN) {
		snprintf(err, errlen, "VM %s: its kernel is still booting (%s)", w->vm.name,
			 w->env.not_ready_why ? w->env.not_ready_why : "probe sites not ready");
		return r;
	}
	if (r < 0) {
		snprintf(err, errlen, "VM %s: arming breakpoints failed: %s", w->vm.name, strerror(-r));
		return r;
	}
	test_hold_paused(w);
	unpause_dom(w);
	return 0;
}

/* Answer every queued trap: the domain is paused, so the ring holds all there are. */
static int drain_traps(struct dt_worker *w)
{
	struct dt_trap t;
	int r;

	for (;;) {
		r = w->ctx.ops->next_trap(w->ctx.dom, &t);
		if (r == -EAGAIN)
			return 0;
		if (r < 0)
			return r;
		r = dt_hit_handle(&w->ctx, &t);
		if (r == -ENODEV)
			return r;
	}
}

/*
 * Leave the guest as it was: restore every byte (paused), answer what is queued,
 * stop trapping, unpause. Runs on every exit path; skips the writes if the domain is
 * gone. Never fails half-way silently: each problem is logged.
 */
static void detach(struct dt_worker *w)
{
	int r;

	if (!w->ctx.dom)
		return;
	dt_debug("VM %s: detaching%s", w->vm.name,
		 w->gone ? " (the domain is gone: nothing to write)"
		 : w->trapping ? ": restoring every breakpoint byte, domain paused"
			       : "");
	if (!w->gone && w->trapping) {
		if (!w->paused && pause_dom(w) == -ENODEV)
			w->gone = true;
		if (!w->gone) {
			r = dt_plan_disarm_all(&w->ctx);
			if (r == -ENODEV)
				w->gone = true;
			else if (r < 0)
				dt_err("VM %s: restoring breakpoints: %s", w->vm.name, strerror(-r));
		}
		if (!w->gone && drain_traps(w) == -ENODEV)
			w->gone = true;
		if (!w->gone && w->ctx.ops->set_trapping(w->ctx.dom, false) < 0)
			dt_warn("VM %s: could not disable trapping", w->vm.name);
		w->trapping = false;
	}
	if (!w->gone)
		unpause_dom(w);
	/* dom_close may pause the domain itself (while it takes the ring down): noted too */
	(void)dt_journal_pause_note(w->d->opts->journal, w->vm.domid, +1);
	w->ctx.ops->dom_close(w->ctx.dom); /* answers anything left, drops our pauses */
	/* every pause is dropped now (or the domain is gone with them) */
	dt_journal_pause_forget(w->d->opts->journal, w->vm.domid);
	if (w->gone)
		dt_plan_forget_journal(&w->ctx); /* nothing left to restore, for us or the guardian */
	dt_hit_flush_inflight(&w->ctx);
	dt_vmctx_set_dom(&w->ctx, NULL);
	/* restored, or the domain is gone with them */
	atomic_store_explicit(&w->ctx.counters.probes_armed, 0, memory_order_relaxed);
	w->paused = 0;
}

static int replan(struct dt_worker *w)
{
	int r;

	r = pause_dom(w);
	if (r < 0)
		return r;
	r = plan(w);
	if (r == -EAGAIN) {
		/* no entry can be probed now (ftrace busy on all of them?): keep what is armed */
		dt_warn("VM %s: new breakpoints not armed: %s; the previous ones stay", w->vm.name,
			w->env.not_ready_why ? w->env.not_ready_why : "probe sites not ready");
		r = 0;
	}
	/* traps at sites just removed were queued before the pause: answer them now */
	if (r >= 0)
		r = drain_traps(w);
	unpause_dom(w);
	return r;
}

static int loop(struct dt_worker *w)
{
	struct pollfd pfd[2] = {
		{ .fd = w->ctx.ops->trap_fd(w->ctx.dom), .events = POLLIN },
		{ .fd = w->ctl_fd, .events = POLLIN },
	};
	struct dt_trap t;
	int r;

	dt_vmctx_mark_work(&w->ctx); /* what attaching cost is not a trap's */
	for (;;) {
		unsigned req = atomic_exchange(&w->requests, 0);

		if (req & DT_WREQ_GONE) {
			w->gone = true;
			return 0;
		}
		if (req & DT_WREQ_STOP)
			return 0;
		if (req & DT_WREQ_REPLAN) {
			r = replan(w);
			if (r < 0)
				return r;
			dt_vmctx_mark_work(&w->ctx); /* a re-plan's work is not a trap's */
		}
		if (poll(pfd, 2, 1000) < 0 && errno != EINTR)
			return -errno;
		if (pfd[1].revents & POLLIN) {
			uint64_t v;

			(void)!read(w->ctl_fd, &v, sizeof(v));
		}
		/* drain a bounded number of traps, then look at requests again; the reporter
		 * is woken once after them, not inside a trap (its vCPU waits meanwhile) */
		dt_report_producer_hold(w->producer);
		r = 0;
		for (int i = 0; i < 256 && r >= 0; i++) {
			uint64_t t0;

			r = w->ctx.ops->next_trap(w->ctx.dom, &t);
			if (r == -EAGAIN) {
				r = 0;
				break;
			}
			if (r < 0)
				break;
			/* two clock readings per trap, none per event: the event's wall-clock
			 * time is derived from t0 (dt_decide_fill, util/clock.h) */
			t0 = dt_clock_mono_ns();
			w->ctx.hit_mono_ns = t0;
			r = dt_hit_handle(&w->ctx, &t);
			/* our own share of a trap's cost: decoding, filters, the answer */
			dt_lat_add(&w->ctx.counters.handling, dt_clock_mono_ns() - t0);
			/* and the hypervisor work it took, from the ring to the answer */
			dt_vmctx_count_work(&w->ctx, NULL);
		}
		w->ctx.hit_mono_ns = 0;
		dt_report_producer_release(w->producer);
		if (r < 0)
			return r;
	}
}

/* Sleep up to ms, waking for a stop request; true if one came. */
static bool wait_or_stop(struct dt_worker *w, int ms)
{
	struct pollfd p = { .fd = w->ctl_fd, .events = POLLIN };
	uint64_t v;

	if (atomic_load(&w->requests) & (DT_WREQ_STOP | DT_WREQ_GONE))
		return true;
	if (poll(&p, 1, ms) > 0)
		(void)!read(w->ctl_fd, &v, sizeof(v));
	return atomic_load(&w->requests) & (DT_WREQ_STOP | DT_WREQ_GONE);
}

/*
 * A VM seen as it is created has no kernel running yet (firmware, early boot): attach
 * is retried, touching nothing, until the kernel is up, the VM goes, we are asked to
 * stop, or DT_BOOT_WAIT_S pass. Any other failure (a map that does not fit) is final.
 */
static int attach_when_booted(struct dt_worker *w, char *err, size_t errlen)
{
	int delay_ms = 500, waited_ms = 0, r;

	for (;;) {
		r = attach(w, err, errlen);
		if (r != -EAGAIN)
			return r;
		detach(w); /* nothing was written: this only drops the pause and the handle */
		dt_guest_close(w->ctx.guest);
		w->ctx.guest = NULL;
		if (w->map)
			dt_daemon_put_map(w->d, w->map);
		w->map = NULL;
		if (waited_ms == 0)
			dt_info("%s; waiting for it to boot", err);
		if (waited_ms >= DT_BOOT_WAIT_S * 1000) {
			snprintf(err + strlen(err), errlen - strlen(err), "; gave up after %d s",
				 DT_BOOT_WAIT_S);
			return -ETIMEDOUT;
		}
		if (wait_or_stop(w, delay_ms))
			return -ECANCELED;
		waited_ms += delay_ms;
		delay_ms = delay_ms < 4000 ? delay_ms * 2 : 5000;
	}
}

/* A notice event (docs/EVENTS.md) for this VM, in its order with its other events. */
static void notice(struct dt_worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void notice(struct dt_worker *w, const char *fmt, ...)
{
	struct dt_event *ev;
	struct timespec ts;
	char msg[512];
	va_list ap;

	if (dt_event_new(DT_EV_NOTICE, 512, &ev) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_REALTIME, &ts);
	ev->ts_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	ev->domid = w->vm.domid;
	snprintf(ev->vm, sizeof(ev->vm), "%s", w->vm.name);
	ev->msg = dt_event_strdup(ev, msg, strlen(msg));
	(void)dt_report_submit(w->producer, ev); /* loss is counted there */
}

static void *worker_main(void *arg)
{
	struct dt_worker *w = arg;
	char err[512] = "", name[16];
	int r;

	rcu_register_thread();
	/* "dt-vm<domid>" in top -H, perf and /proc/<pid>/task/<tid>/comm (the bench reads
	 * its CPU time there) */
	snprintf(name, sizeof(name), "dt-vm%u", (unsigned)w->vm.domid);
	(void)prctl(PR_SET_NAME, name);
	dt_log_set_vm(w->vm.name, w->vm.domid); /* VM=, DOMID= in the journal */
	r = attach_when_booted(w, err, sizeof(err));
	if (r == -ECANCELED) {
		atomic_store(&w->state, DT_WORKER_REFUSED);
		goto out;
	}
	if (r < 0) {
		if (r == -ENODEV)
			w->gone = true;
		dt_err("%s; VM left untouched", err[0] ? err : strerror(-r));
		notice(w, "refused: %s", err[0] ? err : strerror(-r));
		atomic_fetch_add(&w->d->stats.refused, 1);
		atomic_store(&w->state, DT_WORKER_REFUSED);
		detach(w);
		goto out;
	}
	dt_info("VM %s (dom%u): tracing; kernel %s, KASLR offset 0x%llx, symbols %s, offsets %s, "
		"%zu breakpoints", w->vm.name, w->vm.domid, dt_guest_release(w->ctx.guest),
		(unsigned long long)dt_guest_kaslr(w->ctx.guest), w->map_path,
		dt_guest_offsets_source(w->ctx.guest) == DT_OFFSRC_BTF ? "guest BTF" : "profile",
		dt_probe_table_count(w->ctx.probes));
	notice(w, "attached: kernel %s, %zu breakpoints", dt_guest_release(w->ctx.guest),
	       dt_probe_table_count(w->ctx.probes));
	/* after the line: systemd hears READY=1 (engine/notify.c) only once every VM's
	 * attach line is out; running before counted (whoever waits for the count, e.g.
	 * dt_daemon_wait_attached, finds the worker running) */
	atomic_store(&w->state, DT_WORKER_RUNNING);
	atomic_fetch_add(&w->d->stats.attached, 1);
	atomic_fetch_add(w->syms_kallsyms ? &w->d->stats.syms_kallsyms : &w->d->stats.syms_map, 1);
	r = loop(w);
	if (r == -ENODEV)
		w->gone = true;
	else if (r < 0)
		dt_err("VM %s: %s; detaching", w->vm.name, strerror(-r));
	detach(w);
	dt_info("VM %s (dom%u): %s after %llu traps", w->vm.name, w->vm.domid,
		w->gone ? "gone" : "detached, every byte restored", (unsigned long long)w->ctx.hits);
	notice(w, "%s after %llu traps", w->gone ? "detached: the VM is gone" : "detached",
	       (unsigned long long)w->ctx.hits);
	atomic_store(&w->state, DT_WORKER_ENDED);
out:
	rcu_unregister_thread();
	return NULL;
}

static int submit_event(void *producer, struct dt_event *ev)
{
	return dt_report_submit(producer, ev);
}

int dt_worker_start(struct dt_daemon *d, const struct dt_vm_info *vm, struct dt_worker **ret_w)
{
	const struct dt_options *o = d->opts;
	struct dt_vm_policy pol = {
		.quiet = o->quiet,
		.real_parent = o->real_parent,
		.returns = o->returns,
		.sgdt_returns = o->sgdt_returns,
		.report_file = o->report_file != NULL,
		.a3 = o->a3,
		.action_bit = &d->action_on,
	};
	struct dt_worker *w;
	int r;

	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->d = d;
	w->vm = *vm;
	w->ctl_fd = -1;
	r = dt_vmctx_init(&w->ctx, vm->name, vm->domid, d->ops, &pol, &d->policy, o->journal);
	if (r == 0)
		r = dt_chain_reader_new(vm->name, &w->ctx.reader);
	if (r == 0)
		r = dt_report_producer_new(d->reporter, vm->domid, vm->name, &w->producer);
	if (r < 0)
		goto fail;
	w->ctx.out = (struct dt_vm_out){ .submit = submit_event, .ctx = w->producer };
	w->env.code_buf = malloc(DT_FUNC_SCAN_MAX);
	r = -ENOMEM;
	if (!w->env.code_buf)
		goto fail;
	w->ctl_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->ctl_fd < 0) {
		r = -errno;
		goto fail;
	}
	dt_daemon_count_worker(d, w);
	r = -pthread_create(&w->thread, NULL, worker_main, w);
	if (r < 0)
		goto fail;
	w->started = true;
	*ret_w = w;
	return 0;
fail:
	dt_worker_join(w);
	return r;
}

void dt_worker_request(struct dt_worker *w, unsigned req)
{
	uint64_t one = 1;

	atomic_fetch_or(&w->requests, req);
	(void)!write(w->ctl_fd, &one, sizeof(one));
}

static void worker_free(struct dt_worker *w)
{
	if (w->ctl_fd >= 0)
		close(w->ctl_fd);
	dt_report_producer_free(w->producer);
	dt_chain_reader_free(w->ctx.reader);
	dt_vmctx_fini(&w->ctx);
	dt_guest_close(w->ctx.guest);
	if (w->map)
		dt_daemon_put_map(w->d, w->map);
	free(w->env.code_buf);
	free(w);
}

void dt_worker_join(struct dt_worker *w)
{
	if (!w)
		return;
	if (w->started)
		pthread_join(w->thread, NULL);
	dt_daemon_uncount_worker(w->d, w); /* its counts go to the daemon's retired total */
	worker_free(w);
}
