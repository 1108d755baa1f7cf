#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Fetches Debian's stock kernel package (through linux-image-amd64, so the
# current ABI is found) into CACHE and unpacks only vmlinuz and the USB
# modules. A failure to fetch is an error with the reason, never a skip.
# Usage: fetch-kernel.sh CACHE
set -euo pipefail
CACHE=$1
mkdir -p "$CACHE"
cd "$CACHE"
if [ -s kver ] && [ -d kpkg/lib/modules/"$(cat kver)" ]; then
	exit 0
fi
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
if [ -z "$pkg" ]; then
	apt-get update -qq || true
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
fi
[ -n "$pkg" ] || { echo "fetch-kernel: cannot resolve linux-image-amd64 from the package archive" >&2; exit 1; }
if ! ls "${pkg}"_*.deb >/dev/null 2>&1; then
	# apt's sandbox user cannot write here; the download is verified by apt all the same.
	if ! apt-get download -o APT::Sandbox::User=root "$pkg"; then
		# Stale package lists name an ABI the archive no longer has.
		apt-get update -qq || true
		pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
		[ -n "$pkg" ] && apt-get download -o APT::Sandbox::User=root "$pkg" ||
			{ echo "fetch-kernel: cannot download the kernel package ${pkg:-linux-image-amd64}" >&2; exit 1; }
	fi
fi
rm -rf kpkg
mkdir kpkg
dpkg-deb --fsys-tarfile "${pkg}"_*.deb | tar -x -C kpkg --wildcards \
	'./boot/vmlinuz-*' './lib/modules/*/modules.order' './lib/modules/*/modules.builtin' \
	'./lib/modules/*/kernel/drivers/usb/*'
ls kpkg/lib/modules >kver
busybox depmod -b kpkg "$(cat kver)"
echo "fetch-kernel: $(cat kver) ready in $CACHE"
