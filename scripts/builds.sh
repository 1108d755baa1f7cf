#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# The build matrix: gcc and clang, each in Debug, RelWithDebInfo and Release,
# warnings as errors, into build-matrix/<cc>-<type>. Every build runs the
# unit tests; the gcc Release and the clang RelWithDebInfo builds run every
# test but the vm, valgrind and gui ones. DFUKIT_GUI (default OFF) is passed
# on. Usage: scripts/builds.sh [ctest arguments for the full runs]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh build test clang

gui=${DFUKIT_GUI:-OFF}
jobs=$(nproc)
failed=()
start=$SECONDS

# step CONFIG WHAT COMMAND...: runs COMMAND, its output in the build's log;
# a failure is reported with the configuration's name and the log's tail.
step() {
	local config=$1 what=$2
	shift 2
	local log=build-matrix/$config.log
	echo "== $config: $what"
	if ! "$@" >>"$log" 2>&1; then
		echo "FAILED: $config: $what (log: $log)" >&2
		tail -40 "$log" >&2
		failed+=("$config: $what")
		return 1
	fi
}

mkdir -p build-matrix
for cc in gcc clang; do
	for type in Debug RelWithDebInfo Release; do
		config=$cc-$type
		dir=build-matrix/$config
		: >"build-matrix/$config.log"
		step "$config" configure cmake -S . -B "$dir" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE="$type" \
			-DDFUKIT_WERROR=ON -DDFUKIT_GUI="$gui" || continue
		step "$config" build cmake --build "$dir" -j"$jobs" || continue
		full=no
		{ [ "$config" = gcc-Release ] || [ "$config" = clang-RelWithDebInfo ]; } && full=yes
		if [ $full = yes ]; then
			step "$config" "ctest (all but vm, valgrind, gui)" \
				ctest --test-dir "$dir" --output-on-failure -j2 -LE 'vm|valgrind|gui' "$@" || true
		else
			step "$config" "ctest -L unit" ctest --test-dir "$dir" --output-on-failure -j2 -L unit || true
		fi
	done
done

echo "== build matrix: $((SECONDS - start)) s"
if [ ${#failed[@]} -ne 0 ]; then
	echo "build matrix FAILED in:" >&2
	printf '  %s\n' "${failed[@]}" >&2
	exit 1
fi
echo "build matrix: all 6 configurations built and passed their tests"
