/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit capture --time-page ADDR: the only writes capture ever makes, and
 * only when asked. The DfuSe page at ADDR is read, erased (timed, with the
 * bwPollTimeout the device reports for it), programmed back with what it
 * held (timed) and read again: it must hold its old bytes, or the capture
 * fails and says so. The times become the description's "timing". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "tool_capture.h"

static uint64_t now(const dfk_ctx *ctx)
{
	const dfk_clock *k = dfk_ctx_clock(ctx);
	return k->now_ms(k->user);
}

/* The DfuSe alt setting of the captured device whose advertised map holds
 * addr. */
static const dfk_dfu_if *alt_for(const dfk_found *found, const dfk_dfu_if *pick, uint32_t addr, dfk_error *err)
{
	for (size_t i = 0; i < dfk_found_count(found); i++) {
		const dfk_dfu_if *f = dfk_found_get(found, i);
		dfk_memmap map;
		dfk_error perr;
		if (f->dev != pick->dev || !f->dfu_mode || !f->dfuse || dfk_memmap_parse(f->name, &map, &perr))
			continue;
		bool has = dfk_memmap_find(&map, addr) != NULL;
		dfk_memmap_free(&map);
		if (has)
			return f;
	}
	dfk_error_set(err, DFK_ERR_USAGE,
		      "--time-page 0x%08X: no alt setting of the device in DFU mode (DfuSe) has that address in "
		      "its memory map",
		      addr);
	return NULL;
}

/* Erase of the page at start: its wall time and the bwPollTimeout the
 * device asked for first. */
static dfk_code time_erase(dfk_dev *dev, uint32_t start, uint64_t *ms, uint32_t *asked, dfk_error *err)
{
	const dfk_ctx *ctx = dfk_dev_ctx(dev);
	uint8_t cmd[5] = {DFK_DFUSE_ERASE, (uint8_t)start, (uint8_t)(start >> 8), (uint8_t)(start >> 16),
			  (uint8_t)(start >> 24)};
	dfk_status st = {0};
	uint64_t t0 = now(ctx);
	dfk_code rc = dfk_dfu_dnload(dev, 0, cmd, sizeof(cmd), err);
	if (!rc)
		rc = dfk_dfu_get_status(dev, &st, err);
	*asked = st.poll_timeout_ms;
	if (!rc && st.status == DFK_STATUS_OK && st.state == DFK_STATE_DNBUSY) {
		/* Not asked again before the time it asked for (DFU 1.1 devices stall an early poll). */
		if (dfk_ctx_sleep(ctx, st.poll_timeout_ms))
			rc = dfk_error_set(err, DFK_ERR_CANCELLED, "cancelled");
		if (!rc)
			rc = dfk_dfu_wait(dev, &st, err);
	}
	*ms = now(ctx) - t0;
	if (!rc && st.status != DFK_STATUS_OK)
		rc = dfk_error_set(err, DFK_ERR_PROTOCOL, "device status %s in %s", dfk_status_name(st.status),
				   dfk_state_name(st.state));
	return rc ? dfk_error_prefix(err, "erasing the page at 0x%08X", start) : DFK_OK;
}

/* Writes buf back at start, block by block, timing the whole. */
static dfk_code time_program(dfk_dev *dev, uint32_t start, const uint8_t *buf, uint32_t len, uint64_t *ms,
			     dfk_error *err)
{
	const dfk_ctx *ctx = dfk_dev_ctx(dev);
	uint16_t xfer = dfk_dev_transfer_size(dev);
	dfk_status st = {0};
	dfk_code rc = dfk_dfuse_set_address(dev, start, err);
	uint64_t t0 = now(ctx);
	for (uint32_t off = 0, block = 2; !rc && off < len; off += xfer, block++) {
		uint16_t n = len - off < xfer ? (uint16_t)(len - off) : xfer;
		rc = dfk_dfu_dnload(dev, (uint16_t)block, buf + off, n, err);
		if (!rc)
			rc = dfk_dfu_wait(dev, &st, err);
		if (!rc && st.status != DFK_STATUS_OK)
			rc = dfk_error_set(err, DFK_ERR_PROTOCOL, "device status %s in %s", dfk_status_name(st.status),
					   dfk_state_name(st.state));
	}
	*ms = now(ctx) - t0;
	if (!rc)
		rc = dfk_dfu_abort(dev, err);
	return rc ? dfk_error_prefix(err, "writing the page at 0x%08X back", start) : DFK_OK;
}

static json_object *timing_object(uint32_t page, uint64_t erase_ms, uint32_t asked, uint64_t prog_ms)
{
	json_object *t = json_object_new_object(), *sizes = json_object_new_array(), *e = json_object_new_object();
	json_object_object_add(e, "page_size", json_object_new_int64(page));
	json_object_object_add(e, "ms", json_object_new_int64((int64_t)erase_ms));
	json_object_array_add(sizes, e);
	json_object_object_add(t, "erase_page_ms", sizes);
	/* The wall time includes the USB requests: an upper bound. */
	json_object_object_add(t, "program_ns_per_byte", json_object_new_int64((int64_t)(prog_ms * 1000000u / page)));
	/* The wall time has the requests' own time in it: within 10 % the
	 * device says the truth (a double reporting 99 % would be polled early). */
	uint64_t pct = erase_ms ? (uint64_t)asked * 100u / erase_ms : 100u;
	if (pct >= 90)
		pct = 100;
	json_object_object_add(t, "poll_timeout_percent", json_object_new_int64((int64_t)(pct > 1000 ? 1000 : pct)));
	return t;
}

dfk_code tool_capture_time_page(const dfk_ctx *ctx, const dfk_found *found, const dfk_dfu_if *pick, uint32_t addr,
				json_object *doc, char *note, size_t notesz, dfk_error *err)
{
	const dfk_dfu_if *ifc = alt_for(found, pick, addr, err);
	if (!ifc)
		return err->code;
	dfk_dev *dev = NULL;
	const dfk_memmap *map = NULL;
	const dfk_mem_segment *seg = NULL;
	uint8_t *old = NULL, *again = NULL;
	dfk_code rc = dfk_dev_open(ctx, ifc, &dev, err);
	if (!rc)
		rc = dfk_dev_memmap(dev, &map, err); /* the real layout (quirks applied) */
	if (!rc) {
		seg = dfk_memmap_find(map, addr);
		uint8_t need = DFK_MEM_READABLE | DFK_MEM_ERASABLE | DFK_MEM_WRITEABLE;
		if (!seg || (seg->perms & need) != need)
			rc = dfk_error_set(err, DFK_ERR_USAGE,
					   "--time-page 0x%08X: the page is not readable, erasable and writable "
					   "(alt setting %u)",
					   addr, ifc->alt);
		else if (seg->page_size == 0 || seg->page_size > (16u << 20))
			rc = dfk_error_set(err, DFK_ERR_DATA, "--time-page 0x%08X: page size %u", addr, seg->page_size);
	}
	uint32_t start = 0, page = 0;
	if (!rc) {
		start = dfk_mem_page_start(seg, addr);
		page = seg->page_size;
		old = malloc(page);
		again = malloc(page);
		if (!old || !again)
			rc = dfk_error_set(err, DFK_ERR_NOMEM, "out of memory for a page of %u bytes", page);
	}
	if (!rc) {
		fprintf(stderr,
			"%s capture: --time-page: erasing the %u-byte page at 0x%08X (alt setting %u) and "
			"writing it back\n",
			tool_progname(), page, start, ifc->alt);
		rc = dfk_dfu_make_idle(dev, err);
	}
	if (!rc)
		rc = dfk_dfuse_read(dev, start, old, page, err);
	uint64_t erase_ms = 0, prog_ms = 0;
	uint32_t asked = 0;
	bool erased = false;
	if (!rc) {
		rc = time_erase(dev, start, &erase_ms, &asked, err);
		erased = true; /* maybe partly: from here on the page must be restored */
	}
	if (!rc)
		rc = time_program(dev, start, old, page, &prog_ms, err);
	if (!rc)
		rc = dfk_dfuse_read(dev, start, again, page, err);
	if (!rc && memcmp(old, again, page) != 0)
		rc = dfk_error_set(err, DFK_ERR_VERIFY,
				   "the page at 0x%08X does not hold its old contents after the measurement", start);
	if (rc && erased)
		dfk_error_prefix(err,
				 "--time-page: the page at 0x%08X (%u bytes) was erased and may have lost its "
				 "contents",
				 start, page);
	if (!rc) {
		json_object_object_add(doc, "timing", timing_object(page, erase_ms, asked, prog_ms));
		snprintf(note, notesz,
			 "timing measured on the %u-byte page at 0x%08X (erase %llu ms, bwPollTimeout %u ms; "
			 "programming as wall time of the requests); other page sizes not measured",
			 page, start, (unsigned long long)erase_ms, asked);
	}
	free(old);
	free(again);
	dfk_dev_close(dev);
	return rc;
}
