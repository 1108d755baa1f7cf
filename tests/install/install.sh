#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# cmake --install into a temporary prefix, then what a user of the installed
# tree does: run the programs (after moving the tree: they find libdfukit
# through $ORIGIN), read the man pages, build examples/flash.c with
# pkg-config (shared, and static with Requires.private) and with
# find_package(dfukit) from the moved tree, and flash dfukit-emu with the
# result. No installed text file may name the build or source tree.
# $1: the build directory.
set -u
BUILD=$(cd "$1" && pwd)
SRC=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
P=$TMP/prefix
cmake --install "$BUILD" --prefix "$P" >"$TMP/install.log" 2>&1 || fail "cmake --install: $(cat "$TMP/install.log")"
LIBDIR=$(cd "$P" && ls -d lib*/ | head -n 1)
LIBDIR=${LIBDIR%/}
[ -e "$P/$LIBDIR/libdfukit.so" ] || LIBDIR=$(dirname "$(cd "$P" && find . -name libdfukit.so | head -n 1)")

for f in bin/dfukit bin/dfukit-emu include/dfukit/dfukit.h "$LIBDIR/libdfukit.a" "$LIBDIR/pkgconfig/dfukit.pc" \
	"$LIBDIR/cmake/dfukit/dfukitConfig.cmake" "$LIBDIR/cmake/dfukit/dfukitConfigVersion.cmake" \
	share/bash-completion/completions/dfukit share/zsh/site-functions/_dfukit lib/udev/rules.d/70-dfukit.rules \
	share/doc/dfukit/LICENSE share/doc/dfukit/README.md; do
	[ -e "$P/$f" ] || fail "not installed: $f"
done
[ "$(readlink "$P/$LIBDIR/libdfukit.so")" = libdfukit.so.0 ] || fail "libdfukit.so does not point to the soname"
readelf -d "$P/$LIBDIR/libdfukit.so.0" | grep -q 'SONAME.*libdfukit.so.0' || fail "no soname libdfukit.so.0"
if [ -e "$BUILD/man/dfukit.1" ]; then
	for m in dfukit dfukit-emu; do
		[ -e "$P/share/man/man1/$m.1" ] || fail "man page $m.1 not installed"
		MANPATH=$P/share/man man -w "$m" >/dev/null 2>&1 || fail "man -w $m finds nothing"
	done
fi

# Nothing points back into the build or source tree.
hits=$(grep -rIl -e "$BUILD" -e "$SRC" "$P")
[ -z "$hits" ] || fail "installed files name the build or source tree: $hits"
for b in "$P/bin/dfukit" "$P/bin/dfukit-emu" "$P/$LIBDIR/libdfukit.so.0"; do
	readelf -d "$b" | grep -E 'RPATH|RUNPATH' | grep -q -e "$BUILD" -e "$SRC" && fail "$b has a run path into the build tree"
done

# pkg-config, shared: compile, link, flash the virtual device.
export PKG_CONFIG_PATH=$P/$LIBDIR/pkgconfig
[ "$(pkg-config --modversion dfukit)" = "$(sed -n 's/^#define DFUKIT_VERSION "\(.*\)"/\1/p' "$SRC/include/dfukit/version.h")" ] ||
	fail "pkg-config --modversion dfukit: $(pkg-config --modversion dfukit 2>&1)"
mkdir -p "$TMP/run/examples"
ln -s "$P/bin/dfukit-emu" "$TMP/run/dfukit-emu"
# shellcheck disable=SC2046
cc -o "$TMP/run/examples/example-flash" "$SRC/examples/flash.c" $(pkg-config --cflags --libs dfukit) 2>"$TMP/cc.log" ||
	fail "cc with pkg-config: $(cat "$TMP/cc.log")"
LD_LIBRARY_PATH=$P/$LIBDIR bash "$SRC/examples/test_flash.sh" "$TMP/run" >"$TMP/flash.log" 2>&1 ||
	fail "example (shared, pkg-config) against dfukit-emu: $(cat "$TMP/flash.log")"

# libdfukit.a, with the libraries of what Requires.private names (shared
# ones: a fully static link would also need libusb's own private libraries).
# shellcheck disable=SC2046
cc -o "$TMP/run/examples/example-flash" "$SRC/examples/flash.c" $(pkg-config --cflags dfukit) \
	"$P/$LIBDIR/libdfukit.a" $(pkg-config --libs $(pkg-config --print-requires-private dfukit)) 2>"$TMP/cc.log" ||
	fail "libdfukit.a with Requires.private's libraries: $(cat "$TMP/cc.log")"
ldd "$TMP/run/examples/example-flash" | grep -q libdfukit && fail "static example still needs libdfukit.so"
bash "$SRC/examples/test_flash.sh" "$TMP/run" >"$TMP/flash.log" 2>&1 ||
	fail "example (static) against dfukit-emu: $(cat "$TMP/flash.log")"

# Relocated: the whole tree moved elsewhere.
mv "$P" "$TMP/moved"
P=$TMP/moved
"$P/bin/dfukit" -V >"$TMP/v.log" 2>&1 || fail "moved bin/dfukit -V: $(cat "$TMP/v.log")"
grep -q dfukit "$TMP/v.log" || fail "moved bin/dfukit -V printed: $(cat "$TMP/v.log")"

# find_package(dfukit) from the moved tree: shared and the static component.
mkdir -p "$TMP/consumer"
cat >"$TMP/consumer/CMakeLists.txt" <<EOT
cmake_minimum_required(VERSION 3.18)
project(consumer C)
find_package(dfukit 0.1 REQUIRED COMPONENTS static)
add_executable(flash_shared "$SRC/examples/flash.c")
target_link_libraries(flash_shared PRIVATE dfukit::dfukit)
add_executable(flash_static "$SRC/examples/flash.c")
target_link_libraries(flash_static PRIVATE dfukit::dfukit_static)
EOT
cmake -S "$TMP/consumer" -B "$TMP/consumer/b" -DCMAKE_PREFIX_PATH="$P" >"$TMP/cm.log" 2>&1 ||
	fail "find_package(dfukit): $(cat "$TMP/cm.log")"
cmake --build "$TMP/consumer/b" >"$TMP/cm.log" 2>&1 || fail "building against dfukit::dfukit: $(cat "$TMP/cm.log")"
for t in flash_shared flash_static; do
	ln -sf "$P/bin/dfukit-emu" "$TMP/run/dfukit-emu"
	cp "$TMP/consumer/b/$t" "$TMP/run/examples/example-flash"
	LD_LIBRARY_PATH=$P/$LIBDIR bash "$SRC/examples/test_flash.sh" "$TMP/run" >"$TMP/flash.log" 2>&1 ||
		fail "$t (find_package) against dfukit-emu: $(cat "$TMP/flash.log")"
done
# A 1.x request must not accept this 0.x package.
sed -i 's/0\.1 REQUIRED/1.0 REQUIRED/' "$TMP/consumer/CMakeLists.txt"
cmake -S "$TMP/consumer" -B "$TMP/consumer/b2" -DCMAKE_PREFIX_PATH="$P" >/dev/null 2>&1 &&
	fail "find_package(dfukit 1.0) accepted version 0.x"
echo "install: ok"
