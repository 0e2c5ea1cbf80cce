// SPDX-License-Identifier: GPL-2.0-only
/* filters/chain_index.c: the chain's prefilter gives the verdicts of the unindexed walk
 * (random chains and events), and rules out what it should. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain_index.h"
#include "domtrace/catalog.h"
#include "domtrace/config.h"
#include "domtrace/filter.h"
#include "support/chains.h"
#include "support/check_run.h"

/*
 * The prefilter (filters/chain_index.c) against the unindexed walk: random chains of
 * thousands of filters (anchored and unanchored regexes, literals, classes, caseless,
 * negated, verbs, ids, names, when=pre/post/both, function=*, Domain sections) and
 * random events (values from the regexes' own alphabet, absent and unknown arguments,
 * decodings, return values, ancestry). Every verdict must be the same.
 */
static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

static const char *const alpha[] = { "a", "b", "A", "0", "1", "-", "/", "x", "Z", ".",
				     "\xc3\xa9", "ab", "-1", "/tmp/" };

static void rnd_value(char *buf, size_t size)
{
	size_t len = 0, n = rnd(14);

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s",
					alpha[rnd(sizeof(alpha) / sizeof(alpha[0]))]);
	if (rnd(20) == 0) /* now and then a long one (code-unit checks stop at 1,000) */
		for (; len + 2 < size && len < 1200; len++)
			buf[len] = "ab-1"[rnd(4)], buf[len + 1] = '\0';
}

static void rnd_regex(char *buf, size_t size)
{
	static const char *const atoms[] = { "a", "b", "A", "0", "1", "-", "/", "x", "Z",
					     "\\.", "[ab]", "[^a]", "\\d", ".", "(a|b1)", "(-|/)",
					     "tmp/", "\xc3\xa9", "(?=a)", "\\w", "(a)\\1" };
	static const char *const quant[] = { "", "", "", "", "", "?", "*", "+", "{2}" };
	static const char *const whole[] = { "^$", "", "(*UTF)\xc3\xa9", "(*NO_START_OPT)ab",
					     "(?i)^ab", "(?i)z", "(?m)^a", "\\Aa", "a|^b",
					     "^(1|2|3)", "^-(1|10001)$", "(?<=a)b", "^.*a",
					     "(*COMMIT)a" };
	size_t len = 0, n = 2 + rnd(3);

	if (rnd(8) == 0) {
		snprintf(buf, size, "%s%s", rnd(10) ? "" : "!",
			 whole[rnd(sizeof(whole) / sizeof(whole[0]))]);
		if (!strcmp(buf, "") || !strcmp(buf, "!"))
			snprintf(buf, size, "a");
		return;
	}
	len += (size_t)snprintf(buf + len, size - len, "%s%s%s", rnd(15) ? "" : "!",
				rnd(6) ? "" : "(?i)", rnd(2) ? "^" : "");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
					atoms[rnd(sizeof(atoms) / sizeof(atoms[0]))],
					quant[rnd(sizeof(quant) / sizeof(quant[0]))]);
	if (rnd(4) == 0)
		snprintf(buf + len, size - len, "$");
}

/* Functions the random chains use: with arguments, without, and one only function=*
 * filters reach. */
static const char *const dfuncs[] = { "openat", "execve", "kill", "getpid", "getppid" };

static void rnd_filter(char *line, size_t size)
{
	char re[96];
	size_t len = (size_t)snprintf(line, size, "Filter ");
	const char *fn = rnd(5) == 0 ? NULL : dfuncs[rnd(4)];
	int when = (int)rnd(3); /* pre, post, both */
	bool apply = false, keyed = false;

	if (fn) {
		const struct dt_funcdesc *fd = dt_catalog_get(tf_fid(fn));

		len += (size_t)snprintf(line + len, size - len, "function=%s,", fn);
		if (fd->nargs && rnd(4)) {
			rnd_regex(re, sizeof(re));
			len += (size_t)snprintf(line + len, size - len, "argname=%s,argval=\"%s\",",
						rnd(4) == 0 ? "*" : fd->args[rnd(fd->nargs)].name, re);
			keyed = true;
		}
		apply = strcmp(fn, "getpid") != 0 && rnd(6) == 0;
	}
	if (apply) {
		len += (size_t)snprintf(line + len, size - len, "apply=1,retval=-%u,", 1 + rnd(40));
		when = 0;
	} else if (when == 1 && (rnd(2) || !keyed)) {
		rnd_regex(re, sizeof(re));
		len += (size_t)snprintf(line + len, size - len, "retval=\"%s\",", re);
		keyed = true;
	}
	len += (size_t)snprintf(line + len, size - len, "when=%s,",
				when == 0 ? "pre" : when == 1 ? "post" : "both");
	/* every filter asks something, so that matches happen all along the chain */
	if (!keyed || rnd(3) == 0)
		len += (size_t)snprintf(line + len, size - len, "pid=%u,", 100 + rnd(20));
	if (rnd(6) == 0)
		len += (size_t)snprintf(line + len, size - len, "uid=%u,", rnd(2) ? 0 : 1000);
	if (rnd(10) == 0)
		len += (size_t)snprintf(line + len, size - len, "name=%s%s,", rnd(2) ? "^" : "",
					rnd(2) ? "sshd" : "bash");
	if (rnd(12) == 0)
		len += (size_t)snprintf(line + len, size - len, "ppid=^%u,", rnd(2) ? 1 : 50);
	line[len - 1] = '\n';
}

static char *rnd_chain(size_t nfilters)
{
	size_t cap = nfilters * 256 + 256, len = 0;
	char *text = malloc(cap), line[512];

	ck_assert_ptr_nonnull(text);
	text[0] = '\0';
	for (size_t i = 0; i < nfilters; i++) {
		if (i == nfilters / 2)
			len += (size_t)snprintf(text + len, cap - len, "Domain web-*\n");
		else if (i == nfilters * 3 / 4)
			len += (size_t)snprintf(text + len, cap - len, "Domain db-*\n");
		rnd_filter(line, sizeof(line));
		len += (size_t)snprintf(text + len, cap - len, "%s", line);
	}
	return text;
}

static const struct dt_proc_info danc[2] = {
	{ .tgid = 50, .comm = "sshd" }, { .tgid = 1, .comm = "systemd" },
};

static struct dt_event *rnd_event(char vals[][1300], unsigned nvals)
{
	static const int64_t rets[] = { -1, -13, -10001, 0, 1, 2000, 3, -2 };
	const char *fn = dfuncs[rnd(sizeof(dfuncs) / sizeof(dfuncs[0]))];
	struct dt_event *ev = tf_event(fn, rnd(2) ? DT_WHEN_PRE : DT_WHEN_POST);
	unsigned i, v = 0;

	for (i = 0; i < ev->nargs; i++) {
		if (rnd(6) == 0)
			continue; /* not rendered */
		rnd_value(vals[v % nvals], sizeof(vals[0]));
		ev->args[i].value = vals[v++ % nvals];
		if (rnd(15) == 0)
			ev->unknown |= (uint8_t)(1u << i);
	}
	if (rnd(20) == 0)
		ev->unknown |= DT_UNKNOWN_OBJECT;
	if (rnd(4) == 0) {
		rnd_value(vals[v % nvals], sizeof(vals[0]));
		(void)dt_event_add_dec(ev, "flags:flags", vals[v++ % nvals]);
	}
	ev->has_ret = ev->when == DT_WHEN_POST && rnd(8) != 0;
	ev->ret = rets[rnd(sizeof(rets) / sizeof(rets[0]))];
	ev->proc.uid = rnd(2) ? 0 : 1000;
	ev->proc.tgid = (int32_t)(100 + rnd(2000)); /* the filters' pids: 100..119 */
	strcpy(ev->proc.comm, rnd(2) ? "bash" : "sh");
	ev->anc = (struct dt_proc_info *)danc;
	ev->nanc = (uint16_t)rnd(3);
	return ev;
}

START_TEST(prefilter_same_verdicts)
{
	static char vals[8][1300];
	static const char *const vms[] = { "web-1", "db-2", "other" };
	unsigned matched = 0, undecided = 0, events = 0;
	uint64_t depth = 0;

	rng_state = 0x9e3779b97f4a7c15ull + (uint64_t)_i;
	for (unsigned round = 0; round < 2; round++) {
		char *text = rnd_chain(1500 + rnd(1500));
		struct dt_chain *c = tf_chain_of(text);

		for (unsigned r = 0; r < 3; r++) {
			struct dt_chain_reader *rd = tf_reader(vms[r]);

			for (unsigned k = 0; k < 1500; k++, events++) {
				struct dt_event *ev = rnd_event(vals, 8);
				struct dt_match a = { 0 }, b = { 0 };
				int ra = dt_chain_match(c, rd, ev, NULL, &a);
				int rb = dt_chain_match_naive(c, rd, ev, NULL, &b);

				ck_assert_msg(ra == rb && a.filter == b.filter && a.apply == b.apply &&
						      a.abort_ret == b.abort_ret,
					      "seed %d round %u vm %s event %u (%s %s): indexed %d #%u, "
					      "naive %d #%u",
					      _i, round, vms[r], k, ev->func,
					      ev->when == DT_WHEN_PRE ? "pre" : "post", ra, a.filter, rb,
					      b.filter);
				matched += rb == 1;
				depth += b.filter;
				undecided += rb == DT_CHAIN_UNDECIDED;
				dt_event_free(ev);
			}
			dt_chain_reader_free(rd);
		}
		dt_chain_free(c);
		free(text);
	}
	/* the random chains must exercise both outcomes, not only "nothing matches" */
	ck_assert_uint_gt(matched, events / 10);
	ck_assert_uint_gt(events - matched - undecided, events / 10);
	ck_assert_uint_gt(undecided, 0);
	ck_assert_uint_gt(depth / (matched + undecided), 20); /* not only the first filters */
}
END_TEST

/* The bench's 1,000 retval filters leave no candidate for a return they cannot match,
 * and the one they can. */
START_TEST(prefilter_excludes)
{
	size_t cap = 64 * 1024, len = 0;
	char *text = malloc(cap);
	struct dt_chain *c;
	struct dt_chain_reader *rd = tf_reader("web-1");
	struct dt_event *ev = tf_event("getpid", DT_WHEN_POST);
	struct dt_match m;
	unsigned i;

	ck_assert_ptr_nonnull(text);
	for (i = 0; i < 1000; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"Filter function=getpid,when=post,retval=^-(%u|%u)$\n", i + 1,
					10000 + i);
	c = tf_chain_of(text);
	ev->has_ret = true;
	ev->ret = 2000;
	ck_assert_int_eq(dt_chain_match(c, rd, ev, NULL, &m), 0);
	ev->ret = -10007;
	ck_assert_int_eq(dt_chain_match(c, rd, ev, NULL, &m), 1);
	ck_assert_uint_eq(m.filter, 8);
	ev->ret = -77;
	ck_assert_int_eq(dt_chain_match(c, rd, ev, NULL, &m), 1);
	ck_assert_uint_eq(m.filter, 77);
	dt_chain_free(c);
	dt_chain_reader_free(rd);
	dt_event_free(ev);
	free(text);
}
END_TEST

static Suite *chain_index_suite(void)
{
	Suite *s = suite_create("chain_index");
	TCase *tc = tcase_create("prefilter");

	tcase_set_timeout(tc, 240); /* thousands of filters, walked naively too */
	tcase_add_loop_test(tc, prefilter_same_verdicts, 0, 3);
	tcase_add_test(tc, prefilter_excludes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return dt_check_run(chain_index_suite());
}
