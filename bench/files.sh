#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Benchmark of the file commands (not a test): pack a 64 MiB image from raw
# binaries, check it (info: parse + CRC) and unpack it, with dfukit and with
# Debian's dfuse-pack doing the same work (pack -b, check mode, -d dump).
# Prints wall time and peak RSS (from /usr/bin/time -v) side by side.
#
#   bench/files.sh [BUILD_DIR]      (default: build)
set -eu
BUILD=$(cd "${1:-build}" && pwd)
DFUKIT="$BUILD/dfukit"
[ -x "$DFUKIT" ] || { echo "no dfukit in $BUILD (build it first)"; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time is needed (Debian package: time)"; exit 1; }
HAVE_PEER=1
command -v dfuse-pack >/dev/null || { HAVE_PEER=0; echo "dfuse-pack not installed: dfukit numbers only"; }

W=$(mktemp -d "${TMPDIR:-/tmp}/dfk-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
cd "$W"

# 64 MiB of input: four 16 MiB binaries at consecutive 16 MiB addresses (one target).
for i in 0 1 2 3; do
	head -c $((16 << 20)) /dev/urandom >part$i.bin
done
BARGS=(-b 0x08000000:part0.bin -b 0x09000000:part1.bin -b 0x0A000000:part2.bin -b 0x0B000000:part3.bin)

# measure LABEL CMD...: runs CMD under /usr/bin/time -v; prints seconds and MiB.
measure() {
	local label=$1
	shift
	sync
	/usr/bin/time -v -o time.txt "$@" >/dev/null 2>cmd.err || {
		echo "$label failed:"
		cat cmd.err
		exit 1
	}
	local wall rss
	wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.3f", s}' time.txt)
	rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2 / 1024}' time.txt)
	echo "$wall $rss"
}

row() { # row STEP OURS THEIRS
	local ow orss tw trss
	read -r ow orss <<<"$2"
	if [ -n "$3" ]; then
		read -r tw trss <<<"$3"
		printf "%-8s %9ss %9s MiB   %9ss %9s MiB   %7sx\n" "$1" "$ow" "$orss" "$tw" "$trss" \
			"$(awk -v a="$tw" -v b="$ow" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }')"
	else
		printf "%-8s %9ss %9s MiB\n" "$1" "$ow" "$orss"
	fi
}

o_pack=$(measure "dfukit pack" "$DFUKIT" pack "${BARGS[@]}" ours.dfu)
o_info=$(measure "dfukit info" "$DFUKIT" info ours.dfu)
o_unpack=$(measure "dfukit unpack" "$DFUKIT" unpack ours.dfu -o ours.d)
t_pack="" t_info="" t_unpack=""
if [ $HAVE_PEER = 1 ]; then
	t_pack=$(measure "dfuse-pack -b" dfuse-pack "${BARGS[@]}" theirs.dfu)
	t_info=$(measure "dfuse-pack check" dfuse-pack theirs.dfu)
	t_unpack=$(measure "dfuse-pack -d" dfuse-pack -d theirs.dfu)
	# Same work: the same elements come out of both.
	cmp -s ours.d/t0-alt0-0x0a000000.bin theirs.dfu.target0.image2.bin || echo "WARNING: outputs differ"
fi

size=$(stat -c %s ours.dfu)
echo "file: $size bytes ($((size >> 20)) MiB), 4 elements, 1 target"
printf "%-8s %10s %13s   %10s %13s   %8s\n" step "dfukit" "peak RSS" "dfuse-pack" "peak RSS" speedup
row pack "$o_pack" "$t_pack"
row info "$o_info" "$t_info"
row unpack "$o_unpack" "$t_unpack"
read -r iw _ <<<"$o_info"
awk -v s="$size" -v t="$iw" 'BEGIN { if (t > 0) printf "info (parse + CRC-32 of the whole file): %.2f GB/s\n", s / t / 1e9 }'
