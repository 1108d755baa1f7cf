#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Benchmark (issue 14, "production speed"; not a test): dfukit --all against
# dfukit-emu STM32F405 devices with the realistic timing model (--timing
# real: sector erase and programming times, USB full-speed bus time), and
# --skip-unchanged against a full flash. Prints each figure next to its aim.
#
#   bench/station.sh [BUILD_DIR]      (default: build)
#
# Aims: 8 devices in one --all run take at most 1.2x one device alone;
# dfukit's CPU time per device stays under 5% of the wall time; changing one
# byte of a 1 MiB image with --skip-unchanged is at least 5x faster than a
# full flash; re-flashing an unchanged image costs at most a plain read-out
# of the image plus 5%.
set -u
BUILD=$(cd "${1:-build}" && pwd)
DFUKIT="$BUILD/dfukit"
EMU="$BUILD/dfukit-emu"
[ -x "$DFUKIT" ] && [ -x "$EMU" ] || { echo "no dfukit/dfukit-emu in $BUILD (build it first)"; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time is needed (Debian package: time)"; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/dfk-station.XXXXXX")
PIDS=()
stop_all() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	PIDS=()
}
trap 'stop_all; rm -rf "$W"' EXIT

# servers S N: S dfukit-emu servers of N devices each, real timing; sets
# USBIP_ARGS (one --usbip per server).
servers() {
	stop_all
	USBIP_ARGS=()
	local s
	for s in $(seq 1 "$1"); do
		rm -rf "$W/mem$s" "$W/s$s.sock" "$W/emu$s.log"
		mkdir "$W/mem$s"
		"$EMU" --device "$W/f405-bus.json" --count "$2" --timing real --memory "$W/mem$s" --listen "unix:$W/s$s.sock" \
			>"$W/emu$s.log" 2>&1 &
		PIDS+=($!)
		USBIP_ARGS+=(--usbip "unix:$W/s$s.sock")
	done
	for s in $(seq 1 "$1"); do
		for _ in $(seq 1 3000); do
			grep -q 'listening on' "$W/emu$s.log" && break
			sleep 0.01
		done
	done
}

# measure ARGS...: runs dfukit ARGS under /usr/bin/time; sets WALL (s),
# CPU (s, user + system) and RSS (MiB).
measure() {
	/usr/bin/time -v -o "$W/time.txt" "$DFUKIT" "$@" >"$W/out" 2>"$W/err" || {
		echo "dfukit $* failed:"
		tail -5 "$W/err" "$W/out"
		exit 1
	}
	WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f", s}' "$W/time.txt")
	CPU=$(awk -F': ' '/User time/ {u = $2} /System time/ {s = $2} END {printf "%.3f", u + s}' "$W/time.txt")
	RSS=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2 / 1024}' "$W/time.txt")
}

calc() { awk "BEGIN { printf \"%.2f\", $1 }"; }
verdict() { awk "BEGIN { print ($1) ? \"met\" : \"MISSED\" }"; }

printf '%-52s %10s   %s\n' figure value aim
line() { printf '%-52s %10s   %s (%s)\n' "$1" "$2" "$3" "$4"; }

# The built-in STM32F405 with the USB full-speed bus time of each transfer
# (1 ms per control transfer, 1 us per byte: about 680 KB/s for 2 KiB
# blocks, as ST's ROM reads back), so that a read-out is not free.
python3 - "$(dirname "$0")/../emu/devices/stm32f405.json" "$W/f405-bus.json" <<'PY' || exit 1
import json, sys
d = json.load(open(sys.argv[1]))
d["name"] = "stm32f405-bus"
d["timing"].update({"usb_transfer_us": 1000, "usb_ns_per_byte": 1000})
json.dump(d, open(sys.argv[2], "w"), indent=1)
PY

head -c 262144 /dev/urandom >"$W/img256k.bin"

# One device alone, then eight at once, 256 KiB each with verify.
servers 1 1
measure "${USBIP_ARGS[@]}" -a 0 -s 0x08000000 -D "$W/img256k.bin"
one=$WALL
servers 1 8
measure "${USBIP_ARGS[@]}" --all -a 0 -s 0x08000000 -D "$W/img256k.bin"
eight=$WALL eight_cpu=$CPU eight_rss=$RSS
grep -q 'Summary: 8 passed' "$W/out" || { echo "8 devices: not all passed"; exit 1; }
line "one device, 256 KiB + verify (s)" "$one" "-" "reference"
line "8 devices at once, --all (s)" "$eight" "<= $(calc "$one * 1.2")" "$(verdict "$eight <= $one * 1.2")"
per_cpu=$(calc "$eight_cpu / 8")
line "CPU time per device (s)" "$per_cpu" "< 5% of $eight s" "$(verdict "$per_cpu < $eight * 0.05")"
line "peak memory of the 8-device run / 8 (MiB)" "$(calc "$eight_rss / 8")" "-" "whole run $eight_rss MiB"

# Sixteen devices on four servers (a farm) in one run.
servers 4 4
measure "${USBIP_ARGS[@]}" --all -a 0 -s 0x08000000 -D "$W/img256k.bin"
grep -q 'Summary: 16 passed' "$W/out" || { echo "16 devices: not all passed"; exit 1; }
line "16 devices on 4 servers, --all (s)" "$WALL" "<= $(calc "$one * 1.2")" "$(verdict "$WALL <= $one * 1.2")"
line "CPU time per device (s)" "$(calc "$CPU / 16")" "< 5% of $WALL s" "$(verdict "$CPU / 16 < $WALL * 0.05")"
line "peak memory of the 16-device run / 16 (MiB)" "$(calc "$RSS / 16")" "-" "whole run $RSS MiB"

# One byte changed in a 1 MiB image: --skip-unchanged against a full flash.
head -c 1048576 /dev/urandom >"$W/img1m.bin"
cp "$W/img1m.bin" "$W/img1m-b.bin"
printf '\x5a' | dd of="$W/img1m-b.bin" bs=1 seek=$((600 * 1024)) conv=notrunc status=none
servers 1 1
measure "${USBIP_ARGS[@]}" -a 0 -s 0x08000000 -D "$W/img1m.bin"
full=$WALL
measure "${USBIP_ARGS[@]}" -a 0 -s 0x08000000 -D "$W/img1m-b.bin" --skip-unchanged
onesec=$WALL
line "1 MiB full flash + verify (s)" "$full" "-" "reference"
line "one byte changed, --skip-unchanged (s)" "$onesec" "<= $(calc "$full / 5")" "$(verdict "$onesec * 5 <= $full")"
# The same image again against reading it out.
measure "${USBIP_ARGS[@]}" -a 0 -s 0x08000000 -D "$W/img1m-b.bin" --skip-unchanged
same=$WALL
rm -f "$W/read.bin"
measure "${USBIP_ARGS[@]}" -a 0 -s 0x08000000:1048576 -U "$W/read.bin"
readout=$WALL
cmp -s "$W/read.bin" "$W/img1m-b.bin" || echo "WARNING: the read-out differs from the image"
line "1 MiB read-out, -U (s)" "$readout" "-" "reference"
line "unchanged image again, --skip-unchanged (s)" "$same" "<= $(calc "$readout * 1.05")" \
	"$(verdict "$same <= $readout * 1.05")"
