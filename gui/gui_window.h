/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit-gui: the main window. */
#ifndef DFUKIT_GUI_WINDOW_H
#define DFUKIT_GUI_WINDOW_H

#include <adwaita.h>

#include "gui_model.h"
#include "gui_station.h"
#include "gui_worker.h"

typedef struct gui_window {
	GtkWindow *win;
	/* devices */
	GtkListBox *device_list;
	GtkLabel *device_problems;
	gui_device_list devices;
	char *device_sig;
	bool listed_once;   /* a listing was shown: later additions are "Connected" */
	char *selected_key; /* the device to write to */
	bool user_picked;   /* chosen by hand: the file's suffix no longer picks */
	GtkCheckButton *radio_group;
	/* file */
	gui_file file;
	GtkLabel *file_summary;
	AdwEntryRow *address_row;
	bool address_edited;
	/* plan */
	GtkSwitch *verify_switch, *leave_switch;
	GtkLabel *plan_label, *problems_label;
	/* actions */
	GtkButton *select_button, *download_button, *read_button, *cancel_button, *save_report_button;
	GtkButton *erase_button, *unprotect_button;
	AdwEntryRow *readout_row;
	GtkProgressBar *bars[GUI_PHASE_COUNT];
	AdwActionRow *phase_rows[GUI_PHASE_COUNT];
	GtkLabel *result_label;
	GtkTextBuffer *log;
	/* work */
	gui_scanner *scanner;
	gui_job *job;
	char *report;
	bool confirming; /* a confirmation dialog is open */
	bool closing;
	/* station mode (gui_station_view.c) */
	bool station_mode;
	GtkToggleButton *station_toggle;
	AdwPreferencesGroup *station_group, *devices_group, *actions_group, *progress_group;
	GtkListBox *station_list;
	GtkButton *flash_all_button;
	GtkSwitch *auto_switch;
	GtkLabel *counters_label;
	gui_station station;
	GHashTable *station_jobs;    /* key -> its running job */
	GHashTable *station_widgets; /* key -> its row's widgets */
	GtkWidget *log_scroller;
} gui_window;

/* sources: NULL-terminated list for the scanner (NULL: no scanner, for
 * tests that feed devices with gui_window_set_devices). */
gui_window *gui_window_new(GtkApplication *app, const char *const *sources);
/* Takes the list (the scanner's delivery). */
void gui_window_set_devices(gui_window *w, gui_device_list *list, const char *problems);
/* Loads a firmware file as Select File or a drop would. */
void gui_window_open_file(gui_window *w, const char *path);
/* The selected device, or NULL. */
const gui_device *gui_window_device(const gui_window *w);
/* Shows a finished job's result (called by the job, and by tests). */
void gui_window_job_done(gui_window *w, const gui_job_result *r);
/* Recomputes the plan preview and which buttons can be pressed. */
void gui_window_update(gui_window *w);

/* Station mode: every device a row, Flash all, auto-flash of new devices,
 * counters, per-device logs (gui_station_view.c). */
void gui_window_set_station_mode(gui_window *w, bool on);
/* Starts a job on every connected device that is not being flashed;
 * returns how many started. */
size_t gui_window_flash_all(gui_window *w);
/* Used by gui_window.c. */
void gui_station_view_build(gui_window *w, AdwPreferencesPage *page, AdwHeaderBar *hb);
void gui_station_view_devices(gui_window *w, const gui_device_list *l);
void gui_station_view_update(gui_window *w);
bool gui_station_view_cancel_all(gui_window *w); /* true when jobs still run */
void gui_station_view_free(gui_window *w);
/* The device the plan is shown for in station mode: the first listed one
 * that can be flashed (the boards of a station are alike), or NULL. */
const gui_device *gui_station_view_plan_device(const gui_window *w);

#endif
