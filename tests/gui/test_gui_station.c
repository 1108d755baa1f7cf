/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit-gui station mode, no display: the rows' states and the pass/fail
 * counters (gui_station), and which devices are new arrivals for
 * auto-flash (gui_arrivals over the library's dfk_watch), fed with real
 * dfk_find results from a dfukit-emu serving two devices over USB/IP: a
 * device flashed once is not new again while it stays, nor when it
 * re-enumerates within the grace time, nor when its job began before the
 * watch had seen it. Usage: test_gui_station DFUKIT_EMU [--tap] */
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gui_station.h"

static const char *emu_path;

static gui_device dev(const char *path, gui_dev_status status, bool fresh)
{
	gui_device d;
	memset(&d, 0, sizeof(d));
	snprintf(d.source, sizeof(d.source), "unix:/emu");
	snprintf(d.path, sizeof(d.path), "%s", path);
	snprintf(d.key, sizeof(d.key), "unix:/emu|%s", path);
	snprintf(d.name, sizeof(d.name), "STM32 BOOTLOADER");
	d.vid = 0x0483;
	d.pid = 0xdf11;
	d.status = status;
	d.dfuse = true;
	d.fresh = fresh;
	return d;
}

static void list_of(gui_device_list *l, const gui_device *a, size_t n)
{
	gui_device_list_free(l);
	for (size_t i = 0; i < n; i++)
		g_assert_true(gui_device_list_append(l, &a[i]));
}

static void assert_state(gui_station *s, const char *key, const char *want)
{
	gui_station_row *r = gui_station_find(s, key);
	g_assert_nonnull(r);
	char *t = gui_station_state_text(r);
	g_assert_cmpstr(t, ==, want);
	g_free(t);
}

static void assert_counters(const gui_station *s, const char *want)
{
	char *c = gui_station_counters(s);
	g_assert_cmpstr(c, ==, want);
	g_free(c);
}

static void test_rows_and_counters(void)
{
	gui_station s;
	gui_station_init(&s);
	gui_device_list l = {0};
	gui_device three[3] = {dev("1-1", GUI_DEV_READY, true), dev("1-2", GUI_DEV_READY, true),
			       dev("1-3", GUI_DEV_BROKEN, false)};
	list_of(&l, three, 3);
	g_assert_true(gui_station_sync(&s, &l));
	g_assert_cmpuint(s.count, ==, 3);
	g_assert_false(gui_station_sync(&s, &l)); /* nothing new */
	assert_state(&s, "unix:/emu|1-1", "Waiting");
	assert_state(&s, "unix:/emu|1-3", "Waiting (cannot be opened)");
	assert_counters(&s, "Passed: 0  Failed: 0");
	g_assert_cmpstr(gui_station_find(&s, "unix:/emu|1-1")->ids, ==, "0483:df11");

	/* Auto-flash wants the fresh, usable, waiting ones. */
	g_assert_true(gui_station_wants_auto(&s, &three[0]));
	g_assert_false(gui_station_wants_auto(&s, &three[2]));

	/* A red device cannot be started; a flashing one not twice. */
	g_assert_false(gui_station_begin(&s, "unix:/emu|1-3"));
	g_assert_false(gui_station_begin(&s, "unix:/emu|9-9"));
	g_assert_true(gui_station_begin(&s, "unix:/emu|1-1"));
	g_assert_false(gui_station_begin(&s, "unix:/emu|1-1"));
	g_assert_false(gui_station_wants_auto(&s, &three[0]));
	g_assert_true(gui_station_begin(&s, "unix:/emu|1-2"));
	g_assert_cmpuint(gui_station_running(&s), ==, 2);
	assert_state(&s, "unix:/emu|1-1", "Flashing");

	/* Each device's lines in its own log. */
	gui_station_log(&s, "unix:/emu|1-1", "Opening 0483:df11 at 1-1");
	gui_station_log(&s, "unix:/emu|1-2", "Opening 0483:df11 at 1-2");
	g_assert_cmpstr(gui_station_find(&s, "unix:/emu|1-1")->log->str, ==, "Opening 0483:df11 at 1-1\n");
	g_assert_cmpstr(gui_station_find(&s, "unix:/emu|1-2")->log->str, ==, "Opening 0483:df11 at 1-2\n");

	/* While flashing, the device is busy and listed as red (another
	 * import holds it), or not at all: the row stays Flashing. */
	gui_device busy[3] = {dev("1-1", GUI_DEV_BROKEN, false), three[2]};
	snprintf(busy[0].name, sizeof(busy[0].name), "DFU device");
	list_of(&l, busy, 2);
	gui_station_sync(&s, &l);
	assert_state(&s, "unix:/emu|1-1", "Flashing");
	assert_state(&s, "unix:/emu|1-2", "Flashing");
	g_assert_cmpstr(gui_station_find(&s, "unix:/emu|1-1")->name, ==, "STM32 BOOTLOADER");

	/* Pass and fail, each counted once. */
	gui_station_end(&s, "unix:/emu|1-1", true, "");
	gui_station_end(&s, "unix:/emu|1-2", false, "download of block 3 at 0x08000c00 failed: errWRITE");
	gui_station_end(&s, "unix:/emu|1-1", true, ""); /* not flashing any more: ignored */
	assert_counters(&s, "Passed: 1  Failed: 1");
	g_assert_cmpuint(gui_station_running(&s), ==, 0);
	assert_state(&s, "unix:/emu|1-2", "Failed: download of block 3 at 0x08000c00 failed: errWRITE");
	/* 1-1 is listed (red: still held for a moment); 1-2 is gone: kept
	 * with its result. */
	assert_state(&s, "unix:/emu|1-1", "Passed");
	assert_state(&s, "unix:/emu|1-2", "Failed: download of block 3 at 0x08000c00 failed: errWRITE");
	g_assert_false(gui_station_find(&s, "unix:/emu|1-2")->present);

	/* The passed device back after its leave, not fresh (the watch saw a
	 * re-enumeration): Passed, not wanted by auto-flash. */
	gui_device back[3] = {dev("1-1", GUI_DEV_READY, false), three[2]};
	list_of(&l, back, 2);
	gui_station_sync(&s, &l);
	assert_state(&s, "unix:/emu|1-1", "Passed");
	g_assert_false(gui_station_wants_auto(&s, &back[0]));
	/* Unplugged: kept with its result; a waiting red one gone: dropped. */
	list_of(&l, NULL, 0);
	g_assert_true(gui_station_sync(&s, &l));
	assert_state(&s, "unix:/emu|1-1", "Passed (disconnected)");
	g_assert_null(gui_station_find(&s, "unix:/emu|1-3"));
	/* A new board on that port (fresh): Waiting again, wanted. */
	gui_device next[1] = {dev("1-1", GUI_DEV_READY, true)};
	list_of(&l, next, 1);
	gui_station_sync(&s, &l);
	assert_state(&s, "unix:/emu|1-1", "Waiting");
	g_assert_true(gui_station_wants_auto(&s, &next[0]));
	g_assert_true(gui_station_begin(&s, "unix:/emu|1-1"));
	g_assert_cmpuint(gui_station_find(&s, "unix:/emu|1-1")->flashes, ==, 2);
	gui_station_end(&s, "unix:/emu|1-1", false, NULL);
	assert_state(&s, "unix:/emu|1-1", "Failed: failed");
	assert_counters(&s, "Passed: 1  Failed: 2");

	gui_device_list_free(&l);
	gui_station_free(&s);
}

/* ---- Arrivals over real dfk_find results ---- */

typedef struct emu {
	GPid pid;
	char *dir, *sock, *addr;
	dfk_ctx *ctx;
	dfk_transport *t; /* a listing is only valid while its transport is */
} emu;

static void emu_start(emu *e)
{
	e->dir = g_dir_make_tmp("dfukit-station-XXXXXX", NULL);
	g_assert_nonnull(e->dir);
	e->sock = g_build_filename(e->dir, "emu.sock", NULL);
	e->addr = g_strdup_printf("unix:%s", e->sock);
	char *listen = g_strdup_printf("unix:%s", e->sock);
	const char *argv[] = {emu_path, "--profile", "stm32f405", "--count", "2", "--listen", listen, NULL};
	GError *err = NULL;
	g_assert_true(g_spawn_async(NULL, (char **)argv, NULL,
				    G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL | G_SPAWN_DO_NOT_REAP_CHILD,
				    NULL, NULL, &e->pid, &err));
	g_free(listen);
	g_assert_cmpint(dfk_ctx_new(&e->ctx, NULL), ==, DFK_OK);
}

static void emu_stop(emu *e)
{
	kill(e->pid, SIGTERM);
	int st;
	waitpid(e->pid, &st, 0);
	g_spawn_close_pid(e->pid);
	dfk_ctx_free(e->ctx);
	g_unlink(e->sock);
	g_rmdir(e->dir);
	g_free(e->sock);
	g_free(e->addr);
	g_free(e->dir);
}

/* One listing of the emulator's bus, as the scanner takes it (freed
 * before the transport, e->t). */
static dfk_found *emu_find(emu *e)
{
	for (int i = 0; i < 250; i++) {
		dfk_transport *t = NULL;
		dfk_found *found = NULL;
		dfk_error err;
		if (dfk_transport_usbip_new(&t, e->ctx, e->addr, &err) == DFK_OK &&
		    dfk_find(e->ctx, t, NULL, &found, &err) == DFK_OK && dfk_found_count(found) >= 2) {
			e->t = t;
			return found;
		}
		dfk_found_free(found);
		dfk_transport_free(t);
		g_usleep(20 * 1000);
	}
	g_error("dfukit-emu (%s) did not serve two devices", emu_path);
	return NULL;
}

#define GRACE 5000

static void test_arrivals(void)
{
	emu e;
	emu_start(&e);
	dfk_found *found = emu_find(&e);
	g_assert_cmpstr(dfk_found_get(found, 0)->dev->path, ==, "1-1");
	char k1[200], k2[200];
	snprintf(k1, sizeof(k1), "%s|1-1", e.addr);
	snprintf(k2, sizeof(k2), "%s|1-2", e.addr);

	gui_arrivals *a = gui_arrivals_new(GRACE);
	/* Both there at the first look: both new. */
	gui_arrivals_scan(a, e.addr, found, 0);
	g_assert_true(gui_arrivals_fresh(a, k1));
	g_assert_true(gui_arrivals_fresh(a, k2));
	/* A job begins on 1-1: no longer new, also while a listing cannot
	 * see it (its job's import hides it). */
	gui_arrivals_begin(a, e.addr, "1-1");
	g_assert_false(gui_arrivals_fresh(a, k1));
	gui_arrivals_scan(a, e.addr, found, 100);
	g_assert_false(gui_arrivals_fresh(a, k1));
	g_assert_true(gui_arrivals_fresh(a, k2));
	gui_arrivals_scan(a, e.addr, NULL, 200);
	gui_arrivals_scan(a, e.addr, found, 300);
	g_assert_false(gui_arrivals_fresh(a, k1));
	/* Its job ends; it stays (or leaves and re-enumerates with the same
	 * serial within the grace time): never new again -- no second flash. */
	gui_arrivals_end(a, e.addr, "1-1", 1000);
	for (uint64_t t = 1100; t < 1600; t += 100) {
		gui_arrivals_scan(a, e.addr, found, t);
		g_assert_false(gui_arrivals_fresh(a, k1));
	}
	gui_arrivals_scan(a, e.addr, NULL, 2000); /* gone: re-enumerating */
	g_assert_false(gui_arrivals_fresh(a, k1));
	g_assert_false(gui_arrivals_fresh(a, k2));
	/* Back 3.5 s after it was last seen (at 1500). */
	gui_arrivals_scan(a, e.addr, found, 1500 + GRACE - 1500);
	g_assert_false(gui_arrivals_fresh(a, k1));
	/* 1-2 went before a job took it: forgotten, new again when back. */
	g_assert_true(gui_arrivals_fresh(a, k2));

	/* A job that began before the watch saw the device (Flash all right
	 * after a listing the watch missed): not new when the watch sees it,
	 * during the job or after it. */
	gui_arrivals *b = gui_arrivals_new(GRACE);
	gui_arrivals_begin(b, e.addr, "1-2");
	gui_arrivals_scan(b, e.addr, found, 0);
	g_assert_false(gui_arrivals_fresh(b, k2));
	g_assert_true(gui_arrivals_fresh(b, k1));
	gui_arrivals_end(b, e.addr, "1-2", 500);
	gui_arrivals_scan(b, e.addr, found, 600);
	g_assert_false(gui_arrivals_fresh(b, k2));
	gui_arrivals *c = gui_arrivals_new(GRACE);
	gui_arrivals_begin(c, e.addr, "1-2");
	gui_arrivals_end(c, e.addr, "1-2", 500);
	gui_arrivals_scan(c, e.addr, found, 900); /* first seen after its job ended */
	g_assert_false(gui_arrivals_fresh(c, k2));
	gui_arrivals_scan(c, e.addr, found, 1000);
	g_assert_false(gui_arrivals_fresh(c, k2));

	/* Away for longer than the grace time: a new board on that port. */
	gui_arrivals_scan(a, e.addr, NULL, 10000);
	gui_arrivals_scan(a, e.addr, found, 10000 + GRACE + 1);
	g_assert_true(gui_arrivals_fresh(a, k1));
	/* Other sources are their own: the same path elsewhere is new. */
	gui_arrivals_scan(b, "unix:/other", found, 700);
	g_assert_true(gui_arrivals_fresh(b, "unix:/other|1-2"));
	g_assert_false(gui_arrivals_fresh(b, k2));

	gui_arrivals_free(a);
	gui_arrivals_free(b);
	gui_arrivals_free(c);
	dfk_found_free(found);
	dfk_transport_free(e.t);
	emu_stop(&e);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	if (argc < 2) {
		fprintf(stderr, "usage: test_gui_station DFUKIT_EMU [--tap]\n");
		return 64;
	}
	emu_path = argv[1];
	g_test_add_func("/gui-station/rows-and-counters", test_rows_and_counters);
	g_test_add_func("/gui-station/arrivals", test_arrivals);
	return g_test_run();
}
