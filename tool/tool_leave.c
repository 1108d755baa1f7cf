/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit: what happened after a DfuSe leave, as seen on the bus.
 *
 * The leave request only says that the device accepted it. Whether the new
 * firmware runs shows afterwards: the same device (port path and serial)
 * back in DFU mode means the ROM did not start it (it resets into itself
 * when the start address holds no valid vector table); a run-time DFU
 * interface on the same port means it runs; anything else is reported as
 * exactly what was seen. */
#include <string.h>

#include "tool.h"

#define WATCH_POLL_MS 100

typedef struct seen {
	bool runtime;	/* a run-time DFU interface on the port */
	bool dfu_same;	/* the device in DFU mode, not yet re-enumerated */
	bool dfu_again; /* the device in DFU mode at a new address */
} seen;

static dfk_code look(const dfk_ctx *ctx, dfk_transport *t, const char *path, const char *serial, unsigned devnum,
		     seen *s)
{
	dfk_found *found = NULL;
	dfk_error e;
	memset(s, 0, sizeof(*s));
	dfk_error_clear(&e);
	dfk_code rc = dfk_find(ctx, t, NULL, &found, &e);
	if (rc)
		return rc == DFK_ERR_CANCELLED ? rc : DFK_OK; /* a failed look sees nothing */
	for (size_t i = 0; i < dfk_found_count(found); i++) {
		const dfk_dfu_if *f = dfk_found_get(found, i);
		if (strcmp(f->dev->path, path) != 0)
			continue;
		if (!f->dfu_mode)
			s->runtime = true; /* an application's serial may differ */
		else if (serial[0] && strcmp(f->serial, serial) != 0)
			continue;
		else if (f->dev->devnum != devnum)
			s->dfu_again = true;
		else
			s->dfu_same = true;
	}
	dfk_found_free(found);
	return DFK_OK;
}

static dfk_code back_in_dfu(dfk_error *err, bool has_start, uint32_t start, bool never_left)
{
	char where[48] = "the start address";
	if (has_start)
		snprintf(where, sizeof(where), "the start address 0x%08X", start);
	return dfk_error_set(err, DFK_ERR_PROTOCOL,
			     "%s: the firmware did not start: check that %s (-s ADDR:leave) holds the "
			     "image's vector table (initial stack pointer in RAM, then the reset handler)",
			     never_left ? "the device is still in DFU mode after leave"
					: "the device came back in DFU "
					  "mode after leave",
			     where);
}

dfk_code tool_leave_watch(tool_ui *ui, const dfk_ctx *ctx, dfk_transport *t, const char *path, const char *serial,
			  unsigned devnum, long seconds, bool has_start, uint32_t start, dfk_error *err)
{
	char p[64];
	tool_sanitize(path, p, sizeof(p));
	if (seconds <= 0) {
		tool_ui_info(ui, "Leave request accepted (the device was not watched afterwards)");
		return DFK_OK;
	}
	tool_ui_info(ui, "Leave request accepted; watching path \"%s\" for up to %ld s", p, seconds);
	/* The context's clock, which dfk_ctx_sleep below also sleeps on. */
	const dfk_clock *clock = dfk_ctx_clock(ctx);
	uint64_t t0 = clock->now_ms(clock->user), deadline = t0 + (uint64_t)seconds * 1000u;
	bool gone = false;
	for (;;) {
		seen s;
		dfk_code rc = look(ctx, t, path, serial, devnum, &s);
		if (rc)
			return dfk_error_set(err, rc, "interrupted while watching the device after leave");
		uint64_t now = clock->now_ms(clock->user);
		if (s.runtime) {
			tool_ui_info(ui,
				     "Left DFU mode: the device runs the new firmware (its run-time interface appeared "
				     "on path \"%s\" after %.1f s)",
				     p, (double)(now - t0) / 1000.0);
			return DFK_OK;
		}
		if (s.dfu_again || (gone && s.dfu_same))
			return back_in_dfu(err, has_start, start, false);
		if (!s.dfu_same)
			gone = true;
		if (now >= deadline)
			break;
		rc = dfk_ctx_sleep(ctx, WATCH_POLL_MS);
		if (rc)
			return dfk_error_set(err, rc, "interrupted while watching the device after leave");
	}
	if (!gone)
		return back_in_dfu(err, has_start, start, true);
	tool_ui_info(ui, "Left DFU mode: the device left the bus and did not come back within %ld s", seconds);
	return DFK_OK;
}
