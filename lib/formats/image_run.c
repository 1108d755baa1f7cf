/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* Runs of contiguous record data, for ihex.c and srec.c. */
#include "image_run.h"
#include "dynbuf.h"

#include <stdlib.h>
#include <string.h>

/* Puts the current run (if any) into img; line names the place on error. */
static dfk_code run_flush(dfk__run *run, dfk_image *img, size_t line, dfk_error *err)
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

static dfk_code run_append(dfk__run *run, const uint8_t *data, size_t len, dfk_error *err)
{
	void *buf = run->data;
	dfk_code rc = dfk_grow(&buf, &run->cap, run->len + len, 1, SIZE_MAX, "record data", err);
	run->data = buf;
	if (rc != DFK_OK)
		return rc;
	memcpy(run->data + run->len, data, len);
	run->len += len;
	run->total += len;
	return DFK_OK;
}

dfk_code dfk__run_add(dfk__run *run, dfk_image *img, uint64_t addr, const uint8_t *data, size_t len, size_t line,
		      size_t offset, dfk_error *err)
{
	if (addr + len > 0x100000000ull)
		return dfk_error_set(err, DFK_ERR_DATA,
				     "line %zu (offset %zu): data at 0x%llx passes the 4 GiB address space", line,
				     offset, (unsigned long long)addr);
	if (run->len == 0 || addr != run->addr + run->len) {
		dfk_code rc = run_flush(run, img, line, err);

		if (rc != DFK_OK)
			return rc;
		run->addr = addr;
	}
	return run_append(run, data, len, err);
}

dfk_code dfk__run_finish(dfk__run *run, dfk_image *img, size_t line, const char *format, dfk_error *err)
{
	dfk_code rc;

	if (run->total == 0) {
		dfk__run_free(run);
		return dfk_error_set(err, DFK_ERR_DATA, "no data records in %s file", format);
	}
	rc = run_flush(run, img, line, err);
	if (rc != DFK_OK)
		return rc;
	return dfk_image_coalesce(img, err);
}

void dfk__run_free(dfk__run *run)
{
	free(run->data);
	run->data = NULL;
	run->len = run->cap = 0;
}
