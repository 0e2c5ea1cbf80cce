// SPDX-License-Identifier: GPL-2.0-only
/*
 * sim_scn.c - running scenarios (docs/SIM.md; parser: sim_scn_parse.c): creating their VMs
 * and processes, and executing each process's script step by step on the vCPUs like any
 * user program (every call a real kernel entry).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_scn.h"

#define perr dt_sim_scn_perr

/* ---- running ---- */
static int run_fail(struct parse *ps, int line, int err, const char *what)
{
	ps->line = line;
	perr(ps, "%s: %s", what, strerror(-err));
	return err;
}

/* A registered script whose process will never run. */
static void script_abandon(struct dt_sim_host *h, struct sim_script *s)
{
	pthread_mutex_lock(&h->lock);
	if (!s->finished) {
		s->finished = true;
		if (h->scripts_running)
			h->scripts_running--;
		pthread_cond_broadcast(&h->cond);
	}
	pthread_mutex_unlock(&h->lock);
}

static int start_proc(struct dt_sim_host *h, struct parse *ps, struct sim_script *s)
{
	struct sim_task *parent, *t;
	struct sim_vm *vm;
	int err;

	if (s->forked)
		return 0;
	vm = dt_sim_vm_get(h, s->domid);
	if (!vm) {
		script_abandon(h, s);
		return run_fail(ps, s->line, -ENODEV, "proc");
	}
	pthread_mutex_lock(&vm->lock);
	err = -ESRCH;
	parent = dt_sim_task_find(vm, s->ppid);
	if (!parent || parent->state == TS_ZOMBIE || parent->kthread)
		goto out;
	err = -EEXIST;
	if (dt_sim_task_find(vm, s->pid))
		goto out;
	err = -ENOMEM;
	t = dt_sim_task_new(vm, parent, s->pid, s->comm, s->compat, SIM_TF_NEW_MM);
	if (!t)
		goto out;
	dt_sim_task_set_ids(t, s->ids);
	memset(t->fd, 0, sizeof(t->fd));
	t->fd[0].kind = t->fd[1].kind = t->fd[2].kind = FD_TTY;
	memset(&t->prog, 0, sizeof(t->prog));
	t->prog.kind = P_SCRIPT;
	t->prog.script = s;
	dt_sim_rq_push(vm, t);
	dt_sim_vm_wake(vm);
	err = 0;
out:
	pthread_mutex_unlock(&vm->lock);
	dt_sim_vm_put(vm);
	if (!err)
		return 0;
	script_abandon(h, s);
	return run_fail(ps, s->line, err, "proc: cannot create the process");
}

static int register_labels(struct dt_sim_host *h, struct sim_script *s)
{
	size_t i;

	pthread_mutex_lock(&h->lock);
	for (i = 0; i < s->n; i++) {
		if (!s->steps[i].label[0] || s->steps[i].kind == SK_AWAIT)
			continue;
		if (!dt_sim_label_add_locked(h, s->steps[i].label)) {
			pthread_mutex_unlock(&h->lock);
			return -ENOMEM;
		}
	}
	h->scripts_running++;
	pthread_mutex_unlock(&h->lock);
	return 0;
}

int dt_sim_scn_run(struct dt_sim_host *h, const char *text, const char *fname, char *err,
		   size_t errlen)
{
	struct parse ps = { .fname = fname ? fname : "<scenario>", .err = err, .errlen = errlen };
	char *copy = strdup(text), *line, *next;
	struct vmdecl *d;
	struct sim_script *s;
	int rc = -EINVAL;

	if (err && errlen)
		err[0] = 0;
	if (!copy)
		return -ENOMEM;
	/* the current VM starts as the first traceable one */
	{
		struct sim_vm *vm;
		uint32_t best = UINT32_MAX;

		pthread_mutex_lock(&h->lock);
		for (vm = h->vms; vm; vm = vm->next) {
			if (!vm->p.pv && vm->domid < best) {
				best = vm->domid;
				snprintf(ps.cur_vm, sizeof(ps.cur_vm), "%s", vm->name);
			}
		}
		pthread_mutex_unlock(&h->lock);
	}
	for (line = copy; line && !ps.failed; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		ps.line++;
		dt_sim_scn_parse_line(h, &ps, line);
	}
	if (ps.failed)
		goto out;
	/* VMs first (in file order), then processes */
	{
		struct vmdecl *rev = NULL;

		while ((d = ps.vms)) {
			ps.vms = d->next;
			d->next = rev;
			rev = d;
		}
		ps.vms = rev;
	}
	for (d = ps.vms; d; d = d->next) {
		uint32_t domid;

		if (!dt_sim_vm_find(h, d->p.name, &domid))
			continue;
		rc = dt_sim_vm_create(h, &d->p, &domid);
		if (rc) {
			run_fail(&ps, d->line, rc, "vm: cannot create");
			goto out;
		}
	}
	/* processes in file order, so that a ppid may name an earlier proc */
	{
		struct sim_script *rev = NULL;

		while ((s = ps.scripts)) {
			ps.scripts = s->next;
			s->next = rev;
			rev = s;
		}
		ps.scripts = rev;
		for (s = rev; s; s = s->next)
			s->next_start = s->next;
	}
	/* every script is known to the host (labels, VM) before any process runs: a
	 * process may fork a 'forked' one at once */
	rc = 0;
	{
		unsigned counted = 0;

		for (s = ps.scripts; s && !rc; s = s->next) {
			uint32_t domid;

			rc = dt_sim_vm_find(h, s->vm, &domid);
			if (rc) {
				run_fail(&ps, s->line, rc, "proc: VM not found");
				break;
			}
			s->domid = domid;
			rc = register_labels(h, s);
			counted += !rc;
		}
		if (rc) { /* these scripts are dropped: uncount them */
			pthread_mutex_lock(&h->lock);
			h->scripts_running -= counted;
			pthread_cond_broadcast(&h->cond);
			pthread_mutex_unlock(&h->lock);
			goto out;
		}
	}
	{
		struct sim_script *list = ps.scripts, *nx;

		ps.scripts = NULL;
		pthread_mutex_lock(&h->lock);
		for (s = list; s; s = nx) {
			nx = s->next;
			s->next = h->scripts;
			h->scripts = s;
		}
		pthread_mutex_unlock(&h->lock);
		for (s = list; s; s = nx) {
			nx = s->next_start;
			if (!rc)
				rc = start_proc(h, &ps, s);
			else
				script_abandon(h, s);
		}
	}
out:
	while ((d = ps.vms)) {
		ps.vms = d->next;
		free(d);
	}
	dt_sim_scripts_free(ps.scripts);
	free(copy);
	return rc;
}

/* ---- execution (vm->lock held, on the vCPU running the task) ---- */
static void script_done(struct sim_task *t)
{
	struct sim_script *s = t->prog.script;
	struct dt_sim_host *h = t->vm->h;

	if (!s)
		return;
	pthread_mutex_lock(&h->lock);
	if (!s->finished) {
		s->finished = true;
		if (h->scripts_running)
			h->scripts_running--;
		pthread_cond_broadcast(&h->cond);
	}
	pthread_mutex_unlock(&h->lock);
}

static bool label_result(struct dt_sim_host *h, const char *label, int64_t *ret)
{
	size_t i;
	bool done = false;

	pthread_mutex_lock(&h->lock);
	for (i = 0; i < h->nlabels; i++) {
		if (!strcmp(h->labels[i].label, label)) {
			done = h->labels[i].call.done;
			*ret = h->labels[i].call.ret;
			break;
		}
	}
	pthread_mutex_unlock(&h->lock);
	return done;
}

struct ubuf {
	struct sim_task *t;
	uint64_t off, npoff;
};

static uint64_t uplace(struct ubuf *u, const void *p, size_t n, bool np)
{
	struct sim_mm *mm = u->t->mm;
	uint64_t *off = np ? &u->npoff : &u->off, lim = np ? 2 * SIM_PAGE : mm->arena_len, va;

	*off = (*off + 7) & ~7ULL;
	if (*off + n > lim)
		*off = 0;
	va = (np ? mm->np : mm->arena) + *off;
	if (p)
		dt_sim_uput(u->t, va, p, n);
	*off += n;
	return va;
}

static uint64_t build_arg(struct ubuf *u, const struct sarg *a, bool *ok)
{
	struct sim_task *t = u->t;
	uint8_t sa[110] = { 0 };
	size_t i;

	switch (a->kind) {
	case AK_INT:
		return (uint64_t)a->v;
	case AK_STR:
		return uplace(u, a->s, a->len, a->np);
	case AK_BUF: {
		static const uint8_t zero[4096];

		return uplace(u, zero, a->len, a->np);
	}
	case AK_INTP: {
		int32_t v = (int32_t)a->v;

		return uplace(u, &v, 4, false);
	}
	case AK_STRV: {
		uint64_t p64[SCN_MAX_STRV] = { 0 };
		uint32_t p32[SCN_MAX_STRV] = { 0 };

		for (i = 0; i < a->nstrv; i++) {
			p64[i] = uplace(u, a->strv[i], strlen(a->strv[i]) + 1, a->np);
			p32[i] = (uint32_t)p64[i];
		}
		return t->compat ? uplace(u, p32, (a->nstrv + 1) * 4, a->np)
				 : uplace(u, p64, (a->nstrv + 1) * 8, a->np);
	}
	case AK_INTV:
		return uplace(u, a->iv, a->nstrv * 4, false);
	case AK_SIN:
		sa[0] = 2;
		sa[2] = (uint8_t)(a->port >> 8), sa[3] = (uint8_t)a->port;
		memcpy(sa + 4, a->addr, 4);
		return uplace(u, sa, 16, false);
	case AK_SIN6:
		sa[0] = 10;
		sa[2] = (uint8_t)(a->port >> 8), sa[3] = (uint8_t)a->port;
		memcpy(sa + 8, a->addr, 16);
		return uplace(u, sa, 28, false);
	case AK_SUN:
		sa[0] = 1;
		snprintf((char *)sa + 2, sizeof(sa) - 2, "%s", a->s);
		return uplace(u, sa, 110, false);
	case AK_REF: {
		int64_t v = 0;

		if (!label_result(t->vm->h, a->ref, &v))
			*ok = false;
		return (uint64_t)v;
	}
	}
	return 0;
}

void dt_sim_script_step(struct sim_task *t, struct sim_ucall *uc)
{
	struct sim_script *s = t->prog.script;
	struct ubuf u = { .t = t };
	const struct sstep *st;
	int64_t dummy;
	int i;

again:
	if (!s || t->prog.spc >= s->n) {
		script_done(t);
		uc->act = UA_SYSCALL;
		uc->nr = t->compat ? 252 : 231; /* exit_group(0) */
		return;
	}
	st = &s->steps[t->prog.spc];
	switch (st->kind) {
	case SK_AWAIT:
		if (!label_result(t->vm->h, st->label, &dummy)) {
			uc->act = UA_IDLE;
			return;
		}
		t->prog.spc++;
		goto again;
	case SK_SEGV:
		t->prog.spc++;
		uc->act = UA_SEGV;
		return;
	case SK_SLEEP: {
		int64_t ts[2] = { st->ms / 1000, (st->ms % 1000) * 1000000 };
		int32_t t32[2] = { (int32_t)ts[0], (int32_t)ts[1] };

		uc->act = UA_SYSCALL;
		uc->nr = t->compat ? 162 : 35; /* nanosleep */
		uc->a[0] = t->compat ? uplace(&u, t32, 8, false) : uplace(&u, ts, 16, false);
		t->prog.spc++;
		return;
	}
	case SK_CALL: {
		bool ok = true;
		uint64_t a[SCN_MAX_ARGS] = { 0 };

		for (i = 0; i < st->na; i++)
			a[i] = build_arg(&u, &st->a[i], &ok);
		if (!ok) { /* a referenced call is not done yet */
			uc->act = UA_IDLE;
			return;
		}
		uc->act = UA_SYSCALL;
		uc->nr = st->nr;
		memcpy(uc->a, a, sizeof(a));
		uc->label = st->label[0] ? st->label : NULL;
		uc->race = st->race;
		uc->race_len = st->race_len;
		if (st->child)
			t->fork_pid = st->child;
		t->prog.spc++;
		return;
	}
	}
}

void dt_sim_script_result(struct sim_task *t, int64_t ret)
{
	struct sim_script *s = t->prog.script, *c;
	struct dt_sim_host *h = t->vm->h;

	if (ret == INT64_MIN) { /* the process is exiting */
		script_done(t);
		return;
	}
	t->prog.last = ret;
	if (!s || s->pid == t->pid)
		return;
	/* a forked child: adopt the script declared for its pid, or end */
	t->prog.script = NULL;
	t->prog.spc = 0;
	pthread_mutex_lock(&h->lock);
	for (c = h->scripts; c; c = c->next)
		if (c->pid == t->pid && c->domid == t->vm->domid && c->forked && !c->finished)
			break;
	pthread_mutex_unlock(&h->lock);
	t->prog.script = c;
}
