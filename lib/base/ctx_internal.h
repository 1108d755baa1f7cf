/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* The library context's fields (private: programs see an opaque dfk_ctx
 * and use the dfk_ctx_* accessors). Read directly by every layer. */
#ifndef DFUKIT_CTX_INTERNAL_H
#define DFUKIT_CTX_INTERNAL_H

#include <stdatomic.h>

#include "dfukit/device.h"

struct dfk_ctx {
	dfk_clock clock;	    /* both functions set (dfk_ctx_set_clock checks) */
	unsigned usb_timeout_ms;    /* DFK_TIMEOUT_USB */
	unsigned poll_cap_ms;	    /* DFK_TIMEOUT_POLL_CAP */
	unsigned op_timeout_ms;	    /* DFK_TIMEOUT_OPERATION */
	unsigned reenum_timeout_ms; /* DFK_TIMEOUT_REENUM */
	unsigned max_error_retries;
	dfk_log_fn log;
	void *log_user;
	dfk_progress_fn progress;
	void *progress_user;
	dfk_trace_fn trace;
	void *trace_user;
	/* Set by dfk_ctx_cancel() from any thread or a signal handler. */
	_Atomic int cancel_requested;
};

/* The time on ctx's clock (ms). */
uint64_t dfk__now(const dfk_ctx *ctx);
/* Sleeps ms on ctx's clock, whatever cancel requests say. */
void dfk__sleep(const dfk_ctx *ctx, uint32_t ms);
/* Reports progress to ctx's callback, if any. */
void dfk__progress(const dfk_ctx *ctx, dfk_phase phase, uint64_t done, uint64_t total, uint32_t addr);
/* True when ctx's clock is dfk_clock_system()'s: waiting in poll() for a
 * while is then the same as sleeping on the clock. */
bool dfk__clock_is_system(const dfk_ctx *ctx);

#endif
