#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Serial numbers of described devices: absent (iSerialNumber 0, no string
# 3, dfukit -l says UNKNOWN), raw descriptor bytes (sent exactly as given),
# text; --serial replaces any of them; --count copies get SERIAL-N, and
# copies of a device without a serial get none.
. "$(dirname "$0")/lib.sh"
DEV="$(cd "$(dirname "$0")" && pwd)/devices"
DFUKIT="$BUILD/dfukit"

# utf16 TEXT: a string descriptor's bytes in hex.
utf16() {
	printf '%02x03%s' $((2 + 2 * ${#1})) "$(printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n' | sed 's/\(..\)/\100/g')"
}

start_emu --device "$DEV/board-a.json" --device "$DEV/board-b.json" --stats "$T/stats.json"
# board-a: no serial.
out=$(printf '%s\n' 'in 80 06 0100 0000 0012' 'in 80 06 0303 0409 00ff' | probe run 3-2.1)
dd=$(printf '%s\n' "$out" | sed -n 's/^status=0 len=18 data=//p')
expect_eq "board-a: iSerialNumber is 0" "${dd:32:2}" 00
expect_eq "board-a: iProduct is 2" "${dd:30:2}" 02
expect_match "board-a: string 3 stalls" "$(printf '%s\n' "$out" | tail -1)" '^status=-32 len=0'
# board-b: the raw bytes, as given (ASCII in a string descriptor).
out=$(printf '%s\n' 'in 80 06 0100 0000 0012' 'in 80 06 0303 0409 00ff' 'in 80 06 0303 0409 0004' | probe run 1-1)
dd=$(printf '%s\n' "$out" | sed -n 's/^status=0 len=18 data=//p')
expect_eq "board-b: iSerialNumber is 3" "${dd:32:2}" 03
expect_match "board-b: raw serial bytes" "$out" '^status=0 len=10 data=0a0342422d3030303700$'
expect_match "board-b: raw serial cut to wLength" "$(printf '%s\n' "$out" | tail -1)" '^status=0 len=4 data=0a034242$'
out=$("$DFUKIT" --usbip "$ADDR" -l 2>&1)
expect_match "dfukit -l: board-a without a serial" "$out" 'path="3-2\.1", alt=0, .*serial="UNKNOWN"$'
expect_match "dfukit -l: board-b lists a serial" "$out" 'path="1-1", alt=0, .*serial="'
stop_emu TERM
python3 - "$T/stats.json" <<'PY' || fail "statistics: serial null for board-a"
import json, sys
st = json.load(open(sys.argv[1]))["devices"]
assert st["3-2.1"]["serial"] is None, st["3-2.1"]
assert st["3-2.1"]["profile"] == "board-a"
assert st["1-1"]["profile"] == "board-b"
PY

# --serial gives both devices a text serial (S-1, S-2).
start_emu --device "$DEV/board-a.json" --device "$DEV/board-b.json" --serial XY
expect_match "--serial on board-a (first device)" \
	"$(printf '%s\n' 'in 80 06 0303 0409 00ff' | probe run 3-2.1 | tail -1)" "^status=0 len=10 data=$(utf16 XY-1)\$"
expect_match "--serial on board-b (second device)" \
	"$(printf '%s\n' 'in 80 06 0303 0409 00ff' | probe run 1-1 | tail -1)" "^status=0 len=10 data=$(utf16 XY-2)\$"
stop_emu TERM

# Copies: a text serial gets -N, none stays none.
start_emu --device "$DEV/composite.json" --count 2
expect_match "copy 2 of composite: COMPOSITE-1-2" \
	"$(printf '%s\n' 'in 80 06 0303 0409 00ff' | probe run 1-2 | tail -1)" "^status=0 len=28 data=$(utf16 COMPOSITE-1-2)\$"
stop_emu TERM
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
del d["bus"]
json.dump(d, sys.stdout)' "$DEV/board-a.json" >"$T/nobus.json"
cp "$DEV/board-a-boot.bin" "$T/"
start_emu --device "$T/nobus.json" --count 2
out=$(printf '%s\n' 'in 80 06 0100 0000 0012' | probe run 1-2 | tail -1)
dd=${out#*data=}
expect_eq "copy 2 of a device without serial: iSerialNumber 0" "${dd:32:2}" 00
stop_emu TERM
finish
