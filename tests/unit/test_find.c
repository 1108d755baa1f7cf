/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfk_find: which alts are kept, what is read from the device (and how
 * little), and opening what was found. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dfukit/dfukit.h"
#include "mock_dfu.h"

typedef struct fx {
	mock_bus bus;
	mock_dev f4, plain, rt;
	dfk_ctx *ctx;
	dfk_found *found;
	dfk_match m;
	dfk_error err;
} fx;

static int setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	mock_bus_init(&f->bus);
	mock_init_f405(&f->f4);
	mock_init_plain(&f->plain, 0x07, 1024);
	mock_init_plain(&f->rt, 0x0F, 512);
	f->rt.protocol = 1;
	f->rt.vid = 0x1209;
	f->rt.pid = 0x7777;
	strcpy(f->rt.path, "3-2");
	strcpy(f->rt.serial, "RT42");
	mock_bus_add(&f->bus, &f->f4);
	mock_bus_add(&f->bus, &f->plain);
	mock_bus_add(&f->bus, &f->rt);
	f->ctx = mock_ctx(&f->bus);
	dfk_match_init(&f->m);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	dfk_found_free(f->found);
	f->found = NULL;
	mock_bus_fini(&f->bus);
	dfk_ctx_free(f->ctx);
	mock_free(&f->f4);
	mock_free(&f->plain);
	mock_free(&f->rt);
	free(f);
	return 0;
}

static void test_find_all(void **state)
{
	fx *f = *state;

	assert_int_equal(dfk_find(f->ctx, f->bus.t, NULL, &f->found, &f->err), DFK_OK);
	assert_int_equal(dfk_found_count(f->found), 4 + 1 + 1);
	/* F405: four alts in descriptor order, names and serial read */
	for (int a = 0; a < 4; a++) {
		const dfk_dfu_if *i = dfk_found_get(f->found, a);
		assert_int_equal(i->alt, a);
		assert_int_equal(i->nalts, 4);
		assert_true(i->dfu_mode);
		assert_true(i->dfuse);
		assert_int_equal(i->func.wTransferSize, 2048);
		assert_string_equal(i->name, f->f4.alt_names[a]);
		assert_string_equal(i->serial, "3276386E3235");
		assert_ptr_equal(i->transport, f->bus.t);
		assert_string_equal(i->dev->path, "1-1");
	}
	assert_false(dfk_found_get(f->found, 4)->dfuse);
	assert_true(dfk_found_get(f->found, 4)->dfu_mode);
	assert_false(dfk_found_get(f->found, 5)->dfu_mode); /* run-time interface */
	assert_string_equal(dfk_found_get(f->found, 5)->serial, "RT42");
	/* each device opened once; LANGID once, each name once, the serial once */
	assert_int_equal(f->f4.n_open, 1);
	assert_int_equal(f->f4.n_string, 1 + 4 + 1);
	assert_int_equal(f->plain.n_string, 1 + 1 + 1);
	assert_int_equal(mock_transfers(&f->f4), 6);
}

static void test_find_alt_reads_only_that_name(void **state)
{
	fx *f = *state;

	f->m.alt = 0;
	f->m.vid = f->m.pid = DFK_MATCH_NONE; /* -d ,0483:df11: no run-time devices */
	f->m.dfu_ids_given = true;
	f->m.dfu_vid = 0x0483;
	f->m.dfu_pid = 0xdf11;
	assert_int_equal(dfk_find(f->ctx, f->bus.t, &f->m, &f->found, &f->err), DFK_OK);
	assert_int_equal(dfk_found_count(f->found), 1);
	assert_int_equal(f->f4.n_string, 3);
	assert_int_equal(f->plain.n_open, 0); /* other IDs: not even opened */
}

static void test_find_alt_name(void **state)
{
	fx *f = *state;

	f->m.alt_name = "@Option Bytes  /0x1FFFC000/01*016 e";
	f->m.vid = f->m.pid = DFK_MATCH_NONE; /* -a applies to DFU-mode alts only */
	assert_int_equal(dfk_find(f->ctx, f->bus.t, &f->m, &f->found, &f->err), DFK_OK);
	assert_int_equal(dfk_found_count(f->found), 1);
	assert_int_equal(dfk_found_get(f->found, 0)->alt, 1);
	/* the trailing-space-sensitive exact match of dfu-util */
	dfk_found_free(f->found);
	f->found = NULL;
	f->m.alt_name = "@Option Bytes /0x1FFFC000/01*016 e";
	assert_int_equal(dfk_find(f->ctx, f->bus.t, &f->m, &f->found, &f->err), DFK_OK);
	assert_int_equal(dfk_found_count(f->found), 0);
}

static void test_find_runtime_ids_and_serial(void **state)
{
	fx *f = *state;

	f->m.vid = 0x1209;
	f->m.pid = 0x7777;
	f->m.serial = "RT42";
	f->m.dfu_serial = "nomatch";
	assert_int_equal(dfk_find(f->ctx, f->bus.t, &f->m, &f->found, &f->err), DFK_OK);
	/* the run-time device by IDs and serial; DFU-mode ones by dfu_serial (none) */
	assert_int_equal(dfk_found_count(f->found), 1);
	assert_false(dfk_found_get(f->found, 0)->dfu_mode);
	assert_int_equal(dfk_found_get(f->found, 0)->dev->desc.idVendor, 0x1209);
}

static void test_find_path_devnum_intf(void **state)
{
	fx *f = *state;

	f->m.path = "2-3.1";
	assert_int_equal(dfk_find(f->ctx, f->bus.t, &f->m, &f->found, &f->err), DFK_OK);
	assert_int_equal(dfk_found_count(f->found), 1);
	assert_int_equal(dfk_found_get(f->found, 0)->dev->desc.idVendor, 0x1d50);
	dfk_found_free(f->found);
	f->found = NULL;
	f->m.path = NULL;
	f->m.devnum = 5;
	f->m.intf = 0;
	assert_int_equal(dfk_find(f->ctx, f->bus.t, &f->m, &f->found, &f->err), DFK_OK);
	assert_int_equal(dfk_found_count(f->found), 4);
	dfk_found_free(f->found);
	f->found = NULL;
	f->m.intf = 1;
	assert_int_equal(dfk_find(f->ctx, f->bus.t, &f->m, &f->found, &f->err), DFK_OK);
	assert_int_equal(dfk_found_count(f->found), 0);
}

static void test_open_and_select_alt(void **state)
{
	fx *f = *state;
	dfk_dev *dev;
	const dfk_memmap *map;

	f->m.alt = 0;
	f->m.devnum = 5;
	assert_int_equal(dfk_find(f->ctx, f->bus.t, &f->m, &f->found, &f->err), DFK_OK);
	assert_int_equal(dfk_dev_open(f->ctx, dfk_found_get(f->found, 0), &dev, &f->err), DFK_OK);
	assert_int_equal(f->f4.n_set_alt, 1); /* four alts: SET_INTERFACE needed */
	assert_int_equal(dfk_dev_transfer_size(dev), 2048);
	assert_int_equal(dfk_dev_memmap(dev, &map, &f->err), DFK_OK);
	assert_int_equal(map->count, 3);
	assert_int_equal(dfk_dev_select_alt(dev, 1, &f->err), DFK_OK);
	assert_int_equal(f->f4.cur_alt, 1);
	assert_int_equal(dfk_dev_if(dev)->alt, 1);
	assert_string_equal(dfk_dev_if(dev)->name, f->f4.alt_names[1]);
	assert_int_equal(dfk_dev_memmap(dev, &map, &f->err), DFK_OK);
	assert_int_equal(map->segs[0].start, 0x1FFFC000);
	assert_int_equal(dfk_dev_select_alt(dev, 7, &f->err), DFK_ERR_UNSUPPORTED);
	dfk_dev_set_transfer_size(dev, 1024);
	assert_int_equal(dfk_dev_transfer_size(dev), 1024);
	dfk_dev_close(dev);
}

/* An uninitialised dfk_match is refused, with the way out named. */
static void test_match_not_initialised(void **state)
{
	fx *f = *state;
	dfk_match zero;
	dfk_found *again = NULL;

	memset(&zero, 0, sizeof(zero));
	assert_int_equal(dfk_find(f->ctx, f->bus.t, &zero, &f->found, &f->err), DFK_ERR_USAGE);
	assert_null(f->found);
	assert_non_null(strstr(f->err.msg, "dfk_match_init"));
	assert_int_equal(dfk_wait_for(f->ctx, f->bus.t, &zero, "1-1", NULL, &again, &f->err), DFK_ERR_USAGE);
	assert_null(again);
	assert_int_equal(dfk_match_parse_device(&zero, "0483:df11", NULL, &f->err), DFK_ERR_USAGE);
	assert_int_equal(f->bus.enumerations, 0);
	/* Initialised, it works (and NULL is "everything"). */
	assert_int_equal(dfk_find(f->ctx, f->bus.t, &f->m, &f->found, &f->err), DFK_OK);
	assert_int_equal(dfk_found_count(f->found), 6);
}

/* dfk_found_free while a device found in the list is open: the device has
 * its own copy of what it needs (the mock poisons the freed list). */
static void test_open_device_outlives_the_list(void **state)
{
	fx *f = *state;
	dfk_dev *dev;
	const dfk_dfu_if *ifc;
	const dfk_memmap *map;
	dfk_status st;

	f->m.alt = 0;
	f->m.devnum = 5;
	assert_int_equal(dfk_find(f->ctx, f->bus.t, &f->m, &f->found, &f->err), DFK_OK);
	assert_int_equal(dfk_found_count(f->found), 1);
	assert_int_equal(dfk_dev_open(f->ctx, dfk_found_get(f->found, 0), &dev, &f->err), DFK_OK);
	assert_ptr_not_equal(dfk_dev_if(dev), dfk_found_get(f->found, 0));
	assert_ptr_not_equal(dfk_dev_if(dev)->dev, dfk_found_get(f->found, 0)->dev);
	dfk_found_free(f->found);
	f->found = NULL;

	ifc = dfk_dev_if(dev);
	assert_int_equal(ifc->dev->desc.idVendor, 0x0483);
	assert_int_equal(ifc->dev->desc.idProduct, 0xdf11);
	assert_int_equal(ifc->dev->devnum, 5);
	assert_string_equal(ifc->dev->path, "1-1");
	assert_int_equal(ifc->dev->nconfigs, 1);
	assert_int_equal(ifc->dev->configs[0].nalts, 4);
	assert_int_equal(ifc->dev->configs[0].alts[3].bAlternateSetting, 3);
	assert_string_equal(ifc->name, f->f4.alt_names[0]);
	assert_string_equal(ifc->serial, "3276386E3235");
	assert_int_equal(ifc->func.wTransferSize, 2048);
	/* Requests, another alt (found in the copied descriptors) and its map. */
	assert_int_equal(dfk_dfu_get_status(dev, &st, &f->err), DFK_OK);
	assert_int_equal(st.state, DFK_STATE_IDLE);
	assert_int_equal(dfk_dev_select_alt(dev, 2, &f->err), DFK_OK);
	assert_int_equal(f->f4.cur_alt, 2);
	assert_string_equal(dfk_dev_if(dev)->name, f->f4.alt_names[2]);
	assert_int_equal(dfk_dev_memmap(dev, &map, &f->err), DFK_OK);
	assert_string_equal(map->name, "OTP Memory ");
	assert_int_equal(map->segs[0].start, 0x1FFF7800);
	assert_int_equal(dfk_dev_select_alt(dev, 9, &f->err), DFK_ERR_UNSUPPORTED);
	dfk_dev_close(dev);
}

static void test_open_single_alt_no_set_interface(void **state)
{
	fx *f = *state;
	dfk_dev *dev;

	f->m.path = "2-3.1";
	assert_int_equal(dfk_find(f->ctx, f->bus.t, &f->m, &f->found, &f->err), DFK_OK);
	assert_int_equal(dfk_dev_open(f->ctx, dfk_found_get(f->found, 0), &dev, &f->err), DFK_OK);
	assert_int_equal(f->plain.n_set_alt, 0);
	dfk_dev_close(dev);
}

static void test_unopenable_device_skipped(void **state)
{
	fx *f = *state;

	f->plain.open_fails = true;
	assert_int_equal(dfk_find(f->ctx, f->bus.t, NULL, &f->found, &f->err), DFK_OK);
	assert_int_equal(dfk_found_count(f->found), 5);
	assert_non_null(strstr(f->bus.log, "cannot open"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_find_all, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_find_alt_reads_only_that_name, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_find_alt_name, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_find_runtime_ids_and_serial, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_find_path_devnum_intf, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_and_select_alt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_device_outlives_the_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_match_not_initialised, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_single_alt_no_set_interface, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unopenable_device_skipped, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
