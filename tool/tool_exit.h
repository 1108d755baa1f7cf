/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit: the exit status of a library result. The library's codes are its
 * own; the command line promises sysexits(3) statuses (and 130 after a
 * cancel, as for SIGINT), which scripts test. Shared with dfukit-gui, whose
 * JSON report carries the status dfukit would exit with. */
#ifndef DFUKIT_TOOL_EXIT_H
#define DFUKIT_TOOL_EXIT_H

#include "dfukit/error.h"

/* 0, 64 (EX_USAGE), 65 (EX_DATAERR), 66 (EX_NOINPUT), 70 (EX_SOFTWARE),
 * 73 (EX_CANTCREAT), 74 (EX_IOERR), 76 (EX_PROTOCOL) or 130 (cancelled). */
int tool_exit_status(dfk_code code);

#endif
