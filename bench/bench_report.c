// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench_report: events per second
 *   1. through the queue alone (producers allocate, one consumer takes and frees),
 *   2. through the reporter with the JSON log sink writing to /dev/null,
 *   3. through the reporter's A3 sink (batched POSTs) to dt-a3-receiver on loopback,
 *      counted from the first submit until stop returns with everything delivered.
 *
 * usage: bench_report [-n events] [-p producers] [-b batch] [-r receiver-path]
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "domtrace/queue.h"
#include "domtrace/report.h"

static unsigned n_events = 400000, n_producers = 2, batch = 1000;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A match event like the engine makes: openat with a path, about 1.6 KiB in all. */
static struct dt_event *mk(uint32_t domid, uint64_t seq)
{
	struct dt_event *ev;
	char path[64];
	int n;

	if (dt_event_new(DT_EV_MATCH, 256, &ev) < 0)
		abort();
	ev->when = DT_WHEN_PRE;
	ev->seq = seq;
	ev->ts_ns = 1714597445123456789ull + seq * 1000;
	ev->domid = domid;
	snprintf(ev->vm, sizeof(ev->vm), "vm%u", domid);
	ev->proc = (struct dt_proc_info){ .pid = 412, .tgid = 412, .ppid = 411, .rppid = 411 };
	strcpy(ev->proc.comm, "bash");
	ev->func = "sys_openat";
	ev->nr = 257;
	ev->nargs = 4;
	n = snprintf(path, sizeof(path), "/var/lib/data/file-%" PRIu64, seq);
	ev->args[0] = (struct dt_arg){ .name = "dfd", .raw = 0xffffff9c, .value = "AT_FDCWD" };
	ev->args[1] = (struct dt_arg){ .name = "filename", .raw = 0x7ffd1000,
				       .value = dt_event_strdup(ev, path, (size_t)n) };
	ev->args[2] = (struct dt_arg){ .name = "flags", .value = "O_RDONLY|O_CLOEXEC" };
	ev->args[3] = (struct dt_arg){ .name = "mode", .value = "0" };
	ev->filter = 1;
	return ev;
}

/* --- 1. queue alone --- */

struct qprod {
	struct dt_queue *q;
	uint32_t domid;
	unsigned count;
};

static void *queue_producer(void *arg)
{
	struct qprod *a = arg;
	struct dt_queue_producer *p;
	unsigned i;

	if (dt_queue_producer_new(a->q, a->domid, "vm", &p) < 0)
		abort();
	for (i = 1; i <= a->count; i++)
		dt_queue_push(p, mk(a->domid, i));
	dt_queue_producer_free(p);
	return NULL;
}

static void bench_queue(void)
{
	struct dt_queue_opts o = { .max_bytes = 256u << 20 };
	struct qprod args[16];
	pthread_t th[16];
	struct dt_queue_stats st;
	struct dt_queue *q;
	uint64_t got = 0, want;
	double t0, t1;
	unsigned i;

	if (dt_queue_new(&o, &q) < 0)
		abort();
	want = (uint64_t)n_events / n_producers * n_producers;
	t0 = now_s();
	for (i = 0; i < n_producers; i++) {
		args[i] = (struct qprod){ .q = q, .domid = i, .count = n_events / n_producers };
		pthread_create(&th[i], NULL, queue_producer, &args[i]);
	}
	for (;;) {
		struct pollfd pfd = { .fd = dt_queue_fd(q), .events = POLLIN };
		struct dt_queue_batch b;
		struct dt_event *ev;

		dt_queue_stats(q, &st);
		if (got + st.lost >= want)
			break;
		if (dt_queue_sleep_begin(q)) {
			poll(&pfd, 1, 10);
			dt_queue_sleep_end(q);
		}
		while (dt_queue_take(q, &b))
			while ((ev = dt_queue_next(&b))) {
				got++;
				dt_queue_done(q, ev);
			}
	}
	t1 = now_s();
	for (i = 0; i < n_producers; i++)
		pthread_join(th[i], NULL);
	dt_queue_stats(q, &st);
	printf("queue alone:      %u producers, %" PRIu64 " events in %.3f s = %.0f events/s"
	       " (lost %" PRIu64 ", peak %zu KiB)\n",
	       n_producers, got, t1 - t0, (double)got / (t1 - t0), st.lost, st.peak_bytes >> 10);
	dt_queue_free(q);
}

/* --- 2 and 3: through the reporter --- */

struct rprod {
	struct dt_report *r;
	uint32_t domid;
	unsigned count;
	unsigned lost;
};

static void *report_producer(void *arg)
{
	struct rprod *a = arg;
	struct dt_report_producer *p;
	char vm[16];
	unsigned i;

	snprintf(vm, sizeof(vm), "vm%u", a->domid);
	if (dt_report_producer_new(a->r, a->domid, vm, &p) < 0)
		abort();
	for (i = 1; i <= a->count; i++)
		if (dt_report_submit(p, mk(a->domid, i)) < 0)
			a->lost++;
	dt_report_producer_free(p);
	return NULL;
}

static void bench_reporter(const char *label, struct dt_report_opts *o)
{
	struct rprod args[16];
	pthread_t th[16];
	struct dt_report_stats st;
	struct dt_report *r;
	double t0, t1;
	unsigned i;
	int err;

	err = dt_report_new(o, &r);
	if (err < 0) {
		fprintf(stderr, "bench_report: reporter: %s\n", strerror(-err));
		exit(1);
	}
	dt_report_start(r);
	t0 = now_s();
	for (i = 0; i < n_producers; i++) {
		args[i] = (struct rprod){ .r = r, .domid = i, .count = n_events / n_producers };
		pthread_create(&th[i], NULL, report_producer, &args[i]);
	}
	for (i = 0; i < n_producers; i++)
		pthread_join(th[i], NULL);
	err = dt_report_stop(r, 60000);
	t1 = now_s();
	dt_report_stats(r, &st);
	printf("%s %" PRIu64 " events in %.3f s = %.0f events/s (lost %" PRIu64
	       ", A3 sent %" PRIu64 " in %" PRIu64 " requests, %" PRIu64 " failed, peak %zu KiB)%s\n",
	       label, st.q.delivered, t1 - t0, (double)st.q.delivered / (t1 - t0), st.q.lost,
	       st.a3_sent, st.a3_requests, st.a3_failures, st.q.peak_bytes >> 10,
	       err ? " [stop timed out]" : "");
	dt_report_free(r);
}

static pid_t start_receiver(const char *path, char *port_file, unsigned *ret_port)
{
	pid_t pid = fork();
	unsigned i;
	FILE *f;

	if (pid == 0) {
		execl(path, path, "-q", "-l", "127.0.0.1:0", "-o", "/dev/null", "-r", port_file,
		      (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 500; i++) {
		f = fopen(port_file, "r");
		if (f) {
			int ok = fscanf(f, "%u", ret_port) == 1;

			fclose(f);
			if (ok)
				return pid;
		}
		usleep(10000);
	}
	fprintf(stderr, "bench_report: %s did not start\n", path);
	kill(pid, SIGTERM);
	exit(1);
}

int main(int argc, char **argv)
{
	char receiver[1024] = "", port_file[] = "/tmp/bench_report_port_XXXXXX", server[64];
	struct dt_report_opts o;
	unsigned port;
	pid_t pid;
	int opt, fd;

	while ((opt = getopt(argc, argv, "n:p:b:r:")) != -1) {
		switch (opt) {
		case 'n': n_events = (unsigned)atoi(optarg); break;
		case 'p': n_producers = (unsigned)atoi(optarg); break;
		case 'b': batch = (unsigned)atoi(optarg); break;
		case 'r': snprintf(receiver, sizeof(receiver), "%s", optarg); break;
		default:
			fprintf(stderr, "usage: bench_report [-n events] [-p producers] [-b batch] "
					"[-r dt-a3-receiver]\n");
			return 2;
		}
	}
	if (n_producers < 1 || n_producers > 16 || !n_events)
		return 2;
	if (!receiver[0]) { /* build/bench/bench_report -> build/dt-a3-receiver */
		ssize_t n = readlink("/proc/self/exe", receiver, sizeof(receiver) - 32);
		char *slash;

		receiver[n > 0 ? n : 0] = '\0';
		slash = strrchr(receiver, '/');
		if (slash)
			*slash = '\0';
		slash = strrchr(receiver, '/');
		strcpy(slash ? slash + 1 : receiver, "dt-a3-receiver");
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	printf("bench_report: %u events, %u producer threads, A3 batches of %u\n", n_events,
	       n_producers, batch);

	bench_queue();

	dt_report_opts_init(&o);
	o.max_bytes = 64u << 20;
	o.wait_when_full = true; /* measure what is delivered, nothing lost */
	o.log = DT_REPORT_LOG_JSON;
	o.log_fd = open("/dev/null", O_WRONLY);
	bench_reporter("reporter JSON log:", &o);
	close(o.log_fd);

	fd = mkstemp(port_file);
	close(fd);
	unlink(port_file);
	pid = start_receiver(receiver, port_file, &port);
	snprintf(server, sizeof(server), "127.0.0.1:%u", port);
	dt_report_opts_init(&o);
	o.max_bytes = 64u << 20;
	o.wait_when_full = true; /* measure what is delivered, nothing lost */
	o.a3 = DT_REPORT_A3_POST;
	o.a3_server = server;
	o.a3_batch_max = batch;
	bench_reporter("reporter A3 HTTP:", &o);
	o.a3 = DT_REPORT_A3_POST_JSON;
	bench_reporter("reporter A3 JSON:", &o);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	unlink(port_file);
	curl_global_cleanup();
	return 0;
}
