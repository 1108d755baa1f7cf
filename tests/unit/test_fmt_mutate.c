/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* Random corruption of a valid multi-target .dfu (deterministic PRNG): the
 * loader must answer DFK_OK or DFK_ERR_DATA with a message naming the file,
 * never crash (run under ASan/UBSan), and never return partial targets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dfukit/formats.h"

static uint32_t rng = 12345;

static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void mutate(void **state)
{
	char path[] = "/tmp/dfk-mutate-XXXXXX";
	int fd = mkstemp(path);
	dfk_firmware fw;
	dfk_target *t;
	dfk_out *o;
	dfk_blob b;
	uint8_t *f;
	unsigned ok = 0, bad = 0;
	(void)state;
	assert_true(fd >= 0);
	close(fd);

	dfk_firmware_init(&fw);
	t = dfk_firmware_add_target(&fw, 0, "Internal Flash", NULL);
	assert_int_equal(dfk_image_add(&t->image, 0x08000000, "0123456789abcdef", 16, NULL), DFK_OK);
	assert_int_equal(dfk_image_add(&t->image, 0x08000100, "xyz", 3, NULL), DFK_OK);
	t = dfk_firmware_add_target(&fw, 1, NULL, NULL);
	assert_int_equal(dfk_image_add(&t->image, 0x1FFFF800, "\x5a\xa5", 2, NULL), DFK_OK);
	assert_int_equal(dfk_out_open(&o, path, DFK_OUT_OVERWRITE, NULL), DFK_OK);
	assert_int_equal(dfk_dfuse_write(o, &fw, 0x0483, 0xdf11, 0, NULL), DFK_OK);
	assert_int_equal(dfk_out_commit(o, NULL), DFK_OK);
	dfk_firmware_free(&fw);
	assert_int_equal(dfk_blob_read(path, &b, NULL), DFK_OK);
	f = malloc(b.len);

	for (int iter = 0; iter < 3000; iter++) {
		size_t len = b.len;
		int edits = 1 + (int)(next() % 4);
		dfk_error err;
		dfk_code rc;

		memcpy(f, b.data, b.len);
		for (int e = 0; e < edits; e++) {
			uint32_t what = next() % 4, pos = next() % (uint32_t)(len - 16);
			if (what == 0)
				f[pos] = (uint8_t)next();
			else if (what == 1 && pos + 4 <= len - 16)
				put32(f + pos, next());
			else if (what == 2 && pos + 4 <= len - 16)
				put32(f + pos, 0xFFFFFFFFu - (next() % 64));
			else
				f[pos] ^= (uint8_t)(1u << (next() % 8));
		}
		if (next() % 4 == 0)
			len -= next() % (len - 16); /* cut (keeps nothing valid but the parser must cope) */
		else
			put32(f + len - 4, dfk_dfu_crc(f, len - 4)); /* reach past the CRC check */
		{
			FILE *w = fopen(path, "wb");
			assert_non_null(w);
			assert_int_equal(fwrite(f, 1, len, w), len);
			assert_int_equal(fclose(w), 0);
		}
		dfk_firmware_init(&fw);
		rc = dfk_firmware_load(path, NULL, &fw, &err);
		if (rc == DFK_OK) {
			ok++;
			assert_true(fw.ntargets > 0 || fw.format == DFK_FORMAT_DFUSE);
		} else {
			bad++;
			if (rc != DFK_ERR_DATA)
				fail_msg("iteration %d: code %d: %s", iter, rc, err.msg);
			assert_true(strncmp(err.msg, path, strlen(path)) == 0);
			assert_int_equal(fw.ntargets, 0);
			assert_null(fw.source);
		}
		dfk_firmware_free(&fw);
	}
	/* both outcomes must actually occur */
	assert_true(ok > 0);
	assert_true(bad > 0);
	free(f);
	dfk_blob_free(&b);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(mutate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
