/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* Motorola S-record (S19/S28/S37) reader.
 *
 * Hand-written like ihex.c: a line-oriented text format with no C library
 * in Debian that verifies byte counts, checksums and S5/S6 record counts. */
#include <stdlib.h>
#include <string.h>

#include "dfukit/formats.h"
#include "image_run.h"
#include "text.h"

/* Address field width in bytes per record type S0..S9 (0: reserved). */
static const unsigned addr_len[10] = {2, 2, 3, 4, 0, 2, 3, 4, 3, 2};

dfk_code dfk_srec_parse(const uint8_t *buf, size_t len, dfk_image *img, char *name, dfk_error *err)
{
	dfk__run run = {0};
	uint64_t data_records = 0;
	size_t pos = 0, line = 0;
	bool done = false;
	dfk_code rc = DFK_OK;

	if (name)
		name[0] = '\0';
	if (len == 0)
		return dfk_error_set(err, DFK_ERR_DATA, "empty S-record file");

	for (size_t start, end; dfk__next_line(buf, len, &pos, &start, &end);) {
		size_t n, i;
		uint8_t rec[256];
		unsigned sum = 0, count, type, alen, dlen;
		uint64_t addr = 0;

		line++;
		if (start == end)
			continue;
		if (buf[start] != 'S' && buf[start] != 's') {
			rc = dfk_error_set(err, DFK_ERR_DATA, "line %zu (offset %zu): expected 'S' to start a record",
					   line, start);
			goto fail;
		}
		if (done) {
			rc = dfk_error_set(err, DFK_ERR_DATA,
					   "line %zu (offset %zu): record after the termination record", line, start);
			goto fail;
		}
		if (end - start < 2 || buf[start + 1] < '0' || buf[start + 1] > '9' ||
		    addr_len[buf[start + 1] - '0'] == 0) {
			rc = dfk_error_set(err, DFK_ERR_DATA, "line %zu (offset %zu): unknown record type '%c'", line,
					   start, end - start < 2 ? '?' : buf[start + 1]);
			goto fail;
		}
		type = (unsigned)(buf[start + 1] - '0');
		alen = addr_len[type];
		n = end - start - 2;
		if (n % 2 != 0 || n / 2 > sizeof(rec) || n / 2 < 1 + alen + 1) {
			rc = dfk_error_set(err, DFK_ERR_DATA,
					   "line %zu (offset %zu): S%u record has %zu hex digits, not a whole record",
					   line, start, type, n);
			goto fail;
		}
		rec[0] = 0; /* n / 2 >= 4 here, but the compiler cannot tell */
		rc = dfk__hex_bytes(buf, start + 2, n / 2, rec, line, err);
		if (rc != DFK_OK)
			goto fail;
		count = rec[0];
		if (count != n / 2 - 1) {
			rc = dfk_error_set(err, DFK_ERR_DATA,
					   "line %zu (offset %zu): byte count says %u bytes but the record holds %zu",
					   line, start, count, n / 2 - 1);
			goto fail;
		}
		for (i = 0; i < n / 2 - 1; i++)
			sum += rec[i];
		if ((uint8_t)~sum != rec[n / 2 - 1]) {
			rc = dfk_error_set(err, DFK_ERR_DATA,
					   "line %zu (offset %zu): checksum 0x%02X is wrong, expected 0x%02X", line,
					   start, rec[n / 2 - 1], (uint8_t)~sum);
			goto fail;
		}
		for (i = 0; i < alen; i++)
			addr = addr << 8 | rec[1 + i];
		dlen = count - alen - 1;
		const uint8_t *data = rec + 1 + alen;

		switch (type) {
		case 0:
			if (name) {
				size_t k = 0;
				/* The header is free text: keep what fits and stop at a NUL. */
				while (k < dlen && k < 255 && data[k] != 0) {
					name[k] = (char)data[k];
					k++;
				}
				name[k] = '\0';
			}
			break;
		case 1:
		case 2:
		case 3:
			data_records++;
			if (dlen == 0)
				break;
			rc = dfk__run_add(&run, img, addr, data, dlen, line, start, err);
			if (rc != DFK_OK)
				goto fail;
			break;
		case 5:
		case 6:
			if (dlen != 0 || addr != (data_records & (type == 5 ? 0xffffu : 0xffffffu))) {
				rc = dfk_error_set(
				    err, DFK_ERR_DATA,
				    "line %zu (offset %zu): S%u count record says %llu data records, the file "
				    "has %llu before it",
				    line, start, type, (unsigned long long)addr, (unsigned long long)data_records);
				goto fail;
			}
			break;
		default: /* 7, 8, 9: termination with the start address, which is not flash content */
			if (dlen != 0) {
				rc = dfk_error_set(err, DFK_ERR_DATA,
						   "line %zu (offset %zu): S%u termination record with %u data bytes",
						   line, start, type, dlen);
				goto fail;
			}
			done = true;
			break;
		}
	}
	if (!done) {
		rc = dfk_error_set(err, DFK_ERR_DATA,
				   "line %zu (offset %zu): no termination record (S7/S8/S9), the file is truncated",
				   line, len);
		goto fail;
	}
	return dfk__run_finish(&run, img, line, "S-record", err);
fail:
	dfk__run_free(&run);
	return rc;
}
