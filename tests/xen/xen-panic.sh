# SPDX-License-Identifier: GPL-2.0-only
# tests/xen/xen-panic.sh - sourced by tests/xen/run: Xen's own panic, read off QEMU's console.
#
# Xen boots with noreboot, so a panic of the hypervisor itself ends in "Manual reset required"
# and the emulated machine hangs until XT_TIMEOUT (2,400 s). run watches the console and ends
# the boot a few seconds after the panic (its dump complete), then says why with the line
# below. Tested by tests/xen/selftest on real consoles (tests/xen/fixtures).

# True when the console (QEMU's serial log, CRs and all) shows Xen panicking.
xen_panicked() { # console
	# no pipe: under run's pipefail, grep -q leaving early would fail the pipe
	grep -Eq '^\(XEN\) (\[[ 0-9.]+\] )?Panic on CPU [0-9]+:' "$1" 2>/dev/null
}

# The FAIL line for a panic. "; emulator: " (which makes the run retryable) only for Xen's
# double fault on a stack that is not its own: Xen's handler found RSP on a dom0 kernel stack
# (ffffc900...) where its own per-CPU stack (ffff83...) must be. A hardware CPU switches to
# Xen's stack on every exception from a PV guest (the TSS), so no dom0 process can cause
# that; QEMU TCG's mixed-up host/guest state can (seen 2026-12-07, docs/XEN-TIER.md).
xen_panic_fail() { # console
	awk '{ sub(/\r$/, "") }
	/^\(XEN\) / { line = $0; sub(/^\(XEN\) (\[[ 0-9.]+\] )?/, "", line) }
	/^\(XEN\) / && match($0, /\[ *[0-9.]+\]/) { t = substr($0, RSTART + 1, RLENGTH - 2); gsub(/ /, "", t) }
	/^\(XEN\) .*Current stack base [0-9a-f]+ differs from expected [0-9a-f]+/ { stack = line }
	panic == 1 && /^\(XEN\) / { reason = line; panic = 2 }
	/^\(XEN\) .*Panic on CPU [0-9]+:/ && !panic { panic = 1; at = t; cpu = line; sub(/:$/, "", cpu) }
	END {
		if (!panic)
			exit 1
		printf "FAIL: xen-alive: Xen panicked at Xen time %s s (%s: %s)", at, cpu, reason
		if (stack != "" && reason ~ /DOUBLE FAULT/)
			printf "; emulator: Xen ran on a stack not its own (%s)", stack
		printf "\n"
	}' "$1"
}

# Run beside QEMU: ends the boot 5 s after a Xen panic (the rest of its dump), so a hung
# hypervisor costs seconds, not the rest of XT_TIMEOUT. Returns when QEMU is gone.
xen_panic_watch() { # console qemu-pidfile
	local pid
	while sleep 3; do
		pid=$(cat "$2" 2>/dev/null) && [ -e "$1" ] || continue
		kill -0 "$pid" 2>/dev/null || return 0
		if xen_panicked "$1"; then
			sleep 5
			echo "xen-tier: Xen panicked (console above): ending the boot now, not at XT_TIMEOUT"
			kill "$pid" 2>/dev/null
			return 0
		fi
	done
}
