// SPDX-License-Identifier: GPL-2.0-only
/*
 * domtrace: parse the command line, open the hypervisor backend, run the daemon.
 *
 * On the simulated host, domtrace also proves at exit what it promises real guests:
 * every simulated guest's kernel text and data is byte-identical to a snapshot taken
 * before the first breakpoint, no vCPU is paused, and no guest crashed. If not, it
 * says so and exits with status 3.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domtrace/log.h"
#include "engine/daemon.h"
#include "engine/guard/guardian.h"
#include "engine/guard/journal.h"
#include "engine/options.h"
#include "sim/sim.h"
#ifdef DT_HAVE_XEN
#include "xen/dt_xen.h"
#endif

#define EXIT_GUEST_HARMED 3

struct sim_check {
	uint32_t domid;
	struct dt_sim_snapshot *snap;
};

/* Snapshot every simulated VM's kernel before anything is attached. */
static struct sim_check *sim_snapshot_all(const struct dt_hv_ops *ops, struct dt_hv *hv, size_t *ret_n)
{
	struct dt_sim_host *h = dt_sim_host_from(hv);
	struct dt_vm_info *vms = NULL;
	struct sim_check *c;
	size_t n = 0, i, k = 0;

	*ret_n = 0;
	if (ops->list_vms(hv, &vms, &n) < 0)
		return NULL;
	c = calloc(n ? n : 1, sizeof(*c));
	for (i = 0; c && i < n; i++) {
		if (!vms[i].traceable)
			continue;
		c[k].domid = vms[i].domid;
		if (dt_sim_snapshot_take(h, vms[i].domid, &c[k].snap) == 0)
			k++;
	}
	free(vms);
	*ret_n = k;
	return c;
}

static int sim_verify(struct dt_hv *hv, struct sim_check *c, size_t n)
{
	struct dt_sim_host *h = dt_sim_host_from(hv);
	struct dt_sim_crash crash;
	unsigned paused = dt_sim_paused_vcpus(h, 0);
	size_t i, crashes = dt_sim_crashes(h, 0, &crash, 1);
	int bad = 0;

	for (i = 0; i < n; i++) {
		uint64_t where = 0;
		int r = dt_sim_snapshot_compare(h, c[i].snap, &where);

		if (r == -ENODEV || r == -ENOENT)
			continue; /* destroyed while running: nothing left to compare */
		if (r != 0) {
			dt_err("sim: dom%u kernel differs from before tracing (first at 0x%llx)",
			       c[i].domid, (unsigned long long)where);
			bad = 1;
		}
		dt_sim_snapshot_free(c[i].snap);
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
	if (!bad)
		dt_info("sim: %zu guests intact: kernel bytes identical to before tracing, no vCPU "
			"paused, no crash",
			n);
	free(c);
	return bad;
}

/* Remove a directory of plain files we created (no recursion needed). */
static void remove_dir(const char *path)
{
	struct dirent *de;
	DIR *d = opendir(path);

	if (!d)
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			(void)unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	(void)rmdir(path);
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

int main(int argc, char **argv)
{
	struct dt_options o;
	struct dt_sim_params sim;
	const struct dt_hv_ops *ops = &dt_hv_sim;
	const void *params = &sim;
	struct sim_check *checks = NULL;
	struct dt_hv *hv = NULL;
	struct dt_journal *journal = NULL;
	struct dt_guardian *guardian = NULL;
	char simdir[] = "/tmp/domtrace-sim-XXXXXX";
	size_t nchecks = 0;
	int r, status;
#ifdef DT_HAVE_XEN
	struct dt_xen_params xen;
#endif

	/* before any thread exists (the simulated vCPUs are threads too) */
	if (dt_daemon_signal_fd() < 0) {
		perror("domtrace: signalfd");
		return 1;
	}
	r = dt_options_parse(&o, argc, argv);
	if (r != 0)
		return r > 0 ? 0 : 2;
	dt_log_set_level(o.debug >= 2 ? DT_LOG_TRACE : o.debug == 1 ? DT_LOG_DEBUG : DT_LOG_INFO);
	if (o.check_config) {
		status = dt_daemon_check_config(&o);
		dt_options_free(&o);
		return status;
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
		if (o.sim_dir) {
			sim.sysmap_dir = o.sim_dir;
		} else if (mkdtemp(simdir)) {
			sim.sysmap_dir = simdir;
		}
		/* the simulated guests' maps are found by their release, like a map directory */
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
		dt_options_free(&o);
		return 2;
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
			dt_journal_free(journal);
			dt_options_free(&o);
			return 1;
		}
		o.journal = journal;
		dt_debug("guardian pid %d watches over the breakpoints", (int)dt_guardian_pid(guardian));
	}
	r = ops->open(params, &hv);
	if (r < 0) {
		dt_err("cannot open the %s hypervisor: %s%s", ops->name, strerror(-r),
		       ops == &dt_hv_sim ? "" : " (is this a Xen dom0? run as root; or try --sim N)");
		dt_guardian_finish(guardian);
		dt_journal_free(journal);
		if (ops == &dt_hv_sim && !o.sim_dir && sim.sysmap_dir == simdir)
			remove_dir(simdir);
		dt_options_free(&o);
		return 1;
	}
	if (ops == &dt_hv_sim)
		checks = sim_snapshot_all(ops, hv, &nchecks);
	if (ops == &dt_hv_sim && o.sim_scenario) {
		struct scenario_run run = { .o = &o, .hv = hv };

		status = dt_daemon_main(&o, ops, hv, scenario_start, scenario_done, &run);
	} else {
		status = dt_daemon_main(&o, ops, hv, NULL, NULL, NULL);
	}
	if (ops == &dt_hv_sim && sim_verify(hv, checks, nchecks) && status == 0)
		status = EXIT_GUEST_HARMED;
	ops->close(hv);
	if (guardian && dt_guardian_finish(guardian) != 0 && status == 0)
		status = 1; /* it found breakpoints we left, and could not restore them all */
	dt_journal_free(journal);
	if (ops == &dt_hv_sim && !o.sim_dir && sim.sysmap_dir == simdir)
		remove_dir(simdir); /* our own mkdtemp() directory of generated maps */
	dt_options_free(&o);
	return status;
}
