// SPDX-License-Identifier: GPL-2.0-only
/*
 * chain.c - compiling a configuration into a filter chain and matching events on it.
 *
 * A match evaluates only the filters the prefilter (chain_index.c) leaves for the
 * event: those for its function and phase, whose section applies, and whose indexed
 * regexes could match its values, in chain order. The chain also keeps, per catalogue
 * function id, the list of filters that may apply to it (those naming it and those
 * with function=*), in chain order: the unindexed walk the prefilter is tested
 * against, and dt_chain_wants_post. Matching is strictly first-match in chain order
 * (the ancestor matched argument by argument, so a later filter on argument 0 beat an
 * earlier one on argument 1; and calls without arguments never matched: both fixed).
 *
 * Hot path rules: no allocation (pcre2 match data and JIT stack are per reader; only if
 * PCRE2 could not JIT-compile a pattern does its interpreter grow the match data, once),
 * no locks, no logging, ancestry loaded only when a
 * filter needs it and the process itself does not decide.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "chain_index.h"
#include "domtrace/config.h"
#include "domtrace/filter.h"

/* Bounds a hostile guest string against a backtracking-prone user regex. */
#define DT_REGEX_MATCH_LIMIT 1000000u
/* Each reader's JIT stack: PCRE2's default 32 KiB on the machine stack could fail a
 * legitimate regex on a long value. Reserved once per reader, never on the hot path. */
#define DT_REGEX_JIT_STACK (1u << 20)

struct dt_chain {
	struct dt_config *cfg;
	uint64_t gen;
	unsigned long *regex_errors; /* [nfilters], atomic: a filter's regex failures */
	size_t ncat;
	uint32_t *off;	 /* [ncat + 1]: func id -> first entry in items */
	uint32_t *items; /* 0-based filter indexes, chain order within each function */
	uint32_t *wild;	 /* filters with function=* (for ids outside the catalogue) */
	size_t nwild;
	struct dt_chain_index *ix; /* the prefilter (chain_index.h) */
};

struct dt_chain_reader {
	char vm[DT_VM_NAME_MAX];
	uint64_t gen; /* chain generation the section cache was computed for */
	uint64_t sections[DT_CONFIG_MAX_SECTIONS / 64];
	uint64_t fsections[DT_CHAIN_MAX_WORDS]; /* bit i: filter i's section applies */
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jit_stack;
};

static uint64_t chain_generation;

int dt_chain_new(struct dt_config *cfg, struct dt_chain **ret_chain)
{
	struct dt_chain *c;
	size_t ncat = cfg->ncatalog, i, j, total = 0, id;
	uint32_t *pos = NULL;
	int r = -ENOMEM;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->ncat = ncat;
	c->off = calloc(ncat + 1, sizeof(*c->off));
	c->wild = calloc(cfg->nfilters ? cfg->nfilters : 1, sizeof(*c->wild));
	c->regex_errors = calloc(cfg->nfilters ? cfg->nfilters : 1, sizeof(*c->regex_errors));
	pos = calloc(ncat + 1, sizeof(*pos));
	if (!c->off || !c->wild || !c->regex_errors || !pos)
		goto fail;
	for (i = 0; i < cfg->nfilters; i++) {
		const struct dt_filter_spec *f = &cfg->filters[i];

		if (f->any_func) {
			c->wild[c->nwild++] = (uint32_t)i;
			for (id = 0; id < ncat; id++)
				pos[id]++;
			total += ncat;
		} else {
			for (j = 0; j < f->nfuncs; j++)
				if ((size_t)f->funcs[j] < ncat)
					pos[f->funcs[j]]++;
			total += f->nfuncs;
		}
	}
	if (total > UINT32_MAX)
		goto fail;
	for (id = 0; id < ncat; id++) {
		c->off[id + 1] = c->off[id] + pos[id];
		pos[id] = c->off[id];
	}
	c->items = calloc(total ? total : 1, sizeof(*c->items));
	if (!c->items)
		goto fail;
	for (i = 0; i < cfg->nfilters; i++) {
		const struct dt_filter_spec *f = &cfg->filters[i];

		if (f->any_func) {
			for (id = 0; id < ncat; id++)
				c->items[pos[id]++] = (uint32_t)i;
		} else {
			for (j = 0; j < f->nfuncs; j++)
				if ((size_t)f->funcs[j] < ncat)
					c->items[pos[f->funcs[j]]++] = (uint32_t)i;
		}
	}
	free(pos);
	pos = NULL;
	r = dt_chain_index_new(cfg, &c->ix);
	if (r < 0)
		goto fail;
	c->cfg = cfg;
	c->gen = __atomic_add_fetch(&chain_generation, 1, __ATOMIC_RELAXED);
	*ret_chain = c;
	return 0;
fail:
	free(pos);
	dt_chain_index_free(c->ix);
	free(c->off);
	free(c->items);
	free(c->wild);
	free(c->regex_errors);
	free(c);
	return r;
}

void dt_chain_free(struct dt_chain *c)
{
	if (!c)
		return;
	dt_config_free(c->cfg);
	dt_chain_index_free(c->ix);
	free(c->off);
	free(c->items);
	free(c->wild);
	free(c->regex_errors);
	free(c);
}

const struct dt_config *dt_chain_config(const struct dt_chain *c)
{
	return c->cfg;
}

uint64_t dt_chain_generation(const struct dt_chain *c)
{
	return c->gen;
}

size_t dt_chain_length(const struct dt_chain *c)
{
	return c->cfg->nfilters;
}

uint64_t dt_chain_regex_errors(const struct dt_chain *c, uint32_t filter)
{
	if (filter == 0 || filter > c->cfg->nfilters)
		return 0;
	return __atomic_load_n(&c->regex_errors[filter - 1], __ATOMIC_RELAXED);
}

int dt_chain_reader_new(const char *vm, struct dt_chain_reader **ret_reader)
{
	struct dt_chain_reader *rd;

	if (strlen(vm) >= DT_VM_NAME_MAX)
		return -EINVAL;
	rd = calloc(1, sizeof(*rd));
	if (!rd)
		return -ENOMEM;
	strcpy(rd->vm, vm);
	rd->md = pcre2_match_data_create(1, NULL);
	rd->mctx = pcre2_match_context_create(NULL);
	rd->jit_stack = pcre2_jit_stack_create(32 * 1024, DT_REGEX_JIT_STACK, NULL);
	if (!rd->md || !rd->mctx || !rd->jit_stack) {
		dt_chain_reader_free(rd);
		return -ENOMEM;
	}
	pcre2_set_match_limit(rd->mctx, DT_REGEX_MATCH_LIMIT);
	pcre2_jit_stack_assign(rd->mctx, NULL, rd->jit_stack);
	*ret_reader = rd;
	return 0;
}

void dt_chain_reader_free(struct dt_chain_reader *rd)
{
	if (!rd)
		return;
	pcre2_match_data_free(rd->md);
	pcre2_match_context_free(rd->mctx);
	pcre2_jit_stack_free(rd->jit_stack);
	free(rd);
}

static bool section_on(const struct dt_chain_reader *rd, uint32_t s)
{
	return s < DT_CONFIG_MAX_SECTIONS && (rd->sections[s / 64] >> (s % 64) & 1);
}

/* Once per chain generation per reader: which sections (and so filters) apply to this
 * VM. */
static void refresh_sections(const struct dt_chain *c, struct dt_chain_reader *rd)
{
	size_t i;

	if (rd->gen == c->gen)
		return;
	memset(rd->sections, 0, sizeof(rd->sections));
	for (i = 0; i < c->cfg->nsections && i < DT_CONFIG_MAX_SECTIONS; i++)
		if (dt_config_section_applies(c->cfg, i, rd->vm))
			rd->sections[i / 64] |= 1ull << (i % 64);
	memset(rd->fsections, 0, sizeof(rd->fsections));
	for (i = 0; i < c->cfg->nfilters && i < DT_CONFIG_MAX_FILTERS; i++)
		if (section_on(rd, c->cfg->filters[i].section))
			rd->fsections[i / 64] |= 1ull << (i % 64);
	rd->gen = c->gen;
}

static const uint32_t *list_for(const struct dt_chain *c, int func_id, size_t *ret_n)
{
	if (func_id < 0 || (size_t)func_id >= c->ncat) {
		*ret_n = c->nwild;
		return c->wild;
	}
	*ret_n = c->off[func_id + 1] - c->off[func_id];
	return c->items + c->off[func_id];
}

/* A filter key, or a whole filter, on one event. */
enum tri {
	T_NO = 0,
	T_YES = 1,
	T_UNKNOWN = 2, /* depends on an argument whose value is not known yet */
};

/* One match's state: the lazily loaded ancestry and the first regex failure seen. */
struct mstate {
	const struct dt_chain *c;
	const struct dt_ancestry *src;
	const struct dt_event *ev;
	bool loaded;
	const struct dt_proc_info *v;
	size_t n;
	uint32_t regex_error; /* 1-based filter index, 0 if none */
	bool regex_error_first;
	const char *ret;      /* the return value as text, made once (ret_buf) */
	size_t ret_len;
	char ret_buf[24];
};

/* 1: found, 0: not found, -1: PCRE2 could not tell (match or depth limit, bad UTF). */
static int search(struct dt_chain_reader *rd, const struct dt_regex *re, const char *s,
		  size_t len)
{
	const pcre2_code *code = (const pcre2_code *)re->code;
	int rc = re->jit_direct
			 ? pcre2_jit_match(code, (PCRE2_SPTR)s, len, 0, 0, rd->md, rd->mctx)
			 : pcre2_match(code, (PCRE2_SPTR)s, len, 0, 0, rd->md, rd->mctx);

	if (rc >= 0)
		return 1;
	return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

/*
 * A regex that could not decide is neither a match nor a non-match: it is counted, and
 * the policy decides (OnRegexError, domtrace.conf(5)). "deny", the default, takes an
 * abort filter's key as matched (the call is aborted: a crafted string cannot slip past)
 * and a reporting filter's as not (it cannot shadow a later abort filter); "allow" takes
 * every key as not matched.
 */
static enum tri regex_failed(struct mstate *ms, const struct dt_filter_spec *f)
{
	unsigned long prev = __atomic_fetch_add(&ms->c->regex_errors[f->index - 1], 1,
						__ATOMIC_RELAXED);

	if (!ms->regex_error) {
		ms->regex_error = f->index;
		ms->regex_error_first = prev == 0;
	}
	return f->apply && !ms->c->cfg->regex_error_allow ? T_YES : T_NO;
}

static enum tri found(int r, const struct dt_regex *re, struct mstate *ms,
		      const struct dt_filter_spec *f)
{
	if (r < 0)
		return regex_failed(ms, f);
	return (r == 1) != re->negate ? T_YES : T_NO;
}

const char *dt_filter_value_of(const struct dt_event *ev, const char *argname)
{
	const char *v = dt_event_value_of(ev, argname);

	/* the seed's "regs:filename" is plain argument "filename" on a modern kernel */
	if (!v && strncmp(argname, "regs:", 5) == 0)
		v = dt_event_value_of(ev, argname + 5);
	return v;
}

/* Is the value a filter reads under `name` ("filename", "code:signal", a decoding of an
 * argument the event does not have by that name) not known yet? */
bool dt_filter_unknown_value(const struct dt_event *ev, const char *name)
{
	size_t len;
	unsigned i;

	if (!ev->unknown)
		return false;
	if (strncmp(name, "regs:", 5) == 0)
		name += 5;
	len = strcspn(name, ":");
	if (name[len] == ':' && strcmp(name + len + 1, "path") == 0)
		return ev->unknown & DT_UNKNOWN_OBJECT; /* the object an open reached */
	for (i = 0; i < ev->nargs && i < DT_MAX_ARGS; i++)
		if (ev->args[i].name && strlen(ev->args[i].name) == len &&
		    strncmp(ev->args[i].name, name, len) == 0)
			return ev->unknown & (1u << i);
	return true; /* a decoding of an inner argument (socketcall): be careful */
}

/* argval: "*" (or absent) matches anything, even a missing value; "re" needs a value
 * containing a match; "!re" is its negation (so it matches a missing value). */
static enum tri argval_ok(struct dt_chain_reader *rd, const struct dt_filter_spec *f,
			  const struct dt_event *ev, struct mstate *ms)
{
	bool hit = false, unknown = false;
	const char *v;
	unsigned i;
	int r;

	if (!f->argval.code)
		return T_YES;
	if (strcmp(f->argname, "*") != 0) {
		if (dt_filter_unknown_value(ev, f->argname))
			return T_UNKNOWN;
		v = dt_filter_value_of(ev, f->argname);
		return found(v ? search(rd, &f->argval, v, strlen(v)) : 0, &f->argval, ms, f);
	}
	for (i = 0; i < ev->nargs && i < DT_MAX_ARGS && !hit; i++) {
		if (ev->unknown & (1u << i)) {
			unknown = true;
			continue;
		}
		if (!ev->args[i].value)
			continue;
		r = search(rd, &f->argval, ev->args[i].value, strlen(ev->args[i].value));
		if (r < 0)
			return regex_failed(ms, f);
		hit = r == 1;
	}
	for (i = 0; i < ev->ndec && i < DT_MAX_DECS && !hit; i++) {
		if (!ev->dec[i].value)
			continue;
		if (dt_filter_unknown_value(ev, ev->dec[i].name)) {
			unknown = true;
			continue;
		}
		r = search(rd, &f->argval, ev->dec[i].value, strlen(ev->dec[i].value));
		if (r < 0)
			return regex_failed(ms, f);
		hit = r == 1;
	}
	if (!hit && (unknown || (ev->unknown & DT_UNKNOWN_OBJECT)))
		return T_UNKNOWN; /* an unknown value could still hit */
	return hit != f->argval.negate ? T_YES : T_NO;
}

const char *dt_filter_ret_text(int64_t v, char buf[24], size_t *ret_len)
{
	char *p = buf + 24;
	bool neg = v < 0;
	uint64_t u = neg ? 0 - (uint64_t)v : (uint64_t)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (neg)
		*--p = '-';
	*ret_len = (size_t)(buf + 24 - p);
	return p;
}

static enum tri retval_ok(struct dt_chain_reader *rd, const struct dt_filter_spec *f,
			  const struct dt_event *ev, struct mstate *ms)
{
	if (!f->retval.code)
		return T_YES;
	if (!ev->has_ret)
		return T_NO;
	if (!ms->ret) /* once per match, not once per filter */
		ms->ret = dt_filter_ret_text(ev->ret, ms->ret_buf, &ms->ret_len);
	return found(search(rd, &f->retval, ms->ret, ms->ret_len), &f->retval, ms, f);
}

static bool id_ok(const struct dt_id_match *m, uint32_t v)
{
	return !m->set || m->value == v;
}

static bool comm_is(const char *comm, const char *name)
{
	return strncmp(comm, name, DT_COMM_LEN) == 0;
}

/* The parent as getppid() sees it: real_parent (task->parent differs under ptrace). */
static uint32_t parent_of(const struct dt_proc_info *p)
{
	return (uint32_t)(p->rppid >= 0 ? p->rppid : p->ppid);
}

static void load_ancestry(struct mstate *a)
{
	if (a->loaded)
		return;
	a->loaded = true;
	if (a->src && a->src->load) {
		a->v = a->src->load(a->src->ctx, &a->n);
		if (!a->v)
			a->n = 0;
	} else {
		a->v = a->ev->anc;
		a->n = a->v ? a->ev->nanc : 0;
	}
}

/* name=^S and ppid=^N: the process itself, or any ancestor. */
static bool subtree_ok(const struct dt_filter_spec *f, const struct dt_event *ev,
		       struct mstate *a)
{
	bool name_ok = !f->name || !f->name_subtree || comm_is(ev->proc.comm, f->name);
	bool ppid_ok = !f->ppid.subtree || (uint32_t)ev->proc.tgid == f->ppid.value;
	size_t i;

	if (name_ok && ppid_ok)
		return true;
	load_ancestry(a);
	for (i = 0; i < a->n && !(name_ok && ppid_ok); i++) {
		if (!name_ok && comm_is(a->v[i].comm, f->name))
			name_ok = true;
		if (!ppid_ok && (uint32_t)a->v[i].tgid == f->ppid.value)
			ppid_ok = true;
	}
	return name_ok && ppid_ok;
}

static enum tri filter_ok(struct dt_chain_reader *rd, const struct dt_filter_spec *f,
			  const struct dt_event *ev, struct mstate *ms)
{
	const struct dt_proc_info *p = &ev->proc;
	enum tri av, rv;

	if (!(f->when & ev->when) || !section_on(rd, f->section))
		return T_NO;
	if (!id_ok(&f->pid, (uint32_t)p->tgid) || !id_ok(&f->tid, (uint32_t)p->pid) ||
	    !id_ok(&f->uid, p->uid) || !id_ok(&f->gid, p->gid) || !id_ok(&f->euid, p->euid) ||
	    !id_ok(&f->egid, p->egid))
		return T_NO;
	if (f->ppid.set && !f->ppid.subtree && parent_of(p) != f->ppid.value)
		return T_NO;
	if (f->name && !f->name_subtree && !comm_is(p->comm, f->name))
		return T_NO;
	av = argval_ok(rd, f, ev, ms);
	if (av == T_NO)
		return T_NO;
	rv = retval_ok(rd, f, ev, ms);
	if (rv == T_NO)
		return T_NO;
	/* last: it may read guest memory */
	if ((f->name_subtree || f->ppid.subtree) && !subtree_ok(f, ev, ms))
		return T_NO;
	return av == T_UNKNOWN || rv == T_UNKNOWN ? T_UNKNOWN : T_YES;
}

/* The verdict of the first filter that did not say no (r), as dt_chain_match returns it. */
static int verdict(enum tri r, const struct dt_filter_spec *f, const struct mstate *ms,
		   struct dt_match *ret_match)
{
	if (r == T_NO)
		*ret_match = (struct dt_match){ 0 };
	else
		*ret_match = (struct dt_match){
			.filter = f->index, .apply = f->apply, .abort_ret = f->abort_ret,
		};
	ret_match->regex_error = ms->regex_error;
	ret_match->regex_error_first = ms->regex_error_first;
	return r == T_YES ? 1 : r == T_UNKNOWN ? DT_CHAIN_UNDECIDED : 0;
}

/* Only the filters the prefilter leaves (chain_index.h), in chain order. */
int dt_chain_match(const struct dt_chain *c, struct dt_chain_reader *rd,
		   const struct dt_event *ev, const struct dt_ancestry *anc,
		   struct dt_match *ret_match)
{
	struct mstate ms = { .c = c, .src = anc, .ev = ev };
	uint64_t cand[DT_CHAIN_MAX_WORDS];
	size_t w = dt_chain_index_words(c->ix), k;

	refresh_sections(c, rd);
	dt_chain_index_candidates(c->ix, ev, rd->fsections, cand);
	for (k = 0; k < w; k++)
		for (uint64_t x = cand[k]; x; x &= x - 1) {
			const struct dt_filter_spec *f =
				&c->cfg->filters[k * 64 + (size_t)__builtin_ctzll(x)];
			enum tri r = filter_ok(rd, f, ev, &ms);

			if (r != T_NO)
				return verdict(r, f, &ms, ret_match);
		}
	return verdict(T_NO, NULL, &ms, ret_match);
}

int dt_chain_match_naive(const struct dt_chain *c, struct dt_chain_reader *rd,
			 const struct dt_event *ev, const struct dt_ancestry *anc,
			 struct dt_match *ret_match)
{
	struct mstate ms = { .c = c, .src = anc, .ev = ev };
	const uint32_t *list;
	size_t n, i;

	refresh_sections(c, rd);
	list = list_for(c, ev->func_id, &n);
	for (i = 0; i < n; i++) {
		const struct dt_filter_spec *f = &c->cfg->filters[list[i]];
		enum tri r = filter_ok(rd, f, ev, &ms);

		if (r != T_NO)
			return verdict(r, f, &ms, ret_match);
	}
	return verdict(T_NO, NULL, &ms, ret_match);
}

bool dt_chain_wants_post(const struct dt_chain *c, struct dt_chain_reader *rd, int func_id)
{
	const uint32_t *list;
	size_t n, i;

	refresh_sections(c, rd);
	list = list_for(c, func_id, &n);
	for (i = 0; i < n; i++) {
		const struct dt_filter_spec *f = &c->cfg->filters[list[i]];

		if ((f->when & DT_WHEN_POST) && section_on(rd, f->section))
			return true;
	}
	return false;
}
