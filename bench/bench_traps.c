// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench_traps: breakpoint hits per second that domtrace handles on the simulated host.
 *
 *   bench_traps [--vms N]... [--calls N] [--procs N] [--vcpus N] [--no-returns]
 *               [--filters N] [--hard] [--no-baseline] [--csv FILE] [--log FILE]
 *               [--gap-ms MS]
 *
 * For each VM count, every VM runs --procs scripted processes making --calls getpid()
 * each, as fast as the simulated vCPUs go: once with nothing attached (unless
 * --no-baseline), once with domtrace tracing getpid in-process (log off; events go
 * through the reporter's queue and are dropped there), with --filters regex filters
 * for every return, none matching, which the chain's prefilter rules out by their
 * first character (--hard: regexes the prefilter cannot rule out, `(0|2)+[5-9]|qN`:
 * each is searched in every return value, docs/BENCH.md). It prints the guests'
 * syscall rate both ways and domtrace's traps per second, and the trap latency: how long each trapping
 * vCPU stood still, from posting its trap to running again (the simulated host times
 * every one; percentiles from its histogram, at most 20% under the true value), and
 * domtrace's own share of it (the workers' time from taking a trap to sending its
 * answer) and the hypervisor work per hit, the same counters --stats prints, the CPU
 * time the worker threads ("dt-vm*") and the reporter ("dt-report") spent per trap
 * (from /proc/self/task/<tid>/schedstat: work, not waiting for a CPU), and the RSS
 * the daemon added per VM by attaching (the idle guests' memory does not grow
 * meanwhile). --csv appends one line per VM count (header if the file is new;
 * bench/trap-latency plots them). --log FILE: the per-call log in JSON to FILE, as the
 * Xen tier's yardstick twin has it (by default the events are dropped). --gap-ms MS:
 * each process sleeps MS after each call, for a moderate trap rate like the tier's
 * (where the reporter's batching shows; by default the calls go back to back). Not a test: numbers depend on the machine;
 * timing lives here, never in ctest.
 */
#include <dirent.h>
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
static char *script(unsigned vms, unsigned procs, unsigned calls, unsigned gap_ms, int base)
{
	size_t cap = (size_t)vms * procs * ((size_t)calls * 48 + 64) + 64, len = 0;
	char *s = malloc(cap);
	unsigned v, p, c;

	for (v = 0; s && v < vms; v++) {
		len += (size_t)snprintf(s + len, cap - len, "use sim-vm%u\n", v);
		for (p = 0; p < procs; p++) {
			int pid = base + (int)p;

			len += (size_t)snprintf(s + len, cap - len, "proc %d comm=bench\n", pid);
			for (c = 0; c < calls; c++) {
				len += (size_t)snprintf(s + len, cap - len, "%d call getpid\n", pid);
				if (gap_ms) /* a moderate rate, where batching counts */
					len += (size_t)snprintf(s + len, cap - len, "%d sleep %u\n",
								pid, gap_ms);
			}
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

/* This process's resident set, KiB (0 if unknown). */
static long rss_kib(void)
{
	char line[256];
	long kib = 0;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

/* CPU time (ns) of this process's threads whose name starts with prefix. */
static uint64_t threads_cpu_ns(const char *prefix)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	uint64_t sum = 0;

	while (d && (e = readdir(d))) {
		char path[300], comm[32] = "";
		unsigned long long ns;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = '\0';
		fclose(f);
		if (strncmp(comm, prefix, strlen(prefix)) != 0)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/schedstat", e->d_name);
		f = fopen(path, "r");
		if (f && fscanf(f, "%llu", &ns) == 1)
			sum += ns;
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	return sum;
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

/* The engine's share split by the simulated host: its own work, then the answer call. */
static void print_split(struct dt_sim_host *h)
{
	struct dt_sim_counters c;

	if (dt_sim_counters(h, 0, &c) < 0 || !dt_lat_count(&c.held_lat))
		return;
	printf("    of which domtrace's work (trap handed over -> answer called): p50 %.1f us, p99 "
	       "%.1f us; the answer call (the simulated hypervisor waking the vCPU): p50 %.1f us, "
	       "p99 %.1f us\n",
	       (double)dt_lat_quantile(&c.held_lat, 0.5) / 1000.0,
	       (double)dt_lat_quantile(&c.held_lat, 0.99) / 1000.0,
	       (double)dt_lat_quantile(&c.answer_lat, 0.5) / 1000.0,
	       (double)dt_lat_quantile(&c.answer_lat, 0.99) / 1000.0);
}

struct bench_opts {
	unsigned vcpus, procs, calls, filters;
	unsigned gap_ms; /* --gap-ms: each process sleeps this long after each call */
	bool returns, baseline, hard;
	const char *csv;
	const char *log; /* --log: the per-call JSON log to this file, as the tier's twin */
};

/* CPU per trap: the workers' and the reporter's, us */
struct cpu_use {
	double worker_us, reporter_us;
};

#define CSV_HEADER                                                                          \
	"vms,vcpus,filters,returns,calls,traps,traps_per_s,own_p50_us,own_p99_us,own_max_us,"  \
	"stall_p50_us,stall_p99_us,stall_max_us,rss_kib_per_vm,hypercalls_per_hit,"          \
	"maps_per_hit,map_hits_per_hit,pages_per_hit,walks_per_hit,worker_cpu_us,"              \
	"reporter_cpu_us,held_p50_us,held_p99_us,answer_p50_us,answer_p99_us\n"

static void csv_row(const struct bench_opts *bo, unsigned vms, uint64_t ncalls, uint64_t traps,
		    double dt, const struct dt_trap_totals *tot, struct dt_sim_host *h, long rss,
		    const struct cpu_use *cpu)
{
	struct dt_sim_counters c = { 0 };
	double n = traps ? (double)traps : 1;
	FILE *f;
	bool fresh;

	if (!bo->csv)
		return;
	f = fopen(bo->csv, "a");
	if (!f) {
		perror(bo->csv);
		return;
	}
	fresh = ftell(f) == 0;
	if (fresh)
		fputs(CSV_HEADER, f);
	(void)dt_sim_counters(h, 0, &c);
	fprintf(f, "%u,%u,%u,%d,%lu,%lu,%.0f,%.2f,%.2f,%.1f,%.2f,%.2f,%.1f,%ld,%.2f,%.3f,%.2f,%.2f,%.2f,"
		   "%.2f,%.2f,%.2f,%.2f,%.2f,%.2f\n",
		vms, bo->vcpus, bo->filters, bo->returns, (unsigned long)ncalls,
		(unsigned long)traps, (double)traps / dt,
		(double)dt_lat_quantile(&tot->handling, 0.5) / 1000.0,
		(double)dt_lat_quantile(&tot->handling, 0.99) / 1000.0,
		(double)tot->handling.max_ns / 1000.0,
		(double)dt_lat_quantile(&c.trap_lat, 0.5) / 1000.0,
		(double)dt_lat_quantile(&c.trap_lat, 0.99) / 1000.0, (double)c.trap_lat.max_ns / 1000.0,
		rss / (long)vms, (double)tot->hypercalls / n, (double)tot->maps / n,
		(double)tot->map_hits / n, (double)tot->pages / n, (double)tot->walks / n,
		cpu->worker_us, cpu->reporter_us,
		(double)dt_lat_quantile(&c.held_lat, 0.5) / 1000.0,
		(double)dt_lat_quantile(&c.held_lat, 0.99) / 1000.0,
		(double)dt_lat_quantile(&c.answer_lat, 0.5) / 1000.0,
		(double)dt_lat_quantile(&c.answer_lat, 0.99) / 1000.0);
	fclose(f);
}

static int run(unsigned vms, const struct bench_opts *bo)
{
	unsigned vcpus = bo->vcpus, procs = bo->procs, calls = bo->calls;
	bool returns = bo->returns;
	char dir[] = "/tmp/dt-bench-XXXXXX";
	struct dt_sim_params sp;
	struct dt_options o;
	struct dt_daemon *d = NULL;
	struct dt_hv *hv = NULL;
	char *argv[] = { (char *)"bench", NULL };
	char *text1, *text2;
	static struct dt_trap_totals tot;
	uint64_t ncalls = (uint64_t)vms * procs * calls, t0, wcpu0, rcpu0;
	struct cpu_use cpu;
	double untraced = 0, traced, s0, dt;
	char work[160], conf[64];
	long rss0, rss_att;
	FILE *cf;
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
	text1 = script(vms, procs, calls, bo->gap_ms, 1000);
	text2 = script(vms, procs, calls, bo->gap_ms, 2000);
	if (bo->baseline)
		untraced = run_script(hv, text1, ncalls);

	(void)dt_options_parse(&o, 1, argv);
	o.backend = DT_BACKEND_SIM;
	o.format = bo->log ? DT_FORMAT_JSON : DT_FORMAT_NONE;
	o.log_file = bo->log;
	o.sysmap_dir = dir;
	o.returns = returns;
	/* the config: getpid, and regex filters for every return, none matching (getpid
	 * never fails) */
	snprintf(conf, sizeof(conf), "%s/bench.conf", dir);
	cf = fopen(conf, "w");
	if (!cf) {
		r = -errno;
		goto out;
	}
	fprintf(cf, "Functions getpid\n");
	for (unsigned i = 0; i < bo->filters; i++)
		if (bo->hard) /* a 0 or 2 then 5..9: the pids (2000..) have the first, never the second */
			fprintf(cf, "Filter function=getpid,when=post,retval=(0|2)+[5-9]|q%u\n", i);
		else
			fprintf(cf, "Filter function=getpid,when=post,retval=^-(%u|%u)$\n", i + 1,
				10000 + i);
	fclose(cf);
	o.config = conf;
	rss0 = rss_kib();
	r = dt_daemon_start(&o, &dt_hv_sim, hv, &d);
	if (r < 0)
		goto out;
	dt_daemon_wait_attached(d, d->initial_workers, 30000);
	/* what attaching added: symbols, probes, tables, workers (the idle guests do not
	 * grow; while they run, their own memory would) */
	rss_att = rss_kib() - rss0;
	dt_daemon_totals(d, &tot);
	t0 = tot.traps;
	wcpu0 = threads_cpu_ns("dt-vm");
	rcpu0 = threads_cpu_ns("dt-report");
	s0 = now_s();
	traced = run_script(hv, text2, ncalls);
	dt = now_s() - s0;
	dt_daemon_totals(d, &tot);
	cpu.worker_us = (double)(threads_cpu_ns("dt-vm") - wcpu0) / 1000.0 /
			(double)(tot.traps - t0 ? tot.traps - t0 : 1);
	cpu.reporter_us = (double)(threads_cpu_ns("dt-report") - rcpu0) / 1000.0 /
			  (double)(tot.traps - t0 ? tot.traps - t0 : 1);
	printf("vms=%u vcpus=%u calls=%lu returns=%s filters=%u%s: %.0f traps/s; guest getpid/s %.0f "
	       "traced",
	       vms, vcpus, (unsigned long)ncalls, returns ? "on" : "off", bo->filters,
	       bo->hard ? " (hard)" : "",
	       (double)(tot.traps - t0) / dt, traced);
	if (bo->baseline)
		printf(", %.0f untraced", untraced);
	printf("\n");
	print_latency(dt_sim_host_from(hv));
	printf("  domtrace's own share (trap taken -> answer sent): p50 %.1f us, p99 %.1f us, max "
	       "%.1f us\n",
	       (double)dt_lat_quantile(&tot.handling, 0.5) / 1000.0,
	       (double)dt_lat_quantile(&tot.handling, 0.99) / 1000.0,
	       (double)tot.handling.max_ns / 1000.0);
	print_split(dt_sim_host_from(hv));
	(void)dt_daemon_work_text(&tot, work, sizeof(work));
	printf("  %s; RSS added by attaching %ld KiB per VM\n", work, rss_att / (long)vms);
	printf("  CPU per trap (on a CPU, not waiting for one): workers %.2f us, reporter %.2f us\n",
	       cpu.worker_us, cpu.reporter_us);
	csv_row(bo, vms, ncalls, tot.traps - t0, dt, &tot, dt_sim_host_from(hv), rss_att, &cpu);
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
	struct bench_opts bo = { .vcpus = 2, .procs = 4, .calls = 2000, .returns = true,
				 .baseline = true };
	unsigned counts[8], ncounts = 0, i;

	for (i = 1; i < (unsigned)argc; i++) {
		if (!strcmp(argv[i], "--vms") && i + 1 < (unsigned)argc && ncounts < 8)
			counts[ncounts++] = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--calls") && i + 1 < (unsigned)argc)
			bo.calls = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--procs") && i + 1 < (unsigned)argc)
			bo.procs = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--vcpus") && i + 1 < (unsigned)argc)
			bo.vcpus = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--filters") && i + 1 < (unsigned)argc)
			bo.filters = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--csv") && i + 1 < (unsigned)argc)
			bo.csv = argv[++i];
		else if (!strcmp(argv[i], "--gap-ms") && i + 1 < (unsigned)argc)
			bo.gap_ms = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--log") && i + 1 < (unsigned)argc)
			bo.log = argv[++i];
		else if (!strcmp(argv[i], "--no-returns"))
			bo.returns = false;
		else if (!strcmp(argv[i], "--no-baseline"))
			bo.baseline = false;
		else if (!strcmp(argv[i], "--hard"))
			bo.hard = true;
		else {
			fprintf(stderr, "usage: %s [--vms N]... [--calls N] [--procs N] [--vcpus N] "
					"[--no-returns] [--filters N] [--hard] [--no-baseline] [--csv FILE] "
					"[--log FILE] [--gap-ms MS]\n",
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
		if (run(counts[i], &bo) < 0)
			fprintf(stderr, "bench_traps: run with %u VMs failed\n", counts[i]);
	curl_global_cleanup();
	return 0;
}
