/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* The core's side of the backend table (backend.h): transports and open
 * handles allocated here, and the transport-independent wrappers. */
#include "backend.h"

#include "ctx_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

dfk_code dfk__transport_new(const dfk_transport_ops *ops, const dfk_ctx *ctx, dfk_transport **out, dfk_error *err)
{
	dfk_transport *t;

	*out = NULL;
	t = calloc(1, sizeof(*t) + ops->transport_size);
	if (!t)
		return dfk_error_set(err, DFK_ERR_NOMEM, "%s: out of memory", ops->name);
	t->ops = ops;
	t->ctx = ctx;
	*out = t;
	return DFK_OK;
}

void dfk_transport_free(dfk_transport *t)
{
	if (!t)
		return;
	if (t->ops && t->ops->destroy)
		t->ops->destroy(t);
	free(t);
}

dfk_code dfk_transport_set_only_path(dfk_transport *t, const char *path, dfk_error *err)
{
	if (!t)
		return dfk_error_set(err, DFK_ERR_USAGE, "no transport");
	if (path && strlen(path) >= sizeof(t->only_path))
		return dfk_error_set(err, DFK_ERR_USAGE, "device path \"%.64s...\" is too long", path);
	snprintf(t->only_path, sizeof(t->only_path), "%s", path ? path : "");
	return DFK_OK;
}

bool dfk__transport_wants(const dfk_transport *t, const char *path)
{
	return !t->only_path[0] || strcmp(t->only_path, path) == 0;
}

const char *dfk_transport_name(const dfk_transport *t)
{
	return t && t->ops ? t->ops->name : "none";
}

dfk_code dfk__transport_enumerate(dfk_transport *t, dfk_usb_list *list, dfk_error *err)
{
	dfk_code code;

	memset(list, 0, sizeof(*list));
	code = t->ops->enumerate(t, list, err);
	if (code) {
		memset(list, 0, sizeof(*list));
		return code;
	}
	for (size_t i = 0; i < list->count; i++)
		list->devs[i].transport = t;
	return DFK_OK;
}

dfk_code dfk_usb_open(dfk_transport *t, const dfk_usb_dev *dev, dfk_usb **out, dfk_error *err)
{
	const dfk_usb_node *node;
	dfk_usb *h;
	dfk_code code;

	if (!out)
		return dfk_error_set(err, DFK_ERR_USAGE, "no place for the open device");
	*out = NULL;
	if (!t || !dev)
		return dfk_error_set(err, DFK_ERR_USAGE, "opening a device needs a transport and a device");
	node = dfk__usb_node(dev);
	if (node->transport != t)
		return dfk_error_set(err, DFK_ERR_USAGE, "%s: the device at %s was not listed by this transport",
				     t->ops->name, dev->path);
	h = calloc(1, sizeof(*h) + t->ops->handle_size);
	if (!h)
		return dfk_error_set(err, DFK_ERR_NOMEM, "%s: out of memory", t->ops->name);
	h->ops = t->ops;
	h->transport = t;
	code = t->ops->open(t, node, h, err);
	if (code) {
		free(h);
		return code;
	}
	*out = h;
	return DFK_OK;
}

void dfk_usb_close(dfk_usb *h)
{
	if (!h)
		return;
	h->ops->close(h);
	free(h);
}

/* The context's trace callback, when one is set (NULL otherwise). */
static const dfk_ctx *tracing(const dfk_usb *h)
{
	const dfk_ctx *ctx = h->transport ? h->transport->ctx : NULL;
	return ctx && ctx->trace ? ctx : NULL;
}

static void trace(const dfk_ctx *ctx, dfk_trace_kind kind, const dfk_setup *setup, const uint8_t *data, size_t data_len,
		  size_t actual, dfk_code result, const dfk_error *err, uint64_t start)
{
	dfk_trace_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.size = sizeof(ev);
	ev.kind = kind;
	if (setup)
		ev.setup = *setup;
	ev.data = data_len ? data : NULL;
	ev.data_len = data_len;
	ev.actual = actual;
	ev.result = result;
	if (result != DFK_OK)
		ev.message = err && err->msg[0] ? err->msg : dfk_code_describe(result);
	ev.start_ms = start;
	ev.duration_ms = dfk__now(ctx) - start;
	ctx->trace(ctx->trace_user, &ev);
}

dfk_code dfk_usb_control(dfk_usb *h, const dfk_setup *setup, uint8_t *data, size_t *actual, unsigned timeout_ms,
			 dfk_error *err)
{
	dfk_error local;
	if (!err)
		err = &local; /* the trace shows the message */
	size_t got = 0;
	dfk_code rc;

	if (actual)
		*actual = 0;
	if (!h || !h->ops || !h->ops->control || !setup)
		return dfk_error_set(err, DFK_ERR_SOFTWARE, "control transfer on a closed device");
	const dfk_ctx *ctx = tracing(h);
	uint64_t start = ctx ? dfk__now(ctx) : 0;
	rc = h->ops->control(h, setup, data, &got, timeout_ms, err);
	/* A backend must never report more than the buffer holds. */
	if (rc == DFK_OK && got > setup->wLength)
		rc = dfk_error_set(err, DFK_ERR_PROTOCOL, "control request 0x%02x: %zu bytes moved for wLength %u",
				   setup->bRequest, got, setup->wLength);
	if (ctx) {
		bool in = setup->bmRequestType & 0x80;
		size_t len = in ? (rc == DFK_OK ? got : 0) : setup->wLength;
		trace(ctx, DFK_TRACE_CONTROL, setup, data, len, rc == DFK_OK ? got : 0, rc, err, start);
	}
	if (rc != DFK_OK)
		return rc;
	if (actual)
		*actual = got;
	return DFK_OK;
}

dfk_code dfk__usb_claim(dfk_usb *h, uint8_t intf, dfk_error *err)
{
	dfk_error local;
	if (!err)
		err = &local; /* the trace shows the message */
	const dfk_ctx *ctx = tracing(h);
	uint64_t start = ctx ? dfk__now(ctx) : 0;
	dfk_code rc = h->ops->claim(h, intf, err);
	if (ctx) {
		dfk_setup s = {0, 0, 0, intf, 0};
		trace(ctx, DFK_TRACE_CLAIM, &s, NULL, 0, 0, rc, err, start);
	}
	return rc;
}

#define USB_REQ_SET_INTERFACE 0x0B

dfk_code dfk__usb_set_alt(dfk_usb *h, uint8_t intf, uint8_t alt, dfk_error *err)
{
	dfk_error local;
	if (!err)
		err = &local; /* the trace shows the message */
	const dfk_ctx *ctx = tracing(h);
	uint64_t start = ctx ? dfk__now(ctx) : 0;
	dfk_code rc = h->ops->set_alt(h, intf, alt, err);
	if (ctx) {
		dfk_setup s = {0x01, USB_REQ_SET_INTERFACE, alt, intf, 0};
		trace(ctx, DFK_TRACE_SET_ALT, &s, NULL, 0, 0, rc, err, start);
	}
	return rc;
}

dfk_code dfk__usb_reset(dfk_usb *h, dfk_error *err)
{
	dfk_error local;
	if (!err)
		err = &local; /* the trace shows the message */
	const dfk_ctx *ctx = tracing(h);
	uint64_t start = ctx ? dfk__now(ctx) : 0;
	dfk_code rc = h->ops->reset(h, err);
	if (ctx)
		trace(ctx, DFK_TRACE_RESET, NULL, NULL, 0, 0, rc, err, start);
	return rc;
}

#define USB_REQ_GET_DESCRIPTOR 0x06
#define USB_DT_STRING 0x03
#define LANGID_EN_US 0x0409

static dfk_code get_string_desc(dfk_usb *h, uint8_t index, uint16_t langid, uint8_t *buf, size_t *got,
				unsigned timeout_ms, dfk_error *err)
{
	dfk_setup s;
	s.bmRequestType = 0x80; /* device-to-host, standard, device */
	s.bRequest = USB_REQ_GET_DESCRIPTOR;
	s.wValue = (uint16_t)((USB_DT_STRING << 8) | index);
	s.wIndex = langid;
	s.wLength = 255; /* bLength is one byte: no descriptor is longer */
	return dfk_usb_control(h, &s, buf, got, timeout_ms, err);
}

dfk_code dfk_usb_get_string(dfk_usb *h, uint8_t index, uint16_t *langid, char *out, size_t outsz, unsigned timeout_ms,
			    dfk_error *err)
{
	uint8_t buf[255];
	size_t got = 0;
	uint16_t lang = langid ? *langid : 0;
	dfk_code rc;

	if (!out || outsz == 0)
		return dfk_error_set(err, DFK_ERR_SOFTWARE, "string descriptor: no output buffer");
	out[0] = '\0';
	if (index == 0)
		return DFK_OK;
	if (lang == 0) {
		rc = get_string_desc(h, 0, 0, buf, &got, timeout_ms, err);
		if (rc != DFK_OK) {
			dfk_error_prefix(err, "reading the LANGID table");
			return rc;
		}
		/* Devices with an empty or malformed table usually still answer in
		 * US English, as libusb's ASCII helper and the OSes assume. */
		if (got >= 4 && buf[1] == USB_DT_STRING && buf[0] >= 4)
			lang = (uint16_t)(buf[2] | (buf[3] << 8));
		if (lang == 0)
			lang = LANGID_EN_US;
		if (langid)
			*langid = lang;
	}
	rc = get_string_desc(h, index, lang, buf, &got, timeout_ms, err);
	if (rc != DFK_OK) {
		dfk_error_prefix(err, "reading string descriptor %u", index);
		return rc;
	}
	rc = dfk_string_desc_decode(buf, got, out, outsz, err);
	if (rc != DFK_OK) {
		dfk_error_prefix(err, "string descriptor %u", index);
		return rc;
	}
	return DFK_OK;
}
