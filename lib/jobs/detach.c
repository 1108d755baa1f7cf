/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* The detach job: run-time mode to DFU mode. */
#include "job_internal.h"

uint16_t dfk__job_detach_timeout(const dfk_dev *dev)
{
	uint16_t t = dfk_dev_if(dev)->func.wDetachTimeOut;
	return t ? t : 1000; /* dfu-util's fixed value, for descriptors that give none */
}

dfk_code dfk_job_detach(dfk_dev *dev, dfk_error *err)
{
	DFK_ERR_ENSURE(err);
	const dfk_ctx *ctx = dfk_dev_ctx(dev);
	bool will_detach = dfk__job_has_attr(dev, DFK_ATTR_WILL_DETACH);
	dfk_code code;

	dfk__progress(ctx, DFK_PHASE_DETACH, 0, 1, 0);
	code = dfk_dfu_detach(dev, dfk__job_detach_timeout(dev), err);
	if (code && !(will_detach && code == DFK_ERR_NODEV))
		return dfk_error_prefix(err, "detach failed");
	dfk_error_clear(err);
	if (!will_detach) {
		/* The device waits wDetachTimeOut ms for this reset. */
		code = dfk__dev_reset(dev, err);
		if (code && code != DFK_ERR_NODEV)
			return dfk_error_prefix(err, "USB reset after detach failed");
		dfk_error_clear(err);
	}
	dfk__progress(ctx, DFK_PHASE_DETACH, 1, 1, 0);
	return DFK_OK;
}
