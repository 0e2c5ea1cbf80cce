/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * catalog.h - what domtrace knows about traceable functions: every x86-64 and i386
 * syscall (number, name, argument names, C types, how each argument is rendered and
 * which named decodings it offers) and the non-syscall kernel functions the seed uses
 * (do_exit). Also the seed's names (sys_execve, sys_socketcall, sys_waitpid, ...) and
 * what they mean on a modern kernel.
 *
 * The catalogue is static, immutable data: any thread may call anything here at any
 * time. Nothing returned is ever freed.
 */
#ifndef DOMTRACE_CATALOG_H
#define DOMTRACE_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DT_MAX_ARGS 6
#define DT_MAX_DECODINGS 4 /* named decodings one argument offers */

/* How a raw argument value becomes text (decode/) and which decodings it offers. */
enum dt_argtype {
	DT_AT_INT = 0,	  /* signed decimal */
	DT_AT_UINT,	  /* unsigned decimal */
	DT_AT_LONG,	  /* signed 64-bit decimal */
	DT_AT_ULONG,	  /* unsigned 64-bit decimal */
	DT_AT_HEX,	  /* 0x... */
	DT_AT_PTR,	  /* user pointer, 0x... or NULL */
	DT_AT_FD,	  /* file descriptor (int) */
	DT_AT_DIRFD,	  /* AT_FDCWD or fd */
	DT_AT_PID,	  /* pid_t */
	DT_AT_STR,	  /* NUL-terminated user string (bounded) */
	DT_AT_PATH,	  /* NUL-terminated user path (bounded) */
	DT_AT_BUF,	  /* user buffer; length in len_arg; IN shows content pre, OUT post */
	DT_AT_ARGV,	  /* NULL-terminated array of user strings (bounded) */
	DT_AT_OPEN_FLAGS, /* O_* */
	DT_AT_MODE,	  /* S_I* / octal */
	DT_AT_AT_FLAGS,	  /* AT_* */
	DT_AT_SIGNAL,	  /* SIG* */
	DT_AT_EXIT_CODE,  /* exit()/do_exit() code: decodings cause, status, signal */
	DT_AT_WAIT_STATUS,/* int __user *: read post-call; decodings cause, code, signal */
	DT_AT_WAIT_OPTIONS,
	DT_AT_FCNTL_CMD,
	DT_AT_IOCTL_CMD,
	DT_AT_MMAP_PROT,
	DT_AT_MMAP_FLAGS,
	DT_AT_CLONE_FLAGS,
	DT_AT_SOCK_FAMILY,
	DT_AT_SOCK_TYPE,
	DT_AT_SOCKADDR,	  /* struct sockaddr __user *, length in len_arg (value or pointer) */
	DT_AT_SOCKLEN_PTR,/* int __user *: read post-call */
	DT_AT_SOCKCALL,	  /* socketcall call number: decoding "call" */
	DT_AT_SOCKCALL_ARGS, /* socketcall unsigned long __user *args: decoding "args" */
	DT_AT_TIMESPEC,	  /* struct __kernel_timespec __user * */
	DT_AT_SIGSET,	  /* sigset_t __user * */
	DT_AT_KILL_PID,	  /* kill()'s pid: -1, 0, <0 = process group */
	_DT_AT_MAX,
};

enum dt_argdir {
	DT_DIR_IN = 1,
	DT_DIR_OUT = 2,
	DT_DIR_INOUT = 3,
};

struct dt_argdesc {
	const char *name;  /* "filename" */
	const char *ctype; /* "const char __user *" */
	uint8_t type;	   /* enum dt_argtype */
	uint8_t dir;	   /* enum dt_argdir */
	int8_t len_arg;	   /* index of the argument holding this one's length, or -1 */
};

enum dt_func_flags {
	DT_FN_SYSCALL = 1u << 0,  /* a syscall (has a number); else a kernel function */
	DT_FN_NORETURN = 1u << 1, /* never returns: exit, exit_group, do_exit; no post */
	DT_FN_PSLIST = 1u << 2,	  /* execve/fork/vfork/clone/clone3: triggers pslist */
	DT_FN_SOCKET = 1u << 3,	  /* a socket call: matches function=sys_socketcall */
	DT_FN_WAIT = 1u << 4,	  /* wait4/waitid/waitpid: matches function=sys_waitpid */
	DT_FN_NOARGS_REGS = 1u << 5, /* kernel function: args in registers, not pt_regs */
};

struct dt_funcdesc {
	const char *name; /* canonical, without prefix: "execve", "do_exit" */
	int16_t nr64;	  /* x86-64 syscall number, -1 if none */
	int16_t nr32;	  /* i386 syscall number, -1 if none */
	uint8_t nargs;
	uint16_t flags; /* enum dt_func_flags */
	int16_t sockcall; /* socketcall call number this syscall is (SYS_CONNECT = 3), or 0 */
	struct dt_argdesc args[DT_MAX_ARGS];
};

/* The whole table and its size. Index = function id (stable within one build). */
const struct dt_funcdesc *dt_catalog_funcs(size_t *ret_n);
const struct dt_funcdesc *dt_catalog_get(int func_id);

/* Lookup by canonical name ("execve"), by kernel symbol ("__x64_sys_execve",
 * "__ia32_sys_execve", "__ia32_compat_sys_execve", "sys_execve", "do_exit").
 * Returns the function id or -ENOENT. *ret_compat is set for ia32 symbols. */
int dt_catalog_by_symbol(const char *sym, bool *ret_compat);
int dt_catalog_by_nr(int nr, bool compat); /* id or -ENOENT */

/*
 * A name as the user writes it in `Functions` or `function=` resolves to a set of
 * function ids: "sys_execve" -> {execve}; "sys_socketcall" -> {socketcall and every
 * socket syscall}; "sys_waitpid" -> {waitpid, wait4}; "openat" -> {openat}; "*" -> all.
 * Fills ids[] (up to max) and returns the count, or -ENOENT for an unknown name.
 */
int dt_catalog_resolve(const char *user_name, int *ids, size_t max);
/* The closest known name to an unknown one, for "did you mean" hints; NULL if none. */
const char *dt_catalog_suggest(const char *user_name);

/*
 * Argument names a filter may use on a function: an argument ("filename"), or an
 * argument decoding ("code:signal", "call:call", and the seed's "regs:filename",
 * "regs:args", "regs:env" for execve). True if valid for func_id.
 */
bool dt_catalog_has_argname(int func_id, const char *argname);

/* Decoding names an argument type offers ("cause", "status", "signal"), NULL-ended. */
const char *const *dt_catalog_decodings(enum dt_argtype type);

#endif /* DOMTRACE_CATALOG_H */
