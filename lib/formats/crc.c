/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* CRC-32 through zlib, which ships a table-driven (and on most builds
 * vectorised) implementation: no reason to hand-write one. */
#include <limits.h>
#include <zlib.h>

#include "dfukit/formats.h"

uint32_t dfk_crc32_update(uint32_t crc, const void *data, size_t len)
{
	const Bytef *p = data;

	/* crc32() takes a uInt length; feed larger buffers in pieces. */
	while (len > 0) {
		uInt n = len > (size_t)(UINT_MAX / 2 + 1) ? (uInt)(UINT_MAX / 2 + 1) : (uInt)len;
		crc = (uint32_t)crc32((uLong)crc, p, n);
		p += n;
		len -= n;
	}
	return crc;
}

uint32_t dfk_dfu_crc(const void *data, size_t len)
{
	/* DFU's dwCRC is zlib's CRC-32 without the final inversion. */
	return ~dfk_crc32_update(0, data, len);
}
