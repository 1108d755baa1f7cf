#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Flashing devices described in JSON with the real dfukit over USB/IP:
# download with verify, upload, the initial contents (a file, hex, base64,
# a fill byte), the rights of the real memory layout, a layout that differs
# from the advertised map (a page erase clears what the chip erases, not
# what the map says), and the USB bus time of --timing real (a read-back is
# not free).
. "$(dirname "$0")/lib.sh"
DEV="$(cd "$(dirname "$0")" && pwd)/devices"
DFUKIT="$BUILD/dfukit"
mkdir -p "$T/mem"
head -c 30000 /dev/urandom >"$T/fw.bin"

start_emu --device "$DEV/board-a.json" --device "$DEV/board-b.json" --memory "$T/mem"

# board-a (DfuSe): the initial contents, read back.
out=$("$DFUKIT" --usbip "$ADDR" -p 3-2.1 -a 0 -s 0x08000000:0x4000 -U "$T/a0.bin" 2>&1)
expect_eq "board-a: upload of the boot area exits 0" "$?" 0
check "board-a: boot block from the description's file at 0x08000000" \
	cmp -s -n "$(stat -c %s "$DEV/board-a-boot.bin")" "$T/a0.bin" "$DEV/board-a-boot.bin"
expect_eq "board-a: hex marker at 0x08003FF0, fill 0xFF after it" \
	"$(od -An -tx1 -j $((0x3FF0)) -N 16 "$T/a0.bin" | tr -d ' \n')" deadbeef01020304ffffffffffffffff
# Its RAM alt setting has no name, so no map a tool could go by: read it
# with DfuSe requests (select alt 1, set the address, upload 16 bytes).
out=$(printf '%s\n' 'out 01 0b 0001 0000' 'out 21 01 0000 0000 2100000020' 'in a1 03 0000 0000 0006' \
	'in a1 03 0000 0000 0006' 'out 21 06 0000 0000' 'in a1 02 0002 0000 0010' | probe run 3-2.1)
expect_match "board-a: RAM: base64 'ram!' then fill 0x00" "$(printf '%s\n' "$out" | tail -1)" \
	'^status=0 len=16 data=72616d21000000000000000000000000$'

# board-a: download with verify after the read-only boot area, upload.
out=$("$DFUKIT" --usbip "$ADDR" -p 3-2.1 -a 0 -s 0x08004000 -D "$T/fw.bin" 2>&1)
expect_eq "board-a: download exits 0" "$?" 0
expect_match "board-a: download verified" "$out" 'Download done: 30000 bytes, verified'
out=$("$DFUKIT" --usbip "$ADDR" -p 3-2.1 -a 0 -s 0x08004000:30000 -U "$T/a2.bin" 2>&1)
expect_eq "board-a: upload exits 0" "$?" 0
check "board-a: upload gives the image back" cmp -s "$T/a2.bin" "$T/fw.bin"
check "board-a: the memory file holds it at 0x4000" cmp -s -i $((0x4000)):0 -n 30000 "$T/mem/3-2.1.mem" "$T/fw.bin"
# The first 16 KiB are read-only ('a'): a download there fails.
out=$("$DFUKIT" --usbip "$ADDR" -p 3-2.1 -a 0 -s 0x08000000 -D "$T/fw.bin" 2>&1)
check "board-a: a download into the read-only area fails" test "$?" -ne 0
out=$("$DFUKIT" --usbip "$ADDR" -p 3-2.1 -a 0 -s 0x08000000:0x4000 -U "$T/a3.bin" 2>&1)
check "board-a: the read-only area is unchanged" cmp -s "$T/a3.bin" "$T/a0.bin"

# board-b (plain DFU 1.0, 7-byte functional descriptor): download, upload.
out=$("$DFUKIT" --usbip "$ADDR" -p 1-1 -a 0 -D "$T/fw.bin" 2>&1)
expect_eq "board-b: download exits 0" "$?" 0
expect_match "board-b: download verified" "$out" 'verified'
out=$("$DFUKIT" --usbip "$ADDR" -p 1-1 -a 0 -U "$T/b.bin" -Z 30000 2>&1)
expect_eq "board-b: upload exits 0" "$?" 0
check "board-b: upload gives the image back" cmp -s "$T/b.bin" "$T/fw.bin"
check "board-b: the memory file holds it" cmp -s -n 30000 "$T/mem/1-1.mem" "$T/fw.bin"
out=$(printf '%s\n' 'in 81 06 2100 0000 0009' | probe run 1-1)
expect_match "board-b: a 7-byte functional descriptor (DFU 1.0)" "$(printf '%s\n' "$out" | tail -1)" \
	'^status=0 len=7 data=072107e8030002$'
stop_emu TERM
expect_eq "exit status on SIGTERM" "$EMU_STATUS" 0

# A loader whose map lies: it advertises 2 KiB pages, the flash has 1 KiB
# pages (as the GD32VF103 "version A" ROM does). A page erase at 0x08000000
# clears 1 KiB; the old contents of the next KiB stay.
cat >"$T/lies.json" <<'J'
{"name": "lies", "protocol": "dfuse",
 "dfu_mode": {"device": {"vid": "0x28e9", "pid": "0x0189"},
   "functional": {"attributes": "0x0B", "transfer_size": 2048, "dfu_version": "0x011A"},
   "alts": [{"name": "@Internal Flash  /0x08000000/8*002Kg",
             "memory": [{"address": "0x08000000", "pages": 16, "page_size": 1024}],
             "contents": {"fill": "0x11"}}]},
 "quirks": ["always-dnbusy"]}
J
start_emu --device "$T/lies.json"
out=$(printf '%s\n' 'out 21 01 0000 0000 4100000008' 'in a1 03 0000 0000 0006' 'in a1 03 0000 0000 0006' \
	'out 21 01 0000 0000 2100000008' 'in a1 03 0000 0000 0006' 'in a1 03 0000 0000 0006' \
	'out 21 06 0000 0000' 'in a1 02 0002 0000 0800' | probe run 1-1)
data=$(printf '%s\n' "$out" | tail -1 | sed -n 's/^status=0 len=2048 data=//p')
expect_eq "advertised 2 KiB page: the first KiB erased" "${data:0:2048}" "$(printf 'ff%.0s' $(seq 1 1024))"
expect_eq "advertised 2 KiB page: the second KiB still old" "${data:2048:2048}" "$(printf '11%.0s' $(seq 1 1024))"
out=$("$DFUKIT" --usbip "$ADDR" -l 2>&1)
expect_match "dfukit -l shows the advertised map" "$out" 'name="@Internal Flash  /0x08000000/8\*002Kg"'
stop_emu TERM

# USB bus time (--timing real): 1 ms a transfer and 20 us a byte make an
# upload of 64 KiB take at least 1.3 s; without it (board-b) it is quick.
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
d["name"] = "slowbus"
d["timing"]["usb_transfer_us"] = 1000
d["timing"]["usb_ns_per_byte"] = 20000
json.dump(d, sys.stdout)' "$DEV/board-b.json" >"$T/slowbus.json"
start_emu --device "$T/slowbus.json" --timing real
t0=$(date +%s%N)
out=$("$DFUKIT" --usbip "$ADDR" -a 0 -U "$T/s.bin" 2>&1)
rc=$?
t1=$(date +%s%N)
expect_eq "slow bus: upload exits 0" "$rc" 0
expect_eq "slow bus: 64 KiB read" "$(stat -c %s "$T/s.bin")" 65536
ms=$(((t1 - t0) / 1000000))
check "slow bus: the upload took $ms ms, at least 1300" test "$ms" -ge 1300
stop_emu TERM
start_emu --device "$DEV/board-b.json" --timing real
t0=$(date +%s%N)
"$DFUKIT" --usbip "$ADDR" -a 0 -U "$T/f.bin" >/dev/null 2>&1
t1=$(date +%s%N)
fast=$(((t1 - t0) / 1000000))
check "no bus time: the same upload took $fast ms, less than the slow bus's $ms" test "$fast" -lt "$ms"
stop_emu TERM
finish
