// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench_chain - ns per filter-chain match for a typical chain (not a test).
 *
 *   bench_chain [iterations]
 *
 * A 20-filter chain (function-specific filters with PCRE2 regexes, a name=^ filter,
 * two Domain sections, a function=* post filter); events that match early, match late,
 * and match nothing. Each match runs inside its own RCU read-side section, as a worker
 * does. A second run repeats it while another thread publishes a new chain every
 * millisecond. Then 1,000-filter chains, matched with the prefilter and with the
 * unindexed walk (every filter for the function tried in order): the trap-latency
 * harness's case (anchored retval regexes the prefilter rules out by the first
 * character) and a hard one it cannot help (1,000 unanchored regexes on an open's path
 * whose required characters every path has: each is searched).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <urcu.h>

#include "chain_index.h"
#include "domtrace/catalog.h"
#include "domtrace/config.h"
#include "domtrace/filter.h"

static const char chain_text[] =
	"Filter function=sys_execve,name=php-cgi,apply=1,retval=-1\n"
	"Filter function=sys_execve,argname=*,argval=\"^/(tmp|dev/shm)/\"\n"
	"Filter function=sys_execve,argname=*,argval=/(nc|ncat|socat)$,name=^apache2\n"
	"Filter function=sys_execve,uid=0,argname=*,argval=/bin/(ba|z)?sh$\n"
	"Filter function=openat,argname=*,argval=^/etc/(shadow|gshadow|sudoers)\n"
	"Filter function=openat,argname=*,argval=\\.ssh/authorized_keys$,when=post,retval=^[0-9]\n"
	"Filter function=sys_socketcall,argname=call:call,argval=connect,name=^nginx\n"
	"Filter function=sys_socketcall,argname=call:call,argval=accept,when=post\n"
	"Filter function=kill,uid=33\n"
	"Filter function=ptrace\n"
	"Filter function=init_module\n"
	"Filter function=do_exit,argname=code:signal,argval=SEGV|ABRT\n"
	"Filter pid=1,function=sys_execve\n"
	"Filter function=*,when=post,retval=^-(13|1)$,uid=1000\n"
	"Domain web-*\n"
	"Filter function=sys_execve,name=www-data\n"
	"Filter function=openat,argname=*,argval=^/var/www/.*\\.php$,when=post,retval=^[0-9]\n"
	"Filter function=sys_clone,ppid=^1\n"
	"Domain db-*\n"
	"Filter function=sys_execve,name=^postgres,apply=1,retval=-EPERM\n"
	"Filter function=openat,argname=*,argval=^/var/lib/postgresql\n"
	"Filter function=sys_execve,euid=0,egid=0\n";

static struct dt_chain_slot slot;
static int stop;

static struct dt_chain *build_text(const char *text, size_t len)
{
	struct dt_config_diags d = { 0 };
	struct dt_config *cfg = NULL;
	struct dt_chain *c = NULL;

	if (dt_config_parse_string("bench", text, len, &cfg, &d) < 0) {
		fprintf(stderr, "%s\n", d.n ? d.v[0].text : "parse failed");
		exit(1);
	}
	if (dt_chain_new(cfg, &c) < 0)
		exit(1);
	return c;
}

static struct dt_chain *build(void)
{
	return build_text(chain_text, sizeof(chain_text) - 1);
}

static struct dt_event *event(const char *func, const char *value, const char *comm, int when)
{
	struct dt_event *ev;
	int ids[64];

	if (dt_event_new(DT_EV_CALL, 1024, &ev) < 0 || dt_catalog_resolve(func, ids, 64) < 1)
		exit(1);
	ev->func_id = ids[0];
	ev->when = (enum dt_when)when;
	ev->nargs = dt_catalog_get(ids[0])->nargs;
	for (unsigned i = 0; i < ev->nargs; i++)
		ev->args[i].name = dt_catalog_get(ids[0])->args[i].name;
	if (ev->nargs > 1)
		ev->args[1].value = value;
	if (ev->nargs > 0)
		ev->args[0].value = value;
	ev->proc = (struct dt_proc_info){ .pid = 1234, .tgid = 1234, .ppid = 900, .rppid = 900,
					  .uid = 1000, .gid = 1000 };
	snprintf(ev->proc.comm, sizeof(ev->proc.comm), "%s", comm);
	ev->has_ret = when == DT_WHEN_POST;
	ev->ret = 3;
	return ev;
}

static const struct dt_proc_info anc[3] = {
	{ .tgid = 900, .comm = "apache2" }, { .tgid = 800, .comm = "sshd" }, { .tgid = 1, .comm = "systemd" },
};

static const struct dt_proc_info *load_anc(void *ctx, size_t *ret_n)
{
	*ret_n = 3;
	return anc;
}

static double run(struct dt_chain_reader *rd, struct dt_event *ev, long iters, unsigned *ret_f)
{
	struct dt_ancestry a = { .load = load_anc };
	struct timespec t0, t1;
	struct dt_match m = { 0 };
	long i;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < iters; i++) {
		dt_chain_read_lock();
		if (!dt_chain_match(dt_chain_current(&slot), rd, ev, &a, &m))
			m.filter = 0;
		dt_chain_read_unlock();
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*ret_f = m.filter;
	return ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) /
	       (double)iters;
}

/* ns per match of ev on chain c, indexed or not */
static double run_big(struct dt_chain *c, struct dt_chain_reader *rd, struct dt_event *ev,
		      long iters, bool naive, unsigned *ret_f)
{
	struct timespec t0, t1;
	struct dt_match m = { 0 };
	long i;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < iters; i++)
		if (!(naive ? dt_chain_match_naive(c, rd, ev, NULL, &m)
			    : dt_chain_match(c, rd, ev, NULL, &m)))
			m.filter = 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*ret_f = m.filter;
	return ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) /
	       (double)iters;
}

/* 1,000 filters: the harness's easy case and a hard one, with and without the prefilter. */
static void big_chains(struct dt_chain_reader *rd, long iters)
{
	static char text[128 * 1024];
	struct {
		const char *what, *func, *value;
		int when;
		int64_t ret;
	} cases[] = {
		{ "1,000 retval=^-(N|10000+N)$, getpid returns 2000 (easy)", "getpid", NULL,
		  DT_WHEN_POST, 2000 },
		{ "1,000 argval=(^|/)tmpN/ on openat's path (hard)", "openat",
		  "/usr/lib/x86_64-linux-gnu/libc.so.6", DT_WHEN_PRE, 0 },
	};

	printf("-- 1,000-filter chains: prefilter vs unindexed walk (no match in either)\n");
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		size_t len = 0;
		struct dt_chain *c;
		struct dt_event *ev;
		double ns_ix, ns_naive;
		unsigned f1, f2;
		long n = iters / 100 > 0 ? iters / 100 : 1;

		for (unsigned i = 0; i < 1000; i++)
			len += k == 0 ? (size_t)snprintf(text + len, sizeof(text) - len,
						 "Filter function=getpid,when=post,"
						 "retval=^-(%u|%u)$\n",
						 i + 1, 10000 + i)
				      : (size_t)snprintf(text + len, sizeof(text) - len,
						 "Filter function=openat,argname=filename,"
						 "argval=(^|/)tmp%u/\n",
						 i + 1);
		c = build_text(text, len);
		ev = event(cases[k].func, cases[k].value, "bash", cases[k].when);
		ev->has_ret = cases[k].when == DT_WHEN_POST;
		ev->ret = cases[k].ret;
		run_big(c, rd, ev, n < 100 ? n : 100, false, &f1); /* warm */
		ns_ix = run_big(c, rd, ev, n, false, &f1);
		ns_naive = run_big(c, rd, ev, n, true, &f2);
		printf("%-55s filter %2u/%u  %9.1f ns/match (unindexed %9.1f)\n", cases[k].what, f1,
		       f2, ns_ix, ns_naive);
		dt_event_free(ev);
		dt_chain_free(c);
	}
}

static void *publisher(void *arg)
{
	long *n = arg;

	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		dt_chain_publish(&slot, build());
		(*n)++;
		usleep(1000);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long iters = 2000000, pubs = 0;
	struct {
		const char *what, *func, *value, *comm;
		int when;
	} cases[] = {
		{ "execve, matches filter 3 (regex + name=^ ancestry)", "execve", "/usr/bin/nc", "sh", DT_WHEN_PRE },
		{ "execve, matches nothing (13 filters tried)", "execve", "/usr/bin/ls", "bash", DT_WHEN_PRE },
		{ "openat, matches nothing (4 regex filters)", "openat", "/usr/lib/x86_64-linux-gnu/libc.so.6", "bash", DT_WHEN_PRE },
		{ "openat post, matches filter 6", "openat", "/home/u/.ssh/authorized_keys", "bash", DT_WHEN_POST },
		{ "getpid, only function=* filters", "getpid", NULL, "bash", DT_WHEN_PRE },
	};
	struct dt_chain_reader *rd = NULL;
	pthread_t th;
	unsigned f;
	int pass;

	if (argc > 2 || (argc == 2 && (sscanf(argv[1], "%ld", &iters) != 1 || iters < 1))) {
		/* 0 iterations timed nothing: it printed "inf ns/match" */
		fprintf(stderr, "usage: bench_chain [ITERATIONS >= 1 (default 2000000)]\n");
		return 2;
	}
	rcu_register_thread();
	if (dt_chain_reader_new("web-1", &rd) < 0)
		return 1;
	dt_chain_publish(&slot, build());
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			printf("-- again, while another thread publishes a new chain every ms\n");
			pthread_create(&th, NULL, publisher, &pubs);
		}
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			struct dt_event *ev = event(cases[i].func, cases[i].value, cases[i].comm,
						    cases[i].when);
			double ns;

			run(rd, ev, iters < 1000 ? iters : 1000, &f); /* warm: JIT, caches */
			ns = run(rd, ev, iters, &f);

			printf("%-55s filter %2u  %7.1f ns/match\n", cases[i].what, f, ns);
			dt_event_free(ev);
		}
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	printf("chains published during the second pass: %ld\n", pubs);
	big_chains(rd, iters);
	dt_chain_slot_clear(&slot);
	dt_chain_reader_free(rd);
	rcu_unregister_thread();
	return 0;
}
