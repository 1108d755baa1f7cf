/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* An open DFU interface: the handle, the claimed interface, the selected alt
 * and what belongs to it (transfer size, memory map). */
#include <stdlib.h>
#include <string.h>

#include "dfu_internal.h"
#include "dfukit/device.h"

/* libusb cannot move more than this in one control transfer on Linux usbfs
 * and WinUSB; dfu-util clamps on Linux only, we clamp everywhere so the
 * same command behaves the same on every transport. */
#define DFK_MAX_TRANSFER 4096

struct dfk_dev {
	const dfk_ctx *ctx;
	dfk_dfu_if ifc;	   /* a copy, whose dev is udev */
	dfk_usb_node udev; /* a copy of the device's descriptors: the list may go */
	dfk_usb *usb;
	bool claimed;
	uint16_t xfer;
	uint16_t langid; /* LANGID cache for string reads */
	bool have_map;
	dfk_memmap map;
	/* SET_INTERFACE of the open failed for a transfer reason: the first
	 * job reports it (dfk__dev_ready) in its own context. */
	bool alt_pending, alt_retried;
	dfk_error alt_err;
	/* Bringing the device to a defined state after a cancel: requests and
	 * sleeps no longer stop for the cancel request. */
	bool settling;
	uint64_t requests; /* control transfers sent */
	dfk_quirks quirks;
	bool after_dnload; /* the last class request was a DNLOAD */
};

bool dfk__gone(dfk_code code)
{
	return code == DFK_ERR_NODEV || code == DFK_ERR_IO || code == DFK_ERR_STALL || code == DFK_ERR_TIMEOUT;
}

bool dfk__dev_cancelled(const dfk_dev *dev)
{
	return !dev->settling && dfk_ctx_cancelled(dev->ctx);
}

void dfk__dev_settling(dfk_dev *dev, bool on)
{
	dev->settling = on;
}

dfk_code dfk__dev_sleep(dfk_dev *dev, uint32_t ms)
{
	if (dev->settling) {
		dfk__sleep(dev->ctx, ms);
		return DFK_OK;
	}
	return dfk_ctx_sleep(dev->ctx, ms);
}

void dfk__dev_count_request(dfk_dev *dev)
{
	dev->requests++;
}

const dfk_quirks *dfk__dev_quirks(const dfk_dev *dev)
{
	return &dev->quirks;
}

unsigned dfk__dev_request_timeout(dfk_dev *dev, uint8_t req)
{
	unsigned ms = dev->ctx->usb_timeout_ms, cap = dev->ctx->op_timeout_ms;
	bool may_erase = req == DFK_REQ_DNLOAD || (req == DFK_REQ_GETSTATUS && dev->after_dnload);

	dev->after_dnload = req == DFK_REQ_DNLOAD;
	if (may_erase && (dev->quirks.flags & DFK_QUIRK_ERASE_IN_TRANSFER) && dev->quirks.long_timeout_ms > ms)
		ms = dev->quirks.long_timeout_ms < cap ? dev->quirks.long_timeout_ms : (cap > ms ? cap : ms);
	return ms;
}

uint64_t dfk__dev_requests(const dfk_dev *dev)
{
	return dev->requests;
}

dfk_code dfk__dev_reset(dfk_dev *dev, dfk_error *err)
{
	dfk_code code = dfk__usb_reset(dev->usb, err);

	/* A device that re-enumerates often drops off during its reset. */
	if (code && dfk__gone(code))
		code = DFK_ERR_NODEV;
	return code;
}

dfk_code dfk_dev_open(const dfk_ctx *ctx, const dfk_dfu_if *ifc, dfk_dev **out, dfk_error *err)
{
	DFK_ERR_ENSURE(err);
	dfk_transport *t = ifc ? ifc->transport : NULL;
	dfk_dev *dev;
	dfk_code code;

	*out = NULL;
	if (!ctx || !ifc || !t || !ifc->dev)
		return dfk_error_set(err, DFK_ERR_SOFTWARE, "interface was not found through a transport");
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return dfk_error_set(err, DFK_ERR_NOMEM, "out of memory");
	dev->ctx = ctx;
	dfk_quirks_lookup(ifc->dev->desc.idVendor, ifc->dev->desc.idProduct, ifc->dev->desc.bcdDevice, &dev->quirks);
	if (dev->quirks.name)
		dfk_log(ctx, DFK_LOG_DEBUG, "%04x:%04x bcdDevice %04x: known quirks of %s applied",
			ifc->dev->desc.idVendor, ifc->dev->desc.idProduct, ifc->dev->desc.bcdDevice, dev->quirks.name);
	code = dfk__usb_dev_copy(&dev->udev, ifc->dev, err);
	if (code) {
		free(dev);
		return code;
	}
	dev->ifc = *ifc;
	dev->ifc.dev = &dev->udev.dev;
	code = dfk_usb_open(t, ifc->dev, &dev->usb, err);
	if (code) {
		dfk__usb_dev_clear(&dev->udev);
		free(dev);
		return dfk_error_prefix(err, "cannot open %04x:%04x at %s", ifc->dev->desc.idVendor,
					ifc->dev->desc.idProduct, ifc->dev->path);
	}
	code = dfk__usb_claim(dev->usb, ifc->intf, err);
	if (code) {
		dfk_dev_close(dev);
		return dfk_error_prefix(err, "cannot claim interface %u", ifc->intf);
	}
	dev->claimed = true;
	/* SET_INTERFACE only when there is a choice: alt 0 is selected by
	 * SET_CONFIGURATION already, and some devices stall it. */
	if (ifc->nalts > 1) {
		code = dfk__usb_set_alt(dev->usb, ifc->intf, ifc->alt, err);
		if (code)
			dfk_error_prefix(err, "cannot select alt setting %u of interface %u", ifc->alt, ifc->intf);
		if (code && dfk__gone(code)) {
			/* Only the job knows what it was for: it reports this. */
			dev->alt_pending = true;
			dev->alt_err = *err;
			dfk_error_clear(err);
		} else if (code) {
			dfk_dev_close(dev);
			return code;
		}
	}
	dev->xfer = ifc->func.wTransferSize;
	if (dev->xfer > DFK_MAX_TRANSFER) {
		dfk_log(ctx, DFK_LOG_INFO, "wTransferSize %u limited to %u", dev->xfer, DFK_MAX_TRANSFER);
		dev->xfer = DFK_MAX_TRANSFER;
	}
	*out = dev;
	return DFK_OK;
}

dfk_code dfk__dev_ready(dfk_dev *dev, dfk_error *err)
{
	dfk_code code;

	if (!dev->alt_pending)
		return DFK_OK;
	/* A stall is an answer: the device is there, so it is asked once more.
	 * Gone or silent: asking again would only wait once more. */
	if (dev->alt_err.code != DFK_ERR_STALL || dev->alt_retried) {
		*err = dev->alt_err;
		return err->code;
	}
	dev->alt_retried = true;
	code = dfk__usb_set_alt(dev->usb, dev->ifc.intf, dev->ifc.alt, err);
	if (code) {
		dfk_error_prefix(err, "cannot select alt setting %u of interface %u", dev->ifc.alt, dev->ifc.intf);
		dev->alt_err = *err;
		return code;
	}
	dev->alt_pending = false;
	return DFK_OK;
}

void dfk_dev_close(dfk_dev *dev)
{
	if (!dev)
		return;
	if (dev->usb) {
		if (dev->claimed)
			dev->usb->ops->release(dev->usb, dev->ifc.intf);
		dfk_usb_close(dev->usb);
	}
	if (dev->have_map)
		dfk_memmap_free(&dev->map);
	dfk__usb_dev_clear(&dev->udev);
	free(dev);
}

const dfk_dfu_if *dfk_dev_if(const dfk_dev *dev)
{
	return &dev->ifc;
}

const dfk_ctx *dfk_dev_ctx(const dfk_dev *dev)
{
	return dev->ctx;
}

dfk_usb *dfk_dev_usb(dfk_dev *dev)
{
	return dev->usb;
}

uint16_t dfk_dev_transfer_size(const dfk_dev *dev)
{
	return dev->xfer;
}

void dfk_dev_set_transfer_size(dfk_dev *dev, uint16_t size)
{
	if (size)
		dev->xfer = size;
}

static const dfk_intf_desc *find_alt(const dfk_dfu_if *ifc, uint8_t alt)
{
	const dfk_usb_dev *ud = ifc->dev;

	for (size_t c = 0; c < ud->nconfigs; c++) {
		const dfk_config_desc *cfg = &ud->configs[c];
		if (cfg->bConfigurationValue != ifc->config)
			continue;
		for (size_t a = 0; a < cfg->nalts; a++)
			if (cfg->alts[a].bInterfaceNumber == ifc->intf && cfg->alts[a].bAlternateSetting == alt)
				return &cfg->alts[a];
	}
	return NULL;
}

bool dfk__dev_has_alt(const dfk_dev *dev, uint8_t alt)
{
	const dfk_intf_desc *id = find_alt(&dev->ifc, alt);
	return alt == dev->ifc.alt || (id && id->bInterfaceClass == 0xFE && id->bInterfaceSubClass == 1);
}

/* The GD32VF103 "version A" ROM advertises 2 KiB pages on alt 0 where the
 * chip has 1 KiB pages: the real layout comes from its serial. */
static void fix_map(const dfk_dev *dev, uint8_t alt, dfk_memmap *map)
{
	if (!(dev->quirks.flags & DFK_QUIRK_GD32_LAYOUT) || alt != 0)
		return;
	if (dfk_quirks_gd32_layout(dev->ifc.serial, map))
		dfk_log(dev->ctx, DFK_LOG_INFO, "%s: memory map of alt 0 replaced by the layout its serial names",
			dev->quirks.name);
	else
		dfk_log(dev->ctx, DFK_LOG_DEBUG, "%s: serial does not name the part; advertised memory map kept",
			dev->quirks.name);
}

dfk_code dfk__dev_alt_memmap(dfk_dev *dev, uint8_t alt, dfk_memmap *map, dfk_error *err)
{
	const dfk_intf_desc *id;
	char name[sizeof(dev->ifc.name)];
	dfk_code code;

	if (alt == dev->ifc.alt) {
		code = dfk_memmap_parse(dev->ifc.name, map, err);
		if (!code)
			fix_map(dev, alt, map);
		return code;
	}
	id = find_alt(&dev->ifc, alt);
	if (!id || id->bInterfaceClass != 0xFE || id->bInterfaceSubClass != 1)
		return dfk_error_set(err, DFK_ERR_UNSUPPORTED, "interface %u has no DFU alt setting %u", dev->ifc.intf,
				     alt);
	if (!id->iInterface)
		return dfk_error_set(err, DFK_ERR_DATA, "alt setting %u has no name, so no memory map", alt);
	/* A string read does not disturb the DFU state, unlike SET_INTERFACE. */
	code = dfk_usb_get_string(dev->usb, id->iInterface, &dev->langid, name, sizeof(name), dev->ctx->usb_timeout_ms,
				  err);
	if (code)
		return dfk_error_prefix(err, "cannot read the name of alt setting %u", alt);
	code = dfk_memmap_parse(name, map, err);
	if (!code)
		fix_map(dev, alt, map);
	return code;
}

dfk_code dfk_dev_select_alt(dfk_dev *dev, uint8_t alt, dfk_error *err)
{
	DFK_ERR_ENSURE(err);
	const dfk_intf_desc *id;
	char name[sizeof(dev->ifc.name)];
	dfk_code code;

	if (alt == dev->ifc.alt)
		return dfk__dev_ready(dev, err);
	id = find_alt(&dev->ifc, alt);
	if (!id || id->bInterfaceClass != 0xFE || id->bInterfaceSubClass != 1)
		return dfk_error_set(err, DFK_ERR_UNSUPPORTED, "interface %u has no DFU alt setting %u", dev->ifc.intf,
				     alt);
	code = dfk__usb_set_alt(dev->usb, dev->ifc.intf, alt, err);
	if (code)
		return dfk_error_prefix(err, "cannot select alt setting %u of interface %u", alt, dev->ifc.intf);
	strcpy(name, "UNKNOWN");
	if (id->iInterface) {
		code = dfk_usb_get_string(dev->usb, id->iInterface, &dev->langid, name, sizeof(name),
					  dev->ctx->usb_timeout_ms, err);
		if (code)
			return dfk_error_prefix(err, "cannot read the name of alt setting %u", alt);
	}
	dev->ifc.alt = alt;
	dev->alt_pending = false;
	memcpy(dev->ifc.name, name, sizeof(name));
	if (dev->have_map) {
		dfk_memmap_free(&dev->map);
		dev->have_map = false;
	}
	return DFK_OK;
}

dfk_code dfk_dev_memmap(dfk_dev *dev, const dfk_memmap **map, dfk_error *err)
{
	DFK_ERR_ENSURE(err);
	dfk_code code;

	if (!dev->have_map) {
		memset(&dev->map, 0, sizeof(dev->map));
		code = dfk_memmap_parse(dev->ifc.name, &dev->map, err);
		if (code)
			return dfk_error_prefix(err, "memory map of alt setting %u", dev->ifc.alt);
		fix_map(dev, dev->ifc.alt, &dev->map);
		dev->have_map = true;
	}
	*map = &dev->map;
	return DFK_OK;
}
