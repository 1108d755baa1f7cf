# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Every DfuSe profile: download, verify, read back, memory compared; the
# flash loader's read-only pages; F405 option bytes with will-reset.
. "$(dirname "$0")/lib.sh" "$1"

# profile_job PROFILE ADDR: download + verify at ADDR, memory and upload agree.
profile_job() {
	app_file "$TMP/fw.bin" 12345
	fresh_emu "$1"
	expect 0 -a 0 -s "$2" -D "$TMP/fw.bin" --verify
	grep_out 'File downloaded successfully'
	mem_check "$2" "$TMP/fw.bin"
	rm -f "$TMP/up.bin"
	expect 0 -a 0 -s "$2:12345" -U "$TMP/up.bin"
	cmp -s "$TMP/up.bin" "$TMP/fw.bin" || fail "$1: read-back at $2 differs"
	# Leave through command mode; the device starts the image (it has a
	# vector table) and goes away or shows its run-time interface.
	expect 0 -a 0 -s "$2:leave"
}
t_stm32f405() { profile_job stm32f405 0x08008000; }
t_stm32f103_flash_loader() { profile_job stm32f103-flash-loader 0x08003000; }
t_stm32l476() { profile_job stm32l476 0x08001000; }
t_stm32h743() { profile_job stm32h743 0x08020000; }

# stm32l476 with real timing (too-short poll timeouts, stalls on early
# GETSTATUS are the device's business; the tool must cope).
t_stm32l476_real_timing() {
	rand_file "$TMP/fw.bin" 12345
	fresh_emu stm32l476 --timing real
	expect 0 -a 0 -s 0x08010000 -D "$TMP/fw.bin"
	mem_check 0x08010000 "$TMP/fw.bin"
}

# The flash loader's own first 12 pages are read-only: refused, untouched.
t_loader_read_only() {
	rand_file "$TMP/fw.bin" 12345
	fresh_emu stm32f103-flash-loader
	cp "$MEM" "$TMP/before.bin"
	run -a 0 -s 0x08000000 -D "$TMP/fw.bin"
	[ "$RC" != 0 ] || fail "write into the loader's read-only pages succeeded"
	grep_err '0x08000000'
	cmp -s "$MEM" "$TMP/before.bin" || fail "a refused download changed the memory"
}

# Read protection (stm32f405-protected): reads and writes fail with a
# protocol error and leave no file; unprotect (needs force) mass-erases and
# resets, after which the flash reads back erased.
t_read_protection() {
	rand_file "$TMP/fw.bin" 12345
	fresh_emu stm32f405-protected
	expect 76 -a 0 -s 0x08000000:1024 -U "$TMP/prot.bin"
	[ -e "$TMP/prot.bin" ] && fail "a refused read left $TMP/prot.bin"
	expect 76 -a 0 -s 0x08000000 -D "$TMP/fw.bin"
	grep_err '0x08000000'
	expect 0 -a 0 -s :unprotect:force
	expect 0 -w --wait-timeout 10 -a 0 -s 0x08000000:1024 -U "$TMP/prot.bin"
	head -c 1024 /dev/zero | tr '\0' '\377' | cmp -s - "$TMP/prot.bin" || fail "flash not erased after unprotect"
	mem_erased 0x08000000 $((1024 * 1024))
}

# F405 option bytes (alt 1, 0x1FFFC000, 16 bytes, after the 1 MiB flash in
# the memory file): read the factory values, write them back with
# will-reset.
t_option_bytes() {
	fresh_emu stm32f405
	expect 0 -a 1 -s 0x1FFFC000:16 -U "$TMP/opt.bin"
	[ "$(stat -c %s "$TMP/opt.bin")" = 16 ] || fail "option bytes: read $(stat -c %s "$TMP/opt.bin") bytes"
	OPT_BASE=$((0x1FFFC000 - 0x100000))
	mem_check 0x1FFFC000 "$TMP/opt.bin" "$OPT_BASE"
	expect 0 -a "@Option Bytes  /0x1FFFC000/01*016 e" -s 0x1FFFC000:will-reset -D "$TMP/opt.bin"
	mem_check 0x1FFFC000 "$TMP/opt.bin" "$OPT_BASE"
}

run_scenarios "${@:2}"
