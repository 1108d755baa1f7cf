#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# No layer of libdfukit uses a layer above it: every dfk_ symbol a layer's
# archive needs must be defined in that layer or in one it may use
# (lib/CMakeLists.txt draws the picture). Usage: check_layers.sh BUILD_DIR
set -euo pipefail
lib=$1/lib
declare -A MAY=(
	[base]="base"
	[formats]="formats base"
	[usb]="usb base"
	[proto]="proto formats usb base"
	[engine]="engine proto formats usb base"
	[jobs]="jobs engine proto formats usb base"
	[transport]="transport wire usb base"
	[wire]="wire base"
)
defined() { nm --defined-only -g "$lib/libdfukit_$1.a" 2>/dev/null | awk 'NF==3 {print $3}'; }
fail=0
for layer in "${!MAY[@]}"; do
	[ -f "$lib/libdfukit_$layer.a" ] || { echo "missing $lib/libdfukit_$layer.a"; fail=1; continue; }
	allowed=$(for l in ${MAY[$layer]}; do defined "$l"; done | sort -u)
	need=$(nm -u "$lib/libdfukit_$layer.a" | awk '$1=="U" && $2 ~ /^dfk_/ {print $2}' | sort -u)
	bad=$(comm -23 <(echo "$need") <(echo "$allowed") | sed '/^$/d')
	if [ -n "$bad" ]; then
		echo "layer $layer uses symbols from a layer above it or outside its reach:"
		for s in $bad; do
			owner=$(for l in "${!MAY[@]}"; do if defined "$l" | grep -x "$s" >/dev/null; then echo "$l"; fi; done | tr '\n' ' ')
			echo "  $s (defined in: ${owner:-nowhere})"
		done
		fail=1
	fi
done
[ $fail = 0 ] && echo "layers: every layer uses only itself and the layers below it"
exit $fail
