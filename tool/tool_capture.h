/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* `dfukit capture`: a connected device as a dfukit-emu device description
 * (tool_capture.c). */
#ifndef DFUKIT_TOOL_CAPTURE_H
#define DFUKIT_TOOL_CAPTURE_H

/* argv[0] is "capture". Returns the exit status. */
int tool_capture_main(int argc, char **argv);

#endif
