/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* The DfuSe leave job: optional SET_ADDRESS, a zero-length DNLOAD, and the
 * GETSTATUS after which the device runs its firmware. */
#include <string.h>

#include "job_internal.h"

/* The device's answer to the GETSTATUS after the leave request stalled: a
 * stall says it is still there, so it is asked once more. NODEV or no
 * answer: it left (DFK_OK with *left); an answer: *st holds its status. */
static dfk_code leave_recheck(dfk_dev *dev, dfk_status *st, bool *left, dfk_error *err)
{
	dfk_code code = dfk_dfu_get_status(dev, st, err);
	uint8_t state;

	*left = false;
	if (code == DFK_ERR_STALL) {
		/* GETSTATE is answered in every state, even where GETSTATUS is not. */
		code = dfk_dfu_get_state(dev, &state, err);
		if (!code) {
			memset(st, 0, sizeof(*st));
			st->status = DFK_STATUS_OK;
			st->state = state;
		}
	}
	if (code && dfk__gone(code) && code != DFK_ERR_STALL) {
		dfk_error_clear(err);
		*left = true;
		return DFK_OK;
	}
	if (code == DFK_ERR_STALL)
		return dfk_error_prefix(err, "device still in DFU mode after leave: it stalls GETSTATUS and GETSTATE");
	return code;
}

dfk_code dfk_job_leave(dfk_dev *dev, bool has_address, uint32_t address, dfk_error *err)
{
	DFK_ERR_ENSURE(err);
	const dfk_ctx *ctx = dfk_dev_ctx(dev);
	char where[48];
	dfk_status st;
	dfk_code code;
	bool left;

	dfk__job_leave_where(has_address, address, where, sizeof(where));
	if (has_address) {
		code = dfk_dfuse_set_address(dev, address, err);
		if (code)
			return dfk_error_prefix(err, "leave %s failed", where);
	}
	/* wValue 2 as dfu-util sends it; a zero-length DNLOAD is the request. */
	code = dfk_dfu_dnload(dev, 2, NULL, 0, err);
	if (code == DFK_ERR_NODEV) {
		dfk_log(ctx, DFK_LOG_INFO, "device left DFU mode");
		dfk_error_clear(err);
		return DFK_OK;
	}
	if (code)
		return dfk_error_prefix(err, "leave %s failed", where);
	code = dfk_dfu_get_status(dev, &st, err);
	if (code && code != DFK_ERR_CANCELLED && (dfk__dev_quirks(dev)->flags & DFK_QUIRK_LEAVE_NO_STATUS)) {
		/* GD32VF103: runs its firmware before it answers the last
		 * GETSTATUS; whatever comes back is not a failure. */
		dfk_log(ctx, DFK_LOG_INFO, "device left DFU mode (no status after the leave request, as %s does)",
			dfk__dev_quirks(dev)->name);
		dfk_log(ctx, DFK_LOG_DEBUG, "%s", err->msg);
		dfk_error_clear(err);
		return DFK_OK;
	}
	if (code == DFK_ERR_STALL) {
		/* Not gone: a device that stalls is still answering. */
		dfk_log(ctx, DFK_LOG_DEBUG, "GETSTATUS after leave stalled; asking again");
		code = leave_recheck(dev, &st, &left, err);
		if (!code && left) {
			dfk_log(ctx, DFK_LOG_INFO, "device left DFU mode");
			return DFK_OK;
		}
	} else if (code && dfk__gone(code)) {
		/* Gone before answering: it is running the new firmware. */
		dfk_log(ctx, DFK_LOG_INFO, "device left DFU mode");
		dfk_error_clear(err);
		return DFK_OK;
	}
	if (code)
		return dfk_error_prefix(err, "leave %s failed", where);
	if (st.status != DFK_STATUS_OK || st.state == DFK_STATE_ERROR)
		return dfk_error_set(err, DFK_ERR_PROTOCOL, "leave %s failed: device status %s in %s", where,
				     dfk_status_name(st.status), dfk_state_name(st.state));
	if (st.state != DFK_STATE_MANIFEST && st.state != DFK_STATE_MANIFEST_SYNC &&
	    st.state != DFK_STATE_MANIFEST_WAIT_RESET)
		return dfk_error_set(err, DFK_ERR_PROTOCOL, "leave %s failed: device stayed in DFU mode (%s)", where,
				     dfk_state_name(st.state));
	dfk_log(ctx, DFK_LOG_INFO, "device left DFU mode");
	return DFK_OK;
}
