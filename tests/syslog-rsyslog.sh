#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The syslog sink against a real rsyslogd (Debian's rsyslog), started here on a private
# socket and 127.0.0.1 (never the host's own syslog):
#   1. --syslog unix:SOCK --syslog-format json: every event domtrace logs of the syslog
#      types (match, abort, would-abort, pslist, lost) arrives once, in order, as the
#      MSG of an RFC 5424 message equal to domtrace's own --format json log line, with
#      the facility, APP-NAME, PROCID and MSGID (the event type) asked for;
#   2. --syslog tcp:127.0.0.1:PORT (octet-counting frames), seed event strings: the same
#      against the A3 event strings of domtrace's -R report file (which has no pslist:
#      those are counted against the log's).
# Usage: syslog-rsyslog.sh DOMTRACE SOURCE_DIR. Exit 77 (skipped) without rsyslogd.
set -eu
dt=$1
src=$2
command -v rsyslogd >/dev/null || { echo "rsyslogd not installed: skipped"; exit 77; }
command -v jq >/dev/null || { echo "jq not installed: skipped"; exit 77; }

dir=$(mktemp -d /tmp/dt-rsyslog.XXXXXX)
rpid=
cleanup() {
	[ -n "$rpid" ] && kill "$rpid" 2>/dev/null && wait "$rpid" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# a port nothing listens on now (rsyslogd may still lose a race for it: then another)
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		(exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo $p; return; }
	done
}

# wait_for SECONDS COMMAND...: poll the condition, bounded
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.2
	done
}

start_rsyslog() {
	local try
	for try in 1 2 3 4 5; do
		port=$(free_port)
		cat >"$dir/rsyslog.conf" <<CONF
global(workDirectory="$dir" maxMessageSize="256k")
module(load="imuxsock" SysSock.Use="off")
module(load="imtcp")
# RFC 5424 on the local socket: the standard parsers, not imuxsock's legacy one
input(type="imuxsock" Socket="$dir/log.sock" UseSpecialParser="off" ParseHostname="on")
input(type="imtcp" Port="$port" Address="127.0.0.1")
template(name="fields" type="list") {
	property(name="syslogfacility-text") constant(value="|")
	property(name="syslogseverity-text") constant(value="|")
	property(name="app-name") constant(value="|")
	property(name="procid") constant(value="|")
	property(name="msgid") constant(value="|")
	property(name="msg" droplastlf="on") constant(value="\n")
}
*.* action(type="omfile" file="$dir/out.log" template="fields")
CONF
		rm -f "$dir/out.log" "$dir/log.sock"
		rsyslogd -n -f "$dir/rsyslog.conf" -i "$dir/rsyslog.pid" 2>"$dir/rsyslog.err" &
		rpid=$!
		if wait_for 20 bash -c "[ -S '$dir/log.sock' ] && (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null"; then
			return 0
		fi
		kill "$rpid" 2>/dev/null; wait "$rpid" 2>/dev/null || true
		rpid=
	done
	cat "$dir/rsyslog.err"
	fail "rsyslogd did not start"
}

lines() { [ -f "$1" ] && wc -l <"$1" || echo 0; }

start_rsyslog
echo "rsyslogd $rpid on $dir/log.sock and 127.0.0.1:$port"

# (grep, not jq: jq 1.6 would round ts_ns; the first "type" of a line is the event's)
SYSLOG_TYPES='^\{"ts":"[^"]*","ts_ns":[0-9]+,"type":"(match|abort|would-abort|pslist|lost)"'
# ... of them but pslist: the report file has no pslist
REPORT_TYPES='^\{"ts":"[^"]*","ts_ns":[0-9]+,"type":"(match|abort|would-abort|lost)"'
# run domtrace ARGS... until its JSON log has 12 syslog-type events other than pslist (however
# slow the build and the machine: counting pslist too, a slow start once stopped it with 5
# others, a report file too thin to check), then stop it with SIGTERM like an operator would
run_dt() { # LOG ERR ARGS...
	local log=$1 err=$2
	shift 2
	"$dt" --sim 2 --sim-rate 400 --no-guardian -c "$src/config/examples/sim-demo.conf" \
		--format json --log "$log" "$@" 2>"$err" &
	dpid=$!
	wait_for 240 bash -c "! kill -0 $dpid 2>/dev/null || [ \$(cat '$log' 2>/dev/null | grep -cE '$REPORT_TYPES') -ge 12 ]" &&
		kill -0 $dpid 2>/dev/null ||
		{ kill $dpid 2>/dev/null || true; cat "$err"; fail "domtrace made no 12 events in 240 s, or exited"; }
	kill -TERM $dpid
	wait $dpid || { cat "$err"; fail "domtrace $* failed"; }
}

# --- 1. local socket, JSON messages, facility local3, tag dt-test
run_dt "$dir/log.json" "$dir/dt1.err" --sim-seed 7 --syslog "unix:$dir/log.sock" \
	--syslog-format json --syslog-facility local3 --syslog-tag dt-test
grep -E "$SYSLOG_TYPES" "$dir/log.json" >"$dir/want1" || true
n1=$(lines "$dir/want1")
[ "$n1" -gt 5 ] || fail "only $n1 syslog-type events in the log: the demo should make more"
wait_for 60 bash -c "[ \$(cat '$dir/out.log' 2>/dev/null | grep -c '|dt-test|') -ge $n1 ]" ||
	fail "rsyslog got $(grep -c '|dt-test|' "$dir/out.log") of $n1 messages"
grep '|dt-test|' "$dir/out.log" >"$dir/got1" || true
[ "$(lines "$dir/got1")" -eq "$n1" ] || fail "rsyslog got $(lines "$dir/got1") messages, the log has $n1"
# MSG byte for byte: the log's JSON line
cut -d'|' -f6- "$dir/got1" >"$dir/msg1"
diff "$dir/want1" "$dir/msg1" >"$dir/diff1" || { head -20 "$dir/diff1"; fail "MSG differs from the log's JSON lines"; }
# header fields: facility, APP-NAME, PROCID = domtrace's pid, MSGID = type, severity
jq -r '.type' "$dir/want1" | while read -r t; do
	case $t in abort|lost) echo warning;; match|would-abort) echo notice;; *) echo info;; esac
done | paste -d'|' - <(jq -r '.type' "$dir/want1") >"$dir/want1h"
awk -F'|' -v pid=$dpid '$1 != "local3" || $3 != "dt-test" || $4 != pid { print "bad header: " $0; exit 1 }' \
	"$dir/got1" || fail "facility/app-name/procid wrong"
cut -d'|' -f2,5 "$dir/got1" | diff "$dir/want1h" - >/dev/null || fail "severity or MSGID wrong"
echo "unix: $n1 events, each as in the log ($(jq -r .type "$dir/want1" | sort | uniq -c | tr -s ' \n' ' '))"

# --- 2. TCP, seed event strings, facility user, default tag
run_dt "$dir/log2.json" "$dir/dt2.err" --sim-seed 8 -R "$dir/report" \
	--syslog "tcp:127.0.0.1:$port" --syslog-facility user
# the report file's A3 event strings of the syslog types
sed -n -E 's/^[0-9]+\.[0-9]{3}: (domain=[^ ]+ type=(match|abort|would-abort|lost)( .*)?)$/\1/p' \
	"$dir/report" >"$dir/want2" || true
npl=$(grep -cE '^\{"ts":"[^"]*","ts_ns":[0-9]+,"type":"pslist"' "$dir/log2.json" || true)
n2=$(($(lines "$dir/want2") + npl))
[ "$(lines "$dir/want2")" -gt 5 ] || fail "only $(lines "$dir/want2") events in the report file"
wait_for 60 bash -c "[ \$(cat '$dir/out.log' 2>/dev/null | grep -c '|domtrace|') -ge $n2 ]" ||
	fail "rsyslog got $(grep -c '|domtrace|' "$dir/out.log") of $n2 messages over TCP"
grep '|domtrace|' "$dir/out.log" >"$dir/got2" || true
[ "$(lines "$dir/got2")" -eq "$n2" ] || fail "rsyslog got $(lines "$dir/got2") messages over TCP, the report has $n2"
grep -v '|pslist|' "$dir/got2" | cut -d'|' -f6- | diff "$dir/want2" - >"$dir/diff2" || { head -20 "$dir/diff2"; fail "TCP MSG differs from the report's event strings"; }
awk -F'|' -v pid=$dpid '$1 != "user" || $4 != pid { print "bad header: " $0; exit 1 }' "$dir/got2" ||
	fail "facility/procid wrong over TCP"
[ "$(grep -c '|pslist|domain=[^ ]* type=pslist ' "$dir/got2")" -eq "$npl" ] ||
	fail "pslist messages over TCP: $(grep -c '|pslist|' "$dir/got2"), the log has $npl"
echo "tcp: $n2 events, each as in the report file ($npl pslist as many as in the log)"
grep -m1 'type=abort' "$dir/got2" || true
echo "PASS"
