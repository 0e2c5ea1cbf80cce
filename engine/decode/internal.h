/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * internal.h - shared by the engine/decode sources only: a bounded string builder, the
 * symbolic-name tables (names.c), the guest readers (guestread.c) and the per-call
 * decoding context with its renderers (render.c, decode.c).
 * Thread: any; nothing here keeps state.
 */
#ifndef DOMTRACE_DECODE_INTERNAL_H
#define DOMTRACE_DECODE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domtrace/decode.h"

/* A bounded, always NUL-terminated string builder over a caller's buffer. */
struct dt_sbuf {
	char *buf;
	size_t cap; /* > 0 */
	size_t len;
	bool trunc; /* something did not fit */
};

void dt_sb_init(struct dt_sbuf *sb, char *buf, size_t cap);
void dt_sb_putc(struct dt_sbuf *sb, char c);
void dt_sb_puts(struct dt_sbuf *sb, const char *s);
void dt_sb_putmem(struct dt_sbuf *sb, const void *p, size_t n);
void dt_sb_printf(struct dt_sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Bytes as a C string body: printable ASCII kept, \" \\ \n \t \r, others \xNN. */
void dt_sb_escaped(struct dt_sbuf *sb, const void *p, size_t n);

/* A name for one value or for a set of bits. */
struct dt_flagname {
	uint64_t val;
	const char *name;
};

/* Names of the bits set in v ("A|B|0x40"); `zero` if v == 0. Multi-bit entries come
 * first in a table so that they win over their parts. */
void dt_sb_flags(struct dt_sbuf *sb, const struct dt_flagname *tab, size_t n, uint64_t v,
		 const char *zero);
#define DT_SB_FLAGS(sb, tab, v, zero) dt_sb_flags(sb, tab, sizeof(tab) / sizeof(tab[0]), v, zero)

/* names.c: symbolic renderers (x86 Linux ABI values, independent of dom0's headers) */
void dt_sb_open_flags(struct dt_sbuf *sb, uint64_t v, bool with_accmode);
void dt_sb_mode(struct dt_sbuf *sb, uint64_t v);
void dt_sb_at_flags(struct dt_sbuf *sb, uint64_t v, bool eaccess);
void dt_sb_signal(struct dt_sbuf *sb, int64_t sig);
void dt_sb_sigset(struct dt_sbuf *sb, uint64_t set);
void dt_sb_wait_options(struct dt_sbuf *sb, uint64_t v);
void dt_sb_fcntl_cmd(struct dt_sbuf *sb, uint64_t v, bool compat);
void dt_sb_ioctl_cmd(struct dt_sbuf *sb, uint64_t v, bool compat);
void dt_sb_mmap_prot(struct dt_sbuf *sb, uint64_t v);
void dt_sb_mmap_flags(struct dt_sbuf *sb, uint64_t v);
void dt_sb_clone_flags(struct dt_sbuf *sb, uint64_t v, bool exit_signal);
void dt_sb_sock_family(struct dt_sbuf *sb, int64_t v);
void dt_sb_sock_type(struct dt_sbuf *sb, uint64_t v, bool flags_only);
void dt_sb_sock_proto(struct dt_sbuf *sb, int64_t family, int64_t proto);
void dt_sb_msg_flags(struct dt_sbuf *sb, uint64_t v);
void dt_sb_whence(struct dt_sbuf *sb, uint64_t v);
void dt_sb_access_mode(struct dt_sbuf *sb, uint64_t v);
const char *dt_family_name(int64_t family); /* "AF_INET"; NULL if unknown */
/* sock.c: a sockaddr the guest claims is `len` bytes long, of which the first
 * min(len, DT_SOCKADDR_MAX) are in p: "AF_INET 1.2.3.4:80" (docs/DECODING.md) */
#define DT_SOCKADDR_MAX 128 /* sizeof(struct sockaddr_storage) */
void dt_sb_sockaddr(struct dt_sbuf *sb, const uint8_t *p, uint64_t len);
const char *dt_sockcall_upper(int call);    /* "SYS_CONNECT"; NULL if out of range */

/* guestread.c: bounded reads of guest memory. */
enum dt_gread {
	DT_GR_OK = 0,
	DT_GR_NOT_PRESENT = 1, /* a page is not present: the engine may retry */
	DT_GR_UNREADABLE = 2,  /* the read failed (bad address, backend error) */
};

/* Up to len bytes at va; *ret_n how many were read (all of them iff DT_GR_OK). */
enum dt_gread dt_gread_some(const struct dt_guest_mem *mem, uint64_t va, void *buf, size_t len,
			    size_t *ret_n);
/* Exactly len bytes at va. */
enum dt_gread dt_gread_all(const struct dt_guest_mem *mem, uint64_t va, void *buf, size_t len);
/* A NUL-terminated string: at most cap - 1 bytes into buf, NUL-terminated; *ret_len
 * its length, *ret_trunc if no NUL came before cap - 1 bytes. Reads page by page. */
enum dt_gread dt_gread_str(const struct dt_guest_mem *mem, uint64_t va, char *buf, size_t cap,
			   size_t *ret_len, bool *ret_trunc);

/* ---- decoding one call (decode.c, render.c) ---- */

/* What rendering one argument produced; strings live in the arena or are static. */
struct dt_rendered {
	const char *value; /* NULL: pending (OUT argument before the call) */
	const char *sym;   /* the "<arg>:<arg>" decoding of a symbolic type */
	const char *sub[DT_MAX_DECODINGS]; /* the dt_catalog_decodings(type) values */
	bool truncated;
};

struct dt_dctx {
	struct dt_event *ev;
	const struct dt_guest_mem *mem;
	uint64_t raw[DT_MAX_ARGS];
	bool compat;
	bool post;
	int bit;	  /* argument bit to report "not present" on, -1: the argument's own */
	unsigned missing; /* bitmask of arguments with memory not present */
	bool alias;	  /* decodings set through this context are aliases (socketcall's inner call) */
};

/* a user pointer or long of the traced ABI */
static inline uint64_t dt_uptr(const struct dt_dctx *c, uint64_t v)
{
	return c->compat ? (uint32_t)v : v;
}

/* after a call that failed: it wrote nothing */
static inline bool dt_dctx_failed(const struct dt_dctx *c)
{
	return c->ev->has_ret && c->ev->ret < 0;
}

void dt_sb_ptr(struct dt_sbuf *sb, uint64_t p); /* 0x... or NULL */
/* The text of a failed read; sets the argument's not-present bit. */
void dt_sb_failed(struct dt_dctx *c, unsigned i, struct dt_sbuf *sb, enum dt_gread st, uint64_t va);
/* Copy the builder's text to the arena; *trunc set if it was cut on the way. */
const char *dt_commit(struct dt_dctx *c, const struct dt_sbuf *sb, bool *trunc);
const char *dt_arena_int(struct dt_dctx *c, long long v);

void dt_render_string(struct dt_dctx *c, unsigned i, uint64_t va, struct dt_rendered *r);
void dt_render_buf(struct dt_dctx *c, unsigned i, uint64_t va, uint64_t len, struct dt_sbuf *sb,
		   struct dt_rendered *r);
void dt_render_argv(struct dt_dctx *c, unsigned i, uint64_t va, struct dt_rendered *r);
void dt_render_exit(struct dt_dctx *c, const struct dt_argdesc *ad, uint64_t v,
		    struct dt_rendered *r);
void dt_render_wait_status(struct dt_dctx *c, unsigned i, uint64_t va, struct dt_sbuf *sb,
			   struct dt_rendered *r);
void dt_render_timespec(struct dt_dctx *c, const struct dt_funcdesc *fd, unsigned i, uint64_t va,
			struct dt_sbuf *sb);
void dt_render_clone_args(struct dt_dctx *c, unsigned i, uint64_t va, struct dt_sbuf *sb,
			  struct dt_rendered *r);
void dt_render_kill_pid(struct dt_dctx *c, int32_t pid, struct dt_rendered *r);

#endif /* DOMTRACE_DECODE_INTERNAL_H */
