// SPDX-License-Identifier: GPL-2.0-only
/*
 * domtrace: parse the command line, open the hypervisor backend, run the daemon.
 *
 * On the simulated host, domtrace also proves at exit what it promises real guests:
 * every simulated guest's kernel text and data is byte-identical to a snapshot taken
 * before the first breakpoint, no vCPU is paused, and no guest crashed. If not, it
 * says so and exits with status 3.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domtrace/journald.h"
#include "domtrace/log.h"
#include "domtrace/daemon.h"
#include "domtrace/guardian.h"
#include "domtrace/journal.h"
#include "domtrace/hvtrace.h"
#include "domtrace/options.h"
#include "domtrace/sim.h"
#ifdef DT_HAVE_XEN
#include "domtrace/xen.h"
#endif

#define EXIT_GUEST_HARMED 3

/* Every simulated VM's kernel (snapshotted by the sim as each was created, before it
 * was visible: at start, by a scenario, later) against what it is now. */
static int sim_verify(struct dt_hv *hv)
{
	struct dt_sim_host *h = dt_sim_host_from(hv);
	struct dt_sim_kernel_check k;
	struct dt_sim_crash crash;
	unsigned paused = dt_sim_paused_vcpus(h, 0);
	size_t crashes = dt_sim_crashes(h, 0, &crash, 1);
	int bad = 0, r;
	char gone[64] = "";

	r = dt_sim_check_kernels(h, &k);
	if (r < 0) {
		dt_err("sim: cannot compare the guests' kernels: %s", strerror(-r));
		bad = 1;
	} else if (k.differ) {
		dt_err("sim: %u of %u guests' kernels differ from before tracing (dom%u first at "
		       "0x%llx)",
		       k.differ, k.intact + k.differ, k.first_domid, (unsigned long long)k.first_addr);
		bad = 1;
	}
	if (paused) {
		dt_err("sim: %u vCPUs are still paused", paused);
		bad = 1;
	}
	if (crashes) {
		dt_err("sim: %zu guest crashes, the first dom%u vCPU %u at 0x%llx: %s", crashes,
		       crash.domid, crash.vcpu, (unsigned long long)crash.rip, crash.reason);
		bad = 1;
	}
	if (k.destroyed)
		snprintf(gone, sizeof(gone), "; %u destroyed while running, not compared",
			 k.destroyed);
	if (!bad)
		dt_info("sim: %u guests intact: kernel bytes identical to before tracing, no vCPU "
			"paused, no crash%s",
			k.intact, gone);
	return bad;
}

/* --sim-scenario: scripted calls start once the breakpoints are in, and domtrace
 * stops when the script is done (unless --duration says otherwise). */
struct scenario_run {
	const struct dt_options *o;
	struct dt_hv *hv;
};

static int scenario_start(struct dt_daemon *d, void *arg)
{
	struct scenario_run *s = arg;
	char err[512] = "";
	int r;

	if (!dt_daemon_wait_attached(d, d->initial_workers, 30000))
		dt_warn("not every VM attached in 30 s; starting the scenario anyway");
	r = dt_sim_scenario_load(dt_sim_host_from(s->hv), s->o->sim_scenario, err, sizeof(err));
	if (r < 0)
		dt_err("scenario %s", err[0] ? err : strerror(-r));
	return r;
}

static bool scenario_done(void *arg)
{
	struct scenario_run *s = arg;

	return s->o->duration <= 0 && dt_sim_scenario_wait(dt_sim_host_from(s->hv), 0) == 0;
}

/* --sim-dir DIR: the guests' maps go to a fresh DIR/run-XXXXXX of this run, so that
 * runs at the same time never share (or overwrite) one; kept at exit. 0 or -errno. */
static int make_sim_dir(const char *dir, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/run-XXXXXX", dir);

	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	if (!mkdtemp(buf)) {
		buf[0] = '\0';
		return -errno;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct dt_options o;
	struct dt_sim_params sim;
	const struct dt_hv_ops *ops = &dt_hv_sim;
	const struct dt_hv_ops *run_ops; /* ops, or its -x/-ddd tracing wrapper */
	const void *params = &sim;
	struct dt_hv *hv = NULL;
	struct dt_journal *journal = NULL;
	struct dt_guardian *guardian = NULL;
	char simdir[4096] = "";
	int r, status = 1;
#ifdef DT_HAVE_XEN
	struct dt_xen_params xen;
#endif

	/* before any thread exists (the simulated vCPUs are threads too) */
	if (dt_daemon_signal_fd() < 0) {
		perror("domtrace: signalfd");
		return 1;
	}
	/* under systemd: diagnostics as journal entries with fields (before any thread) */
	(void)dt_log_to_journal(DT_JOURNALD_SOCKET);
	r = dt_options_parse(&o, argc, argv);
	if (r != 0)
		return r > 0 ? 0 : 2;
	dt_log_set_level(o.debug >= 2 ? DT_LOG_TRACE : o.debug == 1 ? DT_LOG_DEBUG : DT_LOG_INFO);
	if (o.check_config) {
		status = dt_daemon_check_config(&o);
		goto out;
	}
	if (o.backend == DT_BACKEND_SIM) {
		dt_sim_params_default(&sim);
		sim.n_vms = o.sim_vms;
		sim.vcpus = o.sim_vcpus;
		sim.rate = o.sim_rate;
		sim.seed = o.sim_seed;
		sim.scenario = NULL; /* loaded once attached: scenario_start() */
		sim.trap = o.trap;
		sim.workload = o.sim_scenario == NULL;
		sim.snapshot_vms = true; /* for sim_verify() at exit */
		/* With --sim-dir the guests' maps are written there (in a directory of this
		 * run's own: runs sharing DIR never share files) and found by their release,
		 * like a map directory; without, there are none: the symbols come from each
		 * guest kernel's own kallsyms, as on a host with no System.map. */
		if (o.sim_dir) {
			r = make_sim_dir(o.sim_dir, simdir, sizeof(simdir));
			if (r < 0) {
				dt_err("cannot make a directory for the simulated guests' System.map "
				       "files in %s: %s",
				       o.sim_dir, strerror(-r));
				goto out;
			}
			dt_info("sim: the guests' System.map files are in %s", simdir);
			sim.sysmap_dir = simdir;
		}
		if (!o.sysmap_dir)
			o.sysmap_dir = sim.sysmap_dir;
	} else {
#ifdef DT_HAVE_XEN
		memset(&xen, 0, sizeof(xen));
		xen.flavour = o.trap;
		ops = &dt_hv_xen;
		params = &xen;
#else
		fprintf(stderr, "domtrace: built without the Xen backend; use --sim N\n");
		status = 2;
		goto out;
#endif
	}
	if (ops->recover && !o.no_guardian) {
		/* before any thread: the guardian is a fork of this process */
		r = dt_journal_new(0, &journal);
		if (r == 0)
			r = dt_guardian_start(ops, params, journal, &guardian);
		if (r < 0) {
			dt_err("cannot start the guardian process: %s (--no-guardian runs without "
			       "crash recovery)", strerror(-r));
			goto out;
		}
		o.journal = journal;
		dt_debug("guardian pid %d watches over the breakpoints", (int)dt_guardian_pid(guardian));
	}
	/* after the guardian's fork (it uses the backend as is), before any thread */
	run_ops = dt_hvtrace_flags_for(o.hv_debug, o.debug)
			  ? dt_hvtrace_wrap(ops, dt_hvtrace_flags_for(o.hv_debug, o.debug))
			  : ops;
	r = run_ops->open(params, &hv);
	if (r < 0) {
		dt_err("cannot open the %s hypervisor: %s%s", ops->name, strerror(-r),
		       ops == &dt_hv_sim ? "" : " (is this a Xen dom0? run as root; or try --sim N)");
		goto out;
	}
	if (ops == &dt_hv_sim && o.sim_scenario) {
		struct scenario_run run = { .o = &o, .hv = hv };

		status = dt_daemon_main(&o, run_ops, hv, scenario_start, scenario_done, &run);
	} else {
		status = dt_daemon_main(&o, run_ops, hv, NULL, NULL, NULL);
	}
	if (ops == &dt_hv_sim && sim_verify(hv) && status == 0)
		status = EXIT_GUEST_HARMED;
	run_ops->close(hv);
	if (guardian && dt_guardian_finish(guardian) != 0 && status == 0)
		status = 1; /* it found breakpoints we left, and could not restore them all */
	guardian = NULL;
out:
	(void)dt_guardian_finish(guardian);
	dt_journal_free(journal);
	dt_options_free(&o);
	return status;
}
