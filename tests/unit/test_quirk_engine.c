/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* The engine applies the quirk table (lib/proto/quirks.c) by the device's
 * identity: each quirk against the fake device of mock_dfu.c, on a fake
 * clock, with the same device under an unlisted ID as the control. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dfukit/dfukit.h"
#include "mock_dfu.h"

typedef mock_rig fx;

/* An F405-like DfuSe device under the given IDs. */
static fx *open_as(uint16_t vid, uint16_t pid, void (*tweak)(mock_dev *))
{
	fx *f = calloc(1, sizeof(*f));
	mock_init_f405(&f->d);
	f->d.vid = vid;
	f->d.pid = pid;
	if (tweak)
		tweak(&f->d);
	assert_int_equal(mock_rig_open(f, 0), DFK_OK);
	return f;
}

static void fx_free(fx *f)
{
	mock_rig_close(f);
	free(f);
}

static void tail(mock_dev *d)
{
	d->busy_tail = true;
	d->poll_ms = 100;
	d->busy_ms = 100;
}

static void test_h7_busy_tail_completes(void **state)
{
	(void)state;
	fx *f = open_as(0x0483, 0xdf11, tail);
	assert_int_equal(dfk_dfuse_erase_page(f->dev, 0x08020000, &f->err), DFK_OK);
	assert_int_equal(f->d.n_tail_clears, 1);
	assert_int_equal(f->d.state, DFK_STATE_DNLOAD_IDLE);
	/* cleared soon after the advertised 100 ms, not at the 120 s deadline */
	assert_true(f->bus.now_ms >= 100);
	assert_true(f->bus.now_ms < 3000);
	assert_non_null(strstr(f->bus.log, "clearing its status"));
	fx_free(f);

	/* not an ST ID: no CLRSTATUS, the deadline */
	f = open_as(0x1209, 0xdf11, tail);
	dfk_ctx_set_timeout(f->ctx, DFK_TIMEOUT_OPERATION, 5000, NULL);
	assert_int_equal(dfk_dfuse_erase_page(f->dev, 0x08020000, &f->err), DFK_ERR_TIMEOUT);
	assert_int_equal(f->d.n_tail_clears, 0);
	assert_int_equal(f->d.n_req[DFK_REQ_CLRSTATUS], 0);
	fx_free(f);
}

static void wedge(mock_dev *d)
{
	d->stuck_busy = true;
	d->poll_ms = 0;
}

static void test_bmp_zero_poll_wedge_gives_up(void **state)
{
	(void)state;
	fx *f = open_as(0x1d50, 0x6018, wedge);
	assert_int_equal(dfk_dfuse_erase_page(f->dev, 0x08000000, &f->err), DFK_ERR_TIMEOUT);
	assert_non_null(strstr(f->err.msg, "wedged"));
	assert_non_null(strstr(f->err.msg, "0 ms"));
	assert_non_null(strstr(f->err.msg, "0x08000000"));
	/* the table's 100 answers (plus the first status), in well under a few seconds */
	assert_true(f->d.n_req[DFK_REQ_GETSTATUS] <= 101);
	assert_true(f->d.n_req[DFK_REQ_GETSTATUS] >= 100);
	assert_true(f->bus.now_ms < 2000);
	fx_free(f);

	/* any device: the loop backs off and is bounded by count too, far
	 * below one request a millisecond until the 120 s deadline */
	f = open_as(0x1209, 0xdf11, wedge);
	assert_int_equal(dfk_dfuse_erase_page(f->dev, 0x08000000, &f->err), DFK_ERR_TIMEOUT);
	assert_non_null(strstr(f->err.msg, "wedged"));
	assert_true(f->d.n_req[DFK_REQ_GETSTATUS] <= 1001);
	assert_true(f->d.n_req[DFK_REQ_GETSTATUS] >= 1000);
	assert_true(f->bus.now_ms < 120000);
	fx_free(f);
}

static void long_poll(mock_dev *d)
{
	d->poll_ms = 1000; /* meaningless on these devices */
	d->busy_ms = 3;
}

static void test_poll_override_honoured(void **state)
{
	(void)state;
	fx *f = open_as(0x1d50, 0x5117, long_poll); /* Openmoko: 5 ms */
	assert_int_equal(dfk_dfuse_erase_page(f->dev, 0x08000000, &f->err), DFK_OK);
	assert_int_equal(f->bus.slept_ms, 5);
	fx_free(f);

	f = open_as(0x1209, 0xdf11, long_poll);
	assert_int_equal(dfk_dfuse_erase_page(f->dev, 0x08000000, &f->err), DFK_OK);
	assert_int_equal(f->bus.slept_ms, 1000);
	fx_free(f);
}

static void slow_dnload(mock_dev *d)
{
	d->dnload_ms = 8000; /* erases inside the transfer, beyond 5 s */
}

static void test_erase_in_transfer_long_timeout(void **state)
{
	(void)state;
	fx *f = open_as(0x303a, 0x0002, slow_dnload); /* ESP32-S2 */
	assert_int_equal(dfk_dfuse_erase_page(f->dev, 0x08000000, &f->err), DFK_OK);
	assert_int_equal(f->d.req_timeout[DFK_REQ_DNLOAD], 30000);
	assert_int_equal(f->d.req_timeout[DFK_REQ_GETSTATUS], 5000);  /* the later polls: the usual one */
	assert_int_equal(f->d.req_timeout[DFK_REQ_CLRSTATUS] + 1, 1); /* never sent */
	/* the GETSTATUS right after a DNLOAD gets the long one too */
	assert_int_equal(dfk_dfu_dnload(f->dev, 0, (const uint8_t[]){0x41}, 1, &f->err), DFK_OK);
	dfk_status st;
	assert_int_equal(dfk_dfu_get_status(f->dev, &st, &f->err), DFK_OK);
	assert_int_equal(f->d.req_timeout[DFK_REQ_GETSTATUS], 30000);
	assert_int_equal(dfk_dfu_get_status(f->dev, &st, &f->err), DFK_OK);
	assert_int_equal(f->d.req_timeout[DFK_REQ_GETSTATUS], 5000);
	fx_free(f);

	/* bounded by the operation timeout */
	f = open_as(0x303a, 0x0002, NULL);
	dfk_ctx_set_timeout(f->ctx, DFK_TIMEOUT_OPERATION, 10000, NULL);
	assert_int_equal(dfk_dfuse_erase_page(f->dev, 0x08000000, &f->err), DFK_OK);
	assert_int_equal(f->d.req_timeout[DFK_REQ_DNLOAD], 10000);
	fx_free(f);

	f = open_as(0x1209, 0xdf11, slow_dnload);
	assert_int_equal(dfk_dfuse_erase_page(f->dev, 0x08000000, &f->err), DFK_ERR_TIMEOUT);
	assert_int_equal(f->d.req_timeout[DFK_REQ_DNLOAD], 5000);
	fx_free(f);
}

static void slow_mass(mock_dev *d)
{
	d->mass_poll_ms = 100;
	d->mass_busy_ms = 30000;
}

static void test_slow_mass_erase(void **state)
{
	(void)state;
	/* the default operation timeout: completes, no busy-tail clear, and the
	 * progress expects the table's time, not the reported 100 ms */
	fx *f = open_as(0x0483, 0xdf11, slow_mass);
	assert_int_equal(dfk_dfuse_mass_erase(f->dev, &f->err), DFK_OK);
	assert_int_equal(f->d.n_mass, 1);
	assert_int_equal(f->d.n_req[DFK_REQ_CLRSTATUS], 0);
	assert_true(f->bus.now_ms >= 30000);
	fx_free(f);

	/* a shorter operation timeout is the caller's: kept, and the message
	 * says the device's mass erase takes longer */
	f = open_as(0x0483, 0xdf11, slow_mass);
	dfk_ctx_set_timeout(f->ctx, DFK_TIMEOUT_OPERATION, 10000, NULL);
	assert_int_equal(dfk_dfuse_mass_erase(f->dev, &f->err), DFK_ERR_TIMEOUT);
	assert_non_null(strstr(f->err.msg, "mass erase can take up to 40000 ms"));
	assert_true(f->bus.now_ms <= 10100);
	fx_free(f);

	f = open_as(0x1209, 0xdf11, slow_mass);
	dfk_ctx_set_timeout(f->ctx, DFK_TIMEOUT_OPERATION, 10000, NULL);
	assert_int_equal(dfk_dfuse_mass_erase(f->dev, &f->err), DFK_ERR_TIMEOUT);
	assert_null(strstr(f->err.msg, "can take up to"));
	fx_free(f);
}

static const char *gd32_alts[] = {"@Internal Flash  /0x08000000/64*002Kg"};

static void gd32(mock_dev *d)
{
	d->bcd_device = 0x1000;
	d->raw_serial = true;
	strcpy(d->serial, "3?BJ0123");
	d->nalts = 1;
	d->alt_names[0] = gd32_alts[0];
}

static void test_gd32_layout_and_raw_serial(void **state)
{
	(void)state;
	const dfk_memmap *map;
	fx *f = open_as(0x28e9, 0x0189, gd32);
	assert_string_equal(dfk_dev_if(f->dev)->serial, "3?BJ0123");
	assert_int_equal(dfk_dev_memmap(f->dev, &map, &f->err), DFK_OK);
	assert_int_equal(map->count, 1);
	assert_int_equal(map->segs[0].page_size, 1024);
	assert_int_equal(map->segs[0].pages, 128);
	fx_free(f);

	/* another ID: the map as advertised (2 KiB pages) */
	f = open_as(0x1209, 0xdf11, gd32);
	assert_int_equal(dfk_dev_memmap(f->dev, &map, &f->err), DFK_OK);
	assert_int_equal(map->segs[0].page_size, 2048);
	fx_free(f);
}

static void leave_silent(mock_dev *d)
{
	d->leave_ignored = true; /* the GETSTATUS after leave fails */
}

static void test_leave_without_status(void **state)
{
	(void)state;
	fx *f = open_as(0x28e9, 0x0189, leave_silent);
	assert_int_equal(dfk_job_leave(f->dev, true, 0x08000000, &f->err), DFK_OK);
	assert_int_equal(f->d.n_leave, 1);
	fx_free(f);

	f = open_as(0x1209, 0xdf11, leave_silent);
	assert_int_not_equal(dfk_job_leave(f->dev, true, 0x08000000, &f->err), DFK_OK);
	fx_free(f);
}

static void maple(mock_dev *d)
{
	d->bcd_device = 0x0200;
	d->func.bcdDFUVersion = 0x011A;
}

static void test_force_dfu11(void **state)
{
	(void)state;
	fx *f = open_as(0x1eaf, 0x0003, maple);
	assert_false(dfk_dev_if(f->dev)->dfuse);
	assert_int_equal(dfk_dev_if(f->dev)->func.bcdDFUVersion, 0x0110);
	fx_free(f);

	f = open_as(0x1209, 0xdf11, maple);
	assert_true(dfk_dev_if(f->dev)->dfuse);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_h7_busy_tail_completes), cmocka_unit_test(test_bmp_zero_poll_wedge_gives_up),
	    cmocka_unit_test(test_poll_override_honoured), cmocka_unit_test(test_erase_in_transfer_long_timeout),
	    cmocka_unit_test(test_slow_mass_erase),	   cmocka_unit_test(test_gd32_layout_and_raw_serial),
	    cmocka_unit_test(test_leave_without_status),   cmocka_unit_test(test_force_dfu11),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
