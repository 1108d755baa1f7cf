/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* The checks and first and last steps the jobs share. */
#include <stdio.h>
#include <string.h>

#include "job_internal.h"
#include "opts.h"

void dfk_job_opts_init(dfk_job_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->size = sizeof(*o);
	o->verify = true;
	o->preserve = true;
}

dfk_code dfk__job_opts_read(const dfk_job_opts *in, dfk_job_opts *out, dfk_error *err)
{
	dfk_job_opts_init(out);
	if (!in)
		return DFK_OK;
	return dfk__opts_read(out, sizeof(*out), in, DFK__OPTS_V1_SIZE(dfk_job_opts, preserve), "job options",
			      "dfk_job_opts_init", err);
}

bool dfk__job_has_attr(const dfk_dev *dev, uint8_t attr)
{
	return (dfk_dev_if(dev)->func.bmAttributes & attr) != 0;
}

bool dfk__job_use_dfuse(const dfk_dev *dev, const dfk_job_opts *o)
{
	return dfk_dev_if(dev)->dfuse || o->dfuse;
}

dfk_code dfk__job_check_xfer(const dfk_dev *dev, dfk_error *err)
{
	if (dfk_dev_transfer_size(dev) == 0)
		return dfk_error_set(err, DFK_ERR_USAGE,
				     "the device reports wTransferSize 0: a transfer size must be given");
	return DFK_OK;
}

dfk_code dfk__job_check_force(const dfk_job_opts *o, dfk_error *err)
{
	if (o->mass_erase && !o->force)
		return dfk_error_set(err, DFK_ERR_USAGE, "mass erase wipes the whole flash: it needs force");
	if (o->unprotect && !o->force)
		return dfk_error_set(err, DFK_ERR_USAGE,
				     "read unprotect erases the whole flash and resets the device: it needs force");
	return DFK_OK;
}

dfk_code dfk__job_prepare(dfk_dev *dev, const char *what, dfk_error *err)
{
	dfk_code code = dfk__dev_ready(dev, err);

	if (!code)
		code = dfk_dfu_make_idle(dev, err);
	if (code == DFK_ERR_CANCELLED)
		return dfk__cancelled(dev, err, "%s cancelled before it started", what);
	return code ? dfk_error_prefix(err, "%s: preparing the device", what) : DFK_OK;
}

dfk_code dfk__job_dfuse_begin(dfk_dev *dev, const dfk_job_opts *o, const char *what, bool *resetting, dfk_error *err)
{
	dfk_code code = dfk__job_prepare(dev, what, err);

	*resetting = false;
	if (code || !o->unprotect)
		return code;
	*resetting = true;
	code = dfk_dfuse_read_unprotect(dev, err);
	if (!code)
		dfk_log(dfk_dev_ctx(dev), DFK_LOG_INFO, "device disconnects, erases its flash and resets now");
	return code;
}

dfk_code dfk__job_finish_idle(dfk_dev *dev, const char *what, dfk_error *err)
{
	dfk_status st;
	dfk_code code = dfk_dfu_abort(dev, err);

	if (!code)
		code = dfk_dfu_get_status(dev, &st, err);
	if (code == DFK_ERR_CANCELLED)
		return dfk__cancelled(dev, err, "%s cancelled after everything was written", what);
	if (!code && (st.status != DFK_STATUS_OK || st.state != DFK_STATE_IDLE))
		code = dfk_error_set(err, DFK_ERR_PROTOCOL, "device status %s in %s instead of dfuIDLE",
				     dfk_status_name(st.status), dfk_state_name(st.state));
	return code ? dfk_error_prefix(err, "%s: returning to dfuIDLE failed", what) : DFK_OK;
}

dfk_code dfk__job_mass_erase(dfk_dev *dev, dfk_error *err)
{
	const dfk_ctx *ctx = dfk_dev_ctx(dev);
	dfk_code code;

	/* Start, the milliseconds spent on every poll (dfk_dfuse_mass_erase),
	 * and the end: done == total. */
	dfk__progress(ctx, DFK_PHASE_ERASE, 0, 1, 0);
	code = dfk_dfuse_mass_erase(dev, err);
	if (code == DFK_ERR_CANCELLED)
		return dfk__cancelled(dev, err, "cancelled during mass erase: the device finished it, nothing written");
	if (!code)
		dfk__progress(ctx, DFK_PHASE_ERASE, 1, 1, 0);
	return code;
}

void dfk__job_leave_where(bool has_address, uint32_t address, char *buf, size_t size)
{
	if (has_address)
		snprintf(buf, size, "to 0x%08X", address);
	else
		snprintf(buf, size, "at the current address pointer");
}
