#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Devices of the zoo through the real Linux USB stack, dfukit beside dfu-util
# 0.11 (tests/vm/guest-zoo.sh in a QEMU guest, vhci-hcd, --timing real), then
# the fidelity table: for each device and job, what each tool did. Exits
# non-zero when dfukit does not do what the plan says it must.
# Usage: zoo-vm.sh BUILD_DIR [TABLE_OUT.md] [DEVICE|FILE.json...]   (default: the devices below)
set -euo pipefail
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
ZOO=$HERE/../../emu/zoo
TABLE=${2:-$BUILD/zoo-fidelity.md}
shift $(($# < 2 ? $# : 2))
# Quirky ones first, then ordinary ROMs and loaders of several makers.
devices=("$@")
[ ${#devices[@]} -gt 0 ] || devices=(gd32vf103-a blackmagic-probe-wedged stm32h743-rev-v nrf52840-zephyr at32f403a
	at32f415 particle-photon arduino-portenta-h7 tinyusb-dfu stm32duino-bootloader stm32f072)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
files=() paths=()
for d in "${devices[@]}"; do
	f=$d
	[ -f "$f" ] || f=$ZOO/$d.json
	[ -f "$f" ] || { echo "zoo-vm: no description $f" >&2; exit 1; }
	paths+=("$f")
	files+=("$f:/zoo/$(basename "$f")")
done
python3 "$HERE/zoo-plan.py" "${paths[@]}" >"$W/plan.txt"
rc=0
VM_TIMEOUT=${VM_TIMEOUT:-1500} bash "$HERE/vm-test.sh" "$BUILD" "$HERE/guest-zoo.sh" "${files[@]}" \
	"$W/plan.txt:/zoo/plan.txt" >"$W/log" 2>&1 || rc=$?
grep -E '^@@(ZOO|FAIL)|^    \|' "$W/log" || true
bash "$HERE/zoo-table.sh" "$W/log" >"$TABLE"
cat "$TABLE"
if [ $rc != 0 ]; then
	tail -30 "$W/log" >&2
	echo "zoo-vm: the guest run failed (exit $rc)" >&2
fi
exit $rc
