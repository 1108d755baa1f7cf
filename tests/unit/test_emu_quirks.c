/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* The quirks of real bootloaders that the zoo needs (doc/device-format.md):
 * busy-until-clrstatus, zero-poll-wedge, erase-in-transfer, leave-no-status,
 * each on a small description parsed in-process. */
#include "test_emu_util.h"

static const char dfuse_json[] =
    "{\"name\": \"q\", \"protocol\": \"dfuse\", \"dfu_mode\": {"
    "\"device\": {\"vid\": \"0x0483\", \"pid\": \"0xdf11\"},"
    "\"functional\": {\"attributes\": \"0x0B\", \"transfer_size\": 1024, \"dfu_version\": \"0x011A\"},"
    "\"alts\": [{\"name\": \"@Internal Flash  /0x08000000/16*128Kg\", \"contents\": {\"fill\": 0}}]},"
    "\"timing\": {\"erase_base_ms\": 1000, \"command_ms\": 1, \"manifest_ms\": 1},"
    "\"quirks\": [\"always-dnbusy\", \"%s\"]}";

static const char dfu_json[] =
    "{\"name\": \"p\", \"protocol\": \"dfu\", \"dfu_mode\": {"
    "\"device\": {\"vid\": \"0x2fe3\", \"pid\": \"0x0100\"},"
    "\"functional\": {\"attributes\": [\"can_download\", \"can_upload\", \"manifestation_tolerant\"],"
    " \"transfer_size\": 1024},"
    "\"alts\": [{\"name\": \"image_0\", \"memory\": [{\"pages\": 100, \"page_size\": 4096}],"
    " \"contents\": {\"fill\": 0}}]},"
    "\"timing\": {\"erase_base_ms\": 85, \"program_ns_per_byte\": 10000},"
    "\"quirks\": [\"erase-in-transfer\"]}";

typedef struct fixture {
	emu_profile *prof;
	emu_device *dev;
} fixture;

static emu_device *make(fixture *f, const char *text, const char *quirk, emu_timing timing)
{
	char json[2048], err[256] = "";
	snprintf(json, sizeof json, text, quirk);
	f->prof = emu_desc_parse(json, strlen(json), "test.json", NULL, err, sizeof err);
	if (!f->prof)
		print_error("%s\n", err);
	assert_non_null(f->prof);
	emu_config cfg = {.desc = f->prof, .timing = timing};
	f->dev = emu_device_new(&cfg, err, sizeof err);
	assert_non_null(f->dev);
	return f->dev;
}

static void drop(fixture *f)
{
	emu_device_free(f->dev);
	emu_profile_free(f->prof);
}

static void erase_at(emu_device *d, uint32_t a, uint64_t now)
{
	uint8_t c[5] = {0x41, (uint8_t)a, (uint8_t)(a >> 8), (uint8_t)(a >> 16), (uint8_t)(a >> 24)};
	assert_int_equal(dnload_at(d, 0, c, 5, now), EMU_URB_OK);
}

static int clrstatus(emu_device *d, uint64_t now)
{
	return ctl(d, 0x21, DFK_REQ_CLRSTATUS, 0, 0, NULL, 0, NULL, now);
}

/* STM32H7 rev V: past the first MiB the erase ends only with CLRSTATUS. */
static void test_busy_until_clrstatus(void **state)
{
	(void)state;
	fixture f;
	emu_device *d = make(&f, dfuse_json, "busy-until-clrstatus", EMU_TIMING_REAL);
	uint8_t st[6];

	/* within the first MiB: an ordinary erase */
	erase_at(d, 0x08020000, 0);
	assert_int_equal(getstatus_at(d, st, 0, NULL), EMU_URB_OK);
	assert_int_equal(st[4], DFK_STATE_DNBUSY);
	assert_int_equal(getstatus_at(d, st, 5000, NULL), EMU_URB_OK);
	assert_int_equal(st[4], DFK_STATE_DNLOAD_IDLE);

	/* beyond it: done in its time, then busy for as long as nobody clears it */
	erase_at(d, 0x08100000, 10000);
	assert_int_equal(getstatus_at(d, st, 10000, NULL), EMU_URB_OK);
	assert_int_equal(st[4], DFK_STATE_DNBUSY);
	uint32_t asked = poll_of(st);
	assert_true(asked >= 1000);
	for (uint64_t t = 20000; t < 200000; t += 30000) {
		assert_int_equal(getstatus_at(d, st, t, NULL), EMU_URB_OK);
		assert_int_equal(st[0], DFK_STATUS_OK);
		assert_int_equal(st[4], DFK_STATE_DNBUSY);
		assert_int_equal(poll_of(st), asked);
	}
	/* the sector is erased already: the busy state is all that is left */
	assert_int_equal(d->mem[0].data[0x100000], 0xFF);
	assert_int_equal(d->mem[0].data[0x100000 + 0x1FFFF], 0xFF);
	assert_int_equal(d->mem[0].data[0x0FFFFF], 0x00);
	uint8_t blk[4] = {1, 2, 3, 4};
	assert_int_equal(dnload_at(d, 2, blk, 4, 200000), EMU_URB_STALL);
	assert_int_equal(clrstatus(d, 200000), EMU_URB_OK);
	assert_int_equal(getstatus_at(d, st, 200000, NULL), EMU_URB_OK);
	assert_int_equal(st[0], DFK_STATUS_OK);
	assert_int_equal(st[4], DFK_STATE_IDLE);
	drop(&f);
}

/* A wedged Black Magic Probe: dfuDNBUSY at 0 ms forever, until a reset. */
static void test_zero_poll_wedge(void **state)
{
	(void)state;
	fixture f;
	emu_device *d = make(&f, dfuse_json, "zero-poll-wedge", EMU_TIMING_FAST);
	uint8_t st[6];

	/* a command that erases nothing does not wedge it */
	assert_int_equal(dfuse_setaddr(d, 0x08000000), DFK_STATUS_OK);
	erase_at(d, 0x08020000, 0);
	for (int i = 0; i < 500; i++) {
		assert_int_equal(getstatus_at(d, st, (uint64_t)i * 100, NULL), EMU_URB_OK);
		assert_int_equal(st[0], DFK_STATUS_OK);
		assert_int_equal(st[4], DFK_STATE_DNBUSY);
		assert_int_equal(poll_of(st), 0);
	}
	assert_int_equal(d->mem[0].data[0x20000], 0x00); /* nothing erased */
	emu_device_bus_reset(d);
	assert_int_equal(emu_device_take_event(d), EMU_EVENT_REENUMERATE);
	assert_int_equal(getstatus(d, st), EMU_URB_OK);
	assert_int_equal(st[4], DFK_STATE_IDLE);
	drop(&f);
}

/* Zephyr, ESP32-S2: the first DNLOAD erases the whole memory inside the
 * transfer; its GETSTATUS answers at once. */
static void test_erase_in_transfer(void **state)
{
	(void)state;
	fixture f;
	emu_device *d = make(&f, dfu_json, "", EMU_TIMING_REAL);
	uint8_t st[6], blk[1024], s[8] = {0x21, DFK_REQ_DNLOAD, 0, 0, 0, 0, 0, 4};
	uint32_t actual = 0, delay = 0;

	memset(blk, 0xA5, sizeof blk);
	assert_int_equal(emu_device_control(d, s, blk, &actual, 0, &delay), EMU_URB_OK);
	/* 100 pages of 85 ms, and 1 KiB at 10 us per byte */
	assert_int_equal(delay, 100 * 85 + 11);
	assert_int_equal(getstatus_at(d, st, delay, &delay), EMU_URB_OK);
	assert_int_equal(st[0], DFK_STATUS_OK);
	assert_int_equal(st[4], DFK_STATE_DNLOAD_IDLE);
	assert_int_equal(poll_of(st), 0);
	assert_int_equal(d->mem[0].data[0], 0xA5);
	assert_int_equal(d->mem[0].data[1024], 0xFF);		/* erased, not written */
	assert_int_equal(d->mem[0].data[100 * 4096 - 1], 0xFF); /* the last page too */

	/* the next block: no erase left, only its programming */
	s[2] = 1;
	assert_int_equal(emu_device_control(d, s, blk, &actual, 9000, &delay), EMU_URB_OK);
	assert_int_equal(delay, 11);
	assert_int_equal(getstatus_at(d, st, 9100, NULL), EMU_URB_OK);
	assert_int_equal(st[4], DFK_STATE_DNLOAD_IDLE);
	assert_int_equal(d->mem[0].data[1024], 0xA5);
	drop(&f);
}

/* GD32VF103: the GETSTATUS after the leave request is never answered. */
static void test_leave_no_status(void **state)
{
	(void)state;
	fixture f;
	emu_device *d = make(&f, dfuse_json, "leave-no-status", EMU_TIMING_FAST);
	uint8_t st[6];

	assert_int_equal(dfuse_setaddr(d, 0x08000000), DFK_STATUS_OK);
	assert_int_equal(dnload(d, 2, NULL, 0), EMU_URB_OK);
	assert_int_equal(getstatus(d, st), EMU_URB_TIMEOUT);
	assert_int_not_equal(emu_device_take_event(d), EMU_EVENT_NONE);
	drop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_busy_until_clrstatus),
	    cmocka_unit_test(test_zero_poll_wedge),
	    cmocka_unit_test(test_erase_in_transfer),
	    cmocka_unit_test(test_leave_no_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
