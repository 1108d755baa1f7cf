/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* libdfukit: USB and DFU descriptors and DFU protocol constants, with
 * parsers that never trust a length the device sent. */
#ifndef DFUKIT_USB_H
#define DFUKIT_USB_H

#include "dfukit/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dfukit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* DFU class requests (bRequest). */
enum dfk_dfu_request {
	DFK_REQ_DETACH = 0,
	DFK_REQ_DNLOAD = 1,
	DFK_REQ_UPLOAD = 2,
	DFK_REQ_GETSTATUS = 3,
	DFK_REQ_CLRSTATUS = 4,
	DFK_REQ_GETSTATE = 5,
	DFK_REQ_ABORT = 6,
};

/* bState */
enum dfk_dfu_state {
	DFK_STATE_APP_IDLE = 0,
	DFK_STATE_APP_DETACH = 1,
	DFK_STATE_IDLE = 2,
	DFK_STATE_DNLOAD_SYNC = 3,
	DFK_STATE_DNBUSY = 4,
	DFK_STATE_DNLOAD_IDLE = 5,
	DFK_STATE_MANIFEST_SYNC = 6,
	DFK_STATE_MANIFEST = 7,
	DFK_STATE_MANIFEST_WAIT_RESET = 8,
	DFK_STATE_UPLOAD_IDLE = 9,
	DFK_STATE_ERROR = 10,
};

/* bStatus */
enum dfk_dfu_status {
	DFK_STATUS_OK = 0x00,
	DFK_STATUS_ERR_TARGET = 0x01,
	DFK_STATUS_ERR_FILE = 0x02,
	DFK_STATUS_ERR_WRITE = 0x03,
	DFK_STATUS_ERR_ERASE = 0x04,
	DFK_STATUS_ERR_CHECK_ERASED = 0x05,
	DFK_STATUS_ERR_PROG = 0x06,
	DFK_STATUS_ERR_VERIFY = 0x07,
	DFK_STATUS_ERR_ADDRESS = 0x08,
	DFK_STATUS_ERR_NOTDONE = 0x09,
	DFK_STATUS_ERR_FIRMWARE = 0x0A,
	DFK_STATUS_ERR_VENDOR = 0x0B,
	DFK_STATUS_ERR_USBR = 0x0C,
	DFK_STATUS_ERR_POR = 0x0D,
	DFK_STATUS_ERR_UNKNOWN = 0x0E,
	DFK_STATUS_ERR_STALLEDPKT = 0x0F,
};

/* DfuSe command bytes (DNLOAD wValue 0). */
enum dfk_dfuse_cmd {
	DFK_DFUSE_GET_COMMANDS = 0x00,
	DFK_DFUSE_SET_ADDRESS = 0x21,
	DFK_DFUSE_ERASE = 0x41,
	DFK_DFUSE_READ_UNPROTECT = 0x92,
};

/* "dfuIDLE", ...; never NULL ("unknown state" for bad values). */
DFK_API const char *dfk_state_name(unsigned state);
/* "OK", "errTARGET", ...; never NULL. */
DFK_API const char *dfk_status_name(unsigned status);

typedef struct dfk_status {
	uint8_t status;
	uint32_t poll_timeout_ms; /* 24-bit bwPollTimeout */
	uint8_t state;
	uint8_t istring;
} dfk_status;
/* Decodes a GETSTATUS reply; fewer than 6 bytes is DFK_ERR_PROTOCOL. */
DFK_API dfk_code dfk_status_decode(const uint8_t *buf, size_t len, dfk_status *st, dfk_error *err);

enum {
	DFK_ATTR_CAN_DNLOAD = 0x01,
	DFK_ATTR_CAN_UPLOAD = 0x02,
	DFK_ATTR_MANIFEST_TOLERANT = 0x04,
	DFK_ATTR_WILL_DETACH = 0x08,
};

#define DFK_DESC_DFU_FUNCTIONAL 0x21

typedef struct dfk_func_desc {
	uint8_t bLength; /* 7 = DFU 1.0 (no bcdDFUVersion), 9 = DFU 1.1 */
	uint8_t bmAttributes;
	uint16_t wDetachTimeOut;
	uint16_t wTransferSize;
	uint16_t bcdDFUVersion; /* 0x0100 when bLength is 7 */
} dfk_func_desc;
DFK_API dfk_code dfk_func_desc_parse(const uint8_t *buf, size_t len, dfk_func_desc *fd, dfk_error *err);

typedef struct dfk_device_desc {
	uint16_t bcdUSB;
	uint8_t bDeviceClass, bDeviceSubClass, bDeviceProtocol;
	uint8_t bMaxPacketSize0;
	uint16_t idVendor, idProduct, bcdDevice;
	uint8_t iManufacturer, iProduct, iSerialNumber;
	uint8_t bNumConfigurations;
} dfk_device_desc;
DFK_API dfk_code dfk_device_desc_parse(const uint8_t *buf, size_t len, dfk_device_desc *dd, dfk_error *err);

typedef struct dfk_intf_desc {
	uint8_t index; /* position of this interface among the config's interfaces */
	uint8_t bInterfaceNumber;
	uint8_t bAlternateSetting;
	uint8_t bInterfaceClass, bInterfaceSubClass, bInterfaceProtocol;
	uint8_t iInterface;
	bool has_func; /* a DFU functional descriptor follows this alt */
	dfk_func_desc func;
} dfk_intf_desc;

typedef struct dfk_config_desc {
	uint8_t bConfigurationValue;
	uint8_t bNumInterfaces;
	dfk_intf_desc *alts; /* every interface alt setting, in descriptor order */
	size_t nalts;
	bool has_func; /* first DFU functional descriptor anywhere in the config */
	dfk_func_desc func;
} dfk_config_desc;
/* Parses a full configuration descriptor set (wTotalLength bytes). */
DFK_API dfk_code dfk_config_desc_parse(const uint8_t *buf, size_t len, dfk_config_desc *cfg, dfk_error *err);
DFK_API void dfk_config_desc_free(dfk_config_desc *cfg);

/* UTF-16LE string descriptor to UTF-8 (out NUL-terminated). */
DFK_API dfk_code dfk_string_desc_decode(const uint8_t *buf, size_t len, char *out, size_t outsz, dfk_error *err);
/* Copies s into out replacing control characters and invalid UTF-8 with '?',
 * for printing device-supplied strings. */
DFK_API void dfk_sanitize(const char *s, char *out, size_t outsz);

#ifdef __cplusplus
}
#endif
#endif
