/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* --memory FILE persistence and layout; the memory-map string parser. */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_emu_util.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/test_emu_memory.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void read_at(const char *path, long off, uint8_t *buf, size_t len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, off, SEEK_SET), 0);
	assert_int_equal(fread(buf, 1, len, f), len);
	fclose(f);
}

static void test_persistence(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof path, "%s/f405.bin", dir);
	emu_device *d = mkdev_f("stm32f405", EMU_TIMING_FAST, path, NULL, 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 1024 * 1024 + 16 + 528 + 4);
	clear_error(d);
	uint8_t data[64];
	for (int i = 0; i < 64; i++)
		data[i] = (uint8_t)i;
	assert_int_equal(dfuse_write(d, 0x08010000, data, 64), 0);
	/* OTP (alt 2) */
	assert_int_equal(ctl(d, 0x01, 11, 2, 0, NULL, 0, NULL, 0), EMU_URB_OK);
	assert_int_equal(simple(d, DFK_REQ_ABORT), EMU_URB_OK);
	assert_int_equal(dfuse_write(d, 0x1FFF7800, data, 4), 0);
	emu_device_free(d);

	uint8_t buf[64];
	read_at(path, 0x10000, buf, 64);
	assert_memory_equal(buf, data, 64);
	read_at(path, 0, buf, 4);
	assert_int_equal(buf[0], 0xFF);
	read_at(path, 1024 * 1024, buf, 2); /* option bytes follow the flash */
	assert_int_equal(buf[1], 0xAA);
	read_at(path, 1024 * 1024 + 16, buf, 4); /* then OTP */
	assert_memory_equal(buf, data, 4);

	/* a new device on the same file sees the same memory */
	d = mkdev_f("stm32f405", EMU_TIMING_FAST, path, NULL, 0);
	assert_memory_equal(d->mem[0].data + 0x10000, data, 64);
	assert_memory_equal(d->mem[2].data, data, 4);
	clear_error(d);
	uint32_t n;
	assert_int_equal(dfuse_read(d, 0x08010000, buf, 64, &n), EMU_URB_OK);
	assert_int_equal(n, 64);
	assert_memory_equal(buf, data, 64);
	emu_device_free(d);

	/* a file of another size is refused, not overwritten */
	emu_config cfg = {.profile = "dfu11", .memory_path = path};
	char err[256];
	assert_null(emu_device_new(&cfg, err, sizeof err));
	assert_non_null(strstr(err, "needs"));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 1024 * 1024 + 16 + 528 + 4);
	/* unwritable place */
	cfg.memory_path = "/nonexistent-dir/x.bin";
	assert_null(emu_device_new(&cfg, err, sizeof err));
	assert_non_null(strstr(err, "/nonexistent-dir/x.bin"));
}

static void test_dfu11_layout(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof path, "%s/dfu11.bin", dir);
	emu_device *d = mkdev_f("dfu11", EMU_TIMING_FAST, path, NULL, 0);
	to_dfu_mode(d);
	uint8_t st[6], b[8] = {9, 8, 7, 6, 5, 4, 3, 2};
	assert_int_equal(ctl(d, 0x01, 11, 1, 0, NULL, 0, NULL, 0), EMU_URB_OK);
	assert_int_equal(dnload(d, 0, b, 8), EMU_URB_OK);
	assert_int_equal(getstatus(d, st), EMU_URB_OK);
	assert_int_equal(st[0], 0);
	emu_device_free(d);
	uint8_t buf[8];
	read_at(path, 512 * 1024, buf, 8); /* after the 512 KiB flash */
	assert_memory_equal(buf, b, 8);
}

static void test_memmap_parse(void **state)
{
	(void)state;
	emu_seg s[EMU_MAX_SEGS];
	size_t n;
	uint64_t total;
	assert_true(
	    emu_memmap_parse("@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg", s, EMU_MAX_SEGS, &n, &total));
	assert_int_equal(n, 3);
	assert_int_equal(total, 1024 * 1024);
	assert_int_equal(s[1].start, 0x08010000);
	assert_int_equal(s[2].start, 0x08020000);
	assert_int_equal(s[2].page, 128 * 1024);
	assert_int_equal(s[2].rights, EMU_R | EMU_E | EMU_W);
	assert_true(
	    emu_memmap_parse("@Option Bytes  /0x1FFF7800/01*040 e/0x1FFFF800/01*040 e", s, EMU_MAX_SEGS, &n, &total));
	assert_int_equal(n, 2);
	assert_int_equal(s[1].start, 0x1FFFF800);
	assert_int_equal(s[1].off, 40);
	assert_int_equal(s[0].rights, EMU_R | EMU_W);
	assert_true(emu_memmap_parse("@OTP Memory /0x1FFF7000/01*0001Ke", s, EMU_MAX_SEGS, &n, &total));
	assert_int_equal(total, 1024);
	assert_true(emu_memmap_parse("@X/0x08000000/1536*128g", s, EMU_MAX_SEGS, &n, &total));
	assert_int_equal(s[0].page, 128);
	assert_true(emu_memmap_parse("@Flash/0x0/1*1Mg", s, EMU_MAX_SEGS, &n, &total));
	assert_int_equal(total, 1024 * 1024);
	const char *bad[] = {
	    "",
	    "Internal Flash/0x08000000/04*016Kg",
	    "@Internal Flash",
	    "@F/08000000/04*016Kg",
	    "@F/0x/04*016Kg",
	    "@F/0x108000000/04*016Kg",
	    "@F/0x08000000/04*016K",
	    "@F/0x08000000/04*016Kh",
	    "@F/0x08000000/00*016Kg",
	    "@F/0x08000000/04016Kg",
	    "@F/0x08000000/04*016Kg,",
	    "@F/0x08000000/04*016Kgx",
	    "@F/0xFFFFF000/9999*999Mg",
	    "@F/0x08000000/99999999999*1g",
	    "@F/0x0/1*1g,1*1g,1*1g,1*1g,1*1g,1*1g,1*1g,1*1g,1*1g,1*1g,1*1g,1*1g,1*1g,1*1g,1*1g,1*1g,1*1g"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (emu_memmap_parse(bad[i], s, EMU_MAX_SEGS, &n, &total))
			print_error("accepted: %s\n", bad[i]);
		assert_false(emu_memmap_parse(bad[i], s, EMU_MAX_SEGS, &n, &total));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_persistence),
	    cmocka_unit_test(test_dfu11_layout),
	    cmocka_unit_test(test_memmap_parse),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
