/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit-gui in-process: the window's logic with real widgets (under
 * xvfb-run, GTK_A11Y=test): file summary, device matching by the DFU
 * suffix, default address, plan preview, flagged elements, and the result
 * line after success and failure. No device is involved: devices are fed
 * as the scanner would deliver them. */
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include <libusb.h>

#include "gui_window.h"

static char *tmpdir;

static gui_device make_dev(const char *key, uint16_t vid, uint16_t pid, const char *map)
{
	static gui_alt alt;
	gui_device d;
	memset(&d, 0, sizeof(d));
	snprintf(d.source, sizeof(d.source), "unix:/nowhere");
	snprintf(d.path, sizeof(d.path), "%s", key);
	snprintf(d.key, sizeof(d.key), "unix:/nowhere|%s", key);
	snprintf(d.name, sizeof(d.name), "Test %s", key);
	d.vid = vid;
	d.pid = pid;
	d.status = GUI_DEV_READY;
	d.dfuse = true;
	d.can_upload = true;
	memset(&alt, 0, sizeof(alt));
	snprintf(alt.name, sizeof(alt.name), "%s", map);
	alt.has_map = true;
	d.alts = &alt;
	d.nalts = 1;
	return d;
}

#define F405 "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg"
#define LOADER "@Internal Flash  /0x08000000/12*001Ka,116*001Kg"

static void feed(gui_window *w, const gui_device *a, const gui_device *b)
{
	gui_device_list l = {0};
	g_assert_true(gui_device_list_append(&l, a));
	if (b)
		g_assert_true(gui_device_list_append(&l, b));
	gui_window_set_devices(w, &l, "");
}

static char *write_file(const char *name, const void *data, size_t len)
{
	char *p = g_build_filename(tmpdir, name, NULL);
	g_assert_true(g_file_set_contents(p, data, (gssize)len, NULL));
	return p;
}

/* A DfuSe .dfu for 0483:df11 in tmpdir: one target (alt, name) holding len
 * bytes of fill at addr. */
static char *write_dfuse_target(const char *file, uint8_t alt, const char *name, uint32_t addr, uint8_t fill,
				size_t len)
{
	dfk_firmware fw;
	dfk_error e;
	dfk_firmware_init(&fw);
	dfk_target *t = dfk_firmware_add_target(&fw, alt, name, &e);
	g_assert_nonnull(t);
	uint8_t data[256];
	g_assert_cmpuint(len, <=, sizeof(data));
	memset(data, fill, len);
	g_assert_cmpint(dfk_image_add(&t->image, addr, data, len, &e), ==, DFK_OK);
	char *p = g_build_filename(tmpdir, file, NULL);
	dfk_out *out;
	g_assert_cmpint(dfk_out_open(&out, p, DFK_OUT_OVERWRITE, &e), ==, DFK_OK);
	g_assert_cmpint(dfk_dfuse_write(out, &fw, 0x0483, 0xdf11, 0x2200, &e), ==, DFK_OK);
	g_assert_cmpint(dfk_out_commit(out, &e), ==, DFK_OK);
	dfk_firmware_free(&fw);
	return p;
}

/* One 100-byte element at 0x08004000 in internal flash. */
static char *write_dfuse(void)
{
	return write_dfuse_target("fw.dfu", 0, "Internal Flash", 0x08004000, 0x5a, 100);
}

static gui_window *new_window(void)
{
	gui_window *w = gui_window_new(NULL, NULL);
	gtk_window_present(w->win);
	return w;
}

static const char *label(GtkLabel *l)
{
	return gtk_label_get_text(l);
}

static void test_raw_file(void)
{
	gui_window *w = new_window();
	gtk_test_accessible_assert_role(GTK_ACCESSIBLE(w->download_button), GTK_ACCESSIBLE_ROLE_BUTTON);
	g_assert_cmpstr(gtk_button_get_label(w->download_button), ==, "Download Firmware");
	g_assert_cmpstr(gtk_button_get_label(w->select_button), ==, "Select File");
	g_assert_cmpstr(gtk_button_get_label(w->read_button), ==, "Read from Device");
	g_assert_cmpstr(gtk_button_get_label(w->cancel_button), ==, "Cancel");
	/* Nothing chosen: nothing can be written. */
	g_assert_false(gtk_widget_get_sensitive(GTK_WIDGET(w->download_button)));

	gui_device d = make_dev("1-1", 0x0483, 0xdf11, F405);
	feed(w, &d, NULL);
	g_assert_nonnull(gui_window_device(w)); /* the only device is picked */
	uint8_t buf[20000];
	memset(buf, 0xa5, sizeof(buf));
	char *p = write_file("fw.bin", buf, sizeof(buf));
	gui_window_open_file(w, p);
	g_assert_nonnull(strstr(label(w->file_summary), "fw.bin: raw, 1 target"));
	g_assert_nonnull(strstr(label(w->file_summary), "20000 bytes"));
	g_assert_nonnull(strstr(label(w->file_summary), "No DFU suffix"));
	/* The address defaults to alt 0's first writable segment. */
	g_assert_true(gtk_widget_get_visible(GTK_WIDGET(w->address_row)));
	g_assert_cmpstr(gtk_editable_get_text(GTK_EDITABLE(w->address_row)), ==, "0x08000000");
	/* 20000 bytes: one whole 16 KiB page and part of the next. */
	const char *plan = label(w->plan_label);
	g_assert_nonnull(strstr(plan, "Erase page 0x08000000 (16 KiB)\n"));
	g_assert_nonnull(strstr(plan, "Erase page 0x08004000 (16 KiB): only partly covered"));
	g_assert_nonnull(strstr(plan, "2 pages to erase (32 KiB, 1 partly covered), 20000 bytes to write; verify on"));
	g_assert_true(gtk_widget_get_sensitive(GTK_WIDGET(w->download_button)));

	/* Outside the device's memory: flagged, not writable. */
	gtk_editable_set_text(GTK_EDITABLE(w->address_row), "0x20000000");
	g_assert_nonnull(strstr(label(w->problems_label), "0x20000000 is outside the device's memory"));
	g_assert_false(gtk_widget_get_sensitive(GTK_WIDGET(w->download_button)));
	gtk_editable_set_text(GTK_EDITABLE(w->address_row), "banana");
	g_assert_nonnull(strstr(label(w->problems_label), "not a number"));
	g_assert_false(gtk_widget_get_sensitive(GTK_WIDGET(w->download_button)));
	gtk_window_destroy(w->win);
	g_free(p);
}

static void test_readonly_region(void)
{
	gui_window *w = new_window();
	gui_device d = make_dev("1-2", 0x0483, 0xdf11, LOADER);
	feed(w, &d, NULL);
	uint8_t buf[4096];
	memset(buf, 1, sizeof(buf));
	char *p = write_file("loader.bin", buf, sizeof(buf));
	gui_window_open_file(w, p);
	/* The default skips the loader's read-only first 12 KiB. */
	g_assert_cmpstr(gtk_editable_get_text(GTK_EDITABLE(w->address_row)), ==, "0x08003000");
	g_assert_true(gtk_widget_get_sensitive(GTK_WIDGET(w->download_button)));
	gtk_editable_set_text(GTK_EDITABLE(w->address_row), "0x08002800");
	g_assert_nonnull(strstr(label(w->problems_label), "0x08002800–0x08002fff is read-only memory"));
	g_assert_false(gtk_widget_get_sensitive(GTK_WIDGET(w->download_button)));
	gtk_window_destroy(w->win);
	g_free(p);
}

static void test_suffix_match(void)
{
	gui_window *w = new_window();
	gui_device other = make_dev("1-3", 0x1209, 0xdf11, F405);
	gui_device st = make_dev("1-4", 0x0483, 0xdf11, F405);
	feed(w, &other, &st);
	/* Two devices and no file: the user chooses. */
	g_assert_null(gui_window_device(w));
	char *p = write_dfuse();
	gui_window_open_file(w, p);
	g_assert_nonnull(strstr(label(w->file_summary), "dfuse, 1 target"));
	g_assert_nonnull(strstr(label(w->file_summary), "element 0: 0x08004000–0x08004063, 100 bytes"));
	g_assert_nonnull(strstr(label(w->file_summary), "DFU suffix: device 0483:df11"));
	const gui_device *sel = gui_window_device(w);
	g_assert_nonnull(sel);
	g_assert_cmpstr(sel->path, ==, "1-4");
	/* A .dfu carries its addresses: no address to ask for. */
	g_assert_false(gtk_widget_get_visible(GTK_WIDGET(w->address_row)));
	g_assert_nonnull(strstr(label(w->plan_label), "Erase page 0x08004000 (16 KiB): only partly covered"));
	g_assert_nonnull(strstr(label(w->plan_label), "Write 100 bytes at 0x08004000"));
	gtk_window_destroy(w->win);
	g_free(p);
}

static void test_bad_file(void)
{
	gui_window *w = new_window();
	char *p = write_file("bad.hex", ":10000000ZZ\n", 12);
	gui_window_open_file(w, p);
	g_assert_true(g_str_has_prefix(label(w->file_summary), "Cannot use this file: "));
	g_assert_false(gtk_widget_get_sensitive(GTK_WIDGET(w->download_button)));
	gtk_window_destroy(w->win);
	g_free(p);
}

static void test_results(void)
{
	gui_window *w = new_window();
	gui_job_result r = {"download", true, true, false, 1234, "", "{\"result\":\"ok\"}\n"};
	gui_window_job_done(w, &r);
	g_assert_true(g_str_has_prefix(label(w->result_label), "Success"));
	g_assert_true(gtk_widget_has_css_class(GTK_WIDGET(w->result_label), "success"));
	g_assert_true(gtk_widget_get_sensitive(GTK_WIDGET(w->save_report_button)));

	/* Finished but not read back: never "Success". */
	r.verified = false;
	gui_window_job_done(w, &r);
	g_assert_false(g_str_has_prefix(label(w->result_label), "Success"));
	g_assert_true(g_str_has_prefix(label(w->result_label), "Not verified"));

	r.ok = false;
	r.message = "download to 0x08004000: device status errWRITE";
	gui_window_job_done(w, &r);
	g_assert_cmpstr(label(w->result_label), ==, "Failed: download to 0x08004000: device status errWRITE");
	g_assert_true(gtk_widget_has_css_class(GTK_WIDGET(w->result_label), "error"));
	g_assert_false(gtk_widget_has_css_class(GTK_WIDGET(w->result_label), "success"));
	gtk_window_destroy(w->win);
}

static char *log_text(gui_window *w)
{
	GtkTextIter a, b;
	gtk_text_buffer_get_bounds(w->log, &a, &b);
	return gtk_text_buffer_get_text(w->log, &a, &b, FALSE);
}

static size_t rows(gui_window *w)
{
	size_t n = 0;
	for (GtkWidget *c = gtk_widget_get_first_child(GTK_WIDGET(w->device_list)); c;
	     c = gtk_widget_get_next_sibling(c))
		n += ADW_IS_EXPANDER_ROW(c);
	return n;
}

/* The list as the scanner delivers it: rows and log lines follow devices
 * coming and going; an expanded row stays expanded across a refresh. */
static void test_device_changes(void)
{
	gui_window *w = new_window();
	gui_device a = make_dev("1-5", 0x0483, 0xdf11, F405);
	feed(w, &a, NULL);
	g_assert_cmpuint(rows(w), ==, 1);
	char *t = log_text(w);
	g_assert_nonnull(strstr(t, "Found: Test 1-5 0483:df11 at 1-5 (unix:/nowhere)"));
	g_free(t);
	AdwExpanderRow *first = ADW_EXPANDER_ROW(gtk_widget_get_first_child(GTK_WIDGET(w->device_list)));
	adw_expander_row_set_expanded(first, TRUE);

	gui_device b = make_dev("1-6", 0x1209, 0xdf11, F405);
	feed(w, &a, &b);
	g_assert_cmpuint(rows(w), ==, 2);
	t = log_text(w);
	g_assert_nonnull(strstr(t, "Connected: Test 1-6 1209:df11 at 1-6"));
	g_assert_null(strstr(t, "Connected: Test 1-5"));
	g_free(t);
	first = ADW_EXPANDER_ROW(gtk_widget_get_first_child(GTK_WIDGET(w->device_list)));
	g_assert_true(adw_expander_row_get_expanded(first));

	feed(w, &b, NULL);
	g_assert_cmpuint(rows(w), ==, 1);
	t = log_text(w);
	g_assert_nonnull(strstr(t, "Disconnected: Test 1-5 0483:df11 at 1-5"));
	g_free(t);
	/* The only device left is the one to write to. */
	g_assert_nonnull(gui_window_device(w));
	g_assert_cmpstr(gui_window_device(w)->path, ==, "1-6");

	gui_device_list none = {0};
	gui_window_set_devices(w, &none, "USB/IP unix:/nowhere: cannot connect");
	g_assert_cmpuint(rows(w), ==, 0);
	g_assert_null(gui_window_device(w));
	t = log_text(w);
	g_assert_nonnull(strstr(t, "Disconnected: Test 1-6"));
	g_free(t);
	gtk_window_destroy(w->win);
}

/* Local USB: hotplug where libusb has it, else polling, and the log says
 * which; the scanner (with its event thread) stops with the window. */
static void test_local_usb_watch(void)
{
	const char *sources[] = {"libusb", NULL};
	gui_window *w = gui_window_new(NULL, sources);
	gtk_window_present(w->win);
	char *t = log_text(w);
	if (gui_scanner_hotplug(w->scanner)) {
		g_assert_true(libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG));
		g_assert_nonnull(strstr(t, "Local USB: the list follows plug and unplug (libusb hotplug)"));
	} else {
		g_assert_nonnull(strstr(t, "Local USB: checked every second"));
	}
	g_free(t);
	gtk_window_destroy(w->win);
	g_assert_null(w->scanner);
	/* No scanner (no sources): no watcher. */
	g_assert_false(gui_scanner_hotplug(NULL));
}

static AdwMessageDialog *open_dialog(void)
{
	GListModel *tops = gtk_window_get_toplevels();
	AdwMessageDialog *found = NULL;
	for (guint i = 0; i < g_list_model_get_n_items(tops); i++) {
		GObject *o = g_list_model_get_item(tops, i);
		if (ADW_IS_MESSAGE_DIALOG(o) && gtk_widget_get_visible(GTK_WIDGET(o)))
			found = ADW_MESSAGE_DIALOG(o);
		g_object_unref(o);
	}
	return found;
}

/* A .dfu for alt 1 ("Option Bytes") of 0483:df11: 16 bytes at 0x1FFFC000. */
static char *write_option_dfu(void)
{
	return write_dfuse_target("opt.dfu", 1, "Option Bytes", 0x1FFFC000, 0xee, 16);
}

static void test_option_bytes_confirm(void)
{
	gui_window *w = new_window();
	gui_device d = make_dev("1-7", 0x0483, 0xdf11, F405);
	gui_alt two[2];
	two[0] = d.alts[0];
	memset(&two[1], 0, sizeof(two[1]));
	two[1].alt = 1;
	snprintf(two[1].name, sizeof(two[1].name), "@Option Bytes  /0x1FFFC000/01*016 e");
	two[1].has_map = true;
	d.alts = two;
	d.nalts = 2;
	feed(w, &d, NULL);
	char *p = write_option_dfu();
	gui_window_open_file(w, p);
	g_assert_nonnull(gui_window_device(w));
	g_assert_nonnull(strstr(label(w->plan_label), "Writes option bytes (alt 1 \"Option Bytes\" at 0x1fffc000)"));
	g_assert_true(gtk_widget_get_sensitive(GTK_WIDGET(w->download_button)));
	g_assert_null(open_dialog());

	g_signal_emit_by_name(w->download_button, "clicked");
	AdwMessageDialog *dlg = open_dialog();
	g_assert_nonnull(dlg);
	g_assert_null(w->job); /* nothing started before the answer */
	g_assert_cmpstr(adw_message_dialog_get_heading(dlg), ==, "Write option bytes?");
	const char *body = adw_message_dialog_get_body(dlg);
	g_assert_nonnull(strstr(body, "Wrong option bytes can lock the chip or enable read protection"));
	g_assert_nonnull(strstr(body, "alt 1 \"Option Bytes\" at 0x1fffc000"));
	g_assert_cmpstr(adw_message_dialog_get_default_response(dlg), ==, "cancel");
	g_assert_cmpstr(adw_message_dialog_get_close_response(dlg), ==, "cancel");
	g_assert_cmpint(adw_message_dialog_get_response_appearance(dlg, "write"), ==, ADW_RESPONSE_DESTRUCTIVE);
	g_assert_false(gtk_widget_get_sensitive(GTK_WIDGET(w->download_button)));

	adw_message_dialog_response(dlg, "cancel");
	g_assert_null(w->job);
	g_assert_false(w->confirming);
	char *t = log_text(w);
	g_assert_nonnull(strstr(t, "Option bytes not written"));
	g_free(t);
	g_assert_true(gtk_widget_get_sensitive(GTK_WIDGET(w->download_button)));
	g_assert_cmpstr(label(w->result_label), ==, "Ready.");

	gtk_window_destroy(w->win);
	g_free(p);
}

/* Station mode: the single-device groups give way to a row per device,
 * the counters start at 0, Flash all needs a file; a file the station
 * refuses (option bytes: only single-device mode asks for them) fails every
 * row without starting a job, and the counters say so. */
static void test_station_mode(void)
{
	gui_window *w = new_window();
	gui_device a = make_dev("1-1", 0x0483, 0xdf11, F405);
	gui_device b = make_dev("1-2", 0x0483, 0xdf11, F405);
	feed(w, &a, &b);
	g_assert_cmpstr(gtk_button_get_label(w->flash_all_button), ==, "Flash all");
	g_assert_false(gtk_widget_get_visible(GTK_WIDGET(w->station_group)));
	g_assert_true(gtk_widget_get_sensitive(GTK_WIDGET(w->station_toggle)));
	gtk_test_accessible_assert_property(GTK_ACCESSIBLE(w->station_toggle), GTK_ACCESSIBLE_PROPERTY_LABEL,
					    "Station mode");
	gtk_test_accessible_assert_property(GTK_ACCESSIBLE(w->auto_switch), GTK_ACCESSIBLE_PROPERTY_LABEL,
					    "Auto-flash new devices");

	gtk_toggle_button_set_active(w->station_toggle, TRUE);
	g_assert_true(w->station_mode);
	g_assert_true(gtk_widget_get_visible(GTK_WIDGET(w->station_group)));
	g_assert_false(gtk_widget_get_visible(GTK_WIDGET(w->devices_group)));
	g_assert_false(gtk_widget_get_visible(GTK_WIDGET(w->actions_group)));
	g_assert_cmpuint(w->station.count, ==, 2);
	g_assert_cmpstr(label(w->counters_label), ==, "Passed: 0  Failed: 0");
	g_assert_false(gtk_widget_get_sensitive(GTK_WIDGET(w->flash_all_button))); /* no file */
	g_assert_cmpuint(gui_window_flash_all(w), ==, 0);

	/* A third device comes: a row of its own, Waiting. */
	gui_device c = make_dev("1-3", 0x0483, 0xdf11, F405);
	gui_device_list l = {0};
	g_assert_true(gui_device_list_append(&l, &a));
	g_assert_true(gui_device_list_append(&l, &b));
	g_assert_true(gui_device_list_append(&l, &c));
	gui_window_set_devices(w, &l, "");
	g_assert_cmpuint(w->station.count, ==, 3);
	char *t = gui_station_state_text(gui_station_find(&w->station, "unix:/nowhere|1-3"));
	g_assert_cmpstr(t, ==, "Waiting");
	g_free(t);

	/* Option bytes: refused per row, nothing started. */
	gui_alt two[2];
	two[0] = a.alts[0];
	memset(&two[1], 0, sizeof(two[1]));
	two[1].alt = 1;
	snprintf(two[1].name, sizeof(two[1].name), "@Option Bytes  /0x1FFFC000/01*016 e");
	two[1].has_map = true;
	a.alts = two;
	a.nalts = 2;
	feed(w, &a, NULL);
	g_assert_cmpuint(w->station.count, ==, 1); /* waiting rows of gone devices dropped */
	char *p = write_dfuse_target("opt.dfu", 1, "Option Bytes", 0x1FFFC000, 0xee, 16);
	gui_window_open_file(w, p);
	g_assert_true(gtk_widget_get_sensitive(GTK_WIDGET(w->flash_all_button)));
	g_assert_cmpuint(gui_window_flash_all(w), ==, 0);
	g_assert_cmpuint(g_hash_table_size(w->station_jobs), ==, 0);
	g_assert_cmpstr(label(w->counters_label), ==, "Passed: 0  Failed: 1");
	t = gui_station_state_text(gui_station_find(&w->station, "unix:/nowhere|1-1"));
	g_assert_true(g_str_has_prefix(t, "Failed: the file writes option bytes"));
	g_free(t);
	g_assert_nonnull(strstr(gui_station_find(&w->station, "unix:/nowhere|1-1")->log->str, "option bytes"));

	/* Back to single-device mode: its groups again. */
	gtk_toggle_button_set_active(w->station_toggle, FALSE);
	g_assert_false(w->station_mode);
	g_assert_true(gtk_widget_get_visible(GTK_WIDGET(w->devices_group)));
	g_assert_true(gtk_widget_get_visible(GTK_WIDGET(w->actions_group)));
	g_assert_false(gtk_widget_get_visible(GTK_WIDGET(w->station_group)));
	gtk_window_destroy(w->win);
	g_free(p);
}

static void test_parse_address(void)
{
	uint32_t a = 0;
	g_assert_true(gui_parse_address("0x08000000", &a));
	g_assert_cmpuint(a, ==, 0x08000000);
	g_assert_true(gui_parse_address(" 4096 ", &a));
	g_assert_cmpuint(a, ==, 4096);
	g_assert_false(gui_parse_address("0x100000000", &a));
	g_assert_false(gui_parse_address("-1", &a));
	g_assert_false(gui_parse_address("", &a));
	g_assert_false(gui_parse_address("0x08zz", &a));
}

int main(int argc, char **argv)
{
	gtk_test_init(&argc, &argv, NULL);
	adw_init();
	tmpdir = g_dir_make_tmp("dfukit-gui-test-XXXXXX", NULL);
	g_test_add_func("/gui/raw-file", test_raw_file);
	g_test_add_func("/gui/readonly-region", test_readonly_region);
	g_test_add_func("/gui/suffix-match", test_suffix_match);
	g_test_add_func("/gui/bad-file", test_bad_file);
	g_test_add_func("/gui/results", test_results);
	g_test_add_func("/gui/parse-address", test_parse_address);
	g_test_add_func("/gui/device-changes", test_device_changes);
	g_test_add_func("/gui/local-usb-watch", test_local_usb_watch);
	g_test_add_func("/gui/option-bytes-confirm", test_option_bytes_confirm);
	g_test_add_func("/gui/station-mode", test_station_mode);
	int rc = g_test_run();
	const char *names[] = {"fw.bin", "loader.bin", "fw.dfu", "bad.hex", "opt.dfu"};
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		char *p = g_build_filename(tmpdir, names[i], NULL);
		g_unlink(p);
		g_free(p);
	}
	g_rmdir(tmpdir);
	return rc;
}
