/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* What the jobs (one per file in lib/jobs) share; not public API. */
#ifndef DFUKIT_JOBS_JOB_INTERNAL_H
#define DFUKIT_JOBS_JOB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dfu_internal.h"
#include "dfukit/dfu.h"
#include "exec.h"

bool dfk__job_has_attr(const dfk_dev *dev, uint8_t attr);
/* DfuSe for a DfuSe device, or when the options ask for it. */
/* The caller's options (NULL: the defaults) read into *out, which the
 * job then uses: DFK_ERR_USAGE when they were not initialised. */
dfk_code dfk__job_opts_read(const dfk_job_opts *in, dfk_job_opts *out, dfk_error *err);
bool dfk__job_use_dfuse(const dfk_dev *dev, const dfk_job_opts *o);
/* A transfer size of 0 (wTransferSize 0 and no override) is refused. */
dfk_code dfk__job_check_xfer(const dfk_dev *dev, dfk_error *err);
/* Mass erase and read unprotect need force. */
dfk_code dfk__job_check_force(const dfk_job_opts *o, dfk_error *err);
/* The job's first step: the device in dfuIDLE; failures are put in the
 * job's context, what. A cancel settles the device and says nothing was
 * done yet. */
dfk_code dfk__job_prepare(dfk_dev *dev, const char *what, dfk_error *err);
/* Every DfuSe job starts in dfuIDLE; with unprotect it also ends there, as
 * read unprotect erases the flash and resets the device (*resetting). */
dfk_code dfk__job_dfuse_begin(dfk_dev *dev, const dfk_job_opts *o, const char *what, bool *resetting, dfk_error *err);
/* The last step of a DfuSe job that does not leave: ABORT to dfuIDLE,
 * checked with GETSTATUS. */
dfk_code dfk__job_finish_idle(dfk_dev *dev, const char *what, dfk_error *err);
/* Mass erase with its progress (phase erase): 0 of 1 at the start, then
 * on each busy poll the milliseconds spent of those expected, 1 of 1 at
 * the end. */
dfk_code dfk__job_mass_erase(dfk_dev *dev, dfk_error *err);
/* wDetachTimeOut, or 1000 ms when the descriptor gives none. */
uint16_t dfk__job_detach_timeout(const dfk_dev *dev);
/* "to 0x08003000" or "at the current address pointer", for messages. */
void dfk__job_leave_where(bool has_address, uint32_t address, char *buf, size_t size);

#endif
