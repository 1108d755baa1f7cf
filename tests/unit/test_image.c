/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* The memory image: sorted insert, overlap, limits, ownership, coalesce. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dfukit/image.h"

static void sorted_insert(void **state)
{
	dfk_image img;
	uint8_t d[16];
	const uint32_t addrs[] = {0x3000, 0x1000, 0x5000, 0x0, 0x2000, 0x4000, 0xFFFFFFF0};
	(void)state;
	memset(d, 0xAB, sizeof(d));
	dfk_image_init(&img);
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++)
		assert_int_equal(dfk_image_add(&img, addrs[i], d, 16, NULL), DFK_OK);
	assert_int_equal(img.count, 7);
	for (size_t i = 1; i < img.count; i++)
		assert_true(img.elements[i - 1].addr < img.elements[i].addr);
	assert_int_equal(img.elements[6].addr, 0xFFFFFFF0);
	assert_int_equal(dfk_image_bytes(&img), 7 * 16);
	/* copies, not references */
	assert_false(img.elements[0].borrowed);
	assert_ptr_not_equal(img.elements[0].data, d);
	assert_memory_equal(img.elements[0].data, d, 16);
	dfk_image_free(&img);
	assert_int_equal(img.count, 0);
	assert_null(img.elements);
}

static void overlaps(void **state)
{
	dfk_image img;
	uint8_t d[0x100] = {0};
	dfk_error err;
	(void)state;
	dfk_image_init(&img);
	assert_int_equal(dfk_image_add(&img, 0x08000000, d, 0x100, &err), DFK_OK);
	assert_int_equal(dfk_image_add(&img, 0x08000200, d, 0x100, &err), DFK_OK);
	/* adjacent on both sides: fine, kept separate */
	assert_int_equal(dfk_image_add(&img, 0x08000100, d, 0x100, &err), DFK_OK);
	assert_int_equal(img.count, 3);
	/* overlapping the previous element's end */
	assert_int_equal(dfk_image_add(&img, 0x080000FF, d, 1, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "0x080000FF-0x080000FF"));
	assert_non_null(strstr(err.msg, "0x08000000-0x080000FF"));
	/* overlapping the next element's start */
	assert_int_equal(dfk_image_add(&img, 0x07FFFFFF, d, 2, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "0x07FFFFFF-0x08000000"));
	assert_non_null(strstr(err.msg, "0x08000000-0x080000FF"));
	/* same start, and covering everything */
	assert_int_equal(dfk_image_add(&img, 0x08000100, d, 1, &err), DFK_ERR_DATA);
	assert_int_equal(dfk_image_add(&img, 0x07000000, d, 0x100, &err), DFK_OK);
	assert_int_equal(dfk_image_add_ref(&img, 0x07F00000, d, 0x100, &err), DFK_OK);
	assert_int_equal(img.count, 5);
	dfk_image_free(&img);
}

static void limits(void **state)
{
	dfk_image img;
	uint8_t d[32] = {0};
	dfk_error err;
	uint8_t *owned;
	(void)state;
	dfk_image_init(&img);
	assert_int_equal(dfk_image_add(&img, 0x1000, d, 0, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "empty"));
	assert_int_equal(dfk_image_add(&img, 0xFFFFFFF0, d, 17, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "4 GiB"));
	assert_int_equal(dfk_image_add_ref(&img, 0, d, (size_t)1 << 32, &err), DFK_ERR_DATA);
	assert_int_equal(dfk_image_add(&img, 0xFFFFFFE0, d, 32, &err), DFK_OK);
	assert_int_equal(img.count, 1);
	/* owned data is freed on failure (checked by ASan/valgrind leak reports) */
	owned = malloc(4);
	assert_non_null(owned);
	assert_int_equal(dfk_image_add_owned(&img, 0xFFFFFFF0, owned, 4, &err), DFK_ERR_DATA);
	owned = malloc(4);
	assert_non_null(owned);
	assert_int_equal(dfk_image_add_owned(&img, 0x10, owned, 4, &err), DFK_OK);
	assert_ptr_equal(img.elements[0].data, owned);
	assert_false(img.elements[0].borrowed);
	dfk_image_free(&img);
}

static void ref_and_coalesce(void **state)
{
	dfk_image img;
	uint8_t a[8], b[8], c[4];
	uint8_t *o;
	(void)state;
	memset(a, 1, sizeof(a));
	memset(b, 2, sizeof(b));
	memset(c, 3, sizeof(c));
	dfk_image_init(&img);
	assert_int_equal(dfk_image_add_ref(&img, 0x108, b, 8, NULL), DFK_OK);
	assert_true(img.elements[0].borrowed);
	assert_ptr_equal(img.elements[0].data, b);
	assert_int_equal(dfk_image_add_ref(&img, 0x100, a, 8, NULL), DFK_OK);
	o = malloc(4);
	memcpy(o, c, 4);
	assert_int_equal(dfk_image_add_owned(&img, 0x110, o, 4, NULL), DFK_OK);
	assert_int_equal(dfk_image_add(&img, 0x200, c, 4, NULL), DFK_OK);
	assert_int_equal(dfk_image_add(&img, 0x0, c, 4, NULL), DFK_OK);
	assert_int_equal(img.count, 5);
	assert_int_equal(dfk_image_coalesce(&img, NULL), DFK_OK);
	assert_int_equal(img.count, 3);
	assert_int_equal(img.elements[0].addr, 0);
	assert_int_equal(img.elements[1].addr, 0x100);
	assert_int_equal(img.elements[1].size, 20);
	assert_false(img.elements[1].borrowed);
	assert_memory_equal(img.elements[1].data, a, 8);
	assert_memory_equal(img.elements[1].data + 8, b, 8);
	assert_memory_equal(img.elements[1].data + 16, c, 4);
	assert_int_equal(img.elements[2].addr, 0x200);
	assert_int_equal(dfk_image_bytes(&img), 28);
	/* idempotent */
	assert_int_equal(dfk_image_coalesce(&img, NULL), DFK_OK);
	assert_int_equal(img.count, 3);
	dfk_image_free(&img);
	/* empty image */
	assert_int_equal(dfk_image_coalesce(&img, NULL), DFK_OK);
	assert_int_equal(dfk_image_bytes(&img), 0);
}

static void many_reverse(void **state)
{
	dfk_image img;
	static uint8_t d[1];
	(void)state;
	dfk_image_init(&img);
	for (uint32_t i = 4000; i > 0; i--)
		assert_int_equal(dfk_image_add_ref(&img, i * 2, d, 1, NULL), DFK_OK);
	for (uint32_t i = 1; i <= 4000; i++)
		assert_int_equal(dfk_image_add_ref(&img, i * 2 + 1, d, 1, NULL), DFK_OK);
	assert_int_equal(img.count, 8000);
	for (size_t i = 0; i < img.count; i++)
		assert_int_equal(img.elements[i].addr, 2 + i);
	assert_int_equal(dfk_image_add_ref(&img, 3, d, 1, NULL), DFK_ERR_DATA);
	dfk_image_free(&img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sorted_insert),	cmocka_unit_test(overlaps),	cmocka_unit_test(limits),
	    cmocka_unit_test(ref_and_coalesce), cmocka_unit_test(many_reverse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
