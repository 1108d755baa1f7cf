#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Builds the Debian packages (debian/) from this checkout, runs lintian on
# them, installs them on this machine and checks what a user gets: dfukit -V,
# dfukit-gui -V, the man pages, pkg-config, the udev rule, the completion, and
# examples/flash.c built with pkg-config flashing dfukit-emu from the package.
# Debian 12, as root (it installs the build dependencies with apt-get).
# Usage: scripts/package.sh [--with-tests] [--keep DIR]
#   --with-tests  build with the tests run (default: DEB_BUILD_OPTIONS=nocheck)
#   --keep DIR    leave the .deb files in DIR (default: a temporary directory)
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$(pwd)
tests=0
keep=""
while [ $# -gt 0 ]; do
	case "$1" in
	--with-tests) tests=1 ;;
	--keep) keep=$2; shift ;;
	*) echo "usage: $0 [--with-tests] [--keep DIR]" >&2; exit 64 ;;
	esac
	shift
done
if [ "$(id -u)" != 0 ]; then
	echo "package: run as root (apt-get installs the build dependencies and the packages)" >&2
	exit 1
fi
fail() {
	echo "package: FAIL: $*" >&2
	exit 1
}
export DEBIAN_FRONTEND=noninteractive
version=$(dpkg-parsechangelog -l debian/changelog -S Version 2>/dev/null ||
	sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)

echo "== build dependencies"
apt-get update -qq
apt-get install -y -qq --no-install-recommends dpkg-dev debhelper lintian man-db pkg-config gcc >/dev/null
profile=()
[ $tests = 1 ] || profile=(-P nocheck)
apt-get build-dep -y -qq "${profile[@]}" "$SRC" >/dev/null

# Build from a copy of the sources: dpkg-buildpackage writes its results
# next to the source directory.
work=$(mktemp -d)
emu_pid=
cleanup() {
	[ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/dfukit-$version"
if [ -e .git ] && command -v git >/dev/null; then
	git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$work/dfukit-$version"
else
	tar --exclude='./build*' --exclude=./.git -cf - . | tar -xf - -C "$work/dfukit-$version"
fi

echo "== dpkg-buildpackage -us -uc -b ($([ $tests = 1 ] && echo with tests || echo nocheck))"
start=$(date +%s)
(
	cd "$work/dfukit-$version"
	if [ $tests = 1 ]; then
		dpkg-buildpackage -us -uc -b
	else
		DEB_BUILD_OPTIONS=nocheck DEB_BUILD_PROFILES=nocheck dpkg-buildpackage -us -uc -b
	fi
) >"$work/build.log" 2>&1 || {
	tail -n 60 "$work/build.log"
	fail "dpkg-buildpackage (log above)"
}
echo "built in $(($(date +%s) - start)) s:"
(cd "$work" && ls -1 ./*.deb)

echo "== lintian"
# Warnings fail too: each one kept is overridden in debian/ with its reason.
lintian --fail-on error,warning --allow-root "$work"/*.changes || fail "lintian"

echo "== install"
debs=("$work"/libdfukit0_*.deb "$work"/libdfukit-dev_*.deb "$work"/dfukit_*.deb "$work"/dfukit-emu_*.deb "$work"/dfukit-gui_*.deb)
# The compatibility package replaces Debian's dfu-util, which the project's
# tests need: install it only where dfu-util is not.
compat=0
if [ "$(dpkg-query -W -f='${Status}' dfu-util 2>/dev/null || true)" != "install ok installed" ]; then
	debs+=("$work"/dfukit-dfu-util_*.deb)
	compat=1
fi
apt-get install -y -qq --no-install-recommends "${debs[@]}" >/dev/null

echo "== checks"
dfukit -V || fail "dfukit -V"
man -w dfukit >/dev/null || fail "man -w dfukit"
man -w dfukit-emu >/dev/null || fail "man -w dfukit-emu"
dfukit-gui -V || fail "dfukit-gui -V"
man -w dfukit-gui >/dev/null || fail "man -w dfukit-gui"
[ -f /usr/share/applications/org.dfukit.Gui.desktop ] || fail "no desktop file for dfukit-gui"
[ "$(pkg-config --modversion dfukit)" = "${version%%-*}" ] || fail "pkg-config --modversion dfukit: $(pkg-config --modversion dfukit)"
[ -f /usr/lib/udev/rules.d/70-dfukit.rules ] || fail "no udev rule under /usr/lib/udev/rules.d"
[ -f /usr/share/bash-completion/completions/dfukit ] || fail "no bash completion"
[ -f /usr/share/zsh/vendor-completions/_dfukit ] || fail "no zsh completion"
# (Output captured first: grep -q would cut the pipe, and pipefail fail it.)
listing=$(dpkg-deb -c "$work"/dfukit-dfu-util_*.deb)
for n in dfu-util dfu-suffix dfu-prefix dfuse-pack; do
	grep -q "./usr/bin/$n -> dfukit" <<<"$listing" || fail "dfukit-dfu-util has no $n link"
done
if [ $compat = 1 ]; then
	v=$(dfu-util -V 2>&1) || fail "dfu-util -V: $v"
	grep -q dfukit <<<"$v" || fail "dfu-util -V does not answer as dfukit: $v"
	echo "dfukit-dfu-util installed: dfu-util -V answers as dfukit"
else
	echo "dfukit-dfu-util built, not installed (Debian's dfu-util is installed here)"
fi

# examples/flash.c against the installed library, flashing the installed
# dfukit-emu (examples/test_flash.sh wants a build directory's layout).
mkdir -p "$work/run/examples"
ln -s /usr/bin/dfukit-emu "$work/run/dfukit-emu"
# shellcheck disable=SC2046
cc -o "$work/run/examples/example-flash" examples/flash.c $(pkg-config --cflags --libs dfukit) ||
	fail "cc examples/flash.c \$(pkg-config --cflags --libs dfukit)"
deps=$(ldd "$work/run/examples/example-flash")
# (Merged /usr: ldd may name /lib/... for /usr/lib/....)
grep -Eq '=> (/usr)?/lib/[^ ]*libdfukit\.so\.0 ' <<<"$deps" || fail "example not linked to the installed libdfukit.so.0"
bash examples/test_flash.sh "$work/run" || fail "example against the installed dfukit-emu"
[ -n "$keep" ] && mkdir -p "$keep" && cp "$work"/*.deb "$keep"/ && echo "packages kept in $keep"
echo "package: ok"
