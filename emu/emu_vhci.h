/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit-emu: attaching the virtual device to the local vhci-hcd through
 * its sysfs interface (protocols.md C.5), without the usbip tool. */
#ifndef DFUKIT_EMU_VHCI_H
#define DFUKIT_EMU_VHCI_H

#include <stddef.h>
#include <stdint.h>

#define EMU_VHCI_SYSFS "/sys/devices/platform/vhci_hcd.0"
/* The USB2 root hub of the first controller: ports 0-7 (C.5: a full-speed
 * device must use an hs port number or detach addresses the wrong hub). */
#define EMU_VHCI_HS_PORTS 8
#define EMU_VHCI_SPEED_FULL 2

typedef struct emu_vhci {
	char dir[512]; /* sysfs directory of controller 0 */
	int port;      /* attached port, -1 when detached */
} emu_vhci;

/* Checks that dir exists (vhci-hcd loaded); -1 with a message otherwise. */
int emu_vhci_open(emu_vhci *v, const char *dir, char *err, size_t errsz);

/* Lists the free hs ports from the status text (both the current layout
 * "hs  0000 004 ..." and the older one without the hub column). Returns
 * how many were written to ports (at most max). */
int emu_vhci_free_ports(const char *status, int *ports, int max);

/* Creates a socket pair, hands one end to the kernel on a free port
 * (trying the next one on EBUSY) with the given devid at full speed, and
 * returns the other end, or -1 with a message. */
int emu_vhci_attach(emu_vhci *v, uint32_t devid, char *err, size_t errsz);

/* Detaches the attached port (no-op when none); -1 with a message on
 * failure. */
int emu_vhci_detach(emu_vhci *v, char *err, size_t errsz);

#endif
