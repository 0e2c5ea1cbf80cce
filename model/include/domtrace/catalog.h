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
	DT_AT_EXIT_STATUS,/* exit()/exit_group() status (not wait-encoded): cause, status, signal */
	DT_AT_SOCK_PROTO, /* socket protocol, named per the call's family (IPPROTO_TCP, ...) */
	DT_AT_SOCK_FLAGS, /* accept4 SOCK_CLOEXEC|SOCK_NONBLOCK */
	DT_AT_MSG_FLAGS,  /* MSG_* */
	DT_AT_FDPAIR,	  /* int __user [2] written by pipe/pipe2/socketpair: read post-call */
	DT_AT_CLONE_ARGS, /* struct clone_args __user *: decoding "flags" */
	DT_AT_SEEK_WHENCE,/* SEEK_* */
	DT_AT_ACCESS_MODE,/* F_OK / R_OK|W_OK|X_OK */
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
	DT_FN_PSLIST = 1u << 2,	  /* execve/fork/vfork/clone/clone3/wait4/waitpid: pslist at entry */
	DT_FN_SOCKET = 1u << 3,	  /* a socket call: matches function=sys_socketcall */
	DT_FN_WAIT = 1u << 4,	  /* wait4/waitpid: matches function=sys_waitpid */
	DT_FN_NOARGS_REGS = 1u << 5, /* kernel function: args in registers, not pt_regs */
	DT_FN_UNIMPL = 1u << 6,	  /* number reserved or historic: no kernel implements it, no args */
	DT_FN_NOABORT = 1u << 7,  /* returns, but a caller cannot survive a changed return:
				   * rt_sigreturn/sigreturn (the signal frame is not restored) */
};

struct dt_funcdesc {
	const char *name; /* canonical, without prefix: "execve", "do_exit" */
	int16_t nr64;	  /* x86-64 syscall number, -1 if none */
	int16_t nr32;	  /* i386 syscall number, -1 if none */
	uint8_t nargs;
	uint16_t flags; /* enum dt_func_flags */
	int16_t sockcall; /* socketcall call number this syscall is (SYS_CONNECT = 3), or 0 */
	/* Kernel entry points (x86 Linux 6.x, without the "__x64_" / "__ia32_" prefix that
	 * kernels >= 4.17 add): "sys_openat" and "compat_sys_openat"; "" if none. A kernel
	 * older than 4.17 uses sym64 unprefixed; a native i386 kernel the "sys_" form. */
	const char *sym64;
	const char *sym32;
	struct dt_argdesc args[DT_MAX_ARGS];
};

/* The whole table and its size. Index = function id (stable within one build). */
const struct dt_funcdesc *dt_catalog_funcs(size_t *ret_n);
const struct dt_funcdesc *dt_catalog_get(int func_id);

/* Lookup by canonical name ("execve"), by kernel symbol ("__x64_sys_execve",
 * "__ia32_sys_execve", "__ia32_compat_sys_execve", "compat_sys_execve", "sys_execve",
 * "do_exit"). Returns the function id or -ENOENT. *ret_compat (may be NULL) is set
 * for ia32 symbols, and for "sys_X" / "X" when only an i386 entry exists. */
int dt_catalog_by_symbol(const char *sym, bool *ret_compat);
int dt_catalog_by_nr(int nr, bool compat); /* id or -ENOENT */

/*
 * Entries may share a name when the two ABIs take different arguments: "mmap" is the
 * x86-64 mmap (6 args) and the i386 old_mmap (struct pointer); likewise pread64,
 * clone, select, ... Every x86-64 number and every i386 number has exactly one entry.
 *
 * A name as the user writes it in `Functions` or `function=` resolves to a set of
 * function ids: "sys_execve" -> {execve}; "sys_socketcall" -> {socketcall and every
 * socket syscall}; "sys_waitpid" -> {waitpid, wait4}; "openat" -> {openat}; "*" -> all.
 * Fills ids[] (up to max, ascending, no duplicates) and returns the number of ids the
 * name means (which may exceed max: then only max were stored), or -ENOENT for an
 * unknown name. The full alias list is in docs/DECODING.md.
 */
int dt_catalog_resolve(const char *user_name, int *ids, size_t max);
/* The closest known name to an unknown one, for "did you mean" hints; NULL if none. */
const char *dt_catalog_suggest(const char *user_name);

/*
 * Argument names a filter may use on a function: an argument ("filename"), or an
 * argument decoding ("code:signal", "call:call", and the seed's "regs:filename",
 * "regs:args", "regs:env" for execve). True if valid for func_id. The rules:
 *  - "<arg>" for every argument;
 *  - "<arg>:<d>" for every d in dt_catalog_decodings(type of arg);
 *  - "<arg>:<arg>" for an argument whose type renders symbolically (flags, modes,
 *    signals, commands, families, sigsets, ...: see dt_argtype_symbolic);
 *  - "addr:addr", "len:len", "status:cause|code|signal|core" on a function with a
 *    sockaddr, socklen pointer or wait status argument whatever its name;
 *  - every socket call (DT_FN_SOCKET): "call:call", "args:args"; socketcall also
 *    every name any direct socket syscall offers;
 *  - execve/execveat: "regs:filename", "regs:args", "regs:env", "filename:filename".
 * The decoders (decode.h) produce exactly these names.
 */
bool dt_catalog_has_argname(int func_id, const char *argname);

/* Decoding names an argument type offers ("cause", "status", "signal"), NULL-ended
 * (an empty list for most types). */
const char *const *dt_catalog_decodings(enum dt_argtype type);
/* True if the type renders symbolically and so offers the "<arg>:<arg>" decoding. */
bool dt_argtype_symbolic(enum dt_argtype type);
/* Each function's name with the seed's "sys_" prefix ("sys_openat"); static. */
const char *dt_catalog_sys_name(int func_id);

/*
 * May an abort filter change this function's return? Only a system call that returns
 * to a caller able to take an error: not exit/exit_group/do_exit (never return: a
 * kernel "returning" from do_exit dies), not rt_sigreturn/sigreturn (the process would
 * run on with the signal frame's registers never restored), not a kernel function
 * (its callers are kernel code that may not expect a failure at all).
 * Returns NULL if abortable, else the reason ("never returns", ...). Any thread.
 */
const char *dt_catalog_abort_unsafe(int func_id);

/*
 * The argument of func_id whose kernel copy do_filp_open() receives (open, openat,
 * openat2, creat: the path), or -1. Decisions on it are made on that copy.
 */
int dt_kcopy_arg(int func_id);

#endif /* DOMTRACE_CATALOG_H */
