// SPDX-License-Identifier: GPL-2.0-only
/*
 * guardian.c - the process that restores the guests if domtrace dies (guardian.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "domtrace/guardian.h"

#define MAX_DOMAINS 4096

struct dt_guardian {
	pid_t pid;
	int wfd; /* write end: end-of-file for the guardian when we are gone */
};

int dt_guard_recover_all(const struct dt_hv_ops *ops, struct dt_hv *hv,
			 const struct dt_journal *j, FILE *log)
{
	uint32_t *doms = calloc(MAX_DOMAINS, sizeof(*doms));
	struct dt_guard_site *sites = NULL;
	size_t nd, i;
	int status = 0;

	if (!doms)
		return -ENOMEM;
	nd = dt_journal_domains(j, doms, MAX_DOMAINS);
	for (i = 0; i < nd; i++) {
		struct dt_guard_result res = { 0 };
		size_t n = dt_journal_sites(j, doms[i], NULL, 0);
		struct dt_guard_site *more = realloc(sites, (n ? n : 1) * sizeof(*sites));
		int r;

		if (!more) {
			status = -ENOMEM;
			break;
		}
		sites = more;
		n = dt_journal_sites(j, doms[i], sites, n);
		r = ops->recover(hv, doms[i], sites, n, dt_journal_pauses(j, doms[i]), &res);
		if (r == -ENODEV) {
			fprintf(log, "domtrace guardian: dom%u is gone; %zu breakpoints went with it\n",
				doms[i], n);
			continue;
		}
		fprintf(log,
			"domtrace guardian: dom%u: %u breakpoints restored, %u already clean, "
			"%u changed by the guest (left alone), %u failed; trapping off; %u vCPUs "
			"answered; %u domain pauses released%s%s\n",
			doms[i], res.restored, res.clean, res.foreign, res.failed, res.vcpus,
			res.unpaused,
			r < 0 ? "; error: " : "", r < 0 ? strerror(-r) : "");
		if (r < 0 || res.failed > 0)
			status = -EIO;
	}
	fflush(log);
	free(sites);
	free(doms);
	return status;
}

/* SIGABRT too: systemd's watchdog (WatchdogSignal=, domtrace.service) sends it to
 * every process of the service, and the guardian must outlive the domtrace it kills. */
static const int operator_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGQUIT,
					 SIGPIPE, SIGABRT };

static void operator_set(sigset_t *set)
{
	size_t i;

	sigemptyset(set);
	for (i = 0; i < sizeof(operator_signals) / sizeof(operator_signals[0]); i++)
		sigaddset(set, operator_signals[i]);
}

/* In the child, whose mask (blocked across the fork) already holds them off. */
static void quiet_signals(void)
{
	size_t i;

	for (i = 0; i < sizeof(operator_signals) / sizeof(operator_signals[0]); i++)
		signal(operator_signals[i], SIG_IGN);
}

/* The guardian's life: wait for end-of-file, then recover if anything is left. */
static int guardian_main(const struct dt_hv_ops *ops, const void *params, struct dt_journal *j,
			 int rfd)
{
	struct dt_hv *hv = NULL;
	char c;
	ssize_t n;
	int r;

	quiet_signals();
	(void)prctl(PR_SET_NAME, "domtrace-guard");
	do {
		n = read(rfd, &c, 1);
	} while (n > 0 || (n < 0 && errno == EINTR));
	if (dt_journal_empty(j))
		return 0;
	fprintf(stderr, "domtrace guardian: domtrace is gone with %zu breakpoints in guests; "
		"restoring\n", dt_journal_count(j));
	r = ops->open(params, &hv);
	if (r < 0) {
		fprintf(stderr, "domtrace guardian: cannot open the %s hypervisor: %s; "
			"breakpoints stay in the guests\n", ops->name, strerror(-r));
		return 1;
	}
	r = dt_guard_recover_all(ops, hv, j, stderr);
	ops->close(hv);
	return r < 0 ? 1 : 0;
}

int dt_guardian_start(const struct dt_hv_ops *ops, const void *params, struct dt_journal *j,
		      struct dt_guardian **ret_g)
{
	struct dt_guardian *g;
	sigset_t block, old;
	int p[2];
	pid_t pid;

	if (!ops->recover)
		return -EOPNOTSUPP;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	if (pipe2(p, O_CLOEXEC) < 0) {
		free(g);
		return -errno;
	}
	fflush(NULL);
	/* blocked across the fork, so that none reaches the child before it ignores them */
	operator_set(&block);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	pid = fork();
	if (pid != 0)
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		int e = errno;

		close(p[0]);
		close(p[1]);
		free(g);
		return -e;
	}
	if (pid == 0) {
		close(p[1]);
		_exit(guardian_main(ops, params, j, p[0]));
	}
	close(p[0]);
	g->pid = pid;
	g->wfd = p[1];
	*ret_g = g;
	return 0;
}

int dt_guardian_finish(struct dt_guardian *g)
{
	int st = 0;
	pid_t r;

	if (!g)
		return 0;
	close(g->wfd);
	do {
		r = waitpid(g->pid, &st, 0);
	} while (r < 0 && errno == EINTR);
	free(g);
	if (r < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

pid_t dt_guardian_pid(const struct dt_guardian *g)
{
	return g ? g->pid : 0;
}
