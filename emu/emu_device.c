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
		   "  missing; an existing file must have the profile's exact size.\n"
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
	dev->addr_ptr = EMU_DFUSE_DEFAULT_ADDR;
	dev->op_pending = dev->op_done = dev->manifested = false;
	dev->op_after = EMU_AFTER_NONE;
	dev->dn_off = dev->up_off = 0;
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
	const emu_profile *p = emu_profile_find(cfg->profile);
	if (!p) {
		snprintf(errbuf, errsz, "unknown profile '%s' (see --list-profiles)", cfg->profile ? cfg->profile : "");
		return NULL;
	}
	if (cfg->serial && strlen(cfg->serial) >= sizeof(((emu_device *)0)->serial)) {
		snprintf(errbuf, errsz, "serial '%s' is too long (at most %zu bytes)", cfg->serial,
			 sizeof(((emu_device *)0)->serial) - 1);
		return NULL;
	}
	if (cfg->nfaults > EMU_MAX_FAULTS) {
		snprintf(errbuf, errsz, "too many --fault options (at most %d)", EMU_MAX_FAULTS);
		return NULL;
	}
	emu_device *dev = calloc(1, sizeof *dev);
	if (!dev) {
		snprintf(errbuf, errsz, "out of memory");
		return NULL;
	}
	dev->prof = p;
	dev->timing = cfg->timing;
	dev->memfd = -1;
	dev->forced_status = -1;
	snprintf(dev->serial, sizeof dev->serial, "%s", cfg->serial ? cfg->serial : p->serial);
	dev->xfer_size = p->xfer_size;
	dev->attrs = p->attrs;
	for (size_t i = 0; i < cfg->nfaults; i++) {
		char msg[200];
		if (!cfg->faults[i] || !emu_fault_parse(cfg->faults[i], &dev->faults[dev->nfaults], msg, sizeof msg)) {
			snprintf(errbuf, errsz, "--fault '%s': %s", cfg->faults[i] ? cfg->faults[i] : "",
				 cfg->faults[i] ? msg : "missing");
			free(dev);
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
	if (!dev->op_buf || !emu_flash_init(dev, cfg->memory_path, errbuf, errsz)) {
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
	free(dev);
}

const char *emu_device_serial(const emu_device *dev)
{
	return dev->serial;
}

void emu_device_identity(const emu_device *dev, emu_usb_identity *id)
{
	const emu_profile *p = dev->prof;
	memset(id, 0, sizeof *id);
	id->idVendor = p->vid;
	id->idProduct = dev->runtime ? p->rt_pid : p->pid;
	id->bcdDevice = dev->runtime ? p->rt_bcd : p->bcd;
	id->bConfigurationValue = 1;
	id->bNumConfigurations = 1;
	id->bNumInterfaces = 1;
	id->intf_class[0] = 0xFE;
	id->intf_subclass[0] = 0x01;
	id->intf_protocol[0] = dev->runtime ? 0x01 : 0x02;
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
	if (dev->runtime && dev->state == DFK_STATE_APP_DETACH && dev->last_now >= dev->detach_deadline) {
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

static const char *alt_string(const emu_device *dev, unsigned alt)
{
	if (alt == 0 && (dev->desc_faults & EMU_D_MEMMAP_GARBAGE))
		return "@Internal Flash  /0x080G0000/04*0?6Kg,,*/0x/";
	if (alt == 0 && (dev->desc_faults & EMU_D_MEMMAP_OVERFLOW))
		return "@Internal Flash  /0xFFFFF000/9999*999Mg,4294967295*4294967295Kg";
	if (alt == 0 && (dev->desc_faults & EMU_D_MEMMAP_EMPTY))
		return "";
	return dev->prof->alts[alt].name;
}

static size_t string_desc(const emu_device *dev, unsigned idx, uint8_t *out)
{
	const emu_profile *p = dev->prof;
	size_t n;
	if (idx == 0) {
		static const uint8_t langids[4] = {4, DT_STRING, 0x09, 0x04};
		memcpy(out, langids, 4);
		return 4;
	}
	if (idx == STR_MANUFACTURER) {
		n = put_string(out, p->manufacturer);
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
			n = put_string(out, dev->runtime ? p->rt_product : p->product);
		}
		if (dev->desc_faults & EMU_D_STR_BADLEN)
			out[0] = 0xFF; /* claims more than it sends */
	} else if (idx == STR_SERIAL) {
		n = put_string(out, dev->serial);
		if (dev->desc_faults & EMU_D_STR_ODD) {
			out[n++] = 'X'; /* half a UTF-16 unit, no terminator */
			out[0] = (uint8_t)n;
		}
	} else if (dev->runtime && idx == STR_INTF0) {
		n = put_string(out, p->rt_intf);
	} else if (!dev->runtime && idx >= STR_INTF0 && idx < STR_INTF0 + p->nalts) {
		n = put_string(out, alt_string(dev, idx - STR_INTF0));
	} else {
		return 0;
	}
	return n;
}

static size_t func_desc(const emu_device *dev, uint8_t *out)
{
	out[0] = (dev->desc_faults & EMU_D_FUNC_BADLEN) ? 0xFF : 9;
	out[1] = DFK_DESC_DFU_FUNCTIONAL;
	out[2] = dev->attrs;
	out[3] = (uint8_t)dev->prof->detach_timeout;
	out[4] = (uint8_t)(dev->prof->detach_timeout >> 8);
	out[5] = (uint8_t)dev->xfer_size;
	out[6] = (uint8_t)(dev->xfer_size >> 8);
	out[7] = (uint8_t)dev->prof->bcd_dfu;
	out[8] = (uint8_t)(dev->prof->bcd_dfu >> 8);
	return 9;
}

static size_t device_desc(const emu_device *dev, uint8_t *out)
{
	emu_usb_identity id;
	emu_device_identity(dev, &id);
	const uint8_t d[18] = {(dev->desc_faults & EMU_D_DEV_BADLEN) ? 8 : 18,
			       DT_DEVICE,
			       0x00,
			       0x02, /* USB 2.0 */
			       0,
			       0,
			       0,
			       64,
			       (uint8_t)id.idVendor,
			       (uint8_t)(id.idVendor >> 8),
			       (uint8_t)id.idProduct,
			       (uint8_t)(id.idProduct >> 8),
			       (uint8_t)id.bcdDevice,
			       (uint8_t)(id.bcdDevice >> 8),
			       STR_MANUFACTURER,
			       STR_PRODUCT,
			       STR_SERIAL,
			       1};
	memcpy(out, d, sizeof d);
	return sizeof d;
}

/* ST ROM layout: configuration, every alt setting, one functional
 * descriptor at the end (protocols.md A.5). out has room for 512 bytes. */
static size_t config_desc(const emu_device *dev, uint8_t *out)
{
	size_t nalts = dev->runtime ? 1 : dev->prof->nalts;
	size_t n = 9;
	for (size_t a = 0; a < nalts; a++) {
		uint8_t *i = out + n;
		i[0] = (a == 0 && (dev->desc_faults & EMU_D_BLEN0)) ? 0 : 9;
		i[1] = 4;
		i[2] = 0;
		i[3] = (uint8_t)a;
		i[4] = 0;
		i[5] = 0xFE;
		i[6] = 0x01;
		i[7] = dev->runtime ? 0x01 : 0x02;
		i[8] = (uint8_t)(STR_INTF0 + a);
		n += 9;
	}
	if (!(dev->desc_faults & EMU_D_FUNC_MISSING))
		n += func_desc(dev, out + n);
	size_t total = n;
	if (dev->desc_faults & EMU_D_TOTAL_LONG)
		total = n + 100;
	if (dev->desc_faults & EMU_D_TOTAL_SHORT)
		total = n = 14; /* ends inside the first interface descriptor */
	const uint8_t c[9] = {9, DT_CONFIG, (uint8_t)total, (uint8_t)(total >> 8), 1, 1, 0, 0xC0, 50};
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
	uint8_t buf[512];
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
	size_t nalts = dev->runtime ? 1 : dev->prof->nalts;
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
		if ((recip == 1 && windex == 0) || (recip == 2 && (windex == 0 || windex == 0x80)))
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
	case USB_GET_INTERFACE:
		if (!in || recip != 1 || windex != 0)
			return EMU_URB_STALL;
		return reply(&dev->alt, 1, data, wlength, actual);
	case USB_SET_INTERFACE:
		if (in || recip != 1 || windex != 0 || wvalue >= nalts)
			return EMU_URB_STALL;
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
		else if (type == 0x20 && recip == 1 && emu_le16(setup + 4) == 0)
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
	*delay_ms += dev->slow_ms;
	return r;
}
