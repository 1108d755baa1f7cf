/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit-emu: the USB/IP protocol engine of one connection. Bytes in, bytes
 * out, timers given as clock values by the caller; no sockets, no sleeping,
 * so that fuzz targets and unit tests drive it with plain buffers. */
#ifndef DFUKIT_EMU_SESSION_H
#define DFUKIT_EMU_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emu_device.h"

/* The virtual bus: devices 1-1, 1-2, ... on bus 1, as usbipd exports them
 * (or at the port paths their descriptions give). */
#define EMU_BUSNUM 1u
#define EMU_SYSFS_USB "/sys/devices/platform/dfukit-emu/usb" /* + busnum */
#define EMU_FIRST_DEVNUM 2u
#define EMU_MAX_DEVICES 64

/* One exported device. */
typedef struct emu_port {
	emu_device *dev;
	char busid[32];	    /* "1-N", or the port path its description gives ("2-1.4") */
	uint32_t busnum;    /* the number before the '-' */
	uint32_t devnum;    /* what OP_REP_* announce (devid = busnum << 16 | devnum) */
	bool held;	    /* a connection holds its import */
	uint64_t arrive_ms; /* off the bus (not listed, not importable) before this
			     * time of the sessions' clock; 0: from the start */
} emu_port;

typedef struct emu_bus {
	emu_port ports[EMU_MAX_DEVICES];
	size_t n;
	uint32_t next_devnum; /* given to a device that comes back on the bus */
} emu_bus;

/* Puts dev on the bus as the next port (busid 1-N, the next devnum);
 * false when full. */
bool emu_bus_add(emu_bus *bus, emu_device *dev);
/* Puts dev on the bus at busid ("BUS-PORT[.PORT]...") and devnum (1 to
 * 127); false when full, or when another port has that busid or that
 * devnum on the same bus. */
bool emu_bus_add_at(emu_bus *bus, emu_device *dev, const char *busid, uint32_t devnum);
/* The port with that busid, NULL when none. */
emu_port *emu_bus_find(emu_bus *bus, const char *busid);

/* Statistics of every device: {"devices":{"1-1":{...},...}} and a newline
 * (emu_stats.c). */
void emu_bus_write_stats(const emu_bus *bus, FILE *f);
/* The same into a file, atomically (temp file + rename); false on error
 * with a message in err. */
bool emu_bus_write_stats_file(const emu_bus *bus, const char *path, char *err, size_t errsz);

typedef struct emu_session emu_session;

/* A connection from a USB/IP host: OP_REQ_DEVLIST lists every device on the
 * bus, OP_REQ_IMPORT takes one that no other session holds (ST_DEV_BUSY
 * otherwise, as from usbipd). URBs sent without the handshake go to the
 * first device. */
emu_session *emu_session_new(emu_bus *bus, uint64_t now_ms);
/* The peer is vhci-hcd attached to this port: URBs only, no OP_* handshake
 * and no idle limit before the first request. The session holds the port. */
emu_session *emu_session_new_direct(emu_bus *bus, emu_port *port, uint64_t now_ms);
/* Frees the session. A port it held is released: the host going away is a
 * USB bus reset for its device, which comes back at a new devnum when it
 * left the bus or changes mode on that reset. */
void emu_session_free(emu_session *s);

/* Feeds bytes received from the peer; any split of the stream is fine. */
void emu_session_input(emu_session *s, const uint8_t *buf, size_t len, uint64_t now_ms);
/* Releases delayed replies that are due and applies idle limits. */
void emu_session_tick(emu_session *s, uint64_t now_ms);
/* The next time emu_session_tick has work, UINT64_MAX for none. */
uint64_t emu_session_deadline(const emu_session *s);

/* Bytes waiting to be sent, and how many of them went out. */
const uint8_t *emu_session_output(const emu_session *s, size_t *len);
void emu_session_consume(emu_session *s, size_t n);

/* False while enough work is queued that reading more would only buffer. */
bool emu_session_wants_input(const emu_session *s);
/* True once the connection must be closed after its output is flushed. */
bool emu_session_done(const emu_session *s);
/* The port this session imported (or sent URBs to directly), NULL when
 * none: its going away is a host disconnect (bus reset, statistics). */
emu_port *emu_session_port(const emu_session *s);
/* The bus event that ended the session (EMU_EVENT_NONE otherwise). */
emu_event emu_session_event(const emu_session *s);
/* Why the session is done, for the log ("" while it is not). */
const char *emu_session_reason(const emu_session *s);

#endif
