/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * options.h - the command line. The seed's flags (-c -a -w -u -d -x -m, -s/-f
 * deprecated) keep their meaning; everything else is a long option. Main thread only.
 */
#ifndef DT_ENGINE_OPTIONS_H
#define DT_ENGINE_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "domtrace/hv.h"

struct dt_journal;

#define DT_OPT_MAX_LIST 64
#define DT_OPT_SIM_MAX_VMS 64	/* what the simulated host takes (sim/sim_hv.c) */
#define DT_OPT_SIM_MAX_VCPUS 32 /* SIM_MAX_VCPUS */

enum dt_backend {
	DT_BACKEND_XEN = 0,
	DT_BACKEND_SIM,
};

enum dt_log_format {
	DT_FORMAT_TEXT = 0,
	DT_FORMAT_JSON,
	DT_FORMAT_NONE, /* no per-call log (events still go to A3 / report file) */
};

enum dt_a3_body {
	DT_A3_LINES = 0, /* one seed-format event string per line, POSTed in batches */
	DT_A3_JSON,	 /* JSON lines, POSTed in batches */
	DT_A3_GET,	 /* the ancestor's exact per-event GET request */
};

struct dt_options {
	const char *config;	/* -c */
	bool a3;		/* -a */
	const char *a3_server;	/* -w host:port */
	const char *a3_url;	/* -u path or full URL */
	enum dt_a3_body a3_body;
	const char *a3_ca;	/* --ca-file */
	unsigned a3_batch;	/* --batch N events */
	unsigned a3_delay_ms;	/* --batch-delay MS */
	int debug;		/* -d count */
	int hv_debug;		/* -x count */
	const char *sysmap;	/* -m */
	const char *sysmap_dir;	/* --system-map-dir: System.map-<release> files */
	const char *report_file;/* -R */
	bool real_parent;	/* -r: ancestry through real_parent */
	bool quiet;		/* -q: log only calls a filter matched */
	enum dt_log_format format;
	const char *log_file;	/* --log FILE (default stdout) */
	bool check_config;	/* -t */
	bool returns;		/* trace return values of every traced call (--no-returns) */
	bool sgdt_returns;	/* --sgdt-returns: return probes with --trap sgdt */
	bool lossless;		/* --lossless: guests wait instead of losing events */
	size_t queue_bytes;	/* --queue-bytes */
	size_t a3_backlog_bytes;/* --a3-backlog-bytes: events waiting for the A3 server */
	double duration;	/* --duration S, 0 = until SIGINT/SIGTERM */
	unsigned flush_ms;	/* --flush-timeout S: sinks' flush at exit, in ms */
	unsigned stats_interval;/* --stats S */
	enum dt_backend backend;
	enum dt_trap_flavour trap;
	/* simulated host */
	unsigned sim_vms;	/* --sim N */
	unsigned sim_vcpus;
	unsigned sim_rate;	/* calls/s per vCPU */
	unsigned sim_seed;
	const char *sim_scenario;
	const char *sim_dir;	/* where the sim writes System.map files */
	/* positional VM names/globs, and -s/-f turned into config lines */
	const char *vms[DT_OPT_MAX_LIST];
	size_t nvms;
	const char *extra_lines[DT_OPT_MAX_LIST]; /* "Functions ..." / "Filter ..." */
	size_t nextra;
	bool no_guardian;	/* --no-guardian: no crash-recovery process (engine/guard/) */
	const char *metrics;	/* --metrics ADDR:PORT: Prometheus endpoint; NULL: off */
	const char *syslog;	/* --syslog unix:PATH | tcp:HOST:PORT; NULL: off */
	unsigned syslog_facility; /* --syslog-facility (0-23; default 3, daemon) */
	const char *syslog_tag;	/* --syslog-tag (APP-NAME); NULL: "domtrace" */
	bool syslog_json;	/* --syslog-format json */
	/* Not an option: the crash journal main() shares with the guardian, or NULL.
	 * Borrowed; workers record every armed byte in it (engine/include/domtrace/journal.h). */
	struct dt_journal *journal;
};

/*
 * Parse argv. Returns 0 to run, 1 when the program should exit 0 at once (--help,
 * --version: already printed), or -EINVAL after printing the error and a usage hint.
 * Strings point into argv or are static; extra_lines are malloc()ed (dt_options_free).
 */
int dt_options_parse(struct dt_options *o, int argc, char **argv);
void dt_options_free(struct dt_options *o);
void dt_options_usage(FILE *out);

#endif /* DT_ENGINE_OPTIONS_H */
