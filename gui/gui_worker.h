/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit-gui: everything that talks to devices, on worker threads.
 *
 * The scanner lists devices on its own thread: USB/IP servers every
 * interval, local USB on libusb hotplug events where libusb has them (and
 * every few intervals as a fallback), else every interval too; a job
 * (download or read) runs on another, with its own dfk_ctx, and is
 * cancelled through the library's cancel request. Every callback below is
 * called on the GTK main loop, never on a worker. */
#ifndef DFUKIT_GUI_WORKER_H
#define DFUKIT_GUI_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "gui_model.h"

/* ---- Scanner ---- */
typedef struct gui_scanner gui_scanner;
/* list is the callee's to free (gui_device_list_free); problems is a
 * newline-separated list of sources that could not be listed, or "". */
typedef void (*gui_scan_cb)(void *user, gui_device_list *list, const char *problems);
/* sources: NULL-terminated; "libusb" or a USB/IP address each. */
gui_scanner *gui_scanner_start(const char *const *sources, unsigned interval_ms, gui_scan_cb cb, void *user);
/* While a job holds a source, it is not listed (a USB/IP server serves one
 * host at a time). Acquire waits for a listing of that source under way;
 * call it from a worker thread, never from the main loop. */
void gui_scanner_acquire(gui_scanner *s, const char *source);
void gui_scanner_release(gui_scanner *s, const char *source);
void gui_scanner_stop(gui_scanner *s);
/* True when local USB ("libusb" among the sources) is listed again on
 * libusb hotplug events; false when it is only polled (or not listed). */
bool gui_scanner_hotplug(const gui_scanner *s);
/* Station mode: every listing feeds the library's watch (dfk_watch_*), and
 * a delivered device is marked fresh while the watch counts it as a new
 * arrival. A station job on (source, path) begins and ends with these, so
 * the device is not fresh again when it re-enumerates within
 * GUI_STATION_GRACE_MS (after a leave or reset). s may be NULL. */
#define GUI_STATION_GRACE_MS 5000
void gui_scanner_watch_begin(gui_scanner *s, const char *source, const char *path);
void gui_scanner_watch_end(gui_scanner *s, const char *source, const char *path);

/* ---- Jobs ---- */
typedef enum gui_phase {
	GUI_PHASE_DETACH,
	GUI_PHASE_ERASE,
	GUI_PHASE_WRITE,
	GUI_PHASE_VERIFY,
	GUI_PHASE_LEAVE,
	GUI_PHASE_READ,
	GUI_PHASE_COUNT
} gui_phase;
const char *gui_phase_title(gui_phase p); /* "Erase", ... */

typedef struct gui_job_result {
	const char *operation; /* "download" or "upload" */
	bool ok;
	bool verified;
	bool cancelled;
	uint64_t bytes;
	const char *message; /* the library's message when !ok */
	const char *report;  /* JSON lines, as dfukit --json prints them */
} gui_job_result;

typedef struct gui_job_events {
	void (*log)(void *user, const char *level, const char *msg);
	void (*progress)(void *user, gui_phase phase, uint64_t done, uint64_t total, uint32_t addr);
	void (*done)(void *user, const gui_job_result *r);
	void *user;
	gui_scanner *scanner; /* paused for the job's source while it runs; may be NULL */
	/* Station mode: the job's transport touches only its device
	 * (dfk_transport_set_only_path), and the scanner is paused only while
	 * the device is being opened. */
	bool only_path;
} gui_job_events;

typedef struct gui_job gui_job;

typedef struct gui_download_opts {
	const char *file;
	bool has_address; /* raw binary: where it goes */
	uint32_t address;
	bool verify;
	bool leave;
} gui_download_opts;

/* The job copies what it needs from d and o. It is freed after done. */
gui_job *gui_job_download(const gui_device *d, const gui_download_opts *o, const gui_job_events *ev);
/* Reads alt 0's readable memory from its first segment on (DfuSe) or the
 * whole upload (plain DFU) into path (must not exist yet). */
gui_job *gui_job_read(const gui_device *d, const char *path, const gui_job_events *ev);
typedef enum gui_command {
	GUI_CMD_MASS_ERASE, /* DfuSe mass erase: the whole flash */
	GUI_CMD_UNPROTECT,  /* DfuSe read unprotect: erases everything, resets */
} gui_command;
/* A dangerous DfuSe command; the window asks for confirmation first. */
gui_job *gui_job_command(const gui_device *d, gui_command cmd, const gui_job_events *ev);
/* Asks the job to stop (the device is left in a defined state). */
void gui_job_cancel(gui_job *j);

#endif
