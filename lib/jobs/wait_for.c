/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* Waiting for a device to come back (after detach or a reset): polling
 * enumeration until a matching DFU-mode interface appears. */
#include <string.h>

#include "job_internal.h"
#include "match.h"

static bool wanted(const dfk_dfu_if *ifc, const char *path, const char *serial)
{
	if (!ifc->dfu_mode)
		return false;
	if (!path && !(serial && *serial))
		return true;
	if (path && strcmp(ifc->dev->path, path) == 0)
		return true;
	return serial && *serial && strcmp(ifc->serial, serial) == 0;
}

dfk_code dfk_wait_for(const dfk_ctx *ctx, dfk_transport *t, const dfk_match *m, const char *path, const char *serial,
		      dfk_found **outp, dfk_error *err)
{
	DFK_ERR_ENSURE(err);
	dfk_found *out = NULL;
	uint64_t start = dfk__now(ctx);
	dfk_match mm;
	dfk_code code;

	if (!outp)
		return dfk_error_set(err, DFK_ERR_USAGE, "no place for the list of devices");
	*outp = NULL;
	if (m) {
		code = dfk__match_read(m, &mm, err);
		if (code)
			return code;
	} else {
		dfk_match_init(&mm);
	}
	/* The device number always changes on re-enumeration; the port path
	 * given is checked below (the user's -p stays a filter otherwise). */
	mm.devnum = DFK_MATCH_ANY;
	if (path)
		mm.path = NULL;
	for (;;) {
		size_t kept = 0;

		if (dfk_ctx_cancelled(ctx))
			return dfk_error_set(err, DFK_ERR_CANCELLED, "cancelled while waiting for the device");
		code = dfk_find(ctx, t, &mm, &out, err);
		if (code)
			return code;
		for (size_t i = 0; i < out->count; i++)
			if (wanted(&out->ifs[i], path, serial))
				out->ifs[kept++] = out->ifs[i];
		out->count = kept;
		if (kept) {
			*outp = out;
			return DFK_OK;
		}
		dfk_found_free(out);
		out = NULL;
		if (dfk__now(ctx) - start >= ctx->reenum_timeout_ms)
			break;
		if (dfk_ctx_sleep(ctx, DFK_REENUM_POLL_MS))
			return dfk_error_set(err, DFK_ERR_CANCELLED, "cancelled while waiting for the device");
	}
	return dfk_error_set(err, DFK_ERR_NODEV, "no DFU-mode device%s%s%s%s appeared within %u ms",
			     path ? " on port " : "", path ? path : "", serial && *serial ? " with serial " : "",
			     serial && *serial ? serial : "", ctx->reenum_timeout_ms);
}
