/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* The USB device itself: lifetime, identity, descriptors and the standard
 * requests on ep0; class requests go to the DFU state machine (emu_dfu.c). */
#include <stdlib.h>
#include <string.h>

#include "emu_internal.h"

enum {
	USB_GET_STATUS = 0,
	USB_CLEAR_FEATURE = 1,
	USB_SET_FEATURE = 3,
	USB_SET_ADDRESS = 5,
	USB_GET_DESCRIPTOR = 6,
	USB_GET_CONFIGURATION = 8,
	USB_SET_CONFIGURATION = 9,
	USB_GET_INTERFACE = 10,
	USB_SET_INTERFACE = 11,
};
enum { DT_DEVICE = 1, DT_CONFIG = 2, DT_STRING = 3 };
enum { STR_MANUFACTURER = 1, STR_PRODUCT = 2, STR_SERIAL = 3, STR_INTF0 = 4 };

void emu_memory_help(FILE *f)
{
	fprintf(f, "  The raw bytes of every alt setting's memory, back to back in alt order (each\n"
		   "  memory = its memory-map segments in order; plain DFU: one block of its size),\n"
		   "  no header. Created with fresh contents (flash 0xFF, factory option bytes) when\n"
		   "  missing; an existing file must have the device's exact size.\n"
		   "  Plain DFU (dfu11*): a download is written from offset 0 on, erasing each flash\n"
		   "  page as it is first touched; an upload returns as many bytes as the last\n"
		   "  download of this run wrote (the whole memory before any).\n");
}

void emu_enter_dfu_mode(emu_device *dev)
{
	dev->runtime = false;
	dev->state = dev->prof->start_state;
	dev->status = dev->prof->start_status;
	dev->alt = 0;
	dev->addr_ptr = dev->prof->dfuse_addr;
	dev->op_pending = dev->op_done = dev->manifested = false;
	dev->op_after = EMU_AFTER_NONE;
	dev->dn_off = dev->up_off = 0;
	dev->busy_tail = false;
}

void emu_enter_runtime_mode(emu_device *dev)
{
	dev->runtime = true;
	dev->state = DFK_STATE_APP_IDLE;
	dev->status = DFK_STATUS_OK;
	dev->alt = 0;
	dev->op_pending = dev->op_done = dev->manifested = false;
}

void emu_reset_into(emu_device *dev, bool runtime, emu_event ev)
{
	if (runtime)
		emu_enter_runtime_mode(dev);
	else
		emu_enter_dfu_mode(dev);
	dev->config = 0;
	dev->event = ev;
}

emu_device *emu_device_new(const emu_config *cfg, char *errbuf, size_t errsz)
{
	if (!cfg) {
		snprintf(errbuf, errsz, "no configuration");
		return NULL;
	}
	emu_profile *own = NULL;
	const emu_profile *p = cfg->desc;
	if (!p) {
		own = emu_profile_builtin(cfg->profile, errbuf, errsz);
		if (!own)
			return NULL;
		p = own;
	}
	if (cfg->serial && strlen(cfg->serial) >= sizeof(((emu_device *)0)->serial)) {
		snprintf(errbuf, errsz, "serial '%s' is too long (at most %zu bytes)", cfg->serial,
			 sizeof(((emu_device *)0)->serial) - 1);
		emu_profile_free(own);
		return NULL;
	}
	if (cfg->nfaults + p->nfaults > EMU_MAX_FAULTS) {
		snprintf(errbuf, errsz, "too many faults (at most %d, the description's included)", EMU_MAX_FAULTS);
		emu_profile_free(own);
		return NULL;
	}
	emu_device *dev = calloc(1, sizeof *dev);
	if (!dev) {
		snprintf(errbuf, errsz, "out of memory");
		emu_profile_free(own);
		return NULL;
	}
	dev->prof = p;
	dev->own_prof = own;
	dev->timing = cfg->timing;
	dev->memfd = -1;
	dev->forced_status = -1;
	if (cfg->serial) {
		dev->serial_set = true;
		snprintf(dev->serial, sizeof dev->serial, "%s", cfg->serial);
	}
	dev->xfer_size = p->mode[0].func.xfer_size;
	dev->desc_faults = p->desc_quirks;
	/* The description's faults first, then --fault's. */
	for (size_t i = 0; i < p->nfaults + cfg->nfaults; i++) {
		const char *spec = i < p->nfaults ? p->faults[i] : cfg->faults[i - p->nfaults];
		char msg[200];
		if (!spec || !emu_fault_parse(spec, &dev->faults[dev->nfaults], msg, sizeof msg)) {
			snprintf(errbuf, errsz, "--fault '%s': %s", spec ? spec : "", spec ? msg : "missing");
			emu_device_free(dev);
			return NULL;
		}
		if (dev->faults[dev->nfaults].kind == EMU_F_DESC)
			dev->desc_faults |= dev->faults[dev->nfaults].desc;
		else
			dev->nfaults++;
	}
	if (dev->desc_faults & EMU_D_XFER0)
		dev->xfer_size = 0;
	if (dev->desc_faults & EMU_D_XFER65535)
		dev->xfer_size = 65535;
	dev->op_buf = malloc(65536);
	if (!dev->op_buf || !emu_flash_init(dev, cfg, errbuf, errsz)) {
		if (!dev->op_buf)
			snprintf(errbuf, errsz, "out of memory");
		emu_device_free(dev);
		return NULL;
	}
	dev->present = true;
	if (p->starts_runtime)
		emu_enter_runtime_mode(dev);
	else
		emu_enter_dfu_mode(dev);
	return dev;
}

void emu_device_free(emu_device *dev)
{
	if (!dev)
		return;
	emu_flash_close(dev);
	free(dev->op_buf);
	emu_profile_free(dev->own_prof);
	free(dev);
}

const char *emu_device_serial(const emu_device *dev)
{
	if (dev->serial_set)
		return dev->serial;
	return emu_profile_serial(dev->prof);
}

const emu_profile *emu_device_profile(const emu_device *dev)
{
	return dev->prof;
}

void emu_device_identity(const emu_device *dev, emu_usb_identity *id)
{
	const emu_mode_def *m = emu_mode(dev);
	memset(id, 0, sizeof *id);
	id->idVendor = m->vid;
	id->idProduct = m->pid;
	id->bcdDevice = m->bcd;
	id->bDeviceClass = m->dev_class;
	id->bDeviceSubClass = m->dev_subclass;
	id->bDeviceProtocol = m->dev_protocol;
	id->bConfigurationValue = 1;
	id->bNumConfigurations = 1;
	id->bNumInterfaces = (uint8_t)(m->nintfs + 1);
	for (size_t i = 0, k = 0; i <= m->nintfs && i < 8; i++) {
		if (i == m->dfu_intf) {
			id->intf_class[i] = 0xFE;
			id->intf_subclass[i] = 0x01;
			id->intf_protocol[i] = dev->runtime ? 0x01 : 0x02;
		} else {
			id->intf_class[i] = m->intfs[k].cls;
			id->intf_subclass[i] = m->intfs[k].subclass;
			id->intf_protocol[i] = m->intfs[k].protocol;
			k++;
		}
	}
	id->present = dev->present && !dev->gone;
}

emu_event emu_device_take_event(emu_device *dev)
{
	emu_event ev = dev->event;
	dev->event = EMU_EVENT_NONE;
	return ev;
}

void emu_device_bus_reset(emu_device *dev)
{
	dev->config = 0;
	dev->alt = 0;
	if (dev->gone || !dev->present)
		return;
	if (dev->wedged) {
		/* A reset re-enumerates a wedged probe: its loader starts over. */
		dev->wedged = dev->stuck_busy = false;
		emu_reset_into(dev, false, EMU_EVENT_REENUMERATE);
	} else if (dev->runtime && dev->state == DFK_STATE_APP_DETACH && dev->last_now >= dev->detach_deadline) {
		dev->state = DFK_STATE_APP_IDLE; /* the detach timer ran out before this reset */
	} else if (dev->runtime && dev->state == DFK_STATE_APP_DETACH) {
		emu_reset_into(dev, false, EMU_EVENT_REENUMERATE);
	} else if (!dev->runtime && dev->state == DFK_STATE_MANIFEST_WAIT_RESET) {
		/* The new firmware boots; without an application image, the loader again. */
		emu_reset_into(dev, dev->prof->has_runtime, EMU_EVENT_REENUMERATE);
	}
}

/* ---- descriptors ---- */

static size_t put_string(uint8_t *out, const char *s)
{
	/* UTF-8 to UTF-16LE by hand: the strings are short and no library in
	 * the allowed set (dfukit_wire) does it. Invalid bytes become '?'. */
	size_t n = 2;
	const unsigned char *u = (const unsigned char *)s;
	while (*u && n + 2 <= 254) {
		uint32_t c = *u++;
		if (c >= 0xC0 && c < 0xE0 && (u[0] & 0xC0) == 0x80) {
			c = ((c & 0x1F) << 6) | (u[0] & 0x3F);
			u += 1;
		} else if (c >= 0xE0 && c < 0xF0 && (u[0] & 0xC0) == 0x80 && (u[1] & 0xC0) == 0x80) {
			c = ((c & 0x0F) << 12) | ((uint32_t)(u[0] & 0x3F) << 6) | (u[1] & 0x3F);
			u += 2;
		} else if (c >= 0xF0 && c < 0xF5 && (u[0] & 0xC0) == 0x80 && (u[1] & 0xC0) == 0x80 &&
			   (u[2] & 0xC0) == 0x80) {
			/* beyond the BMP: a surrogate pair, if it fits */
			c = ((c & 0x07) << 18) | ((uint32_t)(u[0] & 0x3F) << 12) | ((uint32_t)(u[1] & 0x3F) << 6) |
			    (u[2] & 0x3F);
			u += 3;
			if (n + 4 > 254)
				break;
			uint32_t hi = 0xD800 + ((c - 0x10000) >> 10), lo = 0xDC00 + ((c - 0x10000) & 0x3FF);
			out[n++] = (uint8_t)hi;
			out[n++] = (uint8_t)(hi >> 8);
			c = lo;
		} else if (c >= 0x80) {
			c = '?';
		}
		out[n++] = (uint8_t)c;
		out[n++] = (uint8_t)(c >> 8);
	}
	out[0] = (uint8_t)n;
	out[1] = DT_STRING;
	return n;
}

/* A string as the device sends it; 0 when it has none. */
static size_t put_str(uint8_t *out, const emu_str *s)
{
	if (s->kind == EMU_STR_TEXT)
		return put_string(out, s->text);
	if (s->kind == EMU_STR_RAW) {
		memcpy(out, s->raw, s->raw_len);
		return s->raw_len;
	}
	return 0;
}

static const emu_str *serial_str(const emu_device *dev, emu_str *tmp)
{
	if (!dev->serial_set)
		return &emu_mode(dev)->serial;
	*tmp = (emu_str){EMU_STR_TEXT, (char *)dev->serial, NULL, 0};
	return tmp;
}

/* Alt setting 0's memory-map faults replace its string. */
static const char *alt_fault_string(const emu_device *dev, unsigned alt)
{
	if (alt == 0 && (dev->desc_faults & EMU_D_MEMMAP_GARBAGE))
		return "@Internal Flash  /0x080G0000/04*0?6Kg,,*/0x/";
	if (alt == 0 && (dev->desc_faults & EMU_D_MEMMAP_OVERFLOW))
		return "@Internal Flash  /0xFFFFF000/9999*999Mg,4294967295*4294967295Kg";
	if (alt == 0 && (dev->desc_faults & EMU_D_MEMMAP_EMPTY))
		return "";
	return NULL;
}

/* String indexes: 1 manufacturer, 2 product, 3 serial; from 4 on the DFU
 * interface (each DFU-mode alt setting, or the run-time interface), then
 * the other interfaces in order. 0 when the string is absent. */
static unsigned dfu_strings(const emu_device *dev)
{
	return dev->runtime ? 1 : (unsigned)dev->prof->nalts;
}

static uint8_t dfu_string_index(const emu_device *dev, unsigned alt)
{
	const emu_str *s = dev->runtime ? &emu_mode(dev)->dfu_name : &dev->prof->alts[alt].name;
	if (s->kind == EMU_STR_NONE && (dev->runtime || !alt_fault_string(dev, alt)))
		return 0;
	return (uint8_t)(STR_INTF0 + alt);
}

static size_t string_desc(const emu_device *dev, unsigned idx, uint8_t *out)
{
	const emu_mode_def *m = emu_mode(dev);
	emu_str tmp;
	size_t n;
	if (idx == 0) {
		if (m->nlangids == 0)
			return 0;
		n = 2;
		for (size_t i = 0; i < m->nlangids; i++) {
			out[n++] = (uint8_t)m->langids[i];
			out[n++] = (uint8_t)(m->langids[i] >> 8);
		}
		out[0] = (uint8_t)n;
		out[1] = DT_STRING;
		return n;
	}
	if (idx == STR_MANUFACTURER) {
		n = put_str(out, &m->manufacturer);
	} else if (idx == STR_PRODUCT) {
		if (dev->desc_faults & EMU_D_STR_LONG) {
			/* 126 UTF-16 units: the longest a descriptor can hold, with
			 * non-ASCII, a surrogate pair and a control character. */
			n = 2;
			for (int i = 0; n < 254; i++) {
				uint16_t c = i % 40 == 5 ? 0x00E9 : i % 40 == 7 ? 0x0007 : (uint16_t)('A' + i % 26);
				if (i % 40 == 9 && n + 4 <= 254) {
					out[n++] = 0x3D, out[n++] = 0xD8, out[n++] = 0x00, out[n++] = 0xDE;
					continue;
				}
				out[n++] = (uint8_t)c, out[n++] = (uint8_t)(c >> 8);
			}
			out[0] = (uint8_t)n;
			out[1] = DT_STRING;
		} else {
			n = put_str(out, &m->product);
		}
		if (n && (dev->desc_faults & EMU_D_STR_BADLEN))
			out[0] = 0xFF; /* claims more than it sends */
	} else if (idx == STR_SERIAL) {
		n = put_str(out, serial_str(dev, &tmp));
		if (n && (dev->desc_faults & EMU_D_STR_ODD)) {
			out[n++] = 'X'; /* half a UTF-16 unit, no terminator */
			out[0] = (uint8_t)n;
		}
	} else if (idx >= STR_INTF0 && idx < STR_INTF0 + dfu_strings(dev)) {
		unsigned a = idx - STR_INTF0;
		const char *f = dev->runtime ? NULL : alt_fault_string(dev, a);
		n = f ? put_string(out, f) : put_str(out, dev->runtime ? &m->dfu_name : &dev->prof->alts[a].name);
	} else if (idx >= STR_INTF0 + dfu_strings(dev) && idx < STR_INTF0 + dfu_strings(dev) + m->nintfs) {
		n = put_str(out, &m->intfs[idx - STR_INTF0 - dfu_strings(dev)].name);
	} else {
		return 0;
	}
	return n;
}

static size_t func_desc(const emu_device *dev, uint8_t *out)
{
	const emu_func_def *f = &emu_mode(dev)->func;
	uint16_t xfer = dev->xfer_size;
	if (dev->runtime && !(dev->desc_faults & (EMU_D_XFER0 | EMU_D_XFER65535)))
		xfer = f->xfer_size; /* what the run-time descriptor says; DFU mode enforces its own */
	out[0] = (dev->desc_faults & EMU_D_FUNC_BADLEN) ? 0xFF : f->length;
	out[1] = DFK_DESC_DFU_FUNCTIONAL;
	out[2] = f->attrs;
	out[3] = (uint8_t)f->detach_timeout;
	out[4] = (uint8_t)(f->detach_timeout >> 8);
	out[5] = (uint8_t)xfer;
	out[6] = (uint8_t)(xfer >> 8);
	if (f->length < 9)
		return f->length; /* DFU 1.0: no bcdDFUVersion */
	out[7] = (uint8_t)f->bcd_dfu;
	out[8] = (uint8_t)(f->bcd_dfu >> 8);
	return 9;
}

static size_t device_desc(const emu_device *dev, uint8_t *out)
{
	const emu_mode_def *m = emu_mode(dev);
	emu_str tmp;
	const uint8_t d[18] = {(dev->desc_faults & EMU_D_DEV_BADLEN) ? 8 : 18,
			       DT_DEVICE,
			       (uint8_t)m->bcd_usb,
			       (uint8_t)(m->bcd_usb >> 8),
			       m->dev_class,
			       m->dev_subclass,
			       m->dev_protocol,
			       m->ep0_size,
			       (uint8_t)m->vid,
			       (uint8_t)(m->vid >> 8),
			       (uint8_t)m->pid,
			       (uint8_t)(m->pid >> 8),
			       (uint8_t)m->bcd,
			       (uint8_t)(m->bcd >> 8),
			       m->manufacturer.kind != EMU_STR_NONE ? STR_MANUFACTURER : 0,
			       (m->product.kind != EMU_STR_NONE || (dev->desc_faults & EMU_D_STR_LONG)) ? STR_PRODUCT
													: 0,
			       serial_str(dev, &tmp)->kind != EMU_STR_NONE ? STR_SERIAL : 0,
			       1};
	memcpy(out, d, sizeof d);
	return sizeof d;
}

/* The DFU interface: every alt setting (DFU mode) or the run-time one, and
 * the functional descriptor where the description puts it (ST ROMs: once,
 * at the end, protocols.md A.5). */
static size_t dfu_interface(const emu_device *dev, uint8_t *out)
{
	const emu_mode_def *m = emu_mode(dev);
	size_t nalts = dev->runtime ? 1 : dev->prof->nalts, n = 0;
	bool func = !(dev->desc_faults & EMU_D_FUNC_MISSING);
	for (size_t a = 0; a < nalts; a++) {
		uint8_t *i = out + n;
		i[0] = (a == 0 && (dev->desc_faults & EMU_D_BLEN0)) ? 0 : 9;
		i[1] = 4;
		i[2] = m->dfu_intf;
		i[3] = (uint8_t)a;
		i[4] = 0;
		i[5] = 0xFE;
		i[6] = 0x01;
		i[7] = dev->runtime ? 0x01 : 0x02;
		i[8] = dfu_string_index(dev, (unsigned)a);
		n += 9;
		if (func && (m->func.place == EMU_FUNC_AFTER_EACH || (m->func.place == EMU_FUNC_AFTER_FIRST && a == 0)))
			n += func_desc(dev, out + n);
	}
	if (func && m->func.place == EMU_FUNC_END)
		n += func_desc(dev, out + n);
	return n;
}

/* The configuration: its interfaces in number order. out has room for
 * CONFIG_MAX bytes (the description's sizes are bounded to fit). */
#define CONFIG_MAX 8192
static size_t config_desc(const emu_device *dev, uint8_t *out)
{
	const emu_mode_def *m = emu_mode(dev);
	size_t n = 9;
	for (size_t num = 0, k = 0; num <= m->nintfs; num++) {
		if (num == m->dfu_intf) {
			n += dfu_interface(dev, out + n);
			continue;
		}
		const emu_intf_def *in = &m->intfs[k];
		uint8_t *i = out + n;
		i[0] = 9;
		i[1] = 4;
		i[2] = (uint8_t)num;
		i[3] = 0;
		i[4] = in->num_eps;
		i[5] = in->cls;
		i[6] = in->subclass;
		i[7] = in->protocol;
		i[8] = in->name.kind != EMU_STR_NONE ? (uint8_t)(STR_INTF0 + dfu_strings(dev) + k) : 0;
		n += 9;
		if (in->extra_len)
			memcpy(out + n, in->extra, in->extra_len);
		n += in->extra_len;
		k++;
	}
	size_t total = n;
	if (dev->desc_faults & EMU_D_TOTAL_LONG)
		total = n + 100;
	if (dev->desc_faults & EMU_D_TOTAL_SHORT)
		total = n = 14; /* ends inside the first interface descriptor */
	const uint8_t c[9] = {9, DT_CONFIG, (uint8_t)total,  (uint8_t)(total >> 8), (uint8_t)(m->nintfs + 1),
			      1, 0,	    m->config_attrs, m->max_power};
	memcpy(out, c, 9);
	return n;
}

static int reply(const uint8_t *src, size_t len, uint8_t *data, uint16_t wlength, uint32_t *actual)
{
	size_t n = len < wlength ? len : wlength;
	if (n)
		memcpy(data, src, n);
	*actual = (uint32_t)n;
	return EMU_URB_OK;
}

static int get_descriptor(emu_device *dev, uint16_t wvalue, uint8_t *data, uint16_t wlength, uint32_t *actual)
{
	uint8_t buf[CONFIG_MAX];
	size_t n;
	switch (wvalue >> 8) {
	case DT_DEVICE: n = device_desc(dev, buf); break;
	case DT_CONFIG:
		if ((wvalue & 0xFF) != 0)
			return EMU_URB_STALL;
		n = config_desc(dev, buf);
		break;
	case DT_STRING:
		n = string_desc(dev, wvalue & 0xFF, buf);
		if (n == 0)
			return EMU_URB_STALL;
		break;
	case DFK_DESC_DFU_FUNCTIONAL:
		if (dev->desc_faults & EMU_D_FUNC_MISSING)
			return EMU_URB_STALL;
		n = func_desc(dev, buf);
		break;
	default: return EMU_URB_STALL; /* DEVICE_QUALIFIER, OTHER_SPEED, BOS, ... */
	}
	return reply(buf, n, data, wlength, actual);
}

/* The Linux hub driver's first request after a port reset is a 64-byte
 * device descriptor read, and vhci-hcd resets ports locally: on a vhci
 * connection that read is the only sign of a reset the device gets. Only
 * the states that wait for a reset act on it, without an event: the host is
 * re-enumerating on this very connection (and sees new descriptors, as
 * with a real DFU device). dfukit's USB/IP transport reads 18 bytes. */
static void reset_probe(emu_device *dev, uint64_t now_ms)
{
	if (dev->runtime && dev->state == DFK_STATE_APP_DETACH && now_ms < dev->detach_deadline)
		emu_reset_into(dev, false, EMU_EVENT_NONE);
	else if (!dev->runtime && dev->state == DFK_STATE_MANIFEST_WAIT_RESET)
		emu_reset_into(dev, dev->prof->has_runtime, EMU_EVENT_NONE);
}

static int standard_request(emu_device *dev, const uint8_t setup[8], uint8_t *data, uint32_t *actual, uint64_t now_ms)
{
	uint8_t bm = setup[0], req = setup[1];
	uint16_t wvalue = emu_le16(setup + 2), windex = emu_le16(setup + 4), wlength = emu_le16(setup + 6);
	bool in = bm & 0x80;
	unsigned recip = bm & 0x1F;
	const emu_mode_def *m = emu_mode(dev);
	size_t nalts = dev->runtime ? 1 : dev->prof->nalts, nintf = m->nintfs + 1;
	static const uint8_t zero2[2] = {0, 0};
	/* Interface requests are accepted before SET_CONFIGURATION too: hosts
	 * that skip it (some USB/IP clients) still work, as on many ROMs. */
	switch (req) {
	case USB_GET_STATUS:
		if (!in)
			return EMU_URB_STALL;
		if (recip == 0) {
			static const uint8_t self_powered[2] = {1, 0};
			return reply(self_powered, 2, data, wlength, actual);
		}
		if ((recip == 1 && windex < nintf) || (recip == 2 && (windex == 0 || windex == 0x80)))
			return reply(zero2, 2, data, wlength, actual);
		return EMU_URB_STALL;
	case USB_CLEAR_FEATURE:
		/* Only ENDPOINT_HALT on ep0 makes sense; no remote wakeup. */
		if (!in && recip == 2 && wvalue == 0 && (windex & 0x7F) == 0)
			return EMU_URB_OK;
		return EMU_URB_STALL;
	case USB_SET_ADDRESS: return (!in && recip == 0 && wvalue < 128) ? EMU_URB_OK : EMU_URB_STALL;
	case USB_GET_DESCRIPTOR:
		if (!in || recip > 1)
			return EMU_URB_STALL;
		if (recip == 1 && (wvalue >> 8) != DFK_DESC_DFU_FUNCTIONAL)
			return EMU_URB_STALL;
		if (recip == 0 && (wvalue >> 8) == DT_DEVICE && wlength == 64)
			reset_probe(dev, now_ms);
		return get_descriptor(dev, wvalue, data, wlength, actual);
	case USB_GET_CONFIGURATION:
		if (!in || recip != 0)
			return EMU_URB_STALL;
		return reply(&dev->config, 1, data, wlength, actual);
	case USB_SET_CONFIGURATION:
		if (in || recip != 0 || wvalue > 1)
			return EMU_URB_STALL;
		dev->config = (uint8_t)wvalue;
		dev->alt = 0;
		return EMU_URB_OK;
	case USB_GET_INTERFACE: {
		static const uint8_t zero = 0;
		if (!in || recip != 1 || windex >= nintf)
			return EMU_URB_STALL;
		return reply(windex == m->dfu_intf ? &dev->alt : &zero, 1, data, wlength, actual);
	}
	case USB_SET_INTERFACE:
		/* The other interfaces of a composite device have alt setting 0 only. */
		if (in || recip != 1 || windex >= nintf || wvalue >= (windex == m->dfu_intf ? nalts : 1))
			return EMU_URB_STALL;
		if (windex == m->dfu_intf)
			dev->alt = (uint8_t)wvalue;
		return EMU_URB_OK;
	default: return EMU_URB_STALL; /* SET_FEATURE, SET_DESCRIPTOR, SYNCH_FRAME, unknown */
	}
}

int emu_device_control(emu_device *dev, const uint8_t setup[8], uint8_t *data, uint32_t *actual, uint64_t now_ms,
		       uint32_t *delay_ms)
{
	uint32_t a_dummy, d_dummy;
	if (!actual)
		actual = &a_dummy;
	if (!delay_ms)
		delay_ms = &d_dummy;
	*actual = 0;
	*delay_ms = 0;
	if (dev->gone || !dev->present)
		return EMU_URB_NODEV;
	if (dev->hung)
		return EMU_URB_TIMEOUT;
	dev->last_now = now_ms;
	uint16_t wlength = emu_le16(setup + 6);
	if (wlength && !data)
		return EMU_URB_STALL;
	emu_stats_count(dev, setup);

	emu_fault_ctx ctx = {.req = dev->stats.control_transfers};
	int r = emu_faults_fire(dev, &ctx);
	if (r == -1) {
		unsigned type = setup[0] & 0x60, recip = setup[0] & 0x1F;
		if (setup[0] == 0x23 && setup[1] == USB_SET_FEATURE && emu_le16(setup + 2) == 4) {
			/* SET_FEATURE(PORT_RESET) on ep0: how a USB/IP host asks the
			 * server side for a device reset (as Linux's usbip stub reads it). */
			emu_device_bus_reset(dev);
			r = EMU_URB_OK;
		} else if (type == 0)
			r = standard_request(dev, setup, data, actual, now_ms);
		else if (type == 0x20 && recip == 1 && emu_le16(setup + 4) == emu_mode(dev)->dfu_intf)
			r = emu_dfu_request(dev, setup, data, actual, now_ms, delay_ms);
		else
			r = EMU_URB_STALL;
	}
	if (r != EMU_URB_OK)
		*actual = 0;
	else if (!(setup[0] & 0x80))
		*actual = wlength; /* an OUT data stage the device took whole (hosts check it) */
	if (r == EMU_URB_OK && (setup[0] & 0x80) && dev->short_pending && *actual > 0) {
		*actual /= 2;
		dev->short_pending = false;
	}
	if (r == EMU_URB_STALL)
		dev->stats.stalls++;
	const emu_timing_def *t = &dev->prof->t;
	if (dev->timing == EMU_TIMING_REAL && (t->usb_transfer_us || t->usb_ns_per_byte) &&
	    (r == EMU_URB_OK || r == EMU_URB_STALL)) {
		/* The bus time of the transfer at full speed, carried over in
		 * nanoseconds so that short transfers add up. */
		dev->bus_ns += (uint64_t)t->usb_transfer_us * 1000u + (uint64_t)*actual * t->usb_ns_per_byte;
		uint64_t ms = dev->bus_ns / 1000000u;
		dev->bus_ns %= 1000000u;
		*delay_ms = ms > UINT32_MAX - *delay_ms ? UINT32_MAX : *delay_ms + (uint32_t)ms;
	}
	*delay_ms = dev->slow_ms > UINT32_MAX - *delay_ms ? UINT32_MAX : *delay_ms + dev->slow_ms;
	return r;
}
