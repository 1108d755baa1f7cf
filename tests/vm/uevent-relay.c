/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* The guest's stand-in for udevd: Debian's libusb learns about devices that
 * appear after libusb_init() only from udev's netlink group, never from the
 * kernel's, so without udevd neither dfu-util nor dfukit could find a device
 * that re-enumerates (DFU detach, leave). This relays every kernel uevent,
 * unchanged, to the udev group; libudev accepts such a kernel-format message
 * from a root sender (it then counts as not yet initialised, which libusb
 * does not look at). udevd itself is not in the guest because it needs
 * systemd's shared library and rules; a 40-line relay does the one thing
 * libusb needs. Usage: uevent-relay (runs until killed). */
#include <linux/netlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { GROUP_KERNEL = 1, GROUP_UDEV = 2 };

int main(void)
{
	struct sockaddr_nl in = {.nl_family = AF_NETLINK, .nl_groups = GROUP_KERNEL};
	struct sockaddr_nl out = {.nl_family = AF_NETLINK, .nl_groups = GROUP_UDEV};
	int rx = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	int tx = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	int big = 1 << 20;
	static char buf[16384];

	if (rx < 0 || tx < 0 || bind(rx, (struct sockaddr *)&in, sizeof(in)) != 0) {
		perror("uevent-relay: netlink");
		return 1;
	}
	setsockopt(rx, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	for (;;) {
		struct sockaddr_nl from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(rx, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		/* Only the kernel's own messages (port 0), so nothing loops. */
		if (n <= 0 || from.nl_pid != 0)
			continue;
		/* A full udev group (nobody listening) is not an error. */
		(void)sendto(tx, buf, (size_t)n, 0, (struct sockaddr *)&out, sizeof(out));
	}
}
