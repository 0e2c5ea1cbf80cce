// SPDX-License-Identifier: GPL-2.0-only
/*
 * regex_literal.c - a string every match of a regex contains, read off the pattern's
 * text, for the prefilter (chain_index.c): a value that lacks it cannot match.
 *
 * This decides whether an abort filter is searched at all, so it errs one way only:
 * whatever it does not fully understand gives no string (the filter is always
 * searched). It reads top-level literal bytes, ends a run at anything else (a group,
 * a class, '.', an anchor, an escape that is not a plain character), drops a byte a
 * quantifier makes optional, and gives up on the whole pattern at a top-level '|',
 * quoting (\Q), verbs ((*...)), any (? form but plain groups and lookarounds (option
 * settings such as (?i) change later bytes), escapes that take more characters (\x41,
 * \g1, \p{..}), POSIX classes, and a '{' that is not a plain {n}, {n,} or {n,m}. The
 * caller also refuses caseless, extended and UTF patterns (PCRE2_INFO_ALLOPTIONS).
 * tests/check_regex_literal.c checks it on hand-picked and generated patterns (and
 * fuzz_regex_literal against PCRE2); tests/check_chain_index.c, through the prefilter,
 * against unindexed matching of random ones.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "chain_index.h"

/* Escapes that match one thing of a class or an assertion and take two characters. */
static bool short_escape(char c)
{
	return c && strchr("dDwWsSbBAzZGhHvVRXK", c) != NULL;
}

static bool is_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The end of a class starting at s[i] == '[' (index after its ']'), 0 if not understood. */
static size_t class_end(const char *s, size_t i)
{
	size_t j = i + 1;

	if (s[j] == '^')
		j++;
	if (s[j] == ']')
		j++; /* a ']' first is a member */
	for (; s[j]; j++) {
		if (s[j] == '\\') {
			if (!s[j + 1])
				return 0;
			j++;
		} else if (s[j] == '[' && (s[j + 1] == ':' || s[j + 1] == '.' || s[j + 1] == '=')) {
			return 0; /* POSIX class */
		} else if (s[j] == ']') {
			return j + 1;
		}
	}
	return 0;
}

/* The end of a plain quantifier {n}, {n,}, {n,m} at s[i] == '{', 0 if it is not one. */
static size_t brace_end(const char *s, size_t i)
{
	size_t j = i + 1, d = 0;

	while (s[j] >= '0' && s[j] <= '9')
		j++, d++;
	if (!d)
		return 0;
	if (s[j] == ',') {
		j++;
		while (s[j] >= '0' && s[j] <= '9')
			j++;
	}
	return s[j] == '}' ? j + 1 : 0;
}

/* After '(' at s[i]: the index after the group's ')', 0 if not understood. */
static size_t group_end(const char *s, size_t i)
{
	size_t j = i + 1, depth = 1;

	if (s[j] == '*')
		return 0; /* a verb */
	if (s[j] == '?') {
		char k = s[j + 1];

		if (!(k == ':' || k == '=' || k == '!' || k == '>' ||
		      (k == '<' && (s[j + 2] == '=' || s[j + 2] == '!'))))
			return 0; /* options, names, conditions, recursion, comments */
	}
	for (; s[j]; j++) {
		if (s[j] == '\\') {
			if (!s[j + 1])
				return 0;
			j++;
		} else if (s[j] == '[') {
			size_t e = class_end(s, j);

			if (!e)
				return 0;
			j = e - 1;
		} else if (s[j] == '(') {
			if (s[j + 1] == '*')
				return 0;
			if (s[j + 1] == '?' && s[j + 2] != ':' && s[j + 2] != '=' && s[j + 2] != '!' &&
			    s[j + 2] != '>' &&
			    !(s[j + 2] == '<' && (s[j + 3] == '=' || s[j + 3] == '!')))
				return 0; /* a comment may hold a ')'; the rest are rare */
			depth++;
		} else if (s[j] == ')') {
			if (--depth == 0)
				return j + 1;
		}
	}
	return 0;
}

size_t dt_regex_required_literal(const char *s, char *out, size_t cap)
{
	size_t i = 0, run = 0, best = 0, e;
	char buf[256];

	/* \c takes the next character, even a ')' */
	if (!s || strstr(s, "\\Q") || strstr(s, "\\c") || strstr(s, "(*"))
		return 0;
	while (s[i]) {
		char c = s[i];

		switch (c) {
		case '|':
		case ')':
			return 0; /* top-level alternation; a stray ')' is not ours to judge */
		case '(':
		case '[':
			e = c == '(' ? group_end(s, i) : class_end(s, i);
			if (!e)
				return 0;
			run = 0, i = e;
			continue;
		case '.':
		case '^':
		case '$':
			run = 0, i++;
			continue;
		case '*':
		case '?':
		case '+':
		case '{':
			/* a quantifier after a group, class or escape (a literal byte's own is
			 * read with the byte, below) */
			e = c == '{' ? brace_end(s, i) : i + 1;
			if (!e)
				return 0;
			if (s[e] == '?' || s[e] == '+')
				e++; /* lazy or possessive */
			run = 0, i = e;
			continue;
		case '\\':
			if (!s[i + 1])
				return 0;
			if (is_alnum(s[i + 1])) {
				if (!short_escape(s[i + 1]))
					return 0; /* \x41, \1, \g{..}, \p{..}, \E, \N, ... */
				run = 0, i += 2;
				continue;
			}
			c = s[i + 1]; /* an escaped punctuation byte is that byte */
			i += 2;
			break;
		default:
			i++;
			break;
		}
		/* a literal byte c, and what follows it: '*', '?' and any {..} (conservatively)
		 * make it optional, '+' keeps it but ends the run (more of it may follow) */
		if (s[i] == '*' || s[i] == '?' || s[i] == '{') {
			run = 0;
			continue;
		}
		if (run == sizeof(buf))
			run = 0; /* any part of a required run is required */
		buf[run++] = c;
		if (run > best) {
			best = run;
			memcpy(out, buf, run < cap ? run : cap);
		}
		if (s[i] == '+')
			run = 0;
	}
	return best < cap ? best : cap;
}
