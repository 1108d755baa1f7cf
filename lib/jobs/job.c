/* Jobs: download (plain DFU or DfuSe), upload, verify, leave, detach, reset,
 * and waiting for a device to come back. Built only from the requests in
 * dfu.c and dfuse.c, so the control-transfer budget is visible here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfu_internal.h"
#include "dfukit/dfu.h"

/* Upload without a length from a DfuSe device: dfu-util's default. */
#define DFUSE_DEFAULT_UPLOAD 0x4000u
/* A plain DFU upload that never ends with a short block is cut here
 * (wBlockNum is 16 bits). */
#define PLAIN_MAX_BLOCKS 65536u

void dfk_job_opts_init(dfk_job_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->verify = true;
}

static bool has_attr(const dfk_dev *dev, uint8_t attr)
{
	return (dfk_dev_if(dev)->func.bmAttributes & attr) != 0;
}

static dfk_code check_xfer(const dfk_dev *dev, dfk_error *err)
{
	if (dfk_dev_transfer_size(dev) == 0)
		return dfk_error_set(err, DFK_ERR_USAGE,
				     "device reports wTransferSize 0: give a transfer size with -t");
	return DFK_OK;
}

static bool use_dfuse(const dfk_dev *dev, const dfk_job_opts *o)
{
	return dfk_dev_if(dev)->dfuse || o->dfuse;
}

static dfk_code check_force(const dfk_job_opts *o, dfk_error *err)
{
	if (o->mass_erase && !o->force)
		return dfk_error_set(err, DFK_ERR_USAGE,
				     "mass-erase wipes the whole flash: it needs force (-s :mass-erase:force)");
	if (o->unprotect && !o->force)
		return dfk_error_set(
		    err, DFK_ERR_USAGE,
		    "unprotect erases the whole flash and resets the device: it needs force (-s :unprotect:force)");
	return DFK_OK;
}

/* The job's first step: the device in dfuIDLE. Its failures (a bare
 * GETSTATUS error) are put in the job's context, what. */
static dfk_code prepare(dfk_dev *dev, const char *what, dfk_error *err)
{
	dfk_code code = dfk__dev_ready(dev, err);

	if (!code)
		code = dfk_dfu_make_idle(dev, err);
	return code ? dfk_error_prefix(err, "%s: preparing the device", what) : DFK_OK;
}

/* ---- Comparing what the device holds with what was meant ---- */

struct cmp_sink {
	const dfk_ctx *ctx;
	const uint8_t *want; /* expected bytes, want[0] at address base */
	uint32_t base;
	uint64_t *done, total; /* phase progress */
	dfk_phase phase;
	bool mismatch_is_error;
	bool equal; /* cleared at the first difference when not an error */
};

static dfk_code cmp_block(void *user, uint32_t addr, const uint8_t *data, size_t len, dfk_error *err)
{
	struct cmp_sink *c = user;
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
	*c->done += len;
	dfk__progress(c->ctx, c->phase, *c->done, c->total, addr);
	return DFK_OK;
}

/* ---- Plain DFU 1.1 ---- */

/* Reads blocks 0, 1, ... until a short block or limit bytes; the device is
 * in dfuIDLE afterwards. */
static dfk_code plain_read(dfk_dev *dev, const char *what, uint64_t limit, dfk__read_sink sink, void *user,
			   uint64_t *total, dfk_error *err)
{
	uint16_t xfer = dfk_dev_transfer_size(dev);
	uint64_t done = 0;
	uint8_t *buf = malloc(xfer);
	dfk_code code = DFK_OK;
	uint32_t block;

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
		/* The sink sees offsets as addresses from 0. */
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
		dfk__sleep(ctx, st.poll_timeout_ms < ctx->poll_cap_ms ? st.poll_timeout_ms : ctx->poll_cap_ms);
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
		code = dfk_dev_usb(dev)->ops->reset(dfk_dev_usb(dev), err);
		if (code && !dfk__gone(code))
			return dfk_error_prefix(err, "USB reset after manifestation failed");
		dfk_error_clear(err);
		return DFK_OK;
	default:
		return dfk_error_set(err, DFK_ERR_PROTOCOL, "manifestation failed: device ended in %s",
				     dfk_state_name(st.state));
	}
}

static dfk_code plain_download(dfk_dev *dev, const dfk_image *img, const dfk_job_opts *o, dfk_error *err)
{
	const dfk_ctx *ctx = dfk_dev_ctx(dev);
	uint16_t xfer = dfk_dev_transfer_size(dev);
	uint64_t total = dfk_image_bytes(img), done = 0;
	uint8_t *flat = NULL;
	const uint8_t *data;
	uint16_t block = 0;
	char what[48];
	dfk_status st;
	dfk_code code;
	bool idle;

	/* The payload is the elements back to back (one for a raw file). */
	if (img->count == 1) {
		data = img->elements[0].data;
	} else {
		if (total > SIZE_MAX || !(flat = malloc(total ? (size_t)total : 1)))
			return dfk_error_set(err, DFK_ERR_NOMEM, "out of memory");
		for (size_t i = 0, off = 0; i < img->count; off += img->elements[i].size, i++)
			memcpy(flat + off, img->elements[i].data, img->elements[i].size);
		data = flat;
	}
	snprintf(what, sizeof(what), "download of %llu bytes", (unsigned long long)total);
	code = prepare(dev, what, err);
	if (!code)
		dfk__progress(ctx, DFK_PHASE_DOWNLOAD, 0, total, 0); /* where it starts */
	while (!code && done < total) {
		uint16_t n = total - done < xfer ? (uint16_t)(total - done) : xfer;

		code = dfk_dfu_dnload(dev, block, data + done, n, err);
		if (!code)
			code = dfk_dfu_wait(dev, &st, err);
		if (!code && st.state != DFK_STATE_DNLOAD_IDLE)
			code = dfk_error_set(err, DFK_ERR_PROTOCOL, "device in %s instead of dfuDNLOAD-IDLE",
					     dfk_state_name(st.state));
		if (code) {
			dfk_error_prefix(err, "download of block %u (offset %llu) failed", block,
					 (unsigned long long)done);
			break;
		}
		done += n;
		block++; /* wraps at 16 bits, as the request field does */
		dfk__progress(ctx, DFK_PHASE_DOWNLOAD, done, total, (uint32_t)done);
	}
	if (!code) {
		code = dfk_dfu_dnload(dev, block, NULL, 0, err);
		if (code)
			dfk_error_prefix(err, "end of download failed");
	}
	if (!code) {
		dfk__progress(ctx, DFK_PHASE_MANIFEST, 0, 1, 0);
		code = plain_manifest(dev, &idle, err);
		if (!code)
			dfk__progress(ctx, DFK_PHASE_MANIFEST, 1, 1, 0);
	}
	if (!code && o->verify) {
		if (!has_attr(dev, DFK_ATTR_CAN_UPLOAD)) {
			dfk_log(ctx, DFK_LOG_WARN, "not verified: the device cannot upload");
		} else if (!idle) {
			dfk_log(ctx, DFK_LOG_WARN, "not verified: the device resets after manifestation");
		} else {
			uint64_t vdone = 0, got = 0;
			struct cmp_sink c = {ctx, data, 0, &vdone, total, DFK_PHASE_VERIFY, true, true};

			code = plain_read(dev, "verify read", total, cmp_block, &c, &got, err);
			if (!code && got < total)
				code = dfk_error_set(err, DFK_ERR_VERIFY,
						     "verify failed: device returned %llu of %llu bytes",
						     (unsigned long long)got, (unsigned long long)total);
		}
	}
	free(flat);
	return code;
}

/* ---- DfuSe ---- */

/* Writes one contiguous span: one SET_ADDRESS, then wBlockNum 2, 3, ... */
static dfk_code write_span(dfk_dev *dev, const dfk_plan_run *r, bool last_span, const dfk_job_opts *o, uint64_t *done,
			   uint64_t total, dfk_error *err)
{
	const dfk_ctx *ctx = dfk_dev_ctx(dev);
	uint16_t xfer = dfk_dev_transfer_size(dev);
	/* The device computes (wBlockNum - 2) * its wTransferSize + pointer:
	 * with -t overriding it, each block is addressed explicitly. */
	bool auto_inc = xfer == dfk_dev_if(dev)->func.wTransferSize;
	uint32_t block = 2;
	uint64_t off = 0;
	dfk_status st;
	dfk_code code;

	code = dfk_dfuse_set_address(dev, r->addr, err);
	while (!code && off < r->len) {
		uint32_t at = r->addr + (uint32_t)off;
		uint16_t n = r->len - off < xfer ? (uint16_t)(r->len - off) : xfer;
		bool last = last_span && off + n == r->len;

		/* A short final block is addressed explicitly too: ST documents the
		 * multiplier as "the length of the requested data buffer". */
		if (block > 2 && (block > 0xFFFF || !auto_inc || n < xfer)) {
			code = dfk_dfuse_set_address(dev, at, err);
			if (code)
				break;
			block = 2;
		}
		code = dfk_dfu_dnload(dev, (uint16_t)block, r->data + off, n, err);
		if (code)
			return dfk_error_prefix(err, "download of %u bytes at 0x%08X failed", n, at);
		if (last && o->will_reset) {
			/* Option bytes: the device resets once it has the data. */
			code = dfk_dfu_get_status(dev, &st, err);
			if (code && dfk__gone(code)) {
				dfk_error_clear(err);
				code = DFK_OK;
			} else if (!code && st.status != DFK_STATUS_OK) {
				code = dfk_error_set(err, DFK_ERR_PROTOCOL, "device status %s in %s",
						     dfk_status_name(st.status), dfk_state_name(st.state));
			}
		} else {
			code = dfk_dfu_wait(dev, &st, err);
			if (!code && st.state != DFK_STATE_DNLOAD_IDLE)
				code = dfk_error_set(err, DFK_ERR_PROTOCOL, "device in %s instead of dfuDNLOAD-IDLE",
						     dfk_state_name(st.state));
		}
		if (code)
			return dfk_error_prefix(err, "download of %u bytes at 0x%08X failed", n, at);
		off += n;
		block++;
		*done += n;
		dfk__progress(ctx, DFK_PHASE_DOWNLOAD, *done, total, at);
	}
	return code;
}

struct spans {
	dfk_plan_run *v;
	size_t n, cap;
};

static dfk_code spans_push(struct spans *s, uint32_t addr, uint64_t len, const uint8_t *data, dfk_error *err)
{
	if (len == 0)
		return DFK_OK;
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 8;
		dfk_plan_run *v = realloc(s->v, ncap * sizeof(*v));
		if (!v)
			return dfk_error_set(err, DFK_ERR_NOMEM, "out of memory");
		s->v = v;
		s->cap = ncap;
	}
	s->v[s->n++] = (dfk_plan_run){addr, (uint32_t)len, data};
	return DFK_OK;
}

/* skip_unchanged: reads what the runs cover, then drops the pages whose
 * covered bytes already match from the erase list and from the spans. */
static dfk_code skip_unchanged(dfk_dev *dev, const dfk_plan *plan, dfk_plan_page *erase, size_t *nerase,
			       struct spans *out, dfk_error *err)
{
	const dfk_ctx *ctx = dfk_dev_ctx(dev);
	bool *same = calloc(plan->nerase ? plan->nerase : 1, sizeof(bool));
	uint64_t total = 0, done = 0, got;
	dfk_code code = DFK_OK;
	size_t kept = 0;

	if (!same)
		return dfk_error_set(err, DFK_ERR_NOMEM, "out of memory");
	for (size_t p = 0; p < plan->nerase; p++)
		same[p] = true;
	for (size_t r = 0; r < plan->nruns; r++)
		total += plan->runs[r].len;
	/* Compare page by page: each page with image bytes is read once. */
	for (size_t p = 0; p < plan->nerase && !code; p++) {
		uint64_t ps = plan->erase[p].addr, pe = ps + plan->erase[p].size;
		for (size_t r = 0; r < plan->nruns && !code && same[p]; r++) {
			const dfk_plan_run *run = &plan->runs[r];
			uint64_t rs = run->addr, re = rs + run->len;
			uint64_t s = rs > ps ? rs : ps, e = re < pe ? re : pe;
			struct cmp_sink c = {ctx,   run->data + (s - rs), (uint32_t)s, &done,
					     total, DFK_PHASE_VERIFY,	  false,       true};
			if (s >= e)
				continue;
			code = dfk__dfuse_read_cb(dev, (uint32_t)s, e - s, false, cmp_block, &c, &got, err);
			same[p] = c.equal;
		}
	}
	for (size_t p = 0; p < plan->nerase && !code; p++)
		if (!same[p])
			erase[kept++] = plan->erase[p];
	/* Spans: the runs minus the unchanged pages. */
	for (size_t r = 0; r < plan->nruns && !code; r++) {
		const dfk_plan_run *run = &plan->runs[r];
		uint64_t pos = run->addr, end = pos + run->len;
		for (size_t p = 0; p < plan->nerase && !code; p++) {
			uint64_t ps = plan->erase[p].addr, pe = ps + plan->erase[p].size;
			if (!same[p] || pe <= pos || ps >= end)
				continue;
			if (ps > pos)
				code = spans_push(out, (uint32_t)pos, ps - pos, run->data + (pos - run->addr), err);
			pos = pe < end ? pe : end;
		}
		if (!code && pos < end)
			code = spans_push(out, (uint32_t)pos, end - pos, run->data + (pos - run->addr), err);
	}
	if (!code && kept < plan->nerase)
		dfk_log(ctx, DFK_LOG_INFO, "%zu of %zu pages unchanged, not erased or written", plan->nerase - kept,
			plan->nerase);
	*nerase = kept;
	free(same);
	return code;
}

/* Erases, writes and verifies one target's image on the selected alt. */
static dfk_code dfuse_image(dfk_dev *dev, const dfk_image *img, const dfk_job_opts *o, bool mass_erased, dfk_error *err)
{
	const dfk_ctx *ctx = dfk_dev_ctx(dev);
	const dfk_memmap *map;
	dfk_plan plan;
	dfk_plan_page *erase = NULL;
	size_t nerase = 0;
	struct spans sp = {0};
	uint64_t total = 0, done = 0;
	dfk_code code;
	unsigned flags = (o->force ? DFK_PLAN_FORCE : 0) | (mass_erased ? DFK_PLAN_NO_ERASE : 0);

	code = dfk_dev_memmap(dev, &map, err);
	if (code)
		return code;
	memset(&plan, 0, sizeof(plan));
	code = dfk_plan_build(img, map, flags, &plan, err);
	if (code)
		return code;
	for (size_t p = 0; p < plan.nerase; p++)
		if (plan.erase[p].partial)
			dfk_log(ctx, DFK_LOG_WARN,
				"page 0x%08X (%u bytes) is only partly covered by the image: all of it is erased",
				plan.erase[p].addr, plan.erase[p].size);
	erase = malloc((plan.nerase ? plan.nerase : 1) * sizeof(*erase));
	if (!erase) {
		code = dfk_error_set(err, DFK_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (o->skip_unchanged && !mass_erased && has_attr(dev, DFK_ATTR_CAN_UPLOAD)) {
		code = skip_unchanged(dev, &plan, erase, &nerase, &sp, err);
	} else {
		if (plan.nerase)
			memcpy(erase, plan.erase, plan.nerase * sizeof(*erase));
		nerase = plan.nerase;
		for (size_t r = 0; r < plan.nruns && !code; r++)
			code = spans_push(&sp, plan.runs[r].addr, plan.runs[r].len, plan.runs[r].data, err);
	}
	if (code)
		goto out;

	for (size_t p = 0; p < nerase; p++)
		total += erase[p].size;
	for (size_t p = 0; p < nerase && !code; p++) {
		code = dfk_dfuse_erase_page(dev, erase[p].addr, err);
		done += erase[p].size;
		if (!code)
			dfk__progress(ctx, DFK_PHASE_ERASE, done, total, erase[p].addr);
	}

	total = done = 0;
	for (size_t r = 0; r < sp.n; r++)
		total += sp.v[r].len;
	for (size_t r = 0; r < sp.n && !code; r++)
		code = write_span(dev, &sp.v[r], r + 1 == sp.n, o, &done, total, err);
	if (code || o->will_reset)
		goto out;

	if (o->verify && !has_attr(dev, DFK_ATTR_CAN_UPLOAD)) {
		dfk_log(ctx, DFK_LOG_WARN, "not verified: the device cannot upload");
	} else if (o->verify) {
		done = 0;
		for (size_t r = 0; r < sp.n && !code; r++) {
			struct cmp_sink c = {ctx,   sp.v[r].data,     sp.v[r].addr, &done,
					     total, DFK_PHASE_VERIFY, true,	    true};
			uint64_t got;
			code = dfk__dfuse_read_cb(dev, sp.v[r].addr, sp.v[r].len, false, cmp_block, &c, &got, err);
		}
	}
out:
	free(sp.v);
	free(erase);
	dfk_plan_free(&plan);
	return code;
}

/* The image to write for a non-DfuSe file: a raw binary without an address
 * is placed at -s ADDR. */
static dfk_code place_image(const dfk_firmware *fw, const dfk_target *t, const dfk_job_opts *o, dfk_image *tmp,
			    const dfk_image **img, dfk_error *err)
{
	*img = &t->image;
	if (fw->format != DFK_FORMAT_RAW || fw->addressed)
		return DFK_OK;
	if (!o->has_address)
		return dfk_error_set(err, DFK_ERR_USAGE, "a raw binary for a DfuSe device needs an address (-s ADDR)");
	for (size_t i = 0, off = 0; i < t->image.count; off += t->image.elements[i].size, i++) {
		uint64_t at = (uint64_t)o->address + off;
		if (at > UINT32_MAX)
			return dfk_error_set(err, DFK_ERR_USAGE, "image at 0x%08X passes 4 GiB", o->address);
		dfk_code code =
		    dfk_image_add_ref(tmp, (uint32_t)at, t->image.elements[i].data, t->image.elements[i].size, err);
		if (code)
			return code;
	}
	*img = tmp;
	return DFK_OK;
}

static dfk_code finish_idle(dfk_dev *dev, const char *what, dfk_error *err)
{
	dfk_status st;
	dfk_code code = dfk_dfu_abort(dev, err);

	if (!code)
		code = dfk_dfu_get_status(dev, &st, err);
	if (!code && (st.status != DFK_STATUS_OK || st.state != DFK_STATE_IDLE))
		code = dfk_error_set(err, DFK_ERR_PROTOCOL, "device status %s in %s instead of dfuIDLE",
				     dfk_status_name(st.status), dfk_state_name(st.state));
	return code ? dfk_error_prefix(err, "%s: returning to dfuIDLE failed", what) : DFK_OK;
}

/* Every DfuSe job starts in dfuIDLE; with -U it also ends there, as the
 * read-unprotect erases the flash and resets the device (*resetting). */
static dfk_code dfuse_begin(dfk_dev *dev, const dfk_job_opts *o, const char *what, bool *resetting, dfk_error *err)
{
	dfk_code code = prepare(dev, what, err);

	*resetting = false;
	if (code || !o->unprotect)
		return code;
	*resetting = true;
	code = dfk_dfuse_read_unprotect(dev, err);
	if (!code)
		dfk_log(dfk_dev_ctx(dev), DFK_LOG_INFO, "device disconnects, erases its flash and resets now");
	return code;
}

/* Where a DfuSe download starts, for its messages: the -s address of a raw
 * binary, else the first element. */
static uint32_t first_address(const dfk_firmware *fw, const dfk_job_opts *o)
{
	if (fw->format == DFK_FORMAT_RAW && !fw->addressed)
		return o->address;
	for (size_t i = 0; i < fw->ntargets; i++)
		if (fw->targets[i].image.count)
			return fw->targets[i].image.elements[0].addr;
	return o->address;
}

/* A multi-target .dfu is checked whole before anything is erased: a target
 * that would be refused (read-only or OTP memory, no segment) must not leave
 * the targets before it half-written. */
static dfk_code check_targets(dfk_dev *dev, const dfk_firmware *fw, const dfk_job_opts *o, dfk_error *err)
{
	unsigned flags = (o->force ? DFK_PLAN_FORCE : 0) | (o->mass_erase ? DFK_PLAN_NO_ERASE : 0);

	for (size_t i = 0; i < fw->ntargets; i++) {
		const dfk_target *t = &fw->targets[i];
		dfk_memmap map;
		dfk_plan plan;
		dfk_code code;

		if (t->image.count == 0)
			continue;
		memset(&map, 0, sizeof(map));
		code = dfk__dev_alt_memmap(dev, t->alt, &map, err);
		if (!code) {
			memset(&plan, 0, sizeof(plan));
			code = dfk_plan_build(&t->image, &map, flags, &plan, err);
			if (!code)
				dfk_plan_free(&plan);
			dfk_memmap_free(&map);
		}
		if (code)
			return dfk_error_prefix(err, "target %zu (alt %u), nothing written", i, t->alt);
	}
	return DFK_OK;
}

static dfk_code dfuse_download(dfk_dev *dev, const dfk_firmware *fw, const dfk_job_opts *o, dfk_error *err)
{
	bool dfuse_file = fw->format == DFK_FORMAT_DFUSE;
	bool have_leave_addr = false, resetting;
	uint32_t leave_addr = 0;
	char what[48];
	dfk_code code;

	snprintf(what, sizeof(what), "download to 0x%08X", first_address(fw, o));
	if (dfuse_file && fw->ntargets > 1) {
		code = check_targets(dev, fw, o, err);
		if (code)
			return dfk_error_prefix(err, "%s", what);
	}
	code = dfuse_begin(dev, o, what, &resetting, err);
	if (code || resetting)
		return code;
	if (o->mass_erase) {
		code = dfk_dfuse_mass_erase(dev, err);
		if (code)
			return dfk_error_prefix(err, "%s", what);
	}
	for (size_t i = 0; i < fw->ntargets && !code; i++) {
		const dfk_target *t = &fw->targets[i];
		const dfk_image *img;
		dfk_image tmp;

		if (t->image.count == 0)
			continue;
		if (dfuse_file) {
			code = dfk_dev_select_alt(dev, t->alt, err);
			if (code)
				return dfk_error_prefix(err, "target %zu", i);
		}
		dfk_image_init(&tmp);
		code = place_image(fw, t, o, &tmp, &img, err);
		if (!code && !have_leave_addr && img->count) {
			leave_addr = img->elements[0].addr;
			have_leave_addr = true;
		}
		if (!code)
			code = dfuse_image(dev, img, o, o->mass_erase, err);
		dfk_image_free(&tmp);
		if (code && dfuse_file && fw->ntargets > 1)
			dfk_error_prefix(err, "target %zu (alt %u)", i, t->alt);
		if (o->will_reset)
			return code; /* the device is resetting */
	}
	if (code)
		return code;
	if (o->leave) {
		/* An explicit -s address wins; else the first element's address,
		 * where dfu-util 0.11 forgets it for .dfu files. */
		if (o->has_address)
			return dfk_job_leave(dev, true, o->address, err);
		return dfk_job_leave(dev, have_leave_addr, leave_addr, err);
	}
	return finish_idle(dev, what, err);
}

dfk_code dfk_job_download(dfk_dev *dev, const dfk_firmware *fw, const dfk_job_opts *o, dfk_error *err)
{
	DFK_ERR_ENSURE(err);
	dfk_code code = check_force(o, err);

	if (code)
		return code;
	if (!has_attr(dev, DFK_ATTR_CAN_DNLOAD))
		return dfk_error_set(err, DFK_ERR_UNSUPPORTED, "the device cannot download (bitCanDnload is 0)");
	code = check_xfer(dev, err);
	if (code)
		return code;
	if (dfk_firmware_bytes(fw) == 0)
		return dfk_error_set(err, DFK_ERR_DATA, "nothing to download: the file holds no data");
	if (fw->format == DFK_FORMAT_DFUSE && !use_dfuse(dev, o))
		return dfk_error_set(
		    err, DFK_ERR_UNSUPPORTED,
		    "a DfuSe .dfu file needs a DfuSe device (bcdDFUVersion 0x011A); it is never sent raw");
	if (use_dfuse(dev, o))
		return dfuse_download(dev, fw, o, err);
	if (fw->format != DFK_FORMAT_RAW || fw->addressed)
		return dfk_error_set(
		    err, DFK_ERR_UNSUPPORTED,
		    "a plain DFU device takes no addresses: download a raw binary, or use -s for DfuSe");
	if (o->mass_erase || o->unprotect || o->leave)
		return dfk_error_set(err, DFK_ERR_USAGE, "mass-erase, unprotect and leave need a DfuSe device");
	if (fw->ntargets != 1)
		return dfk_error_set(err, DFK_ERR_DATA, "a raw file must hold exactly one image, not %zu",
				     fw->ntargets);
	return plain_download(dev, &fw->targets[0].image, o, err);
}

/* ---- Upload ---- */

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

dfk_code dfk_job_upload(dfk_dev *dev, const dfk_job_opts *o, dfk_out *out, uint64_t *bytes, dfk_error *err)
{
	DFK_ERR_ENSURE(err);
	const dfk_ctx *ctx = dfk_dev_ctx(dev);
	struct out_sink s = {ctx, out, 0, 0};
	bool guessed = false;
	uint32_t addr;
	uint64_t len;
	dfk_code code;

	*bytes = 0;
	if (!has_attr(dev, DFK_ATTR_CAN_UPLOAD))
		return dfk_error_set(err, DFK_ERR_UNSUPPORTED, "the device cannot upload (bitCanUpload is 0)");
	code = check_xfer(dev, err);
	if (code)
		return code;
	if (!use_dfuse(dev, o)) {
		code = prepare(dev, "upload", err);
		s.total = o->has_length ? o->length : 0;
		if (!code)
			code = plain_read(dev, "upload", o->has_length ? o->length : UINT64_MAX, out_block, &s, bytes,
					  err);
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
		return dfk_error_set(err, DFK_ERR_USAGE, "DfuSe upload needs an address (-s ADDR[:LEN])");
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
	code = prepare(dev, what, err);
	/* A short block is the end of memory only when we guessed the length;
	 * inside a known length it is a device fault. */
	if (!code)
		code = dfk__dfuse_read_cb(dev, addr, len, guessed, out_block, &s, bytes, err);
	return code;
}

/* ---- DfuSe command mode, leave, detach, reset ---- */

static void leave_where(bool has_address, uint32_t address, char *buf, size_t size);

dfk_code dfk_job_dfuse_command(dfk_dev *dev, const dfk_job_opts *o, dfk_error *err)
{
	DFK_ERR_ENSURE(err);
	const dfk_ctx *ctx = dfk_dev_ctx(dev);
	dfk_code code = check_force(o, err);
	char what[80], where[48];
	bool resetting;

	if (code)
		return code;
	if (!o->mass_erase && !o->unprotect && !o->leave)
		return dfk_error_set(err, DFK_ERR_USAGE,
				     "nothing to do: -s without -D or -U needs leave, mass-erase or unprotect");
	leave_where(o->has_address, o->address, where, sizeof(where));
	snprintf(what, sizeof(what), "%s%s%s%s",
		 o->unprotect	 ? "read unprotect"
		 : o->mass_erase ? "mass erase"
				 : "",
		 !o->unprotect && o->mass_erase && o->leave ? " and " : "", !o->unprotect && o->leave ? "leave " : "",
		 !o->unprotect && o->leave ? where : "");
	code = dfuse_begin(dev, o, what, &resetting, err);
	if (code || resetting)
		return code;
	if (o->mass_erase) {
		dfk__progress(ctx, DFK_PHASE_ERASE, 0, 1, 0);
		code = dfk_dfuse_mass_erase(dev, err);
		if (code)
			return code;
		dfk__progress(ctx, DFK_PHASE_ERASE, 1, 1, 0);
	}
	if (o->leave)
		return dfk_job_leave(dev, o->has_address, o->address, err);
	return DFK_OK;
}

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

/* "to 0x08003000" or "at the current address pointer", for messages. */
static void leave_where(bool has_address, uint32_t address, char *buf, size_t size)
{
	if (has_address)
		snprintf(buf, size, "to 0x%08X", address);
	else
		snprintf(buf, size, "at the current address pointer");
}

dfk_code dfk_job_leave(dfk_dev *dev, bool has_address, uint32_t address, dfk_error *err)
{
	DFK_ERR_ENSURE(err);
	const dfk_ctx *ctx = dfk_dev_ctx(dev);
	char where[48];
	dfk_status st;
	dfk_code code;
	bool left;

	leave_where(has_address, address, where, sizeof(where));
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

static uint16_t detach_timeout(const dfk_dev *dev)
{
	uint16_t t = dfk_dev_if(dev)->func.wDetachTimeOut;
	return t ? t : 1000; /* dfu-util's fixed value, for descriptors that give none */
}

dfk_code dfk_job_detach(dfk_dev *dev, dfk_error *err)
{
	DFK_ERR_ENSURE(err);
	const dfk_ctx *ctx = dfk_dev_ctx(dev);
	bool will_detach = has_attr(dev, DFK_ATTR_WILL_DETACH);
	dfk_code code;

	dfk__progress(ctx, DFK_PHASE_DETACH, 0, 1, 0);
	code = dfk_dfu_detach(dev, detach_timeout(dev), err);
	if (code && !(will_detach && code == DFK_ERR_NODEV))
		return dfk_error_prefix(err, "detach failed");
	dfk_error_clear(err);
	if (!will_detach) {
		/* The device waits wDetachTimeOut ms for this reset. */
		code = dfk_dev_usb(dev)->ops->reset(dfk_dev_usb(dev), err);
		if (code && !dfk__gone(code))
			return dfk_error_prefix(err, "USB reset after detach failed");
		dfk_error_clear(err);
	}
	dfk__progress(ctx, DFK_PHASE_DETACH, 1, 1, 0);
	return DFK_OK;
}

dfk_code dfk_job_reset(dfk_dev *dev, dfk_error *err)
{
	DFK_ERR_ENSURE(err);
	const dfk_ctx *ctx = dfk_dev_ctx(dev);
	dfk_error e;
	dfk_code code;

	/* In DFU mode many bootloaders refuse DETACH; the reset still follows. */
	if (dfk_dfu_detach(dev, detach_timeout(dev), &e))
		dfk_log(ctx, DFK_LOG_DEBUG, "%s", e.msg);
	code = dfk_dev_usb(dev)->ops->reset(dfk_dev_usb(dev), err);
	if (code && !dfk__gone(code))
		return dfk_error_prefix(err, "USB reset failed");
	dfk_error_clear(err);
	return DFK_OK;
}

/* ---- Waiting for re-enumeration ---- */

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
		      dfk_found *out, dfk_error *err)
{
	DFK_ERR_ENSURE(err);
	uint64_t start = dfk__now(ctx);
	dfk_match mm;
	dfk_code code;

	if (m) {
		mm = *m;
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

		code = dfk_find(ctx, t, &mm, out, err);
		if (code)
			return code;
		for (size_t i = 0; i < out->count; i++)
			if (wanted(&out->ifs[i], path, serial))
				out->ifs[kept++] = out->ifs[i];
		out->count = kept;
		if (kept)
			return DFK_OK;
		dfk_found_free(out);
		if (dfk__now(ctx) - start >= ctx->reenum_timeout_ms)
			break;
		dfk__sleep(ctx, DFK_REENUM_POLL_MS);
	}
	return dfk_error_set(err, DFK_ERR_NODEV, "no DFU-mode device%s%s%s%s appeared within %u ms",
			     path ? " on port " : "", path ? path : "", serial && *serial ? " with serial " : "",
			     serial && *serial ? serial : "", ctx->reenum_timeout_ms);
}
