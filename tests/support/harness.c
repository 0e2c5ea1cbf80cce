// SPDX-License-Identifier: GPL-2.0-only
/* Run domtrace in-process on the simulated host and check the guest-safety laws. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "domtrace/log.h"
#include "support/harness.h"

void dt_harness_init(struct dt_harness *h, unsigned vms)
{
	char *argv[] = { (char *)"domtrace", NULL };

	memset(h, 0, sizeof(*h));
	snprintf(h->dir, sizeof(h->dir), "/tmp/dt-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(h->dir));
	snprintf(h->config_path, sizeof(h->config_path), "%s/test.conf", h->dir);
	snprintf(h->log_path, sizeof(h->log_path), "%s/log.json", h->dir);
	dt_sim_params_default(&h->sp);
	h->sp.n_vms = vms;
	h->sp.vcpus = 2;
	h->sp.workload = false;
	h->sp.sysmap_dir = h->dir;
	ck_assert_int_eq(dt_options_parse(&h->o, 1, argv), 0);
	h->o.backend = DT_BACKEND_SIM;
	h->o.format = DT_FORMAT_JSON;
	h->o.log_file = h->log_path;
	h->o.sysmap_dir = h->dir;
	if (!getenv("DT_TEST_VERBOSE"))
		dt_log_set_level(DT_LOG_WARN);
}

void dt_harness_write_config(struct dt_harness *h, const char *config)
{
	FILE *f = fopen(h->config_path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(config, f);
	ck_assert_int_eq(fclose(f), 0);
	h->o.config = h->config_path;
}

void dt_harness_track_vm(struct dt_harness *h, uint32_t domid)
{
	ck_assert_uint_lt(h->nvms, DT_HARNESS_MAX_VMS);
	h->domids[h->nvms] = domid;
	ck_assert_int_eq(dt_sim_snapshot_take(h->host, domid, &h->snaps[h->nvms]), 0);
	h->nvms++;
}

uint32_t dt_harness_create_vm(struct dt_harness *h, const struct dt_sim_vm_params *vp)
{
	uint32_t domid;

	ck_assert_uint_lt(h->nvms, DT_HARNESS_MAX_VMS);
	ck_assert_int_eq(dt_sim_vm_create_snapshot(h->host, vp, &domid, &h->snaps[h->nvms]), 0);
	ck_assert_ptr_nonnull(h->snaps[h->nvms]);
	h->domids[h->nvms++] = domid;
	return domid;
}

void dt_harness_open(struct dt_harness *h, const char *config)
{
	struct dt_vm_info *vms = NULL;
	size_t n = 0, i;

	if (config)
		dt_harness_write_config(h, config);
	ck_assert_int_eq(dt_hv_sim.open(&h->sp, &h->hv), 0);
	h->host = dt_sim_host_from(h->hv);
	ck_assert_ptr_nonnull(h->host);
	ck_assert_int_eq(dt_hv_sim.list_vms(h->hv, &vms, &n), 0);
	for (i = 0; i < n; i++)
		if (vms[i].traceable)
			dt_harness_track_vm(h, vms[i].domid);
	free(vms);
}

void dt_harness_start(struct dt_harness *h, const char *config, const char *scenario)
{
	dt_harness_open(h, config);
	dt_harness_attach(h, scenario);
}

void dt_harness_attach(struct dt_harness *h, const char *scenario)
{
	char err[256] = "";

	ck_assert_int_eq(dt_daemon_start(&h->o, &dt_hv_sim, h->hv, &h->d), 0);
	/* scripted calls must not run before the breakpoints are in */
	ck_assert_msg(dt_daemon_wait_attached(h->d, h->d->initial_workers, 20000), "VMs not attached");
	if (scenario) {
		int r = dt_sim_scenario_text(h->host, scenario, err, sizeof(err));

		ck_assert_msg(r == 0, "scenario: %s", err);
	}
}

void dt_harness_finish(struct dt_harness *h)
{
	dt_harness_finish_report(h, NULL, NULL);
}

void dt_harness_finish_report(struct dt_harness *h, struct dt_trap_totals *ret_t,
			      struct dt_report_stats *ret_st)
{
	struct dt_sim_crash crash;
	size_t i;

	dt_daemon_stop_report(h->d, ret_t, ret_st, NULL, 0);
	h->d = NULL;
	for (i = 0; i < h->nvms; i++) {
		uint64_t where = 0;
		int r = dt_sim_snapshot_compare(h->host, h->snaps[i], &where);

		if (r != -ENODEV && r != -ENOENT)
			ck_assert_msg(r == 0, "dom%u: kernel byte at 0x%llx differs after detach",
				      h->domids[i], (unsigned long long)where);
		dt_sim_snapshot_free(h->snaps[i]);
		h->snaps[i] = NULL;
	}
	ck_assert_uint_eq(dt_sim_paused_vcpus(h->host, 0), 0);
	ck_assert_msg(dt_sim_crashes(h->host, 0, &crash, 1) == 0, "guest crash: dom%u vcpu %u rip 0x%llx: %s",
		      crash.domid, crash.vcpu, (unsigned long long)crash.rip, crash.reason);
}

void dt_harness_free(struct dt_harness *h)
{
	struct dirent *de;
	DIR *dir;
	size_t i;

	dt_daemon_stop(h->d);
	for (i = 0; i < h->nvms; i++)
		dt_sim_snapshot_free(h->snaps[i]);
	if (h->hv)
		dt_hv_sim.close(h->hv);
	dt_options_free(&h->o);
	dir = opendir(h->dir);
	if (dir) {
		while ((de = readdir(dir)))
			if (de->d_name[0] != '.')
				(void)unlinkat(dirfd(dir), de->d_name, 0);
		closedir(dir);
	}
	(void)rmdir(h->dir);
}

static bool line_has_all(const char *line, va_list ap)
{
	const char *needle;

	while ((needle = va_arg(ap, const char *)))
		if (!strstr(line, needle))
			return false;
	return true;
}

/* Read the whole log (it is small in tests). */
static char *read_log(struct dt_harness *h)
{
	FILE *f = fopen(h->log_path, "r");
	char *buf = NULL;
	size_t cap = 0, len = 0, n;

	if (!f)
		return NULL;
	do {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap + 1);
			ck_assert_ptr_nonnull(buf);
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	buf[len] = '\0';
	return buf;
}

char *dt_harness_wait_line(struct dt_harness *h, int timeout_ms, ...)
{
	struct timespec nap = { 0, 10 * 1000000 };
	int waited = 0;

	for (;;) {
		char *log = read_log(h), *line, *save = NULL;

		for (line = log ? strtok_r(log, "\n", &save) : NULL; line;
		     line = strtok_r(NULL, "\n", &save)) {
			va_list ap;
			bool ok;

			va_start(ap, timeout_ms);
			ok = line_has_all(line, ap);
			va_end(ap);
			if (ok) {
				char *copy = strdup(line);

				free(log);
				return copy;
			}
		}
		free(log);
		if (waited >= timeout_ms)
			return NULL;
		nanosleep(&nap, NULL);
		waited += 10;
	}
}

size_t dt_harness_count_lines(struct dt_harness *h, ...)
{
	char *log = read_log(h), *line, *save = NULL;
	size_t count = 0;

	for (line = log ? strtok_r(log, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		va_list ap;

		va_start(ap, h);
		if (line_has_all(line, ap))
			count++;
		va_end(ap);
	}
	free(log);
	return count;
}

bool dt_harness_wait(bool (*fn)(void *arg), void *arg, int timeout_ms)
{
	struct timespec nap = { 0, 5 * 1000000 };
	int waited;

	for (waited = 0; waited <= timeout_ms; waited += 5) {
		if (fn(arg))
			return true;
		nanosleep(&nap, NULL);
	}
	return false;
}

struct traps_arg {
	struct dt_harness *h;
	uint64_t n;
};

static bool traps_reached(void *arg)
{
	struct traps_arg *a = arg;
	struct dt_trap_totals t;

	dt_daemon_totals(a->h->d, &t);
	return t.traps >= a->n;
}

struct attached_arg {
	struct dt_harness *h;
	uint64_t n;
};

static bool attached_reached(void *arg)
{
	struct attached_arg *a = arg;

	return atomic_load(&a->h->d->stats.attached) + atomic_load(&a->h->d->stats.refused) >= a->n;
}

bool dt_harness_wait_attached(struct dt_harness *h, uint64_t n, int timeout_ms)
{
	struct attached_arg a = { h, n };

	return dt_harness_wait(attached_reached, &a, timeout_ms);
}

static bool all_resumed(void *arg)
{
	struct dt_sim_counters c;

	return dt_sim_counters(arg, 0, &c) == 0 && c.traps == c.resumes;
}

bool dt_harness_wait_resumed(struct dt_harness *h, int timeout_ms)
{
	return dt_harness_wait(all_resumed, h->host, timeout_ms);
}

bool dt_harness_wait_traps(struct dt_harness *h, uint64_t n, int timeout_ms)
{
	struct traps_arg a = { h, n };

	return dt_harness_wait(traps_reached, &a, timeout_ms);
}
