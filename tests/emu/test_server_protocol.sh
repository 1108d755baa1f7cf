#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# dfukit-emu's USB/IP server over a Unix socket: device list and import
# format, descriptors and stalls through URBs, endpoints other than 0,
# unlink, survival of malformed streams, statistics on disconnect and on
# SIGTERM.
. "$(dirname "$0")/lib.sh"

start_emu --profile stm32f405 --stats "$T/stats.json"

# --- OP_REQ_DEVLIST ---
out=$(probe list)
expect_match "devlist count" "$out" '^status=0 devices=1$'
expect_match "devlist device" "$out" '^1-1 path=/sys/devices/platform/dfukit-emu/usb1/1-1 busnum=1 devnum=2 speed=2 id=0483:df11 bcd=2200 class=00/00/00 config=1 nconfigs=1 ninterfaces=1$'
expect_match "devlist interface" "$out" '^  interface 0: fe/01/02$'
expect_match "devlist closes" "$out" '^closed$'

# --- OP_REQ_IMPORT of an unknown busid ---
out=$(probe import 2-1)
expect_eq "import of a wrong busid exits 1" "$?" 1
expect_match "import of a wrong busid" "$out" '^import status=4$'

# --- control transfers after import ---
script='in 80 06 0100 0000 0012
in 80 06 0100 0000 0008
in 80 06 0200 0000 00ff
in 80 06 0300 0000 00ff
in 80 0c 0000 0000 0002
in c0 55 0000 0000 0004
xfer 1 1 40 0000000000000000
xfer 2 0 4 0000000000000000 01020304
xfer 0 1 10 8006000100001200
in 80 06 0100 0000 0012
send in 80 06 0100 0000 0012
recv
unlink 11
recv'
out=$(run_script "$script")
lines=()
while IFS= read -r l; do lines+=("$l"); done <<<"$out"
expect_match "import reply" "${lines[0]}" '^import status=0 1-1 path=/sys/devices/platform/dfukit-emu/usb1/1-1 busnum=1 devnum=2 speed=2 id=0483:df11 bcd=2200 '
expect_match "device descriptor" "${lines[1]}" '^status=0 len=18 data=1201[0-9a-f]{4}[0-9a-f]{8}830411df0022[0-9a-f]{8}$'
expect_match "short device descriptor" "${lines[2]}" '^status=0 len=8 data=1201'
expect_match "configuration descriptor" "${lines[3]}" '^status=0 len=[0-9]+ data=0902'
expect_match "LANGID table" "${lines[4]}" '^status=0 len=4 data=04030904$'
expect_match "SYNCH_FRAME stalls" "${lines[5]}" '^status=-32 len=0'
expect_match "vendor request stalls" "${lines[6]}" '^status=-32 len=0'
expect_match "IN on ep1 stalls" "${lines[7]}" '^status=-32 len=0'
expect_match "OUT on ep2 stalls" "${lines[8]}" '^status=-32 len=0'
expect_match "length mismatch stalls" "${lines[9]}" '^status=-32 len=0'
expect_match "stream still in sync after ep2 data" "${lines[10]}" '^status=0 len=18 data=1201'
expect_match "async submit" "${lines[11]}" '^seq=11$'
expect_match "async reply" "${lines[12]}" '^ret_submit seq=11 status=0 len=18 data=1201'
expect_match "unlink sent" "${lines[13]}" '^unlink seq=12$'
expect_match "unlink of a completed URB" "${lines[14]}" '^ret_unlink seq=12 status=0$'

# The host went away: statistics written (atomically) with every control
# URB that reached the device: 8 on ep0 above (the mismatched one is
# stalled by the server itself, ep1/ep2 have no device behind them).
for i in $(seq 1 100); do [ -s "$T/stats.json" ] && break; sleep 0.05; done
check "stats after disconnect" test -s "$T/stats.json"
stats=$(cat "$T/stats.json" 2>/dev/null)
expect_match "stats control_transfers" "$stats" '"control_transfers": *8[,}[:space:]]'
expect_match "stats GET_DESCRIPTOR" "$stats" '"GET_DESCRIPTOR": *6[,}[:space:]]'
check "no temp file left" test -z "$(ls "$T" | grep stats.json.tmp)"

# --- a malformed stream closes only its own connection ---
# urb CMD SEQ DIR EP TBL SETUP16: a 48-byte URB header in hex.
urb() {
	printf '%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%s' "$1" "$2" 65538 "$3" "$4" 0 "$5" 0 0 0 "$6"
}
garbage=(
	"0112800500000000"                          # version mismatch
	"0111800900000000"                          # unknown OP code
	"0111800300000000"                          # truncated import, then EOF
	"$(urb 9 1 0 0 0 0000000000000000)"         # unknown command
	"$(urb 3 1 0 0 0 0000000000000000)"         # a RET_SUBMIT sent to the device
	"$(urb 1 1 0 0 2147483648 2101000000000000)" # negative length
	"$(urb 1 1 0 0 65536 2101000000000000)"     # ep0 OUT longer than wLength can be
	"$(urb 1 1 5 0 0 8006000100001200)"         # bad direction
	"ff*1000"
	"00*47"
)
for g in "${garbage[@]}"; do
	out=$("$PROBE" -t 1000 "$ADDR" raw "$g")
	expect_nomatch "garbage $g answered" "$out" 'reply=[0-9a-f]'
	out=$(probe list)
	expect_match "server alive after $g" "$out" '^status=0 devices=1$'
done
check "server still running" kill -0 "$EMU_PID"
expect_match "malformed streams logged" "$(cat "$T/emu.log")" 'malformed USB/IP stream'

# Random bytes in many shapes.
for i in $(seq 1 20); do
	hex=$(head -c $((RANDOM % 300 + 1)) /dev/urandom | od -An -tx1 | tr -d ' \n')
	"$PROBE" -t 300 "$ADDR" raw "$hex" >/dev/null
done
out=$(probe list)
expect_match "server alive after random input" "$out" '^status=0 devices=1$'

# A host that vanishes in the middle of an OUT payload.
busid=$(printf '312d31%058d' 0)
"$PROBE" -t 300 "$ADDR" raw "0111800300000000$busid$(urb 1 1 0 0 8 2101000000000800)aabb" >/dev/null
out=$(run_script 'in 80 06 0100 0000 0012')
expect_match "import after a half-sent URB" "$out" 'status=0 len=18 data=1201'

# --- while a host holds the import: device lists answered, imports busy ---
printf '%s\n' 'in 80 06 0100 0000 0012' 'sleep 1500' 'in 80 06 0100 0000 0012' |
	probe run 1-1 >"$T/held.out" &
held=$!
for i in $(seq 1 100); do grep -q 'data=1201' "$T/held.out" && break; sleep 0.05; done
expect_match "holder imported" "$(cat "$T/held.out")" 'status=0 len=18 data=1201'
out=$("$PROBE" -t 1000 "$ADDR" list)
expect_eq "devlist while imported exits 0" "$?" 0
expect_match "devlist while imported" "$out" '^status=0 devices=1$'
expect_match "devlist while imported lists 1-1" "$out" '^1-1 .*id=0483:df11'
expect_match "devlist while imported closes" "$out" '^closed$'
out=$("$PROBE" -t 1000 "$ADDR" import 1-1)
expect_eq "second import exits 1" "$?" 1
expect_match "second import refused busy" "$out" '^import status=2$'
wait "$held"
expect_eq "holder unaffected exits 0" "$?" 0
expect_eq "holder got both replies" "$(grep -c 'status=0 len=18 data=1201' "$T/held.out")" 2
out=$(probe import 1-1)
expect_match "import free again after the holder left" "$out" '^import status=0 1-1'

# --- SIGTERM: clean exit, statistics rewritten, socket removed ---
rm -f "$T/stats.json"
stop_emu TERM
expect_eq "exit status on SIGTERM" "$EMU_STATUS" 0
check "stats at exit" test -s "$T/stats.json"
expect_match "stats at exit content" "$(cat "$T/stats.json" 2>/dev/null)" '"control_transfers": *[0-9]+'
check "unix socket removed" test ! -e "$SOCK"

finish
