# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Item 8: PlatformIO's STM32 DFU upload passes the literal
# "-d vid:pid,0x0483:0xDF11". dfu-util 0.11 takes the unparsable run-time
# IDs as any and flashes; so must dfukit (and its dfu-util persona), with a
# warning naming what it took as any.
. "$(dirname "$0")/../flash/lib.sh" "$1"

rand_file "$TMP/firmware.bin" 3000

fresh_emu stm32f405
expect 0 -d vid:pid,0x0483:0xDF11 -a 0 -s 0x08000000 -D "$TMP/firmware.bin"
grep_out 'File downloaded successfully'
grep_err 'warning: .*vid:pid,0x0483:0xDF11.*vendor ID "vid".*product ID "pid".*taken as any'
mem_check 0x08000000 "$TMP/firmware.bin"

# The same through the dfu-util name, as PlatformIO runs it (with leave).
ln -s "$(readlink -f "$DFUKIT")" "$TMP/dfu-util"
app_file "$TMP/firmware2.bin" 2000
fresh_emu stm32f405
"$TMP/dfu-util" -d vid:pid,0x0483:0xDF11 -a 0 -s 0x08000000:leave -D "$TMP/firmware2.bin" \
	>"$TMP/out" 2>"$TMP/err"
rc=$?
[ "$rc" = 0 ] || fail "dfu-util persona exited $rc: $(head -c 400 "$TMP/err")"
grep_err 'taken as any'
mem_check 0x08000000 "$TMP/firmware2.bin"

# Leading blanks and 0X prefixes: accepted without a warning.
fresh_emu stm32f405
expect 0 -d ' 0X0483: 0xdf11' -l
grep_out '^Found DFU: \[0483:df11\]'
no_err 'warning'

# The wildcard is a wildcard only for the unparsable part: a DFU-mode pair
# that names another device still selects nothing.
expect 74 -d vid:pid,0x1234:0x5678 -a 0 -s 0x08000000 -D "$TMP/firmware.bin"
# --json: the warning is an event, stdout stays JSON.
expect 0 -d vid:pid,0x0483:0xDF11 -l --json
grep -v '^{.*}$' "$TMP/out" && fail "--json printed a non-JSON line"
grep -q 'taken as any' "$TMP/out" "$TMP/err" || fail "--json: the warning is missing"

finish
