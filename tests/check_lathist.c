// SPDX-License-Identifier: GPL-2.0-only
/*
 * check_lathist.c - model/include/domtrace/lathist.h: every value in its bucket, buckets within
 * 20%, quantiles from the floors, concurrent adds all counted.
 */
#include <check.h>
#include <pthread.h>
#include <string.h>

#include "domtrace/lathist.h"
#include "support/check_run.h"

START_TEST(buckets_hold_their_values)
{
	uint64_t ns;
	unsigned i;

	for (ns = 0; ns < (1ULL << 40); ns = ns * 9 / 8 + 1) {
		i = dt_lat_bucket(ns);
		ck_assert_uint_lt(i, DT_LAT_BUCKETS);
		ck_assert_uint_le(dt_lat_floor(i), ns);
		ck_assert_uint_gt(dt_lat_floor(i + 1), ns);
		/* 4 buckets per power of two: a floor is at most 20% under the value */
		ck_assert(ns < 8 || (double)dt_lat_floor(i) >= 0.8 * (double)ns);
	}
	ck_assert_uint_eq(dt_lat_bucket(UINT64_MAX), DT_LAT_BUCKETS - 1);
	ck_assert_uint_eq(dt_lat_floor(DT_LAT_BUCKETS), UINT64_MAX);
}
END_TEST

START_TEST(quantiles_from_the_floors)
{
	struct dt_lathist h, m;
	unsigned i;

	memset(&h, 0, sizeof(h));
	ck_assert_uint_eq(dt_lat_quantile(&h, 0.5), 0);
	for (i = 0; i < 90; i++)
		dt_lat_add(&h, 1000); /* 90 of 1 us */
	for (i = 0; i < 9; i++)
		dt_lat_add(&h, 50000); /* 9 of 50 us */
	dt_lat_add(&h, 1u << 21);      /* 1 of 2.1 ms */
	ck_assert_uint_eq(dt_lat_count(&h), 100);
	ck_assert_uint_eq(h.sum_ns, 90 * 1000 + 9 * 50000 + (1u << 21));
	ck_assert_uint_eq(h.max_ns, 1u << 21);
	ck_assert_uint_eq(dt_lat_quantile(&h, 0.5), dt_lat_floor(dt_lat_bucket(1000)));
	ck_assert_uint_eq(dt_lat_quantile(&h, 0.9), dt_lat_floor(dt_lat_bucket(1000)));
	ck_assert_uint_eq(dt_lat_quantile(&h, 0.99), dt_lat_floor(dt_lat_bucket(50000)));
	ck_assert_uint_eq(dt_lat_quantile(&h, 1.0), 1u << 21); /* a power of two: exact */
	memset(&m, 0, sizeof(m));
	dt_lat_merge(&m, &h);
	dt_lat_merge(&m, &h);
	ck_assert_uint_eq(dt_lat_count(&m), 200);
	ck_assert_uint_eq(m.max_ns, 1u << 21);
}
END_TEST

static struct dt_lathist shared;

static void *adder(void *arg)
{
	uint64_t base = (uint64_t)(uintptr_t)arg;
	unsigned i;

	for (i = 0; i < 100000; i++)
		dt_lat_add(&shared, base + i % 1000);
	return NULL;
}

START_TEST(concurrent_adds_all_counted)
{
	pthread_t t[4];
	unsigned i;

	memset(&shared, 0, sizeof(shared));
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, adder, (void *)(uintptr_t)(i * 10000)), 0);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	ck_assert_uint_eq(dt_lat_count(&shared), 400000);
	ck_assert_uint_eq(shared.max_ns, 30999);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lathist");
	TCase *tc = tcase_create("lathist");

	tcase_add_test(tc, buckets_hold_their_values);
	tcase_add_test(tc, quantiles_from_the_floors);
	tcase_add_test(tc, concurrent_adds_all_counted);
	suite_add_tcase(s, tc);
	return dt_check_run(s);
}
