#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Boots the kernel and initramfs under QEMU/TCG (no KVM here) with the serial
# console on stdout; exits with the guest script's status, 124 on timeout.
# Usage: run-qemu.sh CACHE INITRAMFS LOG [TIMEOUT_S]
set -uo pipefail
CACHE=$1 INITRD=$2 LOG=$3 TMO=${4:-400}
KVER=$(cat "$CACHE/kver")
timeout --kill-after=10 "$TMO" qemu-system-x86_64 -accel tcg -cpu max -smp 1 -m 768 \
	-nodefaults -display none -monitor none -serial stdio -no-reboot \
	-kernel "$CACHE/kpkg/boot/vmlinuz-$KVER" -initrd "$INITRD" \
	-append "console=ttyS0 panic=-1 quiet" </dev/null 2>&1 | tr -d '\r' | tee "$LOG"
qrc=${PIPESTATUS[0]}
[ "$qrc" = 124 ] && { echo "run-qemu: guest timed out after ${TMO}s" >&2; exit 124; }
rc=$(sed -n 's/^@@EXIT \([0-9]*\)$/\1/p' "$LOG" | tail -1)
[ -n "$rc" ] || { echo "run-qemu: the guest ended without a result (qemu exit $qrc)" >&2; exit 125; }
exit "$rc"
