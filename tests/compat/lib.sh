# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Helpers for the compatibility tests: dfukit under dfu-util's names
# (symbolic links in a temporary directory, as the DFUKIT_INSTALL_COMPAT_LINKS
# install option and the dfukit-dfu-util package install them), against
# dfukit-emu over USB/IP (tests/flash/lib.sh starts it and sets DFUKIT_USBIP).
. "$(dirname "${BASH_SOURCE[0]}")/../flash/lib.sh" "$1"
BIN="$TMP/bin"
mkdir -p "$BIN"
for n in dfu-util dfu-suffix dfu-prefix dfuse-pack; do
	ln -s "$(readlink -f "$BUILD/dfukit")" "$BIN/$n"
done
# run/expect/grep_out (tests/cli/lib.sh) now run dfukit as dfu-util.
DFUKIT="$BIN/dfu-util"

# Debian's dfu-util package, the reference (tests/files/interop.sh needs it too).
for t in /usr/bin/dfu-util /usr/bin/dfu-suffix /usr/bin/dfu-prefix /usr/bin/dfuse-pack; do
	[ -x "$t" ] || { echo "$t (Debian's dfu-util package) is required" >&2; exit 1; }
done

# out_seq TEXT: stdout holds TEXT (with \n line breaks) as one run of bytes,
# the way LAVA checks dfu-util's output (a substring of the whole output).
out_seq() {
	python3 - "$TMP/out" "$1" <<'PY' || fail "stdout lacks the sequence $(printf %q "$1"): $(tr '\r' '\n' <"$TMP/out" | grep -v '\[' | tail -5)"
import sys
sys.exit(0 if sys.argv[2].encode().decode('unicode_escape') in open(sys.argv[1], encoding='utf-8', errors='replace').read() else 1)
PY
}
no_seq() {
	python3 - "$TMP/out" "$1" <<'PY' && fail "stdout has the sequence $(printf %q "$1")"
import sys
sys.exit(0 if sys.argv[2].encode().decode('unicode_escape') in open(sys.argv[1], encoding='utf-8', errors='replace').read() else 1)
PY
	return 0
}

# progress_lines_ok: every progress chunk (split at \r) is in dfu-util's
# format: "<Phase>\t[<25 of = or space>] NNN% <12-wide count> bytes".
progress_lines_ok() {
	local bad
	bad=$(tr '\r' '\n' <"$TMP/out" | grep -E '^(Erase|Download|Upload|Verify) *'$'\t''\[' |
		grep -Ev '^(Erase   |Download|Upload  |Verify  )'$'\t''\[[= ]{25}\] [ 0-9]{3}% [ 0-9]{11}[0-9] bytes$' | head -1)
	[ -z "$bad" ] || fail "a progress line is not in dfu-util's format: $(printf %q "$bad")"
	tr '\r' '\n' <"$TMP/out" | grep -Eq '^Download'$'\t''\[={25}\] 100% ' || fail "no 100% Download line"
}
