#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# `dfukit pack`, `info` and `unpack` with every input format: multi-target,
# multi-element, named targets, round trips, and every error exit code.
set -u
. "$(dirname "$0")/lib.sh"

head -c 1000 /dev/urandom >a.bin
head -c 300 /dev/urandom >b.bin
head -c 70000 /dev/urandom >c.bin # crosses a 64 KiB boundary in HEX
head -c 64 /dev/urandom >d.bin
head -c 17 /dev/urandom >e.bin
$GEN ihex c.hex 0x0800F000:c.bin
$GEN ihex d.hex --crlf 0x08040000:d.bin
$GEN srec e.srec "boot-srec" 0x20000000:e.bin
$GEN elf f.elf 0x08060000:a.bin 0x08061000:e.bin
$GEN elf g.elf --64 --be 0x90000000:b.bin

# make_all: all.dfu, every input format in two targets.
make_all() {
	expect 0 "$DFUKIT" pack -b 0x08000000:a.bin -b 0x08001000:b.bin -b 0x1FFF7800@2:d.bin \
		-i c.hex -i d.hex -s e.srec -e f.elf -e g.elf -n 0:Internal\ Flash -n 2:OTP -D 1209:db42 all.dfu
	out_has "2 target(s)"
}

# Multi-target, multi-element, all formats, names, custom IDs.
t_multi_target() {
	make_all
	expect 0 "$DFUKIT" info all.dfu
	out_has "Format:   DfuSe"
	out_has 'Target 0: alt 0, name "Internal Flash", 8 element(s)'
	out_has 'Target 1: alt 2, name "OTP", 1 element(s), 64 bytes'
	out_has "element 0: address 0x08000000, size 1000"
	out_has "address 0x0800F000, size 70000"
	out_has "address 0x20000000, size 17"
	out_has "address 0x90000000, size 300"
	out_has "idVendor 0x1209, idProduct 0xDB42"
	out_has "(valid)"
	out_has "file length without suffix"
	expect 0 "$DFUKIT" info --json all.dfu
	cp "$T/out" all.json
	[ "$($GEN json all.json 'j["valid"], j["format"], len(j["targets"]), j["targets"][1]["alt"], j["targets"][1]["name"]')" = "(True, 'dfuse', 2, 2, 'OTP')" ] && ok || fail "info --json fields"
	[ "$($GEN json all.json 'j["suffix"]["crc"]')" = "$($GEN crc all.dfu)" ] && ok || fail "JSON CRC differs from the file's"
	[ "$($GEN json all.json 'sum(e["size"] for t in j["targets"] for e in t["elements"])')" = 72762 ] && ok || fail "JSON byte count"
}

# Unpack: every element back, byte for byte, under the documented names.
t_unpack() {
	make_all
	expect 0 "$DFUKIT" unpack all.dfu -o out
	same out/t0-alt0-0x08000000.bin a.bin
	same out/t0-alt0-0x08001000.bin b.bin
	same out/t0-alt0-0x0800f000.bin c.bin
	same out/t0-alt0-0x08040000.bin d.bin
	same out/t0-alt0-0x20000000.bin e.bin
	same out/t0-alt0-0x08060000.bin a.bin
	same out/t0-alt0-0x08061000.bin e.bin
	same out/t0-alt0-0x90000000.bin b.bin
	same out/t1-alt2-0x1fff7800.bin d.bin
	[ "$(ls out | wc -l)" = 9 ] && ok || fail "unpack wrote $(ls out | wc -l) files, not 9"
	no_temp out
}

# --ihex: HEX files that pack back to the same image.
t_ihex_round_trip() {
	make_all
	expect 0 "$DFUKIT" unpack all.dfu -o hex --ihex
	[ -f hex/t0-alt0-0x0800f000.hex ] && ok || fail "no .hex written"
	args=()
	for h in hex/t0-*.hex; do args+=(-i "$h"); done
	expect 0 "$DFUKIT" pack "${args[@]}" -i hex/t1-alt2-0x1fff7800.hex -n 0:x re.dfu
	expect 0 "$DFUKIT" unpack re.dfu -o re
	same re/t0-alt0-0x0800f000.bin c.bin
	same re/t0-alt0-0x90000000.bin b.bin
	# HEX written by us, read by our reader against python's data: same bytes.
	expect 0 "$DFUKIT" pack -i hex/t0-alt0-0x0800f000.hex c2.dfu
	expect 0 "$DFUKIT" unpack c2.dfu -o c2
	same c2/t0-alt0-0x0800f000.bin c.bin
}

# S-record header names the target unless -n does; -a sets the default alt.
t_srec_names() {
	expect 0 "$DFUKIT" pack -a 3 -s e.srec s.dfu
	expect 0 "$DFUKIT" info s.dfu
	out_has 'alt 3, name "boot-srec"'
	expect 0 "$DFUKIT" pack -s e.srec -n 0:mine s2.dfu
	expect 0 "$DFUKIT" info s2.dfu
	out_has 'name "mine"'
}

# info reads the other formats directly, with a default alt of 0.
t_info_other_formats() {
	for f in c.hex d.hex e.srec f.elf g.elf; do
		expect 0 "$DFUKIT" info "$f"
	done
	expect 0 "$DFUKIT" info --json g.elf
	[ "$($GEN json "$T/out" 'j["format"], j["targets"][0]["elements"][0]["address"]')" = "('elf', 2415919104)" ] && ok || fail "ELF info JSON"
}

# Inputs that collide: overlap is reported with both ranges, nothing written.
t_overlap() {
	expect 65 "$DFUKIT" pack -b 0x08000000:a.bin -b 0x08000100:b.bin bad.dfu
	err_has "overlaps"
	err_has "b.bin"
	[ ! -e bad.dfu ] && ok || fail "bad.dfu written"
	expect 65 "$DFUKIT" pack -b 0x0800F100:a.bin -i c.hex bad.dfu
	err_has "c.hex"
	[ ! -e bad.dfu ] && ok || fail "bad.dfu written"
	# But the same addresses in different alt settings are fine.
	expect 0 "$DFUKIT" pack -b 0x08000000:a.bin -b 0x08000000@1:a.bin twice.dfu
}

# An existing output is never half-overwritten: a failure keeps it whole.
t_output_kept_whole() {
	make_all
	cp all.dfu keep.dfu
	expect 65 "$DFUKIT" pack -b 0x08000000:a.bin -b 0x08000000:a.bin keep.dfu
	same keep.dfu all.dfu
	expect 66 "$DFUKIT" pack -b 0x08000000:nothere.bin keep.dfu
	err_has "nothere.bin"
	same keep.dfu all.dfu
	# A write that fails half way (file size limit) keeps it whole as well.
	expect 74 bash -c 'ulimit -f 40; trap "" XFSZ; exec "$0" pack -b 0:c.bin keep.dfu' "$DFUKIT"
	same keep.dfu all.dfu
	no_temp .
	# An output that cannot be created: 73.
	expect 73 "$DFUKIT" pack -b 0:a.bin no/such/dir/x.dfu
	err_has "no/such/dir/x.dfu"
	# ... and a success replaces it.
	expect 0 "$DFUKIT" pack -b 0:a.bin keep.dfu
	expect 0 "$DFUKIT" info keep.dfu
	out_has "address 0x00000000, size 1000"
}

# Bad input data: one message naming the file and the place.
t_bad_input() {
	printf ':10000000FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF01\n:00000001FF\n' >badsum.hex
	expect 65 "$DFUKIT" pack -i badsum.hex x.dfu
	err_has "badsum.hex: line 1"
	err_has "checksum"
	head -n 3 c.hex >trunc.hex
	expect 65 "$DFUKIT" pack -i trunc.hex x.dfu
	err_has "no end-of-file record"
	# One data digit changed, the checksum left as it was.
	awk 'NR==2{c=substr($0,13,1); $0=substr($0,1,12) (c=="0"?"1":"0") substr($0,14)}1' e.srec >badsum.srec
	expect 65 "$DFUKIT" pack -s badsum.srec x.dfu
	err_has "badsum.srec: line 2"
	grep -v '^S5' e.srec | sed 's/^S7/S5030000FC\nS7/' >badcount.srec
	expect 65 "$DFUKIT" pack -s badcount.srec x.dfu
	err_has "count record"
	head -c 40 f.elf >trunc.elf
	expect 65 "$DFUKIT" pack -e trunc.elf x.dfu
	err_has "trunc.elf"
	: >empty.bin
	expect 65 "$DFUKIT" pack -b 0:empty.bin x.dfu
	err_has "empty"
	expect 65 "$DFUKIT" pack -i empty.bin x.dfu
	cp a.bin suf.bin
	"$DFUKIT" suffix -a suf.bin >/dev/null
	expect 65 "$DFUKIT" pack -b 0:suf.bin x.dfu
	err_has "DFU suffix"
	head -c 100 /dev/zero >z.bin
	expect 65 "$DFUKIT" pack -b 0xFFFFFFF0:z.bin x.dfu
	err_has "4 GiB"
	[ ! -e x.dfu ] && ok || fail "x.dfu written after errors"
}

# Usage errors: 64.
t_usage_errors() {
	expect 64 "$DFUKIT" pack out.dfu
	expect 64 "$DFUKIT" pack -b 0:a.bin
	expect 64 "$DFUKIT" pack -b 0:a.bin one.dfu two.dfu
	expect 64 "$DFUKIT" pack -b zz:a.bin x.dfu
	expect 64 "$DFUKIT" pack -b 0@256:a.bin x.dfu
	expect 64 "$DFUKIT" pack -b 0x100 x.dfu
	expect 64 "$DFUKIT" pack -D 0483 -b 0:a.bin x.dfu
	expect 64 "$DFUKIT" pack -D 10000:1 -b 0:a.bin x.dfu
	expect 64 "$DFUKIT" pack -a 300 -b 0:a.bin x.dfu
	expect 64 "$DFUKIT" pack -n 5:name -b 0:a.bin x.dfu
	err_has "alt 5"
	expect 64 "$DFUKIT" pack -n 0:"$(printf 'n%.0s' $(seq 300))" -b 0:a.bin x.dfu
	expect 64 "$DFUKIT" pack --frobnicate x.dfu
	[ ! -e x.dfu ] && ok || fail "x.dfu written after usage errors"
	expect 0 "$DFUKIT" pack --help
	out_has "-e, --build-elf"
}

# unpack errors: usage, missing input, bad input (and nothing written).
t_unpack_errors() {
	make_all
	expect 64 "$DFUKIT" unpack all.dfu
	expect 64 "$DFUKIT" unpack -o dir
	expect 64 "$DFUKIT" unpack all.dfu s.dfu -o dir
	expect 66 "$DFUKIT" unpack missing.dfu -o dir
	cp all.dfu broken.dfu
	$GEN patch broken.dfu 300 00
	expect 65 "$DFUKIT" unpack broken.dfu -o brokendir
	err_has "CRC"
	[ ! -e brokendir ] && ok || fail "unpack created its directory for a bad input"
	: >plain
	expect 73 "$DFUKIT" unpack all.dfu -o plain/sub
	no_temp .
}

run_scenarios "${@:2}"
