# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Shared by the tests/files/*.sh scripts: sourced after `set -u`.
# $1 of the script is the build directory holding `dfukit`.
. "$(dirname "${BASH_SOURCE[0]}")/../scenario.sh" "${1:-}"
BUILD=$(cd "${1:-build}" && pwd)
DFUKIT="$BUILD/dfukit"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GEN="python3 $HERE/gen.py"
[ -x "$DFUKIT" ] || { echo "no dfukit in $BUILD"; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/dfk-files.XXXXXX")
trap 'rm -rf "$T"' EXIT
mkdir "$T/w"
cd "$T/w" # the work files; $T/out and $T/err hold the last output
FAILS=0
CHECKS=0

fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { CHECKS=$((CHECKS + 1)); }

# expect RC CMD...: runs CMD, stdout in $T/out, stderr in $T/err; checks the exit code.
expect() {
	local want=$1 got
	shift
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	if grep -qE 'runtime error:|Sanitizer' "$T/err"; then
		fail "sanitizer report: $*"
		head -30 "$T/err"
	elif [ "$got" != "$want" ]; then
		fail "exit $got, wanted $want: $*"
		sed 's/^/  out: /' "$T/out" | head -20
		sed 's/^/  err: /' "$T/err" | head -20
	else
		ok
	fi
}

# err_has TEXT: the last command's stderr contains TEXT.
err_has() { grep -qF -- "$1" "$T/err" && ok || { fail "stderr lacks '$1':"; sed 's/^/  err: /' "$T/err"; }; }
out_has() { grep -qF -- "$1" "$T/out" && ok || { fail "stdout lacks '$1':"; sed 's/^/  out: /' "$T/out" | head -40; }; }
same() { cmp -s "$1" "$2" && ok || fail "$1 and $2 differ"; }
# no_temp DIR: no temporary file of an aborted atomic write is left.
no_temp() { [ -z "$(find "$1" -maxdepth 1 -name '.*.??????' -print -quit)" ] && ok || fail "temporary file left in $1"; }

finish() {
	echo "$CHECKS checks, $FAILS failures"
	[ "$FAILS" = 0 ] && [ "$CHECKS" -gt 0 ]
	exit $?
}
