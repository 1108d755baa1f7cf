# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Shared by the guest scripts (busybox sh): start/stop the virtual device on
# vhci-hcd, wait for it in sysfs, time jobs, read the emulator's stats.
EMU_PID=
now_ms() { awk '{printf "%d\n", $1 * 1000}' /proc/uptime; }
dev_present() { # VID:PID
	for d in /sys/bus/usb/devices/*; do
		[ -f "$d/idVendor" ] || continue
		[ "$(cat "$d/idVendor"):$(cat "$d/idProduct")" = "$1" ] || continue
		[ "$(cat "$d/bConfigurationValue" 2>/dev/null)" = 1 ] || continue
		bus=$(printf %03d "$(cat "$d/busnum")")
		dev=$(printf %03d "$(cat "$d/devnum")")
		[ -e "/dev/bus/usb/$bus/$dev" ] && return 0
	done
	return 1
}
count_present() { # VID:PID: how many such devices are configured with their node
	n=0
	for d in /sys/bus/usb/devices/*; do
		[ -f "$d/idVendor" ] || continue
		[ "$(cat "$d/idVendor"):$(cat "$d/idProduct")" = "$1" ] || continue
		[ "$(cat "$d/bConfigurationValue" 2>/dev/null)" = 1 ] || continue
		[ -e "/dev/bus/usb/$(printf %03d "$(cat "$d/busnum")")/$(printf %03d "$(cat "$d/devnum")")" ] && n=$((n + 1))
	done
	echo $n
}
wait_present() { # VID:PID [TENTHS]: the device is configured and has its node
	i=0
	while [ $i -lt "${2:-150}" ]; do
		dev_present "$1" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "device $1 did not appear" >&2
	return 1
}
wait_gone() { # VID:PID [TENTHS]: the device left the bus and stays away
	i=0
	while [ $i -lt "${2:-30}" ]; do
		if ! dev_present "$1"; then
			# Not a re-enumeration: still away a second later.
			sleep 1
			dev_present "$1" || return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
emu_start() { # PROFILE MEMFILE STATSFILE [more emulator options]
	p=$1 mem=$2 stats=$3
	shift 3
	/bin/dfukit-emu --profile "$p" --memory "$mem" --stats "$stats" --attach-vhci "$@" 2>>/tmp/emu.log &
	EMU_PID=$!
}
emu_stop() { # the emulator writes its memory and stats and detaches at SIGTERM
	[ -n "$EMU_PID" ] || return 0
	kill "$EMU_PID" 2>/dev/null
	wait "$EMU_PID" 2>/dev/null
	EMU_PID=
	# vhci needs a moment to tear the port down before the next attach.
	i=0
	while grep -q '^hs  000[0-7] 006' /sys/devices/platform/vhci_hcd.0/status 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
}
stat_field() { # FILE KEY -> number (first occurrence)
	sed -n "s/.*\"$2\": *\([0-9][0-9]*\).*/\1/p" "$1" 2>/dev/null | head -1
}
mem_region() { # MEMFILE OFFSET LEN OUT: LEN bytes at OFFSET
	tail -c +$(($2 + 1)) "$1" | head -c "$3" >"$4"
}
