/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfk_watch: which devices a station takes as new arrivals, over scans of
 * the fake bus (mock_dfu.c) on a clock the test sets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dfukit/dfukit.h"
#include "mock_dfu.h"

#define GRACE 5000

typedef struct fx {
	mock_bus bus;
	mock_dev a, b;
	dfk_ctx *ctx;
	dfk_watch *w;
	dfk_error err;
} fx;

static int setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	mock_bus_init(&f->bus);
	mock_init_plain(&f->a, 0x07, 1024);
	mock_init_plain(&f->b, 0x07, 1024);
	strcpy(f->a.path, "1-1");
	strcpy(f->a.serial, "A1");
	strcpy(f->b.path, "1-2");
	strcpy(f->b.serial, "B1");
	mock_bus_add(&f->bus, &f->a);
	mock_bus_add(&f->bus, &f->b);
	f->ctx = mock_ctx(&f->bus);
	assert_int_equal(dfk_watch_new(&f->w, GRACE, &f->err), DFK_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	dfk_watch_free(f->w);
	mock_bus_fini(&f->bus);
	dfk_ctx_free(f->ctx);
	mock_free(&f->a);
	mock_free(&f->b);
	free(f);
	return 0;
}

/* One scan at time now: the number of new devices. */
static size_t scan(fx *f, uint64_t now)
{
	dfk_match m;
	dfk_found *found = NULL;
	size_t n = 99;
	dfk_match_init(&m);
	assert_int_equal(dfk_find(f->ctx, f->bus.t, &m, &found, &f->err), DFK_OK);
	assert_int_equal(dfk_watch_scan(f->w, found, now, &n, &f->err), DFK_OK);
	dfk_found_free(found);
	return n;
}

static bool is_new(fx *f, const char *path)
{
	for (size_t i = 0; dfk_watch_new_path(f->w, i); i++)
		if (strcmp(dfk_watch_new_path(f->w, i), path) == 0)
			return true;
	return false;
}

static void flash(fx *f, const char *path, uint64_t end)
{
	assert_int_equal(dfk_watch_take(f->w, path, &f->err), DFK_OK);
	assert_int_equal(dfk_watch_release(f->w, path, end, &f->err), DFK_OK);
}

/* Devices there at the start are new, once each; one taken is no longer
 * offered; one not taken is offered again. */
static void test_new_until_taken(void **state)
{
	fx *f = *state;
	assert_int_equal(scan(f, 0), 2);
	assert_true(is_new(f, "1-1") && is_new(f, "1-2"));
	assert_null(dfk_watch_new_path(f->w, 2));
	assert_int_equal(dfk_watch_take(f->w, "1-1", &f->err), DFK_OK);
	assert_int_equal(scan(f, 100), 1);
	assert_true(is_new(f, "1-2"));
	assert_false(is_new(f, "1-1"));
	/* Taking twice, or releasing what was not taken, is refused. */
	assert_int_equal(dfk_watch_take(f->w, "1-1", &f->err), DFK_ERR_USAGE);
	assert_int_equal(dfk_watch_release(f->w, "1-2", 100, &f->err), DFK_ERR_USAGE);
	assert_int_equal(dfk_watch_take(f->w, "9-9", &f->err), DFK_ERR_USAGE);
	/* Taken: not new while it is being flashed, even when a scan cannot
	 * see it (another host's import hides it). */
	f->a.gone = true;
	assert_int_equal(scan(f, 200), 1);
	f->a.gone = false;
	assert_int_equal(scan(f, 300), 1);
	assert_false(is_new(f, "1-1"));
}

/* Flashed, it stays done while it stays, and when it re-enumerates with
 * the same serial within the grace time (a leave, a reset). */
static void test_reenumeration_is_not_new(void **state)
{
	fx *f = *state;
	assert_int_equal(scan(f, 0), 2);
	flash(f, "1-1", 1000);
	assert_int_equal(scan(f, 1100), 1);
	assert_false(is_new(f, "1-1"));
	f->a.gone = true; /* gone after leave ... */
	assert_int_equal(scan(f, 2000), 1);
	f->a.gone = false; /* ... back in DFU mode 3 s later */
	assert_int_equal(scan(f, 1100 + GRACE - 1), 1);
	assert_false(is_new(f, "1-1"));
}

/* A board plugged in at the same port: another serial at once, or the
 * same serial after more than the grace time, is a new board. */
static void test_replaced_board_is_new(void **state)
{
	fx *f = *state;
	assert_int_equal(scan(f, 0), 2);
	flash(f, "1-1", 1000);
	flash(f, "1-2", 1000);
	assert_int_equal(scan(f, 1500), 0);
	strcpy(f->a.serial, "A2");
	assert_int_equal(scan(f, 1600), 1);
	assert_true(is_new(f, "1-1"));
	f->b.gone = true;
	assert_int_equal(scan(f, 2000), 1);
	f->b.gone = false;
	assert_int_equal(scan(f, 1600 + GRACE + 1), 2);
	assert_true(is_new(f, "1-2"));
}

/* A device that goes before it is taken is forgotten: new again when it
 * comes back, whatever its serial. */
static void test_untaken_device_forgotten(void **state)
{
	fx *f = *state;
	assert_int_equal(scan(f, 0), 2);
	f->b.gone = true;
	assert_int_equal(scan(f, 10), 1);
	assert_false(is_new(f, "1-2"));
	f->b.gone = false;
	assert_int_equal(scan(f, 20), 2);
	assert_true(is_new(f, "1-2"));
}

/* Several alt settings of one device are one device. */
static void test_alts_are_one_device(void **state)
{
	fx *f = *state;
	mock_dev f4;
	mock_init_f405(&f4);
	strcpy(f4.path, "2-1");
	mock_bus_add(&f->bus, &f4);
	assert_int_equal(scan(f, 0), 3);
	assert_true(is_new(f, "2-1"));
	mock_free(&f4);
	f->bus.ndevs--;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_new_until_taken, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reenumeration_is_not_new, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replaced_board_is_new, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_untaken_device_forgotten, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_alts_are_one_device, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
