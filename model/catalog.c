// SPDX-License-Identifier: GPL-2.0-only
/*
 * The syscall catalogue: the table (syscalls.def), lookups by number and kernel
 * symbol, resolution of the names users write, and the argument-name namespace
 * filters may use. Immutable data; the number index is built once (pthread_once).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "domtrace/catalog.h"

#define F_NORETURN DT_FN_NORETURN
#define F_PSLIST DT_FN_PSLIST
#define F_SOCKET DT_FN_SOCKET
#define F_WAIT DT_FN_WAIT
#define F_UNIMPL DT_FN_UNIMPL
#define F_REGS DT_FN_NOARGS_REGS
#define F_NOABORT DT_FN_NOABORT

#define ARG(t, d, l, ct, n) \
	{ .name = #n, .ctype = ct, .type = DT_AT_##t, .dir = DT_DIR_##d, .len_arg = (l) }
#define I(t, ct, n) ARG(t, IN, -1, ct, n)
#define O(t, ct, n) ARG(t, OUT, -1, ct, n)
#define IO(t, ct, n) ARG(t, INOUT, -1, ct, n)
#define IL(t, l, ct, n) ARG(t, IN, l, ct, n)
#define OL(t, l, ct, n) ARG(t, OUT, l, ct, n)
#define IOL(t, l, ct, n) ARG(t, INOUT, l, ct, n)
#define NARGS(...) (sizeof((struct dt_argdesc[]){ { 0 }, __VA_ARGS__ }) / sizeof(struct dt_argdesc) - 1)

static const struct dt_funcdesc funcs[] = {
#define SC(nm, n64, n32, fl, sc, s64, s32, ...)                                              \
	{ .name = #nm, .nr64 = (n64), .nr32 = (n32), .flags = DT_FN_SYSCALL | (fl),          \
	  .sockcall = (sc), .sym64 = #s64, .sym32 = #s32, .nargs = NARGS(__VA_ARGS__),       \
	  .args = { __VA_ARGS__ } },
#define KF(nm, fl, ...)                                                                       \
	{ .name = #nm, .nr64 = -1, .nr32 = -1, .flags = (fl), .sym64 = #nm, .sym32 = #nm,     \
	  .nargs = NARGS(__VA_ARGS__), .args = { __VA_ARGS__ } },
#include "syscalls.def"
#undef SC
#undef KF
};

static const char *const sys_names[] = {
#define SC(nm, ...) "sys_" #nm,
#define KF(nm, ...) #nm,
#include "syscalls.def"
#undef SC
#undef KF
};

#define NFUNCS (sizeof(funcs) / sizeof(funcs[0]))
#define NR_MAX 512 /* syscall numbers are below this on both ABIs */
#define SET_WORDS ((NFUNCS + 63) / 64)

_Static_assert(NFUNCS < INT16_MAX, "function ids fit int16_t");

static int16_t by_nr64[NR_MAX], by_nr32[NR_MAX];
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

static void build_index(void)
{
	size_t i;

	for (i = 0; i < NR_MAX; i++)
		by_nr64[i] = by_nr32[i] = -1;
	for (i = 0; i < NFUNCS; i++) {
		if (funcs[i].nr64 >= 0 && funcs[i].nr64 < NR_MAX)
			by_nr64[funcs[i].nr64] = (int16_t)i;
		if (funcs[i].nr32 >= 0 && funcs[i].nr32 < NR_MAX)
			by_nr32[funcs[i].nr32] = (int16_t)i;
	}
}

const struct dt_funcdesc *dt_catalog_funcs(size_t *ret_n)
{
	*ret_n = NFUNCS;
	return funcs;
}

const struct dt_funcdesc *dt_catalog_get(int func_id)
{
	if (func_id < 0 || (size_t)func_id >= NFUNCS)
		return NULL;
	return &funcs[func_id];
}

const char *dt_catalog_sys_name(int func_id)
{
	if (func_id < 0 || (size_t)func_id >= NFUNCS)
		return NULL;
	return sys_names[func_id];
}

int dt_catalog_by_nr(int nr, bool compat)
{
	int id;

	if (nr < 0 || nr >= NR_MAX)
		return -ENOENT;
	pthread_once(&index_once, build_index);
	id = compat ? by_nr32[nr] : by_nr64[nr];
	return id >= 0 ? id : -ENOENT;
}

/* abi: 64 = must have an x86-64 number, 32 = an i386 number, 0 = any (x86-64 first). */
static int by_name(const char *name, int abi, bool *ret_compat)
{
	int other = -ENOENT;
	size_t i;

	for (i = 0; i < NFUNCS; i++) {
		const struct dt_funcdesc *fd = &funcs[i];

		if (strcmp(fd->name, name) != 0)
			continue;
		if (abi == 32 ? fd->nr32 >= 0 : fd->nr64 >= 0 || !(fd->flags & DT_FN_SYSCALL)) {
			if (ret_compat)
				*ret_compat = abi == 32;
			return (int)i;
		}
		if (abi == 0 && other < 0)
			other = (int)i;
	}
	if (other >= 0 && ret_compat)
		*ret_compat = true;
	return other;
}

static int by_sym(const char *sym, bool compat)
{
	size_t i;

	for (i = 0; i < NFUNCS; i++)
		if (strcmp(compat ? funcs[i].sym32 : funcs[i].sym64, sym) == 0 &&
		    (compat ? funcs[i].nr32 : funcs[i].nr64) >= 0)
			return (int)i;
	return -ENOENT;
}

static const char *skip_prefix(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

/* "compat_sys_x" or "sys_x" -> "x" */
static const char *sys_base(const char *s)
{
	const char *r;

	if ((r = skip_prefix(s, "compat_sys_")) || (r = skip_prefix(s, "sys_")))
		return r;
	return s;
}

int dt_catalog_by_symbol(const char *sym, bool *ret_compat)
{
	const char *rest;
	int id;

	if (!sym)
		return -ENOENT;
	if ((rest = skip_prefix(sym, "__x64_"))) {
		id = by_sym(rest, false);
		if (id < 0)
			id = by_name(sys_base(rest), 64, NULL);
		if (id >= 0 && ret_compat)
			*ret_compat = false;
		return id;
	}
	if ((rest = skip_prefix(sym, "__ia32_")) || (rest = skip_prefix(sym, "compat_sys_"))) {
		if (rest != sym + strlen("__ia32_"))
			rest = sym; /* compat_sys_x: the whole symbol is the entry name */
		id = by_sym(rest, true);
		if (id < 0)
			id = by_name(sys_base(rest), 32, NULL);
		if (id >= 0 && ret_compat)
			*ret_compat = true;
		return id;
	}
	if (skip_prefix(sym, "sys_")) {
		if ((id = by_sym(sym, false)) >= 0) {
			if (ret_compat)
				*ret_compat = false;
			return id;
		}
		if ((id = by_sym(sym, true)) >= 0) {
			if (ret_compat)
				*ret_compat = true;
			return id;
		}
		return by_name(sym + 4, 0, ret_compat);
	}
	return by_name(sym, 0, ret_compat);
}

/* ---- user names ---- */

struct idset {
	uint64_t bits[SET_WORDS];
};

static void set_add(struct idset *set, size_t id)
{
	set->bits[id / 64] |= 1ull << (id % 64);
}

static bool add_named(struct idset *set, const char *name)
{
	bool found = false;
	size_t i;

	for (i = 0; i < NFUNCS; i++)
		if (strcmp(funcs[i].name, name) == 0) {
			set_add(set, i);
			found = true;
		}
	return found;
}

static void add_flagged(struct idset *set, unsigned flag)
{
	size_t i;

	for (i = 0; i < NFUNCS; i++)
		if (funcs[i].flags & flag)
			set_add(set, i);
}

/* The seed's names whose meaning is not simply "the syscall of that name". */
static const struct {
	const char *user;
	const char *name; /* a canonical name, or NULL: every function with `flag` */
	unsigned flag;
} aliases[] = {
	{ "sys_execve", "execve", 0 },
	{ "sys_execve64", "execve", 0 },
	{ "sys_waitpid", NULL, DT_FN_WAIT },
	{ "sys_socketcall", NULL, DT_FN_SOCKET },
	{ "sys_newstat", "stat", 0 },
	{ "sys_newlstat", "lstat", 0 },
	{ "sys_newfstat", "fstat", 0 },
	{ "sys_newuname", "uname", 0 },
	{ "sys_oldumount", "umount", 0 },
	{ "sys_llseek", "_llseek", 0 },
	{ "sys_old_getrlimit", "getrlimit", 0 },
	{ "sys_mmap_pgoff", "mmap2", 0 },
	{ "sys_old_mmap", "mmap", 0 },
	{ "sys_old_select", "select", 0 },
};

#define NALIASES (sizeof(aliases) / sizeof(aliases[0]))

static bool fill_set(const char *user, struct idset *set)
{
	const char *rest;
	size_t i;
	int id;

	if (strcmp(user, "*") == 0) {
		for (i = 0; i < NFUNCS; i++)
			set_add(set, i);
		return true;
	}
	for (i = 0; i < NALIASES; i++) {
		if (strcmp(user, aliases[i].user) != 0)
			continue;
		if (aliases[i].name)
			return add_named(set, aliases[i].name);
		add_flagged(set, aliases[i].flag);
		return true;
	}
	if (skip_prefix(user, "__x64_") || skip_prefix(user, "__ia32_") ||
	    skip_prefix(user, "compat_sys_")) {
		id = dt_catalog_by_symbol(user, NULL);
		if (id < 0)
			return false;
		set_add(set, (size_t)id);
		return true;
	}
	if ((rest = skip_prefix(user, "sys_")) && add_named(set, rest))
		return true;
	return add_named(set, user);
}

int dt_catalog_resolve(const char *user_name, int *ids, size_t max)
{
	struct idset set = { { 0 } };
	size_t i, n = 0;

	if (!user_name || !*user_name || !fill_set(user_name, &set))
		return -ENOENT;
	for (i = 0; i < NFUNCS; i++) {
		if (!(set.bits[i / 64] & (1ull << (i % 64))))
			continue;
		if (n < max)
			ids[n] = (int)i;
		n++;
	}
	return (int)n;
}

#define SUGGEST_LEN 48

/* Levenshtein distance of two short strings (longer ones are cut at SUGGEST_LEN). */
static unsigned edit_distance(const char *a, const char *b)
{
	unsigned row[SUGGEST_LEN + 1], i, j, la, lb;

	la = (unsigned)strnlen(a, SUGGEST_LEN);
	lb = (unsigned)strnlen(b, SUGGEST_LEN);
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		unsigned diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			unsigned up = row[j], best;

			best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

const char *dt_catalog_suggest(const char *user_name)
{
	const char *base, *best = NULL;
	unsigned best_d = ~0u, limit, d;
	bool sys;
	size_t i;

	if (!user_name || !*user_name)
		return NULL;
	base = user_name;
	if (skip_prefix(base, "__x64_") || skip_prefix(base, "__ia32_"))
		base = sys_base(strchr(base + 2, '_') + 1);
	sys = skip_prefix(base, "sys_") != NULL;
	base = sys_base(base);
	limit = strlen(base) <= 4 ? 1 : strlen(base) <= 8 ? 2 : 3;
	for (i = 0; i < NFUNCS; i++) {
		d = edit_distance(base, funcs[i].name);
		if (d < best_d) {
			best_d = d;
			best = sys && (funcs[i].flags & DT_FN_SYSCALL) ? sys_names[i] : funcs[i].name;
		}
	}
	for (i = 0; i < NALIASES; i++) {
		d = edit_distance(base, aliases[i].user + 4);
		if (d < best_d) {
			best_d = d;
			best = aliases[i].user;
		}
	}
	return best_d <= limit ? best : NULL;
}

/* ---- argument names ---- */

const char *const *dt_catalog_decodings(enum dt_argtype type)
{
	static const char *const none[] = { NULL };
	static const char *const exit_code[] = { "cause", "status", "signal", "core", NULL };
	static const char *const wait_status[] = { "cause", "code", "signal", "core", NULL };
	static const char *const addr[] = { "addr", NULL };
	static const char *const len[] = { "len", NULL };
	static const char *const call[] = { "call", NULL };
	static const char *const args[] = { "args", NULL };
	static const char *const flags[] = { "flags", NULL };

	switch (type) {
	case DT_AT_EXIT_CODE:
	case DT_AT_EXIT_STATUS:
		return exit_code;
	case DT_AT_WAIT_STATUS:
		return wait_status;
	case DT_AT_SOCKADDR:
		return addr;
	case DT_AT_SOCKLEN_PTR:
		return len;
	case DT_AT_SOCKCALL:
		return call;
	case DT_AT_SOCKCALL_ARGS:
		return args;
	case DT_AT_CLONE_ARGS:
		return flags;
	default:
		return none;
	}
}

bool dt_argtype_symbolic(enum dt_argtype type)
{
	switch (type) {
	case DT_AT_DIRFD:
	case DT_AT_ARGV:
	case DT_AT_OPEN_FLAGS:
	case DT_AT_MODE:
	case DT_AT_AT_FLAGS:
	case DT_AT_SIGNAL:
	case DT_AT_WAIT_OPTIONS:
	case DT_AT_FCNTL_CMD:
	case DT_AT_IOCTL_CMD:
	case DT_AT_MMAP_PROT:
	case DT_AT_MMAP_FLAGS:
	case DT_AT_CLONE_FLAGS:
	case DT_AT_SOCK_FAMILY:
	case DT_AT_SOCK_TYPE:
	case DT_AT_SOCK_PROTO:
	case DT_AT_SOCK_FLAGS:
	case DT_AT_MSG_FLAGS:
	case DT_AT_SIGSET:
	case DT_AT_KILL_PID:
	case DT_AT_SEEK_WHENCE:
	case DT_AT_ACCESS_MODE:
		return true;
	default:
		return false;
	}
}

static bool in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

static bool has_type(const struct dt_funcdesc *fd, enum dt_argtype type)
{
	unsigned i;

	for (i = 0; i < fd->nargs; i++)
		if (fd->args[i].type == type)
			return true;
	return false;
}

static bool is_execve(const struct dt_funcdesc *fd)
{
	return strcmp(fd->name, "execve") == 0 || strcmp(fd->name, "execveat") == 0;
}

/* Names a function's own arguments offer (socketcall's inner calls aside). */
/* open, openat, openat2, creat: the path argument do_filp_open gets the kernel's copy of */
static int kcopy_arg_of(const struct dt_funcdesc *fd)
{
	static const char *const opens[] = { "open", "openat", "openat2", "creat" };
	unsigned i, k;

	if (!(fd->flags & DT_FN_SYSCALL))
		return -1;
	for (i = 0; i < sizeof(opens) / sizeof(opens[0]); i++) {
		if (strcmp(fd->name, opens[i]) != 0)
			continue;
		for (k = 0; k < fd->nargs; k++)
			if (fd->args[k].type == DT_AT_PATH)
				return (int)k;
	}
	return -1;
}

static bool own_argname(const struct dt_funcdesc *fd, const char *arg, size_t arglen,
			const char *dec)
{
	unsigned i;

	for (i = 0; i < fd->nargs; i++) {
		const struct dt_argdesc *ad = &fd->args[i];

		if (strlen(ad->name) != arglen || strncmp(ad->name, arg, arglen) != 0)
			continue;
		if (!dec)
			return true;
		if (in_list(dt_catalog_decodings(ad->type), dec))
			return true;
		if (dt_argtype_symbolic(ad->type) && strcmp(dec, ad->name) == 0)
			return true;
	}
	if (!dec)
		return false;
	if (arglen == 4 && strncmp(arg, "addr", 4) == 0 && strcmp(dec, "addr") == 0)
		return has_type(fd, DT_AT_SOCKADDR);
	if (arglen == 3 && strncmp(arg, "len", 3) == 0 && strcmp(dec, "len") == 0)
		return has_type(fd, DT_AT_SOCKLEN_PTR);
	if (arglen == 6 && strncmp(arg, "status", 6) == 0 &&
	    in_list(dt_catalog_decodings(DT_AT_WAIT_STATUS), dec))
		return has_type(fd, DT_AT_WAIT_STATUS);
	if ((fd->flags & DT_FN_SOCKET) &&
	    ((arglen == 4 && strncmp(arg, "call", 4) == 0 && strcmp(dec, "call") == 0) ||
	     (arglen == 4 && strncmp(arg, "args", 4) == 0 && strcmp(dec, "args") == 0)))
		return true;
	/* "filename:path": the file an open reached (the kernel's dentries), not the name */
	if (strcmp(dec, "path") == 0 && kcopy_arg_of(fd) >= 0 &&
	    strlen(fd->args[kcopy_arg_of(fd)].name) == arglen &&
	    strncmp(fd->args[kcopy_arg_of(fd)].name, arg, arglen) == 0)
		return true;
	if (is_execve(fd)) {
		if (arglen == 4 && strncmp(arg, "regs", 4) == 0)
			return strcmp(dec, "filename") == 0 || strcmp(dec, "args") == 0 ||
			       strcmp(dec, "env") == 0;
		if (arglen == 8 && strncmp(arg, "filename", 8) == 0)
			return strcmp(dec, "filename") == 0;
	}
	return false;
}

bool dt_catalog_has_argname(int func_id, const char *argname)
{
	const struct dt_funcdesc *fd = dt_catalog_get(func_id);
	const char *colon;
	size_t i, arglen;

	if (!fd || !argname || !*argname)
		return false;
	colon = strchr(argname, ':');
	arglen = colon ? (size_t)(colon - argname) : strlen(argname);
	if (arglen == 0 || (colon && (!colon[1] || strchr(colon + 1, ':'))))
		return false;
	if (own_argname(fd, argname, arglen, colon ? colon + 1 : NULL))
		return true;
	/* socketcall(call, args) carries the decodings of the call it multiplexes */
	if (colon && (fd->flags & DT_FN_SOCKET) && fd->sockcall == 0 && fd->nargs == 2 &&
	    fd->args[0].type == DT_AT_SOCKCALL) {
		for (i = 0; i < NFUNCS; i++)
			if (funcs[i].sockcall > 0 && own_argname(&funcs[i], argname, arglen, colon + 1))
				return true;
	}
	return false;
}

const char *dt_catalog_abort_unsafe(int func_id)
{
	const struct dt_funcdesc *fd = dt_catalog_get(func_id);

	if (!fd)
		return "not a known function";
	if (fd->flags & DT_FN_NORETURN)
		return "it never returns";
	if (fd->flags & DT_FN_NOABORT)
		return "the process cannot survive a changed return (its registers are "
		       "restored by the call itself)";
	if (!(fd->flags & DT_FN_SYSCALL))
		return "it is a kernel function, not a system call (its kernel callers may not "
		       "handle a failure)";
	return NULL;
}

int dt_kcopy_arg(int func_id)
{
	const struct dt_funcdesc *fd = dt_catalog_get(func_id);

	return fd ? kcopy_arg_of(fd) : -1;
}
