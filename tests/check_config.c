// SPDX-License-Identifier: GPL-2.0-only
/* config/: parsing (every key, every error with file:line:col), the fixed ancestor
 * quirks, the seed's example lines, and the VM queries. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domtrace/catalog.h"
#include "domtrace/config.h"

static int fid(const char *name)
{
	int ids[64];

	ck_assert_msg(dt_catalog_resolve(name, ids, 64) > 0, "catalogue lacks %s", name);
	return ids[0];
}

static struct dt_config *ok(const char *text)
{
	struct dt_config_diags d = { 0 };
	struct dt_config *cfg = NULL;
	int r = dt_config_parse_string("t.conf", text, strlen(text), &cfg, &d);

	ck_assert_msg(r == 0, "parse failed (%d): %s", r, d.n ? d.v[0].text : "no diag");
	ck_assert_uint_eq(d.nerrors, 0);
	dt_config_diags_clear(&d);
	return cfg;
}

/* Parse text that must fail with a diagnostic starting with `want`. */
static void bad_len(const char *text, size_t len, const char *want)
{
	struct dt_config_diags d = { 0 };
	struct dt_config *cfg = (struct dt_config *)&d; /* must stay untouched */
	size_t i;
	int r = dt_config_parse_string("t.conf", text, len, &cfg, &d);

	ck_assert_int_eq(r, -EINVAL);
	ck_assert_ptr_eq(cfg, (struct dt_config *)&d);
	ck_assert_uint_ge(d.nerrors, 1);
	for (i = 0; i < d.n; i++)
		if (strncmp(d.v[i].text, want, strlen(want)) == 0)
			break;
	ck_assert_msg(i < d.n, "want \"%s\", got \"%s\"", want, d.n ? d.v[0].text : "-");
	dt_config_diags_clear(&d);
}

static void bad(const char *text, const char *want)
{
	bad_len(text, strlen(text), want);
}

/* Parse text that must succeed with no diagnostic at all. */
static void ok_free(const char *text)
{
	struct dt_config_diags d = { 0 };
	struct dt_config *cfg = NULL;

	ck_assert_int_eq(dt_config_parse_string("t.conf", text, strlen(text), &cfg, &d), 0);
	ck_assert_msg(d.n == 0, "unexpected: %s", d.n ? d.v[0].text : "");
	dt_config_free(cfg);
}

/* Parse text that must succeed with exactly one warning starting with `want`. */
static void warns(const char *text, const char *want)
{
	struct dt_config_diags d = { 0 };
	struct dt_config *cfg = NULL;

	ck_assert_int_eq(dt_config_parse_string("t.conf", text, strlen(text), &cfg, &d), 0);
	ck_assert_uint_eq(d.nerrors, 0);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_msg(strncmp(d.v[0].text, want, strlen(want)) == 0, "got '%s', want '%s'",
		      d.v[0].text, want);
	dt_config_diags_clear(&d);
	dt_config_free(cfg);
}

/* An abort filter for any function: kept, and -t says which calls it never aborts. */
START_TEST(abort_any_function_warns)
{
	warns("Filter name=php-cgi,apply=1,retval=-EPERM\n",
	      "t.conf:1:21: warning: abort filter for any function: exit, exit_group, do_exit");
	warns("Filter function=*,apply=1\n", "t.conf:1:19: warning: abort filter for any function");
}
END_TEST

/* -t says what an abort filter's decision rests on when it reads the program's memory. */
START_TEST(abort_guarantee_warns)
{
	warns("Filter function=openat,argname=filename,argval=shadow,apply=1\n",
	      "t.conf:1:32: warning: sys_openat's filename is matched on the kernel's copy of the "
	      "path as written, not on the file it resolves to");
	warns("Filter function=connect,argname=uservaddr,argval=4444,apply=1\n",
	      "t.conf:1:33: warning: sys_connect's uservaddr is read from the program's memory at "
	      "entry: another thread can change it");
	ok_free("Filter function=openat,argname=flags,argval=O_CREAT,apply=1\n"
		"Filter function=openat,argname=filename,argval=shadow\n");
}
END_TEST

START_TEST(seed_examples)
{
	struct dt_config *cfg = ok(
		"# the seed manual's examples, verbatim\n"
		"Filter  function=sys_execve,name=php-cgi,apply=1,retval=-1\n"
		"Filter  function=sys_waitpid,name=php-cgi,when=post,retval=^[1-9]\n"
		"Filter function=do_exit,name=apache,argname=code:signal,argval=SEGV\n"
		"Filter  function=sys_execve,argname=regs:filename,argval=/usr/bin/nc,name=^apache\n"
		"Filter  function=sys_socketcall,argname=call:call,argval=connect \n"
		"Filter  function=sys_socketcall,argname=call:call,argval=accept,when=post\n");
	const struct dt_filter_spec *f = cfg->filters;
	bool has_execve = false;
	size_t i;

	ck_assert_uint_eq(cfg->nfilters, 6);
	for (i = 0; i < 6; i++) {
		ck_assert_uint_eq(f[i].index, i + 1);
		ck_assert_uint_eq(f[i].line, i + 2);
		ck_assert(!f[i].any_func);
	}
	for (i = 0; i < f[0].nfuncs; i++)
		has_execve |= f[0].funcs[i] == fid("execve");
	ck_assert(has_execve);
	ck_assert(f[0].apply);
	ck_assert_int_eq(f[0].abort_ret, -1);
	ck_assert_str_eq(f[0].name, "php-cgi");
	ck_assert(!f[0].name_subtree);
	ck_assert_int_eq(f[0].when, DT_WHEN_PRE);

	ck_assert(!f[1].apply);
	ck_assert_int_eq(f[1].when, DT_WHEN_POST);
	ck_assert_ptr_nonnull(f[1].retval.code);
	ck_assert_str_eq(f[1].retval.src, "^[1-9]");

	ck_assert_str_eq(f[2].argname, "code:signal");
	ck_assert_str_eq(f[2].argval.src, "SEGV");
	ck_assert(!f[2].argval.negate);

	ck_assert_str_eq(f[3].argname, "regs:filename");
	ck_assert_str_eq(f[3].name, "apache");
	ck_assert(f[3].name_subtree);

	ck_assert_str_eq(f[4].argval.src, "connect"); /* trailing blank trimmed */
	ck_assert_uint_gt(f[4].nfuncs, 1);	      /* socketcall + the socket syscalls */
	ck_assert_int_eq(f[5].when, DT_WHEN_POST);
	dt_config_free(cfg);
}
END_TEST

START_TEST(any_key_order)
{
	/* the ancestor needed apply before retval; here retval comes first */
	struct dt_config *cfg = ok("Filter retval=-EACCES,function=sys_execve,apply=1\n"
				   "Filter retval=0x10,apply=1\n"
				   "Filter retval=-1,when=post,argname=*,argval=x\n");

	ck_assert(cfg->filters[0].apply);
	ck_assert_int_eq(cfg->filters[0].abort_ret, -13);
	ck_assert_ptr_null(cfg->filters[0].retval.code);
	ck_assert_int_eq(cfg->filters[1].abort_ret, 16);
	ck_assert(!cfg->filters[2].apply);
	ck_assert_str_eq(cfg->filters[2].retval.src, "-1"); /* a regex: match filter */
	dt_config_free(cfg);
}
END_TEST

START_TEST(retval_with_argval)
{
	struct dt_config *cfg =
		ok("Filter function=sys_waitpid,when=post,retval=!^-,argname=*,argval=[0-9]\n");

	ck_assert_ptr_nonnull(cfg->filters[0].retval.code);
	ck_assert(cfg->filters[0].retval.negate);
	ck_assert_str_eq(cfg->filters[0].retval.src, "^-");
	ck_assert_ptr_nonnull(cfg->filters[0].argval.code);
	dt_config_free(cfg);
}
END_TEST

START_TEST(commas_in_values)
{
	struct dt_config *cfg = ok(
		"Filter argname=*,argval=\"a,b\" , name=x\n"
		"Filter argname=*,argval=a\\,b{1\\,2},name=y\n"
		"Filter argname=*,argval=\"say \\\"hi\\\", then go\"\n"
		"Filter name=\"sh\"\n"
		"Filter name=a\\,b\n");

	ck_assert_str_eq(cfg->filters[0].argval.src, "a,b");
	ck_assert_str_eq(cfg->filters[0].name, "x"); /* spaces around keys trimmed */
	ck_assert_str_eq(cfg->filters[1].argval.src, "a\\,b{1\\,2}"); /* PCRE2: \, is , */
	ck_assert_str_eq(cfg->filters[1].name, "y");
	ck_assert_str_eq(cfg->filters[2].argval.src, "say \\\"hi\\\", then go");
	ck_assert_str_eq(cfg->filters[3].name, "sh");
	ck_assert_str_eq(cfg->filters[4].name, "a,b");
	dt_config_free(cfg);
}
END_TEST

START_TEST(every_key)
{
	struct dt_config *cfg = ok(
		"Filter function=*,pid=10,tid=11,ppid=12,uid=1000,gid=100,euid=0,egid=0,name=bash\n"
		"Filter ppid=^1,name=^sshd,when=both\n"
		"Filter function=sys_execve,argname=*,argval=!^/usr/,when=pre,apply=0\n"
		"Filter function=sys_execve,argname=filename,argval=*\n"
		"Filter\n");
	const struct dt_filter_spec *f = cfg->filters;

	ck_assert_uint_eq(cfg->nfilters, 5);
	ck_assert(f[0].any_func);
	ck_assert(f[0].pid.set && f[0].pid.value == 10 && !f[0].pid.subtree);
	ck_assert(f[0].tid.set && f[0].tid.value == 11);
	ck_assert(f[0].ppid.set && f[0].ppid.value == 12 && !f[0].ppid.subtree);
	ck_assert(f[0].uid.set && f[0].uid.value == 1000);
	ck_assert(f[0].gid.set && f[0].gid.value == 100);
	ck_assert(f[0].euid.set && f[0].euid.value == 0);
	ck_assert(f[0].egid.set && f[0].egid.value == 0);
	ck_assert_str_eq(f[0].name, "bash");
	ck_assert(f[1].ppid.subtree && f[1].ppid.value == 1);
	ck_assert(f[1].name_subtree);
	ck_assert_int_eq(f[1].when, DT_WHEN_BOTH);
	ck_assert(!f[1].pid.set && !f[1].uid.set);
	ck_assert(f[2].argval.negate);
	ck_assert_str_eq(f[2].argname, "*");
	ck_assert_ptr_null(f[3].argval.code); /* '*' */
	ck_assert(f[4].any_func);	      /* bare Filter: matches every traced call */
	dt_config_free(cfg);
}
END_TEST

START_TEST(comments_blanks_crlf)
{
	struct dt_config *cfg = ok("# comment\n\n   \t\n  # indented comment\r\n"
				   "\tFunctions sys_execve , sys_open\r\n"
				   "ProcessListNames sshd,bash\n"
				   "Filter pid=1\r\n"
				   "Filter pid=2"); /* no final newline */

	ck_assert_uint_eq(cfg->nfilters, 2);
	ck_assert_uint_eq(cfg->filters[0].line, 7);
	ck_assert(cfg->sections[0].has_functions);
	ck_assert(cfg->sections[0].functions[fid("execve")]);
	ck_assert_uint_eq(cfg->sections[0].npslist_names, 2);
	dt_config_free(cfg);
}
END_TEST

START_TEST(errors_located)
{
	bad("Filter function=sys_execve,bogus=1\n", "t.conf:1:28: error: unknown filter key 'bogus'");
	bad("Filter function=sys_execve,fucntion=1\n",
	    "t.conf:1:28: error: unknown filter key 'fucntion' (hint: did you mean 'function'?)");
	bad("Filters function=sys_execve\n",
	    "t.conf:1:1: error: unknown directive 'Filters' (hint: did you mean 'Filter'?)");
	bad("\n  Frobnicate x\n", "t.conf:2:3: error: unknown directive 'Frobnicate'");
	bad("Filter function=sys_exceve\n", "t.conf:1:17: error: unknown function 'sys_exceve'");
	bad("Filter function=sys_execve,argname=bogus\n",
	    "t.conf:1:36: error: function 'sys_execve' has no argument 'bogus' (hint: ");
	bad("Filter function=sys_execve,argname=filename,argval=a(b\n",
	    "t.conf:1:55: error: bad regular expression in argval: missing closing parenthesis");
	bad("Filter function=sys_waitpid,when=post,retval=[1-\n",
	    "t.conf:1:49: error: bad regular expression in retval: missing terminating ]");
	bad("Filter pid=12a\n", "t.conf:1:12: error: bad number '12a' for pid");
	bad("Filter pid=-1\n", "t.conf:1:12: error: bad number '-1' for pid");
	bad("Filter uid=4294967296\n", "t.conf:1:12: error: bad number '4294967296' for uid");
	bad("Filter ppid=^x\n", "t.conf:1:14: error: bad number 'x' for ppid");
	bad("Filter pid=1,pid=2\n",
	    "t.conf:1:14: error: duplicate key 'pid' (hint: first given at column 8)");
	bad("Filter function=sys_execve,argval=x\n", "t.conf:1:28: error: argval without argname");
	bad("Filter argname=filename\n", "t.conf:1:16: error: argname=filename needs a function");
	bad("Filter function=*,argname=filename\n",
	    "t.conf:1:27: error: argname=filename needs a function");
	bad("Filter function=sys_waitpid,retval=^[1-9]\n",
	    "t.conf:1:29: error: retval as a match needs when=post");
	bad("Filter function=sys_waitpid,when=both,retval=^[1-9]\n",
	    "t.conf:1:39: error: retval as a match needs when=post");
	bad("Filter function=sys_execve,apply=1,when=post\n",
	    "t.conf:1:41: error: apply=1 with when=post");
	bad("Filter when=later\n", "t.conf:1:13: error: bad value 'later' for when");
	bad("Filter apply=2\n", "t.conf:1:14: error: bad value '2' for apply");
	bad("Filter pid=,uid=1\n", "t.conf:1:12: error: empty value for pid");
	bad("Filter function=sys_execve,argname=filename,argval=\"abc\n",
	    "t.conf:1:52: error: unterminated quote");
	bad("Filter name=\"a\"b\n", "t.conf:1:16: error: unexpected text after a quoted value");
	bad("Filter pid=1,\n", "t.conf:1:14: error: expected key=value after ','");
	bad("Filter function\n", "t.conf:1:8: error: expected key=value, found 'function'");
	bad("Filter name=abcdefghijklmnop\n",
	    "t.conf:1:13: error: process name 'abcdefghijklmnop' is longer than 15 bytes");
	bad("Filter name=^\n", "t.conf:1:14: error: empty process name");
	bad("Filter function=sys_execve,apply=1,retval=-EBOGUS\n",
	    "t.conf:1:43: error: bad return value '-EBOGUS'");
	bad("Filter function=sys_execve,apply=1,retval=99999999999999999999\n",
	    "t.conf:1:43: error: bad return value");
	bad("Filter function=do_exit,when=post\n", "t.conf:1:30: error: 'do_exit' never returns");
	/* an abort of a function that never returns would crash the guest */
	bad("Filter function=do_exit,apply=1\n", "t.conf:1:17: error: cannot abort do_exit: it never returns");
	bad("Filter apply=1,function=sys_exit_group\n",
	    "t.conf:1:25: error: cannot abort sys_exit_group: it never returns");
	bad("Filter function=exit,name=x,apply=1,retval=0\n",
	    "t.conf:1:17: error: cannot abort sys_exit: it never returns");
	bad("OnRegexError maybe\n", "t.conf:1:14: error: bad value 'maybe' for OnRegexError");
	bad("OnRegexError deny x\n", "t.conf:1:18: error: unexpected text after 'deny'");
	bad("OnRegexError deny\nOnRegexError allow\n",
	    "t.conf:2:1: error: second OnRegexError (the first is on line 1)");
	bad("Domain web\nOnRegexError allow\n", "t.conf:2:1: error: OnRegexError inside a Domain");
	bad("Filter function=rt_sigreturn,apply=1\n",
	    "t.conf:1:17: error: cannot abort sys_rt_sigreturn: the process cannot survive");
	bad("Filter function=sys_execve,argname=filename,argval=!*\n",
	    "t.conf:1:53: error: argval=!* never matches");
	bad("Functions\n", "t.conf:1:10: error: Functions needs an argument");
	bad("Functions sys_execve, sys_bogus\n", "t.conf:1:23: error: unknown function 'sys_bogus'");
	bad("Functions sys_execve,,sys_open\n", "t.conf:1:22: error: empty function name in list");
	bad("ProcessListNames a,abcdefghijklmnopq\n",
	    "t.conf:1:20: error: process name 'abcdefghijklmnopq' is longer than 15 bytes");
	bad("Domain web-*\nMonitor x\n", "t.conf:2:1: error: Monitor inside a Domain section");
	bad("SystemMap /a\nSystemMap /b\n",
	    "t.conf:2:1: error: duplicate SystemMap in this section (first on line 1)");
	bad("Domain\n", "t.conf:1:7: error: Domain needs an argument");
	bad_len("Filter pid=1\0x\n", 15, "t.conf:1:13: error: NUL byte in line");
}
END_TEST

START_TEST(long_line)
{
	char *text = malloc(DT_CONFIG_MAX_LINE + 20);

	memset(text, 'F', DT_CONFIG_MAX_LINE + 10);
	text[DT_CONFIG_MAX_LINE + 10] = '\0';
	bad(text, "t.conf:1:8193: error: line longer than 8192 bytes");
	free(text);
}
END_TEST

START_TEST(all_errors_collected)
{
	const char *text = "Filter pid=x\n"
			   "Filter pid=1\n"
			   "Filter when=never,apply=3\n"
			   "# fine\n"
			   "Bogus\n";
	struct dt_config_diags d = { 0 };
	struct dt_config *cfg = NULL;

	ck_assert_int_eq(dt_config_parse_string("t.conf", text, strlen(text), &cfg, &d), -EINVAL);
	ck_assert_ptr_null(cfg);
	ck_assert_uint_eq(d.n, 4);
	ck_assert_uint_eq(d.nerrors, 4);
	ck_assert_uint_eq(d.v[0].line, 1);
	ck_assert_uint_eq(d.v[1].line, 3);
	ck_assert_uint_eq(d.v[2].line, 3);
	ck_assert_uint_eq(d.v[3].line, 5);
	ck_assert_uint_eq(d.v[3].col, 1);
	dt_config_diags_clear(&d);
	ck_assert_uint_eq(d.n, 0);
}
END_TEST

START_TEST(too_many_errors)
{
	struct dt_config_diags d = { 0 };
	struct dt_config *cfg = NULL;
	char *text = malloc(200 * 6 + 1);
	size_t i;

	for (i = 0; i < 200; i++)
		memcpy(text + i * 6, "Bogus\n", 6);
	text[1200] = '\0';
	ck_assert_int_eq(dt_config_parse_string("t.conf", text, 1200, &cfg, &d), -EINVAL);
	ck_assert_uint_eq(d.n, DT_CONFIG_MAX_DIAGS + 1);
	ck_assert_ptr_nonnull(strstr(d.v[d.n - 1].text, "too many errors"));
	dt_config_diags_clear(&d);
	free(text);
	/* and without a diags sink, still refused */
	ck_assert_int_eq(dt_config_parse_string("t", "Bogus", 5, &cfg, NULL), -EINVAL);
}
END_TEST

START_TEST(file_errors)
{
	struct dt_config_diags d = { 0 };
	struct dt_config *cfg = NULL;

	ck_assert_int_eq(dt_config_parse_file("/nonexistent/x.conf", &cfg, &d), -ENOENT);
	ck_assert_ptr_null(cfg);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_str_eq(d.v[0].text,
			 "/nonexistent/x.conf: error: cannot read: No such file or directory");
	dt_config_diags_clear(&d);
}
END_TEST

START_TEST(glob)
{
	ck_assert(dt_glob_match("web-*", "web-1"));
	ck_assert(dt_glob_match("web-*", "web-"));
	ck_assert(!dt_glob_match("web-*", "db-1"));
	ck_assert(dt_glob_match("*", ""));
	ck_assert(dt_glob_match("*-?", "a-b-c"));
	ck_assert(!dt_glob_match("*-?", "a-bc"));
	ck_assert(dt_glob_match("vm[0-9]", "vm7"));
	ck_assert(!dt_glob_match("vm[!0-9]", "vm7"));
	ck_assert(dt_glob_match("vm[!0-9]", "vmx"));
	ck_assert(dt_glob_match("a\\*b", "a*b"));
	ck_assert(!dt_glob_match("a\\*b", "axb"));
	ck_assert(dt_glob_match("[]]x", "]x"));
	ck_assert(dt_glob_match("a[b", "a[b")); /* unterminated '[' is literal */
	ck_assert(dt_glob_match("*a*a*a*", "xaxaxax"));
	ck_assert(!dt_glob_match("*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	ck_assert(dt_glob_match("exact", "exact"));
	ck_assert(!dt_glob_match("exact", "exactly"));
}
END_TEST

START_TEST(vm_selection)
{
	struct dt_config *all = ok("Filter pid=1\n");
	struct dt_config *cfg = ok("Monitor web-*, api-*\nIgnore *-test\nIgnore web-9\n"
				   "Domain db-*\nFilter pid=1\n");

	ck_assert(dt_config_vm_monitored(all, "anything"));
	ck_assert(dt_config_vm_monitored(cfg, "web-1"));
	ck_assert(dt_config_vm_monitored(cfg, "api-2"));
	ck_assert(!dt_config_vm_monitored(cfg, "web-test"));
	ck_assert(!dt_config_vm_monitored(cfg, "web-9"));
	ck_assert(!dt_config_vm_monitored(cfg, "db-1")); /* a section does not select VMs */
	ck_assert(dt_config_section_applies(cfg, 0, "x"));
	ck_assert(dt_config_section_applies(cfg, 1, "db-1"));
	ck_assert(!dt_config_section_applies(cfg, 1, "web-1"));
	ck_assert(!dt_config_section_applies(cfg, 7, "web-1"));
	ck_assert_uint_eq(cfg->filters[0].section, 1);
	dt_config_free(all);
	dt_config_free(cfg);

	cfg = ok("Ignore test-*\n");
	ck_assert(dt_config_vm_monitored(cfg, "prod"));
	ck_assert(!dt_config_vm_monitored(cfg, "test-1"));
	dt_config_free(cfg);
}
END_TEST

START_TEST(system_maps)
{
	struct dt_config *cfg = ok("SystemMapDir /maps\n"
				   "Domain legacy-*\nSystemMap /boot/System.map-2.6.18\n"
				   "Domain legacy-odd\nSystemMapDir /odd\n");
	struct dt_config *none = ok("Filter pid=1\n");
	char buf[128];

	ck_assert_int_eq(dt_config_system_map(cfg, "web", "6.1.0-18-amd64", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/maps/System.map-6.1.0-18-amd64");
	ck_assert_int_eq(dt_config_system_map(cfg, "legacy-1", "x", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/boot/System.map-2.6.18");
	ck_assert_int_eq(dt_config_system_map(cfg, "legacy-odd", "5.10", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/odd/System.map-5.10"); /* last applicable line wins */
	/* the release comes from the guest: never a path */
	ck_assert_int_eq(dt_config_system_map(cfg, "web", "../../etc/passwd", buf, 128), -EINVAL);
	ck_assert_int_eq(dt_config_system_map(cfg, "web", "a/b", buf, 128), -EINVAL);
	ck_assert_int_eq(dt_config_system_map(cfg, "web", "", buf, 128), -EINVAL);
	ck_assert_int_eq(dt_config_system_map(cfg, "web", "a\nb", buf, 128), -EINVAL);
	ck_assert_int_eq(dt_config_system_map(cfg, "web", "6.1", buf, 10), -ENAMETOOLONG);
	ck_assert_int_eq(dt_config_system_map(none, "web", "6.1", buf, 128), -ENOENT);
	dt_config_free(cfg);
	dt_config_free(none);
}
END_TEST

START_TEST(relative_paths)
{
	char dir[] = "/tmp/dtcfgXXXXXX", path[64], buf[128];
	struct dt_config_diags d = { 0 };
	struct dt_config *cfg = NULL;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a.conf", dir);
	f = fopen(path, "w");
	fputs("SystemMap maps/System.map\n", f);
	fclose(f);
	ck_assert_int_eq(dt_config_parse_file(path, &cfg, &d), 0);
	ck_assert_int_eq(dt_config_system_map(cfg, "vm", "r", buf, sizeof(buf)), 0);
	snprintf(path, sizeof(path), "%s/maps/System.map", dir);
	ck_assert_str_eq(buf, path);
	dt_config_free(cfg);
	snprintf(path, sizeof(path), "%s/a.conf", dir);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* The one loader: -s/-f lines after the file, named in messages by their option. */
START_TEST(loader_extra_lines)
{
	char dir[] = "/tmp/dtcfgXXXXXX", path[64], buf[128];
	const char *extra[] = { "Functions openat", "Filter function=openat, pid=1",
				"Filter function=nosuch" };
	struct dt_config_diags d = { 0 };
	struct dt_config *cfg = NULL;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a.conf", dir);
	f = fopen(path, "w");
	/* a NUL on line 2: the whole file is read, -f or not */
	fwrite("SystemMap maps/System.map\nFunc\0tions read\n", 1, 42, f);
	fclose(f);
	ck_assert_int_eq(dt_config_load(path, extra, 2, &cfg, &d), -EINVAL);
	ck_assert_msg(d.n == 1, "%zu: %s / %s", d.n, d.v[0].text, d.n > 1 ? d.v[1].text : "");
	snprintf(buf, sizeof(buf), "%s:2:5: error: NUL byte in line", path);
	ck_assert_msg(!strncmp(d.v[0].text, buf, strlen(buf)), "%s", d.v[0].text);
	dt_config_diags_clear(&d);
	/* without the NUL: relative SystemMap against the file's directory with -s/-f too;
	 * a bad -f is reported as that option, not at a line the file lacks */
	f = fopen(path, "w");
	fputs("SystemMap maps/System.map\n", f);
	fclose(f);
	ck_assert_int_eq(dt_config_load(path, extra, 2, &cfg, &d), 0);
	ck_assert_uint_eq(cfg->nfilters, 1);
	ck_assert_int_eq(dt_config_system_map(cfg, "vm", "r", buf, sizeof(buf)), 0);
	snprintf(path, sizeof(path), "%s/maps/System.map", dir);
	ck_assert_str_eq(buf, path);
	dt_config_free(cfg);
	snprintf(path, sizeof(path), "%s/a.conf", dir);
	ck_assert_int_eq(dt_config_load(path, extra, 3, &cfg, &d), -EINVAL);
	ck_assert_uint_ge(d.n, 1);
	ck_assert_msg(!strncmp(d.v[0].text, "-f #2:1:", 8), "%s", d.v[0].text);
	dt_config_diags_clear(&d);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* Not a regular file, or writable by others: refused at once, with the reason. */
START_TEST(loader_refuses)
{
	char dir[] = "/tmp/dtcfgXXXXXX", path[64], sub[64];
	struct dt_config_diags d = { 0 };
	struct dt_config *cfg = NULL;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_int_eq(dt_config_load(path, NULL, 0, &cfg, &d), -EINVAL); /* no hang */
	ck_assert_msg(strstr(d.v[0].text, "not a regular file"), "%s", d.v[0].text);
	dt_config_diags_clear(&d);
	unlink(path);
	ck_assert_int_eq(dt_config_load(dir, NULL, 0, &cfg, &d), -EINVAL);
	dt_config_diags_clear(&d);

	snprintf(path, sizeof(path), "%s/a.conf", dir);
	f = fopen(path, "w");
	fputs("Functions openat\n", f);
	fclose(f);
	ck_assert_int_eq(chmod(path, 0666), 0);
	ck_assert_int_eq(dt_config_load(path, NULL, 0, &cfg, &d), -EINVAL);
	ck_assert_msg(strstr(d.v[0].text, "writable by every user"), "%s", d.v[0].text);
	dt_config_diags_clear(&d);
	ck_assert_int_eq(chmod(path, 0644), 0);
	ck_assert_int_eq(dt_config_load(path, NULL, 0, &cfg, &d), 0);
	dt_config_free(cfg);
	/* a world-writable directory without the sticky bit: anyone may replace the file */
	ck_assert_int_eq(chmod(dir, 0777), 0);
	ck_assert_int_eq(dt_config_load(path, NULL, 0, &cfg, &d), -EINVAL);
	snprintf(sub, sizeof(sub), "directory %s is writable", dir);
	ck_assert_msg(strstr(d.v[0].text, sub), "%s", d.v[0].text);
	dt_config_diags_clear(&d);
	/* sticky (like /tmp), the file ours: fine */
	ck_assert_int_eq(chmod(dir, 01777), 0);
	ck_assert_int_eq(dt_config_load(path, NULL, 0, &cfg, &d), 0);
	dt_config_free(cfg);
	/* sticky, the file someone else's: refused */
	if (geteuid() == 0) {
		ck_assert_int_eq(chown(path, 65534, 65534), 0);
		ck_assert_int_eq(dt_config_load(path, NULL, 0, &cfg, &d), -EINVAL);
		ck_assert_msg(strstr(d.v[0].text, "not ours"), "%s", d.v[0].text);
		dt_config_diags_clear(&d);
	}
	unlink(path);
	rmdir(dir);
}
END_TEST

static uint8_t *probes(const struct dt_config *cfg, const char *vm, int *ret_count)
{
	size_t n;
	uint8_t *fl;

	dt_catalog_funcs(&n);
	fl = calloc(n, 1);
	*ret_count = dt_config_vm_probes(cfg, vm, fl, n);
	return fl;
}

START_TEST(probe_sets)
{
	struct dt_config *cfg = ok("Filter pid=1\n");
	const char *const *name;
	uint8_t *fl;
	int count, k = 0;

	/* no Functions line: the default set, all of which the catalogue knows */
	fl = probes(cfg, "vm", &count);
	for (name = dt_config_default_functions(); *name; name++) {
		int ids[64];

		if (dt_catalog_resolve(*name, ids, 64) > 0) {
			ck_assert_msg(fl[ids[0]] & DT_PROBE_PRE, "%s not traced", *name);
			k++;
		}
	}
	ck_assert_int_ge(k, 25);
	ck_assert_int_ge(count, k);
	ck_assert(!fl[fid("read")]);
	ck_assert(!fl[fid("openat")]);
	ck_assert(!(fl[fid("execve")] & DT_PROBE_POST));
	ck_assert(fl[fid("wait4")] == 0);
	free(fl);
	dt_config_free(cfg);

	cfg = ok("Functions sys_open\n"
		 "Filter function=openat,when=post\n"
		 "Filter function=sys_execve,argname=filename,argval=x\n"
		 "Domain web-*\n"
		 "Functions read\n"
		 "Filter function=*,when=both\n"
		 "Domain db-*\n"
		 "Functions do_exit,write\n"
		 "Filter function=do_exit,when=pre\n");
	fl = probes(cfg, "plain", &count);
	ck_assert_int_eq(fl[fid("open")], DT_PROBE_PRE);
	ck_assert_int_eq(fl[fid("openat")], DT_PROBE_PRE | DT_PROBE_POST);
	ck_assert_int_eq(fl[fid("execve")], DT_PROBE_PRE);
	ck_assert_int_eq(fl[fid("read")], 0);
	ck_assert_int_eq(fl[fid("kill")], 0); /* a Functions line applies: no defaults */
	ck_assert_int_eq(count, 3);
	free(fl);
	fl = probes(cfg, "web-1", &count); /* function=*,when=both: post on every traced one */
	ck_assert_int_eq(fl[fid("read")], DT_PROBE_PRE | DT_PROBE_POST);
	ck_assert_int_eq(fl[fid("open")], DT_PROBE_PRE | DT_PROBE_POST);
	ck_assert_int_eq(fl[fid("write")], 0);
	ck_assert_int_eq(count, 4);
	free(fl);
	fl = probes(cfg, "db-1", &count);
	ck_assert_int_eq(fl[fid("do_exit")], DT_PROBE_PRE);
	ck_assert_int_eq(fl[fid("write")], DT_PROBE_PRE);
	free(fl);
	dt_config_free(cfg);

	cfg = ok("Functions sys_execve,sys_clone,sys_waitpid,exit_group\nProcessListNames sshd\n"
		 "Filter function=*,when=both\n");
	fl = probes(cfg, "vm", &count);
	ck_assert_int_eq(fl[fid("execve")], DT_PROBE_PRE | DT_PROBE_POST);
	ck_assert_int_eq(fl[fid("clone")], DT_PROBE_PRE | DT_PROBE_POST);
	ck_assert_int_eq(fl[fid("wait4")], DT_PROBE_PRE | DT_PROBE_POST);
	ck_assert_int_eq(fl[fid("exit_group")], DT_PROBE_PRE); /* never returns */
	free(fl);
	dt_config_free(cfg);
	/* pslist is sent at entry: ProcessListNames or a traced wait adds no return probe */
	cfg = ok("Functions sys_execve,sys_clone,sys_waitpid\nProcessListNames sshd\n");
	fl = probes(cfg, "vm", &count);
	ck_assert_int_eq(fl[fid("execve")], DT_PROBE_PRE);
	ck_assert_int_eq(fl[fid("clone")], DT_PROBE_PRE);
	ck_assert_int_eq(fl[fid("wait4")], DT_PROBE_PRE);
	free(fl);
	dt_config_free(cfg);
}
END_TEST

START_TEST(pslist_names)
{
	struct dt_config *cfg = ok("Domain web-*\nProcessListNames apache2,sh\n");

	ck_assert(dt_config_pslist_wants(cfg, "db", "anything"));
	ck_assert(dt_config_pslist_wants(cfg, "web-1", "sh"));
	ck_assert(!dt_config_pslist_wants(cfg, "web-1", "bash"));
	dt_config_free(cfg);
}
END_TEST

START_TEST(examples_parse)
{
	const char *src = getenv("DT_SOURCE_DIR");
	const char *files[] = { "domtrace.conf", "seed.conf", "multi-vm.conf" };
	char path[512];
	size_t i;

	ck_assert_ptr_nonnull(src);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct dt_config_diags d = { 0 };
		struct dt_config *cfg = NULL;
		int r;

		snprintf(path, sizeof(path), "%s/config/examples/%s", src, files[i]);
		r = dt_config_parse_file(path, &cfg, &d);
		ck_assert_msg(r == 0, "%s: %s", path, d.n ? d.v[0].text : "?");
		ck_assert_uint_gt(cfg->nfilters, 0);
		dt_config_free(cfg);
		dt_config_diags_clear(&d);
	}
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, seed_examples);
	tcase_add_test(tc, abort_any_function_warns);
	tcase_add_test(tc, abort_guarantee_warns);
	tcase_add_test(tc, any_key_order);
	tcase_add_test(tc, retval_with_argval);
	tcase_add_test(tc, commas_in_values);
	tcase_add_test(tc, every_key);
	tcase_add_test(tc, comments_blanks_crlf);
	tcase_add_test(tc, errors_located);
	tcase_add_test(tc, long_line);
	tcase_add_test(tc, all_errors_collected);
	tcase_add_test(tc, too_many_errors);
	tcase_add_test(tc, file_errors);
	tcase_add_test(tc, examples_parse);
	suite_add_tcase(s, tc);
	tc = tcase_create("query");
	tcase_add_test(tc, glob);
	tcase_add_test(tc, vm_selection);
	tcase_add_test(tc, system_maps);
	tcase_add_test(tc, relative_paths);
	tcase_add_test(tc, loader_extra_lines);
	tcase_add_test(tc, loader_refuses);
	tcase_add_test(tc, probe_sets);
	tcase_add_test(tc, pslist_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
