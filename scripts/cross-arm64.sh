#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Cross-builds dfukit for Debian arm64 (multiarch) on an amd64 Debian 12 host
# and runs the unit tests under qemu-user. As root: installs
# crossbuild-essential-arm64, the :arm64 -dev packages and qemu-user-static.
# When debian/ exists, also cross-builds the packages
# (dpkg-buildpackage -aarm64 -Pcross,nocheck).
# Usage: scripts/cross-arm64.sh [build dir, default build-arm64]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build-arm64}
export DEBIAN_FRONTEND=noninteractive

if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	dpkg --add-architecture arm64
	apt-get -o DPkg::Lock::Timeout=900 update -qq
fi
need="crossbuild-essential-arm64 qemu-user-static binfmt-support cmake pkg-config
libusb-1.0-0-dev:arm64 zlib1g-dev:arm64 libelf-dev:arm64 libjson-c-dev:arm64 libcmocka-dev:arm64 python3"
missing=""
for p in $need; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "cross-arm64: installing$missing"
	apt-get -o DPkg::Lock::Timeout=900 update -qq
	apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends $missing >/dev/null
fi

cmake -S . -B "$B" -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/arm64-linux-gnu.cmake" \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo -DDFUKIT_WERROR="${DFUKIT_WERROR:-OFF}"
cmake --build "$B" -j2
# The binaries are arm64, not host programs.
file "$B/dfukit" | grep -q 'ARM aarch64' || { echo "cross-arm64: $B/dfukit is not an arm64 program" >&2; exit 1; }
# Unit tests through CMAKE_CROSSCOMPILING_EMULATOR (qemu-aarch64-static -L /).
ctest --test-dir "$B" -L unit --output-on-failure -j2

if [ -d debian ]; then
	# Build dependencies for the host architecture of the packages (arm64).
	apt-get -o DPkg::Lock::Timeout=900 build-dep -y -qq -aarm64 -Pcross,nocheck . >/dev/null 2>&1 ||
		echo "cross-arm64: apt-get build-dep -aarm64 failed; trying the build anyway" >&2
	dpkg-buildpackage -aarm64 -Pcross,nocheck -us -uc -b
	ls -l ../*_arm64.deb
fi
echo "cross-arm64: ok"
