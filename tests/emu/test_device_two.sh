#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# dfukit-emu --device A --device B: one server serves both descriptions,
# each at its own bus id (board-a at the port path its description gives,
# 3-2.1 device 17; board-b at the next free 1-N), with its own memory file,
# and `dfukit -l` (DFUKIT_USBIP and --usbip) lists both; --profile and
# --device mixed; bus position conflicts are usage errors.
. "$(dirname "$0")/lib.sh"
DEV="$(cd "$(dirname "$0")" && pwd)/devices"
DFUKIT="$BUILD/dfukit"
mkdir -p "$T/mem"

start_emu --device "$DEV/board-a.json" --device "$DEV/board-b.json" --memory "$T/mem"
expect_match "ready line names both devices" "$(cat "$T/emu.log")" "^dfukit-emu: board-a, board-b listening on $ADDR\$"

out=$(probe list)
expect_match "devlist of 2" "$out" '^status=0 devices=2$'
expect_match "board-a at 3-2.1, bus 3, device 17" "$out" \
	'^3-2\.1 path=/sys/devices/platform/dfukit-emu/usb3/3-2\.1 busnum=3 devnum=17 speed=2 id=1209:df1a bcd=0310 '
expect_match "board-b at 1-1, bus 1, device 2" "$out" \
	'^1-1 path=/sys/devices/platform/dfukit-emu/usb1/1-1 busnum=1 devnum=2 speed=2 id=1209:df1b bcd=0100 '

out=$(DFUKIT_USBIP="$ADDR" "$DFUKIT" -l 2>&1)
expect_eq "dfukit -l (DFUKIT_USBIP) exit status" "$?" 0
expect_match "lists board-a alt 0" "$out" \
	'^Found DFU: \[1209:df1a\] ver=0310, devnum=17, cfg=1, intf=0, path="3-2\.1", alt=0, name="@Internal Flash  /0x08000000/16\*001Ka,112\*001Kg", serial="UNKNOWN"$'
expect_match "lists board-a alt 1 (no name)" "$out" \
	'^Found DFU: \[1209:df1a\] ver=0310, devnum=17, cfg=1, intf=0, path="3-2\.1", alt=1, name="UNKNOWN"'
expect_match "lists board-b" "$out" \
	'^Found DFU: \[1209:df1b\] ver=0100, devnum=2, cfg=1, intf=0, path="1-1", alt=0, name="Application", '
expect_eq "three interfaces in all" "$(printf '%s\n' "$out" | grep -c '^Found DFU')" 3
out2=$("$DFUKIT" --usbip "$ADDR" -l 2>&1)
expect_eq "dfukit --usbip -l gives the same list" "$out2" "$out"

# Each device its own memory file, of its description's size: board-a
# 128 KiB flash + 4 KiB RAM, board-b 64 KiB.
expect_eq "board-a memory file" "$(stat -c %s "$T/mem/3-2.1.mem" 2>/dev/null)" 135168
expect_eq "board-b memory file" "$(stat -c %s "$T/mem/1-1.mem" 2>/dev/null)" 65536
stop_emu TERM
expect_eq "exit status on SIGTERM" "$EMU_STATUS" 0

# A built-in device and descriptions mixed, in command-line order: board-b
# takes 1-1, stm32f405 1-2, board-a keeps its path.
start_emu --device "$DEV/board-b.json" --profile stm32f405 --device "$DEV/board-a.json"
out=$(probe list)
expect_match "devlist of 3" "$out" '^status=0 devices=3$'
expect_match "board-b at 1-1" "$out" '^1-1 .*devnum=2 .*id=1209:df1b '
expect_match "stm32f405 at 1-2" "$out" '^1-2 .*devnum=3 .*id=0483:df11 '
expect_match "board-a at 3-2.1" "$out" '^3-2\.1 .*devnum=17 .*id=1209:df1a '
out=$("$DFUKIT" --usbip "$ADDR" -l 2>&1)
expect_eq "dfukit -l lists 1 + 4 + 2 alt settings" "$(printf '%s\n' "$out" | grep -c '^Found DFU')" 7
# A device selected by the port path of its description.
out=$("$DFUKIT" --usbip "$ADDR" -p 3-2.1 -a 0 -s 0x08004000:0x100 -U "$T/up.bin" 2>&1)
expect_eq "upload from -p 3-2.1 exit status" "$?" 0
check "upload from 3-2.1 read 256 bytes" test "$(stat -c %s "$T/up.bin")" = 256
stop_emu TERM

# Two descriptions at the same bus path, or one copied by --count while it
# fixes its bus position: usage errors.
"$EMU" --device "$DEV/board-a.json" --device "$DEV/board-a.json" --listen "unix:$T/x" 2>"$T/err"
expect_eq "same bus path twice: exit 64" "$?" 64
expect_match "same bus path twice: message" "$(cat "$T/err")" 'board-a and board-a are both at bus path 3-2\.1'
"$EMU" --device "$DEV/board-a.json" --count 2 --listen "unix:$T/x" 2>"$T/err"
expect_eq "--count with a fixed bus position: exit 64" "$?" 64
expect_match "--count with a fixed bus position: message" "$(cat "$T/err")" 'board-a fixes its bus position'
"$EMU" --device "$DEV/board-b.json" --profile dfu11 --count 2 --listen "unix:$T/x" 2>"$T/err"
expect_eq "--count with two devices: exit 64" "$?" 64
"$EMU" --device "$DEV/board-a.json" --device "$DEV/board-b.json" --memory "$T/one.mem" --listen "unix:$T/x" 2>"$T/err"
expect_eq "--memory FILE with two devices: exit 64" "$?" 64
expect_match "--memory FILE with two devices: message" "$(cat "$T/err")" 'must be an existing directory'

finish
