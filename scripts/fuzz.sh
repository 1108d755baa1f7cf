#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Builds the libFuzzer targets into build-fuzz/ and runs each for SECONDS
# (default 30) on its seed corpus (tests/fuzz/corpus/NAME). Long campaigns:
#   scripts/fuzz.sh 3600            (every target an hour)
#   build-fuzz/fuzz_dfuse -jobs=2 -workers=2 tests/fuzz/corpus/dfuse
# A crash leaves crash-* in build-fuzz/runs/; turn it into a regression input
# under tests/fuzz/regress/NAME/ (replayed by the "fuzz-regress" test).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-30}
bash scripts/deps.sh build fuzz
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDFUKIT_FUZZ=ON -DDFUKIT_TESTS=OFF -DDFUKIT_GUI=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)"
mkdir -p build-fuzz/runs
fail=0
ran=0
for bin in build-fuzz/fuzz_*; do
	name=${bin#build-fuzz/fuzz_}
	work=build-fuzz/runs/$name
	mkdir -p "$work/corpus"
	seeds=tests/fuzz/corpus/$name
	[ -d "$seeds" ] || seeds=
	echo "fuzz: $name for ${SECS}s"
	ran=$((ran + 1))
	if ! "$bin" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
		-artifact_prefix="$work/" "$work/corpus" $seeds >"$work/log" 2>&1; then
		echo "fuzz: $name FAILED; see $work/log" >&2
		tail -40 "$work/log" >&2
		fail=$((fail + 1))
	else
		grep -E '^stat::number_of_executed_units' "$work/log" || true
	fi
done
echo "fuzz: $((ran - fail)) passed, $fail failed"
[ "$fail" = 0 ]
