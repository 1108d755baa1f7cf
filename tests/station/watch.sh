# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Issue 14, watch mode: dfukit --watch waits for devices and runs the job
# once on each new one, with running counters, until --count N are done or
# a signal. The devices come on the bus one after another (dfukit-emu
# --arrive MS); a device that re-enumerates after its job (leave into a
# firmware with a DFU run-time interface, on the same port) is not new.
. "$(dirname "$0")/../flash/lib.sh" "$1"

# emu_arrive PROFILE N MS [ARGS...]: N devices, device k on the bus after
# (k-1)*MS ms; memories in $MEM/1-k.mem.
emu_arrive() {
	local profile=$1 n=$2 ms=$3
	shift 3
	MEM="$TMP/mem"
	rm -rf "$MEM"
	mkdir "$MEM"
	start_emu "$profile" --count "$n" --arrive "$ms" "$@"
}

holds() {
	cmp -s -i "$(($2 - 0x08000000)):0" -n "$(stat -c %s "$3")" "$MEM/$1.mem" "$3"
}

t_count_four() {
	app_file "$TMP/img.bin" 20000
	emu_arrive stm32f405 4 600
	expect 0 --watch --count 4 -a 0 -s 0x08000000 -D "$TMP/img.bin"
	local i
	for i in 1 2 3 4; do
		holds "1-$i" 0x08000000 "$TMP/img.bin" || fail "device 1-$i does not hold the image"
		[ "$(grep -c "^New device at path \"1-$i\"" "$TMP/out")" -eq 1 ] || fail "1-$i not started exactly once"
	done
	# One after another, as they came: 1-1 done before 1-4 was there.
	local done1 new4
	done1=$(grep -n '^\[1-1\] passed' "$TMP/out" | cut -d: -f1)
	new4=$(grep -n '^New device at path "1-4"' "$TMP/out" | cut -d: -f1)
	[ -n "$done1" ] && [ -n "$new4" ] && [ "$done1" -lt "$new4" ] || fail "1-4 was not waited for"
	grep_out '^Done: 4 passed, 0 failed, 0 running$'
	grep_out '^Summary: 4 passed, 0 failed \(of 4 devices\)$'
	# Each device was written once: erased pages and DNLOADs of one job.
	stop_emu
	local pages
	pages=$(grep -o '"erased_pages": *[0-9]*' "$STATS" | grep -o '[0-9]*$' | sort -u)
	[ "$pages" = 2 ] || fail "erased pages per device: $pages (expected 2 each)"
}

t_leave_reenumerates_not_new() {
	# The loader's leave starts an application with a DFU run-time
	# interface on the same port and with the same serial: done, not new.
	printf '\x00\x50\x00\x20\x01\x31\x00\x08' >"$TMP/app.bin"
	head -c 5000 /dev/urandom >>"$TMP/app.bin"
	emu_arrive stm32f103-flash-loader 2 300
	"$DFUKIT" --watch -a 0 -s 0x08003000:leave -D "$TMP/app.bin" >"$TMP/out" 2>"$TMP/err" &
	local pid=$!
	wait_line "$TMP/out" '^Done: 2 passed' || fail "not both flashed: $(tail -5 "$TMP/out" "$TMP/err")"
	# Several more looks at the bus, with both applications running.
	sleep 1.5
	kill -INT "$pid"
	local rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ] || fail "exit $rc after SIGINT with every job done, expected 0: $(tail -3 "$TMP/err")"
	[ "$(grep -c '^New device' "$TMP/out")" -eq 2 ] || fail "started again: $(grep '^New device' "$TMP/out")"
	grep_out '^Summary: 2 passed, 0 failed'
	"$DFUKIT" -l >"$TMP/list" 2>&1
	[ "$(grep -c 'Found Runtime: \[0483:5740\]' "$TMP/list")" -eq 2 ] || fail "the applications do not run"
}

t_failure_counted() {
	app_file "$TMP/img.bin" 20000
	emu_arrive stm32f405 3 300 --fault 1-2:status=errWRITE@dnblock=1
	expect 76 --watch --count 3 -a 0 -s 0x08000000 -D "$TMP/img.bin"
	grep_out '^Summary: 2 passed, 1 failed \(of 3 devices\)$'
	grep_out '^  FAILED \[1-2\]: .*errWRITE'
	grep_err '^dfukit: 1 of 3 devices failed; the first \(1-2\): .*errWRITE'
	holds 1-1 0x08000000 "$TMP/img.bin" || fail "1-1 not flashed"
	holds 1-3 0x08000000 "$TMP/img.bin" || fail "1-3 not flashed"
}

t_signal_during_job() {
	app_file "$TMP/img.bin" 262144
	emu_arrive stm32f405 1 1 --timing real
	interrupt '^\[1-1\] download: [0-9]+ bytes from' TERM --watch -a 0 -s 0x08000000 -D "$TMP/img.bin"
	[ "$RC" -eq 143 ] || fail "exit $RC after SIGTERM during a job, expected 143: $(tail -3 "$TMP/err")"
	grep_err '^\[1-1\] FAILED: .*cancel'
	grep_out '^Summary: 0 passed, 1 failed'
}

t_usage() {
	expect 64 --count 2 -a 0 -D /dev/null
	grep_err -- '--count needs --watch'
	expect 64 --watch --all -a 0 -D /dev/null
	grep_err -- '--watch cannot be used with'
	expect 64 --watch -l
	expect 64 --watch --count 0 -a 0 -D /dev/null
	# A wrong server address fails at once instead of waiting forever.
	app_file "$TMP/img.bin" 1024
	expect 74 --usbip "unix:$TMP/nobody.sock" --watch -a 0 -s 0x08000000 -D "$TMP/img.bin"
	grep_err 'nobody.sock'
}

run_scenarios "${@:2}"
