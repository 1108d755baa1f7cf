# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# The three examples of dfu-util's DfuSe documentation, as written, on the
# stm32f405 virtual device, and device memory compared after each.
. "$(dirname "$0")/lib.sh" "$1"

# example1: flash a .dfu file made by `dfukit pack` (fw.bin at 0x08000000).
example1() {
	fresh_emu stm32f405
	rand_file "$TMP/fw.bin" 20000
	"$DFUKIT" pack -b "0x08000000:$TMP/fw.bin" "$TMP/fw.dfu" >/dev/null || fail "dfukit pack"
	expect 0 -a 0 -D "$TMP/fw.dfu"
	grep_out 'File downloaded successfully'
	mem_check 0x08000000 "$TMP/fw.bin"
}

# 1. Flash a .dfu file made by `dfukit pack`.
t_pack_and_flash() {
	example1
}

# 2. Read 1 KiB of flash at 0x08000000 (what example 1 wrote).
t_upload_1k() {
	example1
	expect 0 -a 0 -s 0x08000000:1024 -U "$TMP/out.bin"
	[ "$(stat -c %s "$TMP/out.bin")" = 1024 ] || fail "upload of 1024 bytes gave $(stat -c %s "$TMP/out.bin")"
	head -c 1024 "$TMP/fw.bin" | cmp -s - "$TMP/out.bin" || fail "uploaded 1 KiB differs from what was flashed"
}

# 3. Flash a binary to 0x08004000 and leave: the device drops off the bus
# after the leave request, which is success (dfu-util exits 74 here); the
# image starts with a vector table, so the device does not come back.
t_download_leave() {
	example1
	app_file "$TMP/app.bin" 49152
	expect 0 -a 0 -s 0x08004000:leave -D "$TMP/app.bin"
	grep_out 'File downloaded successfully'
	mem_check 0x08004000 "$TMP/app.bin"
	# The first 16 KiB page was not touched by the second download.
	head -c 16384 "$TMP/fw.bin" >"$TMP/page0.bin"
	mem_check 0x08000000 "$TMP/page0.bin"
}

# As Arduino, PlatformIO and QMK recipes call dfu-util: long options with
# '=', 0x-prefixed IDs, -a0 glued.
t_recipe_long_options() {
	fresh_emu stm32f405
	rand_file "$TMP/app.bin" 49152
	expect 0 --device 0x0483:0xdf11 -a0 --dfuse-address=0x08040000:leave --download "$TMP/app.bin"
	mem_check 0x08040000 "$TMP/app.bin"
}

t_recipe_wait_reset() {
	fresh_emu stm32f405
	rand_file "$TMP/app.bin" 49152
	expect 0 -w -d 0483:DF11 --alt=0 -s 0x08060000:leave -D "$TMP/app.bin" --reset
	mem_check 0x08060000 "$TMP/app.bin"
}

run_scenarios "${@:2}"
