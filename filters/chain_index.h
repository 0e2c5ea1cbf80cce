/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * chain_index.h - the chain's prefilter (filters/chain_index.c). Private to filters/
 * (and the filters' test, which checks it against the unindexed walk).
 *
 * Filters are bits in chain order (bit i: the filter at 0-based chain position i). At
 * chain build the index computes, per function, per phase (pre/post) and per indexed
 * value (the return value, and the argnames most filters read), which filters could
 * match; a match ANDs these sets into the candidates and evaluates only those, in
 * chain order. The sets for a value come from what PCRE2 itself knows of each regex
 * (pcre2_pattern_info: the minimum length of a match, the code unit an anchored match
 * starts with, a code unit every match contains): a filter is left out only if its
 * regex cannot match the value. When in doubt (negated regexes, UTF or verbs in the
 * pattern, a value not known yet) it stays in. docs/DESIGN.md, "The prefilter".
 *
 * Objects, owners, threads: a struct dt_chain_index is built with its chain
 * (dt_chain_new) and immutable from then on; any reader thread may use it at once.
 * dt_chain_index_candidates() does not allocate, lock or log.
 */
#ifndef DT_FILTERS_CHAIN_INDEX_H
#define DT_FILTERS_CHAIN_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domtrace/config.h"
#include "domtrace/event.h"
#include "domtrace/filter.h"

/* Words of a filter bit set: enough for DT_CONFIG_MAX_FILTERS. */
#define DT_CHAIN_MAX_WORDS ((DT_CONFIG_MAX_FILTERS + 63) / 64)

struct dt_chain_index;

/* Build the index of cfg's filters (cfg stays the caller's). 0 or -ENOMEM. */
int dt_chain_index_new(const struct dt_config *cfg, struct dt_chain_index **ret_ix);
void dt_chain_index_free(struct dt_chain_index *ix); /* NULL ok */
/* Words in this chain's bit sets (nfilters / 64, rounded up; at least 1). */
size_t dt_chain_index_words(const struct dt_chain_index *ix);

/*
 * The filters that could match ev (PRE or POST) into cand[words]: those for its function
 * and phase, among `sections` (the filters whose section applies to the reader's VM),
 * less those an indexed value excludes. A superset of the filters dt_chain_match would
 * find matching (or undecided); never allocates.
 */
void dt_chain_index_candidates(const struct dt_chain_index *ix, const struct dt_event *ev,
			       const uint64_t *sections, uint64_t *cand);

/* What the index and the match share (filters/chain.c): the value a filter's argname
 * reads, whether it is not known yet, and a return value as the text retval= sees. */
const char *dt_filter_value_of(const struct dt_event *ev, const char *argname);
bool dt_filter_unknown_value(const struct dt_event *ev, const char *name);
/* Writes the decimal text of v into buf[24] and returns where it starts. */
const char *dt_filter_ret_text(int64_t v, char buf[24], size_t *ret_len);

/* A string every match of the regex src contains (filters/regex_literal.c): its length
 * (the bytes in out[cap]), 0 if the pattern is not understood well enough to say. For
 * case-sensitive, non-extended, non-UTF patterns only (the caller checks the options). */
size_t dt_regex_required_literal(const char *src, char *out, size_t cap);

/* The unindexed walk (every filter for the function, in order): the reference the
 * prefilter is tested against (tests/check_chain_index.c). Same contract as dt_chain_match. */
int dt_chain_match_naive(const struct dt_chain *chain, struct dt_chain_reader *reader,
			 const struct dt_event *ev, const struct dt_ancestry *anc,
			 struct dt_match *ret_match);

#endif /* DT_FILTERS_CHAIN_INDEX_H */
