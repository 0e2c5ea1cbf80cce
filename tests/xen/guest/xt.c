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
 *   xt-loop N             N getppid() calls, prints the time per call (in-guest cost)
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <arpa/inet.h>
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

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	clock_gettime(CLOCK_MONOTONIC, &b);
	us = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 1e3;
	say("getppid n=%ld total_us=%.0f us_per_call=%.2f", n, us, us / n);
	return 0;
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
	if (!strcmp(dash, "loop"))
		return do_loop(atol(arg));
	say("unknown mode %s", dash);
	return 2;
}
