/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit-gui: the job report, the same JSON lines `dfukit --json` prints
 * (info/warning events, progress events, one result object). */
#ifndef DFUKIT_GUI_REPORT_H
#define DFUKIT_GUI_REPORT_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct gui_report {
	GString *text;
	char device[1024]; /* ,"device":{...} or "" */
} gui_report;

void gui_report_init(gui_report *r);
void gui_report_free(gui_report *r);
/* Appends s as a JSON string (invalid UTF-8 escaped byte by byte). */
void gui_report_json_string(GString *out, const char *s);
void gui_report_event(gui_report *r, const char *event, const char *message);
void gui_report_progress(gui_report *r, const char *phase, uint64_t done, uint64_t total, uint32_t addr);
void gui_report_device(gui_report *r, uint16_t vid, uint16_t pid, bool dfu_mode, const char *path, unsigned alt,
		       const char *serial);
void gui_report_result(gui_report *r, const char *op, int code, int exit_code, const char *code_name,
		       const char *message, uint64_t bytes, bool is_download, bool verified);

#endif
