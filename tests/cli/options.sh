# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# dfu-util 0.11 options: parsing, usage errors and exit codes, no device.
. "$(dirname "$0")/lib.sh" "$1"

# -h: usage on stderr, exit 0, no banner on stdout.
t_help() {
	expect 0 -h
	grep_err -- '--dfuse-address'
	[ -s "$TMP/out" ] && fail "-h printed to stdout"
	expect 0 --help
	grep_err -- '--transfer-size'
}

# -V: the banner with the version, exit 0.
t_version() {
	expect 0 -V
	grep_out '^dfukit [0-9]+\.[0-9]+\.[0-9]+'
	expect 0 --version
}

# Unknown options and stray arguments: 64 with usage.
t_unknown_options() {
	expect 64 -X
	grep_err 'unknown option'
	expect 64 --no-such-option
	expect 64 -l stray-argument
	grep_err 'unexpected argument'
	# Missing argument to an option.
	expect 64 -D
	grep_err 'needs an argument'
	# Nothing to do.
	expect 64 --usbip "$NOSERVER"
	grep_err 'nothing to do'
	expect 64 -U a.bin -D b.bin
	expect 64 -l -D b.bin
}

# Hand-checked numbers.
t_numbers() {
	for bad in -1 x 0x 256 1x ' 1'; do
		expect 64 -n "$bad" -l
	done
	expect 64 -c 256 -l
	expect 64 -c -1 -l
	expect 64 -i 999 -l
	for bad in 0 65536 -5 abc 4k; do
		expect 64 -t "$bad" -U x.bin
		grep_err 'transfer size'
	done
	expect 64 -E -3 -l
	expect 64 -E 5s -l
	expect 64 -Z -1 -U x.bin
	expect 64 --poll-cap abc -l
	expect 64 --timeout 0 -l
	expect 64 -p '' -l
}

# -d syntax.
t_device_ids() {
	expect 64 -d 12345:1 -l
	expect 64 -d 12xyz -l
	# An ID that does not start with a number is any, as in dfu-util (warned).
	run -d xyz -l --usbip "$NOSERVER"
	grep_err "vendor ID \"xyz\" is no hexadecimal number: taken as any"
	expect 64 -d 1:2,3:4,5:6 -l
}

# --wait takes no argument (dfu-util 0.11 swallows the next option): with
# -w, -l is still seen, so the run reaches the (absent) USB/IP server and
# fails with an I/O error, not a usage error.
t_wait_no_argument() {
	expect 74 --wait -l --usbip "$NOSERVER"
	expect 74 -w -l --usbip "$NOSERVER"
}

# --usbip and DFUKIT_USBIP select the USB/IP transport: a missing server is
# an I/O error naming it.
t_usbip_address() {
	expect 74 -l --usbip "$NOSERVER"
	grep_err 'no-such-socket'
	DFUKIT_USBIP="$NOSERVER" "$DFUKIT" -l >"$TMP/out" 2>"$TMP/err"
	[ $? = 74 ] || fail "DFUKIT_USBIP: expected 74"
	grep_err 'no-such-socket'
	expect 64 --usbip '' -l
}

# Option combinations that make no sense.
t_combinations() {
	expect 64 --verify -U x.bin
	expect 64 --skip-unchanged -U x.bin
	expect 64 --force -D x.bin
	expect 64 --all -U x.bin
	grep_err -- '--all' 
	expect 64 -s 0x08000000
	grep_err 'leave, mass-erase or unprotect'
}

run_scenarios "${@:2}"
