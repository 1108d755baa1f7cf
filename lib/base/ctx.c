/* The library context: clock, limits and the callbacks that replace
 * printing. */
#include "dfukit/device.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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

void dfk_ctx_init(dfk_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->clock = dfk_clock_system();
	ctx->usb_timeout_ms = 5000;
	ctx->poll_cap_ms = 60000;
	ctx->op_timeout_ms = 120000;
	ctx->reenum_timeout_ms = 10000;
	ctx->max_error_retries = 5;
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
	atomic_store(&ctx->cancel_requested, 1);
}

bool dfk_ctx_cancelled(const dfk_ctx *ctx)
{
	return ctx && atomic_load(&((dfk_ctx *)ctx)->cancel_requested) != 0;
}

void dfk_ctx_cancel_reset(dfk_ctx *ctx)
{
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
