// SPDX-License-Identifier: GPL-2.0-only
/* Command line parsing: the seed's short flags plus long options. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "domtrace/report.h"
#include "domtrace/options.h"

enum {
	OPT_SIM = 0x100,
	OPT_DURATION,
	OPT_JSON,
	OPT_FORMAT,
	OPT_LOG,
	OPT_VERSION,
	OPT_BACKEND,
	OPT_TRAP,
	OPT_NO_RETURNS,
	OPT_LOSSLESS,
	OPT_QUEUE_BYTES,
	OPT_STATS,
	OPT_A3_BODY,
	OPT_CA,
	OPT_BATCH,
	OPT_BATCH_DELAY,
	OPT_SIM_VCPUS,
	OPT_SIM_RATE,
	OPT_SIM_SEED,
	OPT_SIM_SCENARIO,
	OPT_SIM_DIR,
	OPT_MAP_DIR,
	OPT_SGDT_RETURNS,
	OPT_NO_GUARDIAN,
	OPT_FLUSH_TIMEOUT,
	OPT_A3_BACKLOG,
	OPT_METRICS,
	OPT_SYSLOG,
	OPT_SYSLOG_FACILITY,
	OPT_SYSLOG_TAG,
	OPT_SYSLOG_FORMAT,
};

static const struct option long_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "a3", no_argument, NULL, 'a' },
	{ "server", required_argument, NULL, 'w' },
	{ "url", required_argument, NULL, 'u' },
	{ "debug", no_argument, NULL, 'd' },
	{ "hv-debug", no_argument, NULL, 'x' },
	{ "system-map", required_argument, NULL, 'm' },
	{ "system-map-dir", required_argument, NULL, OPT_MAP_DIR },
	{ "report-file", required_argument, NULL, 'R' },
	{ "real-parent", no_argument, NULL, 'r' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "check-config", no_argument, NULL, 't' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "sim", required_argument, NULL, OPT_SIM },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "flush-timeout", required_argument, NULL, OPT_FLUSH_TIMEOUT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "log", required_argument, NULL, OPT_LOG },
	{ "backend", required_argument, NULL, OPT_BACKEND },
	{ "trap", required_argument, NULL, OPT_TRAP },
	{ "no-returns", no_argument, NULL, OPT_NO_RETURNS },
	{ "sgdt-returns", no_argument, NULL, OPT_SGDT_RETURNS },
	{ "no-guardian", no_argument, NULL, OPT_NO_GUARDIAN },
	{ "lossless", no_argument, NULL, OPT_LOSSLESS },
	{ "queue-bytes", required_argument, NULL, OPT_QUEUE_BYTES },
	{ "a3-backlog-bytes", required_argument, NULL, OPT_A3_BACKLOG },
	{ "stats", required_argument, NULL, OPT_STATS },
	{ "a3-body", required_argument, NULL, OPT_A3_BODY },
	{ "ca-file", required_argument, NULL, OPT_CA },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "batch-delay", required_argument, NULL, OPT_BATCH_DELAY },
	{ "sim-vcpus", required_argument, NULL, OPT_SIM_VCPUS },
	{ "sim-rate", required_argument, NULL, OPT_SIM_RATE },
	{ "sim-seed", required_argument, NULL, OPT_SIM_SEED },
	{ "sim-scenario", required_argument, NULL, OPT_SIM_SCENARIO },
	{ "sim-dir", required_argument, NULL, OPT_SIM_DIR },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "syslog", required_argument, NULL, OPT_SYSLOG },
	{ "syslog-facility", required_argument, NULL, OPT_SYSLOG_FACILITY },
	{ "syslog-tag", required_argument, NULL, OPT_SYSLOG_TAG },
	{ "syslog-format", required_argument, NULL, OPT_SYSLOG_FORMAT },
	{ NULL, 0, NULL, 0 },
};

void dt_options_usage(FILE *out)
{
	fputs("Usage: domtrace [OPTIONS] [VM-NAME-OR-GLOB...]\n"
	      "Trace the system calls of Linux guests on a Xen host by introspection.\n"
	      "\n"
	      "Without VM names every traceable guest is monitored (the config file can\n"
	      "include and exclude VMs by name). See domtrace(8) and domtrace.conf(5).\n"
	      "\n"
	      "The ancestor's flags:\n"
	      "  -c, --config FILE       config file (Functions, ProcessListNames, Filter, ...)\n"
	      "  -a, --a3                send events to the A3 server (default: don't)\n"
	      "  -w, --server HOST:PORT  A3 event server (default " DT_A3_SERVER_DEFAULT ")\n"
	      "  -u, --url URL|PATH      A3 URL, or the path on --server (default " DT_A3_POST_PATH_DEFAULT ";\n"
	      "                          with --a3-body get the ancestor's query key\n"
	      "                          " DT_A3_QUERYKEY_DEFAULT ")\n"
	      "  -d, --debug             -d: attach, probe and detach decisions; -dd: also every\n"
	      "                          trap's decision; -ddd: also every guest memory read\n"
	      "  -x, --hv-debug          -x: every hypervisor call that fails; -xx: also every\n"
	      "                          ring event (trap taken, answer given, VM note)\n"
	      "  -m, --system-map FILE   default System.map (or /proc/kallsyms copy) for guests\n"
	      "  --system-map-dir DIR    System.map-<release> files; the one that fits a guest\n"
	      "                          is used (also the config's SystemMapDir); with no map,\n"
	      "                          or none fitting, the guest kernel's own kallsyms\n"
	      "  -s LIST, -f FILTER      deprecated: same as config lines 'Functions LIST' and\n"
	      "                          'Filter FILTER'\n"
	      "  -R, --report-file FILE  write matches and aborts with their pid lineage\n"
	      "  -r, --real-parent       ancestry (ppid=^, name=^) through real_parent\n"
	      "\n"
	      "Output:\n"
	      "  --format text|json|none per-call log format on stdout (default text)\n"
	      "  --json                  same as --format json\n"
	      "  --log FILE              write the per-call log to FILE instead of stdout\n"
	      "  -q, --quiet             log only calls that a filter matched\n"
	      "  --no-returns            no return probes except where a filter needs one\n"
	      "                          (halves the traps of traced calls)\n"
	      "  --stats SECONDS         print counters every SECONDS to stderr\n"
	      "  --metrics ADDR:PORT     serve counters in the Prometheus text format at\n"
	      "                          http://ADDR:PORT/metrics (e.g. 127.0.0.1:9464;\n"
	      "                          default: off; port 0: any free port, logged)\n"
	      "  --syslog unix:PATH|tcp:HOST:PORT  A3 events also as RFC 5424 syslog\n"
	      "                          messages: to a local socket (unix:/dev/log) or over\n"
	      "                          TCP to a collector (default: off)\n"
	      "  --syslog-facility NAME  facility: daemon (default), user, local0-local7, ...\n"
	      "  --syslog-tag TAG        APP-NAME of the messages (default domtrace)\n"
	      "  --syslog-format seed|json  message: the seed's event string (default) or\n"
	      "                          the JSON object of --format json\n"
	      "\n"
	      "Events and queue:\n"
	      "  --a3-body lines|json|get  A3 request body: seed event lines (default), JSON\n"
	      "                          lines, or the ancestor's one GET per event\n"
	      "  --ca-file FILE          CA bundle to verify an https A3 server\n"
	      "  --batch N               events per A3 request, 1-65536 (default " DT_STRINGIFY(DT_A3_BATCH_MAX_DEFAULT) ")\n"
	      "  --batch-delay MS        longest wait before a partial batch is sent (default " DT_STRINGIFY(DT_A3_DELAY_MS_DEFAULT) ");\n"
	      "                          half of it, before any sink is written\n"
	      "  --queue-bytes N         memory bound of queued events (default 64 MiB)\n"
	      "  --a3-backlog-bytes N    memory bound of events waiting for the A3 server,\n"
	      "                          apart from the queue (default 64 MiB)\n"
	      "  --lossless              when the queue is full, trapped vCPUs wait instead of\n"
	      "                          events being lost (lost events are always counted)\n"
	      "\n"
	      "Host:\n"
	      "  --backend xen|sim       hypervisor (default xen)\n"
	      "  --trap int3|sgdt        how a probe traps on Xen (default int3; sgdt for\n"
	      "                          emulators that never report int3, e.g. QEMU TCG)\n"
	      "  --sgdt-returns          with --trap sgdt, also probe returns (for emulators;\n"
	      "                          see domtrace(8))\n"
	      "  --no-guardian           no guardian process (it restores the guests if\n"
	      "                          domtrace is killed with SIGKILL or crashes)\n"
	      "  --duration SECONDS      stop after SECONDS (default: at SIGINT/SIGTERM)\n"
	      "  --flush-timeout SECONDS at exit, after detaching, longest wait for the log,\n"
	      "                          report file and A3 server (default 5; 0-3600)\n"
	      "  -t, --check-config      check the config file, print every error, exit\n"
	      "\n"
	      "Simulated host (no Xen needed):\n"
	      "  --sim N                 run N simulated VMs, 1-64 (implies --backend sim)\n"
	      "  --sim-vcpus N           vCPUs per simulated VM, 1-32 (default 2)\n"
	      "  --sim-rate N            workload syscalls per second per vCPU (default 200)\n"
	      "  --sim-seed N            random seed (KASLR offsets, workload)\n"
	      "  --sim-scenario FILE     run a scripted scenario instead of the workload\n"
	      "  --sim-dir DIR           write the simulated guests' System.map files in a new\n"
	      "                          DIR/run-XXXXXX of this run, and use them (default:\n"
	      "                          none, symbols from the guests' kallsyms)\n"
	      "\n"
	      "  -h, --help              this text\n"
	      "  --version               version\n"
	      "\n"
	      "Signals: USR1 flips the global action bit (abort <-> would-abort);\n"
	      "USR2 or HUP reloads the config; INT or TERM detach cleanly and exit (a\n"
	      "second INT or TERM while the sinks flush: exit at once, after detaching).\n",
	      out);
}

static int parse_range(const char *opt, const char *s, unsigned long min, unsigned long max,
		       unsigned long *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max) {
		fprintf(stderr, "domtrace: %s: '%s' is not a number from %lu to %lu\n", opt, s, min,
			max);
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

static int parse_uint(const char *opt, const char *s, unsigned long max, unsigned long *ret)
{
	return parse_range(opt, s, 0, max, ret);
}

/* -w HOST:PORT, checked by libcurl's URL parser as the URL it will become. */
static int check_server(const char *server)
{
	CURLU *u = curl_url();
	char *url = NULL, *port = NULL;
	CURLUcode rc = CURLUE_OUT_OF_MEMORY;
	int r = -EINVAL;

	if (u && strpbrk(server, "/ \t\r\n?#@") == NULL && asprintf(&url, "http://%s/", server) > 0)
		rc = curl_url_set(u, CURLUPART_URL, url, 0);
	if (rc == CURLUE_OK && curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK &&
	    strtoul(port, NULL, 10) > 0)
		r = 0;
	if (r < 0)
		fprintf(stderr, "domtrace: -w: '%s' is not HOST:PORT (a host name or address and a "
			"port from 1 to 65535)%s%s\n", server, rc != CURLUE_OK ? ": " : "",
			rc != CURLUE_OK ? curl_url_strerror(rc) : "");
	curl_free(port);
	free(url);
	curl_url_cleanup(u);
	return r;
}

/* -u: a path (or the GET query key) on --server, or an absolute http(s) URL. */
static int check_url(const char *s)
{
	CURLU *u;
	char *scheme = NULL;
	CURLUcode rc;
	int r = -EINVAL;

	if (!strstr(s, "://"))
		return 0;
	u = curl_url();
	if (!u)
		return -ENOMEM;
	rc = curl_url_set(u, CURLUPART_URL, s, CURLU_NON_SUPPORT_SCHEME);
	if (rc == CURLUE_OK && curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    (!strcmp(scheme, "http") || !strcmp(scheme, "https")))
		r = 0;
	if (r < 0)
		fprintf(stderr, "domtrace: -u: '%s' is not an http:// or https:// URL%s%s\n", s,
			rc != CURLUE_OK ? ": " : "", rc != CURLUE_OK ? curl_url_strerror(rc) : "");
	curl_free(scheme);
	curl_url_cleanup(u);
	return r;
}

static int add_extra(struct dt_options *o, const char *directive, const char *arg)
{
	char *line;

	if (o->nextra == DT_OPT_MAX_LIST) {
		fprintf(stderr, "domtrace: too many -s/-f options\n");
		return -EINVAL;
	}
	if (asprintf(&line, "%s %s", directive, arg) < 0)
		return -ENOMEM;
	o->extra_lines[o->nextra++] = line;
	return 0;
}

static void defaults(struct dt_options *o)
{
	memset(o, 0, sizeof(*o));
	o->a3_server = DT_A3_SERVER_DEFAULT;
	o->a3_batch = DT_A3_BATCH_MAX_DEFAULT;
	o->a3_delay_ms = DT_A3_DELAY_MS_DEFAULT;
	o->returns = true;
	o->queue_bytes = 64u << 20;
	o->flush_ms = 5000;
	o->a3_backlog_bytes = 64u << 20;
	o->sim_vcpus = 2;
	o->sim_rate = 200;
	o->sim_seed = 1;
	o->sim_dir = NULL;
	o->syslog_facility = 3; /* daemon */
}

/* --metrics HOST:PORT ([v6]:PORT); port 0 lets the kernel pick. */
static int check_listen(const char *s)
{
	const char *colon = strrchr(s, ':');
	char *end;
	unsigned long v;

	if (!colon || colon == s || !colon[1] || colon[1] < '0' || colon[1] > '9')
		goto bad;
	errno = 0;
	v = strtoul(colon + 1, &end, 10);
	if (*end || errno || v > 65535)
		goto bad;
	if (s[0] == '[' ? colon[-1] != ']' : memchr(s, ':', (size_t)(colon - s)) != NULL)
		goto bad;
	return 0;
bad:
	fprintf(stderr, "domtrace: --metrics: '%s' is not ADDR:PORT (an address or host name, "
		"[v6 address], and a port from 0 to 65535)\n", s);
	return -EINVAL;
}

static int check_tag(const char *s)
{
	size_t i, n = strlen(s);

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 33 || (unsigned char)s[i] > 126)
			break;
	if (n && n <= DT_SYSLOG_TAG_MAX && i == n)
		return 0;
	fprintf(stderr, "domtrace: --syslog-tag: '%s' is not 1 to %d printable ASCII characters "
		"without spaces\n", s, DT_SYSLOG_TAG_MAX);
	return -EINVAL;
}

int dt_options_parse(struct dt_options *o, int argc, char **argv)
{
	unsigned long v;
	int c, r;

	defaults(o);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:aw:u:dxm:s:f:R:rLqth", long_opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'a':
			o->a3 = true;
			break;
		case 'w':
			if (check_server(optarg) < 0)
				return -EINVAL;
			o->a3_server = optarg;
			break;
		case 'u':
			if (check_url(optarg) < 0)
				return -EINVAL;
			o->a3_url = optarg;
			break;
		case 'd':
			o->debug++;
			break;
		case 'x':
			o->hv_debug++;
			break;
		case 'm':
			o->sysmap = optarg;
			break;
		case 's':
			fprintf(stderr, "domtrace: warning: -s is deprecated; use 'Functions %s' in the config\n",
				optarg);
			if ((r = add_extra(o, "Functions", optarg)) < 0)
				return r;
			break;
		case 'f':
			fprintf(stderr, "domtrace: warning: -f is deprecated; use 'Filter %s' in the config\n",
				optarg);
			if ((r = add_extra(o, "Filter", optarg)) < 0)
				return r;
			break;
		case 'R':
			o->report_file = optarg;
			break;
		case 'r':
			o->real_parent = true;
			break;
		case 'L':
			/* the ancestor's "log every hit": every traced call is logged already */
			o->quiet = false;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 't':
			o->check_config = true;
			break;
		case 'h':
			dt_options_usage(stdout);
			return 1;
		case OPT_VERSION:
			printf("domtrace %s\n", DT_VERSION);
			return 1;
		case OPT_SIM:
			if (parse_range("--sim", optarg, 1, DT_OPT_SIM_MAX_VMS, &v) < 0)
				return -EINVAL;
			o->sim_vms = (unsigned)v;
			o->backend = DT_BACKEND_SIM;
			break;
		case OPT_DURATION: {
			char *end;

			o->duration = strtod(optarg, &end);
			if (end == optarg || *end || !(o->duration > 0)) {
				fprintf(stderr, "domtrace: --duration: '%s' is not a positive number of seconds\n",
					optarg);
				return -EINVAL;
			}
			break;
		}
		case OPT_FLUSH_TIMEOUT: {
			char *end;
			double sec = strtod(optarg, &end);

			if (end == optarg || *end || !(sec >= 0 && sec <= 3600)) {
				fprintf(stderr, "domtrace: --flush-timeout: '%s' is not a number of "
					"seconds from 0 to 3600\n", optarg);
				return -EINVAL;
			}
			o->flush_ms = (unsigned)(sec * 1000.0);
			break;
		}
		case OPT_JSON:
			o->format = DT_FORMAT_JSON;
			break;
		case OPT_FORMAT:
			if (!strcmp(optarg, "text"))
				o->format = DT_FORMAT_TEXT;
			else if (!strcmp(optarg, "json"))
				o->format = DT_FORMAT_JSON;
			else if (!strcmp(optarg, "none"))
				o->format = DT_FORMAT_NONE;
			else
				goto bad_value;
			break;
		case OPT_LOG:
			o->log_file = optarg;
			break;
		case OPT_BACKEND:
			if (!strcmp(optarg, "xen"))
				o->backend = DT_BACKEND_XEN;
			else if (!strcmp(optarg, "sim"))
				o->backend = DT_BACKEND_SIM;
			else
				goto bad_value;
			break;
		case OPT_TRAP:
			if (!strcmp(optarg, "int3"))
				o->trap = DT_TRAP_INT3;
			else if (!strcmp(optarg, "sgdt"))
				o->trap = DT_TRAP_SGDT;
			else
				goto bad_value;
			break;
		case OPT_NO_RETURNS:
			o->returns = false;
			break;
		case OPT_NO_GUARDIAN:
			o->no_guardian = true;
			break;
		case OPT_SGDT_RETURNS:
			o->sgdt_returns = true;
			break;
		case OPT_LOSSLESS:
			o->lossless = true;
			break;
		case OPT_QUEUE_BYTES:
			if (parse_range("--queue-bytes", optarg, 65536, 1ul << 40, &v) < 0)
				return -EINVAL;
			o->queue_bytes = v;
			break;
		case OPT_A3_BACKLOG:
			if (parse_range("--a3-backlog-bytes", optarg, 65536, 1ul << 40, &v) < 0)
				return -EINVAL;
			o->a3_backlog_bytes = v;
			break;
		case OPT_STATS:
			if (parse_uint("--stats", optarg, 86400, &v) < 0)
				return -EINVAL;
			o->stats_interval = (unsigned)v;
			break;
		case OPT_A3_BODY:
			if (!strcmp(optarg, "lines"))
				o->a3_body = DT_A3_LINES;
			else if (!strcmp(optarg, "json"))
				o->a3_body = DT_A3_JSON;
			else if (!strcmp(optarg, "get"))
				o->a3_body = DT_A3_GET;
			else
				goto bad_value;
			break;
		case OPT_CA:
			o->a3_ca = optarg;
			break;
		case OPT_BATCH:
			if (parse_range("--batch", optarg, 1, 65536, &v) < 0)
				return -EINVAL;
			o->a3_batch = (unsigned)v;
			break;
		case OPT_BATCH_DELAY:
			if (parse_uint("--batch-delay", optarg, 60000, &v) < 0)
				return -EINVAL;
			o->a3_delay_ms = (unsigned)v;
			break;
		case OPT_SIM_VCPUS:
			if (parse_range("--sim-vcpus", optarg, 1, DT_OPT_SIM_MAX_VCPUS, &v) < 0)
				return -EINVAL;
			o->sim_vcpus = (unsigned)v;
			break;
		case OPT_SIM_RATE:
			if (parse_uint("--sim-rate", optarg, 10000000, &v) < 0)
				return -EINVAL;
			o->sim_rate = (unsigned)v;
			break;
		case OPT_SIM_SEED:
			if (parse_uint("--sim-seed", optarg, 0xffffffffu, &v) < 0)
				return -EINVAL;
			o->sim_seed = (unsigned)v;
			break;
		case OPT_SIM_SCENARIO:
			o->sim_scenario = optarg;
			o->backend = DT_BACKEND_SIM;
			break;
		case OPT_MAP_DIR:
			o->sysmap_dir = optarg;
			break;
		case OPT_SIM_DIR:
			o->sim_dir = optarg;
			break;
		case OPT_METRICS:
			if (check_listen(optarg) < 0)
				return -EINVAL;
			o->metrics = optarg;
			break;
		case OPT_SYSLOG: {
			char host[256], port[16];
			bool tcp;

			if (dt_syslog_target(optarg, &tcp, host, sizeof(host), port, sizeof(port)) < 0) {
				fprintf(stderr, "domtrace: --syslog: '%s' is not unix:PATH or "
					"tcp:HOST:PORT\n", optarg);
				return -EINVAL;
			}
			o->syslog = optarg;
			break;
		}
		case OPT_SYSLOG_FACILITY:
			r = dt_syslog_facility(optarg);
			if (r < 0) {
				fprintf(stderr, "domtrace: --syslog-facility: '%s' is not a facility "
					"(kern, user, mail, daemon, auth, syslog, lpr, news, uucp, cron, "
					"authpriv, ftp, ntp, security, console, local0-local7, or 0-23)\n",
					optarg);
				return -EINVAL;
			}
			o->syslog_facility = (unsigned)r;
			break;
		case OPT_SYSLOG_TAG:
			if (check_tag(optarg) < 0)
				return -EINVAL;
			o->syslog_tag = optarg;
			break;
		case OPT_SYSLOG_FORMAT:
			if (!strcmp(optarg, "seed"))
				o->syslog_json = false;
			else if (!strcmp(optarg, "json"))
				o->syslog_json = true;
			else
				goto bad_value;
			break;
		case ':':
			fprintf(stderr, "domtrace: option %s needs a value\n", argv[optind - 1]);
			goto usage_hint;
		default:
			fprintf(stderr, "domtrace: unknown option %s\n", argv[optind - 1]);
			goto usage_hint;
		}
	}
	for (; optind < argc; optind++) {
		if (o->nvms == DT_OPT_MAX_LIST) {
			fprintf(stderr, "domtrace: too many VM names\n");
			return -EINVAL;
		}
		o->vms[o->nvms++] = argv[optind];
	}
	if (o->check_config && !o->config) {
		fprintf(stderr, "domtrace: --check-config needs -c FILE\n");
		return -EINVAL;
	}
	if (o->backend == DT_BACKEND_SIM && o->sim_vms == 0 && !o->sim_scenario)
		o->sim_vms = 2;
	return 0;

bad_value:
	fprintf(stderr, "domtrace: %s: unknown value '%s'\n", argv[optind - 1], optarg);
usage_hint:
	fprintf(stderr, "Try 'domtrace --help'.\n");
	return -EINVAL;
}

void dt_options_free(struct dt_options *o)
{
	size_t i;

	for (i = 0; i < o->nextra; i++)
		free((char *)o->extra_lines[i]);
	o->nextra = 0;
}
