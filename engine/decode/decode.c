// SPDX-License-Identifier: GPL-2.0-only
/*
 * The argument decoders: every catalogue argument type rendered strace-like into
 * the event's arena, plus the named decodings filters use ("code:signal",
 * "call:call", "regs:args", ...). The formats are documented in docs/DECODING.md.
 * A guest controls every byte read: reads are bounded (guestread.c), lengths capped,
 * arrays bounded, and failures rendered as such, never as a silent "(null)".
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

static bool is_named(const struct dt_funcdesc *fd, const char *const *names)
{
	for (; *names; names++)
		if (strcmp(fd->name, *names) == 0)
			return true;
	return false;
}

/* The length a sockaddr/buffer argument's len_arg gives (a value or an int pointer). */
static bool arg_length(struct dt_dctx *c, const struct dt_funcdesc *fd, const struct dt_argdesc *ad,
		       uint64_t *ret_len)
{
	int32_t n;

	if (ad->len_arg < 0 || ad->len_arg >= fd->nargs)
		return false;
	if (fd->args[ad->len_arg].type != DT_AT_SOCKLEN_PTR) {
		*ret_len = c->compat ? (uint32_t)c->raw[ad->len_arg] : c->raw[ad->len_arg];
		if (fd->args[ad->len_arg].type == DT_AT_INT)
			*ret_len = (uint64_t)(int64_t)(int32_t)*ret_len;
		return (int64_t)*ret_len >= 0;
	}
	if (dt_gread_all(c->mem, dt_uptr(c, c->raw[ad->len_arg]), &n, sizeof(n)) != DT_GR_OK || n < 0)
		return false;
	*ret_len = (uint64_t)n;
	return true;
}

static void render_sockaddr(struct dt_dctx *c, const struct dt_funcdesc *fd, unsigned i, uint64_t va,
			    struct dt_sbuf *sb)
{
	uint8_t b[DT_SOCKADDR_MAX];
	uint64_t len;
	enum dt_gread st;

	if (!va) {
		dt_sb_puts(sb, "NULL");
		return;
	}
	if (!arg_length(c, fd, &fd->args[i], &len)) {
		dt_sb_printf(sb, "%#llx <addrlen unknown>", (unsigned long long)va);
		return;
	}
	st = dt_gread_all(c->mem, va, b, len < sizeof(b) ? (size_t)len : sizeof(b));
	if (st != DT_GR_OK) {
		dt_sb_failed(c, i, sb, st, va);
		return;
	}
	dt_sb_sockaddr(sb, b, len);
}

static int64_t family_of(const struct dt_dctx *c, const struct dt_funcdesc *fd)
{
	unsigned k;

	for (k = 0; k < fd->nargs; k++)
		if (fd->args[k].type == DT_AT_SOCK_FAMILY)
			return (int32_t)c->raw[k];
	return -1;
}

static void render_socketcall_args(struct dt_dctx *c, const struct dt_funcdesc *fd, unsigned i,
				   struct dt_rendered *r);

static const char *const open_like[] = { "open", "openat", "open_by_handle_at", "mq_open",
					 "fanotify_init", NULL };

/* Render argument i of fd from c->raw into r. Memory arguments wait for the call's end
 * when they are OUT; a call that failed wrote nothing, so they show their pointer. */
static void render_one(struct dt_dctx *c, const struct dt_funcdesc *fd, unsigned i,
		       struct dt_rendered *r)
{
	const struct dt_argdesc *ad = &fd->args[i];
	uint64_t v = c->raw[i], va = dt_uptr(c, v), len;
	char buf[DT_VALUE_MAX];
	struct dt_sbuf sb;
	bool deferred = ad->dir == DT_DIR_OUT &&
			(ad->type == DT_AT_BUF || ad->type == DT_AT_SOCKADDR ||
			 ad->type == DT_AT_WAIT_STATUS || ad->type == DT_AT_FDPAIR ||
			 ad->type == DT_AT_TIMESPEC || ad->type == DT_AT_SIGSET);

	memset(r, 0, sizeof(*r));
	if (deferred && !c->post)
		return; /* pending */
	dt_sb_init(&sb, buf, sizeof(buf));
	if (deferred && dt_dctx_failed(c) && ad->type != DT_AT_WAIT_STATUS) {
		dt_sb_ptr(&sb, va);
		r->value = dt_commit(c, &sb, &r->truncated);
		return;
	}
	switch ((enum dt_argtype)ad->type) {
	case DT_AT_INT:
	case DT_AT_FD:
	case DT_AT_PID:
		dt_sb_printf(&sb, "%d", (int32_t)v);
		break;
	case DT_AT_UINT:
		dt_sb_printf(&sb, "%u", (uint32_t)v);
		break;
	case DT_AT_LONG:
		dt_sb_printf(&sb, "%lld", c->compat ? (long long)(int32_t)v : (long long)v);
		break;
	case DT_AT_ULONG:
		dt_sb_printf(&sb, "%llu", (unsigned long long)dt_uptr(c, v));
		break;
	case DT_AT_HEX:
		dt_sb_printf(&sb, "%#llx", (unsigned long long)dt_uptr(c, v));
		break;
	case DT_AT_PTR:
		dt_sb_ptr(&sb, va);
		break;
	case DT_AT_DIRFD:
		if ((int32_t)v == -100)
			dt_sb_puts(&sb, "AT_FDCWD");
		else
			dt_sb_printf(&sb, "%d", (int32_t)v);
		break;
	case DT_AT_STR:
	case DT_AT_PATH:
		dt_render_string(c, i, va, r);
		return;
	case DT_AT_BUF:
		if (!arg_length(c, fd, ad, &len))
			len = 0;
		if (c->post && ad->dir == DT_DIR_OUT && c->ev->has_ret && (uint64_t)c->ev->ret < len)
			len = (uint64_t)c->ev->ret; /* what the call produced */
		dt_render_buf(c, i, va, len, &sb, r);
		break;
	case DT_AT_ARGV:
		dt_render_argv(c, i, va, r);
		return;
	case DT_AT_OPEN_FLAGS:
		dt_sb_open_flags(&sb, v, is_named(fd, open_like));
		break;
	case DT_AT_MODE:
		dt_sb_mode(&sb, (uint32_t)v);
		break;
	case DT_AT_AT_FLAGS:
		dt_sb_at_flags(&sb, v, strcmp(fd->name, "faccessat2") == 0);
		break;
	case DT_AT_SIGNAL:
		dt_sb_signal(&sb, (int32_t)v);
		break;
	case DT_AT_EXIT_CODE:
	case DT_AT_EXIT_STATUS:
		dt_render_exit(c, ad, v, r);
		return;
	case DT_AT_WAIT_STATUS:
		dt_render_wait_status(c, i, va, &sb, r);
		break;
	case DT_AT_WAIT_OPTIONS:
		dt_sb_wait_options(&sb, v);
		break;
	case DT_AT_FCNTL_CMD:
		dt_sb_fcntl_cmd(&sb, v, c->compat);
		break;
	case DT_AT_IOCTL_CMD:
		dt_sb_ioctl_cmd(&sb, v, c->compat);
		break;
	case DT_AT_MMAP_PROT:
		dt_sb_mmap_prot(&sb, dt_uptr(c, v));
		break;
	case DT_AT_MMAP_FLAGS:
		dt_sb_mmap_flags(&sb, dt_uptr(c, v));
		break;
	case DT_AT_CLONE_FLAGS:
		dt_sb_clone_flags(&sb, dt_uptr(c, v), strcmp(fd->name, "clone") == 0);
		break;
	case DT_AT_SOCK_FAMILY:
		dt_sb_sock_family(&sb, (int32_t)v);
		break;
	case DT_AT_SOCK_TYPE:
	case DT_AT_SOCK_FLAGS:
		dt_sb_sock_type(&sb, v, ad->type == DT_AT_SOCK_FLAGS);
		break;
	case DT_AT_SOCK_PROTO:
		dt_sb_sock_proto(&sb, family_of(c, fd), (int32_t)v);
		break;
	case DT_AT_MSG_FLAGS:
		dt_sb_msg_flags(&sb, v);
		break;
	case DT_AT_SOCKADDR:
		render_sockaddr(c, fd, i, va, &sb);
		r->value = dt_commit(c, &sb, &r->truncated);
		r->sub[0] = r->value;
		return;
	case DT_AT_SOCKLEN_PTR: {
		int32_t n;
		enum dt_gread st;

		if (!va) {
			dt_sb_puts(&sb, "NULL");
			break;
		}
		st = dt_gread_all(c->mem, va, &n, sizeof(n));
		if (st != DT_GR_OK) {
			dt_sb_failed(c, i, &sb, st, va);
			break;
		}
		dt_sb_printf(&sb, "[%d]", n);
		r->sub[0] = dt_arena_int(c, n);
		break;
	}
	case DT_AT_SOCKCALL: {
		const char *upper = dt_sockcall_upper((int32_t)v);

		if (upper)
			dt_sb_puts(&sb, upper);
		else
			dt_sb_printf(&sb, "%d", (int32_t)v);
		r->sub[0] = upper ? dt_sockcall_name((int32_t)v) : "unknown";
		break;
	}
	case DT_AT_SOCKCALL_ARGS:
		render_socketcall_args(c, fd, i, r);
		return;
	case DT_AT_FDPAIR: {
		int32_t fds[2];
		enum dt_gread st;

		if (!va) {
			dt_sb_puts(&sb, "NULL");
			break;
		}
		st = dt_gread_all(c->mem, va, fds, sizeof(fds));
		if (st != DT_GR_OK)
			dt_sb_failed(c, i, &sb, st, va);
		else
			dt_sb_printf(&sb, "[%d, %d]", fds[0], fds[1]);
		break;
	}
	case DT_AT_CLONE_ARGS:
		dt_render_clone_args(c, i, va, &sb, r);
		break;
	case DT_AT_TIMESPEC:
		dt_render_timespec(c, fd, i, va, &sb);
		break;
	case DT_AT_SIGSET: {
		uint64_t set;
		enum dt_gread st;

		if (!va) {
			dt_sb_puts(&sb, "NULL");
			break;
		}
		st = dt_gread_all(c->mem, va, &set, sizeof(set));
		if (st != DT_GR_OK)
			dt_sb_failed(c, i, &sb, st, va);
		else
			dt_sb_sigset(&sb, set);
		break;
	}
	case DT_AT_KILL_PID:
		dt_render_kill_pid(c, (int32_t)v, r);
		return;
	case DT_AT_SEEK_WHENCE:
		dt_sb_whence(&sb, v);
		break;
	case DT_AT_ACCESS_MODE:
		dt_sb_access_mode(&sb, v);
		break;
	default:
		dt_sb_printf(&sb, "%#llx", (unsigned long long)v);
		break;
	}
	r->value = dt_commit(c, &sb, &r->truncated);
	if (dt_argtype_symbolic(ad->type) && !r->sym)
		r->sym = r->value;
}

/* ---- decodings ---- */

/* Set decoding "a:d" (replacing its value if the event has it already). An alias
 * (struct dt_decoding) stays one only if every setter says so. */
static void set_dec(struct dt_dctx *c, const char *a, const char *d, const char *value, bool alias)
{
	struct dt_event *ev = c->ev;
	size_t la = strlen(a);
	const char *name;
	unsigned k;

	if (!value)
		return;
	alias |= c->alias;
	for (k = 0; k < ev->ndec; k++) {
		const char *n = ev->dec[k].name;

		if (strncmp(n, a, la) == 0 && n[la] == ':' && strcmp(n + la + 1, d) == 0) {
			ev->dec[k].value = value;
			ev->dec[k].alias &= alias;
			return;
		}
	}
	name = dt_event_printf(ev, "%s:%s", a, d);
	if (*name && dt_event_add_dec(ev, name, value))
		ev->dec[ev->ndec - 1].alias = alias;
}

static bool is_execve(const struct dt_funcdesc *fd)
{
	return strcmp(fd->name, "execve") == 0 || strcmp(fd->name, "execveat") == 0;
}

static void add_decs(struct dt_dctx *c, const struct dt_funcdesc *fd, unsigned i,
		     const struct dt_rendered *r)
{
	const struct dt_argdesc *ad = &fd->args[i];
	const char *const *decs = dt_catalog_decodings(ad->type);
	unsigned k;

	if (!r->value)
		return;
	/* The argument's own decodings (arg:decoding), unless they repeat its value (a
	 * symbolic argument's flags:flags, a socket address's uservaddr:addr); then the
	 * names the ancestor's filters use for the same things: aliases. */
	if (r->sym && dt_argtype_symbolic(ad->type))
		set_dec(c, ad->name, ad->name, r->sym, !strcmp(r->sym, r->value));
	for (k = 0; decs[k] && k < DT_MAX_DECODINGS; k++)
		set_dec(c, ad->name, decs[k], r->sub[k], r->sub[k] == r->value);
	if (ad->type == DT_AT_SOCKADDR)
		set_dec(c, "addr", "addr", r->sub[0], true);
	else if (ad->type == DT_AT_SOCKLEN_PTR)
		set_dec(c, "len", "len", r->sub[0], true);
	else if (ad->type == DT_AT_WAIT_STATUS)
		for (k = 0; decs[k]; k++)
			set_dec(c, "status", decs[k], r->sub[k], true);
	if (!is_execve(fd))
		return;
	if (strcmp(ad->name, "filename") == 0) {
		set_dec(c, "regs", "filename", r->value, true);
		set_dec(c, "filename", "filename", r->value, true);
	} else if (strcmp(ad->name, "argv") == 0) {
		set_dec(c, "regs", "args", r->sym, true);
	} else if (strcmp(ad->name, "envp") == 0) {
		set_dec(c, "regs", "env", r->sym, true);
	}
}

/* "fd=3, uservaddr=AF_INET 1.2.3.4:80, addrlen=16": a socket call's arguments, as the
 * ancestor's args:args gave them; a pending argument shows its pointer. */
static void sb_named_args(struct dt_dctx *c, const struct dt_funcdesc *fd, unsigned n,
			  const char *const *values, struct dt_sbuf *sb)
{
	unsigned k;

	for (k = 0; k < n; k++) {
		dt_sb_printf(sb, "%s%s=", k ? ", " : "", fd->args[k].name);
		if (values[k])
			dt_sb_puts(sb, values[k]);
		else
			dt_sb_ptr(sb, dt_uptr(c, c->raw[k]));
	}
}

static void socket_decs(struct dt_dctx *c, const struct dt_funcdesc *fd)
{
	const char *values[DT_MAX_ARGS];
	char buf[DT_VALUE_MAX];
	struct dt_sbuf sb;
	bool trunc = false;
	unsigned k;

	if (!(fd->flags & DT_FN_SOCKET) || fd->sockcall <= 0)
		return;
	for (k = 0; k < fd->nargs; k++)
		values[k] = c->ev->args[k].value;
	dt_sb_init(&sb, buf, sizeof(buf));
	sb_named_args(c, fd, fd->nargs, values, &sb);
	/* socketcall's names on the direct socket calls: for filters only */
	set_dec(c, "call", "call", dt_sockcall_name(fd->sockcall), true);
	set_dec(c, "args", "args", dt_commit(c, &sb, &trunc), true);
}

/* The call socketcall(call, args) multiplexes: its catalogue entry and arity. */
static const struct dt_funcdesc *sockcall_target(int call, unsigned *ret_nargs)
{
	const char *name = call == 9 ? "sendto" : call == 10 ? "recvfrom" : dt_sockcall_name(call);
	const struct dt_funcdesc *all, *found = NULL;
	size_t n, k;

	if (!name)
		return NULL;
	all = dt_catalog_funcs(&n);
	/* the i386 entry if there is one (recvmmsg: time32); accept has only x86-64's */
	for (k = 0; k < n; k++)
		if (strcmp(all[k].name, name) == 0 && (!found || all[k].nr32 >= 0))
			found = &all[k];
	/* send/recv are sendto/recvfrom without the address */
	if (found)
		*ret_nargs = call == 9 || call == 10 ? 4 : found->nargs;
	return found;
}

/*
 * socketcall(call, args): read the call's arguments (32-bit words: socketcall exists
 * on i386 only) and decode them as the direct syscall would be. Value: the inner
 * values, [3, AF_INET 1.2.3.4:80, 16]; args:args: fd=3, uservaddr=..., addrlen=16;
 * plus the inner arguments' own decodings (uservaddr:addr, addr:addr, ...).
 */
static void render_socketcall_args(struct dt_dctx *c, const struct dt_funcdesc *fd, unsigned i,
				   struct dt_rendered *r)
{
	const struct dt_funcdesc *inner = NULL;
	struct dt_rendered ir[DT_MAX_ARGS];
	const char *values[DT_MAX_ARGS] = { NULL };
	char buf[DT_VALUE_MAX];
	struct dt_sbuf sb;
	struct dt_dctx ic;
	uint32_t words[DT_MAX_ARGS];
	uint64_t va = dt_uptr(c, c->raw[i]);
	unsigned k, n = 0;
	enum dt_gread st;
	int call = -1;

	for (k = 0; k < fd->nargs; k++)
		if (fd->args[k].type == DT_AT_SOCKCALL)
			call = (int32_t)c->raw[k];
	dt_sb_init(&sb, buf, sizeof(buf));
	inner = sockcall_target(call, &n);
	if (!inner || !va) {
		dt_sb_ptr(&sb, va);
		r->value = dt_commit(c, &sb, &r->truncated);
		return;
	}
	st = dt_gread_all(c->mem, va, words, n * sizeof(words[0]));
	if (st != DT_GR_OK) {
		dt_sb_failed(c, i, &sb, st, va);
		r->value = dt_commit(c, &sb, &r->truncated);
		return;
	}
	ic = *c;
	ic.compat = true;
	ic.bit = (int)i;
	ic.alias = true; /* the inner call's decodings: args:args carries them */
	memset(ic.raw, 0, sizeof(ic.raw));
	for (k = 0; k < n; k++)
		ic.raw[k] = words[k];
	for (k = 0; k < n; k++) {
		render_one(&ic, inner, k, &ir[k]);
		values[k] = ir[k].value;
		add_decs(&ic, inner, k, &ir[k]);
	}
	c->missing |= ic.missing;
	dt_sb_putc(&sb, '[');
	for (k = 0; k < n; k++) {
		if (k)
			dt_sb_puts(&sb, ", ");
		if (values[k])
			dt_sb_puts(&sb, values[k]);
		else
			dt_sb_ptr(&sb, (uint32_t)ic.raw[k]);
	}
	dt_sb_putc(&sb, ']');
	r->value = dt_commit(c, &sb, &r->truncated);
	dt_sb_init(&sb, buf, sizeof(buf));
	sb_named_args(&ic, inner, n, values, &sb);
	r->sub[0] = dt_commit(c, &sb, &r->truncated);
	for (k = 0; k < n; k++)
		r->truncated |= ir[k].truncated;
}

/* ---- entry points ---- */

static void ctx_init(struct dt_dctx *c, struct dt_event *ev, const struct dt_guest_mem *mem, bool post)
{
	unsigned k;

	memset(c, 0, sizeof(*c));
	c->ev = ev;
	c->mem = mem;
	c->compat = ev->compat;
	c->post = post;
	c->bit = -1;
	for (k = 0; k < DT_MAX_ARGS && k < ev->nargs; k++)
		c->raw[k] = ev->args[k].raw;
}

static void render_into_event(struct dt_dctx *c, const struct dt_funcdesc *fd, unsigned i)
{
	struct dt_rendered r;

	render_one(c, fd, i, &r);
	c->ev->args[i].value = r.value;
	c->ev->args[i].pending = r.value == NULL;
	c->ev->args[i].truncated = r.truncated;
	add_decs(c, fd, i, &r);
}

int dt_decode_pre(struct dt_event *ev, const struct dt_funcdesc *fd, const uint64_t raw[DT_MAX_ARGS],
		  const struct dt_guest_mem *mem, unsigned *ret_missing)
{
	struct dt_dctx c;
	unsigned i;

	ev->nargs = fd->nargs <= DT_MAX_ARGS ? fd->nargs : DT_MAX_ARGS;
	for (i = 0; i < ev->nargs; i++) {
		memset(&ev->args[i], 0, sizeof(ev->args[i]));
		ev->args[i].name = fd->args[i].name;
		ev->args[i].raw = raw[i];
	}
	ctx_init(&c, ev, mem, false);
	for (i = 0; i < ev->nargs; i++)
		render_into_event(&c, fd, i);
	socket_decs(&c, fd);
	if (ret_missing)
		*ret_missing = c.missing;
	return 0;
}

int dt_decode_retry_arg(struct dt_event *ev, const struct dt_funcdesc *fd, unsigned i,
			const struct dt_guest_mem *mem)
{
	struct dt_dctx c;

	if (i >= ev->nargs || i >= fd->nargs)
		return 0;
	ctx_init(&c, ev, mem, false);
	render_into_event(&c, fd, i);
	socket_decs(&c, fd);
	return c.missing & (1u << i) ? -EAGAIN : 0;
}

int dt_decode_set_copied(struct dt_event *ev, const struct dt_funcdesc *fd, unsigned i,
			 const char *s, size_t len, bool truncated)
{
	struct dt_rendered r;
	struct dt_dctx c;

	if (i >= ev->nargs || i >= fd->nargs)
		return -EINVAL;
	ctx_init(&c, ev, NULL, false);
	memset(&r, 0, sizeof(r));
	r.value = dt_event_strdup(ev, s, len);
	r.truncated = truncated || strlen(r.value) < len;
	ev->args[i].value = r.value;
	ev->args[i].pending = false;
	ev->args[i].truncated = r.truncated;
	add_decs(&c, fd, i, &r);
	return 0;
}

int dt_decode_post(struct dt_event *ev, const struct dt_funcdesc *fd, const struct dt_guest_mem *mem,
		   unsigned *ret_missing)
{
	struct dt_dctx c;
	unsigned i;

	ctx_init(&c, ev, mem, true);
	for (i = 0; i < ev->nargs && i < fd->nargs; i++)
		if (fd->args[i].dir != DT_DIR_IN || fd->args[i].type == DT_AT_SOCKCALL_ARGS)
			render_into_event(&c, fd, i);
	socket_decs(&c, fd);
	if (ret_missing)
		*ret_missing = c.missing;
	return 0;
}
