#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Device descriptions with errors: dfukit-emu --device ends with exit
# status 65 and one message that names the file and the key path (syntax
# errors: line and column); an unreadable file is 66. Unknown keys are
# errors, values are range-checked, hostile input (deep nesting, huge
# numbers, NUL bytes, huge sizes) is refused without a crash or a hang.
. "$(dirname "$0")/lib.sh"

# bad NAME STATUS REGEX < JSON: the description NAME.json gives STATUS and a
# message matching REGEX, which starts with the file name.
bad() {
	local name=$1 want=$2 re=$3
	cat >"$T/$name.json"
	timeout -k 5 10 "$EMU" --device "$T/$name.json" --listen "unix:$T/never.sock" >"$T/out" 2>"$T/err"
	local st=$?
	expect_eq "$name: exit status" "$st" "$want"
	expect_eq "$name: one line" "$(wc -l <"$T/err")" 1
	expect_match "$name: message" "$(cat "$T/err")" "^dfukit-emu: $T/$name\\.json$re"
	check "$name: not listening" test ! -e "$T/never.sock"
}

# A good description to start from (plain DFU, one 1 KiB alt setting).
ok='{"dfu_mode": {"device": {"vid": 1, "pid": 2}, "alts": [{"memory": [{"pages": 1, "page_size": 1024}]}]}}'
echo "$ok" >"$T/good.json"
timeout -k 5 10 "$EMU" --device "$T/good.json" --listen "unix:$T/x" 2>"$T/err" &
pid=$!
for i in $(seq 1 100); do grep -q 'listening' "$T/err" && break; sleep 0.05; done
expect_match "the base description is good" "$(cat "$T/err")" "^dfukit-emu: good listening on unix:$T/x\$"
kill "$pid"
wait "$pid"

bad syntax 65 ':2:22: JSON syntax error: ' <<'J'
{"name": "x",
 "protocol": "dfuse" "dfu_mode": {}}
J
bad truncated 65 ':2:1: JSON syntax error: unexpected end' <<'J'
{"name": "x", "dfu_mode": {
J
bad comment 65 ':1:1: JSON syntax error' <<'J'
// comments are not JSON
{}
J
bad not-object 65 ': expected a JSON object \(a device description\), not an array$' <<'J'
[1, 2, 3]
J
bad typo 65 ': unknown key "protocl" \(known here: format, name, ' <<'J'
{"protocl": "dfuse"}
J
bad nested-typo 65 ': dfu_mode\.functional: unknown key "lenght" \(known here: length, attributes, ' <<'J'
{"dfu_mode": {"device": {"vid": 1, "pid": 2}, "functional": {"lenght": 9}, "alts": []}}
J
bad pages 65 ': dfu_mode\.alts\[1\]\.memory\[0\]\.pages: expected an integer' <<'J'
{"protocol": "dfuse", "dfu_mode": {"device": {"vid": 1, "pid": 2}, "alts": [
  {"name": "@Flash /0x08000000/4*1Kg"},
  {"memory": [{"address": "0x20000000", "pages": "many", "page_size": 1024}]}]}}
J
bad vid-range 65 ': dfu_mode\.device\.vid: 65536 is out of range \(0 to 65535\)$' <<'J'
{"dfu_mode": {"device": {"vid": "0x10000", "pid": 2}, "alts": [{"memory": [{"pages": 1, "page_size": 1}]}]}}
J
bad negative 65 ': timing\.command_ms: -5 is out of range' <<'J'
{"dfu_mode": {"device": {"vid": 1, "pid": 2}, "alts": [{"memory": [{"pages": 1, "page_size": 1}]}]}, "timing": {"command_ms": -5}}
J
bad fraction 65 ': dfu_mode\.functional\.transfer_size: expected an integer, not a fractional number$' <<'J'
{"dfu_mode": {"device": {"vid": 1, "pid": 2}, "functional": {"transfer_size": 1.5}, "alts": [{"memory": [{"pages": 1, "page_size": 1}]}]}}
J
bad huge-number 65 ': dfu_mode\.device\.pid: .* is out of range' <<'J'
{"dfu_mode": {"device": {"vid": 1, "pid": 99999999999999999999999999}, "alts": [{"memory": [{"pages": 1, "page_size": 1}]}]}}
J
bad no-mode 65 ': dfu_mode: missing \(the device in DFU mode\)$' <<'J'
{"protocol": "dfu"}
J
bad no-vid 65 ': dfu_mode\.device: vid: missing$' <<'J'
{"dfu_mode": {"device": {"pid": 2}, "alts": [{"memory": [{"pages": 1, "page_size": 1}]}]}}
J
bad quirk 65 ': quirks\[1\]: unknown quirk "busy-nak" ' <<'J'
{"dfu_mode": {"device": {"vid": 1, "pid": 2}, "alts": [{"memory": [{"pages": 1, "page_size": 1}]}]}, "quirks": ["always-dnbusy", "busy-nak"]}
J
bad two-busy 65 ': quirks\[1\]: a second of busy-naks' <<'J'
{"dfu_mode": {"device": {"vid": 1, "pid": 2}, "alts": [{"memory": [{"pages": 1, "page_size": 1}]}]}, "quirks": ["busy-naks", "busy-answers-dnbusy"]}
J
bad fault 65 ': faults\[0\]: unknown fault kind .explode.' <<'J'
{"dfu_mode": {"device": {"vid": 1, "pid": 2}, "alts": [{"memory": [{"pages": 1, "page_size": 1}]}]}, "faults": ["explode@req=3"]}
J
bad too-big 65 ': dfu_mode\.alts\[0\]\.memory\[0\]: 300000 pages of 1024 bytes: more than 256 MiB$' <<'J'
{"dfu_mode": {"device": {"vid": 1, "pid": 2}, "alts": [{"memory": [{"pages": 300000, "page_size": 1024}]}]}}
J
bad past-4g 65 ': dfu_mode\.alts\[0\]\.memory\[0\]: ends past the 4 GiB address space$' <<'J'
{"protocol": "dfuse", "dfu_mode": {"device": {"vid": 1, "pid": 2}, "alts": [{"memory": [{"address": "0xFFFFF000", "pages": 2, "page_size": 4096}]}]}}
J
bad overlap 65 ': dfu_mode\.alts\[0\]\.memory\[1\]: overlaps segment 0$' <<'J'
{"protocol": "dfuse", "dfu_mode": {"device": {"vid": 1, "pid": 2}, "alts": [{"memory": [
  {"address": "0x08000000", "pages": 4, "page_size": 1024}, {"address": "0x08000800", "pages": 1, "page_size": 1024}]}]}}
J
bad bad-map 65 ': dfu_mode\.alts\[0\]\.memory: missing, and the name "@Flash /0x0800000G/4\*1Kg" is no memory map' <<'J'
{"protocol": "dfuse", "dfu_mode": {"device": {"vid": 1, "pid": 2}, "alts": [{"name": "@Flash /0x0800000G/4*1Kg"}]}}
J
bad past-end 65 ': dfu_mode\.alts\[0\]\.contents\.data\[0\]: 4 bytes at offset 1022: past the end of the 1024-byte memory$' <<'J'
{"dfu_mode": {"device": {"vid": 1, "pid": 2}, "alts": [{"memory": [{"pages": 1, "page_size": 1024}],
  "contents": {"data": [{"offset": 1022, "hex": "01 02 03 04"}]}}]}}
J
bad bad-hex 65 ': dfu_mode\.alts\[0\]\.contents\.data\[0\]\.hex: not hex digit pairs at character 4$' <<'J'
{"dfu_mode": {"device": {"vid": 1, "pid": 2}, "alts": [{"memory": [{"pages": 1, "page_size": 1024}],
  "contents": {"data": [{"hex": "01 0x2"}]}}]}}
J
bad bad-base64 65 ': dfu_mode\.alts\[0\]\.contents\.data\[0\]\.base64: not base64 at character 3$' <<'J'
{"dfu_mode": {"device": {"vid": 1, "pid": 2}, "alts": [{"memory": [{"pages": 1, "page_size": 1024}],
  "contents": {"data": [{"base64": "ab!d"}]}}]}}
J
bad no-file 65 ': dfu_mode\.alts\[0\]\.contents\.data\[0\]\.file: cannot read .*/missing\.bin: No such file' <<'J'
{"dfu_mode": {"device": {"vid": 1, "pid": 2}, "alts": [{"memory": [{"pages": 1, "page_size": 1024}],
  "contents": {"data": [{"file": "missing.bin"}]}}]}}
J
head -c 2000 /dev/zero >"$T/big.bin"
bad file-too-big 65 ': dfu_mode\.alts\[0\]\.contents\.data\[0\]\.file: cannot read .*/big\.bin: larger than 1024 bytes$' <<'J'
{"dfu_mode": {"device": {"vid": 1, "pid": 2}, "alts": [{"memory": [{"pages": 1, "page_size": 1024}],
  "contents": {"data": [{"file": "big.bin"}]}}]}}
J
bad bus-path 65 ': bus\.path: "1-1\.0" is not a USB port path' <<'J'
{"bus": {"path": "1-1.0"}, "dfu_mode": {"device": {"vid": 1, "pid": 2}, "alts": [{"memory": [{"pages": 1, "page_size": 1}]}]}}
J
bad runtime-mode 65 ': power_on: mode: "runtime" needs a "runtime" description$' <<'J'
{"power_on": {"mode": "runtime"}, "dfu_mode": {"device": {"vid": 1, "pid": 2}, "alts": [{"memory": [{"pages": 1, "page_size": 1}]}]}}
J
bad state 65 ': power_on\.state: "appIDLE" is not a DFU-mode state' <<'J'
{"power_on": {"state": "appIDLE"}, "dfu_mode": {"device": {"vid": 1, "pid": 2}, "alts": [{"memory": [{"pages": 1, "page_size": 1}]}]}}
J
bad rdp-plain 65 ': read_protection: only for protocol "dfuse"$' <<'J'
{"read_protection": {"alt": 0, "offset": 0}, "dfu_mode": {"device": {"vid": 1, "pid": 2}, "alts": [{"memory": [{"pages": 1, "page_size": 1}]}]}}
J
long=$(printf 'x%.0s' $(seq 1 127))
bad long-string 65 ': dfu_mode\.device\.product: longer than a string descriptor holds \(126 UTF-16 units\)$' <<J
{"dfu_mode": {"device": {"vid": 1, "pid": 2, "product": "$long"}, "alts": [{"memory": [{"pages": 1, "page_size": 1}]}]}}
J
bad func-length 65 ': dfu_mode\.functional\.length: 7 \(DFU 1\.0\) or 9, not 8$' <<'J'
{"dfu_mode": {"device": {"vid": 1, "pid": 2}, "functional": {"length": 8}, "alts": [{"memory": [{"pages": 1, "page_size": 1}]}]}}
J
bad extra 65 ': dfu_mode\.interfaces\[0\]\.descriptors: descriptor at byte 7 has bLength 9: not a chain of descriptors$' <<'J'
{"dfu_mode": {"device": {"vid": 1, "pid": 2}, "interfaces": [{"class": 10, "descriptors": "07 05 81 02 40 00 00 09 05"}],
  "alts": [{"memory": [{"pages": 1, "page_size": 1}]}]}}
J
deep=$(printf '[%.0s' $(seq 1 5000))
bad deep 65 ':1:[0-9]+: JSON syntax error: ' <<J
{"sources": $deep
J
printf '{"name": "a\0b"}' >"$T/nul.json"
timeout -k 5 10 "$EMU" --device "$T/nul.json" --listen "unix:$T/never.sock" 2>"$T/err"
expect_eq "NUL byte: exit status" "$?" 65
expect_match "NUL byte: message" "$(cat "$T/err")" "nul\\.json:1:12: a NUL byte"
cp "$T/good.json" "$T/my board.json"
timeout -k 5 10 "$EMU" --device "$T/my board.json" --listen "unix:$T/never.sock" 2>"$T/err"
expect_eq "no name, file name no device name: exit status" "$?" 65
expect_match "no name, file name no device name: message" "$(cat "$T/err")" 'name: missing, and the file name "my board" is no device name'

# A file that cannot be read: 66.
timeout -k 5 10 "$EMU" --device "$T/nonexistent.json" --listen "unix:$T/never.sock" 2>"$T/err"
expect_eq "missing file: exit status" "$?" 66
expect_match "missing file: message" "$(cat "$T/err")" "^dfukit-emu: $T/nonexistent\\.json: cannot read: No such file or directory\$"
timeout -k 5 10 "$EMU" --device "$T" --listen "unix:$T/never.sock" 2>"$T/err"
expect_eq "a directory: exit status" "$?" 66
# The first bad one of several stops the start.
timeout -k 5 10 "$EMU" --device "$T/good.json" --device "$T/typo.json" --listen "unix:$T/never.sock" 2>"$T/err"
expect_eq "second of two bad: exit status" "$?" 65
expect_match "second of two bad: message" "$(cat "$T/err")" 'typo\.json: unknown key'
check "nothing left listening" test ! -e "$T/never.sock"

finish
