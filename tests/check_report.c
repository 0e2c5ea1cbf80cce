// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reporter formats and local sinks: exact log, JSON, A3 and report-file renderings;
 * hostile guest strings cannot forge lines or reach the terminal; the reporter thread
 * with the log and report sinks writes every event once, in per-VM order.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domtrace/catalog.h"
#include "domtrace/report.h"
#include "format.h"
#include "support/a3_events.h"
#include "support/a3_receiver.h"

static char *log_line(const struct dt_event *ev)
{
	struct dt_buf b = { 0 };

	dt_fmt_log(&b, ev, dt_test_lookup, true);
	return b.p;
}

static char *json_line(const struct dt_event *ev)
{
	struct dt_buf b = { 0 };

	dt_fmt_json(&b, ev);
	return b.p;
}

static char *a3_line(const struct dt_event *ev)
{
	struct dt_buf b = { 0 };

	ck_assert(dt_fmt_a3(&b, ev));
	return b.p;
}

START_TEST(test_log_text)
{
	struct dt_event *ev = dt_test_ev_openat(DT_EV_CALL, "sim-vm0", "bash", "/etc/passwd", 256);
	char *s;

	s = log_line(ev);
	ck_assert_str_eq(s, "21:04:05.123 sim-vm0 v1 bash[412<-411] sys_openat(dfd=AT_FDCWD, "
			    "filename=\"/etc/passwd\", flags=O_RDONLY, mode=0)\n");
	free(s);
	dt_test_ev_post(ev, 3, 120000);
	s = log_line(ev);
	ck_assert_str_eq(s, "21:04:05.123 sim-vm0 v1 bash[412<-411] sys_openat(dfd=AT_FDCWD, "
			    "filename=\"/etc/passwd\", flags=O_RDONLY, mode=0) = 3 <0.000120>\n");
	free(s);
	dt_test_ev_post(ev, -2, 0);
	s = log_line(ev);
	ck_assert_ptr_nonnull(strstr(s, "mode=0) = -2 (ENOENT)\n"));
	free(s);
	dt_event_free(ev);

	ev = dt_test_ev_openat(DT_EV_MATCH, "sim-vm0", "bash", "/etc/passwd", 256);
	s = log_line(ev);
	ck_assert_ptr_nonnull(strstr(s, "mode=0) [match #2]\n"));
	free(s);
	ev->type = DT_EV_ABORT;
	ev->abort_ret = -13;
	s = log_line(ev);
	ck_assert_ptr_nonnull(strstr(s, "mode=0) = -13 (EACCES) [aborted by filter #2]\n"));
	free(s);
	ev->type = DT_EV_WOULD_ABORT;
	s = log_line(ev);
	ck_assert_ptr_nonnull(strstr(s, "mode=0) [would abort = -13 (EACCES), filter #2]\n"));
	free(s);
	/* no catalogue: symbolic values stay bare, the path is quoted */
	{
		struct dt_buf b = { 0 };

		dt_fmt_log(&b, ev, NULL, true);
		ck_assert_ptr_nonnull(strstr(b.p, "(dfd=AT_FDCWD, filename=\"/etc/passwd\", "
						  "flags=O_RDONLY, mode=0)"));
		dt_buf_free(&b);
	}
	dt_event_free(ev);

	ck_assert_int_eq(dt_event_new(DT_EV_LOST, 0, &ev), 0);
	ev->ts_ns = DT_TEST_TS;
	strcpy(ev->vm, "vm1");
	ev->lost = 7;
	s = log_line(ev);
	ck_assert_str_eq(s, "21:04:05.123 vm1 -- lost 7 events\n");
	free(s);
	/* a sink's loss: which sink, and why */
	ev->lost_sink = "a3";
	ev->lost_reason = "rejected with HTTP 400";
	s = log_line(ev);
	ck_assert_str_eq(s, "21:04:05.123 vm1 -- lost 7 events (a3: rejected with HTTP 400)\n");
	free(s);
	dt_event_free(ev);

	ev = dt_test_ev_pslist("vm1", 2);
	s = log_line(ev);
	ck_assert_str_eq(s, "21:04:05.123 vm1 v0 bash[412<-411] pslist n=2: p0[1<-0] p1[2<-1]\n");
	free(s);
	dt_event_free(ev);
}
END_TEST

/* The real catalogue as the lookup: its PATH argument is quoted, the rest bare. */
START_TEST(test_log_with_catalog)
{
	struct dt_event *ev = dt_test_ev_openat(DT_EV_CALL, "vm", "bash", "AT_FDCWD", 256);
	struct dt_buf b = { 0 };
	bool compat;

	ev->func_id = dt_catalog_by_symbol("__x64_sys_openat", &compat);
	ck_assert_int_ge(ev->func_id, 0);
	dt_fmt_log(&b, ev, dt_catalog_get, true);
	ck_assert_ptr_nonnull(strstr(b.p, "sys_openat(dfd=AT_FDCWD, filename=\"AT_FDCWD\", "
					  "flags=O_RDONLY, mode=0)\n"));
	dt_buf_free(&b);
	dt_event_free(ev);
}
END_TEST

START_TEST(test_json)
{
	struct dt_event *ev = dt_test_ev_openat(DT_EV_MATCH, "sim-vm0", "bash", "/etc/passwd", 512);
	char v[256], *s;

	dt_test_ev_post(ev, 3, 120000);
	dt_event_add_dec(ev, "flags:access", "read");
	dt_test_ev_ancestors(ev);
	s = json_line(ev);
	ck_assert_uint_eq(s[strlen(s) - 1], '\n');
	ck_assert(dt_test_json_valid(s, strlen(s) - 1));
	ck_assert_str_eq(s,
		"{\"ts\":\"2024-05-01T21:04:05.123456789Z\",\"ts_ns\":1714597445123456789,"
		"\"type\":\"match\",\"vm\":\"sim-vm0\",\"domid\":3,\"seq\":1,\"vcpu\":1,"
		"\"proc\":{\"pid\":412,\"tgid\":412,\"ppid\":411,\"rppid\":411,\"uid\":1000,"
		"\"gid\":1000,\"euid\":1000,\"egid\":1000,\"comm\":\"bash\","
		"\"task\":\"0xffff888003a1c000\"},"
		"\"ancestors\":[{\"pid\":411,\"tgid\":411,\"ppid\":1,\"rppid\":1,\"uid\":0,\"gid\":0,"
		"\"euid\":0,\"egid\":0,\"comm\":\"bash\",\"task\":\"0x0\"},{\"pid\":1,\"tgid\":1,"
		"\"ppid\":0,\"rppid\":0,\"uid\":0,\"gid\":0,\"euid\":0,\"egid\":0,\"comm\":\"init\","
		"\"task\":\"0x0\"}],"
		"\"when\":\"post\",\"func\":\"sys_openat\",\"nr\":257,\"compat\":false,"
		"\"site\":\"0xffffffff81234560\",\"args\":{\"dfd\":\"AT_FDCWD\",\"filename\":"
		"\"/etc/passwd\",\"flags\":\"O_RDONLY\",\"mode\":\"0\"},\"raw\":[\"0xffffff9c\","
		"\"0x7ffd1000\",\"0x0\",\"0x0\"],\"dec\":{\"flags:access\":\"read\"},\"ret\":3,"
		"\"latency_ns\":120000,\"filter\":2}\n");
	ck_assert_int_eq(dt_test_json_get_str(s, "func", v, sizeof(v)), 10);
	ck_assert_str_eq(v, "sys_openat");
	free(s);
	dt_event_free(ev);

	ev = dt_test_ev_pslist("vm1", 3);
	s = json_line(ev);
	ck_assert(dt_test_json_valid(s, strlen(s) - 1));
	ck_assert_ptr_nonnull(strstr(s, "\"procs\":[{\"pid\":1,\"ppid\":0,\"comm\":\"p0\"},"));
	free(s);
	dt_event_free(ev);

	ck_assert_int_eq(dt_event_new(DT_EV_NOTICE, 64, &ev), 0);
	ev->msg = dt_event_strdup(ev, "config reloaded", 15);
	s = json_line(ev);
	ck_assert(dt_test_json_valid(s, strlen(s) - 1));
	ck_assert_int_eq(dt_test_json_get_str(s, "msg", v, sizeof(v)), 15);
	free(s);
	dt_event_free(ev);
}
END_TEST

START_TEST(test_a3_strings)
{
	struct dt_event *ev = dt_test_ev_openat(DT_EV_MATCH, "a3-app", "bash", "/etc/passwd", 256);
	struct dt_buf b = { 0 };
	char *s;

	s = a3_line(ev);
	ck_assert_str_eq(s, "domain=a3-app type=match when=pre pid=412 name=bash ppid=411 "
			    "sys_openat(dfd=AT_FDCWD,filename=/etc/passwd,flags=O_RDONLY,mode=0,)");
	free(s);
	dt_test_ev_post(ev, 3, 5);
	dt_event_add_dec(ev, "flags:access", "read");
	s = a3_line(ev);
	ck_assert_str_eq(s, "domain=a3-app type=match when=post pid=412 name=bash ppid=411 "
			    "sys_openat(dfd=AT_FDCWD,filename=/etc/passwd,flags=O_RDONLY,"
			    "flags:access=read,mode=0,ret_value=3)");
	free(s);
	/* an alias is matched by filters, not sent; a decoding of no argument comes last */
	ck_assert(dt_event_add_dec(ev, "regs:filename", "/etc/passwd"));
	ev->dec[ev->ndec - 1].alias = true;
	ck_assert(dt_event_add_dec(ev, "extra:x", "1"));
	s = a3_line(ev);
	ck_assert_str_eq(s, "domain=a3-app type=match when=post pid=412 name=bash ppid=411 "
			    "sys_openat(dfd=AT_FDCWD,filename=/etc/passwd,flags=O_RDONLY,"
			    "flags:access=read,mode=0,extra:x=1,ret_value=3)");
	free(s);
	ev->ndec = 1;
	ev->type = DT_EV_ABORT;
	ev->abort_ret = -13;
	ck_assert_str_eq(dt_fmt_a3_eventtype(ev), "ENF");
	s = a3_line(ev);
	ck_assert_ptr_nonnull(strstr(s, "domain=a3-app type=abort retval=-13 pid=412 name=bash "));
	free(s);
	ev->type = DT_EV_WOULD_ABORT;
	ck_assert_str_eq(dt_fmt_a3_eventtype(ev), "OBS");
	s = a3_line(ev);
	ck_assert_ptr_nonnull(strstr(s, "type=would-abort retval=-13 pid=412"));
	free(s);
	ev->type = DT_EV_CALL;
	ck_assert(!dt_fmt_a3(&b, ev));
	ev->type = DT_EV_MATCH;
	ev->when = DT_WHEN_PRE;
	ev->ndec = 0;

	dt_buf_reset(&b);
	dt_fmt_a3_get_target(&b, ev, "/index.html?op=pub&type=event&event=");
	ck_assert_str_eq(b.p, "/index.html?op=pub&type=event&event=VMI:%20domain%3da3-app+type%3dmatch"
			      "+when%3dpre+pid%3d412+name%3dbash+ppid%3d411+sys_openat%28dfd%3dAT_FDCWD"
			      "%2cfilename%3d%2fetc%2fpasswd%2cflags%3dO_RDONLY%2cmode%3d0%2c%29"
			      "&&ts=1714597445123&origin=VMI&vmid=a3-app&eventtype=OBS");
	dt_buf_free(&b);
	dt_event_free(ev);

	ev = dt_test_ev_pslist("a3-app", 2);
	s = a3_line(ev);
	ck_assert_str_eq(s, "domain=a3-app type=pslist pid=1,ppid=0,name=p0|pid=2,ppid=1,name=p1|");
	free(s);
	dt_event_free(ev);

	ck_assert_int_eq(dt_event_new(DT_EV_LOST, 0, &ev), 0);
	strcpy(ev->vm, "a3-app");
	ev->lost = 12;
	s = a3_line(ev);
	ck_assert_str_eq(s, "domain=a3-app type=lost count=12");
	free(s);
	ev->lost_sink = "log";
	ev->lost_reason = "write error: No space left on device";
	s = a3_line(ev);
	ck_assert_str_eq(s, "domain=a3-app type=lost count=12 sink=log "
			    "reason=write\\x20error:\\x20No\\x20space\\x20left\\x20on\\x20device");
	free(s);
	dt_event_free(ev);
}
END_TEST

START_TEST(test_report_entry)
{
	struct dt_event *ev = dt_test_ev_openat(DT_EV_ABORT, "a3-app", "sh", "/bin/nc", 512);
	struct dt_buf b = { 0 };

	dt_test_ev_ancestors(ev);
	ck_assert(dt_fmt_report(&b, ev));
	ck_assert_str_eq(b.p,
		"1714597445.123: domain=a3-app type=abort retval=-13 pid=412 name=sh ppid=411 "
		"sys_openat(dfd=AT_FDCWD,filename=/bin/nc,flags=O_RDONLY,mode=0,)\n"
		"  Pid lineage:\n"
		"    pid=412,name=sh,ppid=411,rppid=411,tgid=412,uid=1000,euid=1000,gid=1000,egid=1000\n"
		"    pid=411,name=bash,ppid=1,rppid=1,tgid=411,uid=0,euid=0,gid=0,egid=0\n"
		"    pid=1,name=init,ppid=0,rppid=0,tgid=1,uid=0,euid=0,gid=0,egid=0\n");
	dt_buf_reset(&b);
	ev->type = DT_EV_CALL;
	ck_assert(!dt_fmt_report(&b, ev));
	dt_buf_free(&b);
	dt_event_free(ev);
}
END_TEST

/* Hostile strings: what a guest can put in comm and in a path. */
static const char *const hostile[] = {
	"a\nb",
	"x\r21:00:00.000 fake-vm v0 init[1<-0] sys_reboot() = 0",
	"\x1b[2J\x1b]0;owned\x07",
	"quote\" and \\backslash\\\" end",
	"bad utf8 \xff\xfe \xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 trunc \xe2\x82",
	"c1 \xc2\x9b" "31m bidi \xe2\x80\xae" "fdp.exe ls \xe2\x80\xa8 x",
	"\x7f\x01\x02\x1f del and controls",
	"name=root ppid=1 type=abort",
	"{\"vm\":\"forged\"}",
	"é ü 漢字 😀 ok utf8",
};

/* No raw control, DEL, C1 or invalid UTF-8 byte; line feeds only where expected. */
static void assert_clean_text(const char *s, size_t expect_newlines)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t nl = 0;

	ck_assert(dt_test_json_valid("\"\"", 2)); /* the validator itself works */
	for (; *p; p++) {
		if (*p == '\n') {
			nl++;
			continue;
		}
		ck_assert_msg(*p >= 0x20 && *p != 0x7f, "raw control byte 0x%02x in %s", *p, s);
		ck_assert_msg(!(p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f), "C1 in %s", s);
		ck_assert_msg(!(p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0xa8 && p[2] <= 0xae),
			      "separator/bidi in %s", s);
	}
	ck_assert_uint_eq(nl, expect_newlines);
	{ /* valid UTF-8: wrap in a JSON string for the validator's UTF-8 check */
		struct dt_buf b = { 0 };

		dt_buf_putc(&b, '"');
		for (p = (const unsigned char *)s; *p; p++)
			if (*p != '\n' && *p != '"' && *p != '\\')
				dt_buf_putc(&b, (char)*p);
		dt_buf_putc(&b, '"');
		ck_assert_msg(dt_test_json_valid(b.p, b.len), "not UTF-8: %s", s);
		dt_buf_free(&b);
	}
}

/* Undo the JSON pre-escaping (\\ -> \, \xNN -> byte). */
static size_t unescape(const char *s, char *out)
{
	size_t n = 0;

	while (*s) {
		if (s[0] == '\\' && s[1] == '\\') {
			out[n++] = '\\';
			s += 2;
		} else if (s[0] == '\\' && s[1] == 'x') {
			out[n++] = (char)strtol((char[]){ s[2], s[3], 0 }, NULL, 16);
			s += 4;
		} else {
			out[n++] = *s++;
		}
	}
	out[n] = '\0';
	return n;
}

START_TEST(test_hostile_strings)
{
	char longname[10001], comm[DT_COMM_LEN];
	unsigned i;

	memset(longname, 'A', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	for (i = 0; i <= sizeof(hostile) / sizeof(hostile[0]); i++) {
		const char *h = i < sizeof(hostile) / sizeof(hostile[0]) ? hostile[i] : longname;
		struct dt_event *ev = dt_test_ev_openat(DT_EV_MATCH, "vm", h, h, 16384);
		char *s, *dec, *undec;
		long n;

		memset(comm, 0, sizeof(comm));
		memcpy(comm, h, strnlen(h, sizeof(comm) - 1));
		dt_test_ev_post(ev, 0, 1);
		dt_event_add_dec(ev, "flags:weird", h);

		s = log_line(ev);
		assert_clean_text(s, 1);
		ck_assert_uint_eq(s[strlen(s) - 1], '\n');
		/* comm cannot fake the process field or add a field: separators are escaped */
		ck_assert_ptr_nonnull(strstr(s, "[412<-411] sys_openat(dfd=AT_FDCWD, filename=\""));
		ck_assert_uint_lt(strlen(s), 4 * DT_FMT_STR_MAX * 2 + 1024);
		if (h == longname)
			ck_assert_ptr_nonnull(strstr(s, "AAAA\"..., flags=O_RDONLY"));
		free(s);

		s = json_line(ev);
		ck_assert_msg(dt_test_json_valid(s, strlen(s) - 1), "invalid JSON: %s", s);
		assert_clean_text(s, 1);
		dec = malloc(2 * strlen(h) + 16);
		undec = malloc(2 * strlen(h) + 16);
		n = dt_test_json_get_str(strstr(s, "\"proc\":") + 7, "comm", dec, 2 * strlen(h) + 16);
		ck_assert_int_ge(n, 0);
		unescape(dec, undec);
		ck_assert_str_eq(undec, comm); /* exact round trip */
		free(dec);
		free(undec);
		free(s);

		{ /* report file: the entry line, "Pid lineage:", the process */
			struct dt_buf b = { 0 };

			ck_assert(dt_fmt_report(&b, ev));
			assert_clean_text(b.p, 3);
			dt_buf_free(&b);
		}

		s = a3_line(ev);
		assert_clean_text(s, 0);
		/* the comm field is one token: no space can end it early */
		{
			const char *name = strstr(s, " name=") + 6;
			const char *end = strchr(name, ' ');

			ck_assert_ptr_nonnull(end);
			ck_assert_ptr_eq(strstr(end, " ppid=411 sys_openat("), end);
		}
		free(s);
		dt_event_free(ev);
	}
}
END_TEST

START_TEST(test_escape_rules)
{
	struct dt_buf b = { 0 };

	dt_esc_text(&b, "a\\b\"c\n\t\x1b\xff é", DT_ESC_QUOTE, 0);
	ck_assert_str_eq(b.p, "a\\\\b\\\"c\\n\\t\\x1b\\xff é");
	dt_buf_reset(&b);
	dt_esc_text(&b, "a b,c|d[e]f(g)h=i", DT_ESC_FIELD, 0);
	ck_assert_str_eq(b.p, "a\\x20b\\x2cc\\x7cd\\x5be\\x5df\\x28g\\x29h\\x3di");
	dt_buf_reset(&b);
	ck_assert(dt_esc_text(&b, "abcdef", 0, 4));
	ck_assert_str_eq(b.p, "abcd");
	dt_buf_reset(&b);
	dt_esc_json(&b, "a\\b\"c\n\x1b\xff\xe2\x80\xa8 é");
	ck_assert_str_eq(b.p, "a\\\\\\\\b\\\"c\\n\\u001b\\\\xff\\u2028 é");
	dt_buf_reset(&b);
	dt_url_encode(&b, "a b/~.-_%");
	ck_assert_str_eq(b.p, "a+b%2f~.-_%25");
	dt_buf_free(&b);
}
END_TEST

struct submit_arg {
	struct dt_report *r;
	uint32_t domid;
	unsigned count;
};

static void *submitter(void *arg)
{
	struct submit_arg *a = arg;
	struct dt_report_producer *p;
	char vm[16], name[32];
	unsigned i;

	snprintf(vm, sizeof(vm), "vm%u", a->domid);
	ck_assert_int_eq(dt_report_producer_new(a->r, a->domid, vm, &p), 0);
	for (i = 1; i <= a->count; i++) {
		struct dt_event *ev;

		snprintf(name, sizeof(name), "/f/%u", i);
		ev = dt_test_ev_openat(i % 10 ? DT_EV_CALL : DT_EV_MATCH, vm, "cat", name, 64);
		ev->domid = a->domid;
		ev->seq = i;
		ck_assert_int_eq(dt_report_submit(p, ev), 0);
	}
	dt_report_producer_free(p);
	return NULL;
}

#define NVM 4
#define PER_VM 5000

/* The reporter thread with the log (JSON) and report sinks: every event once, in
 * per-VM order; report entries for matches only. */
START_TEST(test_reporter_local_sinks)
{
	struct dt_report_opts o;
	struct submit_arg args[NVM];
	struct dt_report_stats st;
	struct dt_report *r;
	char dir[256], logp[300], repp[300], v[64];
	unsigned last[NVM] = { 0 }, i;
	pthread_t th[NVM];
	size_t n, k, entries = 0;
	char **lines;
	int fd;

	ck_assert_int_eq(dt_test_tmpdir(dir, sizeof(dir)), 0);
	snprintf(logp, sizeof(logp), "%s/log.json", dir);
	snprintf(repp, sizeof(repp), "%s/report.txt", dir);
	fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	dt_report_opts_init(&o);
	o.log = DT_REPORT_LOG_JSON;
	o.log_fd = fd;
	o.report_file_path = repp;
	o.max_bytes = 1u << 30;
	ck_assert_int_eq(dt_report_new(&o, &r), 0);
	ck_assert_int_eq(dt_report_start(r), 0);
	for (i = 0; i < NVM; i++) {
		args[i] = (struct submit_arg){ .r = r, .domid = i, .count = PER_VM };
		ck_assert_int_eq(pthread_create(&th[i], NULL, submitter, &args[i]), 0);
	}
	for (i = 0; i < NVM; i++)
		pthread_join(th[i], NULL);
	ck_assert_int_eq(dt_report_stop(r, 5000), 0);
	dt_report_stats(r, &st);
	ck_assert_uint_eq(st.q.enqueued, NVM * PER_VM);
	ck_assert_uint_eq(st.q.delivered, NVM * PER_VM);
	ck_assert_uint_eq(st.q.lost, 0);
	ck_assert_uint_eq(st.log_lines, NVM * PER_VM);
	ck_assert_uint_eq(st.report_entries, NVM * PER_VM / 10);
	ck_assert_uint_eq(st.write_errors, 0);
	dt_report_free(r);
	close(fd);

	lines = dt_test_read_lines(logp, &n);
	ck_assert_uint_eq(n, NVM * PER_VM);
	for (k = 0; k < n; k++) {
		unsigned vm, seq;

		ck_assert(dt_test_json_valid(lines[k], strlen(lines[k])));
		ck_assert_int_gt(dt_test_json_get_str(lines[k], "vm", v, sizeof(v)), 0);
		ck_assert_int_eq(sscanf(v, "vm%u", &vm), 1);
		ck_assert_uint_lt(vm, NVM);
		ck_assert_int_eq(sscanf(strstr(lines[k], "\"seq\":"), "\"seq\":%u", &seq), 1);
		ck_assert_uint_eq(seq, last[vm] + 1);
		last[vm] = seq;
	}
	dt_test_free_lines(lines, n);
	lines = dt_test_read_lines(repp, &n);
	for (k = 0; k < n; k++)
		entries += strstr(lines[k], ": domain=vm") != NULL;
	ck_assert_uint_eq(entries, NVM * PER_VM / 10);
	dt_test_free_lines(lines, n);
	dt_test_rmdir(dir);
}
END_TEST

/* Text log through the reporter: exactly the lines dt_fmt_log makes. */
START_TEST(test_reporter_text_log)
{
	struct dt_report_producer *p;
	struct dt_report_opts o;
	struct dt_report *r;
	char dir[256], logp[300];
	size_t n;
	char **lines;
	int fd;

	ck_assert_int_eq(dt_test_tmpdir(dir, sizeof(dir)), 0);
	snprintf(logp, sizeof(logp), "%s/log.txt", dir);
	fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dt_report_opts_init(&o);
	o.log = DT_REPORT_LOG_TEXT;
	o.log_fd = fd;
	o.log_utc = true;
	o.lookup = dt_test_lookup;
	ck_assert_int_eq(dt_report_new(&o, &r), 0);
	ck_assert_int_eq(dt_report_start(r), 0);
	ck_assert_int_eq(dt_report_producer_new(r, 3, "sim-vm0", &p), 0);
	dt_report_submit(p, dt_test_ev_openat(DT_EV_CALL, "sim-vm0", "bash", "/etc/passwd", 64));
	dt_report_submit(p, dt_test_ev_openat(DT_EV_CALL, "sim-vm0", "evil\n", "x\r\x1b[2J", 64));
	dt_report_producer_free(p);
	ck_assert_int_eq(dt_report_stop(r, 1000), 0);
	dt_report_free(r);
	close(fd);
	lines = dt_test_read_lines(logp, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(lines[0], "21:04:05.123 sim-vm0 v1 bash[412<-411] sys_openat(dfd=AT_FDCWD, "
				   "filename=\"/etc/passwd\", flags=O_RDONLY, mode=0)");
	ck_assert_str_eq(lines[1], "21:04:05.123 sim-vm0 v1 evil\\n[412<-411] sys_openat(dfd=AT_FDCWD, "
				   "filename=\"x\\r\\x1b[2J\", flags=O_RDONLY, mode=0)");
	dt_test_free_lines(lines, n);
	dt_test_rmdir(dir);
}
END_TEST

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Events a few hundred microseconds apart reach the sinks in batches: a drain that found
 * few events is followed by a 5 ms linger (reporter_main), so the drains that found events
 * are at most one per 5 ms of the run plus the large ones (>= 64 events). Without the
 * linger the reporter woke for nearly every event (about 200 drains here). */
#define LINGER_EVENTS 200
START_TEST(test_reporter_batches_slow_events)
{
	struct dt_report_producer *p;
	struct dt_report_stats st;
	struct dt_report_opts o;
	struct dt_report *r;
	uint64_t t0, ms;
	unsigned i;
	int fd;

	fd = open("/dev/null", O_WRONLY);
	ck_assert_int_ge(fd, 0);
	dt_report_opts_init(&o);
	o.log = DT_REPORT_LOG_JSON;
	o.log_fd = fd;
	ck_assert_int_eq(dt_report_new(&o, &r), 0);
	t0 = mono_ms();
	ck_assert_int_eq(dt_report_start(r), 0);
	ck_assert_int_eq(dt_report_producer_new(r, 3, "sim-vm0", &p), 0);
	for (i = 0; i < LINGER_EVENTS; i++) {
		dt_report_submit(p, dt_test_ev_openat(DT_EV_CALL, "sim-vm0", "bash", "/etc/passwd", 64));
		usleep(200);
	}
	dt_report_producer_free(p);
	ck_assert_int_eq(dt_report_stop(r, 5000), 0);
	ms = mono_ms() - t0;
	dt_report_stats(r, &st);
	ck_assert_uint_eq(st.q.delivered, LINGER_EVENTS);
	ck_assert_uint_eq(st.log_lines, LINGER_EVENTS);
	ck_assert_uint_ge(st.drains, 1);
	ck_assert_msg(st.drains <= ms / 5 + LINGER_EVENTS / 64 + 2,
		      "%lu drains in %lu ms for %u events", (unsigned long)st.drains,
		      (unsigned long)ms, LINGER_EVENTS);
	dt_report_free(r);
	close(fd);
}
END_TEST

START_TEST(test_bad_options)
{
	struct dt_report_opts o;
	struct dt_report *r = NULL;

	dt_report_opts_init(&o);
	o.report_file_path = "/nonexistent-dir/x/report";
	ck_assert_int_lt(dt_report_new(&o, &r), 0);
	ck_assert_ptr_null(r);
	dt_report_opts_init(&o);
	o.log = 9;
	ck_assert_int_eq(dt_report_new(&o, &r), -EINVAL);
	dt_report_free(NULL);
}
END_TEST

/* A reused event (the trap path's spare) is what a new one is: the header byte for byte,
 * an empty arena (arena bytes are never read before written: neither clears them). */
START_TEST(test_event_reset_is_new)
{
	struct dt_event *fresh, *used;
	size_t size;

	ck_assert_int_eq(dt_event_new(DT_EV_CALL, 512, &fresh), 0);
	ck_assert_int_eq(dt_event_new(DT_EV_MATCH, 512, &used), 0);
	size = fresh->size;
	used->func_id = 7;
	used->proc.pid = 42;
	used->args[0].value = dt_event_strdup(used, "/etc/shadow", 11);
	ck_assert(dt_event_add_dec(used, "flags:flags", dt_event_printf(used, "O_%s", "RDONLY")));
	used->anc = dt_event_alloc(used, 64);
	used->nanc = 1;
	while (used->arena_used < used->arena_cap)
		(void)dt_event_strdup(used, "filling the arena to its end", 28);
	dt_event_reset(used, DT_EV_CALL);
	ck_assert_uint_eq(used->size, size);
	ck_assert_uint_eq(used->arena_used, 0);
	ck_assert_mem_eq(used, fresh, sizeof(*used));
	dt_event_free(fresh);
	dt_event_free(used);
}
END_TEST

static Suite *report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("formats");

	tcase_add_test(tc, test_log_text);
	tcase_add_test(tc, test_log_with_catalog);
	tcase_add_test(tc, test_json);
	tcase_add_test(tc, test_a3_strings);
	tcase_add_test(tc, test_report_entry);
	tcase_add_test(tc, test_escape_rules);
	tcase_add_test(tc, test_hostile_strings);
	tcase_add_test(tc, test_event_reset_is_new);
	suite_add_tcase(s, tc);
	tc = tcase_create("sinks");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_reporter_local_sinks);
	tcase_add_test(tc, test_reporter_text_log);
	tcase_add_test(tc, test_reporter_batches_slow_events);
	tcase_add_test(tc, test_bad_options);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(report_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
