# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Quirks through USB/IP against dfukit-emu: a DFU suffix naming another
# device is refused, and written with force plus a warning naming the IDs
# that differ; quirks that built-in profiles reproduce are coped with.
. "$(dirname "$0")/../flash/lib.sh" "$1"

# An image with a vector table: the leave below is watched, and a device
# that comes back in DFU mode (no valid image) would fail the run.
app_file "$TMP/fw.bin" 6000

# Both IDs differ (users flash ST-ID files onto AT32 parts and vice versa).
fresh_emu stm32f405
cp "$TMP/fw.bin" "$TMP/other.bin"
"$DFUKIT" suffix -a "$TMP/other.bin" -v 2e3c -p df11 >/dev/null 2>&1 || fail "dfukit suffix -a"
expect 64 -a 0 -s 0x08000000 -D "$TMP/other.bin"
grep_err '2e3c:df11'
grep_err '0483:df11'
mem_erased 0x08000000 6000
expect 0 -a 0 -s 0x08000000:force -D "$TMP/other.bin"
grep_err 'warning: .*2e3c:df11.*0483:df11.*vendor ID differs'
grep_out 'File downloaded successfully'
mem_check 0x08000000 "$TMP/fw.bin"

# Only the product ID differs: the warning says which.
fresh_emu stm32f405
cp "$TMP/fw.bin" "$TMP/pid.bin"
"$DFUKIT" suffix -a "$TMP/pid.bin" -v 0483 -p 5740 >/dev/null 2>&1 || fail "dfukit suffix -a"
expect 64 -a 0 -s 0x08000000 -D "$TMP/pid.bin"
expect 0 -a 0 -s 0x08000000:force:leave -D "$TMP/pid.bin"
grep_err 'warning: .*0483:5740.*product ID differs'
no_err 'vendor'
mem_check 0x08000000 "$TMP/fw.bin"

# Matching IDs: no warning.
fresh_emu stm32f405
cp "$TMP/fw.bin" "$TMP/same.bin"
"$DFUKIT" suffix -a "$TMP/same.bin" -v 0483 -p df11 >/dev/null 2>&1 || fail "dfukit suffix -a"
expect 0 -a 0 -s 0x08000000:force -D "$TMP/same.bin"
no_err 'suffix is for'

# STM32L476 with real timing: it reports half the time it needs and stalls
# the first early GETSTATUS of every other operation (EARLY_STATUS_STALL).
fresh_emu stm32l476 --timing real
expect 0 -a 0 -s 0x08000000 -D "$TMP/fw.bin"
grep_out 'File downloaded successfully'
mem_check 0x08000000 "$TMP/fw.bin"

# STM32H7 busy tail: an ST device stuck in dfuDNBUSY gets one CLRSTATUS once
# the advertised time is well past; the emulator's stuck device stalls it and
# stays busy, so the tool gives up at the deadline and says it tried.
fresh_emu stm32h743 --fault busy@dnblock=1
expect 74 -a 0 -s 0x08000000 -D "$TMP/fw.bin" --timeout 3000 -v
grep_err 'clearing its status'
grep_err 'still in dfuDNBUSY after [0-9]+ ms \(clearing its status did not end it\)'

finish
