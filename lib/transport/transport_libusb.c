/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* libusb-1.0 transport: real USB devices. Each transport owns its own
 * libusb context (never the library-wide default one), so two transports
 * or two users of libdfukit in one process do not share state. */
#include "backend.h"
#include "dynbuf.h"

#include <libusb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USB_DT_CONFIG_SIZE 9
#define USB_DT_INTERFACE_SIZE 9
#define USB_DT_ENDPOINT_SIZE 7

/* The backend's part of the transport. */
struct lu_transport {
	libusb_context *ctx;
};

/* The backend's part of an open handle. */
struct lu_handle {
	libusb_device_handle *h;
	char path[64];
};

static dfk_code lu_code(int rc)
{
	switch (rc) {
	case LIBUSB_SUCCESS: return DFK_OK;
	case LIBUSB_ERROR_PIPE: return DFK_ERR_STALL;
	case LIBUSB_ERROR_NO_DEVICE: return DFK_ERR_NODEV;
	case LIBUSB_ERROR_TIMEOUT: return DFK_ERR_TIMEOUT;
	case LIBUSB_ERROR_NO_MEM: return DFK_ERR_NOMEM;
	default: return DFK_ERR_IO;
	}
}

/* ---- descriptors ----------------------------------------------------------- */

struct bytes {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

static void put(struct bytes *b, const void *src, size_t n)
{
	if (b->oom || n == 0)
		return;
	void *p = b->p;
	dfk_code rc = dfk_grow(&p, &b->cap, b->len + n, 1, SIZE_MAX, "descriptors", NULL);
	b->p = p;
	if (rc != DFK_OK) {
		b->oom = true;
		return;
	}
	memcpy(b->p + b->len, src, n);
	b->len += n;
}

/* libusb hands out configurations already parsed into structs, with every
 * descriptor it does not know (such as the DFU functional descriptor) kept
 * in the `extra` bytes of the config, interface or endpoint it followed.
 * Laying them back out in descriptor order lets the one bounds-checked
 * parser in usb_desc.c interpret them for both transports: a functional
 * descriptor in an alt's extra (or its endpoints') belongs to that alt,
 * one in the config's extra only to the config, as dfu-util reads them. */
static dfk_code flatten_config(const struct libusb_config_descriptor *c, struct bytes *b, dfk_error *err)
{
	uint8_t d[USB_DT_INTERFACE_SIZE];

	d[0] = USB_DT_CONFIG_SIZE;
	d[1] = LIBUSB_DT_CONFIG;
	d[2] = d[3] = 0; /* wTotalLength, patched below */
	d[4] = c->bNumInterfaces;
	d[5] = c->bConfigurationValue;
	d[6] = c->iConfiguration;
	d[7] = c->bmAttributes;
	d[8] = c->MaxPower;
	put(b, d, USB_DT_CONFIG_SIZE);
	if (c->extra_length > 0)
		put(b, c->extra, (size_t)c->extra_length);
	for (int i = 0; i < c->bNumInterfaces && c->interface; i++) {
		const struct libusb_interface *intf = &c->interface[i];
		for (int a = 0; a < intf->num_altsetting; a++) {
			const struct libusb_interface_descriptor *alt = &intf->altsetting[a];
			d[0] = USB_DT_INTERFACE_SIZE;
			d[1] = LIBUSB_DT_INTERFACE;
			d[2] = alt->bInterfaceNumber;
			d[3] = alt->bAlternateSetting;
			d[4] = alt->bNumEndpoints;
			d[5] = alt->bInterfaceClass;
			d[6] = alt->bInterfaceSubClass;
			d[7] = alt->bInterfaceProtocol;
			d[8] = alt->iInterface;
			put(b, d, USB_DT_INTERFACE_SIZE);
			if (alt->extra_length > 0)
				put(b, alt->extra, (size_t)alt->extra_length);
			for (int e = 0; e < alt->bNumEndpoints && alt->endpoint; e++) {
				const struct libusb_endpoint_descriptor *ep = &alt->endpoint[e];
				d[0] = USB_DT_ENDPOINT_SIZE;
				d[1] = LIBUSB_DT_ENDPOINT;
				d[2] = ep->bEndpointAddress;
				d[3] = ep->bmAttributes;
				d[4] = (uint8_t)ep->wMaxPacketSize;
				d[5] = (uint8_t)(ep->wMaxPacketSize >> 8);
				d[6] = ep->bInterval;
				put(b, d, USB_DT_ENDPOINT_SIZE);
				if (ep->extra_length > 0)
					put(b, ep->extra, (size_t)ep->extra_length);
			}
		}
	}
	if (b->oom)
		return dfk_error_set(err, DFK_ERR_NOMEM, "libusb: out of memory for configuration descriptor");
	if (b->len > 0xFFFF)
		return dfk_error_set(err, DFK_ERR_DATA, "libusb: configuration %u is %zu bytes long (at most 65535)",
				     c->bConfigurationValue, b->len);
	b->p[2] = (uint8_t)b->len;
	b->p[3] = (uint8_t)(b->len >> 8);
	return DFK_OK;
}

/* dfk_usb_node.backend is the libusb_device, referenced. */
static void dev_clear(dfk_usb_node *n)
{
	dfk_usb_dev *d = &n->dev;
	for (size_t i = 0; i < d->nconfigs; i++)
		dfk_config_desc_free(&d->configs[i]);
	free(d->configs);
	d->configs = NULL;
	d->nconfigs = 0;
	if (n->backend)
		libusb_unref_device(n->backend);
	n->backend = NULL;
}

/* dfu-util's path format: "BUS-PORT[.PORT...]". */
static void make_path(libusb_device *dev, char *out, size_t outsz)
{
	uint8_t ports[8];
	int n = libusb_get_port_numbers(dev, ports, (int)sizeof(ports));
	out[0] = '\0';
	if (n < 1)
		return; /* a root hub has no port path */
	size_t len = (size_t)snprintf(out, outsz, "%u-%u", libusb_get_bus_number(dev), ports[0]);
	for (int i = 1; i < n && len < outsz; i++)
		len += (size_t)snprintf(out + len, outsz - len, ".%u", ports[i]);
}

static dfk_code describe(libusb_device *dev, dfk_usb_node *n, dfk_error *err)
{
	dfk_usb_dev *d = &n->dev;
	struct libusb_device_descriptor dd;
	int rc = libusb_get_device_descriptor(dev, &dd);
	if (rc < 0)
		return dfk_error_set(err, lu_code(rc), "libusb: device descriptor of bus %u device %u: %s",
				     libusb_get_bus_number(dev), libusb_get_device_address(dev), libusb_strerror(rc));
	make_path(dev, d->path, sizeof(d->path));
	d->busnum = libusb_get_bus_number(dev);
	d->devnum = libusb_get_device_address(dev);
	d->desc.bcdUSB = dd.bcdUSB;
	d->desc.bDeviceClass = dd.bDeviceClass;
	d->desc.bDeviceSubClass = dd.bDeviceSubClass;
	d->desc.bDeviceProtocol = dd.bDeviceProtocol;
	d->desc.bMaxPacketSize0 = dd.bMaxPacketSize0;
	d->desc.idVendor = dd.idVendor;
	d->desc.idProduct = dd.idProduct;
	d->desc.bcdDevice = dd.bcdDevice;
	d->desc.iManufacturer = dd.iManufacturer;
	d->desc.iProduct = dd.iProduct;
	d->desc.iSerialNumber = dd.iSerialNumber;
	d->desc.bNumConfigurations = dd.bNumConfigurations;
	n->backend = libusb_ref_device(dev);
	if (dd.bNumConfigurations == 0)
		return DFK_OK;
	d->configs = calloc(dd.bNumConfigurations, sizeof(*d->configs));
	if (!d->configs)
		return dfk_error_set(err, DFK_ERR_NOMEM, "libusb: out of memory");
	for (uint8_t i = 0; i < dd.bNumConfigurations; i++) {
		struct libusb_config_descriptor *cfg;
		/* A configuration libusb cannot read or that does not parse is
		 * left out, as dfu-util skips it, rather than hiding the whole
		 * device. */
		if (libusb_get_config_descriptor(dev, i, &cfg) < 0)
			continue;
		struct bytes b = {0};
		dfk_code c = flatten_config(cfg, &b, err);
		libusb_free_config_descriptor(cfg);
		if (c == DFK_OK && dfk_config_desc_parse(b.p, b.len, &d->configs[d->nconfigs], NULL) == DFK_OK)
			d->nconfigs++;
		free(b.p);
		if (c == DFK_ERR_NOMEM)
			return c;
	}
	return DFK_OK;
}

/* ---- ops ---------------------------------------------------------------- */

static void lu_list_free(dfk_transport *t, dfk_usb_list *list)
{
	(void)t;
	if (!list)
		return;
	for (size_t i = 0; i < list->count; i++)
		dev_clear(&list->devs[i]);
	free(list->devs);
	list->devs = NULL;
	list->count = 0;
}

static dfk_code lu_enumerate(dfk_transport *tp, dfk_usb_list *list, dfk_error *err)
{
	struct lu_transport *t = dfk__transport_priv(tp);
	libusb_device **devs = NULL;
	dfk_code rc = DFK_OK;

	list->devs = NULL;
	list->count = 0;
	ssize_t n = libusb_get_device_list(t->ctx, &devs);
	if (n < 0)
		return dfk_error_set(err, lu_code((int)n), "libusb: cannot list USB devices: %s",
				     libusb_strerror((int)n));
	if (n > 0) {
		list->devs = calloc((size_t)n, sizeof(*list->devs));
		if (!list->devs) {
			libusb_free_device_list(devs, 1);
			return dfk_error_set(err, DFK_ERR_NOMEM, "libusb: out of memory for %zd devices", n);
		}
	}
	for (ssize_t i = 0; i < n; i++) {
		dfk_usb_node *d = &list->devs[list->count];
		dfk_error e = {0};
		char path[sizeof(d->dev.path)];
		make_path(devs[i], path, sizeof(path));
		if (!dfk__transport_wants(tp, path))
			continue;
		rc = describe(devs[i], d, &e);
		if (rc == DFK_OK) {
			list->count++;
			continue;
		}
		dev_clear(d);
		memset(d, 0, sizeof(*d));
		if (rc == DFK_ERR_NOMEM) {
			if (err)
				*err = e;
			lu_list_free(tp, list);
			break;
		}
		rc = DFK_OK; /* a device that vanished while being listed */
	}
	libusb_free_device_list(devs, 1);
	return rc;
}

static dfk_code lu_open(dfk_transport *tp, const dfk_usb_node *node, dfk_usb *hb, dfk_error *err)
{
	struct lu_handle *lh = dfk__usb_priv(hb);
	const dfk_usb_dev *dev = &node->dev;
	libusb_device_handle *h;
	(void)tp;
	if (!node->backend)
		return dfk_error_set(err, DFK_ERR_SOFTWARE, "libusb: %s: not a device of this transport", dev->path);
	int rc = libusb_open(node->backend, &h);
	if (rc < 0)
		return dfk_error_set(err, lu_code(rc), "libusb: cannot open device %s (bus %u device %u): %s%s",
				     dev->path, dev->busnum, dev->devnum, libusb_strerror(rc),
				     rc == LIBUSB_ERROR_ACCESS ? " (no permission: udev rules?)" : "");
	/* Detach e.g. a usbhid or cdc_acm driver for the claim, and give the
	 * device back to it when released. Not all platforms can. */
	libusb_set_auto_detach_kernel_driver(h, 1);
	lh->h = h;
	snprintf(lh->path, sizeof(lh->path), "%s", dev->path);
	return DFK_OK;
}

static void lu_close(dfk_usb *hb)
{
	struct lu_handle *h = dfk__usb_priv(hb);
	libusb_close(h->h);
	h->h = NULL;
}

static dfk_code lu_control(dfk_usb *hb, const dfk_setup *s, uint8_t *data, size_t *actual, unsigned timeout_ms,
			   dfk_error *err)
{
	struct lu_handle *h = dfk__usb_priv(hb);
	if (actual)
		*actual = 0;
	int rc = libusb_control_transfer(h->h, s->bmRequestType, s->bRequest, s->wValue, s->wIndex, data, s->wLength,
					 timeout_ms);
	if (rc < 0) {
		dfk_code c = lu_code(rc);
		if (c == DFK_ERR_STALL)
			return dfk_error_set(err, c, "%s: device stalled request 0x%02x (bmRequestType 0x%02x)",
					     h->path, s->bRequest, s->bmRequestType);
		return dfk_error_set(err, c, "libusb: %s: request 0x%02x (bmRequestType 0x%02x): %s", h->path,
				     s->bRequest, s->bmRequestType, libusb_strerror(rc));
	}
	if (actual)
		*actual = (size_t)rc;
	return DFK_OK;
}

static dfk_code lu_claim(dfk_usb *hb, uint8_t intf, dfk_error *err)
{
	struct lu_handle *h = dfk__usb_priv(hb);
	int rc = libusb_claim_interface(h->h, intf);
	if (rc < 0)
		return dfk_error_set(err, lu_code(rc), "libusb: %s: cannot claim interface %u: %s%s", h->path, intf,
				     libusb_strerror(rc),
				     rc == LIBUSB_ERROR_BUSY ? " (another program is using it)" : "");
	return DFK_OK;
}

static void lu_release(dfk_usb *hb, uint8_t intf)
{
	struct lu_handle *h = dfk__usb_priv(hb);
	libusb_release_interface(h->h, intf);
}

static dfk_code lu_set_alt(dfk_usb *hb, uint8_t intf, uint8_t alt, dfk_error *err)
{
	struct lu_handle *h = dfk__usb_priv(hb);
	int rc = libusb_set_interface_alt_setting(h->h, intf, alt);
	if (rc < 0)
		return dfk_error_set(err, lu_code(rc), "libusb: %s: cannot set interface %u alt %u: %s", h->path, intf,
				     alt, libusb_strerror(rc));
	return DFK_OK;
}

static dfk_code lu_reset(dfk_usb *hb, dfk_error *err)
{
	struct lu_handle *h = dfk__usb_priv(hb);
	int rc = libusb_reset_device(h->h);
	if (rc == LIBUSB_ERROR_NOT_FOUND || rc == LIBUSB_ERROR_NO_DEVICE)
		return dfk_error_set(err, DFK_ERR_NODEV, "libusb: %s: device re-enumerated after reset", h->path);
	if (rc < 0)
		return dfk_error_set(err, lu_code(rc), "libusb: %s: reset failed: %s", h->path, libusb_strerror(rc));
	return DFK_OK;
}

static void lu_destroy(dfk_transport *tp)
{
	struct lu_transport *t = dfk__transport_priv(tp);
	if (t->ctx)
		libusb_exit(t->ctx);
	t->ctx = NULL;
}

static const dfk_transport_ops libusb_ops = {
    .name = "libusb",
    .transport_size = sizeof(struct lu_transport),
    .handle_size = sizeof(struct lu_handle),
    .destroy = lu_destroy,
    .enumerate = lu_enumerate,
    .list_free = lu_list_free,
    .open = lu_open,
    .close = lu_close,
    .control = lu_control,
    .claim = lu_claim,
    .release = lu_release,
    .set_alt = lu_set_alt,
    .reset = lu_reset,
};

const char *dfk_transport_libusb_version(char *buf, size_t size)
{
	const struct libusb_version *v = libusb_get_version();
	/* Formatted whole first, then cut to the caller's buffer (gcc -O3
	 * warns about a snprintf it sees truncating). */
	char whole[64];
	if (buf && size) {
		snprintf(whole, sizeof(whole), "%u.%u.%u.%u%s", v->major, v->minor, v->micro, v->nano,
			 v->rc ? v->rc : "");
		size_t n = strlen(whole) < size ? strlen(whole) : size - 1;
		memcpy(buf, whole, n);
		buf[n] = '\0';
	}
	return buf;
}

dfk_code dfk_transport_libusb_new(dfk_transport **out, const dfk_ctx *ctx, int debug_level, dfk_error *err)
{
	dfk_transport *tp;
	if (!out)
		return dfk_error_set(err, DFK_ERR_USAGE, "libusb: no place for the new transport");
	*out = NULL;
	if (!ctx)
		return dfk_error_set(err, DFK_ERR_USAGE, "libusb: a transport needs a context");
	dfk_code code = dfk__transport_new(&libusb_ops, ctx, &tp, err);
	if (code)
		return code;
	struct lu_transport *t = dfk__transport_priv(tp);
	if (debug_level < LIBUSB_LOG_LEVEL_NONE)
		debug_level = LIBUSB_LOG_LEVEL_NONE;
	if (debug_level > LIBUSB_LOG_LEVEL_DEBUG)
		debug_level = LIBUSB_LOG_LEVEL_DEBUG;
	int rc;
#if defined(LIBUSB_API_VERSION) && LIBUSB_API_VERSION >= 0x0100010A
	struct libusb_init_option opt = {.option = LIBUSB_OPTION_LOG_LEVEL, .value = {.ival = debug_level}};
	rc = libusb_init_context(&t->ctx, &opt, 1);
#else
	rc = libusb_init(&t->ctx);
	if (rc == 0)
		libusb_set_option(t->ctx, LIBUSB_OPTION_LOG_LEVEL, debug_level);
#endif
	if (rc < 0) {
		t->ctx = NULL;
		dfk_transport_free(tp);
		/* Containers without /dev/bus/usb end up here. */
		return dfk_error_set(err, rc == LIBUSB_ERROR_NO_MEM ? DFK_ERR_NOMEM : DFK_ERR_NODEV,
				     "libusb: cannot initialise: %s (no USB support on this system?)",
				     libusb_strerror(rc));
	}
	*out = tp;
	return DFK_OK;
}
