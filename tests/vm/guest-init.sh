#!/bin/busybox sh
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# /init of the test guest: a minimal userspace, then /test.sh; its exit code
# goes to the serial console as "@@EXIT N" and the guest powers off.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mkdir -p /run /var/run
ip link set lo up 2>/dev/null
# Kernel messages stay in dmesg: the console carries the test's lines.
dmesg -n 1
# libusb hears of new devices only through udev; see uevent-relay.c.
[ -x /bin/uevent-relay ] && /bin/uevent-relay &
rc=1
[ -x /test.sh ] && { /test.sh; rc=$?; }
echo "@@EXIT $rc"
sync
poweroff -f
