/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit-gui model, no display: the device-list diff behind the live list
 * (devices keyed by source and port path) and the option-bytes detection
 * of the plan preview. */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "gui_model.h"

#define F405_FLASH "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg"
#define F405_OPT "@Option Bytes  /0x1FFFC000/01*016 e"

static gui_alt alts[2];

static gui_device dev(const char *source, const char *path, const char *name)
{
	gui_device d;
	memset(&d, 0, sizeof(d));
	snprintf(d.source, sizeof(d.source), "%s", source);
	snprintf(d.path, sizeof(d.path), "%s", path);
	snprintf(d.key, sizeof(d.key), "%s|%s", source, path);
	snprintf(d.name, sizeof(d.name), "%s", name);
	d.vid = 0x0483;
	d.pid = 0xdf11;
	d.status = GUI_DEV_READY;
	d.dfuse = true;
	memset(alts, 0, sizeof(alts));
	alts[0].alt = 0;
	snprintf(alts[0].name, sizeof(alts[0].name), "%s", F405_FLASH);
	alts[0].has_map = true;
	alts[1].alt = 1;
	snprintf(alts[1].name, sizeof(alts[1].name), "%s", F405_OPT);
	alts[1].has_map = true;
	d.alts = alts;
	d.nalts = 2;
	return d;
}

static void add(gui_device_list *l, gui_device d)
{
	g_assert_true(gui_device_list_append(l, &d));
}

static void test_diff(void)
{
	gui_device_list old = {0}, now = {0};
	add(&old, dev("unix:/a", "1-1", "Alpha"));
	add(&old, dev("unix:/a", "1-2", "Beta"));
	add(&old, dev("libusb", "3-1", "Gamma"));
	/* 1-1 stays, 1-2 goes, 3-1 changes its state, the same path on
	 * another server is a different device, 3-2 arrives. */
	add(&now, dev("unix:/a", "1-1", "Alpha"));
	gui_device g = dev("libusb", "3-1", "Gamma");
	g.status = GUI_DEV_BROKEN;
	snprintf(g.reason, sizeof(g.reason), "LIBUSB_ERROR_ACCESS");
	add(&now, g);
	add(&now, dev("unix:/b", "1-2", "Beta elsewhere"));
	add(&now, dev("libusb", "3-2", "Delta"));

	gui_list_diff d;
	g_assert_true(gui_device_list_diff(&old, &now, &d));
	g_assert_cmpuint(d.nunchanged, ==, 1);
	g_assert_cmpuint(d.unchanged[0], ==, 0);
	g_assert_cmpuint(d.nchanged, ==, 1);
	g_assert_cmpstr(now.devs[d.changed[0]].key, ==, "libusb|3-1");
	g_assert_cmpuint(d.nremoved, ==, 1);
	g_assert_cmpstr(old.devs[d.removed[0]].key, ==, "unix:/a|1-2");
	g_assert_cmpuint(d.nadded, ==, 2);
	g_assert_cmpstr(now.devs[d.added[0]].key, ==, "unix:/b|1-2");
	g_assert_cmpstr(now.devs[d.added[1]].key, ==, "libusb|3-2");
	gui_list_diff_free(&d);

	/* From nothing: all added; to nothing: all removed. */
	gui_device_list empty = {0};
	g_assert_true(gui_device_list_diff(&empty, &old, &d));
	g_assert_cmpuint(d.nadded, ==, 3);
	g_assert_cmpuint(d.nremoved + d.nchanged + d.nunchanged, ==, 0);
	gui_list_diff_free(&d);
	g_assert_true(gui_device_list_diff(&old, &empty, &d));
	g_assert_cmpuint(d.nremoved, ==, 3);
	g_assert_cmpuint(d.nadded + d.nchanged + d.nunchanged, ==, 0);
	gui_list_diff_free(&d);

	/* Same list: nothing to report. */
	g_assert_true(gui_device_list_diff(&now, &now, &d));
	g_assert_cmpuint(d.nunchanged, ==, 4);
	g_assert_cmpuint(d.nadded + d.nremoved + d.nchanged, ==, 0);
	gui_list_diff_free(&d);

	/* A changed alt name (a new memory map) is a change. */
	gui_device_list again = {0};
	gui_device a = dev("unix:/a", "1-1", "Alpha");
	snprintf(alts[0].name, sizeof(alts[0].name), "@Internal Flash  /0x08000000/08*016Kg");
	add(&again, a);
	gui_device_list first = {0};
	add(&first, dev("unix:/a", "1-1", "Alpha"));
	g_assert_true(gui_device_list_diff(&first, &again, &d));
	g_assert_cmpuint(d.nchanged, ==, 1);
	gui_list_diff_free(&d);

	gui_device_list_free(&again);
	gui_device_list_free(&first);
	gui_device_list_free(&old);
	gui_device_list_free(&now);
}

static void load(gui_file *f, dfk_format format, unsigned alt, uint32_t addr, size_t len)
{
	dfk_error e;
	gui_file_init(f);
	f->fw.format = format;
	f->fw.addressed = true;
	dfk_target *t = dfk_firmware_add_target(&f->fw, (uint8_t)alt, "", &e);
	g_assert_nonnull(t);
	uint8_t data[64];
	memset(data, 0x5a, sizeof(data));
	g_assert_cmpint(dfk_image_add(&t->image, addr, data, len, &e), ==, DFK_OK);
	f->path = g_strdup("/nowhere/fw");
	f->loaded = true;
}

static void test_option_bytes(void)
{
	gui_device_list l = {0};
	add(&l, dev("unix:/a", "1-1", "F405"));
	const gui_device *d = &l.devs[0];
	g_assert_false(gui_alt_is_option_bytes(&d->alts[0]));
	g_assert_true(gui_alt_is_option_bytes(&d->alts[1]));

	/* A DfuSe target for alt 1 ("Option Bytes"). */
	gui_file f;
	gui_preview p;
	load(&f, DFK_FORMAT_DFUSE, 1, 0x1FFFC000, 16);
	gui_preview_build(&f, d, 0, true, false, &p);
	g_assert_true(p.ok);
	g_assert_true(p.option_bytes);
	g_assert_cmpstr(p.option_bytes_where, ==, "alt 1 \"Option Bytes\" at 0x1fffc000");
	g_assert_nonnull(strstr(p.plan, "Writes option bytes"));
	g_assert_nonnull(strstr(p.plan, "lock the chip"));
	gui_preview_free(&p);
	gui_file_free(&f);

	/* Flash: no option bytes, no warning. */
	load(&f, DFK_FORMAT_DFUSE, 0, 0x08004000, 64);
	gui_preview_build(&f, d, 0, true, false, &p);
	g_assert_true(p.ok);
	g_assert_false(p.option_bytes);
	g_assert_cmpstr(p.option_bytes_where, ==, "");
	g_assert_null(strstr(p.plan, "option bytes"));
	gui_preview_free(&p);
	gui_file_free(&f);

	/* An addressed file (hex) into the option-bytes region: flagged by
	 * address, though alt 0 cannot take it. */
	load(&f, DFK_FORMAT_IHEX, 0, 0x1FFFC008, 4);
	gui_preview_build(&f, d, 0, true, false, &p);
	g_assert_true(p.option_bytes);
	g_assert_cmpstr(p.option_bytes_where, ==, "0x1fffc008, in the option bytes of alt 1");
	gui_preview_free(&p);
	gui_file_free(&f);

	/* A name with other words is not option bytes. */
	gui_alt other = {0};
	dfk_error e;
	snprintf(other.name, sizeof(other.name), "@Option Bytes Backup /0x1FFFC000/01*016 e");
	other.has_map = dfk_memmap_parse(other.name, &other.map, &e) == DFK_OK;
	g_assert_true(other.has_map);
	g_assert_false(gui_alt_is_option_bytes(&other));
	dfk_memmap_free(&other.map);
	gui_device_list_free(&l);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/gui-model/list-diff", test_diff);
	g_test_add_func("/gui-model/option-bytes", test_option_bytes);
	return g_test_run();
}
