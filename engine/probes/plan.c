// SPDX-License-Identifier: GPL-2.0-only
/*
 * Which breakpoints a VM needs under the current policy, and making the guest match:
 * new sites are armed before old ones are removed, all under one pause, so a function
 * that stays wanted is never unprobed for an instant.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domtrace/catalog.h"
#include "domtrace/config.h"
#include "domtrace/filter.h"
#include "domtrace/log.h"
#include "domtrace/journal.h"
#include "probes/plan.h"
#include "vmctx.h"

/* Kernel functions probed for domtrace's own needs, not traced. */
static const char *const exec_helpers[] = { "bprm_execve", "do_execveat_common", NULL };

/*
 * Does an abort filter that applies to this VM read the path of open, openat, openat2
 * or creat? OPEN_NAME: the name (argname=filename / pathname / regs:...), decided on the
 * kernel's own copy at do_filp_open (dt_kcopy_arg); OPEN_OBJECT: the file it reached
 * (filename:path), decided at security_file_open; argname=* reads both.
 */
enum { OPEN_NAME = 1, OPEN_OBJECT = 2 };

static unsigned aborts_on_open_path(const struct dt_config *cfg, const char *vm)
{
	unsigned want = 0, what;
	size_t i, k;

	for (i = 0; i < cfg->nfilters; i++) {
		const struct dt_filter_spec *f = &cfg->filters[i];
		const char *an = f->argname;

		if (!f->apply || !f->argval.code || !an ||
		    !dt_config_section_applies(cfg, f->section, vm))
			continue;
		if (strncmp(an, "regs:", 5) == 0)
			an += 5;
		if (strcmp(an, "*") == 0)
			what = OPEN_NAME | OPEN_OBJECT;
		else if (!strcmp(an, "filename:path") || !strcmp(an, "pathname:path"))
			what = OPEN_OBJECT;
		else if (!strcmp(an, "filename") || !strcmp(an, "pathname"))
			what = OPEN_NAME;
		else
			continue;
		for (k = 0; !f->any_func && k < f->nfuncs; k++)
			if (dt_kcopy_arg(f->funcs[k]) >= 0)
				break;
		if (f->any_func || k < f->nfuncs)
			want |= what;
	}
	return want;
}


struct planned {
	struct dt_probe *v;
	size_t n, cap;
};

static int planned_add(struct planned *pl, const struct dt_probe *p)
{
	size_t i;

	for (i = 0; i < pl->n; i++)
		if (pl->v[i].site.addr == p->site.addr)
			return 0; /* two names for one function (aliases): first one wins */
	if (pl->n == pl->cap) {
		size_t cap = pl->cap ? pl->cap * 2 : 64;
		struct dt_probe *v = realloc(pl->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		pl->v = v;
		pl->cap = cap;
	}
	pl->v[pl->n++] = *p;
	return 0;
}

/* The first symbol above addr (the table is sorted by address): the function's end. */
static const struct dt_sym *next_symbol(const struct dt_symtab *map, uint64_t addr)
{
	size_t lo = 0, hi = dt_symtab_count(map);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (dt_symtab_index(map, mid)->addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < dt_symtab_count(map) ? dt_symtab_index(map, lo) : NULL;
}

/*
 * The bytes of a whole function (from its symbol to the next one, bounded) as the
 * kernel has them: where our own breakpoints are armed, their original bytes.
 */
static ssize_t read_function(struct dt_vmctx *vm, const struct dt_plan_env *env,
			     const struct dt_sym *sym, uint8_t *buf, size_t cap)
{
	const struct dt_sym *next = next_symbol(env->map, sym->addr);
	uint64_t va = dt_guest_sym_runtime(vm->guest, sym), len = cap;
	ssize_t n;
	size_t i;

	if (next && next->addr - sym->addr < len)
		len = next->addr - sym->addr;
	n = dt_guest_read_kernel(vm->guest, va, buf, (size_t)len);
	for (i = 0; n > 0 && i < dt_probe_table_capacity(vm->probes); i++) {
		struct dt_probe *p = dt_probe_table_slot(vm->probes, i);

		if (p && p->armed && p->site.addr >= va && p->site.addr + vm->insn.len <= va + (uint64_t)n)
			memcpy(buf + (p->site.addr - va), p->site.orig, vm->insn.len);
	}
	return n;
}

/* Plan the entry (and, if wanted, the exits) of one kernel symbol. */
static int plan_symbol(struct dt_vmctx *vm, const struct dt_plan_env *env, struct planned *pl,
		       const struct dt_sym *sym, int func_id,
		       bool compat, bool regs_abi, uint8_t role, bool want_exits, bool *ret_exits_ok,
		       const char **ret_why)
{
	uint8_t *code = env->code_buf;
	struct dt_site exits[DT_EXITS_MAX];
	struct dt_probe p = { .role = role, .compat = compat, .regs_abi = regs_abi, .func_id = func_id };
	uint64_t va = dt_guest_sym_runtime(vm->guest, sym);
	size_t nexits = 0, i;
	ssize_t len;
	int r;

	len = read_function(vm, env, sym, code, DT_FUNC_SCAN_MAX);
	if (len < 0)
		return (int)len;
	r = dt_site_find_entry(code, (size_t)len, va, &p.site, ret_why);
	if (r < 0)
		return r;
	if (!dt_site_fits(&p.site, vm->insn.len)) {
		*ret_why = "entry instruction too short for the trap instruction";
		return -EMSGSIZE;
	}
	r = planned_add(pl, &p);
	if (r < 0 || !want_exits)
		return r;
	r = dt_site_find_exits(code, (size_t)len, va, env->return_thunk, exits, DT_EXITS_MAX, &nexits,
			       ret_why);
	for (i = 0; r == 0 && i < nexits; i++)
		if (!dt_site_fits(&exits[i], vm->insn.len)) {
			*ret_why = "a return instruction is shorter than the trap instruction";
			r = -EMSGSIZE;
		}
	if (r < 0)
		return 0; /* traced without return values; the caller says why */
	for (i = 0; i < nexits; i++) {
		struct dt_probe x = { .site = exits[i], .role = DT_PROBE_EXIT, .compat = compat,
				      .regs_abi = regs_abi, .func_id = func_id };

		r = planned_add(pl, &x);
		if (r < 0)
			return r;
	}
	*ret_exits_ok = true;
	return 0;
}

/* An internal probe on a kernel function; false (said once, at warning level) if it
 * cannot be armed. */
static int plan_helper(struct dt_vmctx *vm, const struct dt_plan_env *env, struct planned *pl,
		       const char *fn,
		       enum dt_probe_role role, const char *consequence, bool *ret_armed)
{
	const struct dt_sym *s = dt_symtab_find(env->map, fn);
	const char *why = NULL;
	bool dummy;
	int r;

	r = s ? plan_symbol(vm, env, pl, s, -1, false, true, role, false, &dummy, &why) : -ENOENT;
	*ret_armed = r == 0;
	if (r == 0)
		return 0;
	dt_warn("VM %s: %s: %s: %s", vm->name, fn, why ? why : s ? strerror(-r) : "not in the symbols",
		consequence);
	return r == -ENOMEM || r == -ENODEV ? r : 0;
}

/* The kernel symbols that implement function `fd`: the 64-bit and the ia32 entry
 * points; the pt_regs wrappers of >= 4.17, else the older register-ABI functions. */
static size_t symbols_of(const struct dt_plan_env *env, const struct dt_funcdesc *fd,
			 const struct dt_sym **syms,
			 bool *compat, bool *regs_abi)
{
	const char *base[2] = { fd->sym64, fd->sym32 };
	char name[DT_SYM_NAME_MAX];
	size_t n = 0, k;

	if (!(fd->flags & DT_FN_SYSCALL)) {
		syms[0] = dt_symtab_find(env->map, fd->name);
		compat[0] = false;
		regs_abi[0] = true;
		return syms[0] ? 1 : 0;
	}
	for (k = 0; k < 2; k++) {
		if (!base[k] || !base[k][0])
			continue;
		snprintf(name, sizeof(name), "%s%s", k ? "__ia32_" : "__x64_", base[k]);
		syms[n] = dt_symtab_find(env->map, name);
		regs_abi[n] = false;
		if (!syms[n] && k == 0) {
			syms[n] = dt_symtab_find(env->map, base[k]);
			regs_abi[n] = true;
		}
		compat[n] = k == 1;
		if (syms[n])
			n++;
	}
	return n;
}

static void log_refusal(const struct dt_vmctx *vm, struct dt_func_plan *fp, const char *fn,
			const char *what,
			const char *why)
{
	if (fp->refused)
		return;
	fp->refused = true;
	dt_warn("VM %s: %s: %s not probed: %s", vm->name, fn, what, why);
}

static bool config_uses_ancestry(const struct dt_config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nfilters; i++)
		if (cfg->filters[i].name_subtree || cfg->filters[i].ppid.subtree)
			return true;
	return false;
}

/* pslist events go to the A3 monitor; without -a they are made only when the config
 * shows interest (a ProcessListNames line for this VM). */
static bool config_names_pslist(const struct dt_config *cfg, const char *vm)
{
	size_t i;

	for (i = 0; i < cfg->nsections; i++)
		if (cfg->sections[i].npslist_names && dt_config_section_applies(cfg, i, vm))
			return true;
	return false;
}

/* Compute the wanted probe set into pl from the policy. */
static int make_plan(struct dt_vmctx *vm, struct dt_plan_env *env, struct planned *pl)
{
	const struct dt_vm_policy *o = &vm->pol;
	const struct dt_config *cfg;
	uint8_t *flags;
	bool exec_traced = false;
	unsigned want_copy;
	const char *noret_fn = NULL, *noret_why = NULL;
	bool exits_allowed;
	unsigned entries_not_ready = 0;
	const char *not_ready_why = NULL;
	unsigned noret = 0;
	size_t id;
	int r = 0;

	flags = calloc(vm->nfuncs, 1);
	if (!flags)
		return -ENOMEM;
	vm->exec_helper = false;
	vm->copy_helper = false;
	vm->file_helper = false;
	/*
	 * With --trap sgdt a return probe replaces a `ret` (or a jmp to the return thunk)
	 * with an sgdt: should the hypervisor ever run that sgdt instead of reporting it,
	 * the function would not return. Guests on Xen under QEMU triple-faulted in runs with
	 * return probes (docs/DESIGN.md): until that is understood, return probes in sgdt
	 * mode are opt-in (--sgdt-returns). Entry probes are safe either way: an sgdt run in
	 * place of the entry nop5 is as harmless as the nop.
	 */
	exits_allowed = vm->insn.len == 1 || o->sgdt_returns;
	if (!exits_allowed && !env->sgdt_returns_said) {
		env->sgdt_returns_said = true;
		dt_warn("VM %s: no return probes with --trap sgdt (return values and when=post "
			"filters are off; --sgdt-returns turns them on, see docs/XEN.md)",
			vm->name);
	}
	dt_chain_read_lock();
	cfg = dt_chain_config(dt_chain_current(vm->chain));
	(void)dt_config_vm_probes(cfg, vm->name, flags, vm->nfuncs);
	vm->want_ancestry = o->report_file || config_uses_ancestry(cfg);
	vm->want_pslist = o->a3 || config_names_pslist(cfg, vm->name);
	want_copy = aborts_on_open_path(cfg, vm->name);
	dt_chain_read_unlock();

	for (id = 0; id < vm->nfuncs && r == 0; id++) {
		const struct dt_funcdesc *fd = dt_catalog_get((int)id);
		struct dt_func_plan *fp = &vm->plan[id];
		const struct dt_sym *syms[2];
		bool compat[2], regs_abi[2];
		size_t k, nsym;

		fp->flags = flags[id];
		fp->post_ok = false;
		if (!(flags[id] & DT_PROBE_PRE))
			continue;
		if (o->returns && !(fd->flags & DT_FN_NORETURN))
			fp->flags |= DT_PROBE_POST;
		if (!strcmp(fd->name, "execve") || !strcmp(fd->name, "execveat"))
			exec_traced = true;
		if (fd->flags & DT_FN_UNIMPL)
			continue;
		nsym = symbols_of(env, fd, syms, compat, regs_abi);
		if (nsym == 0) {
			/* not every kernel has every syscall; only say so at debug level */
			dt_debug("VM %s: %s: no entry point in the System.map", vm->name, fd->name);
			continue;
		}
		for (k = 0; k < nsym && r == 0; k++) {
			const char *why = NULL;
			bool exits_ok = false;
			/* execve always gets its exits: a call deferred for its strings must
			 * be sent at the latest when it returns */
			bool want_exits = ((fp->flags & DT_PROBE_POST) || !strcmp(fd->name, "execve") ||
					   !strcmp(fd->name, "execveat")) &&
					  exits_allowed;

			r = plan_symbol(vm, env, pl, syms[k], (int)id, compat[k], regs_abi[k], DT_PROBE_ENTRY,
					want_exits, &exits_ok, &why);
			if (r == -EAGAIN) {
				entries_not_ready++;
				not_ready_why = why;
				r = 0;
				continue;
			}
			if (r == -EINVAL || r == -EMSGSIZE || r == -EFAULT) {
				log_refusal(vm, fp, syms[k]->name, "entry", why ? why : strerror(-r));
				r = 0;
				continue;
			}
			if (want_exits && !exits_ok && why && !fp->refused) {
				noret++;
				noret_fn = syms[k]->name;
				noret_why = why;
			}
			if (r == 0)
				dt_debug("VM %s: %s: entry probe; %s%s", vm->name, syms[k]->name,
					 exits_ok ? "return probes" : want_exits ? "no return probes: "
										 : "no return value wanted",
					 !exits_ok && want_exits && why ? why : "");
			fp->post_ok |= exits_ok;
		}
	}
	/* Every entry still a call: a kernel early in its boot. Nothing is armed; the
	 * caller tries again later (attach) or says so (reload). */
	if (r == 0 && entries_not_ready && pl->n == 0) {
		free(flags);
		env->not_ready_why = not_ready_why;
		return -EAGAIN;
	}
	if (entries_not_ready)
		dt_warn("VM %s: %u entry points not probed: %s", vm->name, entries_not_ready,
			not_ready_why);
	if (noret)
		dt_warn("VM %s: %u entry points without return probes, traced without return values "
			"(e.g. %s: %s)",
			vm->name, noret, noret_fn, noret_why);
	/* execve's strings may be on pages not yet present at entry: a helper probe where
	 * the kernel has faulted them in completes the event (and tells the ancestry cache
	 * that a task is changing its image). */
	for (size_t i = 0; (exec_traced || vm->want_ancestry) && r == 0 && exec_helpers[i]; i++) {
		const struct dt_sym *s = dt_symtab_find(env->map, exec_helpers[i]);
		const char *why = NULL;
		bool dummy;

		if (!s)
			continue;
		r = plan_symbol(vm, env, pl, s, -1, false, true, DT_PROBE_EXEC_HELPER, false, &dummy, &why);
		if (r == 0) {
			vm->exec_helper = true;
			vm->exec_helper_bprm = i == 0;
			break;
		}
		dt_debug("VM %s: %s: %s", vm->name, exec_helpers[i], why ? why : strerror(-r));
		r = r == -ENOMEM || r == -ENODEV ? r : 0;
	}
	/* open paths an abort filter reads: decided where the kernel has copied them, and
	 * the files opens reach where the kernel has resolved them */
	if (r == 0 && (want_copy & OPEN_NAME))
		r = plan_helper(vm, env, pl, "do_filp_open", DT_PROBE_COPY_HELPER,
				"open paths are decided on the program's string at entry (a racing "
				"thread can change it after the check)",
				&vm->copy_helper);
	if (r == 0 && (want_copy & OPEN_OBJECT))
		r = plan_helper(vm, env, pl, "security_file_open", DT_PROBE_FILE_HELPER,
				"filters on the file an open reached (filename:path) cannot decide "
				"before the call runs",
				&vm->file_helper);
	/* the ancestry cache must hear of exits even when do_exit is not traced */
	if (r == 0 && vm->want_ancestry && vm->exit_id >= 0 && !(flags[vm->exit_id] & DT_PROBE_PRE)) {
		const struct dt_sym *s = dt_symtab_find(env->map, "do_exit");
		const char *why = NULL;
		bool dummy;

		if (s) {
			r = plan_symbol(vm, env, pl, s, vm->exit_id, false, true, DT_PROBE_EXIT_HELPER, false,
					&dummy, &why);
			if (r < 0 && r != -ENOMEM && r != -ENODEV) {
				dt_warn("VM %s: do_exit: %s: ancestry may be stale after exits", vm->name,
					why ? why : strerror(-r));
				r = 0;
			}
		}
	}
	free(flags);
	return r;
}

static int collect(struct dt_vmctx *vm, bool (*pick)(struct dt_probe *, void *), void *arg,
		   struct dt_probe ***ret_v, size_t *ret_n)
{
	size_t i, n = 0, cap = dt_probe_table_capacity(vm->probes);
	struct dt_probe **v = calloc(cap ? cap : 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (i = 0; i < cap; i++) {
		struct dt_probe *p = dt_probe_table_slot(vm->probes, i);

		if (p && pick(p, arg))
			v[n++] = p;
	}
	*ret_v = v;
	*ret_n = n;
	return 0;
}

static bool pick_unarmed(struct dt_probe *p, void *arg)
{
	return !p->armed && !p->gone;
}

static bool pick_gone(struct dt_probe *p, void *arg)
{
	return p->gone;
}

static bool pick_armed(struct dt_probe *p, void *arg)
{
	return p->armed;
}

int dt_plan_probes(struct dt_vmctx *vm, struct dt_plan_env *env)
{
	struct planned pl = { 0 };
	struct dt_probe **v = NULL;
	size_t i, n, failed = 0;
	int r;

	r = make_plan(vm, env, &pl);
	if (r < 0)
		goto out;
	/* mark: everything not in the new plan goes; new sites are added */
	for (i = 0; i < dt_probe_table_capacity(vm->probes); i++) {
		struct dt_probe *p = dt_probe_table_slot(vm->probes, i);

		if (p)
			p->gone = true;
	}
	for (i = 0; i < pl.n; i++) {
		struct dt_probe *p = dt_probe_table_get(vm->probes, pl.v[i].site.addr);

		if (p && !memcmp(&p->site, &pl.v[i].site, sizeof(p->site)) && p->role == pl.v[i].role) {
			p->gone = false;
			p->func_id = pl.v[i].func_id;
			continue;
		}
		if (p && !p->armed) {
			*p = pl.v[i]; /* a tombstone comes back to life with its new meaning */
			continue;
		}
		if (p)
			continue; /* same address, other meaning: leave the old one to go first */
		if (!dt_probe_table_put(vm->probes, &pl.v[i])) {
			r = -errno;
			goto out;
		}
	}
	/* 1. arm the new ones */
	r = collect(vm, pick_unarmed, NULL, &v, &n);
	if (r < 0)
		goto out;
	r = dt_probes_arm(&vm->io, v, n, &failed);
	if (r < 0 && r != -ENODEV) {
		/* one bad site must not cost the others: arm them one by one, drop the bad */
		for (i = 0; i < n; i++) {
			int ri = dt_probes_arm(&vm->io, &v[i], 1, &failed);

			if (ri == -ENODEV) {
				r = ri;
				break;
			}
			if (ri < 0) {
				dt_warn("VM %s: breakpoint at 0x%llx refused: %s", vm->name,
					(unsigned long long)v[i]->site.addr,
					ri == -EILSEQ ? "the bytes there are not what the analysis saw"
						      : strerror(-ri));
				v[i]->gone = true;
			}
			r = 0;
		}
	}
	free(v);
	v = NULL;
	if (r < 0)
		goto out;
	/* 2. disarm what is no longer wanted, 3. forget it */
	r = collect(vm, pick_gone, NULL, &v, &n);
	if (r < 0)
		goto out;
	r = dt_probes_disarm(&vm->io, v, n);
	if (r > 0)
		dt_warn("VM %s: %d breakpoint sites were rewritten by the guest; left as they are",
			vm->name, r);
	/*
	 * 3. Removed probes stay in the table, disarmed and gone, for good: a trap taken
	 * at one just before its bytes were restored may still be queued, and must be
	 * answered "run the original instruction again", never handed to the guest as its
	 * own int3. The table only grows with sites ever probed, which is bounded.
	 */
	r = r < 0 ? r : 0;
out:
	free(v);
	free(pl.v);
	return r;
}

int dt_plan_disarm_all(struct dt_vmctx *vm)
{
	struct dt_probe **v = NULL;
	size_t n;
	int r;

	r = collect(vm, pick_armed, NULL, &v, &n);
	if (r < 0)
		return r;
	r = dt_probes_disarm(&vm->io, v, n);
	free(v);
	if (r > 0) {
		dt_warn("VM %s: %d breakpoint sites were rewritten by the guest; left as they are",
			vm->name, r);
		r = 0;
	}
	return r;
}

void dt_plan_forget_journal(struct dt_vmctx *vm)
{
	size_t i;

	if (!vm->probes)
		return;
	for (i = 0; i < dt_probe_table_capacity(vm->probes); i++) {
		struct dt_probe *p = dt_probe_table_slot(vm->probes, i);

		if (p) {
			dt_journal_drop(vm->io.journal, p->jid[0]);
			dt_journal_drop(vm->io.journal, p->jid[1]);
			p->jid[0] = p->jid[1] = 0;
		}
	}
}
