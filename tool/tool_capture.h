/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* `dfukit capture`: a connected device as a dfukit-emu device description
 * (tool_capture.c). */
#ifndef DFUKIT_TOOL_CAPTURE_H
#define DFUKIT_TOOL_CAPTURE_H

#include <json-c/json.h>

#include "dfukit/dfukit.h"

/* argv[0] is "capture". Returns the exit status. */
int tool_capture_main(int argc, char **argv);

/* --time-page (tool_capture_time.c): erases the DfuSe page at addr of the
 * device pick belongs to (its alt setting whose map holds addr, from
 * found), writes its old contents back and checks them, timing both; adds
 * "timing" to doc and a sentence about it to note. */
dfk_code tool_capture_time_page(const dfk_ctx *ctx, const dfk_found *found, const dfk_dfu_if *pick, uint32_t addr,
				json_object *doc, char *note, size_t notesz, dfk_error *err);

#endif
