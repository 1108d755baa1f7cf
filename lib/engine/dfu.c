/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
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
	code = dfk_usb_control(dfk_dev_usb(dev), &s, data, &got, dfk__dev_request_timeout(dev, req), err);
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

/* The poll interval after a busy answer: bwPollTimeout (or the quirk's
 * fixed interval), capped; a 0 ms answer is polled after 1 ms, backing off
 * to 10 and 100 ms when it keeps coming, so that the number of requests of a
 * busy loop stays bounded. */
static uint32_t poll_interval(const dfk_ctx *ctx, const dfk_quirks *q, uint32_t advertised, unsigned zero_polls)
{
	uint32_t ms = (q->flags & DFK_QUIRK_IGNORE_POLLTIMEOUT) ? q->poll_ms : capped(ctx, advertised);

	if (ms == 0)
		ms = zero_polls <= DFK_ZERO_POLL_FAST ? 1 : zero_polls <= 2 * DFK_ZERO_POLL_FAST ? 10 : 100;
	return ms;
}

dfk_code dfk__dfu_wait_beat(dfk_dev *dev, dfk_status *st, const dfk__beat *beat, dfk_error *err)
{
	DFK_ERR_ENSURE(err);
	const dfk_ctx *ctx = dfk_dev_ctx(dev);
	const dfk_quirks *q = dfk__dev_quirks(dev);
	uint64_t start = dfk__now(ctx), elapsed, deadline = ctx->op_timeout_ms, busy_since = 0, tail_after = 0;
	uint32_t last_poll = 0, ms;
	unsigned stalls = 0, max_stalls = DFK_STALL_RETRIES, zero_polls = 0, max_zero = DFK_MAX_ZERO_POLLS;
	bool busy_seen = false, tail_cleared = false;
	dfk_code code;

	if ((q->flags & DFK_QUIRK_EARLY_STATUS_STALL) && q->max_status_stalls > max_stalls)
		max_stalls = q->max_status_stalls;
	if ((q->flags & DFK_QUIRK_ZERO_POLL_WEDGE) && q->max_zero_polls && q->max_zero_polls < max_zero)
		max_zero = q->max_zero_polls;
	for (;;) {
		code = dfk_dfu_get_status(dev, st, err);
		elapsed = dfk__now(ctx) - start;
		if (code == DFK_ERR_STALL && stalls < max_stalls && elapsed < deadline) {
			/* Polled too early for the device: wait a little and ask again. */
			stalls++;
			dfk_log(ctx, DFK_LOG_DEBUG, "GETSTATUS stalled while busy, retry %u", stalls);
			if (dfk__dev_sleep(dev, last_poll > DFK_STALL_SLEEP_MS ? last_poll : DFK_STALL_SLEEP_MS))
				return dfk_error_set(err, DFK_ERR_CANCELLED, "cancelled");
			continue;
		}
		/* A device that is busy (a long erase) may not answer at all. */
		if (code == DFK_ERR_TIMEOUT && busy_seen && elapsed < deadline)
			continue;
		if (code)
			return code;
		if (st->status != DFK_STATUS_OK && tail_cleared)
			return dfk_error_set(
			    err, DFK_ERR_TIMEOUT,
			    "device stayed in dfuDNBUSY for %llu ms, and clearing its status put it in "
			    "%s (%s)",
			    (unsigned long long)(elapsed - busy_since), dfk_state_name(st->state),
			    dfk_status_name(st->status));
		if (st->status != DFK_STATUS_OK)
			return dfk_error_set(err, DFK_ERR_PROTOCOL, "device status %s in %s",
					     dfk_status_name(st->status), dfk_state_name(st->state));
		if (!busy_state(st->state))
			return DFK_OK;
		if (!busy_seen) {
			/* The time the device asked for (not capped), then a grace:
			 * past that, a device with the busy-tail quirk is cleared. */
			uint64_t asked = st->poll_timeout_ms;
			busy_since = elapsed;
			tail_after =
			    asked * 2 > asked + DFK_BUSY_TAIL_GRACE_MS ? asked * 2 : asked + DFK_BUSY_TAIL_GRACE_MS;
			if (beat && beat->expect_ms > tail_after)
				tail_after = beat->expect_ms;
		}
		busy_seen = true;
		if (beat)
			dfk__progress(ctx, beat->phase, elapsed, beat->expect_ms > elapsed ? beat->expect_ms : elapsed,
				      beat->addr);
		if (elapsed >= deadline && beat && beat->mass_erase && (q->flags & DFK_QUIRK_SLOW_MASS_ERASE) &&
		    q->mass_erase_ms > deadline)
			/* The operation timeout is the caller's: kept, but said. */
			return dfk_error_set(err, DFK_ERR_TIMEOUT,
					     "device still in %s after %llu ms; its mass erase can take up to %u ms, "
					     "longer than the operation timeout",
					     dfk_state_name(st->state), (unsigned long long)elapsed, q->mass_erase_ms);
		if (elapsed >= deadline)
			return dfk_error_set(err, DFK_ERR_TIMEOUT, "device still in %s after %llu ms%s",
					     dfk_state_name(st->state), (unsigned long long)elapsed,
					     tail_cleared ? " (clearing its status did not end it)" : "");
		if (st->poll_timeout_ms == 0 && !(q->flags & DFK_QUIRK_IGNORE_POLLTIMEOUT)) {
			if (++zero_polls >= max_zero)
				return dfk_error_set(err, DFK_ERR_TIMEOUT,
						     "device wedged: %u answers in a row of %s with a poll timeout of "
						     "0 ms (%llu ms); giving up, a reset or replug of the device "
						     "should clear it",
						     zero_polls, dfk_state_name(st->state),
						     (unsigned long long)elapsed);
		} else {
			zero_polls = 0;
		}
		if ((q->flags & DFK_QUIRK_BUSY_TAIL_CLRSTATUS) && !tail_cleared && st->state == DFK_STATE_DNBUSY &&
		    elapsed - busy_since >= tail_after) {
			/* STM32H7 rev V: done, but stays in dfuDNBUSY until it gets
			 * CLRSTATUS. Clear once, then ask again. */
			tail_cleared = true;
			dfk_log(ctx, DFK_LOG_INFO,
				"device still in %s %llu ms after asking for %u ms (%s): clearing its status",
				dfk_state_name(st->state), (unsigned long long)(elapsed - busy_since),
				st->poll_timeout_ms, q->name ? q->name : "busy tail");
			code = dfk_dfu_clr_status(dev, err);
			if (code == DFK_ERR_CANCELLED ||
			    (code && dfk__gone(code) && code != DFK_ERR_STALL && code != DFK_ERR_TIMEOUT))
				return code;
			if (code)
				dfk_log(ctx, DFK_LOG_DEBUG, "%s", err->msg);
			dfk_error_clear(err);
			continue;
		}
		/* Exactly bwPollTimeout, capped, and never past the deadline. */
		ms = poll_interval(ctx, q, st->poll_timeout_ms, zero_polls);
		if (ms > deadline - elapsed)
			ms = (uint32_t)(deadline - elapsed);
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
			if (dfk__dev_sleep(dev, poll_interval(ctx, dfk__dev_quirks(dev), st.poll_timeout_ms, 0)))
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
