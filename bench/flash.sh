#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Benchmark (issue 4 "Speed"): dfukit against the stm32f405 virtual device
# over USB/IP. Prints the control transfers per job from dfukit-emu --stats
# and, with --timing real, wall time against the device's modelled busy_ms.
#   bench/flash.sh [BUILD_DIR]      (default: ./build)
# Targets: 256 KiB download <= 440 transfers (--no-verify), <= 600 with
# verify; wall time within 5% of busy_ms + transfer time; 1 MiB read-out:
# one UPLOAD per transfer-size block and nothing else per block.
set -u
BUILD=$(cd "${1:-build}" && pwd)
DFUKIT="$BUILD/dfukit"
EMU="$BUILD/dfukit-emu"
TMP=$(mktemp -d)
EMU_PID=
stop_emu() {
	if [ -n "$EMU_PID" ]; then
		kill "$EMU_PID" 2>/dev/null
		wait "$EMU_PID" 2>/dev/null
		EMU_PID=
	fi
}
trap 'stop_emu; rm -rf "$TMP"' EXIT

start_emu() {
	stop_emu
	rm -f "$TMP/sock" "$TMP/stats.json" "$TMP/mem.bin" "$TMP/emu.log"
	"$EMU" --profile stm32f405 --listen "unix:$TMP/sock" --memory "$TMP/mem.bin" --stats "$TMP/stats.json" "$@" \
		>"$TMP/emu.log" 2>&1 &
	EMU_PID=$!
	for _ in $(seq 1 3000); do
		grep -q 'listening on' "$TMP/emu.log" && return 0
		kill -0 "$EMU_PID" 2>/dev/null || break
		sleep 0.01
	done
	echo "dfukit-emu did not start" >&2
	cat "$TMP/emu.log" >&2
	exit 1
}
stat_value() { grep -o "\"$1\": *[0-9]*" "$TMP/stats.json" | tail -1 | grep -o '[0-9]*$'; }
now_ms() { date +%s%3N; }

# run LABEL EMU-ARGS -- DFUKIT-ARGS: one job on a fresh device; prints a line.
run() {
	local label=$1
	shift
	local emu_args=()
	while [ "$1" != "--" ]; do
		emu_args+=("$1")
		shift
	done
	shift
	start_emu "${emu_args[@]}"
	local t0 t1 rc
	t0=$(now_ms)
	DFUKIT_USBIP="unix:$TMP/sock" "$DFUKIT" "$@" >"$TMP/out" 2>&1
	rc=$?
	t1=$(now_ms)
	stop_emu
	if [ $rc -ne 0 ]; then
		echo "$label: dfukit failed ($rc):" >&2
		tail -5 "$TMP/out" >&2
		return 1
	fi
	local busy wall extra=""
	busy=$(stat_value busy_ms)
	wall=$((t1 - t0))
	# Wall time includes starting dfukit and enumeration over the socket.
	if [ "${busy:-0}" -gt 0 ]; then
		extra=" (wall = busy + $(((wall - busy) * 1000 / busy / 10)).$(((wall - busy) * 1000 / busy % 10))%)"
	fi
	printf '%-34s control_transfers=%-5s DNLOAD=%-4s UPLOAD=%-4s GETSTATUS=%-4s busy_ms=%-5s wall_ms=%s%s\n' \
		"$label" "$(stat_value control_transfers)" "$(stat_value DNLOAD)" "$(stat_value UPLOAD)" \
		"$(stat_value GETSTATUS)" "$busy" "$wall" "$extra"
}

head -c 262144 /dev/urandom >"$TMP/fw256k.bin"
echo "dfukit $("$DFUKIT" -V | head -1 | cut -d' ' -f2), stm32f405, 256 KiB at 0x08000000, transfer size 2048"
echo "(dfu-util 0.11 needs 794 control transfers for the download)"
run "download --no-verify (<= 440)" -- -a 0 -s 0x08000000 -D "$TMP/fw256k.bin" --no-verify
run "download --verify (<= 600)" -- -a 0 -s 0x08000000 -D "$TMP/fw256k.bin" --verify
run "download --no-verify, timing real" --timing real -- -a 0 -s 0x08000000 -D "$TMP/fw256k.bin" --no-verify
run "download --verify, timing real" --timing real -- -a 0 -s 0x08000000 -D "$TMP/fw256k.bin" --verify
echo "1 MiB read-out (512 blocks of 2048: expect UPLOAD=512)"
run "upload 1 MiB" -- -a 0 -s 0x08000000:1048576 -U "$TMP/up.bin"
