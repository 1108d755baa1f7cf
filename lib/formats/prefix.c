/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* Vendor prefixes that dfu-util downloads as part of the payload:
 *   TI Stellaris (lm4flash), 8 bytes: 01 00, address/1024 (LE16), payload length (LE32)
 *   NXP LPC unencrypted, 16 bytes: 1a 3f, length in 512-byte blocks (LE16),
 *   zeros, and ff ff ff ff in bytes 12..15. */
#include <string.h>

#include "dfukit/formats.h"

#define STELLARIS_LEN 8
#define LPC_LEN 16

dfk_code dfk_prefix_detect(const uint8_t *buf, size_t len, dfk_prefix_type *type, size_t *prefix_len, uint32_t *address,
			   dfk_error *err)
{
	(void)err;
	*type = DFK_PREFIX_NONE;
	*prefix_len = 0;
	*address = 0;
	if (!buf || len < STELLARIS_LEN)
		return DFK_OK;
	/* Same heuristic as dfu-util: a Stellaris prefix must also state the
	 * exact length of what follows it; an LPC prefix is only recognised by
	 * its first two bytes (low six bits). */
	if (buf[0] == 0x01 && buf[1] == 0x00) {
		uint64_t stated =
		    (uint64_t)buf[4] | (uint64_t)buf[5] << 8 | (uint64_t)buf[6] << 16 | (uint64_t)buf[7] << 24;
		if (stated == (uint64_t)len - STELLARIS_LEN) {
			*type = DFK_PREFIX_STELLARIS;
			*prefix_len = STELLARIS_LEN;
			*address = (uint32_t)(buf[2] | buf[3] << 8) * 1024u;
		}
	} else if (len >= LPC_LEN && (buf[0] & 0x3f) == 0x1a && (buf[1] & 0x3f) == 0x3f) {
		*type = DFK_PREFIX_LPC;
		*prefix_len = LPC_LEN;
	}
	return DFK_OK;
}

dfk_code dfk_prefix_build(dfk_prefix_type type, uint32_t address, uint64_t payload_len, uint8_t out[16],
			  size_t *out_len, dfk_error *err)
{
	uint64_t blocks;

	*out_len = 0;
	memset(out, 0, 16);
	switch (type) {
	case DFK_PREFIX_STELLARIS:
		if (address % 1024 != 0)
			return dfk_error_set(err, DFK_ERR_USAGE,
					     "Stellaris prefix address 0x%08X is not a multiple of 1 KiB", address);
		if (address / 1024 > 0xFFFF)
			return dfk_error_set(err, DFK_ERR_USAGE, "Stellaris prefix address 0x%08X is above 0x03FFFC00",
					     address);
		if (payload_len > UINT32_MAX)
			return dfk_error_set(err, DFK_ERR_DATA,
					     "payload of %llu bytes is too large for a Stellaris prefix (4 GiB max)",
					     (unsigned long long)payload_len);
		out[0] = 0x01;
		out[1] = 0x00;
		out[2] = (uint8_t)(address / 1024);
		out[3] = (uint8_t)(address / 1024 >> 8);
		out[4] = (uint8_t)payload_len;
		out[5] = (uint8_t)(payload_len >> 8);
		out[6] = (uint8_t)(payload_len >> 16);
		out[7] = (uint8_t)(payload_len >> 24);
		*out_len = STELLARIS_LEN;
		return DFK_OK;
	case DFK_PREFIX_LPC:
		blocks = (payload_len + 511) / 512;
		if (blocks > 0xFFFF)
			return dfk_error_set(err, DFK_ERR_DATA,
					     "payload of %llu bytes is too large for an LPC prefix (32 MiB max)",
					     (unsigned long long)payload_len);
		out[0] = 0x1a;
		out[1] = 0x3f;
		out[2] = (uint8_t)blocks;
		out[3] = (uint8_t)(blocks >> 8);
		memset(out + 12, 0xff, 4);
		*out_len = LPC_LEN;
		return DFK_OK;
	case DFK_PREFIX_NONE: break;
	}
	return dfk_error_set(err, DFK_ERR_USAGE, "no prefix type given");
}
