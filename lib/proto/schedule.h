/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* What a download does, as data (as Rust dfu-core's Steps): the pages to
 * erase, where SET_ADDRESS goes, each block with its wBlockNum, and what to
 * read back. Pure: built from a plan and the transfer size, no I/O; the
 * engine's executor (engine/exec.c) is the one loop that sends it. */
#ifndef DFUKIT_PROTO_SCHEDULE_H
#define DFUKIT_PROTO_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dfukit/dfu.h"

typedef enum dfk_step_op {
	DFK_STEP_ERASE,	      /* DfuSe: erase the page at addr (len: its size) */
	DFK_STEP_SET_ADDRESS, /* DfuSe: address pointer = addr */
	DFK_STEP_DNLOAD,      /* DNLOAD wBlockNum block: len bytes of data, landing at addr */
	DFK_STEP_END,	      /* plain DFU: zero-length DNLOAD wBlockNum block, then manifestation */
	DFK_STEP_VERIFY,      /* read [addr, addr + len) back and compare with data */
} dfk_step_op;

typedef struct dfk_step {
	dfk_step_op op;
	uint16_t block;
	bool last;     /* DNLOAD: the last data block of the download */
	uint32_t addr; /* plain DFU: offset in the payload */
	uint32_t len;
	const uint8_t *data; /* borrowed from the plan or the payload */
} dfk_step;

typedef struct dfk_schedule {
	dfk_step *steps;
	size_t count, cap;
	bool dfuse;
	/* Totals of each phase, in bytes, for progress. */
	uint64_t erase_bytes, write_bytes, verify_bytes;
} dfk_schedule;

/* The one DfuSe addressing rule. After SET_ADDRESS p the device writes or
 * reads block b (b >= 2) at p + (b - 2) * its wTransferSize, so a new
 * SET_ADDRESS (and block 2) is needed before the block that would be
 * numbered `block` when: the number passes 16 bits, the transfer size in
 * use is not the device's own (!auto_inc), or the block is short (ST
 * documents the multiplier as the length of the requested buffer). */
bool dfk__dfuse_needs_address(uint32_t block, uint32_t len, uint16_t xfer, bool auto_inc);

/* A DfuSe download of plan: its pages erased, its runs written, and read
 * back when verify. */
dfk_code dfk__schedule_dfuse(const dfk_plan *plan, uint16_t xfer, bool auto_inc, bool verify, dfk_schedule *s,
			     dfk_error *err);
/* A plain DFU download of len bytes: blocks 0, 1, ... (wrapping at 16
 * bits), the zero-length end, and the read-back when verify. */
dfk_code dfk__schedule_plain(const uint8_t *data, uint64_t len, uint16_t xfer, bool verify, dfk_schedule *s,
			     dfk_error *err);
void dfk__schedule_free(dfk_schedule *s);

/* What skip-unchanged found a page of a plan to hold. */
typedef enum dfk_page_verdict {
	DFK_PAGE_WRITE = 0,  /* other bytes: erased and written */
	DFK_PAGE_SAME = 1,   /* the image's bytes already: neither */
	DFK_PAGE_ERASED = 2, /* all of it erased: written without erasing */
} dfk_page_verdict;

/* Skip-unchanged's edit of a plan: out gets plan with v[i] applied to
 * plan->erase[i]: SAME pages are not erased and the runs skip their bytes,
 * ERASED pages keep their bytes but are not erased. out's runs borrow
 * plan's bytes: free out (with dfk_plan_free) before plan. */
dfk_code dfk__plan_drop_pages(const dfk_plan *plan, const dfk_page_verdict *v, dfk_plan *out, dfk_error *err);

/* Partial-page preservation's edit of a plan: bytes[p] (NULL: not
 * preserved) holds the device's copy of page plan->erase[p], read before;
 * the image's bytes are merged into it and out is planned again (with map
 * and flags) so that those pages are written whole; they are marked
 * preserved. out's runs may borrow from bytes and from plan. */
dfk_code dfk__plan_preserve(const dfk_plan *plan, const dfk_memmap *map, unsigned flags, uint8_t *const *bytes,
			    dfk_plan *out, dfk_error *err);

#endif
