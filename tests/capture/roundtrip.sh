#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# dfukit capture round trips: a device served by dfukit-emu (every built-in
# profile, files of emu/zoo and tests/emu/devices: composite, raw-bytes
# serial, 7-byte functional descriptor) is captured to a.json; a.json served
# with dfukit-emu --device must show the same dfukit -l lines and answer the
# same raw descriptors (device, configuration, strings 0..15, read with
# emu_probe, not with dfukit), and capturing it again gives b.json == a.json.
# Then the errors: no device, two devices, an output that cannot be written
# (nothing left behind), an existing output without --force. And
# --time-page: timings measured on one page, which keeps its bytes.
. "$(dirname "$0")/../emu/lib.sh" "$1"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
DFUKIT="$BUILD/dfukit"
# The capture date in "sources": fixed, so that a and b match across midnight.
export SOURCE_DATE_EPOCH=1700000000
unset DFUKIT_USBIP

# snapshot NAME: the -l lines and the raw descriptors of the device served.
snapshot() {
	"$DFUKIT" --usbip "$ADDR" -l 2>&1 | grep '^Found' >"$T/$1.l"
	local path script i
	path=$(sed -n 's/.*path="\([^"]*\)".*/\1/p' "$T/$1.l" | head -1)
	script=$(printf 'in 80 06 0100 0000 12\nin 80 06 0200 0000 ffff\nin 80 06 0300 0000 ff\n'
		for i in $(seq 1 15); do printf 'in 80 06 03%02x 0409 ff\n' "$i"; done)
	printf '%s\n' "$script" | probe run "$path" >"$T/$1.raw" 2>&1
}

# roundtrip LABEL EMU-ARGS...: the checks above for one device.
roundtrip() {
	local label=$1
	shift
	rm -f "$T/a.json" "$T/b.json"
	start_emu "$@"
	if ! "$DFUKIT" capture --usbip "$ADDR" -o "$T/a.json" 2>"$T/cap.err"; then
		fail "$label: capture of the original failed: $(cat "$T/cap.err")"
		stop_emu
		return
	fi
	snapshot orig
	stop_emu
	if ! start_emu_file "$T/a.json"; then
		fail "$label: dfukit-emu refuses the captured description: $(cat "$T/emu.log")"
		return
	fi
	snapshot double
	"$DFUKIT" capture --usbip "$ADDR" -o "$T/b.json" 2>"$T/cap.err" ||
		fail "$label: capture of the double failed: $(cat "$T/cap.err")"
	stop_emu
	[ -s "$T/orig.l" ] || fail "$label: dfukit -l shows nothing"
	diff -u "$T/orig.l" "$T/double.l" >&2 || fail "$label: dfukit -l lines differ"
	grep -q 'status=0 len=18' "$T/orig.raw" || fail "$label: no device descriptor read: $(head -3 "$T/orig.raw")"
	diff -u "$T/orig.raw" "$T/double.raw" >&2 || fail "$label: raw descriptors differ"
	diff -u "$T/a.json" "$T/b.json" >&2 || fail "$label: the second capture differs from the first"
	echo "$label: ok ($(wc -l <"$T/orig.l") interface line(s))"
}

# start_emu_file FILE: as start_emu --device FILE, false when it exits.
start_emu_file() {
	: >"$T/emu.log"
	"$EMU" --listen "$ADDR" --device "$1" 2>"$T/emu.log" &
	EMU_PID=$!
	local i
	for i in $(seq 1 200); do
		grep -q "listening on $ADDR" "$T/emu.log" 2>/dev/null && return 0
		if ! kill -0 "$EMU_PID" 2>/dev/null; then
			wait "$EMU_PID" 2>/dev/null
			EMU_PID=
			return 1
		fi
		sleep 0.05
	done
	return 1
}

t_builtin_profiles() {
	local p n=0
	for p in $("$EMU" --list-profiles | awk '{print $1}'); do
		roundtrip "profile $p" --profile "$p"
		n=$((n + 1))
	done
	[ "$n" -ge 9 ] || fail "only $n built-in profiles"
}

t_zoo() {
	local f
	# gd32vf103-a: a raw-bytes string; stm32duino-bootloader: DFU 1.0
	# functional descriptor; arduino-portenta-h7: composite; blackmagic-probe:
	# run-time mode with other interfaces.
	for f in gd32vf103-a stm32duino-bootloader arduino-portenta-h7 blackmagic-probe tinyusb-dfu \
		nrf52840-zephyr stm32g474; do
		if [ -f "$SRC/emu/zoo/$f.json" ]; then
			roundtrip "zoo $f" --device "$SRC/emu/zoo/$f.json"
		fi
	done
}

t_composite() {
	roundtrip "composite (run-time)" --device "$SRC/tests/emu/devices/composite.json"
	grep -q '"mode": "runtime"' "$T/a.json" || fail "composite: not captured as run-time"
	grep -q '"dfu_interface": 2' "$T/a.json" || fail "composite: DFU interface number lost"
	grep -q '"descriptors": "05 24 00 10 01  05 24 01 00 01' "$T/a.json" ||
		fail "composite: CDC descriptors lost"
	grep -q 'DFU mode is NOT captured' "$T/a.json" || fail "composite: description does not say DFU mode is assumed"
}

t_raw_serial() {
	roundtrip "board-b (raw serial, 7-byte functional)" --device "$SRC/tests/emu/devices/board-b.json"
	grep -q '"serial": {' "$T/a.json" || fail "board-b: serial not captured as raw bytes"
	grep -q '"length": 7' "$T/a.json" || fail "board-b: functional length 7 lost"
	roundtrip "board-a (bus path, no serial)" --device "$SRC/tests/emu/devices/board-a.json"
	grep -q '"path": "3-2.1"' "$T/a.json" || fail "board-a: bus path lost"
	grep -q '"serial": null' "$T/a.json" || fail "board-a: absent serial not null"
}

t_dfuse_map() {
	roundtrip "stm32f405" --profile stm32f405
	grep -q '"protocol": "dfuse"' "$T/a.json" || fail "stm32f405: not dfuse"
	grep -q '"state": "dfuERROR"' "$T/a.json" || fail "stm32f405: power-on dfuERROR lost"
	grep -q '"name": "@Internal Flash  /0x08000000/04\*016Kg,01\*064Kg,07\*128Kg"' "$T/a.json" ||
		fail "stm32f405: alt name not exact"
	grep -q 'captured with dfukit capture .* on 2023-11-14 from 1-1' "$T/a.json" || fail "stm32f405: sources"
}

t_stdout() {
	start_emu --profile dfu11
	out=$("$DFUKIT" capture --usbip "$ADDR" -o - 2>"$T/err")
	expect_eq "-o - exit" "$?" 0
	expect_match "-o -: JSON on stdout" "$out" '"format": 1'
	expect_match "-o -: plain DFU memory assumed" "$out" 'memory sizes are assumed|NOT captured'
	stop_emu
}

t_no_device() {
	start_emu --profile stm32f405
	local W="$T/none"
	mkdir -p "$W"
	# Run-time and DFU-mode IDs (-d VID:PID alone leaves DFU mode any, as in dfu-util).
	"$DFUKIT" capture --usbip "$ADDR" -d 1234:5678,1234:5678 -o "$W/none.json" 2>"$T/err"
	expect_eq "no device: exit" "$?" 74
	expect_match "no device: message" "$(cat "$T/err")" 'no DFU capable USB device found on the USB/IP server'
	[ -z "$(ls -A "$W")" ] || fail "no device: files left: $(ls -A "$W")"
	"$DFUKIT" capture --usbip "$ADDR" -S NO-SUCH-SERIAL -o "$W/none.json" 2>"$T/err"
	expect_eq "no device (-S): exit" "$?" 74
	[ -z "$(ls -A "$W")" ] || fail "no device (-S): files left: $(ls -A "$W")"
	stop_emu
}

t_two_devices() {
	start_emu --profile stm32f405 --count 2
	rm -f "$T/two.json"
	"$DFUKIT" capture --usbip "$ADDR" -o "$T/two.json" 2>"$T/err"
	expect_eq "two devices: exit" "$?" 74
	expect_match "two devices: message" "$(cat "$T/err")" '2 DFU capable USB devices match: capture takes one'
	[ ! -e "$T/two.json" ] || fail "two devices: output file created"
	# A selection picks one.
	"$DFUKIT" capture --usbip "$ADDR" -p 1-2 -o "$T/two.json" 2>"$T/err" || fail "-p 1-2: $(cat "$T/err")"
	grep -q '"path": "1-2"' "$T/two.json" || fail "-p 1-2: not the device at 1-2"
	grep -q '"serial": "3276346C3034-2"' "$T/two.json" || fail "-p 1-2: not the second copy"
	stop_emu
}

t_output_errors() {
	local T="$T/out"
	mkdir -p "$T"
	start_emu --profile stm32f405
	mkdir "$T/ro"
	# A file where the directory should be (unwritable whoever runs the test).
	echo notadir >"$T/file"
	"$DFUKIT" capture --usbip "$ADDR" -o "$T/file/x.json" 2>"$T/err"
	expect_eq "file as directory: exit" "$?" 73
	expect_eq "file as directory: file kept" "$(cat "$T/file")" notadir
	# A directory that does not exist, and a directory as the output.
	"$DFUKIT" capture --usbip "$ADDR" -o "$T/missing/x.json" 2>"$T/err"
	expect_eq "missing dir: exit" "$?" 73
	expect_match "missing dir: message" "$(cat "$T/err")" 'missing/x.json'
	"$DFUKIT" capture --usbip "$ADDR" -o "$T/ro" 2>"$T/err"
	expect_eq "directory as output: exit" "$?" 73
	[ -z "$(ls -A "$T/ro")" ] || fail "directory as output: files left in it"
	# An existing file is kept without --force, replaced with it.
	echo keep >"$T/old.json"
	"$DFUKIT" capture --usbip "$ADDR" -o "$T/old.json" 2>"$T/err"
	expect_eq "existing file: exit" "$?" 73
	expect_match "existing file: message" "$(cat "$T/err")" '--force'
	expect_eq "existing file kept" "$(cat "$T/old.json")" keep
	"$DFUKIT" capture --usbip "$ADDR" -o "$T/old.json" --force 2>"$T/err" || fail "--force: $(cat "$T/err")"
	grep -q '"format": 1' "$T/old.json" || fail "--force: not replaced"
	# Nothing but the outputs: no temporary files.
	left=$(find "$T" -mindepth 1 -maxdepth 1 ! -name err ! -name emu.log ! -name ro ! -name old.json ! -name file)
	[ -z "$left" ] || fail "files left behind: $left"
	# Usage errors.
	"$DFUKIT" capture --usbip "$ADDR" 2>"$T/err"
	expect_eq "no -o: exit" "$?" 64
	"$DFUKIT" capture --usbip "$ADDR" -o x.json extra 2>"$T/err"
	expect_eq "operand: exit" "$?" 64
	"$DFUKIT" capture --bogus 2>"$T/err"
	expect_eq "unknown option: exit" "$?" 64
	stop_emu
}

# Hostile descriptors (dfukit-emu's desc= faults): capture never crashes;
# it either describes the device in a file dfukit-emu takes, or fails with
# the status -l's finding gives (the library does not list the device).
t_hostile() {
	local f rc
	for f in str-long str-badlen str-odd memmap-garbage memmap-overflow memmap-empty xfer0 xfer65535 \
		func-badlen func-missing total-long total-short blen0 dev-badlen; do
		start_emu --profile stm32f405 --fault "desc=$f"
		rm -f "$T/h.json"
		"$DFUKIT" capture --usbip "$ADDR" -o "$T/h.json" 2>"$T/err"
		rc=$?
		stop_emu
		case $rc in
		0)
			if start_emu_file "$T/h.json"; then
				stop_emu
			else
				fail "desc=$f: dfukit-emu refuses the capture: $(cat "$T/emu.log")"
			fi
			;;
		74) [ ! -e "$T/h.json" ] || fail "desc=$f: failed and left a file" ;;
		*) fail "desc=$f: exit $rc: $(cat "$T/err")" ;;
		esac
	done
}

# Only read-only requests reach the device: the emulator's statistics count
# no DNLOAD, UPLOAD, DETACH, CLRSTATUS or ABORT.
t_read_only() {
	start_emu --profile stm32f405 --stats "$T/stats.json"
	"$DFUKIT" capture --usbip "$ADDR" -o "$T/ro.json" 2>"$T/err" || fail "capture: $(cat "$T/err")"
	stop_emu
	[ -s "$T/stats.json" ] || { fail "no statistics written"; return; }
	python3 - "$T/stats.json" <<'EOF' || fail "capture sent a request other than GET_DESCRIPTOR, GETSTATE, GETSTATUS"
import json, sys
for busid, d in json.load(open(sys.argv[1]))["devices"].items():
    bad = {k: n for k, n in d["requests"].items() if n and k not in ("GET_DESCRIPTOR", "GETSTATE", "GETSTATUS")}
    if bad or d["requests"]["GET_DESCRIPTOR"] == 0:
        print(busid, "requests:", bad or d["requests"], file=sys.stderr)
        sys.exit(1)
EOF
}

# --time-page: the only writes, and only when asked. The emulator enforces
# its erase and programming times (--timing real), so the measured ones are
# at least those; the page keeps its bytes; a double served from the
# capture erases that page size in the time measured.
t_time_page() {
	local mem="$T/tp.mem" want
	rm -f "$mem"
	start_emu --profile stm32f405 --timing real --memory "$mem"
	head -c 16384 /dev/urandom >"$T/old.bin"
	dd if="$T/old.bin" of="$mem" bs=1 seek=$((0x4000)) conv=notrunc status=none
	cp "$mem" "$T/before.mem"
	"$DFUKIT" capture --usbip "$ADDR" --time-page 0x08004123 -o "$T/tp.json" 2>"$T/err" ||
		fail "--time-page: $(cat "$T/err")"
	grep -q 'erasing the 16384-byte page at 0x08004000' "$T/err" || fail "--time-page does not say it erases: $(cat "$T/err")"
	cmp -s "$mem" "$T/before.mem" || fail "--time-page: the device memory changed"
	stop_emu
	# stm32f405.json: 143 ms + 6.7 ms per KiB for a 16 KiB sector, 4000 ns per byte
	want=$((143 + 67 * 16 / 10))
	python3 - "$T/tp.json" "$want" <<'PY' || fail "--time-page: wrong timing in $(cat "$T/tp.json")"
import json, sys
d = json.load(open(sys.argv[1]))
t, want = d["timing"], int(sys.argv[2])
e = t["erase_page_ms"]
assert len(e) == 1 and e[0]["page_size"] == 16384, e
assert want <= e[0]["ms"] < want + 5000, (e, want)
assert t["program_ns_per_byte"] >= 4000, t
assert t["poll_timeout_percent"] == 100, t  # the F405 reports its erase time
assert "timing measured on the 16384-byte page at 0x08004000" in d["description"], d["description"]
PY
	# The double erases that page size in the measured time.
	start_emu --device "$T/tp.json" --timing real
	"$DFUKIT" capture --usbip "$ADDR" --time-page 0x08004000 -o "$T/tp2.json" 2>"$T/err" ||
		fail "--time-page on the double: $(cat "$T/err")"
	stop_emu
	python3 - "$T/tp.json" "$T/tp2.json" <<'PY' || fail "the double's erase is faster than the one measured"
import json, sys
a, b = (json.load(open(p))["timing"]["erase_page_ms"][0]["ms"] for p in sys.argv[1:3])
assert b >= a, (a, b)
PY
	# Addresses that cannot be timed: outside every map, a page that cannot be erased.
	start_emu --profile stm32f405
	"$DFUKIT" capture --usbip "$ADDR" --time-page 0x30000000 -o "$T/x.json" 2>"$T/err"
	expect_eq "--time-page outside the maps: exit" "$?" 64
	expect_match "--time-page outside the maps: message" "$(cat "$T/err")" 'no alt setting'
	"$DFUKIT" capture --usbip "$ADDR" --time-page 0x1FFF7800 -o "$T/x.json" 2>"$T/err"
	expect_eq "--time-page on OTP: exit" "$?" 64
	expect_match "--time-page on OTP: message" "$(cat "$T/err")" 'not readable, erasable and writable'
	[ ! -e "$T/x.json" ] || fail "--time-page errors left an output file"
	"$DFUKIT" capture --usbip "$ADDR" --time-page nowhere -o "$T/x.json" 2>"$T/err"
	expect_eq "--time-page nowhere: exit" "$?" 64
	stop_emu
}

run_scenarios "${@:2}"
