/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit-gui: the main window: devices, file, plan, actions, progress, log.
 * Device work is done by gui_worker.c; this file only shows and asks. */
#include "gui_window.h"

#include <stdio.h>
#include <string.h>

static void set_name(gpointer widget, const char *name)
{
	gtk_accessible_update_property(GTK_ACCESSIBLE(widget), GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
}

static GtkLabel *wrap_label(const char *text)
{
	GtkLabel *l = GTK_LABEL(gtk_label_new(text));
	gtk_label_set_wrap(l, TRUE);
	gtk_label_set_xalign(l, 0);
	gtk_label_set_selectable(l, TRUE);
	return l;
}

static void log_line(gui_window *w, const char *level, const char *msg)
{
	GtkTextIter end;
	gtk_text_buffer_get_end_iter(w->log, &end);
	char *line =
	    g_strdup_printf("%s%s%s\n", strcmp(level, "info") ? level : "", strcmp(level, "info") ? ": " : "", msg);
	gtk_text_buffer_insert(w->log, &end, line, -1);
	g_free(line);
}

const gui_device *gui_window_device(const gui_window *w)
{
	for (size_t i = 0; w->selected_key && i < w->devices.count; i++)
		if (strcmp(w->devices.devs[i].key, w->selected_key) == 0)
			return &w->devices.devs[i];
	return NULL;
}

static bool raw_address(gui_window *w, uint32_t *addr)
{
	return gui_parse_address(gtk_editable_get_text(GTK_EDITABLE(w->address_row)), addr);
}

void gui_window_update(gui_window *w)
{
	const gui_device *d = w->station_mode ? gui_station_view_plan_device(w) : gui_window_device(w);
	bool busy = w->job != NULL;
	/* A raw file's address defaults to alt 0's first writable segment. */
	gtk_widget_set_visible(GTK_WIDGET(w->address_row), w->file.loaded && w->file.raw && d && d->dfuse);
	uint32_t def;
	if (!w->address_edited && d && gui_default_address(d, &def)) {
		char buf[16];
		snprintf(buf, sizeof(buf), "0x%08lx", (unsigned long)def);
		if (strcmp(gtk_editable_get_text(GTK_EDITABLE(w->address_row)), buf) != 0) {
			gtk_editable_set_text(GTK_EDITABLE(w->address_row), buf);
			w->address_edited = false;
		}
	}
	uint32_t addr = 0;
	bool addr_ok = !w->file.raw || !d || !d->dfuse || raw_address(w, &addr);
	gui_preview p;
	gui_preview_build(&w->file, d, addr, gtk_switch_get_active(w->verify_switch),
			  gtk_switch_get_active(w->leave_switch), &p);
	if (!addr_ok) {
		p.ok = false;
		gtk_label_set_text(w->problems_label, "The start address is not a number (e.g. 0x08000000).");
	} else {
		gtk_label_set_text(w->problems_label, p.problems);
	}
	gtk_widget_set_visible(GTK_WIDGET(w->problems_label), !addr_ok || p.problems[0]);
	char *plan = NULL;
	if (w->station_mode && p.plan[0] && d)
		plan = g_strdup_printf("For each device (as planned for %s at %s):\n%s", d->name, d->path, p.plan);
	gtk_label_set_text(w->plan_label, plan	      ? plan
					  : p.plan[0] ? p.plan
						      : "The plan appears here once a file and a device are chosen.");
	g_free(plan);
	gtk_widget_set_sensitive(GTK_WIDGET(w->download_button), p.ok && addr_ok && !busy && !w->confirming);
	gtk_widget_set_sensitive(GTK_WIDGET(w->read_button), d && d->status != GUI_DEV_BROKEN && !busy);
	gtk_widget_set_sensitive(GTK_WIDGET(w->cancel_button), busy);
	bool dfuse = d && d->dfuse && d->status != GUI_DEV_BROKEN && !busy;
	gtk_widget_set_sensitive(GTK_WIDGET(w->erase_button), dfuse);
	gtk_widget_set_sensitive(GTK_WIDGET(w->unprotect_button), dfuse);
	gtk_widget_set_sensitive(GTK_WIDGET(w->select_button), !busy);
	gtk_widget_set_sensitive(GTK_WIDGET(w->device_list), !busy);
	gui_preview_free(&p);
	gui_station_view_update(w);
}

/* ---- Devices ---- */

static void on_radio_toggled(GtkCheckButton *b, gpointer user)
{
	gui_window *w = user;
	if (!gtk_check_button_get_active(b))
		return;
	const char *key = g_object_get_data(G_OBJECT(b), "key");
	if (w->selected_key && strcmp(w->selected_key, key) == 0)
		return;
	g_free(w->selected_key);
	w->selected_key = g_strdup(key);
	if (g_object_get_data(G_OBJECT(b), "programmatic") == NULL)
		w->user_picked = true;
	gui_window_update(w);
}

static const char *status_class(gui_dev_status s)
{
	return s == GUI_DEV_READY ? "success" : s == GUI_DEV_RUNTIME ? "warning" : "error";
}

static const char *status_text(gui_dev_status s)
{
	return s == GUI_DEV_READY ? "DFU mode, ready" : s == GUI_DEV_RUNTIME ? "Run-time mode" : "Cannot be opened";
}

static GtkWidget *device_row(gui_window *w, const gui_device *d)
{
	AdwExpanderRow *row = ADW_EXPANDER_ROW(adw_expander_row_new());
	char ids[16];
	gui_device_ids(d, ids, sizeof(ids));
	char *title = g_markup_escape_text(d->name, -1);
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), title);
	char *sub = g_strdup_printf("%s · serial %s · path %s (%s) · %s", ids, d->serial[0] ? d->serial : "none",
				    d->path, d->source, status_text(d->status));
	char *sub_esc = g_markup_escape_text(sub, -1);
	adw_expander_row_set_subtitle(row, sub_esc);

	GtkWidget *radio = gtk_check_button_new();
	if (w->radio_group)
		gtk_check_button_set_group(GTK_CHECK_BUTTON(radio), w->radio_group);
	else
		w->radio_group = GTK_CHECK_BUTTON(radio);
	g_object_set_data_full(G_OBJECT(radio), "key", g_strdup(d->key), g_free);
	char *rname = g_strdup_printf("Use %s %s at %s", d->name, ids, d->path);
	set_name(radio, rname);
	gtk_widget_set_tooltip_text(radio, rname);
	gtk_widget_set_valign(radio, GTK_ALIGN_CENTER);
	gtk_widget_set_sensitive(radio, d->status != GUI_DEV_BROKEN);
	if (w->selected_key && strcmp(w->selected_key, d->key) == 0)
		gtk_check_button_set_active(GTK_CHECK_BUTTON(radio), TRUE);
	g_signal_connect(radio, "toggled", G_CALLBACK(on_radio_toggled), w);
	adw_expander_row_add_prefix(row, radio);

	GtkWidget *light = gtk_image_new_from_icon_name(d->status == GUI_DEV_READY     ? "emblem-ok-symbolic"
							: d->status == GUI_DEV_RUNTIME ? "dialog-warning-symbolic"
										       : "dialog-error-symbolic");
	gtk_widget_add_css_class(light, status_class(d->status));
	set_name(light, status_text(d->status));
	adw_expander_row_add_prefix(row, light);

	if (d->reason[0]) {
		AdwActionRow *r = ADW_ACTION_ROW(adw_action_row_new());
		char *t = g_markup_escape_text(d->reason, -1);
		adw_preferences_row_set_title(ADW_PREFERENCES_ROW(r), t);
		g_free(t);
		if (d->fix[0]) {
			t = g_markup_escape_text(d->fix, -1);
			adw_action_row_set_subtitle(r, t);
			g_free(t);
		}
		adw_expander_row_add_row(row, GTK_WIDGET(r));
	}
	for (size_t i = 0; i < d->nalts; i++) {
		AdwActionRow *r = ADW_ACTION_ROW(adw_action_row_new());
		char *t = g_strdup_printf("Alt %u: %s", d->alts[i].alt, d->alts[i].name);
		char *te = g_markup_escape_text(t, -1);
		adw_preferences_row_set_title(ADW_PREFERENCES_ROW(r), te);
		char *map = gui_alt_describe(&d->alts[i]);
		if (map[0]) {
			char *me = g_markup_escape_text(map, -1);
			adw_action_row_set_subtitle(r, me);
			g_free(me);
		}
		adw_action_row_set_subtitle_lines(r, 0);
		adw_expander_row_add_row(row, GTK_WIDGET(r));
		g_free(map);
		g_free(t);
		g_free(te);
	}
	g_free(rname);
	g_free(title);
	g_free(sub);
	g_free(sub_esc);
	return GTK_WIDGET(row);
}

/* Picks a device when none is chosen by hand: the one the file's suffix
 * names, else the only usable one. */
static void auto_select(gui_window *w)
{
	if (w->user_picked && gui_window_device(w))
		return;
	int match = gui_file_match_device(&w->file, &w->devices);
	int pick = match;
	if (pick < 0 && gui_window_device(w))
		return;
	if (pick < 0) {
		for (size_t i = 0; i < w->devices.count; i++) {
			if (w->devices.devs[i].status == GUI_DEV_BROKEN)
				continue;
			if (pick >= 0) {
				pick = -1; /* several: the user chooses */
				break;
			}
			pick = (int)i;
		}
	}
	g_free(w->selected_key);
	w->selected_key = pick >= 0 ? g_strdup(w->devices.devs[pick].key) : NULL;
}

/* Rows are made anew; an expanded row stays expanded (by device key). */
static void rebuild_rows(gui_window *w)
{
	GHashTable *expanded = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GtkWidget *child;
	while ((child = gtk_widget_get_first_child(GTK_WIDGET(w->device_list)))) {
		const char *key = g_object_get_data(G_OBJECT(child), "key");
		if (key && ADW_IS_EXPANDER_ROW(child) && adw_expander_row_get_expanded(ADW_EXPANDER_ROW(child)))
			g_hash_table_add(expanded, g_strdup(key));
		gtk_list_box_remove(w->device_list, child);
	}
	w->radio_group = NULL;
	for (size_t i = 0; i < w->devices.count; i++) {
		GtkWidget *row = device_row(w, &w->devices.devs[i]);
		g_object_set_data_full(G_OBJECT(row), "key", g_strdup(w->devices.devs[i].key), g_free);
		if (g_hash_table_contains(expanded, w->devices.devs[i].key))
			adw_expander_row_set_expanded(ADW_EXPANDER_ROW(row), TRUE);
		gtk_list_box_append(w->device_list, row);
	}
	g_hash_table_destroy(expanded);
}

/* One log line per device that came or went (or changed its state). */
static void log_changes(gui_window *w, const gui_device_list *now)
{
	gui_list_diff diff;
	if (!gui_device_list_diff(&w->devices, now, &diff))
		return;
	char ids[16];
	for (size_t i = 0; i < diff.nremoved; i++) {
		const gui_device *d = &w->devices.devs[diff.removed[i]];
		gui_device_ids(d, ids, sizeof(ids));
		char *m = g_strdup_printf("Disconnected: %s %s at %s (%s)", d->name, ids, d->path, d->source);
		log_line(w, "info", m);
		g_free(m);
	}
	for (size_t i = 0; i < diff.nadded; i++) {
		const gui_device *d = &now->devs[diff.added[i]];
		gui_device_ids(d, ids, sizeof(ids));
		char *m = g_strdup_printf("%s: %s %s at %s (%s)%s%s", w->listed_once ? "Connected" : "Found", d->name,
					  ids, d->path, d->source, d->reason[0] ? ": " : "", d->reason);
		log_line(w, "info", m);
		g_free(m);
	}
	for (size_t i = 0; i < diff.nchanged; i++) {
		const gui_device *d = &now->devs[diff.changed[i]];
		gui_device_ids(d, ids, sizeof(ids));
		char *m = g_strdup_printf("Changed: %s %s at %s (%s): %s", d->name, ids, d->path, d->source,
					  d->status == GUI_DEV_READY	 ? "DFU mode, ready"
					  : d->status == GUI_DEV_RUNTIME ? "run-time mode"
									 : "cannot be opened");
		log_line(w, "info", m);
		g_free(m);
	}
	gui_list_diff_free(&diff);
}

void gui_window_set_devices(gui_window *w, gui_device_list *list, const char *problems)
{
	gtk_label_set_text(w->device_problems, problems ? problems : "");
	gtk_widget_set_visible(GTK_WIDGET(w->device_problems), problems && *problems);
	gui_station_view_devices(w, list);
	char *sig = gui_device_list_signature(list);
	if (w->device_sig && strcmp(sig, w->device_sig) == 0) {
		g_free(sig);
		gui_device_list_free(list);
		return;
	}
	g_free(w->device_sig);
	w->device_sig = sig;
	log_changes(w, list);
	w->listed_once = true;
	gui_device_list_free(&w->devices);
	w->devices = *list;
	memset(list, 0, sizeof(*list));
	auto_select(w);
	rebuild_rows(w);
	gui_window_update(w);
}

static void on_scan(void *user, gui_device_list *list, const char *problems)
{
	gui_window *w = user;
	if (w->closing) {
		gui_device_list_free(list);
		return;
	}
	gui_window_set_devices(w, list, problems);
}

/* ---- File ---- */

void gui_window_open_file(gui_window *w, const char *path)
{
	dfk_error err;
	dfk_error_clear(&err);
	if (!gui_file_load(&w->file, path, &err)) {
		char *t = g_strdup_printf("Cannot use this file: %s", err.msg);
		gtk_label_set_text(w->file_summary, t);
		log_line(w, "error", t);
		g_free(t);
	} else {
		char *s = gui_file_summary(&w->file);
		gtk_label_set_text(w->file_summary, s);
		log_line(w, "info", s);
		g_free(s);
	}
	int m = gui_file_match_device(&w->file, &w->devices);
	if (m >= 0 && !w->user_picked) {
		g_free(w->selected_key);
		w->selected_key = g_strdup(w->devices.devs[m].key);
	}
	rebuild_rows(w);
	gui_window_update(w);
}

static void on_chooser_response(GtkNativeDialog *dlg, int response, gpointer user)
{
	gui_window *w = user;
	if (response == GTK_RESPONSE_ACCEPT) {
		GFile *f = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dlg));
		char *path = g_file_get_path(f);
		if (path)
			gui_window_open_file(w, path);
		g_free(path);
		g_object_unref(f);
	}
	g_object_unref(dlg);
}

static void on_select_file(GtkButton *b, gpointer user)
{
	(void)b;
	gui_window *w = user;
	GtkFileChooserNative *dlg = gtk_file_chooser_native_new("Select Firmware File", w->win,
								GTK_FILE_CHOOSER_ACTION_OPEN, "_Open", "_Cancel");
	GtkFileFilter *ff = gtk_file_filter_new();
	gtk_file_filter_set_name(ff, "Firmware (.dfu, .bin, .hex, .srec, .elf)");
	const char *pats[] = {"*.dfu", "*.bin", "*.hex", "*.ihex", "*.srec",
			      "*.s19", "*.s28", "*.s37", "*.mot",  "*.elf"};
	for (size_t i = 0; i < G_N_ELEMENTS(pats); i++)
		gtk_file_filter_add_pattern(ff, pats[i]);
	gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(dlg), ff);
	GtkFileFilter *all = gtk_file_filter_new();
	gtk_file_filter_set_name(all, "All files");
	gtk_file_filter_add_pattern(all, "*");
	gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(dlg), all);
	g_signal_connect(dlg, "response", G_CALLBACK(on_chooser_response), w);
	gtk_native_dialog_show(GTK_NATIVE_DIALOG(dlg));
}

static gboolean on_drop(GtkDropTarget *t, const GValue *value, double x, double y, gpointer user)
{
	(void)t;
	(void)x;
	(void)y;
	gui_window *w = user;
	if (w->job || g_hash_table_size(w->station_jobs) || !G_VALUE_HOLDS(value, G_TYPE_FILE))
		return FALSE; /* not while devices are being written */
	char *path = g_file_get_path(g_value_get_object(value));
	if (!path)
		return FALSE;
	gui_window_open_file(w, path);
	g_free(path);
	return TRUE;
}

static void on_address_changed(GtkEditable *e, gpointer user)
{
	(void)e;
	gui_window *w = user;
	w->address_edited = true;
	gui_window_update(w);
}

static void on_switch(GObject *o, GParamSpec *ps, gpointer user)
{
	(void)o;
	(void)ps;
	gui_window_update(user);
}

/* ---- Jobs ---- */

static void on_job_log(void *user, const char *level, const char *msg)
{
	log_line(user, level, msg);
}

static void on_job_progress(void *user, gui_phase phase, uint64_t done, uint64_t total, uint32_t addr)
{
	gui_window *w = user;
	double frac = total ? (double)done / (double)total : 0.0;
	gtk_progress_bar_set_fraction(w->bars[phase], frac > 1 ? 1 : frac);
	char *t;
	if (phase == GUI_PHASE_ERASE && total > 1)
		t = g_strdup_printf("%s page at 0x%08lx (%.0f%%)", done >= total ? "Erased up to" : "Erasing",
				    (unsigned long)addr, frac * 100);
	else if (total > 1)
		t = g_strdup_printf("%llu of %llu bytes", (unsigned long long)done, (unsigned long long)total);
	else if (total == 0)
		t = g_strdup_printf("%llu bytes", (unsigned long long)done);
	else
		t = g_strdup(done >= total ? "done" : "working…");
	adw_action_row_set_subtitle(w->phase_rows[phase], t);
	gtk_progress_bar_set_text(w->bars[phase], t);
	g_free(t);
}

void gui_window_job_done(gui_window *w, const gui_job_result *r)
{
	w->job = NULL;
	char *text = gui_result_text(r->operation, r->ok, r->verified, r->bytes, r->message);
	gtk_label_set_text(w->result_label, text);
	gtk_widget_remove_css_class(GTK_WIDGET(w->result_label), "success");
	gtk_widget_remove_css_class(GTK_WIDGET(w->result_label), "error");
	gtk_widget_remove_css_class(GTK_WIDGET(w->result_label), "warning");
	gtk_widget_add_css_class(GTK_WIDGET(w->result_label), g_str_has_prefix(text, "Success")	 ? "success"
							      : g_str_has_prefix(text, "Failed") ? "error"
												 : "warning");
	log_line(w, r->ok ? "info" : "error", text);
	g_free(text);
	g_free(w->report);
	w->report = g_strdup(r->report ? r->report : "");
	gtk_widget_set_sensitive(GTK_WIDGET(w->save_report_button), w->report[0] != '\0');
	if (w->closing && g_hash_table_size(w->station_jobs) == 0) {
		gtk_window_destroy(w->win);
		return;
	}
	gui_window_update(w);
}

static void on_job_done(void *user, const gui_job_result *r)
{
	gui_window_job_done(user, r);
}

static void job_starting(gui_window *w, const char *what)
{
	for (int i = 0; i < GUI_PHASE_COUNT; i++) {
		gtk_progress_bar_set_fraction(w->bars[i], 0);
		gtk_progress_bar_set_text(w->bars[i], "");
		adw_action_row_set_subtitle(w->phase_rows[i], "");
	}
	gtk_label_set_text(w->result_label, what);
	gtk_widget_remove_css_class(GTK_WIDGET(w->result_label), "success");
	gtk_widget_remove_css_class(GTK_WIDGET(w->result_label), "error");
}

static gui_job_events job_events(gui_window *w)
{
	gui_job_events ev = {on_job_log, on_job_progress, on_job_done, w, w->scanner, false};
	return ev;
}

static void start_download(gui_window *w)
{
	const gui_device *d = gui_window_device(w);
	if (w->job || !d || !w->file.loaded)
		return;
	gui_download_opts o = {0};
	o.file = w->file.path;
	o.verify = gtk_switch_get_active(w->verify_switch);
	o.leave = gtk_switch_get_active(w->leave_switch);
	if (w->file.raw && d->dfuse) {
		if (!raw_address(w, &o.address))
			return;
		o.has_address = true;
	}
	job_starting(w, "Writing…");
	gui_job_events ev = job_events(w);
	w->job = gui_job_download(d, &o, &ev);
	gui_window_update(w);
}

static void on_option_bytes_response(AdwMessageDialog *dlg, const char *response, gpointer user)
{
	(void)dlg;
	gui_window *w = user;
	w->confirming = false;
	if (strcmp(response, "write") != 0) {
		log_line(w, "info", "Option bytes not written: cancelled before anything was sent");
		gui_window_update(w);
		return;
	}
	start_download(w);
}

/* Writing option bytes can brick the chip: ask, with Cancel the default. */
static void on_download(GtkButton *b, gpointer user)
{
	(void)b;
	gui_window *w = user;
	const gui_device *d = gui_window_device(w);
	if (w->job || w->confirming || !d || !w->file.loaded)
		return;
	uint32_t addr = 0;
	if (w->file.raw && d->dfuse && !raw_address(w, &addr))
		return;
	gui_preview p;
	gui_preview_build(&w->file, d, addr, gtk_switch_get_active(w->verify_switch),
			  gtk_switch_get_active(w->leave_switch), &p);
	if (!p.option_bytes) {
		gui_preview_free(&p);
		start_download(w);
		return;
	}
	char ids[16];
	gui_device_ids(d, ids, sizeof(ids));
	char *body = g_strdup_printf(
	    "This file writes the option bytes of %s (%s at %s): %s.\n\nWrong option bytes can lock the chip or "
	    "enable read protection: the chip may then refuse to run, to be read, or to take new firmware until "
	    "its whole flash is erased. Write them only if the file was made for exactly this chip.",
	    d->name, ids, d->path, p.option_bytes_where);
	AdwMessageDialog *dlg = ADW_MESSAGE_DIALOG(adw_message_dialog_new(w->win, "Write option bytes?", body));
	adw_message_dialog_add_responses(dlg, "cancel", "_Cancel", "write", "_Write Option Bytes", NULL);
	adw_message_dialog_set_response_appearance(dlg, "write", ADW_RESPONSE_DESTRUCTIVE);
	adw_message_dialog_set_default_response(dlg, "cancel");
	adw_message_dialog_set_close_response(dlg, "cancel");
	g_signal_connect(dlg, "response", G_CALLBACK(on_option_bytes_response), w);
	w->confirming = true;
	gui_window_update(w);
	gtk_window_present(GTK_WINDOW(dlg));
	g_free(body);
	gui_preview_free(&p);
}

static void on_read(GtkButton *b, gpointer user)
{
	(void)b;
	gui_window *w = user;
	const gui_device *d = gui_window_device(w);
	if (w->job || !d)
		return;
	const char *path = gtk_editable_get_text(GTK_EDITABLE(w->readout_row));
	if (!path || !*path) {
		gtk_label_set_text(w->result_label, "Failed: give the file to read into (Read-out file)");
		return;
	}
	job_starting(w, "Reading…");
	gui_job_events ev = job_events(w);
	w->job = gui_job_read(d, path, &ev);
	gui_window_update(w);
}

/* Dangerous commands: a confirmation that says what will be lost. */
static void on_confirm(AdwMessageDialog *dlg, const char *response, gpointer user)
{
	gui_window *w = user;
	gui_command cmd = (gui_command)GPOINTER_TO_INT(g_object_get_data(G_OBJECT(dlg), "command"));
	const gui_device *d = gui_window_device(w);
	if (strcmp(response, "go") != 0 || w->job || !d)
		return;
	job_starting(w, cmd == GUI_CMD_MASS_ERASE ? "Erasing the whole chip…" : "Removing read protection…");
	gui_job_events ev = job_events(w);
	w->job = gui_job_command(d, cmd, &ev);
	gui_window_update(w);
}

static void confirm(gui_window *w, gui_command cmd)
{
	const gui_device *d = gui_window_device(w);
	if (!d || w->job)
		return;
	char ids[16];
	gui_device_ids(d, ids, sizeof(ids));
	char *body;
	if (cmd == GUI_CMD_MASS_ERASE)
		body = g_strdup_printf("Everything in the flash of %s (%s at %s) will be lost: the firmware and any "
				       "settings, keys or calibration data it keeps there. This cannot be undone; use "
				       "Read from Device first to keep a copy.",
				       d->name, ids, d->path);
	else
		body =
		    g_strdup_printf("%s (%s at %s) will erase its entire flash (firmware, settings, keys) to lift the "
				    "read protection, then reset. Nothing can be read back afterwards. Put it into "
				    "DFU mode again to write new firmware.",
				    d->name, ids, d->path);
	AdwMessageDialog *dlg = ADW_MESSAGE_DIALOG(adw_message_dialog_new(
	    w->win, cmd == GUI_CMD_MASS_ERASE ? "Erase the whole chip?" : "Remove read protection?", body));
	adw_message_dialog_add_responses(dlg, "cancel", "_Keep Everything", "go",
					 cmd == GUI_CMD_MASS_ERASE ? "_Erase Everything" : "_Erase and Unprotect",
					 NULL);
	adw_message_dialog_set_response_appearance(dlg, "go", ADW_RESPONSE_DESTRUCTIVE);
	adw_message_dialog_set_default_response(dlg, "cancel");
	adw_message_dialog_set_close_response(dlg, "cancel");
	g_object_set_data(G_OBJECT(dlg), "command", GINT_TO_POINTER((int)cmd));
	g_signal_connect(dlg, "response", G_CALLBACK(on_confirm), w);
	gtk_window_present(GTK_WINDOW(dlg));
	g_free(body);
}

static void on_mass_erase(GtkButton *b, gpointer user)
{
	(void)b;
	confirm(user, GUI_CMD_MASS_ERASE);
}

static void on_unprotect(GtkButton *b, gpointer user)
{
	(void)b;
	confirm(user, GUI_CMD_UNPROTECT);
}

static void on_cancel(GtkButton *b, gpointer user)
{
	(void)b;
	gui_window *w = user;
	if (w->job) {
		log_line(w, "info", "Cancelling…");
		gui_job_cancel(w->job);
	}
}

/* ---- Log and report ---- */

static void on_copy_log(GtkButton *b, gpointer user)
{
	(void)b;
	gui_window *w = user;
	GtkTextIter s, e;
	gtk_text_buffer_get_bounds(w->log, &s, &e);
	char *text = gtk_text_buffer_get_text(w->log, &s, &e, FALSE);
	gdk_clipboard_set_text(gtk_widget_get_clipboard(GTK_WIDGET(w->win)), text);
	g_free(text);
}

static void on_report_response(GtkNativeDialog *dlg, int response, gpointer user)
{
	gui_window *w = user;
	if (response == GTK_RESPONSE_ACCEPT) {
		GFile *f = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dlg));
		char *path = g_file_get_path(f);
		GError *e = NULL;
		if (path && !g_file_set_contents(path, w->report ? w->report : "", -1, &e)) {
			log_line(w, "error", e->message);
			g_error_free(e);
		} else if (path) {
			char *m = g_strdup_printf("Report saved to %s", path);
			log_line(w, "info", m);
			g_free(m);
		}
		g_free(path);
		g_object_unref(f);
	}
	g_object_unref(dlg);
}

static void on_save_report(GtkButton *b, gpointer user)
{
	(void)b;
	gui_window *w = user;
	GtkFileChooserNative *dlg =
	    gtk_file_chooser_native_new("Save Report", w->win, GTK_FILE_CHOOSER_ACTION_SAVE, "_Save", "_Cancel");
	gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(dlg), "dfukit-report.json");
	g_signal_connect(dlg, "response", G_CALLBACK(on_report_response), w);
	gtk_native_dialog_show(GTK_NATIVE_DIALOG(dlg));
}

static void on_readout_response(GtkNativeDialog *dlg, int response, gpointer user)
{
	gui_window *w = user;
	if (response == GTK_RESPONSE_ACCEPT) {
		GFile *f = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dlg));
		char *path = g_file_get_path(f);
		if (path)
			gtk_editable_set_text(GTK_EDITABLE(w->readout_row), path);
		g_free(path);
		g_object_unref(f);
	}
	g_object_unref(dlg);
}

static void on_choose_readout(GtkButton *b, gpointer user)
{
	(void)b;
	gui_window *w = user;
	GtkFileChooserNative *dlg = gtk_file_chooser_native_new("Read Device Memory Into", w->win,
								GTK_FILE_CHOOSER_ACTION_SAVE, "_Choose", "_Cancel");
	gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(dlg), "device-backup.bin");
	g_signal_connect(dlg, "response", G_CALLBACK(on_readout_response), w);
	gtk_native_dialog_show(GTK_NATIVE_DIALOG(dlg));
}

static gboolean on_close_request(GtkWindow *win, gpointer user)
{
	(void)win;
	gui_window *w = user;
	w->closing = true;
	bool station = gui_station_view_cancel_all(w);
	if (w->job) {
		/* Close once the job has brought the device to a defined state. */
		gui_job_cancel(w->job);
		return TRUE;
	}
	return station; /* the last station job closes the window */
}

static void on_destroy(GtkWidget *win, gpointer user)
{
	(void)win;
	gui_window *w = user;
	w->closing = true;
	gui_scanner_stop(w->scanner);
	w->scanner = NULL;
	gui_device_list_free(&w->devices);
	gui_file_free(&w->file);
	g_free(w->device_sig);
	g_free(w->selected_key);
	g_free(w->report);
	gui_station_view_free(w);
	/* w itself stays: queued scanner deliveries may still look at it. */
}

/* ---- Layout ---- */

static GtkButton *button(const char *label, GCallback cb, gui_window *w)
{
	GtkButton *b = GTK_BUTTON(gtk_button_new_with_mnemonic(label));
	g_signal_connect(b, "clicked", cb, w);
	return b;
}

static AdwPreferencesGroup *group(AdwPreferencesPage *page, const char *title)
{
	AdwPreferencesGroup *g = ADW_PREFERENCES_GROUP(adw_preferences_group_new());
	adw_preferences_group_set_title(g, title);
	adw_preferences_page_add(page, g);
	return g;
}

static GtkSwitch *switch_row(AdwPreferencesGroup *g, const char *title, const char *subtitle, gui_window *w)
{
	AdwActionRow *r = ADW_ACTION_ROW(adw_action_row_new());
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(r), title);
	adw_action_row_set_subtitle(r, subtitle);
	GtkSwitch *s = GTK_SWITCH(gtk_switch_new());
	gtk_switch_set_active(s, TRUE);
	gtk_widget_set_valign(GTK_WIDGET(s), GTK_ALIGN_CENTER);
	set_name(s, title);
	adw_action_row_add_suffix(r, GTK_WIDGET(s));
	adw_action_row_set_activatable_widget(r, GTK_WIDGET(s));
	g_signal_connect(s, "notify::active", G_CALLBACK(on_switch), w);
	adw_preferences_group_add(g, GTK_WIDGET(r));
	return s;
}

gui_window *gui_window_new(GtkApplication *app, const char *const *sources)
{
	gui_window *w = g_new0(gui_window, 1);
	gui_file_init(&w->file);
	w->win = GTK_WINDOW(adw_application_window_new(app));
	gtk_window_set_title(w->win, "dfukit");
	gtk_window_set_default_size(w->win, 1200, 940);

	GtkBox *outer = GTK_BOX(gtk_box_new(GTK_ORIENTATION_VERTICAL, 0));
	AdwHeaderBar *hb = ADW_HEADER_BAR(adw_header_bar_new());
	adw_header_bar_set_title_widget(hb, adw_window_title_new("dfukit", "USB DFU firmware updater"));
	gtk_box_append(outer, GTK_WIDGET(hb));
	/* Two columns: what will be written (left), doing it (right). */
	GtkBox *cols = GTK_BOX(gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 0));
	gtk_widget_set_vexpand(GTK_WIDGET(cols), TRUE);
	gtk_box_append(outer, GTK_WIDGET(cols));
	AdwPreferencesPage *page = ADW_PREFERENCES_PAGE(adw_preferences_page_new());
	AdwPreferencesPage *right = ADW_PREFERENCES_PAGE(adw_preferences_page_new());
	gtk_widget_set_hexpand(GTK_WIDGET(page), TRUE);
	gtk_widget_set_hexpand(GTK_WIDGET(right), TRUE);
	gtk_box_append(cols, GTK_WIDGET(page));
	gtk_box_append(cols, GTK_WIDGET(right));
	adw_application_window_set_content(ADW_APPLICATION_WINDOW(w->win), GTK_WIDGET(outer));

	/* Devices */
	gui_station_view_build(w, page, hb);
	AdwPreferencesGroup *g = group(page, "Devices");
	w->devices_group = g;
	adw_preferences_group_set_description(g, "Connected DFU devices, updated as they come and go. Pick the one to "
						 "write to; expand a row for its memory.");
	w->device_list = GTK_LIST_BOX(gtk_list_box_new());
	gtk_list_box_set_selection_mode(w->device_list, GTK_SELECTION_NONE);
	gtk_widget_add_css_class(GTK_WIDGET(w->device_list), "boxed-list");
	set_name(w->device_list, "Devices");
	GtkWidget *ph = gtk_label_new("No DFU device found. Connect one, or put it into DFU (bootloader) mode.");
	gtk_label_set_wrap(GTK_LABEL(ph), TRUE);
	gtk_widget_set_margin_top(ph, 12);
	gtk_widget_set_margin_bottom(ph, 12);
	gtk_list_box_set_placeholder(w->device_list, ph);
	adw_preferences_group_add(g, GTK_WIDGET(w->device_list));
	w->device_problems = wrap_label("");
	gtk_widget_add_css_class(GTK_WIDGET(w->device_problems), "dim-label");
	gtk_widget_set_visible(GTK_WIDGET(w->device_problems), FALSE);
	adw_preferences_group_add(g, GTK_WIDGET(w->device_problems));

	/* Firmware */
	g = group(page, "Firmware");
	w->select_button = button("Select File", G_CALLBACK(on_select_file), w);
	adw_preferences_group_set_header_suffix(g, GTK_WIDGET(w->select_button));
	w->file_summary = wrap_label("No file selected. Use Select File, drop a file on the window, or give it on the "
				     "command line.");
	set_name(w->file_summary, "File summary");
	adw_preferences_group_add(g, GTK_WIDGET(w->file_summary));
	w->address_row = ADW_ENTRY_ROW(adw_entry_row_new());
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(w->address_row), "Start address (raw binary)");
	g_signal_connect(w->address_row, "changed", G_CALLBACK(on_address_changed), w);
	gtk_widget_set_visible(GTK_WIDGET(w->address_row), FALSE);
	adw_preferences_group_add(g, GTK_WIDGET(w->address_row));

	/* Plan */
	g = group(page, "Plan");
	w->verify_switch = switch_row(g, "Verify", "Read the memory back and compare", w);
	w->leave_switch = switch_row(g, "Leave DFU mode", "Start the new firmware afterwards (DfuSe)", w);
	w->problems_label = wrap_label("");
	gtk_widget_add_css_class(GTK_WIDGET(w->problems_label), "error");
	set_name(w->problems_label, "Problems");
	adw_preferences_group_add(g, GTK_WIDGET(w->problems_label));
	w->plan_label = wrap_label("");
	set_name(w->plan_label, "Plan");
	adw_preferences_group_add(g, GTK_WIDGET(w->plan_label));

	/* Actions */
	g = group(right, "Actions");
	w->actions_group = g;
	GtkBox *row = GTK_BOX(gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12));
	w->download_button = button("Download Firmware", G_CALLBACK(on_download), w);
	gtk_widget_add_css_class(GTK_WIDGET(w->download_button), "suggested-action");
	gtk_widget_set_tooltip_text(GTK_WIDGET(w->download_button), "Write the file to the device and verify it");
	w->read_button = button("Read from Device", G_CALLBACK(on_read), w);
	gtk_widget_set_tooltip_text(GTK_WIDGET(w->read_button), "Back up the device's memory into the read-out file");
	w->cancel_button = button("Cancel", G_CALLBACK(on_cancel), w);
	gtk_box_append(row, GTK_WIDGET(w->download_button));
	gtk_box_append(row, GTK_WIDGET(w->read_button));
	gtk_box_append(row, GTK_WIDGET(w->cancel_button));
	adw_preferences_group_add(g, GTK_WIDGET(row));
	w->result_label = wrap_label("Ready.");
	gtk_widget_add_css_class(GTK_WIDGET(w->result_label), "title-4");
	gtk_widget_set_margin_top(GTK_WIDGET(w->result_label), 12);
	adw_preferences_group_add(g, GTK_WIDGET(w->result_label));
	w->readout_row = ADW_ENTRY_ROW(adw_entry_row_new());
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(w->readout_row), "Read-out file");
	char *def = g_build_filename(g_get_home_dir(), "dfukit-backup.bin", NULL);
	gtk_editable_set_text(GTK_EDITABLE(w->readout_row), def);
	g_free(def);
	GtkButton *choose = button("Choose…", G_CALLBACK(on_choose_readout), w);
	set_name(choose, "Choose read-out file");
	gtk_widget_set_valign(GTK_WIDGET(choose), GTK_ALIGN_CENTER);
	GtkBox *danger = GTK_BOX(gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12));
	gtk_widget_set_margin_top(GTK_WIDGET(danger), 12);
	w->erase_button = button("Erase Whole Chip…", G_CALLBACK(on_mass_erase), w);
	w->unprotect_button = button("Remove Read Protection…", G_CALLBACK(on_unprotect), w);
	gtk_widget_add_css_class(GTK_WIDGET(w->erase_button), "destructive-action");
	gtk_widget_add_css_class(GTK_WIDGET(w->unprotect_button), "destructive-action");
	gtk_widget_set_tooltip_text(GTK_WIDGET(w->erase_button), "DfuSe mass erase: asks first, says what is lost");
	gtk_widget_set_tooltip_text(GTK_WIDGET(w->unprotect_button), "DfuSe read unprotect: asks first");
	gtk_box_append(danger, GTK_WIDGET(w->erase_button));
	gtk_box_append(danger, GTK_WIDGET(w->unprotect_button));
	adw_preferences_group_add(g, GTK_WIDGET(danger));
	adw_entry_row_add_suffix(w->readout_row, GTK_WIDGET(choose));
	adw_preferences_group_add(g, GTK_WIDGET(w->readout_row));

	/* Progress */
	g = group(right, "Progress");
	w->progress_group = g;
	for (int i = 0; i < GUI_PHASE_COUNT; i++) {
		w->phase_rows[i] = ADW_ACTION_ROW(adw_action_row_new());
		adw_preferences_row_set_title(ADW_PREFERENCES_ROW(w->phase_rows[i]), gui_phase_title(i));
		w->bars[i] = GTK_PROGRESS_BAR(gtk_progress_bar_new());
		gtk_progress_bar_set_show_text(w->bars[i], FALSE);
		gtk_widget_set_valign(GTK_WIDGET(w->bars[i]), GTK_ALIGN_CENTER);
		gtk_widget_set_size_request(GTK_WIDGET(w->bars[i]), 260, -1);
		char *n = g_strdup_printf("%s progress", gui_phase_title(i));
		set_name(w->bars[i], n);
		g_free(n);
		adw_action_row_add_suffix(w->phase_rows[i], GTK_WIDGET(w->bars[i]));
		adw_preferences_group_add(g, GTK_WIDGET(w->phase_rows[i]));
	}

	/* Log */
	g = group(right, "Log");
	GtkBox *lb = GTK_BOX(gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6));
	gtk_box_append(lb, GTK_WIDGET(button("Copy Log", G_CALLBACK(on_copy_log), w)));
	w->save_report_button = button("Save report", G_CALLBACK(on_save_report), w);
	gtk_widget_set_sensitive(GTK_WIDGET(w->save_report_button), FALSE);
	gtk_box_append(lb, GTK_WIDGET(w->save_report_button));
	adw_preferences_group_set_header_suffix(g, GTK_WIDGET(lb));
	GtkWidget *tv = gtk_text_view_new();
	gtk_text_view_set_editable(GTK_TEXT_VIEW(tv), FALSE);
	gtk_text_view_set_monospace(GTK_TEXT_VIEW(tv), TRUE);
	gtk_text_view_set_wrap_mode(GTK_TEXT_VIEW(tv), GTK_WRAP_WORD_CHAR);
	set_name(tv, "Log");
	w->log = gtk_text_view_get_buffer(GTK_TEXT_VIEW(tv));
	GtkWidget *sw = gtk_scrolled_window_new();
	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(sw), tv);
	gtk_widget_set_size_request(sw, -1, 160);
	w->log_scroller = sw;
	adw_preferences_group_add(g, sw);

	GtkDropTarget *drop = gtk_drop_target_new(G_TYPE_FILE, GDK_ACTION_COPY);
	g_signal_connect(drop, "drop", G_CALLBACK(on_drop), w);
	gtk_widget_add_controller(GTK_WIDGET(w->win), GTK_EVENT_CONTROLLER(drop));
	g_signal_connect(w->win, "close-request", G_CALLBACK(on_close_request), w);
	g_signal_connect(w->win, "destroy", G_CALLBACK(on_destroy), w);

	gui_window_update(w);
	if (sources) {
		w->scanner = gui_scanner_start(sources, 1000, on_scan, w);
		for (size_t i = 0; sources[i]; i++)
			if (strcmp(sources[i], "libusb") == 0)
				log_line(w, "info",
					 gui_scanner_hotplug(w->scanner)
					     ? "Local USB: the list follows plug and unplug (libusb hotplug)"
					     : "Local USB: checked every second (this libusb has no hotplug support)");
	}
	return w;
}
