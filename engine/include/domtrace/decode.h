/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * decode.h - turning raw syscall arguments into text, strace-quality: strings, argv,
 * flags, modes, sockaddrs, signals, exit/wait status, socketcall, ioctl/fcntl commands.
 *
 * Decoders read guest memory only through a struct dt_guest_mem, so they can be tested
 * against plain buffers and fuzzed. Every read is bounded; a guest controls all of the
 * bytes and none of them may crash, hang or mislead the decoder: lengths are capped,
 * arrays are bounded, failures are rendered as such ("<unreadable 0x...>").
 *
 * Thread: any; decoders keep no state. Results go into the event's arena.
 *
 * Every dt_decode_* function returns 0 or -errno (-EINVAL: an argument index the call
 * does not have; -EAGAIN: what it needs is still on a page that is not present); what
 * else it finds out comes back through a ret_ pointer (NULL if not wanted).
 */
#ifndef DOMTRACE_DECODE_H
#define DOMTRACE_DECODE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "domtrace/catalog.h"
#include "domtrace/event.h"

#define DT_STR_MAX 4096	 /* string arguments: at most DT_STR_MAX - 1 bytes read */
#define DT_ARGV_MAX 64	 /* argv/envp elements rendered */
#define DT_ARGV_BYTES 2048 /* bytes of argv (or envp) strings rendered, all elements */
#define DT_BUF_SHOW 32	 /* bytes of a data buffer shown */
#define DT_VALUE_MAX 4096 /* longest rendered (escaped) value but for raw strings */

struct dt_guest_mem {
	/* Read guest virtual memory as the traced task sees it. Returns the bytes copied,
	 * stopping at the first page that is not present (0 if the first is not), or
	 * -errno. */
	ssize_t (*read)(void *ctx, uint64_t va, void *buf, size_t len);
	void *ctx;
};

/*
 * Fill ev->nargs, ev->args[] (name, raw, value) and ev->dec[] for a call at entry.
 * raw[] are the six arguments in ABI order (already taken from pt_regs or registers
 * by the caller). OUT arguments are left pending. ev->func_id, compat, nr are set by
 * the caller.
 * Returns 0. *ret_missing: a bitmask (bit i = argument i) of arguments whose guest
 * memory was on a page that is not present: their value says so, and the engine may
 * retry them later (e.g. execve at a point where the kernel has faulted the pages in).
 */
int dt_decode_pre(struct dt_event *ev, const struct dt_funcdesc *fd, const uint64_t raw[DT_MAX_ARGS],
		  const struct dt_guest_mem *mem, unsigned *ret_missing);

/* Re-render argument i (after a retry), replacing its value and decodings. Returns 0
 * if readable now (or if the call has no argument i: nothing to retry), -EAGAIN if
 * still not present. */
int dt_decode_retry_arg(struct dt_event *ev, const struct dt_funcdesc *fd, unsigned i,
			const struct dt_guest_mem *mem);

/* Argument i's value is a string the kernel copied (a path from a struct filename):
 * it replaces what was read from user memory, and the argument's decodings follow.
 * 0, or -EINVAL for a bad index. */
int dt_decode_set_copied(struct dt_event *ev, const struct dt_funcdesc *fd, unsigned i,
			 const char *s, size_t len, bool truncated);

/* After the call: ev->has_ret/ret are set by the caller; renders OUT arguments and the
 * post-only decodings (wait status, accepted sockaddr, ...). Returns 0; *ret_missing as
 * for dt_decode_pre. */
int dt_decode_post(struct dt_event *ev, const struct dt_funcdesc *fd, const struct dt_guest_mem *mem,
		   unsigned *ret_missing);

/* Small renderers other modules use (static strings or "" for unknown). */
const char *dt_signal_name(int sig);	  /* "SIGSEGV"; NULL if unknown */
const char *dt_errno_name(int err);	  /* "ENOENT"; NULL if unknown */
const char *dt_sockcall_name(int call);	  /* "connect"; NULL if out of range */

#endif /* DOMTRACE_DECODE_H */
