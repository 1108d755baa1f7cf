# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Shared helpers for the dfukit-emu shell tests. Source with the build dir
# in $1. Every emulator started here is killed by the EXIT trap.
. "$(dirname "${BASH_SOURCE[0]}")/../scenario.sh" "${1:-}"
set -u
BUILD=$(cd "$1" && pwd)
EMU="$BUILD/dfukit-emu"
PROBE="$BUILD/tests/emu/emu_probe"
T=$(mktemp -d /tmp/dfukit-emu-test.XXXXXX)
SOCK="$T/emu.sock"
ADDR="unix:$SOCK"
EMU_PID=
FAILS=0

cleanup() {
	if [ -n "$EMU_PID" ]; then
		kill "$EMU_PID" 2>/dev/null
		wait "$EMU_PID" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	FAILS=$((FAILS + 1))
}

# check DESCRIPTION COMMAND...: the command must succeed.
check() {
	local what=$1
	shift
	if ! "$@"; then
		fail "$what"
	fi
}

# expect_match DESCRIPTION TEXT REGEX
expect_match() {
	if ! printf '%s\n' "$2" | grep -Eq -- "$3"; then
		fail "$1: expected /$3/ in:"
		printf '%s\n' "$2" | head -20 >&2
	fi
}

expect_nomatch() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then
		fail "$1: unexpected /$3/ in:"
		printf '%s\n' "$2" | head -20 >&2
	fi
}

expect_eq() {
	if [ "$2" != "$3" ]; then
		fail "$1: expected '$3', got '$2'"
	fi
}

# start_emu ARGS...: starts the emulator on $SOCK and waits for its ready
# line (not a sleep); its stderr goes to $T/emu.log.
start_emu() {
	: >"$T/emu.log"
	"$EMU" --listen "$ADDR" "$@" 2>"$T/emu.log" &
	EMU_PID=$!
	local i
	for i in $(seq 1 200); do
		if grep -q "listening on $ADDR" "$T/emu.log" 2>/dev/null; then
			return 0
		fi
		if ! kill -0 "$EMU_PID" 2>/dev/null; then
			break
		fi
		sleep 0.05
	done
	echo "emulator did not start:" >&2
	cat "$T/emu.log" >&2
	exit 1
}

# stop_emu [SIGNAL]: stops it and sets EMU_STATUS to its exit status.
stop_emu() {
	kill -"${1:-TERM}" "$EMU_PID"
	wait "$EMU_PID"
	EMU_STATUS=$?
	EMU_PID=
}

probe() {
	"$PROBE" -t 5000 "$ADDR" "$@"
}

# run_script SCRIPT: imports 1-1 and runs SCRIPT, printing the replies.
run_script() {
	printf '%s\n' "$1" | probe run 1-1
}

finish() {
	if [ "$FAILS" -ne 0 ]; then
		echo "$FAILS check(s) failed" >&2
		exit 1
	fi
	echo "all checks passed"
	exit 0
}
