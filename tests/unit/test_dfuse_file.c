/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* DfuSe .dfu: parsing files made by dfuse-pack 0.11, writing, and every
 * kind of hostile input. */
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

/* dfuse-pack -b 0x08000000:d.bin -b 0x08001000:h.bin -b 0x20000000@1:d.bin
 *            -D 0x0483:0xdf11 dp.dfu    (d.bin = DE AD BE EF, h.bin = "hello world!") */
static const uint8_t dp_dfu[] = {
    0x44, 0x66, 0x75, 0x53, 0x65, 0x01, 0x6b, 0x02, 0x00, 0x00, 0x02, 0x54, 0x61, 0x72, 0x67, 0x65, 0x74, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x53, 0x54, 0x2e, 0x2e, 0x2e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x08, 0x04, 0x00, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x10, 0x00, 0x08, 0x0c, 0x00, 0x00,
    0x00, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x77, 0x6f, 0x72, 0x6c, 0x64, 0x21, 0x54, 0x61, 0x72, 0x67, 0x65, 0x74,
    0x01, 0x01, 0x00, 0x00, 0x00, 0x53, 0x54, 0x2e, 0x2e, 0x2e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x01, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x04, 0x00, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x00, 0x11, 0xdf, 0x83,
    0x04, 0x1a, 0x01, 0x55, 0x46, 0x44, 0x10, 0x2b, 0xd3, 0xda, 0xc2};
static const size_t dp_dfu_len = 619;

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Recomputes the suffix CRC after a test edited the bytes. */
static void fix_crc(uint8_t *f, size_t len)
{
	put32(f + len - 4, dfk_dfu_crc(f, len - 4));
}

static void check_peer_content(const dfk_firmware *fw)
{
	assert_int_equal(fw->format, DFK_FORMAT_DFUSE);
	assert_int_equal(fw->ntargets, 2);
	assert_int_equal(fw->targets[0].alt, 0);
	assert_true(fw->targets[0].named);
	assert_string_equal(fw->targets[0].name, "ST...");
	assert_int_equal(fw->targets[0].image.count, 2);
	assert_int_equal(fw->targets[0].image.elements[0].addr, 0x08000000);
	assert_int_equal(fw->targets[0].image.elements[0].size, 4);
	assert_memory_equal(fw->targets[0].image.elements[0].data, "\xde\xad\xbe\xef", 4);
	assert_int_equal(fw->targets[0].image.elements[1].addr, 0x08001000);
	assert_int_equal(fw->targets[0].image.elements[1].size, 12);
	assert_memory_equal(fw->targets[0].image.elements[1].data, "hello world!", 12);
	assert_int_equal(fw->targets[1].alt, 1);
	assert_int_equal(fw->targets[1].image.count, 1);
	assert_int_equal(fw->targets[1].image.elements[0].addr, 0x20000000);
	assert_int_equal(dfk_firmware_bytes(fw), 20);
}

static void parse_peer(void **state)
{
	dfk_firmware fw;
	dfk_suffix s;
	dfk_error err;
	(void)state;
	assert_int_equal(dfk_suffix_parse(dp_dfu, dp_dfu_len, &s, &err), DFK_OK);
	assert_int_equal(s.bcdDFU, 0x011A);
	dfk_firmware_init(&fw);
	assert_int_equal(dfk_dfuse_parse(dp_dfu, dp_dfu_len - 16, &fw, &err), DFK_OK);
	check_peer_content(&fw);
	/* elements borrow from the buffer */
	assert_true(fw.targets[0].image.elements[0].borrowed);
	assert_true(fw.targets[0].image.elements[0].data > dp_dfu &&
		    fw.targets[0].image.elements[0].data < dp_dfu + dp_dfu_len);
	dfk_firmware_free(&fw);
}

static dfk_code write_to(const char *path, const dfk_firmware *fw, uint16_t vid, uint16_t pid, uint16_t bcd)
{
	dfk_out *o;
	dfk_error err;
	dfk_code rc = dfk_out_open(&o, path, DFK_OUT_OVERWRITE, &err);
	if (rc != DFK_OK)
		return rc;
	rc = dfk_dfuse_write(o, fw, vid, pid, bcd, &err);
	if (rc != DFK_OK) {
		dfk_out_abort(o);
		return rc;
	}
	return dfk_out_commit(o, &err);
}

/* Our writer makes the peer's bytes, except DFUImageSize (UM0391: without
 * the suffix, i.e. 16 less) and so the CRC. */
static void write_like_peer(void **state)
{
	char path[] = "/tmp/dfk-dfuse-XXXXXX";
	int fd = mkstemp(path);
	dfk_firmware fw, back;
	dfk_target *t;
	dfk_blob b;
	uint8_t *expect;
	(void)state;
	assert_true(fd >= 0);
	close(fd);
	dfk_firmware_init(&fw);
	t = dfk_firmware_add_target(&fw, 0, "ST...", NULL);
	assert_non_null(t);
	assert_int_equal(dfk_image_add(&t->image, 0x08001000, "hello world!", 12, NULL), DFK_OK);
	assert_int_equal(dfk_image_add(&t->image, 0x08000000, "\xde\xad\xbe\xef", 4, NULL), DFK_OK);
	t = dfk_firmware_add_target(&fw, 1, "ST...", NULL);
	assert_non_null(t);
	assert_int_equal(dfk_image_add(&t->image, 0x20000000, "\xde\xad\xbe\xef", 4, NULL), DFK_OK);
	assert_int_equal(write_to(path, &fw, 0x0483, 0xdf11, 0), DFK_OK);

	assert_int_equal(dfk_blob_read(path, &b, NULL), DFK_OK);
	assert_int_equal(b.len, dp_dfu_len);
	expect = malloc(dp_dfu_len);
	memcpy(expect, dp_dfu, dp_dfu_len);
	put32(expect + 6, (uint32_t)dp_dfu_len - 16);
	fix_crc(expect, dp_dfu_len);
	assert_memory_equal(b.data, expect, dp_dfu_len);
	free(expect);

	/* and it reads back the same */
	assert_int_equal(dfk_suffix_parse(b.data, b.len, NULL, NULL), DFK_OK);
	dfk_firmware_init(&back);
	assert_int_equal(dfk_dfuse_parse(b.data, b.len - 16, &back, NULL), DFK_OK);
	check_peer_content(&back);
	dfk_firmware_free(&back);
	dfk_blob_free(&b);
	dfk_firmware_free(&fw);
	unlink(path);
}

/* The worked example of protocols.md B.6: unnamed target, bcdDevice 0xFFFF. */
static void write_small_example(void **state)
{
	static const uint8_t tail[16] = {0xff, 0xff, 0x11, 0xdf, 0x83, 0x04, 0x1a, 0x01,
					 0x55, 0x46, 0x44, 0x10, 0x4e, 0x9c, 0x38, 0xc7};
	char path[] = "/tmp/dfk-dfuse-XXXXXX";
	int fd = mkstemp(path);
	dfk_firmware fw;
	dfk_target *t;
	dfk_blob b;
	(void)state;
	assert_true(fd >= 0);
	close(fd);
	dfk_firmware_init(&fw);
	t = dfk_firmware_add_target(&fw, 0, NULL, NULL);
	assert_int_equal(dfk_image_add(&t->image, 0x08000000, "\xde\xad\xbe\xef", 4, NULL), DFK_OK);
	assert_int_equal(write_to(path, &fw, 0x0483, 0xdf11, 0xffff), DFK_OK);
	assert_int_equal(dfk_blob_read(path, &b, NULL), DFK_OK);
	assert_int_equal(b.len, 313);
	assert_memory_equal(b.data, "DfuSe\x01\x29\x01\x00\x00\x01Target", 17);
	assert_memory_equal(b.data + 297, tail, 16);
	dfk_blob_free(&b);
	dfk_firmware_free(&fw);
	unlink(path);
}

static void write_limits(void **state)
{
	dfk_firmware fw;
	dfk_out *o;
	dfk_error err;
	char path[] = "/tmp/dfk-dfuse-XXXXXX";
	int fd = mkstemp(path);
	(void)state;
	assert_true(fd >= 0);
	close(fd);
	dfk_firmware_init(&fw);
	assert_int_equal(dfk_out_open(&o, path, DFK_OUT_OVERWRITE, NULL), DFK_OK);
	assert_int_equal(dfk_dfuse_write(o, &fw, 1, 2, 3, &err), DFK_ERR_DATA);
	for (int i = 0; i < 256; i++)
		assert_non_null(dfk_firmware_add_target(&fw, (uint8_t)i, NULL, NULL));
	assert_int_equal(dfk_dfuse_write(o, &fw, 1, 2, 3, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "255"));
	assert_int_equal(dfk_out_size(o), 0);
	dfk_out_abort(o);
	dfk_firmware_free(&fw);
	unlink(path);
}

/* Parse of a copy (so that ASan sees reads past the end). */
static dfk_code parse_copy(const uint8_t *buf, size_t len, dfk_error *err)
{
	uint8_t *copy = malloc(len ? len : 1);
	dfk_firmware fw;
	dfk_code rc;
	memcpy(copy, buf, len);
	dfk_firmware_init(&fw);
	rc = dfk_dfuse_parse(copy, len, &fw, err);
	if (rc != DFK_OK)
		assert_int_equal(fw.ntargets, 0);
	dfk_firmware_free(&fw);
	free(copy);
	return rc;
}

static void truncations(void **state)
{
	const size_t body = dp_dfu_len - 16;
	uint8_t *f = malloc(body);
	dfk_error err;
	(void)state;
	for (size_t n = 0; n < body; n++) {
		/* keep DFUImageSize consistent so that the deeper checks are reached too */
		memcpy(f, dp_dfu, n);
		if (n >= 10)
			put32(f + 6, (uint32_t)n);
		assert_int_equal(parse_copy(f, n, &err), DFK_ERR_DATA);
		assert_non_null(strstr(err.msg, "offset"));
		/* and with the original DFUImageSize */
		assert_int_equal(parse_copy(dp_dfu, n, &err), DFK_ERR_DATA);
	}
	free(f);
}

static void hostile_fields(void **state)
{
	const size_t body = dp_dfu_len - 16;
	uint8_t *f = malloc(body + 16);
	dfk_error err;
	(void)state;

#define RESET() memcpy(f, dp_dfu, dp_dfu_len)
	RESET();
	assert_int_equal(parse_copy(f, body, &err), DFK_OK);
	/* both DFUImageSize conventions; others rejected */
	put32(f + 6, (uint32_t)body);
	assert_int_equal(parse_copy(f, body, &err), DFK_OK);
	put32(f + 6, (uint32_t)body + 1);
	assert_int_equal(parse_copy(f, body, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "DFUImageSize"));
	put32(f + 6, 0xFFFFFFFF);
	assert_int_equal(parse_copy(f, body, &err), DFK_ERR_DATA);

	RESET();
	f[0] = 'd';
	assert_int_equal(parse_copy(f, body, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "DfuSe"));
	RESET();
	f[5] = 2;
	assert_int_equal(parse_copy(f, body, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "version"));

	/* bTargets: more than there is room for, and fewer than present */
	RESET();
	f[10] = 255;
	assert_int_equal(parse_copy(f, body, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "offset 10"));
	f[10] = 3;
	assert_int_equal(parse_copy(f, body, &err), DFK_ERR_DATA);
	f[10] = 1;
	assert_int_equal(parse_copy(f, body, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "after the last"));
	f[10] = 0;
	assert_int_equal(parse_copy(f, body, &err), DFK_ERR_DATA);

	/* target signature */
	RESET();
	f[11] = 't';
	assert_int_equal(parse_copy(f, body, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "offset 11"));

	/* dwTargetSize: huge, one too many, one too few */
	RESET();
	put32(f + 11 + 266, 0xFFFFFFF0);
	assert_int_equal(parse_copy(f, body, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "dwTargetSize"));
	put32(f + 11 + 266, 33);
	assert_int_equal(parse_copy(f, body, &err), DFK_ERR_DATA);
	put32(f + 11 + 266, 31);
	assert_int_equal(parse_copy(f, body, &err), DFK_ERR_DATA);

	/* dwNbElements in the billions: rejected before allocating */
	RESET();
	put32(f + 11 + 270, 3000000000u);
	assert_int_equal(parse_copy(f, body, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "3000000000"));
	put32(f + 11 + 270, 3);
	assert_int_equal(parse_copy(f, body, &err), DFK_ERR_DATA);
	put32(f + 11 + 270, 1);
	assert_int_equal(parse_copy(f, body, &err), DFK_ERR_DATA);
	put32(f + 11 + 270, 0);
	assert_int_equal(parse_copy(f, body, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "no elements"));

	/* element sizes: negative as int, past the target, past the file */
	RESET();
	put32(f + 11 + 274 + 4, 0x80000000u);
	assert_int_equal(parse_copy(f, body, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "offset 285"));
	put32(f + 11 + 274 + 4, 0xFFFFFFFFu);
	assert_int_equal(parse_copy(f, body, &err), DFK_ERR_DATA);
	put32(f + 11 + 274 + 4, 5);
	assert_int_equal(parse_copy(f, body, &err), DFK_ERR_DATA);
	put32(f + 11 + 274 + 4, 3);
	assert_int_equal(parse_copy(f, body, &err), DFK_ERR_DATA);

	/* overlapping elements: both ranges named */
	RESET();
	put32(f + 11 + 274 + 12, 0x08000002);
	assert_int_equal(parse_copy(f, body, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "0x08000002-0x0800000D"));
	assert_non_null(strstr(err.msg, "0x08000000-0x08000003"));
	/* element past 4 GiB */
	RESET();
	put32(f + 11 + 274 + 12, 0xFFFFFFF8);
	assert_int_equal(parse_copy(f, body, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "4 GiB"));
	free(f);
#undef RESET
}

/* A target without elements (dwTargetSize 0) is valid. */
static void empty_target(void **state)
{
	uint8_t f[11 + 274];
	dfk_firmware fw;
	(void)state;
	memset(f, 0, sizeof(f));
	memcpy(f, "DfuSe\x01", 6);
	put32(f + 6, sizeof(f));
	f[10] = 1;
	memcpy(f + 11, "Target", 6);
	f[11 + 6] = 4;
	dfk_firmware_init(&fw);
	assert_int_equal(dfk_dfuse_parse(f, sizeof(f), &fw, NULL), DFK_OK);
	assert_int_equal(fw.ntargets, 1);
	assert_int_equal(fw.targets[0].alt, 4);
	assert_int_equal(fw.targets[0].image.count, 0);
	dfk_firmware_free(&fw);
}

static void names(void **state)
{
	uint8_t *f = malloc(dp_dfu_len);
	dfk_firmware fw;
	(void)state;
	memcpy(f, dp_dfu, dp_dfu_len);
	/* a name without any NUL: cut at 255 characters */
	memset(f + 11 + 11, 'A', 255);
	/* unnamed second target (bTargetNamed 0) */
	put32(f + 11 + 274 + 32 + 7, 0);
	dfk_firmware_init(&fw);
	assert_int_equal(dfk_dfuse_parse(f, dp_dfu_len - 16, &fw, NULL), DFK_OK);
	assert_int_equal(strlen(fw.targets[0].name), 255);
	assert_true(fw.targets[0].named);
	assert_false(fw.targets[1].named);
	assert_string_equal(fw.targets[1].name, "");
	dfk_firmware_free(&fw);
	free(f);
}

/* Many elements in reverse order, some empty: parsed in n log n, sorted. */
static void many_elements(void **state)
{
	enum { N = 100000 };
	const size_t len = 11 + 274 + (size_t)N * 9 + 8;
	uint8_t *f = calloc(1, len);
	dfk_firmware fw;
	size_t off = 11 + 274;
	(void)state;
	memcpy(f, "DfuSe\x01", 6);
	put32(f + 6, (uint32_t)len);
	f[10] = 1;
	memcpy(f + 11, "Target", 6);
	put32(f + 11 + 266, (uint32_t)(len - 11 - 274));
	put32(f + 11 + 270, N + 1);
	for (uint32_t i = 0; i < N; i++) {
		put32(f + off, 0x1000 + (N - i) * 4);
		put32(f + off + 4, 1);
		f[off + 8] = (uint8_t)i;
		off += 9;
	}
	put32(f + off, 0x1000); /* an empty element is skipped */
	put32(f + off + 4, 0);
	dfk_firmware_init(&fw);
	assert_int_equal(dfk_dfuse_parse(f, len, &fw, NULL), DFK_OK);
	assert_int_equal(fw.targets[0].image.count, N);
	assert_int_equal(fw.targets[0].image.elements[0].addr, 0x1004);
	assert_int_equal(fw.targets[0].image.elements[0].data[0], (uint8_t)(N - 1));
	dfk_firmware_free(&fw);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parse_peer),   cmocka_unit_test(write_like_peer), cmocka_unit_test(write_small_example),
	    cmocka_unit_test(write_limits), cmocka_unit_test(truncations),     cmocka_unit_test(hostile_fields),
	    cmocka_unit_test(names),	    cmocka_unit_test(empty_target),    cmocka_unit_test(many_elements),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
