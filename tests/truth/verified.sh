# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Item 2: "verified" (the done line's word and the JSON field) only when a
# read-back matched. dfu11-wait-reset resets after manifestation, so no
# read-back is possible; dfu11 (same device, returns to dfuIDLE) is read
# back and must still say verified.
. "$(dirname "$0")/../flash/lib.sh" "$1"

rand_file "$TMP/fw.bin" 10000

fresh_emu dfu11-wait-reset
expect 0 -a 0 -D "$TMP/fw.bin"
grep_out 'File downloaded successfully'
grep_err 'not verified'
grep -E '^Download done' "$TMP/out" >"$TMP/done" || fail "no done line: $(cat "$TMP/out")"
grep -q 'verified' "$TMP/done" && fail "done line claims verification: $(cat "$TMP/done")"
mem_check 0 "$TMP/fw.bin" 0

fresh_emu dfu11-wait-reset
expect 0 -a 0 -D "$TMP/fw.bin" --json
grep_out '"verified":false'
no_out '"verified":true'

# The read-back that happens is still reported.
fresh_emu dfu11
expect 0 -a 0 -D "$TMP/fw.bin"
grep_out '^Download done: 10000 bytes, verified'
fresh_emu dfu11
expect 0 -a 0 -D "$TMP/fw.bin" --json
grep_out '"verified":true'

# --no-verify: neither the word nor the field.
fresh_emu dfu11
expect 0 -a 0 -D "$TMP/fw.bin" --no-verify --json
grep_out '"verified":false'

finish
