#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# One dfukit-emu serving several devices (--count N): the USB/IP device list
# of 8 devices with their busids and addresses, distinct serials, two
# imports held at once on two connections while a third import of a held
# device is refused busy, a fault injected into one device only, and
# per-device statistics.
. "$(dirname "$0")/lib.sh" "$1"

t_shared_server() {
	start_emu --profile stm32f405 --count 8 --fault 1-3:stall@req=1 --stats "$T/stats.json"

	out=$(probe list)
	expect_match "devlist of 8" "$out" '^status=0 devices=8$'
	for i in 1 2 3 4 5 6 7 8; do
		expect_match "devlist lists 1-$i" "$out" "^1-$i path=/sys/devices/platform/dfukit-emu/usb1/1-$i busnum=1 devnum=$((i + 1)) speed=2 id=0483:df11 "
	done
	expect_eq "one interface line per device" "$(printf '%s\n' "$out" | grep -c '^  interface 0: fe/01/02$')" 8

	# Serial strings (index 3 on the F405): the profile's with -N appended.
	# serial_of BUSID: the string descriptor's UTF-16LE text as ASCII.
	serial_of() {
		printf '%s\n' 'in 80 06 0303 0409 00ff' | probe run "$1" | tail -1 |
			python3 -c 'import sys; print(bytes.fromhex(sys.stdin.read().split("data=")[1].strip())[2:].decode("utf-16-le"))'
	}
	s2=$(serial_of 1-2)
	s7=$(serial_of 1-7)
	expect_eq "serial of 1-2" "$s2" "3276346C3034-2"
	expect_eq "serial of 1-7" "$s7" "3276346C3034-7"

	# Two hosts hold 1-2 and 1-5 at the same time; each gets its replies while
	# the other holds its import.
	printf '%s\n' 'in 80 06 0100 0000 0012' 'sleep 1500' 'in a1 03 0000 0000 0006' | probe run 1-2 >"$T/h2.out" &
	h2=$!
	printf '%s\n' 'in 80 06 0100 0000 0012' 'sleep 1500' 'in a1 03 0000 0000 0006' | probe run 1-5 >"$T/h5.out" &
	h5=$!
	for i in $(seq 1 100); do
		grep -q 'data=1201' "$T/h2.out" && grep -q 'data=1201' "$T/h5.out" && break
		sleep 0.05
	done
	expect_match "1-2 imported" "$(head -1 "$T/h2.out")" '^import status=0 1-2 .*devnum=3 '
	expect_match "1-5 imported" "$(head -1 "$T/h5.out")" '^import status=0 1-5 .*devnum=6 '
	out=$("$PROBE" -t 1000 "$ADDR" import 1-2)
	expect_eq "second import of a held device exits 1" "$?" 1
	expect_match "second import of a held device is busy" "$out" '^import status=2$'
	out=$("$PROBE" -t 1000 "$ADDR" list)
	expect_match "devlist while two devices are held" "$out" '^status=0 devices=8$'
	out=$(printf '%s\n' 'in 80 06 0100 0000 0012' | probe run 1-8)
	expect_match "a third device imported meanwhile" "$out" 'status=0 len=18 data=1201'
	wait "$h2"
	expect_eq "host of 1-2 exits 0" "$?" 0
	wait "$h5"
	expect_eq "host of 1-5 exits 0" "$?" 0
	expect_match "1-2: GETSTATUS after the wait" "$(tail -1 "$T/h2.out")" '^status=0 len=6 data=0a0000000a00$'
	expect_match "1-5: GETSTATUS after the wait" "$(tail -1 "$T/h5.out")" '^status=0 len=6 data=0a0000000a00$'

	# The fault of 1-3 only: its first request stalls, 1-4's does not.
	out=$(printf '%s\n' 'in 80 06 0100 0000 0012' | probe run 1-3)
	expect_match "1-3: first request stalls (its fault)" "$(printf '%s\n' "$out" | tail -1)" '^status=-32 len=0'
	out=$(printf '%s\n' 'in 80 06 0100 0000 0012' | probe run 1-4)
	expect_match "1-4: first request answered (no fault)" "$(printf '%s\n' "$out" | tail -1)" '^status=0 len=18 data=1201'

	# Statistics: one object per busid.
	for i in $(seq 1 100); do grep -q '"1-4"' "$T/stats.json" 2>/dev/null && break; sleep 0.05; done
	python3 - "$T/stats.json" <<'PY' || fail "per-device statistics"
import json, sys
st = json.load(open(sys.argv[1]))["devices"]
assert sorted(st) == ["1-%d" % i for i in range(1, 9)], sorted(st)
assert st["1-2"]["control_transfers"] == 3, st["1-2"]  # serial string, descriptor, GETSTATUS
assert st["1-2"]["requests"]["GETSTATUS"] == 1
assert st["1-5"]["control_transfers"] == 2, st["1-5"]
assert st["1-3"]["stalls"] == 1 and st["1-4"]["stalls"] == 0
assert st["1-6"]["control_transfers"] == 0
assert st["1-7"]["serial"] == "3276346C3034-7"
for d in st.values():
    assert "GETSTATUS" not in d, "request counts at device level"
PY

	stop_emu TERM
	expect_eq "exit status on SIGTERM" "$EMU_STATUS" 0
}

# --fault for a busid that does not exist, --memory FILE with --count 2.
t_usage_errors() {
	"$EMU" --profile dfu11 --count 2 --fault 1-3:stall@req=1 --listen "unix:$T/x" 2>"$T/err"
	expect_eq "fault for a missing busid: exit 64" "$?" 64
	expect_match "fault for a missing busid: message" "$(cat "$T/err")" 'no device with that busid'
	"$EMU" --profile dfu11 --count 2 --memory "$T/one.mem" --listen "unix:$T/x" 2>"$T/err"
	expect_eq "--memory FILE with --count 2: exit 64" "$?" 64
	expect_match "--memory FILE with --count 2: message" "$(cat "$T/err")" 'must be an existing directory'
}

run_scenarios "${@:2}"
