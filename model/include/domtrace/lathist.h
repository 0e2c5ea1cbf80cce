/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lathist.h - a latency histogram of nanoseconds: 4 buckets per power of two, so a
 * percentile read from it is a bucket's floor, at most 20% under the true value. Used for
 * the trap latency the simulated host measures (vCPU stalled, trap to resume) and the time
 * domtrace's workers take to handle a trap (--stats).
 *
 * Threads: dt_lat_add() may be called by several threads at once and read concurrently by
 * dt_lat_merge()/dt_lat_quantile() (relaxed atomics: a reader sees each bucket whole, not
 * every bucket at one instant). Plain copies of a struct are fine when nothing writes it.
 */
#ifndef DOMTRACE_LATHIST_H
#define DOMTRACE_LATHIST_H

#include <stdbool.h>
#include <stdint.h>

#define DT_LAT_BUCKETS 256

struct dt_lathist {
	uint64_t n[DT_LAT_BUCKETS]; /* bucket i: [dt_lat_floor(i), dt_lat_floor(i + 1)) ns */
	uint64_t sum_ns, max_ns;
};

/* 0..7 ns: one bucket a nanosecond (0..7); from 8 ns, bucket 4k + m (k >= 3, m < 4) starts
 * at 2^k + m * 2^(k-2). Buckets 8..11 stay empty. */
static inline uint64_t dt_lat_floor(unsigned i)
{
	unsigned k = i / 4, m = i % 4;

	if (i >= DT_LAT_BUCKETS)
		return UINT64_MAX;
	if (i < 8)
		return i;
	if (k < 3)
		return 8;
	return (1ULL << k) + (uint64_t)m * (1ULL << (k - 2));
}

static inline unsigned dt_lat_bucket(uint64_t ns)
{
	unsigned k;

	if (ns < 8)
		return (unsigned)ns;
	k = 63u - (unsigned)__builtin_clzll(ns);
	return 4 * k + (unsigned)((ns >> (k - 2)) & 3);
}

static inline void dt_lat_add(struct dt_lathist *h, uint64_t ns)
{
	uint64_t max = __atomic_load_n(&h->max_ns, __ATOMIC_RELAXED);

	__atomic_fetch_add(&h->n[dt_lat_bucket(ns)], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&h->sum_ns, ns, __ATOMIC_RELAXED);
	while (ns > max &&
	       !__atomic_compare_exchange_n(&h->max_ns, &max, ns, true, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED))
		;
}

/* into += from (from may be written meanwhile; into must not be). */
static inline void dt_lat_merge(struct dt_lathist *into, const struct dt_lathist *from)
{
	uint64_t max = __atomic_load_n(&from->max_ns, __ATOMIC_RELAXED);
	unsigned i;

	for (i = 0; i < DT_LAT_BUCKETS; i++)
		into->n[i] += __atomic_load_n(&from->n[i], __ATOMIC_RELAXED);
	into->sum_ns += __atomic_load_n(&from->sum_ns, __ATOMIC_RELAXED);
	if (max > into->max_ns)
		into->max_ns = max;
}

static inline uint64_t dt_lat_count(const struct dt_lathist *h)
{
	uint64_t total = 0;
	unsigned i;

	for (i = 0; i < DT_LAT_BUCKETS; i++)
		total += __atomic_load_n(&h->n[i], __ATOMIC_RELAXED);
	return total;
}

/* The q-quantile (0 < q <= 1) in ns: the floor of the bucket holding it; 0 when empty. */
static inline uint64_t dt_lat_quantile(const struct dt_lathist *h, double q)
{
	uint64_t total = dt_lat_count(h), want, seen = 0;
	unsigned i;

	if (total == 0 || q <= 0)
		return 0;
	want = (uint64_t)(q * (double)total + 0.999999);
	if (want > total)
		want = total;
	for (i = 0; i < DT_LAT_BUCKETS; i++) {
		seen += __atomic_load_n(&h->n[i], __ATOMIC_RELAXED);
		if (seen >= want)
			return dt_lat_floor(i);
	}
	return __atomic_load_n(&h->max_ns, __ATOMIC_RELAXED);
}

#endif /* DOMTRACE_LATHIST_H */
