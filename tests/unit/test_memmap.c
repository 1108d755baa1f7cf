/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* DfuSe memory-map parsing with real STM32 strings and hostile ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dfukit/memmap.h"

static void check_seg(const dfk_mem_segment *s, uint32_t start, uint64_t end, uint32_t page, uint32_t pages,
		      uint8_t perms)
{
	assert_int_equal(s->start, start);
	assert_int_equal(s->end, end);
	assert_int_equal(s->page_size, page);
	assert_int_equal(s->pages, pages);
	assert_int_equal(s->perms, perms);
}

#define RWE (DFK_MEM_READABLE | DFK_MEM_ERASABLE | DFK_MEM_WRITEABLE)
#define RW (DFK_MEM_READABLE | DFK_MEM_WRITEABLE)

static void test_f405(void **state)
{
	dfk_memmap m;
	dfk_error err;
	(void)state;
	assert_int_equal(dfk_memmap_parse("@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg", &m, &err), DFK_OK);
	assert_string_equal(m.name, "Internal Flash  ");
	assert_int_equal(m.count, 3);
	check_seg(&m.segs[0], 0x08000000, 0x08010000, 16384, 4, RWE);
	check_seg(&m.segs[1], 0x08010000, 0x08020000, 65536, 1, RWE);
	check_seg(&m.segs[2], 0x08020000, 0x08100000, 131072, 7, RWE);
	assert_ptr_equal(dfk_memmap_find(&m, 0x08000000), &m.segs[0]);
	assert_ptr_equal(dfk_memmap_find(&m, 0x0800FFFF), &m.segs[0]);
	assert_ptr_equal(dfk_memmap_find(&m, 0x08010000), &m.segs[1]);
	assert_ptr_equal(dfk_memmap_find(&m, 0x080FFFFF), &m.segs[2]);
	assert_null(dfk_memmap_find(&m, 0x08100000));
	assert_null(dfk_memmap_find(&m, 0x07FFFFFF));
	assert_null(dfk_memmap_find(NULL, 0x08000000));
	assert_int_equal(dfk_mem_page_start(&m.segs[0], 0x08004001), 0x08004000);
	assert_int_equal(dfk_mem_page_start(&m.segs[2], 0x08020000), 0x08020000);
	assert_int_equal(dfk_mem_page_start(&m.segs[2], 0x0805FFFF), 0x08040000);
	dfk_memmap_free(&m);
	assert_null(m.segs);
	assert_int_equal(m.count, 0);
	dfk_memmap_free(&m);
}

static void test_f4_other_alts(void **state)
{
	dfk_memmap m;
	(void)state;
	/* option bytes: ' ' multiplier = bytes */
	assert_int_equal(dfk_memmap_parse("@Option Bytes  /0x1FFFC000/01*016 e", &m, NULL), DFK_OK);
	assert_string_equal(m.name, "Option Bytes  ");
	assert_int_equal(m.count, 1);
	check_seg(&m.segs[0], 0x1FFFC000, 0x1FFFC010, 16, 1, RW);
	dfk_memmap_free(&m);
	/* OTP, v2.1 "g" and v2.2 "e" */
	assert_int_equal(dfk_memmap_parse("@OTP Memory /0x1FFF7800/01*512 g,01*016 g", &m, NULL), DFK_OK);
	assert_int_equal(m.count, 2);
	check_seg(&m.segs[0], 0x1FFF7800, 0x1FFF7A00, 512, 1, RWE);
	check_seg(&m.segs[1], 0x1FFF7A00, 0x1FFF7A10, 16, 1, RWE);
	dfk_memmap_free(&m);
	/* read-only OTP 'a' */
	assert_int_equal(dfk_memmap_parse("@OTP Memory /0x1FFF7000/01*0001Ka", &m, NULL), DFK_OK);
	check_seg(&m.segs[0], 0x1FFF7000, 0x1FFF7400, 1024, 1, DFK_MEM_READABLE);
	dfk_memmap_free(&m);
	/* Device Feature: dfu-util's quirk makes 'g' read/write only */
	assert_int_equal(dfk_memmap_parse("@Device Feature/0xFFFF0000/01*004 g", &m, NULL), DFK_OK);
	assert_string_equal(m.name, "Device Feature");
	check_seg(&m.segs[0], 0xFFFF0000, 0xFFFF0004, 4, 1, RW);
	dfk_memmap_free(&m);
}

static void test_other_parts(void **state)
{
	dfk_memmap m;
	(void)state;
	/* F103 DFU demo: the loader itself read-only */
	assert_int_equal(dfk_memmap_parse("@Internal Flash   /0x08000000/12*001Ka,116*001Kg", &m, NULL), DFK_OK);
	assert_int_equal(m.count, 2);
	check_seg(&m.segs[0], 0x08000000, 0x08003000, 1024, 12, DFK_MEM_READABLE);
	check_seg(&m.segs[1], 0x08003000, 0x08020000, 1024, 116, RWE);
	dfk_memmap_free(&m);
	/* L476: 2 KiB pages, four-digit count */
	assert_int_equal(dfk_memmap_parse("@Internal Flash  /0x08000000/0512*0002Kg", &m, NULL), DFK_OK);
	check_seg(&m.segs[0], 0x08000000, 0x08100000, 2048, 512, RWE);
	assert_int_equal(dfk_mem_page_start(&m.segs[0], 0x080007FF), 0x08000000);
	assert_int_equal(dfk_mem_page_start(&m.segs[0], 0x08000800), 0x08000800);
	dfk_memmap_free(&m);
	/* H743: 128 KiB sectors, and its option bytes */
	assert_int_equal(dfk_memmap_parse("@Internal Flash   /0x08000000/16*128Kg", &m, NULL), DFK_OK);
	check_seg(&m.segs[0], 0x08000000, 0x08200000, 131072, 16, RWE);
	dfk_memmap_free(&m);
	assert_int_equal(dfk_memmap_parse("@Option Bytes   /0x5200201C/01*128 e", &m, NULL), DFK_OK);
	check_seg(&m.segs[0], 0x5200201C, 0x5200209C, 128, 1, RW);
	dfk_memmap_free(&m);
	/* G474 option bytes: two address groups */
	assert_int_equal(dfk_memmap_parse("@Option Bytes  /0x1FFF7800/01*048 e/0x1FFFF800/01*048 e", &m, NULL), DFK_OK);
	assert_int_equal(m.count, 2);
	check_seg(&m.segs[0], 0x1FFF7800, 0x1FFF7830, 48, 1, RW);
	check_seg(&m.segs[1], 0x1FFFF800, 0x1FFFF830, 48, 1, RW);
	assert_ptr_equal(dfk_memmap_find(&m, 0x1FFFF82F), &m.segs[1]);
	assert_null(dfk_memmap_find(&m, 0x1FFF7830));
	dfk_memmap_free(&m);
	/* L072: no multiplier, the type letter follows the size at once */
	assert_int_equal(dfk_memmap_parse("@Internal Flash /0x08000000/1536*128g", &m, NULL), DFK_OK);
	check_seg(&m.segs[0], 0x08000000, 0x08000000 + 1536 * 128, 128, 1536, RWE);
	dfk_memmap_free(&m);
	/* F42x dual bank: 6 segments, contiguous */
	assert_int_equal(dfk_memmap_parse("@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg,04*016Kg,01*064Kg,"
					  "07*128Kg",
					  &m, NULL),
			 DFK_OK);
	assert_int_equal(m.count, 6);
	check_seg(&m.segs[3], 0x08100000, 0x08110000, 16384, 4, RWE);
	check_seg(&m.segs[5], 0x08120000, 0x08200000, 131072, 7, RWE);
	dfk_memmap_free(&m);
	/* 'B' and 'M' multipliers, uppercase type after a multiplier, trailing spaces,
	 * every type letter */
	assert_int_equal(dfk_memmap_parse("@X/0x0/2*1Ma,1*3Bb,1*1Kc,1*1Kd,1*1KE,1*1Kf,1*1KG  ", &m, NULL), DFK_OK);
	assert_int_equal(m.count, 7);
	check_seg(&m.segs[0], 0, 0x200000, 0x100000, 2, 1);
	check_seg(&m.segs[1], 0x200000, 0x200003, 3, 1, 2);
	for (size_t i = 2; i < 7; i++)
		assert_int_equal(m.segs[i].perms, i + 1);
	dfk_memmap_free(&m);
	/* empty name, lower and upper case hex */
	assert_int_equal(dfk_memmap_parse("@/0XdeadBEEF/1*1 a", &m, NULL), DFK_OK);
	assert_string_equal(m.name, "");
	check_seg(&m.segs[0], 0xDEADBEEF, 0xDEADBEF0, 1, 1, 1);
	dfk_memmap_free(&m);
}

static void test_non_power_of_two(void **state)
{
	dfk_memmap m;
	(void)state;
	assert_int_equal(dfk_memmap_parse("@Odd /0x00001000/3*3000 g,2*1Kg", &m, NULL), DFK_OK);
	check_seg(&m.segs[0], 0x1000, 0x1000 + 9000, 3000, 3, RWE);
	assert_int_equal(dfk_mem_page_start(&m.segs[0], 0x1000 + 2999), 0x1000);
	assert_int_equal(dfk_mem_page_start(&m.segs[0], 0x1000 + 3000), 0x1000 + 3000);
	assert_int_equal(dfk_mem_page_start(&m.segs[0], 0x1000 + 8999), 0x1000 + 6000);
	assert_int_equal(m.segs[1].start, 0x1000 + 9000);
	dfk_memmap_free(&m);
}

static void test_edges_of_4g(void **state)
{
	dfk_memmap m;
	dfk_error err;
	(void)state;
	/* exactly up to 4 GiB is fine */
	assert_int_equal(dfk_memmap_parse("@Top/0xFFFFF000/4*1Kg", &m, &err), DFK_OK);
	assert_int_equal(m.segs[0].end, (uint64_t)1 << 32);
	assert_ptr_equal(dfk_memmap_find(&m, 0xFFFFFFFF), &m.segs[0]);
	assert_int_equal(dfk_mem_page_start(&m.segs[0], 0xFFFFFFFF), 0xFFFFFC00);
	dfk_memmap_free(&m);
	assert_int_equal(dfk_memmap_parse("@All/0x0/4096*1Mg", &m, &err), DFK_OK);
	assert_int_equal(m.segs[0].end, (uint64_t)1 << 32);
	dfk_memmap_free(&m);
	/* one byte more is not */
	assert_int_equal(dfk_memmap_parse("@Top/0xFFFFF000/4*1Kg,1*1 g", &m, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "4 GiB"));
	assert_non_null(strstr(err.msg, "offset 22"));
	assert_null(m.segs);
	assert_int_equal(dfk_memmap_parse("@Top/0xFFFFF001/4*1Kg", &m, &err), DFK_ERR_DATA);
	assert_int_equal(dfk_memmap_parse("@All/0x1/4096*1Mg", &m, &err), DFK_ERR_DATA);
	/* address itself past 32 bits */
	assert_int_equal(dfk_memmap_parse("@A/0x100000000/1*1Kg", &m, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "32 bits"));
	assert_int_equal(dfk_memmap_parse("@A/0xFFFFFFFFFFFFFFFFFFFF/1*1Kg", &m, &err), DFK_ERR_DATA);
	/* page size past 32 bits: 4096M */
	assert_int_equal(dfk_memmap_parse("@A/0x0/1*4096Mg", &m, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "page size"));
	/* 4095M pages, two of them */
	assert_int_equal(dfk_memmap_parse("@A/0x0/2*4095Mg", &m, &err), DFK_ERR_DATA);
}

typedef struct bad_case {
	const char *str;
	const char *expect; /* substring of the message */
} bad_case;

static void test_hostile(void **state)
{
	static const bad_case cases[] = {
	    {"", "expected '@'"},
	    {"Internal Flash  /0x08000000/04*016Kg", "offset 0: expected '@'"},
	    {"@Internal Flash", "expected '/'"},
	    {"@Internal Flash /", "0x"},
	    {"@Internal Flash /08000000/04*016Kg", "offset 17"},
	    {"@Internal Flash /0x/04*016Kg", "hexadecimal"},
	    {"@Internal Flash /0x08000000", "expected '/' after the address"},
	    {"@Internal Flash /0x08000000 04*016Kg", "offset 27"},
	    {"@Internal Flash /0x08000000/", "page count"},
	    {"@Internal Flash /0x08000000/04016Kg", "'*'"},
	    {"@Internal Flash /0x08000000/04*Kg", "page size"},
	    {"@Internal Flash /0x08000000/99999999999*999M", "page count is too large"},
	    {"@Internal Flash /0x08000000/4294967296*1g", "too large"},
	    {"@Internal Flash /0x08000000/1*99999999999g", "page size is too large"},
	    {"@Internal Flash /0x08000000/4294967295*4294967295 g", "4 GiB"},
	    {"@Internal Flash /0x08000000/04*000Kg", "page size is 0"},
	    {"@Internal Flash /0x08000000/04*016K", "type letter"},
	    {"@Internal Flash /0x08000000/04*016Kh", "type letter"},
	    {"@Internal Flash /0x08000000/04*016Xg", "type letter"},
	    {"@Internal Flash /0x08000000/04*016Kgg", "unexpected character"},
	    {"@Internal Flash /0x08000000/04*016Kg;01*064Kg", "offset 36"},
	    {"@Internal Flash /0x08000000/-4*016Kg", "page count"},
	    {"@Internal Flash /0x08000000/04*016Kg/", "0x"},
	    {"@Internal Flash /0x08000000/04*016Kg/0x08100000", "expected '/'"},
	    {"@X/0x0/1*1Kg\x1b[2J!", "unexpected"},
	};
	size_t i;
	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		dfk_memmap m;
		dfk_error err;
		dfk_code rc = dfk_memmap_parse(cases[i].str, &m, &err);
		if (rc != DFK_ERR_DATA || !strstr(err.msg, cases[i].expect))
			fail_msg("\"%s\": rc %d, message \"%s\", wanted \"%s\"", cases[i].str, rc, err.msg,
				 cases[i].expect);
		assert_null(m.segs);
		assert_int_equal(m.count, 0);
		/* the message quotes the string, never its control characters */
		assert_null(strchr(err.msg, '\x1b'));
	}
	{
		dfk_memmap m;
		assert_int_equal(dfk_memmap_parse(NULL, &m, NULL), DFK_ERR_DATA);
	}
}

/* Forms real bootloaders send that dfu-util 0.11 reads (issue: GD32, AT32,
 * nRF/Zephyr and Arduino loaders). */
static void test_lenient(void **state)
{
	dfk_memmap m;
	dfk_error err;
	(void)state;
	/* a blank before a number, as sscanf's %d skips it */
	assert_int_equal(dfk_memmap_parse("@Internal Flash /0x08000000/ 128*1Kg", &m, &err), DFK_OK);
	assert_int_equal(m.count, 1);
	check_seg(&m.segs[0], 0x08000000, 0x08020000, 1024, 128, RWE);
	dfk_memmap_free(&m);
	assert_int_equal(dfk_memmap_parse("@Flash /0x 08000000/04* 016Kg, 01*064Kg", &m, &err), DFK_OK);
	assert_int_equal(m.count, 2);
	check_seg(&m.segs[1], 0x08010000, 0x08020000, 65536, 1, RWE);
	dfk_memmap_free(&m);
	/* a zero count is an empty segment (a label), not a broken map */
	assert_int_equal(dfk_memmap_parse("@SRAM /0x00000000/0*4Kg/0x20000000/16*1Ke", &m, &err), DFK_OK);
	assert_int_equal(m.count, 1);
	check_seg(&m.segs[0], 0x20000000, 0x20004000, 1024, 16, RW);
	assert_null(dfk_memmap_find(&m, 0x00000000));
	assert_ptr_equal(dfk_memmap_find(&m, 0x20000000), &m.segs[0]);
	dfk_memmap_free(&m);
	/* a trailing comma, at the end and before the next group */
	assert_int_equal(dfk_memmap_parse("@Internal Flash  /0x08000000/04*016Kg,01*064Kg,", &m, &err), DFK_OK);
	assert_int_equal(m.count, 2);
	dfk_memmap_free(&m);
	assert_int_equal(dfk_memmap_parse("@F /0x08000000/04*016Kg,/0x1FFF0000/01*016 e", &m, &err), DFK_OK);
	assert_int_equal(m.count, 2);
	check_seg(&m.segs[1], 0x1FFF0000, 0x1FFF0010, 16, 1, RW);
	dfk_memmap_free(&m);
	/* upper-case type letters, with and without a multiplier */
	assert_int_equal(dfk_memmap_parse("@F /0x08000000/64*1KG,2*016 E,1536*128G", &m, &err), DFK_OK);
	assert_int_equal(m.count, 3);
	check_seg(&m.segs[0], 0x08000000, 0x08010000, 1024, 64, RWE);
	check_seg(&m.segs[1], 0x08010000, 0x08010020, 16, 2, RW);
	check_seg(&m.segs[2], 0x08010020, 0x08010020 + 1536 * 128, 128, 1536, RWE);
	dfk_memmap_free(&m);
	/* 'B' alone is the type b (erasable); 'B' before a type is bytes */
	assert_int_equal(dfk_memmap_parse("@F /0x0/4*16B,4*16Bg", &m, &err), DFK_OK);
	check_seg(&m.segs[0], 0x0, 64, 16, 4, DFK_MEM_ERASABLE);
	check_seg(&m.segs[1], 64, 128, 16, 4, RWE);
	dfk_memmap_free(&m);
}

static void test_long_strings(void **state)
{
	/* A long name is cut to the field; a long list of segments grows. */
	char s[8192];
	dfk_memmap m;
	dfk_error err;
	size_t n, i;
	(void)state;
	s[0] = '@';
	memset(s + 1, 'N', 600);
	n = 601;
	n += (size_t)sprintf(s + n, "/0x0/1*1Kg");
	for (i = 1; i < 500; i++)
		n += (size_t)sprintf(s + n, ",1*1Kg");
	assert_int_equal(dfk_memmap_parse(s, &m, &err), DFK_OK);
	assert_int_equal(strlen(m.name), 255);
	assert_int_equal(m.count, 500);
	assert_int_equal(m.segs[499].start, 499 * 1024);
	dfk_memmap_free(&m);
	/* the error message stays bounded and says where */
	s[n - 1] = 'z';
	assert_int_equal(dfk_memmap_parse(s, &m, &err), DFK_ERR_DATA);
	assert_true(strlen(err.msg) < 300);
	assert_non_null(strstr(err.msg, "..."));
	{
		char want[32];
		snprintf(want, sizeof(want), "offset %zu", n - 1);
		assert_non_null(strstr(err.msg, want));
	}
}

/* Deterministic mutations of real strings: every result is either an error
 * with a message or a map whose segments are sane. */
static void test_mutations(void **state)
{
	static const char *const seeds[] = {
	    "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg",
	    "@Option Bytes  /0x1FFF7800/01*048 e/0x1FFFF800/01*048 e",
	    "@Internal Flash /0x08000000/1536*128g",
	    "@OTP Memory /0x1FFF7000/01*0001Ke",
	};
	static const char alphabet[] = "@/0x9*,KMBag eG\xff-";
	uint32_t rng = 12345;
	size_t ok = 0, bad = 0, k;
	(void)state;
	for (k = 0; k < 20000; k++) {
		char s[96];
		dfk_memmap m;
		dfk_error err;
		size_t len, j, n;
		strcpy(s, seeds[k % 4]);
		len = strlen(s);
		for (j = 0; j < 1 + k % 3; j++) {
			rng = rng * 1103515245u + 12345u;
			n = (rng >> 8) % len;
			rng = rng * 1103515245u + 12345u;
			s[n] = alphabet[(rng >> 8) % (sizeof(alphabet) - 1)];
		}
		if (dfk_memmap_parse(s, &m, &err) == DFK_OK) {
			ok++;
			/* count may be 0: a map of empty (label) segments is valid */
			for (j = 0; j < m.count; j++) {
				const dfk_mem_segment *g = &m.segs[j];
				assert_true(g->page_size > 0 && g->pages > 0);
				assert_true(g->end > g->start && g->end <= ((uint64_t)1 << 32));
				assert_int_equal(g->end - g->start, (uint64_t)g->pages * g->page_size);
				assert_true(g->perms >= 1 && g->perms <= 7);
				assert_ptr_equal(dfk_memmap_find(&m, g->start) != NULL, 1);
			}
			dfk_memmap_free(&m);
		} else {
			bad++;
			assert_null(m.segs);
			assert_non_null(strstr(err.msg, "offset"));
		}
	}
	/* both outcomes were exercised */
	assert_true(ok > 100 && bad > 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_f405),	 cmocka_unit_test(test_f4_other_alts),
	    cmocka_unit_test(test_other_parts),	 cmocka_unit_test(test_non_power_of_two),
	    cmocka_unit_test(test_edges_of_4g),	 cmocka_unit_test(test_hostile),
	    cmocka_unit_test(test_long_strings), cmocka_unit_test(test_lenient),
	    cmocka_unit_test(test_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
