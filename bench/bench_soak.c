// SPDX-License-Identifier: GPL-2.0-only
/*
 * The soak: domtrace (in process) on the simulated host for a while, as a fleet lives:
 * up to 32 VMs appearing and going, the action bit flipped (USR1) and the config
 * reloaded (USR2, which also reopens the log) every few seconds, the log rotated, the
 * A3 receiver (dt-a3-receiver, a child) going down and up. At the end, every record
 * must be accounted for: events made = written to the log + lost before the queue +
 * lost by the log; A3 events sent = lines the receiver wrote; no hang (a watchdog);
 * RSS bounded: the second half's peak within 1.5x the first half's + 16 MiB, plus
 * VM_RSS_KIB for each VM more alive at the second peak than at the first (a simulated
 * guest's memory is allocated as it is touched, up to 32 MiB here).
 *
 *   build/bench/bench_soak [SECONDS (default 600)] [RECEIVER (default build/dt-a3-receiver)]
 *
 * Exit 0 if every check held; the figures are printed either way.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "domtrace/report.h"
#include "domtrace/daemon.h"
#include "domtrace/sim.h"

#define MAX_VMS 32
#define VM_RSS_KIB (64 * 1024) /* a VM's 32 MiB of guest memory, with sanitizer shadow */

static char dir[] = "/tmp/dt-soak-XXXXXX";
static char log_path[256], a3_path[256];
static pid_t receiver;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kib = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kib;
}

static void receiver_start(const char *bin, unsigned port)
{
	char listen[32];

	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	receiver = fork();
	if (receiver == 0) {
		int null = open("/dev/null", O_RDWR);

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(null, 1);
		dup2(null, 2);
		execl(bin, bin, "-q", "-l", listen, "-o", a3_path, (char *)NULL);
		_exit(127);
	}
}

static void receiver_stop(void)
{
	if (receiver > 0) {
		kill(receiver, SIGTERM);
		waitpid(receiver, NULL, 0);
		receiver = 0;
	}
}

/* Lines of every file in dir starting with `prefix`; lost records counted apart. */
static void count_lines(const char *prefix, unsigned long *ret_lines, unsigned long *ret_lost)
{
	char path[512], *line = NULL;
	size_t cap = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	*ret_lines = *ret_lost = 0;
	while (d && (de = readdir(d))) {
		FILE *f;

		if (strncmp(de->d_name, prefix, strlen(prefix)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = fopen(path, "r");
		while (f && getline(&line, &cap, f) > 0) {
			if (strstr(line, " -- lost ") || strstr(line, "type=lost"))
				(*ret_lost)++;
			else
				(*ret_lines)++;
		}
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	free(line);
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 600, t0, next_vm, next_sig, next_a3, next_rot;
	const char *rbin = argc > 2 ? argv[2] : "build/dt-a3-receiver";
	char *oargv[] = { (char *)"soak", NULL }, server[32], rot[512], losses[1024] = "";
	uint32_t domids[MAX_VMS] = { 0 };
	struct dt_report_stats st;
	struct dt_sim_params sp;
	struct dt_options o;
	struct dt_daemon *d = NULL;
	struct dt_hv *hv = NULL;
	struct dt_sim_host *h;
	unsigned port = 20000 + (unsigned)getpid() % 20000, created = 0, destroyed = 0, sigs = 0,
		 outages = 0, rotations = 0, slot;
	long rss_first = 0, rss_second = 0, rss, allow;
	unsigned alive = 0, alive_first = 0, alive_second = 0;
	unsigned long log_events, log_lost, a3_lines, a3_lost, made;
	bool ok = true;
	int r;

	if (!mkdtemp(dir))
		return 1;
	alarm((unsigned)seconds + 300); /* a hang is a failure */
	snprintf(log_path, sizeof(log_path), "%s/log", dir);
	snprintf(a3_path, sizeof(a3_path), "%s/a3", dir);
	snprintf(server, sizeof(server), "127.0.0.1:%u", port);
	receiver_start(rbin, port);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	dt_sim_params_default(&sp);
	sp.n_vms = 4;
	sp.rate = 300;
	sp.sysmap_dir = dir;
	if ((r = dt_hv_sim.open(&sp, &hv)) < 0) {
		fprintf(stderr, "soak: sim: %s\n", strerror(-r));
		return 1;
	}
	h = dt_sim_host_from(hv);
	(void)dt_options_parse(&o, 1, oargv);
	o.backend = DT_BACKEND_SIM;
	o.sysmap_dir = dir;
	o.log_file = log_path;
	o.a3 = true;
	o.a3_server = server;
	o.queue_bytes = 1u << 20;
	o.a3_backlog_bytes = 1u << 20;
	r = dt_daemon_start(&o, &dt_hv_sim, hv, &d);
	if (r < 0)
		return 1;
	t0 = now_s();
	next_vm = next_sig = next_a3 = next_rot = t0;
	srand(1);
	while (now_s() - t0 < seconds) {
		double t = now_s();

		if (t >= next_vm) { /* a VM appears or goes: about one every 0.3 s */
			slot = (unsigned)rand() % MAX_VMS;
			if (domids[slot]) {
				if (dt_sim_vm_destroy(h, domids[slot]) == 0)
					destroyed++, alive--;
				domids[slot] = 0;
			} else {
				struct dt_sim_vm_params vp = { .vcpus = 1, .mem_mib = 32 };

				/* 8 kernel builds: the maps directory stays small (a new build
				 * per VM would pass the 256 maps domtrace scans) */
				vp.build = (int)(created % 8);
				snprintf(vp.name, sizeof(vp.name), "soak-%u", created);
				if (dt_sim_vm_create(h, &vp, &domids[slot]) == 0)
					created++, alive++;
			}
			next_vm = t + 0.3;
		}
		if (t >= next_sig) { /* USR1 and USR2 every 3 s */
			dt_daemon_set_action(d, !atomic_load(&d->action_on));
			(void)dt_daemon_reload(d);
			sigs += 2;
			next_sig = t + 3;
		}
		if (t >= next_rot) { /* logrotate every 20 s: rename, then USR2 reopens */
			snprintf(rot, sizeof(rot), "%s/log.%u", dir, rotations++);
			rename(log_path, rot);
			(void)dt_daemon_reload(d);
			next_rot = t + 20;
		}
		if (t >= next_a3) { /* the A3 server down for 4 s every 15 s */
			if (receiver) {
				receiver_stop();
				outages++;
				next_a3 = t + 4;
			} else {
				receiver_start(rbin, port);
				next_a3 = t + 11;
			}
		}
		rss = rss_kib();
		if (t - t0 < seconds / 2 && rss > rss_first)
			rss_first = rss, alive_first = alive;
		if (t - t0 >= seconds / 2 && rss > rss_second)
			rss_second = rss, alive_second = alive;
		usleep(50000);
	}
	if (!receiver)
		receiver_start(rbin, port);
	sleep(1);
	dt_daemon_stop_report(d, NULL, &st, losses, sizeof(losses));
	receiver_stop();
	count_lines("log", &log_events, &log_lost);
	count_lines("a3", &a3_lines, &a3_lost);
	made = (unsigned long)(st.q.enqueued - st.q.records + st.q.lost);
	printf("soak: %.0f s, VMs created %u destroyed %u, signals %u, A3 outages %u, log "
	       "rotations %u\n", seconds, created, destroyed, sigs, outages, rotations);
	printf("soak: events made %lu; log: %lu event lines + %lu lost records, queue lost %lu, "
	       "log lines written %lu; a3: sent %lu, receiver lines %lu; losses: %s\n", made,
	       log_events, log_lost, (unsigned long)st.q.lost, (unsigned long)st.log_lines,
	       (unsigned long)st.a3_sent, a3_lines + a3_lost, losses[0] ? losses : "none");
	printf("soak: RSS peak %ld KiB in the first half (%u soak VMs alive), %ld KiB in the "
	       "second (%u alive)\n", rss_first, alive_first, rss_second, alive_second);
	if (log_events + st.q.lost != made && !strstr(losses, "log ")) {
		printf("soak: FAIL: log events %lu + queue lost %lu != made %lu\n", log_events,
		       (unsigned long)st.q.lost, made);
		ok = false;
	}
	if (log_events + log_lost != st.log_lines) {
		printf("soak: FAIL: the log files hold %lu lines, the sink wrote %lu\n",
		       log_events + log_lost, (unsigned long)st.log_lines);
		ok = false;
	}
	if (a3_lines + a3_lost != st.a3_sent) {
		printf("soak: FAIL: the receiver wrote %lu lines, domtrace sent %lu\n",
		       a3_lines + a3_lost, (unsigned long)st.a3_sent);
		ok = false;
	}
	allow = rss_first + rss_first / 2 + 16384 +
		(alive_second > alive_first ? (long)(alive_second - alive_first) * VM_RSS_KIB : 0);
	if (rss_second > allow) {
		printf("soak: FAIL: RSS grew from %ld to %ld KiB\n", rss_first, rss_second);
		ok = false;
	}
	dt_hv_sim.close(hv);
	curl_global_cleanup();
	dt_options_free(&o);
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "soak: could not remove %s\n", dir);
	}
	printf("soak: %s\n", ok ? "OK" : "FAILED");
	return ok ? 0 : 1;
}
