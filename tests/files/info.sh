#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# `dfukit info` on hostile files: each gets one message naming the file and
# the offset, exit 65 (66 when missing, 64 for usage), and --json says
# valid:false. Offsets in a one-target file: prefix 0-10, target prefix
# 11-284 (dwTargetSize at 277, dwNbElements at 281), element header at 285.
set -u
. "$(dirname "$0")/lib.sh"

head -c 256 /dev/urandom >a.bin
"$DFUKIT" pack -b 0x08000000:a.bin good.dfu >/dev/null || fail "pack"

bad() { # bad NAME PATCH-OFFSET HEX [--fixcrc] -> NAME.dfu from good.dfu
	cp good.dfu "$1.dfu"
	$GEN patch "$1.dfu" "$2" "$3" ${4:-}
}
check_bad() { # check_bad FILE TEXT...
	local f=$1
	shift
	expect 65 "$DFUKIT" info "$f"
	err_has "$f"
	for t in "$@"; do err_has "$t"; done
	[ "$(wc -l <"$T/err")" = 1 ] && ok || fail "more than one error line for $f"
	expect 65 "$DFUKIT" info --json "$f"
	[ "$($GEN json "$T/out" 'j["valid"], j["error"]["code"]')" = "(False, 'DATA')" ] && ok || fail "JSON for $f"
	expect 65 "$DFUKIT" unpack "$f" -o "dir-$f"
	[ ! -e "dir-$f" ] && ok || fail "unpack of $f created its directory"
}

t_good() {
	expect 0 "$DFUKIT" info good.dfu
	out_has "Valid:    yes"
}

t_crc() {
	bad crc 300 ff
	check_bad crc.dfu "CRC mismatch"
	expect 65 "$DFUKIT" info crc.dfu
	out_has "MISMATCH"
}

t_signature() {
	bad sig 0 44667558 --fixcrc
	check_bad sig.dfu "offset 0" "DfuSe"
}

t_version() {
	bad version 5 02 --fixcrc
	check_bad version.dfu "offset 5" "version 2"
}

t_image_size() {
	bad imgsize 6 00100000 --fixcrc
	check_bad imgsize.dfu "offset 6" "DFUImageSize"
}

t_target_count() {
	bad ntargets 10 ff --fixcrc
	check_bad ntargets.dfu "offset 10" "255 targets"
}

t_target_signature() {
	bad tsig 11 58 --fixcrc
	check_bad tsig.dfu "offset 11" "Target"
}

t_target_size() {
	bad tsize 277 ffffff7f --fixcrc
	check_bad tsize.dfu "offset 277" "dwTargetSize"
}

t_element_count() {
	bad nbel 281 00ca9a3b --fixcrc # a billion elements
	check_bad nbel.dfu "1000000000 elements"
}

t_element_size() {
	bad elsize 289 f0ffffff --fixcrc # element size near 4 GiB
	check_bad elsize.dfu "offset 285" "size 4294967280"
}

t_element_short() {
	bad elsize2 289 ff000000 --fixcrc # element shorter than its target
	check_bad elsize2.dfu "offset" "dwTargetSize"
}

t_element_past_4g() {
	bad elhigh 285 01ffffff --fixcrc # element passing 4 GiB
	check_bad elhigh.dfu "4 GiB"
}

# Two elements of one target that overlap (the second moved onto the first).
t_overlapping_elements() {
	"$DFUKIT" pack -b 0:a.bin -b 0x1000:a.bin two.dfu >/dev/null || fail "pack two"
	$GEN patch two.dfu 549 80000000 --fixcrc
	check_bad two.dfu "overlaps" "0x00000080"
}

# Random 4-byte corruptions anywhere in the structure (CRC fixed up so the
# parser sees them): valid or exit 65, never a crash or a sanitizer report.
t_random_mutations() {
	"$DFUKIT" pack -b 0x08000000:a.bin -b 0x08000400:a.bin -b 0x100@1:a.bin -n 1:x multi.dfu >/dev/null
	size=$(stat -c %s multi.dfu)
	for i in $(seq 60); do
		cp multi.dfu m.dfu
		$GEN patch m.dfu $((RANDOM % (size - 16))) "$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')" --fixcrc
		"$DFUKIT" info --json m.dfu >"$T/out" 2>"$T/err"
		rc=$?
		if { [ $rc = 0 ] || [ $rc = 65 ]; } && ! grep -qE 'runtime error:|Sanitizer' "$T/err"; then ok; else
			fail "mutation $i: exit $rc"
			cp m.dfu "$T/../mutation-$i.dfu" 2>/dev/null
			head -5 "$T/err"
		fi
		$GEN json "$T/out" 'j["valid"]' >/dev/null || fail "mutation $i: --json output is not JSON"
	done
}

# Truncated anywhere: a suffix recomputed over the cut file so only the
# DfuSe structure is wrong, then without any suffix at all.
t_truncated() {
	for n in 5 11 100 284 290 400; do
		head -c $n good.dfu >cut$n.dfu
		"$DFUKIT" suffix -S 011a -a cut$n.dfu >/dev/null
		check_bad cut$n.dfu "offset"
	done
	head -c 300 good.dfu >nosuffix.dfu
	check_bad nosuffix.dfu "nosuffix.dfu"
}

# A target name without a NUL is read as 255 characters, not past its field.
t_target_names() {
	cp good.dfu noname.dfu
	$GEN patch noname.dfu 18 01000000 --fixcrc
	$GEN patch noname.dfu 22 "$(printf '41%.0s' $(seq 255))" --fixcrc
	expect 0 "$DFUKIT" info --json noname.dfu
	[ "$($GEN json "$T/out" 'len(j["targets"][0]["name"])')" = 255 ] && ok || fail "name of 255 characters"
	# Control characters in a name are escaped, not sent to the terminal.
	$GEN patch noname.dfu 22 1b5b324a07 --fixcrc
	expect 0 "$DFUKIT" info noname.dfu
	out_has '\x1b[2J\x07'
	grep -q $'\x1b' "$T/out" && fail "raw escape in output" || ok
	# Bytes that are not UTF-8 still give valid JSON; UTF-8 names pass through.
	$GEN patch noname.dfu 22 a3ff41 --fixcrc
	expect 0 "$DFUKIT" info --json noname.dfu
	[ "$($GEN json "$T/out" '[ord(c) for c in j["targets"][0]["name"][:3]]')" = "[163, 255, 65]" ] && ok || fail "non-UTF-8 name in JSON"
	$GEN patch noname.dfu 22 c3a900 --fixcrc
	expect 0 "$DFUKIT" info --json noname.dfu
	[ "$($GEN json "$T/out" 'j["targets"][0]["name"]')" = "é" ] && ok || fail "UTF-8 name in JSON"
}

# A DfuSe file without targets is well formed but holds nothing: invalid.
t_no_targets() {
	printf 'DfuSe\x01\x0b\x00\x00\x00\x00' >zero.dfu
	"$DFUKIT" suffix -S 011a -a zero.dfu >/dev/null
	expect 65 "$DFUKIT" info zero.dfu
	err_has "no data"
}

# Empty and missing inputs, usage errors.
t_empty_missing_usage() {
	: >empty.bin
	expect 65 "$DFUKIT" info empty.bin
	err_has "empty.bin"
	expect 66 "$DFUKIT" info nothere.dfu
	err_has "nothere.dfu"
	expect 64 "$DFUKIT" info
	expect 64 "$DFUKIT" info good.dfu good.dfu
	expect 64 "$DFUKIT" info --bogus good.dfu
	expect 0 "$DFUKIT" info --help
}

# A raw file with a bad suffix CRC is invalid too; without a suffix it is plain data.
t_raw_bad_crc() {
	cp a.bin raw.bin
	"$DFUKIT" suffix -a raw.bin >/dev/null
	# flip the first byte (a fixed value could equal the random one)
	python3 -c "d = bytearray(open('raw.bin', 'rb').read()); d[0] ^= 0xff; open('raw.bin', 'wb').write(d)"
	expect 65 "$DFUKIT" info raw.bin
	err_has "CRC mismatch"
	expect 0 "$DFUKIT" info a.bin
	out_has "Suffix:   none"
}

run_scenarios "${@:2}"
