/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* Download schedules: the steps of a DFU or DfuSe download as data. */
#include "schedule.h"

#include <stdlib.h>
#include <string.h>

#include "dynbuf.h"

/* No real download comes near this; a hostile plan must not eat memory. */
#define MAX_STEPS ((size_t)1 << 26)

bool dfk__dfuse_needs_address(uint32_t block, uint32_t len, uint16_t xfer, bool auto_inc)
{
	return block > 2 && (block > 0xFFFF || !auto_inc || len < xfer);
}

static dfk_code push(dfk_schedule *s, dfk_step st, dfk_error *err)
{
	void *p = s->steps;
	dfk_code code = dfk_grow(&p, &s->cap, s->count + 1, sizeof(dfk_step), MAX_STEPS, "schedule", err);

	s->steps = p;
	if (code)
		return code;
	s->steps[s->count++] = st;
	return DFK_OK;
}

void dfk__schedule_free(dfk_schedule *s)
{
	if (!s)
		return;
	free(s->steps);
	memset(s, 0, sizeof(*s));
}

static dfk_code write_run(dfk_schedule *s, const dfk_plan_run *r, bool last_run, uint16_t xfer, bool auto_inc,
			  dfk_error *err)
{
	uint32_t block = 2;
	uint64_t off = 0;
	dfk_code code = push(s, (dfk_step){DFK_STEP_SET_ADDRESS, 0, false, r->addr, 0, NULL}, err);

	while (!code && off < r->len) {
		uint32_t n = r->len - off < xfer ? (uint32_t)(r->len - off) : xfer;
		uint32_t at = r->addr + (uint32_t)off;

		if (dfk__dfuse_needs_address(block, n, xfer, auto_inc)) {
			code = push(s, (dfk_step){DFK_STEP_SET_ADDRESS, 0, false, at, 0, NULL}, err);
			if (code)
				break;
			block = 2;
		}
		code = push(
		    s,
		    (dfk_step){DFK_STEP_DNLOAD, (uint16_t)block, last_run && off + n == r->len, at, n, r->data + off},
		    err);
		off += n;
		block++;
	}
	s->write_bytes += r->len;
	return code;
}

dfk_code dfk__schedule_dfuse(const dfk_plan *plan, uint16_t xfer, bool auto_inc, bool verify, dfk_schedule *s,
			     dfk_error *err)
{
	dfk_code code = DFK_OK;

	memset(s, 0, sizeof(*s));
	s->dfuse = true;
	if (xfer == 0)
		return dfk_error_set(err, DFK_ERR_USAGE, "the transfer size is 0");
	for (size_t p = 0; p < plan->nerase && !code; p++) {
		code =
		    push(s, (dfk_step){DFK_STEP_ERASE, 0, false, plan->erase[p].addr, plan->erase[p].size, NULL}, err);
		s->erase_bytes += plan->erase[p].size;
	}
	for (size_t r = 0; r < plan->nruns && !code; r++)
		code = write_run(s, &plan->runs[r], r + 1 == plan->nruns, xfer, auto_inc, err);
	for (size_t r = 0; verify && r < plan->nruns && !code; r++) {
		const dfk_plan_run *run = &plan->runs[r];
		code = push(s, (dfk_step){DFK_STEP_VERIFY, 0, false, run->addr, run->len, run->data}, err);
		s->verify_bytes += run->len;
	}
	if (code)
		dfk__schedule_free(s);
	return code;
}

dfk_code dfk__schedule_plain(const uint8_t *data, uint64_t len, uint16_t xfer, bool verify, dfk_schedule *s,
			     dfk_error *err)
{
	uint16_t block = 0;
	uint64_t off = 0;
	dfk_code code = DFK_OK;

	memset(s, 0, sizeof(*s));
	if (xfer == 0)
		return dfk_error_set(err, DFK_ERR_USAGE, "the transfer size is 0");
	if (len > UINT32_MAX)
		return dfk_error_set(err, DFK_ERR_DATA, "a plain DFU download of %llu bytes passes 4 GiB",
				     (unsigned long long)len);
	while (!code && off < len) {
		uint32_t n = len - off < xfer ? (uint32_t)(len - off) : xfer;
		code = push(s, (dfk_step){DFK_STEP_DNLOAD, block, off + n == len, (uint32_t)off, n, data + off}, err);
		off += n;
		block++; /* wraps at 16 bits, as the request field does */
	}
	if (!code)
		code = push(s, (dfk_step){DFK_STEP_END, block, false, (uint32_t)len, 0, NULL}, err);
	if (!code && verify)
		code = push(s, (dfk_step){DFK_STEP_VERIFY, 0, false, 0, (uint32_t)len, data}, err);
	s->write_bytes = len;
	s->verify_bytes = verify ? len : 0;
	if (code)
		dfk__schedule_free(s);
	return code;
}
