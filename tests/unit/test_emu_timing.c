/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* The timing model: fast answers at once; real reports and enforces each
 * operation's busy time, and an early GETSTATUS gets what the chip does. */
#include "test_emu_util.h"

static void erase_cmd(emu_device *d, uint32_t a, uint64_t now)
{
	uint8_t c[5] = {0x41, (uint8_t)a, (uint8_t)(a >> 8), (uint8_t)(a >> 16), (uint8_t)(a >> 24)};
	assert_int_equal(dnload_at(d, 0, c, 5, now), EMU_URB_OK);
}

static void test_fast(void **state)
{
	(void)state;
	emu_device *d = mkdev("stm32f405", EMU_TIMING_FAST);
	clear_error(d);
	uint8_t st[6];
	uint32_t delay;
	erase_cmd(d, 0x08020000, 0);
	assert_int_equal(getstatus_at(d, st, 0, &delay), EMU_URB_OK);
	assert_int_equal(st[4], DFK_STATE_DNBUSY);
	assert_int_equal(poll_of(st), 0);
	assert_int_equal(getstatus_at(d, st, 0, &delay), EMU_URB_OK);
	assert_int_equal(delay, 0);
	assert_int_equal(st[4], DFK_STATE_DNLOAD_IDLE);
	assert_int_equal(d->stats.busy_ms, 0);
	emu_device_free(d);
}

static void test_f405_real(void **state)
{
	(void)state;
	emu_device *d = mkdev("stm32f405", EMU_TIMING_REAL);
	clear_error(d);
	uint8_t st[6];
	uint32_t delay;
	/* 16 KiB sector: ~250 ms, reported as is, polled on time */
	erase_cmd(d, 0x08000000, 1000);
	assert_int_equal(getstatus_at(d, st, 1000, &delay), EMU_URB_OK);
	assert_int_equal(st[4], DFK_STATE_DNBUSY);
	uint32_t p16 = poll_of(st);
	assert_in_range(p16, 200, 300);
	assert_int_equal(getstatus_at(d, st, 1000 + p16, &delay), EMU_URB_OK);
	assert_int_equal(delay, 0);
	assert_int_equal(st[4], DFK_STATE_DNLOAD_IDLE);
	/* 128 KiB sector takes longer; an early poll is NAKed (delayed) */
	erase_cmd(d, 0x08020000, 2000);
	assert_int_equal(getstatus_at(d, st, 2000, &delay), EMU_URB_OK);
	uint32_t p128 = poll_of(st);
	assert_in_range(p128, 900, 1200);
	assert_int_equal(getstatus_at(d, st, 2100, &delay), EMU_URB_OK);
	assert_int_equal(delay, p128 - 100);
	assert_int_equal(st[4], DFK_STATE_DNLOAD_IDLE);
	/* mass erase: reports 100 ms, takes 16 s */
	uint8_t c = 0x41;
	assert_int_equal(dnload_at(d, 0, &c, 1, 5000), EMU_URB_OK);
	assert_int_equal(getstatus_at(d, st, 5000, &delay), EMU_URB_OK);
	assert_int_equal(poll_of(st), 100);
	assert_int_equal(getstatus_at(d, st, 5100, &delay), EMU_URB_OK);
	assert_int_equal(delay, 16000 - 100);
	assert_int_equal(st[4], DFK_STATE_DNLOAD_IDLE);
	assert_int_equal(d->stats.busy_ms, p16 + p128 + 16000);
	/* a 2 KiB write: a few ms */
	uint8_t data[2048];
	memset(data, 0, sizeof data);
	uint8_t sa[5] = {0x21, 0, 0, 0, 0x08};
	assert_int_equal(dnload_at(d, 0, sa, 5, 30000), EMU_URB_OK);
	assert_int_equal(getstatus_at(d, st, 30000, &delay), EMU_URB_OK);
	assert_int_equal(getstatus_at(d, st, 30000 + poll_of(st), &delay), EMU_URB_OK);
	assert_int_equal(dnload_at(d, 2, data, 2048, 30100), EMU_URB_OK);
	assert_int_equal(getstatus_at(d, st, 30100, &delay), EMU_URB_OK);
	assert_in_range(poll_of(st), 5, 50);
	emu_device_free(d);
}

static void test_l476_early_stall(void **state)
{
	(void)state;
	emu_device *d = mkdev("stm32l476", EMU_TIMING_REAL);
	uint8_t st[6];
	uint32_t delay;
	erase_cmd(d, 0x08000800, 0);
	assert_int_equal(getstatus_at(d, st, 0, &delay), EMU_URB_OK);
	assert_int_equal(st[4], DFK_STATE_DNBUSY);
	uint32_t reported = poll_of(st);
	assert_int_equal(reported, 11); /* half of the real 22 ms */
	/* polled at the reported time: too early; the first such poll stalls */
	assert_int_equal(getstatus_at(d, st, reported, &delay), EMU_URB_STALL);
	assert_int_equal(d->state, DFK_STATE_DNBUSY);
	assert_int_equal(getstatus_at(d, st, reported + 1, &delay), EMU_URB_OK);
	assert_int_equal(st[4], DFK_STATE_DNBUSY);
	assert_true(poll_of(st) > 0);
	assert_int_equal(getstatus_at(d, st, 22, &delay), EMU_URB_OK);
	assert_int_equal(st[0], 0);
	assert_int_equal(st[4], DFK_STATE_DNLOAD_IDLE);
	/* the next operation's early poll is answered dfuDNBUSY, the third stalls again */
	erase_cmd(d, 0x08001000, 100);
	assert_int_equal(getstatus_at(d, st, 100, &delay), EMU_URB_OK);
	assert_int_equal(getstatus_at(d, st, 111, &delay), EMU_URB_OK);
	assert_int_equal(st[4], DFK_STATE_DNBUSY);
	assert_int_equal(getstatus_at(d, st, 122, &delay), EMU_URB_OK);
	assert_int_equal(st[4], DFK_STATE_DNLOAD_IDLE);
	erase_cmd(d, 0x08001800, 200);
	assert_int_equal(getstatus_at(d, st, 200, &delay), EMU_URB_OK);
	assert_int_equal(getstatus_at(d, st, 211, &delay), EMU_URB_STALL);
	emu_device_free(d);
}

static void test_h743_early_busy(void **state)
{
	(void)state;
	emu_device *d = mkdev("stm32h743", EMU_TIMING_REAL);
	uint8_t st[6];
	uint32_t delay;
	erase_cmd(d, 0x08020000, 0);
	assert_int_equal(getstatus_at(d, st, 0, &delay), EMU_URB_OK);
	uint32_t p = poll_of(st);
	assert_in_range(p, 1000, 2000);
	assert_int_equal(getstatus_at(d, st, p / 2, &delay), EMU_URB_OK);
	assert_int_equal(delay, 0);
	assert_int_equal(st[4], DFK_STATE_DNBUSY);
	assert_in_range(poll_of(st), 1, p - p / 2);
	/* other requests while busy stall without changing the state */
	assert_int_equal(simple(d, DFK_REQ_ABORT), EMU_URB_STALL);
	assert_int_equal(d->state, DFK_STATE_DNBUSY);
	assert_int_equal(getstatus_at(d, st, p, &delay), EMU_URB_OK);
	assert_int_equal(st[4], DFK_STATE_DNLOAD_IDLE);
	emu_device_free(d);
}

static void test_dfu11_real(void **state)
{
	(void)state;
	emu_device *d = mkdev("dfu11", EMU_TIMING_REAL);
	to_dfu_mode(d);
	uint8_t b[1024] = {0}, st[6];
	assert_int_equal(dnload_at(d, 0, b, 1024, 0), EMU_URB_OK);
	assert_int_equal(getstatus_at(d, st, 0, NULL), EMU_URB_OK);
	assert_int_equal(st[4], DFK_STATE_DNBUSY);
	uint32_t p = poll_of(st);
	assert_int_equal(p, 20 + 11); /* page erase + 1 KiB at 10 us/byte */
	assert_int_equal(getstatus_at(d, st, p, NULL), EMU_URB_OK);
	assert_int_equal(st[4], DFK_STATE_DNLOAD_IDLE);
	/* next block starts a new page: erase + programming */
	assert_int_equal(dnload_at(d, 1, b, 512, 100), EMU_URB_OK);
	assert_int_equal(getstatus_at(d, st, 100, NULL), EMU_URB_OK);
	assert_int_equal(poll_of(st), 20 + 6);
	assert_int_equal(d->stats.busy_ms, 31 + 26);
	/* manifestation takes 50 ms */
	assert_int_equal(getstatus_at(d, st, 200, NULL), EMU_URB_OK);
	assert_int_equal(dnload_at(d, 2, NULL, 0, 200), EMU_URB_OK);
	assert_int_equal(getstatus_at(d, st, 200, NULL), EMU_URB_OK);
	assert_int_equal(st[4], DFK_STATE_MANIFEST);
	assert_int_equal(poll_of(st), 50);
	assert_int_equal(getstatus_at(d, st, 250, NULL), EMU_URB_OK);
	assert_int_equal(st[4], DFK_STATE_IDLE);
	emu_device_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fast),
	    cmocka_unit_test(test_f405_real),
	    cmocka_unit_test(test_l476_early_stall),
	    cmocka_unit_test(test_h743_early_busy),
	    cmocka_unit_test(test_dfu11_real),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
