/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * chains.h - filter chains and events for the filter tests (check_filter,
 * check_chain_index). Each call fails the running Check test on error.
 *
 * Ownership: the caller frees what it gets (dt_chain_free, dt_event_free,
 * dt_chain_reader_free). One thread (the test's).
 */
#ifndef DT_TESTS_CHAINS_H
#define DT_TESTS_CHAINS_H

#include <stdint.h>

#include "domtrace/event.h"
#include "domtrace/filter.h"

int tf_fid(const char *name); /* the catalogue id of a function */
struct dt_chain *tf_chain_of(const char *text); /* a config text's chain; must parse */
/* A call event of func (bash[101] in VM web-1, uid 1000), argument names, no values. */
struct dt_event *tf_event(const char *func, enum dt_when when);
void tf_setarg(struct dt_event *ev, unsigned i, const char *value); /* copied */
struct dt_chain_reader *tf_reader(const char *vm);
/* The 1-based index of the first matching filter, 0 if none. */
uint32_t tf_first(struct dt_chain *c, struct dt_chain_reader *rd, const struct dt_event *ev,
		  const struct dt_ancestry *anc);

#endif /* DT_TESTS_CHAINS_H */
