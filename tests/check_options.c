// SPDX-License-Identifier: GPL-2.0-only
/* The command line: the seed's flags keep their meaning; errors are refused. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "domtrace/report.h"
#include "domtrace/options.h"

static int parse(struct dt_options *o, const char *const *args)
{
	char *argv[64];
	int argc = 0;

	argv[argc++] = (char *)"domtrace";
	while (*args)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	return dt_options_parse(o, argc, argv);
}

START_TEST(seed_flags)
{
	struct dt_options o;
	const char *args[] = { "-c", "a.conf", "-a", "-w", "10.0.0.1:8989", "-u", "/ev?x=1", "-d", "-d",
			       "-x", "-m", "/boot/System.map", "-R", "rep.txt", "-r", "web-*", "db1", NULL };

	ck_assert_int_eq(parse(&o, args), 0);
	ck_assert_str_eq(o.config, "a.conf");
	ck_assert(o.a3);
	ck_assert_str_eq(o.a3_server, "10.0.0.1:8989");
	ck_assert_str_eq(o.a3_url, "/ev?x=1");
	ck_assert_int_eq(o.debug, 2);
	ck_assert_int_eq(o.hv_debug, 1);
	ck_assert_str_eq(o.sysmap, "/boot/System.map");
	ck_assert_str_eq(o.report_file, "rep.txt");
	ck_assert(o.real_parent);
	ck_assert_uint_eq(o.nvms, 2);
	ck_assert_str_eq(o.vms[0], "web-*");
	ck_assert_int_eq(o.backend, DT_BACKEND_XEN);
	ck_assert(o.returns);
	dt_options_free(&o);
}
END_TEST

START_TEST(deprecated_s_f_become_config_lines)
{
	struct dt_options o;
	const char *args[] = { "-s", "sys_execve,sys_open", "-f", "function=sys_execve,name=sh", NULL };

	ck_assert_int_eq(parse(&o, args), 0);
	ck_assert_uint_eq(o.nextra, 2);
	ck_assert_str_eq(o.extra_lines[0], "Functions sys_execve,sys_open");
	ck_assert_str_eq(o.extra_lines[1], "Filter function=sys_execve,name=sh");
	dt_options_free(&o);
}
END_TEST

START_TEST(sim_and_long_options)
{
	struct dt_options o;
	const char *args[] = { "--sim", "8", "--duration", "2.5", "--json", "--trap", "sgdt",
			       "--no-returns", "--lossless", "--queue-bytes", "1048576", NULL };

	ck_assert_int_eq(parse(&o, args), 0);
	ck_assert_int_eq(o.backend, DT_BACKEND_SIM);
	ck_assert_uint_eq(o.sim_vms, 8);
	ck_assert(o.duration > 2.4 && o.duration < 2.6);
	ck_assert_int_eq(o.format, DT_FORMAT_JSON);
	ck_assert_int_eq(o.trap, DT_TRAP_SGDT);
	ck_assert(!o.returns);
	ck_assert(o.lossless);
	ck_assert_uint_eq(o.queue_bytes, 1048576);
}
END_TEST

START_TEST(errors_refused)
{
	struct dt_options o;
	const char *bad1[] = { "--sim", "0", NULL };
	const char *bad2[] = { "--duration", "soon", NULL };
	const char *bad3[] = { "--format", "xml", NULL };
	const char *bad4[] = { "-c", NULL };
	const char *bad5[] = { "--frobnicate", NULL };
	const char *bad6[] = { "-t", NULL };
	const char *help[] = { "--help", NULL };

	ck_assert_int_eq(parse(&o, bad1), -EINVAL);
	ck_assert_int_eq(parse(&o, bad2), -EINVAL);
	ck_assert_int_eq(parse(&o, bad3), -EINVAL);
	ck_assert_int_eq(parse(&o, bad4), -EINVAL);
	ck_assert_int_eq(parse(&o, bad5), -EINVAL);
	ck_assert_int_eq(parse(&o, bad6), -EINVAL);
	ck_assert_int_eq(parse(&o, help), 1);
}
END_TEST

/* --metrics and the syslog options: off by default, values checked at parse time. */
START_TEST(metrics_and_syslog_options)
{
	struct dt_options o;
	const char *none[] = { NULL };
	const char *args[] = { "--metrics", "127.0.0.1:9464", "--syslog", "tcp:[::1]:6514",
			       "--syslog-facility", "local3", "--syslog-tag", "dt-a",
			       "--syslog-format", "json", NULL };
	const char *v6[] = { "--metrics", "[::1]:0", "--syslog", "unix:/dev/log", NULL };
	static const char *const bad[][3] = {
		{ "--metrics", "9464" },	  { "--metrics", "127.0.0.1:65536" },
		{ "--metrics", "::1:9464" },	  { "--metrics", "127.0.0.1:" },
		{ "--syslog", "udp:1.2.3.4:514" }, { "--syslog", "tcp:1.2.3.4" },
		{ "--syslog", "/dev/log" },	  { "--syslog-facility", "local9" },
		{ "--syslog-tag", "two words" },   { "--syslog-tag", "" },
		{ "--syslog-format", "xml" },
	};

	ck_assert_int_eq(parse(&o, none), 0);
	ck_assert_ptr_null(o.metrics);
	ck_assert_ptr_null(o.syslog);
	ck_assert_uint_eq(o.syslog_facility, 3);
	ck_assert(!o.syslog_json);
	ck_assert_int_eq(parse(&o, args), 0);
	ck_assert_str_eq(o.metrics, "127.0.0.1:9464");
	ck_assert_str_eq(o.syslog, "tcp:[::1]:6514");
	ck_assert_uint_eq(o.syslog_facility, 19);
	ck_assert_str_eq(o.syslog_tag, "dt-a");
	ck_assert(o.syslog_json);
	ck_assert_int_eq(parse(&o, v6), 0);
	ck_assert_str_eq(o.metrics, "[::1]:0");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *a[] = { bad[i][0], bad[i][1], NULL };

		ck_assert_msg(parse(&o, a) == -EINVAL, "%s %s accepted", a[0], a[1]);
	}
}
END_TEST

/* --help states the defaults that are in force: the daemon's options start from the
 * reporter's own, and the text names those values and the URL path POSTs go to. */
START_TEST(help_tells_the_real_defaults)
{
	struct dt_report_opts ro;
	struct dt_options o;
	const char *none[] = { NULL };
	char *help = NULL, want[96];
	size_t len = 0;
	FILE *f;

	dt_report_opts_init(&ro);
	ck_assert_int_eq(parse(&o, none), 0);
	ck_assert_uint_eq(o.a3_batch, ro.a3_batch_max);
	ck_assert_uint_eq(o.a3_delay_ms, ro.a3_delay_ms);
	ck_assert_ptr_null(o.a3_url); /* the sink picks the default path by body */
	f = open_memstream(&help, &len);
	ck_assert_ptr_nonnull(f);
	dt_options_usage(f);
	ck_assert_int_eq(fclose(f), 0);
	snprintf(want, sizeof(want), "events per A3 request, 1-65536 (default %u)", ro.a3_batch_max);
	ck_assert_msg(strstr(help, want), "%s", want);
	snprintf(want, sizeof(want), "partial batch is sent (default %u)", ro.a3_delay_ms);
	ck_assert_msg(strstr(help, want), "%s", want);
	snprintf(want, sizeof(want), "(default %s)", o.a3_server);
	ck_assert_msg(strstr(help, want), "%s", want);
	/* POSTs go to /events (the sink's default, the same macro); the ancestor's query
	 * key is the default only of the GET body */
	ck_assert(strstr(help, "on --server (default " DT_A3_POST_PATH_DEFAULT ";"));
	ck_assert(strstr(help, "(default /events;"));
	ck_assert(strstr(help, "--a3-body get the ancestor's query key"));
	ck_assert(strstr(help, DT_A3_QUERYKEY_DEFAULT ")"));
	free(help);
	dt_options_free(&o);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("options");
	TCase *tc = tcase_create("parse");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, seed_flags);
	tcase_add_test(tc, deprecated_s_f_become_config_lines);
	tcase_add_test(tc, sim_and_long_options);
	tcase_add_test(tc, errors_refused);
	tcase_add_test(tc, metrics_and_syslog_options);
	tcase_add_test(tc, help_tells_the_real_defaults);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
