/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* One run of the flashing command line (tool_flash.c), shared with the
 * threads that run it on several devices at once (tool_station.c). */
#ifndef DFUKIT_TOOL_FLASH_H
#define DFUKIT_TOOL_FLASH_H

#include "tool.h"

typedef struct flash_run {
	tool_flash_opts *o;
	tool_ui ui;
	dfk_ctx *ctx;
	dfk_transport *t;
	dfk_firmware fw;
	bool have_fw;
	dfk_out *out;
	dfk_error err;
	const char *op;
	uint64_t bytes;
	bool verified;
	/* The job ended with a DfuSe leave: watch what the device does. */
	bool left, left_has_start;
	uint32_t left_start;
	/* IDs of the run-time device before a detach, for the file-ID check. */
	bool had_runtime;
	uint16_t rt_vid, rt_pid;
	char dev_json[1024];
	tool_trace *trace; /* -v -v / --trace, for the devices' threads */
} flash_run;

/* The transport the options ask for (--usbip or libusb), into r->t. */
dfk_code tool_flash_open_transport(flash_run *r);
/* The job on one device of found: in DFU mode, or detached first. */
dfk_code tool_flash_device(flash_run *r, const dfk_found *found, const dfk_usb_dev *udev);
/* --all with several devices: the job on each at once, each device on its
 * own thread with its own context and transport (the library's rule), at
 * most --jobs at a time; a summary, and r->err names the failed ones. */
#define TOOL_PATH_MAX 64
#define TOOL_STATION_MAX 64 /* devices at once */
dfk_code tool_station_run(flash_run *r, const char (*paths)[TOOL_PATH_MAX], size_t ndevs);
/* --watch: waits for devices and runs the job once on each new one (a
 * device that re-enumerates after its job is not new), with running
 * counters, until interrupted or --count devices are done. */
dfk_code tool_station_watch(flash_run *r);

#endif
