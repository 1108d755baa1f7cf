/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* The emulated USB device: descriptors of each profile, standard requests,
 * identity, profile list. */
#include "test_emu_util.h"

static int get_desc(emu_device *d, uint8_t type, uint8_t idx, uint8_t *buf, uint16_t len, uint32_t *actual)
{
	return ctl(d, 0x80, 6, (uint16_t)(type << 8 | idx), type == 3 ? 0x0409 : 0, buf, len, actual, 0);
}

/* String descriptor idx as ASCII (the tests only use ASCII strings). */
static void get_str(emu_device *d, uint8_t idx, char *out, size_t outsz)
{
	uint8_t buf[255];
	uint32_t n;
	assert_int_equal(get_desc(d, 3, idx, buf, sizeof buf, &n), EMU_URB_OK);
	assert_true(n >= 2);
	assert_int_equal(buf[0], n);
	assert_int_equal(buf[1], 3);
	assert_int_equal(n % 2, 0);
	size_t k = 0;
	for (uint32_t i = 2; i + 1 < n && k + 1 < outsz; i += 2) {
		assert_int_equal(buf[i + 1], 0);
		out[k++] = (char)buf[i];
	}
	out[k] = '\0';
}

static void check_config(emu_device *d, size_t nalts, uint8_t proto, uint8_t attrs, uint16_t xfer, uint16_t bcd_dfu)
{
	uint8_t buf[512];
	uint32_t n;
	assert_int_equal(get_desc(d, 2, 0, buf, 9, &n), EMU_URB_OK);
	assert_int_equal(n, 9);
	uint16_t total = emu_le16(buf + 2);
	assert_int_equal(total, 9 + 9 * nalts + 9);
	assert_int_equal(buf[4], 1); /* one interface */
	assert_int_equal(buf[5], 1); /* bConfigurationValue */
	assert_int_equal(get_desc(d, 2, 0, buf, sizeof buf, &n), EMU_URB_OK);
	assert_int_equal(n, total);
	for (size_t a = 0; a < nalts; a++) {
		const uint8_t *i = buf + 9 + 9 * a;
		assert_int_equal(i[0], 9);
		assert_int_equal(i[1], 4);
		assert_int_equal(i[2], 0);
		assert_int_equal(i[3], a);
		assert_int_equal(i[4], 0);
		assert_int_equal(i[5], 0xFE);
		assert_int_equal(i[6], 0x01);
		assert_int_equal(i[7], proto);
		assert_int_equal(i[8], 4 + a);
	}
	const uint8_t *f = buf + 9 + 9 * nalts;
	assert_int_equal(f[0], 9);
	assert_int_equal(f[1], 0x21);
	assert_int_equal(f[2], attrs);
	assert_int_equal(emu_le16(f + 5), xfer);
	assert_int_equal(emu_le16(f + 7), bcd_dfu);
	/* Also answered on its own (ST ROMs do). */
	uint8_t fd[9];
	assert_int_equal(get_desc(d, 0x21, 0, fd, 9, &n), EMU_URB_OK);
	assert_int_equal(n, 9);
	assert_memory_equal(fd, f, 9);
}

static void check_device(emu_device *d, uint16_t vid, uint16_t pid, uint16_t bcd)
{
	uint8_t buf[64];
	uint32_t n;
	assert_int_equal(get_desc(d, 1, 0, buf, 64, &n), EMU_URB_OK);
	assert_int_equal(n, 18);
	assert_int_equal(buf[0], 18);
	assert_int_equal(buf[1], 1);
	assert_int_equal(emu_le16(buf + 2), 0x0200);
	assert_int_equal(buf[4], 0);
	assert_int_equal(buf[7], 64);
	assert_int_equal(emu_le16(buf + 8), vid);
	assert_int_equal(emu_le16(buf + 10), pid);
	assert_int_equal(emu_le16(buf + 12), bcd);
	assert_int_equal(buf[17], 1);
	/* wLength truncation, as during enumeration (8 then 18). */
	assert_int_equal(get_desc(d, 1, 0, buf, 8, &n), EMU_URB_OK);
	assert_int_equal(n, 8);
	assert_int_equal(buf[0], 18);
	emu_usb_identity id;
	emu_device_identity(d, &id);
	assert_int_equal(id.idVendor, vid);
	assert_int_equal(id.idProduct, pid);
	assert_int_equal(id.bcdDevice, bcd);
	assert_true(id.present);
	assert_int_equal(id.bNumInterfaces, 1);
	assert_int_equal(id.intf_class[0], 0xFE);
}

static void test_f405_descriptors(void **state)
{
	(void)state;
	emu_device *d = mkdev("stm32f405", EMU_TIMING_FAST);
	check_device(d, 0x0483, 0xdf11, 0x2200);
	check_config(d, 4, 2, 0x0B, 2048, 0x011A);
	char s[256];
	get_str(d, 1, s, sizeof s);
	assert_string_equal(s, "STMicroelectronics");
	get_str(d, 2, s, sizeof s);
	assert_string_equal(s, "STM32  BOOTLOADER");
	get_str(d, 3, s, sizeof s);
	assert_string_equal(s, "3276346C3034");
	get_str(d, 4, s, sizeof s);
	assert_string_equal(s, "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg");
	get_str(d, 5, s, sizeof s);
	assert_string_equal(s, "@Option Bytes  /0x1FFFC000/01*016 e");
	get_str(d, 6, s, sizeof s);
	assert_string_equal(s, "@OTP Memory /0x1FFF7800/01*512 e,01*016 e");
	get_str(d, 7, s, sizeof s);
	assert_string_equal(s, "@Device Feature/0xFFFF0000/01*004 e");
	uint8_t buf[8];
	uint32_t n;
	assert_int_equal(get_desc(d, 3, 8, buf, 8, &n), EMU_URB_STALL);
	/* LANGID table */
	assert_int_equal(get_desc(d, 3, 0, buf, 8, &n), EMU_URB_OK);
	assert_int_equal(n, 4);
	assert_int_equal(buf[0], 4);
	assert_int_equal(emu_le16(buf + 2), 0x0409);
	/* string truncated to wLength */
	assert_int_equal(get_desc(d, 3, 1, buf, 2, &n), EMU_URB_OK);
	assert_int_equal(n, 2);
	assert_int_equal(buf[0], 2 + 2 * strlen("STMicroelectronics"));
	/* memory sizes from the map */
	assert_int_equal(d->mem[0].size, 1024 * 1024);
	assert_int_equal(d->mem[1].size, 16);
	assert_int_equal(d->mem[2].size, 528);
	assert_int_equal(d->mem[3].size, 4);
	emu_device_free(d);
}

static void test_other_profiles(void **state)
{
	(void)state;
	char s[256];
	emu_device *d = mkdev("stm32l476", EMU_TIMING_FAST);
	check_device(d, 0x0483, 0xdf11, 0x2200);
	check_config(d, 4, 2, 0x0B, 2048, 0x011A);
	get_str(d, 4, s, sizeof s);
	assert_string_equal(s, "@Internal Flash  /0x08000000/512*0002Kg");
	assert_int_equal(d->mem[0].segs[0].page, 2048);
	assert_int_equal(d->mem[1].nsegs, 2);
	assert_int_equal(d->mem[1].size, 80);
	emu_device_free(d);

	d = mkdev("stm32h743", EMU_TIMING_FAST);
	check_device(d, 0x0483, 0xdf11, 0x0200);
	check_config(d, 2, 2, 0x0B, 1024, 0x011A);
	get_str(d, 4, s, sizeof s);
	assert_string_equal(s, "@Internal Flash   /0x08000000/16*128Kg");
	assert_int_equal(d->mem[0].segs[0].page, 128 * 1024);
	assert_int_equal(d->mem[0].size, 2 * 1024 * 1024);
	emu_device_free(d);

	d = mkdev("stm32f103-flash-loader", EMU_TIMING_FAST);
	check_device(d, 0x0483, 0xdf11, 0x0200);
	check_config(d, 1, 2, 0x0B, 1024, 0x011A);
	get_str(d, 4, s, sizeof s);
	assert_string_equal(s, "@Internal Flash   /0x08000000/12*001Ka,116*001Kg");
	assert_int_equal(d->mem[0].segs[0].rights, EMU_R);
	assert_int_equal(d->mem[0].segs[1].rights, EMU_R | EMU_E | EMU_W);
	emu_device_free(d);

	/* dfu11: runtime first, DFU mode after detach + reset. */
	d = mkdev("dfu11", EMU_TIMING_FAST);
	check_device(d, 0x1209, 0xdf10, 0x0100);
	check_config(d, 1, 1, 0x07, 1024, 0x0110);
	get_str(d, 4, s, sizeof s);
	assert_string_equal(s, "DFU runtime");
	to_dfu_mode(d);
	check_device(d, 0x1209, 0xdf11, 0x0100);
	check_config(d, 2, 2, 0x07, 1024, 0x0110);
	get_str(d, 4, s, sizeof s);
	assert_string_equal(s, "Flash");
	get_str(d, 5, s, sizeof s);
	assert_string_equal(s, "EEPROM");
	emu_device_free(d);

	d = mkdev("dfu11-will-detach", EMU_TIMING_FAST);
	check_config(d, 1, 1, 0x0F, 1024, 0x0110);
	emu_device_free(d);
	d = mkdev("dfu11-wait-reset", EMU_TIMING_FAST);
	check_config(d, 1, 1, 0x03, 1024, 0x0110);
	emu_device_free(d);
}

static void test_standard_requests(void **state)
{
	(void)state;
	emu_device *d = mkdev("stm32f405", EMU_TIMING_FAST);
	uint8_t b[64];
	uint32_t n;
	/* unsupported descriptors and requests stall */
	assert_int_equal(get_desc(d, 6, 0, b, 10, &n), EMU_URB_STALL);		     /* device qualifier */
	assert_int_equal(get_desc(d, 7, 0, b, 9, &n), EMU_URB_STALL);		     /* other speed */
	assert_int_equal(get_desc(d, 0x0F, 0, b, 5, &n), EMU_URB_STALL);	     /* BOS */
	assert_int_equal(get_desc(d, 2, 1, b, 9, &n), EMU_URB_STALL);		     /* no 2nd config */
	assert_int_equal(ctl(d, 0x00, 3, 1, 0, NULL, 0, NULL, 0), EMU_URB_STALL);    /* SET_FEATURE remote wakeup */
	assert_int_equal(ctl(d, 0x00, 7, 0x0100, 0, b, 18, NULL, 0), EMU_URB_STALL); /* SET_DESCRIPTOR */
	assert_int_equal(ctl(d, 0x40, 1, 0, 0, NULL, 0, NULL, 0), EMU_URB_STALL);    /* vendor */
	assert_int_equal(ctl(d, 0x21, 3, 0, 1, b, 6, NULL, 0), EMU_URB_STALL);	     /* class, wrong interface */
	/* configuration */
	assert_int_equal(ctl(d, 0x80, 8, 0, 0, b, 1, &n, 0), EMU_URB_OK);
	assert_int_equal(n, 1);
	assert_int_equal(b[0], 0);
	assert_int_equal(ctl(d, 0x00, 9, 1, 0, NULL, 0, NULL, 0), EMU_URB_OK);
	assert_int_equal(ctl(d, 0x80, 8, 0, 0, b, 1, &n, 0), EMU_URB_OK);
	assert_int_equal(b[0], 1);
	assert_int_equal(ctl(d, 0x00, 9, 2, 0, NULL, 0, NULL, 0), EMU_URB_STALL);
	/* interface alt settings */
	assert_int_equal(ctl(d, 0x01, 11, 3, 0, NULL, 0, NULL, 0), EMU_URB_OK);
	assert_int_equal(ctl(d, 0x81, 10, 0, 0, b, 1, &n, 0), EMU_URB_OK);
	assert_int_equal(n, 1);
	assert_int_equal(b[0], 3);
	assert_int_equal(ctl(d, 0x01, 11, 4, 0, NULL, 0, NULL, 0), EMU_URB_STALL);
	assert_int_equal(ctl(d, 0x01, 11, 0, 1, NULL, 0, NULL, 0), EMU_URB_STALL);
	assert_int_equal(d->alt, 3);
	/* GET_STATUS device / interface / endpoint */
	assert_int_equal(ctl(d, 0x80, 0, 0, 0, b, 2, &n, 0), EMU_URB_OK);
	assert_int_equal(n, 2);
	assert_int_equal(b[0], 1); /* self-powered */
	assert_int_equal(ctl(d, 0x81, 0, 0, 0, b, 2, &n, 0), EMU_URB_OK);
	assert_int_equal(n, 2);
	assert_int_equal(b[0], 0);
	assert_int_equal(ctl(d, 0x82, 0, 0, 0x80, b, 2, &n, 0), EMU_URB_OK);
	assert_int_equal(ctl(d, 0x81, 0, 0, 5, b, 2, &n, 0), EMU_URB_STALL);
	assert_int_equal(ctl(d, 0x00, 5, 7, 0, NULL, 0, NULL, 0), EMU_URB_OK); /* SET_ADDRESS */
	/* a bus reset unconfigures */
	emu_device_bus_reset(d);
	assert_int_equal(d->config, 0);
	assert_int_equal(d->alt, 0);
	assert_int_equal(emu_device_take_event(d), EMU_EVENT_NONE);
	assert_true(d->stats.control_transfers >= 20);
	assert_int_equal(d->stats.req[EMU_RQ_SET_INTERFACE], 3);
	emu_device_free(d);
}

static void test_profiles_print_and_errors(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	emu_profiles_print(f);
	emu_faults_help(f);
	emu_memory_help(f);
	fclose(f);
	const char *names[] = {
	    "dfu11",	 "dfu11-dnload-only",	   "stm32f405-protected", "dfu11-will-detach", "dfu11-wait-reset",
	    "stm32f405", "stm32f103-flash-loader", "stm32l476",		  "stm32h743"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		assert_non_null(strstr(buf, names[i]));
		emu_device *d = mkdev(names[i], EMU_TIMING_REAL);
		emu_device_free(d);
	}
	assert_non_null(strstr(buf, "desc=NAME"));
	free(buf);

	emu_config cfg = {.profile = "nope"};
	char err[200];
	assert_null(emu_device_new(&cfg, err, sizeof err));
	assert_non_null(strstr(err, "unknown profile 'nope'"));
	cfg.profile = "dfu11";
	cfg.serial = "0123456789012345678901234567890123456789012345678901234567890123456789";
	assert_null(emu_device_new(&cfg, err, sizeof err));
	assert_non_null(strstr(err, "serial"));
	cfg.serial = "MYSERIAL";
	emu_device *d = emu_device_new(&cfg, err, sizeof err);
	assert_non_null(d);
	char s[64];
	get_str(d, 3, s, sizeof s);
	assert_string_equal(s, "MYSERIAL");
	emu_device_free(d);
	emu_device_free(NULL);
}

/* Several devices in one process do not share state. */
static void test_two_devices(void **state)
{
	(void)state;
	emu_device *a = mkdev("stm32f405", EMU_TIMING_FAST), *b = mkdev("stm32f405", EMU_TIMING_FAST);
	clear_error(a);
	uint8_t data[4] = {0x00, 0x10, 0x00, 0x20};
	assert_int_equal(dfuse_write(a, 0x08000000, data, 4), 0);
	assert_memory_equal(a->mem[0].data, data, 4);
	assert_int_equal(b->mem[0].data[0], 0xFF);
	assert_int_equal(b->state, DFK_STATE_ERROR);
	emu_device_free(a);
	emu_device_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_f405_descriptors),  cmocka_unit_test(test_other_profiles),
	    cmocka_unit_test(test_standard_requests), cmocka_unit_test(test_profiles_print_and_errors),
	    cmocka_unit_test(test_two_devices),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
