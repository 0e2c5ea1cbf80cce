// SPDX-License-Identifier: GPL-2.0-only
/* filters/: matching semantics of the chain (first match in chain order, every key,
 * ancestry, VM sections, post filters). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domtrace/catalog.h"
#include "domtrace/config.h"
#include "domtrace/filter.h"
#include "support/chains.h"

static void setdec(struct dt_event *ev, const char *name, const char *value)
{
	ck_assert(dt_event_add_dec(ev, dt_event_strdup(ev, name, strlen(name)),
				   dt_event_strdup(ev, value, strlen(value))));
}

static const char *arg(int id, unsigned i)
{
	return dt_catalog_get(id)->args[i].name;
}

START_TEST(first_match_in_chain_order)
{
	char text[512];
	int ex = tf_fid("execve");
	struct dt_chain *c;
	struct dt_chain_reader *rd = tf_reader("web-1");
	struct dt_event *ev = tf_event("execve", DT_WHEN_PRE);

	/* the ancestor went argument by argument: filter 2 (on argument 0) would have
	 * beaten filter 1 (on argument 1). Strict chain order picks filter 1. */
	snprintf(text, sizeof(text),
		 "Filter function=sys_execve,argname=%s,argval=^nc\n"
		 "Filter function=sys_execve,argname=%s,argval=/nc$\n"
		 "Filter function=*\n",
		 arg(ex, 1), arg(ex, 0));
	c = tf_chain_of(text);
	tf_setarg(ev, 0, "/usr/bin/nc");
	tf_setarg(ev, 1, "nc -l -p 4444");
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 1);
	tf_setarg(ev, 1, "ncat");
	ev->args[1].value = "x nc";
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 2);
	ev->args[0].value = "/bin/ls";
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 3);
	dt_chain_free(c);
	dt_chain_reader_free(rd);
	dt_event_free(ev);
}
END_TEST

START_TEST(no_argname_and_no_args)
{
	/* the ancestor could never match a syscall without arguments */
	struct dt_chain *c = tf_chain_of("Filter function=getpid\nFilter name=bash\n");
	struct dt_chain_reader *rd = tf_reader("web-1");
	struct dt_event *ev = tf_event("getpid", DT_WHEN_PRE);

	ck_assert_uint_eq(ev->nargs, 0);
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 1);
	dt_event_free(ev);
	ev = tf_event("getppid", DT_WHEN_PRE);
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 2);
	strcpy(ev->proc.comm, "zsh");
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 0);
	dt_chain_free(c);
	dt_chain_reader_free(rd);
	dt_event_free(ev);
}
END_TEST

START_TEST(argval_semantics)
{
	char text[1024];
	int ex = tf_fid("execve");
	struct dt_chain *c;
	struct dt_chain_reader *rd = tf_reader("web-1");
	struct dt_event *ev = tf_event("execve", DT_WHEN_PRE);

	snprintf(text, sizeof(text),
		 "Filter function=sys_execve,argname=%s,argval=bin/n,uid=1\n" /* unanchored */
		 "Filter function=sys_execve,argname=%s,argval=!^/usr/,uid=2\n"
		 "Filter function=sys_execve,argname=%s,argval=*,uid=3\n"
		 "Filter function=sys_execve,argname=%s,argval=.,uid=4\n"
		 "Filter function=sys_execve,argname=*,argval=\"-l,-p\",uid=5\n"
		 "Filter function=sys_execve,argname=*,argval=!xyz,uid=6\n",
		 arg(ex, 0), arg(ex, 0), arg(ex, 0), arg(ex, 0));
	c = tf_chain_of(text);
	tf_setarg(ev, 0, "/usr/bin/nc");
	tf_setarg(ev, 1, "nc -l,-p 1");

	ev->proc.uid = 1;
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 1);
	ev->proc.uid = 2;
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 0);
	ev->args[0].value = "/tmp/nc";
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 2);
	ev->args[0].value = NULL; /* not rendered: !re matches a missing value */
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 2);
	ev->proc.uid = 3; /* '*' matches a missing value */
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 3);
	ev->proc.uid = 4; /* a regex does not */
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 0);
	ev->proc.uid = 5; /* argname=*: any argument, quoted comma */
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 5);
	ev->proc.uid = 6;
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 6);
	ev->args[1].value = "xyz";
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 0);
	dt_chain_free(c);
	dt_chain_reader_free(rd);
	dt_event_free(ev);
}
END_TEST

START_TEST(decodings)
{
	struct dt_chain *c = tf_chain_of(
		"Filter function=do_exit,name=apache,argname=code:signal,argval=SEGV\n"
		"Filter function=sys_socketcall,argname=call:call,argval=connect\n"
		"Filter function=sys_socketcall,argname=call:call,argval=accept,when=post\n"
		"Filter function=sys_execve,argname=regs:filename,argval=/usr/bin/nc\n");
	struct dt_chain_reader *rd = tf_reader("web-1");
	struct dt_event *ev = tf_event("do_exit", DT_WHEN_PRE);

	strcpy(ev->proc.comm, "apache");
	setdec(ev, "code:signal", "SIGSEGV");
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 1);
	strcpy(ev->proc.comm, "nginx");
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 0);
	dt_event_free(ev);

	ev = tf_event("connect", DT_WHEN_PRE);
	setdec(ev, "call:call", "connect");
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 2);
	ev->when = DT_WHEN_POST;
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 0);
	dt_event_free(ev);
	ev = tf_event("accept4", DT_WHEN_POST);
	setdec(ev, "call:call", "accept");
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 3);
	ev->when = DT_WHEN_PRE;
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 0);
	dt_event_free(ev);

	ev = tf_event("execve", DT_WHEN_PRE); /* regs:filename is the filename argument */
	tf_setarg(ev, 0, "/usr/bin/nc");
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 4);
	dt_chain_free(c);
	dt_chain_reader_free(rd);
	dt_event_free(ev);
}
END_TEST

START_TEST(process_keys)
{
	struct dt_chain *c = tf_chain_of("Filter pid=7\nFilter tid=8\nFilter ppid=9\n"
				      "Filter uid=10\nFilter gid=11\nFilter euid=12\n"
				      "Filter egid=13\nFilter name=cron\n");
	struct dt_chain_reader *rd = tf_reader("web-1");
	struct dt_event *ev = tf_event("getpid", DT_WHEN_PRE);
	struct dt_proc_info base = ev->proc;

	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 0);
	ev->proc.tgid = 7; /* pid= is the process id (thread group) */
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 1);
	ev->proc = base;
	ev->proc.pid = 8;
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 2);
	ev->proc = base;
	ev->proc.rppid = 9; /* ppid= is the real parent, as getppid() */
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 3);
	ev->proc = base;
	ev->proc.ppid = 9; /* task->parent (a tracer) is not */
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 0);
	ev->proc.rppid = -1; /* unless real_parent is unknown */
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 3);
	ev->proc = base;
	ev->proc.uid = 10;
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 4);
	ev->proc = base;
	ev->proc.gid = 11;
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 5);
	ev->proc = base;
	ev->proc.euid = 12;
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 6);
	ev->proc = base;
	ev->proc.egid = 13;
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 7);
	ev->proc = base;
	strcpy(ev->proc.comm, "cron");
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 8);
	strcpy(ev->proc.comm, "crond"); /* exact, not a prefix */
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 0);
	dt_chain_free(c);
	dt_chain_reader_free(rd);
	dt_event_free(ev);
}
END_TEST

struct anc_ctx {
	struct dt_proc_info v[3];
	size_t n;
	int calls;
};

static const struct dt_proc_info *load_anc(void *ctx, size_t *ret_n)
{
	struct anc_ctx *a = ctx;

	a->calls++;
	*ret_n = a->n;
	return a->v;
}

START_TEST(ancestry)
{
	char text[512];
	int ex = tf_fid("execve");
	struct dt_chain *c;
	struct dt_chain_reader *rd = tf_reader("web-1");
	struct dt_event *ev = tf_event("execve", DT_WHEN_PRE);
	struct anc_ctx a = { .n = 3 };
	struct dt_ancestry src = { .load = load_anc, .ctx = &a };

	/* the seed's example: apache -> sh, and sh execs nc */
	snprintf(text, sizeof(text),
		 "Filter function=sys_execve,argname=%s,argval=/usr/bin/nc,name=^apache\n"
		 "Filter ppid=^1,uid=0\n"
		 "Filter ppid=^300,name=^sshd\n"
		 "Filter uid=77\n",
		 arg(ex, 0));
	c = tf_chain_of(text);
	strcpy(a.v[0].comm, "apache");
	a.v[0].tgid = 300;
	strcpy(a.v[1].comm, "systemd");
	a.v[1].tgid = 1;
	strcpy(a.v[2].comm, "swapper");
	a.v[2].tgid = 0;
	strcpy(ev->proc.comm, "sh");
	tf_setarg(ev, 0, "/usr/bin/nc");
	ck_assert_uint_eq(tf_first(c, rd, ev, &src), 1);
	ck_assert_int_eq(a.calls, 1);

	/* the process itself counts: apache exec'ing nc directly; no ancestry needed */
	strcpy(ev->proc.comm, "apache");
	a.calls = 0;
	ck_assert_uint_eq(tf_first(c, rd, ev, &src), 1);
	ck_assert_int_eq(a.calls, 0);

	/* filters without ^ never load it; loaded at most once per match */
	ev->args[0].value = "/bin/ls";
	ev->proc.uid = 77;
	ck_assert_uint_eq(tf_first(c, rd, ev, &src), 4);
	ck_assert_int_eq(a.calls, 1); /* filters 1 (arg fails first) 2 (uid) 3: one load */
	ev->proc.uid = 0;
	a.calls = 0;
	ck_assert_uint_eq(tf_first(c, rd, ev, &src), 2); /* ppid=^1: systemd is an ancestor */
	ck_assert_int_eq(a.calls, 1);
	ev->proc.uid = 5;
	ck_assert_uint_eq(tf_first(c, rd, ev, &src), 0); /* 3: pid 300 yes, but no sshd */
	strcpy(a.v[1].comm, "sshd");
	ck_assert_uint_eq(tf_first(c, rd, ev, &src), 3);

	/* without a loader: the event's own ancestry */
	ev->anc = a.v;
	ev->nanc = 1;
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 0);
	ev->nanc = 2;
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 3);
	dt_chain_free(c);
	dt_chain_reader_free(rd);
	dt_event_free(ev);
}
END_TEST

START_TEST(when_and_retval)
{
	char text[512];
	int ex = tf_fid("execve");
	struct dt_chain *c;
	struct dt_chain_reader *rd = tf_reader("web-1");
	struct dt_event *ev = tf_event("wait4", DT_WHEN_POST);
	struct dt_match m;

	snprintf(text, sizeof(text),
		 "Filter function=sys_waitpid,name=php-cgi,when=post,retval=^[1-9]\n"
		 "Filter function=sys_waitpid,when=post,retval=!^-,argname=*,argval=zzz\n"
		 "Filter function=sys_execve,when=both,argname=%s,argval=sh\n"
		 "Filter function=sys_execve,name=php-cgi,apply=1,retval=-1\n"
		 "Filter apply=1,retval=-EACCES,uid=4\n",
		 arg(ex, 0));
	c = tf_chain_of(text);
	strcpy(ev->proc.comm, "php-cgi");
	ev->has_ret = true;
	ev->ret = 1234;
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 1);
	ev->ret = 0;
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 0);
	ev->ret = -10;
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 0);
	ev->ret = INT64_MIN;
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 0);
	ev->has_ret = false; /* no return value: a retval filter cannot match */
	ev->ret = 5;
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 0);
	ev->has_ret = true;
	ev->ret = 0; /* retval and argval together, on the same filter */
	ev->nargs = 1;
	tf_setarg(ev, 0, "zzz");
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 2);
	ev->when = DT_WHEN_PRE; /* post filters never match at pre */
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 0);
	dt_event_free(ev);

	ev = tf_event("execve", DT_WHEN_PRE);
	tf_setarg(ev, 0, "/bin/sh");
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 3);
	ev->when = DT_WHEN_POST; /* when=both: at post too */
	ev->has_ret = true;
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 3);
	ev->when = DT_WHEN_PRE;
	ev->args[0].value = "/bin/ls";
	strcpy(ev->proc.comm, "php-cgi");
	ck_assert_int_eq(dt_chain_match(c, rd, ev, NULL, &m), 1);
	ck_assert_uint_eq(m.filter, 4);
	ck_assert(m.apply);
	ck_assert_int_eq(m.abort_ret, -1);
	ev->when = DT_WHEN_POST; /* abort filters act only before the call */
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 0);
	ev->when = DT_WHEN_PRE;
	strcpy(ev->proc.comm, "x");
	ev->proc.uid = 4;
	ck_assert_int_eq(dt_chain_match(c, rd, ev, NULL, &m), 1);
	ck_assert_uint_eq(m.filter, 5);
	ck_assert_int_eq(m.abort_ret, -13);
	dt_chain_free(c);
	dt_chain_reader_free(rd);
	dt_event_free(ev);
}
END_TEST

START_TEST(sections_and_generations)
{
	const char *text = "Filter uid=1\n"
			   "Domain web-*\nFilter function=sys_execve,when=post\nFilter uid=2\n"
			   "Domain db-*, web-2\nFilter uid=3\nFilter uid=2,gid=0\n";
	struct dt_chain *c = tf_chain_of(text), *c2;
	struct dt_chain_reader *web1 = tf_reader("web-1"), *web2 = tf_reader("web-2"),
			       *db = tf_reader("db-7");
	struct dt_event *ev = tf_event("getpid", DT_WHEN_PRE);

	ck_assert_uint_eq(dt_chain_length(c), 5);
	ev->proc.uid = 1;
	ck_assert_uint_eq(tf_first(c, db, ev, NULL), 1);
	ev->proc.uid = 2;
	ck_assert_uint_eq(tf_first(c, web1, ev, NULL), 3);
	ck_assert_uint_eq(tf_first(c, db, ev, NULL), 0);
	ev->proc.gid = 0;
	ck_assert_uint_eq(tf_first(c, db, ev, NULL), 5);
	ck_assert_uint_eq(tf_first(c, web2, ev, NULL), 3); /* web-2 is in both sections */
	ev->proc.uid = 3;
	ck_assert_uint_eq(tf_first(c, web2, ev, NULL), 4);
	ck_assert_uint_eq(tf_first(c, web1, ev, NULL), 0);

	ck_assert(dt_chain_wants_post(c, web1, tf_fid("execve")));
	ck_assert(!dt_chain_wants_post(c, db, tf_fid("execve")));
	ck_assert(!dt_chain_wants_post(c, web1, tf_fid("openat")));

	/* a new chain (new generation): the readers' section caches follow */
	c2 = tf_chain_of("Domain db-*\nFilter uid=3\n");
	ck_assert_uint_ne(dt_chain_generation(c), dt_chain_generation(c2));
	ck_assert_uint_eq(tf_first(c2, web2, ev, NULL), 0);
	ck_assert_uint_eq(tf_first(c2, db, ev, NULL), 1);
	ck_assert_uint_eq(tf_first(c, web2, ev, NULL), 4);
	ev->func_id = 1 << 20; /* outside the catalogue: only function=* filters */
	ck_assert_uint_eq(tf_first(c, web2, ev, NULL), 4);
	dt_chain_free(c);
	dt_chain_free(c2);
	dt_chain_reader_free(web1);
	dt_chain_reader_free(web2);
	dt_chain_reader_free(db);
	dt_event_free(ev);
}
END_TEST

START_TEST(hostile_values)
{
	/* catastrophic backtracking on a long guest string is bounded by the match limit */
	struct dt_chain *c = tf_chain_of("Filter argname=*,argval=^(a+)+$\nFilter uid=1000\n");
	struct dt_chain_reader *rd = tf_reader("web-1");
	struct dt_event *ev = tf_event("execve", DT_WHEN_PRE);
	char s[4001];

	memset(s, 'a', 4000);
	s[3999] = 'b';
	s[4000] = '\0';
	tf_setarg(ev, 0, s);
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 2);
	dt_chain_free(c);
	/* a UTF pattern on a guest string that is not UTF-8: an error PCRE2 reports and
	 * counts (such patterns go through pcre2_match, which checks), not a search of bad
	 * input by the JIT's direct entry */
	c = tf_chain_of("Filter argname=*,argval=(*UTF)\xc3\xa9t\xc3\xa9\nFilter uid=1000\n");
	tf_setarg(ev, 0, "\xc3\x28\xff\xfe\xc3\xa9t\xc3\xa9");
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 2);
	ck_assert_uint_eq(dt_chain_regex_errors(c, 1), 1);
	ck_assert_int_eq(dt_chain_reader_new("a-name-that-is-much-longer-than-the-sixty-three-bytes-"
					     "a-vm-name-may-have", &rd), -EINVAL);
	dt_chain_free(c);
	dt_chain_reader_free(rd);
	dt_event_free(ev);
}
END_TEST

/*
 * An argument whose value is not known yet (not present at entry, or to be read from the
 * kernel's copy): filters that do not read it still decide; the first one that could
 * match and reads it makes the match UNDECIDED, naming it.
 */
START_TEST(unknown_arguments)
{
	int oa = tf_fid("openat");
	struct dt_chain *c = tf_chain_of("Filter function=openat,name=php-cgi,apply=1\n"
				      "Filter function=openat,argname=filename,argval=shadow,apply=1\n"
				      "Filter function=openat,argname=*,argval=O_CREAT\n"
				      "Filter function=openat,uid=1000\n");
	struct dt_chain_reader *rd = tf_reader("web-1");
	struct dt_event *ev = tf_event("openat", DT_WHEN_PRE);
	struct dt_match m;

	(void)oa;
	tf_setarg(ev, 1, "<not present 0x7ffff7fe0000>");
	tf_setarg(ev, 2, "O_RDONLY");
	ev->unknown = 1u << 1;
	/* filter 1 reads no argument: it decides at once */
	strcpy(ev->proc.comm, "php-cgi");
	ck_assert_int_eq(dt_chain_match(c, rd, ev, NULL, &m), 1);
	ck_assert_uint_eq(m.filter, 1);
	ck_assert(m.apply);
	/* filter 2 needs the path: undecided, and it is an abort filter */
	strcpy(ev->proc.comm, "bash");
	ck_assert_int_eq(dt_chain_match(c, rd, ev, NULL, &m), DT_CHAIN_UNDECIDED);
	ck_assert_uint_eq(m.filter, 2);
	ck_assert(m.apply);
	/* once known, decided on the value, not on the "<not present>" text */
	ev->unknown = 0;
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 4);
	tf_setarg(ev, 1, "/etc/shadow");
	ck_assert_uint_eq(tf_first(c, rd, ev, NULL), 2);
	/* argname=*: a known argument that hits decides; otherwise an unknown one could */
	dt_chain_free(c);
	c = tf_chain_of("Filter function=openat,argname=*,argval=O_CREAT,apply=1\n"
		     "Filter function=openat,argname=*,argval=!shadow\n");
	tf_setarg(ev, 1, "<not present 0x7ffff7fe0000>");
	ev->unknown = 1u << 1;
	tf_setarg(ev, 2, "O_WRONLY|O_CREAT");
	ck_assert_int_eq(dt_chain_match(c, rd, ev, NULL, &m), 1);
	ck_assert_uint_eq(m.filter, 1);
	tf_setarg(ev, 2, "O_RDONLY");
	ck_assert_int_eq(dt_chain_match(c, rd, ev, NULL, &m), DT_CHAIN_UNDECIDED);
	ck_assert_uint_eq(m.filter, 1);
	dt_chain_free(c);
	dt_chain_reader_free(rd);
	dt_event_free(ev);
}
END_TEST

/*
 * A regex PCRE2 cannot finish (catastrophic backtracking hits the match limit) is not a
 * "no match": counted, and by OnRegexError (default deny) an abort filter's key is taken
 * as matched, a reporting filter's as not; with allow, nothing matches on it.
 */
START_TEST(regex_errors_by_policy)
{
	static const char filters[] =
		"Filter function=openat,argname=filename,argval=(a+)+b|shadow,apply=1\n"
		"Filter function=openat,argname=filename,argval=(x+)+y|qqq\n"
		"Filter function=openat\n";
	char text[512], path[128];
	struct dt_chain *c;
	struct dt_chain_reader *rd = tf_reader("web-1");
	struct dt_event *ev = tf_event("openat", DT_WHEN_PRE);
	struct dt_match m;

	memset(path, 'a', 40);
	strcpy(path + 40, "/etc/shadow");
	tf_setarg(ev, 1, path);
	c = tf_chain_of(filters);
	ck_assert_int_eq(dt_chain_match(c, rd, ev, NULL, &m), 1);
	ck_assert_uint_eq(m.filter, 1); /* deny: the abort filter's failure is a match */
	ck_assert(m.apply);
	ck_assert_uint_eq(m.regex_error, 1);
	ck_assert(m.regex_error_first);
	ck_assert_int_eq(dt_chain_match(c, rd, ev, NULL, &m), 1);
	ck_assert(!m.regex_error_first); /* said once per filter */
	ck_assert_uint_eq(dt_chain_regex_errors(c, 1), 2);
	/* a reporting filter's failure does not shadow what follows */
	memset(path, 'x', 40);
	strcpy(path + 40, "/tmp/z");
	tf_setarg(ev, 1, path);
	ck_assert_int_eq(dt_chain_match(c, rd, ev, NULL, &m), 1);
	ck_assert_uint_eq(m.filter, 3);
	ck_assert_uint_eq(m.regex_error, 2);
	ck_assert_uint_eq(dt_chain_regex_errors(c, 2), 1);
	dt_chain_free(c);
	/* allow: no filter matches on a failed regex */
	snprintf(text, sizeof(text), "OnRegexError allow\n%s", filters);
	c = tf_chain_of(text);
	memset(path, 'a', 40);
	strcpy(path + 40, "/etc/shadow");
	tf_setarg(ev, 1, path);
	ck_assert_int_eq(dt_chain_match(c, rd, ev, NULL, &m), 1);
	ck_assert_uint_eq(m.filter, 3);
	ck_assert_uint_eq(m.regex_error, 1);
	dt_chain_free(c);
	dt_chain_reader_free(rd);
	dt_event_free(ev);
}
END_TEST

static Suite *filter_suite(void)
{
	Suite *s = suite_create("filter");
	TCase *tc = tcase_create("match");

	tcase_add_test(tc, first_match_in_chain_order);
	tcase_add_test(tc, no_argname_and_no_args);
	tcase_add_test(tc, argval_semantics);
	tcase_add_test(tc, decodings);
	tcase_add_test(tc, process_keys);
	tcase_add_test(tc, ancestry);
	tcase_add_test(tc, when_and_retval);
	tcase_add_test(tc, sections_and_generations);
	tcase_add_test(tc, hostile_values);
	tcase_add_test(tc, unknown_arguments);
	tcase_add_test(tc, regex_errors_by_policy);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(filter_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
