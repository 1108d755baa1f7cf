/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* USB and DFU descriptor parsing. Every length a device sends is checked
 * against the bytes actually received before it is used. */
#include "backend.h"
#include "dfukit/usb.h"

#include <stdlib.h>
#include <string.h>

#define USB_DT_DEVICE 0x01
#define USB_DT_CONFIG 0x02
#define USB_DT_STRING 0x03
#define USB_DT_INTERFACE 0x04

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

const char *dfk_state_name(unsigned state)
{
	static const char *const names[] = {
	    "appIDLE",	      "appDETACH",	  "dfuIDLE",	 "dfuDNLOAD-SYNC",	   "dfuDNBUSY",
	    "dfuDNLOAD-IDLE", "dfuMANIFEST-SYNC", "dfuMANIFEST", "dfuMANIFEST-WAIT-RESET", "dfuUPLOAD-IDLE",
	    "dfuERROR",
	};
	if (state < sizeof(names) / sizeof(names[0]))
		return names[state];
	return "unknown state";
}

const char *dfk_status_name(unsigned status)
{
	static const char *const names[] = {
	    "OK",      "errTARGET", "errFILE",	  "errWRITE",	   "errERASE",	  "errCHECK_ERASED",
	    "errPROG", "errVERIFY", "errADDRESS", "errNOTDONE",	   "errFIRMWARE", "errVENDOR",
	    "errUSBR", "errPOR",    "errUNKNOWN", "errSTALLEDPKT",
	};
	if (status < sizeof(names) / sizeof(names[0]))
		return names[status];
	return "unknown status";
}

dfk_code dfk_status_decode(const uint8_t *buf, size_t len, dfk_status *st, dfk_error *err)
{
	if (!buf || len < 6)
		return dfk_error_set(err, DFK_ERR_PROTOCOL, "GETSTATUS reply is %zu bytes, expected 6", buf ? len : 0);
	st->status = buf[0];
	st->poll_timeout_ms = (uint32_t)buf[1] | ((uint32_t)buf[2] << 8) | ((uint32_t)buf[3] << 16);
	st->state = buf[4];
	st->istring = buf[5];
	return DFK_OK;
}

dfk_code dfk_func_desc_parse(const uint8_t *buf, size_t len, dfk_func_desc *fd, dfk_error *err)
{
	if (!buf || len < 2)
		return dfk_error_set(err, DFK_ERR_DATA, "DFU functional descriptor: only %zu bytes", buf ? len : 0);
	if (buf[1] != DFK_DESC_DFU_FUNCTIONAL)
		return dfk_error_set(err, DFK_ERR_DATA,
				     "DFU functional descriptor: bDescriptorType 0x%02x, expected 0x21", buf[1]);
	if (buf[0] != 7 && buf[0] != 9)
		return dfk_error_set(err, DFK_ERR_DATA, "DFU functional descriptor: bLength %u, expected 7 or 9",
				     buf[0]);
	if (len < buf[0])
		return dfk_error_set(err, DFK_ERR_DATA, "DFU functional descriptor: bLength %u but only %zu bytes",
				     buf[0], len);
	memset(fd, 0, sizeof(*fd));
	fd->bLength = buf[0];
	fd->bmAttributes = buf[2];
	fd->wDetachTimeOut = le16(buf + 3);
	fd->wTransferSize = le16(buf + 5);
	/* DFU 1.0 descriptors stop before bcdDFUVersion. */
	fd->bcdDFUVersion = buf[0] == 9 ? le16(buf + 7) : 0x0100;
	return DFK_OK;
}

dfk_code dfk_device_desc_parse(const uint8_t *buf, size_t len, dfk_device_desc *dd, dfk_error *err)
{
	if (!buf || len < 18)
		return dfk_error_set(err, DFK_ERR_DATA, "device descriptor: only %zu bytes, expected 18",
				     buf ? len : 0);
	if (buf[1] != USB_DT_DEVICE)
		return dfk_error_set(err, DFK_ERR_DATA, "device descriptor: bDescriptorType 0x%02x, expected 0x01",
				     buf[1]);
	if (buf[0] < 18)
		return dfk_error_set(err, DFK_ERR_DATA, "device descriptor: bLength %u, expected 18", buf[0]);
	memset(dd, 0, sizeof(*dd));
	dd->bcdUSB = le16(buf + 2);
	dd->bDeviceClass = buf[4];
	dd->bDeviceSubClass = buf[5];
	dd->bDeviceProtocol = buf[6];
	dd->bMaxPacketSize0 = buf[7];
	dd->idVendor = le16(buf + 8);
	dd->idProduct = le16(buf + 10);
	dd->bcdDevice = le16(buf + 12);
	dd->iManufacturer = buf[14];
	dd->iProduct = buf[15];
	dd->iSerialNumber = buf[16];
	dd->bNumConfigurations = buf[17];
	return DFK_OK;
}

void dfk_config_desc_free(dfk_config_desc *cfg)
{
	if (!cfg)
		return;
	free(cfg->alts);
	cfg->alts = NULL;
	cfg->nalts = 0;
}

dfk_code dfk_config_desc_parse(const uint8_t *buf, size_t len, dfk_config_desc *cfg, dfk_error *err)
{
	size_t total, off, cap;
	uint8_t seen[256]; /* bInterfaceNumber -> index + 1 (0 = not seen yet) */
	unsigned nintf = 0;

	memset(cfg, 0, sizeof(*cfg));
	if (!buf || len < 9)
		return dfk_error_set(err, DFK_ERR_DATA, "configuration descriptor: only %zu bytes, expected at least 9",
				     buf ? len : 0);
	if (buf[1] != USB_DT_CONFIG)
		return dfk_error_set(err, DFK_ERR_DATA,
				     "configuration descriptor: bDescriptorType 0x%02x, expected 0x02", buf[1]);
	if (buf[0] < 9)
		return dfk_error_set(err, DFK_ERR_DATA, "configuration descriptor: bLength %u, expected at least 9",
				     buf[0]);
	total = le16(buf + 2);
	if (total < buf[0])
		return dfk_error_set(err, DFK_ERR_DATA,
				     "configuration descriptor: wTotalLength %zu is less than bLength %u", total,
				     buf[0]);
	if (total > len)
		return dfk_error_set(err, DFK_ERR_DATA,
				     "configuration descriptor truncated: wTotalLength %zu but only %zu bytes", total,
				     len);
	cfg->bNumInterfaces = buf[4];
	cfg->bConfigurationValue = buf[5];

	/* Every interface descriptor takes at least 9 bytes: a hard bound. */
	cap = total / 9;
	cfg->alts = calloc(cap ? cap : 1, sizeof(*cfg->alts));
	if (!cfg->alts)
		return dfk_error_set(err, DFK_ERR_NOMEM, "configuration descriptor: out of memory");
	memset(seen, 0, sizeof(seen));

	for (off = buf[0]; off < total;) {
		const uint8_t *d = buf + off;
		size_t left = total - off;
		uint8_t bl;

		if (left < 2) {
			dfk_config_desc_free(cfg);
			return dfk_error_set(err, DFK_ERR_DATA, "configuration descriptor: stray byte at offset %zu",
					     off);
		}
		bl = d[0];
		if (bl < 2) {
			dfk_config_desc_free(cfg);
			return dfk_error_set(err, DFK_ERR_DATA, "configuration descriptor: bLength %u at offset %zu",
					     bl, off);
		}
		if (bl > left) {
			dfk_config_desc_free(cfg);
			return dfk_error_set(
			    err, DFK_ERR_DATA,
			    "configuration descriptor: descriptor at offset %zu (bLength %u) passes the end "
			    "(%zu bytes)",
			    off, bl, total);
		}
		if (d[1] == USB_DT_INTERFACE) {
			dfk_intf_desc *a;
			if (bl < 9) {
				dfk_config_desc_free(cfg);
				return dfk_error_set(
				    err, DFK_ERR_DATA,
				    "configuration descriptor: interface descriptor at offset %zu has bLength "
				    "%u, expected 9",
				    off, bl);
			}
			a = &cfg->alts[cfg->nalts++];
			a->bInterfaceNumber = d[2];
			a->bAlternateSetting = d[3];
			a->bInterfaceClass = d[5];
			a->bInterfaceSubClass = d[6];
			a->bInterfaceProtocol = d[7];
			a->iInterface = d[8];
			if (!seen[d[2]])
				seen[d[2]] = (uint8_t)++nintf; /* at most 256 distinct numbers */
			a->index = (uint8_t)(seen[d[2]] - 1);
		} else if (d[1] == DFK_DESC_DFU_FUNCTIONAL) {
			dfk_func_desc fd;
			/* A malformed functional descriptor is ignored rather than
			 * failing the whole device: the caller then treats the
			 * interface as having none, as for a missing one. */
			if (dfk_func_desc_parse(d, bl, &fd, NULL) == DFK_OK) {
				if (!cfg->has_func) {
					cfg->has_func = true;
					cfg->func = fd;
				}
				if (cfg->nalts && !cfg->alts[cfg->nalts - 1].has_func) {
					cfg->alts[cfg->nalts - 1].has_func = true;
					cfg->alts[cfg->nalts - 1].func = fd;
				}
			}
		}
		off += bl;
	}
	return DFK_OK;
}

/* Appends code point cp as UTF-8 if it fits entirely (keeping room for NUL). */
static bool put_utf8(char *out, size_t outsz, size_t *pos, uint32_t cp)
{
	uint8_t b[4];
	size_t n, i;

	if (cp < 0x80) {
		b[0] = (uint8_t)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (uint8_t)(0xC0 | (cp >> 6));
		b[1] = (uint8_t)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (uint8_t)(0xE0 | (cp >> 12));
		b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (uint8_t)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		b[0] = (uint8_t)(0xF0 | (cp >> 18));
		b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (uint8_t)(0x80 | (cp & 0x3F));
		n = 4;
	}
	if (*pos + n >= outsz)
		return false;
	for (i = 0; i < n; i++)
		out[(*pos)++] = (char)b[i];
	return true;
}

dfk_code dfk_string_desc_decode(const uint8_t *buf, size_t len, char *out, size_t outsz, dfk_error *err)
{
	size_t n, i, pos = 0;

	if (!out || outsz == 0)
		return dfk_error_set(err, DFK_ERR_SOFTWARE, "string descriptor: no output buffer");
	out[0] = '\0';
	if (!buf || len < 2)
		return dfk_error_set(err, DFK_ERR_DATA, "string descriptor: only %zu bytes", buf ? len : 0);
	if (buf[1] != USB_DT_STRING)
		return dfk_error_set(err, DFK_ERR_DATA, "string descriptor: bDescriptorType 0x%02x, expected 0x03",
				     buf[1]);
	if (buf[0] < 2)
		return dfk_error_set(err, DFK_ERR_DATA, "string descriptor: bLength %u", buf[0]);
	/* A device may send fewer bytes than bLength claims: use what came;
	 * an odd trailing byte is half a code unit and dropped. */
	n = buf[0] < len ? buf[0] : len;
	n = (n - 2) / 2;
	for (i = 0; i < n; i++) {
		uint32_t cu = le16(buf + 2 + 2 * i), cp;

		if (cu == 0)
			break; /* NUL padding ends the string */
		if (cu >= 0xD800 && cu <= 0xDBFF && i + 1 < n) {
			uint32_t lo = le16(buf + 2 + 2 * (i + 1));
			if (lo >= 0xDC00 && lo <= 0xDFFF) {
				cp = 0x10000 + ((cu - 0xD800) << 10) + (lo - 0xDC00);
				i++;
			} else {
				cp = '?';
			}
		} else if (cu >= 0xD800 && cu <= 0xDFFF) {
			cp = '?'; /* unpaired surrogate */
		} else {
			cp = cu;
		}
		if (!put_utf8(out, outsz, &pos, cp))
			break; /* truncated at a character boundary */
	}
	out[pos] = '\0';
	return DFK_OK;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_valid(const unsigned char *s)
{
	uint32_t cp;
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		n = 2;
		cp = s[0] & 0x1F;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		n = 3;
		cp = s[0] & 0x0F;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80) /* also stops at the NUL */
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	/* C1 control characters are as dangerous on a terminal as C0 ones. */
	if (cp >= 0x80 && cp <= 0x9F)
		return 0;
	return n;
}

void dfk_sanitize(const char *s, char *out, size_t outsz)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t pos = 0;

	if (!out || outsz == 0)
		return;
	while (*p) {
		size_t n = utf8_valid(p);
		if (n == 1 && (*p < 0x20 || *p == 0x7F))
			n = 0;
		if (n == 0) {
			if (pos + 1 >= outsz)
				break;
			out[pos++] = '?';
			p++;
			continue;
		}
		if (pos + n >= outsz)
			break;
		memcpy(out + pos, p, n);
		pos += n;
		p += n;
	}
	out[pos] = '\0';
}

dfk_code dfk__usb_dev_copy(dfk_usb_node *node, const dfk_usb_dev *src, dfk_error *err)
{
	dfk_usb_dev *dst = &node->dev;

	memset(node, 0, sizeof(*node));
	*dst = *src;
	dst->configs = NULL;
	dst->nconfigs = 0;
	if (src->nconfigs == 0)
		return DFK_OK;
	dst->configs = calloc(src->nconfigs, sizeof(*dst->configs));
	if (!dst->configs)
		return dfk_error_set(err, DFK_ERR_NOMEM, "out of memory for a device description");
	for (size_t c = 0; c < src->nconfigs; c++) {
		const dfk_config_desc *s = &src->configs[c];
		dfk_config_desc *d = &dst->configs[c];

		*d = *s;
		d->alts = NULL;
		if (s->nalts) {
			d->alts = calloc(s->nalts, sizeof(*d->alts));
			if (!d->alts) {
				d->nalts = 0;
				dst->nconfigs = c + 1;
				dfk__usb_dev_clear(node);
				return dfk_error_set(err, DFK_ERR_NOMEM, "out of memory for a device description");
			}
			memcpy(d->alts, s->alts, s->nalts * sizeof(*d->alts));
		}
	}
	dst->nconfigs = src->nconfigs;
	return DFK_OK;
}

void dfk__usb_dev_clear(dfk_usb_node *node)
{
	dfk_usb_dev *d = &node->dev;

	for (size_t c = 0; c < d->nconfigs; c++)
		dfk_config_desc_free(&d->configs[c]);
	free(d->configs);
	d->configs = NULL;
	d->nconfigs = 0;
}
