#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Installs with apt-get whatever of the named package sets is missing
# (Debian 12, as root). Usage: deps.sh [build] [test] [vm] [fuzz] [clang] [gui]
set -euo pipefail
# build: what configuring and building the default configuration needs (tests
# are on: cmocka, and python3 that tests/faults.cmake looks for; scdoc turns
# the man pages into roff; json-c parses dfukit-emu's device descriptions).
declare -A SETS=(
	[build]="build-essential cmake pkg-config libusb-1.0-0-dev zlib1g-dev libelf-dev libjson-c-dev libcmocka-dev python3 scdoc"
	[test]="dfu-util python3 time valgrind man-db"
	[vm]="qemu-system-x86 busybox-static usbutils dfu-util cpio"
	[fuzz]="clang libclang-rt-14-dev"
	# scripts/builds.sh builds with clang as well as gcc.
	[clang]="clang"
	# dfukit-gui and its tests: GTK 4.8 + libadwaita 1.2, a headless X server
	# with an accessibility bus for dogtail, ImageMagick for screenshots,
	# appstream and scdoc for the desktop metadata and the man page.
	[gui]="libgtk-4-dev libadwaita-1-dev xvfb xauth dbus at-spi2-core python3-dogtail libgl1-mesa-dri imagemagick appstream scdoc desktop-file-utils"
)
want=""
for s in "${@:-build}"; do want="$want ${SETS[$s]}"; done
missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages and not root; install them:$missing" >&2
	exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
