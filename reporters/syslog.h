/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * syslog.h - reporters' private RFC 5424 rendering for the syslog sink (sink_syslog.c),
 * apart so tests can check it byte for byte. No state; any thread.
 *
 *   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG
 *
 * PRI = facility * 8 + severity (abort and lost: warning; match and would-abort:
 * notice; pslist: info). TIMESTAMP: the event's time, UTC, microseconds. MSGID: the
 * event type. No structured data. MSG: the seed's A3 event string, or the JSON object
 * of the log (without its newline). Over TCP each message is framed by octet counting
 * (RFC 6587 3.4.1): "<bytes of the message> <message>".
 */
#ifndef DOMTRACE_REPORTERS_SYSLOG_H
#define DOMTRACE_REPORTERS_SYSLOG_H

#include <stdbool.h>

#include "domtrace/report.h"
#include "format.h"

#define DT_SYSLOG_HOST_MAX 255 /* RFC 5424 HOSTNAME */

/* Who speaks: the header fields that stay the same, sanitised once. */
struct dt_syslog_id {
	unsigned facility;
	char host[DT_SYSLOG_HOST_MAX + 1]; /* printable ASCII, or "-" */
	char app[DT_SYSLOG_TAG_MAX + 1];   /* printable ASCII, or "-" */
	int pid;
};

/* Fill id; host and app are cut to their RFC lengths, bytes outside printable ASCII
 * (33-126) become '_'; empty ones "-". */
void dt_syslog_id_init(struct dt_syslog_id *id, unsigned facility, const char *host,
		       const char *app, int pid);
/* The RFC 5424 severity of an event (0-7). */
unsigned dt_syslog_severity(const struct dt_event *ev);
/* Append ev's message to b. Returns false (b unchanged) for event types syslog does not
 * get: the same as A3 (dt_fmt_a3_wanted): match, abort, would-abort, pslist, lost. */
bool dt_syslog_fmt(struct dt_buf *b, const struct dt_event *ev, const struct dt_syslog_id *id,
		   bool json);

#endif /* DOMTRACE_REPORTERS_SYSLOG_H */
