/* Motorola S-record (S19/S28/S37) reader.
 *
 * Hand-written like ihex.c: a line-oriented text format with no C library
 * in Debian that verifies byte counts, checksums and S5/S6 record counts. */
#include <stdlib.h>
#include <string.h>

#include "dfukit/formats.h"

typedef struct srec_run {
	uint64_t addr;
	uint8_t *data;
	size_t len, cap;
} srec_run;

static dfk_code run_flush(srec_run *run, dfk_image *img, size_t line, dfk_error *err)
{
	dfk_code rc;

	if (run->len == 0)
		return DFK_OK;
	rc = dfk_image_add_owned(img, (uint32_t)run->addr, run->data, run->len, err);
	run->data = NULL;
	run->len = run->cap = 0;
	if (rc != DFK_OK)
		return dfk_error_prefix(err, "line %zu", line);
	return DFK_OK;
}

static dfk_code run_append(srec_run *run, const uint8_t *data, size_t len, dfk_error *err)
{
	if (run->len + len > run->cap) {
		size_t cap = run->cap ? run->cap * 2 : 4096;
		uint8_t *p;

		while (cap < run->len + len)
			cap *= 2;
		p = realloc(run->data, cap);
		if (!p)
			return dfk_error_set(err, DFK_ERR_NOMEM, "out of memory");
		run->data = p;
		run->cap = cap;
	}
	memcpy(run->data + run->len, data, len);
	run->len += len;
	return DFK_OK;
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Address field width in bytes per record type S0..S9 (0: reserved). */
static const unsigned addr_len[10] = {2, 2, 3, 4, 0, 2, 3, 4, 3, 2};

dfk_code dfk_srec_parse(const uint8_t *buf, size_t len, dfk_image *img, char *name, dfk_error *err)
{
	srec_run run = {0};
	uint64_t data_records = 0, data_bytes = 0;
	size_t pos = 0, line = 0;
	bool done = false;
	dfk_code rc = DFK_OK;

	if (name)
		name[0] = '\0';
	if (len == 0)
		return dfk_error_set(err, DFK_ERR_DATA, "empty S-record file");

	while (pos < len) {
		size_t start = pos, end, n, i;
		uint8_t rec[256];
		unsigned sum = 0, count, type, alen, dlen;
		uint64_t addr = 0;

		line++;
		while (pos < len && buf[pos] != '\n')
			pos++;
		end = pos;
		if (pos < len)
			pos++;
		while (end > start &&
		       (buf[end - 1] == '\r' || buf[end - 1] == ' ' || buf[end - 1] == '\t' || buf[end - 1] == 0x1a))
			end--;
		while (start < end && (buf[start] == ' ' || buf[start] == '\t'))
			start++;
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
		for (i = 0; i < n / 2; i++) {
			int hi = hexval(buf[start + 2 + 2 * i]), lo = hexval(buf[start + 3 + 2 * i]);

			if (hi < 0 || lo < 0) {
				size_t bad = start + 2 + 2 * i + (hi < 0 ? 0 : 1);
				rc = dfk_error_set(err, DFK_ERR_DATA, "line %zu (offset %zu): invalid hex digit 0x%02x",
						   line, bad, buf[bad]);
				goto fail;
			}
			rec[i] = (uint8_t)(hi << 4 | lo);
		}
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
			if (addr + dlen > 0x100000000ull) {
				rc = dfk_error_set(
				    err, DFK_ERR_DATA,
				    "line %zu (offset %zu): data at 0x%llx passes the 4 GiB address space", line, start,
				    (unsigned long long)addr);
				goto fail;
			}
			if (run.len == 0 || addr != run.addr + run.len) {
				rc = run_flush(&run, img, line, err);
				if (rc != DFK_OK)
					goto fail;
				run.addr = addr;
			}
			rc = run_append(&run, data, dlen, err);
			if (rc != DFK_OK)
				goto fail;
			data_bytes += dlen;
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
	if (data_bytes == 0) {
		rc = dfk_error_set(err, DFK_ERR_DATA, "no data records in S-record file");
		goto fail;
	}
	rc = run_flush(&run, img, line, err);
	if (rc != DFK_OK)
		return rc;
	return dfk_image_coalesce(img, err);
fail:
	free(run.data);
	return rc;
}
