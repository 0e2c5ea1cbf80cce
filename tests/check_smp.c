// SPDX-License-Identifier: GPL-2.0-only
/*
 * Many vCPUs: guests with 4, 8 and 32 vCPUs trapping at once on the same probes and on
 * different ones, with tasks that sleep inside the kernel (nanosleep, wait4, accept) and
 * come back on another vCPU. Exact accounting: every system call the simulated guest
 * completed while domtrace was attached is one call record of domtrace with the same
 * pid, number and return value (and the vCPU the sim says it returned on: compared,
 * counted and printed, not asserted), every call in
 * flight at detach is one unfinished entry, nothing is doubled or left over, and the
 * daemon's counters agree with the records.
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domtrace/daemon.h"
#include "domtrace/report.h"
#include "support/check_run.h"
#include "support/harness.h"

/* ---- what the guest did: the sim's call log, drained as the test goes ---- */

struct simlog {
	struct dt_sim_host *host;
	uint32_t domid;
	uint64_t cursor, lost;
	struct dt_sim_call *v;
	size_t n, cap;
};

static void simlog_drain(struct simlog *l)
{
	size_t got;

	do {
		if (l->cap - l->n < 1024) {
			l->cap = l->cap ? l->cap * 2 : 16384;
			l->v = realloc(l->v, l->cap * sizeof(*l->v));
			ck_assert_ptr_nonnull(l->v);
		}
		got = dt_sim_calls_read(l->host, l->domid, &l->cursor, l->v + l->n, l->cap - l->n,
					&l->lost);
		l->n += got;
	} while (got > 0);
}

static uint64_t sim_calls(struct dt_sim_host *host, uint32_t domid)
{
	struct dt_sim_counters c;

	ck_assert_int_eq(dt_sim_counters(host, domid, &c), 0);
	return c.calls;
}

/* ---- what domtrace reported: the JSON log's call records ---- */

struct rec {
	uint64_t seq;
	unsigned vcpu;
	int pid, nr;
	bool compat, post, unfinished, has_ret, used;
	int64_t ret;
};

static bool json_int(const char *line, const char *key, int64_t *ret)
{
	const char *p = strstr(line, key);

	if (!p)
		return false;
	*ret = strtoll(p + strlen(key), NULL, 10);
	return true;
}

static size_t read_records(const char *path, struct rec **ret)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, n = 0, vcap = 0;
	struct rec *v = NULL;

	ck_assert_ptr_nonnull(f);
	while (getline(&line, &cap, f) > 0) {
		struct rec r = { 0 };
		const char *raw = strstr(line, "\"raw\":[");
		int64_t x;

		if (!strstr(line, "\"type\":\"call\""))
			continue;
		ck_assert_msg(raw && json_int(line, "\"seq\":", &x), "bad record: %s", line);
		r.seq = (uint64_t)x;
		ck_assert(json_int(line, "\"vcpu\":", &x));
		r.vcpu = (unsigned)x;
		ck_assert(json_int(line, "\"pid\":", &x));
		r.pid = (int)x;
		ck_assert(json_int(line, "\"nr\":", &x));
		r.nr = (int)x;
		r.compat = strstr(line, "\"compat\":true") != NULL;
		r.post = strstr(line, "\"when\":\"post\"") != NULL;
		r.unfinished = strstr(line, "\"unfinished\":true") != NULL;
		r.has_ret = json_int(raw, "\"ret\":", &r.ret); /* after the args: no guest string */
		if (n == vcap) {
			vcap = vcap ? vcap * 2 : 16384;
			v = realloc(v, vcap * sizeof(*v));
			ck_assert_ptr_nonnull(v);
		}
		v[n++] = r;
	}
	free(line);
	fclose(f);
	*ret = v;
	return n;
}

/* ---- the accounting ---- */

struct tally {
	size_t paired, unfinished, entry_only, moved, ambiguous_skipped, records;
	size_t posts, pres, kernel, vcpu_differs;
};

static int by_pid_seq_call(const void *a, const void *b)
{
	const struct dt_sim_call *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int by_pid_seq_rec(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* An entry-only record of this pid (recs[from..end)) for call c: in flight at detach,
 * or a call that never returns. */
static bool take_entry(struct rec *recs, size_t from, size_t end, const struct dt_sim_call *c,
		       struct tally *t)
{
	size_t u;

	for (u = from; u < end; u++)
		if (!recs[u].post && !recs[u].used && recs[u].nr == c->nr &&
		    recs[u].compat == c->compat) {
			recs[u].used = true;
			recs[u].unfinished ? t->unfinished++ : t->entry_only++;
			return true;
		}
	return false;
}

/*
 * Calls entered in (from, to] were made while domtrace was attached; those in the
 * windows (amb[0], amb[1]] and (amb[2], amb[3]] entered while it attached or detached,
 * so they may have a record or not (but never two). A task makes one call at a time, so
 * per pid the sim's calls in entry order and domtrace's returns in record order are the
 * same sequence. Entry-only records go first to the calls that must have one, then to
 * those of the windows (an init wait4 from before the attach must not take the
 * unfinished entry of its last one).
 */
static void account(struct dt_sim_call *calls, size_t ncalls, struct rec *recs, size_t nrecs,
		    uint64_t from, uint64_t to, const uint64_t amb[4], struct tally *t)
{
	bool *later = calloc(ncalls ? ncalls : 1, sizeof(*later));
	size_t i = 0, j = 0, k;

	ck_assert_ptr_nonnull(later);
	memset(t, 0, sizeof(*t));
	t->records = nrecs;
	qsort(calls, ncalls, sizeof(*calls), by_pid_seq_call);
	qsort(recs, nrecs, sizeof(*recs), by_pid_seq_rec);
	for (k = 0; k < nrecs; k++) {
		recs[k].post ? t->posts++ : t->pres++;
		if (recs[k].nr < 0) { /* do_exit (Functions * has it): no system call */
			recs[k].used = true;
			t->kernel++;
		}
	}
	while (i < ncalls) {
		int pid = calls[i].pid;
		size_t rj, rend, first = i;

		while (j < nrecs && recs[j].pid < pid)
			j++; /* records of pids with no call: left unused, reported below */
		for (rend = j; rend < nrecs && recs[rend].pid == pid; rend++)
			;
		rj = j; /* the next post record of this pid */
		for (; i < ncalls && calls[i].pid == pid; i++) {
			const struct dt_sim_call *c = &calls[i];
			bool window = (c->seq > amb[0] && c->seq <= amb[1]) ||
				   (c->seq > amb[2] && c->seq <= amb[3]);

			if (c->seq <= from || c->seq > to)
				continue;
			while (rj < rend && (!recs[rj].post || recs[rj].used))
				rj++;
			/* The record's vCPU is where the function returned; the sim's where
			 * the task went back to user mode: the same one (a task leaves its
			 * vCPU inside a call only to sleep in it, before the return). A call
			 * of a window may have no record while the next record of its pid is
			 * a later call's with the same number and value: idle init's wait4
			 * (-ECHILD) and nanosleep (0), once a second, during a slow attach.
			 * So a window's call takes a record only on its own vCPU; else it
			 * takes the later call's, which is then left without one (TSan run,
			 * 8 vCPUs: init's wait4 and nanosleep reported on the vCPUs their
			 * next ones ran on). */
			if (c->done && rj < rend && recs[rj].nr == c->nr && recs[rj].compat == c->compat &&
			    recs[rj].has_ret && recs[rj].ret == c->ret &&
			    (!window || recs[rj].vcpu == c->ret_vcpu)) {
				if (recs[rj].vcpu != c->ret_vcpu) {
					t->vcpu_differs++;
					fprintf(stderr, "pid %d nr %d seq %" PRIu64 ": returned to user "
						"on vCPU %u, reported on %u\n", pid, c->nr, c->seq,
						c->ret_vcpu, recs[rj].vcpu);
				}
				recs[rj].used = true;
				t->paired++;
				if (c->vcpu != c->ret_vcpu)
					t->moved++;
				continue;
			}
			if (window) {
				later[i] = true;
				continue;
			}
			/* no return seen: an entry only (in flight at detach, or never returns) */
			if (take_entry(recs, j, rend, c, t))
				continue;
			ck_abort_msg("lost: pid %d %s nr %d (seq %" PRIu64 ", vCPU %u -> %u, ret %" PRId64
				     "%s) has no record (next post: %s nr %d ret %" PRId64 ")",
				     pid, c->compat ? "i386" : "x86-64", c->nr, c->seq, c->vcpu,
				     c->ret_vcpu, c->ret, c->done ? "" : ", in flight",
				     rj < rend ? "" : "none", rj < rend ? recs[rj].nr : -1,
				     rj < rend ? recs[rj].ret : 0);
		}
		for (k = first; k < i; k++)
			if (later[k] && !take_entry(recs, j, rend, &calls[k], t))
				t->ambiguous_skipped++;
	}
	free(later);
	for (k = 0; k < nrecs; k++)
		ck_assert_msg(recs[k].used,
			      "record with no call (doubled or mispaired): seq %" PRIu64
			      " pid %d nr %d %s ret %" PRId64 "%s",
			      recs[k].seq, recs[k].pid, recs[k].nr, recs[k].post ? "post" : "pre",
			      recs[k].ret, recs[k].unfinished ? " unfinished" : "");
}

/* ---- the workload ---- */

/*
 * procs processes, all released at once by the gate "go", each running rounds of the
 * same calls (the same probes on every vCPU at once) and different ones, forking a
 * child that sleeps and exits while the parent blocks in wait4.
 */
static char *scenario(unsigned procs, unsigned rounds)
{
	size_t cap = (size_t)procs * rounds * 640 + 4096, len = 0;
	char *s = malloc(cap);
	unsigned p, r;

	ck_assert_ptr_nonnull(s);
#define ADD(...) (len += (size_t)snprintf(s + len, cap - len, __VA_ARGS__))
	for (p = 0; p < procs; p++) {
		int pid = 20000 + (int)p * 100;

		ADD("proc %d comm=smp%u\n", pid, p);
		for (r = 0; r < rounds; r++)
			ADD("proc %d forked comm=kid\n", pid + 1 + (int)r);
		ADD("%d await go\n", pid);
		for (r = 0; r < rounds; r++) {
			int kid = pid + 1 + (int)r;

			ADD("%d call getpid\n", pid);
			ADD("%d call openat AT_FDCWD \"/etc/passwd\" O_RDONLY 0 label=o%d_%u\n", pid,
			    pid, r);
			ADD("%d call read $o%d_%u buf:64 64\n", pid, pid, r);
			ADD("%d call close $o%d_%u\n", pid, pid, r);
			ADD("%d call socket AF_INET SOCK_STREAM 0 label=s%d_%u\n", pid, pid, r);
			ADD("%d call connect $s%d_%u inet:127.0.0.1:3306 16\n", pid, pid, r);
			ADD("%d call close $s%d_%u\n", pid, pid, r);
			ADD("%d call fork child=%d label=f%d_%u\n", pid, kid, pid, r);
			ADD("%d sleep %u\n", kid, 1 + (p + r) % 3);
			ADD("%d call getppid\n", kid);
			ADD("%d exit 0\n", kid);
			ADD("%d call wait4 $f%d_%u int:0 0 0\n", pid, pid, r);
			ADD("%d sleep %u\n", pid, 1 + r % 2);
		}
	}
#undef ADD
	ck_assert_uint_lt(len, cap);
	return s;
}

struct progress {
	struct dt_harness *h;
	struct simlog *log;
	uint64_t from, min_calls;
	size_t moved;
};

static size_t moved_calls(const struct simlog *l, uint64_t from)
{
	size_t i, n = 0;

	for (i = 0; i < l->n; i++)
		n += l->v[i].seq > from && l->v[i].vcpu != l->v[i].ret_vcpu;
	return n;
}

/* The scripts are done, the workload has made min_calls calls since attach, and some
 * came back on another vCPU than they entered on. */
static bool enough(void *arg)
{
	struct progress *g = arg;

	simlog_drain(g->log);
	if (dt_sim_scenario_wait(g->h->host, 0) != 0 ||
	    sim_calls(g->log->host, g->log->domid) < g->from + g->min_calls)
		return false;
	g->moved = moved_calls(g->log, g->from);
	return g->moved > 0;
}

struct past_entry {
	struct dt_harness *h;
	struct simlog *log;
	uint64_t calls; /* the sim's call count at the quiet instant */
};

/*
 * Every call the guest has entered is past its function's entry (its body ran: the
 * entry probe has trapped and been answered), or done: no call is between the syscall
 * instruction and its probe, and no entry trap waits. Then every call up to q->calls
 * must have a record; one entered after it may not (it races the detach). And the
 * reporter has written every event so far: the stop tells --lossless workers not to
 * wait any more, so the unfinished entries sent at detach must find room.
 */
static bool all_past_entry(void *arg)
{
	struct past_entry *q = arg;
	struct dt_sim_task *tasks = NULL;
	struct dt_report_stats rs;
	size_t n = 0, i;
	uint64_t before;
	bool ok;

	simlog_drain(q->log);
	dt_report_stats(q->h->d->reporter, &rs);
	if (rs.q.delivered != rs.q.enqueued)
		return false;
	before = sim_calls(q->log->host, q->log->domid);
	ck_assert_int_eq(dt_sim_tasks(q->log->host, q->log->domid, &tasks, &n), 0);
	ok = sim_calls(q->log->host, q->log->domid) == before;
	for (i = 0; ok && i < n; i++)
		ok = !tasks[i].call_seq || tasks[i].call_body_ran;
	free(tasks);
	q->calls = before;
	return ok;
}

struct settle {
	struct simlog *log;
	struct dt_sim_task *tasks; /* the guest's tasks when it was settled */
	size_t n;
};

/*
 * After the detach: no task is inside a call while on a vCPU. A task the detach's pause
 * caught between its function's return (its record written) and the return to user mode
 * (where the sim logs the call done) is still on its vCPU until its thread runs again,
 * which on a loaded host can be after the unpause and the wait for resumed traps; read
 * then, its call looks in flight though domtrace saw it end. A task leaves its vCPU inside
 * a call only to sleep in the call's body (before its return), so once none is on one,
 * every call still in the kernel is before its function's return: its record is an
 * unfinished entry, and every call that returned is in the sim's log.
 */
static bool settled(void *arg)
{
	struct settle *st = arg;
	size_t i;

	free(st->tasks);
	st->tasks = NULL;
	ck_assert_int_eq(dt_sim_tasks(st->log->host, st->log->domid, &st->tasks, &st->n), 0);
	for (i = 0; i < st->n; i++)
		if (st->tasks[i].call_seq && st->tasks[i].on_vcpu >= 0)
			return false;
	return true;
}

/* DT_SMP_KEEP=1: keep both sides for a look after a failure (/tmp/smp-N.json, .sim). */
static void keep(const struct dt_harness *h, unsigned vcpus, const struct simlog *l,
		 const uint64_t amb[4])
{
	char path[64], cmd[256];
	FILE *f;
	size_t i;

	snprintf(cmd, sizeof(cmd), "cp %s /tmp/smp-%u.json", h->log_path, vcpus);
	(void)!system(cmd);
	snprintf(path, sizeof(path), "/tmp/smp-%u.sim", vcpus);
	f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f, "windows %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", amb[0], amb[1],
		amb[2], amb[3]);
	for (i = 0; i < l->n; i++)
		fprintf(f, "%" PRIu64 " pid %d nr %d compat %d ret %" PRId64 " vcpu %u->%u done %d\n",
			l->v[i].seq, l->v[i].pid, l->v[i].nr, l->v[i].compat, l->v[i].ret,
			l->v[i].vcpu, l->v[i].ret_vcpu, l->v[i].done);
	fclose(f);
}

static void run_smp(unsigned vcpus, unsigned procs, unsigned rounds, uint64_t min_calls)
{
	struct dt_harness h;
	struct simlog log = { 0 };
	struct progress g = { 0 };
	struct past_entry q = { 0 };
	struct dt_trap_totals tot;
	struct dt_report_stats rs;
	struct dt_sim_counters c;
	struct dt_sim_task *tasks = NULL;
	struct settle st = { 0 };
	struct tally t;
	struct rec *recs;
	size_t ntasks = 0, nrecs, i, early;
	uint64_t amb[4];
	char *scn, err[256] = "";

	dt_harness_init(&h, 1);
	h.sp.vcpus = vcpus;
	h.sp.rate = 0; /* as fast as the vCPUs go */
	h.sp.workload = false; /* started once attached: every call has its entry seen */
	h.o.lossless = true;   /* the queue waits rather than drops: every record counted */
	dt_harness_open(&h, "Functions *\n");
	log.host = h.host;
	log.domid = h.domids[0];
	amb[0] = sim_calls(h.host, log.domid); /* idle init may call while we attach */
	dt_harness_attach(&h, NULL);
	amb[1] = sim_calls(h.host, log.domid);

	ck_assert_int_eq(dt_sim_vm_workload(h.host, log.domid, true), 0);
	scn = scenario(procs, rounds);
	ck_assert_msg(dt_sim_scenario_text(h.host, scn, err, sizeof(err)) == 0, "scenario: %s", err);
	free(scn);
	ck_assert_int_eq(dt_sim_gate_open(h.host, "go"), 0);
	g = (struct progress){ .h = &h, .log = &log, .from = amb[1], .min_calls = min_calls };
	ck_assert_msg(dt_harness_wait(enough, &g, 240000),
		      "scripts not done, too few calls, or none came back on another vCPU (%zu)",
		      g.moved);

	/* the workload stops starting calls; the last ones end or stay asleep in the kernel */
	ck_assert_int_eq(dt_sim_vm_workload(h.host, log.domid, false), 0);
	q.h = &h;
	q.log = &log;
	ck_assert_msg(dt_harness_wait(all_past_entry, &q, 60000), "calls never all past their entry");
	amb[2] = q.calls;
	dt_harness_finish_report(&h, &tot, &rs); /* detach; bytes identical, none paused, no crash */
	amb[3] = sim_calls(h.host, log.domid);
	ck_assert(dt_harness_wait_resumed(&h, 20000));

	/* calls still inside the kernel once the guest has settled (asleep at detach), then
	 * every completed one */
	st.log = &log;
	ck_assert_msg(dt_harness_wait(settled, &st, 60000),
		      "a task stayed on its vCPU inside a call after the detach");
	tasks = st.tasks;
	ntasks = st.n;
	simlog_drain(&log);
	ck_assert_msg(log.lost == 0, "the sim's call log dropped %" PRIu64 " calls", log.lost);
	for (i = 0; i < ntasks; i++) {
		struct dt_sim_call cur = { 0 };
		size_t k;
		bool logged = false;

		if (!tasks[i].call_seq)
			continue;
		for (k = log.n; k-- > 0 && !logged;)
			logged = log.v[k].seq == tasks[i].call_seq;
		if (logged)
			continue; /* completed between the two reads */
		cur.seq = tasks[i].call_seq;
		cur.pid = tasks[i].pid;
		cur.nr = tasks[i].call_nr;
		cur.compat = tasks[i].call_compat;
		if (log.n == log.cap) {
			log.cap *= 2;
			log.v = realloc(log.v, log.cap * sizeof(*log.v));
			ck_assert_ptr_nonnull(log.v);
		}
		log.v[log.n++] = cur;
	}
	free(tasks);

	ck_assert_int_eq(dt_sim_counters(h.host, log.domid, &c), 0);
	nrecs = read_records(h.log_path, &recs);
	if (getenv("DT_SMP_KEEP"))
		keep(&h, vcpus, &log, amb);
	ck_assert_msg(rs.lost_total == 0, "%" PRIu64 " events lost on their way to the log",
		      rs.lost_total);
	ck_assert_msg(tot.errors == 0 && tot.not_ours == 0,
		      "%" PRIu64 " hits undecodable, %" PRIu64 " traps not ours", tot.errors,
		      tot.not_ours);
	account(log.v, log.n, recs, nrecs, amb[0], amb[3], amb, &t);
	fprintf(stderr,
		"smp %u vCPUs: %zu calls paired (%zu returned on another vCPU), %zu unfinished, "
		"%zu entries only (exit), %zu do_exit, "
		"%zu in the attach/detach windows without a record, %zu on another vCPU than the "
		"guest's return; sim: %" PRIu64
		" migrations, %" PRIu64 " traps; domtrace: %" PRIu64 " traps, %" PRIu64
		" calls, %" PRIu64 " returns, %" PRIu64 " helper hits, %" PRIu64 " unpaired\n",
		vcpus, t.paired, t.moved, t.unfinished, t.entry_only, t.kernel, t.ambiguous_skipped,
		t.vcpu_differs, c.migrations, c.traps, tot.traps, tot.calls, tot.returns, tot.helpers, tot.unpaired);

	/* the guest really ran in parallel and moved tasks between vCPUs inside calls */
	ck_assert_uint_gt(c.migrations, 0);
	ck_assert_uint_gt(t.moved, 0);
	ck_assert_uint_gt(t.paired, (size_t)procs * rounds * 9);
	/* the daemon's own counts agree with its records */
	ck_assert_uint_eq(tot.calls, t.records);
	ck_assert_uint_eq(tot.returns, t.posts);
	/* every trap is an entry, a return, a helper point (execve's bprm_execve) or the
	 * return of a call that entered before the probes were in (no record) */
	ck_assert_uint_eq(tot.traps, tot.calls + tot.returns + tot.helpers + tot.unpaired);
	/* unpaired: returns of calls that entered before the probes were in, and at most one
	 * trap per vCPU that waited as its probe was removed at the detach (the account
	 * above already proved every call's record exact: none of these hides a lost entry;
	 * ASan run of the 8-vCPU case, 2026-12-06: 3 unpaired, 2 early calls) */
	for (i = 0, early = 0; i < log.n; i++)
		early += log.v[i].seq <= amb[1];
	ck_assert_uint_le(tot.unpaired, early + vcpus);
	/* and the guest posted no trap domtrace did not take, but those it was waiting on as
	 * it detached (answered by the close) */
	ck_assert_uint_ge(c.traps, tot.traps);
	ck_assert_uint_le(c.traps - tot.traps, vcpus);
	free(recs);
	free(log.v);
	dt_harness_free(&h);
}

START_TEST(vcpus_4)
{
	run_smp(4, 8, 6, 2500);
}
END_TEST

START_TEST(vcpus_8)
{
	run_smp(8, 16, 4, 2500);
}
END_TEST

START_TEST(vcpus_32)
{
	run_smp(32, 48, 2, 2500);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("smp");
	const struct {
		const char *name;
		const TTest *test;
	} cases[] = { { "vcpus4", vcpus_4 }, { "vcpus8", vcpus_8 }, { "vcpus32", vcpus_32 } };
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		TCase *tc = tcase_create(cases[i].name); /* CK_RUN_CASE=vcpus32: that one only */

		tcase_set_timeout(tc, 280);
		tcase_add_test(tc, cases[i].test);
		suite_add_tcase(s, tc);
	}
	return dt_check_run(s);
}
