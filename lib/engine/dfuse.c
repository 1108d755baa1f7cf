/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* ST DfuSe (DFU 1.1a) commands: DNLOAD wValue 0 carries a command byte and an
 * address; the device executes it on the GETSTATUS that follows. Memory is
 * read with UPLOAD wBlockNum >= 2 at (wBlockNum - 2) * wTransferSize + pointer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfu_internal.h"
#include "dfukit/dfu.h"
#include "schedule.h"

/* What a mass erase is expected to take, for its progress: typical for
 * the STM32F4 (16 s at most for 1 MiB, x32 parallelism). */
#define DFK_MASS_ERASE_EXPECT_MS 16000u

dfk_code dfk__dfuse_command(dfk_dev *dev, const uint8_t *cmd, uint16_t len, dfk_error *err)
{
	return dfk__dfuse_command_beat(dev, cmd, len, NULL, err);
}

dfk_code dfk__dfuse_command_beat(dfk_dev *dev, const uint8_t *cmd, uint16_t len, const dfk__beat *beat, dfk_error *err)
{
	DFK_ERR_ENSURE(err);
	dfk_status st;
	dfk_code code;

	code = dfk_dfu_dnload(dev, 0, cmd, len, err);
	if (!code)
		code = dfk__dfu_wait_beat(dev, &st, beat, err);
	if (code)
		return code;
	if (st.state != DFK_STATE_DNLOAD_IDLE && st.state != DFK_STATE_IDLE)
		return dfk_error_set(err, DFK_ERR_PROTOCOL, "device ended in %s", dfk_state_name(st.state));
	return DFK_OK;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* ST ROMs answer with errVENDOR while read protection (RDP level 1) is on:
 * some to SET_ADDRESS, others only to reads, erases and writes. */
static dfk_code protection_hint(dfk_error *err)
{
	if (err->code != DFK_ERR_CANCELLED && strstr(err->msg, dfk_status_name(DFK_STATUS_ERR_VENDOR)) &&
	    !strstr(err->msg, "read protection")) {
		char msg[DFK_ERROR_MSG_MAX];
		snprintf(msg, sizeof(msg), "%s", err->msg);
		dfk_error_set(err, err->code,
			      "%s: read protection is likely active; read unprotect (with force) removes it by erasing "
			      "the whole flash",
			      msg);
	}
	return err->code;
}

dfk_code dfk_dfuse_set_address(dfk_dev *dev, uint32_t addr, dfk_error *err)
{
	DFK_ERR_ENSURE(err);
	uint8_t cmd[5] = {DFK_DFUSE_SET_ADDRESS};

	put_le32(cmd + 1, addr);
	if (!dfk__dfuse_command(dev, cmd, sizeof(cmd), err))
		return DFK_OK;
	dfk_error_prefix(err, "set address 0x%08X failed", addr);
	return protection_hint(err);
}

dfk_code dfk_dfuse_erase_page(dfk_dev *dev, uint32_t addr, dfk_error *err)
{
	DFK_ERR_ENSURE(err);
	uint8_t cmd[5] = {DFK_DFUSE_ERASE};

	put_le32(cmd + 1, addr);
	if (dfk__dfuse_command(dev, cmd, sizeof(cmd), err)) {
		dfk_error_prefix(err, "erase of page 0x%08X failed", addr);
		return protection_hint(err);
	}
	return DFK_OK;
}

dfk_code dfk_dfuse_mass_erase(dfk_dev *dev, dfk_error *err)
{
	DFK_ERR_ENSURE(err);
	uint8_t cmd[1] = {DFK_DFUSE_ERASE};

	/* The STM32F405 ROM reports bwPollTimeout 100 ms for a mass erase that
	 * takes up to 32 s: dfk_dfu_wait keeps polling until ctx->op_timeout_ms,
	 * reporting the time spent on each poll. */
	const dfk_quirks *q = dfk__dev_quirks(dev);
	uint64_t expect = DFK_MASS_ERASE_EXPECT_MS;
	if ((q->flags & DFK_QUIRK_SLOW_MASS_ERASE) && q->mass_erase_ms > expect)
		expect = q->mass_erase_ms;
	const dfk__beat beat = {DFK_PHASE_ERASE, 0, expect, true};
	if (dfk__dfuse_command_beat(dev, cmd, sizeof(cmd), &beat, err))
		return dfk_error_prefix(err, "mass erase failed");
	return DFK_OK;
}

dfk_code dfk_dfuse_read_unprotect(dfk_dev *dev, dfk_error *err)
{
	DFK_ERR_ENSURE(err);
	uint8_t cmd[1] = {DFK_DFUSE_READ_UNPROTECT};
	dfk_status st;
	dfk_code code;

	code = dfk_dfu_dnload(dev, 0, cmd, sizeof(cmd), err);
	if (code)
		return dfk_error_prefix(err, "read unprotect failed");
	/* The device answers one poll with dfuDNBUSY, then erases everything and
	 * resets: not answering after that is the expected outcome. */
	code = dfk_dfu_get_status(dev, &st, err);
	if (code && dfk__gone(code)) {
		dfk_error_clear(err);
		return DFK_OK;
	}
	if (code)
		return dfk_error_prefix(err, "read unprotect failed");
	if (st.status != DFK_STATUS_OK || st.state == DFK_STATE_ERROR)
		return dfk_error_set(err, DFK_ERR_PROTOCOL, "read unprotect failed: device status %s in %s",
				     dfk_status_name(st.status), dfk_state_name(st.state));
	return DFK_OK;
}

dfk_code dfk_dfuse_get_commands(dfk_dev *dev, uint8_t *cmds, size_t cap, size_t *n, dfk_error *err)
{
	DFK_ERR_ENSURE(err);
	uint8_t buf[256];
	size_t got = 0;
	dfk_code code;

	code = dfk_dfu_upload(dev, 0, buf, sizeof(buf) < cap ? sizeof(buf) : (uint16_t)cap, &got, err);
	if (code)
		return dfk_error_prefix(err, "get commands failed");
	memcpy(cmds, buf, got);
	*n = got;
	/* A full-length answer leaves the device in dfuUPLOAD-IDLE. */
	code = dfk_dfu_abort(dev, err);
	return code ? dfk_error_prefix(err, "get commands failed") : DFK_OK;
}

/* Sets the pointer and leaves the device in dfuIDLE, where UPLOAD is allowed. */
static dfk_code read_start(dfk_dev *dev, uint32_t addr, dfk_error *err)
{
	dfk_code code = dfk_dfuse_set_address(dev, addr, err);
	if (!code && dfk_dfu_abort(dev, err))
		return dfk_error_prefix(err, "read at 0x%08X failed", addr);
	return code;
}

dfk_code dfk__dfuse_read_cb(dfk_dev *dev, uint32_t addr, uint64_t len, bool allow_short, dfk__read_sink sink,
			    void *user, uint64_t *got_total, dfk_error *err)
{
	DFK_ERR_ENSURE(err);
	const dfk_ctx *ctx = dfk_dev_ctx(dev);
	uint16_t xfer = dfk_dev_transfer_size(dev);
	/* The device computes addresses with its own wTransferSize; with an
	 * override every block is addressed explicitly. */
	bool auto_inc = xfer == dfk_dev_if(dev)->func.wTransferSize;
	uint64_t done = 0;
	uint32_t block = 2;
	uint8_t *buf;
	dfk_code code;

	*got_total = 0;
	if (xfer == 0)
		return dfk_error_set(err, DFK_ERR_USAGE, "the transfer size is 0");
	if (len > 0x100000000ull - addr)
		return dfk_error_set(err, DFK_ERR_USAGE, "read of %llu bytes at 0x%08X passes 4 GiB",
				     (unsigned long long)len, addr);
	buf = malloc(xfer);
	if (!buf)
		return dfk_error_set(err, DFK_ERR_NOMEM, "out of memory");
	code = read_start(dev, addr, err);
	while (!code && done < len) {
		uint32_t at = addr + (uint32_t)done;
		uint16_t want = len - done < xfer ? (uint16_t)(len - done) : xfer;
		size_t got = 0;

		if (dfk__dfuse_needs_address(block, want, xfer, auto_inc)) {
			/* SET_ADDRESS is a DNLOAD: not accepted in dfuUPLOAD-IDLE. */
			code = dfk_dfu_abort(dev, err);
			if (!code)
				code = read_start(dev, at, err);
			if (code)
				break;
			block = 2;
		}
		code = dfk_dfu_upload(dev, (uint16_t)block, buf, want, &got, err);
		if (code) {
			dfk_error_prefix(err, "read at 0x%08X failed", at);
			protection_hint(err);
			break;
		}
		if (got && sink)
			code = sink(user, at, buf, got, err);
		if (code)
			break;
		done += got;
		block++;
		if (got < want) {
			if (!allow_short)
				code = dfk_error_set(err, DFK_ERR_PROTOCOL,
						     "read at 0x%08X: device sent %zu of %u bytes", at, got, want);
			else
				dfk_log(ctx, DFK_LOG_WARN, "device ended the read at 0x%08X (%llu of %llu bytes)",
					at + (uint32_t)got, (unsigned long long)done, (unsigned long long)len);
			break;
		}
	}
	free(buf);
	*got_total = done;
	if (code)
		return code;
	/* Back to dfuIDLE so the next DNLOAD or UPLOAD is accepted. */
	code = dfk_dfu_abort(dev, err);
	return code ? dfk_error_prefix(err, "read at 0x%08X failed", addr) : DFK_OK;
}

struct copy_sink {
	const dfk_ctx *ctx;
	uint8_t *buf;
	uint32_t base;
	uint64_t len;
};

static dfk_code copy_block(void *user, uint32_t addr, const uint8_t *data, size_t len, dfk_error *err)
{
	struct copy_sink *c = user;
	(void)err;
	memcpy(c->buf + (addr - c->base), data, len);
	dfk__progress(c->ctx, DFK_PHASE_UPLOAD, addr - c->base + len, c->len, addr);
	return DFK_OK;
}

dfk_code dfk_dfuse_read(dfk_dev *dev, uint32_t addr, uint8_t *buf, size_t len, dfk_error *err)
{
	DFK_ERR_ENSURE(err);
	struct copy_sink c = {dfk_dev_ctx(dev), buf, addr, len};
	uint64_t got;

	return dfk__dfuse_read_cb(dev, addr, len, false, copy_block, &c, &got, err);
}
