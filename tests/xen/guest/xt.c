// SPDX-License-Identifier: GPL-2.0-only
/*
 * xt - the Xen tier's guest workload: one static program, many names (busybox style). The
 * guest's init runs each name with known arguments; every run prints one line "XT <name>: ..."
 * with what the program did and what the kernel answered, so that dom0 can compare domtrace's
 * events with what really happened. The same source builds 64-bit (xt) and 32-bit (xt32):
 * the 32-bit build enters the kernel through the ia32 compat entry points.
 *
 *   xt-exec PATH ARG...   execve(PATH, [PATH, ARG...]) (PATH is usually xt-hello)
 *   xt-hello ARG...       print its arguments
 *   xt-open PATH          openat(AT_FDCWD, PATH, O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0640)
 *   xt-abort PATH         openat(AT_FDCWD, PATH, O_RDONLY): prints the fd or the errno seen
 *   xt-net PORT           accept on 127.0.0.1:PORT while a child connects to it
 *   xt-sig                a child killed with SIGTERM, another dying of SIGSEGV, a third exit(7)
 *   xt-anc PATH           fork + exec "sh -c 'xt-open PATH; true'": xt-open runs as a grandchild
 *                         of xt-anc, named differently and not its child
 *   xt-loop N             N getppid() calls, prints the time per call (in-guest cost), its
 *                         pid and the ppid every call returned (or "ppid=mixed")
 *   xt-spin N             the same, under its own name: the second vCPU's load in a 2-vCPU guest
 *   xt-enforce SECRET N   tries to read SECRET (an absolute path in /tmp, made by init with a
 *                         symlink /tmp/xt-link to it and a directory /tmp/xt-dir) four ways an
 *                         abort filter on its path must not miss; one line per case with the
 *                         errno or the fd and the first bytes read:
 *                         absent-page: the path on a file-backed page never touched (pagemap
 *                         says present=0 just before the call); race: N opens of a buffer a
 *                         second thread flips between SECRET and /tmp/xt-public (same length),
 *                         counted by what each open read; symlink: through /tmp/xt-link;
 *                         dirfd: openat(fd of /tmp/xt-dir, "../<SECRET's name>")
 *   xt-victim STATUS      getpid() (prints what it got), then exit(STATUS): the target of a
 *                         name-only abort filter, whose exit_group/do_exit must never be aborted
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static const char *me;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n = snprintf(line, sizeof(line), "XT %s: ", me);

	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	/* One write per line: lines of concurrent programs never interleave. */
	strncat(line, "\n", sizeof(line) - strlen(line) - 1);
	if (write(1, line, strlen(line)) < 0)
		exit(3);
}

static const char *status_text(int st, char *buf, size_t len)
{
	if (WIFSIGNALED(st))
		snprintf(buf, len, "signal=%d", WTERMSIG(st));
	else
		snprintf(buf, len, "exit=%d", WEXITSTATUS(st));
	return buf;
}

static int do_exec(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	say("execve %s argc=%d", argv[1], argc - 1);
	execv(argv[1], argv + 1);
	say("execve failed errno=%d", errno);
	return 1;
}

static int do_hello(int argc, char **argv)
{
	char buf[400] = "";

	for (int i = 1; i < argc; i++) {
		strncat(buf, i > 1 ? "|" : "", sizeof(buf) - strlen(buf) - 1);
		strncat(buf, argv[i], sizeof(buf) - strlen(buf) - 1);
	}
	say("argv=%s", buf);
	return 0;
}

static int do_open(const char *path, int flags)
{
	int fd = (int)syscall(SYS_openat, AT_FDCWD, path, flags, 0640);

	if (fd < 0) {
		say("openat %s flags=0x%x errno=%d", path, (unsigned)flags, errno);
		return 1;
	}
	say("openat %s flags=0x%x fd=%d", path, (unsigned)flags, fd);
	close(fd);
	return 0;
}

static int do_net(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, srv, fd, st;
	pid_t child;
	char buf[32];

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	srv = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (srv < 0 || bind(srv, (struct sockaddr *)&sa, sizeof(sa)) || listen(srv, 4)) {
		say("listen 127.0.0.1:%d failed errno=%d", port, errno);
		return 1;
	}
	child = fork();
	if (child == 0) {
		int c = socket(AF_INET, SOCK_STREAM, 0);
		int r = connect(c, (struct sockaddr *)&sa, sizeof(sa));

		say("connect 127.0.0.1:%d ret=%d errno=%d", port, r, r ? errno : 0);
		_exit(r ? 1 : 0);
	}
	fd = accept(srv, NULL, NULL);
	say("accept 127.0.0.1:%d fd=%d", port, fd);
	waitpid(child, &st, 0);
	say("connector %s", status_text(st, buf, sizeof(buf)));
	close(fd);
	close(srv);
	return 0;
}

static int do_sig(void)
{
	char buf[32];
	int st;
	pid_t c = fork();

	if (c == 0) {
		pause();
		_exit(0);
	}
	usleep(100000);
	kill(c, SIGTERM);
	waitpid(c, &st, 0);
	say("child %d killed: %s", c, status_text(st, buf, sizeof(buf)));
	c = fork();
	if (c == 0) {
		*(volatile int *)(long)getpid() = 0; /* SIGSEGV: a low, unmapped address */
		_exit(0);
	}
	waitpid(c, &st, 0);
	say("child %d faulted: %s", c, status_text(st, buf, sizeof(buf)));
	c = fork();
	if (c == 0)
		_exit(7);
	waitpid(c, &st, 0);
	say("child %d exited: %s", c, status_text(st, buf, sizeof(buf)));
	return 0;
}

static int do_anc(const char *path)
{
	char cmd[300], buf[32];
	int st;
	pid_t c = fork();

	snprintf(cmd, sizeof(cmd), "/bin/xt-open %s; true", path);
	if (c == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	waitpid(c, &st, 0);
	say("sh -c '%s' %s", cmd, status_text(st, buf, sizeof(buf)));
	return 0;
}

static int do_loop(long n)
{
	struct timespec a, b;
	double us;

	long first = -1, ppid;
	bool mixed = false;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++) {
		ppid = syscall(SYS_getppid);
		if (first < 0)
			first = ppid;
		mixed |= ppid != first;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	us = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 1e3;
	if (mixed)
		say("getppid n=%ld total_us=%.0f us_per_call=%.2f pid=%d ppid=mixed", n, us, us / n,
		    (int)getpid());
	else
		say("getppid n=%ld total_us=%.0f us_per_call=%.2f pid=%d ppid=%ld", n, us, us / n,
		    (int)getpid(), first);
	return 0;
}

/* What one open of the secret got: "errno=N" or "fd=N read=<first line, at most 24 bytes>". */
static const char *open_result(int fd, char *buf, size_t len)
{
	char data[25];
	ssize_t n;

	if (fd < 0) {
		snprintf(buf, len, "errno=%d", errno);
		return buf;
	}
	n = read(fd, data, sizeof(data) - 1);
	data[n > 0 ? n : 0] = '\0';
	data[strcspn(data, "\n")] = '\0';
	snprintf(buf, len, "fd=%d read=%s", fd, data);
	close(fd);
	return buf;
}

/* The page of addr is mapped in this process (bit 63 of its /proc/self/pagemap entry). */
static int page_present(const void *addr)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	off_t off = (off_t)((uintptr_t)addr / (uintptr_t)sysconf(_SC_PAGESIZE) * sizeof(e));

	if (fd < 0)
		return -1;
	if (pread(fd, &e, sizeof(e), off) != (ssize_t)sizeof(e))
		e = 0;
	close(fd);
	return (int)(e >> 63);
}

static char race_path[64];
static const char *race_paths[2];
static atomic_int race_stop;
static atomic_long race_flips;

/* Flips the path the main thread opens, sleeping ~30 us after each flip. It never spins: two
 * threads yielding to each other on the guest's one vCPU made soft lockups in the tier. */
static void *flipper(void *arg)
{
	const struct timespec nap = { .tv_nsec = 30000 };

	(void)arg;
	for (unsigned i = 0; !atomic_load(&race_stop); i++) {
		memcpy(race_path, race_paths[i & 1], strlen(race_paths[i & 1]) + 1);
		atomic_fetch_add(&race_flips, 1);
		nanosleep(&nap, NULL);
	}
	return NULL;
}

static int do_enforce(const char *secret, long n)
{
	static const char public[] = "/tmp/xt-public";
	const char *base = strrchr(secret, '/');
	char res[80], rel[300], buf[32];
	long got_secret = 0, got_public = 0, refused = 0, other = 0;
	unsigned seed = (unsigned)getpid();
	struct timespec t0, t1;
	pthread_t th;
	void *map;
	int fd, dfd, present;

	if (!base || strlen(secret) != strlen(public) || n <= 0) {
		say("usage: xt-enforce /tmp/<9-char name> N (as long as %s)", public);
		return 2;
	}
	/* a: the path on a file-backed page this process never touched */
	fd = open("/tmp/xt-pathfile", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, secret, strlen(secret) + 1) != (ssize_t)strlen(secret) + 1) {
		say("absent-page cannot write /tmp/xt-pathfile errno=%d", errno);
		return 1;
	}
	map = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		say("absent-page mmap errno=%d", errno);
		return 1;
	}
	present = page_present(map);
	fd = (int)syscall(SYS_openat, AT_FDCWD, map, O_RDONLY | O_CLOEXEC);
	say("absent-page pid=%d present=%d %s", (int)getpid(), present,
	    open_result(fd, res, sizeof(res)));
	munmap(map, 4096);

	/* b: another thread flips the path between the secret and a public file */
	race_paths[0] = secret;
	race_paths[1] = public;
	memcpy(race_path, public, sizeof(public));
	atomic_store(&race_stop, 0);
	atomic_store(&race_flips, 0);
	if (pthread_create(&th, NULL, flipper, NULL)) {
		say("race pthread_create failed");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* The guest has one vCPU: a new thread may not run before the main one has done all its
	 * opens (seen in the tier: secret=0 of 200). Start once it has flipped, and sleep a
	 * random 0-127 us before each open, so that the opens see both paths. */
	for (int k = 0; k < 1000 && atomic_load(&race_flips) == 0; k++)
		usleep(1000);
	for (long i = 0; i < n; i++) {
		usleep(rand_r(&seed) & 127);
		fd = (int)syscall(SYS_openat, AT_FDCWD, race_path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			ssize_t k = read(fd, buf, sizeof(buf) - 1);

			buf[k > 0 ? k : 0] = '\0';
			close(fd);
			if (!strncmp(buf, "xt-secret", 9))
				got_secret++;
			else
				got_public++;
		} else if (errno == EACCES) {
			refused++;
		} else {
			other++;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	atomic_store(&race_stop, 1);
	pthread_join(th, NULL);
	say("race n=%ld secret=%ld refused=%ld public=%ld other=%ld flips=%ld total_us=%.0f", n,
	    got_secret, refused, got_public, other, atomic_load(&race_flips),
	    ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / 1e3);

	/* c: through a symbolic link; d: a directory fd and ../ */
	fd = (int)syscall(SYS_openat, AT_FDCWD, "/tmp/xt-link", O_RDONLY | O_CLOEXEC);
	say("symlink %s", open_result(fd, res, sizeof(res)));
	dfd = open("/tmp/xt-dir", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(rel, sizeof(rel), "..%s", base);
	fd = (int)syscall(SYS_openat, dfd, rel, O_RDONLY | O_CLOEXEC);
	say("dirfd %s", dfd < 0 ? "no /tmp/xt-dir" : open_result(fd, res, sizeof(res)));
	if (dfd >= 0)
		close(dfd);
	return 0;
}

static int do_victim(int status)
{
	long r = syscall(SYS_getpid);

	say("getpid ret=%ld errno=%d", r, r < 0 ? errno : 0);
	exit(status); /* exit_group, then do_exit in the kernel: never to be aborted */
}

int main(int argc, char **argv)
{
	const char *arg = argc > 1 ? argv[1] : "";
	const char *dash;

	me = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	dash = strchr(me, '-');
	if (!dash) {
		say("usage: run as xt-<mode> (see the source)");
		return 2;
	}
	dash++;
	if (!strcmp(dash, "exec"))
		return do_exec(argc, argv);
	if (!strcmp(dash, "hello"))
		return do_hello(argc, argv);
	if (!strcmp(dash, "open"))
		return do_open(arg, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC);
	if (!strcmp(dash, "abort"))
		return do_open(arg, O_RDONLY);
	if (!strcmp(dash, "net"))
		return do_net(atoi(arg));
	if (!strcmp(dash, "sig"))
		return do_sig();
	if (!strcmp(dash, "anc"))
		return do_anc(arg);
	if (!strcmp(dash, "loop") || !strcmp(dash, "spin"))
		return do_loop(atol(arg));
	if (!strcmp(dash, "enforce"))
		return do_enforce(arg, argc > 2 ? atol(argv[2]) : 200);
	if (!strcmp(dash, "victim"))
		return do_victim(atoi(arg));
	say("unknown mode %s", dash);
	return 2;
}
