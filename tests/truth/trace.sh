# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Item 12: -v -v and --trace FILE log every USB request (setup packet,
# data, result, time), a failed one included, for a bug report.
. "$(dirname "$0")/../flash/lib.sh" "$1"

# hex FILE OFFSET: the 16 bytes at OFFSET as the trace shows them.
hex() {
	od -An -tx1 -v -j "$2" -N 16 "$1" | tr -s ' \n' ' ' | sed 's/^ //; s/ $//'
}

# A page-sized image: written as it is, block after block.
rand_file "$TMP/fw.bin" 16384
TR="$TMP/trace.txt"

fresh_emu stm32f405
expect 0 -a 0 -s 0x08000000 -D "$TMP/fw.bin" --trace "$TR"
mem_check 0x08000000 "$TMP/fw.bin"
[ -s "$TR" ] || fail "no trace file"
# The trace goes to the file only.
no_err '^usb '
# SET_ADDRESS 0x08000000 (DfuSe command 0x21 in block 0), with its bytes.
grep -Eq '^usb +[0-9]+\.[0-9]{3} OUT 21 01 0000 0000 0005 DFU_DNLOAD -> 5 bytes OK [0-9]+ ms \[21 00 00 00 08\]$' "$TR" ||
	fail "no SET_ADDRESS line: $(head -c 600 "$TR")"
# The eight data blocks (wValue 2..9, 2048 bytes each), and the first one's
# first bytes are the file's.
n=$(grep -Ec 'OUT 21 01 000[2-9] 0000 0800 DFU_DNLOAD -> 2048 bytes OK' "$TR")
[ "$n" -eq 8 ] || fail "$n data DNLOAD lines, expected 8"
grep -Fq "OUT 21 01 0002 0000 0800 DFU_DNLOAD -> 2048 bytes OK" "$TR" || fail "no block 2"
grep -F "OUT 21 01 0002 0000 0800" "$TR" | grep -Fq "[$(hex "$TMP/fw.bin" 0) ...]" ||
	fail "block 2's data is not the file's: $(grep -F 'OUT 21 01 0002' "$TR")"
grep -F "OUT 21 01 0003 0000 0800" "$TR" | grep -Fq "[$(hex "$TMP/fw.bin" 2048) ...]" ||
	fail "block 3's data is not the file's"
# Status polls with the device's answer, and the interface selection.
grep -Eq 'IN  a1 03 0000 0000 0006 DFU_GETSTATUS -> 6 bytes OK [0-9]+ ms \[00 00 00 00 0[45] 00\]' "$TR" ||
	fail "no GETSTATUS line"
grep -Eq 'OUT 01 0b 0000 0000 0000 SET_INTERFACE OK' "$TR" || fail "no SET_INTERFACE line"
grep -Eq 'claim interface 0 OK' "$TR" || fail "no claim line"
# Every request the device saw (the emulator counts each control URB) but
# the USB/IP transport's own enumeration: the device and configuration
# descriptors, which the kernel reads for libusb (3 requests here).
stop_emu
dev=$(stat_value control_transfers)
traced=$(grep -Ec '^usb +[0-9.]+ (IN |OUT) ' "$TR")
[ -n "$dev" ] && [ "$traced" -eq $((dev - 3)) ] ||
	fail "traced $traced control requests, the device counted $dev (3 of them enumeration)"

# -v -v: the same lines on stderr, no file.
fresh_emu stm32f405
expect 0 -v -v -a 0 -s 0x08000000 -D "$TMP/fw.bin"
grep_err '^usb +[0-9]+\.[0-9]{3} OUT 21 01 0002 0000 0800 DFU_DNLOAD -> 2048 bytes OK'
grep_err '^usb .* DFU_GETSTATUS -> 6 bytes OK'
# -v alone: no trace.
expect 0 -v -a 0 -s 0x08000000 -D "$TMP/fw.bin" --skip-unchanged
no_err '^usb '
# --json -v -v: trace events on stdout, still one JSON object a line.
expect 0 --json -v -v -a 0 -s 0x08000000 -D "$TMP/fw.bin"
grep_out '^\{"event":"trace","message":"usb +[0-9.]+ OUT 21 01 0002 0000 0800 DFU_DNLOAD'
no_err '^usb '

# A request that fails is traced with its result and message, and the
# file is complete although the job failed.
fresh_emu stm32f405 --fault stall@dnblock=1
expect 76 -a 0 -s 0x08000000 -D "$TMP/fw.bin" --trace "$TR"
grep -Eq 'OUT 21 01 0003 0000 0800 DFU_DNLOAD -> STALL [0-9]+ ms \[[0-9a-f ]+ \.\.\.\]: .+' "$TR" ||
	fail "no STALL line: $(grep -F 'DNLOAD' "$TR" | tail -3)"
# What the library did after the stall (getting the device back to
# dfuIDLE) is traced too.
grep -A20 -F -- '-> STALL' "$TR" | grep -Eq 'DFU_(GETSTATUS|CLRSTATUS|ABORT)' ||
	fail "nothing traced after the stall"

# Plain DFU: block numbers from 0, the data of block 0 is the file's start.
rand_file "$TMP/small.bin" 3000
fresh_emu dfu11
expect 0 -a 0 -D "$TMP/small.bin" --trace "$TR"
grep -F "OUT 21 01 0000 0000 0400 DFU_DNLOAD -> 1024 bytes OK" "$TR" | grep -Fq "[$(hex "$TMP/small.bin" 0) ...]" ||
	fail "plain DFU block 0 not traced with its data: $(grep -F DNLOAD "$TR" | head -3)"
grep -Fq "OUT 21 01 0002 0000 03b8 DFU_DNLOAD -> 952 bytes OK" "$TR" || fail "no short last block"
grep -Eq 'OUT 21 01 0003 0000 0000 DFU_DNLOAD -> 0 bytes OK' "$TR" || fail "no zero-length end of download"

# A trace file that cannot be created: a clear error before the device is
# touched.
fresh_emu stm32f405
expect 73 -a 0 -s 0x08000000 -D "$TMP/fw.bin" --trace "$TMP/no/such/dir/trace.txt"
grep_err 'cannot create trace file .*/no/such/dir/trace.txt'
stop_emu
[ "$(stat_value control_transfers)" = "" ] || [ "$(stat_value control_transfers)" -eq 0 ] ||
	fail "the device was used although the trace file could not be created"
mem_erased 0x08000000 16384
expect 64 -a 0 -D "$TMP/fw.bin" --trace ''
grep_err 'trace'

finish
