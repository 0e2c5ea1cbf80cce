#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# controls.sh - the Xen tier's control runs (XT_CONTROL="MODE ..." on the host; run by
# dom0-main instead of the scenario). Each mode runs two fresh guests with the usual workload
# for XT_CONTROL_SECS seconds and counts the guests that die (triple fault or crash); a dead
# guest is recorded with Xen's dump and replaced, so every mode gets the same guest-time.
#   none     no monitor at all
#   monitor  xt-minmon per guest: monitor ring and descriptor-access exits on, no probe written
#   minmon   xt-minmon per guest with one probe on getppid, answered with no work (the
#            yardstick of docs/XEN-TIER.md "Measured")
#   entry    domtrace --trap sgdt, the main scenario's phase-B config (entry probes, getppid)
#   return   the same with --sgdt-returns (entry + return probes)
#   int3     domtrace --trap int3 (its default: entry and return probes; needs the patched QEMU)
#   peek     what the scenario does around its tracing, part 1, over and over: both guests'
#            kernel text dumped by xt-peek (domain paused, 14 MiB mapped), every 5 s
#   attach   part 2: domtrace (sgdt, entry probes) attached for 20 s, detached, again
#   churn    both
#   kattach  attach's cycle without a System.map: each attach finds and decodes the guest's own
#            kallsyms (about 10 MiB of guest memory read while the guest runs), as the
#            scenario's runs do since issue 17
# Results: one "FIGURE: control ..." line per mode and "PASS: control-<n>-<mode>" once its
# window has run (a death is a measurement here, not a failure of the run).
set -u
. /xt/lib.sh
MODES=$(cat $X/control-modes)
SECS=$(cat $X/control-secs 2>/dev/null || echo 600)
DT=$X/bin/domtrace
awk '{ print $1, $2, $3 }' /proc/kallsyms > /tmp/guest.map
cat > /tmp/c.conf <<EOC
SystemMap /tmp/guest.map
Functions execve,openat,connect,accept,accept4,do_exit,kill,getppid
ProcessListNames xt-exec
Filter function=openat,argname=filename,argval=^/tmp/xt-abort-target\$,apply=1,retval=-EXDEV
Filter function=openat,argname=filename,argval=^/tmp/xt-anc-target\$,name=^xt-anc
Filter function=connect,argname=uservaddr,argval=127\.0\.0\.1:7777
Filter function=do_exit,argname=code:signal,argval=SEGV
Filter function=openat,argname=filename,argval=^/tmp/xt(32)?-open-,when=post,retval=^[0-9]+\$
Filter function=kill,argname=sig,argval=SIGTERM
EOC
grep -v '^SystemMap' /tmp/c.conf > /tmp/ck.conf
GETPPID=$(awk '$3 == "__x64_sys_getppid" { print $1; exit }' /proc/kallsyms)
cp $X/vmlinuz $X/vmlinuz-5.10 $X/vmlinuz-6.12 $X/guest.cpio.gz /tmp/
(cd /tmp && sha256sum -c --quiet $X/sums) || note "WARNING: guest images differ from the host's"
note "control runs: modes [$MODES], ${SECS} s each; $(xl info | grep -E '^xen_version' | tr -s ' ')"

# start_minmon SLOT: xt-minmon for the guest in SLOT (probe on getppid in minmon mode)
start_minmon() {
	local g=${NAME[$1]} f=0
	[ "$MODE" = minmon ] && f=$GETPPID
	xt-minmon "$(domid "$g")" "$f" >> /tmp/minmon.out 2>> /tmp/minmon.err &
	MPID[$1]=$!
}
# new_guest SLOT: a fresh guest in SLOT, named after the mode, slot and generation
new_guest() {
	GEN[$1]=$((${GEN[$1]:-0} + 1))
	NAME[$1]=${MODE:0:3}$N-$1-${GEN[$1]}
	ALL+=" ${NAME[$1]}"
	create_guest "${NAME[$1]}" > /dev/null || note "xl create ${NAME[$1]} failed: $(tail -2 /tmp/xl-create-${NAME[$1]}.log | tr '\n' ' ')"
	wait_log "$(glog "${NAME[$1]}")" "^XT-GUEST ${NAME[$1]}: round 1 begin" 300 ||
		note "${NAME[$1]} did not begin its rounds"
	case $MODE in monitor | minmon) start_minmon "$1" ;; esac
}
# a guest that died: Xen's dump of it, then it is replaced
bury() {
	local g=${NAME[$1]} d
	d=$(cat /tmp/domid.$g)
	xl dmesg > /tmp/xl-dmesg.txt 2>&1
	DEATHS=$((DEATHS + 1))
	local rip
	rip=$(awk -v d="d${d}v" 'index($0, d) && /Triple fault/ { t = 1 }
		t && match($0, /RIP: +[0-9a-f]+:\[<[0-9a-f]+>\]/) { print substr($0, RSTART, RLENGTH); exit }' /tmp/xl-dmesg.txt)
	WHERE+=" $g@$(up):${rip:-no-dump}"
	note "control $MODE: guest $g (dom$d) died at uptime $(up): $(xl list "$g" 2>&1 | tail -1 | tr -s ' ')"
	grep -A12 "d${d}v[0-9]* Triple fault" /tmp/xl-dmesg.txt | head -14 >> "$OUT/control-deaths.txt"
	[ -n "${MPID[$1]:-}" ] && kill -TERM "${MPID[$1]}" 2>/dev/null && wait "${MPID[$1]}" 2>/dev/null
	MPID[$1]=
	xl destroy "$g" 2>/dev/null
	new_guest "$1"
}

N=0
for MODE in $MODES; do
	N=$((N + 1))
	phase "control $N: $MODE for ${SECS}s"
	declare -A NAME=() GEN=() MPID=()
	ALL=""
	DEATHS=0
	WHERE=""
	: > /tmp/minmon.out
	dpid=""
	if [ "$MODE" = entry ] || [ "$MODE" = return ] || [ "$MODE" = int3 ]; then
		flags="--trap sgdt"
		[ "$MODE" = return ] && flags="$flags --sgdt-returns"
		[ "$MODE" = int3 ] && flags="--trap int3"
		$DT $(cat $X/dtflags) $flags -c /tmp/c.conf --format none --stats 10 2> /tmp/c$N.err &
		dpid=$!
	fi
	new_guest 1
	new_guest 2
	t0=$(up)
	cycles=0
	while awk -v a="$t0" -v b="$(up)" -v s="$SECS" 'BEGIN { exit !(b - a < s) }'; do
		case $MODE in peek | churn)
			for s in 1 2; do dump_text "${NAME[$s]}" /tmp/churn.text 2>/dev/null; done
			cycles=$((cycles + 1)) ;;
		esac
		case $MODE in attach | churn | kattach)
			cf=/tmp/c.conf
			[ $MODE = kattach ] && cf=/tmp/ck.conf
			$DT --trap sgdt -c $cf --format none --duration 20 2>> /tmp/churn$N.err
			cycles=$((cycles + 1)) ;;
		esac
		sleep 5
		for s in 1 2; do alive "${NAME[$s]}" || bury $s; done
	done
	rounds=0
	for g in $ALL; do rounds=$((rounds + $(last_round "$g"))); done
	traps=""
	if [ -n "$dpid" ]; then
		kill -TERM $dpid
		wait_for 120 sh -c "! kill -0 $dpid 2>/dev/null"
		wait $dpid
		traps="; domtrace exit $?, $(grep 'stats:' /tmp/c$N.err | tail -1 | sed 's/.*stats: //' | cut -c1-120)"
		cp /tmp/c$N.err "$OUT/control-$N-$MODE.err"
	fi
	for s in 1 2; do
		[ -n "${MPID[$s]:-}" ] && kill -TERM "${MPID[$s]}" 2>/dev/null && wait "${MPID[$s]}" 2>/dev/null
	done
	[ -s /tmp/minmon.out ] && traps="; $(tr '\n' ' ' < /tmp/minmon.out | cut -c1-400)"
	[ "$cycles" -gt 0 ] && traps="; $cycles peeks and attaches; $(grep -c 'detached, every byte restored' /tmp/churn$N.err 2>/dev/null) detaches"
	for s in 1 2; do alive "${NAME[$s]}" || { DEATHS=$((DEATHS + 1)); WHERE+=" ${NAME[$s]}@end"; }; done
	for g in $ALL; do xl destroy "$g" 2>/dev/null; done
	figure "control $N $MODE: ${SECS} s x 2 guests, $rounds workload rounds, $DEATHS guest deaths${WHERE:+ [$WHERE ]}$traps"
	pass "control-$N-$MODE" "$SECS s, $rounds rounds, $DEATHS deaths"
done
save_logs
cp /tmp/minmon.err "$OUT/" 2>/dev/null
note "control runs end"
