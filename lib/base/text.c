/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* Hex digits and record lines of the text firmware formats. */
#include "text.h"

int dfk__hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool dfk__next_line(const uint8_t *buf, size_t len, size_t *pos, size_t *start, size_t *end)
{
	size_t s = *pos, e, p = *pos;

	if (p >= len)
		return false;
	while (p < len && buf[p] != '\n')
		p++;
	e = p;
	if (p < len)
		p++; /* the '\n' */
	while (e > s && (buf[e - 1] == '\r' || buf[e - 1] == ' ' || buf[e - 1] == '\t' || buf[e - 1] == 0x1a))
		e--;
	while (s < e && (buf[s] == ' ' || buf[s] == '\t'))
		s++;
	*pos = p;
	*start = s;
	*end = e;
	return true;
}

dfk_code dfk__hex_bytes(const uint8_t *buf, size_t off, size_t nbytes, uint8_t *out, size_t line, dfk_error *err)
{
	for (size_t i = 0; i < nbytes; i++) {
		int hi = dfk__hexval(buf[off + 2 * i]), lo = dfk__hexval(buf[off + 2 * i + 1]);

		if (hi < 0 || lo < 0) {
			size_t bad = off + 2 * i + (hi < 0 ? 0 : 1);
			return dfk_error_set(err, DFK_ERR_DATA, "line %zu (offset %zu): invalid hex digit 0x%02x", line,
					     bad, buf[bad]);
		}
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return DFK_OK;
}
