# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Item 1: after -s ADDR:leave dfukit watches the bus (--leave-watch) and
# says only what it saw. The emu's ROM starts the image when the start
# address holds a vector table whose stack pointer is in SRAM, and resets
# into DFU mode otherwise.
. "$(dirname "$0")/../flash/lib.sh" "$1"

# A vector table: SP 0x20010000, reset handler 0x08000101.
printf '\x00\x00\x01\x20\x01\x01\x00\x08' >"$TMP/good.bin"
head -c 1000 /dev/urandom >>"$TMP/good.bin"
# No vector table (erased flash words).
printf '\xff\xff\xff\xff\xff\xff\xff\xff' >"$TMP/bad.bin"
head -c 1000 /dev/urandom >>"$TMP/bad.bin"

# 1. No vector table: the device comes straight back in DFU mode (same
# port, same serial): a failure with the hint, never "runs the new firmware".
fresh_emu stm32f405
expect 76 -a 0 -s 0x08000000:leave -D "$TMP/bad.bin"
grep_err 'came back in DFU mode after leave'
grep_err '0x08000000.*vector table'
no_out 'runs the new firmware'
mem_check 0x08000000 "$TMP/bad.bin"
# The same with the dfuse command form (-s ADDR:leave alone).
expect 76 -a 0 -s 0x08000000:leave
grep_err 'came back in DFU mode after leave'
no_out 'runs the new firmware'
# --json: the failure is the result.
expect 76 -a 0 -s 0x08000000:leave --json
grep_out '"result":"error"'
grep_out 'vector table'

# 2. A valid image on a device whose application has no DFU interface: it
# leaves the bus and does not come back. Only that is said; exit 0.
fresh_emu stm32f405
run -a 0 -s 0x08000000:leave -D "$TMP/good.bin" --leave-watch 1
[ "$RC" = 0 ] || fail "valid image, device gone: exit $RC: $(cat "$TMP/err")"
grep_out 'left the bus and did not come back within 1 s'
no_out 'runs the new firmware'

# 3. A valid image on a device whose application has a DFU run-time
# interface: confirmed.
fresh_emu stm32f103-flash-loader
expect 0 -a 0 -s 0x08003000:leave -D "$TMP/good.bin"
grep_out 'Left DFU mode: the device runs the new firmware'
expect 0 -l
grep_out '^Found Runtime: \[0483:5740\]'

# 4. --leave-watch 0: not watched, nothing claimed.
fresh_emu stm32f405
expect 0 -a 0 -s 0x08000000:leave -D "$TMP/bad.bin" --leave-watch 0
grep_out 'not watched'
no_out 'runs the new firmware'
expect 64 -l --leave-watch x

# The watch is bounded: a device that is gone costs about --leave-watch.
fresh_emu stm32f405
start=$(date +%s)
expect 0 -a 0 -s 0x08000000:leave -D "$TMP/good.bin" --leave-watch 2
took=$(($(date +%s) - start))
[ "$took" -le 6 ] || fail "--leave-watch 2 took $took s"

finish
