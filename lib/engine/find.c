/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* Finding DFU interfaces: every alt setting of class 0xFE subclass 1 that
 * matches a dfk_match, with its name and serial read from the device (each
 * device opened once, the LANGID table read once). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfu_internal.h"
#include "dfukit/device.h"
#include "dynbuf.h"
#include "match.h"
#include "quirks.h"

#define GET_DESCRIPTOR 6

static bool id_ok(int want, uint16_t have)
{
	return want == DFK_MATCH_ANY || want == (int)have;
}

static bool str_ok(const char *want, const char *have)
{
	return !want || !*want || strcmp(want, have) == 0;
}

/* DFU mode by protocol 2, plus the devices dfu-util knows to misreport it. */
static bool is_dfu_mode(const dfk_usb_dev *ud, const dfk_config_desc *cfg, const dfk_intf_desc *id,
			const dfk_func_desc *fd)
{
	if (id->bInterfaceProtocol == 2)
		return true;
	if (fd->bcdDFUVersion == 0x011A && id->bInterfaceProtocol == 0) /* DSO Nano */
		return true;
	if (ud->desc.idVendor == 0x1fc9 && ud->desc.idProduct == 0x000c && id->bInterfaceProtocol == 1) /* LPC */
		return true;
	if (ud->desc.idVendor == 0x0b0e && id->bInterfaceProtocol == 0 && cfg->bNumInterfaces == 1) /* Jabra */
		return true;
	return false;
}

/* The match rules that need no strings, as dfu-util applies them. */
static bool pre_match(const dfk_match *m, const dfk_usb_dev *ud, const dfk_config_desc *cfg, const dfk_intf_desc *id,
		      bool dfu_mode)
{
	if (!m)
		return true;
	if (m->devnum != DFK_MATCH_ANY && m->devnum != ud->devnum)
		return false;
	if (m->path && *m->path && strcmp(m->path, ud->path) != 0)
		return false;
	if (m->cfg > 0 && m->cfg != cfg->bConfigurationValue)
		return false;
	if (m->intf != DFK_MATCH_ANY && m->intf != id->index)
		return false;
	if (dfu_mode) {
		if (m->alt != DFK_MATCH_ANY && m->alt != id->bAlternateSetting)
			return false;
		if (m->dfu_ids_given)
			return id_ok(m->dfu_vid, ud->desc.idVendor) && id_ok(m->dfu_pid, ud->desc.idProduct);
		/* Only run-time IDs given: dfu-util lets any DFU-mode device match. */
		return true;
	}
	return id_ok(m->vid, ud->desc.idVendor) && id_ok(m->pid, ud->desc.idProduct);
}

static bool post_match(const dfk_match *m, const dfk_dfu_if *ifc)
{
	if (!m)
		return true;
	if (ifc->dfu_mode) {
		if (m->alt_name && strcmp(m->alt_name, ifc->name) != 0)
			return false;
		return str_ok(m->dfu_serial ? m->dfu_serial : m->serial, ifc->serial);
	}
	return str_ok(m->serial, ifc->serial);
}

/* The functional descriptor for a config: dfu-util takes the first one
 * found (config level, then any alt) and applies it to every DFU alt. */
static bool config_func(const dfk_config_desc *cfg, dfk_func_desc *fd)
{
	if (cfg->has_func) {
		*fd = cfg->func;
		return true;
	}
	for (size_t a = 0; a < cfg->nalts; a++)
		if (cfg->alts[a].has_func) {
			*fd = cfg->alts[a].func;
			return true;
		}
	return false;
}

static bool is_dfu_alt(const dfk_intf_desc *id)
{
	return id->bInterfaceClass == 0xFE && id->bInterfaceSubClass == 1;
}

static uint8_t count_alts(const dfk_config_desc *cfg, uint8_t intf)
{
	unsigned n = 0;
	for (size_t a = 0; a < cfg->nalts; a++)
		n += cfg->alts[a].bInterfaceNumber == intf;
	return n > 255 ? 255 : (uint8_t)n;
}

struct strings {
	dfk_usb *h;
	bool tried;
	uint16_t langid;
	bool have_serial;
	char serial[256];
};

/* Opens the device on first need; false when it cannot be opened. */
static bool strings_open(const dfk_ctx *ctx, dfk_transport *t, const dfk_usb_dev *ud, struct strings *s)
{
	dfk_error e;

	if (!s->tried) {
		s->tried = true;
		if (dfk_usb_open(t, ud, &s->h, &e)) {
			s->h = NULL;
			dfk_log(ctx, DFK_LOG_WARN, "cannot open DFU device %04x:%04x at %s: %s", ud->desc.idVendor,
				ud->desc.idProduct, ud->path, e.msg);
		}
	}
	return s->h != NULL;
}

static void read_string(const dfk_ctx *ctx, struct strings *s, uint8_t index, char *out, size_t outsz)
{
	dfk_error e;

	/* dfu-util shows "UNKNOWN" for a missing or unreadable string. */
	if (!index || dfk_usb_get_string(s->h, index, &s->langid, out, outsz, ctx->usb_timeout_ms, &e)) {
		snprintf(out, outsz, "UNKNOWN");
	}
}

/* A serial string sent as raw bytes (UTF-8 or binary) instead of UTF-16LE
 * (the GD32VF103 ROM): the descriptor's body taken byte for byte, up to a
 * NUL, control bytes shown as '?'. */
static void read_raw_serial(const dfk_ctx *ctx, struct strings *s, uint8_t index, char *out, size_t outsz)
{
	uint8_t buf[255];
	dfk_setup setup = {0x80, GET_DESCRIPTOR, (uint16_t)(0x0300 | index), s->langid ? s->langid : 0x0409,
			   sizeof(buf)};
	size_t got = 0, n = 0, len;
	dfk_error e;

	if (!index || dfk_usb_control(s->h, &setup, buf, &got, ctx->usb_timeout_ms, &e) || got < 2 || buf[1] != 3) {
		snprintf(out, outsz, "UNKNOWN");
		return;
	}
	len = buf[0] < got ? buf[0] : got;
	for (size_t i = 2; i < len && buf[i] && n + 1 < outsz; i++)
		out[n++] = buf[i] < 0x20 || buf[i] == 0x7f ? '?' : (char)buf[i];
	out[n] = '\0';
}

/* A device with DFU interfaces but no functional descriptor in its
 * configuration: ask for it directly, as dfu-util does. */
static bool read_func(const dfk_ctx *ctx, struct strings *s, dfk_func_desc *fd)
{
	uint8_t buf[9];
	dfk_setup setup = {0x80, GET_DESCRIPTOR, DFK_DESC_DFU_FUNCTIONAL << 8, 0, sizeof(buf)};
	size_t got = 0;
	dfk_error e;

	if (dfk_usb_control(s->h, &setup, buf, &got, ctx->usb_timeout_ms, &e))
		return false;
	return dfk_func_desc_parse(buf, got, fd, &e) == DFK_OK;
}

static dfk_code push_if(dfk_found *out, size_t *cap, const dfk_dfu_if *ifc, dfk_error *err)
{
	void *p = out->ifs;
	dfk_code code = dfk_grow(&p, cap, out->count + 1, sizeof(*out->ifs), SIZE_MAX, "interface list", err);

	out->ifs = p;
	if (code)
		return code;
	out->ifs[out->count++] = *ifc;
	return DFK_OK;
}

static dfk_code probe_device(const dfk_ctx *ctx, dfk_transport *t, const dfk_match *m, const dfk_usb_dev *ud,
			     dfk_found *out, size_t *cap, dfk_error *err)
{
	struct strings s = {0};
	dfk_code code = DFK_OK;
	dfk_quirks q;

	dfk_quirks_lookup(ud->desc.idVendor, ud->desc.idProduct, ud->desc.bcdDevice, &q);

	for (size_t c = 0; c < ud->nconfigs && !code; c++) {
		const dfk_config_desc *cfg = &ud->configs[c];
		dfk_func_desc fd;
		bool have_fd = config_func(cfg, &fd);

		for (size_t a = 0; a < cfg->nalts && !code; a++) {
			const dfk_intf_desc *id = &cfg->alts[a];
			dfk_dfu_if ifc;

			if (!is_dfu_alt(id))
				continue;
			if (!have_fd) {
				if (strings_open(ctx, t, ud, &s) && read_func(ctx, &s, &fd)) {
					have_fd = true;
				} else {
					dfk_log(ctx, DFK_LOG_WARN,
						"%04x:%04x has no DFU functional descriptor; assuming DFU 1.0",
						ud->desc.idVendor, ud->desc.idProduct);
					memset(&fd, 0, sizeof(fd));
					fd.bLength = 7;
					fd.bmAttributes = DFK_ATTR_CAN_DNLOAD | DFK_ATTR_CAN_UPLOAD;
					fd.bcdDFUVersion = 0x0100;
					have_fd = true;
				}
			}
			if (q.flags & DFK_QUIRK_FORCE_DFU11)
				fd.bcdDFUVersion = 0x0110; /* claims a version it does not speak */
			memset(&ifc, 0, sizeof(ifc));
			ifc.dev = ud;
			ifc.transport = t;
			ifc.config = cfg->bConfigurationValue;
			ifc.intf = id->bInterfaceNumber;
			ifc.intf_index = id->index;
			ifc.alt = id->bAlternateSetting;
			ifc.nalts = count_alts(cfg, id->bInterfaceNumber);
			ifc.func = fd;
			ifc.dfuse = fd.bcdDFUVersion == 0x011A;
			ifc.dfu_mode = is_dfu_mode(ud, cfg, id, &fd);
			if (!pre_match(m, ud, cfg, id, ifc.dfu_mode))
				continue;
			if (!strings_open(ctx, t, ud, &s))
				return DFK_OK; /* dfu-util skips a device it cannot open */
			read_string(ctx, &s, id->iInterface, ifc.name, sizeof(ifc.name));
			if (!s.have_serial) {
				if (q.flags & DFK_QUIRK_RAW_SERIAL)
					read_raw_serial(ctx, &s, ud->desc.iSerialNumber, s.serial, sizeof(s.serial));
				else
					read_string(ctx, &s, ud->desc.iSerialNumber, s.serial, sizeof(s.serial));
				s.have_serial = true;
			}
			memcpy(ifc.serial, s.serial, sizeof(ifc.serial));
			if (post_match(m, &ifc))
				code = push_if(out, cap, &ifc, err);
		}
	}
	dfk_usb_close(s.h);
	return code;
}

dfk_code dfk_find(const dfk_ctx *ctx, dfk_transport *t, const dfk_match *m, dfk_found **outp, dfk_error *err)
{
	DFK_ERR_ENSURE(err);
	size_t cap = 0;
	dfk_code code;
	dfk_found *out;
	dfk_match mm;

	if (!outp)
		return dfk_error_set(err, DFK_ERR_USAGE, "no place for the list of devices");
	*outp = NULL;
	if (!ctx || !t)
		return dfk_error_set(err, DFK_ERR_USAGE, "finding devices needs a context and a transport");
	if (m) {
		code = dfk__match_read(m, &mm, err);
		if (code)
			return code;
		m = &mm;
	}
	out = calloc(1, sizeof(*out));
	if (!out)
		return dfk_error_set(err, DFK_ERR_NOMEM, "out of memory for the list of devices");
	out->transport = t;
	code = dfk__transport_enumerate(t, &out->usb, err);
	if (code) {
		dfk_found_free(out);
		return dfk_error_prefix(err, "cannot list USB devices (%s)", t->ops->name);
	}
	for (size_t i = 0; i < out->usb.count && !code; i++)
		code = probe_device(ctx, t, m, &out->usb.devs[i].dev, out, &cap, err);
	if (code) {
		dfk_found_free(out);
		return code;
	}
	*outp = out;
	return DFK_OK;
}

void dfk_found_free(dfk_found *found)
{
	if (!found)
		return;
	if (found->transport && found->usb.devs)
		found->transport->ops->list_free(found->transport, &found->usb);
	free(found->ifs);
	free(found);
}

size_t dfk_found_count(const dfk_found *found)
{
	return found ? found->count : 0;
}

const dfk_dfu_if *dfk_found_get(const dfk_found *found, size_t i)
{
	return found && i < found->count ? &found->ifs[i] : NULL;
}

size_t dfk_found_usb_count(const dfk_found *found)
{
	return found ? found->usb.count : 0;
}

const dfk_usb_dev *dfk_found_usb_get(const dfk_found *found, size_t i)
{
	return found && i < found->usb.count ? &found->usb.devs[i].dev : NULL;
}
