/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit-gui: station mode's logic as plain C, testable without a display.
 *
 * A station flashes many boards: every connected device is a row with its
 * state (Waiting, Flashing, Passed, Failed), its own log and pass/fail
 * counters. Which devices are new arrivals, for auto-flash, is decided by
 * the library's watch (dfk_watch_*) in gui_arrivals: a device flashed once
 * is not new again when it re-enumerates (after a leave or a reset). */
#ifndef DFUKIT_GUI_STATION_H
#define DFUKIT_GUI_STATION_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "gui_model.h"

typedef enum gui_station_state {
	GUI_STATION_WAITING,
	GUI_STATION_FLASHING,
	GUI_STATION_PASSED,
	GUI_STATION_FAILED,
} gui_station_state;

typedef struct gui_station_row {
	char key[200]; /* the device's key (source + path) */
	char source[128];
	char path[64];
	char name[256];
	char ids[16];
	bool present; /* in the last listing */
	bool usable;  /* listed and not red (it can be opened) */
	gui_station_state state;
	char message[512]; /* why it failed */
	unsigned flashes;  /* jobs started on it */
	GString *log;	   /* its own lines */
} gui_station_row;

typedef struct gui_station {
	gui_station_row *rows;
	size_t count;
	unsigned passed, failed;
} gui_station;

void gui_station_init(gui_station *s);
void gui_station_free(gui_station *s);
/* Follows a listing: a row for each listed device (new rows Waiting); a
 * row whose device is gone is dropped while Waiting, kept while Flashing
 * or with its result (present becomes false). A finished row whose device
 * is listed as fresh (a new board at that port) is Waiting again. Returns
 * true when rows were added or removed. */
bool gui_station_sync(gui_station *s, const gui_device_list *l);
gui_station_row *gui_station_find(gui_station *s, const char *key);
/* Starts a row's job: false when it is absent, unusable or flashing. */
bool gui_station_begin(gui_station *s, const char *key);
/* A row's job ended: Passed or Failed (with msg), counted once. */
void gui_station_end(gui_station *s, const char *key, bool ok, const char *msg);
/* Appends a line to the row's log. */
void gui_station_log(gui_station *s, const char *key, const char *line);
/* Devices auto-flash starts now: listed as fresh, usable, not flashing. */
bool gui_station_wants_auto(const gui_station *s, const gui_device *d);
/* How many rows are flashing. */
size_t gui_station_running(const gui_station *s);
/* "Passed: N  Failed: M" (caller frees). */
char *gui_station_counters(const gui_station *s);
/* "Waiting", "Flashing", "Passed", "Failed: message" (caller frees). */
char *gui_station_state_text(const gui_station_row *r);

/* ---- New arrivals (dfk_watch per source), used by the scanner ---- */
typedef struct gui_arrivals gui_arrivals;
/* grace_ms: how long a flashed device may be away and come back as the
 * same one (a re-enumeration) rather than a new board. */
gui_arrivals *gui_arrivals_new(uint32_t grace_ms);
void gui_arrivals_free(gui_arrivals *a);
/* One look at source's bus: found is what dfk_find returned (NULL: none). */
void gui_arrivals_scan(gui_arrivals *a, const char *source, const dfk_found *found, uint64_t now_ms);
/* key ("source|path"): new after the last scan and not begun since. */
bool gui_arrivals_fresh(const gui_arrivals *a, const char *key);
/* A job starts on (source, path) and ends: the watch takes and releases
 * the device. A job started before the watch saw the device (or after it
 * lost sight of it) is remembered until the watch sees it again, so it is
 * not new then either. */
void gui_arrivals_begin(gui_arrivals *a, const char *source, const char *path);
void gui_arrivals_end(gui_arrivals *a, const char *source, const char *path, uint64_t now_ms);

#endif
