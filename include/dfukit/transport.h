/* libdfukit: transports. Each way of reaching USB devices (libusb, a USB/IP
 * server) sits behind one table of function pointers, as libusb's OS
 * backends do; the engine only ever calls through dfk_transport_ops. */
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

typedef struct dfk_transport dfk_transport;
typedef struct dfk_usb dfk_usb; /* an open device */

/* One USB device as a transport sees it. */
typedef struct dfk_usb_dev {
	char path[64]; /* port path as dfu-util prints it: "1-1.2"; USB/IP: the busid */
	uint8_t busnum;
	uint8_t devnum;
	dfk_device_desc desc;
	dfk_config_desc *configs;
	size_t nconfigs;
	void *backend; /* private to the transport */
} dfk_usb_dev;

typedef struct dfk_usb_list {
	dfk_usb_dev *devs;
	size_t count;
} dfk_usb_list;

typedef struct dfk_setup {
	uint8_t bmRequestType;
	uint8_t bRequest;
	uint16_t wValue;
	uint16_t wIndex;
	uint16_t wLength;
} dfk_setup;

typedef struct dfk_transport_ops {
	const char *name;
	void (*destroy)(dfk_transport *t);
	/* Lists devices with their device and configuration descriptors. */
	dfk_code (*enumerate)(dfk_transport *t, dfk_usb_list *list, dfk_error *err);
	void (*list_free)(dfk_transport *t, dfk_usb_list *list);
	dfk_code (*open)(dfk_transport *t, const dfk_usb_dev *dev, dfk_usb **h, dfk_error *err);
	void (*close)(dfk_usb *h);
	/* One control transfer; data has setup->wLength bytes of room. A STALL
	 * is DFK_ERR_STALL, a vanished device DFK_ERR_NODEV, no answer within
	 * timeout_ms DFK_ERR_TIMEOUT. *actual gets the bytes moved. */
	dfk_code (*control)(dfk_usb *h, const dfk_setup *setup, uint8_t *data, size_t *actual, unsigned timeout_ms,
			    dfk_error *err);
	dfk_code (*claim)(dfk_usb *h, uint8_t intf, dfk_error *err);
	void (*release)(dfk_usb *h, uint8_t intf);
	dfk_code (*set_alt)(dfk_usb *h, uint8_t intf, uint8_t alt, dfk_error *err);
	/* USB bus reset; the device may re-enumerate (DFK_ERR_NODEV is normal). */
	dfk_code (*reset)(dfk_usb *h, dfk_error *err);
} dfk_transport_ops;

struct dfk_transport {
	const dfk_transport_ops *ops;
	void *priv;
};

/* Every backend's open handle starts with this. */
struct dfk_usb {
	const dfk_transport_ops *ops;
	dfk_transport *transport;
};

/* libusb-1.0; debug_level 0..4 is passed to LIBUSB_OPTION_LOG_LEVEL. */
DFK_API dfk_code dfk_transport_libusb_new(dfk_transport **t, int debug_level, dfk_error *err);
/* The version of the libusb-1.0 loaded at run time ("1.0.26.11724"), written
 * into buf (truncated to size); returns buf. */
DFK_API const char *dfk_transport_libusb_version(char *buf, size_t size);
/* USB/IP client: "HOST", "HOST:PORT" (default port 3240) or "unix:PATH". */
DFK_API dfk_code dfk_transport_usbip_new(dfk_transport **t, const char *spec, dfk_error *err);
DFK_API void dfk_transport_free(dfk_transport *t);

/* Thin wrappers over the ops. */
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
