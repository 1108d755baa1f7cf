/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* ELF reader: ELF32/ELF64, both byte orders, hostile headers. The files are
 * built here byte by byte so that every field can be made wrong. */
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dfukit/formats.h"

typedef struct seg {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz;
} seg;

typedef struct elfb {
	uint8_t buf[8192];
	size_t len;
	bool is64, be;
} elfb;

static void put(elfb *e, size_t off, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		e->buf[off + (e->be ? n - 1 - i : i)] = (uint8_t)(v >> (8 * i));
}

/* Header, then the program header table at 64, then the data at 1024. */
static void build(elfb *e, bool is64, bool be, const seg *s, unsigned n)
{
	size_t ph = 64, phsz = is64 ? 56 : 32;

	memset(e, 0, sizeof(*e));
	e->is64 = is64;
	e->be = be;
	memcpy(e->buf, ELFMAG, SELFMAG);
	e->buf[EI_CLASS] = is64 ? ELFCLASS64 : ELFCLASS32;
	e->buf[EI_DATA] = be ? ELFDATA2MSB : ELFDATA2LSB;
	e->buf[EI_VERSION] = EV_CURRENT;
	put(e, 16, ET_EXEC, 2);
	put(e, 18, EM_ARM, 2);
	put(e, 20, EV_CURRENT, 4);
	if (is64) {
		put(e, 32, ph, 8);   /* e_phoff */
		put(e, 52, 64, 2);   /* e_ehsize */
		put(e, 54, phsz, 2); /* e_phentsize */
		put(e, 56, n, 2);    /* e_phnum */
	} else {
		put(e, 28, ph, 4);
		put(e, 40, 52, 2);
		put(e, 42, phsz, 2);
		put(e, 44, n, 2);
	}
	for (unsigned i = 0; i < n; i++) {
		size_t p = ph + i * phsz;
		if (is64) {
			put(e, p, s[i].type, 4);
			put(e, p + 8, s[i].offset, 8);
			put(e, p + 16, s[i].paddr + 0x100, 8); /* vaddr differs on purpose */
			put(e, p + 24, s[i].paddr, 8);
			put(e, p + 32, s[i].filesz, 8);
			put(e, p + 40, s[i].memsz, 8);
		} else {
			put(e, p, s[i].type, 4);
			put(e, p + 4, s[i].offset, 4);
			put(e, p + 8, s[i].paddr + 0x100, 4);
			put(e, p + 12, s[i].paddr, 4);
			put(e, p + 16, s[i].filesz, 4);
			put(e, p + 20, s[i].memsz, 4);
		}
	}
	for (size_t i = 1024; i < sizeof(e->buf); i++)
		e->buf[i] = (uint8_t)(i * 31);
	e->len = 4096;
}

static dfk_code parse(const elfb *e, dfk_image *img, dfk_error *err)
{
	dfk_image_init(img);
	dfk_error_clear(err);
	return dfk_elf_parse(e->buf, e->len, img, err);
}

static void expect_error(const elfb *e, const char *needle)
{
	dfk_image img;
	dfk_error err;

	assert_int_equal(parse(e, &img, &err), DFK_ERR_DATA);
	if (!strstr(err.msg, needle))
		fail_msg("message '%s' lacks '%s'", err.msg, needle);
	dfk_image_free(&img);
}

static void check_good(bool is64, bool be)
{
	seg s[] = {
	    {PT_LOAD, 1024, 0x08000000, 256, 256},
	    {PT_NOTE, 1280, 0, 16, 16},
	    {PT_LOAD, 2048, 0x20000000, 0, 512},   /* .bss only: skipped */
	    {PT_LOAD, 1280, 0x08000100, 100, 200}, /* follows the first */
	};
	elfb e;
	dfk_image img;
	dfk_error err;

	build(&e, is64, be, s, 4);
	assert_int_equal(parse(&e, &img, &err), DFK_OK);
	assert_int_equal(img.count, 2);
	assert_int_equal(img.elements[0].addr, 0x08000000);
	assert_int_equal(img.elements[0].size, 256);
	assert_memory_equal(img.elements[0].data, e.buf + 1024, 256);
	assert_int_equal(img.elements[1].addr, 0x08000100);
	assert_int_equal(img.elements[1].size, 100);
	assert_memory_equal(img.elements[1].data, e.buf + 1280, 100);
	dfk_image_free(&img);
}

static void test_elf32_le(void **state)
{
	(void)state;
	check_good(false, false);
}

static void test_elf32_be(void **state)
{
	(void)state;
	check_good(false, true);
}

static void test_elf64_le(void **state)
{
	(void)state;
	check_good(true, false);
}

static void test_elf64_be(void **state)
{
	(void)state;
	check_good(true, true);
}

static void test_hostile(void **state)
{
	elfb e;
	seg past_end = {PT_LOAD, 4000, 0x1000, 200, 200};
	seg huge_off = {PT_LOAD, 0xFFFFFFFFFFFFFF00ull, 0x1000, 0x200, 0x200};
	seg big_file = {PT_LOAD, 1024, 0x1000, 200, 100};
	seg high = {PT_LOAD, 1024, 0x100000000ull, 16, 16};
	seg wrap = {PT_LOAD, 1024, 0xFFFFFFF0ull, 32, 32};
	seg overlap[2] = {{PT_LOAD, 1024, 0x1000, 64, 64}, {PT_LOAD, 2048, 0x1020, 64, 64}};
	seg none = {PT_NOTE, 1024, 0, 16, 16};

	(void)state;
	build(&e, false, false, &past_end, 1);
	expect_error(&e, "passes the end of the file");
	build(&e, true, false, &huge_off, 1);
	expect_error(&e, "passes the end of the file");
	build(&e, false, true, &big_file, 1);
	expect_error(&e, "larger than memory size");
	build(&e, true, true, &high, 1);
	expect_error(&e, "4 GiB");
	build(&e, true, false, &wrap, 1);
	expect_error(&e, "4 GiB");
	build(&e, false, false, overlap, 2);
	expect_error(&e, "overlaps");
	build(&e, false, false, &none, 1);
	expect_error(&e, "no loadable data");
	build(&e, false, false, NULL, 0);
	expect_error(&e, "no loadable data");

	/* Program header table past the end of the file. */
	build(&e, false, false, &none, 1);
	put(&e, 28, 0x7FFFFFF0, 4);
	expect_error(&e, "program header");
	build(&e, true, false, &none, 1);
	put(&e, 56, 0xFFFF, 2); /* PN_XNUM: count in section 0, which does not exist */
	expect_error(&e, "program header");

	/* Not ELF at all, or broken identification. */
	build(&e, false, false, &none, 1);
	e.buf[0] = 'X';
	expect_error(&e, "not an ELF file");
	build(&e, false, false, &none, 1);
	e.buf[EI_CLASS] = 7;
	expect_error(&e, "class");
	build(&e, false, false, &none, 1);
	e.buf[EI_DATA] = 9;
	expect_error(&e, "byte order");
	build(&e, false, false, &none, 1);
	e.len = 20;
	expect_error(&e, "ELF header");
}

/* Truncating a valid file at every length must fail cleanly, never crash. */
static void test_truncations(void **state)
{
	seg s = {PT_LOAD, 1024, 0x08000000, 256, 256};
	elfb e;

	(void)state;
	build(&e, true, true, &s, 1);
	for (size_t len = 0; len < 1024 + 256; len++) {
		dfk_image img;
		dfk_error err;
		dfk_code rc;

		dfk_image_init(&img);
		rc = dfk_elf_parse(e.buf, len, &img, &err);
		assert_int_equal(rc, DFK_ERR_DATA);
		dfk_image_free(&img);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_elf32_le), cmocka_unit_test(test_elf32_be), cmocka_unit_test(test_elf64_le),
	    cmocka_unit_test(test_elf64_be), cmocka_unit_test(test_hostile),  cmocka_unit_test(test_truncations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
