// SPDX-License-Identifier: GPL-2.0-only
/*
 * Renderers of arguments that live in guest memory: strings, buffers, argv/envp,
 * exit and wait status, timespec, clone3's args, kill's pid. Each read is bounded
 * (guestread.c); a failed read is rendered as such and flags the retry bit.
 */
#include <string.h>

#include "internal.h"

#define ARGV_VALUE_MAX (DT_ARGV_BYTES * 3 / 2)

void dt_sb_ptr(struct dt_sbuf *sb, uint64_t p)
{
	if (p)
		dt_sb_printf(sb, "%#llx", (unsigned long long)p);
	else
		dt_sb_puts(sb, "NULL");
}

void dt_sb_failed(struct dt_dctx *c, unsigned i, struct dt_sbuf *sb, enum dt_gread st, uint64_t va)
{
	if (st == DT_GR_NOT_PRESENT) {
		c->missing |= 1u << (c->bit >= 0 ? (unsigned)c->bit : i);
		dt_sb_printf(sb, "<not present %#llx>", (unsigned long long)va);
	} else {
		dt_sb_printf(sb, "<unreadable %#llx>", (unsigned long long)va);
	}
}

const char *dt_commit(struct dt_dctx *c, const struct dt_sbuf *sb, bool *trunc)
{
	const char *s = dt_event_strdup(c->ev, sb->buf, sb->len);

	if (sb->trunc || strlen(s) < sb->len)
		*trunc = true;
	return s;
}

const char *dt_arena_int(struct dt_dctx *c, long long v)
{
	return dt_event_printf(c->ev, "%lld", v);
}

void dt_render_string(struct dt_dctx *c, unsigned i, uint64_t va, struct dt_rendered *r)
{
	char buf[DT_STR_MAX];
	struct dt_sbuf sb;
	enum dt_gread st;
	size_t len;
	bool trunc;

	if (!va) {
		r->value = "NULL";
		return;
	}
	st = dt_gread_str(c->mem, va, buf, sizeof(buf), &len, &trunc);
	if (st == DT_GR_OK) {
		r->value = dt_event_strdup(c->ev, buf, len);
		r->truncated = trunc || strlen(r->value) < len;
		return;
	}
	dt_sb_init(&sb, buf, sizeof(buf));
	dt_sb_failed(c, i, &sb, st, va);
	r->value = dt_commit(c, &sb, &r->truncated);
}

/* A data buffer: its first DT_BUF_SHOW bytes as a quoted C string, "..." if longer. */
void dt_render_buf(struct dt_dctx *c, unsigned i, uint64_t va, uint64_t len, struct dt_sbuf *sb,
		       struct dt_rendered *r)
{
	uint8_t data[DT_BUF_SHOW];
	size_t show;
	enum dt_gread st;

	if (!va) {
		dt_sb_puts(sb, "NULL");
		return;
	}
	show = len < DT_BUF_SHOW ? (size_t)len : DT_BUF_SHOW;
	st = dt_gread_all(c->mem, va, data, show);
	if (st != DT_GR_OK) {
		dt_sb_failed(c, i, sb, st, va);
		return;
	}
	dt_sb_putc(sb, '"');
	dt_sb_escaped(sb, data, show);
	dt_sb_putc(sb, '"');
	if (len > show) {
		dt_sb_puts(sb, "...");
		r->truncated = true;
	}
}

/*
 * argv/envp: value ["/bin/sh", "-c", "id"] (quoted, escaped), and the joined raw
 * text /bin/sh -c id for the argv:argv / regs:args decodings. At most DT_ARGV_MAX
 * elements and DT_ARGV_BYTES string bytes; each element is a separate bounded read,
 * so cyclic or repeated pointers cost no more than distinct ones.
 */
void dt_render_argv(struct dt_dctx *c, unsigned i, uint64_t va, struct dt_rendered *r)
{
	char val[ARGV_VALUE_MAX], join[DT_ARGV_BYTES + DT_ARGV_MAX + 1], str[DT_STR_MAX];
	uint8_t ptrs[(DT_ARGV_MAX + 1) * 8];
	size_t psize = c->compat ? 4 : 8, have, k, budget = DT_ARGV_BYTES;
	struct dt_sbuf sv, sj;
	enum dt_gread st;
	bool trunc = false;

	if (!va) {
		r->value = r->sym = "NULL";
		return;
	}
	dt_sb_init(&sv, val, sizeof(val));
	dt_sb_init(&sj, join, sizeof(join));
	st = dt_gread_some(c->mem, va, ptrs, (DT_ARGV_MAX + 1) * psize, &have);
	dt_sb_putc(&sv, '[');
	for (k = 0;; k++) {
		uint64_t p = 0, slot = va + k * psize;
		size_t len;
		bool cut;

		if ((k + 1) * psize > have) {
			/* the array itself runs onto a page we cannot read */
			if (k) {
				dt_sb_puts(&sv, ", ");
				dt_sb_putc(&sj, ' ');
			}
			dt_sb_failed(c, i, &sv, st == DT_GR_OK ? DT_GR_NOT_PRESENT : st, slot);
			dt_sb_failed(c, i, &sj, st == DT_GR_OK ? DT_GR_NOT_PRESENT : st, slot);
			break;
		}
		memcpy(&p, ptrs + k * psize, psize); /* x86 guests are little-endian */
		if (!p)
			break;
		if (k == DT_ARGV_MAX || budget == 0) {
			dt_sb_puts(&sv, k ? ", ..." : "...");
			trunc = true;
			break;
		}
		if (k) {
			dt_sb_puts(&sv, ", ");
			dt_sb_putc(&sj, ' ');
		}
		/* read no more than the byte budget can still show */
		st = dt_gread_str(c->mem, p, str, budget + 1 < sizeof(str) ? budget + 1 : sizeof(str),
				  &len, &cut);
		if (st != DT_GR_OK) {
			dt_sb_failed(c, i, &sv, st, p);
			dt_sb_failed(c, i, &sj, st, p);
			continue;
		}
		if (len > budget) {
			len = budget;
			cut = true;
		}
		budget -= len;
		dt_sb_putc(&sv, '"');
		dt_sb_escaped(&sv, str, len);
		dt_sb_puts(&sv, cut ? "\"..." : "\"");
		dt_sb_putmem(&sj, str, len);
		trunc |= cut;
	}
	dt_sb_putc(&sv, ']');
	if (sv.trunc) /* keep the closing bracket visible */
		memcpy(val + sv.len - 4, "...]", 4);
	r->value = dt_commit(c, &sv, &r->truncated);
	r->sym = dt_commit(c, &sj, &r->truncated);
	r->truncated |= trunc;
}

/* exit()'s status, or do_exit()'s wait-encoded code */
void dt_render_exit(struct dt_dctx *c, const struct dt_argdesc *ad, uint64_t v, struct dt_rendered *r)
{
	if (ad->type == DT_AT_EXIT_STATUS) {
		r->value = dt_arena_int(c, (int32_t)v);
		r->sub[0] = "exit";
		r->sub[1] = dt_arena_int(c, (long long)(v & 0xff));
		r->sub[2] = r->sub[3] = "";
		return;
	}
	r->value = dt_event_printf(c->ev, "%#llx", (unsigned long long)dt_uptr(c, v));
	if ((v & 0x7f) == 0) {
		r->sub[0] = "exit";
		r->sub[1] = dt_arena_int(c, (long long)((v >> 8) & 0xff));
		r->sub[2] = r->sub[3] = "";
	} else if ((v & 0x7f) != 0x7f) {
		const char *sig = dt_signal_name((int)(v & 0x7f));

		r->sub[0] = "signal";
		r->sub[1] = "";
		r->sub[2] = sig ? sig : dt_arena_int(c, (long long)(v & 0x7f));
		r->sub[3] = (v & 0x80) ? "1" : "0";
	} else {
		r->sub[0] = "unknown";
		r->sub[1] = r->sub[2] = r->sub[3] = "";
	}
}

/* wait4/waitpid status, after the call: strace's [{WIFEXITED(s) && WEXITSTATUS(s) == 0}] */
void dt_render_wait_status(struct dt_dctx *c, unsigned i, uint64_t va, struct dt_sbuf *sb,
			       struct dt_rendered *r)
{
	uint32_t s;
	enum dt_gread st;
	const char *sig;

	r->sub[0] = "nostatus";
	r->sub[1] = r->sub[2] = r->sub[3] = "";
	if (!va || !c->ev->has_ret || c->ev->ret <= 0) { /* nothing was reaped */
		dt_sb_ptr(sb, va);
		return;
	}
	st = dt_gread_all(c->mem, va, &s, sizeof(s));
	if (st != DT_GR_OK) {
		dt_sb_failed(c, i, sb, st, va);
		r->sub[0] = "unknown";
		return;
	}
	sig = dt_signal_name((int)(s & 0x7f));
	if ((s & 0x7f) == 0) {
		dt_sb_printf(sb, "[{WIFEXITED(s) && WEXITSTATUS(s) == %u}]", (s >> 8) & 0xff);
		r->sub[0] = "exit";
		r->sub[1] = dt_arena_int(c, (s >> 8) & 0xff);
	} else if ((s & 0xffff) == 0xffff) {
		dt_sb_puts(sb, "[{WIFCONTINUED(s)}]");
		r->sub[0] = "continued";
	} else if ((s & 0xff) == 0x7f) {
		sig = dt_signal_name((int)((s >> 8) & 0xff));
		if (sig)
			dt_sb_printf(sb, "[{WIFSTOPPED(s) && WSTOPSIG(s) == %s}", sig);
		else
			dt_sb_printf(sb, "[{WIFSTOPPED(s) && WSTOPSIG(s) == %u}", (s >> 8) & 0xff);
		if (s >> 16)
			dt_sb_printf(sb, " | %#x", s >> 16 << 16); /* ptrace event */
		dt_sb_putc(sb, ']');
		r->sub[0] = "stopped";
		r->sub[2] = sig ? sig : dt_arena_int(c, (s >> 8) & 0xff);
	} else {
		dt_sb_puts(sb, "[{WIFSIGNALED(s) && WTERMSIG(s) == ");
		dt_sb_signal(sb, s & 0x7f);
		dt_sb_puts(sb, (s & 0x80) ? " && WCOREDUMP(s)}]" : "}]");
		r->sub[0] = "signal";
		r->sub[2] = sig ? sig : dt_arena_int(c, s & 0x7f);
		r->sub[3] = (s & 0x80) ? "1" : "0";
	}
}

void dt_render_timespec(struct dt_dctx *c, const struct dt_funcdesc *fd, unsigned i, uint64_t va,
			    struct dt_sbuf *sb)
{
	/* a compat call uses old_timespec32 unless it is one of the *_time64 calls */
	bool t32 = c->compat && !strstr(fd->name, "time64");
	uint8_t b[16];
	int64_t sec, nsec;
	enum dt_gread st;

	if (!va) {
		dt_sb_puts(sb, "NULL");
		return;
	}
	st = dt_gread_all(c->mem, va, b, t32 ? 8 : 16);
	if (st != DT_GR_OK) {
		dt_sb_failed(c, i, sb, st, va);
		return;
	}
	if (t32) {
		int32_t s32, n32;

		memcpy(&s32, b, 4);
		memcpy(&n32, b + 4, 4);
		sec = s32;
		nsec = n32;
	} else {
		memcpy(&sec, b, 8);
		memcpy(&nsec, b + 8, 8);
	}
	dt_sb_printf(sb, "{tv_sec=%lld, tv_nsec=%lld}", (long long)sec, (long long)nsec);
}

/* clone3's struct clone_args (the 64-byte CLONE_ARGS_SIZE_VER0 part) */
void dt_render_clone_args(struct dt_dctx *c, unsigned i, uint64_t va, struct dt_sbuf *sb,
			      struct dt_rendered *r)
{
	static const char *const names[] = { "flags", "pidfd", "child_tid", "parent_tid",
					     "exit_signal", "stack", "stack_size", "tls" };
	uint64_t a[8];
	char fbuf[512];
	struct dt_sbuf fsb;
	enum dt_gread st;
	unsigned k;

	if (!va) {
		dt_sb_puts(sb, "NULL");
		return;
	}
	st = dt_gread_all(c->mem, va, a, sizeof(a));
	if (st != DT_GR_OK) {
		dt_sb_failed(c, i, sb, st, va);
		return;
	}
	dt_sb_init(&fsb, fbuf, sizeof(fbuf));
	dt_sb_clone_flags(&fsb, a[0], false);
	r->sub[0] = dt_commit(c, &fsb, &r->truncated);
	dt_sb_printf(sb, "{flags=%s, exit_signal=", fbuf);
	dt_sb_signal(sb, (int64_t)a[4]);
	for (k = 1; k < 8; k++)
		if (k != 4 && a[k])
			dt_sb_printf(sb, ", %s=%#llx", names[k], (unsigned long long)a[k]);
	dt_sb_putc(sb, '}');
}

void dt_render_kill_pid(struct dt_dctx *c, int32_t pid, struct dt_rendered *r)
{
	r->value = dt_arena_int(c, pid);
	if (pid > 0)
		r->sym = dt_event_printf(c->ev, "process %d", pid);
	else if (pid == 0)
		r->sym = "own process group";
	else if (pid == -1)
		r->sym = "all processes";
	else
		r->sym = dt_event_printf(c->ev, "process group %lld", -(long long)pid);
}
