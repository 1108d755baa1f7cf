/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* The upload job: plain DFU until a short block, DfuSe from an address for
 * a length, streamed into a dfk_out. */
#include <stdio.h>

#include "job_internal.h"

/* Upload without a length from a DfuSe device: dfu-util's default. */
#define DFUSE_DEFAULT_UPLOAD 0x4000u

struct out_sink {
	const dfk_ctx *ctx;
	dfk_out *out;
	uint64_t done, total;
};

static dfk_code out_block(void *user, uint32_t addr, const uint8_t *data, size_t len, dfk_error *err)
{
	struct out_sink *s = user;
	dfk_code code = dfk_out_write(s->out, data, len, err);

	if (code)
		return code;
	s->done += len;
	dfk__progress(s->ctx, DFK_PHASE_UPLOAD, s->done, s->total, addr);
	return DFK_OK;
}

dfk_code dfk_job_upload(dfk_dev *dev, const dfk_job_opts *opts, dfk_out *out, uint64_t *bytes, dfk_error *err)
{
	DFK_ERR_ENSURE(err);
	dfk_job_opts copy;
	const dfk_job_opts *o = &copy;
	const dfk_ctx *ctx = dfk_dev_ctx(dev);
	struct out_sink s = {ctx, out, 0, 0};
	bool guessed = false;
	uint32_t addr;
	uint64_t len;
	dfk_code code;

	*bytes = 0;
	code = dfk__job_opts_read(opts, &copy, err);
	if (code)
		return code;
	if (!dfk__job_has_attr(dev, DFK_ATTR_CAN_UPLOAD))
		return dfk_error_set(err, DFK_ERR_UNSUPPORTED, "the device cannot upload (bitCanUpload is 0)");
	code = dfk__job_check_xfer(dev, err);
	if (code)
		return code;
	if (!dfk__job_use_dfuse(dev, o)) {
		code = dfk__job_prepare(dev, "upload", err);
		s.total = o->has_length ? o->length : 0;
		if (!code)
			code = dfk__plain_read(dev, "upload", o->has_length ? o->length : UINT64_MAX, out_block, &s,
					       bytes, err);
		if (code == DFK_ERR_CANCELLED)
			return dfk__cancelled(dev, err, "upload cancelled after %llu bytes",
					      (unsigned long long)*bytes);
		return code;
	}

	const dfk_memmap *map = NULL;
	const dfk_mem_segment *seg = NULL;
	code = dfk_dev_memmap(dev, &map, err);
	if (code && !o->force)
		return code;
	if (code)
		map = NULL; /* force: read where told, map or not */
	if (o->has_address) {
		addr = o->address;
	} else if (map && map->count) {
		addr = map->segs[0].start;
	} else {
		return dfk_error_set(err, DFK_ERR_USAGE,
				     "a DfuSe upload needs a start address: the memory map names none");
	}
	seg = map ? dfk_memmap_find(map, addr) : NULL;
	if (!o->force && !seg)
		return dfk_error_set(err, DFK_ERR_USAGE, "address 0x%08X is not in the memory map of alt %u", addr,
				     dfk_dev_if(dev)->alt);
	if (!o->force && !(seg->perms & DFK_MEM_READABLE))
		return dfk_error_set(err, DFK_ERR_USAGE, "address 0x%08X is in a segment that is not readable", addr);
	if (o->has_length) {
		len = o->length;
	} else if (o->has_address && seg) {
		len = seg->end - addr;
	} else {
		len = DFUSE_DEFAULT_UPLOAD;
		guessed = true;
		dfk_log(ctx, DFK_LOG_WARN, "no length given: reading 0x%X bytes from 0x%08X", DFUSE_DEFAULT_UPLOAD,
			addr);
	}
	s.total = len;
	char what[64];
	snprintf(what, sizeof(what), "upload of %llu bytes from 0x%08X", (unsigned long long)len, addr);
	code = dfk__job_prepare(dev, what, err);
	/* A short block is the end of memory only when we guessed the length;
	 * inside a known length it is a device fault. */
	if (!code)
		code = dfk__dfuse_read_cb(dev, addr, len, guessed, out_block, &s, bytes, err);
	if (code == DFK_ERR_CANCELLED)
		return dfk__cancelled(dev, err, "%s cancelled after %llu bytes", what, (unsigned long long)*bytes);
	return code;
}
