/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* The USB/IP wire format: byte-exact packing of the PDUs described in
 * protocols.md C.2/C.3, plus blocking full-length socket I/O. */
#include "usbip_wire.h"

#include "compat.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Largest transfer length a header may announce: far above any control
 * transfer (64 KiB) yet small enough that a hostile peer cannot make a
 * reader allocate gigabytes. */
#define WIRE_MAX_LEN (16 * 1024 * 1024)

/* dfukit_wire is linked into dfukit-emu on its own, without the rest of the
 * library, so it fills dfk_error itself instead of calling lib/error.c. */
DFK_PRINTF(3, 4) static dfk_code wire_err(dfk_error *err, dfk_code code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		err->code = code;
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* A non-blocking descriptor has no data or room yet: wait for it, so that
 * the _full functions mean the same on either kind. */
static void wait_ready(int fd, short events)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	(void)poll(&pfd, 1, -1);
}

/* Two's complement reinterpretation without implementation-defined casts. */
static int32_t gets32(const uint8_t *p)
{
	uint32_t v = get32(p);
	return v <= INT32_MAX ? (int32_t)v : -(int32_t)(~v) - 1;
}

void dfk_usbip_op_pack(const dfk_usbip_op *op, uint8_t out[DFK_USBIP_OP_COMMON_LEN])
{
	put16(out, op->version);
	put16(out + 2, op->code);
	put32(out + 4, op->status);
}

dfk_code dfk_usbip_op_unpack(const uint8_t in[DFK_USBIP_OP_COMMON_LEN], dfk_usbip_op *op, dfk_error *err)
{
	op->version = get16(in);
	op->code = get16(in + 2);
	op->status = get32(in + 4);
	if (op->version != DFK_USBIP_VERSION)
		return wire_err(err, DFK_ERR_PROTOCOL, "USB/IP: unsupported protocol version 0x%04x (expected 0x%04x)",
				op->version, DFK_USBIP_VERSION);
	return DFK_OK;
}

/* Copies a string into a fixed zero-filled field, always leaving a NUL. */
static void put_str(uint8_t *out, size_t size, const char *s)
{
	size_t n = strnlen(s, size - 1);
	memset(out, 0, size);
	memcpy(out, s, n);
}

static void get_str(char *dst, const uint8_t *in, size_t size)
{
	memcpy(dst, in, size);
	dst[size - 1] = '\0';
}

void dfk_usbip_device_pack(const dfk_usbip_device *dev, uint8_t out[DFK_USBIP_DEVICE_LEN])
{
	put_str(out, 256, dev->path);
	put_str(out + 0x100, 32, dev->busid);
	put32(out + 0x120, dev->busnum);
	put32(out + 0x124, dev->devnum);
	put32(out + 0x128, dev->speed);
	put16(out + 0x12C, dev->idVendor);
	put16(out + 0x12E, dev->idProduct);
	put16(out + 0x130, dev->bcdDevice);
	out[0x132] = dev->bDeviceClass;
	out[0x133] = dev->bDeviceSubClass;
	out[0x134] = dev->bDeviceProtocol;
	out[0x135] = dev->bConfigurationValue;
	out[0x136] = dev->bNumConfigurations;
	out[0x137] = dev->bNumInterfaces;
}

void dfk_usbip_device_unpack(const uint8_t in[DFK_USBIP_DEVICE_LEN], dfk_usbip_device *dev)
{
	get_str(dev->path, in, sizeof(dev->path));
	get_str(dev->busid, in + 0x100, sizeof(dev->busid));
	dev->busnum = get32(in + 0x120);
	dev->devnum = get32(in + 0x124);
	dev->speed = get32(in + 0x128);
	dev->idVendor = get16(in + 0x12C);
	dev->idProduct = get16(in + 0x12E);
	dev->bcdDevice = get16(in + 0x130);
	dev->bDeviceClass = in[0x132];
	dev->bDeviceSubClass = in[0x133];
	dev->bDeviceProtocol = in[0x134];
	dev->bConfigurationValue = in[0x135];
	dev->bNumConfigurations = in[0x136];
	dev->bNumInterfaces = in[0x137];
}

void dfk_usbip_interface_pack(const dfk_usbip_interface *intf, uint8_t out[DFK_USBIP_INTERFACE_LEN])
{
	out[0] = intf->bInterfaceClass;
	out[1] = intf->bInterfaceSubClass;
	out[2] = intf->bInterfaceProtocol;
	out[3] = 0;
}

void dfk_usbip_interface_unpack(const uint8_t in[DFK_USBIP_INTERFACE_LEN], dfk_usbip_interface *intf)
{
	intf->bInterfaceClass = in[0];
	intf->bInterfaceSubClass = in[1];
	intf->bInterfaceProtocol = in[2];
}

void dfk_usbip_header_pack(const dfk_usbip_header *h, uint8_t out[DFK_USBIP_HEADER_LEN])
{
	memset(out, 0, DFK_USBIP_HEADER_LEN);
	put32(out, h->command);
	put32(out + 0x04, h->seqnum);
	put32(out + 0x08, h->devid);
	put32(out + 0x0C, h->direction);
	put32(out + 0x10, h->ep);
	switch (h->command) {
	case DFK_USBIP_CMD_SUBMIT:
		put32(out + 0x14, h->u.submit.transfer_flags);
		put32(out + 0x18, (uint32_t)h->u.submit.transfer_buffer_length);
		put32(out + 0x1C, (uint32_t)h->u.submit.start_frame);
		put32(out + 0x20, (uint32_t)h->u.submit.number_of_packets);
		put32(out + 0x24, (uint32_t)h->u.submit.interval);
		/* The SETUP packet is USB little-endian already: copied as is. */
		memcpy(out + 0x28, h->u.submit.setup, 8);
		break;
	case DFK_USBIP_RET_SUBMIT:
		put32(out + 0x14, (uint32_t)h->u.ret_submit.status);
		put32(out + 0x18, (uint32_t)h->u.ret_submit.actual_length);
		put32(out + 0x1C, (uint32_t)h->u.ret_submit.start_frame);
		put32(out + 0x20, (uint32_t)h->u.ret_submit.number_of_packets);
		put32(out + 0x24, (uint32_t)h->u.ret_submit.error_count);
		break;
	case DFK_USBIP_CMD_UNLINK: put32(out + 0x14, h->u.unlink.seqnum); break;
	case DFK_USBIP_RET_UNLINK: put32(out + 0x14, (uint32_t)h->u.ret_unlink.status); break;
	default: break;
	}
}

dfk_code dfk_usbip_header_unpack(const uint8_t in[DFK_USBIP_HEADER_LEN], dfk_usbip_header *h, dfk_error *err)
{
	memset(h, 0, sizeof(*h));
	h->command = get32(in);
	h->seqnum = get32(in + 0x04);
	h->devid = get32(in + 0x08);
	h->direction = get32(in + 0x0C);
	h->ep = get32(in + 0x10);
	switch (h->command) {
	case DFK_USBIP_CMD_SUBMIT:
		h->u.submit.transfer_flags = get32(in + 0x14);
		h->u.submit.transfer_buffer_length = gets32(in + 0x18);
		h->u.submit.start_frame = gets32(in + 0x1C);
		h->u.submit.number_of_packets = gets32(in + 0x20);
		h->u.submit.interval = gets32(in + 0x24);
		memcpy(h->u.submit.setup, in + 0x28, 8);
		if (h->u.submit.transfer_buffer_length < 0 || h->u.submit.transfer_buffer_length > WIRE_MAX_LEN)
			return wire_err(err, DFK_ERR_PROTOCOL,
					"USB/IP: CMD_SUBMIT seqnum %u has bad transfer_buffer_length %d", h->seqnum,
					h->u.submit.transfer_buffer_length);
		if (h->direction > DFK_USBIP_DIR_IN)
			return wire_err(err, DFK_ERR_PROTOCOL, "USB/IP: CMD_SUBMIT seqnum %u has bad direction %u",
					h->seqnum, h->direction);
		break;
	case DFK_USBIP_RET_SUBMIT:
		h->u.ret_submit.status = gets32(in + 0x14);
		h->u.ret_submit.actual_length = gets32(in + 0x18);
		h->u.ret_submit.start_frame = gets32(in + 0x1C);
		h->u.ret_submit.number_of_packets = gets32(in + 0x20);
		h->u.ret_submit.error_count = gets32(in + 0x24);
		if (h->u.ret_submit.actual_length < 0 || h->u.ret_submit.actual_length > WIRE_MAX_LEN)
			return wire_err(err, DFK_ERR_PROTOCOL, "USB/IP: RET_SUBMIT seqnum %u has bad actual_length %d",
					h->seqnum, h->u.ret_submit.actual_length);
		break;
	case DFK_USBIP_CMD_UNLINK: h->u.unlink.seqnum = get32(in + 0x14); break;
	case DFK_USBIP_RET_UNLINK: h->u.ret_unlink.status = gets32(in + 0x14); break;
	default:
		return wire_err(err, DFK_ERR_PROTOCOL, "USB/IP: unknown URB command 0x%08x (seqnum %u)", h->command,
				h->seqnum);
	}
	return DFK_OK;
}

dfk_code dfk_usbip_read_full(int fd, void *buf, size_t len, dfk_error *err)
{
	uint8_t *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, p + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				wait_ready(fd, POLLIN);
				continue;
			}
			if (errno == ECONNRESET)
				return wire_err(err, DFK_ERR_NODEV,
						"USB/IP: connection reset by peer after %zu of %zu bytes", done, len);
			return wire_err(err, DFK_ERR_IO, "USB/IP: read failed after %zu of %zu bytes: %s", done, len,
					DFK_STRERROR(errno));
		}
		if (n == 0)
			return wire_err(err, DFK_ERR_NODEV, "USB/IP: connection closed by peer after %zu of %zu bytes",
					done, len);
		done += (size_t)n;
	}
	return DFK_OK;
}

dfk_code dfk_usbip_write_full(int fd, const void *buf, size_t len, dfk_error *err)
{
	const uint8_t *p = buf;
	size_t done = 0;
	/* send(MSG_NOSIGNAL) keeps a peer that went away from killing the
	 * process with SIGPIPE; pipes and files fall back to write(). */
	int use_send = 1;

	while (done < len) {
		ssize_t n;
		if (use_send) {
			n = send(fd, p + done, len - done, DFK_MSG_NOSIGNAL);
			if (n < 0 && errno == ENOTSOCK) {
				use_send = 0;
				continue;
			}
		} else {
			n = write(fd, p + done, len - done);
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				wait_ready(fd, POLLOUT);
				continue;
			}
			if (errno == EPIPE || errno == ECONNRESET)
				return wire_err(err, DFK_ERR_NODEV,
						"USB/IP: connection closed by peer after %zu of %zu bytes", done, len);
			return wire_err(err, DFK_ERR_IO, "USB/IP: write failed after %zu of %zu bytes: %s", done, len,
					DFK_STRERROR(errno));
		}
		if (n == 0)
			return wire_err(err, DFK_ERR_IO, "USB/IP: write made no progress after %zu of %zu bytes", done,
					len);
		done += (size_t)n;
	}
	return DFK_OK;
}
