/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit-gui: station mode in the window: a row per connected device with
 * its progress, state and log, "Flash all", auto-flash of new devices and
 * the pass/fail counters. Each device's job runs on its own worker thread
 * with its own context and transport (gui_worker.c); the rows' states are
 * gui_station.c's. */
#include <stdio.h>
#include <string.h>

#include "gui_window.h"

/* The widgets of one row. */
typedef struct station_widgets {
	GtkWidget *row;
	GtkLabel *state, *log;
	GtkProgressBar *bar;
	GtkButton *stop;
} station_widgets;

/* One running job's view of the window. */
typedef struct station_job {
	gui_window *w;
	char key[200];
	char source[128];
	char path[128]; /* as the transport names it */
	gui_job *job;
} station_job;

static void set_name(gpointer widget, const char *name)
{
	gtk_accessible_update_property(GTK_ACCESSIBLE(widget), GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
}

static void main_log(gui_window *w, const char *level, const char *msg)
{
	GtkTextIter end;
	gtk_text_buffer_get_end_iter(w->log, &end);
	char *line =
	    g_strdup_printf("%s%s%s\n", strcmp(level, "info") ? level : "", strcmp(level, "info") ? ": " : "", msg);
	gtk_text_buffer_insert(w->log, &end, line, -1);
	g_free(line);
}

static void refresh_row(gui_window *w, const gui_station_row *r)
{
	station_widgets *sw = g_hash_table_lookup(w->station_widgets, r->key);
	if (!sw)
		return;
	char *state = gui_station_state_text(r);
	gtk_label_set_text(sw->state, state);
	const char *cls[] = {"success", "error", "accent"};
	for (size_t i = 0; i < G_N_ELEMENTS(cls); i++)
		gtk_widget_remove_css_class(GTK_WIDGET(sw->state), cls[i]);
	if (r->state != GUI_STATION_WAITING)
		gtk_widget_add_css_class(GTK_WIDGET(sw->state), r->state == GUI_STATION_PASSED	 ? "success"
								: r->state == GUI_STATION_FAILED ? "error"
												 : "accent");
	gtk_widget_set_tooltip_text(GTK_WIDGET(sw->state), state);
	gtk_label_set_text(sw->log, r->log && r->log->len ? r->log->str : "(nothing yet)");
	gtk_widget_set_sensitive(GTK_WIDGET(sw->stop), r->state == GUI_STATION_FLASHING);
	if (r->state == GUI_STATION_PASSED) {
		gtk_progress_bar_set_fraction(sw->bar, 1.0);
		gtk_progress_bar_set_text(sw->bar, "done");
	} else if (r->state == GUI_STATION_WAITING) {
		gtk_progress_bar_set_fraction(sw->bar, 0.0);
		gtk_progress_bar_set_text(sw->bar, "");
	}
	g_free(state);
}

static void refresh_counters(gui_window *w)
{
	char *c = gui_station_counters(&w->station);
	gtk_label_set_text(w->counters_label, c);
	g_free(c);
}

static void on_stop(GtkButton *b, gpointer user)
{
	gui_window *w = user;
	station_job *sj = g_hash_table_lookup(w->station_jobs, g_object_get_data(G_OBJECT(b), "key"));
	if (sj && sj->job) {
		gui_station_log(&w->station, sj->key, "Stopping…");
		gui_job_cancel(sj->job);
	}
}

static GtkWidget *make_row(gui_window *w, const gui_station_row *r)
{
	station_widgets *sw = g_new0(station_widgets, 1);
	AdwExpanderRow *row = ADW_EXPANDER_ROW(adw_expander_row_new());
	char *t = g_markup_escape_text(r->name, -1);
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), t);
	g_free(t);
	char *sub = g_strdup_printf("%s · path %s (%s)", r->ids, r->path, r->source);
	t = g_markup_escape_text(sub, -1);
	adw_expander_row_set_subtitle(row, t);
	g_free(t);
	char *name = g_strdup_printf("Station device %s at %s", r->ids, r->path);
	set_name(row, name);
	g_free(name);

	GtkBox *box = GTK_BOX(gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12));
	gtk_widget_set_valign(GTK_WIDGET(box), GTK_ALIGN_CENTER);
	sw->state = GTK_LABEL(gtk_label_new(""));
	gtk_label_set_ellipsize(sw->state, PANGO_ELLIPSIZE_END);
	gtk_label_set_max_width_chars(sw->state, 28);
	gtk_label_set_width_chars(sw->state, 10);
	gtk_label_set_xalign(sw->state, 0);
	sw->bar = GTK_PROGRESS_BAR(gtk_progress_bar_new());
	gtk_progress_bar_set_show_text(sw->bar, TRUE);
	gtk_widget_set_size_request(GTK_WIDGET(sw->bar), 160, -1);
	gtk_widget_set_valign(GTK_WIDGET(sw->bar), GTK_ALIGN_CENTER);
	name = g_strdup_printf("Progress of %s", r->path);
	set_name(sw->bar, name);
	g_free(name);
	sw->stop = GTK_BUTTON(gtk_button_new_with_label("Stop"));
	name = g_strdup_printf("Stop %s", r->path);
	set_name(sw->stop, name);
	gtk_widget_set_tooltip_text(GTK_WIDGET(sw->stop), name);
	g_free(name);
	g_object_set_data_full(G_OBJECT(sw->stop), "key", g_strdup(r->key), g_free);
	g_signal_connect(sw->stop, "clicked", G_CALLBACK(on_stop), w);
	gtk_box_append(box, GTK_WIDGET(sw->bar));
	gtk_box_append(box, GTK_WIDGET(sw->state));
	gtk_box_append(box, GTK_WIDGET(sw->stop));
	adw_expander_row_add_action(row, GTK_WIDGET(box));

	/* The device's own log, on expansion. */
	sw->log = GTK_LABEL(gtk_label_new(""));
	gtk_label_set_wrap(sw->log, TRUE);
	gtk_label_set_xalign(sw->log, 0);
	gtk_label_set_selectable(sw->log, TRUE);
	gtk_widget_add_css_class(GTK_WIDGET(sw->log), "monospace");
	gtk_widget_set_margin_start(GTK_WIDGET(sw->log), 12);
	gtk_widget_set_margin_end(GTK_WIDGET(sw->log), 12);
	gtk_widget_set_margin_top(GTK_WIDGET(sw->log), 6);
	gtk_widget_set_margin_bottom(GTK_WIDGET(sw->log), 6);
	/* Its accessible name is its text: the device's lines. */
	adw_expander_row_add_row(row, GTK_WIDGET(sw->log));

	sw->row = GTK_WIDGET(row);
	g_object_set_data_full(G_OBJECT(row), "key", g_strdup(r->key), g_free);
	g_hash_table_replace(w->station_widgets, g_strdup(r->key), sw);
	return GTK_WIDGET(row);
}

/* Rows made anew; an expanded row stays expanded. */
static void rebuild(gui_window *w)
{
	GHashTable *expanded = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GtkWidget *child;
	while ((child = gtk_widget_get_first_child(GTK_WIDGET(w->station_list)))) {
		const char *key = g_object_get_data(G_OBJECT(child), "key");
		if (key && ADW_IS_EXPANDER_ROW(child) && adw_expander_row_get_expanded(ADW_EXPANDER_ROW(child)))
			g_hash_table_add(expanded, g_strdup(key));
		gtk_list_box_remove(w->station_list, child);
	}
	g_hash_table_remove_all(w->station_widgets);
	for (size_t i = 0; i < w->station.count; i++) {
		const gui_station_row *r = &w->station.rows[i];
		GtkWidget *row = make_row(w, r);
		if (g_hash_table_contains(expanded, r->key))
			adw_expander_row_set_expanded(ADW_EXPANDER_ROW(row), TRUE);
		gtk_list_box_append(w->station_list, row);
		refresh_row(w, r);
	}
	g_hash_table_destroy(expanded);
}

static void refresh_all(gui_window *w)
{
	for (size_t i = 0; i < w->station.count; i++)
		refresh_row(w, &w->station.rows[i]);
	refresh_counters(w);
}

/* ---- Jobs ---- */

static void on_job_log(void *user, const char *level, const char *msg)
{
	station_job *sj = user;
	char *line =
	    g_strdup_printf("%s%s%s", strcmp(level, "info") ? level : "", strcmp(level, "info") ? ": " : "", msg);
	gui_station_log(&sj->w->station, sj->key, line);
	g_free(line);
	const gui_station_row *r = gui_station_find(&sj->w->station, sj->key);
	if (r && !sj->w->closing)
		refresh_row(sj->w, r);
}

static void on_job_progress(void *user, gui_phase phase, uint64_t done, uint64_t total, uint32_t addr)
{
	(void)addr;
	station_job *sj = user;
	if (sj->w->closing)
		return;
	station_widgets *sw = g_hash_table_lookup(sj->w->station_widgets, sj->key);
	if (!sw)
		return;
	double frac = total ? (double)done / (double)total : 0.0;
	if (frac > 1)
		frac = 1;
	gtk_progress_bar_set_fraction(sw->bar, frac);
	char *t = g_strdup_printf("%s %.0f%%", gui_phase_title(phase), frac * 100);
	gtk_progress_bar_set_text(sw->bar, t);
	g_free(t);
}

static void on_job_done(void *user, const gui_job_result *r)
{
	station_job *sj = user;
	gui_window *w = sj->w;
	bool ok = r->ok && r->verified;
	char *text = gui_result_text(r->operation, r->ok, r->verified, r->bytes, r->message);
	gui_station_log(&w->station, sj->key, text);
	gui_station_end(&w->station, sj->key, ok, ok ? "" : r->message);
	gui_scanner_watch_end(w->scanner, sj->source, sj->path);
	const gui_station_row *row = gui_station_find(&w->station, sj->key);
	char *m = g_strdup_printf("[%s] %s", row ? row->path : sj->path, text);
	main_log(w, ok ? "info" : "error", m);
	g_free(m);
	g_free(text);
	g_hash_table_remove(w->station_jobs, sj->key); /* frees sj */
	if (w->closing) {
		if (g_hash_table_size(w->station_jobs) == 0 && !w->job)
			gtk_window_destroy(w->win);
		return;
	}
	refresh_all(w);
	gui_window_update(w);
}

/* The address of a raw file on device d: the one typed in, else alt 0's
 * first writable segment. */
static bool station_address(gui_window *w, const gui_device *d, uint32_t *addr)
{
	if (w->address_edited && gui_parse_address(gtk_editable_get_text(GTK_EDITABLE(w->address_row)), addr))
		return true;
	return gui_default_address(d, addr);
}

/* Starts d's job: false when it cannot be started (no file, busy row). */
static bool start_one(gui_window *w, const gui_device *d)
{
	if (!w->file.loaded || w->closing || !gui_station_begin(&w->station, d->key))
		return false;
	station_job *sj = g_new0(station_job, 1);
	sj->w = w;
	snprintf(sj->key, sizeof(sj->key), "%s", d->key);
	snprintf(sj->source, sizeof(sj->source), "%s", d->source);
	size_t n = strlen(d->source);
	snprintf(sj->path, sizeof(sj->path), "%s",
		 strncmp(d->key, d->source, n) == 0 && d->key[n] == '|' ? d->key + n + 1 : d->path);
	gui_scanner_watch_begin(w->scanner, sj->source, sj->path);
	gui_download_opts o = {0};
	o.file = w->file.path;
	o.verify = gtk_switch_get_active(w->verify_switch);
	o.leave = gtk_switch_get_active(w->leave_switch);
	/* What the plan says for this device: a problem, or option bytes
	 * (single-device mode asks first; a station does not write them). */
	uint32_t addr = 0;
	bool addr_ok = !(w->file.raw && d->dfuse) || station_address(w, d, &addr);
	gui_preview p;
	gui_preview_build(&w->file, d, addr, o.verify, o.leave, &p);
	const char *refuse = !addr_ok	      ? "no start address for the raw file"
			     : !p.ok	      ? (p.problems[0] ? p.problems : "the file cannot be written")
			     : p.option_bytes ? "the file writes option bytes: use single-device mode, which asks first"
					      : NULL;
	if (refuse) {
		gui_station_log(&w->station, d->key, refuse);
		gui_station_end(&w->station, d->key, false, refuse);
		gui_scanner_watch_end(w->scanner, sj->source, sj->path);
		gui_preview_free(&p);
		g_free(sj);
		refresh_all(w);
		return false;
	}
	gui_preview_free(&p);
	if (w->file.raw && d->dfuse) {
		o.has_address = true;
		o.address = addr;
	}
	gui_station_row *r = gui_station_find(&w->station, d->key);
	if (r && r->log)
		g_string_truncate(r->log, 0);
	char *m = g_strdup_printf("[%s] flashing %s", d->path, w->file.path);
	main_log(w, "info", m);
	g_free(m);
	gui_job_events ev = {on_job_log, on_job_progress, on_job_done, sj, w->scanner, true};
	g_hash_table_replace(w->station_jobs, g_strdup(sj->key), sj);
	sj->job = gui_job_download(d, &o, &ev);
	if (r)
		refresh_row(w, r);
	refresh_counters(w);
	return true;
}

size_t gui_window_flash_all(gui_window *w)
{
	size_t n = 0;
	for (size_t i = 0; i < w->devices.count; i++)
		n += start_one(w, &w->devices.devs[i]);
	gui_window_update(w);
	return n;
}

static void auto_flash(gui_window *w, const gui_device_list *l)
{
	if (!w->station_mode || !gtk_switch_get_active(w->auto_switch) || !w->file.loaded)
		return;
	for (size_t i = 0; i < l->count; i++)
		if (gui_station_wants_auto(&w->station, &l->devs[i])) {
			char *m = g_strdup_printf("New device at %s: auto-flash", l->devs[i].path);
			main_log(w, "info", m);
			g_free(m);
			start_one(w, &l->devs[i]);
		}
}

void gui_station_view_devices(gui_window *w, const gui_device_list *l)
{
	if (!w->station_mode)
		return;
	if (gui_station_sync(&w->station, l))
		rebuild(w);
	auto_flash(w, l);
	refresh_all(w);
}

static void on_flash_all(GtkButton *b, gpointer user)
{
	(void)b;
	gui_window_flash_all(user);
}

static void on_auto(GObject *o, GParamSpec *ps, gpointer user)
{
	(void)o;
	(void)ps;
	gui_window *w = user;
	main_log(w, "info",
		 gtk_switch_get_active(w->auto_switch) ? "Auto-flash on: each new device is flashed when it appears"
						       : "Auto-flash off");
	auto_flash(w, &w->devices);
	gui_window_update(w);
}

void gui_window_set_station_mode(gui_window *w, bool on)
{
	if (on == w->station_mode)
		return;
	if (!on && (gui_station_running(&w->station) || g_hash_table_size(w->station_jobs))) {
		gtk_toggle_button_set_active(w->station_toggle, TRUE);
		return;
	}
	w->station_mode = on;
	if (gtk_toggle_button_get_active(w->station_toggle) != on)
		gtk_toggle_button_set_active(w->station_toggle, on);
	gtk_widget_set_visible(GTK_WIDGET(w->station_group), on);
	gtk_widget_set_visible(GTK_WIDGET(w->devices_group), !on);
	gtk_widget_set_visible(GTK_WIDGET(w->actions_group), !on);
	gtk_widget_set_visible(GTK_WIDGET(w->progress_group), !on);
	/* The log has the right-hand side to itself. */
	gtk_widget_set_size_request(w->log_scroller, -1, on ? 640 : 160);
	main_log(w, "info",
		 on ? "Station mode: every device a row; Flash all, or auto-flash new devices" : "Single-device mode");
	if (on) {
		gui_station_sync(&w->station, &w->devices);
		rebuild(w);
		refresh_all(w);
		auto_flash(w, &w->devices);
	} else {
		auto_flash(w, &w->devices);
	}
	gui_window_update(w);
}

static void on_station_toggled(GtkToggleButton *b, gpointer user)
{
	gui_window_set_station_mode(user, gtk_toggle_button_get_active(b));
}

void gui_station_view_update(gui_window *w)
{
	bool running = g_hash_table_size(w->station_jobs) > 0;
	bool startable = false;
	for (size_t i = 0; i < w->station.count && !startable; i++) {
		const gui_station_row *r = &w->station.rows[i];
		startable = r->present && r->usable && r->state != GUI_STATION_FLASHING;
	}
	gtk_widget_set_sensitive(GTK_WIDGET(w->flash_all_button), w->file.loaded && startable);
	gtk_widget_set_sensitive(GTK_WIDGET(w->station_toggle), !w->job && !w->confirming && !running);
	if (w->station_mode)
		gtk_widget_set_sensitive(GTK_WIDGET(w->select_button), !running);
}

bool gui_station_view_cancel_all(gui_window *w)
{
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, w->station_jobs);
	while (g_hash_table_iter_next(&it, NULL, &v))
		gui_job_cancel(((station_job *)v)->job);
	return g_hash_table_size(w->station_jobs) > 0;
}

void gui_station_view_build(gui_window *w, AdwPreferencesPage *page, AdwHeaderBar *hb)
{
	gui_station_init(&w->station);
	w->station_jobs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	w->station_widgets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

	w->station_toggle = GTK_TOGGLE_BUTTON(gtk_toggle_button_new_with_label("Station mode"));
	set_name(w->station_toggle, "Station mode");
	gtk_widget_set_tooltip_text(GTK_WIDGET(w->station_toggle),
				    "Flash many boards: every device a row, Flash all, auto-flash new devices");
	g_signal_connect(w->station_toggle, "toggled", G_CALLBACK(on_station_toggled), w);
	adw_header_bar_pack_start(hb, GTK_WIDGET(w->station_toggle));

	AdwPreferencesGroup *g = ADW_PREFERENCES_GROUP(adw_preferences_group_new());
	adw_preferences_group_set_title(g, "Station");
	adw_preferences_group_set_description(g, "Every connected device is flashed with the file, each on its own. "
						 "Expand a row for that device's log.");
	w->station_group = g;
	w->flash_all_button = GTK_BUTTON(gtk_button_new_with_mnemonic("Flash all"));
	gtk_widget_add_css_class(GTK_WIDGET(w->flash_all_button), "suggested-action");
	gtk_widget_set_tooltip_text(GTK_WIDGET(w->flash_all_button),
				    "Write the file to every connected device that is not being flashed");
	g_signal_connect(w->flash_all_button, "clicked", G_CALLBACK(on_flash_all), w);
	adw_preferences_group_set_header_suffix(g, GTK_WIDGET(w->flash_all_button));

	AdwActionRow *ar = ADW_ACTION_ROW(adw_action_row_new());
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(ar), "Auto-flash new devices");
	adw_action_row_set_subtitle(ar, "Flash each device as it is connected (once: not again when it "
					"re-enumerates after its flash)");
	w->auto_switch = GTK_SWITCH(gtk_switch_new());
	gtk_widget_set_valign(GTK_WIDGET(w->auto_switch), GTK_ALIGN_CENTER);
	set_name(w->auto_switch, "Auto-flash new devices");
	adw_action_row_add_suffix(ar, GTK_WIDGET(w->auto_switch));
	adw_action_row_set_activatable_widget(ar, GTK_WIDGET(w->auto_switch));
	g_signal_connect(w->auto_switch, "notify::active", G_CALLBACK(on_auto), w);
	adw_preferences_group_add(g, GTK_WIDGET(ar));

	w->counters_label = GTK_LABEL(gtk_label_new(""));
	gtk_label_set_xalign(w->counters_label, 0);
	gtk_widget_add_css_class(GTK_WIDGET(w->counters_label), "title-4");
	gtk_widget_set_margin_top(GTK_WIDGET(w->counters_label), 6);
	gtk_widget_set_margin_bottom(GTK_WIDGET(w->counters_label), 6);
	adw_preferences_group_add(g, GTK_WIDGET(w->counters_label));
	refresh_counters(w);

	w->station_list = GTK_LIST_BOX(gtk_list_box_new());
	gtk_list_box_set_selection_mode(w->station_list, GTK_SELECTION_NONE);
	gtk_widget_add_css_class(GTK_WIDGET(w->station_list), "boxed-list");
	set_name(w->station_list, "Station devices");
	GtkWidget *ph = gtk_label_new("No DFU device connected. Connect boards in DFU (bootloader) mode.");
	gtk_label_set_wrap(GTK_LABEL(ph), TRUE);
	gtk_widget_set_margin_top(ph, 12);
	gtk_widget_set_margin_bottom(ph, 12);
	gtk_list_box_set_placeholder(w->station_list, ph);
	adw_preferences_group_add(g, GTK_WIDGET(w->station_list));
	gtk_widget_set_visible(GTK_WIDGET(g), FALSE);
	adw_preferences_page_add(page, g);
}

const gui_device *gui_station_view_plan_device(const gui_window *w)
{
	for (size_t i = 0; i < w->devices.count; i++)
		if (w->devices.devs[i].status != GUI_DEV_BROKEN)
			return &w->devices.devs[i];
	return NULL;
}

void gui_station_view_free(gui_window *w)
{
	gui_station_free(&w->station);
	/* The jobs table stays: a job still running posts to it. */
	g_hash_table_remove_all(w->station_widgets);
}
