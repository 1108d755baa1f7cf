# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Issue 14, farms: --usbip given several times makes one device space of
# several USB/IP servers (dfk_transport_multi_new); each device is named by
# its server and bus id ("unix:/…/b.sock/1-2"), -l lists them all, --all
# flashes them all in one run and -p picks one.
. "$(dirname "$0")/../flash/lib.sh" "$1"

EMU2_PID=
trap 'stop_emu; [ -z "$EMU2_PID" ] || { kill "$EMU2_PID"; wait "$EMU2_PID"; } 2>/dev/null; cleanup_tmp' EXIT

# two_servers N: servers A ($SOCK, memories in $TMP/ma) and B ($SOCK2,
# $TMP/mb), each of N STM32F405 devices.
two_servers() {
	MEM="$TMP/ma"
	rm -rf "$TMP/ma" "$TMP/mb"
	mkdir "$TMP/ma" "$TMP/mb"
	start_emu stm32f405 --count "$1"
	SOCK2="$TMP/b.sock"
	rm -f "$SOCK2"
	"$EMU" --profile stm32f405 --count "$1" --listen "unix:$SOCK2" --memory "$TMP/mb" >"$TMP/emu2.log" 2>&1 &
	EMU2_PID=$!
	wait_line "$TMP/emu2.log" 'listening on' || fail "the second server did not start: $(cat "$TMP/emu2.log")"
	A="unix:$SOCK"
	B="unix:$SOCK2"
	unset DFUKIT_USBIP
}

# holds DIR BUSID FILE: that server's device holds FILE at 0x08000000.
holds() {
	cmp -s -n "$(stat -c %s "$3")" "$TMP/$1/$2.mem" "$3"
}

t_listed() {
	two_servers 2
	expect 0 --usbip "$A" --usbip "$B" -l
	local s i
	for s in "$A" "$B"; do
		for i in 1 2; do
			grep -qF "path=\"$s/1-$i\", alt=0, name=\"@Internal Flash" "$TMP/out" ||
				fail "-l lacks $s/1-$i: $(head -c 600 "$TMP/out")"
		done
	done
	[ "$(grep -c 'alt=0, name="@Internal Flash' "$TMP/out")" -eq 4 ] || fail "not 4 devices listed"
	# With --json, the same paths.
	expect 0 --usbip "$A" --usbip "$B" -l --json
	grep_out "\"path\":\"unix:[^\"]*/b.sock/1-2\""
}

t_all_in_one_run() {
	two_servers 2
	app_file "$TMP/img.bin" 32768
	expect 0 --usbip "$A" --usbip "$B" --all -a 0 -s 0x08000000 -D "$TMP/img.bin"
	grep_out '^Summary: 4 passed, 0 failed \(of 4 devices\)$'
	local d i
	for d in ma mb; do
		for i in 1 2; do
			holds "$d" "1-$i" "$TMP/img.bin" || fail "server $d device 1-$i does not hold the image"
		done
	done
	grep -qF "[$B/1-2] passed: 32768 bytes, verified" "$TMP/out" || fail "no result line for $B/1-2"
}

t_path_picks_one() {
	two_servers 2
	app_file "$TMP/img.bin" 16384
	expect 0 --usbip "$A" --usbip "$B" -p "$B/1-2" -a 0 -s 0x08000000 -D "$TMP/img.bin"
	holds mb 1-2 "$TMP/img.bin" || fail "$B/1-2 does not hold the image"
	MEM="$TMP/ma/1-2.mem" mem_erased 0x08000000 16384
	MEM="$TMP/mb/1-1.mem" mem_erased 0x08000000 16384
	# Same bus id on the other server: a different device.
	expect 0 --usbip "$A" --usbip "$B" -p "$A/1-2" -a 0 -s 0x08000000 -D "$TMP/img.bin"
	holds ma 1-2 "$TMP/img.bin" || fail "$A/1-2 does not hold the image"
	# A bare bus id matches no device of a farm.
	expect 74 --usbip "$A" --usbip "$B" -p 1-2 -a 0 -s 0x08000000 -D "$TMP/img.bin"
	grep_err 'no DFU capable USB device found on the USB/IP servers'
}

t_server_down() {
	two_servers 1
	expect 74 --usbip "$A" --usbip "unix:$TMP/nobody.sock" -l
	grep_err "unix:$TMP/nobody.sock"
}

t_usage() {
	expect 64 --usbip unix:/x --usbip unix:/x -l
	grep_err -- '--usbip unix:/x given twice'
	local args=() i
	for i in $(seq 1 17); do args+=(--usbip "unix:/s$i"); done
	expect 64 "${args[@]}" -l
	grep_err 'more than 16'
}

run_scenarios "${@:2}"
