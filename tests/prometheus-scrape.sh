#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# --metrics against a real Prometheus server (Debian's prometheus, its binary run here
# with a temporary config and TSDB, on 127.0.0.1; never the service): domtrace traces a
# scripted simulated host whose processes make their calls and end; Prometheus scrapes
# it every second; once the traffic has stopped and two more scrapes are stored,
# domtrace is stopped and the values Prometheus stored (last_over_time) are checked
# against domtrace's own final --stats line and its log: traps, calls, matches, aborts,
# events by type, the handling histogram's +Inf bucket against its count.
# Usage: prometheus-scrape.sh DOMTRACE SOURCE_DIR. Exit 77 (skipped) without prometheus.
set -eu
dt=$1
command -v prometheus >/dev/null || { echo "prometheus not installed: skipped"; exit 77; }
for t in curl jq; do
	command -v $t >/dev/null || { echo "$t not installed: skipped"; exit 77; }
done

dir=$(mktemp -d /tmp/dt-prom.XXXXXX)
dpid= ppid_=
cleanup() {
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
	[ -n "$ppid_" ] && kill "$ppid_" 2>/dev/null && wait "$ppid_" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
wait_for() { # SECONDS COMMAND...: poll the condition, bounded
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.2
	done
}
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		(exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo $p; return; }
	done
}

# Two VMs (made by the scenario once domtrace runs; --duration keeps it running after
# the script ends); on each, processes that wait for domtrace to attach, then open files (some
# /etc/shadow: a match), exec (php-cgi's /bin/sh: an abort) and end.
nproc_=0
{
	for vm in u1 u2; do
		echo "vm $vm flavour=6.1 vcpus=2"
		for p in 200 201 202; do
			echo "proc $p comm=$([ $p = 202 ] && echo php-cgi || echo worker) uid=33 gid=33"
			echo "$p sleep 1500"
			for i in $(seq 1 25); do
				echo "$p call openat AT_FDCWD \"/etc/hosts\" O_RDONLY 0"
			done
			echo "$p call openat AT_FDCWD \"/etc/shadow\" O_RDONLY 0"
			echo "$p call execve \"/bin/sh\" [\"sh\"] []"
			echo "$p call getuid"
			echo "$p exit 0"
			nproc_=$((nproc_ + 1))
		done
	done
} >"$dir/traffic.scn"
cat >"$dir/dt.conf" <<'CONF'
Functions openat, sys_execve, getuid, exit_group
Filter function=sys_execve, name=php-cgi, argname=filename, argval=^/bin/sh$, apply=1, retval=-EPERM
Filter function=openat, argname=filename, argval=^/etc/shadow$
CONF

"$dt" --sim-scenario "$dir/traffic.scn" --duration 3600 --no-guardian -c "$dir/dt.conf" --format json \
	--log "$dir/log.json" --metrics 127.0.0.1:0 --stats 3600 2>"$dir/dt.err" &
dpid=$!
wait_for 60 grep -q 'metrics: http://127.0.0.1:[0-9]*/metrics' "$dir/dt.err" ||
	{ cat "$dir/dt.err"; fail "no metrics endpoint"; }
mport=$(sed -n 's|.*metrics: http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' "$dir/dt.err" | head -1)
echo "domtrace $dpid serves 127.0.0.1:$mport"

for try in 1 2 3 4 5; do
	pport=$(free_port)
	cat >"$dir/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: domtrace
    static_configs:
      - targets: ['127.0.0.1:$mport']
YML
	prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/tsdb" \
		--web.listen-address="127.0.0.1:$pport" --log.level=warn 2>"$dir/prom.err" &
	ppid_=$!
	if wait_for 60 curl -sf -o /dev/null "http://127.0.0.1:$pport/-/ready"; then
		break
	fi
	kill "$ppid_" 2>/dev/null; wait "$ppid_" 2>/dev/null || true
	ppid_=
done
[ -n "$ppid_" ] || { cat "$dir/prom.err"; fail "prometheus did not start"; }
echo "prometheus $ppid_ on 127.0.0.1:$pport"

q() { # PROMQL [TIME] -> the value of its one result ("" if none)
	curl -sf "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1" \
		${2:+--data-urlencode "time=$2"} |
		jq -r '.data.result[0].value[1] // ""'
}
# successful scrapes (on a loaded machine one may miss the 1 s timeout: up 0, nothing stored)
scrapes() { q 'sum_over_time(up{job="domtrace"}[1h])'; }

# the traffic is over when every process has called exit_group
exits() { [ "$(cat "$dir/log.json" 2>/dev/null | grep -c '"func":"sys_exit_group"')" -ge "$nproc_" ]; }
wait_for 120 exits || fail "the processes did not all end: $(grep -c sys_exit_group "$dir/log.json") of $nproc_"
n0=$(scrapes); n0=${n0:-0}; want=$((n0 + 2 > 3 ? n0 + 2 : 3))
# two successful scrapes after the traffic: the last stored values are final ones
wait_for 120 bash -c "[ \"\$(curl -sf 'http://127.0.0.1:$pport/api/v1/query' --data-urlencode 'query=sum_over_time(up{job=\"domtrace\"}[1h])' | jq -r '.data.result[0].value[1] // 0')\" -ge $want ]" ||
	{ curl -s "http://127.0.0.1:$pport/api/v1/targets"; fail "prometheus stored no new scrape"; }
echo "$(scrapes) scrapes stored of $(q 'count_over_time(up{job="domtrace"}[1h])') tried"

# gauges are read as they were before the stop: scrapes during it see the VMs detach
tstop=$(date +%s.%N)
kill -TERM "$dpid"
wait "$dpid" || rc=$?
[ "${rc:-0}" = 0 ] || { tail -5 "$dir/dt.err"; fail "domtrace exited with ${rc}"; }
dpid=
stats=$(grep 'stats: traps' "$dir/dt.err" | tail -1)
echo "domtrace: ${stats#*stats: }"
stat() { echo "$stats" | sed -n "s/.*[:,] $1 \([0-9]*\),.*/\1/p"; }
last() { q "sum(last_over_time($1[1h]))"; }

for m in traps calls matches aborts; do
	want=$(stat $m)
	got=$(last "domtrace_${m}_total")
	[ -n "$want" ] && [ "$want" -gt 0 ] || fail "no '$m' in the stats line"
	[ "$got" = "$want" ] || fail "domtrace_${m}_total: prometheus has $got, domtrace said $want"
	echo "domtrace_${m}_total $got = --stats $m $want"
done
for t in call match abort; do
	want=$(grep -cE "^\\{\"ts\":\"[^\"]*\",\"ts_ns\":[0-9]+,\"type\":\"$t\"" "$dir/log.json" || true)
	got=$(last "domtrace_events_total{type=\"$t\"}")
	[ "$got" = "$want" ] || fail "domtrace_events_total{type=$t}: prometheus has $got, the log $want"
	echo "domtrace_events_total{type=\"$t\"} $got = log lines $want"
done
[ "$(last 'domtrace_events_total{type="abort"}')" -ge 2 ] || fail "expected an abort per VM"
# the histogram as stored: +Inf bucket = count = every trap of ours handled
inf=$(last 'domtrace_trap_handling_seconds_bucket{le="+Inf"}')
cnt=$(last 'domtrace_trap_handling_seconds_count')
[ "$inf" = "$cnt" ] && [ "$cnt" -gt 0 ] || fail "histogram: +Inf $inf, count $cnt"
[ "$(last 'domtrace_trap_handling_seconds_bucket{le="1.024e-06"}')" -le "$cnt" ] || fail "buckets not cumulative"
[ "$(q 'count(last_over_time(domtrace_traps_total[1h]))')" = 2 ] || fail "expected 2 VMs"
[ "$(q 'sum(last_over_time(domtrace_vm_state{state="running"}[1h]))' "$tstop")" = 2 ] ||
	fail "2 VMs running: $(q 'sum(last_over_time(domtrace_vm_state{state="running"}[1h]))' "$tstop")"
[ "$(q 'sum(last_over_time(domtrace_probes_armed[1h]))' "$tstop")" -gt 0 ] || fail "no probes armed"
echo "histogram count $cnt = +Inf bucket; 2 VMs running, probes armed"
echo "PASS"
