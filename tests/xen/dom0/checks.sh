# SPDX-License-Identifier: GPL-2.0-only
# checks.sh - the Xen tier's checks on what domtrace logged, against what the guests printed.
# Sourced by dom0/main once domtrace has ended (every event is in the log by then), with the
# scenario's round numbers and counters in $OUT/state. It runs on the host too, on a finished
# run's out/ directory, to work on the checks without booting:
#   XT_OUT=build/xen-tier/share/out bash tests/xen/dom0/checks.sh
if [ -n "${XT_OUT:-}" ]; then
	. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
	OUT=$XT_OUT
	RES=$OUT/results.host
	: > "$RES"
	CON=$OUT/console
	DTJ=$OUT/domtrace.json
	DTE=$OUT/domtrace.err
	A3=$OUT/a3-received.txt
	note() { echo "XT-CHECKS: $*"; }
fi
. "$OUT/state"
round_lines u1 "$RS" > /tmp/rb.txt # the first round after SIGUSR1

# === the events of phase A, read once domtrace has ended ====================================
# -- checks on phase A ---------------------------------------------------------------------
# trace_round G R: the events of guest G's round R are checked against the round's lines.
for ((r = R0; r <= R1; r++)); do expect_round u1 $r > /dev/null && break; done
RA=$r
round_lines u1 $RA > /tmp/ra.txt
if [ $RA -le $R1 ]; then
	note "checking round $RA of u1 (traced rounds $R0..$R1)"
else
	note "no complete traced round of u1 in $R0..$R1"
	RA=$R1
fi
if has $DTE 'VM u2 \(dom[0-9]+\) appeared' && has $DTE 'VM u2 \(dom[0-9]+\): tracing'; then
	pass watcher-appeared "u2 created while tracing: $(grep -m1 -o 'VM u2 (dom[0-9]*) appeared' $DTE), attached; threads $threads1 -> $threads2"
else
	fail watcher-appeared "u2 not found or not attached while tracing" $DTE
fi

# Return values need return probes. Under --trap sgdt a return probe needs a 5-byte exit;
# when the guest kernel's exits are 1-byte "ret" (patched return thunks) domtrace traces the
# call without them and says so: then a return value is not compared (post-retval says why).
# ret_ok EVENT WANT: the event's return value is WANT, or it has none for the reason above.
ret_ok() {
	local r
	r=$(jget "$1" ret)
	[ "$r" = "$2" ] && return 0
	[ -z "$r" ] && [ -n "$noret_why" ]
}
ret_text() {
	local r
	r=$(jget "$1" ret)
	[ -n "$r" ] && echo "ret $r" || echo "no return value (no return probe)"
}

# guest_events G R J E SX: the checks of one guest's traced round R (its console lines in
# /tmp/round-G-R.txt) against domtrace's JSON log J (its stderr E), as checks named <check>SX:
# u1 in phase A (SX empty) and each guest of the matrix run (SX "@<guest>"). The filters are
# a.conf's: 1 abort xt-abort-target, 2 ancestry, 3 connect, 4 SIGSEGV exit, 5 post openat.
guest_events() {
	local g=$1 r=$2 J=$3 E=$4 sx=$5 rf=/tmp/round-$1-$2.txt
	local ev argv cm fd fl rw rbad c rc t u f afd segv term ex7 e1 e2 e3 k pp xsig anc ctl ab e32 x32
	round_lines "$g" "$r" > "$rf"
	noret_why=$(grep -m1 -o -E 'entry points without return probes.*|no return probes with --trap sgdt.*' "$E")
	ev=$(jl $J "\"vm\":\"$g\"" '"func":"sys_execve"' '"filename":"/bin/xt-hello"' "$g-round-$r\\\"")
	argv="[\\\"/bin/xt-hello\\\", \\\"$g-round-$r\\\", \\\"arg with spaces\\\"]"
	# The name is the caller's (xt-exec) when the line is made at entry, the new program's
	# (xt-hello) when it is made at the return of a successful execve.
	cm=$(jget "$ev" comm)
	if [ -n "$ev" ] && [ "$(jget "$ev" argv)" = "$argv" ] && [[ $cm == xt-exec || $cm == xt-hello ]] &&
		ret_ok "$ev" 0; then
		pass "execve-argv$sx" "$g round $r by pid $(jget "$ev" pid) ($cm, $(jget "$ev" when)): $(printf '%s' "$ev" | grep -o '"args":{[^}]*}' | head -1), $(ret_text "$ev")"
	else
		fail "execve-argv$sx" "no execve event with the argv of round $r, or a wrong one" $rf
		printf '%s\n' "$ev" >> "$OUT/fail-execve-argv$sx.txt"
		jl $J "\"vm\":\"$g\"" '"func":"sys_execve"' | tail -5 >> "$OUT/fail-execve-argv$sx.txt"
	fi

	fd=$(sed -n "s|^XT xt-open: openat /tmp/xt-open-$g-$r flags=0x80241 fd=\([0-9]*\)|\1|p" $rf)
	ev=$(jl $J "\"vm\":\"$g\"" '"func":"sys_openat"' "\"filename\":\"/tmp/xt-open-$g-$r\"" | head -1)
	fl=$(jget "$ev" flags)
	if [ -n "$ev" ] && [ -n "$fd" ] && ret_ok "$ev" "$fd" && [ "$(jget "$ev" comm)" = xt-open ] &&
		all_in "$fl" O_WRONLY O_CREAT O_TRUNC O_CLOEXEC && [ "$(jget "$ev" mode)" = 0640 ]; then
		pass "openat-path-flags$sx" "/tmp/xt-open-$g-$r flags=$fl mode=$(jget "$ev" mode) by xt-open, $(ret_text "$ev") (the guest got fd $fd)"
	else
		fail "openat-path-flags$sx" "event [${ev:0:300}] vs guest fd=$fd" $rf
	fi
	# post-retval: its own phase with return probes (dom0/main)

	# returns-everywhere (--trap int3: return probes on every traced call): every call record of
	# every traced function that returns carries its return value, in both phases' log, but for
	# calls still in flight when their guest was destroyed or domtrace detached ("unfinished")
	if [ "${TRAP:-sgdt}" = int3 ]; then
		rw="" rbad=""
		for f in sys_execve sys_openat sys_connect sys_accept sys_kill sys_getppid; do
			c="\"type\":\"call\",\"vm\":\"$g\",.*\"func\":\"$f\""
			t=$(grep -c "$c" $J)
			rc=$(grep "$c" $J | grep -c '"ret":')
			u=$(grep "$c" $J | grep -v '"ret":' | grep -c '"unfinished":true')
			rw="$rw $f $rc/$t"
			[ "$u" = 0 ] || rw="$rw ($u unfinished)"
			rw="$rw,"
			{ [ "$rc" -gt 0 ] && [ $((rc + u)) = "$t" ]; } || rbad="$rbad $f"
		done
		if [ -z "$rbad" ]; then
			pass "returns-everywhere$sx" "every call record has its return value but those unfinished:${rw%,}"
		else
			fail "returns-everywhere$sx" "records without a return value (or none) for:$rbad;${rw%,}" $E
		fi
	fi

	ev=$(jl $J "\"vm\":\"$g\"" '"func":"sys_connect"' '127.0.0.1:7777' '"type":"match"' | tail -1)
	if [ -n "$ev" ] && [ "$(jget "$ev" uservaddr)" = "AF_INET 127.0.0.1:7777" ] &&
		[ "$(jget "$ev" comm)" = xt-net ] && [ "$(jget "$ev" filter)" = 3 ]; then
		pass "connect-sockaddr$sx" "uservaddr=$(jget "$ev" uservaddr) by xt-net, filter 3 matched"
	else
		fail "connect-sockaddr$sx" "no matched connect to 127.0.0.1:7777: [${ev:0:400}]" $rf
		jl $J '"func":"sys_connect"' | tail -3 >> "$OUT/fail-connect-sockaddr$sx.txt"
	fi
	ev=$(jl $J "\"vm\":\"$g\"" '"func":"sys_accept' '"comm":"xt-net"' | tail -1)
	afd=$(sed -n 's/^XT xt-net: accept 127.0.0.1:7777 fd=\([0-9]*\)/\1/p' $rf)
	if [ -n "$ev" ]; then
		note "accept event: ret=$(jget "$ev" ret) (guest saw fd=$afd) args $(printf '%s' "$ev" | grep -o '"args":{[^}]*}')"
	fi

	segv=$(sed -n 's/^XT xt-sig: child \([0-9]*\) faulted: signal=11/\1/p' $rf)
	term=$(sed -n 's/^XT xt-sig: child \([0-9]*\) killed: signal=15/\1/p' $rf)
	ex7=$(sed -n 's/^XT xt-sig: child \([0-9]*\) exited: exit=7/\1/p' $rf)
	e1=$(jl $J "\"vm\":\"$g\"" '"func":"do_exit"' "\"pid\":$segv," '"comm":"xt-sig"' | head -1)
	e2=$(jl $J "\"vm\":\"$g\"" '"func":"do_exit"' "\"pid\":$term," '"comm":"xt-sig"' | head -1)
	e3=$(jl $J "\"vm\":\"$g\"" '"func":"do_exit"' "\"pid\":$ex7," '"comm":"xt-sig"' | head -1)
	k=$(jl $J "\"vm\":\"$g\"" '"func":"sys_kill"' "\"pid\":\"$term\"" '"sig":"SIGTERM"' | head -1)
	if [ -n "$segv" ] && [[ $e1 == *'"code:signal":"SIGSEGV"'* ]] && [ "$(jget "$e1" type)" = match ] &&
		[[ $e2 == *'"code:signal":"SIGTERM"'* ]] && [[ $e3 == *'"code:status":"7"'* ]]; then
		pass "exit-signal$sx" "do_exit of pid $segv: SIGSEGV (filter 4 matched), pid $term: SIGTERM, pid $ex7: status 7"
	else
		fail "exit-signal$sx" "do_exit events for pids $segv/$term/$ex7: [${e1:0:300}] [${e2:0:200}] [${e3:0:200}]" $rf
	fi
	if [ -n "$k" ]; then
		pass "kill-decoded$sx" "kill(pid=$term, sig=SIGTERM) by xt-sig pid $(jget "$k" pid)"
	else
		fail "kill-decoded$sx" "no kill event for pid $term" $rf
		jl $J '"func":"sys_kill"' | tail -3 >> "$OUT/fail-kill-decoded$sx.txt"
	fi
	# struct offsets: the pid, parent and name of every event above come from task_struct
	# offsets read from the guest's own BTF (domtrace is given no offsets profile).
	pp=$(jget "$e1" ppid)
	xsig=$(jl $J "\"vm\":\"$g\"" '"func":"sys_kill"' "\"pid\":\"$term\"" | head -1)
	if [ -n "$e1" ] && [ "$(jget "$xsig" pid)" = "$pp" ] && [ "$(jget "$e1" pid)" = "$segv" ] &&
		[ "$(jget "$e1" tgid)" = "$segv" ] && [ "$(jget "$e1" uid)" = 0 ]; then
		pass "btf-offsets$sx" "pid/tgid/ppid/comm/uid right for the guest's own processes (pid $segv, parent xt-sig $pp), from BTF"
	else
		fail "btf-offsets$sx" "process identity of do_exit events wrong: [${e1:0:400}] parent kill [${xsig:0:200}]"
	fi

	anc=$(jl $J "\"vm\":\"$g\"" '"func":"sys_openat"' '"filename":"/tmp/xt-anc-target"' '"comm":"xt-open"' '"type":"match"' | head -1)
	ctl=$(jl $J "\"vm\":\"$g\"" '"func":"sys_openat"' '"filename":"/tmp/xt-anc-target"' '"comm":"xt-abort"' | head -1)
	if [ -n "$anc" ] && [ "$(jget "$anc" filter)" = 2 ] && [ -n "$ctl" ] && [ "$(jget "$ctl" type)" = call ]; then
		pass "ancestry$sx" "name=^xt-anc matched xt-open (grandchild via sh), not the same open by xt-abort"
	else
		fail "ancestry$sx" "ancestor match [${anc:0:300}] control [${ctl:0:300}]"
	fi

	ab=$(grep -c '^XT xt-abort: openat /tmp/xt-abort-target flags=0x0 errno=18' $rf)
	ev=$(jl $J "\"vm\":\"$g\"" '"type":"abort"' '"filename":"/tmp/xt-abort-target"' | tail -1)
	if [ "$ab" = 1 ] && [ "$(jget "$ev" abort_ret)" = -18 ]; then
		pass "abort$sx" "xt-abort saw errno 18 (EXDEV) from openat, event abort_ret -18"
	else
		fail "abort$sx" "guest lines: $(grep 'xt-abort-target' $rf | tr '\n' ';') event [${ev:0:300}]" $rf
	fi

	if [ "$HAS32" = 1 ]; then
		e32=$(jl $J "\"vm\":\"$g\"" '"func":"sys_openat"' "\"filename\":\"/tmp/xt32-open-$g-$r\"" | head -1)
		x32=$(jl $J "\"vm\":\"$g\"" '"func":"sys_execve"' '"filename":"/bin/xt32-hello"' "$g-round32-$r" | head -1)
		if [[ $e32 == *'"compat":true'* ]] && [[ $x32 == *'"compat":true'* ]]; then
			pass "compat32$sx" "32-bit xt32: execve and openat traced through the ia32 entry points"
		else
			fail "compat32$sx" "32-bit events: openat [${e32:0:300}] execve [${x32:0:300}]" $rf
			jl $J '"compat":true' | tail -3 >> "$OUT/fail-compat32$sx.txt"
		fi
	fi
}
guest_events u1 "$RA" $DTJ $DTE ""
# the guest matrix's run (dom0/main): each matrix guest's one whole traced round
for g in ${MATRIX:-}; do
	mr=MR_$g
	[ -n "${!mr:-}" ] && [ "${!mr}" -lt 999999 ] && guest_events "$g" "${!mr}" "$OUT/m.json" "$OUT/m.err" "@$g"
done

pl=$(grep -m1 "^domain=u1 type=pslist .*name=xt-exec" $A3 2>/dev/null)
if [ -n "$pl" ]; then
	pass pslist "A3 pslist on xt-exec's execve: ${pl:0:160}"
else
	fail pslist "no pslist event naming xt-exec" $A3
fi

n1=$(jl $DTJ '"vm":"u1"' | wc -l)
n2=$(jl $DTJ '"vm":"u2"' | wc -l)
h2=$(jl $DTJ '"vm":"u2"' '"func":"sys_execve"' "u2-round-$U2R0\\\"" | head -1)
if [ "$n2" -gt 0 ] && [ -n "$h2" ] && [ "$threads2" -gt "$threads1" ]; then
	pass two-guests "u1 and u2 traced at once ($n1 and $n2 events; u2 round $U2R0 execve seen); worker threads $threads1 -> $threads2"
else
	fail two-guests "u2 events $n2, round $U2R0 execve [${h2:0:200}], threads $threads1 -> $threads2" $DTE "$(glog u2)"
fi

# -- SIGUSR2 (phase B) -------------------------------------------------------------------
km=$(jl $DTJ '"vm":"u1"' '"func":"sys_kill"' '"type":"match"' '"sig":"SIGTERM"' | tail -1)
gp=$(jl $DTJ '"vm":"u1"' '"func":"sys_getppid"' | wc -l)
if [ -n "$km" ] && [ "$(jget "$km" filter)" = 6 ] && [ "$gp" -gt 0 ]; then
	pass sigusr2 "reload: getppid now traced ($gp calls), new filter 6 matched kill"
else
	fail sigusr2 "after SIGUSR2: kill match [${km:0:200}], getppid events $gp" $DTE
fi

# -- SIGUSR1 ---------------------------------------------------------------------------
wa=$(jl $DTJ '"vm":"u1"' '"type":"would-abort"' '"filename":"/tmp/xt-abort-target"' | tail -1)
if grep -q '^XT xt-abort: openat /tmp/xt-abort-target flags=0x0 fd=' /tmp/rb.txt && [ -n "$wa" ]; then
	pass sigusr1 "after SIGUSR1 xt-abort opened its file (round $RS) and a would-abort event was made"
else
	fail sigusr1 "after SIGUSR1: $(grep xt-abort-target /tmp/rb.txt | tr '\n' ';') event [${wa:0:200}]" $DTE /tmp/rb.txt
fi

# === A3 events at the receiver ===============================================================
if [ -s "$A3" ]; then
	na=$(grep -c '^domain=u1 type=abort retval=-18 .*xt-abort-target' $A3)
	nw=$(grep -c '^domain=u1 type=would-abort' $A3)
	nm=$(grep -c '^domain=u1 type=match .*127.0.0.1:7777' $A3)
	nu2=$(grep -c '^domain=u2 ' $A3)
	if [ "$na" -gt 0 ] && [ "$nw" -gt 0 ] && [ "$nm" -gt 0 ] && [ "$nu2" -gt 0 ]; then
		pass a3-events "receiver got $(wc -l < $A3) events: $na abort, $nw would-abort, $nm connect match from u1, $nu2 from u2"
	else
		fail a3-events "abort $na would-abort $nw connect-match $nm u2 $nu2" $A3 /tmp/a3.log
	fi
else
	fail a3-events "no event reached the receiver" /tmp/a3.log
fi

# === figures (TCG: emulator numbers, meaningful as ratios only) ==============================
if [ -n "$t1" ] && [ -n "$t2" ] && [ "$t2" -gt "$t1" ]; then
	awk -v t1="$t1" -v t2="$t2" -v s1="$s1" -v s2="$s2" -v c1="$c1" -v c2="$c2" -v hz="$hz" \
		-v u1="$u1t" -v u2="$u2t" 'BEGIN {
		n = t2 - t1; dt = s2 - s1
		printf "FIGURE: traps handled: %d in %.1f s = %.0f hits/s (phase B, TCG)\n", n, dt, n / dt
		printf "FIGURE: dom0 CPU per hit: %.0f us = %.0f user + %.0f system (domtrace CPU time / traps, phase B, TCG)\n", (c2 - c1) / hz * 1e6 / n, (u2 - u1) / hz * 1e6 / n, (c2 - c1 - u2 + u1) / hz * 1e6 / n
	}' | tee -a "$RES"
fi
# median_us FIRST LAST: the median getppid cost printed by rounds FIRST..LAST of u1.
median_us() {
	local r
	for ((r = $1; r <= $2; r++)); do round_lines u1 $r; done |
		sed -n 's/.*XT xt-loop: getppid.*us_per_call=\([0-9.]*\).*/\1/p' | sort -n |
		awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}
if [ -n "${R0:-}" ] && [ -n "${RB:-}" ] && [ "$R0" -lt 999999 ]; then
	BASE_US=$(median_us 2 $((R0 - 2)))
	TR_US=$(median_us "${RB0:-$RB}" "$RB")
fi
if [ -n "$BASE_US" ] && [ -n "$TR_US" ]; then
	traps_per_call="entry trap only"
	[ -z "$noret_why" ] && traps_per_call="entry + return trap"
	awk -v b="$BASE_US" -v t="$TR_US" -v k="$traps_per_call" 'BEGIN {
		printf "FIGURE: in-guest getppid (median per round): %.2f us untraced, %.2f us traced (%s) = %.0fx, +%.0f us per traced call (TCG)\n", b, t, k, t / b, t - b
	}' | tee -a "$RES"
fi
# domtrace against the yardstick of the same boot (xt-minmon: the same probe, answered with no
# work): dom0 CPU per hit and the in-guest cost a traced getppid adds, as ratios (issue 15)
if [ -n "${MM_CPU:-}" ] && [ -n "${MM_US:-}" ] && [ -n "$t1" ] && [ -n "$t2" ] && [ "$t2" -gt "$t1" ] &&
	[ -n "$BASE_US" ] && [ -n "$TR_US" ]; then
	awk -v t1="$t1" -v t2="$t2" -v c1="$c1" -v c2="$c2" -v hz="$hz" -v mc="$MM_CPU" \
		-v b="$BASE_US" -v t="$TR_US" -v m="$MM_US" -v rt="$([ -z "$noret_why" ] && echo 2 || echo 1)" 'BEGIN {
		d = (c2 - c1) / hz * 1e6 / (t2 - t1)
		printf "FIGURE: yardstick (xt-minmon, same probe, no work, same boot): dom0 CPU per hit %.0f us; getppid %.2f us traced by it (+%.0f us)\n", mc, m, m - b
		printf "FIGURE: domtrace / yardstick: dom0 CPU per hit %.0f / %.0f us = %.2fx; added in-guest cost per traced getppid %.0f / %.0f us = %.2fx; round trips per traced getppid %d / 1; per round trip %.0f / %.0f us = %.2fx (TCG)\n", d, mc, d / mc, t - b, m - b, (t - b) / (m - b), rt, (t - b) / rt, m - b, (t - b) / rt / (m - b)
	}' | tee -a "$RES"
fi
grep 'stats:' $DTE | sed -n 's/^\([0-9:.]*\) .*stats: traps \([0-9]*\),.*/\1 \2/p' |
	awk '{ split($1, a, ":"); t = a[1] * 3600 + a[2] * 60 + a[3]
		if (NR > 1 && t > pt) { r = ($2 - pn) / (t - pt); if (r > m) m = r }
		pt = t; pn = $2 }
	END { if (m) printf "FIGURE: peak trap rate: %.0f hits/s (best 1-s stats interval; one guest vCPU in a getppid loop, TCG)\n", m }' |
	tee -a "$RES"
figure "domtrace stats at exit: $(grep 'stats:' $DTE | tail -1 | sed 's/.*stats: //')"
hl=$(grep 'stats:' $DTE | tail -1 | sed -n 's/.*; handling a trap //p')
[ -n "$hl" ] && figure "domtrace's own time per trap (trap taken -> answer sent, whole run): $hl (TCG)"

