// SPDX-License-Identifier: GPL-2.0-only
/*
 * --metrics: the Prometheus text rendering (label values escaped, HELP and TYPE before
 * each family, histogram buckets cumulative with +Inf equal to _count), and the endpoint
 * of a daemon on the simulated host: its numbers equal the daemon's own counts once the
 * traffic stops; other paths and methods are refused.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "domtrace/lathist.h"
#include "metrics.h"
#include "promtext.h"
#include "support/harness.h"

static char *render(void (*fn)(struct dt_prom *p))
{
	struct dt_prom p;
	size_t len;
	char *text;

	ck_assert_int_eq(dt_prom_open(&p), 0);
	fn(&p);
	text = dt_prom_close(&p, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(strlen(text), len);
	return text;
}

static void write_labels(struct dt_prom *p)
{
	const char *l[] = { "vm", "a\"b\\c\nd\x01\x7f" "e\xff\xc3\xa9\xe2\x82\xac\xc0\xaf"
				  "\xed\xa0\x80", "domid", "3", NULL };
	const char *none[] = { NULL };

	dt_prom_family(p, "domtrace_traps_total", "counter", "Traps taken.");
	dt_prom_u64(p, NULL, l, 18446744073709551615ull);
	dt_prom_u64(p, NULL, none, 0);
	dt_prom_u64(p, NULL, NULL, 7);
	dt_prom_family(p, "domtrace_x", "gauge", "X.");
	dt_prom_double(p, "_sum", l + 4 - 4 + 2, 0.5); /* domid only */
}

START_TEST(test_text_and_escaping)
{
	char *text = render(write_labels);

	/* \ " and newline escaped; control bytes, invalid UTF-8 (a stray 0xff, an overlong
	 * 0xc0 0xaf, a surrogate 0xed 0xa0 0x80) become '?'; é and € pass */
	ck_assert_str_eq(text,
			 "# HELP domtrace_traps_total Traps taken.\n"
			 "# TYPE domtrace_traps_total counter\n"
			 "domtrace_traps_total{vm=\"a\\\"b\\\\c\\nd??e?\xc3\xa9\xe2\x82\xac?\?\?\?\?\",domid=\"3\"} 18446744073709551615\n"
			 "domtrace_traps_total 0\n"
			 "domtrace_traps_total 7\n"
			 "# HELP domtrace_x X.\n"
			 "# TYPE domtrace_x gauge\n"
			 "domtrace_x_sum{domid=\"3\"} 0.5\n");
	free(text);
}
END_TEST

static struct dt_lathist hist;

static void write_hist(struct dt_prom *p)
{
	const char *l[] = { "vm", "u1", NULL };

	dt_prom_family(p, "domtrace_trap_handling_seconds", "histogram", "Handling.");
	dt_prom_lathist(p, l, &hist);
}

#define BUCKET "domtrace_trap_handling_seconds_bucket{vm=\"u1\",le=\""
#define COUNT "domtrace_trap_handling_seconds_count{vm=\"u1\"} "
#define SUM "domtrace_trap_handling_seconds_sum{vm=\"u1\"} "

START_TEST(test_histogram)
{
	static const uint64_t ns[] = { 3, 500, 1023, 1024, 1500, 3000, 3000, 1ull << 29,
				       (1ull << 30) + 5, 5000000000ull };
	uint64_t sum = 0, prev = 0, v;
	char *text, *line, *save = NULL, le[32];
	unsigned k = 10, buckets = 0;
	size_t i;

	memset(&hist, 0, sizeof(hist));
	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		dt_lat_add(&hist, ns[i]);
		sum += ns[i];
	}
	text = render(write_hist);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			continue;
		if (!strncmp(line, BUCKET, strlen(BUCKET))) {
			char *q = strchr(line + strlen(BUCKET), '"');

			ck_assert_ptr_nonnull(q);
			v = strtoull(q + 3, NULL, 10);
			ck_assert_uint_ge(v, prev); /* cumulative */
			prev = v;
			if (!strncmp(line + strlen(BUCKET), "+Inf\"", 5)) {
				ck_assert_uint_eq(v, 10); /* +Inf = every observation */
				continue;
			}
			/* le = 2^k ns, in seconds; counts what is below it */
			snprintf(le, sizeof(le), "%.9g\"", (double)(1ull << k) / 1e9);
			ck_assert_msg(!strncmp(line + strlen(BUCKET), le, strlen(le)), "%s: want le %s", line, le);
			{
				uint64_t want = 0;

				for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
					want += ns[i] < (1ull << k);
				ck_assert_msg(v == want, "%s: want %llu", line, (unsigned long long)want);
			}
			k++;
			buckets++;
		} else if (!strncmp(line, COUNT, strlen(COUNT))) {
			ck_assert_uint_eq(strtoull(line + strlen(COUNT), NULL, 10), 10);
		} else if (!strncmp(line, SUM, strlen(SUM))) {
			ck_assert_double_eq_tol(strtod(line + strlen(SUM), NULL), (double)sum / 1e9, 1e-6);
		} else {
			ck_abort_msg("unexpected line %s", line);
		}
	}
	ck_assert_uint_eq(buckets, 21); /* 2^10 .. 2^30 ns */
	ck_assert_uint_eq(k, 31);
	free(text);
}
END_TEST

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
	FILE *f = arg;

	return fwrite(p, size, n, f);
}

/* GET (or another method) on the endpoint: the status; the body in *ret_body. */
static long http(uint16_t port, const char *path, const char *method, char **ret_body)
{
	CURL *c = curl_easy_init();
	char url[128], *body = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&body, &len);
	long status = 0;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	if (method)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	fclose(f);
	if (ret_body)
		*ret_body = body;
	else
		free(body);
	return status;
}

/* The value of the sample line that starts with `prefix` (-1 if absent). */
static long long sample(const char *text, const char *prefix)
{
	const char *at = text;
	size_t n = strlen(prefix);

	while ((at = strstr(at, prefix))) {
		if ((at == text || at[-1] == '\n') && at[n] == ' ')
			return strtoll(at + n + 1, NULL, 10);
		at += n;
	}
	return -1;
}

START_TEST(test_endpoint_on_sim)
{
	static const char scn[] = "proc 700 comm=cat\n"
				  "700 await go\n"
				  "700 call openat AT_FDCWD \"/etc/hosts\" O_RDONLY 0\n"
				  "700 call openat AT_FDCWD \"/etc/shadow\" O_RDONLY 0\n"
				  "700 call openat AT_FDCWD \"/etc/passwd\" O_RDONLY 0\n"
				  "700 call openat AT_FDCWD \"/etc/shadow\" O_RDONLY 0\n";
	struct dt_trap_totals t;
	struct dt_harness h;
	char *body = NULL, prefix[160], *line;
	uint16_t port;
	long long v;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	dt_harness_init(&h, 1);
	h.o.metrics = "127.0.0.1:0";
	dt_harness_start(&h, "Functions openat\nFilter function=openat, argname=filename, "
			     "argval=^/etc/shadow$\n", scn);
	ck_assert(dt_harness_wait_attached(&h, 1, 30000));
	ck_assert_ptr_nonnull(h.d->metrics);
	port = dt_metrics_port(h.d->metrics);
	ck_assert_uint_gt(port, 0);
	ck_assert_int_eq(dt_sim_gate_open(h.host, "go"), 0);
	ck_assert_int_eq(dt_sim_scenario_wait(h.host, 30000), 0);
	/* the second match's line is the last event: then every count is final */
	for (int tries = 0; tries < 300; tries++) {
		if (dt_harness_count_lines(&h, "\"type\":\"match\"", "\"pid\":700", NULL) == 2)
			break;
		line = dt_harness_wait_line(&h, 100, "no such line", NULL); /* a bounded wait */
		free(line);
	}
	ck_assert_uint_eq(dt_harness_count_lines(&h, "\"type\":\"match\"", "\"pid\":700", NULL), 2);

	ck_assert_int_eq(http(port, "/metrics", NULL, &body), 200);
	dt_daemon_totals(h.d, &t);
	snprintf(prefix, sizeof(prefix), "domtrace_calls_total{vm=\"%s\",domid=\"%u\"}",
		 "sim-vm0", h.domids[0]);
	v = sample(body, prefix);
	ck_assert_msg(v == (long long)t.calls && v >= 4, "%s %lld, totals %llu\n%s", prefix, v,
		      (unsigned long long)t.calls, body);
	snprintf(prefix, sizeof(prefix), "domtrace_matches_total{vm=\"%s\",domid=\"%u\"}",
		 "sim-vm0", h.domids[0]);
	ck_assert_int_eq(sample(body, prefix), 2);
	snprintf(prefix, sizeof(prefix), "domtrace_events_total{vm=\"%s\",domid=\"%u\",type=\"match\"}",
		 "sim-vm0", h.domids[0]);
	ck_assert_int_eq(sample(body, prefix), 2);
	snprintf(prefix, sizeof(prefix), "domtrace_vm_state{vm=\"%s\",domid=\"%u\",state=\"running\"}",
		 "sim-vm0", h.domids[0]);
	ck_assert_int_eq(sample(body, prefix), 1);
	snprintf(prefix, sizeof(prefix), "domtrace_probes_armed{vm=\"%s\",domid=\"%u\"}",
		 "sim-vm0", h.domids[0]);
	ck_assert_int_gt(sample(body, prefix), 0);
	ck_assert_int_ge(sample(body, "domtrace_sink_delivered_events_total{sink=\"log\"}"), 6);
	ck_assert_int_eq(sample(body, "domtrace_vms_attached_total"), 1);
	/* every family: HELP then TYPE, then its samples only */
	{
		char *save = NULL, *l, fam[128] = "";

		for (l = strtok_r(body, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			if (!strncmp(l, "# HELP ", 7)) {
				sscanf(l + 7, "%127s", fam);
				l = strtok_r(NULL, "\n", &save);
				ck_assert_ptr_nonnull(l);
				ck_assert_msg(!strncmp(l, "# TYPE ", 7) &&
					      !strncmp(l + 7, fam, strlen(fam)), "%s", l);
				continue;
			}
			ck_assert_msg(fam[0] && !strncmp(l, fam, strlen(fam)), "%s outside %s", l, fam);
		}
	}
	free(body);
	ck_assert_int_eq(http(port, "/other", NULL, NULL), 404);
	ck_assert_int_eq(http(port, "/metrics", "POST", NULL), 405);
	ck_assert_int_eq(http(port, "/", NULL, NULL), 200);
	dt_harness_finish(&h);
	dt_harness_free(&h);
	curl_global_cleanup();
}
END_TEST

static Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("text");

	tcase_add_test(tc, test_text_and_escaping);
	tcase_add_test(tc, test_histogram);
	suite_add_tcase(s, tc);
	tc = tcase_create("endpoint");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_endpoint_on_sim);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(metrics_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
