#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# `dfukit prefix`: Stellaris and LPC prefixes as dfu-prefix makes them,
# --lpc-prefix, suffix kept with a new CRC, every exit code.
set -u
. "$(dirname "$0")/lib.sh"
command -v dfu-prefix >/dev/null || { echo "dfu-prefix (Debian dfu-util) is required"; exit 1; }

# A leading 00: random bytes must not look like a prefix by chance.
{ printf '\0'; head -c 2999 /dev/urandom; } >p.bin
{ printf '\0'; head -c 3069 /dev/urandom; } >q.bin
cp q.bin qs.bin
"$DFUKIT" suffix -v 1cbe -p 00ff -a qs.bin >/dev/null || fail "suffix -a"

# make_s: s.bin, qs.bin with a Stellaris prefix at 0x8000.
make_s() {
	cp qs.bin s.bin
	expect 0 "$DFUKIT" prefix --stellaris-address 0x8000 --add s.bin
}
# make_l: l.bin, q.bin with an LPC prefix.
make_l() {
	cp q.bin l.bin
	expect 0 "$DFUKIT" prefix -L -a l.bin
}

# -a: the same bytes as dfu-prefix, with and without a suffix on the file.
t_add_like_dfu_prefix() {
	for f in p.bin q.bin qs.bin; do
		for mode in "-s 0x2000" "-s 4096" "-L" "--lpc-prefix" "--LPC"; do
			cp $f ours
			cp $f theirs
			# shellcheck disable=SC2086
			expect 0 "$DFUKIT" prefix $mode -a ours
			theirmode=$mode
			[ "$mode" = --lpc-prefix ] && theirmode=-L # dfu-prefix only knows --LPC
			# shellcheck disable=SC2086
			dfu-prefix $theirmode -a theirs >/dev/null 2>&1 || fail "dfu-prefix $theirmode -a $f"
			same ours theirs
		done
	done
}

# The suffix survives with a fresh CRC, and the prefix is where dfu-prefix puts it.
t_suffix_kept() {
	make_s
	expect 0 "$DFUKIT" suffix -c s.bin
	expect 0 dfu-suffix -c s.bin
	[ "$(head -c 8 s.bin | od -An -tx1 | tr -d ' \n')" = "01002000fe0b0000" ] && ok || fail "Stellaris prefix bytes"
}

# -c prints the prefix; -T / -L must match the type found.
t_check() {
	make_s
	expect 0 "$DFUKIT" prefix -c s.bin
	out_has "TI Stellaris"
	out_has "Address:   0x00008000"
	expect 0 "$DFUKIT" prefix -T -c s.bin
	expect 65 "$DFUKIT" prefix -L -c s.bin
	err_has "not NXP LPC"
	make_l
	expect 0 "$DFUKIT" prefix --lpc-prefix --check l.bin
	out_has "6 blocks of 512 bytes"
	expect 65 "$DFUKIT" prefix -T -c l.bin
	expect 65 "$DFUKIT" prefix -c q.bin
	err_has "no DFU prefix"
	expect 65 "$DFUKIT" prefix -a l.bin -L
	err_has "already has"
}

# -D restores the original; with a suffix the suffix is kept and valid.
t_delete() {
	make_s
	make_l
	cp l.bin l2.bin
	expect 0 "$DFUKIT" prefix -L -D l2.bin
	same l2.bin q.bin
	expect 0 "$DFUKIT" prefix -D s.bin
	same s.bin qs.bin
	expect 65 "$DFUKIT" prefix -D q.bin
	same q.bin q.bin
	cp l.bin l3.bin
	expect 65 "$DFUKIT" prefix -T -D l3.bin
	same l3.bin l.bin
}

# What dfu-prefix made, we read, and the other way round.
t_read_each_other() {
	cp p.bin tp.bin
	dfu-prefix -s 0x2000 -a tp.bin >/dev/null 2>&1
	expect 0 "$DFUKIT" prefix -T -c tp.bin
	out_has "0x00002000"
	expect 0 "$DFUKIT" info tp.bin
	out_has "stellaris"
	cp p.bin op.bin
	expect 0 "$DFUKIT" prefix -s 0x2000 -a op.bin
	dfu-prefix -T -c op.bin >"$T/dp" 2>&1
	grep -q "0x00002000" "$T/dp" && ok || fail "dfu-prefix does not read our prefix"
}

# A bad suffix on the file is refused before anything is written.
t_bad_suffix() {
	cp qs.bin bad.bin
	# Byte 10 inverted: a fixed value would be no change once in 256 runs.
	python3 "$HERE/gen.py" patch bad.bin 10 "$(printf '%02x' $((0x$(od -An -tx1 -j10 -N1 bad.bin | tr -d ' ') ^ 0xff)))"
	cp bad.bin bad0.bin
	expect 65 "$DFUKIT" prefix -s 0x400 -a bad.bin
	err_has "CRC mismatch"
	same bad.bin bad0.bin
}

# Usage errors and missing files.
t_usage_errors() {
	cp p.bin u.bin
	expect 64 "$DFUKIT" prefix -a u.bin
	err_has "-s ADDR"
	expect 64 "$DFUKIT" prefix -s 0x2001 -a u.bin
	err_has "multiple of 1 KiB"
	expect 64 "$DFUKIT" prefix -s 0x2000 -L -a u.bin
	expect 64 "$DFUKIT" prefix -s zz -a u.bin
	expect 64 "$DFUKIT" prefix -s 0x400 -c u.bin
	expect 64 "$DFUKIT" prefix
	expect 64 "$DFUKIT" prefix -x u.bin
	same u.bin p.bin
	expect 66 "$DFUKIT" prefix -c nothere.bin
	err_has "nothere.bin"
	expect 0 "$DFUKIT" prefix -h
	out_has "--lpc-prefix"
	no_temp .
}

run_scenarios "${@:2}"
