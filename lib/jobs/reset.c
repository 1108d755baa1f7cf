/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* The reset job: DETACH (a DFU-mode device takes it as "leave"), then a USB
 * reset; a device that vanishes is success. */
#include "job_internal.h"

dfk_code dfk_job_reset(dfk_dev *dev, dfk_error *err)
{
	DFK_ERR_ENSURE(err);
	const dfk_ctx *ctx = dfk_dev_ctx(dev);
	dfk_error e;
	dfk_code code;

	/* In DFU mode many bootloaders refuse DETACH; the reset still follows. */
	if (dfk_dfu_detach(dev, dfk__job_detach_timeout(dev), &e))
		dfk_log(ctx, DFK_LOG_DEBUG, "%s", e.msg);
	code = dfk__dev_reset(dev, err);
	if (code && code != DFK_ERR_NODEV)
		return dfk_error_prefix(err, "USB reset failed");
	dfk_error_clear(err);
	return DFK_OK;
}
