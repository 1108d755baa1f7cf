/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* The library context: clock, limits and the callbacks that replace
 * printing. */
#include "ctx_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* dfk_ctx_cancel promises to be async-signal-safe: a lock-free store. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the cancel flag must be a lock-free atomic");

static uint64_t system_now_ms(void *user)
{
	struct timespec ts;
	(void)user;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void system_sleep_ms(void *user, uint32_t ms)
{
	struct timespec req, rem;
	(void)user;
	req.tv_sec = ms / 1000u;
	req.tv_nsec = (long)(ms % 1000u) * 1000000L;
	/* A signal must not cut a bwPollTimeout short. */
	while (nanosleep(&req, &rem) != 0 && errno == EINTR)
		req = rem;
}

dfk_clock dfk_clock_system(void)
{
	dfk_clock c;
	c.now_ms = system_now_ms;
	c.sleep_ms = system_sleep_ms;
	c.user = NULL;
	return c;
}

const char *dfk_phase_name(dfk_phase phase)
{
	switch (phase) {
	case DFK_PHASE_ERASE: return "erase";
	case DFK_PHASE_DOWNLOAD: return "download";
	case DFK_PHASE_UPLOAD: return "upload";
	case DFK_PHASE_VERIFY: return "verify";
	case DFK_PHASE_MANIFEST: return "manifest";
	case DFK_PHASE_DETACH: return "detach";
	}
	return "unknown";
}

dfk_code dfk_ctx_new(dfk_ctx **out, dfk_error *err)
{
	dfk_ctx *ctx;

	if (!out)
		return dfk_error_set(err, DFK_ERR_USAGE, "no place for the new context");
	*out = NULL;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return dfk_error_set(err, DFK_ERR_NOMEM, "out of memory for a context");
	ctx->clock = dfk_clock_system();
	ctx->usb_timeout_ms = 5000;
	ctx->poll_cap_ms = 60000;
	ctx->op_timeout_ms = 120000;
	ctx->reenum_timeout_ms = 10000;
	ctx->max_error_retries = 5;
	atomic_init(&ctx->cancel_requested, 0);
	*out = ctx;
	return DFK_OK;
}

void dfk_ctx_free(dfk_ctx *ctx)
{
	free(ctx);
}

dfk_code dfk_ctx_set_clock(dfk_ctx *ctx, const dfk_clock *clock, dfk_error *err)
{
	if (!clock) {
		ctx->clock = dfk_clock_system();
		return DFK_OK;
	}
	if (!clock->now_ms || !clock->sleep_ms)
		return dfk_error_set(err, DFK_ERR_USAGE, "a clock needs both now_ms and sleep_ms");
	ctx->clock = *clock;
	return DFK_OK;
}

const dfk_clock *dfk_ctx_clock(const dfk_ctx *ctx)
{
	return &ctx->clock;
}

static unsigned *timeout_field(dfk_ctx *ctx, dfk_timeout which)
{
	switch (which) {
	case DFK_TIMEOUT_USB: return &ctx->usb_timeout_ms;
	case DFK_TIMEOUT_POLL_CAP: return &ctx->poll_cap_ms;
	case DFK_TIMEOUT_OPERATION: return &ctx->op_timeout_ms;
	case DFK_TIMEOUT_REENUM: return &ctx->reenum_timeout_ms;
	}
	return NULL;
}

dfk_code dfk_ctx_set_timeout(dfk_ctx *ctx, dfk_timeout which, unsigned ms, dfk_error *err)
{
	unsigned *f = timeout_field(ctx, which);

	if (!f)
		return dfk_error_set(err, DFK_ERR_USAGE, "no time limit number %d", (int)which);
	*f = ms;
	return DFK_OK;
}

unsigned dfk_ctx_timeout(const dfk_ctx *ctx, dfk_timeout which)
{
	const unsigned *f = timeout_field((dfk_ctx *)ctx, which);
	return f ? *f : 0;
}

void dfk_ctx_set_max_error_retries(dfk_ctx *ctx, unsigned n)
{
	ctx->max_error_retries = n;
}

unsigned dfk_ctx_max_error_retries(const dfk_ctx *ctx)
{
	return ctx->max_error_retries;
}

void dfk_ctx_set_log(dfk_ctx *ctx, dfk_log_fn fn, void *user)
{
	ctx->log = fn;
	ctx->log_user = user;
}

void dfk_ctx_set_progress(dfk_ctx *ctx, dfk_progress_fn fn, void *user)
{
	ctx->progress = fn;
	ctx->progress_user = user;
}

void dfk_ctx_set_trace(dfk_ctx *ctx, dfk_trace_fn fn, void *user)
{
	ctx->trace = fn;
	ctx->trace_user = user;
}

dfk_trace_fn dfk_ctx_trace(const dfk_ctx *ctx, void **user)
{
	if (user)
		*user = ctx->trace_user;
	return ctx->trace;
}

dfk_log_fn dfk_ctx_log(const dfk_ctx *ctx, void **user)
{
	if (user)
		*user = ctx->log_user;
	return ctx->log;
}

dfk_progress_fn dfk_ctx_progress(const dfk_ctx *ctx, void **user)
{
	if (user)
		*user = ctx->progress_user;
	return ctx->progress;
}

uint64_t dfk__now(const dfk_ctx *ctx)
{
	return ctx->clock.now_ms(ctx->clock.user);
}

void dfk__sleep(const dfk_ctx *ctx, uint32_t ms)
{
	if (ms)
		ctx->clock.sleep_ms(ctx->clock.user, ms);
}

void dfk__progress(const dfk_ctx *ctx, dfk_phase phase, uint64_t done, uint64_t total, uint32_t addr)
{
	if (ctx->progress)
		ctx->progress(ctx->progress_user, phase, done, total, addr);
}

bool dfk__clock_is_system(const dfk_ctx *ctx)
{
	return ctx->clock.now_ms == system_now_ms && ctx->clock.sleep_ms == system_sleep_ms;
}

void dfk_log(const dfk_ctx *ctx, dfk_log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!ctx || !ctx->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ctx->log(ctx->log_user, level, msg);
}

void dfk_ctx_cancel(dfk_ctx *ctx)
{
	if (ctx)
		atomic_store(&ctx->cancel_requested, 1);
}

bool dfk_ctx_cancelled(const dfk_ctx *ctx)
{
	return ctx && atomic_load(&((dfk_ctx *)ctx)->cancel_requested) != 0;
}

void dfk_ctx_cancel_reset(dfk_ctx *ctx)
{
	if (ctx)
		atomic_store(&ctx->cancel_requested, 0);
}

dfk_code dfk_ctx_sleep(const dfk_ctx *ctx, uint32_t ms)
{
	/* Short slices so that a cancel is seen well within a second even
	 * during a long bwPollTimeout. */
	const uint32_t slice = 20;
	while (ms > 0) {
		if (dfk_ctx_cancelled(ctx))
			return DFK_ERR_CANCELLED;
		uint32_t now = ms < slice ? ms : slice;
		ctx->clock.sleep_ms(ctx->clock.user, now);
		ms -= now;
	}
	return dfk_ctx_cancelled(ctx) ? DFK_ERR_CANCELLED : DFK_OK;
}
