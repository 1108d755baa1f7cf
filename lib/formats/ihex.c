/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* Intel HEX (I8HEX/I16HEX/I32HEX): reading into a dfk_image and writing one.
 *
 * Hand-written rather than a library: the format is a few lines of text per
 * record, and no packaged C library reports line numbers, checks every
 * checksum and refuses truncated files the way we need. */
#include <stdlib.h>
#include <string.h>

#include "dfukit/formats.h"
#include "image_run.h"
#include "text.h"

static const char *rec_name(unsigned type)
{
	switch (type) {
	case 0: return "data";
	case 1: return "end-of-file";
	case 2: return "extended segment address";
	case 3: return "start segment address";
	case 4: return "extended linear address";
	case 5: return "start linear address";
	default: return "unknown";
	}
}

dfk_code dfk_ihex_parse(const uint8_t *buf, size_t len, dfk_image *img, dfk_error *err)
{
	dfk__run run = {0};
	uint64_t base = 0;
	size_t pos = 0, line = 0;
	bool eof = false;
	dfk_code rc = DFK_OK;

	if (len == 0)
		return dfk_error_set(err, DFK_ERR_DATA, "empty Intel HEX file");

	for (size_t start, end; dfk__next_line(buf, len, &pos, &start, &end);) {
		size_t n, i;
		uint8_t rec[5 + 255];
		unsigned sum = 0, count, type;
		uint64_t addr;

		line++;
		if (start == end)
			continue;
		if (buf[start] != ':') {
			rc = dfk_error_set(err, DFK_ERR_DATA, "line %zu (offset %zu): expected ':' to start a record",
					   line, start);
			goto fail;
		}
		if (eof) {
			rc = dfk_error_set(err, DFK_ERR_DATA,
					   "line %zu (offset %zu): record after the end-of-file record", line, start);
			goto fail;
		}
		n = end - start - 1;
		if (n < 10 || n % 2 != 0 || n / 2 > sizeof(rec)) {
			rc = dfk_error_set(err, DFK_ERR_DATA,
					   "line %zu (offset %zu): record has %zu hex digits, not a whole record", line,
					   start, n);
			goto fail;
		}
		rc = dfk__hex_bytes(buf, start + 1, n / 2, rec, line, err);
		if (rc != DFK_OK)
			goto fail;
		for (i = 0; i < n / 2; i++)
			sum += rec[i];
		count = rec[0];
		type = rec[3];
		if (n / 2 != (size_t)count + 5) {
			rc = dfk_error_set(
			    err, DFK_ERR_DATA,
			    "line %zu (offset %zu): byte count says %u data bytes but the record holds %zu", line,
			    start, count, n / 2 - 5);
			goto fail;
		}
		if ((sum & 0xff) != 0) {
			uint8_t want = (uint8_t)(rec[n / 2 - 1] - sum);
			rc = dfk_error_set(err, DFK_ERR_DATA,
					   "line %zu (offset %zu): checksum 0x%02X is wrong, expected 0x%02X", line,
					   start, rec[n / 2 - 1], want);
			goto fail;
		}
		addr = (uint64_t)rec[1] << 8 | rec[2];
		switch (type) {
		case 0:
			if (count == 0)
				break;
			rc = dfk__run_add(&run, img, addr + base, rec + 4, count, line, start, err);
			if (rc != DFK_OK)
				goto fail;
			break;
		case 1:
			if (count != 0) {
				rc = dfk_error_set(err, DFK_ERR_DATA,
						   "line %zu (offset %zu): end-of-file record with %u data bytes", line,
						   start, count);
				goto fail;
			}
			eof = true;
			break;
		case 2:
		case 4:
			if (count != 2 || addr != 0) {
				rc = dfk_error_set(err, DFK_ERR_DATA,
						   "line %zu (offset %zu): %s record needs 2 data bytes and address 0",
						   line, start, rec_name(type));
				goto fail;
			}
			base = (uint64_t)rec[4] << 8 | rec[5];
			base <<= type == 2 ? 4 : 16;
			break;
		case 3:
		case 5:
			/* Start address (CS:IP or EIP): it tells a debugger where to jump and is not
			 * flash content, so it is checked and dropped. */
			if (count != 4) {
				rc = dfk_error_set(err, DFK_ERR_DATA,
						   "line %zu (offset %zu): %s record needs 4 data bytes", line, start,
						   rec_name(type));
				goto fail;
			}
			break;
		default:
			rc = dfk_error_set(err, DFK_ERR_DATA, "line %zu (offset %zu): unknown record type 0x%02X", line,
					   start, type);
			goto fail;
		}
	}
	if (!eof) {
		rc = dfk_error_set(err, DFK_ERR_DATA,
				   "line %zu (offset %zu): no end-of-file record (:00000001FF), the file is truncated",
				   line, len);
		goto fail;
	}
	return dfk__run_finish(&run, img, line, "Intel HEX", err);
fail:
	dfk__run_free(&run);
	return rc;
}

/* ---- writer ---- */

static const char hexdig[] = "0123456789ABCDEF";

static size_t put_record(char *p, unsigned type, unsigned addr, const uint8_t *data, unsigned count)
{
	unsigned sum = count + (addr >> 8) + (addr & 0xff) + type;
	char *s = p;
	uint8_t head[4] = {(uint8_t)count, (uint8_t)(addr >> 8), (uint8_t)addr, (uint8_t)type};

	*p++ = ':';
	for (unsigned i = 0; i < 4; i++) {
		*p++ = hexdig[head[i] >> 4];
		*p++ = hexdig[head[i] & 15];
	}
	for (unsigned i = 0; i < count; i++) {
		sum += data[i];
		*p++ = hexdig[data[i] >> 4];
		*p++ = hexdig[data[i] & 15];
	}
	sum = (0x100 - (sum & 0xff)) & 0xff;
	*p++ = hexdig[sum >> 4];
	*p++ = hexdig[sum & 15];
	*p++ = '\n';
	return (size_t)(p - s);
}

dfk_code dfk_ihex_write(dfk_out *out, const dfk_image *img, dfk_error *err)
{
	/* Lines are gathered in a buffer: one write per record would be slow. */
	enum { BUFSZ = 64 * 1024, LINEMAX = 1 + 2 * (5 + 16) + 1 };
	char *buf = malloc(BUFSZ);
	size_t used = 0;
	uint32_t upper = 0;
	dfk_code rc = DFK_OK;

	if (!buf)
		return dfk_error_set(err, DFK_ERR_NOMEM, "out of memory");
	for (size_t e = 0; e < img->count && rc == DFK_OK; e++) {
		const dfk_element *el = &img->elements[e];
		uint64_t off = 0;

		while (off < el->size) {
			uint64_t a = (uint64_t)el->addr + off;
			unsigned n = 16;

			if ((uint32_t)(a >> 16) != upper) {
				uint8_t ext[2];

				upper = (uint32_t)(a >> 16);
				ext[0] = (uint8_t)(upper >> 8);
				ext[1] = (uint8_t)upper;
				used += put_record(buf + used, 4, 0, ext, 2);
			}
			/* A record never crosses a 64 KiB boundary: its offset field is 16 bits. */
			if (n > el->size - off)
				n = (unsigned)(el->size - off);
			if ((a & 0xffff) + n > 0x10000)
				n = (unsigned)(0x10000 - (a & 0xffff));
			used += put_record(buf + used, 0, (unsigned)(a & 0xffff), el->data + off, n);
			off += n;
			if (used > BUFSZ - 2 * LINEMAX) {
				rc = dfk_out_write(out, buf, used, err);
				used = 0;
				if (rc != DFK_OK)
					break;
			}
		}
	}
	if (rc == DFK_OK) {
		used += put_record(buf + used, 1, 0, NULL, 0);
		rc = dfk_out_write(out, buf, used, err);
	}
	free(buf);
	return rc;
}
