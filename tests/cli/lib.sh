# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Helpers for the command-line tests: run dfukit, check its exit status and
# output. Source with the build dir as $1 of the test script.
. "$(dirname "${BASH_SOURCE[0]}")/../scenario.sh" "${1:-}"
set -u
BUILD=${BUILD:-$1}
DFUKIT="$BUILD/dfukit"
FAILS=0
TMP=$(mktemp -d)
cleanup_tmp() { rm -rf "$TMP"; }
trap cleanup_tmp EXIT
# A USB/IP address nothing listens on: tests that must not reach a device
# never touch real USB through libusb.
NOSERVER="unix:$TMP/no-such-socket"

fail() {
	echo "FAIL: $*" >&2
	FAILS=$((FAILS + 1))
}

# run ARGS...: runs dfukit, output in $TMP/out and $TMP/err, status in $RC.
run() {
	"$DFUKIT" "$@" >"$TMP/out" 2>"$TMP/err"
	RC=$?
}

# expect CODE ARGS...: dfukit ARGS must exit with CODE.
expect() {
	local code=$1
	shift
	run "$@"
	if [ "$RC" != "$code" ]; then
		fail "dfukit $* exited $RC, expected $code; stderr: $(head -c 400 "$TMP/err")"
	fi
}

# grep_out PATTERN / grep_err PATTERN: the last run printed PATTERN (ERE).
grep_out() { grep -Eq -- "$1" "$TMP/out" || fail "stdout lacks /$1/: $(head -c 400 "$TMP/out")"; }
grep_err() { grep -Eq -- "$1" "$TMP/err" || fail "stderr lacks /$1/: $(head -c 400 "$TMP/err")"; }
no_out() { grep -Eq -- "$1" "$TMP/out" && fail "stdout has /$1/"; return 0; }
no_err() { grep -Eq -- "$1" "$TMP/err" && fail "stderr has /$1/"; return 0; }

finish() {
	if [ "$FAILS" -ne 0 ]; then
		echo "$FAILS check(s) failed" >&2
		exit 1
	fi
	echo "all checks passed"
	exit 0
}
