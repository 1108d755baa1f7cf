# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# labgrid's DFUDriver runs dfu-util with fixed command lines and judges by
# the exit status alone (processwrapper.check_output raises on non-zero).
# Source: labgrid-project/labgrid, labgrid/driver/dfudriver.py at commit
# 19967ac5b33644e8c042a74035d707badf843075:
#   list:     dfu-util -p PATH --list
#   download: dfu-util -p PATH [--wait] [--reset] --alt ALT --download FILE
#   detach:   dfu-util -p PATH --alt ALT --detach
# (the tool is the environment's "dfu-util" tools entry, here dfukit under
# the dfu-util name). Run against dfukit-emu's plain DFU 1.1 device, which
# starts in run-time mode, as a board's firmware would.
. "$(dirname "$0")/lib.sh" "$1"

# board [FAULT...]: fw.bin made, a fresh dfu11 (in run-time mode) and its
# path from dfu-util -l.
board() {
	rand_file "$TMP/fw.bin" 20000
	fresh_emu dfu11
	expect 0 -l
	path=$(grep '^Found Runtime' "$TMP/out" | head -1 | sed -E 's/.* path="([^"]*)".*/\1/')
	[ -n "$path" ] || fail "no path in dfu-util -l"
}

# list(): exit 0, and the device's line.
t_list() {
	board
	expect 0 -p "$path" --list
	grep_out "^Found Runtime: \\[1209:df10\\].* path=\"$path\""
	# A path with no device: still exit 0 and no line (dfu-util lists nothing).
	expect 0 -p 9-9 --list
	no_out '^Found'
}

# detach(0): the run-time device switches to DFU mode, exit 0.
t_detach() {
	board
	expect 0 -p "$path" --alt 0 --detach
	expect 0 -w --wait-timeout 10 -p "$path" --list
	grep_out '^Found DFU: \[1209:df11\]'
}

# download(0, file): through the detach when the board runs its firmware.
t_download() {
	board
	fresh_emu dfu11
	expect 0 -p "$path" --alt 0 --download "$TMP/fw.bin"
	mem_check 0 "$TMP/fw.bin" 0
	# download(..., reset=True)
	rand_file "$TMP/fw2.bin" 7000
	expect 0 -p "$path" --reset --alt 0 --download "$TMP/fw2.bin"
	mem_check 0 "$TMP/fw2.bin" 0
}

# download(..., wait=True, reset=True): --wait is a flag here (dfu-util 0.11
# would take "--reset" as its argument); the device is there already.
t_download_wait_reset() {
	board
	fresh_emu dfu11
	expect 0 -p "$path" --wait --reset --alt 0 --download "$TMP/fw.bin"
	mem_check 0 "$TMP/fw.bin" 0
}

# What labgrid must see as failures (non-zero exit):
# no device at the path,
t_fail_no_device() {
	board
	expect 74 -p 9-9 --alt 0 --download "$TMP/fw.bin"
}
# a file that is not there (labgrid's ManagedFile path is wrong),
t_fail_missing_file() {
	board
	expect 66 -p "$path" --alt 0 --download "$TMP/no-such-file.bin"
}
# a corrupt DFU suffix (its CRC no longer matches),
t_fail_corrupt_suffix() {
	board
	cp "$TMP/fw.bin" "$TMP/sfx.bin"
	"$BIN/dfu-suffix" -a "$TMP/sfx.bin" >/dev/null 2>&1 || fail "dfu-suffix -a"
	printf 'XXXX' | dd of="$TMP/sfx.bin" bs=1 seek=100 conv=notrunc 2>/dev/null
	run -p "$path" --alt 0 --download "$TMP/sfx.bin"
	[ "$RC" != 0 ] || fail "a corrupt file was accepted (exit 0)"
}
# and a device that reports an error status during the download.
t_fail_device_error() {
	board
	fresh_emu dfu11 --fault status=errWRITE@dnblock=3
	run -p "$path" --alt 0 --download "$TMP/fw.bin"
	[ "$RC" != 0 ] || fail "an errWRITE status was reported as success (exit 0)"
}

run_scenarios "${@:2}"
