/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* CRC-32 (zlib) and the DFU dwCRC. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>
#include <zlib.h>

#include "dfukit/formats.h"

static void check_value(void **state)
{
	(void)state;
	assert_int_equal(dfk_dfu_crc("123456789", 9), 0x340BC6D9u);
	assert_int_equal(dfk_crc32_update(0, "123456789", 9), 0xCBF43926u);
	assert_int_equal(dfk_dfu_crc(NULL, 0), 0xFFFFFFFFu);
	assert_int_equal(dfk_crc32_update(0, NULL, 0), 0);
}

static void running(void **state)
{
	const char *s = "The quick brown fox jumps over the lazy dog";
	uint32_t c = 0;
	(void)state;
	for (size_t i = 0; i < strlen(s); i++)
		c = dfk_crc32_update(c, s + i, 1);
	assert_int_equal(c, dfk_crc32_update(0, s, strlen(s)));
	assert_int_equal(c, 0x414FA339u);
	assert_int_equal(dfk_dfu_crc(s, strlen(s)), (uint32_t)~0x414FA339u);
}

/* Lengths above UINT_MAX must be fed to zlib in pieces: a mapping of
 * untouched anonymous pages reads as zeros and costs no memory. */
static void above_4g(void **state)
{
	const size_t len = ((size_t)1 << 32) + 16;
	static uint8_t zeros[1 << 20];
	uint8_t *p;
	uLong one = crc32(0, zeros, sizeof(zeros)), expect = 0, z16 = crc32(0, zeros, 16);
	(void)state;

	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	assert_true(p != MAP_FAILED);
	for (int i = 0; i < 4096; i++)
		expect = crc32_combine(expect, one, sizeof(zeros));
	expect = crc32_combine(expect, z16, 16);
	assert_int_equal(dfk_crc32_update(0, p, len), (uint32_t)expect);
	munmap(p, len);
}

/* argv[1]: a pattern of the tests to run, or --skip PATTERN: CTest runs
 * the slow above_4g on its own (tests/formats.cmake). */
int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(check_value),
	    cmocka_unit_test(running),
	    cmocka_unit_test(above_4g),
	};
	if (argc == 3 && strcmp(argv[1], "--skip") == 0)
		cmocka_set_skip_filter(argv[2]);
	else if (argc == 2)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
