#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# dfukit-emu --attach-vhci against a fake vhci_hcd sysfs directory
# (DFUKIT_EMU_VHCI_DIR): port choice from `status`, the line written to
# `attach`, and the errors. The real kernel path runs in the VM tests.
. "$(dirname "$0")/lib.sh" "$1"

V="$T/vhci_hcd.0"
mkdir -p "$V"
{
	echo "hub port sta spd dev      sockfd local_busid"
	echo "hs  0000 006 002 00010002 000005 1-1"
	echo "hs  0001 004 000 00000000 000000 0-0"
	for p in 2 3 4 5 6 7; do printf 'hs  %04d 004 000 00000000 000000 0-0\n' $p; done
	for p in 8 9 10 11 12 13 14 15; do printf 'ss  %04d 004 000 00000000 000000 0-0\n' $p; done
} >"$V/status"
: >"$V/attach"
: >"$V/detach"

# A regular file stands for the attribute, so the "kernel" end of the
# socket pair is closed at once: the emulator sees the host detach and
# exits without writing detach (the port is no longer its own).
t_host_detach() {
	DFUKIT_EMU_VHCI_DIR="$V" timeout 20 "$EMU" --profile stm32f405 --attach-vhci 2>"$T/log"
	expect_eq "exit status when the host detaches" "$?" 0
	log=$(cat "$T/log")
	expect_match "ready line names the port" "$log" 'dfukit-emu: stm32f405 listening on vhci port 1 '
	expect_match "host detach reported" "$log" 'vhci port 1 detached by the host'
	expect_match "attach line: port fd devid full-speed" "$(cat "$V/attach")" '^1 [0-9]+ 65538 2$'
	expect_eq "no detach written" "$(cat "$V/detach")" ""
}

# --count 2: each device attached on its own, with its own devid; the
# program ends once the host has detached both.
t_two_devices() {
	: >"$V/attach"
	DFUKIT_EMU_VHCI_DIR="$V" timeout 20 "$EMU" --profile stm32f405 --count 2 --attach-vhci 2>"$T/log"
	expect_eq "two devices: exit status when the host detaches both" "$?" 0
	log=$(cat "$T/log")
	expect_match "two devices: 1-1 attached with devid 0x00010002" "$log" 'listening on vhci port 1 \(.*, devid 0x00010002, 1-1\)'
	expect_match "two devices: 1-2 attached with devid 0x00010003" "$log" 'listening on vhci port 1 \(.*, devid 0x00010003, 1-2\)'
	expect_eq "two devices: both detached by the host" "$(grep -c 'detached by the host' "$T/log")" 2
}

# The older status layout without the hub column.
t_old_layout() {
	{
		echo "port sta spd dev      socket           local_busid"
		echo "0000 004 000 00000000 0000000000000000 0-0"
	} >"$V/status"
	DFUKIT_EMU_VHCI_DIR="$V" timeout 20 "$EMU" --profile stm32f405 --attach-vhci 2>"$T/log"
	expect_eq "old layout: exit status" "$?" 0
	expect_match "old layout: port 0" "$(cat "$V/attach")" '^0 [0-9]+ 65538 2$'
}

# No free hs port (ss ports do not count for a full-speed device).
t_no_free_port() {
	{
		echo "hub port sta spd dev      sockfd local_busid"
		for p in 0 1 2 3 4 5 6 7; do printf 'hs  %04d 006 002 00010002 000005 1-1\n' $p; done
		for p in 8 9 10 11 12 13 14 15; do printf 'ss  %04d 004 000 00000000 000000 0-0\n' $p; done
	} >"$V/status"
	DFUKIT_EMU_VHCI_DIR="$V" timeout 20 "$EMU" --profile stm32f405 --attach-vhci 2>"$T/log"
	expect_eq "all ports busy: exit status" "$?" 74
	expect_match "all ports busy: message" "$(cat "$T/log")" 'no free port'
}

# vhci-hcd not loaded.
t_not_loaded() {
	DFUKIT_EMU_VHCI_DIR="$T/nonexistent" timeout 20 "$EMU" --profile stm32f405 --attach-vhci 2>"$T/log"
	expect_eq "missing sysfs: exit status" "$?" 74
	expect_match "missing sysfs: message" "$(cat "$T/log")" 'vhci-hcd is not loaded \(run .modprobe vhci-hcd'
}

# --attach-vhci and --listen exclude each other.
t_listen_conflict() {
	"$EMU" --profile stm32f405 --attach-vhci --listen unix:"$T/x" 2>"$T/log"
	expect_eq "attach-vhci with listen: exit status" "$?" 64
}

run_scenarios "${@:2}"
