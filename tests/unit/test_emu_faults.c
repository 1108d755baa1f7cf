/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* --fault: parsing, each fault kind, hostile descriptors; --stats JSON. */
#include "test_emu_util.h"

static void expect_bad(const char *spec, const char *msg)
{
	emu_config cfg = {.profile = "stm32f405", .faults = {spec}, .nfaults = 1};
	char err[256] = "";
	emu_device *d = emu_device_new(&cfg, err, sizeof err);
	if (d)
		print_error("spec '%s' accepted\n", spec);
	assert_null(d);
	assert_non_null(strstr(err, "--fault"));
	if (!strstr(err, msg))
		print_error("spec '%s': message '%s' lacks '%s'\n", spec, err, msg);
	assert_non_null(strstr(err, msg));
}

static void test_parse(void **state)
{
	(void)state;
	expect_bad("", "missing @TRIGGER");
	expect_bad("stall", "missing @TRIGGER");
	expect_bad("stall@", "unknown trigger");
	expect_bad("stall@req=0", "count from 1");
	expect_bad("stall@req=abc", "bad number");
	expect_bad("stall@req=-3", "bad number");
	expect_bad("stall@blk=1", "unknown trigger");
	expect_bad("status=errFOO@req=1", "unknown DFU status");
	expect_bad("explode@req=1", "unknown fault kind");
	expect_bad("desc=bogus", "unknown descriptor fault");
	expect_bad("status=errWRITE@addr=0x100000000", "bad number");
	emu_fault f;
	char err[128];
	assert_true(emu_fault_parse("status=errverify@addr=0x08004000", &f, err, sizeof err));
	assert_int_equal(f.kind, EMU_F_STATUS);
	assert_int_equal(f.status, DFK_STATUS_ERR_VERIFY);
	assert_int_equal(f.trig, EMU_T_ADDR);
	assert_int_equal(f.n, 0x08004000);
	assert_true(emu_fault_parse("status=3@dnblock=7", &f, err, sizeof err));
	assert_int_equal(f.status, 3);
	assert_int_equal(f.trig, EMU_T_DNBLOCK);
	assert_true(emu_fault_parse("busy@upblock=2", &f, err, sizeof err));
	assert_int_equal(f.kind, EMU_F_BUSY);
	assert_true(emu_fault_parse("desc=xfer65535", &f, err, sizeof err));
	assert_int_equal(f.kind, EMU_F_DESC);
}

static void test_stall_once(void **state)
{
	(void)state;
	const char *faults[] = {"stall@req=3"};
	emu_device *d = mkdev_f("stm32h743", EMU_TIMING_FAST, NULL, faults, 1);
	uint8_t st[6];
	assert_int_equal(getstatus(d, st), EMU_URB_OK);
	assert_int_equal(getstatus(d, st), EMU_URB_OK);
	assert_int_equal(getstatus(d, st), EMU_URB_STALL);
	assert_int_equal(d->state, DFK_STATE_IDLE);
	assert_int_equal(getstatus(d, st), EMU_URB_OK);
	assert_int_equal(d->stats.stalls, 1);
	emu_device_free(d);
}

static void test_status_at_block_and_addr(void **state)
{
	(void)state;
	const char *faults[] = {"status=errWRITE@block=1", "status=errVERIFY@addr=0x08004002"};
	emu_device *d = mkdev_f("stm32h743", EMU_TIMING_FAST, NULL, faults, 2);
	uint8_t data[16], st[6];
	memset(data, 0x12, sizeof data);
	assert_int_equal(dfuse_write(d, 0x08000000, data, 16), 0);
	assert_int_equal(dfuse_write(d, 0x08000010, data, 16), DFK_STATUS_ERR_WRITE);
	assert_int_equal(d->state, DFK_STATE_ERROR);
	assert_int_equal(d->mem[0].data[0x10], 0xFF); /* not written */
	clear_error(d);
	assert_int_equal(dfuse_write(d, 0x08000010, data, 16), 0); /* fired once */
	assert_int_equal(dfuse_write(d, 0x08004000, data, 16), DFK_STATUS_ERR_VERIFY);
	assert_int_equal(getstatus(d, st), EMU_URB_OK);
	assert_int_equal(st[0], DFK_STATUS_ERR_VERIFY);
	emu_device_free(d);

	/* on an upload: the read stalls with the status */
	const char *up[] = {"status=errTARGET@upblock=1"};
	d = mkdev_f("dfu11", EMU_TIMING_FAST, NULL, up, 1);
	to_dfu_mode(d);
	uint8_t b[1024];
	uint32_t n;
	assert_int_equal(upload(d, 0, b, 1024, &n), EMU_URB_OK);
	assert_int_equal(upload(d, 1, b, 1024, &n), EMU_URB_STALL);
	assert_int_equal(d->state, DFK_STATE_ERROR);
	assert_int_equal(d->status, DFK_STATUS_ERR_TARGET);
	emu_device_free(d);

	/* at a request number: the GETSTATUS it lands on reports it */
	const char *rq[] = {"status=errCHECK_ERASED@req=2"};
	d = mkdev_f("stm32h743", EMU_TIMING_FAST, NULL, rq, 1);
	assert_int_equal(getstatus(d, st), EMU_URB_OK);
	assert_int_equal(st[0], 0);
	assert_int_equal(getstatus(d, st), EMU_URB_OK);
	assert_int_equal(st[0], DFK_STATUS_ERR_CHECK_ERASED);
	assert_int_equal(st[4], DFK_STATE_ERROR);
	emu_device_free(d);
}

static void test_busy_forever(void **state)
{
	(void)state;
	const char *faults[] = {"busy@dnblock=0"};
	emu_device *d = mkdev_f("dfu11", EMU_TIMING_FAST, NULL, faults, 1);
	to_dfu_mode(d);
	uint8_t b[16] = {0}, st[6];
	assert_int_equal(dnload(d, 0, b, 16), EMU_URB_OK);
	for (int i = 0; i < 50; i++) {
		assert_int_equal(getstatus_at(d, st, (uint64_t)i * 1000, NULL), EMU_URB_OK);
		assert_int_equal(st[4], DFK_STATE_DNBUSY);
		assert_true(poll_of(st) > 0);
	}
	assert_int_equal(dnload(d, 1, b, 16), EMU_URB_STALL);
	assert_int_equal(simple(d, DFK_REQ_ABORT), EMU_URB_STALL);
	emu_device_free(d);
}

static void test_disconnect_timeout_short(void **state)
{
	(void)state;
	const char *dc[] = {"disconnect@req=2"};
	emu_device *d = mkdev_f("stm32f405", EMU_TIMING_FAST, NULL, dc, 1);
	uint8_t st[6];
	assert_int_equal(getstatus(d, st), EMU_URB_OK);
	assert_int_equal(getstatus(d, st), EMU_URB_NODEV);
	assert_int_equal(emu_device_take_event(d), EMU_EVENT_DISCONNECT);
	emu_usb_identity id;
	emu_device_identity(d, &id);
	assert_false(id.present);
	assert_int_equal(getstatus(d, st), EMU_URB_NODEV);
	emu_device_bus_reset(d);
	assert_int_equal(getstatus(d, st), EMU_URB_NODEV);
	emu_device_free(d);

	const char *to[] = {"timeout@req=2"};
	d = mkdev_f("stm32f405", EMU_TIMING_FAST, NULL, to, 1);
	assert_int_equal(getstatus(d, st), EMU_URB_OK);
	assert_int_equal(getstatus(d, st), EMU_URB_TIMEOUT);
	assert_int_equal(getstatus(d, st), EMU_URB_TIMEOUT);
	emu_device_free(d);

	const char *sh[] = {"short@req=2"};
	d = mkdev_f("stm32f405", EMU_TIMING_FAST, NULL, sh, 1);
	uint8_t b[18];
	uint32_t n;
	assert_int_equal(ctl(d, 0x80, 6, 0x0100, 0, b, 18, &n, 0), EMU_URB_OK);
	assert_int_equal(n, 18);
	assert_int_equal(ctl(d, 0x80, 6, 0x0100, 0, b, 18, &n, 0), EMU_URB_OK);
	assert_int_equal(n, 9);
	assert_int_equal(ctl(d, 0xA1, DFK_REQ_GETSTATUS, 0, 0, b, 6, &n, 0), EMU_URB_OK);
	assert_int_equal(n, 6);
	emu_device_free(d);
}

static emu_device *desc_dev(const char *spec)
{
	const char *f[] = {spec};
	return mkdev_f("stm32f405", EMU_TIMING_FAST, NULL, f, 1);
}

static uint32_t get(emu_device *d, uint16_t wvalue, uint8_t *b, uint16_t len)
{
	uint32_t n = 0;
	assert_int_equal(ctl(d, 0x80, 6, wvalue, 0x0409, b, len, &n, 0), EMU_URB_OK);
	return n;
}

static void test_hostile_descriptors(void **state)
{
	(void)state;
	uint8_t b[512];
	uint32_t n;
	emu_device *d = desc_dev("desc=xfer0");
	n = get(d, 0x2100, b, 9);
	assert_int_equal(emu_le16(b + 5), 0);
	clear_error(d);
	uint8_t c = 0x41;
	assert_int_equal(dnload(d, 0, &c, 1), EMU_URB_STALL);
	emu_device_free(d);

	d = desc_dev("desc=xfer65535");
	n = get(d, 0x2100, b, 9);
	assert_int_equal(emu_le16(b + 5), 65535);
	emu_device_free(d);

	emu_seg segs[EMU_MAX_SEGS];
	size_t ns;
	uint64_t total;
	char s[256];
	d = desc_dev("desc=memmap-garbage");
	n = get(d, 0x0304, b, 255);
	size_t k = 0;
	for (uint32_t i = 2; i < n; i += 2)
		s[k++] = (char)b[i];
	s[k] = 0;
	assert_int_equal(s[0], '@');
	assert_false(emu_memmap_parse(s, segs, EMU_MAX_SEGS, &ns, &total));
	emu_device_free(d);
	d = desc_dev("desc=memmap-overflow");
	n = get(d, 0x0304, b, 255);
	for (k = 0; 2 + 2 * k < n; k++)
		s[k] = (char)b[2 + 2 * k];
	s[k] = 0;
	assert_false(emu_memmap_parse(s, segs, EMU_MAX_SEGS, &ns, &total));
	emu_device_free(d);
	d = desc_dev("desc=memmap-empty");
	assert_int_equal(get(d, 0x0304, b, 255), 2);
	emu_device_free(d);

	d = desc_dev("desc=str-long");
	n = get(d, 0x0302, b, 255);
	assert_int_equal(n, 254);
	assert_int_equal(b[0], 254);
	emu_device_free(d);
	d = desc_dev("desc=str-badlen");
	n = get(d, 0x0302, b, 255);
	assert_int_equal(b[0], 255);
	assert_true(n < 255);
	emu_device_free(d);
	d = desc_dev("desc=str-odd");
	n = get(d, 0x0303, b, 255);
	assert_int_equal(b[0], n);
	assert_int_equal(n % 2, 1);
	emu_device_free(d);

	d = desc_dev("desc=func-badlen");
	n = get(d, 0x0200, b, 512);
	assert_int_equal(b[9 + 4 * 9], 0xFF);
	emu_device_free(d);
	d = desc_dev("desc=func-missing");
	n = get(d, 0x0200, b, 512);
	assert_int_equal(n, 9 + 4 * 9);
	assert_int_equal(emu_le16(b + 2), n);
	assert_int_equal(ctl(d, 0x80, 6, 0x2100, 0, b, 9, &n, 0), EMU_URB_STALL);
	emu_device_free(d);
	d = desc_dev("desc=total-long");
	n = get(d, 0x0200, b, 512);
	assert_int_equal(n, 54);
	assert_int_equal(emu_le16(b + 2), 154);
	emu_device_free(d);
	d = desc_dev("desc=total-short");
	n = get(d, 0x0200, b, 512);
	assert_int_equal(n, 14);
	assert_int_equal(emu_le16(b + 2), 14);
	emu_device_free(d);
	d = desc_dev("desc=blen0");
	n = get(d, 0x0200, b, 512);
	assert_int_equal(b[9], 0);
	emu_device_free(d);
	d = desc_dev("desc=dev-badlen");
	n = get(d, 0x0100, b, 18);
	assert_int_equal(n, 18);
	assert_int_equal(b[0], 8);
	emu_device_free(d);
}

static void test_stats_json(void **state)
{
	(void)state;
	emu_device *d = mkdev("stm32f405", EMU_TIMING_REAL);
	uint8_t b[64], st[6];
	uint32_t n;
	assert_int_equal(ctl(d, 0x80, 6, 0x0100, 0, b, 18, &n, 0), EMU_URB_OK);
	assert_int_equal(ctl(d, 0x00, 9, 1, 0, NULL, 0, NULL, 0), EMU_URB_OK);
	clear_error(d);
	uint8_t e[5] = {0x41, 0, 0, 0, 0x08};
	assert_int_equal(dnload_at(d, 0, e, 5, 0), EMU_URB_OK);
	assert_int_equal(getstatus_at(d, st, 0, NULL), EMU_URB_OK);
	assert_int_equal(getstatus_at(d, st, 10000, NULL), EMU_URB_OK);
	assert_int_equal(simple(d, DFK_REQ_ABORT), EMU_URB_OK);
	assert_int_equal(upload(d, 2, b, 64, &n), EMU_URB_OK);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	emu_device_write_stats(d, f);
	fclose(f);
	assert_non_null(strstr(buf, "\"control_transfers\":8,"));
	assert_non_null(strstr(buf, "\"requests\":{\"GET_STATUS\":0,"));
	assert_non_null(strstr(buf, "\"GETSTATUS\":2,"));
	assert_non_null(strstr(buf, "\"DNLOAD\":1,"));
	assert_non_null(strstr(buf, "\"bytes_down\":5,"));
	assert_non_null(strstr(buf, "\"bytes_up\":64,"));
	assert_non_null(strstr(buf, "\"erased_pages\":1"));
	assert_non_null(strstr(buf, "\"busy_ms\":251,"));
	/* each request count once, inside "requests" only */
	const char *first = strstr(buf, "\"UPLOAD\":1");
	assert_non_null(first);
	assert_null(strstr(first + 1, "\"UPLOAD\""));
	assert_true(first < strstr(buf, "}"));
	assert_non_null(strstr(buf, "\"SET_CONFIGURATION\":1"));
	assert_non_null(strstr(buf, "\"CLRSTATUS\":1"));
	assert_non_null(strstr(buf, "\"ABORT\":1"));
	free(buf);
	emu_device_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_stall_once),
	    cmocka_unit_test(test_status_at_block_and_addr),
	    cmocka_unit_test(test_busy_forever),
	    cmocka_unit_test(test_disconnect_timeout_short),
	    cmocka_unit_test(test_hostile_descriptors),
	    cmocka_unit_test(test_stats_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
