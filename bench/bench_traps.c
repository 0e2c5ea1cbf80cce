// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench_traps: breakpoint hits per second that domtrace handles on the simulated host.
 *
 *   bench_traps [--vms N]... [--seconds S] [--vcpus N] [--functions LIST] [--no-returns]
 *
 * For each VM count it starts N simulated VMs whose workload runs unpaced, attaches
 * domtrace in-process (per-call log off, events counted and dropped by the reporter's
 * queue), measures traps/s over S seconds after a warm-up, and also the simulated
 * guests' own syscall rate with and without tracing. Prints one line per run.
 * Not a test: numbers depend on the machine. Timing lives here, never in ctest.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "domtrace/log.h"
#include "engine/daemon.h"
#include "engine/options.h"
#include "sim/sim.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t sim_calls(struct dt_hv *hv)
{
	struct dt_sim_counters c = { 0 };

	(void)dt_sim_counters(dt_sim_host_from(hv), 0, &c);
	return c.calls_done;
}

/* Guest syscalls/s with nothing attached. */
static double untraced_rate(struct dt_hv *hv, double seconds)
{
	uint64_t c0 = sim_calls(hv);
	double t0 = now_s();

	usleep((useconds_t)(seconds * 1e6));
	return (double)(sim_calls(hv) - c0) / (now_s() - t0);
}

static int run(unsigned vms, unsigned vcpus, double seconds, const char *functions, bool returns)
{
	char dir[] = "/tmp/dt-bench-XXXXXX", line[512];
	struct dt_sim_params sp;
	struct dt_options o;
	struct dt_daemon *d = NULL;
	struct dt_hv *hv = NULL;
	char *argv[] = { (char *)"bench", NULL };
	uint64_t t0, c0;
	double s0, untraced, dt;
	int r;

	if (!mkdtemp(dir))
		return -errno;
	dt_sim_params_default(&sp);
	sp.n_vms = vms;
	sp.vcpus = vcpus;
	sp.rate = 0; /* unpaced: as fast as the simulated CPUs go */
	sp.sysmap_dir = dir;
	r = dt_hv_sim.open(&sp, &hv);
	if (r < 0)
		return r;
	untraced = untraced_rate(hv, seconds / 2);

	(void)dt_options_parse(&o, 1, argv);
	o.backend = DT_BACKEND_SIM;
	o.format = DT_FORMAT_NONE;
	o.sysmap_dir = dir;
	o.returns = returns;
	snprintf(line, sizeof(line), "Functions %s", functions);
	o.extra_lines[o.nextra++] = strdup(line);
	r = dt_daemon_start(&o, &dt_hv_sim, hv, &d);
	if (r < 0)
		goto out;
	usleep(300000); /* warm-up: attach, arm */
	t0 = atomic_load(&d->stats.traps);
	c0 = sim_calls(hv);
	s0 = now_s();
	usleep((useconds_t)(seconds * 1e6));
	dt = now_s() - s0;
	printf("vms=%u vcpus=%u functions=%s returns=%s: %.0f traps/s, guest syscalls/s %.0f traced vs "
	       "%.0f untraced\n",
	       vms, vcpus, functions, returns ? "on" : "off",
	       (double)(atomic_load(&d->stats.traps) - t0) / dt, (double)(sim_calls(hv) - c0) / dt,
	       untraced);
	fflush(stdout);
	dt_daemon_stop(d);
out:
	dt_options_free(&o);
	dt_hv_sim.close(hv);
	snprintf(line, sizeof(line), "rm -rf %s", dir);
	(void)!system(line);
	return r;
}

int main(int argc, char **argv)
{
	unsigned counts[8] = { 1, 8 }, ncounts = 0, vcpus = 2, i;
	const char *functions = "*";
	double seconds = 3;
	bool returns = true;

	for (i = 1; i < (unsigned)argc; i++) {
		if (!strcmp(argv[i], "--vms") && i + 1 < (unsigned)argc && ncounts < 8)
			counts[ncounts++] = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--seconds") && i + 1 < (unsigned)argc)
			seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--vcpus") && i + 1 < (unsigned)argc)
			vcpus = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--functions") && i + 1 < (unsigned)argc)
			functions = argv[++i];
		else if (!strcmp(argv[i], "--no-returns"))
			returns = false;
		else {
			fprintf(stderr, "usage: %s [--vms N]... [--seconds S] [--vcpus N] "
					"[--functions LIST] [--no-returns]\n",
				argv[0]);
			return 2;
		}
	}
	if (ncounts == 0)
		ncounts = 2;
	dt_log_set_level(DT_LOG_WARN);
	(void)dt_daemon_signal_fd();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (i = 0; i < ncounts; i++)
		if (run(counts[i], vcpus, seconds, functions, returns) < 0)
			fprintf(stderr, "bench_traps: run with %u VMs failed\n", counts[i]);
	curl_global_cleanup();
	return 0;
}
