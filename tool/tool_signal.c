/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit: SIGINT and SIGTERM during a job.
 *
 * The first signal asks the library to stop (dfk_ctx_cancel, one atomic
 * store, async-signal-safe): the job notices at its next transfer, brings
 * the device to dfuIDLE where the protocol allows and says what its memory
 * holds; the tool then removes its temporary output file and exits 130
 * (SIGINT) or 143 (SIGTERM). A second signal exits at once. */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

/* The contexts a signal cancels: the run's, and with several devices at
 * once each device's. Replaced only while no signal can see a half-made
 * list: the count is cleared first and set last. */
static dfk_ctx *sig_one[1];
static dfk_ctx *const *volatile sig_ctxs;
static volatile sig_atomic_t sig_n;
static volatile sig_atomic_t sig_first;

static void on_signal(int sig)
{
	if (sig_first) {
		static const char msg[] = "\ninterrupted again: exiting at once\n";
		ssize_t n = write(STDERR_FILENO, msg, sizeof(msg) - 1);
		(void)n;
		_exit(128 + sig);
	}
	sig_first = sig;
	for (sig_atomic_t i = 0; i < sig_n; i++)
		if (sig_ctxs[i])
			dfk_ctx_cancel(sig_ctxs[i]);
}

void tool_signal_install(dfk_ctx *ctx)
{
	sig_n = 0;
	sig_one[0] = ctx;
	tool_signal_install_many(sig_one, 1);
}

void tool_signal_install_many(dfk_ctx *const *ctxs, size_t n)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART; /* transfers are not cut; the cancel is seen after them */
	sig_n = 0;
	sig_ctxs = ctxs;
	sig_n = (sig_atomic_t)n;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int tool_signal_received(void)
{
	return sig_first;
}
