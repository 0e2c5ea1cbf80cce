// SPDX-License-Identifier: GPL-2.0-only
/* filters/chain_rcu.c: readers matching at full rate inside RCU read-side sections while
 * the main thread publishes new chains thousands of times (run it under TSan and ASan),
 * and a broken configuration leaving the published chain untouched. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <urcu.h>

#include "domtrace/catalog.h"
#include "domtrace/config.h"
#include "domtrace/filter.h"

#define READERS 3
#define PUBLISHES 3000

static struct dt_chain_slot slot;
static int stop;

struct reader_stats {
	pthread_t th;
	const char *vm;
	unsigned long matched, mismatched, empty;
};

/* Chain k: k decoys, then the filter the event matches, so a consistent read of one
 * chain always yields filter == chain length. */
static struct dt_chain *make_chain(unsigned k)
{
	char text[2048];
	size_t used = 0;
	struct dt_config *cfg = NULL;
	struct dt_chain *c = NULL;
	unsigned i;

	used += (size_t)snprintf(text + used, sizeof(text) - used, "Ignore test-*\n");
	for (i = 0; i < k; i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used,
					 "Filter function=sys_execve,argname=*,argval=decoy%u\n", i);
	used += (size_t)snprintf(text + used, sizeof(text) - used,
				 "Domain web-*, db-*\nFilter uid=1000,argname=*,argval=/nc$\n");
	ck_assert_int_eq(dt_config_parse_string("gen", text, used, &cfg, NULL), 0);
	ck_assert_int_eq(dt_chain_new(cfg, &c), 0);
	return c;
}

static void *reader_main(void *arg)
{
	struct reader_stats *st = arg;
	struct dt_chain_reader *rd = NULL;
	struct dt_event *ev = NULL;
	int ids[8];

	rcu_register_thread();
	if (dt_chain_reader_new(st->vm, &rd) < 0 || dt_event_new(DT_EV_CALL, 1024, &ev) < 0 ||
	    dt_catalog_resolve("execve", ids, 8) < 1)
		goto out;
	ev->when = DT_WHEN_PRE;
	ev->func_id = ids[0];
	ev->nargs = 1;
	ev->args[0].name = dt_catalog_get(ids[0])->args[0].name;
	ev->args[0].value = "/usr/bin/nc";
	ev->proc.uid = 1000;
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		struct dt_match m;
		struct dt_chain *c;

		dt_chain_read_lock();
		c = dt_chain_current(&slot);
		if (!c) {
			st->empty++;
		} else if (dt_chain_match(c, rd, ev, NULL, &m) == 1 &&
			   m.filter == dt_chain_length(c) &&
			   dt_config_vm_monitored(dt_chain_config(c), st->vm)) {
			st->matched++;
		} else {
			st->mismatched++;
		}
		dt_chain_read_unlock();
	}
out:
	dt_chain_reader_free(rd);
	dt_event_free(ev);
	rcu_unregister_thread();
	return NULL;
}

START_TEST(publish_under_readers)
{
	struct reader_stats st[READERS] = {
		{ .vm = "web-1" }, { .vm = "db-2" }, { .vm = "web-3" },
	};
	unsigned long total = 0;
	unsigned i;

	dt_chain_publish(&slot, make_chain(0));
	for (i = 0; i < READERS; i++)
		ck_assert_int_eq(pthread_create(&st[i].th, NULL, reader_main, &st[i]), 0);
	for (i = 1; i <= PUBLISHES; i++)
		dt_chain_publish(&slot, make_chain(i % 9));
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < READERS; i++) {
		ck_assert_int_eq(pthread_join(st[i].th, NULL), 0);
		ck_assert_uint_eq(st[i].mismatched, 0);
		ck_assert_uint_eq(st[i].empty, 0);
		total += st[i].matched;
	}
	ck_assert_uint_gt(total, 0);
	dt_chain_slot_clear(&slot);
	ck_assert_ptr_null(slot.chain);
}
END_TEST

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(broken_config_keeps_chain)
{
	char path[] = "/tmp/dtchainXXXXXX";
	struct dt_config_diags d = { 0 };
	struct dt_chain *before, *now;
	uint64_t gen;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	close(fd);
	rcu_register_thread();
	write_file(path, "Filter function=sys_execve\nFilter uid=0\n");
	ck_assert_int_eq(dt_chain_load_file(&slot, path, &d), 0);
	ck_assert_uint_eq(d.n, 0);
	dt_chain_read_lock();
	before = dt_chain_current(&slot);
	gen = dt_chain_generation(before);
	ck_assert_uint_eq(dt_chain_length(before), 2);
	dt_chain_read_unlock();

	write_file(path, "Filter function=sys_execve\nFilter uid=zero\nFilter bogus=1\n");
	ck_assert_int_eq(dt_chain_load_file(&slot, path, &d), -EINVAL);
	ck_assert_uint_eq(d.nerrors, 2);
	dt_config_diags_clear(&d);
	unlink(path);
	ck_assert_int_eq(dt_chain_load_file(&slot, path, &d), -ENOENT);
	ck_assert_uint_eq(d.nerrors, 1);
	dt_config_diags_clear(&d);

	dt_chain_read_lock();
	now = dt_chain_current(&slot);
	ck_assert_ptr_eq(now, before);
	ck_assert_uint_eq(dt_chain_generation(now), gen);
	ck_assert_uint_eq(dt_chain_length(now), 2);
	dt_chain_read_unlock();

	write_file(path, "Filter uid=0\n");
	ck_assert_int_eq(dt_chain_load_file(&slot, path, &d), 0);
	dt_chain_read_lock();
	ck_assert_uint_gt(dt_chain_generation(dt_chain_current(&slot)), gen);
	ck_assert_uint_eq(dt_chain_length(dt_chain_current(&slot)), 1);
	dt_chain_read_unlock();
	dt_chain_slot_clear(&slot);
	unlink(path);
	rcu_unregister_thread();
}
END_TEST

static Suite *chain_rcu_suite(void)
{
	Suite *s = suite_create("chain_rcu");
	TCase *tc = tcase_create("rcu");

	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, publish_under_readers);
	tcase_add_test(tc, broken_config_keeps_chain);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(chain_rcu_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
