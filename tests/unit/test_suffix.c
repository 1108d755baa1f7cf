/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* DFU suffix: parse, validate, build (against bytes made by dfu-suffix 0.11). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dfukit/formats.h"

/* printf 123456789 > f; dfu-suffix -v 0483 -p df11 -a f */
static const uint8_t peer_file[25] = {0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0xff, 0xff, 0x11, 0xdf,
				      0x83, 0x04, 0x00, 0x01, 0x55, 0x46, 0x44, 0x10, 0x8b, 0x1e, 0x39, 0x39};

static void build_matches_peer(void **state)
{
	uint8_t out[16];
	dfk_suffix f = {.bcdDevice = 0xFFFF,
			.idProduct = 0xDF11,
			.idVendor = 0x0483,
			.bcdDFU = 0x0100,
			.bLength = 99,
			.dwCRC = 1234};
	(void)state;
	dfk_suffix_build(out, &f, dfk_crc32_update(0, "123456789", 9));
	assert_memory_equal(out, peer_file + 9, 16);
}

static void parse_peer(void **state)
{
	dfk_suffix s;
	dfk_error err;
	(void)state;
	assert_true(dfk_suffix_present(peer_file, sizeof(peer_file)));
	assert_int_equal(dfk_suffix_parse(peer_file, sizeof(peer_file), &s, &err), DFK_OK);
	assert_int_equal(s.bcdDevice, 0xFFFF);
	assert_int_equal(s.idProduct, 0xDF11);
	assert_int_equal(s.idVendor, 0x0483);
	assert_int_equal(s.bcdDFU, 0x0100);
	assert_int_equal(s.bLength, 16);
	assert_int_equal(s.dwCRC, 0x39391E8B);
}

static void suffix_only(void **state)
{
	uint8_t out[16];
	dfk_suffix f = {.bcdDevice = 1, .idProduct = 2, .idVendor = 3, .bcdDFU = 0x011A}, s;
	(void)state;
	dfk_suffix_build(out, &f, 0);
	assert_int_equal(dfk_suffix_parse(out, 16, &s, NULL), DFK_OK);
	assert_int_equal(s.bcdDFU, 0x011A);
	assert_int_equal(s.idVendor, 3);
}

static void bad_crc(void **state)
{
	uint8_t f[25];
	dfk_suffix s;
	dfk_error err;
	(void)state;
	memcpy(f, peer_file, sizeof(f));
	f[3] ^= 1;
	assert_true(dfk_suffix_present(f, sizeof(f)));
	assert_int_equal(dfk_suffix_parse(f, sizeof(f), &s, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "CRC"));
	assert_non_null(strstr(err.msg, "0x39391E8B"));
	/* the fields are still reported */
	assert_int_equal(s.idVendor, 0x0483);
	/* a flipped CRC byte too */
	memcpy(f, peer_file, sizeof(f));
	f[24] ^= 0x80;
	assert_int_equal(dfk_suffix_parse(f, sizeof(f), &s, &err), DFK_ERR_DATA);
}

static void bad_signature_and_length(void **state)
{
	uint8_t f[25];
	dfk_error err;
	(void)state;
	memcpy(f, peer_file, sizeof(f));
	f[17] = 'X';
	assert_false(dfk_suffix_present(f, sizeof(f)));
	assert_int_equal(dfk_suffix_parse(f, sizeof(f), NULL, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "UFD"));
	assert_int_equal(dfk_suffix_parse(f, 15, NULL, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "short"));
	assert_false(dfk_suffix_present(f, 15));
	assert_false(dfk_suffix_present(NULL, 0));
	assert_int_equal(dfk_suffix_parse(NULL, 0, NULL, &err), DFK_ERR_DATA);

	/* bLength below 16 and beyond the file */
	memcpy(f, peer_file, sizeof(f));
	f[20] = 15;
	assert_int_equal(dfk_suffix_parse(f, sizeof(f), NULL, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "bLength"));
	f[20] = 26;
	assert_int_equal(dfk_suffix_parse(f, sizeof(f), NULL, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "bLength"));
}

static void longer_suffix(void **state)
{
	/* bLength 25: the whole file is suffix; the CRC still covers len - 4 bytes. */
	uint8_t f[25];
	uint32_t crc;
	dfk_suffix s;
	(void)state;
	memcpy(f, peer_file, sizeof(f));
	f[20] = 25;
	crc = dfk_dfu_crc(f, 21);
	f[21] = (uint8_t)crc;
	f[22] = (uint8_t)(crc >> 8);
	f[23] = (uint8_t)(crc >> 16);
	f[24] = (uint8_t)(crc >> 24);
	assert_int_equal(dfk_suffix_parse(f, sizeof(f), &s, NULL), DFK_OK);
	assert_int_equal(s.bLength, 25);
}

/* Every truncation of a valid file either parses as a shorter suffixed
 * file or fails cleanly; none may crash. */
static void truncations(void **state)
{
	(void)state;
	for (size_t n = 0; n < sizeof(peer_file); n++) {
		dfk_error err;
		assert_int_equal(dfk_suffix_parse(peer_file, n, NULL, &err), DFK_ERR_DATA);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(build_matches_peer),
	    cmocka_unit_test(parse_peer),
	    cmocka_unit_test(suffix_only),
	    cmocka_unit_test(bad_crc),
	    cmocka_unit_test(bad_signature_and_length),
	    cmocka_unit_test(longer_suffix),
	    cmocka_unit_test(truncations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
