#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Configures and builds into build/ (extra arguments go to cmake).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDFUKIT_WERROR="${DFUKIT_WERROR:-OFF}" -DDFUKIT_GUI="${DFUKIT_GUI:-AUTO}" "$@" >/dev/null
cmake --build build -j"$(nproc)"
