/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* Random control transfers against every profile (with and without
 * faults): the model must never crash, never produce more than wLength
 * bytes, never return anything but an EMU_URB_* code and never leave the
 * DFU state range. Deterministic (fixed seed), so a failure reproduces. */
#include "emu_random_request.h"
#include "test_emu_util.h"

static uint64_t rng = EMU_RANDOM_SEED;

static const char *profiles[] = {"dfu11",     "dfu11-dnload-only",   "dfu11-will-detach",      "dfu11-wait-reset",
				 "stm32f405", "stm32f405-protected", "stm32f103-flash-loader", "stm32l476",
				 "stm32h743"};
static const char *fault_sets[][2] = {
    {NULL, NULL},
    {"stall@req=30", "status=errWRITE@block=2"},
    {"busy@dnblock=3", "short@req=17"},
    {"desc=xfer65535", "status=errVERIFY@addr=0x08000010"},
    {"desc=xfer0", "disconnect@req=900"},
    {"timeout@req=700", "desc=total-short"},
};

static void one_run(const char *profile, size_t fs, emu_timing timing)
{
	const char *faults[2];
	size_t nf = 0;
	for (size_t i = 0; i < 2; i++)
		if (fault_sets[fs][i])
			faults[nf++] = fault_sets[fs][i];
	emu_device *d = mkdev_f(profile, timing, NULL, faults, nf);
	static uint8_t buf[65536];
	uint64_t now = 0;
	for (int i = 0; i < 3000; i++) {
		uint8_t s[8];
		uint16_t wlength = emu_random_request(&rng, s, buf);
		if (emu_rnd(&rng) % 5 == 0)
			now += emu_rnd(&rng) % 3000;
		uint32_t actual = 0xDEAD;
		uint32_t delay = 0;
		int r = emu_device_control(d, s, buf, &actual, now, &delay);
		assert_true(r == EMU_URB_OK || r == EMU_URB_STALL || r == EMU_URB_NODEV || r == EMU_URB_TIMEOUT);
		assert_true(actual <= wlength);
		if (r != EMU_URB_OK)
			assert_int_equal(actual, 0);
		assert_true(d->state <= DFK_STATE_ERROR);
		now += delay;
		if (emu_rnd(&rng) % 50 == 0 || emu_device_take_event(d) != EMU_EVENT_NONE)
			emu_device_bus_reset(d);
		emu_usb_identity id;
		emu_device_identity(d, &id);
		if (!id.present || r == EMU_URB_TIMEOUT) {
			emu_device_free(d);
			d = mkdev_f(profile, timing, NULL, faults, nf);
		}
	}
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	emu_device_write_stats(d, f);
	fclose(f);
	assert_non_null(strstr(out, "\"control_transfers\":"));
	free(out);
	emu_device_free(d);
}

static void test_random(void **state)
{
	(void)state;
	for (size_t p = 0; p < sizeof profiles / sizeof profiles[0]; p++)
		for (size_t fs = 0; fs < sizeof fault_sets / sizeof fault_sets[0]; fs++)
			one_run(profiles[p], fs, fs % 2 ? EMU_TIMING_REAL : EMU_TIMING_FAST);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_random)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
