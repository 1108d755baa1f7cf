# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Input and output files before any device is reached: missing input (66),
# bad data (65), an existing upload target (73), JSON results.
. "$(dirname "$0")/lib.sh" "$1"

t_missing_input() {
	expect 66 -D "$TMP/missing.bin" --usbip "$NOSERVER"
	grep_err 'missing.bin'
	# The error is printed once, prefixed "dfukit: ".
	[ "$(grep -c 'missing.bin' "$TMP/err")" = 1 ] || fail "error printed more than once"
	grep_err '^dfukit: '
}

# Intel HEX with a bad checksum: 65 before touching the device.
t_bad_data() {
	printf ':0400000001020304F0\n:00000001FF\n' >"$TMP/bad.hex"
	expect 65 -D "$TMP/bad.hex" --usbip "$NOSERVER"
	# S-record with a bad checksum.
	printf 'S1070000010203040000\nS9030000FC\n' >"$TMP/bad.srec"
	expect 65 -D "$TMP/bad.srec" --usbip "$NOSERVER"
	# A raw file with a suffix whose CRC is wrong.
	head -c 100 /dev/zero >"$TMP/badsfx.bin"
	printf '\xff\xff\xff\xff\xff\xff\x00\x01UFD\x10\x00\x00\x00\x00' >>"$TMP/badsfx.bin"
	expect 65 -D "$TMP/badsfx.bin" --usbip "$NOSERVER"
}

# -U never overwrites without --force, and leaves the file alone.
t_existing_upload_target() {
	echo keep >"$TMP/exists.bin"
	expect 73 -U "$TMP/exists.bin" --usbip "$NOSERVER"
	grep_err 'exists.bin'
	[ "$(cat "$TMP/exists.bin")" = keep ] || fail "-U touched an existing file"
	# With --force it gets as far as the (missing) server, file still intact.
	expect 74 -U "$TMP/exists.bin" --force --usbip "$NOSERVER"
	[ "$(cat "$TMP/exists.bin")" = keep ] || fail "a failed -U --force damaged the existing file"
}

# --json: a final result object with the exit status, nothing on stderr
# for the error, no banner.
t_json() {
	expect 66 --json -D "$TMP/missing.bin" --usbip "$NOSERVER"
	grep_out '^\{"result":"error","exit":66,"operation":"download","code":"NOINPUT","message":".*missing.bin.*"\}$'
	no_out 'dfukit [0-9]'
	no_err 'missing.bin'
	expect 74 --json -l --usbip "$NOSERVER"
	grep_out '"exit":74'
	# Every stdout line is a JSON object.
	grep -v '^{.*}$' "$TMP/out" && fail "--json printed a non-JSON line"
}

run_scenarios "${@:2}"
