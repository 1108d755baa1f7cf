/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* Motorola S-record reader, including hostile inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dfukit/formats.h"
#include "text_format_test.h"

/* Appends one record with a correct count and checksum. */
static void rec(char *buf, unsigned type, uint32_t addr, const uint8_t *data, unsigned n)
{
	static const unsigned alen[10] = {2, 2, 3, 4, 2, 2, 3, 4, 3, 2};
	unsigned count = alen[type] + n + 1, sum = count;
	char *p = buf + strlen(buf);

	p += sprintf(p, "S%u%02X", type, count);
	for (int i = (int)alen[type] - 1; i >= 0; i--) {
		unsigned b = (addr >> (8 * i)) & 0xff;
		p += sprintf(p, "%02X", b);
		sum += b;
	}
	for (unsigned i = 0; i < n; i++) {
		p += sprintf(p, "%02X", data[i]);
		sum += data[i];
	}
	sprintf(p, "%02X\n", ~sum & 0xff);
}

static dfk_code parse(const char *text, dfk_image *img, char *name, dfk_error *err)
{
	dfk_image_init(img);
	dfk_error_clear(err);
	return dfk_srec_parse((const uint8_t *)text, strlen(text), img, name, err);
}

/* dfk_srec_parse as a text_parser, with the header name checked. */
static dfk_code parse_named(const uint8_t *buf, size_t len, dfk_image *img, dfk_error *err)
{
	char name[256];
	dfk_code rc = dfk_srec_parse(buf, len, img, name, err);

	assert_true(strlen(name) < sizeof(name));
	return rc;
}

static void expect_error(const char *text, const char *needle)
{
	text_expect_error(parse_named, text, needle);
}

static void test_all_data_types(void **state)
{
	char text[4096] = "", name[256];
	uint8_t d[16];
	dfk_image img;
	dfk_error err;

	(void)state;
	for (int i = 0; i < 16; i++)
		d[i] = (uint8_t)(0xA0 + i);
	rec(text, 0, 0, (const uint8_t *)"firmware", 8);
	rec(text, 1, 0x1000, d, 16);
	rec(text, 1, 0x1010, d, 4); /* contiguous: same element */
	rec(text, 2, 0x123456, d, 8);
	rec(text, 3, 0x08000000, d, 16);
	rec(text, 5, 4, NULL, 0);
	rec(text, 7, 0x08000000, NULL, 0);
	assert_int_equal(parse(text, &img, name, &err), DFK_OK);
	assert_string_equal(name, "firmware");
	assert_int_equal(img.count, 3);
	assert_int_equal(img.elements[0].addr, 0x1000);
	assert_int_equal(img.elements[0].size, 20);
	assert_int_equal(img.elements[1].addr, 0x123456);
	assert_int_equal(img.elements[2].addr, 0x08000000);
	assert_memory_equal(img.elements[2].data, d, 16);
	dfk_image_free(&img);
}

static void test_s6_s8_s9_crlf(void **state)
{
	char text[4096] = "", crlf[8192] = "";
	uint8_t d[4] = {1, 2, 3, 4};
	dfk_image img;
	dfk_error err;

	(void)state;
	rec(text, 2, 0x10, d, 4);
	rec(text, 6, 1, NULL, 0);
	rec(text, 8, 0, NULL, 0);
	for (char *p = text, *q = crlf; *p; p++) {
		if (*p == '\n')
			*q++ = '\r';
		*q++ = *p;
	}
	assert_int_equal(parse(crlf, &img, NULL, &err), DFK_OK);
	assert_int_equal(img.count, 1);
	dfk_image_free(&img);
	text[0] = '\0';
	rec(text, 1, 0x10, d, 4);
	rec(text, 9, 0, NULL, 0);
	assert_int_equal(parse(text, &img, NULL, &err), DFK_OK);
	dfk_image_free(&img);
}

static void test_checksum_and_count(void **state)
{
	char text[4096] = "";
	uint8_t d[4] = {1, 2, 3, 4};

	(void)state;
	/* S1 07 0010 01020304: sum 0x07+0x10+0x0A = 0x21, checksum 0xDE */
	expect_error("S107001001020304DF\nS9030000FC\n", "checksum 0xDF");
	expect_error("S107001001020304DE\nS9030000FB\n", "line 2");
	expect_error("S108001001020304DE\nS9030000FC\n", "byte count");
	rec(text, 1, 0, d, 4);
	rec(text, 5, 2, NULL, 0);
	rec(text, 9, 0, NULL, 0);
	expect_error(text, "S5 count record says 2");
}

static void test_malformed(void **state)
{
	char text[4096];
	uint8_t d[4] = {0};

	(void)state;
	expect_error("", "empty");
	expect_error("X107001001020304DE\n", "expected 'S'");
	expect_error("S407001001020304DE\n", "unknown record type");
	expect_error("S\n", "unknown record type");
	expect_error("S10700100102030\n", "hex digits");
	expect_error("S1070010010203ZZDE\n", "invalid hex digit");
	expect_error("S103\n", "hex digits");
	expect_error("S107001001020304DE\n", "no termination");
	text[0] = '\0';
	rec(text, 9, 0, NULL, 0);
	expect_error(text, "no data records");
	text[0] = '\0';
	rec(text, 1, 0, d, 4);
	rec(text, 9, 0, NULL, 0);
	rec(text, 1, 0x10, d, 4);
	expect_error(text, "after the termination");
	text[0] = '\0';
	rec(text, 1, 0, d, 4);
	rec(text, 9, 0, d, 2);
	expect_error(text, "termination record with 2");
	text[0] = '\0';
	rec(text, 1, 0, d, 4);
	rec(text, 1, 2, d, 4);
	rec(text, 9, 0, NULL, 0);
	expect_error(text, "overlaps");
	text[0] = '\0';
	rec(text, 3, 0xFFFFFFFE, d, 4);
	rec(text, 7, 0, NULL, 0);
	expect_error(text, "4 GiB");
}

static void test_long_header_name(void **state)
{
	char text[8192] = "", name[256];
	uint8_t big[250], d[1] = {0};
	dfk_image img;
	dfk_error err;

	(void)state;
	memset(big, 'N', sizeof(big));
	rec(text, 0, 0, big, 250);
	rec(text, 1, 0, d, 1);
	rec(text, 9, 0, NULL, 0);
	assert_int_equal(parse(text, &img, name, &err), DFK_OK);
	assert_int_equal(strlen(name), 250);
	dfk_image_free(&img);
	text[0] = '\0';
	rec(text, 0, 0, (const uint8_t *)"ab\0cd", 5);
	rec(text, 1, 0, d, 1);
	rec(text, 9, 0, NULL, 0);
	assert_int_equal(parse(text, &img, name, &err), DFK_OK);
	assert_string_equal(name, "ab");
	dfk_image_free(&img);
}

static void test_mutations(void **state)
{
	char text[8192] = "";
	uint8_t d[16];

	(void)state;
	for (int i = 0; i < 16; i++)
		d[i] = (uint8_t)(i * 13);
	rec(text, 0, 0, (const uint8_t *)"hdr", 3);
	for (unsigned a = 0; a < 0x100; a += 16)
		rec(text, 3, 0x08000000 + a, d, 16);
	rec(text, 5, 16, NULL, 0);
	rec(text, 7, 0x08000000, NULL, 0);
	text_mutations(parse_named, text, 777);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_all_data_types),     cmocka_unit_test(test_s6_s8_s9_crlf),
	    cmocka_unit_test(test_checksum_and_count), cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_long_header_name),   cmocka_unit_test(test_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
