#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# The desktop file and the AppStream metainfo validate, name the installed
# program and icon, and the metainfo's newest release is the version in
# include/dfukit/version.h. $1: the build directory.
set -euo pipefail
BUILD=$1
SRC=$(cd "$(dirname "$0")/../.." && pwd)
desktop-file-validate "$SRC/gui/org.dfukit.Gui.desktop"
appstreamcli validate --no-net "$SRC/gui/org.dfukit.Gui.metainfo.xml"
grep -q '^Exec=dfukit-gui ' "$SRC/gui/org.dfukit.Gui.desktop"
grep -q '^Icon=org.dfukit.Gui$' "$SRC/gui/org.dfukit.Gui.desktop"
version=$(sed -n 's/^#define DFUKIT_VERSION "\(.*\)"/\1/p' "$SRC/include/dfukit/version.h")
grep -q "<release version=\"$version\"" "$SRC/gui/org.dfukit.Gui.metainfo.xml" ||
	{ echo "metainfo has no release $version"; exit 1; }
"$BUILD/dfukit-gui" --version | grep -qx "dfukit-gui $version"
"$BUILD/dfukit-gui" --help | grep -q -- '--usbip'
if "$BUILD/dfukit-gui" --bogus >/dev/null 2>&1; then echo "--bogus accepted"; exit 1; fi
echo "gui metadata: desktop file, metainfo and version agree"
