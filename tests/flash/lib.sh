# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Helpers for the flashing tests: dfukit against dfukit-emu over USB/IP on a
# unix socket in a temporary directory. The emulator is always killed by
# the EXIT trap.
. "$(dirname "${BASH_SOURCE[0]}")/../cli/lib.sh" "$1"
EMU="$BUILD/dfukit-emu"
EMU_PID=
SOCK="$TMP/emu.sock"
MEM="$TMP/mem.bin"
STATS="$TMP/stats.json"

stop_emu() {
	if [ -n "$EMU_PID" ]; then
		kill "$EMU_PID" 2>/dev/null
		wait "$EMU_PID" 2>/dev/null
		EMU_PID=
	fi
}
trap 'stop_emu; cleanup_tmp' EXIT

# start_emu PROFILE [EMU ARGS...]: a fresh device (unless the memory file
# $MEM exists already: flash survives a restart). Sets DFUKIT_USBIP.
# PROFILE is a built-in name, or a description file (a path ending .json).
start_emu() {
	local profile=$1 which=--profile
	shift
	case "$profile" in *.json) which=--device ;; esac
	stop_emu
	# A fresh log: the child truncates it only after fork, and the old one
	# says "listening" too.
	rm -f "$SOCK" "$STATS" "$TMP/emu.log"
	"$EMU" "$which" "$profile" --listen "unix:$SOCK" --memory "$MEM" --stats "$STATS" "$@" \
		>"$TMP/emu.log" 2>&1 &
	EMU_PID=$!
	# Ready when it says so (the socket file alone may not be listening yet).
	local i
	for i in $(seq 1 3000); do
		grep -q 'listening on' "$TMP/emu.log" && break
		if ! kill -0 "$EMU_PID" 2>/dev/null; then
			echo "dfukit-emu --profile $profile did not start:" >&2
			cat "$TMP/emu.log" >&2
			exit 1
		fi
		sleep 0.01
	done
	grep -q "listening on" "$TMP/emu.log" || { echo "dfukit-emu --profile $profile $*: not listening:" >&2; cat "$TMP/emu.log" >&2; exit 1; }
	export DFUKIT_USBIP="unix:$SOCK"
}

# fresh_emu PROFILE [ARGS]: erased memories.
fresh_emu() {
	stop_emu
	rm -f "$MEM"
	start_emu "$@"
}

# stat_value NAME: a number from the last --stats JSON object.
stat_value() {
	grep -o "\"$1\": *[0-9]*" "$STATS" | tail -1 | grep -o '[0-9]*$'
}

# dev_read ALT ADDR LEN OUT: reads device memory with dfukit -U (DfuSe).
dev_read() {
	rm -f "$4"
	"$DFUKIT" -a "$1" -s "$2:$3" -U "$4" --no-verify >"$TMP/read.out" 2>"$TMP/read.err" ||
		fail "reading $3 bytes at $2 (alt $1) failed: $(cat "$TMP/read.err")"
}

# mem_check ADDR FILE [BASE]: the device's --memory file holds FILE at ADDR.
# The file is the emulator's memories in alt-setting order; alt 0 (the
# flash) comes first and starts at BASE (default 0x08000000, the STM32
# flash; 0 for the plain DFU profiles). It is mmap()ed shared by the
# emulator, so it can be read while the device runs. Checked directly,
# not through dfukit, so a tool bug cannot hide itself.
mem_check() {
	local addr=$1 file=$2 base=${3:-0x08000000}
	local len off
	len=$(stat -c %s "$file")
	off=$((addr - base))
	cmp -s -i "$off:0" -n "$len" "$MEM" "$file" || fail "device memory at $addr differs from $file"
}

# mem_erased ADDR LEN [BASE]: the memory file holds 0xFF there.
mem_erased() {
	local addr=$1 len=$2 base=${3:-0x08000000}
	head -c "$len" /dev/zero | tr '\0' '\377' >"$TMP/ff.bin"
	cmp -s -i "$((addr - base)):0" -n "$len" "$MEM" "$TMP/ff.bin" || fail "device memory at $addr is not erased"
}

# wait_line FILE REGEX: waits up to 10 s for a line of FILE that matches
# the extended REGEX (a background job's progress, say); 1 if none came.
wait_line() {
	local i
	for i in $(seq 1 200); do
		grep -q -E "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# interrupt REGEX SIGNAL ARGS...: runs dfukit ARGS in the background
# (output in $TMP/out and $TMP/err) and sends it SIGNAL once a line of its
# stderr matches REGEX; $RC gets its exit status.
interrupt() {
	local regex=$1 sig=$2
	shift 2
	"$DFUKIT" "$@" >"$TMP/out" 2>"$TMP/err" &
	local pid=$!
	wait_line "$TMP/err" "$regex" || fail "no line /$regex/ came: $(tail -3 "$TMP/err")"
	kill -"$sig" "$pid"
	RC=0
	wait "$pid" || RC=$?
}

# rand_file PATH SIZE: deterministic pseudo-random bytes.
rand_file() {
	head -c "$2" /dev/urandom >"$1"
}

# app_file PATH SIZE: an application image that a DfuSe leave can start:
# a vector table (initial stack pointer 0x20010000 in SRAM, reset handler
# 0x08000101), then random bytes. The emulated ROM resets into DFU mode
# when the start address holds no such table, and dfukit then fails.
app_file() {
	printf '\x00\x00\x01\x20\x01\x01\x00\x08' >"$1"
	head -c "$(($2 - 8))" /dev/urandom >>"$1"
}
