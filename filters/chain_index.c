// SPDX-License-Identifier: GPL-2.0-only
/*
 * chain_index.c - the chain's prefilter: which filters could match an event, as bit
 * sets computed once per chain (chain_index.h says what it is for).
 *
 * Exactness. A filter's bit is cleared only where filter_ok() (chain.c) would answer
 * T_NO whatever else the event holds:
 *   - its function or phase differs, or its section does not apply (the same tests
 *     filter_ok makes first);
 *   - a non-negated regex (argval on a named argument, or retval) and the value it
 *     reads is absent (found(0): T_NO; an absent return value is T_NO even negated);
 *   - a non-negated regex that PCRE2 says cannot match the value: shorter than
 *     PCRE2_INFO_MINLENGTH; not starting with a code unit an anchored match starts with
 *     (PCRE2_INFO_FIRSTCODEUNIT); not containing a code unit every match contains
 *     (PCRE2_INFO_LASTCODEUNIT, an unanchored FIRSTCODEUNIT, or PCRE2_INFO_FIRSTBITMAP).
 *     These are the checks pcre2_match() itself makes before searching, so PCRE2 would
 *     have answered "no match" at once: no match or depth limit can intervene. The
 *     code-unit checks are used only on values shorter than 1,000 bytes (PCRE2 skips
 *     its own required-unit check on long subjects: REQ_CU_MAX);
 *   - a non-negated, case-sensitive regex whose every match holds a string of 4 or
 *     more bytes (regex_literal.c reads it off the pattern) and a value shorter than
 *     1,000 bytes with no 4 bytes hashing as that string's last 4. Here PCRE2 would
 *     have searched, and on a long value might have hit its match limit (a regex
 *     error, which OnRegexError=deny takes as a match of an abort filter): the index
 *     answers what the search would have found had it finished, no match. A value
 *     that cannot match an abort filter's regex is not aborted; nothing that could
 *     match is let through.
 * Kept in whenever in doubt: negated regexes (they match what the regex does not);
 * patterns with (*VERB)s or options (UTF, UCP, NO_START_OPT: PCRE2's start-up checks
 * change or a bad UTF subject is an error, not a non-match); a value not known yet
 * (ev->unknown: T_UNKNOWN, not T_NO); argname=* while any argument is unknown. A letter
 * as the code unit stands for both its cases and every byte >= 0x80 (PCRE2 does not
 * say whether the unit is caseless; a caseless ASCII letter has non-ASCII case
 * partners under UCP), a unit >= 0x80 tells nothing.
 * Everything not indexed (ids, names, ancestry, argval on the less used argnames) is
 * left to filter_ok() on the candidates.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "chain_index.h"

#define LEN_BUCKETS 33	   /* value lengths 0..31, and 32 or more */
#define SHORT_VALUE 1000   /* code-unit checks only below this (PCRE2's REQ_CU_MAX >= it) */
#define MAX_ARG_FIELDS 8   /* argnames indexed (the most used); others: filter_ok only */
#define GRAM 4		   /* bytes of a required string the index looks for */
#define GRAM_HASH_BITS 12
#define GRAM_BUCKETS (1u << GRAM_HASH_BITS) /* hashes of those: few filters share one */

/* One indexed value: the return value (name NULL) or an argname as filters write it. */
struct field {
	const char *name;
	uint64_t *constrained; /* filters with a regex on this value (any sign) */
	uint64_t *absent;      /* filters that pass when the value is absent */
	uint64_t *len;	       /* [LEN_BUCKETS][w]: pass at this length */
	uint64_t *first;       /* [256][w]: pass when the value starts with this byte */
	uint64_t *has;	       /* [256][w]: filters whose required set holds this byte */
	uint64_t *no_has;      /* filters with no required-byte constraint */
	uint64_t *no_gram;     /* filters with no required string (regex_literal.c) */
	/* the others, by the hash of their string's last GRAM bytes: the filters of hash b
	 * are gram_ids[gram_off[b] .. gram_off[b + 1]] (lists: a bit set per hash would
	 * take GRAM_BUCKETS * w words) */
	uint32_t *gram_off, *gram_ids;
	uint32_t *gram_of; /* while building: per filter, its hash + 1, or 0 */
};

struct dt_chain_index {
	size_t w, ncat;
	uint64_t *wild;	      /* function=* filters */
	uint64_t **func;      /* [ncat]: the filters for a function (wild or its own) */
	uint64_t *phase[2];   /* [0] PRE, [1] POST */
	struct field fields[1 + MAX_ARG_FIELDS];
	size_t nfields;
	uint64_t *pool;	      /* every set above, one allocation */
	size_t pool_used, pool_cap;
};

/* What PCRE2 knows of one regex, as byte sets. */
struct facts {
	uint32_t minlen;
	bool first_on, has_on, gram_on;
	uint64_t first[4], has[4];
	uint32_t gram; /* the hash of GRAM bytes every match holds */
};

static uint32_t gram_hash(const char *p)
{
	uint32_t x;

	memcpy(&x, p, sizeof(x));
	return (x * 2654435761u) >> (32 - GRAM_HASH_BITS);
}

static void bit_set(uint64_t *s, size_t i)
{
	s[i / 64] |= 1ull << (i % 64);
}

static bool bit_on(const uint64_t *s, size_t i)
{
	return s[i / 64] >> (i % 64) & 1;
}

static uint64_t *take(struct dt_chain_index *ix, size_t words)
{
	uint64_t *p = ix->pool + ix->pool_used;

	ix->pool_used += words;
	return p;
}

/* A code unit as a byte set: a letter stands for both cases and any non-ASCII byte. */
static bool unit_set(uint32_t c, uint64_t set[4])
{
	memset(set, 0, 4 * sizeof(*set));
	if (c >= 0x80)
		return false;
	bit_set(set, c);
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') {
		bit_set(set, c ^ 0x20);
		set[2] = set[3] = ~0ull;
	}
	return true;
}

/* false: nothing usable (the filter is kept in for every present value). */
static bool facts_of(const struct dt_regex *re, struct facts *ft)
{
	const pcre2_code *code = (const pcre2_code *)re->code;
	uint32_t opts = 0, type = 0, unit = 0;
	const uint8_t *bitmap = NULL;
	bool anchored;

	memset(ft, 0, sizeof(*ft));
	if (!code || re->negate || !re->src || strstr(re->src, "(*"))
		return false;
	if (pcre2_pattern_info(code, PCRE2_INFO_ALLOPTIONS, &opts) != 0 ||
	    (opts & (PCRE2_UTF | PCRE2_UCP | PCRE2_NO_START_OPTIMIZE | PCRE2_MATCH_INVALID_UTF |
		     PCRE2_AUTO_CALLOUT)))
		return false;
	anchored = opts & PCRE2_ANCHORED;
	if (!(opts & (PCRE2_CASELESS | PCRE2_EXTENDED | PCRE2_EXTENDED_MORE | PCRE2_LITERAL |
		      PCRE2_ALT_BSUX | PCRE2_EXTRA_ALT_BSUX))) {
		char lit[64];
		size_t n = dt_regex_required_literal(re->src, lit, sizeof(lit));

		if (n >= GRAM) {
			ft->gram_on = true;
			ft->gram = gram_hash(lit + n - GRAM); /* its last bytes: a path's rarest */
		}
	}
	if (pcre2_pattern_info(code, PCRE2_INFO_MINLENGTH, &ft->minlen) != 0)
		ft->minlen = 0;
	if (pcre2_pattern_info(code, PCRE2_INFO_FIRSTCODETYPE, &type) == 0 && type == 1 &&
	    pcre2_pattern_info(code, PCRE2_INFO_FIRSTCODEUNIT, &unit) == 0) {
		if (anchored)
			ft->first_on = unit_set(unit, ft->first);
		else
			ft->has_on = unit_set(unit, ft->has);
	} else if (pcre2_pattern_info(code, PCRE2_INFO_FIRSTBITMAP, &bitmap) == 0 && bitmap) {
		/* PCRE2's own set of the code units a match may start with */
		uint64_t *set = anchored ? ft->first : ft->has;

		for (unsigned b = 0; b < 256; b++)
			if (bitmap[b / 8] >> (b % 8) & 1)
				bit_set(set, b);
		if (anchored)
			ft->first_on = true;
		else
			ft->has_on = true;
	}
	/* the rightmost unit every match holds: usually rarer than the first */
	if (pcre2_pattern_info(code, PCRE2_INFO_LASTCODETYPE, &type) == 0 && type == 1 &&
	    pcre2_pattern_info(code, PCRE2_INFO_LASTCODEUNIT, &unit) == 0) {
		uint64_t set[4];

		if (unit_set(unit, set)) {
			memcpy(ft->has, set, sizeof(set));
			ft->has_on = true;
		}
	}
	return true;
}

/* Filter i on field fl: none (no regex there), a regex that cannot be indexed, or facts. */
static void field_add(struct dt_chain_index *ix, struct field *fl, size_t i,
		      const struct dt_regex *re, bool is_retval)
{
	struct facts ft;
	bool usable = re && facts_of(re, &ft);
	size_t b, l;

	if (re && re->code)
		bit_set(fl->constrained, i);
	/* absent: "*" and "!re" pass an absent argument; no retval passes without one */
	if (!re || !re->code || (re->negate && !is_retval))
		bit_set(fl->absent, i);
	for (l = 0; l < LEN_BUCKETS; l++)
		if (!usable || l >= (ft.minlen < LEN_BUCKETS - 1 ? ft.minlen : LEN_BUCKETS - 1))
			bit_set(fl->len + l * ix->w, i);
	for (b = 0; b < 256; b++) {
		if (!usable || !ft.first_on || bit_on(ft.first, b))
			bit_set(fl->first + b * ix->w, i);
		if (usable && ft.has_on && bit_on(ft.has, b))
			bit_set(fl->has + b * ix->w, i);
	}
	if (!usable || !ft.has_on)
		bit_set(fl->no_has, i);
	if (usable && ft.gram_on)
		fl->gram_of[i] = ft.gram + 1;
	else
		bit_set(fl->no_gram, i);
}

/* The hash lists from gram_of. false: out of memory. */
static bool field_finish(struct field *fl, size_t nfilters)
{
	size_t i, n = 0;

	fl->gram_off = calloc(GRAM_BUCKETS + 1, sizeof(*fl->gram_off));
	if (!fl->gram_off)
		return false;
	for (i = 0; i < nfilters; i++)
		if (fl->gram_of[i]) {
			fl->gram_off[fl->gram_of[i]]++; /* counts at b + 1 */
			n++;
		}
	for (i = 1; i <= GRAM_BUCKETS; i++)
		fl->gram_off[i] += fl->gram_off[i - 1];
	fl->gram_ids = malloc((n ? n : 1) * sizeof(*fl->gram_ids));
	if (!fl->gram_ids)
		return false;
	/* in chain order within each hash; gram_of[i] - 1 is the hash, so its start */
	{
		uint32_t fill[GRAM_BUCKETS];

		memcpy(fill, fl->gram_off, sizeof(fill));
		for (i = 0; i < nfilters; i++)
			if (fl->gram_of[i])
				fl->gram_ids[fill[fl->gram_of[i] - 1]++] = (uint32_t)i;
	}
	free(fl->gram_of);
	fl->gram_of = NULL;
	return true;
}

static bool field_alloc(struct dt_chain_index *ix, struct field *fl, const char *name,
			size_t nfilters)
{
	fl->name = name;
	fl->constrained = take(ix, ix->w);
	fl->absent = take(ix, ix->w);
	fl->len = take(ix, LEN_BUCKETS * ix->w);
	fl->first = take(ix, 256 * ix->w);
	fl->has = take(ix, 256 * ix->w);
	fl->no_has = take(ix, ix->w);
	fl->no_gram = take(ix, ix->w);
	fl->gram_of = calloc(nfilters ? nfilters : 1, sizeof(*fl->gram_of));
	return fl->gram_of != NULL;
}

#define FIELD_WORDS (5 + LEN_BUCKETS + 512)

/* The argnames to index: those the most non-negated argval regexes read. */
static size_t pick_argnames(const struct dt_config *cfg, const char **names)
{
	const char *cand[MAX_ARG_FIELDS * 8];
	size_t count[MAX_ARG_FIELDS * 8], n = 0, i, j, k, picked = 0;

	for (i = 0; i < cfg->nfilters; i++) {
		const struct dt_filter_spec *f = &cfg->filters[i];

		if (!f->argname || !f->argval.code || f->argval.negate)
			continue;
		for (j = 0; j < n && strcmp(cand[j], f->argname) != 0; j++)
			;
		if (j == n) {
			if (n == sizeof(cand) / sizeof(cand[0]))
				continue; /* many argnames: the rarer are left to filter_ok */
			cand[n] = f->argname;
			count[n++] = 0;
		}
		count[j]++;
	}
	for (k = 0; k < MAX_ARG_FIELDS && k < n; k++) {
		size_t best = n;

		for (j = 0; j < n; j++)
			if (count[j] && (best == n || count[j] > count[best]))
				best = j;
		if (best == n)
			break;
		names[picked++] = cand[best];
		count[best] = 0;
	}
	return picked;
}

int dt_chain_index_new(const struct dt_config *cfg, struct dt_chain_index **ret_ix)
{
	const char *names[MAX_ARG_FIELDS];
	struct dt_chain_index *ix;
	size_t nnames, i, j, id, nown = 0, need;
	bool any_retval = false;
	uint8_t *own = NULL;

	ix = calloc(1, sizeof(*ix));
	if (!ix)
		return -ENOMEM;
	ix->w = cfg->nfilters ? (cfg->nfilters + 63) / 64 : 1;
	ix->ncat = cfg->ncatalog;
	own = calloc(ix->ncat ? ix->ncat : 1, 1);
	ix->func = calloc(ix->ncat ? ix->ncat : 1, sizeof(*ix->func));
	if (!own || !ix->func)
		goto fail;
	for (i = 0; i < cfg->nfilters; i++) {
		const struct dt_filter_spec *f = &cfg->filters[i];

		any_retval |= f->retval.code != NULL;
		for (j = 0; !f->any_func && j < f->nfuncs; j++)
			if ((size_t)f->funcs[j] < ix->ncat && !own[f->funcs[j]]++)
				nown++;
	}
	nnames = pick_argnames(cfg, names);
	ix->nfields = nnames + (any_retval ? 1 : 0);
	need = ix->w * (3 + nown + ix->nfields * FIELD_WORDS);
	ix->pool = calloc(need, sizeof(*ix->pool));
	if (!ix->pool)
		goto fail;
	ix->pool_cap = need;
	ix->wild = take(ix, ix->w);
	ix->phase[0] = take(ix, ix->w);
	ix->phase[1] = take(ix, ix->w);
	for (id = 0; id < ix->ncat; id++)
		ix->func[id] = own[id] ? take(ix, ix->w) : ix->wild;
	j = 0;
	if (any_retval && !field_alloc(ix, &ix->fields[j++], NULL, cfg->nfilters))
		goto fail;
	for (i = 0; i < nnames; i++)
		if (!field_alloc(ix, &ix->fields[j++], names[i], cfg->nfilters))
			goto fail;
	for (i = 0; i < cfg->nfilters; i++) {
		const struct dt_filter_spec *f = &cfg->filters[i];

		if (f->when & DT_WHEN_PRE)
			bit_set(ix->phase[0], i);
		if (f->when & DT_WHEN_POST)
			bit_set(ix->phase[1], i);
		if (f->any_func)
			bit_set(ix->wild, i);
		for (j = 0; !f->any_func && j < f->nfuncs; j++)
			if ((size_t)f->funcs[j] < ix->ncat)
				bit_set(ix->func[f->funcs[j]], i);
		for (j = 0; j < ix->nfields; j++) {
			struct field *fl = &ix->fields[j];

			if (!fl->name)
				field_add(ix, fl, i, &f->retval, true);
			else
				field_add(ix, fl, i,
					  f->argname && strcmp(f->argname, fl->name) == 0
						  ? &f->argval
						  : NULL,
					  false);
		}
	}
	for (j = 0; j < ix->nfields; j++)
		if (!field_finish(&ix->fields[j], cfg->nfilters))
			goto fail;
	/* a function's own set holds the function=* filters too */
	for (id = 0; id < ix->ncat; id++)
		if (ix->func[id] != ix->wild)
			for (i = 0; i < ix->w; i++)
				ix->func[id][i] |= ix->wild[i];
	free(own);
	*ret_ix = ix;
	return 0;
fail:
	free(own);
	dt_chain_index_free(ix);
	return -ENOMEM;
}

void dt_chain_index_free(struct dt_chain_index *ix)
{
	if (!ix)
		return;
	for (size_t i = 0; i < ix->nfields; i++) {
		free(ix->fields[i].gram_of);
		free(ix->fields[i].gram_off);
		free(ix->fields[i].gram_ids);
	}
	free(ix->func);
	free(ix->pool);
	free(ix);
}

size_t dt_chain_index_words(const struct dt_chain_index *ix)
{
	return ix->w;
}

/* m &= the filters in none, or in by[b] for a b in seen (256 bits): those a value with
 * these bytes does not exclude. Inlined: as a call, bench_chain's 1,000-filter match
 * took 173-204 ns instead of 146-152. */
static inline __attribute__((always_inline)) void
keep_seen(size_t w, const uint64_t seen[4], const uint64_t *none, const uint64_t *by,
	  uint64_t *m)
{
	uint64_t h[DT_CHAIN_MAX_WORDS];
	size_t i;

	for (i = 0; i < w; i++)
		h[i] = none[i];
	for (size_t k = 0; k < 4; k++)
		for (uint64_t x = seen[k]; x; x &= x - 1) {
			const uint64_t *bm = by + (k * 64 + (size_t)__builtin_ctzll(x)) * w;

			for (i = 0; i < w; i++)
				h[i] |= bm[i];
		}
	for (i = 0; i < w; i++)
		m[i] &= h[i];
}

/* m &= the filters with no required string, or whose string's last GRAM bytes hash as
 * GRAM bytes of v do. Only when at least GRAM_MIN candidates left have such a string:
 * hashing the value costs about what searching a few regexes does. Each hash's list is
 * walked once, however often v repeats it. */
#define GRAM_MIN 4
static void keep_grams(size_t w, const struct field *fl, const char *v, size_t len,
		       uint64_t *m)
{
	uint64_t h[DT_CHAIN_MAX_WORDS], seen[GRAM_BUCKETS / 64];
	size_t i, k, need = 0;

	if (!fl->gram_off[GRAM_BUCKETS])
		return; /* no filter of this value has a required string */
	for (i = 0; i < w && need < GRAM_MIN; i++)
		need += (size_t)__builtin_popcountll(m[i] & ~fl->no_gram[i]);
	if (need < GRAM_MIN)
		return;
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < w; i++)
		h[i] = fl->no_gram[i];
	for (k = 0; k + GRAM <= len; k++) {
		uint32_t b = gram_hash(v + k);

		if (bit_on(seen, b))
			continue;
		bit_set(seen, b);
		for (uint32_t j = fl->gram_off[b]; j < fl->gram_off[b + 1]; j++)
			bit_set(h, fl->gram_ids[j]);
	}
	for (i = 0; i < w; i++)
		m[i] &= h[i];
}

/* The filters of fl a present value v (len bytes) does not exclude, into m[w]. */
static void value_pass(const struct dt_chain_index *ix, const struct field *fl, const char *v,
		       size_t len, uint64_t *m)
{
	const uint64_t *lm = fl->len + (len < LEN_BUCKETS ? len : LEN_BUCKETS - 1) * ix->w;
	size_t i, w = ix->w;

	for (i = 0; i < w; i++)
		m[i] = lm[i];
	if (len > 0) {
		const uint64_t *fm = fl->first + (size_t)(uint8_t)v[0] * w;

		for (i = 0; i < w; i++)
			m[i] &= fm[i];
	}
	if (len < SHORT_VALUE) {
		uint64_t seen[4] = { 0 };
		size_t k;

		for (k = 0; k < len; k++)
			bit_set(seen, (uint8_t)v[k]);
		keep_seen(w, seen, fl->no_has, fl->has, m);
		keep_grams(w, fl, v, len, m);
	}
}

static bool any_of(const uint64_t *a, const uint64_t *b, size_t w)
{
	for (size_t i = 0; i < w; i++)
		if (a[i] & b[i])
			return true;
	return false;
}

/* cand &= the filters field fl does not exclude on ev. */
static void field_filter(const struct dt_chain_index *ix, const struct field *fl,
			 const struct dt_event *ev, uint64_t *cand)
{
	uint64_t m[DT_CHAIN_MAX_WORDS], one[DT_CHAIN_MAX_WORDS];
	size_t i, w = ix->w;
	const char *v;

	if (!any_of(cand, fl->constrained, w))
		return; /* no candidate reads this value */
	if (!fl->name) {
		char buf[24];
		size_t len;

		if (!ev->has_ret) {
			v = NULL;
		} else {
			v = dt_filter_ret_text(ev->ret, buf, &len);
			value_pass(ix, fl, v, len, m);
		}
		if (!v)
			memcpy(m, fl->absent, w * sizeof(*m));
	} else if (strcmp(fl->name, "*") != 0) {
		if (dt_filter_unknown_value(ev, fl->name))
			return; /* T_UNKNOWN: every candidate stays */
		v = dt_filter_value_of(ev, fl->name);
		if (v)
			value_pass(ix, fl, v, strlen(v), m);
		else
			memcpy(m, fl->absent, w * sizeof(*m));
	} else {
		/* any argument or decoding: a filter stays if one value could match */
		if (ev->unknown)
			return;
		memcpy(m, fl->absent, w * sizeof(*m));
		for (unsigned k = 0; k < ev->nargs && k < DT_MAX_ARGS; k++) {
			if (!ev->args[k].value)
				continue;
			value_pass(ix, fl, ev->args[k].value, strlen(ev->args[k].value), one);
			for (i = 0; i < w; i++)
				m[i] |= one[i];
		}
		for (unsigned k = 0; k < ev->ndec && k < DT_MAX_DECS; k++) {
			if (!ev->dec[k].value)
				continue;
			value_pass(ix, fl, ev->dec[k].value, strlen(ev->dec[k].value), one);
			for (i = 0; i < w; i++)
				m[i] |= one[i];
		}
	}
	for (i = 0; i < w; i++)
		cand[i] &= m[i];
}

void dt_chain_index_candidates(const struct dt_chain_index *ix, const struct dt_event *ev,
			       const uint64_t *sections, uint64_t *cand)
{
	const uint64_t *fm = ev->func_id >= 0 && (size_t)ev->func_id < ix->ncat
				     ? ix->func[ev->func_id]
				     : ix->wild;
	const uint64_t *pm = ev->when == DT_WHEN_POST ? ix->phase[1] : ix->phase[0];
	size_t i, w = ix->w;
	uint64_t any = 0;

	if (ev->when != DT_WHEN_PRE && ev->when != DT_WHEN_POST) {
		/* filter_ok: (f->when & ev->when) */
		for (i = 0; i < w; i++)
			any |= cand[i] = fm[i] & sections[i] &
					 ((ev->when & DT_WHEN_PRE ? ix->phase[0][i] : 0) |
					  (ev->when & DT_WHEN_POST ? ix->phase[1][i] : 0));
	} else {
		for (i = 0; i < w; i++)
			any |= cand[i] = fm[i] & pm[i] & sections[i];
	}
	for (i = 0; any && i < ix->nfields; i++)
		field_filter(ix, &ix->fields[i], ev, cand);
}
