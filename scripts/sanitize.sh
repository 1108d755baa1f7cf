#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Builds with AddressSanitizer + UndefinedBehaviorSanitizer into build-asan/
# and runs the whole test suite but the QEMU guest (whose binaries are the
# plain build's) under it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh build test
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DDFUKIT_SANITIZE=ON -DDFUKIT_WERROR="${DFUKIT_WERROR:-OFF}" -DDFUKIT_GUI="${DFUKIT_GUI:-AUTO}" >/dev/null
cmake --build build-asan -j"$(nproc)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir build-asan --output-on-failure -j2 -LE vm "$@"
