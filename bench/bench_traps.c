// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench_traps: breakpoint hits per second that domtrace handles on the simulated host.
 *
 *   bench_traps [--vms N]... [--calls N] [--procs N] [--vcpus N] [--no-returns]
 *
 * For each VM count, every VM runs --procs scripted processes making --calls getpid()
 * each, as fast as the simulated vCPUs go: once with nothing attached, once with
 * domtrace tracing getpid in-process (log off; events go through the reporter's queue
 * and are dropped there). It prints the guests' syscall rate both ways and domtrace's
 * traps per second, and the trap latency: how long each trapping vCPU stood still, from
 * posting its trap to running again (the simulated host times every one; percentiles from
 * its histogram, at most 20% under the true value), and domtrace's own share of it (the
 * workers' time from taking a trap to sending its answer, as --stats prints it). Not a test: numbers depend on the
 * machine; timing lives here, never in ctest.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "domtrace/log.h"
#include "domtrace/daemon.h"
#include "domtrace/options.h"
#include "domtrace/sim.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "use VM" then procs x calls getpid lines, for every VM. */
static char *script(unsigned vms, unsigned procs, unsigned calls, int base)
{
	size_t cap = (size_t)vms * procs * ((size_t)calls * 24 + 64) + 64, len = 0;
	char *s = malloc(cap);
	unsigned v, p, c;

	for (v = 0; s && v < vms; v++) {
		len += (size_t)snprintf(s + len, cap - len, "use sim-vm%u\n", v);
		for (p = 0; p < procs; p++) {
			int pid = base + (int)p;

			len += (size_t)snprintf(s + len, cap - len, "proc %d comm=bench\n", pid);
			for (c = 0; c < calls; c++)
				len += (size_t)snprintf(s + len, cap - len, "%d call getpid\n", pid);
		}
	}
	return s;
}

/* Run the script once; returns guest syscalls/s (all VMs). */
static double run_script(struct dt_hv *hv, const char *text, uint64_t ncalls)
{
	struct dt_sim_host *h = dt_sim_host_from(hv);
	char err[256];
	double t0;

	t0 = now_s();
	if (dt_sim_scenario_text(h, text, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_traps: %s\n", err);
		return -1;
	}
	if (dt_sim_scenario_wait(h, 600000) < 0)
		return -1;
	return (double)ncalls / (now_s() - t0);
}

/* The guest's view of a trap: its vCPU stalled from the trap to the resume. */
static void print_latency(struct dt_sim_host *h)
{
	static const double qs[] = { 0.5, 0.9, 0.99, 0.999 };
	struct dt_sim_counters c;
	uint64_t n;
	unsigned i;

	if (dt_sim_counters(h, 0, &c) < 0 || (n = dt_lat_count(&c.trap_lat)) == 0)
		return;
	printf("  trap latency over %lu traps (vCPU stalled, trap to resume): mean %.1f us",
	       (unsigned long)n, (double)c.trap_lat.sum_ns / (double)n / 1000.0);
	for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
		printf(", p%g %.1f", qs[i] * 100,
		       (double)dt_lat_quantile(&c.trap_lat, qs[i]) / 1000.0);
	printf(", max %.1f us\n", (double)c.trap_lat.max_ns / 1000.0);
}

static int run(unsigned vms, unsigned vcpus, unsigned procs, unsigned calls, bool returns)
{
	char dir[] = "/tmp/dt-bench-XXXXXX";
	struct dt_sim_params sp;
	struct dt_options o;
	struct dt_daemon *d = NULL;
	struct dt_hv *hv = NULL;
	char *argv[] = { (char *)"bench", NULL };
	char *text1, *text2;
	static struct dt_trap_totals tot;
	uint64_t ncalls = (uint64_t)vms * procs * calls, t0;
	double untraced, traced, s0, dt;
	int r;

	if (!mkdtemp(dir))
		return -errno;
	dt_sim_params_default(&sp);
	sp.n_vms = vms;
	sp.vcpus = vcpus;
	sp.workload = false;
	sp.sysmap_dir = dir;
	r = dt_hv_sim.open(&sp, &hv);
	if (r < 0)
		return r;
	text1 = script(vms, procs, calls, 1000);
	text2 = script(vms, procs, calls, 2000);
	untraced = run_script(hv, text1, ncalls);

	(void)dt_options_parse(&o, 1, argv);
	o.backend = DT_BACKEND_SIM;
	o.format = DT_FORMAT_NONE;
	o.sysmap_dir = dir;
	o.returns = returns;
	o.extra_lines[o.nextra++] = strdup("Functions getpid");
	r = dt_daemon_start(&o, &dt_hv_sim, hv, &d);
	if (r < 0)
		goto out;
	dt_daemon_wait_attached(d, d->initial_workers, 30000);
	dt_daemon_totals(d, &tot);
	t0 = tot.traps;
	s0 = now_s();
	traced = run_script(hv, text2, ncalls);
	dt = now_s() - s0;
	dt_daemon_totals(d, &tot);
	printf("vms=%u vcpus=%u calls=%lu returns=%s: %.0f traps/s; guest getpid/s %.0f traced, %.0f "
	       "untraced\n",
	       vms, vcpus, (unsigned long)ncalls, returns ? "on" : "off",
	       (double)(tot.traps - t0) / dt, traced, untraced);
	print_latency(dt_sim_host_from(hv));
	printf("  domtrace's own share (trap taken -> answer sent): p50 %.1f us, p99 %.1f us\n",
	       (double)dt_lat_quantile(&tot.handling, 0.5) / 1000.0,
	       (double)dt_lat_quantile(&tot.handling, 0.99) / 1000.0);
	fflush(stdout);
	dt_daemon_stop(d);
out:
	free(text1);
	free(text2);
	dt_options_free(&o);
	dt_hv_sim.close(hv);
	{
		char cmd[96];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		(void)!system(cmd);
	}
	return r;
}

int main(int argc, char **argv)
{
	unsigned counts[8], ncounts = 0, vcpus = 2, procs = 4, calls = 2000, i;
	bool returns = true;

	for (i = 1; i < (unsigned)argc; i++) {
		if (!strcmp(argv[i], "--vms") && i + 1 < (unsigned)argc && ncounts < 8)
			counts[ncounts++] = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--calls") && i + 1 < (unsigned)argc)
			calls = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--procs") && i + 1 < (unsigned)argc)
			procs = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--vcpus") && i + 1 < (unsigned)argc)
			vcpus = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--no-returns"))
			returns = false;
		else {
			fprintf(stderr, "usage: %s [--vms N]... [--calls N] [--procs N] [--vcpus N] "
					"[--no-returns]\n",
				argv[0]);
			return 2;
		}
	}
	if (ncounts == 0) {
		counts[0] = 1;
		counts[1] = 8;
		ncounts = 2;
	}
	dt_log_set_level(DT_LOG_WARN);
	(void)dt_daemon_signal_fd();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (i = 0; i < ncounts; i++)
		if (run(counts[i], vcpus, procs, calls, returns) < 0)
			fprintf(stderr, "bench_traps: run with %u VMs failed\n", counts[i]);
	curl_global_cleanup();
	return 0;
}
