#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# The main job on the built-in virtual device: starts dfukit-emu as an
# STM32F405 system bootloader on a USB/IP socket, lists it, flashes a
# firmware image with dfukit (erase, download, verify by read-back, leave)
# and checks the device's flash afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
work=$(mktemp -d)
emu_pid=
cleanup() {
	set +x
	[ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null && wait "$emu_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
sock=unix:$work/usbip.sock
build/dfukit-emu --profile stm32f405 --listen "$sock" --memory "$work/flash.mem" --stats "$work/stats.json" &
emu_pid=$!
for _ in $(seq 100); do [ -S "$work/usbip.sock" ] && break; sleep 0.05; done
# A 96 KiB "firmware": crosses the 16 KiB sectors into the 64 KiB one. It
# starts with a Cortex-M vector table (initial stack pointer 0x20010000 in
# SRAM, reset handler 0x08000101), so that the bootloader starts it after
# leave; dfukit watches the bus and would report a device that came back
# in DFU mode.
printf '\x00\x00\x01\x20\x01\x01\x00\x08' >"$work/fw.bin"
head -c $((98304 - 8)) /dev/urandom >>"$work/fw.bin"
echo "+ dfukit --usbip $sock -l"
build/dfukit --usbip "$sock" -l
echo "+ dfukit --usbip $sock -a 0 -s 0x08000000:leave -D fw.bin"
build/dfukit --usbip "$sock" -a 0 -s 0x08000000:leave -D "$work/fw.bin"
kill "$emu_pid"; wait "$emu_pid" 2>/dev/null || true; emu_pid=
# The first memory in the file is the internal flash at 0x08000000.
if cmp -n 98304 "$work/fw.bin" "$work/flash.mem"; then
	echo "demo: device flash matches the image"
else
	echo "demo: device flash differs from the image" >&2
	exit 1
fi
echo "demo: emulator statistics: $(tr -d '\n' <"$work/stats.json")"
