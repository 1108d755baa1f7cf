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

static dfk_ctx *volatile sig_ctx;
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
	if (sig_ctx)
		dfk_ctx_cancel(sig_ctx);
}

void tool_signal_install(dfk_ctx *ctx)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART; /* transfers are not cut; the cancel is seen after them */
	sig_ctx = ctx;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int tool_signal_received(void)
{
	return sig_first;
}
