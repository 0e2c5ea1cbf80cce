// SPDX-License-Identifier: GPL-2.0-only
/*
 * The syslog sink: RFC 5424 messages byte for byte (PRI, timestamp, header fields
 * sanitised, seed and JSON messages), facility and target parsing; the sink through
 * the reporter to a datagram socket and to a TCP listener (octet-counting frames, a
 * reconnect after the collector drops the connection), and its bounded backlog when
 * nobody listens (losses counted by reason, stop still bounded).
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "domtrace/report.h"
#include "format.h"
#include "support/a3_events.h"
#include "support/a3_receiver.h"
#include "syslog.h"

static struct dt_event *lost_event(const char *vm, uint32_t domid, uint64_t n)
{
	struct dt_event *ev;

	ck_assert_int_eq(dt_event_new(DT_EV_LOST, 0, &ev), 0);
	ev->lost = n;
	ev->domid = domid;
	snprintf(ev->vm, sizeof(ev->vm), "%s", vm);
	ev->ts_ns = DT_TEST_TS;
	return ev;
}

START_TEST(test_facility)
{
	ck_assert_int_eq(dt_syslog_facility("daemon"), 3);
	ck_assert_int_eq(dt_syslog_facility("user"), 1);
	ck_assert_int_eq(dt_syslog_facility("LOCAL0"), 16);
	ck_assert_int_eq(dt_syslog_facility("local7"), 23);
	ck_assert_int_eq(dt_syslog_facility("authpriv"), 10);
	ck_assert_int_eq(dt_syslog_facility("23"), 23);
	ck_assert_int_eq(dt_syslog_facility("0"), 0);
	ck_assert_int_eq(dt_syslog_facility("24"), -EINVAL);
	ck_assert_int_eq(dt_syslog_facility("-1"), -EINVAL);
	ck_assert_int_eq(dt_syslog_facility("3x"), -EINVAL);
	ck_assert_int_eq(dt_syslog_facility("local8"), -EINVAL);
	ck_assert_int_eq(dt_syslog_facility(""), -EINVAL);
}
END_TEST

START_TEST(test_target)
{
	char host[256], port[16];
	bool tcp = true;

	ck_assert_int_eq(dt_syslog_target("unix:/dev/log", &tcp, host, sizeof(host), port,
					  sizeof(port)), 0);
	ck_assert(!tcp);
	ck_assert_str_eq(host, "/dev/log");
	ck_assert_int_eq(dt_syslog_target("tcp:127.0.0.1:6514", &tcp, host, sizeof(host), port,
					  sizeof(port)), 0);
	ck_assert(tcp);
	ck_assert_str_eq(host, "127.0.0.1");
	ck_assert_str_eq(port, "6514");
	ck_assert_int_eq(dt_syslog_target("tcp:[::1]:514", &tcp, host, sizeof(host), port,
					  sizeof(port)), 0);
	ck_assert_str_eq(host, "::1");
	ck_assert_str_eq(port, "514");
	ck_assert_int_eq(dt_syslog_target("tcp:logs.example:514", &tcp, host, sizeof(host), port,
					  sizeof(port)), 0);
	ck_assert_str_eq(host, "logs.example");
	static const char *const bad[] = {
		"unix:", "udp:1.2.3.4:514", "tcp:1.2.3.4", "tcp::514", "tcp:1.2.3.4:0",
		"tcp:1.2.3.4:65536", "tcp:1.2.3.4:x", "tcp:::1:514", "tcp:[::1:514", "/dev/log",
		"tcp:1.2.3.4:-5", "tcp:1.2.3.4:",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(dt_syslog_target(bad[i], &tcp, host, sizeof(host), port,
					       sizeof(port)) == -EINVAL, "%s accepted", bad[i]);
	/* a socket path longer than sun_path */
	char longp[200];
	memset(longp, 'a', sizeof(longp));
	memcpy(longp, "unix:/", 6);
	longp[sizeof(longp) - 1] = '\0';
	ck_assert_int_eq(dt_syslog_target(longp, &tcp, host, sizeof(host), port, sizeof(port)),
			 -EINVAL);
}
END_TEST

START_TEST(test_format)
{
	struct dt_syslog_id id;
	struct dt_event *ev;
	struct dt_buf b = { 0 }, j = { 0 };

	/* local0, an abort: <16*8+4> */
	dt_syslog_id_init(&id, 16, "dom0", "domtrace", 4242);
	ev = dt_test_ev_openat(DT_EV_ABORT, "web-1", "php-cgi", "/etc/shadow", 256);
	ck_assert(dt_syslog_fmt(&b, ev, &id, false));
	ck_assert_str_eq(b.p, "<132>1 2024-05-01T21:04:05.123456Z dom0 domtrace 4242 abort - "
			      "domain=web-1 type=abort retval=-13 pid=412 name=php-cgi ppid=411 "
			      "sys_openat(dfd=AT_FDCWD,filename=/etc/shadow,flags=O_RDONLY,mode=0,)");
	/* JSON: the log's object, without its newline */
	dt_buf_reset(&b);
	ck_assert(dt_syslog_fmt(&b, ev, &id, true));
	dt_fmt_json(&j, ev);
	ck_assert_uint_gt(j.len, 2);
	ck_assert_int_eq(j.p[j.len - 1], '\n');
	j.p[--j.len] = '\0';
	ck_assert_str_eq(b.p + strlen("<132>1 2024-05-01T21:04:05.123456Z dom0 domtrace 4242 abort - "),
			 j.p);
	ck_assert_ptr_null(strchr(b.p, '\n'));
	dt_event_free(ev);

	/* severities and MSGIDs per type; daemon = 3 */
	dt_syslog_id_init(&id, 3, "h", "t", 1);
	ev = dt_test_ev_openat(DT_EV_MATCH, "v", "bash", "/x", 128);
	dt_buf_reset(&b);
	ck_assert(dt_syslog_fmt(&b, ev, &id, false));
	ck_assert_str_eq(b.p, "<29>1 2024-05-01T21:04:05.123456Z h t 1 match - domain=v type=match "
			      "when=pre pid=412 name=bash ppid=411 "
			      "sys_openat(dfd=AT_FDCWD,filename=/x,flags=O_RDONLY,mode=0,)");
	ev->type = DT_EV_WOULD_ABORT;
	ck_assert_uint_eq(dt_syslog_severity(ev), 5);
	/* a plain call and a notice are not syslog events: nothing appended */
	ev->type = DT_EV_CALL;
	dt_buf_reset(&b);
	ck_assert(!dt_syslog_fmt(&b, ev, &id, false));
	ck_assert_uint_eq(b.len, 0);
	ev->type = DT_EV_NOTICE;
	ck_assert(!dt_syslog_fmt(&b, ev, &id, true));
	dt_event_free(ev);
	ev = dt_test_ev_pslist("v", 2);
	ev->ts_ns = 1000000000ull * 86400 * 365 + 5000; /* 1971-01-01, 5 us */
	dt_buf_reset(&b);
	ck_assert(dt_syslog_fmt(&b, ev, &id, false));
	ck_assert_msg(!strncmp(b.p, "<30>1 1971-01-01T00:00:00.000005Z h t 1 pslist - domain=v "
				    "type=pslist ", 68), "%s", b.p);
	dt_event_free(ev);
	ev = lost_event("v", 2, 7);
	dt_buf_reset(&b);
	ck_assert(dt_syslog_fmt(&b, ev, &id, false));
	ck_assert_str_eq(b.p, "<28>1 2024-05-01T21:04:05.123456Z h t 1 lost - domain=v type=lost count=7");
	dt_event_free(ev);

	/* header fields: printable ASCII only, RFC lengths, "-" when empty */
	{
		char longtag[80];

		memset(longtag, 'x', sizeof(longtag));
		longtag[79] = '\0';
		dt_syslog_id_init(&id, 99, "my host\n", longtag, 7);
		ck_assert_uint_eq(id.facility, 3); /* out of range: daemon */
		ck_assert_str_eq(id.host, "my_host_");
		ck_assert_uint_eq(strlen(id.app), DT_SYSLOG_TAG_MAX);
		dt_syslog_id_init(&id, 1, "", NULL, 7);
		ck_assert_str_eq(id.host, "-");
		ck_assert_str_eq(id.app, "-");
	}
	dt_buf_free(&b);
	dt_buf_free(&j);
}
END_TEST

/* A reporter with only the syslog sink on `target`. */
static struct dt_report *syslog_reporter(const char *target, size_t max_bytes)
{
	struct dt_report_opts o;
	struct dt_report *r;

	dt_report_opts_init(&o);
	o.syslog_target = target;
	o.syslog_facility = 16;
	o.syslog_tag = "ck";
	o.syslog_max_bytes = max_bytes;
	o.syslog_backoff_min_ms = 10;
	o.syslog_backoff_max_ms = 50;
	ck_assert_int_eq(dt_report_new(&o, &r), 0);
	ck_assert_int_eq(dt_report_start(r), 0);
	return r;
}

START_TEST(test_unix_datagram)
{
	struct dt_report_producer *p;
	struct dt_report_stats st;
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct dt_report *r;
	char dir[64], target[300], buf[4096];
	int fd, i, got = 0;

	ck_assert_int_eq(dt_test_tmpdir(dir, sizeof(dir)), 0);
	ck_assert_uint_lt(strlen(dir) + 10, sizeof(un.sun_path));
	snprintf(un.sun_path, sizeof(un.sun_path), "%.64s/log.sock", dir);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&un, sizeof(un)), 0);
	snprintf(target, sizeof(target), "unix:%s", un.sun_path);
	r = syslog_reporter(target, 0);
	ck_assert_int_eq(dt_report_producer_new(r, 3, "u1", &p), 0);
	for (i = 0; i < 20; i++) {
		/* calls are not syslog events: only the matches arrive */
		dt_report_submit(p, dt_test_ev_openat(DT_EV_CALL, "u1", "bash", "/etc/hosts", 128));
		dt_report_submit(p, dt_test_ev_openat(DT_EV_MATCH, "u1", "bash", "/etc/shadow", 128));
	}
	dt_report_producer_free(p);
	for (i = 0; i < 20; i++) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		ck_assert_int_eq(poll(&pfd, 1, 30000), 1);
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		ck_assert_int_gt(n, 0);
		buf[n] = '\0';
		/* one message a datagram, no framing, no newline */
		ck_assert_msg(!strncmp(buf, "<133>1 2024-05-01T21:04:05.123456Z ", 35), "%s", buf);
		ck_assert_msg(strstr(buf, " ck ") && strstr(buf, " match - domain=u1 type=match when=pre "
						      "pid=412 name=bash ppid=411 sys_openat(dfd=AT_FDCWD,"
						      "filename=/etc/shadow,"), "%s", buf);
		ck_assert_ptr_null(strchr(buf, '\n'));
		got++;
	}
	ck_assert_int_eq(dt_report_stop(r, 5000), 0);
	dt_report_stats(r, &st);
	ck_assert_uint_eq(st.syslog_sent, 20);
	ck_assert_uint_eq(st.syslog_pending, 0);
	ck_assert_uint_eq(st.lost_total, 0);
	ck_assert_int_eq(got, 20);
	dt_report_free(r);
	close(fd);
	dt_test_rmdir(dir);
}
END_TEST

/* Read one octet-counted frame ("LEN SP MSG") from a stream: the message, or NULL at
 * the end of the stream. */
static char *read_frame(int fd)
{
	char lenbuf[16], *msg;
	size_t len = 0, i = 0, at = 0;
	ssize_t n;

	for (;;) {
		n = read(fd, &lenbuf[i], 1);
		if (n <= 0)
			return NULL;
		if (lenbuf[i] == ' ')
			break;
		ck_assert_msg(lenbuf[i] >= '0' && lenbuf[i] <= '9', "bad frame length byte");
		len = len * 10 + (size_t)(lenbuf[i] - '0');
		ck_assert_uint_lt(++i, sizeof(lenbuf));
	}
	msg = malloc(len + 1);
	while (at < len) {
		n = read(fd, msg + at, len - at);
		ck_assert_int_gt(n, 0); /* a frame is never cut */
		at += (size_t)n;
	}
	msg[len] = '\0';
	return msg;
}

START_TEST(test_tcp_frames_and_reconnect)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sin);
	struct dt_report_producer *p;
	struct dt_report_stats st;
	struct dt_report *r;
	char target[64], *m;
	int lfd, cfd, i, one = 1;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(lfd, 4), 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sin, &sl), 0);
	snprintf(target, sizeof(target), "tcp:127.0.0.1:%u", ntohs(sin.sin_port));
	r = syslog_reporter(target, 0);
	ck_assert_int_eq(dt_report_producer_new(r, 3, "u1", &p), 0);
	for (i = 0; i < 10; i++)
		dt_report_submit(p, lost_event("u1", 3, (uint64_t)i + 1));
	cfd = accept(lfd, NULL, NULL);
	ck_assert_int_ge(cfd, 0);
	for (i = 0; i < 10; i++) {
		char want[128];

		m = read_frame(cfd);
		ck_assert_ptr_nonnull(m);
		snprintf(want, sizeof(want), " ck %d lost - domain=u1 type=lost count=%d",
			 (int)getpid(), i + 1);
		ck_assert_msg(!strncmp(m, "<132>1 ", 7) && strstr(m, want), "%s", m);
		free(m);
	}
	/* the collector goes away: the next messages go over a new connection, whole */
	close(cfd);
	for (i = 0; i < 10; i++)
		dt_report_submit(p, lost_event("u1", 3, (uint64_t)i + 100));
	cfd = accept(lfd, NULL, NULL);
	ck_assert_int_ge(cfd, 0);
	for (i = 0; i < 10; i++) {
		char want[64];

		m = read_frame(cfd);
		ck_assert_ptr_nonnull(m);
		snprintf(want, sizeof(want), "type=lost count=%d", i + 100);
		ck_assert_msg(strstr(m, want) && !strcmp(strstr(m, want), want), "%s", m);
		free(m);
	}
	dt_report_producer_free(p);
	ck_assert_int_eq(dt_report_stop(r, 5000), 0);
	dt_report_stats(r, &st);
	ck_assert_uint_eq(st.syslog_sent, 20);
	ck_assert_uint_ge(st.syslog_failures, 1); /* the dropped connection */
	ck_assert_uint_eq(st.lost_total, 0);
	dt_report_free(r);
	close(cfd);
	close(lfd);
}
END_TEST

START_TEST(test_backlog_bound_nobody_listening)
{
	struct dt_report_loss l[8];
	struct dt_report_producer *p;
	struct dt_report_stats st;
	struct dt_report *r;
	char dir[256], target[300];
	size_t n, i;
	uint64_t full = 0, cut = 0;

	ck_assert_int_eq(dt_test_tmpdir(dir, sizeof(dir)), 0);
	snprintf(target, sizeof(target), "unix:%s/nobody.sock", dir);
	r = syslog_reporter(target, 2000); /* a few messages' worth */
	ck_assert_int_eq(dt_report_producer_new(r, 3, "u1", &p), 0);
	for (i = 0; i < 50; i++)
		dt_report_submit(p, dt_test_ev_openat(DT_EV_MATCH, "u1", "bash", "/etc/shadow", 128));
	dt_report_producer_free(p);
	/* the stop's time limit holds although nothing is ever delivered */
	ck_assert_int_eq(dt_report_stop(r, 200), -ETIMEDOUT);
	dt_report_stats(r, &st);
	ck_assert_uint_eq(st.syslog_sent, 0);
	ck_assert_uint_ge(st.syslog_failures, 1);
	ck_assert_uint_eq(st.syslog_pending, 0);
	n = dt_report_losses(r, l, 8);
	for (i = 0; i < n; i++) {
		ck_assert_str_eq(l[i].sink, "syslog");
		if (!strcmp(l[i].reason, "backlog full (2000 bytes)"))
			full = l[i].count;
		else if (!strcmp(l[i].reason, "not delivered before the stop's time limit"))
			cut = l[i].count;
		else
			ck_abort_msg("unexpected reason %s", l[i].reason);
	}
	/* every message is accounted for: refused by the bound or cut at stop */
	ck_assert_uint_gt(full, 0);
	ck_assert_uint_gt(cut, 0);
	ck_assert_uint_eq(full + cut, 50);
	ck_assert_uint_eq(st.lost_total, 50);
	dt_report_free(r);
	dt_test_rmdir(dir);
}
END_TEST

START_TEST(test_bad_target)
{
	struct dt_report_opts o;
	struct dt_report *r = NULL;

	dt_report_opts_init(&o);
	o.syslog_target = "udp:1.2.3.4:514";
	ck_assert_int_eq(dt_report_new(&o, &r), -EINVAL);
	ck_assert_ptr_null(r);
}
END_TEST

static Suite *syslog_suite(void)
{
	Suite *s = suite_create("syslog");
	TCase *tc = tcase_create("format");

	tcase_add_test(tc, test_facility);
	tcase_add_test(tc, test_target);
	tcase_add_test(tc, test_format);
	suite_add_tcase(s, tc);
	tc = tcase_create("sink");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_unix_datagram);
	tcase_add_test(tc, test_tcp_frames_and_reconnect);
	tcase_add_test(tc, test_backlog_bound_nobody_listening);
	tcase_add_test(tc, test_bad_target);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(syslog_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
