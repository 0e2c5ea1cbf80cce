// SPDX-License-Identifier: GPL-2.0-only
/* filters/: matching semantics of the chain (first match in chain order, every key,
 * ancestry, VM sections, post filters). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain_index.h"
#include "domtrace/catalog.h"
#include "domtrace/config.h"
#include "domtrace/filter.h"

static int fid(const char *name)
{
	int ids[64];

	ck_assert_msg(dt_catalog_resolve(name, ids, 64) > 0, "catalogue lacks %s", name);
	return ids[0];
}

static struct dt_chain *chain_of(const char *text)
{
	struct dt_config_diags d = { 0 };
	struct dt_config *cfg = NULL;
	struct dt_chain *c = NULL;
	int r = dt_config_parse_string("t.conf", text, strlen(text), &cfg, &d);
	size_t e = 0;

	while (e + 1 < d.n && d.v[e].warning)
		e++; /* the first error, past the warnings */
	ck_assert_msg(r == 0, "parse: %s", d.n ? d.v[e].text : "?");
	ck_assert_int_eq(dt_chain_new(cfg, &c), 0);
	dt_config_diags_clear(&d);
	return c;
}

static struct dt_event *mkev(const char *func, enum dt_when when)
{
	struct dt_event *ev;
	const struct dt_funcdesc *fd;
	unsigned i;

	ck_assert_int_eq(dt_event_new(DT_EV_CALL, 4096, &ev), 0);
	ev->when = when;
	ev->func_id = fid(func);
	fd = dt_catalog_get(ev->func_id);
	ev->func = fd->name;
	ev->nargs = fd->nargs;
	for (i = 0; i < fd->nargs; i++)
		ev->args[i].name = fd->args[i].name;
	ev->proc = (struct dt_proc_info){ .pid = 101, .tgid = 100, .ppid = 50, .rppid = 50,
					  .uid = 1000, .gid = 100, .euid = 0, .egid = 10 };
	strcpy(ev->proc.comm, "bash");
	strcpy(ev->vm, "web-1");
	return ev;
}

static void setarg(struct dt_event *ev, unsigned i, const char *value)
{
	ck_assert_uint_lt(i, ev->nargs);
	ev->args[i].value = dt_event_strdup(ev, value, strlen(value));
}

static void setdec(struct dt_event *ev, const char *name, const char *value)
{
	ck_assert(dt_event_add_dec(ev, dt_event_strdup(ev, name, strlen(name)),
				   dt_event_strdup(ev, value, strlen(value))));
}

static struct dt_chain_reader *reader(const char *vm)
{
	struct dt_chain_reader *rd = NULL;

	ck_assert_int_eq(dt_chain_reader_new(vm, &rd), 0);
	return rd;
}

/* Index of the first matching filter, 0 if none. */
static uint32_t first(struct dt_chain *c, struct dt_chain_reader *rd, const struct dt_event *ev,
		      const struct dt_ancestry *anc)
{
	struct dt_match m = { 0 };

	if (!dt_chain_match(c, rd, ev, anc, &m))
		return 0;
	ck_assert_uint_gt(m.filter, 0);
	return m.filter;
}

static const char *arg(int id, unsigned i)
{
	return dt_catalog_get(id)->args[i].name;
}

START_TEST(first_match_in_chain_order)
{
	char text[512];
	int ex = fid("execve");
	struct dt_chain *c;
	struct dt_chain_reader *rd = reader("web-1");
	struct dt_event *ev = mkev("execve", DT_WHEN_PRE);

	/* the ancestor went argument by argument: filter 2 (on argument 0) would have
	 * beaten filter 1 (on argument 1). Strict chain order picks filter 1. */
	snprintf(text, sizeof(text),
		 "Filter function=sys_execve,argname=%s,argval=^nc\n"
		 "Filter function=sys_execve,argname=%s,argval=/nc$\n"
		 "Filter function=*\n",
		 arg(ex, 1), arg(ex, 0));
	c = chain_of(text);
	setarg(ev, 0, "/usr/bin/nc");
	setarg(ev, 1, "nc -l -p 4444");
	ck_assert_uint_eq(first(c, rd, ev, NULL), 1);
	setarg(ev, 1, "ncat");
	ev->args[1].value = "x nc";
	ck_assert_uint_eq(first(c, rd, ev, NULL), 2);
	ev->args[0].value = "/bin/ls";
	ck_assert_uint_eq(first(c, rd, ev, NULL), 3);
	dt_chain_free(c);
	dt_chain_reader_free(rd);
	dt_event_free(ev);
}
END_TEST

START_TEST(no_argname_and_no_args)
{
	/* the ancestor could never match a syscall without arguments */
	struct dt_chain *c = chain_of("Filter function=getpid\nFilter name=bash\n");
	struct dt_chain_reader *rd = reader("web-1");
	struct dt_event *ev = mkev("getpid", DT_WHEN_PRE);

	ck_assert_uint_eq(ev->nargs, 0);
	ck_assert_uint_eq(first(c, rd, ev, NULL), 1);
	dt_event_free(ev);
	ev = mkev("getppid", DT_WHEN_PRE);
	ck_assert_uint_eq(first(c, rd, ev, NULL), 2);
	strcpy(ev->proc.comm, "zsh");
	ck_assert_uint_eq(first(c, rd, ev, NULL), 0);
	dt_chain_free(c);
	dt_chain_reader_free(rd);
	dt_event_free(ev);
}
END_TEST

START_TEST(argval_semantics)
{
	char text[1024];
	int ex = fid("execve");
	struct dt_chain *c;
	struct dt_chain_reader *rd = reader("web-1");
	struct dt_event *ev = mkev("execve", DT_WHEN_PRE);

	snprintf(text, sizeof(text),
		 "Filter function=sys_execve,argname=%s,argval=bin/n,uid=1\n" /* unanchored */
		 "Filter function=sys_execve,argname=%s,argval=!^/usr/,uid=2\n"
		 "Filter function=sys_execve,argname=%s,argval=*,uid=3\n"
		 "Filter function=sys_execve,argname=%s,argval=.,uid=4\n"
		 "Filter function=sys_execve,argname=*,argval=\"-l,-p\",uid=5\n"
		 "Filter function=sys_execve,argname=*,argval=!xyz,uid=6\n",
		 arg(ex, 0), arg(ex, 0), arg(ex, 0), arg(ex, 0));
	c = chain_of(text);
	setarg(ev, 0, "/usr/bin/nc");
	setarg(ev, 1, "nc -l,-p 1");

	ev->proc.uid = 1;
	ck_assert_uint_eq(first(c, rd, ev, NULL), 1);
	ev->proc.uid = 2;
	ck_assert_uint_eq(first(c, rd, ev, NULL), 0);
	ev->args[0].value = "/tmp/nc";
	ck_assert_uint_eq(first(c, rd, ev, NULL), 2);
	ev->args[0].value = NULL; /* not rendered: !re matches a missing value */
	ck_assert_uint_eq(first(c, rd, ev, NULL), 2);
	ev->proc.uid = 3; /* '*' matches a missing value */
	ck_assert_uint_eq(first(c, rd, ev, NULL), 3);
	ev->proc.uid = 4; /* a regex does not */
	ck_assert_uint_eq(first(c, rd, ev, NULL), 0);
	ev->proc.uid = 5; /* argname=*: any argument, quoted comma */
	ck_assert_uint_eq(first(c, rd, ev, NULL), 5);
	ev->proc.uid = 6;
	ck_assert_uint_eq(first(c, rd, ev, NULL), 6);
	ev->args[1].value = "xyz";
	ck_assert_uint_eq(first(c, rd, ev, NULL), 0);
	dt_chain_free(c);
	dt_chain_reader_free(rd);
	dt_event_free(ev);
}
END_TEST

START_TEST(decodings)
{
	struct dt_chain *c = chain_of(
		"Filter function=do_exit,name=apache,argname=code:signal,argval=SEGV\n"
		"Filter function=sys_socketcall,argname=call:call,argval=connect\n"
		"Filter function=sys_socketcall,argname=call:call,argval=accept,when=post\n"
		"Filter function=sys_execve,argname=regs:filename,argval=/usr/bin/nc\n");
	struct dt_chain_reader *rd = reader("web-1");
	struct dt_event *ev = mkev("do_exit", DT_WHEN_PRE);

	strcpy(ev->proc.comm, "apache");
	setdec(ev, "code:signal", "SIGSEGV");
	ck_assert_uint_eq(first(c, rd, ev, NULL), 1);
	strcpy(ev->proc.comm, "nginx");
	ck_assert_uint_eq(first(c, rd, ev, NULL), 0);
	dt_event_free(ev);

	ev = mkev("connect", DT_WHEN_PRE);
	setdec(ev, "call:call", "connect");
	ck_assert_uint_eq(first(c, rd, ev, NULL), 2);
	ev->when = DT_WHEN_POST;
	ck_assert_uint_eq(first(c, rd, ev, NULL), 0);
	dt_event_free(ev);
	ev = mkev("accept4", DT_WHEN_POST);
	setdec(ev, "call:call", "accept");
	ck_assert_uint_eq(first(c, rd, ev, NULL), 3);
	ev->when = DT_WHEN_PRE;
	ck_assert_uint_eq(first(c, rd, ev, NULL), 0);
	dt_event_free(ev);

	ev = mkev("execve", DT_WHEN_PRE); /* regs:filename is the filename argument */
	setarg(ev, 0, "/usr/bin/nc");
	ck_assert_uint_eq(first(c, rd, ev, NULL), 4);
	dt_chain_free(c);
	dt_chain_reader_free(rd);
	dt_event_free(ev);
}
END_TEST

START_TEST(process_keys)
{
	struct dt_chain *c = chain_of("Filter pid=7\nFilter tid=8\nFilter ppid=9\n"
				      "Filter uid=10\nFilter gid=11\nFilter euid=12\n"
				      "Filter egid=13\nFilter name=cron\n");
	struct dt_chain_reader *rd = reader("web-1");
	struct dt_event *ev = mkev("getpid", DT_WHEN_PRE);
	struct dt_proc_info base = ev->proc;

	ck_assert_uint_eq(first(c, rd, ev, NULL), 0);
	ev->proc.tgid = 7; /* pid= is the process id (thread group) */
	ck_assert_uint_eq(first(c, rd, ev, NULL), 1);
	ev->proc = base;
	ev->proc.pid = 8;
	ck_assert_uint_eq(first(c, rd, ev, NULL), 2);
	ev->proc = base;
	ev->proc.rppid = 9; /* ppid= is the real parent, as getppid() */
	ck_assert_uint_eq(first(c, rd, ev, NULL), 3);
	ev->proc = base;
	ev->proc.ppid = 9; /* task->parent (a tracer) is not */
	ck_assert_uint_eq(first(c, rd, ev, NULL), 0);
	ev->proc.rppid = -1; /* unless real_parent is unknown */
	ck_assert_uint_eq(first(c, rd, ev, NULL), 3);
	ev->proc = base;
	ev->proc.uid = 10;
	ck_assert_uint_eq(first(c, rd, ev, NULL), 4);
	ev->proc = base;
	ev->proc.gid = 11;
	ck_assert_uint_eq(first(c, rd, ev, NULL), 5);
	ev->proc = base;
	ev->proc.euid = 12;
	ck_assert_uint_eq(first(c, rd, ev, NULL), 6);
	ev->proc = base;
	ev->proc.egid = 13;
	ck_assert_uint_eq(first(c, rd, ev, NULL), 7);
	ev->proc = base;
	strcpy(ev->proc.comm, "cron");
	ck_assert_uint_eq(first(c, rd, ev, NULL), 8);
	strcpy(ev->proc.comm, "crond"); /* exact, not a prefix */
	ck_assert_uint_eq(first(c, rd, ev, NULL), 0);
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
	int ex = fid("execve");
	struct dt_chain *c;
	struct dt_chain_reader *rd = reader("web-1");
	struct dt_event *ev = mkev("execve", DT_WHEN_PRE);
	struct anc_ctx a = { .n = 3 };
	struct dt_ancestry src = { .load = load_anc, .ctx = &a };

	/* the seed's example: apache -> sh, and sh execs nc */
	snprintf(text, sizeof(text),
		 "Filter function=sys_execve,argname=%s,argval=/usr/bin/nc,name=^apache\n"
		 "Filter ppid=^1,uid=0\n"
		 "Filter ppid=^300,name=^sshd\n"
		 "Filter uid=77\n",
		 arg(ex, 0));
	c = chain_of(text);
	strcpy(a.v[0].comm, "apache");
	a.v[0].tgid = 300;
	strcpy(a.v[1].comm, "systemd");
	a.v[1].tgid = 1;
	strcpy(a.v[2].comm, "swapper");
	a.v[2].tgid = 0;
	strcpy(ev->proc.comm, "sh");
	setarg(ev, 0, "/usr/bin/nc");
	ck_assert_uint_eq(first(c, rd, ev, &src), 1);
	ck_assert_int_eq(a.calls, 1);

	/* the process itself counts: apache exec'ing nc directly; no ancestry needed */
	strcpy(ev->proc.comm, "apache");
	a.calls = 0;
	ck_assert_uint_eq(first(c, rd, ev, &src), 1);
	ck_assert_int_eq(a.calls, 0);

	/* filters without ^ never load it; loaded at most once per match */
	ev->args[0].value = "/bin/ls";
	ev->proc.uid = 77;
	ck_assert_uint_eq(first(c, rd, ev, &src), 4);
	ck_assert_int_eq(a.calls, 1); /* filters 1 (arg fails first) 2 (uid) 3: one load */
	ev->proc.uid = 0;
	a.calls = 0;
	ck_assert_uint_eq(first(c, rd, ev, &src), 2); /* ppid=^1: systemd is an ancestor */
	ck_assert_int_eq(a.calls, 1);
	ev->proc.uid = 5;
	ck_assert_uint_eq(first(c, rd, ev, &src), 0); /* 3: pid 300 yes, but no sshd */
	strcpy(a.v[1].comm, "sshd");
	ck_assert_uint_eq(first(c, rd, ev, &src), 3);

	/* without a loader: the event's own ancestry */
	ev->anc = a.v;
	ev->nanc = 1;
	ck_assert_uint_eq(first(c, rd, ev, NULL), 0);
	ev->nanc = 2;
	ck_assert_uint_eq(first(c, rd, ev, NULL), 3);
	dt_chain_free(c);
	dt_chain_reader_free(rd);
	dt_event_free(ev);
}
END_TEST

START_TEST(when_and_retval)
{
	char text[512];
	int ex = fid("execve");
	struct dt_chain *c;
	struct dt_chain_reader *rd = reader("web-1");
	struct dt_event *ev = mkev("wait4", DT_WHEN_POST);
	struct dt_match m;

	snprintf(text, sizeof(text),
		 "Filter function=sys_waitpid,name=php-cgi,when=post,retval=^[1-9]\n"
		 "Filter function=sys_waitpid,when=post,retval=!^-,argname=*,argval=zzz\n"
		 "Filter function=sys_execve,when=both,argname=%s,argval=sh\n"
		 "Filter function=sys_execve,name=php-cgi,apply=1,retval=-1\n"
		 "Filter apply=1,retval=-EACCES,uid=4\n",
		 arg(ex, 0));
	c = chain_of(text);
	strcpy(ev->proc.comm, "php-cgi");
	ev->has_ret = true;
	ev->ret = 1234;
	ck_assert_uint_eq(first(c, rd, ev, NULL), 1);
	ev->ret = 0;
	ck_assert_uint_eq(first(c, rd, ev, NULL), 0);
	ev->ret = -10;
	ck_assert_uint_eq(first(c, rd, ev, NULL), 0);
	ev->ret = INT64_MIN;
	ck_assert_uint_eq(first(c, rd, ev, NULL), 0);
	ev->has_ret = false; /* no return value: a retval filter cannot match */
	ev->ret = 5;
	ck_assert_uint_eq(first(c, rd, ev, NULL), 0);
	ev->has_ret = true;
	ev->ret = 0; /* retval and argval together, on the same filter */
	ev->nargs = 1;
	setarg(ev, 0, "zzz");
	ck_assert_uint_eq(first(c, rd, ev, NULL), 2);
	ev->when = DT_WHEN_PRE; /* post filters never match at pre */
	ck_assert_uint_eq(first(c, rd, ev, NULL), 0);
	dt_event_free(ev);

	ev = mkev("execve", DT_WHEN_PRE);
	setarg(ev, 0, "/bin/sh");
	ck_assert_uint_eq(first(c, rd, ev, NULL), 3);
	ev->when = DT_WHEN_POST; /* when=both: at post too */
	ev->has_ret = true;
	ck_assert_uint_eq(first(c, rd, ev, NULL), 3);
	ev->when = DT_WHEN_PRE;
	ev->args[0].value = "/bin/ls";
	strcpy(ev->proc.comm, "php-cgi");
	ck_assert_int_eq(dt_chain_match(c, rd, ev, NULL, &m), 1);
	ck_assert_uint_eq(m.filter, 4);
	ck_assert(m.apply);
	ck_assert_int_eq(m.abort_ret, -1);
	ev->when = DT_WHEN_POST; /* abort filters act only before the call */
	ck_assert_uint_eq(first(c, rd, ev, NULL), 0);
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
	struct dt_chain *c = chain_of(text), *c2;
	struct dt_chain_reader *web1 = reader("web-1"), *web2 = reader("web-2"),
			       *db = reader("db-7");
	struct dt_event *ev = mkev("getpid", DT_WHEN_PRE);

	ck_assert_uint_eq(dt_chain_length(c), 5);
	ev->proc.uid = 1;
	ck_assert_uint_eq(first(c, db, ev, NULL), 1);
	ev->proc.uid = 2;
	ck_assert_uint_eq(first(c, web1, ev, NULL), 3);
	ck_assert_uint_eq(first(c, db, ev, NULL), 0);
	ev->proc.gid = 0;
	ck_assert_uint_eq(first(c, db, ev, NULL), 5);
	ck_assert_uint_eq(first(c, web2, ev, NULL), 3); /* web-2 is in both sections */
	ev->proc.uid = 3;
	ck_assert_uint_eq(first(c, web2, ev, NULL), 4);
	ck_assert_uint_eq(first(c, web1, ev, NULL), 0);

	ck_assert(dt_chain_wants_post(c, web1, fid("execve")));
	ck_assert(!dt_chain_wants_post(c, db, fid("execve")));
	ck_assert(!dt_chain_wants_post(c, web1, fid("openat")));

	/* a new chain (new generation): the readers' section caches follow */
	c2 = chain_of("Domain db-*\nFilter uid=3\n");
	ck_assert_uint_ne(dt_chain_generation(c), dt_chain_generation(c2));
	ck_assert_uint_eq(first(c2, web2, ev, NULL), 0);
	ck_assert_uint_eq(first(c2, db, ev, NULL), 1);
	ck_assert_uint_eq(first(c, web2, ev, NULL), 4);
	ev->func_id = 1 << 20; /* outside the catalogue: only function=* filters */
	ck_assert_uint_eq(first(c, web2, ev, NULL), 4);
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
	struct dt_chain *c = chain_of("Filter argname=*,argval=^(a+)+$\nFilter uid=1000\n");
	struct dt_chain_reader *rd = reader("web-1");
	struct dt_event *ev = mkev("execve", DT_WHEN_PRE);
	char s[4001];

	memset(s, 'a', 4000);
	s[3999] = 'b';
	s[4000] = '\0';
	setarg(ev, 0, s);
	ck_assert_uint_eq(first(c, rd, ev, NULL), 2);
	dt_chain_free(c);
	/* a UTF pattern on a guest string that is not UTF-8: an error PCRE2 reports and
	 * counts (such patterns go through pcre2_match, which checks), not a search of bad
	 * input by the JIT's direct entry */
	c = chain_of("Filter argname=*,argval=(*UTF)\xc3\xa9t\xc3\xa9\nFilter uid=1000\n");
	setarg(ev, 0, "\xc3\x28\xff\xfe\xc3\xa9t\xc3\xa9");
	ck_assert_uint_eq(first(c, rd, ev, NULL), 2);
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
	int oa = fid("openat");
	struct dt_chain *c = chain_of("Filter function=openat,name=php-cgi,apply=1\n"
				      "Filter function=openat,argname=filename,argval=shadow,apply=1\n"
				      "Filter function=openat,argname=*,argval=O_CREAT\n"
				      "Filter function=openat,uid=1000\n");
	struct dt_chain_reader *rd = reader("web-1");
	struct dt_event *ev = mkev("openat", DT_WHEN_PRE);
	struct dt_match m;

	(void)oa;
	setarg(ev, 1, "<not present 0x7ffff7fe0000>");
	setarg(ev, 2, "O_RDONLY");
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
	ck_assert_uint_eq(first(c, rd, ev, NULL), 4);
	setarg(ev, 1, "/etc/shadow");
	ck_assert_uint_eq(first(c, rd, ev, NULL), 2);
	/* argname=*: a known argument that hits decides; otherwise an unknown one could */
	dt_chain_free(c);
	c = chain_of("Filter function=openat,argname=*,argval=O_CREAT,apply=1\n"
		     "Filter function=openat,argname=*,argval=!shadow\n");
	setarg(ev, 1, "<not present 0x7ffff7fe0000>");
	ev->unknown = 1u << 1;
	setarg(ev, 2, "O_WRONLY|O_CREAT");
	ck_assert_int_eq(dt_chain_match(c, rd, ev, NULL, &m), 1);
	ck_assert_uint_eq(m.filter, 1);
	setarg(ev, 2, "O_RDONLY");
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
	struct dt_chain_reader *rd = reader("web-1");
	struct dt_event *ev = mkev("openat", DT_WHEN_PRE);
	struct dt_match m;

	memset(path, 'a', 40);
	strcpy(path + 40, "/etc/shadow");
	setarg(ev, 1, path);
	c = chain_of(filters);
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
	setarg(ev, 1, path);
	ck_assert_int_eq(dt_chain_match(c, rd, ev, NULL, &m), 1);
	ck_assert_uint_eq(m.filter, 3);
	ck_assert_uint_eq(m.regex_error, 2);
	ck_assert_uint_eq(dt_chain_regex_errors(c, 2), 1);
	dt_chain_free(c);
	/* allow: no filter matches on a failed regex */
	snprintf(text, sizeof(text), "OnRegexError allow\n%s", filters);
	c = chain_of(text);
	memset(path, 'a', 40);
	strcpy(path + 40, "/etc/shadow");
	setarg(ev, 1, path);
	ck_assert_int_eq(dt_chain_match(c, rd, ev, NULL, &m), 1);
	ck_assert_uint_eq(m.filter, 3);
	ck_assert_uint_eq(m.regex_error, 1);
	dt_chain_free(c);
	dt_chain_reader_free(rd);
	dt_event_free(ev);
}
END_TEST

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
		const struct dt_funcdesc *fd = dt_catalog_get(fid(fn));

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
	struct dt_event *ev = mkev(fn, rnd(2) ? DT_WHEN_PRE : DT_WHEN_POST);
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
		struct dt_chain *c = chain_of(text);

		for (unsigned r = 0; r < 3; r++) {
			struct dt_chain_reader *rd = reader(vms[r]);

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
	struct dt_chain_reader *rd = reader("web-1");
	struct dt_event *ev = mkev("getpid", DT_WHEN_POST);
	struct dt_match m;
	unsigned i;

	ck_assert_ptr_nonnull(text);
	for (i = 0; i < 1000; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"Filter function=getpid,when=post,retval=^-(%u|%u)$\n", i + 1,
					10000 + i);
	c = chain_of(text);
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
	tc = tcase_create("prefilter");
	tcase_set_timeout(tc, 240); /* thousands of filters, walked naively too */
	tcase_add_loop_test(tc, prefilter_same_verdicts, 0, 3);
	tcase_add_test(tc, prefilter_excludes);
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
