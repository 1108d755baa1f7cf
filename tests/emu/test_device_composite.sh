#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# A composite device described in JSON (tests/emu/devices/composite.json):
# in run-time mode a CDC ACM port (interfaces 0 and 1) and the DFU run-time
# interface (2); in DFU mode a CDC data interface (0) and DFU (1) with two
# alt settings and a functional descriptor after each. The configuration
# and the USB/IP interface list say so, requests reach the DFU interface
# by its number, and dfukit detaches it, downloads with verify and uploads.
. "$(dirname "$0")/lib.sh"
DEV="$(cd "$(dirname "$0")" && pwd)/devices"
DFUKIT="$BUILD/dfukit"

start_emu --device "$DEV/composite.json"

out=$(probe list)
expect_match "run-time: class EF/02/01, three interfaces" "$out" '^1-1 .*id=1209:df1c bcd=0200 class=ef/02/01 config=1 nconfigs=1 ninterfaces=3$'
expect_match "interface 0 CDC control" "$out" '^  interface 0: 02/02/01$'
expect_match "interface 1 CDC data" "$out" '^  interface 1: 0a/00/00$'
expect_match "interface 2 DFU run-time" "$out" '^  interface 2: fe/01/01$'

# The run-time configuration, byte for byte: the CDC interfaces with their
# class and endpoint descriptors (string indexes 5 and 6), then DFU at 2
# (string 4) and its functional descriptor.
cfg=$(echo '09 02 5500 03 01 00 c0 32' \
	'09 04 00 00 01 02 02 01 05  05 24 00 1001  05 24 01 00 01  04 24 02 02  05 24 06 00 01  07 05 81 03 0800 10' \
	'09 04 01 00 02 0a 00 00 06  07 05 82 02 4000 00  07 05 02 02 4000 00' \
	'09 04 02 00 00 fe 01 01 04  09 21 0f e803 0004 1001' | tr -d ' ')
out=$(run_script 'in 80 06 0200 0000 00ff')
expect_eq "run-time configuration" "$(printf '%s\n' "$out" | tail -1)" "status=0 len=85 data=$cfg"
out=$(printf '%s\n' 'in 80 06 0305 0409 00ff' 'in 80 06 0304 0409 00ff' 'in a1 03 0000 0002 0006' \
	'in a1 03 0000 0000 0006' 'in 81 0a 0000 0001 0001' 'out 01 0b 0001 0001' | probe run 1-1)
expect_match "string 5: CDC control" "$out" "^status=0 len=24 data=$(printf 'CDC control' | od -An -tx1 -v | tr -d ' \n' | sed 's/\(..\)/\100/g;s/^/1803/')\$"
expect_match "string 4: DFU runtime" "$out" "^status=0 len=24 data=1803$(printf 'DFU runtime' | od -An -tx1 -v | tr -d ' \n' | sed 's/\(..\)/\100/g')\$"
expect_match "GETSTATUS to interface 2 answered (appIDLE)" "$out" '^status=0 len=6 data=000000000000$'
expect_match "GETSTATUS to interface 0 stalls" "$out" '^status=-32 len=0 data=$'
expect_match "GET_INTERFACE of interface 1: alt 0" "$out" '^status=0 len=1 data=00$'
expect_match "SET_INTERFACE alt 1 of interface 1 stalls" "$(printf '%s\n' "$out" | tail -1)" '^status=-32 len=0'

# dfukit -l, then a download through the detach.
out=$("$DFUKIT" --usbip "$ADDR" -l 2>&1)
expect_match "dfukit -l: run-time interface 2" "$out" \
	'^Found Runtime: \[1209:df1c\] ver=0200, devnum=2, cfg=1, intf=2, path="1-1", alt=0, name="DFU runtime", serial="COMPOSITE-1"$'
head -c 50000 /dev/urandom >"$T/fw.bin"
out=$("$DFUKIT" --usbip "$ADDR" -a 0 -D "$T/fw.bin" 2>&1)
expect_eq "download through the detach exits 0" "$?" 0
expect_match "download verified" "$out" 'verified'
expect_match "opened the DFU interface 1 of the DFU mode" "$out" 'Opening DFU mode interface: \[1209:df1d\] path="1-1" cfg=1 intf=1 alt=0 name="Firmware"'

out=$("$DFUKIT" --usbip "$ADDR" -l 2>&1)
expect_match "dfukit -l: DFU mode, interface 1, alt 1" "$out" \
	'^Found DFU: \[1209:df1d\] ver=0200, devnum=3, cfg=1, intf=1, path="1-1", alt=1, name="Settings", serial="COMPOSITE-1"$'
out=$("$DFUKIT" --usbip "$ADDR" -a 0 -U "$T/up.bin" -Z 50000 2>&1)
expect_eq "upload exits 0" "$?" 0
check "upload gives the image back" cmp -s "$T/up.bin" "$T/fw.bin"

# The DFU-mode configuration: CDC data at 0 (string 6 = 4 + 2 alts), DFU
# at 1, the functional descriptor after each alt setting (placement).
out=$(run_script 'in 80 06 0200 0000 00ff')
cfg=$(echo '09 02 4400 02 01 00 c0 32' \
	'09 04 00 00 02 0a 00 00 06  07 05 82 02 4000 00  07 05 02 02 4000 00' \
	'09 04 01 00 00 fe 01 02 04  09 21 0f e803 0004 1001' \
	'09 04 01 01 00 fe 01 02 05  09 21 0f e803 0004 1001' | tr -d ' ')
expect_eq "DFU-mode configuration" "$(printf '%s\n' "$out" | tail -1)" "status=0 len=68 data=$cfg"
out=$(probe list)
expect_match "DFU mode: two interfaces" "$out" '^1-1 .*id=1209:df1d bcd=0200 class=ef/02/01 config=1 nconfigs=1 ninterfaces=2$'
expect_match "DFU mode: interface 1 is DFU" "$out" '^  interface 1: fe/01/02$'

stop_emu TERM
expect_eq "exit status on SIGTERM" "$EMU_STATUS" 0
finish
