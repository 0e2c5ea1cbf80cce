// SPDX-License-Identifier: GPL-2.0-only
/*
 * callcost: the in-guest cost of one system call, to run inside a guest (a static
 * binary: nothing to install there but this file). Run it untraced, then while domtrace
 * traces the call (bench/trap-latency --xen VM getppid), and compare:
 *
 *   callcost [CALLS [ROUNDS]]      (defaults 100000 and 5)
 *
 * Each round times CALLS getppid() calls (the raw system call: no libc caching) and
 * prints the time per call; the last line gives the best and median rounds. Build:
 *   cc -O2 -static -o callcost bench/guest/callcost.c
 * Not part of the build: it runs in a guest, not on the host.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	long calls = argc > 1 ? atol(argv[1]) : 100000, rounds = argc > 2 ? atol(argv[2]) : 5;
	double *ns;

	if (calls < 1 || rounds < 1 || rounds > 1000) {
		fprintf(stderr, "usage: callcost [CALLS >= 1 [ROUNDS 1..1000]]\n");
		return 2;
	}
	ns = calloc((size_t)rounds, sizeof(*ns));
	if (!ns)
		return 1;
	for (long r = 0; r < rounds; r++) {
		double t0 = now_ns();

		for (long i = 0; i < calls; i++)
			syscall(SYS_getppid);
		ns[r] = (now_ns() - t0) / (double)calls;
		printf("callcost: round %ld: %ld getppid calls, %.1f ns per call\n", r + 1, calls, ns[r]);
		fflush(stdout);
	}
	qsort(ns, (size_t)rounds, sizeof(*ns), cmp);
	printf("callcost: getppid best %.1f ns, median %.1f ns per call (%ld rounds of %ld)\n", ns[0],
	       ns[rounds / 2], rounds, calls);
	free(ns);
	return 0;
}
