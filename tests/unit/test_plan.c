/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* DfuSe download plans: pages erased once, runs merged, permissions enforced. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dfukit/dfu.h"
#include "schedule.h"

#define F405 "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg"

/* Images are built by hand (sorted, non-overlapping elements) so that this
 * test depends on nothing but the plan code. */
typedef struct test_image {
	dfk_image img;
	dfk_element el[16];
} test_image;

static void img_init(test_image *t)
{
	memset(t, 0, sizeof(*t));
	t->img.elements = t->el;
}

/* Element data: byte i of the element at addr is (addr + i) & 0xFF, so a
 * run's bytes can be checked against its address. */
static void img_add(test_image *t, uint32_t addr, uint32_t size)
{
	dfk_element *e = &t->el[t->img.count++];
	uint8_t *d = malloc(size);
	uint32_t i;
	assert_non_null(d);
	for (i = 0; i < size; i++)
		d[i] = (uint8_t)(addr + i);
	e->addr = addr;
	e->size = size;
	e->data = d;
	t->img.cap = t->img.count;
}

static void img_free(test_image *t)
{
	size_t i;
	for (i = 0; i < t->img.count; i++)
		free(t->el[i].data);
}

static void check_run_bytes(const dfk_plan_run *r)
{
	uint32_t i;
	for (i = 0; i < r->len; i++)
		if (r->data[i] != (uint8_t)(r->addr + i))
			fail_msg("run at 0x%08x: byte %u is 0x%02x", r->addr, i, r->data[i]);
}

static void parse(const char *s, dfk_memmap *m)
{
	dfk_error err;
	if (dfk_memmap_parse(s, m, &err) != DFK_OK)
		fail_msg("%s", err.msg);
}

static void test_single_page(void **state)
{
	test_image t;
	dfk_memmap m;
	dfk_plan p;
	dfk_error err;
	(void)state;
	parse(F405, &m);
	img_init(&t);
	img_add(&t, 0x08000000, 100);
	assert_int_equal(dfk_plan_build(&t.img, &m, 0, &p, &err), DFK_OK);
	assert_int_equal(p.nerase, 1);
	assert_int_equal(p.erase[0].addr, 0x08000000);
	assert_int_equal(p.erase[0].size, 16384);
	assert_true(p.erase[0].partial);
	assert_int_equal(p.nruns, 1);
	assert_int_equal(p.runs[0].addr, 0x08000000);
	assert_int_equal(p.runs[0].len, 100);
	assert_ptr_equal(p.runs[0].data, t.el[0].data); /* borrowed, not copied */
	dfk_plan_free(&p);
	assert_null(p.runs);
	assert_null(p.erase);
	dfk_plan_free(&p);
	img_free(&t);
	dfk_memmap_free(&m);
}

static void test_f405_spanning(void **state)
{
	test_image t;
	dfk_memmap m;
	dfk_plan p;
	dfk_error err;
	size_t i;
	(void)state;
	parse(F405, &m);
	img_init(&t);
	/* 0x08004000 .. 0x08030000: sectors 1,2,3 (16K) full, 4 (64K) full,
	 * 5 (128K) partial; crosses two segment boundaries */
	img_add(&t, 0x08004000, 0x2C000);
	assert_int_equal(dfk_plan_build(&t.img, &m, 0, &p, &err), DFK_OK);
	assert_int_equal(p.nerase, 5);
	const uint32_t want[5] = {0x08004000, 0x08008000, 0x0800C000, 0x08010000, 0x08020000};
	const uint32_t wsize[5] = {16384, 16384, 16384, 65536, 131072};
	for (i = 0; i < 5; i++) {
		assert_int_equal(p.erase[i].addr, want[i]);
		assert_int_equal(p.erase[i].size, wsize[i]);
		assert_int_equal(p.erase[i].partial, i == 4);
	}
	/* one run across the two segment boundaries (same rights, only the
	 * page size differs): one SET_ADDRESS; data borrowed in place */
	assert_int_equal(p.nruns, 1);
	assert_int_equal(p.runs[0].addr, 0x08004000);
	assert_int_equal(p.runs[0].len, 0x2C000);
	assert_ptr_equal(p.runs[0].data, t.el[0].data);
	check_run_bytes(&p.runs[0]);
	dfk_plan_free(&p);
	img_free(&t);
	dfk_memmap_free(&m);
}

static void test_merge_and_shared_pages(void **state)
{
	test_image t;
	dfk_memmap m;
	dfk_plan p;
	dfk_error err;
	(void)state;
	parse("@Internal Flash  /0x08000000/0512*0002Kg", &m); /* L476: 2 KiB pages */
	img_init(&t);
	img_add(&t, 0x08000000, 0x400); /* three touching elements: one run */
	img_add(&t, 0x08000400, 0x400);
	img_add(&t, 0x08000800, 0x100);
	img_add(&t, 0x08000A00, 0x10); /* a gap: a new run, same page */
	img_add(&t, 0x08001FF0, 0x20); /* crosses a page boundary, not split */
	assert_int_equal(dfk_plan_build(&t.img, &m, 0, &p, &err), DFK_OK);
	assert_int_equal(p.nruns, 3);
	assert_int_equal(p.runs[0].addr, 0x08000000);
	assert_int_equal(p.runs[0].len, 0x900);
	assert_int_equal(p.runs[1].addr, 0x08000A00);
	assert_int_equal(p.runs[1].len, 0x10);
	assert_int_equal(p.runs[2].addr, 0x08001FF0);
	assert_int_equal(p.runs[2].len, 0x20);
	check_run_bytes(&p.runs[0]);
	check_run_bytes(&p.runs[1]);
	check_run_bytes(&p.runs[2]);
	/* each page erased exactly once, ascending */
	assert_int_equal(p.nerase, 4);
	assert_int_equal(p.erase[0].addr, 0x08000000);
	assert_false(p.erase[0].partial); /* covered by two elements together */
	assert_int_equal(p.erase[1].addr, 0x08000800);
	assert_true(p.erase[1].partial);
	assert_int_equal(p.erase[2].addr, 0x08001800);
	assert_true(p.erase[2].partial);
	assert_int_equal(p.erase[3].addr, 0x08002000);
	assert_true(p.erase[3].partial);
	dfk_plan_free(&p);

	/* no erase after a mass erase, same runs */
	assert_int_equal(dfk_plan_build(&t.img, &m, DFK_PLAN_NO_ERASE, &p, &err), DFK_OK);
	assert_int_equal(p.nerase, 0);
	assert_null(p.erase);
	assert_int_equal(p.nruns, 3);
	dfk_plan_free(&p);
	img_free(&t);
	dfk_memmap_free(&m);
}

static void test_merge_across_segment(void **state)
{
	/* touching elements that straddle a segment boundary: one run, its
	 * bytes gathered from the three buffers */
	test_image t;
	dfk_memmap m;
	dfk_plan p;
	(void)state;
	parse(F405, &m);
	img_init(&t);
	img_add(&t, 0x0800F000, 0x800);
	img_add(&t, 0x0800F800, 0x1000); /* crosses 0x08010000 */
	img_add(&t, 0x08010800, 0x800);
	assert_int_equal(dfk_plan_build(&t.img, &m, 0, &p, NULL), DFK_OK);
	assert_int_equal(p.nruns, 1);
	assert_int_equal(p.runs[0].addr, 0x0800F000);
	assert_int_equal(p.runs[0].len, 0x2000);
	check_run_bytes(&p.runs[0]);
	assert_int_equal(p.nerase, 2);
	assert_int_equal(p.erase[0].addr, 0x0800C000);
	assert_int_equal(p.erase[1].addr, 0x08010000);
	assert_true(p.erase[0].partial);
	assert_true(p.erase[1].partial);
	dfk_plan_free(&p);
	img_free(&t);
	dfk_memmap_free(&m);
}

static void test_shared_buffer_and_kinds(void **state)
{
	/* elements borrowing one buffer back to back: merged without a copy */
	static uint8_t buf[0x3000];
	dfk_element el[3];
	dfk_image img = {el, 3, 3};
	dfk_memmap m;
	dfk_plan p;
	size_t i;
	(void)state;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)i;
	for (i = 0; i < 3; i++) {
		el[i].addr = 0x08000000 + (uint32_t)i * 0x1000;
		el[i].size = 0x1000;
		el[i].data = buf + i * 0x1000;
		el[i].borrowed = true;
	}
	parse(F405, &m);
	assert_int_equal(dfk_plan_build(&img, &m, 0, &p, NULL), DFK_OK);
	assert_int_equal(p.nruns, 1);
	assert_ptr_equal(p.runs[0].data, buf);
	assert_int_equal(p.runs[0].len, 0x3000);
	dfk_plan_free(&p);
	dfk_memmap_free(&m);

	/* a boundary between segments with different rights splits the run,
	 * and only the erasable one is erased */
	parse("@Mixed /0x08000000/1*1Kg,1*1Ke", &m);
	el[0].addr = 0x08000000;
	el[0].size = 0x800;
	img.count = 1;
	assert_int_equal(dfk_plan_build(&img, &m, 0, &p, NULL), DFK_OK);
	assert_int_equal(p.nruns, 2);
	assert_int_equal(p.runs[0].len, 0x400);
	assert_int_equal(p.runs[1].addr, 0x08000400);
	assert_ptr_equal(p.runs[1].data, buf + 0x400);
	assert_int_equal(p.nerase, 1);
	assert_int_equal(p.erase[0].addr, 0x08000000);
	assert_false(p.erase[0].partial);
	dfk_plan_free(&p);
	dfk_memmap_free(&m);
}

static void test_full_h743(void **state)
{
	test_image t;
	dfk_memmap m;
	dfk_plan p;
	size_t i;
	(void)state;
	parse("@Internal Flash   /0x08000000/16*128Kg", &m);
	img_init(&t);
	img_add(&t, 0x08000000, 0x40000); /* exactly two sectors */
	assert_int_equal(dfk_plan_build(&t.img, &m, 0, &p, NULL), DFK_OK);
	assert_int_equal(p.nerase, 2);
	for (i = 0; i < 2; i++) {
		assert_int_equal(p.erase[i].addr, 0x08000000 + i * 0x20000);
		assert_false(p.erase[i].partial);
	}
	assert_int_equal(p.nruns, 1);
	dfk_plan_free(&p);
	img_free(&t);
	dfk_memmap_free(&m);
}

static void test_option_bytes(void **state)
{
	/* 'e' = read/write, not erasable: written without an erase */
	test_image t;
	dfk_memmap m;
	dfk_plan p;
	(void)state;
	parse("@Option Bytes  /0x1FFFC000/01*016 e", &m);
	img_init(&t);
	img_add(&t, 0x1FFFC000, 16);
	assert_int_equal(dfk_plan_build(&t.img, &m, 0, &p, NULL), DFK_OK);
	assert_int_equal(p.nerase, 0);
	assert_int_equal(p.nruns, 1);
	assert_int_equal(p.runs[0].len, 16);
	dfk_plan_free(&p);
	/* past the 16 bytes: outside any segment */
	img_free(&t);
	img_init(&t);
	img_add(&t, 0x1FFFC008, 16);
	dfk_error err;
	assert_int_equal(dfk_plan_build(&t.img, &m, 0, &p, &err), DFK_ERR_USAGE);
	assert_non_null(strstr(err.msg, "0x1fffc010"));
	assert_non_null(strstr(err.msg, "Option Bytes"));
	assert_null(p.runs);
	img_free(&t);
	dfk_memmap_free(&m);
}

static void test_read_only(void **state)
{
	test_image t;
	dfk_memmap m;
	dfk_plan p;
	dfk_error err;
	(void)state;
	/* F103 demo loader: first 12 KiB 'a' */
	parse("@Internal Flash   /0x08000000/12*001Ka,116*001Kg", &m);
	img_init(&t);
	img_add(&t, 0x08002C00, 0x800); /* last read-only page and the first writeable one */
	assert_int_equal(dfk_plan_build(&t.img, &m, 0, &p, &err), DFK_ERR_USAGE);
	assert_non_null(strstr(err.msg, "0x08002c00"));
	assert_non_null(strstr(err.msg, "0x08000000-0x08002fff"));
	assert_non_null(strstr(err.msg, "not writeable"));
	assert_non_null(strstr(err.msg, "'a'"));
	assert_null(p.runs);
	assert_null(p.erase);
	/* force: written; the read-only segment is not erasable, so only the
	 * writeable one's page is erased */
	assert_int_equal(dfk_plan_build(&t.img, &m, DFK_PLAN_FORCE, &p, &err), DFK_OK);
	assert_int_equal(p.nruns, 2);
	assert_int_equal(p.runs[0].addr, 0x08002C00);
	assert_int_equal(p.runs[0].len, 0x400);
	assert_int_equal(p.runs[1].addr, 0x08003000);
	assert_int_equal(p.nerase, 1);
	assert_int_equal(p.erase[0].addr, 0x08003000);
	assert_false(p.erase[0].partial);
	dfk_plan_free(&p);
	img_free(&t);
	dfk_memmap_free(&m);

	/* OTP 'a' refused; 'g' refused too (one-time programmable), unless forced */
	parse("@OTP Memory /0x1FFF7000/01*0001Ka", &m);
	img_init(&t);
	img_add(&t, 0x1FFF7000, 32);
	assert_int_equal(dfk_plan_build(&t.img, &m, 0, &p, &err), DFK_ERR_USAGE);
	assert_non_null(strstr(err.msg, "OTP Memory"));
	dfk_memmap_free(&m);
	parse("@OTP Memory /0x1FFF7000/01*512 g,01*016 g", &m);
	assert_int_equal(dfk_plan_build(&t.img, &m, 0, &p, &err), DFK_ERR_USAGE);
	assert_non_null(strstr(err.msg, "one-time programmable"));
	assert_int_equal(dfk_plan_build(&t.img, &m, DFK_PLAN_FORCE, &p, &err), DFK_OK);
	assert_int_equal(p.nerase, 1);
	assert_int_equal(p.erase[0].size, 512);
	assert_true(p.erase[0].partial);
	dfk_plan_free(&p);
	img_free(&t);
	dfk_memmap_free(&m);
}

static void test_outside(void **state)
{
	test_image t;
	dfk_memmap m;
	dfk_plan p;
	dfk_error err;
	(void)state;
	parse(F405, &m);
	img_init(&t);
	img_add(&t, 0x080FFF00, 0x200); /* runs past the end of flash */
	assert_int_equal(dfk_plan_build(&t.img, &m, 0, &p, &err), DFK_ERR_USAGE);
	assert_non_null(strstr(err.msg, "0x08100000"));
	assert_non_null(strstr(err.msg, "not in any segment"));
	/* force: the tail is written, not erased (no page size known) */
	assert_int_equal(dfk_plan_build(&t.img, &m, DFK_PLAN_FORCE, &p, &err), DFK_OK);
	assert_int_equal(p.nruns, 2);
	assert_int_equal(p.runs[1].addr, 0x08100000);
	assert_int_equal(p.runs[1].len, 0x100);
	check_run_bytes(&p.runs[1]);
	assert_int_equal(p.nerase, 1);
	assert_int_equal(p.erase[0].addr, 0x080E0000);
	dfk_plan_free(&p);
	img_free(&t);

	/* below the map, data that reaches into it */
	img_init(&t);
	img_add(&t, 0x07FFFF00, 0x200);
	assert_int_equal(dfk_plan_build(&t.img, &m, 0, &p, &err), DFK_ERR_USAGE);
	assert_non_null(strstr(err.msg, "0x07ffff00"));
	assert_int_equal(dfk_plan_build(&t.img, &m, DFK_PLAN_FORCE, &p, &err), DFK_OK);
	assert_int_equal(p.nruns, 2);
	assert_int_equal(p.runs[0].len, 0x100);
	assert_int_equal(p.runs[1].addr, 0x08000000);
	dfk_plan_free(&p);

	/* no map at all */
	assert_int_equal(dfk_plan_build(&t.img, NULL, 0, &p, &err), DFK_ERR_USAGE);
	assert_int_equal(dfk_plan_build(&t.img, NULL, DFK_PLAN_FORCE, &p, &err), DFK_OK);
	assert_int_equal(p.nruns, 1);
	assert_int_equal(p.nerase, 0);
	dfk_plan_free(&p);
	img_free(&t);
	dfk_memmap_free(&m);
}

static void test_odd_pages_and_top(void **state)
{
	test_image t;
	dfk_memmap m;
	dfk_plan p;
	(void)state;
	parse("@Odd /0x00001000/3*3000 g", &m);
	img_init(&t);
	img_add(&t, 0x1000 + 2990, 20); /* straddles pages 0 and 1 */
	assert_int_equal(dfk_plan_build(&t.img, &m, 0, &p, NULL), DFK_OK);
	assert_int_equal(p.nerase, 2);
	assert_int_equal(p.erase[0].addr, 0x1000);
	assert_int_equal(p.erase[1].addr, 0x1000 + 3000);
	assert_int_equal(p.erase[1].size, 3000);
	dfk_plan_free(&p);
	img_free(&t);
	dfk_memmap_free(&m);

	/* the very top of the address space */
	parse("@Top/0xFFFFF000/4*1Kg", &m);
	img_init(&t);
	img_add(&t, 0xFFFFFF00, 0x100);
	assert_int_equal(dfk_plan_build(&t.img, &m, 0, &p, NULL), DFK_OK);
	assert_int_equal(p.nerase, 1);
	assert_int_equal(p.erase[0].addr, 0xFFFFFC00);
	assert_int_equal(p.nruns, 1);
	assert_int_equal(p.runs[0].len, 0x100);
	dfk_plan_free(&p);
	img_free(&t);
	dfk_memmap_free(&m);
}

static void test_too_many_pages(void **state)
{
	/* 1-byte pages over 2 MiB: refused, not 2 million erase entries */
	dfk_element el;
	dfk_image img = {&el, 1, 1};
	dfk_memmap m;
	dfk_plan p;
	dfk_error err;
	(void)state;
	el.addr = 0;
	el.size = 2u << 20;
	el.data = calloc(1, el.size);
	el.borrowed = false;
	assert_non_null(el.data);
	parse("@Tiny/0x0/4294967295*1 g", &m);
	assert_int_equal(dfk_plan_build(&img, &m, 0, &p, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "pages to erase"));
	assert_null(p.erase);
	/* without erasing it is fine */
	assert_int_equal(dfk_plan_build(&img, &m, DFK_PLAN_NO_ERASE, &p, &err), DFK_OK);
	assert_int_equal(p.nruns, 1);
	dfk_plan_free(&p);
	dfk_memmap_free(&m);
	free(el.data);
}

static void test_empty_and_bad_image(void **state)
{
	test_image t;
	dfk_memmap m;
	dfk_plan p;
	dfk_error err;
	(void)state;
	parse(F405, &m);
	img_init(&t);
	assert_int_equal(dfk_plan_build(&t.img, &m, 0, &p, &err), DFK_OK);
	assert_int_equal(p.nruns, 0);
	assert_int_equal(p.nerase, 0);
	dfk_plan_free(&p);
	/* overlapping elements violate dfk_image's contract: refused */
	img_add(&t, 0x08000000, 0x100);
	img_add(&t, 0x08000080, 0x100);
	assert_int_equal(dfk_plan_build(&t.img, &m, 0, &p, &err), DFK_ERR_SOFTWARE);
	assert_non_null(strstr(err.msg, "0x08000080"));
	img_free(&t);
	assert_int_equal(dfk_plan_build(NULL, &m, 0, &p, &err), DFK_ERR_SOFTWARE);
	dfk_memmap_free(&m);
}

/* ---- schedules: the steps a download sends, as data ---- */

/* Control transfers of a schedule on a DfuSe device that reports
 * dfuDNBUSY once after every DNLOAD (as the F405 ROM and dfukit-emu do):
 * the DNLOAD and two GETSTATUS per erase, SET_ADDRESS and data block.
 * Plus the job's own: GETSTATUS first (prepare), ABORT and GETSTATUS last. */
static unsigned dfuse_transfers(const dfk_schedule *s)
{
	unsigned n = 1 + 2;
	for (size_t i = 0; i < s->count; i++) {
		switch (s->steps[i].op) {
		case DFK_STEP_ERASE:
		case DFK_STEP_SET_ADDRESS:
		case DFK_STEP_DNLOAD: n += 3; break;
		default: fail_msg("unexpected step %d", (int)s->steps[i].op);
		}
	}
	return n;
}

static void test_schedule_f405_budget(void **state)
{
	test_image t;
	dfk_memmap m;
	dfk_plan p;
	dfk_schedule s;
	dfk_error err;
	unsigned blocks = 0;
	(void)state;
	parse(F405, &m);
	img_init(&t);
	img_add(&t, 0x08000000, 256 * 1024);
	assert_int_equal(dfk_plan_build(&t.img, &m, 0, &p, &err), DFK_OK);
	assert_int_equal(dfk__schedule_dfuse(&p, 2048, true, false, &s, &err), DFK_OK);
	/* six pages erased, one SET_ADDRESS, blocks 2..129 in order */
	assert_int_equal(s.count, 6 + 1 + 128);
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(s.steps[i].op, DFK_STEP_ERASE);
	assert_int_equal(s.steps[6].op, DFK_STEP_SET_ADDRESS);
	assert_int_equal(s.steps[6].addr, 0x08000000);
	for (size_t i = 7; i < s.count; i++, blocks++) {
		assert_int_equal(s.steps[i].op, DFK_STEP_DNLOAD);
		assert_int_equal(s.steps[i].block, 2 + blocks);
		assert_int_equal(s.steps[i].addr, 0x08000000 + 2048 * blocks);
		assert_int_equal(s.steps[i].len, 2048);
		assert_int_equal(s.steps[i].last, i + 1 == s.count);
	}
	assert_int_equal(s.erase_bytes, 256 * 1024);
	assert_int_equal(s.write_bytes, 256 * 1024);
	/* The flash_budget test over USB/IP measures 417: these plus 9 that
	 * open the device (descriptors, configuration, interface, strings)
	 * and the tool's status check. */
	printf("256 KiB to the F405 map: %u control transfers in the job, %u with the open\n", dfuse_transfers(&s),
	       dfuse_transfers(&s) + 9);
	assert_true(dfuse_transfers(&s) + 9 <= 417);
	dfk__schedule_free(&s);

	/* with verify: one read-back per run, nothing else changes */
	assert_int_equal(dfk__schedule_dfuse(&p, 2048, true, true, &s, &err), DFK_OK);
	assert_int_equal(s.count, 6 + 1 + 128 + 1);
	assert_int_equal(s.steps[s.count - 1].op, DFK_STEP_VERIFY);
	assert_int_equal(s.steps[s.count - 1].addr, 0x08000000);
	assert_int_equal(s.steps[s.count - 1].len, 256 * 1024);
	assert_int_equal(s.verify_bytes, 256 * 1024);
	dfk__schedule_free(&s);
	dfk_plan_free(&p);
	img_free(&t);
	dfk_memmap_free(&m);
}

static void test_schedule_addressing_rule(void **state)
{
	test_image t;
	dfk_memmap m;
	dfk_plan p;
	dfk_schedule s;
	dfk_error err;
	unsigned setaddr = 0;
	(void)state;
	/* the rule itself */
	assert_false(dfk__dfuse_needs_address(2, 100, 2048, true)); /* right after SET_ADDRESS */
	assert_false(dfk__dfuse_needs_address(0xFFFF, 2048, 2048, true));
	assert_true(dfk__dfuse_needs_address(0x10000, 2048, 2048, true)); /* past 16 bits */
	assert_true(dfk__dfuse_needs_address(3, 100, 2048, true));	  /* short block */
	assert_true(dfk__dfuse_needs_address(3, 1024, 1024, false));	  /* not the device's size */

	parse(F405, &m);
	img_init(&t);
	img_add(&t, 0x08000000, 3 * 2048 + 100);
	assert_int_equal(dfk_plan_build(&t.img, &m, 0, &p, &err), DFK_OK);
	/* the short tail is addressed again, as block 2 */
	assert_int_equal(dfk__schedule_dfuse(&p, 2048, true, false, &s, &err), DFK_OK);
	assert_int_equal(s.count, 1 + 1 + 3 + 1 + 1);
	assert_int_equal(s.steps[5].op, DFK_STEP_SET_ADDRESS);
	assert_int_equal(s.steps[5].addr, 0x08000000 + 3 * 2048);
	assert_int_equal(s.steps[6].block, 2);
	assert_int_equal(s.steps[6].len, 100);
	dfk__schedule_free(&s);
	/* a transfer size other than the device's: every block addressed */
	assert_int_equal(dfk__schedule_dfuse(&p, 1024, false, false, &s, &err), DFK_OK);
	for (size_t i = 0; i < s.count; i++) {
		if (s.steps[i].op == DFK_STEP_SET_ADDRESS)
			setaddr++;
		if (s.steps[i].op == DFK_STEP_DNLOAD) {
			assert_int_equal(s.steps[i].block, 2);
			assert_int_equal(s.steps[i - 1].op, DFK_STEP_SET_ADDRESS);
			assert_int_equal(s.steps[i - 1].addr, s.steps[i].addr);
		}
	}
	assert_int_equal(setaddr, 7);
	dfk__schedule_free(&s);
	assert_int_equal(dfk__schedule_dfuse(&p, 0, true, false, &s, &err), DFK_ERR_USAGE);
	dfk_plan_free(&p);
	img_free(&t);
	dfk_memmap_free(&m);
}

static void test_schedule_plain(void **state)
{
	static uint8_t data[70000];
	dfk_schedule s;
	dfk_error err;
	(void)state;
	/* 1-byte blocks: the block number wraps at 16 bits, as the field does */
	assert_int_equal(dfk__schedule_plain(data, sizeof(data), 1, true, &s, &err), DFK_OK);
	assert_int_equal(s.count, sizeof(data) + 2);
	assert_int_equal(s.steps[0].block, 0);
	assert_int_equal(s.steps[65535].block, 65535);
	assert_int_equal(s.steps[65536].block, 0);
	assert_true(s.steps[sizeof(data) - 1].last);
	assert_int_equal(s.steps[sizeof(data)].op, DFK_STEP_END);
	assert_int_equal(s.steps[sizeof(data)].block, (uint16_t)sizeof(data));
	assert_int_equal(s.steps[sizeof(data) + 1].op, DFK_STEP_VERIFY);
	assert_int_equal(s.steps[sizeof(data) + 1].len, sizeof(data));
	dfk__schedule_free(&s);
	assert_int_equal(dfk__schedule_plain(data, 5000, 2048, false, &s, &err), DFK_OK);
	assert_int_equal(s.count, 3 + 1);
	assert_int_equal(s.steps[2].len, 5000 - 4096);
	assert_int_equal(s.steps[3].block, 3);
	dfk__schedule_free(&s);
}

static void test_plan_preserve(void **state)
{
	test_image t;
	dfk_memmap m;
	dfk_plan p, e;
	dfk_error err;
	uint8_t *page = malloc(16384);
	uint8_t *bytes[2] = {NULL, page};
	(void)state;
	parse(F405, &m);
	img_init(&t);
	/* the first page whole, 100 bytes into the second */
	img_add(&t, 0x08000000, 0x4000 + 100);
	assert_int_equal(dfk_plan_build(&t.img, &m, 0, &p, &err), DFK_OK);
	assert_true(p.erase[1].partial);
	memset(page, 0xA5, 16384); /* what the device holds */
	assert_int_equal(dfk__plan_preserve(&p, &m, 0, bytes, &e, &err), DFK_OK);
	assert_int_equal(e.nerase, 2);
	assert_false(e.erase[0].preserved);
	assert_true(e.erase[1].preserved);
	assert_false(e.erase[1].partial);
	/* one run, both pages whole: the image's bytes, then the device's */
	assert_int_equal(e.nruns, 1);
	assert_int_equal(e.runs[0].addr, 0x08000000);
	assert_int_equal(e.runs[0].len, 0x8000);
	for (uint32_t i = 0; i < 0x4000 + 100; i++)
		assert_int_equal(e.runs[0].data[i], (uint8_t)(0x08000000 + i));
	for (uint32_t i = 0x4000 + 100; i < 0x8000; i++)
		assert_int_equal(e.runs[0].data[i], 0xA5);
	dfk_plan_free(&e);
	dfk_plan_free(&p);
	free(page);
	img_free(&t);
	dfk_memmap_free(&m);
}

static void test_plan_drop_pages(void **state)
{
	test_image t;
	dfk_memmap m;
	dfk_plan p, e;
	dfk_error err;
	dfk_page_verdict unchanged[3] = {DFK_PAGE_WRITE, DFK_PAGE_SAME, DFK_PAGE_WRITE};
	(void)state;
	parse(F405, &m);
	img_init(&t);
	/* pages 0x08000000, 0x08004000, 0x08008000 (16 KiB each), partly the third */
	img_add(&t, 0x08000000, 0x8000 + 100);
	assert_int_equal(dfk_plan_build(&t.img, &m, 0, &p, &err), DFK_OK);
	assert_int_equal(p.nerase, 3);
	assert_int_equal(dfk__plan_drop_pages(&p, unchanged, &e, &err), DFK_OK);
	assert_int_equal(e.nerase, 2);
	assert_int_equal(e.erase[0].addr, 0x08000000);
	assert_int_equal(e.erase[1].addr, 0x08008000);
	/* the run is cut around the unchanged page */
	assert_int_equal(e.nruns, 2);
	assert_int_equal(e.runs[0].addr, 0x08000000);
	assert_int_equal(e.runs[0].len, 0x4000);
	assert_int_equal(e.runs[1].addr, 0x08008000);
	assert_int_equal(e.runs[1].len, 100);
	check_run_bytes(&e.runs[0]);
	check_run_bytes(&e.runs[1]);
	dfk_plan_free(&e);
	/* the first page erased already: written, not erased */
	unchanged[0] = DFK_PAGE_ERASED;
	assert_int_equal(dfk__plan_drop_pages(&p, unchanged, &e, &err), DFK_OK);
	assert_int_equal(e.nerase, 1);
	assert_int_equal(e.erase[0].addr, 0x08008000);
	assert_int_equal(e.nruns, 2);
	assert_int_equal(e.runs[0].addr, 0x08000000);
	assert_int_equal(e.runs[0].len, 0x4000);
	dfk_plan_free(&e);
	/* all unchanged: nothing left */
	unchanged[0] = unchanged[2] = DFK_PAGE_SAME;
	assert_int_equal(dfk__plan_drop_pages(&p, unchanged, &e, &err), DFK_OK);
	assert_int_equal(e.nerase, 0);
	assert_int_equal(e.nruns, 0);
	dfk_plan_free(&e);
	dfk_plan_free(&p);
	img_free(&t);
	dfk_memmap_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_single_page),
	    cmocka_unit_test(test_f405_spanning),
	    cmocka_unit_test(test_merge_and_shared_pages),
	    cmocka_unit_test(test_merge_across_segment),
	    cmocka_unit_test(test_shared_buffer_and_kinds),
	    cmocka_unit_test(test_full_h743),
	    cmocka_unit_test(test_option_bytes),
	    cmocka_unit_test(test_read_only),
	    cmocka_unit_test(test_outside),
	    cmocka_unit_test(test_odd_pages_and_top),
	    cmocka_unit_test(test_too_many_pages),
	    cmocka_unit_test(test_empty_and_bad_image),
	    cmocka_unit_test(test_schedule_f405_budget),
	    cmocka_unit_test(test_schedule_addressing_rule),
	    cmocka_unit_test(test_schedule_plain),
	    cmocka_unit_test(test_plan_drop_pages),
	    cmocka_unit_test(test_plan_preserve),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
