#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# The device model driven through dfukit-emu's socket: DfuSe write, read
# back and leave on stm32f405, --memory persistence across restarts, plain
# DFU 1.1 detach / download / manifestation / upload on dfu11, an illegal
# request, re-enumeration (devnum bump), and unlink of a URB the device
# never answers.
. "$(dirname "$0")/lib.sh"

GS='in a1 03 0000 0000 0006'
MEM="$T/f405.mem"

# --- stm32f405: comes up in dfuERROR/errFIRMWARE; erase, write, read ---
# The data starts with a stack pointer in SRAM (0x20001000), so that
# leaving to 0x08004000 starts an "application" (which has no USB).
start_emu --profile stm32f405 --memory "$MEM" --stats "$T/stats.json"
script="$GS
out 21 04 0000 0000
$GS
out 21 01 0000 0000 4100400008
$GS
$GS
out 21 01 0000 0000 2100400008
$GS
$GS
out 21 01 0002 0000 00100020445566778899aabbccddeeff
$GS
$GS
out 21 06 0000 0000
in a1 02 0002 0000 0010
out 21 01 0000 0000
$GS
out 21 06 0000 0000
out 21 01 0000 0000 2100400008
$GS
$GS
out 21 01 0000 0000
$GS
expect-eof"
out=$(run_script "$script")
mapfile -t l <<<"$out"
expect_match "f405 starts in dfuERROR/errFIRMWARE" "${l[1]}" '^status=0 len=6 data=0a0000000a00$'
expect_match "CLRSTATUS -> dfuIDLE" "${l[3]}" '^status=0 len=6 data=000000000200$'
expect_match "erase: dfuDNBUSY" "${l[5]}" '^status=0 len=6 data=00[0-9a-f]{6}0400$'
expect_match "erase: dfuDNLOAD-IDLE" "${l[6]}" '^status=0 len=6 data=000000000500$'
expect_match "write: dfuDNLOAD-IDLE" "${l[12]}" '^status=0 len=6 data=000000000500$'
expect_match "read back" "${l[14]}" '^status=0 len=16 data=00100020445566778899aabbccddeeff$'
expect_match "DNLOAD in dfuUPLOAD-IDLE stalls" "${l[15]}" '^status=-32 len=0$'
expect_match "... GETSTATUS still answers" "${l[16]}" '^status=0 len=6 data=[0-9a-f]{12}$'
expect_match "leave: the device drops off the bus" "${l[23]}" '^eof$'

out=$(probe list)
expect_match "after leave the F405 (no USB application) is gone" "$out" '^status=0 devices=0$'
out=$(probe import 1-1)
expect_match "import of a gone device refused" "$out" '^import status=4$'

for i in $(seq 1 100); do [ -s "$T/stats.json" ] && break; sleep 0.05; done
stats=$(cat "$T/stats.json" 2>/dev/null)
expect_match "stats DNLOAD count" "$stats" '"DNLOAD": *6[,}]'
expect_match "stats UPLOAD count" "$stats" '"UPLOAD": *1[,}]'
expect_match "stats bytes_up" "$stats" '"bytes_up": *16[,}]'
expect_match "stats erased_pages" "$stats" '"erased_pages": *1[,}]'
stop_emu TERM
expect_eq "exit status after leave + SIGTERM" "$EMU_STATUS" 0

# The memory file holds alt 0 (internal flash from 0x08000000) first.
check "memory file written" test -s "$MEM"
expect_eq "flash content in the memory file" "$(od -An -tx1 -j $((0x4000)) -N 16 "$MEM" | tr -d ' \n')" 00100020445566778899aabbccddeeff
expect_eq "erased rest of the page" "$(od -An -tx1 -j $((0x4010)) -N 4 "$MEM" | tr -d ' \n')" ffffffff
expect_eq "untouched page stays erased" "$(od -An -tx1 -j 0 -N 4 "$MEM" | tr -d ' \n')" ffffffff

# --- persistence: a restarted device still holds what was flashed ---
start_emu --profile stm32f405 --memory "$MEM"
out=$(run_script "out 21 04 0000 0000
out 21 01 0000 0000 2100400008
$GS
$GS
out 21 06 0000 0000
in a1 02 0002 0000 0010")
expect_match "read back after restart" "$(printf '%s\n' "$out" | tail -1)" '^status=0 len=16 data=00100020445566778899aabbccddeeff$'
stop_emu TERM

# --- dfu11: runtime mode, DETACH, then DFU mode after the bus reset ---
start_emu --profile dfu11
out=$(probe list)
expect_match "dfu11 starts in runtime mode" "$out" 'id=1209:df10'
out=$(run_script 'out 21 00 03e8 0000')
expect_match "DETACH accepted" "$(printf '%s\n' "$out" | tail -1)" '^status=0 len=0$'
# The host closing the connection is the USB reset that switches modes.
out=$(probe list)
expect_match "after DETACH + reset: DFU mode at a new address" "$out" 'devnum=3 speed=2 id=1209:df11'

data=$(head -c 1100 /dev/urandom | od -An -tx1 -v | tr -d ' \n')
script="out 21 01 0000 0000 ${data:0:2048}
$GS
out 21 01 0001 0000 ${data:2048}
$GS
out 21 01 0002 0000
$GS
$GS
$GS
in a1 02 0000 0000 0400
in a1 02 0001 0000 0400
out 21 06 0000 0000
out 21 01 0000 0000 00
in a1 02 0000 0000 0400
$GS
out 21 04 0000 0000
$GS"
out=$(run_script "$script")
mapfile -t l <<<"$out"
expect_match "block 0 -> dfuDNLOAD-IDLE" "${l[2]}" '^status=0 len=6 data=000000000500$'
expect_match "block 1 -> dfuDNLOAD-IDLE" "${l[4]}" '^status=0 len=6 data=000000000500$'
expect_match "manifestation ends in dfuIDLE" "${l[8]}" '^status=0 len=6 data=000000000200$'
up="${l[9]#*data=}${l[10]#*data=}"
expect_match "upload block 0 is full" "${l[9]}" '^status=0 len=1024 '
expect_match "upload ends short" "${l[10]}" '^status=0 len=76 '
expect_eq "uploaded = downloaded" "$up" "$data"
expect_match "DNLOAD in dfuIDLE after ABORT is accepted" "${l[12]}" '^status=0 len=1$'
expect_match "UPLOAD in dfuDNLOAD-IDLE stalls" "${l[13]}" '^status=-32 len=0'
expect_match "... dfuERROR" "${l[14]}" '^status=0 len=6 data=[0-9a-f]{8}0a00$'
expect_match "CLRSTATUS -> dfuIDLE" "${l[16]}" '^status=0 len=6 data=000000000200$'
stop_emu TERM

# --- vhci-hcd resets ports locally: usbcore's 64-byte device descriptor
# read after the reset stands for it, so DETACH + host reset work on the
# same connection too (usbcore sees the new descriptor and re-enumerates).
start_emu --profile dfu11
out=$(run_script 'in 80 06 0100 0000 0040
out 21 00 03e8 0000
in 80 06 0100 0000 0012
in 80 06 0100 0000 0040
in a1 03 0000 0000 0006')
mapfile -t l <<<"$out"
expect_match "runtime descriptor" "${l[1]}" '^status=0 len=18 data=[0-9a-f]{16}091210df'
expect_match "still runtime before the reset" "${l[3]}" '^status=0 len=18 data=[0-9a-f]{16}091210df'
expect_match "DFU mode after the reset probe" "${l[4]}" '^status=0 len=18 data=[0-9a-f]{16}091211df'
expect_match "DFU mode: dfuIDLE" "${l[5]}" '^status=0 len=6 data=000000000200$'
stop_emu TERM

# --- dfu11-will-detach: DETACH re-enumerates by itself ---
start_emu --profile dfu11-will-detach
out=$(run_script 'out 21 00 03e8 0000
expect-eof')
expect_match "will-detach: reply then disconnect" "$out" $'status=0 len=0\neof'
out=$(probe list)
expect_match "re-enumerated with a new devnum in DFU mode" "$out" 'devnum=3 speed=2 id=1209:df11'
stop_emu TERM

# --- a device that stops answering: unlink gets -ECONNRESET, never a reply ---
start_emu --profile stm32f405 --fault timeout@req=2
out=$(printf '%s\n' 'in 80 06 0100 0000 0012' 'send in 80 06 0100 0000 0012' 'sleep 300' 'unlink 2' 'recv' 'recv' |
	"$PROBE" -t 1000 "$ADDR" run 1-1)
expect_match "first transfer answered" "$out" '^status=0 len=18'
expect_match "pending URB unlinked" "$out" '^ret_unlink seq=3 status=-104$'
expect_nomatch "no RET_SUBMIT for the unlinked URB" "$out" 'ret_submit seq=2'
expect_match "nothing after the unlink" "$(printf '%s\n' "$out" | tail -1)" '^timeout$'
out=$(probe list)
expect_match "server alive after the stuck host left" "$out" '^status=0 devices=1$'
stop_emu TERM

finish
