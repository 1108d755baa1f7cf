#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Cross-builds dfukit for Debian arm64 (multiarch) on an amd64 Debian 12 host,
# runs the unit tests (ctest -L unit) under qemu-user, then cross-builds the
# Debian packages (dpkg-buildpackage -aarm64 -Pcross,nocheck,pkg.dfukit.nogui)
# and checks that they hold aarch64 programs. As root: adds the arm64
# architecture and installs crossbuild-essential-arm64, the :arm64 -dev
# packages, qemu-user-static and the packages' build dependencies.
# Without dfukit-gui: Debian 12's GTK 4 -dev packages cannot be installed
# for arm64 on an amd64 machine (gobject-introspection:arm64 needs python3:arm64).
# 3 to 4 minutes on a fresh Debian 12 root with 2 cores (166-256 s measured), about half of it apt-get.
# Usage: scripts/cross-arm64.sh [build dir, default build-arm64]
#   The packages end up in BUILD_DIR/debs/.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build-arm64}
export DEBIAN_FRONTEND=noninteractive
apt_get() { apt-get -o DPkg::Lock::Timeout=900 "$@"; }
fail() {
	echo "cross-arm64: FAIL: $*" >&2
	exit 1
}
# Runs "$@" with its output in a log, shown only when it fails.
quiet() {
	local log rc=0
	log=$(mktemp)
	"$@" >"$log" 2>&1 || rc=$?
	if [ $rc != 0 ]; then
		tail -n 60 "$log" >&2
		rm -f "$log"
		fail "$* (exit $rc, log above)"
	fi
	rm -f "$log"
}
[ "$(id -u)" = 0 ] || fail "run as root (apt-get installs the arm64 packages)"
start=$(date +%s)

if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	dpkg --add-architecture arm64
fi
need="crossbuild-essential-arm64 qemu-user-static binfmt-support cmake pkg-config file git
libusb-1.0-0-dev:arm64 zlib1g-dev:arm64 libelf-dev:arm64 libjson-c-dev:arm64 libcmocka-dev:arm64 python3"
missing=""
for p in $need; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "cross-arm64: installing$missing"
	quiet apt_get update
	# shellcheck disable=SC2086 # one word a package
	quiet apt_get install -y --no-install-recommends $missing
fi

echo "== cross build ($B) and unit tests under qemu-user"
cmake -S . -B "$B" -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/arm64-linux-gnu.cmake" \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo -DDFUKIT_WERROR="${DFUKIT_WERROR:-OFF}" || fail "cmake configure"
cmake --build "$B" -j2 || fail "cmake --build $B"
# The binaries are arm64, not host programs.
file -L "$B/dfukit" | grep -q 'ARM aarch64' || fail "$B/dfukit is not an arm64 program"
grep -q '^DFUKIT_QEMU_AARCH64:[A-Z]*=/.*qemu-aarch64-static$' "$B/CMakeCache.txt" ||
	fail "no qemu-aarch64-static for CMAKE_CROSSCOMPILING_EMULATOR"
# Unit tests through CMAKE_CROSSCOMPILING_EMULATOR (qemu-aarch64-static -L /).
ctest --test-dir "$B" -L unit --no-tests=error --output-on-failure -j2 || fail "unit tests under qemu-user"

echo "== Debian packages for arm64 (dpkg-buildpackage -aarm64 -Pcross,nocheck,pkg.dfukit.nogui)"
profiles=cross,nocheck,pkg.dfukit.nogui
# Build dependencies for the host architecture of the packages (arm64);
# tools (cmake, scdoc, debhelper) come for the build machine (amd64).
quiet apt_get build-dep -y --no-install-recommends -aarm64 -P"$profiles" ./
# Build from a copy of the sources: dpkg-buildpackage writes its results
# next to the source directory and obj-aarch64-linux-gnu/ inside it.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/dfukit"
if [ -e .git ] && command -v git >/dev/null; then
	git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$work/dfukit"
else
	tar --exclude='./build*' --exclude=./.git --exclude='./obj-*' -cf - . | tar -xf - -C "$work/dfukit"
fi
pstart=$(date +%s)
rm -rf "$B/debs"
mkdir -p "$B/debs"
log=$B/debs/dpkg-buildpackage.log
(cd "$work/dfukit" && DEB_BUILD_OPTIONS="nocheck parallel=2" \
	dpkg-buildpackage -aarm64 -P"$profiles" -us -uc -b) >"$log" 2>&1 ||
	{ tail -n 80 "$log" >&2; fail "dpkg-buildpackage -aarm64 (log above, all of it in $log)"; }
echo "built in $(($(date +%s) - pstart)) s (log: $log)"
mv "$work"/*.deb "$B/debs/"

echo "== checking the packages"
for p in libdfukit0_*_arm64 libdfukit-dev_*_arm64 dfukit_*_arm64 dfukit-emu_*_arm64 dfukit-dfu-util_*_all; do
	compgen -G "$B/debs/$p.deb" >/dev/null || fail "no $p.deb"
done
for deb in "$B/debs/"*_arm64.deb; do
	arch=$(dpkg-deb -f "$deb" Architecture)
	[ "$arch" = arm64 ] || fail "$deb: Architecture $arch"
	x="$work/x/$(basename "$deb" .deb)"
	mkdir -p "$x"
	dpkg-deb -x "$deb" "$x"
	# Every ELF file in the package is for aarch64.
	while IFS= read -r -d '' f; do
		info=$(file -b "$f")
		case "$info" in
		ELF*) case "$info" in *"ARM aarch64"*) ;; *) fail "$deb: ${f#"$x"}: $info" ;; esac ;;
		esac
	done < <(find "$x" -type f -print0)
done
x="$work/x"
for f in dfukit_*/usr/bin/dfukit dfukit-emu_*/usr/bin/dfukit-emu libdfukit0_*/usr/lib/aarch64-linux-gnu/libdfukit.so.0 \
	libdfukit-dev_*/usr/lib/aarch64-linux-gnu/libdfukit.a dfukit_*/usr/share/man/man1/dfukit.1.gz \
	dfukit-emu_*/usr/share/man/man1/dfukit-emu.1.gz; do
	# shellcheck disable=SC2086 # the glob names the package's directory
	set -- $x/$f
	[ -e "$1" ] || fail "missing ${f#*/} in ${f%%_*}"
	echo "${f%%_*}: /${f#*/}: $(file -b -L "$1" | cut -d, -f1-2)"
done
# The static library's members are aarch64 objects.
machines=$(readelf -h "$x"/libdfukit-dev_*/usr/lib/aarch64-linux-gnu/libdfukit.a | sed -n 's/^ *Machine: *//p' | sort -u)
[ "$machines" = AArch64 ] || fail "libdfukit.a: objects for ${machines:-no machine}"
# The packaged programs run (under qemu-user) with the packaged library.
lib=$(echo "$x"/libdfukit0_*/usr/lib/aarch64-linux-gnu)
LD_LIBRARY_PATH=$lib qemu-aarch64-static -L / "$x"/dfukit_*/usr/bin/dfukit -V ||
	fail "packaged dfukit -V under qemu-user"
LD_LIBRARY_PATH=$lib qemu-aarch64-static -L / "$x"/dfukit-emu_*/usr/bin/dfukit-emu --version ||
	fail "packaged dfukit-emu --version under qemu-user"
(cd "$B/debs" && for deb in *.deb; do
	printf '%-45s %s %s\n' "$deb" "$(dpkg-deb -f "$deb" Architecture)" "$(du -k "$deb" | cut -f1) KiB"
done)
echo "cross-arm64: ok in $(($(date +%s) - start)) s (packages in $B/debs)"
