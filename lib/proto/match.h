/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* Device matching, private. */
#ifndef DFUKIT_MATCH_H
#define DFUKIT_MATCH_H

#include "dfukit/device.h"

/* The caller's match read into *out (opts.h rules): DFK_ERR_USAGE when it
 * was not initialised. */
dfk_code dfk__match_read(const dfk_match *in, dfk_match *out, dfk_error *err);

#endif
