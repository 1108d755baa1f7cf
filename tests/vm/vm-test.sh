#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# The end-to-end test through the real Linux USB stack: boots Debian's kernel
# under QEMU/TCG with dfukit-emu attached to vhci-hcd, and runs the same jobs
# with dfukit (libusb) and dfu-util 0.11 (tests/vm/guest-test.sh).
# Usage: vm-test.sh BUILD_DIR [GUEST_SCRIPT [FILE:GUESTPATH...]]
#   (the kernel is cached in BUILD_DIR/vm-cache; the FILEs are copied into the guest)
set -euo pipefail
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
SCRIPT=${2:-$HERE/guest-test.sh}
extra=("${@:3}")
bash "$SRC/scripts/deps.sh" vm
for t in qemu-system-x86_64 busybox dfu-util; do
	command -v $t >/dev/null || { echo "vm-test: $t is missing" >&2; exit 1; }
done
bash "$HERE/fetch-kernel.sh" "$BUILD/vm-cache"
# The guest gets a static emulator (no library juggling) and dfukit with its
# shared libraries copied in by build-initramfs.sh.
# DFUKIT_VM_EMU=FILE uses that static emulator instead (to try a change).
EMU=${DFUKIT_VM_EMU:-}
if [ -z "$EMU" ]; then
	cmake -S "$SRC" -B "$BUILD/vm-static" -DCMAKE_BUILD_TYPE=Release -DDFUKIT_STATIC_EMU=ON -DDFUKIT_TESTS=OFF >/dev/null
	cmake --build "$BUILD/vm-static" --target dfukit-emu -j2 >/dev/null
	EMU=$BUILD/vm-static/dfukit-emu
fi
[ -x "$BUILD/dfukit" ] || { echo "vm-test: build $BUILD/dfukit first" >&2; exit 1; }
cc -static -O2 -Wall -Wextra -Werror -o "$BUILD/vm-uevent-relay" "$HERE/uevent-relay.c"
# One initramfs and serial log per guest script (test, bench).
name=$(basename "$SCRIPT" .sh)
bash "$HERE/build-initramfs.sh" "$BUILD/vm-cache" "$BUILD/vm-$name.cpio.gz" "$SCRIPT" \
	"$HERE/guest-lib.sh:/guest-lib.sh" "$BUILD/dfukit:/bin/dfukit" "$EMU:/bin/dfukit-emu" \
	"$BUILD/vm-uevent-relay:/bin/uevent-relay" ${extra[@]+"${extra[@]}"}
echo "vm-test: booting; the serial console is logged to $BUILD/vm-$name.log"
bash "$HERE/run-qemu.sh" "$BUILD/vm-cache" "$BUILD/vm-$name.cpio.gz" "$BUILD/vm-$name.log" "${VM_TIMEOUT:-900}"
