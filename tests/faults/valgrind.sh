#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# The tool's main paths under valgrind's memcheck: file commands (pack, info,
# unpack), -l, download and upload over USB/IP to dfukit-emu. Any memcheck
# error or definite/indirect leak fails the test (exit 99 from valgrind).
# Usage: valgrind.sh BUILD_DIR
set -u
BUILD=$(cd "$1" && pwd)
DFUKIT=$BUILD/dfukit
EMU=$BUILD/dfukit-emu
TMP=$(mktemp -d)
EMU_PID=
fails=0
runs=0

cleanup() {
	[ -n "$EMU_PID" ] && kill "$EMU_PID" 2>/dev/null && wait "$EMU_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
grep -q 'fsanitize=address' "$BUILD/CMakeCache.txt" 2>/dev/null && {
	# ASan and valgrind do not mix; this build is checked by ASan instead.
	echo "this build uses ASan: run the valgrind test in a build without DFUKIT_SANITIZE" >&2
	exit 1
}

# vg NAME EXPECTED_EXIT ARGS...: one dfukit run under memcheck.
vg() {
	local name=$1 want=$2
	shift 2
	runs=$((runs + 1))
	timeout 120 valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
		--log-file="$TMP/vg-$name.log" "$DFUKIT" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
	local rc=$?
	if [ "$rc" -ne "$want" ] || [ -s "$TMP/vg-$name.log" ]; then
		echo "FAIL $name: exit $rc (expected $want): dfukit $*"
		cat "$TMP/vg-$name.log"
		tail -5 "$TMP/$name.err"
		fails=$((fails + 1))
	else
		echo "PASS $name"
	fi
}

start_emu() {
	rm -f "$TMP/emu.sock"
	"$EMU" --profile "$1" --listen "unix:$TMP/emu.sock" --memory "$TMP/mem-$1.bin" >"$TMP/emu.log" 2>&1 &
	EMU_PID=$!
	for _ in $(seq 1 500); do
		grep -q 'listening on' "$TMP/emu.log" && return 0
		sleep 0.01
	done
	echo "dfukit-emu did not start" >&2
	cat "$TMP/emu.log" >&2
	exit 1
}
stop_emu() {
	kill "$EMU_PID" 2>/dev/null
	wait "$EMU_PID" 2>/dev/null
	EMU_PID=
}

head -c 20000 /dev/urandom >"$TMP/a.bin"
head -c 3000 /dev/urandom >"$TMP/b.bin"
head -c 5000 /dev/urandom >"$TMP/c.bin"

# File commands, the good paths and a bad input.
vg pack 0 pack -b "0x08004000:$TMP/a.bin" -b "0x08010000@1:$TMP/b.bin" -n 1:second "$TMP/fw.dfu"
vg info 0 info "$TMP/fw.dfu"
vg info-json 0 info --json "$TMP/fw.dfu"
vg unpack 0 unpack "$TMP/fw.dfu" -o "$TMP/unpacked"
vg unpack-ihex 0 unpack --ihex "$TMP/fw.dfu" -o "$TMP/unpacked-hex"
head -c 300 "$TMP/fw.dfu" >"$TMP/trunc.dfu"
vg info-truncated 65 info "$TMP/trunc.dfu"
vg suffix-add 0 suffix -a "$TMP/b.bin" -v 0483 -p df11
vg suffix-check 0 suffix -c "$TMP/b.bin"

# Over USB/IP: list, download (with verify), .dfu download, upload, and a
# failing download (a device fault) so the error paths are covered too.
export DFUKIT_USBIP="unix:$TMP/emu.sock"
start_emu stm32f405
vg list 0 -l
vg download 0 -a 0 -s 0x08004000 -D "$TMP/a.bin"
vg download-dfu 0 -a 0 -D "$TMP/fw.dfu"
vg upload 0 -a 0 -s 0x08004000:20000 -U "$TMP/up.bin"
cmp -s "$TMP/up.bin" "$TMP/a.bin" || { echo "FAIL upload: read-back differs"; fails=$((fails + 1)); }
vg upload-exists 73 -a 0 -s 0x08004000:1024 -U "$TMP/up.bin"
stop_emu
"$EMU" --help >/dev/null # a fault spec the emulator accepts
start_emu_fault() {
	rm -f "$TMP/emu.sock"
	"$EMU" --profile stm32f405 --listen "unix:$TMP/emu.sock" --memory "$TMP/mem-f.bin" --fault "$1" \
		>"$TMP/emu.log" 2>&1 &
	EMU_PID=$!
	for _ in $(seq 1 500); do
		grep -q 'listening on' "$TMP/emu.log" && return 0
		sleep 0.01
	done
	exit 1
}
start_emu_fault status=errWRITE@dnblock=3
vg download-fault 76 -a 0 -s 0x08004000 -D "$TMP/a.bin"
stop_emu
start_emu_fault disconnect@upblock=3
vg upload-fault 74 -a 0 -s 0x08004000:20000 -U "$TMP/up2.bin"
stop_emu
[ -e "$TMP/up2.bin" ] && { echo "FAIL upload-fault left $TMP/up2.bin"; fails=$((fails + 1)); }

# Hostile descriptors: strings that need sanitising, a map that does not parse.
start_emu_desc() {
	rm -f "$TMP/emu.sock"
	"$EMU" --profile stm32f405 --listen "unix:$TMP/emu.sock" --memory "$TMP/mem-d.bin" "$@" >"$TMP/emu.log" 2>&1 &
	EMU_PID=$!
	for _ in $(seq 1 500); do
		grep -q 'listening on' "$TMP/emu.log" && return 0
		sleep 0.01
	done
	exit 1
}
start_emu_desc --fault desc=str-long --fault desc=str-badlen --fault desc=str-odd
vg list-hostile-strings 0 -l
stop_emu
start_emu_desc --fault desc=memmap-garbage
vg download-bad-memmap 65 -a 0 -s 0x08004000 -D "$TMP/a.bin"
stop_emu

# Plain DFU 1.1: detach from run-time mode, then download and upload.
start_emu dfu11
vg detach 0 -e
for _ in $(seq 1 50); do "$DFUKIT" -l 2>/dev/null | grep -q 'Found DFU: \[1209:df11\]' && break; sleep 0.1; done
vg dfu11-download 0 -a 0 -D "$TMP/c.bin"
vg dfu11-upload 0 -a 0 -U "$TMP/up3.bin"
stop_emu

echo "valgrind: $runs runs, $((runs - fails)) clean"
[ "$fails" -eq 0 ]
