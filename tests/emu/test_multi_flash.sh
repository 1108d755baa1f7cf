#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# dfukit flashing two devices of one dfukit-emu --count 2, each chosen by
# its USB/IP busid (-p/--path), each device with its own memory file
# (--memory DIR: DIR/1-1.mem, DIR/1-2.mem): 1-2 while another host holds
# 1-1, then 1-1; the files survive a restart.
# (Two dfukit processes flashing two devices of one server at the same
# time: tests/station/all.sh, path_two_processes.)
. "$(dirname "$0")/lib.sh"
DFUKIT="$BUILD/dfukit"
MEMDIR="$T/mem"
mkdir -p "$MEMDIR"
head -c 40000 /dev/urandom >"$T/fw1.bin"
head -c 30000 /dev/urandom >"$T/fw2.bin"

# mem_has BUSID ADDR FILE: the device's memory file holds FILE at flash
# address ADDR (alt 0, internal flash from 0x08000000, comes first).
mem_has() {
	cmp -s -i "$(($2 - 0x08000000)):0" -n "$(stat -c %s "$3")" "$MEMDIR/$1.mem" "$3"
}
mem_lacks() {
	! mem_has "$@"
}

start_emu --profile stm32f405 --count 2 --memory "$MEMDIR"
check "one memory file per device" test -s "$MEMDIR/1-1.mem" -a -s "$MEMDIR/1-2.mem"

# Another host holds 1-1 while dfukit flashes 1-2.
printf '%s\n' 'in 80 06 0100 0000 0012' 'sleep 4000' 'in 80 06 0100 0000 0012' | probe run 1-1 >"$T/held.out" &
held=$!
for i in $(seq 1 100); do grep -q 'data=1201' "$T/held.out" && break; sleep 0.05; done
"$DFUKIT" --usbip "$ADDR" -p 1-2 -a 0 -s 0x08020000 -D "$T/fw2.bin" >"$T/o2" 2>&1
rc=$?
expect_eq "flash 1-2 while 1-1 is held elsewhere exits 0" "$rc" 0
[ "$rc" = 0 ] || cat "$T/o2" >&2
check "the holder of 1-1 was still running" kill -0 "$held"
wait "$held"
expect_eq "the holder of 1-1 got both replies" "$(grep -c 'status=0 len=18 data=1201' "$T/held.out")" 2
"$DFUKIT" --usbip "$ADDR" -p 1-1 -a 0 -s 0x08004000 -D "$T/fw1.bin" >"$T/o1" 2>&1
rc=$?
expect_eq "flash 1-1 exits 0" "$rc" 0
[ "$rc" = 0 ] || cat "$T/o1" >&2
check "1-1 memory holds fw1" mem_has 1-1 0x08004000 "$T/fw1.bin"
check "1-2 memory holds fw2" mem_has 1-2 0x08020000 "$T/fw2.bin"
check "1-1 memory does not hold fw2" mem_lacks 1-1 0x08020000 "$T/fw2.bin"
check "1-2 memory does not hold fw1" mem_lacks 1-2 0x08004000 "$T/fw1.bin"

# The same image into 1-2 as well, selected with --path.
"$DFUKIT" --usbip "$ADDR" --path 1-2 -a 0 -s 0x08004000 -D "$T/fw1.bin" >"$T/o3" 2>&1
expect_eq "flash 1-2 (sequential) exits 0" "$?" 0
check "1-2 memory holds fw1 too" mem_has 1-2 0x08004000 "$T/fw1.bin"
check "1-2 memory still holds fw2" mem_has 1-2 0x08020000 "$T/fw2.bin"
out=$("$DFUKIT" --usbip "$ADDR" -l 2>&1)
expect_match "both listed, path 1-1" "$out" 'path="1-1".*serial="3276346C3034-1"'
expect_match "both listed, path 1-2" "$out" 'path="1-2".*serial="3276346C3034-2"'
stop_emu TERM
expect_eq "exit status on SIGTERM" "$EMU_STATUS" 0

# A restarted server finds each device's memory again.
start_emu --profile stm32f405 --count 2 --memory "$MEMDIR"
"$DFUKIT" --usbip "$ADDR" -p 1-1 -a 0 -s 0x08004000:40000 -U "$T/up1.bin" >"$T/o4" 2>&1
expect_eq "upload from 1-1 exits 0" "$?" 0
check "1-1 after restart reads fw1" cmp -s "$T/up1.bin" "$T/fw1.bin"
stop_emu TERM

finish
