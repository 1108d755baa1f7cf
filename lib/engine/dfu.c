/* The seven DFU 1.1 class requests, status polling and getting to dfuIDLE. */
#include <stdio.h>
#include <string.h>

#include "dfu_internal.h"
#include "dfukit/dfu.h"

#define REQ_OUT 0x21 /* host to device, class, interface */
#define REQ_IN 0xA1  /* device to host, class, interface */

static const char *req_name(uint8_t req)
{
	static const char *const names[] = {"DETACH",	 "DNLOAD",   "UPLOAD", "GETSTATUS",
					    "CLRSTATUS", "GETSTATE", "ABORT"};
	return req < sizeof(names) / sizeof(names[0]) ? names[req] : "request";
}

static dfk_code request(dfk_dev *dev, uint8_t type, uint8_t req, uint16_t value, uint8_t *data, uint16_t len,
			size_t *actual, dfk_error *err)
{
	dfk_setup s = {type, req, value, dfk_dev_if(dev)->intf, len};
	size_t got = 0;
	dfk_code code;

	/* Every request checks: a cancel is seen within one control transfer. */
	if (dfk__dev_cancelled(dev))
		return dfk_error_set(err, DFK_ERR_CANCELLED, "cancelled");
	code = dfk__dev_ready(dev, err);
	if (code)
		return code;
	dfk__dev_count_request(dev);
	code = dfk_usb_control(dfk_dev_usb(dev), &s, data, &got, dfk_dev_ctx(dev)->usb_timeout_ms, err);
	if (code)
		return code;
	if (got > len)
		return dfk_error_set(err, DFK_ERR_PROTOCOL, "%s: transport moved %zu bytes for %u", req_name(req), got,
				     len);
	/* Some backends (USB/IP servers) report 0 bytes for a completed OUT
	 * data stage; a partial count is still an error. */
	if (actual)
		*actual = got;
	else if (got != len && !(got == 0 && !(type & 0x80)))
		return dfk_error_set(err, DFK_ERR_PROTOCOL, "%s: device moved %zu of %u bytes", req_name(req), got,
				     len);
	return DFK_OK;
}

/* A device that stalls DNLOAD or UPLOAD is still there and knows why: one
 * GETSTATUS puts its status in the message (errTARGET, errADDRESS...), and
 * a CLRSTATUS takes it out of dfuERROR so that the next job starts clean.
 * Bounded: two requests at most, their own failures only logged. */
static dfk_error *explain_stall(dfk_dev *dev, dfk_error *err)
{
	const dfk_ctx *ctx = dfk_dev_ctx(dev);
	char orig[DFK_ERROR_MSG_MAX];
	dfk_status st;
	dfk_error e;

	if (err->code != DFK_ERR_STALL)
		return err;
	if (dfk_dfu_get_status(dev, &st, &e)) {
		dfk_log(ctx, DFK_LOG_DEBUG, "no status after the stall: %s", e.msg);
		return err;
	}
	if (st.state == DFK_STATE_ERROR && dfk_dfu_clr_status(dev, &e))
		dfk_log(ctx, DFK_LOG_DEBUG, "%s", e.msg);
	if (st.status != DFK_STATUS_OK) {
		dfk_error_set(err, DFK_ERR_STALL, "stalled: device status %s in %s", dfk_status_name(st.status),
			      dfk_state_name(st.state));
	} else {
		snprintf(orig, sizeof(orig), "%s", err->msg);
		dfk_error_set(err, DFK_ERR_STALL, "%s; device status %s in %s", orig, dfk_status_name(st.status),
			      dfk_state_name(st.state));
	}
	return err;
}

dfk_code dfk_dfu_detach(dfk_dev *dev, uint16_t timeout_ms, dfk_error *err)
{
	DFK_ERR_ENSURE(err);
	dfk_code code = request(dev, REQ_OUT, DFK_REQ_DETACH, timeout_ms, NULL, 0, NULL, err);
	return code ? dfk_error_prefix(err, "DETACH") : DFK_OK;
}

dfk_code dfk_dfu_dnload(dfk_dev *dev, uint16_t block, const uint8_t *data, uint16_t len, dfk_error *err)
{
	DFK_ERR_ENSURE(err);
	/* The transport takes a mutable buffer for both directions; an OUT
	 * transfer only reads it. */
	dfk_code code = request(dev, REQ_OUT, DFK_REQ_DNLOAD, block, (uint8_t *)(uintptr_t)data, len, NULL, err);
	return code ? dfk_error_prefix(explain_stall(dev, err), "DNLOAD block %u (%u bytes)", block, len) : DFK_OK;
}

dfk_code dfk_dfu_upload(dfk_dev *dev, uint16_t block, uint8_t *data, uint16_t len, size_t *got, dfk_error *err)
{
	DFK_ERR_ENSURE(err);
	dfk_code code = request(dev, REQ_IN, DFK_REQ_UPLOAD, block, data, len, got, err);
	return code ? dfk_error_prefix(explain_stall(dev, err), "UPLOAD block %u (%u bytes)", block, len) : DFK_OK;
}

dfk_code dfk_dfu_get_status(dfk_dev *dev, dfk_status *st, dfk_error *err)
{
	DFK_ERR_ENSURE(err);
	uint8_t buf[6] = {0};
	size_t got = 0;
	dfk_code code = request(dev, REQ_IN, DFK_REQ_GETSTATUS, 0, buf, sizeof(buf), &got, err);

	if (!code)
		code = dfk_status_decode(buf, got, st, err);
	return code ? dfk_error_prefix(err, "GETSTATUS") : DFK_OK;
}

dfk_code dfk_dfu_clr_status(dfk_dev *dev, dfk_error *err)
{
	DFK_ERR_ENSURE(err);
	dfk_code code = request(dev, REQ_OUT, DFK_REQ_CLRSTATUS, 0, NULL, 0, NULL, err);
	return code ? dfk_error_prefix(err, "CLRSTATUS") : DFK_OK;
}

dfk_code dfk_dfu_get_state(dfk_dev *dev, uint8_t *state, dfk_error *err)
{
	DFK_ERR_ENSURE(err);
	dfk_code code = request(dev, REQ_IN, DFK_REQ_GETSTATE, 0, state, 1, NULL, err);
	return code ? dfk_error_prefix(err, "GETSTATE") : DFK_OK;
}

dfk_code dfk_dfu_abort(dfk_dev *dev, dfk_error *err)
{
	DFK_ERR_ENSURE(err);
	dfk_code code = request(dev, REQ_OUT, DFK_REQ_ABORT, 0, NULL, 0, NULL, err);
	return code ? dfk_error_prefix(err, "ABORT") : DFK_OK;
}

/* States in which the device is still working and must be polled again. */
static bool busy_state(uint8_t state)
{
	return state == DFK_STATE_DNBUSY || state == DFK_STATE_DNLOAD_SYNC || state == DFK_STATE_MANIFEST ||
	       state == DFK_STATE_MANIFEST_SYNC;
}

static uint32_t capped(const dfk_ctx *ctx, uint32_t ms)
{
	return ms > ctx->poll_cap_ms ? ctx->poll_cap_ms : ms;
}

dfk_code dfk_dfu_wait(dfk_dev *dev, dfk_status *st, dfk_error *err)
{
	return dfk__dfu_wait_beat(dev, st, NULL, err);
}

dfk_code dfk__dfu_wait_beat(dfk_dev *dev, dfk_status *st, const dfk__beat *beat, dfk_error *err)
{
	DFK_ERR_ENSURE(err);
	const dfk_ctx *ctx = dfk_dev_ctx(dev);
	uint64_t start = dfk__now(ctx), elapsed;
	uint32_t last_poll = 0, ms;
	unsigned stalls = 0;
	bool busy_seen = false;
	dfk_code code;

	for (;;) {
		code = dfk_dfu_get_status(dev, st, err);
		elapsed = dfk__now(ctx) - start;
		if (code == DFK_ERR_STALL && stalls < DFK_STALL_RETRIES && elapsed < ctx->op_timeout_ms) {
			/* Polled too early for the device: wait a little and ask again. */
			stalls++;
			dfk_log(ctx, DFK_LOG_DEBUG, "GETSTATUS stalled while busy, retry %u", stalls);
			if (dfk__dev_sleep(dev, last_poll > DFK_STALL_SLEEP_MS ? last_poll : DFK_STALL_SLEEP_MS))
				return dfk_error_set(err, DFK_ERR_CANCELLED, "cancelled");
			continue;
		}
		/* A device that is busy (a long erase) may not answer at all. */
		if (code == DFK_ERR_TIMEOUT && busy_seen && elapsed < ctx->op_timeout_ms)
			continue;
		if (code)
			return code;
		if (st->status != DFK_STATUS_OK)
			return dfk_error_set(err, DFK_ERR_PROTOCOL, "device status %s in %s",
					     dfk_status_name(st->status), dfk_state_name(st->state));
		if (!busy_state(st->state))
			return DFK_OK;
		busy_seen = true;
		if (beat)
			dfk__progress(ctx, beat->phase, elapsed, beat->expect_ms > elapsed ? beat->expect_ms : elapsed,
				      beat->addr);
		if (elapsed >= ctx->op_timeout_ms)
			return dfk_error_set(err, DFK_ERR_TIMEOUT, "device still in %s after %llu ms",
					     dfk_state_name(st->state), (unsigned long long)elapsed);
		/* Exactly bwPollTimeout, capped, and never past the deadline. At
		 * least 1 ms so a device answering "busy, poll again in 0 ms"
		 * forever still runs into the deadline. */
		ms = capped(ctx, st->poll_timeout_ms);
		if (ms == 0)
			ms = 1;
		if (ms > ctx->op_timeout_ms - elapsed)
			ms = (uint32_t)(ctx->op_timeout_ms - elapsed);
		last_poll = ms;
		if (dfk__dev_sleep(dev, ms))
			return dfk_error_set(err, DFK_ERR_CANCELLED, "cancelled while the device is in %s",
					     dfk_state_name(st->state));
	}
}

dfk_code dfk_dfu_make_idle(dfk_dev *dev, dfk_error *err)
{
	DFK_ERR_ENSURE(err);
	const dfk_ctx *ctx = dfk_dev_ctx(dev);
	dfk_status st = {0};
	dfk_code code;

	for (unsigned i = 0; i <= ctx->max_error_retries; i++) {
		code = dfk_dfu_get_status(dev, &st, err);
		if (code)
			return code;
		switch (st.state) {
		case DFK_STATE_IDLE: return DFK_OK;
		case DFK_STATE_ERROR:
			dfk_log(ctx, DFK_LOG_INFO, "device in dfuERROR (%s), clearing status",
				dfk_status_name(st.status));
			code = dfk_dfu_clr_status(dev, err);
			break;
		case DFK_STATE_DNLOAD_IDLE:
		case DFK_STATE_UPLOAD_IDLE:
		case DFK_STATE_DNLOAD_SYNC:
		case DFK_STATE_MANIFEST_SYNC:
			dfk_log(ctx, DFK_LOG_DEBUG, "device in %s, aborting", dfk_state_name(st.state));
			code = dfk_dfu_abort(dev, err);
			break;
		case DFK_STATE_DNBUSY:
		case DFK_STATE_MANIFEST:
			if (dfk__dev_sleep(dev, capped(ctx, st.poll_timeout_ms ? st.poll_timeout_ms : 1)))
				return dfk_error_set(err, DFK_ERR_CANCELLED, "cancelled");
			break;
		case DFK_STATE_APP_IDLE:
		case DFK_STATE_APP_DETACH:
			return dfk_error_set(err, DFK_ERR_PROTOCOL, "device is still in run-time mode (%s)",
					     dfk_state_name(st.state));
		case DFK_STATE_MANIFEST_WAIT_RESET:
			return dfk_error_set(err, DFK_ERR_PROTOCOL, "device waits for a USB reset (%s)",
					     dfk_state_name(st.state));
		default: return dfk_error_set(err, DFK_ERR_PROTOCOL, "device reports unknown state %u", st.state);
		}
		if (code)
			return code;
	}
	return dfk_error_set(err, DFK_ERR_PROTOCOL, "device did not reach dfuIDLE after %u attempts: status %s in %s",
			     ctx->max_error_retries + 1, dfk_status_name(st.status), dfk_state_name(st.state));
}

dfk_code dfk__dev_settle(dfk_dev *dev, dfk_error *err)
{
	dfk_status st;
	dfk_code code;

	dfk__dev_settling(dev, true);
	/* Not in the middle of dfuDNBUSY: ABORT is not allowed there, so the
	 * step the device is busy with finishes first (dfk_dfu_wait ends at
	 * ctx->op_timeout_ms). Its outcome matters less than where it ends:
	 * make_idle clears an error. */
	code = dfk_dfu_wait(dev, &st, err);
	if (!code || !dfk__gone(code) || code == DFK_ERR_STALL)
		code = dfk_dfu_make_idle(dev, err);
	dfk__dev_settling(dev, false);
	return code;
}
