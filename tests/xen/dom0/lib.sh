# SPDX-License-Identifier: GPL-2.0-only
# lib.sh - helpers of the Xen tier's dom0 scenario (sourced by dom0/main, runs in dom0).
# A check reports exactly one line in $RES: "PASS: <name>: <detail>" or "FAIL: <name>: <detail>";
# a failing check also leaves $OUT/fail-<name>.txt with the lines that explain it.
X=/xt
OUT=$X/out
RES=$OUT/results
CON=/var/log/xen/console
# the image's Xen tools (xen-init-dom0, xenstored...): /usr/lib/xen-4.17 or -4.20 (XT_XEN)
XEN_BIN=$(ls -d /usr/lib/xen-4.*/bin 2>/dev/null | tail -1)
export PATH=$X/bin:${XEN_BIN:+$XEN_BIN:}$PATH

up() { cut -d' ' -f1 /proc/uptime; }
# Seconds left before the matrix must be over: the host kills the whole boot at XT_TIMEOUT
# (counted from QEMU's start, before dom0's uptime begins), and the checks after the matrix,
# domtrace's exit and the power-off need about 6 minutes under the emulator. A boot killed
# at the limit gives no verdict at all; a matrix cut short gives NOT-YET for what it did
# not finish (emulator deaths) and the checks of everything else.
matrix_left() {
	local u
	u=$(up)
	echo $(($(cat $X/timeout 2>/dev/null || echo 2400) - 360 - ${u%.*}))
}
# at most $1 seconds, and not past the matrix's time (at least 1)
within_matrix() {
	local l
	l=$(matrix_left)
	[ "$l" -lt 1 ] && l=1
	echo $(($1 < l ? $1 : l))
}
note() { echo "XT-DOM0: [$(up)] $*"; }
# phase TEXT: where the scenario is (the heartbeat shows it).
phase() { echo "$*" > /tmp/phase; }
pass() { local n=$1; shift; echo "PASS: $n: $*" | tee -a "$RES"; }
# fail NAME DETAIL [FILE...]: the files' last lines go into the failure context.
# While u1 is the scenario's guest (U1_NEEDED=1: until the matrix phase), a check that fails
# with u1 dead failed of that death: the death is recorded (guest_died: with its emulator
# signature, if any) instead, and ends the scenario, so that tests/xen/run judges the run by
# the death alone (full-c, 2026-12-07: u1's VMRUN defect at 61 s failed map-refused and attach
# first, and a run the emulator ended was not repeated). The same for u2 while phase A has it
# (U2_NEEDED=1, from its creation to its destroy).
fail() {
	local n=$1 d=$2 f g
	shift 2
	for g in u1 u2; do
		local need=U${g#u}_NEEDED
		if [ "${!need:-0}" = 1 ] && [ "$n" != guest-died ] && [ "$n" != guest-boots ] &&
			[ -s /tmp/domid.$g ] && ! alive $g; then
			note "check $n failed with $g dead: $d"
			guest_died $g
		fi
	done
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

# a guest's console log: xenconsoled's for a PVH guest, the emulated serial port's (written by
# its device model) for an HVM guest (named h*, guest-hvm.cfg)
glog() {
	case $1 in
	h*) echo "$CON/serial-$1.log" ;;
	*) echo "$CON/guest-$1.log" ;;
	esac
}
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
# boot_over NAME: round 1 of the guest has ended, or the guest is dead: a wait can stop
boot_over() {
	grep -q "^XT-GUEST $1: round 1 end" "$(glog "$1")" 2>/dev/null || ! alive "$1"
}
# emulator_death NAME: the dead guest shows one of QEMU TCG's nested-SVM defects (docs/
# XEN-TIER.md, all seen with no domtrace attached, or only xt-minmon): prints which, fails
# otherwise. (1) the VMRUN defect: a triple fault with Xen's own RIP and CS e008 as the
# guest's; (2) a triple fault right after an instruction Xen emulated for the guest (vmmcall,
# wrmsr, in/out), by the guest's own text dump; (3) an event-channel upcall taken
# at the first instruction of the upcall handler, before its swapgs: the guest's page faults
# on %gs:current_task recurse until the entry stack's guard page (a double fault at
# error_entry with CR2 in the entry trampoline stack); (4) a triple fault taken in user mode
# (the dump's CS 0033 or 0023): the guest's kernel failed to deliver an interrupt or exception
# from user mode, through its IDT, TSS and entry stacks, none of which domtrace ever writes (it
# writes int3 bytes at function entries only, and the tier checks the text byte-identical);
# the same class as (3), the CI run of 2026-12-07 lost u1 so in phase A at RIP 0x40f300; (5) a
# triple fault right after an sti (the same run's other death of u1, after `sti; nopl`): the
# interrupt window opened there, so it came delivering an interrupt, as (4); (6) the same in
# kernel mode, mid-function, where no probe is (mid_function_fault); (7) u2 dead while booting,
# before domtrace attached to it.
emulator_death() {
	local g=$1 d rip off bytes base why text=/tmp/text.$1.0
	d=$(cat /tmp/domid.$g 2>/dev/null)
	# u1 and u2 run dom0's kernel build: their text is dumped once, as text.0
	case $g in u1 | u2) text=/tmp/text.0 ;; esac
	xl dmesg > /tmp/xl-dmesg.txt 2>&1
	if vmrun_defect "$d" /tmp/xl-dmesg.txt; then
		echo "the VMRUN defect (a triple fault with Xen's own state as the guest's)"
		return 0
	fi
	# the dead vCPU's own dump only: the first RIP line after its triple fault
	rip=$(awk -v v="d${d}v" 'index($0, v) && /Triple fault/ { t = 1 }
		t && /RIP:/ { if (match($0, /RIP: +0010:\[<ffffffff8[0-9a-f]+>\]/)) {
			s = substr($0, RSTART, RLENGTH); sub(/.*\[</, "", s); sub(/>\]/, "", s)
			print s }; exit }' /tmp/xl-dmesg.txt)
	base=$(ksym "$g" _stext)
	if [ -n "$rip" ] && [ -n "$base" ] && [ -s $text ]; then
		off=$((0x$rip - base))
		bytes=$(dd if=$text bs=1 skip=$((off - 6)) count=6 2>/dev/null | od -An -tx1 | tr -d ' \n')
		case "$bytes" in
		??????0f01d9 | ????????0f30 | ??????????e[cdef] | ????????e[4-7]??)
			echo "a triple fault at $rip, right after an instruction Xen emulated (${bytes:6})"
			return 0
			;;
		??????????fb | fb0f1f440000)
			# sti, or sti and the 5-byte nop of irqflags' paravirt site: the interrupt
			# window opens here, so the fault came delivering an interrupt, as (4)
			echo "a triple fault at $rip, right after an sti: delivering an interrupt ($bytes)"
			return 0
			;;
		esac
		if why=$(mid_function_fault "$g" "$d" "$rip" "$base" "$text"); then
			echo "$why"
			return 0
		fi
	fi
	# (7) u2, created while domtrace runs, dead before domtrace's line that it traces u2: its
	# kernel was still booting, and domtrace writes nothing into a booting kernel (no long
	# mode, no syscall entry, or ftrace's calls still at the function entries: engine/
	# worker.c); its probes go in a few milliseconds before that line, the only window left.
	# The stop-23 CI run lost u2 so at 75 s (GS base still the boot CPU's initial one).
	if [ "$g" = u2 ] && [ -n "${DTE:-}" ] && ! has "$DTE" "VM u2 \\(dom$d\\): tracing"; then
		echo "died while booting, before domtrace attached to it"
		return 0
	fi
	if tr -d '\r' < "$(glog "$g")" | grep -q 'PANIC: double fault' &&
		tr -d '\r' < "$(glog "$g")" | grep -q 'RIP: 0010:error_entry' &&
		tr -d '\r' < "$(glog "$g")" | grep -Eq 'CR2: fffffe00000[0-9a-f]*ff8'; then
		echo "an upcall taken before the handler's swapgs (double fault at error_entry, the entry stack overflowed)"
		return 0
	fi
	if why=$(impossible_rflags "$(glog "$g")"); then
		echo "$why"
		return 0
	fi
	rip=$(awk -v v="d${d}v" 'index($0, v) && /Triple fault/ { t = 1 }
		t && match($0, /RIP: +00[23]3:\[<[0-9a-f]+>\]/) {
			s = substr($0, RSTART, RLENGTH); sub(/.*\[</, "", s); sub(/>\]/, "", s); print s; exit }
		t && /RIP:/ { exit }' /tmp/xl-dmesg.txt)
	if [ -n "$rip" ]; then
		echo "a triple fault in user mode at $rip (the kernel's entry path failed to take an interrupt)"
		return 0
	fi
	return 1
}
# vmrun_defect DOMID LOG: Xen's log LOG dumps domain DOMID's first triple fault with Xen's own
# state as the guest's (RIP e008:ffff82d0..., CS e008): shape (1) of emulator_death
vmrun_defect() {
	awk -v v="d$1v" 'index($0, v) && /Triple fault/ { t = 1 }
		t && !r && /RIP:/ { if ($0 ~ /RIP: +e008:\[<ffff82d0/) r = 1; else exit }
		t && r && /cs: e008/ { f = 1; exit } t && r && /Triple fault/ { exit }
		END { exit !f }' "$2"
}
# xen_crashed DOMID LOG: Xen's log LOG shows a triple fault or a crash of domain DOMID
xen_crashed() {
	grep -Eq "(^|[^0-9a-z])d$1v[0-9]+ .*(Triple fault|domain_crash|crashed)|[Dd]omain $1 .*crash" "$2"
}
# impossible_rflags LOG: shape (8), the guest's own first oops (since its last boot banner)
# shows an RFLAGS that no x86 CPU holds, a reserved bit set (3, 5, 15, 22-63): POPF and IRET
# clear them, so only a hypervisor or emulator loading a vCPU's state can. domtrace never
# makes one: its answers give back the rflags Xen reported with the trap (xen/xen_ring.c),
# and it only reads them (a jcc's condition, engine/probes/site.c). Seen in run s11c
# (2026-12-07): m612 double-faulted in kmem_cache_alloc_node right after a cmpxchg16b with
# EFLAGS 05dbcac2, the low half of its RAX 0xffff888005dbc8c0 with IF and bit 1: QEMU's
# lazily computed flags taken from the wrong value. Prints the shape.
impossible_rflags() {
	local f
	f=$(tr -d '\r' < "$1" | awk '/Linux version/ { f = "" }
		f == "" && match($0, /EFLAGS: [0-9a-f]+/) { f = substr($0, RSTART + 8, RLENGTH - 8) }
		END { print f }')
	[ -n "$f" ] && [ ${#f} -le 16 ] && (((0x$f & ~0x3f7fd7) != 0)) || return 1
	echo "an RFLAGS no CPU holds in the guest's oops (EFLAGS $f, reserved bits set): the emulator's state, not the guest's"
}
# mid_function_fault NAME DOMID RIP BASE TEXT: shape (6), a triple fault in kernel mode with
# interrupts enabled (the dump's RFLAGS.IF), in a function of dom0's kernel build (u1, u2 and
# h61 run it; dom0's /proc/kallsyms names the function) whose bytes in the dead guest are
# still those dumped before any domtrace attached: no probe is in that function, so the vCPU
# was not at anything domtrace wrote; with the IDT, TSS and stacks domtrace never writes, the
# fault came delivering an interrupt there, as (4) and (5). The stop-23 CI run lost u1 so at
# a nopl in __schedule (ffffffff81a52461, RFLAGS 0x293) in phase A. Prints the shape.
mid_function_fault() {
	local g=$1 d=$2 rip=$3 base=$4 text=$5 rflags fn start end len
	case $g in u1 | u2 | h61) ;; *) return 1 ;; esac
	rflags=$(awk -v v="d${d}v" 'index($0, v) && /Triple fault/ { t = 1 }
		t && match($0, /RFLAGS: +[0-9a-f]+/) { s = substr($0, RSTART, RLENGTH)
			sub(/RFLAGS: +/, "", s); print s; exit }' /tmp/xl-dmesg.txt)
	[ -n "$rflags" ] && (((0x$rflags & 0x200) != 0)) || return 1
	# the text symbol at or below RIP, and the next one above it (the function's end)
	read -r fn start end < <(awk -v r="$rip" 'length($1) == 16 && $2 ~ /^[tT]$/ {
			x = $1 ""; if (x <= r "" && x >= a "") { a = x; n = $3 }
			if (x > r "" && (e == "" || x < e "")) e = x }
		END { if (n != "" && e != "") print n, a, e }' /proc/kallsyms)
	[ -n "$fn" ] || return 1
	len=$((0x$end - 0x$start))
	((len > 0 && len <= 65536 && 0x$start >= base)) || return 1
	dd if="$text" bs=1 skip=$((0x$start - base)) count=$len 2>/dev/null > /tmp/fn.before
	xt-peek "$d" "0x$start" "$len" > /tmp/fn.after 2>/dev/null || return 1
	[ "$(stat -c %s /tmp/fn.before)" = "$len" ] && cmp -s /tmp/fn.before /tmp/fn.after || return 1
	echo "a triple fault in kernel mode at $rip ($fn+0x$(printf %x $((0x$rip - 0x$start)))," \
		"RFLAGS $rflags: interrupts on), in a function no probe is in (its $len bytes as" \
		"before any domtrace): delivering an interrupt"
}
# paused NAME: the toolstack holds a pause of the domain (xl list's state has a 'p')
paused() { xl list "$1" 2>/dev/null | awk 'NR == 2 { exit !($5 ~ /p/) }'; }
# wait_rounds NAME N SECONDS: wait until N more rounds of NAME have finished (fails at once
# when the guest is no longer alive).
# round_over G R: round R of G has ended, or G is dead
round_over() { [ "$(last_round "$1")" -ge "$2" ] || ! alive "$1"; }
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
	local why
	why=$(emulator_death "$1") && why="; emulator: $why" # tests/xen/run runs the scenario again
	local d
	d=$(cat "/tmp/domid.$1" 2>/dev/null)
	# Xen's lines about this guest only (another guest's earlier death misled a reader)
	fail guest-died "$1 died: $(xl list "$1" 2>&1 | tail -1 | tr -s ' '); Xen: $(xl dmesg 2>&1 | grep -E "d${d:-X}v[0-9]+ .*(Triple fault|domain_crash|crashed)|[Dd]omain ${d:-X} .*crash" | head -2 | tr '\n' ' ')${why:-; no known emulator signature}"
	save_logs
	note "scenario ended early: guest $1 died"
	exit 1
}
# round_lines NAME R: the console lines of round R of guest NAME.
round_lines() {
	sed -n "/^XT-GUEST $1: round $2 begin/,/^XT-GUEST $1: round $2 end/p" "$(glog "$1")" |
		tr -d '\r'
}
# pin_of NAME: the physical CPUs a guest runs on: its own ones with XT_PIN (dom0 has 0-1)
pin_of() {
	[ -e $X/pin ] || { echo all; return; }
	case $1 in
	u1) echo 2 ;;
	u2 | m510) echo 3 ;;
	m612) echo 4-5 ;;
	*) echo 2-5 ;;
	esac
}
# create_guest NAME [KERNEL VCPUS EXTRA]: xl create from the template (default: bookworm's
# kernel, one vCPU, the standard workload); prints the seconds it took.
# guest_type G: PVH, or HVM for the h* guests (guest-hvm.cfg: a device model, SeaBIOS)
guest_type() { case $1 in h*) echo HVM ;; *) echo PVH ;; esac; }
create_guest() {
	local cfg=$X/guest.cfg
	case $1 in h*) cfg=$X/guest-hvm.cfg ;; esac
	sed "s/@NAME@/$1/g; s/@KERNEL@/${2:-vmlinuz}/; s/@VCPUS@/${3:-1}/; s/@EXTRA@/${4:-}/
		s/@CPUS@/$(pin_of "$1")/" \
		"$cfg" > "/tmp/$1.cfg"
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
# same_text A B: cmp, printing where they differ. Identical but for the kernel's own jump-label
# patching (kernel_patching) counts as identical, said on stderr (the matrix run of 2026-12-07:
# m612's 6.12 turned a `jmp rel8` into a 2-byte nop while traced, and detach-identical failed).
same_text() {
	local k
	rm -f /tmp/same_text.kp
	cmp -l "$1" "$2" > /tmp/cmp.out 2>&1 && return 0
	if k=$(kernel_patching "$1" "$2"); then
		echo "$k" > /tmp/same_text.kp
		note "$(basename "$1") and $(basename "$2") differ only where the kernel patched its own jump labels:$k" >&2
		return 0
	fi
	echo "$(wc -l < /tmp/cmp.out) bytes differ; first: $(head -5 /tmp/cmp.out | tr '\n' ';')"
	return 1
}
# kernel_patching A B: each difference of two kernel text dumps (/tmp/cmp.out, cmp -l) is
# a whole jump-label site the kernel switched itself: a `jmp rel8` (eb) and the 2-byte nop
# (66 90), or a `jmp rel32` (e9) and the 5-byte nop (0f 1f 44 00 00), either way. domtrace
# writes 0xcc and puts back the byte it replaced, nothing else, so it makes no such pair.
# Prints the sites (offsets in the dump, before -> after); fails on anything else.
kernel_patching() {
	local a=$1 b=$2 off s len ba bb found last=-1 sites=""
	(($(wc -l < /tmp/cmp.out) <= 64)) || return 1
	while read -r off _ _; do
		[[ $off =~ ^[0-9]+$ ]] || return 1
		off=$((off - 1)) # cmp -l counts from 1
		((off <= last)) && continue
		found=0
		for len in 2 5; do
			for ((s = off - len + 1; s <= off; s++)); do
				((s >= 0)) || continue
				ba=$(dd if="$a" bs=1 skip=$s count=$len 2>/dev/null | od -An -tx1 | tr -d ' \n')
				bb=$(dd if="$b" bs=1 skip=$s count=$len 2>/dev/null | od -An -tx1 | tr -d ' \n')
				if { [ $len = 2 ] && { [[ $ba == eb?? && $bb == 6690 ]] || [[ $bb == eb?? && $ba == 6690 ]]; }; } ||
					{ [ $len = 5 ] && { [[ $ba == e9???????? && $bb == 0f1f440000 ]] ||
						[[ $bb == e9???????? && $ba == 0f1f440000 ]]; }; }; then
					found=1 last=$((s + len - 1))
					sites="$sites $(printf '+0x%x' $s) $ba->$bb"
					break 2
				fi
			done
		done
		((found)) || return 1
	done < /tmp/cmp.out
	echo "$sites"
}
save_logs() {
	local f
	for f in "$CON"/guest-*.log "$CON"/serial-*.log /var/log/xen/qemu-dm-*.log; do
		[ -e "$f" ] && tr -d '\r' < "$f" > "$OUT/$(basename "$f")"
	done
	xl dmesg > "$OUT/xl-dmesg.log" 2>&1
	cp /tmp/*.err "$OUT/" 2>/dev/null # domtrace's stderr of every run, also of one cut short
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
# proc_counts PID: "syscr syscw vcsw ivcsw" of a process: its read(2)-family and write(2)-family
# calls (/proc/PID/io; an event channel's pending read and unmask write count, ioctl and poll do
# not) and the voluntary and forced context switches of all its threads
proc_counts() {
	local r w
	r=$(awk '$1 == "syscr:" { print $2 }' /proc/$1/io 2>/dev/null)
	w=$(awk '$1 == "syscw:" { print $2 }' /proc/$1/io 2>/dev/null)
	cat /proc/$1/task/*/status 2>/dev/null | awk -v r="${r:-0}" -v w="${w:-0}" '
		$1 == "voluntary_ctxt_switches:" { v += $2 } $1 == "nonvoluntary_ctxt_switches:" { n += $2 }
		END { print r, w, v, n }'
}
# per_hit "A" "B" N: proc_counts B minus A, per hit
per_hit() {
	awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { split(a, x, " "); split(b, y, " ")
		printf "%.1f read-class syscalls, %.1f write-class, %.1f voluntary and %.1f forced context switches",
			(y[1] - x[1]) / n, (y[2] - x[2]) / n, (y[3] - x[3]) / n, (y[4] - x[4]) / n }'
}
# thread_ticks PID: "TID NAME UTIME STIME MINFLT" per thread of PID (clock ticks; spaces in
# a name become _)
thread_ticks() {
	local t
	for t in /proc/$1/task/*; do
		awk -v tid="${t##*/}" '{ i = index($0, "("); j = 0
			for (k = length($0); k > 0; k--) if (substr($0, k, 1) == ")") { j = k; break }
			name = substr($0, i + 1, j - i - 1); gsub(/ /, "_", name)
			split(substr($0, j + 2), f, " "); print tid, name, f[12], f[13], f[8] }' "$t/stat" 2> /dev/null
	done
}
# thread_profile BEFORE AFTER N: where a process's dom0 time went over N traps, by thread
# (thread_ticks files from before and after): "NAME USER+SYSTEM us (F faults)" per trap.
# From /proc, not perf: perf's syscall tracepoints, enabled and disabled around a round,
# once left both dom0 CPUs spinning in syscall_trace_enter (run s11b, 2026-12-07: soft
# lockups until the boot's timeout), and their counts were too low (0.10-0.50 ioctl per
# trap, though every answer is one).
thread_profile() {
	awk -v n="$3" -v hz="$(getconf CLK_TCK)" '
		FNR == NR { u[$1] = $3; s[$1] = $4; f[$1] = $5; next }
		!($1 in u) { new++ } # a thread born meanwhile: all of its time is in the window
		($3 - u[$1]) + ($4 - s[$1]) + ($5 - f[$1]) > 0 {
			out = out sprintf("%s%s %.0f+%.0f us (%.2f faults)", out == "" ? "" : ", ", $2,
				($3 - u[$1]) / hz * 1e6 / n, ($4 - s[$1]) / hz * 1e6 / n, ($5 - f[$1]) / n)
			all += ($3 - u[$1]) + ($4 - s[$1]) }
		END { printf "per trap by thread, user+system: %s; all threads %.0f us", (out == "" ? "none" : out), all / hz * 1e6 / n
			if (new) printf " (%d born in the round)", new
			print "" }' "$1" "$2"
}
# stats_cpu LINE1 LINE2: from two of domtrace's "stats:" lines (each reads its trap count and
# its process CPU time at one instant), "CPU_US USER_US TRAPS SECONDS": dom0 CPU per trap, its
# user part, the traps between the lines and the seconds between their time stamps; fails if
# either lacks a field or no trap came. /proc read by a
# command here lands up to a second away from a stats line's count (run s11d: its /proc
# window held twice the CPU of its trap window).
stats_cpu() {
	printf '%s\n%s\n' "$1" "$2" | awk '
		{ split($1, c, ":"); w[NR] = c[1] * 3600 + c[2] * 60 + c[3] }
		match($0, /stats: traps [0-9]+,/) { t[NR] = substr($0, RSTART + 13, RLENGTH - 14) }
		match($0, /, cpu [0-9.]+ s user \+ [0-9.]+ s system/) {
			split(substr($0, RSTART, RLENGTH), f, " "); u[NR] = f[3]; s[NR] = f[7] }
		END { n = t[2] - t[1]; if (n <= 0 || !(1 in u) || !(2 in u)) exit 1
			d = w[2] - w[1]; if (d < 0) d += 86400
			printf "%.0f %.0f %d %.3f\n", (u[2] + s[2] - u[1] - s[1]) * 1e6 / n, (u[2] - u[1]) * 1e6 / n, n, d }'
}
# last_stats FILE: the last "stats:" line of domtrace's stderr
last_stats() { grep 'stats: traps' "$1" | tail -1; }
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
