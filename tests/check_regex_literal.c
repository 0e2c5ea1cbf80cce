// SPDX-License-Identifier: GPL-2.0-only
/*
 * check_regex_literal: the string every match of a regex holds (filters/regex_literal.c),
 * which lets the prefilter skip searching a regex, an abort filter's too. A wrong string
 * would let a matching value through, so: hand-picked patterns, and a generative check
 * that every value PCRE2 finds matching holds the string.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "chain_index.h"
#include "support/check_run.h"

static const char *lit_of(const char *re)
{
	static char out[300];
	size_t n = dt_regex_required_literal(re, out, sizeof(out) - 1);

	out[n] = '\0';
	return out;
}

START_TEST(hand_picked)
{
	static const struct {
		const char *re, *lit;
	} t[] = {
		{ "tmp12/", "tmp12/" },
		{ "(^|/)tmp7/", "tmp7/" },		  /* the bench's hard filters */
		{ "abc*def", "def" },		  /* c optional */
		{ "abcd+ef", "abcd" },		  /* d kept, the run ends */
		{ "a{2}bcde", "bcde" },
		{ "x\\.conf", "x.conf" },
		{ "/etc/passwd$", "/etc/passwd" },
		{ "abcd\\d+efgh", "abcd" },
		{ "(?<=/)shadow", "shadow" },
		{ "(?:ab|cd)wxyz", "wxyz" },
		{ "[]a]bcde", "bcde" },
		{ "[^]a]bcde", "bcde" },
		{ "[a\\]]bcde", "bcde" },
		{ "abc?", "ab" },
		{ "ab*?cd", "cd" },
		{ "(ab)+cdef", "cdef" },
		{ "\\bword\\b", "word" },
		{ "(a(b)c)defg", "defg" },
		{ "\\/usr\\/bin", "/usr/bin" },
		/* nothing: alternation, options, quoting, verbs, escapes that take more */
		{ "ab|cdef", "" },
		{ "(?i)abcdef", "" },
		{ "abcd(?i)efgh", "" },
		{ "(?i:x)abcd", "" },
		{ "\\x41BCDE", "" },
		{ "\\101BCDE", "" },
		{ "\\Qabcd\\E", "" },
		{ "(*UTF)abcd", "" },
		{ "(?#x)abcd)", "" },
		{ "(?#a)b)cdef", "" },
		{ "(\\cA)bcde", "" },
		{ "ab{,3}cdef", "" },
		{ "ab{x}cdef", "" },
		{ "[[:alpha:]]bcde", "" },
		{ "(abc", "" },
		{ "abc)", "" },
		{ "abcd\\", "" },
		{ "\\p{L}bcde", "" },
		{ "\\g1abcd", "" },
		{ "(?P<n>a)bcde", "" },
		{ "(?(1)a|b)cdef", "" },
		{ "(?1)bcde", "" },
		{ "(?R)bcde", "" },
		{ "\\Nbcde", "" },
		{ "\\Eabcd", "" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ck_assert_msg(strcmp(lit_of(t[i].re), t[i].lit) == 0, "%s: got \"%s\", want \"%s\"",
			      t[i].re, lit_of(t[i].re), t[i].lit);
}
END_TEST

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

/* Atoms with strings each one matches, so a value built from them matches the pattern. */
static const struct {
	const char *re;
	const char *s[3];
} atoms[] = {
	{ "a", { "a" } },	       { "b", { "b" } },	     { "t", { "t" } },
	{ "m", { "m" } },	       { "p", { "p" } },	     { "/", { "/" } },
	{ "1", { "1" } },	       { "\\.", { "." } },	     { "\\/", { "/" } },
	{ "\\-", { "-" } },	       { "[ab]", { "a", "b" } },     { "[^a]", { "b", "/", "x" } },
	{ "[]a]", { "]", "a" } },      { "\\d", { "1", "7" } },      { "\\w", { "a", "_" } },
	{ ".", { "x", "a", "/" } },    { "(a|b1)", { "a", "b1" } },  { "(?:tm|p)", { "tm", "p" } },
	{ "tmp/", { "tmp/" } },	       { "(?=a)a", { "a" } },	     { "(?<=a)b", { "b" } },
	{ "(?:\\b)", { "" } },     { "(ab)\\1", { "abab" } },    { "[a\\]]", { "a", "]" } },
	{ "(?!x)a", { "a" } },	       { "\\s", { " " } },	     { "(?>ab)", { "ab" } },
};

/* Quantifiers: how many copies of the atom's string a value may hold. */
static const struct {
	const char *q;
	unsigned lo, hi;
} quants[] = {
	{ "", 1, 1 },	 { "", 1, 1 },	   { "", 1, 1 },      { "", 1, 1 },   { "?", 0, 1 },
	{ "*", 0, 3 },	 { "+", 1, 3 },	   { "{2}", 2, 2 },   { "{1,3}", 1, 3 }, { "*?", 0, 2 },
	{ "+?", 1, 2 },	 { "{0}", 0, 0 },  { "??", 0, 1 },    { "{2,}", 2, 4 },
};

START_TEST(every_match_holds_it)
{
	unsigned patterns = 0, with_lit = 0, matches = 0;

	rng += (uint64_t)_i * 7919;
	for (unsigned round = 0; round < 4000; round++) {
		char re[256] = "", val[512] = "", lit[300];
		size_t rl = 0, vl = 0, n = 1 + rnd(8), nl;
		size_t picks[8], qs[8];
		pcre2_code *code;
		pcre2_match_data *md;
		int err;
		PCRE2_SIZE off;

		for (size_t i = 0; i < n; i++) {
			picks[i] = rnd(sizeof(atoms) / sizeof(atoms[0]));
			qs[i] = rnd(sizeof(quants) / sizeof(quants[0]));
			rl += (size_t)snprintf(re + rl, sizeof(re) - rl, "%s%s", atoms[picks[i]].re,
					       quants[qs[i]].q);
		}
		code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, 0, &err, &off, NULL);
		ck_assert_msg(code != NULL, "test pattern %s does not compile", re);
		md = pcre2_match_data_create(1, NULL);
		nl = dt_regex_required_literal(re, lit, sizeof(lit));
		patterns++;
		with_lit += nl > 0;
		for (unsigned v = 0; v < 20; v++) {
			/* a value made of the atoms' strings, with junk around it */
			vl = (size_t)snprintf(val, sizeof(val), "%s", rnd(2) ? "" : "zz/");
			for (size_t i = 0; i < n; i++) {
				unsigned lo = quants[qs[i]].lo, hi = quants[qs[i]].hi;
				unsigned k = lo + rnd(hi - lo + 1), ns = 0;

				while (ns < 3 && atoms[picks[i]].s[ns])
					ns++;
				for (unsigned c = 0; c < k; c++)
					vl += (size_t)snprintf(val + vl, sizeof(val) - vl, "%s",
							       atoms[picks[i]].s[rnd(ns)]);
			}
			if (rnd(2))
				vl += (size_t)snprintf(val + vl, sizeof(val) - vl, "/q");
			if (pcre2_match(code, (PCRE2_SPTR)val, vl, 0, 0, md, NULL) < 0)
				continue; /* a lookaround or backreference said no: nothing to check */
			matches++;
			ck_assert_msg(nl == 0 || memmem(val, vl, lit, nl) != NULL,
				      "pattern %s matches \"%s\" but the required string \"%.*s\" is "
				      "not in it",
				      re, val, (int)nl, lit);
		}
		pcre2_match_data_free(md);
		pcre2_code_free(code);
	}
	/* the check must have had something to check */
	ck_assert_uint_gt(with_lit, patterns / 10);
	ck_assert_uint_gt(matches, patterns * 5);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("regex_literal");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, hand_picked);
	tcase_add_loop_test(tc, every_match_holds_it, 0, 8);
	suite_add_tcase(s, tc);
	return dt_check_run(s);
}
