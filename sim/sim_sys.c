// SPDX-License-Identifier: GPL-2.0-only
/*
 * sim_sys.c - the bodies of the simulated kernel's system calls (fork, wait4, kill, files,
 * sockets, credentials, sleeping...) and signals. Arguments come from pt_regs in guest
 * memory (sim_entry.c reads them), user memory is accessed through the task's page tables.
 *
 * Runs on a vCPU thread with vm->lock held.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_vm.h"

enum op {
	OP_OTHER, OP_READ, OP_WRITE, OP_OPEN, OP_OPENAT, OP_CLOSE, OP_SOCKET, OP_CONNECT,
	OP_ACCEPT, OP_ACCEPT4, OP_BIND, OP_LISTEN, OP_SENDTO, OP_RECVFROM, OP_FORK, OP_CLONE,
	OP_WAIT4, OP_WAITPID, OP_KILL, OP_GETPID, OP_GETTID, OP_GETPPID, OP_GETUID, OP_GETEUID,
	OP_GETGID, OP_GETEGID, OP_SETUID, OP_SETGID, OP_SETRESUID, OP_SETRESGID, OP_NANOSLEEP,
	OP_CLOCK_NANOSLEEP, OP_SOCKETCALL, OP_GETDENTS64, OP_UNLINK, OP_UNLINKAT, OP_MKDIR,
	OP_RMDIR, OP_CHDIR, OP_RENAME, OP_ACCESS, OP_PIPE, OP_PIPE2, OP_DUP, OP_DUP2, OP_UNAME,
	OP_BRK, OP_MMAP, OP_STAT, OP_FSTAT, OP_SETSID,
};

static const struct {
	const char *name;
	enum op op;
} op_names[] = {
	{ "read", OP_READ },		 { "write", OP_WRITE },
	{ "open", OP_OPEN },		 { "openat", OP_OPENAT },
	{ "close", OP_CLOSE },		 { "socket", OP_SOCKET },
	{ "connect", OP_CONNECT },	 { "accept", OP_ACCEPT },
	{ "accept4", OP_ACCEPT4 },	 { "bind", OP_BIND },
	{ "listen", OP_LISTEN },	 { "sendto", OP_SENDTO },
	{ "recvfrom", OP_RECVFROM },	 { "fork", OP_FORK },
	{ "vfork", OP_FORK },		 { "clone", OP_CLONE },
	{ "wait4", OP_WAIT4 },		 { "waitpid", OP_WAITPID },
	{ "kill", OP_KILL },		 { "getpid", OP_GETPID },
	{ "gettid", OP_GETTID },	 { "getppid", OP_GETPPID },
	{ "getuid", OP_GETUID },	 { "getuid32", OP_GETUID },
	{ "geteuid", OP_GETEUID },	 { "geteuid32", OP_GETEUID },
	{ "getgid", OP_GETGID },	 { "getgid32", OP_GETGID },
	{ "getegid", OP_GETEGID },	 { "getegid32", OP_GETEGID },
	{ "setuid", OP_SETUID },	 { "setuid32", OP_SETUID },
	{ "setgid", OP_SETGID },	 { "setgid32", OP_SETGID },
	{ "setresuid", OP_SETRESUID },	 { "setresuid32", OP_SETRESUID },
	{ "setresgid", OP_SETRESGID },	 { "setresgid32", OP_SETRESGID },
	{ "nanosleep", OP_NANOSLEEP },	 { "clock_nanosleep", OP_CLOCK_NANOSLEEP },
	{ "socketcall", OP_SOCKETCALL }, { "getdents64", OP_GETDENTS64 },
	{ "unlink", OP_UNLINK },	 { "unlinkat", OP_UNLINKAT },
	{ "mkdir", OP_MKDIR },		 { "rmdir", OP_RMDIR },
	{ "chdir", OP_CHDIR },		 { "rename", OP_RENAME },
	{ "access", OP_ACCESS },	 { "pipe", OP_PIPE },
	{ "pipe2", OP_PIPE2 },		 { "dup", OP_DUP },
	{ "dup2", OP_DUP2 },		 { "uname", OP_UNAME },
	{ "brk", OP_BRK },		 { "mmap", OP_MMAP },
	{ "mmap2", OP_MMAP },		 { "stat", OP_STAT },
	{ "fstat", OP_FSTAT },		 { "setsid", OP_SETSID },
};

#define NR_MAX 1024
static uint8_t op64[NR_MAX], op32[NR_MAX];
static pthread_once_t op_once = PTHREAD_ONCE_INIT;

static void op_init(void)
{
	size_t i, k;

	for (i = 0; i < dt_sim_sysnr_64_len; i++)
		for (k = 0; k < sizeof(op_names) / sizeof(op_names[0]); k++)
			if (dt_sim_sysnr_64[i].nr < NR_MAX &&
			    !strcmp(dt_sim_sysnr_64[i].name, op_names[k].name))
				op64[dt_sim_sysnr_64[i].nr] = (uint8_t)op_names[k].op;
	for (i = 0; i < dt_sim_sysnr_32_len; i++)
		for (k = 0; k < sizeof(op_names) / sizeof(op_names[0]); k++)
			if (dt_sim_sysnr_32[i].nr < NR_MAX &&
			    !strcmp(dt_sim_sysnr_32[i].name, op_names[k].name))
				op32[dt_sim_sysnr_32[i].nr] = (uint8_t)op_names[k].op;
}

struct sc {
	struct sim_vcpu *c;
	struct sim_task *t;
	struct sim_vm *vm;
	bool compat;
	uint64_t a[6];
	bool block;
};

/* ---- signals ---- */
static bool sig_fatal(int sig)
{
	return (sig >= 1 && sig <= 15 && sig != 0) || sig == 24 || sig == 25 || sig == 26 ||
	       sig == 27 || sig == 29 || sig == 30 || sig == 31;
}

bool dt_sim_fatal_pending(const struct sim_task *t, int *ret_sig)
{
	int sig;

	if (!t->sigpend)
		return false;
	if (t->sigpend & (1ULL << (9 - 1))) {
		*ret_sig = 9;
		return true;
	}
	for (sig = 1; sig < 64; sig++) {
		if (t->sigpend & (1ULL << (sig - 1))) {
			*ret_sig = sig;
			return true;
		}
	}
	return false;
}

void dt_sim_send_signal(struct sim_task *t, int sig)
{
	/* init only gets signals it has handlers for: none here */
	if (t->state == TS_ZOMBIE || t->kthread || t->pid == 1 || !sig_fatal(sig))
		return;
	t->sigpend |= 1ULL << (sig - 1);
	if (t->state == TS_SLEEPING)
		dt_sim_wake(t);
}

/* ---- helpers ---- */
static int fd_alloc(struct sim_task *t, enum sim_fdkind kind)
{
	int i;

	for (i = 0; i < SIM_NFD; i++) {
		if (t->fd[i].kind == FD_NONE) {
			memset(&t->fd[i], 0, sizeof(t->fd[i]));
			t->fd[i].kind = kind;
			return i;
		}
	}
	return -EMFILE;
}

static struct sim_fd *fd_get(struct sim_task *t, uint64_t fd)
{
	if (fd >= SIM_NFD || t->fd[fd].kind == FD_NONE)
		return NULL;
	return &t->fd[fd];
}

static int64_t user_path(struct sc *s, uint64_t va, char *buf, size_t cap)
{
	int n = dt_sim_ustr_k(s->t, va, buf, cap);

	if (n < 0)
		return n;
	if (!n)
		return -ENOENT;
	return 0;
}

/* Sleep until the deadline (set on first entry); re-entered when woken. */
static int64_t sleep_until(struct sc *s, uint64_t dur_ns)
{
	struct sim_task *t = s->t;
	uint64_t now = dt_sim_now_ns();
	int sig;

	if (dt_sim_fatal_pending(t, &sig)) {
		t->sleep_until = 0;
		return -EINTR;
	}
	if (!t->sleep_until)
		t->sleep_until = now + dur_ns;
	if (now >= t->sleep_until) {
		t->sleep_until = 0;
		return 0;
	}
	t->state = TS_SLEEPING;
	t->wake_ns = t->sleep_until;
	dt_sim_timer_armed(t->vm, t->wake_ns);
	dt_sim_task_write_state(t, 1);
	s->block = true;
	return 0;
}

/* ---- file and socket calls ---- */
int dt_sim_open_check(struct sim_task *t, const char *path, uint64_t flags)
{
	int idx = dt_sim_vfs_lookup(path);
	const struct sim_file *f;

	if (idx < 0)
		return flags & 0100 ? -1 : -ENOENT; /* O_CREAT */
	f = dt_sim_vfs_get(idx);
	if ((f->flags & VF_ROOT) && t->ids[6] != 0)
		return -EACCES;
	if ((flags & 0200000) && !(f->flags & VF_DIR)) /* O_DIRECTORY */
		return -ENOTDIR;
	return idx;
}

int64_t dt_sim_open_install(struct sim_task *t, int idx)
{
	int fd = fd_alloc(t, idx >= 0 && (dt_sim_vfs_get(idx)->flags & VF_DIR) ? FD_DIR : FD_FILE);

	if (fd >= 0)
		t->fd[fd].file = idx;
	return fd;
}

/* The open itself, on a path already resolved. */
int64_t dt_sim_open_path(struct sim_task *t, const char *path, uint64_t flags)
{
	int idx = dt_sim_open_check(t, path, flags);

	return idx < -1 ? idx : dt_sim_open_install(t, idx);
}

static int64_t do_open(struct sc *s, uint64_t upath, uint64_t flags)
{
	char path[256];
	int64_t err = user_path(s, upath, path, sizeof(path));

	return err ? err : dt_sim_open_path(s->t, path, flags);
}

static const char http_req[] = "GET /index.php?id=1 HTTP/1.1\r\nHost: sim\r\n\r\n";

static int64_t do_read(struct sc *s, uint64_t fd, uint64_t buf, uint64_t count)
{
	struct sim_fd *f = fd_get(s->t, fd);
	char data[4096];
	size_t n = 0;

	if (!f)
		return -EBADF;
	if (count > sizeof(data))
		count = sizeof(data);
	if (f->kind == FD_FILE && f->file >= 0) {
		const char *c = dt_sim_vfs_get(f->file)->content;
		size_t len = c ? strlen(c) : 0;

		if (f->off < len) {
			n = len - f->off < count ? len - f->off : count;
			memcpy(data, c + f->off, n);
		}
	} else if (f->kind == FD_CONN || f->kind == FD_SOCK) {
		n = sizeof(http_req) - 1 < count ? sizeof(http_req) - 1 : count;
		memcpy(data, http_req, n);
	} else if (f->kind == FD_DIR) {
		return -EISDIR;
	}
	if (n && dt_sim_uput_k(s->t, buf, data, n))
		return -EFAULT;
	f->off += (uint32_t)n;
	return (int64_t)n;
}

static int64_t do_write(struct sc *s, uint64_t fd, uint64_t buf, uint64_t count)
{
	struct sim_fd *f = fd_get(s->t, fd);
	char data[4096];

	if (!f)
		return -EBADF;
	if (f->kind == FD_DIR)
		return -EISDIR;
	if (count > sizeof(data))
		count = sizeof(data);
	if (count && dt_sim_uget_k(s->t, buf, data, count))
		return -EFAULT;
	return (int64_t)count;
}

static int64_t do_socket(struct sc *s, uint64_t family)
{
	if (family != 1 && family != 2 && family != 10)
		return -EAFNOSUPPORT;
	return fd_alloc(s->t, FD_SOCK);
}

static int64_t read_sockaddr(struct sc *s, uint64_t addr, uint64_t len, int *ret_port)
{
	uint8_t sa[128];

	if (len < 2 || len > sizeof(sa))
		return -EINVAL;
	if (dt_sim_uget_k(s->t, addr, sa, len))
		return -EFAULT;
	*ret_port = 0;
	if (sa[0] == 2 || sa[0] == 10) {
		if (len < (sa[0] == 2 ? 16u : 24u))
			return -EINVAL;
		*ret_port = sa[2] << 8 | sa[3];
	} else if (sa[0] != 1) {
		return -EAFNOSUPPORT;
	}
	return 0;
}

static int64_t do_connect(struct sc *s, uint64_t fd, uint64_t addr, uint64_t len)
{
	struct sim_fd *f = fd_get(s->t, fd);
	int64_t err;
	int port;

	if (!f)
		return -EBADF;
	if (f->kind != FD_SOCK)
		return -ENOTSOCK;
	err = read_sockaddr(s, addr, len, &port);
	if (err)
		return err;
	if (port && port != 80 && port != 443 && port != 22 && port != 53 && port != 3306 &&
	    port != 514 && port != 8080)
		return -ECONNREFUSED;
	f->kind = FD_CONN;
	f->port = port;
	return 0;
}

static int64_t do_bind(struct sc *s, uint64_t fd, uint64_t addr, uint64_t len)
{
	struct sim_fd *f = fd_get(s->t, fd);
	int port;
	int64_t err;

	if (!f)
		return -EBADF;
	err = read_sockaddr(s, addr, len, &port);
	if (err)
		return err;
	if (port && port < 1024 && s->t->ids[4] != 0)
		return -EACCES;
	f->port = port;
	return 0;
}

static int64_t do_accept(struct sc *s, uint64_t fd, uint64_t addr, uint64_t ulen)
{
	struct sim_task *t = s->t;
	struct sim_fd *f = fd_get(t, fd);
	uint8_t sa[16] = { 2, 0 };
	int32_t len;
	int nfd;

	if (!f)
		return -EBADF;
	if (f->kind != FD_LISTEN)
		return -EINVAL;
	/* a connection arrives some time later (workload), at once in scenarios */
	if (t->prog.kind != P_SCRIPT) {
		int64_t err = sleep_until(s, 20000000ULL +
						     sim_rand_below(&s->c->seed, 300000000ULL));

		if (err || s->block)
			return err;
	}
	nfd = fd_alloc(t, FD_CONN);
	if (nfd < 0)
		return nfd;
	if (addr) {
		uint16_t port = (uint16_t)(1024 + sim_rand_below(&s->c->seed, 60000));

		sa[2] = (uint8_t)(port >> 8), sa[3] = (uint8_t)port;
		sa[4] = 10, sa[5] = 0, sa[6] = (uint8_t)sim_rand_below(&s->c->seed, 4);
		sa[7] = (uint8_t)(1 + sim_rand_below(&s->c->seed, 250));
		if (dt_sim_uget_k(t, ulen, &len, 4) || len < 0)
			goto fault;
		if (dt_sim_uput_k(t, addr, sa, (size_t)len < sizeof(sa) ? (size_t)len : sizeof(sa)))
			goto fault;
		len = sizeof(sa);
		if (dt_sim_uput_k(t, ulen, &len, 4))
			goto fault;
	}
	return nfd;
fault:
	t->fd[nfd].kind = FD_NONE;
	return -EFAULT;
}

static int64_t do_socketcall(struct sc *s, uint64_t call, uint64_t uargs)
{
	static const uint8_t nargs[21] = { 0, 3, 3, 3, 2, 3, 3, 3, 4, 4, 4, 6, 6, 2, 5, 5, 3, 3,
					   4, 5, 4 };
	uint32_t a[6] = { 0 };

	if (call < 1 || call > 20)
		return -EINVAL;
	if (dt_sim_uget_k(s->t, uargs, a, nargs[call] * 4u))
		return -EFAULT;
	switch (call) {
	case 1:
		return do_socket(s, a[0]);
	case 2:
		return do_bind(s, a[0], a[1], a[2]);
	case 3:
		return do_connect(s, a[0], a[1], a[2]);
	case 4:
		if (!fd_get(s->t, a[0]))
			return -EBADF;
		s->t->fd[a[0]].kind = FD_LISTEN;
		return 0;
	case 5:
	case 18:
		return do_accept(s, a[0], a[1], a[2]);
	case 9:
	case 11:
		return do_write(s, a[0], a[1], a[2]);
	case 10:
	case 12:
		return do_read(s, a[0], a[1], a[2]);
	default:
		return 0;
	}
}

/* ---- processes ---- */
static int64_t do_fork(struct sc *s)
{
	struct sim_task *t = s->t, *child;
	struct sim_vm *vm = s->vm;
	uint8_t regs[SIM_PTREGS_SIZE];
	uint64_t rax = 0;

	child = dt_sim_task_new(vm, t, t->fork_pid, t->comm, t->compat, 0);
	t->fork_pid = 0;
	if (!child)
		return -EAGAIN;
	/* the child returns to user mode through ret_from_fork with pt_regs->ax = 0 */
	dt_sim_read_va(&vm->mem, vm->kpgd, dt_sim_ptregs(t), regs, sizeof(regs));
	memcpy(regs + PT_AX, &rax, 8);
	dt_sim_write_va(&vm->mem, vm->kpgd, dt_sim_ptregs(child), regs, sizeof(regs));
	child->prog = t->prog;
	child->user_rip = t->user_rip;
	child->ctx = s->c->regs;
	child->ctx.rip = dt_sim_kva(vm, vm->b->off_ret_from_fork);
	child->ctx.rsp = dt_sim_ptregs(child);
	child->ctx.cr3 = dt_sim_task_cr3(child);
	child->ctx.cpl = 0;
	child->in_kernel = true;
	child->sigpend = 0;
	dt_sim_rq_push(vm, child); /* wakes an idle vCPU */
	vm->ctr.forks++;
	return child->pid;
}

static int64_t do_wait(struct sc *s, int64_t pid, uint64_t ustatus, uint64_t options)
{
	struct sim_task *t = s->t, *ch;
	bool any = false;

	for (ch = t->first_child; ch; ch = ch->next_sibling) {
		if (pid > 0 && ch->pid != pid)
			continue;
		any = true;
		if (ch->state == TS_ZOMBIE) {
			int32_t status = ch->exit_code;
			int cpid = ch->pid;

			if (ustatus && dt_sim_uput_k(t, ustatus, &status, 4))
				return -EFAULT;
			dt_sim_task_reap(ch);
			return cpid;
		}
	}
	if (!any)
		return -ECHILD;
	if (options & 1) /* WNOHANG */
		return 0;
	{
		int sig;

		if (dt_sim_fatal_pending(t, &sig))
			return -EINTR;
	}
	t->state = TS_SLEEPING;
	t->wait_child = true;
	t->wake_ns = 0;
	dt_sim_task_write_state(t, 1);
	s->block = true;
	return 0;
}

static int64_t do_kill(struct sc *s, int64_t pid, int64_t sig)
{
	struct sim_task *x;

	if (sig < 0 || sig > 64)
		return -EINVAL;
	if (pid <= 0)
		return pid == 0 ? 0 : -EPERM;
	x = dt_sim_task_find(s->vm, (int)pid);
	if (!x || x->state == TS_ZOMBIE || x->idle)
		return -ESRCH;
	if (s->t->ids[4] != 0 && s->t->ids[4] != x->ids[0] && s->t->ids[0] != x->ids[0])
		return -EPERM;
	if (sig)
		dt_sim_send_signal(x, (int)sig);
	return 0;
}

static int64_t set_ids(struct sc *s, int first, int64_t r, int64_t e, int64_t sv)
{
	struct sim_task *t = s->t;
	uint32_t ids[8];
	bool root = t->ids[4] == 0;

	memcpy(ids, t->ids, sizeof(ids));
	/* ids: first = 0 for uids (uid, suid, euid, fsuid at 0,2,4,6), 1 for gids */
	if (!root) {
		int64_t v[3] = { r, e, sv };
		int i;

		for (i = 0; i < 3; i++)
			if (v[i] != -1 && (uint32_t)v[i] != t->ids[first] &&
			    (uint32_t)v[i] != t->ids[first + 2] && (uint32_t)v[i] != t->ids[first + 4])
				return -EPERM;
	}
	if (r != -1)
		ids[first] = (uint32_t)r;
	if (e != -1)
		ids[first + 4] = ids[first + 6] = (uint32_t)e;
	if (sv != -1)
		ids[first + 2] = (uint32_t)sv;
	return dt_sim_task_set_ids(t, ids);
}

static int64_t do_uname(struct sc *s, uint64_t buf)
{
	char u[6][65];
	const struct sim_build *b = s->vm->b;

	memset(u, 0, sizeof(u));
	snprintf(u[0], 65, "Linux");
	snprintf(u[1], 65, "%s", s->vm->name);
	snprintf(u[2], 65, "%s", b->release);
	snprintf(u[3], 65, "#1 SMP PREEMPT_DYNAMIC Debian %.24s", b->release);
	snprintf(u[4], 65, "%s", s->t->compat ? "i686" : "x86_64");
	snprintf(u[5], 65, "(none)");
	return dt_sim_uput_k(s->t, buf, u, sizeof(u)) ? -EFAULT : 0;
}

static int64_t timespec_ns(struct sc *s, uint64_t va, uint64_t *ret)
{
	int64_t sec, nsec;

	if (s->compat) {
		int32_t ts[2];

		if (dt_sim_uget_k(s->t, va, ts, 8))
			return -EFAULT;
		sec = ts[0], nsec = ts[1];
	} else {
		int64_t ts[2];

		if (dt_sim_uget_k(s->t, va, ts, 16))
			return -EFAULT;
		sec = ts[0], nsec = ts[1];
	}
	if (sec < 0 || nsec < 0 || nsec >= 1000000000)
		return -EINVAL;
	*ret = sec > 3600 ? 3600000000000ULL : (uint64_t)sec * 1000000000ULL + (uint64_t)nsec;
	return 0;
}

static int64_t do_call(struct sc *s, enum op op)
{
	struct sim_task *t = s->t;
	uint64_t *a = s->a;
	char path[256];
	int64_t err;
	uint64_t ns;

	switch (op) {
	case OP_READ:
	case OP_RECVFROM:
		return do_read(s, a[0], a[1], a[2]);
	case OP_WRITE:
	case OP_SENDTO:
		return do_write(s, a[0], a[1], a[2]);
	case OP_OPEN:
		return do_open(s, a[0], a[1]);
	case OP_OPENAT:
		return do_open(s, a[1], a[2]);
	case OP_CLOSE:
		if (!fd_get(t, a[0]))
			return -EBADF;
		t->fd[a[0]].kind = FD_NONE;
		return 0;
	case OP_SOCKET:
		return do_socket(s, a[0]);
	case OP_CONNECT:
		return do_connect(s, a[0], a[1], a[2]);
	case OP_BIND:
		return do_bind(s, a[0], a[1], a[2]);
	case OP_LISTEN:
		if (!fd_get(t, a[0]))
			return -EBADF;
		t->fd[a[0]].kind = FD_LISTEN;
		return 0;
	case OP_ACCEPT:
	case OP_ACCEPT4:
		return do_accept(s, a[0], a[1], a[2]);
	case OP_SOCKETCALL:
		return do_socketcall(s, a[0], a[1]);
	case OP_FORK:
	case OP_CLONE:
		return do_fork(s);
	case OP_WAIT4:
		return do_wait(s, s->compat ? (int32_t)a[0] : (int64_t)a[0], a[1], a[2]);
	case OP_WAITPID:
		return do_wait(s, (int32_t)a[0], a[1], a[2]);
	case OP_KILL:
		return do_kill(s, s->compat ? (int32_t)a[0] : (int64_t)a[0], (int64_t)a[1]);
	case OP_GETPID:
		return t->tgid;
	case OP_GETTID:
		return t->pid;
	case OP_GETPPID:
		return t->parent ? t->parent->tgid : 0;
	case OP_GETUID:
		return t->ids[0];
	case OP_GETGID:
		return t->ids[1];
	case OP_GETEUID:
		return t->ids[4];
	case OP_GETEGID:
		return t->ids[5];
	case OP_SETUID:
		return t->ids[4] == 0 ? set_ids(s, 0, (uint32_t)a[0], (uint32_t)a[0], (uint32_t)a[0])
				      : set_ids(s, 0, -1, (uint32_t)a[0], -1);
	case OP_SETGID:
		return t->ids[4] == 0 ? set_ids(s, 1, (uint32_t)a[0], (uint32_t)a[0], (uint32_t)a[0])
				      : set_ids(s, 1, -1, (uint32_t)a[0], -1);
	case OP_SETRESUID:
	case OP_SETRESGID:
		return set_ids(s, op == OP_SETRESUID ? 0 : 1, (int32_t)a[0], (int32_t)a[1],
			       (int32_t)a[2]);
	case OP_NANOSLEEP:
	case OP_CLOCK_NANOSLEEP:
		if (!t->sleep_until) {
			err = timespec_ns(s, op == OP_NANOSLEEP ? a[0] : a[2], &ns);
			if (err)
				return err;
		} else {
			ns = 0;
		}
		return sleep_until(s, ns);
	case OP_GETDENTS64: {
		struct sim_fd *f = fd_get(t, a[0]);
		uint8_t d[24] = { 0 };

		if (!f)
			return -EBADF;
		if (f->kind != FD_DIR)
			return -ENOTDIR;
		if (f->off || a[2] < sizeof(d))
			return 0;
		d[0] = 2;	     /* d_ino */
		d[16] = sizeof(d); /* d_reclen */
		d[18] = 4;	     /* DT_DIR */
		d[19] = '.';
		if (dt_sim_uput_k(t, a[1], d, sizeof(d)))
			return -EFAULT;
		f->off = 1;
		return sizeof(d);
	}
	case OP_UNLINK:
	case OP_RMDIR:
	case OP_CHDIR:
	case OP_ACCESS:
	case OP_STAT:
		err = user_path(s, a[0], path, sizeof(path));
		if (err)
			return err;
		return dt_sim_vfs_lookup(path) < 0 && op != OP_UNLINK ? -ENOENT : 0;
	case OP_UNLINKAT:
	case OP_MKDIR:
	case OP_RENAME:
		err = user_path(s, op == OP_UNLINKAT ? a[1] : a[0], path, sizeof(path));
		return err ? err : 0;
	case OP_PIPE:
	case OP_PIPE2: {
		int32_t fds[2];

		fds[0] = fd_alloc(t, FD_PIPE);
		if (fds[0] < 0)
			return fds[0];
		fds[1] = fd_alloc(t, FD_PIPE);
		if (fds[1] < 0 || dt_sim_uput_k(t, a[0], fds, 8)) {
			t->fd[fds[0]].kind = FD_NONE;
			if (fds[1] >= 0)
				t->fd[fds[1]].kind = FD_NONE;
			return fds[1] < 0 ? fds[1] : -EFAULT;
		}
		return 0;
	}
	case OP_DUP: {
		struct sim_fd *f = fd_get(t, a[0]);
		int fd;

		if (!f)
			return -EBADF;
		fd = fd_alloc(t, f->kind);
		if (fd >= 0)
			t->fd[fd] = *f;
		return fd;
	}
	case OP_DUP2:
		if (!fd_get(t, a[0]) || a[1] >= SIM_NFD)
			return -EBADF;
		t->fd[a[1]] = t->fd[a[0]];
		return (int64_t)a[1];
	case OP_UNAME:
		return do_uname(s, a[0]);
	case OP_BRK:
		return s->compat ? 0x5657a000 : 0x555555578000LL;
	case OP_MMAP:
		return s->compat ? 0xf7e00000LL : 0x7ffff7e00000LL;
	case OP_FSTAT:
		return fd_get(t, a[0]) ? 0 : -EBADF;
	case OP_SETSID:
		return t->tgid;
	case OP_OTHER:
		break;
	}
	return 0;
}

/* The body of system call nr with its arguments (from pt_regs): the result for RAX,
 * or *ret_block when the task went to sleep (the body runs again when woken). */
int64_t dt_sim_syscall(struct sim_vcpu *c, unsigned nr, bool compat, const uint64_t a[6],
		       bool *ret_block)
{
	struct sc s = { .c = c, .t = c->task, .vm = c->vm, .compat = compat };
	enum op op;
	int64_t ret;

	pthread_once(&op_once, op_init);
	memcpy(s.a, a, sizeof(s.a));
	op = nr < NR_MAX ? (enum op)(compat ? op32[nr] : op64[nr]) : OP_OTHER;
	ret = do_call(&s, op);
	*ret_block = s.block;
	return ret;
}
