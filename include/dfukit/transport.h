/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* libdfukit: transports. Each way of reaching USB devices (libusb, a USB/IP
 * server) is a backend behind one private table of operations, as libusb's
 * OS backends are; programs see opaque transports and open devices and
 * use them through the engine (dfk_find, dfk_dev_open) or the thin
 * wrappers below. */
#ifndef DFUKIT_TRANSPORT_H
#define DFUKIT_TRANSPORT_H

#include "dfukit/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dfukit/error.h"
#include "dfukit/usb.h"

#ifdef __cplusplus
extern "C" {
#endif

struct dfk_ctx;				    /* dfk_ctx, device.h */
typedef struct dfk_transport dfk_transport; /* opaque */
typedef struct dfk_usb dfk_usb;		    /* an open device (opaque) */

/* One USB device as a transport listed it. Only ever handed out by the
 * library (const, owned by the list it came from; see dfk_found_usb_get),
 * which may append fields. */
typedef struct dfk_usb_dev {
	char path[64]; /* port path as dfu-util prints it: "1-1.2"; USB/IP: the busid */
	uint8_t busnum;
	uint8_t devnum;
	dfk_device_desc desc;
	dfk_config_desc *configs;
	size_t nconfigs;
} dfk_usb_dev;

/* A USB SETUP packet (fixed by the USB specification: never grows). */
typedef struct dfk_setup {
	uint8_t bmRequestType;
	uint8_t bRequest;
	uint16_t wValue;
	uint16_t wIndex;
	uint16_t wLength;
} dfk_setup;

/* The constructors keep ctx (clock, log): it must outlive the transport.
 * Free a transport with dfk_transport_free, after closing every device
 * opened through it and freeing every list it made.
 * Threads: a transport and everything made through it (lists, open
 * devices, handles) is used by one thread at a time; different transports
 * are independent and may be used in parallel. */

/* libusb-1.0, with a libusb context of the transport's own (never libusb's
 * default one); debug_level 0..4 is passed to LIBUSB_OPTION_LOG_LEVEL.
 * libusb times its transfers on the system clock. */
DFK_API dfk_code dfk_transport_libusb_new(dfk_transport **t, const struct dfk_ctx *ctx, int debug_level,
					  dfk_error *err);
/* The version of the libusb-1.0 loaded at run time ("1.0.26.11724"), written
 * into buf (truncated to size); returns buf. */
DFK_API const char *dfk_transport_libusb_version(char *buf, size_t size);
/* USB/IP client: "HOST", "HOST:PORT" (default port 3240) or "unix:PATH".
 * Connects only when used. All its time limits are read on ctx's clock:
 * with dfk_clock_system() it waits in poll(); with another clock it looks
 * at its sockets between sleeps of 1 ms on that clock, so that a test
 * clock decides how fast time passes. */
DFK_API dfk_code dfk_transport_usbip_new(dfk_transport **t, const struct dfk_ctx *ctx, const char *spec,
					 dfk_error *err);
/* Several transports as one device space (a farm of USB/IP servers): each
 * device's path becomes its transport's name, "/", and its own path
 * ("lab2:3240/1-4"). Takes the n children (their context must be ctx)
 * when it succeeds; on failure they stay the caller's. Names are unique,
 * 1 to 48 bytes, not ending in "/". */
DFK_API dfk_code dfk_transport_multi_new(dfk_transport **t, const struct dfk_ctx *ctx, dfk_transport *const *children,
					 const char *const *names, size_t n, dfk_error *err);
/* Makes t list only the device at path (as dfk_usb_dev.path names it;
 * NULL or "": every device), touching no other: the USB/IP transport then
 * imports only that device. For a transport per device, one thread each
 * (several devices flashed at once). */
DFK_API dfk_code dfk_transport_set_only_path(dfk_transport *t, const char *path, dfk_error *err);
/* Frees t and what it holds (NULL is fine). */
DFK_API void dfk_transport_free(dfk_transport *t);
/* "libusb", "usbip"; owned by the library. */
DFK_API const char *dfk_transport_name(const dfk_transport *t);

/* ---- Thin wrappers over one open USB device ---- */
/* Opens dev, which must come from a list of t that is still alive
 * (dfk_found_usb_get, or the dev of a dfk_found_get interface); the
 * handle does not depend on the list afterwards. DFK_ERR_USAGE for a
 * device t did not list (e.g. the copy in an open dfk_dev). */
DFK_API dfk_code dfk_usb_open(dfk_transport *t, const dfk_usb_dev *dev, dfk_usb **h, dfk_error *err);
/* Closes and frees h (NULL is fine). */
DFK_API void dfk_usb_close(dfk_usb *h);
/* One control transfer; data has setup->wLength bytes of room. A STALL is
 * DFK_ERR_STALL, a vanished device DFK_ERR_NODEV, no answer within
 * timeout_ms DFK_ERR_TIMEOUT; *actual (may be NULL) gets the bytes moved. */
DFK_API dfk_code dfk_usb_control(dfk_usb *h, const dfk_setup *setup, uint8_t *data, size_t *actual, unsigned timeout_ms,
				 dfk_error *err);
/* Reads string descriptor index (0 gives ""), caching the LANGID table in
 * langid (0 = not read yet). */
DFK_API dfk_code dfk_usb_get_string(dfk_usb *h, uint8_t index, uint16_t *langid, char *out, size_t outsz,
				    unsigned timeout_ms, dfk_error *err);

#ifdef __cplusplus
}
#endif
#endif
