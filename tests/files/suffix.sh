#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# `dfukit suffix`: byte-identical to dfu-suffix -a, strict --check, atomic
# rewrite, every exit code.
set -u
. "$(dirname "$0")/lib.sh"
command -v dfu-suffix >/dev/null || { echo "dfu-suffix (Debian dfu-util) is required"; exit 1; }

printf 123456789 >nine.bin
head -c 5000 /dev/urandom >rand.bin
: >empty.bin
printf '\x1a\x3f\x02\x00\0\0\0\0\0\0\0\0\xff\xff\xff\xff' >lpc.bin
head -c 700 /dev/urandom >>lpc.bin
# t.bin: nine.bin with dfu-suffix's suffix (1d50:6089, 0101).
cp nine.bin t.bin
dfu-suffix -v 1d50 -p 6089 -d 0101 -a t.bin >/dev/null 2>&1 || fail "dfu-suffix -a t.bin"

# -a: byte-identical with dfu-suffix for the same inputs and options.
t_add_like_dfu_suffix() {
	n=0
	for f in nine.bin rand.bin empty.bin lpc.bin; do
		for opts in "" "-v 0483 -p df11" "-v 0x1234 -p 0x5678 -d 0x0200" "-S 011a -v 0483 -p DF11 -d 2200" "-d 0 -S 0100"; do
			n=$((n + 1))
			cp "$f" "ours$n"
			cp "$f" "theirs$n"
			# shellcheck disable=SC2086
			expect 0 "$DFUKIT" suffix $opts -a "ours$n"
			# shellcheck disable=SC2086
			dfu-suffix $opts -a "theirs$n" >/dev/null 2>&1 || fail "dfu-suffix $opts -a $f failed"
			same "ours$n" "theirs$n"
			expect 0 dfu-suffix -c "ours$n"
		done
	done
}

# Long options too.
t_long_options() {
	cp nine.bin long.bin
	expect 0 "$DFUKIT" suffix --vid 0483 --pid df11 --did 0100 --spec 011a --add long.bin
	cp nine.bin long2.bin
	dfu-suffix -v 0483 -p df11 -d 0100 -S 011a -a long2.bin >/dev/null 2>&1
	same long.bin long2.bin
}

# The documented check value: "123456789" + suffix(ffff, df11, 0483, 0100) ends in 8B 1E 39 39.
t_check_value() {
	cp nine.bin doc.bin
	expect 0 "$DFUKIT" suffix -v 0483 -p df11 -a doc.bin
	[ "$(tail -c 4 doc.bin | od -An -tx1 | tr -d ' \n')" = "8b1e3939" ] && ok || fail "check value of doc.bin"
}

# --check prints the fields and exits 0 only for a valid suffix.
t_check() {
	expect 0 "$DFUKIT" suffix -c t.bin
	out_has "idVendor:  0x1D50"
	out_has "idProduct: 0x6089"
	out_has "bcdDevice: 0x0101"
	out_has "bcdDFU:    0x0100"
	out_has "dwCRC:     0x$(python3 "$HERE/gen.py" crc t.bin | cut -c3-) (valid)"
	expect 0 "$DFUKIT" suffix --check t.bin
	expect 65 "$DFUKIT" suffix -c rand.bin
	err_has "rand.bin"
	err_has "no DFU suffix"
	expect 65 "$DFUKIT" suffix -c nine.bin
	err_has "too short"
	expect 65 "$DFUKIT" suffix -c empty.bin
	cp t.bin badcrc.bin
	python3 "$HERE/gen.py" patch badcrc.bin 0 30
	expect 65 "$DFUKIT" suffix -c badcrc.bin
	err_has "CRC mismatch"
	out_has "INVALID: computed"
	expect 65 dfu-suffix -c badcrc.bin
	cp t.bin badlen.bin
	python3 "$HERE/gen.py" patch badlen.bin -5 08 --fixcrc
	expect 65 "$DFUKIT" suffix -c badlen.bin
	err_has "bLength 8"
	expect 66 "$DFUKIT" suffix -c does-not-exist.bin
	err_has "does-not-exist.bin"
}

# -a refuses a file that already has a valid suffix, and leaves it alone.
t_add_refuses_suffixed() {
	cp t.bin again.bin
	expect 65 "$DFUKIT" suffix -a again.bin
	err_has "already has a valid DFU suffix"
	same again.bin t.bin
	no_temp .
}

# -D removes it; the original comes back; a file without suffix is refused.
t_delete() {
	cp t.bin del.bin
	expect 0 "$DFUKIT" suffix -D del.bin
	same del.bin nine.bin
	expect 65 "$DFUKIT" suffix -D del.bin
	same del.bin nine.bin
	cp t.bin del2.bin
	expect 0 "$DFUKIT" suffix --delete del2.bin
	dfu-suffix -D t.bin >/dev/null 2>&1
	same del2.bin t.bin
}

# Usage errors: 64, nothing written.
t_usage_errors() {
	cp nine.bin u.bin
	expect 64 "$DFUKIT" suffix
	expect 64 "$DFUKIT" suffix -S 0200 -a u.bin
	err_has "0x0100 and 0x011a"
	expect 64 "$DFUKIT" suffix -v 12345 -a u.bin
	expect 64 "$DFUKIT" suffix -p xyz -a u.bin
	expect 64 "$DFUKIT" suffix -d -1 -a u.bin
	expect 64 "$DFUKIT" suffix -a u.bin -c u.bin
	expect 64 "$DFUKIT" suffix --bogus -a u.bin
	expect 64 "$DFUKIT" suffix -a
	expect 64 "$DFUKIT" suffix -a u.bin extra
	same u.bin nine.bin
	expect 0 "$DFUKIT" suffix --help
	out_has "--check"
	expect 0 "$DFUKIT" suffix -V
}

# Atomic rewrite: a file that cannot be replaced is left whole (a directory
# entry we cannot create: the target path is a directory).
t_atomic_rewrite() {
	mkdir adir
	expect 66 "$DFUKIT" suffix -a adir
	# A write that fails half way (file size limit, SIGXFSZ ignored) leaves the
	# original whole and no temporary file behind.
	cp rand.bin lim.bin
	expect 74 bash -c 'ulimit -f 2; trap "" XFSZ; exec "$0" suffix -a lim.bin' "$DFUKIT"
	err_has "lim.bin"
	same lim.bin rand.bin
	no_temp .
	# The mode of a replaced file is kept.
	cp nine.bin mode.bin
	chmod 640 mode.bin
	expect 0 "$DFUKIT" suffix -a mode.bin
	[ "$(stat -c %a mode.bin)" = 640 ] && ok || fail "mode not kept"
	no_temp .
}

run_scenarios "${@:2}"
