# SPDX-License-Identifier: GPL-2.0-only
# lib.sh - helpers of the Xen tier's dom0 scenario (sourced by dom0/main, runs in dom0).
# A check reports exactly one line in $RES: "PASS: <name>: <detail>" or "FAIL: <name>: <detail>";
# a failing check also leaves $OUT/fail-<name>.txt with the lines that explain it.
X=/xt
OUT=$X/out
RES=$OUT/results
CON=/var/log/xen/console
export PATH=$X/bin:/usr/lib/xen-4.17/bin:$PATH

up() { cut -d' ' -f1 /proc/uptime; }
note() { echo "XT-DOM0: [$(up)] $*"; }
# phase TEXT: where the scenario is (the heartbeat shows it).
phase() { echo "$*" > /tmp/phase; }
pass() { local n=$1; shift; echo "PASS: $n: $*" | tee -a "$RES"; }
# fail NAME DETAIL [FILE...]: the files' last lines go into the failure context.
fail() {
	local n=$1 d=$2 f
	shift 2
	echo "FAIL: $n: $d" | tee -a "$RES"
	{
		echo "check $n failed: $d"
		for f in "$@"; do
			[ -e "$f" ] && { echo "-- last lines of $f"; tail -25 "$f"; }
		done
	} >> "$OUT/fail-$n.txt"
}
# check NAME DETAIL COMMAND...: PASS when COMMAND succeeds.
check() {
	local n=$1 d=$2
	shift 2
	if "$@"; then pass "$n" "$d"; else fail "$n" "$d"; fi
}
# notyet NAME REASON: a check that this platform cannot make pass yet, and why (not a pass).
notyet() { local n=$1; shift; echo "NOT-YET: $n: $*" | tee -a "$RES"; }
figure() { echo "FIGURE: $*" | tee -a "$RES"; }

glog() { echo "$CON/guest-$1.log"; }
# wait_log FILE ERE SECONDS: wait until FILE has a line matching ERE.
wait_log() {
	local i
	for ((i = 0; i < $3 * 2; i++)); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.5
	done
	return 1
}
# last_round NAME: number of the guest's last finished round (0 if none).
last_round() {
	local r
	r=$(sed -n "s/^XT-GUEST $1: round \([0-9]*\) end.*/\1/p" "$(glog "$1")" 2>/dev/null | tail -1)
	echo "${r:-0}"
}
# alive NAME: the guest is the domain created first under that name and is not shut down
# or crashed (a triple fault shows as a shutdown: on_reboot is "preserve").
alive() {
	local d
	d=$(domid "$1")
	[ -n "$d" ] && [ "$d" = "$(cat /tmp/domid.$1 2>/dev/null)" ] &&
		! xl list "$1" 2>/dev/null | awk 'NR == 2 { exit !($5 ~ /[sc]/) }'
}
# paused NAME: the toolstack holds a pause of the domain (xl list's state has a 'p')
paused() { xl list "$1" 2>/dev/null | awk 'NR == 2 { exit !($5 ~ /p/) }'; }
# wait_rounds NAME N SECONDS: wait until N more rounds of NAME have finished (fails at once
# when the guest is no longer alive).
wait_rounds() {
	local want=$(($(last_round "$1") + $2)) i
	for ((i = 0; i < $3 * 2; i++)); do
		[ "$(last_round "$1")" -ge "$want" ] && return 0
		if ((i % 20 == 19)) && ! alive "$1"; then
			note "guest $1 is not alive: $(xl list "$1" 2>&1 | tail -1)"
			guest_died "$1"
			return 1
		fi
		sleep 0.5
	done
	return 1
}
# guest_died NAME: the scenario cannot go on without its guest: record the death with Xen's
# log and end the scenario now, instead of letting every later check wait out its timeouts on
# a dead guest (a run that outlived XT_TIMEOUT kept no Xen log, so tests/xen/run could not
# tell an emulator defect, which gets another run, from anything else).
guest_died() {
	fail guest-died "$1 died: $(xl list "$1" 2>&1 | tail -1 | tr -s ' '); Xen: $(xl dmesg 2>&1 | grep -E -m2 'Triple fault|domain_crash|crashed' | tr '\n' ' ')"
	save_logs
	note "scenario ended early: guest $1 died"
	exit 1
}
# round_lines NAME R: the console lines of round R of guest NAME.
round_lines() {
	sed -n "/^XT-GUEST $1: round $2 begin/,/^XT-GUEST $1: round $2 end/p" "$(glog "$1")" |
		tr -d '\r'
}
# create_guest NAME [KERNEL VCPUS EXTRA]: xl create from the template (default: bookworm's
# kernel, one vCPU, the standard workload); prints the seconds it took.
create_guest() {
	sed "s/@NAME@/$1/g; s/@KERNEL@/${2:-vmlinuz}/; s/@VCPUS@/${3:-1}/; s/@EXTRA@/${4:-}/" \
		$X/guest.cfg > "/tmp/$1.cfg"
	local t0=$(up)
	xl create "/tmp/$1.cfg" > "/tmp/xl-create-$1.log" 2>&1 || return 1
	domid "$1" > /tmp/domid.$1
	awk -v a="$t0" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }'
}
domid() { xl domid "$1" 2>/dev/null; }
# ksym NAME SYMBOL: a guest symbol's address, as the guest printed it at boot (kept: the
# console log grows long).
ksym() {
	local c=/tmp/ksym.$1.$2
	[ -s $c ] || tr -d '\r' < "$(glog "$1")" |
		awk -v s="$2" '$3 == "ksym" && $6 == s { print "0x" $4; exit }' > $c
	# the guest's own line is missing if its boot-time grep failed: dom0 runs the same kernel
	[ -s $c ] || awk -v s="$2" '$3 == s { print "0x" $1; exit }' /proc/kallsyms > $c
	cat $c
}
# dump_text NAME FILE: the guest's kernel text (_stext.._etext) read by xt-peek.
dump_text() {
	local s e
	s=$(ksym "$1" _stext)
	e=$(ksym "$1" _etext)
	[ -n "$s" ] && [ -n "$e" ] || { echo "no _stext/_etext from guest $1" >&2; return 1; }
	xt-peek "$(domid "$1")" "$s" $((e - s)) > "$2"
}
# same_text A B: cmp, printing where they differ.
same_text() {
	cmp -l "$1" "$2" > /tmp/cmp.out 2>&1 && return 0
	echo "$(wc -l < /tmp/cmp.out) bytes differ; first: $(head -5 /tmp/cmp.out | tr '\n' ';')"
	return 1
}
save_logs() {
	local f
	for f in "$CON"/guest-*.log; do
		[ -e "$f" ] && tr -d '\r' < "$f" > "$OUT/$(basename "$f")"
	done
	xl dmesg > "$OUT/xl-dmesg.log" 2>&1
}

# jl FILE STRING...: the lines of FILE that contain every STRING (fixed strings).
jl() {
	local f=$1 s
	shift
	local cmd="cat $f"
	for s in "$@"; do cmd="$cmd | grep -F -e $(printf '%q' "$s")"; done
	eval "$cmd" 2>/dev/null
}
# jget LINE KEY: the value of the first "KEY":value in a JSON line (strings unquoted, escapes
# kept). The first: an event's own process comes before its "ancestors". Enough for our events.
jget() {
	printf '%s\n' "$1" | grep -o -E "\"$2\":(\"([^\"\\\\]|\\\\.)*\"|[-0-9a-z.]+)" | head -1 |
		sed -E "s/^\"$2\"://; s/^\"(.*)\"\$/\\1/"
}
# wait_for SECONDS COMMAND...: poll COMMAND every half second.
wait_for() {
	local t=$1 i
	shift
	for ((i = 0; i < t * 2; i++)); do
		"$@" && return 0
		sleep 0.5
	done
	return 1
}
has() { grep -Eq -- "$2" "$1" 2>/dev/null; }
# utime PID: user clock ticks of a process; cpu_ticks PID: user + system.
utime() { awk '{ print $14 }' "/proc/$1/stat" 2>/dev/null; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null; }
# last_traps FILE: the traps counter of the last "stats:" line of domtrace's stderr.
last_traps() { sed -n 's/.*stats: traps \([0-9]*\),.*/\1/p' "$1" | tail -1; }
# traps_over LOG N: domtrace's last stats line in LOG counts more than N traps.
traps_over() { local t; t=$(last_traps "$1"); [ "${t:-0}" -gt "$2" ]; }
# all_in STRING WORD...: every WORD occurs in STRING.
all_in() {
	local s=$1 w
	shift
	for w in "$@"; do [[ $s == *"$w"* ]] || return 1; done
}

# expect_round NAME R: the lines every round of the workload prints, checked in round R.
expect_round() {
	local g=$1 r=$2 w missing=""
	round_lines "$g" "$r" > "/tmp/round-$g-$r.txt"
	local want=(
		"XT xt-hello: argv=$g-round-$r|arg with spaces"
		"XT xt-open: openat /tmp/xt-open-$g-$r flags=0x80241 fd="
		"XT xt-net: connect 127.0.0.1:7777 ret=0"
		"XT xt-net: accept 127.0.0.1:7777 fd="
		"XT xt-sig: child [0-9]* killed: signal=15"
		"XT xt-sig: child [0-9]* faulted: signal=11"
		"XT xt-sig: child [0-9]* exited: exit=7"
		"XT xt-open: openat /tmp/xt-anc-target flags=0x80241 fd="
		"XT xt-anc: sh -c '/bin/xt-open /tmp/xt-anc-target; true' exit=0"
		"XT xt-abort: openat /tmp/xt-anc-target flags=0x0 fd="
		"XT xt-loop: getppid n=[0-9]*"
	)
	[ "$HAS32" = 1 ] && want+=("XT xt32-hello: argv=$g-round32-$r"
		"XT xt32-open: openat /tmp/xt32-open-$g-$r flags=0x80241 fd=")
	for w in "${want[@]}"; do grep -q -- "^$w" "/tmp/round-$g-$r.txt" || missing="$missing [$w]"; done
	[ -z "$missing" ] && return 0
	echo "round $r of $g lacks:$missing"
	return 1
}
us_per_call() { sed -n 's/.*XT xt-loop: getppid.*us_per_call=\([0-9.]*\).*/\1/p' "$1" | head -1; }
