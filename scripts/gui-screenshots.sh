#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Takes the README's screenshots of dfukit-gui (doc/screenshots/gui-*.png) by running
# the accessibility-bus tests against dfukit-emu with DFUKIT_GUI_SHOTS set.
# Usage: scripts/gui-screenshots.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=$(realpath "${1:-build}")
mkdir -p doc/screenshots
OUT=$(realpath doc/screenshots)
for scenario in flash fault erase station; do
	DFUKIT_GUI_SHOTS="$OUT" bash tests/gui/a11y_session.sh /usr/bin/python3 tests/gui/a11y_test.py "$BUILD" "$scenario"
done
ls "$OUT"/gui-*.png
