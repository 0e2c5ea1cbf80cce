// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench_sim.c - raw speed of the simulated host: scripted getpid() calls per second through
 * the interpreted guest kernel, without traps and with an int3 probe answered by a minimal
 * engine loop (one trap round trip per call).
 *
 *   bench_sim [vcpus] [procs] [calls_per_proc]      (defaults 2 4 5000)
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domtrace/sim.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *script(int procs, int calls, int base)
{
	size_t cap = (size_t)procs * ((size_t)calls * 24 + 64) + 64, len = 0;
	char *s = malloc(cap);
	int p, c;

	if (!s)
		return NULL;
	for (p = 0; p < procs; p++) {
		len += (size_t)snprintf(s + len, cap - len, "proc %d\n", base + p);
		for (c = 0; c < calls; c++)
			len += (size_t)snprintf(s + len, cap - len, "%d call getpid\n", base + p);
	}
	return s;
}

static int run(struct dt_hv *hv, struct dt_sim_host *h, int procs, int calls, int base,
	       bool traps)
{
	struct dt_hv_dom *dom = NULL;
	struct dt_sim_kernel_info ki;
	struct dt_sim_counters c0, c1;
	uint64_t site = 0;
	uint8_t orig = 0, cc = 0xcc;
	char err[256], *text = script(procs, calls, base);
	double t0, t1;
	long handled = 0;

	if (!text)
		return 1;
	dt_sim_kernel_info(h, 1, &ki);
	if (traps) {
		if (dt_hv_sim.dom_open(hv, 1, &dom) ||
		    dt_sim_symbol(h, 1, "__x64_sys_getpid", &site))
			return 1;
		if (ki.flavour == DT_SIM_FLAVOUR_66)
			site += 4;
		dt_hv_sim.read_va(dom, ki.kernel_cr3, site, &orig, 1);
		dt_hv_sim.set_trapping(dom, true); /* before the int3, as domtrace does */
		dt_hv_sim.write_va(dom, ki.kernel_cr3, site, &cc, 1);
	}
	dt_sim_counters(h, 1, &c0);
	t0 = now();
	if (dt_sim_scenario_text(h, text, err, sizeof(err))) {
		fprintf(stderr, "scenario: %s\n", err);
		return 1;
	}
	if (traps) {
		struct pollfd pfd = { .fd = dt_hv_sim.trap_fd(dom), .events = POLLIN };

		while (dt_sim_scenario_wait(h, 0) == -ETIMEDOUT) {
			struct dt_trap t;
			struct dt_regs r;

			if (dt_hv_sim.next_trap(dom, &t)) {
				poll(&pfd, 1, 10);
				continue;
			}
			r = t.regs;
			r.rip = site + 5;
			dt_hv_sim.resume(dom, &t, DT_RESUME_SET_REGS, &r);
			handled++;
		}
	} else {
		dt_sim_scenario_wait(h, 600000);
	}
	t1 = now();
	dt_sim_counters(h, 1, &c1);
	if (traps) {
		dt_hv_sim.write_va(dom, ki.kernel_cr3, site, &orig, 1);
		dt_hv_sim.set_trapping(dom, false);
		dt_hv_sim.dom_close(dom);
	}
	printf("%-10s %8llu calls in %6.3f s = %9.0f calls/s, %6.1f kernel insns/call%s",
	       traps ? "int3 probe" : "no traps", (unsigned long long)(c1.calls - c0.calls),
	       t1 - t0, (double)(c1.calls - c0.calls) / (t1 - t0),
	       (double)(c1.insns - c0.insns) / (double)(c1.calls - c0.calls + !(c1.calls - c0.calls)),
	       traps ? "" : "\n");
	if (traps)
		printf(", %ld traps answered\n", handled);
	free(text);
	return dt_sim_crashes(h, 0, NULL, 0) ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct dt_sim_params p;
	struct dt_sim_host *h;
	struct dt_hv *hv;
	int vcpus = argc > 1 ? atoi(argv[1]) : 2, procs = argc > 2 ? atoi(argv[2]) : 4;
	int calls = argc > 3 ? atoi(argv[3]) : 5000, rc;

	dt_sim_params_default(&p);
	p.n_vms = 1;
	p.vcpus = (uint32_t)vcpus;
	p.workload = false;
	p.rate = 0;
	if (dt_hv_sim.open(&p, &hv)) {
		fprintf(stderr, "cannot open the sim\n");
		return 1;
	}
	h = dt_sim_host_from(hv);
	printf("bench_sim: 1 VM, %d vCPUs, %d processes x %d getpid()\n", vcpus, procs, calls);
	rc = run(hv, h, procs, calls, 1000, false);
	rc |= run(hv, h, procs, calls, 2000, true);
	dt_hv_sim.close(hv);
	return rc;
}
