/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit-gui: the window's logic as plain C, testable without a display.
 *
 * Devices as the window shows them (a snapshot taken by the scanner), the
 * loaded firmware file, and the preview of what a download will do. This
 * file and gui_worker.c are the only ones that call libdfukit. */
#ifndef DFUKIT_GUI_MODEL_H
#define DFUKIT_GUI_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dfukit/dfukit.h>

typedef enum gui_dev_status {
	GUI_DEV_READY,	 /* green: DFU mode, opened */
	GUI_DEV_RUNTIME, /* amber: run-time mode, will be detached into DFU mode */
	GUI_DEV_BROKEN,	 /* red: cannot be opened (reason and fix given) */
} gui_dev_status;

typedef struct gui_alt {
	unsigned alt;
	char name[256]; /* sanitised iInterface string */
	bool has_map;
	dfk_memmap map; /* DfuSe memory map parsed from name */
} gui_alt;

typedef struct gui_device {
	char source[128]; /* "libusb" or the USB/IP address */
	char path[64];
	char key[200]; /* source + path: identifies the row */
	char name[256];
	char serial[256];
	uint16_t vid, pid;
	gui_dev_status status;
	char reason[512]; /* red: why; amber: what will happen */
	char fix[512];	  /* red: what to do about it */
	bool dfuse, can_upload;
	uint16_t transfer_size;
	gui_alt *alts;
	size_t nalts;
	/* Station mode: new to the station's watch (dfk_watch_*), i.e. never
	 * flashed by it, or a new board at that port. */
	bool fresh;
} gui_device;

typedef struct gui_device_list {
	gui_device *devs;
	size_t count;
} gui_device_list;

void gui_device_list_free(gui_device_list *l);
/* Copies device entries from src into dst (appending). */
bool gui_device_list_append(gui_device_list *dst, const gui_device *d);
/* A string that changes whenever anything the window shows changes. */
char *gui_device_list_signature(const gui_device_list *l);
/* How a new listing differs from the one shown, devices keyed by their
 * source (USB/IP server or "libusb") and port path. Indices: added,
 * changed and unchanged into now, removed into old. */
typedef struct gui_list_diff {
	size_t *added, *removed, *changed, *unchanged;
	size_t nadded, nremoved, nchanged, nunchanged;
} gui_list_diff;
/* false when out of memory (d is then empty). */
bool gui_device_list_diff(const gui_device_list *old, const gui_device_list *now, gui_list_diff *d);
void gui_list_diff_free(gui_list_diff *d);
/* "0483:df11" */
void gui_device_ids(const gui_device *d, char *out, size_t outsz);
/* Memory map of alt as text, one segment a line; NULL-free (empty string
 * when there is none). Caller frees. */
char *gui_alt_describe(const gui_alt *a);
/* The alt setting holds option bytes: its DfuSe memory map is named
 * "Option Bytes" (any case, surrounding spaces ignored). */
bool gui_alt_is_option_bytes(const gui_alt *a);
/* Start of alt 0's first writable segment; false when there is none. */
bool gui_default_address(const gui_device *d, uint32_t *addr);

/* A loaded firmware file. */
typedef struct gui_file {
	char *path;
	dfk_firmware fw;
	bool loaded;
	bool raw; /* a raw binary without an address: needs one from the user */
} gui_file;

void gui_file_init(gui_file *f);
void gui_file_free(gui_file *f);
/* Loads path (any format dfukit reads); err gets the library's message. */
bool gui_file_load(gui_file *f, const char *path, dfk_error *err);
/* What the file holds, for the window: format, targets, elements, suffix. */
char *gui_file_summary(const gui_file *f);
/* Index of the device whose VID:PID the file's DFU suffix names, or -1
 * (no suffix, wildcard IDs or no such device). */
int gui_file_match_device(const gui_file *f, const gui_device_list *l);

/* Parses "0x08000000" or decimal; false when it is not a 32-bit number. */
bool gui_parse_address(const char *s, uint32_t *out);

/* What a download of f to d will do, before anything is written. */
typedef struct gui_preview {
	bool ok;	/* can be written as planned */
	char *problems; /* elements outside writable memory etc., or "" */
	char *plan;	/* pages to erase, bytes, verify, leave, estimate */
	size_t pages, partial_pages;
	uint64_t erase_bytes, write_bytes;
	double seconds; /* estimate */
	/* Writes into option bytes (an alt named "Option Bytes", or addresses
	 * inside such an alt's memory map): the window asks first. */
	bool option_bytes;
	char *option_bytes_where; /* "alt 1 \"Option Bytes\" at 0x1fffc000", or "" */
} gui_preview;

/* address is used for a raw file (f->raw). */
void gui_preview_build(const gui_file *f, const gui_device *d, uint32_t address, bool verify, bool leave,
		       gui_preview *p);
void gui_preview_free(gui_preview *p);

/* The result line: "Success: ..." only when ok and verified, "Failed: msg"
 * otherwise (cancelled is a failure too). */
char *gui_result_text(const char *operation, bool ok, bool verified, uint64_t bytes, const char *msg);

#endif
