/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* Intel HEX reader and writer, including hostile inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dfukit/formats.h"
#include "text_format_test.h"

/* Appends one record with a correct checksum to buf. */
static void rec(char *buf, unsigned type, unsigned addr, const uint8_t *data, unsigned n)
{
	unsigned sum = n + (addr >> 8) + (addr & 0xff) + type;
	char *p = buf + strlen(buf);

	p += sprintf(p, ":%02X%04X%02X", n, addr & 0xffff, type);
	for (unsigned i = 0; i < n; i++) {
		p += sprintf(p, "%02X", data[i]);
		sum += data[i];
	}
	sprintf(p, "%02X\n", (0x100 - (sum & 0xff)) & 0xff);
}

static dfk_code parse(const char *text, dfk_image *img, dfk_error *err)
{
	return text_parse(dfk_ihex_parse, text, img, err);
}

static void expect_error(const char *text, const char *needle)
{
	text_expect_error(dfk_ihex_parse, text, needle);
}

static void test_linear_and_coalesce(void **state)
{
	char text[4096] = "";
	uint8_t d[16], ext[2] = {0x08, 0x00};
	dfk_image img;
	dfk_error err;

	(void)state;
	for (int i = 0; i < 16; i++)
		d[i] = (uint8_t)i;
	rec(text, 4, 0, ext, 2);
	rec(text, 0, 0x0000, d, 16);
	rec(text, 0, 0x0010, d, 16);
	rec(text, 0, 0x0020, d, 5);
	rec(text, 0, 0x1000, d, 3); /* a gap: second element */
	rec(text, 5, 0, (const uint8_t *)"\x08\x00\x01\x01", 4);
	rec(text, 1, 0, NULL, 0);
	assert_int_equal(parse(text, &img, &err), DFK_OK);
	assert_int_equal(img.count, 2);
	assert_int_equal(img.elements[0].addr, 0x08000000);
	assert_int_equal(img.elements[0].size, 37);
	assert_memory_equal(img.elements[0].data + 16, d, 16);
	assert_int_equal(img.elements[1].addr, 0x08001000);
	assert_int_equal(img.elements[1].size, 3);
	dfk_image_free(&img);
}

static void test_segment_crlf_lowercase(void **state)
{
	char text[4096] = "";
	uint8_t seg[2] = {0x12, 0x34}, d[4] = {0xde, 0xad, 0xbe, 0xef};
	dfk_image img;
	dfk_error err;
	char crlf[8192] = "";

	(void)state;
	rec(text, 2, 0, seg, 2); /* base 0x12340 */
	rec(text, 3, 0, (const uint8_t *)"\x00\x00\x01\x00", 4);
	rec(text, 0, 0x0010, d, 4);
	rec(text, 1, 0, NULL, 0);
	for (char *p = text, *q = crlf; *p; p++) {
		if (*p == '\n')
			*q++ = '\r';
		*q++ = (char)((*p >= 'A' && *p <= 'F') ? *p + 32 : *p);
	}
	assert_int_equal(parse(crlf, &img, &err), DFK_OK);
	assert_int_equal(img.count, 1);
	assert_int_equal(img.elements[0].addr, 0x12350);
	assert_memory_equal(img.elements[0].data, d, 4);
	dfk_image_free(&img);
}

static void test_out_of_order_records_merge(void **state)
{
	char text[4096] = "";
	uint8_t a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8};
	dfk_image img;
	dfk_error err;

	(void)state;
	rec(text, 0, 0x0104, b, 4);
	rec(text, 0, 0x0100, a, 4);
	rec(text, 1, 0, NULL, 0);
	assert_int_equal(parse(text, &img, &err), DFK_OK);
	assert_int_equal(img.count, 1);
	assert_int_equal(img.elements[0].addr, 0x100);
	assert_memory_equal(img.elements[0].data, "\1\2\3\4\5\6\7\10", 8);
	dfk_image_free(&img);
}

static void test_bad_checksum(void **state)
{
	(void)state;
	expect_error(":0400000001020304F1\n:00000001FF\n", "line 1");
	expect_error(":0400000001020304F1\n:00000001FF\n", "checksum 0xF1");
	expect_error(":0400000001020304F2\n:00000001FE\n", "line 2");
}

static void test_malformed_records(void **state)
{
	char text[4096];
	uint8_t d[4] = {0};

	(void)state;
	expect_error("", "empty");
	expect_error("hello\n", "expected ':'");
	expect_error(":040000\n", "hex digits");
	expect_error(":04000000010203G4F2\n:00000001FF\n", "invalid hex digit");
	expect_error(":0500000001020304F1\n:00000001FF\n", "byte count");
	expect_error(":0400000001020304F2\n", "no end-of-file");
	expect_error(":00000001FF\n", "no data records");
	expect_error(":00000001FF\n:0400000001020304F2\n", "after the end-of-file");
	text[0] = '\0';
	rec(text, 6, 0, d, 1);
	rec(text, 1, 0, NULL, 0);
	expect_error(text, "unknown record type 0x06");
	text[0] = '\0';
	rec(text, 4, 0, d, 3);
	expect_error(text, "extended linear address");
	text[0] = '\0';
	rec(text, 2, 0x10, d, 2);
	expect_error(text, "address 0");
	text[0] = '\0';
	rec(text, 5, 0, d, 2);
	expect_error(text, "start linear address record needs 4");
	text[0] = '\0';
	rec(text, 0, 0, d, 4);
	rec(text, 1, 0, d, 1);
	expect_error(text, "end-of-file record with 1");
}

static void test_overlap_and_4g(void **state)
{
	char text[4096] = "";
	uint8_t d[16] = {0}, top[2] = {0xff, 0xff};

	(void)state;
	rec(text, 0, 0x0000, d, 16);
	rec(text, 0, 0x0008, d, 16);
	rec(text, 1, 0, NULL, 0);
	expect_error(text, "overlaps");
	text[0] = '\0';
	rec(text, 4, 0, top, 2);
	rec(text, 0, 0xfff8, d, 16);
	rec(text, 1, 0, NULL, 0);
	expect_error(text, "4 GiB");
}

static void test_write_roundtrip(void **state)
{
	dfk_image img, back;
	dfk_error err = {0};
	dfk_out *out;
	dfk_blob blob;
	uint8_t *a = malloc(100), b[3] = {9, 8, 7};
	char path[] = "/tmp/test_ihex_XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	for (int i = 0; i < 100; i++)
		a[i] = (uint8_t)(i * 7);
	dfk_image_init(&img);
	assert_int_equal(dfk_image_add(&img, 0x0800FFF8, a, 100, &err), DFK_OK); /* crosses 64 KiB */
	assert_int_equal(dfk_image_add(&img, 0x20000000, b, 3, &err), DFK_OK);
	assert_int_equal(dfk_out_open(&out, path, DFK_OUT_OVERWRITE, &err), DFK_OK);
	assert_int_equal(dfk_ihex_write(out, &img, &err), DFK_OK);
	assert_int_equal(dfk_out_commit(out, &err), DFK_OK);
	assert_int_equal(dfk_blob_read(path, &blob, &err), DFK_OK);
	assert_non_null(strstr((const char *)blob.data, ":020000040800F2\n:08FFF800"));
	assert_non_null(strstr((const char *)blob.data, ":020000040801F1\n"));
	assert_int_equal(memcmp(blob.data + blob.len - 12, ":00000001FF\n", 12), 0);
	dfk_image_init(&back);
	assert_int_equal(dfk_ihex_parse(blob.data, blob.len, &back, &err), DFK_OK);
	assert_int_equal(back.count, 2);
	assert_int_equal(back.elements[0].addr, 0x0800FFF8);
	assert_int_equal(back.elements[0].size, 100);
	assert_memory_equal(back.elements[0].data, a, 100);
	assert_int_equal(back.elements[1].addr, 0x20000000);
	assert_memory_equal(back.elements[1].data, b, 3);
	dfk_blob_free(&blob);
	dfk_image_free(&back);
	dfk_image_free(&img);
	free(a);
	unlink(path);
}

/* Random corruption of a valid file must never crash: the parser either
 * accepts it or reports DATA with a line number. */
static void test_mutations(void **state)
{
	char text[8192] = "";
	uint8_t d[16], ext[2] = {0x08, 0x00};

	(void)state;
	for (int i = 0; i < 16; i++)
		d[i] = (uint8_t)(i * 17);
	rec(text, 4, 0, ext, 2);
	for (unsigned a = 0; a < 0x100; a += 16)
		rec(text, 0, a, d, 16);
	rec(text, 1, 0, NULL, 0);
	text_mutations(dfk_ihex_parse, text, 12345);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_linear_and_coalesce),
	    cmocka_unit_test(test_segment_crlf_lowercase),
	    cmocka_unit_test(test_out_of_order_records_merge),
	    cmocka_unit_test(test_bad_checksum),
	    cmocka_unit_test(test_malformed_records),
	    cmocka_unit_test(test_overlap_and_4g),
	    cmocka_unit_test(test_write_roundtrip),
	    cmocka_unit_test(test_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
