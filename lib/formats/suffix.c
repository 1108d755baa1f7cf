/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* The 16-byte DFU suffix (DFU 1.1 appendix B): little-endian bcdDevice,
 * idProduct, idVendor, bcdDFU, "UFD", bLength, dwCRC. */
#include <string.h>

#include "dfukit/formats.h"

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

bool dfk_suffix_present(const uint8_t *buf, size_t len)
{
	return buf && len >= DFK_SUFFIX_LEN && memcmp(buf + len - 8, "UFD", 3) == 0;
}

dfk_code dfk_suffix_parse(const uint8_t *buf, size_t len, dfk_suffix *out, dfk_error *err)
{
	const uint8_t *s;
	dfk_suffix f;
	uint32_t crc;

	if (!buf || len < DFK_SUFFIX_LEN)
		return dfk_error_set(err, DFK_ERR_DATA, "too short for a DFU suffix (%zu bytes, 16 needed)", len);
	s = buf + len - DFK_SUFFIX_LEN;
	if (memcmp(s + 8, "UFD", 3) != 0)
		return dfk_error_set(err, DFK_ERR_DATA,
				     "no DFU suffix: offset %zu holds %02X %02X %02X, not the signature \"UFD\"",
				     len - 8, s[8], s[9], s[10]);
	f.bcdDevice = get16(s);
	f.idProduct = get16(s + 2);
	f.idVendor = get16(s + 4);
	f.bcdDFU = get16(s + 6);
	f.bLength = s[11];
	f.dwCRC = get32(s + 12);
	/* Filled in before the checks so that a caller can show what is there. */
	if (out)
		*out = f;
	if (f.bLength < DFK_SUFFIX_LEN || f.bLength > len)
		return dfk_error_set(err, DFK_ERR_DATA,
				     "DFU suffix bLength %u at offset %zu is invalid (16..%zu allowed)", f.bLength,
				     len - 5, len);
	crc = dfk_dfu_crc(buf, len - 4);
	if (crc != f.dwCRC)
		return dfk_error_set(err, DFK_ERR_DATA, "DFU suffix CRC mismatch: file says 0x%08X, computed 0x%08X",
				     f.dwCRC, crc);
	return DFK_OK;
}

void dfk_suffix_build(uint8_t out[DFK_SUFFIX_LEN], const dfk_suffix *fields, uint32_t payload_crc)
{
	uint32_t crc;

	put16(out, fields->bcdDevice);
	put16(out + 2, fields->idProduct);
	put16(out + 4, fields->idVendor);
	put16(out + 6, fields->bcdDFU);
	memcpy(out + 8, "UFD", 3);
	out[11] = DFK_SUFFIX_LEN;
	crc = ~dfk_crc32_update(payload_crc, out, 12);
	out[12] = (uint8_t)crc;
	out[13] = (uint8_t)(crc >> 8);
	out[14] = (uint8_t)(crc >> 16);
	out[15] = (uint8_t)(crc >> 24);
}
