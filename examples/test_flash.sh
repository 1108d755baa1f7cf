#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# examples/flash.c end to end: flashes a random 20 KiB raw binary at
# 0x08000000 into dfukit-emu (stm32f405, USB/IP on a unix socket) and checks
# the emulator's memory file directly; a missing input must fail cleanly.
# $1: the build directory.
set -u
BUILD=$1
EMU="$BUILD/dfukit-emu"
EX="$BUILD/examples/example-flash"
TMP=$(mktemp -d)
EMU_PID=
cleanup() {
	[ -n "$EMU_PID" ] && kill "$EMU_PID" 2>/dev/null && wait "$EMU_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

"$EMU" --profile stm32f405 --listen "unix:$TMP/sock" --memory "$TMP/mem.bin" >"$TMP/emu.log" 2>&1 &
EMU_PID=$!
# Ready when it says so: the socket file may exist before it listens.
for _ in $(seq 1 1000); do
	grep -q 'listening on' "$TMP/emu.log" && [ -S "$TMP/sock" ] && break
	kill -0 "$EMU_PID" 2>/dev/null || fail "dfukit-emu did not start: $(cat "$TMP/emu.log")"
	sleep 0.01
done
grep -q 'listening on' "$TMP/emu.log" || fail "dfukit-emu not listening: $(cat "$TMP/emu.log")"

head -c 20480 /dev/urandom >"$TMP/fw.bin"
"$EX" --usbip "unix:$TMP/sock" "$TMP/fw.bin" 0x08000000 >"$TMP/out" 2>"$TMP/err" ||
	fail "example-flash exited $?: $(cat "$TMP/out" "$TMP/err")"
grep -q 'download *100%' "$TMP/out" || fail "no download progress: $(cat "$TMP/out")"
grep -q 'verify *100%' "$TMP/out" || fail "no verify progress: $(cat "$TMP/out")"
cmp -n 20480 "$TMP/mem.bin" "$TMP/fw.bin" || fail "device memory differs from the input"

"$EX" --usbip "unix:$TMP/sock" "$TMP/missing.bin" 0x08000000 >"$TMP/out" 2>"$TMP/err"
rc=$?
[ "$rc" -ne 0 ] || fail "a missing file exited 0"
grep -q 'missing.bin' "$TMP/err" || fail "no message naming the missing file: $(cat "$TMP/err")"

"$EX" >/dev/null 2>"$TMP/err"
[ $? -eq 64 ] || fail "no arguments: expected usage exit 64"
echo "example-flash: ok"
