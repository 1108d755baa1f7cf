/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* Checks shared by test_ihex.c and test_srec.c: both text formats are read
 * by a parser of the same shape. Include after <cmocka.h>. */
#ifndef DFUKIT_TEXT_FORMAT_TEST_H
#define DFUKIT_TEXT_FORMAT_TEST_H

#include <stdlib.h>
#include <string.h>

#include "dfukit/formats.h"

typedef dfk_code (*text_parser)(const uint8_t *buf, size_t len, dfk_image *img, dfk_error *err);

static inline dfk_code text_parse(text_parser parse, const char *text, dfk_image *img, dfk_error *err)
{
	dfk_image_init(img);
	dfk_error_clear(err);
	return parse((const uint8_t *)text, strlen(text), img, err);
}

static inline void text_expect_error(text_parser parse, const char *text, const char *needle)
{
	dfk_image img;
	dfk_error err;

	assert_int_equal(text_parse(parse, text, &img, &err), DFK_ERR_DATA);
	if (!strstr(err.msg, needle))
		fail_msg("message '%s' lacks '%s'", err.msg, needle);
	dfk_image_free(&img);
}

/* Random corruption of the valid file text must never crash: the parser
 * either accepts it or reports DATA with a message. */
static inline void text_mutations(text_parser parse, const char *text, unsigned seed)
{
	size_t n = strlen(text);
	char *buf = malloc(n);

	assert_non_null(buf);
	for (int it = 0; it < 5000; it++) {
		dfk_image img;
		dfk_error err;
		dfk_code rc;
		size_t len = n;

		memcpy(buf, text, n);
		for (int k = 0; k < 1 + it % 4; k++) {
			seed = seed * 1103515245u + 12345u;
			buf[(seed >> 8) % n] = (char)(seed >> 20);
		}
		if (it % 7 == 0)
			len = (seed >> 4) % n;
		dfk_image_init(&img);
		rc = parse((const uint8_t *)buf, len, &img, &err);
		assert_true(rc == DFK_OK || rc == DFK_ERR_DATA);
		if (rc == DFK_ERR_DATA)
			assert_true(strlen(err.msg) > 0);
		dfk_image_free(&img);
	}
	free(buf);
}

#endif
