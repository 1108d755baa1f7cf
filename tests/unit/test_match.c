/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfu-util's -d and -S syntax. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dfukit/device.h"

static void test_init(void **state)
{
	dfk_match m;
	(void)state;
	memset(&m, 0x5A, sizeof(m));
	dfk_match_init(&m);
	assert_int_equal(m.vid, DFK_MATCH_ANY);
	assert_int_equal(m.pid, DFK_MATCH_ANY);
	assert_int_equal(m.dfu_vid, DFK_MATCH_ANY);
	assert_int_equal(m.dfu_pid, DFK_MATCH_ANY);
	assert_false(m.dfu_ids_given);
	assert_int_equal(m.devnum, DFK_MATCH_ANY);
	assert_null(m.path);
	assert_int_equal(m.cfg, DFK_MATCH_ANY);
	assert_int_equal(m.intf, DFK_MATCH_ANY);
	assert_int_equal(m.alt, DFK_MATCH_ANY);
	assert_null(m.alt_name);
	assert_null(m.serial);
	assert_null(m.dfu_serial);
}

typedef struct dcase {
	const char *spec;
	int vid, pid, dvid, dpid;
	bool given;
} dcase;

#define A DFK_MATCH_ANY
#define N DFK_MATCH_NONE

static void test_device_ok(void **state)
{
	static const dcase cases[] = {
	    {"0483:df11", 0x0483, 0xDF11, 0x0483, 0xDF11, false},
	    {"0483:DF11", 0x0483, 0xDF11, 0x0483, 0xDF11, false},
	    {"483:df11", 0x0483, 0xDF11, 0x0483, 0xDF11, false},
	    {"0x0483:0xdf11", 0x0483, 0xDF11, 0x0483, 0xDF11, false},
	    {"0483", 0x0483, A, 0x0483, A, false},
	    {"0483:", 0x0483, A, 0x0483, A, false},
	    {":df11", A, 0xDF11, A, 0xDF11, false},
	    {"*:df11", A, 0xDF11, A, 0xDF11, false},
	    {"0483:*", 0x0483, A, 0x0483, A, false},
	    {"-:-", N, N, N, N, false},
	    {"", A, A, A, A, false},
	    {"1457:51ab,1457:51ac", 0x1457, 0x51AB, 0x1457, 0x51AC, true},
	    {",0951:0026", N, N, 0x0951, 0x0026, true},
	    {"1457:51ab,", 0x1457, 0x51AB, A, A, true},
	    {"1457:51ab,-:-", 0x1457, 0x51AB, N, N, true},
	    {"*:*,*:1234", A, A, A, 0x1234, true},
	    {"ffff:0", 0xFFFF, 0, 0xFFFF, 0, false},
	    /* dfu-util's leniency: blanks around an ID, 0X. */
	    {" 0483: df11", 0x0483, 0xDF11, 0x0483, 0xDF11, false},
	    {"\t0x0483 :0XDF11 ,  1234:5678", 0x0483, 0xDF11, 0x1234, 0x5678, true},
	};
	size_t i;
	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		dfk_match m;
		dfk_error err;
		const dcase *c = &cases[i];
		dfk_match_init(&m);
		dfk_error warn;
		if (dfk_match_parse_device(&m, c->spec, &warn, &err) != DFK_OK)
			fail_msg("\"%s\": %s", c->spec, err.msg);
		if (warn.msg[0])
			fail_msg("\"%s\": unexpected warning %s", c->spec, warn.msg);
		if (m.vid != c->vid || m.pid != c->pid || m.dfu_vid != c->dvid || m.dfu_pid != c->dpid ||
		    m.dfu_ids_given != c->given)
			fail_msg("\"%s\": got %d:%d,%d:%d given %d", c->spec, m.vid, m.pid, m.dfu_vid, m.dfu_pid,
				 m.dfu_ids_given);
	}
}

static void test_device_bad(void **state)
{
	static const char *const bad[] = {
	    "0483:df11:1",     "12345:df11", "0483:dfg1", "0483x",   "0483:df11,1:2,3:4",
	    "0483:df11,12345", "0x:1",	     "04 83",	  "0483:-1",
	};
	size_t i;
	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dfk_match m;
		dfk_error err;
		dfk_match_init(&m);
		if (dfk_match_parse_device(&m, bad[i], NULL, &err) != DFK_ERR_USAGE)
			fail_msg("\"%s\" accepted", bad[i]);
		assert_non_null(strstr(err.msg, bad[i]));
		/* a failed parse leaves the match as it was */
		assert_int_equal(m.vid, DFK_MATCH_ANY);
		assert_int_equal(m.dfu_vid, DFK_MATCH_ANY);
	}
	{
		dfk_match m;
		dfk_match_init(&m);
		assert_int_equal(dfk_match_parse_device(&m, NULL, NULL, NULL), DFK_ERR_USAGE);
	}
}

/* An ID that does not start with a number is any, as in dfu-util, with a
 * warning naming it (PlatformIO's literal "vid:pid"). */
static void test_device_lenient(void **state)
{
	static const dcase cases[] = {
	    {"vid:pid,0x0483:0xDF11", A, A, 0x0483, 0xDF11, true},
	    {"zz", A, A, A, A, false},
	    {"0483:pid", 0x0483, A, 0x0483, A, false},
	    {",VID:df11", N, N, A, 0xDF11, true},
	};
	static const char *const named[][3] = {
	    {"vendor ID \"vid\"", "product ID \"pid\"", NULL},
	    {"vendor ID \"zz\"", NULL, NULL},
	    {"product ID \"pid\"", NULL, NULL},
	    {"DFU-mode vendor ID \"VID\"", NULL, NULL},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		dfk_match m;
		dfk_error err, warn;
		const dcase *c = &cases[i];
		dfk_match_init(&m);
		if (dfk_match_parse_device(&m, c->spec, &warn, &err) != DFK_OK)
			fail_msg("\"%s\": %s", c->spec, err.msg);
		if (m.vid != c->vid || m.pid != c->pid || m.dfu_vid != c->dvid || m.dfu_pid != c->dpid ||
		    m.dfu_ids_given != c->given)
			fail_msg("\"%s\": got %d:%d,%d:%d given %d", c->spec, m.vid, m.pid, m.dfu_vid, m.dfu_pid,
				 m.dfu_ids_given);
		assert_int_equal(warn.code, DFK_OK);
		assert_non_null(strstr(warn.msg, c->spec));
		assert_non_null(strstr(warn.msg, "taken as any"));
		for (size_t j = 0; j < 3 && named[i][j]; j++)
			if (!strstr(warn.msg, named[i][j]))
				fail_msg("\"%s\": warning \"%s\" does not name %s", c->spec, warn.msg, named[i][j]);
		/* NULL: no warning wanted, the same match. */
		dfk_match_init(&m);
		assert_int_equal(dfk_match_parse_device(&m, c->spec, NULL, &err), DFK_OK);
		assert_int_equal(m.dfu_pid, c->dpid);
	}
}

static void test_serial(void **state)
{
	dfk_match m;
	char rt[16], dfu[16];
	dfk_error err;
	(void)state;
	dfk_match_init(&m);
	assert_int_equal(dfk_match_parse_serial(&m, "ABC123", rt, dfu, sizeof(rt), &err), DFK_OK);
	assert_ptr_equal(m.serial, rt);
	assert_ptr_equal(m.dfu_serial, dfu);
	assert_string_equal(rt, "ABC123");
	assert_string_equal(dfu, "ABC123"); /* one value, both modes */
	assert_int_equal(dfk_match_parse_serial(&m, "RT1,DFU2", rt, dfu, sizeof(rt), &err), DFK_OK);
	assert_string_equal(m.serial, "RT1");
	assert_string_equal(m.dfu_serial, "DFU2");
	assert_int_equal(dfk_match_parse_serial(&m, ",DFU2", rt, dfu, sizeof(rt), &err), DFK_OK);
	assert_string_equal(m.serial, ""); /* empty = any */
	assert_string_equal(m.dfu_serial, "DFU2");
	assert_int_equal(dfk_match_parse_serial(&m, "RT1,", rt, dfu, sizeof(rt), &err), DFK_OK);
	assert_string_equal(m.serial, "RT1");
	assert_string_equal(m.dfu_serial, "");
	assert_int_equal(dfk_match_parse_serial(&m, "0123456789ABCDEF", rt, dfu, sizeof(rt), &err), DFK_ERR_USAGE);
	assert_non_null(strstr(err.msg, "15"));
	assert_int_equal(dfk_match_parse_serial(&m, "0123456789ABCDE", rt, dfu, sizeof(rt), &err), DFK_OK);
	assert_string_equal(m.serial, "0123456789ABCDE");
	assert_int_equal(dfk_match_parse_serial(&m, "a,0123456789ABCDEF", rt, dfu, sizeof(rt), &err), DFK_ERR_USAGE);
	assert_int_equal(dfk_match_parse_serial(&m, NULL, rt, dfu, sizeof(rt), &err), DFK_ERR_USAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_init),	   cmocka_unit_test(test_device_ok), cmocka_unit_test(test_device_bad),
	    cmocka_unit_test(test_device_lenient), cmocka_unit_test(test_serial),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
