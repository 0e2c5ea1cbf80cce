// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz_regex_literal: the prefilter's required string (filters/regex_literal.c) against
 * PCRE2 itself. Input: a pattern, a 0 byte, a subject. Whenever PCRE2 compiles the
 * pattern as the config does, finds a match in the subject, and the pattern is one the
 * prefilter would use the string for (case-sensitive, not extended, not UTF), the
 * subject must hold the string; otherwise an abort filter could be skipped on a value it
 * matches. Also: the reader never reads past the pattern's end (ASan).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "chain_index.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *zero = memchr(data, 0, size);
	char *pat, lit[300];
	const uint8_t *subj;
	size_t plen, slen, n;
	pcre2_code *code;
	pcre2_match_data *md;
	uint32_t opts = 0;
	int err;
	PCRE2_SIZE off;

	if (!zero || (size_t)(zero - data) > 200)
		return 0;
	plen = (size_t)(zero - data);
	subj = zero + 1;
	slen = size - plen - 1;
	pat = malloc(plen + 1);
	if (!pat)
		return 0;
	memcpy(pat, data, plen);
	pat[plen] = '\0';
	n = dt_regex_required_literal(pat, lit, sizeof(lit));
	code = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, 0, &err, &off, NULL);
	if (code && n && pcre2_pattern_info(code, PCRE2_INFO_ALLOPTIONS, &opts) == 0 &&
	    !(opts & (PCRE2_CASELESS | PCRE2_EXTENDED | PCRE2_EXTENDED_MORE | PCRE2_LITERAL |
		      PCRE2_ALT_BSUX | PCRE2_EXTRA_ALT_BSUX | PCRE2_UTF | PCRE2_UCP))) {
		pcre2_match_context *mc = pcre2_match_context_create(NULL);

		md = pcre2_match_data_create(1, NULL);
		pcre2_set_match_limit(mc, 100000);
		if (md && mc && pcre2_match(code, subj, slen, 0, 0, md, mc) >= 0 &&
		    !memmem(subj, slen, lit, n))
			abort(); /* a match without the "required" string */
		pcre2_match_data_free(md);
		pcre2_match_context_free(mc);
	}
	pcre2_code_free(code);
	free(pat);
	return 0;
}
