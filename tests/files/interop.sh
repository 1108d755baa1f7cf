#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Interoperability both ways with Debian's dfu-util tools: files from
# dfuse-pack and dfu-suffix -a are read by `dfukit info`/`unpack` with the
# same content; files from `dfukit pack`/`suffix -a` pass `dfu-suffix -c` and
# dfuse-pack's check mode with the same CRC.
set -u
. "$(dirname "$0")/lib.sh"
for t in dfuse-pack dfu-suffix; do
	command -v $t >/dev/null || { echo "$t (Debian dfu-util) is required"; exit 1; }
done

head -c 4096 /dev/urandom >a.bin
head -c 1001 /dev/urandom >b.bin
head -c 77 /dev/urandom >c.bin
head -c 2048 /dev/urandom >d.bin

# ---- theirs -> ours ----
# dfuse-pack: three targets (alt 0, 1, then 0 again), DFUImageSize with the suffix.
t_theirs_dfuse_pack() {
	dfuse-pack -b 0x08000000:a.bin -b 0x08004000:b.bin -b 0x1FFF0000@1:c.bin -b 0x08010000@0:d.bin \
		-D 0x0483:0xdf11 theirs.dfu >/dev/null || fail "dfuse-pack -b"
	expect 0 "$DFUKIT" info theirs.dfu
	out_has "file length with suffix"
	out_has 'Target 0: alt 0, name "ST...", 2 element(s), 5097 bytes'
	out_has 'Target 1: alt 1, name "ST...", 1 element(s), 77 bytes'
	out_has 'Target 2: alt 0, name "ST...", 1 element(s), 2048 bytes'
	out_has "CRC:      $($GEN crc theirs.dfu) (valid)"
	expect 0 "$DFUKIT" unpack theirs.dfu -o t
	same t/t0-alt0-0x08000000.bin a.bin
	same t/t0-alt0-0x08004000.bin b.bin
	same t/t1-alt1-0x1fff0000.bin c.bin
	same t/t2-alt0-0x08010000.bin d.bin
	# dfuse-pack -d writes the same bytes as our unpack.
	dfuse-pack -d theirs.dfu >/dev/null
	same theirs.dfu.target0.image1.bin t/t0-alt0-0x08004000.bin
	same theirs.dfu.target2.image0.bin t/t2-alt0-0x08010000.bin
}

# dfuse-pack from an S-record: the S0 header is the target name.
t_theirs_srec() {
	$GEN srec e.srec "app-v1" 0x08020000:d.bin
	dfuse-pack -s e.srec theirs-s.dfu >/dev/null || fail "dfuse-pack -s"
	expect 0 "$DFUKIT" info theirs-s.dfu
	out_has 'name "app-v1"'
	expect 0 "$DFUKIT" unpack theirs-s.dfu -o ts
	same ts/t0-alt0-0x08020000.bin d.bin
}

# dfu-suffix -a: a plain DFU file, payload kept whole.
t_theirs_dfu_suffix() {
	cp b.bin plain.bin
	dfu-suffix -v 1d50 -p 6089 -d 0200 -a plain.bin >/dev/null 2>&1
	expect 0 "$DFUKIT" info plain.bin
	out_has "Format:   raw binary"
	out_has "idVendor 0x1D50, idProduct 0x6089, bcdDevice 0x0200"
	out_has "size 1001"
	out_has "CRC:      $($GEN crc plain.bin) (valid)"
	expect 0 "$DFUKIT" unpack plain.bin -o p
	same p/t0-alt0-0x00000000.bin b.bin
	expect 0 "$DFUKIT" suffix -c plain.bin
}

# ---- ours -> theirs ----
t_ours_dfuse_pack() {
	expect 0 "$DFUKIT" pack -b 0x08000000:a.bin -b 0x08004000:b.bin -b 0x1FFF0000@1:c.bin -b 0x08010000:d.bin \
		-n 1:"System Memory" ours.dfu
	crc=$($GEN crc ours.dfu)
	expect 0 dfu-suffix -c ours.dfu
	grep -qi "CRC:.*$crc" "$T/out" && ok || fail "dfu-suffix shows another CRC than $crc"
	dfuse-pack ours.dfu >check.txt 2>&1 || fail "dfuse-pack check mode failed"
	grep -q "ERROR" check.txt && fail "dfuse-pack reports: $(grep ERROR check.txt)" || ok
	grep -qi ", 16, $crc\$" check.txt && ok || { fail "dfuse-pack shows another CRC than $crc"; cat check.txt; }
	grep -q "alt setting: 1, name: \"b'System Memory'\"" check.txt && ok || fail "dfuse-pack does not see the name"
	grep -q "address: 0x08004000, size: 1001" check.txt && ok || fail "dfuse-pack does not see element 0x08004000"
	grep -q "address: 0x1fff0000, size: 77" check.txt && ok || fail "dfuse-pack does not see element 0x1fff0000"
	# dfuse-pack -d extracts what we packed.
	dfuse-pack -d ours.dfu >/dev/null
	same ours.dfu.target0.image0.bin a.bin
	same ours.dfu.target0.image2.bin d.bin
	same ours.dfu.target1.image0.bin c.bin
	# Our own info agrees on the CRC.
	expect 0 "$DFUKIT" info ours.dfu
	out_has "CRC:      $crc (valid)"
}

# dfukit suffix -a output passes dfu-suffix -c with the same fields and CRC.
t_ours_suffix() {
	cp b.bin s.bin
	expect 0 "$DFUKIT" suffix -v 0483 -p df11 -S 011a -a s.bin
	expect 0 dfu-suffix -c s.bin
	out_has "Vendor ID:	0x0483"
	grep -qi "CRC:.*$($GEN crc s.bin)" "$T/out" && ok || fail "dfu-suffix sees another CRC"
	# ... and dfu-suffix -D takes it off again.
	dfu-suffix -D s.bin >/dev/null 2>&1
	same s.bin b.bin
}

run_scenarios "${@:2}"
