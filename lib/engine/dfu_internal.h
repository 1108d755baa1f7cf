/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* Engine internals shared by dfu.c, dfuse.c and job.c (not public API). */
#ifndef DFUKIT_DFU_INTERNAL_H
#define DFUKIT_DFU_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "ctx_internal.h"
#include "dfukit/dfu.h"
#include "quirks.h"

/* What dfk_find returns. */
struct dfk_found {
	dfk_transport *transport;
	dfk_usb_list usb;
	dfk_dfu_if *ifs; /* in descriptor order; ifs[i].dev points into usb */
	size_t count;
};

/* Retries of a GETSTATUS that the device stalled while busy (STM32L4 ROMs
 * stall polls that come too early for their own bwPollTimeout). */
#define DFK_STALL_RETRIES 3
/* Sleep before retrying a stalled poll when the device gave no timeout. */
#define DFK_STALL_SLEEP_MS 10
/* Busy answers with a 0 ms poll timeout in a row: after the first
 * DFK_ZERO_POLL_FAST the poll interval backs off (so that a busy loop sends
 * a bounded number of requests, not one a millisecond), and after
 * DFK_MAX_ZERO_POLLS the device is taken as wedged. */
#define DFK_ZERO_POLL_FAST 100
#define DFK_MAX_ZERO_POLLS 1000
/* The H7 busy tail: CLRSTATUS once the device stayed in dfuDNBUSY this much
 * longer than the poll timeout it asked for (and twice that at least). */
#define DFK_BUSY_TAIL_GRACE_MS 1000
/* Interval between enumerations while waiting for a device to come back. */
#define DFK_REENUM_POLL_MS 20

/* Public entry points accept err == NULL; inside, messages are always built
 * (dfk_error_prefix needs somewhere to put them). */
#define DFK_ERR_ENSURE(err)                                                                                            \
	dfk_error dfk__err_local;                                                                                      \
	if (!(err))                                                                                                    \
	(err) = &dfk__err_local

/* A SET_INTERFACE that failed in dfk_dev_open for a transfer reason
 * (stall, timeout, gone) does not fail the open: it is returned here, to
 * the first request or job, which gives it its context. A stall is retried
 * once. DFK_OK when the alt is selected. */
dfk_code dfk__dev_ready(dfk_dev *dev, dfk_error *err);
/* The memory map of another alt setting of the open interface, read from
 * its name without selecting it (for checking a multi-target plan first). */
dfk_code dfk__dev_alt_memmap(dfk_dev *dev, uint8_t alt, dfk_memmap *map, dfk_error *err);
/* True when the open interface has DFU alt setting alt. */
bool dfk__dev_has_alt(const dfk_dev *dev, uint8_t alt);

/* Cancel: true when the context asks to stop and the device is not being
 * brought back to a defined state (settling) already. */
bool dfk__dev_cancelled(const dfk_dev *dev);
void dfk__dev_settling(dfk_dev *dev, bool on);
/* Sleeps ms; DFK_ERR_CANCELLED early on a cancel request (not while
 * settling). */
dfk_code dfk__dev_sleep(dfk_dev *dev, uint32_t ms);
/* Counts the control transfers sent (dfu.c), so the executor can tell
 * whether a step reached the device before a cancel. */
void dfk__dev_count_request(dfk_dev *dev);
uint64_t dfk__dev_requests(const dfk_dev *dev);
/* USB reset of the open device; a device that drops off the bus during it
 * is DFK_ERR_NODEV (often expected: the caller decides). */
dfk_code dfk__dev_reset(dfk_dev *dev, dfk_error *err);
/* After a cancel: lets a busy step finish (polling, bounded by
 * ctx->op_timeout_ms), then ABORT/CLRSTATUS to dfuIDLE. */
dfk_code dfk__dev_settle(dfk_dev *dev, dfk_error *err);

/* The device's quirks (dfk_quirks_lookup by its IDs, at open). */
const dfk_quirks *dfk__dev_quirks(const dfk_dev *dev);
/* The USB timeout for class request req: the context's, or the quirk's long
 * one for a DNLOAD and the GETSTATUS after it on a device that erases
 * inside the transfer (never longer than the operation timeout). */
unsigned dfk__dev_request_timeout(dfk_dev *dev, uint8_t req);

/* True for the errors of a device that went away (or is resetting). */
bool dfk__gone(dfk_code code);

/* A progress report on every busy poll of a long step (a mass erase), so
 * that a program can show that time passes: done is the milliseconds spent,
 * total what the step is expected to take (or done, when it takes longer). */
typedef struct dfk__beat {
	dfk_phase phase;
	uint32_t addr;
	uint64_t expect_ms;
	bool mass_erase; /* a mass erase: may take the quirk's mass_erase_ms */
} dfk__beat;
/* dfk_dfu_wait, with beat (may be NULL) reported on each busy poll. */
dfk_code dfk__dfu_wait_beat(dfk_dev *dev, dfk_status *st, const dfk__beat *beat, dfk_error *err);

/* A DfuSe command (DNLOAD wValue 0) executed by the GETSTATUS polls after it;
 * the device must end in dfuDNLOAD-IDLE (or dfuIDLE). */
dfk_code dfk__dfuse_command(dfk_dev *dev, const uint8_t *cmd, uint16_t len, dfk_error *err);
dfk_code dfk__dfuse_command_beat(dfk_dev *dev, const uint8_t *cmd, uint16_t len, const dfk__beat *beat, dfk_error *err);

/* Receives each block read by dfk__dfuse_read_cb (and reports progress);
 * non-zero stops the read with that code. */
typedef dfk_code (*dfk__read_sink)(void *user, uint32_t addr, const uint8_t *data, size_t len, dfk_error *err);
/* Reads len bytes from addr: SET_ADDRESS, ABORT, one UPLOAD per block
 * (wBlockNum 2, 3, ...), ABORT. A short block ends the read early when
 * allow_short (else it is an error); *got receives the byte count. */
dfk_code dfk__dfuse_read_cb(dfk_dev *dev, uint32_t addr, uint64_t len, bool allow_short, dfk__read_sink sink,
			    void *user, uint64_t *got, dfk_error *err);

#endif
