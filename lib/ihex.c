/* Intel HEX (I8HEX/I16HEX/I32HEX): reading into a dfk_image and writing one.
 *
 * Hand-written rather than a library: the format is a few lines of text per
 * record, and no packaged C library reports line numbers, checks every
 * checksum and refuses truncated files the way we need. */
#include <stdlib.h>
#include <string.h>

#include "dfukit/formats.h"

/* Contiguous data records are gathered into one run before going into the
 * image, so a 64 MiB file becomes a few elements, not 4 million. */
typedef struct ihex_run {
	uint64_t addr;
	uint8_t *data;
	size_t len, cap;
} ihex_run;

static dfk_code run_flush(ihex_run *run, dfk_image *img, size_t line, dfk_error *err)
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

static dfk_code run_append(ihex_run *run, const uint8_t *data, size_t len, dfk_error *err)
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
	ihex_run run = {0};
	uint64_t base = 0, data_bytes = 0;
	size_t pos = 0, line = 0;
	bool eof = false;
	dfk_code rc = DFK_OK;

	if (len == 0)
		return dfk_error_set(err, DFK_ERR_DATA, "empty Intel HEX file");

	while (pos < len) {
		size_t start = pos, end, n, i;
		uint8_t rec[5 + 255];
		unsigned sum = 0, count, type;
		uint64_t addr;

		line++;
		while (pos < len && buf[pos] != '\n')
			pos++;
		end = pos;
		if (pos < len)
			pos++; /* the '\n' */
		/* Trailing blanks, CR (CRLF files) and DOS's ^Z end marker are not part of a record. */
		while (end > start &&
		       (buf[end - 1] == '\r' || buf[end - 1] == ' ' || buf[end - 1] == '\t' || buf[end - 1] == 0x1a))
			end--;
		while (start < end && (buf[start] == ' ' || buf[start] == '\t'))
			start++;
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
		for (i = 0; i < n / 2; i++) {
			int hi = hexval(buf[start + 1 + 2 * i]), lo = hexval(buf[start + 2 + 2 * i]);

			if (hi < 0 || lo < 0) {
				size_t bad = start + 1 + 2 * i + (hi < 0 ? 0 : 1);
				rc = dfk_error_set(err, DFK_ERR_DATA, "line %zu (offset %zu): invalid hex digit 0x%02x",
						   line, bad, buf[bad]);
				goto fail;
			}
			rec[i] = (uint8_t)(hi << 4 | lo);
			sum += rec[i];
		}
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
			addr += base;
			if (addr + count > 0x100000000ull) {
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
			rc = run_append(&run, rec + 4, count, err);
			if (rc != DFK_OK)
				goto fail;
			data_bytes += count;
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
	if (data_bytes == 0) {
		rc = dfk_error_set(err, DFK_ERR_DATA, "no data records in Intel HEX file");
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
