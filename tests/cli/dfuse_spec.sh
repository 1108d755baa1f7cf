# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# -s ADDR:MODIFIERS: whole-word modifiers, strict numbers (no device).
. "$(dirname "$0")/lib.sh" "$1"

# dfu-util accepts any prefix of a modifier and then reads past the end of
# the argument; dfukit wants whole words.
t_whole_word_modifiers() {
	for bad in l le lea leav leavex f forc mass mass-eras unprot will willreset LEAVE 'leave ' ; do
		expect 64 -s "0x08000000:$bad" --usbip "$NOSERVER"
		grep_err 'unknown modifier'
	done
}

# Empty words, bad addresses, lengths.
t_bad_numbers() {
	expect 64 -s '0x08000000::leave' --usbip "$NOSERVER"
	grep_err 'empty modifier'
	expect 64 -s '0x08000000:' --usbip "$NOSERVER"
	expect 64 -s 'zz:leave' --usbip "$NOSERVER"
	grep_err 'invalid address'
	expect 64 -s '0x100000000:leave' --usbip "$NOSERVER"
	expect 64 -s '-1:leave' --usbip "$NOSERVER"
	expect 64 -s '0x08000000:0' -U "$TMP/x.bin" --usbip "$NOSERVER"
	expect 64 -s '0x08000000:0x1FFFFFFFF' -U "$TMP/x.bin" --usbip "$NOSERVER"
	# A length belongs to -U only.
	expect 64 -s '0x08000000:1024' -D "$TMP/x.bin" --usbip "$NOSERVER"
	grep_err 'length'
}

# mass-erase and unprotect need force.
t_need_force() {
	expect 64 -s ':mass-erase' --usbip "$NOSERVER"
	grep_err 'force'
	expect 64 -s ':unprotect' --usbip "$NOSERVER"
	grep_err 'force'
}

# Valid specs get past parsing: they fail only at the missing server (74).
t_valid_specs() {
	for good in ':leave' '0x08000000:leave' ':mass-erase:force' ':force:mass-erase:leave' \
		':unprotect:force' '134217728:leave' '0x08000000:will-reset:leave'; do
		expect 74 -s "$good" --usbip "$NOSERVER"
	done
	expect 74 -s '0x08000000:1024' -U "$TMP/up.bin" --usbip "$NOSERVER"
	expect 74 -s '0x08000000:0x400:force' -U "$TMP/up2.bin" --usbip "$NOSERVER"
	# No partial output file is left after the failure.
	[ -e "$TMP/up.bin" ] && fail "-U left $TMP/up.bin behind after a failure"
	ls "$TMP" | grep -q 'up\.bin\.' && fail "-U left a temporary file behind"
}

run_scenarios "${@:2}"
