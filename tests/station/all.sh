# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Issue 14, many devices in one run: --all flashes every matching device at
# once (one thread, context and transport each), --jobs caps how many, the
# output names each device, a summary counts them and a failed device fails
# the run without stopping the others. Against one dfukit-emu serving N
# devices (--count N, one memory file each in a directory).
. "$(dirname "$0")/../flash/lib.sh" "$1"

# emu_n N [ARGS...]: a fresh server of N STM32F405 devices, busids 1-1..1-N.
emu_n() {
	local n=$1
	shift
	MEM="$TMP/mem"
	rm -rf "$MEM"
	mkdir "$MEM"
	start_emu stm32f405 --count "$n" "$@"
}

# holds BUSID FILE: the device's memory holds FILE at 0x08000000.
holds() {
	cmp -s -n "$(stat -c %s "$2")" "$MEM/$1.mem" "$2"
}

t_eight_devices() {
	app_file "$TMP/img.bin" 65536
	emu_n 8
	expect 0 --all -a 0 -s 0x08000000 -D "$TMP/img.bin"
	local i
	for i in 1 2 3 4 5 6 7 8; do
		holds "1-$i" "$TMP/img.bin" || fail "device 1-$i does not hold the image"
		grep -q "^\[1-$i\] passed: 65536 bytes, verified$" "$TMP/out" ||
			fail "no verified result line for 1-$i: $(grep -F "[1-$i]" "$TMP/out" | tail -2)"
	done
	grep_out '^8 devices, 8 at a time$'
	grep_out '^Summary: 8 passed, 0 failed \(of 8 devices\)$'
	# Every line a device's thread printed says whose it is.
	grep -v -E '^\[1-[1-8]\] |^$|^dfukit |^8 devices|^Summary' "$TMP/out" "$TMP/err" &&
		fail "lines without a device"
	# They ran at the same time: each device's first progress line comes
	# before any device's last one.
	local first_done last_start
	first_done=$(grep -n -E '^\[1-[1-8]\] verify: done' "$TMP/err" | head -1 | cut -d: -f1)
	last_start=$(grep -n -E '^\[1-[1-8]\] upload: |^\[1-[1-8]\] erase: [0-9]' "$TMP/err" | tail -1 | cut -d: -f1)
	[ -n "$first_done" ] && [ -n "$last_start" ] && [ "$last_start" -lt "$first_done" ] ||
		fail "the devices were flashed one after another (first done at line $first_done, last start at $last_start)"
}

t_one_fails() {
	app_file "$TMP/img.bin" 65536
	emu_n 8 --fault 1-5:status=errWRITE@dnblock=3
	expect 76 --all -a 0 -s 0x08000000 -D "$TMP/img.bin"
	local i
	for i in 1 2 3 4 6 7 8; do
		holds "1-$i" "$TMP/img.bin" || fail "device 1-$i does not hold the image"
	done
	holds 1-5 "$TMP/img.bin" && fail "the failed device holds the image"
	grep_out '^Summary: 7 passed, 1 failed \(of 8 devices\)$'
	grep_out '^  FAILED \[1-5\]: .*errWRITE'
	grep_err '^\[1-5\] FAILED: .*errWRITE'
	grep_err '^dfukit: 1 of 8 devices failed \(path "1-5"\); the first: .*errWRITE'
}

t_jobs_cap() {
	app_file "$TMP/img.bin" 16384
	emu_n 4
	expect 0 --all --jobs 2 -a 0 -s 0x08000000 -D "$TMP/img.bin"
	grep_out '^4 devices, 2 at a time$'
	grep_out '^Summary: 4 passed, 0 failed'
	local i
	for i in 1 2 3 4; do
		holds "1-$i" "$TMP/img.bin" || fail "device 1-$i does not hold the image"
	done
	# --jobs 1: one after another, each device's work whole.
	expect 0 --all --jobs 1 -a 0 -s 0x08000000 -D "$TMP/img.bin" --skip-unchanged
	grep_out '^4 devices, 1 at a time$'
	local order
	order=$(grep -oE '^\[1-[1-4]\]' "$TMP/err" | uniq | wc -l)
	[ "$order" -eq 4 ] || fail "--jobs 1 interleaved the devices ($order runs of lines)"
	expect 64 --all --jobs 0 -a 0 -s 0x08000000 -D "$TMP/img.bin"
	grep_err -- '--jobs'
}

t_json_names_devices() {
	app_file "$TMP/img.bin" 16384
	emu_n 3 --fault 1-2:status=errWRITE@dnblock=0
	expect 76 --all --json -a 0 -s 0x08000000 -D "$TMP/img.bin"
	# Every progress event carries its device.
	grep -q '"event":"progress"' "$TMP/out" || fail "no progress events"
	grep '"event":"progress"' "$TMP/out" | grep -v -q -E '"device":"1-[1-3]"\}$' &&
		fail "a progress event without its device"
	[ "$(grep -c -E '^\{"event":"result","result":"ok",.*"verified":true,"device":"1-[13]"\}$' "$TMP/out")" -eq 2 ] ||
		fail "not two ok results: $(grep '"event":"result"' "$TMP/out")"
	grep_out '^\{"event":"result","result":"error","exit":76,.*"code":"PROTOCOL".*"device":"1-2"\}$'
	grep_out '^\{"result":"error","exit":76,.*"passed":2,"failed":1,"failed_devices":\["1-2"\]\}$'
	# Still one JSON object a line.
	if command -v python3 >/dev/null; then
		python3 -c 'import json,sys
for l in open(sys.argv[1]): json.loads(l)' "$TMP/out" || fail "a line is not JSON"
	fi
}

t_terminal_rows() {
	command -v script >/dev/null || { fail "script(1) (util-linux) is missing"; return; }
	app_file "$TMP/img.bin" 16384
	emu_n 3
	script -qec "'$DFUKIT' --all -a 0 -s 0x08000000 -D '$TMP/img.bin'" /dev/null >"$TMP/tty" 2>&1 </dev/null ||
		fail "dfukit on a terminal failed: $(tail -c 400 "$TMP/tty")"
	# The rows are redrawn in place (cursor up three lines) ...
	grep -q $'\033\[3A' "$TMP/tty" || fail "no rows redrawn in place"
	# ... and end with one row per device saying how it went.
	local i
	for i in 1 2 3; do
		grep -a -q -E $'\033\\[K1-'"$i"' +passed: 16384 bytes, verified' "$TMP/tty" ||
			fail "no final row for 1-$i"
	done
	grep -a -q 'Summary: 3 passed, 0 failed' "$TMP/tty" || fail "no summary"
	# No line of the devices' prefixed form: on a terminal they are rows.
	grep -a -q -E '^\[1-[1-3]\] ' "$TMP/tty" && fail "prefixed lines on a terminal"
	return 0
}

t_trace_names_devices() {
	app_file "$TMP/img.bin" 16384
	emu_n 2
	expect 0 --all -a 0 -s 0x08000000 -D "$TMP/img.bin" --trace "$TMP/trace.txt"
	grep -q -E '^\[1-1\] usb +[0-9.]+ OUT 21 01 0002 0000 0800 DFU_DNLOAD' "$TMP/trace.txt" || fail "no 1-1 lines"
	grep -q -E '^\[1-2\] usb +[0-9.]+ OUT 21 01 0002 0000 0800 DFU_DNLOAD' "$TMP/trace.txt" || fail "no 1-2 lines"
	# Lines whole: each is a device's, the search's before the threads, or
	# nothing else.
	grep -v -E '^(\[1-[12]\] )?usb +[0-9]+\.[0-9]{3} ' "$TMP/trace.txt" && fail "a broken trace line"
	return 0
}

t_signal_cancels_all() {
	app_file "$TMP/img.bin" 262144
	emu_n 4 --timing real
	interrupt '^\[1-[1-4]\] download: [0-9]+ bytes from' INT --all -a 0 -s 0x08000000 -D "$TMP/img.bin"
	[ "$RC" -eq 130 ] || fail "exit $RC after SIGINT, expected 130: $(tail -3 "$TMP/err")"
	grep_out '^Summary: 0 passed, 4 failed'
	[ "$(grep -c -E '^\[1-[1-4]\] FAILED: .*cancel' "$TMP/err")" -eq 4 ] ||
		fail "not every device was cancelled: $(grep FAILED "$TMP/err")"
}

t_path_two_processes() {
	# -p touches only its device, so two dfukit processes flash two
	# devices of one server at the same time.
	rand_file "$TMP/a.bin" 65536
	rand_file "$TMP/b.bin" 65536
	emu_n 2 --timing real
	"$DFUKIT" -p 1-1 -a 0 -s 0x08000000 -D "$TMP/a.bin" >"$TMP/a.out" 2>&1 &
	local pa=$!
	"$DFUKIT" -p 1-2 -a 0 -s 0x08000000 -D "$TMP/b.bin" >"$TMP/b.out" 2>&1 &
	local pb=$!
	wait "$pa" || fail "-p 1-1 failed: $(tail -3 "$TMP/a.out")"
	wait "$pb" || fail "-p 1-2 failed: $(tail -3 "$TMP/b.out")"
	holds 1-1 "$TMP/a.bin" || fail "1-1 does not hold a.bin"
	holds 1-2 "$TMP/b.bin" || fail "1-2 does not hold b.bin"
	grep -q 'skipped' "$TMP/a.out" "$TMP/b.out" && fail "a device was skipped: $(grep skipped "$TMP/a.out" "$TMP/b.out")"
	return 0
}

run_scenarios "${@:2}"
