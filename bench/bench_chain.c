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
 * millisecond.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <urcu.h>

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

static struct dt_chain *build(void)
{
	struct dt_config_diags d = { 0 };
	struct dt_config *cfg = NULL;
	struct dt_chain *c = NULL;

	if (dt_config_parse_string("bench", chain_text, sizeof(chain_text) - 1, &cfg, &d) < 0) {
		fprintf(stderr, "%s\n", d.n ? d.v[0].text : "parse failed");
		exit(1);
	}
	if (dt_chain_new(cfg, &c) < 0)
		exit(1);
	return c;
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
	dt_chain_slot_clear(&slot);
	dt_chain_reader_free(rd);
	rcu_unregister_thread();
	return 0;
}
