/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* The dfu-util compatible option parser: exact values it stores. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* cmocka.h needs the headers above first. */
#include <cmocka.h>

#include "tool.h"

static int parse(tool_flash_opts *o, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;
	va_start(ap, o);
	argv[argc++] = "dfukit";
	for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 31;)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	return tool_flash_parse(argc, argv, o);
}

static void test_numbers(void **state)
{
	(void)state;
	uint64_t v = 0;
	assert_true(tool_parse_u64("0x08000000", UINT32_MAX, &v));
	assert_int_equal(v, 0x08000000u);
	assert_true(tool_parse_u64("134217728", UINT32_MAX, &v));
	assert_int_equal(v, 134217728u);
	assert_true(tool_parse_u64("010", 255, &v)); /* strtoul base 0, as dfu-util */
	assert_int_equal(v, 8);
	assert_true(tool_parse_u64("0xFFFFFFFF", UINT32_MAX, &v));
	assert_false(tool_parse_u64("0x100000000", UINT32_MAX, &v));
	assert_false(tool_parse_u64("-1", UINT32_MAX, &v));
	assert_false(tool_parse_u64("+1", UINT32_MAX, &v));
	assert_false(tool_parse_u64("", UINT32_MAX, &v));
	assert_false(tool_parse_u64("12k", UINT32_MAX, &v));
	assert_false(tool_parse_u64("99999999999999999999999", UINT64_MAX, &v));
	assert_false(tool_parse_u64(NULL, 1, &v));
}

static void test_dfuse_spec(void **state)
{
	(void)state;
	dfk_job_opts j;
	dfk_error err;
	dfk_job_opts_init(&j);
	assert_int_equal(tool_dfuse_spec_parse("0x08004000:leave", &j, &err), DFK_OK);
	assert_true(j.has_address);
	assert_int_equal(j.address, 0x08004000u);
	assert_true(j.leave);
	assert_false(j.force || j.mass_erase || j.unprotect || j.will_reset || j.has_length);

	dfk_job_opts_init(&j);
	assert_int_equal(tool_dfuse_spec_parse("0x08000000:1024", &j, &err), DFK_OK);
	assert_true(j.has_length);
	assert_int_equal(j.length, 1024);
	assert_false(j.leave);

	dfk_job_opts_init(&j);
	assert_int_equal(tool_dfuse_spec_parse(":force:mass-erase:will-reset:unprotect", &j, &err), DFK_OK);
	assert_false(j.has_address);
	assert_true(j.force && j.mass_erase && j.will_reset && j.unprotect);

	/* Prefixes of modifiers are not modifiers (dfu-util 0.11 bug). */
	const char *bad[] = {"0x0:l", "0x0:lea",     "0x0:leavee", ":f",    "0x0:",	  "0x0::leave",
			     "zz",    ":mass-erase", ":unprotect", "0x0:0", "0x100000000"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dfk_job_opts_init(&j);
		assert_int_equal(tool_dfuse_spec_parse(bad[i], &j, &err), DFK_ERR_USAGE);
		assert_true(err.msg[0] != '\0');
	}
}

static void test_options(void **state)
{
	(void)state;
	tool_flash_opts o;
	unsetenv("DFUKIT_USBIP");
	assert_int_equal(parse(&o, "-a", "0", "-s", "0x08000000:1024", "-U", "out.bin", NULL), -1);
	assert_int_equal(o.match.alt, 0);
	assert_null(o.match.alt_name);
	assert_string_equal(o.upload, "out.bin");
	assert_true(o.dfuse && o.job.has_address && o.job.has_length);
	assert_int_equal(o.job.length, 1024);
	assert_int_equal(o.nusbip, 0);

	/* -a by name; -n, -c 0 (any), -i, -t; --wait takes no argument. */
	assert_int_equal(parse(&o, "-a", "@Internal Flash  /0x08000000/04*016Kg", "-n", "7", "-c", "0", "-i", "1", "-t",
			       "1024", "--wait", "-l", NULL),
			 -1);
	assert_string_equal(o.match.alt_name, "@Internal Flash  /0x08000000/04*016Kg");
	assert_int_equal(o.match.alt, DFK_MATCH_ANY);
	assert_int_equal(o.match.devnum, 7);
	assert_int_equal(o.match.cfg, DFK_MATCH_ANY);
	assert_int_equal(o.match.intf, 1);
	assert_int_equal(o.transfer_size, 1024);
	assert_true(o.wait && o.list);

	/* -d and -S pairs. */
	assert_int_equal(parse(&o, "-d", "1209:df10,1209:df11", "-S", "RT,DFU", "-l", NULL), -1);
	assert_int_equal(o.match.vid, 0x1209);
	assert_int_equal(o.match.pid, 0xdf10);
	assert_int_equal(o.match.dfu_pid, 0xdf11);
	assert_true(o.match.dfu_ids_given);
	assert_string_equal(o.match.serial, "RT");
	assert_string_equal(o.match.dfu_serial, "DFU");

	/* dfukit's own options and the environment. */
	setenv("DFUKIT_USBIP", "unix:/tmp/x", 1);
	assert_int_equal(parse(&o, "-D", "fw.bin", "-s", "0x08000000", "--no-verify", "--json", "--poll-cap", "250",
			       "--timeout", "3000", "--usb-timeout", "700", "--skip-unchanged", NULL),
			 -1);
	assert_int_equal(o.nusbip, 1);
	assert_string_equal(o.usbip[0], "unix:/tmp/x");
	assert_int_equal(o.verify, 0);
	assert_true(o.json && o.skip_unchanged);
	assert_int_equal(o.poll_cap_ms, 250);
	assert_int_equal(o.timeout_ms, 3000);
	assert_int_equal(o.usb_timeout_ms, 700);
	assert_int_equal(parse(&o, "-l", "--usbip", "host:3241", NULL), -1);
	assert_int_equal(o.nusbip, 1);
	assert_string_equal(o.usbip[0], "host:3241");
	unsetenv("DFUKIT_USBIP");

	/* Defaults. */
	assert_int_equal(parse(&o, "-D", "fw.bin", NULL), -1);
	assert_int_equal(o.verify, -1);
	assert_int_equal(o.detach_delay_s, -1);
	assert_int_equal(o.transfer_size, 0);
	assert_true(o.job.verify);

	/* Usage errors. */
	assert_int_equal(parse(&o, NULL), 64);
	assert_int_equal(parse(&o, "-U", "a", "-D", "b", NULL), 64);
	assert_int_equal(parse(&o, "-t", "0", "-l", NULL), 64);
	assert_int_equal(parse(&o, "-t", "65536", "-l", NULL), 64);
	assert_int_equal(parse(&o, "-n", "256", "-l", NULL), 64);
	assert_int_equal(parse(&o, "-l", "extra", NULL), 64);
	assert_int_equal(parse(&o, "--all", "-U", "x", NULL), 64);
	assert_int_equal(parse(&o, "-s", "0x08000000", NULL), 64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_numbers),
	    cmocka_unit_test(test_dfuse_spec),
	    cmocka_unit_test(test_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
