/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* The download job: plain DFU for a plain device and an unaddressed raw
 * file, DfuSe (target by target) otherwise. Every target is planned before
 * the device is touched; each plan becomes a schedule that the executor
 * sends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job_internal.h"

/* ---- Plain DFU 1.1 ---- */

static dfk_code plain_download(dfk_dev *dev, const dfk_image *img, const dfk_job_opts *o, bool *verified,
			       dfk_error *err)
{
	const dfk_ctx *ctx = dfk_dev_ctx(dev);
	uint64_t total = dfk_image_bytes(img);
	bool can_upload = dfk__job_has_attr(dev, DFK_ATTR_CAN_UPLOAD);
	uint8_t *flat = NULL;
	const uint8_t *data;
	dfk_schedule s;
	char what[48];
	dfk_code code;

	if (o->skip_unchanged)
		dfk_log(ctx, DFK_LOG_WARN,
			"a plain DFU device has no pages to compare or skip: the whole image is written");
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
	code = dfk__schedule_plain(data, total, dfk_dev_transfer_size(dev), o->verify && can_upload, &s, err);
	if (code) {
		free(flat);
		return code;
	}
	snprintf(what, sizeof(what), "download of %llu bytes", (unsigned long long)total);
	code = dfk__job_prepare(dev, what, err);
	if (!code)
		code = dfk__exec(dev, &s, false, verified, err);
	if (!code && o->verify && !can_upload)
		dfk_log(ctx, DFK_LOG_WARN, "not verified: the device cannot upload");
	dfk__schedule_free(&s);
	free(flat);
	return code;
}

/* ---- DfuSe ---- */

/* One target of the firmware, planned against its alt's memory map. */
typedef struct target_plan {
	size_t index;
	const dfk_target *t;
	bool skip; /* its alt does not exist, and force says go on without it */
	dfk_image tmp;
	const dfk_image *img;
	dfk_plan plan;
} target_plan;

/* The image to write for a non-DfuSe file: a raw binary without an address
 * is placed at the job's address. */
static dfk_code place_image(const dfk_firmware *fw, const dfk_target *t, const dfk_job_opts *o, dfk_image *tmp,
			    const dfk_image **img, dfk_error *err)
{
	*img = &t->image;
	if (fw->format != DFK_FORMAT_RAW || fw->addressed)
		return DFK_OK;
	if (!o->has_address)
		return dfk_error_set(err, DFK_ERR_USAGE, "a raw binary for a DfuSe device needs a start address");
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

static void free_plans(target_plan *tp, size_t n)
{
	for (size_t i = 0; tp && i < n; i++) {
		dfk_plan_free(&tp[i].plan);
		dfk_image_free(&tp[i].tmp);
	}
	free(tp);
}

/* Plans one target: its image placed, its alt's memory map read (a string
 * read for another alt: no SET_INTERFACE yet). */
static dfk_code plan_target(dfk_dev *dev, const dfk_firmware *fw, const dfk_job_opts *o, target_plan *tp,
			    dfk_error *err)
{
	unsigned flags = (o->force ? DFK_PLAN_FORCE : 0) | (o->mass_erase ? DFK_PLAN_NO_ERASE : 0);
	const dfk_memmap *cur;
	dfk_memmap map;
	dfk_code code;

	code = place_image(fw, tp->t, o, &tp->tmp, &tp->img, err);
	if (code)
		return code;
	if (fw->format != DFK_FORMAT_DFUSE) {
		code = dfk_dev_memmap(dev, &cur, err);
		return code ? code : dfk_plan_build(tp->img, cur, flags, &tp->plan, err);
	}
	if (!dfk__dev_has_alt(dev, tp->t->alt)) {
		if (!o->force)
			return dfk_error_set(err, DFK_ERR_USAGE,
					     "the device has no alt setting %u on interface %u (force skips the "
					     "target)",
					     tp->t->alt, dfk_dev_if(dev)->intf);
		dfk_log(dfk_dev_ctx(dev), DFK_LOG_WARN,
			"target %zu skipped: the device has no alt setting %u on interface %u", tp->index, tp->t->alt,
			dfk_dev_if(dev)->intf);
		tp->skip = true;
		return DFK_OK;
	}
	memset(&map, 0, sizeof(map));
	code = dfk__dev_alt_memmap(dev, tp->t->alt, &map, err);
	if (code)
		return dfk_error_prefix(err, "memory map of alt setting %u", tp->t->alt);
	code = dfk_plan_build(tp->img, &map, flags, &tp->plan, err);
	dfk_memmap_free(&map);
	return code;
}

/* Every target is planned before anything is erased: a target that would be
 * refused (read-only or OTP memory, no segment, no such alt) must not leave
 * the targets before it half-written. */
static dfk_code plan_targets(dfk_dev *dev, const dfk_firmware *fw, const dfk_job_opts *o, target_plan **out, size_t *n,
			     dfk_error *err)
{
	target_plan *tp = calloc(fw->ntargets ? fw->ntargets : 1, sizeof(*tp));
	bool multi = fw->format == DFK_FORMAT_DFUSE && fw->ntargets > 1;
	dfk_code code = DFK_OK;
	size_t k = 0;

	if (!tp)
		return dfk_error_set(err, DFK_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < fw->ntargets && !code; i++) {
		if (fw->targets[i].image.count == 0)
			continue;
		tp[k].index = i;
		tp[k].t = &fw->targets[i];
		dfk_image_init(&tp[k].tmp);
		code = plan_target(dev, fw, o, &tp[k], err);
		k++;
		if (code && multi)
			dfk_error_prefix(err, "target %zu (alt %u), nothing written", i, fw->targets[i].alt);
	}
	if (code) {
		free_plans(tp, k);
		return code;
	}
	*out = tp;
	*n = k;
	return DFK_OK;
}

/* Skip-unchanged: the device's reads decide which pages are already right
 * (and, with a read-back to catch a wrong guess, which are erased already),
 * then the plan is edited (pure) into *edited; *used tells whether it was.
 * A comparison that fails to read falls back to the whole plan, and says so:
 * skipping is only ever an optimisation. */
static dfk_code drop_unchanged(dfk_dev *dev, const dfk_plan *plan, bool find_erased, dfk_plan *edited, bool *used,
			       dfk_error *err)
{
	const dfk_ctx *ctx = dfk_dev_ctx(dev);
	dfk_page_verdict *v = calloc(plan->nerase ? plan->nerase : 1, sizeof(*v));
	dfk_code code;

	*used = false;
	if (!v)
		return dfk_error_set(err, DFK_ERR_NOMEM, "out of memory");
	code = dfk__read_pages(dev, plan, find_erased, v, err);
	if (code == DFK_ERR_CANCELLED)
		code = dfk__cancelled(dev, err,
				      "cancelled while comparing the device's memory with the image: nothing erased or "
				      "written");
	if (code && code != DFK_ERR_CANCELLED && code != DFK_ERR_NODEV && code != DFK_ERR_NOMEM) {
		dfk_log(ctx, DFK_LOG_WARN,
			"cannot compare with the device's memory (%s): every page is erased and written", err->msg);
		dfk_error_clear(err);
		free(v);
		code = dfk_dfu_make_idle(dev, err);
		return code ? dfk_error_prefix(err, "after the failed comparison") : DFK_OK;
	}
	if (!code)
		code = dfk__plan_drop_pages(plan, v, edited, err);
	if (!code) {
		size_t same = 0, erased = 0;
		for (size_t p = 0; p < plan->nerase; p++) {
			same += v[p] == DFK_PAGE_SAME;
			erased += v[p] == DFK_PAGE_ERASED;
		}
		dfk_log(
		    ctx, DFK_LOG_INFO,
		    "skip-unchanged: %zu of %zu pages unchanged, not erased or written; %zu already erased, written "
		    "without erasing; %zu erased and written",
		    same, plan->nerase, erased, plan->nerase - same - erased);
		*used = true;
	}
	free(v);
	return code;
}

/* Partial pages: the device's copy of each page the image covers only partly
 * is read (when it can upload and the segment is readable), then the plan is
 * edited (pure) so those pages are written whole. bytes[] gets the copies,
 * which *edited borrows. */
static dfk_code preserve_pages(dfk_dev *dev, const dfk_plan *plan, const dfk_job_opts *o, uint8_t ***bytes_out,
			       dfk_plan *edited, bool *done, dfk_error *err)
{
	unsigned flags = (o->force ? DFK_PLAN_FORCE : 0) | (o->mass_erase ? DFK_PLAN_NO_ERASE : 0);
	uint8_t **bytes = calloc(plan->nerase ? plan->nerase : 1, sizeof(*bytes));
	const dfk_memmap *map;
	dfk_code code;
	size_t n = 0;

	*done = false;
	*bytes_out = bytes;
	if (!bytes)
		return dfk_error_set(err, DFK_ERR_NOMEM, "out of memory");
	code = dfk_dev_memmap(dev, &map, err);
	for (size_t p = 0; p < plan->nerase && !code; p++) {
		const dfk_plan_page *pg = &plan->erase[p];
		const dfk_mem_segment *seg = dfk_memmap_find(map, pg->addr);
		if (!pg->partial || !seg || !(seg->perms & DFK_MEM_READABLE))
			continue;
		bytes[p] = malloc(pg->size);
		if (!bytes[p])
			return dfk_error_set(err, DFK_ERR_NOMEM, "out of memory");
		code = dfk_dfuse_read(dev, pg->addr, bytes[p], pg->size, err);
		if (code == DFK_ERR_CANCELLED)
			return dfk__cancelled(dev, err,
					      "cancelled while reading page 0x%08X to preserve it: nothing "
					      "erased or written",
					      pg->addr);
		if (code)
			return dfk_error_prefix(err, "reading page 0x%08X to preserve what the image does not cover",
						pg->addr);
		/* A warning as when the page is erased whole: the image does not
		 * end on a page boundary, which the user may not expect. */
		dfk_log(dfk_dev_ctx(dev), DFK_LOG_WARN,
			"page 0x%08X is only partly covered by the image: the rest is read first and written back",
			pg->addr);
		n++;
	}
	if (code || n == 0)
		return code;
	code = dfk__plan_preserve(plan, map, flags, bytes, edited, err);
	*done = !code;
	return code;
}

static void free_bytes(uint8_t **bytes, size_t n)
{
	for (size_t i = 0; bytes && i < n; i++)
		free(bytes[i]);
	free(bytes);
}

/* A write to the option bytes of a device that resets once they are
 * written (the alt's memory map is named so, as on every STM32 ROM). */
static bool option_bytes_reset(dfk_dev *dev)
{
	const dfk_memmap *map = NULL;
	if (!(dfk__dev_quirks(dev)->flags & DFK_QUIRK_OPTION_BYTES_RESET))
		return false;
	return dfk_dev_memmap(dev, &map, NULL) == DFK_OK && map && strncmp(map->name, "Option Bytes", 12) == 0;
}

/* After an option-byte write the device resets: waits for it on the same
 * port, and reads what was written back through a new handle. */
static dfk_code confirm_option_bytes(dfk_dev *dev, const dfk_plan *plan, bool verify, bool *verified, dfk_error *err)
{
	const dfk_ctx *ctx = dfk_dev_ctx(dev);
	const dfk_dfu_if *ifc = dfk_dev_if(dev);
	char path[sizeof(ifc->dev->path)];
	dfk_found *found = NULL;
	dfk_dev *again = NULL;
	dfk_code code;

	*verified = false;
	snprintf(path, sizeof(path), "%s", ifc->dev->path);
	if (!verify) {
		dfk_log(ctx, DFK_LOG_WARN, "the device resets after an option-byte write: not verified");
		return DFK_OK;
	}
	dfk_log(ctx, DFK_LOG_INFO,
		"the device resets after an option-byte write; reading them back once it is back on %s", path);
	code = dfk_wait_for(ctx, ifc->transport, NULL, path, NULL, &found, err);
	if (code == DFK_ERR_CANCELLED)
		return code;
	/* dfk_wait_for keeps only the DFU-mode interfaces on path. */
	const dfk_dfu_if *alt = NULL;
	for (size_t i = 0; !code && i < dfk_found_count(found) && !alt; i++)
		if (dfk_found_get(found, i)->alt == ifc->alt)
			alt = dfk_found_get(found, i);
	if (code || !alt) {
		/* A boot configuration written may start the application. */
		dfk_log(ctx, DFK_LOG_WARN,
			"the device did not come back in DFU mode after its option-byte write (%s): not verified",
			code ? err->msg : "no such alt setting");
		dfk_error_clear(err);
		dfk_found_free(found);
		return DFK_OK;
	}
	code = dfk_dev_open(ctx, alt, &again, err);
	if (!code)
		code = dfk_dfu_make_idle(again, err); /* an STM32 ROM starts in dfuERROR without firmware */
	if (!code)
		code = dfk__verify_runs(again, plan, err);
	if (!code)
		code = dfk_dfu_make_idle(again, err);
	if (code == DFK_ERR_VERIFY)
		dfk_error_prefix(err, "the option bytes read back after the reset differ from the image (the device "
				      "did not take them, or corrected them)");
	else if (code)
		dfk_error_prefix(err, "reading the option bytes back after the reset");
	*verified = code == DFK_OK;
	dfk_dev_close(again);
	dfk_found_free(found);
	return code;
}

/* Erases, writes and verifies one planned target on the selected alt;
 * *reset: the device reset itself after it (option bytes). */
static dfk_code run_target(dfk_dev *dev, const dfk_plan *plan, const dfk_job_opts *o, bool *verified, bool *reset,
			   dfk_error *err)
{
	const dfk_ctx *ctx = dfk_dev_ctx(dev);
	bool can_upload = dfk__job_has_attr(dev, DFK_ATTR_CAN_UPLOAD);
	uint16_t xfer = dfk_dev_transfer_size(dev);
	/* The device computes (wBlockNum - 2) * its wTransferSize + pointer:
	 * with an override, each block is addressed explicitly. */
	bool auto_inc = xfer == dfk_dev_if(dev)->func.wTransferSize;
	dfk_plan edited, whole;
	uint8_t **bytes = NULL;
	size_t npages;
	bool preserved = false;
	dfk_schedule s;
	dfk_code code = DFK_OK;

	memset(&edited, 0, sizeof(edited));
	memset(&whole, 0, sizeof(whole));
	memset(&s, 0, sizeof(s));
	if (o->skip_unchanged && !o->mass_erase && can_upload) {
		/* Writing over what only reads as erased is safe only when the
		 * read-back will tell whether it took. */
		bool used;
		code = drop_unchanged(dev, plan, o->verify && !o->will_reset, &edited, &used, err);
		if (code)
			return code;
		if (used)
			plan = &edited;
	} else if (o->skip_unchanged && !o->mass_erase) {
		dfk_log(ctx, DFK_LOG_WARN,
			"the device cannot upload, so nothing can be compared: every page is erased and "
			"written");
	}
	npages = plan->nerase;
	if (o->preserve && can_upload && !o->mass_erase)
		code = preserve_pages(dev, plan, o, &bytes, &whole, &preserved, err);
	if (!code && preserved)
		plan = &whole;
	for (size_t p = 0; !code && p < plan->nerase; p++)
		if (plan->erase[p].partial)
			dfk_log(ctx, DFK_LOG_WARN,
				"page 0x%08X (%u bytes) is only partly covered by the image: all of it is erased",
				plan->erase[p].addr, plan->erase[p].size);
	/* The device resets once its option bytes are written: no read-back
	 * on this handle, but one when it is back. */
	*reset = !o->will_reset && option_bytes_reset(dev);
	if (!code)
		code = dfk__schedule_dfuse(plan, xfer, auto_inc, o->verify && can_upload && !o->will_reset && !*reset,
					   &s, err);
	if (!code)
		code = dfk__exec(dev, &s, o->will_reset || *reset, verified, err);
	if (!code && *reset)
		code = confirm_option_bytes(dev, plan, o->verify && can_upload, verified, err);
	if (!code && o->verify && !can_upload && !o->will_reset)
		dfk_log(ctx, DFK_LOG_WARN, "not verified: the device cannot upload");
	dfk__schedule_free(&s);
	dfk_plan_free(&whole);
	free_bytes(bytes, npages);
	dfk_plan_free(&edited);
	return code;
}

/* Where a DfuSe download starts, for its messages: the address of a raw
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

/* *verified: every target written was read back and matched; *reset:
 * the device reset itself (its handle is stale). */
static dfk_code run_targets(dfk_dev *dev, const dfk_firmware *fw, const dfk_job_opts *o, target_plan *tp, size_t n,
			    bool *verified, bool *reset, dfk_error *err)
{
	bool dfuse_file = fw->format == DFK_FORMAT_DFUSE;
	bool multi = dfuse_file && fw->ntargets > 1;
	dfk_code code = DFK_OK;
	size_t ran = 0;

	for (size_t k = 0; k < n && !code; k++) {
		if (tp[k].skip)
			continue;
		ran++;
		if (dfuse_file) {
			code = dfk_dev_select_alt(dev, tp[k].t->alt, err);
			if (code)
				return dfk_error_prefix(err, "target %zu", tp[k].index);
		}
		bool ok = false;
		code = run_target(dev, &tp[k].plan, o, &ok, reset, err);
		*verified = *verified && ok;
		if (code && multi)
			dfk_error_prefix(err, "target %zu (alt %u)", tp[k].index, tp[k].t->alt);
		if (o->will_reset || *reset)
			break; /* the device is resetting, or did */
	}
	if (ran == 0)
		*verified = false;
	return code;
}

static dfk_code dfuse_download(dfk_dev *dev, const dfk_firmware *fw, const dfk_job_opts *o, bool *verified,
			       dfk_error *err)
{
	target_plan *tp = NULL;
	size_t n = 0;
	bool resetting;
	char what[48];
	dfk_code code;

	snprintf(what, sizeof(what), "download to 0x%08X", first_address(fw, o));
	code = plan_targets(dev, fw, o, &tp, &n, err);
	if (code)
		return fw->format == DFK_FORMAT_DFUSE && fw->ntargets > 1 ? dfk_error_prefix(err, "%s", what) : code;
	code = dfk__job_dfuse_begin(dev, o, what, &resetting, err);
	if (!code && !resetting && o->mass_erase) {
		code = dfk__job_mass_erase(dev, err);
		if (code)
			dfk_error_prefix(err, "%s", what);
	}
	*verified = true;
	bool reset = false;
	if (!code && !resetting)
		code = run_targets(dev, fw, o, tp, n, verified, &reset, err);
	if (code || resetting)
		*verified = false;
	if (!code && reset && o->leave)
		dfk_log(dfk_dev_ctx(dev), DFK_LOG_INFO,
			"not leaving DFU mode: the device reset after its option bytes");
	if (!code && !resetting && !o->will_reset && !reset) {
		/* An explicit address wins; else the first element's address,
		 * where dfu-util 0.11 forgets it for .dfu files. */
		const dfk_image *first = NULL;
		for (size_t k = 0; k < n && !first; k++)
			if (!tp[k].skip && tp[k].img->count)
				first = tp[k].img;
		if (o->leave && o->has_address)
			code = dfk_job_leave(dev, true, o->address, err);
		else if (o->leave)
			code = dfk_job_leave(dev, first != NULL, first ? first->elements[0].addr : 0, err);
		else
			code = dfk__job_finish_idle(dev, what, err);
	}
	free_plans(tp, n);
	return code;
}

dfk_code dfk_job_download(dfk_dev *dev, const dfk_firmware *fw, const dfk_job_opts *opts, dfk_error *err)
{
	DFK_ERR_ENSURE(err);
	bool verified = false;
	dfk_job_opts copy;
	const dfk_job_opts *o = &copy;
	dfk_code code = dfk__job_opts_read(opts, &copy, err);

	if (!code && o->verified)
		*o->verified = false;
	if (!code)
		code = dfk__job_check_force(o, err);

	if (code)
		return code;
	if (!dfk__job_has_attr(dev, DFK_ATTR_CAN_DNLOAD))
		return dfk_error_set(err, DFK_ERR_UNSUPPORTED, "the device cannot download (bitCanDnload is 0)");
	code = dfk__job_check_xfer(dev, err);
	if (code)
		return code;
	if (dfk_firmware_bytes(fw) == 0)
		return dfk_error_set(err, DFK_ERR_DATA, "nothing to download: the file holds no data");
	if (fw->format == DFK_FORMAT_DFUSE && !dfk__job_use_dfuse(dev, o))
		return dfk_error_set(
		    err, DFK_ERR_UNSUPPORTED,
		    "a DfuSe .dfu file needs a DfuSe device (bcdDFUVersion 0x011A); it is never sent raw");
	if (dfk__job_use_dfuse(dev, o)) {
		code = dfuse_download(dev, fw, o, &verified, err);
		goto out;
	}
	if (fw->format != DFK_FORMAT_RAW || fw->addressed)
		return dfk_error_set(err, DFK_ERR_UNSUPPORTED,
				     "a plain DFU device takes no addresses: only a raw binary can be downloaded "
				     "without DfuSe");
	if (o->mass_erase || o->unprotect || o->leave)
		return dfk_error_set(err, DFK_ERR_USAGE, "mass erase, read unprotect and leave need a DfuSe device");
	if (fw->ntargets != 1)
		return dfk_error_set(err, DFK_ERR_DATA, "a raw file must hold exactly one image, not %zu",
				     fw->ntargets);
	code = plain_download(dev, &fw->targets[0].image, o, &verified, err);
out:
	if (o->verified)
		*o->verified = code == DFK_OK && verified;
	return code;
}
