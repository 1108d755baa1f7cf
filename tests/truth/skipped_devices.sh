# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Item 4: a device the USB/IP server reports busy (imported by another
# client) or whose descriptors are broken (a DFU functional descriptor with
# bLength 255) does not vanish without a word from -l and from selection:
# one warning names it and says why it is skipped.
. "$(dirname "$0")/../flash/lib.sh" "$1"

# Broken descriptors.
fresh_emu stm32f405 --fault desc=func-badlen
expect 0 -l
grep_err 'warning: USB/IP device 1-1 \(0483:df11\) skipped: .*descriptor.*bLength 255'
[ "$(grep -c 'skipped' "$TMP/err")" = 1 ] || fail "broken descriptors: not exactly one line: $(cat "$TMP/err")"
rand_file "$TMP/fw.bin" 1000
expect 74 -a 0 -s 0x08000000 -D "$TMP/fw.bin"
grep_err 'USB/IP device 1-1 \(0483:df11\) skipped'
grep_err 'no DFU capable USB device found'
# --json: the warning is an event.
expect 0 -l --json
grep -v '^{.*}$' "$TMP/out" && fail "--json printed a non-JSON line"
grep -q 'skipped' "$TMP/out" "$TMP/err" || fail "--json: the warning is missing"

# Busy: another client holds the device (a slow download in the background).
fresh_emu stm32f405 --fault slow=100@dnblock=1
rand_file "$TMP/big.bin" 100000
"$DFUKIT" -a 0 -s 0x08000000 -D "$TMP/big.bin" >"$TMP/bg.out" 2>"$TMP/bg.err" &
bg=$!
wait_line "$TMP/bg.err" '^download: ' || true
expect 0 -l
grep_err 'warning: USB/IP device 1-1 \(0483:df11\) skipped: .*busy'
expect 74 -a 0 -s 0x08000000:16 -U "$TMP/u.bin"
grep_err 'skipped: .*busy'
# Waiting (-w looks at the device list every 20 ms) says it once, not
# once per look.
expect 74 -w --wait-timeout 1 -d ,1234:5678 -a 0 -s 0x08000000:16 -U "$TMP/u.bin"
grep_err 'no matching DFU device appeared within 1 s'
n=$(grep -c 'skipped' "$TMP/err")
[ "$n" = 1 ] || fail "-w with a busy device: $n skipped lines, expected 1"
kill -INT "$bg"
wait "$bg"

# A healthy device: no such line.
fresh_emu stm32f405
expect 0 -l
no_err 'skipped'
grep_out '^Found DFU: \[0483:df11\]'

finish
