/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* The quirk table: lookups by identity and the GD32VF103 layout fix-up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "quirks.h"

static void test_lookup(void **state)
{
	dfk_quirks q;
	(void)state;
	dfk_quirks_lookup(0x1234, 0x5678, 0x0100, &q);
	assert_int_equal(q.flags, 0);
	assert_null(q.name);

	dfk_quirks_lookup(0x28e9, 0x0189, 0x1000, &q);
	assert_true(q.flags & DFK_QUIRK_GD32_LAYOUT);
	assert_true(q.flags & DFK_QUIRK_RAW_SERIAL);
	assert_true(q.flags & DFK_QUIRK_LEAVE_NO_STATUS);
	assert_string_equal(q.name, "GD32VF103");

	/* bcdDevice-specific: Maple only with bcdDevice 0x0200 */
	dfk_quirks_lookup(0x1eaf, 0x0003, 0x0200, &q);
	assert_true(q.flags & DFK_QUIRK_FORCE_DFU11);
	dfk_quirks_lookup(0x1eaf, 0x0003, 0x0201, &q);
	assert_false(q.flags & DFK_QUIRK_FORCE_DFU11);

	/* a PID range: every Openmoko PID from 0x5117 to 0x5126, not beyond */
	dfk_quirks_lookup(0x1d50, 0x5120, 0, &q);
	assert_true(q.flags & DFK_QUIRK_IGNORE_POLLTIMEOUT);
	assert_int_equal(q.poll_ms, 5);
	dfk_quirks_lookup(0x1d50, 0x5127, 0, &q);
	assert_int_equal(q.flags, 0);

	dfk_quirks_lookup(0x1d50, 0x6018, 0, &q);
	assert_true(q.flags & DFK_QUIRK_ZERO_POLL_WEDGE);
	assert_true(q.max_zero_polls > 0 && q.max_zero_polls <= 1000);

	dfk_quirks_lookup(0x0483, 0xdf11, 0x2200, &q);
	assert_true(q.flags & DFK_QUIRK_SLOW_MASS_ERASE);
	assert_true(q.mass_erase_ms >= 32000);
	assert_true(q.flags & DFK_QUIRK_BUSY_TAIL_CLRSTATUS);

	dfk_quirks_lookup(0x303a, 0x0002, 0, &q);
	assert_true(q.flags & DFK_QUIRK_ERASE_IN_TRANSFER);
	assert_true(q.long_timeout_ms > 5000 && q.long_timeout_ms <= 60000);
}

static void test_gd32_layout(void **state)
{
	static const struct {
		char code;
		uint32_t pages;
	} sizes[] = {{'2', 8}, {'4', 16}, {'6', 32}, {'8', 64}, {'B', 128}, {'D', 256}};
	size_t i;
	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		dfk_memmap m;
		char serial[] = "3?xJ";
		serial[2] = sizes[i].code;
		/* the ROM's own (wrong) map: 2 KiB pages */
		assert_int_equal(dfk_memmap_parse("@Internal Flash  /0x08000000/64*002Kg", &m, NULL), DFK_OK);
		assert_true(dfk_quirks_gd32_layout(serial, &m));
		assert_int_equal(m.count, 1);
		assert_int_equal(m.segs[0].start, 0x08000000);
		assert_int_equal(m.segs[0].page_size, 1024);
		assert_int_equal(m.segs[0].pages, sizes[i].pages);
		assert_int_equal(m.segs[0].end, 0x08000000 + sizes[i].pages * 1024);
		assert_string_equal(m.name, "Internal Flash  ");
		dfk_memmap_free(&m);
	}
	/* not a GD32VF103 serial: the map stays as the device gave it */
	{
		const char *others[] = {"", "3?x", "4?BJ", "3?BK", "3?ZJ", NULL};
		for (i = 0; others[i]; i++) {
			dfk_memmap m;
			assert_int_equal(dfk_memmap_parse("@Internal Flash  /0x08000000/64*002Kg", &m, NULL), DFK_OK);
			assert_false(dfk_quirks_gd32_layout(others[i], &m));
			assert_int_equal(m.segs[0].page_size, 2048);
			dfk_memmap_free(&m);
		}
		dfk_memmap m;
		assert_int_equal(dfk_memmap_parse("@F/0x0/1*1Kg", &m, NULL), DFK_OK);
		assert_false(dfk_quirks_gd32_layout(NULL, &m));
		dfk_memmap_free(&m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lookup),
	    cmocka_unit_test(test_gd32_layout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
