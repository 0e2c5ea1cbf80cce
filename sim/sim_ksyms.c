// SPDX-License-Identifier: GPL-2.0-only
/*
 * sim_ksyms.c - naming tables of the simulated kernel: which x86-64 syscalls have another
 * function name or none (as in arch/x86/entry/syscalls/syscall_64.tbl), the i386 ones with
 * a compat entry, filler function names, and syscall metadata source strings.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "sim_priv.h"

/* ---- syscall naming ---- */

/* x86-64 entries whose kernel function has another name, and the ni ones. */
static const char *const x64_renames[][2] = {
	{ "stat", "newstat" },	 { "fstat", "newfstat" }, { "lstat", "newlstat" },
	{ "uname", "newuname" }, { "umount2", "umount" }, { "sendfile", "sendfile64" },
};
static const char *const x64_ni[] = { "uselib",	     "create_module",  "get_kernel_syms",
				       "query_module",  "nfsservctl",	"getpmsg",
				       "putpmsg",	     "afs_syscall",	"tuxcall",
				       "security",      "vserver",	"epoll_ctl_old",
				       "epoll_wait_old", "_sysctl" };
static const char *const i386_ni[] = { "break",	  "stty",	  "gtty",	"ftime",
					"prof",	  "lock",	  "mpx",	"ulimit",
					"profil", "idle",	  "vm86old",	"vm86",
					"afs_syscall", "getpmsg", "putpmsg", "vserver",
					"create_module", "get_kernel_syms", "query_module",
					"nfsservctl", "uselib" };
/* i386 entries served by a compat function (__ia32_compat_sys_*). */
static const char *const i386_compat[] = {
	"open",	     "openat",	 "execve",    "execveat", "socketcall", "wait4",
	"ioctl",     "fcntl64",	 "fcntl",     "readv",	  "writev",	"rt_sigaction",
	"sigaction", "getrlimit", "setrlimit", "statfs",   "fstatfs",	"sendmsg",
	"recvmsg",   "getdents",  "select",    "sigaltstack", "sysinfo", "times",
	"truncate",  "ftruncate", "lseek",	"rt_sigtimedwait", "pselect6", "ppoll",
	"recvmmsg",
};
/* i386 entries whose function is not named after the table entry, as in
 * arch/x86/entry/syscalls/syscall_32.tbl: the 32-bit time_t variants, the 16-bit uid
 * calls of the original numbers, and the 32-bit uid calls that are the plain ones. */
static const char *const i386_renames[][2] = {
	{ "time", "time32" },
	{ "stime", "stime32" },
	{ "utime", "utime32" },
	{ "adjtimex", "adjtimex_time32" },
	{ "sched_rr_get_interval", "sched_rr_get_interval_time32" },
	{ "nanosleep", "nanosleep_time32" },
	{ "rt_sigtimedwait", "rt_sigtimedwait_time32" },
	{ "futex", "futex_time32" },
	{ "io_getevents", "io_getevents_time32" },
	{ "timer_settime", "timer_settime32" },
	{ "timer_gettime", "timer_gettime32" },
	{ "clock_settime", "clock_settime32" },
	{ "clock_gettime", "clock_gettime32" },
	{ "clock_getres", "clock_getres_time32" },
	{ "clock_nanosleep", "clock_nanosleep_time32" },
	{ "utimes", "utimes_time32" },
	{ "mq_timedsend", "mq_timedsend_time32" },
	{ "mq_timedreceive", "mq_timedreceive_time32" },
	{ "futimesat", "futimesat_time32" },
	{ "pselect6", "pselect6_time32" },
	{ "ppoll", "ppoll_time32" },
	{ "utimensat", "utimensat_time32" },
	{ "timerfd_settime", "timerfd_settime32" },
	{ "timerfd_gettime", "timerfd_gettime32" },
	{ "recvmmsg", "recvmmsg_time32" },
	{ "clock_adjtime", "clock_adjtime32" },
	{ "lchown", "lchown16" },	  { "chown", "chown16" },
	{ "fchown", "fchown16" },	  { "setuid", "setuid16" },
	{ "getuid", "getuid16" },	  { "setgid", "setgid16" },
	{ "getgid", "getgid16" },	  { "geteuid", "geteuid16" },
	{ "getegid", "getegid16" },	  { "setreuid", "setreuid16" },
	{ "setregid", "setregid16" },	  { "getgroups", "getgroups16" },
	{ "setgroups", "setgroups16" },	  { "setresuid", "setresuid16" },
	{ "getresuid", "getresuid16" },	  { "setresgid", "setresgid16" },
	{ "getresgid", "getresgid16" },	  { "setfsuid", "setfsuid16" },
	{ "setfsgid", "setfsgid16" },	  { "lchown32", "lchown" },
	{ "chown32", "chown" },		  { "fchown32", "fchown" },
	{ "setuid32", "setuid" },	  { "getuid32", "getuid" },
	{ "setgid32", "setgid" },	  { "getgid32", "getgid" },
	{ "geteuid32", "geteuid" },	  { "getegid32", "getegid" },
	{ "setreuid32", "setreuid" },	  { "setregid32", "setregid" },
	{ "getgroups32", "getgroups" },	  { "setgroups32", "setgroups" },
	{ "setresuid32", "setresuid" },	  { "getresuid32", "getresuid" },
	{ "setresgid32", "setresgid" },	  { "getresgid32", "getresgid" },
	{ "setfsuid32", "setfsuid" },	  { "setfsgid32", "setfsgid" },
};

static bool in_list(const char *const *l, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(l[i], s))
			return true;
	return false;
}
#define IN(l, s) in_list(l, sizeof(l) / sizeof(l[0]), s)

bool dt_sim_x64_ni(const char *n)
{
	return IN(x64_ni, n);
}

bool dt_sim_i386_ni(const char *n)
{
	return IN(i386_ni, n);
}

bool dt_sim_i386_compat(const char *n)
{
	return IN(i386_compat, n);
}

const char *dt_sim_i386_fn_name(const char *n)
{
	size_t i;

	for (i = 0; i < sizeof(i386_renames) / sizeof(i386_renames[0]); i++)
		if (!strcmp(i386_renames[i][0], n))
			return i386_renames[i][1];
	return n;
}

const char *dt_sim_x64_fn_name(const char *n)
{
	size_t i;

	for (i = 0; i < sizeof(x64_renames) / sizeof(x64_renames[0]); i++)
		if (!strcmp(x64_renames[i][0], n))
			return x64_renames[i][1];
	return n;
}

static const char *const filler[] = {
	"schedule", "__schedule", "vfs_read", "vfs_write", "do_sys_openat2", "do_filp_open",
	"path_openat", "getname_flags", "putname", "kmem_cache_alloc", "kfree",
	"copy_process", "kernel_clone", "wake_up_new_task", "do_group_exit", "release_task",
	"do_wait", "__sys_connect", "__sys_accept4", "__sys_socket", "inet_stream_connect",
	"tcp_v4_connect", "security_file_open", "fd_install", "get_unused_fd_flags",
	"alloc_bprm", "free_bprm", "begin_new_exec", "setup_new_exec", "load_elf_binary",
	"search_binary_handler", "exec_binprm", "commit_creds", "prepare_creds",
	"__send_signal_locked", "kill_pid_info", "signal_wake_up_state", "get_signal",
	"exit_mm", "exit_files", "mmput", "copy_strings", "count_strings", "ksys_read",
	"ksys_write", "filp_close", "__close_fd", "tcp_sendmsg", "tcp_recvmsg", "sock_sendmsg",
	"sock_recvmsg", "vprintk", "printk", "panic",
	"__do_page_fault", "handle_mm_fault", "copy_from_user_nofault", "strncpy_from_user",
};

/* ---- syscall metadata (CONFIG_FTRACE_SYSCALLS): "name|type arg|type arg..." ---- */
static const char *const meta_src[] = {
	"read|unsigned int fd|char * buf|size_t count",
	"write|unsigned int fd|const char * buf|size_t count",
	"open|const char * filename|int flags|umode_t mode",
	"close|unsigned int fd",
	"newstat|const char * filename|struct stat * statbuf",
	"newfstat|unsigned int fd|struct stat * statbuf",
	"lseek|unsigned int fd|off_t offset|unsigned int whence",
	"mmap|unsigned long addr|unsigned long len|unsigned long prot|unsigned long flags|"
	"unsigned long fd|unsigned long off",
	"munmap|unsigned long addr|size_t len",
	"brk|unsigned long brk",
	"ioctl|unsigned int fd|unsigned int cmd|unsigned long arg",
	"access|const char * filename|int mode",
	"pipe|int * fildes",
	"dup|unsigned int fildes",
	"dup2|unsigned int oldfd|unsigned int newfd",
	"nanosleep|struct __kernel_timespec * rqtp|struct __kernel_timespec * rmtp",
	"getpid|",
	"socket|int family|int type|int protocol",
	"connect|int fd|struct sockaddr * uservaddr|int addrlen",
	"accept|int fd|struct sockaddr * upeer_sockaddr|int * upeer_addrlen",
	"sendto|int fd|void * buff|size_t len|unsigned int flags|struct sockaddr * addr|"
	"int addr_len",
	"recvfrom|int fd|void * ubuf|size_t size|unsigned int flags|struct sockaddr * addr|"
	"int * addr_len",
	"shutdown|int fd|int how",
	"bind|int fd|struct sockaddr * umyaddr|int addrlen",
	"listen|int fd|int backlog",
	"clone|unsigned long clone_flags|unsigned long newsp|int * parent_tidptr|"
	"int * child_tidptr|unsigned long tls",
	"fork|",
	"vfork|",
	"execve|const char * filename|const char *const * argv|const char *const * envp",
	"exit|int error_code",
	"wait4|pid_t upid|int * stat_addr|int options|struct rusage * ru",
	"kill|pid_t pid|int sig",
	"newuname|struct new_utsname * name",
	"fcntl|unsigned int fd|unsigned int cmd|unsigned long arg",
	"chdir|const char * filename",
	"rename|const char * oldname|const char * newname",
	"mkdir|const char * pathname|umode_t mode",
	"rmdir|const char * pathname",
	"unlink|const char * pathname",
	"readlink|const char * path|char * buf|int bufsiz",
	"chmod|const char * filename|umode_t mode",
	"chown|const char * filename|uid_t user|gid_t group",
	"umask|int mask",
	"getuid|",
	"getgid|",
	"setuid|uid_t uid",
	"setgid|gid_t gid",
	"geteuid|",
	"getegid|",
	"getppid|",
	"setsid|",
	"setresuid|uid_t ruid|uid_t euid|uid_t suid",
	"setresgid|gid_t rgid|gid_t egid|gid_t sgid",
	"ptrace|long request|long pid|unsigned long addr|unsigned long data",
	"getdents64|unsigned int fd|struct linux_dirent64 * dirent|unsigned int count",
	"exit_group|int error_code",
	"openat|int dfd|const char * filename|int flags|umode_t mode",
	"unlinkat|int dfd|const char * pathname|int flag",
	"accept4|int fd|struct sockaddr * upeer_sockaddr|int * upeer_addrlen|int flags",
	"pipe2|int * fildes|int flags",
	"dup3|unsigned int oldfd|unsigned int newfd|int flags",
	"clock_nanosleep|const clockid_t which_clock|int flags|"
	"const struct __kernel_timespec * rqtp|struct __kernel_timespec * rmtp",
	"execveat|int fd|const char * filename|const char *const * argv|"
	"const char *const * envp|int flags",
	"sendmsg|int fd|struct user_msghdr * msg|unsigned int flags",
	"recvmsg|int fd|struct user_msghdr * msg|unsigned int flags",
	"init_module|void * umod|unsigned long len|const char * uargs",
	"finit_module|int fd|const char * uargs|int flags",
	"delete_module|const char * name_user|unsigned int flags",
	"reboot|int magic1|int magic2|unsigned int cmd|void * arg",
	"mount|char * dev_name|char * dir_name|char * type|unsigned long flags|void * data",
	"umount|char * name|int flags",
	"chroot|const char * filename",
	"sethostname|char * name|int len",
	"prctl|int option|unsigned long arg2|unsigned long arg3|unsigned long arg4|"
	"unsigned long arg5",
	"unshare|unsigned long unshare_flags",
	"memfd_create|const char * uname|unsigned int flags",
};

const char *const *dt_sim_filler(size_t *ret_n)
{
	*ret_n = sizeof(filler) / sizeof(filler[0]);
	return filler;
}

const char *const *dt_sim_meta_src(size_t *ret_n)
{
	*ret_n = sizeof(meta_src) / sizeof(meta_src[0]);
	return meta_src;
}
