/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* The executor: sends a download schedule (proto/schedule.c) to the device,
 * step by step, and is the only loop that does so. It also knows, at every
 * step, what the device's memory holds, which is what a cancel reports. */
#include "exec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A plain DFU upload that never ends with a short block is cut here
 * (wBlockNum is 16 bits). */
#define PLAIN_MAX_BLOCKS 65536u

typedef struct exec {
	dfk_dev *dev;
	const dfk_ctx *ctx;
	const dfk_schedule *s;
	bool will_reset;
	bool idle;	 /* plain DFU: back in dfuIDLE after manifestation */
	size_t verified; /* verify steps whose read-back matched */
	bool verify_skipped;
	uint64_t erase_done, write_done, verify_done;
	size_t erased; /* erase steps the device got */
	uint32_t erase_first;
	uint64_t erase_end;
	bool wrote;
	uint32_t write_first;
	uint64_t write_end;
} exec;

dfk_code dfk__cancelled(dfk_dev *dev, dfk_error *err, const char *fmt, ...)
{
	char msg[DFK_ERROR_MSG_MAX];
	dfk_error e;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (dfk__dev_settle(dev, &e))
		return dfk_error_set(err, DFK_ERR_CANCELLED, "%s; the device did not return to dfuIDLE: %s", msg,
				     e.msg);
	return dfk_error_set(err, DFK_ERR_CANCELLED, "%s", msg);
}

/* ---- Comparing what the device holds with what was meant ---- */

typedef struct cmp_sink {
	const dfk_ctx *ctx;
	const uint8_t *want; /* expected bytes, want[0] at address base */
	uint32_t base;
	uint64_t *done, total; /* phase progress */
	bool mismatch_is_error;
	bool equal;  /* cleared at the first difference when not an error */
	bool erased; /* every byte read was 0xFF (cleared at the first other) */
} cmp_sink;

static dfk_code cmp_block(void *user, uint32_t addr, const uint8_t *data, size_t len, dfk_error *err)
{
	cmp_sink *c = user;
	const uint8_t *want = c->want + (addr - c->base);

	if (memcmp(want, data, len) != 0) {
		size_t i = 0;
		while (want[i] == data[i])
			i++;
		if (c->mismatch_is_error)
			return dfk_error_set(err, DFK_ERR_VERIFY,
					     "verify failed at 0x%08X: wrote 0x%02X, read back 0x%02X",
					     addr + (uint32_t)i, want[i], data[i]);
		c->equal = false;
	}
	for (size_t i = 0; c->erased && i < len; i++)
		c->erased = data[i] == 0xFF;
	*c->done += len;
	dfk__progress(c->ctx, DFK_PHASE_VERIFY, *c->done, c->total, addr);
	return DFK_OK;
}

/* ---- Reads ---- */

dfk_code dfk__plain_read(dfk_dev *dev, const char *what, uint64_t limit, dfk__read_sink sink, void *user,
			 uint64_t *total, dfk_error *err)
{
	uint16_t xfer = dfk_dev_transfer_size(dev);
	uint64_t done = 0;
	uint8_t *buf = malloc(xfer ? xfer : 1);
	dfk_code code = DFK_OK;
	uint32_t block;

	*total = 0;
	if (!buf)
		return dfk_error_set(err, DFK_ERR_NOMEM, "out of memory");
	for (block = 0;; block++) {
		uint16_t want = limit - done < xfer ? (uint16_t)(limit - done) : xfer;
		size_t got = 0;

		if (block == PLAIN_MAX_BLOCKS) {
			code = dfk_error_set(err, DFK_ERR_PROTOCOL, "%s did not end after %u blocks", what, block);
			break;
		}
		code = dfk_dfu_upload(dev, (uint16_t)block, buf, want, &got, err);
		if (code) {
			dfk_error_prefix(err, "%s at offset %llu failed", what, (unsigned long long)done);
			break;
		}
		if (got)
			code = sink(user, (uint32_t)done, buf, got, err);
		if (code)
			break;
		done += got;
		if (got < want)
			break; /* short block: the device is back in dfuIDLE */
		if (done == limit) {
			/* Stopped by us: the device still waits in dfuUPLOAD-IDLE. */
			code = dfk_dfu_abort(dev, err);
			if (code)
				dfk_error_prefix(err, "%s of %llu bytes: returning to dfuIDLE failed", what,
						 (unsigned long long)done);
			break;
		}
	}
	free(buf);
	*total = done;
	return code;
}

dfk_code dfk__verify_runs(dfk_dev *dev, const dfk_plan *plan, dfk_error *err)
{
	const dfk_ctx *ctx = dfk_dev_ctx(dev);
	uint64_t total = 0, done = 0, got;
	dfk_code code = DFK_OK;

	for (size_t r = 0; r < plan->nruns; r++)
		total += plan->runs[r].len;
	for (size_t r = 0; r < plan->nruns && !code; r++) {
		const dfk_plan_run *run = &plan->runs[r];
		cmp_sink c = {ctx, run->data, run->addr, &done, total, true, true, false};
		code = dfk__dfuse_read_cb(dev, run->addr, run->len, false, cmp_block, &c, &got, err);
	}
	return code;
}

dfk_code dfk__read_pages(dfk_dev *dev, const dfk_plan *plan, bool find_erased, dfk_page_verdict *v, dfk_error *err)
{
	const dfk_ctx *ctx = dfk_dev_ctx(dev);
	uint64_t total = 0, done = 0, got;
	dfk_code code = DFK_OK;

	for (size_t r = 0; r < plan->nruns; r++)
		total += plan->runs[r].len;
	/* Each page with image bytes is read once, up to the run where it is
	 * known to be neither the same nor erased. */
	for (size_t p = 0; p < plan->nerase && !code; p++) {
		uint64_t ps = plan->erase[p].addr, pe = ps + plan->erase[p].size, covered = 0;
		bool same = true, erased = find_erased;
		for (size_t r = 0; r < plan->nruns && !code && (same || erased); r++) {
			const dfk_plan_run *run = &plan->runs[r];
			uint64_t rs = run->addr, re = rs + run->len;
			uint64_t s = rs > ps ? rs : ps, e = re < pe ? re : pe;
			cmp_sink c = {ctx, run->data + (s - rs), (uint32_t)s, &done, total, false, true, erased};
			if (s >= e)
				continue;
			code = dfk__dfuse_read_cb(dev, (uint32_t)s, e - s, false, cmp_block, &c, &got, err);
			same = same && c.equal;
			erased = erased && c.erased;
			covered += e - s;
		}
		v[p] = same ? DFK_PAGE_SAME : erased && covered == pe - ps ? DFK_PAGE_ERASED : DFK_PAGE_WRITE;
	}
	return code;
}

/* ---- Plain DFU manifestation ---- */

static bool has_attr(const dfk_dev *dev, uint8_t attr)
{
	return (dfk_dev_if(dev)->func.bmAttributes & attr) != 0;
}

/* After the zero-length DNLOAD: poll through manifestation. */
static dfk_code plain_manifest(dfk_dev *dev, bool *idle, dfk_error *err)
{
	const dfk_ctx *ctx = dfk_dev_ctx(dev);
	bool tolerant = has_attr(dev, DFK_ATTR_MANIFEST_TOLERANT);
	dfk_status st;
	dfk_code code;

	*idle = false;
	code = dfk_dfu_get_status(dev, &st, err);
	if (code)
		return dfk_error_prefix(err, "manifestation failed");
	if (st.status != DFK_STATUS_OK)
		return dfk_error_set(err, DFK_ERR_PROTOCOL, "manifestation failed: device status %s in %s",
				     dfk_status_name(st.status), dfk_state_name(st.state));
	if (st.state == DFK_STATE_MANIFEST || st.state == DFK_STATE_MANIFEST_SYNC) {
		if (dfk__dev_sleep(dev, st.poll_timeout_ms < ctx->poll_cap_ms ? st.poll_timeout_ms : ctx->poll_cap_ms))
			return dfk_error_set(err, DFK_ERR_CANCELLED, "cancelled");
		code = dfk_dfu_wait(dev, &st, err);
		if (code && !tolerant && dfk__gone(code) && code != DFK_ERR_STALL) {
			/* It said dfuMANIFEST with status OK and, not being
			 * manifestation tolerant, reset itself as the spec allows. */
			dfk_log(ctx, DFK_LOG_INFO, "device reset itself after manifestation");
			dfk_error_clear(err);
			return DFK_OK;
		}
		if (code)
			return dfk_error_prefix(err, "manifestation failed");
	}
	switch (st.state) {
	case DFK_STATE_IDLE: *idle = true; return DFK_OK;
	case DFK_STATE_MANIFEST_WAIT_RESET:
		dfk_log(ctx, DFK_LOG_INFO, "device waits for a reset to finish manifestation; resetting");
		code = dfk__dev_reset(dev, err);
		if (code && code != DFK_ERR_NODEV)
			return dfk_error_prefix(err, "USB reset after manifestation failed");
		dfk_error_clear(err);
		return DFK_OK;
	default:
		return dfk_error_set(err, DFK_ERR_PROTOCOL, "manifestation failed: device ended in %s",
				     dfk_state_name(st.state));
	}
}

/* ---- The steps ---- */

/* The status after a data block: dfuDNLOAD-IDLE, or for the last block of
 * a device that resets (option bytes) whatever it says before it goes. */
static dfk_code block_done(exec *x, const dfk_step *st, dfk_error *err)
{
	dfk_status ds;
	dfk_code code;

	if (st->last && x->will_reset && x->s->dfuse) {
		code = dfk_dfu_get_status(x->dev, &ds, err);
		if (code && code != DFK_ERR_CANCELLED && dfk__gone(code)) {
			dfk_error_clear(err);
			return DFK_OK;
		}
		if (!code && ds.status != DFK_STATUS_OK)
			code = dfk_error_set(err, DFK_ERR_PROTOCOL, "device status %s in %s",
					     dfk_status_name(ds.status), dfk_state_name(ds.state));
		return code;
	}
	code = dfk_dfu_wait(x->dev, &ds, err);
	if (!code && ds.state != DFK_STATE_DNLOAD_IDLE)
		code = dfk_error_set(err, DFK_ERR_PROTOCOL, "device in %s instead of dfuDNLOAD-IDLE",
				     dfk_state_name(ds.state));
	return code;
}

static dfk_code step_dnload(exec *x, const dfk_step *st, dfk_error *err)
{
	dfk_code code;

	if (!x->s->dfuse && st->addr == 0)
		dfk__progress(x->ctx, DFK_PHASE_DOWNLOAD, 0, x->s->write_bytes, 0); /* where it starts */
	code = dfk_dfu_dnload(x->dev, st->block, st->data, (uint16_t)st->len, err);
	if (!code) {
		if (!x->wrote)
			x->write_first = st->addr;
		x->wrote = true;
		x->write_end = (uint64_t)st->addr + st->len;
		code = block_done(x, st, err);
	}
	if (code && x->s->dfuse)
		return dfk_error_prefix(err, "download of %u bytes at 0x%08X failed", st->len, st->addr);
	if (code)
		return dfk_error_prefix(err, "download of block %u (offset %u) failed", st->block, st->addr);
	x->write_done += st->len;
	dfk__progress(x->ctx, DFK_PHASE_DOWNLOAD, x->write_done, x->s->write_bytes,
		      x->s->dfuse ? st->addr : st->addr + st->len);
	return DFK_OK;
}

static dfk_code step_end(exec *x, const dfk_step *st, dfk_error *err)
{
	dfk_code code = dfk_dfu_dnload(x->dev, st->block, NULL, 0, err);

	if (code)
		return dfk_error_prefix(err, "end of download failed");
	dfk__progress(x->ctx, DFK_PHASE_MANIFEST, 0, 1, 0);
	code = plain_manifest(x->dev, &x->idle, err);
	if (!code)
		dfk__progress(x->ctx, DFK_PHASE_MANIFEST, 1, 1, 0);
	return code;
}

static dfk_code step_verify(exec *x, const dfk_step *st, dfk_error *err)
{
	cmp_sink c = {x->ctx, st->data, st->addr, &x->verify_done, x->s->verify_bytes, true, true, false};
	uint64_t got = 0;
	dfk_code code;

	if (x->s->dfuse) {
		code = dfk__dfuse_read_cb(x->dev, st->addr, st->len, false, cmp_block, &c, &got, err);
		if (!code)
			x->verified++;
		return code;
	}
	if (!x->idle) {
		dfk_log(x->ctx, DFK_LOG_WARN, "not verified: the device resets after manifestation");
		x->verify_skipped = true;
		return DFK_OK;
	}
	code = dfk__plain_read(x->dev, "verify read", st->len, cmp_block, &c, &got, err);
	if (!code && got < st->len)
		code = dfk_error_set(err, DFK_ERR_VERIFY, "verify failed: device returned %llu of %u bytes",
				     (unsigned long long)got, st->len);
	if (!code)
		x->verified++;
	return code;
}

static dfk_code run_step(exec *x, const dfk_step *st, dfk_error *err)
{
	dfk_code code;

	switch (st->op) {
	case DFK_STEP_ERASE:
		code = dfk_dfuse_erase_page(x->dev, st->addr, err);
		if (!code) {
			x->erase_done += st->len;
			dfk__progress(x->ctx, DFK_PHASE_ERASE, x->erase_done, x->s->erase_bytes, st->addr);
		}
		return code;
	case DFK_STEP_SET_ADDRESS: return dfk_dfuse_set_address(x->dev, st->addr, err);
	case DFK_STEP_DNLOAD: return step_dnload(x, st, err);
	case DFK_STEP_END: return step_end(x, st, err);
	case DFK_STEP_VERIFY: return step_verify(x, st, err);
	}
	return dfk_error_set(err, DFK_ERR_SOFTWARE, "schedule: unknown step %d", (int)st->op);
}

/* What the memory holds when a cancel stopped step st (started: the
 * device got its first request, and finishes it before being aborted). */
static dfk_code cancelled(exec *x, const dfk_step *st, bool started, dfk_error *err)
{
	dfk_dev *dev = x->dev;

	if (st && st->op == DFK_STEP_ERASE && started) {
		x->erased++;
		if (x->erased == 1)
			x->erase_first = st->addr;
		x->erase_end = (uint64_t)st->addr + st->len;
	}
	if (!x->s->dfuse) {
		if (st && st->op == DFK_STEP_VERIFY)
			return dfk__cancelled(dev, err, "cancelled while verifying: the device has all %llu bytes",
					      (unsigned long long)x->s->write_bytes);
		return dfk__cancelled(dev, err,
				      "cancelled at offset %llu: the device got %llu of %llu bytes and was "
				      "aborted before manifestation",
				      (unsigned long long)x->write_done, (unsigned long long)x->write_done,
				      (unsigned long long)x->s->write_bytes);
	}
	if (!st || st->op == DFK_STEP_ERASE) {
		if (x->erased == 0)
			return dfk__cancelled(dev, err, "cancelled before anything was erased or written");
		return dfk__cancelled(dev, err,
				      "cancelled while erasing page 0x%08X: 0x%08X-0x%08llX erased (%zu of the job's "
				      "pages), nothing written",
				      st ? st->addr : 0, x->erase_first, (unsigned long long)(x->erase_end - 1),
				      x->erased);
	}
	if (st->op == DFK_STEP_VERIFY)
		return dfk__cancelled(dev, err, "cancelled while verifying 0x%08X: the whole image is written",
				      st->addr);
	if (!x->wrote)
		return dfk__cancelled(
		    dev, err, "cancelled before writing at 0x%08X: nothing written, the job's pages erased", st->addr);
	return dfk__cancelled(dev, err,
			      "cancelled while writing 0x%08X: 0x%08X-0x%08llX written, the rest of the job's pages "
			      "erased",
			      st->addr, x->write_first, (unsigned long long)(x->write_end - 1));
}

dfk_code dfk__exec(dfk_dev *dev, const dfk_schedule *s, bool will_reset, bool *verified, dfk_error *err)
{
	exec x;
	dfk_code code = DFK_OK;
	size_t i, nverify = 0;

	memset(&x, 0, sizeof(x));
	x.dev = dev;
	x.ctx = dfk_dev_ctx(dev);
	x.s = s;
	x.will_reset = will_reset;
	for (i = 0; i < s->count; i++) {
		const dfk_step *st = &s->steps[i];
		uint64_t before = dfk__dev_requests(dev);

		code = dfk__dev_cancelled(dev) ? DFK_ERR_CANCELLED : run_step(&x, st, err);
		if (code == DFK_ERR_CANCELLED)
			return cancelled(&x, st, dfk__dev_requests(dev) > before, err);
		if (code)
			return code;
		if (st->op == DFK_STEP_VERIFY)
			nverify++;
		if (st->op == DFK_STEP_ERASE) {
			if (x.erased++ == 0)
				x.erase_first = st->addr;
			x.erase_end = (uint64_t)st->addr + st->len;
		}
	}
	if (verified)
		*verified = nverify > 0 && x.verified == nverify && !x.verify_skipped;
	return DFK_OK;
}
