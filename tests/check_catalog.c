// SPDX-License-Identifier: GPL-2.0-only
/* The syscall catalogue: numbers and names against the system headers, argument
 * descriptions, name resolution (every seed name), argument names. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domtrace/catalog.h"

#define HDR64 "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"
#define HDR32 "/usr/include/x86_64-linux-gnu/asm/unistd_32.h"

static const struct dt_funcdesc *get_named(const char *name, bool compat)
{
	size_t n, i;
	const struct dt_funcdesc *f = dt_catalog_funcs(&n);

	for (i = 0; i < n; i++)
		if (strcmp(f[i].name, name) == 0 &&
		    ((compat ? f[i].nr32 : f[i].nr64) >= 0 || !(f[i].flags & DT_FN_SYSCALL)))
			return &f[i];
	return NULL;
}

static int id_of(const struct dt_funcdesc *fd)
{
	size_t n;

	return (int)(fd - dt_catalog_funcs(&n));
}

/* Every "#define __NR_name nr" in the header names the catalogue entry with that number,
 * and every catalogue number up to the header's highest is in the header. */
static void check_header(const char *path, bool compat)
{
	char line[256], name[128], seen[512] = { 0 };
	int nr, id, max = -1, count = 0;
	size_t n, i;
	const struct dt_funcdesc *f = dt_catalog_funcs(&n);
	FILE *fp = fopen(path, "r");

	ck_assert_msg(fp, "cannot open %s", path);
	while (fgets(line, sizeof(line), fp)) {
		if (sscanf(line, "#define __NR_%127s %d", name, &nr) != 2)
			continue;
		ck_assert_int_lt(nr, 512);
		id = dt_catalog_by_nr(nr, compat);
		ck_assert_msg(id >= 0, "%s: %s (%d) missing", path, name, nr);
		ck_assert_msg(strcmp(f[id].name, name) == 0, "%s: %d is %s, catalogue says %s",
			      path, nr, name, f[id].name);
		seen[nr] = 1;
		if (nr > max)
			max = nr;
		count++;
	}
	fclose(fp);
	ck_assert_int_gt(count, 300);
	for (i = 0; i < n; i++) {
		int cnr = compat ? f[i].nr32 : f[i].nr64;

		/* newer kernels' numbers are in the catalogue too: above the header's
		 * highest, or uretprobe (6.11) in the x86-64 gap 335..423 */
		if (cnr >= 0 && cnr <= max && strcmp(f[i].name, "uretprobe") != 0)
			ck_assert_msg(seen[cnr], "%s %d not in %s", f[i].name, cnr, path);
	}
}

START_TEST(numbers_match_headers)
{
	check_header(HDR64, false);
	check_header(HDR32, true);
}
END_TEST

START_TEST(table_is_consistent)
{
	size_t n, i;
	unsigned a, b;
	const struct dt_funcdesc *f = dt_catalog_funcs(&n);
	char used64[512] = { 0 }, used32[512] = { 0 };

	ck_assert_int_gt(n, 470);
	for (i = 0; i < n; i++) {
		ck_assert_int_le(f[i].nargs, DT_MAX_ARGS);
		ck_assert(f[i].name && *f[i].name && f[i].sym64 && f[i].sym32);
		if (f[i].nr64 >= 0) {
			ck_assert_msg(!used64[f[i].nr64], "duplicate x86-64 %d", f[i].nr64);
			used64[f[i].nr64] = 1;
			ck_assert_int_eq(dt_catalog_by_nr(f[i].nr64, false), (int)i);
		}
		if (f[i].nr32 >= 0) {
			ck_assert_msg(!used32[f[i].nr32], "duplicate i386 %d", f[i].nr32);
			used32[f[i].nr32] = 1;
			ck_assert_int_eq(dt_catalog_by_nr(f[i].nr32, true), (int)i);
		}
		ck_assert_msg(f[i].nr64 >= 0 || f[i].nr32 >= 0 || !(f[i].flags & DT_FN_SYSCALL),
			      "%s has no number", f[i].name);
		if (f[i].flags & DT_FN_UNIMPL)
			ck_assert_int_eq(f[i].nargs, 0);
		for (a = 0; a < f[i].nargs; a++) {
			const struct dt_argdesc *ad = &f[i].args[a];

			ck_assert(ad->name && *ad->name && ad->ctype && *ad->ctype);
			ck_assert_int_lt(ad->type, _DT_AT_MAX);
			ck_assert(ad->dir >= DT_DIR_IN && ad->dir <= DT_DIR_INOUT);
			ck_assert_msg(!strchr(ad->name, ':'), "%s", ad->name);
			ck_assert(ad->len_arg >= -1 && ad->len_arg < f[i].nargs && ad->len_arg != (int)a);
			if (ad->type == DT_AT_BUF)
				ck_assert_msg(ad->len_arg >= 0, "%s.%s buffer without length",
					      f[i].name, ad->name);
			for (b = 0; b < a; b++)
				ck_assert_msg(strcmp(f[i].args[b].name, ad->name) != 0, "%s.%s twice",
					      f[i].name, ad->name);
		}
		ck_assert_str_eq(dt_catalog_sys_name((int)i) + ((f[i].flags & DT_FN_SYSCALL) ? 4 : 0),
				 f[i].name);
	}
	ck_assert_ptr_null(dt_catalog_get(-1));
	ck_assert_ptr_null(dt_catalog_get((int)n));
	ck_assert_int_eq(dt_catalog_by_nr(-1, false), -ENOENT);
	ck_assert_int_eq(dt_catalog_by_nr(100000, true), -ENOENT);
	ck_assert_int_eq(dt_catalog_by_nr(15 /* i386 chmod: exists */, true),
			 id_of(get_named("chmod", true)));
}
END_TEST

static void expect_args(const char *name, bool compat, const char *spec)
{
	const struct dt_funcdesc *fd = get_named(name, compat);
	char buf[256] = "";
	unsigned i;

	ck_assert_msg(fd, "%s missing", name);
	for (i = 0; i < fd->nargs; i++) {
		char one[64];

		snprintf(one, sizeof(one), "%s%d:%s", i ? " " : "", fd->args[i].type, fd->args[i].name);
		strcat(buf, one);
	}
	ck_assert_msg(strcmp(buf, spec) == 0, "%s: got \"%s\" want \"%s\"", name, buf, spec);
}

#define T(x) DT_AT_##x
START_TEST(common_syscalls)
{
	char want[256];
	const struct dt_funcdesc *fd;

#define EXPECT(name, compat, ...) \
	(snprintf(want, sizeof(want), __VA_ARGS__), expect_args(name, compat, want))
	EXPECT("execve", false, "%d:filename %d:argv %d:envp", T(PATH), T(ARGV), T(ARGV));
	EXPECT("openat", false, "%d:dfd %d:filename %d:flags %d:mode", T(DIRFD), T(PATH),
	       T(OPEN_FLAGS), T(MODE));
	EXPECT("open", false, "%d:filename %d:flags %d:mode", T(PATH), T(OPEN_FLAGS), T(MODE));
	EXPECT("read", false, "%d:fd %d:buf %d:count", T(FD), T(BUF), T(ULONG));
	EXPECT("write", false, "%d:fd %d:buf %d:count", T(FD), T(BUF), T(ULONG));
	EXPECT("close", false, "%d:fd", T(FD));
	EXPECT("connect", false, "%d:fd %d:uservaddr %d:addrlen", T(FD), T(SOCKADDR), T(INT));
	EXPECT("accept", false, "%d:fd %d:upeer_sockaddr %d:upeer_addrlen", T(FD), T(SOCKADDR),
	       T(SOCKLEN_PTR));
	EXPECT("accept4", false, "%d:fd %d:upeer_sockaddr %d:upeer_addrlen %d:flags", T(FD),
	       T(SOCKADDR), T(SOCKLEN_PTR), T(SOCK_FLAGS));
	EXPECT("socket", false, "%d:family %d:type %d:protocol", T(SOCK_FAMILY), T(SOCK_TYPE),
	       T(SOCK_PROTO));
	EXPECT("bind", false, "%d:fd %d:umyaddr %d:addrlen", T(FD), T(SOCKADDR), T(INT));
	EXPECT("wait4", false, "%d:upid %d:stat_addr %d:options %d:ru", T(PID), T(WAIT_STATUS),
	       T(WAIT_OPTIONS), T(PTR));
	EXPECT("waitpid", true, "%d:pid %d:stat_addr %d:options", T(PID), T(WAIT_STATUS),
	       T(WAIT_OPTIONS));
	EXPECT("kill", false, "%d:pid %d:sig", T(KILL_PID), T(SIGNAL));
	EXPECT("exit", false, "%d:error_code", T(EXIT_STATUS));
	EXPECT("exit_group", false, "%d:error_code", T(EXIT_STATUS));
	EXPECT("clone", false, "%d:clone_flags %d:newsp %d:parent_tidptr %d:child_tidptr %d:tls",
	       T(CLONE_FLAGS), T(PTR), T(PTR), T(PTR), T(PTR));
	EXPECT("clone", true, "%d:clone_flags %d:newsp %d:parent_tidptr %d:tls_val %d:child_tidptr",
	       T(CLONE_FLAGS), T(PTR), T(PTR), T(PTR), T(PTR));
	EXPECT("fork", false, "%s", "");
	EXPECT("vfork", false, "%s", "");
	EXPECT("getpid", false, "%s", "");
	EXPECT("do_exit", false, "%d:code", T(EXIT_CODE));
	EXPECT("socketcall", true, "%d:call %d:args", T(SOCKCALL), T(SOCKCALL_ARGS));
	EXPECT("mmap", true, "%d:arg", T(PTR));
	EXPECT("mmap", false, "%d:addr %d:len %d:prot %d:flags %d:fd %d:off", T(PTR), T(ULONG),
	       T(MMAP_PROT), T(MMAP_FLAGS), T(FD), T(ULONG));

	fd = get_named("read", false);
	ck_assert_int_eq(fd->nr64, 0);
	ck_assert_int_eq(fd->nr32, 3);
	ck_assert_int_eq(fd->args[1].dir, DT_DIR_OUT);
	ck_assert_int_eq(fd->args[1].len_arg, 2);
	ck_assert_str_eq(fd->args[1].ctype, "char __user *");
	ck_assert_str_eq(fd->sym64, "sys_read");
	fd = get_named("write", false);
	ck_assert_int_eq(fd->args[1].dir, DT_DIR_IN);
	fd = get_named("execve", false);
	ck_assert_int_eq(fd->nr64, 59);
	ck_assert_int_eq(fd->nr32, 11);
	ck_assert(fd->flags & DT_FN_PSLIST);
	ck_assert_str_eq(fd->sym32, "compat_sys_execve");
	fd = get_named("connect", false);
	ck_assert_int_eq(fd->sockcall, 3);
	ck_assert(fd->flags & DT_FN_SOCKET);
	ck_assert_int_eq(fd->args[1].len_arg, 2);
	fd = get_named("accept", false);
	ck_assert_int_eq(fd->args[1].dir, DT_DIR_OUT);
	ck_assert_int_eq(fd->args[2].dir, DT_DIR_INOUT);
	ck_assert(get_named("exit_group", false)->flags & DT_FN_NORETURN);
	fd = get_named("do_exit", false);
	ck_assert(!(fd->flags & DT_FN_SYSCALL));
	ck_assert(fd->flags & (DT_FN_NORETURN | DT_FN_NOARGS_REGS));
	ck_assert_int_eq(fd->nr64, -1);
	ck_assert(get_named("wait4", false)->flags & DT_FN_WAIT);
	/* the seed's pslist set: sys_execve, sys_waitpid, sys_fork, sys_vfork, sys_clone */
	ck_assert(get_named("wait4", false)->flags & DT_FN_PSLIST);
	ck_assert(get_named("waitpid", true)->flags & DT_FN_PSLIST);
	ck_assert(get_named("fork", false)->flags & DT_FN_PSLIST);
	ck_assert(get_named("vfork", false)->flags & DT_FN_PSLIST);
	ck_assert(get_named("clone", false)->flags & DT_FN_PSLIST);
	ck_assert_int_eq(get_named("pread64", true)->nargs, 5);
	ck_assert_int_eq(get_named("pread64", false)->nargs, 4);
	ck_assert(get_named("afs_syscall", false)->flags & DT_FN_UNIMPL);
}
END_TEST

static bool resolves_to(const char *user, const char *const *names, bool exact)
{
	int ids[1024], n, i;
	const char *const *p;

	n = dt_catalog_resolve(user, ids, 1024);
	if (n <= 0)
		return false;
	for (p = names; *p; p++) {
		bool found = false;

		for (i = 0; i < n; i++)
			found |= strcmp(dt_catalog_get(ids[i])->name, *p) == 0;
		if (!found)
			return false;
	}
	if (exact)
		for (i = 0; i < n; i++) {
			bool listed = false;

			for (p = names; *p; p++)
				listed |= strcmp(dt_catalog_get(ids[i])->name, *p) == 0;
			if (!listed)
				return false;
		}
	return true;
}

#define NAMES(...) ((const char *const[]){ __VA_ARGS__, NULL })

START_TEST(resolve_seed_names)
{
	/* §1.4 of prior-art.md: every function the ancestor's table knew */
	static const char *const ancestor[] = {
		"sys_exit", "sys_fork", "sys_read", "sys_write", "sys_open", "sys_close",
		"sys_waitpid", "sys_creat", "sys_link", "sys_unlink", "sys_execve", "sys_chdir",
		"sys_time", "sys_mknod", "sys_chmod", "sys_stat", "sys_lseek", "sys_getpid",
		"sys_mount", "sys_oldumount", "sys_stime", "sys_ptrace", "sys_alarm", "sys_fstat",
		"sys_pause", "sys_utime", "sys_access", "sys_nice", "sys_sync", "sys_kill",
		"sys_rename", "sys_mkdir", "sys_rmdir", "sys_dup", "sys_pipe", "sys_times",
		"sys_brk", "sys_signal", "sys_acct", "sys_umount", "sys_ioctl", "sys_fcntl",
		"sys_setpgid", "sys_umask", "sys_chroot", "sys_ustat", "sys_dup2", "sys_getppid",
		"sys_getpgrp", "sys_setsid", "sys_sigaction", "sys_sigsuspend", "sys_sigpending",
		"sys_sethostname", "sys_setrlimit", "sys_old_getrlimit", "sys_getrusage",
		"sys_gettimeofday", "sys_settimeofday", "sys_symlink", "sys_lstat", "sys_readlink",
		"sys_uselib", "sys_swapon", "sys_reboot", "sys_munmap", "sys_truncate",
		"sys_ftruncate", "sys_fchmod", "sys_getpriority", "sys_setpriority", "sys_statfs",
		"sys_fstatfs", "sys_ioperm", "sys_socketcall", "sys_syslog", "sys_setitimer",
		"sys_getitimer", "sys_newstat", "sys_newlstat", "sys_newfstat", "sys_uname",
		"sys_iopl", "sys_wait4", "sys_swapoff", "sys_fsync", "sys_clone",
		"sys_setdomainname", "sys_newuname", "sys_mprotect", "sys_sigprocmask",
		"sys_init_module", "sys_delete_module", "sys_getpgid", "sys_fchdir", "sys_bdflush",
		"sys_sysfs", "sys_personality", "sys_llseek", "sys_getdents", "sys_select",
		"sys_flock", "sys_msync", "sys_getsid", "sys_fdatasync", "sys_mlock", "sys_munlock",
		"sys_mlockall", "sys_munlockall", "sys_sched_setparam", "sys_sched_getparam",
		"sys_sched_setscheduler", "sys_sched_getscheduler", "sys_sched_yield",
		"sys_sched_get_priority_max", "sys_sched_get_priority_min",
		"sys_sched_rr_get_interval", "sys_nanosleep", "sys_mremap", "sys_poll",
		"sys_rt_sigreturn", "sys_rt_sigaction", "sys_rt_sigprocmask", "sys_rt_sigpending",
		"sys_rt_sigtimedwait", "sys_rt_sigqueueinfo", "sys_rt_sigsuspend", "sys_sendfile",
		"sys_vfork", "sys_mmap2", "sys_getuid", "sys_getgid", "sys_geteuid", "sys_getegid",
		"sys_setreuid", "sys_setregid", "sys_setresuid", "sys_getresuid", "sys_setresgid",
		"sys_getresgid", "sys_chown", "sys_setuid", "sys_setgid", "sys_setfsuid",
		"sys_setfsgid", "sys_ipc", "sys_sigreturn", "sys_modify_ldt", "sys_adjtimex",
		"sys_quotactl", "sys_readv", "sys_writev", "sys_vm86", "sys_nfsservctl",
		"sys_prctl", "sys_pread64", "sys_pwrite64", "sys_getcwd", "sys_capget",
		"sys_capset", "sys_sigaltstack", "sys_getrlimit", "sys_truncate64",
		"sys_ftruncate64", "sys_stat64", "sys_lstat64", "sys_fstat64", "sys_lchown",
		"sys_getgroups", "sys_setgroups", "sys_fchown", "sys_pivot_root", "sys_mincore",
		"sys_madvise", "sys_getdents64", "sys_fcntl64", "sys_gettid", "sys_readahead",
		"sys_tkill", "sys_sendfile64", "sys_futex", "sys_sched_setaffinity",
		"sys_sched_getaffinity", "sys_set_thread_area", "sys_get_thread_area",
		"sys_io_setup", "sys_io_destroy", "sys_io_getevents", "sys_io_submit",
		"sys_io_cancel", "sys_fadvise64", "sys_exit_group", "sys_lookup_dcookie",
		"sys_epoll_create", "sys_epoll_ctl", "sys_epoll_wait", "sys_remap_file_pages",
		"sys_set_tid_address", "sys_timer_create", "sys_timer_settime",
		"sys_timer_gettime", "sys_timer_getoverrun", "sys_timer_delete",
		"sys_clock_settime", "sys_clock_gettime", "sys_clock_getres",
		"sys_clock_nanosleep", "sys_statfs64", "sys_fstatfs64", "sys_tgkill", "sys_utimes",
		"sys_fadvise64_64", "sys_mbind", "sys_get_mempolicy", "sys_set_mempolicy",
		"sys_mq_open", "sys_mq_unlink", "sys_mq_timedsend", "sys_mq_timedreceive",
		"sys_mq_notify", "sys_mq_getsetattr", "sys_waitid", "sys_add_key",
		"sys_request_key", "sys_keyctl", "sys_ioprio_set", "sys_ioprio_get",
		"sys_inotify_init", "sys_inotify_add_watch", "sys_inotify_rm_watch", "do_exit",
		"sys_execve64", "sys_mmap", "sys_socket", "sys_connect", "sys_accept",
		"sys_sendto", "sys_recvfrom", "sys_sendmsg", "sys_recvmsg", "sys_shutdown",
		"sys_bind", "sys_listen", "sys_getsockname", "sys_getpeername", "sys_socketpair",
		"sys_setsockopt", "sys_getsockopt",
	};
	int ids[1024], n, i;
	size_t total, k;

	for (k = 0; k < sizeof(ancestor) / sizeof(ancestor[0]); k++)
		ck_assert_msg(dt_catalog_resolve(ancestor[k], ids, 1024) > 0, "%s", ancestor[k]);

	ck_assert(resolves_to("sys_execve", NAMES("execve"), true));
	ck_assert(resolves_to("sys_execve64", NAMES("execve"), true));
	ck_assert(resolves_to("execve", NAMES("execve"), true));
	ck_assert(resolves_to("sys_waitpid", NAMES("waitpid", "wait4"), true));
	ck_assert(resolves_to("sys_socketcall",
			      NAMES("socketcall", "socket", "bind", "connect", "listen", "accept",
				    "accept4", "getsockname", "getpeername", "socketpair", "sendto",
				    "recvfrom", "shutdown", "setsockopt", "getsockopt", "sendmsg",
				    "recvmsg", "sendmmsg", "recvmmsg", "recvmmsg_time64"),
			      true));
	ck_assert(resolves_to("socketcall", NAMES("socketcall"), true));
	ck_assert(resolves_to("sys_fork", NAMES("fork"), true));
	ck_assert(resolves_to("sys_vfork", NAMES("vfork"), true));
	ck_assert(resolves_to("sys_clone3", NAMES("clone3"), true));
	ck_assert(resolves_to("do_exit", NAMES("do_exit"), true));
	ck_assert(resolves_to("sys_newstat", NAMES("stat"), true));
	ck_assert(resolves_to("sys_openat", NAMES("openat"), true));
	ck_assert(resolves_to("__x64_sys_openat", NAMES("openat"), true));
	ck_assert(resolves_to("__ia32_compat_sys_openat", NAMES("openat"), true));

	/* clone: the x86-64 and the i386 entry (different argument order) */
	ck_assert_int_eq(dt_catalog_resolve("sys_clone", ids, 1024), 2);
	ck_assert_int_eq(dt_catalog_resolve("__x64_sys_clone", ids, 1024), 1);
	ck_assert_int_eq(ids[0], id_of(get_named("clone", false)));
	ck_assert_int_eq(dt_catalog_resolve("__ia32_compat_sys_ia32_clone", ids, 1024), 1);
	ck_assert_int_eq(ids[0], id_of(get_named("clone", true)));

	dt_catalog_funcs(&total);
	ck_assert_int_eq(dt_catalog_resolve("*", ids, 1024), (int)total);
	for (i = 1; i < (int)total; i++)
		ck_assert_int_eq(ids[i], ids[i - 1] + 1);
	/* more than max: count returned, only max stored */
	n = dt_catalog_resolve("*", ids, 3);
	ck_assert_int_eq(n, (int)total);

	ck_assert_int_eq(dt_catalog_resolve("nosuchcall", ids, 1024), -ENOENT);
	ck_assert_int_eq(dt_catalog_resolve("sys_", ids, 1024), -ENOENT);
	ck_assert_int_eq(dt_catalog_resolve("", ids, 1024), -ENOENT);
	ck_assert_int_eq(dt_catalog_resolve("__x64_sys_nosuch", ids, 1024), -ENOENT);
}
END_TEST

START_TEST(by_symbol)
{
	bool compat = true;

	ck_assert_int_eq(dt_catalog_by_symbol("__x64_sys_openat", &compat),
			 id_of(get_named("openat", false)));
	ck_assert(!compat);
	ck_assert_int_eq(dt_catalog_by_symbol("__ia32_compat_sys_openat", &compat),
			 id_of(get_named("openat", true)));
	ck_assert(compat);
	ck_assert_int_eq(dt_catalog_by_symbol("compat_sys_openat", &compat),
			 id_of(get_named("openat", true)));
	ck_assert(compat);
	ck_assert_int_eq(dt_catalog_by_symbol("__ia32_sys_ia32_pread64", &compat),
			 id_of(get_named("pread64", true)));
	ck_assert_int_eq(dt_catalog_by_symbol("__x64_sys_pread64", &compat),
			 id_of(get_named("pread64", false)));
	ck_assert_int_eq(dt_catalog_by_symbol("__x64_sys_mmap", &compat),
			 id_of(get_named("mmap", false)));
	ck_assert_int_eq(dt_catalog_by_symbol("__ia32_compat_sys_ia32_mmap", &compat),
			 id_of(get_named("mmap", true)));
	ck_assert_int_eq(dt_catalog_by_symbol("__x64_sys_newstat", &compat),
			 id_of(get_named("stat", false)));
	compat = false;
	ck_assert_int_eq(dt_catalog_by_symbol("sys_waitpid", &compat),
			 id_of(get_named("waitpid", true)));
	ck_assert(compat);
	ck_assert_int_eq(dt_catalog_by_symbol("sys_execve", &compat),
			 id_of(get_named("execve", false)));
	ck_assert(!compat);
	ck_assert_int_eq(dt_catalog_by_symbol("do_exit", &compat), id_of(get_named("do_exit", false)));
	ck_assert(!compat);
	ck_assert_int_eq(dt_catalog_by_symbol("execve", NULL), id_of(get_named("execve", false)));
	ck_assert_int_eq(dt_catalog_by_symbol("__x64_sys_nosuch", NULL), -ENOENT);
	ck_assert_int_eq(dt_catalog_by_symbol("sys_socketcallx", NULL), -ENOENT);
	ck_assert_int_eq(dt_catalog_by_symbol(NULL, NULL), -ENOENT);
}
END_TEST

START_TEST(suggest)
{
	ck_assert_str_eq(dt_catalog_suggest("sys_execv"), "sys_execve");
	ck_assert_str_eq(dt_catalog_suggest("opnat"), "openat");
	ck_assert_str_eq(dt_catalog_suggest("sys_socketcal"), "sys_socketcall");
	ck_assert_str_eq(dt_catalog_suggest("sys_exceve64"), "sys_execve64");
	ck_assert_str_eq(dt_catalog_suggest("do_exti"), "do_exit");
	ck_assert_str_eq(dt_catalog_suggest("__x64_sys_conect"), "connect");
	ck_assert_ptr_null(dt_catalog_suggest("xyzzyplugh"));
	ck_assert_ptr_null(dt_catalog_suggest(""));
	ck_assert_ptr_null(dt_catalog_suggest(NULL));
	/* long garbage does not overflow the distance table */
	ck_assert_ptr_null(dt_catalog_suggest("qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"));
}
END_TEST

static bool has(const char *func, bool compat, const char *argname)
{
	const struct dt_funcdesc *fd = get_named(func, compat);

	ck_assert_msg(fd, "%s", func);
	return dt_catalog_has_argname(id_of(fd), argname);
}

START_TEST(argnames)
{
	static const char *const exec_ok[] = { "filename", "argv", "envp", "regs:filename",
		"regs:args", "regs:env", "argv:argv", "envp:envp", "filename:filename" };
	size_t k;

	for (k = 0; k < sizeof(exec_ok) / sizeof(exec_ok[0]); k++) {
		ck_assert_msg(has("execve", false, exec_ok[k]), "%s", exec_ok[k]);
		ck_assert_msg(has("execve", true, exec_ok[k]), "%s", exec_ok[k]);
	}
	ck_assert(has("execveat", false, "regs:filename"));
	ck_assert(!has("execve", false, "regs:foo"));
	ck_assert(!has("execve", false, "regs"));
	ck_assert(!has("open", false, "regs:filename"));

	ck_assert(has("socketcall", true, "call:call"));
	ck_assert(has("socketcall", true, "args:args"));
	ck_assert(has("socketcall", true, "addr:addr"));
	ck_assert(has("socketcall", true, "uservaddr:addr"));
	ck_assert(has("socketcall", true, "len:len"));
	ck_assert(has("socketcall", true, "family:family"));
	ck_assert(has("socketcall", true, "call"));
	ck_assert(!has("socketcall", true, "call:args"));
	ck_assert(!has("socketcall", true, "nosuch:nosuch"));
	ck_assert(has("connect", false, "call:call"));
	ck_assert(has("connect", false, "args:args"));
	ck_assert(has("connect", false, "uservaddr:addr"));
	ck_assert(has("connect", false, "addr:addr"));
	ck_assert(!has("connect", false, "len:len"));
	ck_assert(has("accept", false, "addr:addr"));
	ck_assert(has("accept", false, "len:len"));
	ck_assert(has("accept", false, "upeer_addrlen:len"));
	ck_assert(has("accept4", false, "flags:flags"));
	ck_assert(has("recvfrom", false, "addr:addr"));
	ck_assert(has("socket", false, "family:family"));
	ck_assert(has("socket", false, "protocol:protocol"));
	ck_assert(!has("read", false, "call:call"));

	ck_assert(has("exit", false, "error_code:cause"));
	ck_assert(has("exit", false, "error_code:status"));
	ck_assert(has("exit_group", false, "error_code:signal"));
	ck_assert(has("do_exit", false, "code:cause"));
	ck_assert(has("do_exit", false, "code:status"));
	ck_assert(has("do_exit", false, "code:signal"));
	ck_assert(has("do_exit", false, "code:core"));
	ck_assert(has("do_exit", false, "code"));
	ck_assert(!has("do_exit", false, "code:code"));

	ck_assert(has("wait4", false, "status:cause"));
	ck_assert(has("wait4", false, "status:code"));
	ck_assert(has("wait4", false, "status:signal"));
	ck_assert(has("wait4", false, "stat_addr:cause"));
	ck_assert(has("waitpid", true, "status:signal"));
	ck_assert(has("wait4", false, "options:options"));
	ck_assert(!has("wait4", false, "status:status"));

	ck_assert(has("open", false, "flags:flags"));
	ck_assert(has("open", false, "mode:mode"));
	ck_assert(has("openat", false, "dfd:dfd"));
	ck_assert(has("kill", false, "sig:sig"));
	ck_assert(has("kill", false, "pid:pid"));
	ck_assert(has("fcntl", false, "cmd:cmd"));
	ck_assert(has("ioctl", false, "cmd:cmd"));
	ck_assert(has("mmap", false, "prot:prot"));
	ck_assert(has("clone", false, "clone_flags:clone_flags"));
	ck_assert(has("clone3", false, "uargs:flags"));
	ck_assert(has("rt_sigprocmask", false, "nset:nset"));
	ck_assert(has("umask", false, "mask:mask"));

	ck_assert(!has("read", false, "fd:fd"));
	ck_assert(!has("read", false, "flags:flags"));
	ck_assert(!has("read", false, "nosuch"));
	ck_assert(!has("open", false, "flags:"));
	ck_assert(!has("open", false, ":flags"));
	ck_assert(!has("open", false, "flags:flags:flags"));
	ck_assert(!has("open", false, ""));
	ck_assert(!dt_catalog_has_argname(-1, "fd"));
	ck_assert(!dt_catalog_has_argname(id_of(get_named("read", false)), NULL));
}
END_TEST

static Suite *catalog_suite(void)
{
	Suite *s = suite_create("catalog");
	TCase *tc = tcase_create("catalog");

	tcase_add_test(tc, numbers_match_headers);
	tcase_add_test(tc, table_is_consistent);
	tcase_add_test(tc, common_syscalls);
	tcase_add_test(tc, resolve_seed_names);
	tcase_add_test(tc, by_symbol);
	tcase_add_test(tc, suggest);
	tcase_add_test(tc, argnames);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(catalog_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
