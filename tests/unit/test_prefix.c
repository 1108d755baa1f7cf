/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* Stellaris and LPC prefixes, with the byte layout dfu-prefix 0.11 writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dfukit/formats.h"

static void stellaris_build(void **state)
{
	/* dfu-prefix -s 0x2000 -a on a 1000-byte file */
	static const uint8_t peer[8] = {0x01, 0x00, 0x08, 0x00, 0xe8, 0x03, 0x00, 0x00};
	uint8_t out[16];
	size_t n;
	dfk_error err;
	(void)state;
	assert_int_equal(dfk_prefix_build(DFK_PREFIX_STELLARIS, 0x2000, 1000, out, &n, &err), DFK_OK);
	assert_int_equal(n, 8);
	assert_memory_equal(out, peer, 8);
	assert_int_equal(dfk_prefix_build(DFK_PREFIX_STELLARIS, 0x2100, 1000, out, &n, &err), DFK_ERR_USAGE);
	assert_non_null(strstr(err.msg, "0x00002100"));
	assert_int_equal(dfk_prefix_build(DFK_PREFIX_STELLARIS, 0x04000000, 1000, out, &n, &err), DFK_ERR_USAGE);
	assert_int_equal(dfk_prefix_build(DFK_PREFIX_STELLARIS, 0x03FFFC00, 1000, out, &n, &err), DFK_OK);
	assert_int_equal(out[2], 0xff);
	assert_int_equal(out[3], 0xff);
	assert_int_equal(dfk_prefix_build(DFK_PREFIX_STELLARIS, 0, (uint64_t)1 << 32, out, &n, &err), DFK_ERR_DATA);
	assert_int_equal(dfk_prefix_build(DFK_PREFIX_NONE, 0, 1, out, &n, &err), DFK_ERR_USAGE);
}

static void lpc_build(void **state)
{
	/* dfu-prefix -L -a on files of these sizes: 1, 500, 512 -> 1 block; 513, 1024 -> 2 */
	static const struct {
		uint64_t len;
		uint16_t blocks;
	} cases[] = {{1, 1}, {500, 1}, {512, 1}, {513, 2}, {1000, 2}, {1024, 2}, {0, 0}, {65535u * 512, 65535}};
	uint8_t out[16];
	size_t n;
	dfk_error err;
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t expect[16] = {0x1a,
				      0x3f,
				      (uint8_t)cases[i].blocks,
				      (uint8_t)(cases[i].blocks >> 8),
				      0,
				      0,
				      0,
				      0,
				      0,
				      0,
				      0,
				      0,
				      0xff,
				      0xff,
				      0xff,
				      0xff};
		assert_int_equal(dfk_prefix_build(DFK_PREFIX_LPC, 0, cases[i].len, out, &n, &err), DFK_OK);
		assert_int_equal(n, 16);
		assert_memory_equal(out, expect, 16);
	}
	assert_int_equal(dfk_prefix_build(DFK_PREFIX_LPC, 0, 65535u * 512 + 1, out, &n, &err), DFK_ERR_DATA);
}

static void detect(void **state)
{
	uint8_t buf[64] = {0};
	uint8_t pre[16];
	size_t n, plen;
	uint32_t addr;
	dfk_prefix_type type;
	(void)state;

	/* Stellaris: length must match what follows */
	assert_int_equal(dfk_prefix_build(DFK_PREFIX_STELLARIS, 0x4000, sizeof(buf) - 8, pre, &n, NULL), DFK_OK);
	memcpy(buf, pre, n);
	assert_int_equal(dfk_prefix_detect(buf, sizeof(buf), &type, &plen, &addr, NULL), DFK_OK);
	assert_int_equal(type, DFK_PREFIX_STELLARIS);
	assert_int_equal(plen, 8);
	assert_int_equal(addr, 0x4000);
	assert_int_equal(dfk_prefix_detect(buf, sizeof(buf) - 1, &type, &plen, &addr, NULL), DFK_OK);
	assert_int_equal(type, DFK_PREFIX_NONE);
	assert_int_equal(plen, 0);

	/* LPC: recognised by its first two bytes (low six bits), as dfu-util does */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(dfk_prefix_build(DFK_PREFIX_LPC, 0, sizeof(buf) - 16, pre, &n, NULL), DFK_OK);
	memcpy(buf, pre, n);
	assert_int_equal(dfk_prefix_detect(buf, sizeof(buf), &type, &plen, &addr, NULL), DFK_OK);
	assert_int_equal(type, DFK_PREFIX_LPC);
	assert_int_equal(plen, 16);
	buf[0] = 0x5a;
	buf[1] = 0xbf;
	assert_int_equal(dfk_prefix_detect(buf, sizeof(buf), &type, &plen, &addr, NULL), DFK_OK);
	assert_int_equal(type, DFK_PREFIX_LPC);
	/* too short to hold the prefix */
	assert_int_equal(dfk_prefix_detect(buf, 15, &type, &plen, &addr, NULL), DFK_OK);
	assert_int_equal(type, DFK_PREFIX_NONE);

	/* plain data and tiny inputs */
	memset(buf, 0x55, sizeof(buf));
	for (size_t len = 0; len <= sizeof(buf); len++) {
		assert_int_equal(dfk_prefix_detect(buf, len, &type, &plen, &addr, NULL), DFK_OK);
		assert_int_equal(type, DFK_PREFIX_NONE);
	}
	assert_int_equal(dfk_prefix_detect(NULL, 0, &type, &plen, &addr, NULL), DFK_OK);
	assert_int_equal(type, DFK_PREFIX_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(stellaris_build),
	    cmocka_unit_test(lpc_build),
	    cmocka_unit_test(detect),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
