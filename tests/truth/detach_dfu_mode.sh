# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Item 9: -e on a device already in DFU mode. dfu-util 0.11 sends DETACH,
# warns when the device refuses it and exits 0; without -a it works on the
# alt its list puts first (the last in descriptor order).
. "$(dirname "$0")/../flash/lib.sh" "$1"

rand_file "$TMP/fw.bin" 3000

# dfu11: run-time first; -e brings it to DFU mode (alts 0 "Flash", 1 "EEPROM").
fresh_emu dfu11
expect 0 -e
expect 0 -w --wait-timeout 10 -l -d ,1209:df11
grep_out '^Found DFU: \[1209:df11\]'

# Now in DFU mode: the device stalls DETACH. A warning, exit 0.
expect 0 -e
grep_err 'warning: .*already in DFU mode.*refused DETACH'
grep_out 'alt=1 name="EEPROM"'
no_out 'DETACH sent'
# -a picks the alt as before.
expect 0 -e -a 0
grep_out 'alt=0 name="Flash"'
grep_err 'refused DETACH'
# The refused request left the device usable (dfuIDLE): a download works
# and is read back.
expect 0 -a 0 -D "$TMP/fw.bin"
grep_out 'File downloaded successfully'
mem_check 0 "$TMP/fw.bin" 0
# The dfu-util name behaves the same.
ln -s "$(readlink -f "$DFUKIT")" "$TMP/dfu-util"
"$TMP/dfu-util" -e >"$TMP/out" 2>"$TMP/err"
rc=$?
[ "$rc" = 0 ] || fail "dfu-util -e on a DFU-mode device exited $rc: $(cat "$TMP/err")"

# A DfuSe device that accepts DETACH in DFU mode: still 0, no warning.
fresh_emu stm32f405
expect 0 -e
grep_out 'DETACH sent to the DFU-mode device'
no_err 'warning'

finish
