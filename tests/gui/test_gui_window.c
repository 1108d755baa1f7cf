/* dfukit-gui in-process: the window's logic with real widgets (under
 * xvfb-run, GTK_A11Y=test): file summary, device matching by the DFU
 * suffix, default address, plan preview, flagged elements, and the result
 * line after success and failure. No device is involved: devices are fed
 * as the scanner would deliver them. */
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

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

/* A DfuSe .dfu for 0483:df11 with one 100-byte element at 0x08004000. */
static char *write_dfuse(void)
{
	dfk_firmware fw;
	dfk_error e;
	dfk_firmware_init(&fw);
	dfk_target *t = dfk_firmware_add_target(&fw, 0, "Internal Flash", &e);
	g_assert_nonnull(t);
	uint8_t data[100];
	memset(data, 0x5a, sizeof(data));
	g_assert_cmpint(dfk_image_add(&t->image, 0x08004000, data, sizeof(data), &e), ==, DFK_OK);
	char *p = g_build_filename(tmpdir, "fw.dfu", NULL);
	dfk_out *out;
	g_assert_cmpint(dfk_out_open(&out, p, DFK_OUT_OVERWRITE, &e), ==, DFK_OK);
	g_assert_cmpint(dfk_dfuse_write(out, &fw, 0x0483, 0xdf11, 0x2200, &e), ==, DFK_OK);
	g_assert_cmpint(dfk_out_commit(out, &e), ==, DFK_OK);
	dfk_firmware_free(&fw);
	return p;
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
	int rc = g_test_run();
	const char *names[] = {"fw.bin", "loader.bin", "fw.dfu", "bad.hex"};
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		char *p = g_build_filename(tmpdir, names[i], NULL);
		g_unlink(p);
		g_free(p);
	}
	g_rmdir(tmpdir);
	return rc;
}
