#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Builds and runs every test (unit, file tools, emulator, flashing through
# USB/IP, fault matrix and the QEMU end-to-end run through the real Linux USB
# stack). Usage: scripts/test.sh [ctest arguments, e.g. -L unit]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh build test vm
# The GUI is built when GTK is found; DFUKIT_GUI=OFF skips its packages.
[ "${DFUKIT_GUI:-AUTO}" = OFF ] || bash scripts/deps.sh gui
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j2 "$@"
