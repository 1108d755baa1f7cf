/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* The executor: the one loop that sends a download schedule to a device,
 * and the device reads the jobs build on (not public API). */
#ifndef DFUKIT_ENGINE_EXEC_H
#define DFUKIT_ENGINE_EXEC_H

#include <stdbool.h>
#include <stdint.h>

#include "dfu_internal.h"
#include "schedule.h"

/* Runs s on dev, which is in dfuIDLE. will_reset: the device resets once it
 * has the last block (option bytes), so that block's status is all there
 * is. A plain DFU verify step is skipped (with a warning) when the device
 * did not return to dfuIDLE after manifestation. On a cancel the device is
 * brought to dfuIDLE where the protocol allows, and the message says what
 * the memory holds (DFK_ERR_CANCELLED). *verified (may be NULL) is set on
 * success: true only when s had read-back steps and every one of them ran
 * and matched. */
dfk_code dfk__exec(dfk_dev *dev, const dfk_schedule *s, bool will_reset, bool *verified, dfk_error *err);

/* After a request returned DFK_ERR_CANCELLED: settles the device
 * (dfk__dev_settle) and sets err to DFK_ERR_CANCELLED with the formatted
 * message, plus the device's state when it could not be settled. */
dfk_code dfk__cancelled(dfk_dev *dev, dfk_error *err, const char *fmt, ...) DFK_PRINTF(3, 4);

/* Plain DFU: reads blocks 0, 1, ... until a short block or limit bytes,
 * passing them to sink with offsets as addresses; the device is in dfuIDLE
 * afterwards. *total gets the count. */
dfk_code dfk__plain_read(dfk_dev *dev, const char *what, uint64_t limit, dfk__read_sink sink, void *user,
			 uint64_t *total, dfk_error *err);

/* Reads back every run of plan and compares it (DFK_ERR_VERIFY at the
 * first difference): a verification on a handle of its own. */
dfk_code dfk__verify_runs(dfk_dev *dev, const dfk_plan *plan, dfk_error *err);

/* Skip-unchanged's device side: reads what plan's runs cover, page by
 * page, and gives each page of plan->erase its verdict: SAME when its
 * covered bytes already match; with find_erased, ERASED when the image
 * covers all of it and it reads as erased (0xFF); WRITE otherwise. The
 * plan editing is dfk__plan_drop_pages (pure). */
dfk_code dfk__read_pages(dfk_dev *dev, const dfk_plan *plan, bool find_erased, dfk_page_verdict *v, dfk_error *err);

#endif
