/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* The USB/IP wire format (Linux usbip, protocol version 0x0111), shared by
 * the library's USB/IP client transport and by dfukit-emu. Only encoding
 * and decoding live here: no sockets, no device logic. All header integers
 * are big-endian; the 8-byte SETUP packet inside is USB little-endian. */
#ifndef DFUKIT_USBIP_WIRE_H
#define DFUKIT_USBIP_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "dfukit/error.h"

#define DFK_USBIP_VERSION 0x0111
#define DFK_USBIP_PORT 3240

#define DFK_USBIP_OP_REQ_DEVLIST 0x8005
#define DFK_USBIP_OP_REP_DEVLIST 0x0005
#define DFK_USBIP_OP_REQ_IMPORT 0x8003
#define DFK_USBIP_OP_REP_IMPORT 0x0003

#define DFK_USBIP_ST_OK 0
#define DFK_USBIP_ST_NA 1
#define DFK_USBIP_ST_DEV_BUSY 2
#define DFK_USBIP_ST_DEV_ERR 3
#define DFK_USBIP_ST_NODEV 4
#define DFK_USBIP_ST_ERROR 5

#define DFK_USBIP_CMD_SUBMIT 1
#define DFK_USBIP_CMD_UNLINK 2
#define DFK_USBIP_RET_SUBMIT 3
#define DFK_USBIP_RET_UNLINK 4

#define DFK_USBIP_DIR_OUT 0
#define DFK_USBIP_DIR_IN 1

#define DFK_USBIP_OP_COMMON_LEN 8
#define DFK_USBIP_DEVICE_LEN 312 /* struct usbip_usb_device */
#define DFK_USBIP_INTERFACE_LEN 4
#define DFK_USBIP_IMPORT_REQ_LEN 40 /* op_common + busid[32] */
#define DFK_USBIP_HEADER_LEN 48

/* Linux errno values carried in RET_SUBMIT/RET_UNLINK status (negated). */
#define DFK_USBIP_EPIPE 32	 /* STALL */
#define DFK_USBIP_ECONNRESET 104 /* unlinked */
#define DFK_USBIP_ETIMEDOUT 110
#define DFK_USBIP_ESHUTDOWN 108
#define DFK_USBIP_ENODEV 19
#define DFK_USBIP_EPROTO 71

#define DFK_USBIP_SPEED_FULL 2
#define DFK_USBIP_SPEED_HIGH 3

typedef struct dfk_usbip_op {
	uint16_t version;
	uint16_t code;
	uint32_t status;
} dfk_usbip_op;

typedef struct dfk_usbip_device {
	char path[256];
	char busid[32];
	uint32_t busnum;
	uint32_t devnum;
	uint32_t speed;
	uint16_t idVendor;
	uint16_t idProduct;
	uint16_t bcdDevice;
	uint8_t bDeviceClass;
	uint8_t bDeviceSubClass;
	uint8_t bDeviceProtocol;
	uint8_t bConfigurationValue;
	uint8_t bNumConfigurations;
	uint8_t bNumInterfaces;
} dfk_usbip_device;

typedef struct dfk_usbip_interface {
	uint8_t bInterfaceClass;
	uint8_t bInterfaceSubClass;
	uint8_t bInterfaceProtocol;
} dfk_usbip_interface;

/* One 48-byte URB PDU header. Fields not used by a command are zero. */
typedef struct dfk_usbip_header {
	uint32_t command;
	uint32_t seqnum;
	uint32_t devid;
	uint32_t direction;
	uint32_t ep;
	union {
		struct {
			uint32_t transfer_flags;
			int32_t transfer_buffer_length;
			int32_t start_frame;
			int32_t number_of_packets;
			int32_t interval;
			uint8_t setup[8];
		} submit;
		struct {
			int32_t status;
			int32_t actual_length;
			int32_t start_frame;
			int32_t number_of_packets;
			int32_t error_count;
		} ret_submit;
		struct {
			uint32_t seqnum;
		} unlink;
		struct {
			int32_t status;
		} ret_unlink;
	} u;
} dfk_usbip_header;

void dfk_usbip_op_pack(const dfk_usbip_op *op, uint8_t out[DFK_USBIP_OP_COMMON_LEN]);
/* Checks the version (0x0111) and returns DFK_ERR_PROTOCOL otherwise. */
dfk_code dfk_usbip_op_unpack(const uint8_t in[DFK_USBIP_OP_COMMON_LEN], dfk_usbip_op *op, dfk_error *err);

void dfk_usbip_device_pack(const dfk_usbip_device *dev, uint8_t out[DFK_USBIP_DEVICE_LEN]);
/* Forces NUL termination of path and busid. */
void dfk_usbip_device_unpack(const uint8_t in[DFK_USBIP_DEVICE_LEN], dfk_usbip_device *dev);
void dfk_usbip_interface_pack(const dfk_usbip_interface *intf, uint8_t out[DFK_USBIP_INTERFACE_LEN]);
void dfk_usbip_interface_unpack(const uint8_t in[DFK_USBIP_INTERFACE_LEN], dfk_usbip_interface *intf);

void dfk_usbip_header_pack(const dfk_usbip_header *h, uint8_t out[DFK_USBIP_HEADER_LEN]);
/* Rejects unknown commands, negative or over-large (> 16 MiB) lengths and
 * a CMD_SUBMIT direction other than 0/1. */
dfk_code dfk_usbip_header_unpack(const uint8_t in[DFK_USBIP_HEADER_LEN], dfk_usbip_header *h, dfk_error *err);

/* Reads/writes exactly len bytes on a socket or pipe, retrying on EINTR and
 * short transfers (a non-blocking descriptor is waited for with poll);
 * EOF is DFK_ERR_NODEV, other errors DFK_ERR_IO. */
dfk_code dfk_usbip_read_full(int fd, void *buf, size_t len, dfk_error *err);
dfk_code dfk_usbip_write_full(int fd, const void *buf, size_t len, dfk_error *err);

#endif
