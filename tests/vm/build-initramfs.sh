#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Builds the guest's initramfs: busybox, the vhci-hcd modules, dfu-util and
# dfukit with their shared libraries, a static dfukit-emu, the guest script.
# Usage: build-initramfs.sh CACHE OUT.cpio.gz GUEST_SCRIPT FILE[:GUESTPATH]...
set -euo pipefail
CACHE=$1 OUT=$2 SCRIPT=$3
shift 3
HERE=$(cd "$(dirname "$0")" && pwd)
KVER=$(cat "$CACHE/kver")
KMOD=$CACHE/kpkg/lib/modules/$KVER
R=$(mktemp -d)
trap 'rm -rf "$R"' EXIT
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,etc,lib/x86_64-linux-gnu,lib64}
cp /bin/busybox "$R/bin/busybox"
install -m 755 "$HERE/guest-init.sh" "$R/init"
install -m 755 "$SCRIPT" "$R/test.sh"
for m in usbip-core vhci-hcd; do
	f=$(grep -E "(^|/)${m}\.ko:" "$KMOD/modules.dep" | cut -d: -f1)
	[ -n "$f" ] || { echo "build-initramfs: module $m not in $KVER" >&2; exit 1; }
	for dep in $f $(grep -E "^$f:" "$KMOD/modules.dep" | cut -d: -f2); do
		mkdir -p "$R/lib/modules/$KVER/$(dirname "$dep")"
		cp "$KMOD/$dep" "$R/lib/modules/$KVER/$dep"
	done
done
cp "$KMOD/modules.order" "$KMOD/modules.builtin" "$R/lib/modules/$KVER/"
busybox depmod -b "$R" "$KVER"
bins=()
for x in /usr/bin/dfu-util /usr/bin/lsusb "$@"; do
	src=${x%%:*}
	dst=${x#*:}
	[ "$dst" = "$x" ] && dst=/bin/$(basename "$src")
	[ -e "$src" ] || continue
	mkdir -p "$R$(dirname "$dst")"
	cp "$src" "$R$dst"
	bins+=("$src")
done
# Shared libraries of every dynamic binary (a static one has none).
for lib in $(ldd "${bins[@]}" 2>/dev/null | awk '/=> \//{print $3} /^\t\/lib64/{print $1}' | sort -u); do
	mkdir -p "$R$(dirname "$lib")"
	cp -L "$lib" "$R$lib"
	# A library found through the build tree's RUNPATH (libdfukit.so.0)
	# goes where the guest's loader looks by default too: the guest
	# mounts its own /tmp over the build tree's path.
	case $lib in /lib/* | /lib64/* | /usr/lib/*) ;; *) mkdir -p "$R/usr/lib" && cp -L "$lib" "$R/usr/lib/" ;; esac
done
echo "root:x:0:0:root:/root:/bin/sh" >"$R/etc/passwd"
(cd "$R" && find . | busybox cpio -o -H newc -R 0:0 2>/dev/null | gzip -1) >"$OUT"
