// SPDX-License-Identifier: GPL-2.0-only
/*
 * config_filter.c - one `Filter key=value,...` line into a struct dt_filter_spec.
 *
 * Fixes over the ancestor (prior-art.md §1.8), each documented in domtrace.conf(5):
 *   - keys may come in any order: whether retval is an abort value or a regex is
 *     decided after the whole line is read (apply=1 or not);
 *   - a value may contain commas: quote it ("a,b") or escape them (a\,b);
 *   - spaces around keys and values are trimmed;
 *   - unknown keys, duplicate keys, unknown functions and argument names, bad
 *     regexes and bad numbers are errors, with line, column and a hint;
 *   - argval without argname is an error (the ancestor silently used argument 0).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "domtrace/catalog.h"
#include "domtrace/config.h"

#include "config_util.h"

enum key {
	K_FUNCTION,
	K_ARGNAME,
	K_ARGVAL,
	K_WHEN,
	K_PID,
	K_TID,
	K_PPID,
	K_UID,
	K_GID,
	K_EUID,
	K_EGID,
	K_NAME,
	K_RETVAL,
	K_APPLY,
	_K_MAX,
};

static const char *const keys[_K_MAX + 1] = {
	[K_FUNCTION] = "function", [K_ARGNAME] = "argname", [K_ARGVAL] = "argval",
	[K_WHEN] = "when",	   [K_PID] = "pid",	    [K_TID] = "tid",
	[K_PPID] = "ppid",	   [K_UID] = "uid",	    [K_GID] = "gid",
	[K_EUID] = "euid",	   [K_EGID] = "egid",	    [K_NAME] = "name",
	[K_RETVAL] = "retval",	   [K_APPLY] = "apply",	    [_K_MAX] = NULL,
};

/* One key=value as written. raw: verbatim between the delimiters (regexes use it);
 * val: with backslash escapes removed (everything else uses it). */
struct kv {
	char *raw, *val;
	unsigned kcol, vcol;
};

struct fparse {
	struct cfg_parser *p;
	struct dt_filter_spec f;
	struct kv kv[_K_MAX];
	bool seen[_K_MAX];
	bool bad; /* an error on this line: the filter is not added */
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static char *unescape(struct cfg_parser *p, const char *s, size_t n)
{
	char *d = malloc(n + 1), *o = d;
	size_t i;

	if (!d) {
		p->oom = true;
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n)
			i++;
		*o++ = s[i];
	}
	*o = '\0';
	return d;
}

static bool parse_u32(const char *s, uint32_t *ret)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return false;
	}
	*ret = (uint32_t)v;
	return true;
}

/* "-1", "0x10", "-EPERM", "EACCES": an abort return value. */
static bool parse_retval(const char *s, int64_t *ret)
{
	bool neg = false;
	uint64_t v = 0, lim;
	int base = 10, d;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (*s == 'E' && s[1]) {
		for (d = 1; d < 4096; d++) {
			const char *n = strerrorname_np(d);

			if (n && strcmp(n, s) == 0) {
				*ret = neg ? -d : d;
				return true;
			}
		}
		return false;
	}
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return false;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; *s; s++) {
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'f'))
			d = (*s | 0x20) - 'a' + 10;
		else
			return false;
		if (v > (lim - (uint64_t)d) / (uint64_t)base)
			return false;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	*ret = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

/* "*", "re" or "!re" at column col: compile into re. */
static void compile_regex(struct fparse *fp, const char *key, const char *src, unsigned col,
			  struct dt_regex *re)
{
	struct cfg_parser *p = fp->p;
	PCRE2_UCHAR msg[160];
	PCRE2_SIZE off;
	pcre2_code *code;
	int err;

	if (strcmp(src, "*") == 0)
		return;
	if (src[0] == '!') {
		re->negate = true;
		src++;
		col++;
		if (!*src || strcmp(src, "*") == 0) {
			cfg_error(p, col, "'*' matches anything; a negated '*' would match nothing",
				  "%s=!%s never matches", key, src);
			fp->bad = true;
			return;
		}
	}
	code = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED, 0, &err, &off, NULL);
	if (!code) {
		pcre2_get_error_message(err, msg, sizeof(msg));
		cfg_error(p, col + (unsigned)off,
			  "a PCRE2 (Perl-style) regex, searched anywhere in the value; quote it "
			  "if it contains commas",
			  "bad regular expression in %s: %s", key, (const char *)msg);
		fp->bad = true;
		return;
	}
	/* JIT is an optimisation: on failure pcre2_match() interprets. */
	if (pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0) {
		uint32_t all = 0;

		re->jit_direct = pcre2_pattern_info(code, PCRE2_INFO_ALLOPTIONS, &all) == 0 &&
				 !(all & PCRE2_UTF);
	}
	re->code = (struct pcre2_real_code_8 *)code;
	re->src = cfg_strdup(p, src);
}

static void set_id(struct fparse *fp, enum key k, struct dt_id_match *m, bool subtree_ok)
{
	const char *v = fp->kv[k].val;
	unsigned col = fp->kv[k].vcol;

	if (subtree_ok && v[0] == '^') {
		m->subtree = true;
		v++;
		col++;
	}
	if (!parse_u32(v, &m->value)) {
		cfg_error(fp->p, col, "a decimal number, e.g. 1000", "bad number '%s' for %s", v,
			  keys[k]);
		fp->bad = true;
		return;
	}
	m->set = true;
}

static void set_function(struct fparse *fp)
{
	struct cfg_parser *p = fp->p;
	const char *v = fp->kv[K_FUNCTION].val;
	char hint[128];
	int n, i, j;

	fp->f.function = cfg_strdup(p, v);
	if (strcmp(v, "*") == 0)
		return;
	n = cfg_resolve_function(p, v);
	if (n < 0) {
		const char *s = cfg_suggest_function(p, v);

		if (s)
			snprintf(hint, sizeof(hint), "did you mean '%s'?", s);
		else
			snprintf(hint, sizeof(hint), "%s",
				 "use a syscall name (openat, sys_openat), do_exit, or *");
		cfg_error(p, fp->kv[K_FUNCTION].vcol, hint, "unknown function '%s'", v);
		fp->bad = true;
		return;
	}
	fp->f.funcs = malloc((size_t)(n ? n : 1) * sizeof(int));
	if (!fp->f.funcs) {
		p->oom = true;
		return;
	}
	/* ascending, unique: the chain builds per-function lists from it */
	for (i = 0; i < n; i++) {
		int id = p->ids[i];

		for (j = (int)fp->f.nfuncs; j > 0 && fp->f.funcs[j - 1] > id; j--)
			;
		if (j > 0 && fp->f.funcs[j - 1] == id)
			continue;
		memmove(&fp->f.funcs[j + 1], &fp->f.funcs[j],
			(fp->f.nfuncs - (size_t)j) * sizeof(int));
		fp->f.funcs[j] = id;
		fp->f.nfuncs++;
	}
	fp->f.any_func = false;
}

/* "filename, argv, envp, code:signal, ..." for a hint. */
static void argnames_hint(int id, char *buf, size_t size)
{
	const struct dt_funcdesc *fd = dt_catalog_get(id);
	size_t used = 0;
	unsigned a;
	int r;

	buf[0] = '\0';
	if (!fd)
		return;
	r = snprintf(buf, size, "%s takes:", fd->name);
	used = r > 0 ? (size_t)r : 0;
	for (a = 0; a < fd->nargs && a < DT_MAX_ARGS && used < size; a++) {
		const char *const *dec = dt_catalog_decodings((enum dt_argtype)fd->args[a].type);

		r = snprintf(buf + used, size - used, " %s", fd->args[a].name);
		used += r > 0 ? (size_t)r : 0;
		if (dt_argtype_symbolic((enum dt_argtype)fd->args[a].type) && used < size) {
			r = snprintf(buf + used, size - used, " %s:%s", fd->args[a].name,
				     fd->args[a].name);
			used += r > 0 ? (size_t)r : 0;
		}
		for (; dec && *dec && used < size; dec++) {
			r = snprintf(buf + used, size - used, " %s:%s", fd->args[a].name, *dec);
			used += r > 0 ? (size_t)r : 0;
		}
	}
	if (fd->nargs == 0)
		snprintf(buf, size, "%s takes no arguments; leave argname out", fd->name);
}

static void check_argname(struct fparse *fp)
{
	struct cfg_parser *p = fp->p;
	const char *v = fp->kv[K_ARGNAME].val;
	unsigned col = fp->kv[K_ARGNAME].vcol;
	char hint[256];
	size_t i;

	if (strcmp(v, "*") == 0)
		return;
	if (fp->f.any_func) {
		cfg_error(p, col, "name the function too: function=sys_execve,argname=...",
			  "argname=%s needs a function", v);
		fp->bad = true;
		return;
	}
	for (i = 0; i < fp->f.nfuncs; i++)
		if (dt_catalog_has_argname(fp->f.funcs[i], v))
			return;
	if (fp->f.nfuncs)
		argnames_hint(fp->f.funcs[0], hint, sizeof(hint));
	cfg_error(p, col, fp->f.nfuncs ? hint : NULL, "function '%s' has no argument '%s'",
		  fp->f.function, v);
	fp->bad = true;
}

static void check_when_returns(struct fparse *fp)
{
	size_t i;

	if (fp->f.any_func || fp->f.when == DT_WHEN_PRE)
		return;
	for (i = 0; i < fp->f.nfuncs; i++) {
		const struct dt_funcdesc *fd = dt_catalog_get(fp->f.funcs[i]);

		if (fd && !(fd->flags & DT_FN_NORETURN))
			return;
	}
	cfg_error(fp->p, fp->kv[K_WHEN].vcol, "use when=pre",
		  "'%s' never returns, so when=%s cannot match", fp->f.function,
		  fp->kv[K_WHEN].val);
	fp->bad = true;
}

/*
 * An abort on a function whose caller cannot take it (exit, exit_group, do_exit never
 * return; rt_sigreturn restores the registers itself) would crash the guest or the
 * process: a filter naming one is refused. A filter for any function is kept, with a
 * warning: the engine never aborts those functions, it reports the match instead.
 */
static void check_abortable(struct fparse *fp)
{
	const struct dt_filter_spec *f = &fp->f;
	const char *why;
	size_t i;

	if (f->any_func) {
		cfg_diag(fp->p, fp->kv[K_APPLY].kcol, true,
			 "add function=<name> to say which calls it aborts",
			 "abort filter for any function: exit, exit_group, do_exit, rt_sigreturn "
			 "and sigreturn are never aborted (their match is reported as 'match')");
		return;
	}
	for (i = 0; i < f->nfuncs; i++) {
		why = dt_catalog_abort_unsafe(f->funcs[i]);
		if (!why)
			continue;
		cfg_error(fp->p, fp->seen[K_FUNCTION] ? fp->kv[K_FUNCTION].vcol
							       : fp->kv[K_APPLY].kcol,
			  "use apply=0 to report it", "cannot abort %s: %s",
			  dt_catalog_sys_name(f->funcs[i]), why);
		fp->bad = true;
		return;
	}
}

/* Arguments a filter reads from the calling program's memory, not from registers. */
static bool in_user_memory(uint8_t type)
{
	switch (type) {
	case DT_AT_STR:
	case DT_AT_PATH:
	case DT_AT_BUF:
	case DT_AT_ARGV:
	case DT_AT_SOCKADDR:
	case DT_AT_SOCKCALL_ARGS:
	case DT_AT_TIMESPEC:
	case DT_AT_SIGSET:
	case DT_AT_CLONE_ARGS:
		return true;
	default:
		return false;
	}
}

/*
 * An abort filter on an argument in the program's memory: say what its decision rests
 * on (docs/DESIGN.md, "What an abort filter can guarantee"). Paths of open and execve
 * are decided on the kernel's own copy, but as spelled, not as resolved; anything else
 * is read at entry, where another thread of the program can still change it.
 */
static void check_abort_guarantee(struct fparse *fp)
{
	const struct dt_filter_spec *f = &fp->f;
	const char *an = f->argname;
	size_t i, len;
	unsigned k;

	if (!f->argval.code || !an || f->any_func)
		return;
	if (strncmp(an, "regs:", 5) == 0)
		an += 5;
	len = strcspn(an, ":");
	if (an[len] == ':' && strcmp(an + len + 1, "path") == 0)
		return; /* the file the open reached: what the kernel resolved */
	for (i = 0; i < f->nfuncs; i++) {
		const struct dt_funcdesc *fd = dt_catalog_get(f->funcs[i]);

		for (k = 0; fd && k < fd->nargs; k++) {
			const struct dt_argdesc *ad = &fd->args[k];
			bool exec = !strcmp(fd->name, "execve") || !strcmp(fd->name, "execveat");

			if (strcmp(an, "*") != 0 &&
			    (strlen(ad->name) != len || strncmp(ad->name, an, len) != 0))
				continue;
			if (!in_user_memory(ad->type))
				continue;
			if (ad->type == DT_AT_PATH && (dt_kcopy_arg(f->funcs[i]) == (int)k || exec))
				cfg_diag(fp->p, fp->kv[K_ARGNAME].vcol, true,
					 "see docs/DESIGN.md on what an abort filter can guarantee",
					 "%s's %s is matched on the kernel's copy of the path as "
					 "written, not on the file it resolves to (a symlink, a "
					 "directory fd or ../ reach the same file by another "
					 "name)%s%s%s",
					 dt_catalog_sys_name(f->funcs[i]), ad->name,
					 exec ? "" : "; argname=", exec ? "" : ad->name,
					 exec ? "" : ":path matches the file it reached");
			else
				cfg_diag(fp->p, fp->kv[K_ARGNAME].vcol, true,
					 "see docs/DESIGN.md on what an abort filter can guarantee",
					 "%s's %s is read from the program's memory at entry: another "
					 "thread can change it before the kernel reads it",
					 dt_catalog_sys_name(f->funcs[i]), ad->name);
			return; /* once per filter */
		}
	}
}

/* Everything that depends on more than one key. */
static void cross_check(struct fparse *fp)
{
	struct cfg_parser *p = fp->p;
	struct dt_filter_spec *f = &fp->f;

	if (fp->seen[K_ARGNAME])
		check_argname(fp);
	if (fp->seen[K_ARGVAL] && !fp->seen[K_ARGNAME]) {
		cfg_error(p, fp->kv[K_ARGVAL].kcol,
			  "add argname=<argument> (or argname=* for any argument)",
			  "argval without argname");
		fp->bad = true;
	}
	if (fp->seen[K_WHEN])
		check_when_returns(fp);
	if (f->apply) {
		check_abortable(fp);
		check_abort_guarantee(fp);
		if (f->when != DT_WHEN_PRE) {
			cfg_error(p, fp->kv[K_WHEN].vcol,
				  "an abort replaces the call before it runs: use when=pre",
				  "apply=1 with when=%s", fp->kv[K_WHEN].val);
			fp->bad = true;
		}
		if (fp->seen[K_RETVAL] && !parse_retval(fp->kv[K_RETVAL].val, &f->abort_ret)) {
			cfg_error(p, fp->kv[K_RETVAL].vcol,
				  "with apply=1 retval is the value returned: -1, 0x10, -EPERM",
				  "bad return value '%s'", fp->kv[K_RETVAL].val);
			fp->bad = true;
		}
	} else if (fp->seen[K_RETVAL]) {
		if (f->when != DT_WHEN_POST) {
			cfg_error(p, fp->kv[K_RETVAL].kcol,
				  "there is a return value only after the call: add when=post "
				  "(or apply=1 to abort with this value)",
				  "retval as a match needs when=post");
			fp->bad = true;
			return;
		}
		compile_regex(fp, "retval", fp->kv[K_RETVAL].raw, fp->kv[K_RETVAL].vcol,
			      &f->retval);
	}
}

static void set_key(struct fparse *fp, enum key k)
{
	struct cfg_parser *p = fp->p;
	struct dt_filter_spec *f = &fp->f;
	const char *v = fp->kv[k].val;
	unsigned col = fp->kv[k].vcol;

	switch (k) {
	case K_FUNCTION:
		set_function(fp);
		break;
	case K_ARGNAME:
		f->argname = cfg_strdup(p, v);
		break;
	case K_ARGVAL:
		compile_regex(fp, "argval", fp->kv[k].raw, col, &f->argval);
		break;
	case K_WHEN:
		if (strcmp(v, "pre") == 0) {
			f->when = DT_WHEN_PRE;
		} else if (strcmp(v, "post") == 0) {
			f->when = DT_WHEN_POST;
		} else if (strcmp(v, "both") == 0) {
			f->when = DT_WHEN_BOTH;
		} else {
			cfg_error(p, col, "pre, post or both", "bad value '%s' for when", v);
			fp->bad = true;
		}
		break;
	case K_PID:
		set_id(fp, k, &f->pid, false);
		break;
	case K_TID:
		set_id(fp, k, &f->tid, false);
		break;
	case K_PPID:
		set_id(fp, k, &f->ppid, true);
		break;
	case K_UID:
		set_id(fp, k, &f->uid, false);
		break;
	case K_GID:
		set_id(fp, k, &f->gid, false);
		break;
	case K_EUID:
		set_id(fp, k, &f->euid, false);
		break;
	case K_EGID:
		set_id(fp, k, &f->egid, false);
		break;
	case K_NAME:
		if (v[0] == '^') {
			f->name_subtree = true;
			v++;
			col++;
		}
		if (!*v || strlen(v) > DT_PROC_NAME_MAX) {
			cfg_error(p, col, "Linux keeps only the first 15 bytes of a process name",
				  *v ? "process name '%s' is longer than 15 bytes"
				     : "empty process name%s", v);
			fp->bad = true;
			break;
		}
		f->name = cfg_strdup(p, v);
		break;
	case K_RETVAL:
		break; /* cross_check(): its meaning depends on apply */
	case K_APPLY:
		if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0) {
			cfg_error(p, col, "0 (match) or 1 (abort)", "bad value '%s' for apply", v);
			fp->bad = true;
		}
		f->apply = v[0] == '1';
		break;
	case _K_MAX:
		break;
	}
}

/* Scan key=value pairs; returns false if the line cannot be scanned further. */
static bool scan(struct fparse *fp, size_t i)
{
	struct cfg_parser *p = fp->p;
	char *s = p->buf, hint[128];
	size_t kb, ke, vb, ve;
	bool quoted, first = true;
	int k;

	for (;;) {
		while (is_blank(s[i]))
			i++;
		if (!s[i]) {
			if (first)
				return true; /* "Filter" alone: matches every traced call */
			cfg_error(p, (unsigned)i + 1, "remove the trailing comma",
				  "expected key=value after ','");
			return false;
		}
		first = false;
		kb = i;
		while (s[i] && s[i] != '=' && s[i] != ',')
			i++;
		ke = i;
		while (ke > kb && is_blank(s[ke - 1]))
			ke--;
		if (s[i] != '=') {
			cfg_error(p, (unsigned)kb + 1, "a filter is key=value pairs separated by "
				  "commas", "expected key=value, found '%.*s'", (int)(ke - kb), s + kb);
			return false;
		}
		for (k = 0; k < _K_MAX; k++)
			if (ke - kb == strlen(keys[k]) && memcmp(s + kb, keys[k], ke - kb) == 0)
				break;
		i++;
		while (is_blank(s[i]))
			i++;
		vb = i;
		quoted = s[i] == '"';
		if (quoted) {
			vb = ++i;
			while (s[i] && s[i] != '"')
				i += (s[i] == '\\' && s[i + 1]) ? 2 : 1;
			if (!s[i]) {
				cfg_error(p, (unsigned)vb, "close it with \"", "unterminated quote");
				return false;
			}
			ve = i++;
			while (is_blank(s[i]))
				i++;
			if (s[i] && s[i] != ',') {
				cfg_error(p, (unsigned)i + 1, "quote the whole value",
					  "unexpected text after a quoted value");
				return false;
			}
		} else {
			while (s[i] && s[i] != ',')
				i += (s[i] == '\\' && s[i + 1]) ? 2 : 1;
			ve = i;
			while (ve > vb && is_blank(s[ve - 1]))
				ve--;
		}
		if (k == _K_MAX) {
			char word[40];
			const char *sug;

			snprintf(word, sizeof(word), "%.*s", (int)(ke - kb), s + kb);
			sug = cfg_suggest(word, keys);
			if (sug)
				snprintf(hint, sizeof(hint), "did you mean '%s'?", sug);
			else
				snprintf(hint, sizeof(hint), "keys are function, argname, argval, "
					 "when, pid, tid, ppid, uid, gid, euid, egid, name, retval, "
					 "apply");
			cfg_error(p, (unsigned)kb + 1, hint, "unknown filter key '%s'", word);
			fp->bad = true;
		} else if (fp->seen[k]) {
			snprintf(hint, sizeof(hint), "first given at column %u", fp->kv[k].kcol);
			cfg_error(p, (unsigned)kb + 1, hint, "duplicate key '%s'", keys[k]);
			fp->bad = true;
		} else if (ve == vb) {
			cfg_error(p, (unsigned)vb + 1, "use * to match anything",
				  "empty value for %s", keys[k]);
			fp->bad = true;
		} else {
			fp->seen[k] = true;
			fp->kv[k].kcol = (unsigned)kb + 1;
			fp->kv[k].vcol = (unsigned)vb + 1;
			fp->kv[k].raw = cfg_strndup(p, s + vb, ve - vb);
			fp->kv[k].val = unescape(p, s + vb, ve - vb);
			if (p->oom)
				return false;
		}
		if (!s[i])
			return true;
		i++; /* ',' */
	}
}

void cfg_parse_filter(struct cfg_parser *p, size_t start)
{
	struct dt_config *cfg = p->cfg;
	struct fparse *fp;
	struct dt_filter_spec *v;
	int k;

	fp = calloc(1, sizeof(*fp));
	if (!fp) {
		p->oom = true;
		return;
	}
	fp->p = p;
	fp->f.any_func = true;
	fp->f.when = DT_WHEN_PRE;
	fp->f.abort_ret = -1;
	fp->f.line = p->line;
	fp->f.section = (uint32_t)p->section;
	if (!scan(fp, start))
		fp->bad = true;
	for (k = 0; k < _K_MAX && !p->oom; k++)
		if (fp->seen[k])
			set_key(fp, (enum key)k);
	if (!p->oom)
		cross_check(fp);
	if (!fp->bad && !p->oom && cfg->nfilters >= DT_CONFIG_MAX_FILTERS) {
		cfg_error(p, 1, NULL, "more than %d filters", DT_CONFIG_MAX_FILTERS);
		fp->bad = true;
	}
	if (fp->bad || p->oom || p->nerrors)
		goto drop; /* after an error the config is refused anyway */
	v = realloc(cfg->filters, (cfg->nfilters + 1) * sizeof(*v));
	if (!v) {
		p->oom = true;
		goto drop;
	}
	cfg->filters = v;
	fp->f.index = (uint32_t)cfg->nfilters + 1;
	v[cfg->nfilters++] = fp->f;
	fp->f = (struct dt_filter_spec){ 0 };
drop:
	cfg_filter_free(&fp->f);
	for (k = 0; k < _K_MAX; k++) {
		free(fp->kv[k].raw);
		free(fp->kv[k].val);
	}
	free(fp);
}
